#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# OVA packages read by the vmware plugin, built here with tar from a
# corpus OVF (virt-v2v's test-i-ova.ovf) and a small streamOptimized
# VMDK made by qemu-img: a good OVA (its disk read in place, as a byte
# range, and converted from there), the same as a directory, a .tar.gz,
# a zip and with the .ovf in a subfolder, a gzip-compressed disk (read
# in place through an inflating source: nothing extracted); and every
# refusal: a lying manifest, a missing member, "../", absolute, symlink
# and hard link members, a truncated disk, a corrupt gzip member, a
# wrong ovf:size.  Chunked disks: ova-chunks.sh.  Each refusal is one error
# naming the package and the member, and leaves nothing behind: no
# output, nothing in the work directory; the OVA is never changed.
. "$srcdir/functions.sh"
requires_qemu_img
requires tar gzip python3

work=$tmp/work                  # the plugin's work directory (TMPDIR)
mkdir -p "$work"
export TMPDIR=$work

# An 8 MiB disk with data at 0 and 5 MiB, as raw and streamOptimized.
qemu_img create -q -f raw "$tmp/disk.raw" 8M
printf 'first sector' | dd of="$tmp/disk.raw" conv=notrunc status=none
head -c 65536 /dev/urandom | dd of="$tmp/disk.raw" bs=1M seek=5 conv=notrunc status=none
qemu_img convert -O vmdk -o subformat=streamOptimized "$tmp/disk.raw" "$tmp/disk.vmdk"

# make_pkg DIR [HREF [STORED-FILE [EXTRA-FILE-ATTRS]]]: DIR/vm.ovf
# naming HREF (default disk.vmdk) with the size of STORED-FILE, and
# DIR/vm.mf with SHA256 of both.
make_pkg() {
    local dir=$1 href=${2:-disk.vmdk} stored=${3:-$tmp/disk.vmdk} extra=${4:-}
    mkdir -p "$dir"
    [ -e "$dir/$href" ] || cp "$stored" "$dir/$href"
    sed -e "s|ovf:href=\"test-ova.vmdk\"|ovf:href=\"$href\"$extra|" \
        -e "s|ovf:size=\"349405696\"|ovf:size=\"$(stat -c %s "$stored")\"|" \
        -e 's|ovf:capacity="32" ovf:capacityAllocationUnits="byte \* 2^30"|ovf:capacity="8" ovf:capacityAllocationUnits="byte * 2^20"|' \
        "$srcdir/data/corpus/ovf/virtv2v-test-i-ova.ovf" > "$dir/vm.ovf"
    (cd "$dir" && printf 'SHA256(vm.ovf)= %s\nSHA1(%s)= %s\n' \
        "$(sha256sum vm.ovf | cut -d' ' -f1)" "$href" \
        "$(sha1sum "$href" | cut -d' ' -f1)" > vm.mf)
}

# work_empty WHAT: the work directory holds nothing.
work_empty() {
    [ -z "$(ls -A "$work")" ] || { ls -lR "$work"; fail "$1: left files in the work directory"; }
}

# refused WHAT PATTERN SOURCE [ARGS]: inspect fails with PATTERN in its
# one error, prints nothing on stdout, leaves nothing behind.
refused() {
    local what=$1 pattern=$2 src=$3 before
    shift 3
    before=$([ -f "$src" ] && fingerprint "$src")
    expect_fail "$what" "$VMCONV" inspect "$@" "$src"
    "$VMCONV" inspect "$@" "$src" > "$tmp/stdout" 2> /dev/null && :
    [ -s "$tmp/stdout" ] && fail "$what: printed a model"
    grep -q -- "$pattern" "$tmp/expect_fail.out" || {
        cat "$tmp/expect_fail.out"; fail "$what: message lacks '$pattern'"; }
    [ "$(grep -c . "$tmp/expect_fail.out")" -eq 1 ] || {
        cat "$tmp/expect_fail.out"; fail "$what: not one error line"; }
    [ "$([ -f "$src" ] && fingerprint "$src")" = "$before" ] || fail "$what: source changed"
    work_empty "$what"
}

