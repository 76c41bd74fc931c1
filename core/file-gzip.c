/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte-source back-end for the inflated contents of a gzip file
 * (RFC 1952; concatenated members as gzip(1) reads them) stored in
 * another file: a disk of an OVA written with ovf:compression="gzip".
 * Read-only, with random access and nothing written anywhere.
 *
 * Open inflates the whole stream once, which checks every member's
 * CRC-32 and length, learns the size, and keeps an index of restart
 * points: at the end of a deflate block, at least GZ_SPAN bytes of
 * output after the previous point, the compressed offset, its unused
 * bits and the 32 KiB of output before it (deflate refers back at most
 * that far).  A read restarts inflation at the last point at or before
 * its offset (zlib's inflatePrime and inflateSetDictionary on a raw
 * stream), so it inflates at most one span before reaching its data.
 * This is the method zlib's examples/zran.c describes.
 *
 * Memory is bounded: at most GZ_MAX_POINTS points of 32 KiB (16 MiB);
 * when a stream would need more, every other point is dropped and the
 * span doubles (4 MiB up to 8 MiB for a 4 GiB disk, 16 MiB for 8 GiB
 * ...).  Plus up to GZ_CURSORS (4) cursors, each an inflate state
 * (about 44 KiB), a 64 KiB input buffer and a 1 MiB buffer of recent
 * output, so that sequential and nearby reads carry on from where the
 * last one stopped instead of restarting, even when several workers
 * read at different places: 16 MiB + 4.5 MiB at most.  Reads are
 * serialised by a mutex.
 */
#include <config.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "file.h"
#include "handle.h"
#include "util.h"

#define GZ_WINDOW     32768u
#define GZ_SPAN       (UINT64_C(4) << 20)
#define GZ_MAX_POINTS 512u
#define GZ_IN_SIZE    65536u
#define GZ_HIST_SIZE  (1024u * 1024)
#define GZ_CURSORS    4u

/* Where inflation can restart. */
struct gz_point {
    uint64_t out;               /* offset in the inflated data */
    uint64_t in;                /* offset of the next compressed byte */
    int bits;                   /* bits of the byte before IN still to use */
    unsigned char *window;      /* the GZ_WINDOW bytes before OUT; NULL:
                                   the start of the stream (a header) */
};

/* An inflate state positioned at output CUR_OUT, with the output
 * [HIST_START, CUR_OUT) in HIST.  Several, so that readers at different
 * places (the copy's workers) do not restart each other's inflation.
 */
struct gz_cursor {
    z_stream z;
    bool z_init;
    bool cur_valid;
    bool raw;                   /* Z is a raw deflate stream (restarted
                                   at a point), not a gzip member */
    bool at_end;                /* the last member ended */
    bool crossed;               /* the last gz_inflate ended a member */
    uint64_t cur_out;
    uint64_t in_next;           /* offset of the next byte to read in */
    unsigned char in_buf[GZ_IN_SIZE];
    unsigned char *hist;
    uint64_t hist_start;
    uint64_t used;              /* clock of the last use */
};

struct gzip_file {
    struct vmc_file f;
    struct vmc_file *under;
    bool own;
    uint64_t in_size;           /* compressed bytes */
    uint64_t size;              /* inflated bytes */
    uint64_t span;
    size_t max_points;
    size_t nr_points;
    struct gz_point *points;

    pthread_mutex_t lock;
    struct gz_cursor cursors[GZ_CURSORS];
    uint64_t clock;             /* for the least recently used cursor */
};

static inline struct gzip_file *
gzip_of(struct vmc_file *f)
{
    return (struct gzip_file *) f;
}

static int
gz_corrupt(struct gzip_file *g, struct gz_cursor *c, const char *what)
{
    vmc_error_kind(g->f.h, VMC_ERR_BAD_INPUT, "%s: the gzip data is corrupt "
                   "at compressed offset %" PRIu64 " (%s)", g->f.name,
                   c->in_next - c->z.avail_in, what);
    return -1;
}

