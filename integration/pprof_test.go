// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// module(debug.pprof=...) serves Go's profiling endpoints from inside the
// running rsyslogd, which keeps shipping meanwhile.
func TestDebugPprofServesProfiles(t *testing.T) {
	port, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, ""))
	conf.ModuleParams = fmt.Sprintf(`debug.pprof="127.0.0.1:%d"`, port)
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, 1000)
	waitFor(t, r, 1000, time.Minute)

	base := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", port)
	for path, want := range map[string]string{"": "goroutine", "heap?debug=1": "heap profile:",
		"goroutine?debug=1": "net/http.(*Server).Serve"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", base+path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("GET %s: %d\n%.300s", base+path, resp.StatusCode, body)
		}
	}
	if !strings.Contains(d.Output(), "Go profiling endpoints on http://127.0.0.1:") {
		t.Fatalf("the endpoint was not logged; rsyslogd log:\n%s", tail(d.Output(), 2000))
	}
}

// An address that cannot be listened on is logged, and shipping goes on.
func TestDebugPprofBadAddressDoesNotStopShipping(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, ""))
	conf.ModuleParams = `debug.pprof="256.0.0.1:http"`
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, 1000)
	waitFor(t, r, 1000, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, 1000)
	if !strings.Contains(d.Output(), "debug.pprof: cannot listen on") {
		t.Fatalf("the bad address was not reported; rsyslogd log:\n%s", tail(d.Output(), 2000))
	}
}
