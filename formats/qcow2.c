/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 (QEMU copy-on-write, versions 2 and 3): probe, open with every
 * header check of ../shared/specs/qcow2.md §8, the read path (L2 cache,
 * zero and compressed clusters, extended L2 subclusters, backing
 * files), block status and info.  Writing is in qcow2-write.c, the
 * structural check in qcow2-check.c.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "qcow2-internal.h"

/* L2 entries fetched from the cache at a time while mapping. */
#define QCOW2_MAP_BATCH 256

static int
qcow2_probe(const struct vmc_probe *p)
{
    /* Any "QFI\xfb" file is ours, even a version we refuse, so that
     * a qcow v1 image is never read as raw.
     */
    if (p->head_len >= 4 && vmc_be32(p->head) == QCOW2_MAGIC)
        return 100;
    return 0;
}

/* ---- Header ------------------------------------------------------- */

static void
qcow2_decode_header(const uint8_t *b, struct qcow2_header *hd)
{
    const struct qcow2_header_disk *d = (const void *) b;

    hd->version = vmc_be32(&d->version);
    hd->backing_file_offset = vmc_be64(&d->backing_file_offset);
    hd->backing_file_size = vmc_be32(&d->backing_file_size);
    hd->cluster_bits = vmc_be32(&d->cluster_bits);
    hd->size = vmc_be64(&d->size);
    hd->crypt_method = vmc_be32(&d->crypt_method);
    hd->l1_size = vmc_be32(&d->l1_size);
    hd->l1_table_offset = vmc_be64(&d->l1_table_offset);
    hd->refcount_table_offset = vmc_be64(&d->refcount_table_offset);
    hd->refcount_table_clusters = vmc_be32(&d->refcount_table_clusters);
    hd->nb_snapshots = vmc_be32(&d->nb_snapshots);
    hd->snapshots_offset = vmc_be64(&d->snapshots_offset);
    if (hd->version >= 3) {
        hd->incompatible = vmc_be64(&d->incompatible_features);
        hd->compatible = vmc_be64(&d->compatible_features);
        hd->autoclear = vmc_be64(&d->autoclear_features);
        hd->refcount_order = vmc_be32(&d->refcount_order);
        hd->header_length = vmc_be32(&d->header_length);
        hd->compression_type = hd->header_length > QCOW2_V3_MIN_HEADER_LEN
            ? d->compression_type : 0;
    } else {
        hd->incompatible = hd->compatible = hd->autoclear = 0;
        hd->refcount_order = 4;
        hd->header_length = QCOW2_V2_HEADER_LEN;
        hd->compression_type = 0;
    }
}

/* Version, cluster size and header length. */
static int
qcow2_check_basics(struct vmc_image *img, const uint8_t *b,
                   const struct qcow2_header *hd)
{
    struct vmc_handle *h = img->h;
    uint64_t cs;

    if (vmc_be32(b) != QCOW2_MAGIC) {
        vmc_error(h, "%s: bad magic at offset 0: not a qcow2 image",
                  img->path);
        return -1;
    }
    if (hd->version == 1) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: qcow version 1 images are not supported",
                       img->path);
        return -1;
    }
    if (hd->version != 2 && hd->version != 3) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: header field version at offset 4: unsupported "
                       "qcow2 version %" PRIu32, img->path, hd->version);
        return -1;
    }
    if (hd->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
        hd->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        vmc_error(h, "%s: header field cluster_bits at offset 20: %" PRIu32
                  " is outside %d..%d", img->path, hd->cluster_bits,
                  QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
        return -1;
    }
    cs = 1ull << hd->cluster_bits;
    if (hd->version >= 3) {
        if (hd->header_length < QCOW2_V3_MIN_HEADER_LEN ||
            hd->header_length % 8 != 0 || hd->header_length > cs) {
            vmc_error(h, "%s: header field header_length at offset 100: "
                      "%" PRIu32 " must be a multiple of 8 between %d and "
                      "the cluster size %" PRIu64, img->path,
                      hd->header_length, QCOW2_V3_MIN_HEADER_LEN, cs);
            return -1;
        }
        if (hd->header_length > img->file_size) {
            vmc_error(h, "%s: header of %" PRIu32 " bytes is longer than "
                      "the file (%" PRIu64 " bytes)", img->path,
                      hd->header_length, img->file_size);
            return -1;
        }
    }
    return 0;
}

/* Name the incompatible feature BIT from the feature name table in
 * cluster 0 (FT, FT_LEN bytes) into NAME.
 */
static void
qcow2_feature_name(const uint8_t *ft, size_t ft_len, unsigned bit,
                   char *name, size_t name_len)
{
    size_t i;

    snprintf(name, name_len, "unnamed");
    for (i = 0; ft && i + sizeof(struct qcow2_feature_disk) <= ft_len;
         i += sizeof(struct qcow2_feature_disk)) {
        const struct qcow2_feature_disk *f = (const void *) (ft + i);
        size_t n;

        if (f->type != 0 || f->bit != bit)
            continue;
        for (n = 0; n < sizeof f->name && f->name[n] >= 0x20 &&
                 f->name[n] < 0x7f; n++)
            ;
        snprintf(name, name_len, "'%.*s'", (int) n, f->name);
        return;
    }
}

