// SPDX-License-Identifier: Apache-2.0

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
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
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

// deliver is Deliver followed by Drain: the batch is in the window, then
// HEC has taken all the window holds (nil), or has failed for
// retry.maxtime, or stopping said stop (ErrSuspend).
func deliver(s *hec.Sender, msgs []hec.Message, stopping func() bool) error {
	if err := s.Deliver(msgs, stopping); err != nil {
		return err
	}
	return s.Drain(stopping)
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

func messages(n int) []hec.Message { return messagesFrom(0, n) }

// messagesFrom numbers n messages from first on, so that every message of
// a test is distinct and can be told apart at the receiver.
func messagesFrom(first, n int) []hec.Message {
	msgs := make([]hec.Message, n)
	for i := range msgs {
		msgs[i] = hec.Message{Time: []byte("1700000000.5"), Host: []byte("h"), Body: []byte(fmt.Sprintf("message %06d", first+i))}
	}
	return msgs
}

// checkArrivals asserts that message i of msgs arrived want(i) times (once
// where want is nil) and that nothing else arrived: a loss and a duplicate
// elsewhere do not cancel out.
func checkArrivals(t *testing.T, evs []hecreceiver.Event, msgs []hec.Message, want func(i int) int) {
	t.Helper()
	got := map[string]int{}
	for _, ev := range evs {
		got[ev.Event]++
	}
	for i, m := range msgs {
		w := 1
		if want != nil {
			w = want(i)
		}
		if got[string(m.Body)] != w {
			t.Fatalf("%q arrived %d times, want %d", m.Body, got[string(m.Body)], w)
		}
		delete(got, string(m.Body))
	}
	for ev, n := range got {
		t.Fatalf("unexpected event %q arrived %d times", ev, n)
	}
}

// eventually polls cond every 20 ms until it holds or 10 s passed: a test
// waits for what must happen, not for a guessed time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 10 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Deliver returns nil only after HEC accepted every event, and requests
// respect batch.maxevents and batch.maxbytes, whichever binds first.
func TestDeliverSplitsAndConfirms(t *testing.T) {
	t.Run("maxbytes binds", func(t *testing.T) {
		r := receiver(t, hecreceiver.Config{})
		s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 100; c.BatchMaxBytes = 4096 })
		if err := deliver(s, messages(1000), nil); err != nil {
			t.Fatal(err)
		}
		// Requests travel concurrently, so only the set of events is promised.
		checkArrivals(t, r.Events(), messages(1000), nil)
		// ~80-byte events: 4096 bytes hold 51, fewer than the 100-event cap.
		if st := r.Stats(); st.Requests < 1000/51 || st.Decoded/st.Requests > 4096 || st.MaxEventsPerRequest > 51 {
			t.Fatalf("batch.maxbytes=4096 not honoured: %+v", st)
		}
	})
	t.Run("maxevents binds", func(t *testing.T) {
		r := receiver(t, hecreceiver.Config{})
		s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 100; c.BatchMaxBytes = 1 << 20 })
		if err := deliver(s, messages(1000), nil); err != nil {
			t.Fatal(err)
		}
		checkArrivals(t, r.Events(), messages(1000), nil)
		if st := r.Stats(); st.Requests != 10 || st.MaxEventsPerRequest != 100 {
			t.Fatalf("1000 events with batch.maxevents=100: %d requests, at most %d events in one", st.Requests, st.MaxEventsPerRequest)
		}
	})
}

// Concurrent batches share requests when batch.maxdelay lets them wait.
func TestMaxDelayCoalescesConcurrentBatches(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxDelay = 50 * time.Millisecond })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := deliver(s, messagesFrom(g*10, 10), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	checkArrivals(t, r.Events(), messages(80), nil)
	if st := r.Stats(); st.Requests > 4 {
		t.Fatalf("%d requests for 8 concurrent batches within the delay: not coalesced", st.Requests)
	}
}

