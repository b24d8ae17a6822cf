// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/proxytest"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// Through a real HTTP proxy: Debian's tinyproxy (installed by
// scripts/setup-debian.sh) with Basic authentication, its outgoing
// connections bound to 127.0.0.2 so that the receiver can tell a tunnelled
// connection (peer 127.0.0.2) from a direct one (127.0.0.1).

const (
	proxyUser = "alice"
	proxyPass = "pr0xy-s3cret"
	proxyPeer = "127.0.0.2"
)

// tinyProxy is the tests' proxy, stopped when the test ends.
type tinyProxy struct{ *proxytest.Proxy }

// startTinyproxy runs tinyproxy on 127.0.0.1:port (a free one when 0),
// with the tests' credentials, leaving from proxyPeer and logging every
// connection; connectPorts, when set, are the only ports it tunnels to.
func startTinyproxy(t *testing.T, port int, connectPorts ...int) *tinyProxy {
	t.Helper()
	p, err := proxytest.Start(t.TempDir(), port, proxytest.Options{User: proxyUser, Password: proxyPass,
		Bind: proxyPeer, ConnectPorts: connectPorts, LogConnections: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &tinyProxy{p}
}

func (p *tinyProxy) addr() string { return p.Addr }

// url is the proxy parameter with the given password.
func (p *tinyProxy) url(pass string) string { return p.URL(proxyUser, pass) }

func (p *tinyProxy) stop() { p.Stop() }

// checkNoSecret fails the test if the proxy password, or its Basic
// credentials, appear in anything rsyslogd and the module wrote: output,
// internal log, window files, error file (the config itself aside).
func checkNoSecret(t *testing.T, dirs ...string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(proxyUser + ":" + proxyPass))
	for _, dir := range dirs {
		filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || filepath.Base(path) == "rsyslog.conf" {
				return nil
			}
			b, _ := os.ReadFile(path)
			if strings.Contains(string(b), proxyPass) || strings.Contains(string(b), basic) {
				t.Errorf("the proxy password is in %s", path)
			}
			return nil
		})
	}
}

// 50,000 messages through the proxy, over HTTP and over HTTPS (CONNECT,
// TLS end to end): each exactly once, every one through the proxy, and
// the password in nothing the run produced.
func TestThroughAProxy(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			const n = 50000
			rcfg := hecreceiver.Config{Record: true}
			extra := ""
			if scheme == "https" {
				tc, caPEM, err := hecreceiver.SelfSigned()
				if err != nil {
					t.Fatal(err)
				}
				rcfg.TLS = tc
				ca := filepath.Join(t.TempDir(), "ca.pem")
				os.WriteFile(ca, caPEM, 0o644)
				extra = fmt.Sprintf(`tls.cacert="%s"`, ca)
			}
			r := startReceiver(t, rcfg)
			p := startTinyproxy(t, 0)
			statsDir := t.TempDir()
			global, statsPath := impstatsConfig(statsDir)
			conf := newConfig(t, action(r, fmt.Sprintf(`%s proxy="%s" name="viaproxy"`, extra, p.url(proxyPass))))
			conf.Global = global
			d := start(t, conf, false)
			send(t, d, loadgen.RFC5424, 0, n)
			waitFor(t, r, n, 2*time.Minute)
			evs := checkExactlyOnce(t, r.Events(), 0, n)
			for _, ev := range evs {
				if ev.Peer != proxyPeer {
					t.Fatalf("an event came from %s, not through the proxy (%s)", ev.Peer, proxyPeer)
				}
			}
			if !waitLog(d, "reached through the proxy http://"+proxyUser+"@"+p.addr(), 5*time.Second) {
				t.Fatalf("the log does not say which proxy is used:\n%s", tail(d.InternalLog(), 2000))
			}
			st := waitStats(t, statsPath, "omsplunkgo-viaproxy", func(st map[string]float64) bool {
				return st["delivered"] == n
			})
			if st["proxy.errors"] != 0 {
				t.Fatalf("proxy.errors = %v on a working proxy", st["proxy.errors"])
			}
			d.Stop(30 * time.Second)
			checkNoSecret(t, conf.Dir, statsDir)
		})
	}
}

// A wrong proxy password: a log line names the proxy and the fix, the
// counter tells it from HEC's answers, nothing goes to the error file;
// with the password fixed and rsyslogd restarted, everything arrives once.
func TestProxyWrongPassword(t *testing.T) {
	const n = 3000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	p := startTinyproxy(t, 0)
	statsDir := t.TempDir()
	global, statsPath := impstatsConfig(statsDir)
	conf := newConfig(t, action(r, fmt.Sprintf(`proxy="%s" name="viaproxy"`, p.url("wrong-"+proxyPass))))
	conf.Global = global
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	want := "proxy http://" + proxyUser + "@" + p.addr() + " refused the tunnel"
	// tinyproxy answers a wrong password 401, as some proxies do; others 407.
	if !waitLog(d, want, 20*time.Second) || !waitLog(d, "HTTP 401 Unauthorized - the proxy wants other credentials: "+
		"check the user and password", time.Second) {
		t.Fatalf("no log line %q with the proxy's answer and the fix:\n%s", want, tail(d.InternalLog(), 3000))
	}
	st := waitStats(t, statsPath, "omsplunkgo-viaproxy", func(st map[string]float64) bool { return st["proxy.errors"] > 0 })
	if st["http.4xx"] != 0 || st["http.noresponse"] != 0 || st["rejected"] != 0 {
		t.Fatalf("the proxy's refusal was counted as HEC's: %v", st)
	}
	if r.Count() != 0 {
		t.Fatalf("%d events arrived past a proxy that refused every tunnel", r.Count())
	}
	if err := d.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(conf.Dir, "omsplunkgo-rejected.json")); len(b) > 0 {
		t.Fatalf("events were set aside for the proxy's refusal:\n%s", tail(string(b), 1000))
	}
	checkNoSecret(t, conf.Dir, statsDir)

	// Fixed and restarted: the window's files are sent through the proxy.
	conf.Action = action(r, fmt.Sprintf(`proxy="%s" name="viaproxy"`, p.url(proxyPass)))
	start(t, conf, false)
	waitFor(t, r, n, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
}

