// SPDX-License-Identifier: Apache-2.0

package hec_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// readErrorFile parses the error file, failing on any line that is not JSON.
func readErrorFile(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("error file line is not JSON: %v: %s", err, sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

// One bad event, named by HEC or not, costs only itself: the rest of its
// request arrives once, the bad one lands in the error file with HEC's
// reason and is counted.
func TestRejectedEventsAreIsolated(t *testing.T) {
	for _, unnamed := range []bool{false, true} {
		t.Run(map[bool]string{false: "named", true: "unnamed"}[unnamed], func(t *testing.T) {
			r := receiver(t, hecreceiver.Config{})
			r.SetFaults(hecreceiver.Faults{RejectMatch: "7", RejectUnnamed: unnamed})
			errFile := filepath.Join(t.TempDir(), "rejects.json")
			s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 50; c.ErrorFile = errFile })
			msgs := messages(100)
			if err := deliver(s, msgs, nil); err != nil {
				t.Fatal(err)
			}
			isBad := func(i int) bool { return strings.Contains(string(msgs[i].Body), "7") }
			bad := 0
			checkArrivals(t, r.Events(), msgs, func(i int) int {
				if isBad(i) {
					bad++
					return 0
				}
				return 1
			})
			lines := readErrorFile(t, errFile)
			if len(lines) != bad || s.Stats().Rejected != int64(bad) {
				t.Fatalf("%d error file lines, %d counted, want %d", len(lines), s.Stats().Rejected, bad)
			}
			checkErrorFileHolds(t, lines, msgs, isBad)
			ev := lines[0]["event"].(map[string]any)
			if !strings.Contains(ev["event"].(string), "7") || lines[0]["hec_code"].(float64) != 6 ||
				!strings.Contains(lines[0]["reason"].(string), "Invalid data format") {
				t.Fatalf("error file line lacks the event or HEC's reason: %v", lines[0])
			}
		})
	}
}

// checkErrorFileHolds asserts that the error file lines hold exactly the
// messages of msgs for which bad is true, each once.
func checkErrorFileHolds(t *testing.T, lines []map[string]any, msgs []hec.Message, bad func(i int) bool) {
	t.Helper()
	got := map[string]int{}
	for _, l := range lines {
		ev, _ := l["event"].(map[string]any)
		text, _ := ev["event"].(string)
		got[text]++
	}
	for i, m := range msgs {
		want := 0
		if bad(i) {
			want = 1
		}
		if got[string(m.Body)] != want {
			t.Fatalf("%q is in the error file %d times, want %d", m.Body, got[string(m.Body)], want)
		}
		delete(got, string(m.Body))
	}
	for text, n := range got {
		t.Fatalf("the error file holds %q (%d times), which no test message made bad", text, n)
	}
}

// event.maxbytes: truncate cuts on a UTF-8 boundary and sends; reject sets
// the event aside without sending it.
func TestOversizeEvents(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	big := hec.Message{Time: []byte("1"), Host: []byte("h"), Body: []byte(strings.Repeat("é", 600))} // 1200 bytes
	s := newSender(t, r.URL(), func(c *hec.Config) { c.EventMaxBytes = 1001 })
	if err := deliver(s, []hec.Message{big}, nil); err != nil {
		t.Fatal(err)
	}
	evs := r.Events()
	if len(evs) != 1 || evs[0].Event != strings.Repeat("é", 500) || s.Stats().Truncated != 1 {
		t.Fatalf("truncation: %d events, %d bytes, stats %+v", len(evs), len(evs[0].Event), s.Stats())
	}

	errFile := filepath.Join(t.TempDir(), "rejects.json")
	s = newSender(t, r.URL(), func(c *hec.Config) {
		c.EventMaxBytes = 1000
		c.EventOversize = hec.OversizeReject
		c.ErrorFile = errFile
	})
	msgs := append(messagesFrom(1, 2), hec.Message{Time: []byte("1"), Host: []byte("h"), Body: []byte(strings.Repeat("x", 1001))})
	if err := deliver(s, msgs, nil); err != nil {
		t.Fatal(err)
	}
	// The receiver also holds the truncated event of the first part.
	checkArrivals(t, r.Events(), append(msgs, hec.Message{Body: []byte(strings.Repeat("é", 500))}),
		func(i int) int { return map[bool]int{true: 0, false: 1}[i == 2] })
	if s.Stats().Rejected != 1 {
		t.Fatalf("reject: stats %+v", s.Stats())
	}
	lines := readErrorFile(t, errFile)
	checkErrorFileHolds(t, lines, msgs, func(i int) bool { return i == 2 })
	if !strings.Contains(lines[0]["reason"].(string), "event.maxbytes") {
		t.Fatalf("error file: %v", lines)
	}
}

