#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every source file of the project says its license in an SPDX line
# near its top (COPYING: LGPL-2.1-or-later).  Test data and the frozen
# copy of the version 1 headers are not sources of ours to mark.
. "$srcdir/functions.sh"
cd "$top_srcdir" || fail "no source tree"
missing=0
while IFS= read -r f; do
    head -n 3 "$f" | grep -q 'SPDX-License-Identifier: LGPL-2.1-or-later' && continue
    echo "no SPDX line: $f"
    missing=$((missing + 1))
done < <(find . \( -path ./tests/data -o -path ./tests/expected \
                   -o -path ./tests/old-plugins -o -path ./build -o -path './build-*' \
                   -o -path ./autom4te.cache -o -path ./.git -o -path ./m4 \
                   -o -path ./build-aux -o -name '_build' -o -name '*.dir' \) -prune -o \
              -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' \
                   -o -name 'Makefile.am' -o -name '*.mk' -o -name configure.ac \) -print |
          grep -v -e '/config\.h$' -e '/version\.h$' -e '/libtool$' | sort)
[ $missing -eq 0 ] || fail "$missing source files lack the SPDX line"
echo "ok: every source file has its SPDX line"
