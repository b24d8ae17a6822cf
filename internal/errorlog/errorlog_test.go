// SPDX-License-Identifier: Apache-2.0

package errorlog

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func errLine(i int, index string, code int, at time.Time) string {
	return fmt.Sprintf(`{"time":%q,"reason":"HTTP 400, HEC code %d \"Incorrect index\"","http_status":400,"hec_code":%d,`+
		`"event":{"time":1700000000,"index":%q,"event":"m%d"}}`+"\n", at.UTC().Format(time.RFC3339Nano), code, code, index, i)
}

func events(t *testing.T, path string, f Filter, d *Done) []string {
	t.Helper()
	var out []string
	_, err := Scan(path, func(l *Line) error {
		if (d == nil || !d.Has(l.Key, l.Off)) && f.Match(l) {
			out = append(out, string(l.Event[strings.Index(string(l.Event), `"event":`)+8:len(l.Event)-1]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Rotated copies are read oldest first, compressed ones too; the replay's
// record is never taken for one.
func TestRotatedCopiesOldestFirst(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rejected.json")
	now := time.Now()
	write := func(name string, i int, gz bool) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if gz {
			z := gzip.NewWriter(f)
			z.Write([]byte(errLine(i, "a", 7, now)))
			z.Close()
			return
		}
		f.Write([]byte(errLine(i, "a", 7, now)))
	}
	write("rejected.json", 0, false)
	write("rejected.json.1", 1, false)
	write("rejected.json.2.gz", 2, true)
	write("rejected.json.10.gz", 10, true)
	write("rejected.json"+DoneSuffix, 99, false)
	write("rejected.jsonx", 98, false)
	got := Rotated(p)
	want := []string{"rejected.json.10.gz", "rejected.json.2.gz", "rejected.json.1", "rejected.json"}
	if len(got) != len(want) {
		t.Fatalf("rotated %v, want %v", got, want)
	}
	for i := range want {
		if filepath.Base(got[i]) != want[i] {
			t.Fatalf("rotated %v, want %v", got, want)
		}
	}
	if evs := events(t, got[0], Filter{}, nil); len(evs) != 1 || evs[0] != `"m10"` {
		t.Fatalf("the gzip copy reads %v", evs)
	}
}

// Filters by code, index (none: "-"), reason and time; a line being
// written (no newline yet) and a line that is not the error file's are
// left out.
func TestFilterAndPartialLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rejected.json")
	old := time.Now().Add(-48 * time.Hour)
	now := time.Now()
	body := errLine(0, "a", 7, old) + errLine(1, "b", 7, now) + errLine(2, "", 6, now) + "not json\n" +
		strings.TrimSuffix(errLine(3, "a", 7, now), "\n")
	os.WriteFile(p, []byte(body), 0o600)
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, `"m0" "m1" "m2"`},
		{Filter{Code: 7}, `"m0" "m1"`},
		{Filter{Index: "b"}, `"m1"`},
		{Filter{Index: "-"}, `"m2"`},
		{Filter{Reason: "incorrect INDEX"}, `"m0" "m1" "m2"`},
		{Filter{Reason: "code 6"}, `"m2"`},
		{Filter{Since: now.Add(-time.Hour)}, `"m1" "m2"`},
		{Filter{Until: now.Add(-time.Hour)}, `"m0"`},
	} {
		if got := strings.Join(events(t, p, c.f, nil), " "); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
	bad, _ := Scan(p, func(*Line) error { return nil })
	if bad != 1 {
		t.Errorf("%d unreadable lines, want 1", bad)
	}
}

// Marks survive a reopen; a record cut short by a kill counts for
// nothing (its offsets may be cut too: "12" of "128" must not mark the
// line at 12); a file renamed by rotation keeps its marks.
func TestDoneRecord(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rejected.json")
	var body string
	for i := range 5 {
		body += errLine(i, "a", 7, time.Now())
	}
	os.WriteFile(p, []byte(body), 0o600)
	var all []*Line
	Scan(p, func(l *Line) error { all = append(all, l); return nil })
	state := p + DoneSuffix
	d, err := OpenDone(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Mark(all[:2]); err != nil {
		t.Fatal(err)
	}
	d.Close()
	// A kill in the middle of the next record.
	cut := fmt.Sprintf("%s %d %d", all[2].Key, all[2].Off, all[3].Off/10)
	f, _ := os.OpenFile(state, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(cut)
	f.Close()
	os.Rename(p, p+".1")
	d, err = OpenDone(state)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(events(t, p+".1", Filter{}, d), " "); got != `"m2" "m3" "m4"` {
		t.Fatalf("left to send after the cut record: %s", got)
	}
	if err := d.Mark(all[2:3]); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d2, err := OpenDone(state)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if got := strings.Join(events(t, p+".1", Filter{}, d2), " "); got != `"m3" "m4"` {
		t.Fatalf("left after a mark following a cut record: %s", got)
	}
}

// The record is the replay's alone: a second replay of the same files at
// once is refused, and a symbolic link planted at its name (the error
// file's directory is rsyslogd's to write) is never followed, nor is one
// among the rotated copies.
func TestRecordAndCopiesAreNotHijacked(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rejected.json")
	os.WriteFile(p, []byte(errLine(0, "a", 7, time.Now())), 0o600)
	d, err := OpenDone(p + DoneSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDone(p + DoneSuffix); err == nil || !strings.Contains(err.Error(), "another replay") {
		t.Fatalf("a second replay at once: %v", err)
	}
	d.Close()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	other := filepath.Join(dir, "other.json")
	os.Symlink(victim, other+DoneSuffix)
	if _, err := OpenDone(other + DoneSuffix); err == nil {
		t.Fatal("the record followed a symbolic link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the link's target changed: %q", b)
	}
	secret := filepath.Join(dir, "secret.json")
	os.WriteFile(secret, []byte(errLine(1, "s", 7, time.Now())), 0o600)
	os.Symlink(secret, p+".1")
	if _, err := Scan(p+".1", func(*Line) error { return nil }); err == nil {
		t.Fatal("a rotated copy that is a symbolic link was read")
	}
}
