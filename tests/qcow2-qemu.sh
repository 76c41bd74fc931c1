#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 images made by qemu-img and written by qemu-io read exactly as
# qemu-img reads them: v2 and v3, cluster sizes 512 to 2M, compressed
# (zlib and zstd), extended L2 with partly written subclusters, zero
# clusters hiding backing data, a 3-deep chain, and a backing file
# outside the image's directory (refused unless allowed).
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io

# same IMG: our read of IMG equals qemu-img convert's.
same() {
    local img=$1 what=$2
    "$IMGTOOL" read "$img" "$tmp/ours.raw" || fail "$what: read failed"
    qemu_img convert -O raw "$img" "$tmp/qemu.raw"
    cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "$what: data differs from qemu-img's"
}

# Writes spread over a 9 MiB disk: unaligned, across clusters and L2
# tables (512-byte clusters have 64 entries per L2 table), zeros.
io_pattern() {
    qemu-io -f qcow2 \
        -c 'write -P 0x11 0 64k' \
        -c 'write -P 0x22 70000 5000' \
        -c 'write -P 0x33 1m 1m' \
        -c 'write -z 1200k 100k' \
        -c 'write -P 0x44 4194300 8' \
        -c 'write -P 0x55 9436160 1024' \
        "$1" > /dev/null
}

for compat in 0.10 1.1; do
    for cs in 512 65536 2M; do
        img=$tmp/plain-$compat-$cs.qcow2
        qemu_img create -q -f qcow2 -o compat=$compat,cluster_size=$cs "$img" 9437184
        io_pattern "$img"
        same "$img" "compat=$compat cluster_size=$cs"
    done
done
"$IMGTOOL" info "$tmp/plain-0.10-512.qcow2" | grep -q '"subformat": "qcow2 v2"' ||
    fail "v2 info: wrong subformat"

# Compressed with both compression types.
head -c 3M /dev/urandom > "$tmp/rand.raw"
{ cat "$tmp/rand.raw"; yes vmconv | head -c 3M; head -c 1M /dev/zero; } > "$tmp/src.raw"
qemu_img convert -c -O qcow2 "$tmp/src.raw" "$tmp/c-zlib.qcow2"
same "$tmp/c-zlib.qcow2" "compressed zlib"
qemu_img convert -c -O qcow2 -o compression_type=zstd "$tmp/src.raw" "$tmp/c-zstd.qcow2"
same "$tmp/c-zstd.qcow2" "compressed zstd"
"$IMGTOOL" info "$tmp/c-zstd.qcow2" | grep -q '"compression-type": "zstd"' ||
    fail "zstd info: wrong compression type"
qemu_img convert -c -O qcow2 -o cluster_size=4k "$tmp/src.raw" "$tmp/c-4k.qcow2"
same "$tmp/c-4k.qcow2" "compressed 4k clusters"

# Extended L2: subclusters allocated, zeroed and untouched in one cluster.
qemu_img create -q -f qcow2 -o extended_l2=on "$tmp/base-x.qcow2" 4M
qemu-io -f qcow2 -c 'write -P 0xcd 0 4M' "$tmp/base-x.qcow2" > /dev/null
qemu_img create -q -f qcow2 -o extended_l2=on -b base-x.qcow2 -F qcow2 "$tmp/xl2.qcow2" 4M
qemu-io -f qcow2 -c 'write -P 0xab 4k 4k' -c 'write -z 64k 64k' \
    -c 'write -z 136k 8k' -c 'write -P 0xef 200k 2k' "$tmp/xl2.qcow2" > /dev/null
same "$tmp/xl2.qcow2" "extended L2"
"$IMGTOOL" info "$tmp/xl2.qcow2" | grep -q '"extended-l2": true' ||
    fail "extended L2 info"
"$IMGTOOL" map "$tmp/xl2.qcow2" > "$tmp/map"
grep -q '^65536 65536 zero$' "$tmp/map" || { cat "$tmp/map"; fail "extended L2 map: no zero run"; }

# Zero clusters over a backing file hide its data (v3 zero flag, both
# with and without a preallocated cluster).
qemu_img create -q -f qcow2 "$tmp/zb.qcow2" 2M
qemu-io -f qcow2 -c 'write -P 0x77 0 2M' "$tmp/zb.qcow2" > /dev/null
qemu_img create -q -f qcow2 -b zb.qcow2 -F qcow2 "$tmp/zt.qcow2" 2M
qemu-io -f qcow2 -c 'write -P 0x66 0 64k' -c 'write -z 64k 64k' \
    -c 'write -z 1m 128k' "$tmp/zt.qcow2" > /dev/null
