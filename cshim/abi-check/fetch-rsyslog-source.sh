#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Unpacks the Debian source package of the installed rsyslog into DEST
# (once) and prints the source tree's path. Adds a deb-src entry for the
# machine's own Debian mirror when none exists, and installs the headers
# rsyslog's headers include (libestr, libfastjson).
set -euo pipefail
dest=${1:?usage: fetch-rsyslog-source.sh DEST}
ver=$(dpkg-query -W -f='${Version}' rsyslog)
upstream=${ver%%-*}
upstream=${upstream#*:}
tree="$dest/rsyslog-$upstream"
if [ -f "$tree/runtime/rsyslog.h" ]; then
	echo "$tree"
	exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
			$sudo tee /etc/apt/sources.list.d/omsplunkgo-deb-src.sources >/dev/null
	else
		grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
			$sudo tee /etc/apt/sources.list.d/omsplunkgo-deb-src.list >/dev/null
	fi
	$sudo apt-get update -qq >&2
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
	dpkg-dev libestr-dev libfastjson-dev >&2
mkdir -p "$dest"
# The exact Debian revision may be gone from the mirror after an update;
# any revision of the same upstream version has the same headers.
if ! (cd "$dest" && apt-get source -qq "rsyslog=$ver" >&2); then
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	echo "fetch-rsyslog-source: rsyslog $ver source not available, taking rsyslog/$codename" >&2
	(cd "$dest" && apt-get source -qq "rsyslog/$codename" >&2)
	got=$(ls -d "$dest"/rsyslog-*/ | head -1)
	if [ "$(basename "$got")" != "rsyslog-$upstream" ]; then
		echo "fetch-rsyslog-source: mirror has $(basename "$got"), installed is $upstream; cannot check" >&2
		exit 1
	fi
fi
echo "$tree"
