#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 images whose data clusters live in an external data file
# (incompatible feature bit 2), made by qemu-img and written by
# qemu-io: read by vmconv with the data file name resolved relative to
# the image's directory (not the working directory, as qemu does),
# compared with qemu-img run from the image's directory.  data-file-raw
# (autoclear bit 1) makes the data file the disk itself, also where the
# L2 tables map nothing.  A data file outside the image's directory is
# refused unless --allow-outside-paths.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io python3
V=$VMCONV
T=$IMGTOOL

d=$tmp/img
mkdir "$d" "$tmp/elsewhere"

# qemu_in_dir CMD...: qemu-img and qemu-io resolve data files against
# the working directory, so run them from the image's.
qemu_in_dir() { (cd "$d" && "$@"); }

# make NAME OPTS IO-COMMANDS...: a 8 MiB image NAME.qcow2 with OPTS,
# written with qemu-io.
make_image() {
    local name=$1 opts=$2 c args=()
    shift 2
    qemu_in_dir qemu_img create -q -f qcow2 -o "$opts" "$name.qcow2" 8M
    for c in "$@"; do args+=(-c "$c"); done
    [ $# -eq 0 ] || qemu_in_dir qemu-io -f qcow2 "${args[@]}" "$name.qcow2" > /dev/null
}

# check_image NAME: vmconv (from another directory) reads what qemu-img
# (from the image's) reads; info names the data file; check is clean.
check_image() {
    local name=$1 img=$d/$1.qcow2
    (cd "$tmp/elsewhere" && $V disk convert -O raw "$img" "$tmp/$name.raw") ||
        fail "$name: convert"
    qemu_in_dir qemu_img compare -f raw -F qcow2 "$tmp/$name.raw" "$name.qcow2" ||
        fail "$name: differs from qemu-img"
    "$T" read "$img" "$tmp/$name.2.raw" || fail "$name: imgtool read"
    cmp "$tmp/$name.raw" "$tmp/$name.2.raw" || fail "$name: read differs from convert"
    $V disk compare "$img" "$tmp/$name.raw" > /dev/null || fail "$name: compare"
    $V disk info --json "$img" > "$tmp/info" || fail "$name: info"
    grep -q '"data-file": "' "$tmp/info" || { cat "$tmp/info"; fail "$name: info has no data-file"; }
    $V disk check "$img" > "$tmp/check" || { cat "$tmp/check"; fail "$name: check is not clean"; }
    qemu_in_dir qemu_img check -q "$name.qcow2" || fail "$name: qemu-img check"
}

# data-file-raw: qemu maps every cluster; zeros written reach the data
# file too.
make_image raw "data_file=raw.data,data_file_raw=on" \
    'write -P 0xab 1M 64k' 'write -z 2M 64k' 'write -P 0x11 4M 8k' 'write -P 0x5a 8388096 512'
check_image raw
grep -q '"data-file-raw": true' "$tmp/info" || fail "raw: info does not say data-file-raw"
cmp "$tmp/raw.raw" "$d/raw.data" || fail "raw: the data file is not the disk"

# Without data-file-raw: clusters go where qemu puts them; the first
# one written lands at data file offset 0, which only the COPIED flag
# tells from an unallocated entry.
make_image plain "data_file=plain.data" \
    'write -P 0x22 0 4k' 'write -P 0xcd 3M 128k' 'write -z 5M 64k'
check_image plain
grep -q '"data-file-raw": false' "$tmp/info" || fail "plain: info says data-file-raw"

# Extended L2 entries (subclusters) with a data file.
make_image extl2 "data_file=extl2.data,extended_l2=on,cluster_size=128k" \
    'write -P 0x33 8k 4k' 'write -P 0x44 1M 300k' 'write -z 1200k 8k'
check_image extl2

# A backing file with a data file: unallocated clusters read the
# backing file.
make_image base "data_file=base.data" 'write -P 0x77 0 1M'
qemu_in_dir qemu_img create -q -f qcow2 -o data_file=top.data -b base.qcow2 -F qcow2 top.qcow2
qemu_in_dir qemu-io -f qcow2 -c 'write -P 0x88 512k 64k' top.qcow2 > /dev/null
check_image top

# The name is resolved against the image's directory: a decoy of the
# same name in the working directory is not read.
cp "$d/plain.data" "$tmp/elsewhere/plain.data"
dd if=/dev/urandom of="$tmp/elsewhere/plain.data" bs=64k count=64 conv=notrunc status=none
(cd "$tmp/elsewhere" && $V disk convert -O raw "$d/plain.qcow2" "$tmp/decoy.raw") || fail "decoy: convert"
cmp "$tmp/decoy.raw" "$tmp/plain.raw" || fail "decoy: read the working directory's data file"

# data-file-raw where the L2 tables map nothing (an old raw disk given
# qcow2 metadata by hand): the data file is the disk.
make_image bare "data_file=bare.data"
dd if=/dev/urandom of="$d/bare.data" bs=64k count=16 seek=10 conv=notrunc status=none
truncate -s 8M "$d/bare.data"
printf '\x02' | dd of="$d/bare.qcow2" bs=1 seek=95 conv=notrunc status=none
$V disk convert -O raw "$d/bare.qcow2" "$tmp/bare.raw" || fail "bare: convert"
cmp "$tmp/bare.raw" "$d/bare.data" || fail "bare: not read from the data file"
$V disk map "$d/bare.qcow2" | grep -q ' data$' || fail "bare: map shows no data"

# Refusals.
cp "$d/base.qcow2" "$tmp/nodata.qcow2"
printf '\x00\x00\x00\x00\x00\x00\x00\x00' | dd of="$tmp/nodata.qcow2" bs=1 seek=72 conv=notrunc status=none
printf '\x02' | dd of="$tmp/nodata.qcow2" bs=1 seek=95 conv=notrunc status=none
expect_fail "raw bit without a data file" "$T" read "$tmp/nodata.qcow2" "$tmp/x.raw"
grep -q "data-file-raw is set but the image has no external data file" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "raw bit without a data file: wrong message"; }

# A data file outside the image's directory: refused, unless allowed.
mkdir "$tmp/out"
(cd "$tmp/out" && qemu_img create -q -f qcow2 -o data_file=../outside.data o.qcow2 8M &&
     qemu-io -f qcow2 -c 'write -P 0x99 1M 64k' o.qcow2 > /dev/null)
expect_fail "outside data file" $V disk convert -O raw "$tmp/out/o.qcow2" "$tmp/o.raw"
grep -q "data file '../outside.data' leads outside the image's directory" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "outside data file: wrong message"; }
[ ! -e "$tmp/o.raw" ] || fail "outside data file: output left behind"
$V disk convert --allow-outside-paths -O raw "$tmp/out/o.qcow2" "$tmp/o.raw" ||
    fail "outside data file with --allow-outside-paths"
(cd "$tmp/out" && qemu_img compare -f raw -F qcow2 "$tmp/o.raw" o.qcow2) || fail "outside: differs"

# A missing data file names the image, the field and the path.
mv "$d/plain.data" "$d/plain.gone"
expect_fail "missing data file" "$T" read "$d/plain.qcow2" "$tmp/x.raw"
grep -q "$d/plain.qcow2: data file 'plain.data'" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "missing data file: wrong message"; }
