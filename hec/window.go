// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
)

// Stage 3 of Deliver, the window: the requests a commit made are written
// to the action's segment files (internal/segment; the page cache, or the
// disk with window.fsync) and queued for the senders (senders.go); the
// commit returns then. An item leaves the window once HEC has answered
// for every event in it (acknowledged, with useack), and its record is
// done (and marked so in the files, so that a crash does not send it
// again). A full window makes the commit wait, at most window.maxwait,
// and then hand the batch back to rsyslog as suspended: rsyslog's queue
// holds the backlog, and memory stays bounded through an outage.
//
// Two bounds: window.maxevents and window.maxbytes bound what the window
// holds in memory; window.disk.maxevents what it holds only in its files:
// requests awaiting their ack and replayed records, whose bodies are read
// back from the files when they go (again). So acks far away cost disk,
// not memory (ackwait.go).

// request is one request's events on their way: taken from the queue,
// posted, and, while HEC cannot take it, waiting in the window as data
// (no goroutine waits for it) until its next try is due.
type request struct {
	items []*item
	query string
	body  []byte // what is still to be sent (a refused prefix is cut off)
	ends  []int
	// The current run of failures: retry.maxtime counts from its first;
	// backoff is the next pause within it, pause the next past it.
	deadline time.Time
	backoff  time.Duration
	pause    time.Duration
	due      time.Time // a waiting request's next try
	resentAt time.Time // last sent again for want of an ack
	acked    bool      // its last delivered try was acknowledged
	whole    bool      // body is all of its items' (nothing was cut off)
	g        *grant    // the place its next try goes out on, if it has one
}

// window holds what the action accepted and HEC has not yet taken.
type window struct {
	mu      sync.Mutex
	cond    *sync.Cond // queue grew, room freed, a request waits, or the sender halted
	queue   []*item
	waiting []*request // tried and failed: each waits for its due time
	// released counts done calls, for a commit waiting for disk space.
	released uint64
	events   int // held: queued, on the wire, awaiting an ack
	bytes    int
	// disk is the part of events/bytes held only in the files.
	disk   struct{ events, bytes int }
	max    struct{ events, bytes, diskEvents int }
	log    *segment.Log // nil: memory only (no spool.dir)
	closed bool
	// persist's scratch, apart from mu: senders release items while a
	// commit writes.
	pmu     sync.Mutex
	recBuf  []byte
	payBuf  []byte
	payEnds []int
	recs    []segment.Record
}

func newWindow(c *Config, log *segment.Log) *window {
	w := &window{log: log}
	w.cond = sync.NewCond(&w.mu)
	w.max.events, w.max.bytes, w.max.diskEvents = c.WindowMaxEvents, c.WindowMaxBytes, c.WindowDiskMaxEvents
	return w
}

// fullForLocked reports whether events/bytes more do not fit: in memory
// (an empty memory part takes any batch, so that a batch larger than the
// window still goes), or because the files hold their maximum.
func (w *window) fullForLocked(events, bytes int) bool {
	memEvents, memBytes := w.events-w.disk.events, w.bytes-w.disk.bytes
	if memEvents > 0 && (memEvents+events > w.max.events || memBytes+bytes > w.max.bytes) {
		return true
	}
	return w.disk.events >= w.max.diskEvents
}

// errWindowFull says the window stayed full for window.maxwait.
var errWindowFull = errors.New("the window is full")

// room waits until the window can take events/bytes more, at most wait,
// polling stopping. An empty window takes any batch, so that a batch
// larger than the window still goes. It reports whether there is room.
func (w *window) room(events, bytes int, wait time.Duration, stopping func() bool) bool {
	deadline := time.Now().Add(wait)
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.fullForLocked(events, bytes) {
		if w.closed || time.Now().After(deadline) || stopping != nil && stopping() {
			return false
		}
		// The condition variable has no timeout: a timer wakes it.
		t := time.AfterFunc(min(time.Until(deadline), 50*time.Millisecond), func() {
			w.mu.Lock()
			w.cond.Broadcast()
			w.mu.Unlock()
		})
		w.cond.Wait()
		t.Stop()
	}
	return true
}

