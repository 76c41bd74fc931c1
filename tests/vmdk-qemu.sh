#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VMDK images made by qemu-img in every subformat it writes, with data
# runs, zero runs and holes, read exactly as qemu-img reads them.
. "$srcdir/functions.sh"
requires_qemu_img

# A sparse raw disk of SIZE bytes with data at the given offsets.
mk_raw() {
    local out=$1 size=$2 off
    shift 2
    truncate -s "$size" "$out"
    for off in "$@"; do
        head -c 100000 /dev/urandom |
            dd of="$out" bs=1 seek="$off" conv=notrunc status=none
    done
}

# Read IMG with imgtool; it must equal RAW and pass our check (exit
# CHECK_RC: 0 clean, 3 leaks only).
same() {
    local img=$1 raw=$2 check_rc=${3:-0} rc=0
    "$IMGTOOL" read "$img" "$tmp/out.raw" || fail "$img: read failed"
    qemu_img compare -q -f raw -F raw "$raw" "$tmp/out.raw" ||
        fail "$img: differs from the data written"
    cmp -s <(stat -c %s "$raw") <(stat -c %s "$tmp/out.raw") ||
        fail "$img: size differs"
    "$IMGTOOL" check "$img" > "$tmp/check.out" || rc=$?
    [ "$rc" -eq "$check_rc" ] ||
        { cat "$tmp/check.out"; fail "$img: check exit $rc, not $check_rc"; }
    rm -f "$tmp/out.raw"
}

# 6 MiB + 3 sectors: not a multiple of the grain.
mk_raw "$tmp/small.raw" $((6 * 1048576 + 1536)) 0 70000 1048576 5000000 \
    $((6 * 1048576 + 1536 - 100000))
for sub in monolithicSparse monolithicFlat streamOptimized \
           twoGbMaxExtentSparse twoGbMaxExtentFlat; do
    qemu_img convert -f raw -O vmdk -o subformat=$sub "$tmp/small.raw" \
        "$tmp/s-$sub.vmdk"
    same "$tmp/s-$sub.vmdk" "$tmp/small.raw"
    "$IMGTOOL" info "$tmp/s-$sub.vmdk" | grep -q "\"subformat\": \"$sub\"" ||
        fail "$sub: info subformat"
done

# Split subformats over several extents (2 GiB each, sparse on disk).
mk_raw "$tmp/big.raw" $((4 * 1073741824 + 65536 * 3)) 0 \
    $((2 * 1073741824 - 30000)) $((4 * 1073741824 + 65536 * 3 - 100000))
for sub in twoGbMaxExtentSparse twoGbMaxExtentFlat; do
    qemu_img convert -f raw -O vmdk -o subformat=$sub "$tmp/big.raw" \
        "$tmp/b-$sub.vmdk"
    n=$(grep -c '^RW ' "$tmp/b-$sub.vmdk")
    [ "$n" -eq 3 ] || fail "$sub: expected 3 extents, got $n"
    same "$tmp/b-$sub.vmdk" "$tmp/big.raw"
    rm -f "$tmp"/b-"$sub"*
done
rm -f "$tmp/big.raw"

# Zeroed grains (version 2, GTE 1): written zeros read as zeros.
qemu_img convert -f raw -O vmdk -o zeroed_grain=on "$tmp/small.raw" \
    "$tmp/zg.vmdk"
qemu-io -f vmdk -c 'write -z 0 128k' -c 'write -z 1M 64k' "$tmp/zg.vmdk" \
    > /dev/null || fail "qemu-io write -z"
qemu_img convert -f vmdk -O raw "$tmp/zg.vmdk" "$tmp/zg.raw"
cmp -s -n 65536 "$tmp/zg.raw" /dev/zero || fail "zeroed grain: not zeros"
# qemu leaves the data grains it replaced with zero grains unused.
same "$tmp/zg.vmdk" "$tmp/zg.raw" 3
grep -q "^leak: .* 196608 bytes after the metadata" "$tmp/check.out" ||
    { cat "$tmp/check.out"; fail "zeroed grain: the 3 replaced grains are not leaks"; }
"$IMGTOOL" map "$tmp/zg.vmdk" | grep -q '^0 131072 zero$' ||
    { "$IMGTOOL" map "$tmp/zg.vmdk"; fail "zeroed grain: not mapped as zero"; }
exit 0
