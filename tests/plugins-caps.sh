#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv plugins --json shows the target capabilities each in-tree
# target declares, and vmconv plugins --help NAME describes one plugin:
# what it can do, its capabilities and its parameters.
. "$srcdir/functions.sh"
requires python3

"$VMCONV" plugins --json > "$tmp/plugins.json" || fail "plugins --json failed"
python3 - "$tmp/plugins.json" <<'PY' || fail "plugins --json: wrong capabilities"
import json, sys
plugins = {p["name"]: p for p in json.load(open(sys.argv[1]))}

def caps(name):
    c = plugins[name]["caps"]
    assert c is not None, name
    return c

kvm = caps("kvm")
assert kvm["disk-buses"] == ["ide", "sata", "scsi", "virtio"], kvm
assert kvm["default-disk-bus"] == "virtio", kvm
assert kvm["default-scsi-controller"] == "virtio-scsi", kvm
assert sorted(kvm["nic-models"]) == ["e1000", "e1000e", "rtl8139", "virtio"], kvm
assert kvm["default-nic-model"] == "virtio", kvm
assert kvm["firmware"] == ["bios", "uefi"], kvm
assert [f["format"] for f in kvm["disk-formats"]] == ["qcow2", "raw"], kvm
assert kvm["default-disk-format"] == "qcow2", kvm

vmw = caps("vmware")
assert vmw["disk-buses"] == ["ide", "sata", "scsi", "nvme"], vmw
assert sorted(vmw["controller-models"]) == ["ahci", "buslogic", "lsilogic",
                                            "lsisas1068", "piix4", "pvscsi"], vmw
assert sorted(vmw["nic-models"]) == ["e1000", "e1000e", "vmxnet3"], vmw
assert vmw["disk-formats"] == [{"format": "vmdk", "subformats": [
    "monolithicSparse", "streamOptimized", "monolithicFlat", "vmfs"]}], vmw

hv = caps("hyperv")
assert hv["disk-buses"] == ["ide", "scsi"], hv
assert hv["default-scsi-controller"] == "hyperv-scsi", hv
assert hv["nic-models"] == ["hyperv-netvsc", "hyperv-legacy"], hv
assert hv["default-firmware"] == "uefi", hv
assert hv["disk-formats"] == [
    {"format": "vhdx", "subformats": ["dynamic", "fixed"]},
    {"format": "vpc", "subformats": ["dynamic", "fixed"]}], hv

ex = caps("example")
assert "usb" in ex["disk-buses"] and "unknown" not in ex["disk-buses"], ex
assert "disk-dir=DIR" in plugins["example"]["config-help"]

# A source-only plugin declares no target capabilities.
assert plugins["physical"]["caps"] is None
assert plugins["physical"]["config-help"] is None
for p in plugins.values():
    assert p["finish"] is (p["name"] == "kvm"), p
PY

"$VMCONV" plugins --help kvm > "$tmp/kvm.txt" || fail "plugins --help kvm failed"
model=$(sed -n 's/^#define VMC_VM_MODEL_VERSION \([0-9]*\).*/\1/p' \
        "$top_srcdir/include/vmconv/vm.h")
for line in \
    "built for:    plugin ABI 1, VM model $model" \
    "can:          probe, read (source), write (target), finish" \
    "disk buses:   ide, sata, scsi, virtio (default)" \
    "firmware:     bios (default), uefi" \
    "disk formats: qcow2 (default)" \
    "  uri=URI               (read) SOURCE names a domain at this libvirt URI" \
    "  domain-type=kvm|qemu  (write) kvm (default), or qemu: emulation"
do
    grep -qxF "$line" "$tmp/kvm.txt" || { cat "$tmp/kvm.txt"; fail "--help kvm: missing '$line'"; }
done
"$VMCONV" plugins --help example > "$tmp/example.txt" || fail "plugins --help example failed"
grep -qxF "  disk-dir=DIR  resolve relative disk file names in DIR" "$tmp/example.txt" ||
    { cat "$tmp/example.txt"; fail "--help example: no parameters"; }
"$VMCONV" plugins --help physical > "$tmp/physical.txt" || fail "plugins --help physical failed"
grep -qxF "can:          probe, read (source)" "$tmp/physical.txt" ||
    { cat "$tmp/physical.txt"; fail "--help physical: wrong abilities"; }
expect_fail "plugins --help unknown plugin" "$VMCONV" plugins --help nope
grep -q "no such plugin" "$tmp/expect_fail.out" || fail "--help nope: wrong message"
"$VMCONV" plugins --help | grep -q '^Usage: vmconv plugins' || fail "plugins --help"
exit 0
