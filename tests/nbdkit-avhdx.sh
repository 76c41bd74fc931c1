#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Differencing VHDX (Hyper-V checkpoints, .avhdx) through
# nbdkit-vmconv-plugin: qemu-img cannot open them, but it reads them
# over NBD.  The chains come from vhdx-make-diff.py (written from the
# spec, with the flat raw image each implies): qemu-img's reading
# through NBD must equal the generator's raw and vmconv's own reading
# (qemu-img compare), the block status must be vmconv's map, a parent
# that does not match is refused unless ignore-parent-id=true, and an
# unreplayed log is replayed in memory, never in the file.
. "$srcdir/functions.sh"
. "$srcdir/nbdkit-functions.sh"
requires_qemu_img
requires python3 qemu-io
requires_nbdkit_plugin
PY=$(python3 -c 'import sys; print(sys.executable)')
gen() { "$PY" "$srcdir/vhdx-make-diff.py" "$@" || fail "vhdx-make-diff.py $*"; }
scmp() { "$PY" "$srcdir/vhdx-make-diff.py" cmp "$@"; }

# A chain of three: base.vhdx <- mid.avhdx <- top.avhdx.
d=$tmp/chain3
gen chain3 "$d"
before=$(for f in "$d"/*.*vhdx; do fingerprint "$f"; done)
if qemu_img convert -O raw "$d/top.avhdx" "$tmp/q.raw" 2>/dev/null &&
   cmp -s "$tmp/q.raw" "$d/top.raw"; then
    echo "note: this qemu-img reads differencing VHDX by itself"
fi
"$VMCONV" disk convert -O raw "$d/top.avhdx" "$tmp/ours.raw" || fail "vmconv read"
nbd_start file="$d/top.avhdx" || fail "nbdkit did not start"
qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" || fail "qemu-img over NBD"
cmp "$tmp/nbd.raw" "$d/top.raw" || fail "chain of 3: the export differs from the generator's raw"
qemu_img compare -f raw -F raw "$uri" "$tmp/ours.raw" ||
    fail "chain of 3: qemu-img compare: the export differs from vmconv's reading"
qemu_img info -f raw "$uri" | grep -q "virtual size: 16 MiB" ||
    fail "chain of 3: export size"
check_map "$d/top.avhdx"
check_write_refused
nbd_stop
[ "$(for f in "$d"/*.*vhdx; do fingerprint "$f"; done)" = "$before" ] ||
    fail "chain of 3: a file of the chain changed"
echo "ok   chain of 3 (base.vhdx <- mid.avhdx <- top.avhdx)"
# With nbdkit's cow filter in front, a client may write (as a guest
# booted from the chain would): the writes stay in nbdkit's overlay.
if [ -f "$(nbdkit --dump-config | sed -n 's/^filterdir=//p')/nbdkit-cow-filter.so" ]; then
    nbdkit -U - --filter=cow "$PLUGIN" file="$d/top.avhdx" --run '
        qemu-io -f raw -c "write -P 0x5a 1M 64k" -c "read -P 0x5a 1M 64k" "$uri"
    ' > "$tmp/cow.out" 2>&1 || { cat "$tmp/cow.out"; fail "cow filter: write"; }
    echo "ok   written through the cow filter"
else
    echo "note: nbdkit's cow filter is not installed: not tried"
fi
[ "$(for f in "$d"/*.*vhdx; do fingerprint "$f"; done)" = "$before" ] ||
    fail "chain of 3: a file of the chain changed"
rm -rf "$d" "$tmp"/*.raw

# 4 GiB + 8 MiB, 1 MiB blocks: FULLY, PARTIALLY, ZERO, UNMAPPED,
# UNDEFINED and NOT_PRESENT blocks; two sector bitmap chunks.
d=$tmp/diff
gen diff "$d"
before=$(fingerprint "$d/child.avhdx"; fingerprint "$d/parent.vhdx")
nbd_start file="$d/child.avhdx" || fail "nbdkit did not start"
qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" || fail "qemu-img over NBD"
scmp "$tmp/nbd.raw" "$d/child.raw" || fail "diff: the export differs"
check_map "$d/child.avhdx"
map_nbd "$uri" > "$tmp/map"
nbd_stop
# The ZERO block hides the parent; a NOT_PRESENT one shows it.
grep -qx "2097152 1048576 zero" "$tmp/map" || { cat "$tmp/map"; fail "map: ZERO block 2"; }
grep -qx "3145728 1048576 data" "$tmp/map" || { cat "$tmp/map"; fail "map: block 3 from the parent"; }
grep -q "^7340032 [0-9]* hole$" "$tmp/map" || { cat "$tmp/map"; fail "map: hole"; }
[ "$(fingerprint "$d/child.avhdx"; fingerprint "$d/parent.vhdx")" = "$before" ] ||
    fail "diff: a file changed"
echo "ok   4 GiB differencing VHDX"
rm -rf "$d" "$tmp"/*.raw

# A parent whose DataWriteGuid is not the child's parent_linkage.
d=$tmp/badlink
gen badlink "$d"
nbd_expect_refusal file="$d/child.avhdx"
grep -q "$d/child.avhdx" "$tmp/nbdkit.err" &&
    grep -q "DataWriteGuid mismatch" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "wrong parent: message"; }
echo "ok   refused: $(head -1 "$tmp/nbdkit.err")"
nbd_start file="$d/child.avhdx" ignore-parent-id=true ||
    fail "ignore-parent-id=true"
qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" || fail "qemu-img over NBD"
nbd_stop
grep -q "warning: .*DataWriteGuid mismatch" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "ignore-parent-id: no warning"; }
cmp "$tmp/nbd.raw" "$d/child.raw" || fail "ignore-parent-id: data differs"
echo "ok   ignore-parent-id=true"
rm -rf "$d" "$tmp"/*.raw

# A VHDX whose log needs replaying: served as replayed, file untouched.
d=$tmp/log
gen log "$d"
before=$(fingerprint "$d/log.vhdx")
nbd_start file="$d/log.vhdx" || fail "nbdkit did not start"
qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" || fail "qemu-img over NBD"
nbd_stop
scmp "$tmp/nbd.raw" "$d/log.raw" || fail "log: the export differs"
[ "$(fingerprint "$d/log.vhdx")" = "$before" ] || fail "log: the file changed"
echo "ok   VHDX with a log to replay"
exit 0
