#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that debian/copyright has a Files paragraph for every Go module
# vendored into a release tree, and none for a path that is not there:
# distributions require the license of vendored code to be stated.
#
# Usage: scripts/check-copyright.sh DISTDIR
set -euo pipefail
dist=${1:?usage: check-copyright.sh DISTDIR}
copyright=$dist/debian/copyright
fail=0
for mod in $(awk '$1 == "#" && $2 !~ /^#/ && NF >= 3 {print $2}' "$dist/vendor/modules.txt"); do
	if ! grep -qx "Files: vendor/$mod/\*" "$copyright"; then
		echo "check-copyright: debian/copyright has no 'Files: vendor/$mod/*' paragraph (state its license)" >&2
		fail=1
	fi
done
for dir in $(sed -n 's|^Files: \(vendor/.*\)/\*$|\1|p' "$copyright"); do
	if [ ! -d "$dist/$dir" ]; then
		echo "check-copyright: debian/copyright names $dir/*, which is not vendored" >&2
		fail=1
	fi
done
[ "$fail" = 0 ] && echo "check-copyright: every vendored module's license is stated"
exit "$fail"
