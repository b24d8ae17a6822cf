// Package integration checks omsplunkgo end to end: a real rsyslogd loads
// the built module, messages go in over imptcp on loopback, and the
// project's HEC receiver counts what comes out.
package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/loadgen"
	"github.com/omsplunkgo/omsplunkgo/rsyslogtest"
)

const token = "00000000-0000-0000-0000-000000000000"

// env is one test's rsyslogd + receiver.
type env struct {
	t    *testing.T
	recv *hecreceiver.Receiver
	conf *rsyslogtest.Config
	d    *rsyslogtest.Daemon
}

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

// waitFor waits until the receiver has want events, then a little longer
// to catch duplicates arriving late, and fails the test on a shortfall.
func waitFor(t *testing.T, r *hecreceiver.Receiver, want int64, timeout time.Duration) {
	t.Helper()
	got := r.WaitCount(want, timeout)
	if got < want {
		t.Fatalf("receiver has %d of %d events after %v (stats %+v)", got, want, timeout, r.Stats())
	}
	time.Sleep(300 * time.Millisecond)
}

// checkExactlyOnce asserts that events carry sequence numbers first..first+n-1,
// each exactly once.
func checkExactlyOnce(t *testing.T, evs []hecreceiver.Event, first, n int) []hecreceiver.Event {
	t.Helper()
	bySeq := make([]hecreceiver.Event, n)
	seen := make([]int, n)
	var dup, foreign int
	for _, ev := range evs {
		s := loadgen.SeqOf(ev.Event) - first
		if s < 0 || s >= n {
			foreign++
			continue
		}
		if seen[s]++; seen[s] > 1 {
			dup++
		}
		bySeq[s] = ev
	}
	missing := 0
	for _, c := range seen {
		if c == 0 {
			missing++
		}
	}
	if missing+dup+foreign > 0 {
		t.Fatalf("of %d messages: %d missing, %d duplicated, %d unexpected events", n, missing, dup, foreign)
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
