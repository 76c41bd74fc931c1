/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmdk: structural check of sparse extents.  Walks every grain
 * directory and grain table entry: tables and grains must lie in the
 * file, clear of the metadata and of each other; stream grain markers
 * must name their grain; the redundant directory must match the
 * primary.  Grains nobody references are counted as leaks.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk-internal.h"

/* One allocated grain: where it is and how many sectors it spans. */
struct check_grain {
    uint64_t sector;
    uint64_t span;
    uint64_t lba;               /* virtual sector (for messages) */
};

struct check_ctx {
    struct vmc_handle *h;
    struct vmdk_sparse *s;
    struct vmc_check_result *r;
    struct check_grain *grains;
    size_t ngrains;
    size_t cap;
    bool no_overlap_check;      /* too many grains to remember */
};

static int
check_cmp_grain(const void *a, const void *b)
{
    const struct check_grain *x = a, *y = b;

    return x->sector < y->sector ? -1 : x->sector > y->sector;
}

static void
check_add_grain(struct check_ctx *c, uint64_t sector, uint64_t span,
                uint64_t lba)
{
    if (c->no_overlap_check)
        return;
    if (c->ngrains == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        struct check_grain *n;

        if (ncap * sizeof *n > VMC_MAX_ALLOC ||
            (n = realloc(c->grains, ncap * sizeof *n)) == NULL) {
            vmc_check_note(c->r, "%s: too many grains to check for shared "
                           "grains and leaks", c->s->path);
            c->no_overlap_check = true;
            return;
        }
        c->grains = n;
        c->cap = ncap;
    }
    c->grains[c->ngrains].sector = sector;
    c->grains[c->ngrains].span = span;
    c->grains[c->ngrains].lba = lba;
    c->ngrains++;
}

/* True if the sector range [S, S + N) overlaps the hosted metadata
 * (header, descriptor, grain directories).  Grain tables are checked
 * through the grain list.
 */
static bool
check_in_metadata(const struct vmdk_sparse *s, uint64_t sector, uint64_t n)
{
    uint64_t gds = vmc_div_round_up(s->gd_entries * s->entry_size,
                                    VMDK_SECTOR);

#define OVERLAP(a, len) ((a) < sector + n && sector < (a) + (len))
    if (sector == 0)
        return true;
    if (s->kind == VMDK_SPARSE_COWD)
        return sector < s->overhead || OVERLAP(s->gd_offset, gds);
    if (s->desc_offset && OVERLAP(s->desc_offset, s->desc_size))
        return true;
    if (OVERLAP(s->gd_offset, gds))
        return true;
    if ((s->flags & VMDK4_FLAG_RGD) && s->rgd_offset &&
        OVERLAP(s->rgd_offset, gds))
        return true;
#undef OVERLAP
    return false;
}

/* Check the marker of the compressed grain at SECTOR for virtual
 * sector LBA; returns the sectors it spans, or 0 if it is damaged.
 */
static uint64_t
check_marker(struct check_ctx *c, uint64_t sector, uint64_t lba)
{
    struct vmdk_sparse *s = c->s;
    struct vmdk_grain_marker_disk mk;
    uint64_t off = sector * VMDK_SECTOR, size;

    if (!s->markers)
        return 1;
    if (off + sizeof mk > s->file_size) {
        vmc_check_error(c->r, "%s: grain for sector %" PRIu64 " at sector %"
                        PRIu64 " is past the end of the file", s->path, lba,
                        sector);
        return 0;
    }
    if (vmc_file_pread_full(s->file, &mk, sizeof mk, off) == -1) {
        vmc_check_error(c->r, "%s: reading the grain marker at sector %"
                        PRIu64 " failed", s->path, sector);
        return 0;
    }
    size = vmc_le32(&mk.size);
    if (vmc_le64(&mk.lba) != lba) {
        vmc_check_error(c->r, "%s: grain marker at sector %" PRIu64 " says "
                        "lba %" PRIu64 ", the grain table expects %" PRIu64,
                        s->path, sector, vmc_le64(&mk.lba), lba);
        return 0;
    }
    if (size == 0 || size > 2 * s->grain * VMDK_SECTOR ||
        off + sizeof mk + size > s->file_size) {
        vmc_check_error(c->r, "%s: grain marker at sector %" PRIu64 ": "
                        "compressed size %" PRIu64 " is not valid", s->path,
                        sector, size);
        return 0;
    }
    return vmc_div_round_up(sizeof mk + size, VMDK_SECTOR);
}