# disk_path JSON: the path of the (only) hard disk of a model.
disk_path() {
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))
print([d["path"] for d in m["disks"] if d["device"]=="disk"][0])' "$1"
}

# converts_same PATH: the disk at PATH (a file or range:...) converts to
# the guest data of disk.raw.
converts_same() {
    rm -f "$tmp/out.qcow2"
    "$VMCONV" disk convert -O qcow2 "$1" "$tmp/out.qcow2" ||
        fail "disk convert $1"
    qemu_img compare -q "$tmp/out.qcow2" "$tmp/disk.raw" ||
        fail "$1: converted data differs"
}

# extracted_ok NAME: NAME.json's disk was extracted into the work
# directory (a member of a .tar.gz or a zip cannot be read in place), is
# the 8 MiB VMDK, and was removed with the model when inspect ended.
extracted_ok() {
    case $(disk_path "$tmp/$1.json") in
        "$work"/vmconv-ova-*/disk.vmdk) ;;
        *) fail "$1: disk not extracted into the work directory" ;;
    esac
    grep -q '"format": "vmdk"' "$tmp/$1.json" || fail "$1: format"
    grep -q '"virtual-size": 8388608' "$tmp/$1.json" || fail "$1: size"
    work_empty "$1 (the extracted copy lives as long as the model)"
}

# ---- The good OVA: .ovf first, .mf, the disk; read in place.
make_pkg "$tmp/good"
(cd "$tmp/good" && tar --format=ustar -cf ../good.ova vm.ovf vm.mf disk.vmdk)
before=$(fingerprint "$tmp/good.ova")
"$VMCONV" inspect --json "$tmp/good.ova" > "$tmp/good.json" || fail "inspect good.ova"
path=$(disk_path "$tmp/good.json")
case $path in
    range:*:*:"$tmp/good.ova") ;;
    *) fail "good.ova: disk path '$path' is not a range of the OVA" ;;
esac
grep -q '"format": "vmdk"' "$tmp/good.json" || fail "good.ova: format"
grep -q '"virtual-size": 8388608' "$tmp/good.json" || fail "good.ova: size"
work_empty "good.ova (in place: nothing extracted)"
converts_same "$path"
[ "$(fingerprint "$tmp/good.ova")" = "$before" ] || fail "good.ova changed"

# range: sources: malformed, or leaving the file, are refused.
expect_fail "malformed range" "$VMCONV" disk convert -O raw "range:x:1:$tmp/good.ova" "$tmp/r.raw"
grep -q "not a byte range source (range:OFFSET:LENGTH:PATH)" "$tmp/expect_fail.out" ||
    fail "malformed range: message"
expect_fail "range past the end" "$VMCONV" disk convert -O raw \
    "range:512:$(stat -c %s "$tmp/good.ova"):$tmp/good.ova" "$tmp/r.raw"
[ -e "$tmp/r.raw" ] && fail "a refused range left output"

# A signed package: the signature is not verified, and the model says so.
(cd "$tmp/good" && echo "SHA256(vm.mf)= 00" > vm.cert &&
    tar -cf ../signed.ova vm.ovf vm.mf vm.cert disk.vmdk && rm vm.cert)
"$VMCONV" inspect "$tmp/signed.ova" > "$tmp/signed.txt" || fail "inspect signed.ova"
grep -q "signed (.cert): the signature was not verified" "$tmp/signed.txt" ||
    fail "signed.ova: no note about the signature"

# pax and GNU tars (extended headers before the members) are read in
# place too.
for fmt in pax gnu; do
    (cd "$tmp/good" && tar --format=$fmt -cf ../$fmt.ova vm.ovf vm.mf disk.vmdk)
    "$VMCONV" inspect --json "$tmp/$fmt.ova" > "$tmp/$fmt.json" || fail "inspect a $fmt OVA"
    converts_same "$(disk_path "$tmp/$fmt.json")"
done

