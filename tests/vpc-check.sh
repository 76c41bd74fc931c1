#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The structural check of VHDs: clean images pass; footer copies that
# differ, a bad or missing trailing footer, BAT entries outside the
# file, overlapping each other or the metadata are reported (exit 2).
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
requires qemu-io
patch_vhd() { python3 "$srcdir/vpc-patch.py" "$@"; }

base=$tmp/base.vhd
# 8 MiB dynamic, blocks 0 and 2 allocated, block 3 free.
qemu_img create -q -f vpc -o subformat=dynamic,force_size=on "$base" 8M
qemu-io -f vpc -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 4M 512k' "$base" >/dev/null
"$IMGTOOL" check "$base" > "$tmp/out" || { cat "$tmp/out"; fail "clean image: findings"; }

# finding NAME TEXT -- PATCH ARGS: a patched copy; check exits 2 with TEXT.
finding() {
    local name=$1 want=$2 img=$tmp/$1.vhd rc=0
    shift 3
    cp "$base" "$img"
    patch_vhd "$img" "$@"
    "$IMGTOOL" check "$img" > "$tmp/out" 2>&1 || rc=$?
    [ $rc -eq 2 ] || { cat "$tmp/out"; fail "$name: check exit $rc, not 2"; }
    grep -q "^error: .*$want" "$tmp/out" || { cat "$tmp/out"; fail "$name: no '$want'"; }
}

finding footers-differ "footer copy at offset 0 differs from the footer at offset" -- footerend timestamp 12345
finding tail-checksum "footer at offset [0-9]*: checksum is wrong" -- footerend checksum 0x1234 nosum
finding tail-cookie "no footer at the end of the file" -- footerend cookie garbage!
finding overlap-blocks "blocks of BAT entries 0 and 1 overlap" -- bat 1 "$(python3 -c "
import struct,sys; d=open('$base','rb').read(); print(struct.unpack('>I', d[1536:1540])[0])")"
finding overlap-header "block of BAT entry 3 (offset 512) overlaps the dynamic disk header" -- bat 3 1
finding outside "BAT entry 3: block at offset 549755813888 .* outside the file" -- bat 3 0x40000000
finding bat-over-header "block allocation table at offset 1024 overlaps the dynamic disk header" -- header table_offset 1024

# A missing trailing footer (the file cut short where nothing lives).
cp "$base" "$tmp/cut.vhd"
truncate -s -512 "$tmp/cut.vhd"
truncate -s +512 "$tmp/cut.vhd"
rc=0; "$IMGTOOL" check "$tmp/cut.vhd" > "$tmp/out" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q "no footer at the end" "$tmp/out" || { cat "$tmp/out"; fail "cut: not reported"; }

# Fixed images and the corpus image check clean.
qemu_img create -q -f vpc -o subformat=fixed "$tmp/fixed.vhd" 4M
"$IMGTOOL" check "$tmp/fixed.vhd" > "$tmp/out" || { cat "$tmp/out"; fail "fixed: findings"; }
exit 0
