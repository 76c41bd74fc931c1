/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 structural check: recount every host cluster from the metadata
 * (header, L1 and L2 tables, data and compressed spans, refcount table
 * and blocks, snapshot table and snapshot trees, bitmaps) and compare
 * with the stored refcounts, as qemu-img check does.  Also reports
 * structures overlapping each other or leaving the file, bad alignment,
 * reserved bits, and COPIED flags that disagree with the refcounts.
 *
 * Memory: one counter and one kind byte per host cluster of the file
 * (bounded by VMC_MAX_ALLOC), plus one table at a time.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2-internal.h"

/* Most L2 tables walked (counting each L1 reference), so a hostile
 * image with many snapshots sharing huge tables cannot take forever.
 */
#define QCOW2_CHECK_MAX_L2_WALKS (1u << 18)

enum qcow2_ckind {
    CK_FREE,
    CK_HEADER,
    CK_L1,
    CK_L2,
    CK_REFTABLE,
    CK_REFBLOCK,
    CK_SNAPTABLE,
    CK_SNAPL1,
    CK_DATA,
    CK_COMPRESSED,
    CK_BITMAPDIR,
    CK_BITMAPTABLE,
    CK_BITMAPDATA,
};

static const char *const qcow2_ckind_names[] = {
    "free", "header", "L1 table", "L2 table", "refcount table",
    "refcount block", "snapshot table", "snapshot L1 table", "data cluster",
    "compressed data", "bitmap directory", "bitmap table", "bitmap data",
};

/* Kinds that one cluster may hold for several owners. */
static bool
qcow2_ckind_is_meta(uint8_t k)
{
    return k != CK_FREE && k != CK_DATA && k != CK_COMPRESSED &&
        k != CK_L2;
}

struct qcow2_chk {
    struct vmc_image *img;
    struct qcow2 *q;
    struct vmc_check_result *r;
    uint64_t cs;
    uint64_t nclusters;          /* clusters of the file (last may be short) */
    uint32_t *ref;               /* computed refcounts */
    uint8_t *kind;               /* what each cluster holds */
    uint64_t l2_walks;
    bool gave_up;
};

/* Count one reference to [OFF, OFF+LEN) as KIND.  WHAT says who refers
 * to it, for messages.
 */
static void
qcow2_chk_add(struct qcow2_chk *c, uint64_t off, uint64_t len, uint8_t kind,
              const char *what)
{
    uint64_t first = off / c->cs, last, i;
    uint64_t end;

    if (len == 0)
        return;
    if (vmc_add_overflow(off, len, &end) || (end - 1) / c->cs >= c->nclusters) {
        vmc_check_error(c->r, "%s at offset %" PRIu64 " length %" PRIu64
                        " is past the end of the file (%" PRIu64 " bytes)",
                        what, off, len, c->img->file_size);
        return;
    }
    last = (end - 1) / c->cs;
    for (i = first; i <= last; i++) {
        uint8_t old = c->kind[i];

        /* Only L2 tables and data may be shared (snapshots). */
        if (old != CK_FREE && old != kind)
            vmc_check_error(c->r, "%s at offset %" PRIu64 " overlaps the %s "
                            "in cluster %" PRIu64, what, off,
                            qcow2_ckind_names[old], i);
        else if (old != CK_FREE && old == kind && qcow2_ckind_is_meta(kind))
            vmc_check_error(c->r, "%s at offset %" PRIu64 " is referenced "
                            "more than once (cluster %" PRIu64 ")", what, off,
                            i);
        if (old == CK_FREE)
            c->kind[i] = kind;
        if (c->ref[i] < UINT32_MAX)
            c->ref[i]++;
    }
}

/* Read LEN bytes at OFF into a new buffer, or NULL with a check error
 * (the check goes on without that structure).
 */
