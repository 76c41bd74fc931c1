#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A .vmx whose disks exist: a VMDK made by qemu-img with a two-level
# snapshot chain (delta2 -> delta1 -> base), named by an ESXi path that
# is found by its base name beside the .vmx; an ISO; a disk that does
# not exist; a .vmsd with two snapshots.  The model shows the chain,
# the format and size, the note about the ESXi path, the missing disk
# and the snapshots; the sources are not modified.  Then the round
# trip: .vmx -> model -> .vmx -> model.
. "$srcdir/functions.sh"
requires python3
requires_qemu_img

vm=$tmp/vm
mkdir -p "$vm"
qemu_img create -q -f vmdk "$vm/base.vmdk" 64M
qemu_img create -q -f vmdk -b base.vmdk -F vmdk "$vm/delta1.vmdk"
qemu_img create -q -f vmdk -b delta1.vmdk -F vmdk "$vm/delta2.vmdk"
qemu_img create -q -f vmdk -o subformat=monolithicFlat "$vm/data.vmdk" 8M
printf 'not really an ISO\n' > "$vm/install.iso"
cat > "$vm/web01.vmx" <<'EOF'
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "19"
displayName = "web|2201|22 caf|C3|A9"
annotation = "first line|0Asecond line"
guestOS = "windows2019srv-64"
memsize = "4096"
numvcpus = "4"
cpuid.coresPerSocket = "2"
firmware = "efi"
uefi.secureBoot.enabled = "TRUE"
vhv.enable = "TRUE"
rtc.diffFromUTC = "-3600"
uuid.bios = "56 4d 12 34 56 78 9a bc-de f0 12 34 56 78 9a bc"
nvram = "web01.nvram"
scsi0.present = "TRUE"
scsi0.virtualDev = "pvscsi"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "/vmfs/volumes/datastore1/web01/delta2.vmdk"
scsi0:20.present = "TRUE"
scsi0:20.fileName = "[datastore1] web01/gone.vmdk"
scsi0:20.mode = "independent-nonpersistent"
nvme0.present = "TRUE"
nvme0:3.present = "TRUE"
nvme0:3.fileName = "data.vmdk"
sata0.present = "TRUE"
sata0:1.present = "TRUE"
sata0:1.deviceType = "cdrom-image"
sata0:1.fileName = "install.iso"
sata0:1.startConnected = "FALSE"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:01:02:03"
ethernet0.dvs.switchId = "50 1a 2b 3c"
ethernet0.dvs.portgroupId = "dvportgroup-42"
ethernet1.present = "TRUE"
ethernet1.virtualDev = "e1000e"
ethernet1.generatedAddress = "00:0c:29:aa:bb:cc"
ethernet1.opaqueNetwork.id = "ls-1234"
ethernet1.opaqueNetwork.type = "nsx.LogicalSwitch"
ethernet1.startConnected = "FALSE"
serial0.present = "TRUE"
serial0.fileType = "network"
serial0.fileName = "telnet://:4555"
EOF
printf 'nvram' > "$vm/web01.nvram"
cat > "$vm/web01.vmsd" <<'EOF'
.encoding = "UTF-8"
snapshot.lastUID = "2"
snapshot.current = "2"
snapshot0.uid = "1"
snapshot0.filename = "web01-Snapshot1.vmsn"
snapshot0.displayName = "before upgrade"
snapshot0.description = "the state|0Abefore 9.3"
snapshot0.createTimeHigh = "395636"
snapshot0.createTimeLow = "-1461420776"
snapshot0.numDisks = "1"
snapshot0.disk0.fileName = "base.vmdk"
snapshot0.disk0.node = "scsi0:0"
snapshot1.uid = "2"
snapshot1.parent = "1"
snapshot1.filename = "web01-Snapshot2.vmsn"
snapshot1.displayName = "after upgrade"
snapshot1.numDisks = "1"
snapshot1.disk0.fileName = "delta1.vmdk"
snapshot1.disk0.node = "scsi0:0"
snapshot.numSnapshots = "2"
EOF
before=$(cd "$vm" && for f in *; do fingerprint "$f"; done)

"$VMCONV" inspect --json "$vm/web01.vmx" > "$tmp/web01.json" ||
    fail "inspect"
