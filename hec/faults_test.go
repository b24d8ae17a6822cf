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
	"github.com/omsplunkgo/omsplunkgo/hecreceiver"
)

// seqs returns how often each "message NNNNNN" arrived.
func seqs(t *testing.T, r *hecreceiver.Receiver) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, ev := range r.Events() {
		got[ev.Event]++
	}
	return got
}

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
			if err := s.Deliver(msgs, nil); err != nil {
				t.Fatal(err)
			}
			bad := 0
			got := seqs(t, r)
			for _, m := range messages(100) {
				want := 1
				if strings.Contains(string(m.Body), "7") {
					want = 0
					bad++
				}
				if got[string(m.Body)] != want {
					t.Fatalf("%q arrived %d times, want %d", m.Body, got[string(m.Body)], want)
				}
			}
			lines := readErrorFile(t, errFile)
			if len(lines) != bad || s.Stats().Rejected != int64(bad) {
				t.Fatalf("%d error file lines, %d counted, want %d", len(lines), s.Stats().Rejected, bad)
			}
			ev := lines[0]["event"].(map[string]any)
			if !strings.Contains(ev["event"].(string), "7") || lines[0]["hec_code"].(float64) != 6 ||
				!strings.Contains(lines[0]["reason"].(string), "Invalid data format") {
				t.Fatalf("error file line lacks the event or HEC's reason: %v", lines[0])
			}
		})
	}
}

// event.maxbytes: truncate cuts on a UTF-8 boundary and sends; reject sets
// the event aside without sending it.
func TestOversizeEvents(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	big := hec.Message{Time: []byte("1"), Host: []byte("h"), Body: []byte(strings.Repeat("é", 600))} // 1200 bytes
	s := newSender(t, r.URL(), func(c *hec.Config) { c.EventMaxBytes = 1001 })
	if err := s.Deliver([]hec.Message{big}, nil); err != nil {
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
	msgs := append(messages(2), hec.Message{Time: []byte("1"), Host: []byte("h"), Body: []byte(strings.Repeat("x", 1001))})
	if err := s.Deliver(msgs, nil); err != nil {
		t.Fatal(err)
	}
	if r.Count() != 3 || s.Stats().Rejected != 1 {
		t.Fatalf("reject: receiver has %d (want 3), stats %+v", r.Count(), s.Stats())
	}
	if lines := readErrorFile(t, errFile); len(lines) != 1 || !strings.Contains(lines[0]["reason"].(string), "event.maxbytes") {
		t.Fatalf("error file: %v", lines)
	}
}

// A 413 halves the request until the parts fit.
func TestTooLargeRequestsAreSplit(t *testing.T) {
	r := receiver(t, hecreceiver.Config{MaxContentLength: 3000})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxBytes = 1 << 20 })
	if err := s.Deliver(messages(200), nil); err != nil {
		t.Fatal(err)
	}
	got := seqs(t, r)
	for _, m := range messages(200) {
		if got[string(m.Body)] != 1 {
			t.Fatalf("%q arrived %d times", m.Body, got[string(m.Body)])
		}
	}
}

// Connections closed without an answer are retried; nothing is lost.
func TestDroppedConnectionsAreRetried(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{DropRate: 0.3})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 10 })
	if err := s.Deliver(messages(300), nil); err != nil {
		t.Fatal(err)
	}
	if r.Count() != 300 || r.Stats().Dropped == 0 {
		t.Fatalf("receiver has %d of 300, stats %+v", r.Count(), r.Stats())
	}
}

