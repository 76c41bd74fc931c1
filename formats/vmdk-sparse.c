/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmdk: sparse extents.  Hosted sparse ("KDMV", including the
 * compressed streamOptimized variant), ESXi vmfsSparse redo logs
 * ("COWD") and ESXi seSparse: header validation, the grain directory,
 * a small cache of grain tables, and grain lookups.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "vmdk-internal.h"

/* Grain tables kept in memory per extent (direct mapped by index). */
#define VMDK_GT_CACHE_SLOTS 64
/* First read of a compressed grain: its marker and most grains. */
#define VMDK_GRAIN_READ (32u * 1024)

struct vmdk_gt_slot {
    bool valid;
    uint64_t gdi;
    uint8_t *data;
};

int
vmdk_sparse_magic(const uint8_t *buf, size_t len)
{
    if (len >= 4 && vmc_le32(buf) == VMDK4_MAGIC)
        return VMDK_SPARSE_HOSTED;
    if (len >= 4 && vmc_le32(buf) == VMDK_COWD_MAGIC)
        return VMDK_SPARSE_COWD;
    if (len >= 8 && vmc_le64(buf) == VMDK_SE_MAGIC)
        return VMDK_SPARSE_SE;
    return -1;
}

void
vmdk_sparse_free(struct vmdk_sparse *s)
{
    size_t i;

    if (s == NULL)
        return;
    if (s->cache) {
        for (i = 0; i < VMDK_GT_CACHE_SLOTS; i++)
            free(s->cache[i].data);
        free(s->cache);
    }
    pthread_mutex_destroy(&s->lock);
    free(s->gd);
    free(s);
}

/* ---- Hosted sparse ("KDMV") --------------------------------------- */

/* Decode and check the hosted header D (the header, or the stream
 * footer when FOOTER) into S.
 */
static int
sparse_decode_hosted(struct vmc_handle *h, struct vmdk_sparse *s,
                     const struct vmdk4_header_disk *d, bool footer)
{
    const char *path = s->path;
    const char *what = footer ? "footer" : "header";
    uint16_t alg;
    uint64_t coverage;

    s->version = vmc_le32(&d->version);
    s->flags = vmc_le32(&d->flags);
    s->capacity = vmc_le64(&d->capacity);
    s->grain = vmc_le64(&d->grain_size);
    s->desc_offset = vmc_le64(&d->desc_offset);
    s->desc_size = vmc_le64(&d->desc_size);
    s->gt_entries = vmc_le32(&d->num_gtes_per_gt);
    s->rgd_offset = vmc_le64(&d->rgd_offset);
    s->gd_offset = vmc_le64(&d->gd_offset);
    s->overhead = vmc_le64(&d->overhead);
    s->unclean = d->unclean_shutdown != 0;
    alg = vmc_le16(&d->compress_algorithm);

    if (vmc_le32(&d->magic) != VMDK4_MAGIC) {
        vmc_error(h, "%s: sparse %s: bad magic number", path, what);
        return -1;
    }
    if (s->version < 1 || s->version > 3) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: sparse %s: version %" PRIu32 " is not supported "
                       "(1 to 3 are)", path, what, s->version);
        return -1;
    }
    if (s->flags & VMDK4_FLAGS_INCOMPAT & ~VMDK4_FLAGS_KNOWN_INCOMPAT) {
        vmc_error(h, "%s: sparse %s: unknown incompatible flags 0x%08" PRIx32,
                  path, what, s->flags);
        return -1;
    }
    if ((s->flags & VMDK4_FLAG_NL_DETECT) &&
        (d->nl_single != '\n' || d->nl_non != ' ' || d->nl_double1 != '\r' ||
         d->nl_double2 != '\n')) {
        vmc_error(h, "%s: sparse %s: the newline detection bytes at offset "
                  "73 are damaged (was the file copied in text mode?)",
                  path, what);
        return -1;
    }
    if ((s->flags & VMDK4_FLAG_MARKER) && !(s->flags & VMDK4_FLAG_COMPRESS)) {
        vmc_error(h, "%s: sparse %s: flags 0x%08" PRIx32 " ask for markers "
                  "without compression", path, what, s->flags);
        return -1;
    }
    s->compressed = (s->flags & VMDK4_FLAG_COMPRESS) != 0;
    s->markers = (s->flags & VMDK4_FLAG_MARKER) != 0;
    s->zeroed_grain = (s->flags & VMDK4_FLAG_ZERO_GRAIN) != 0;
    if (alg > VMDK4_COMPRESS_DEFLATE ||
        (s->compressed && alg != VMDK4_COMPRESS_DEFLATE) ||
        (!s->compressed && alg != VMDK4_COMPRESS_NONE)) {
        vmc_error(h, "%s: sparse %s: compression algorithm %u does not "
                  "match flags 0x%08" PRIx32, path, what, alg, s->flags);
        return -1;
    }
    if (s->zeroed_grain && s->version < 2) {
        vmc_error(h, "%s: sparse %s: the zeroed-grain flag needs version 2 "
                  "or later (version is %" PRIu32 ")", path, what,
                  s->version);
        return -1;
    }
    if (s->capacity == 0 || s->capacity > VMDK_MAX_SECTORS) {
        vmc_error(h, "%s: sparse %s: capacity %" PRIu64 " sectors is not "
                  "supported (1 to %llu)", path, what, s->capacity,
                  VMDK_MAX_SECTORS);
        return -1;
    }
    if (!vmc_is_pow2(s->grain) || s->grain > VMDK_MAX_GRAIN) {
        vmc_error(h, "%s: sparse %s: grain size %" PRIu64 " sectors is not "
                  "a power of two between 1 and %llu", path, what, s->grain,
                  VMDK_MAX_GRAIN);
        return -1;
    }
    if (!vmc_is_pow2(s->gt_entries) || s->gt_entries < VMDK_MIN_GTES ||
        s->gt_entries > VMDK_MAX_GTES) {
        vmc_error(h, "%s: sparse %s: %" PRIu64 " entries per grain table is "
                  "not a power of two between %u and %u", path, what,
                  s->gt_entries, VMDK_MIN_GTES, VMDK_MAX_GTES);
        return -1;
    }
    coverage = s->gt_entries * s->grain;
    s->gd_entries = vmc_div_round_up(s->capacity, coverage);
    if (s->gd_entries > VMDK_MAX_GD_ENTRIES) {
        vmc_error(h, "%s: sparse %s: capacity %" PRIu64 " sectors needs %"
                  PRIu64 " grain directory entries, more than the %llu "
                  "supported", path, what, s->capacity, s->gd_entries,
                  VMDK_MAX_GD_ENTRIES);
        return -1;
    }
    s->entry_size = 4;
    s->gt_sectors = vmc_div_round_up(s->gt_entries * 4, VMDK_SECTOR);
    return 0;
}

