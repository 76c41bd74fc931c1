#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ESXi delta disks: a vmfsSparse (COWD) and an seSparse redo log over a
# flat "vmfs" base, made by vmdk-make-esx.py from the spec's layouts and
# read exactly as qemu-img reads them; damaged ones fail cleanly.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3

d=$tmp/esx
mkdir "$d"
python3 "$srcdir/vmdk-make-esx.py" "$d" || fail "vmdk-make-esx.py"
cd "$d"

for f in base cowd se; do
    qemu_img convert -O raw $f.vmdk "$tmp/qemu.raw"
    "$IMGTOOL" read $f.vmdk "$tmp/ours.raw" || fail "$f: read failed"
    cmp "$tmp/qemu.raw" "$tmp/ours.raw" || fail "$f: differs from qemu-img"
    "$IMGTOOL" check $f.vmdk > "$tmp/check.txt" ||
        { cat "$tmp/check.txt"; fail "$f: check"; }
    cp "$tmp/ours.raw" "$tmp/$f.raw"
done
cmp -s "$tmp/base.raw" "$tmp/cowd.raw" && fail "cowd: the delta changed nothing"
cmp -s "$tmp/base.raw" "$tmp/se.raw" && fail "se: the delta changed nothing"
"$IMGTOOL" info cowd.vmdk | grep -q '"subformat": "vmfsSparse"' ||
    fail "cowd: info subformat"
"$IMGTOOL" info se.vmdk | grep -q '"type": "SESPARSE"' || fail "se: info type"
# seSparse zero (type 2) and unmapped (type 1) grains read as zeros and
# hide the parent.
cmp -s -i 40960:0 -n 8192 "$tmp/se.raw" /dev/zero || fail "se: zero grains"
"$IMGTOOL" map se.vmdk | grep -q '^40960 8192 zero$' || fail "se: map zero"

# The extents opened alone: read, with a warning about the parent.
"$IMGTOOL" read cowd-delta.vmdk "$tmp/x.raw" 2> "$tmp/warn.txt" ||
    fail "cowd extent alone"
grep -q "parent disk is not read" "$tmp/warn.txt" || fail "no warning"

# poke FILE OFFSET VALUE BYTES
poke() {
    local s="" i
    for ((i = 0; i < $4; i++)); do
        s+=$(printf '\\x%02x' $(( ($3 >> (8 * i)) & 255 )))
    done
    printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# damage NAME FILE OFFSET VALUE BYTES PATTERN: reading NAME.vmdk after
# the change fails with exit 1 and PATTERN; the file is restored.
damage() {
    local rc=0
    cp "$2" "$tmp/saved"
    poke "$2" "$3" "$4" "$5"
    "$IMGTOOL" read "$1.vmdk" "$tmp/x.raw" > "$tmp/out.txt" 2>&1 || rc=$?
    cp "$tmp/saved" "$2"
    [ $rc -eq 1 ] || { cat "$tmp/out.txt"; fail "$6: exit $rc, not 1"; }
    grep -q -- "$6" "$tmp/out.txt" || { cat "$tmp/out.txt"; fail "$6"; }
}
damage cowd cowd-delta.vmdk 4 2 4 "COWD header: version 2"
damage cowd cowd-delta.vmdk 16 0 4 "grain size 0"
damage cowd cowd-delta.vmdk 24 1 4 "grain directory entries"
damage cowd cowd-delta.vmdk 20 1000000 4 "grain directory"
damage cowd cowd-delta.vmdk $((5 * 512)) 1000000 4 "past the end of the file"
damage cowd cowd-delta.vmdk 2048 100 4 "grain table at sector 100"
damage se se-sesparse.vmdk $((512 + 24)) 1 8 "journal needs replaying"
damage se se-sesparse.vmdk 512 7 8 "volatile header .* bad magic"
damage se se-sesparse.vmdk 24 16 8 "grain size 16"
damage se se-sesparse.vmdk 8 3 8 "version"
damage se se-sesparse.vmdk $((5 * 512)) $((5 << 60)) 8 "is not valid"
damage se se-sesparse.vmdk $((5 * 512 + 8)) $(((3 << 60) | 999999)) 8 \
    "is not valid"
damage se se-sesparse.vmdk $((4 * 512)) $(((1 << 60) | 7)) 8 \
    "grain directory entry 0"
damage se se-sesparse.vmdk 136 0 8 "grain directory has 0 entries"
exit 0
