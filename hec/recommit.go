// SPDX-License-Identifier: Apache-2.0

package hec

import "hash/maphash"

// Worker is one rsyslog worker thread's view of a Sender. It exists for
// what rsyslog does after a multi-message batch fails: once the action
// resumes, it commits the same messages again one at a time
// (action.c, actionTryRemoveHardErrorsFromBatch). Sent as they come, a
// 500-message batch would become 500 single-event POSTs right when HEC is
// recovering. Instead the Worker keeps the failed batch; the first
// single-message commit that belongs to it sends the whole batch in one
// request, and the commits that follow are answered from that result.
//
// A Worker is not safe for concurrent use: rsyslog calls each worker
// instance from one thread at a time.
type Worker struct {
	s    *Sender
	seed maphash.Seed
	// failed is the last multi-message batch that came back suspended,
	// copied, with each message's hash.
	failed       []Message
	failedHashes []uint64
	// credit counts messages (by hash) already delivered as part of a
	// failed batch whose single re-commits have not arrived yet.
	credit map[uint64]int
}

// NewWorker returns a Worker for one rsyslog worker thread.
func (s *Sender) NewWorker() *Worker {
	return &Worker{s: s, seed: maphash.MakeSeed()}
}

// Deliver is Sender.Deliver with rsyslog's re-commit pattern folded into
// one request. rsyslog 8.2302 (action.c actionCommit) tries each message of
// a failed batch alone, then commits the ones that failed alone again as a
// batch until they go: a message whose batch was delivered on behalf of an
// earlier single commit has credit, and leaves every later commit, single
// or not, without being sent again.
func (w *Worker) Deliver(msgs []Message, stopping func() bool) error {
	if w.credit != nil {
		rest, hashes := w.uncredited(msgs)
		if len(rest) == len(msgs) {
			w.credit = nil // nothing of the sequence: it ended
		} else {
			if len(rest) > 0 {
				if err := w.s.Deliver(rest, stopping); err != nil {
					return err
				}
			}
			for _, h := range hashes {
				w.credit[h]--
			}
			return nil
		}
	}
	if len(msgs) == 1 && w.failed != nil {
		h := w.hash(&msgs[0])
		if w.indexOfFailed(h) >= 0 {
			err := w.s.Deliver(w.failed, stopping)
			if err != nil {
				return err
			}
			w.credit = make(map[uint64]int, len(w.failedHashes))
			for _, fh := range w.failedHashes {
				w.credit[fh]++
			}
			w.credit[h]--
			w.forgetFailed()
			return nil
		}
	}
	// Anything else ends a re-commit sequence.
	w.forgetFailed()
	err := w.s.Deliver(msgs, stopping)
	if err != nil && len(msgs) > 1 && (stopping == nil || !stopping()) {
		w.rememberFailed(msgs)
	}
	return err
}

// uncredited is msgs without those that have credit, and the hashes of
// those that have (each credit used once).
func (w *Worker) uncredited(msgs []Message) ([]Message, []uint64) {
	var rest []Message
	var used []uint64
	left := map[uint64]int{}
	for i := range msgs {
		h := w.hash(&msgs[i])
		if w.credit[h]-left[h] > 0 {
			left[h]++
			used = append(used, h)
			continue
		}
		rest = append(rest, msgs[i])
	}
	if len(used) == 0 {
		return msgs, nil
	}
	return rest, used
}

// hash identifies a message across commits. It reads the text only up to
// event.maxbytes, so a message Deliver truncated hashes as it arrived.
func (w *Worker) hash(m *Message) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	for _, part := range [...][]byte{m.Time, m.Host, m.Body[:min(len(m.Body), w.s.cfg.EventMaxBytes)],
		m.Meta.Index, m.Meta.Source, m.Meta.Sourcetype, m.Meta.Host, m.Meta.Fields} {
		h.Write(part)
		h.WriteByte(0)
	}
	return h.Sum64()
}

func (w *Worker) indexOfFailed(h uint64) int {
	for i, fh := range w.failedHashes {
		if fh == h {
			return i
		}
	}
	return -1
}

// rememberFailed copies msgs: rsyslog reuses their buffers after the call.
func (w *Worker) rememberFailed(msgs []Message) {
	size := 0
	for i := range msgs {
		for _, p := range msgs[i].parts() {
			size += len(*p)
		}
	}
	buf := make([]byte, 0, size)
	w.failed = make([]Message, len(msgs))
	w.failedHashes = make([]uint64, len(msgs))
	for i := range msgs {
		w.failedHashes[i] = w.hash(&msgs[i])
		c := msgs[i]
		for _, p := range c.parts() {
			at := len(buf)
			buf = append(buf, *p...)
			*p = buf[at:len(buf):len(buf)]
		}
		w.failed[i] = c
	}
}

// parts are the byte slices of m that point into rsyslog's buffers.
func (m *Message) parts() [8]*[]byte {
	return [8]*[]byte{&m.Time, &m.Host, &m.Body, &m.Meta.Index, &m.Meta.Source, &m.Meta.Sourcetype,
		&m.Meta.Host, &m.Meta.Fields}
}

func (w *Worker) forgetFailed() {
	w.failed, w.failedHashes = nil, nil
}