// fits reports whether the window has room for events/bytes more now
// (an empty window takes any batch).
func (w *window) fits(events, bytes int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.fullForLocked(events, bytes)
}

// awaitDone waits at most d for items to be released (done); false when
// none was, or the window closed.
func (w *window) awaitDone(d time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.released
	t := time.AfterFunc(d, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(d)
	for w.released == n && !w.closed && time.Now().Before(deadline) {
		w.cond.Wait()
	}
	return w.released != n
}

// full reports whether the window holds its maximum.
func (w *window) full() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	memEvents, memBytes := w.events-w.disk.events, w.bytes-w.disk.bytes
	return memEvents >= w.max.events || memBytes >= w.max.bytes || w.disk.events >= w.max.diskEvents
}

// persist writes the items' records in one write. Without a log there is
// nothing to write.
func (w *window) persist(items []*item) error {
	if w.log == nil {
		return nil
	}
	w.pmu.Lock()
	defer w.pmu.Unlock()
	// The payloads go into one scratch buffer; the records point into it
	// once it has stopped growing.
	w.payBuf, w.recs, w.payEnds = w.payBuf[:0], w.recs[:0], w.payEnds[:0]
	for _, it := range items {
		w.payBuf = encodeItem(w.payBuf, it)
		w.payEnds = append(w.payEnds, len(w.payBuf))
	}
	start := 0
	for i, it := range items {
		w.recs = append(w.recs, segment.Record{Payload: w.payBuf[start:w.payEnds[i]], Events: it.events()})
		start = w.payEnds[i]
	}
	sg, buf, err := w.log.Append(w.recBuf, w.recs)
	w.recBuf = buf[:0]
	if err != nil {
		return err
	}
	for i, it := range items {
		it.seg, it.off = sg, w.recs[i].Off
	}
	return nil
}

// add queues items for the senders.
func (w *window) add(items []*item) {
	now := time.Now()
	w.mu.Lock()
	for _, it := range items {
		it.queued = now
		w.events += it.events()
		w.bytes += it.size()
		if it.body == nil {
			w.disk.events += it.events()
			w.disk.bytes += it.size()
		}
		w.queue = append(w.queue, it)
	}
	w.cond.Broadcast()
	w.mu.Unlock()
}

// take removes the items of one request from the head of the queue: the
// same query, at most maxEvents and maxBytes together (at least one). When
// the next item does not fit whole, its first events fill the request and
// the rest stays at the head of the queue.
func (w *window) take(maxEvents, maxBytes int) []*item {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return nil
	}
	n, events, bytes := 1, w.queue[0].events(), w.queue[0].size()
	for ; n < len(w.queue); n++ {
		it := w.queue[n]
		if it.query != w.queue[0].query || events+it.events() > maxEvents || bytes+it.size() > maxBytes {
			break
		}
		events += it.events()
		bytes += it.size()
	}
	items := make([]*item, n, n+1)
	copy(items, w.queue[:n])
	clear(w.queue[:n])
	w.queue = w.queue[n:]
	if len(w.queue) > 0 {
		next, room := w.queue[0], maxEvents-events
		if next.query == items[0].query && room > 0 && room < next.events() && bytes+next.ends[room-1] <= maxBytes {
			head, tail := next.split(room)
			items = append(items, head)
			w.queue[0] = tail
		}
	}
	return items
}

// oldest is when the item at the head of the queue was queued, and how
// many events wait.
func (w *window) oldest() (time.Time, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return time.Time{}, 0
	}
	n := 0
	for _, it := range w.queue {
		n += it.events()
	}
	return w.queue[0].queued, n
}