static uint8_t *
qcow2_chk_read(struct qcow2_chk *c, uint64_t off, uint64_t len,
               const char *what)
{
    uint8_t *buf;
    uint64_t end;

    if (vmc_add_overflow(off, len, &end) || end > c->img->file_size) {
        vmc_check_error(c->r, "%s at offset %" PRIu64 " length %" PRIu64
                        " is outside the file", what, off, len);
        return NULL;
    }
    buf = vmc_malloc(c->img->h, c->img->path, len, what);
    if (buf == NULL) {
        vmc_check_error(c->r, "%s at offset %" PRIu64 ": cannot allocate %"
                        PRIu64 " bytes", what, off, len);
        return NULL;
    }
    if (vmc_file_pread_full(c->img->file, buf, len, off) == -1) {
        vmc_check_error(c->r, "%s at offset %" PRIu64 ": %s", what, off,
                        vmc_get_error(c->img->h));
        free(buf);
        return NULL;
    }
    return buf;
}

/* Count the data clusters of the L2 table at L2_OFF. */
static void
qcow2_chk_l2(struct qcow2_chk *c, uint64_t l2_off)
{
    struct qcow2 *q = c->q;
    CLEANUP_FREE uint8_t *t = qcow2_chk_read(c, l2_off, c->cs, "L2 table");
    uint32_t i;

    if (t == NULL)
        return;
    for (i = 0; i < q->l2_entries; i++) {
        uint64_t e = vmc_be64(t + (size_t) i * q->l2_entry_size);

        if (e & QCOW2_OFLAG_COMPRESSED) {
            uint64_t desc = e & ~(QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_COPIED);
            uint64_t coff = desc & q->coffset_mask;
            uint64_t nsect = (desc >> q->csize_shift) & q->csize_mask;

            if (q->external)
                vmc_check_error(c->r, "L2 table at offset %" PRIu64 ", entry "
                                "%" PRIu32 ": compressed cluster in an image "
                                "with an external data file", l2_off, i);
            if (e & QCOW2_OFLAG_COPIED)
                vmc_check_error(c->r, "L2 table at offset %" PRIu64 ", entry "
                                "%" PRIu32 ": compressed cluster has the "
                                "COPIED flag", l2_off, i);
            qcow2_chk_add(c, coff & ~511ull, (nsect + 1) * 512, CK_COMPRESSED,
                          "compressed data");
            continue;
        }
        {
            uint64_t host = e & QCOW2_L2_OFFSET_MASK;

            if (e & QCOW2_L2_RESERVED_MASK) {
                vmc_check_error(c->r, "L2 table at offset %" PRIu64 ", entry "
                                "%" PRIu32 ": reserved bits set (0x%016" PRIx64
                                ")", l2_off, i, e);
                continue;
            }
            if (host % c->cs != 0) {
                vmc_check_error(c->r, "L2 table at offset %" PRIu64 ", entry "
                                "%" PRIu32 ": data offset %" PRIu64 " is not "
                                "cluster aligned", l2_off, i, host);
                continue;
            }
            if (host == 0 && (e & QCOW2_OFLAG_COPIED) && !q->external)
                vmc_check_error(c->r, "L2 table at offset %" PRIu64 ", entry "
                                "%" PRIu32 ": unallocated entry has the "
                                "COPIED flag", l2_off, i);
            if (q->extended_l2) {
                uint64_t bm = vmc_be64(t + (size_t) i * 16 + 8);

                if ((bm >> 32) & bm & 0xffffffffu)
                    vmc_check_error(c->r, "L2 table at offset %" PRIu64
                                    ", entry %" PRIu32 ": subclusters both "
                                    "allocated and zero", l2_off, i);
                if (host == 0 && (bm & 0xffffffffu) &&
                    !(q->external && (e & QCOW2_OFLAG_COPIED)))
                    vmc_check_error(c->r, "L2 table at offset %" PRIu64
                                    ", entry %" PRIu32 ": allocated "
                                    "subclusters without a cluster",
                                    l2_off, i);
            }
            /* Clusters of an external data file have no refcounts. */
            if (host != 0 && !q->external)
                qcow2_chk_add(c, host, c->cs, CK_DATA, "data cluster");
        }
    }
}

/* Count an L1 table of L1_SIZE entries at L1_OFF (as KIND) and its
 * tree.
 */
