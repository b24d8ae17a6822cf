// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Done marks. A record reported done stays in its file until the whole
// file is done; without a mark a crash would send it again. A marks record
// (header as a record's, magic "OSD1", count = marks) names done records
// by their file's key and offset. Marks are written with the next Append,
// in the same write(2), so the hot path makes no extra write; when no
// append comes within markDelay, a write of their own flushes them. A
// crash can therefore resend what was done in the last markDelay, besides
// what was on its way.
//
// A mark may sit in another file than its record. When a file goes (all
// its records done) or the current one is emptied, the marks it carried
// for other files are lost with it; so the next write to a fresh current
// file carries the marks of every file that still lives.

// markDelay bounds how long a done mark waits for an append to ride on.
// A mark names a record, or the part of one a request carried (a commit
// split over requests), so that a restart resends only the parts not done.
const markDelay = 20 * time.Millisecond

// maxMarks bounds the marks of one marks record, so that a crafted one
// cannot make the reader allocate more than ~100 MB; more go in several.
const maxMarks = 1 << 22

// Key names a segment file across processes: the time and number in its
// name. The zero Key is a file whose name has none (never marked).
type Key struct{ T, N uint64 }

// Mark says the record at Off of the file Key is done: all of it when N
// is 0, else its events First..First+N-1.
type Mark struct {
	Key      Key
	Off      int64
	First, N int
}

// Whole reports whether m marks all of its record.
func (m Mark) Whole() bool { return m.N == 0 }

// keyOf reads the key from a segment file's name, prefix.<time>-<n>.seg.
func keyOf(path string) Key {
	n := strings.TrimSuffix(filepath.Base(path), Ext)
	ts, ns, ok := strings.Cut(n[strings.LastIndexByte(n, '.')+1:], "-")
	if !ok {
		return Key{}
	}
	t, err1 := strconv.ParseUint(ts, 10, 64)
	s, err2 := strconv.ParseUint(ns, 10, 64)
	if err1 != nil || err2 != nil {
		return Key{}
	}
	return Key{t, s}
}

// KeyOf is the key of the segment file at path.
func KeyOf(path string) Key { return keyOf(path) }

// pending is a Log's marks not yet written.
type pending struct {
	marks []Mark
	// carry: the current file is fresh, its next write carries the done
	// marks of every live file.
	carry  bool
	live   map[*Seg]struct{}
	framed bool // the buffer being written holds the marks
	timer  *time.Timer
}

func (p *pending) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// markLocked queues m (its Key left to sg's) for a record of sg.
func (l *Log) markLocked(sg *Seg, m Mark) {
	if m.Off < 0 || sg.key == (Key{}) {
		return
	}
	m.Key = sg.key
	p := &l.marks
	if p.live == nil {
		p.live = map[*Seg]struct{}{}
	}
	sg.done = append(sg.done, m)
	p.live[sg] = struct{}{}
	p.marks = append(p.marks, m)
	if p.timer == nil && !l.closed {
		p.timer = time.AfterFunc(markDelay, l.flushMarks)
	}
}

// AdoptDone records the marks an earlier process wrote for sg's records:
// a fresh current file carries them on.
func (l *Log) AdoptDone(sg *Seg, marks []Mark) {
	if len(marks) == 0 || sg.key == (Key{}) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.marks.live == nil {
		l.marks.live = map[*Seg]struct{}{}
	}
	for _, m := range marks {
		m.Key = sg.key
		sg.done = append(sg.done, m)
	}
	l.marks.live[sg] = struct{}{}
	l.marks.carry = true
}

// carriesLocked reports whether files other than the current one have
// done records, whose marks it may be the only one to hold.
func (l *Log) carriesLocked() bool {
	for sg := range l.marks.live {
		if sg != l.cur && len(sg.done) > 0 {
			return true
		}
	}
	return false
}

// Carry writes now the done marks of the files adopted with AdoptDone,
// before the files that held them are removed.
func (l *Log) Carry() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || !l.marks.carry || !l.carriesLocked() {
		return nil
	}
	if l.cur == nil {
		if err := l.rollLocked(); err != nil {
			return err
		}
	}
	l.flushLocked()
	if l.marks.carry {
		return fmt.Errorf("the done marks could not be written in %s", l.dir)
	}
	return nil
}

// forgetLocked drops the marks of a file that is gone or emptied.
func (l *Log) forgetLocked(sg *Seg) {
	p := &l.marks
	delete(p.live, sg)
	sg.done = nil
	kept := p.marks[:0]
	for _, m := range p.marks {
		if m.Key != sg.key {
			kept = append(kept, m)
		}
	}
	p.marks = kept
}