/* Read the stream footer (spec §3 layout 1) and take its header. */
static int
sparse_read_footer(struct vmc_handle *h, struct vmdk_sparse *s)
{
    uint8_t buf[3 * VMDK_SECTOR];
    const struct vmdk_meta_marker_disk *fm = (const void *) buf;
    const struct vmdk_meta_marker_disk *eos = (const void *) (buf + 1024);
    uint64_t off;

    if (s->file_size < 4 * VMDK_SECTOR) {
        vmc_error(h, "%s: sparse header: gdOffset is GD_AT_END but the file "
                  "is too small to hold a stream footer", s->path);
        return -1;
    }
    off = s->file_size - 3 * VMDK_SECTOR;
    if (vmc_file_pread_full(s->file, buf, sizeof buf, off) == -1)
        return -1;
    if (vmc_le32(&fm->size) != 0 || vmc_le32(&fm->type) != VMDK_MARKER_FOOTER ||
        vmc_le32(buf + 512) != VMDK4_MAGIC) {
        vmc_error(h, "%s: sparse header: gdOffset is GD_AT_END but there is "
                  "no valid stream footer at offset %" PRIu64, s->path, off);
        return -1;
    }
    if (vmc_le64(&eos->num_sectors) != 0 || vmc_le32(&eos->size) != 0 ||
        vmc_le32(&eos->type) != VMDK_MARKER_EOS) {
        vmc_error(h, "%s: stream footer: no end-of-stream marker at offset %"
                  PRIu64, s->path, off + 1024);
        return -1;
    }
    if (sparse_decode_hosted(h, s, (const void *) (buf + 512), true) == -1)
        return -1;
    if (s->gd_offset == VMDK4_GD_AT_END) {
        vmc_error(h, "%s: stream footer at offset %" PRIu64 ": gdOffset is "
                  "GD_AT_END", s->path, off + 512);
        return -1;
    }
    s->footer = true;
    return 0;
}

