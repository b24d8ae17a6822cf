// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func payloads(n int) []Record {
	var recs []Record
	for i := range n {
		recs = append(recs, Record{Payload: []byte(fmt.Sprintf("record %03d", i)), Events: i + 1})
	}
	return recs
}

// Records appended come back intact; a done file goes away.
func TestAppendReadDone(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir, "p", Options{SegmentBytes: 100})
	var segs []*Seg
	for _, r := range payloads(6) {
		sg, _, err := l.Append(nil, []Record{r})
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, sg)
	}
	files, _, _ := Files(dir, "p")
	if len(files) < 2 {
		t.Fatalf("%d files: a segment past SegmentBytes must roll", len(files))
	}
	var got []Record
	for _, f := range files {
		c, err := Read(f)
		if err != nil || len(c.Damage) != 0 {
			t.Fatal(err, c.Damage)
		}
		got = append(got, c.Records...)
	}
	for i, r := range payloads(6) {
		if !bytes.Equal(got[i].Payload, r.Payload) || got[i].Events != r.Events {
			t.Fatalf("record %d: %q/%d", i, got[i].Payload, got[i].Events)
		}
	}
	for i, sg := range segs {
		l.Done(sg, got[i].Off)
	}
	l.Close()
	if files, _, _ := Files(dir, "p"); len(files) != 0 {
		t.Fatalf("files left after every record was done: %v", files)
	}
}

// A file whose records are not all done stays at Close; the current one
// is emptied in place once all its records are done.
func TestPendingFilesStay(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir, "p", Options{Sync: true, EmptyAt: 1})
	recs := payloads(3)
	sg, _, err := l.Append(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		l.Done(sg, r.Off)
	}
	if fi, err := os.Stat(sg.Path); err != nil || fi.Size() != 0 {
		t.Fatalf("done current segment: %v %v", fi, err)
	}
	recs = payloads(2)
	sg, _, _ = l.Append(nil, recs)
	l.Done(sg, recs[0].Off)
	l.Close()
	c, err := Read(sg.Path)
	if err != nil || len(c.Records) != 2 {
		t.Fatalf("%d records, %v", len(c.Records), err)
	}
	// The done record is marked so (written at Close), the other not.
	if len(c.Marks) != 1 || c.Marks[0] != (Mark{Key: KeyOf(sg.Path), Off: c.Records[0].Off}) {
		t.Fatalf("marks %v, want record 0 of %v", c.Marks, KeyOf(sg.Path))
	}
	// A later process adopts the file and removes it once done.
	l2 := Open(dir, "p", Options{})
	a := l2.Adopt(sg.Path, 2)
	l2.Done(a, c.Records[0].Off)
	l2.Done(a, c.Records[1].Off)
	if _, err := os.Stat(sg.Path); !os.IsNotExist(err) {
		t.Fatalf("adopted file not removed: %v", err)
	}
}

// Damage anywhere costs only the records it touches: a torn tail, a
// flipped byte in the middle, garbage between records.
func TestDamagedFileYieldsIntactRecords(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir, "p", Options{})
	sg, _, err := l.Append(nil, payloads(5))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	data, _ := os.ReadFile(sg.Path)
	size := len(data) / 5 // every record has the same size
	flipped := append([]byte(nil), data...)
	flipped[2*size+headerLen+2] ^= 0xff // record 2's payload
	torn := data[:len(data)-3]
	garbage := append(append(append([]byte(nil), data[:2*size]...), []byte("OSG1 garbage OSG1")...), data[2*size:]...)
	for name, c := range map[string]struct {
		data []byte
		want []int
	}{
		"flipped": {flipped, []int{0, 1, 3, 4}},
		"torn":    {torn, []int{0, 1, 2, 3}},
		"garbage": {garbage, []int{0, 1, 2, 3, 4}},
	} {
		got := Parse(c.data)
		recs, dmg := got.Records, got.Damage
		if len(recs) != len(c.want) || len(dmg) != 1 {
			t.Fatalf("%s: %d records, damage %v", name, len(recs), dmg)
		}
		for i, k := range c.want {
			if want := fmt.Sprintf("record %03d", k); string(recs[i].Payload) != want {
				t.Fatalf("%s: record %d is %q, want %q", name, i, recs[i].Payload, want)
			}
		}
	}
	if got := CountEvents(filepath.Join(dir, "missing")); got != 0 {
		t.Fatal(got)
	}
	if got := CountEvents(sg.Path); got != 1+2+3+4+5 {
		t.Fatalf("%d events", got)
	}
}

// Files come back oldest first, whatever their names' lengths.
func TestFilesOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"p.20-1.seg", "p.100-2.seg", "p.100-10.seg", "q.1-1.seg", "p.5-3.hec"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	files, _, _ := Files(dir, "p")
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if fmt.Sprint(names) != "[p.20-1.seg p.100-2.seg p.100-10.seg]" {
		t.Fatal(names)
	}
}