/* Feature bits, encryption, compression type. */
static int
qcow2_check_features(struct vmc_image *img, const struct qcow2_header *hd,
                     const uint8_t *ft, size_t ft_len)
{
    struct vmc_handle *h = img->h;
    uint64_t unknown = hd->incompatible & ~QCOW2_INCOMPAT_KNOWN;

    if (unknown) {
        char name[64];
        unsigned bit = (unsigned) __builtin_ctzll(unknown);

        qcow2_feature_name(ft, ft_len, bit, name, sizeof name);
        vmc_error(h, "%s: header field incompatible_features at offset 72: "
                  "unknown incompatible feature bit %u (%s); this image "
                  "needs a newer reader", img->path, bit, name);
        return -1;
    }
    if (hd->crypt_method != 0) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: encrypted qcow2 is not supported (crypt_method %"
                       PRIu32 " at offset 32)", img->path, hd->crypt_method);
        return -1;
    }
    if ((hd->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) &&
        !(hd->incompatible & QCOW2_INCOMPAT_DATA_FILE)) {
        vmc_error(h, "%s: header field autoclear_features at offset 88: "
                  "data-file-raw is set but the image has no external data "
                  "file", img->path);
        return -1;
    }
    if (hd->compression_type > QCOW2_COMPRESSION_ZSTD) {
        vmc_error(h, "%s: header field compression_type at offset 104: "
                  "unknown compression type %u", img->path,
                  hd->compression_type);
        return -1;
    }
    if ((hd->compression_type != 0) !=
        ((hd->incompatible & QCOW2_INCOMPAT_COMPRESSION) != 0)) {
        vmc_error(h, "%s: compression type %u does not match the "
                  "compression-type incompatible feature bit", img->path,
                  hd->compression_type);
        return -1;
    }
    if ((hd->incompatible & QCOW2_INCOMPAT_EXTL2) &&
        hd->cluster_bits < QCOW2_MIN_EXTL2_CLUSTER_BITS) {
        vmc_error(h, "%s: extended L2 entries need clusters of at least "
                  "16 KiB, cluster_bits is %" PRIu32, img->path,
                  hd->cluster_bits);
        return -1;
    }
    if (hd->refcount_order > QCOW2_MAX_REFCOUNT_ORDER) {
        vmc_error(h, "%s: header field refcount_order at offset 96: %" PRIu32
                  " is more than %d", img->path, hd->refcount_order,
                  QCOW2_MAX_REFCOUNT_ORDER);
        return -1;
    }
    return 0;
}

/* Size, L1 table, refcount table, snapshot table. */
static int
qcow2_check_tables(struct vmc_image *img, struct qcow2 *q)
{
    struct vmc_handle *h = img->h;
    const struct qcow2_header *hd = &q->hdr;
    uint64_t cs = q->cluster_size;
    uint64_t cover = cs * q->l2_entries;
    uint64_t needed, len;

    if (hd->size > INT64_MAX) {
        vmc_error(h, "%s: header field size at offset 24: %" PRIu64
                  " is too large", img->path, hd->size);
        return -1;
    }
    needed = vmc_div_round_up(hd->size, cover);
    if (needed > QCOW2_MAX_L1_ENTRIES) {
        vmc_error(h, "%s: header field size at offset 24: virtual size %"
                  PRIu64 " needs %" PRIu64 " L1 entries, more than %u",
                  img->path, hd->size, needed, QCOW2_MAX_L1_ENTRIES);
        return -1;
    }
    if (hd->l1_size > QCOW2_MAX_L1_ENTRIES) {
        vmc_error(h, "%s: header field l1_size at offset 36: %" PRIu32
                  " entries is more than the limit of %u", img->path,
                  hd->l1_size, QCOW2_MAX_L1_ENTRIES);
        return -1;
    }
    if (hd->l1_size < needed) {
        vmc_error(h, "%s: header field l1_size at offset 36: %" PRIu32
                  " entries cannot map the virtual size %" PRIu64
                  " (needs %" PRIu64 ")", img->path, hd->l1_size,
                  hd->size, needed);
        return -1;
    }
    q->l1_needed = (uint32_t) needed;
    if (hd->l1_size > 0) {
        if (hd->l1_table_offset % cs != 0) {
            vmc_error(h, "%s: L1 table offset %" PRIu64 " is not aligned "
                      "to the cluster size", img->path, hd->l1_table_offset);
            return -1;
        }
        if (hd->l1_table_offset == 0) {
            vmc_error(h, "%s: L1 table at offset 0 overlaps the header",
                      img->path);
            return -1;
        }
        if (vmc_check_range(h, img->path, img->file_size,
                            hd->l1_table_offset, (uint64_t) hd->l1_size * 8,
                            "L1 table") == -1)
            return -1;
    }

    if (hd->refcount_table_clusters == 0) {
        vmc_error(h, "%s: header field refcount_table_clusters at offset "
                  "56: the image has no refcount table", img->path);
        return -1;
    }
    len = (uint64_t) hd->refcount_table_clusters * cs;
    if (len > QCOW2_MAX_REFTABLE_BYTES) {
        vmc_error(h, "%s: header field refcount_table_clusters at offset "
                  "56: %" PRIu32 " clusters is more than the limit of %u "
                  "bytes", img->path, hd->refcount_table_clusters,
                  QCOW2_MAX_REFTABLE_BYTES);
        return -1;
    }
    if (hd->refcount_table_offset % cs != 0 ||
        hd->refcount_table_offset == 0) {
        vmc_error(h, "%s: refcount table offset %" PRIu64 " is not a "
                  "cluster-aligned offset after the header", img->path,
                  hd->refcount_table_offset);
        return -1;
    }
    if (vmc_check_range(h, img->path, img->file_size,
                        hd->refcount_table_offset, len,
                        "refcount table") == -1)
        return -1;

    if (hd->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        vmc_error(h, "%s: header field nb_snapshots at offset 60: %" PRIu32
                  " is more than %d", img->path, hd->nb_snapshots,
                  QCOW2_MAX_SNAPSHOTS);
        return -1;
    }
    if (hd->nb_snapshots > 0 &&
        (hd->snapshots_offset % cs != 0 || hd->snapshots_offset == 0 ||
         hd->snapshots_offset >= img->file_size)) {
        vmc_error(h, "%s: snapshot table offset %" PRIu64 " is not a "
                  "cluster-aligned offset inside the file", img->path,
                  hd->snapshots_offset);
        return -1;
    }
    return 0;
}

