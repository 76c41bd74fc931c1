/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The copy engine: copies the guest-visible contents of one image into
 * another with several worker threads.
 *
 * One cursor walks the source in offset order with block status (under
 * a lock: it is only table lookups) and hands out work items: aligned
 * ranges of at most request_size bytes that contain data.  Holes and
 * zero runs are skipped, and so is every all-zero piece of a data range
 * (the target reads zeros where nothing is written).  Workers read,
 * optionally encode (compress) in parallel, then write.  For targets
 * that need writes in offset order (streamOptimized VMDK, compressed
 * qcow2), each item carries a ticket and is stored in its turn;
 * everything before the store still runs in parallel.  When such a
 * target encodes, a worker whose encoded item is not yet due does not
 * wait for its turn: it parks the chunks in a reorder buffer and takes
 * the next item, and whichever worker holds the turn stores its own
 * item and then every parked one that follows in ticket order.  So one
 * slow item (say, one that compresses badly) no longer idles the other
 * threads, and the stores, hence the file, are the same as one thread
 * doing them all in order.  The buffer is bounded: an item more than
 * COPY_WINDOW_FACTOR x threads tickets ahead of the turn waits as
 * before.  Targets that allocate on first write (qcow2, sparse VMDK,
 * dynamic VHDX and VHD) instead reserve their space in that order, in
 * turn, and write in parallel: their layout follows disk order
 * whatever the threads.
 *
 * Memory is bounded by the thread count, whatever the image size: each
 * worker has one request buffer and the encoded chunks of its current
 * item (an encoded item holds at most about request_size bytes: data
 * that does not compress is stored as is), and the reorder buffer at
 * most COPY_WINDOW_FACTOR x threads encoded items.  So threads x
 * request_size for plain copies, and at most (2 + COPY_WINDOW_FACTOR)
 * x threads x request_size for ordered encoded ones (32 MiB with two
 * threads and 4 MiB requests; typically far less, as parked items are
 * compressed).
 *
 * The copy runs as a job (handle.h): the caller's, or its own when
 * called outside one.  Workers enter it, so the first error of any
 * worker is the one the copy fails with, and progress (done, total,
 * skipped) is rate-limited for the whole copy, not per thread.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "copy.h"

#define COPY_DEFAULT_REQUEST (4u * 1024 * 1024)
#define COPY_MAX_REQUEST (64u * 1024 * 1024)
#define COPY_MAX_THREADS 16
#define COPY_MAX_PIECES 16384
/* Longest range asked of block status at once. */
#define COPY_STATUS_MAX (1ull << 30)
/* Ordered encoded targets: how many items, per thread, may wait
 * encoded in the reorder buffer for their turn.  One per thread is
 * enough to keep every thread busy behind one slow item; the second
 * absorbs a run of slow ones.
 */
#define COPY_WINDOW_FACTOR 2

struct copy_item {
    uint64_t offset;
    uint64_t length;
    uint64_t ticket;
};

/* An encoded item parked until its turn, in the reorder buffer. */
struct copy_pending {
    struct copy_pending *next;   /* the list is sorted by ticket */
    uint64_t ticket;
    uint64_t length;             /* the item's bytes, for progress */
    uint64_t written;            /* of them, bytes in the chunks */
    size_t n;
    void *chunks[];              /* owned: stored or freed, never both */
};

struct copy {
    struct vmc_handle *h;
    struct vmc_job *job;         /* workers enter it */
    struct vmc_image *src;
    struct vmc_image *dst;
    uint64_t size;               /* bytes to copy: the source's size */
    uint64_t align;              /* work items start and end on this */
    uint64_t request;            /* largest work item */
    uint64_t zero_unit;          /* granularity of zero detection */
    bool zero_detect;
    bool ordered;                /* the target needs writes in order */
    bool ordered_alloc;          /* reserve in order, then write freely */
    uint64_t window;             /* ordered encoded: how far ahead of the
                                    turn an item may park */

