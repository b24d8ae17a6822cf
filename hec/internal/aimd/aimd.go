// SPDX-License-Identifier: Apache-2.0

// Package aimd bounds the requests in flight to one endpoint with a limit
// that follows the endpoint's answers, and finds the knee of a struggling
// endpoint instead of pushing it. It knows nothing of HEC and never logs.
//
// A decision is taken at most once per smoothed round trip (a window), as
// in Vector's adaptive request concurrency, from what the window's answers
// said:
//
//   - Back-pressure (busy, throttled, timed out): the limit shrinks by
//     the share of answers that were not back-pressure, between a half and
//     nine tenths. An endpoint that takes 8 of 64 requests and refuses the
//     rest is at 8 within three windows, not twenty.
//   - Answer times against the no-load time (the lowest window mean of the
//     last few hundred windows, as Netflix's Vegas and gradient limiters
//     keep it): beyond a band above it the limit holds; beyond two bands it
//     shrinks in proportion (a gradient), so that an endpoint whose answers
//     slow as concurrency rises is held near the concurrency where they
//     start to slow. The band is a quarter of the no-load time, at least
//     10 ms: on a busy machine close to HEC, the scheduler alone moves
//     answer times by milliseconds (a 2 ms floor cut the limit on loopback
//     and let the window fill: 30 MB more heap). Back-pressure from
//     requests sent before the last cut does not cut again (one cut per
//     round trip, as TCP's recovery). Both bands are widened by two
//     standard errors of the window's mean, from the spread of its own
//     answers: a relay that holds some requests for a delayed ACK (a
//     proxy without TCP_NODELAY: a third of them 40 ms late, whatever the
//     load) makes windows of few answers stray far by chance, which read
//     as a knee cut the limit to 1; a load the endpoint cannot carry
//     slows its answers alike. Answers still slow with one request at a
//     time are no load of this client's: their time is the no-load time
//     at once (a route that got slower), not once the old one aged out.
//   - Otherwise, if the limit was reached, it grows: doubling per window
//     until the first sign of trouble (slow start), then by log2 of the
//     limit, and above half the limit of the last back-pressure (the
//     ceiling) by one only every few windows, the pause doubling each
//     time the ceiling pushes back again: a capacity limit is probed
//     rarely.
package aimd

import (
	"math"
	"sync"
	"time"
)

// Tuning.
const (
	alpha         = 0.4  // weight of a new window in the smoothed RTT (Vector's)
	minBand       = 0.25 // the band is at least this share of the no-load time...
	minBandAbs    = 10 * time.Millisecond
	minWindow     = 10 * time.Millisecond // ...and decisions at most this often
	minWindowDone = 4                     // answers a window needs before a decision
	maxCut        = 0.5                   // the most one decision takes away
	minCut        = 0.9                   // the least a back-pressure decision takes away
	floorWindows  = 128                   // no-load time: the lowest mean of the last 128-256 windows
	maxHold       = 64                    // windows between probes of a ceiling, at most
)

// Limiter is one endpoint's limit on requests in flight.
type Limiter struct {
	mu        sync.Mutex
	limit     float64
	max       int
	inFlight  int
	slowStart bool
	// The window under way.
	winEnd  time.Time
	winRTT  time.Duration
	winSq   float64 // the answer times' squares, summed, seconds²
	winN    int     // answers that measured the endpoint
	winBP   int     // back-pressure answers
	reached bool
	// Past windows.
	baseMean float64 // smoothed window mean, seconds; 0 before the first window
	baseVar  float64
	floor    [2]float64 // lowest window mean: this run of windows and the last
	floorN   int        // windows in this run
	ceiling  float64    // the limit at the last back-pressure; 0: none yet
	hold     int        // windows between probes near the ceiling
	held     int        // windows since the last growth near the ceiling
	lastCut  time.Time
	nearKnee bool // this run of windows held or cut for answer times
}

