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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/omsplunkgo/omsplunkgo/internal/rsconf"
)

// action is one omsplunkgo action as rsyslogd parsed it.
type action struct {
	name      string
	opts      map[string]string
	templates map[string]string // template slot -> template name
}

// template is the name of the template a parameter names
// ("index.template"), "" when the action has none.
func (a *action) template(param string) string {
	slot, ok := a.opts["slot."+strings.TrimSuffix(param, ".template")]
	if !ok {
		return ""
	}
	return a.templates[slot]
}

// hecOptions are the action's parameters as hec.ParseOptions takes them;
// meta says whether index or sourcetype come from a template.
func (a *action) hecOptions() (opts map[string]string, meta bool) {
	opts = map[string]string{}
	for k, v := range a.opts {
		if strings.HasPrefix(k, "slot.") {
			meta = meta || k == "slot.index" || k == "slot.sourcetype"
			continue // the shim's template positions
		}
		opts[k] = v
	}
	return opts, meta
}

// readConfig runs rsyslogd -N1 on conf with the module writing its
// actions to a private file, and rsyslogd the whole configuration
// (includes expanded, -o) to another, and reads them.
func readConfig(rsyslogd, conf string) ([]action, *rsconf.Conf, error) {
	dir, err := os.MkdirTemp("", "omsplunkgo-check-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir) // the files hold tokens
	dump, full := filepath.Join(dir, "actions"), filepath.Join(dir, "full.conf")
	cmd := exec.Command(rsyslogd, "-N1", "-f", conf, "-o", full)
	cmd.Env = append(os.Environ(), "OMSPLUNKGO_CHECK_DUMP="+dump)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, nil, fmt.Errorf("rsyslogd -N1 -f %s refuses the configuration (fix that first):\n%s", conf, strings.TrimSpace(string(out)))
	}
	text, _ := os.ReadFile(full)
	actions, err := readDump(dump)
	if os.IsNotExist(err) {
		return nil, nil, fmt.Errorf("%s has no omsplunkgo action (or loads another omsplunkgo.so than this tool's)", conf)
	}
	return actions, rsconf.Parse(string(text)), err
}

// readDump reads the actions the module wrote.
func readDump(dump string) ([]action, error) {
	f, err := os.Open(dump)
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
			actions = append(actions, action{name: rest, opts: map[string]string{}, templates: map[string]string{}})
			cur = &actions[len(actions)-1]
		case "opt":
			name, value, _ := strings.Cut(rest, " ")
			if cur != nil {
				cur.opts[name] = unescape(value)
			}
		case "template":
			slot, name, _ := strings.Cut(rest, " ")
			if cur != nil {
				cur.templates[slot] = name
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