static int
sparse_read_embedded_desc(struct vmc_handle *h, struct vmdk_sparse *s,
                          char **desc)
{
    uint64_t off, len;
    char *text;

    *desc = NULL;
    if (s->desc_offset == 0 || s->desc_size == 0)
        return 0;
    if (vmc_mul_overflow(s->desc_size, VMDK_SECTOR, &len) ||
        len > VMDK_MAX_DESC_SIZE) {
        vmc_error(h, "%s: sparse header: embedded descriptor of %" PRIu64
                  " sectors is larger than %u bytes", s->path, s->desc_size,
                  VMDK_MAX_DESC_SIZE);
        return -1;
    }
    if (vmc_mul_overflow(s->desc_offset, VMDK_SECTOR, &off)) {
        vmc_error(h, "%s: sparse header: descriptor offset %" PRIu64
                  " sectors is past the end of the file", s->path,
                  s->desc_offset);
        return -1;
    }
    if (vmc_check_range(h, s->path, s->file_size, off, len,
                        "embedded descriptor") == -1)
        return -1;
    text = malloc(len + 1);
    if (text == NULL) {
        vmc_error(h, "%s: %m", s->path);
        return -1;
    }
    if (vmc_file_pread_full(s->file, text, len, off) == -1) {
        free(text);
        return -1;
    }
    text[len] = '\0';
    if (text[0] == '\0') {
        free(text);             /* reserved but empty (qemu's split extents) */
        return 0;
    }
    *desc = text;
    return 0;
}

static int
sparse_open_hosted(struct vmc_handle *h, struct vmdk_sparse *s,
                   const uint8_t *head, char **desc)
{
    uint64_t gd_bytes, off;

    if (sparse_decode_hosted(h, s, (const void *) head, false) == -1)
        return -1;
    if (desc && sparse_read_embedded_desc(h, s, desc) == -1)
        return -1;
    if (s->gd_offset == VMDK4_GD_AT_END) {
        if (!s->compressed) {
            vmc_error(h, "%s: sparse header: gdOffset is GD_AT_END in an "
                      "extent that is not streamOptimized", s->path);
            return -1;
        }
        if (sparse_read_footer(h, s) == -1)
            return -1;
    }
    if (s->gd_offset == 0) {
        vmc_error(h, "%s: sparse header: the grain directory offset is 0",
                  s->path);
        return -1;
    }
    if (!s->compressed && s->overhead > s->file_size / VMDK_SECTOR) {
        vmc_error(h, "%s: sparse header: overHead of %" PRIu64 " sectors is "
                  "past the end of the file (%" PRIu64 " bytes)", s->path,
                  s->overhead, s->file_size);
        return -1;
    }
    gd_bytes = s->gd_entries * 4;
    if (vmc_mul_overflow(s->gd_offset, VMDK_SECTOR, &off)) {
        vmc_error(h, "%s: sparse header: grain directory offset %" PRIu64
                  " sectors is past the end of the file", s->path,
                  s->gd_offset);
        return -1;
    }
    if (vmc_check_range(h, s->path, s->file_size, off, gd_bytes,
                        "grain directory") == -1)
        return -1;
    s->gd = vmc_malloc(h, s->path, gd_bytes, "grain directory");
    if (s->gd == NULL)
        return -1;
    return vmc_file_pread_full(s->file, s->gd, gd_bytes, off);
}

/* ---- ESXi vmfsSparse ("COWD") ------------------------------------- */

static int
sparse_open_cowd(struct vmc_handle *h, struct vmdk_sparse *s)
{
    struct vmdk_cowd_header_disk d;
    uint64_t need, gd_bytes, off;

    if (vmc_file_pread_full(s->file, &d, sizeof d, 0) == -1)
        return -1;
    s->version = vmc_le32(&d.version);
    s->flags = vmc_le32(&d.flags);
    s->capacity = vmc_le32(&d.num_sectors);
    s->grain = vmc_le32(&d.grain_size);
    s->gd_offset = vmc_le32(&d.gd_offset);
    s->gd_entries = vmc_le32(&d.num_gd_entries);
    s->unclean = vmc_le32(&d.unclean_shutdown) != 0;
    s->gt_entries = VMDK_COWD_GT_ENTRIES;
    s->entry_size = 4;
    s->gt_sectors = VMDK_COWD_GT_ENTRIES * 4 / VMDK_SECTOR;
    s->overhead = sizeof d / VMDK_SECTOR;

    if (s->version != 1) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: COWD header: version %" PRIu32 " is not supported",
                       s->path, s->version);
        return -1;
    }
    if (s->capacity == 0) {
        vmc_error(h, "%s: COWD header: capacity is 0", s->path);
        return -1;
    }
    if (s->grain == 0 || s->grain > VMDK_MAX_GRAIN) {
        vmc_error(h, "%s: COWD header: grain size %" PRIu64 " sectors is not "
                  "between 1 and %llu", s->path, s->grain, VMDK_MAX_GRAIN);
        return -1;
    }
    need = vmc_div_round_up(s->capacity, s->grain * VMDK_COWD_GT_ENTRIES);
    if (s->gd_entries < need || s->gd_entries > VMDK_MAX_GD_ENTRIES) {
        vmc_error(h, "%s: COWD header: %" PRIu64 " grain directory entries "
                  "do not fit a capacity of %" PRIu64 " sectors (%" PRIu64
                  " needed)", s->path, s->gd_entries, s->capacity, need);
        return -1;
    }
    if (s->gd_offset < s->overhead) {
        vmc_error(h, "%s: COWD header: grain directory offset %" PRIu64
                  " overlaps the header", s->path, s->gd_offset);
        return -1;
    }
    gd_bytes = s->gd_entries * 4;
    off = s->gd_offset * VMDK_SECTOR;
    if (vmc_check_range(h, s->path, s->file_size, off, gd_bytes,
                        "grain directory") == -1)
        return -1;
    s->gd = vmc_malloc(h, s->path, gd_bytes, "grain directory");
    if (s->gd == NULL)
        return -1;
    return vmc_file_pread_full(s->file, s->gd, gd_bytes, off);
}

