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
// per endpoint and channel per interval, and wakes the requests waiting on
// them.
type Acker struct {
	interval time.Duration
	// OnMoved, when set, hears of a channel a load balancer moved while
	// acks were pending on it (the pending ones have been failed).
	OnMoved func(ep *Endpoint, channel string)
	// OnPanic, when set, hears of a panic in the poller (which stops; the
	// next Wait starts another, and the waits under way time out).
	OnPanic func(p any, stack []byte)

	mu      sync.Mutex
	waiting map[ackKey]*waiter
	running bool
}

// waiter is one request waiting for its ack: done closes when the answer
// is known, acked says which.
type waiter struct {
	done  chan struct{}
	acked bool
	moved bool
}

// NewAcker polls every interval while acks are outstanding.
func NewAcker(interval time.Duration) *Acker {
	return &Acker{interval: interval, waiting: map[ackKey]*waiter{}}
}

// AckState is what became of a wait for an ack.
type AckState int

const (
	Acked      AckState = iota // HEC acknowledged it
	AckTimeout                 // not within the timeout
	AckMoved                   // the channel turned out to be on another indexer
	AckStopped                 // the wait was stopped
)

// Wait blocks until HEC acknowledges the ackId of res (a delivered
// request's Result), timeout passes, the channel moved or stop closes.
func (a *Acker) Wait(res Result, timeout time.Duration, stop <-chan struct{}) AckState {
	k := ackKey{res.Via, res.Channel, res.Reply.AckID}
	w := &waiter{done: make(chan struct{})}
	a.mu.Lock()
	if _, taken := a.waiting[k]; taken {
		// Two requests pending under one ackId of one channel: two
		// indexers gave it. Neither answer could be trusted.
		a.mu.Unlock()
		a.Moved(res.Via, res.Channel)
		return AckMoved
	}
	a.waiting[k] = w
	if !a.running {
		a.running = true
		go a.pollSafe()
	}
	a.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	state := AckTimeout
	select {
	case <-w.done:
		return w.state()
	case <-t.C:
	case <-stop:
		state = AckStopped
	}
	a.mu.Lock()
	if a.waiting[k] == w {
		delete(a.waiting, k)
	}
	a.mu.Unlock()
	select { // the answer may have come just now
	case <-w.done:
		return w.state()
	default:
		return state
	}
}

func (w *waiter) state() AckState {
	switch {
	case w.acked:
		return Acked
	case w.moved:
		return AckMoved
	default:
		return AckTimeout
	}
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
		type chanKey struct {
			ep      *Endpoint
			channel string
		}
		batch := map[chanKey][]int64{}
		a.mu.Lock()
		if len(a.waiting) == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		for k := range a.waiting {
			ck := chanKey{k.ep, k.channel}
			batch[ck] = append(batch[ck], k.id)
		}
		a.mu.Unlock()
		for ck, ids := range batch {
			acked, moved, err := ck.ep.queryAcks(ck.channel, ids)
			if moved {
				a.Moved(ck.ep, ck.channel)
				continue
			}
			if err != nil {
				continue // asked again next round; ack.timeout bounds the wait
			}
			a.mu.Lock()
			for _, id := range acked {
				k := ackKey{ck.ep, ck.channel, id}
				if w, ok := a.waiting[k]; ok {
					w.acked = true
					close(w.done)
					delete(a.waiting, k)
				}
			}
			a.mu.Unlock()
		}
	}
}

// Moved fails every ack pending on ep's channel, whose load balancer moved
// it to another indexer, and gives the channel's slots a fresh channel:
// the requests waiting are sent again there.
func (a *Acker) Moved(ep *Endpoint, channel string) {
	ep.renew(channel)
	a.mu.Lock()
	for k, w := range a.waiting {
		if k.ep == ep && k.channel == channel {
			delete(a.waiting, k)
			w.moved = true
			close(w.done) // the request goes again
		}
	}
	a.mu.Unlock()
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
	if err := e.client.DoTimeout(req, resp, e.timeout); err != nil {
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