# ---- The same files as a directory: the .ovf beside its .mf and disk.
"$VMCONV" inspect --json "$tmp/good/vm.ovf" > "$tmp/dir.json" || fail "inspect dir"
[ "$(disk_path "$tmp/dir.json")" = "$tmp/good/disk.vmdk" ] || fail "directory: disk path"
# The directory itself is a source too.
"$VMCONV" inspect --json "$tmp/good" > "$tmp/dir2.json" || fail "inspect the directory"
[ "$(disk_path "$tmp/dir2.json")" = "$tmp/good/disk.vmdk" ] || fail "directory source: disk path"
mkdir "$tmp/two" && touch "$tmp/two/a.ovf" "$tmp/two/b.ovf"
refused "a directory of two .ovf" "the directory holds 2 .ovf files" "$tmp/two" --from vmware
sed -i "s/^\(SHA1(disk.vmdk)= \).*/\1$(printf '%040d' 0)/" "$tmp/good/vm.mf"
refused "directory: lying manifest" "disk.vmdk: SHA1 digest does not match" "$tmp/good/vm.ovf"

# ---- .ovf in a subfolder, a .tar.gz, a zip (members extracted).
mkdir -p "$tmp/sub/vm"
make_pkg "$tmp/sub/vm"
(cd "$tmp/sub" && tar -cf ../sub.ova vm/vm.ovf vm/vm.mf vm/disk.vmdk)
"$VMCONV" inspect --json "$tmp/sub.ova" > "$tmp/sub.json" || fail "inspect sub.ova"
converts_same "$(disk_path "$tmp/sub.json")"
(make_pkg "$tmp/good2"; cd "$tmp/good2" &&
    tar -czf ../good.tar.gz.ova vm.ovf vm.mf disk.vmdk)
"$VMCONV" inspect --json "$tmp/good.tar.gz.ova" > "$tmp/tgz.json" ||
    fail "inspect a .tar.gz OVA"
extracted_ok tgz
if command -v xz > /dev/null; then
    # xz hides the members from a probe: read when asked for.
    (cd "$tmp/good2" && tar -cJf ../good.txz.ova vm.ovf vm.mf disk.vmdk)
    "$VMCONV" inspect --from vmware --json "$tmp/good.txz.ova" > "$tmp/txz.json" ||
        fail "inspect a .tar.xz OVA"
    extracted_ok txz
else
    echo "SKIP: part of the test: xz is not installed (no .tar.xz OVA)"
fi
if command -v zip > /dev/null; then
    (cd "$tmp/good2" && zip -q ../good.zip.ova vm.ovf vm.mf disk.vmdk)
    "$VMCONV" inspect --from vmware --json "$tmp/good.zip.ova" > "$tmp/zip.json" ||
        fail "inspect a zip OVA"
    extracted_ok zip
else
    echo "SKIP: part of the test: zip is not installed (no zip OVA)"
fi

# ---- A gzip-compressed disk (ovf:compression="gzip"), inflated as it
# is read, in place: "gzip:range:..." in the OVA, "gzip:PATH" beside
# the .ovf.  Nothing is written anywhere.
gzip -c "$tmp/disk.vmdk" > "$tmp/disk.vmdk.gz"
make_pkg "$tmp/gz" disk.vmdk.gz "$tmp/disk.vmdk.gz" ' ovf:compression="gzip"'
(cd "$tmp/gz" && tar --format=ustar -cf ../gz.ova vm.ovf vm.mf disk.vmdk.gz)
"$VMCONV" inspect --json "$tmp/gz.ova" > "$tmp/gz.json" || fail "inspect gz.ova"
path=$(disk_path "$tmp/gz.json")
case $path in
    gzip:range:*:*:"$tmp/gz.ova") ;;
    *) fail "gz.ova: disk path '$path' is not gzip data in the OVA" ;;
esac
grep -q '"format": "vmdk"' "$tmp/gz.json" || fail "gz.ova: format"
grep -q '"virtual-size": 8388608' "$tmp/gz.json" || fail "gz.ova: size"
work_empty "gz.ova"
converts_same "$path"
"$VMCONV" inspect --json "$tmp/gz/vm.ovf" > "$tmp/gzdir.json" || fail "inspect gz dir"
[ "$(disk_path "$tmp/gzdir.json")" = "gzip:$tmp/gz/disk.vmdk.gz" ] ||
    fail "gz dir: disk path $(disk_path "$tmp/gzdir.json")"
