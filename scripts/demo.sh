#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job, from a fresh Debian 12 machine: installs what is missing,
# builds the module, and runs rsyslogd with omsplunkgo shipping to HEC.
#
#   scripts/demo.sh                      ships to the bundled HEC receiver
#   HEC_URL=https://splunk:8088 HEC_TOKEN=... scripts/demo.sh
#                                        ships to your Splunk instead
#
# rsyslogd listens for syslog over TCP on 127.0.0.1:${DEMO_PORT:-5514};
# the script sends ${DEMO_MESSAGES:-10000} sample lines, then keeps running
# (send your own with: logger -n 127.0.0.1 -P 5514 -T "hello") until
# Ctrl-C or ${DEMO_SECONDS:-0} seconds (0: no limit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
PATH="$(scripts/setup-go.sh):$PATH"
export PATH
make --no-print-directory all build/loadgen

port=${DEMO_PORT:-5514}
work=$(pwd)/.cache/demo
rm -rf "$work" && mkdir -p "$work/spool"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -z "${HEC_URL:-}" ]; then
	HEC_URL=http://127.0.0.1:${DEMO_HEC_PORT:-8088}
	HEC_TOKEN=${HEC_TOKEN:-demo-token}
	build/hecreceiver -addr "${HEC_URL#http://}" -token "$HEC_TOKEN" -show "${DEMO_SHOW:-20}" -out "$work/events.jsonl" &
	pids+=($!)
	sleep 0.5
	echo "demo: bundled HEC receiver on $HEC_URL: each event is shown as it arrives, up to ${DEMO_SHOW:-20} a second" \
		"(DEMO_SHOW), the rest counted per second; every event also goes to $work/events.jsonl"
else
	: "${HEC_TOKEN:?set HEC_TOKEN with HEC_URL}"
	echo "demo: shipping to $HEC_URL"
fi

sed -e "s|@WORK@|$work|g" -e "s|@MODULE@|$(pwd)/build/omsplunkgo.so|g" -e "s|@PORT@|$port|g" \
	-e "s|@HEC_URL@|$HEC_URL|g" -e "s|@HEC_TOKEN@|$HEC_TOKEN|g" \
	-e "s|@TLS_VERIFY@|${HEC_TLS_VERIFY:-on}|g" rsyslog-conf/demo.conf.in > "$work/rsyslog.conf"
/usr/sbin/rsyslogd -N1 -f "$work/rsyslog.conf"
/usr/sbin/rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" &
pids+=($!)
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
echo "demo: rsyslogd (pid ${pids[-1]}) takes syslog on tcp 127.0.0.1:$port; rsyslog's own log: $work/rsyslogd.log"
build/loadgen -addr "127.0.0.1:$port" -count "${DEMO_MESSAGES:-10000}"

if [ "${DEMO_SECONDS:-0}" -gt 0 ]; then
	sleep "$DEMO_SECONDS"
else
	echo "demo: running; Ctrl-C stops rsyslogd and the receiver"
	wait "${pids[-1]}"
fi
