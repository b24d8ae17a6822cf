#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes the Go that go.mod's toolchain line names available, without replacing any Go
# of the machine's, and prints its bin directory. Sourced setups add it to
# PATH:  PATH="$(scripts/setup-go.sh):$PATH"
#
# 1. A go on PATH (or in /usr/local/go, /usr/lib/go) that is new enough
#    is used as it is.
# 2. Otherwise Debian's golang from <release>-backports (1.23 on Debian
#    12; the release's own Go is too old to switch toolchains) is
#    installed through scripts/apt.sh, and its toolchain switch fetches
#    the exact Go of go.mod as the module golang.org/toolchain from the Go
#    module proxy, into $OMSPLUNKGO_CACHE/go (default /var/cache/omsplunkgo/go).
#
# OMSPLUNKGO_IGNORE_SYSTEM_GO=1 skips step 1 (the tests use it to check
# step 2 on a machine that has a Go).
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain line is the Go the project is developed and tested with;
# the go line, the oldest that builds it (distributions build with their
# own, from the dist tarball).
want=$(sed -n 's/^toolchain go\([0-9.]*\)$/\1/p' go.mod)
[ -n "$want" ] || want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)
[ -n "$want" ] || { echo "setup-go: go.mod names no Go version" >&2; exit 1; }
cache=${OMSPLUNKGO_CACHE:-/var/cache/omsplunkgo}

# new_enough GO: whether GO's version is at least go.mod's.
new_enough() {
	local have
	have=$(GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
	[ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}

if [ -z "${OMSPLUNKGO_IGNORE_SYSTEM_GO:-}" ]; then
	for g in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
		if [ -n "$g" ] && [ -x "$g" ] && new_enough "$g"; then
			dirname "$(readlink -f "$g")"
			exit 0
		fi
	done
fi

private=$cache/go/golang.org/toolchain@v0.0.1-go$want.linux-$(dpkg --print-architecture)/bin
if [ -x "$private/go" ] && new_enough "$private/go"; then
	echo "$private"
	exit 0
fi

codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
bootstrap_pkg=golang-1.23-go
case $codename in
trixie | forky | sid) bootstrap_pkg=golang-go ;; # their own Go can switch toolchains
esac
if [ "$bootstrap_pkg" = golang-go ]; then
	scripts/apt.sh install setup-go golang-go
	bootstrap=/usr/bin/go
else
	scripts/apt.sh install-from "$codename-backports" setup-go "$bootstrap_pkg"
	bootstrap=/usr/lib/go-1.23/bin/go
fi
echo "setup-go: fetching Go $want (golang.org/toolchain from the Go module proxy) into $cache/go" >&2
mkdir -p "$cache/go"
# GOMODCACHE keeps the toolchain private; GOFLAGS=-modcacherw lets a later
# clean remove it; the toolchain module is checked against go.sum's
# database as every module is.
GOTOOLCHAIN=go$want GOMODCACHE=$cache/go GOFLAGS=-modcacherw GOPATH=$cache/gopath "$bootstrap" version >&2
if ! [ -x "$private/go" ] || ! new_enough "$private/go"; then
	echo "setup-go: the Go $want toolchain did not arrive in $private" >&2
	exit 1
fi
echo "$private"
