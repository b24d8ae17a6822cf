// SPDX-License-Identifier: Apache-2.0

package errorlog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// DoneSuffix ends the name of a replay's record beside the error file.
const DoneSuffix = ".replayed"

// Done records the lines a replay had delivered: lines of "<key> <offset>
// <offset>... .", appended and synced once per request HEC took, so that a
// replay killed at any moment loses no line and sends again at most the
// request that was on its way. A record cut short by the kill lacks its
// closing "." and is ignored: a cut offset must never pass for another
// line's.
type Done struct {
	path string
	f    *os.File
	m    map[string]map[int64]bool
}

// OpenDone reads the record at path, creating it when missing, and holds
// it for this process: a second replay of the same files at the same time
// would send the same lines. The record is never followed through a
// symbolic link (the error file's directory is rsyslogd's to write, the
// replay runs as root).
func OpenDone(path string) (*Done, error) {
	d := &Done{path: path, m: map[string]map[int64]bool{}}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot keep the replay's progress in %s: %w", path, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file, not a replay's record", path)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: another replay of these files is running (%v)", path, err)
	}
	if b, err := io.ReadAll(f); err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 || fields[len(fields)-1] != "." {
				continue
			}
			for _, o := range fields[1 : len(fields)-1] {
				if off, err := strconv.ParseInt(o, 10, 64); err == nil {
					d.add(fields[0], off)
				}
			}
		}
	} else {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// A line cut short by a kill ends here, not in the next line.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		f.Write([]byte("\n"))
	}
	d.f = f
	return d, nil
}

func (d *Done) add(key string, off int64) {
	if d.m[key] == nil {
		d.m[key] = map[int64]bool{}
	}
	d.m[key][off] = true
}

// Has reports whether the line was delivered by an earlier request.
func (d *Done) Has(key string, off int64) bool { return d.m[key][off] }

// Count is how many lines are recorded.
func (d *Done) Count() int {
	n := 0
	for _, m := range d.m {
		n += len(m)
	}
	return n
}

// Mark records lines as delivered, on disk before it returns.
func (d *Done) Mark(lines []*Line) error {
	if len(lines) == 0 {
		return nil
	}
	var b []byte
	key := ""
	for _, l := range lines {
		if l.Key != key {
			if key != "" {
				b = append(b, " .\n"...)
			}
			key = l.Key
			b = append(b, key...)
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, l.Off, 10)
		d.add(l.Key, l.Off)
	}
	b = append(b, " .\n"...)
	if _, err := d.f.Write(b); err != nil {
		return fmt.Errorf("%s: %w", d.path, err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", d.path, err)
	}
	return nil
}

// Close closes the record.
func (d *Done) Close() error { return d.f.Close() }
