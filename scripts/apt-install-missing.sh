#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs those of the named Debian packages that are not installed yet
# (apt-get update first, only when something is missing). Every setup and
# build script of the project installs its tools through this.
#
# Usage: scripts/apt-install-missing.sh WHO PACKAGE...   (WHO prefixes the message)
set -euo pipefail
who=${1:?usage: apt-install-missing.sh WHO PACKAGE...}
shift
need=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
[ ${#need[@]} -gt 0 ] || exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "$who: installing ${need[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
