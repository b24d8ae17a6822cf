// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/aimd"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
)

// grant is a place for one request on one endpoint, with the connection
// slot (and so the channel) it uses.
type grant struct {
	ep    *target
	slot  int
	start time.Time
}

// places hands out grants. Waiters sleep on cond; a release, an endpoint
// coming back and the halt wake them.
type places struct {
	mu   sync.Mutex
	cond *sync.Cond
}

// acquire waits for a place on an endpoint in standing (on any endpoint
// when none is), the least loaded first; nil once the sender halts.
func (s *Sender) acquire() *grant {
	s.waitFirstAnswer()
	p := &s.places
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if s.stopping.Load() {
			return nil
		}
		if ep := s.leastLoaded(true); ep != nil {
			return ep.take()
		}
		if !s.anyInStanding() {
			if ep := s.leastLoaded(false); ep != nil {
				return ep.take()
			}
		}
		p.cond.Wait()
	}
}

// leastLoaded takes a place on the endpoint with the lowest share in use,
// among those in standing (or all), starting at the round-robin cursor so
// that ties rotate.
func (s *Sender) leastLoaded(inStanding bool) *target {
	n := len(s.endpoints)
	start := int(s.next.Add(1))
	var best *target
	bestLoad := 2.0
	for i := range n {
		ep := s.endpoints[(start+i)%n]
		if inStanding && ep.isAside() {
			continue
		}
		if l := ep.limit.Load(); l < 1 && l < bestLoad {
			best, bestLoad = ep, l
		}
	}
	if best == nil || !best.limit.TryAcquire() {
		return nil
	}
	return best
}

func (s *Sender) anyInStanding() bool {
	for _, ep := range s.endpoints {
		if !ep.isAside() {
			return true
		}
	}
	return false
}

// take gives a grant on t with the slot freed last: a request tried again
// mostly gets the channel (and its balancer cookie) and connection it had.
// Called with places.mu held.
func (t *target) take() *grant {
	slot := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	return &grant{ep: t, slot: slot, start: time.Now()}
}

// release gives g's place back, telling its endpoint's limiter what the
// answer says about the endpoint's load.
func (s *Sender) release(g *grant, res *endpoint.Result) {
	s.places.mu.Lock()
	// The slot goes back before the limiter's place: acquire takes a
	// slot whenever the limiter grants a place.
	g.ep.free = append(g.ep.free, g.slot)
	g.ep.limit.Release(loadSignal(res), time.Since(g.start), time.Now())
	s.places.cond.Broadcast()
	s.places.mu.Unlock()
}

func (s *Sender) wakePlaces() {
	s.places.mu.Lock()
	s.places.cond.Broadcast()
	s.places.mu.Unlock()
}

// loadSignal reads an answer as the limiter needs it: busy, throttled,
// timed out, reset and 5xx are back-pressure; a refused connection or a
// configuration error says nothing about load.
func loadSignal(res *endpoint.Result) aimd.Outcome {
	switch {
	case res.Busy:
		return aimd.BackPressure
	case res.Outcome == endpoint.Delivered || res.Outcome == endpoint.Rejected:
		return aimd.Answered
	case res.Outcome == endpoint.Transient && res.Status == 0 && errors.Is(res.Err, syscall.ECONNREFUSED):
		return aimd.Ignored
	case res.Outcome == endpoint.Transient:
		return aimd.BackPressure
	default:
		return aimd.Ignored
	}
}
