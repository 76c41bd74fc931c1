#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write VHDX test images straight from [MS-VHDX] v1.0, independently of
vmconv's C driver, together with the flat raw image each one implies.

qemu-img cannot make or read differencing VHDX (.avhdx), so this is our
oracle for them; the base images and the dirty-log images it writes
are also checked against qemu-img by the tests (qemu reads dynamic
VHDX and replays logs on a writable copy), which keeps this writer
honest.

Usage: vhdx-make-diff.py SCENARIO DIR
  diff        DIR/parent.vhdx, DIR/child.avhdx (PARTIALLY_PRESENT with
              sector bitmaps across two bitmap chunks, FULLY_PRESENT,
              ZERO, UNMAPPED, NOT_PRESENT), DIR/child.raw, DIR/parent.raw
  diff4k      the same with 4096-byte logical sectors, one chunk
  chain3      DIR/base.vhdx <- DIR/mid.avhdx <- DIR/top.avhdx, DIR/top.raw
  badlink     DIR/parent.vhdx, DIR/child.avhdx whose parent_linkage is
              wrong, DIR/child.raw (what it reads as when ignored)
  outside     DIR/parent.vhdx, DIR/sub/child.avhdx with relative_path
              ..\\parent.vhdx, DIR/sub/child.raw
  fallback    DIR/parent.vhdx, DIR/child.avhdx whose relative_path does
              not exist: absolute_win32_path's file name is used
  log         DIR/log.vhdx: dynamic image whose log must be replayed
              (stale BAT, a sequence wrapping the end of the log, an
              older sequence that must be ignored, a zero descriptor,
              data past the end of the file), DIR/log.raw
  log-bad-length, log-bad-count, log-loop, log-no-tail
              DIR/log.vhdx with a log that holds no valid sequence
  locator-bad-count, locator-bad-offset, locator-odd-length,
  locator-bad-utf16, locator-bad-type, locator-no-path
              DIR/parent.vhdx, DIR/child.avhdx with a damaged locator
  cmp A B     compare two (sparse) raw files; exit 1 if they differ
