// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"sync"
	"time"
)

// Stopping. rsyslog has no shutdown callback for a transaction under way:
// it flags the worker thread (SIGTTIN; the plugin turns that into the
// stopping function given to Deliver) and cancels the thread if it has
// not returned within queue.timeoutActionCompletion (1 s by default). So
// every wait polls for that flag; once any caller reports it, the whole
// Sender halts: no more retries, and waits for HEC's answers end stopGrace
// after the halt. What is undelivered then goes to the spool.

// stopGrace is how long waits on the wire go on after the halt: short of
// rsyslog's default 1 s action completion timeout, long enough for a
// healthy HEC to answer, which spares a duplicate.
const stopGrace = 500 * time.Millisecond

// callers holds the stop flags of the Deliver calls under way. Requests
// posted on the caller's own thread wait inside a connection, which asks
// the Sender (abortWait) rather than a particular caller.
type callers struct {
	mu   sync.Mutex
	last uint64
	m    map[uint64]func() bool
}

func (c *callers) add(stopping func() bool) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[uint64]func() bool)
	}
	c.last++
	c.m[c.last] = stopping
	return c.last
}

func (c *callers) remove(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (c *callers) anyStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, stopping := range c.m {
		if stopping() {
			return true
		}
	}
	return false
}

// halt stops all retrying and waiting for good.
func (s *Sender) halt() {
	s.haltOnce.Do(func() {
		s.haltedAt.Store(time.Now().UnixNano())
		s.stopping.Store(true)
		close(s.haltCh)
	})
}

// stopRequested reports whether the Sender is halted, halting it first
// when a caller of Deliver has been told to stop.
func (s *Sender) stopRequested() bool {
	if s.stopping.Load() {
		return true
	}
	if s.callers.anyStopping() {
		s.halt()
		return true
	}
	return false
}

// pastGrace reports whether the Sender halted more than stopGrace ago.
func (s *Sender) pastGrace() bool {
	return s.stopRequested() && time.Since(time.Unix(0, s.haltedAt.Load())) >= stopGrace
}

// abortWait is what a connection asks when its wait for HEC is
// interrupted (a signal, or a poll slice passing): true ends the wait.
func (s *Sender) abortWait() bool { return s.pastGrace() }

// inlinePost reports whether the calling goroutine may post a request
// itself. Not with indexer acknowledgement: the ack wait would keep the
// caller from polling its stop flag.
func (s *Sender) inlinePost() bool { return s.acks == nil }

// await waits for the requests of a Deliver call. It returns the spans
// not delivered with the errors of their requests; with a stop flag, a
// request still unanswered stopGrace after the halt is left (gaveUp).
func (s *Sender) await(spans []span, stopping func() bool) (left []span, errs []error, gaveUp bool) {
	for _, sp := range spans {
		if stopping == nil {
			<-sp.r.done
		} else if !s.awaitOne(sp.r) {
			gaveUp = true
			left = append(left, sp)
			continue
		}
		if sp.r.err != nil {
			errs = append(errs, sp.r.err)
			left = append(left, sp)
		}
	}
	return left, errs, gaveUp
}

// awaitOne waits for r, posted on another goroutine, and reports whether
// it finished; false once the Sender halted more than stopGrace ago.
func (s *Sender) awaitOne(r *request) bool {
	select {
	case <-r.done: // always so for a request the caller posted itself
		return true
	default:
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			return true
		case <-tick.C:
			if s.pastGrace() {
				return false
			}
		}
	}
}

// sleepUnlessStopping sleeps for d, in slices, and reports false as soon as
// the sender is stopping.
func (s *Sender) sleepUnlessStopping(d time.Duration) bool {
	for end := time.Now().Add(d); ; {
		if s.stopRequested() {
			return false
		}
		left := time.Until(end)
		if left <= 0 {
			return true
		}
		time.Sleep(min(left, 50*time.Millisecond))
	}
}
