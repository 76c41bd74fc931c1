/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 compressed clusters: raw deflate (no zlib header; qemu writes
 * windowBits -12, we inflate with -15, which reads any window) and
 * zstd frames (compression type 1).  A compressed cluster decompresses
 * to exactly one cluster; bytes after the end of the stream are normal
 * (the descriptor counts whole sectors).
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "qcow2-internal.h"

/* qemu compresses with a 4 KiB window (windowBits -12) and memLevel 9. */
#define QCOW2_DEFLATE_WINDOW_BITS (-12)
#define QCOW2_INFLATE_WINDOW_BITS (-15)
#define QCOW2_DEFLATE_MEM_LEVEL 9
#define QCOW2_ZSTD_LEVEL 3
/* A cluster is at most 2 MiB: refuse frames asking for windows above
 * 8 MiB rather than let a hostile frame make us allocate 128 MiB.
 */
#define QCOW2_ZSTD_WINDOW_LOG_MAX 23

struct qcow2_dec {
    int type;
    struct libdeflate_decompressor *ld;
    bool z_ready;
    z_stream z;
    ZSTD_DCtx *zd;
};

void
qcow2_dec_free(struct qcow2_dec *d)
{
    if (d == NULL)
        return;
    if (d->z_ready)
        inflateEnd(&d->z);
    libdeflate_free_decompressor(d->ld);
    ZSTD_freeDCtx(d->zd);
    free(d);
}

static struct qcow2_dec *
qcow2_dec_new(struct vmc_handle *h, const char *path, int type)
{
    struct qcow2_dec *d = calloc(1, sizeof *d);

    if (d == NULL) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    d->type = type;
    if (type == QCOW2_COMPRESSION_DEFLATE) {
        if (inflateInit2(&d->z, QCOW2_INFLATE_WINDOW_BITS) != Z_OK) {
            vmc_error(h, "%s: cannot set up zlib decompression", path);
            free(d);
            return NULL;
        }
        d->z_ready = true;
    } else {
        d->zd = ZSTD_createDCtx();
        if (d->zd == NULL ||
            ZSTD_isError(ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax,
                                                QCOW2_ZSTD_WINDOW_LOG_MAX))) {
            ZSTD_freeDCtx(d->zd);
            vmc_error(h, "%s: cannot set up zstd decompression", path);
            free(d);
            return NULL;
        }
    }
    return d;
}

static int
qcow2_inflate(struct vmc_handle *h, const char *path, uint64_t host,
              struct qcow2_dec *d, const void *in, size_t len, void *out,
              size_t out_len)
{
    int r;

    /* Fast path: a stream that ends exactly at the cluster's end (what
     * every writer makes).  libdeflate reads any window size, so qemu's
     * 4 KiB one too.  Anything else (a stream going on past the cluster,
     * damage) goes to zlib, which decides and words the error.
     */
    if (d->ld == NULL)
        d->ld = libdeflate_alloc_decompressor();
    if (d->ld != NULL) {
        size_t in_used;

        if (libdeflate_deflate_decompress_ex(d->ld, in, len, out, out_len,
                                             &in_used, NULL)
            == LIBDEFLATE_SUCCESS)
            return 0;
    }
    if (inflateReset(&d->z) != Z_OK) {
        vmc_error(h, "%s: compressed cluster at offset %" PRIu64
                  ": zlib reset failed", path, host);
        return -1;
    }
    d->z.next_in = (Bytef *) in;
    d->z.avail_in = (uInt) len;
    d->z.next_out = out;
    d->z.avail_out = (uInt) out_len;
    r = inflate(&d->z, Z_FINISH);
    /* Success is a full cluster of output; the stream may end there or
     * go on (Z_BUF_ERROR/Z_OK with no room left).
     */
    if (d->z.avail_out == 0 &&
        (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK))
        return 0;
    if (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK)
        vmc_error(h, "%s: compressed cluster at offset %" PRIu64
                  ": decompresses to %zu bytes, not a whole cluster of %zu",
                  path, host, out_len - d->z.avail_out, out_len);
    else
        vmc_error(h, "%s: compressed cluster at offset %" PRIu64
                  ": bad deflate data (%s)", path, host,
                  d->z.msg ? d->z.msg : "zlib error");
    return -1;
}

