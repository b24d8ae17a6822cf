// SPDX-License-Identifier: Apache-2.0

// Package rsyslogtest runs a real rsyslogd with the built module for tests
// and benchmarks: its own config, work directory and loopback port, started
// in the foreground (-n) or forking into the background like a plain
// `rsyslogd`, and stopped by the PID it started.
package rsyslogtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// BuildDir finds the directory holding omsplunkgo.so and libomsplunkgo.so:
// $OMSPLUNKGO_BUILD, else build/ at the repository root.
func BuildDir() (string, error) {
	dir := os.Getenv("OMSPLUNKGO_BUILD")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "build")
				break
			}
			if filepath.Dir(d) == d {
				return "", errors.New("cannot find the repository root (go.mod)")
			}
		}
	}
	for _, f := range []string{"omsplunkgo.so", "libomsplunkgo.so"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("%s is missing: run `make` first (or set OMSPLUNKGO_BUILD)", filepath.Join(dir, f))
		}
	}
	return filepath.Abs(dir)
}

// Rsyslogd finds the rsyslogd binary: $OMSPLUNKGO_RSYSLOGD (another rsyslog
// version, scripts/build-rsyslog.sh), else the installed one.
func Rsyslogd() (string, error) {
	if p := os.Getenv("OMSPLUNKGO_RSYSLOGD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("OMSPLUNKGO_RSYSLOGD: %v", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("rsyslogd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/rsyslogd"); err == nil {
		return "/usr/sbin/rsyslogd", nil
	}
	return "", errors.New("rsyslogd not found: run `make setup` (installs Debian's rsyslog)")
}

// FreePort asks the kernel for an unused loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Config describes one rsyslogd instance.
type Config struct {
	Dir      string // work directory; config, pid file and logs go here
	BuildDir string // where omsplunkgo.so is
	Port     int    // imptcp listens on 127.0.0.1:Port
	// Action is the body of the action(...) statement, after type="...".
	Action string
	// Type is the action type; "omsplunkgo" unless set.
	Type string
	// Ruleset is extra rainerscript placed inside the ruleset before the action.
	Ruleset string
	// Global is extra text after the module loads (templates, modules).
	Global string
	// Queue is the ruleset's queue parameters; a plain in-memory queue if empty.
	Queue string
	// ModuleParams go into module(load="omsplunkgo" ...).
	ModuleParams string
	// NoModule leaves omsplunkgo out (benchmark baselines).
	NoModule bool
	// Module is what module(load=...) names; the built omsplunkgo.so in
	// BuildDir unless set (e.g. "omsplunkgo", as installed by a package).
	Module string
	// WorkDir is rsyslog's global workDirectory (where the module keeps
	// its window files); Dir unless set: two instances may share one, as
	// a container volume mounted twice makes them.
	WorkDir string
	// Wrap, when set, starts rsyslogd through it: Wrap followed by
	// rsyslogd's command line, e.g. a shell that mounts a small
	// filesystem in a private mount namespace and then execs rsyslogd
	// (which keeps the PID).
	Wrap []string
	// Env is added to rsyslogd's environment ("NAME=value").
	Env []string
}

const confTemplate = `global(workDirectory="{{if .WorkDir}}{{.WorkDir}}{{else}}{{.Dir}}{{end}}" maxMessageSize="2m" processInternalMessages="on")
{{if not .NoModule}}module(load="{{if .Module}}{{.Module}}{{else}}{{.BuildDir}}/omsplunkgo.so{{end}}"{{if .ModuleParams}} {{.ModuleParams}}{{end}}){{end}}
module(load="imptcp")
{{.Global}}
input(type="imptcp" address="127.0.0.1" port="{{.Port}}" ruleset="hec")
ruleset(name="hec"{{if .Queue}} {{.Queue}}{{end}}) {
{{.Ruleset}}
  action(type="{{.Type}}" {{.Action}})
}
# rsyslog's own messages (errors included) land here for the test to read.
*.* action(type="omfile" file="{{.Dir}}/internal.log")
`

// Render writes the config file and returns its path.
func (c *Config) Render() (string, error) {
	if c.Type == "" {
		c.Type = "omsplunkgo"
	}
	var b bytes.Buffer
	if err := template.Must(template.New("conf").Parse(confTemplate)).Execute(&b, c); err != nil {
		return "", err
	}
	path := filepath.Join(c.Dir, "rsyslog.conf")
	return path, os.WriteFile(path, b.Bytes(), 0o644)
}

