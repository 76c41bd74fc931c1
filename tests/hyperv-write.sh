#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The hyperv target: a model written as NAME.ps1, the PowerShell script
# that creates the VM on Hyper-V.  Golden scripts for a generation 2
# Windows VM from Hyper-V (tests/data/vm/rich.json), a BIOS Linux guest
# from KVM (generation 1: IDE boot disk, BIOS startup order, legacy
# NIC) and a UEFI Linux guest with virtio disks (SCSI, the UEFI CA
# Secure Boot template); a VM whose names are hostile (quotes, the
# typographic quotes PowerShell also takes, $(...), backticks,
# newlines, #): every value is only ever inside a single-quoted string
# (hyperv-ps1-check.py tokenizes the script as PowerShell does); a VM
# without a memory size is refused and nothing is written.
# VMCONV_TEST_REGENERATE=1 rewrites the golden files.
. "$srcdir/functions.sh"
requires python3

PY=python3
W=$builddir/hyperv-write
check() { "$PY" "$srcdir/hyperv-ps1-check.py" "$@"; }

# write MODEL NAME: write it into $tmp/NAME/, warnings in $tmp/NAME.err.
write() {
    rm -rf "$tmp/$2"
    mkdir "$tmp/$2"
    "$W" "$1" "$tmp/$2" "$2" 2> "$tmp/$2.err" ||
        { cat "$tmp/$2.err"; fail "write $2"; }
    [ -f "$tmp/$2/$2.ps1" ] || fail "$2: no $2.ps1"
}

# 1. Generation 2 Windows VM read from Hyper-V.
cp "$srcdir/data/vm/rich.json" "$tmp/rich.model.json"
write "$tmp/rich.model.json" sql02
compare_golden "$tmp/sql02/sql02.ps1" hyperv/sql02.ps1
check "$tmp/sql02/sql02.ps1" sql02 prod-net || fail "sql02: quoting"
grep -q "^warning: disk 2: no converted image (missing in the source): not attached" \
    "$tmp/sql02.err" || { cat "$tmp/sql02.err"; fail "sql02: missing disk warning"; }

# VHD disks (for Azure): a generation 2 VM cannot boot from one.
rm -rf "$tmp/vhd"; mkdir "$tmp/vhd"
HYPERV_WRITE_EXT=vhd "$W" "$tmp/rich.model.json" "$tmp/vhd" sql02 2> "$tmp/vhd.err" ||
    { cat "$tmp/vhd.err"; fail "write with VHD disks"; }
grep -q "^warning: disk 0: a generation 2 (UEFI) VM boots only from VHDX, not from the VHD $tmp/vhd/sql02-disk0.vhd" \
    "$tmp/vhd.err" || { cat "$tmp/vhd.err"; fail "vhd: warning"; }
grep -qF "(Join-Path \$DiskPath 'sql02-disk0.vhd')" "$tmp/vhd/sql02.ps1" || fail "vhd: path"

# 2. and 3. Linux guests from KVM: BIOS, then UEFI with virtio disks.
"$PY" - "$srcdir/data/vm/rich.json" "$tmp" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
v["name"] = "db01"
v["description"] = None
v["firmware"] = "bios"
v["secure-boot"] = False
v["secure-boot-template"] = "unknown"
v["tpm"] = False
v["memory-min"] = 0
v["memory-max"] = 0
v["memory"] = 3 * 1024 * 1024 * 1024 + 1024 * 1024   # not a 2 MiB multiple
v["vcpus"] = 1
v["cpu-sockets"] = v["cpu-cores"] = v["cpu-threads"] = 0
v["snapshots"] = []
v["current-snapshot"] = None
v["os"] = {"family": "linux", "distro": "debian", "version": "12",
           "arch": "x86_64", "id": None}
v["controllers"] = []
disks = v["disks"][:2]
for i, d in enumerate(disks):
    d["bus"] = "ide" if i == 0 else "sata"
    d["controller"], d["unit"] = (0, 0) if i == 0 else (0, 3)
    d.pop("controller-ref", None)
    d["controller-model"] = "unknown"
    d["boot-order"] = 1 if i == 0 else 0
cd = {"device": "cdrom", "bus": "ide", "controller": 1, "unit": 0,
      "path": None, "source-ref": None, "reference-only": True,
      "readonly": True, "boot-order": 2}
v["disks"] = disks + [cd]
v["nics"] = [{"mac": "52:54:00:12:34:56", "mac-kind": "static",
              "model": "hyperv-legacy", "network-type": "network",
              "network": "br0", "connection": "connected"}]
