// SPDX-License-Identifier: Apache-2.0

package hec

// The data path of one action: Deliver takes a batch from rsyslog and
// passes it through the stages, each in a file of its own:
//
//	shape.go     event.maxbytes, fields check (routes.go: allow-lists of
//	             rendered metadata; eventtime.go: time source and guard;
//	             rawgroup.go: the raw endpoint's grouping by metadata)
//	batch.go     encoding into requests (internal/event: the wire format)
//	window.go    the batch made durable in the action's window (internal/
//	             segment: the files); Deliver returns here. Requests HEC
//	             cannot take now wait there too, as data
//	windisk.go   the window's files failing: back-pressure, then memory
//	senders.go   requests taken from the window as endpoints have places
//	             (internal/aimd: each endpoint's adaptive limit)
//	post.go      retries, partial failures, acks (internal/endpoint: one
//	             endpoint's requests, answers and ack polls; internal/
//	             lenient: answers read as RFC 9112 allows; internal/proxy:
//	             the tunnel through an HTTP proxy)
//	ackwait.go   a request awaiting its ack waits as data, its body in
//	             the window's files
//	pool.go      the endpoints' places (endpoints.go: their standing,
//	             set-aside and health probes)
//	refused.go   the one path of an event that will not be delivered
//	             (or goes once more, to index.onrefused)
//	stop.go      what a stop ends, and what it leaves in the window
//	winfiles.go  the window's files at a start: claiming and locking,
//	             checking and replaying, reporting files of no action
//	             (internal/winfile)
//	resend.go    what was set aside, sent again (omsplunkgo replay): event
//	             objects into the window; window files of no action
//	panics.go    a panic on any goroutine stays in the action
//	counters.go  running totals and gauges for impstats and the log
//	recommit.go  rsyslog's one-at-a-time re-commits folded into one batch

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/winfile"
)

// Sender delivers batches of messages to HEC. Deliver returns once the
// batch is in the action's window (written to its files when there is a
// spool.dir); the sender's own goroutines then post it, and an event
// leaves the window when HEC has it (or, refused for good, when it went
// to the error file). It is safe for concurrent use.
type Sender struct {
	cfg         Config
	enc         *event.Encoder
	pool        *pool           // the endpoints: places and standing (pool.go, endpoints.go)
	win         *window         // accepted, not yet taken by HEC (window.go)
	senders     sync.WaitGroup  // the dispatcher and its request goroutines
	inFlight    atomic.Int64    // requests under way (posting, retrying)
	awaitingAck atomic.Int64    // events of requests parked for their ack (ackwait.go)
	failing     failing         // set while HEC has failed for retry.maxtime
	acks        *endpoint.Acker // nil unless useack is on
	log         Logger
	health      healthLog
	refusals    *refusals      // refused.go
	files       *winfile.Files // the window's files; nil without spool.dir
	locksMu     sync.Mutex
	locks       []*winfile.Lock // this process's hold on the action's files
	raw         *rawFormat      // nil unless endpoint="raw"
	routes      *routes         // allow-lists of rendered metadata; nil: none (routes.go)
	times       *times          // event time policy; nil: as rendered (eventtime.go)
	dataPath    string          // endpoint.PathEvent or endpoint.PathRaw
	badFields   rateLog         // invalid fields renderings
	truncNoted  atomic.Bool     // the first truncation was logged
	stats       counters
	// stopping is set once Close was called: from then on nothing is
	// retried.
	stopping atomic.Bool
	haltCh   chan struct{} // closed when stopping turns true
	haltOnce sync.Once
	posting  sync.WaitGroup // posts under way; Close waits for them after the halt
	postMu   sync.RWMutex   // beginPost (read) against halt (write)
	// trouble is set by a failed try and cleared by an answer that HEC
	// takes data; trying counts tries whose answer is not in yet (see
	// window.gate).
	trouble atomic.Bool
	trying  atomic.Int32
	refused atomic.Uint64 // the last batch the window had no room for: events<<32 | bytes
	taken   atomic.Int64  // unix nanoseconds of HEC's last answer that took (or refused) events
	disk    diskState     // the window's files failing (windisk.go)
	panics  panicState

	tokenMu       sync.Mutex // guards cfg.Token, which SetToken changes
	moves         rateLog    // channels a load balancer moved
	ackLog        rateLog    // acks that did not come in time
	ackExpiredLog rateLog    // ackIds HEC dropped

	started    time.Time  // when NewSender ran
	healthFile healthFile // the action's state for health checks (health.go)
}

