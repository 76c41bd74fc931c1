/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 writer: new images only, write-once, in whole clusters.
 *
 * Layout: the header in cluster 0, then data clusters allocated by
 * appending (under a lock; the data itself is written outside it), and
 * at flush the L2 tables, the L1 table, the refcount table and the
 * refcount blocks after the data.  L2 tables live in memory only for
 * the ranges written, so memory follows the data written, not the
 * virtual size.  Every host cluster below the end of the file is used
 * by exactly one thing, except clusters holding compressed data, whose
 * refcount is the number of compressed clusters touching them; so the
 * refcounts are computed at flush without a scan.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow2-internal.h"

/* The in-memory marker of a cluster written as zeros (never stored:
 * reserved bit 1).  Stored as the zero flag with a backing file, as
 * "unallocated" without.
 */
#define QCOW2_W_ZERO (1ull << 1)
/* In memory: a data cluster reserved by qcow2_reserve, not yet written
 * (reserved bit 2; never stored).
 */
#define QCOW2_W_RESERVED (1ull << 2)

#define QCOW2_W_REFCOUNT_ORDER 4        /* 16-bit refcounts, as qemu */
#define QCOW2_W_REFCOUNT_MAX 0xffffu
#define QCOW2_W_DEFAULT_CLUSTER (64u * 1024)

const struct vmc_opt_desc qcow2_create_opts[] = {
    { "cluster_size", VMC_OPT_SIZE,
      "cluster size, a power of two from 512 to 2M (default 64K)" },
    { "compat", VMC_OPT_STRING,
      "1.1 (qcow2 v3, default) or 0.10 (qcow2 v2)" },
    { "compress", VMC_OPT_BOOL,
      "compress every data cluster, as qemu-img convert -c (default off)" },
    { "compression_type", VMC_OPT_STRING,
      "zlib (default) or zstd (needs compat 1.1)" },
    { "backing_file", VMC_OPT_STRING,
      "name of the backing file, stored as given" },
    { "backing_fmt", VMC_OPT_STRING,
      "format of the backing file (probed if not given)" },
    { NULL, 0, NULL }
};

/* Refcount of one host cluster holding compressed data. */
struct qcow2_cref {
    uint64_t cluster;
    uint32_t count;
};

struct qcow2_writer {
    pthread_mutex_t lock;
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cs;
    uint32_t l2_entries;
    uint32_t l1_size;
    uint64_t size;               /* virtual size stored: 512-aligned */
    uint64_t **l2;               /* l1_size tables, NULL until written */
    uint64_t next_free;          /* next free host byte */
    bool compress;
    int compression_type;
    char *backing_file;
    const char *backing_fmt;     /* a driver's static name */
    struct qcow2_cref *crefs;    /* increasing cluster order */
    size_t ncrefs;
    size_t crefs_cap;
    atomic_bool failed;          /* a write failed: refuse to flush */
};