/* ---- ESXi seSparse ------------------------------------------------ */

/* Check that the area [OFF, OFF + SIZE) sectors can be addressed and,
 * if IN_FILE, lies in the file.  ESXi grows an seSparse file as it
 * allocates grain tables and grains, so those two areas are declared
 * at their full capacity but the file holds only what is allocated:
 * they are checked per table and per grain when read.
 */
static int
sparse_se_area(struct vmc_handle *h, struct vmdk_sparse *s, uint64_t off,
               uint64_t size, bool in_file, const char *what)
{
    uint64_t end;

    if (off > UINT64_MAX / VMDK_SECTOR || size > UINT64_MAX / VMDK_SECTOR ||
        vmc_add_overflow(off * VMDK_SECTOR, size * VMDK_SECTOR, &end)) {
        vmc_error(h, "%s: seSparse header: %s offset %" PRIu64 " size %"
                  PRIu64 " overflows", s->path, what, off, size);
        return -1;
    }
    if (!in_file)
        return 0;
    return vmc_check_range(h, s->path, s->file_size, off * VMDK_SECTOR,
                           size * VMDK_SECTOR, what);
}

static int
sparse_open_se(struct vmc_handle *h, struct vmdk_sparse *s)
{
    struct vmdk_se_const_header_disk d;
    struct vmdk_se_volatile_header_disk v;
    uint64_t vol_off, vol_size, need, gd_bytes;

    if (vmc_file_pread_full(s->file, &d, sizeof d, 0) == -1)
        return -1;
    if (vmc_le64(&d.version) != VMDK_SE_VERSION) {
        vmc_error(h, "%s: seSparse header: version 0x%016" PRIx64 " is not "
                  "supported", s->path, vmc_le64(&d.version));
        return -1;
    }
    s->capacity = vmc_le64(&d.capacity);
    s->grain = vmc_le64(&d.grain_size);
    s->flags = (uint32_t) vmc_le64(&d.flags);
    if (s->grain != VMDK_SE_GRAIN_SIZE ||
        vmc_le64(&d.grain_table_size) != VMDK_SE_GT_SIZE ||
        vmc_le64(&d.flags) != 0 || vmc_le64(&d.reserved1) != 0 ||
        vmc_le64(&d.reserved2) != 0 || vmc_le64(&d.reserved3) != 0 ||
        vmc_le64(&d.reserved4) != 0 || !vmc_is_zero(d.pad, sizeof d.pad)) {
        vmc_error(h, "%s: seSparse header: grain size %" PRIu64 ", grain "
                  "table size %" PRIu64 " or flags 0x%" PRIx64 " are not "
                  "supported (only 8, 64 and 0 are known)", s->path, s->grain,
                  vmc_le64(&d.grain_table_size), vmc_le64(&d.flags));
        return -1;
    }
    if (s->capacity == 0 || s->capacity > VMDK_MAX_SECTORS) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: seSparse header: capacity %" PRIu64 " sectors is "
                       "not supported", s->path, s->capacity);
        return -1;
    }
    vol_off = vmc_le64(&d.volatile_header_offset);
    vol_size = vmc_le64(&d.volatile_header_size);
    s->gd_offset = vmc_le64(&d.grain_dir_offset);
    s->se_gt_offset = vmc_le64(&d.grain_tables_offset);
    s->se_gt_size = vmc_le64(&d.grain_tables_size);
    s->se_grains_offset = vmc_le64(&d.grains_offset);
    s->se_grains_size = vmc_le64(&d.grains_size);
    if (vol_size == 0) {
        vmc_error(h, "%s: seSparse header: volatile header size is 0",
                  s->path);
        return -1;
    }
    if (sparse_se_area(h, s, vol_off, 1, true, "volatile header") == -1 ||
        sparse_se_area(h, s, s->gd_offset, vmc_le64(&d.grain_dir_size),
                       true, "grain directory") == -1 ||
        sparse_se_area(h, s, s->se_gt_offset, s->se_gt_size, false,
                       "grain tables") == -1 ||
        sparse_se_area(h, s, s->se_grains_offset, s->se_grains_size, false,
                       "grains") == -1)
        return -1;
    if (vmc_file_pread_full(s->file, &v, sizeof v,
                            vol_off * VMDK_SECTOR) == -1)
        return -1;
    if (vmc_le64(&v.magic) != VMDK_SE_VOLATILE_MAGIC) {
        vmc_error(h, "%s: seSparse volatile header at sector %" PRIu64
                  ": bad magic number", s->path, vol_off);
        return -1;
    }
    if (vmc_le64(&v.replay_journal) != 0) {
        vmc_error(h, "%s: seSparse volatile header: the journal needs "
                  "replaying (the disk was not closed cleanly); replaying "
                  "seSparse journals is not supported yet: consolidate the "
                  "snapshot in ESXi first", s->path);
        return -1;
    }
    s->gt_entries = VMDK_SE_GT_SIZE * VMDK_SECTOR / 8;
    s->gt_sectors = VMDK_SE_GT_SIZE;
    s->entry_size = 8;
    s->gd_entries = vmc_le64(&d.grain_dir_size) * VMDK_SECTOR / 8;
    need = vmc_div_round_up(s->capacity, s->gt_entries * s->grain);
    if (s->gd_entries < need) {
        vmc_error(h, "%s: seSparse header: the grain directory has %" PRIu64
                  " entries, the capacity needs %" PRIu64, s->path,
                  s->gd_entries, need);
        return -1;
    }
    s->gd_entries = need;
    gd_bytes = need * 8;
    s->gd = vmc_malloc(h, s->path, gd_bytes, "grain directory");
    if (s->gd == NULL)
        return -1;
    return vmc_file_pread_full(s->file, s->gd, gd_bytes,
                               s->gd_offset * VMDK_SECTOR);
}

