// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// A panic stays in its action. Every goroutine of the sender recovers
// from one: it is logged with its stack at error severity and counted,
// what the goroutine held goes back to the window (whose files keep it),
// and the goroutine's work starts again. A bug that panics again and
// again suspends the action for good (until rsyslogd restarts) with a
// clear message, instead of looping: rsyslogd and its other actions go on
// either way, and the window's files keep what the action held.

// panicLimit panics within panicSpan make the action give up.
const (
	panicLimit = 5
	panicSpan  = 10 * time.Minute
)

type panicState struct {
	mu     sync.Mutex
	recent []time.Time
	broken error // set once the action gave up
}

// recoverPanic, deferred first thing in a goroutine of the sender, turns
// a panic into a log line, a count and then (unless the action gave up)
// recover's work.
func (s *Sender) recoverPanic(where string, recover_ func()) {
	p := recover()
	if p == nil {
		return
	}
	s.stats.add(CtrPanics, 1)
	st := &s.panics
	st.mu.Lock()
	now := time.Now()
	kept := st.recent[:0]
	for _, t := range st.recent {
		if now.Sub(t) < panicSpan {
			kept = append(kept, t)
		}
	}
	st.recent = append(kept, now)
	giveUp := len(st.recent) >= panicLimit && st.broken == nil
	if giveUp {
		st.broken = fmt.Errorf("the action stopped after %d internal errors within %s (see the log lines before)",
			len(st.recent), panicSpan)
	}
	st.mu.Unlock()
	s.log(SevErr, fmt.Sprintf("omsplunkgo: internal error in the %s (a bug: please report it with this line): %v\n%s",
		where, p, debug.Stack()))
	if giveUp {
		s.log(SevErr, "omsplunkgo: the action had "+fmt.Sprint(panicLimit)+" internal errors within "+panicSpan.String()+
			" and is suspended until rsyslogd restarts; what its window holds stays in its files in "+s.cfg.WindowDir+
			" and is sent on the next start. rsyslogd and its other actions go on")
	}
	if recover_ != nil {
		recover_()
	}
}

// brokenErr is the action's error once it gave up, else nil.
func (s *Sender) brokenErr() error {
	s.panics.mu.Lock()
	defer s.panics.mu.Unlock()
	return s.panics.broken
}

// restart starts fn again on a goroutine of the sender, unless the
// sender is halting or gave up.
func (s *Sender) restart(fn func()) {
	if s.stopping.Load() || s.brokenErr() != nil {
		return
	}
	s.senders.Add(1)
	go fn()
}

// goSafe runs fn on a goroutine of its own that recovers from a panic
// (logged and counted; nothing to restart).
func (s *Sender) goSafe(where string, fn func()) {
	go func() {
		defer s.recoverPanic(where, nil)
		fn()
	}()
}
