#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# imgtool check on qcow2: clean images (snapshots, bitmaps, compressed
# clusters, our own output) pass; a wrong refcount is an error (exit 2),
# a refcounted but unused cluster a leak (exit 3), like qemu-img check.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io

poke() {
    local esc
    esc=$(echo "$3" | sed 's/../\\x&/g')
    printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
peek64() { echo $((16#$(od -An -tx1 -j "$2" -N 8 "$1" | tr -d ' \n'))); }

# expect_check WHAT IMG RC: imgtool check exits RC, and so does qemu-img.
expect_check() {
    local what=$1 img=$2 want=$3 rc=0 qrc=0
    "$IMGTOOL" check "$img" > "$tmp/check.out" 2>&1 || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$tmp/check.out"; fail "$what: check exit $rc, expected $want"; }
    qemu_img check "$img" > "$tmp/qcheck.out" 2>&1 || qrc=$?
    [ "$qrc" -eq "$want" ] || { cat "$tmp/qcheck.out"; fail "$what: qemu-img check exit $qrc (test is wrong)"; }
}

# A busy image: two snapshots, compressed clusters, persistent bitmaps
# with data, rewritten clusters (COW'd away from the snapshots).
img=$tmp/busy.qcow2
qemu_img create -q -f qcow2 "$img" 8M
qemu-io -f qcow2 -c 'write -P 1 0 1M' "$img" > /dev/null
qemu_img snapshot -c s1 "$img"
qemu-io -f qcow2 -c 'write -P 2 512k 1M' -c 'write -c -P 3 4M 64k' "$img" > /dev/null
qemu_img snapshot -c s2 "$img"
qemu_img bitmap --add "$img" b0
qemu_img bitmap --add -g 128k "$img" b1
qemu-io -f qcow2 -c 'write -P 4 0 64k' -c 'write -P 5 2M 1M' "$img" > /dev/null
expect_check "snapshots and bitmaps" "$img" 0
grep -q "errors=0 leaks=0" "$tmp/check.out" || fail "busy image: no summary"

# Our own output, plain and compressed.
head -c 2M /dev/urandom > "$tmp/in.raw"
yes check | head -c 2M >> "$tmp/in.raw"
"$IMGTOOL" create qcow2 "" "$tmp/in.raw" "$tmp/ours.qcow2"
expect_check "our output" "$tmp/ours.qcow2" 0
"$IMGTOOL" create qcow2 compress=on "$tmp/in.raw" "$tmp/ourc.qcow2"
expect_check "our compressed output" "$tmp/ourc.qcow2" 0

# A plain image to damage: data cluster of guest offset 0 and its
# refcount entry (16-bit refcounts, 64 KiB clusters).
qemu_img create -q -f qcow2 "$tmp/base.qcow2" 4M
qemu-io -f qcow2 -c 'write -P 9 0 256k' "$tmp/base.qcow2" > /dev/null
l1=$(peek64 "$tmp/base.qcow2" 40)
l2=$(( $(peek64 "$tmp/base.qcow2" "$l1") & 0x00fffffffffffe00 ))
data=$(( $(peek64 "$tmp/base.qcow2" "$l2") & 0x00fffffffffffe00 ))
rt=$(peek64 "$tmp/base.qcow2" 48)
rb=$(peek64 "$tmp/base.qcow2" "$rt")
size=$(stat -c %s "$tmp/base.qcow2")

# A used cluster whose refcount says free: an error.
cp "$tmp/base.qcow2" "$tmp/bad.qcow2"
poke "$tmp/bad.qcow2" $((rb + data / 65536 * 2)) 0000
expect_check "refcount 0 on a data cluster" "$tmp/bad.qcow2" 2
grep -q "offset $data" "$tmp/check.out" || { cat "$tmp/check.out"; fail "refcount error: offset not named"; }

# The L2 table's refcount too low, seen from its COPIED flag too.
cp "$tmp/base.qcow2" "$tmp/bad2.qcow2"
poke "$tmp/bad2.qcow2" $((rb + l2 / 65536 * 2)) 0000
expect_check "refcount 0 on an L2 table" "$tmp/bad2.qcow2" 2

# An extra cluster at the end with refcount 1 that nothing uses: a leak.
cp "$tmp/base.qcow2" "$tmp/leak.qcow2"
truncate -s $((size + 65536)) "$tmp/leak.qcow2"
poke "$tmp/leak.qcow2" $((rb + size / 65536 * 2)) 0001
expect_check "leaked cluster" "$tmp/leak.qcow2" 3
grep -q "^leak: .*offset $size" "$tmp/check.out" || { cat "$tmp/check.out"; fail "leak not named"; }

# An L2 entry pointing into the L1 table: overlapping metadata.
cp "$tmp/base.qcow2" "$tmp/ovl.qcow2"
poke "$tmp/ovl.qcow2" $((l2 + 8)) "$(printf '%016x' $((l1 | 1 << 63)))"
rc=0; "$IMGTOOL" check "$tmp/ovl.qcow2" > "$tmp/check.out" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat "$tmp/check.out"; fail "overlap: exit $rc"; }
grep -q "overlaps the L1 table" "$tmp/check.out" || { cat "$tmp/check.out"; fail "overlap not reported"; }

# A COPIED flag cleared on a data cluster with refcount 1.
cp "$tmp/base.qcow2" "$tmp/copied.qcow2"
poke "$tmp/copied.qcow2" "$l2" "$(printf '%016x' "$data")"
expect_check "COPIED flag clear" "$tmp/copied.qcow2" 2
grep -q "COPIED" "$tmp/check.out" || { cat "$tmp/check.out"; fail "COPIED not reported"; }

# A refcount block offset past the end of the file.
cp "$tmp/base.qcow2" "$tmp/rbpast.qcow2"
poke "$tmp/rbpast.qcow2" $((rt + 8)) 0000010000000000
rc=0; "$IMGTOOL" check "$tmp/rbpast.qcow2" > "$tmp/check.out" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat "$tmp/check.out"; fail "refcount block past EOF: exit $rc"; }
exit 0
