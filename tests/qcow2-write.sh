#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# raw -> qcow2 round trips: what vmconv writes passes qemu-img check
# with no errors and no leaks, and qemu-img compare and our own reader
# find it identical to the input; for every cluster size, compression
# and compat level, and for overlays over a backing file.
. "$srcdir/functions.sh"
requires_qemu_img

# put FILE OFFSET SOURCE COUNT: COUNT bytes from SOURCE at OFFSET.
put() { head -c "$4" "$3" | dd of="$1" bs=64k seek="$2" oflag=seek_bytes conv=notrunc status=none; }

# An input with random data, text, explicit zeros, holes and a short
# tail (the size is not a multiple of any cluster size but 512).
in=$tmp/in.raw
truncate -s $((6 * 1048576 + 12800)) "$in"
put "$in" 0 /dev/urandom 100000
yes 'qcow2 round trip' | head -c 1M > "$tmp/text"
put "$in" 1048576 "$tmp/text" 300000
put "$in" 2097152 /dev/zero 524288
put "$in" $((3 * 1048576 + 4096)) /dev/urandom 65536
put "$in" $((4 * 1048576 - 512)) /dev/urandom 1024
put "$in" $((6 * 1048576 + 11800)) "$tmp/text" 1000

# check_image IMG REF WHAT: qemu-img check clean, same data as REF.
check_image() {
    local img=$1 ref=$2 what=$3
    qemu_img check "$img" > "$tmp/check.out" 2>&1 ||
        { cat "$tmp/check.out"; fail "$what: qemu-img check failed"; }
    grep -q "No errors were found" "$tmp/check.out" ||
        { cat "$tmp/check.out"; fail "$what: qemu-img check found problems"; }
    if grep -qi "leak" "$tmp/check.out"; then
        cat "$tmp/check.out"; fail "$what: leaked clusters"
    fi
    qemu_img compare -q "$ref" "$img" || fail "$what: qemu-img compare differs"
    "$IMGTOOL" read "$img" "$tmp/back.raw" || fail "$what: read back failed"
    cmp "$ref" "$tmp/back.raw" || fail "$what: read back differs"
}

for opts in "" cluster_size=4K cluster_size=2M cluster_size=512 compat=0.10 \
            compress=on compression_type=zstd,compress=on \
            cluster_size=4K,compress=on compat=0.10,compress=on \
            cluster_size=2M,compression_type=zstd,compress=on; do
    out=$tmp/out.qcow2
    rm -f "$out"
    "$IMGTOOL" create qcow2 "$opts" "$in" "$out" || fail "[$opts]: create failed"
    check_image "$out" "$in" "[$opts]"
    case $opts in
        "") plain_size=$(stat -c %s "$out") ;;
        compress=on) comp_size=$(stat -c %s "$out") ;;
    esac
    qemu_img info "$out" > "$tmp/info"
    case $opts in
        *compat=0.10*) grep -q "compat: 0.10" "$tmp/info" || fail "[$opts]: not v2" ;;
        *) grep -q "compat: 1.1" "$tmp/info" || fail "[$opts]: not v3" ;;
    esac
    case $opts in
        *zstd*) grep -q "compression type: zstd" "$tmp/info" || fail "[$opts]: not zstd" ;;
    esac
    case $opts in
        *compress=on*)
            qemu_img map --output=json "$out" | grep -q '"compressed": true' ||
            qemu_img check "$out" | grep -q '[1-9][0-9.]*% compressed' ||
                fail "[$opts]: nothing compressed" ;;
    esac
done
[ "$comp_size" -lt "$plain_size" ] || fail "compressed output is not smaller"

# Random data does not compress: stored as plain clusters, still clean.
head -c 1M /dev/urandom > "$tmp/rand.raw"
"$IMGTOOL" create qcow2 compress=on "$tmp/rand.raw" "$tmp/rand.qcow2"
check_image "$tmp/rand.qcow2" "$tmp/rand.raw" "incompressible"