// NewSender validates cfg, prepares a client per endpoint and starts the
// senders; what an earlier run left in the action's window files is sent
// first.
func NewSender(cfg Config, log Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = func(int, string) {}
	}
	s := &Sender{cfg: cfg, enc: event.NewEncoder(cfg.shape()), log: log,
		haltCh: make(chan struct{}), dataPath: eventPath(&cfg), routes: newRoutes(&cfg), times: newTimes(&cfg),
		started: time.Now()}
	if cfg.Endpoint == EndpointRaw {
		s.raw, s.dataPath = newRawFormat(&cfg), endpoint.PathRaw
	}
	if cfg.UseAck {
		s.acks = endpoint.NewAcker(cfg.AckInterval)
		s.acks.OnMoved = func(ep *endpoint.Endpoint, channel string) {
			s.stats.add(CtrAckChannelMoves, 1)
			s.noteMoved(ep.URL, channel)
		}
		s.acks.OnPanic = func(p any, stack []byte) {
			s.stats.add(CtrPanics, 1)
			s.log(SevErr, fmt.Sprintf("omsplunkgo: internal error in the ack poller (a bug: please report it with this "+
				"line): %v\n%s", p, stack))
		}
	}
	pool, err := newPool(&cfg, s.abortWait)
	if err != nil {
		return nil, err
	}
	s.pool = pool
	pool.log, pool.halt, pool.stopping, pool.goSafe = log, s.haltCh, &s.stopping, s.goSafe
	pool.back = func() {
		if s.trouble.Load() {
			s.win.hurry() // HEC takes data again: the waiting requests go now
		}
	}
	pool.start()
	for _, t := range pool.endpoints {
		if t.proxy != nil {
			log(SevInfo, fmt.Sprintf("omsplunkgo: %s is reached through the proxy %s (%s)", t.URL, t.proxy.Shown, t.proxy.From))
		}
	}
	s.health.log = log
	s.health.rejectNote = " - HEC refuses the event for good: it goes to the error file " + cfg.ErrorFile +
		" (counted as rejected) and the rest of the request is sent again"
	if cfg.ErrorFile == "" {
		s.health.rejectNote = " - HEC refuses the event for good: it is logged and counted as rejected " +
			"(set errorfile to keep such events), and the rest of the request is sent again"
	}
	s.refusals = &refusals{file: &errorFile{path: cfg.ErrorFile, log: log, nofollow: cfg.Standalone},
		stats: &s.stats, log: log, totals: s.Stats, guard: s.recoverPanic, maxBytes: cfg.EventMaxBytes}
	s.win = newWindow(&cfg, nil)
	if cfg.WindowDir != "" {
		s.files = claimFiles(&cfg)
		if err := winfile.CheckWritable(cfg.WindowDir); err != nil {
			log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s cannot be written by rsyslogd (uid %d, gid %d; privDropToUser/Group "+
				"apply before the module starts): %v - the action's window is kept in memory only, so what it holds "+
				"when rsyslogd stops or crashes is lost; give that user write access", OptSpoolDir, cfg.WindowDir,
				os.Getuid(), os.Getgid(), err))
		} else if err := s.lockFiles(); err != nil && cfg.Standalone {
			s.halt()
			return nil, fmt.Errorf("the window files %s.* in %s are in use by another process (a running rsyslogd?): %v",
				s.files.Prefix, cfg.WindowDir, err)
		} else if err != nil {
			log(SevErr, fmt.Sprintf("omsplunkgo: the window's files of this action in %s=%s are in use: %v. Two rsyslogd "+
				"must not share an action's files (each would send and delete the other's): this one keeps its window "+
				"in memory only and leaves those files alone; give each rsyslogd its own workDirectory or spool.dir",
				OptSpoolDir, cfg.WindowDir, err))
		} else {
			s.win.log = s.openWindowLog()
			if !cfg.Standalone {
				s.healthFile.path = s.healthPath()
			}
			s.replayWindow()
		}
		if !cfg.Standalone {
			s.scheduleUnclaimedReport()
		}
	} else if !cfg.Standalone {
		log(SevWarning, "omsplunkgo: no spool.dir (nor global workDirectory): the action's window is kept in memory "+
			"only, so what it holds when rsyslogd stops or crashes is lost; set global(workDirectory=...) or spool.dir")
	}
	s.senders.Add(1)
	go s.dispatch()
	s.goSafe("gauges", s.publishGauges)
	if cfg.ErrorFile != "" {
		if err := s.refusals.file.check(); err != nil {
			log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s cannot be written by rsyslogd (uid %d, gid %d): %v - events HEC "+
				"refuses for good will only be logged and counted; give that user write access",
				OptErrorFile, cfg.ErrorFile, os.Getuid(), os.Getgid(), err))
		}
	}
	return s, nil
}

