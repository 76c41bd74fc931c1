#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv convert checks an OVA manifest's disk digests while it copies
# the disks (VMC_READ_DEFER_DIGESTS), not in a pass of its own before:
#  - a good OVA converts; the plan (--dry-run) says the digests are
#    checked while copying, the report says each one matched;
#  - an OVA whose disk member has one byte changed (manifest kept)
#    fails with one error naming the OVA, the member and both digests,
#    exit 1 (bad input), no OUTDIR, no temporary directory, nothing in
#    the work directory, the OVA unchanged; inspect still refuses it up
#    front with the manifest's message;
#  - a member damaged in its header (it cannot even be opened) is
#    refused with the digest's message too;
#  - the same for a disk beside an .ovf;
#  - Ctrl-C during the copy stops the hashing too (exit 5, nothing left);
#  - a version 1 plugin (tests/old-plugins, which knows no flags)
#    still converts.
# Chunked disks: ova-chunks.sh.
. "$srcdir/functions.sh"
requires_qemu_img
requires tar python3

work=$tmp/work                  # the plugin's work directory (TMPDIR)
mkdir -p "$work"
export TMPDIR=$work

# An 8 MiB disk with data at 0 and 5 MiB, as streamOptimized VMDK.
qemu_img create -q -f raw "$tmp/disk.raw" 8M
printf 'first sector' | dd of="$tmp/disk.raw" conv=notrunc status=none
head -c 65536 /dev/urandom | dd of="$tmp/disk.raw" bs=1M seek=5 conv=notrunc status=none
qemu_img convert -O vmdk -o subformat=streamOptimized "$tmp/disk.raw" "$tmp/disk.vmdk"

# make_pkg DIR STORED: DIR/vm.ovf naming disk.vmdk (a copy of STORED),
# DIR/vm.mf with the SHA256 of both.
make_pkg() {
    local dir=$1 stored=$2
    mkdir -p "$dir"
    cp "$stored" "$dir/disk.vmdk"
    sed -e "s|ovf:href=\"test-ova.vmdk\"|ovf:href=\"disk.vmdk\"|" \
        -e "s|ovf:size=\"349405696\"|ovf:size=\"$(stat -c %s "$stored")\"|" \
        -e 's|ovf:capacity="32" ovf:capacityAllocationUnits="byte \* 2^30"|ovf:capacity="'$(($(stat -c %s "$3") >> 20))'" ovf:capacityAllocationUnits="byte * 2^20"|' \
        "$srcdir/data/corpus/ovf/virtv2v-test-i-ova.ovf" > "$dir/vm.ovf"
    (cd "$dir" && printf 'SHA256(vm.ovf)= %s\nSHA256(disk.vmdk)= %s\n' \
        "$(sha vm.ovf)" "$(sha disk.vmdk)" > vm.mf)
}

# ova DIR OVA: a stored tar of the package in DIR.
ova() { (cd "$1" && tar --format=ustar -cf "$2" vm.ovf vm.mf disk.vmdk); }

# member_offset OVA: where disk.vmdk's data starts in OVA.
member_offset() {
    python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1])
print(t.getmember("disk.vmdk").offset_data)' "$1"
}

# flip FILE OFFSET: change one byte.
flip() {
    python3 -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o)
b = f.read(1)[0]; f.seek(o); f.write(bytes([b ^ 0x55]))' "$1" "$2"
}

temp_dirs() { ls -A "$tmp" | grep '^\.out\.vmconv-' || :; }

work_empty() {
    [ -z "$(ls -A "$work")" ] || { ls -lR "$work"; fail "$1: left files in the work directory"; }
}

# refused_convert WHAT PATTERN SOURCE [ARGS]: convert fails (exit 1)
# with one error line matching PATTERN (grep -E) and leaves nothing
# behind.
refused_convert() {
    local what=$1 pattern=$2 src=$3 before rc=0 out=$tmp/out
    shift 3
    before=$(fingerprint "$src")
    rm -rf "$out"
    "$VMCONV" convert "$src" --to kvm -O "$out" --no-guest-fix "$@" \
        > "$tmp/stdout" 2> "$tmp/err" || rc=$?
    [ $rc -eq 1 ] || { cat "$tmp/err"; fail "$what: exit $rc, expected 1 (bad input)"; }
    grep -Eq -- "$pattern" "$tmp/err" || {
        cat "$tmp/err"; fail "$what: message lacks '$pattern'"; }
    [ "$(grep -c '^vmconv: ' "$tmp/err")" -eq 1 ] || {
        cat "$tmp/err"; fail "$what: not one error line"; }
    [ ! -e "$out" ] || { ls -lR "$out"; fail "$what: OUTDIR left behind"; }
    [ -z "$(temp_dirs)" ] || fail "$what: temporary directory left: $(temp_dirs)"
    [ "$(fingerprint "$src")" = "$before" ] || fail "$what: source changed"
    work_empty "$what"
}

