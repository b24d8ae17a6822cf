// SPDX-License-Identifier: Apache-2.0

// Package segment keeps the records of a delivery window in append-only
// files, so that what a process accepted survives its crash: a record is
// written with one write(2) before its writer is told it is safe, and a
// file is removed once every record in it is done. It knows nothing of
// HEC or rsyslog and never logs.
//
// A record is a 16-byte header (magic, payload length, CRC-32C of the
// payload, event count; little endian) and the payload. Reading a file
// back yields every record whose header and checksum hold, also past a
// damaged stretch (a crash mid-write, a full disk, a flipped bit).
//
// A record reported done is marked so in the files (marks.go): the marks
// ride along with the next append's write, so that a restart after a
// crash skips what was delivered and resends only what was on its way.
package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	magic     = 0x3147534f // "OSG1"
	markMagic = 0x3144534f // "OSD1": a record of done marks
	headerLen = 16
	// Ext ends every segment file's name.
	Ext = ".seg"
	// maxRecord bounds a payload length read back, so that damage cannot
	// make the reader allocate gigabytes.
	maxRecord = 256 << 20
	// maxFile bounds a file read back: a segment is rolled at
	// Options.SegmentBytes (at most 32 MiB by default) plus one commit.
	maxFile = 1 << 30
)

var (
	castagnoli     = crc32.MakeTable(crc32.Castagnoli)
	magicBytes     = binary.LittleEndian.AppendUint32(nil, magic)
	markMagicBytes = binary.LittleEndian.AppendUint32(nil, markMagic)
)

// Options tune a Log.
type Options struct {
	// SegmentBytes: a file that has grown past it gets no more records.
	SegmentBytes int64
	// Sync makes Append return only once the records are on the disk
	// (fdatasync), not just in the page cache: power-loss safe, slower.
	Sync bool
	// EmptyAt is the size from which a current segment whose records are
	// all done is emptied in place (default 4 MiB). Below it the records
	// delivered stay until the file is next emptied, rolled or closed
	// (after a crash they are sent again: duplicates, bounded by this);
	// emptying after every drained commit costs the kernel a page free
	// and a page fault per page written.
	EmptyAt int64
}

// Log appends records to the files of one window: dir/prefix.<time>-<n>.seg.
type Log struct {
	dir, prefix string
	opt         Options
	mu          sync.Mutex
	cur         *Seg
	seq         uint64
	closed      bool
	sized       bool  // the options were fitted to the filesystem's size
	unchecked   int64 // bytes written since the free space was last asked
	free        int64 // free bytes then, less the reserve
	// Syncs counts fdatasync calls (Options.Sync), one per Append.
	Syncs int64
	marks pending
}

// ErrNoSpace says the filesystem keeps too little free space for the
// window: what is left is for the rest of the system (rsyslog's own disk
// queues live in the same work directory).
var ErrNoSpace = errors.New("the filesystem is (nearly) full")

// spaceEvery is how many bytes may be written between two looks at the
// free space.
const spaceEvery = 1 << 20

// Seg is one segment file; records point to it until they are done.
type Seg struct {
	Path string
	f    *os.File // nil for an adopted file (read only)
	size int64
	open int // records not yet done
	key  Key
	// done are its records (or parts of records) done so far, while it
	// lives: a fresh current file carries their marks (marks.go).
	done []Mark
}

// Open prepares a log in dir whose files start with prefix. It touches
// no file until the first Append.
func Open(dir, prefix string, opt Options) *Log {
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = 32 << 20
	}
	if opt.EmptyAt <= 0 {
		opt.EmptyAt = 4 << 20
	}
	return &Log{dir: dir, prefix: prefix, opt: opt}
}

// Record is one payload with the number of events it holds. Raw is the
// whole record as read back (header and payload), for setting aside a
// record whose payload its user cannot use. Off is where it starts in
// its file (set by Append and by reading).
type Record struct {
	Payload []byte
	Events  int
	Raw     []byte
	Off     int64
}