# A size that is not whole sectors is stored rounded up, as qemu-img
# does (qemu drops a partial last sector).
head -c 1000 "$tmp/text" > "$tmp/odd.raw"
"$IMGTOOL" create qcow2 "" "$tmp/odd.raw" "$tmp/odd.qcow2"
qemu_img info "$tmp/odd.qcow2" | grep -q "(1024 bytes)" || fail "odd size: not rounded to 1024"
qemu_img compare -q "$tmp/odd.raw" "$tmp/odd.qcow2" || fail "odd size: data differs"

# An empty disk, and a disk of nothing but zeros.
truncate -s 0 "$tmp/zero0.raw"
"$IMGTOOL" create qcow2 "" "$tmp/zero0.raw" "$tmp/zero0.qcow2"
qemu_img check "$tmp/zero0.qcow2" > /dev/null || fail "empty disk: check"
truncate -s 5M "$tmp/zeros.raw"
"$IMGTOOL" create qcow2 "" "$tmp/zeros.raw" "$tmp/zeros.qcow2"
check_image "$tmp/zeros.qcow2" "$tmp/zeros.raw" "all zeros"

# Overlays: zero clusters inside written requests must hide the backing
# file's data (v3: zero flag; v2: real zero clusters).
qemu_img create -q -f qcow2 "$tmp/base.qcow2" 4M
qemu-io -f qcow2 -c 'write -P 0x77 0 4M' "$tmp/base.qcow2" > /dev/null 2>&1 ||
    { head -c 4M /dev/zero | tr '\0' 'w' > "$tmp/b.raw";
      qemu_img convert -O qcow2 "$tmp/b.raw" "$tmp/base.qcow2"; }
ov=$tmp/ov.raw
head -c 4M /dev/zero | tr '\0' 'o' > "$ov"
put "$ov" 65536 /dev/zero 65536           # a zero cluster in each MiB
put "$ov" $((1048576 + 131072)) /dev/zero 65536
put "$ov" $((3 * 1048576)) /dev/zero 524288
for compat in 1.1 0.10; do
    rm -f "$tmp/ov.qcow2"
    "$IMGTOOL" create qcow2 "compat=$compat,backing_file=base.qcow2,backing_fmt=qcow2" \
        "$ov" "$tmp/ov.qcow2" || fail "overlay $compat: create failed"
    check_image "$tmp/ov.qcow2" "$ov" "overlay compat=$compat"
    qemu_img info "$tmp/ov.qcow2" | grep -q "backing file format: qcow2" ||
        fail "overlay $compat: no backing format"
done
# The backing format is probed when not given, but never as raw.
rm -f "$tmp/ov.qcow2"
"$IMGTOOL" create qcow2 backing_file=base.qcow2 "$ov" "$tmp/ov.qcow2" ||
    fail "overlay with probed backing format"
"$IMGTOOL" info "$tmp/ov.qcow2" | grep -q '"backing-format": "qcow2"' ||
    fail "probed backing format not written"
head -c 4M /dev/zero > "$tmp/base.raw"
expect_fail "raw backing without backing_fmt" \
    "$IMGTOOL" create qcow2 backing_file=base.raw "$ov" "$tmp/ov2.qcow2"
grep -q "backing_fmt" "$tmp/expect_fail.out" || fail "raw backing: unclear message"
[ ! -e "$tmp/ov2.qcow2" ] || fail "raw backing: output left behind"

# Bad options are refused clearly.
for bad in cluster_size=1000 cluster_size=4M compat=2 compression_type=lz4 \
           compat=0.10,compression_type=zstd backing_fmt=qcow2; do
    expect_fail "option $bad" "$IMGTOOL" create qcow2 "$bad" "$in" "$tmp/bad.qcow2"
    [ ! -e "$tmp/bad.qcow2" ] || fail "option $bad: output left behind"
done
exit 0
