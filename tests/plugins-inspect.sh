#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv inspect: the example sample is read and shown (text and JSON);
# every hypervisor source is recognised by the right plugin, which says
# plainly that reading is not implemented yet (the kvm and vmware
# plugins read theirs: a broken one is one clear error); the source is
# untouched.
. "$srcdir/functions.sh"
requires python3

sample=$top_srcdir/samples/example/demo.vmconv-example
before=$(fingerprint "$sample")

"$VMCONV" inspect "$sample" > "$tmp/out" || fail "inspect sample failed"
for line in \
    "name:        demo" \
    "source:      $sample (example plugin)" \
    "firmware:    uefi, secure boot off" \
    "vcpus:       2 (1 socket, 2 cores, 1 thread)" \
    "memory:      2 GiB" \
    "guest os:    linux debian 12 x86_64" \
    "disk 0:      disk on virtio, boot 1: $top_srcdir/samples/example/../disks/demo.vmdk (vmdk, 64 MiB)" \
    "disk 1:      cdrom on sata ?:1 (ahci), read-only: empty" \
    "nic 0:       virtio 52:54:00:12:34:56 on network default"
do
    grep -qxF "$line" "$tmp/out" || { cat "$tmp/out"; fail "inspect: missing '$line'"; }
done

"$VMCONV" inspect --json "$sample" > "$tmp/vm.json" || fail "inspect --json failed"
python3 - "$tmp/vm.json" "$sample" <<'PY' || fail "inspect --json: wrong model"
import json, sys
vm = json.load(open(sys.argv[1]))
assert vm["schema"] == "vmconv-vm/3"
assert vm["name"] == "demo" and vm["memory"] == 2 << 30, vm
assert vm["source-plugin"] == "example" and vm["source-path"] == sys.argv[2]
assert vm["firmware"] == "uefi" and vm["vcpus"] == 2
assert [d["bus"] for d in vm["disks"]] == ["virtio", "sata"]
assert vm["disks"][0]["virtual-size"] == 64 << 20
assert vm["nics"][0]["mac"] == "52:54:00:12:34:56"
assert vm["os"]["family"] == "linux"
PY
"$VMCONV" inspect --from example --json "$sample" | cmp -s - "$tmp/vm.json" ||
    fail "inspect --from example differs"

# Hypervisor sources: recognised by content, reading not implemented.
# not_yet FILE PLUGIN WHAT
not_yet() {
    expect_fail "inspect $1" "$VMCONV" inspect "$1"
    grep -qxF "vmconv: $1: $2 plugin: reading $3 is not implemented yet" \
        "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "inspect $1: wrong message"; }
    rc=0; "$VMCONV" inspect "$1" 2>/dev/null || rc=$?
    [ $rc = 1 ] || fail "inspect $1: exit $rc, expected 1"
}
printf '.encoding = "UTF-8"\r\nconfig.version = "8"\r\nvirtualHW.version = "19"\r\ndisplayName = "web01"\r\n' \
    > "$tmp/web01.vmx"
# A .vmx is read (tests/vmware-*.sh test the reader); the extension
# does not matter, the content does.
cp "$tmp/web01.vmx" "$tmp/web01.cfg"
for f in "$tmp/web01.vmx" "$tmp/web01.cfg"; do
    "$VMCONV" inspect "$f" > "$tmp/web01.txt" || fail "inspect $f"
    grep -qx 'name:        web01' "$tmp/web01.txt" || fail "inspect $f: name"
    grep -q '(vmware plugin)' "$tmp/web01.txt" || fail "inspect $f: plugin"
done
cat > "$tmp/vm.ovf" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References/>
</Envelope>
XML
# OVF and OVA are read (tests/ovf-golden.sh, ova.sh): this envelope
# holds no VirtualSystem, which the reader says.
expect_fail "inspect vm.ovf" "$VMCONV" inspect "$tmp/vm.ovf"
grep -q "vm.ovf: line 2: <Envelope>: no VirtualSystem" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "inspect vm.ovf: wrong message"; }
(cd "$tmp" && tar --format=ustar -cf vm.ova vm.ovf web01.vmx)
expect_fail "inspect vm.ova" "$VMCONV" inspect "$tmp/vm.ova"
grep -q "vm.ova:vm.ovf: line 2: <Envelope>: no VirtualSystem" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "inspect vm.ova: wrong message"; }
cat > "$tmp/guest.xml" <<'XML'
<!-- defined by hand -->
<domain type='kvm'>
  <name>guest</name>