// New returns a limiter starting at initial, never above max.
func New(initial, maxLimit int) *Limiter {
	maxLimit = max(maxLimit, 1)
	return &Limiter{limit: float64(min(max(initial, 1), maxLimit)), max: maxLimit, slowStart: true, hold: 1}
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
	// A request sent before the last cut measured the old limit: one
	// cut per round trip, as TCP's recovery.
	if now.Add(-rtt).Before(l.lastCut) {
		o = Ignored
	}
	switch o {
	case Answered:
		l.winRTT += rtt
		l.winSq += rtt.Seconds() * rtt.Seconds()
		l.winN++
	case BackPressure:
		l.winBP++
	}
	if l.winEnd.IsZero() {
		l.winEnd = now.Add(minWindow)
	}
	if now.Before(l.winEnd) || l.winN+l.winBP < minWindowDone {
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
	noLoad := l.noLoad()
	// The band is not widened by the smoothed deviation: after a jump in
	// answer times the deviation is large exactly when the limit must
	// come down.
	band := math.Max(minBand*noLoad, minBandAbs.Seconds())
	// How far the window's mean may stray by chance: two standard errors.
	noise := 0.0
	if l.winN > 1 {
		v := (l.winSq - float64(l.winN)*mean*mean) / float64(l.winN-1)
		noise = 2 * math.Sqrt(math.Max(0, v)/float64(l.winN))
	}
	if int(l.limit) <= 1 && l.winN > 0 && mean > noLoad+band+noise {
		// One request at a time and still slow: no load of ours to blame
		// (a route that got slower, a proxy's stalls). That is the no-load
		// time now; the limit may grow again.
		l.floor, l.floorN = [2]float64{mean, mean}, 0
		l.ceiling, l.hold = 0, 1 // the cuts that led here were no capacity
		noLoad = mean
		band = math.Max(minBand*noLoad, minBandAbs.Seconds())
	}
	switch {
	case l.winBP > 0:
		f := minCut // probing a known ceiling: a tenth, as Vector
		if near := math.Max(2, math.Log2(l.ceiling)); l.ceiling == 0 || math.Abs(l.limit-l.ceiling) > near {
			// A fresh overload: down by the share that got through.
			f = math.Min(minCut, math.Max(maxCut, float64(l.winN)/float64(l.winN+l.winBP)))
		}
		l.ceiling = l.limit
		l.cut(f, now)
		l.hold = min(max(l.hold*2, 4), maxHold)
	case noLoad > 0 && l.winN > 0 && mean >= noLoad+2*band+noise:
		// Answers slow as concurrency rises: back to where they did not.
		l.ceiling = l.limit
		l.cut(math.Max(maxCut, (noLoad+band)/mean), now)
		l.hold = min(max(l.hold*2, 4), maxHold)
		l.nearKnee = true
	case noLoad > 0 && l.winN > 0 && mean > noLoad+band+noise:
		l.slowStart = false // hold: near the knee
		l.nearKnee = true
	case l.reached && int(l.limit) < l.max:
		l.grow()
	}
	if l.winN > 0 {
		l.note(mean, now)
	}
	// The next decision comes after one smoothed round trip.
	l.winEnd = now.Add(max(minWindow, time.Duration(l.baseMean*float64(time.Second))))
	l.winRTT, l.winSq, l.winN, l.winBP, l.reached = 0, 0, 0, 0, int(l.limit) <= l.inFlight
}

// cut takes the limit down by factor f, ending slow start.
func (l *Limiter) cut(f float64, now time.Time) {
	l.lastCut = now
	l.limit = math.Max(1, math.Floor(l.limit*f))
	l.slowStart = false
	l.held = 0
}

// grow raises the limit: doubling in slow start; by log2(limit) below
// half the ceiling; above that by one every hold windows.
func (l *Limiter) grow() {
	switch {
	case l.slowStart:
		l.limit *= 2
	case l.ceiling > 0 && 2*l.limit >= l.ceiling:
		l.held++
		if l.held < l.hold {
			return
		}
		l.held = 0
		l.limit++
		if l.limit > l.ceiling+math.Max(2, math.Log2(l.ceiling)) {
			// Well past the old ceiling without trouble: forget it.
			l.ceiling, l.hold = 0, 1
		}
	default:
		l.limit += math.Max(1, math.Floor(math.Log2(l.limit)))
	}
	l.limit = math.Min(l.limit, float64(l.max))
}

// note folds a window's mean into the smoothed RTT and the no-load time.
// A run of windows spent near a knee ends with a probe: one window at
// half the limit measures the no-load time afresh, so that it does not
// drift up with the knee's own answer times (Vegas and Envoy re-measure
// theirs likewise).
func (l *Limiter) note(mean float64, now time.Time) {
	if l.baseMean == 0 {
		l.baseMean = mean
	} else {
		d := mean - l.baseMean
		l.baseMean += alpha * d
		l.baseVar = (1 - alpha) * (l.baseVar + alpha*d*d)
	}
	if l.floor[0] == 0 || mean < l.floor[0] {
		l.floor[0] = mean
	}
	if l.floorN++; l.floorN >= floorWindows {
		// A new run: a route that got slower for good is the new normal
		// after at most two runs.
		l.floor[1], l.floor[0], l.floorN = l.floor[0], 0, 0
		if l.nearKnee {
			l.nearKnee = false
			l.limit = math.Max(1, math.Floor(l.limit/2))
			l.lastCut = now
		}
	}
}

// noLoad is the lowest window mean of the last runs, 0 before any.
func (l *Limiter) noLoad() float64 {
	switch {
	case l.floor[1] == 0:
		return l.floor[0]
	case l.floor[0] == 0:
		return l.floor[1]
	default:
		return math.Min(l.floor[0], l.floor[1])
	}
}

// RoundTrip is the smoothed answer time, 0 before the first window.
func (l *Limiter) RoundTrip() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.baseMean * float64(time.Second))
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
