#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every readable image of the shared corpus (made by Hyper-V, VMware,
# VirtualBox-era tools, Windows and qemu) through `vmconv disk convert`:
# the raw output must have the guest-data sha256 recorded in
# corpus/PROVENANCE.md (qemu-img's reading), and converting it on into
# each writable format must keep it identical.  Large sparse images are
# checked with qemu-img compare instead of a sha of gigabytes of zeros.
. "$srcdir/functions.sh"
requires_corpus
requires_qemu_img
V=$VMCONV

# image (relative to corpus/images), companions, guest-data sha256
cases=(
    "qemu-iotests/iotest-dynamic-1G.vhdx.bz2||d3d112d8dab7fd360609f7d5a7b769904b7a2a7d7b6b8c535f65a23293c05478"
    "dissect/dynamic.vhd.gz||ecff2ef6615a3cddc6a6885f1c6d9cf13a232697e1dc6575f2c2f01f57247784"
    "dissect/fixed.vhdx.gz||bc0be4623b15aa84216fb31ba24e3b621ec7f1c72d198c990ac0eced222d9f62"
    "dissect/basic.qcow2.gz||3c86a52ad19ebbe34acffb812d276817ddca56522eb72de2b984d70ffb20582f"
    "dissect/basic-zstd.qcow2.gz||3c86a52ad19ebbe34acffb812d276817ddca56522eb72de2b984d70ffb20582f"
    "dissect/backing-chain-1.qcow2.gz|dissect/backing-chain-2.qcow2.gz dissect/backing-chain-3.qcow2.gz|186334af67c1acb54b08ded0b6a419571000755d4c810c8b768a30281e2ab074"
    "dfvfs/ext2.qcow2||a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80"
    "dfvfs/ext2.vhd||870be7ae16c1fa8faab05c6eb9205dc9a7ae35c5f552c5cf8a267c0bc6a5cb99"
    "dfvfs/ext2.vmdk||a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80"
    "dfvfs/windows_volume.qcow2||44abe9deca9658f331a2bdba2deb53192d04f35d157a1fb3ba0597b03f0524f2"
    "jnode/JNode.vmdk||0e52c012dcf7d869e56730828c45b9a205e43b1ac85e4d6e5c37bff3a2634236"
    "jnode/JNode-0.vmdk||51ab64cd89e704296d1d7d3c0fc69cdba163ec1fde7dfc636afb7dd1660e4769"
    "vmdk-rs/monolithicSparse.vmdk||a3bcf05f07a1c06a3380eeca8571f0efb2b85afafa1e21662b8cad436d1f7727"
    "vmdk-rs/streamOptimized.vmdk||a3bcf05f07a1c06a3380eeca8571f0efb2b85afafa1e21662b8cad436d1f7727"
    "vmdk-rs/streamOptimizedWithMarkers.vmdk||92c0f8b4280377437056f57c51ef51a5f8aeb1462ac630ef0633febcbfc3db4e"
    "vmdk-rs/vmfs_thick.vmdk|vmdk-rs/vmfs_thick-flat.vmdk|8d43c795d24bce01b49f92744f934c1072210dcac170bb1c83a5aa56df46ab7d"
)

failures=0
n=0
for c in "${cases[@]}"; do
    IFS='|' read -r rel companions want <<<"$c"
    n=$((n + 1))
    d=$tmp/c$n
    files=("images/$rel")
    for comp in $companions; do files+=("images/$comp"); done
    corpus_has "${files[@]}" || continue
    img=$(corpus_get "images/$rel" "$d")
    for comp in $companions; do corpus_get "images/$comp" "$d" >/dev/null; done
    before=$(fingerprint "$img")
    if ! $V disk convert -O raw "$img" "$d/out.raw" 2>"$tmp/err"; then
        echo "FAIL $rel: $(cat "$tmp/err")"; failures=$((failures + 1)); continue
    fi
    got=$(sha "$d/out.raw")
    if [ "$got" != "$want" ]; then
        echo "FAIL $rel: guest data sha256 $got, expected $want"
        failures=$((failures + 1)); continue
    fi
    for o in "qcow2" "qcow2 -c" "vmdk -o subformat=streamOptimized" "vhdx" "vpc"; do
        set -- $o
        f=$1; shift
        if ! $V disk convert -O "$f" "$@" "$img" "$d/out.$f" 2>"$tmp/err" ||
           ! $V -q disk compare "$d/out.raw" "$d/out.$f" >"$tmp/cmp" 2>&1; then
            echo "FAIL $rel -> $o: $(cat "$tmp/err" "$tmp/cmp")"
            failures=$((failures + 1))
        fi
        rm -f "$d/out.$f"
    done
    [ "$(fingerprint "$img")" = "$before" ] || fail "$rel: the source changed"
    echo "ok   $rel"
    rm -rf "$d"
done

# Large, nearly empty images: compare with qemu-img's own reading.
for rel in qemu-iotests/hyperv2012r2-dynamic.vhd.bz2 qemu-iotests/iotest-version3.vmdk.bz2; do
    d=$tmp/big; mkdir -p "$d"
    img=$(corpus_get "images/$rel" "$d")
    if $V disk convert -O qcow2 "$img" "$d/out.qcow2" 2>"$tmp/err" &&
       qemu_img compare "$img" "$d/out.qcow2" >"$tmp/cmp" 2>&1; then
        echo "ok   $rel"
    else
        echo "FAIL $rel: $(cat "$tmp/err" "$tmp/cmp")"; failures=$((failures + 1))
    fi
    rm -rf "$d"
done

# Damaged or hostile corpus images: one clear error naming the file.
for rel in qemu-iotests/afl9.vmdk.bz2 dfvfs/image.vhd dfvfs/image-differential.vhd; do
    d=$tmp/bad; mkdir -p "$d"
    img=$(corpus_get "images/$rel" "$d")
    rc=0; $V disk convert -O raw "$img" "$d/out.raw" 2>"$tmp/err" || rc=$?
    if [ $rc -ne 1 ] || ! grep -q "$(basename "$img")" "$tmp/err" || [ -e "$d/out.raw" ]; then
        echo "FAIL $rel: expected a clean refusal, got exit $rc: $(cat "$tmp/err")"
        failures=$((failures + 1))
    else
        echo "ok   $rel refused: $(cat "$tmp/err")"
    fi
    rm -rf "$d"
done

[ $failures -eq 0 ] || fail "$failures corpus checks failed"