"$VMCONV" inspect "$vm/web01.vmx" > "$tmp/web01.txt" || fail "inspect text"
python3 - "$tmp/web01.json" "$vm" <<'PY' || { cat "$tmp/web01.txt"; fail "model"; }
import json, sys
v = json.load(open(sys.argv[1]))
vm = sys.argv[2]
assert v["name"] == 'web"01" caf\u00e9', v["name"]
assert v["description"] == "first line\nsecond line"
assert v["uuid"] == "564d1234-5678-9abc-def0-123456789abc"
assert (v["vcpus"], v["cpu-sockets"], v["cpu-cores"], v["cpu-threads"]) == (4, 2, 2, 1)
assert v["memory"] == 4 << 30 and v["firmware"] == "uefi"
assert v["secure-boot"] and v["nested-virt"] and v["source-version"] == "vmx-19"
assert v["clock-offset"] == -3600
assert v["nvram-path"] == vm + "/web01.nvram" and v["nvram-kind"] == "vmware-nvram"
assert v["os"] == {"family": "windows", "distro": "windows", "version": "2019",
                   "arch": "x86_64", "id": "windows2019srv-64"}, v["os"]
d = v["disks"]
assert [(x["bus"], x["controller"], x["unit"]) for x in d] == [
    ("scsi", 0, 0), ("scsi", 0, 20), ("nvme", 0, 3), ("sata", 0, 1)], d
assert d[0]["path"] == vm + "/delta2.vmdk" and d[0]["format"] == "vmdk"
assert d[0]["virtual-size"] == 64 << 20
assert d[0]["backing"] == [vm + "/delta1.vmdk", vm + "/base.vmdk"], d[0]["backing"]
assert d[0]["source-ref"] == "/vmfs/volumes/datastore1/web01/delta2.vmdk"
assert d[0]["controller-model"] == "pvscsi" and not d[0]["missing"]
assert d[1]["missing"] and d[1]["path"] is None
assert d[1]["source-ref"] == "[datastore1] web01/gone.vmdk"
assert d[1]["independent"] and d[1]["nonpersistent"]
assert d[2]["path"] == vm + "/data.vmdk" and d[2]["virtual-size"] == 8 << 20
assert d[3]["device"] == "cdrom" and d[3]["path"] == vm + "/install.iso"
assert d[3]["reference-only"] and d[3]["connection"] == "disconnected"
n = v["nics"]
assert (n[0]["mac"], n[0]["mac-kind"], n[0]["model"], n[0]["network"]) == \
    ("00:50:56:01:02:03", "static", "vmxnet3", "dvportgroup-42"), n[0]
assert (n[1]["mac"], n[1]["mac-kind"], n[1]["model"], n[1]["network"],
        n[1]["connection"]) == ("00:0c:29:aa:bb:cc", "generated", "e1000e",
                                "ls-1234", "disconnected"), n[1]
assert v["serials"] == [{"index": 0, "type": "tcp",
                         "target": "telnet://:4555"}], v["serials"]
s = v["snapshots"]
assert [(x["id"], x["name"], x["parent"]) for x in s] == [
    ("1", "before upgrade", None), ("2", "after upgrade", "1")], s
assert s[0]["description"] == "the state\nbefore 9.3"
assert s[0]["created"] == 1699246514, s[0]["created"]
assert s[0]["disks"] == [{"disk": 0, "path": vm + "/base.vmdk"}], s[0]["disks"]
assert v["current-snapshot"] == "2"
notes = "\n".join(v["notes"])
assert "scsi0:0.fileName: '/vmfs/volumes/datastore1/web01/delta2.vmdk' is not on this host: using delta2.vmdk, found beside the .vmx" in notes, notes
assert "scsi0:20: disk '[datastore1] web01/gone.vmdk' not found" in notes
assert "distributed switch port group dvportgroup-42" in notes
assert "NSX opaque network ls-1234 (nsx.LogicalSwitch)" in notes
PY
grep -q "backed by $vm/delta1.vmdk" "$tmp/web01.txt" ||
    { cat "$tmp/web01.txt"; fail "text: chain"; }

after=$(cd "$vm" && for f in *; do fingerprint "$f"; done)
[ "$before" = "$after" ] || fail "the source files changed"

# A broken chain is one error naming the disk.
cp -r "$vm" "$tmp/broken"
rm "$tmp/broken/delta1.vmdk"
expect_fail "broken chain" "$VMCONV" inspect "$tmp/broken/web01.vmx"
grep -q "delta1.vmdk" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "broken chain: message"; }

