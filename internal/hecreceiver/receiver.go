// SPDX-License-Identifier: Apache-2.0

// Package hecreceiver is a Splunk HEC-compatible server for tests,
// benchmarks and the demo: the event, raw, health and ack endpoints, token
// checks, gzip, HEC's error codes and JSON replies, fault injection, and a
// record of every event it accepted.
//
// It answers a partly bad request as Splunk 10.4 and Cloud 10.5 were
// measured to (shared HEC-FACTS.md): the objects before the bad one are
// indexed and none from it on; code 7 names the object after the bad one;
// an object with a top-level key HEC does not know ends the request there
// with a 200 (a silent loss: what a sender must never cause); on an ack
// token a partly refused request carries an ackId for the indexed prefix.
package hecreceiver

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/valyala/fasthttp"
)

// Event is one accepted HEC event.
type Event struct {
	Time       string // the "time" value as sent (JSON number text), "" when absent
	Host       string
	Source     string
	Sourcetype string
	Index      string
	Event      string // the string value, or the raw JSON when "event" was not a string
	Fields     map[string]any
	Channel    string
	Raw        bool // came through the raw endpoint (metadata from the query string)
	// Peer is the address of the connection it came on (a proxy's, when
	// it came through one), without the port.
	Peer string
	// Query is the request's query string (the raw endpoint's metadata,
	// or /event's auto_extract_timestamp).
	Query string
	// Keys are the event object's top-level keys, in order.
	Keys    []string
	Arrived time.Time
}

// Faults makes the receiver misbehave the way real HECs and networks do.
// Change them at run time with SetFaults.
type Faults struct {
	FailRate  float64       // share of event requests answered 503 "server busy" (code 9)
	Delay     time.Duration // added before answering each event request
	FailUntil time.Time     // answer every event request 503 until then
	// RetryAfter, when set, goes with each 503 as a Retry-After header
	// (whole seconds, rounded up).
	RetryAfter time.Duration
	// DenyUntil: answer every data request 403, code 4 "Invalid token",
	// until then (a token being rotated, a misrouting load balancer).
	DenyUntil time.Time
	// HugeBody answers every data request 503 with a body of that many
	// bytes (Content-Length), as a misbehaving proxy might; with
	// EndlessBody the body is chunked and never ends.
	HugeBody    int64
	EndlessBody bool
	// Foreign answers every data request with this status, content type
	// and body instead of HEC's JSON (an HTML page, a redirect to
	// Location): what a proxy or a wrong server says.
	Foreign                  int
	ForeignType, ForeignBody string
	Location                 string
	// DropRate is the share of event requests whose connection is closed
	// without an answer, as a crashing proxy or a reset would.
	DropRate float64
	// RejectMatch makes any request holding an event whose text contains
	// it fail with 400, code 6, naming the first such event's position
	// (unless RejectUnnamed: then no position, as some proxies answer).
	RejectMatch   string
	RejectUnnamed bool
	// BusyMatch answers any request holding an event whose text contains
	// it 503 (code 9), nothing indexed: a request HEC never takes.
	BusyMatch string
	// With RequireAck: acks turn true only AckDelay after the request was
	// accepted, and AckLossRate of them never do (the events were taken,
	// the acknowledgement is lost).
	AckDelay    time.Duration
	AckLossRate float64
	// AckChannelMax, when > 0, is a channel's limit of pending ackIds
	// (Splunk's max_number_of_acked_requests_pending_query_per_ack_channel)
	// under Splunk 10.4's ackExpiryMode=expire_at_90: once a channel holds
	// 90 % of it, its oldest pending ids are evicted down to 85 % and read
	// false for good (the events were indexed).
	AckChannelMax int
	// BodyCap answers a request whose body (after gunzip) is larger with
	// 400 code 6 naming object 0, nothing indexed: Splunk Cloud's body
	// cap (about 5.2 MB there), which is no 413.
	BodyCap int
	// CapacityWarning answers accepted requests 200 with code 24 (HEC's
	// queue near capacity): the events are taken.
	CapacityWarning bool
	// Busy429Rate answers this share of event requests 429 code 26 (queue
	// at capacity), as Splunk 10 with backpressureState on does.
	Busy429Rate float64
	// HealthCode, when 18, 19 or 20, answers health requests 503 with it
	// (queues full, ack service unavailable, both).
	HealthCode int
	// Capacity, when > 0, answers event requests beyond that many at once
	// 503 code 9 (an indexer with that many ingest slots).
	Capacity int
	// SlowAbove, when > 0, makes an event request that finds n > SlowAbove
	// requests under way take Delay x (n/SlowAbove)^2 instead of Delay: an
	// indexer that thrashes past its knee, taking less the more it is sent.
	SlowAbove int
	// Answer, when set, writes the success answer of an accepted request
	// as valid HTTP that clients get wrong, then closes the connection:
	// "trailer" (chunked, with a trailer), "barelf" (line ends without CR),
	// "padded" (HEC's success object followed by 50 MB of spaces).
	Answer string
}

