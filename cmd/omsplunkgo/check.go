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
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/rsconf"
)

// check runs `omsplunkgo check`.
func check(args []string) {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	conf := fs.String("f", "/etc/rsyslog.conf", "rsyslog configuration to check")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	send := fs.Bool("send-test-events", false, "index one marked test event per index the actions name (otherwise nothing is indexed)")
	timeout := fs.Duration("timeout", 5*time.Second, "per request")
	rsyslogd := fs.String("rsyslogd", "/usr/sbin/rsyslogd", "the rsyslogd that reads the configuration")
	fs.Parse(args)

	actions, rc, err := readConfig(*rsyslogd, *conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "omsplunkgo check: "+err.Error())
		os.Exit(2)
	}
	marker := fmt.Sprintf("omsplunkgo check test event %d", time.Now().UnixNano())
	var all []finding
	for _, a := range actions {
		all = append(all, a.check(rc, hec.CheckOptions{Timeout: *timeout, SendTestEvents: *send, Marker: marker})...)
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

func (a *action) check(rc *rsconf.Conf, o hec.CheckOptions) []finding {
	opts, _ := a.hecOptions()
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
		cfg.WindowDir, cfg.ErrorFile = "", ""
		if verr := cfg.Validate(); verr != nil {
			return wrap([]hec.Finding{{Check: "config", Level: hec.CheckError, Text: verr.Error()}})
		}
	}
	routing := a.routing(&cfg, rc, &o)
	return append(wrap(hec.Check(cfg, o)), wrap(routing)...)
}

// routing says what the action's index and sourcetype templates can
// render, where the configuration tells (a constant, variables set to
// literals, lookup tables); the index values go into o for the test
// events.
func (a *action) routing(cfg *hec.Config, rc *rsconf.Conf, o *hec.CheckOptions) []hec.Finding {
	var out []hec.Finding
	say := func(level, format string, args ...any) {
		out = append(out, hec.Finding{Check: "routing", Level: level, Text: fmt.Sprintf(format, args...)})
	}
	if name := a.template("index.template"); name != "" {
		v := rc.Values(name)
		switch {
		case v.Unknown == "":
			o.Indexes, o.IndexesFrom = v.List, v.From
			var outside []string
			for _, ix := range v.List {
				if to, replaced := cfg.RoutedIndex(ix); replaced && to != ix {
					outside = append(outside, ix)
				}
			}
			say(hec.CheckOK, "index.template %q renders one of %d values: %s (%s)", name, len(v.List), shortList(v.List), v.From)
			if len(outside) > 0 {
				say(hec.CheckWarning, "index.template %q can render %s, outside index.allowed: those events go to %s, "+
					"marked orig_index - add them to index.allowed if they are meant", name, shortList(outside), orAction(cfg.IndexFallback))
			}
		case len(cfg.IndexAllowed) == 0:
			say(hec.CheckWarning, "index.template %q cannot be known before messages come (%s): give index.allowed (and "+
				"index.fallback) so that a message cannot send itself to any index", name, v.Unknown)
		default:
			say(hec.CheckOK, "index.template %q cannot be known before messages come (%s); index.allowed bounds it", name, v.Unknown)
		}
	}
	if name := a.template("sourcetype.template"); name != "" {
		v := rc.Values(name)
		switch {
		case v.Unknown == "":
			say(hec.CheckOK, "sourcetype.template %q renders one of %d values: %s (%s)", name, len(v.List), shortList(v.List), v.From)
		case len(cfg.SourcetypeAllowed) == 0:
			say(hec.CheckWarning, "sourcetype.template %q cannot be known before messages come (%s): give sourcetype.allowed "+
				"so that a message cannot choose any sourcetype", name, v.Unknown)
		}
	}
	return out
}

// shortList shows the first values of a list.
func shortList(vs []string) string {
	const show = 20
	q := make([]string, 0, min(len(vs), show))
	for _, v := range vs[:min(len(vs), show)] {
		if v == "" {
			v = "(empty: the action's index)"
		}
		q = append(q, v)
	}
	s := strings.Join(q, ", ")
	if len(vs) > show {
		s += fmt.Sprintf(" and %d more", len(vs)-show)
	}
	return s
}

func orAction(fallback string) string {
	if fallback == "" {
		return "the action's index"
	}
	return "index.fallback " + fallback
}
