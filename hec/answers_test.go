// SPDX-License-Identifier: Apache-2.0

package hec_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// HEC's answers as Splunk 10.4 and Cloud 10.5 mean them (the receiver
// answers as measured there): each test checks every message by identity.

// Splunk Cloud answers a body over its cap with code 6 naming object 0:
// the request is split, and no good event is called bad.
func TestBodyCapIsSplitNotRejected(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{BodyCap: 2000})
	errFile := filepath.Join(t.TempDir(), "rejects.json")
	s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxBytes = 1 << 20; c.ErrorFile = errFile })
	if err := deliver(s, messages(200), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(200), nil)
	if s.Stats().Rejected != 0 || r.Stats().Rejected == 0 {
		t.Fatalf("%d events set aside (want 0); the cap answered %d requests", s.Stats().Rejected, r.Stats().Rejected)
	}
}

// A 200 with a capacity warning (code 24) took the events: never resent;
// a 429 (code 26) is retried.
func TestBusyAnswers(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{CapacityWarning: true})
	s, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 50 })
	if err := deliver(s, messages(200), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(200), nil)
	if st := r.Stats(); st.Requests != 4 || s.Stats().Delivered != 200 || rec.count("near capacity") != 1 {
		t.Fatalf("%d requests for 4 batches, %d delivered; log %q", st.Requests, s.Stats().Delivered, rec.lines)
	}

	r2 := receiver(t, hecreceiver.Config{})
	r2.SetFaults(hecreceiver.Faults{Busy429Rate: 0.3})
	s2 := newSender(t, r2.URL(), func(c *hec.Config) { c.BatchMaxEvents = 20 })
	if err := deliver(s2, messages(400), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r2.Events(), messages(400), nil)
	if r2.Stats().Failed == 0 {
		t.Fatal("no 429 was answered; the test proves nothing")
	}
}

// On an ack token a partly refused request's prefix counts only once its
// ackId is acknowledged; when that ack is lost, the prefix is sent again
// (a duplicate, never a loss).
func TestRefusedPrefixWaitsForItsAck(t *testing.T) {
	r := receiver(t, hecreceiver.Config{RequireAck: true})
	r.SetFaults(hecreceiver.Faults{RejectMatch: "message 000005", AckDelay: 100 * time.Millisecond})
	s := newSender(t, r.URL(), func(c *hec.Config) {
		c.UseAck, c.AckInterval, c.AckTimeout = true, 20*time.Millisecond, time.Second
	})
	if err := deliver(s, messages(10), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(10), func(i int) int { return map[bool]int{true: 0, false: 1}[i == 5] })
	if st := r.Stats(); st.Requests != 2 || st.AckedTrue != 2 || s.Stats().Delivered != 9 || s.Stats().Rejected != 1 {
		t.Fatalf("receiver %+v, sender %+v: the prefix's ack and the rest's", st, s.Stats())
	}

	r2 := receiver(t, hecreceiver.Config{RequireAck: true})
	r2.SetFaults(hecreceiver.Faults{RejectMatch: "message 000005", AckLossRate: 1})
	s2 := newSender(t, r2.URL(), func(c *hec.Config) {
		c.UseAck, c.AckInterval, c.AckTimeout = true, 20*time.Millisecond, time.Second
	})
	start := time.Now()
	err := deliver(s2, messages(10), func() bool { return time.Since(start) > 2500*time.Millisecond })
	if err == nil {
		t.Fatal("no ack ever came, yet the batch was reported delivered")
	}
	if s2.Stats().Delivered != 0 || r2.Stats().Requests < 2 {
		t.Fatalf("%d events counted delivered without their ack, %d requests (want the prefix sent again)",
			s2.Stats().Delivered, r2.Stats().Requests)
	}
}

// Health codes 18-20 set an endpoint aside with HEC's reason, and the
// other endpoint takes every event.
func TestUnhealthyEndpointIsSetAsideWithItsReason(t *testing.T) {
	good := receiver(t, hecreceiver.Config{})
	sick := receiver(t, hecreceiver.Config{})
	sick.SetFaults(hecreceiver.Faults{HealthCode: 18})
	s, rec := recordingSender(t, good.URL()+","+sick.URL(), func(c *hec.Config) { c.BatchMaxEvents = 10 })
	for i := range 10 {
		if err := deliver(s, messagesFrom(i*10, 10), nil); err != nil {
			t.Fatal(err)
		}
	}
	checkArrivals(t, good.Events(), messages(100), nil)
	if sick.Stats().Requests != 0 || rec.count("set aside", "queues are full") != 1 {
		t.Fatalf("the unhealthy endpoint got %d requests; log %q", sick.Stats().Requests, rec.lines)
	}
}

