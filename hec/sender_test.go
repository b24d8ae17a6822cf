package hec_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/hecreceiver"
)

const token = "tok"

func newSender(t *testing.T, url string, mod func(*hec.Config)) *hec.Sender {
	t.Helper()
	opts := map[string]string{hec.OptServer: url, hec.OptToken: token}
	c, err := hec.ParseOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(&c)
	}
	var mu sync.Mutex
	done := false // background goroutines may log after the test
	s, err := hec.NewSender(c, func(sev int, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Logf("log %d: %s", sev, msg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		mu.Lock()
		done = true
		mu.Unlock()
	})
	return s
}

func receiver(t *testing.T, cfg hecreceiver.Config) *hecreceiver.Receiver {
	t.Helper()
	cfg.Token = token
	cfg.Record = true
	r, err := hecreceiver.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func messages(n int) []hec.Message {
	msgs := make([]hec.Message, n)
	for i := range msgs {
		msgs[i] = hec.Message{Time: []byte("1700000000.5"), Host: []byte("h"), Body: []byte(fmt.Sprintf("message %06d", i))}
	}
	return msgs
}

// Deliver returns nil only after HEC accepted every event, and requests
// respect batch.maxevents and batch.maxbytes.
func TestDeliverSplitsAndConfirms(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 100; c.BatchMaxBytes = 4096 })
	if err := s.Deliver(messages(1000), nil); err != nil {
		t.Fatal(err)
	}
	if got := r.Count(); got != 1000 {
		t.Fatalf("receiver has %d events", got)
	}
	// ~80-byte events: 4096 bytes hold 51, fewer than the 100-event cap.
	if st := r.Stats(); st.Requests < 1000/51 {
		t.Fatalf("only %d requests: batch.maxbytes not honoured", st.Requests)
	}
	// Requests travel concurrently, so only the set of events is promised.
	seen := map[string]bool{}
	for _, ev := range r.Events() {
		seen[ev.Event] = true
	}
	for i := range 1000 {
		if !seen[fmt.Sprintf("message %06d", i)] {
			t.Fatalf("message %d missing or changed", i)
		}
	}
}

// Concurrent batches share requests when batch.maxdelay lets them wait.
func TestMaxDelayCoalescesConcurrentBatches(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxDelay = 50 * time.Millisecond })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.Deliver(messages(10), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if r.Count() != 80 {
		t.Fatalf("receiver has %d events, want 80", r.Count())
	}
	if st := r.Stats(); st.Requests > 4 {
		t.Fatalf("%d requests for 8 concurrent batches within the delay: not coalesced", st.Requests)
	}
}

func TestGzipIsAccepted(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.Compress = true; c.CompressLevel = 6 })
	if err := s.Deliver(messages(300), nil); err != nil {
		t.Fatal(err)
	}
	if r.Count() != 300 {
		t.Fatalf("receiver has %d events", r.Count())
	}
}

// Busy answers are retried inside the sender until HEC takes the data.
func TestBusyHECIsRetried(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(700 * time.Millisecond)})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = 10 * time.Second })
	start := time.Now()
	if err := s.Deliver(messages(50), nil); err != nil {
		t.Fatal(err)
	}
	if r.Count() != 50 || r.Stats().Failed == 0 || time.Since(start) < 700*time.Millisecond {
		t.Fatalf("count %d stats %+v after %v", r.Count(), r.Stats(), time.Since(start))
	}
}

// Past retry.maxtime the batch goes back as suspended, not lost or "done".
func TestUnreachableHECSuspendsAfterRetryTime(t *testing.T) {
	s := newSender(t, "http://127.0.0.1:1", func(c *hec.Config) { c.RetryMaxTime = 300 * time.Millisecond })
	start := time.Now()
	err := s.Deliver(messages(5), nil)
	if !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("got %v, want ErrSuspend", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v; retry.maxtime is 300ms", d)
	}
	if err := s.Probe(); !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("probe of a closed port said %v", err)
	}
}

