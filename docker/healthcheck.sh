#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Healthy while rsyslogd runs, listens on $SYSLOG_PORT (when set), and
# every omsplunkgo action ships. Each action with window files writes
# <workDirectory>/<prefix>.health every 5 s (hec/health.go); an action is
# unhealthy when its file, written since rsyslogd started, is older than
# 60 s (the action hangs), or when events have waited with HEC taking none,
# or its window has been full, for longer than HEC_UNHEALTHY_AFTER seconds
# (default 300). The container's HEALTHCHECK; outside a container:
#   RSYSLOGD_PID=$(systemctl show -p MainPID --value rsyslog) \
#   OMSPLUNKGO_WORKDIR=/var/spool/rsyslog sh healthcheck.sh
pid=${RSYSLOGD_PID:-1}
dir=${OMSPLUNKGO_WORKDIR:-/var/spool/rsyslog}
after=${HEC_UNHEALTHY_AFTER:-300}
[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = rsyslogd ] || { echo "rsyslogd (pid $pid) is not running"; exit 1; }
if [ -n "${SYSLOG_PORT:-}" ]; then
	port=$(printf '%04X' "$SYSLOG_PORT")
	grep -q ":$port 00000000:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null ||
		{ echo "nothing listens on port $SYSLOG_PORT"; exit 1; }
fi
now=$(date +%s)
started=$(stat -c %Y "/proc/$pid")
status=0
for f in "$dir"/omsplunkgo-*.health; do
	[ -f "$f" ] || continue
	t=0 stuck=0 full=0
	while IFS='=' read -r k v; do
		case $k in
		time) t=$v ;;
		stuck) stuck=$v ;;
		full) full=$v ;;
		esac
	done <"$f"
	[ "$t" -ge "$started" ] 2>/dev/null || continue # an earlier run's
	name=$(basename "$f" .health)
	if [ $((now - t)) -gt 60 ]; then
		echo "$name: no health update for $((now - t)) s"
		status=1
	fi
	if [ "$stuck" -gt 0 ] && [ $((now - stuck)) -gt "$after" ]; then
		echo "$name: events wait and HEC has taken none for $((now - stuck)) s"
		status=1
	fi
	if [ "$full" -gt 0 ] && [ $((now - full)) -gt "$after" ]; then
		echo "$name: the window has been full for $((now - full)) s"
		status=1
	fi
done
exit $status
