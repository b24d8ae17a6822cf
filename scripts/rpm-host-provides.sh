#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rpmbuild checks a spec's BuildRequires against the RPM database. On a
# Debian host that database holds nothing (Debian's packages are in dpkg's),
# so every requirement would fail, and --nodeps would skip the check
# instead. This records, in a private database DBDIR, one package that
# provides what the host really has, at the versions it has: golang (the
# Go given), gcc and make. rpmbuild --define "_dbpath DBDIR" then checks
# the spec's requirements against the host's tools: a Go older than the
# spec asks for fails the build as it would on Fedora.
#
# Usage: scripts/rpm-host-provides.sh DBDIR GO
set -euo pipefail
db=${1:?usage: rpm-host-provides.sh DBDIR GO}
go=${2:?usage: rpm-host-provides.sh DBDIR GO}
db=$(mkdir -p "$db" && cd "$db" && pwd)
gover=$(GOTOOLCHAIN=local "$go" env GOVERSION | sed 's/^go//')
gccver=$(gcc -dumpfullversion)
makever=$(make --version | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/host.spec" <<SPEC
Name:      omsplunkgo-debian-host-tools
Version:   1
Release:   1
Summary:   The build tools of this Debian host, for rpmbuild's dependency check
License:   Apache-2.0
BuildArch: noarch
Provides:  golang = $gover
Provides:  gcc = $gccver
Provides:  make = $makever
%description
Records the versions of Go, gcc and make installed on this Debian host.
%files
SPEC
rpmbuild -bb --quiet --define "_topdir $work" --define "_dbpath $db" "$work/host.spec" >/dev/null
rpm --dbpath "$db" --initdb
rpm --dbpath "$db" -e omsplunkgo-debian-host-tools >/dev/null 2>&1 || true
rpm --dbpath "$db" -i --justdb --nodeps "$work"/RPMS/noarch/*.rpm
echo "rpm-host-provides: golang = $gover, gcc = $gccver, make = $makever (in $db)"
