// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// The action's health, as a file beside its window files
// (<prefix>.health), for a health check that cannot ask rsyslogd (the
// container's, a monitoring script): written every few seconds while the
// action runs, removed when it stops. Lines of key=value, so that a shell
// reads it:
//
//	time=<unix seconds it was written>
//	stuck=<unix seconds since when events wait and HEC has taken none; 0: not stuck>
//	full=<unix seconds since when the window has been full; 0: not full>
//
// A checker finds an action unhealthy when the file was written since
// rsyslogd started but not lately (the action hangs), or stuck or full
// for longer than it tolerates (docker/healthcheck.sh).

const healthEvery = 5 * time.Second

type healthFile struct {
	mu        sync.Mutex // the gauge publisher against Close
	closed    bool
	path      string
	last      time.Time
	stuck     time.Time // zero: not stuck
	fullSince time.Time
}

// healthPath names the file; NewSender sets it once the action's files
// are its own (no file without them).
func (s *Sender) healthPath() string {
	return filepath.Join(s.files.Dir, s.files.Prefix+".health")
}

// noteHealth updates the action's state; the file is written every
// healthEvery. Called from the gauge publisher, once a second.
func (s *Sender) noteHealth(now time.Time) {
	h := &s.healthFile
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	if h.path == "" {
		return
	}
	events, _ := s.win.held()
	taken := time.Unix(0, s.taken.Load())
	switch {
	case events == 0 || now.Sub(taken) < healthEvery:
		h.stuck = time.Time{}
	case h.stuck.IsZero():
		h.stuck = taken
		if taken.Before(s.started) {
			h.stuck = s.started // nothing taken since the start
		}
	}
	switch full := s.win.full(); {
	case !full:
		h.fullSince = time.Time{}
	case h.fullSince.IsZero():
		h.fullSince = now
	}
	if now.Sub(h.last) < healthEvery {
		return
	}
	h.last = now
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	body := fmt.Sprintf("time=%d\nstuck=%d\nfull=%d\n", now.Unix(), unix(h.stuck), unix(h.fullSince))
	tmp := h.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return // a full or read-only disk: the window's own handling says so
	}
	_, err = f.WriteString(body)
	if cerr := f.Close(); err == nil && cerr == nil {
		os.Rename(tmp, h.path)
	} else {
		os.Remove(tmp)
	}
}

// removeHealth removes the file: a stopped action is no unhealthy one.
func (s *Sender) removeHealth() {
	h := &s.healthFile
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.path != "" {
		os.Remove(h.path)
	}
}
