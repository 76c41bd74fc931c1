#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Remake samples/vmware/demo.vmdk: samples/disks/demo.vmdk (MBR + one
# ext4 file system) with boot code in its MBR that prints
# "vmconv demo guest: booted" on the screen (BIOS teletype) and on the
# first serial port (COM1), then halts, stored as a monolithicSparse
# VMDK as VMware Workstation writes it.  demo.vmx beside it is written
# by hand.  Needs python3 and qemu-img.
#
# The boot code, 16-bit real mode, loaded at 0000:7c00 (36 bytes, then
# the message; the partition table at 446 is left as it is):
#   cli; xor ax,ax; mov ds,ax; mov ss,ax; mov sp,0x7c00; sti
#   mov si,msg
#   next: lodsb; test al,al; jz done
#         mov dx,0x3f8; out dx,al           ; COM1
#         mov ah,0x0e; mov bx,7; int 0x10   ; screen
#         jmp next
#   done: cli; hlt; jmp done
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/demo.vmdk}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
qemu-img convert -O raw "$here/../disks/demo.vmdk" "$w/disk.raw"
python3 - "$w/disk.raw" <<'PY'
import sys
code = bytes([
    0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xD0, 0xBC, 0x00, 0x7C, 0xFB,
    0xBE, 0x24, 0x7C,                   # mov si, 0x7c24 (msg)
    0xAC, 0x84, 0xC0, 0x74, 0x0D,       # next: lodsb; test; jz done
    0xBA, 0xF8, 0x03, 0xEE,             # mov dx, 0x3f8; out dx, al
    0xB4, 0x0E, 0xBB, 0x07, 0x00, 0xCD, 0x10,  # teletype
    0xEB, 0xEE,                         # jmp next
    0xFA, 0xF4, 0xEB, 0xFD,             # done: cli; hlt; jmp done
])
assert len(code) == 0x24
boot = code + b"vmconv demo guest: booted\r\n\0"
assert len(boot) <= 440
with open(sys.argv[1], "r+b") as f:
    mbr = bytearray(f.read(512))
    assert mbr[510:512] == b"\x55\xaa", "no MBR signature"
    mbr[0:len(boot)] = boot
    f.seek(0)
    f.write(mbr)
PY
qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse,adapter_type=lsilogic \
    "$w/disk.raw" "$out"
