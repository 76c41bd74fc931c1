#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VMDK delta links: a child made by qemu-img over a VMDK parent reads
# through the chain; zero grains hide the parent; a parent whose CID is
# not the child's parentCID is refused (accepted with ignoreparent);
# parentFileNameHint may not lead outside the directory.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io

# set_desc IMG SED-SCRIPT: edit the descriptor embedded at sector 1.
set_desc() {
    dd if="$1" bs=512 skip=1 count=20 status=none | tr -d '\0' |
        sed "$2" > "$tmp/desc.txt"
    truncate -s 10240 "$tmp/desc.txt"
    dd if="$tmp/desc.txt" of="$1" bs=512 seek=1 conv=notrunc status=none
}

same_as_qemu() {
    local img=$1
    "$IMGTOOL" read "$img" "$tmp/ours.raw" || fail "$img: read failed"
    qemu_img convert -O raw "$img" "$tmp/qemu.raw"
    cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "$img: differs from qemu-img"
}

mkdir "$tmp/vm"
cd "$tmp/vm"
truncate -s 4M base.raw
head -c 3000000 /dev/urandom | dd of=base.raw conv=notrunc status=none
qemu_img convert -O vmdk base.raw base.vmdk
qemu_img create -q -f vmdk -o zeroed_grain=on -b base.vmdk -F vmdk child.vmdk
qemu-io -f vmdk -c 'write -P 0x55 1M 128k' -c 'write -z 0 64k' \
    -c 'write -P 0x66 3M 64k' child.vmdk > /dev/null || fail "qemu-io"
# A grandchild (no zeroed grains) over the child.
qemu_img create -q -f vmdk -b child.vmdk -F vmdk grandchild.vmdk
qemu-io -f vmdk -c 'write -P 0x77 2M 64k' grandchild.vmdk > /dev/null ||
    fail "qemu-io"
before=$(fingerprint base.vmdk; fingerprint child.vmdk)

same_as_qemu child.vmdk
cp "$tmp/ours.raw" "$tmp/child.raw"
cmp -s -n 65536 "$tmp/ours.raw" /dev/zero || fail "zero grain shows the parent"
cmp -s -i 1048576:0 -n 131072 "$tmp/ours.raw" <(head -c 131072 /dev/zero |
    tr '\0' '\125') || fail "child data"
cmp -s -i 65536:65536 -n 900000 "$tmp/ours.raw" base.raw ||
    fail "unallocated grains do not show the parent"
same_as_qemu grandchild.vmdk
"$IMGTOOL" info grandchild.vmdk > "$tmp/info.json"
grep -q '"parent-filename-hint": "child.vmdk"' "$tmp/info.json" ||
    fail "info: parent-filename-hint"
grep -c '"format": "vmdk"' "$tmp/info.json" | grep -qx 3 ||
    fail "info: the chain has not three images"
[ "$(fingerprint base.vmdk; fingerprint child.vmdk)" = "$before" ] ||
    fail "reading changed the parents"

# Without the backing flag the child alone: unallocated reads zeros.
IMGTOOL_FLAGS=nobacking "$IMGTOOL" read child.vmdk "$tmp/alone.raw" ||
    fail "nobacking read"
cmp -s -i 65536:0 -n 900000 "$tmp/alone.raw" /dev/zero ||
    fail "nobacking: unallocated grains are not zeros"

# parentCID that is not the parent's CID.
cp child.vmdk bad-cid.vmdk
set_desc bad-cid.vmdk 's/^parentCID=.*/parentCID=0badc1d0/'
expect_fail "CID mismatch" "$IMGTOOL" read bad-cid.vmdk "$tmp/x.raw"
grep -q "bad-cid.vmdk: parent .* does not match: CID mismatch: this image records parentCID=0badc1d0, the parent has CID=" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "CID message"; }
IMGTOOL_FLAGS=ignoreparent "$IMGTOOL" read bad-cid.vmdk "$tmp/x.raw" \
    2> "$tmp/warn.txt" || fail "ignoreparent read"
grep -q "warning: .*CID mismatch.*reading it anyway as asked" "$tmp/warn.txt" || fail "no warning"
cmp -s "$tmp/x.raw" "$tmp/child.raw" || fail "ignoreparent: wrong data"
# The library names no option; the vmconv command adds its own.
grep -q -- "--ignore-parent-id" "$tmp/expect_fail.out" &&
    fail "the library message names a command line option"