/* Refill the input buffer if it is empty.  Returns 1 (input), 0 (end of
 * the compressed data) or -1.
 */
static int
gz_fill(struct gzip_file *g, struct gz_cursor *c)
{
    size_t n;

    if (c->z.avail_in > 0)
        return 1;
    if (c->in_next >= g->in_size)
        return 0;
    n = g->in_size - c->in_next < GZ_IN_SIZE
        ? (size_t) (g->in_size - c->in_next) : GZ_IN_SIZE;
    if (vmc_file_pread_full(g->under, c->in_buf, n, c->in_next) == -1)
        return -1;
    c->in_next += n;
    c->z.next_in = c->in_buf;
    c->z.avail_in = (uInt) n;
    return 1;
}

/* Position the input at compressed offset IN. */
static void
gz_seek_in(struct gzip_file *g, struct gz_cursor *c, uint64_t in)
{
    c->in_next = in;
    c->z.next_in = c->in_buf;
    c->z.avail_in = 0;
}

/* After the end of a member (Z_STREAM_END): is another one there?  A
 * raw stream has not read the member's 8-byte trailer: skip it.
 * Returns 1 (a member follows, Z reset for it), 0 (the end) or -1.
 */
static int
gz_next_member(struct gzip_file *g, struct gz_cursor *c)
{
    int r;

    if (c->raw) {
        uint64_t pos = c->in_next - c->z.avail_in + 8;

        if (pos > g->in_size)
            return gz_corrupt(g, c, "the member's trailer is cut");
        gz_seek_in(g, c, pos);
    }
    r = gz_fill(g, c);
    if (r <= 0)
        return r;
    if (inflateReset2(&c->z, 15 + 16) != Z_OK)
        return gz_corrupt(g, c, "inflateReset2");
    c->raw = false;
    return 1;
}

/* Inflate into OUT (AVAIL bytes, > 0) from the cursor.  FLUSH is
 * Z_BLOCK while indexing (it returns at the end of each deflate block).
 * Returns at the end of a member too (sets CROSSED).  Sets *GOT (0 at
 * the end of the data, or at a block end).  Returns 0 or -1.
 */
static int
gz_inflate(struct gzip_file *g, struct gz_cursor *c, unsigned char *out,
           size_t avail, int flush, size_t *got)
{
    int r;

    *got = 0;
    c->crossed = false;
    if (c->at_end)
        return 0;
    c->z.next_out = out;
    c->z.avail_out = (uInt) avail;
    for (;;) {
        r = gz_fill(g, c);
        if (r == -1)
            return -1;
        if (r == 0) {
            *got = avail - c->z.avail_out;
            c->cur_out += *got;
            if (*got > 0)
                return 0;
            vmc_error_kind(g->f.h, VMC_ERR_BAD_INPUT, "%s: the gzip data "
                           "is truncated (it ends after %" PRIu64
                           " compressed bytes inside a member)", g->f.name,
                           g->in_size);
            return -1;
        }
        r = inflate(&c->z, flush);
        if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_MEM_ERROR ||
            r == Z_STREAM_ERROR)
            return gz_corrupt(g, c, c->z.msg ? c->z.msg : "inflate");
        *got = avail - c->z.avail_out;
        if (r == Z_STREAM_END) {
            c->cur_out += *got;
            c->crossed = true;
            r = gz_next_member(g, c);
            if (r == -1)
                return -1;
            if (r == 0)
                c->at_end = true;
            return 0;
        }
        if (*got > 0 || (flush == Z_BLOCK && (c->z.data_type & 128))) {
            c->cur_out += *got;
            return 0;
        }
    }
}

/* ---- The index ---------------------------------------------------- */

static void
gz_free_points(struct gzip_file *g)
{
    size_t i;

    for (i = 0; i < g->nr_points; i++)
        free(g->points[i].window);
    free(g->points);
    g->points = NULL;
    g->nr_points = 0;
}

