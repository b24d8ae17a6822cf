// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"sync"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Stage 2 of Deliver, batching: shaped messages are encoded into requests
// of at most batch.maxevents and batch.maxbytes. One request is posted on
// the calling rsyslog thread; a larger batch is encoded on several
// goroutines; with batch.maxdelay, batches of several Deliver calls share
// an open request.

// batch encodes msgs into requests and posts them; the spans say which
// messages went into which request.
func (s *Sender) batch(msgs []Message) []span {
	switch {
	case s.cfg.BatchMaxDelay > 0:
		return s.encodeShared(msgs)
	case len(msgs) > s.cfg.BatchMaxEvents:
		return s.encodeParallel(msgs)
	default:
		// The common case: one request, posted from the calling thread.
		return s.encodeChunk(msgs, 0, len(msgs), s.inlinePost())
	}
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

// span is the part of one Deliver's batch that went into one request.
type span struct {
	r        *request
	from, to int // msgs[from:to]
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[c] = s.encodeChunk(msgs, c*size, min((c+1)*size, len(msgs)), false)
		}()
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
	if s.raw != nil && m.query != viaEvent {
		var escaped bool
		if r.body, escaped = event.AppendLine(r.body, m.Body); escaped {
			s.stats.add(CtrRawLineBreaks, 1)
		}
	} else {
		r.body = s.encode(r.body, m)
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
