// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"sync"
	"sync/atomic"
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

// pool is the action's endpoints: their places (each endpoint's
// connection slots, under its adaptive limit) and their standing (in
// standing or set aside, the probers that bring them back, the first
// answer at the start; endpoints.go). Its state and locks are its own:
// mu guards the free slots and taking and giving back places (cond wakes
// acquire: a release, an endpoint coming back, the halt); each
// endpoint's standing has its own lock, taken alone or under mu. The
// sender reaches it through acquire, release, judge and healthy, and
// hears from it through back.
type pool struct {
	endpoints []*target
	next      atomic.Uint32 // round-robin cursor over endpoints
	mu        sync.Mutex
	cond      *sync.Cond
	// firstAnswer is closed once an endpoint answered its first health
	// probe, or all first probes came back.
	firstAnswer     chan struct{}
	firstAnswerOnce sync.Once
	firstProbes     atomic.Int32 // first probes not yet back

	log      Logger
	wait     time.Duration   // at most this long for the first answer
	halt     <-chan struct{} // closed when the sender halts
	stopping *atomic.Bool
	goSafe   func(where string, fn func())
	back     func() // an endpoint answers its health endpoint again
}

// newPool prepares a client per endpoint of c; abort is asked whenever a
// wait for an endpoint is interrupted.
func newPool(c *Config, abort func() bool) (*pool, error) {
	p := &pool{wait: c.Timeout}
	p.cond = sync.NewCond(&p.mu)
	for _, u := range c.Endpoints {
		ep, err := newTarget(u, c, abort)
		if err != nil {
			return nil, err
		}
		p.endpoints = append(p.endpoints, ep)
	}
	return p, nil
}

// acquire waits for a place on an endpoint in standing (on any endpoint
// when none is), the least loaded first; nil once the sender halts.
func (p *pool) acquire() *grant {
	p.waitFirstAnswer()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.stopping.Load() {
			return nil
		}
		if ep := p.leastLoaded(true); ep != nil {
			return ep.take()
		}
		if !p.anyInStanding() {
			if ep := p.leastLoaded(false); ep != nil {
				return ep.take()
			}
		}
		p.cond.Wait()
	}
}

// leastLoaded takes a place on the endpoint with the lowest share in use,
// among those in standing (or all), starting at the round-robin cursor so
// that ties rotate.
func (p *pool) leastLoaded(inStanding bool) *target {
	n := len(p.endpoints)
	start := int(p.next.Add(1))
	var best *target
	bestLoad := 2.0
	for i := range n {
		ep := p.endpoints[(start+i)%n]
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

func (p *pool) anyInStanding() bool {
	for _, ep := range p.endpoints {
		if !ep.isAside() {
			return true
		}
	}
	return false
}

// take gives a grant on t with the slot freed last: a request tried again
// mostly gets the channel (and its balancer cookie) and connection it had.
// Called with pool.mu held.
func (t *target) take() *grant {
	slot := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	return &grant{ep: t, slot: slot, start: time.Now()}
}

// release gives g's place back, telling its endpoint's limiter what the
// answer says about the endpoint's load.
func (p *pool) release(g *grant, res *endpoint.Result) {
	p.mu.Lock()
	// The slot goes back before the limiter's place: acquire takes a
	// slot whenever the limiter grants a place.
	g.ep.free = append(g.ep.free, g.slot)
	g.ep.limit.Release(loadSignal(res), time.Since(g.start), time.Now())
	p.cond.Broadcast()
	p.mu.Unlock()
}

// wake makes acquire look again (an endpoint came back, the halt).
func (p *pool) wake() {
	p.mu.Lock()
	p.cond.Broadcast()
	p.mu.Unlock()
}

// limitSum is the endpoints' adaptive limits, summed (a gauge).
func (p *pool) limitSum() int {
	n := 0
	for _, ep := range p.endpoints {
		n += ep.limit.Limit()
	}
	return n
}

// setToken makes every endpoint's next request carry token.
func (p *pool) setToken(token string) {
	for _, ep := range p.endpoints {
		ep.SetToken(token)
	}
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