// Config sets up a Receiver.
type Config struct {
	Addr       string // host:port to listen on; "127.0.0.1:0" picks a free port
	Token      string // required token; empty accepts any
	RequireAck bool   // indexer acknowledgement on: a channel is required, replies carry ackId
	Record     bool   // keep every event in memory (Events); counting is always on
	// MaxContentLength answers larger event requests 413, like Splunk's
	// max_content_length; 0 means no limit of our own.
	MaxContentLength int
	// Indexes, when set, are the only indexes the token may write: an event
	// naming another is refused with HEC's code 7 ("Incorrect index"),
	// and with it the whole request, as Splunk does. An event without an
	// index goes to the token's default.
	Indexes []string
	OnEvent func(*Event)
	// OnBody, when set, replaces event parsing: each accepted (authorized,
	// gunzipped) event request body goes to it, and it returns how many
	// events the body held. Benchmarks use it to keep the receiver's JSON
	// parsing off the machine's CPUs; Record, OnEvent and the fault modes
	// that look at events do not apply then.
	OnBody func(body []byte, at time.Time) int
	// TLS, when set, makes the receiver speak HTTPS (URL says https).
	TLS *tls.Config
}

// Stats counts what the receiver saw.
type Stats struct {
	Requests, Events, Rejected, Failed, Dropped int64
	MaxConcurrent                               int64 // most event requests being handled at once
	// Bytes is the sum of the data requests' bodies as they came over the
	// wire (before gunzip).
	Bytes int64
	// Gzipped counts data requests sent with Content-Encoding: gzip, and
	// Decoded sums the bodies of all parsed data requests after gunzip:
	// together with Bytes they prove what compression put on the wire.
	Gzipped, Decoded int64
	// MaxEventsPerRequest is the most events one accepted request held.
	MaxEventsPerRequest int64
	// AckPolls counts /ack requests; AckedTrue the ackIds answered true
	// (each id once, as Splunk forgets an id reported true); AcksLost the
	// ackIds AckLossRate made never turn true.
	AckPolls, AckedTrue, AcksLost int64
	// AcksExpired counts ackIds AckChannelMax evicted.
	AcksExpired int64
	// Cut counts requests an unknown top-level key ended early (the events
	// after it were silently not indexed, as Splunk does).
	Cut int64
	// Denied counts requests refused for a wrong token (403 code 4).
	Denied int64
}

// Receiver is a running HEC server.
type Receiver struct {
	cfg    Config
	ln     net.Listener
	srv    *fasthttp.Server
	faults atomic.Pointer[Faults]
	token  atomic.Pointer[string] // Config.Token, until SetToken

	mu     sync.Mutex
	events []Event
	count  atomic.Int64
	cond   *sync.Cond

	requests, rejected, failed, dropped, bytes atomic.Int64
	gzipped, decoded, maxPerRequest            atomic.Int64
	ackPolls, ackedTrue, acksLost, cut, denied atomic.Int64
	active, maxActive                          atomic.Int64
	reqSeq                                     atomic.Uint64

	ackMu       sync.Mutex
	acks        map[string]*channelAcks
	acksExpired atomic.Int64

	takenMu sync.Mutex
	taken   []takenAt
}