/* Copy LEN bytes at P (from cluster 0 at offset OFF) into a new string,
 * refusing NULs and control characters.  WHAT names the field.
 */
static char *
qcow2_string(struct vmc_image *img, const uint8_t *p, size_t len,
             uint64_t off, const char *what)
{
    char *s;
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] == 0x7f) {
            vmc_error(img->h, "%s: %s at offset %" PRIu64 " contains a "
                      "control character or NUL", img->path, what, off);
            return NULL;
        }
    s = malloc(len + 1);
    if (s == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return NULL;
    }
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* Walk the header extensions in cluster 0 (C0, C0_LEN bytes) between
 * the header and END.  Sets the backing format and bitmaps, and *FT
 * (feature name table) for naming features.
 */
static int
qcow2_read_extensions(struct vmc_image *img, struct qcow2 *q,
                      const uint8_t *c0, uint64_t end,
                      const uint8_t **ft, size_t *ft_len)
{
    struct vmc_handle *h = img->h;
    uint64_t off = q->hdr.header_length;
    unsigned seen = 0;

    while (off < end) {
        uint32_t type, len;
        unsigned bit = 0;

        if (end - off < 8) {
            vmc_error(h, "%s: header extension at offset %" PRIu64 ": "
                      "truncated by the end of the header area at %" PRIu64,
                      img->path, off, end);
            return -1;
        }
        type = vmc_be32(c0 + off);
        len = vmc_be32(c0 + off + 4);
        if (type == QCOW2_EXT_END)
            break;
        if (len > end - off - 8) {
            vmc_error(h, "%s: header extension 0x%08" PRIx32 " at offset %"
                      PRIu64 ": length %" PRIu32 " overflows the header "
                      "area (cluster 0 ends at %" PRIu64 ")", img->path,
                      type, off, len, end);
            return -1;
        }
        switch (type) {
        case QCOW2_EXT_BACKING_FMT:
            bit = 1;
            if (len == 0 || len > QCOW2_MAX_BACKING_FMT) {
                vmc_error(h, "%s: backing format extension at offset %"
                          PRIu64 ": length %" PRIu32 " is not 1..%d",
                          img->path, off, len, QCOW2_MAX_BACKING_FMT);
                return -1;
            }
            q->backing_fmt = qcow2_string(img, c0 + off + 8, len, off + 8,
                                          "backing format");
            if (q->backing_fmt == NULL)
                return -1;
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            bit = 2;
            *ft = c0 + off + 8;
            *ft_len = len;
            break;
        case QCOW2_EXT_BITMAPS: {
            const struct qcow2_bitmaps_ext_disk *b =
                (const void *) (c0 + off + 8);

            bit = 4;
            if (len < sizeof *b) {
                vmc_error(h, "%s: bitmaps extension at offset %" PRIu64
                          ": length %" PRIu32 " is too short", img->path,
                          off, len);
                return -1;
            }
            q->bitmaps.present = true;
            q->bitmaps.nb_bitmaps = vmc_be32(&b->nb_bitmaps);
            q->bitmaps.directory_size = vmc_be64(&b->directory_size);
            q->bitmaps.directory_offset = vmc_be64(&b->directory_offset);
            break;
        }
        case QCOW2_EXT_CRYPTO:
            bit = 8;
            break;
        case QCOW2_EXT_DATA_FILE:
            bit = 16;
            if (len == 0 || len > QCOW2_MAX_DATA_FILE_NAME) {
                vmc_error(h, "%s: data file name extension at offset %"
                          PRIu64 ": length %" PRIu32 " is not 1..%d",
                          img->path, off, len, QCOW2_MAX_DATA_FILE_NAME);
                return -1;
            }
            if (bit & seen)
                break;          /* reported below */
            q->data_file_name = qcow2_string(img, c0 + off + 8, len, off + 8,
                                             "data file name");
            if (q->data_file_name == NULL)
                return -1;
            break;
        default:
            break;                      /* unknown: skip */
        }
        if (bit & seen) {
            vmc_error(h, "%s: header extension 0x%08" PRIx32 " at offset %"
                      PRIu64 " appears twice", img->path, type, off);
            return -1;
        }
        seen |= bit;
        off += 8 + vmc_round_up(len, 8);
    }
    return 0;
}

