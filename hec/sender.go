// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Message is one rendered syslog message: the event time ("unix.fraction"),
// the hostname, the event body and metadata of its own. The slices are
// only read during Deliver.
type Message struct {
	Time, Host, Body []byte
	Meta             Meta
	skip             bool   // set aside by event.oversize="reject"
	query            string // raw endpoint: the request query its metadata makes
}

// Logger receives the client's diagnostics; severity uses syslog's numbers.
type Logger func(severity int, msg string)

// Syslog severities used by the client.
const (
	SevErr     = 3
	SevWarning = 4
	SevInfo    = 6
)

// Sender delivers batches of messages to HEC. Deliver returns only when HEC
// has answered for every event in the batch, so a nil error means Splunk
// has them (or, for events HEC refuses for good, that they went to the
// error file). It is safe for concurrent use: concurrent batches share
// requests when batch.maxdelay lets them.
type Sender struct {
	cfg       Config
	enc       *Encoder
	endpoints []*endpoint
	next      atomic.Uint32 // round-robin cursor over endpoints
	// firstAnswer is closed once an endpoint answered its first health
	// probe (setaside.go).
	firstAnswer     chan struct{}
	firstAnswerOnce sync.Once
	firstProbes     atomic.Int32 // first probes not yet back
	slots           chan int     // connection slots: one per request on the wire
	acks            *acker       // nil unless useack is on
	log             Logger
	health          healthLog
	rejects         *errorFile
	summary         summary
	spool           *spool     // nil without spool.dir
	raw             *rawFormat // nil unless endpoint="raw"
	dataPath        string     // PathEvent or PathRaw
	badFields       badFieldsLog
	stats           counters
	// stopping is set once rsyslog asked a thread waiting in Deliver to
	// stop, or Close was called: from then on nothing is retried.
	stopping atomic.Bool
	haltedAt atomic.Int64  // unix nanoseconds when stopping turned true
	haltCh   chan struct{} // closed when stopping turns true
	haltOnce sync.Once
	// callers are the stop flags of the Deliver calls under way, for
	// waits that run on the caller's own thread (see stop.go).
	callers callers

	mu   sync.Mutex
	open *request // the request batches are appended to, nil when none
}

// request is one HEC POST in the making, shared by every batch whose events
// it carries.
type request struct {
	query  string // raw endpoint: the metadata of every event in it
	body   []byte
	ends   []int // ends[i]: offset in body just past event i
	sealed bool
	timer  *time.Timer
	done   chan struct{}
	err    error // set before done is closed
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// NewSender validates cfg and prepares a client per endpoint. It opens no
// connection except to replay batches an earlier shutdown left in
// spool.dir, which it starts doing in the background.
func NewSender(cfg Config, log Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = func(int, string) {}
	}
	s := &Sender{cfg: cfg, enc: NewEncoder(&cfg), log: log, slots: make(chan int, cfg.Connections),
		haltCh: make(chan struct{}), dataPath: PathEvent}
	if cfg.Endpoint == EndpointRaw {
		s.raw, s.dataPath = newRawFormat(&cfg), PathRaw
	}
	for i := range cfg.Connections {
		s.slots <- i
	}
	if cfg.UseAck {
		s.acks = &acker{interval: cfg.AckInterval, log: log, waiting: map[ackKey]chan struct{}{}}
	}
	for _, u := range cfg.Endpoints {
		ep, err := newEndpoint(u, &cfg, s.abortWait)
		if err != nil {
			return nil, err
		}
		s.endpoints = append(s.endpoints, ep)
	}
	s.initStanding()
	s.health.log = log
	s.health.rejectNote = " - HEC refuses the event for good: it goes to the error file " + cfg.ErrorFile +
		" (counted as rejected) and the rest of the request is sent again"
	if cfg.ErrorFile == "" {
		s.health.rejectNote = " - HEC refuses the event for good: it is logged and counted as rejected " +
			"(set errorfile to keep such events), and the rest of the request is sent again"
	}
	s.rejects = &errorFile{path: cfg.ErrorFile, log: log}
	s.summary.s = s
	if cfg.SpoolDir != "" {
		s.spool = claimSpool(&cfg)
		if err := checkWritable(cfg.SpoolDir); err != nil {
			log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s cannot be written by rsyslogd (uid %d, gid %d; privDropToUser/Group "+
				"apply before the module starts): %v - the batch in flight when rsyslogd stops cannot be saved; "+
				"give that user write access", OptSpoolDir, cfg.SpoolDir, os.Getuid(), os.Getgid(), err))
		}
		go s.replaySpool()
		s.scheduleUnclaimedReport()
	}
	if cfg.ErrorFile != "" {
		if err := s.rejects.check(); err != nil {
			log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s cannot be written by rsyslogd (uid %d, gid %d): %v - events HEC "+
				"refuses for good will only be logged and counted; give that user write access",
				OptErrorFile, cfg.ErrorFile, os.Getuid(), os.Getgid(), err))
		}
	}
	return s, nil
}