static void
qcow2_chk_l1(struct qcow2_chk *c, uint64_t l1_off, uint32_t l1_size,
             uint8_t kind, const char *what)
{
    CLEANUP_FREE uint8_t *t = NULL;
    uint32_t i;

    if (l1_size == 0)
        return;
    if (l1_off % c->cs != 0) {
        vmc_check_error(c->r, "%s at offset %" PRIu64 " is not cluster "
                        "aligned", what, l1_off);
        return;
    }
    qcow2_chk_add(c, l1_off, (uint64_t) l1_size * 8, kind, what);
    t = qcow2_chk_read(c, l1_off, (uint64_t) l1_size * 8, what);
    if (t == NULL)
        return;
    for (i = 0; i < l1_size && !c->gave_up; i++) {
        uint64_t e = vmc_be64(t + (size_t) i * 8);
        uint64_t off = e & QCOW2_L1_OFFSET_MASK;

        if (e & QCOW2_L1_RESERVED_MASK) {
            vmc_check_error(c->r, "%s at offset %" PRIu64 ", entry %" PRIu32
                            ": reserved bits set (0x%016" PRIx64 ")", what,
                            l1_off, i, e);
            continue;
        }
        if (off == 0)
            continue;
        if (off % c->cs != 0) {
            vmc_check_error(c->r, "%s at offset %" PRIu64 ", entry %" PRIu32
                            ": L2 table offset %" PRIu64 " is not cluster "
                            "aligned", what, l1_off, i, off);
            continue;
        }
        if (++c->l2_walks > QCOW2_CHECK_MAX_L2_WALKS) {
            vmc_check_error(c->r, "more than %u L2 table references: the "
                            "rest of the image is not checked",
                            QCOW2_CHECK_MAX_L2_WALKS);
            c->gave_up = true;
            return;
        }
        qcow2_chk_add(c, off, c->cs, CK_L2, "L2 table");
        if (off + c->cs <= c->img->file_size)
            qcow2_chk_l2(c, off);
    }
}

/* Count the snapshot table and every snapshot's L1 tree. */
static void
qcow2_chk_snapshots(struct qcow2_chk *c)
{
    const struct qcow2_header *hd = &c->q->hdr;
    uint64_t pos = hd->snapshots_offset, start = pos;
    uint32_t i;

    for (i = 0; i < hd->nb_snapshots && !c->gave_up; i++) {
        struct qcow2_snapshot_disk s;
        uint64_t len, l1_off;
        uint32_t extra, l1_size;

        if (pos - start + sizeof s > QCOW2_MAX_SNAPSHOT_TABLE_BYTES ||
            pos + sizeof s > c->img->file_size) {
            vmc_check_error(c->r, "snapshot %" PRIu32 " at offset %" PRIu64
                            " is outside the file or the table limit", i,
                            pos);
            return;
        }
        if (vmc_file_pread_full(c->img->file, &s, sizeof s, pos) == -1) {
            vmc_check_error(c->r, "snapshot %" PRIu32 " at offset %" PRIu64
                            ": %s", i, pos, vmc_get_error(c->img->h));
            return;
        }
        extra = vmc_be32(&s.extra_data_size);
        if (extra > QCOW2_MAX_SNAPSHOT_EXTRA) {
            vmc_check_error(c->r, "snapshot %" PRIu32 " at offset %" PRIu64
                            ": extra data of %" PRIu32 " bytes is too large",
                            i, pos, extra);
            return;
        }
        len = vmc_round_up(sizeof s + extra + vmc_be16(&s.id_str_size) +
                           vmc_be16(&s.name_size), 8);
        l1_off = vmc_be64(&s.l1_table_offset);
        l1_size = vmc_be32(&s.l1_size);
        if (l1_size > QCOW2_MAX_L1_ENTRIES)
            vmc_check_error(c->r, "snapshot %" PRIu32 ": L1 table of %" PRIu32
                            " entries is too large", i, l1_size);
        else
            qcow2_chk_l1(c, l1_off, l1_size, CK_SNAPL1, "snapshot L1 table");
        pos += len;
    }
    if (hd->nb_snapshots > 0)
        qcow2_chk_add(c, start, pos - start, CK_SNAPTABLE, "snapshot table");
}

/* Count the bitmap directory, tables and data (when qemu would use the
 * bitmaps extension: autoclear bit 0 set).
 */
