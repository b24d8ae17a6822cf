// SPDX-License-Identifier: Apache-2.0

package hecreceiver

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Balancer stands in for a cookie-sticky load balancer (an AWS ALB) in
// front of several receivers, the indexers: a request with the balancer's
// cookie goes to the indexer it names; one without goes to the next in
// turn, and every answer sets the cookie naming the indexer that gave it.
// Behind it, ackIds of one channel collide across indexers (each counts
// from 0), as they do behind a real one.
type Balancer struct {
	cfg      BalancerConfig
	ln       net.Listener
	srv      *fasthttp.Server
	clients  []*fasthttp.HostClient
	next     atomic.Uint64
	requests atomic.Int64
	moved    atomic.Int64
	refused  atomic.Int64
	renewed  atomic.Int64
	flood    atomic.Int64
	// maxCookie is the longest Cookie header a request brought.
	maxCookie atomic.Int64
}

// BalancerConfig sets up a Balancer.
type BalancerConfig struct {
	Backends []*Receiver
	// Cookie is the stickiness cookie's name; "AWSALB" unless set.
	Cookie string
	// RequireCookie answers a request on a channel (an ack token's) that
	// lacks the cookie 400 and forwards nothing, as Splunk 10.4's
	// headerEnforcementMode=block does (the answer sets the cookie).
	RequireCookie bool
	// MoveEvery, when > 0, moves every MoveEvery-th data request that has
	// the cookie to another indexer, with a new cookie: the stickiness
	// moving as it does when an indexer leaves the target group.
	MoveEvery int64
	// RenewCookie gives the stickiness cookie a new value on every answer
	// while it keeps naming the same indexer (an ALB may re-issue its
	// cookie on each response).
	RenewCookie bool
	// FloodCookies sets that many cookies of new names on every answer,
	// as a broken or hostile server might.
	FloodCookies int
	// NotSticky spreads requests over the indexers in turn and sets no
	// cookie: a round-robin balancer nobody made sticky.
	NotSticky bool
}

// StartBalancer listens on a free loopback port.
func StartBalancer(cfg BalancerConfig) (*Balancer, error) {
	if cfg.Cookie == "" {
		cfg.Cookie = "AWSALB"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{cfg: cfg, ln: ln}
	for _, r := range cfg.Backends {
		b.clients = append(b.clients, &fasthttp.HostClient{Addr: r.Addr(), ReadTimeout: time.Minute,
			MaxResponseBodySize: 1 << 20})
	}
	b.srv = &fasthttp.Server{Handler: b.handle, Name: "balancer", NoDefaultServerHeader: true, ReadTimeout: time.Minute}
	go b.srv.Serve(ln) //nolint:errcheck // ends with Close
	return b, nil
}

// URL is the balancer's base URL.
func (b *Balancer) URL() string { return "http://" + b.ln.Addr().String() }

// Close stops the balancer.
func (b *Balancer) Close() { b.srv.Shutdown() } //nolint:errcheck // test helper

// Moved is how many requests the balancer moved to another indexer.
func (b *Balancer) Moved() int64 { return b.moved.Load() }

// Refused is how many requests it refused for a missing cookie.
func (b *Balancer) Refused() int64 { return b.refused.Load() }

func (b *Balancer) handle(ctx *fasthttp.RequestCtx) {
	n := len(b.clients)
	path := string(ctx.Path())
	data := strings.HasPrefix(path, "/services/collector/event") || strings.HasPrefix(path, "/services/collector/raw")
	seq := b.requests.Add(1)
	storeMax(&b.maxCookie, int64(len(ctx.Request.Header.Peek("Cookie"))))
	idx, gen := -1, int64(0)
	if v := string(ctx.Request.Header.Cookie(b.cfg.Cookie)); v != "" {
		i, g, ok := strings.Cut(v, ".")
		if k, err := strconv.Atoi(i); err == nil && ok && k >= 0 && k < n {
			idx = k
			gen, _ = strconv.ParseInt(g, 10, 64)
		}
	}
	onChannel := len(ctx.Request.Header.Peek("X-Splunk-Request-Channel")) > 0
	if b.cfg.NotSticky {
		if err := b.clients[int(b.next.Add(1)%uint64(n))].Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Response.Reset()
			ctx.SetStatusCode(502)
		}
		return
	}
	switch {
	case idx < 0:
		idx = int(b.next.Add(1) % uint64(n))
		gen = seq
		if b.cfg.RequireCookie && onChannel {
			b.refused.Add(1)
			b.setCookie(ctx, idx, gen)
			reply(ctx, 400, 10, "Data channel is missing. If you have multiple indexers, sticky session load "+
				"balancers must be provisioned and client requests must be routed accordingly.", "")
			return
		}
	case data && b.cfg.MoveEvery > 0 && seq%b.cfg.MoveEvery == 0:
		idx, gen = (idx+1)%n, seq
		b.moved.Add(1)
	}
	if err := b.clients[idx].Do(&ctx.Request, &ctx.Response); err != nil {
		ctx.Response.Reset()
		ctx.SetStatusCode(502)
		fmt.Fprintf(ctx, "balancer: %v", err)
	}
	b.setCookie(ctx, idx, gen)
}

func (b *Balancer) setCookie(ctx *fasthttp.RequestCtx, idx int, gen int64) {
	if b.cfg.RenewCookie {
		gen = b.renewed.Add(1)
	}
	var c fasthttp.Cookie
	c.SetKey(b.cfg.Cookie)
	c.SetValue(fmt.Sprintf("%d.%d", idx, gen))
	c.SetPath("/")
	ctx.Response.Header.SetCookie(&c)
	for range b.cfg.FloodCookies {
		var f fasthttp.Cookie
		f.SetKey(fmt.Sprintf("flood%d", b.flood.Add(1)))
		f.SetValue(strings.Repeat("x", 64))
		ctx.Response.Header.SetCookie(&f)
	}
}

// MaxCookieHeader is the longest Cookie header a request brought.
func (b *Balancer) MaxCookieHeader() int64 { return b.maxCookie.Load() }
