// SPDX-License-Identifier: Apache-2.0

package hec_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// A commit returns once its batch is in the window, not when HEC answers:
// with HEC 200 ms away, many commits are answered by few round trips, and
// each event arrives once.
func TestCommitsDoNotWaitForHEC(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{Delay: 200 * time.Millisecond})
	s := newSender(t, r.URL(), nil)
	// Commits of 256 (rsyslog's batches are of that order): two do not
	// fit a request of batch.maxevents (500) whole.
	for i := range 40 {
		if err := s.Deliver(messagesFrom(i*256, 256), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(40*256), nil)
	// The first places (4) take one commit each; the commits that queued
	// meanwhile fill requests of 500, a commit split where it must.
	st := r.Stats()
	if st.Requests > 30 || st.MaxEventsPerRequest != 500 {
		t.Fatalf("%d requests for 40 commits of 256, at most %d events in one: the senders fill requests from queued commits",
			st.Requests, st.MaxEventsPerRequest)
	}
}

// A full window while HEC takes nothing hands the commit back at once (a
// dead destination must not hold up rsyslog's queue one window.maxwait per
// commit); Probe says so too. Memory stays bounded; once HEC is back
// everything held arrives and commits are taken again. A full window of a
// HEC that takes data, only slower, makes the commit wait window.maxwait.
func TestFullWindowSuspends(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	s := newSender(t, r.URL(), func(c *hec.Config) {
		c.WindowMaxEvents, c.WindowMaxWait, c.RetryMaxTime = 100, 200*time.Millisecond, time.Hour
	})
	var ctrs hec.Counters
	s.AttachCounters(&ctrs)
	if err := s.Deliver(messages(100), nil); err != nil {
		t.Fatal(err)
	}
	// A request HEC cannot take waits in the window as data: at most the
	// one try is in flight.
	eventually(t, "the gauges show the window held and at most one request under way", func() bool {
		return atomic.LoadUint64(&ctrs[hec.CtrWindowEvents]) == 100 && atomic.LoadUint64(&ctrs[hec.CtrWindowBytes]) > 100*12 &&
			atomic.LoadUint64(&ctrs[hec.CtrInFlight]) <= 1 && atomic.LoadUint64(&ctrs[hec.CtrLimit]) >= 1
	})
	start := time.Now()
	err := s.Deliver(messagesFrom(100, 50), nil)
	if !errors.Is(err, hec.ErrSuspend) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("commit into a full window of a HEC that takes nothing: %v after %v", err, time.Since(start))
	}
	if err := s.Probe(); !errors.Is(err, hec.ErrSuspend) {
		t.Fatalf("Probe with a full window: %v", err)
	}
	r.SetFaults(hecreceiver.Faults{})
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	if err := deliver(s, messagesFrom(100, 50), nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(150), nil)
	// Slow, not down: the commit waits for room.
	r.SetFaults(hecreceiver.Faults{Delay: time.Second})
	if err := s.Deliver(messagesFrom(150, 100), nil); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	err = s.Deliver(messagesFrom(250, 50), nil)
	if !errors.Is(err, hec.ErrSuspend) || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("commit into a full window of a slow HEC: %v after %v", err, time.Since(start))
	}
}

// When rsyslog stops while a commit waits for room, the batch goes to the
// window's files past the bound (rsyslog would drop it), and the next
// start sends it with the rest.
func TestFullWindowAtStopKeepsTheBatch(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	cfg := func(c *hec.Config) {
		c.WindowDir, c.ActionID, c.WindowMaxEvents, c.RetryMaxTime = dir, "a", 100, time.Hour
	}
	s := newSender(t, r.URL(), cfg)
	if err := s.Deliver(messages(100), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(messagesFrom(100, 50), func() bool { return true }); err != nil {
		t.Fatalf("commit into a full window during a stop: %v", err)
	}
	s.Close()
	if st := s.Stats(); st.Spooled != 150 {
		t.Fatalf("stats %+v, want 150 left in the files", st)
	}
	r.SetFaults(hecreceiver.Faults{})
	s2 := newSender(t, r.URL(), cfg)
	if err := s2.Drain(nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), messages(150), nil)
	if files, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

// A damaged window file yields the events of its intact records; the
// damaged bytes are set aside in a .bad file.
func TestDamagedWindowFileYieldsIntactEvents(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	cfg := func(c *hec.Config) { c.WindowDir, c.ActionID, c.RetryMaxTime = dir, "a", time.Hour }
	s := newSender(t, r.URL(), cfg)
	for i := range 3 {
		if err := s.Deliver(messagesFrom(i*10, 10), nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	data, _ := os.ReadFile(files[0])
	third := len(data) / 3
	data[third+third/2] ^= 0xff // inside the second batch's record
	os.WriteFile(files[0], data, 0o600)
	r.SetFaults(hecreceiver.Faults{})
	s2, rec := recordingSender(t, r.URL(), cfg)
	if err := s2.Drain(nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, r.Events(), append(messages(10), messagesFrom(20, 10)...), nil)
	bad, _ := filepath.Glob(filepath.Join(dir, "*.bad"))
	if len(bad) != 1 || rec.count("is damaged", "sending its 2 intact requests") != 1 {
		t.Fatalf(".bad files %v, log %q", bad, rec.lines)
	}
}

// An endpoint that answers after 2 s gets the share it can serve, the
// other the rest: the batch does not wait for the slow one's turns.
func TestSlowEndpointGetsItsShare(t *testing.T) {
	good := receiver(t, hecreceiver.Config{})
	slow := receiver(t, hecreceiver.Config{})
	slow.SetFaults(hecreceiver.Faults{Delay: 2 * time.Second})
	s := newSender(t, good.URL()+","+slow.URL(), func(c *hec.Config) { c.BatchMaxEvents = 100 })
	for i := range 100 {
		if err := s.Deliver(messagesFrom(i*200, 200), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	checkArrivals(t, append(good.Events(), slow.Events()...), messages(20000), nil)
	if slow.Count() >= good.Count() {
		t.Fatalf("the slow endpoint took %d events, the good one %d", slow.Count(), good.Count())
	}
}

// An unnamed action's files are named after its destination: another
// unnamed action (another token) in the same directory does not send them,
// and they are reported as no action's.
func TestUnnamedActionsKeepTheirOwnFiles(t *testing.T) {
	r := receiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	// The first action to use the directory reports on it, a few seconds
	// after its start, through its logger (in rsyslog all log alike).
	a, rec := recordingSender(t, r.URL(), func(c *hec.Config) { c.WindowDir, c.Index, c.RetryMaxTime = dir, "a_index", time.Hour })
	if err := a.Deliver(messages(30), nil); err != nil {
		t.Fatal(err)
	}
	a.Close()
	r.SetFaults(hecreceiver.Faults{})
	b := newSender(t, r.URL(), func(c *hec.Config) { c.WindowDir, c.Index = dir, "b_index" })
	if err := deliver(b, messagesFrom(100, 5), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a's file is reported", func() bool { return rec.count("1 window files", "(30 events)") == 1 })
	checkArrivals(t, r.Events(), messagesFrom(100, 5), nil)
	if b.Stats().Replayed != 0 {
		t.Fatalf("b replayed %d of a's events", b.Stats().Replayed)
	}
}