// A 413 halves the request until the parts fit.
func TestTooLargeRequestsAreSplit(t *testing.T) {
	r := receiver(t, hecreceiver.Config{MaxContentLength: 3000})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxBytes = 1 << 20 })
	if err := deliver(s, messages(200), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(200), nil)
	if st := r.Stats(); st.Rejected == 0 {
		t.Fatalf("no request was answered 413, the test proves nothing: %+v", st)
	}
}

// Connections closed without an answer are retried; nothing is lost.
func TestDroppedConnectionsAreRetried(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{DropRate: 0.3})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 10 })
	if err := deliver(s, messages(300), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(300), nil)
	if r.Stats().Dropped == 0 {
		t.Fatalf("no connection was dropped, the test proves nothing: %+v", r.Stats())
	}
}

// What the window holds at a stop stays in its files in spool.dir and is
// sent by the next sender of the same action.
func TestStoppingSpoolsAndNextStartReplays(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	s := newSender(t, r.URL(), func(c *hec.Config) { c.WindowDir = dir; c.RetryMaxTime = time.Minute })
	if err := s.Deliver(messages(40), nil); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(files) != 1 || s.Stats().Spooled != 40 || r.Count() != 0 {
		t.Fatalf("spool files %v, stats %+v, receiver %d", files, s.Stats(), r.Count())
	}

	r.SetFaults(hecreceiver.Faults{})
	s2 := newSender(t, r.URL(), func(c *hec.Config) { c.WindowDir = dir })
	eventually(t, "the window file is replayed and removed", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		return len(files) == 0 && s2.Stats().Replayed == 40
	})
	checkArrivals(t, r.Events(), messages(40), nil)
}

// A HEC that takes the request and never answers does not hold a stop
// past rsyslog's action completion timeout: Close ends stopGrace after
// it started, and the batch stays in the window's files.
func TestStoppingWhileHECHangsSpools(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // read nothing, answer nothing
		}
	}()
	dir := t.TempDir()
	s := newSender(t, "http://"+ln.Addr().String(), func(c *hec.Config) { c.WindowDir = dir })
	if err := s.Deliver(messages(30), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the request is on the wire
	start := time.Now()
	s.Close()
	// rsyslog cancels the worker 1 s after the stop.
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if s.Stats().Spooled != 30 || len(files) != 1 {
		t.Fatalf("stats %+v, files %v: want 30 events left in one window file", s.Stats(), files)
	}
}

// Without a spool the window is memory only: a stop says what it loses.
func TestStoppingWithoutSpoolSaysWhatIsLost(t *testing.T) {
	s, rec := recordingSender(t, "http://127.0.0.1:1", func(c *hec.Config) { c.RetryMaxTime = time.Minute })
	if err := s.Deliver(messages(5), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if rec.count("is kept in memory only") != 1 || rec.count("HEC has not taken 5 events; they are lost") != 1 {
		t.Fatalf("log %q", rec.lines)
	}
}

// failedBatch makes a Worker whose commit of 100 messages came back
// suspended: a first batch of 10 (1000..1009) fills the window while HEC
// refuses (the receiver still refuses when it returns).
func failedBatch(t *testing.T) (*hecreceiver.Receiver, *hec.Sender, *hec.Worker, []hec.Message, []hec.Message) {
	t.Helper()
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	s := newSender(t, r.URL(), func(c *hec.Config) {
		c.RetryMaxTime, c.WindowMaxEvents, c.WindowMaxWait = 200*time.Millisecond, 10, 100*time.Millisecond
	})
	w := s.NewWorker()
	first := messagesFrom(1000, 10)
	if err := deliver(s, first, nil); !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("first batch: %v", err)
	}
	batch := messages(100)
	if err := w.Deliver(batch, nil); !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("commit into a full window: %v", err)
	}
	return r, s, w, first, batch
}

// rsyslog re-commits a failed batch one message at a time; the Worker
// turns that into one request, not one per message.
func TestWorkerFoldsOneAtATimeRecommits(t *testing.T) {
	r, s, w, first, batch := failedBatch(t)
	r.SetFaults(hecreceiver.Faults{})
	eventually(t, "the first batch is delivered", func() bool { return s.Drain(nil) == nil })
	before := r.Stats().Requests
	for i := range batch {
		one := messages(100)[i : i+1] // fresh buffers, as rsyslog renders anew
		if err := w.Deliver(one, nil); err != nil {
			t.Fatalf("re-commit %d: %v", i, err)
		}
	}
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	if reqs := r.Stats().Requests - before; reqs != 1 {
		t.Fatalf("%d requests for the re-commits, want 1", reqs)
	}
	checkArrivals(t, r.Events(), append(batch, first...), nil)
	// The sequence is over: the next single message is sent, not credited.
	if err := w.Deliver(messagesFrom(100, 1), nil); err != nil {
		t.Fatalf("after the sequence: %v", err)
	}
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), append(messages(101), first...), nil)
}

