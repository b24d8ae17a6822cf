#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds rsyslogd from Debian's source package of another release (e.g.
# bullseye: 8.2102, trixie: 8.2504) into a private prefix, so that the
# tests can run the module against the rsyslog versions in the field.
# Prints the path of that rsyslogd; its modules (imptcp, impstats) are in
# the same prefix.
#
# Usage: scripts/build-rsyslog.sh SUITE
# Cached in $OMSPLUNKGO_RSYSLOG_CACHE (default /var/cache/omsplunkgo), on
# the machine, not in the repository: a build takes a few minutes.
set -euo pipefail
suite=${1:?usage: build-rsyslog.sh SUITE (bullseye, trixie)}
cache=${OMSPLUNKGO_RSYSLOG_CACHE:-/var/cache/omsplunkgo}
prefix=$cache/rsyslog-$suite
if [ -x "$prefix/sbin/rsyslogd" ]; then
	echo "$prefix/sbin/rsyslogd"
	exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

"$(dirname "$0")/apt.sh" install build-rsyslog dpkg-dev bison flex pkg-config libestr-dev libfastjson-dev \
	zlib1g-dev make gcc

work=$cache/src-$suite
$sudo mkdir -p "$cache"
$sudo rm -rf "$work"
$sudo mkdir -p "$work"
$sudo chown "$(id -u):$(id -g)" "$work"
"$(dirname "$0")/apt.sh" source "$suite" "$work" "rsyslog/$suite"
src=$(ls -d "$work"/rsyslog-*/ | head -1)
echo "build-rsyslog: building $(basename "$src") from $suite into $prefix (a few minutes)" >&2
# A core rsyslogd with the inputs the tests use; no systemd, uuid or
# libgcrypt, which the tests need not.
(cd "$src" && ./configure --prefix="$prefix" --enable-imptcp --enable-impstats --disable-libsystemd \
	--disable-uuid --disable-libgcrypt --disable-fmhttp --disable-klog --disable-default-tests \
	--disable-generate-man-pages >configure.log 2>&1) || { tail -30 "$src/configure.log" >&2; exit 1; }
(cd "$src" && make -j"$(nproc)" >make.log 2>&1 && $sudo make install >install.log 2>&1) ||
	{ tail -30 "$src/make.log" >&2; exit 1; }
echo "$prefix/sbin/rsyslogd"
