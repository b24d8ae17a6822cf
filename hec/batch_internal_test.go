// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// A large rsyslog batch at batch.maxevents="1" is encoded on at most
// GOMAXPROCS goroutines, into one item per message in order: one
// goroutine per request (the build before) started a goroutine per
// message, hundreds at once while HEC was down.
func TestBatchEncodesOnBoundedGoroutines(t *testing.T) {
	s := testSender(t, "http://127.0.0.1:1", func(c *Config) { c.BatchMaxEvents = 1 })
	const n = 20000
	msgs := make([]Message, n)
	for i := range msgs {
		msgs[i] = Message{Time: []byte("1700000000.5"), Host: []byte("h"), Body: []byte(fmt.Sprintf("m%06d", i))}
	}
	time.Sleep(50 * time.Millisecond) // the sender's own goroutines settle
	base := runtime.NumGoroutine()
	var most atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if g := int64(runtime.NumGoroutine()); g > most.Load() {
				most.Store(g)
			}
			runtime.Gosched()
		}
	}()
	var items []*item
	for range 5 {
		items = s.batch(msgs)
	}
	close(stop)
	<-sampled
	if limit := int64(base + 1 + runtime.GOMAXPROCS(0)); most.Load() > limit {
		t.Fatalf("encoding %d one-event requests ran up to %d goroutines (want at most %d: the sender's, the sampler and GOMAXPROCS)", n, most.Load(), limit)
	}
	if len(items) != n {
		t.Fatalf("%d items for %d messages", len(items), n)
	}
	for i, it := range items {
		if !bytes.Contains(it.body, []byte(fmt.Sprintf(`"m%06d"`, i))) {
			t.Fatalf("item %d is %q, want message m%06d", i, it.body, i)
		}
		it.free()
	}
}
