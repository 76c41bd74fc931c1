#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv convert end to end: a bare disk image and an example VM
# description converted for every target that writes.  Each target disk
# must read the same as its source (qemu-img compare), pass qemu-img
# check, and be named in the target's configuration by its final path;
# the report must describe what was written; the source is untouched
# and no temporary directory is left.
#
# Journeys: a bare disk and an example VM to every target, the VMware
# sample VM to every target, a bare disk over NBD.  A target whose
# plugin does not write is listed as a skipped journey; once it writes,
# it runs here with no change (add its configuration check to
# check_config).
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
V=$VMCONV

# A 64 MiB qcow2 with data at 1 MiB and 40 MiB, and a raw disk.
qemu_img create -q -f qcow2 "$tmp/src.qcow2" 64M
qemu-io -c "write -P 0x5a 1M 3M" -c "write -P 0x33 40M 1M" "$tmp/src.qcow2" \
    >/dev/null 2>&1 || {
    # Without qemu-io: write the data through a raw image.
    dd if=/dev/urandom of="$tmp/d.raw" bs=1M count=4 status=none
    truncate -s 64M "$tmp/d.raw"
    qemu_img convert -f raw -O qcow2 "$tmp/d.raw" "$tmp/src.qcow2"
}
dd if=/dev/urandom of="$tmp/src.raw" bs=1M count=2 seek=3 status=none
truncate -s 32M "$tmp/src.raw"
fp_qcow2=$(fingerprint "$tmp/src.qcow2")
fp_raw=$(fingerprint "$tmp/src.raw")

# check_config TARGET OUTDIR NAME: the target's configuration names the
# converted disks by their final paths.
check_config() {
    case $1 in
        example)
            local f=$2/$3.vmconv-example
            [ -f "$f" ] || fail "$1: no $f"
            grep -qxF "file = $2/$3-disk1.${4:-qcow2}" "$f" ||
                { cat "$f"; fail "$1: the disk is not named by its final path"; }
            ;;
        kvm)
            local f=$2/$3.xml
            grep -qF "<source file=\"$2/$3-disk1.${4:-qcow2}\"/>" "$f" ||
                { cat "$f"; fail "$1: the disk is not named by its final path"; }
            if command -v virt-xml-validate >/dev/null 2>&1; then
                virt-xml-validate "$f" domain >/dev/null || fail "$1: $f is not valid"
            fi
            ;;
        vmware)
            local f=$2/$3.vmx
            grep -qF "fileName = \"$3-disk1.${4:-vmdk}\"" "$f" ||
                { cat "$f"; fail "$1: the disk is not named"; }
            ;;
        hyperv)
            local f=$2/$3.ps1
            grep -qF "(Join-Path \$DiskPath '$3-disk1.${4:-vhdx}')" "$f" ||
                { cat "$f"; fail "$1: the disk is not named beside the script"; }
            grep -q "^\$vm = New-VM " "$f" || { cat "$f"; fail "$1: no New-VM"; }
            ;;
        *) grep -rqF "$3-disk1" "$2" || fail "$1: the disk is not named" ;;
    esac
}

# check_report OUTDIR NAME: the report is valid and complete.
check_report() {
    python3 - "$1" "$2" <<'PY' || fail "report of $1"
import json, os, sys
out, name = sys.argv[1], sys.argv[2]
r = json.load(open(os.path.join(out, name + ".report.json")))
assert r["schema"] == "vmconv-convert/1", r["schema"]
assert r["result"]["ok"] is True and r["result"]["outdir"] == out, r["result"]
assert r["dry-run"] is False
names = sorted(os.path.basename(f["path"]) for f in r["files"])
on_disk = sorted(n for n in os.listdir(out) if n != name + ".report.json")
assert names == on_disk, (names, on_disk)
for f in r["files"]:
    assert f["size"] == os.path.getsize(f["path"]), f
stages = [s["stage"] for s in r["stages"]]
assert stages == ["read", "plan", "guest-fix", "disks", "verify", "write",
                  "commit", "finish"], stages
assert r["verify"]["enabled"] and r["verify"]["bytes-read"] > 0, r["verify"]
assert r["guest-fix"]["status"] == \
    "skipped (--no-guest-fix)", r["guest-fix"]
for d in r["disks"]:
    if d["convert"]:
        assert d["result"]["copied"] and d["result"]["verified"], d
PY
}

