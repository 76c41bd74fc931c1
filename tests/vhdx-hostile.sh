#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile VHDX input: one corrupted field at a time (CRCs fixed up so
# the reader gets to the field).  Every case must fail with exit 1 and
# a message naming the file: never a crash, a hang or a huge
# allocation.  Some damage is survivable and must stay so.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io python3 timeout
# The interpreter itself: version-manager shims cost 0.3 s a call.
PY=$(python3 -c 'import sys; print(sys.executable)')

patch() { "$PY" "$srcdir/vhdx-patch.py" "$@" || fail "vhdx-patch.py $*"; }
gen() { "$PY" "$srcdir/vhdx-make-diff.py" "$@" > /dev/null || fail "vhdx-make-diff.py $*"; }

base=$tmp/base.vhdx
qemu_img create -q -f vhdx -o block_size=1M,block_state_zero=off "$base" 8M
qemu-io -f vhdx -c "write -q -P 0x5a 0 3M" -c "write -q -P 0xa5 6M 1M" "$base" ||
    fail "qemu-io"
$IMGTOOL read "$base" "$tmp/base.raw" || fail "the base image must read"

n=0
cases=()
# refused NAME PATTERN PATCH-ARGS...: a copy of the base with that
# patch (applied in one batch below); reading it must fail cleanly
# with a message naming the file and matching PATTERN.  also
# PATCH-ARGS... adds a patch to the last case.
refused() {
    local name=$1 pattern=$2
    shift 2
    n=$((n + 1))
    cp "$base" "$tmp/case$n.vhdx"
    [ $# -gt 0 ] && also "$@"
    cases+=("$name|$pattern|$tmp/case$n.vhdx")
}
also() { echo "$tmp/case$n.vhdx $*" >> "$tmp/batch"; }

# expect_refused NAME PATTERN IMAGE
expect_refused() {
    local name=$1 pattern=$2 img=$3 rc=0
    timeout 20 $IMGTOOL read "$img" "$tmp/out.raw" vhdx > "$tmp/err" 2>&1 || rc=$?
    if [ "$rc" -ne 1 ]; then
        cat "$tmp/err"
        fail "$name: expected exit 1, got $rc"
    fi
    grep -q "$img" "$tmp/err" || { cat "$tmp/err"; fail "$name: message does not name the file"; }
    grep -q -- "$pattern" "$tmp/err" || { cat "$tmp/err"; fail "$name: message does not say '$pattern'"; }
    echo "ok: $name: $(cat "$tmp/err")"
}

refused "bad file signature" "no 'vhdxfile' signature" bytes offset=0 hex=7868647866696c66
refused "both header CRCs bad" "no valid header" header-both badcrc=1
refused "header version 2" "version 2 is not 1" header-both version=2
refused "equal sequence numbers, different headers" "same sequence number" \
    header1 seq=5
also header2 seq=5 log_length=0x200000
refused "log offset unaligned" "not 1 MiB aligned" header-both log_offset=0x100800
refused "log past EOF" "outside the file" header-both log_offset=0x40000000
refused "region entry count 5000" "entry count 5000" regions-both count=5000
refused "region offset past EOF" "outside the file" regions-both 0.offset=0x40000000
refused "region offset in header section" "header section" regions-both 0.offset=0
refused "regions overlap" "overlap" regions-both 0.offset=0x300000
refused "unknown required region" "marked required" regions-both count=3 \
    2.guid=11111111-2222-3333-4444-555555555555 2.offset=0x700000 \
    2.length=0x100000 2.required=1
refused "block size 3 MiB" "block size 3145728" meta block_size=3145728
refused "block size 0" "block size 0" meta block_size=0
refused "block size 512 MiB" "block size 536870912" meta block_size=0x20000000
refused "logical sector 1000" "logical sector size 1000" meta lss=1000
refused "physical sector 0" "physical sector size 0" meta pss=0
refused "virtual size 2^63" "virtual disk size 9223372036854775808" \
    meta disk_size=0x8000000000000000
refused "virtual size 0" "virtual disk size 0" meta disk_size=0
refused "virtual size not a sector multiple" "virtual disk size 8389000" \
    meta disk_size=8389000
refused "BAT too small for 64 TiB" "too small for the" meta disk_size=0x400000000000
refused "HasParent without locator" "without a parent locator" meta flags=2
refused "BAT entry offset past EOF" "outside the file" bat index=0 offset_mb=100000
refused "BAT entry in the header section" "outside the file" bat index=0 offset_mb=0
refused "BAT entry state 4" "state is not valid" bat index=2 state=4
refused "PARTIALLY_PRESENT in a dynamic image" "state is not valid" bat index=6 state=7
refused "BAT entry on the metadata region" "overlaps" bat index=0 offset_mb=3
refused "two blocks at one offset" "overlaps" bat index=6 offset_mb=8
"$PY" "$srcdir/vhdx-patch.py" - < "$tmp/batch" || fail "vhdx-patch.py batch"
for c in "${cases[@]}"; do
    IFS='|' read -r name pattern img <<< "$c"
    expect_refused "$name" "$pattern" "$img"
done

cp "$base" "$tmp/trunc.vhdx"
truncate -s 512K "$tmp/trunc.vhdx"
expect_refused "file truncated to 512 KiB" "too small" "$tmp/trunc.vhdx"
cp "$base" "$tmp/trunc2.vhdx"
truncate -s 9M "$tmp/trunc2.vhdx"
expect_refused "file truncated inside the data" "outside the file" "$tmp/trunc2.vhdx"

# Damaged logs (from the generator): no valid sequence, refused.
for v in log-bad-length log-bad-count log-loop log-no-tail; do
    gen "$v" "$tmp/$v"
    expect_refused "$v" "holds no valid sequence" "$tmp/$v/log.vhdx"
done

# Damaged parent locators (from the generator).
for v in locator-bad-count:"do not fit" locator-bad-offset:"not inside" \
         locator-odd-length:"length 3 is empty, odd" locator-bad-utf16:"entry 0: key: invalid UTF-16 (unpaired surrogate" \
         locator-bad-type:"unknown locator type" \
         locator-no-path:"names no parent file"; do
    gen "${v%%:*}" "$tmp/${v%%:*}"
    expect_refused "${v%%:*}" "${v#*:}" "$tmp/${v%%:*}/child.avhdx"
done

# Check lists BAT problems (exit 2) instead of failing to open.
cp "$base" "$tmp/bad.vhdx"
patch "$tmp/bad.vhdx" bat index=6 offset_mb=8
patch "$tmp/bad.vhdx" bat index=1 offset_mb=100000
rc=0
$IMGTOOL check "$tmp/bad.vhdx" > "$tmp/check" 2>&1 || rc=$?
cat "$tmp/check"
[ "$rc" -eq 2 ] || fail "check of a bad BAT: expected exit 2, got $rc"
grep -q "BAT entry 1 .*outside the file" "$tmp/check" || fail "check: outside"
grep -q "BAT entry 6 .*overlaps" "$tmp/check" || fail "check: overlap"

# Survivable damage: one header or region table copy bad reads fine and
# check notes it.
for what in header1 header2; do
    cp "$base" "$tmp/one.vhdx"
    patch "$tmp/one.vhdx" $what badcrc=1
    $IMGTOOL read "$tmp/one.vhdx" "$tmp/one.raw" || fail "$what bad: must read"
    cmp "$tmp/one.raw" "$tmp/base.raw" || fail "$what bad: data differs"
    $IMGTOOL check "$tmp/one.vhdx" > "$tmp/check" || fail "$what bad: check"
    grep -q "note: header . at offset .* is bad" "$tmp/check" ||
        { cat "$tmp/check"; fail "$what bad: no note"; }
done
cp "$base" "$tmp/one.vhdx"
patch "$tmp/one.vhdx" region1 0.offset=0x40000000
$IMGTOOL read "$tmp/one.vhdx" "$tmp/one.raw" || fail "region 1 bad: must read copy 2"
cmp "$tmp/one.raw" "$tmp/base.raw" || fail "region 1 bad: data differs"
$IMGTOOL check "$tmp/one.vhdx" | grep -q "note: region table 1 .* is bad" ||
    fail "region 1 bad: no note"
# Both headers valid, same sequence number, byte-identical: accepted.
cp "$base" "$tmp/same.vhdx"
dd if="$base" of="$tmp/same.vhdx" bs=64K skip=2 seek=1 count=1 conv=notrunc \
    status=none
$IMGTOOL read "$tmp/same.vhdx" "$tmp/one.raw" || fail "identical headers must read"
exit 0
