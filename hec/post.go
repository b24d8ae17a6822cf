// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Stage 5, posting, on a sender's goroutine: a request goes to an endpoint
// (endpoints.go) and is retried with backoff until HEC answers for its
// content; a partly refused request is cut at the event HEC names (or
// halved) and the rest sent again; with useack, the request counts once
// HEC acknowledges it.

// send delivers r's events (r.ends[i] marks the end of event i in
// r.body) with its query (raw endpoint metadata). An event HEC refuses for
// good is set aside and the rest sent again: by the invalid-event-number
// HEC names, or by halving the request when HEC names none (or says 413,
// too large), until the culprit stands alone. An index refused without a
// position is the request's own (raw endpoint): all its events go aside.
// When HEC cannot take it now, send returns a *laterError: r waits in the
// window, holding what is still to be sent.
//
// What a partly refused request means is what Splunk does with it,
// measured on Splunk 10.4 and Cloud 10.5: the objects before the one
// named were indexed, none from it on; code 7 names the object after the
// bad one; Splunk Cloud answers a body over its size cap with code 6
// naming object 0, so a request of several events answered so is split
// before event 0 is called bad; on an ack token the indexed prefix counts
// once its ackId is acknowledged.
func (s *Sender) send(r *request, tried *bool) error {
	for len(r.ends) > 0 {
		res, err := s.post(r, tried)
		if err != nil {
			return err
		}
		if res.Outcome == endpoint.Delivered {
			if s.acks != nil {
				if res.Reply.AckID >= 0 && r.whole {
					// The whole request waits for its ack as data in the
					// window (ackwait.go), its goroutine ends.
					return &ackPending{res: res}
				}
				if err := s.awaitAck(r, res); err != nil {
					return err
				}
				if !r.acked {
					continue
				}
			}
			s.stats.add(CtrDelivered, int64(len(r.ends)))
			return nil
		}
		k := res.Reply.InvalidEvent
		if res.Reply.Code == endpoint.CodeIncorrectIndex && k > 0 {
			k-- // Splunk's code 7 names the object after the bad one
		}
		switch {
		case len(r.ends) == 1:
			s.rejectEvent(r.query, r.body, res)
			return nil
		case k < 0 && res.Reply.Code == endpoint.CodeIncorrectIndex && s.raw != nil && r.query != viaEvent:
			start := 0
			for _, e := range r.ends {
				s.rejectEvent(r.query, r.body[start:e], res)
				start = e
			}
			return nil
		case k == 0 && res.Reply.Code == endpoint.CodeInvalidFormat:
			// Event 0 may be bad, or the body over Splunk Cloud's cap:
			// halving tells them apart without losing a good event.
			if err := s.sendHalves(r, tried); err != nil {
				return err
			}
		case k >= 0 && k < len(r.ends) && res.Status != 413:
			start := 0
			if k > 0 {
				start = r.ends[k-1]
			}
			// On an ack token the indexed prefix has an ackId; until HEC
			// acknowledges it, the prefix is not safe: send it all again.
			if k > 0 && s.acks != nil && res.Reply.AckID >= 0 {
				if err := s.awaitAck(r, res); err != nil {
					return err
				}
				if !r.acked {
					continue
				}
			}
			// HEC reads a request's events in order: it indexed the k
			// before the one it names, and none after. Only those after
			// are sent again.
			s.stats.add(CtrDelivered, int64(k))
			s.rejectEvent(r.query, r.body[start:r.ends[k]], res)
			r.cut(k + 1)
		default:
			if err := s.sendHalves(r, tried); err != nil {
				return err
			}
		}
	}
	return nil
}

// cut drops r's first k events (sent or set aside).
func (r *request) cut(k int) {
	cut := r.ends[k-1]
	rest := make([]int, 0, len(r.ends)-k)
	for _, e := range r.ends[k:] {
		rest = append(rest, e-cut)
	}
	r.body, r.ends = r.body[cut:], rest
	r.whole = false
}

// sendHalves sends the first half of r on its own and leaves the second
// half in r, for send's loop to go on with. When the first half must
// wait, all of r waits.
func (s *Sender) sendHalves(r *request, tried *bool) error {
	h := len(r.ends) / 2
	half := &request{query: r.query, body: r.body[:r.ends[h-1]], ends: r.ends[:h],
		deadline: r.deadline, backoff: r.backoff, pause: r.pause, resentAt: r.resentAt}
	if err := s.send(half, tried); err != nil {
		r.deadline, r.backoff, r.pause = half.deadline, half.backoff, half.pause
		return err
	}
	r.cut(h)
	return nil
}