/* Check one grain table entry E of grain G. */
static void
check_gte(struct check_ctx *c, uint64_t g, uint64_t e)
{
    struct vmdk_sparse *s = c->s;
    uint64_t lba = g * s->grain, span = s->grain, sector;
    uint64_t cap_left = s->capacity - lba;

    if (cap_left < span)
        span = cap_left;
    if (s->kind == VMDK_SPARSE_SE) {
        uint64_t idx;

        switch (e >> 60) {
        case 0:
            if (e != 0)
                vmc_check_error(c->r, "%s: grain table entry 0x%016" PRIx64
                                " for sector %" PRIu64 " is not valid",
                                s->path, e, lba);
            return;
        case 1:
        case 2:
            return;
        case 3:
            idx = ((e & 0x0FFF000000000000ull) >> 48) |
                  ((e & 0x0000FFFFFFFFFFFFull) << 12);
            if (idx >= s->se_grains_size / s->grain) {
                vmc_check_error(c->r, "%s: grain for sector %" PRIu64
                                " (index %" PRIu64 ") is outside the grain "
                                "area", s->path, lba, idx);
                return;
            }
            sector = s->se_grains_offset + idx * s->grain;
            /* The file ends after the last grain ESXi allocated. */
            if ((sector + span) * VMDK_SECTOR > s->file_size) {
                vmc_check_error(c->r, "%s: grain for sector %" PRIu64
                                " at sector %" PRIu64 " is past the end of "
                                "the file", s->path, lba, sector);
                return;
            }
            check_add_grain(c, sector, s->grain, lba);
            return;
        default:
            vmc_check_error(c->r, "%s: grain table entry 0x%016" PRIx64
                            " for sector %" PRIu64 " has an unknown type",
                            s->path, e, lba);
            return;
        }
    }
    if (e == 0 || (e == VMDK4_GTE_ZEROED && s->zeroed_grain))
        return;
    sector = e;
    if (s->compressed) {
        span = check_marker(c, sector, lba);
        if (span == 0)
            return;
    } else if (sector < s->overhead) {
        vmc_check_error(c->r, "%s: grain for sector %" PRIu64 " at sector %"
                        PRIu64 " is inside the metadata (overHead %" PRIu64
                        ")", s->path, lba, sector, s->overhead);
        return;
    }
    if ((sector + span) * VMDK_SECTOR > s->file_size) {
        vmc_check_error(c->r, "%s: grain for sector %" PRIu64 " at sector %"
                        PRIu64 " is past the end of the file", s->path, lba,
                        sector);
        return;
    }
    if (check_in_metadata(s, sector, span)) {
        vmc_check_error(c->r, "%s: grain for sector %" PRIu64 " at sector %"
                        PRIu64 " overlaps the header, descriptor or grain "
                        "directory", s->path, lba, sector);
        return;
    }
    check_add_grain(c, sector, span, lba);
}

