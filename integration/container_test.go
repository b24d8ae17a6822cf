// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// container runs the image `make container` built ($OMSPLUNKGO_IMAGE) as
// the README says (scripts/container.sh run), in the host's network
// namespace, so that it listens and reaches HEC on loopback only; it is
// removed when the test ends.
type container struct {
	t          *testing.T
	name, port string
}

func runContainer(t *testing.T, hecURL string, extra ...string) *container {
	t.Helper()
	image := os.Getenv("OMSPLUNKGO_IMAGE")
	if image == "" {
		t.Fatal("OMSPLUNKGO_IMAGE is not set: run the tests with `make integration` after `make container`")
	}
	p, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	c := &container{t: t, name: fmt.Sprintf("omsplunkgo-test-%d-%d", os.Getpid(), p), port: fmt.Sprint(p)}
	args := append([]string{"run", "-d", "--name", c.name, "--network=host",
		"-e", "HEC_URL=" + hecURL, "-e", "HEC_TOKEN=" + token, "-e", "SYSLOG_PORT=" + c.port,
		"-v", spool + ":/var/spool/rsyslog"}, extra...)
	out, err := exec.Command(repoScript("container.sh"), append(args, image)...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container log:\n%s", tail(c.logs(), 4000))
		}
		exec.Command(repoScript("container.sh"), "podman", "rm", "-f", "-t", "0", c.name).Run()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+c.port, time.Second)
		if err == nil {
			conn.Close()
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container does not listen on %s: %v\n%s", c.port, err, c.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *container) logs() string {
	out, _ := exec.Command(repoScript("container.sh"), "podman", "logs", c.name).CombinedOutput()
	return string(out)
}

// The image runs rsyslogd with the module: messages over TCP and UDP reach
// HEC, the health check passes, and a stop is clean and quick.
func TestContainerShipsTCPAndUDPAndStopsCleanly(t *testing.T) {
	const n, udp = 5000, 200
	r := startReceiver(t, hecreceiver.Config{Record: true})
	c := runContainer(t, r.URL())
	if _, err := loadgen.Send(loadgen.Options{Addr: "127.0.0.1:" + c.port, Format: loadgen.RFC5424, Count: n, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", "127.0.0.1:"+c.port)
	if err != nil {
		t.Fatal(err)
	}
	for i := range udp {
		// Paced: a burst of datagrams may overrun the socket buffer.
		conn.Write(loadgen.Line(loadgen.RFC5424, n+i))
		time.Sleep(time.Millisecond)
	}
	conn.Close()
	waitFor(t, r, n+udp, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n+udp)

	if out, err := exec.Command(repoScript("container.sh"), "podman", "healthcheck", "run", c.name).CombinedOutput(); err != nil {
		t.Fatalf("health check: %v\n%s", err, out)
	}
	begin := time.Now()
	if out, err := exec.Command(repoScript("container.sh"), "podman", "stop", "-t", "10", c.name).CombinedOutput(); err != nil {
		t.Fatalf("podman stop: %v\n%s", err, out)
	}
	took := time.Since(begin)
	code, _ := exec.Command(repoScript("container.sh"), "podman", "inspect", "-f", "{{.State.ExitCode}}", c.name).Output()
	if took > 5*time.Second || strings.TrimSpace(string(code)) != "0" {
		t.Fatalf("stop took %v, exit code %s", took, code)
	}
	t.Logf("RESULT container: %d TCP + %d UDP messages delivered once, stopped in %.1f s", n, udp, took.Seconds())
}

// While HEC is down, rsyslogd's own messages (the module's errors among
// them) reach the container log instead of waiting in the HEC queue.
func TestContainerLogsErrorsWhileHECIsDown(t *testing.T) {
	dead, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := runContainer(t, fmt.Sprintf("http://127.0.0.1:%d", dead))
	if _, err := loadgen.Send(loadgen.Options{Addr: "127.0.0.1:" + c.port, Format: loadgen.RFC5424, Count: 10, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(c.logs(), "omsplunkgo: http://127.0.0.1:") {
		if time.Now().After(deadline) {
			t.Fatalf("no omsplunkgo error in the container log while HEC is down:\n%s", c.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// After a kill -9 (an OOM kill, a power cut) the container starts again on
// its volume (no pid file strands it) and delivers what its window held.
func TestContainerComesBackAfterKill(t *testing.T) {
	const n = 3000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	c := runContainer(t, r.URL())
	if _, err := loadgen.Send(loadgen.Options{Addr: "127.0.0.1:" + c.port, Format: loadgen.RFC5424, Count: n, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // in the window's files on the volume
	podman := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(repoScript("container.sh"), append([]string{"podman"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("podman %v: %v\n%s", args, err, out)
		}
	}
	podman("kill", "-s", "KILL", c.name)
	podman("wait", c.name)
	r.SetFaults(hecreceiver.Faults{})
	podman("start", c.name)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+c.port, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not come back after kill -9: %v\n%s", err, c.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitFor(t, r, n, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
	podman("healthcheck", "run", c.name)
}

// The image trusts Debian's CA bundle only, none of the build machine's
// extra CAs; a user's CA comes in at run time, mounted and named by
// HEC_TLS_CACERT, and TLS to HEC verifies with it.
func TestContainerTakesCAsAtRunTime(t *testing.T) {
	out, err := exec.Command(repoScript("container.sh"), "podman", "run", "--rm", os.Getenv("OMSPLUNKGO_IMAGE"),
		"sh", "-c", "ls /usr/local/share/ca-certificates").Output() // stderr: podman's own notes
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("the image holds CAs beyond Debian's (%v): %q", err, out)
	}
	tc, caPEM, err := hecreceiver.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	r := startReceiver(t, hecreceiver.Config{Record: true, TLS: tc})
	c := runContainer(t, r.URL(), "-v", ca+":/etc/omsplunkgo/ca.pem:ro", "-e", "HEC_TLS_CACERT=/etc/omsplunkgo/ca.pem")
	if _, err := loadgen.Send(loadgen.Options{Addr: "127.0.0.1:" + c.port, Format: loadgen.RFC5424, Count: 500, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 500, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, 500)
}

// The container's health check turns unhealthy while HEC takes nothing
// for longer than HEC_UNHEALTHY_AFTER, and healthy again once it takes
// the events.
func TestContainerHealthFollowsHEC(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	c := runContainer(t, r.URL(), "-e", "HEC_UNHEALTHY_AFTER=3")
	if _, err := loadgen.Send(loadgen.Options{Addr: "127.0.0.1:" + c.port, Format: loadgen.RFC5424, Count: 100, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	healthy := func() (bool, string) {
		out, err := exec.Command(repoScript("container.sh"), "podman", "healthcheck", "run", c.name).CombinedOutput()
		return err == nil, string(out)
	}
	waitHealth := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, out := healthy()
			if ok == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the health check still says healthy=%v: %s", ok, out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	waitHealth(false)
	r.SetFaults(hecreceiver.Faults{})
	waitFor(t, r, 100, time.Minute)
	waitHealth(true)
}