// frameMarksLocked appends the marks to write (and, into a fresh file,
// those of every live file) to buf as one marks record.
func (l *Log) frameMarksLocked(buf []byte) []byte {
	p := &l.marks
	p.framed = false
	marks := p.marks
	if p.carry && len(p.live) > 0 {
		marks = nil
		for sg := range p.live {
			if sg == l.cur {
				continue
			}
			marks = append(marks, sg.done...)
		}
		for _, m := range p.marks {
			if m.Key == l.cur.key {
				marks = append(marks, m)
			}
		}
	}
	for len(marks) > 0 {
		chunk := marks[:min(len(marks), maxMarks)]
		marks = marks[len(chunk):]
		start := len(buf)
		buf = append(buf, make([]byte, headerLen)...)
		for _, m := range chunk {
			buf = binary.AppendUvarint(buf, m.Key.T)
			buf = binary.AppendUvarint(buf, m.Key.N)
			buf = binary.AppendUvarint(buf, uint64(m.Off))
			buf = binary.AppendUvarint(buf, uint64(m.First))
			buf = binary.AppendUvarint(buf, uint64(m.N))
		}
		payload := buf[start+headerLen:]
		binary.LittleEndian.PutUint32(buf[start:], markMagic)
		binary.LittleEndian.PutUint32(buf[start+4:], uint32(len(payload)))
		binary.LittleEndian.PutUint32(buf[start+8:], crc32.Checksum(payload, castagnoli))
		binary.LittleEndian.PutUint32(buf[start+12:], uint32(len(chunk)))
	}
	p.framed = true
	return buf
}

// marksWrittenLocked: the write that held the framed marks succeeded.
func (l *Log) marksWrittenLocked() {
	p := &l.marks
	if !p.framed {
		return
	}
	p.framed, p.carry = false, false
	p.marks = p.marks[:0]
	p.stopTimer()
}

// flushMarks writes the marks no append took within markDelay.
func (l *Log) flushMarks() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.marks.timer = nil
	if !l.closed {
		l.flushLocked()
	}
}

// flushLocked writes the pending marks with a write of their own (not
// synced: a lost mark costs a duplicate, never an event).
func (l *Log) flushLocked() {
	p := &l.marks
	if len(p.marks) == 0 && !(p.carry && len(p.live) > 0) {
		return
	}
	if l.cur == nil {
		if l.rollLocked() != nil {
			return
		}
	}
	buf := l.frameMarksLocked(nil)
	if len(buf) == 0 {
		l.marksWrittenLocked()
		return
	}
	if l.roomLocked(int64(len(buf))) != nil {
		return
	}
	n, err := l.cur.f.Write(buf)
	l.cur.size += int64(n)
	l.unchecked += int64(n)
	l.free -= int64(n)
	if err != nil {
		l.sealLocked()
		return
	}
	l.marksWrittenLocked()
}

// marksAt reads the marks record at data[off:] if it is intact.
func marksAt(data []byte, off int) ([]Mark, int, bool) {
	if len(data)-off < headerLen || binary.LittleEndian.Uint32(data[off:]) != markMagic {
		return nil, 0, false
	}
	n := binary.LittleEndian.Uint32(data[off+4:])
	sum := binary.LittleEndian.Uint32(data[off+8:])
	count := binary.LittleEndian.Uint32(data[off+12:])
	// A mark takes 5 bytes at least.
	if n == 0 || count == 0 || n > maxRecord || int(n) > len(data)-off-headerLen || count > n/5 || count > maxMarks {
		return nil, 0, false
	}
	p := data[off+headerLen : off+headerLen+int(n)]
	if crc32.Checksum(p, castagnoli) != sum {
		return nil, 0, false
	}
	marks := make([]Mark, 0, count)
	for range count {
		var v [5]uint64
		for i := range v {
			x, k := binary.Uvarint(p)
			if k <= 0 {
				return nil, 0, false
			}
			v[i], p = x, p[k:]
		}
		if v[2] > maxFile || v[3] > maxRecord || v[4] > maxRecord {
			return nil, 0, false
		}
		marks = append(marks, Mark{Key: Key{v[0], v[1]}, Off: int64(v[2]), First: int(v[3]), N: int(v[4])})
	}
	if len(p) != 0 {
		return nil, 0, false
	}
	return marks, headerLen + int(n), true
}
