// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/winfile"
)

// errorFile records events HEC refused for good (or that event.oversize
// rejected), one JSON object per line:
//
//	{"time":"<RFC 3339>","reason":"...","http_status":400,"hec_code":6,"event":{...}}
//
// "event" is the event object exactly as it was sent, so a fixed event can
// be posted again as is. Without a file the event is only counted and its
// first bytes logged.
type errorFile struct {
	path string
	log  Logger

	// nofollow refuses a symbolic link at path: a replay runs as root in
	// a directory rsyslogd's user may write.
	nofollow bool

	mu     sync.Mutex
	f      *os.File
	failed bool // opening failed once: logged, not retried per event
}

// write appends one rejected event object; res is HEC's answer, nil when the
// module itself rejected the event.
func (e *errorFile) write(ev []byte, reason string, res *endpoint.Result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.path == "" || e.failed {
		e.log(SevErr, fmt.Sprintf("omsplunkgo: event set aside (%s); set errorfile to keep such events: %s",
			reason, preview(ev)))
		return
	}
	if e.f == nil {
		flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE
		if e.nofollow {
			flags |= syscall.O_NOFOLLOW
		}
		f, err := os.OpenFile(e.path, flags, 0o640)
		if err != nil {
			e.failed = true
			e.log(SevErr, fmt.Sprintf("omsplunkgo: errorfile: %v; rejected events are only logged from now on", err))
			e.log(SevErr, fmt.Sprintf("omsplunkgo: event set aside (%s): %s", reason, preview(ev)))
			return
		}
		e.f = f
	}
	line := make([]byte, 0, len(ev)+len(reason)+96)
	line = append(line, `{"time":`...)
	line = strconv.AppendQuote(line, time.Now().UTC().Format(time.RFC3339Nano))
	line = append(line, `,"reason":`...)
	line = event.AppendJSONString(line, []byte(reason))
	if res != nil {
		line = append(line, `,"http_status":`...)
		line = strconv.AppendInt(line, int64(res.Status), 10)
		line = append(line, `,"hec_code":`...)
		line = strconv.AppendInt(line, int64(res.Reply.Code), 10)
	}
	line = append(line, `,"event":`...)
	line = append(line, ev...)
	line = append(line, "}\n"...)
	if _, err := e.f.Write(line); err != nil {
		e.log(SevErr, fmt.Sprintf("omsplunkgo: errorfile %s: %v; event: %s", e.path, err, preview(ev)))
	}
}

// reopen closes the file; the next event opens it anew: after a log
// rotation moved it away, events go to a fresh file at its path.
func (e *errorFile) reopen() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.f != nil {
		e.f.Close()
		e.f = nil
	}
	e.failed = false // a directory fixed meanwhile is tried again
}

// check tells whether the error file can be written: an existing one is
// opened for appending, else a file is created and removed in its
// directory.
func (e *errorFile) check() error {
	f, err := os.OpenFile(e.path, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return winfile.CheckWritable(filepath.Dir(e.path))
}

// usable reports whether events are written to the file (not only logged).
func (e *errorFile) usable() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.path != "" && !e.failed
}

// preview is the start of an event, enough to find it in the sender's logs.
func preview(event []byte) string {
	const n = 512
	if len(event) <= n {
		return string(event)
	}
	return string(event[:n]) + fmt.Sprintf("... (%d bytes)", len(event))
}

// summaryEvery is how often, at most, the running totals of set-aside and
// truncated events are logged while they change.
const summaryEvery = time.Minute

// refusals is where an event goes that will not be delivered: the error
// file (or the log), the rejected count, and the totals in rsyslog's log
// at most once per summaryEvery and once more on Close, so that an admin
// sees the counts without a line per event. It has its own state and lock
// and knows the sender only by what it is handed.
type refusals struct {
	file     *errorFile
	stats    *counters
	log      Logger
	totals   func() Stats                 // the sender's, for the summary
	guard    func(where string, _ func()) // deferred: a panic stays in the action
	maxBytes int                          // event.maxbytes, for the summary

	mu      sync.Mutex
	pending bool // a summary is due
	logged  Stats
}

// refuse is the one path of an event that will not be delivered: HEC
// refused it for good (res is HEC's answer), or the module did before
// sending it (res nil). It goes to the error file (or the log), is counted
// as rejected and shows in the next summary.
func (r *refusals) refuse(ev []byte, reason string, res *endpoint.Result) {
	r.stats.add(CtrRejected, 1)
	r.changed()
	r.file.write(ev, reason, res)
}

// changed schedules a summary, unless one is due already.
func (r *refusals) changed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending {
		return
	}
	r.pending = true
	time.AfterFunc(summaryEvery, func() {
		defer r.guard("summary", nil)
		r.flush()
	})
}

// flush logs the totals when they changed since the last summary.
func (r *refusals) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = false
	st := r.totals()
	if st.Rejected == r.logged.Rejected && st.Truncated == r.logged.Truncated {
		return
	}
	r.logged = st
	where := "their start is in this log"
	if r.file.usable() {
		where = "they are in " + r.file.path
	} else if r.file.path != "" {
		where = r.file.path + " could not be written, their start is in this log"
	}
	r.log(SevWarning, fmt.Sprintf("omsplunkgo: so far %d events set aside as rejected (%s), %d truncated to %s=%d; %d delivered",
		st.Rejected, where, st.Truncated, OptEventMaxBytes, r.maxBytes, st.Delivered))
}

// rejectEvent refuses one event of a request HEC answered; a raw line is
// written as the event object it stands for.
func (s *Sender) rejectEvent(query string, ev []byte, res endpoint.Result) {
	if s.raw != nil && query != viaEvent {
		ev = event.RawAsEvent(query, ev)
	}
	if res.Reply.Code == endpoint.CodeIncorrectIndex && s.cfg.IndexOnRefused != "" && s.sendToOnRefused(ev) {
		return
	}
	s.refusals.refuse(ev, res.Error(), &res)
}

// fieldRefusedIndex names the index HEC refused, on an event sent again to
// index.onrefused.
const fieldRefusedIndex = "refused_index"

// sendToOnRefused puts ev, refused for its index, back in the window for
// index.onrefused, marked with the index it had; false when it was there
// already (refused there too) or cannot be read. It is written to the
// window's files before its original is marked done: a crash in between
// sends it twice, never not at all.
func (s *Sender) sendToOnRefused(ev []byte) bool {
	again, ok := event.Reindex(ev, s.cfg.IndexOnRefused, fieldRefusedIndex)
	if !ok {
		return false
	}
	q := ""
	if s.raw != nil {
		q = viaEvent
	}
	it := &item{query: q, body: again, ends: []int{len(again)}}
	items := []*item{it}
	s.keep(items)
	s.win.add(items)
	s.stats.add(CtrIndexOnRefused, 1)
	return true
}
