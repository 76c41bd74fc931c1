#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make small ESXi-style VMDK chains for tests, from the layouts in
shared/specs/vmdk.md: a flat base disk (createType "vmfs") and two
delta disks over it, one vmfsSparse ("COWD" redo log) and one seSparse.

    vmdk-make-esx.py DIR

writes DIR/base.vmdk + base-flat.vmdk, DIR/cowd.vmdk + cowd-delta.vmdk,
DIR/se.vmdk + se-sesparse.vmdk.  qemu-img reads all of them, so it is
the oracle for what they contain.
"""
import random
import struct
import sys

SECTOR = 512
CAP = 8192                          # sectors: 4 MiB
rnd = random.Random(7)


def data(n):
    return bytes(rnd.getrandbits(8) for _ in range(n))


def descriptor(cid, parent_cid, create_type, extent, hint=None):
    s = "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\n"
    s += "CID=%08x\nparentCID=%08x\ncreateType=\"%s\"\n" % (
        cid, parent_cid, create_type)
    if hint:
        s += "parentFileNameHint=\"%s\"\n" % hint
    s += "\n# Extent description\n%s\n\n# The Disk Data Base\n#DDB\n\n" % extent
    s += "ddb.adapterType = \"lsilogic\"\nddb.virtualHWVersion = \"14\"\n"
    return s


def base(d):
    with open(d + "/base-flat.vmdk", "wb") as f:
        f.write(data(CAP * SECTOR))
    with open(d + "/base.vmdk", "w") as f:
        f.write(descriptor(0x11111111, 0xffffffff, "vmfs",
                           'RW %d VMFS "base-flat.vmdk"' % CAP))


def cowd(d, grain):
    """A COWD redo log: header, GD at sector 4, GTs, then grains."""
    gt_cover = 4096 * grain
    ngd = (CAP + gt_cover - 1) // gt_cover
    gd_off = 4
    gt_off = gd_off + 1
    grains = gt_off + ngd * 32
    img = bytearray(grains * SECTOR)
    hdr = struct.pack("<4sIIIIIII", b"COWD", 1, 3, CAP, grain, gd_off, ngd, 0)
    img[0:len(hdr)] = hdr
    gts = [[0] * 4096 for _ in range(ngd)]
    nxt = grains
    # Written grains (virtual grain numbers): the first, some in the
    # middle, the last.
    for g in (0, 3, 17, CAP // grain - 1):
        gts[g // 4096][g % 4096] = nxt
        img += data(grain * SECTOR)
        nxt += grain
    struct.pack_into("<I", img, 28, nxt)                    # freeSector
    for i in range(ngd):
        struct.pack_into("<I", img, gd_off * SECTOR + 4 * i, gt_off + 32 * i)
        struct.pack_into("<4096I", img, (gt_off + 32 * i) * SECTOR, *gts[i])
    with open(d + "/cowd-delta.vmdk", "wb") as f:
        f.write(img)
    with open(d + "/cowd.vmdk", "w") as f:
        f.write(descriptor(0x22222222, 0x11111111, "vmfsSparse",
                           'RW %d VMFSSPARSE "cowd-delta.vmdk"' % CAP,
                           "base.vmdk"))


def se_entry(kind, idx=0):
    if kind != 3:
        return kind << 60
    return (3 << 60) | ((idx & 0xfff) << 48) | (idx >> 12)


def sesparse(d):
    """An seSparse delta: const header, volatile header, journal, one
    grain directory sector, two grain tables, bitmap, backmap, grains.
    """
    vol, jh, jr, gd, gt = 1, 2, 3, 4, 5
    gt_size = 2 * 64
    bm, back = gt + gt_size, gt + gt_size + 1
    grains = back + 1
    ngrains = 4200                  # so some indexes need the high bits
    hdr = struct.pack("<26Q", 0xCAFEBABE, 0x200000001, CAP, 8, 64, 0,
                      0, 0, 0, 0, vol, 1, jh, 1, jr, 1, gd, 1, gt, gt_size,
                      bm, 1, back, 1, grains, ngrains * 8)
    img = bytearray(grains * SECTOR)
    img[0:len(hdr)] = hdr
    struct.pack_into("<4Q", img, vol * SECTOR, 0xCAFECAFE, 0, 1, 0)
    struct.pack_into("<Q", img, gd * SECTOR, 0x1000000000000000 | 0)
    table = [0] * 4096
    written = {}
    # grain -> (type, index): data, zero (hides the parent), unmapped
    for g, idx in ((0, 0), (5, 1), (100, 4097), (CAP // 8 - 1, 4199)):
        table[g] = se_entry(3, idx)
        written[idx] = data(8 * SECTOR)
    table[10] = se_entry(2)
    table[11] = se_entry(1)
    struct.pack_into("<4096Q", img, gt * SECTOR, *table)
    img += bytes(ngrains * 8 * SECTOR)
    for idx, blob in written.items():
        off = (grains + idx * 8) * SECTOR
        img[off:off + len(blob)] = blob
    with open(d + "/se-sesparse.vmdk", "wb") as f:
        f.write(img)
    with open(d + "/se.vmdk", "w") as f:
        f.write(descriptor(0x33333333, 0x11111111, "seSparse",
                           'RW %d SESPARSE "se-sesparse.vmdk"' % CAP,
                           "base.vmdk"))


def main():
    d = sys.argv[1]
    base(d)
    cowd(d, 1)
    sesparse(d)


main()