static void
qcow2_chk_bitmaps(struct qcow2_chk *c)
{
    const struct qcow2_bitmaps *b = &c->q->bitmaps;
    CLEANUP_FREE uint8_t *dir = NULL;
    uint64_t pos = 0;
    uint32_t i;

    if (!b->present || !(c->q->hdr.autoclear & QCOW2_AUTOCLEAR_BITMAPS))
        return;
    if (b->nb_bitmaps > QCOW2_MAX_BITMAPS ||
        b->directory_size > QCOW2_MAX_BITMAP_DIR_BYTES ||
        b->directory_offset % c->cs != 0) {
        vmc_check_error(c->r, "bitmaps extension: directory at offset %"
                        PRIu64 " size %" PRIu64 " for %" PRIu32 " bitmaps is "
                        "invalid", b->directory_offset, b->directory_size,
                        b->nb_bitmaps);
        return;
    }
    qcow2_chk_add(c, b->directory_offset, b->directory_size, CK_BITMAPDIR,
                  "bitmap directory");
    dir = qcow2_chk_read(c, b->directory_offset, b->directory_size,
                         "bitmap directory");
    if (dir == NULL)
        return;
    for (i = 0; i < b->nb_bitmaps; i++) {
        const struct qcow2_bitmap_dir_disk *d;
        CLEANUP_FREE uint8_t *t = NULL;
        uint64_t toff, len, j;
        uint32_t tsize;

        if (pos + sizeof *d > b->directory_size) {
            vmc_check_error(c->r, "bitmap directory: entry %" PRIu32
                            " is past the directory's end", i);
            return;
        }
        d = (const void *) (dir + pos);
        toff = vmc_be64(&d->table_offset);
        tsize = vmc_be32(&d->table_size);
        len = vmc_round_up(sizeof *d + vmc_be32(&d->extra_data_size) +
                           vmc_be16(&d->name_size), 8);
        pos += len;
        if (toff % c->cs != 0 || (uint64_t) tsize * 8 > VMC_MAX_ALLOC) {
            vmc_check_error(c->r, "bitmap %" PRIu32 ": table at offset %"
                            PRIu64 " with %" PRIu32 " entries is invalid", i,
                            toff, tsize);
            continue;
        }
        qcow2_chk_add(c, toff, (uint64_t) tsize * 8, CK_BITMAPTABLE,
                      "bitmap table");
        t = qcow2_chk_read(c, toff, (uint64_t) tsize * 8, "bitmap table");
        for (j = 0; t && j < tsize; j++) {
            uint64_t off = vmc_be64(t + j * 8) & QCOW2_BME_OFFSET_MASK;

            if (off % c->cs != 0)
                vmc_check_error(c->r, "bitmap %" PRIu32 ": data cluster "
                                "offset %" PRIu64 " is not aligned", i, off);
            else if (off != 0)
                qcow2_chk_add(c, off, c->cs, CK_BITMAPDATA, "bitmap data");
        }
    }
}

/* Refcount J of the refcount block BLK. */
static uint64_t
qcow2_refcount_get(const uint8_t *blk, uint64_t j, unsigned order)
{
    unsigned bits = 1u << order;

    switch (bits) {
    case 1: case 2: case 4:
        return (blk[j * bits / 8] >> ((j * bits) % 8)) & ((1u << bits) - 1);
    case 8:
        return blk[j];
    case 16:
        return vmc_be16(blk + j * 2);
    case 32:
        return vmc_be32(blk + j * 4);
    default:
        return vmc_be64(blk + j * 8);
    }
}

/* Count the refcount structures and compare the stored refcounts with
 * the computed ones.  RT is the refcount table, RT_ENTRIES long.
 */
