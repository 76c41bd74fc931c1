#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Real VMDK images (VMware, qemu, third-party tools) read exactly as
# qemu-img reads them, with the guest-data sha256 from PROVENANCE.md;
# fuzzed and incomplete ones fail cleanly.
. "$srcdir/functions.sh"
requires_qemu_img
requires_corpus

# name  guest-data sha256 (qemu-img convert -O raw)
# The sha256 is computed for images up to 64 MiB; bigger ones (1 GiB,
# mostly holes) are compared with qemu-img only, which follows holes.
check_image() {
    local img=$1 want=$2 out=$tmp/$(basename "$1").raw
    "$IMGTOOL" read "$img" "$out" || fail "$img: read failed"
    if [ "$(stat -c %s "$out")" -le 67108864 ]; then
        [ "$(sha "$out")" = "$want" ] || fail "$img: guest data sha256 differs"
    fi
    qemu_img compare -q -f raw -F vmdk "$out" "$img" ||
        fail "$img: differs from qemu-img"
    "$IMGTOOL" check "$img" > "$tmp/check.out" ||
        { cat "$tmp/check.out"; fail "$img: check found problems"; }
    rm -f "$out"
}

check_image "$(corpus_get images/dfvfs/ext2.vmdk)" \
    a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80
check_image "$(corpus_get images/jnode/JNode.vmdk)" \
    0e52c012dcf7d869e56730828c45b9a205e43b1ac85e4d6e5c37bff3a2634236
check_image "$(corpus_get images/jnode/JNode-0.vmdk)" \
    51ab64cd89e704296d1d7d3c0fc69cdba163ec1fde7dfc636afb7dd1660e4769
check_image "$(corpus_get images/vmdk-rs/monolithicSparse.vmdk)" \
    a3bcf05f07a1c06a3380eeca8571f0efb2b85afafa1e21662b8cad436d1f7727
check_image "$(corpus_get images/vmdk-rs/streamOptimized.vmdk)" \
    a3bcf05f07a1c06a3380eeca8571f0efb2b85afafa1e21662b8cad436d1f7727
check_image "$(corpus_get images/vmdk-rs/streamOptimizedWithMarkers.vmdk)" \
    92c0f8b4280377437056f57c51ef51a5f8aeb1462ac630ef0633febcbfc3db4e
# An ESXi descriptor and its flat extent, side by side.
corpus_get images/vmdk-rs/vmfs_thick-flat.vmdk > /dev/null
check_image "$(corpus_get images/vmdk-rs/vmfs_thick.vmdk)" \
    8d43c795d24bce01b49f92744f934c1072210dcac170bb1c83a5aa56df46ab7d

# streamOptimized v3 from ESXi, 16 GiB virtual: compare through block
# status (the raw output is sparse) instead of expanding it.
v3=$(corpus_get images/qemu-iotests/iotest-version3.vmdk.bz2)
"$IMGTOOL" read "$v3" "$tmp/v3.raw" || fail "iotest-version3: read failed"
[ "$(stat -c %s "$tmp/v3.raw")" = 17179869184 ] || fail "iotest-version3: size"
qemu_img compare -q -f raw -F vmdk "$tmp/v3.raw" "$v3" ||
    fail "iotest-version3: differs from qemu-img"
"$IMGTOOL" map "$v3" | awk '$3 == "data" { n++ } END { exit n == 151 ? 0 : 1 }' ||
    fail "iotest-version3: expected 151 data runs"
"$IMGTOOL" info "$v3" | grep -q '"subformat": "streamOptimized"' ||
    fail "iotest-version3: info subformat"
rm -f "$tmp/v3.raw"

# Fuzzed (american fuzzy lop): must fail cleanly, naming the file.
afl=$(corpus_get images/qemu-iotests/afl9.vmdk.bz2)
expect_fail "afl9" "$IMGTOOL" read "$afl" "$tmp/afl.raw"
grep -q "afl9.vmdk" "$tmp/expect_fail.out" || fail "afl9: message names no file"

# Descriptors alone: their extents are missing, the error names them.
for d in vmdkrs-monolithicFlat:monolithicFlat-flat.vmdk \
         libvmdk-descriptor_file.1:test1.vmdk \
         virtmanager-test-vmdk-desc:ESX4.0-rhel4u8-32b-flat.vmdk; do
    f=$(corpus_get "vmdk-descriptors/${d%%:*}.vmdk")
    [ "$("$IMGTOOL" probe "$f")" = vmdk ] || fail "$f: not probed as vmdk"
    expect_fail "$f" "$IMGTOOL" read "$f" "$tmp/x.raw"
    grep -q "extent '${d#*:}'" "$tmp/expect_fail.out" ||
        { cat "$tmp/expect_fail.out"; fail "$f: missing extent not named"; }
done
exit 0
