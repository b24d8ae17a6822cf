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
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
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

func (a *action) check(o hec.CheckOptions) []finding {
	opts, meta := a.hecOptions()
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