qemu-io -f qcow2 -c 'write -P 0x55 512k 64k' -c 'write -z 512k 64k' "$tmp/zt.qcow2" > /dev/null
same "$tmp/zt.qcow2" "zero clusters over backing"
"$IMGTOOL" map "$tmp/zt.qcow2" > "$tmp/map"
grep -q '^65536 65536 zero$' "$tmp/map" || { cat "$tmp/map"; fail "zero over backing: map"; }

# A 3-deep chain with a raw base and a backing file shorter than the
# overlay (reads past its end are zeros).
head -c 1M /dev/urandom > "$tmp/c0.raw"
qemu_img create -q -f qcow2 -b c0.raw -F raw "$tmp/c1.qcow2" 3M
qemu-io -f qcow2 -c 'write -P 0x01 512k 1m' "$tmp/c1.qcow2" > /dev/null
qemu_img create -q -f qcow2 -b c1.qcow2 -F qcow2 "$tmp/c2.qcow2" 3M
qemu-io -f qcow2 -c 'write -P 0x02 1m 64k' -c 'write -z 0 4k' "$tmp/c2.qcow2" > /dev/null
qemu_img create -q -f qcow2 -b c2.qcow2 -F qcow2 "$tmp/c3.qcow2" 4M
qemu-io -f qcow2 -c 'write -P 0x03 3m 4k' "$tmp/c3.qcow2" > /dev/null
same "$tmp/c3.qcow2" "3-deep chain"

# Info fields, against what qemu-img info says.
qemu_img create -q -f qcow2 -o lazy_refcounts=on,cluster_size=16k,refcount_bits=8 \
    "$tmp/info.qcow2" 1M
qemu_img snapshot -c one "$tmp/info.qcow2"
"$IMGTOOL" info "$tmp/info.qcow2" > "$tmp/info"
for field in '"subformat": "qcow2 v3"' '"compat": "1.1"' '"cluster-size": 16384' \
             '"compression-type": "zlib"' '"dirty": false' '"corrupt": false' \
             '"lazy-refcounts": true' '"extended-l2": false' '"refcount-bits": 8' \
             '"snapshots": 1'; do
    grep -qF "$field" "$tmp/info" || { cat "$tmp/info"; fail "info: no $field"; }
done
"$IMGTOOL" info "$tmp/xl2.qcow2" > "$tmp/info"
grep -qF '"backing-filename": "base-x.qcow2"' "$tmp/info" || fail "info: backing-filename"
grep -qF '"backing-format": "qcow2"' "$tmp/info" || fail "info: backing-format"

# Dirty images read normally; images marked corrupt read with a warning.
cp "$tmp/plain-1.1-65536.qcow2" "$tmp/dirty.qcow2"
printf '\x01' | dd of="$tmp/dirty.qcow2" bs=1 seek=79 conv=notrunc status=none
same "$tmp/dirty.qcow2" "dirty bit"
"$IMGTOOL" info "$tmp/dirty.qcow2" | grep -qF '"dirty": true' || fail "info: dirty"
cp "$tmp/plain-1.1-65536.qcow2" "$tmp/corrupt.qcow2"
printf '\x02' | dd of="$tmp/corrupt.qcow2" bs=1 seek=79 conv=notrunc status=none
"$IMGTOOL" read "$tmp/corrupt.qcow2" "$tmp/ours.raw" 2> "$tmp/err" || fail "corrupt bit: read failed"
grep -q "warning: .*corrupt.qcow2.*corrupt" "$tmp/err" || { cat "$tmp/err"; fail "corrupt bit: no warning"; }
qemu_img convert -O raw "$tmp/plain-1.1-65536.qcow2" "$tmp/qemu.raw"
cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "corrupt bit: data differs"

# A backing file outside the image's directory.
mkdir "$tmp/sub"
qemu_img create -q -f qcow2 -b ../zb.qcow2 -F qcow2 "$tmp/sub/out.qcow2" 2M
expect_fail "backing outside the directory" "$IMGTOOL" read "$tmp/sub/out.qcow2" "$tmp/x.raw"
grep -q "sub/out.qcow2.*outside" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "outside backing: unclear message"; }
IMGTOOL_FLAGS=outside same "$tmp/sub/out.qcow2" "outside backing allowed"
exit 0