// With useack a request counts only once HEC acknowledges it; a lost ack
// makes the request go again, which can only duplicate, never lose.
func TestIndexerAcknowledgement(t *testing.T) {
	r := receiver(t, hecreceiver.Config{RequireAck: true})
	r.SetFaults(hecreceiver.Faults{AckDelay: 300 * time.Millisecond})
	s := newSender(t, r.URL(), func(c *hec.Config) {
		c.UseAck = true
		c.AckInterval = 50 * time.Millisecond
		c.AckTimeout = time.Second
		c.BatchMaxEvents = 20
	})
	if err := deliver(s, messages(100), nil); err != nil {
		t.Fatal(err)
	}
	// Deliver may return only once HEC has said true for every request.
	if st := r.Stats(); st.AckedTrue != st.Requests || st.Requests != 5 {
		t.Fatalf("Deliver returned with %d of %d requests acknowledged", st.AckedTrue, st.Requests)
	}
	checkArrivals(t, r.Events(), messages(100), nil)
	if s.Stats().AckTimeouts != 0 {
		t.Fatalf("stats %+v", s.Stats())
	}
	channels := map[string]bool{}
	for _, ev := range r.Events() {
		channels[ev.Channel] = true
	}
	if len(channels) == 0 || channels[""] {
		t.Fatalf("events arrived without a channel: %v", channels)
	}

	r.SetFaults(hecreceiver.Faults{AckLossRate: 0.3})
	before := r.Count()
	msgs := messagesFrom(100, 200)
	if err := deliver(s, msgs, nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ev := range r.Events()[before:] {
		got[ev.Event]++
	}
	dups := 0
	for _, m := range msgs {
		if got[string(m.Body)] == 0 {
			t.Fatalf("%q lost", m.Body)
		}
		dups += got[string(m.Body)] - 1
		delete(got, string(m.Body))
	}
	for ev := range got {
		t.Fatalf("unexpected event %q", ev)
	}
	if s.Stats().AckTimeouts == 0 || dups == 0 || dups > int(s.Stats().AckTimeouts)*20 {
		t.Fatalf("%d duplicates for %d ack timeouts (batches of 20)", dups, s.Stats().AckTimeouts)
	}
	t.Logf("ack loss 30%%: %d duplicates from %d resent requests", dups, s.Stats().AckTimeouts)
}

// The totals of set-aside events reach the log without a line per event:
// at most once a minute while they change, and on Close.
func TestRejectedTotalsAreLoggedOnClose(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{RejectMatch: "message 00000"})
	c, err := hec.ParseOptions(map[string]string{hec.OptServer: r.URL(), hec.OptToken: token})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	s, err := hec.NewSender(c, func(_ int, msg string) { mu.Lock(); lines = append(lines, msg); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	if err := deliver(s, messages(20), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, l := range lines {
		if strings.Contains(l, "so far 10 events set aside as rejected") {
			return
		}
	}
	t.Fatalf("no summary of the 10 rejected events in the log: %q", lines)
}

// rsyslog's own order (action.c actionCommit): after a failed batch each
// message is tried alone; those that failed alone are committed again as a
// batch. When the folded batch went out on a later single commit, the
// earlier singles' batch is not sent again.
func TestWorkerRecommitOfEarlierSinglesIsNotResent(t *testing.T) {
	r, s, w, first, batch := failedBatch(t)
	for i := range 5 { // tried alone while the window is still full
		if err := w.Deliver(messages(100)[i:i+1], nil); !errors.Is(err, hec.ErrSuspend) {
			t.Fatalf("single %d into a full window: %v", i, err)
		}
	}
	r.SetFaults(hecreceiver.Faults{})
	eventually(t, "the first batch is delivered", func() bool { return s.Drain(nil) == nil })
	for i := 5; i < 100; i++ {
		if err := w.Deliver(messages(100)[i:i+1], nil); err != nil {
			t.Fatalf("single %d: %v", i, err)
		}
	}
	if err := w.Deliver(messages(5), nil); err != nil { // the retry loop's batch
		t.Fatalf("retry batch: %v", err)
	}
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	checkArrivals(t, r.Events(), append(batch, first...), nil)
}
