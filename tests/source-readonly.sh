#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The source is never opened for writing, nor is any file it refers to
# (backing files, extents, parents), and no command changes a byte or a
# timestamp of any of them: chains of every format, read whole by
# imgtool fdcheck (which then lists the process's writable
# descriptors) and by every vmconv disk command.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
V=$VMCONV

d=$tmp/src
mkdir -p "$d"
truncate -s 8M "$tmp/pat.raw"
dd if=/dev/urandom of="$tmp/pat.raw" bs=64K count=20 seek=3 conv=notrunc status=none

# qcow2 chain of 3 with a raw base.
cp "$tmp/pat.raw" "$d/base.raw"
qemu_img create -q -f qcow2 -b base.raw -F raw "$d/mid.qcow2"
qemu_img create -q -f qcow2 -b mid.qcow2 -F qcow2 "$d/top.qcow2"
# vmdk: split sparse extents with a delta child, and a flat one.
qemu_img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse "$tmp/pat.raw" "$d/split.vmdk"
qemu_img create -q -f vmdk -b split.vmdk -F vmdk "$d/delta.vmdk"
qemu_img convert -f raw -O vmdk -o subformat=monolithicFlat "$tmp/pat.raw" "$d/flat.vmdk"
# vhdx differencing chain of 3 and a dirty log, from the independent generator.
python3 "$srcdir/vhdx-make-diff.py" chain3 "$d/vhdx" >/dev/null
python3 "$srcdir/vhdx-make-diff.py" log "$d/vlog" >/dev/null
# vpc differencing pair.
python3 "$srcdir/vpc-make-diff.py" "$d/vpc" >/dev/null

images="$d/top.qcow2 $d/delta.vmdk $d/flat.vmdk $d/vhdx/top.avhdx $d/vlog/log.vhdx $d/vpc/child.vhd"
all_files() { find "$d" -type f ! -name '*.raw' | sort; }
snapshot() { all_files | while read -r f; do echo "$f $(fingerprint "$f" | tr '\n' ' ')"; done; }
before=$(snapshot)
# Make every timestamp old, so a change to any is visible.
all_files | xargs touch -d '2020-01-01 00:00:00'
before=$(snapshot)

for img in $images; do
    out=$("$IMGTOOL" fdcheck "$img") || fail "$img: $out"
    echo "$img: $out"
    $V -q disk info "$img" >/dev/null || fail "info $img"
    $V -q disk map "$img" >/dev/null || fail "map $img"
    rc=0; $V -q disk check "$img" >/dev/null || rc=$?
    [ $rc -le 3 ] || [ $rc -eq 63 ] || fail "check $img: exit $rc"
    $V -q disk convert -O qcow2 "$img" "$tmp/out.qcow2" || fail "convert $img"
    $V -q disk compare "$img" "$tmp/out.qcow2" >/dev/null || fail "compare $img"
    rm -f "$tmp/out.qcow2"
done
after=$(snapshot)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); fail "a source file changed"; }
