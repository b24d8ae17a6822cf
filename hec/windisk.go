// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
)

// Disk trouble degrades, it never stops shipping. A filesystem short of
// space is back-pressure first: the commit waits, at most window.maxwait,
// for delivered records to free some. When the window's files still
// cannot be written (a full disk, an I/O error, a quota, too little free
// space left for the rest of the system), the window goes on in memory
// within its bounds: the batch is accepted all the same, said once, and
// counted (window.nofile). Once a second the files are tried again; when
// they take a record, that is said too and the window is on disk again.
// What was accepted without a file is kept in the files at a stop if the
// disk allows by then, and lost only if rsyslogd crashes meanwhile.

// diskRetry is how often the files are tried again after a failure.
const diskRetry = time.Second

type diskState struct {
	mu      sync.Mutex
	down    bool
	since   time.Time
	nextTry time.Time
	noFile  int64 // events accepted without a file in this episode
}

// keep writes items to the window's files, or, when the files fail,
// keeps them in memory only. It never fails: the window's bounds are
// what hold memory.
func (s *Sender) keep(items []*item) {
	if s.win.log == nil {
		return
	}
	d := &s.disk
	d.mu.Lock()
	skip := d.down && time.Now().Before(d.nextTry)
	d.mu.Unlock()
	var err error
	if !skip {
		// A filesystem short of space is back-pressure first, like a full
		// window: while HEC takes data, delivered records free their
		// space within moments; only if none frees within window.maxwait
		// (or HEC takes nothing) does the window go on in memory.
		deadline := time.Now().Add(s.cfg.WindowMaxWait)
		for {
			if err = s.win.persist(items); err == nil {
				s.diskBack()
				return
			}
			if !errors.Is(err, segment.ErrNoSpace) || s.takesNothing() || time.Now().After(deadline) ||
				!s.win.awaitDone(time.Until(deadline)) {
				break
			}
		}
	}
	events := 0
	for _, it := range items {
		events += it.events()
	}
	s.stats.add(CtrWindowNoFile, int64(events))
	d.mu.Lock()
	defer d.mu.Unlock()
	d.noFile += int64(events)
	if skip {
		return
	}
	d.nextTry = time.Now().Add(diskRetry)
	if d.down {
		return
	}
	d.down, d.since = true, time.Now()
	why := "cannot be written"
	if errors.Is(err, segment.ErrNoSpace) {
		why = "are not written: the filesystem is nearly full"
	}
	s.log(SevErr, fmt.Sprintf("omsplunkgo: the window's files in %s=%s %s (%v); the window goes on in memory "+
		"(within window.maxevents=%d, window.maxbytes=%d), so what it holds now is lost if rsyslogd crashes "+
		"(counted as window.nofile); files are tried again every %s and used once they can be written",
		OptSpoolDir, s.cfg.WindowDir, why, err, s.cfg.WindowMaxEvents, s.cfg.WindowMaxBytes, diskRetry))
}

// diskBack ends a disk episode, saying so.
func (s *Sender) diskBack() {
	d := &s.disk
	d.mu.Lock()
	if !d.down {
		d.mu.Unlock()
		return
	}
	d.down = false
	since, n := d.since, d.noFile
	d.noFile = 0
	d.mu.Unlock()
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: the window's files in %s can be written again after %s; %d events "+
		"were accepted without a file meanwhile", s.cfg.WindowDir, time.Since(since).Round(time.Second), n))
}

// keepUnsent writes the window's memory-only items that are not on the
// wire to its files at a stop, so that the next start sends them: the
// disk may be back by now.
func (s *Sender) keepUnsent() {
	if s.win.log == nil {
		return
	}
	var mem []*item
	for _, it := range s.win.unsent() {
		if it.seg == nil { // a part of a split record is a request of its own
			mem = append(mem, it)
		}
	}
	if len(mem) == 0 {
		return
	}
	events := 0
	for _, it := range mem {
		events += it.events()
	}
	if err := s.win.persist(mem); err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and %d events the window held in memory (its files "+
			"could not be written) cannot be kept: %v; they are lost", events, err))
		return
	}
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: rsyslog is stopping: %d events the window held in memory are now in its "+
		"files and are sent on the next start", events))
}
