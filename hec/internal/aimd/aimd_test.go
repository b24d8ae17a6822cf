// SPDX-License-Identifier: Apache-2.0

package aimd

import (
	"math/rand/v2"
	"slices"
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

// Back-pressure on every answer halves the limit per round trip, never
// below 1; on a few answers it takes a tenth.
func TestBackPressureShrinks(t *testing.T) {
	l := New(64, 64)
	limits := run(l, 40, flat(0), func(int) Outcome { return BackPressure })
	// The first round trip opens the first window; decisions follow.
	if limits[1] != 32 || limits[2] != 16 || limits[len(limits)-1] != 1 {
		t.Fatalf("limits %v", limits)
	}
	l = New(64, 64)
	n := 0
	limits = run(l, 2, flat(0), func(int) Outcome {
		if n++; n%20 == 0 {
			return BackPressure
		}
		return Answered
	})
	if limits[1] != 57 {
		t.Fatalf("limits %v: one answer in 20 pushing back takes a tenth", limits)
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

// server models an endpoint: what a request started with n in flight
// comes to.
type server func(n int) (rtt time.Duration, pushBack bool)

type limiter interface {
	TryAcquire() bool
	Release(Outcome, time.Duration, time.Time)
}

// fixed is a limit that never moves, the setting an admin would tune.
type fixed struct{ n, limit int }

func (f *fixed) TryAcquire() bool {
	if f.n >= f.limit {
		return false
	}
	f.n++
	return true
}
func (f *fixed) Release(Outcome, time.Duration, time.Time) { f.n-- }

// simulate drives l with a client that always has a request ready, for d
// of simulated time; it returns requests taken per second and the share
// of answers that pushed back, over the second half (after the ramp).
func simulate(l limiter, srv server, d time.Duration) (perSec, pushBackShare float64) {
	type done struct {
		at       time.Duration
		rtt      time.Duration
		pushBack bool
	}
	var pending []done // kept sorted by at
	n, ok, bp := 0, 0, 0
	for now := time.Duration(0); now < d; {
		for l.TryAcquire() {
			n++
			rtt, pb := srv(n)
			d := done{now + rtt, rtt, pb}
			i := len(pending)
			for i > 0 && pending[i-1].at > d.at {
				i--
			}
			pending = append(pending, done{})
			copy(pending[i+1:], pending[i:])
			pending[i] = d
		}
		next := pending[0]
		pending = pending[1:]
		now = next.at
		n--
		o := Answered
		if next.pushBack {
			o = BackPressure
		}
		l.Release(o, next.rtt, time.Unix(0, 0).Add(now))
		if now > d/2 {
			if next.pushBack {
				bp++
			} else {
				ok++
			}
		}
	}
	return float64(ok) / (d / 2).Seconds(), float64(bp) / float64(max(1, ok+bp))
}

// bestFixed is the best throughput any fixed limit from 1 to 64 gets.
func bestFixed(srv server, d time.Duration) (float64, int) {
	best, at := 0.0, 0
	for lim := 1; lim <= 64; lim++ {
		if got, _ := simulate(&fixed{limit: lim}, srv, d); got > best {
			best, at = got, lim
		}
	}
	return best, at
}

// An indexer that answers 503 above 8 requests in flight: the adaptive
// limit settles near 8, with few 503s, and ships nearly what the best
// fixed setting ships.
func TestKneeOfBusyAnswers(t *testing.T) {
	srv := func(n int) (time.Duration, bool) {
		if n > 8 {
			return 50 * time.Millisecond, true
		}
		return 60 * time.Millisecond, false
	}
	best, at := bestFixed(srv, time.Minute)
	got, share := simulate(New(4, 64), srv, time.Minute)
	t.Logf("adaptive %.0f/s (503s %.1f%%), best fixed %.0f/s at %d", got, 100*share, best, at)
	if got < 0.8*best || share > 0.05 {
		t.Fatalf("adaptive %.0f requests/s with %.1f%% 503s; the best fixed limit (%d) takes %.0f/s",
			got, 100*share, at, best)
	}
}

// An indexer whose answers slow as concurrency rises past 8 (and whose
// throughput falls with it): the limit stays near 8 instead of climbing
// to the maximum.
func TestKneeOfSlowingAnswers(t *testing.T) {
	srv := func(n int) (time.Duration, bool) {
		f := max(1, float64(n)/8)
		return time.Duration(float64(50*time.Millisecond) * f * f), false
	}
	best, at := bestFixed(srv, 2*time.Minute)
	l := New(4, 64)
	got, _ := simulate(l, srv, 2*time.Minute)
	t.Logf("adaptive %.0f/s (limit %d at the end), best fixed %.0f/s at %d", got, l.Limit(), best, at)
	if got < 0.8*best {
		t.Fatalf("adaptive %.0f requests/s (limit %d); the best fixed limit (%d) takes %.0f/s", got, l.Limit(), at, best)
	}
}

// A far endpoint with flat answer times still gets the whole limit.
func TestFarEndpointReachesMax(t *testing.T) {
	srv := func(int) (time.Duration, bool) { return 200 * time.Millisecond, false }
	l := New(4, 64)
	simulate(l, srv, 30*time.Second)
	if l.Limit() != 64 {
		t.Fatalf("limit %d with flat answer times, want 64", l.Limit())
	}
}

// Answer times that jitter (40-80 ms, whatever the load) are not a knee:
// the limit still grows to the maximum.
func TestJitterIsNoKnee(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	srv := func(int) (time.Duration, bool) {
		return 40*time.Millisecond + time.Duration(rng.Int64N(int64(40*time.Millisecond))), false
	}
	l := New(4, 64)
	got, _ := simulate(l, srv, time.Minute)
	if got < 0.9*64/0.06 {
		t.Fatalf("%.0f requests/s, limit %d at the end: jitter held the limit down (64 in flight take %.0f/s)",
			got, l.Limit(), 64/0.06)
	}
}

// Answer times of a relay that holds some requests for a delayed ACK
// (most in 1 ms, a third 40 ms later, whatever the load: a proxy without
// TCP_NODELAY) are no knee either. Over 20 runs the median ships at least
// 0.9 of the best fixed limit (a limiter that reads the stalls as a knee
// falls to 1 in nearly every run: 0.015). A run may still lose most of it
// (two of 20 here: chance strings slow windows together).
func TestStallsThatDoNotFollowTheLoadAreNoKnee(t *testing.T) {
	var shares []float64
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		srv := func(int) (time.Duration, bool) {
			if rng.IntN(3) == 0 {
				return 41 * time.Millisecond, false
			}
			return time.Millisecond, false
		}
		best, _ := bestFixed(srv, 20*time.Second)
		l := New(4, 64)
		got, _ := simulate(l, srv, 20*time.Second)
		shares = append(shares, got/best)
	}
	slices.Sort(shares)
	if shares[len(shares)/2] < 0.9 || shares[len(shares)*3/4] < 0.95 {
		t.Fatalf("shares of the best fixed limit's throughput over 20 runs: %.2f", shares)
	}
	t.Logf("shares of the best fixed limit's throughput over 20 runs: %.2f", shares)
}

// A route that gets slower for good (1 ms, then 50 ms whatever the load):
// once one request at a time is as slow, that is the no-load time, and
// the limit grows again instead of waiting, at 1, for the old no-load
// time to age out (a few hundred windows).
func TestSlowerRouteIsNoKnee(t *testing.T) {
	calls := 0
	srv := func(int) (time.Duration, bool) {
		calls++
		if calls > 20000 {
			return 50 * time.Millisecond, false
		}
		return time.Millisecond, false
	}
	l := New(4, 64)
	got, _ := simulate(l, srv, 40*time.Second)
	if want := 0.5 * 64 / 0.05; got < want {
		t.Fatalf("%.0f requests/s after the route slowed (limit %d); 64 in flight take %.0f/s", got, l.Limit(), 64/0.05)
	}
	t.Logf("%.0f requests/s after the route slowed (limit %d at the end)", got, l.Limit())
}
