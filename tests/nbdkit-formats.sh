#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit-vmconv-plugin serving images made by qemu-img (a qcow2 backing
# chain with zero clusters, VMDK streamOptimized, dynamic VHDX, dynamic
# VHD): through NBD, qemu-img and nbdcopy (four connections at once)
# must read what qemu-img and vmconv read from the files, the NBD block
# status must be vmconv's map (holes and zeros survive), writes must be
# refused, and no file may change.
. "$srcdir/functions.sh"
. "$srcdir/nbdkit-functions.sh"
requires_qemu_img
requires qemu-io python3 nbdcopy
requires_nbdkit_plugin

nbdkit --dump-plugin "$PLUGIN" > "$tmp/dump" || fail "--dump-plugin"
grep -qx 'thread_model=parallel' "$tmp/dump" ||
    { cat "$tmp/dump"; fail "thread model is not parallel"; }
grep -q '^vmconv_formats=.*vhdx' "$tmp/dump" || fail "--dump-plugin: formats"

# A 64 MiB disk: data, a run written as zeros, holes; then a child
# overwriting part of it, zeroing whole clusters and a partial one.
d=$tmp/img
mkdir -p "$d"
qemu_img create -q -f qcow2 "$d/base.qcow2" 64M || fail "create base"
qemu-io -f qcow2 -c 'write -P 0x11 0 1M' -c 'write -P 0x22 8M 192k' \
    -c 'write -P 0x33 40M 64k' -c 'write -P 0x44 63M 1M' \
    "$d/base.qcow2" > /dev/null || fail "write base"
qemu_img create -q -f qcow2 -b base.qcow2 -F qcow2 "$d/top.qcow2" ||
    fail "create top"
qemu-io -f qcow2 -c 'write -P 0x55 512k 1M' -c 'write -z 40M 1M' \
    -c 'write -z 8M 4k' -c 'write -P 0x66 20M 100k' \
    "$d/top.qcow2" > /dev/null || fail "write top"
qemu_img convert -O vmdk -o subformat=streamOptimized "$d/top.qcow2" \
    "$d/stream.vmdk" || fail "make vmdk"
qemu_img convert -O vhdx -o subformat=dynamic,block_size=1M "$d/top.qcow2" \
    "$d/dynamic.vhdx" || fail "make vhdx"
qemu_img convert -O vpc -o subformat=dynamic,force_size=on "$d/top.qcow2" \
    "$d/dynamic.vhd" || fail "make vpc"

fingerprints() {
    local f
    for f in "$d"/*; do fingerprint "$f"; done
}
before=$(fingerprints)

for img in top.qcow2 stream.vmdk dynamic.vhdx dynamic.vhd; do
    p=$d/$img
    qemu_img convert -O raw "$p" "$tmp/qemu.raw" || fail "$img: qemu-img read"
    "$VMCONV" disk convert -O raw "$p" "$tmp/ours.raw" || fail "$img: vmconv read"
    want=$(sha "$tmp/qemu.raw")
    [ "$(sha "$tmp/ours.raw")" = "$want" ] || fail "$img: vmconv and qemu-img differ"

    nbd_start file="$p" || fail "$img: nbdkit did not start"
    qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" ||
        fail "$img: qemu-img reading the export"
    [ "$(sha "$tmp/nbd.raw")" = "$want" ] || fail "$img: the export differs"
    # Four connections (multi-conn), several requests each in flight.
    nbdcopy --connections=4 --requests=8 --request-size=65536 \
        "$uri" "$tmp/copy.raw" || fail "$img: nbdcopy"
    [ "$(sha "$tmp/copy.raw")" = "$want" ] || fail "$img: nbdcopy's copy differs"
    check_map "$p"
    check_write_refused
    nbd_stop
    echo "ok   $img"
    rm -f "$tmp"/*.raw
done

# The zeros written in the child show through NBD: a hole where no
# layer has data, a zero run where the child zeroed clusters.
nbd_start file="$d/top.qcow2" || fail "nbdkit"
map_nbd "$uri" > "$tmp/map"
nbd_stop
grep -qx "41943040 1048576 zero" "$tmp/map" ||
    { cat "$tmp/map"; fail "qcow2 zero clusters are not a zero run over NBD"; }
grep -q "^[0-9]* [0-9]* hole$" "$tmp/map" ||
    { cat "$tmp/map"; fail "no hole over NBD"; }

[ "$(fingerprints)" = "$before" ] || fail "a served file changed"
exit 0
