#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a Hyper-V "HyperVStorage" container (.vmcx) holding the key tree
of a 2012 R2 XML configuration, from the layout in the spec notes
(../shared/specs/hyperv-config.md section 3), independently of vmconv's
reader: two headers, a replay log with no outstanding entry, one object
table, key tables of 4 KiB filled with packed entries (a free entry at
the end of each), and file objects for values of 2048 bytes or more.
XML integers become Int keys (UInt with --uint), strings String, bools
Bool, bytes Array, containers Node.

Usage: hyperv-make-vmcx.py CONFIG.xml OUT.vmcx [--uint]
"""

import struct
import sys
import xml.etree.ElementTree as ET
import zlib

ALIGN = 0x1000
TABLE = 0x1000


def crc_without(b, off):
    b = bytearray(b)
    b[off:off + 4] = b"\0\0\0\0"
    return zlib.crc32(bytes(b)) & 0xffffffff


class Writer:
    def __init__(self, uint):
        self.uint = uint
        self.tables = []          # bytearrays (without headers)
        self.files = []           # (bytes) file objects, offsets later
        self.pending = []         # (table, pos, file index)
        self.seq = {}             # parent -> next insertion sequence

    def place(self, size):
        if not self.tables or len(self.tables[-1]) + size > TABLE - 10:
            self.tables.append(bytearray())
        t = len(self.tables)      # table index, from 1
        return t, 10 + len(self.tables[-1])

    def entry(self, parent, name, type_, value, file_data=None):
        n = name.encode() + b"\0"
        flags = 1 if file_data is not None else 0
        size = 21 + len(n) + len(value)
        t, off = self.place(size)
        seq = self.seq.get(parent, 0) + 1
        self.seq[parent] = seq
        pt, po = parent if parent else (0, 0)
        e = bytearray(struct.pack("<BBIHIIIB", type_, flags, size, pt, po, 0,
                                  seq, len(n)) + n + value)
        if file_data is None:
            struct.pack_into("<I", e, 12, crc_without(e, 12))
        else:
            self.files.append(file_data)
            self.pending.append((t, off, len(self.files) - 1))
        self.tables[t - 1] += e
        return (t, off)

    def walk(self, el, parent):
        for c in el:
            ty = c.get("type")
            text = c.text or ""
            if ty is None:
                node = self.entry(parent, c.tag, 9, bytes(12))
                self.walk(c, node)
            elif ty == "integer":
                v = int(text)
                if self.uint and v >= 0:
                    self.entry(parent, c.tag, 4, struct.pack("<Q", v))
                else:
                    self.entry(parent, c.tag, 3, struct.pack("<q", v))
            elif ty == "bool":
                self.entry(parent, c.tag, 8,
                           struct.pack("<I", text.strip() == "True"))
            elif ty in ("string", "bytes"):
                if ty == "string":
                    data, t = text.encode("utf-16-le"), 6
                else:
                    import base64
                    data, t = base64.b64decode("".join(text.split())), 7
                if len(data) + 4 >= 2048:
                    # Size and offset; the offset is filled in later.
                    self.entry(parent, c.tag, t,
                               struct.pack("<IQ", len(data), 0), data)
                else:
                    self.entry(parent, c.tag, t,
                               struct.pack("<I", len(data)) + data)

    def write(self, path):
        ntab = len(self.tables)
        table_off = [0x3000 + i * TABLE for i in range(ntab)]
        file_off = []
        off = 0x3000 + ntab * TABLE
        for f in self.files:
            file_off.append(off)
            off += (len(f) + ALIGN - 1) // ALIGN * ALIGN
        replay = off
        total = replay + ALIGN
        img = bytearray(total)
        # Fill the file object pointers, then the checksums of those.
        for t, pos, fi in self.pending:
            tb = self.tables[t - 1]
            p = pos - 10
            nl = tb[p + 20]
            struct.pack_into("<Q", tb, p + 21 + nl + 4, file_off[fi])
            size = struct.unpack_from("<I", tb, p + 2)[0]
            e = tb[p:p + size]
            struct.pack_into("<I", tb, p + 12, crc_without(e, 12))
        for i, tb in enumerate(self.tables):
            free = TABLE - 10 - len(tb)
            body = tb + (struct.pack("<BBI", 1, 0, free) + bytes(free - 6)
                         if free >= 21 else bytes(free))
            hdr = bytearray(struct.pack("<HHHI", 2, i + 1, 1, 0))
            struct.pack_into("<I", hdr, 6, crc_without(hdr, 6))
            img[table_off[i]:table_off[i] + TABLE] = hdr + body
        for f, o in zip(self.files, file_off):
            img[o:o + len(f)] = f
        objs = [(2, o, TABLE) for o in table_off]
        objs += [(3, o, (len(f) + ALIGN - 1) // ALIGN * ALIGN)
                 for f, o in zip(self.files, file_off)]
        ot = bytearray(struct.pack("<II", 0x01110001, len(objs)))
        for ty, o, s in objs:
            e = bytearray(struct.pack("<BIQIB", ty, 0, o, s, 1))
            struct.pack_into("<I", e, 1, crc_without(e, 1))
            ot += e
        img[0x2000:0x2000 + len(ot)] = ot
        rl = bytearray(struct.pack("<IIIBIIIIIB", 0x01110003, 0, 0, 0, 64,
                                   0, 0, 0, 0, 0))
        struct.pack_into("<I", rl, 4, crc_without(rl, 4))
        img[replay:replay + len(rl)] = rl
        for i, at in enumerate((0, 0x1000)):
            h = bytearray(struct.pack("<IIHIQIQQI", 0x01282014, 0, 9 - i,
                                      0x0400, 0, ALIGN, replay, ALIGN,
                                      ALIGN))
            struct.pack_into("<I", h, 4, crc_without(h, 4))
            img[at:at + len(h)] = h
        open(path, "wb").write(img)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        return 2
    root = ET.parse(sys.argv[1]).getroot()
    w = Writer(len(sys.argv) == 4 and sys.argv[3] == "--uint")
    top = w.entry(None, root.tag, 9, bytes(12))
    w.walk(root, top)
    w.write(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
