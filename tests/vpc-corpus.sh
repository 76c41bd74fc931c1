#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VHD corpus images read as qemu-img reads them (guest-data sha256 from
# PROVENANCE.md), the 127 GiB Hyper-V image by block status without
# expanding it, and the dfvfs images with wrong footer checksums refused.
. "$srcdir/functions.sh"
requires_qemu_img
requires_corpus

# vsize IMAGE: the virtual size our info reports.
vsize() {
    "$IMGTOOL" info "$1" | sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p'
}

if corpus_has images/dissect/dynamic.vhd.gz; then
    # Dynamic VHD from Windows 10: data blocks padded to 4 KiB, holes.
    img=$(corpus_get images/dissect/dynamic.vhd.gz)
    [ "$("$IMGTOOL" probe "$img")" = vpc ] || fail "dynamic.vhd: not probed as vpc"
    "$IMGTOOL" read "$img" "$tmp/dyn.raw"
    [ "$(sha "$tmp/dyn.raw")" = ecff2ef6615a3cddc6a6885f1c6d9cf13a232697e1dc6575f2c2f01f57247784 ] ||
        fail "dynamic.vhd: guest data differs from qemu-img's"
    [ "$(vsize "$img")" = 10485760 ] || fail "dynamic.vhd: wrong virtual size"
    "$IMGTOOL" map "$img" > "$tmp/dyn.map"
    grep -q '^4194304 2097152 hole$' "$tmp/dyn.map" ||
        { cat "$tmp/dyn.map"; fail "dynamic.vhd: unallocated block 2 is not a hole"; }
    "$IMGTOOL" check "$img" || fail "dynamic.vhd: check found problems"
fi

# qemu-made dynamic VHD, creator "qemu": the CHS size is the virtual
# size (4212736, not the 4 MiB of the ext2 file system inside).
img=$(corpus_get images/dfvfs/ext2.vhd)
[ "$(vsize "$img")" = 4212736 ] || fail "ext2.vhd: virtual size is not the CHS size 4212736"
[ "$(vsize "$img")" = "$(qemu_img info --output=json "$img" |
    sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p')" ] ||
    fail "ext2.vhd: virtual size differs from qemu-img's"
"$IMGTOOL" read "$img" "$tmp/ext2.raw"
[ "$(sha "$tmp/ext2.raw")" = 870be7ae16c1fa8faab05c6eb9205dc9a7ae35c5f552c5cf8a267c0bc6a5cb99 ] ||
    fail "ext2.vhd: guest data differs from qemu-img's"
"$IMGTOOL" info "$img" | grep -q '"virtual-size-from": "chs"' ||
    fail "ext2.vhd: info does not say the size comes from CHS"

# Hyper-V 2012 R2, 127 GiB, nothing allocated: all one hole, read
# into a sparse file that qemu-img finds identical (both sides sparse,
# so nothing is expanded).
img=$(corpus_get images/qemu-iotests/hyperv2012r2-dynamic.vhd.bz2)
[ "$(vsize "$img")" = 136365211648 ] || fail "hyperv2012r2: wrong virtual size"
[ "$("$IMGTOOL" map "$img")" = "0 136365211648 hole" ] ||
    fail "hyperv2012r2: map is not one hole"
"$IMGTOOL" read "$img" "$tmp/hv.raw"
[ "$(stat -c %s "$tmp/hv.raw")" = 136365211648 ] || fail "hyperv2012r2: raw size"
[ "$(du -k "$tmp/hv.raw" | cut -f1)" -lt 1024 ] || fail "hyperv2012r2: raw output not sparse"
qemu_img compare -f vpc -F raw "$img" "$tmp/hv.raw" ||
    fail "hyperv2012r2: qemu-img compare finds a difference"
qemu_img map --output=json "$img" | grep -q '"length": 136365211648, .*"data": false' ||
    fail "hyperv2012r2: qemu-img map disagrees"
rm -f "$tmp/hv.raw"

# Hand-edited dfvfs images with wrong footer checksums: refused, once,
# naming the file and both checksums.
for name in image image-differential; do
    img=$(corpus_get images/dfvfs/$name.vhd)
    expect_fail "$name.vhd" "$IMGTOOL" read "$img" "$tmp/out.raw"
    grep -q "$name.vhd: footer at offset 0: footer checksum is wrong (stored fffff683, computed ffff" \
        "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "$name.vhd: unclear message"; }
done
exit 0
