#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every installed header compiles on its own, as C90, C99 and C11 with
# -pedantic, and as C++11, with every warning an error: applications
# and plugins include them from any of those languages.  New headers
# in include/vmconv/ are picked up by the glob.
. "$srcdir/functions.sh"
requires "${CC:-cc}"

cc=${CC:-cc}
headers=("$top_srcdir"/include/vmconv/*.h)
# Headers configure generates (version.h) live in the build tree.
for h in "$top_builddir"/include/vmconv/*.h; do
    [ -f "$h" ] && headers+=("$h")
done
[ ${#headers[@]} -ge 4 ] || { echo "FAIL: found only ${#headers[@]} headers"; exit 1; }

incs=(-I"$top_builddir/include" -I"$top_srcdir/include")
fail=0
try() {
    local what=$1 src=$2; shift 2
    if ! "$@" "${incs[@]}" -c "$src" -o "$tmp/out.o" 2>"$tmp/err"; then
        echo "FAIL: $what"
        cat "$tmp/err"
        fail=1
    fi
}

for h in "${headers[@]}"; do
    name=$(basename "$h")
    printf '#include <vmconv/%s>\n#include <vmconv/%s>\nint main(void) { return 0; }\n' \
        "$name" "$name" > "$tmp/t.c"
    for std in c90 c99 c11; do
        try "$name as -std=$std -pedantic" "$tmp/t.c" \
            "$cc" -std=$std -pedantic -Wall -Wextra -Werror
    done
    if command -v "${CXX:-g++}" >/dev/null 2>&1; then
        cp "$tmp/t.c" "$tmp/t.cc"
        try "$name as C++11" "$tmp/t.cc" \
            "${CXX:-g++}" -std=c++11 -pedantic -Wall -Wextra -Werror
    else
        echo "note: no C++ compiler, C++ not checked"
    fi
done
[ $fail -eq 0 ] && echo "checked ${#headers[@]} headers"
exit $fail