json.dump(v, open(sys.argv[2] + "/db01.model.json", "w"))
v["name"] = "app01"
v["firmware"] = "uefi"
v["secure-boot"] = True
v["nested-virt"] = True
v["vcpus"] = 4
v["memory"] = 2 << 30
for d in v["disks"]:
    if d.get("device", "disk") != "cdrom":
        d["bus"] = "virtio"
v["disks"][2]["bus"] = "sata"
json.dump(v, open(sys.argv[2] + "/app01.model.json", "w"))
PY
write "$tmp/db01.model.json" db01
compare_golden "$tmp/db01/db01.ps1" hyperv/db01.ps1
check "$tmp/db01/db01.ps1" db01 br0 || fail "db01: quoting"
grep -q "^warning: memory 3222274048 bytes rounded up to 3223322624" "$tmp/db01.err" ||
    { cat "$tmp/db01.err"; fail "db01: memory warning"; }
write "$tmp/app01.model.json" app01
compare_golden "$tmp/app01/app01.ps1" hyperv/app01.ps1
grep -q "^warning: disk 0: Hyper-V has no virtio bus: attached to SCSI 0:0" \
    "$tmp/app01.err" || { cat "$tmp/app01.err"; fail "app01: virtio warning"; }
grep -q "^warning: disk 2: Hyper-V has no sata bus: attached to SCSI 0:2" \
    "$tmp/app01.err" || { cat "$tmp/app01.err"; fail "app01: sata warning"; }
grep -q "^warning: disk 1: Hyper-V has no sata bus: attached to IDE 0:1" \
    "$tmp/db01.err" || { cat "$tmp/db01.err"; fail "db01: sata warning"; }
grep -q "^warning: nic 0: a generation 2 VM has no legacy network adapter" \
    "$tmp/app01.err" || { cat "$tmp/app01.err"; fail "app01: legacy NIC warning"; }

# 4. Hostile values.
evil_name=$'it\'s ‘my’ ‚vm‛ $(Remove-Item C:\\ -Recurse) `whoami` "x"\n# not a comment\r\nline3'
evil_net=$'switch\' ; Stop-Computer ; \'$env:PATH'
evil_notes=$'notes `n $null\'\n\'@\n"@'
evil_iso=$'C:\\ISO\\it\'s $(x).iso'
EVIL_NAME=$evil_name EVIL_NET=$evil_net EVIL_NOTES=$evil_notes EVIL_ISO=$evil_iso \
"$PY" - "$srcdir/data/vm/rich.json" "$tmp/evil.model.json" <<'PY'
import json, os, sys
v = json.load(open(sys.argv[1]))
v["name"] = os.environ["EVIL_NAME"]
v["description"] = os.environ["EVIL_NOTES"]
v["nics"][0]["network"] = os.environ["EVIL_NET"]
v["disks"][3]["source-ref"] = os.environ["EVIL_ISO"]
json.dump(v, open(sys.argv[2], "w"))
PY
write "$tmp/evil.model.json" evil
compare_golden "$tmp/evil/evil.ps1" hyperv/evil.ps1
check "$tmp/evil/evil.ps1" "$evil_name" "$evil_net" "$evil_notes" \
    "it's \$(x).iso" || fail "evil: a value is not quoted"
# The checker itself catches an unquoted value.
printf '\xef\xbb\xbf$x = %s\n' "$evil_net" > "$tmp/bad.ps1"
check "$tmp/bad.ps1" "$evil_net" 2> /dev/null && fail "checker: passed an unquoted value"
printf '\xef\xbb\xbf$x = "%s"\n' "a" > "$tmp/bad2.ps1"
check "$tmp/bad2.ps1" 2> /dev/null && fail "checker: passed a double-quoted string"

# 5. No memory size: refused, nothing written.
"$PY" -c "
import json
v = json.load(open('$srcdir/data/vm/rich.json'))
v['memory'] = 0; v['memory-min'] = 0; v['memory-max'] = 0
json.dump(v, open('$tmp/nomem.model.json', 'w'))"
mkdir "$tmp/nomem"
expect_fail "no memory" "$W" "$tmp/nomem.model.json" "$tmp/nomem" nomem
grep -q "the VM's memory size is unknown: Hyper-V needs one" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "nomem: message"; }
[ -z "$(ls "$tmp/nomem")" ] || fail "nomem: something was written"