struct vmdk_sparse *
vmdk_sparse_open(struct vmc_handle *h, const char *path,
                 struct vmc_file *file, uint64_t file_size, char **desc)
{
    uint8_t head[VMDK_SECTOR];
    struct vmdk_sparse *s;
    int kind, r = -1;

    if (desc)
        *desc = NULL;
    if (file_size < VMDK_SECTOR) {
        vmc_error(h, "%s: the file is too small (%" PRIu64 " bytes) to be a "
                  "sparse VMDK extent", path, file_size);
        return NULL;
    }
    if (vmc_file_pread_full(file, head, sizeof head, 0) == -1)
        return NULL;
    kind = vmdk_sparse_magic(head, sizeof head);
    if (kind == -1) {
        vmc_error(h, "%s: not a sparse VMDK extent (no KDMV, COWD or "
                  "seSparse magic number)", path);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->kind = kind;
    s->path = path;
    s->file = file;
    s->file_size = file_size;
    switch (s->kind) {
    case VMDK_SPARSE_HOSTED:
        r = sparse_open_hosted(h, s, head, desc);
        break;
    case VMDK_SPARSE_COWD:
        if (file_size < sizeof(struct vmdk_cowd_header_disk))
            vmc_error(h, "%s: the file is too small for a COWD header", path);
        else
            r = sparse_open_cowd(h, s);
        break;
    case VMDK_SPARSE_SE:
        r = sparse_open_se(h, s);
        break;
    }
    if (r == 0) {
        s->cache = calloc(VMDK_GT_CACHE_SLOTS, sizeof *s->cache);
        if (s->cache == NULL) {
            vmc_error(h, "%s: %m", path);
            r = -1;
        }
    }
    if (r == -1) {
        if (desc) {
            free(*desc);
            *desc = NULL;
        }
        vmdk_sparse_free(s);
        return NULL;
    }
    return s;
}

/* ---- Lookups ------------------------------------------------------ */

static uint64_t
sparse_gde(const struct vmdk_sparse *s, uint64_t gdi)
{
    const uint8_t *p = (const uint8_t *) s->gd + gdi * s->entry_size;

    return s->entry_size == 8 ? vmc_le64(p) : vmc_le32(p);
}

/* The file byte offset of the grain table GDE points to. */
static int
sparse_gt_offset(struct vmc_handle *h, const struct vmdk_sparse *s,
                 uint64_t gdi, uint64_t gde, uint64_t *off)
{
    uint64_t len = s->gt_sectors * VMDK_SECTOR;

    if (s->kind == VMDK_SPARSE_SE) {
        uint64_t idx = gde & ~VMDK_SE_GDE_TYPE_MASK;

        if ((gde & VMDK_SE_GDE_TYPE_MASK) != VMDK_SE_GDE_ALLOCATED ||
            (idx + 1) * s->gt_sectors > s->se_gt_size) {
            vmc_error(h, "%s: grain directory entry %" PRIu64 " (0x%016"
                      PRIx64 ") is not a valid grain table", s->path, gdi,
                      gde);
            return -1;
        }
        gde = s->se_gt_offset + idx * s->gt_sectors;
    } else if (gde < s->overhead && s->kind == VMDK_SPARSE_COWD) {
        vmc_error(h, "%s: grain directory entry %" PRIu64 " points into the "
                  "header (sector %" PRIu64 ")", s->path, gdi, gde);
        return -1;
    }
    /* seSparse: the table area was only checked for overflow at open. */
    *off = gde * VMDK_SECTOR;
    if (*off > s->file_size || len > s->file_size - *off) {
        vmc_error(h, "%s: grain directory entry %" PRIu64 ": grain table at "
                  "sector %" PRIu64 " is past the end of the file (%" PRIu64
                  " bytes)", s->path, gdi, gde, s->file_size);
        return -1;
    }
    return 0;
}

/* Return the cached grain table for GDI, loading it if needed.  Called
 * with s->lock held.
 */
static const uint8_t *
sparse_get_gt(struct vmc_handle *h, struct vmdk_sparse *s, uint64_t gdi,
              uint64_t gde)
{
    struct vmdk_gt_slot *slot = &s->cache[gdi % VMDK_GT_CACHE_SLOTS];
    size_t len = s->gt_entries * s->entry_size;
    uint64_t off;

    if (slot->valid && slot->gdi == gdi)
        return slot->data;
    if (sparse_gt_offset(h, s, gdi, gde, &off) == -1)
        return NULL;
    if (slot->data == NULL) {
        slot->data = malloc(len);
        if (slot->data == NULL) {
            vmc_error(h, "%s: %m", s->path);
            return NULL;
        }
    }
    slot->valid = false;
    if (vmc_file_pread_full(s->file, slot->data, len, off) == -1)
        return NULL;
    slot->valid = true;
    slot->gdi = gdi;
    return slot->data;
}

/* Classify the grain table entry E of the grain starting at extent
 * byte GSTART: sets *KIND and *OFF (file byte offset of the grain or
 * its marker) and checks it lies in the file.
 */
static int
sparse_classify(struct vmc_handle *h, const struct vmdk_sparse *s,
                uint64_t gstart, uint64_t e, enum vmdk_map_kind *kind,
                uint64_t *off)
{
    uint64_t gbytes = s->grain * VMDK_SECTOR;
    uint64_t cap = s->capacity * VMDK_SECTOR;
    uint64_t need = cap - gstart < gbytes ? cap - gstart : gbytes;
    uint64_t sector;

    *off = 0;
    if (s->kind == VMDK_SPARSE_SE) {
        switch (e >> 60) {
        case 0:
            if (e != 0)
                goto bad;
            *kind = VMDK_MAP_UNALLOC;
            return 0;
        case 1:                 /* SCSI unmapped: reads as zeros (qemu) */
        case 2:
            *kind = VMDK_MAP_ZERO;
            return 0;
        case 3: {
            uint64_t idx = ((e & 0x0FFF000000000000ull) >> 48) |
                           ((e & 0x0000FFFFFFFFFFFFull) << 12);

            if (idx >= s->se_grains_size / s->grain)
                goto bad;
            *kind = VMDK_MAP_DATA;
            *off = (s->se_grains_offset + idx * s->grain) * VMDK_SECTOR;
            break;
        }
        default:
            goto bad;
        }
    } else {
        if (e == 0) {
            *kind = VMDK_MAP_UNALLOC;
            return 0;
        }
        if (e == VMDK4_GTE_ZEROED && s->zeroed_grain) {
            *kind = VMDK_MAP_ZERO;
            return 0;
        }
        sector = e;
        *off = sector * VMDK_SECTOR;
        if (s->compressed) {
            *kind = VMDK_MAP_COMPRESSED;
            need = s->markers ? sizeof(struct vmdk_grain_marker_disk) : 1;
        } else {
            *kind = VMDK_MAP_DATA;
        }
        if (sector < s->overhead && !s->compressed) {
            vmc_error(h, "%s: grain table entry for extent offset %" PRIu64
                      " points to sector %" PRIu64 ", inside the metadata "
                      "(overHead is %" PRIu64 " sectors)", s->path, gstart,
                      sector, s->overhead);
            return -1;
        }
    }
    if (*off > s->file_size || need > s->file_size - *off) {
        vmc_error(h, "%s: grain table entry for extent offset %" PRIu64
                  " points to byte %" PRIu64 ", past the end of the file (%"
                  PRIu64 " bytes)", s->path, gstart, *off, s->file_size);
        return -1;
    }
    return 0;

bad:
    vmc_error(h, "%s: grain table entry 0x%" PRIx64 " for extent offset %"
              PRIu64 " is not valid", s->path, e, gstart);
    return -1;
}

int
vmdk_sparse_map(struct vmc_handle *h, struct vmdk_sparse *s,
                uint64_t offset, uint64_t length, bool contiguous,
                struct vmdk_map *m)
{
    uint64_t gbytes = s->grain * VMDK_SECTOR;
    uint64_t coverage = gbytes * s->gt_entries;
    uint64_t g = offset / gbytes;
    uint64_t in_grain = offset % gbytes;
    uint64_t gdi = g / s->gt_entries;
    uint64_t gti = g % s->gt_entries;
    uint64_t gde, run, first_off;
    enum vmdk_map_kind kind;
    const uint8_t *gt;
    int r = -1;

