#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The JSON of samples/hyperv/vmconv-hyperv-export.ps1 (Get-VM and its
# companions through ConvertTo-Json) is a source: tests/data/hyperv/
# get-vm-web02.json (hand-written, following what Get-VM's objects hold)
# gives the golden model; beside its disks (a checkpoint chain under
# "Virtual Hard Disks", a data disk, an ISO) they are found and opened;
# as UTF-16 (Windows PowerShell's Out-File) or with a UTF-8 byte order
# mark it reads the same; a generation 1 variant maps the BIOS startup
# order and IDE drives; bad input fails with one clear error.
. "$srcdir/functions.sh"
requires python3
requires_qemu_img

PY=python3
json=$srcdir/data/hyperv/get-vm-web02.json
"$VMCONV" inspect --json "$json" > "$tmp/web02.json" || fail "inspect"
golden_paths "$tmp/web02.json"
compare_golden "$tmp/web02.json" hyperv/get-vm-web02.json

"$PY" - "$tmp/web02.json" <<'PY' || fail "facts"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["name"] == "web02 $(whoami) `n 'x'"
assert v["firmware"] == "uefi" and v["secure-boot"] and v["tpm"]
assert v["secure-boot-template"] == "microsoft-uefi-ca"
assert v["vcpus"] == 2 and v["memory"] == 4 << 30
assert v["memory-min"] == 512 << 20 and v["memory-max"] == 1 << 40
assert v["source-version"] == "9.0"
d = [(x["device"], x["bus"], x["controller"], x["unit"], x["boot-order"],
      x["missing"]) for x in v["disks"]]
assert d == [("disk", "scsi", 0, 0, 2, True), ("cdrom", "scsi", 0, 1, 1, True),
             ("disk", "scsi", 1, 0, 0, True)], d
n = [(x["mac"], x["mac-kind"], x["network"], x["vlan"], x["connection"])
     for x in v["nics"]]
assert n == [("00:15:5d:0a:0b:0c", "static", "External 'LAN'", 42, "connected"),
             (None, "dynamic", None, 0, "disconnected")], n
s = [(x["name"], x["parent"], x["created"]) for x in v["snapshots"]]
assert s == [("before upgrade", None, 1709288430),
             ("after upgrade", "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
              1709366400)], s
assert v["current-snapshot"] == "7f2c1a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b"
PY

# Beside its disks.
d=$tmp/web02
mkdir -p "$d/Virtual Hard Disks"
"$PY" "$srcdir/vhdx-make-diff.py" chain3 "$tmp/chain" || fail "chain3"
cp "$tmp/chain/base.vhdx" "$tmp/chain/mid.avhdx" "$d/Virtual Hard Disks/"
cp "$tmp/chain/top.avhdx" "$d/Virtual Hard Disks/web02_8A1B.avhdx"
qemu_img create -q -f vhdx "$d/web02-data.vhdx" 8M
printf 'iso\n' > "$d/ubuntu-22.04-live-server-amd64.iso"
cp "$json" "$d/web02.json"
"$VMCONV" inspect --json "$d/web02.json" > "$tmp/found.json" || fail "inspect beside"
"$PY" - "$tmp/found.json" "$d" <<'PY' || fail "found"
import json, sys
v, d = json.load(open(sys.argv[1])), sys.argv[2]
x = v["disks"]
assert [y["missing"] for y in x] == [False] * 3
assert x[0]["path"] == d + "/Virtual Hard Disks/web02_8A1B.avhdx"
assert x[0]["backing"] == [d + "/Virtual Hard Disks/mid.avhdx",
                           d + "/Virtual Hard Disks/base.vhdx"], x[0]["backing"]
assert x[0]["format"] == "vhdx" and x[0]["virtual-size"] == 16 << 20
assert x[1]["path"] == d + "/ubuntu-22.04-live-server-amd64.iso"
assert x[2]["path"] == d + "/web02-data.vhdx" and x[2]["virtual-size"] == 8 << 20
PY
# UTF-16 with a byte order mark, UTF-8 with one: the same model.
iconv -f UTF-8 -t UTF-16LE "$d/web02.json" | { printf '\xff\xfe'; cat; } > "$d/u16.json"
{ printf '\xef\xbb\xbf'; cat "$d/web02.json"; } > "$d/bom.json"
for f in u16 bom; do
    "$VMCONV" inspect --json "$d/$f.json" > "$tmp/$f.out" || fail "inspect $f"
    diff <(grep -v source-path "$tmp/found.json") <(grep -v source-path "$tmp/$f.out") ||
        fail "$f: a different model"
done