static void
qcow2_chk_compare(struct qcow2_chk *c, const uint8_t *rt, uint64_t rt_entries)
{
    unsigned order = c->q->hdr.refcount_order;
    uint64_t block_entries = c->cs * 8 / (1u << order);
    uint64_t b, j;

    for (b = 0; b < rt_entries; b++) {
        uint64_t e = vmc_be64(rt + b * 8);
        uint64_t off = e & QCOW2_REFT_OFFSET_MASK;
        CLEANUP_FREE uint8_t *blk = NULL;

        if (off == 0)
            continue;
        if (e & QCOW2_REFT_RESERVED_MASK || off % c->cs != 0 ||
            off / c->cs >= c->nclusters)
            continue;                   /* reported while counting */
        blk = qcow2_chk_read(c, off, c->cs, "refcount block");
        if (blk == NULL)
            continue;
        for (j = 0; j < block_entries; j++) {
            uint64_t cl = b * block_entries + j;
            uint64_t stored = qcow2_refcount_get(blk, j, order);
            uint64_t computed = cl < c->nclusters ? c->ref[cl] : 0;

            if (stored == computed)
                continue;
            if (cl >= c->nclusters)
                vmc_check_error(c->r, "cluster %" PRIu64 " (offset %" PRIu64
                                ") past the end of the file has refcount %"
                                PRIu64, cl, cl * c->cs, stored);
            else if (computed == 0)
                vmc_check_leak(c->r, "cluster %" PRIu64 " (offset %" PRIu64
                               ") has refcount %" PRIu64 " but nothing uses it",
                               cl, cl * c->cs, stored);
            else
                vmc_check_error(c->r, "cluster %" PRIu64 " (offset %" PRIu64
                                ") has refcount %" PRIu64 " but is used %"
                                PRIu64 " times (%s)", cl, cl * c->cs, stored,
                                computed, qcow2_ckind_names[c->kind[cl]]);
        }
        /* Mark this block's clusters as compared. */
        for (j = 0; j < block_entries; j++) {
            uint64_t cl = b * block_entries + j;

            if (cl < c->nclusters)
                c->kind[cl] |= 0x80;
        }
    }
    /* Clusters in use that no refcount block covers have refcount 0. */
    for (j = 0; j < c->nclusters; j++) {
        if (c->kind[j] & 0x80) {
            c->kind[j] &= 0x7f;
            continue;
        }
        if (c->ref[j] != 0)
            vmc_check_error(c->r, "cluster %" PRIu64 " (offset %" PRIu64
                            ", %s) is used %" PRIu32 " times but no refcount "
                            "block covers it", j, j * c->cs,
                            qcow2_ckind_names[c->kind[j]], c->ref[j]);
    }
}

/* Count the refcount table and its blocks. */
static uint8_t *
qcow2_chk_reftable(struct qcow2_chk *c, uint64_t *entries)
{
    const struct qcow2_header *hd = &c->q->hdr;
    uint64_t len = (uint64_t) hd->refcount_table_clusters * c->cs, b;
    uint8_t *rt;

    qcow2_chk_add(c, hd->refcount_table_offset, len, CK_REFTABLE,
                  "refcount table");
    rt = qcow2_chk_read(c, hd->refcount_table_offset, len, "refcount table");
    if (rt == NULL)
        return NULL;
    *entries = len / 8;
    for (b = 0; b < *entries; b++) {
        uint64_t e = vmc_be64(rt + b * 8);
        uint64_t off = e & QCOW2_REFT_OFFSET_MASK;

        if (e & QCOW2_REFT_RESERVED_MASK)
            vmc_check_error(c->r, "refcount table entry %" PRIu64 ": reserved "
                            "bits set (0x%016" PRIx64 ")", b, e);
        else if (off % c->cs != 0)
            vmc_check_error(c->r, "refcount table entry %" PRIu64 ": block "
                            "offset %" PRIu64 " is not cluster aligned", b,
                            off);
        else if (off != 0)
            qcow2_chk_add(c, off, c->cs, CK_REFBLOCK, "refcount block");
    }
    return rt;
}

/* The computed refcount of the cluster at OFF (0 outside the file). */
static uint32_t
qcow2_chk_ref(const struct qcow2_chk *c, uint64_t off)
{
    return off / c->cs < c->nclusters ? c->ref[off / c->cs] : 0;
}

/* COPIED flags of the active tables: set exactly when the refcount is
 * one (qemu relies on them to write in place).
 */
