#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Damaged and hostile qcow2 images: each field corrupted in a scratch
# copy of a valid image must make imgtool fail with exit 1 and one
# message naming the file, never crash or hang.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io

# poke FILE OFFSET HEXBYTES: overwrite bytes in place.
poke() {
    local esc
    esc=$(echo "$3" | sed 's/../\\x&/g')
    printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# peek64 FILE OFFSET: a big-endian u64 as a decimal number.
peek64() { echo $((16#$(od -An -tx1 -j "$2" -N 8 "$1" | tr -d ' \n'))); }
# hex64 N: N as 16 hex digits.
hex64() { printf '%016x' "$1"; }

# must_refuse WHAT IMG [PATTERN]: reading IMG fails with exit 1 and a
# message naming IMG (and matching PATTERN).
must_refuse() {
    local what=$1 img=$2 pat=${3:-} rc=0
    timeout 60 "$IMGTOOL" read "$img" "$tmp/out.raw" qcow2 > "$tmp/err" 2>&1 || rc=$?
    if [ "$rc" -ne 1 ]; then
        cat "$tmp/err"
        fail "$what: exit $rc, expected 1"
    fi
    grep -qF "$img" "$tmp/err" || { cat "$tmp/err"; fail "$what: message does not name the file"; }
    if [ -n "$pat" ]; then
        grep -qi -- "$pat" "$tmp/err" || { cat "$tmp/err"; fail "$what: message does not say '$pat'"; }
    fi
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || { cat "$tmp/err"; fail "$what: more than one message"; }
}

# A valid image with data in the first clusters, and one compressed.
good=$tmp/good.qcow2
qemu_img create -q -f qcow2 "$good" 4M
qemu-io -f qcow2 -c 'write -P 0x5a 0 192k' "$good" > /dev/null
"$IMGTOOL" read "$good" "$tmp/out.raw" qcow2 || fail "the valid image does not read"
head -c 1M /dev/urandom > "$tmp/r.raw"
yes hostile | head -c 1M >> "$tmp/r.raw"
comp=$tmp/comp.qcow2
qemu_img convert -c -O qcow2 "$tmp/r.raw" "$comp"

l1=$(peek64 "$good" 40)
l2=$(( $(peek64 "$good" "$l1") & 0x00fffffffffffe00 ))
n=0
# case NAME PATTERN: a fresh copy in $img to corrupt, then refused.
fresh() { n=$((n + 1)); img=$tmp/case$n.qcow2; cp "${1:-$good}" "$img"; }

fresh; poke "$img" 0 58585858;                 must_refuse "bad magic" "$img" magic
fresh; poke "$img" 4 00000004;                 must_refuse "version 4" "$img" version
fresh; poke "$img" 4 00000001;                 must_refuse "qcow v1" "$img" "version 1"
fresh; poke "$img" 20 0000001e;                must_refuse "cluster_bits 30" "$img" cluster_bits
fresh; poke "$img" 20 00000008;                must_refuse "cluster_bits 8" "$img" cluster_bits
fresh; poke "$img" 36 ffffffff;                must_refuse "l1_size huge" "$img" l1_size
fresh; poke "$img" 36 00000000;                must_refuse "l1_size too small" "$img" l1_size
fresh; poke "$img" 24 7fffffffffffffff;        must_refuse "size huge" "$img" size
fresh; poke "$img" 40 0000001000000000;        must_refuse "L1 past EOF" "$img" "outside the file"
fresh; poke "$img" 40 0000000000030200;        must_refuse "L1 unaligned" "$img" aligned
fresh; poke "$img" 48 0000001000000000;        must_refuse "refcount table past EOF" "$img" "refcount table"
fresh; poke "$img" 56 00100000;                must_refuse "refcount table huge" "$img" refcount_table_clusters
fresh; poke "$img" 60 00100000;                must_refuse "too many snapshots" "$img" nb_snapshots
fresh; poke "$img" 32 00000001;                must_refuse "AES encryption" "$img" "encrypted qcow2 is not supported"
fresh; poke "$img" 32 00000002;                must_refuse "LUKS encryption" "$img" "encrypted qcow2 is not supported"
fresh; poke "$img" 72 0000000000000400;        must_refuse "unknown incompatible bit" "$img" "incompatible feature bit 10"
fresh; poke "$img" 72 0000000000000004;        must_refuse "data file bit, no name" "$img" "external data file"
fresh; poke "$img" 72 0000000000000008;        must_refuse "zstd bit without type" "$img" "compression"
fresh; poke "$img" 104 05;                     must_refuse "compression type 5" "$img" "compression type"
fresh; poke "$img" 96 00000007;                must_refuse "refcount_order 7" "$img" refcount_order
fresh; poke "$img" 100 00000007;               must_refuse "header_length 7" "$img" header_length
fresh; poke "$img" 100 00100000;               must_refuse "header_length huge" "$img" header_length
fresh; poke "$img" 116 00100000;               must_refuse "extension overflowing cluster 0" "$img" "overflows"
fresh; poke "$img" 112 e2792aca00000005716377fe; poke "$img" 120 0000000000000000
                                               must_refuse "backing format with a control character" "$img" "control character"
fresh; poke "$img" 8 0000000000000200; poke "$img" 16 00001388
                                               must_refuse "backing_file_size 5000" "$img" backing_file_size
fresh; poke "$img" 8 000000000000fff0; poke "$img" 16 00000100
                                               must_refuse "backing name outside cluster 0" "$img" "backing file name"
fresh; poke "$img" "$l1" 8000000000030200;     must_refuse "L1 entry unaligned" "$img" aligned
[ "$l1" -gt 0 ] && { fresh; poke "$img" "$l1" 8000001000000000; must_refuse "L1 entry past EOF" "$img" "past the end"; }
fresh; poke "$img" "$l1" c0000000000a0000;     must_refuse "L1 entry reserved bits" "$img" "reserved bits"
fresh; poke "$img" "$l2" 8000001000000000;     must_refuse "L2 entry past EOF" "$img" "past the end"
fresh; poke "$img" "$l2" 8000000000012000;     must_refuse "L2 entry unaligned" "$img" aligned
fresh; poke "$img" "$l2" 80000000000a0002;     must_refuse "L2 entry reserved bits" "$img" "reserved bits"
fresh; poke "$img" "$l2" 8000000000000000;     must_refuse "L2 COPIED without offset" "$img" COPIED

# Compressed clusters: descriptor past EOF, data that does not inflate
# to a whole cluster.
cl1=$(peek64 "$comp" 40)
cl2=$(( $(peek64 "$comp" "$cl1") & 0x00fffffffffffe00 ))
fresh "$comp"; poke "$img" "$cl2" 4000010000000000; must_refuse "compressed past EOF" "$img" "past the end"
fresh "$comp"; poke "$img" "$cl2" 4000000000000100; must_refuse "compressed in the header" "$img" "header cluster"
# guest cluster 16 (1 MiB) is compressible text
d=$(( $(peek64 "$comp" $((cl2 + 128))) & 0x003fffffffffffff ))
fresh "$comp"; head -c 512 /dev/urandom | dd of="$img" bs=1 seek="$d" conv=notrunc status=none
                                               must_refuse "compressed garbage" "$img" "compressed cluster"
fresh "$comp"; dd if=/dev/zero of="$img" bs=1 seek="$d" count=4096 conv=notrunc status=none
                                               must_refuse "compressed zeros" "$img" "compressed cluster"

# Tiny and truncated files.
img=$tmp/empty.qcow2; : > "$img";                 must_refuse "empty file" "$img" "too small"
img=$tmp/short.qcow2; head -c 100 "$good" > "$img"; must_refuse "truncated header" "$img"
img=$tmp/trunc.qcow2; head -c 200000 "$good" > "$img"; must_refuse "truncated image" "$img"

# A probed damaged qcow2 (any "QFI\xfb") never falls back to raw.
fresh; poke "$img" 4 00000009
rc=0; "$IMGTOOL" read "$img" "$tmp/out.raw" > "$tmp/err" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$tmp/err"; fail "probed damaged image: exit $rc"; }

# A backing chain that loops on itself.
qemu_img create -q -f qcow2 "$tmp/loop.qcow2" 1M
qemu_img rebase -u -f qcow2 -b loop.qcow2 -F qcow2 "$tmp/loop.qcow2"
must_refuse "backing loop" "$tmp/loop.qcow2" "loop"
exit 0
