#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# An seSparse delta as ESXi leaves it on VMFS (vmdk-make-sesparse.py):
# the grain and grain-table areas are declared at full capacity but the
# file ends right after the last allocated grain.  It reads as the
# generator says (and as qemu-img reads it, where present), checks
# clean, and a grain pointing past the end of the file is refused
# naming the file and the offset.
. "$srcdir/functions.sh"
requires python3

d=$tmp/se
mkdir "$d"
last_gte=$(python3 "$srcdir/vmdk-make-sesparse.py" "$d") ||
    fail "vmdk-make-sesparse.py"
cd "$d"

size=$(stat -c %s se-sesparse.vmdk)
[ "$size" -lt $((64 << 20)) ] || fail "the extent is not truncated: $size"

"$IMGTOOL" read se.vmdk "$tmp/ours.raw" || fail "read failed"
cmp "$d/expected.raw" "$tmp/ours.raw" || fail "read differs from expected"
"$VMCONV" disk convert -O raw se.vmdk "$tmp/conv.raw" || fail "convert"
cmp "$d/expected.raw" "$tmp/conv.raw" || fail "convert differs"
"$IMGTOOL" check se.vmdk > "$tmp/check.txt" ||
    { cat "$tmp/check.txt"; fail "check"; }
if command -v "${QEMU_IMG:-qemu-img}" > /dev/null 2>&1; then
    requires_qemu_img
    qemu_img convert -O raw se.vmdk "$tmp/qemu.raw"
    cmp "$d/expected.raw" "$tmp/qemu.raw" || fail "qemu-img reads otherwise"
fi

# The last grain's entry moved one grain further: past the end of the
# file, though still inside the declared grain area.
entry=$(python3 -c "
import struct, sys
f = open('se-sesparse.vmdk', 'rb'); f.seek($last_gte)
e = struct.unpack('<Q', f.read(8))[0]
idx = ((e & 0x0FFF000000000000) >> 48) | ((e & 0x0000FFFFFFFFFFFF) << 12)
idx += 1
print((3 << 60) | ((idx & 0xfff) << 48) | (idx >> 12))")
python3 -c "
import struct
f = open('se-sesparse.vmdk', 'r+b'); f.seek($last_gte)
f.write(struct.pack('<Q', $entry))"
rc=0
"$IMGTOOL" read se.vmdk "$tmp/x.raw" > "$tmp/out.txt" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$tmp/out.txt"; fail "past EOF: exit $rc, not 1"; }
grep -q "se-sesparse.vmdk: grain table entry for extent offset [0-9]* points to byte $size, past the end of the file ($size bytes)" "$tmp/out.txt" ||
    { cat "$tmp/out.txt"; fail "past EOF: message"; }
rc=0
"$IMGTOOL" check se.vmdk > "$tmp/check.txt" 2>&1 || rc=$?
[ $rc -ne 0 ] || { cat "$tmp/check.txt"; fail "check: past EOF not found"; }
grep -q "past the end of the file" "$tmp/check.txt" ||
    { cat "$tmp/check.txt"; fail "check: message"; }
exit 0
