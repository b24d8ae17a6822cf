// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// crafted is a record payload whose checksum will hold but whose request
// is not one: event ends given as deltas that wrap around (ends 5 then 3),
// over a body of 3 bytes.
func crafted() []byte {
	p := binary.AppendUvarint(nil, 0) // no query
	p = binary.AppendUvarint(p, 2)
	p = binary.AppendUvarint(p, 5)
	p = binary.AppendUvarint(p, ^uint64(0)-1) // -2
	return append(p, "abc"...)
}

// Crafted records (ends out of order, past the body, no events, a count
// the header contradicts) next to intact ones: rsyslogd does not crash,
// the intact events are sent, the rest goes to a .bad file that is never
// written through a planted symbolic link, and a segment that is a
// symbolic link is reported, not followed.
func TestCraftedWindowFile(t *testing.T) {
	r, err := hecreceiver.Start(hecreceiver.Config{Record: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir, outside := t.TempDir(), t.TempDir()
	prefix := "omsplunkgo-spool-a"
	good1, good2 := testItem(0, 5), testItem(5, 5)
	zero := binary.AppendUvarint(binary.AppendUvarint(nil, 0), 0)
	past := binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(nil, 0), 1), 99)
	data := segment.Frame(nil, []segment.Record{
		{Payload: encodeItem(nil, good1), Events: 5},
		{Payload: crafted(), Events: 2},
		{Payload: append(zero, "x"...), Events: 0},
		{Payload: append(past, "short"...), Events: 1},
		{Payload: encodeItem(nil, testItem(100, 2)), Events: 7}, // count contradicts
		{Payload: encodeItem(nil, good2), Events: 5},
	})
	seg := filepath.Join(dir, prefix+".1-1"+segment.Ext)
	if err := os.WriteFile(seg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(outside, "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	os.Symlink(victim, filepath.Join(dir, prefix+".1-1.bad"))
	os.Symlink(victim, filepath.Join(dir, prefix+".2-2"+segment.Ext))

	c, err := ParseOptions(map[string]string{OptServer: r.URL(), OptToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	c.WindowDir, c.ActionID = dir, "a"
	var mu sync.Mutex
	var lines []string
	s, err := NewSender(c, func(_ int, m string) { mu.Lock(); lines = append(lines, m); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Drain(nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	var got []string
	for _, ev := range r.Events() {
		got = append(got, ev.Event)
	}
	if want := "e0 e1 e2 e3 e4 e5 e6 e7 e8 e9"; strings.Join(got, " ") != want {
		t.Fatalf("received %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("the file behind the planted link now holds %q", b)
	}
	bad, err := os.ReadFile(filepath.Join(dir, prefix+".1-1.bad.2"))
	if err != nil || len(bad) == 0 {
		t.Fatalf("the unusable records were not set aside: %v", err)
	}
	mu.Lock()
	log := strings.Join(lines, "\n")
	mu.Unlock()
	for _, want := range []string{"3 unusable records", "no regular file"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, prefix+".2-2"+segment.Ext)); err != nil {
		t.Fatalf("the symlinked segment was removed: %v", err)
	}
}

// Batches accepted while the window's files failed are written to them at
// a stop, once they can be, and the next start sends them; requests on
// the wire at the stop among them.
func TestMemoryOnlyBatchesAreKeptAtStop(t *testing.T) {
	r := recordingReceiver(t, hecreceiver.Config{}, hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	dir := t.TempDir()
	c, err := ParseOptions(map[string]string{OptServer: r.URL(), OptToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	c.WindowDir, c.ActionID, c.BatchMaxEvents = dir, "a", 10
	var mu sync.Mutex
	var lines []string
	logf := func(_ int, m string) { mu.Lock(); lines = append(lines, m); mu.Unlock() }
	s, err := NewSender(c, logf)
	if err != nil {
		t.Fatal(err)
	}
	files := s.win.log
	s.win.log = segment.Open(filepath.Join(dir, "gone"), "x", segment.Options{}) // every write fails
	for i := range 10 {
		if err := s.Deliver(msgs(i*10, 10), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.stats.get(CtrWindowNoFile); n != 100 {
		t.Fatalf("window.nofile = %d, want 100", n)
	}
	time.Sleep(300 * time.Millisecond) // some requests on the wire and waiting
	s.win.log = files                  // the disk is back by the stop
	s.Close()
	r.SetFaults(hecreceiver.Faults{})
	s2, err := NewSender(c, logf)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Drain(nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ev := range r.Events() {
		got[ev.Event]++
	}
	for i := range 100 {
		if e := fmt.Sprintf("m%d", i); got[e] != 1 {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%s arrived %d times; log:\n%s", e, got[e], strings.Join(lines, "\n"))
		}
	}
}

// msgs numbers n messages m<first>... as the event text.
func msgs(first, n int) []Message {
	out := make([]Message, n)
	for i := range out {
		out[i] = Message{Time: []byte("1700000000.000000"), Host: []byte("h"), Body: []byte(fmt.Sprintf("m%d", first+i))}
	}
	return out
}
