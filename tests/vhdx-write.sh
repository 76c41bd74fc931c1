#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VHDX made by qemu-img (dynamic and fixed, several block and log sizes,
# data from qemu-io) must read as qemu-img reads them; VHDX we write
# must pass qemu-img check, compare identical to the input with
# qemu-img compare and read back identically through our reader.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io python3

# ---- Reading what qemu-img writes ----------------------------------
n=0
for opts in "subformat=dynamic,block_size=1M" \
            "subformat=dynamic,block_size=8M,log_size=2M" \
            "subformat=dynamic,block_size=32M,block_state_zero=off" \
            "subformat=fixed,block_size=1M,block_state_zero=off" \
            "subformat=fixed,block_size=8M,block_state_zero=off" \
            "subformat=fixed,block_size=32M" \
            "subformat=dynamic,block_size=1M,block_state_zero=off"; do
    n=$((n + 1))
    img=$tmp/q$n.vhdx
    # 70 MiB + 512: the last block is short.
    qemu_img create -q -f vhdx -o "$opts" "$img" 73400832 ||
        fail "qemu-img create $opts"
    qemu-io -f vhdx -c "write -q -P 0x11 0 512" \
        -c "write -q -P 0x22 1M 3M" -c "write -q -P 0x33 9000k 4k" \
        -c "write -q -P 0x44 33M 1M" -c "write -q -P 0x55 70M 512" \
        "$img" || fail "qemu-io $opts"
    qemu_img convert -f vhdx -O raw "$img" "$tmp/qemu.raw"
    $IMGTOOL read "$img" "$tmp/ours.raw" || fail "read $opts"
    cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "$opts: differs from qemu-img"
    $IMGTOOL check "$img" > "$tmp/check" || { cat "$tmp/check"; fail "check $opts"; }
    echo "ok: read qemu-img's $opts"
done
# Our block status: a dynamic image's unwritten blocks are holes or
# zeros, never data.
$IMGTOOL map "$tmp/q7.vhdx" > "$tmp/map"
grep -q "^4194304 4194304 hole$" "$tmp/map" || { cat "$tmp/map"; fail "map q7"; }
$IMGTOOL map "$tmp/q1.vhdx" | grep -q "^4194304 4194304 zero$" ||
    fail "map q1: ZERO blocks"

# ---- Writing -------------------------------------------------------
# An input with data at both ends, inside blocks, a zero run and a
# short tail (not a multiple of 1 MiB).
in=$tmp/in.raw
size=$((75 * 1048576 + 4096))
truncate -s $size "$in"
for spec in "0 3" "5 1" "17 2" "40 1" "74 1"; do
    set -- $spec
    head -c $(($2 * 1048576)) /dev/urandom |
        dd of="$in" bs=1M seek=$1 conv=notrunc status=none
done
printf 'tail' | dd of="$in" bs=1 seek=$((size - 4)) conv=notrunc status=none

check_written() {
    local what=$1 out=$2 rc=0 fsize
    qemu_img check -f vhdx "$out" > "$tmp/qcheck" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$tmp/qcheck"; fail "$what: qemu-img check exit $rc"; }
    qemu_img compare -f raw -F vhdx "$in" "$out" ||
        fail "$what: qemu-img compare finds a difference"
    $IMGTOOL read "$out" "$tmp/back.raw" vhdx || fail "$what: our read"
    cmp "$tmp/back.raw" "$in" || fail "$what: our read differs"
    $IMGTOOL check "$out" > "$tmp/check" || { cat "$tmp/check"; fail "$what: our check"; }
    fsize=$(stat -c %s "$out")
    [ $((fsize % 1048576)) -eq 0 ] || fail "$what: file size $fsize is not a 1 MiB multiple"
}

for opts in "" "subformat=dynamic,block_size=1M" \
            "block_size=8M,log_size=2M,physical_sector_size=512" \
            "block_size=32M,block_state_zero=on" \
            "subformat=fixed" "subformat=fixed,block_size=1M"; do
    out=$tmp/w.vhdx
    rm -f "$out"
    $IMGTOOL create vhdx "$opts" "$in" "$out" || fail "create '$opts'"
    check_written "'$opts'" "$out"
    $IMGTOOL info "$out" > "$tmp/info"
    case $opts in
        *fixed*) grep -q '"subformat": "fixed"' "$tmp/info" || fail "info: fixed" ;;
        *) grep -q '"subformat": "dynamic"' "$tmp/info" || fail "info: dynamic" ;;
    esac
    grep -q '"creator": "vmconv"' "$tmp/info" || fail "info: creator"
    grep -q '"log": "empty"' "$tmp/info" || fail "info: log"
    echo "ok: wrote '$opts'"
done

# Defaults: 32 MiB blocks, 512/4096 sectors, unwritten blocks holes.
truncate -s 100M "$tmp/sparse.raw"
head -c 1048576 /dev/urandom |
    dd of="$tmp/sparse.raw" bs=1M seek=70 conv=notrunc status=none
$IMGTOOL create vhdx "" "$tmp/sparse.raw" "$tmp/d.vhdx" || fail "create default"
$IMGTOOL info "$tmp/d.vhdx" > "$tmp/info"
grep -q '"block-size": 33554432' "$tmp/info" || fail "default block size"
grep -q '"logical-sector-size": 512' "$tmp/info" || fail "default lss"
grep -q '"physical-sector-size": 4096' "$tmp/info" || fail "default pss"
$IMGTOOL map "$tmp/d.vhdx" > "$tmp/map"
cat > "$tmp/map.expected" <<EOF
0 67108864 hole
67108864 33554432 data
100663296 4194304 hole
EOF
diff -u "$tmp/map.expected" "$tmp/map" || fail "default: block status"
# Only the one block written is in the file.
[ "$(stat -c %s "$tmp/d.vhdx")" -eq $((4 * 1048576 + 33554432)) ] ||
    fail "dynamic image size $(stat -c %s "$tmp/d.vhdx")"
qemu_img compare -f raw -F vhdx "$tmp/sparse.raw" "$tmp/d.vhdx" ||
    fail "default: qemu-img compare"

# 4096-byte logical sectors: qemu-img 7.2 does not read them, so only
# qemu-img check is skipped; our reader must return the input.
$IMGTOOL create vhdx "logical_sector_size=4096,block_size=2M" "$in" \
    "$tmp/4k.vhdx" || fail "create 4k"
$IMGTOOL read "$tmp/4k.vhdx" "$tmp/back.raw" || fail "read 4k"
cmp "$tmp/back.raw" "$in" || fail "4k: differs"
$IMGTOOL info "$tmp/4k.vhdx" | grep -q '"logical-sector-size": 4096' ||
    fail "info 4k"

# A size that is not a multiple of 512 is rounded up (zeros).
head -c 1000000 /dev/urandom > "$tmp/odd.raw"
$IMGTOOL create vhdx "block_size=1M" "$tmp/odd.raw" "$tmp/odd.vhdx" ||
    fail "create odd size"
qemu_img check -f vhdx "$tmp/odd.vhdx" > /dev/null || fail "odd: qemu-img check"
qemu_img compare -f raw -F vhdx "$tmp/odd.raw" "$tmp/odd.vhdx" ||
    fail "odd: qemu-img compare"

# Bad options are refused.
for opts in block_size=3M block_size=512K subformat=diff log_size=1000 \
            logical_sector_size=1024 physical_sector_size=0; do
    expect_fail "option $opts" $IMGTOOL create vhdx "$opts" "$in" "$tmp/bad.vhdx"
    [ ! -e "$tmp/bad.vhdx" ] || fail "option $opts: output left behind"
done
exit 0