# Round trip, with the found disks and the wide PVSCSI unit.
mkdir "$tmp/rt"
"$builddir/vmx-roundtrip" "$vm/web01.vmx" "$tmp/rt" || fail "round trip"
grep -qx 'virtualHW.version = "19"' "$tmp/rt/rt.vmx" || fail "hw version"
grep -qx 'scsi0:20.mode = "independent-nonpersistent"' "$tmp/rt/rt.vmx" ||
    fail "disk mode"
grep -qx 'ethernet0.address = "00:50:56:01:02:03"' "$tmp/rt/rt.vmx" ||
    fail "static MAC"
grep -qx 'displayName = "web|2201|22 café"' "$tmp/rt/rt.vmx" ||
    fail "escaped name"

# A .vmsd naming a deleted parent and a current snapshot it lacks: both
# dropped with notes; two snapshots with one uid: an error.
mkdir "$tmp/snap"
cp "$vm/web01.vmx" "$tmp/snap/web01.vmx"
cp "$vm"/*.vmdk "$vm/install.iso" "$tmp/snap/"
printf 'snapshot0.uid = "5"\nsnapshot0.parent = "4"\nsnapshot0.displayName = "x"\nsnapshot.current = "9"\n' \
    > "$tmp/snap/web01.vmsd"
"$VMCONV" inspect --json "$tmp/snap/web01.vmx" > "$tmp/snap.json" ||
    fail "vmsd with dangling links"
python3 - "$tmp/snap.json" <<'PY' || fail "vmsd links"
import json, sys
v = json.load(open(sys.argv[1]))
assert [(s["id"], s["parent"]) for s in v["snapshots"]] == [("5", None)]
assert v["current-snapshot"] is None
notes = "\n".join(v["notes"])
assert "snapshot '5' names parent '4', which the file does not have" in notes
assert "snapshot.current names snapshot '9'" in notes
PY
printf 'snapshot0.uid = "5"\nsnapshot1.uid = "5"\n' > "$tmp/snap/web01.vmsd"
expect_fail "duplicate snapshot uid" "$VMCONV" inspect "$tmp/snap/web01.vmx"
grep -q "web01.vmsd: two snapshots have the uid '5'" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "duplicate uid: message"; }
printf 'snapshot0.uid = "5"\nsnapshot0.numDisks = "99999"\n' > "$tmp/snap/web01.vmsd"
expect_fail "numDisks out of range" "$VMCONV" inspect "$tmp/snap/web01.vmx"
grep -q "web01.vmsd: line 2: snapshot0.numDisks: '99999' is more than 1024" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "numDisks: message"; }

# A raw device mapping is a LUN, never opened as a disk; vmxnet with
# features 15 is vmxnet2; host-only and NAT networks keep their vmnet.
mkdir "$tmp/rdm"
cat > "$tmp/rdm/rdm.vmdk" <<'VMDK'
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="vmfsRawDeviceMap"

RW 41943040 VMFSRDM "rdm-rdm.vmdk"
VMDK
cat > "$tmp/rdm/rdm.vmx" <<'VMX'
config.version = "8"
virtualHW.version = "13"
memsize = "1024"
scsi0.present = "TRUE"
scsi0.virtualDev = "lsilogic"
scsi0:1.present = "TRUE"
scsi0:1.fileName = "rdm.vmdk"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet"
ethernet0.features = "15"
ethernet0.connectionType = "hostonly"
ethernet0.vnet = "/dev/vmnet1"
ethernet0.generatedAddress = "00:0c:29:00:00:01"
ethernet1.present = "TRUE"
ethernet1.virtualDev = "vmxnet"
ethernet1.connectionType = "nat"
ethernet1.generatedAddress = "00:0c:29:00:00:02"
ethernet2.present = "FALSE"
ethernet2.virtualDev = "e1000"
VMX
"$VMCONV" inspect --json "$tmp/rdm/rdm.vmx" > "$tmp/rdm.json" || fail "rdm: inspect"
python3 - "$tmp/rdm.json" <<'PY' || fail "rdm: model"
import json, sys
v = json.load(open(sys.argv[1]))
d = v["disks"]
assert len(d) == 1 and d[0]["device"] == "lun" and d[0]["reference-only"], d
assert d[0]["format"] is None and d[0]["unit"] == 1
assert any("raw device mapping (RDM)" in n for n in v["notes"])
n = v["nics"]
assert [(x["model"], x["network-type"], x["network"]) for x in n] == [
    ("vmxnet2", "host-only", "vmnet1"), ("vmxnet", "nat", None)], n
PY
