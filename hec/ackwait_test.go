// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// recordingReceiver starts a receiver that records every event, with
// faults f, stopped when the test ends.
func recordingReceiver(t *testing.T, cfg hecreceiver.Config, f hecreceiver.Faults) *hecreceiver.Receiver {
	t.Helper()
	cfg.Record = true
	r, err := hecreceiver.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	r.SetFaults(f)
	return r
}

func ackReceiver(t *testing.T, f hecreceiver.Faults) *hecreceiver.Receiver {
	t.Helper()
	return recordingReceiver(t, hecreceiver.Config{RequireAck: true}, f)
}

func testSender(t *testing.T, url string, mod func(*Config)) *Sender {
	t.Helper()
	c, err := ParseOptions(map[string]string{OptServer: url, OptToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	c.WindowDir, c.ActionID = t.TempDir(), "a"
	mod(&c)
	var mu sync.Mutex
	quiet := false
	s, err := NewSender(c, func(_ int, m string) {
		mu.Lock()
		defer mu.Unlock()
		if !quiet {
			t.Log(m)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		mu.Lock()
		quiet = true
		mu.Unlock()
	})
	return s
}

func drainWithin(t *testing.T, s *Sender, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	if err := s.Drain(func() bool { return time.Now().After(end) }); err != nil {
		ev, _ := s.win.held()
		t.Fatalf("window not empty after %s (%d events held): %v", d, ev, err)
	}
}

func onceEach(t *testing.T, r *hecreceiver.Receiver, prefix string, n int) (dups int) {
	t.Helper()
	got := map[string]int{}
	for _, ev := range r.Events() {
		got[ev.Event]++
	}
	for i := range n {
		e := fmt.Sprintf("%s%d", prefix, i)
		if got[e] == 0 {
			t.Fatalf("%s lost", e)
		}
		dups += got[e] - 1
	}
	return dups
}

// Requests awaiting their ack are held in the window's files, not in
// memory: with a window of 2,000 events in memory and acks 1.5 s late,
// 20,000 events reach HEC before most of their acks come (holding them in
// memory until the ack, the window would let 2,000 out per ack delay).
func TestAcksFarAwayCostDiskNotMemory(t *testing.T) {
	r := ackReceiver(t, hecreceiver.Faults{Delay: 20 * time.Millisecond, AckDelay: 1500 * time.Millisecond})
	s := testSender(t, r.URL(), func(c *Config) {
		c.UseAck, c.AckInterval, c.WindowMaxEvents, c.BatchMaxEvents = true, 50*time.Millisecond, 2000, 100
	})
	const n = 20000
	peakDisk, peakMem := 0, 0
	sample := func() {
		s.win.mu.Lock()
		peakDisk = max(peakDisk, s.win.disk.events)
		peakMem = max(peakMem, s.win.events-s.win.disk.events)
		s.win.mu.Unlock()
	}
	for i := 0; i < n; i += 100 {
		if err := s.Deliver(msgs(i, 100), nil); err != nil {
			t.Fatal(err)
		}
		sample()
	}
	for end := time.Now().Add(30 * time.Second); r.Count() < n && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		sample()
	}
	st := r.Stats()
	if r.Count() < n || st.AckedTrue*2 > st.Requests {
		t.Fatalf("%d of %d events reached HEC, %d of %d requests acknowledged by then: requests awaiting their ack "+
			"held up the window", r.Count(), n, st.AckedTrue, st.Requests)
	}
	if peakDisk <= 2000 || peakMem > 2000+100 {
		t.Fatalf("peak in the files only %d events, in memory %d (window.maxevents 2000)", peakDisk, peakMem)
	}
	drainWithin(t, s, 30*time.Second)
	if dups := onceEach(t, r, "m", n); dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}
	if got := s.stats.get(CtrDelivered); got != n {
		t.Fatalf("delivered counter %d, want %d", got, n)
	}
	s.Close()
	if files, _ := filepath.Glob(filepath.Join(s.cfg.WindowDir, "*.seg")); len(files) != 0 {
		t.Fatalf("files left with every event acknowledged: %v", files)
	}
}

// Splunk 10.4's ackExpiryMode=expire_at_90 drops a full channel's oldest
// pending ackIds: those requests go again once later ids of the channel
// are acknowledged, counted as ack.expired, not as ack timeouts, and
// nothing is lost.
func TestExpiredAcksAreResentAndCountedApart(t *testing.T) {
	r := ackReceiver(t, hecreceiver.Faults{AckDelay: 300 * time.Millisecond, AckChannelMax: 10})
	s := testSender(t, r.URL(), func(c *Config) {
		c.UseAck, c.AckInterval, c.AckTimeout, c.BatchMaxEvents, c.Connections = true, 50*time.Millisecond, time.Minute, 10, 1
	})
	s.acks.Grace = 500 * time.Millisecond
	const n = 300
	for i := 0; i < n; i += 10 {
		if err := s.Deliver(msgs(i, 10), nil); err != nil {
			t.Fatal(err)
		}
	}
	drainWithin(t, s, 45*time.Second)
	dups := onceEach(t, r, "m", n)
	expired, timeouts := s.stats.get(CtrAckExpired), s.stats.get(CtrAckTimeouts)
	if r.Stats().AcksExpired == 0 || expired == 0 || timeouts != 0 {
		t.Fatalf("receiver evicted %d ackIds; ack.expired %d, ack.timeouts %d", r.Stats().AcksExpired, expired, timeouts)
	}
	if dups > int(expired)*10 {
		t.Fatalf("%d duplicates for %d resent requests of 10", dups, expired)
	}
	t.Logf("%d ackIds evicted, %d requests resent, %d duplicates", r.Stats().AcksExpired, expired, dups)
}

// A window file an earlier run left is adopted with all its records
// pending: once the first is delivered the file stays for the rest, and
// a stop then leaves them for the next start, which skips the delivered
// one (marked done).
func TestReplayedFileKeepsItsUndoneRecords(t *testing.T) {
	r := recordingReceiver(t, hecreceiver.Config{}, hecreceiver.Faults{})
	dir := t.TempDir()
	mod := func(c *Config) { c.WindowDir, c.BatchMaxEvents, c.RetryMaxTime = dir, 10, time.Second }
	body := func(i int) []byte {
		if i < 10 {
			return []byte(fmt.Sprintf("free-%d", i))
		}
		return []byte(fmt.Sprintf("hold-%d", i-10))
	}
	commit := func(s *Sender, first int) {
		m := msgs(0, 10)
		for k := range m {
			m[k].Body = body(first + k)
		}
		if err := s.Deliver(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	s1 := testSender(t, r.URL(), mod)
	for i := 0; i < 100; i += 10 {
		commit(s1, i) // ten records: free-0..9, then hold-0..89
	}
	s1.Close()
	r.SetFaults(hecreceiver.Faults{BusyMatch: "hold"})
	s2 := testSender(t, r.URL(), mod)
	r.WaitCount(10, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // its done mark is written
	s2.Close()
	if r.Count() != 10 {
		t.Fatalf("%d events arrived, want the 10 of the first record", r.Count())
	}
	r.SetFaults(hecreceiver.Faults{})
	s3 := testSender(t, r.URL(), mod)
	drainWithin(t, s3, 20*time.Second)
	if dups := onceEach(t, r, "hold-", 90) + onceEach(t, r, "free-", 10); dups != 0 {
		t.Fatalf("%d duplicates: the delivered record was sent again", dups)
	}
}

// window.fsync syncs each commit's write, once; without it, never.
func TestFsyncOncePerCommit(t *testing.T) {
	r := recordingReceiver(t, hecreceiver.Config{}, hecreceiver.Faults{})
	for _, fsync := range []bool{true, false} {
		s := testSender(t, r.URL(), func(c *Config) { c.WindowFsync = fsync })
		for i := range 20 {
			if err := s.Deliver(msgs(i*5, 5), nil); err != nil {
				t.Fatal(err)
			}
		}
		drainWithin(t, s, 10*time.Second)
		want := int64(0)
		if fsync {
			want = 20
		}
		if got := s.win.log.SyncCount(); got != want {
			t.Fatalf("window.fsync %v: %d syncs for 20 commits, want %d", fsync, got, want)
		}
	}
}

// A commit split over requests: its parts let go of their bodies while
// they await their acks and read them back, each its own events, to be
// sent again.
func TestSpilledPartsReadBack(t *testing.T) {
	c := defaultConfig()
	w := newWindow(&c, segment.Open(t.TempDir(), "p", segment.Options{}))
	a, b := testItem(0, 100), testItem(100, 300)
	want := append(append([]byte(nil), a.body...), b.body...)
	if err := w.persist([]*item{a, b}); err != nil {
		t.Fatal(err)
	}
	w.add([]*item{a, b})
	var parts []*item
	for len(w.queue) > 0 {
		parts = append(parts, w.take(250, 1<<20)...)
	}
	if len(parts) != 3 || parts[1].of == nil || parts[1].first != 0 || parts[2].first != 150 {
		t.Fatalf("%d parts", len(parts))
	}
	whole := parts[1].of
	w.spill(parts)
	if ev, _ := w.held(); ev != 400 || w.disk.events != 400 || whole.held.Load() != 0 || whole.body != nil {
		t.Fatalf("held %d, in the files %d, body held by %d parts", ev, w.disk.events, whole.held.Load())
	}
	if lost, err := w.load(parts); len(lost) != 0 || err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, p := range parts {
		got = append(got, p.body...)
	}
	if !bytes.Equal(got, want) || w.disk.events != 0 {
		t.Fatalf("read back %d bytes (want %d), %d events still only in the files", len(got), len(want), w.disk.events)
	}
	w.done(parts)
	if ev, size := w.held(); ev != 0 || size != 0 {
		t.Fatalf("held %d events, %d bytes", ev, size)
	}
}

// What awaits its ack is bounded by window.disk.maxevents: past it a
// commit waits for acks and, none coming within window.maxwait, is handed
// back saying which bound held it; once acks come, commits go again.
func TestDiskBoundHoldsCommits(t *testing.T) {
	r := ackReceiver(t, hecreceiver.Faults{AckDelay: 1500 * time.Millisecond})
	s := testSender(t, r.URL(), func(c *Config) {
		c.UseAck, c.AckInterval, c.BatchMaxEvents = true, 50*time.Millisecond, 100
		c.WindowDiskMaxEvents, c.WindowMaxWait = 300, 100*time.Millisecond
	})
	for i := 0; i < 300; i += 100 {
		if err := s.Deliver(msgs(i, 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	for end := time.Now().Add(5 * time.Second); s.awaitingAck.Load() < 300 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	err := s.Deliver(msgs(300, 100), nil)
	if err == nil || !strings.Contains(err.Error(), "window.disk.maxevents=300") {
		t.Fatalf("a commit past window.disk.maxevents: %v", err)
	}
	time.Sleep(2 * time.Second) // the acks come
	if err := s.Deliver(msgs(300, 100), nil); err != nil {
		t.Fatal(err)
	}
	drainWithin(t, s, 10*time.Second)
	if dups := onceEach(t, r, "m", 400); dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}
}

// A commit split over two requests: the part HEC took is marked done on
// its own, so that a restart sends only the other part, not the commit.
func TestDonePartIsNotSentAgain(t *testing.T) {
	r := recordingReceiver(t, hecreceiver.Config{}, hecreceiver.Faults{BusyMatch: "hold"})
	dir := t.TempDir()
	mod := func(c *Config) {
		// The first request waits to fill: the first commit and the
		// second's first 150 events.
		c.WindowDir, c.BatchMaxEvents, c.RetryMaxTime, c.BatchMaxDelay = dir, 250, time.Second, 300*time.Millisecond
	}
	s1 := testSender(t, r.URL(), mod)
	commit := func(first, n int, text func(i int) string) {
		m := msgs(0, n)
		for k := range m {
			m[k].Body = []byte(text(first + k))
		}
		if err := s1.Deliver(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	free := func(i int) string { return fmt.Sprintf("free-%d", i) }
	commit(0, 100, free)
	commit(100, 200, func(i int) string { // one record; its first 150 go with the first request
		if i < 250 {
			return free(i)
		}
		return fmt.Sprintf("hold-%d", i-250)
	})
	r.WaitCount(250, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // the done marks are written
	s1.Close()
	if r.Count() != 250 {
		t.Fatalf("%d events arrived, want the first request's 250", r.Count())
	}
	r.SetFaults(hecreceiver.Faults{})
	s2 := testSender(t, r.URL(), mod)
	drainWithin(t, s2, 20*time.Second)
	if dups := onceEach(t, r, "free-", 250) + onceEach(t, r, "hold-", 50); dups != 0 {
		t.Fatalf("%d duplicates: the part HEC took was sent again", dups)
	}
}
