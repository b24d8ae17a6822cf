// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"sync"
	"time"
)

// rateLog lets one kind of log line through at most once a minute, so that
// a condition that repeats per event or per request does not flood
// rsyslog's log, and counts the lines it held back for the next one to say.
type rateLog struct {
	mu     sync.Mutex
	last   time.Time
	missed int
}

// allow reports whether a line may be logged now and, if so, the note to
// add about the lines held back since the last one ("" when none were).
func (r *rateLog) allow() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() && time.Since(r.last) < time.Minute {
		r.missed++
		return false, ""
	}
	more := ""
	if r.missed > 0 {
		more = fmt.Sprintf(" (%d more since the last such line)", r.missed)
	}
	r.last, r.missed = time.Now(), 0
	return true, more
}
