#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvm-bootdisk.py FILE STRING: write a 1 MiB raw disk image whose boot
sector prints STRING (then CR LF) on the first serial port (COM1, I/O
port 0x3f8) and halts.  The kvm tests boot it in a libvirt guest to see
a converted domain run.

The boot sector, 16-bit real mode, loaded at 0000:7c00:
    cli; xor ax,ax; mov ds,ax; mov dx,0x3f8; mov si,msg
    next: lodsb; test al,al; jz done; out dx,al; jmp next
    done: hlt; jmp done
    msg: STRING, 13, 10, 0
"""
import sys

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: kvm-bootdisk.py FILE STRING")
    path, message = sys.argv[1], sys.argv[2].encode("ascii") + b"\r\n\0"
    code = bytes([
        0xFA,                    # cli
        0x31, 0xC0,              # xor ax, ax
        0x8E, 0xD8,              # mov ds, ax
        0xBA, 0xF8, 0x03,        # mov dx, 0x3f8
        0xBE, 0x16, 0x7C,        # mov si, 0x7c16 (msg)
        0xAC,                    # next: lodsb
        0x84, 0xC0,              # test al, al
        0x74, 0x03,              # jz done
        0xEE,                    # out dx, al
        0xEB, 0xF8,              # jmp next
        0xF4,                    # done: hlt
        0xEB, 0xFD,              # jmp done
    ])
    assert len(code) == 0x16
    sector = code + message
    if len(sector) > 446:
        sys.exit("kvm-bootdisk.py: STRING is too long")
    sector = sector.ljust(510, b"\0") + b"\x55\xAA"
    with open(path, "wb") as f:
        f.write(sector)
        f.truncate(1024 * 1024)

main()
