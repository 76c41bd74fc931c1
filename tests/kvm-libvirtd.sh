#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kvm plugin against a real libvirt daemon that this test starts:
# converted domains are defined through the plugin's finish (libvirt's
# own validation), read back with virsh dumpxml to see that the MACs,
# disks, firmware and CPU topology survived libvirt's parsing; an
# existing domain is refused unless replace=on; a domain is read as a
# source through the API (vmconv inspect -ic URI) and converted to
# VMware; every VMware guest of the test corpus is converted and
# defined; and one converted guest is started and reaches a known
# string on its serial console.
#
# The daemon is libvirtd in system mode, as root, in a private mount
# and network namespace (its bridges and guests see no host network),
# whose /etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/log/libvirt and /var/cache/libvirt are directories of this
# test's scratch area: nothing of the host's libvirt is read or
# changed.  Its socket is $tmp/lv/sock/libvirt-sock (auth none); it and
# its virtlogd are stopped, and their guests destroyed, on exit.
# Skipped (77) only when no daemon can be started here.
. "$srcdir/functions.sh"
. "$srcdir/libvirtd-functions.sh"
libvirtd_start
write() { "$builddir/kvm-write-vm" "$@"; }

# dumpxml NAME: the inactive definition, as libvirt parsed it.
dumpxml() { v dumpxml --inactive "$1" > "$tmp/$1.dump.xml" || fail "dumpxml $1"; }
# has NAME XPATH-ISH-GREP: the dumped XML contains the line.
has() {
    grep -qF -- "$2" "$tmp/$1.dump.xml" ||
        { cat "$tmp/$1.dump.xml"; fail "$1: libvirt's definition lacks: $2"; }
}

# ---- A converted Windows guest (the rich Hyper-V model) --------------
out=$tmp/sql02
mkdir -p "$out"
for d in os data logs; do qemu-img create -q -f qcow2 "$out/sql02-$d.qcow2" 16M; done
conv() {
    rm -f "$out/sql02.xml"
    write --json --format qcow2 --disk "$out/sql02-os.qcow2" \
        --disk "$out/sql02-data.qcow2" --disk "$out/sql02-logs.qcow2" \
        --disk "" --uri "$uri" --finish "$@" \
        "$srcdir/data/vm/rich.json" "$out"
}
conv --guest virtio --param domain-type=qemu 2> "$tmp/conv.err" ||
    { cat "$tmp/conv.err"; fail "converting and defining sql02 failed"; }
virt-xml-validate "$out/sql02.xml" domain || fail "sql02.xml does not validate"
v list --all --name | grep -qx sql02 || fail "sql02 was not defined"
dumpxml sql02
has sql02 "<uuid>83f8638b-8dca-4152-9eda-2ca8b33039b4</uuid>"
has sql02 "<mac address='00:15:5d:0a:0b:0c'/>"
has sql02 "<source file='$out/sql02-os.qcow2'/>"
has sql02 "<source file='$out/sql02-data.qcow2'/>"
has sql02 "<driver name='qemu' type='qcow2' discard='unmap'/>"
has sql02 "<target dev='vda' bus='virtio'/>"
has sql02 "<model type='virtio'/>"
has sql02 "<os firmware='efi'>"
has sql02 "<feature enabled='yes' name='secure-boot'/>"
has sql02 "<feature enabled='yes' name='enrolled-keys'/>"
has sql02 "<smm state='on'/>"
has sql02 "<topology sockets='1' dies='1' cores='4' threads='2'/>"
has sql02 "<vcpu placement='static'>8</vcpu>"
has sql02 "<memory unit='KiB'>8388608</memory>"
has sql02 "<boot order='1'/>"
has sql02 "<source network='prod-net'/>"
has sql02 "<clock offset='localtime'>"
has sql02 "<tpm model='tpm-crb'>"
has sql02 "name='org.qemu.guest_agent.0'"
has sql02 "<rng model='virtio'>"
has sql02 "<memballoon model='virtio'>"
# The OS disk, boot order 1, comes first.
grep -m1 "<source file=" "$tmp/sql02.dump.xml" | grep -qF "sql02-os.qcow2" ||
    fail "sql02: the boot disk is not the first"

