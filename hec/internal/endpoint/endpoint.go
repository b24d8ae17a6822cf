// SPDX-License-Identifier: Apache-2.0

// Package endpoint is one HEC endpoint as HEC's wire protocol sees it:
// posting a request of events, reading HEC's answer into what it means for
// the events (Outcome), the health check, and indexer acknowledgement
// polling. It knows nothing of batching, retries or rsyslog, and never
// logs: what it learns comes back in a Result.
package endpoint

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/lenient"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/proxy"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/threadconn"
	"github.com/valyala/fasthttp"
)

// maxReplyBody is the largest answer body read (before and after gunzip).
const maxReplyBody = 64 << 10

// HEC paths, fixed by Splunk.
const (
	PathEvent  = "/services/collector/event"
	PathRaw    = "/services/collector/raw"
	PathHealth = "/services/collector/health"
	PathAck    = "/services/collector/ack"
	// HeaderChannel carries the channel GUID acks are tracked under.
	HeaderChannel = "X-Splunk-Request-Channel"
)

// Outcome says what a failed request means for the events in it.
type Outcome int

const (
	// Delivered: HEC accepted every event in the request.
	Delivered Outcome = iota
	// Transient: the endpoint could not take the request now (connection
	// refused or reset, timeout, 5xx, 429, HEC busy); the same request may
	// succeed later, here or at another endpoint.
	Transient
	// Misconfigured: the request can never succeed until an admin fixes
	// something (bad token, wrong path, TLS trust); data must stay queued.
	Misconfigured
	// Rejected: HEC refused the content (invalid event, bad index field);
	// resending the same bytes cannot succeed.
	Rejected
)

func (o Outcome) String() string {
	return [...]string{"delivered", "transient failure", "configuration error", "rejected"}[o]
}

// Result is what one POST came to.
type Result struct {
	Outcome Outcome
	Status  int   // HTTP status, 0 when no response arrived
	Reply   Reply // parsed body; Code -1 when it was not HEC JSON
	Err     error // transport error, if any
	URL     string
	// Foreign describes an answer that is not HEC's JSON: content type,
	// first bytes, a redirect's target; "" for HEC's own answers.
	Foreign string
	// RetryAfter is what a 429 or 503 asked for in Retry-After, else 0.
	RetryAfter time.Duration
	// Moved says the request's channel reached another indexer (its
	// ackId did not rise): the channel's pending acks may never come (the
	// sender renews the channel, see sticky.go).
	Moved bool
	// Busy says HEC is near or at capacity: a 429 or 503, or a 2xx that
	// took the events with a capacity warning (codes 24, 25). The sender
	// slows down.
	Busy bool
	// Proxy says the request failed at the HTTP proxy (Err is a
	// *proxy.Error): it never reached HEC.
	Proxy bool
	// Date is the answer's Date header (zero when absent), and SetCookie
	// says it set a cookie: for `omsplunkgo check`.
	Date      time.Time
	SetCookie bool

	// Via is the endpoint the request went to and Channel the channel it
	// went on (acks are tracked per endpoint and channel).
	Via     *Endpoint
	Channel string
}

func (r Result) Error() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("%s: %s: %v", r.URL, r.Outcome, r.Err)
	case r.Reply.Code >= 0:
		return fmt.Sprintf("%s: %s: HTTP %d, HEC code %d %q", r.URL, r.Outcome, r.Status, r.Reply.Code, r.Reply.Text)
	case r.Foreign != "":
		return fmt.Sprintf("%s: %s: HTTP %d, not an answer of HEC's (%s)", r.URL, r.Outcome, r.Status, r.Foreign)
	default:
		return fmt.Sprintf("%s: %s: HTTP %d", r.URL, r.Outcome, r.Status)
	}
}

// Endpoint is one HEC base URL with its connections.
type Endpoint struct {
	// URL is the base URL as configured, for log lines.
	URL       string
	client    *fasthttp.HostClient
	ackClient *fasthttp.HostClient   // ack polls' own connections
	auth      atomic.Pointer[string] // "Splunk <token>"; SetToken replaces it
	timeout   time.Duration
	// sticky holds one HEC channel GUID per connection slot when
	// Options.Channels asked for them, and the cookies set per channel.
	sticky stickiness
}

