// SPDX-License-Identifier: Apache-2.0

package hec_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// routed gives message i sourcetype st<i%3> and, for every fifth, index
// "sec".
func routed(n int) []hec.Message { return routedFrom(0, n) }

// routedFrom is routed for the messages numbered first..first+n-1.
func routedFrom(first, n int) []hec.Message {
	msgs := messagesFrom(first, n)
	for k := range msgs {
		i := first + k
		msgs[k].Meta.Sourcetype = []byte(fmt.Sprintf("st%d", i%3))
		if i%5 == 0 {
			msgs[k].Meta.Index = []byte("sec")
		}
	}
	return msgs
}

func checkRouted(t *testing.T, r *hecreceiver.Receiver, n int, raw bool) {
	t.Helper()
	checkRoutedEvents(t, r.Events(), n, raw)
}

// checkRoutedEvents asserts that evs are routed(n), each exactly once, with
// the metadata routed gave it.
func checkRoutedEvents(t *testing.T, evs []hecreceiver.Event, n int, raw bool) {
	t.Helper()
	if len(evs) != n {
		t.Fatalf("receiver has %d events, want %d", len(evs), n)
	}
	seen := map[int]bool{}
	for _, ev := range evs {
		var i int
		if _, err := fmt.Sscanf(ev.Event, "message %d", &i); err != nil || seen[i] {
			t.Fatalf("unexpected or duplicate event %+v", ev)
		}
		seen[i] = true
		wantIndex := ""
		if i%5 == 0 {
			wantIndex = "sec"
		}
		if i < 0 || i >= n {
			t.Fatalf("unexpected event %+v", ev)
		}
		if ev.Sourcetype != fmt.Sprintf("st%d", i%3) || ev.Index != wantIndex || ev.Raw != raw {
			t.Fatalf("event %d arrived as %+v", i, ev)
		}
		if raw && ev.Channel == "" {
			t.Fatalf("raw request without a channel: %+v", ev)
		}
	}
}

// Per-message metadata reaches HEC per event, through the event endpoint
// and the raw one (there, each request holds one metadata group).
func TestPerMessageMetadataBothEndpoints(t *testing.T) {
	for _, endpoint := range []string{hec.EndpointEvent, hec.EndpointRaw} {
		t.Run(endpoint, func(t *testing.T) {
			r := receiver(t, hecreceiver.Config{})
			s := newSender(t, r.URL(), func(c *hec.Config) { c.Endpoint = endpoint; c.Compress = true; c.BatchMaxEvents = 50 })
			if err := deliver(s, routed(1000), nil); err != nil {
				t.Fatal(err)
			}
			checkRouted(t, r, 1000, endpoint == hec.EndpointRaw)
			if endpoint == hec.EndpointRaw && r.Stats().Requests < 6 {
				t.Fatalf("%d requests for 6 metadata groups", r.Stats().Requests)
			}
		})
	}
}

// Raw events spooled at a stop are delivered at the next start through the
// raw endpoint, each with its metadata.
func TestRawSpoolKeepsMetadata(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	raw := func(c *hec.Config) { c.WindowDir = dir; c.Endpoint = hec.EndpointRaw; c.RetryMaxTime = time.Minute }
	s := newSender(t, r.URL(), raw)
	if err := s.Deliver(routed(60), nil); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	s.Close()
	r.SetFaults(hecreceiver.Faults{})
	s2 := newSender(t, r.URL(), raw)
	eventually(t, "the raw window is replayed and removed", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		return len(files) == 0 && s2.Stats().Replayed == 60
	})
	checkRouted(t, r, 60, true)
}

// An index the token may not write (code 7): with per-message indexes the
// events naming it go to the error file and the rest is delivered, through
// either endpoint; with the action's fixed index it is a configuration
// error and the batch is kept (suspended).
func TestRefusedIndex(t *testing.T) {
	for _, endpoint := range []string{hec.EndpointEvent, hec.EndpointRaw} {
		t.Run(endpoint, func(t *testing.T) {
			r := receiver(t, hecreceiver.Config{Indexes: []string{"main"}})
			errfile := filepath.Join(t.TempDir(), "rejected.json")
			s := newSender(t, r.URL(), func(c *hec.Config) {
				c.Endpoint, c.ErrorFile, c.PerMessageIndex = endpoint, errfile, true
			})
			// The raw endpoint groups the batch by metadata in place:
			// check against a fresh copy.
			if err := deliver(s, routed(100), nil); err != nil {
				t.Fatal(err)
			}
			msgs := routed(100)
			refused := func(i int) bool { return i%5 == 0 }
			checkArrivals(t, r.Events(), msgs, func(i int) int { return map[bool]int{true: 0, false: 1}[refused(i)] })
			checkErrorFileHolds(t, readErrorFile(t, errfile), msgs, refused)
			if s.Stats().Rejected != 20 || s.Stats().Delivered != 80 {
				t.Fatalf("stats %+v", s.Stats())
			}
			for _, ev := range r.Events() {
				if ev.Index == "sec" {
					t.Fatalf("refused index arrived: %+v", ev)
				}
			}
		})
	}
	r := receiver(t, hecreceiver.Config{Indexes: []string{"main"}})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.Index = "sec"; c.RetryMaxTime = 300 * time.Millisecond })
	if err := deliver(s, messages(10), nil); !errors.Is(err, hec.ErrSuspend) || r.Count() != 0 {
		t.Fatalf("fixed refused index: err %v, receiver %d", err, r.Count())
	}
}