# The same again: refused, the domain stays as it was.
expect_fail "defining sql02 again" conv --guest novirtio --param domain-type=qemu
grep -q "a domain 'sql02' with this name or UUID already exists: it is not replaced (replace=on replaces it)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "sql02 again: wrong message"; }
dumpxml sql02
has sql02 "<target dev='vda' bus='virtio'/>"
# With replace=on: the guest without virtio drivers gets SATA and e1000e.
conv --guest novirtio --param domain-type=qemu --param replace=on 2> "$tmp/conv.err" ||
    { cat "$tmp/conv.err"; fail "replacing sql02 failed"; }
dumpxml sql02
has sql02 "<target dev='sda' bus='sata'/>"
has sql02 "<model type='e1000e'/>"
has sql02 "<mac address='00:15:5d:0a:0b:0c'/>"
has sql02 "<memballoon model='none'/>"
grep -q "bus='virtio'" "$tmp/sql02.dump.xml" && fail "sql02 replaced: still virtio disks"

# A replacement libvirt refuses (more vCPUs than q35 can have): the
# domain it was to replace is defined again, unchanged.
python3 - "$srcdir/data/vm/rich.json" "$tmp/rich-huge.json" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))
vm["vcpus"], vm["cpu-sockets"], vm["cpu-cores"], vm["cpu-threads"] = 4000, 1, 4000, 1
json.dump(vm, open(sys.argv[2], "w"))
PY
rm -f "$out/sql02.xml"
expect_fail "replacing sql02 by a domain libvirt refuses" \
    write --json --format qcow2 --disk "$out/sql02-os.qcow2" \
        --disk "$out/sql02-data.qcow2" --disk "$out/sql02-logs.qcow2" \
        --disk "" --uri "$uri" --finish --param domain-type=qemu \
        --param replace=on "$tmp/rich-huge.json" "$out"
grep -qF "libvirt refused the domain in $out/sql02.xml: " "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "huge sql02: wrong message"; }
dumpxml sql02
has sql02 "<target dev='sda' bus='sata'/>"
has sql02 "<vcpu placement='static'>8</vcpu>"

# ---- Read through the API: the domain as a source --------------------
"$VMCONV" inspect -ic "$uri" --json sql02 > "$tmp/api.json" 2> "$tmp/api.err" ||
    { cat "$tmp/api.err"; fail "inspect -ic $uri sql02 failed"; }
python3 - "$tmp/api.json" "$out" <<'PY' || fail "the domain read through the API is wrong"
import json, sys
vm = json.load(open(sys.argv[1])); out = sys.argv[2]
assert vm["name"] == "sql02", vm["name"]
assert vm["uuid"] == "83f8638b-8dca-4152-9eda-2ca8b33039b4"
assert vm["firmware"] == "uefi" and vm["secure-boot"] is True
assert (vm["vcpus"], vm["cpu-sockets"], vm["cpu-cores"], vm["cpu-threads"]) == (8, 1, 4, 2)
assert vm["memory"] == 8 << 30
disks = [d for d in vm["disks"] if d.get("device", "disk") == "disk"]
assert [d["path"] for d in disks] == [out + "/sql02-os.qcow2", out + "/sql02-data.qcow2", out + "/sql02-logs.qcow2"], disks
assert all(d["format"] == "qcow2" and d["bus"] == "sata" for d in disks), disks
macs = [n.get("mac") for n in vm["nics"]]
assert "00:15:5d:0a:0b:0c" in macs, macs
assert vm["source-path"] == "sql02"
print("read through the API:", vm["name"], len(vm["disks"]), "drives", macs)
PY
# ... and converted to VMware (the disks as the pipeline would have
# converted them, to VMDK).
mkdir -p "$tmp/tovmware"
write --from kvm --read-param "uri=$uri" --to vmware --format vmdk \
    --disk "$tmp/tovmware/os.vmdk" --disk "$tmp/tovmware/data.vmdk" \
    --disk "$tmp/tovmware/logs.vmdk" --disk "" sql02 "$tmp/tovmware" 2> "$tmp/tovmware.err" ||
    { cat "$tmp/tovmware.err"; fail "converting the API domain to VMware failed"; }
