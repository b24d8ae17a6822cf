// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
)

// Stage 4, the senders: one dispatcher per action takes the window's items
// as places free up and hands each request to a goroutine of its own,
// which posts it (post.go) and releases its items once HEC has taken them.
// Places are per endpoint (internal/aimd): each endpoint's limit on
// requests in flight follows its answers, so a slow or struggling
// endpoint gets the share it can serve and the others the rest. A request
// that fails for retry.maxtime is not given up: it stays in the window and
// is tried again with growing pauses; the outage is logged once. Commits
// go on filling the window until it is full, and then the action suspends
// (window.go), so that rsyslog's queue holds the backlog.

// initialLimit is each endpoint's limit at the start, before its answers
// say more; slow start doubles it per round trip.
const initialLimit = 4

// retryPauseMax bounds the pause between tries of a request that failed
// for retry.maxtime.
const retryPauseMax = 30 * time.Second

// dispatch runs for the sender's life: as soon as a request can start
// (a waiting one is due, or items are queued) and an endpoint has a
// place, it goes out on a goroutine of its own, which ends with the try:
// a request that HEC cannot take now waits in the window as data, so
// goroutines follow the requests on the wire, not the window's size.
// Items that queue while every place is taken fill the next request.
func (s *Sender) dispatch() {
	defer s.senders.Done()
	defer s.recoverPanic("dispatcher", func() { s.restart(s.dispatch) })
	for s.win.waitWork(s.gate) {
		if s.brokenErr() != nil {
			return // the action gave up after repeated internal errors
		}
		if d := s.cfg.BatchMaxDelay; d > 0 {
			// Let a request fill for up to batch.maxdelay.
			if since, n := s.win.oldest(); n > 0 && n < s.cfg.BatchMaxEvents && time.Since(since) < d {
				if !s.sleepUnlessStopping(d - time.Since(since)) {
					return
				}
			}
		}
		g := s.pool.acquire()
		if g == nil {
			return
		}
		r := s.win.next(s.cfg.BatchMaxEvents, s.cfg.BatchMaxBytes, s.trouble.Load())
		if r == nil {
			s.pool.release(g, &endpoint.Result{Outcome: endpoint.Misconfigured})
			continue
		}
		r.g = g
		s.trying.Add(1)
		s.senders.Add(1)
		go s.deliver(r)
	}
}

// gate is what the window asks before a request starts (see window.gate).
func (s *Sender) gate() (bool, int) { return s.trouble.Load(), int(s.trying.Load()) }

// deliver tries r once: done, waiting in the window for its next try, or,
// when the sender halts, left in the window (its files) for the next start.
func (s *Sender) deliver(r *request) {
	defer s.senders.Done()
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	tried := false
	defer func() {
		if !tried {
			s.tried()
		}
	}()
	defer s.recoverPanic("request", func() {
		// The events stay the window's: the request waits, and goes
		// again after a pause.
		if r.g != nil {
			s.pool.release(r.g, &endpoint.Result{Outcome: endpoint.Misconfigured})
			r.g = nil
		}
		r.due = time.Now().Add(time.Second)
		s.win.wait(r)
	})
	if !s.prepare(r) {
		return
	}
	err := s.send(r, &tried)
	var later *laterError
	var pending *ackPending
	switch {
	case err == nil:
		s.delivered(r)
	case errors.As(err, &pending):
		s.parkForAck(r, pending.res)
	case errors.As(err, &later):
		r.due = time.Now().Add(later.wait)
		s.win.wait(r)
	default: // stopping: the request stays in the window, and its files
		r.due = time.Now().Add(time.Hour)
		s.win.wait(r)
	}
}

// prepare gives r its body: items held only in the files (awaiting an
// ack before, or replayed) are read back. An item that cannot be read
// back is gone from the files (removed or changed by hand): it is logged
// and dropped, since nothing else holds it. False when nothing is left.
func (s *Sender) prepare(r *request) bool {
	if r.body != nil {
		return true
	}
	lost, err := s.win.load(r.items)
	if len(lost) > 0 {
		n := 0
		for _, it := range lost {
			n += it.events()
		}
		s.log(SevErr, fmt.Sprintf("omsplunkgo: %d events of the window cannot be read back from its files to be sent "+
			"(again): %v; they are lost (were the files in %s removed or changed while rsyslogd ran?)", n, err, s.cfg.WindowDir))
		s.win.done(lost)
		kept := r.items[:0]
		for _, it := range r.items {
			if it.body != nil {
				kept = append(kept, it)
			}
		}
		r.items = kept
	}
	if len(r.items) == 0 {
		if r.g != nil {
			s.pool.release(r.g, &endpoint.Result{Outcome: endpoint.Misconfigured})
			r.g = nil
		}
		return false
	}
	r.query, r.body, r.ends = joinItems(r.items)
	r.whole = true
	return true
}

// tried ends a request's try (its answer is in, or it never went out):
// the gate lets the next one start.
func (s *Sender) tried() {
	s.trying.Add(-1)
	s.win.poke()
}

// laterError says a request waits in the window for its next try.
type laterError struct {
	wait time.Duration
	err  error
}

func (e *laterError) Error() string { return e.err.Error() }
func (e *laterError) Unwrap() error { return e.err }

// joinItems makes one request body of items (the same query).
func joinItems(items []*item) (string, []byte, []int) {
	if len(items) == 1 {
		return items[0].query, items[0].body, items[0].ends
	}
	n, size := 0, 0
	for _, it := range items {
		n += len(it.ends)
		size += len(it.body)
	}
	body := make([]byte, 0, size)
	ends := make([]int, 0, n)
	for _, it := range items {
		base := len(body)
		body = append(body, it.body...)
		for _, e := range it.ends {
			ends = append(ends, base+e)
		}
	}
	return items[0].query, body, ends
}

// failing is the state of an outage: a request failed for retry.maxtime.
// It is logged when it starts and ends, and ends Drain.
type failing struct {
	since   atomic.Int64 // unix nanoseconds; 0 when HEC takes data
	mu      sync.Mutex
	lastErr error
}

func (f *failing) begin(s *Sender, err error, events int) {
	f.mu.Lock()
	f.lastErr = err
	f.mu.Unlock()
	if f.since.CompareAndSwap(0, time.Now().UnixNano()) {
		held, _ := s.win.held()
		s.log(SevErr, fmt.Sprintf("omsplunkgo: HEC has not taken a request of %d events within %s=%dms: %v; "+
			"the %d events in the window stay there and are tried again until HEC takes them; once the window "+
			"is full, batches are handed back to rsyslog: %s",
			events, OptRetryMaxTime, s.cfg.RetryMaxTime.Milliseconds(), err, held, s.whatRsyslogDoes()))
	}
}

func (f *failing) end(s *Sender) {
	if t := f.since.Swap(0); t != 0 {
		s.log(SevInfo, fmt.Sprintf("omsplunkgo: HEC takes data again after %s",
			time.Since(time.Unix(0, t)).Round(time.Second)))
	}
}

// err is the outage's error, nil when there is none.
func (f *failing) err() error {
	if f.since.Load() == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}
