#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv disk: the command-line contract on raw images (no other format
# needed): exit codes, refusals, atomic output, untouched source, JSON.
. "$srcdir/functions.sh"

V=$VMCONV

# A raw image with data, zeros and holes.
truncate -s 64M "$tmp/in.raw"
dd if=/dev/urandom of="$tmp/in.raw" bs=1M count=3 seek=5 conv=notrunc status=none
dd if=/dev/zero of="$tmp/in.raw" bs=1M count=2 seek=20 conv=notrunc status=none
printf 'end' | dd of="$tmp/in.raw" bs=1 seek=$((64 * 1024 * 1024 - 3)) conv=notrunc status=none
before=$(fingerprint "$tmp/in.raw")

# Usage errors exit 2.
rc=0; $V disk convert "$tmp/in.raw" "$tmp/x" 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "missing -O: exit $rc, expected 2"
rc=0; $V disk frobnicate 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "unknown subcommand: exit $rc, expected 2"
rc=0; $V nosuchcommand 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "unknown command: exit $rc, expected 2"
for c in convert info compare check create map; do
    $V disk $c --help | grep -q "Usage: vmconv disk $c" || fail "disk $c --help"
done
$V --version | grep -q '^vmconv [0-9]' || fail "--version"

# Convert and compare.
$V disk convert -O raw "$tmp/in.raw" "$tmp/out.raw"
cmp "$tmp/in.raw" "$tmp/out.raw" || fail "raw copy differs"
$V disk compare "$tmp/in.raw" "$tmp/out.raw" | grep -q 'Images are identical' ||
    fail "compare identical"
# Holes stay holes: the output allocates about what the input has data.
alloc=$(stat -c %b "$tmp/out.raw")
[ "$alloc" -lt $((6 * 2048)) ] || fail "output not sparse: $alloc blocks"

# Compare finds the first difference: exit 1 and the offset.
cp "$tmp/out.raw" "$tmp/diff.raw"
printf 'X' | dd of="$tmp/diff.raw" bs=1 seek=12345678 conv=notrunc status=none
rc=0; out=$($V disk compare "$tmp/in.raw" "$tmp/diff.raw") || rc=$?
[ $rc -eq 4 ] || fail "compare different: exit $rc, expected 4"
echo "$out" | grep -q 'Content mismatch at offset 12345678!' || fail "offset: $out"
# Errors are 2.
rc=0; $V disk compare "$tmp/in.raw" "$tmp/missing.raw" 2>"$tmp/err" || rc=$?
[ $rc -eq 1 ] || fail "compare missing file: exit $rc, expected 1"
grep -q "missing.raw" "$tmp/err" || fail "error does not name the file"
# Sizes: extra zeros are equal unless -s.
cp "$tmp/in.raw" "$tmp/longer.raw"; truncate -s 65M "$tmp/longer.raw"
$V -q disk compare "$tmp/in.raw" "$tmp/longer.raw" || fail "zero tail should compare equal"
rc=0; $V disk compare -s "$tmp/in.raw" "$tmp/longer.raw" >/dev/null || rc=$?
[ $rc -eq 4 ] || fail "compare -s sizes: exit $rc"

# The output may not be the source: refused, source untouched.
rc=0; $V disk convert -O raw "$tmp/in.raw" "$tmp/in.raw" 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "convert onto the source: exit $rc"
grep -q "refusing to overwrite" "$tmp/err" || fail "message: $(cat "$tmp/err")"
ln -s in.raw "$tmp/alias.raw"
rc=0; $V disk convert -O raw "$tmp/in.raw" "$tmp/alias.raw" 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "convert onto a symlink to the source: exit $rc"

# A full disk mid-copy: the error says so, nothing is left behind.
rc=0
(ulimit -f 2048; trap '' XFSZ; exec $V disk convert -O raw "$tmp/in.raw" "$tmp/full.raw") \
    2>"$tmp/err" || rc=$?
[ $rc -eq 3 ] || fail "full disk: exit $rc, expected 3: $(cat "$tmp/err")"
grep -q "full.raw" "$tmp/err" || fail "full disk message: $(cat "$tmp/err")"
[ ! -e "$tmp/full.raw" ] || fail "partial output left behind"
ls -a "$tmp" | grep -q vmconv- && fail "temporary file left behind"

# Bad output options are refused before anything is written.
rc=0; $V disk convert -O raw -o colour=red "$tmp/in.raw" "$tmp/o2.raw" 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "bad option: exit $rc"
grep -q "unknown option 'colour' (-o help lists the options of this format)$" "$tmp/err" ||
    fail "bad option message"
[ ! -e "$tmp/o2.raw" ] || fail "output created despite a bad option"

# --machine-readable: JSON lines ending with a done event.
$V disk convert --machine-readable -O raw "$tmp/in.raw" "$tmp/mr.raw" > "$tmp/mr.json"
python3 - "$tmp/mr.json" <<'PY' || fail "machine-readable output"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
assert events[-1]["event"] == "done", events[-1]
assert events[-1]["virtual-size"] == 64 << 20
p = [e for e in events if e["event"] == "progress"]
assert p and p[-1]["done"] == p[-1]["total"] == 64 << 20
PY

# info --json and check on raw.
$V disk info --json "$tmp/in.raw" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["format"] == "raw" and o["virtual-size"] == 64 << 20, o' ||
    fail "info --json"
rc=0; $V disk check "$tmp/in.raw" >/dev/null || rc=$?
[ $rc -eq 63 ] || fail "check on raw: exit $rc, expected 63"

# create and map.
$V disk create -f raw "$tmp/new.raw" 10M
[ "$(stat -c %s "$tmp/new.raw")" -eq $((10 << 20)) ] || fail "create size"
$V disk map "$tmp/in.raw" | grep -q data || fail "map"

# Verify after writing; durable output.
$V disk convert --verify -O raw "$tmp/in.raw" "$tmp/ver.raw"
$V disk convert --fsync -O raw "$tmp/in.raw" "$tmp/sync.raw"
cmp "$tmp/in.raw" "$tmp/sync.raw" || fail "--fsync output differs"

[ "$(fingerprint "$tmp/in.raw")" = "$before" ] || fail "the source changed"
echo "disk-cli: ok"
