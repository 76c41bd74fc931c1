#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Corrupt one field of a VHDX file in place (a scratch copy!) for the
hostile-input tests, recomputing the CRC-32C of the structure touched so
the reader gets past the checksum to the field itself.  Written from
[MS-VHDX], independently of vmconv's driver.

Usage: vhdx-patch.py FILE WHAT [key=value ...]
       vhdx-patch.py -     (one "FILE WHAT key=value..." per stdin line)
  header1|header2|header-both  seq= version= log_version= log_offset=
                               log_length= log_guid=(0|GUID) sig= badcrc=1
  regions-both                 count= N.offset= N.length= N.required=
                               N.guid=  (N = entry index)  badcrc=1
  meta                         block_size= disk_size= lss= pss= flags=
  bat                          index= state= offset_mb= reserved=
  bytes                        offset= hex=
"""

import shlex
import struct
import sys
import uuid

_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _T.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _T[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def num(s):
    return int(s, 0)


def fix_crc(buf, bad):
    struct.pack_into("<I", buf, 4, 0)
    c = crc32c(buf)
    struct.pack_into("<I", buf, 4, c ^ 0xFFFF if bad else c)


def patch_header(f, off, kv):
    f.seek(off)
    h = bytearray(f.read(4096))
    for k, v in kv.items():
        if k == "seq":
            struct.pack_into("<Q", h, 8, num(v))
        elif k == "log_guid":
            h[48:64] = bytes(16) if v == "0" else uuid.UUID(v).bytes_le
        elif k == "log_version":
            struct.pack_into("<H", h, 64, num(v))
        elif k == "version":
            struct.pack_into("<H", h, 66, num(v))
        elif k == "log_length":
            struct.pack_into("<I", h, 68, num(v))
        elif k == "log_offset":
            struct.pack_into("<Q", h, 72, num(v))
        elif k == "sig":
            h[0:4] = v.encode()
        elif k != "badcrc":
            raise SystemExit("unknown header field " + k)
    fix_crc(h, kv.get("badcrc") == "1")
    f.seek(off)
    f.write(h)


def patch_regions(f, off, kv):
    f.seek(off)
    r = bytearray(f.read(65536))
    for k, v in kv.items():
        if k == "count":
            struct.pack_into("<I", r, 8, num(v))
        elif "." in k:
            i, field = k.split(".")
            e = 16 + 32 * int(i)
            if field == "offset":
                struct.pack_into("<Q", r, e + 16, num(v))
            elif field == "length":
                struct.pack_into("<I", r, e + 24, num(v))
            elif field == "required":
                struct.pack_into("<I", r, e + 28, num(v))
            elif field == "guid":
                r[e:e + 16] = uuid.UUID(v).bytes_le
            else:
                raise SystemExit("unknown region field " + field)
        elif k != "badcrc":
            raise SystemExit("unknown region key " + k)
    fix_crc(r, kv.get("badcrc") == "1")
    f.seek(off)
    f.write(r)


BAT = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08").bytes_le
META = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E").bytes_le
ITEMS = {
    "params": uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B").bytes_le,
    "disk_size": uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8").bytes_le,
    "lss": uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F").bytes_le,
    "pss": uuid.UUID("CDA348C7-445D-4471-9CC9-E9885251C556").bytes_le,
}


def region(f, gid):
    f.seek(0x30000)
    r = f.read(65536)
    n = struct.unpack_from("<I", r, 8)[0]
    for i in range(n):
        e = 16 + 32 * i
        if r[e:e + 16] == gid:
            return struct.unpack_from("<QI", r, e + 16)
    raise SystemExit("region not found")


def item_offset(f, gid):
    moff, _ = region(f, META)
    f.seek(moff)
    t = f.read(65536)
    n = struct.unpack_from("<H", t, 10)[0]
    for i in range(n):
        e = 32 + 32 * i
        if t[e:e + 16] == gid:
            return moff + struct.unpack_from("<I", t, e + 16)[0]
    raise SystemExit("metadata item not found")


def patch_meta(f, kv):
    for k, v in kv.items():
        if k == "block_size":
            off, fmt = item_offset(f, ITEMS["params"]), "<I"
        elif k == "flags":
            off, fmt = item_offset(f, ITEMS["params"]) + 4, "<I"
        elif k == "disk_size":
            off, fmt = item_offset(f, ITEMS["disk_size"]), "<Q"
        elif k in ("lss", "pss"):
            off, fmt = item_offset(f, ITEMS[k]), "<I"
        else:
            raise SystemExit("unknown metadata key " + k)
        f.seek(off)
        f.write(struct.pack(fmt, num(v)))


def patch_bat(f, kv):
    boff, _ = region(f, BAT)
    i = num(kv["index"])
    f.seek(boff + 8 * i)
    e = struct.unpack("<Q", f.read(8))[0]
    if "state" in kv:
        e = (e & ~7) | num(kv["state"])
    if "offset_mb" in kv:
        e = (e & 0xFFFFF) | (num(kv["offset_mb"]) << 20)
    if "reserved" in kv:
        e = (e & ~0xFFFF8) | ((num(kv["reserved"]) << 3) & 0xFFFF8)
    f.seek(boff + 8 * i)
    f.write(struct.pack("<Q", e))


def apply(path, what, kv):
    with open(path, "r+b") as f:
        if what in ("header1", "header-both"):
            patch_header(f, 0x10000, kv)
        if what in ("header2", "header-both"):
            patch_header(f, 0x20000, kv)
        if what == "regions-both":
            patch_regions(f, 0x30000, kv)
            patch_regions(f, 0x40000, kv)
        elif what == "region1":
            patch_regions(f, 0x30000, kv)
        elif what == "meta":
            patch_meta(f, kv)
        elif what == "bat":
            patch_bat(f, kv)
        elif what == "bytes":
            f.seek(num(kv["offset"]))
            f.write(bytes.fromhex(kv["hex"]))
        elif what not in ("header1", "header2", "header-both"):
            raise SystemExit("unknown patch " + what)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "-":
        # Batch: one "FILE WHAT key=value..." per line on stdin.
        for line in sys.stdin:
            args = shlex.split(line)
            if args:
                apply(args[0], args[1],
                      dict(a.split("=", 1) for a in args[2:]))
        return 0
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    apply(sys.argv[1], sys.argv[2],
          dict(a.split("=", 1) for a in sys.argv[3:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