/* Read and check cluster 0: header, extensions and backing name. */
static int
qcow2_read_header(struct vmc_image *img, struct qcow2 *q)
{
    struct vmc_handle *h = img->h;
    struct qcow2_header *hd = &q->hdr;
    CLEANUP_FREE uint8_t *c0 = NULL;
    uint8_t b[sizeof(struct qcow2_header_disk)] = { 0 };
    uint64_t c0_len, end;
    const uint8_t *ft = NULL;
    size_t ft_len = 0;

    if (img->file_size < QCOW2_V2_HEADER_LEN) {
        vmc_error(h, "%s: file of %" PRIu64 " bytes is too small for a "
                  "qcow2 header", img->path, img->file_size);
        return -1;
    }
    if (vmc_file_pread_full(img->file, b,
                            img->file_size < sizeof b ? img->file_size : sizeof b,
                            0) == -1)
        return -1;
    qcow2_decode_header(b, hd);
    if (qcow2_check_basics(img, b, hd) == -1)
        return -1;
    q->cluster_size = 1ull << hd->cluster_bits;
    q->extended_l2 = (hd->incompatible & QCOW2_INCOMPAT_EXTL2) != 0;
    q->l2_entry_size = q->extended_l2 ? 16 : 8;
    q->l2_entries = (uint32_t) (q->cluster_size / q->l2_entry_size);
    q->subcluster_size = q->extended_l2
        ? q->cluster_size / QCOW2_SUBCLUSTERS : q->cluster_size;
    q->csize_shift = 62 - (hd->cluster_bits - 8);
    q->csize_mask = (1ull << (hd->cluster_bits - 8)) - 1;
    q->coffset_mask = (1ull << q->csize_shift) - 1;

    /* Cluster 0: the header area.  qemu reads extensions and the
     * backing name only there.
     */
    c0_len = q->cluster_size < img->file_size ? q->cluster_size
        : img->file_size;
    c0 = vmc_malloc(h, img->path, c0_len, "header cluster");
    if (c0 == NULL ||
        vmc_file_pread_full(img->file, c0, c0_len, 0) == -1)
        return -1;

    end = c0_len;
    if (hd->backing_file_offset != 0) {
        uint64_t bend;

        if (hd->backing_file_size > QCOW2_MAX_BACKING_NAME) {
            vmc_error(h, "%s: header field backing_file_size at offset 16: "
                      "%" PRIu32 " is more than %d", img->path,
                      hd->backing_file_size, QCOW2_MAX_BACKING_NAME);
            return -1;
        }
        if (hd->backing_file_offset < hd->header_length ||
            vmc_add_overflow(hd->backing_file_offset,
                             hd->backing_file_size, &bend) ||
            bend > c0_len) {
            vmc_error(h, "%s: backing file name at offset %" PRIu64
                      " length %" PRIu32 " is not inside the header cluster "
                      "after the header", img->path, hd->backing_file_offset,
                      hd->backing_file_size);
            return -1;
        }
        end = hd->backing_file_offset;
    }
    if (qcow2_read_extensions(img, q, c0, end, &ft, &ft_len) == -1)
        return -1;
    if (qcow2_check_features(img, hd, ft, ft_len) == -1)
        return -1;
    if (hd->backing_file_offset != 0 && hd->backing_file_size > 0) {
        q->backing_name = qcow2_string(img, c0 + hd->backing_file_offset,
                                       hd->backing_file_size,
                                       hd->backing_file_offset,
                                       "backing file name");
        if (q->backing_name == NULL)
            return -1;
    }
    return qcow2_check_tables(img, q);
}

static int
qcow2_read_l1(struct vmc_image *img, struct qcow2 *q)
{
    CLEANUP_FREE uint8_t *raw = NULL;
    uint32_t i;

    q->l1 = vmc_calloc(img->h, img->path, q->l1_needed ? q->l1_needed : 1,
                       sizeof(uint64_t), "L1 table");
    if (q->l1 == NULL)
        return -1;
    if (q->l1_needed == 0)
        return 0;
    raw = vmc_malloc(img->h, img->path, (uint64_t) q->l1_needed * 8,
                     "L1 table");
    if (raw == NULL ||
        vmc_file_pread_full(img->file, raw, (size_t) q->l1_needed * 8,
                            q->hdr.l1_table_offset) == -1)
        return -1;
    for (i = 0; i < q->l1_needed; i++)
        q->l1[i] = vmc_be64(raw + (size_t) i * 8);
    return 0;
}

void
qcow2_free(struct qcow2 *q)
{
    unsigned i;

    if (q == NULL)
        return;
    for (i = 0; i < QCOW2_L2_CACHE_TABLES; i++)
        free(q->cache[i].data);
    pthread_mutex_destroy(&q->cache_lock);
    qcow2_writer_free(q->writer);
    free(q->l1);
    free(q->backing_name);
    free(q->backing_fmt);
    free(q->data_file_name);
    if (q->external)
        vmc_file_close(q->data);
    free(q);
}

/* Allocate the private state with its cache lock. */
struct qcow2 *
qcow2_new(struct vmc_image *img)
{
    struct qcow2 *q = calloc(1, sizeof *q);

    if (q == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return NULL;
    }
    pthread_mutex_init(&q->cache_lock, NULL);
    return q;
}

/* Where the data clusters are: the image itself, or (incompatible
 * feature bit 2) the external data file its header names, resolved
 * relative to the image's directory, not to the working directory as
 * qemu does, under the path policy of backing files, and opened
 * read-only.
 */
static int
qcow2_open_data_file(struct vmc_image *img, struct qcow2 *q)
{
    struct vmc_handle *h = img->h;

    if (!(q->hdr.incompatible & QCOW2_INCOMPAT_DATA_FILE)) {
        q->data = img->file;
        q->data_size = img->file_size;
        return 0;
    }
    if (q->data_file_name == NULL) {
        vmc_error(h, "%s: the image keeps its data in an external data file "
                  "(incompatible feature bit 2) but its header does not name "
                  "one", img->path);
        return -1;
    }
    q->data_raw = (q->hdr.autoclear & QCOW2_AUTOCLEAR_DATA_RAW) != 0;
    if (q->data_raw && q->backing_name) {
        vmc_error(h, "%s: data-file-raw is set but the image has a backing "
                  "file '%s' (qemu-img check calls this corrupt)", img->path,
                  q->backing_name);
        return -1;
    }
    q->data = vmc_image_open_related(img, q->data_file_name, "data file",
                                     NULL);
    if (q->data == NULL)
        return -1;
    q->external = true;
    return vmc_file_get_size(q->data, &q->data_size);
}

static int
qcow2_open(struct vmc_image *img)
{
    struct vmc_handle *h = img->h;
    struct qcow2 *q;

    if (img->writable) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: opening an existing qcow2 image for writing is "
                       "not supported yet", img->path);
        return -1;
    }
    q = qcow2_new(img);
    if (q == NULL)
        return -1;
    if (qcow2_read_header(img, q) == -1 || qcow2_read_l1(img, q) == -1 ||
        qcow2_open_data_file(img, q) == -1)
        goto fail;
    q->cache_slots = (unsigned) (QCOW2_L2_CACHE_BYTES / q->cluster_size);
    if (q->cache_slots > QCOW2_L2_CACHE_TABLES)
        q->cache_slots = QCOW2_L2_CACHE_TABLES;
    img->size = q->hdr.size;
    img->cluster_size = (uint32_t) q->cluster_size;
    img->priv = q;

    if (q->hdr.incompatible & QCOW2_INCOMPAT_CORRUPT)
        vmc_warning(h, "%s: the image is marked corrupt; reading it anyway "
                    "(run a check)", img->path);
    if (q->hdr.incompatible & QCOW2_INCOMPAT_DIRTY)
        vmc_debug(h, "%s: dirty bit set (refcounts may be stale)",
                  img->path);

    if (q->backing_name && !(img->flags & VMC_IMAGE_NO_BACKING) &&
        vmc_image_open_backing(img, q->backing_name, q->backing_fmt,
                               "backing file") == -1)
        goto fail;
    return 0;