// Validate runs `rsyslogd -N1` on conf and returns its exit code and output.
func Validate(confPath string) (int, string, error) {
	bin, err := Rsyslogd()
	if err != nil {
		return 0, "", err
	}
	cmd := exec.Command(bin, "-N1", "-f", confPath)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out), nil
	}
	return 0, string(out), err
}

// Daemon is a running rsyslogd.
type Daemon struct {
	Conf    *Config
	PID     int
	pidFile string
	cmd     *exec.Cmd // set in foreground mode
	done    chan error
}

// Start launches rsyslogd on c. With fork, rsyslogd daemonizes the way a
// plain `rsyslogd` does, and the daemon's PID comes from its pid file.
// Start returns once imptcp accepts connections.
func Start(c *Config, fork bool) (*Daemon, error) {
	bin, err := Rsyslogd()
	if err != nil {
		return nil, err
	}
	confPath, err := c.Render()
	if err != nil {
		return nil, err
	}
	d := &Daemon{Conf: c, pidFile: filepath.Join(c.Dir, "rsyslogd.pid")}
	args := []string{"-f", confPath, "-i", d.pidFile}
	if !fork {
		args = append([]string{"-n"}, args...)
	}
	out, err := os.Create(filepath.Join(c.Dir, "rsyslogd.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(bin, args...)
	if len(c.Wrap) > 0 {
		cmd = exec.Command(c.Wrap[0], append(append(c.Wrap[1:len(c.Wrap):len(c.Wrap)], bin), args...)...)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if fork {
		// The parent exits once the child reports it started.
		if err := cmd.Wait(); err != nil {
			return nil, fmt.Errorf("rsyslogd failed to start: %v\n%s", err, d.Output())
		}
		deadline := time.Now().Add(10 * time.Second)
		for d.PID == 0 {
			if b, err := os.ReadFile(d.pidFile); err == nil {
				d.PID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("rsyslogd wrote no pid file\n%s", d.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	} else {
		d.cmd, d.PID = cmd, cmd.Process.Pid
		d.done = make(chan error, 1)
		go func() { d.done <- cmd.Wait() }()
	}
	addr := fmt.Sprintf("127.0.0.1:%d", c.Port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return d, nil
		}
		if !d.Alive() || time.Now().After(deadline) {
			d.Kill()
			return nil, fmt.Errorf("rsyslogd did not open %s: %v\n%s", addr, err, d.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Alive reports whether the daemon process still exists.
func (d *Daemon) Alive() bool {
	if d.done != nil {
		select {
		case err := <-d.done:
			d.done <- err
			return false
		default:
			return true
		}
	}
	if syscall.Kill(d.PID, 0) != nil {
		return false
	}
	// A daemonized rsyslogd is not our child; if nothing reaps it, it
	// lingers as a zombie after exiting.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.PID))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// Stop sends SIGTERM and waits up to timeout for the process to end; past
// that it is killed and Stop reports it.
func (d *Daemon) Stop(timeout time.Duration) error {
	if !d.Alive() {
		return nil
	}
	if err := syscall.Kill(d.PID, syscall.SIGTERM); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for d.Alive() {
		if time.Now().After(deadline) {
			d.Kill()
			return fmt.Errorf("rsyslogd (pid %d) did not stop within %v of SIGTERM; killed", d.PID, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Kill ends the daemon with SIGKILL, as a crash would.
func (d *Daemon) Kill() {
	if d.Alive() {
		syscall.Kill(d.PID, syscall.SIGKILL)
		for i := 0; i < 250 && d.Alive(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Output is what rsyslogd printed plus its internal log, for failure messages.
func (d *Daemon) Output() string {
	out, _ := os.ReadFile(filepath.Join(d.Conf.Dir, "rsyslogd.out"))
	return string(out) + d.InternalLog()
}

// InternalLog is rsyslog's own messages so far.
func (d *Daemon) InternalLog() string {
	b, _ := os.ReadFile(filepath.Join(d.Conf.Dir, "internal.log"))
	return string(b)
}

// Addr is imptcp's address.
func (d *Daemon) Addr() string { return fmt.Sprintf("127.0.0.1:%d", d.Conf.Port) }

// RSS returns the daemon's resident set size in bytes (VmRSS), or 0 when
// it cannot be read.
func (d *Daemon) RSS() int64 { return ProcStatusBytes(d.PID, "VmRSS") }

// ProcStatusBytes reads a kB field of /proc/<pid>/status ("VmRSS",
// "VmHWM") in bytes, or 0 when it cannot be read.
func ProcStatusBytes(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
