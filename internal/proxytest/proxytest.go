// SPDX-License-Identifier: Apache-2.0

// Package proxytest runs Debian's tinyproxy (scripts/setup-debian.sh
// installs tinyproxy-bin) as the HTTP proxy of the tests and the
// benchmark: on loopback, with Basic authentication, in the foreground,
// stopped by the PID it started.
package proxytest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Options shape the proxy.
type Options struct {
	User, Password string
	// Bind, when set, is the address its connections to HEC leave from,
	// so that a receiver can tell them from direct ones.
	Bind string
	// ConnectPorts, when set, are the only ports it tunnels to; else any.
	ConnectPorts []int
	// LogConnections logs every connection it accepts (LogLevel Connect).
	LogConnections bool
}

// Proxy is a running tinyproxy.
type Proxy struct {
	Addr string // 127.0.0.1:port
	Port int
	Dir  string // its config and log
	cmd  *exec.Cmd
}

// Start runs tinyproxy on 127.0.0.1:port (a free one when 0), its files
// in dir, and returns once it listens.
func Start(dir string, port int, o Options) (*Proxy, error) {
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		return nil, fmt.Errorf("tinyproxy is not installed (scripts/setup-debian.sh installs it): %v", err)
	}
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	p := &Proxy{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, Dir: dir}
	level := "Warning"
	if o.LogConnections {
		level = "Connect"
	}
	conf := fmt.Sprintf("Port %d\nListen 127.0.0.1\nTimeout 600\nMaxClients 400\nAllow 127.0.0.1\n"+
		"DisableViaHeader Yes\nLogLevel %s\nLogFile \"%s\"\n", port, level, p.LogPath())
	if o.User != "" {
		conf += fmt.Sprintf("BasicAuth %s %s\n", o.User, o.Password)
	}
	if o.Bind != "" {
		conf += "Bind " + o.Bind + "\n"
	}
	// Without ConnectPort lines tinyproxy tunnels to any port.
	for _, cp := range o.ConnectPorts {
		conf += fmt.Sprintf("ConnectPort %d\n", cp)
	}
	path := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, "-d", "-c", path)
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", p.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("tinyproxy did not listen on %s", p.Addr)
		}
	}
}

// URL is the proxy parameter for user and password.
func (p *Proxy) URL(user, password string) string {
	return fmt.Sprintf("http://%s:%s@%s", user, password, p.Addr)
}

// LogPath is its log file.
func (p *Proxy) LogPath() string { return filepath.Join(p.Dir, "tinyproxy.log") }

// Stop kills the proxy (by the PID Start started) and waits for it; again
// is a no-op.
func (p *Proxy) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.cmd = nil
}
