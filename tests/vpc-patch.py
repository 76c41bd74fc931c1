#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Patch one field of a VHD for hostile-input tests, then fix the
checksum of the structure patched (unless told not to), so a test hits
the check it means to.  Written from the VHD specification.

  vpc-patch.py FILE footer FIELD VALUE [nosum]   both footer copies
  vpc-patch.py FILE footerend FIELD VALUE [nosum] the trailing one only
  vpc-patch.py FILE header FIELD VALUE [nosum]   dynamic disk header
  vpc-patch.py FILE bat INDEX VALUE              a BAT entry

VALUE is an integer (0x.. allowed) or, for cookies and creator, text.
"""
import struct
import sys

FOOTER = {  # name: (offset, size)
    "cookie": (0, 8), "features": (8, 4), "data_offset": (16, 8),
    "creator_app": (28, 4), "current_size": (48, 8), "cylinders": (56, 2),
    "heads": (58, 1), "sectors": (59, 1), "disk_type": (60, 4),
    "timestamp": (24, 4), "checksum": (64, 4), "saved_state": (84, 1),
}
HEADER = {
    "cookie": (0, 8), "table_offset": (16, 8), "max_table_entries": (28, 4),
    "block_size": (32, 4), "checksum": (36, 4),
}
for i in range(8):
    base = 576 + 24 * i
    HEADER["loc%d_code" % i] = (base, 4)
    HEADER["loc%d_space" % i] = (base + 4, 4)
    HEADER["loc%d_length" % i] = (base + 8, 4)
    HEADER["loc%d_offset" % i] = (base + 16, 8)


def checksum(buf, at):
    b = bytearray(buf)
    b[at:at + 4] = b"\0\0\0\0"
    return (~sum(b)) & 0xFFFFFFFF


def encode(value, size):
    try:
        v = int(value, 0)
    except ValueError:
        return value.encode().ljust(size, b"\0")[:size]
    return v.to_bytes(size, "big")


def patch(data, base, length, table, field, value, sum_at, fix):
    off, size = table[field]
    data[base + off:base + off + size] = encode(value, size)
    if fix and field != "checksum":
        blk = data[base:base + length]
        data[base + sum_at:base + sum_at + 4] = struct.pack(
            ">I", checksum(blk, sum_at))


def main():
    path, where, field, value = sys.argv[1:5]
    fix = len(sys.argv) < 6 or sys.argv[5] != "nosum"
    data = bytearray(open(path, "rb").read())
    end = len(data) - 512
    if where in ("footer", "footerend"):
        bases = [end]
        if where == "footer" and data[0:8] == b"conectix":
            bases.append(0)
        for b in bases:
            patch(data, b, 512, FOOTER, field, value, 64, fix)
    elif where == "header":
        hdr = struct.unpack(">Q", data[16:24])[0]
        patch(data, hdr, 1024, HEADER, field, value, 36, fix)
    elif where == "bat":
        hdr = struct.unpack(">Q", data[16:24])[0]
        bat = struct.unpack(">Q", data[hdr + 16:hdr + 24])[0]
        i = int(field)
        data[bat + 4 * i:bat + 4 * i + 4] = struct.pack(">I", int(value, 0))
    else:
        sys.exit("unknown structure " + where)
    open(path, "wb").write(data)


main()
