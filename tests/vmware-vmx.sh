#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The vmware plugin reads every .vmx of the test data
# (tests/data/corpus/vmx: real files from libvirt, virt-v2v and
# virt-manager) and of the shared corpus when present: the model (vmconv inspect --json) is pinned by a
# golden file per .vmx (tests/expected/vmx/), and the facts that matter
# most are asserted explicitly for a few.  The disks of these files are
# not beside them, so every disk is listed as missing: the case of a
# .vmx copied off its ESXi host.  An encrypted .vmx is refused.
# VMCONV_TEST_REGENERATE=1 rewrites the golden files.
. "$srcdir/functions.sh"
requires python3

data=$VMCONV_TEST_DATA/vmx
files=("$data"/*.vmx)
[ -f "${files[0]}" ] || fail "no .vmx in $data"

for f in "${files[@]}"; do
    b=$(basename "$f" .vmx)
    "$VMCONV" inspect --json "$f" > "$tmp/$b.json" 2> "$tmp/$b.err" ||
        { cat "$tmp/$b.err"; fail "inspect $b.vmx"; }
    golden_paths "$tmp/$b.json"
    compare_golden "$tmp/$b.json" "vmx/$b.json"
done

# Corpus files not shipped in tests/data (licence): read from the
# shared corpus when it is there.
if [ -d "$VMCONV_CORPUS/vmx" ]; then
    for f in "$VMCONV_CORPUS"/vmx/*.vmx; do
        b=$(basename "$f" .vmx)
        [ -f "$data/$b.vmx" ] && continue
        [ "$b" = dissect-encrypted ] && continue
        "$VMCONV" inspect --json "$f" > "$tmp/$b.json" ||
            fail "inspect corpus $b.vmx"
    done
fi
if corpus_has vmx/dissect-encrypted.vmx; then
    f=$(corpus_src vmx/dissect-encrypted.vmx)
    expect_fail "encrypted corpus .vmx" "$VMCONV" inspect "$f"
    grep -q "dissect-encrypted.vmx: the VM is encrypted (encryption.keySafe)" \
        "$tmp/expect_fail.out" ||
        { cat "$tmp/expect_fail.out"; fail "encrypted: wrong message"; }
fi

# An encrypted .vmx of our own, so the refusal is tested without the
# corpus.
printf '.encoding = "UTF-8"\nconfig.version = "8"\nencryption.keySafe = "vmware:key/list/()"\nencryption.data = "AAAA"\n' \
    > "$tmp/enc.vmx"
expect_fail "encrypted .vmx" "$VMCONV" inspect "$tmp/enc.vmx"
grep -q "enc.vmx: the VM is encrypted (encryption.keySafe): its configuration and disks can only be read with the key" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "encrypted: message"; }
[ "$(wc -l < "$tmp/expect_fail.out")" -eq 1 ] || fail "encrypted: not one line"

# Explicit facts, per file: CPUs, topology, memory, firmware, secure
# boot, each disk's file, bus, controller model and unit, each NIC's
# MAC, model and network.
python3 - "$tmp" <<'PY' || fail "facts"
import json, sys
tmp = sys.argv[1]
def vm(name):
    return json.load(open(f"{tmp}/{name}.json"))
def disks(v):
    return [(d["device"], d["bus"], d["controller-model"], d["controller"],
             d["unit"], d["source-ref"], d["missing"]) for d in v["disks"]]
def nics(v):
    return [(n["mac"], n["mac-kind"], n["model"], n["network-type"], n["network"])
            for n in v["nics"]]
def cpu(v):
    return (v["vcpus"], v["cpu-sockets"], v["cpu-cores"], v["cpu-threads"],
            v["memory"] >> 20, v["firmware"], v["secure-boot"])

# ESXi 8, UEFI + Secure Boot, pvscsi, vmxnet3, empty SATA CD-ROM.
v = vm("libvirt-esx-in-the-wild-12")
assert cpu(v) == (1, 1, 1, 1, 2048, "uefi", True), cpu(v)
assert v["uuid"] == "4220fca7-11dd-d67e-19cc-fcad0a37c342", v["uuid"]
assert v["source-version"] == "vmx-20"
assert v["os"]["id"] == "rhel9-64" and v["os"]["distro"] == "rhel"
assert v["os"]["version"] == "9" and v["os"]["arch"] == "x86_64"
assert disks(v) == [
    ("disk", "scsi", "pvscsi", 0, 0,
     "Auto-esx8.0-rhell9.3-efi-with-empty-cdrom.vmdk", True),
    ("cdrom", "sata", "ahci", 0, 0, None, False)], disks(v)
assert v["disks"][1]["connection"] == "disconnected"
assert nics(v) == [("00:50:56:a0:cf:2f", "vpx-assigned", "vmxnet3",
                    "network", "VM Network")], nics(v)
assert any("vc.uuid" in n for n in v["notes"])

# ESXi 6.7 with an NVMe disk and a remote-console CD-ROM.
v = vm("virtv2v-test-i-vmx-6")
assert cpu(v) == (1, 1, 1, 1, 2048, "bios", False), cpu(v)
assert disks(v) == [
    ("disk", "nvme", "unknown", 0, 0, "nvme-disk.vmdk", True),
    ("cdrom", "sata", "ahci", 0, 0, None, False)], disks(v)

# 21 disks on two PVSCSI controllers, unit 7 skipped, wide units.
v = vm("virtv2v-test-i-vmx-1")
d = [x for x in disks(v) if x[0] == "disk"]
assert len(d) == 21, len(d)
assert [x[4] for x in d[:15]] == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13,
                                  14, 15], d
assert all(x[2] == "pvscsi" for x in d)
assert d[15][3:5] == (1, 0) and d[20][3:5] == (1, 5)

# lsilogic + buslogic, an ISO on SCSI, the tools ISO and a host CD on
# IDE, an IDE disk, a host floppy; 4 sockets.
v = vm("libvirt-vmx2xml-esx-in-the-wild-2")
assert cpu(v) == (4, 4, 1, 1, 1000, "bios", False), cpu(v)
assert disks(v) == [
    ("disk", "scsi", "lsilogic", 0, 0, "Debian1.vmdk", True),
    ("cdrom", "scsi", "buslogic", 1, 0, "Debian1-cdrom.iso", True),
    ("cdrom", "ide", "piix4", 0, 0, "/vmimages/tools-isoimages/linux.iso",
     True),
    ("cdrom", "ide", "piix4", 0, 1, "/dev/scd0", False),
    ("disk", "ide", "piix4", 1, 1, "Debian1-IDE.vmdk", True),
    ("floppy", "fdc", "unknown", 0, 0, "/dev/fd0", False),
    ("floppy", "fdc", "unknown", 0, 1, None, False)], disks(v)
assert all(x["reference-only"] for x in v["disks"] if x["device"] != "disk")
assert nics(v) == [("00:0c:29:3c:98:3e", "generated", "pcnet", "network",
                    "VM Network")], nics(v)

# Windows 10 appliance: e1000e, bridged, VM generation ID.
v = vm("virtv2v-test-i-vmx-5")
assert v["os"]["family"] == "windows" and v["os"]["version"] == "10"
assert v["disks"][0]["controller-model"] == "lsisas1068"
assert nics(v) == [("00:0c:29:bf:e4:5d", "generated", "e1000e", "bridge",
                    None)], nics(v)
assert v["genid"] is not None

# Workstation: static MAC, NAT, an absolute disk path not on this host.
v = vm("libvirt-vmx2xml-ws-in-the-wild-1")
assert nics(v) == [("00:50:56:2f:d3:46", "static", "e1000", "nat", None)]
assert v["disks"][0]["source-ref"] == "/data/vmware/disk.vmdk"
assert v["disks"][0]["missing"] and v["disks"][0]["path"] is None

# GSX: an independent-persistent IDE disk; custom vmnet networks.
v = vm("libvirt-vmx2xml-gsx-in-the-wild-3")
assert v["disks"][0]["independent"] and not v["disks"][0]["nonpersistent"]
assert [n[3:] for n in nics(v)] == [("network", "net1"), ("network", "net2")]

# A passthrough SCSI device is a LUN, never a disk to convert.
v = vm("libvirt-vmx2xml-esx-in-the-wild-7")
lun = v["disks"][1]
assert lun["device"] == "lun" and lun["reference-only"] and lun["unit"] == 1

# No MAC yet, no NIC model: unknown, said in notes.
v = vm("virtmanager-test1")
assert v["nics"][0]["mac"] is None and v["nics"][0]["model"] == "unknown"
assert any("no MAC address yet" in n for n in v["notes"])
PY
