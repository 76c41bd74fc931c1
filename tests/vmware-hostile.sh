#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile .vmx files: each gives exactly one error line naming the file
# (and the line where there is one), a non-zero exit, no crash and no
# output on stdout.
. "$srcdir/functions.sh"
requires python3

d=$tmp/hostile
mkdir -p "$d"
head='.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "14"
'

# NAME CONTENT EXPECTED-MESSAGE-FRAGMENT
check() {
    local name=$1 text=$2 want=$3 f=$d/$1.vmx rc=0
    printf '%s' "$text" > "$f"
    "$VMCONV" inspect "$f" > "$tmp/out" 2> "$tmp/err" || rc=$?
    [ "$rc" -ne 0 ] || fail "$name: accepted"
    [ "$rc" -lt 128 ] || fail "$name: crashed (exit $rc)"
    [ ! -s "$tmp/out" ] || { cat "$tmp/out"; fail "$name: output on stdout"; }
    [ "$(wc -l < "$tmp/err")" -eq 1 ] ||
        { cat "$tmp/err"; fail "$name: not exactly one error line"; }
    grep -qF -- "$f: $want" "$tmp/err" ||
        { cat "$tmp/err"; fail "$name: expected '$f: $want'"; }
}

check junk-line "${head}memsize = \"1024\"
this is not a vmx line
" 'line 5: expected '"'"'key = "value"'"'"
check unterminated "${head}displayName = \"web01
" 'line 4: displayName: the value has no closing quote'
check bad-escape "${head}displayName = \"a|zz\"
" "line 4: displayName: '|' is not followed by two hex digits"
check vcpus-range "${head}numvcpus = \"99999\"
" "line 4: numvcpus: '99999' is more than 4096"
check vcpus-zero "${head}numvcpus = \"0\"
" "line 4: numvcpus: '0' is less than 1"
check memsize-range "${head}memsize = \"999999999999999999999\"
" "line 4: memsize: '999999999999999999999' is more than 67108864"
check memsize-word "${head}memsize = \"lots\"
" "line 4: memsize: 'lots' is not a number"
check cores-range "${head}numvcpus = \"4\"
cpuid.coresPerSocket = \"-2\"
" "line 5: cpuid.coresPerSocket: '-2' is not a number"
check bad-uuid "${head}uuid.bios = \"56 4d 12 34 zz 78\"
" "line 4: uuid.bios: '56 4d 12 34 zz 78' is not a UUID"
check bad-vc-uuid "${head}vc.uuid = \"50 20\"
" "line 4: vc.uuid: '50 20' is not a UUID"
check bad-mac "${head}ethernet0.present = \"TRUE\"
ethernet0.addressType = \"static\"
ethernet0.address = \"00:50:56:zz:00:01\"
" "line 6: ethernet0.address: '00:50:56:zz:00:01' is not a MAC address"
check bad-address-type "${head}ethernet0.present = \"TRUE\"
ethernet0.addressType = \"magic\"
" "line 5: ethernet0.addressType: 'magic' is not static, generated or vpx"
check nic-index "${head}ethernet99999.present = \"TRUE\"
" "line 4: ethernet99999.present: NIC number 99999 is out of range (0-255)"
check bad-bool "${head}uefi.secureBoot.enabled = \"maybe\"
" "line 4: uefi.secureBoot.enabled: 'maybe' is not"
check scsi-unit-7 "${head}scsi0.present = \"TRUE\"
scsi0.virtualDev = \"lsilogic\"
scsi0:7.present = \"TRUE\"
scsi0:7.fileName = \"a.vmdk\"
" "line 6: scsi0:7.present: unit 7 is out of range for scsi0 (lsilogic: 0-15, not 7)"
check scsi-unit-wide "${head}scsi0.present = \"TRUE\"
scsi0.virtualDev = \"lsisas1068\"
scsi0:20.present = \"TRUE\"
scsi0:20.fileName = \"a.vmdk\"
" "line 6: scsi0:20.present: unit 20 is out of range for scsi0 (lsisas1068: 0-15, not 7)"
check ide-unit "${head}ide0:2.present = \"TRUE\"
ide0:2.fileName = \"a.vmdk\"
" "line 4: ide0:2.present: unit 2 is out of range for ide0 (piix4: 0-1)"
check sata-ctrl "${head}sata9.present = \"TRUE\"
" "line 4: sata9.present: controller 9 is out of range for sata (0-3)"
check disk-no-file "${head}sata0.present = \"TRUE\"
sata0:0.present = \"TRUE\"
" "sata0:0.filename: a hard disk needs a file name"
check device-type "${head}sata0.present = \"TRUE\"
sata0:0.present = \"TRUE\"
sata0:0.deviceType = \"floppy-of-doom\"
" "line 6: sata0:0.deviceType: 'floppy-of-doom' is not a device type vmconv knows"
check hw-version "${head}virtualHW.version = \"123456\"
" "line 4: virtualHW.version: '123456' is more than 1000"
check genid "${head}vm.genid = \"12x\"
vm.genidX = \"1\"
" "line 4: vm.genid: '12x' is not a signed 64-bit number"
check control-char "${head}displayName = \"a$(printf '\001')b\"
" "line 4: control character 0x01"
check escaped-nul "${head}displayName = \"a|00b\"
" "line 4: displayName: the escape |00 (a NUL byte) is not allowed"

# Binary junk (fixed seed), NUL bytes, a 10 MB line, a file over the
# limit.
python3 - "$d" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(13)
open(f"{d}/binary.vmx", "wb").write(
    b'config.version = "8"\n' + bytes(r.randrange(256) for _ in range(65536)))
open(f"{d}/nul.vmx", "wb").write(
    b'config.version = "8"\ndisplayName = "a\0b"\n')
with open(f"{d}/long-line.vmx", "wb") as f:
    f.write(b'config.version = "8"\nannotation = "')
    f.write(b"x" * (10 * 1000 * 1000))
    f.write(b'"\n')
with open(f"{d}/too-big.vmx", "wb") as f:
    f.write(b'config.version = "8"\n')
    for i in range(900000):
        f.write(b'k%d = "v"\n' % i)
PY
for name in binary nul long-line too-big; do
    f=$d/$name.vmx rc=0
    "$VMCONV" inspect --from vmware "$f" > "$tmp/out" 2> "$tmp/err" || rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "$name: exit $rc"
    [ "$(wc -l < "$tmp/err")" -eq 1 ] ||
        { cat "$tmp/err"; fail "$name: not exactly one error line"; }
    case $name in
        binary) want="$f: line 2: " ;;
        nul) want="$f: line 2: NUL byte (not a .vmx text file)" ;;
        long-line) want="$f: line 2: longer than 1048576 bytes (not a .vmx line)" ;;
        too-big) want="bytes, more than the 8 MiB a .vmx may hold" ;;
    esac
    grep -qF -- "$want" "$tmp/err" ||
        { cat "$tmp/err"; fail "$name: expected '$want'"; }
done
