#!/usr/bin/env bash
# Installs what `make deb` and `make rpm` need beyond scripts/setup-debian.sh,
# from Debian's packages: debhelper and dpkg-dev (dpkg-buildpackage), rpm
# (rpmbuild). Safe to run again: it installs only what is missing.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
need=()
for p in debhelper dpkg-dev rpm; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "setup-packaging: installing ${need[*]} from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
