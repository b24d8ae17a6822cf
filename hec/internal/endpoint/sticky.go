// SPDX-License-Identifier: Apache-2.0

package endpoint

import (
	"bytes"
	"slices"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// Channels behind a load balancer. ackIds count from 0 per channel on each
// indexer, so the requests and ack polls of one channel must all reach
// the same indexer. Load balancers that pin a client to an indexer do so
// with a cookie (AWS ELB/ALB: AWSELB, AWSALB, ...; Splunk's channel_cookie),
// which the client must send back: every cookie a server sets is kept per
// channel and sent with that channel's requests and ack polls. When the
// balancer moves a channel (a cookie it had set changes), the acks pending
// on that channel may be asked of another indexer, which never heard of
// them: the channel is replaced by a fresh one and its pending acks
// fail, so that their requests are sent again (duplicates, never a loss).

// stickiness holds the channels of an endpoint's connection slots and the
// cookies set for each.
type stickiness struct {
	mu       sync.Mutex
	channels []string            // per connection slot
	cookies  map[string][]cookie // per channel
}

type cookie struct{ name, value string }

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
	for _, c := range e.sticky.cookies[channel] {
		req.Header.SetCookie(c.name, c.value)
	}
}

// keepCookies records the cookies resp sets for channel and reports
// whether one the channel already had changed (the balancer moved it).
func (e *Endpoint) keepCookies(resp *fasthttp.Response, channel string) (moved bool) {
	if channel == "" {
		return false
	}
	var set []cookie
	for _, value := range resp.Header.Cookies() {
		nv, _, _ := bytes.Cut(value, []byte(";"))
		name, val, ok := bytes.Cut(nv, []byte("="))
		if ok && len(name) > 0 {
			set = append(set, cookie{strings.TrimSpace(string(name)), strings.TrimSpace(string(val))})
		}
	}
	if len(set) == 0 {
		return false
	}
	e.sticky.mu.Lock()
	defer e.sticky.mu.Unlock()
	if e.sticky.cookies == nil {
		e.sticky.cookies = map[string][]cookie{}
	}
	have := e.sticky.cookies[channel]
	for _, c := range set {
		i := slices.IndexFunc(have, func(h cookie) bool { return h.name == c.name })
		switch {
		case i < 0:
			have = append(have, c)
		case have[i].value != c.value:
			have[i].value = c.value
			moved = true
		}
	}
	e.sticky.cookies[channel] = have
	return moved
}

// renew replaces channel, wherever a slot holds it, by a fresh one, and
// returns it. The old channel keeps its cookies: a request answered just
// as the channel moved has its ackId from the indexer they now name.
func (e *Endpoint) renew(channel string) string {
	e.sticky.mu.Lock()
	defer e.sticky.mu.Unlock()
	fresh := newGUID()
	for i, c := range e.sticky.channels {
		if c == channel {
			e.sticky.channels[i] = fresh
		}
	}
	return fresh
}
