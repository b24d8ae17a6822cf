// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// HEC 200 ms away (every answer delayed), default settings: commits return
// once the batch is in the window, the module's senders keep enough
// requests in flight, and 50,000 messages arrive once, well within a
// minute (at two requests in flight, as before the window, it took 40 s
// for 10,000).
func TestFarHECWithDefaults(t *testing.T) {
	const n = 50000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{Delay: 200 * time.Millisecond})
	d := start(t, newConfig(t, action(r, "")), false)
	start := time.Now()
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 60*time.Second)
	took := time.Since(start) - quietPeriod
	result(t, "HEC answers after 200 ms, defaults", n, 0, 0, fmt.Sprintf("%.0f msgs/s, at most %d requests open",
		float64(n)/took.Seconds(), r.Stats().MaxConcurrent))
	checkExactlyOnce(t, r.Events(), 0, n)
}

// kill -9 of rsyslogd 3 s into a 20,000-message burst while HEC answers
// after 200 ms: the burst fits the default window, so rsyslog handed all
// of it to the module, which had it in its window files; the next start
// sends what HEC had not taken. Duplicates (requests HEC took whose answer
// the killed process never read) are reported, losses fail.
func TestKillDuringBurstLosesNothing(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{Delay: 200 * time.Millisecond})
	conf := newConfig(t, action(r, `connections="2"`)) // slow enough that the kill finds a full window
	d := start(t, conf, false)
	burst := time.Now()
	send(t, d, loadgen.RFC5424, 0, n)
	time.Sleep(time.Until(burst.Add(3 * time.Second)))
	before := r.Count()
	d.Kill()
	files, _ := filepath.Glob(filepath.Join(conf.Dir, "omsplunkgo-*.seg"))
	if before >= n || len(files) == 0 {
		t.Fatalf("%d of %d had arrived at the kill, window files %v: the test proves nothing", before, n, files)
	}
	start(t, conf, false)
	waitFor(t, r, n, 2*time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "kill -9 3 s into a burst, HEC 200 ms away", n, lost, dup,
		fmt.Sprintf("%d had arrived at the kill; the rest came from the window files after the restart", before))
	if lost != 0 {
		t.Fatalf("%d of %d messages lost", lost, n)
	}
}

// An outage with a small window: the window holds at most its bound (the
// gauge says so), rsyslog's queue holds the rest, memory stays flat, and
// everything arrives once HEC is back. With window.fsync="on", so that the
// fdatasync path runs under a real rsyslogd too.
func TestOutageWithSmallWindow(t *testing.T) {
	const n = 30000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	conf := newConfig(t, action(r, diskQueue+` name="to_splunk" window.maxevents="2000" window.maxwait="200" window.fsync="on" retry.maxtime="2000"`))
	global, path := impstatsConfig(conf.Dir)
	conf.Global = global
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	st := waitStats(t, path, "omsplunkgo-to_splunk", func(st map[string]float64) bool {
		return st["window.events"] > 0 && st["submitted"] > 0
	})
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if st = lastStats(path, "omsplunkgo-to_splunk"); st["window.events"] > 2000 {
			t.Fatalf("window holds %v events, window.maxevents=2000", st["window.events"])
		}
	}
	peak := rsyslogtest.ProcStatusBytes(d.PID, "VmHWM")
	r.SetFaults(hecreceiver.Faults{})
	waitFor(t, r, n, 2*time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "outage, window.maxevents=2000", n, lost, dup, fmt.Sprintf("window %v events during the outage, peak RSS %d MiB",
		st["window.events"], peak>>20))
	checkExactlyOnce(t, r.Events(), 0, n)
	if peak > 200<<20 {
		t.Fatalf("peak RSS %d MiB during the outage", peak>>20)
	}
}