// awaitAck waits for HEC's ack of a delivered request and sets r.acked.
// Not acknowledged in ack.timeout, the request goes again; a load
// balancer that moved its channel (ackIds that only another indexer can
// have given) makes it go again at once, but never more than once per
// ack.timeout. Past retry.maxtime without an ack, the outage is logged
// like any other.
func (s *Sender) awaitAck(r *request, res endpoint.Result) error {
	r.acked = false
	if res.Reply.AckID < 0 {
		s.health.noAck(res)
		r.acked = true // this token has acks off: the 200 is all HEC will say
		return nil
	}
	st := s.acks.Wait(res, s.cfg.AckTimeout, s.haltCh)
	if st == endpoint.Acked {
		r.acked = true
		return nil
	}
	return s.notAcked(r, res, st)
}

// post makes one try of r on an endpoint: the place r holds, or one it
// waits for. An answer about the content (Delivered or Rejected) comes
// back with a nil error; otherwise r must wait (*laterError), or the
// sender is stopping.
func (s *Sender) post(r *request, tried *bool) (endpoint.Result, error) {
	g := r.g
	r.g = nil
	if g == nil {
		if g = s.pool.acquire(); g == nil {
			return endpoint.Result{}, fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
		}
	}
	if !s.beginPost() {
		s.pool.release(g, &endpoint.Result{Outcome: endpoint.Misconfigured})
		return endpoint.Result{}, fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
	}
	posting := true
	defer func() { // also when a panic unwinds: halt waits for posts to end
		if posting {
			s.endPost()
		}
	}()
	r.g = g // a panic from here on gives the place back (deliver)
	injectFault("post")
	payload := r.body
	if s.cfg.Compress {
		z := bodyPool.Get().(*[]byte)
		*z = event.AppendGzip((*z)[:0], r.body, s.cfg.CompressLevel)
		payload = *z
		defer bodyPool.Put(z)
	}
	ep, channel := g.ep, g.ep.Channel(g.slot)
	path, q := s.dataPath, r.query
	if r.query == viaEvent {
		path, q = endpoint.PathEvent, ""
	}
	res := ep.Post(path, q, payload, s.cfg.Compress, channel)
	posting = false
	s.endPost()
	r.g = nil
	if res.Moved && s.acks != nil {
		// The acks themselves show the channel on another indexer: its
		// pending acks may be asked of one that never heard of them.
		s.acks.Moved(ep.Endpoint, channel)
	}
	s.pool.release(g, &res)
	if !*tried {
		*tried = true
		s.tried()
	}
	s.countAnswer(&res, len(payload))
	ep.countAnswer(&res)
	s.pool.judge(ep, &res)
	if res.Reply.Code == endpoint.CodeIncorrectIndex && (s.cfg.PerMessageIndex || s.cfg.IndexOnRefused != "") {
		// The index came from the message (or has a fallback): the event
		// is at fault, not the action, and must not hold up the rest.
		res.Outcome = endpoint.Rejected
	}
	s.health.report(res)
	if res.Outcome == endpoint.Delivered || res.Outcome == endpoint.Rejected {
		last := time.Unix(0, s.taken.Swap(time.Now().UnixNano()))
		if s.trouble.CompareAndSwap(true, false) && time.Since(last) > time.Second {
			// HEC takes data again after an outage: the waiting requests
			// go now, not at their pauses' end. After a busy moment they
			// keep their backoff (the adaptive limit sets the pace).
			s.win.hurry()
		}
		// retry.maxtime keeps counting from the first failure: an ack
		// that never comes follows answers that take the request.
		r.backoff, r.pause = 0, 0
		if res.Busy {
			// Taken with a capacity warning: the endpoint's limit
			// eases off (release counted it as back-pressure).
			s.health.nearCapacity(res)
		}
		return res, nil
	}
	// Transient and configuration failures alike are tried again: a token
	// being rotated or a load balancer misrouting during a deploy heals
	// by itself, and rsyslog may drop a batch handed back. Any of them
	// puts the sender in trouble, where one try at a time finds out when
	// HEC takes data again (the requests under way go on).
	s.stats.add(CtrRequestsRetried, 1)
	s.trouble.Store(true)
	return res, s.later(r, res)
}