# Generation 1: BIOS startup order, IDE drives, a legacy adapter.
"$PY" - "$json" "$tmp/gen1.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
v["Generation"] = 1
v["Firmware"] = None
v["TpmEnabled"] = False
v["Bios"] = {"StartupOrder": ["Floppy", "IDE", "LegacyNetworkAdapter", "CD"]}
v["HardDrives"] = [{"ControllerType": "IDE", "ControllerNumber": 0,
                    "ControllerLocation": 0, "Path": "C:\\VMs\\boot.vhd"},
                   {"ControllerType": "SCSI", "ControllerNumber": 0,
                    "ControllerLocation": 5, "Path": "C:\\VMs\\data.vhdx"}]
v["DvdDrives"] = [{"ControllerType": "IDE", "ControllerNumber": 1,
                   "ControllerLocation": 0, "Path": None}]
v["NetworkAdapters"][0]["IsLegacy"] = True
json.dump(v, open(sys.argv[2], "w"))
PY
"$VMCONV" inspect --json "$tmp/gen1.json" > "$tmp/gen1.out" || fail "inspect gen1"
"$PY" - "$tmp/gen1.out" <<'PY' || fail "gen1"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["firmware"] == "bios" and v["machine"] == "hyperv-gen1" and not v["tpm"]
d = [(x["device"], x["bus"], x["controller-model"], x["controller"], x["unit"],
      x["boot-order"]) for x in v["disks"]]
assert d == [("disk", "ide", "piix4", 0, 0, 1), ("cdrom", "ide", "piix4", 1, 0, 2),
             ("disk", "scsi", "hyperv-scsi", 0, 5, 0)], d
assert v["nics"][0]["model"] == "hyperv-legacy"
PY

# Bad input: one error each.
bad() {
    local name=$1 want=$2 py=$3
    "$PY" -c "
import json, sys
v = json.load(open('$json'))
$py
json.dump(v, open('$tmp/$name.json', 'w'))"
    expect_fail "$name" "$VMCONV" inspect --from hyperv "$tmp/$name.json"
    grep -qF -- "$want" "$tmp/expect_fail.out" ||
        { cat "$tmp/expect_fail.out"; fail "$name: expected '$want'"; }
    [ "$(wc -l < "$tmp/expect_fail.out")" -eq 1 ] ||
        { cat "$tmp/expect_fail.out"; fail "$name: not one line"; }
}
bad saved "saved.json: the VM is in a saved state (State: Saved)" 'v["State"] = "Saved"'
bad unknown "unknown.json: the VM: 'Memory' is not a key of hyperv-get-vm/1" 'v["Memory"] = 1'
bad mac "mac.json: NetworkAdapters[0]: MacAddress '00155D0A0B' is not a MAC address" 'v["NetworkAdapters"][0]["MacAddress"] = "00155D0A0B"'
bad idegen2 "idegen2.json: HardDrives[1]: IDE 0:0 is not a drive of a generation 2 VM" 'v["HardDrives"][1]["ControllerType"] = "IDE"; v["HardDrives"][1]["ControllerNumber"] = 0'
bad dup "dup.json: HardDrives[1]: scsi 0:0 is also HardDrives[0]" 'v["HardDrives"][1]["ControllerNumber"] = 0'
bad time "time.json: Checkpoints[0]: CreationTime 'yesterday' is not YYYY-MM-DDTHH:MM:SSZ" 'v["Checkpoints"][0]["CreationTime"] = "yesterday"'
bad cpus "cpus.json: ProcessorCount: 9999 is out of range (1-2048)" 'v["ProcessorCount"] = 9999'
bad type "type.json: MemoryStartup: is string, not int" 'v["MemoryStartup"] = "4 GB"'
bad gen "gen.json: Generation: 3 is out of range (1-2)" 'v["Generation"] = 3'
bad noname "noname.json: Name: missing: the VM has no name" 'del v["Name"]'
bad vlan "vlan.json: NetworkAdapters[0].VlanId: 5000 is out of range (0-4094)" 'v["NetworkAdapters"][0]["VlanId"] = 5000'
bad bios "bios.json: Bios: given for a generation 2 VM (which has UEFI firmware)" 'v["Bios"] = {"StartupOrder": []}'
bad mark "mark.json: vmconv: 'hyperv-get-vm/2' is not \"hyperv-get-vm/1\"" 'v["vmconv"] = "hyperv-get-vm/2"'
printf '{"vmconv": "hyperv-get-vm/1", "Name": ' > "$tmp/trunc.json"
expect_fail trunc "$VMCONV" inspect "$tmp/trunc.json"
grep -q "trunc.json: not valid JSON at byte" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "trunc: message"; }
"$PY" -c "print('{\"vmconv\": \"hyperv-get-vm/1\", \"_x\": ' + '[' * 100 + ']' * 100 + '}')" > "$tmp/deep.json"
expect_fail deep "$VMCONV" inspect "$tmp/deep.json"
grep -q "deep.json: not valid JSON at byte .*: nesting too deep" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "deep: message"; }
