#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what omsplunkgo needs to build, test and run on Debian 12, from
# Debian's packages: make, rsyslog (the daemon the module plugs into),
# ca-certificates (TLS to a real Splunk). Go (>= 1.26) and gcc are expected
# to be there already. Safe to run again: it installs only what is missing.
set -euo pipefail

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

need=()
command -v make >/dev/null 2>&1 || need+=(make)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
[ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
[ -x /usr/bin/python3 ] || need+=(python3) # Debian's: the benchmark runs /usr/bin/python3

if [ ${#need[@]} -gt 0 ]; then
	echo "setup: installing ${need[*]} from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# policy-rc.d keeps the package's own rsyslogd from being started here:
	# the project runs rsyslogd itself, with its own config.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
		$sudo chmod +x /usr/sbin/policy-rc.d
		trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
	for d in /usr/local/go/bin /usr/lib/go/bin; do
		[ -x "$d/go" ] && export PATH="$d:$PATH" && break
	done
fi
if ! command -v go >/dev/null 2>&1; then
	echo "setup: Go is not installed; omsplunkgo needs Go >= 1.26 (https://go.dev/dl/)" >&2
	exit 1
fi
gover=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n1.26\n' "$gover" | sort -V | head -1)" != "1.26" ]; then
	echo "setup: Go $gover is too old; omsplunkgo needs Go >= 1.26 (fasthttp requires it)" >&2
	exit 1
fi
echo "setup: ok ($(go version | cut -d' ' -f3), $(/usr/sbin/rsyslogd -v | awk 'NR==1 {print $1, $2}'))"