# ---- A good OVA.
make_pkg "$tmp/good" "$tmp/disk.vmdk" "$tmp/disk.raw"
ova "$tmp/good" "$tmp/good.ova"
mf_hex=$(sha "$tmp/good/disk.vmdk")

"$VMCONV" convert "$tmp/good.ova" --to kvm -O "$tmp/plan" --dry-run \
    > "$tmp/plan.txt" 2> /dev/null || fail "dry run of good.ova"
grep -q "^  digests:   1 file of the manifest, checked while the disks are copied, before anything is kept$" \
    "$tmp/plan.txt" || { cat "$tmp/plan.txt"; fail "the plan does not say when the manifest is checked"; }
"$VMCONV" convert "$tmp/good.ova" --to kvm -O "$tmp/plan" --dry-run --json \
    > "$tmp/plan.json" 2> /dev/null || fail "dry run --json of good.ova"
python3 - "$tmp/plan.json" "$tmp/good.ova" "$mf_hex" <<'PY' || fail "plan: digests"
import json, sys
doc, ova, hx = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
d = doc["digests"]
assert d["checked"].startswith("while the disks are copied"), d
[f] = d["files"]
assert f["file"] == ova + ": disk.vmdk", f
assert f["path"].startswith("range:") and f["path"].endswith(":" + ova), f
assert f["algorithm"] == "SHA256" and f["expected"] == hx, f
assert f["actual"] is None and f["matched"] is None, f
PY
[ ! -e "$tmp/plan" ] || fail "the dry run wrote OUTDIR"

"$VMCONV" convert "$tmp/good.ova" --to kvm -O "$tmp/kvm" > "$tmp/convert.txt" 2>&1 ||
    { cat "$tmp/convert.txt"; fail "convert good.ova"; }
grep -q "^Digests: 1 of 1 file matched the manifest (read while copying)\.$" "$tmp/convert.txt" ||
    { cat "$tmp/convert.txt"; fail "convert good.ova: no digest line"; }
