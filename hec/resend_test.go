// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// The seam replay finds window files by: a prefix or one of its files;
// anything not named like window files is refused; once the files are
// gone, their lock and destination record go too, nothing else.
func TestFindWindowFilesByPrefixOrFile(t *testing.T) {
	dir := t.TempDir()
	s := testSender(t, "http://127.0.0.1:1", func(c *Config) { c.WindowDir = dir; c.ActionID = "omsplunkgo-gone" })
	if err := s.Deliver(msgs(0, 10), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	prefix := filepath.Join(dir, "omsplunkgo-spool-omsplunkgo-gone")
	segs, _ := filepath.Glob(prefix + ".*.seg")
	if len(segs) == 0 {
		t.Fatal("no window files written")
	}
	for _, p := range []string{prefix, segs[0]} {
		w, err := FindWindowFiles(p)
		if err != nil || w.Prefix != "omsplunkgo-spool-omsplunkgo-gone" || w.Dir != dir || w.Events != 10 || w.Raw {
			t.Fatalf("%s: %+v, %v", p, w, err)
		}
	}
	if _, err := FindWindowFiles(filepath.Join(dir, "rsyslog.conf")); err == nil || !strings.Contains(err.Error(), "not the name of window files") {
		t.Fatalf("a file of another name: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "other.txt"), []byte("x"), 0o600)
	w, _ := FindWindowFiles(prefix)
	for _, f := range w.Files {
		os.Remove(f)
	}
	if left, err := Leftover(w); err != nil || len(left) != 0 {
		t.Fatalf("leftover %v, %v", left, err)
	}
	if names, _ := filepath.Glob(prefix + ".*"); len(names) != 0 {
		t.Fatalf("after the last file went: %v stay", names)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.txt")); err != nil {
		t.Fatalf("a file of another name went too: %v", err)
	}
}

// Resend: event objects go as they are, in requests of batch.maxevents; one
// HEC refuses again goes to the error file, which a standalone sender (the
// replay, run as root) never opens through a symbolic link planted at its
// name; the rest arrive.
func TestResendAndItsErrorFileIsNoLink(t *testing.T) {
	r := recordingReceiver(t, hecreceiver.Config{Indexes: []string{"main"}}, hecreceiver.Faults{})
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	link := filepath.Join(dir, "refused.json")
	os.Symlink(victim, link)
	s := testSender(t, r.URL(), func(c *Config) {
		c.WindowDir, c.ErrorFile, c.Standalone, c.PerMessageIndex, c.BatchMaxEvents = "", link, true, true, 2
	})
	evs := [][]byte{
		[]byte(`{"time":1700000000,"index":"main","event":"a"}`),
		[]byte(`{"time":1700000000,"index":"nope","event":"b"}`),
		[]byte(`{"time":1700000000,"index":"main","event":"c"}`),
	}
	if err := s.Resend(evs, nil); err != nil {
		t.Fatal(err)
	}
	drainWithin(t, s, 10*time.Second)
	got := r.Events()
	if len(got) != 2 || got[0].Event+got[1].Event != "ac" && got[0].Event+got[1].Event != "ca" || r.Stats().Requests < 2 {
		t.Fatalf("arrived %+v in %d requests (want a and c, at most 2 events a request)", got, r.Stats().Requests)
	}
	if st := s.Stats(); st.Rejected != 1 {
		t.Fatalf("rejected %d, want 1", st.Rejected)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the error file was written through the link: %q", b)
	}
}
