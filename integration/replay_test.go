// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// tool runs `omsplunkgo args...` and returns its exit status and output.
func tool(t *testing.T, args ...string) (int, string) {
	t.Helper()
	build, err := rsyslogtest.BuildDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(build, "omsplunkgo"), args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// errorFileOf10000 runs rsyslogd with an action whose every event names an
// index the token may not write: HEC refuses each (code 7) and the error
// file gets 10,000 lines. It returns the stopped daemon's config and the
// error file.
func errorFileOf10000(t *testing.T, r *hecreceiver.Receiver) (*rsyslogtest.Config, string) {
	t.Helper()
	const n = 10000
	conf := newConfig(t, action(r, `name="hec" index.template="ix" batch.maxevents="10"`))
	conf.Global = `template(name="ix" type="string" string="wrong")`
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	errfile := filepath.Join(conf.Dir, "omsplunkgo-rejected.json")
	deadline := time.Now().Add(2 * time.Minute)
	for lines(errfile) < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := lines(errfile); got != n || r.Count() != 0 {
		t.Fatalf("error file has %d lines of %d, receiver %d events (want 0)", got, n, r.Count())
	}
	if err := d.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return conf, errfile
}

// Replay of the error file: 10,000 events HEC refused for their index.
// Sent to an index HEC refuses too, each goes back to the error file;
// then, with the index fixed, to the action of the configuration, they
// arrive exactly once (counted by message number) with the index they had
// kept; run again, it sends nothing. Killed with -9 midway and run again, a
// replay loses none and sends again at most one request's worth.
func TestReplayErrorFile(t *testing.T) {
	const n = 10000
	r := startReceiver(t, hecreceiver.Config{Record: true, Indexes: []string{"main"}})
	conf, errfile := errorFileOf10000(t, r)
	path, err := conf.Render()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := rsyslogtest.Rsyslogd()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("to the action, index fixed", func(t *testing.T) {
		// The wrong fix first: HEC refuses every event again, each goes
		// back to the action's error file as a new line, none is lost.
		status, out := tool(t, "replay", "-f", path, "-rsyslogd", bin, "-action", "hec", "-index", "nope")
		if status != 0 || !strings.Contains(out, fmt.Sprintf("sent %d events (%d refused again by HEC: in %s)", n, n, errfile)) {
			t.Fatalf("replay to a forbidden index: exit %d:\n%s", status, out)
		}
		if got := lines(errfile); got != 2*n || r.Count() != 0 {
			t.Fatalf("after a replay HEC refused: %d lines in the error file (want %d), %d events indexed", got, 2*n, r.Count())
		}
		// Then the right one: only the lines HEC refused last are left.
		status, out = tool(t, "replay", "-f", path, "-rsyslogd", bin, "-action", "hec", "-index", "main", "-code", "7")
		if status != 0 || !strings.Contains(out, fmt.Sprintf("sent %d events", n)) {
			t.Fatalf("replay: exit %d:\n%s", status, out)
		}
		waitFor(t, r, n, time.Minute)
		if !strings.Contains(out, fmt.Sprintf("%d sent by an earlier replay", n)) {
			t.Fatalf("the lines the first replay sent were not skipped:\n%s", out)
		}
		for _, ev := range checkExactlyOnce(t, r.Events(), 0, n) {
			if ev.Index != "main" || ev.Fields["orig_index"] != "wrong" {
				t.Fatalf("replayed event index %q, orig_index %q: %+v", ev.Index, ev.Fields["orig_index"], ev)
			}
		}
		status, out = tool(t, "replay", "-f", path, "-rsyslogd", bin, "-action", "hec", "-index", "main")
		if status != 0 || !strings.Contains(out, "sent 0 events") || !strings.Contains(out, fmt.Sprintf("%d sent by an earlier replay", 2*n)) {
			t.Fatalf("second replay: exit %d:\n%s", status, out)
		}
		time.Sleep(quietPeriod)
		if got := r.Count(); got != n {
			t.Fatalf("the second replay sent again: %d events", got)
		}
	})

	t.Run("killed midway", func(t *testing.T) {
		const perRequest = 100
		slow := startReceiver(t, hecreceiver.Config{Record: true})
		slow.SetFaults(hecreceiver.Faults{Delay: 20 * time.Millisecond})
		state := filepath.Join(t.TempDir(), "progress")
		// The error file holds each event twice by now (first refused for
		// index "wrong", then for "nope"): the first ones are chosen.
		args := []string{"replay", "-server", slow.URL(), "-token", token, "-errorfile", errfile, "-state", state, "-index-was", "wrong",
			"-opt", fmt.Sprintf("batch.maxevents=%d", perRequest), "-refused", filepath.Join(t.TempDir(), "refused")}
		build, _ := rsyslogtest.BuildDir()
		cmd := exec.Command(filepath.Join(build, "omsplunkgo"), args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		got := slow.WaitCount(n/3, time.Minute)
		cmd.Process.Kill() // SIGKILL, this test's own child
		cmd.Wait()
		if got < n/3 || slow.Count() >= n {
			t.Fatalf("the kill was not midway: %d of %d events had arrived", slow.Count(), n)
		}
		status, out := tool(t, args...)
		if status != 0 {
			t.Fatalf("replay after the kill: exit %d:\n%s", status, out)
		}
		waitFor(t, slow, n, time.Minute)
		seen := make([]int, n)
		for _, ev := range slow.Events() {
			if s := loadgen.SeqOf(ev.Event); s >= 0 && s < n {
				seen[s]++
			}
		}
		dups := 0
		for i, c := range seen {
			if c == 0 {
				t.Fatalf("message %d lost", i)
			}
			dups += c - 1
		}
		if dups > perRequest {
			t.Fatalf("%d duplicates after the kill (want at most one request's %d)", dups, perRequest)
		}
		t.Logf("RESULT replay killed with -9 at %d of %d events and run again: none lost, %d sent twice", got, n, dups)
	})
}

// Window files no action claims (an action since removed, its HEC down
// while it ran) go to a named HEC exactly once, and are gone after; while
// the rsyslogd that wrote them holds them, replay refuses to touch them.
func TestReplayUnclaimedWindowFiles(t *testing.T) {
	const n = 5000
	dead := startReceiver(t, hecreceiver.Config{Record: true})
	dead.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	conf := newConfig(t, action(dead, `name="gone" `+lossFreeAction))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	prefix := filepath.Join(conf.Dir, "omsplunkgo-spool-omsplunkgo-gone")
	deadline := time.Now().Add(time.Minute)
	for {
		_, out := tool(t, "replay", "-server", "http://127.0.0.1:1", "-token", "x", "-window", prefix, "-dry-run")
		if strings.Contains(out, fmt.Sprintf("would send up to %d events", n)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window files do not hold %d events: %s", n, out)
		}
		time.Sleep(200 * time.Millisecond)
	}

	healthy := startReceiver(t, hecreceiver.Config{Record: true})
	args := []string{"replay", "-server", healthy.URL(), "-token", token, "-window", prefix}
	if status, out := tool(t, args...); status == 0 || !strings.Contains(out, "in use by another process") {
		t.Fatalf("replay of files a running rsyslogd holds: exit %d:\n%s", status, out)
	}
	if err := d.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	status, out := tool(t, args...)
	if status != 0 || !strings.Contains(out, fmt.Sprintf("sent %d events", n)) || !strings.Contains(out, "its files are gone") {
		t.Fatalf("replay: exit %d:\n%s", status, out)
	}
	waitFor(t, healthy, n, time.Minute)
	checkExactlyOnce(t, healthy.Events(), 0, n)
	if left, _ := filepath.Glob(prefix + ".*"); len(left) != 0 {
		t.Fatalf("files left after the replay: %v", left)
	}
	if dead.Count() != 0 {
		t.Fatalf("%d events went to the HEC that was not named", dead.Count())
	}
}
