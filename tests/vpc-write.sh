#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writing VHDs: raw -> vpc (dynamic, fixed, force_size on/off, block
# sizes, Azure) must be found identical by qemu-img compare, have the
# exact virtual size qemu-img reads, and read back identically with our
# reader.  Sizes that are and are not CHS-representable / 1 MiB aligned.
. "$srcdir/functions.sh"
requires_qemu_img

MiB=1048576

# mkraw FILE SIZE: holes, random data (aligned, unaligned, across a
# block boundary, in the last sector) and a run of written zeros.
mkraw() {
    local f=$1 size=$2
    rm -f "$f"
    truncate -s "$size" "$f"
    put() { head -c "$2" /dev/urandom | dd of="$f" bs=65536 iflag=fullblock oflag=seek_bytes seek="$1" conv=notrunc status=none; }
    put 0 65536
    put $((MiB + 512)) 3072
    put $((2 * MiB - 1024)) 4096
    dd if=/dev/zero of="$f" bs=65536 oflag=seek_bytes seek=$((2 * MiB + 65536)) count=1 conv=notrunc status=none
    put $((size - 512)) 512
}

qsize() {
    qemu_img info -f vpc --output=json "$1" |
        sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p'
}

# roundtrip NAME SIZE OPTS EXPECTED-VSIZE
roundtrip() {
    local name=$1 size=$2 opts=$3 want=$4 in=$tmp/$1.raw out=$tmp/$1.vhd
    mkraw "$in" "$size"
    "$IMGTOOL" create vpc "$opts" "$in" "$out" ||
        fail "$name: create vpc '$opts' failed"
    [ "$(qsize "$out")" = "$want" ] ||
        fail "$name: qemu-img reads virtual size $(qsize "$out"), want $want"
    qemu_img compare -q -f raw -F vpc "$in" "$out" ||
        fail "$name: qemu-img compare finds a difference"
    [ "$("$IMGTOOL" probe "$out")" = vpc ] || fail "$name: not probed as vpc"
    "$IMGTOOL" read "$out" "$tmp/back.raw"
    [ "$(stat -c %s "$tmp/back.raw")" = "$want" ] || fail "$name: our virtual size"
    cmp -n "$size" "$in" "$tmp/back.raw" || fail "$name: read back differs"
    if [ "$want" -gt "$size" ]; then
        cmp -i "$size:0" -n $((want - size)) "$tmp/back.raw" /dev/zero ||
            fail "$name: the rounded-up tail is not zeros"
    fi
    qemu_img convert -f vpc -O raw "$out" "$tmp/q.raw"
    cmp "$tmp/back.raw" "$tmp/q.raw" || fail "$name: qemu-img reads other data"
    "$IMGTOOL" check "$out" > "$tmp/check.out" ||
        { cat "$tmp/check.out"; fail "$name: our check finds problems"; }
    rm -f "$in" "$tmp/back.raw" "$tmp/q.raw"
}

# 8 MiB: 1 MiB aligned, not CHS-representable (CHS rounds to 8390656).
# 4212736: CHS-representable (121/4/17), not 1 MiB aligned.
# 5 MiB + 1536: neither.  1000000: not even whole sectors (rounded up).
for sub in dynamic fixed; do
    roundtrip $sub-8m $((8 * MiB)) "subformat=$sub" $((8 * MiB))
    roundtrip $sub-chs 4212736 "subformat=$sub" 4212736
    roundtrip $sub-odd $((5 * MiB + 1536)) "subformat=$sub" $((5 * MiB + 1536))
    roundtrip $sub-nosector 3000000 "subformat=$sub" 3000320
    roundtrip $sub-chs-round $((8 * MiB)) "subformat=$sub,force_size=off" 8390656
    roundtrip $sub-chs-exact 4212736 "subformat=$sub,force_size=off" 4212736
done
roundtrip dyn-512k $((5 * MiB + 1536)) "block_size=512K" $((5 * MiB + 1536))
roundtrip dyn-16m $((20 * MiB)) "block_size=16M" $((20 * MiB))
roundtrip dyn-4k $((MiB * 4 + 512)) "block_size=4K" $((MiB * 4 + 512))

# The default is dynamic, creator "qem2" (current size), 2 MiB blocks,
# and the trailing footer equals the copy at offset 0.
out=$tmp/dynamic-8m.vhd
"$IMGTOOL" info "$out" > "$tmp/info.json"
grep -q '"subformat": "dynamic"' "$tmp/info.json" || fail "default is not dynamic"
grep -q '"creator-app": "qem2"' "$tmp/info.json" || fail "creator is not qem2"
grep -q '"cluster-size": 2097152' "$tmp/info.json" || fail "block size is not 2 MiB"
cmp -n 512 "$out" <(tail -c 512 "$out") || fail "footer copies differ"

# Fixed: size + 512 bytes, footer at the end, sparse where the input was.
out=$tmp/fixed-8m.vhd
[ "$(stat -c %s "$out")" = $((8 * MiB + 512)) ] || fail "fixed: file size"
[ "$(tail -c 512 "$out" | head -c 8)" = conectix ] || fail "fixed: no footer at the end"
[ "$(du -k "$out" | cut -f1)" -lt 6144 ] || fail "fixed: output is not sparse"

# Azure: fixed, exact, 1 MiB multiple.
roundtrip azure $((8 * MiB)) "azure=on" $((8 * MiB))
out=$tmp/azure.vhd
"$IMGTOOL" info "$out" | grep -q '"subformat": "fixed"' || fail "azure: not fixed"
[ "$(stat -c %s "$out")" = $((8 * MiB + 512)) ] || fail "azure: file size"
mkraw "$tmp/a.raw" $((5 * MiB + 1536))
expect_fail azure-unaligned "$IMGTOOL" create vpc azure=on "$tmp/a.raw" "$tmp/a.vhd"
grep -q "a.vhd: virtual size 5244416 is not a multiple of 1 MiB, which Azure requires; the next valid size is 6291456" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "azure: unclear message"; }
[ ! -e "$tmp/a.vhd" ] || fail "azure: a failed create left a file"
ls -a "$tmp" | grep -q vmconv- && fail "azure: a temporary file was left"
roundtrip azure-round $((5 * MiB + 1536)) "azure=on,azure_round=on" $((6 * MiB))
expect_fail azure-dynamic "$IMGTOOL" create vpc azure=on,subformat=dynamic "$tmp/a.raw" "$tmp/a.vhd"
grep -q "azure=on needs a fixed VHD" "$tmp/expect_fail.out" || fail "azure+dynamic: message"

# Bad options.
expect_fail bad-subformat "$IMGTOOL" create vpc subformat=sparse "$tmp/a.raw" "$tmp/a.vhd"
grep -q "subformat: 'sparse' is not 'dynamic' or 'fixed'" "$tmp/expect_fail.out" || fail "subformat message"
expect_fail bad-block "$IMGTOOL" create vpc block_size=3M "$tmp/a.raw" "$tmp/a.vhd"
grep -q "block_size: 3145728 is not a power of two" "$tmp/expect_fail.out" || fail "block_size message"

# Too big for a VHD: 2040 GiB + 512 (a sparse input; nothing is copied).
truncate -s $((2040 * 1024 * MiB + 512)) "$tmp/huge.raw"
expect_fail too-big "$IMGTOOL" create vpc "" "$tmp/huge.raw" "$tmp/huge.vhd"
grep -q "larger than the VHD maximum of 2040 GiB" "$tmp/expect_fail.out" || fail "too-big: message"
exit 0