// Close stops retries and the spool replay; Deliver must not be called
// afterwards. Requests on the wire finish in the background within the
// HTTP timeout.
func (s *Sender) Close() {
	s.halt()
	s.stats.ext.Store(nil)
	s.summary.flush()
	if s.spool != nil {
		s.spool.release()
	}
}

// Config returns the validated configuration.
func (s *Sender) Config() Config { return s.cfg }

// ErrSuspend wraps failures after which the batch must go back to rsyslog to
// be retried later: HEC unreachable past retry.maxtime, or misconfigured.
var ErrSuspend = errors.New("HEC cannot take data now")

// ErrStopping is returned (wrapped in ErrSuspend) when Deliver stopped
// waiting because its caller is being shut down and the batch could not
// be saved to spool.dir.
var ErrStopping = errors.New("rsyslog is stopping")

// span is the part of one Deliver's batch that went into one request.
type span struct {
	r        *request
	from, to int // msgs[from:to]
}

// Deliver encodes msgs, posts them and waits for HEC's answers. The error
// wraps ErrSuspend. Events longer than event.maxbytes are truncated or
// rejected first; events HEC refuses for good are set aside (error file,
// counter) and do not fail the batch.
//
// stopping, if not nil, is polled while waiting. Once it reports true the
// sender stops retrying, and waits at most stopGrace more for requests
// already on the wire; what is still undelivered then is saved to
// spool.dir and reported done. rsyslog drops a batch whose commit fails
// during shutdown (it marks the batch done before committing), so the spool
// is the only place it can survive; without spool.dir the batch is lost
// and Deliver says so.
func (s *Sender) Deliver(msgs []Message, stopping func() bool) error {
	if len(msgs) == 0 {
		return nil
	}
	if stopping != nil {
		id := s.callers.add(stopping)
		defer s.callers.remove(id)
	}
	s.limitSizes(msgs)
	s.checkFields(msgs)
	if s.raw != nil {
		s.raw.group(msgs)
	}
	var spans []span
	switch {
	case s.cfg.BatchMaxDelay > 0:
		spans = s.encodeShared(msgs)
	case len(msgs) > s.cfg.BatchMaxEvents:
		spans = s.encodeParallel(msgs)
	default:
		// The common case: one request, posted from the calling thread.
		spans = s.encodeChunk(msgs, 0, len(msgs), s.inlinePost())
	}

	var errs []error
	var left []span // undelivered when stopping
	gaveUp := false
	for _, sp := range spans {
		if stopping == nil {
			<-sp.r.done
		} else if !s.await(sp.r) {
			gaveUp = true
			left = append(left, sp)
			continue
		}
		if sp.r.err != nil {
			errs = append(errs, sp.r.err)
			left = append(left, sp)
		}
	}
	if len(errs) == 0 && len(left) == 0 {
		return nil
	}
	if stopping != nil && (gaveUp || stopping()) {
		return s.saveForLater(msgs, left)
	}
	err := errors.Join(errs...)
	if s.stopping.Load() {
		return err // a stop, not a give-up: saveForLater's caller logs it
	}
	s.log(SevErr, fmt.Sprintf("omsplunkgo: %d events not delivered within %s=%dms, handed back to rsyslog: %v; %s",
		undelivered(left), OptRetryMaxTime, s.cfg.RetryMaxTime.Milliseconds(), errs[0], s.whatRsyslogDoes()))
	return err
}

