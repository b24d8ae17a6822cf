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
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	magicBytes = binary.LittleEndian.AppendUint32(nil, magic)
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
	// Syncs counts fdatasync calls (Options.Sync), for tests.
	Syncs int64
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
// record whose payload its user cannot use.
type Record struct {
	Payload []byte
	Events  int
	Raw     []byte
}

// Append writes recs with one write(2) into the current segment and
// returns it; each record must later be reported done with Done.
func (l *Log) Append(buf []byte, recs []Record) (*Seg, []byte, error) {
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
	if err := l.roomLocked(int64(len(buf))); err != nil {
		return nil, buf, err
	}
	sg := l.cur
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
	sg.open += len(recs)
	return sg, buf, nil
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
	l.cur = &Seg{Path: path, f: f}
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
		os.Remove(sg.Path)
	}
}

// Done reports n records of sg delivered. A sealed segment goes once
// all its records are done; the current one is emptied in place (one
// ftruncate) once it holds Options.EmptyAt, so a crash later replays little that
// was delivered before.
func (l *Log) Done(sg *Seg, n int) {
	if sg == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sg.open -= n
	if sg.open > 0 {
		return
	}
	if sg == l.cur {
		if sg.size < l.opt.EmptyAt {
			return
		}
		if sg.f.Truncate(0) == nil {
			sg.size = 0
		} else {
			l.sealLocked()
		}
		return
	}
	os.Remove(sg.Path)
}

// Adopt tracks an existing file (left by an earlier process) holding n
// pending records: it is removed once they are all done.
func (l *Log) Adopt(path string, n int) *Seg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &Seg{Path: path, open: n}
}

// Close stops appends. The current segment is removed if nothing in it is
// pending; every file with pending records stays for the next start.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sealLocked()
	l.closed = true
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

// Read returns the intact records of a segment file and the stretches
// between them that are damaged.
func Read(path string) ([]Record, []Damage, []byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			err = fmt.Errorf("%s is a symbolic link, not a file this module wrote", path)
		}
		return nil, nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > maxFile {
		return nil, nil, nil, fmt.Errorf("%s has %d bytes, more than a window file ever holds (%d)", path, st.Size(), int64(maxFile))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return nil, nil, nil, err
	}
	recs, dmg := Parse(data)
	return recs, dmg, data, nil
}

// Parse splits data into its intact records; after a damaged stretch it
// resumes at the next header whose record checks out.
func Parse(data []byte) ([]Record, []Damage) {
	var recs []Record
	var dmg []Damage
	badFrom := -1
	for off := 0; off < len(data); {
		if r, n, ok := recordAt(data, off); ok {
			if badFrom >= 0 {
				dmg = append(dmg, Damage{int64(badFrom), int64(off - badFrom)})
				badFrom = -1
			}
			recs = append(recs, r)
			off += n
			continue
		}
		if badFrom < 0 {
			badFrom = off
		}
		next := bytes.Index(data[off+1:], magicBytes)
		if next < 0 {
			break
		}
		off += 1 + next
	}
	if badFrom >= 0 {
		dmg = append(dmg, Damage{int64(badFrom), int64(len(data) - badFrom)})
	}
	return recs, dmg
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
	return Record{Payload: p, Events: int(events), Raw: data[off : off+headerLen+int(n)]}, headerLen + int(n), true
}

// CountEvents is the number of events in the intact records of a file.
func CountEvents(path string) int {
	recs, _, _, err := Read(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range recs {
		n += r.Events
	}
	return n
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
