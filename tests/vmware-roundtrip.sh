#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Round trip through the .vmx writer: every .vmx of the test data is
# read, written back as a .vmx (vmx-roundtrip, the plugin's write with
# the converted disks' final paths), read again, and the two models
# agree on every field a .vmx carries.  Then what VMware cannot take:
# a static MAC outside VMware's range becomes a generated address with
# a warning; devices of other hypervisors become VMware's; a VM whose
# memory size is unknown is refused with nothing written.
. "$srcdir/functions.sh"

for f in "$VMCONV_TEST_DATA"/vmx/*.vmx; do
    b=$(basename "$f" .vmx)
    mkdir "$tmp/$b"
    "$builddir/vmx-roundtrip" "$f" "$tmp/$b" > "$tmp/$b.diff" 2> "$tmp/$b.err" ||
        { cat "$tmp/$b.err" "$tmp/$b.diff"; fail "round trip of $b.vmx"; }
    grep -qx '.encoding = "UTF-8"' "$tmp/$b/rt.vmx" || fail "$b: no .encoding"
    # Disks point at their final paths, relative to the output.
    if grep -q '^scsi0:0.fileName' "$tmp/$b/rt.vmx"; then
        grep -q '^scsi0:0.fileName = "rt-disk0.vmdk"$' "$tmp/$b/rt.vmx" ||
            fail "$b: disk path"
    fi
done
grep -qx 'virtualHW.version = "20"' "$tmp/libvirt-esx-in-the-wild-12/rt.vmx" ||
    fail "hardware version lowered"
grep -qx 'virtualHW.version = "10"' "$tmp/libvirt-vmx2xml-esx-in-the-wild-1/rt.vmx" ||
    fail "old hardware version not raised to 10"
grep -qx 'uuid.bios = "42 20 fc a7 11 dd d6 7e-19 cc fc ad 0a 37 c3 42"' \
    "$tmp/libvirt-esx-in-the-wild-12/rt.vmx" || fail "uuid.bios byte order"
grep -qx 'ethernet0.addressType = "vpx"' "$tmp/libvirt-esx-in-the-wild-12/rt.vmx" ||
    fail "vpx MAC"

# A static MAC outside 00:50:56:00-3f.
cat > "$tmp/mac.vmx" <<'VMX'
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "14"
memsize = "1024"
guestOS = "debian12-64"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.addressType = "static"
ethernet0.checkMACAddress = "FALSE"
ethernet0.address = "52:54:00:12:34:56"
ethernet0.networkName = "VM Network"
VMX
mkdir "$tmp/mac"
rc=0
"$builddir/vmx-roundtrip" "$tmp/mac.vmx" "$tmp/mac" > "$tmp/mac.diff" 2> "$tmp/mac.err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$tmp/mac.err"; fail "mac: expected a difference (static -> generated), rc $rc"; }
grep -q 'warning: nic 0: MAC 52:54:00:12:34:56 is outside the range VMware accepts as static' \
    "$tmp/mac.err" || { cat "$tmp/mac.err"; fail "mac: no warning"; }
grep -qx 'ethernet0.addressType = "generated"' "$tmp/mac/rt.vmx" || fail "mac: addressType"
grep -qx 'ethernet0.generatedAddress = "52:54:00:12:34:56"' "$tmp/mac/rt.vmx" ||
    fail "mac: address kept"

# No memsize: the writer refuses, and writes nothing.
sed '/^memsize/d' "$tmp/mac.vmx" > "$tmp/nomem.vmx"
mkdir "$tmp/nomem"
rc=0
"$builddir/vmx-roundtrip" "$tmp/nomem.vmx" "$tmp/nomem" > /dev/null 2> "$tmp/nomem.err" || rc=$?
[ "$rc" -eq 2 ] || fail "nomem: rc $rc"
grep -q "the VM's memory size is unknown: a .vmx needs memsize" "$tmp/nomem.err" ||
    { cat "$tmp/nomem.err"; fail "nomem: message"; }
[ -z "$(ls -A "$tmp/nomem")" ] || fail "nomem: something was written"

# A Hyper-V model (tests/data/vm/rich.json) written for VMware: its
# synthetic SCSI controllers become LSI SAS (a Windows guest), its NICs
# e1000e, its Hyper-V MAC a generated address; the disk that is missing
# has no image and is refused, so the model is written without it.
python3 - "$srcdir/data/vm/rich.json" "$tmp/rich.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
v["disks"] = [d for d in v["disks"] if not d.get("missing") or d.get("device") == "cdrom"]
json.dump(v, open(sys.argv[2], "w"))
PY
mkdir "$tmp/rich"
"$builddir/vmx-roundtrip" "$tmp/rich.json" "$tmp/rich" > "$tmp/rich.out" 2> "$tmp/rich.err" ||
    { cat "$tmp/rich.err"; fail "rich: write"; }
python3 - "$tmp/rich.out" <<'PY' || { cat "$tmp/rich/rt.vmx"; fail "rich: model"; }
import json, sys
v = json.load(open(sys.argv[1]))
assert v["os"]["id"] == "windows2019srv-64", v["os"]
assert v["firmware"] == "uefi" and v["memory"] == 8 << 30
assert [(c["bus"], c["index"], c["model"]) for c in v["controllers"]] == [
    ("scsi", 0, "lsisas1068"), ("scsi", 1, "lsisas1068")], v["controllers"]
assert [(d["device"], d["controller"], d["unit"]) for d in v["disks"]] == [
    ("disk", 0, 0), ("cdrom", 0, 1), ("disk", 1, 0)], v["disks"]
assert [(n["model"], n["mac"], n["mac-kind"]) for n in v["nics"]] == [
    ("e1000e", "00:15:5d:0a:0b:0c", "generated"),
    ("e1000e", None, "unknown")], v["nics"]
assert v["nics"][0]["network"] == "prod-net"
assert v["nics"][1]["connection"] == "disconnected"
assert v["serials"] == [{"index": 0, "type": "pipe",
                         "target": "\\\\.\\pipe\\sql02-com1"}], v["serials"]
PY
grep -q 'warning: nic 0: VMware has no hyperv-netvsc NIC: written as e1000e' "$tmp/rich.err" ||
    { cat "$tmp/rich.err"; fail "rich: NIC warning"; }
grep -q 'warning: nic 0: MAC 00:15:5d:0a:0b:0c is outside the range' "$tmp/rich.err" ||
    fail "rich: MAC warning"

# A Linux guest from KVM: rhel 9.2 becomes guestOS rhel9-64, virtio
# disks PVSCSI, a virtio NIC vmxnet3; a 32-bit Debian debian12; an OS
# VMware has no id for falls back with a warning.
python3 - "$srcdir/data/vm/rich.json" "$tmp" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
v["disks"] = [d for d in v["disks"] if not d.get("missing")]
for d in v["disks"]:
    d["bus"] = "virtio"
    d["controller-model"] = "unknown"
    d["controller-ref"] = None
v["controllers"] = []
v["nics"] = [{"mac": "52:54:00:12:34:56", "model": "virtio",
              "network-type": "network", "network": "default"}]
v["serials"] = []
for name, os_ in [("kvm-rhel", {"family": "linux", "distro": "rhel",
                                "version": "9.2", "arch": "x86_64"}),
                  ("kvm-debian32", {"family": "linux", "distro": "debian",
                                    "version": "12", "arch": "i686"}),
                  ("kvm-haiku", {"family": "other", "distro": "haiku",
                                 "arch": "x86_64"})]:
    v["os"] = os_
    json.dump(v, open(f"{sys.argv[2]}/{name}.json", "w"))
PY
for m in kvm-rhel kvm-debian32 kvm-haiku; do
    mkdir "$tmp/$m"
    "$builddir/vmx-roundtrip" "$tmp/$m.json" "$tmp/$m" > "$tmp/$m.out" 2> "$tmp/$m.err" ||
        { cat "$tmp/$m.err"; fail "$m: write"; }
done
grep -qx 'guestOS = "rhel9-64"' "$tmp/kvm-rhel/rt.vmx" || fail "kvm-rhel: guestOS"
grep -qx 'scsi0.virtualDev = "pvscsi"' "$tmp/kvm-rhel/rt.vmx" || fail "kvm-rhel: pvscsi"
grep -qx 'ethernet0.virtualDev = "vmxnet3"' "$tmp/kvm-rhel/rt.vmx" || fail "kvm-rhel: vmxnet3"
grep -qx 'ethernet0.networkName = "default"' "$tmp/kvm-rhel/rt.vmx" || fail "kvm-rhel: network"
grep -q 'warning: nic 0: VMware has no virtio NIC: written as vmxnet3' "$tmp/kvm-rhel.err" ||
    fail "kvm-rhel: NIC warning"
grep -qx 'guestOS = "debian12"' "$tmp/kvm-debian32/rt.vmx" || fail "kvm-debian32: guestOS"
grep -qx 'guestOS = "other-64"' "$tmp/kvm-haiku/rt.vmx" || fail "kvm-haiku: guestOS"
grep -q 'warning: VMware has no guestOS id for this guest OS: writing guestOS "other-64"' \
    "$tmp/kvm-haiku.err" || { cat "$tmp/kvm-haiku.err"; fail "kvm-haiku: warning"; }
