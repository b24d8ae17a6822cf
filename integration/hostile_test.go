// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// An endpoint answering 503 with a 300 MB body, then with an endless
// chunked one, leaves rsyslogd's memory bounded; stopping rsyslogd
// meanwhile is quick and spools the batch; after a restart every message
// arrives once.
func TestHugeAnswerBodiesLoseNothing(t *testing.T) {
	const n = 2000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{HugeBody: 300 << 20})
	conf := newConfig(t, action(r, diskQueue+` timeout="3000" retry.maxtime="60000"`))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFailed := func(atLeast int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for r.Stats().Failed < atLeast {
			if time.Now().After(deadline) {
				t.Fatalf("the receiver answered only %d requests with its fault", r.Stats().Failed)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// VmHWM is the kernel's record of the peak: a body read and freed in
	// between cannot hide from it.
	waitFailed(2)
	rssHuge := rsyslogtest.ProcStatusBytes(d.PID, "VmHWM")
	r.SetFaults(hecreceiver.Faults{EndlessBody: true})
	waitFailed(r.Stats().Failed + 2)
	rssEndless := rsyslogtest.ProcStatusBytes(d.PID, "VmHWM")
	if rssHuge > 150<<20 || rssEndless > 150<<20 || rssHuge == 0 {
		t.Fatalf("rsyslogd peak RSS %d MiB with a 300 MB answer, %d MiB with an endless one", rssHuge>>20, rssEndless>>20)
	}
	if !strings.Contains(d.InternalLog(), "over 64 KiB") {
		t.Fatalf("the oversized answer is not logged:\n%s", tail(d.InternalLog(), 3000))
	}
	took := stopWithin(t, d, 8*time.Second)
	if r.Count() != 0 {
		t.Fatalf("%d events counted by a HEC answering 503", r.Count())
	}
	r.SetFaults(hecreceiver.Faults{})
	start(t, conf, false)
	waitFor(t, r, n, time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "HEC answers 503 with a 300 MB body, then an endless one; rsyslogd stopped meanwhile", n, lost, dup,
		fmt.Sprintf("rsyslogd peak RSS %d / %d MiB; stopped in %.1f s", rssHuge>>20, rssEndless>>20, took.Seconds()))
	checkExactlyOnce(t, r.Events(), 0, n)
}

// One of two endpoints accepts connections and never answers: it gets no
// data request at all (its health probe never comes back), every message
// arrives once at the healthy one, and the hung one is logged once.
func TestHungEndpointInTheListGetsNoData(t *testing.T) {
	const n = 20000
	hung, err := hecreceiver.StartSilent()
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, fmt.Sprintf(`server=["%s", "%s"] token="%s" timeout="5000"`, r.URL(), hung.URL(), token))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
	t.Logf("RESULT hung endpoint in the list: %d data requests, %d health probes reached it", hung.DataRequests(), hung.Probes())
	if hung.DataRequests() != 0 || hung.Probes() == 0 {
		t.Fatalf("the hung endpoint got %d data requests (want 0) and %d health probes (want some)", hung.DataRequests(), hung.Probes())
	}
	if log := d.InternalLog(); strings.Count(log, "set aside") > 1 {
		t.Fatalf("the hung endpoint is logged more than once:\n%s", log)
	}
}

// A 403 for a few seconds (a token being rotated) with default settings
// loses nothing: it is retried within retry.maxtime, and the log says
// what happens rather than "stay queued".
func TestShortAuthFailureWithDefaultsLosesNothing(t *testing.T) {
	const n = 5000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{DenyUntil: time.Now().Add(5 * time.Second)})
	d := start(t, newConfig(t, action(r, "")), false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "HEC answers 403 (token rotation) for 5 s", n, lost, dup, "retried like an outage")
	checkExactlyOnce(t, r.Events(), 0, n)
	log := d.InternalLog()
	if !strings.Contains(log, "configuration error") || strings.Contains(log, "stay queued") {
		t.Fatalf("log does not say what happened truthfully:\n%s", tail(log, 3000))
	}
}

