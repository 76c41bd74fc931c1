#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make an seSparse delta laid out as ESXi lays one out on VMFS, from
shared/specs/vmdk.md section 5: every area (grain tables, free bitmap,
backmap, grains) declared at the size the capacity needs, but the file
holding only what was allocated: grain tables and grains are handed out
in the order the guest wrote them, and the file ends right after the
last grain.

    vmdk-make-sesparse.py DIR

writes DIR/base.vmdk + base-flat.vmdk (a flat "vmfs" parent),
DIR/se.vmdk + se-sesparse.vmdk (the delta over it) and DIR/expected.raw
(what the delta reads as: the parent, overlaid with the delta's grains;
zero and unmapped grains read as zeros).  It prints the file offset of
the grain table entry of the last grain written (for a test that points
it past the end of the file).
"""
import random
import struct
import sys

SECTOR = 512
CAP = 131072                        # sectors: 64 MiB, four grain tables
GRAIN = 8                           # sectors
GT_ENTRIES = 4096
GT_SECTORS = 64
rnd = random.Random(12)


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


def se_entry(kind, idx=0):
    if kind != 3:
        return kind << 60
    return (3 << 60) | ((idx & 0xfff) << 48) | (idx >> 12)


def main():
    d = sys.argv[1]
    base = bytearray(data(CAP * SECTOR // 16) * 16)
    with open(d + "/base-flat.vmdk", "wb") as f:
        f.write(base)
    with open(d + "/base.vmdk", "w") as f:
        f.write(descriptor(0x11111111, 0xffffffff, "vmfs",
                           'RW %d VMFS "base-flat.vmdk"' % CAP))

    ngrains = CAP // GRAIN
    ngts = (ngrains + GT_ENTRIES - 1) // GT_ENTRIES
    gd_sectors = (ngts * 8 + SECTOR - 1) // SECTOR
    vol, jh, jr, jr_size = 1, 2, 3, 8
    gd = jr + jr_size
    gt = 2048                                   # 1 MiB
    gt_size = ngts * GT_SECTORS
    bm = gt + gt_size
    bm_size = (ngrains // 8 + SECTOR - 1) // SECTOR
    back = bm + bm_size
    back_size = ngrains * 8 // SECTOR
    grains = ((back + back_size + 2047) // 2048) * 2048
    grains_size = ngrains * GRAIN
    hdr = struct.pack("<26Q", 0xCAFEBABE, 0x200000001, CAP, GRAIN,
                      GT_SECTORS, 0, 0, 0, 0, 0, vol, 1, jh, 1, jr, jr_size,
                      gd, gd_sectors, gt, gt_size, bm, bm_size, back,
                      back_size, grains, grains_size)
    img = bytearray(grains * SECTOR)
    img[0:len(hdr)] = hdr
    struct.pack_into("<4Q", img, vol * SECTOR, 0xCAFECAFE, 2, 1, 0)

    expected = bytearray(base)
    tables = {}                                 # GT number -> entries
    gt_index = {}                               # GT number -> index
    last_gte = 0
    # Guest grains in the order the guest wrote them: grains and tables
    # are allocated in that order, not in disk order.
    writes = [ngrains - 1, 3, 4096 * 2 + 17, 4, 2, 4096 * 2 + 16]
    for n, g in enumerate(writes):
        t = g // GT_ENTRIES
        if t not in tables:
            gt_index[t] = len(tables)
            tables[t] = [0] * GT_ENTRIES
        tables[t][g % GT_ENTRIES] = se_entry(3, n)
        blob = data(GRAIN * SECTOR)
        img += blob
        expected[g * GRAIN * SECTOR:(g + 1) * GRAIN * SECTOR] = blob
        last_gte = (gt + gt_index[t] * GT_SECTORS) * SECTOR + \
            (g % GT_ENTRIES) * 8
    # A zero grain and an unmapped one hide the parent.
    for g, kind in ((10, 2), (11, 1)):
        tables[g // GT_ENTRIES][g % GT_ENTRIES] = se_entry(kind)
        expected[g * GRAIN * SECTOR:(g + 1) * GRAIN * SECTOR] = \
            bytes(GRAIN * SECTOR)
    for t, entries in tables.items():
        struct.pack_into("<Q", img, gd * SECTOR + 8 * t,
                         0x1000000000000000 | gt_index[t])
        struct.pack_into("<4096Q", img,
                         (gt + gt_index[t] * GT_SECTORS) * SECTOR, *entries)
    assert len(img) == (grains + len(writes) * GRAIN) * SECTOR
    with open(d + "/se-sesparse.vmdk", "wb") as f:
        f.write(img)
    with open(d + "/se.vmdk", "w") as f:
        f.write(descriptor(0x33333333, 0x11111111, "seSparse",
                           'RW %d SESPARSE "se-sesparse.vmdk"' % CAP,
                           "base.vmdk"))
    with open(d + "/expected.raw", "wb") as f:
        f.write(expected)
    print(last_gte)


main()
