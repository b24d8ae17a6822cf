// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
	cmd := exec.Command(filepath.Join(conf.BuildDir, "omsplunkgo"), append([]string{"check", "-f", path, "-rsyslogd", bin, "-timeout", "3s"}, args...)...)
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
