#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the .deb the way a Debian 13 builder would, and checks it:
#   1. a trixie chroot made of Debian's packages with mmdebstrap (once per
#      machine, in $OMSPLUNKGO_CACHE/chroot), holding trixie's own
#      golang-go, debhelper, gcc, make, rsyslog and lintian;
#   2. the release tarball unpacked there and built by dpkg-buildpackage,
#      build dependencies checked, with no network (a network namespace
#      without interfaces), twice: in two directories at two times;
#   3. the two builds' omsplunkgo.so and libomsplunkgo.so compared byte
#      for byte (reproducible builds);
#   4. the source package built there too; lintian on it and on the
#      package, which must report no error;
#   5. the package installed in the chroot, trixie's rsyslogd started there
#      with module(load="omsplunkgo"), messages sent to it and counted at
#      the bundled receiver (on loopback; the chroot shares the host's),
#      then the package purged.
#
# Usage: scripts/deb-chroot.sh DIST_TARBALL BUILD_DIR
#   BUILD_DIR holds hecreceiver and loadgen (make all build/loadgen).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=$(readlink -f "${1:?usage: deb-chroot.sh DIST_TARBALL BUILD_DIR}")
bin=$(readlink -f "${2:?usage: deb-chroot.sh DIST_TARBALL BUILD_DIR}")
cache=${OMSPLUNKGO_CACHE:-/var/cache/omsplunkgo}
root=$cache/chroot/trixie
say() { echo "deb-chroot: $*" >&2; }

# 1. The chroot.
if [ ! -x "$root/usr/bin/dpkg-buildpackage" ] || [ ! -x "$root/usr/bin/go" ]; then
	scripts/apt.sh install deb-chroot mmdebstrap
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
	mirror=${mirror:-$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)}
	say "making a Debian 13 build chroot in $root (once; about a minute)"
	rm -rf "$root.new"
	mkdir -p "$(dirname "$root")"
	mmdebstrap --quiet --variant=buildd \
		--include=golang-go,debhelper,rsyslog,lintian,ca-certificates,python3-minimal \
		trixie "$root.new" "$mirror" >&2
	rm -rf "$root"
	mv "$root.new" "$root"
fi

# in_chroot [unshare options] -- COMMAND...: COMMAND in the chroot, with
# /proc and /dev in a private mount namespace (the host's stay as they
# are), a builder's environment (HOME that does not exist, C.UTF-8).
in_chroot() {
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	unshare --mount --propagation private "${opts[@]}" -- sh -c '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent LANG=C.UTF-8 "$@"
	' sh "$root" "$@"
}

say "$(in_chroot -- go version), $(in_chroot -- rsyslogd -v | head -1)"
work=/build/omsplunkgo-$$
mkdir -p "$root$work"
cleanup() {
	# rsyslogd's own pid file names it; the process started is the same one
	# (unshare, sh and chroot exec into it).
	if [ -s "$root$work/run/rsyslogd.pid" ]; then
		kill "$(cat "$root$work/run/rsyslogd.pid")" 2>/dev/null || true
	fi
	[ -z "${rsyslogd_pid:-}" ] || kill "$rsyslogd_pid" 2>/dev/null || true
	[ -z "${rsyslogd_pid:-}" ] || wait "$rsyslogd_pid" 2>/dev/null || true
	[ -z "${recv_pid:-}" ] || kill "$recv_pid" 2>/dev/null || true
	in_chroot -- dpkg -P rsyslog-omsplunkgo >/dev/null 2>&1 || true
	rm -rf "${root:?}$work"
}
trap cleanup EXIT

# 2. Two offline builds, in two directories, at two times.
name=$(basename "$dist" .tar.gz)
for b in a b; do
	mkdir -p "$root$work/$b"
	tar -xzf "$dist" -C "$root$work/$b"
	say "building $name in $work/$b with no network"
	if ! in_chroot --net -- sh -c "cd $work/$b/$name && dpkg-buildpackage -b -us -uc" >"$root$work/build-$b.log" 2>&1; then
		tail -40 "$root$work/build-$b.log" >&2
		say "the offline build failed"
		exit 1
	fi
	sleep 1
done
deb=$(cd "$root$work/a" && ls rsyslog-omsplunkgo_*.deb)