// Append writes recs with one write(2) into the current segment, the
// done marks not yet written after them, and returns it; each record's
// Off is set, and each must later be reported done with Done.
func (l *Log) Append(buf []byte, recs []Record) (*Seg, []byte, error) {
	// The records are framed (copied, checksummed) before the lock is
	// taken: Done, on the senders' goroutines, takes it too.
	buf = Frame(buf[:0], recs)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, buf, errors.New("the window is closed")
	}
	if l.cur == nil || l.cur.size >= l.opt.SegmentBytes {
		if err := l.rollLocked(); err != nil {
			return nil, buf, err
		}
	}
	framed := len(buf)
	buf = l.frameMarksLocked(buf)
	if err := l.roomLocked(int64(len(buf))); err != nil {
		return nil, buf[:framed], err
	}
	sg := l.cur
	off := sg.size
	for i := range recs {
		recs[i].Off = off
		off += int64(headerLen + len(recs[i].Payload))
	}
	n, err := sg.f.Write(buf)
	sg.size += int64(n)
	l.unchecked += int64(n)
	l.free -= int64(n)
	if err == nil && l.opt.Sync {
		err = syscall.Fdatasync(int(sg.f.Fd()))
		l.Syncs++
	}
	if err != nil {
		// A short write leaves a torn record that readers skip; the
		// next append starts a fresh file rather than follow it.
		l.sealLocked()
		return nil, buf, err
	}
	l.marksWrittenLocked()
	sg.open += len(recs)
	return sg, buf, nil
}

// SyncCount is how many fdatasync calls Append made.
func (l *Log) SyncCount() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Syncs
}

// roomLocked refuses a write that would leave the filesystem less free
// space than its reserve: a full disk is the window's back-pressure, not
// an error on every write. The free space is asked every spaceEvery bytes.
func (l *Log) roomLocked(n int64) error {
	if l.unchecked >= spaceEvery || l.free < n {
		var st syscall.Statfs_t
		if err := syscall.Statfs(l.dir, &st); err != nil {
			return nil // no answer: the write itself will tell
		}
		total, avail := int64(st.Blocks)*st.Bsize, int64(st.Bavail)*st.Bsize
		l.free, l.unchecked = avail-reserve(total), 0
		if l.free < n {
			return fmt.Errorf("%w: %d bytes free of %d in %s, and the window leaves %d to the rest of the system",
				ErrNoSpace, avail, total, l.dir, reserve(total))
		}
	}
	return nil
}

// reserve is the free space the window leaves to others: 5 % of the
// filesystem, at most 256 MiB.
func reserve(total int64) int64 { return min(total/20, 256<<20) }

// fitLocked sizes segments to the filesystem: on a small one a segment
// is emptied and rolled early, or delivered records would fill it.
func (l *Log) fitLocked() {
	if l.sized {
		return
	}
	l.sized = true
	var st syscall.Statfs_t
	if syscall.Statfs(l.dir, &st) != nil {
		return
	}
	total := int64(st.Blocks) * st.Bsize
	l.opt.EmptyAt = min(l.opt.EmptyAt, max(total/32, 16<<10))
	l.opt.SegmentBytes = min(l.opt.SegmentBytes, max(total/8, 64<<10))
}

// Frame appends recs to buf as they are written to a file.
func Frame(buf []byte, recs []Record) []byte {
	for _, r := range recs {
		buf = binary.LittleEndian.AppendUint32(buf, magic)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(r.Payload)))
		buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(r.Payload, castagnoli))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(r.Events))
		buf = append(buf, r.Payload...)
	}
	return buf
}

