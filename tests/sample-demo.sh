#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's quick start (./build.sh demo): samples/disks/demo.vmdk
# (VMware streamOptimized) to qcow2, whose guest data must be the
# sha256 recorded in samples/README.md and which qemu-img must accept;
# and the sample VM samples/vmware/demo.vmx converted to KVM, its domain
# valid for libvirt (convert-boot.sh boots it).
. "$srcdir/functions.sh"
requires_qemu_img
V=$VMCONV
in=$top_srcdir/samples/disks/demo.vmdk
want=$(grep -o '`[0-9a-f]\{64\}`' "$top_srcdir/samples/README.md" | tr -d '`')
[ -n "$want" ] || fail "no sha256 in samples/README.md"

$V disk convert -O qcow2 "$in" "$tmp/demo.qcow2"
qemu_img check "$tmp/demo.qcow2" >/dev/null || fail "qemu-img check"
$V disk convert -O raw "$tmp/demo.qcow2" "$tmp/demo.raw"
[ "$(sha "$tmp/demo.raw")" = "$want" ] || fail "guest data differs"
qemu_img compare "$in" "$tmp/demo.qcow2" >/dev/null || fail "qemu-img compare"
$V disk info "$in" | grep -q 'streamOptimized' || fail "info: no subformat"

# The quick start's VM: samples/vmware/demo.vmx to KVM, its disk the
# same guest data plus the boot code, the domain valid for libvirt.
vmx=$top_srcdir/samples/vmware/demo.vmx
$V convert "$vmx" --to kvm -O "$tmp/demo-kvm" > "$tmp/conv.out" 2>&1 ||
    { cat "$tmp/conv.out"; fail "convert the sample VM"; }
qemu_img compare "$top_srcdir/samples/vmware/demo.vmdk" "$tmp/demo-kvm/demo-disk1.qcow2" \
    > /dev/null || fail "the converted disk differs from the sample's"
qemu_img check "$tmp/demo-kvm/demo-disk1.qcow2" > /dev/null || fail "qemu-img check of the VM's disk"
grep -q "<name>demo</name>" "$tmp/demo-kvm/demo.xml" || fail "no domain named demo"
if command -v virt-xml-validate > /dev/null; then
    virt-xml-validate "$tmp/demo-kvm/demo.xml" domain > /dev/null ||
        fail "the sample's domain does not validate"
else
    echo "SKIP: part of the test: virt-xml-validate is not installed"
fi
# The sample disk is the demo disk with boot code in its MBR.
$V disk convert -O raw "$top_srcdir/samples/vmware/demo.vmdk" "$tmp/vm.raw"
cmp -s -i 512 "$tmp/vm.raw" "$tmp/demo.raw" || fail "samples/vmware/demo.vmdk is not disks/demo.vmdk past its MBR"