    pthread_mutex_t lock;        /* protects everything below */
    pthread_cond_t turn;         /* ordered writes: next_write changed */
    uint64_t cursor;             /* next offset not yet handed out */
    uint64_t run_end;            /* end of the current data run, aligned */
    uint64_t next_ticket;
    uint64_t next_write;         /* ticket whose turn it is to write */
    uint64_t done;               /* bytes finished (for progress) */
    uint64_t skipped;            /* of DONE, bytes not written: holes,
                                    zero runs, all-zero pieces */
    bool failed;                 /* stop handing out work */
    struct copy_pending *pending; /* the reorder buffer, by ticket */
    size_t npending;
    size_t max_pending;          /* for the debug line */
    uint64_t parked;             /* items that went through the buffer */
};

static uint64_t
copy_round_down(uint64_t v, uint64_t a)
{
    return v - v % a;
}

/* Find the next data run at or after c->cursor and set c->run_end.
 * Returns 1 if there is a run, 0 at the end, -1 on error.  Called with
 * the lock held.
 */
static int
copy_find_run(struct copy *c)
{
    while (c->cursor < c->size) {
        enum vmc_extent_type type;
        uint64_t len = c->size - c->cursor, run, start, end;

        if (len > COPY_STATUS_MAX)
            len = COPY_STATUS_MAX;
        if (vmc_image_block_status(c->src, c->cursor, len, &type, &run) == -1)
            return -1;
        if (type != VMC_EXTENT_DATA) {
            c->done += run;
            c->skipped += run;
            c->cursor += run;
            continue;
        }
        /* Widen the run to whole alignment units; the cursor is already
         * past everything handed out, so no unit is written twice.
         */
        start = copy_round_down(c->cursor, c->align);
        end = c->cursor + run;
        if (end % c->align)
            end = copy_round_down(end, c->align) + c->align;
        if (end > c->size)
            end = c->size;
        if (start < c->cursor) {
            /* Part of this unit was a hole already counted as done and
             * never handed out: the unit was skipped, so take it whole.
             */
            c->done -= c->cursor - start;
            c->skipped -= c->cursor - start;
            c->cursor = start;
        }
        c->run_end = end;
        return 1;
    }
    return 0;
}

/* Hand out the next work item.  Returns 1 with *ITEM set, 0 when there
 * is no more work, -1 on error.
 */