fail:
    img->priv = NULL;
    qcow2_free(q);
    return -1;
}

static void
qcow2_close(struct vmc_image *img)
{
    qcow2_free(img->priv);
    img->priv = NULL;
}

/* ---- L2 cache ----------------------------------------------------- */

static struct qcow2_l2_slot *
qcow2_cache_find(struct qcow2 *q, uint64_t off)
{
    unsigned i;

    for (i = 0; i < q->cache_slots; i++)
        if (q->cache[i].offset == off)
            return &q->cache[i];
    return NULL;
}

/* Decode N entries from FIRST of the stored table DATA into OUT (one or
 * two u64 per entry).
 */
static void
qcow2_l2_copy(const struct qcow2 *q, const uint8_t *data, uint32_t first,
              uint32_t n, uint64_t *out)
{
    unsigned k = q->l2_entry_size / 8;
    const uint8_t *p = data + (size_t) first * q->l2_entry_size;
    size_t i;

    for (i = 0; i < (size_t) n * k; i++)
        out[i] = vmc_be64(p + i * 8);
}

/* Fetch entries FIRST..FIRST+N-1 of the L2 table at host offset L2_OFF
 * (checked by the caller) through the cache.
 */
static int
qcow2_l2_get(struct vmc_image *img, uint64_t l2_off, uint32_t first,
             uint32_t n, uint64_t *out)
{
    struct qcow2 *q = img->priv;
    struct qcow2_l2_slot *s;
    uint8_t *data;
    unsigned i;

    pthread_mutex_lock(&q->cache_lock);
    s = qcow2_cache_find(q, l2_off);
    if (s) {
        s->last_use = ++q->cache_clock;
        qcow2_l2_copy(q, s->data, first, n, out);
        pthread_mutex_unlock(&q->cache_lock);
        return 0;
    }
    pthread_mutex_unlock(&q->cache_lock);

    /* Read outside the lock; another thread may load it meanwhile. */
    data = vmc_malloc(img->h, img->path, q->cluster_size, "L2 table");
    if (data == NULL)
        return -1;
    if (vmc_file_pread_full(img->file, data, q->cluster_size, l2_off) == -1) {
        free(data);
        return -1;
    }
    qcow2_l2_copy(q, data, first, n, out);

    pthread_mutex_lock(&q->cache_lock);
    if (qcow2_cache_find(q, l2_off) == NULL) {
        s = &q->cache[0];
        for (i = 0; i < q->cache_slots; i++) {
            if (q->cache[i].data == NULL) {
                s = &q->cache[i];
                break;
            }
            if (q->cache[i].last_use < s->last_use)
                s = &q->cache[i];
        }
        free(s->data);
        s->data = data;
        s->offset = l2_off;
        s->last_use = ++q->cache_clock;
        data = NULL;
    }
    pthread_mutex_unlock(&q->cache_lock);
    free(data);
    return 0;
}

/* ---- Mapping guest offsets ---------------------------------------- */

enum qcow2_kind {
    QCOW2_UNALLOC,               /* backing file, else zeros */
    QCOW2_ZERO,
    QCOW2_DATA,
    QCOW2_COMPRESSED,
};

struct qcow2_run {
    enum qcow2_kind kind;
    uint64_t len;                /* guest bytes from the start offset */
    uint64_t host;               /* DATA: host offset of the first byte;
                                    COMPRESSED: of the compressed data */
    uint64_t csize;              /* COMPRESSED: bytes to read */
    uint64_t cluster_start;      /* COMPRESSED: guest offset of cluster */
};

/* The run qcow2_map is building. */
struct qcow2_mapper {
    struct qcow2_run *r;
    bool have;                   /* R holds a first piece */
    bool for_read;
    bool stop;                   /* a piece did not continue R */
};

/* Add the piece P to the run; sets M->stop if it does not continue it.
 * For reads, data must be host-contiguous and a compressed cluster is
 * a run of its own; for block status both are data.
 */
static void
qcow2_extend(struct qcow2_mapper *m, const struct qcow2_run *p)
{
    struct qcow2_run *r = m->r;

    if (!m->have) {
        *r = *p;
        m->have = true;
    } else if (r->kind != p->kind ||
               (m->for_read && p->kind == QCOW2_COMPRESSED) ||
               (m->for_read && p->kind == QCOW2_DATA &&
                r->host + r->len != p->host))
        m->stop = true;
    else
        r->len += p->len;
}

/* Check the L1 entry of L1 index I; returns the L2 offset (0 if none)
 * or -1.
 */
