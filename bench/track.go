// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// tracker records when each message of a run arrived. Sequence numbers
// first..first+n-1 belong to the run; anything else is counted as foreign.
type tracker struct {
	first, n int
	seen     []atomic.Int32
	arrived  []atomic.Int64 // unix nanoseconds of the first arrival
	count    atomic.Int64   // distinct messages arrived
	dups     atomic.Int64
	foreign  atomic.Int64
	done     chan struct{}
	doneAt   atomic.Int64
	once     sync.Once
}

func newTracker(first, n int) *tracker {
	return &tracker{first: first, n: n, seen: make([]atomic.Int32, n), arrived: make([]atomic.Int64, n),
		done: make(chan struct{})}
}

func (t *tracker) arrive(seq int, at time.Time) {
	i := seq - t.first
	if i < 0 || i >= t.n {
		t.foreign.Add(1)
		return
	}
	if t.seen[i].Add(1) > 1 {
		t.dups.Add(1)
		return
	}
	t.arrived[i].Store(at.UnixNano())
	if t.count.Add(1) == int64(t.n) {
		t.once.Do(func() {
			t.doneAt.Store(at.UnixNano())
			close(t.done)
		})
	}
}

// wait blocks until every message arrived or timeout passed.
func (t *tracker) wait(timeout time.Duration) bool {
	select {
	case <-t.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// router hands each arriving sequence number to the tracker of its run.
type router struct {
	mu  sync.RWMutex
	cur *tracker
}

func (r *router) set(t *tracker) {
	r.mu.Lock()
	r.cur = t
	r.mu.Unlock()
}

func (r *router) arrive(seq int, at time.Time) {
	r.mu.RLock()
	t := r.cur
	r.mu.RUnlock()
	if t != nil {
		t.arrive(seq, at)
	}
}

// tailFIFO reads the ceiling's omfile output through a named pipe, so
// that omfile's writes cost what writing to /dev/null costs, and reports
// each line's sequence number, until rsyslog closes the pipe or stop.
func tailFIFO(path string, r *router, stop <-chan struct{}) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0) // blocks until omfile opens it
	if err != nil {
		return
	}
	defer f.Close()
	go func() { <-stop; f.Close() }()
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			line = append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				var more []byte
				more, err = br.ReadSlice('\n')
				line = append(line, more...)
			}
		}
		if err != nil {
			return
		}
		r.arrive(seqOf(line), time.Now())
	}
}

// seqOf finds "seq=NNNNNNNNN" in one line, or -1.
func seqOf(line []byte) int {
	seq := -1
	scanSeqs(line, func(n int) { seq = n })
	return seq
}

// scanSeqs calls fn with every "seq=NNNNNNNNN" in body and returns how
// many it found: one per event, as loadgen writes them.
func scanSeqs(body []byte, fn func(int)) int {
	key := []byte("seq=")
	found := 0
	for {
		i := bytes.Index(body, key)
		if i < 0 || i+len(key)+9 > len(body) {
			return found
		}
		n := 0
		digits := body[i+len(key) : i+len(key)+9]
		ok := true
		for _, c := range digits {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int(c-'0')
		}
		if ok {
			fn(n)
			found++
		}
		body = body[i+len(key):]
	}
}