// undelivered counts the events in spans.
func undelivered(spans []span) int {
	n := 0
	for _, sp := range spans {
		n += sp.to - sp.from
	}
	return n
}

// whatRsyslogDoes says what rsyslog does with a batch the action hands
// back as suspended, under the action's action.resumeRetryCount.
func (s *Sender) whatRsyslogDoes() string {
	switch n := s.cfg.ResumeRetryCount; {
	case n < 0:
		return "rsyslog keeps them and retries (action.resumeRetryCount=-1)"
	case n == 0:
		return "rsyslog drops them (action.resumeRetryCount=0, its default); to keep them, give the action " +
			`action.resumeRetryCount="-1" and a disk-assisted queue (README, "Guarantees")`
	default:
		return fmt.Sprintf("rsyslog retries them %d more times, then drops them (action.resumeRetryCount=%d)", n, n)
	}
}

// encodeShared appends msgs to the open request, which batches of other
// Deliver calls share while batch.maxdelay lets them.
func (s *Sender) encodeShared(msgs []Message) []span {
	var spans []span
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range msgs {
		if msgs[i].skip {
			continue
		}
		r := s.appendLocked(&msgs[i])
		if n := len(spans); n == 0 || spans[n-1].r != r {
			spans = append(spans, span{r: r, from: i, to: i + 1})
		} else {
			spans[n-1].to = i + 1
		}
	}
	if s.open != nil {
		if s.cfg.BatchMaxDelay <= 0 {
			s.sealLocked(s.open)
		} else if s.open.timer == nil {
			r := s.open
			r.timer = time.AfterFunc(s.cfg.BatchMaxDelay, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.sealLocked(r)
			})
		}
	}
	return spans
}

// encodeParallel cuts a batch larger than one request into equal chunks
// of at most batch.maxevents and encodes them on as many goroutines: the
// calling rsyslog worker thread would otherwise encode the whole batch
// alone while the other cores idle. Each chunk's requests go out as soon
// as they are full; the calling thread posts its own chunk's last one
// itself. It returns once every message has been read.
func (s *Sender) encodeParallel(msgs []Message) []span {
	chunks := (len(msgs) + s.cfg.BatchMaxEvents - 1) / s.cfg.BatchMaxEvents
	size := (len(msgs) + chunks - 1) / chunks
	parts := make([][]span, chunks)
	var wg sync.WaitGroup
	for c := 1; c < chunks; c++ {
		wg.Go(func() { parts[c] = s.encodeChunk(msgs, c*size, min((c+1)*size, len(msgs)), false) })
	}
	parts[0] = s.encodeChunk(msgs, 0, min(size, len(msgs)), s.inlinePost())
	wg.Wait()
	var spans []span
	for _, p := range parts {
		spans = append(spans, p...)
	}
	return spans
}

// encodeChunk encodes msgs[from:to] into requests of its own and posts
// them. With inline, the last request is posted on the calling goroutine
// and has been answered when encodeChunk returns; the others go out on
// goroutines of their own as soon as they are full.
func (s *Sender) encodeChunk(msgs []Message, from, to int, inline bool) []span {
	var spans []span
	r, start := newRequest(), from
	for i := from; i < to; i++ {
		if msgs[i].skip {
			continue
		}
		if next := s.addEvent(r, &msgs[i]); next != r {
			r.sealed = true
			go s.post(r)
			spans = append(spans, span{r: r, from: start, to: i})
			r, start = next, i
		}
	}
	if len(r.ends) == 0 {
		b := r.body[:0]
		bodyPool.Put(&b)
		return spans
	}
	r.sealed = true
	if inline {
		s.post(r)
	} else {
		go s.post(r)
	}
	return append(spans, span{r: r, from: start, to: to})
}

