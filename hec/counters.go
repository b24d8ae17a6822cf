// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"sync/atomic"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
)

// Counter names one of the sender's running totals. The order is the
// plugin boundary's enum omsg_counter (cshim/omsplunkgo_plugin.h), so that
// rsyslog's impstats can read the totals straight from C memory.
type Counter int

const (
	CtrSubmitted       Counter = iota // messages committed to the action (Worker.Deliver)
	CtrDelivered                      // events HEC accepted
	CtrRejected                       // events set aside (errorfile)
	CtrTruncated                      // events cut to event.maxbytes
	CtrFieldsInvalid                  // events sent without their fields: the rendering was no flat JSON object
	CtrRequests                       // HTTP requests carrying events, retries included
	CtrRequestsRetried                // requests sent again after a transient failure
	CtrHTTP2xx                        // answers by status class
	CtrHTTP4xx
	CtrHTTP5xx
	CtrHTTPOther       // 1xx, 3xx
	CtrHTTPNoResponse  // no HTTP answer: refused, reset, timed out
	CtrBytesSent       // request body bytes posted (after gzip)
	CtrSpooled         // events saved to spool.dir during a shutdown
	CtrReplayed        // spooled events delivered after a start
	CtrAckTimeouts     // requests sent again for want of an ack
	CtrRawLineBreaks   // raw endpoint: messages whose line breaks were escaped
	CtrAckChannelMoves // channels a load balancer moved while acks were pending (their requests went again)
	CtrWindowNoFile    // events accepted while the window's files could not be written (kept in memory)
	CtrPanics          // internal errors (Go panics) recovered
	CtrAckExpired      // requests sent again because HEC dropped their pending ackId (a later one was acknowledged)
	CtrProxyErrors     // requests that failed at the HTTP proxy (unreachable, or it refused the tunnel): nothing reached HEC
	CtrTimeReplaced    // events whose reported time was out of time.maxpast/maxfuture: sent with the receive time
	CtrRouteFallback   // events whose rendered index or sourcetype was outside its allow-list: sent with the fallback
	CtrIndexOnRefused  // events HEC refused for their index (code 7), sent again to index.onrefused
	// Gauges: values now, not totals (set every second, never reset).
	CtrInFlight     // requests under way: posting, retrying (those awaiting an ack: CtrAckPending)
	CtrLimit        // the endpoints' adaptive limits on requests in flight, summed
	CtrWindowEvents // events in the window: accepted, not yet taken by HEC
	CtrWindowBytes  // their bytes
	CtrAckPending   // events awaiting their ack (held in the window's files, not in memory, where there are files)
	NumCounters
)

// CounterNames are the counters' impstats names, in Counter order: the
// one list the shim's enum omsg_counter and its names (cshim/stats.c) and
// the README's table are checked against (make lint, internal/countersdoc).
var CounterNames = [NumCounters]string{
	CtrSubmitted: "submitted", CtrDelivered: "delivered", CtrRejected: "rejected", CtrTruncated: "truncated",
	CtrFieldsInvalid: "fields.invalid", CtrRequests: "requests", CtrRequestsRetried: "requests.retried",
	CtrHTTP2xx: "http.2xx", CtrHTTP4xx: "http.4xx", CtrHTTP5xx: "http.5xx", CtrHTTPOther: "http.other",
	CtrHTTPNoResponse: "http.noresponse", CtrBytesSent: "bytes.sent", CtrSpooled: "spooled",
	CtrReplayed: "replayed", CtrAckTimeouts: "ack.timeouts", CtrRawLineBreaks: "raw.linebreaks",
	CtrAckChannelMoves: "ack.channel.moves", CtrWindowNoFile: "window.nofile", CtrPanics: "panics",
	CtrAckExpired: "ack.expired", CtrProxyErrors: "proxy.errors", CtrTimeReplaced: "time.replaced",
	CtrRouteFallback: "route.fallback", CtrIndexOnRefused: "index.onrefused", CtrInFlight: "inflight", CtrLimit: "inflight.limit",
	CtrWindowEvents: "window.events", CtrWindowBytes: "window.bytes", CtrAckPending: "ack.pending",
}

