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
	"fmt"
	"os"
)

const usage = `usage:
  omsplunkgo check [-f /etc/rsyslog.conf] [-json] [-send-test-events] [-timeout 5s] [-rsyslogd /usr/sbin/rsyslogd]`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "check":
		check(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}
