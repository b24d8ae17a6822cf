// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Stage 2 of Deliver, batching: shaped messages are encoded into the
// items of requests of at most batch.maxevents and batch.maxbytes (the
// window, window.go, keeps them; the senders may join several into one
// request). A batch larger than one request is encoded on several
// goroutines.

// batch encodes msgs into items.
func (s *Sender) batch(msgs []Message) []*item {
	if len(msgs) <= s.cfg.BatchMaxEvents {
		return s.encodeChunk(msgs)
	}
	return s.encodeParallel(msgs)
}

// encodeParallel cuts a batch larger than one request into equal chunks
// of at most batch.maxevents and encodes them on up to GOMAXPROCS
// goroutines, each a run of neighbouring chunks: the calling rsyslog
// worker thread would otherwise encode the whole batch alone while the
// other cores idle. One goroutine per chunk would start a goroutine per
// message at batch.maxevents="1".
func (s *Sender) encodeParallel(msgs []Message) []*item {
	chunks := (len(msgs) + s.cfg.BatchMaxEvents - 1) / s.cfg.BatchMaxEvents
	size := (len(msgs) + chunks - 1) / chunks
	parts := make([][]*item, chunks)
	encode := func(from, to int) {
		for c := from; c < to; c++ {
			parts[c] = s.encodeChunk(msgs[min(c*size, len(msgs)):min((c+1)*size, len(msgs))])
		}
	}
	workers := min(chunks, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var panicked atomic.Value
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic goes back to the commit, which hands the batch
			// back to rsyslog (plugin), instead of ending the process.
			defer func() {
				if p := recover(); p != nil {
					panicked.Store(fmt.Sprintf("%v\n%s", p, debug.Stack()))
				}
			}()
			encode(w*chunks/workers, (w+1)*chunks/workers)
		}()
	}
	encode(0, chunks/workers)
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p)
	}
	var items []*item
	for _, p := range parts {
		items = append(items, p...)
	}
	return items
}

// encodeChunk encodes msgs into items of their own.
func (s *Sender) encodeChunk(msgs []Message) []*item {
	var items []*item
	r := newItem()
	for i := range msgs {
		if msgs[i].skip {
			continue
		}
		if next := s.addEvent(r, &msgs[i]); next != r {
			items = append(items, r)
			r = next
		}
	}
	if len(r.ends) == 0 {
		r.free()
		return fitItems(items)
	}
	return fitItems(append(items, r))
}

// fitItems gives the pool back the large buffers of small items: a
// request of a few events must not hold a 64 KiB buffer while it waits in
// the window, or memory would follow the number of requests, not the
// window's bytes.
func fitItems(items []*item) []*item {
	for _, it := range items {
		if c, n := cap(it.body), len(it.body); c > 2*n+4096 {
			b := make([]byte, n)
			copy(b, it.body)
			it.free()
			it.body = b
		}
	}
	return items
}

// addEvent appends m to r. When that pushes r past batch.maxbytes and r
// held events before, or m's metadata differs from r's (raw endpoint), the
// event goes to a fresh request, which is returned (r is then complete);
// otherwise r is returned.
func (s *Sender) addEvent(r *item, m *Message) *item {
	if len(r.ends) == 0 {
		r.query = m.query
	} else if m.query != r.query {
		r = newItem()
		r.query = m.query
	}
	mark := len(r.body)
	if s.raw != nil && m.query != viaEvent {
		var escaped bool
		if r.body, escaped = event.AppendLine(r.body, m.Body); escaped {
			s.stats.add(CtrRawLineBreaks, 1)
		}
	} else {
		r.body = s.enc.AppendWithMeta(r.body, m.Time, m.Host, m.Body, &m.Meta)
	}
	if len(r.body) > s.cfg.BatchMaxBytes && len(r.ends) > 0 {
		next := newItem()
		next.query = r.query
		next.body = append(next.body, r.body[mark:]...)
		r.body = r.body[:mark]
		r = next
	}
	r.ends = append(r.ends, len(r.body))
	return r
}
