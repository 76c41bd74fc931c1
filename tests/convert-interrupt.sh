#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv convert interrupted during the copy of a disk.
#  - SIGINT, SIGTERM: exit 5, a message saying the partial output was
#    removed and the source not touched; no OUTDIR, no temporary
#    directory.
#  - SIGKILL: the temporary directory beside OUTDIR is the only trace;
#    the next conversion into OUTDIR removes it and succeeds.
# The source's sha256 and mtime are unchanged throughout.
. "$srcdir/functions.sh"
requires python3
V=$VMCONV

# Incompressible data, compressed into qcow2 on one thread: slow enough
# to interrupt.
dd if=/dev/urandom of="$tmp/big.raw" bs=1M count=256 status=none
before=$(fingerprint "$tmp/big.raw")
out=$tmp/out

# start: run the conversion in the background until its copy began.
start() {
    "$V" convert "$tmp/big.raw" --to example -O "$out" -o compress=on \
        --threads 1 --machine-readable > "$tmp/mr.json" 2> "$tmp/err" &
    pid=$!
    for i in $(seq 200); do
        grep -q '"phase-start", "phase": "copy"' "$tmp/mr.json" && return 0
        kill -0 $pid 2>/dev/null || break
        sleep 0.05
    done
    cat "$tmp/err"
    fail "the copy did not start"
}

temp_dirs() { ls -A "$tmp" | grep '^\.out\.vmconv-' || :; }

for sig in INT TERM; do
    start
    kill -$sig $pid
    rc=0; wait $pid || rc=$?
    [ $rc -eq 5 ] || fail "SIG$sig: exit $rc, expected 5: $(cat "$tmp/err")"
    grep -qxF "vmconv: interrupted; the partial output was removed, nothing was written to $out, and the source was not touched" \
        "$tmp/err" || fail "SIG$sig: message: $(cat "$tmp/err")"
    tail -n1 "$tmp/mr.json" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["event"] == "result" and r["exit"] == 5 and not r["ok"], r
assert r["error-kind"] == "interrupted" and r["outdir"] is None, r
' || fail "SIG$sig: result line: $(tail -n1 "$tmp/mr.json")"
    [ ! -e "$out" ] || fail "SIG$sig: $out left behind"
    [ -z "$(temp_dirs)" ] || fail "SIG$sig: temporary directory left: $(temp_dirs)"
    [ "$(fingerprint "$tmp/big.raw")" = "$before" ] || fail "SIG$sig: source changed"
done

# SIGKILL: nothing can clean up; only the temporary directory remains.
start
kill -KILL $pid
wait $pid 2>/dev/null || :
[ ! -e "$out" ] || fail "SIGKILL: $out appeared"
left=$(temp_dirs)
[ -n "$left" ] || fail "SIGKILL: expected the temporary directory to remain"
[ "$(ls -A "$tmp" | grep -v -e '^big.raw$' -e '^mr.json$' -e '^err$' \
      -e '^\.out\.vmconv-')" = "" ] || fail "SIGKILL: other traces: $(ls -A "$tmp")"
[ "$(fingerprint "$tmp/big.raw")" = "$before" ] || fail "SIGKILL: source changed"

# The next run into the same OUTDIR removes the dead process's
# directory, and converts.
"$V" convert "$tmp/big.raw" --to example -O "$out" --no-verify \
    > /dev/null 2> "$tmp/err" || fail "run after SIGKILL: $(cat "$tmp/err")"
[ -z "$(temp_dirs)" ] || fail "stale temporary directory not removed: $(temp_dirs)"
[ -f "$out/big.vmconv-example" ] || fail "run after SIGKILL: no output"
"$V" disk compare "$tmp/big.raw" "$out/big-disk1.qcow2" > /dev/null ||
    fail "run after SIGKILL: the disk differs"
[ "$(fingerprint "$tmp/big.raw")" = "$before" ] || fail "source changed"
exit 0