static int
qcow2_l1_lookup(struct vmc_image *img, uint32_t i, uint64_t *l2_off)
{
    struct qcow2 *q = img->priv;
    uint64_t e = q->l1[i];
    uint64_t off = e & QCOW2_L1_OFFSET_MASK;

    if (e & QCOW2_L1_RESERVED_MASK) {
        vmc_error(img->h, "%s: L1 table at offset %" PRIu64 ", entry %"
                  PRIu32 ": reserved bits set (0x%016" PRIx64 ")",
                  img->path, q->hdr.l1_table_offset, i, e);
        return -1;
    }
    if (off != 0 && (off % q->cluster_size != 0 ||
                     off + q->cluster_size > img->file_size)) {
        vmc_error(img->h, "%s: L1 table at offset %" PRIu64 ", entry %"
                  PRIu32 ": L2 table offset %" PRIu64 " is %s", img->path,
                  q->hdr.l1_table_offset, i, off,
                  off % q->cluster_size != 0 ? "not cluster aligned"
                  : "past the end of the file");
        return -1;
    }
    if (off == 0 && (e & QCOW2_OFLAG_COPIED)) {
        vmc_error(img->h, "%s: L1 table at offset %" PRIu64 ", entry %"
                  PRIu32 ": unallocated entry has the COPIED flag",
                  img->path, q->hdr.l1_table_offset, i);
        return -1;
    }
    *l2_off = off;
    return 0;
}

/* One L2 entry: where it is (for messages) and what it says. */
struct qcow2_entry {
    uint64_t l2_off;
    uint32_t idx;
    uint64_t e;
    uint64_t bm;                 /* subcluster bitmap (extended L2) */
};

/* Report a bad L2 entry. */
static int
qcow2_bad_l2(struct vmc_image *img, const struct qcow2_entry *x,
             const char *problem)
{
    vmc_error(img->h, "%s: L2 table at offset %" PRIu64 ", entry %" PRIu32
              " (0x%016" PRIx64 "): %s", img->path, x->l2_off, x->idx, x->e,
              problem);
    return -1;
}

/* True if entry X (HOST its offset) has a cluster.  Offset 0 is a
 * valid place in an external data file, where every cluster has
 * refcount 1: there COPIED tells an allocated cluster at 0 from an
 * unallocated entry, as qemu reads it.
 */
static bool
qcow2_allocated(const struct qcow2 *q, const struct qcow2_entry *x,
                uint64_t host)
{
    return host != 0 || (q->external && (x->e & QCOW2_OFLAG_COPIED));
}

/* What the guest bytes from POS that this layer does not map read as:
 * the backing file, or with data-file-raw, the data file at the same
 * offset (the data file is the disk as a raw image; qemu creates such
 * images with every cluster mapped, and reads them the same way).
 */
static void
qcow2_unallocated(const struct qcow2 *q, uint64_t pos, struct qcow2_run *p)
{
    if (q->data_raw) {
        p->kind = QCOW2_DATA;
        p->host = pos;
    } else
        p->kind = QCOW2_UNALLOC;
}

/* A compressed cluster, for the guest range [POS, END) of the cluster
 * starting at CSTART.
 */
static int
qcow2_classify_compressed(struct vmc_image *img, const struct qcow2_entry *x,
                          uint64_t cstart, uint64_t pos, uint64_t end,
                          struct qcow2_mapper *m)
{
    struct qcow2 *q = img->priv;
    uint64_t desc = x->e & ~(QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_COPIED);
    uint64_t coff = desc & q->coffset_mask;
    uint64_t nsect = (desc >> q->csize_shift) & q->csize_mask;
    struct qcow2_run p = { 0 };

    if (q->external)
        return qcow2_bad_l2(img, x, "compressed cluster in an image with an "
                            "external data file");
    if (coff < q->cluster_size)
        return qcow2_bad_l2(img, x, "compressed data in the header cluster");
    if (coff >= img->file_size)
        return qcow2_bad_l2(img, x, "compressed data past the end of the "
                            "file");
    p.kind = m->for_read ? QCOW2_COMPRESSED : QCOW2_DATA;
    p.host = coff;
    p.csize = (nsect + 1) * 512 - (coff & 511);
    p.cluster_start = cstart;
    p.len = end - pos;
    qcow2_extend(m, &p);
    return 0;
}

/* A standard entry (HOST checked by the caller) without subclusters. */
static int
qcow2_classify_standard(struct vmc_image *img, const struct qcow2_entry *x,
                        uint64_t host, uint64_t cstart, uint64_t pos,
                        uint64_t end, struct qcow2_mapper *m)
{
    struct qcow2 *q = img->priv;
    struct qcow2_run p = { .len = end - pos };

    if (x->e & QCOW2_OFLAG_ZERO)
        p.kind = QCOW2_ZERO;            /* plain or preallocated */
    else if (!qcow2_allocated(q, x, host)) {
        if (x->e & QCOW2_OFLAG_COPIED)
            return qcow2_bad_l2(img, x, "unallocated entry has the COPIED "
                                "flag");
        qcow2_unallocated(q, pos, &p);
    } else {
        if (!q->external && host >= img->file_size)
            return qcow2_bad_l2(img, x, "data cluster past the end of the "
                                "file");
        p.kind = QCOW2_DATA;
        p.host = host + (pos - cstart);
    }
    qcow2_extend(m, &p);
    return 0;
}

/* An extended L2 entry: 32 subclusters, each allocated, zero or
 * neither (backing file).
 */
static int
qcow2_classify_extended(struct vmc_image *img, const struct qcow2_entry *x,
                        uint64_t host, uint64_t cstart, uint64_t pos,
                        uint64_t end, struct qcow2_mapper *m)
{
    struct qcow2 *q = img->priv;
    uint32_t alloc = (uint32_t) x->bm, zero = (uint32_t) (x->bm >> 32);
    uint64_t sc = q->subcluster_size;

    if (alloc & zero)
        return qcow2_bad_l2(img, x, "subclusters both allocated and zero");
    if (alloc && !qcow2_allocated(q, x, host))
        return qcow2_bad_l2(img, x, "allocated subclusters without a "
                            "cluster");
    if (alloc && !q->external && host >= img->file_size)
        return qcow2_bad_l2(img, x, "data cluster past the end of the file");
    while (pos < end && !m->stop) {
        unsigned i = (unsigned) ((pos - cstart) / sc);
        uint64_t send = cstart + (uint64_t) (i + 1) * sc;
        struct qcow2_run p = { 0 };

        if (send > end)
            send = end;
        if (zero & (1u << i))
            p.kind = QCOW2_ZERO;
        else if (alloc & (1u << i)) {
            p.kind = QCOW2_DATA;
            p.host = host + (pos - cstart);
        } else
            qcow2_unallocated(q, pos, &p);
        p.len = send - pos;
        qcow2_extend(m, &p);
        pos = send;
    }
    return 0;
}

