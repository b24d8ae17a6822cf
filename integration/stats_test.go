// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
)

// impstatsConfig makes rsyslogd write its statistics as JSON lines to a
// file every second; it returns the file's path.
func impstatsConfig(dir string) (global, path string) {
	path = filepath.Join(dir, "impstats.json")
	return fmt.Sprintf(`module(load="impstats" interval="1" format="json" log.syslog="off" log.file="%s")`, path), path
}

// lastStats returns the newest impstats record of object name.
func lastStats(path, name string) map[string]float64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var last map[string]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '{'); i > 0 {
			line = line[i:] // impstats may prefix a timestamp
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["name"] != name || rec["origin"] != "omsplunkgo" {
			continue
		}
		last = map[string]float64{}
		for k, v := range rec {
			if n, ok := v.(float64); ok {
				last[k] = n
			}
		}
	}
	return last
}

// waitStats waits for an impstats record of name for which done holds.
func waitStats(t *testing.T, path, name string, done func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := lastStats(path, name)
		if st != nil && done(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("no impstats record of %q reached the expected values; last: %v", name, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Each action publishes an impstats object named after the action
// (omsplunkgo-<name>: rsyslog's own counters of the action have the bare
// name), and its
// counters agree with what the receiver counted: events, requests, status
// classes, bytes on the wire, retries, rejected and truncated events.
func TestImpstatsCountersMatchTheReceiver(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	// 2% of requests answered 503 (retried), one event over event.maxbytes
	// (truncated), events holding "REJECT-ME" refused by HEC (code 6).
	r.SetFaults(hecreceiver.Faults{FailRate: 0.02, RejectMatch: "REJECT-ME"})
	conf := newConfig(t, action(r, `name="to_splunk" compress="on" event.maxbytes="4096"`))
	global, path := impstatsConfig(conf.Dir)
	conf.Global = global
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	sendRaw(t, d.Addr(), []byte("<13>1 2026-11-24T10:00:00Z h app - - - "+strings.Repeat("x", 5000)+"\n"+
		"<13>1 2026-11-24T10:00:00Z h app - - - REJECT-ME 1\n<13>1 2026-11-24T10:00:00Z h app - - - REJECT-ME 2\n"))
	waitFor(t, r, n+1, time.Minute)

	st := waitStats(t, path, "omsplunkgo-to_splunk", func(st map[string]float64) bool {
		return st["delivered"] == n+1 && st["rejected"] == 2 && st["window.events"] == 0 && st["inflight"] == 0
	})
	rs := r.Stats()
	want := map[string]float64{
		"submitted":         n + 3,
		"delivered":         float64(r.Count()),
		"rejected":          2,
		"truncated":         1,
		"fields.invalid":    0,
		"requests":          float64(rs.Requests),
		"http.2xx":          float64(rs.Requests - rs.Failed - rs.Rejected),
		"http.4xx":          float64(rs.Rejected),
		"http.5xx":          float64(rs.Failed),
		"requests.retried":  float64(rs.Failed),
		"http.noresponse":   0,
		"bytes.sent":        float64(rs.Bytes),
		"spooled":           0,
		"replayed":          0,
		"ack.timeouts":      0,
		"raw.linebreaks":    0,
		"ack.channel.moves": 0,
		"window.nofile":     0,
		"panics":            0,
		"inflight":          0, // gauges, once all is delivered
		"window.events":     0,
		"window.bytes":      0,
	}
	if l := st["inflight.limit"]; l < 1 || l > 64 {
		t.Errorf("impstats inflight.limit = %v, want 1..64 (connections' default)", l)
	}
	for k, v := range want {
		if got, ok := st[k]; !ok || got != v {
			t.Errorf("impstats %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if rs.Failed == 0 {
		t.Errorf("no request was answered 503: the retry counters were not exercised")
	}
	if rs.Gzipped != rs.Requests || rs.Bytes >= rs.Decoded {
		t.Errorf("compress=\"on\": %d of %d requests gzipped, %d bytes on the wire for %d", rs.Gzipped, rs.Requests, rs.Bytes, rs.Decoded)
	}
	t.Logf("impstats: %v; receiver: %+v", st, rs)
}

// Two unnamed actions get distinct default names.
func TestImpstatsDefaultNames(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{})
	conf := newConfig(t, action(r, ""))
	global, path := impstatsConfig(conf.Dir)
	conf.Global = global
	conf.Ruleset = fmt.Sprintf(`  action(type="omsplunkgo" %s)`, action(r, ""))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, 100)
	waitFor(t, r, 200, time.Minute)
	for _, name := range []string{"omsplunkgo", "omsplunkgo-2"} {
		waitStats(t, path, name, func(st map[string]float64) bool { return st["delivered"] == 100 })
	}
}

// Each server has an impstats object of its own, and its counters equal
// what that server's receiver counted: one answers, one refuses every
// request (503, code 9: set aside, probed, back, refusing again), one is
// slow; the slow one's answer time and the refusing one's last HEC code
// show.
func TestImpstatsPerEndpoint(t *testing.T) {
	const n = 20000
	ok := startReceiver(t, hecreceiver.Config{Record: true})
	refusing := startReceiver(t, hecreceiver.Config{Record: true})
	refusing.SetFaults(hecreceiver.Faults{FailRate: 1}) // every data request 503, health fine: it flaps
	slow := startReceiver(t, hecreceiver.Config{Record: true})
	slow.SetFaults(hecreceiver.Faults{Delay: 300 * time.Millisecond})
	global, path := impstatsConfig(t.TempDir())
	conf := newConfig(t, fmt.Sprintf(`server=["%s", "%s", "%s"] token="%s" name="eps"`, ok.URL(), refusing.URL(), slow.URL(), token))
	conf.Global = global
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	for deadline := time.Now().Add(time.Minute); ok.Count()+slow.Count() < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d + %d events arrived, want %d", ok.Count(), slow.Count(), n)
		}
	}
	for _, c := range []struct {
		r    *hecreceiver.Receiver
		name string
		want func(st map[string]float64, rs hecreceiver.Stats) bool
	}{
		{ok, "ok", func(st map[string]float64, rs hecreceiver.Stats) bool {
			return st["http.2xx"] == float64(rs.Requests) && st["standing"] == 0 && st["last.hec.code"] == 0
		}},
		{refusing, "refusing", func(st map[string]float64, rs hecreceiver.Stats) bool {
			return st["http.5xx"] == float64(rs.Failed) && rs.Failed > 0 && st["http.2xx"] == 0 && st["last.hec.code"] == 9
		}},
		{slow, "slow", func(st map[string]float64, rs hecreceiver.Stats) bool {
			return st["http.2xx"] == float64(rs.Requests) && (rs.Requests == 0 || st["rtt.ms"] >= 250)
		}},
	} {
		name := "omsplunkgo-eps/" + c.r.URL()
		waitStats(t, path, name, func(st map[string]float64) bool {
			rs := c.r.Stats()
			return st["requests"] == float64(rs.Requests) && c.want(st, rs)
		})
	}
	// The action's object sums them.
	waitStats(t, path, "omsplunkgo-eps", func(st map[string]float64) bool {
		return st["requests"] == float64(ok.Stats().Requests+refusing.Stats().Requests+slow.Stats().Requests)
	})
}
