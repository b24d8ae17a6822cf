// SPDX-License-Identifier: Apache-2.0

package endpoint

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/valyala/fasthttp"
)

// newGUID returns a random (version 4) UUID, the form HEC wants for a
// channel.
func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ackKey names one outstanding acknowledgement.
type ackKey struct {
	ep      *Endpoint
	channel string
	id      int64
}

// Acker polls HEC's ack endpoint for every outstanding ackId, one request
// per endpoint and channel per interval (the channels of a round in
// parallel, so that a round costs one round trip, not one per channel),
// and tells each request's callback what became of it. No goroutine
// waits per request: a request awaiting its ack is data.
type Acker struct {
	interval time.Duration
	// OnMoved, when set, hears of a channel a load balancer moved while
	// acks were pending on it (the pending ones have been failed).
	OnMoved func(ep *Endpoint, channel string)
	// OnPanic, when set, hears of a panic in the poller (which stops; the
	// next Watch starts another, and the acks under way time out).
	OnPanic func(p any, stack []byte)
	// Grace, when set, replaces expireGrace's default (tests).
	Grace time.Duration

	mu       sync.Mutex
	waiting  map[ackKey]*waiter
	channels map[chanKey]*chanAcks
	running  bool
	stopped  bool
}

type chanKey struct {
	ep      *Endpoint
	channel string
}

// chanAcks is what a channel's answers said: ackIds acknowledged lately,
// and the highest acknowledged at least expireGrace ago.
type chanAcks struct {
	recent  []ackedAt
	settled int64
}

type ackedAt struct {
	id int64
	at time.Time
}

// waiter is one request waiting for its ack.
type waiter struct {
	fn       func(AckState)
	deadline time.Time
}

// pollers bounds the channels polled at once.
const pollers = 16

// NewAcker polls every interval while acks are outstanding.
func NewAcker(interval time.Duration) *Acker {
	return &Acker{interval: interval, waiting: map[ackKey]*waiter{}, channels: map[chanKey]*chanAcks{}}
}

// AckState is what became of a wait for an ack.
type AckState int

const (
	Acked      AckState = iota // HEC acknowledged it
	AckTimeout                 // not within the timeout
	AckMoved                   // the channel turned out to be on another indexer
	AckStopped                 // the wait was stopped
	// AckExpired: HEC dropped the pending ackId. Splunk 10.4's
	// ackExpiryMode=expire_at_90 evicts a full channel's oldest ids,
	// which then read false for good; seen as a later id of the channel
	// acknowledged for expireGrace while this one is not.
	AckExpired
)

// expireGrace is how long an ackId may stay unacknowledged after a later
// one of its channel was acknowledged before it counts as dropped:
// indexing pipelines finish requests slightly out of order.
func (a *Acker) expireGrace() time.Duration {
	if a.Grace > 0 {
		return a.Grace
	}
	return max(5*time.Second, 4*a.interval)
}

// Watch registers the ackId of res (a delivered request's Result); fn is
// called once, on the acker's goroutine (or at once), with what became of
// it within timeout. fn must not block.
func (a *Acker) Watch(res Result, timeout time.Duration, fn func(AckState)) {
	k := ackKey{res.Via, res.Channel, res.Reply.AckID}
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		fn(AckStopped)
		return
	}
	if _, taken := a.waiting[k]; taken {
		// Two requests pending under one ackId of one channel: two
		// indexers gave it. Neither answer could be trusted.
		a.mu.Unlock()
		a.Moved(res.Via, res.Channel)
		fn(AckMoved)
		return
	}
	a.waiting[k] = &waiter{fn: fn, deadline: time.Now().Add(timeout)}
	if !a.running {
		a.running = true
		go a.pollSafe()
	}
	a.mu.Unlock()
}

// Wait blocks until HEC acknowledges the ackId of res, timeout passes,
// the channel moved or stop closes.
func (a *Acker) Wait(res Result, timeout time.Duration, stop <-chan struct{}) AckState {
	ch := make(chan AckState, 1)
	a.Watch(res, timeout, func(st AckState) { ch <- st })
	select {
	case st := <-ch:
		return st
	case <-stop:
		return AckStopped
	}
}

// Stop ends every wait with AckStopped; later Watches end at once.
func (a *Acker) Stop() {
	a.mu.Lock()
	a.stopped = true
	ws := a.waiting
	a.waiting = map[ackKey]*waiter{}
	a.mu.Unlock()
	for _, w := range ws {
		w.fn(AckStopped)
	}
}

// Pending is the number of ackIds awaited.
func (a *Acker) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.waiting)
}

// pollSafe runs poll, recovering from a panic in it.
func (a *Acker) pollSafe() {
	defer func() {
		if p := recover(); p != nil {
			a.mu.Lock()
			a.running = false
			a.mu.Unlock()
			if a.OnPanic != nil {
				a.OnPanic(p, debug.Stack())
			}
		}
	}()
	a.poll()
}

// poll runs while acks are outstanding.
func (a *Acker) poll() {
	for {
		time.Sleep(a.interval)
		batch := map[chanKey][]int64{}
		a.mu.Lock()
		if len(a.waiting) == 0 || a.stopped {
			a.running = false
			a.channels = map[chanKey]*chanAcks{}
			a.mu.Unlock()
			return
		}
		for k := range a.waiting {
			ck := chanKey{k.ep, k.channel}
			batch[ck] = append(batch[ck], k.id)
		}
		a.mu.Unlock()
		var wg sync.WaitGroup
		sem := make(chan struct{}, pollers)
		for ck, ids := range batch {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				a.pollChannel(ck, ids)
			}()
		}
		wg.Wait()
		a.endOverdue(batch)
	}
}