// A batch stranded by a stop is saved to spool.dir, reported delivered,
// and sent by the next sender with the same destination.
func TestStoppingSpoolsAndNextStartReplays(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	s := newSender(t, r.URL(), func(c *hec.Config) { c.SpoolDir = dir; c.RetryMaxTime = time.Minute })
	if err := deliverStopped(t, s, 40, 200*time.Millisecond, 2*time.Second); err != nil {
		t.Fatalf("stopped Deliver with a spool: %v", err)
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.hec"))
	if len(files) != 1 || s.Stats().Spooled != 40 || r.Count() != 0 {
		t.Fatalf("spool files %v, stats %+v, receiver %d", files, s.Stats(), r.Count())
	}

	r.SetFaults(hecreceiver.Faults{})
	s2 := newSender(t, r.URL(), func(c *hec.Config) { c.SpoolDir = dir })
	if got := r.WaitCount(40, 10*time.Second); got != 40 {
		t.Fatalf("replayed %d of 40", got)
	}
	time.Sleep(100 * time.Millisecond)
	if files, _ := filepath.Glob(filepath.Join(dir, "*.hec")); len(files) != 0 || s2.Stats().Replayed != 40 {
		t.Fatalf("after replay: files %v, stats %+v", files, s2.Stats())
	}
}

// A HEC that takes the request and never answers does not hold a stopping
// rsyslog worker past its action completion timeout: the wait on the
// caller's thread ends stopGrace after the stop, and the batch is spooled.
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
	s := newSender(t, "http://"+ln.Addr().String(), func(c *hec.Config) { c.SpoolDir = dir })
	// rsyslog cancels the worker 1 s after the stop.
	if err := deliverStopped(t, s, 30, 200*time.Millisecond, 1200*time.Millisecond); err != nil {
		t.Fatalf("stopped Deliver with a spool: %v", err)
	}
	if s.Stats().Spooled != 30 {
		t.Fatalf("stats %+v, want 30 spooled", s.Stats())
	}
}

// Without a spool a stopped Deliver hands the batch back at once.
func TestStoppingWithoutSpoolSuspends(t *testing.T) {
	s := newSender(t, "http://127.0.0.1:1", func(c *hec.Config) { c.RetryMaxTime = time.Minute })
	err := deliverStopped(t, s, 5, 300*time.Millisecond, 2*time.Second)
	if !errors.Is(err, hec.ErrSuspend) || !errors.Is(err, hec.ErrStopping) {
		t.Fatalf("got %v, want ErrSuspend+ErrStopping", err)
	}
}

// deliverStopped delivers n messages with a stop flag that turns on after
// stopAfter, and fails the test if Deliver takes longer than limit.
func deliverStopped(t *testing.T, s *hec.Sender, n int, stopAfter, limit time.Duration) error {
	t.Helper()
	start := time.Now()
	err := s.Deliver(messages(n), func() bool { return time.Since(start) > stopAfter })
	if d := time.Since(start); d > limit {
		t.Fatalf("took %v to give up after the stop at %v", d, stopAfter)
	}
	return err
}

// rsyslog re-commits a failed batch one message at a time; the Worker
// turns that into one request, not one per message.
func TestWorkerFoldsOneAtATimeRecommits(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = 200 * time.Millisecond })
	w := s.NewWorker()
	batch := messages(100)
	if err := w.Deliver(batch, nil); !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("first commit: %v", err)
	}
	r.SetFaults(hecreceiver.Faults{})
	before := r.Stats().Requests
	for i := range batch {
		one := messages(100)[i : i+1] // fresh buffers, as rsyslog renders anew
		if err := w.Deliver(one, nil); err != nil {
			t.Fatalf("re-commit %d: %v", i, err)
		}
	}
	if reqs := r.Stats().Requests - before; reqs != 1 {
		t.Fatalf("%d requests for the re-commits, want 1", reqs)
	}
	got := seqs(t, r)
	for _, m := range batch {
		if got[string(m.Body)] != 1 {
			t.Fatalf("%q arrived %d times", m.Body, got[string(m.Body)])
		}
	}
	// The sequence is over: the next single message is sent, not credited.
	if err := w.Deliver(messages(1), nil); err != nil || r.Count() != 101 {
		t.Fatalf("after the sequence: %v, receiver %d", err, r.Count())
	}
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
	start := time.Now()
	if err := s.Deliver(messages(100), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("Deliver returned after %v, before HEC acknowledged (300 ms)", d)
	}
	if r.Count() != 100 || s.Stats().AckTimeouts != 0 {
		t.Fatalf("receiver %d, stats %+v", r.Count(), s.Stats())
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
	if err := s.Deliver(messages(200), nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ev := range r.Events()[before:] {
		got[ev.Event]++
	}
	dups := 0
	for _, m := range messages(200) {
		if got[string(m.Body)] == 0 {
			t.Fatalf("%q lost", m.Body)
		}
		dups += got[string(m.Body)] - 1
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
	if err := s.Deliver(messages(20), nil); err != nil {
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
