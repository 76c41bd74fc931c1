#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Golden model JSON of every OVF envelope in tests/data/corpus/ovf (copied from
# the shared corpus: VMware ovftool / ESXi / vCenter, VirtualBox and
# virt-v2v / virt-manager test files), read by the vmware plugin with
# `vmconv inspect --json`.  A vApp (VirtualSystemCollection) is refused
# without vm=NAME, naming its machines, and each machine is read with
# -io vm=NAME.  The disks are not beside the envelopes: each is
# marked missing, with its declared capacity.  VMCONV_TEST_REGENERATE=1
# rewrites tests/expected/ovf/.
. "$srcdir/functions.sh"

inspect_golden() {
    local ovf=$1 name=$2
    shift 2
    "$VMCONV" inspect --json "$@" "$ovf" > "$tmp/$name.json" ||
        fail "inspect --json $* $ovf"
    golden_paths "$tmp/$name.json"
    compare_golden "$tmp/$name.json" "ovf/$name.json"
}

n=0
for ovf in "$srcdir"/data/corpus/ovf/*.ovf; do
    base=$(basename "$ovf" .ovf)
    # The vApps: refused without vm=NAME (the message lists the VMs),
    # then each VM on its own.
    vms=$(sed -n 's/.*<\(ovf:\)\{0,1\}VirtualSystem ovf:id="\([^"]*\)".*/\2/p' "$ovf")
    if [ "$(printf '%s\n' "$vms" | wc -l)" -gt 1 ]; then
        expect_fail "vApp $base without vm=" "$VMCONV" inspect "$ovf"
        grep -q "is a vApp of 2 virtual machines .*vm=NAME" \
            "$tmp/expect_fail.out" || fail "$base: no list of the VMs"
        for vm in $vms; do
            grep -qF "'$vm'" "$tmp/expect_fail.out" ||
                fail "$base: the refusal does not list $vm"
            inspect_golden "$ovf" "$base@$vm" -io "vm=$vm"
            n=$((n + 1))
        done
        expect_fail "vApp $base with vm=nosuch" \
            "$VMCONV" inspect -io vm=nosuch "$ovf"
        grep -q "no VirtualSystem called 'nosuch'" "$tmp/expect_fail.out" ||
            fail "$base: vm=nosuch not refused"
        continue
    fi
    inspect_golden "$ovf" "$base"
    n=$((n + 1))
done
[ "$n" -ge 21 ] || fail "only $n models read"

# Facts asserted per file, beside the golden files: CPUs, topology,
# memory, firmware, secure boot, disks and NICs.
requires python3
python3 - "$tmp" <<'PY' || fail "facts differ (see above)"
import json, sys
d = sys.argv[1]
def m(name):
    return json.load(open(f"{d}/{name}.json"))
def disks(v, kind="disk"):
    return [x for x in v["disks"] if x["device"] == kind]
checks = []
def eq(what, got, want):
    if got != want:
        print(f"{what}: got {got!r}, want {want!r}")
        checks.append(what)
v = m("govmomi-multi-core-vm")
eq("multi-core-vm topology", (v["vcpus"], v["cpu-sockets"], v["cpu-cores"]), (4, 2, 2))
v = m("govmomi-VM-PCI-VGPU")
eq("VM-PCI-VGPU firmware", (v["firmware"], v["secure-boot"]), ("uefi", True))
v = m("govmomi-vbox1")
eq("vbox1 memory (MegaBytes)", v["memory"], 192 << 20)
eq("vbox1 NIC", (v["nics"][0]["model"], v["nics"][0]["network"]), ("pcnet", "NAT"))
v = m("govmomi-photon")
eq("photon capacity (byte * 2^30)", [x["virtual-size"] for x in disks(v)], [16 << 30])
eq("photon disk address", [(x["bus"], x["controller"], x["unit"]) for x in disks(v)], [("scsi", 0, 0)])
v = m("virtmanager-test1")
eq("test1 vcpus, memory", (v["vcpus"], v["memory"]), (3, 777 << 20))
v = m("govmomi-xp-multinic")
eq("xp-multinic NICs", len(v["nics"]), 2)
v = m("govmomi-vApp_with_2vms@centos-5.5-32-esx-qa")
eq("vApp centos os", v["os"]["distro"], "centos")
sys.exit(1 if checks else 0)
PY

# Unknown parameters are refused.
expect_fail "unknown parameter" "$VMCONV" inspect -io foo=1 \
    "$srcdir/data/corpus/ovf/govmomi-photon.ovf"
grep -q "unknown parameter 'foo'" "$tmp/expect_fail.out" ||
    fail "unknown parameter: no message"

# OVF 2.0: the same envelope in the /2 namespace reads to the same model.
sed 's|http://schemas.dmtf.org/ovf/envelope/1|http://schemas.dmtf.org/ovf/envelope/2|g' \
    "$srcdir/data/corpus/ovf/govmomi-photon.ovf" > "$tmp/photon2.ovf"
"$VMCONV" inspect --json "$tmp/photon2.ovf" > "$tmp/photon2.json" ||
    fail "inspect an OVF 2.0 envelope"
python3 - "$tmp/govmomi-photon.json" "$tmp/photon2.json" <<'PY' ||
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for m in (a, b):
    m.pop("source-path"); m.pop("notes")
assert a == b, (a, b)
PY
    fail "OVF 2.0: another model than OVF 1.0"

# VirtualBox's own section: its firmware (EFI) and machine UUID.
sed 's|</VirtualSystem>|<vbox:Machine xmlns:vbox="http://www.virtualbox.org/ovf/machine" ovf:required="false" version="1.16-linux" uuid="{0b4cbb7c-2e1b-4b2a-9a5e-5ad4e5d6a9f1}" name="vbox1"><ovf:Info>Complete VirtualBox machine configuration in VirtualBox format</ovf:Info><Hardware><Firmware type="EFI"/></Hardware></vbox:Machine></VirtualSystem>|' \
    "$srcdir/data/corpus/ovf/govmomi-vbox1.ovf" > "$tmp/vbox-efi.ovf"
"$VMCONV" inspect --json "$tmp/vbox-efi.ovf" > "$tmp/vbox-efi.json" ||
    fail "inspect a VirtualBox OVF with its own section"
python3 - "$tmp/vbox-efi.json" <<'PY' || fail "vbox:Machine: firmware or UUID not read"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["firmware"] == "uefi", m["firmware"]
assert m["uuid"] == "0b4cbb7c-2e1b-4b2a-9a5e-5ad4e5d6a9f1", m["uuid"]
PY

# Nested virtualisation (vmw:Config nestedHVEnabled) and an independent
# disk (backing.diskMode) reach the model.
sed -e 's|vmw:key="nestedHVEnabled" vmw:value="false"|vmw:key="nestedHVEnabled" vmw:value="true"|' \
    -e 's|<rasd:HostResource>ovf:/disk/|<vmw:Config ovf:required="false" vmw:key="backing.diskMode" vmw:value="independent_nonpersistent"/><rasd:HostResource>ovf:/disk/|' \
    "$srcdir/data/corpus/ovf/govmomi-Ubuntu-12.04.2-64-Server-Tools.ovf" > "$tmp/vhv.ovf"
"$VMCONV" inspect --json "$tmp/vhv.ovf" > "$tmp/vhv.json" || fail "inspect vhv.ovf"
python3 - "$tmp/vhv.json" <<'PY' || fail "nestedHVEnabled or backing.diskMode not read"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["nested-virt"] is True
d = [x for x in m["disks"] if x["device"] == "disk"][0]
assert d["independent"] is True and d["nonpersistent"] is True, d
PY
