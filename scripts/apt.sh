#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The project's one way to Debian's packages: every setup and build script
# installs and fetches through it. It leaves the machine's apt sources as
# they are: suites the machine does not list (backports, the source
# packages of this or another release) go into a private apt configuration
# under $OMSPLUNKGO_CACHE/apt (default /var/cache/omsplunkgo/apt), made
# from the Debian mirror the machine already uses.
#
#   scripts/apt.sh install WHO PACKAGE...         install those not installed yet
#   scripts/apt.sh install-from SUITE WHO PACKAGE...  the same, taken from SUITE
#                                                    (e.g. bookworm-backports)
#   scripts/apt.sh source SUITE DIR SPEC...        unpack source packages (apt-get
#                                                    source SPEC, e.g. rsyslog=8.2302.0-1)
#   scripts/apt.sh download WHO DIR PACKAGE...     fetch .debs into DIR, not installing them
#
# WHO prefixes what it says. apt-get update runs only when something must be
# fetched and the lists are missing.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
cache=${OMSPLUNKGO_CACHE:-/var/cache/omsplunkgo}
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

# The mirror (and security mirror) of the machine's own Debian sources.
mirror() {
	local want=$1 uri
	uri=$( { sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
		awk '$1 == "deb" {print $2}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } |
		tr ' ' '\n' | grep -E '/debian(-security)?/?$' | { if [ "$want" = security ]; then grep security; else grep -v security; fi; } |
		head -1 || true)
	[ -n "$uri" ] || { echo "apt.sh: no Debian $want mirror in /etc/apt/sources.list*" >&2; exit 1; }
	echo "$uri"
}

# Earlier releases of the project added deb-src entries to the machine's
# own sources; the private configuration replaces them.
for f in /etc/apt/sources.list.d/omsplunkgo-*.sources /etc/apt/sources.list.d/omsplunkgo-*.list; do
	[ -e "$f" ] || continue
	echo "apt.sh: removing $f (an earlier omsplunkgo setup added it; the project keeps its own apt configuration now)" >&2
	$sudo rm -f "$f"
	cleaned=1
done
[ -z "${cleaned:-}" ] || $sudo apt-get update -qq >&2

# private NAME TYPES SUITES...: an apt configuration with the machine's
# sources plus TYPES entries for SUITES; prints apt-get's options for it.
private() {
	local name=$1 types=$2
	shift 2
	local dir=$cache/apt/$name main security
	main=$(mirror main)
	security=$(mirror security)
	if [ ! -f "$dir/sources.d/omsplunkgo.sources" ]; then
		$sudo mkdir -p "$dir/sources.d" "$dir/lists/partial" "$dir/cache/archives/partial"
		{
			printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
				"$main" "$codename" "$codename"
			printf 'Types: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
				"$security" "$codename"
			for s in "$@"; do
				uri=$main
				case $s in *-security) uri=$security ;; esac
				printf 'Types: %s\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
					"$types" "$uri" "$s"
			done
		} | $sudo tee "$dir/sources.d/omsplunkgo.sources" >/dev/null
	fi
	local opts=(-o "Dir::Etc::SourceParts=$dir/sources.d" -o Dir::Etc::SourceList=/dev/null
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
	if [ -z "$(ls "$dir/lists" 2>/dev/null | grep -v partial)" ]; then
		$sudo apt-get "${opts[@]}" update -qq >&2
	fi
	printf '%s\n' "${opts[@]}"
}

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}

# The package's own services stay stopped: the project runs rsyslogd
# itself, with its own config.
install_quietly() {
	local added=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
		$sudo chmod +x /usr/sbin/policy-rc.d
		added=1
	fi
	local rc=0
	$sudo apt-get "$@" >/dev/null || rc=$?
	[ -z "$added" ] || $sudo rm -f /usr/sbin/policy-rc.d
	return $rc
}

cmd=${1:?usage: see the head of scripts/apt.sh}
shift
case $cmd in
install)
	who=${1:?WHO}
	shift
	mapfile -t need < <(missing "$@")
	[ ${#need[@]} -gt 0 ] || exit 0
	echo "$who: installing ${need[*]} from Debian's packages" >&2
	if ! apt-cache show "${need[@]}" >/dev/null 2>&1; then
		$sudo apt-get update -qq >&2
	fi
	install_quietly install -y -qq --no-install-recommends "${need[@]}"
	;;
install-from)
	suite=${1:?SUITE} who=${2:?WHO}
	shift 2
	mapfile -t need < <(missing "$@")
	[ ${#need[@]} -gt 0 ] || exit 0
	mapfile -t opts < <(private "$suite" deb "$suite")
	echo "$who: installing ${need[*]} from Debian's $suite" >&2
	install_quietly "${opts[@]}" install -y -qq --no-install-recommends -t "$suite" "${need[@]}"
	;;
source)
	suite=${1:?SUITE} dir=${2:?DIR}
	shift 2
	suites=("$suite")
	[ "$suite" != "$codename" ] || suites=("$codename" "$codename-updates" "$codename-security")
	mapfile -t opts < <(private "src-$suite" deb-src "${suites[@]}")
	mkdir -p "$dir"
	(cd "$dir" && apt-get "${opts[@]}" source -qq "$@" >&2)
	;;
download)
	who=${1:?WHO} dir=${2:?DIR}
	shift 2
	mkdir -p "$dir"
	if ! (cd "$dir" && apt-get download "$@" >/dev/null 2>&1); then
		$sudo apt-get update -qq >&2
		(cd "$dir" && apt-get download "$@" >/dev/null) || { echo "$who: cannot download $*" >&2; exit 1; }
	fi
	;;
*)
	echo "apt.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
