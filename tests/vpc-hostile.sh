#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Damaged VHDs: each is refused with one error naming the file (exit 1),
# never a crash, a hang or a huge allocation.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
patch_vhd() { python3 "$srcdir/vpc-patch.py" "$@"; }

qemu_img create -q -f vpc -o subformat=dynamic,force_size=on "$tmp/dyn.vhd" 8M
qemu_img create -q -f vpc -o subformat=fixed,force_size=on "$tmp/fixed.vhd" 4M
if command -v qemu-io >/dev/null; then
    qemu-io -f vpc -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 4M 512k' \
        "$tmp/dyn.vhd" >/dev/null
fi
"$IMGTOOL" read "$tmp/dyn.vhd" "$tmp/ok.raw" || fail "the base image does not read"

# bad NAME BASE EXPECTED-TEXT [FORMAT] -- PATCH ARGS...: copy BASE,
# patch it, and require the read to fail with EXPECTED-TEXT after the
# file name.
bad() {
    local name=$1 base=$2 want=$3 fmt=$4 img=$tmp/$1.vhd
    shift 5
    cp "$tmp/$base.vhd" "$img"
    [ $# -eq 0 ] || patch_vhd "$img" "$@"
    local rc=0
    "$IMGTOOL" read "$img" "$tmp/out.raw" $fmt > "$tmp/expect_fail.out" 2>&1 || rc=$?
    [ $rc -eq 1 ] || { cat "$tmp/expect_fail.out"; fail "$name: exit $rc, not 1"; }
    if ! grep -q "^imgtool: $img: .*$want" "$tmp/expect_fail.out"; then
        cat "$tmp/expect_fail.out"
        fail "$name: message does not name the file or say '$want'"
    fi
    [ "$(wc -l < "$tmp/expect_fail.out")" -eq 1 ] ||
        { cat "$tmp/expect_fail.out"; fail "$name: more than one message"; }
}

bad footer-cookie     fixed "not a VHD: no footer cookie" vpc -- footer cookie XXXXXXXX
bad footer-checksum   dyn "footer checksum is wrong (stored 12345678, computed" "" -- footer checksum 0x12345678
bad disk-type-7       dyn "disk type 7 is not supported" "" -- footer disk_type 7
bad disk-type-0       fixed "disk type 0 is not supported" "" -- footer disk_type 0
bad current-size-huge dyn "current size 2190433321472 is larger than the VHD maximum" "" -- footer current_size 2190433321472
bad current-size-odd  dyn "current size 8389121 is not a multiple of 512" "" -- footer current_size 8389121
bad fixed-truncated   fixed "fixed VHD is truncated" "" -- footer current_size 0x800000
bad header-offset     dyn "dynamic disk header at offset 9999999 length 1024 is outside the file" "" -- footer data_offset 9999999
bad header-cookie     dyn "bad cookie (expected \"cxsparse\")" "" -- header cookie cxsparsX
bad header-checksum   dyn "header checksum is wrong" "" -- header checksum 1
bad block-size-0      dyn "block size 0 is not a power of two" "" -- header block_size 0
bad block-size-3      dyn "block size 3 is not a power of two" "" -- header block_size 3
bad block-size-256    dyn "block size 256 is not a power of two" "" -- header block_size 256
bad bat-entries-huge  dyn "4294967295 entries, more than the 1044480" "" -- header max_table_entries 0xFFFFFFFF
bad bat-entries-few   dyn "has 1 entries, too few for the virtual size 8388608" "" -- header max_table_entries 1
bad bat-offset-eof    dyn "block allocation table at offset 1099511627776 length 16 is outside the file" "" -- header table_offset 0x10000000000
bad bat-entry-eof     dyn "block allocation table entry 0 .*outside the file" "" -- bat 0 0x10000000
# A block that runs into the trailing footer.
size=$(stat -c %s "$tmp/dyn.vhd")
bad bat-entry-footer  dyn "entry 2 .*outside the file" "" -- bat 2 $(( (size - 512 - 2097152) / 512 ))

# Tiny and empty files given as vpc.
printf 'conectix' > "$tmp/tiny.vhd"
expect_fail tiny "$IMGTOOL" read "$tmp/tiny.vhd" "$tmp/out.raw" vpc
grep -q "tiny.vhd: file is 8 bytes, too small" "$tmp/expect_fail.out" || fail "tiny: message"
: > "$tmp/empty.vhd"
expect_fail empty "$IMGTOOL" read "$tmp/empty.vhd" "$tmp/out.raw" vpc

# Virtual PC's old 511-byte footer: said to be unsupported, not raw.
head -c $((4 * 1048576)) "$tmp/fixed.vhd" > "$tmp/old.vhd"
tail -c 512 "$tmp/fixed.vhd" | head -c 511 >> "$tmp/old.vhd"
[ "$("$IMGTOOL" probe "$tmp/old.vhd")" = vpc ] || fail "511-byte footer: not probed as vpc"
expect_fail old511 "$IMGTOOL" read "$tmp/old.vhd" "$tmp/out.raw"
grep -q "511-byte footer .* not supported yet" "$tmp/expect_fail.out" || fail "old511: message"

# A BAT entry past the end of the table's use (beyond the virtual
# size) is not read, so the image still reads; check reports it.
cp "$tmp/dyn.vhd" "$tmp/check.vhd"
patch_vhd "$tmp/check.vhd" header max_table_entries 8
patch_vhd "$tmp/check.vhd" bat 3 0x10000000
rc=0; "$IMGTOOL" check "$tmp/check.vhd" > "$tmp/check.out" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat "$tmp/check.out"; fail "check of a bad BAT entry: exit $rc"; }
grep -q "BAT entry 3: block at offset .* outside the file" "$tmp/check.out" ||
    { cat "$tmp/check.out"; fail "check: no BAT entry 3 finding"; }
exit 0
