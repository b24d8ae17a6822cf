// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// diskQueue is the README's loss-free action setup with a disk-assisted
// queue that survives restarts.
const diskQueue = `queue.type="LinkedList" queue.filename="hecq" queue.saveOnShutdown="on" queue.size="100000"
  action.resumeRetryCount="-1" action.resumeInterval="1"`

// HEC answers 503 throughout; rsyslogd is stopped and started again
// during the outage. Stopping does not wait out retry.maxtime, the queue
// keeps every message across the restart, and all arrive once HEC is back.
func TestRestartDuringOutageLosesNothing(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	conf := newConfig(t, action(r, diskQueue+` retry.maxtime="60000"`))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	time.Sleep(2 * time.Second)

	// rsyslog's own shutdown timeouts are ~1.5 s + 1 s; a module waiting
	// out retry.maxtime (60 s) would blow far past this.
	stopWithin(t, d, 10*time.Second)
	if r.Count() != 0 {
		t.Fatalf("%d events accepted by a HEC answering 503", r.Count())
	}

	// rsyslog drops the batch a worker is committing when it shuts down;
	// the module must have saved it to its spool.
	spooled, _ := filepath.Glob(filepath.Join(conf.Dir, "omsplunkgo-*.seg"))
	if len(spooled) == 0 {
		t.Fatalf("no batch was spooled at shutdown; rsyslogd log:\n%s", tail(d.Output(), 4000))
	}

	r.SetFaults(hecreceiver.Faults{})
	d2 := start(t, conf, false)
	waitFor(t, r, n, 2*time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
	if left, _ := filepath.Glob(filepath.Join(conf.Dir, "omsplunkgo-*.seg")); len(left) != 0 {
		t.Fatalf("spool files left after delivery: %v", left)
	}
	if !strings.Contains(d2.Output(), "an earlier run left in the window") {
		t.Fatalf("replay not reported; rsyslogd log:\n%s", tail(d2.Output(), 4000))
	}
}

// HEC takes each request and does not answer for 12 s (a hung indexer or
// proxy). Stopping rsyslogd ends the worker's wait for the answer within
// the module's grace period, not the 30 s HTTP timeout; the batch goes to
// the spool and arrives, once, after the restart.
func TestStopWhileHECHangsLosesNothing(t *testing.T) {
	const n = 3000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	// Answered 503 when the 12 s are up, so the hung requests never count.
	r.SetFaults(hecreceiver.Faults{Delay: 12 * time.Second, FailUntil: time.Now().Add(time.Hour)})
	conf := newConfig(t, action(r, diskQueue+` timeout="30000" retry.maxtime="60000"`))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	time.Sleep(1500 * time.Millisecond)

	took := stopWithin(t, d, 8*time.Second)
	if spooled, _ := filepath.Glob(filepath.Join(conf.Dir, "omsplunkgo-*.seg")); len(spooled) == 0 {
		t.Fatalf("the batch waiting for the hung HEC was not spooled; rsyslogd log:\n%s", tail(d.Output(), 4000))
	}

	r.SetFaults(hecreceiver.Faults{})
	start(t, conf, false)
	waitFor(t, r, n, 2*time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "HEC hangs 12 s, rsyslogd stopped meanwhile, documented config", n, lost, dup,
		fmt.Sprintf("stopped in %.1f s; the waiting batch spooled, sent after the restart", took.Seconds()))
	checkExactlyOnce(t, r.Events(), 0, n)
}

// stopWithin stops d and fails the test if that took longer than limit.
func stopWithin(t *testing.T, d *rsyslogtest.Daemon, limit time.Duration) time.Duration {
	t.Helper()
	stopped := time.Now()
	if err := d.Stop(limit + 30*time.Second); err != nil {
		t.Fatal(err)
	}
	took := time.Since(stopped)
	if took > limit {
		t.Fatalf("rsyslogd took %v to stop (limit %v); rsyslogd log:\n%s", took, limit, tail(d.Output(), 4000))
	}
	return took
}

// The health check (docker/healthcheck.sh, also for systemd users) reads
// each action's health file: healthy while HEC takes the events,
// unhealthy once they have waited with HEC taking none for longer than
// HEC_UNHEALTHY_AFTER, healthy again once HEC takes them; a stopped
// action leaves no file behind.
func TestHealthCheckFollowsHEC(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `name="health"`))
	d := start(t, conf, false)
	check := func() (bool, string) {
		cmd := exec.Command("sh", repoFile("docker/healthcheck.sh"))
		cmd.Env = append(os.Environ(), fmt.Sprintf("RSYSLOGD_PID=%d", d.PID), "OMSPLUNKGO_WORKDIR="+conf.Dir,
			"HEC_UNHEALTHY_AFTER=3", fmt.Sprintf("SYSLOG_PORT=%d", conf.Port))
		out, err := cmd.CombinedOutput()
		return err == nil, string(out)
	}
	waitHealth := func(want bool, within time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			ok, out := check()
			if ok == want {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("health check still says healthy=%v after %v: %s", ok, within, out)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	send(t, d, loadgen.RFC5424, 0, 100)
	waitFor(t, r, 100, time.Minute)
	healthFiles := func() []string {
		m, _ := filepath.Glob(filepath.Join(conf.Dir, "omsplunkgo-*.health"))
		return m
	}
	for deadline := time.Now().Add(10 * time.Second); len(healthFiles()) != 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("health files %v, want the action's one", healthFiles())
		}
	}
	waitHealth(true, 10*time.Second)

	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	send(t, d, loadgen.RFC5424, 100, 100)
	out := waitHealth(false, 20*time.Second)
	if !strings.Contains(out, "HEC has taken none") {
		t.Fatalf("unhealthy for another reason: %s", out)
	}
	r.SetFaults(hecreceiver.Faults{})
	waitFor(t, r, 200, time.Minute)
	waitHealth(true, 15*time.Second)
	if err := d.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if f := healthFiles(); len(f) != 0 {
		t.Fatalf("the stopped action left its health file: %v", f)
	}
}