/* Sector of the grain table GDE points at, or 0 if it is not valid. */
static uint64_t
check_gt_sector(struct check_ctx *c, uint64_t gdi, uint64_t gde)
{
    struct vmdk_sparse *s = c->s;
    uint64_t sector;

    if (s->kind == VMDK_SPARSE_SE) {
        uint64_t idx = gde & ~VMDK_SE_GDE_TYPE_MASK;

        if ((gde & VMDK_SE_GDE_TYPE_MASK) != VMDK_SE_GDE_ALLOCATED ||
            (idx + 1) * s->gt_sectors > s->se_gt_size) {
            vmc_check_error(c->r, "%s: grain directory entry %" PRIu64
                            " (0x%016" PRIx64 ") is not valid", s->path, gdi,
                            gde);
            return 0;
        }
        sector = s->se_gt_offset + idx * s->gt_sectors;
        if ((sector + s->gt_sectors) * VMDK_SECTOR > s->file_size) {
            vmc_check_error(c->r, "%s: grain directory entry %" PRIu64
                            ": grain table at sector %" PRIu64 " is past "
                            "the end of the file", s->path, gdi, sector);
            return 0;
        }
        return sector;
    }
    sector = gde;
    if ((sector + s->gt_sectors) * VMDK_SECTOR > s->file_size) {
        vmc_check_error(c->r, "%s: grain directory entry %" PRIu64 ": grain "
                        "table at sector %" PRIu64 " is past the end of the "
                        "file", s->path, gdi, sector);
        return 0;
    }
    if (check_in_metadata(s, sector, s->gt_sectors)) {
        vmc_check_error(c->r, "%s: grain directory entry %" PRIu64 ": grain "
                        "table at sector %" PRIu64 " overlaps the header, "
                        "descriptor or grain directory", s->path, gdi,
                        sector);
        return 0;
    }
    return sector;
}

static uint64_t
check_entry(const struct vmdk_sparse *s, const uint8_t *p, uint64_t i)
{
    return s->entry_size == 8 ? vmc_le64(p + i * 8) : vmc_le32(p + i * 4);
}

/* Walk the primary directory and its tables. */
static void
check_tables(struct check_ctx *c, uint8_t *gt)
{
    struct vmdk_sparse *s = c->s;
    size_t gtb = s->gt_entries * s->entry_size;
    uint64_t gdi, i, total_grains;

    total_grains = vmc_div_round_up(s->capacity, s->grain);
    for (gdi = 0; gdi < s->gd_entries; gdi++) {
        uint64_t gde = check_entry(s, s->gd, gdi), sector;

        if (gde == 0)
            continue;
        sector = check_gt_sector(c, gdi, gde);
        if (sector == 0)
            continue;
        if (vmc_file_pread_full(s->file, gt, gtb,
                                sector * VMDK_SECTOR) == -1) {
            vmc_check_error(c->r, "%s: reading grain table %" PRIu64
                            " failed", s->path, gdi);
            continue;
        }
        if (s->kind != VMDK_SPARSE_SE)
            check_add_grain(c, sector, s->gt_sectors, UINT64_MAX);
        for (i = 0; i < s->gt_entries; i++) {
            uint64_t g = gdi * s->gt_entries + i;

            if (g >= total_grains)
                break;
            check_gte(c, g, check_entry(s, gt, i));
        }
    }
}

/* Redundant directory and tables must equal the primary ones. */
static void
check_redundant(struct check_ctx *c, uint8_t *gt)
{
    struct vmdk_sparse *s = c->s;
    size_t gtb = s->gt_entries * 4;
    uint64_t gd_bytes = s->gd_entries * 4, gdi;
    CLEANUP_FREE uint8_t *rgd = NULL;
    CLEANUP_FREE uint8_t *rgt = NULL;
    uint64_t differ = 0;

    if (s->kind != VMDK_SPARSE_HOSTED || !(s->flags & VMDK4_FLAG_RGD) ||
        s->rgd_offset == 0)
        return;
    if (s->rgd_offset > s->file_size / VMDK_SECTOR ||
        s->rgd_offset * VMDK_SECTOR + gd_bytes > s->file_size) {
        vmc_check_error(c->r, "%s: the redundant grain directory at sector %"
                        PRIu64 " is past the end of the file", s->path,
                        s->rgd_offset);
        return;
    }
    rgd = malloc(gd_bytes ? gd_bytes : 1);
    rgt = malloc(gtb);
    if (rgd == NULL || rgt == NULL ||
        vmc_file_pread_full(s->file, rgd, gd_bytes,
                            s->rgd_offset * VMDK_SECTOR) == -1) {
        vmc_check_note(c->r, "%s: could not read the redundant grain "
                       "directory", s->path);
        return;
    }
    for (gdi = 0; gdi < s->gd_entries; gdi++) {
        uint64_t p = check_entry(s, s->gd, gdi), r = check_entry(s, rgd, gdi);

        if ((p == 0) != (r == 0)) {
            differ++;
            continue;
        }
        if (p == 0)
            continue;
        if ((p + s->gt_sectors) * VMDK_SECTOR > s->file_size ||
            (r + s->gt_sectors) * VMDK_SECTOR > s->file_size) {
            differ++;
            continue;
        }
        check_add_grain(c, r, s->gt_sectors, UINT64_MAX);
        if (vmc_file_pread_full(s->file, gt, gtb, p * VMDK_SECTOR) == -1 ||
            vmc_file_pread_full(s->file, rgt, gtb, r * VMDK_SECTOR) == -1 ||
            memcmp(gt, rgt, gtb) != 0)
            differ++;
    }
    if (differ)
        vmc_check_note(c->r, "%s: %" PRIu64 " grain tables of the redundant "
                       "copy differ from the primary ones (readers use the "
                       "primary)", s->path, differ);
}