// Options set up an Endpoint.
type Options struct {
	Token       string
	Connections int           // the most connections (and requests) at once
	Timeout     time.Duration // for one request and its answer
	// Channels gives each connection slot a channel: indexer
	// acknowledgement tracks acks per channel, and the raw endpoint wants
	// one.
	Channels bool
	// TLS is the client configuration for an https URL.
	TLS *tls.Config
	// Proxy, when set, is the HTTP proxy every connection tunnels through.
	Proxy *proxy.Proxy
	// Abort is asked whenever a wait for the endpoint is interrupted (the
	// request was posted on a thread blocked in poll(2)); true ends it.
	Abort func() bool
}

// New prepares the client of one HEC URL.
func New(u *url.URL, o Options) *Endpoint {
	ep := &Endpoint{URL: u.String(), client: hostClient(u, o, o.Connections), timeout: o.Timeout}
	// Ack polls have connections of their own: a round polls its channels
	// in parallel, and must not take the places of the requests.
	ep.ackClient = hostClient(u, o, pollers)
	ep.SetToken(o.Token)
	if o.Channels {
		for range o.Connections {
			ep.sticky.channels = append(ep.sticky.channels, newGUID())
		}
	}
	return ep
}

// hostClient is a connection pool of at most conns connections to u.
func hostClient(u *url.URL, o Options, conns int) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                u.Host,
		Name:                "omsplunkgo",
		IsTLS:               u.Scheme == "https",
		MaxConns:            conns,
		ReadTimeout:         o.Timeout,
		WriteTimeout:        o.Timeout,
		MaxIdleConnDuration: 30 * time.Second,
		// HEC's answers are a few dozen bytes; a larger one is not read
		// into memory (a proxy's error page, or a hostile endpoint).
		MaxResponseBodySize: maxReplyBody,
		// Room for the headers of a server that sets many cookies (the
		// jar keeps a bounded few; see sticky.go).
		ReadBufferSize: 16 << 10,
		// A POST may have reached HEC before the connection broke; never
		// let the transport resend it behind our back (we decide retries).
		MaxIdemponentCallAttempts: 1,
		// Answers are read leniently (internal/lenient: bare LF line
		// ends, a 2xx body bounded), so TLS is spoken here, under that
		// reader, not by the client.
		Dial: func(addr string) (net.Conn, error) {
			c, err := dial(addr, o)
			if err != nil || o.TLS == nil {
				return lenient.Wrap(c, maxReplyBody), err
			}
			tc := tls.Client(c, o.TLS)
			tc.SetDeadline(time.Now().Add(o.Timeout))
			if err := tc.Handshake(); err != nil {
				c.Close()
				return nil, err
			}
			tc.SetDeadline(time.Time{})
			return lenient.WrapTLS(tc, maxReplyBody), nil
		},
		TLSConfig: o.TLS,
	}
}

// dial connects to addr, through o.Proxy when there is one.
func dial(addr string, o Options) (net.Conn, error) {
	if o.Proxy == nil {
		return threadconn.Dial(addr, o.Timeout, o.Abort)
	}
	deadline := time.Now().Add(o.Timeout)
	c, err := threadconn.Dial(o.Proxy.Addr, o.Timeout, o.Abort)
	if err != nil {
		return nil, o.Proxy.Unreachable(err)
	}
	return o.Proxy.Connect(c, addr, deadline)
}

// SetToken makes the next request carry token.
func (e *Endpoint) SetToken(token string) {
	auth := "Splunk " + token
	e.auth.Store(&auth)
}

// prepare makes req an authorized JSON POST to path, on channel if set.
func (e *Endpoint) prepare(req *fasthttp.Request, path, channel string) {
	req.SetRequestURI(e.URL + path)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set(fasthttp.HeaderAuthorization, *e.auth.Load())
	req.Header.SetContentType("application/json")
	if channel != "" {
		req.Header.Set(HeaderChannel, channel)
	}
}