grep -qx 'displayName = "sql02"' "$tmp/tovmware/sql02.vmx" || fail "sql02.vmx: no displayName"
grep -qi '00:15:5d:0a:0b:0c' "$tmp/tovmware/sql02.vmx" || fail "sql02.vmx: MAC lost"
grep -q "fileName = \"\(.*/\)\?os.vmdk\"" "$tmp/tovmware/sql02.vmx" || fail "sql02.vmx: OS disk lost"
"$VMCONV" inspect "$tmp/tovmware/sql02.vmx" > /dev/null || fail "the VMware result does not read"
echo "read through the API and written as $tmp/tovmware/sql02.vmx"
# By UUID too; and an unknown name is one clear error.
"$VMCONV" inspect -ic "$uri" 83f8638b-8dca-4152-9eda-2ca8b33039b4 > /dev/null ||
    fail "inspect -ic by UUID failed"
expect_fail "inspect -ic unknown" "$VMCONV" inspect -ic "$uri" no-such-domain
grep -qxF "vmconv: $uri: no domain named 'no-such-domain'" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "inspect -ic unknown: wrong message"; }
v undefine --nvram sql02 > /dev/null || fail "undefine sql02"

# A disk named as a volume of a storage pool: resolved through the API.
mkdir -p "$tmp/pool"
v pool-define-as tpool dir --target "$tmp/pool" > /dev/null || fail "pool-define-as"
v pool-start tpool > /dev/null || fail "pool-start"
v vol-create-as tpool vol1.qcow2 16M --format qcow2 > /dev/null || fail "vol-create-as"
cat > "$tmp/voldom.xml" <<'EOF2'
<domain type='qemu'>
  <name>voldom</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='tpool' volume='vol1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
EOF2
v define "$tmp/voldom.xml" > /dev/null || fail "define voldom"
"$VMCONV" inspect -ic "$uri" --json voldom > "$tmp/voldom.json" ||
    fail "inspect -ic voldom failed"
python3 - "$tmp/voldom.json" "$tmp/pool/vol1.qcow2" <<'PY' || fail "voldom: volume not resolved"
import json, sys
d = json.load(open(sys.argv[1]))["disks"][0]
assert d["path"] == sys.argv[2] and d["source-ref"] == sys.argv[2], d
assert d["format"] == "qcow2" and d["bus"] == "virtio" and not d["missing"], d
PY
# From the file alone the volume cannot be resolved: said so.
"$VMCONV" inspect "$tmp/voldom.xml" > "$tmp/voldom.txt" || fail "inspect voldom.xml"
grep -qF "volume vol1.qcow2 of pool tpool is resolved only through libvirt (uri=URI)" "$tmp/voldom.txt" ||
    { cat "$tmp/voldom.txt"; fail "voldom.xml: no note"; }
v undefine voldom > /dev/null || fail "undefine voldom"