static void
qcow2_chk_copied(struct qcow2_chk *c)
{
    struct qcow2 *q = c->q;
    const struct qcow2_header *hd = &q->hdr;
    CLEANUP_FREE uint8_t *l1 = NULL;
    uint32_t i, j;

    if (hd->l1_size == 0)
        return;
    l1 = qcow2_chk_read(c, hd->l1_table_offset, (uint64_t) hd->l1_size * 8,
                        "L1 table");
    for (i = 0; l1 && i < hd->l1_size; i++) {
        uint64_t e = vmc_be64(l1 + (size_t) i * 8);
        uint64_t off = e & QCOW2_L1_OFFSET_MASK;
        CLEANUP_FREE uint8_t *t = NULL;
        uint32_t rc;

        if (off == 0 || off % c->cs != 0 || (e & QCOW2_L1_RESERVED_MASK) ||
            off + c->cs > c->img->file_size)
            continue;
        rc = qcow2_chk_ref(c, off);
        if (((e & QCOW2_OFLAG_COPIED) != 0) != (rc == 1))
            vmc_check_error(c->r, "L1 entry %" PRIu32 ": COPIED flag is %s "
                            "but the L2 table at offset %" PRIu64 " has "
                            "refcount %" PRIu32, i,
                            (e & QCOW2_OFLAG_COPIED) ? "set" : "clear", off,
                            rc);
        if (q->external)
            continue;           /* data clusters are not refcounted */
        t = qcow2_chk_read(c, off, c->cs, "L2 table");
        for (j = 0; t && j < q->l2_entries; j++) {
            uint64_t le = vmc_be64(t + (size_t) j * q->l2_entry_size);
            uint64_t host = le & QCOW2_L2_OFFSET_MASK;

            if ((le & QCOW2_OFLAG_COMPRESSED) || host == 0 ||
                host % c->cs != 0 || (le & QCOW2_L2_RESERVED_MASK))
                continue;
            rc = qcow2_chk_ref(c, host);
            if (((le & QCOW2_OFLAG_COPIED) != 0) != (rc == 1))
                vmc_check_error(c->r, "L2 table at offset %" PRIu64 ", entry %"
                                PRIu32 ": COPIED flag is %s but the data "
                                "cluster at offset %" PRIu64 " has refcount %"
                                PRIu32, off, j,
                                (le & QCOW2_OFLAG_COPIED) ? "set" : "clear",
                                host, rc);
        }
    }
}

int
qcow2_check(struct vmc_image *img, struct vmc_check_result *r)
{
    struct qcow2 *q = img->priv;
    struct qcow2_chk c = { 0 };
    CLEANUP_FREE uint8_t *rt = NULL;
    uint64_t rt_entries = 0;

    if (q->writer) {
        vmc_error_kind(img->h, VMC_ERR_UNSUPPORTED,
                       "%s: checking a qcow2 image while it is being "
                       "created is not supported", img->path);
        return -1;
    }
    c.img = img;
    c.q = q;
    c.r = r;
    c.cs = q->cluster_size;
    c.nclusters = vmc_div_round_up(img->file_size, c.cs);
    c.ref = vmc_calloc(img->h, img->path, c.nclusters ? c.nclusters : 1,
                       sizeof *c.ref, "refcount check");
    c.kind = vmc_calloc(img->h, img->path, c.nclusters ? c.nclusters : 1,
                        1, "refcount check");
    if (c.ref == NULL || c.kind == NULL) {
        free(c.ref);
        free(c.kind);
        return -1;
    }
    if (q->hdr.incompatible & QCOW2_INCOMPAT_DIRTY)
        vmc_check_note(r, "the dirty bit is set: refcounts may be stale "
                       "(lazy refcounts)");
    if (q->hdr.incompatible & QCOW2_INCOMPAT_CORRUPT)
        vmc_check_error(r, "the image is marked corrupt");

    qcow2_chk_add(&c, 0, c.cs, CK_HEADER, "header");
    qcow2_chk_l1(&c, q->hdr.l1_table_offset, q->hdr.l1_size, CK_L1,
                 "L1 table");
    rt = qcow2_chk_reftable(&c, &rt_entries);
    qcow2_chk_snapshots(&c);
    qcow2_chk_bitmaps(&c);
    if (rt)
        qcow2_chk_compare(&c, rt, rt_entries);
    qcow2_chk_copied(&c);
    free(c.ref);
    free(c.kind);
    return 0;
}
