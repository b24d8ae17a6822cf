// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"bytes"
	"testing"
	"time"
)

// doneAfterCrash reads every file of the log as a restart would (without
// a Close) and returns the marked offsets per file key.
func doneAfterCrash(t *testing.T, dir string) (map[Key]map[int64]bool, int) {
	t.Helper()
	files, _, _ := Files(dir, "p")
	marked := map[Key]map[int64]bool{}
	recs := 0
	for _, f := range files {
		c, err := Read(f)
		if err != nil || len(c.Damage) > 0 {
			t.Fatal(err, c.Damage)
		}
		recs += len(c.Records)
		for _, m := range c.Marks {
			if marked[m.Key] == nil {
				marked[m.Key] = map[int64]bool{}
			}
			marked[m.Key][m.Off] = true
		}
	}
	return marked, recs
}

// A done record is marked in the files without a Close: by the next
// append's write, or on its own within markDelay when none comes.
func TestDoneMarksReachTheFiles(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir, "p", Options{})
	recs := payloads(4)
	sg, _, err := l.Append(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	l.Done(sg, recs[1].Off)
	more := payloads(1)
	if _, _, err := l.Append(nil, more); err != nil { // carries the mark
		t.Fatal(err)
	}
	marked, n := doneAfterCrash(t, dir)
	if n != 5 || len(marked[sg.key]) != 1 || !marked[sg.key][recs[1].Off] {
		t.Fatalf("%d records, marks %v: want record 1 (at %d) marked", n, marked, recs[1].Off)
	}
	if l.Syncs != 0 {
		t.Fatalf("%d syncs without Options.Sync", l.Syncs)
	}
	// No append follows: the timer writes the mark.
	l.Done(sg, recs[3].Off)
	time.Sleep(5 * markDelay)
	marked, _ = doneAfterCrash(t, dir)
	if !marked[sg.key][recs[3].Off] || marked[sg.key][recs[0].Off] || marked[sg.key][recs[2].Off] {
		t.Fatalf("marks %v: want records 1 and 3 only", marked)
	}
}

// A sealed file's marks survive the file that carried them: the current
// file, emptied in place once its own records are done, takes them again
// with its next write.
func TestMarksOutliveTheFileThatCarriedThem(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir, "p", Options{SegmentBytes: 1, EmptyAt: 1})
	old := payloads(3)
	sealed, _, err := l.Append(nil, old) // past SegmentBytes: the next append rolls
	if err != nil {
		t.Fatal(err)
	}
	cur := payloads(1)
	sg, _, err := l.Append(nil, cur)
	if err != nil || sg == sealed {
		t.Fatal(err, "no roll")
	}
	l.Done(sealed, old[0].Off) // the mark goes into sg
	l.Done(sealed, old[2].Off)
	time.Sleep(5 * markDelay)
	l.Done(sg, cur[0].Off) // sg is emptied, and the marks in it with it
	marked, _ := doneAfterCrash(t, dir)
	if len(marked[sealed.key]) != 0 {
		t.Fatalf("the emptied file still holds marks: %v", marked)
	}
	// Files roll at every append here: the fresh one carries the marks.
	if _, _, err := l.Append(nil, payloads(1)); err != nil {
		t.Fatal(err)
	}
	marked, _ = doneAfterCrash(t, dir)
	if m := marked[sealed.key]; len(m) != 2 || !m[old[0].Off] || !m[old[2].Off] {
		t.Fatalf("marks of the sealed file after the carrier went: %v", marked)
	}
}

// A mark queued for a record of the current file when it is emptied must
// not reach the emptied file, where the offset names a new record.
func TestEmptiedFileGetsNoStaleMarks(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir, "p", Options{EmptyAt: 1})
	first := payloads(2)
	sg, _, _ := l.Append(nil, first)
	l.Done(sg, first[0].Off)
	l.Done(sg, first[1].Off) // emptied: both records done
	again := payloads(2)
	if sg2, _, _ := l.Append(nil, again); sg2 != sg || again[0].Off != 0 {
		t.Fatalf("not emptied in place: %v %d", sg2 == sg, again[0].Off)
	}
	time.Sleep(5 * markDelay)
	marked, n := doneAfterCrash(t, dir)
	if n != 2 || len(marked) != 0 {
		t.Fatalf("%d records, marks %v: the new records are not done", n, marked)
	}
}

// An adopted file's marks go to a file of this process; once the adopted
// file is done, that file (marks only) goes too: nothing pending, no file.
func TestNoFileLeftOnceAdoptedFileIsDone(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir, "p", Options{})
	recs := payloads(2)
	sg, _, _ := l.Append(nil, recs)
	l.Close()
	l2 := Open(dir, "p", Options{})
	a := l2.Adopt(sg.Path, 2)
	l2.Done(a, recs[0].Off)
	time.Sleep(5 * markDelay) // the mark is written to a new file
	if files, _, _ := Files(dir, "p"); len(files) != 2 {
		t.Fatalf("files %v: want the adopted one and the one holding its mark", files)
	}
	l2.Done(a, recs[1].Off)
	if files, _, _ := Files(dir, "p"); len(files) != 0 {
		t.Fatalf("files left with nothing pending: %v", files)
	}
}

// Parse takes a marks record apart from records; a damaged one is damage.
func TestMarksRecordParse(t *testing.T) {
	l := Open(t.TempDir(), "p", Options{})
	sg := &Seg{key: Key{7, 9}}
	l.markLocked(sg, Mark{Off: 123})
	l.marks.stopTimer()
	buf := l.frameMarksLocked(nil)
	buf = Frame(buf, payloads(1))
	c := Parse(buf)
	if len(c.Marks) != 1 || c.Marks[0] != (Mark{Key: Key{7, 9}, Off: 123}) || len(c.Records) != 1 || len(c.Damage) != 0 {
		t.Fatalf("%+v", c)
	}
	buf[headerLen+1] ^= 0xff
	c = Parse(buf)
	if len(c.Marks) != 0 || len(c.Records) != 1 || len(c.Damage) != 1 {
		t.Fatalf("damaged marks: %+v", c)
	}
}

// A file of nothing but one magic is one damaged stretch; the reader
// looks for the other magic once, not at every step (a crafted file must
// not make a start scan it quadratically).
func TestFileOfMagicsIsOneDamage(t *testing.T) {
	data := bytes.Repeat(magicBytes, 1<<18) // 1 MiB
	c := Parse(data)
	if len(c.Records) != 0 || len(c.Marks) != 0 || len(c.Damage) != 1 || c.Damage[0].Length != int64(len(data)) {
		t.Fatalf("%d records, %d marks, damage %v", len(c.Records), len(c.Marks), c.Damage)
	}
}
