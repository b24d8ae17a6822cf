package hec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Message is one rendered syslog message: the event time ("unix.fraction"),
// the hostname and the event body. The slices are only read during Deliver.
type Message struct {
	Time, Host, Body []byte
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
// has them. It is safe for concurrent use: concurrent batches share requests
// when batch.maxdelay lets them.
type Sender struct {
	cfg       Config
	enc       *Encoder
	endpoints []*endpoint
	next      atomic.Uint32 // round-robin cursor over endpoints
	inFlight  chan struct{} // one token per request on the wire
	log       Logger
	health    healthLog

	mu   sync.Mutex
	open *request // the request batches are appended to, nil when none
}

// request is one HEC POST in the making, shared by every batch whose events
// it carries.
type request struct {
	body   []byte
	events int
	sealed bool
	timer  *time.Timer
	done   chan struct{}
	err    error // set before done is closed
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// NewSender validates cfg and prepares a client per endpoint. It opens no
// connection: the first Deliver or Probe does.
func NewSender(cfg Config, log Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = func(int, string) {}
	}
	s := &Sender{cfg: cfg, enc: NewEncoder(&cfg), log: log, inFlight: make(chan struct{}, cfg.Connections)}
	for _, u := range cfg.Endpoints {
		ep, err := newEndpoint(u, &cfg)
		if err != nil {
			return nil, err
		}
		s.endpoints = append(s.endpoints, ep)
	}
	s.health.log = log
	return s, nil
}

// Config returns the validated configuration.
func (s *Sender) Config() Config { return s.cfg }

// ErrSuspend wraps failures after which the batch must go back to rsyslog to
// be retried later: HEC unreachable past retry.maxtime, or misconfigured.
var ErrSuspend = errors.New("HEC cannot take data now")

// ErrRejected wraps failures where HEC refused the content itself.
var ErrRejected = errors.New("HEC rejected the data")

// Deliver encodes msgs, posts them and waits for HEC's answers. The error
// wraps ErrSuspend or ErrRejected.
func (s *Sender) Deliver(msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var waits []*request
	s.mu.Lock()
	for i := range msgs {
		r := s.appendLocked(&msgs[i])
		if len(waits) == 0 || waits[len(waits)-1] != r {
			waits = append(waits, r)
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
	s.mu.Unlock()

	var errs []error
	for _, r := range waits {
		<-r.done
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	return errors.Join(errs...)
}

// appendLocked adds one event to the open request, starting a new one when
// the event would push it past batch.maxevents or batch.maxbytes. An event
// larger than batch.maxbytes on its own still goes out, alone.
func (s *Sender) appendLocked(m *Message) *request {
	if s.open == nil {
		s.open = newRequest()
	}
	r := s.open
	mark := len(r.body)
	r.body = s.enc.AppendEvent(r.body, m.Time, m.Host, m.Body)
	if len(r.body) > s.cfg.BatchMaxBytes && r.events > 0 {
		// Move the event that did not fit into a fresh request.
		n := newRequest()
		n.body = append(n.body, r.body[mark:]...)
		r.body = r.body[:mark]
		s.sealLocked(r)
		s.open, r = n, n
	}
	r.events++
	if r.events >= s.cfg.BatchMaxEvents || len(r.body) >= s.cfg.BatchMaxBytes {
		s.sealLocked(r)
	}
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

// post sends r until HEC takes it, the failure is not transient, or
// retry.maxtime has passed; then it wakes every batch waiting on r.
func (s *Sender) post(r *request) {
	s.inFlight <- struct{}{}
	defer func() {
		<-s.inFlight
		b := r.body[:0]
		r.body = nil
		bodyPool.Put(&b)
		close(r.done)
	}()
	payload := r.body
	if s.cfg.Compress {
		z := bodyPool.Get().(*[]byte)
		*z = fasthttp.AppendGzipBytesLevel((*z)[:0], r.body, s.cfg.CompressLevel)
		payload = *z
		defer bodyPool.Put(z)
	}
	deadline := time.Now().Add(s.cfg.RetryMaxTime)
	backoff := 100 * time.Millisecond
	for {
		ep := s.endpoints[int(s.next.Add(1))%len(s.endpoints)]
		res := ep.postEvents(payload, s.cfg.Compress)
		s.health.report(res)
		switch res.Outcome {
		case Delivered:
			return
		case Misconfigured:
			r.err = fmt.Errorf("%w: %s", ErrSuspend, res.Error())
			return
		case Rejected:
			r.err = fmt.Errorf("%w: %s", ErrRejected, res.Error())
			return
		}
		// Transient: back off with jitter, so that many senders recovering
		// at once do not hit HEC in lockstep.
		sleep := backoff/2 + rand.N(backoff)
		if time.Now().Add(sleep).After(deadline) {
			r.err = fmt.Errorf("%w: %s (gave up after retry.maxtime=%dms)", ErrSuspend, res.Error(), s.cfg.RetryMaxTime.Milliseconds())
			return
		}
		time.Sleep(sleep)
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
	mu    sync.Mutex
	cause string // "" while healthy
	log   Logger
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
		h.log(SevErr, "omsplunkgo: "+res.Error()+" - fix the action's token, server or TLS settings; messages stay queued")
	case res.Outcome == Rejected:
		h.log(SevErr, "omsplunkgo: "+res.Error())
	default:
		h.log(SevWarning, "omsplunkgo: "+res.Error()+" - retrying")
	}
}
