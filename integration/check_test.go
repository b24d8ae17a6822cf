// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// runCheck runs `omsplunkgo check` on conf's rendered config and returns
// its exit status and output.
func runCheck(t *testing.T, conf *rsyslogtest.Config, args ...string) (int, string) {
	t.Helper()
	path, err := conf.Render()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := rsyslogtest.Rsyslogd()
	if err != nil {
		t.Fatal(err)
	}
	return tool(t, append([]string{"check", "-f", path, "-rsyslogd", bin, "-timeout", "3s"}, args...)...)
}

// The check against the project's receiver, each mistake planted in turn:
// reported as an error naming the action, the server and the fix, exit
// status 1; a correct configuration passes; nothing is indexed.
func TestCheckFindsEachMistake(t *testing.T) {
	tc, caPEM, err := hecreceiver.SelfSignedFor([]string{"hec.example.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, caPEM, 0o644)
	plain := startReceiver(t, hecreceiver.Config{Record: true})
	acked := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	capped := startReceiver(t, hecreceiver.Config{Record: true})
	capped.SetFaults(hecreceiver.Faults{BodyCap: 500000})
	named := startReceiver(t, hecreceiver.Config{Record: true, TLS: tc})
	for _, c := range []struct {
		name, action string
		status       int
		want         []string // each in the output
	}{
		{"a correct action", fmt.Sprintf(`name="good" server="%s" token="%s"`, plain.URL(), token), 0,
			[]string{"ok      omsplunkgo-good " + plain.URL() + ": token: HEC takes the token",
				"acks: indexer acknowledgement off", "body: HEC takes requests of batch.maxbytes=1000000", "health: HEC is healthy"}},
		{"a wrong token", fmt.Sprintf(`name="badtoken" server="%s" token="not-the-token"`, plain.URL()), 1,
			[]string{"error   omsplunkgo-badtoken " + plain.URL() + ": token: HEC refuses the token", "check token or token.file"}},
		{"acks off on the token", fmt.Sprintf(`name="acks" server="%s" token="%s" useack="on"`, plain.URL(), token), 1,
			[]string{"error   omsplunkgo-acks " + plain.URL() + ": acks: useack=\"on\", but the token has indexer acknowledgement off"}},
		{"acks on, unused", fmt.Sprintf(`name="acksunused" server="%s" token="%s"`, acked.URL(), token), 0,
			[]string{"warning omsplunkgo-acksunused " + acked.URL() + ": acks: the token has indexer acknowledgement on"}},
		{"acks on, no cookie", fmt.Sprintf(`name="ackson" server="%s" token="%s" useack="on"`, acked.URL(), token), 0,
			[]string{"ok      omsplunkgo-ackson " + acked.URL() + ": acks:", "cookies: no cookie seen"}},
		{"a body cap below batch.maxbytes", fmt.Sprintf(`name="cap" server="%s" token="%s"`, capped.URL(), token), 1,
			[]string{"error   omsplunkgo-cap " + capped.URL() + ": body: HEC refuses a request of 1000001 bytes", "lower batch.maxbytes"}},
		{"a certificate of another name", fmt.Sprintf(`name="tls" server="%s" token="%s" tls.cacert="%s"`, named.URL(), token, ca), 1,
			[]string{"error   omsplunkgo-tls " + named.URL() + ": tls:", "set tls.servername"}},
		{"the certificate's name given", fmt.Sprintf(`name="tlsname" server="%s" token="%s" tls.cacert="%s" tls.servername="hec.example.test"`,
			named.URL(), token, ca), 0, []string{"ok      omsplunkgo-tlsname " + named.URL() + ": tls: certificate verified"}},
		{"a dead server", `name="dead" server="http://127.0.0.1:1" token="x"`, 1,
			[]string{"error   omsplunkgo-dead http://127.0.0.1:1: connect:", "check the server URL and port"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, out := runCheck(t, newConfig(t, c.action))
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if status != c.status || t.Failed() {
				t.Fatalf("exit status %d (want %d); output:\n%s", status, c.status, out)
			}
		})
	}
	for _, r := range []*hecreceiver.Receiver{plain, acked, capped, named} {
		if r.Count() != 0 {
			t.Fatalf("the check indexed %d events without -send-test-events", r.Count())
		}
	}
}

// With -send-test-events one marked event goes to each index the action
// names; an index the token may not write is an error; -json is for
// scripts; a config rsyslogd refuses is exit status 2.
func TestCheckSendsTestEvents(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true, Indexes: []string{"main", "net"}})
	conf := newConfig(t, fmt.Sprintf(`name="routed" server="%s" token="%s" index="main" index.template="ix"
	  index.allowed=["net", "forbidden", "fw_*"]`, r.URL(), token))
	conf.Global = `template(name="ix" type="string" string="%programname%")`
	status, out := runCheck(t, conf, "-send-test-events", "-json")
	var fs []struct{ Action, Server, Check, Level, Text string }
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, out)
	}
	levels := map[string]string{}
	for _, f := range fs {
		if f.Check == "index" {
			for _, ix := range []string{"main", "net", "forbidden"} {
				if strings.Contains(f.Text, " "+ix+" ") || strings.Contains(f.Text, "index="+ix+" ") {
					levels[ix] = f.Level
				}
			}
		}
	}
	if status != 1 || levels["main"] != "ok" || levels["net"] != "ok" || levels["forbidden"] != "error" {
		t.Fatalf("exit %d, index levels %v:\n%s", status, levels, out)
	}
	evs := r.Events()
	if len(evs) != 2 || !strings.HasPrefix(evs[0].Event, "omsplunkgo check test event") || evs[0].Source != "omsplunkgo-check" {
		t.Fatalf("test events %+v", evs)
	}

	bad := newConfig(t, `server="ftp://x" token="t"`)
	if status, out := runCheck(t, bad); status != 2 || !strings.Contains(out, "refuses the configuration") {
		t.Fatalf("a config rsyslogd refuses: exit %d:\n%s", status, out)
	}
}