// saveForLater writes the undelivered parts of a batch to the spool during
// shutdown.
func (s *Sender) saveForLater(msgs []Message, left []span) error {
	var body []byte
	events := 0
	for _, sp := range left {
		for i := sp.from; i < sp.to; i++ {
			if msgs[i].skip {
				continue
			}
			body = s.enc.AppendMessage(body, &msgs[i])
			events++
		}
	}
	if s.spool == nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and HEC has not taken %d events; "+
			"rsyslog will drop them - set global(workDirectory=...) or the action's spool.dir to keep them", events))
		return fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
	}
	if err := s.spool.save(body); err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and %d events could not be saved: %v", events, err))
		return fmt.Errorf("%w: %w: %v", ErrSuspend, ErrStopping, err)
	}
	s.stats.add(CtrSpooled, int64(events))
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: rsyslog is stopping: saved %d undelivered events to %s; "+
		"they are sent on the next start", events, s.spool.dir))
	return nil
}

// limitSizes applies event.maxbytes to each message text.
func (s *Sender) limitSizes(msgs []Message) {
	max := s.cfg.EventMaxBytes
	for i := range msgs {
		m := &msgs[i]
		if len(m.Body) <= max {
			continue
		}
		if s.cfg.EventOversize == OversizeTruncate {
			s.stats.add(CtrTruncated, 1)
			s.summary.changed()
			s.rejects.noteTruncated(len(m.Body), max)
			m.Body = truncateUTF8(m.Body, max)
			continue
		}
		ev := s.enc.AppendMessage(nil, m)
		s.stats.add(CtrRejected, 1)
		s.summary.changed()
		s.rejects.write(ev, fmt.Sprintf("event text is %d bytes, over %s=%d", len(m.Body), OptEventMaxBytes, max), nil)
		m.skip = true
	}
}

// truncateUTF8 cuts b to at most n bytes without splitting a UTF-8
// sequence that was valid.
func truncateUTF8(b []byte, n int) []byte {
	cut := n
	for cut > n-utf8.UTFMax && cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	if cut == 0 {
		cut = n // not UTF-8 at all: bytes are all we have
	}
	return b[:cut]
}

// appendLocked adds one event to the open request, starting a new one when
// the event would push it past batch.maxevents or batch.maxbytes. An event
// larger than batch.maxbytes on its own still goes out, alone.
func (s *Sender) appendLocked(m *Message) *request {
	if s.open == nil {
		s.open = newRequest()
	}
	r := s.open
	if next := s.addEvent(r, m); next != r {
		s.sealLocked(r)
		s.open = next
		r = next
	}
	if len(r.ends) >= s.cfg.BatchMaxEvents || len(r.body) >= s.cfg.BatchMaxBytes {
		s.sealLocked(r)
	}
	return r
}

// addEvent appends m to r. When that pushes r past batch.maxbytes and r
// held events before, or m's metadata differs from r's (raw endpoint), the
// event goes to a fresh request, which is returned (r is then complete);
// otherwise r is returned.
func (s *Sender) addEvent(r *request, m *Message) *request {
	if len(r.ends) == 0 {
		r.query = m.query
	} else if m.query != r.query {
		r = newRequest()
		r.query = m.query
	}
	mark := len(r.body)
	if s.raw != nil {
		r.body = appendLine(r.body, m)
	} else {
		r.body = s.enc.AppendMessage(r.body, m)
	}
	if len(r.body) > s.cfg.BatchMaxBytes && len(r.ends) > 0 {
		next := newRequest()
		next.query = r.query
		next.body = append(next.body, r.body[mark:]...)
		r.body = r.body[:mark]
		r = next
	}
	r.ends = append(r.ends, len(r.body))
	return r
}

func newRequest() *request {
	return &request{body: (*bodyPool.Get().(*[]byte))[:0], done: make(chan struct{})}
}

// sealLocked closes r to further events and sends it.
func (s *Sender) sealLocked(r *request) {
	if r.sealed {
		return
	}
	r.sealed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	if s.open == r {
		s.open = nil
	}
	go s.post(r)
}

// post sends r and wakes every batch waiting on it.
func (s *Sender) post(r *request) {
	defer func() {
		b := r.body[:0]
		r.body = nil
		bodyPool.Put(&b)
		close(r.done)
	}()
	r.err = s.send(r.query, r.body, r.ends)
}

