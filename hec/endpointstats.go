// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"sync/atomic"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
)

// Each endpoint's own counters, for impstats: one object per action and
// server, so that an admin sees which indexer is set aside, slow or
// refusing (the action's object sums them).

// EPCounter names one endpoint's counter. The order is the plugin
// boundary's enum omsg_ep_counter (cshim/omsplunkgo_plugin.h).
type EPCounter int

const (
	EPRequests       EPCounter = iota // HTTP requests carrying events to this endpoint, retries included
	EPHTTP2xx                         // its answers by status class
	EPHTTP4xx                         //
	EPHTTP5xx                         //
	EPHTTPOther                       //
	EPHTTPNoResponse                  // no answer: refused, reset, timed out
	EPProxyErrors                     // failed at the HTTP proxy on the way to it
	// Gauges.
	EPStanding    // 0 in standing, 1 set aside, 2 set aside and being probed
	EPLimit       // its adaptive limit on requests in flight
	EPInFlight    // its requests under way
	EPLastHECCode // the HEC code of its last answer that had one (-1 before: stored as 2^64-1)
	EPRoundTripMs // its smoothed answer time, ms
	NumEPCounters
)

// EPCounterNames are the per-endpoint impstats names, in EPCounter order
// (checked against the shim and the README by internal/countersdoc).
var EPCounterNames = [NumEPCounters]string{
	EPRequests: "requests", EPHTTP2xx: "http.2xx", EPHTTP4xx: "http.4xx", EPHTTP5xx: "http.5xx",
	EPHTTPOther: "http.other", EPHTTPNoResponse: "http.noresponse", EPProxyErrors: "proxy.errors",
	EPStanding: "standing", EPLimit: "inflight.limit", EPInFlight: "inflight", EPLastHECCode: "last.hec.code",
	EPRoundTripMs: "rtt.ms",
}

// EndpointCounters is the memory layout of one endpoint's counters that a
// host reads: NumEPCounters uint64, updated atomically.
type EndpointCounters [NumEPCounters]uint64

// AttachEndpointCounters makes the sender keep ext[i] for its i-th
// endpoint (in the order of Config.Endpoints), until Close.
func (s *Sender) AttachEndpointCounters(ext []*EndpointCounters) {
	for i, t := range s.pool.endpoints {
		if i < len(ext) && ext[i] != nil {
			t.stats.Store(ext[i])
		}
	}
}

func (t *target) add(k EPCounter, n uint64) {
	if e := t.stats.Load(); e != nil {
		atomic.AddUint64(&e[k], n)
	}
}

func (t *target) set(k EPCounter, v uint64) {
	if e := t.stats.Load(); e != nil {
		atomic.StoreUint64(&e[k], v)
	}
}

// countAnswer adds one answer of t's to its counters.
func (t *target) countAnswer(res *endpoint.Result) {
	if t.stats.Load() == nil {
		return
	}
	t.add(EPRequests, 1)
	switch {
	case res.Proxy:
		t.add(EPProxyErrors, 1)
	case res.Status == 0:
		t.add(EPHTTPNoResponse, 1)
	case res.Status >= 200 && res.Status < 300:
		t.add(EPHTTP2xx, 1)
	case res.Status >= 400 && res.Status < 500:
		t.add(EPHTTP4xx, 1)
	case res.Status >= 500 && res.Status < 600:
		t.add(EPHTTP5xx, 1)
	default:
		t.add(EPHTTPOther, 1)
	}
	if res.Reply.Code >= 0 {
		t.set(EPLastHECCode, uint64(res.Reply.Code))
	}
}

// setGauges publishes t's standing, limit, requests in flight and
// answer time.
func (t *target) setGauges() {
	if t.stats.Load() == nil {
		return
	}
	t.standing.mu.Lock()
	standing := uint64(0)
	if t.standing.aside {
		standing = 1
		if t.standing.probing {
			standing = 2
		}
	}
	t.standing.mu.Unlock()
	t.set(EPStanding, standing)
	t.set(EPLimit, uint64(t.limit.Limit()))
	t.set(EPInFlight, uint64(t.limit.InFlight()))
	t.set(EPRoundTripMs, uint64(t.limit.RoundTrip().Milliseconds()))
}
