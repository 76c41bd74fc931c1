#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Disks split into chunks (ovf:chunkSize: disk.vmdk.000000000, ...) and
# gzip-compressed disks (ovf:compression="gzip"), read in place by the
# vmware plugin with no copy anywhere.  The packages are built here with
# tar, split and gzip from a corpus OVF (virt-v2v's test-i-ova.ovf) and
# a streamOptimized VMDK made by qemu-img.
#
# Good: a chunked OVA (its disk a concat: of the OVA's byte ranges), the
# same chunks beside an .ovf, chunks in a .tar.gz (extracted), gzip'd
# and chunked, gzip'd in an OVA converted by vmconv convert with the
# work directory (--tmpdir) empty during and after.  Refused, with one
# error naming the chunk or member and no output: a lying chunk digest,
# a missing chunk (first, middle, last; listed in the manifest or not),
# a short chunk, a truncated last chunk, chunks out of order in the tar,
# a corrupt and a truncated gzip member.
. "$srcdir/functions.sh"
requires_qemu_img
requires tar gzip split python3

work=$tmp/work                  # the plugin's work directory
mkdir -p "$work"
export TMPDIR=$work

# An 8 MiB disk with incompressible data at 0, 3 and 6 MiB (about
# 1.5 MiB of streamOptimized VMDK: six chunks of 256 KiB).
qemu_img create -q -f raw "$tmp/disk.raw" 8M
for mib in 0 3 6; do
    head -c 500000 /dev/urandom |
        dd of="$tmp/disk.raw" bs=1M seek=$mib conv=notrunc status=none
done
qemu_img convert -O vmdk -o subformat=streamOptimized "$tmp/disk.raw" "$tmp/disk.vmdk"
CHUNK=262144
gzip -c "$tmp/disk.vmdk" > "$tmp/disk.vmdk.gz"

# make_pkg DIR STORED [gzip]: DIR/vm.ovf naming disk.vmdk split into
# chunks of CHUNK bytes (DIR/disk.vmdk.NNNNNNNNN, split from STORED),
# with ovf:size the size of STORED, and DIR/vm.mf with the SHA256 of
# the .ovf and of every chunk.
make_pkg() {
    local dir=$1 stored=$2 extra=
    [ "${3:-}" = gzip ] && extra=' ovf:compression="gzip"'
    mkdir -p "$dir"
    split -b $CHUNK -d -a 9 "$stored" "$dir/disk.vmdk."
    sed -e "s|ovf:href=\"test-ova.vmdk\"|ovf:href=\"disk.vmdk\" ovf:chunkSize=\"$CHUNK\"$extra|" \
        -e "s|ovf:size=\"349405696\"|ovf:size=\"$(stat -c %s "$stored")\"|" \
        -e 's|ovf:capacity="32" ovf:capacityAllocationUnits="byte \* 2^30"|ovf:capacity="8" ovf:capacityAllocationUnits="byte * 2^20"|' \
        "$srcdir/data/corpus/ovf/virtv2v-test-i-ova.ovf" > "$dir/vm.ovf"
    (cd "$dir" && sha256sum --tag vm.ovf disk.vmdk.0* | sed 's/^SHA256 (\(.*\)) = /SHA256(\1)= /' > vm.mf)
}

# remf DIR: rewrite DIR/vm.mf for the chunks DIR holds now.
remf() {
    (cd "$1" && sha256sum --tag vm.ovf disk.vmdk.0* | sed 's/^SHA256 (\(.*\)) = /SHA256(\1)= /' > vm.mf)
}

# chunks DIR: the chunk names in DIR, in order.
chunks() { (cd "$1" && ls disk.vmdk.0* | sort); }

work_empty() {
    [ -z "$(ls -A "$work")" ] || { ls -lR "$work"; fail "$1: left files in the work directory"; }
}

disk_path() {
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))
print([d["path"] for d in m["disks"] if d["device"]=="disk"][0])' "$1"
}