// done releases items HEC has taken, their records and their bodies.
func (w *window) done(items []*item) {
	w.mu.Lock()
	for _, it := range items {
		w.events -= it.events()
		w.bytes -= it.size()
		if it.body == nil {
			w.disk.events -= it.events()
			w.disk.bytes -= it.size()
		}
	}
	w.released++
	w.cond.Broadcast()
	w.mu.Unlock()
	for _, it := range items {
		it.release()
		if it.of != nil && it.of.parts.Add(-1) > 0 {
			// Other parts of its record are not delivered yet: this
			// part is marked done, so a restart sends only the others.
			if w.log != nil {
				w.log.DonePart(it.seg, it.off, it.first, it.events())
			}
			continue
		}
		if w.log != nil {
			w.log.Done(it.seg, it.off)
		}
	}
}

// spill lets go of the bodies of items that are in the files: they wait
// for their ack there, and are read back only if they must go again.
// Items without a file (a memory-only window, or the files failing) keep
// theirs.
func (w *window) spill(items []*item) {
	w.mu.Lock()
	for _, it := range items {
		if it.seg == nil || it.off < 0 || it.body == nil { // off < 0: a file of an older release
			continue
		}
		w.disk.events += it.events()
		w.disk.bytes += it.size()
		it.release()
	}
	w.mu.Unlock()
}

// load reads back from the files the bodies of items that have none.
// An item whose record cannot be read back (the file was removed or
// changed under the window) is returned as lost.
func (w *window) load(items []*item) (lost []*item, err error) {
	for _, it := range items {
		if it.body != nil {
			continue
		}
		body, rerr := readBack(it)
		if rerr != nil {
			lost, err = append(lost, it), rerr
			continue
		}
		w.mu.Lock()
		it.body = body
		w.disk.events -= it.events()
		w.disk.bytes -= it.size()
		w.mu.Unlock()
	}
	return lost, err
}

// readBack reads it's events from its record.
func readBack(it *item) ([]byte, error) {
	rec, err := segment.ReadRecord(it.seg.Path, it.off)
	if err != nil {
		return nil, err
	}
	whole, err := decodeItem(rec.Payload)
	if err != nil {
		return nil, fmt.Errorf("%s at %d: %w", it.seg.Path, it.off, err)
	}
	n := it.events()
	if it.first+n > whole.events() {
		return nil, fmt.Errorf("%s at %d: the record holds %d events, not %d from %d", it.seg.Path, it.off,
			whole.events(), n, it.first)
	}
	start := 0
	if it.first > 0 {
		start = whole.ends[it.first-1]
	}
	for i, e := range whole.ends[it.first : it.first+n] {
		if e-start != it.ends[i] {
			return nil, fmt.Errorf("%s at %d: the record's events are not the ones sent", it.seg.Path, it.off)
		}
	}
	return append([]byte(nil), whole.body[start:start+it.size()]...), nil
}

// held is what the window holds: events and bytes.
func (w *window) held() (events, bytes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events, w.bytes
}

// close takes no more items and wakes every waiter for good; the files
// stay.
func (w *window) close() {
	w.mu.Lock()
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
}

// wait puts r back in the window until r.due.
func (w *window) wait(r *request) {
	w.mu.Lock()
	due := r.due
	w.waiting = append(w.waiting, r)
	w.cond.Broadcast()
	w.mu.Unlock()
	if d := time.Until(due); d > 0 {
		time.AfterFunc(d, w.poke)
	}
}

// poke wakes the dispatcher to look again (a due time came, the
// endpoints' state changed).
func (w *window) poke() {
	w.mu.Lock()
	w.cond.Broadcast()
	w.mu.Unlock()
}

// hurry makes every waiting request due now: HEC takes data again.
func (w *window) hurry() {
	w.mu.Lock()
	for _, r := range w.waiting {
		r.due = time.Time{}
	}
	w.cond.Broadcast()
	w.mu.Unlock()
}

