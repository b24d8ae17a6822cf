#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Unpacks the Debian source package of the installed rsyslog into DEST
# (once) and prints the source tree's path; installs the headers rsyslog's
# headers include (libestr, libfastjson). Both through scripts/apt.sh,
# which keeps the machine's apt sources as they are.
set -euo pipefail
dest=${1:?usage: fetch-rsyslog-source.sh DEST}
apt=$(dirname "$0")/../../scripts/apt.sh
ver=$(dpkg-query -W -f='${Version}' rsyslog)
upstream=${ver%%-*}
upstream=${upstream#*:}
tree="$dest/rsyslog-$upstream"
if [ -f "$tree/runtime/rsyslog.h" ]; then
	echo "$tree"
	exit 0
fi
"$apt" install fetch-rsyslog-source dpkg-dev libestr-dev libfastjson-dev
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# The exact Debian revision may be gone from the mirror after an update;
# any revision of the same upstream version has the same headers.
if ! "$apt" source "$codename" "$dest" "rsyslog=$ver" 2>/dev/null; then
	echo "fetch-rsyslog-source: rsyslog $ver source not available, taking rsyslog/$codename" >&2
	"$apt" source "$codename" "$dest" "rsyslog/$codename"
	got=$(ls -d "$dest"/rsyslog-*/ | head -1)
	if [ "$(basename "$got")" != "rsyslog-$upstream" ]; then
		echo "fetch-rsyslog-source: mirror has $(basename "$got"), installed is $upstream; cannot check" >&2
		exit 1
	fi
fi
echo "$tree"
