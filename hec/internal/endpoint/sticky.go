// SPDX-License-Identifier: Apache-2.0

package endpoint

import (
	"bytes"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// Channels behind a load balancer. ackIds count from 0 per channel on each
// indexer, so the requests and ack polls of one channel must all reach
// the same indexer. Load balancers that pin a client to an indexer do so
// with a cookie (AWS ELB/ALB: AWSELB, AWSALB, ...; Splunk's channel_cookie),
// which the client must send back: the cookies a server sets are kept per
// channel, the latest value of each, and sent with that channel's requests
// and ack polls. A cookie whose value changes says nothing by itself (an
// ALB may re-issue its cookie on every answer); that a channel reached
// another indexer is read from the acks only: an ackId that does not rise
// on its channel, or an ack poll the indexer answers with "invalid
// channel". Then the channel is replaced by a fresh one and its pending
// acks fail, so that their requests are sent again (duplicates, never a
// loss).

// Bounds of a channel's cookie jar: a server that sets ever new cookies
// must not grow every request's header, nor the process.
const (
	maxCookies     = 16
	maxCookieBytes = 4 << 10 // names and values of one jar together
)

// stickiness holds the channels of an endpoint's connection slots, the
// cookies set for each and the last ackId each was given.
type stickiness struct {
	mu       sync.Mutex
	channels []string        // per connection slot
	jars     map[string]*jar // per channel
	lastAck  map[string]int64
}

// jar is one channel's cookies, most recently set last.
type jar struct {
	cookies []cookie
	bytes   int
}

type cookie struct{ name, value string }

// set keeps c as the latest value of its name; past the bounds the
// cookies set longest ago go (a stickiness cookie is set again and again,
// so it stays).
func (j *jar) set(c cookie) {
	for i, have := range j.cookies {
		if have.name == c.name {
			j.bytes -= len(have.name) + len(have.value)
			j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
			break
		}
	}
	if len(c.name)+len(c.value) > maxCookieBytes {
		return
	}
	j.cookies = append(j.cookies, c)
	j.bytes += len(c.name) + len(c.value)
	for len(j.cookies) > maxCookies || j.bytes > maxCookieBytes {
		j.bytes -= len(j.cookies[0].name) + len(j.cookies[0].value)
		j.cookies = j.cookies[1:]
	}
}

// Channel is the channel of connection slot slot, "" when the endpoint
// has none.
func (e *Endpoint) Channel(slot int) string {
	e.sticky.mu.Lock()
	defer e.sticky.mu.Unlock()
	if e.sticky.channels == nil {
		return ""
	}
	return e.sticky.channels[slot%len(e.sticky.channels)]
}

// sendCookies adds the channel's cookies to req.
func (e *Endpoint) sendCookies(req *fasthttp.Request, channel string) {
	if channel == "" {
		return
	}
	e.sticky.mu.Lock()
	defer e.sticky.mu.Unlock()
	if j := e.sticky.jars[channel]; j != nil {
		for _, c := range j.cookies {
			req.Header.SetCookie(c.name, c.value)
		}
	}
}

// keepCookies records the cookies resp sets for channel.
func (e *Endpoint) keepCookies(resp *fasthttp.Response, channel string) {
	if channel == "" {
		return
	}
	var set []cookie
	for _, value := range resp.Header.Cookies() {
		nv, _, _ := bytes.Cut(value, []byte(";"))
		name, val, ok := bytes.Cut(nv, []byte("="))
		if ok && len(bytes.TrimSpace(name)) > 0 {
			set = append(set, cookie{strings.TrimSpace(string(name)), strings.TrimSpace(string(val))})
		}
		if len(set) > 2*maxCookies {
			break // the rest would only push these out again
		}
	}
	if len(set) == 0 {
		return
	}
	e.sticky.mu.Lock()
	defer e.sticky.mu.Unlock()
	if e.sticky.jars == nil {
		e.sticky.jars = map[string]*jar{}
	}
	j := e.sticky.jars[channel]
	if j == nil {
		j = &jar{}
		e.sticky.jars[channel] = j
	}
	for _, c := range set {
		j.set(c)
	}
}

// ackIDMoved records the ackId HEC gave a request on channel and reports
// whether it shows another indexer: ids rise on one indexer's channel, so
// one that does not rise comes from an indexer that counts the channel
// apart (or from one that restarted and forgot it: the pending acks are
// lost either way).
func (e *Endpoint) ackIDMoved(channel string, id int64) bool {
	if channel == "" || id < 0 {
		return false
	}
	e.sticky.mu.Lock()
	defer e.sticky.mu.Unlock()
	if e.sticky.lastAck == nil {
		e.sticky.lastAck = map[string]int64{}
	}
	last, seen := e.sticky.lastAck[channel]
	e.sticky.lastAck[channel] = id
	return seen && id <= last
}

// renew replaces channel, wherever a slot holds it, by a fresh one, and
// returns it. The new channel starts with the old one's cookies: the
// balancer's latest word on where this client belongs.
func (e *Endpoint) renew(channel string) string {
	e.sticky.mu.Lock()
	defer e.sticky.mu.Unlock()
	fresh := newGUID()
	for i, c := range e.sticky.channels {
		if c == channel {
			e.sticky.channels[i] = fresh
		}
	}
	if j := e.sticky.jars[channel]; j != nil {
		e.sticky.jars[fresh] = &jar{cookies: append([]cookie(nil), j.cookies...), bytes: j.bytes}
	}
	delete(e.sticky.lastAck, channel)
	return fresh
}
