/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmdk: creating new images.
 *
 * monolithicSparse: header, embedded descriptor, redundant grain
 * directory and tables, grain directory and tables, then grains
 * appended as they come (qemu's and VMware's layout).  Both grain
 * directories are written at create; grain tables are kept in memory
 * only where something was written and are written, both copies, at
 * flush.
 *
 * streamOptimized: header (gdOffset = GD_AT_END) and embedded
 * descriptor, then each non-zero grain deflated behind a grain marker,
 * in increasing order; at flush the grain tables that hold grains,
 * each behind a GT marker, the grain directory behind a GD marker, the
 * footer and the end-of-stream marker: the layout of the stream ESXi
 * exports (qemu's iotest-version3.vmdk sample), which qemu, ovftool
 * and ESXi read.
 *
 * monolithicFlat: a text descriptor and a raw "-flat.vmdk" extent.
 */
#include <config.h>

#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmdk-internal.h"
#include "repro.h"

#define VMDK_W_GRAIN        128u        /* sectors: 64 KiB */
#define VMDK_W_GTES         512u
#define VMDK_W_GT_SECTORS   (VMDK_W_GTES * 4 / VMDK_SECTOR)
#define VMDK_W_DESC_OFFSET  1u
#define VMDK_W_DESC_SECTORS 20u
/* Grain table entries are 32-bit sector numbers: sparse files and the
 * disks they hold stop at 2 TiB.
 */
#define VMDK_W_MAX_SECTORS  (1ull << 32)
/* In-memory grain tables mark grains written as all zeros with this
 * (never a real grain: grains start after the metadata), so a second
 * write to them is still refused.  Written out as 0.
 */
#define VMDK_W_ZERO_MARK    1u
/* In-memory flag of a grain reserved by vmdk_reserve and not written
 * yet (grain sectors are multiples of VMDK_W_GRAIN).  Never stored.
 */
#define VMDK_W_RESERVED     2u
#define VMDK_W_BUF          (1024u * 1024)

enum vmdk_wkind {
    VMDK_W_SPARSE,
    VMDK_W_STREAM,
    VMDK_W_FLAT,
};

struct vmdk_wgt {
    uint64_t gdi;
    uint32_t *gte;              /* VMDK_W_GTES entries; NULL: free slot */
};

struct vmdk_writer {
    enum vmdk_wkind kind;
    pthread_mutex_t lock;       /* protects everything below */
    uint64_t capacity;          /* sectors */
    uint64_t gbytes;            /* grain bytes */
    uint64_t gd_entries;
    uint64_t gd_sectors;
    uint64_t rgd_offset;        /* sectors (sparse) */
    uint64_t rgt_offset;
    uint64_t gd_offset;
    uint64_t gt_offset;
    uint64_t overhead;
    uint64_t next_sector;       /* where the next grain goes */
    uint64_t next_offset;       /* stream: writes must start here or later */
    struct vmdk_wgt *gts;       /* hash of touched grain tables */
    size_t gts_cap;
    size_t gts_count;
    struct vmc_file *flat_file; /* belongs to the image's outfiles */
    char *flat_name;
    bool finished;              /* stream: footer written */
    bool failed;                /* a write failed half way */
    struct vmdk_desc_params desc;   /* to rebuild it (SOURCE_DATE_EPOCH) */
    char *desc_extent;          /* desc.extent_file */
    struct vmc_repro repro;
};

/* An encoded piece: for streamOptimized, grain markers and deflated
 * grains ready to append; for the others, a copy of the data.
 */
struct vmdk_chunk {
    uint64_t offset;
    uint64_t count;
    uint8_t *data;
    size_t len;                 /* bytes of data */
    size_t ngrains;             /* stream: grains in data */
    uint64_t *grain;            /* stream: their grain numbers */
    uint32_t *rel;              /* stream: their sector in data */
};

const struct vmc_opt_desc vmdk_create_opts[] = {
    { "subformat", VMC_OPT_STRING,
      "monolithicSparse (default), streamOptimized (for OVA/OVF and "
      "vSphere import), monolithicFlat, or vmfs (ESXi datastore: "
      "descriptor + -flat.vmdk)" },
    { "adapter_type", VMC_OPT_STRING,
      "ide, lsilogic, buslogic, legacyESX or pvscsi (default ide; "
      "lsilogic for streamOptimized and vmfs)" },
    { "hwversion", VMC_OPT_STRING,
      "ddb.virtualHWVersion written in the descriptor (default 4)" },
    { "toolsversion", VMC_OPT_STRING,
      "ddb.toolsVersion written in the descriptor (default 2147483647, "
      "as VMware's open-vmdk and qemu write)" },
    { NULL, 0, NULL }
};

static const char *const vmdk_adapters[] = {
    "ide", "lsilogic", "buslogic", "legacyESX", "pvscsi", NULL
};

void
vmdk_writer_free(struct vmdk_writer *w)
{
    size_t i;

    if (w == NULL)
        return;
    for (i = 0; i < w->gts_cap; i++)
        free(w->gts[i].gte);
    free(w->gts);
    free(w->flat_name);
    free(w->desc_extent);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* ---- Touched grain tables (a small hash table) -------------------- */

static size_t
w_hash(uint64_t gdi, size_t cap)
{
    return (size_t) ((gdi * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static int
w_gts_grow(struct vmc_image *img, struct vmdk_writer *w)
{
    size_t ncap = w->gts_cap ? w->gts_cap * 2 : 64, i;
    struct vmdk_wgt *n = calloc(ncap, sizeof *n);

    if (n == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    for (i = 0; i < w->gts_cap; i++) {
        size_t j;

        if (w->gts[i].gte == NULL)
            continue;
        for (j = w_hash(w->gts[i].gdi, ncap); n[j].gte;
             j = (j + 1) & (ncap - 1))
            ;
        n[j] = w->gts[i];
    }
    free(w->gts);
    w->gts = n;
    w->gts_cap = ncap;
    return 0;
}

/* The in-memory grain table GDI, or NULL if never touched. */
static uint32_t *
w_gt_find(const struct vmdk_writer *w, uint64_t gdi)
{
    size_t j;

    if (w->gts_cap == 0)
        return NULL;
    for (j = w_hash(gdi, w->gts_cap); w->gts[j].gte;
         j = (j + 1) & (w->gts_cap - 1))
        if (w->gts[j].gdi == gdi)
            return w->gts[j].gte;
    return NULL;
}

/* The in-memory grain table GDI, made if needed.  Lock held. */
static uint32_t *
w_gt_get(struct vmc_image *img, struct vmdk_writer *w, uint64_t gdi)
{
    uint32_t *gte = w_gt_find(w, gdi);
    size_t j;

    if (gte)
        return gte;
    if ((w->gts_count + 1) * 2 > w->gts_cap && w_gts_grow(img, w) == -1)
        return NULL;
    gte = calloc(VMDK_W_GTES, sizeof *gte);
    if (gte == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return NULL;
    }
    for (j = w_hash(gdi, w->gts_cap); w->gts[j].gte;
         j = (j + 1) & (w->gts_cap - 1))
        ;
    w->gts[j].gdi = gdi;
    w->gts[j].gte = gte;
    w->gts_count++;
    return gte;
}

/* ---- Create ------------------------------------------------------- */

static void
w_header(const struct vmdk_writer *w, uint8_t *buf, uint32_t version,
         uint32_t flags, uint64_t gd_offset, uint64_t rgd_offset,
         uint16_t alg)
{
    struct vmdk4_header_disk *d = (void *) buf;

    memset(buf, 0, VMDK_SECTOR);
    vmc_put_le32(&d->magic, VMDK4_MAGIC);
    vmc_put_le32(&d->version, version);
    vmc_put_le32(&d->flags, flags);
    vmc_put_le64(&d->capacity, w->capacity);
    vmc_put_le64(&d->grain_size, VMDK_W_GRAIN);
    vmc_put_le64(&d->desc_offset, VMDK_W_DESC_OFFSET);
    vmc_put_le64(&d->desc_size, VMDK_W_DESC_SECTORS);
    vmc_put_le32(&d->num_gtes_per_gt, VMDK_W_GTES);
    vmc_put_le64(&d->rgd_offset, rgd_offset);
    vmc_put_le64(&d->gd_offset, gd_offset);
    vmc_put_le64(&d->overhead, w->overhead);
    d->nl_single = '\n';
    d->nl_non = ' ';
    d->nl_double1 = '\r';
    d->nl_double2 = '\n';
    vmc_put_le16(&d->compress_algorithm, alg);
}

/* The base name of the image being created (for extent lines). */
static char *
w_basename(struct vmc_image *img)
{
    CLEANUP_FREE char *copy = strdup(img->path);
    char *r;

    if (copy == NULL || (r = strdup(basename(copy))) == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return NULL;
    }
    return r;
}

/* Write the header and the embedded descriptor. */
static int
w_write_head(struct vmc_image *img, const uint8_t *header, const char *desc)
{
    uint8_t *buf;
    size_t dlen = strlen(desc), len;
    int r;

    if (dlen >= VMDK_W_DESC_SECTORS * VMDK_SECTOR) {
        vmc_error(img->h, "%s: the descriptor (%zu bytes) does not fit the "
                  "%u bytes reserved for it (is the file name very long?)",
                  img->path, dlen, VMDK_W_DESC_SECTORS * VMDK_SECTOR);
        return -1;
    }
    len = (VMDK_W_DESC_OFFSET + VMDK_W_DESC_SECTORS) * VMDK_SECTOR;
    buf = calloc(1, len);
    if (buf == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    memcpy(buf, header, VMDK_SECTOR);
    memcpy(buf + VMDK_W_DESC_OFFSET * VMDK_SECTOR, desc, dlen);
    r = vmc_file_pwrite_full(img->file, buf, len, 0);
    free(buf);
    return r;
}

/* Write a grain directory at sector AT whose entry I is
 * GT0 + I * STRIDE (sectors), streamed in pieces.
 */
static int
w_write_gd(struct vmc_image *img, struct vmdk_writer *w, uint64_t at,
           uint64_t gt0, uint64_t stride)
{
    uint64_t total = w->gd_sectors * VMDK_SECTOR, done = 0, i = 0;
    CLEANUP_FREE uint8_t *buf = malloc(VMDK_W_BUF);

    if (buf == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    while (done < total) {
        size_t n = total - done < VMDK_W_BUF ? total - done : VMDK_W_BUF;
        size_t k;

        memset(buf, 0, n);
        for (k = 0; k < n / 4 && i < w->gd_entries; k++, i++)
            vmc_put_le32(buf + k * 4, (uint32_t) (gt0 + i * stride));
        if (vmc_file_pwrite_full(img->file, buf, n,
                                 at * VMDK_SECTOR + done) == -1)
            return -1;
        done += n;
    }
    return 0;
}

static int
w_create_sparse(struct vmc_image *img, struct vmdk_writer *w,
                const char *desc)
{
    uint8_t header[VMDK_SECTOR];
    uint64_t gts = w->gd_entries * VMDK_W_GT_SECTORS;

    w->rgd_offset = VMDK_W_DESC_OFFSET + VMDK_W_DESC_SECTORS;
    w->rgt_offset = w->rgd_offset + w->gd_sectors;
    w->gd_offset = w->rgt_offset + gts;
    w->gt_offset = w->gd_offset + w->gd_sectors;
    w->overhead = vmc_round_up(w->gt_offset + gts, VMDK_W_GRAIN);
    w->next_sector = w->overhead;
    w_header(w, header, 1, VMDK4_FLAG_NL_DETECT | VMDK4_FLAG_RGD,
             w->gd_offset, w->rgd_offset, VMDK4_COMPRESS_NONE);
    if (w_write_head(img, header, desc) == -1 ||
        w_write_gd(img, w, w->rgd_offset, w->rgt_offset,
                   VMDK_W_GT_SECTORS) == -1 ||
        w_write_gd(img, w, w->gd_offset, w->gt_offset,
                   VMDK_W_GT_SECTORS) == -1)
        return -1;
    if (vmc_file_truncate(img->file, w->overhead * VMDK_SECTOR) == -1)
        return -1;
    return 0;
}

static int
w_create_stream(struct vmc_image *img, struct vmdk_writer *w,
                const char *desc)
{
    uint8_t header[VMDK_SECTOR];

    w->overhead = VMDK_W_GRAIN;
    w->next_sector = w->overhead;
    w_header(w, header, 3, VMDK4_FLAG_NL_DETECT | VMDK4_FLAG_COMPRESS |
             VMDK4_FLAG_MARKER, VMDK4_GD_AT_END, 0, VMDK4_COMPRESS_DEFLATE);
    return w_write_head(img, header, desc);
}

static int
w_create_flat(struct vmc_image *img, struct vmdk_writer *w, const char *desc)
{
    size_t len = strlen(desc);

    w->flat_file = vmc_image_create_companion(img, w->flat_name);
    if (w->flat_file == NULL)
        return -1;
    if (vmc_file_truncate(w->flat_file, w->capacity * VMDK_SECTOR) == -1)
        return -1;
    return vmc_file_pwrite_full(img->file, desc, len, 0);
}

/* "disk.vmdk" -> "disk-flat.vmdk" */
static char *
w_flat_name(struct vmc_image *img, const char *base)
{
    size_t n = strlen(base);
    char *r;

    if (n > 5 && strcasecmp(base + n - 5, ".vmdk") == 0)
        n -= 5;
    if (asprintf(&r, "%.*s-flat.vmdk", (int) n, base) == -1) {
        vmc_error(img->h, "%s: %m", img->path);
        return NULL;
    }
    return r;
}

static int
w_parse_opts(struct vmc_image *img, const struct vmc_opts *opts,
             enum vmdk_wkind *kind, struct vmdk_desc_params *p)
{
    const char *sub = vmc_opts_get(opts, "subformat");
    const char *ad = vmc_opts_get(opts, "adapter_type");
    const char *hw = vmc_opts_get(opts, "hwversion");
    const char *tv = vmc_opts_get(opts, "toolsversion");
    const char *c;
    size_t i;

    if (sub == NULL || strcasecmp(sub, "monolithicSparse") == 0) {
        *kind = VMDK_W_SPARSE;
        p->create_type = "monolithicSparse";
    } else if (strcasecmp(sub, "streamOptimized") == 0) {
        *kind = VMDK_W_STREAM;
        p->create_type = "streamOptimized";
    } else if (strcasecmp(sub, "monolithicFlat") == 0) {
        *kind = VMDK_W_FLAT;
        p->create_type = "monolithicFlat";
    } else if (strcasecmp(sub, "vmfs") == 0) {
        *kind = VMDK_W_FLAT;    /* an ESXi datastore disk */
        p->create_type = "vmfs";
    } else {
        vmc_error_kind(img->h, VMC_ERR_UNSUPPORTED,
                       "%s: vmdk subformat '%s' is not supported for "
                       "writing yet (monolithicSparse, streamOptimized, "
                       "monolithicFlat and vmfs are)", img->path, sub);
        return -1;
    }
    p->extent_type = *kind != VMDK_W_FLAT ? "SPARSE" :
                     strcmp(p->create_type, "vmfs") == 0 ? "VMFS" : "FLAT";
    p->adapter_type = *kind == VMDK_W_SPARSE ||
                      strcmp(p->create_type, "monolithicFlat") == 0
                      ? "ide" : "lsilogic";
    if (ad) {
        for (i = 0; vmdk_adapters[i]; i++)
            if (strcasecmp(ad, vmdk_adapters[i]) == 0)
                break;
        if (vmdk_adapters[i] == NULL) {
            vmc_error(img->h, "%s: adapter_type '%s' is not one of ide, "
                      "lsilogic, buslogic, legacyESX, pvscsi", img->path, ad);
            return -1;
        }
        p->adapter_type = vmdk_adapters[i];
    }
    /* "4": what qemu and VMware's open-vmdk write; ESX 3 and later ignore
     * it (the VM's own hardware version rules) and every product opens it.
     */
    p->hw_version = hw ? hw : "4";
    p->tools_version = tv ? tv : "2147483647";
    for (c = p->hw_version; *c; c++)
        if (*c < '0' || *c > '9')
            break;
    if (*c || !*p->hw_version || strlen(p->hw_version) > 4) {
        vmc_error(img->h, "%s: hwversion '%s' is not a number", img->path,
                  p->hw_version);
        return -1;
    }
    for (c = p->tools_version; *c; c++)
        if (*c < '0' || *c > '9')
            break;
    if (*c || !*p->tools_version || strlen(p->tools_version) > 10) {
        vmc_error(img->h, "%s: toolsversion '%s' is not a number", img->path,
                  p->tools_version);
        return -1;
    }
    return 0;
}

/* SOURCE_DATE_EPOCH: the identifiers come from the data written and
 * the descriptor's parameters (see w_repro_desc).
 */
static int
w_repro_init(struct vmc_image *img, struct vmdk_writer *w)
{
    const struct vmdk_desc_params *p = &w->desc;

    if (vmc_repro_init(img->h, img->path, &w->repro) == -1)
        return -1;
    vmc_repro_salt_str(&w->repro, "vmdk");
    vmc_repro_salt(&w->repro, p->sectors);
    vmc_repro_salt_str(&w->repro, p->create_type);
    vmc_repro_salt_str(&w->repro, p->extent_file);
    vmc_repro_salt_str(&w->repro, p->adapter_type);
    vmc_repro_salt_str(&w->repro, p->hw_version);
    vmc_repro_salt_str(&w->repro, p->tools_version ? p->tools_version : "");
    return 0;
}

/* SOURCE_DATE_EPOCH: rewrite the descriptor with the CID, ddb.uuid
 * and ddb.longContentID derived from everything written (the same
 * length as the random ones it replaces).
 */
static int
w_repro_desc(struct vmc_image *img, struct vmdk_writer *w)
{
    struct vmdk_desc_params p = w->desc;
    uint8_t ids[28];
    CLEANUP_FREE char *desc = NULL;
    CLEANUP_FREE uint8_t *buf = NULL;
    size_t len;

    vmc_repro_id(&w->repro, "vmdk cid", &p.cid, sizeof p.cid);
    if (p.cid == 0xFFFFFFFFu || p.cid == 0xFFFFFFFEu)
        p.cid = 0x7FFFFFFFu;
    vmc_repro_id(&w->repro, "vmdk ddb", ids, sizeof ids);
    p.ids = ids;
    desc = vmdk_desc_build(img->h, img->path, &p);
    if (desc == NULL)
        return -1;
    len = strlen(desc);
    if (w->kind == VMDK_W_FLAT)
        return vmc_file_pwrite_full(img->file, desc, len, 0);
    buf = calloc(VMDK_W_DESC_SECTORS, VMDK_SECTOR);
    if (buf == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    memcpy(buf, desc, len);     /* fits: as long as the one at create */
    return vmc_file_pwrite_full(img->file, buf,
                                VMDK_W_DESC_SECTORS * VMDK_SECTOR,
                                VMDK_W_DESC_OFFSET * VMDK_SECTOR);
}

int
vmdk_create(struct vmc_image *img, const struct vmc_opts *opts)
{
    struct vmc_handle *h = img->h;
    struct vmdk_desc_params p;
    enum vmdk_wkind kind;
    CLEANUP_FREE char *base = NULL;
    CLEANUP_FREE char *desc = NULL;
    struct vmdk_writer *w;
    struct vmdk *v;
    int r;

    memset(&p, 0, sizeof p);
    if (w_parse_opts(img, opts, &kind, &p) == -1)
        return -1;
    p.sectors = vmc_div_round_up(img->size, VMDK_SECTOR);
    if (p.sectors == 0) {
        vmc_error(h, "%s: a VMDK disk cannot be empty", img->path);
        return -1;
    }
    if (kind != VMDK_W_FLAT && p.sectors > VMDK_W_MAX_SECTORS) {
        vmc_error(h, "%s: %s disks hold at most 2 TiB (this one has %" PRIu64
                  " bytes); use subformat=monolithicFlat", img->path,
                  p.create_type, img->size);
        return -1;
    }
    if (p.sectors > VMDK_MAX_SECTORS) {
        vmc_error(h, "%s: %" PRIu64 " bytes is too large", img->path,
                  img->size);
        return -1;
    }
    base = w_basename(img);
    if (base == NULL)
        return -1;
    w = calloc(1, sizeof *w);
    v = calloc(1, sizeof *v);
    if (w == NULL || v == NULL) {
        vmc_error(h, "%s: %m", img->path);
        free(w);
        free(v);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    v->w = w;
    w->kind = kind;
    w->capacity = p.sectors;
    w->gbytes = VMDK_W_GRAIN * VMDK_SECTOR;
    w->gd_entries = vmc_div_round_up(w->capacity,
                                     (uint64_t) VMDK_W_GRAIN * VMDK_W_GTES);
    w->gd_sectors = vmc_div_round_up(w->gd_entries * 4, VMDK_SECTOR);
    if (kind == VMDK_W_FLAT) {
        w->flat_name = w_flat_name(img, base);
        if (w->flat_name == NULL) {
            vmdk_writer_free(w);
            free(v);
            return -1;
        }
    }
    do {
        vmc_random_bytes(&p.cid, sizeof p.cid);
    } while (p.cid == 0xFFFFFFFFu || p.cid == 0xFFFFFFFEu);
    p.extent_file = kind == VMDK_W_FLAT ? w->flat_name : base;
    w->desc = p;
    w->desc_extent = strdup(p.extent_file);
    w->desc.extent_file = w->desc_extent;
    if (w->desc_extent == NULL)
        vmc_error(h, "%s: %m", img->path);
    desc = w->desc_extent ? vmdk_desc_build(h, img->path, &p) : NULL;
    if (desc == NULL || w_repro_init(img, w) == -1) {
        vmdk_writer_free(w);
        free(v);
        return -1;
    }
    switch (kind) {
    case VMDK_W_SPARSE:
        r = w_create_sparse(img, w, desc);
        break;
    case VMDK_W_STREAM:
        r = w_create_stream(img, w, desc);
        break;
    default:
        r = w_create_flat(img, w, desc);
        break;
    }
    if (r == -1) {
        vmdk_writer_free(w);
        free(v);
        return -1;
    }
    img->cluster_size = kind == VMDK_W_FLAT ? 0 : (uint32_t) w->gbytes;
    /* Grains are appended as they come: the copy engine reserves them
     * in offset order (vmdk_reserve), so they lie in disk order (as
     * VMware's tools expect) and the file is the same whatever the
     * number of threads.
     */
    img->ordered_alloc = kind == VMDK_W_SPARSE;
    if (kind == VMDK_W_STREAM)
        img->ops = &vmdk_format_stream;
    img->priv = v;
    return 0;
}

/* ---- Writing ------------------------------------------------------ */

/* Writes cover whole grains (the last one may end at the disk's end). */
static int
w_check_aligned(struct vmc_image *img, struct vmdk_writer *w, size_t count,
                uint64_t offset)
{
    if (offset % w->gbytes != 0 ||
        (count % w->gbytes != 0 && offset + count != img->size)) {
        vmc_error(img->h, "%s: write of %zu bytes at offset %" PRIu64 " is "
                  "not made of whole %" PRIu64 "-byte grains", img->path,
                  count, offset, w->gbytes);
        return -1;
    }
    return 0;
}

static int
w_twice(struct vmc_image *img, uint64_t offset)
{
    vmc_error(img->h, "%s: the grain at offset %" PRIu64 " is written twice "
              "(a new VMDK image is written once)", img->path, offset);
    return -1;
}

/* monolithicSparse: allocate N consecutive grains from grain G at once
 * (their first sector in *SECTOR), or mark them written as zeros (ZERO).
 * Refuses grains already written.  Returns 0 or -1.
 */
static int
w_sparse_alloc(struct vmc_image *img, struct vmdk_writer *w, uint64_t g,
               uint64_t n, bool zero, uint32_t flag, uint64_t *sector)
{
    uint64_t i, s;
    int r = -1;

    pthread_mutex_lock(&w->lock);
    s = w->next_sector;
    if (w->failed) {
        vmc_error(img->h, "%s: an earlier write failed", img->path);
        goto out;
    }
    for (i = 0; i < n; i++) {
        uint32_t *gt = w_gt_find(w, (g + i) / VMDK_W_GTES);

        if (gt && gt[(g + i) % VMDK_W_GTES] != 0) {
            w_twice(img, (g + i) * w->gbytes);
            goto out;
        }
    }
    if (!zero && s + n * VMDK_W_GRAIN > VMDK_W_MAX_SECTORS) {
        vmc_error(img->h, "%s: the sparse file would grow past 2 TiB, the "
                  "most a VMDK grain table can address", img->path);
        goto out;
    }
    for (i = 0; i < n; i++) {
        uint32_t *gt = w_gt_get(img, w, (g + i) / VMDK_W_GTES);

        if (gt == NULL)
            goto out;
        gt[(g + i) % VMDK_W_GTES] = flag |
            (zero ? VMDK_W_ZERO_MARK : (uint32_t) (s + i * VMDK_W_GRAIN));
    }
    if (!zero)
        w->next_sector = s + n * VMDK_W_GRAIN;
    *sector = s;
    r = 0;
out:
    pthread_mutex_unlock(&w->lock);
    return r;
}

/* monolithicSparse: allocate the grains of a request, runs of data
 * grains at consecutive sectors, FLAG on each entry; with WRITE, write
 * the data too.
 */
static int
w_sparse_place(struct vmc_image *img, struct vmdk_writer *w,
               const uint8_t *buf, size_t count, uint64_t offset,
               uint32_t flag, bool write)
{
    uint64_t g0 = offset / w->gbytes;
    uint64_t ngr = vmc_div_round_up(count, w->gbytes);
    uint64_t i = 0;

    if (w_check_aligned(img, w, count, offset) == -1)
        return -1;
    while (i < ngr) {
        uint64_t j = i, sector;
        bool zero;
        size_t len;

#define GLEN(k) ((k) == ngr - 1 ? count - (k) * w->gbytes : w->gbytes)
        zero = vmc_is_zero(buf + i * w->gbytes, GLEN(i));
        while (j + 1 < ngr &&
               vmc_is_zero(buf + (j + 1) * w->gbytes, GLEN(j + 1)) == zero)
            j++;
        len = (size_t) ((j - i) * w->gbytes + GLEN(j));
#undef GLEN
        if (w_sparse_alloc(img, w, g0 + i, j - i + 1, zero, flag,
                           &sector) == -1)
            return -1;
        if (write && !zero &&
            vmc_file_pwrite_full(img->file, buf + i * w->gbytes, len,
                                 sector * VMDK_SECTOR) == -1) {
            pthread_mutex_lock(&w->lock);
            w->failed = true;
            pthread_mutex_unlock(&w->lock);
            return -1;
        }
        i = j + 1;
    }
    return 0;
}

/* The sectors of the NGR grains from G0 reserved by vmdk_reserve, in
 * SEC (0 for a zero grain), their reservations cleared.  Returns 1, 0
 * if the first grain is not reserved, -1 if only part of them are.
 */
static int
w_sparse_take_reserved(struct vmc_image *img, struct vmdk_writer *w,
                       uint64_t g0, uint64_t ngr, uint32_t *sec)
{
    uint64_t i;
    int r = 1;

    pthread_mutex_lock(&w->lock);
    for (i = 0; i < ngr; i++) {
        uint32_t *gt = w_gt_find(w, (g0 + i) / VMDK_W_GTES);
        uint32_t *e = gt ? &gt[(g0 + i) % VMDK_W_GTES] : NULL;

        if (e == NULL || !(*e & VMDK_W_RESERVED)) {
            if (i == 0)
                r = 0;
            else {
                vmc_error(img->h, "%s: the grain at offset %" PRIu64 " was "
                          "not reserved with the rest of its request",
                          img->path, (g0 + i) * w->gbytes);
                r = -1;
            }
            break;
        }
        *e &= ~VMDK_W_RESERVED;
        sec[i] = *e == VMDK_W_ZERO_MARK ? 0 : *e;
    }
    pthread_mutex_unlock(&w->lock);
    return r;
}

static int
w_sparse_pwrite(struct vmc_image *img, struct vmdk_writer *w,
                const uint8_t *buf, size_t count, uint64_t offset)
{
    uint64_t g0 = offset / w->gbytes;
    uint64_t ngr = vmc_div_round_up(count, w->gbytes);
    CLEANUP_FREE uint32_t *sec = NULL;
    uint64_t i = 0;
    int r;

    if (w_check_aligned(img, w, count, offset) == -1)
        return -1;
    sec = vmc_calloc(img->h, img->path, ngr ? ngr : 1, sizeof *sec,
                     "write request");
    if (sec == NULL)
        return -1;
    r = w_sparse_take_reserved(img, w, g0, ngr, sec);
    if (r == -1)
        return -1;
    if (r == 0)
        return w_sparse_place(img, w, buf, count, offset, 0, true);
    /* Reserved: write each run of grains at consecutive sectors. */
    while (i < ngr) {
        uint64_t j = i, len;

        if (sec[i] == 0) {
            i++;
            continue;
        }
        while (j + 1 < ngr && sec[j + 1] == sec[j] + VMDK_W_GRAIN)
            j++;
        len = j == ngr - 1 ? count - i * w->gbytes : (j - i + 1) * w->gbytes;
        if (vmc_file_pwrite_full(img->file, buf + i * w->gbytes, len,
                                 (uint64_t) sec[i] * VMDK_SECTOR) == -1) {
            pthread_mutex_lock(&w->lock);
            w->failed = true;
            pthread_mutex_unlock(&w->lock);
            return -1;
        }
        i = j + 1;
    }
    return 0;
}

/* Ordered allocation (see struct vmc_format_ops): the copy engine
 * reserves the grains of each request in offset order, then writes
 * them with vmdk_pwrite from any thread, so grains lie in disk order.
 */
int
vmdk_reserve(struct vmc_image *img, const void *buf, size_t count,
             uint64_t offset)
{
    struct vmdk *v = img->priv;

    if (v->w == NULL || v->w->kind != VMDK_W_SPARSE)
        return 0;               /* nothing to allocate */
    return w_sparse_place(img, v->w, buf, count, offset, VMDK_W_RESERVED,
                          false);
}

static void
w_chunk_free(struct vmdk_chunk *c)
{
    if (c == NULL)
        return;
    free(c->data);
    free(c->grain);
    free(c->rel);
    free(c);
}

void
vmdk_free_encoded(void *chunk)
{
    w_chunk_free(chunk);
}

/* streamOptimized grains are zlib streams, compressed at zlib's
 * default level (6) by libdeflate: one call per grain, with no stream
 * state to set up, about twice as fast as zlib for the same size.
 */
#define VMDK_DEFLATE_LEVEL 6

/* streamOptimized: deflate the non-zero grains of BUF behind grain
 * markers, with compressor CMP (one per call, so any thread; touches
 * no shared state).
 */
static int
w_stream_encode_with(struct vmc_image *img, struct vmdk_writer *w,
                     struct libdeflate_compressor *cmp, const uint8_t *buf,
                     size_t count, uint64_t offset, struct vmdk_chunk *c)
{
    uint64_t ngr = vmc_div_round_up(count, w->gbytes);
    uint64_t cap = w->capacity * VMDK_SECTOR;
    size_t slot = vmc_round_up(sizeof(struct vmdk_grain_marker_disk) +
                               libdeflate_zlib_compress_bound(cmp, w->gbytes),
                               VMDK_SECTOR);
    CLEANUP_FREE uint8_t *pad = NULL;
    uint64_t k;

    c->data = malloc(ngr * slot);
    c->grain = malloc(ngr * sizeof *c->grain);
    c->rel = malloc(ngr * sizeof *c->rel);
    if (c->data == NULL || c->grain == NULL || c->rel == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    for (k = 0; k < ngr; k++) {
        uint64_t gstart = offset + k * w->gbytes;
        size_t len = k == ngr - 1 ? count - k * w->gbytes : w->gbytes;
        size_t want = cap - gstart < w->gbytes ? cap - gstart : w->gbytes;
        const uint8_t *src = buf + k * w->gbytes;
        uint8_t *out = c->data + c->len;
        struct vmdk_grain_marker_disk *mk = (void *) out;
        size_t clen;

        if (vmc_is_zero(src, len))
            continue;
        if (len < want) {
            /* The disk's size is not a multiple of 512: pad the sector. */
            if (pad == NULL && (pad = calloc(1, w->gbytes)) == NULL) {
                vmc_error(img->h, "%s: %m", img->path);
                return -1;
            }
            memcpy(pad, src, len);
            src = pad;
        }
        clen = libdeflate_zlib_compress(cmp, src, want, out + sizeof *mk,
                                        slot - sizeof *mk);
        if (clen == 0) {
            /* Cannot happen: the slot holds the compressor's bound. */
            vmc_error(img->h, "%s: compressing the grain at offset %" PRIu64
                      ": output larger than its bound", img->path, gstart);
            return -1;
        }
        vmc_put_le64(&mk->lba, gstart / VMDK_SECTOR);
        vmc_put_le32(&mk->size, (uint32_t) clen);
        len = vmc_round_up(sizeof *mk + clen, VMDK_SECTOR);
        memset(out + sizeof *mk + clen, 0, len - sizeof *mk - clen);
        c->grain[c->ngrains] = gstart / w->gbytes;
        c->rel[c->ngrains] = (uint32_t) (c->len / VMDK_SECTOR);
        c->ngrains++;
        c->len += len;
    }
    return 0;
}

static int
w_stream_encode(struct vmc_image *img, struct vmdk_writer *w,
                const uint8_t *buf, size_t count, uint64_t offset,
                struct vmdk_chunk *c)
{
    struct libdeflate_compressor *cmp;
    int r;

    cmp = libdeflate_alloc_compressor(VMDK_DEFLATE_LEVEL);
    if (cmp == NULL) {
        vmc_error(img->h, "%s: cannot set up compression: %m", img->path);
        return -1;
    }
    r = w_stream_encode_with(img, w, cmp, buf, count, offset, c);
    libdeflate_free_compressor(cmp);
    return r;
}

int
vmdk_encode(struct vmc_image *img, const void *buf, size_t count,
            uint64_t offset, void **chunk)
{
    struct vmdk *v = img->priv;
    struct vmdk_writer *w = v->w;
    struct vmdk_chunk *c;

    *chunk = NULL;
    if (w->kind != VMDK_W_FLAT && w_check_aligned(img, w, count, offset) == -1)
        return -1;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    c->offset = offset;
    c->count = count;
    vmc_repro_data(&w->repro, buf, count, offset);
    if (w->kind == VMDK_W_STREAM) {
        if (w_stream_encode(img, w, buf, count, offset, c) == -1) {
            w_chunk_free(c);
            return -1;
        }
    } else {
        c->data = malloc(count ? count : 1);
        if (c->data == NULL) {
            vmc_error(img->h, "%s: %m", img->path);
            w_chunk_free(c);
            return -1;
        }
        memcpy(c->data, buf, count);
        c->len = count;
    }
    *chunk = c;
    return 0;
}

/* streamOptimized: append an encoded chunk and record its grains. */
static int
w_stream_store(struct vmc_image *img, struct vmdk_writer *w,
               const struct vmdk_chunk *c)
{
    uint64_t sector;
    size_t i;
    int r = -1;

    pthread_mutex_lock(&w->lock);
    if (w->finished || w->failed) {
        vmc_error(img->h, "%s: write after the image was %s", img->path,
                  w->finished ? "finished" : "damaged by a failed write");
        goto out;
    }
    if (c->offset < w->next_offset) {
        vmc_error(img->h, "%s: write at offset %" PRIu64 " comes after a "
                  "write that ended at %" PRIu64 ": streamOptimized images "
                  "are written once, in increasing offset order", img->path,
                  c->offset, w->next_offset);
        goto out;
    }
    sector = w->next_sector;
    if (sector + c->len / VMDK_SECTOR > VMDK_W_MAX_SECTORS) {
        vmc_error(img->h, "%s: the stream would grow past 2 TiB, the most a "
                  "VMDK grain table can address", img->path);
        goto out;
    }
    if (c->len > 0 &&
        vmc_file_pwrite_full(img->file, c->data, c->len,
                             sector * VMDK_SECTOR) == -1) {
        w->failed = true;
        goto out;
    }
    for (i = 0; i < c->ngrains; i++) {
        uint32_t *gt = w_gt_get(img, w, c->grain[i] / VMDK_W_GTES);

        if (gt == NULL) {
            w->failed = true;
            goto out;
        }
        gt[c->grain[i] % VMDK_W_GTES] = (uint32_t) (sector + c->rel[i]);
    }
    w->next_sector = sector + c->len / VMDK_SECTOR;
    w->next_offset = c->offset + c->count;
    r = 0;
out:
    pthread_mutex_unlock(&w->lock);
    return r;
}

static int
w_store(struct vmc_image *img, struct vmdk_writer *w, const uint8_t *buf,
        size_t count, uint64_t offset)
{
    if (w->kind == VMDK_W_FLAT)
        return vmc_file_pwrite_full(w->flat_file, buf, count, offset);
    return w_sparse_pwrite(img, w, buf, count, offset);
}

/* Stores CHUNK and frees it, whether it succeeds or not. */
int
vmdk_write_encoded(struct vmc_image *img, void *chunk)
{
    struct vmdk *v = img->priv;
    struct vmdk_chunk *c = chunk;
    int r;

    if (v->w->kind == VMDK_W_STREAM)
        r = w_stream_store(img, v->w, c);
    else
        r = w_store(img, v->w, c->data, c->count, c->offset);
    w_chunk_free(c);
    return r;
}

int
vmdk_pwrite(struct vmc_image *img, const void *buf, size_t count,
            uint64_t offset)
{
    struct vmdk *v = img->priv;
    void *chunk;

    if (v->w == NULL) {
        vmc_error(img->h, "%s: image is open read-only", img->path);
        return -1;
    }
    if (v->w->kind != VMDK_W_STREAM) {
        vmc_repro_data(&v->w->repro, buf, count, offset);
        return w_store(img, v->w, buf, count, offset);
    }
    if (vmdk_encode(img, buf, count, offset, &chunk) == -1)
        return -1;
    return vmdk_write_encoded(img, chunk);
}

/* ---- Flush -------------------------------------------------------- */

static int
w_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

/* Copy grain table GTE into BUF as stored (zero marks become 0; in a
 * sparse image, reservations left by a failed copy are dropped).
 */
static void
w_put_gt(const struct vmdk_writer *w, uint8_t *buf, const uint32_t *gte)
{
    size_t i;

    for (i = 0; i < VMDK_W_GTES; i++) {
        uint32_t e = gte ? gte[i] : 0;

        if (w->kind == VMDK_W_SPARSE)
            e &= ~VMDK_W_RESERVED;

        vmc_put_le32(buf + i * 4, e != VMDK_W_ZERO_MARK ? e : 0);
    }
}

/* The numbers of the touched grain tables, sorted, in *KEYS (the
 * caller frees it) and their count in *N.
 */
static int
w_sorted_keys(struct vmc_image *img, struct vmdk_writer *w, uint64_t **keys,
              size_t *n)
{
    size_t i;

    *n = 0;
    *keys = malloc((w->gts_count ? w->gts_count : 1) * sizeof **keys);
    if (*keys == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    for (i = 0; i < w->gts_cap; i++)
        if (w->gts[i].gte)
            (*keys)[(*n)++] = w->gts[i].gdi;
    qsort(*keys, *n, sizeof **keys, w_cmp_u64);
    return 0;
}

/* monolithicSparse: write the touched grain tables, both copies. */
static int
w_flush_sparse(struct vmc_image *img, struct vmdk_writer *w)
{
    CLEANUP_FREE uint64_t *keys = NULL;
    CLEANUP_FREE uint8_t *buf = NULL;
    size_t n = 0, i, gtb = VMDK_W_GT_SECTORS * VMDK_SECTOR;
    size_t per = VMDK_W_BUF / gtb;

    buf = malloc(VMDK_W_BUF);
    if (buf == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    if (w_sorted_keys(img, w, &keys, &n) == -1)
        return -1;
    for (i = 0; i < n;) {
        size_t j = i, k;
        uint64_t off;

        while (j + 1 < n && keys[j + 1] == keys[j] + 1 && j + 1 - i < per)
            j++;
        for (k = i; k <= j; k++)
            w_put_gt(w, buf + (k - i) * gtb, w_gt_find(w, keys[k]));
        off = keys[i] * VMDK_W_GT_SECTORS;
        if (vmc_file_pwrite_full(img->file, buf, (j - i + 1) * gtb,
                                 (w->gt_offset + off) * VMDK_SECTOR) == -1 ||
            vmc_file_pwrite_full(img->file, buf, (j - i + 1) * gtb,
                                 (w->rgt_offset + off) * VMDK_SECTOR) == -1)
            return -1;
        i = j + 1;
    }
    if (vmc_file_truncate(img->file, w->next_sector * VMDK_SECTOR) == -1)
        return -1;
    return 0;
}

/* Buffered appends for the stream's tail. */
struct w_out {
    struct vmc_image *img;
    uint8_t *buf;
    size_t len;
    uint64_t pos;               /* file offset of buf[0] */
};

static int
w_out_flush(struct w_out *o)
{
    if (o->len == 0)
        return 0;
    if (vmc_file_pwrite_full(o->img->file, o->buf, o->len, o->pos) == -1)
        return -1;
    o->pos += o->len;
    o->len = 0;
    return 0;
}

/* Append LEN bytes (a multiple of 512, at most VMDK_W_BUF) of P, or of
 * zeros if P is NULL.
 */
static int
w_out_put(struct w_out *o, const void *p, size_t len)
{
    if (o->len + len > VMDK_W_BUF && w_out_flush(o) == -1)
        return -1;
    if (p)
        memcpy(o->buf + o->len, p, len);
    else
        memset(o->buf + o->len, 0, len);
    o->len += len;
    return 0;
}

static int
w_out_marker(struct w_out *o, uint64_t num_sectors, uint32_t type)
{
    struct vmdk_meta_marker_disk m;

    memset(&m, 0, sizeof m);
    vmc_put_le64(&m.num_sectors, num_sectors);
    vmc_put_le32(&m.type, type);
    return w_out_put(o, &m, sizeof m);
}

/* streamOptimized: the grain tables that hold grains, each behind a
 * GT marker, in directory order; the directory behind a GD marker
 * (entry 0 for tables with no grain, as ESXi's own exports have it);
 * the footer (a copy of the header with the directory's offset) behind
 * its marker; the end-of-stream marker.
 */
static int
w_flush_stream(struct vmc_image *img, struct vmdk_writer *w)
{
    CLEANUP_FREE uint8_t *buf = malloc(VMDK_W_BUF);
    CLEANUP_FREE uint64_t *keys = NULL;
    uint8_t gt[VMDK_W_GT_SECTORS * VMDK_SECTOR];
    uint8_t footer[VMDK_SECTOR];
    uint64_t gt0 = w->next_sector, gd, i, end, done, total;
    struct w_out o = { img, buf, 0, w->next_sector * VMDK_SECTOR };
    size_t n, j;

    if (buf == NULL || w_sorted_keys(img, w, &keys, &n) == -1) {
        if (buf == NULL)
            vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    gd = gt0 + n * (1 + VMDK_W_GT_SECTORS) + 1;
    end = gd + w->gd_sectors + 3;
    if (end > VMDK_W_MAX_SECTORS) {
        vmc_error(img->h, "%s: the stream would grow past 2 TiB, the most a "
                  "VMDK grain directory can address", img->path);
        return -1;
    }
    for (j = 0; j < n; j++) {
        w_put_gt(w, gt, w_gt_find(w, keys[j]));
        if (w_out_marker(&o, VMDK_W_GT_SECTORS, VMDK_MARKER_GT) == -1 ||
            w_out_put(&o, gt, sizeof gt) == -1)
            return -1;
    }
    if (w_out_marker(&o, w->gd_sectors, VMDK_MARKER_GD) == -1)
        return -1;
    /* The directory, streamed: table j sits after its marker. */
    total = w->gd_sectors * VMDK_SECTOR;
    for (done = 0, i = 0, j = 0; done < total; done += VMDK_SECTOR) {
        uint8_t sec[VMDK_SECTOR];
        size_t k;

        memset(sec, 0, sizeof sec);
        for (k = 0; k < VMDK_SECTOR / 4 && i < w->gd_entries; k++, i++)
            if (j < n && keys[j] == i) {
                vmc_put_le32(sec + k * 4, (uint32_t) (gt0 + j *
                             (1 + VMDK_W_GT_SECTORS) + 1));
                j++;
            }
        if (w_out_put(&o, sec, sizeof sec) == -1)
            return -1;
    }
    w_header(w, footer, 3, VMDK4_FLAG_NL_DETECT | VMDK4_FLAG_COMPRESS |
             VMDK4_FLAG_MARKER, gd, 0, VMDK4_COMPRESS_DEFLATE);
    if (w_out_marker(&o, 1, VMDK_MARKER_FOOTER) == -1 ||
        w_out_put(&o, footer, sizeof footer) == -1 ||
        w_out_marker(&o, 0, VMDK_MARKER_EOS) == -1 ||
        w_out_flush(&o) == -1)
        return -1;
    if (vmc_file_truncate(img->file, end * VMDK_SECTOR) == -1)
        return -1;
    w->finished = true;
    return 0;
}

int
vmdk_flush(struct vmc_image *img)
{
    struct vmdk *v = img->priv;
    struct vmdk_writer *w = v ? v->w : NULL;
    int r = 0;

    if (w == NULL)
        return 0;
    pthread_mutex_lock(&w->lock);
    if (w->failed) {
        vmc_error(img->h, "%s: an earlier write failed; the image is not "
                  "complete", img->path);
        r = -1;
    } else if (w->repro.on && !w->finished && w_repro_desc(img, w) == -1) {
        r = -1;
    } else if (w->kind == VMDK_W_SPARSE) {
        r = w_flush_sparse(img, w);
    } else if (w->kind == VMDK_W_STREAM && !w->finished) {
        r = w_flush_stream(img, w);
    }
    pthread_mutex_unlock(&w->lock);
    return r;
}