# converts_same NAME: the source NAME converts to disk.raw's data.
converts_same() {
    rm -f "$tmp/out.qcow2"
    "$VMCONV" disk convert -O qcow2 "$1" "$tmp/out.qcow2" ||
        fail "disk convert $1"
    qemu_img compare -q "$tmp/out.qcow2" "$tmp/disk.raw" ||
        fail "$1: converted data differs"
}

# refused WHAT PATTERN SOURCE: inspect fails with PATTERN in its one
# error line; convert fails too and writes no output; nothing is left
# in the work directory; the source is unchanged.
refused() {
    local what=$1 pattern=$2 src=$3 before out=$tmp/refused-out
    before=$([ -f "$src" ] && fingerprint "$src")
    expect_fail "$what" "$VMCONV" inspect "$src"
    grep -q -- "$pattern" "$tmp/expect_fail.out" || {
        cat "$tmp/expect_fail.out"; fail "$what: message lacks '$pattern'"; }
    [ "$(grep -c . "$tmp/expect_fail.out")" -eq 1 ] || {
        cat "$tmp/expect_fail.out"; fail "$what: not one error line"; }
    rm -rf "$out"
    expect_fail "$what (convert)" "$VMCONV" convert "$src" --to kvm -O "$out"
    grep -q -- "$pattern" "$tmp/expect_fail.out" || {
        cat "$tmp/expect_fail.out"; fail "$what: convert message lacks '$pattern'"; }
    [ -e "$out" ] && { ls -lR "$out"; fail "$what: convert left output"; }
    [ "$([ -f "$src" ] && fingerprint "$src")" = "$before" ] || fail "$what: source changed"
    work_empty "$what"
}

# ---- A chunked OVA, read in place.
make_pkg "$tmp/good" "$tmp/disk.vmdk"
n=$(chunks "$tmp/good" | wc -l)
[ "$n" -ge 4 ] || fail "the test disk makes only $n chunks"
(cd "$tmp/good" && tar --format=ustar -cf ../good.ova vm.ovf vm.mf $(chunks .))
before=$(fingerprint "$tmp/good.ova")
"$VMCONV" inspect --json "$tmp/good.ova" > "$tmp/good.json" || fail "inspect good.ova"
path=$(disk_path "$tmp/good.json")
case $path in
    concat:$n:*) ;;
    *) fail "good.ova: disk path '$path' is not a concatenation of $n parts" ;;
esac
# Every part is a byte range of the OVA.
python3 - "$path" "$tmp/good.ova" "$n" <<'PY' || fail "good.ova: parts are not all ranges of the OVA"
import sys
name, ova, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rest = name[len("concat:"):]
count, rest = rest.split(":", 1)
assert int(count) == n
for i in range(n):
    off, ln, plen, rest = rest.split(":", 3)
    p, rest = rest[:int(plen)], rest[int(plen) + 1:]
    assert p == ova, p
    assert int(ln) == (262144 if i < n - 1 else int(ln))
assert rest == ""
PY
grep -q '"format": "vmdk"' "$tmp/good.json" || fail "good.ova: format"
grep -q '"virtual-size": 8388608' "$tmp/good.json" || fail "good.ova: size"
work_empty "good.ova"
converts_same "$path"
"$VMCONV" convert "$tmp/good.ova" --to kvm -O "$tmp/kvm-good" > "$tmp/convert.out" 2>&1 ||
    { cat "$tmp/convert.out"; fail "convert good.ova --to kvm"; }
