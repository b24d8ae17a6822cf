// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"time"
)

// Stopping. rsyslog frees the action after its queue is done; commits
// returned long before, since a batch is the window's once it is in the
// files. Close gives the requests on the wire stopGrace to be answered,
// then halts: nothing more is sent or retried, and what the window holds
// stays in its files, which the next start sends (winfiles.go). A commit
// that waits for room while rsyslog stops writes its batch to the files
// past the window's bound instead (keepForNextStart), since rsyslog drops
// a batch whose commit fails during a shutdown.

// stopGrace is how long requests on the wire may still be answered after
// Close: short of rsyslog's default 1 s action completion timeout, long
// enough for a healthy HEC to answer, which spares a duplicate.
const stopGrace = 500 * time.Millisecond

// Close stops the sender; Deliver must not be called afterwards.
func (s *Sender) Close() {
	s.win.close()
	for end := time.Now().Add(stopGrace); s.inFlight.Load() > 0 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	s.halt()
	s.awaitSenders(time.Second) // requests on the wire are back in the window
	s.keepUnsent()
	if events, _ := s.win.held(); events > 0 && !s.cfg.Standalone { // the tool says itself what is left
		s.stats.add(CtrSpooled, int64(events))
		if s.win.log != nil {
			s.log(SevInfo, fmt.Sprintf("omsplunkgo: rsyslog is stopping: %d events HEC has not taken yet stay in "+
				"the window's files in %s and are sent on the next start", events, s.cfg.WindowDir))
		} else {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and HEC has not taken %d events; they are lost "+
				"- set global(workDirectory=...) or the action's spool.dir to keep them", events))
		}
	}
	s.removeHealth()
	if s.win.log != nil {
		s.win.log.Close()
	}
	s.unlockFiles()
	s.stats.ext.Store(nil)
	s.refusals.flush()
	if s.files != nil {
		s.files.Release()
	}
}

// halt stops all retrying and waiting for good, and waits for the posts
// under way (they end at once: their waits ask abortWait): once it
// returns, no request goes out any more, so that whatever reads the
// window's files next (the next start, a replay) is not sending what this
// sender is still sending.
func (s *Sender) halt() {
	s.haltOnce.Do(func() {
		s.postMu.Lock()
		s.stopping.Store(true)
		close(s.haltCh)
		s.postMu.Unlock()
		if s.acks != nil {
			s.acks.Stop() // the parked requests wait in the window (its files) for the next start
		}
		s.pool.wake()
		s.win.poke()
	})
	s.posting.Wait()
}

// awaitSenders waits, at most d, for the dispatcher and the request
// goroutines to end: after the halt each returns at once, putting its
// request back in the window.
func (s *Sender) awaitSenders(d time.Duration) {
	done := make(chan struct{})
	go func() {
		s.senders.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// beginPost registers a post about to go out; false once the sender
// halted (then nothing may go out).
func (s *Sender) beginPost() bool {
	s.postMu.RLock()
	defer s.postMu.RUnlock()
	if s.stopping.Load() {
		return false
	}
	s.posting.Add(1)
	return true
}

func (s *Sender) endPost() { s.posting.Done() }

// abortWait is what a connection asks when its wait for HEC is
// interrupted (a signal, or a poll slice passing): true ends the wait.
func (s *Sender) abortWait() bool { return s.stopping.Load() }

// sleepUnlessStopping sleeps for d and reports false as soon as the
// sender is stopping.
func (s *Sender) sleepUnlessStopping(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.haltCh:
		return false
	}
}