qemu_img compare -q "$tmp/kvm"/*.qcow2 "$tmp/disk.raw" || fail "convert good.ova: the disk differs"
python3 - "$tmp/kvm/TestOva.report.json" "$mf_hex" <<'PY' || fail "report: digests"
import json, sys
doc, hx = json.load(open(sys.argv[1])), sys.argv[2]
[f] = doc["digests"]["files"]
assert f["matched"] is True and f["actual"] == hx == f["expected"], f
assert doc["result"]["ok"], doc["result"]
PY
work_empty "convert good.ova"
# inspect still checks the disk itself (no digests left in the model).
"$VMCONV" inspect "$tmp/good.ova" > /dev/null || fail "inspect good.ova"

# ---- One byte of the disk member changed, in its data: the VMDK still
# opens, the copy may even succeed; the digest does not.
cp "$tmp/good.ova" "$tmp/bad.ova"
off=$(member_offset "$tmp/bad.ova")
flip "$tmp/bad.ova" $((off + $(stat -c %s "$tmp/disk.vmdk") / 2))
bad_hex=$(python3 -c 'import hashlib, sys
d = open(sys.argv[1], "rb").read()[int(sys.argv[2]):int(sys.argv[2]) + int(sys.argv[3])]
print(hashlib.sha256(d).hexdigest())' "$tmp/bad.ova" "$off" "$(stat -c %s "$tmp/disk.vmdk")")
refused_convert "changed disk byte" \
    "^vmconv: $tmp/bad.ova: disk.vmdk: SHA256 digest does not match: expected $mf_hex, the data has $bad_hex \(the file is corrupt or was changed\)" \
    "$tmp/bad.ova"
grep -q "the partial output was removed, nothing was written to $tmp/out" "$tmp/err" ||
    { cat "$tmp/err"; fail "changed disk byte: the message does not say nothing was kept"; }
expect_fail "inspect of the changed OVA" "$VMCONV" inspect "$tmp/bad.ova"
grep -q "bad.ova: disk.vmdk: SHA256 digest does not match the manifest vm.mf" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "inspect: message"; }
work_empty "inspect of the changed OVA"
# --jobs 2: the same.
rm -rf "$tmp/out"
expect_fail "changed disk byte, --jobs 2" "$VMCONV" convert "$tmp/bad.ova" --to kvm -O "$tmp/out" --jobs 2
grep -q "bad.ova: disk.vmdk: SHA256 digest does not match" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "--jobs 2: message"; }
[ ! -e "$tmp/out" ] || fail "--jobs 2: OUTDIR left behind"

# ---- A grain marker of the member changed (the first grain's LBA, at
# 64 KiB in what qemu-img writes): the copy itself fails on bad data;
# the digest, hashed to the end then, says why.
python3 -c 'import struct, sys
assert struct.unpack("<QI", open(sys.argv[1], "rb").read()[65536:65548])[0] == 0' \
    "$tmp/disk.vmdk" || fail "no grain marker at 64 KiB in the test VMDK"
cp "$tmp/good.ova" "$tmp/marker.ova"
flip "$tmp/marker.ova" $(($(member_offset "$tmp/marker.ova") + 65536))
for jobs in 1 2; do
    refused_convert "changed grain marker (--jobs $jobs)" \
        "marker.ova: disk.vmdk: SHA256 digest does not match: expected $mf_hex" \
        "$tmp/marker.ova" --jobs $jobs
done

# ---- The member's header damaged (its version): the disk cannot be
# opened at all when the plugin reads the OVA; the manifest, checked
# then after all, says why.
cp "$tmp/good.ova" "$tmp/hdr.ova"
flip "$tmp/hdr.ova" $(($(member_offset "$tmp/hdr.ova") + 4))
refused_convert "damaged disk header" \
    "hdr.ova: disk.vmdk: SHA256 digest does not match the manifest vm.mf" "$tmp/hdr.ova"

# ---- A disk beside an .ovf: checked while copied too; with one byte
# changed, refused.
make_pkg "$tmp/dir" "$tmp/disk.vmdk" "$tmp/disk.raw"
"$VMCONV" convert "$tmp/dir/vm.ovf" --to kvm -O "$tmp/kvm-dir" --no-guest-fix \
    > "$tmp/convert.txt" 2>&1 || { cat "$tmp/convert.txt"; fail "convert the directory"; }
grep -q "^Digests: 1 of 1 file matched" "$tmp/convert.txt" ||
    { cat "$tmp/convert.txt"; fail "convert the directory: no digest line"; }
flip "$tmp/dir/disk.vmdk" $(($(stat -c %s "$tmp/disk.vmdk") / 2))
refused_convert "changed disk beside the .ovf" \
    "$tmp/dir/vm.ovf: disk.vmdk: SHA256 digest does not match: expected $mf_hex, the data has $(sha "$tmp/dir/disk.vmdk")" \
    "$tmp/dir/vm.ovf"
expect_fail "inspect of the changed directory" "$VMCONV" inspect "$tmp/dir/vm.ovf"
grep -q "disk.vmdk: SHA256 digest does not match the manifest vm.mf" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "inspect dir: message"; }

# ---- Ctrl-C during the copy: the hashing stops too.  Incompressible
# data, compressed into qcow2 on one thread: slow enough to interrupt.
head -c $((64 << 20)) /dev/urandom > "$tmp/big.raw"
qemu_img convert -O vmdk -o subformat=streamOptimized "$tmp/big.raw" "$tmp/big.vmdk"
make_pkg "$tmp/big" "$tmp/big.vmdk" "$tmp/big.raw"
ova "$tmp/big" "$tmp/big.ova"
rm -rf "$tmp/out"
"$VMCONV" convert "$tmp/big.ova" --to kvm -O "$tmp/out" -o compress=on \
    --threads 1 --no-guest-fix --machine-readable > "$tmp/mr.json" 2> "$tmp/err" &
pid=$!
for i in $(seq 400); do
    grep -q '"phase-start", "phase": "copy"' "$tmp/mr.json" && break
    kill -0 $pid 2> /dev/null || break
    sleep 0.05
done
grep -q '"phase-start", "phase": "copy"' "$tmp/mr.json" || { cat "$tmp/err"; fail "the copy did not start"; }
kill -INT $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 5 ] || fail "SIGINT: exit $rc, expected 5: $(cat "$tmp/err")"
grep -q "interrupted; the partial output was removed" "$tmp/err" || fail "SIGINT: message: $(cat "$tmp/err")"
[ ! -e "$tmp/out" ] || fail "SIGINT: OUTDIR left behind"
[ -z "$(temp_dirs)" ] || fail "SIGINT: temporary directory left: $(temp_dirs)"
work_empty "SIGINT"

# ---- A version 1 plugin (no read options, no flags) still converts.
mkdir "$tmp/plugins"
ln -s "$(realpath "$builddir/.libs/vmconv-old-v1.so")" "$tmp/plugins/"
for so in "$VMCONV_PLUGIN_DIR"/vmconv-kvm.so; do
    ln -s "$(realpath "$so")" "$tmp/plugins/"
done
qemu_img convert -O qcow2 "$tmp/disk.raw" "$tmp/old.qcow2"
printf 'old-v1\nname=old\nvcpus=1\nmemory=1073741824\ndisk=%s\n' "$tmp/old.qcow2" > "$tmp/web.old"
"$VMCONV" --plugin-dir "$tmp/plugins" convert "$tmp/web.old" --to kvm -O "$tmp/old-out" \
    --no-guest-fix > "$tmp/old.txt" 2>&1 || { cat "$tmp/old.txt"; fail "convert through the version 1 plugin"; }
qemu_img compare -q "$tmp/old-out"/*.qcow2 "$tmp/disk.raw" || fail "version 1 plugin: the disk differs"
grep -q '"digests"' "$tmp/old-out/old.report.json" && fail "version 1 plugin: digests in the report"
exit 0