</domain>
XML
# The kvm plugin reads libvirt domains (tests/kvm-*.sh): this one lacks
# its memory size.
expect_fail "inspect $tmp/guest.xml" "$VMCONV" inspect "$tmp/guest.xml"
grep -qxF "vmconv: $tmp/guest.xml: line 2: <domain> has no <memory>" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "inspect guest.xml: wrong message"; }
# A .vmcx header cut short: recognised by the hyperv plugin, which
# reads it (tests/test-vmcx.c, tests/hyperv-*.sh) and says why not.
printf '\x14\x20\x28\x01rest of a vmcx header' > "$tmp/vm.vmcx"
expect_fail "inspect vm.vmcx" "$VMCONV" inspect "$tmp/vm.vmcx"
grep -qxF "vmconv: $tmp/vm.vmcx: offset 0x0: the file ends inside the header (and the second header at 0x1000: the file ends inside the header)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "inspect vm.vmcx: wrong message"; }
printf '<?xml version="1.0" encoding="UTF-16"?>\n<configuration>\n <manifest>\n </manifest>\n</configuration>\n' |
    iconv -f UTF-8 -t UTF-16 > "$tmp/hv2012.xml"
# Recognised by the hyperv plugin, which reads it (tests/hyperv-*.sh)
# and finds it has no VM in it.
expect_fail "inspect hv2012.xml" "$VMCONV" inspect "$tmp/hv2012.xml"
grep -qxF "vmconv: $tmp/hv2012.xml: the configuration has no properties: not a Hyper-V VM configuration" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "inspect hv2012.xml: wrong message"; }
# .NET's app.config also has a <configuration> root: not Hyper-V.
printf '<?xml version="1.0"?>\n<configuration><appSettings/></configuration>\n' > "$tmp/app.config"
expect_fail "app.config" "$VMCONV" inspect "$tmp/app.config"
grep -qxF "vmconv: $tmp/app.config: no plugin recognises this source" "$tmp/expect_fail.out" ||
    fail "app.config claimed"

# Physical machines are not files: only with --from.
expect_fail "physical" "$VMCONV" inspect --from physical ssh://root@host
grep -qxF "vmconv: ssh://root@host: physical plugin: reading a physical machine is not implemented yet" \
    "$tmp/expect_fail.out" || fail "physical: wrong message"

# Errors of the command line and of the source.
expect_fail "no source" "$VMCONV" inspect
grep -q "no SOURCE given" "$tmp/expect_fail.out" || fail "no source: message"
expect_fail "missing" "$VMCONV" inspect "$tmp/missing.vmx"
grep -qxF "vmconv: $tmp/missing.vmx: No such file or directory" "$tmp/expect_fail.out" ||
    fail "missing: message"
expect_fail "unknown plugin" "$VMCONV" inspect --from nope "$sample"
grep -qxF "vmconv: inspect: --from nope: no such plugin ('vmconv plugins' lists them)" \
    "$tmp/expect_fail.out" || fail "--from nope: message"
rc=0; "$VMCONV" inspect --from nope "$sample" 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "--from nope: exit $rc, expected 2"
printf 'vmconv-example 1\nname = x\nmemory = lots\n' > "$tmp/bad.vmconv-example"
expect_fail "bad example" "$VMCONV" inspect "$tmp/bad.vmconv-example"
grep -qxF "vmconv: $tmp/bad.vmconv-example: line 3: memory: 'lots' is not a size (a number, optionally followed by K, M, G, T or P)" \
    "$tmp/expect_fail.out" || fail "bad example: message"
"$VMCONV" inspect --help | grep -q '^Usage: vmconv inspect' || fail "inspect --help"

# The core checks every model a plugin reads: two disks in one slot
# are refused, naming the source and both disks.
printf 'vmconv-example 1\nname = x\n[disk]\nbus = sata\ncontroller = 0\nunit = 1\n[disk]\nbus = sata\ncontroller = 0\nunit = 1\n' \
    > "$tmp/slot.vmconv-example"
expect_fail "one slot" "$VMCONV" inspect "$tmp/slot.vmconv-example"
grep -q "^vmconv: $tmp/slot.vmconv-example: disks\[1\]: .*already used by disks\[0\]" \
    "$tmp/expect_fail.out" || fail "one slot: message"

[ "$(fingerprint "$sample")" = "$before" ] || fail "the sample was modified"
