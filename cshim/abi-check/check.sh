#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks cshim/rsyslog_abi.h against rsyslog's real headers.
# Usage: check.sh RSYSLOG_SOURCE_DIR   (an unpacked rsyslog source tree)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: check.sh RSYSLOG_SOURCE_DIR}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# rsyslog's headers expect configure's config.h; these are the only
# settings they consult for the declarations checked here.
printf '#define HAVE_ATOMIC_BUILTINS 1\n#define HAVE_ATOMIC_BUILTINS64 1\n' > "$out/config.h"
inc=(-I"$out" -I"$src" -I"$src/runtime" -I"$src/grammar" -I/usr/include/libfastjson)

# glblGetWorkDirRaw took no argument before 8.2202.
realdefs=()
grep -q 'glblGetWorkDirRaw(void)' "$src/runtime/glbl.h" && realdefs+=(-DGLBL_WORKDIR_VOID)
gcc -std=gnu11 -Wall -Werror "${inc[@]}" "${realdefs[@]}" -c "$here/real.c" -o "$out/types.o"
gcc -std=gnu11 -Wall -Werror -DABI_PRINT_ONLY "${inc[@]}" "$here/real.c" -o "$out/real"
# What ours.c needs to know of the real statsobj interface: its version
# and size (the shim supports several; see cshim/stats.c).
printf '#include "config.h"\n#include "rsyslog.h"\n#include "obj.h"\n#include "statsobj.h"\n#include <stdio.h>\nint main(void) { printf("-DSTATSOBJ_VERSION=%%d -DSTATSOBJ_REAL_SIZE=%%zu\\n", statsobjCURR_IF_VERSION, sizeof(statsobj_if_t)); return 0; }\n' > "$out/statsver.c"
gcc -std=gnu11 -Wall -Werror "${inc[@]}" "$out/statsver.c" -o "$out/statsver"
read -r -a statsdefs <<< "$("$out/statsver")"
gcc -std=gnu11 -Wall -Wextra -Werror "${statsdefs[@]}" -c "$here/ours.c" -o "$out/ours-types.o"
gcc -std=gnu11 -Wall -Wextra -Werror "${statsdefs[@]}" -DABI_PRINT_ONLY "$here/ours.c" -o "$out/ours"
"$out/real" > "$out/real.txt"
"$out/ours" > "$out/ours.txt"
if ! diff -u "$out/real.txt" "$out/ours.txt"; then
	echo "abi-check: cshim/rsyslog_abi.h differs from $src (- real, + ours)" >&2
	exit 1
fi
echo "abi-check: rsyslog_abi.h matches $(basename "$src"): $(wc -l < "$out/ours.txt") values, sizes and offsets, $(grep -c "chk_" "$here/signatures.h") function and variable declarations"
