// SPDX-License-Identifier: Apache-2.0

package hec

// The data path of one action: Deliver takes a batch from rsyslog and
// passes it through the stages, each in a file of its own:
//
//	shape.go     event.maxbytes, fields check, raw endpoint grouping
//	batch.go     encoding into requests (internal/event: the wire format)
//	post.go      retries, partial failures, acks (internal/endpoint: one
//	             endpoint's requests, answers and ack polls)
//	endpoints.go which endpoint gets a request, set-aside and health probes
//	refused.go   the one path of an event that will not be delivered
//	stop.go      waiting for answers, and what a stop ends
//	spool.go     saving a stranded batch and replaying it (internal/spoolfile)
//	counters.go  running totals for impstats and the log
//	recommit.go  rsyslog's one-at-a-time re-commits folded into one request
//
// Today await waits for HEC's answers on the calling rsyslog thread. A
// pipeline decoupled from rsyslog's threads fits between batch.go and
// post.go: a window stage that makes a batch durable and returns, and
// senders that drain it with their own concurrency; post.go, endpoints.go
// and refused.go stay as they are.

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/spoolfile"
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

// Meta is a message's own HEC metadata, rendered by rsyslog templates the
// action names (index.template, ...). An empty value means the action's
// fixed value, and when that is unset too, HEC's default for the token
// (host: the message's hostname).
type Meta = event.Meta

// encode appends m's event object to dst.
func (s *Sender) encode(dst []byte, m *Message) []byte {
	return s.enc.AppendWithMeta(dst, m.Time, m.Host, m.Body, &m.Meta)
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
	enc       *event.Encoder
	endpoints []*target
	next      atomic.Uint32 // round-robin cursor over endpoints
	// firstAnswer is closed once an endpoint answered its first health
	// probe (setaside.go).
	firstAnswer     chan struct{}
	firstAnswerOnce sync.Once
	firstProbes     atomic.Int32    // first probes not yet back
	slots           chan int        // connection slots: one per request on the wire
	acks            *endpoint.Acker // nil unless useack is on
	log             Logger
	health          healthLog
	rejects         *errorFile
	summary         summary
	spool           *spoolfile.Spool // nil without spool.dir
	raw             *rawFormat       // nil unless endpoint="raw"
	dataPath        string           // endpoint.PathEvent or endpoint.PathRaw
	badFields       rateLog          // invalid fields renderings
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

	tokenMu sync.Mutex // guards cfg.Token, which SetToken changes
	moves   rateLog    // channels a load balancer moved
}

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
	s := &Sender{cfg: cfg, enc: event.NewEncoder(cfg.shape()), log: log, slots: make(chan int, cfg.Connections),
		haltCh: make(chan struct{}), dataPath: endpoint.PathEvent}
	if cfg.Endpoint == EndpointRaw {
		s.raw, s.dataPath = newRawFormat(&cfg), endpoint.PathRaw
	}
	for i := range cfg.Connections {
		s.slots <- i
	}
	if cfg.UseAck {
		s.acks = endpoint.NewAcker(cfg.AckInterval)
		s.acks.OnMoved = func(ep *endpoint.Endpoint, channel string) {
			s.stats.add(CtrAckChannelMoves, 1)
			s.noteMoved(ep.URL, channel)
		}
	}
	for _, u := range cfg.Endpoints {
		ep, err := newTarget(u, &cfg, s.abortWait)
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
		if err := spoolfile.CheckWritable(cfg.SpoolDir); err != nil {
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

// SetToken replaces the HEC token (token.file read again on rsyslog's
// HUP): the next request uses it, retries of requests HEC refused with
// 401/403 included.
func (s *Sender) SetToken(token string) {
	if token == s.token() {
		s.log(SevInfo, "omsplunkgo: token.file read again on HUP: the token is unchanged")
		return
	}
	s.tokenMu.Lock()
	s.cfg.Token = token
	s.tokenMu.Unlock()
	for _, ep := range s.endpoints {
		ep.SetToken(token)
	}
	s.log(SevInfo, "omsplunkgo: token.file read again on HUP: the new token applies from the next request on")
}

func (s *Sender) token() string {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	return s.cfg.Token
}

// Close stops retries and the spool replay; Deliver must not be called
// afterwards. Requests on the wire finish in the background within the
// HTTP timeout.
func (s *Sender) Close() {
	s.halt()
	s.stats.ext.Store(nil)
	s.summary.flush()
	if s.spool != nil {
		s.spool.Release()
	}
}

// ErrSuspend wraps failures after which the batch must go back to rsyslog to
// be retried later: HEC unreachable past retry.maxtime, or misconfigured.
var ErrSuspend = errors.New("HEC cannot take data now")

// ErrStopping is returned (wrapped in ErrSuspend) when Deliver stopped
// waiting because its caller is being shut down and the batch could not
// be saved to spool.dir.
var ErrStopping = errors.New("rsyslog is stopping")

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
	s.shape(msgs)                                  // shape.go
	spans := s.batch(msgs)                         // batch.go, posting in post.go
	left, errs, gaveUp := s.await(spans, stopping) // stop.go
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
