#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main road, end to end, with a real boot: the sample VMware VM
# (samples/vmware/demo.vmx, its serial port sent to a file as VMware
# users do) converted by `vmconv convert --to kvm --libvirt-uri`, which
# defines it in a private libvirt daemon started by this test; the
# domain is started and its boot code must print its line on the
# serial port.  The domain type is kvm where the kvm plugin finds KVM
# usable, else qemu (emulation), as a user would be told to choose.
. "$srcdir/functions.sh"
. "$srcdir/libvirtd-functions.sh"
libvirtd_start

src=$tmp/src
mkdir -p "$src"
cp "$top_srcdir/samples/vmware/demo.vmx" "$top_srcdir/samples/vmware/demo.vmdk" "$src/"
cat >> "$src/demo.vmx" <<EOF2
serial0.present = "TRUE"
serial0.fileType = "file"
serial0.fileName = "$tmp/serial.log"
EOF2
fp=$(fingerprint "$src/demo.vmdk")

# Without --libvirt-uri first: the files only, and the KVM probe's word.
"$VMCONV" convert "$src/demo.vmx" -O "$tmp/files" > "$tmp/files.out" 2>&1 ||
    { cat "$tmp/files.out"; fail "convert (files only) failed"; }
virt-xml-validate "$tmp/files/demo.xml" domain > /dev/null || fail "demo.xml does not validate"
if grep -q "KVM is not usable here" "$tmp/files.out"; then
    dtype=qemu
else
    dtype=kvm
fi
echo "domain type: $dtype"

# The 'default' network the NIC lands on, made in the daemon's own
# network namespace.
cat > "$tmp/net.xml" <<'EOF2'
<network>
  <name>default</name>
  <bridge name='vmconvtst0'/>
</network>
EOF2
v net-define "$tmp/net.xml" > /dev/null && v net-start default > /dev/null ||
    fail "cannot make a 'default' network in the test's daemon"

"$VMCONV" convert "$src/demo.vmx" -O "$tmp/vm" --libvirt-uri "$uri" \
    --domain-type $dtype > "$tmp/conv.out" 2>&1 ||
    { cat "$tmp/conv.out"; fail "convert --libvirt-uri failed"; }
[ "$(v list --all --name)" = demo ] || fail "the domain was not defined: $(v list --all --name)"
v dumpxml --inactive demo > "$tmp/dump.xml"
grep -qF "$tmp/vm/demo-disk1.qcow2" "$tmp/dump.xml" ||
    { cat "$tmp/dump.xml"; fail "libvirt's domain does not name the converted disk"; }
grep -qF "00:0c:29:d7:e8:f9" "$tmp/dump.xml" || fail "the MAC was not kept"

v start demo > /dev/null || { tail -n 20 "$lv/log/libvirtd.log"; fail "starting demo failed"; }
ok=no
for _ in $(seq 240); do
    if grep -q "vmconv demo guest: booted" "$tmp/serial.log" 2>/dev/null; then ok=yes; break; fi
    sleep 0.5
done
[ $ok = yes ] || { cat "$lv/log/qemu/demo.log" 2>/dev/null; fail "the converted guest did not boot to its line"; }
echo "the converted guest booted: $(tr -d '\r' < "$tmp/serial.log")"
v destroy demo > /dev/null
v undefine demo > /dev/null

[ "$(fingerprint "$src/demo.vmdk")" = "$fp" ] || fail "the source disk changed"
echo "ok: VMware -> KVM, defined and booted"
