// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
)

// Stage 5b, awaiting the ack (useack): a request HEC took with an ackId
// waits for its acknowledgement as data, not on a goroutine. Its bodies go
// back to the pool, since they are in the window's files (window.spill),
// and the acker (internal/endpoint) polls each channel once per
// ack.interval for all its pending ackIds and calls back. Acknowledged,
// its items are done; not acknowledged (timeout, dropped by HEC, channel
// moved), it waits in the window for its next try, which reads its
// bodies back from the files (window.load). So the distance to HEC and
// the ack delay cost disk and a few bytes of memory per event, and
// throughput is bounded by window.disk.maxevents / ack latency.

// ackPending says a delivered request now awaits its ack.
type ackPending struct{ res endpoint.Result }

func (e *ackPending) Error() string { return "awaiting the ack" }

// parkForAck hands r to the acker.
func (s *Sender) parkForAck(r *request, res endpoint.Result) {
	s.win.spill(r.items)
	r.body, r.ends, r.whole = nil, nil, false
	n := int64(0)
	for _, it := range r.items {
		n += int64(it.events())
	}
	s.awaitingAck.Add(n)
	s.acks.Watch(res, s.cfg.AckTimeout, func(st endpoint.AckState) {
		s.awaitingAck.Add(-n)
		s.acked(r, res, st)
	})
}

// acked is what the acker says of a parked request.
func (s *Sender) acked(r *request, res endpoint.Result, st endpoint.AckState) {
	defer s.recoverPanic("ack", func() {
		r.due = time.Now().Add(time.Second)
		s.win.wait(r)
	})
	switch st {
	case endpoint.Acked:
		s.delivered(r)
		return
	case endpoint.AckStopped:
		// The files keep it for the next start (a memory-only item is
		// written there by keepUnsent).
		r.due = time.Now().Add(time.Hour)
		s.win.wait(r)
		return
	}
	r.due = time.Now()
	if err := s.notAcked(r, res, st); err != nil {
		if later, ok := err.(*laterError); ok {
			r.due = time.Now().Add(later.wait)
		}
	}
	s.win.wait(r)
}

// delivered counts r's events taken and releases them from the window.
func (s *Sender) delivered(r *request) {
	s.failing.end(s)
	events, replayed := 0, 0
	for _, it := range r.items {
		events += it.events()
		if it.replayed {
			replayed += it.events()
		}
	}
	if r.parked() {
		s.stats.add(CtrDelivered, int64(events))
	}
	if replayed > 0 {
		s.stats.add(CtrReplayed, int64(replayed))
	}
	s.win.done(r.items)
}

// parked: r went through the acker (its events are counted delivered at
// the ack, not by send).
func (r *request) parked() bool { return r.ends == nil }

// notAcked handles an ack that did not come: r goes again, now or, for a
// channel that moved again within ack.timeout, once that has passed
// (*laterError). HEC answering without acknowledging counts toward
// retry.maxtime like a failed try, so an ack that never comes is an
// outage, logged, not a silent resend loop.
func (s *Sender) notAcked(r *request, res endpoint.Result, st endpoint.AckState) error {
	now := time.Now()
	switch st {
	case endpoint.AckStopped:
		return fmt.Errorf("%w: %w: %s: not acknowledged yet", ErrSuspend, ErrStopping, res.URL)
	case endpoint.AckMoved:
		if !r.resentAt.IsZero() && now.Sub(r.resentAt) < s.cfg.AckTimeout {
			// Moved again so soon: no second resend within ack.timeout.
			return &laterError{wait: s.cfg.AckTimeout - now.Sub(r.resentAt),
				err: fmt.Errorf("%s: channel moved again within %s", res.URL, OptAckTimeout)}
		}
	case endpoint.AckExpired:
		s.stats.add(CtrAckExpired, 1)
		if ok, more := s.ackExpiredLog.allow(); ok {
			s.log(SevWarning, fmt.Sprintf("omsplunkgo: %s: ackId %d on channel %s still unacknowledged while later ones "+
				"of the channel are: HEC dropped it (Splunk's ackExpiryMode=expire_at_90 on a full channel, or an "+
				"indexer restart); sending the request again, a duplicate if it was indexed (counted as ack.expired; "+
				"logged at most once a minute)%s", res.URL, res.Reply.AckID, res.Channel, more))
		}
	default: // timed out
		s.stats.add(CtrAckTimeouts, 1)
		if ok, more := s.ackLog.allow(); ok {
			s.log(SevWarning, fmt.Sprintf("omsplunkgo: %s: ackId %d on channel %s not acknowledged within %s=%dms; "+
				"sending the request again (counted as ack.timeouts; logged at most once a minute)%s",
				res.URL, res.Reply.AckID, res.Channel, OptAckTimeout, s.cfg.AckTimeout.Milliseconds(), more))
		}
	}
	r.resentAt = now
	if r.deadline.IsZero() {
		r.deadline = now.Add(s.cfg.RetryMaxTime)
	} else if now.After(r.deadline) {
		s.failing.begin(s, fmt.Errorf("%s: HEC took the request but did not acknowledge it", res.URL), r.events())
	}
	return nil
}

// events is the number of events r carries.
func (r *request) events() int {
	n := 0
	for _, it := range r.items {
		n += it.events()
	}
	if r.items == nil {
		n = len(r.ends)
	}
	return n
}

// noteMoved says, at most once a minute, that a load balancer moved a
// channel while acks were pending on it.
func (s *Sender) noteMoved(url, channel string) {
	ok, more := s.moves.allow()
	if !ok {
		return
	}
	s.log(SevWarning, fmt.Sprintf("omsplunkgo: %s: channel %s reached another indexer while acks were pending on it "+
		"(an ackId that did not rise, or an ack poll answered \"invalid channel\"): the load balancer does not keep "+
		"the channel on one indexer, or the indexer restarted; those requests go again on a fresh channel, at most "+
		"once per ack.timeout each (duplicates possible, never a loss); counted as ack.channel.moves%s", url, channel, more))
}