// compress="on" puts gzip on the wire: every request says so and carries
// fewer bytes than it inflates to; with it off, nothing is compressed.
func TestGzipIsSentOnTheWire(t *testing.T) {
	for _, compress := range []bool{true, false} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			r := receiver(t, hecreceiver.Config{})
			s := newSender(t, r.URL(), func(c *hec.Config) { c.Compress = compress; c.CompressLevel = 6 })
			if err := deliver(s, messages(300), nil); err != nil {
				t.Fatal(err)
			}
			checkArrivals(t, r.Events(), messages(300), nil)
			st := r.Stats()
			if compress && (st.Gzipped != st.Requests || st.Bytes*3 > st.Decoded) {
				t.Fatalf("gzip: %d of %d requests gzipped, %d bytes on the wire for %d of events", st.Gzipped, st.Requests, st.Bytes, st.Decoded)
			}
			if !compress && (st.Gzipped != 0 || st.Bytes != st.Decoded) {
				t.Fatalf("plain: %d requests gzipped, %d bytes on the wire for %d of events", st.Gzipped, st.Bytes, st.Decoded)
			}
		})
	}
}

// Busy answers are retried inside the sender until HEC takes the data.
func TestBusyHECIsRetried(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(700 * time.Millisecond)})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = 10 * time.Second })
	start := time.Now()
	if err := deliver(s, messages(50), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(50), nil)
	if r.Stats().Failed == 0 || time.Since(start) < 700*time.Millisecond {
		t.Fatalf("count %d stats %+v after %v", r.Count(), r.Stats(), time.Since(start))
	}
}

// Past retry.maxtime the batch goes back as suspended, not lost or "done".
func TestUnreachableHECSuspendsAfterRetryTime(t *testing.T) {
	s := newSender(t, "http://127.0.0.1:1", func(c *hec.Config) { c.RetryMaxTime = 300 * time.Millisecond })
	start := time.Now()
	err := deliver(s, messages(5), nil)
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

// A wrong token suspends within retry.maxtime, paced by the backoff (no
// retry storm), and says why once.
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
	// The batch is taken into the window and fails for retry.maxtime.
	err = deliver(s, messages(1), nil)
	if !errors.Is(err, hec.ErrSuspend) || !strings.Contains(err.Error(), "HEC code 4") {
		t.Fatalf("got %v", err)
	}
	reqs := r.Stats().Requests
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
	// Backoff 50-150 ms, then 100-300 ms: within 300 ms the batch makes
	// two or three requests.
	if causes != 1 || gaveUp != 1 || reqs < 2 || reqs > 3 {
		t.Fatalf("want the cause logged once, the outage once with what rsyslog does, 2-3 paced requests; got %q, %d requests",
			logged, reqs)
	}
}

// Load balancing: every endpoint gets traffic, and a dead one is skipped
// by retrying on the next.
func TestEndpointsShareLoadAndCoverForEachOther(t *testing.T) {
	a := receiver(t, hecreceiver.Config{})
	b := receiver(t, hecreceiver.Config{})
	s := newSender(t, a.URL()+","+b.URL()+",http://127.0.0.1:1", func(c *hec.Config) { c.BatchMaxEvents = 10 })
	for i := range 10 {
		if err := deliver(s, messagesFrom(i*20, 20), nil); err != nil {
			t.Fatal(err)
		}
	}
	checkArrivals(t, append(a.Events(), b.Events()...), messages(200), nil)
	if a.Count() == 0 || b.Count() == 0 {
		t.Fatalf("a=%d b=%d: the load was not shared", a.Count(), b.Count())
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
	if err := deliver(s, messages(1200), nil); err != nil { // 3 requests on TLS connections
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(1200), nil)

	untrusting := newSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = time.Second })
	err = deliver(untrusting, messages(5), nil)
	if !errors.Is(err, hec.ErrSuspend) || !strings.Contains(err.Error(), "configuration error") ||
		!strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a suspend for the unknown certificate authority", err)
	}
	if r.Count() != 1200 {
		t.Fatalf("an untrusted connection delivered: receiver has %d", r.Count())
	}
}
