// SPDX-License-Identifier: Apache-2.0

// Package integration checks omsplunkgo end to end: a real rsyslogd loads
// the built module, messages go in over imptcp on loopback, and the
// project's HEC receiver counts what comes out.
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

const token = "00000000-0000-0000-0000-000000000000"

// newConfig prepares an rsyslogd config in a fresh directory; action is
// appended to the action(...) statement.
func newConfig(t *testing.T, action string) *rsyslogtest.Config {
	t.Helper()
	build, err := rsyslogtest.BuildDir()
	if err != nil {
		t.Fatal(err)
	}
	port, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return &rsyslogtest.Config{Dir: t.TempDir(), BuildDir: build, Port: port, Action: action}
}

// startReceiver runs a recording HEC receiver on a free loopback port.
func startReceiver(t *testing.T, cfg hecreceiver.Config) *hecreceiver.Receiver {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = token
	}
	r, err := hecreceiver.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// start runs rsyslogd and registers its shutdown; a rsyslogd that does not
// stop within 30 s of SIGTERM fails the test.
func start(t *testing.T, conf *rsyslogtest.Config, fork bool) *rsyslogtest.Daemon {
	t.Helper()
	d, err := rsyslogtest.Start(conf, fork)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("rsyslogd output and internal log:\n%s", tail(d.Output(), 4000))
		}
	})
	return d
}

// action is the usual action body pointing at r, plus extra parameters.
func action(r *hecreceiver.Receiver, extra string) string {
	return fmt.Sprintf(`server="%s" token="%s" %s`, r.URL(), token, extra)
}

// send pushes n messages starting at first and fails the test on error.
func send(t *testing.T, d *rsyslogtest.Daemon, f loadgen.Format, first, n int) {
	t.Helper()
	if _, err := loadgen.Send(loadgen.Options{Addr: d.Addr(), Format: f, First: first, Count: n, Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("sending to rsyslogd: %v", err)
	}
}

// quietPeriod is how long the receiver's count must stand still after
// the expected events arrived before a test looks for duplicates: a
// resent request lands well within it on loopback.
const quietPeriod = time.Second

// waitFor waits until the receiver has want events, then until no event
// has arrived for quietPeriod (so that late duplicates are counted), and
// fails the test on a shortfall.
func waitFor(t *testing.T, r *hecreceiver.Receiver, want int64, timeout time.Duration) {
	t.Helper()
	got := r.WaitCount(want, timeout)
	if got < want {
		t.Fatalf("receiver has %d of %d events after %v (stats %+v)", got, want, timeout, r.Stats())
	}
	deadline := time.Now().Add(timeout)
	for last, since := got, time.Now(); time.Since(since) < quietPeriod; {
		time.Sleep(50 * time.Millisecond)
		if now := r.Count(); now != last {
			last, since = now, time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("events still arriving %v after the %d expected (now %d)", timeout, want, r.Count())
		}
	}
}

// checkExactlyOnce asserts that events carry sequence numbers first..first+n-1,
// each exactly once, and returns them by sequence number.
func checkExactlyOnce(t *testing.T, evs []hecreceiver.Event, first, n int) []hecreceiver.Event {
	t.Helper()
	return checkArrivals(t, evs, first, n, nil)
}

// checkArrivals asserts that the message with sequence number first+i
// arrived want(i) times (once where want is nil) and that no other event
// arrived, and returns the events by sequence number.
func checkArrivals(t *testing.T, evs []hecreceiver.Event, first, n int, want func(i int) int) []hecreceiver.Event {
	t.Helper()
	bySeq := make([]hecreceiver.Event, n)
	seen := make([]int, n)
	foreign := 0
	for _, ev := range evs {
		s := loadgen.SeqOf(ev.Event) - first // -1 - first where there is none
		if s < 0 || s >= n {
			foreign++
			continue
		}
		seen[s]++
		bySeq[s] = ev
	}
	var missing, dup, unwanted int
	var examples []string
	for i, c := range seen {
		if c != 1 && len(examples) < 12 && (want == nil || c != want(i)) {
			examples = append(examples, fmt.Sprintf("%d×%d", first+i, c))
		}
		w := 1
		if want != nil {
			w = want(i)
		}
		switch {
		case c < w:
			missing++
		case c > w && w == 0:
			unwanted++
		case c > w:
			dup += c - w
		}
	}
	if missing+dup+unwanted+foreign > 0 {
		t.Fatalf("of %d messages: %d missing, %d duplicated, %d arrived that should not, %d unexpected events "+
			"(sequence×arrivals, first few: %v)", n, missing, dup, unwanted, foreign, examples)
	}
	return bySeq
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func TestMain(m *testing.M) {
	if _, err := rsyslogtest.BuildDir(); err != nil {
		fmt.Fprintln(os.Stderr, "integration tests need the built module:", err)
		os.Exit(1)
	}
	if _, err := rsyslogtest.Rsyslogd(); err != nil {
		fmt.Fprintln(os.Stderr, "integration tests need rsyslogd:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// rfc5424Time is the HEC time the metadata template gives message i.
func rfc5424Time(i int) string {
	ts := loadgen.Base.Add(time.Duration(i) * time.Microsecond)
	return fmt.Sprintf("%d.%06d", ts.Unix(), ts.Nanosecond()/1000)
}

func hostOf(i int) string { return fmt.Sprintf("host-%d", i%loadgen.Hosts) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// repoScript is the path of scripts/NAME in this repository.
func repoScript(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "scripts", name))
	if err != nil {
		panic(err)
	}
	return p
}

// repoFile is the absolute path of a file of the repository.
func repoFile(rel string) string {
	p, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		panic(err)
	}
	return p
}
