// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/winfile"
)

// Sending again what was set aside (`omsplunkgo replay`): event objects
// from the error file go into the window as encoded, in requests of at
// most batch.maxevents and batch.maxbytes; window files no action claims
// are taken by a standalone sender whose WindowPrefix names them
// (winfiles.go reads them as at any start).

// Resend puts event objects, as the event endpoint takes them (the "event"
// of an error-file line), in the window, and returns once they are there.
// An action of the raw endpoint posts them to the event endpoint. The
// error wraps ErrSuspend when the window has no room within
// window.maxwait.
func (s *Sender) Resend(events [][]byte, stopping func() bool) error {
	q := ""
	if s.raw != nil {
		q = viaEvent
	}
	var items []*item
	it := &item{query: q}
	for _, ev := range events {
		if len(it.ends) > 0 && (len(it.ends) >= s.cfg.BatchMaxEvents || len(it.body)+len(ev) > s.cfg.BatchMaxBytes) {
			items = append(items, it)
			it = &item{query: q}
		}
		it.body = append(it.body, ev...)
		it.ends = append(it.ends, len(it.body))
	}
	if len(it.ends) > 0 {
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil
	}
	return s.accept(items, stopping)
}

// WindowFiles describes the window files of one prefix in a directory.
type WindowFiles struct {
	Dir, Prefix string
	Files       []string
	Events      int  // events in their records, those HEC took included
	Raw         bool // they hold requests of the raw endpoint
}

// FindWindowFiles finds the window files of prefix in dir (segment files,
// and spool files of releases before the window). path may name the
// prefix (dir/prefix) or one of its files (dir/prefix.<anything>).
func FindWindowFiles(path string) (WindowFiles, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	prefix, _, _ := strings.Cut(strings.TrimPrefix(base, "."), ".")
	w := WindowFiles{Dir: filepath.Clean(dir), Prefix: prefix}
	if !strings.HasPrefix(prefix, "omsplunkgo-") {
		return w, fmt.Errorf("%s: not the name of window files (they start with omsplunkgo-, as the unclaimed-files "+
			"line in rsyslog's log names them)", path)
	}
	segs, _, err := segment.Files(w.Dir, prefix)
	if err != nil {
		return w, err
	}
	legacy, _ := (&winfile.Files{Dir: w.Dir, Prefix: prefix}).Pending()
	w.Files = append(segs, legacy...)
	if len(w.Files) == 0 {
		return w, fmt.Errorf("%s: no window files %s.* in %s", path, prefix, w.Dir)
	}
	for _, f := range segs {
		w.Events += segment.CountEvents(f)
		if !w.Raw {
			w.Raw = holdsRaw(f)
		}
	}
	for _, f := range legacy {
		if b, err := readRegular(f); err == nil {
			if ends, _ := winfile.EventEnds(b); len(ends) > 0 {
				w.Events += len(ends)
			}
		}
	}
	return w, nil
}

// holdsRaw reports whether a segment file's first readable record is a
// request of the raw endpoint.
func holdsRaw(f string) bool {
	c, err := segment.Read(f)
	if err != nil {
		return false
	}
	for _, r := range c.Records {
		if it, err := decodeItem(r.Payload); err == nil {
			return it.query != "" && it.query != viaEvent
		}
	}
	return false
}

// Leftover is what stays of prefix in dir once its files were replayed:
// the files still there. With none left, the prefix's lock file and the
// destination record of an unnamed action (<prefix>.id) go too (under
// the lock: no other process is between opening and locking it).
func Leftover(w WindowFiles) ([]string, error) {
	now, err := FindWindowFiles(filepath.Join(w.Dir, w.Prefix))
	if err == nil || len(now.Files) > 0 {
		return now.Files, nil
	}
	l, err := winfile.TakeLock(w.Dir, w.Prefix)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	for _, ext := range []string{winfile.IdentityExt, ".lock"} {
		if err := os.Remove(filepath.Join(w.Dir, w.Prefix+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return nil, nil
}

// WithIndex returns the event object ev sent to index instead, the index
// it had kept as indexed field orig_index (as routing marks it).
func WithIndex(ev []byte, index string) ([]byte, error) {
	return event.SetIndex(ev, index, fieldOrigIndex)
}
