#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds, then runs static checks, unit and fuzz tests, the ABI
# check against rsyslog's real headers, and the integration tests that run
# real rsyslogd with the built module against the project's HEC receiver.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
PATH="$(scripts/setup-go.sh):$PATH"
export PATH
exec make check
