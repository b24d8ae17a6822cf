// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// Acks 200 ms away, each turning true 2 s after its request, defaults plus
// useack="on": 200,000 messages arrive exactly once (requests awaiting
// their ack wait in the window's files, read back only to be resent).
func TestAcksFarAwayExactlyOnce(t *testing.T) {
	const n = 200000
	r := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	r.SetFaults(hecreceiver.Faults{Delay: 200 * time.Millisecond, AckDelay: 2 * time.Second})
	d := start(t, newConfig(t, action(r, `useack="on"`)), false)
	began := time.Now()
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 3*time.Minute)
	took := time.Since(began) - quietPeriod
	st := r.Stats()
	result(t, "acks 2 s late, HEC 200 ms away, defaults + useack", n, 0, 0, fmt.Sprintf("%.0f msgs/s to HEC, %d requests, "+
		"%d acknowledged true, %d ack polls", float64(n)/took.Seconds(), st.Requests, st.AckedTrue, st.AckPolls))
	checkExactlyOnce(t, r.Events(), 0, n)
}

// killBound kills d and returns how many events the next start may send
// again at most: those HEC accepted from it, less those it had been told
// HEC took (answered, or with acks reported true) 500 ms before the kill;
// the 500 ms cover the done marks' own delay (20 ms) and a slow moment
// of the killed process (the race detector, 2 busy cores). taken is the
// latter.
func killBound(t *testing.T, d *rsyslogtest.Daemon, r *hecreceiver.Receiver) (bound, taken int64) {
	t.Helper()
	at := time.Now()
	d.Kill()
	time.Sleep(time.Second) // the requests under way at the receiver end
	taken = r.TakenBefore(at.Add(-500 * time.Millisecond))
	return r.Count() - taken, taken
}

// kill -9 3 s into a 50,000 burst with acks on (HEC 50 ms away, acks 2 s
// late), then a restart: nothing lost, and what is sent again is at most
// what was on its way (posted, or awaiting its ack) at the kill, read
// from the receiver; before done marks, whole window files were resent.
func TestKillWithAcksResendsOnlyWhatWasOnItsWay(t *testing.T) {
	const n = 50000
	r := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	r.SetFaults(hecreceiver.Faults{Delay: 50 * time.Millisecond, AckDelay: 2 * time.Second})
	conf := newConfig(t, action(r, `useack="on" ack.interval="200"`))
	d := start(t, conf, false)
	burst := time.Now()
	send(t, d, loadgen.RFC5424, 0, n)
	time.Sleep(time.Until(burst.Add(3 * time.Second)))
	// On a busy machine the first acks may come later: the kill waits
	// until some were reported more than the bound's margin ago.
	for end := time.Now().Add(30 * time.Second); r.TakenBefore(time.Now().Add(-600*time.Millisecond)) == 0 &&
		time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	bound, taken := killBound(t, d, r)
	if taken == 0 || taken >= n {
		t.Fatalf("%d of %d acknowledged at the kill: the test proves nothing", taken, n)
	}
	start(t, conf, false)
	waitFor(t, r, n, 2*time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "kill -9 3 s into a burst, acks 2 s late", n, lost, dup,
		fmt.Sprintf("%d acknowledged before the kill, at most %d on their way", taken, bound))
	if lost != 0 {
		t.Fatalf("%d of %d messages lost", lost, n)
	}
	if int64(dup) > bound {
		t.Fatalf("%d duplicates, more than the %d events on their way at the kill", dup, bound)
	}
}

// The same without acks, at random moments of a burst (HEC 100 ms away,
// 4 connections, so that requests are on the wire at any moment): the
// duplicates after the restart are at most the events HEC accepted whose
// answer the killed process had not had.
func TestKillWithoutAcksResendsOnlyWhatWasOnItsWay(t *testing.T) {
	const n = 50000
	for trial := range 3 {
		r := startReceiver(t, hecreceiver.Config{Record: true})
		r.SetFaults(hecreceiver.Faults{Delay: 100 * time.Millisecond})
		conf := newConfig(t, action(r, `connections="4"`))
		d := start(t, conf, false)
		send(t, d, loadgen.RFC5424, 0, n)
		r.WaitCount(n/5, time.Minute)
		time.Sleep(time.Duration(rand.N(800)) * time.Millisecond)
		bound, taken := killBound(t, d, r)
		if taken == 0 {
			t.Fatalf("trial %d: nothing taken at the kill: the test proves nothing", trial)
		}
		start(t, conf, false)
		waitFor(t, r, n, 2*time.Minute)
		lost, dup := tally(r.Events(), 0, n)
		result(t, fmt.Sprintf("kill -9 at a random moment, no acks, trial %d", trial), n, lost, dup,
			fmt.Sprintf("%d answered before the kill, at most %d on their way", taken, bound))
		if lost != 0 {
			t.Fatalf("trial %d: %d of %d messages lost", trial, lost, n)
		}
		if int64(dup) > bound {
			t.Fatalf("trial %d: %d duplicates, more than the %d events on their way at the kill", trial, dup, bound)
		}
	}
}

// Splunk 10.4's ackExpiryMode=expire_at_90 through rsyslogd: a channel
// limit of 40 pending ackIds (80 requests on 2 channels at once) evicts
// the oldest; those requests go again, counted as ack.expired (not
// ack.timeouts), and nothing is lost.
func TestExpiredAcksThroughRsyslog(t *testing.T) {
	const n = 4000
	r := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	r.SetFaults(hecreceiver.Faults{AckDelay: 500 * time.Millisecond, AckChannelMax: 40})
	conf := newConfig(t, action(r, `name="acks" useack="on" ack.interval="100" connections="2" batch.maxevents="50"`))
	global, path := impstatsConfig(conf.Dir)
	conf.Global = global
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 2*time.Minute)
	// Every evicted request is found and sent again; the window empties.
	st := waitStats(t, path, "omsplunkgo-acks", func(st map[string]float64) bool {
		return st["window.events"] == 0 && st["ack.pending"] == 0 && st["delivered"] >= n
	})
	lost, dup := tally(r.Events(), 0, n)
	result(t, "acks evicted (expire_at_90, 40 per channel)", n, lost, dup, fmt.Sprintf("%d evicted, ack.expired %v, ack.timeouts %v",
		r.Stats().AcksExpired, st["ack.expired"], st["ack.timeouts"]))
	if lost != 0 {
		t.Fatalf("%d lost", lost)
	}
	if r.Stats().AcksExpired == 0 || st["ack.expired"] == 0 || st["ack.timeouts"] != 0 {
		t.Fatalf("%d ackIds evicted; ack.expired %v, ack.timeouts %v", r.Stats().AcksExpired, st["ack.expired"], st["ack.timeouts"])
	}
}