// Counters is the memory layout of the totals an embedding host reads
// (rsyslog's impstats, through the plugin): NumCounters uint64, updated
// with atomic adds.
type Counters [NumCounters]uint64

// counters are the sender's totals. own feeds Stats and the log summary;
// ext, when attached, is the host's copy (which the host may reset).
type counters struct {
	own [NumCounters]atomic.Int64
	ext atomic.Pointer[Counters]
}

func (c *counters) add(k Counter, n int64) {
	c.own[k].Add(n)
	if e := c.ext.Load(); e != nil {
		atomic.AddUint64(&e[k], uint64(n))
	}
}

func (c *counters) get(k Counter) int64 { return c.own[k].Load() }

// set gives gauge k its value now.
func (c *counters) set(k Counter, v int64) {
	c.own[k].Store(v)
	if e := c.ext.Load(); e != nil {
		atomic.StoreUint64(&e[k], uint64(v))
	}
}

// gaugeEvery is how often the gauges are published: impstats reads them
// every few seconds at most.
const gaugeEvery = time.Second

// publishGauges keeps the gauges current until the sender halts.
func (s *Sender) publishGauges() {
	t := time.NewTicker(gaugeEvery)
	defer t.Stop()
	for {
		s.setGauges()
		select {
		case <-t.C:
		case <-s.haltCh:
			return
		}
	}
}

func (s *Sender) setGauges() {
	limit := s.pool.limitSum()
	events, bytes := s.win.held()
	s.stats.set(CtrInFlight, s.inFlight.Load())
	s.stats.set(CtrLimit, int64(limit))
	s.stats.set(CtrWindowEvents, int64(events))
	s.stats.set(CtrWindowBytes, int64(bytes))
	s.stats.set(CtrAckPending, s.awaitingAck.Load())
	for _, t := range s.pool.endpoints {
		t.setGauges()
	}
	s.noteHealth(time.Now())
}

// AttachCounters makes the sender add to ext too, until Close. ext must
// stay valid until Close returns.
func (s *Sender) AttachCounters(ext *Counters) { s.stats.ext.Store(ext) }

// Count adds n to counter k.
func (s *Sender) Count(k Counter, n int64) { s.stats.add(k, n) }

// Stats are running totals since the sender was made.
type Stats struct {
	Delivered   int64 // events HEC accepted
	Rejected    int64 // events HEC refused for good, or over event.maxbytes with event.oversize="reject"
	Truncated   int64 // events cut to event.maxbytes
	Spooled     int64 // events saved to spool.dir during a shutdown
	Replayed    int64 // spooled events delivered after a start
	Retries     int64 // requests sent again after a transient failure
	AckTimeouts int64 // requests sent again because HEC did not acknowledge them in time
	AckExpired  int64 // requests sent again because HEC dropped their pending ackId
}

// Stats returns the running totals.
func (s *Sender) Stats() Stats {
	return Stats{
		Delivered:   s.stats.get(CtrDelivered),
		Rejected:    s.stats.get(CtrRejected),
		Truncated:   s.stats.get(CtrTruncated),
		Spooled:     s.stats.get(CtrSpooled),
		Replayed:    s.stats.get(CtrReplayed),
		Retries:     s.stats.get(CtrRequestsRetried),
		AckTimeouts: s.stats.get(CtrAckTimeouts),
		AckExpired:  s.stats.get(CtrAckExpired),
	}
}

// countAnswer counts one posted request and what came back.
func (s *Sender) countAnswer(res *endpoint.Result, bytes int) {
	s.stats.add(CtrRequests, 1)
	s.stats.add(CtrBytesSent, int64(bytes))
	switch {
	case res.Proxy:
		s.stats.add(CtrProxyErrors, 1) // no answer of HEC's: counted apart from http.*
	case res.Status == 0:
		s.stats.add(CtrHTTPNoResponse, 1)
	case res.Status >= 200 && res.Status < 300:
		s.stats.add(CtrHTTP2xx, 1)
	case res.Status >= 400 && res.Status < 500:
		s.stats.add(CtrHTTP4xx, 1)
	case res.Status >= 500 && res.Status < 600:
		s.stats.add(CtrHTTP5xx, 1)
	default:
		s.stats.add(CtrHTTPOther, 1)
	}
}
