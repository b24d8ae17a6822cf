// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