// A 503 with Retry-After is not retried sooner than it asks.
func TestRetryAfterIsHonoured(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(50 * time.Millisecond), RetryAfter: 2 * time.Second})
	s := newSender(t, r.URL(), nil)
	start := time.Now()
	if err := deliver(s, messages(10), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("delivered after %v, before the 2 s Retry-After", d)
	}
	// A Retry-After beyond retry.maxtime gives up at once rather than sleep past it.
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour), RetryAfter: time.Minute})
	s = newSender(t, r.URL(), func(c *hec.Config) { c.RetryMaxTime = 10 * time.Second })
	start = time.Now()
	if err := deliver(s, messages(10), nil); !errors.Is(err, hec.ErrSuspend) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v, want a prompt suspend", err, time.Since(start))
	}
}

// Bad fields renderings are dropped (counted), the events still go.
func TestInvalidFieldsAreDroppedNotTheEvent(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	var ctrs hec.Counters
	s := newSender(t, r.URL(), nil)
	s.AttachCounters(&ctrs)
	msgs := messages(4)
	msgs[0].Meta.Fields = []byte(`{"app":"sshd"}`)
	msgs[1].Meta.Fields = []byte(`{"nested":{"x":"y"}}`)
	msgs[2].Meta.Fields = []byte(`not json`)
	msgs[3].Meta.Fields = []byte(`{}`)
	if err := deliver(s, msgs, nil); err != nil {
		t.Fatal(err)
	}
	with := 0
	for _, ev := range r.Events() {
		if ev.Fields != nil {
			with++
		}
	}
	checkArrivals(t, r.Events(), msgs, nil)
	if with != 1 || atomic.LoadUint64(&ctrs[hec.CtrFieldsInvalid]) != 2 ||
		atomic.LoadUint64(&ctrs[hec.CtrDelivered]) != 4 || atomic.LoadUint64(&ctrs[hec.CtrHTTP2xx]) != 1 {
		t.Fatalf("receiver %d events, %d with fields; counters %v", r.Count(), with, ctrs)
	}
}

// The raw endpoint with indexer acknowledgement and several servers: every
// request is acknowledged on its channel, load spreads, nothing is lost.
func TestRawEndpointWithAcksAndSeveralServers(t *testing.T) {
	a := receiver(t, hecreceiver.Config{RequireAck: true})
	b := receiver(t, hecreceiver.Config{RequireAck: true})
	a.SetFaults(hecreceiver.Faults{AckDelay: 50 * time.Millisecond})
	s := newSender(t, a.URL()+","+b.URL(), func(c *hec.Config) {
		c.Endpoint, c.UseAck, c.AckInterval, c.BatchMaxEvents = hec.EndpointRaw, true, 20*time.Millisecond, 40
	})
	for i := range 5 {
		if err := deliver(s, routedFrom(i*200, 200), nil); err != nil {
			t.Fatal(err)
		}
	}
	checkRoutedEvents(t, append(a.Events(), b.Events()...), 1000, true)
	if a.Count() == 0 || b.Count() == 0 || s.Stats().Delivered != 1000 {
		t.Fatalf("a=%d b=%d stats %+v", a.Count(), b.Count(), s.Stats())
	}
	for _, r := range []*hecreceiver.Receiver{a, b} {
		if st := r.Stats(); st.AckedTrue != st.Requests {
			t.Fatalf("%d of %d requests acknowledged: %+v", st.AckedTrue, st.Requests, st)
		}
	}
}

// A raw-endpoint message holding CR/LF arrives as exactly one event (its
// line breaks escaped, counted), and cannot forge a line of its own.
func TestRawMessageWithLineBreaksIsOneEvent(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	var ctrs hec.Counters
	s := newSender(t, r.URL(), func(c *hec.Config) { c.Endpoint = hec.EndpointRaw })
	s.AttachCounters(&ctrs)
	msgs := messages(3)
	msgs[1].Body = []byte("message 000001\r\n<13>Nov 30 10:00:00 victimhost sshd[1]: Accepted password for root")
	if err := deliver(s, msgs, nil); err != nil {
		t.Fatal(err)
	}
	want := []hec.Message{msgs[0], {Body: []byte(`message 000001\r\n<13>Nov 30 10:00:00 victimhost sshd[1]: Accepted password for root`)}, msgs[2]}
	checkArrivals(t, r.Events(), want, nil)
	if n := atomic.LoadUint64(&ctrs[hec.CtrRawLineBreaks]); n != 1 {
		t.Fatalf("raw.linebreaks = %d, want 1", n)
	}
}

// Raw endpoint with metadata of many values (a sourcetype per program of a
// busy host): a batch does not become one request per value. Events of
// small groups go through the event endpoint, each with its metadata.
func TestRawEndpointWithManyMetadataValues(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	s := newSender(t, r.URL(), func(c *hec.Config) { c.Endpoint = hec.EndpointRaw })
	const n, batch = 5000, 500
	st := func(i int) string { return fmt.Sprintf("st%04d", i%2500) }
	for b := 0; b < n; b += batch {
		msgs := messagesFrom(b, batch)
		for k := range msgs {
			msgs[k].Meta.Sourcetype = []byte(st(b + k))
		}
		if err := deliver(s, msgs, nil); err != nil {
			t.Fatal(err)
		}
	}
	checkArrivals(t, r.Events(), messages(n), nil)
	for _, ev := range r.Events() {
		var i int
		fmt.Sscanf(ev.Event, "message %d", &i)
		if ev.Sourcetype != st(i) {
			t.Fatalf("event %q arrived with sourcetype %q, want %q", ev.Event, ev.Sourcetype, st(i))
		}
	}
	if reqs := r.Stats().Requests; reqs > n/batch*2 {
		t.Fatalf("%d requests for %d messages in %d batches: one per metadata value", reqs, n, n/batch)
	}
}