// No request carries a top-level key HEC does not know, whatever the
// options and metadata: Splunk would answer 200 and drop every event from
// that one on. The receiver cuts a request there, as Splunk does, and
// records each event's keys.
func TestNoEventCarriesAnUnknownKey(t *testing.T) {
	known := map[string]bool{"time": true, "host": true, "source": true, "sourcetype": true, "index": true,
		"event": true, "fields": true}
	for _, fixed := range []bool{false, true} {
		for _, tplJSON := range []bool{false, true} {
			t.Run(fmt.Sprintf("fixed=%v,template.json=%v", fixed, tplJSON), func(t *testing.T) {
				r := receiver(t, hecreceiver.Config{})
				s := newSender(t, r.URL(), func(c *hec.Config) {
					if fixed {
						c.Index, c.Source, c.Sourcetype, c.Host = "main", "src", "st", "h"
					}
					c.TemplateJSON = tplJSON
				})
				msgs := messages(32)
				for i := range msgs {
					m := &msgs[i]
					if i&1 != 0 {
						m.Meta.Index = []byte("idx")
					}
					if i&2 != 0 {
						m.Meta.Sourcetype, m.Meta.Source = []byte("mst"), []byte("msrc")
					}
					if i&4 != 0 {
						m.Meta.Host = []byte("mh")
					}
					if i&8 != 0 {
						m.Meta.Fields = []byte(`{"k":"v"}`)
					}
					if i&16 != 0 {
						m.Body = []byte(fmt.Sprintf(`{"msg":"message %06d","nested":{"a":1}}`, i))
					}
				}
				want := make([]hec.Message, len(msgs))
				copy(want, msgs)
				if err := deliver(s, msgs, nil); err != nil {
					t.Fatal(err)
				}
				if r.Stats().Cut != 0 {
					t.Fatalf("%d requests held an unknown key", r.Stats().Cut)
				}
				for _, ev := range r.Events() {
					for _, k := range ev.Keys {
						if !known[k] {
							t.Fatalf("event %+v has the key %q", ev, k)
						}
					}
				}
				if len(r.Events()) != len(want) {
					t.Fatalf("%d of %d events arrived", len(r.Events()), len(want))
				}
			})
		}
	}
}

// Indexer acknowledgement through a cookie-sticky load balancer in front of
// two indexers (ackIds collide across them): the balancer's cookie goes
// back on every request and ack poll of its channel, so every ack is asked
// of the indexer that gave it, even when the balancer demands the cookie.
func TestAcksThroughAStickyBalancer(t *testing.T) {
	a := receiver(t, hecreceiver.Config{RequireAck: true})
	b := receiver(t, hecreceiver.Config{RequireAck: true})
	lb, err := hecreceiver.StartBalancer(hecreceiver.BalancerConfig{Backends: []*hecreceiver.Receiver{a, b}, RequireCookie: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	s := newSender(t, lb.URL(), func(c *hec.Config) {
		c.UseAck, c.AckInterval, c.AckTimeout, c.BatchMaxEvents = true, 20*time.Millisecond, 2*time.Second, 50
		c.RetryMaxTime = 5 * time.Second // a refusing balancer fails the test in seconds
	})
	for i := range 20 {
		if err := deliver(s, messagesFrom(i*100, 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	checkArrivals(t, append(a.Events(), b.Events()...), messages(2000), nil)
	if s.Stats().AckTimeouts != 0 || a.Count() == 0 || b.Count() == 0 {
		t.Fatalf("ack timeouts %d (want 0), a=%d b=%d (want both used)", s.Stats().AckTimeouts, a.Count(), b.Count())
	}
}

// When the balancer moves a channel to the other indexer, the acks pending
// on it are not asked of an indexer that never gave them: the channel is
// renewed and its requests go again (duplicates, never a loss), counted.
func TestBalancerMovingAChannelLosesNothing(t *testing.T) {
	a := receiver(t, hecreceiver.Config{RequireAck: true})
	b := receiver(t, hecreceiver.Config{RequireAck: true})
	a.SetFaults(hecreceiver.Faults{AckDelay: 50 * time.Millisecond})
	b.SetFaults(hecreceiver.Faults{AckDelay: 50 * time.Millisecond})
	lb, err := hecreceiver.StartBalancer(hecreceiver.BalancerConfig{Backends: []*hecreceiver.Receiver{a, b}, MoveEvery: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	var ctrs hec.Counters
	s := newSender(t, lb.URL(), func(c *hec.Config) {
		c.UseAck, c.AckInterval, c.AckTimeout, c.BatchMaxEvents = true, 20*time.Millisecond, 2*time.Second, 20
		c.RetryMaxTime = 5 * time.Second
	})
	s.AttachCounters(&ctrs)
	for i := range 20 {
		if err := deliver(s, messagesFrom(i*100, 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for _, ev := range append(a.Events(), b.Events()...) {
		got[ev.Event]++
	}
	for _, m := range messages(2000) {
		if got[string(m.Body)] == 0 {
			t.Fatalf("%q lost", m.Body)
		}
	}
	if lb.Moved() == 0 || atomic.LoadUint64(&ctrs[hec.CtrAckChannelMoves]) == 0 {
		t.Fatalf("balancer moved %d requests, module counted %d channel moves", lb.Moved(), ctrs[hec.CtrAckChannelMoves])
	}
}