/* Classify entry X for the guest range [POS, END) inside one cluster
 * and add it to the run.  Returns 0, or -1 for a bad entry.
 */
static int
qcow2_classify(struct vmc_image *img, const struct qcow2_entry *x,
               uint64_t pos, uint64_t end, struct qcow2_mapper *m)
{
    struct qcow2 *q = img->priv;
    uint64_t cstart = pos & ~(q->cluster_size - 1);
    uint64_t host = x->e & QCOW2_L2_OFFSET_MASK;

    if (x->e & QCOW2_OFLAG_COMPRESSED)
        return qcow2_classify_compressed(img, x, cstart, pos, end, m);
    if (x->e & QCOW2_L2_RESERVED_MASK)
        return qcow2_bad_l2(img, x, "reserved bits set");
    if (host % q->cluster_size != 0)
        return qcow2_bad_l2(img, x, "data offset not cluster aligned");
    if (q->extended_l2)
        return qcow2_classify_extended(img, x, host, cstart, pos, end, m);
    return qcow2_classify_standard(img, x, host, cstart, pos, end, m);
}

/* Describe the guest range starting at OFFSET (at most LENGTH bytes,
 * inside the virtual size) as one run.
 */
static int
qcow2_map(struct vmc_image *img, uint64_t offset, uint64_t length,
          bool for_read, struct qcow2_run *r)
{
    struct qcow2 *q = img->priv;
    uint64_t cs = q->cluster_size;
    uint64_t cover = cs * q->l2_entries;
    uint64_t pos = offset, end = offset + length;
    uint64_t ent[QCOW2_MAP_BATCH * 2];
    unsigned k = q->l2_entry_size / 8;
    struct qcow2_mapper m = { .r = r, .for_read = for_read };

    while (pos < end && !m.stop) {
        uint32_t l1i = (uint32_t) (pos / cover);
        uint64_t tend = (uint64_t) (l1i + 1) * cover;
        uint64_t l2_off;

        if (tend > end)
            tend = end;
        if (qcow2_l1_lookup(img, l1i, &l2_off) == -1)
            return -1;
        if (l2_off == 0) {
            struct qcow2_run p = { .len = tend - pos };

            qcow2_unallocated(q, pos, &p);
            qcow2_extend(&m, &p);
            pos = tend;
            continue;
        }
        while (pos < tend && !m.stop) {
            uint32_t first = (uint32_t) ((pos % cover) / cs);
            uint64_t left = vmc_div_round_up(tend - (pos & ~(cs - 1)), cs);
            uint32_t n = left < QCOW2_MAP_BATCH
                ? (uint32_t) left : QCOW2_MAP_BATCH;
            uint32_t j;

            if (qcow2_l2_get(img, l2_off, first, n, ent) == -1)
                return -1;
            for (j = 0; j < n && pos < tend && !m.stop; j++) {
                uint64_t cend = (pos & ~(cs - 1)) + cs;
                struct qcow2_entry x = {
                    .l2_off = l2_off, .idx = first + j, .e = ent[j * k],
                    .bm = k == 2 ? ent[j * k + 1] : 0,
                };

                if (cend > tend)
                    cend = tend;
                if (qcow2_classify(img, &x, pos, cend, &m) == -1)
                    return -1;
                pos = cend;
            }
        }
    }
    return 0;
}

/* ---- Reading ------------------------------------------------------ */

/* Read LEN bytes of host data at HOST (in the image, or in its data
 * file); the part past the end of the file reads as zeros (qemu leaves
 * the tail of the last cluster out, and grows a data file only as it
 * writes it).
 */
static int
qcow2_read_host(struct vmc_image *img, void *buf, uint64_t len,
                uint64_t host)
{
    struct qcow2 *q = img->priv;
    uint64_t avail = host < q->data_size ? q->data_size - host : 0;

    if (avail < len) {
        memset((uint8_t *) buf + avail, 0, len - avail);
        len = avail;
    }
    if (len == 0)
        return 0;
    return vmc_file_pread_full(q->data, buf, len, host);
}

/* Per-call buffers for compressed clusters. */
struct qcow2_cbuf {
    struct qcow2_dec *dec;
    uint8_t *in;
    uint8_t *out;
};

static int
qcow2_read_compressed(struct vmc_image *img, struct qcow2_cbuf *cb,
                      const struct qcow2_run *r, void *buf, uint64_t pos)
{
    struct qcow2 *q = img->priv;
    uint64_t n = r->csize;

    if (cb->in == NULL) {
        cb->in = vmc_malloc(img->h, img->path, 2 * q->cluster_size,
                            "compressed cluster");
        cb->out = vmc_malloc(img->h, img->path, q->cluster_size,
                             "compressed cluster");
        if (cb->in == NULL || cb->out == NULL)
            return -1;
    }
    if (n > img->file_size - r->host)
        n = img->file_size - r->host;
    if (vmc_file_pread_full(img->file, cb->in, n, r->host) == -1)
        return -1;
    if (qcow2_decompress(img->h, img->path, r->host, q->hdr.compression_type,
                         &cb->dec, cb->in, n, cb->out, q->cluster_size) == -1)
        return -1;
    memcpy(buf, cb->out + (pos - r->cluster_start), r->len);
    return 0;
}

