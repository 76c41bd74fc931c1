#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Images stored inside another file (vmc_image_open_range): a qcow2 and
# a streamOptimized VMDK as members of an uncompressed tar, as in an
# OVA, read in place by imgtool (IMGTOOL_RANGE) and compared with
# qemu-img reading the same bytes through its raw driver's offset.  A
# member is read exactly: its window's end is the end of its file, even
# though the tar holds more bytes after it; names in a member (a
# backing file) are not followed.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
T=$IMGTOOL

truncate -s 8M "$tmp/pat.raw"
dd if=/dev/urandom of="$tmp/pat.raw" bs=1M count=1 seek=1 conv=notrunc status=none
dd if=/dev/urandom of="$tmp/pat.raw" bs=64K count=1 seek=80 conv=notrunc status=none
qemu_img convert -f raw -O qcow2 "$tmp/pat.raw" "$tmp/disk.qcow2"
qemu_img convert -f raw -O vmdk -o subformat=streamOptimized "$tmp/pat.raw" "$tmp/disk.vmdk"
qemu_img create -q -f qcow2 -b disk.qcow2 -F qcow2 "$tmp/child.qcow2"
echo "an OVF descriptor would be here" > "$tmp/disk.ovf"

# The tar, and "name offset size" of each member.
python3 - "$tmp" > "$tmp/members" <<'EOF'
import os, sys, tarfile
d = sys.argv[1]
with tarfile.open(os.path.join(d, "disk.ova"), "w", format=tarfile.USTAR_FORMAT) as t:
    for n in ("disk.ovf", "disk.vmdk", "disk.qcow2", "child.qcow2"):
        t.add(os.path.join(d, n), arcname=n)
with tarfile.open(os.path.join(d, "disk.ova")) as t:
    for m in t.getmembers():
        print(m.name, m.offset_data, m.size)
EOF
cat "$tmp/members"
member() { awk -v n="$1" '$1 == n { print $2 "," $3 }' "$tmp/members"; }
ova=$tmp/disk.ova

# qemu-img's view of the same member: the raw driver's offset and size.
qemu_view() {   # qemu_view FMT MEMBER
    local r off size
    r=$(member "$2"); off=${r%,*}; size=${r#*,}
    echo "json:{\"driver\": \"$1\", \"file\": {\"driver\": \"raw\", \"offset\": $off, \"size\": $size, \"file\": {\"driver\": \"file\", \"filename\": \"$ova\"}}}"
}

for m in disk.vmdk:vmdk disk.qcow2:qcow2; do
    name=${m%:*} fmt=${m#*:}
    r=$(member "$name")
    # Probed and named: both read the member.
    for f in "" "$fmt"; do
        IMGTOOL_RANGE=$r "$T" read "$ova" "$tmp/out.raw" $f || fail "$name: read (format '$f')"
        cmp "$tmp/out.raw" "$tmp/pat.raw" || fail "$name: read differs from the guest data"
        qemu_img compare -f raw "$tmp/out.raw" "$(qemu_view "$fmt" "$name")" ||
            fail "$name: differs from qemu-img reading the member"
    done
    IMGTOOL_RANGE=$r "$T" info "$ova" > "$tmp/info" || fail "$name: info"
    grep -q "\"filename\": \"$ova@${r%,*}\"" "$tmp/info" || { cat "$tmp/info"; fail "$name: info does not name PATH@OFFSET"; }
    IMGTOOL_RANGE=$r "$T" map "$ova" > "$tmp/map" || fail "$name: map"
    "$T" map "$tmp/$name" > "$tmp/map.file"
    diff "$tmp/map.file" "$tmp/map" || fail "$name: map differs from the file's"
done

# A raw member is exactly its bytes: not the tar's padding after it.
r=$(member disk.ovf)
IMGTOOL_RANGE=$r "$T" read "$ova" "$tmp/out.raw" raw || fail "raw member: read"
cmp "$tmp/out.raw" "$tmp/disk.ovf" || fail "raw member: differs from the file"

# The window ends where the member ends: a qcow2 cut short refers to
# clusters past its window, which the tar has (the next member) but
# which must not be read.
r=$(member disk.qcow2)
off=${r%,*} size=${r#*,}
rc=0
IMGTOOL_RANGE=$off,$((size - 65536)) "$T" read "$ova" "$tmp/out.raw" qcow2 > "$tmp/err" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$tmp/err"; fail "cut qcow2: exit $rc, expected 1"; }
grep -q "$ova@$off: .*\(outside the file\|end of file\|past the end\)" "$tmp/err" ||
    { cat "$tmp/err"; fail "cut qcow2: wrong message"; }

# A member's backing file name is not followed, even though a file of
# that name lies beside the tar; with nobacking the layer alone reads.
r=$(member child.qcow2)
rc=0
IMGTOOL_RANGE=$r "$T" read "$ova" "$tmp/out.raw" > "$tmp/err" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$tmp/err"; fail "child member: exit $rc, expected 1"; }
grep -q "$ova@${r%,*}: backing file 'disk.qcow2' is not followed" "$tmp/err" ||
    { cat "$tmp/err"; fail "child member: wrong message"; }
IMGTOOL_RANGE=$r IMGTOOL_FLAGS=nobacking "$T" read "$ova" "$tmp/out.raw" ||
    fail "child member with nobacking"

# Ranges outside the file are refused.
size=$(stat -c %s "$ova")
expect_fail "range past the end" env IMGTOOL_RANGE=$((size - 512)),1024 "$T" read "$ova" "$tmp/out.raw"
grep -q "outside the file" "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "range past the end: wrong message"; }

# The vmconv disk commands take the same range: names as convert does.
r=$(member disk.vmdk)
"$VMCONV" disk info "range:${r%,*}:${r#*,}:$ova" > "$tmp/info" ||
    fail "vmconv disk info range:"
grep -q "file format: vmdk" "$tmp/info" || { cat "$tmp/info"; fail "disk info range: format"; }
"$VMCONV" -q disk compare "range:${r%,*}:${r#*,}:$ova" "$tmp/disk.vmdk" ||
    fail "vmconv disk compare range: differs from the member's own file"
