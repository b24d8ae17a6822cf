#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds rsyslog's own omhttp output module for the benchmark, from the
# Debian source package of the installed rsyslog (Debian does not ship
# omhttp), out of tree, with rsyslog's own build system. Only the module
# is built; the installed rsyslogd loads it by path. Prints its path.
#
# Cached in .cache/bench/omhttp-<version>/ (not in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

src=$(cd "$(cshim/abi-check/fetch-rsyslog-source.sh .cache/rsyslog-src)" && pwd)
ver=$(basename "$src")
out=$PWD/.cache/bench/omhttp-${ver#rsyslog-}
if [ -f "$out/omhttp.so" ]; then
	echo "$out/omhttp.so"
	exit 0
fi

# What rsyslog's configure needs for a core build with omhttp.
scripts/apt.sh install build-omhttp pkg-config zlib1g-dev libestr-dev libfastjson-dev \
	libcurl4-openssl-dev make gcc

build=$out/build
rm -rf "$build"
mkdir -p "$build"
echo "build-omhttp: configuring $ver with --enable-omhttp (about a minute)" >&2
(cd "$build" && "$src/configure" --enable-omhttp --disable-libsystemd --disable-uuid --disable-libgcrypt \
	--disable-fmhttp --disable-klog --disable-default-tests --disable-generate-man-pages >configure.log 2>&1) ||
	{ tail -30 "$build/configure.log" >&2; exit 1; }
# omhttp needs nothing of the tree but config.h and the headers; its
# Makefile builds the module alone.
make -C "$build/contrib/omhttp" -j"$(nproc)" >"$build/make.log" 2>&1 || { tail -30 "$build/make.log" >&2; exit 1; }
cp "$build/contrib/omhttp/.libs/omhttp.so" "$out/omhttp.so"
echo "$out/omhttp.so"