// Reopen reopens the files the sender writes to (rsyslog's HUP): the
// error file follows a log rotation.
func (s *Sender) Reopen() { s.refusals.file.reopen() }

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
	s.pool.setToken(token)
	s.win.hurry() // requests refused with the old token go now, not at their pause's end
	s.log(SevInfo, "omsplunkgo: token.file read again on HUP: the new token applies from the next request on")
}

func (s *Sender) token() string {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	return s.cfg.Token
}

// Deliver shapes and encodes msgs and puts them in the action's window;
// it returns once they are there (in the window's files, with a
// spool.dir), not when HEC has answered. The error wraps ErrSuspend: the
// batch was not taken and stays rsyslog's. Events longer than
// event.maxbytes are truncated or rejected first.
//
// stopping, if not nil, is polled while the window is full. Once it
// reports true the batch is written to the window's files past the
// window's bound (rsyslog drops a batch whose commit fails during a
// shutdown), for the next start to send.
func (s *Sender) Deliver(msgs []Message, stopping func() bool) error {
	if len(msgs) == 0 {
		return nil
	}
	s.shape(msgs)          // shape.go
	items := s.batch(msgs) // batch.go
	if len(items) == 0 {
		return nil
	}
	return s.accept(items, stopping) // window.go, drained by senders.go
}

// accept puts items in the window, waiting for room at most
// window.maxwait; not at all while HEC takes nothing (a full window of a
// dead destination would otherwise hold up every action rsyslog runs in
// the same queue, one window.maxwait per commit).
func (s *Sender) accept(items []*item, stopping func() bool) error {
	if err := s.brokenErr(); err != nil {
		freeItems(items)
		return fmt.Errorf("%w: %w", ErrSuspend, err)
	}
	events, bytes := 0, 0
	for _, it := range items {
		events += it.events()
		bytes += len(it.body)
	}
	wait := s.cfg.WindowMaxWait
	if s.takesNothing() {
		wait = 0
	}
	if !s.win.room(events, bytes, wait, stopping) {
		if stopping != nil && stopping() {
			return s.keepForNextStart(items)
		}
		freeItems(items)
		s.refused.Store(uint64(events)<<32 | uint64(min(bytes, 1<<32-1)))
		h := s.held()
		bounds := fmt.Sprintf("%d events, %d bytes held, %d of them events only in the files (%s=%d, %s=%d, %s=%d)",
			h.events, h.bytes, h.diskEvents, OptWindowMaxEvents, s.cfg.WindowMaxEvents, OptWindowMaxBytes,
			s.cfg.WindowMaxBytes, OptWindowDiskMax, s.cfg.WindowDiskMaxEvents)
		if wait == 0 {
			return fmt.Errorf("%w: %w and HEC takes nothing now: %s", ErrSuspend, errWindowFull, bounds)
		}
		return fmt.Errorf("%w: %w: %s, none released within %s=%dms", ErrSuspend, errWindowFull, bounds,
			OptWindowMaxWait, s.cfg.WindowMaxWait.Milliseconds())
	}
	s.refused.Store(0)
	s.keep(items) // windisk.go: the files, or memory while they fail
	s.win.add(items)
	return nil
}

// takesNothing reports whether HEC has taken nothing for window.maxwait
// while tries fail: a commit would wait for room in vain. A busy answer
// among answers that take data is not that: there the commit waits.
func (s *Sender) takesNothing() bool {
	return s.trouble.Load() && time.Since(time.Unix(0, s.taken.Load())) > s.cfg.WindowMaxWait
}

// lastRefused is the size of the last batch handed back for want of room.
func (s *Sender) lastRefused() (events, bytes int) {
	v := s.refused.Load()
	return int(v >> 32), int(v & (1<<32 - 1))
}

// Drain waits until the window is empty: nil; or until HEC has failed for
// retry.maxtime: the outage's error, wrapping ErrSuspend; or until
// stopping (if not nil) reports true: ErrStopping. For tools and tests
// that must know a batch arrived.
func (s *Sender) Drain(stopping func() bool) error {
	for {
		if stopping != nil && stopping() {
			return fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
		}
		if ev, _ := s.win.held(); ev == 0 {
			return nil
		}
		if err := s.failing.err(); err != nil {
			return fmt.Errorf("%w: %w", ErrSuspend, err)
		}
		if s.stopping.Load() {
			return fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// heldNow is what the window holds.
type heldNow struct{ events, bytes, diskEvents int }

func (s *Sender) held() heldNow {
	s.win.mu.Lock()
	defer s.win.mu.Unlock()
	return heldNow{s.win.events, s.win.bytes, s.win.disk.events}
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