// takenAt is when the sender was told that n events were taken: the 200
// answer, or on an ack token the ack poll that reported them true.
type takenAt struct {
	at time.Time
	n  int
}

// channelAcks is one channel's acknowledgement state.
type channelAcks struct {
	next   int64
	ready  map[int64]time.Time // ackId -> when it turns true; absent once reported
	lost   map[int64]bool
	events map[int64]int
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Start listens on cfg.Addr and serves until Close.
func Start(cfg Config) (*Receiver, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	r := &Receiver{cfg: cfg, ln: ln}
	r.cond = sync.NewCond(&r.mu)
	r.faults.Store(&Faults{})
	r.token.Store(&cfg.Token)
	r.srv = &fasthttp.Server{
		Handler:               r.handle,
		Name:                  "hecreceiver",
		MaxRequestBodySize:    1 << 30,
		NoDefaultServerHeader: true,
		ReadTimeout:           time.Minute,
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	go r.srv.Serve(ln) //nolint:errcheck // ends with Close
	return r, nil
}

// Addr is the address the receiver listens on.
func (r *Receiver) Addr() string { return r.ln.Addr().String() }

// URL is the base URL to give a HEC client.
func (r *Receiver) URL() string {
	if r.cfg.TLS != nil {
		return "https://" + r.Addr()
	}
	return "http://" + r.Addr()
}

// Close stops listening and drops open connections.
func (r *Receiver) Close() error {
	return r.srv.Shutdown()
}

// SetToken makes the receiver require another token (a token rotated in
// Splunk).
func (r *Receiver) SetToken(token string) { r.token.Store(&token) }

// SetFaults replaces the fault settings.
func (r *Receiver) SetFaults(f Faults) { r.faults.Store(&f) }

// Count is the number of events accepted so far.
func (r *Receiver) Count() int64 { return r.count.Load() }

// Stats returns the counters.
func (r *Receiver) Stats() Stats {
	return Stats{Requests: r.requests.Load(), Events: r.count.Load(), Rejected: r.rejected.Load(),
		Failed: r.failed.Load(), Dropped: r.dropped.Load(), MaxConcurrent: r.maxActive.Load(), Bytes: r.bytes.Load(),
		Gzipped: r.gzipped.Load(), Decoded: r.decoded.Load(), MaxEventsPerRequest: r.maxPerRequest.Load(),
		AckPolls: r.ackPolls.Load(), AckedTrue: r.ackedTrue.Load(), AcksLost: r.acksLost.Load(), AcksExpired: r.acksExpired.Load(), Cut: r.cut.Load(), Denied: r.denied.Load()}
}

// Events returns a copy of the recorded events (Config.Record).
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// WaitCount blocks until at least n events arrived or timeout passed, and
// reports the count it saw.
func (r *Receiver) WaitCount(n int64, timeout time.Duration) int64 {
	deadline := time.Now().Add(timeout)
	for {
		c := r.count.Load()
		if c >= n || time.Now().After(deadline) {
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func reply(ctx *fasthttp.RequestCtx, status, code int, text string, extra string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	fmt.Fprintf(ctx, `{"text":%q,"code":%d%s}`, text, code, extra)
}

func (r *Receiver) handle(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/services/collector/health" || path == "/services/collector/health/1.0":
		f := r.faults.Load()
		if time.Now().Before(f.FailUntil) {
			reply(ctx, 503, 9, "Server is busy", "")
			return
		}
		switch f.HealthCode {
		case 18:
			reply(ctx, 503, 18, "HEC is unhealthy, queues are full", "")
			return
		case 19:
			reply(ctx, 503, 19, "HEC is unhealthy, ack service unavailable", "")
			return
		case 20:
			reply(ctx, 503, 20, "HEC is unhealthy, queues are full, ack service unavailable", "")
			return
		}
		reply(ctx, 200, 17, "HEC is healthy", "")
	case path == "/services/collector/event" || path == "/services/collector" || path == "/services/collector/event/1.0":
		r.handleData(ctx, false)
	case path == "/services/collector/raw" || path == "/services/collector/raw/1.0":
		r.handleData(ctx, true)
	case path == "/services/collector/ack":
		r.handleAck(ctx)
	default:
		reply(ctx, 404, 404, "The requested URL was not found on this server.", "")
	}
}

// authorize checks "Authorization: Splunk <token>" as HEC does.
func (r *Receiver) authorize(ctx *fasthttp.RequestCtx) bool {
	h := string(ctx.Request.Header.Peek("Authorization"))
	if h == "" {
		reply(ctx, 401, 2, "Token is required", "")
		return false
	}
	tok, ok := strings.CutPrefix(h, "Splunk ")
	if !ok {
		reply(ctx, 401, 3, "Invalid authorization", "")
		return false
	}
	if want := *r.token.Load(); want != "" && tok != want {
		r.denied.Add(1)
		reply(ctx, 403, 4, "Invalid token", "")
		return false
	}
	return true
}

// channel reads the request's channel; acks, and the raw endpoint (as on
// Splunk Cloud), require one.
func (r *Receiver) channel(ctx *fasthttp.RequestCtx, required bool) (string, bool) {
	ch := string(ctx.Request.Header.Peek("X-Splunk-Request-Channel"))
	if ch == "" {
		ch = string(ctx.QueryArgs().Peek("channel"))
	}
	if ch == "" {
		if r.cfg.RequireAck || required {
			reply(ctx, 400, 10, "Data channel is missing", "")
			return "", false
		}
		return "", true
	}
	if !guidRE.MatchString(ch) {
		reply(ctx, 400, 11, "Invalid data channel", "")
		return "", false
	}
	return ch, true
}

func (r *Receiver) handleData(ctx *fasthttp.RequestCtx, raw bool) {
	r.requests.Add(1)
	r.bytes.Add(int64(len(ctx.Request.Body())))
	if bytes.Equal(ctx.Request.Header.ContentEncoding(), []byte("gzip")) {
		r.gzipped.Add(1) // counted whatever the answer, as Bytes is
	}
	n := r.active.Add(1)
	defer r.active.Add(-1)
	storeMax(&r.maxActive, n)
	if !ctx.IsPost() {
		reply(ctx, 405, 404, "Method not allowed", "")
		return
	}
	if !r.authorize(ctx) {
		return
	}
	ch, ok := r.channel(ctx, raw)
	if !ok {
		return
	}
	f := r.faults.Load()
	if d := f.Delay; d > 0 {
		if f.SlowAbove > 0 && int(n) > f.SlowAbove {
			x := float64(n) / float64(f.SlowAbove)
			d = time.Duration(float64(d) * x * x)
		}
		time.Sleep(d)
	}
	if f.Capacity > 0 && int(n) > f.Capacity {
		r.failed.Add(1)
		reply(ctx, 503, 9, "Server is busy", "")
		return
	}
	if f.DropRate > 0 && r.roll() < f.DropRate {
		r.dropped.Add(1)
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) { c.Close() })
		return
	}
	if time.Now().Before(f.DenyUntil) {
		r.failed.Add(1)
		reply(ctx, 403, 4, "Invalid token", "")
		return
	}
	if f.HugeBody > 0 || f.EndlessBody {
		r.failed.Add(1)
		ctx.SetStatusCode(503)
		ctx.SetContentType("text/plain")
		if f.EndlessBody {
			ctx.SetBodyStream(zeros{}, -1)
		} else {
			ctx.SetBodyStream(io.LimitReader(zeros{}, f.HugeBody), int(f.HugeBody))
		}
		return
	}
	if f.Foreign != 0 {
		r.failed.Add(1)
		ctx.SetStatusCode(f.Foreign)
		ctx.SetContentType(f.ForeignType)
		if f.Location != "" {
			ctx.Response.Header.Set("Location", f.Location)
		}
		ctx.SetBodyString(f.ForeignBody)
		return
	}
	if f.Busy429Rate > 0 && r.roll() < f.Busy429Rate {
		r.failed.Add(1)
		reply(ctx, 429, 26, "Queue at capacity", "")
		return
	}
	if time.Now().Before(f.FailUntil) || (f.FailRate > 0 && r.roll() < f.FailRate) {
		r.failed.Add(1)
		if f.RetryAfter > 0 {
			ctx.Response.Header.Set("Retry-After", fmt.Sprint(int64((f.RetryAfter+time.Second-1)/time.Second)))
		}
		reply(ctx, 503, 9, "Server is busy", "")
		return
	}
	body := ctx.Request.Body()
	if r.cfg.MaxContentLength > 0 && len(body) > r.cfg.MaxContentLength {
		r.rejected.Add(1)
		ctx.SetStatusCode(413)
		ctx.SetBodyString(fmt.Sprintf("Content-Length of %d too large (maximum is %d)", len(body), r.cfg.MaxContentLength))
		return
	}
	if bytes.Equal(ctx.Request.Header.ContentEncoding(), []byte("gzip")) {
		b, err := ctx.Request.BodyGunzip()
		if err != nil {
			r.rejected.Add(1)
			reply(ctx, 400, 6, "Invalid data format", "")
			return
		}
		body = b
	}
	r.decoded.Add(int64(len(body)))
	if f.BodyCap > 0 && len(body) > f.BodyCap && !raw {
		r.rejected.Add(1)
		reply(ctx, 400, 6, "Invalid data format", `,"invalid-event-number":0`)
		return
	}
	if r.cfg.OnBody != nil && !raw {
		now := time.Now()
		n := r.cfg.OnBody(body, now)
		r.count.Add(int64(n))
		if r.cfg.RequireAck {
			id := r.newAck(ch, now.Add(f.AckDelay), false, n, f.AckChannelMax)
			reply(ctx, 200, 0, "Success", fmt.Sprintf(`,"ackId":%d`, id))
			return
		}
		reply(ctx, 200, 0, "Success", "")
		return
	}
	var evs []Event
	var bad *badEvent
	cut := false // an unknown top-level key ended the body
	if raw {
		evs = parseRaw(body, ctx.QueryArgs())
	} else {
		evs, bad, cut = parseEvents(body)
	}
	if bad == nil && len(r.cfg.Indexes) > 0 {
		for i := range evs {
			if evs[i].Index != "" && !slices.Contains(r.cfg.Indexes, evs[i].Index) {
				bad = &badEvent{i, 7, "Incorrect index"}
				if raw {
					bad.index = -1 // the query's index: the whole request's
				}
				break
			}
		}
	}
	if f.BusyMatch != "" {
		for i := range evs {
			if strings.Contains(evs[i].Event, f.BusyMatch) {
				r.failed.Add(1)
				reply(ctx, 503, 9, "Server is busy", "")
				return
			}
		}
	}
	if bad == nil && f.RejectMatch != "" {
		for i := range evs {
			if strings.Contains(evs[i].Event, f.RejectMatch) {
				bad = &badEvent{i, 6, "Invalid data format"}
				break
			}
		}
	}
	if bad != nil {
		r.rejected.Add(1)
		named := bad.index
		if bad.code == 7 {
			named++ // Splunk's code 7 names the object after the bad one
		}
		extra := fmt.Sprintf(`,"invalid-event-number":%d`, named)
		if f.RejectUnnamed || bad.index < 0 {
			extra = ""
		} else {
			// Splunk reads a request's events in order and indexes those
			// before the one it refuses; the rest is not indexed. On an
			// ack token the indexed prefix gets an ackId.
			now := time.Now()
			r.accept(evs[:bad.index], ch, now, ctx)
			if r.cfg.RequireAck && bad.index > 0 {
				id := r.newAck(ch, now.Add(f.AckDelay), f.AckLossRate > 0 && r.roll() < f.AckLossRate, bad.index, f.AckChannelMax)
				extra += fmt.Sprintf(`,"ackId":%d`, id)
			} else if !r.cfg.RequireAck {
				r.tookAt(now, bad.index)
			}
		}
		reply(ctx, 400, bad.code, bad.text, extra)
		return
	}
	if cut {
		r.cut.Add(1)
	}
	if len(evs) == 0 {
		r.rejected.Add(1)
		reply(ctx, 400, 5, "No data", "")
		return
	}
	now := time.Now()
	r.accept(evs, ch, now, ctx)
	code, text := 0, "Success"
	if f.CapacityWarning {
		code, text = 24, "Success, HEC queue is approaching capacity"
	}
	if f.Answer != "" && !r.cfg.RequireAck {
		r.tookAt(now, len(evs))
		writeOddly(ctx, f.Answer, fmt.Sprintf(`{"text":%q,"code":%d}`, text, code))
		return
	}
	if r.cfg.RequireAck {
		id := r.newAck(ch, now.Add(f.AckDelay), f.AckLossRate > 0 && r.roll() < f.AckLossRate, len(evs), f.AckChannelMax)
		reply(ctx, 200, code, text, fmt.Sprintf(`,"ackId":%d`, id))
		return
	}
	r.tookAt(now, len(evs))
	reply(ctx, 200, code, text, "")
}

// tookAt logs that n events were reported taken at t.
func (r *Receiver) tookAt(t time.Time, n int) {
	if n <= 0 {
		return
	}
	r.takenMu.Lock()
	r.taken = append(r.taken, takenAt{t, n})
	r.takenMu.Unlock()
}

// TakenBefore is how many events the sender had been told were taken
// (answered 200; on an ack token, reported true by an ack poll) before t:
// a sender killed at t may resend at most the others.
func (r *Receiver) TakenBefore(t time.Time) int64 {
	r.takenMu.Lock()
	defer r.takenMu.Unlock()
	var n int64
	for _, e := range r.taken {
		if e.at.Before(t) {
			n += int64(e.n)
		}
	}
	return n
}

// accept indexes evs: counts, records and reports them.
func (r *Receiver) accept(evs []Event, ch string, now time.Time, ctx *fasthttp.RequestCtx) {
	peer, query := ctx.RemoteIP().String(), string(ctx.QueryArgs().QueryString())
	for i := range evs {
		evs[i].Query = query
		evs[i].Arrived = now
		evs[i].Channel = ch
		evs[i].Peer = peer
		if r.cfg.OnEvent != nil {
			r.cfg.OnEvent(&evs[i])
		}
	}
	if r.cfg.Record {
		r.mu.Lock()
		r.events = append(r.events, evs...)
		r.mu.Unlock()
	}
	r.count.Add(int64(len(evs)))
	storeMax(&r.maxPerRequest, int64(len(evs)))
}

// storeMax raises m to n unless it is already higher.
func storeMax(m *atomic.Int64, n int64) {
	for old := m.Load(); n > old && !m.CompareAndSwap(old, n); old = m.Load() {
	}
}

func (r *Receiver) newAck(ch string, ready time.Time, lost bool, events, channelMax int) int64 {
	r.ackMu.Lock()
	defer r.ackMu.Unlock()
	if r.acks == nil {
		r.acks = map[string]*channelAcks{}
	}
	c := r.acks[ch]
	if c == nil {
		c = &channelAcks{ready: map[int64]time.Time{}, lost: map[int64]bool{}, events: map[int64]int{}}
		r.acks[ch] = c
	}
	id := c.next
	c.next++
	c.ready[id] = ready
	c.events[id] = events
	if lost {
		c.lost[id] = true
		r.acksLost.Add(1)
	}
	if channelMax > 0 && len(c.ready)*10 >= channelMax*9 {
		// expire_at_90: the oldest pending ids go, down to 85 %.
		ids := make([]int64, 0, len(c.ready))
		for k := range c.ready {
			ids = append(ids, k)
		}
		slices.Sort(ids)
		for _, k := range ids[:len(ids)-channelMax*85/100] {
			delete(c.ready, k)
			delete(c.events, k)
			r.acksExpired.Add(1)
		}
	}
	return id
}

// ackStatus reports whether id on ch is acknowledged; like Splunk, an ack
// reported true once is forgotten.
func (r *Receiver) ackStatus(ch string, id int64) bool {
	r.ackMu.Lock()
	defer r.ackMu.Unlock()
	c := r.acks[ch]
	if c == nil || c.lost[id] {
		return false
	}
	at, ok := c.ready[id]
	if !ok || time.Now().Before(at) {
		return false
	}
	delete(c.ready, id)
	r.ackedTrue.Add(1)
	n := c.events[id]
	delete(c.events, id)
	r.tookAt(time.Now(), n)
	return true
}

// roll is a cheap deterministic-enough [0,1) source for fault rates.
func (r *Receiver) roll() float64 {
	x := r.reqSeq.Add(0x9E3779B97F4A7C15)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return float64(x>>11) / float64(1<<53)
}

func (r *Receiver) handleAck(ctx *fasthttp.RequestCtx) {
	r.ackPolls.Add(1)
	if !r.authorize(ctx) {
		return
	}
	if !r.cfg.RequireAck {
		reply(ctx, 400, 14, "ACK is disabled", "")
		return
	}
	ch, ok := r.channel(ctx, false)
	if !ok {
		return
	}
	if d := r.faults.Load().Delay; d > 0 {
		time.Sleep(d) // the poll crosses the same distance
	}
	var q struct {
		Acks []int64 `json:"acks"`
	}
	if err := jsoniter.Unmarshal(ctx.Request.Body(), &q); err != nil {
		reply(ctx, 400, 6, "Invalid data format", "")
		return
	}
	var b strings.Builder
	b.WriteString(`{"acks":{`)
	for i, id := range q.Acks {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%d":%t`, id, r.ackStatus(ch, id))
	}
	b.WriteString("}}")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(b.String())
}

// knownKey are the top-level keys of an event object HEC knows.
var knownKey = map[string]bool{"time": true, "host": true, "source": true, "sourcetype": true, "index": true,
	"event": true, "fields": true}

type badEvent struct {
	index int
	code  int
	text  string
}

// parseEvents reads back-to-back JSON event objects. One bad event fails
// the request, as HEC does, naming the event's position; the events
// before it are returned with it. An object with a top-level key HEC does
// not know ends the body there (cut): Splunk indexes the objects before it
// and answers 200.
func parseEvents(body []byte) ([]Event, *badEvent, bool) {
	var evs []Event
	it := jsoniter.ConfigFastest.BorrowIterator(body)
	defer jsoniter.ConfigFastest.ReturnIterator(it)
	for i := 0; ; i++ {
		next := it.WhatIsNext()
		if next == jsoniter.InvalidValue {
			// At the end of the body the iterator reports io.EOF; any
			// other stop is a byte that cannot start a JSON value.
			if it.Error != io.EOF {
				return evs, &badEvent{i, 6, "Invalid data format"}, false
			}
			return evs, nil, false
		}
		if next != jsoniter.ObjectValue {
			return evs, &badEvent{i, 6, "Invalid data format"}, false
		}
		ev, bad := readEvent(it, i)
		if bad != nil {
			return evs, bad, false
		}
		for _, k := range ev.Keys {
			if !knownKey[k] {
				return evs, nil, true
			}
		}
		evs = append(evs, ev)
	}
}

func readEvent(it *jsoniter.Iterator, i int) (Event, *badEvent) {
	var ev Event
	var bad *badEvent
	hasEvent := false
	// ReadObjectCB: a ReadObject loop would stop at an empty key, which
	// HEC reads as any other unknown one.
	it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
		ev.Keys = append(ev.Keys, field)
		switch field {
		case "time":
			switch it.WhatIsNext() {
			case jsoniter.NumberValue:
				ev.Time = string(it.ReadNumber())
			case jsoniter.StringValue:
				ev.Time = it.ReadString()
			default:
				bad = &badEvent{i, 6, "Invalid data format"}
				return false
			}
		case "host":
			ev.Host = it.ReadString()
		case "source":
			ev.Source = it.ReadString()
		case "sourcetype":
			ev.Sourcetype = it.ReadString()
		case "index":
			ev.Index = it.ReadString()
		case "event":
			hasEvent = true
			if it.WhatIsNext() == jsoniter.StringValue {
				ev.Event = it.ReadString()
			} else {
				ev.Event = string(it.SkipAndReturnBytes())
			}
		case "fields":
			var fields map[string]any
			it.ReadVal(&fields)
			for _, v := range fields {
				switch v := v.(type) {
				case string:
				case []any:
					for _, e := range v {
						if _, ok := e.(string); !ok {
							bad = &badEvent{i, 15, "Error in handling indexed fields"}
							return false
						}
					}
				default:
					bad = &badEvent{i, 15, "Error in handling indexed fields"}
					return false
				}
			}
			ev.Fields = fields
		default:
			it.Skip()
		}
		return it.Error == nil
	})
	if bad != nil {
		return ev, bad
	}
	if it.Error != nil {
		return ev, &badEvent{i, 6, "Invalid data format"}
	}
	if !hasEvent {
		return ev, &badEvent{i, 12, "Event field is required"}
	}
	if ev.Event == "" || ev.Event == `""` {
		return ev, &badEvent{i, 13, "Event field cannot be blank"}
	}
	return ev, nil
}