static int
qcow2_unzstd(struct vmc_handle *h, const char *path, uint64_t host,
             struct qcow2_dec *d, const void *in, size_t len, void *out,
             size_t out_len)
{
    ZSTD_inBuffer ib = { in, len, 0 };
    ZSTD_outBuffer ob = { out, out_len, 0 };
    size_t r;

    if (ZSTD_isError(ZSTD_DCtx_reset(d->zd, ZSTD_reset_session_only))) {
        vmc_error(h, "%s: compressed cluster at offset %" PRIu64
                  ": zstd reset failed", path, host);
        return -1;
    }
    /* One cluster may hold several frames; stop when the output is
     * full, fail when neither side moves (truncated input).
     */
    while (ob.pos < ob.size) {
        size_t in_before = ib.pos, out_before = ob.pos;

        r = ZSTD_decompressStream(d->zd, &ob, &ib);
        if (ZSTD_isError(r)) {
            vmc_error(h, "%s: compressed cluster at offset %" PRIu64
                      ": bad zstd data (%s)", path, host,
                      ZSTD_getErrorName(r));
            return -1;
        }
        if (ib.pos == in_before && ob.pos == out_before) {
            vmc_error(h, "%s: compressed cluster at offset %" PRIu64
                      ": decompresses to %zu bytes, not a whole cluster "
                      "of %zu", path, host, ob.pos, out_len);
            return -1;
        }
    }
    return 0;
}

int
qcow2_decompress(struct vmc_handle *h, const char *path, uint64_t host,
                 int type, struct qcow2_dec **dp, const void *in,
                 size_t len, void *out, size_t out_len)
{
    if (*dp == NULL) {
        *dp = qcow2_dec_new(h, path, type);
        if (*dp == NULL)
            return -1;
    }
    if (type == QCOW2_COMPRESSION_DEFLATE)
        return qcow2_inflate(h, path, host, *dp, in, len, out, out_len);
    return qcow2_unzstd(h, path, host, *dp, in, len, out, out_len);
}

/* ---- Compression (writer) ----------------------------------------- */

struct qcow2_enc {
    int type;
    bool z_ready;
    z_stream z;
    ZSTD_CCtx *zc;
};

struct qcow2_enc *
qcow2_enc_new(struct vmc_handle *h, const char *path, int type)
{
    struct qcow2_enc *e = calloc(1, sizeof *e);

    if (e == NULL) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    e->type = type;
    if (type == QCOW2_COMPRESSION_DEFLATE) {
        if (deflateInit2(&e->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                         QCOW2_DEFLATE_WINDOW_BITS, QCOW2_DEFLATE_MEM_LEVEL,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            vmc_error(h, "%s: cannot set up zlib compression", path);
            free(e);
            return NULL;
        }
        e->z_ready = true;
    } else {
        e->zc = ZSTD_createCCtx();
        if (e->zc == NULL ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel,
                                                QCOW2_ZSTD_LEVEL))) {
            vmc_error(h, "%s: cannot set up zstd compression", path);
            ZSTD_freeCCtx(e->zc);
            free(e);
            return NULL;
        }
    }
    return e;
}

void
qcow2_enc_free(struct qcow2_enc *e)
{
    if (e == NULL)
        return;
    if (e->z_ready)
        deflateEnd(&e->z);
    ZSTD_freeCCtx(e->zc);
    free(e);
}

ssize_t
qcow2_compress(struct vmc_handle *h, const char *path, struct qcow2_enc *e,
               const void *in, size_t len, void *out, size_t out_max)
{
    if (e->type == QCOW2_COMPRESSION_DEFLATE) {
        int r;

        if (deflateReset(&e->z) != Z_OK) {
            vmc_error(h, "%s: zlib reset failed", path);
            return -1;
        }
        e->z.next_in = (Bytef *) in;
        e->z.avail_in = (uInt) len;
        e->z.next_out = out;
        e->z.avail_out = (uInt) out_max;
        r = deflate(&e->z, Z_FINISH);
        if (r == Z_STREAM_END)
            return (ssize_t) (out_max - e->z.avail_out);
        if (r == Z_OK || r == Z_BUF_ERROR)
            return 0;               /* does not fit */
        vmc_error(h, "%s: zlib compression failed (%d)", path, r);
        return -1;
    } else {
        size_t r = ZSTD_compress2(e->zc, out, out_max, in, len);

        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
                return 0;
            vmc_error(h, "%s: zstd compression failed (%s)", path,
                      ZSTD_getErrorName(r));
            return -1;
        }
        return (ssize_t) r;
    }
}
