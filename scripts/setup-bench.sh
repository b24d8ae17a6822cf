#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what `make bench` needs beyond scripts/setup-debian.sh, from
# Debian's packages: gnuplot-nox (plots), omprog (part of rsyslog),
# syslog-ng 3.38 for the http() comparison, and rsyslog's own omhttp, built
# from the installed rsyslog's Debian source package (scripts/build-omhttp.sh).
#
# syslog-ng is not installed: syslog-ng-core conflicts with rsyslog
# (installing it removes rsyslog). Its .debs are downloaded and unpacked
# into .cache/bench/syslog-ng, and run from there; only its shared-library
# dependencies, which conflict with nothing, are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh

scripts/apt.sh install setup-bench gnuplot-nox libivykis0 libnet1 libpcre3 libwrap0 libglib2.0-0 \
	libjson-c5 libcurl4 libcap2

dest=.cache/bench/syslog-ng
if [ ! -x "$dest/usr/sbin/syslog-ng" ]; then
	echo "setup-bench: unpacking syslog-ng-core and syslog-ng-mod-http into $dest (not installing them)"
	debs=.cache/bench/debs
	rm -rf "$debs" "$dest"
	mkdir -p "$debs" "$dest"
	scripts/apt.sh download setup-bench "$debs" syslog-ng-core syslog-ng-mod-http
	for d in "$debs"/*.deb; do
		dpkg-deb -x "$d" "$dest"
	done
fi
LD_LIBRARY_PATH="$dest/usr/lib/syslog-ng" "$dest/usr/sbin/syslog-ng" --version | head -1 | sed 's/^/setup-bench: ok, /'
scripts/build-omhttp.sh | sed 's/^/setup-bench: omhttp: /'
