// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// These tests put the HEC receiver in fault modes behind a real rsyslogd
// and count what was sent against what arrived. Each logs one RESULT line;
// the README's fault table is made from them.

// tally counts sequence numbers first..first+n-1 in evs.
func tally(evs []hecreceiver.Event, first, n int) (lost, dup int) {
	seen := make([]int, n)
	for _, ev := range evs {
		if s := loadgen.SeqOf(ev.Event) - first; s >= 0 && s < n {
			seen[s]++
		}
	}
	for _, c := range seen {
		if c == 0 {
			lost++
		} else {
			dup += c - 1
		}
	}
	return lost, dup
}

func result(t *testing.T, name string, sent, lost, dup int, note string) {
	t.Helper()
	t.Logf("RESULT | %s | sent %d | lost %d | duplicates %d | %s", name, sent, lost, dup, note)
}

// Default action settings, 1% of requests answered 503: retried in the
// module, nothing lost (rsyslog's omhttp drops those batches).
func TestDefaultsSurviveOnePercent503(t *testing.T) {
	const n = 50000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{FailRate: 0.01})
	d := start(t, newConfig(t, action(r, "batch.maxevents=\"100\"")), false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 2*time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "1% of requests 503, default settings", n, lost, dup, fmt.Sprintf("%d requests failed", r.Stats().Failed))
	if r.Stats().Failed == 0 {
		t.Fatal("the receiver failed no request; the test proves nothing")
	}
	checkExactlyOnce(t, r.Events(), 0, n)
}

// Default settings, connections closed without an answer now and then.
func TestDefaultsSurviveDroppedConnections(t *testing.T) {
	const n = 30000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{DropRate: 0.02})
	d := start(t, newConfig(t, action(r, "batch.maxevents=\"100\"")), false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 2*time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "2% of connections dropped unanswered, default settings", n, lost, dup, fmt.Sprintf("%d dropped", r.Stats().Dropped))
	if r.Stats().Dropped == 0 {
		t.Fatal("the receiver dropped no connection; the test proves nothing")
	}
	checkExactlyOnce(t, r.Events(), 0, n)
}

// restartReceiver closes r and starts a new receiver on its address after
// down; it returns the new one.
func restartReceiver(t *testing.T, r *hecreceiver.Receiver, down time.Duration) *hecreceiver.Receiver {
	t.Helper()
	addr := r.Addr()
	r.Close()
	time.Sleep(down)
	var r2 *hecreceiver.Receiver
	var err error
	for range 50 { // the port may linger for a moment
		if r2, err = hecreceiver.Start(hecreceiver.Config{Addr: addr, Token: token, Record: true}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r2.Close() })
	return r2
}

// Default settings, HEC restarts and is gone for 10 s while messages
// keep coming: retry.maxtime (30 s) bridges it.
func TestDefaultsSurviveTenSecondHECRestart(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	d := start(t, newConfig(t, action(r, "")), false)
	send(t, d, loadgen.RFC5424, 0, n/2)
	waitFor(t, r, n/2, time.Minute)
	before := r.Events()

	// Only the test's goroutine may end the test: the sender reports back.
	sent := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		_, err := loadgen.Send(loadgen.Options{Addr: d.Addr(), Format: loadgen.RFC5424, First: n / 2, Count: n / 2, Timeout: 2 * time.Minute})
		sent <- err
	}()
	r2 := restartReceiver(t, r, 10*time.Second)
	if err := <-sent; err != nil {
		t.Fatalf("sending to rsyslogd: %v", err)
	}
	waitFor(t, r2, n/2, 2*time.Minute)
	all := append(before, r2.Events()...)
	lost, dup := tally(all, 0, n)
	result(t, "HEC down 10 s, default settings", n, lost, dup, "")
	checkExactlyOnce(t, all, 0, n)
}

// The README's loss-free config (disk-assisted action queue,
// resumeRetryCount -1) over a 2-minute outage; once HEC is back, the
// backlog goes out in full requests, not a storm of single events.
func TestDocumentedConfigSurvivesTwoMinuteOutage(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, diskQueue))
	d := start(t, conf, false)
	addr := r.Addr()
	r.Close()
	send(t, d, loadgen.RFC5424, 0, n)
	time.Sleep(2 * time.Minute)
	r2 := restartReceiverAt(t, addr)
	waitFor(t, r2, n, 3*time.Minute)
	lost, dup := tally(r2.Events(), 0, n)
	reqs := r2.Stats().Requests
	result(t, "HEC down 2 min, documented config", n, lost, dup, fmt.Sprintf("backlog sent in %d requests", reqs))
	checkExactlyOnce(t, r2.Events(), 0, n)
	if reqs > n/50 {
		t.Fatalf("the backlog of %d took %d requests: single-event re-commits were not folded", n, reqs)
	}
}