static int
qcow2_pread(struct vmc_image *img, void *buf, size_t count, uint64_t offset)
{
    struct qcow2 *q = img->priv;
    struct qcow2_cbuf cb = { 0 };
    uint8_t *p = buf;
    int ret = -1;

    if (q->writer) {
        vmc_error_kind(img->h, VMC_ERR_UNSUPPORTED,
                       "%s: reading a qcow2 image while it is being "
                       "created is not supported yet", img->path);
        return -1;
    }
    while (count > 0) {
        struct qcow2_run r;

        if (qcow2_map(img, offset, count, true, &r) == -1)
            goto out;
        switch (r.kind) {
        case QCOW2_UNALLOC:
            if (vmc_image_backing_pread(img, p, r.len, offset) == -1)
                goto out;
            break;
        case QCOW2_ZERO:
            memset(p, 0, r.len);
            break;
        case QCOW2_DATA:
            if (qcow2_read_host(img, p, r.len, r.host) == -1)
                goto out;
            break;
        case QCOW2_COMPRESSED:
            if (qcow2_read_compressed(img, &cb, &r, p, offset) == -1)
                goto out;
            break;
        }
        p += r.len;
        offset += r.len;
        count -= r.len;
    }
    ret = 0;
out:
    qcow2_dec_free(cb.dec);
    free(cb.in);
    free(cb.out);
    return ret;
}

static int
qcow2_block_status(struct vmc_image *img, uint64_t offset, uint64_t length,
                   enum vmc_bs *type, uint64_t *run)
{
    struct qcow2 *q = img->priv;
    struct qcow2_run r;

    if (q->writer) {
        vmc_error_kind(img->h, VMC_ERR_UNSUPPORTED,
                       "%s: block status of a qcow2 image while it is "
                       "being created is not supported yet", img->path);
        return -1;
    }
    /* Data in an external data file: its holes read as zeros (qemu
     * maps every cluster of a data-file-raw image).
     */
    if (qcow2_map(img, offset, length, q->external, &r) == -1)
        return -1;
    if (q->external && r.kind == QCOW2_DATA) {
        enum vmc_file_extent t;

        if (vmc_file_extents(q->data, r.host, r.len, &t, run) == -1)
            return -1;
        *type = t == VMC_FILE_HOLE ? VMC_BS_ZERO : VMC_BS_DATA;
        return 0;
    }
    switch (r.kind) {
    case QCOW2_ZERO:
        *type = VMC_BS_ZERO;
        break;
    case QCOW2_UNALLOC:
        *type = VMC_BS_BACKING;
        break;
    default:
        *type = VMC_BS_DATA;
        break;
    }
    *run = r.len;
    return 0;
}

/* ---- Info --------------------------------------------------------- */

static int
qcow2_info(struct vmc_image *img, struct json_object *o)
{
    struct qcow2 *q = img->priv;
    const struct qcow2_header *hd = &q->hdr;

    json_object_object_add(o, "subformat", json_object_new_string(
                               hd->version == 2 ? "qcow2 v2" : "qcow2 v3"));
    json_object_object_add(o, "compat", json_object_new_string(
                               hd->version == 2 ? "0.10" : "1.1"));
    json_object_object_add(o, "cluster-size",
                           json_object_new_int64((int64_t) q->cluster_size));
    json_object_object_add(o, "compression-type", json_object_new_string(
                               hd->compression_type == QCOW2_COMPRESSION_ZSTD
                               ? "zstd" : "zlib"));
    if (q->backing_name)
        json_object_object_add(o, "backing-filename",
                               json_object_new_string(q->backing_name));
    if (q->backing_fmt)
        json_object_object_add(o, "backing-format",
                               json_object_new_string(q->backing_fmt));
    if (q->external) {
        json_object_object_add(o, "data-file",
                               json_object_new_string(q->data_file_name));
        json_object_object_add(o, "data-file-raw",
                               json_object_new_boolean(q->data_raw));
    }
    json_object_object_add(o, "dirty", json_object_new_boolean(
                               (hd->incompatible & QCOW2_INCOMPAT_DIRTY) != 0));
    json_object_object_add(o, "corrupt", json_object_new_boolean(
                               (hd->incompatible & QCOW2_INCOMPAT_CORRUPT)
                               != 0));
    json_object_object_add(o, "lazy-refcounts", json_object_new_boolean(
                               (hd->compatible & QCOW2_COMPAT_LAZY_REFCOUNTS)
                               != 0));
    json_object_object_add(o, "extended-l2",
                           json_object_new_boolean(q->extended_l2));
    json_object_object_add(o, "refcount-bits",
                           json_object_new_int(1 << hd->refcount_order));
    json_object_object_add(o, "snapshots",
                           json_object_new_int64(hd->nb_snapshots));
    return 0;
}

/* The driver.  An image created with compress=on gets the second
 * table, whose encode/write_encoded let the copy engine compress in
 * parallel; without compression plain pwrite runs in parallel.
 */
#define QCOW2_OPS_COMMON                                \
    .name = "qcow2",                                    \
    .description = "QEMU copy-on-write v2/v3",          \
    .create_opts = qcow2_create_opts,                   \
    .probe = qcow2_probe,                               \
    .open = qcow2_open,                                 \
    .close = qcow2_close,                               \
    .block_status = qcow2_block_status,                 \
    .pread = qcow2_pread,                               \
    .create = qcow2_create,                             \
    .pwrite = qcow2_pwrite,                             \
    .flush = qcow2_flush,                               \
    .info = qcow2_info,                                 \
    .check = qcow2_check

const struct vmc_format_ops vmc_format_qcow2 = {
    QCOW2_OPS_COMMON,
    .reserve = qcow2_reserve,
};

const struct vmc_format_ops qcow2_format_compressed = {
    QCOW2_OPS_COMMON,
    .encode = qcow2_encode,
    .write_encoded = qcow2_write_encoded,
    .free_encoded = qcow2_free_encoded,
};