# 3. Byte for byte.
for b in a b; do
	mkdir -p "$root$work/x-$b"
	dpkg-deb -x "$root$work/$b/$deb" "$root$work/x-$b"
done
for f in omsplunkgo.so libomsplunkgo.so; do
	fa=$(find "$root$work/x-a" -name "$f") fb=$(find "$root$work/x-b" -name "$f")
	if ! cmp -s "$fa" "$fb"; then
		keep=$cache/chroot/unreproducible
		rm -rf "$keep" && mkdir -p "$keep" && cp "$fa" "$keep/$f.a" && cp "$fb" "$keep/$f.b"
		say "$f differs between the two builds: not reproducible (both kept in $keep)"
		exit 1
	fi
done
say "the two builds' omsplunkgo.so and libomsplunkgo.so are identical ($(sha256sum "$fa" | cut -c1-16)...)"

# 4. The source package, and lintian on it and on the package.
mkdir -p "$root$work/src"
tar -xzf "$dist" -C "$root$work/src"
if ! in_chroot --net -- sh -c "cd $work/src/$name && dpkg-buildpackage -S -us -uc -d" >"$root$work/build-src.log" 2>&1; then
	tail -40 "$root$work/build-src.log" >&2
	say "the source package could not be built"
	exit 1
fi
dsc=$(cd "$root$work/src" && ls rsyslog-omsplunkgo_*.dsc)
for pkg in "$work/src/$dsc" "$work/a/$deb"; do
	if ! in_chroot -- lintian --fail-on error --suppress-tags-from-file /dev/null "$pkg" >"$root$work/lintian.log" 2>&1; then
		cat "$root$work/lintian.log" >&2
		say "lintian reports errors on $(basename "$pkg")"
		exit 1
	fi
	say "lintian $(basename "$pkg"): no errors ($(grep -c '^[WI]:' "$root$work/lintian.log" || true) warnings and notes)"
done

# 5. Installed and shipping, on trixie's rsyslog.
in_chroot -- dpkg -i "$work/a/$deb" >/dev/null
n=5000
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hec_port=$(free_port) syslog_port=$(free_port)
"$bin/hecreceiver" -addr "127.0.0.1:$hec_port" -token t -show 0 -out "$root$work/events.jsonl" -exit-after "$n" >"$root$work/receiver.log" 2>&1 &
recv_pid=$!
mkdir -p "$root$work/run"
cat >"$root$work/run/rsyslog.conf" <<CONF
global(workDirectory="$work/run")
module(load="imptcp")
module(load="omsplunkgo")
input(type="imptcp" address="127.0.0.1" port="$syslog_port" ruleset="hec")
ruleset(name="hec") {
  action(type="omsplunkgo" server="http://127.0.0.1:$hec_port" token="t")
}
CONF
in_chroot -- rsyslogd -N1 -f "$work/run/rsyslog.conf" >&2
# Started directly, not through the in_chroot function, so that $! is
# rsyslogd itself (unshare, sh and chroot exec into it), not a subshell.
unshare --mount --propagation private -- sh -c '
	root=$1; shift
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent LANG=C.UTF-8 "$@"
' sh "$root" rsyslogd -n -f "$work/run/rsyslog.conf" -i "$work/run/rsyslogd.pid" >"$root$work/rsyslogd.log" 2>&1 &
rsyslogd_pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$syslog_port") 2>/dev/null && break
	sleep 0.1
done
"$bin/loadgen" -addr "127.0.0.1:$syslog_port" -count "$n" >&2
for _ in $(seq 600); do
	kill -0 "$recv_pid" 2>/dev/null || break
	sleep 0.1
done
python3 - "$root$work/events.jsonl" "$n" <<'PY'
import json, re, sys
path, n = sys.argv[1], int(sys.argv[2])
seen = [0] * n
other = 0
for line in open(path):
    m = re.search(r"seq=(\d{9})", json.loads(line)["Event"])
    if m and int(m.group(1)) < n:
        seen[int(m.group(1))] += 1
    else:
        other += 1
missing = sum(1 for c in seen if c == 0)
dups = sum(c - 1 for c in seen if c > 1)
if missing or dups or other:
    sys.exit(f"deb-chroot: of {n} messages {missing} missing, {dups} duplicated, {other} unexpected")
print(f"deb-chroot: trixie's rsyslogd with the installed package delivered all {n} messages, each once", file=sys.stderr)
PY