// rollLocked starts a new segment file; the old one is kept until its
// records are done.
func (l *Log) rollLocked() error {
	l.sealLocked()
	l.fitLocked()
	l.seq++
	name := fmt.Sprintf("%s.%d-%d%s", l.prefix, time.Now().UnixNano(), l.seq, Ext)
	path := filepath.Join(l.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	if l.opt.Sync {
		syncDir(l.dir)
	}
	l.cur = &Seg{Path: path, f: f, key: keyOf(path)}
	l.marks.carry = true
	return nil
}

// sealLocked makes the current segment take no more records, removing it
// when nothing in it is pending.
func (l *Log) sealLocked() {
	sg := l.cur
	if sg == nil {
		return
	}
	l.cur = nil
	sg.f.Close()
	sg.f = nil
	if sg.open == 0 {
		l.removeLocked(sg)
	}
}

// removeLocked removes a file whose records are all done. A current file
// with no record pending then holds at most marks of files that are gone:
// it goes too (the next append starts a new one), so that a window with
// nothing pending leaves no file.
func (l *Log) removeLocked(sg *Seg) {
	os.Remove(sg.Path)
	l.forgetLocked(sg)
	if sg != l.cur && l.cur != nil && l.cur.open == 0 && !l.carriesLocked() {
		l.sealLocked()
	}
}

// Done reports sg's record at off delivered (off < 0: a record whose
// place is not known, never marked). A sealed segment goes once all its
// records are done; the current one is emptied in place (one ftruncate)
// once it holds Options.EmptyAt. Otherwise the record is marked done in
// the files with the next write, so that a crash later does not send it
// again.
func (l *Log) Done(sg *Seg, off int64) {
	if sg == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sg.open--
	if sg.open > 0 {
		l.markLocked(sg, Mark{Off: off})
		return
	}
	if sg == l.cur {
		if sg.size < l.opt.EmptyAt {
			l.markLocked(sg, Mark{Off: off})
			return
		}
		if sg.f.Truncate(0) == nil {
			sg.size = 0
			// Its marks went with it; marks of other files it held are
			// written again with the next append.
			l.forgetLocked(sg)
			l.marks.carry = true
		} else {
			l.markLocked(sg, Mark{Off: off})
			l.sealLocked()
		}
		return
	}
	l.removeLocked(sg)
}

// DonePart reports events first..first+n-1 of sg's record at off
// delivered while the rest of the record is not (a commit split over
// requests): they are marked so, and a restart sends only the rest; the
// record itself is reported with Done once all of it is.
func (l *Log) DonePart(sg *Seg, off int64, first, n int) {
	if sg == nil || n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.markLocked(sg, Mark{Off: off, First: first, N: n})
}

// Adopt tracks an existing file (left by an earlier process) holding n
// pending records: it is removed once they are all done.
func (l *Log) Adopt(path string, n int) *Seg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &Seg{Path: path, open: n, key: keyOf(path)}
}

// Close stops appends, writing the done marks not yet written. The
// current segment is removed if nothing in it is pending; every file with
// pending records stays for the next start.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	if l.cur != nil && l.cur.open == 0 && l.carriesLocked() {
		// Nothing of its own is pending, but it may hold the only marks
		// of files that stay: it stays too, for the next start to read.
		l.cur.f.Close()
		l.cur = nil
	}
	l.sealLocked()
	l.closed = true
	l.marks.stopTimer()
}

// Files lists the segment files in dir that start with prefix, oldest
// first: what an earlier process left. odd are entries with such a name
// that are no regular file (a symbolic link, a directory): never read,
// for the caller to report.
func Files(dir, prefix string) (files, odd []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, prefix+".") || !strings.HasSuffix(n, Ext) {
			continue
		}
		if e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, n))
		} else {
			odd = append(odd, filepath.Join(dir, n))
		}
	}
	sort.Slice(files, func(i, j int) bool { return order(files[i]) < order(files[j]) })
	return files, odd, nil
}

// order is a file's creation time and number, as a sortable string.
func order(path string) string {
	n := strings.TrimSuffix(filepath.Base(path), Ext)
	i := strings.LastIndexByte(n, '.')
	t, seq, _ := strings.Cut(n[i+1:], "-")
	return fmt.Sprintf("%020s-%020s", t, seq)
}

// Damage is a stretch of a file that holds no intact record.
type Damage struct {
	Offset, Length int64
}

// Contents is what a segment file holds: its intact records, the done
// marks it carries (for records of any file of its window), the
// stretches that are damaged, and the bytes read.
type Contents struct {
	Records []Record
	Marks   []Mark
	Damage  []Damage
	Data    []byte
}