# journey SOURCE TARGET NAME [OPTIONS...]
journey() {
    local src=$1 to=$2 name=$3 out=$tmp/out-$2-$3 rc=0
    shift 3
    "$V" convert "$src" --to "$to" -O "$out" --name "$name" "$@" \
        > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
    if [ $rc -ne 0 ] && grep -q "plugin: writing .* not implemented yet" "$tmp/stderr"; then
        echo "SKIP journey $(basename "$src") -> $to: $(tail -n1 "$tmp/stderr")"
        [ $rc -eq 1 ] || fail "$to: not implemented: exit $rc, expected 1"
        [ ! -e "$out" ] || fail "$to: output left after a failure"
        return 1
    fi
    [ $rc -eq 0 ] || { cat "$tmp/stderr"; fail "$src -> $to: exit $rc"; }
    echo "ok   journey $(basename "$src") -> $to"
    grep -q "^Done in .*: the VM is in $out\$" "$tmp/stdout" ||
        { cat "$tmp/stdout"; fail "$to: no final line"; }
    check_report "$out" "$name"
    return 0
}

for to in example kvm vmware hyperv; do
    if journey "$tmp/src.qcow2" "$to" web; then
        out=$tmp/out-$to-web
        img=$(ls "$out"/web-disk1.*)
        qemu_img compare -q "$tmp/src.qcow2" "$img" || fail "$to: disk differs"
        qemu_img check -q "$img" 2>/dev/null || [ "${img##*.}" = img ] ||
            fail "$to: qemu-img check $img"
        check_config "$to" "$out" web "${img##*.}"
    fi
done

# Options reach the target: raw disks, the hardware of a bare disk.
journey "$tmp/src.raw" example db -of raw --vcpus 4 --memory 1G \
    --firmware uefi --jobs 2 --threads 2 || fail "example must write"
out=$tmp/out-example-db
cmp "$tmp/src.raw" "$out/db-disk1.img" || fail "raw target differs"
check_config example "$out" db img
for l in "vcpus = 4" "memory = 1G" "firmware = uefi" "name = src"; do
    grep -qxF "$l" "$out/db.vmconv-example" || fail "db: no '$l'"
done

# An example VM with two disks, an empty CD-ROM and two NICs: disks
# converted two at a time, networks mapped, a NIC not mapped keeps its
# network.
cp "$tmp/src.qcow2" "$tmp/a.qcow2"
cat > "$tmp/vm.vmconv-example" <<EOF
vmconv-example 1
name = two
vcpus = 2
memory = 1G

[disk]
file = a.qcow2
bus = scsi
boot = 1

[disk]
file = src.raw
format = raw
bus = sata

[disk]
device = cdrom
bus = sata
unit = 1

[nic]
mac = 52:54:00:00:00:01
network = lan

[nic]
mac = 52:54:00:00:00:02
network = dmz

[nic]
mac = 52:54:00:00:00:03
network = backup
EOF
fp_vm=$(fingerprint "$tmp/vm.vmconv-example")
journey "$tmp/vm.vmconv-example" example two --jobs 2 \
    --network lan:prod --bridge dmz:br0 || fail "example must write"
out=$tmp/out-example-two
qemu_img compare -q "$tmp/a.qcow2" "$out/two-disk1.qcow2" || fail "two: disk 1"
qemu_img compare -q "$tmp/src.raw" "$out/two-disk2.qcow2" || fail "two: disk 2"
python3 - "$out/two.vmconv-example" <<'PY' || fail "two: NICs not mapped"
import sys
text = open(sys.argv[1]).read()
nics = text.split("[nic]")[1:]
assert "network = prod" in nics[0], nics[0]
assert "bridge = br0" in nics[1], nics[1]
assert "network = backup" in nics[2], nics[2]
PY
grep -q "nic 0 52:54:00:00:00:01: network lan -> network prod (lan:prod)" \
    "$tmp/stdout" || { cat "$tmp/stdout"; fail "two: mapping not shown"; }
grep -q "nic 2 52:54:00:00:00:03: .* backup (kept)" "$tmp/stdout" ||
    fail "two: kept NIC not shown"
grep -q "disk 2 (cdrom): .*not converted (empty drive)" "$tmp/stdout" ||
    { cat "$tmp/stdout"; fail "two: empty CD-ROM not shown"; }

# The same VM for KVM, when the kvm plugin writes: the mapped networks
# and both disks in the domain.  (A network no option maps keeps its
# name in the model; the kvm plugin connects such a foreign network to
# 'default', with a warning.)
if journey "$tmp/vm.vmconv-example" kvm two --network lan:prod \
        --bridge dmz:br0; then
    x=$tmp/out-kvm-two/two.xml
    for l in '<source network="prod"/>' '<source bridge="br0"/>' \
             "<source file=\"$tmp/out-kvm-two/two-disk1.qcow2\"/>" \
             "<source file=\"$tmp/out-kvm-two/two-disk2.qcow2\"/>"; do
        grep -qF "$l" "$x" || { cat "$x"; fail "kvm two: no $l"; }
    done