static int
copy_next(struct copy *c, struct copy_item *item)
{
    int r = 0;

    pthread_mutex_lock(&c->lock);
    if (c->failed)
        goto out;
    if (vmc_cancelled(c->h)) {
        vmc_error_kind(c->h, VMC_ERR_INTERRUPTED, "cancelled");
        c->failed = true;
        r = -1;
        goto out;
    }
    if (c->cursor >= c->run_end) {
        r = copy_find_run(c);
        if (r <= 0) {
            if (r == -1)
                c->failed = true;
            goto out;
        }
    }
    item->offset = c->cursor;
    item->length = c->run_end - c->cursor;
    /* Keep items from straddling request boundaries: aligned requests
     * make the best use of every target's clusters.
     */
    {
        uint64_t limit = copy_round_down(c->cursor, c->request) + c->request;

        if (item->offset + item->length > limit)
            item->length = limit - item->offset;
    }
    item->ticket = c->next_ticket++;
    c->cursor += item->length;
    r = 1;
out:
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Wait until ITEM's turn to write (ordered targets only). */
static int
copy_wait_turn(struct copy *c, const struct copy_item *item)
{
    int r = 0;

    pthread_mutex_lock(&c->lock);
    while (c->next_write != item->ticket && !c->failed)
        pthread_cond_wait(&c->turn, &c->lock);
    if (c->failed)
        r = -1;
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* ITEM is finished; WRITTEN of its bytes were written (the rest were
 * all-zero pieces).
 */
static void
copy_finish_item(struct copy *c, const struct copy_item *item, bool ok,
                 uint64_t written)
{
    uint64_t done, skipped;

    pthread_mutex_lock(&c->lock);
    if (!ok)
        c->failed = true;
    else {
        c->done += item->length;
        c->skipped += item->length - written;
    }
    done = c->done;
    skipped = c->skipped;
    if (c->next_write == item->ticket)
        c->next_write++;
    pthread_cond_broadcast(&c->turn);
    pthread_mutex_unlock(&c->lock);
    if (ok)
        vmc_progress_skipped(c->h, done, c->size, skipped);
}

/* Write LEN bytes of BUF at OFF to the target, through encode when the
 * driver has it.  ORDERED: the caller already holds the turn.
 */
static int
copy_write(struct copy *c, const uint8_t *buf, uint64_t len, uint64_t off,
           bool ordered)
{
    const struct vmc_format_ops *ops = c->dst->ops;

    if (ops->encode && ops->write_encoded) {
        void *chunk = NULL;
        int r;

        /* For unordered targets the encode runs here in parallel and
         * the store is serialised; for ordered ones both already run
         * in turn (encode happened before the wait, see copy_item_run).
         */
        if (ops->encode(c->dst, buf, len, off, &chunk) == -1)
            return -1;
        if (!ordered)
            pthread_mutex_lock(&c->lock);
        r = ops->write_encoded(c->dst, chunk);    /* consumes CHUNK */
        if (!ordered)
            pthread_mutex_unlock(&c->lock);
        return r;
    }
    return ops->pwrite(c->dst, buf, len, off);
}

/* The pieces of an item that hold data, as [start, end) pairs in BUF. */
struct copy_piece {
    uint64_t start;
    uint64_t end;
};

/* A worker's memory, on the heap (COPY_MAX_PIECES of each would make a
 * 384 KiB stack frame): the request buffer, the pieces of the current
 * item and their encoded chunks.
 */
struct copy_scratch {
    uint8_t *buf;
    struct copy_piece *pieces;
    void **chunks;
};

static size_t
copy_split(struct copy *c, const uint8_t *buf, uint64_t len,
           struct copy_piece *pieces, size_t max)
{
    uint64_t pos = 0;
    size_t n = 0;

    if (!c->zero_detect) {
        pieces[0].start = 0;
        pieces[0].end = len;
        return 1;
    }
    while (pos < len) {
        uint64_t unit = c->zero_unit < len - pos ? c->zero_unit : len - pos;

        if (!vmc_is_zero(buf + pos, unit)) {
            if (n > 0 && pieces[n - 1].end == pos)
                pieces[n - 1].end = pos + unit;
            else {
                /* Cannot overflow: request / zero_unit <= max. */
                pieces[n].start = pos;
                pieces[n].end = pos + unit;
                n++;
            }
        }
        pos += unit;
    }
    return n;
}

/* Ordered allocation: reserve ITEM's pieces in its turn, then pass the
 * turn on at once (the writes that follow run in parallel).
 */
static int
copy_reserve(struct copy *c, const struct copy_item *item,
             const uint8_t *buf, const struct copy_piece *pieces, size_t n)
{
    size_t i;
    int r = 0;

    if (copy_wait_turn(c, item) == -1)
        return -1;
    for (i = 0; i < n && r == 0; i++)
        r = c->dst->ops->reserve(c->dst, buf + pieces[i].start,
                                 pieces[i].end - pieces[i].start,
                                 item->offset + pieces[i].start);
    pthread_mutex_lock(&c->lock);
    if (r == -1)
        c->failed = true;
    c->next_write++;            /* copy_finish_item sees it is not ours */
    pthread_cond_broadcast(&c->turn);
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Free N encoded chunks that will never be stored. */
static void
copy_free_chunks(const struct copy *c, void **chunks, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (chunks[i] && c->dst->ops->free_encoded)
            c->dst->ops->free_encoded(chunks[i]);
}

/* Store the N CHUNKS of one item; write_encoded consumes each chunk
 * passed to it, the rest are freed on error.
 */
static int
copy_store_chunks(struct copy *c, void **chunks, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (c->dst->ops->write_encoded(c->dst, chunks[i]) == -1) {
            copy_free_chunks(c, chunks + i + 1, n - i - 1);
            return -1;
        }
    return 0;
}

/* The caller holds the turn: store its item (LENGTH bytes, WRITTEN of
 * them in the N CHUNKS), then every parked item whose turn follows, and
 * pass the turn on after each, so workers waiting for room in the
 * reorder buffer can park meanwhile.  Accounts the items stored.
 * Returns 0, or -1 having set c->failed.
 */
static int
copy_store_in_turn(struct copy *c, uint64_t length, uint64_t written,
                   void **chunks, size_t n)
{
    struct copy_pending *p = NULL;

    for (;;) {
        uint64_t done, skipped;
        int r = copy_store_chunks(c, chunks, n);

        free(p);                /* its chunks are consumed */
        p = NULL;
        pthread_mutex_lock(&c->lock);
        if (r == -1)
            c->failed = true;
        else {
            c->done += length;
            c->skipped += length - written;
            c->next_write++;
            if (!c->failed && c->pending &&
                c->pending->ticket == c->next_write) {
                p = c->pending;
                c->pending = p->next;
                c->npending--;
            }
        }
        done = c->done;
        skipped = c->skipped;
        pthread_cond_broadcast(&c->turn);
        pthread_mutex_unlock(&c->lock);
        if (r == -1)
            return -1;
        vmc_progress_skipped(c->h, done, c->size, skipped);
        if (p == NULL)
            return 0;
        length = p->length;
        written = p->written;
        chunks = p->chunks;
        n = p->n;
    }
}

/* Ordered targets with encode: encode every piece in parallel, then
 * store them in turn, or park them in the reorder buffer if their turn
 * has not come and the buffer has room (see the top comment).  Returns
 * 1 when ITEM was stored or parked and accounted for (the caller must
 * not finish it), -1 on error.
 */
static int
copy_item_ordered_encoded(struct copy *c, const struct copy_item *item,
                          const uint8_t *buf, const struct copy_piece *pieces,
                          size_t n, void **chunks, uint64_t written)
{
    const struct vmc_format_ops *ops = c->dst->ops;
    struct copy_pending *p;
    size_t i;

    for (i = 0; i < n; i++) {
        chunks[i] = NULL;
        if (ops->encode(c->dst, buf + pieces[i].start,
                        pieces[i].end - pieces[i].start,
                        item->offset + pieces[i].start, &chunks[i]) == -1) {
            copy_free_chunks(c, chunks, i + 1);
            return -1;
        }
    }
    /* Set up the entry outside the lock.  Without one (no memory) the
     * worker only loses the buffer: it waits for its turn as before.
     */
    p = malloc(offsetof(struct copy_pending, chunks) + n * sizeof *chunks);
    if (p) {
        p->next = NULL;
        p->ticket = item->ticket;
        p->length = item->length;
        p->written = written;
        p->n = n;
        if (n)
            memcpy(p->chunks, chunks, n * sizeof *chunks);
    }
    pthread_mutex_lock(&c->lock);
    for (;;) {
        if (c->failed) {
            pthread_mutex_unlock(&c->lock);
            free(p);
            copy_free_chunks(c, chunks, n);
            return -1;
        }
        if (c->next_write == item->ticket)
            break;
        if (p && item->ticket - c->next_write <= c->window) {
            struct copy_pending **pp = &c->pending;

            /* Whoever moves the turn to this ticket does it under the
             * lock and then looks here, so the item cannot be missed.
             */
            while (*pp && (*pp)->ticket < p->ticket)
                pp = &(*pp)->next;
            p->next = *pp;
            *pp = p;
            c->npending++;
            if (c->npending > c->max_pending)
                c->max_pending = c->npending;
            c->parked++;
            pthread_mutex_unlock(&c->lock);
            return 1;
        }
        pthread_cond_wait(&c->turn, &c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    free(p);
    return copy_store_in_turn(c, item->length, written, chunks, n) == -1
           ? -1 : 1;
}

/* After the workers: free what is left in the reorder buffer (only
 * after a failure or cancel).  Returns -1 if anything was left by a
 * copy that did not fail, which would be a bug losing data.
 */
static int
copy_pending_free(struct copy *c)
{
    bool left = c->pending != NULL;

    while (c->pending) {
        struct copy_pending *p = c->pending;

        c->pending = p->next;
        copy_free_chunks(c, p->chunks, p->n);
        free(p);
    }
    c->npending = 0;
    if (left && !c->failed) {
        vmc_error_kind(c->h, VMC_ERR_INTERNAL, "copy: encoded items left "
                       "unstored at the end of the copy");
        return -1;
    }
    return 0;
}

/* Copy ITEM; sets *WRITTEN to the bytes of it written (not skipped as
 * zeros).  Returns 0, -1 on error, or 1 when the item was already
 * accounted for (ordered encoded targets).
 */
static int
copy_item_run(struct copy *c, const struct copy_item *item,
              struct copy_scratch *s, uint64_t *written)
{
    const struct vmc_format_ops *ops = c->dst->ops;
    struct copy_piece *pieces = s->pieces;
    uint8_t *buf = s->buf;
    size_t n, i;

    if (vmc_image_pread(c->src, buf, item->length, item->offset) == -1)
        return -1;
    n = copy_split(c, buf, item->length, pieces, COPY_MAX_PIECES);
    *written = 0;
    for (i = 0; i < n; i++)
        *written += pieces[i].end - pieces[i].start;
    if (c->ordered) {
        if (ops->encode && ops->write_encoded)
            return copy_item_ordered_encoded(c, item, buf, pieces, n,
                                             s->chunks, *written);
        if (copy_wait_turn(c, item) == -1)
            return -1;
    } else if (c->ordered_alloc &&
               copy_reserve(c, item, buf, pieces, n) == -1) {
        return -1;
    }
    for (i = 0; i < n; i++)
        if (copy_write(c, buf + pieces[i].start,
                       pieces[i].end - pieces[i].start,
                       item->offset + pieces[i].start,
                       c->ordered) == -1)
            return -1;
    return 0;
}

static void
copy_scratch_free(struct copy_scratch *s)
{
    free(s->buf);
    free(s->pieces);
    free(s->chunks);
}

static void *
copy_worker(void *arg)
{
    struct copy *c = arg;
    struct vmc_job *prev = vmc_job_enter(c->job);
    struct copy_scratch s = { 0 };
    struct copy_item item;
    int r;

    s.buf = vmc_aligned_alloc(c->h, 4096, c->request);
    if (s.buf)
        s.pieces = vmc_calloc(c->h, "copy", COPY_MAX_PIECES,
                              sizeof *s.pieces, "copy pieces");
    if (s.pieces)
        s.chunks = vmc_calloc(c->h, "copy", COPY_MAX_PIECES,
                              sizeof *s.chunks, "copy chunks");
    if (s.chunks == NULL) {
        pthread_mutex_lock(&c->lock);
        c->failed = true;
        pthread_cond_broadcast(&c->turn);
        pthread_mutex_unlock(&c->lock);
        goto out;
    }
    while ((r = copy_next(c, &item)) == 1) {
        uint64_t written = 0;
        int ir = copy_item_run(c, &item, &s, &written);

        if (ir == 1)
            continue;
        copy_finish_item(c, &item, ir == 0, written);
        if (ir == -1)
            break;
    }
    if (r == -1) {
        pthread_mutex_lock(&c->lock);
        pthread_cond_broadcast(&c->turn);
        pthread_mutex_unlock(&c->lock);
    }
out:
    copy_scratch_free(&s);
    vmc_job_leave(prev);
    return NULL;
}

/* The alignment unit of work items: the target's write-once unit,
 * bounded by the request size, at least 512.
 */
static uint64_t
copy_alignment(const struct vmc_image *dst, uint64_t request)
{
    uint64_t a = dst->cluster_size ? dst->cluster_size : 65536;

    if (a < 512)
        a = 512;
    if (a > request)
        a = request;
    return a;
}

/* The size of the first struct vmc_copy_options. */
#define COPY_OPTIONS_V1_SIZE \
    (offsetof(struct vmc_copy_options, no_zero_detect) + sizeof (bool))

/* Copy the caller's options into *O, reading only the fields within
 * its _struct_size (0: version 1).  Returns 0 or -1.
 */
static int
copy_read_options(struct vmc_handle *h, const struct vmc_copy_options *opts,
                  struct vmc_copy_options *o)
{
    size_t size;

    memset(o, 0, sizeof *o);
    o->_struct_size = sizeof *o;
    if (opts == NULL)
        return 0;
    size = opts->_struct_size ? opts->_struct_size : COPY_OPTIONS_V1_SIZE;
    if (size < COPY_OPTIONS_V1_SIZE) {
        vmc_error_kind(h, VMC_ERR_USAGE, "copy: struct vmc_copy_options of "
                       "%zu bytes is smaller than its first version (%zu "
                       "bytes)", size, (size_t) COPY_OPTIONS_V1_SIZE);
        return -1;
    }
    memcpy(o, opts, size < sizeof *o ? size : sizeof *o);
    o->_struct_size = sizeof *o;
    return 0;
}

/* Set up C from OPTS: request size, alignment, zero detection.
 * Returns 0 or -1.
 */
static int
copy_setup(struct copy *c, const struct vmc_copy_options *opts)
{
    struct vmc_handle *h = c->h;
    struct vmc_image *dst = c->dst;

    c->request = opts->request_size ? opts->request_size
                                    : COPY_DEFAULT_REQUEST;
    if (!vmc_is_pow2(c->request) || c->request < 65536 ||
        c->request > COPY_MAX_REQUEST) {
        vmc_error_kind(h, VMC_ERR_USAGE, "copy: request size %zu is not a "
                       "power of two between 64 KiB and 64 MiB",
                       opts->request_size);
        return -1;
    }
    /* A target that takes only whole clusters gets requests of at
     * least a cluster (qcow2 clusters and VMDK grains are at most 2 MiB).
     */
    if (dst->cluster_size > c->request &&
        !dst->ops->partial_cluster_writes) {
        if (!vmc_is_pow2(dst->cluster_size) ||
            dst->cluster_size > COPY_MAX_REQUEST) {
            vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: cluster size %"
                           PRIu32 " is not supported by the copy engine",
                           dst->path, dst->cluster_size);
            return -1;
        }
        c->request = dst->cluster_size;
    }
    c->align = copy_alignment(dst, c->request);
    /* Zero detection works in whole alignment units (so the target
     * only ever sees whole clusters) and in at most COPY_MAX_PIECES
     * pieces per request.
     */
    c->zero_unit = c->align;
    while (c->request / c->zero_unit > COPY_MAX_PIECES)
        c->zero_unit *= 2;
    c->zero_detect = !opts->no_zero_detect;
    c->ordered = dst->ops->ordered_writes || dst->ordered_writes;
    c->ordered_alloc = !c->ordered && dst->ordered_alloc &&
                       dst->ops->reserve;
    return 0;
}

static unsigned
copy_threads(const struct vmc_image *dst, unsigned threads)
{
    /* Uncompressed copies wait on I/O more than on the CPU: use more
     * threads than cores (as qemu-img -m 8 does with coroutines).
     */
    if (threads == 0) {
        threads = vmc_ncpus();
        if (!dst->ops->encode && threads < 4)
            threads = 4;
    }
    return threads > COPY_MAX_THREADS ? COPY_MAX_THREADS : threads;
}

/* Start the workers and wait for them. */
static void
copy_run_workers(struct copy *c, unsigned nthreads)
{
    pthread_t tids[COPY_MAX_THREADS];
    unsigned i, started = 0;

    for (i = 0; i < nthreads; i++) {
        int e = pthread_create(&tids[i], NULL, copy_worker, c);

        if (e != 0) {
            errno = e;
            vmc_error_kind(c->h, VMC_ERR_INTERNAL,
                           "copy: starting a worker thread: %m");
            pthread_mutex_lock(&c->lock);
            c->failed = true;
            pthread_cond_broadcast(&c->turn);
            pthread_mutex_unlock(&c->lock);
            break;
        }
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}

int
vmc_copy_counted(struct vmc_image *src, struct vmc_image *dst,
                 const struct vmc_copy_options *user_opts,
                 uint64_t *skipped)
{
    struct vmc_handle *h = src->h;
    struct vmc_copy_options opts;
    struct vmc_job own, *job, *prev = NULL;
    unsigned nthreads;
    struct copy c;
    int r = -1;

    /* Outside a job the copy is its own. */
    job = vmc_job_current(h);
    if (job == NULL) {
        vmc_job_init(&own, h, -1);
        own.phase = "copy";
        prev = vmc_job_enter(&own);
        job = &own;
    }
    if (copy_read_options(h, user_opts, &opts) == -1)
        goto out;
    if (!dst->writable) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: the copy target is open "
                       "read-only", dst->path);
        goto out;
    }
    if (dst->size < src->size) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: target is smaller (%" PRIu64
                       " bytes) than the source %s (%" PRIu64 " bytes)",
                       dst->path, dst->size, src->path, src->size);
        goto out;
    }

    memset(&c, 0, sizeof c);
    c.job = job;
    c.h = h;
    c.src = src;
    c.dst = dst;
    c.size = src->size;
    if (copy_setup(&c, &opts) == -1)
        goto out;
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.turn, NULL);
    nthreads = copy_threads(dst, opts.threads);
    c.window = (uint64_t) COPY_WINDOW_FACTOR * nthreads;
    vmc_debug(h, "copy %s (%s) -> %s (%s): %u threads, %" PRIu64
              "-byte requests aligned to %" PRIu64, src->path,
              src->ops->name, dst->path, dst->ops->name, nthreads,
              c.request, c.align);

    vmc_progress_skipped(h, 0, c.size, 0);
    copy_run_workers(&c, nthreads);
    if (copy_pending_free(&c) == -1)
        c.failed = true;
    if (c.parked)
        vmc_debug(h, "copy: %" PRIu64 " items stored out of the reorder "
                  "buffer, at most %zu waiting at once", c.parked,
                  c.max_pending);
    pthread_mutex_destroy(&c.lock);
    pthread_cond_destroy(&c.turn);
    if (!c.failed) {
        vmc_progress_skipped(h, c.size, c.size, c.skipped);
        if (skipped)
            *skipped = c.skipped;
        r = 0;
    }
out:
    if (job == &own) {
        vmc_job_leave(prev);
        vmc_job_finish(&own);
    }
    return r;
}

int
vmc_image_copy(struct vmc_image *src, struct vmc_image *dst,
               const struct vmc_copy_options *opts)
{
    return vmc_copy_counted(src, dst, opts, NULL);
}

/* ---- Compare ------------------------------------------------------ */

#define COMPARE_CHUNK (2u * 1024 * 1024)

/* Is the range [OFF, OFF+LEN) of IMG known to read as zeros?  Sets
 * *RUN to how far that answer holds.
 */
static int
compare_status(struct vmc_image *img, uint64_t off, uint64_t len,
               bool *zero, uint64_t *run)
{
    enum vmc_extent_type t;

    if (off >= img->size) {
        *zero = true;
        *run = len;
        return 0;
    }
    if (len > img->size - off)
        len = img->size - off;
    if (vmc_image_block_status(img, off, len, &t, run) == -1)
        return -1;
    *zero = t != VMC_EXTENT_DATA;
    return 0;
}

static int
compare_read(struct vmc_image *img, uint8_t *buf, uint64_t len, uint64_t off)
{
    uint64_t avail;

    if (off >= img->size) {
        memset(buf, 0, len);
        return 0;
    }
    avail = img->size - off;
    if (len > avail) {
        memset(buf + avail, 0, len - avail);
        len = avail;
    }
    return vmc_image_pread(img, buf, len, off);
}

static int
compare_run(struct vmc_image *a, struct vmc_image *b, uint64_t *first_diff)
{
    struct vmc_handle *h = a->h;
    uint64_t size = a->size > b->size ? a->size : b->size, off = 0;
    CLEANUP_FREE uint8_t *ba = vmc_aligned_alloc(h, 4096, COMPARE_CHUNK);
    CLEANUP_FREE uint8_t *bb = vmc_aligned_alloc(h, 4096, COMPARE_CHUNK);

    if (ba == NULL || bb == NULL)
        return -1;
    while (off < size) {
        uint64_t len = size - off, ra, rb, i;
        bool za, zb;

        if (vmc_cancelled(h)) {
            vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
            return -1;
        }
        if (len > COMPARE_CHUNK)
            len = COMPARE_CHUNK;
        if (compare_status(a, off, len, &za, &ra) == -1 ||
            compare_status(b, off, len, &zb, &rb) == -1)
            return -1;
        if (za && zb) {
            off += ra < rb ? ra : rb;
            vmc_progress(h, off, size);
            continue;
        }
        if (compare_read(a, ba, len, off) == -1 ||
            compare_read(b, bb, len, off) == -1)
            return -1;
        if (memcmp(ba, bb, len) != 0) {
            for (i = 0; i < len && ba[i] == bb[i]; i++)
                ;
            *first_diff = off + i;
            return 1;
        }
        off += len;
        vmc_progress(h, off, size);
    }
    return 0;
}

int
vmc_image_compare(struct vmc_image *a, struct vmc_image *b,
                  uint64_t *first_diff)
{
    struct vmc_handle *h = a->h;
    struct vmc_job own, *prev;
    int r;

    if (vmc_job_current(h))
        return compare_run(a, b, first_diff);
    /* Outside a job the compare is its own (progress rate, errors). */
    vmc_job_init(&own, h, -1);
    own.phase = "compare";
    prev = vmc_job_enter(&own);
    r = compare_run(a, b, first_diff);
    vmc_job_leave(prev);
    vmc_job_finish(&own);
    return r;
}