    if (gdi >= s->gd_entries) {
        vmc_error(h, "%s: internal error: offset %" PRIu64 " is past the "
                  "grain directory", s->path, offset);
        return -1;
    }
    gde = sparse_gde(s, gdi);
    if (gde == 0) {
        uint64_t end = gdi + 1;

        while (end < s->gd_entries && sparse_gde(s, end) == 0 &&
               end * coverage - offset < length)
            end++;
        m->kind = VMDK_MAP_UNALLOC;
        m->file_offset = 0;
        m->length = end * coverage - offset;
        if (m->length > length)
            m->length = length;
        return 0;
    }

    pthread_mutex_lock(&s->lock);
    gt = sparse_get_gt(h, s, gdi, gde);
    if (gt == NULL)
        goto out;
#define GTE(i) (s->entry_size == 8 ? vmc_le64(gt + (i) * 8) \
                                    : (uint64_t) vmc_le32(gt + (i) * 4))
    if (sparse_classify(h, s, g * gbytes, GTE(gti), &kind, &first_off) == -1)
        goto out;
    run = gbytes - in_grain;
    while (run < length && gti + 1 < s->gt_entries) {
        enum vmdk_map_kind k;
        uint64_t o, n = (run + in_grain) / gbytes;

        if (kind == VMDK_MAP_COMPRESSED && contiguous)
            break;
        gti++;
        g++;
        if (sparse_classify(h, s, g * gbytes, GTE(gti), &k, &o) == -1)
            goto out;
        if (k != kind && !(!contiguous && k != VMDK_MAP_UNALLOC &&
                           k != VMDK_MAP_ZERO && kind != VMDK_MAP_UNALLOC &&
                           kind != VMDK_MAP_ZERO))
            break;
        if (contiguous && kind == VMDK_MAP_DATA &&
            o != first_off + n * gbytes)
            break;
        run += gbytes;
    }
#undef GTE
    m->kind = kind;
    m->file_offset = kind == VMDK_MAP_DATA ? first_off + in_grain : first_off;
    m->length = run < length ? run : length;
    r = 0;
out:
    pthread_mutex_unlock(&s->lock);
    return r;
}

