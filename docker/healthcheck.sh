#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Healthy while rsyslogd runs and listens on $SYSLOG_PORT.
pid=$(cat /var/spool/rsyslog/rsyslogd.pid 2>/dev/null) || exit 1
kill -0 "$pid" 2>/dev/null || exit 1
port=$(printf '%04X' "${SYSLOG_PORT:-514}")
grep -q ":$port 00000000:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null