# ---- Corpus domains: read, written again, defined, read back ---------
# The libvirt domains the tests read: vmconv's own (data/libvirt),
# libvirt's test domains (data/corpus/libvirt, LGPL), and the shared
# corpus's others (virt-manager's, GPL) when it is present.
kvm_domains=("$srcdir"/data/libvirt/*.xml "$VMCONV_TEST_DATA"/libvirt/*.xml)
if [ -d "$VMCONV_CORPUS/libvirt" ]; then
    for x in "$VMCONV_CORPUS"/libvirt/*.xml; do
        [ -f "$VMCONV_TEST_DATA/libvirt/$(basename "$x")" ] || kvm_domains+=("$x")
    done
else
    echo "SKIP: part of the test: the virt-manager domains are only in the" \
         "shared corpus (not redistributable here), not found at $VMCONV_CORPUS"
fi
n=0
for x in "${kvm_domains[@]}"; do
    b=$(basename "$x" .xml)
    if grep -q "arch=['\"]aarch64" "$x" && ! command -v qemu-system-aarch64 >/dev/null; then
        echo "note: $b is an aarch64 guest and qemu-system-aarch64 is not installed: not defined"
        continue
    fi
    o=$tmp/c/$b
    mkdir -p "$o"
    write --name dom --uri "$uri" --finish "$x" "$o" 2> "$tmp/c.err" ||
        { cat "$tmp/c.err"; fail "$b: defining it failed"; }
    name=$(python3 -c 'import sys, xml.etree.ElementTree as ET
print(ET.parse(sys.argv[1]).getroot().find("name").text)' "$o/dom.xml")
    dumpxml "$name"
    # Every MAC and every disk source written is in libvirt's definition.
    for mac in $(sed -n "s|.*<mac address=\"\(.*\)\"/>|\1|p" "$o/dom.xml"); do
        has "$name" "<mac address='$mac'/>"
    done
    sed -n 's|.*<source \(file\|dev\)="\(.*\)"/>|\1 \2|p' "$o/dom.xml" |
    while read -r kind path; do
        has "$name" "<source $kind='$path'"
    done
    if grep -q '<os firmware="efi">' "$o/dom.xml"; then
        has "$name" "<os firmware='efi'>"
    fi
    t=$(grep -o '<topology [^>]*>' "$o/dom.xml" | tr '"' "'") &&
        has "$name" "$t"
    v undefine --nvram "$name" > /dev/null || fail "undefine $name"
    n=$((n + 1))
done
echo "$n corpus domains defined and read back"
[ "$n" -ge 4 ] || fail "only $n corpus domains were defined"

# ---- VMware guests converted and defined -----------------------------
# Every .vmx of the test corpus, read by the vmware plugin, written for
# KVM without guest conversion (the source's device kinds, mapped) and
# with virtio drivers (replacing it), each hard disk as the converted
# qcow2 the pipeline would make.
m=0
for x in "$VMCONV_TEST_DATA"/vmx/*.vmx; do
    b=$(basename "$x" .vmx)
    o=$tmp/vmx/$b
    mkdir -p "$o"
    "$VMCONV" inspect --json "$x" > "$o/model.json" || fail "$b: inspect failed"
    mapfile -t disk_args < <(python3 - "$o/model.json" "$o" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))
for i, d in enumerate(vm["disks"]):
    print("--disk")
    print("%s/disk%d.qcow2" % (sys.argv[2], i)
          if d.get("device", "disk") == "disk" else "")
PY
)
    for g in none virtio; do
        rm -f "$o"/*.xml
        ga=(); [ $g = virtio ] && ga=(--guest virtio --param replace=on)
        write "${ga[@]}" --from vmware --format qcow2 "${disk_args[@]}" \
            --name dom --param domain-type=qemu --uri "$uri" --finish \
            "$x" "$o" 2> "$o/err" ||
            { cat "$o/err"; fail "$b ($g): converting and defining failed"; }
        virt-xml-validate "$o/dom.xml" domain > /dev/null || fail "$b: does not validate"
        name=$(python3 -c 'import sys, xml.etree.ElementTree as ET
print(ET.parse(sys.argv[1]).getroot().find("name").text)' "$o/dom.xml")
        dumpxml "$name"
        for mac in $(python3 -c 'import json, sys
print(" ".join(n["mac"] for n in json.load(open(sys.argv[1]))["nics"] if n.get("mac")))' "$o/model.json"); do
            has "$name" "<mac address='$mac'/>"
        done
        for i in $(seq 0 20); do
            [ -n "$(grep -o "$o/disk$i.qcow2" "$o/dom.xml")" ] &&
                has "$name" "<source file='$o/disk$i.qcow2'"
        done
        [ $g = virtio ] && ! grep -q "bus='sata'\|bus='ide'\|bus='scsi'" "$tmp/$name.dump.xml" &&
            ! grep -q "device='cdrom'" "$o/dom.xml" && has "$name" "bus='virtio'"
    done
    v undefine --nvram "$name" > /dev/null || fail "undefine $name"
    m=$((m + 1))
done
echo "$m VMware guests converted, defined and read back"
[ "$m" -ge 10 ] || fail "only $m VMware guests were defined"

# ---- A converted guest boots -----------------------------------------
# A tiny BIOS guest whose boot sector prints a string on COM1, described
# as a foreign (VMware-like) VM with a SATA disk and its serial port
# logging to a file; written without guest conversion, of type kvm when
# the plugin finds KVM usable here, else qemu (TCG: /dev/kvm may be
# present yet unable to run current guests, as under some nested
# hypervisors).
python3 "$srcdir/kvm-bootdisk.py" "$tmp/boot.raw" VMCONV-BOOT-OK
mkdir -p "$tmp/boot"
qemu-img convert -O qcow2 "$tmp/boot.raw" "$tmp/boot/tiny-disk1.qcow2"
cat > "$tmp/tiny.json" <<EOF2
{
  "schema": "vmconv-vm/2",
  "name": "tiny",
  "uuid": "5c0ffee0-1234-4abc-8def-0123456789ab",
  "source-plugin": "vmware",
  "firmware": "bios",
  "vcpus": 1, "cpu-sockets": 1, "cpu-cores": 1, "cpu-threads": 1,
  "memory": 67108864,
  "graphics": "none",
  "disks": [ { "path": "$tmp/boot.raw", "format": "raw", "bus": "sata",
               "controller": 0, "unit": 0, "boot-order": 1 } ],
  "nics": [ { "mac": "00:50:56:01:02:03", "model": "vmxnet3",
              "network-type": "network", "network": "VM Network" } ],
  "serials": [ { "index": 0, "type": "file", "target": "$tmp/boot/serial.log" } ]
}
EOF2
# kvm where the plugin's probe finds KVM usable, else qemu.
mkdir -p "$tmp/probe"
write --json --format qcow2 --disk "$tmp/boot/tiny-disk1.qcow2" \
    "$tmp/tiny.json" "$tmp/probe" 2> "$tmp/probe.err" || fail "tiny: write failed"
if grep -q "KVM is not usable here" "$tmp/probe.err"; then
    dtype=qemu
    grep "KVM is not usable here" "$tmp/probe.err"
    echo "so tiny boots with type qemu"
else
    dtype=kvm
    echo "KVM is usable here: booting with type kvm"
fi
write --json --format qcow2 --disk "$tmp/boot/tiny-disk1.qcow2" \
    --param domain-type=$dtype --uri "$uri" --finish \
    "$tmp/tiny.json" "$tmp/boot" 2> "$tmp/boot.err" ||
    { cat "$tmp/boot.err"; fail "defining tiny failed"; }
grep -q "nics\[0\]: the source's network 'VM Network' was not mapped" "$tmp/boot.err" ||
    { cat "$tmp/boot.err"; fail "tiny: no warning for the unmapped network"; }
virt-xml-validate "$tmp/boot/tiny.xml" domain || fail "tiny.xml does not validate"
dumpxml tiny
has tiny "<model type='e1000e'/>"
has tiny "<source network='default'/>"
# The guest's NIC is on the 'default' network, which this daemon does
# not have: start it without (a copy defined with its NIC removed would
# test less), so give the daemon a network named default that needs no
# host setup.
cat > "$tmp/net.xml" <<'EOF2'
<network>
  <name>default</name>
  <bridge name='vmconvtst0'/>
</network>
EOF2
if v net-define "$tmp/net.xml" > /dev/null 2>&1 && v net-start default > /dev/null 2> "$tmp/net.err"; then
    :
else
    echo "note: no 'default' network here ($(cat "$tmp/net.err" 2>/dev/null)): the guest's NIC is removed to boot it"
    v dumpxml --inactive tiny | python3 -c '
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.stdin); d = t.getroot().find("devices")
for i in d.findall("interface"): d.remove(i)
t.write(sys.stdout, encoding="unicode")' > "$tmp/tiny-nonet.xml"
    v define "$tmp/tiny-nonet.xml" > /dev/null || fail "redefining tiny without its NIC"
fi
v start tiny > /dev/null || { tail -n 20 "$lv/log/libvirtd.log"; fail "starting tiny failed"; }
ok=no
for _ in $(seq 120); do
    if grep -q VMCONV-BOOT-OK "$tmp/boot/serial.log" 2>/dev/null; then ok=yes; break; fi
    sleep 0.5
done
[ $ok = yes ] || { cat "$lv/log/qemu/tiny.log" 2>/dev/null; fail "tiny did not print VMCONV-BOOT-OK on its serial port"; }
echo "tiny booted: $(tr -d '\r' < "$tmp/boot/serial.log")"

# A running domain is refused as a source unless allow-running=on.
expect_fail "inspect a running domain" "$VMCONV" inspect -ic "$uri" tiny
grep -qF "$uri: domain tiny: the domain is running" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "running domain: wrong message"; }
"$VMCONV" inspect -ic "$uri" -io allow-running=on tiny > "$tmp/tiny.txt" ||
    fail "inspect -io allow-running=on failed"
grep -q "tiny-disk1.qcow2" "$tmp/tiny.txt" || { cat "$tmp/tiny.txt"; fail "running tiny: no disk"; }

v destroy tiny > /dev/null || fail "destroy tiny"
v undefine --nvram tiny > /dev/null || fail "undefine tiny"
[ -z "$(v list --all --name)" ] || fail "domains left: $(v list --all --name)"
echo "PASS: defined, read back, read as a source, booted"
