#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writing VMDK: a raw disk with data, written zeros, holes and a size
# that is not a multiple of the grain, written as monolithicSparse,
# streamOptimized and monolithicFlat; qemu-img check must be clean,
# qemu-img compare must find it identical, and our reader (and
# libvmdk's, when installed) must read it back.
. "$srcdir/functions.sh"
requires_qemu_img

# 40 MiB + 3 sectors: two grain tables, a last partial grain.
size=$((40 * 1048576 + 1536))
truncate -s $size "$tmp/in.raw"
put() { head -c "$2" /dev/urandom | dd of="$tmp/in.raw" bs=64K seek="$1" \
        oflag=seek_bytes iflag=fullblock conv=notrunc status=none; }
put 0 70000
put 1048576 2097152
put $((5 * 1048576 + 12345)) 100000
put $((33554432 - 30000)) 60000          # across the grain table border
put $((size - 1000)) 1000                # in the last partial grain
dd if=/dev/zero of="$tmp/in.raw" bs=65536 seek=300 count=16 conv=notrunc \
    status=none                           # written zeros: a hole in the file

pyvmdk=no
if /usr/bin/python3 -c 'import pyvmdk' 2>/dev/null; then pyvmdk=yes; fi

roundtrip() {
    local sub=$1 opts=$2 out=$tmp/$1.vmdk
    "$IMGTOOL" create vmdk "$opts" "$tmp/in.raw" "$out" ||
        fail "$sub: create failed"
    qemu_img check "$out" > "$tmp/qcheck.txt" 2>&1 ||
        { cat "$tmp/qcheck.txt"; fail "$sub: qemu-img check"; }
    qemu_img compare -f raw -F vmdk "$tmp/in.raw" "$out" > /dev/null ||
        fail "$sub: qemu-img compare found differences"
    [ "$(qemu_img info --output=json "$out" | grep -m1 '"virtual-size"' |
         tr -dc 0-9)" = $size ] || fail "$sub: virtual size"
    "$IMGTOOL" read "$out" "$tmp/back.raw" || fail "$sub: our read"
    cmp "$tmp/in.raw" "$tmp/back.raw" || fail "$sub: our read differs"
    "$IMGTOOL" check "$out" > "$tmp/check.txt" ||
        { cat "$tmp/check.txt"; fail "$sub: our check"; }
    "$IMGTOOL" info "$out" | grep -q "\"subformat\": \"$sub\"" ||
        fail "$sub: info subformat"
    if [ $pyvmdk = yes ]; then
        /usr/bin/python3 - "$out" "$tmp/in.raw" <<'PY' || fail "$sub: libvmdk"
import pyvmdk, sys
h = pyvmdk.handle()
h.open(sys.argv[1])
h.open_extent_data_files()
data = h.read_buffer(h.get_media_size())
sys.exit(0 if data == open(sys.argv[2], "rb").read() else 1)
PY
    fi
    rm -f "$tmp/back.raw"
}

roundtrip monolithicSparse ""
roundtrip monolithicSparse "subformat=monolithicSparse,adapter_type=lsilogic"
grep -qa 'ddb.adapterType = "lsilogic"' "$tmp/monolithicSparse.vmdk" ||
    fail "adapter_type not written"
grep -qa 'ddb.geometry.heads = "255"' "$tmp/monolithicSparse.vmdk" ||
    fail "SCSI geometry not written"
# Layout (spec §8): version 1, flags 0x3, grain 128, 512 GTEs, descriptor
# at sector 1 (20 sectors), the grains take only what was written.
[ "$(od -An -t x4 -j 4 -N 8 "$tmp/monolithicSparse.vmdk" | tr -s ' ')" = \
  " 00000001 00000003" ] || fail "monolithicSparse: version/flags"
[ "$(od -An -w24 -t u8 -j 20 -N 24 "$tmp/monolithicSparse.vmdk" | tr -s ' ')" = \
  " 128 1 20" ] || fail "monolithicSparse: grain/descriptor"
[ "$(stat -c %s "$tmp/monolithicSparse.vmdk")" -lt $((6 * 1048576)) ] ||
    fail "monolithicSparse: zero grains were stored"

roundtrip streamOptimized "subformat=streamOptimized"
f=$tmp/streamOptimized.vmdk
[ "$(od -An -t x4 -j 4 -N 8 "$f" | tr -s ' ')" = " 00000003 00030001" ] ||
    fail "streamOptimized: version/flags"
[ "$(od -An -t x8 -j 56 -N 8 "$f" | tr -d ' ')" = ffffffffffffffff ] ||
    fail "streamOptimized: gdOffset is not GD_AT_END"
# Footer marker, footer and end-of-stream marker close the file.
n=$(stat -c %s "$f")
[ "$(od -An -t u4 -j $((n - 1536 + 12)) -N 4 "$f" | tr -d ' ')" = 3 ] ||
    fail "streamOptimized: no footer marker"
[ "$(od -An -c -j $((n - 1024)) -N 4 "$f" | tr -d ' ')" = KDMV ] ||
    fail "streamOptimized: no footer"
cmp -s -i $((n - 512)):0 -n 512 "$f" /dev/zero ||
    fail "streamOptimized: no end-of-stream marker"
grep -qa 'ddb.adapterType = "lsilogic"' "$f" || fail "stream adapter"
grep -qa 'createType="streamOptimized"' "$f" || fail "stream createType"

roundtrip monolithicFlat "subformat=monolithicFlat,hwversion=11"
grep -q '^RW 81923 FLAT "monolithicFlat-flat.vmdk" 0$' \
    "$tmp/monolithicFlat.vmdk" || fail "monolithicFlat: extent line"
grep -q '^ddb.virtualHWVersion = "11"$' "$tmp/monolithicFlat.vmdk" ||
    fail "monolithicFlat: hwversion"
[ "$(stat -c %s "$tmp/monolithicFlat-flat.vmdk")" = $size ] ||
    fail "monolithicFlat: flat size"

# ESXi datastore disk: createType vmfs, a VMFS extent without offset.
roundtrip vmfs "subformat=vmfs"
grep -q '^RW 81923 VMFS "vmfs-flat.vmdk"$' "$tmp/vmfs.vmdk" ||
    fail "vmfs: extent line"
grep -q '^ddb.adapterType = "lsilogic"$' "$tmp/vmfs.vmdk" ||
    fail "vmfs: adapter"
# The same descriptor naming its extent by a datastore path that does
# not exist here: the extent beside it is used.
sed 's|"vmfs-flat.vmdk"|"/vmfs/volumes/5a1b/vm/vmfs-flat.vmdk"|' \
    "$tmp/vmfs.vmdk" > "$tmp/vmfs-abs.vmdk"
"$IMGTOOL" read "$tmp/vmfs-abs.vmdk" "$tmp/back.raw" || fail "vmfs: abs path"
cmp -s "$tmp/in.raw" "$tmp/back.raw" || fail "vmfs: abs path: wrong data"

# Bad options.
expect_fail "subformat" "$IMGTOOL" create vmdk subformat=vmfsSparse \
    "$tmp/in.raw" "$tmp/x.vmdk"
grep -q "not supported for writing yet" "$tmp/expect_fail.out" ||
    fail "subformat message"
expect_fail "adapter" "$IMGTOOL" create vmdk adapter_type=scsi \
    "$tmp/in.raw" "$tmp/x.vmdk"
[ ! -e "$tmp/x.vmdk" ] || fail "a failed create left a file"

exit 0