qemu_img compare -q "$tmp/kvm-good"/*.qcow2 "$tmp/disk.raw" ||
    fail "convert good.ova: the disk differs"
work_empty "convert good.ova"
[ "$(fingerprint "$tmp/good.ova")" = "$before" ] || fail "good.ova changed"

# The same chunks beside the .ovf.
"$VMCONV" inspect --json "$tmp/good/vm.ovf" > "$tmp/dir.json" || fail "inspect the chunk directory"
case $(disk_path "$tmp/dir.json") in
    concat:$n:0:$CHUNK:*:"$tmp/good/disk.vmdk.000000000":*) ;;
    *) fail "directory: disk path $(disk_path "$tmp/dir.json")" ;;
esac
converts_same "$(disk_path "$tmp/dir.json")"

# Chunks in a .tar.gz: extracted (it cannot be read in place), then
# concatenated.
(cd "$tmp/good" && tar -czf ../good.tgz.ova vm.ovf vm.mf $(chunks .))
"$VMCONV" inspect --json "$tmp/good.tgz.ova" > "$tmp/tgz.json" || fail "inspect a chunked .tar.gz"
case $(disk_path "$tmp/tgz.json") in
    concat:$n:0:$CHUNK:*:"$work"/vmconv-ova-*/disk.vmdk.000000000:*) ;;
    *) fail "tgz: disk path $(disk_path "$tmp/tgz.json")" ;;
esac
work_empty "tgz (the extracted chunks live as long as the model)"
"$VMCONV" convert "$tmp/good.tgz.ova" --to kvm -O "$tmp/kvm-tgz" > "$tmp/convert.out" 2>&1 ||
    { cat "$tmp/convert.out"; fail "convert good.tgz.ova"; }
qemu_img compare -q "$tmp/kvm-tgz"/*.qcow2 "$tmp/disk.raw" || fail "tgz: the disk differs"
work_empty "convert good.tgz.ova"

# gzip'd, then split (DSP0243: compressed first, then chunked).
make_pkg "$tmp/gzc" "$tmp/disk.vmdk.gz" gzip
(cd "$tmp/gzc" && tar --format=ustar -cf ../gzc.ova vm.ovf vm.mf $(chunks .))
"$VMCONV" inspect --json "$tmp/gzc.ova" > "$tmp/gzc.json" || fail "inspect gzip'd chunks"
case $(disk_path "$tmp/gzc.json") in
    gzip:concat:*) ;;
    *) fail "gzc.ova: disk path $(disk_path "$tmp/gzc.json")" ;;
esac
converts_same "$(disk_path "$tmp/gzc.json")"
work_empty "gzc.ova"

# ---- A gzip member converted: nothing in the work directory, ever.
# A larger disk, so that the conversion lasts long enough to be watched.
qemu_img create -q -f raw "$tmp/big.raw" 64M
for mib in 1 20 40 60; do
    head -c 3000000 /dev/urandom |
        dd of="$tmp/big.raw" bs=1M seek=$mib conv=notrunc status=none
done
qemu_img convert -O vmdk -o subformat=streamOptimized "$tmp/big.raw" "$tmp/big.vmdk"
mkdir "$tmp/gz"
gzip -c "$tmp/big.vmdk" > "$tmp/gz/disk.vmdk.gz"
sed -e 's|ovf:href="test-ova.vmdk"|ovf:href="disk.vmdk.gz" ovf:compression="gzip"|' \
    -e "s|ovf:size=\"349405696\"|ovf:size=\"$(stat -c %s "$tmp/gz/disk.vmdk.gz")\"|" \
    -e 's|ovf:capacity="32" ovf:capacityAllocationUnits="byte \* 2^30"|ovf:capacity="64" ovf:capacityAllocationUnits="byte * 2^20"|' \
    "$srcdir/data/corpus/ovf/virtv2v-test-i-ova.ovf" > "$tmp/gz/vm.ovf"
(cd "$tmp/gz" && tar --format=ustar -cf ../gz.ova vm.ovf disk.vmdk.gz)
mkdir "$tmp/tmpdir"
"$VMCONV" convert "$tmp/gz.ova" --to kvm -O "$tmp/kvm-gz" --tmpdir "$tmp/tmpdir" \
    > "$tmp/convert.out" 2>&1 &
pid=$!
seen=
while kill -0 $pid 2> /dev/null; do
    seen=$seen$(find "$tmp/tmpdir" "$work" -mindepth 1)
done
wait $pid || { cat "$tmp/convert.out"; fail "convert gz.ova"; }
[ -z "$seen" ] || fail "convert gz.ova: files appeared in the work directory: $seen"
[ -z "$(ls -A "$tmp/tmpdir")" ] || fail "convert gz.ova: --tmpdir is not empty"
qemu_img compare -q "$tmp/kvm-gz"/*.qcow2 "$tmp/big.raw" || fail "convert gz.ova: the disk differs"

# ---- Refusals.
# A chunk's digest lies.
make_pkg "$tmp/lie" "$tmp/disk.vmdk"
sed -i "s/^\(SHA256(disk.vmdk.000000001)= \).*/\1$(printf '%064d' 0)/" "$tmp/lie/vm.mf"
(cd "$tmp/lie" && tar -cf ../lie.ova vm.ovf vm.mf $(chunks .))
refused "lying chunk digest" "lie.ova: disk.vmdk.000000001: SHA256 digest does not match" "$tmp/lie.ova"
refused "lying chunk digest (directory)" "disk.vmdk.000000001: SHA256 digest does not match" "$tmp/lie/vm.ovf"