func restartReceiverAt(t *testing.T, addr string) *hecreceiver.Receiver {
	t.Helper()
	r, err := hecreceiver.Start(hecreceiver.Config{Addr: addr, Token: token, Record: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// HEC rejects every event holding a marker: those land in the error file
// (by default in the workDirectory) with HEC's reason, everything else
// arrives once.
func TestRejectedEventsGoToErrorFile(t *testing.T) {
	const n = 20000
	const marker = "seq=00001234" // seq 12340..12349
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{RejectMatch: marker})
	conf := newConfig(t, action(r, ""))
	// No errorfile parameter: the default is under rsyslog's workDirectory.
	errFile := filepath.Join(conf.Dir, "omsplunkgo-rejected.json")
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n-10, 2*time.Minute)
	bad := func(i int) bool { return i >= 12340 && i <= 12349 }
	lost, dup := tally(r.Events(), 0, n)
	lost -= 10 // the rejected ones
	checkArrivals(t, r.Events(), 0, n, func(i int) int { return map[bool]int{true: 0, false: 1}[bad(i)] })

	f, err := os.Open(errFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inFile := map[int]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Reason  string
			HECCode int `json:"hec_code"`
			Event   struct{ Event string }
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("error file line is not JSON: %v: %s", err, sc.Text())
		}
		if line.HECCode != 6 || !strings.Contains(line.Reason, "Invalid data format") {
			t.Fatalf("error file line lacks HEC's reason: %s", sc.Text())
		}
		inFile[loadgen.SeqOf(line.Event.Event)]++
	}
	result(t, "HEC rejects 10 events (code 6)", n, lost, dup, fmt.Sprintf("%d in the default error file", len(inFile)))
	for i := 12340; i <= 12349; i++ {
		if inFile[i] != 1 {
			t.Errorf("rejected message %d is in the error file %d times, want 1", i, inFile[i])
		}
		delete(inFile, i)
	}
	if len(inFile) > 0 {
		t.Fatalf("the error file holds events HEC did not reject (by sequence number): %v", inFile)
	}
}

// A HEC that takes 1 s per request: the module keeps at most
// `connections` requests open, rsyslog's queue absorbs the rest, and
// rsyslogd's memory stays flat.
func TestSlowHECBackPressure(t *testing.T) {
	const n = 10000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{Delay: time.Second})
	conf := newConfig(t, action(r, `connections="4" batch.maxevents="100" queue.type="LinkedList"
	  queue.size="100000" queue.dequeueBatchSize="500" queue.workerThreads="2"
	  queue.workerThreadMinimumMessages="1000"`))
	d := start(t, conf, false)
	start := time.Now()
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 3*time.Minute)
	took := time.Since(start)
	// VmHWM: the kernel's own peak, which no sampling interval can miss.
	peak := rsyslogtest.ProcStatusBytes(d.PID, "VmHWM")
	lost, dup := tally(r.Events(), 0, n)
	st := r.Stats()
	result(t, "HEC answers after 1 s", n, lost, dup, fmt.Sprintf("took %v, at most %d requests open, peak RSS %d MiB",
		took.Round(time.Second), st.MaxConcurrent, peak>>20))
	checkExactlyOnce(t, r.Events(), 0, n)
	if st.MaxConcurrent > 4 {
		t.Fatalf("%d requests open at once, connections=4", st.MaxConcurrent)
	}
	if took < time.Duration(n/(4*100))*time.Second {
		t.Fatalf("delivered %d events in %v: faster than 4 requests/s of 100 allow", n, took)
	}
	if peak > 256<<20 {
		t.Fatalf("rsyslogd peaked at %d MiB", peak>>20)
	}
}

