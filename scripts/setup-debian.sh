#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what omsplunkgo needs to build, test and run on Debian 12, from
# Debian's packages (through scripts/apt.sh): make, gcc, rsyslog (the
# daemon the module plugs into), ca-certificates (TLS to a real Splunk),
# python3 (the benchmark's omprog helper), tinyproxy-bin (the HTTP proxy the
# tests and the benchmark's proxy row tunnel through; the binary only, no
# service is started), logrotate (the tests check the shipped snippet);
# and the Go that go.mod asks for
# (scripts/setup-go.sh). Safe to run again: it installs only what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/apt.sh install setup make gcc libc6-dev rsyslog ca-certificates python3 git tinyproxy-bin logrotate
echo "setup: ok ($("$(scripts/setup-go.sh)/go" version | cut -d' ' -f3), $(/usr/sbin/rsyslogd -v | awk 'NR==1 {print $1, $2}'))"