// dueLocked is the index of the waiting request due first, and whether
// it is due now.
func (w *window) dueLocked(now time.Time) (int, bool) {
	best := -1
	for i, r := range w.waiting {
		if best < 0 || r.due.Before(w.waiting[best].due) {
			best = i
		}
	}
	return best, best >= 0 && !w.waiting[best].due.After(now)
}

// gate says whether the dispatcher may start a request now: in trouble
// (the last try failed and no answer since said HEC takes data) only one
// try is under way at a time, and a request that waits goes before new
// ones, so that an outage costs one request per backoff, not one per item.
type gate func() (trouble bool, trying int)

// waitWork waits until a request can start: a waiting request is due, or
// new items are queued (unless in trouble with requests waiting). False
// once the window closed.
func (w *window) waitWork(g gate) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.closed {
		trouble, trying := g()
		_, due := w.dueLocked(time.Now())
		if !(trouble && trying > 0) && (due || len(w.queue) > 0 && !(trouble && len(w.waiting) > 0)) {
			return true
		}
		w.cond.Wait()
	}
	return false
}

// next is the request to start: a due waiting one first, else one made of
// queued items; nil when neither is there after all.
func (w *window) next(maxEvents, maxBytes int, trouble bool) *request {
	w.mu.Lock()
	i, due := w.dueLocked(time.Now())
	if due {
		r := w.waiting[i]
		w.waiting = append(w.waiting[:i], w.waiting[i+1:]...)
		w.mu.Unlock()
		return r
	}
	blocked := trouble && len(w.waiting) > 0
	w.mu.Unlock()
	if blocked {
		return nil
	}
	items := w.take(maxEvents, maxBytes)
	if items == nil {
		return nil
	}
	return &request{items: items} // the sender gives it its body (prepare)
}

// unsent is every item held that is not on the wire: queued or waiting.
func (w *window) unsent() []*item {
	w.mu.Lock()
	defer w.mu.Unlock()
	items := append([]*item(nil), w.queue...)
	for _, r := range w.waiting {
		items = append(items, r.items...)
	}
	return items
}

// encodeItem appends it's record payload to dst: the query, the event
// ends and the body, so that a later start rebuilds the request as it was.
func encodeItem(dst []byte, it *item) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(it.query)))
	dst = append(dst, it.query...)
	dst = binary.AppendUvarint(dst, uint64(len(it.ends)))
	prev := 0
	for _, e := range it.ends {
		dst = binary.AppendUvarint(dst, uint64(e-prev))
		prev = e
	}
	return append(dst, it.body...)
}

// decodeItem reads a record payload back, checking everything a request
// is made of: a record whose checksum holds may still have been crafted
// or written by a broken build, and must never crash the reader or go out
// as something else.
func decodeItem(p []byte) (*item, error) {
	size := len(p)
	bad := func(why string) error { return fmt.Errorf("record of %d bytes does not hold a request: %s", size, why) }
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, bad("query length")
	}
	p = p[k:]
	query := string(p[:n])
	if !validQuery(query) {
		return nil, bad("query is no URL query")
	}
	p = p[n:]
	count, k := binary.Uvarint(p)
	if k <= 0 || count == 0 || count > uint64(len(p)) {
		return nil, bad("event count")
	}
	p = p[k:]
	ends := make([]int, 0, count)
	end := uint64(0)
	for range count {
		d, k := binary.Uvarint(p)
		// Each event is at least one byte and all end within the body:
		// the ends rise strictly and none passes what is left.
		if k <= 0 || d == 0 || d > uint64(len(p)) {
			return nil, bad("event ends")
		}
		p = p[k:]
		end += d
		if end > uint64(len(p)) {
			return nil, bad("event ends past the body")
		}
		ends = append(ends, int(end))
	}
	if end != uint64(len(p)) {
		return nil, bad("event ends do not cover the body")
	}
	return &item{query: query, ends: ends, body: p}, nil
}

// validQuery: empty, the event-endpoint mark, or printable ASCII without
// space or '#' (what event.RawQuery writes).
func validQuery(q string) bool {
	if q == viaEvent {
		return true
	}
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}