// later is how long r waits after a failed try: backoff with jitter from
// 100 ms up to 5 s within retry.maxtime (so that senders recovering at
// once do not hit HEC in lockstep; a Retry-After HEC or its proxy sent is
// honoured), then, the outage logged, pauses growing to retryPauseMax.
func (s *Sender) later(r *request, res endpoint.Result) error {
	now := time.Now()
	if r.deadline.IsZero() {
		r.deadline = now.Add(s.cfg.RetryMaxTime)
	}
	if r.backoff == 0 { // a new run of failures (an ack that never came may have begun it)
		r.backoff = 100 * time.Millisecond
	}
	wait := r.backoff/2 + rand.N(r.backoff)
	r.backoff = min(r.backoff*2, 5*time.Second)
	wait = max(wait, res.RetryAfter)
	if now.Add(wait).After(r.deadline) {
		err := fmt.Errorf("%s (for %s=%dms)", res.Error(), OptRetryMaxTime, s.cfg.RetryMaxTime.Milliseconds())
		s.failing.begin(s, err, len(r.ends))
		r.pause = min(max(r.pause*2, time.Second), retryPauseMax)
		wait = max(r.pause/2+rand.N(r.pause), res.RetryAfter)
	}
	return &laterError{wait: wait, err: fmt.Errorf("%w: %s", ErrSuspend, res.Error())}
}

// healthLog logs a failure cause once when it starts and once when sending
// works again, instead of once per request; each cause at most once a
// minute (the returns held back are counted in the next), and a "works
// again" line only after a cause line, so that an endpoint flapping
// between busy and fine costs two lines a minute, not two per request.
type healthLog struct {
	mu       sync.Mutex
	cause    string // "" while healthy
	said     bool   // the current cause's line was logged
	causes   map[string]*rateLog
	log      Logger
	noAcks   bool    // logged that HEC sends no ackIds
	capacity rateLog // HEC's capacity warnings
	// rejectNote says what becomes of refused events and of the rest.
	rejectNote string
}

// nearCapacity logs HEC's capacity warnings at most once a minute.
func (h *healthLog) nearCapacity(res endpoint.Result) {
	ok, more := h.capacity.allow()
	if !ok {
		return
	}
	h.log(SevWarning, fmt.Sprintf("omsplunkgo: %s took the events but says it is near capacity (HEC code %d %q); "+
		"slowing down (logged at most once a minute)%s", res.URL, res.Reply.Code, res.Reply.Text, more))
}

// noAck logs, once, that HEC answers without ackIds although useack is on.
func (h *healthLog) noAck(res endpoint.Result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.noAcks {
		return
	}
	h.noAcks = true
	h.log(SevWarning, "omsplunkgo: "+res.URL+" answers without ackId although useack is on: indexer "+
		"acknowledgement is off for this token in Splunk, so HTTP 200 is all the delivery proof there is")
}

func (h *healthLog) report(res endpoint.Result) {
	cause := ""
	if res.Outcome != endpoint.Delivered {
		cause = res.Outcome.String()
		if res.Proxy {
			cause = "proxy " + cause // its own line, apart from HEC's failures
		}
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
	prev, said := h.cause, h.said
	h.cause = cause
	if cause == "" {
		h.said = false
		if said {
			h.log(SevInfo, "omsplunkgo: HEC accepts events again (was: "+prev+")")
		}
		return
	}
	if h.causes == nil || len(h.causes) > 64 {
		h.causes = map[string]*rateLog{}
	}
	rl := h.causes[cause]
	if rl == nil {
		rl = &rateLog{}
		h.causes[cause] = rl
	}
	ok, more := rl.allow()
	h.said = ok
	if !ok {
		return
	}
	switch {
	case res.Proxy:
		h.log(SevErr, "omsplunkgo: "+res.Error()+" - nothing reached HEC; the events stay in the window and are "+
			"tried again"+more)
	case res.Outcome == endpoint.Misconfigured:
		h.log(SevErr, "omsplunkgo: "+res.Error()+" - check the action's token, server and TLS settings; "+
			"the events stay in the window and are tried again"+more)
	case res.Outcome == endpoint.Rejected:
		h.log(SevErr, "omsplunkgo: "+res.Error()+h.rejectNote+more)
	default:
		h.log(SevWarning, "omsplunkgo: "+res.Error()+" - retrying"+more)
	}
}
