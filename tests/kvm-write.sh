#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kvm plugin writes converted VMs as libvirt domains: golden domain
# XML for a Hyper-V Windows guest (tests/data/vm/rich.json) with and
# without virtio drivers and without guest conversion, and an old
# VMware BIOS guest with IDE disks (tests/data/kvm/ide-bios.json); every
# one passes libvirt's schema (virt-xml-validate).  Then the rules one
# by one (buses, NIC models, machine, firmware, boot order, discard,
# formats, networks), the parameters, and the refusals.
# VMCONV_TEST_REGENERATE=1 rewrites the golden files.
. "$srcdir/functions.sh"
requires python3 virt-xml-validate

write() { "$builddir/kvm-write-vm" "$@"; }
rich=$srcdir/data/vm/rich.json
ide=$srcdir/data/kvm/ide-bios.json
img=/var/lib/libvirt/images
rich_disks=(--format qcow2 --disk $img/sql02-os.qcow2
            --disk $img/sql02-data.qcow2 --disk $img/sql02-logs.qcow2 --disk "")

# gen NAME ARGS...: write into $tmp/NAME/, validate, golden kvm/conv/NAME.xml
gen() {
    local name=$1 o=$tmp/$1
    shift
    mkdir -p "$o"
    write "$@" "$o" 2> "$o.err" || { cat "$o.err"; fail "$name: write failed"; }
    x=$(ls "$o"/*.xml)
    virt-xml-validate "$x" domain > "$o.val" 2>&1 ||
        { cat "$o.val"; cat "$x"; fail "$name: does not validate"; }
    cp "$x" "$o.golden.xml"
    golden_paths "$o.golden.xml"
    compare_golden "$o.golden.xml" "kvm/conv/$name.xml"
}
# has NAME TEXT: the domain written for NAME contains TEXT.
has() { grep -qF -- "$2" "$tmp/$1"/*.xml || { cat "$tmp/$1"/*.xml; fail "$1: no '$2'"; }; }
hasnt() { ! grep -qF -- "$2" "$tmp/$1"/*.xml || { cat "$tmp/$1"/*.xml; fail "$1: has '$2'"; }; }

gen rich-virtio --json --guest virtio "${rich_disks[@]}" "$rich"
gen rich-novirtio --json --guest novirtio "${rich_disks[@]}" "$rich"
gen rich-noguest --json "${rich_disks[@]}" "$rich"
gen rich-qemu --json --guest virtio --param domain-type=qemu "${rich_disks[@]}" "$rich"
gen ide-noguest --json --format qcow2 --disk $img/oldbox-1.qcow2 --disk "" \
    --disk $img/oldbox-2.qcow2 "$ide"
gen ide-novirtio --json --guest novirtio --format qcow2 \
    --disk $img/oldbox-1.qcow2 --disk "" --disk $img/oldbox-2.qcow2 "$ide"

# Identity, memory, CPUs, firmware (UEFI with Secure Boot: libvirt picks
# OVMF and its variables template), clock of a Windows guest.
has rich-virtio '<domain type="kvm">'
has rich-qemu '<domain type="qemu">'
has rich-virtio '<name>sql02</name>'
has rich-virtio '<uuid>83f8638b-8dca-4152-9eda-2ca8b33039b4</uuid>'
has rich-virtio '<genid>0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0</genid>'
has rich-virtio '<memory unit="KiB">8388608</memory>'
has rich-virtio '<topology sockets="1" dies="1" cores="4" threads="2"/>'
has rich-virtio '<os firmware="efi">'
has rich-virtio '<feature enabled="yes" name="secure-boot"/>'
has rich-virtio '<smm state="on"/>'
has rich-virtio '<type arch="x86_64" machine="q35">hvm</type>'
has rich-virtio '<clock offset="localtime">'
has rich-virtio '<tpm model="tpm-crb">'
# The control character of the description cannot be XML: made '?'.
has rich-virtio 'second line?[31m escape stays inert'
# Disks: converted images with the written format, discard, boot order
# first; the guest with drivers gets virtio, the one without SATA; the
# ISO of the CD-ROM could not be found: an empty drive.
has rich-virtio '<driver name="qemu" type="qcow2" discard="unmap"/>'
has rich-virtio "<source file=\"$img/sql02-os.qcow2\"/>"
has rich-virtio '<target dev="vda" bus="virtio"/>'
has rich-novirtio '<target dev="sda" bus="sata"/>'
hasnt rich-novirtio 'bus="virtio"'
has rich-noguest '<target dev="sda" bus="sata"/>'
python3 - "$tmp/rich-virtio/sql02.xml" <<'PY' || fail "rich-virtio: disks not in boot order"
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot().find("devices").findall("disk")
assert d[0].find("source").get("file").endswith("sql02-os.qcow2"), d
assert d[0].find("boot").get("order") == "1"
assert d[-1].get("device") == "cdrom" and d[-1].find("source") is None
PY
# NICs: MAC kept, virtio or e1000e; mapped network kept, the unmapped
# one on 'default'.
has rich-virtio '<mac address="00:15:5d:0a:0b:0c"/>'
has rich-virtio '<model type="virtio"/>'
has rich-novirtio '<model type="e1000e"/>'
has rich-noguest '<model type="e1000e"/>'
has rich-virtio '<source network="prod-net"/>'
has rich-virtio '<source network="default"/>'
# Devices every converted guest gets.
for t in '<channel type="unix">' 'name="org.qemu.guest_agent.0"' \
         '<console type="pty">' '<rng model="virtio">' '<graphics type="vnc"'; do
    has rich-virtio "$t"
done
has rich-virtio '<memballoon model="virtio"/>'
has rich-novirtio '<memballoon model="none"/>'
# The old IDE guest: without guest conversion its IDE disks stay IDE,
# which needs i440fx; the BusLogic SCSI disk (QEMU has none) goes to
# SATA; pcnet becomes e1000e on the mapped bridge.  Converted without
# virtio drivers, it gets q35 and SATA.
has ide-noguest '<type arch="i686" machine="pc">hvm</type>'
has ide-noguest '<target dev="hda" bus="ide"/>'
has ide-noguest '<target dev="hdc" bus="ide" tray="open"/>'
has ide-noguest '<source file="/srv/iso/xp-sp3.iso"/>'
has ide-noguest '<target dev="sda" bus="sata"/>'
has ide-noguest '<interface type="bridge">'
has ide-noguest '<source bridge="br-lan"/>'
has ide-noguest '<mac address="00:0c:29:12:34:56"/>'
has ide-noguest '<model type="e1000e"/>'
has ide-noguest '<model type="vga"/>'
hasnt ide-noguest 'firmware="efi"'
has ide-novirtio '<type arch="i686" machine="q35">hvm</type>'
hasnt ide-novirtio 'bus="ide"'

# Many disks on a guest with drivers: virtio-scsi instead of virtio-blk.
python3 - "$rich" "$tmp/many.json" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))
vm["disks"] = [{"path": "/img/d%d.qcow2" % i, "format": "qcow2", "bus": "scsi",
                "controller": 0, "unit": i if i < 7 else i + 1}
               for i in range(20)]
vm["controllers"] = [{"bus": "scsi", "index": 0, "model": "hyperv-scsi"}]
json.dump(vm, open(sys.argv[2], "w"))
PY
mkdir -p "$tmp/many"
write --json --guest virtio "$tmp/many.json" "$tmp/many" || fail "many: write failed"
virt-xml-validate "$tmp/many/sql02.xml" domain > /dev/null || fail "many: does not validate"
has many '<controller type="scsi" index="0" model="virtio-scsi"/>'
has many '<target dev="sdt" bus="scsi"/>'
hasnt many 'bus="virtio"'

# Nested virtualisation: vmx or svm, whichever the host has (type kvm);
# a disk whose writes are dropped at power off is transient.
python3 - "$rich" "$tmp/nested.json" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))
vm["nested-virt"] = True
vm["disks"][1]["nonpersistent"] = True
vm["disks"][1]["independent"] = True
json.dump(vm, open(sys.argv[2], "w"))
PY
mkdir -p "$tmp/nested"
write --json --guest virtio "${rich_disks[@]}" "$tmp/nested.json" "$tmp/nested" ||
    fail "nested: write failed"
virt-xml-validate "$tmp/nested/sql02.xml" domain > /dev/null || fail "nested: does not validate"
has nested '<feature policy="optional" name="vmx"/>'
has nested '<feature policy="optional" name="svm"/>'
has nested '<transient/>'

# Names and paths are escaped, never pasted.
python3 - "$srcdir/data/kvm/ide-bios.json" "$tmp/esc.json" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))
vm["name"] = "a<b>&'c\""
vm["disks"][0]["path"] = "/img/x\"/><evil/>.vmdk"
json.dump(vm, open(sys.argv[2], "w"))
PY
mkdir -p "$tmp/esc"
write --json --name esc "$tmp/esc.json" "$tmp/esc" 2>/dev/null || fail "esc: write failed"
virt-xml-validate "$tmp/esc/esc.xml" domain > /dev/null || fail "esc: does not validate"
python3 - "$tmp/esc/esc.xml" <<'PY' || fail "esc: name or path changed"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.find("name").text == "a<b>&'c\"", r.find("name").text
assert r.find("devices").find("disk").find("source").get("file") == "/img/x\"/><evil/>.vmdk"
assert r.find(".//evil") is None
PY

# Refusals: one clear error each, nothing left behind.
mkdir -p "$tmp/r"
expect_fail "vhdx as it is" write --json "$rich" "$tmp/r"
grep -qF "disks[0]: QEMU under libvirt cannot use a vhdx image: convert it (to qcow2 or raw)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "vhdx: wrong message"; }
expect_fail "domain-type=xen" write --json --param domain-type=xen "${rich_disks[@]}" "$rich" "$tmp/r"
grep -qF "kvm plugin: domain-type=xen: give kvm or qemu" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "domain-type=xen: wrong message"; }
expect_fail "unknown parameter" write --json --param color=blue "${rich_disks[@]}" "$rich" "$tmp/r"
grep -qF "unknown write parameter 'color=blue'" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "color=blue: wrong message"; }
expect_fail "replace=perhaps" write --json --param replace=perhaps "${rich_disks[@]}" "$rich" "$tmp/r"
[ -z "$(ls "$tmp/r")" ] || fail "a refused write left files: $(ls "$tmp/r")"
# Secure Boot needs q35, IDE needs i440fx: not both.
python3 - "$ide" "$tmp/sb-ide.json" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1])); vm["firmware"] = "uefi"; vm["secure-boot"] = True
json.dump(vm, open(sys.argv[2], "w"))
PY
expect_fail "secure boot with IDE" write --json "$tmp/sb-ide.json" "$tmp/r"
grep -qF "Secure Boot needs the q35 machine, but IDE drives need i440fx" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "sb-ide: wrong message"; }
# An existing file is not overwritten.
expect_fail "existing NAME.xml" write --json "${rich_disks[@]}" "$rich" "$tmp/rich-virtio"
grep -qF "$tmp/rich-virtio/sql02.xml: File exists" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "existing file: wrong message"; }