converts_same "gzip:$tmp/gz/disk.vmdk.gz"
work_empty "gz dir"

# vmconv convert reads the disk in place (the gzip'd one through the
# inflating source), for KVM; and writes an OVA for
# VMware (-oo format=ova, streamOptimized disks) that reads back.
for o in good gz; do
    "$VMCONV" convert "$tmp/$o.ova" --to kvm -O "$tmp/kvm-$o" > "$tmp/convert.out" 2>&1 ||
        { cat "$tmp/convert.out"; fail "convert $o.ova --to kvm"; }
    qemu_img compare -q "$tmp/kvm-$o"/*.qcow2 "$tmp/disk.raw" ||
        fail "convert $o.ova: the disk differs"
    work_empty "convert $o.ova"
done
"$VMCONV" convert "$tmp/good.ova" --to vmware -O "$tmp/vmw" \
    -o subformat=streamOptimized -oo format=ova > "$tmp/convert.out" 2>&1 ||
    { cat "$tmp/convert.out"; fail "convert --to vmware -oo format=ova"; }
"$VMCONV" inspect --json "$tmp/vmw/TestOva.ova" > "$tmp/vmw.json" ||
    fail "the written OVA does not read back"
converts_same "$(disk_path "$tmp/vmw.json")"
# The package is the output: the converted VMDK went into it (verified
# first), so OUTDIR holds the OVA and the report only.
[ "$(cd "$tmp/vmw" && ls | tr '\n' ' ')" = "TestOva.ova TestOva.report.json " ] ||
    fail "OUTDIR of an OVA conversion holds: $(ls "$tmp/vmw")"
grep -q "Verified" "$tmp/convert.out" || { cat "$tmp/convert.out"; fail "the OVA's disk was not verified"; }
# -of ova is the short form.
"$VMCONV" convert "$tmp/good.ova" --to vmware -of ova -O "$tmp/vmw2" > "$tmp/convert.out" 2>&1 ||
    { cat "$tmp/convert.out"; fail "convert --to vmware -of ova"; }
[ "$(cd "$tmp/vmw2" && ls | tr '\n' ' ')" = "TestOva.ova TestOva.report.json " ] ||
    fail "-of ova: OUTDIR holds: $(ls "$tmp/vmw2")"
"$VMCONV" inspect --json "$tmp/vmw2/TestOva.ova" > "$tmp/vmw2.json" ||
    fail "the OVA written with -of ova does not read back"


# ---- Refusals.
# A manifest that lies about the disk, or about the .ovf.
make_pkg "$tmp/lie"
sed -i "s/^\(SHA1(disk.vmdk)= \).*/\1$(printf '%040d' 0)/" "$tmp/lie/vm.mf"
(cd "$tmp/lie" && tar -cf ../lie.ova vm.ovf vm.mf disk.vmdk)
refused "lying manifest" "lie.ova: disk.vmdk: SHA1 digest does not match the manifest vm.mf" "$tmp/lie.ova"
make_pkg "$tmp/lie2"
sed -i "s/^\(SHA256(vm.ovf)= \).*/\1$(printf '%064d' 0)/" "$tmp/lie2/vm.mf"
(cd "$tmp/lie2" && tar -cf ../lie2.ova vm.ovf vm.mf disk.vmdk)
refused "manifest lying about the .ovf" "vm.ovf: SHA256 digest does not match" "$tmp/lie2.ova"

# The disk is missing; the manifest lists a file the OVA lacks.
(make_pkg "$tmp/miss"; cd "$tmp/miss" && tar -cf ../missing.ova vm.ovf)
refused "missing disk" "needs 'disk.vmdk', which is missing" "$tmp/missing.ova"
(cd "$tmp/miss" && tar -cf ../missing2.ova vm.ovf vm.mf)
refused "missing member listed in the manifest" "vm.mf lists 'disk.vmdk', which is missing" "$tmp/missing2.ova"

