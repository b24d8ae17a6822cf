// SPDX-License-Identifier: Apache-2.0

package hec_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// logRecorder collects a sender's log lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) log(_ int, m string) { l.mu.Lock(); l.lines = append(l.lines, m); l.mu.Unlock() }

func (l *logRecorder) count(subs ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

func recordingSender(t *testing.T, url string, mod func(*hec.Config)) (*hec.Sender, *logRecorder) {
	t.Helper()
	c, err := hec.ParseOptions(map[string]string{hec.OptServer: url, hec.OptToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(&c)
	}
	rec := &logRecorder{}
	s, err := hec.NewSender(c, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, rec
}

// An endpoint answering with a huge or endless body costs neither memory
// nor time beyond the timeout: the body is not read, the request is
// retried, and the log says what the endpoint did.
func TestHugeAnswerBodiesAreNotRead(t *testing.T) {
	for _, f := range []hecreceiver.Faults{{HugeBody: 300 << 20}, {EndlessBody: true}} {
		r := receiver(t, hecreceiver.Config{})
		r.SetFaults(f)
		s, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = 2 * time.Second; c.Timeout = time.Second })
		// TotalAlloc only grows: it sees a body read and freed again,
		// which the heap in use afterwards would not.
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		go func() {
			// Heal once the endpoint has misbehaved at least twice.
			for r.Stats().Failed < 2 {
				time.Sleep(10 * time.Millisecond)
			}
			r.SetFaults(hecreceiver.Faults{})
		}()
		if err := deliver(s, messages(100), nil); err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 32<<20 {
			t.Fatalf("%+v: %d MiB allocated while the endpoint sent its body", f, allocated>>20)
		}
		if rec.count("over 64 KiB") == 0 {
			t.Fatalf("%+v: the oversized answer is not logged: %q", f, rec.lines)
		}
		checkArrivals(t, r.Events(), messages(100), nil)
	}
}

// Answers that are not HEC's are logged with what they were: a proxy's
// HTML page, a redirect and where to.
func TestForeignAnswersAreDescribed(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	s, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = 300 * time.Millisecond })
	r.SetFaults(hecreceiver.Faults{Foreign: 200, ForeignType: "text/html", ForeignBody: "<html><body>Login</body></html>"})
	if err := deliver(s, messages(1), nil); !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("HTML 200 taken as delivered: %v", err)
	}
	// The batch is tried again after a pause, and meets the redirect.
	r.SetFaults(hecreceiver.Faults{Foreign: 302, Location: "https://sso.example/login"})
	eventually(t, "the redirect is logged", func() bool { return rec.count("redirects to https://sso.example/login") > 0 })
	if rec.count("not an answer of HEC's", "text/html", "<html><body>Login") == 0 || r.Count() != 0 {
		t.Fatalf("log %q, %d events taken", rec.lines, r.Count())
	}
}

// A 403 for a few seconds (a token being rotated) is retried like an
// outage, and logged as what it is.
func TestShortAuthFailureIsRetried(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{DenyUntil: time.Now().Add(1500 * time.Millisecond)})
	s, rec := recordingSender(t, r.URL(), nil)
	if err := deliver(s, messages(50), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(50), nil)
	if rec.count("configuration error", "HEC code 4", "the events stay in the window and are tried again") != 1 {
		t.Fatalf("log %q", rec.lines)
	}
}

// An endpoint that accepts connections and never answers gets no traffic
// from the start (its first health probe does not come back), and a
// refusing one is set aside and logged once, not per request.
func TestHungAndRefusingEndpointsAreSetAside(t *testing.T) {
	good := receiver(t, hecreceiver.Config{})
	hung, err := hecreceiver.StartSilent()
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	s, rec := recordingSender(t, good.URL()+","+hung.URL()+",http://127.0.0.1:1", func(c *hec.Config) {
		c.Timeout = 5 * time.Second
		c.BatchMaxEvents = 100
	})
	for i := range 50 {
		if err := deliver(s, messagesFrom(i*200, 200), nil); err != nil {
			t.Fatal(err)
		}
	}
	checkArrivals(t, good.Events(), messages(10000), nil)
	if n := hung.DataRequests(); n != 0 || hung.Probes() == 0 {
		t.Fatalf("the hung endpoint got %d data requests (want 0) and %d health probes (want some); log %q", n, hung.Probes(), rec.lines)
	}
	if n := rec.count("set aside"); n < 1 || n > 2 {
		t.Fatalf("%d set-aside lines: %q", n, rec.lines)
	}
}

// Spool files are the action's, whatever its servers, token or index: a
// start after fixing the token sends what the previous config saved. Files
// of another action are reported with their event count.
func TestSpoolSurvivesConfigChanges(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	s, _ := recordingSender(t, r.URL(), func(c *hec.Config) {
		c.WindowDir, c.ActionID, c.Token, c.RetryMaxTime = dir, "omsplunkgo-splunk", "old-token", time.Minute
	})
	if err := s.Deliver(messages(30), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	time.Sleep(3500 * time.Millisecond) // past the first sender's report of unclaimed files
	// An action of another name left a file too.
	os.WriteFile(filepath.Join(dir, "omsplunkgo-spool-gone.1-1.hec"), []byte(`{"event":"a"}{"event":"b"}`), 0o600)
	r.SetFaults(hecreceiver.Faults{})
	s2, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.WindowDir, c.ActionID = dir, "omsplunkgo-splunk" })
	eventually(t, "the 30 spooled events are replayed", func() bool { return s2.Stats().Replayed == 30 })
	checkArrivals(t, r.Events(), messages(30), nil)
	deadline := time.Now().Add(10 * time.Second)
	for rec.count("1 window files", "(2 events)", "omsplunkgo-spool-gone.1-1.hec") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("unclaimed file not reported: %q", rec.lines)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A damaged spool file yields its intact events; the damaged rest is kept
// aside; an empty one is removed.
func TestDamagedSpoolFileYieldsIntactEvents(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "omsplunkgo-spool-a.1-1.hec"), []byte(`{"event":"one"}{"event":"two"}{"event":"thr`), 0o600)
	os.WriteFile(filepath.Join(dir, "omsplunkgo-spool-a.2-2.hec"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".omsplunkgo-spool-a.3-3.hec.tmp"), []byte(`{"event":"four"}`), 0o600)
	s, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.WindowDir, c.ActionID = dir, "a" })
	eventually(t, "every spool file is dealt with", func() bool {
		left, _ := filepath.Glob(filepath.Join(dir, "*.hec"))
		return len(left) == 0 && s.Stats().Replayed == 3 && rec.count("is empty") == 1
	})
	checkArrivals(t, r.Events(), []hec.Message{{Body: []byte("one")}, {Body: []byte("two")}, {Body: []byte("four")}}, nil)
	bad, _ := os.ReadFile(filepath.Join(dir, "omsplunkgo-spool-a.1-1.hec.bad"))
	if string(bad) != `{"event":"thr` {
		t.Fatalf("bad part %q, log %q", bad, rec.lines)
	}
}

// HEC indexes the events before the one it refuses: they are not sent
// again (no duplicates), only the ones after it.
func TestEventsBeforeARefusedOneAreNotResent(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{RejectMatch: "message 000005"})
	s := newSender(t, r.URL(), nil)
	if err := deliver(s, messages(10), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(10), func(i int) int { return map[bool]int{true: 0, false: 1}[i == 5] })
	if s.Stats().Delivered != 9 || s.Stats().Rejected != 1 {
		t.Fatalf("stats %+v", s.Stats())
	}
}
