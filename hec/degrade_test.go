// SPDX-License-Identifier: Apache-2.0

package hec_test

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// A balancer that gives its stickiness cookie a new value on every answer
// (an ALB may) while it keeps the channel on one indexer: with acks,
// 50,000 events arrive once each (at most 1 % again), and no channel is
// taken for moved.
func TestCookieRenewedOnEveryAnswer(t *testing.T) {
	a := receiver(t, hecreceiver.Config{RequireAck: true})
	b := receiver(t, hecreceiver.Config{RequireAck: true})
	a.SetFaults(hecreceiver.Faults{AckDelay: 30 * time.Millisecond})
	b.SetFaults(hecreceiver.Faults{AckDelay: 30 * time.Millisecond})
	lb, err := hecreceiver.StartBalancer(hecreceiver.BalancerConfig{Backends: []*hecreceiver.Receiver{a, b}, RenewCookie: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	var ctrs hec.Counters
	s := newSender(t, lb.URL(), func(c *hec.Config) {
		c.UseAck, c.AckInterval, c.AckTimeout = true, 20*time.Millisecond, 5*time.Second
		c.RetryMaxTime = 10 * time.Second
	})
	s.AttachCounters(&ctrs)
	const n = 50000
	for i := 0; i < n; i += 500 {
		if err := s.Deliver(messagesFrom(i, 500), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	dups := 0
	for _, ev := range append(a.Events(), b.Events()...) {
		if got[ev.Event]++; got[ev.Event] > 1 {
			dups++
		}
	}
	for _, m := range messagesFrom(0, n) {
		if got[string(m.Body)] == 0 {
			t.Fatalf("%q lost", m.Body)
		}
	}
	moves := atomic.LoadUint64(&ctrs[hec.CtrAckChannelMoves])
	if dups > n/100 || moves != 0 {
		t.Fatalf("%d duplicates of %d events, %d channels taken for moved: a cookie's new value is no move", dups, n, moves)
	}
}

// A server that sets 50 cookies of new names on every answer: the
// requests' Cookie header stays bounded.
func TestCookieFloodIsBounded(t *testing.T) {
	a := receiver(t, hecreceiver.Config{RequireAck: true})
	lb, err := hecreceiver.StartBalancer(hecreceiver.BalancerConfig{Backends: []*hecreceiver.Receiver{a}, FloodCookies: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	s := newSender(t, lb.URL(), func(c *hec.Config) {
		c.UseAck, c.AckInterval, c.BatchMaxEvents = true, 20*time.Millisecond, 10
	})
	for i := range 50 {
		if err := deliver(s, messagesFrom(i*100, 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	checkArrivals(t, a.Events(), messages(5000), nil)
	if h := lb.MaxCookieHeader(); h > 5000 {
		t.Fatalf("a request carried %d bytes of cookies", h)
	}
}

// HEC takes the requests but never acknowledges them: the outage is
// logged within retry.maxtime plus an ack timeout or two, and each request
// is sent at most once per ack.timeout.
func TestAcksThatNeverComeAreAnOutage(t *testing.T) {
	r := receiver(t, hecreceiver.Config{RequireAck: true})
	r.SetFaults(hecreceiver.Faults{AckLossRate: 1})
	s, rec := recordingSender(t, r.URL(), func(c *hec.Config) {
		c.UseAck, c.AckInterval, c.AckTimeout, c.RetryMaxTime = true, 20*time.Millisecond, time.Second, 1500*time.Millisecond
	})
	if err := s.Deliver(messages(10), nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	eventually(t, "the outage is logged", func() bool { return rec.count("has not taken a request") > 0 })
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("outage logged after %v", took)
	}
	time.Sleep(2 * time.Second)
	elapsed := time.Since(start)
	if sent, most := r.Stats().Requests, int64(elapsed/time.Second)+2; sent > most {
		t.Fatalf("%d requests in %v with ack.timeout=300ms: more than one per ack.timeout", sent, elapsed)
	}
}

// Once Close returns, nothing more is posted: a replay of the window's
// files (the next start) does not race a request still going out.
func TestNothingIsPostedAfterClose(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailRate: 1})
	dir := t.TempDir()
	c, err := hec.ParseOptions(map[string]string{hec.OptServer: r.URL(), hec.OptToken: token})
	if err != nil {
		t.Fatal(err)
	}
	c.WindowDir, c.ActionID, c.BatchMaxEvents = dir, "a", 1
	for round := range 20 {
		s, err := hec.NewSender(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Deliver(messagesFrom(round*100, 100), nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(round%5) * 10 * time.Millisecond)
		s.Close()
		before := r.Stats().Requests
		time.Sleep(50 * time.Millisecond)
		if after := r.Stats().Requests; after != before {
			t.Fatalf("round %d: %d requests arrived after Close returned", round, after-before)
		}
	}
}

// The senders feed the adaptive limit: 100 ms away it grows past its
// start (4) as answers come back flat, and a HEC that takes every request
// with a capacity warning (code 24) brings it down to 1.
func TestAdaptiveLimitHearsTheAnswers(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{Delay: 100 * time.Millisecond})
	var ctrs hec.Counters
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 10 })
	s.AttachCounters(&ctrs)
	peak := uint64(0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			s.Deliver(messagesFrom(i*100, 100), nil)
		}
		s.Drain(nil)
	}()
	for wait := true; wait; {
		select {
		case <-done:
			wait = false
		case <-time.After(100 * time.Millisecond):
		}
		peak = max(peak, atomic.LoadUint64(&ctrs[hec.CtrLimit]))
	}
	if peak < 32 {
		t.Fatalf("limit reached %d 100 ms away with flat answers: the limiter does not hear them", peak)
	}
	r.SetFaults(hecreceiver.Faults{CapacityWarning: true})
	for i := range 100 {
		if err := deliver(s, messagesFrom(20000+i*10, 10), nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the gauges are published every second
	if l := atomic.LoadUint64(&ctrs[hec.CtrLimit]); l > 4 {
		t.Fatalf("limit %d after 100 requests taken with a capacity warning: codes 24/25 are back-pressure", l)
	}
}

// Through an outage, requests wait as data: goroutines stay few however
// many requests the window holds.
func TestOutageHoldsNoGoroutinePerRequest(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	before := runtime.NumGoroutine()
	s := newSender(t, r.URL(), func(c *hec.Config) {
		c.BatchMaxEvents, c.RetryMaxTime = 1, 200*time.Millisecond
	})
	for i := range 50 {
		if err := s.Deliver(messagesFrom(i*100, 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	if g := runtime.NumGoroutine() - before; g > 50 {
		t.Fatalf("%d goroutines for 5000 one-event requests waiting through an outage", g)
	}
	if req := r.Stats().Requests; req > 200 {
		t.Fatalf("%d requests in 2 s of outage: one try at a time is enough to find HEC back", req)
	}
	r.SetFaults(hecreceiver.Faults{})
	if err := s.Drain(nil); err != nil && !strings.Contains(err.Error(), "") {
		t.Fatal(err)
	}
	eventually(t, "all 5000 arrive once HEC is back", func() bool { return r.Count() >= 5000 })
	checkArrivals(t, r.Events(), messages(5000), nil)
}
