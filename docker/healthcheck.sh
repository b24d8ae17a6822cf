#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Healthy while rsyslogd runs (the container's main process, pid 1: it
# writes no pid file) and listens on $SYSLOG_PORT.
[ "$(cat /proc/1/comm 2>/dev/null)" = rsyslogd ] || exit 1
port=$(printf '%04X' "${SYSLOG_PORT:-514}")
grep -q ":$port 00000000:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null