/* Sort the grains and tables: none may overlap another; sectors of the
 * grain area nobody references are leaks.
 */
static void
check_overlaps_and_leaks(struct check_ctx *c)
{
    struct vmdk_sparse *s = c->s;
    uint64_t end = 0, leaked = 0, file_sectors = s->file_size / VMDK_SECTOR;
    size_t i;

    if (c->no_overlap_check || c->ngrains == 0)
        return;
    qsort(c->grains, c->ngrains, sizeof *c->grains, check_cmp_grain);
    for (i = 0; i < c->ngrains; i++) {
        const struct check_grain *g = &c->grains[i];

        if (i > 0 && g->sector < end) {
            const struct check_grain *p = &c->grains[i - 1];

            if (g->lba == UINT64_MAX || p->lba == UINT64_MAX)
                vmc_check_error(c->r, "%s: sector %" PRIu64 " is used by a "
                                "grain table and by another table or grain",
                                s->path, g->sector);
            else
                vmc_check_error(c->r, "%s: grains for sectors %" PRIu64
                                " and %" PRIu64 " share file sector %" PRIu64,
                                s->path, p->lba, g->lba, g->sector);
        }
        if (g->sector + g->span > end)
            end = g->sector + g->span;
    }
    /* Leaks: only where grains are appended after the metadata (not
     * compressed streams, whose tables follow the grains).
     */
    if (s->kind != VMDK_SPARSE_HOSTED || s->compressed)
        return;
    end = s->overhead;
    for (i = 0; i < c->ngrains; i++) {
        const struct check_grain *g = &c->grains[i];

        if (g->sector + g->span <= s->overhead)
            continue;
        if (g->sector > end)
            leaked += (g->sector - end) / s->grain * s->grain;
        if (g->sector + g->span > end)
            end = g->sector + g->span;
    }
    /* Gaps shorter than a grain follow a last, partial grain. */
    if (file_sectors > end)
        leaked += (file_sectors - end) / s->grain * s->grain;
    if (leaked > 0)
        vmc_check_leak(c->r, "%s: %" PRIu64 " bytes after the metadata are "
                       "not used by any grain", s->path,
                       leaked * VMDK_SECTOR);
}

void
vmdk_sparse_check(struct vmc_handle *h, struct vmdk_sparse *s,
                  struct vmc_check_result *r)
{
    struct check_ctx c = { .h = h, .s = s, .r = r };
    CLEANUP_FREE uint8_t *gt = malloc(s->gt_entries * s->entry_size);

    if (gt == NULL) {
        vmc_check_note(r, "%s: out of memory", s->path);
        return;
    }
    if (s->unclean)
        vmc_check_note(r, "%s: the extent was not closed cleanly (dirty)",
                       s->path);
    check_tables(&c, gt);
    check_redundant(&c, gt);
    check_overlaps_and_leaks(&c);
    free(c.grains);
}

int
vmdk_check(struct vmc_image *img, struct vmc_check_result *r)
{
    struct vmdk *v = img->priv;
    size_t i;

    if (v->w) {
        vmc_error(img->h, "%s: checking an image being created is not "
                  "supported", img->path);
        return -1;
    }
    for (i = 0; i < v->nextents; i++)
        if (v->extents[i].sparse)
            vmdk_sparse_check(img->h, v->extents[i].sparse, r);
    return 0;
}