// Indexer acknowledgement through rsyslogd: slow acks delay delivery, lost
// acks cause resends (duplicates, counted), nothing is lost.
func TestIndexerAckThroughRsyslog(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	r.SetFaults(hecreceiver.Faults{AckDelay: 200 * time.Millisecond, AckLossRate: 0.02})
	d := start(t, newConfig(t, action(r, `useack="on" ack.interval="100" ack.timeout="2000"`)), false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 2*time.Minute)
	time.Sleep(3 * time.Second) // let resends after lost acks land
	lost, dup := tally(r.Events(), 0, n)
	result(t, "acks required, 200 ms late, 2% lost", n, lost, dup, "duplicates come only from resends after a lost ack")
	if lost > 0 {
		t.Fatalf("%d events lost", lost)
	}
	if dup > n/10 {
		t.Fatalf("%d duplicates for 2%% lost acks", dup)
	}
	// Every request was polled until HEC said true, unless its ack was
	// lost (then it was resent): a module that never asks /ack fails here.
	// (1% slack: an ack that turned true just as its timeout passed.)
	st := r.Stats()
	if st.AckPolls == 0 || (st.AckedTrue+st.AcksLost)*100 < st.Requests*99 {
		t.Fatalf("%d requests: %d acknowledged true, %d acks lost, %d ack polls", st.Requests, st.AckedTrue, st.AcksLost, st.AckPolls)
	}
	// A request whose ack never came must have been sent again: a module
	// that counts a request delivered before its ack fails here.
	if st.AcksLost == 0 {
		t.Fatal("the receiver lost no ack; the test proves nothing")
	}
	if dup == 0 {
		t.Fatalf("%d acks were lost but nothing was sent again", st.AcksLost)
	}
}

// NUL bytes, invalid UTF-8, a 1 MiB message and an empty one: each
// arrives once as valid JSON with the text HEC should show (invalid UTF-8
// as U+FFFD, an empty text as "-"), and no request is refused.
func TestHostileMessagesStayValidJSON(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `template="msgonly"`))
	conf.Global = `global(parser.escapeControlCharactersOnReceive="off")
template(name="msgonly" type="string" string="%msg%")`
	d := start(t, conf, false)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	msgs := []string{"nul \x00 in the middle", "bad utf8 \xff\xfe\xc3", big, ""}
	// rsyslog turns NUL into "#000" on receipt whatever the escaping
	// setting; the other control characters pass (TestHostileBytesBecomeValidJSON).
	want := []string{"nul #000 in the middle", "bad utf8 \ufffd\ufffd\ufffd", big, "-"}
	var lines []byte
	for i, m := range msgs {
		lines = append(lines, fmt.Sprintf("<13>1 2026-11-24T10:00:00Z h app %d - - %s\n", i, m)...)
	}
	sendRaw(t, d.Addr(), lines)
	waitFor(t, r, int64(len(msgs)), 30*time.Second)
	if s := r.Stats(); s.Rejected != 0 {
		t.Fatalf("receiver refused %d requests", s.Rejected)
	}
	got := map[string]int{}
	for _, ev := range r.Events() {
		got[ev.Event]++
	}
	for i, w := range want {
		if got[w] != 1 {
			short := func(s string) string { return tail(s, 60) }
			t.Errorf("message %d: %q arrived %d times; got %d events: %q", i, short(w), got[w], len(r.Events()), func() (k []string) {
				for e := range got {
					k = append(k, short(e))
				}
				return
			}())
		}
	}
}

// HEC's busy and size answers through rsyslogd, as Splunk 10.4 and Cloud
// 10.5 give them: a body over Splunk Cloud's cap (400 code 6 naming object
// 0), 200s with a capacity warning (code 24), and 429 code 26. Every
// message arrives once and none is set aside.
func TestSplunkBusyAndCapAnswersLoseNothing(t *testing.T) {
	const n = 20000
	for _, c := range []struct {
		name   string
		faults hecreceiver.Faults
		params string
	}{
		{"body over the cap", hecreceiver.Faults{BodyCap: 100000}, `batch.maxbytes="8000000" batch.maxevents="5000"
		  queue.type="LinkedList" queue.dequeueBatchSize="5000" queue.size="100000"`},
		{"capacity warnings", hecreceiver.Faults{CapacityWarning: true}, ""},
		{"429 queue at capacity", hecreceiver.Faults{Busy429Rate: 0.2}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := startReceiver(t, hecreceiver.Config{Record: true})
			r.SetFaults(c.faults)
			conf := newConfig(t, action(r, c.params+` name="hec"`))
			global, statsPath := impstatsConfig(conf.Dir)
			conf.Global = global
			d := start(t, conf, false)
			send(t, d, loadgen.RFC5424, 0, n)
			waitFor(t, r, n, 2*time.Minute)
			lost, dup := tally(r.Events(), 0, n)
			result(t, "HEC answers: "+c.name, n, lost, dup, fmt.Sprintf("%d requests, %d refused or busy", r.Stats().Requests,
				r.Stats().Rejected+r.Stats().Failed))
			checkExactlyOnce(t, r.Events(), 0, n)
			if st := r.Stats(); st.Rejected+st.Failed == 0 && !c.faults.CapacityWarning {
				t.Fatalf("the receiver refused no request; the test proves nothing: %+v", st)
			}
			if b, _ := os.ReadFile(filepath.Join(conf.Dir, "omsplunkgo-rejected.json")); len(b) > 0 {
				t.Fatalf("events were set aside:\n%s", tail(string(b), 2000))
			}
			// The action's counters say what the receiver saw.
			rs := r.Stats()
			waitStats(t, statsPath, "omsplunkgo-hec", func(st map[string]float64) bool {
				return st["delivered"] == n && st["rejected"] == 0 && st["requests"] == float64(rs.Requests) &&
					st["http.4xx"] == float64(rs.Rejected+rs.Failed) // the cap's 400s, or the 429s
			})
		})
	}
}