// Read returns the contents of a segment file.
func Read(path string) (Contents, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			err = fmt.Errorf("%s is a symbolic link, not a file this module wrote", path)
		}
		return Contents{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Contents{}, err
	}
	if !st.Mode().IsRegular() {
		return Contents{}, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > maxFile {
		return Contents{}, fmt.Errorf("%s has %d bytes, more than a window file ever holds (%d)", path, st.Size(), int64(maxFile))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return Contents{}, err
	}
	return Parse(data), nil
}

// Parse splits data into its intact records and marks; after a damaged
// stretch it resumes at the next header whose record checks out.
func Parse(data []byte) Contents {
	c := Contents{Data: data}
	badFrom := -1
	// After damage the reader looks for the next header: the next place
	// of each magic is searched once and reused until passed, so that a
	// file full of one magic does not make each step scan for the other.
	next := [2]int{-2, -2} // -2: not searched yet, -1: none after
	magics := [2][]byte{magicBytes, markMagicBytes}
	for off := 0; off < len(data); {
		r, n, ok := recordAt(data, off)
		var marks []Mark
		if !ok {
			marks, n, ok = marksAt(data, off)
		}
		if ok {
			if badFrom >= 0 {
				c.Damage = append(c.Damage, Damage{int64(badFrom), int64(off - badFrom)})
				badFrom = -1
			}
			if marks != nil {
				c.Marks = append(c.Marks, marks...)
			} else {
				c.Records = append(c.Records, r)
			}
			off += n
			continue
		}
		if badFrom < 0 {
			badFrom = off
		}
		to := -1
		for i, m := range magics {
			if next[i] == -2 || next[i] >= 0 && next[i] <= off {
				next[i] = -1
				if k := bytes.Index(data[off+1:], m); k >= 0 {
					next[i] = off + 1 + k
				}
			}
			if next[i] >= 0 && (to < 0 || next[i] < to) {
				to = next[i]
			}
		}
		if to < 0 {
			break
		}
		off = to
	}
	if badFrom >= 0 {
		c.Damage = append(c.Damage, Damage{int64(badFrom), int64(len(data) - badFrom)})
	}
	return c
}

// recordAt reads the record at data[off:] if it is intact.
func recordAt(data []byte, off int) (Record, int, bool) {
	if len(data)-off < headerLen || binary.LittleEndian.Uint32(data[off:]) != magic {
		return Record{}, 0, false
	}
	n := binary.LittleEndian.Uint32(data[off+4:])
	sum := binary.LittleEndian.Uint32(data[off+8:])
	events := binary.LittleEndian.Uint32(data[off+12:])
	// A record is never empty and holds an event at least: an empty one
	// would pass its checksum (CRC-32C of nothing is 0), so a stray
	// zeroed header could swallow the next record's start.
	if n == 0 || events == 0 || n > maxRecord || int(n) > len(data)-off-headerLen {
		return Record{}, 0, false
	}
	p := data[off+headerLen : off+headerLen+int(n)]
	if crc32.Checksum(p, castagnoli) != sum {
		return Record{}, 0, false
	}
	return Record{Payload: p, Events: int(events), Raw: data[off : off+headerLen+int(n)], Off: int64(off)},
		headerLen + int(n), true
}

// CountEvents is the number of events in the intact records of a file
// (marks in it and in other files not considered).
func CountEvents(path string) int {
	c, err := Read(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range c.Records {
		n += r.Events
	}
	return n
}

// ReadRecord reads back the record at off of the file at path (a
// request's body, for sending it again).
func ReadRecord(path string, off int64) (Record, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return Record{}, err
	}
	defer f.Close()
	var h [headerLen]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return Record{}, fmt.Errorf("%s at %d: %w", path, off, err)
	}
	n := binary.LittleEndian.Uint32(h[4:])
	if binary.LittleEndian.Uint32(h[:]) != magic || n == 0 || n > maxRecord {
		return Record{}, fmt.Errorf("%s at %d: no record there", path, off)
	}
	data := make([]byte, headerLen+int(n))
	if _, err := f.ReadAt(data, off); err != nil {
		return Record{}, fmt.Errorf("%s at %d: %w", path, off, err)
	}
	r, _, ok := recordAt(data, 0)
	if !ok {
		return Record{}, fmt.Errorf("%s at %d: the record is damaged", path, off)
	}
	r.Off = off
	return r, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
