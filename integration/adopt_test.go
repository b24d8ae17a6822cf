// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// An unnamed action's window files are named after its destination. A new
// user fixes a typo in the server URL, or rotates the token, and restarts:
// what the window held goes to the fixed destination, exactly once,
// through a real rsyslogd (the naming of unnamed actions is the shim's).
func TestUnnamedActionKeepsItsWindow(t *testing.T) {
	const n = 5000
	for _, c := range []struct{ name, want string }{
		{"server URL fixed", "the same token and index, other servers"},
		{"token changed", "the same servers and index, another token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := startReceiver(t, hecreceiver.Config{Record: true, Token: "token-new"})
			dead, err := rsyslogtest.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			before := fmt.Sprintf(`server="http://127.0.0.1:%d" token="token-new" index="main"`, dead)
			if c.name == "token changed" {
				before = fmt.Sprintf(`server="%s" token="token-old" index="main"`, r.URL())
			}
			conf := newConfig(t, before)
			d := start(t, conf, false)
			send(t, d, loadgen.RFC5424, 0, n)
			time.Sleep(2 * time.Second) // into the window, HEC unreachable or refusing
			if err := d.Stop(30 * time.Second); err != nil {
				t.Fatal(err)
			}
			if r.Count() != 0 {
				t.Fatalf("%d events arrived before the fix", r.Count())
			}
			conf.Action = fmt.Sprintf(`server="%s" token="token-new" index="main"`, r.URL())
			d = start(t, conf, false)
			waitFor(t, r, n, time.Minute)
			checkExactlyOnce(t, r.Events(), 0, n)
			if !waitLog(d, c.want, 5*time.Second) {
				t.Fatalf("no log line about the adoption (%q):\n%s", c.want, tail(d.InternalLog(), 2000))
			}
			if strings.Contains(d.InternalLog(), "belong to no action") {
				t.Fatalf("the adopted files are reported as unclaimed:\n%s", tail(d.InternalLog(), 2000))
			}
		})
	}
}

// Two unnamed actions with different destinations never exchange files:
// with both HEC down, each holds its own messages; the actions' order in
// the config swapped and HEC back, each receiver gets exactly its own
// (naming by config position would hand each action's files to the
// other). And a change of more than the servers or the token (here the
// index too) adopts nothing: the files are reported, not sent astray.
func TestUnnamedActionsNeverExchangeFiles(t *testing.T) {
	const n = 2000
	ra := startReceiver(t, hecreceiver.Config{Record: true})
	rb := startReceiver(t, hecreceiver.Config{Record: true})
	down := hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)}
	ra.SetFaults(down)
	rb.SetFaults(down)
	actA := func() string { return fmt.Sprintf(`server="%s" token="%s" index="a"`, ra.URL(), token) }
	actB := func() string { return fmt.Sprintf(`server="%s" token="%s" index="b"`, rb.URL(), token) }
	conf := newConfig(t, "")
	// RFC 5424 lines of loadgen carry their number in the message; even
	// numbers go to A, odd ones to B.
	route := func(first, second string) {
		conf.Ruleset = fmt.Sprintf(`  if re_match($msg, "seq=[0-9]*[02468] ") then {
    action(type="omsplunkgo" %s)
    stop
  }`, first)
		conf.Action = second
	}
	route(actA(), actB())
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	time.Sleep(2 * time.Second)
	if err := d.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	ra.SetFaults(hecreceiver.Faults{})
	rb.SetFaults(hecreceiver.Faults{})
	// Swapped: B is now the filtered action (it takes the odd ones).
	conf.Ruleset = fmt.Sprintf(`  if not re_match($msg, "seq=[0-9]*[02468] ") then {
    action(type="omsplunkgo" %s)
    stop
  }`, actB())
	conf.Action = actA()
	d = start(t, conf, false)
	waitFor(t, ra, n/2, time.Minute)
	waitFor(t, rb, n/2, time.Minute)
	for name, r := range map[string]*hecreceiver.Receiver{"A": ra, "B": rb} {
		for _, ev := range r.Events() {
			var seq int
			if i := strings.Index(ev.Event, "seq="); i >= 0 {
				fmt.Sscanf(ev.Event[i+4:], "%d", &seq)
			}
			if (seq%2 == 0) != (name == "A") || ev.Index != strings.ToLower(name) {
				t.Fatalf("receiver %s got %q (index %q): another action's event", name, ev.Event, ev.Index)
			}
		}
	}
	if strings.Contains(d.InternalLog(), "go to this action") {
		t.Fatalf("an action adopted files although every action kept its destination:\n%s", tail(d.InternalLog(), 2000))
	}
	d.Stop(30 * time.Second)

	// More than the servers changed: nothing is adopted.
	ra.SetFaults(down)
	conf.Ruleset = ""
	conf.Action = actA()
	d = start(t, conf, false)
	send(t, d, loadgen.RFC5424, n, 100)
	time.Sleep(2 * time.Second)
	d.Stop(30 * time.Second)
	ra.SetFaults(hecreceiver.Faults{})
	conf.Action = fmt.Sprintf(`server="%s" token="%s" index="other"`, rb.URL(), token)
	d = start(t, conf, false)
	if !waitLog(d, "belong to no action of this configuration", 15*time.Second) {
		t.Fatalf("the files of a destination that changed in more than one part were not reported:\n%s",
			tail(d.InternalLog(), 2000))
	}
	if got := rb.Count(); got != n/2 {
		t.Fatalf("receiver B has %d events, want its %d: files went to an action whose index differs", got, n/2)
	}
}
