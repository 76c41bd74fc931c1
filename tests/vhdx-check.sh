#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vhdx check: clean images pass; damage a reader survives is a note;
# BAT entries out of the file, overlapping other objects, in a state
# the image type does not allow, or PARTIALLY_PRESENT without their
# sector bitmap are errors (exit 2), each named.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io python3
PY=$(python3 -c 'import sys; print(sys.executable)')
patch() { "$PY" "$srcdir/vhdx-patch.py" "$@" || fail "vhdx-patch.py $*"; }

# check_rc WANT IMAGE: run check, expect exit WANT, output in $tmp/check
check_rc() {
    local want=$1 img=$2 rc=0
    $IMGTOOL check "$img" > "$tmp/check" 2>&1 || rc=$?
    if [ "$rc" -ne "$want" ]; then
        cat "$tmp/check"
        fail "check $img: exit $rc, expected $want"
    fi
}
has() { grep -q -- "$1" "$tmp/check" || { cat "$tmp/check"; fail "check: no '$1'"; }; }

base=$tmp/base.vhdx
qemu_img create -q -f vhdx -o block_size=1M,block_state_zero=off "$base" 8M
qemu-io -f vhdx -c "write -q -P 0x5a 0 3M" -c "write -q -P 0xa5 6M 1M" "$base" ||
    fail qemu-io
check_rc 0 "$base"
has "supported=1 errors=0 leaks=0"

# Notes: one header copy, one region table copy, reserved BAT bits.
cp "$base" "$tmp/n.vhdx"
patch "$tmp/n.vhdx" header1 badcrc=1
patch "$tmp/n.vhdx" bytes offset=0x40000 hex=00000000
patch "$tmp/n.vhdx" bat index=6 reserved=0x55
check_rc 0 "$tmp/n.vhdx"
has "note: header 1 at offset 65536 is bad"
has "note: region table 2 at offset 262144 is bad (no 'regi' signature)"
has "note: 1 BAT entries have reserved bits set"

# Errors, all in one image: outside the file, on the metadata region,
# two blocks at one offset, a reserved state, PARTIALLY_PRESENT in a
# dynamic image.
cp "$base" "$tmp/e.vhdx"
patch "$tmp/e.vhdx" bat index=0 offset_mb=100000
patch "$tmp/e.vhdx" bat index=1 offset_mb=3
patch "$tmp/e.vhdx" bat index=6 offset_mb=10
patch "$tmp/e.vhdx" bat index=3 state=4
patch "$tmp/e.vhdx" bat index=4 state=7
check_rc 2 "$tmp/e.vhdx"
has "error: BAT entry 0 (payload, state 6, file offset 104857600000): its block lies outside the file"
has "error: BAT entry 1 at file offset 3145728 overlaps the metadata region at file offset 3145728"
has "error: BAT entry 6 at file offset 10485760 overlaps BAT entry 2 at file offset 10485760"
has "error: BAT entry 3 (payload, state 4, file offset 0): its state is not valid"
has "error: BAT entry 4 (payload, state 7, file offset 0): its state is not valid"
has "errors=5 "
# The good blocks still read; a bad one is refused with its reason.
expect_fail "read of a bad entry" $IMGTOOL read "$tmp/e.vhdx" "$tmp/o.raw"
grep -q "BAT entry 0 at offset 2097152 (state 6, file offset 104857600000): its block lies outside" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "read: reason"; }

# Differencing: PARTIALLY_PRESENT whose chunk has no sector bitmap, and
# a bitmap entry in a reserved state.
d=$tmp/fb
"$PY" "$srcdir/vhdx-make-diff.py" fallback "$d" || fail generator
check_rc 0 "$d/child.avhdx"
cp "$d/child.avhdx" "$d/nobm.avhdx"
patch "$d/nobm.avhdx" bat index=4096 state=0
check_rc 2 "$d/nobm.avhdx"
has "BAT entry 2 (payload, state 7, .*): it is partially present but its sector bitmap is not"
cp "$d/child.avhdx" "$d/sb3.avhdx"
patch "$d/sb3.avhdx" bat index=4096 state=3
check_rc 2 "$d/sb3.avhdx"
has "BAT entry 4096 (sector bitmap, state 3, .*): its state is not valid"
has "BAT entry 2 (payload, state 7, .*): it is partially present but its sector bitmap is not"
exit 0