// The values an index template can render, where the configuration tells
// (a lookup table and a literal set here): listed without indexing
// anything; with -send-test-events each gets a test event, and the one
// the token may not write is an error naming the table.
func TestCheckEnumeratesTemplateValues(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true, Indexes: []string{"main", "net", "auth"}})
	table := filepath.Join(t.TempDir(), "idx.json")
	os.WriteFile(table, []byte(`{"version":1,"nomatch":"main","type":"string",
	  "table":[{"index":"fw1","value":"net"},{"index":"fw2","value":"forbidden"}]}`), 0o644)
	conf := newConfig(t, fmt.Sprintf(`name="lk" server="%s" token="%s" index.template="ix"`, r.URL(), token))
	conf.Global = fmt.Sprintf(`template(name="ix" type="string" string="%%$.ix%%")
lookup_table(name="idx" file="%s")`, table)
	conf.Ruleset = `  set $.ix = lookup("idx", $hostname);
  if $programname == "sshd" then { set $.ix = "auth"; }`
	status, out := runCheck(t, conf)
	want := `ok      omsplunkgo-lk: routing: index.template "ix" renders one of 4 values: auth, forbidden, main, net (lookup table "idx"`
	if status != 0 || !strings.Contains(out, want) || r.Count() != 0 {
		t.Fatalf("without test events: exit %d, %d indexed; output lacks %q:\n%s", status, r.Count(), want, out)
	}
	status, out = runCheck(t, conf, "-send-test-events")
	refused := fmt.Sprintf(`error   omsplunkgo-lk %s: index: HEC refuses index forbidden (a value of index.template: lookup table "idx"`, r.URL())
	if status != 1 || !strings.Contains(out, refused) {
		t.Fatalf("with test events: exit %d; output lacks %q:\n%s", status, refused, out)
	}
	got := map[string]int{}
	for _, ev := range r.Events() {
		got[ev.Index]++
	}
	if got["net"] != 1 || got["auth"] != 1 || got["main"] != 1 || got[""] != 1 || len(got) != 4 {
		t.Fatalf("test events by index: %v (want one each in net, auth, main and the default index)", got)
	}
}

// Acks behind a balancer: one that spreads a channel over two indexers
// (no cookie, round robin) is an error once test events show it (ackIds
// that do not rise); without them it is a warning, since one indexer sets
// no cookie either. A cookie-sticky one passes.
func TestCheckFindsABalancerWithoutStickiness(t *testing.T) {
	a := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	b := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	for _, c := range []struct {
		name       string
		notSticky  bool
		args       []string
		status     int
		wantInText string
	}{
		{"spreading, no test events", true, nil, 0, "warning omsplunkgo-lb %s: cookies: no cookie seen"},
		{"spreading", true, []string{"-send-test-events"}, 1, "error   omsplunkgo-lb %s: cookies: ackIds on one channel did not rise"},
		{"sticky", false, []string{"-send-test-events"}, 0, "ok      omsplunkgo-lb %s: cookies: 4 requests on one channel reached one indexer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lb, err := hecreceiver.StartBalancer(hecreceiver.BalancerConfig{Backends: []*hecreceiver.Receiver{a, b}, NotSticky: c.notSticky})
			if err != nil {
				t.Fatal(err)
			}
			defer lb.Close()
			status, out := runCheck(t, newConfig(t, fmt.Sprintf(`name="lb" server="%s" token="%s" useack="on"`, lb.URL(), token)), c.args...)
			if want := fmt.Sprintf(c.wantInText, lb.URL()); status != c.status || !strings.Contains(out, want) {
				t.Fatalf("exit %d (want %d); output lacks %q:\n%s", status, c.status, want, out)
			}
		})
	}
}
