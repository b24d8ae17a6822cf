// SPDX-License-Identifier: Apache-2.0

package aimd

import (
	"testing"
	"time"
)

// run drives l with a saturating load for rounds round trips of rtt(i),
// answering every request with outcome(i); it returns the limits seen.
func run(l *Limiter, rounds int, rtt func(i int) time.Duration, outcome func(i int) Outcome) []int {
	now := time.Unix(0, 0)
	var limits []int
	for i := range rounds {
		n := 0
		for l.TryAcquire() {
			n++
		}
		now = now.Add(rtt(i))
		for range n {
			l.Release(outcome(i), rtt(i), now)
		}
		limits = append(limits, l.Limit())
	}
	return limits
}

func flat(time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return 200 * time.Millisecond }
}

// Saturated with flat answer times, the limit doubles per round trip up to
// its maximum.
func TestSlowStartReachesMax(t *testing.T) {
	l := New(4, 64)
	limits := run(l, 8, flat(0), func(int) Outcome { return Answered })
	if limits[len(limits)-1] != 64 {
		t.Fatalf("limits %v, want 64 at the end", limits)
	}
	if limits[2] < 16 {
		t.Fatalf("limits %v: no slow start", limits)
	}
}

// Back-pressure shrinks the limit by a tenth per round trip, never below 1.
func TestBackPressureShrinks(t *testing.T) {
	l := New(64, 64)
	limits := run(l, 40, flat(0), func(int) Outcome { return BackPressure })
	// The first round trip opens the first window; decisions follow.
	if limits[1] != 57 || limits[2] != 51 || limits[len(limits)-1] != 1 {
		t.Fatalf("limits %v", limits)
	}
}

// Answer times rising well above their past shrink the limit.
func TestRisingRTTShrinks(t *testing.T) {
	l := New(32, 64)
	rtt := func(i int) time.Duration {
		if i < 5 {
			return 50 * time.Millisecond
		}
		return 200 * time.Millisecond
	}
	limits := run(l, 8, rtt, func(int) Outcome { return Answered })
	if limits[4] != 64 || limits[6] >= 64 {
		t.Fatalf("limits %v: no decrease when answers took 4 times as long", limits)
	}
}

// A producer slower than the endpoint never reaches the limit, and the
// limit does not grow.
func TestNoGrowthWithoutReachingTheLimit(t *testing.T) {
	l := New(8, 64)
	now := time.Unix(0, 0)
	for range 50 {
		l.TryAcquire()
		now = now.Add(100 * time.Millisecond)
		l.Release(Answered, 100*time.Millisecond, now)
	}
	if l.Limit() != 8 {
		t.Fatalf("limit %d, want 8", l.Limit())
	}
}

// Refused connections say nothing about load: the limit holds.
func TestIgnoredHolds(t *testing.T) {
	l := New(8, 64)
	limits := run(l, 10, flat(0), func(int) Outcome { return Ignored })
	if limits[len(limits)-1] != 8 {
		t.Fatalf("limits %v", limits)
	}
}
