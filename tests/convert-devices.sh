#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Devices the target lacks are replaced, and without the guest fix
# (nobody checked the guest's drivers) by emulated ones the guest
# surely drives, never by paravirtual ones it may lack: VMware's
# pvscsi + vmxnet3 become SATA + e1000e on KVM, KVM's virtio disk and
# NIC become SATA + e1000e on VMware.  The plan says each change and
# why; the written configurations carry them.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
V=$VMCONV

qemu_img create -q -f vmdk "$tmp/d.vmdk" 16M
cat > "$tmp/pv.vmx" <<'VMX'
config.version = "8"
virtualHW.version = "14"
displayName = "pv"
guestOS = "ubuntu-64"
memsize = "512"
scsi0.present = "TRUE"
scsi0.virtualDev = "pvscsi"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "d.vmdk"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:01:02:03"
ethernet0.networkName = "VM Network"
VMX

# changes PLAN.JSON: "device from to" per change.
changes() {
    python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["devices"]:
    print(c["device"], c["from"], c["to"])' "$1"
}

$V convert "$tmp/pv.vmx" --to kvm -O "$tmp/kvm" --dry-run --json \
    > "$tmp/plan.json" 2> "$tmp/err" || { cat "$tmp/err"; fail "dry run to kvm"; }
changes "$tmp/plan.json" > "$tmp/changes"
for want in "controllers[0].model pvscsi none" "disks[0].bus scsi sata" \
            "nics[0].model vmxnet3 e1000e"; do
    grep -qxF "$want" "$tmp/changes" ||
        { cat "$tmp/changes"; fail "vmware -> kvm: no change '$want'"; }
done

$V convert "$tmp/pv.vmx" --to kvm -O "$tmp/kvm" > "$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "convert to kvm"; }
x=$tmp/kvm/pv.xml
grep -q "<target dev=\"sda\" bus=\"sata\"/>" "$x" || { cat "$x"; fail "kvm: disk not on SATA"; }
grep -q '<model type="e1000e"/>' "$x" || { cat "$x"; fail "kvm: NIC not e1000e"; }
if grep -q -e 'bus="virtio"' -e 'model="virtio-scsi"' -e '<model type="virtio"/>' "$x"; then
    cat "$x"; fail "kvm: a paravirtual disk or NIC was chosen without the guest fix"
fi
if command -v virt-xml-validate > /dev/null; then
    virt-xml-validate "$x" domain > /dev/null || fail "kvm: the domain does not validate"
fi

# And back: a KVM domain with a virtio disk and NIC, as a libvirt user
# writes it, to VMware.
sed -e 's/bus="sata"/bus="virtio"/' -e 's/dev="sda"/dev="vda"/' \
    -e '/<address type="drive"/d' -e 's/<model type="e1000e"\/>/<model type="virtio"\/>/' \
    "$x" > "$tmp/virtio.xml"
$V convert "$tmp/virtio.xml" --to vmware -O "$tmp/vmw" --dry-run --json \
    > "$tmp/plan3.json" 2> "$tmp/err" || { cat "$tmp/err"; fail "dry run virtio -> vmware"; }
changes "$tmp/plan3.json" > "$tmp/changes3"
for want in "disks[0].bus virtio sata" "nics[0].model virtio e1000e"; do
    grep -qxF "$want" "$tmp/changes3" ||
        { cat "$tmp/changes3"; fail "kvm -> vmware: no change '$want'"; }
done
echo "ok: emulated devices chosen without the guest fix, both ways"

# The target's own check speaks in the plan, before anything is
# written: a MAC VMware will not take (the KVM domain's 52:54:00 MAC),
# and, for KVM, whether KVM can run the domain here: the dry run's risk
# and the real run's warning agree, and the warning is not printed
# twice.
sed -i 's/00:50:56:01:02:03/52:54:00:12:34:56/' "$tmp/virtio.xml"
$V convert "$tmp/virtio.xml" --to vmware -O "$tmp/vmw2" --dry-run --json \
    > "$tmp/plan4.json" 2> "$tmp/err" || { cat "$tmp/err"; fail "dry run -> vmware"; }
python3 - "$tmp/plan4.json" <<'PY' || fail "no MAC risk in the plan"
import json, sys
risks = json.load(open(sys.argv[1]))["risks"]
assert any(r["id"] == "target" and "52:54:00:12:34:56 is not a VMware address" in r["message"]
           for r in risks), risks
PY
$V convert "$tmp/pv.vmx" --to kvm -O "$tmp/kvm3" --dry-run --json > "$tmp/plan5.json" 2>/dev/null ||
    fail "dry run -> kvm"
$V convert "$tmp/pv.vmx" --to kvm -O "$tmp/kvm3" > "$tmp/real.out" 2>&1 || fail "convert -> kvm"
n=$(grep -c "KVM is not usable here" "$tmp/real.out" || :)
if grep -q "KVM is not usable here" "$tmp/plan5.json"; then
    [ "$n" -eq 1 ] || { cat "$tmp/real.out"; fail "the KVM warning is said $n times, not once"; }
else
    [ "$n" -eq 0 ] || { cat "$tmp/real.out"; fail "the real run warns about KVM, the plan did not"; }
fi
echo "ok: the targets' checks are in the plan"