fi

# The VMware sample VM (samples/vmware/demo.vmx and its VMDK) for every
# target that writes, when the vmware plugin reads .vmx files.
vmx=$top_srcdir/samples/vmware/demo.vmx
if [ -f "$vmx" ]; then
    fp_vmx=$(fingerprint "$vmx"); fp_vmdk=$(fingerprint "${vmx%.vmx}.vmdk")
    # (not example: its format holds no multi-line description)
    for to in kvm vmware hyperv; do
        rc=0
        "$V" convert "$vmx" --dry-run -O "$tmp/x" > /dev/null 2>&1 || rc=$?
        if [ $rc -ne 0 ]; then
            echo "SKIP journey demo.vmx -> $to: the vmware plugin does not read it"
            break
        fi
        if journey "$vmx" "$to" demo; then
            qemu_img compare -q "${vmx%.vmx}.vmdk" "$(ls "$tmp/out-$to-demo"/demo-disk1.*)" ||
                fail "demo.vmx -> $to: the disk differs"
            ext=$(ls "$tmp/out-$to-demo"/demo-disk1.*); ext=${ext##*.}
            check_config "$to" "$tmp/out-$to-demo" demo "$ext"
        fi
    done
    [ "$(fingerprint "$vmx")" = "$fp_vmx" ] || fail "demo.vmx modified"
    [ "$(fingerprint "${vmx%.vmx}.vmdk")" = "$fp_vmdk" ] || fail "demo.vmdk modified"
fi

# A bare disk served over NBD (nbdkit, when installed).
if command -v nbdkit >/dev/null 2>&1; then
    nbdkit -U "$tmp/nbd.sock" -P "$tmp/nbd.pid" -r file "$tmp/src.qcow2"
    stop_nbdkit() { kill "$(cat "$tmp/nbd.pid")" 2>/dev/null; }
    cleanup_hooks+=(stop_nbdkit)
    for i in $(seq 50); do [ -S "$tmp/nbd.sock" ] && break; sleep 0.1; done
    "$V" convert "nbd+unix:///?socket=$tmp/nbd.sock" --to example \
        -O "$tmp/out-nbd" --name nbd > "$tmp/stdout" 2> "$tmp/stderr" ||
        fail "NBD source: $(cat "$tmp/stderr")"
    qemu_img compare -q "$tmp/src.qcow2" "$tmp/out-nbd/nbd-disk1.qcow2" ||
        fail "NBD source: the disk differs"
    check_report "$tmp/out-nbd" nbd
    stop_nbdkit
else
    echo "SKIP journey NBD -> example: nbdkit is not installed"
fi

# --machine-readable: JSON lines, progress with a rate, a result line.
"$V" convert "$tmp/src.qcow2" --to example -O "$tmp/mr" --machine-readable \
    > "$tmp/mr.json" 2>/dev/null || fail "--machine-readable run"
python3 - "$tmp/mr.json" "$tmp/mr" <<'PY' || fail "--machine-readable output"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
prog = [l for l in lines if l["event"] == "progress"]
assert prog and all("rate" in l and "disk" in l for l in prog), prog[:2]
assert any(l.get("phase") == "copy" for l in prog)
assert any(l.get("phase") == "verify" for l in prog)
phases = [l["phase"] for l in lines if l["event"] == "phase-start" and "disk" not in l]
assert phases == ["read", "plan", "guest-fix", "disks", "verify", "write",
                  "commit", "finish"], phases
res = lines[-1]
assert res["event"] == "result" and res["ok"] and res["exit"] == 0, res
assert res["outdir"] == sys.argv[2] and res["report"].endswith(".report.json"), res
PY

# Not a terminal: no progress bars, no escape sequences.
if grep -q $'\033' "$tmp/stdout"; then fail "escape sequences on a pipe"; fi

# The sources were not touched; no temporary directory anywhere.
[ "$(fingerprint "$tmp/src.qcow2")" = "$fp_qcow2" ] || fail "src.qcow2 modified"
[ "$(fingerprint "$tmp/src.raw")" = "$fp_raw" ] || fail "src.raw modified"
[ "$(fingerprint "$tmp/vm.vmconv-example")" = "$fp_vm" ] || fail "vm modified"
if ls -A "$tmp" | grep -q '^\..*\.vmconv-'; then fail "temporary directory left"; fi
exit 0