void
vmdk_grain_reader_free(struct vmdk_grain_reader *gr)
{
    if (gr->z_ready)
        inflateEnd(&gr->z);
    libdeflate_free_decompressor(gr->ld);
    free(gr->cbuf);
    memset(gr, 0, sizeof *gr);
}

/* Inflate IN (LEN bytes, a zlib stream) into OUT (at most OUTLEN);
 * sets *GOT.  Returns 0, or -1 with an error.
 */
static int
sparse_inflate(struct vmc_handle *h, const struct vmdk_sparse *s,
               struct vmdk_grain_reader *gr, uint64_t gstart,
               const uint8_t *in, size_t len, uint8_t *out, size_t outlen,
               size_t *got)
{
    z_stream *z = &gr->z;
    int zr;

    /* Fast path: one zlib stream that fills at most OUTLEN bytes. */
    if (gr->ld == NULL)
        gr->ld = libdeflate_alloc_decompressor();
    if (gr->ld != NULL) {
        size_t in_used;

        if (libdeflate_zlib_decompress_ex(gr->ld, in, len, out, outlen,
                                          &in_used, got)
            == LIBDEFLATE_SUCCESS)
            return 0;
        /* Anything else: zlib tells what is wrong. */
    }
    if (!gr->z_ready) {
        memset(z, 0, sizeof *z);
        if (inflateInit(z) != Z_OK) {
            vmc_error(h, "%s: zlib inflateInit failed", s->path);
            return -1;
        }
        gr->z_ready = true;
    } else if (inflateReset(z) != Z_OK) {
        vmc_error(h, "%s: zlib inflateReset failed", s->path);
        return -1;
    }
    z->next_in = (Bytef *) in;
    z->avail_in = (uInt) len;
    z->next_out = out;
    z->avail_out = (uInt) outlen;
    zr = inflate(z, Z_FINISH);
    *got = outlen - z->avail_out;
    if (zr == Z_STREAM_END)
        return 0;
    if ((zr == Z_BUF_ERROR || zr == Z_OK) && z->avail_out == 0)
        vmc_error(h, "%s: compressed grain at extent offset %" PRIu64
                  " inflates to more than the grain size (%zu bytes)",
                  s->path, gstart, outlen);
    else
        vmc_error(h, "%s: compressed grain at extent offset %" PRIu64
                  " is damaged (zlib: %s)", s->path, gstart,
                  z->msg ? z->msg : zr == Z_BUF_ERROR ? "truncated data"
                  : "inflate error");
    return -1;
}

