#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Real qcow2 images from the shared corpus read exactly as qemu-img
# reads them: the guest-data sha256 recorded in PROVENANCE.md, and
# qemu-img convert's output when qemu-img is installed.
. "$srcdir/functions.sh"
requires_corpus

# sha256 of a file, with openssl where it is there (several times faster
# than sha256sum on the 512 MiB images).
fast_sha() {
    if command -v openssl > /dev/null; then
        openssl dgst -sha256 -r "$1" | cut -d' ' -f1
    else
        sha "$1"
    fi
}

# name  guest-data sha256 (qemu-img convert -O raw, from PROVENANCE.md)
expected='
dissect/basic.qcow2.gz 3c86a52ad19ebbe34acffb812d276817ddca56522eb72de2b984d70ffb20582f
dissect/basic-zstd.qcow2.gz 3c86a52ad19ebbe34acffb812d276817ddca56522eb72de2b984d70ffb20582f
dissect/backing-chain-1.qcow2.gz 186334af67c1acb54b08ded0b6a419571000755d4c810c8b768a30281e2ab074
dfvfs/ext2.qcow2 a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80
dfvfs/windows_volume.qcow2 44abe9deca9658f331a2bdba2deb53192d04f35d157a1fb3ba0597b03f0524f2
'

have_qemu=no
if [ -n "${QEMU_IMG:-}" ] && [ "$QEMU_IMG" != no ] || command -v qemu-img >/dev/null; then
    requires_qemu_img
    have_qemu=yes
fi

# The chain members must sit side by side under their own names.
have_chain=no
if corpus_has images/dissect/backing-chain-{1,2,3}.qcow2.gz; then
    have_chain=yes
    for n in 1 2 3; do
        corpus_get "images/dissect/backing-chain-$n.qcow2.gz" "$tmp/chain" > /dev/null
    done
fi

while read -r rel sum; do
    [ -n "$rel" ] || continue
    corpus_has "images/$rel" || continue
    case $rel in
        dissect/backing-chain-*) img=$tmp/chain/$(basename "${rel%.gz}") ;;
        *) img=$(corpus_get "images/$rel" "$tmp/img") ;;
    esac
    before=$(fingerprint "$img")
    [ "$("$IMGTOOL" probe "$img")" = qcow2 ] || fail "$rel: not probed as qcow2"
    "$IMGTOOL" read "$img" "$tmp/ours.raw" || fail "$rel: read failed"
    got=$(fast_sha "$tmp/ours.raw")
    [ "$got" = "$sum" ] || fail "$rel: guest data sha256 $got, expected $sum"
    # The recorded sha256 is qemu-img's output; compare with a fresh
    # qemu-img run too, except for the big compressed ones (slow).
    if [ $have_qemu = yes ] && [ "${rel#dissect/basic}" = "$rel" ]; then
        qemu_img convert -O raw "$img" "$tmp/qemu.raw"
        cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "$rel: differs from qemu-img"
    fi
    [ "$(fingerprint "$img")" = "$before" ] || fail "$rel: source changed"
    rm -f "$tmp/ours.raw" "$tmp/qemu.raw"
done <<< "$expected"

if [ $have_chain = yes ]; then
    # The chain's info names the backing file and its format at each level.
    "$IMGTOOL" info "$tmp/chain/backing-chain-1.qcow2" > "$tmp/info"
    grep -q '"backing-filename": "backing-chain-2.qcow2"' "$tmp/info" ||
        { cat "$tmp/info"; fail "info: no backing-filename"; }
    grep -q '"backing-format": "qcow2"' "$tmp/info" ||
        fail "info: no backing-format"
    grep -q '"backing-filename": "backing-chain-3.qcow2"' "$tmp/info" ||
        fail "info: the chain is not described"

    # Without its backing files the top image still opens with nobacking,
    # and fails clearly without them.
    mkdir "$tmp/alone"
    cp "$tmp/chain/backing-chain-1.qcow2" "$tmp/alone/"
    expect_fail "missing backing file" "$IMGTOOL" read "$tmp/alone/backing-chain-1.qcow2" "$tmp/x.raw"
    grep -q "backing-chain-1.qcow2" "$tmp/expect_fail.out" ||
        { cat "$tmp/expect_fail.out"; fail "missing backing: message does not name the image"; }
    IMGTOOL_FLAGS=nobacking "$IMGTOOL" read "$tmp/alone/backing-chain-1.qcow2" "$tmp/x.raw" ||
        fail "nobacking: read failed"
fi

if corpus_has images/dissect/basic.qcow2.gz; then
    # Block status of the compressed image: qemu-img map's three runs.
    "$IMGTOOL" map "$(corpus_get images/dissect/basic.qcow2.gz "$tmp/map")" > "$tmp/map.out"
    [ "$(cat "$tmp/map.out")" = "0 1048576 hole
1048576 266338304 data
267386880 269484032 hole" ] || { cat "$tmp/map.out"; fail "map of basic.qcow2"; }
fi
exit 0
