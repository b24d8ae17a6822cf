// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// lossFreeAction is the README's documented loss-free action setup.
const lossFreeAction = `action.resumeRetryCount="-1" action.resumeInterval="1" retry.maxtime="2000"`

// HEC down when rsyslogd starts: the window fills (2,000 events here), the
// action suspends, rsyslog keeps the rest queued, and once HEC is up every
// one of them arrives.
func TestReceiverDownAtStartLosesNothing(t *testing.T) {
	const n = 20000
	port, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	conf := newConfig(t, fmt.Sprintf(`server="http://%s" token="%s" window.maxevents="2000" %s`, addr, token, lossFreeAction))
	conf.Queue = `queue.type="LinkedList" queue.size="200000"`
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)

	time.Sleep(4 * time.Second) // rsyslog retries against a closed port meanwhile
	r := startReceiver(t, hecreceiver.Config{Addr: addr, Record: true})
	waitFor(t, r, n, 2*time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
	if log := d.InternalLog(); !contains(log, "omsplunkgo") || !contains(log, "suspended") {
		t.Errorf("expected rsyslog to log the suspension and omsplunkgo's cause, got:\n%s", tail(log, 2000))
	}
}

// sendRaw writes bytes to imptcp as they are.
func sendRaw(t *testing.T, addr string, b []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}
