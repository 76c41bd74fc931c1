#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# After `make check`: how many tests were skipped, and why.  A test
# that skips prints a line starting with "SKIP:" saying why; tests that
# ran but left a part out (a corpus file that is not redistributable
# and not present) print such a line too.  Arguments: the .log files.
skipped=0
partial=0
for log in "$@"; do
    trs=${log%.log}.trs
    [ -f "$log" ] && [ -f "$trs" ] || continue
    name=${log%.log}
    if grep -q '^:test-result: SKIP' "$trs"; then
        skipped=$((skipped + 1))
        why=$(grep -m1 '^SKIP:' "$log" | sed 's/^SKIP: *//')
        echo "  skipped: $name: ${why:-(no reason printed)}"
    elif grep -q '^SKIP:' "$log"; then
        partial=$((partial + 1))
        grep '^SKIP:' "$log" | sort -u | sed "s|^SKIP: *|  partly skipped: $name: |"
    fi
done
echo "Skipped: $skipped test(s) whole, $partial in part (reasons above;" \
     "none means everything ran)."
