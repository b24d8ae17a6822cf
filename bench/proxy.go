// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The proxy row: omsplunkgo to the HTTPS receiver through Debian's
// tinyproxy (scripts/setup-debian.sh installs it), every connection a
// CONNECT tunnel with Basic authentication, against the direct HTTPS row
// of the same run. The proxy's CPU is not the shipper's (as the
// receiver's is not): the rsyslogd column compares like for like.

var proxyShipper = shipper{
	name: "omsplunkgo, HTTPS through a proxy", short: "omsplunkgo-https-proxy",
	start: func(e *env) (*proc, error) {
		stopProxy, addr, err := startTinyproxy(e.dir)
		if err != nil {
			return nil, err
		}
		p, err := omsplunkgoAction(e, true, fmt.Sprintf(`proxy="http://bench:bench-pw@%s"`, addr))
		if err != nil {
			stopProxy()
			return nil, err
		}
		stop := p.stop
		p.stop = func() error {
			defer stopProxy()
			return stop()
		}
		return p, nil
	},
}

// startTinyproxy runs tinyproxy on a free loopback port; stop kills it
// (by the PID this started) and waits.
func startTinyproxy(dir string) (stop func(), addr string, err error) {
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		return nil, "", fmt.Errorf("tinyproxy is not installed (scripts/setup-debian.sh installs it)")
	}
	addr = fmt.Sprintf("127.0.0.1:%d", freePort())
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "tinyproxy.conf")
	text := fmt.Sprintf("Port %s\nListen 127.0.0.1\nTimeout 600\nMaxClients 400\nAllow 127.0.0.1\n"+
		"BasicAuth bench bench-pw\nLogLevel Warning\nLogFile \"%s/tinyproxy.log\"\n", port, dir)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "-d", "-c", conf)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return stop, addr, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, "", fmt.Errorf("tinyproxy did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