// Post sends one request body of events to path (PathEvent or PathRaw)
// with query (raw metadata, or ""); channel is "" or one of Channel's.
func (e *Endpoint) Post(path, query string, body []byte, gzipped bool, channel string) Result {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if query != "" {
		path += "?" + query
	}
	e.prepare(req, path, channel)
	if gzipped {
		req.Header.Set(fasthttp.HeaderContentEncoding, "gzip")
	}
	req.SetBodyRaw(body)
	e.sendCookies(req, channel)
	err := e.client.DoTimeout(req, resp, e.timeout)
	res := classify(e.URL, err, resp)
	res.Via, res.Channel = e, channel
	if err == nil {
		e.keepCookies(resp, channel)
		res.Moved = e.ackIDMoved(channel, res.Reply.AckID)
	}
	return res
}

// Probe posts body to path with the token, on channel ("" for none), for
// `omsplunkgo check`: no retries, no cookies kept.
func (e *Endpoint) Probe(path string, body []byte, channel string) Result {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	e.prepare(req, path, channel)
	req.SetBodyRaw(body)
	err := e.client.DoTimeout(req, resp, e.timeout)
	res := classify(e.URL, err, resp)
	res.Via, res.Channel = e, channel
	return res
}

// NewChannel is a fresh channel GUID.
func NewChannel() string { return newGUID() }

// Health asks HEC whether it takes data. It needs no token.
func (e *Endpoint) Health() Result {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(e.URL + PathHealth)
	req.Header.SetMethod(fasthttp.MethodGet)
	err := e.client.DoTimeout(req, resp, e.timeout)
	res := classify(e.URL, err, resp)
	res.Via = e
	return res
}

func classify(url string, err error, resp *fasthttp.Response) Result {
	r := Result{URL: url, Reply: Reply{Code: -1, InvalidEvent: -1, AckID: -1}}
	if err != nil {
		r.Err = err
		r.Outcome = Transient
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			r.Err = fmt.Errorf("the answer's body is over %d KiB, not read (HEC answers in a few bytes: "+
				"is a proxy or another server answering?)", maxReplyBody>>10)
			return r
		}
		var perr *proxy.Error
		if errors.As(err, &perr) {
			r.Proxy = true
			if perr.Misconfigured() {
				r.Outcome = Misconfigured
			}
			return r
		}
		var certErr *tls.CertificateVerificationError
		var unknownAuth x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
			r.Outcome = Misconfigured
		}
		if errors.As(err, &hostErr) {
			r.Err = fmt.Errorf("%w - name a host the certificate holds in the URL, or set tls.servername to one "+
				"(connecting by address or through a load balancer of another name)", err)
		}
		return r
	}
	r.Status = resp.StatusCode()
	if d, err := http.ParseTime(string(resp.Header.Peek(fasthttp.HeaderDate))); err == nil {
		r.Date = d
	}
	r.SetCookie = len(resp.Header.Peek(fasthttp.HeaderSetCookie)) > 0
	body := resp.Body()
	if enc := resp.Header.ContentEncoding(); len(enc) > 0 && string(enc) == "gzip" {
		body = gunzipBounded(body)
	}
	var perr error
	r.Reply, perr = ParseReply(body)
	if perr != nil {
		r.Foreign = describeForeign(resp, body)
	}
	r.Outcome = outcomeOf(r.Status, r.Reply.Code)
	r.Busy = r.Status == 429 || r.Status == 503 || r.Reply.Code == CodeQueueNearCapacity || r.Reply.Code == CodeAckNearCapacity
	if r.Status == 429 || r.Status == 503 {
		r.RetryAfter = parseRetryAfter(resp.Header.Peek(fasthttp.HeaderRetryAfter), time.Now())
	}
	return r
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date (RFC
// 9110); 0 when absent or unreadable. It is capped at an hour: the
// sender's retry.maxtime bounds the wait anyway.
func parseRetryAfter(v []byte, now time.Time) time.Duration {
	if len(v) == 0 {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(v))); err == nil {
		if n <= 0 {
			return 0
		}
		return min(time.Duration(n)*time.Second, time.Hour)
	}
	if t, err := http.ParseTime(string(v)); err == nil && t.After(now) {
		return min(t.Sub(now), time.Hour)
	}
	return 0
}