# Hostile member names and links (tar would not store them as such).
hostile_tar() {
    python3 - "$@" <<'PY'
import io, sys, tarfile
out, kind, d = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as t:
    for n in ("vm.ovf", "vm.mf", "disk.vmdk"):
        t.add(f"{d}/{n}", arcname=n)
    i = tarfile.TarInfo()
    if kind == "dotdot":
        i.name = "../evil.vmdk"; data = b"x" * 10
    elif kind == "absolute":
        i.name = "/tmp/evil.vmdk"; data = b"x" * 10
    elif kind == "symlink":
        i.name = "link.vmdk"; i.type = tarfile.SYMTYPE; i.linkname = "/etc/passwd"; data = b""
    elif kind == "hardlink":
        i.name = "hard.vmdk"; i.type = tarfile.LNKTYPE; i.linkname = "disk.vmdk"; data = b""
    elif kind == "dup":
        i.name = "disk.vmdk"; data = b"x" * 10
    i.size = len(data)
    t.addfile(i, io.BytesIO(data) if data else None)
PY
}
make_pkg "$tmp/h"
for k in dotdot absolute symlink hardlink dup; do
    hostile_tar "$tmp/$k.ova" $k "$tmp/h"
done
refused "'..' member" "member '../evil.vmdk' leads outside the package" "$tmp/dotdot.ova"
refused "absolute member" "member '/tmp/evil.vmdk' has an absolute name" "$tmp/absolute.ova"
refused "symlink member" "member 'link.vmdk' is a link: refused" "$tmp/symlink.ova"
refused "hard link member" "member 'hard.vmdk' is a link: refused" "$tmp/hardlink.ova"
refused "duplicate member" "member 'disk.vmdk' is stored twice" "$tmp/dup.ova"

# A truncated OVA: the disk member is cut short.
size=$(stat -c %s "$tmp/good.ova")
head -c $((size - 12000)) "$tmp/good.ova" > "$tmp/trunc.ova"
refused "truncated disk" "member 'disk.vmdk'.*truncated" "$tmp/trunc.ova"
# The OVF says another size than the member has.
make_pkg "$tmp/sz"
sed -i 's/ovf:size="\([0-9]*\)"/ovf:size="1\1"/' "$tmp/sz/vm.ovf"
(cd "$tmp/sz" && tar -cf ../size.ova vm.ovf disk.vmdk)
refused "wrong ovf:size" "member 'disk.vmdk' has [0-9]* bytes, the OVF says" "$tmp/size.ova"
# A truncated gzip member (more in ova-chunks.sh).
head -c 3000 "$tmp/disk.vmdk.gz" > "$tmp/cut.gz"
make_pkg "$tmp/gzbad" disk.vmdk.gz "$tmp/cut.gz" ' ovf:compression="gzip"'
(cd "$tmp/gzbad" && tar -cf ../gzbad.ova vm.ovf disk.vmdk.gz)
refused "truncated gzip member" "gzbad.ova: disk.vmdk.gz: the gzip data is truncated" "$tmp/gzbad.ova"
# A tar holding no .ovf.
(cd "$tmp/good" && tar -cf ../noovf.ova disk.vmdk)
refused "an OVA without .ovf" "holds no .ovf" "$tmp/noovf.ova" --from vmware

# Damaged OVAs (bytes overwritten in the headers, the envelope, the
# manifest and the disk): an error or a model, never a crash or a hang.
python3 - "$tmp/good.ova" "$tmp/damaged" <<'PY'
import os, random, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
os.makedirs(out, exist_ok=True)
rnd = random.Random(13)
for i in range(40):
    b = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        at = rnd.randrange(0, 4096) if i % 2 else rnd.randrange(len(b))
        b[at] = rnd.randrange(256)
    open(f"{out}/{i}.ova", "wb").write(bytes(b))
PY
for f in "$tmp"/damaged/*.ova; do
    rc=0
    timeout 60 "$VMCONV" inspect --from vmware "$f" > /dev/null 2>&1 || rc=$?
    [ "$rc" -lt 124 ] || fail "$f: crashed or hung (exit $rc)"
done
work_empty "damaged OVAs"
