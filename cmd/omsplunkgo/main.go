// SPDX-License-Identifier: Apache-2.0

// Command omsplunkgo is the module's companion tool:
//
//	omsplunkgo check [-f /etc/rsyslog.conf] [-json] [-send-test-events] [-timeout 5s]
//
// check reads the rsyslog configuration through rsyslogd itself (`rsyslogd
// -N1`, with the module writing each omsplunkgo action's parameters as it
// parsed them: includes, token.file and defaults as rsyslogd would run
// them) and checks every action against every server it names, indexing
// nothing unless -send-test-events says so. Exit status 0: no error
// (warnings allowed); 1: an error; 2: the configuration cannot be read.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "check" {
		fmt.Fprintln(os.Stderr, "usage: omsplunkgo check [-f /etc/rsyslog.conf] [-json] [-send-test-events] [-timeout 5s] [-rsyslogd /usr/sbin/rsyslogd]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	conf := fs.String("f", "/etc/rsyslog.conf", "rsyslog configuration to check")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	send := fs.Bool("send-test-events", false, "index one marked test event per index the actions name (otherwise nothing is indexed)")
	timeout := fs.Duration("timeout", 5*time.Second, "per request")
	rsyslogd := fs.String("rsyslogd", "/usr/sbin/rsyslogd", "the rsyslogd that reads the configuration")
	fs.Parse(os.Args[2:])

	actions, err := readConfig(*rsyslogd, *conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "omsplunkgo check: "+err.Error())
		os.Exit(2)
	}
	marker := fmt.Sprintf("omsplunkgo check test event %d", time.Now().UnixNano())
	var all []finding
	for _, a := range actions {
		all = append(all, a.check(hec.CheckOptions{Timeout: *timeout, SendTestEvents: *send, Marker: marker})...)
	}
	status := 0
	for _, f := range all {
		if f.Level == hec.CheckError {
			status = 1
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(all)
	} else {
		for _, f := range all {
			where := f.Action
			if f.Server != "" {
				where += " " + f.Server
			}
			fmt.Printf("%-7s %s: %s: %s\n", f.Level, where, f.Check, f.Text)
		}
	}
	os.Exit(status)
}

// finding is one line of the check's report.
type finding struct {
	Action string `json:"action"`
	hec.Finding
}

// action is one omsplunkgo action as rsyslogd parsed it.
type action struct {
	name      string
	opts      map[string]string
	templates []string
}

func (a *action) check(o hec.CheckOptions) []finding {
	opts := map[string]string{}
	meta := false
	for k, v := range a.opts {
		if strings.HasPrefix(k, "slot.") {
			meta = meta || k == "slot.index" || k == "slot.sourcetype"
			continue // the shim's template positions
		}
		opts[k] = v
	}
	wrap := func(fs []hec.Finding) []finding {
		out := make([]finding, len(fs))
		for i, f := range fs {
			out[i] = finding{Action: a.name, Finding: f}
		}
		return out
	}
	cfg, err := hec.ParseOptions(opts)
	if err != nil {
		// Files rsyslogd cannot check at -N1 (the module starts after a
		// privilege drop) are said, but the servers are still checked.
		if cfg.Token == "" || len(cfg.Endpoints) == 0 {
			return wrap([]hec.Finding{{Check: "config", Level: hec.CheckError, Text: err.Error()}})
		}
		cfg.SpoolDir, cfg.ErrorFile = "", ""
		if verr := cfg.Validate(); verr != nil {
			return wrap([]hec.Finding{{Check: "config", Level: hec.CheckError, Text: verr.Error()}})
		}
	}
	out := wrap(hec.Check(cfg, o))
	if meta && len(cfg.IndexAllowed) == 0 {
		out = append(out, finding{Action: a.name, Finding: hec.Finding{Check: "routing", Level: hec.CheckWarning,
			Text: "index.template or sourcetype.template render per message and are not bounded: give index.allowed " +
				"(and sourcetype.allowed) so that a message cannot send itself to any index"}})
	}
	return out
}

// readConfig runs rsyslogd -N1 on conf with the module writing its
// actions to a private file, and reads them.
func readConfig(rsyslogd, conf string) ([]action, error) {
	dir, err := os.MkdirTemp("", "omsplunkgo-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // the file holds tokens
	dump := filepath.Join(dir, "actions")
	cmd := exec.Command(rsyslogd, "-N1", "-f", conf)
	cmd.Env = append(os.Environ(), "OMSPLUNKGO_CHECK_DUMP="+dump)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("rsyslogd -N1 -f %s refuses the configuration (fix that first):\n%s", conf, strings.TrimSpace(string(out)))
	}
	f, err := os.Open(dump)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%s has no omsplunkgo action (or loads another omsplunkgo.so than this tool's)", conf)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var actions []action
	var cur *action
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "action":
			actions = append(actions, action{name: rest, opts: map[string]string{}})
			cur = &actions[len(actions)-1]
		case "opt":
			name, value, _ := strings.Cut(rest, " ")
			if cur != nil {
				cur.opts[name] = unescape(value)
			}
		case "template":
			if cur != nil {
				cur.templates = append(cur.templates, rest)
			}
		}
	}
	return actions, sc.Err()
}

// unescape undoes the dump's \\ and \n.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