/* Keep points 0, 2, 4 ... and double the span. */
static void
gz_thin(struct gzip_file *g)
{
    size_t i, k = 0;

    for (i = 0; i < g->nr_points; i++) {
        if (i % 2 == 0)
            g->points[k++] = g->points[i];
        else
            free(g->points[i].window);
    }
    g->nr_points = k;
    g->span *= 2;
}

/* Add a point at the cursor; WIN (GZ_WINDOW bytes, circular) holds the
 * latest output, the newest byte just before WIN + HAVE.
 */
static int
gz_add_point(struct gzip_file *g, struct gz_cursor *c,
             const unsigned char *win, size_t have)
{
    struct gz_point *pt;

    if (g->nr_points == g->max_points)
        gz_thin(g);
    pt = &g->points[g->nr_points];
    pt->window = malloc(GZ_WINDOW);
    if (pt->window == NULL) {
        vmc_error(g->f.h, "%s: %m", g->f.name);
        return -1;
    }
    memcpy(pt->window, win + have, GZ_WINDOW - have);
    memcpy(pt->window + (GZ_WINDOW - have), win, have);
    pt->out = c->cur_out;
    pt->in = c->in_next - c->z.avail_in;
    pt->bits = c->z.data_type & 7;
    g->nr_points++;
    return 0;
}

/* Inflate everything once: check it, learn the size, build the index. */
static int
gz_build_index(struct gzip_file *g)
{
    struct gz_cursor *c = &g->cursors[0];
    unsigned char *win;
    size_t have = 0;
    uint64_t last = 0;
    int ret = -1;

    g->points = calloc(g->max_points, sizeof *g->points);
    win = calloc(1, GZ_WINDOW);
    if (g->points == NULL || win == NULL) {
        vmc_error(g->f.h, "%s: %m", g->f.name);
        goto out;
    }
    g->nr_points = 1;           /* the start: { 0, 0, 0, NULL } */
    gz_seek_in(g, c, 0);
    c->raw = false;
    c->at_end = false;
    c->cur_out = 0;
    switch (gz_fill(g, c)) {
    case -1:
        goto out;
    case 1:
        if (c->z.avail_in >= 2 && c->in_buf[0] == 0x1f &&
            c->in_buf[1] == 0x8b)
            break;
        /* fall through */
    default:
        vmc_error_kind(g->f.h, VMC_ERR_BAD_INPUT, "%s: not gzip data (no "
                       "gzip header at offset 0)", g->f.name);
        goto out;
    }
    for (;;) {
        size_t got;

        if (gz_inflate(g, c, win + have, GZ_WINDOW - have, Z_BLOCK,
                       &got) == -1)
            goto out;
        have = (have + got) % GZ_WINDOW;
        if (c->at_end)
            break;
        if (!c->crossed && (c->z.data_type & 128) &&
            !(c->z.data_type & 64) && c->cur_out - last >= g->span) {
            if (gz_add_point(g, c, win, have) == -1)
                goto out;
            last = g->points[g->nr_points - 1].out;
        }
        if (vmc_cancelled(g->f.h)) {
            vmc_error_kind(g->f.h, VMC_ERR_INTERRUPTED, "cancelled");
            goto out;
        }
    }
    g->size = c->cur_out;
    ret = 0;
out:
    free(win);
    c->cur_valid = false;
    return ret;
}

/* ---- Reads -------------------------------------------------------- */

