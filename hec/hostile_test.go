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
	"github.com/omsplunkgo/omsplunkgo/hecreceiver"
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
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		go func() { time.Sleep(500 * time.Millisecond); r.SetFaults(hecreceiver.Faults{}) }()
		if err := s.Deliver(messages(100), nil); err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%+v: took %v", f, d)
		}
		if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 32<<20 {
			t.Fatalf("%+v: heap grew by %d MiB", f, grew>>20)
		}
		if rec.count("over 64 KiB") == 0 || r.Count() != 100 {
			t.Fatalf("%+v: receiver %d, log %q", f, r.Count(), rec.lines)
		}
	}
}

// Answers that are not HEC's are logged with what they were: a proxy's
// HTML page, a redirect and where to.
func TestForeignAnswersAreDescribed(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	s, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = 300 * time.Millisecond })
	r.SetFaults(hecreceiver.Faults{Foreign: 200, ForeignType: "text/html", ForeignBody: "<html><body>Login</body></html>"})
	if err := s.Deliver(messages(1), nil); !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("HTML 200 taken as delivered: %v", err)
	}
	r.SetFaults(hecreceiver.Faults{Foreign: 302, Location: "https://sso.example/login"})
	s.Deliver(messages(1), nil)
	if rec.count("not an answer of HEC's", "text/html", "<html><body>Login") == 0 ||
		rec.count("redirects to https://sso.example/login") == 0 {
		t.Fatalf("log %q", rec.lines)
	}
}

// A 403 for a few seconds (a token being rotated) is retried like an
// outage, and logged as what it is.
func TestShortAuthFailureIsRetried(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{DenyUntil: time.Now().Add(1500 * time.Millisecond)})
	s, rec := recordingSender(t, r.URL(), nil)
	if err := s.Deliver(messages(50), nil); err != nil {
		t.Fatal(err)
	}
	if r.Count() != 50 || rec.count("configuration error", "HEC code 4", "retrying for up to retry.maxtime") != 1 {
		t.Fatalf("receiver %d, log %q", r.Count(), rec.lines)
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
	start := time.Now()
	for range 50 {
		if err := s.Deliver(messages(200), nil); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("10,000 events took %v with a hung endpoint in the list", d)
	}
	if good.Count() != 10000 {
		t.Fatalf("good endpoint has %d", good.Count())
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
		c.SpoolDir, c.ActionID, c.Token, c.RetryMaxTime = dir, "omsplunkgo-splunk", "old-token", time.Minute
	})
	start := time.Now()
	if err := s.Deliver(messages(30), func() bool { return time.Since(start) > 200*time.Millisecond }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	time.Sleep(3500 * time.Millisecond) // past the first sender's report of unclaimed files
	// An action of another name left a file too.
	os.WriteFile(filepath.Join(dir, "omsplunkgo-spool-gone.1-1.hec"), []byte(`{"event":"a"}{"event":"b"}`), 0o600)
	r.SetFaults(hecreceiver.Faults{})
	s2, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.SpoolDir, c.ActionID = dir, "omsplunkgo-splunk" })
	if got := r.WaitCount(30, 10*time.Second); got != 30 || s2.Stats().Replayed != 30 {
		t.Fatalf("replayed %d of 30", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rec.count("1 spool files", "(2 events)", "omsplunkgo-spool-gone.1-1.hec") == 0 {
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
	s, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.SpoolDir, c.ActionID = dir, "a" })
	if got := r.WaitCount(3, 10*time.Second); got != 3 {
		t.Fatalf("recovered %d of 3 intact events; log %q", got, rec.lines)
	}
	time.Sleep(200 * time.Millisecond)
	bad, _ := os.ReadFile(filepath.Join(dir, "omsplunkgo-spool-a.1-1.hec.bad"))
	left, _ := filepath.Glob(filepath.Join(dir, "*.hec"))
	if string(bad) != `{"event":"thr` || len(left) != 0 || rec.count("is empty") != 1 || s.Stats().Replayed != 3 {
		t.Fatalf("bad part %q, files left %v, log %q", bad, left, rec.lines)
	}
}

// HEC indexes the events before the one it refuses: they are not sent
// again (no duplicates), only the ones after it.
func TestEventsBeforeARefusedOneAreNotResent(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{RejectMatch: "message 000005"})
	s := newSender(t, r.URL(), nil)
	if err := s.Deliver(messages(10), nil); err != nil {
		t.Fatal(err)
	}
	got := seqs(t, r)
	if len(got) != 9 || r.Count() != 9 || s.Stats().Delivered != 9 || s.Stats().Rejected != 1 {
		t.Fatalf("receiver %d events %v, stats %+v", r.Count(), got, s.Stats())
	}
}
