// SPDX-License-Identifier: Apache-2.0

// Command omsplunkgo is the module's companion tool:
//
//	omsplunkgo check [-f /etc/rsyslog.conf] [-json] [-send-test-events] [-timeout 5s]
//	omsplunkgo replay (-action NAME | -server URL -token T) [-errorfile FILE]... [-window PREFIX]...
//
// check reads the rsyslog configuration through rsyslogd itself (`rsyslogd
// -N1`, with the module writing each omsplunkgo action's parameters as it
// parsed them: includes, token.file and defaults as rsyslogd would run
// them) and checks every action against every server it names, indexing
// nothing unless -send-test-events says so. Exit status 0: no error
// (warnings allowed); 1: an error; 2: the configuration cannot be read.
//
// replay sends again, to a destination the admin names, events the error
// file holds and window files no action claims (replay.go).
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  omsplunkgo check  [-f /etc/rsyslog.conf] [-json] [-send-test-events] [-timeout 5s] [-rsyslogd /usr/sbin/rsyslogd]
  omsplunkgo replay (-action NAME [-f /etc/rsyslog.conf] | -server URL -token T [-opt name=value]...)
                    [-errorfile FILE]... [-reason TEXT] [-code N] [-index-was IX] [-since T] [-until T] [-index IX]
                    [-window DIR/PREFIX]... [-dry-run]
  omsplunkgo replay -h   (every flag)`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "check":
		check(os.Args[2:])
	case "replay":
		replay(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}
