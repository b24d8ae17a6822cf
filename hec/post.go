// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Stage 5, posting, on a sender's goroutine: a request goes to an endpoint
// (endpoints.go) and is retried with backoff until HEC answers for its
// content; a partly refused request is cut at the event HEC names (or
// halved) and the rest sent again; with useack, the request counts once
// HEC acknowledges it.

// send delivers the events in body (ends[i] marks the end of event i) with
// the request query query (raw endpoint metadata). An event HEC refuses for
// good is set aside and the rest sent again: by the invalid-event-number
// HEC names, or by halving the request when HEC names none (or says 413,
// too large), until the culprit stands alone. An index refused without a
// position is the request's own (raw endpoint): all its events go aside.
//
// What a partly refused request means is what Splunk does with it,
// measured on Splunk 10.4 and Cloud 10.5: the objects before the one
// named were indexed, none from it on; code 7 names the object after the
// bad one; Splunk Cloud answers a body over its size cap with code 6
// naming object 0, so a request of several events answered so is split
// before event 0 is called bad; on an ack token the indexed prefix counts
// once its ackId is acknowledged.
//
// g, if not nil, is the place the first try goes out on; later tries wait
// for places of their own.
func (s *Sender) send(g *grant, query string, body []byte, ends []int) error {
	deadline := time.Now().Add(s.cfg.RetryMaxTime)
	for len(ends) > 0 {
		res, err := s.postRetrying(g, query, body, deadline)
		g = nil
		if err != nil {
			return err
		}
		if res.Outcome == endpoint.Delivered {
			if s.acks != nil && !s.acknowledged(res) {
				if err := s.sendAgain(res, &deadline); err != nil {
					return err
				}
				continue
			}
			s.stats.add(CtrDelivered, int64(len(ends)))
			return nil
		}
		k := res.Reply.InvalidEvent
		if res.Reply.Code == endpoint.CodeIncorrectIndex && k > 0 {
			k-- // Splunk's code 7 names the object after the bad one
		}
		switch {
		case len(ends) == 1:
			s.rejectEvent(query, body, res)
			return nil
		case k < 0 && res.Reply.Code == endpoint.CodeIncorrectIndex && s.raw != nil && query != viaEvent:
			start := 0
			for _, e := range ends {
				s.rejectEvent(query, body[start:e], res)
				start = e
			}
			return nil
		case k == 0 && res.Reply.Code == endpoint.CodeInvalidFormat:
			// Event 0 may be bad, or the body over Splunk Cloud's cap:
			// halving tells them apart without losing a good event.
			if err := s.sendHalves(query, &body, &ends); err != nil {
				return err
			}
		case k >= 0 && k < len(ends) && res.Status != 413:
			start := 0
			if k > 0 {
				start = ends[k-1]
			}
			// On an ack token the indexed prefix has an ackId; until HEC
			// acknowledges it, the prefix is not safe: send it all again.
			if k > 0 && s.acks != nil && res.Reply.AckID >= 0 && !s.acknowledged(res) {
				if err := s.sendAgain(res, &deadline); err != nil {
					return err
				}
				continue
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
			if err := s.sendHalves(query, &body, &ends); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendAgain is what follows an ack that did not come: HEC is up but may
// have lost the events, so they go again with a fresh retry budget, unless
// the sender is stopping.
func (s *Sender) sendAgain(res endpoint.Result, deadline *time.Time) error {
	if s.stopping.Load() {
		return fmt.Errorf("%w: %w: %s: not acknowledged yet", ErrSuspend, ErrStopping, res.URL)
	}
	*deadline = time.Now().Add(s.cfg.RetryMaxTime)
	return nil
}

// sendHalves sends the first half of the request on its own and leaves the
// second half in body and ends, for send's loop to go on with.
func (s *Sender) sendHalves(query string, body *[]byte, ends *[]int) error {
	h := len(*ends) / 2
	mid := (*ends)[h-1]
	if err := s.send(nil, query, (*body)[:mid], (*ends)[:h]); err != nil {
		return err
	}
	second := make([]int, len(*ends)-h)
	for i, e := range (*ends)[h:] {
		second[i] = e - mid
	}
	*body, *ends = (*body)[mid:], second
	return nil
}

// acknowledged waits for HEC's ack of a delivered request.
func (s *Sender) acknowledged(res endpoint.Result) bool {
	if res.Reply.AckID < 0 {
		s.health.noAck(res)
		return true // this token has acks off: the 200 is all HEC will say
	}
	if s.acks.Wait(res, s.cfg.AckTimeout, s.haltCh) {
		return true
	}
	if s.stopping.Load() {
		return false
	}
	s.stats.add(CtrAckTimeouts, 1)
	s.log(SevWarning, fmt.Sprintf("omsplunkgo: %s: ackId %d on channel %s not acknowledged within %s=%dms; sending the request again",
		res.URL, res.Reply.AckID, res.Channel, OptAckTimeout, s.cfg.AckTimeout.Milliseconds()))
	return false
}

// postRetrying posts body until HEC answers for its content (Delivered or
// Rejected), retrying transient failures with backoff until deadline. Each
// try takes a place on an endpoint (g for the first, when given) and gives
// it back with the answer; a pause between tries holds none, so an outage
// slows nothing but this request. The error wraps ErrSuspend.
func (s *Sender) postRetrying(g *grant, query string, body []byte, deadline time.Time) (endpoint.Result, error) {
	payload := body
	if s.cfg.Compress {
		z := bodyPool.Get().(*[]byte)
		*z = event.AppendGzip((*z)[:0], body, s.cfg.CompressLevel)
		payload = *z
		defer bodyPool.Put(z)
	}
	backoff := 100 * time.Millisecond
	for {
		if g == nil {
			if g = s.acquire(); g == nil {
				return endpoint.Result{}, fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
			}
		}
		ep, channel := g.ep, g.ep.Channel(g.slot)
		path, q := s.dataPath, query
		if query == viaEvent {
			path, q = endpoint.PathEvent, ""
		}
		res := ep.Post(path, q, payload, s.cfg.Compress, channel)
		if res.Moved && s.acks != nil {
			// The balancer moved this channel: its pending acks may be
			// asked of an indexer that never heard of them.
			s.acks.Moved(ep.Endpoint, channel)
		}
		s.release(g, &res)
		g = nil
		s.countAnswer(&res, len(payload))
		s.judge(ep, &res)
		if res.Reply.Code == endpoint.CodeIncorrectIndex && s.cfg.PerMessageIndex {
			// The index came from the message: the event is at fault, not
			// the action, and must not hold up the rest.
			res.Outcome = endpoint.Rejected
		}
		s.health.report(res)
		if res.Outcome == endpoint.Delivered || res.Outcome == endpoint.Rejected {
			if res.Busy {
				// Taken with a capacity warning: the endpoint's limit
				// eases off (release counted it as back-pressure).
				s.health.nearCapacity(res)
			}
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