/* Restart the cursor at point PT. */
static int
gz_restart(struct gzip_file *g, struct gz_cursor *c, const struct gz_point *pt)
{
    if (pt->window == NULL) {
        if (inflateReset2(&c->z, 15 + 16) != Z_OK)
            return gz_corrupt(g, c, "inflateReset2");
        c->raw = false;
        gz_seek_in(g, c, 0);
        c->hist_start = 0;
    }
    else {
        if (inflateReset2(&c->z, -15) != Z_OK)
            return gz_corrupt(g, c, "inflateReset2");
        c->raw = true;
        if (pt->bits) {
            unsigned char b;

            if (vmc_file_pread_full(g->under, &b, 1, pt->in - 1) == -1)
                return -1;
            if (inflatePrime(&c->z, pt->bits, b >> (8 - pt->bits)) != Z_OK)
                return gz_corrupt(g, c, "inflatePrime");
        }
        gz_seek_in(g, c, pt->in);
        if (inflateSetDictionary(&c->z, pt->window, GZ_WINDOW) != Z_OK)
            return gz_corrupt(g, c, "inflateSetDictionary");
        /* The window is output too: reads just before the point. */
        memcpy(c->hist, pt->window, GZ_WINDOW);
        c->hist_start = pt->out - (pt->out < GZ_WINDOW ? pt->out : GZ_WINDOW);
        if (pt->out < GZ_WINDOW)
            memmove(c->hist, c->hist + (GZ_WINDOW - pt->out),
                    (size_t) pt->out);
    }
    c->cur_out = pt->out;
    c->at_end = false;
    c->cur_valid = true;
    return 0;
}

/* Inflate more output into the history buffer. */
static int
gz_advance(struct gzip_file *g, struct gz_cursor *c)
{
    size_t used = (size_t) (c->cur_out - c->hist_start), got;

    if (used == GZ_HIST_SIZE) {
        /* Keep the newer half. */
        memmove(c->hist, c->hist + GZ_HIST_SIZE / 2, GZ_HIST_SIZE / 2);
        c->hist_start += GZ_HIST_SIZE / 2;
        used -= GZ_HIST_SIZE / 2;
    }
    if (gz_inflate(g, c, c->hist + used, GZ_HIST_SIZE - used, Z_NO_FLUSH,
                   &got) == -1)
        return -1;
    if (got == 0 && c->at_end) {
        vmc_error_kind(g->f.h, VMC_ERR_BAD_INPUT, "%s: the gzip data ends "
                       "at %" PRIu64 " bytes, before its indexed size %"
                       PRIu64 " (the file changed?)", g->f.name, c->cur_out,
                       g->size);
        return -1;
    }
    return 0;
}

/* Make cursor C ready for use: its buffer and inflate state. */
static int
gz_cursor_init(struct gzip_file *g, struct gz_cursor *c)
{
    if (c->hist == NULL) {
        c->hist = malloc(GZ_HIST_SIZE);
        if (c->hist == NULL) {
            vmc_error(g->f.h, "%s: %m", g->f.name);
            return -1;
        }
    }
    if (!c->z_init) {
        if (inflateInit2(&c->z, 15 + 16) != Z_OK) {
            vmc_error(g->f.h, "%s: cannot start gzip decompression",
                      g->f.name);
            return -1;
        }
        c->z_init = true;
    }
    return 0;
}

/* The cursor to read OFFSET with: one holding it, else one that can
 * inflate up to it without a restart (the nearest), else the least
 * recently used one (restarted).
 */
static struct gz_cursor *
gz_pick(struct gzip_file *g, uint64_t offset, uint64_t point_out)
{
    struct gz_cursor *best = NULL, *lru = NULL;
    size_t i;

    for (i = 0; i < GZ_CURSORS; i++) {
        struct gz_cursor *c = &g->cursors[i];

        if (c->cur_valid && offset >= c->hist_start && offset < c->cur_out)
            return c;
        if (c->cur_valid && c->cur_out <= offset &&
            c->cur_out >= point_out &&
            (best == NULL || c->cur_out > best->cur_out))
            best = c;
        if (!c->cur_valid) {
            if (lru == NULL || lru->cur_valid)
                lru = c;        /* an unused one first */
        }
        else if (lru == NULL || (lru->cur_valid && c->used < lru->used))
            lru = c;
    }
    return best ? best : lru;
}