// parseRaw splits a raw request into one event per line; metadata comes
// from the query string.
func parseRaw(body []byte, q *fasthttp.Args) []Event {
	meta := Event{
		Host: string(q.Peek("host")), Source: string(q.Peek("source")),
		Sourcetype: string(q.Peek("sourcetype")), Index: string(q.Peek("index")),
	}
	var evs []Event
	for _, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		ev := meta
		ev.Event = string(line)
		ev.Raw = true
		evs = append(evs, ev)
	}
	return evs
}

// zeros is an endless body for HugeBody and EndlessBody.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Silent listens on a free loopback port, accepts connections, reads the
// requests that come and never answers: a hung indexer. It counts what it
// was sent, so a test can assert how much traffic a hung endpoint got.
// Close stops it.
type Silent struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	// data counts requests to a data endpoint (event or raw), probes
	// requests to the health endpoint.
	data, probes atomic.Int64
}

// StartSilent starts a Silent endpoint.
func StartSilent() (*Silent, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Silent{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go s.read(c)
		}
	}()
	return s, nil
}

// read counts each request on c by its path; the client waits for an
// answer that never comes, so requests arrive one after another.
func (s *Silent) read(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			io.Copy(io.Discard, br) //nolint:errcheck // until Close
			return
		}
		switch {
		case strings.HasPrefix(req.URL.Path, "/services/collector/health"):
			s.probes.Add(1)
		case strings.HasPrefix(req.URL.Path, "/services/collector"):
			s.data.Add(1)
		}
		io.Copy(io.Discard, req.Body) //nolint:errcheck // the body is not looked at
	}
}

// DataRequests is how many event or raw requests reached the endpoint.
func (s *Silent) DataRequests() int64 { return s.data.Load() }

// Probes is how many health requests reached the endpoint.
func (s *Silent) Probes() int64 { return s.probes.Load() }

// URL is the base URL of the silent endpoint.
func (s *Silent) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops listening and drops every connection.
func (s *Silent) Close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

// writeOddly answers with body in one of the valid forms that Faults.Answer
// names, on the raw connection, and closes it.
func writeOddly(ctx *fasthttp.RequestCtx, how, body string) {
	var out string
	switch how {
	case "trailer":
		out = fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"+
			"Trailer: X-Indexer\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\nX-Indexer: idx1\r\n\r\n", len(body), body)
	case "barelf":
		out = fmt.Sprintf("HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: %d\nConnection: close\n\n%s",
			len(body), body)
	case "padded":
		const pad = 50 << 20
		out = fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
			"Connection: close\r\n\r\n%s", len(body)+pad, body)
	}
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		defer c.Close()
		if _, err := io.WriteString(c, out); err != nil || how != "padded" {
			return
		}
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		io.Copy(c, io.LimitReader(spaces{}, 50<<20)) //nolint:errcheck // the client may hang up early
	})
}

type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}