// send delivers the events in body (ends[i] marks the end of event i) with
// the request query query (raw endpoint metadata). An event HEC refuses for
// good is set aside and the rest sent again: by the invalid-event-number
// HEC names, or by halving the request when HEC names none (or says 413,
// too large), until the culprit stands alone. An index refused without a
// position is the request's own (raw endpoint): all its events go aside.
func (s *Sender) send(query string, body []byte, ends []int) error {
	deadline := time.Now().Add(s.cfg.RetryMaxTime)
	for len(ends) > 0 {
		res, err := s.postRetrying(query, body, deadline)
		if err != nil {
			return err
		}
		if res.Outcome == Delivered {
			if s.acks != nil && !s.acknowledged(res) {
				if s.stopping.Load() {
					return fmt.Errorf("%w: %w: %s: not acknowledged yet", ErrSuspend, ErrStopping, res.URL)
				}
				// HEC is up but may have lost the events: send them again,
				// with a fresh retry budget.
				deadline = time.Now().Add(s.cfg.RetryMaxTime)
				continue
			}
			s.stats.add(CtrDelivered, int64(len(ends)))
			return nil
		}
		k := res.Reply.InvalidEvent
		switch {
		case len(ends) == 1:
			s.rejectEvent(query, body, res)
			return nil
		case k < 0 && res.Reply.Code == CodeIncorrectIndex && s.raw != nil:
			start := 0
			for _, e := range ends {
				s.rejectEvent(query, body[start:e], res)
				start = e
			}
			return nil
		case k >= 0 && k < len(ends) && res.Status != 413:
			start := 0
			if k > 0 {
				start = ends[k-1]
			}
			// HEC reads a request's events in order: it indexed the k
			// before the one it names, and none after. Only those after
			// are sent again.
			s.stats.add(CtrDelivered, int64(k))
			s.rejectEvent(query, body[start:ends[k]], res)
			cut := ends[k]
			restEnds := make([]int, 0, len(ends)-k-1)
			for _, e := range ends[k+1:] {
				restEnds = append(restEnds, e-cut)
			}
			body, ends = body[cut:], restEnds
		default:
			h := len(ends) / 2
			mid := ends[h-1]
			if err := s.send(query, body[:mid], ends[:h]); err != nil {
				return err
			}
			second := make([]int, len(ends)-h)
			for i, e := range ends[h:] {
				second[i] = e - mid
			}
			body, ends = body[mid:], second
		}
	}
	return nil
}

// acknowledged waits for HEC's ack of a delivered request.
func (s *Sender) acknowledged(res Result) bool {
	if res.Reply.AckID < 0 {
		s.health.noAck(res)
		return true // this token has acks off: the 200 is all HEC will say
	}
	if s.acks.wait(ackKey{res.ep, res.channel, res.Reply.AckID}, s.cfg.AckTimeout, s.haltCh) {
		return true
	}
	if s.stopping.Load() {
		return false
	}
	s.stats.add(CtrAckTimeouts, 1)
	s.log(SevWarning, fmt.Sprintf("omsplunkgo: %s: ackId %d on channel %s not acknowledged within %s=%dms; sending the request again",
		res.URL, res.Reply.AckID, res.channel, OptAckTimeout, s.cfg.AckTimeout.Milliseconds()))
	return false
}

// rejectEvent sets one event of a request aside; a raw line is written as
// the event object it stands for.
func (s *Sender) rejectEvent(query string, ev []byte, res Result) {
	if s.raw != nil {
		ev = rawAsEvent(query, ev)
	}
	s.stats.add(CtrRejected, 1)
	s.summary.changed()
	s.rejects.write(ev, res.Error(), &res)
}