// A wrong token suspends at once (no retry storm) and says why.
func TestBadTokenSuspendsWithReason(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	c, _ := hec.ParseOptions(map[string]string{hec.OptServer: r.URL(), hec.OptToken: "wrong",
		hec.OptRetryMaxTime: "300"})
	var mu sync.Mutex
	var logged []string
	s, err := hec.NewSender(c, func(_ int, m string) { mu.Lock(); logged = append(logged, m); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		err = s.Deliver(messages(1), nil)
		if !errors.Is(err, hec.ErrSuspend) || !strings.Contains(err.Error(), "HEC code 4") {
			t.Fatalf("got %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	causes, gaveUp := 0, 0
	for _, l := range logged {
		switch {
		case strings.Contains(l, "handed back to rsyslog") && strings.Contains(l, "rsyslog drops them"):
			gaveUp++
		case strings.Contains(l, "configuration error") && strings.Contains(l, "token"):
			causes++
		}
	}
	if causes != 1 || gaveUp != 3 || r.Stats().Requests < 6 {
		t.Fatalf("want the cause logged once, each give-up with what rsyslog does, retries meanwhile; got %q, %d requests",
			logged, r.Stats().Requests)
	}
}

// Load balancing: every endpoint gets traffic, and a dead one is skipped
// by retrying on the next.
func TestEndpointsShareLoadAndCoverForEachOther(t *testing.T) {
	a := receiver(t, hecreceiver.Config{})
	b := receiver(t, hecreceiver.Config{})
	s := newSender(t, a.URL()+","+b.URL()+",http://127.0.0.1:1", func(c *hec.Config) { c.BatchMaxEvents = 10 })
	for range 10 {
		if err := s.Deliver(messages(20), nil); err != nil {
			t.Fatal(err)
		}
	}
	if a.Count()+b.Count() != 200 || a.Count() == 0 || b.Count() == 0 {
		t.Fatalf("a=%d b=%d", a.Count(), b.Count())
	}
}

func TestParseOptionsNamesTheOption(t *testing.T) {
	cases := map[string]map[string]string{
		"server":          {hec.OptToken: "t"},
		"token":           {hec.OptServer: "http://h:1"},
		"batch.maxevents": {hec.OptServer: "http://h:1", hec.OptToken: "t", hec.OptBatchMaxEvents: "0"},
		"compress.level":  {hec.OptServer: "http://h:1", hec.OptToken: "t", hec.OptCompressLevel: "x"},
		"bogus":           {hec.OptServer: "http://h:1", hec.OptToken: "t", "bogus": "1"},
		"must start with": {hec.OptServer: "ftp://h", hec.OptToken: "t"},
		"tls.cacert":      {hec.OptServer: "https://h", hec.OptToken: "t", hec.OptTLSCACert: "/nonexistent"},
	}
	for want, opts := range cases {
		if _, err := hec.ParseOptions(opts); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v does not mention %q", opts, err, want)
		}
	}
	c, err := hec.ParseOptions(map[string]string{hec.OptServer: "https://splunk", hec.OptToken: "t"})
	if err != nil || c.Endpoints[0].Host != "splunk:8088" {
		t.Fatalf("default port: %v %v", c.Endpoints, err)
	}
}

// HTTPS: events arrive over TLS when the client trusts HEC's certificate
// (tls.cacert); with verification on and no trust, the batch is kept and
// the cause is a configuration error naming the certificate problem.
func TestHTTPSDeliversAndChecksTheCertificate(t *testing.T) {
	tc, caPEM, err := hecreceiver.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	r := receiver(t, hecreceiver.Config{TLS: tc})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, r.URL(), func(c *hec.Config) { c.TLSCACert = ca })
	if err := s.Deliver(messages(1200), nil); err != nil { // 3 requests on TLS connections
		t.Fatal(err)
	}
	if r.Count() != 1200 {
		t.Fatalf("receiver has %d of 1200", r.Count())
	}

	untrusting := newSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = time.Second })
	err = untrusting.Deliver(messages(5), nil)
	if !errors.Is(err, hec.ErrSuspend) || !strings.Contains(err.Error(), "configuration error") ||
		!strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a suspend for the unknown certificate authority", err)
	}
	if r.Count() != 1200 {
		t.Fatalf("an untrusted connection delivered: receiver has %d", r.Count())
	}
}
