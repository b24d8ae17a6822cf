package hec

import "sync/atomic"

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