void
qcow2_writer_free(struct qcow2_writer *w)
{
    uint32_t i;

    if (w == NULL)
        return;
    for (i = 0; w->l2 && i < w->l1_size; i++)
        free(w->l2[i]);
    free(w->l2);
    free(w->backing_file);
    free(w->crefs);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* ---- Header ------------------------------------------------------- */

static const struct {
    uint8_t type;
    uint8_t bit;
    const char *name;
} qcow2_features[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};
#define QCOW2_NFEATURES (sizeof qcow2_features / sizeof qcow2_features[0])

/* Append extension TYPE with LEN bytes of DATA at *POS of BUF. */
static void
qcow2_put_ext(uint8_t *buf, size_t *pos, uint32_t type, const void *data,
              uint32_t len)
{
    vmc_put_be32(buf + *pos, type);
    vmc_put_be32(buf + *pos + 4, len);
    if (len)
        memcpy(buf + *pos + 8, data, len);
    *pos += 8 + vmc_round_up(len, 8);
}

/* Build cluster 0 into BUF (CS bytes, zeroed) for the given layout.
 * Returns the bytes used, or 0 if it does not fit in a cluster.
 */
static size_t
qcow2_build_header(const struct qcow2_writer *w, uint64_t size,
                   bool feature_table, uint64_t l1_offset,
                   uint64_t rt_offset, uint32_t rt_clusters, uint8_t *buf)
{
    struct qcow2_header_disk hd = { 0 };
    size_t pos, blen = w->backing_file ? strlen(w->backing_file) : 0;
    uint8_t ft[QCOW2_NFEATURES * sizeof(struct qcow2_feature_disk)] = { 0 };
    size_t need = (w->version == 2 ? QCOW2_V2_HEADER_LEN : QCOW2_V3_HEADER_LEN)
        + 8 + blen;
    size_t i;

    if (w->backing_file)
        need += 8 + vmc_round_up(strlen(w->backing_fmt), 8);
    if (feature_table)
        need += 8 + sizeof ft;
    if (need > w->cs)
        return 0;

    vmc_put_be32(&hd.magic, QCOW2_MAGIC);
    vmc_put_be32(&hd.version, w->version);
    vmc_put_be32(&hd.cluster_bits, w->cluster_bits);
    vmc_put_be64(&hd.size, size);
    vmc_put_be32(&hd.l1_size, w->l1_size);
    vmc_put_be64(&hd.l1_table_offset, l1_offset);
    vmc_put_be64(&hd.refcount_table_offset, rt_offset);
    vmc_put_be32(&hd.refcount_table_clusters, rt_clusters);
    if (w->version == 2) {
        memcpy(buf, &hd, QCOW2_V2_HEADER_LEN);
        pos = QCOW2_V2_HEADER_LEN;
    } else {
        if (w->compression_type != QCOW2_COMPRESSION_DEFLATE)
            vmc_put_be64(&hd.incompatible_features,
                         QCOW2_INCOMPAT_COMPRESSION);
        vmc_put_be32(&hd.refcount_order, QCOW2_W_REFCOUNT_ORDER);
        vmc_put_be32(&hd.header_length, QCOW2_V3_HEADER_LEN);
        hd.compression_type = (uint8_t) w->compression_type;
        memcpy(buf, &hd, sizeof hd);
        pos = sizeof hd;
    }
    if (w->backing_file)
        qcow2_put_ext(buf, &pos, QCOW2_EXT_BACKING_FMT, w->backing_fmt,
                      (uint32_t) strlen(w->backing_fmt));
    if (feature_table) {
        for (i = 0; i < QCOW2_NFEATURES; i++) {
            struct qcow2_feature_disk *f = (void *) (ft + i * sizeof *f);

            f->type = qcow2_features[i].type;
            f->bit = qcow2_features[i].bit;
            memcpy(f->name, qcow2_features[i].name,
                   strlen(qcow2_features[i].name));
        }
        qcow2_put_ext(buf, &pos, QCOW2_EXT_FEATURE_TABLE, ft, sizeof ft);
    }
    qcow2_put_ext(buf, &pos, QCOW2_EXT_END, NULL, 0);
    if (w->backing_file) {
        struct qcow2_header_disk *d = (void *) buf;

        vmc_put_be64(&d->backing_file_offset, pos);
        vmc_put_be32(&d->backing_file_size, (uint32_t) blen);
        memcpy(buf + pos, w->backing_file, blen);
        pos += blen;
    }
    return pos;
}

/* ---- Create ------------------------------------------------------- */

/* Work out the backing file's format: BACKING_FMT if given (a format
 * vmconv knows), else probe the file, refusing raw (probing raw is
 * how a guest gets to name a host file).
 */
static int
qcow2_backing_format(struct vmc_image *img, const char *backing,
                     const char *fmt, const char **out)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE char *path = NULL;
    const struct vmc_format_ops *ops;
    const char *probed;

    if (fmt) {
        ops = vmc_format_lookup(fmt);
        if (ops == NULL) {
            vmc_error(h, "%s: backing_fmt '%s' is not a format vmconv knows",
                      img->path, fmt);
            return -1;
        }
        *out = ops->name;
        return 0;
    }
    if (backing[0] == '/')
        path = strdup(backing);
    else if (asprintf(&path, "%s/%s", img->dir, backing) == -1)
        path = NULL;
    if (path == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    probed = vmc_image_probe(h, path);
    if (probed == NULL) {
        vmc_error(h, "%s: cannot find the format of backing file '%s' (%s); "
                  "give backing_fmt", img->path, backing,
                  vmc_get_error(h) ? vmc_get_error(h) : "probe failed");
        return -1;
    }
    if (strcmp(probed, "raw") == 0) {
        vmc_error(h, "%s: backing file '%s' has no recognisable format; "
                  "give backing_fmt=raw if it is a raw image", img->path,
                  backing);
        return -1;
    }
    *out = vmc_format_lookup(probed)->name;
    return 0;
}

static int
qcow2_parse_create_opts(struct vmc_image *img, const struct vmc_opts *opts,
                        struct qcow2_writer *w)
{
    struct vmc_handle *h = img->h;
    const char *compat = vmc_opts_get(opts, "compat");
    const char *ctype = vmc_opts_get(opts, "compression_type");
    const char *backing = vmc_opts_get(opts, "backing_file");
    const char *bfmt = vmc_opts_get(opts, "backing_fmt");
    uint64_t cs;
    size_t i;

    if (vmc_opts_get_size(h, opts, "cluster_size", QCOW2_W_DEFAULT_CLUSTER,
                          &cs) == -1 ||
        vmc_opts_get_bool(h, opts, "compress", false, &w->compress) == -1)
        return -1;
    if (!vmc_is_pow2(cs) || cs < (1u << QCOW2_MIN_CLUSTER_BITS) ||
        cs > (1u << QCOW2_MAX_CLUSTER_BITS)) {
        vmc_error(h, "%s: cluster_size %" PRIu64 " must be a power of two "
                  "from 512 to 2M", img->path, cs);
        return -1;
    }
    w->cs = cs;
    w->cluster_bits = (uint32_t) __builtin_ctzll(cs);
    w->l2_entries = (uint32_t) (cs / 8);

    if (compat == NULL || strcmp(compat, "1.1") == 0 ||
        strcmp(compat, "v3") == 0)
        w->version = 3;
    else if (strcmp(compat, "0.10") == 0 || strcmp(compat, "v2") == 0)
        w->version = 2;
    else {
        vmc_error(h, "%s: compat '%s' must be 1.1 or 0.10", img->path,
                  compat);
        return -1;
    }
    if (ctype == NULL || strcmp(ctype, "zlib") == 0)
        w->compression_type = QCOW2_COMPRESSION_DEFLATE;
    else if (strcmp(ctype, "zstd") == 0)
        w->compression_type = QCOW2_COMPRESSION_ZSTD;
    else {
        vmc_error(h, "%s: compression_type '%s' must be zlib or zstd",
                  img->path, ctype);
        return -1;
    }
    if (w->compression_type != QCOW2_COMPRESSION_DEFLATE && w->version == 2) {
        vmc_error(h, "%s: compression_type=zstd needs compat=1.1",
                  img->path);
        return -1;
    }

    if (bfmt && backing == NULL) {
        vmc_error(h, "%s: backing_fmt given without backing_file", img->path);
        return -1;
    }
    if (backing) {
        if (*backing == '\0' || strlen(backing) > QCOW2_MAX_BACKING_NAME) {
            vmc_error(h, "%s: backing_file must be 1 to %d bytes long",
                      img->path, QCOW2_MAX_BACKING_NAME);
            return -1;
        }
        for (i = 0; backing[i]; i++)
            if ((unsigned char) backing[i] < 0x20 || backing[i] == 0x7f) {
                vmc_error(h, "%s: backing_file contains a control character",
                          img->path);
                return -1;
            }
        if (qcow2_backing_format(img, backing, bfmt, &w->backing_fmt) == -1)
            return -1;
        w->backing_file = strdup(backing);
        if (w->backing_file == NULL) {
            vmc_error(h, "%s: %m", img->path);
            return -1;
        }
    }
    return 0;
}

int
qcow2_create(struct vmc_image *img, const struct vmc_opts *opts)
{
    struct vmc_handle *h = img->h;
    struct qcow2_writer *w;
    struct qcow2 *q;
    CLEANUP_FREE uint8_t *hbuf = NULL;
    uint64_t l1;

    w = calloc(1, sizeof *w);
    if (w == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    if (qcow2_parse_create_opts(img, opts, w) == -1)
        goto fail;
    if (img->size > INT64_MAX) {
        vmc_error(h, "%s: virtual size %" PRIu64 " is too large", img->path,
                  img->size);
        goto fail;
    }
    /* qemu sees disks in 512-byte sectors and drops a partial last
     * one, so store the size rounded up (the tail reads as zeros), as
     * qemu-img does converting such a raw file.
     */
    w->size = vmc_round_up(img->size, 512);
    l1 = vmc_div_round_up(w->size, w->cs * w->l2_entries);
    if (l1 > QCOW2_MAX_L1_ENTRIES) {
        vmc_error(h, "%s: virtual size %" PRIu64 " is too large for "
                  "cluster_size %" PRIu64 " (the L1 table would exceed %u "
                  "bytes); use larger clusters", img->path, img->size, w->cs,
                  QCOW2_MAX_L1_BYTES);
        goto fail;
    }
    w->l1_size = (uint32_t) l1;
    /* Check now that the header fits, rather than at commit. */
    hbuf = vmc_calloc(h, img->path, 1, w->cs, "header");
    if (hbuf == NULL)
        goto fail;
    if (qcow2_build_header(w, w->size, false, 0, 0, 0, hbuf) == 0) {
        vmc_error(h, "%s: the backing file name does not fit in the header "
                  "cluster of %" PRIu64 " bytes", img->path, w->cs);
        goto fail;
    }
    w->l2 = vmc_calloc(h, img->path, w->l1_size ? w->l1_size : 1,
                       sizeof(uint64_t *), "L2 table index");
    if (w->l2 == NULL)
        goto fail;
    w->next_free = w->cs;

    q = qcow2_new(img);
    if (q == NULL)
        goto fail;
    q->writer = w;
    q->cluster_size = w->cs;
    img->priv = q;
    img->cluster_size = (uint32_t) w->cs;
    /* Clusters are allocated by appending: the copy engine reserves
     * them (plain) or stores them (compressed) in offset order, so the
     * data lies in guest order and the file is the same whatever the
     * number of threads; writing or compressing still runs in parallel.
     */
    img->ordered_writes = w->compress;
    img->ordered_alloc = !w->compress;
    if (w->compress)
        img->ops = &qcow2_format_compressed;
    return 0;

fail:
    qcow2_writer_free(w);
    return -1;
}

/* ---- Writing ------------------------------------------------------ */

/* Check that [OFFSET, OFFSET+COUNT) is whole clusters (the last one
 * may end at the virtual size).  Returns the number of clusters or -1.
 */
static int64_t
qcow2_check_write(struct vmc_image *img, const struct qcow2_writer *w,
                  size_t count, uint64_t offset)
{
    if (offset % w->cs != 0 ||
        (count % w->cs != 0 && offset + count != img->size)) {
        vmc_error(img->h, "%s: write of %zu bytes at offset %" PRIu64
                  " is not in whole clusters of %" PRIu64, img->path, count,
                  offset, w->cs);
        return -1;
    }
    return (int64_t) vmc_div_round_up(count, w->cs);
}

/* The L2 entry of guest cluster C, allocating its table.  Called with
 * the lock held.  Returns NULL with an error set.
 */
static uint64_t *
qcow2_w_entry(struct vmc_image *img, struct qcow2_writer *w, uint64_t c)
{
    uint64_t l1i = c / w->l2_entries;

    if (w->l2[l1i] == NULL) {
        w->l2[l1i] = vmc_calloc(img->h, img->path, w->l2_entries,
                                sizeof(uint64_t), "L2 table");
        if (w->l2[l1i] == NULL)
            return NULL;
    }
    return &w->l2[l1i][c % w->l2_entries];
}

/* Refuse a second write to guest clusters FIRST..FIRST+N-1.  Lock held. */
static int
qcow2_w_check_unwritten(struct vmc_image *img, struct qcow2_writer *w,
                        uint64_t first, uint64_t n)
{
    uint64_t i;

    for (i = 0; i < n; i++) {
        uint64_t *e = qcow2_w_entry(img, w, first + i);

        if (e == NULL)
            return -1;
        if (*e != 0) {
            vmc_error(img->h, "%s: cluster at offset %" PRIu64 " written "
                      "twice (images being created are write-once)",
                      img->path, (first + i) * w->cs);
            return -1;
        }
    }
    return 0;
}

/* Whether zero clusters may be left out (stored as zero / unallocated)
 * rather than written: everywhere but a v2 image with a backing file,
 * which cannot say "zero over the backing data".
 */
static bool
qcow2_w_skip_zeros(const struct qcow2_writer *w)
{
    return !(w->version == 2 && w->backing_file);
}

/* Write the data clusters of a request (those not marked in ZERO) to
 * consecutive host clusters from HOST, one pwrite per run in BUF.
 */
static int
qcow2_w_write_runs(struct vmc_image *img, struct qcow2_writer *w,
                   const uint8_t *buf, size_t count, uint64_t n,
                   const bool *zero, uint64_t host)
{
    uint64_t i = 0;

    while (i < n) {
        uint64_t start = i, end;

        if (zero[i]) {
            i++;
            continue;
        }
        while (i < n && !zero[i])
            i++;
        end = i * w->cs < count ? i * w->cs : count;
        if (vmc_file_pwrite_full(img->file, buf + start * w->cs,
                                 end - start * w->cs, host) == -1) {
            atomic_store(&w->failed, true);
            return -1;
        }
        host += (i - start) * w->cs;
    }
    return 0;
}

/* Set ZERO[i] for each of the N clusters of P (COUNT bytes) that is
 * zeros to leave out.
 */
static void
qcow2_w_zeros(const struct qcow2_writer *w, const uint8_t *p, size_t count,
              uint64_t n, bool *zero)
{
    uint64_t i;

    for (i = 0; i < n; i++) {
        uint64_t len = count - i * w->cs < w->cs ? count - i * w->cs : w->cs;

        zero[i] = qcow2_w_skip_zeros(w) && vmc_is_zero(p + i * w->cs, len);
    }
}

/* Check a request and find which of its clusters are zeros to leave
 * out, in *ZERO (the caller frees it).  Returns the number of
 * clusters, or -1.
 */
static int64_t
qcow2_w_zero_map(struct vmc_image *img, struct qcow2_writer *w,
                 const uint8_t *p, size_t count, uint64_t offset, bool **zero)
{
    int64_t n = qcow2_check_write(img, w, count, offset);

    if (n == -1)
        return -1;
    *zero = vmc_calloc(img->h, img->path, (uint64_t) n, sizeof **zero,
                       "write request");
    if (*zero == NULL)
        return -1;
    if (p)
        qcow2_w_zeros(w, p, count, (uint64_t) n, *zero);
    return n;
}

/* Give the data clusters of a request consecutive host clusters (the
 * zero ones the zero marker), FLAG added to each entry.  Returns the
 * first host offset, or 0 with an error.  The lock is held.
 */
static uint64_t
qcow2_w_alloc(struct vmc_image *img, struct qcow2_writer *w, uint64_t first,
              uint64_t n, const bool *zero, uint64_t flag)
{
    uint64_t host, i, ndata = 0;

    if (qcow2_w_check_unwritten(img, w, first, n) == -1)
        return 0;
    host = vmc_round_up(w->next_free, w->cs);
    for (i = 0; i < n; i++)
        *qcow2_w_entry(img, w, first + i) = flag | (zero[i] ? QCOW2_W_ZERO
            : (host + ndata++ * w->cs) | QCOW2_OFLAG_COPIED);
    if (ndata)
        w->next_free = host + ndata * w->cs;
    return host;
}

/* Ordered allocation (see struct vmc_format_ops): the copy engine
 * reserves each request's clusters in offset order, then writes them
 * with qcow2_pwrite from any thread.
 */
int
qcow2_reserve(struct vmc_image *img, const void *buf, size_t count,
              uint64_t offset)
{
    struct qcow2 *q = img->priv;
    struct qcow2_writer *w = q->writer;
    CLEANUP_FREE bool *zero = NULL;
    int64_t n;
    uint64_t host;

    n = qcow2_w_zero_map(img, w, buf, count, offset, &zero);
    if (n == -1)
        return -1;
    pthread_mutex_lock(&w->lock);
    host = qcow2_w_alloc(img, w, offset / w->cs, (uint64_t) n, zero,
                         QCOW2_W_RESERVED);
    pthread_mutex_unlock(&w->lock);
    return host == 0 ? -1 : 0;
}

/* If the request at FIRST (N clusters) was reserved, fill ZERO from
 * its entries, clear the reservations and set *HOST (the first data
 * cluster's).  Returns 1 if it was, 0 if not, -1 (with an error) if
 * only part of it was.  The lock is held.
 */
static int
qcow2_w_take_reserved(struct vmc_image *img, struct qcow2_writer *w,
                      uint64_t first, uint64_t n, bool *zero, uint64_t *host)
{
    bool any = false;
    uint64_t i;

    *host = 0;
    for (i = 0; i < n; i++) {
        uint64_t *l2 = w->l2[(first + i) / w->l2_entries];
        uint64_t *e = l2 ? &l2[(first + i) % w->l2_entries] : NULL;

        if (e == NULL || !(*e & QCOW2_W_RESERVED)) {
            if (i == 0)
                return 0;
            vmc_error(img->h, "%s: cluster at offset %" PRIu64 " was not "
                      "reserved with the rest of its request", img->path,
                      (first + i) * w->cs);
            return -1;
        }
        *e &= ~QCOW2_W_RESERVED;
        zero[i] = *e == QCOW2_W_ZERO;
        if (!zero[i] && !any) {
            *host = *e & QCOW2_L2_OFFSET_MASK;
            any = true;
        }
    }
    return 1;
}

int
qcow2_pwrite(struct vmc_image *img, const void *buf, size_t count,
             uint64_t offset)
{
    struct qcow2 *q = img->priv;
    struct qcow2_writer *w = q->writer;
    const uint8_t *p = buf;
    uint64_t first = offset / w->cs, host;
    CLEANUP_FREE bool *zero = NULL;
    int64_t n;
    int r;

    if (w->compress) {
        void *chunk;

        if (qcow2_encode(img, buf, count, offset, &chunk) == -1)
            return -1;
        return qcow2_write_encoded(img, chunk);
    }
    n = qcow2_w_zero_map(img, w, NULL, count, offset, &zero);
    if (n == -1)
        return -1;

    /* Reserved by qcow2_reserve, or allocated now: either way the data
     * clusters of the request have consecutive host clusters, so each
     * run of them in BUF is one pwrite, outside the lock.
     */
    pthread_mutex_lock(&w->lock);
    r = qcow2_w_take_reserved(img, w, first, (uint64_t) n, zero, &host);
    pthread_mutex_unlock(&w->lock);
    if (r == -1)
        return -1;
    if (r == 0) {
        qcow2_w_zeros(w, p, count, (uint64_t) n, zero);
        pthread_mutex_lock(&w->lock);
        host = qcow2_w_alloc(img, w, first, (uint64_t) n, zero, 0);
        pthread_mutex_unlock(&w->lock);
        if (host == 0)
            return -1;
    }
    return qcow2_w_write_runs(img, w, p, count, (uint64_t) n, zero, host);
}

/* ---- Compressed writing ------------------------------------------- */

enum qcow2_ckind {
    QCOW2_C_ZERO,
    QCOW2_C_COMPRESSED,
    QCOW2_C_RAW,                 /* did not compress: stored as is */
};

struct qcow2_ccluster {
    enum qcow2_ckind kind;
    uint32_t len;                /* bytes in the chunk's data */
    size_t pos;                  /* where in the chunk's data */
};

/* An encoded request: clusters compressed by qcow2_encode, stored by
 * qcow2_write_encoded.
 */
struct qcow2_chunk {
    uint64_t offset;
    uint64_t count;
    uint64_t n;
    struct qcow2_ccluster *cl;
    uint8_t *data;
};

void
qcow2_free_encoded(void *chunk)
{
    struct qcow2_chunk *c = chunk;

    if (c == NULL)
        return;
    free(c->cl);
    free(c->data);
    free(c);
}

int
qcow2_encode(struct vmc_image *img, const void *buf, size_t count,
             uint64_t offset, void **chunk)
{
    struct qcow2 *q = img->priv;
    struct qcow2_writer *w = q->writer;
    struct vmc_handle *h = img->h;
    struct qcow2_chunk *c;
    struct qcow2_enc *enc = NULL;
    CLEANUP_FREE uint8_t *pad = NULL;
    const uint8_t *p = buf;
    size_t pos = 0;
    uint64_t i;
    int64_t n;

    n = qcow2_check_write(img, w, count, offset);
    if (n == -1)
        return -1;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    c->offset = offset;
    c->count = count;
    c->n = (uint64_t) n;
    c->cl = vmc_calloc(h, img->path, c->n, sizeof *c->cl, "encoded request");
    c->data = vmc_malloc(h, img->path, count, "encoded request");
    if (c->cl == NULL || c->data == NULL)
        goto fail;
    for (i = 0; i < c->n; i++) {
        const uint8_t *in = p + i * w->cs;
        uint64_t len = count - i * w->cs < w->cs ? count - i * w->cs : w->cs;
        ssize_t clen = 0;

        c->cl[i].pos = pos;
        if (qcow2_w_skip_zeros(w) && vmc_is_zero(in, len)) {
            c->cl[i].kind = QCOW2_C_ZERO;
            continue;
        }
        /* A compressed cluster always decompresses to a whole cluster:
         * pad the short last one with zeros.
         */
        if (len < w->cs) {
            pad = vmc_calloc(h, img->path, 1, w->cs, "cluster");
            if (pad == NULL)
                goto fail;
            memcpy(pad, in, len);
            in = pad;
        }
        if (enc == NULL) {
            enc = qcow2_enc_new(h, img->path, w->compression_type);
            if (enc == NULL)
                goto fail;
        }
        /* Worth it only if smaller than the bytes it replaces. */
        if (len > 1) {
            clen = qcow2_compress(h, img->path, enc, in, w->cs,
                                  c->data + pos, len - 1);
            if (clen == -1)
                goto fail;
        }
        if (clen > 0) {
            c->cl[i].kind = QCOW2_C_COMPRESSED;
            c->cl[i].len = (uint32_t) clen;
        } else {
            c->cl[i].kind = QCOW2_C_RAW;
            c->cl[i].len = (uint32_t) len;
            memcpy(c->data + pos, in, len);
        }
        pos += c->cl[i].len;
    }
    qcow2_enc_free(enc);
    *chunk = c;
    return 0;

fail:
    qcow2_enc_free(enc);
    qcow2_free_encoded(c);
    return -1;
}

/* Count one more compressed cluster touching host cluster HC.  Lock
 * held.
 */
static int
qcow2_cref_add(struct vmc_image *img, struct qcow2_writer *w, uint64_t hc)
{
    if (w->ncrefs > 0 && w->crefs[w->ncrefs - 1].cluster == hc) {
        w->crefs[w->ncrefs - 1].count++;
        return 0;
    }
    if (w->ncrefs == w->crefs_cap) {
        size_t cap = w->crefs_cap ? w->crefs_cap * 2 : 256;
        struct qcow2_cref *n;

        n = vmc_malloc(img->h, img->path, cap * sizeof *n,
                       "compressed cluster refcounts");
        if (n == NULL)
            return -1;
        if (w->ncrefs)
            memcpy(n, w->crefs, w->ncrefs * sizeof *n);
        free(w->crefs);
        w->crefs = n;
        w->crefs_cap = cap;
    }
    w->crefs[w->ncrefs].cluster = hc;
    w->crefs[w->ncrefs].count = 1;
    w->ncrefs++;
    return 0;
}

/* Place LEN bytes of compressed data; returns the host offset or 0.
 * Lock held.  Packs byte by byte like qemu, but starts a new host
 * cluster before a refcount would overflow.
 */
static uint64_t
qcow2_alloc_compressed(struct vmc_image *img, struct qcow2_writer *w,
                       uint32_t len)
{
    uint64_t off = w->next_free, hc;

    if (w->ncrefs > 0 && off % w->cs != 0 &&
        w->crefs[w->ncrefs - 1].cluster == off / w->cs &&
        w->crefs[w->ncrefs - 1].count >= QCOW2_W_REFCOUNT_MAX - 1)
        off = vmc_round_up(off, w->cs);
    for (hc = off / w->cs; hc <= (off + len - 1) / w->cs; hc++)
        if (qcow2_cref_add(img, w, hc) == -1)
            return 0;
    w->next_free = off + len;
    return off;
}

/* Store CHUNK; consumes it, stored or not. */
int
qcow2_write_encoded(struct vmc_image *img, void *chunk)
{
    struct qcow2 *q = img->priv;
    struct qcow2_writer *w = q->writer;
    struct qcow2_chunk *c = chunk;
    uint64_t first = c->offset / w->cs, i;
    CLEANUP_FREE uint64_t *hosts = NULL;
    int ret = -1;

    hosts = vmc_calloc(img->h, img->path, c->n, sizeof *hosts,
                       "encoded request");
    if (hosts == NULL)
        goto out;
    pthread_mutex_lock(&w->lock);
    if (qcow2_w_check_unwritten(img, w, first, c->n) == -1) {
        pthread_mutex_unlock(&w->lock);
        goto out;
    }
    for (i = 0; i < c->n; i++) {
        uint64_t *e = qcow2_w_entry(img, w, first + i);
        uint64_t nsect;

        switch (c->cl[i].kind) {
        case QCOW2_C_ZERO:
            *e = QCOW2_W_ZERO;
            break;
        case QCOW2_C_RAW:
            hosts[i] = vmc_round_up(w->next_free, w->cs);
            w->next_free = hosts[i] + w->cs;
            *e = hosts[i] | QCOW2_OFLAG_COPIED;
            break;
        case QCOW2_C_COMPRESSED: {
            uint64_t csize_shift = 62 - (w->cluster_bits - 8);

            hosts[i] = qcow2_alloc_compressed(img, w, c->cl[i].len);
            if (hosts[i] == 0) {
                atomic_store(&w->failed, true);
                pthread_mutex_unlock(&w->lock);
                goto out;
            }
            nsect = ((hosts[i] + c->cl[i].len - 1) >> 9) - (hosts[i] >> 9);
            *e = QCOW2_OFLAG_COMPRESSED | (nsect << csize_shift) | hosts[i];
            break;
        }
        }
    }
    pthread_mutex_unlock(&w->lock);

    /* Write runs that are contiguous both in the chunk and on the host. */
    i = 0;
    while (i < c->n) {
        uint64_t start = i, len;

        if (c->cl[i].kind == QCOW2_C_ZERO) {
            i++;
            continue;
        }
        len = c->cl[i].len;
        for (i++; i < c->n && c->cl[i].kind != QCOW2_C_ZERO &&
                 hosts[i] == hosts[start] + len &&
                 c->cl[i].pos == c->cl[start].pos + len; i++)
            len += c->cl[i].len;
        if (vmc_file_pwrite_full(img->file, c->data + c->cl[start].pos, len,
                                 hosts[start]) == -1) {
            atomic_store(&w->failed, true);
            goto out;
        }
    }
    ret = 0;
out:
    qcow2_free_encoded(c);          /* consumed, stored or not */
    return ret;
}

/* ---- Flush -------------------------------------------------------- */

/* The stored form of in-memory entry E. */
static uint64_t
qcow2_w_stored(const struct qcow2_writer *w, uint64_t e)
{
    if (!(e & QCOW2_OFLAG_COMPRESSED))
        e &= ~QCOW2_W_RESERVED; /* only if a copy failed half way */
    if (e == QCOW2_W_ZERO)
        return w->backing_file && w->version >= 3 ? QCOW2_OFLAG_ZERO : 0;
    return e;
}

/* Whether L2 table I has anything to store. */
static bool
qcow2_w_table_used(const struct qcow2_writer *w, uint32_t i)
{
    uint32_t j;

    if (w->l2[i] == NULL)
        return false;
    for (j = 0; j < w->l2_entries; j++)
        if (qcow2_w_stored(w, w->l2[i][j]) != 0)
            return true;
    return false;
}

struct qcow2_layout {
    uint64_t data_clusters;      /* header + data */
    uint64_t l2_start;           /* first L2 table cluster */
    uint64_t n_l2;
    uint64_t l1_start;
    uint64_t l1_clusters;
    uint64_t rt_start;
    uint64_t rt_clusters;
    uint64_t rb_start;
    uint64_t rb_clusters;
    uint64_t total;              /* clusters in the file */
};

static int
qcow2_w_layout(struct vmc_image *img, struct qcow2_writer *w,
               struct qcow2_layout *l)
{
    uint64_t block_entries = w->cs * 8 / (1u << QCOW2_W_REFCOUNT_ORDER);
    uint64_t base, rb = 0, rt = 0;
    uint32_t i;

    memset(l, 0, sizeof *l);
    l->data_clusters = vmc_round_up(w->next_free, w->cs) / w->cs;
    for (i = 0; i < w->l1_size; i++)
        if (qcow2_w_table_used(w, i))
            l->n_l2++;
    l->l1_clusters = vmc_div_round_up((uint64_t) w->l1_size * 8, w->cs);
    base = l->data_clusters + l->n_l2 + l->l1_clusters;
    /* The refcount structures count themselves: grow until stable. */
    for (;;) {
        uint64_t total = base + rt + rb;
        uint64_t nrb = vmc_div_round_up(total, block_entries);
        uint64_t nrt = vmc_div_round_up(nrb * 8, w->cs);

        if (nrb == rb && nrt == rt)
            break;
        rb = nrb;
        rt = nrt;
    }
    if (rt * w->cs > QCOW2_MAX_REFTABLE_BYTES) {
        vmc_error(img->h, "%s: the image needs a refcount table of %" PRIu64
                  " bytes, more than %u; use larger clusters", img->path,
                  rt * w->cs, QCOW2_MAX_REFTABLE_BYTES);
        return -1;
    }
    l->l2_start = l->data_clusters;
    l->l1_start = l->l2_start + l->n_l2;
    l->rt_start = l->l1_start + l->l1_clusters;
    l->rt_clusters = rt;
    l->rb_start = l->rt_start + rt;
    l->rb_clusters = rb;
    l->total = l->rb_start + rb;
    return 0;
}

/* Write the L2 tables and the L1 table. */
static int
qcow2_w_write_tables(struct vmc_image *img, struct qcow2_writer *w,
                     const struct qcow2_layout *l)
{
    CLEANUP_FREE uint8_t *l1 = NULL;
    CLEANUP_FREE uint8_t *tbl = NULL;
    uint64_t next = l->l2_start;
    uint32_t i, j;

    l1 = vmc_calloc(img->h, img->path, l->l1_clusters ? l->l1_clusters : 1,
                    w->cs, "L1 table");
    tbl = vmc_malloc(img->h, img->path, w->cs, "L2 table");
    if (l1 == NULL || tbl == NULL)
        return -1;
    for (i = 0; i < w->l1_size; i++) {
        uint64_t off;

        if (!qcow2_w_table_used(w, i))
            continue;
        for (j = 0; j < w->l2_entries; j++)
            vmc_put_be64(tbl + (size_t) j * 8,
                         qcow2_w_stored(w, w->l2[i][j]));
        off = next++ * w->cs;
        if (vmc_file_pwrite_full(img->file, tbl, w->cs, off) == -1)
            return -1;
        vmc_put_be64(l1 + (size_t) i * 8, off | QCOW2_OFLAG_COPIED);
    }
    /* Only the entries: the rest of the last cluster stays a hole. */
    if (l->l1_clusters &&
        vmc_file_pwrite_full(img->file, l1, (size_t) w->l1_size * 8,
                             l->l1_start * w->cs) == -1)
        return -1;
    return 0;
}

/* Write the refcount table and blocks: 1 for every cluster of the
 * file, the compressed counts where compressed data lies.
 */
static int
qcow2_w_write_refcounts(struct vmc_image *img, struct qcow2_writer *w,
                        const struct qcow2_layout *l)
{
    uint64_t block_entries = w->cs * 8 / (1u << QCOW2_W_REFCOUNT_ORDER);
    CLEANUP_FREE uint8_t *rt = NULL;
    CLEANUP_FREE uint8_t *rb = NULL;
    size_t cr = 0;
    uint64_t b, j;

    rt = vmc_calloc(img->h, img->path, l->rt_clusters, w->cs,
                    "refcount table");
    rb = vmc_malloc(img->h, img->path, w->cs, "refcount block");
    if (rt == NULL || rb == NULL)
        return -1;
    for (b = 0; b < l->rb_clusters; b++) {
        memset(rb, 0, w->cs);
        for (j = 0; j < block_entries; j++) {
            uint64_t c = b * block_entries + j;
            uint16_t rc = 1;

            if (c >= l->total)
                break;
            while (cr < w->ncrefs && w->crefs[cr].cluster < c)
                cr++;
            if (cr < w->ncrefs && w->crefs[cr].cluster == c)
                rc = (uint16_t) w->crefs[cr].count;
            vmc_put_be16(rb + j * 2, rc);
        }
        /* The entries used; the rest stays a hole (zeros). */
        if (vmc_file_pwrite_full(img->file, rb, j * 2,
                                 (l->rb_start + b) * w->cs) == -1)
            return -1;
        vmc_put_be64(rt + b * 8, (l->rb_start + b) * w->cs);
    }
    return vmc_file_pwrite_full(img->file, rt, l->rb_clusters * 8,
                                l->rt_start * w->cs);
}

int
qcow2_flush(struct vmc_image *img)
{
    struct qcow2 *q = img->priv;
    struct qcow2_writer *w = q->writer;
    CLEANUP_FREE uint8_t *hbuf = NULL;
    struct qcow2_layout l;
    size_t hlen;
    int ret = -1;

    if (w == NULL)
        return 0;
    pthread_mutex_lock(&w->lock);
    if (atomic_load(&w->failed)) {
        vmc_error(img->h, "%s: not finishing the image: an earlier write "
                  "failed", img->path);
        goto out;
    }
    if (qcow2_w_layout(img, w, &l) == -1)
        goto out;
    /* Metadata is written sparsely after the data: drop whatever an
     * earlier flush left there, so the holes read as zeros.
     */
    if (vmc_file_truncate(img->file, l.data_clusters * w->cs) == -1)
        goto out;
    hbuf = vmc_calloc(img->h, img->path, 1, w->cs, "header");
    if (hbuf == NULL)
        goto out;
    hlen = qcow2_build_header(w, w->size, w->version >= 3,
                              l.l1_clusters ? l.l1_start * w->cs : 0,
                              l.rt_start * w->cs, (uint32_t) l.rt_clusters,
                              hbuf);
    if (hlen == 0)
        hlen = qcow2_build_header(w, w->size, false,
                                  l.l1_clusters ? l.l1_start * w->cs : 0,
                                  l.rt_start * w->cs,
                                  (uint32_t) l.rt_clusters, hbuf);
    if (hlen == 0) {
        vmc_error(img->h, "%s: the header does not fit in a cluster",
                  img->path);
        goto out;
    }
    if (qcow2_w_write_tables(img, w, &l) == -1 ||
        qcow2_w_write_refcounts(img, w, &l) == -1)
        goto out;
    /* The header last, and the file exactly as long as its clusters. */
    if (vmc_file_pwrite_full(img->file, hbuf, hlen, 0) == -1)
        goto out;
    if (vmc_file_truncate(img->file, l.total * w->cs) == -1)
        goto out;
    ret = 0;
out:
    pthread_mutex_unlock(&w->lock);
    return ret;
}
