#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Interrupting a conversion (SIGINT, SIGTERM) stops it promptly with exit
# status 5 and leaves nothing behind: no output, no temporary file.
. "$srcdir/functions.sh"
V=$VMCONV

# Incompressible data compressed on one thread: slow enough to interrupt.
dd if=/dev/urandom of="$tmp/in.raw" bs=1M count=256 status=none
for sig in INT TERM; do
    $V disk convert -m 1 -c -O qcow2 "$tmp/in.raw" "$tmp/out.qcow2" 2>"$tmp/err" &
    pid=$!
    sleep 1
    kill -$sig $pid
    rc=0; wait $pid || rc=$?
    [ $rc -eq 5 ] || fail "SIG$sig: exit $rc, expected 5: $(cat "$tmp/err")"
    grep -q cancelled "$tmp/err" || fail "SIG$sig: message: $(cat "$tmp/err")"
    [ ! -e "$tmp/out.qcow2" ] || fail "SIG$sig: output left behind"
    if ls -a "$tmp" | grep -q vmconv-; then fail "SIG$sig: temporary file left behind"; fi
done

# A full disk in the middle of the copy (the file size limit stands in
# for it): the error names the output, nothing is left behind.
rc=0
(ulimit -f 4096; trap '' XFSZ; exec $V disk convert -O qcow2 "$tmp/in.raw" "$tmp/full.qcow2") \
    2>"$tmp/err" || rc=$?
[ $rc -eq 3 ] || fail "full disk: exit $rc, expected 3: $(cat "$tmp/err")"
grep -q "full.qcow2.*File too large" "$tmp/err" || fail "full disk message: $(cat "$tmp/err")"
[ ! -e "$tmp/full.qcow2" ] || fail "full disk: partial output left behind"
if ls -a "$tmp" | grep -q vmconv-; then fail "full disk: temporary file left behind"; fi