// pollChannel asks about one channel's ids and tells their callbacks.
func (a *Acker) pollChannel(ck chanKey, ids []int64) {
	acked, moved, err := ck.ep.queryAcks(ck.channel, ids)
	if moved {
		a.Moved(ck.ep, ck.channel)
		return
	}
	if err != nil {
		return // asked again next round; the timeout bounds the wait
	}
	now := time.Now()
	var done []*waiter
	a.mu.Lock()
	c := a.channels[ck]
	if c == nil {
		c = &chanAcks{settled: -1}
		a.channels[ck] = c
	}
	for _, id := range acked {
		k := ackKey{ck.ep, ck.channel, id}
		if w, ok := a.waiting[k]; ok {
			done = append(done, w)
			delete(a.waiting, k)
			c.recent = append(c.recent, ackedAt{id, now})
		}
	}
	a.mu.Unlock()
	for _, w := range done {
		w.fn(Acked)
	}
}

// endOverdue ends the waits past their deadline (AckTimeout) and those
// whose ackId HEC dropped (AckExpired).
func (a *Acker) endOverdue(polled map[chanKey][]int64) {
	now := time.Now()
	grace := a.expireGrace()
	type end struct {
		w  *waiter
		st AckState
	}
	var ends []end
	a.mu.Lock()
	for ck, c := range a.channels {
		kept := c.recent[:0]
		for _, r := range c.recent {
			if now.Sub(r.at) >= grace {
				c.settled = max(c.settled, r.id)
			} else {
				kept = append(kept, r)
			}
		}
		c.recent = kept
		if _, active := polled[ck]; !active && len(c.recent) == 0 {
			delete(a.channels, ck)
		}
	}
	for k, w := range a.waiting {
		c := a.channels[chanKey{k.ep, k.channel}]
		switch {
		case c != nil && k.id < c.settled:
			ends = append(ends, end{w, AckExpired})
		case now.After(w.deadline):
			ends = append(ends, end{w, AckTimeout})
		default:
			continue
		}
		delete(a.waiting, k)
	}
	a.mu.Unlock()
	for _, e := range ends {
		e.w.fn(e.st)
	}
}

// Moved fails every ack pending on ep's channel, whose load balancer moved
// it to another indexer, and gives the channel's slots a fresh channel:
// the requests waiting are sent again there.
func (a *Acker) Moved(ep *Endpoint, channel string) {
	ep.renew(channel)
	var moved []*waiter
	a.mu.Lock()
	for k, w := range a.waiting {
		if k.ep == ep && k.channel == channel {
			delete(a.waiting, k)
			moved = append(moved, w)
		}
	}
	delete(a.channels, chanKey{ep, channel})
	a.mu.Unlock()
	for _, w := range moved {
		w.fn(AckMoved)
	}
	if a.OnMoved != nil {
		a.OnMoved(ep, channel)
	}
}

// queryAcks asks HEC which of ids on channel are indexed, and reports
// whether a load balancer moved the channel (then the answer is not
// trusted: it may come from another indexer).
func (e *Endpoint) queryAcks(channel string, ids []int64) (acked []int64, moved bool, err error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	e.prepare(req, PathAck, channel)
	e.sendCookies(req, channel)
	body := append(make([]byte, 0, 16+8*len(ids)), `{"acks":[`...)
	for i, id := range ids {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(body, id, 10)
	}
	req.SetBodyRaw(append(body, "]}"...))
	if err := e.ackClient.DoTimeout(req, resp, e.timeout); err != nil {
		return nil, false, err
	}
	e.keepCookies(resp, channel)
	if resp.StatusCode() == 400 {
		// The indexer this poll reached does not know the channel: it is
		// not the one that gave the ackIds.
		if r, err := ParseReply(resp.Body()); err == nil && r.Code == CodeChannelInvalid {
			return nil, true, nil
		}
	}
	if resp.StatusCode() != 200 {
		return nil, false, fmt.Errorf("ack query: HTTP %d: %s", resp.StatusCode(), printable(resp.Body(), 200))
	}
	acked, err = parseAcks(resp.Body())
	return acked, false, err
}

// parseAcks reads {"acks":{"3":true,"4":false}} and returns the true ids.
func parseAcks(body []byte) ([]int64, error) {
	it := jsoniter.ConfigFastest.BorrowIterator(body)
	defer jsoniter.ConfigFastest.ReturnIterator(it)
	var acked []int64
	// ReadObjectCB: a ReadObject loop would stop at an empty key.
	it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
		if field != "acks" || it.WhatIsNext() != jsoniter.ObjectValue {
			it.Skip()
			return it.Error == nil
		}
		return it.ReadObjectCB(func(it *jsoniter.Iterator, id string) bool {
			if it.WhatIsNext() != jsoniter.BoolValue {
				it.Skip()
				return it.Error == nil
			}
			ok := it.ReadBool()
			if n, err := strconv.ParseInt(id, 10, 64); ok && err == nil {
				acked = append(acked, n)
			}
			return it.Error == nil
		})
	})
	if it.Error != nil && !errors.Is(it.Error, io.EOF) {
		return nil, fmt.Errorf("ack reply is not valid JSON: %v", it.Error)
	}
	return acked, nil
}