# A chunk is missing: in the middle (manifest listing it, or not), the
# last, the first.
make_pkg "$tmp/miss" "$tmp/disk.vmdk"
(cd "$tmp/miss" && tar -cf ../miss-mf.ova vm.ovf vm.mf $(chunks . | grep -v 000000002))
refused "missing chunk (in the manifest)" "vm.mf lists 'disk.vmdk.000000002', which is missing" "$tmp/miss-mf.ova"
(cd "$tmp/miss" && tar -cf ../miss.ova vm.ovf $(chunks . | grep -v 000000002))
refused "missing chunk" "chunk 'disk.vmdk.000000002' of 'disk.vmdk' is missing from the package" "$tmp/miss.ova"
last=$(chunks "$tmp/miss" | tail -1)
(cd "$tmp/miss" && tar -cf ../miss-last.ova vm.ovf $(chunks . | grep -v "$last"))
refused "missing last chunk" "chunk '$last' of 'disk.vmdk' is missing from the package" "$tmp/miss-last.ova"
(cd "$tmp/miss" && tar -cf ../miss-first.ova vm.ovf $(chunks . | grep -v 000000000))
refused "missing first chunk" "needs 'disk.vmdk.000000000' (the first chunk of 'disk.vmdk'), which is missing" "$tmp/miss-first.ova"
rm "$tmp/miss/disk.vmdk.000000002"
remf "$tmp/miss"
refused "missing chunk (directory)" "chunk 'disk.vmdk.000000002' of 'disk.vmdk' is missing" "$tmp/miss/vm.ovf"

# A short chunk in the middle (the manifest agreeing), and a truncated
# last one.
make_pkg "$tmp/short" "$tmp/disk.vmdk"
truncate -s 100000 "$tmp/short/disk.vmdk.000000001"
remf "$tmp/short"
(cd "$tmp/short" && tar -cf ../short.ova vm.ovf vm.mf $(chunks .))
refused "short chunk" "member 'disk.vmdk.000000001' has 100000 bytes, less than the chunk size $CHUNK (ovf:chunkSize), and is not the last chunk" "$tmp/short.ova"
refused "short chunk (directory)" "file 'disk.vmdk.000000001' has 100000 bytes, less than the chunk size" "$tmp/short/vm.ovf"
make_pkg "$tmp/trunc" "$tmp/disk.vmdk"
last=$(chunks "$tmp/trunc" | tail -1)
truncate -s -1000 "$tmp/trunc/$last"
remf "$tmp/trunc"
(cd "$tmp/trunc" && tar -cf ../trunc.ova vm.ovf vm.mf $(chunks .))
refused "truncated last chunk" "the last, '$last', is truncated or changed" "$tmp/trunc.ova"
# A chunk longer than ovf:chunkSize.
make_pkg "$tmp/long" "$tmp/disk.vmdk"
echo x >> "$tmp/long/disk.vmdk.000000000"
remf "$tmp/long"
(cd "$tmp/long" && tar -cf ../long.ova vm.ovf vm.mf $(chunks .))
refused "chunk longer than ovf:chunkSize" "member 'disk.vmdk.000000000' has $((CHUNK + 2)) bytes: a chunk holds 1 to $CHUNK" "$tmp/long.ova"