static int
gzip_pread_locked(struct gzip_file *g, unsigned char *b, size_t count,
                  uint64_t offset)
{
    while (count > 0) {
        size_t lo = 0, hi = g->nr_points;
        struct gz_cursor *c;

        /* The last point at or before OFFSET. */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;

            if (g->points[mid].out <= offset)
                lo = mid;
            else
                hi = mid;
        }
        c = gz_pick(g, offset, g->points[lo].out);
        c->used = ++g->clock;
        if (c->cur_valid && offset >= c->hist_start && offset < c->cur_out) {
            size_t n = c->cur_out - offset < count
                       ? (size_t) (c->cur_out - offset) : count;

            memcpy(b, c->hist + (offset - c->hist_start), n);
            b += n;
            count -= n;
            offset += n;
            continue;
        }
        if (!c->cur_valid || c->cur_out > offset ||
            c->cur_out < g->points[lo].out) {
            if (gz_cursor_init(g, c) == -1 ||
                gz_restart(g, c, &g->points[lo]) == -1) {
                c->cur_valid = false;
                return -1;
            }
            continue;
        }
        if (gz_advance(g, c) == -1) {
            c->cur_valid = false;
            return -1;
        }
    }
    return 0;
}

static int
gzip_pread(struct vmc_file *f, void *buf, size_t count, uint64_t offset)
{
    struct gzip_file *g = gzip_of(f);
    int r;

    if (offset > g->size || count > g->size - offset) {
        vmc_error_kind(f->h, VMC_ERR_BAD_INPUT, "%s: unexpected end of "
                       "file reading %zu bytes at offset %" PRIu64, f->name,
                       count, offset);
        return -1;
    }
    pthread_mutex_lock(&g->lock);
    r = gzip_pread_locked(g, buf, count, offset);
    pthread_mutex_unlock(&g->lock);
    return r;
}

static int
gzip_get_size(struct vmc_file *f, uint64_t *size)
{
    *size = gzip_of(f)->size;
    return 0;
}

static void
gzip_free(struct gzip_file *g)
{
    size_t i;

    gz_free_points(g);
    for (i = 0; i < GZ_CURSORS; i++) {
        if (g->cursors[i].z_init)
            inflateEnd(&g->cursors[i].z);
        free(g->cursors[i].hist);
    }
    pthread_mutex_destroy(&g->lock);
    free(g->f.name);
    free(g);
}

static int
gzip_close(struct vmc_file *f)
{
    struct gzip_file *g = gzip_of(f);
    int ret = 0;

    if (g->own)
        ret = vmc_file_close(g->under);
    gzip_free(g);
    return ret;
}

static const struct vmc_file_ops gzip_ops = {
    .name = "gzip",
    .pread = gzip_pread,
    .get_size = gzip_get_size,
    .close = gzip_close,
};

struct vmc_file *
vmc_file_gzip_open(struct vmc_handle *h, const char *name,
                   struct vmc_file *under, bool own)
{
    return vmc_file_gzip_open_tuned(h, name, under, own, GZ_SPAN,
                                    GZ_MAX_POINTS);
}

struct vmc_file *
vmc_file_gzip_open_tuned(struct vmc_handle *h, const char *name,
                         struct vmc_file *under, bool own, uint64_t span,
                         size_t max_points)
{
    struct gzip_file *g;

    g = calloc(1, sizeof *g);
    if (g == NULL) {
        vmc_error(h, "%s: %m", name);
        goto fail;
    }
    pthread_mutex_init(&g->lock, NULL);
    if (vmc_file_init(&g->f, &gzip_ops, h, name, false) == -1) {
        pthread_mutex_destroy(&g->lock);
        free(g);
        goto fail;
    }
    g->under = under;
    g->span = span ? span : 1;
    g->max_points = max_points < 2 ? 2 : max_points;
    g->f.dev = under->dev;
    g->f.ino = under->ino;
    if (gz_cursor_init(g, &g->cursors[0]) == -1 ||
        vmc_file_get_size(under, &g->in_size) == -1 ||
        gz_build_index(g) == -1)
        goto fail_g;
    g->own = own;
    return &g->f;

fail_g:
    gzip_free(g);
fail:
    if (own)
        vmc_file_close(under);
    return NULL;
}