rc=0; "$VMCONV" disk convert -O raw bad-cid.vmdk "$tmp/y.raw" 2> "$tmp/cli.err" || rc=$?
[ $rc -eq 1 ] || fail "vmconv disk convert of bad-cid.vmdk: exit $rc"
grep -q "CID mismatch.*wrong data (use --ignore-parent-id to read it anyway)$" \
    "$tmp/cli.err" || { cat "$tmp/cli.err"; fail "CLI hint for --ignore-parent-id"; }

# A parentCID without a hint.
cp child.vmdk nohint.vmdk
set_desc nohint.vmdk '/^parentFileNameHint=/d'
expect_fail "no hint" "$IMGTOOL" read nohint.vmdk "$tmp/x.raw"
grep -q "no parentFileNameHint" "$tmp/expect_fail.out" || fail "no hint message"

# Hints written on Windows or ESXi: the parent is looked for beside.
cp child.vmdk winhint.vmdk
set_desc winhint.vmdk 's/^parentFileNameHint=.*/parentFileNameHint="C:\\VMs\\x\\base.vmdk"/'
grep -qa 'C:\\VMs\\x\\base.vmdk' winhint.vmdk || fail "set_desc"
"$IMGTOOL" read winhint.vmdk "$tmp/x.raw" || fail "windows hint"
cmp -s "$tmp/x.raw" "$tmp/child.raw" || fail "windows hint: wrong data"
cp child.vmdk esxhint.vmdk
set_desc esxhint.vmdk 's|^parentFileNameHint=.*|parentFileNameHint="/vmfs/volumes/5a1b-2c3d/vm/base.vmdk"|'
"$IMGTOOL" read esxhint.vmdk "$tmp/x.raw" || fail "ESXi hint"
cmp -s "$tmp/x.raw" "$tmp/child.raw" || fail "ESXi hint: wrong data"
# A datastore path, and names that differ only in case (VMFS and
# Windows copies): found as VHDX parents always were.
cp child.vmdk dshint.vmdk
set_desc dshint.vmdk 's|^parentFileNameHint=.*|parentFileNameHint="[datastore1] vm/BASE.VMDK"|'
"$IMGTOOL" read dshint.vmdk "$tmp/x.raw" || fail "datastore hint"
cmp -s "$tmp/x.raw" "$tmp/child.raw" || fail "datastore hint: wrong data"
cp child.vmdk casehint.vmdk
set_desc casehint.vmdk 's|^parentFileNameHint=.*|parentFileNameHint="Base.Vmdk"|'
"$IMGTOOL" read casehint.vmdk "$tmp/x.raw" || fail "hint in another case"
cmp -s "$tmp/x.raw" "$tmp/child.raw" || fail "hint in another case: wrong data"

# A hint leading outside the directory is refused unless allowed.
mkdir "$tmp/other"
cd "$tmp/other"
qemu_img create -q -f vmdk -b ../vm/base.vmdk -F vmdk out.vmdk
expect_fail "hint outside" "$IMGTOOL" read out.vmdk "$tmp/x.raw"
grep -q "parentFileNameHint '../vm/base.vmdk' leads outside" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "outside message"; }
grep -q -- "--allow-outside-paths" "$tmp/expect_fail.out" &&
    fail "the library message names a command line option"
rc=0; "$VMCONV" disk info out.vmdk > /dev/null 2> "$tmp/cli.err" || rc=$?
[ $rc -eq 1 ] || fail "vmconv disk info out.vmdk: exit $rc"
grep -q "leads outside.*refusing to follow it (use --allow-outside-paths if you trust this image)$" \
    "$tmp/cli.err" || { cat "$tmp/cli.err"; fail "CLI hint for --allow-outside-paths"; }
IMGTOOL_FLAGS=outside "$IMGTOOL" read out.vmdk "$tmp/x.raw" ||
    fail "outside allowed"
cmp -s "$tmp/x.raw" "$tmp/vm/base.raw" || fail "outside: wrong data"

# A chain that loops: the child names itself as parent.
cd "$tmp/vm"
cp child.vmdk loop.vmdk
set_desc loop.vmdk 's/^parentFileNameHint=.*/parentFileNameHint="loop.vmdk"/'
expect_fail "loop" "$IMGTOOL" read loop.vmdk "$tmp/x.raw"
grep -q "loops" "$tmp/expect_fail.out" || fail "loop message"
exit 0