// Indexer acknowledgement through a cookie-sticky load balancer in front of
// two indexers, the usual multi-indexer setup: ackIds collide across the
// indexers, the balancer refuses a channel's request without its cookie;
// 100,000 messages arrive, none twice, none lost.
func TestAcksThroughAStickyLoadBalancer(t *testing.T) {
	const n = 100000
	a := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	b := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	lb, err := hecreceiver.StartBalancer(hecreceiver.BalancerConfig{Backends: []*hecreceiver.Receiver{a, b}, RequireCookie: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	conf := newConfig(t, fmt.Sprintf(`server="%s" token="%s" useack="on" ack.interval="100" ack.timeout="10000"`, lb.URL(), token))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	deadline := time.Now().Add(3 * time.Minute)
	for a.Count()+b.Count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events after 3 minutes", a.Count()+b.Count(), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(quietPeriod)
	all := append(a.Events(), b.Events()...)
	lost, dup := tally(all, 0, n)
	result(t, "acks through a cookie-sticky load balancer, two indexers", n, lost, dup,
		fmt.Sprintf("indexers took %d and %d; %d requests refused for a missing cookie", a.Count(), b.Count(), lb.Refused()))
	checkExactlyOnce(t, all, 0, n)
	if a.Count() == 0 || b.Count() == 0 {
		t.Fatalf("one indexer got nothing (a=%d b=%d): the balancer was not exercised", a.Count(), b.Count())
	}
}

// HEC refuses events in requests of an ack token (400 code 6 with an
// ackId for the indexed prefix, as Splunk 10.4 answers): the events before
// each refused one count once their ack comes, the refused ones go to the
// error file, and impstats says so.
func TestRefusedEventsWithAcks(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	r.SetFaults(hecreceiver.Faults{RejectMatch: "seq=00001234"}) // seq 12340..12349
	conf := newConfig(t, action(r, `useack="on" ack.interval="100" name="hec"`))
	global, statsPath := impstatsConfig(conf.Dir)
	conf.Global = global
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n-10, 2*time.Minute)
	bad := func(i int) bool { return i >= 12340 && i <= 12349 }
	checkArrivals(t, r.Events(), 0, n, func(i int) int { return map[bool]int{true: 0, false: 1}[bad(i)] })
	b, _ := os.ReadFile(filepath.Join(conf.Dir, "omsplunkgo-rejected.json"))
	for i := 12340; i <= 12349; i++ {
		if c := strings.Count(string(b), fmt.Sprintf("seq=%09d", i)); c != 1 {
			t.Fatalf("refused message %d is in the error file %d times", i, c)
		}
	}
	st := waitStats(t, statsPath, "omsplunkgo-hec", func(st map[string]float64) bool {
		return st["delivered"] == n-10 && st["rejected"] == 10
	})
	// Every 2xx was acknowledged, and so was the indexed prefix of at
	// least one partly refused request (the others began with a refused
	// event: no prefix, no ackId).
	if rs := r.Stats(); st["ack.timeouts"] != 0 || float64(rs.AckedTrue) <= st["http.2xx"] {
		t.Fatalf("impstats %v; receiver %+v: want every 2xx and the refused requests' prefixes acknowledged", st, rs)
	}
}