// The proxy down for 10 s while messages keep coming: nothing is lost,
// and what was accepted meanwhile goes once the proxy is back.
func TestProxyDownLosesNothing(t *testing.T) {
	const n = 6000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	p := startTinyproxy(t, 0)
	conf := newConfig(t, action(r, fmt.Sprintf(`proxy="%s"`, p.url(proxyPass))))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n/3)
	waitFor(t, r, n/3, time.Minute)
	p.stop()
	down := time.Now()
	send(t, d, loadgen.RFC5424, n/3, n/3)
	for time.Since(down) < 5*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	send(t, d, loadgen.RFC5424, 2*n/3, n-2*n/3)
	for time.Since(down) < 10*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	if !waitLog(d, "proxy http://"+proxyUser+"@"+p.addr()+": cannot connect to it", time.Second) {
		t.Fatalf("no log line naming the unreachable proxy:\n%s", tail(d.InternalLog(), 2000))
	}
	startTinyproxy(t, p.Port)
	waitFor(t, r, n, 2*time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
}

// The proxy from rsyslogd's environment (https_proxy), and no_proxy
// naming the HEC host: the first run goes through the proxy, the second
// directly; proxy="none" ignores the environment.
func TestProxyFromTheEnvironment(t *testing.T) {
	tc, caPEM, err := hecreceiver.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, caPEM, 0o644)
	p := startTinyproxy(t, 0)
	for _, c := range []struct {
		name, params string
		env          []string
		peer         string
	}{
		{"https_proxy", "", []string{"https_proxy=" + p.url(proxyPass)}, proxyPeer},
		{"HTTPS_PROXY", "", []string{"HTTPS_PROXY=" + p.url(proxyPass)}, proxyPeer},
		{"no_proxy", "", []string{"https_proxy=" + p.url(proxyPass), "no_proxy=example.com, 127.0.0.0/8"}, "127.0.0.1"},
		{"http_proxy only", "", []string{"http_proxy=" + p.url(proxyPass)}, "127.0.0.1"},
		{"proxy=none", `proxy="none"`, []string{"https_proxy=" + p.url(proxyPass)}, "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n = 2000
			r := startReceiver(t, hecreceiver.Config{Record: true, TLS: tc})
			conf := newConfig(t, action(r, fmt.Sprintf(`tls.cacert="%s" %s`, ca, c.params)))
			conf.Env = c.env
			d := start(t, conf, false)
			send(t, d, loadgen.RFC5424, 0, n)
			waitFor(t, r, n, time.Minute)
			for _, ev := range checkExactlyOnce(t, r.Events(), 0, n) {
				if ev.Peer != c.peer {
					t.Fatalf("an event came from %s, want %s", ev.Peer, c.peer)
				}
			}
			d.Stop(30 * time.Second)
			checkNoSecret(t, conf.Dir)
		})
	}
}

// A proxy that does not tunnel to HEC's port answers CONNECT 403: the log
// says to allow the port on the proxy.
func TestProxyRefusingThePort(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{})
	p := startTinyproxy(t, 0, 443)
	conf := newConfig(t, action(r, fmt.Sprintf(`proxy="%s"`, p.url(proxyPass))))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, 10)
	if !waitLog(d, "does not let this host tunnel (CONNECT) to that port", 20*time.Second) {
		t.Fatalf("no log line saying the proxy refuses the port:\n%s", tail(d.InternalLog(), 2000))
	}
	if r.Count() != 0 {
		t.Fatalf("%d events arrived past a proxy that refuses the port", r.Count())
	}
}

// The rest works through the proxy too: indexer acknowledgement (polls
// through the tunnel), several servers with one dead (set aside, probed
// through the proxy), and kept-alive tunnels (far fewer connections to the
// proxy than requests).
func TestProxyCarriesAcksSeveralServersAndKeepAlive(t *testing.T) {
	const n = 30000
	r := startReceiver(t, hecreceiver.Config{Record: true, RequireAck: true})
	dead, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p := startTinyproxy(t, 0)
	conf := newConfig(t, fmt.Sprintf(`server=["%s", "http://127.0.0.1:%d"] token="%s" useack="on" batch.maxevents="50" proxy="%s"`,
		r.URL(), dead, token, p.url(proxyPass)))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 2*time.Minute)
	for _, ev := range checkExactlyOnce(t, r.Events(), 0, n) {
		if ev.Peer != proxyPeer {
			t.Fatalf("an event came from %s, not through the proxy", ev.Peer)
		}
	}
	st := r.Stats()
	if st.AckPolls == 0 || st.AckedTrue < st.Requests/2 {
		t.Fatalf("acks through the proxy: %d polls, %d acknowledged of %d requests", st.AckPolls, st.AckedTrue, st.Requests)
	}
	d.Stop(30 * time.Second)
	log, _ := os.ReadFile(p.LogPath())
	conns := int64(strings.Count(string(log), "]: Connect (file descriptor"))
	if st.Requests < 300 || conns == 0 || conns > (st.Requests+st.AckPolls)/4 {
		t.Fatalf("%d connections to the proxy for %d requests and %d ack polls: tunnels are not kept alive",
			conns, st.Requests, st.AckPolls)
	}
	t.Logf("%d connections to the proxy for %d requests and %d ack polls", conns, st.Requests, st.AckPolls)
}