// Healthy says whether a health probe's answer lets the endpoint have
// traffic: HEC says it is healthy, or an HTTP server answers that the
// health path is not for it (some load balancers do not pass it on),
// which still shows it is up. No answer, 5xx and 429 do not.
func (r *Result) Healthy() bool {
	if r.Outcome == Delivered {
		return true
	}
	return r.Err == nil && r.Status >= 400 && r.Status < 500 && r.Status != 429
}

// outcomeOf maps HTTP status and HEC code to what the events' fate is.
func outcomeOf(status, code int) Outcome {
	switch code {
	case CodeSuccess, CodeHealthy, CodeQueueNearCapacity, CodeAckNearCapacity:
		// 24 and 25 come with a 200 that took the events: sending them
		// again would duplicate them.
		if status >= 200 && status < 300 {
			return Delivered
		}
	case CodeTokenDisabled, CodeTokenRequired, CodeInvalidAuth, CodeInvalidToken,
		CodeIncorrectIndex, CodeChannelMissing, CodeChannelInvalid, CodeAckDisabled, CodeChannelMissingLB:
		return Misconfigured
	case CodeServerBusy, CodeInternalError, CodeShuttingDown, CodeQueueAtCapacity, CodePerformanceLimit,
		CodeQueuesFull, CodeAckUnavailable, CodeQueuesAndAckDown:
		return Transient
	case CodeInvalidFormat, CodeEventMissing, CodeEventBlank, CodeBadIndexedField, CodeNoData:
		return Rejected
	}
	switch {
	case status >= 200 && status < 300:
		// A 2xx without a HEC success code (e.g. a proxy's empty 200) is
		// not proof that Splunk has the events.
		return Transient
	case status == 401, status == 403, status == 404, status == 405:
		return Misconfigured
	case status == 413:
		// Too large: the sender splits the request; alone, the event is
		// refused for good.
		return Rejected
	case status == 400:
		// HEC names bad data with a code (handled above). A bare 400 is a
		// proxy or a wrong endpoint refusing everything: setting events
		// aside for it would throw the whole stream away.
		return Misconfigured
	default: // 408, 429, 5xx and anything unexpected: try again later
		return Transient
	}
}

// gunzipBounded inflates a gzip answer up to maxReplyBody bytes (a small
// gzip body can inflate a thousandfold); nil when it is not gzip.
func gunzipBounded(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, maxReplyBody))
	return out
}

// describeForeign says what an answer that is not HEC's JSON was, for the
// log: content type, where a redirect points, and the first bytes.
func describeForeign(resp *fasthttp.Response, body []byte) string {
	var parts []string
	if ct := resp.Header.ContentType(); len(ct) > 0 {
		parts = append(parts, "Content-Type "+string(ct))
	}
	if loc := resp.Header.Peek(fasthttp.HeaderLocation); len(loc) > 0 {
		parts = append(parts, "redirects to "+printable(loc, 200)+" (give the HEC URL itself as server)")
	}
	if len(body) == 0 {
		parts = append(parts, "empty body")
	} else {
		parts = append(parts, fmt.Sprintf("body %q", printable(body, 120)))
	}
	return strings.Join(parts, ", ")
}

// printable cuts b to n bytes and replaces control bytes, for a log line.
func printable(b []byte, n int) string {
	cut := b
	if len(cut) > n {
		cut = cut[:n]
	}
	out := []byte(strings.ToValidUTF8(string(cut), "?"))
	for i, c := range out {
		if c < 0x20 || c == 0x7f {
			out[i] = ' '
		}
	}
	if len(b) > n {
		return string(out) + "..."
	}
	return string(out)
}
