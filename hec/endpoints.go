// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/aimd"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/proxy"
)

// Endpoint health. An endpoint that fails a request transiently (no
// answer in time, refused, reset, 5xx, busy) is set aside: it gets no
// traffic until its health endpoint answers again, which a prober asks at
// growing intervals. While several endpoints are configured, each starts
// set aside until its first health answer, so that one that accepts
// connections and never answers costs nothing but its probe. When every
// endpoint is set aside, requests go to all of them in turn anyway: the
// retry backoff paces them, and data is never held back by the probes'
// opinion alone.

// Probe intervals of a set-aside endpoint: the first probe right away,
// then doubling up to probeMax.
const (
	probeFirst = 250 * time.Millisecond
	probeMax   = 30 * time.Second
	// flapLogEvery bounds the set-aside/back log lines per endpoint.
	flapLogEvery = time.Minute
)

// target is one configured HEC endpoint with its standing, its limit on
// requests in flight and its free connection slots (each slot has its
// channel).
type target struct {
	*endpoint.Endpoint
	standing standing
	limit    *aimd.Limiter
	free     []int                            // connection slots not in use, the last freed on top (guarded by pool.mu)
	proxy    *proxy.Proxy                     // the HTTP proxy it is reached through, nil: directly
	stats    atomic.Pointer[EndpointCounters] // its impstats counters, when the host gave some
}

func (t *target) isAside() bool {
	t.standing.mu.Lock()
	defer t.standing.mu.Unlock()
	return t.standing.aside
}

// newTarget prepares the endpoint at u; abort is asked whenever a wait for
// it is interrupted (true: the Sender is stopping).
func newTarget(u *url.URL, c *Config, abort func() bool) (*target, error) {
	o := endpoint.Options{Token: c.Token, Connections: c.Connections, Timeout: c.Timeout,
		Channels: c.UseAck || c.Endpoint == EndpointRaw, Abort: abort}
	if u.Scheme == "https" {
		name := u.Hostname()
		if c.TLSServerName != "" {
			name = c.TLSServerName
		}
		tc, err := tlsConfig(name, c)
		if err != nil {
			return nil, err
		}
		o.TLS = tc
	}
	p, err := proxyFor(u, c)
	if err != nil {
		return nil, err
	}
	o.Proxy = p
	t := &target{Endpoint: endpoint.New(u, o), limit: aimd.New(initialLimit, c.Connections), proxy: p}
	for i := c.Connections - 1; i >= 0; i-- {
		t.free = append(t.free, i)
	}
	return t, nil
}

// standing is one endpoint's health as the sender sees it.
type standing struct {
	mu      sync.Mutex
	aside   bool
	probing bool
	// Logging, at most one set-aside line per flapLogEvery, and a "back"
	// line only for an episode whose set-aside line was logged.
	loggedAt    time.Time
	loggedAside bool
	flaps       int // set-asides not logged since the last line
}

// setAside marks ep as out of traffic for cause, logging it (rate-limited).
func (p *pool) setAside(ep *target, cause string) {
	st := &ep.standing
	st.mu.Lock()
	if st.aside && st.loggedAside {
		st.mu.Unlock()
		return
	}
	st.aside = true
	more := ""
	logIt := time.Since(st.loggedAt) >= flapLogEvery
	if logIt {
		if st.flaps > 0 {
			more = fmt.Sprintf(" (set aside %d more times since the last such line)", st.flaps)
		}
		st.loggedAt, st.loggedAside, st.flaps = time.Now(), true, 0
	} else {
		st.flaps++
	}
	st.mu.Unlock()
	if logIt {
		p.log(SevWarning, fmt.Sprintf("omsplunkgo: %s set aside: %s; it gets traffic again once its health endpoint answers%s",
			ep.URL, cause, more))
	}
}

// start: with several endpoints, each starts set aside until its first
// health answer; firstAnswer is closed once one is healthy, or all first
// probes have come back.
func (p *pool) start() {
	p.firstAnswer = make(chan struct{})
	if len(p.endpoints) == 1 {
		close(p.firstAnswer)
		return
	}
	p.firstProbes.Store(int32(len(p.endpoints)))
	for _, ep := range p.endpoints {
		ep.standing.aside = true
		p.startProbe(ep)
	}
}

// waitFirstAnswer waits, at most timeout, until an endpoint answered its
// first health probe after the start.
func (p *pool) waitFirstAnswer() {
	select {
	case <-p.firstAnswer:
	default:
		t := time.NewTimer(p.wait)
		select {
		case <-p.firstAnswer:
		case <-t.C:
		case <-p.halt:
		}
		t.Stop()
	}
}