int
vmdk_sparse_read_grain(struct vmc_handle *h, struct vmdk_sparse *s,
                       struct vmdk_grain_reader *gr,
                       uint64_t gstart, uint64_t file_offset, uint8_t *buf)
{
    uint64_t gbytes = s->grain * VMDK_SECTOR;
    uint64_t cap = s->capacity * VMDK_SECTOR;
    uint64_t want = cap - gstart < gbytes ? cap - gstart : gbytes;
    uint64_t avail = s->file_size - file_offset;
    uint64_t first, len, skip = 0;
    size_t need = 2 * gbytes + sizeof(struct vmdk_grain_marker_disk);
    uint8_t *cbuf;
    size_t got;

    /* One read brings the marker and, usually, all the data: neighbour
     * grains compress alike, so read what the last one needed (at least
     * VMDK_GRAIN_READ); a grain bigger than that takes a second read.
     */
    first = gr->guess > VMDK_GRAIN_READ ? gr->guess : VMDK_GRAIN_READ;
    if (first > avail)
        first = avail;
    if (gr->cbuf_len < need) {
        free(gr->cbuf);
        gr->cbuf_len = 0;
        gr->cbuf = malloc(need);
        if (gr->cbuf == NULL) {
            vmc_error(h, "%s: %m", s->path);
            return -1;
        }
        gr->cbuf_len = need;
    }
    cbuf = gr->cbuf;
    if (first > 2 * gbytes)
        first = 2 * gbytes;
    if (vmc_file_pread_full(s->file, cbuf, first, file_offset) == -1)
        return -1;
    if (s->markers) {
        struct vmdk_grain_marker_disk mk;
        uint64_t lba;

        memcpy(&mk, cbuf, sizeof mk);   /* classify checked it is there */
        lba = vmc_le64(&mk.lba);
        len = vmc_le32(&mk.size);
        if (lba != gstart / VMDK_SECTOR) {
            vmc_error(h, "%s: grain marker at offset %" PRIu64 ": lba %"
                      PRIu64 " does not match the grain table (sector %"
                      PRIu64 ")", s->path, file_offset, lba,
                      gstart / VMDK_SECTOR);
            return -1;
        }
        if (len == 0 || len > 2 * gbytes) {
            vmc_error(h, "%s: grain marker at offset %" PRIu64 ": compressed "
                      "size %" PRIu64 " is not between 1 and %" PRIu64,
                      s->path, file_offset, len, 2 * gbytes);
            return -1;
        }
        skip = sizeof mk;
        if (vmc_check_range(h, s->path, s->file_size, file_offset + skip,
                            len, "compressed grain") == -1)
            return -1;
        gr->guess = vmc_round_up(skip + len, VMDK_SECTOR) + VMDK_SECTOR;
        if (skip + len > first &&
            vmc_file_pread_full(s->file, cbuf + first, skip + len - first,
                                file_offset + first) == -1)
            return -1;
    } else {
        /* No marker: the stream's own end tells where it stops. */
        len = avail < 2 * gbytes ? avail : 2 * gbytes;
        if (len > first &&
            vmc_file_pread_full(s->file, cbuf + first, len - first,
                                file_offset + first) == -1)
            return -1;
    }
    if (sparse_inflate(h, s, gr, gstart, cbuf + skip, len, buf, gbytes,
                       &got) == -1)
        return -1;
    if (got != gbytes && got != want) {
        vmc_error(h, "%s: compressed grain at offset %" PRIu64 " inflates to "
                  "%zu bytes, expected %" PRIu64, s->path, file_offset, got,
                  want);
        return -1;
    }
    memset(buf + got, 0, gbytes - got);
    return 0;
}