// postRetrying posts body until HEC answers for its content (Delivered or
// Rejected), retrying transient failures with backoff until deadline. It
// holds a connection slot meanwhile, so an outage does not pile up
// requests. The error wraps ErrSuspend.
func (s *Sender) postRetrying(query string, body []byte, deadline time.Time) (Result, error) {
	slot := <-s.slots
	defer func() { s.slots <- slot }()
	payload := body
	if s.cfg.Compress {
		z := bodyPool.Get().(*[]byte)
		*z = appendGzip((*z)[:0], body, s.cfg.CompressLevel)
		payload = *z
		defer bodyPool.Put(z)
	}
	backoff := 100 * time.Millisecond
	for {
		ep := s.pick()
		channel := ""
		if ep.channels != nil {
			channel = ep.channels[slot]
		}
		res := ep.postData(s.dataPath, query, payload, s.cfg.Compress, channel)
		res.ep, res.channel = ep, channel
		s.countAnswer(&res, len(payload))
		s.judge(ep, &res)
		if res.Reply.Code == CodeIncorrectIndex && s.cfg.PerMessageIndex {
			// The index came from the message: the event is at fault, not
			// the action, and must not hold up the rest.
			res.Outcome = Rejected
		}
		s.health.report(res)
		if res.Outcome == Delivered || res.Outcome == Rejected {
			return res, nil
		}
		// Transient and configuration failures alike are tried again until
		// retry.maxtime: a token being rotated or a load balancer misrouting
		// during a deploy heals by itself, and rsyslog may drop a batch
		// handed back. Back off with jitter, so that many senders
		// recovering at once do not hit HEC in lockstep.
		s.stats.add(CtrRequestsRetried, 1)
		sleep := backoff/2 + rand.N(backoff)
		if res.RetryAfter > sleep {
			sleep = res.RetryAfter // HEC (or its proxy) said when to come back
		}
		if time.Now().Add(sleep).After(deadline) {
			return res, fmt.Errorf("%w: %s (gave up: the next try, in %v, would be past retry.maxtime=%dms)",
				ErrSuspend, res.Error(), sleep.Round(time.Millisecond), s.cfg.RetryMaxTime.Milliseconds())
		}
		if !s.sleepUnlessStopping(sleep) {
			return res, fmt.Errorf("%w: %w: %s", ErrSuspend, ErrStopping, res.Error())
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Probe reports whether any endpoint says it is healthy; rsyslog's
// tryResume uses it before giving the action new batches.
func (s *Sender) Probe() error {
	var errs []error
	for _, ep := range s.endpoints {
		res := ep.health()
		if res.Outcome == Delivered {
			return nil
		}
		errs = append(errs, errors.New(res.Error()))
	}
	return fmt.Errorf("%w: %v", ErrSuspend, errors.Join(errs...))
}

// healthLog logs a failure cause once when it starts and once when sending
// works again, instead of once per request.
type healthLog struct {
	mu     sync.Mutex
	cause  string // "" while healthy
	log    Logger
	noAcks bool // logged that HEC sends no ackIds
	// rejectNote says what becomes of refused events and of the rest.
	rejectNote string
}

// noAck logs, once, that HEC answers without ackIds although useack is on.
func (h *healthLog) noAck(res Result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.noAcks {
		return
	}
	h.noAcks = true
	h.log(SevWarning, "omsplunkgo: "+res.URL+" answers without ackId although useack is on: indexer "+
		"acknowledgement is off for this token in Splunk, so HTTP 200 is all the delivery proof there is")
}

func (h *healthLog) report(res Result) {
	cause := ""
	if res.Outcome != Delivered {
		cause = res.Outcome.String()
		if res.Reply.Code >= 0 {
			cause += fmt.Sprintf(" (HEC code %d)", res.Reply.Code)
		} else if res.Status != 0 {
			cause += fmt.Sprintf(" (HTTP %d)", res.Status)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cause == h.cause {
		return
	}
	prev := h.cause
	h.cause = cause
	switch {
	case cause == "":
		h.log(SevInfo, "omsplunkgo: HEC accepts events again (was: "+prev+")")
	case res.Outcome == Misconfigured:
		h.log(SevErr, "omsplunkgo: "+res.Error()+" - check the action's token, server and TLS settings; "+
			"retrying for up to retry.maxtime")
	case res.Outcome == Rejected:
		h.log(SevErr, "omsplunkgo: "+res.Error()+h.rejectNote)
	default:
		h.log(SevWarning, "omsplunkgo: "+res.Error()+" - retrying")
	}
}