// judge sets ep aside after a transient failure (no answer in time,
// refused, reset, 5xx, busy). A refused event or a bad token says nothing
// about the endpoint's health. A single endpoint is never set aside: there
// is nowhere else to go.
func (p *pool) judge(ep *target, res *endpoint.Result) {
	if res.Outcome != endpoint.Transient || len(p.endpoints) == 1 {
		return
	}
	p.setAside(ep, res.Error())
	p.startProbe(ep)
}

// startProbe asks ep's health endpoint until it answers, then puts ep
// back. One prober per endpoint at a time; it ends with the sender.
func (p *pool) startProbe(ep *target) {
	st := &ep.standing
	st.mu.Lock()
	if st.probing {
		st.mu.Unlock()
		return
	}
	st.probing = true
	st.mu.Unlock()
	p.goSafe("health prober", func() {
		defer func() { // also after a panic: a later failure probes again
			st.mu.Lock()
			st.probing = false
			st.mu.Unlock()
		}()
		wait := probeFirst
		for first := true; ; first = false {
			res := ep.Health()
			alive := res.Healthy()
			logBack := false
			if alive {
				// Back in standing before firstAnswer opens: acquire must
				// find it there, not fall back to all endpoints.
				st.mu.Lock()
				logBack = st.loggedAside
				st.aside, st.probing, st.loggedAside = false, false, false
				st.mu.Unlock()
				p.wake()
			} else {
				p.setAside(ep, "health endpoint: "+res.Error())
			}
			if first && (alive || p.firstProbes.Add(-1) == 0) {
				p.firstAnswerOnce.Do(func() { close(p.firstAnswer) })
			}
			if alive {
				p.back()
				if logBack {
					p.log(SevInfo, fmt.Sprintf("omsplunkgo: %s answers its health endpoint again and gets traffic again", ep.URL))
				}
				return
			}
			select {
			case <-p.halt:
				st.mu.Lock()
				st.probing = false
				st.mu.Unlock()
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, probeMax)
		}
	})
}

// Probe reports whether any endpoint says it is healthy; rsyslog's
// tryResume uses it before giving the action new batches.
func (s *Sender) Probe() error {
	if err := s.brokenErr(); err != nil {
		return fmt.Errorf("%w: %w", ErrSuspend, err)
	}
	if err := s.pool.healthy(); err != nil {
		return fmt.Errorf("%w: %v", ErrSuspend, err)
	}
	if s.trouble.Load() {
		s.win.hurry() // HEC says it is back: the waiting requests go now, not at their pause's end
	}
	// rsyslog commits the batch it holds next: resuming into a window that
	// has no room for it would only suspend again at once.
	ev, by := s.lastRefused()
	if s.win.full() || !s.win.fits(ev, by) {
		h := s.held()
		return fmt.Errorf("%w: %w (%d events, %d bytes)", ErrSuspend, errWindowFull, h.events, h.bytes)
	}
	return nil
}

// healthy asks the endpoints' health endpoints in turn until one answers
// healthy; nil then, else what each said.
func (p *pool) healthy() error {
	var errs []error
	for _, ep := range p.endpoints {
		res := ep.Health()
		if res.Outcome == endpoint.Delivered {
			return nil
		}
		errs = append(errs, errors.New(res.Error()))
	}
	return errors.Join(errs...)
}

// proxyFor is the HTTP proxy to reach u through: the proxy parameter, or
// where it is unset the environment's (https_proxy, http_proxy, no_proxy);
// proxy="none" ignores the environment. nil: connect directly.
func proxyFor(u *url.URL, c *Config) (*proxy.Proxy, error) {
	switch c.Proxy {
	case ProxyNone:
		return nil, nil
	case "":
		return proxy.FromEnv(os.Getenv, u.Scheme, u.Hostname(), u.Port())
	}
	return proxy.Parse(c.Proxy, "parameter "+OptProxy)
}

func tlsConfig(serverName string, c *Config) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, InsecureSkipVerify: !c.TLSVerify, MinVersion: tls.VersionTLS12}
	if c.TLSCACert != "" {
		pem, err := os.ReadFile(c.TLSCACert)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", OptTLSCACert, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %q holds no PEM certificate", OptTLSCACert, c.TLSCACert)
		}
		tc.RootCAs = pool
	}
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %v", OptTLSCert, OptTLSKey, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