"""

import os
import random
import struct
import sys
import uuid

MiB = 1024 * 1024
SECTORS_PER_CHUNK = 1 << 23

# --- CRC-32C (Castagnoli), reflected 0x82F63B78 ---------------------------

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def guid(text):
    """GUID text -> the 16 bytes as stored (Microsoft mixed endian)."""
    return uuid.UUID(text).bytes_le


def guid_text(b):
    return "{" + str(uuid.UUID(bytes_le=bytes(b))).upper() + "}"


BAT_REGION = guid("2DC27766-F623-4200-9D64-115E9BFD4A08")
META_REGION = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")
FILE_PARAMS = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
DISK_SIZE = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
DISK_ID = guid("BECA12AB-B2E6-4523-93EF-C309E000C746")
LSS = guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
PSS = guid("CDA348C7-445D-4471-9CC9-E9885251C556")
LOCATOR = guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
LOCATOR_VHDX = guid("B04AEFB7-D19E-4A81-B789-25B8E9445913")

NOT_PRESENT, UNDEFINED, ZERO, UNMAPPED = 0, 1, 2, 3
FULLY, PARTIALLY = 6, 7
SB_PRESENT = 6


def round_up(a, b):
    return (a + b - 1) // b * b


class Disk:
    """A VHDX image to write.  blocks maps a block number to one of
    ("full", data), ("partial", bits, data) where bits is a list of
    0/1 per logical sector and data is the whole block's bytes (the
    bytes of clear sectors are garbage on purpose), ("zero",),
    ("unmapped",), ("undefined",).
    """

    def __init__(self, size, block_size=MiB, lss=512, pss=4096):
        self.size = size
        self.bs = block_size
        self.lss = lss
        self.pss = pss
        self.blocks = {}
        self.parent = None           # dict of locator key -> value
        self.locator_hook = None     # bytearray -> bytes, to damage it
        self.dwg = uuid.uuid4().bytes_le
        self.fwg = uuid.uuid4().bytes_le
        self.disk_id = uuid.uuid4().bytes_le
        self.chunk_ratio = SECTORS_PER_CHUNK * lss // block_size
        self.data_blocks = -(-size // block_size)

    def bat_entries(self):
        cr = self.chunk_ratio
        if self.parent is not None:
            return -(-self.data_blocks // cr) * (cr + 1)
        return self.data_blocks + (self.data_blocks - 1) // cr

    # -- file pieces ------------------------------------------------------

    def header(self, seq, log_guid=bytes(16), log_off=MiB, log_len=MiB):
        h = bytearray(4096)
        h[0:4] = b"head"
        struct.pack_into("<Q", h, 8, seq)
        h[16:32] = self.fwg
        h[32:48] = self.dwg
        h[48:64] = log_guid
        struct.pack_into("<HHIQ", h, 64, 0, 1, log_len, log_off)
        struct.pack_into("<I", h, 4, crc32c(h))
        return bytes(h)

    def region_table(self, bat_off, bat_len, meta_off, meta_len):
        r = bytearray(65536)
        r[0:4] = b"regi"
        struct.pack_into("<I", r, 8, 2)
        # Metadata first, then the BAT: the order is free.
        r[16:32] = META_REGION
        struct.pack_into("<QII", r, 32, meta_off, meta_len, 1)
        r[48:64] = BAT_REGION
        struct.pack_into("<QII", r, 64, bat_off, bat_len, 1)
        struct.pack_into("<I", r, 4, crc32c(r))
        return bytes(r)

    def locator_item(self):
        kv = list(self.parent.items())
        out = bytearray(20 + 12 * len(kv))
        out[0:16] = LOCATOR_VHDX
        struct.pack_into("<HH", out, 16, 0, len(kv))
        strings = bytearray()
        base = len(out)
        for i, (k, v) in enumerate(kv):
            kb = k.encode("utf-16-le")
            vb = v.encode("utf-16-le")
            koff = base + len(strings)
            strings += kb
            voff = base + len(strings)
            strings += vb
            struct.pack_into("<IIHH", out, 20 + 12 * i, koff, voff,
                             len(kb), len(vb))
        return bytes(out + strings)

    def metadata(self, meta_len):
        m = bytearray(meta_len)
        m[0:8] = b"metadata"
        items = [
            (FILE_PARAMS, struct.pack("<II", self.bs,
                                      2 if self.parent is not None else 0), 4),
            (DISK_SIZE, struct.pack("<Q", self.size), 6),
            (DISK_ID, self.disk_id, 6),
            (LSS, struct.pack("<I", self.lss), 6),
            (PSS, struct.pack("<I", self.pss), 6),
        ]
        if self.parent is not None:
            loc = self.locator_item()
            if self.locator_hook:
                loc = self.locator_hook(bytearray(loc))
            items.append((LOCATOR, bytes(loc), 4))
        # Items in reverse order, 4 KiB apart, from 64 KiB.
        off = 65536
        for i, (gid, data, flags) in enumerate(reversed(items)):
            e = 32 + 32 * i
            m[e:e + 16] = gid
            struct.pack_into("<III", m, e + 16, off, len(data), flags)
            m[off:off + len(data)] = data
            off += round_up(len(data), 4096)
        struct.pack_into("<H", m, 10, len(items))
        return bytes(m)

    # -- the whole file -----------------------------------------------------

    def layout(self):
        """Return (bat list, {file offset: bytes}, file size, offsets)."""
        cr = self.chunk_ratio
        nent = self.bat_entries()
        bat = [0] * nent
        pieces = {}
        meta_off = 2 * MiB
        bat_off = 3 * MiB
        bat_len = round_up(nent * 8, MiB)
        nxt = bat_off + bat_len
        chunks = set()
        for b in sorted(self.blocks):
            kind = self.blocks[b][0]
            idx = b + b // cr
            if kind in ("full", "partial"):
                bat[idx] = (FULLY if kind == "full" else PARTIALLY) | nxt
                pieces[nxt] = self.blocks[b][-1]
                nxt += self.bs
                if kind == "partial":
                    chunks.add(b // cr)
            else:
                bat[idx] = {"zero": ZERO, "unmapped": UNMAPPED,
                            "undefined": UNDEFINED}[kind]
        spb = self.bs // self.lss
        for c in sorted(chunks):
            bm = bytearray(MiB)
            for b in self.blocks:
                if b // cr != c or self.blocks[b][0] != "partial":
                    continue
                bits = self.blocks[b][1]
                base = (b % cr) * spb
                for s, bit in enumerate(bits):
                    if bit:
                        i = base + s
                        bm[i // 8] |= 1 << (i % 8)
            bat[(c + 1) * cr + c] = SB_PRESENT | nxt
            pieces[nxt] = bytes(bm)
            nxt += MiB
        return bat, pieces, nxt, (meta_off, bat_off, bat_len)

    def write(self, path, log_guid=bytes(16), log=None, stale_bat=None):
        bat, pieces, end, (meta_off, bat_off, bat_len) = self.layout()
        on_disk_bat = stale_bat(bat) if stale_bat else bat
        with open(path, "wb") as f:
            f.truncate(end)
            ident = bytearray(520)
            ident[0:8] = b"vhdxfile"
            cre = "vhdx-make-diff.py".encode("utf-16-le")
            ident[8:8 + len(cre)] = cre
            f.seek(0)
            f.write(ident)
            f.seek(0x10000)
            f.write(self.header(7, log_guid))
            f.seek(0x20000)
            f.write(self.header(8, log_guid))
            rt = self.region_table(bat_off, bat_len, meta_off, MiB)
            f.seek(0x30000)
            f.write(rt)
            f.seek(0x40000)
            f.write(rt)
            f.seek(meta_off)
            f.write(self.metadata(MiB))
            f.seek(bat_off)
            f.write(b"".join(struct.pack("<Q", e) for e in on_disk_bat))
            for off, data in pieces.items():
                f.seek(off)
                f.write(data)
            if log:
                f.seek(MiB)
                f.write(log)
        return bat, bat_off, end

    def flat(self, parent_flat):
        """The guest view as {offset: bytes} runs over PARENT_FLAT (a
        function offset,length -> bytes, or None for zeros)."""
        def read(off, n):
            out = bytearray()
            while n > 0:
                b, inb = divmod(off, self.bs)
                take = min(n, self.bs - inb)
                blk = self.blocks.get(b)
                if blk is None:
                    out += parent_flat(off, take) if parent_flat else \
                        bytes(take)
                elif blk[0] == "full":
                    out += blk[1][inb:inb + take]
                elif blk[0] == "partial":
                    bits, data = blk[1], blk[2]
                    pos = inb
                    while pos < inb + take:
                        s = pos // self.lss
                        n2 = min((s + 1) * self.lss, inb + take) - pos
                        if bits[s]:
                            out += data[pos:pos + n2]
                        else:
                            out += parent_flat(b * self.bs + pos, n2) \
                                if parent_flat else bytes(n2)
                        pos += n2
                else:
                    out += bytes(take)
                off += take
                n -= take
            return bytes(out)
        return read


def write_raw(path, size, reader, blocks_of_interest, bs):
    """Write a sparse raw file of SIZE: only the listed blocks."""
    with open(path, "wb") as f:
        f.truncate(size)
        for b in sorted(blocks_of_interest):
            off = b * bs
            n = min(bs, size - off)
            if n <= 0:
                continue
            data = reader(off, n)
            if any(data):
                f.seek(off)
                f.write(data)


def pattern(seed, n):
    r = random.Random(seed)
    return r.randbytes(n)


def parent_disk(size, bs, lss, blocks, seed=1):
    p = Disk(size, bs, lss)
    for b in blocks:
        p.blocks[b] = ("full", pattern(seed * 1000 + b, bs))
    return p


def sector_bits(n, kind, seed):
    if kind == "ones":
        return [1] * n
    if kind == "zeros":
        return [0] * n
    r = random.Random(seed)
    bits = []
    while len(bits) < n:        # runs of 1..40 sectors
        bits += [r.randint(0, 1)] * r.randint(1, 40)
    return bits[:n]


def garbage_block(bs, bits, lss, seed):
    """Block bytes: real data in set sectors, 0xEE garbage elsewhere."""
    data = bytearray(pattern(seed, bs))
    for s, bit in enumerate(bits):
        if not bit:
            data[s * lss:(s + 1) * lss] = b"\xee" * lss
    return bytes(data)


def link_locator(parent, rel="parent.vhdx", linkage=None):
    return {
        "parent_linkage": linkage or guid_text(parent.dwg).lower(),
        "relative_path": rel,
        "volume_path": "\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}"
                       "\\Hyper-V\\" + rel.split("\\")[-1],
        "absolute_win32_path": "C:\\Hyper-V\\" + rel.split("\\")[-1],
    }


def child_of(parent, blocks, seed=2):
    """A differencing child with one block of each kind in BLOCKS
    ({block: kind}); kinds: full, zero, unmapped, undefined,
    partial-random, partial-ones, partial-zeros."""
    c = Disk(parent.size, parent.bs, parent.lss, parent.pss)
    c.disk_id = parent.disk_id
    spb = parent.bs // parent.lss
    for b, kind in blocks.items():
        if kind == "full":
            c.blocks[b] = ("full", pattern(seed * 1000 + b, parent.bs))
        elif kind.startswith("partial"):
            bits = sector_bits(spb, kind.split("-")[1], seed * 7 + b)
            c.blocks[b] = ("partial", bits,
                           garbage_block(parent.bs, bits, parent.lss,
                                         seed * 1000 + b))
        else:
            c.blocks[b] = (kind,)
    return c


def interesting(*disks):
    s = set()
    for d in disks:
        s |= set(d.blocks)
    return s


def scenario_diff(d, lss=512):
    if lss == 512:
        # 1 MiB blocks: ChunkRatio 4096, so 4 GiB + 8 MiB needs two
        # sector bitmap blocks; blocks 4095/4096 straddle them.
        size, bs = 4 * 1024 * MiB + 8 * MiB, MiB
        pblocks = [0, 1, 2, 3, 5, 6, 4095, 4096, 4097, 4100, 4103]
        cblocks = {0: "full", 1: "partial-random", 2: "zero",
                   5: "partial-zeros", 6: "partial-ones",
                   4095: "partial-random", 4096: "partial-random",
                   4097: "full", 4100: "unmapped", 4101: "partial-random",
                   4103: "undefined"}
    else:
        size, bs = 64 * MiB, 2 * MiB
        pblocks = [0, 1, 2, 3, 5, 31]
        cblocks = {0: "full", 1: "partial-random", 2: "zero",
                   5: "partial-random", 31: "partial-random"}
    p = parent_disk(size, bs, lss, pblocks)
    p.pss = 4096
    p.write(os.path.join(d, "parent.vhdx"))
    c = child_of(p, cblocks)
    c.parent = link_locator(p)
    c.write(os.path.join(d, "child.avhdx"))
    both = interesting(p, c)
    write_raw(os.path.join(d, "parent.raw"), size, p.flat(None), both, bs)
    write_raw(os.path.join(d, "child.raw"), size, c.flat(p.flat(None)),
              both, bs)


def scenario_chain3(d):
    size, bs = 16 * MiB, MiB
    base = parent_disk(size, bs, 512, [0, 1, 2, 3, 4, 5, 11], seed=5)
    base.write(os.path.join(d, "base.vhdx"))
    mid = child_of(base, {0: "full", 1: "partial-random", 2: "zero",
                          6: "partial-random", 7: "full"}, seed=6)
    mid.parent = link_locator(base, ".\\base.vhdx")
    mid.write(os.path.join(d, "mid.avhdx"))
    top = child_of(mid, {1: "partial-random", 2: "partial-ones",
                         3: "partial-random", 7: "zero", 8: "full"}, seed=7)
    top.parent = link_locator(mid, "mid.avhdx")
    # Hyper-V writes the linkage in upper case sometimes: accept both.
    top.parent["parent_linkage"] = guid_text(mid.dwg)
    top.write(os.path.join(d, "top.avhdx"))
    both = interesting(base, mid, top)
    write_raw(os.path.join(d, "top.raw"), size,
              top.flat(mid.flat(base.flat(None))), both, bs)
    write_raw(os.path.join(d, "mid.raw"), size,
              mid.flat(base.flat(None)), both, bs)


def small_pair(d, childdir, rel, linkage=None, hook=None, keys=None):
    size, bs = 16 * MiB, MiB
    p = parent_disk(size, bs, 512, [0, 1, 2, 3, 9])
    p.write(os.path.join(d, "parent.vhdx"))
    c = child_of(p, {1: "full", 2: "partial-random", 3: "zero"})
    c.parent = link_locator(p, rel, linkage)
    if keys is not None:
        c.parent = {k: v for k, v in c.parent.items() if k in keys}
    c.locator_hook = hook
    os.makedirs(childdir, exist_ok=True)
    c.write(os.path.join(childdir, "child.avhdx"))
    write_raw(os.path.join(childdir, "child.raw"), size,
              c.flat(p.flat(None)), interesting(p, c), bs)
    return p, c


# Damaged parent locators: (hook on the item bytes, keys kept).
def _set(fmt, off, val):
    def hook(b):
        struct.pack_into(fmt, b, off, val)
        return b
    return hook


LOCATOR_DAMAGE = {
    # more key/value entries than the item holds
    "locator-bad-count": (_set("<H", 18, 5000), None),
    # the first key points past the end of the item
    "locator-bad-offset": (_set("<I", 20, 0x100000), None),
    # an odd UTF-16 length
    "locator-odd-length": (_set("<H", 28, 3), None),
    # an unpaired surrogate in the first key
    "locator-bad-utf16": (lambda b: _set("<H", struct.unpack_from(
        "<I", b, 20)[0], 0xD800)(b), None),
    # an unknown locator type
    "locator-bad-type": (lambda b: b[:0] + bytes(16) + b[16:], None),
    # a linkage but no path at all
    "locator-no-path": (None, ("parent_linkage",)),
}


# --- Logs ------------------------------------------------------------------

LOG_LEN = MiB
LOG_GUID = guid("6F3B39E4-8B47-4E1C-9C23-3A1F2B3C4D5E")


def log_entry(seq, tail, writes, zeros=(), flushed=0, last=0,
              lguid=LOG_GUID):
    """One log entry as a list of 4 KiB sectors.  WRITES is a list of
    (file offset, 4096 bytes), ZEROS of (file offset, length)."""
    descs = []
    for off, length in zeros:
        descs.append(b"zero" + struct.pack("<IQQQ", 0, length, off, seq))
    for off, data in writes:
        descs.append(b"desc" + data[4092:4096] + data[0:8] +
                     struct.pack("<QQ", off, seq))
    ndsec = -(-(len(descs) + 2) // 128)
    body = bytearray(ndsec * 4096)
    for i, dsc in enumerate(descs):
        body[(i + 2) * 32:(i + 3) * 32] = dsc
    for off, data in writes:
        body += (b"data" + struct.pack("<I", seq >> 32) + data[8:4092] +
                 struct.pack("<I", seq & 0xFFFFFFFF))
    length = len(body)
    struct.pack_into("<4sIIIQII16sQQ", body, 0, b"loge", 0, length, tail, seq,
                     len(descs), 0, lguid, flushed, last)
    struct.pack_into("<I", body, 4, crc32c(body))
    return [bytes(body[i:i + 4096]) for i in range(0, length, 4096)]


def place(log, sector, sectors):
    """Put SECTORS into LOG (bytearray) from SECTOR, wrapping."""
    n = len(log) // 4096
    for k, s in enumerate(sectors):
        i = (sector + k) % n
        log[i * 4096:(i + 1) * 4096] = s


def scenario_log(d, variant="good"):
    size, bs = 64 * MiB, MiB
    disk = parent_disk(size, bs, 512, [0, 1, 2, 3, 7, 20], seed=9)
    path = os.path.join(d, "log.vhdx")
    # Lay out once to learn where things are.
    bat, bat_off, end = disk.write(path)
    # A block past the current end of file that only the log knows.
    extra_block = 30
    bat[extra_block] = FULLY | end
    extra = [pattern(4242, 4096), pattern(4343, 4096)]
    new_end = end + MiB
    true_bat = b"".join(struct.pack("<Q", e) for e in bat)
    sect0 = true_bat[0:4096].ljust(4096, b"\0")

    def stale(entries):
        e = list(entries)
        for b in (7, 20, extra_block):
            e[b] = NOT_PRESENT
        return e

    def off_of(b):
        return bat[b] & ~0xFFFFF

    log = bytearray(LOG_LEN)
    nsec = LOG_LEN // 4096
    # An older sequence (3, 4) at sector 10: garbage over block 2.  It
    # is valid but not the newest, so it must not be replayed.
    garbage = b"\xba\xad" * 2048
    e3 = log_entry(3, 10 * 4096, [(bat_off, sect0)], flushed=end, last=end)
    e4 = log_entry(4, 10 * 4096, [(off_of(2), garbage)], flushed=end,
                   last=end)
    # The active sequence: 10 lies before the tail (already applied),
    # 11 writes the BAT, 12 wraps around the end of the log, zeroes
    # 64 KiB of block 1 and writes two sectors past the end of file
    # (the last one ends the new block: qemu-img's replay extends the
    # file only as far as it writes, not to LastFileOffset).
    pos10 = nsec - 5
    e10 = log_entry(10, pos10 * 4096, [(off_of(1), disk.blocks[1][1][:4096])],
                    flushed=end, last=end)
    pos11 = pos10 + len(e10)
    e11 = log_entry(11, pos11 * 4096, [(bat_off, sect0)], flushed=end,
                    last=new_end)
    pos12 = pos11 + len(e11)
    e12 = log_entry(12, pos11 * 4096,
                    [(end + 8192, extra[0]), (new_end - 4096, extra[1])],
                    zeros=[(off_of(1) + 65536, 65536)], flushed=end,
                    last=new_end)
    if variant == "good":
        place(log, 10, e3)
        place(log, 10 + len(e3), e4)
        place(log, pos10, e10)
        place(log, pos11, e11)
        place(log, pos12, e12)
        assert pos12 + len(e12) > nsec, "entry 12 must wrap"
    elif variant in ("log-bad-length", "log-bad-count"):
        e = bytearray(b"".join(e11))
        if variant == "log-bad-length":
            struct.pack_into("<I", e, 8, 0xFFFFF000)
        else:
            struct.pack_into("<I", e, 24, 0xFFFFFFFF)
        struct.pack_into("<I", e, 4, 0)
        struct.pack_into("<I", e, 4, crc32c(e))
        place(log, 0, [bytes(e[i:i + 4096]) for i in range(0, len(e), 4096)])
    elif variant == "log-loop":
        # Every sector an entry, each tail pointing at the entry after
        # it round the ring (a reader following tails would never
        # stop), sequence numbers with gaps so no two entries chain:
        # nothing is valid and the scan must stop.
        for i in range(nsec):
            place(log, i, log_entry(100 + 2 * i, ((i + 1) % nsec) * 4096,
                                    [], flushed=end, last=end))
    elif variant == "log-no-tail":
        place(log, 5, log_entry(7, 200 * 4096, [(bat_off, sect0)],
                                flushed=end, last=end))
    else:
        raise SystemExit("unknown log variant " + variant)
    disk.write(path, log_guid=LOG_GUID, log=bytes(log), stale_bat=stale)
    if variant != "good":
        return
    # The guest view after replay.
    expect = {b: bytearray(disk.blocks[b][1]) for b in disk.blocks}
    expect[1][65536:131072] = bytes(65536)
    xb = bytearray(bs)
    xb[8192:12288] = extra[0]
    xb[bs - 4096:] = extra[1]
    expect[extra_block] = xb
    with open(os.path.join(d, "log.raw"), "wb") as f:
        f.truncate(size)
        for b, data in expect.items():
            f.seek(b * bs)
            f.write(data)


# --- Sparse compare ----------------------------------------------------------

def data_extents(fd, size):
    out = []
    off = 0
    while off < size:
        try:
            d = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        h = os.lseek(fd, d, os.SEEK_HOLE)
        out.append((d, h))
        off = h
    return out


def sparse_cmp(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        sa = os.fstat(fa.fileno()).st_size
        sb = os.fstat(fb.fileno()).st_size
        if sa != sb:
            print("%s: %d bytes, %s: %d bytes" % (a, sa, b, sb))
            return 1
        ranges = data_extents(fa.fileno(), sa) + data_extents(fb.fileno(), sb)
        for start, end in sorted(ranges):
            off = start
            while off < end:
                n = min(MiB, end - off)
                fa.seek(off)
                fb.seek(off)
                x, y = fa.read(n), fb.read(n)
                if x != y:
                    i = next(i for i in range(n) if x[i] != y[i])
                    print("%s %s differ: byte %d" % (a, b, off + i))
                    return 1
                off += n
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "cmp":
        return sparse_cmp(sys.argv[2], sys.argv[3])
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    what, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    if what == "diff":
        scenario_diff(d)
    elif what == "diff4k":
        scenario_diff(d, 4096)
    elif what == "chain3":
        scenario_chain3(d)
    elif what == "badlink":
        small_pair(d, d, "parent.vhdx",
                   linkage="{01234567-89ab-cdef-0123-456789abcdef}")
    elif what == "outside":
        small_pair(d, os.path.join(d, "sub"), "..\\parent.vhdx")
    elif what == "fallback":
        small_pair(d, d, "..\\elsewhere\\parent.vhdx")
    elif what in LOCATOR_DAMAGE:
        hook, keys = LOCATOR_DAMAGE[what]
        small_pair(d, d, "parent.vhdx", hook=hook, keys=keys)
    elif what == "log" or what.startswith("log-"):
        scenario_log(d, "good" if what == "log" else what)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
