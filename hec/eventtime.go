// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Event time, part of shaping: which time an event carries (time.source)
// and the guard against clocks far off (time.maxpast, time.maxfuture).
// The shim renders the time the source names into Message.Time; with the
// guard, the received time too. Splunk indexes an event at its time, so a
// device whose clock is years off puts its events where nobody searches.

// times is one action's time policy; nil when the message's time goes as
// rendered.
type times struct {
	drop               bool          // time.source none or extract: no "time" member
	maxPast, maxFuture time.Duration // 0: unbounded
}

func newTimes(c *Config) *times {
	switch {
	case c.TimeSource == TimeNone || c.TimeSource == TimeExtract:
		return &times{drop: true}
	case c.TimeGuard():
		return &times{maxPast: c.TimeMaxPast, maxFuture: c.TimeMaxFuture}
	}
	return nil
}

// fieldOrigTime keeps a replaced reported time.
const fieldOrigTime = "orig_time"

func (t *times) apply(msgs []Message, stats *counters) {
	for i := range msgs {
		m := &msgs[i]
		if t.drop {
			m.Time = nil
			continue
		}
		rep, ok1 := unixSeconds(m.Time)
		rcv, ok2 := unixSeconds(m.Received)
		if !ok2 || m.skip {
			continue
		}
		d := time.Duration(rep-rcv) * time.Second
		if ok1 && (t.maxPast == 0 || -d <= t.maxPast) && (t.maxFuture == 0 || d <= t.maxFuture) {
			continue
		}
		m.Meta.Fields = event.AddField(m.Meta.Fields, fieldOrigTime, m.Time)
		m.Time = m.Received
		stats.add(CtrTimeReplaced, 1)
	}
}

// unixSeconds reads the whole seconds of "unix.fraction"; false when it is
// not that (a broken rendering is an implausible time too).
func unixSeconds(ts []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(ts) && ts[i] != '.'; i++ {
		c := ts[i]
		if c < '0' || c > '9' || i >= 12 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, i > 0
}

// eventPath is the path of event requests: with time.source="extract",
// Splunk is asked to find each event's time in its text.
func eventPath(c *Config) string {
	if c.TimeSource == TimeExtract {
		return endpoint.PathEvent + "?auto_extract_timestamp=true"
	}
	return endpoint.PathEvent
}
