#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Real images of the corpus (made by VMware tools, Hyper-V, qemu,
# forensic suites) served by nbdkit-vmconv-plugin: qemu-img's reading
# through NBD must have the guest-data sha256 recorded for them (see
# corpus-cli.sh), the block status must be vmconv's map, and a damaged
# image must stop nbdkit with an error naming it.
. "$srcdir/functions.sh"
. "$srcdir/nbdkit-functions.sh"
requires_corpus
requires_qemu_img
requires python3
requires_nbdkit_plugin

# image (relative to corpus/images), guest-data sha256
cases=(
    "vmdk-rs/streamOptimized.vmdk|a3bcf05f07a1c06a3380eeca8571f0efb2b85afafa1e21662b8cad436d1f7727"
    "dfvfs/windows_volume.qcow2|44abe9deca9658f331a2bdba2deb53192d04f35d157a1fb3ba0597b03f0524f2"
    "qemu-iotests/iotest-dynamic-1G.vhdx.bz2|d3d112d8dab7fd360609f7d5a7b769904b7a2a7d7b6b8c535f65a23293c05478"
    "dfvfs/ext2.vhd|870be7ae16c1fa8faab05c6eb9205dc9a7ae35c5f552c5cf8a267c0bc6a5cb99"
)

n=0
for c in "${cases[@]}"; do
    IFS='|' read -r rel want <<<"$c"
    n=$((n + 1))
    corpus_has "images/$rel" || continue
    img=$(corpus_get "images/$rel" "$tmp/c$n") || fail "$rel: corpus_get"
    before=$(fingerprint "$img")
    nbd_start file="$img" || fail "$rel: nbdkit did not start"
    qemu_img convert -f raw "$uri" -O raw "$tmp/nbd.raw" ||
        fail "$rel: qemu-img over NBD"
    got=$(sha "$tmp/nbd.raw")
    [ "$got" = "$want" ] || fail "$rel: guest data sha256 $got, expected $want"
    check_map "$img"
    nbd_stop
    [ "$(fingerprint "$img")" = "$before" ] || fail "$rel: the file changed"
    echo "ok   $rel"
    rm -rf "$tmp/c$n" "$tmp/nbd.raw"
done

# A hostile VMDK (from qemu's fuzzing): refused at start-up, by name.
img=$(corpus_get images/qemu-iotests/afl9.vmdk.bz2 "$tmp/bad") || fail "corpus_get"
nbd_expect_refusal file="$img"
grep -q "$img" "$tmp/nbdkit.err" ||
    { cat "$tmp/nbdkit.err"; fail "afl9.vmdk: the error does not name the file"; }
echo "ok   refused: $(head -1 "$tmp/nbdkit.err")"
exit 0