// Events spooled while the token was wrong are delivered after the token
// is fixed: the spool belongs to the action, not to its settings.
func TestSpoolSurvivesATokenFix(t *testing.T) {
	const n = 5000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, fmt.Sprintf(`server="%s" token="wrong-token" name="splunk" %s retry.maxtime="60000"`, r.URL(), diskQueue))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	time.Sleep(2 * time.Second)
	stopWithin(t, d, 8*time.Second)
	if spooled, _ := filepath.Glob(filepath.Join(conf.Dir, "omsplunkgo-*.seg")); len(spooled) == 0 {
		t.Fatalf("nothing spooled; rsyslogd log:\n%s", tail(d.Output(), 3000))
	}
	conf.Action = fmt.Sprintf(`server="%s" token="%s" name="splunk" %s`, r.URL(), token, diskQueue)
	start(t, conf, false)
	waitFor(t, r, n, time.Minute)
	lost, dup := tally(r.Events(), 0, n)
	result(t, "wrong token, rsyslogd stopped, token fixed, started", n, lost, dup, "the spool is the action's, not its token's")
	checkExactlyOnce(t, r.Events(), 0, n)
}

// With privDropToUser, spool.dir and errorfile are checked as the user
// rsyslogd runs as: a root-only directory is reported at start.
func TestPrivilegeDropIsCheckedAtStart(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{})
	conf := newConfig(t, "")
	// rsyslogd writes its own log into conf.Dir after dropping privileges.
	for _, d := range []string{conf.Dir, filepath.Dir(conf.Dir)} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	rootOnly := filepath.Join(conf.Dir, "root-only")
	if err := os.Mkdir(rootOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	conf.Global = `global(privdrop.user.name="nobody" privdrop.group.name="nogroup")`
	conf.Action = action(r, fmt.Sprintf(`spool.dir="%s" errorfile="%s/rejected.json"`, rootOnly, rootOnly))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, 100)
	waitFor(t, r, 100, 30*time.Second)
	if !waitLog(d, "spool.dir="+rootOnly+" cannot be written by rsyslogd (uid 65534", 5*time.Second) ||
		!waitLog(d, "errorfile="+rootOnly+"/rejected.json cannot be written", time.Second) {
		t.Fatalf("no start-time report of the unwritable spool and error file:\n%s", tail(d.Output(), 3000))
	}
}

// -N1 refuses an errorfile in a directory that does not exist, and a
// server URL with user information, without printing it.
func TestConfigCheckRefusesUnusablePaths(t *testing.T) {
	ok := `server="http://127.0.0.1:8088" token="abc"`
	code, out := validate(t, newConfig(t, ok+` errorfile="/nonexistent/dir/x.json"`))
	if code == 0 || !strings.Contains(out, `errorfile="/nonexistent/dir/x.json": its directory does not exist`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out = validate(t, newConfig(t, `server="https://admin:s3cret-token@splunk:8088" token="abc"`))
	if code == 0 || !strings.Contains(out, "user information") || strings.Contains(out, "s3cret-token") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// One of two indexers answers its health check 503 code 18 (queues full):
// it gets no data, the log names HEC's reason, and every message arrives
// once at the other.
func TestUnhealthyIndexerIsSetAsideWithItsReason(t *testing.T) {
	const n = 5000
	good := startReceiver(t, hecreceiver.Config{Record: true})
	sick := startReceiver(t, hecreceiver.Config{Record: true})
	sick.SetFaults(hecreceiver.Faults{HealthCode: 18})
	d := start(t, newConfig(t, fmt.Sprintf(`server=["%s", "%s"] token="%s"`, good.URL(), sick.URL(), token)), false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, good, n, time.Minute)
	checkExactlyOnce(t, good.Events(), 0, n)
	if sick.Stats().Requests != 0 {
		t.Fatalf("the unhealthy indexer got %d data requests", sick.Stats().Requests)
	}
	if !waitLog(d, "queues are full", 5*time.Second) {
		t.Fatalf("the log does not say why the indexer was set aside:\n%s", tail(d.InternalLog(), 3000))
	}
}
