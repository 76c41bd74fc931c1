#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make a VHD differencing chain and its expected guest data, written
from the VHD specification v1.0 (not with vmconv), because qemu can
neither make nor read differencing VHDs.

  vpc-make-diff.py OUTDIR [options]

writes, in OUTDIR:
  parent.vhd (or --parent-file)  dynamic VHD, 2 MiB blocks
  child.vhd  (or --child-file)   differencing VHD, 512 KiB blocks
  parent.raw       what the parent holds (bitmap 0 = zeros)
  expected.raw     what the child shows through its parent
  child-only.raw   the child without its parent (parent parts zeros)

The child has unallocated blocks, full blocks, blocks with partial
sector bitmaps (garbage in the sectors whose bit is 0), an allocated
block with an empty bitmap, blocks stored out of order with padding,
W2ru/W2ku/MacX locators and the header's parent name.
"""
import argparse
import os
import random
import struct

SECTOR = 512
MiB = 1024 * 1024
SIZE = 6 * MiB + 3 * SECTOR            # last block of each layer partial
VHD_EPOCH = 946684800

W2RU = 0x57327275
W2KU = 0x57326B75
MACX = 0x4D616358


def checksum(buf):
    return (~sum(buf)) & 0xFFFFFFFF


def geometry(sectors):
    """CHS geometry per the specification's appendix."""
    sectors = min(sectors, 65535 * 16 * 255)
    if sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = sectors // spt
    else:
        spt = 17
        cth = sectors // spt
        heads = max((cth + 1023) // 1024, 4)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = sectors // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = sectors // spt
    return cth // heads, heads, spt


def make_footer(disk_type, size, uid, timestamp):
    f = bytearray(512)
    cyl, heads, spt = geometry(size // SECTOR)
    f[0:8] = b"conectix"
    struct.pack_into(">IIQI4sIIQQHBBI", f, 8, 2, 0x00010000, 512, timestamp,
                     b"win ", 0x000A0000, 0x5769326B, size, size, cyl, heads,
                     spt, disk_type)
    f[68:84] = uid
    struct.pack_into(">I", f, 64, checksum(f))
    return bytes(f)


class Dynamic:
    """A dynamic (type 3) or differencing (type 4) VHD being built."""

    def __init__(self, size, block_size, disk_type, rng):
        self.size = size
        self.bs = block_size
        self.spb = block_size // SECTOR
        self.bitmap_bytes = ((self.spb + 7) // 8 + SECTOR - 1) // SECTOR * SECTOR
        self.n = (size + block_size - 1) // block_size
        self.type = disk_type
        self.rng = rng
        self.blocks = {}          # index -> (bits list, data bytes)
        self.parent_uuid = bytes(16)
        self.parent_name = ""
        self.locators = []        # (code, data bytes, space in sectors?)
        self.bad_locator = False
        self.uid = bytes(rng.getrandbits(8) for _ in range(16))

    def add_block(self, i, bits):
        """Allocate block I; BITS[s] says sector s is in this file.
        Sectors whose bit is 0 get garbage, which readers must ignore."""
        data = self.rng.getrandbits(8 * self.bs).to_bytes(self.bs, "little")
        self.blocks[i] = (bits, data)

    def sector(self, s, below):
        """Guest view of sector S, reading BELOW(s) where not here."""
        i, k = divmod(s, self.spb)
        if i in self.blocks and self.blocks[i][0][k]:
            data = self.blocks[i][1]
            return data[k * SECTOR:(k + 1) * SECTOR]
        return below(s)

    def flat(self, below):
        return b"".join(self.sector(s, below)
                        for s in range(self.size // SECTOR))

    def build(self, order, padded):
        """The file: blocks stored in ORDER, with 7 sectors of padding
        before those in PADDED (as Windows 10 does)."""
        bat_off = 1536
        bat_bytes = (self.n * 4 + SECTOR - 1) // SECTOR * SECTOR
        pos = bat_off + bat_bytes
        locs = []
        for code, data, in_bytes in self.locators:
            space = len(data) if in_bytes else (len(data) + 511) // 512
            locs.append((code, space, len(data), pos, data))
            pos += (len(data) + SECTOR - 1) // SECTOR * SECTOR
        bat = [0xFFFFFFFF] * self.n
        body = []
        for i in order:
            if i in padded:
                pos += 7 * SECTOR
            bat[i] = pos // SECTOR
            bits, data = self.blocks[i]
            bm = bytearray(self.bitmap_bytes)
            for k, b in enumerate(bits):
                if b:
                    bm[k // 8] |= 0x80 >> (k % 8)
            body.append((pos, bytes(bm) + data))
            pos += self.bitmap_bytes + self.bs
        end = pos
        ts = 0x2A000000
        footer = make_footer(self.type, self.size, self.uid, ts)

        hd = bytearray(1024)
        hd[0:8] = b"cxsparse"
        struct.pack_into(">QQIII", hd, 8, 0xFFFFFFFFFFFFFFFF, bat_off,
                         0x00010000, self.n, self.bs)
        hd[40:56] = self.parent_uuid
        struct.pack_into(">I", hd, 56, ts - 100)
        name = self.parent_name.encode("utf-16-be")[:512]
        hd[64:64 + len(name)] = name
        for j, (code, space, length, off, _) in enumerate(locs):
            if self.bad_locator and j == 0:
                off, length = end + 512 - 100, 1000    # runs past EOF
            struct.pack_into(">IIIIQ", hd, 576 + 24 * j, code, space, length,
                             0, off)
        struct.pack_into(">I", hd, 36, checksum(hd))

        out = bytearray(end + 512)
        out[0:512] = footer
        out[512:1536] = hd
        out[bat_off:bat_off + 4 * self.n] = struct.pack(">%dI" % self.n, *bat)
        out[bat_off + 4 * self.n:bat_off + bat_bytes] = \
            b"\xff" * (bat_bytes - 4 * self.n)
        for code, space, length, off, data in locs:
            out[off:off + len(data)] = data
        for off, blob in body:
            out[off:off + len(blob)] = blob
        out[end:end + 512] = footer
        return bytes(out)


def random_bits(rng, n, p):
    return [rng.random() < p for _ in range(n)]


def make_parent(rng):
    p = Dynamic(SIZE, 2 * MiB, 3, rng)
    spb = p.spb
    p.add_block(0, [True] * spb)
    # block 1 unallocated
    p.add_block(2, [True] * 100 + [False] * 100 + random_bits(rng, spb - 200, 0.5))
    p.add_block(3, [True] * spb)    # mostly past the virtual size
    return p


def make_child(rng, parent):
    c = Dynamic(SIZE, 512 * 1024, 4, rng)
    spb = c.spb
    c.add_block(0, [True] * spb)
    # 1 unallocated
    c.add_block(2, random_bits(rng, spb, 0.5))
    c.add_block(3, [True] * (spb // 2) + [False] * (spb // 2))
    # 4 unallocated
    c.add_block(5, [False] * spb)   # allocated, nothing of its own
    c.add_block(6, [True] * spb)
    for i in range(7, c.n - 1):
        if rng.random() < 0.7:
            c.add_block(i, random_bits(rng, spb, rng.choice([0.1, 0.5, 0.9])))
    c.add_block(c.n - 1, random_bits(rng, spb, 0.5))
    c.parent_uuid = parent.uid
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--parent-file", default="parent.vhd")
    ap.add_argument("--child-file", default="child.vhd")
    ap.add_argument("--w2ru", default=".\\parent.vhd",
                    help="relative locator text ('' for none)")
    ap.add_argument("--w2ku", default="C:\\Hyper-V\\Disks\\parent.vhd",
                    help="absolute locator text ('' for none)")
    ap.add_argument("--macx", default="", help="MacX file URL ('' for none)")
    ap.add_argument("--pname", default="parent.vhd",
                    help="header parent name ('' for none)")
    ap.add_argument("--wrong-uuid", action="store_true")
    ap.add_argument("--bad-locator", action="store_true",
                    help="first locator's data runs past the end of file")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    parent = make_parent(rng)
    child = make_child(rng, parent)
    if a.wrong_uuid:
        child.parent_uuid = bytes(b ^ 0x5A for b in parent.uid)
    child.parent_name = a.pname
    if a.w2ru:
        child.locators.append((W2RU, a.w2ru.encode("utf-16-le"), False))
    if a.w2ku:
        child.locators.append((W2KU, a.w2ku.encode("utf-16-le"), True))
    if a.macx:
        child.locators.append((MACX, a.macx.encode("utf-8"), False))
    child.bad_locator = a.bad_locator

    zero = bytes(SECTOR)
    parent_flat = parent.flat(lambda s: zero)
    expected = child.flat(lambda s: parent_flat[s * SECTOR:(s + 1) * SECTOR])
    child_only = child.flat(lambda s: zero)

    order = sorted(child.blocks, key=lambda i: rng.random())
    padded = set(order[::3])
    files = {
        a.parent_file: parent.build(sorted(parent.blocks), {0}),
        a.child_file: child.build(order, padded),
        "parent.raw": parent_flat,
        "expected.raw": expected,
        "child-only.raw": child_only,
    }
    for name, data in files.items():
        path = os.path.join(a.outdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


main()