# One chunk more than ovf:size needs.
make_pkg "$tmp/extra" "$tmp/disk.vmdk"
n=$(chunks "$tmp/extra" | wc -l)
truncate -s $CHUNK "$tmp/extra/$(chunks "$tmp/extra" | tail -1)"
printf 'x' > "$tmp/extra/$(printf 'disk.vmdk.%09d' "$n")"
remf "$tmp/extra"
(cd "$tmp/extra" && tar -cf ../extra.ova vm.ovf vm.mf $(chunks .))
refused "a chunk too many" "member '$(printf 'disk.vmdk.%09d' "$n")' is a chunk more than ovf:size" "$tmp/extra.ova"

# Chunks out of order in the tar.
(cd "$tmp/good" && tar -cf ../order.ova vm.ovf vm.mf disk.vmdk.000000001 disk.vmdk.000000000 \
    $(chunks . | tail -n +3))
refused "chunks out of order" "member 'disk.vmdk.000000000' is stored before chunk 0 of 'disk.vmdk'\|member 'disk.vmdk.000000001' is stored before" "$tmp/order.ova"

# gzip members: corrupt in the middle, and cut short.
mkdir "$tmp/gzbad"
cp "$tmp/gz/vm.ovf" "$tmp/gzbad/vm.ovf"
python3 - "$tmp/gz/disk.vmdk.gz" "$tmp/gzbad/disk.vmdk.gz" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(16):
    b[len(b) // 2 + i] ^= 0xa5
open(sys.argv[2], "wb").write(bytes(b))
PY
(cd "$tmp/gzbad" && tar -cf ../gzcorrupt.ova vm.ovf disk.vmdk.gz)
refused "corrupt gzip member" "gzcorrupt.ova: disk.vmdk.gz: gzip data is corrupt" "$tmp/gzcorrupt.ova"
size=$(stat -c %s "$tmp/gz/disk.vmdk.gz")
head -c $((size / 2)) "$tmp/gz/disk.vmdk.gz" > "$tmp/gzbad/disk.vmdk.gz"
sed -i "s|ovf:size=\"$size\"|ovf:size=\"$((size / 2))\"|" "$tmp/gzbad/vm.ovf"
(cd "$tmp/gzbad" && tar -cf ../gzcut.ova vm.ovf disk.vmdk.gz)
refused "truncated gzip member" "gzcut.ova: disk.vmdk.gz: the gzip data is truncated" "$tmp/gzcut.ova"
refused "truncated gzip file (directory)" "vm.ovf: disk.vmdk.gz: the gzip data is truncated" "$tmp/gzbad/vm.ovf"
# gzip'd chunks: damage is found when the inflating source opens them,
# before any output; the message names the package and the offset of
# the first chunk.
make_pkg "$tmp/gzcbad" "$tmp/disk.vmdk.gz" gzip
last=$(chunks "$tmp/gzcbad" | tail -1)
printf 'XXXXXXXX' | dd of="$tmp/gzcbad/$last" bs=1 seek=20 conv=notrunc status=none
remf "$tmp/gzcbad"
(cd "$tmp/gzcbad" && tar -cf ../gzcbad.ova vm.ovf vm.mf $(chunks .))
refused "corrupt gzip'd chunks" "gzcbad.ova@[0-9]* ([0-9]* parts) (gzip): the gzip data is corrupt" "$tmp/gzcbad.ova"
