// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
)

// An item is what the window holds: one request's worth of events, a
// commit's record or part of one, its body from a pool of buffers.

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// item is one request's worth of events in the window: a commit's
// record, or part of one (of).
type item struct {
	query string
	// body is nil while the item is held only in its file (awaiting an
	// ack, or replayed): load reads it back.
	body     []byte
	ends     []int
	seg      *segment.Seg // its record, nil in a memory-only window
	off      int64        // its record's place in seg's file
	first    int          // its first event's index in the record (a part of one)
	replayed bool         // left by an earlier process
	queued   time.Time
	of       *whole // the record this item is part of; nil when it is all of it
	shared   bool   // body is a slice of of.body
}

func (it *item) events() int { return len(it.ends) }

// size is its body's length, also while the body is only in the file.
func (it *item) size() int { return it.ends[len(it.ends)-1] }

// whole is a record split over several requests, so that a request can be
// filled to batch.maxevents from commits that do not add up to it. The
// record is done once every part is; its body goes back to the pool once
// no part holds it.
type whole struct {
	parts atomic.Int32 // parts not done
	held  atomic.Int32 // parts whose body is a slice of body
	body  []byte       // the record's body
}

// split cuts it after its first k events (0 < k < events).
func (it *item) split(k int) (head, tail *item) {
	w := it.of
	if w == nil {
		w = &whole{body: it.body}
		w.parts.Store(1)
		if it.body != nil {
			w.held.Store(1)
		}
	}
	// Only queued items are split: their body is the commit's (or, for a
	// replayed one, still in the file).
	w.parts.Add(1)
	if it.body != nil {
		w.held.Add(1) // two parts hold it where it held it
	}
	cut := it.ends[k-1]
	rest := make([]int, len(it.ends)-k)
	for i, e := range it.ends[k:] {
		rest[i] = e - cut
	}
	head = &item{query: it.query, ends: it.ends[:k], seg: it.seg, off: it.off, first: it.first,
		replayed: it.replayed, queued: it.queued, of: w}
	tail = &item{query: it.query, ends: rest, seg: it.seg, off: it.off, first: it.first + k,
		replayed: it.replayed, queued: it.queued, of: w}
	if it.body != nil {
		head.body, tail.body = it.body[:cut:cut], it.body[cut:]
		head.shared, tail.shared = true, true
	}
	return head, tail
}

// release lets go of it's body: back to the pool, or, for a part, once
// no part holds the record's body any more.
func (it *item) release() {
	if it.body == nil {
		return
	}
	if it.shared {
		it.body, it.shared = nil, false
		if it.of.held.Add(-1) == 0 {
			b := it.of.body[:0]
			it.of.body = nil
			bodyPool.Put(&b)
		}
		return
	}
	it.free()
}

func newItem() *item {
	return &item{body: (*bodyPool.Get().(*[]byte))[:0]}
}

// free gives the item's body back to the pool.
func (it *item) free() {
	b := it.body[:0]
	it.body = nil
	bodyPool.Put(&b)
}

// freeItems gives the bodies of items back to the pool.
func freeItems(items []*item) {
	for _, it := range items {
		it.free()
	}
}
