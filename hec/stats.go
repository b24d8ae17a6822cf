package hec

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// counters are the sender's running totals; Stats reads them.
type counters struct {
	delivered, rejected, truncated, spooled, replayed, retries, ackTimeouts atomic.Int64
}

// Stats are running totals since the sender was made.
type Stats struct {
	Delivered   int64 // events HEC accepted
	Rejected    int64 // events HEC refused for good, or over event.maxbytes with event.oversize="reject"
	Truncated   int64 // events cut to event.maxbytes
	Spooled     int64 // events saved to spool.dir during a shutdown
	Replayed    int64 // spooled events delivered after a start
	Retries     int64 // requests sent again after a transient failure
	AckTimeouts int64 // requests sent again because HEC did not acknowledge them in time
}

// Stats returns the running totals.
func (s *Sender) Stats() Stats {
	return Stats{
		Delivered:   s.stats.delivered.Load(),
		Rejected:    s.stats.rejected.Load(),
		Truncated:   s.stats.truncated.Load(),
		Spooled:     s.stats.spooled.Load(),
		Replayed:    s.stats.replayed.Load(),
		Retries:     s.stats.retries.Load(),
		AckTimeouts: s.stats.ackTimeouts.Load(),
	}
}

// summaryEvery is how often, at most, the running totals of set-aside and
// truncated events are logged while they change.
const summaryEvery = time.Minute

// summary logs the rejected and truncated totals, at most once per
// summaryEvery and once more on Close, so an admin sees the counts in
// rsyslog's log without a line per event.
type summary struct {
	s       *Sender
	mu      sync.Mutex
	pending bool
	logged  Stats
}

func (m *summary) changed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending {
		return
	}
	m.pending = true
	time.AfterFunc(summaryEvery, m.flush)
}

func (m *summary) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = false
	st := m.s.Stats()
	if st.Rejected == m.logged.Rejected && st.Truncated == m.logged.Truncated {
		return
	}
	m.logged = st
	where := "their start is in this log"
	if m.s.cfg.ErrorFile != "" {
		where = "they are in " + m.s.cfg.ErrorFile
	}
	m.s.log(SevWarning, fmt.Sprintf("omsplunkgo: so far %d events set aside as rejected (%s), %d truncated to %s=%d; %d delivered",
		st.Rejected, where, st.Truncated, OptEventMaxBytes, m.s.cfg.EventMaxBytes, st.Delivered))
}
