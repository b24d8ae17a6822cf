#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that an RPM spec's bundled(golang(...)) provides name exactly the
# modules, at their versions, of a vendor/modules.txt.
#
# Usage: scripts/check-bundled.sh SPEC MODULES.TXT
set -euo pipefail
spec=${1:?usage: check-bundled.sh SPEC MODULES.TXT}
mods=${2:?usage: check-bundled.sh SPEC MODULES.TXT}
# RPM versions allow one '-': a Go pseudo-version v0.0.0-DATE-HASH is
# written 0.0.0^DATEgitHASH, as Fedora's Go packaging does.
want=$(awk '$1 == "#" && $2 !~ /^#/ && NF >= 3 {v=$3; sub(/^v/, "", v);
	if (v ~ /^[0-9.]+-[0-9]+-[0-9a-f]+$/) { n=split(v, p, "-"); v=p[1] "^" p[2] "git" p[3] }
	print $2 " " v}' "$mods" | sort)
have=$(sed -n 's/^Provides: *bundled(golang(\([^)]*\))) = \(.*\)$/\1 \2/p' "$spec" | sort)
if [ "$want" != "$have" ]; then
	echo "check-bundled: $spec's bundled(golang(...)) provides differ from $mods:" >&2
	diff <(echo "$have") <(echo "$want") | sed 's/^/  /' >&2 || true
	exit 1
fi
echo "check-bundled: $(echo "$want" | wc -l) bundled Go modules match"
