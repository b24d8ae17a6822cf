// SPDX-License-Identifier: Apache-2.0

// Package aimd bounds the requests in flight to one endpoint with a limit
// that follows the endpoint's answers: it grows while the limit is what
// holds throughput back and answer times stay flat, and shrinks by a tenth
// on back-pressure (busy, throttled, timed out) or when answer times rise
// clearly above their smoothed past. The ideas are those of Vector's
// adaptive request concurrency (a decision at most once per smoothed
// round trip, an RTT baseline with a deviation band, growth only when the
// limit was reached), plus a slow start: the limit doubles per round trip
// until the first sign of trouble, so that a 200 ms endpoint reaches a
// useful depth within a second. It knows nothing of HEC and never logs.
package aimd

import (
	"math"
	"sync"
	"time"
)

// Tuning. Vector's defaults for the band and smoothing; the decrease as
// Vector's and Netflix's AIMD (a halving was judged too aggressive).
const (
	alpha         = 0.4  // weight of a new window in the RTT baseline
	deviations    = 2.5  // band above the baseline before RTT counts as rising
	decrease      = 0.9  // factor on back-pressure
	minBand       = 0.25 // the band is at least this share of the baseline...
	minBandAbs    = 2 * time.Millisecond
	minWindow     = 10 * time.Millisecond // ...and decisions at most this often
	minWindowDone = 4                     // answers a window needs before a decision
)

// Limiter is one endpoint's limit on requests in flight.
type Limiter struct {
	mu        sync.Mutex
	limit     float64
	max       int
	inFlight  int
	slowStart bool
	// The window under way.
	winEnd   time.Time
	winRTT   time.Duration
	winN     int
	reached  bool
	backoff  bool
	baseMean float64 // seconds; 0 before the first window
	baseVar  float64
}

// New returns a limiter starting at initial, never above max.
func New(initial, maxLimit int) *Limiter {
	maxLimit = max(maxLimit, 1)
	return &Limiter{limit: float64(min(max(initial, 1), maxLimit)), max: maxLimit, slowStart: true}
}

// TryAcquire takes a place for one request if the limit allows.
func (l *Limiter) TryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight >= int(l.limit) {
		l.reached = true
		return false
	}
	l.inFlight++
	if l.inFlight >= int(l.limit) {
		l.reached = true
	}
	return true
}

// Load is in-flight over limit: the share of the endpoint in use.
func (l *Limiter) Load() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(l.inFlight) / math.Floor(l.limit)
}

// Outcome is what became of one request.
type Outcome int

const (
	Answered     Outcome = iota // an answer about the content: the RTT counts
	BackPressure                // busy, throttled, timed out, reset, 5xx
	Ignored                     // no measure of the endpoint's load (refused before sending, cut short)
)

// Release gives the place back with what became of the request.
func (l *Limiter) Release(o Outcome, rtt time.Duration, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	switch o {
	case Answered:
		l.winRTT += rtt
		l.winN++
	case BackPressure:
		l.backoff = true
	}
	if l.winEnd.IsZero() {
		l.winEnd = now.Add(minWindow)
	}
	if now.Before(l.winEnd) || l.winN < minWindowDone && !l.backoff {
		return
	}
	l.decideLocked(now)
}

// decideLocked closes the window: grow, hold or shrink.
func (l *Limiter) decideLocked(now time.Time) {
	mean := 0.0
	if l.winN > 0 {
		mean = (l.winRTT / time.Duration(l.winN)).Seconds()
	}
	rising := false
	if l.baseMean > 0 && l.winN > 0 {
		band := math.Max(deviations*math.Sqrt(l.baseVar), math.Max(minBand*l.baseMean, minBandAbs.Seconds()))
		rising = mean >= l.baseMean+band
	}
	switch {
	case l.backoff || rising:
		l.limit = math.Max(1, math.Floor(l.limit*decrease))
		l.slowStart = false
	case l.reached && int(l.limit) < l.max:
		if l.slowStart {
			l.limit *= 2
		} else {
			l.limit += math.Max(1, math.Floor(math.Log2(l.limit)))
		}
		l.limit = math.Min(l.limit, float64(l.max))
	}
	if l.winN > 0 {
		if l.baseMean == 0 {
			l.baseMean = mean
		} else {
			d := mean - l.baseMean
			l.baseMean += alpha * d
			l.baseVar = (1 - alpha) * (l.baseVar + alpha*d*d)
		}
	}
	// The next decision comes after one smoothed round trip.
	l.winEnd = now.Add(max(minWindow, time.Duration(l.baseMean*float64(time.Second))))
	l.winRTT, l.winN, l.reached, l.backoff = 0, 0, int(l.limit) <= l.inFlight, false
}

// Limit is the current limit.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

// InFlight is the number of places taken.
func (l *Limiter) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inFlight
}
