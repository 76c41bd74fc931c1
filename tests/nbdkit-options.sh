#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit-vmconv-plugin's parameters and its refusals: format=, the
# path policy (allow-outside-paths=), offset=/length= (a VMDK inside an
# OVA), file given as the magic first parameter, and clear errors at
# start-up naming the file for a missing, damaged or badly chained
# image.  No served file may change.
. "$srcdir/functions.sh"
. "$srcdir/nbdkit-functions.sh"
requires_qemu_img
requires qemu-io python3 tar
requires_nbdkit_plugin

d=$tmp/img
mkdir -p "$d/sub"
qemu_img create -q -f qcow2 "$d/base.qcow2" 16M || fail "create base"
qemu-io -f qcow2 -c 'write -P 0x11 0 1M' -c 'write -P 0x22 5M 64k' \
    "$d/base.qcow2" > /dev/null || fail "write base"
qemu_img create -q -f qcow2 -b ../base.qcow2 -F qcow2 "$d/sub/top.qcow2" ||
    fail "create top"
qemu-io -f qcow2 -c 'write -P 0x33 512k 1M' "$d/sub/top.qcow2" > /dev/null ||
    fail "write top"
qemu_img convert -O raw "$d/sub/top.qcow2" "$tmp/top.raw" || fail "read top"
before=$(fingerprint "$d/base.qcow2"; fingerprint "$d/sub/top.qcow2")

# --- a backing file outside the image's directory -------------------
nbd_expect_refusal file="$d/sub/top.qcow2"
grep -q "$d/sub/top.qcow2" "$tmp/nbdkit.err" &&
    grep -q "outside" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "outside backing file: message"; }
echo "ok   refused: $(head -1 "$tmp/nbdkit.err")"
nbd_start file="$d/sub/top.qcow2" allow-outside-paths=true ||
    fail "allow-outside-paths=true"
qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" || fail "read export"
nbd_stop
cmp "$tmp/nbd.raw" "$tmp/top.raw" || fail "allow-outside-paths: data differs"
nbd_expect_refusal file="$d/sub/top.qcow2" allow-outside-paths=maybe
echo "ok   allow-outside-paths"

# --- format= ---------------------------------------------------------
# format=raw serves the qcow2 file's own bytes.
nbd_start file="$d/base.qcow2" format=raw || fail "format=raw"
qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" || fail "read export"
nbd_stop
cmp "$tmp/nbd.raw" "$d/base.qcow2" || fail "format=raw: not the file's bytes"
nbd_expect_refusal file="$d/base.qcow2" format=qcow3
grep -q "format 'qcow3'" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "unknown format: message"; }
# The wrong format named: refused by that format's reader.
nbd_expect_refusal file="$d/base.qcow2" format=vhdx
grep -q "$d/base.qcow2" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "format=vhdx on a qcow2: message"; }
echo "ok   format="

# --- the file as the first parameter ----------------------------------
(cd "$d" && nbdkit -U - "$PLUGIN" base.qcow2 \
    --run "qemu-img convert -f raw \"\$uri\" -O raw '$tmp/nbd.raw'") ||
    fail "magic file parameter, relative path"
qemu_img convert -O raw "$d/base.qcow2" "$tmp/base.raw" || fail "read base"
cmp "$tmp/nbd.raw" "$tmp/base.raw" || fail "magic parameter: data differs"
echo "ok   nbdkit vmconv IMAGE"

# --- offset= and length=: a VMDK inside an OVA (tar) ------------------
qemu_img convert -O vmdk -o subformat=streamOptimized "$tmp/top.raw" \
    "$tmp/disk1.vmdk" || fail "make vmdk"
printf '<Envelope/>\n' > "$tmp/vm.ovf"
tar -C "$tmp" -cf "$d/vm.ova" vm.ovf disk1.vmdk || fail "tar"
read -r off len < <(python3 - "$d/vm.ova" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = t.getmember("disk1.vmdk")
    print(m.offset_data, m.size)
PY
) || fail "finding the member"
ova_before=$(fingerprint "$d/vm.ova")
nbd_start file="$d/vm.ova" offset="$off" length="$len" || fail "offset/length"
qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" || fail "read export"
check_map "$tmp/disk1.vmdk"
nbd_stop
cmp "$tmp/nbd.raw" "$tmp/top.raw" || fail "VMDK in an OVA: data differs"
# Without length= the range runs to the end of the file (the tar's
# padding follows the member: the streamOptimized reader is not misled).
nbdkit -U - "$PLUGIN" file="$d/vm.ova" offset="$off" \
    --run "qemu-img convert -f raw \"\$uri\" -O raw '$tmp/nbd.raw'" ||
    fail "offset= without length="
cmp "$tmp/nbd.raw" "$tmp/top.raw" || fail "offset= without length=: data differs"
nbd_expect_refusal file="$d/vm.ova" offset=$((1 << 40))
grep -q "beyond the end" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "offset past the end: message"; }
nbd_expect_refusal file="$d/vm.ova" offset=12x
[ "$(fingerprint "$d/vm.ova")" = "$ova_before" ] || fail "the OVA changed"
echo "ok   offset= length="

# --- errors at start-up, naming the file ------------------------------
nbd_expect_refusal format=raw
grep -q "file=" "$tmp/nbdkit.err" || { cat "$tmp/nbdkit.err"; fail "no file: message"; }
nbd_expect_refusal file="$d/nonexistent.qcow2"
grep -q "$d/nonexistent.qcow2" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "missing file: message"; }
nbd_expect_refusal file="$d/base.qcow2" colour=blue
grep -q "colour" "$tmp/nbdkit.err" || { cat "$tmp/nbdkit.err"; fail "unknown key"; }

# A missing backing file: the error names the image and its backing.
cp "$d/sub/top.qcow2" "$d/orphan.qcow2"
qemu_img rebase -u -b gone.qcow2 -F qcow2 "$d/orphan.qcow2" || fail "rebase"
nbd_expect_refusal file="$d/orphan.qcow2"
grep -q "orphan.qcow2" "$tmp/nbdkit.err" && grep -q "gone.qcow2" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "missing backing file: message"; }
echo "ok   refused: $(head -1 "$tmp/nbdkit.err")"

# A damaged image: the L1 table offset points past the end of the file.
cp "$d/base.qcow2" "$d/damaged.qcow2"
printf '\x7f\x00\x00\x00\x00\x00\x00\x00' |
    dd of="$d/damaged.qcow2" bs=1 seek=40 conv=notrunc status=none
nbd_expect_refusal file="$d/damaged.qcow2"
grep -q "$d/damaged.qcow2" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "damaged image: message"; }
echo "ok   refused: $(head -1 "$tmp/nbdkit.err")"

[ "$(fingerprint "$d/base.qcow2"; fingerprint "$d/sub/top.qcow2")" = "$before" ] ||
    fail "a served file changed"
exit 0
