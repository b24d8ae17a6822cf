// SPDX-License-Identifier: Apache-2.0

package winfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every action name gets a file name of its own, within the filesystem's
// limits, and never one that another name's files could start with.
func TestNamesAreInjectiveAndShort(t *testing.T) {
	long := strings.Repeat("x", 230)
	names := []string{"a.b", "a_b", "a-b", "a b", "a/b", "a%2Eb", "a_2Eb", "a", "a.", "A", "ä", "..", "",
		long, long + "y", strings.Repeat("é", 200), strings.Repeat(".", 200), strings.Repeat(".", 201)}
	seen := map[string]string{}
	for _, n := range names {
		p := Name(n)
		if other, dup := seen[p]; dup {
			t.Fatalf("%q and %q share the name %q", n, other, p)
		}
		seen[p] = n
		// The longest file of a prefix: prefix.<unix nanos>-<seq>.seg.bad.99
		if l := len(p + ".1765000000000000000-18446744073709551615.seg.bad.99"); l > 255 {
			t.Fatalf("%q: a file name of %d bytes", n, l)
		}
		if strings.ContainsAny(p, "./\x00+") {
			t.Fatalf("%q: name %q holds a character that separates names", n, p)
		}
	}
	for p := range seen {
		for q := range seen {
			if p != q && strings.HasPrefix(p, q+".") {
				t.Fatalf("%q's files would be taken for %q's", p, q)
			}
		}
	}
	// Names of the characters that the old naming kept are what they were.
	for _, n := range []string{"splunk", "Splunk-2", "a1"} {
		if Name(n) != oldName(n) {
			t.Fatalf("%q: %q, the old naming gave %q", n, Name(n), oldName(n))
		}
	}
}

// The same action twice in one process gets a second name that no other
// action's name can be.
func TestClaimTwice(t *testing.T) {
	dir := t.TempDir()
	a, b := Claim(dir, "x"), Claim(dir, "x")
	c := Claim(dir, "x-2")
	defer a.Release()
	defer b.Release()
	defer c.Release()
	if a.Prefix == b.Prefix || b.Prefix == c.Prefix || a.Prefix == c.Prefix {
		t.Fatalf("prefixes %q %q %q", a.Prefix, b.Prefix, c.Prefix)
	}
}

// A lock is one process's, released when it lets go (or ends).
func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, err := TakeLock(dir, "p")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TakeLock(dir, "p")
	var held *HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second lock: %v", err)
	}
	if !Locked(dir, "p") {
		t.Fatal("Locked says no")
	}
	l.Release()
	if Locked(dir, "p") {
		t.Fatal("still locked after Release")
	}
	l2, err := TakeLock(dir, "p")
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

// A .bad file never follows a planted symbolic link nor overwrites.
func TestWriteBadIsSafe(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(outside, []byte("keep"), 0o600)
	os.Symlink(outside, filepath.Join(dir, "f.bad"))
	os.WriteFile(filepath.Join(dir, "f.bad.2"), []byte("earlier"), 0o600)
	got, err := WriteBad(filepath.Join(dir, "f.seg"), ".seg", []byte("damaged"))
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(dir, "f.bad.3") {
		t.Fatalf("written to %s", got)
	}
	for f, want := range map[string]string{outside: "keep", filepath.Join(dir, "f.bad.2"): "earlier", got: "damaged"} {
		if b, _ := os.ReadFile(f); string(b) != want {
			t.Fatalf("%s holds %q, want %q", f, b, want)
		}
	}
	if _, err := OpenRegular(filepath.Join(dir, "f.bad")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("OpenRegular through a link: %v", err)
	}
}

func TestIdentityKinship(t *testing.T) {
	own := IdentityOf([]string{"https://b:8088", "https://a:8088"}, "s3cr3t-tok", "main")
	if IdentityOf([]string{"https://a:8088", "https://b:8088"}, "s3cr3t-tok", "main") != own {
		t.Fatal("the order of the servers changed the identity")
	}
	for _, c := range []struct {
		file Identity
		want Kinship
	}{
		{IdentityOf([]string{"https://typo:8088"}, "s3cr3t-tok", "main"), ServersChanged},
		{IdentityOf([]string{"https://a:8088", "https://b:8088"}, "old", "main"), TokenChanged},
		{IdentityOf([]string{"https://typo:8088"}, "old", "main"), Unrelated},
		{IdentityOf([]string{"https://typo:8088"}, "s3cr3t-tok", "other"), Unrelated},
		{IdentityOf([]string{"https://a:8088", "https://b:8088"}, "old", "other"), Unrelated},
		{own, Unrelated}, // its own files are claimed by name, not adopted
	} {
		if got := c.file.KinOf(own); got != c.want {
			t.Errorf("kinship %v, want %v", got, c.want)
		}
	}
	dir := t.TempDir()
	if err := WriteIdentity(dir, "omsplunkgo-x", own); err != nil {
		t.Fatal(err)
	}
	if got, ok := ReadIdentity(dir, "omsplunkgo-x"); !ok || got != own {
		t.Fatalf("read back %+v, %v", got, ok)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "omsplunkgo-x.id"))
	if strings.Contains(string(b), "s3cr3t-tok") {
		t.Fatalf("the identity file holds the token: %s", b)
	}
	for _, crafted := range []string{`{"servers":"x","token":"y","index":"z"}`, `not json`, strings.Repeat(" ", 10000) + "{}"} {
		os.WriteFile(filepath.Join(dir, "omsplunkgo-y.id"), []byte(crafted), 0o600)
		if _, ok := ReadIdentity(dir, "omsplunkgo-y"); ok {
			t.Fatalf("a crafted identity %.40q was taken", crafted)
		}
	}
}

// The names on disk are a format: a release that named an action's files
// otherwise would leave the files of the one before it unclaimed. Named
// actions (the shim passes "omsplunkgo-" and the name) and unnamed ones
// (a hash of servers, token and index) keep these exact names.
func TestNamesOnDiskStay(t *testing.T) {
	for id, want := range map[string]string{
		"omsplunkgo-splunk":  "omsplunkgo-spool-omsplunkgo-splunk",
		"omsplunkgo-a.b":     "omsplunkgo-spool-omsplunkgo-a_2Eb",
		"omsplunkgo-fw east": "omsplunkgo-spool-omsplunkgo-fw_20east",
	} {
		if got := Name(id); got != want {
			t.Errorf("action %q: files named %q, earlier releases %q", id, got, want)
		}
	}
	c := Claim(t.TempDir(), "", "http://127.0.0.1:8088", "tok", "main")
	defer c.Release()
	if c.Prefix != "omsplunkgo-5ca2c2d8d16ee8a5" {
		t.Errorf("an unnamed action's files are named %q, earlier releases omsplunkgo-5ca2c2d8d16ee8a5", c.Prefix)
	}
}
