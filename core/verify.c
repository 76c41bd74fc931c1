/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pipeline's verify stage: a target disk read back through its
 * format's reader and compared with its source, guest-visible bytes
 * only.  Several workers take large slices of the disk in turn; each
 * asks both sides for block status first, so runs that read as zeros
 * on both sides are not read at all.
 */
#include <config.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/image.h>

#include "internal.h"
#include "pipeline-internal.h"

#define VERIFY_CHUNK (8u * 1024 * 1024)
#define VERIFY_MAX_THREADS 16

struct verify {
    struct vmc_image *a, *b;
    uint64_t size;
    struct vmc_job *job;         /* the caller's, entered by workers */
    atomic_uint_fast64_t next;   /* next slice to take */
    atomic_uint_fast64_t done;
    atomic_uint_fast64_t bytes;  /* read from both sides */
    atomic_bool stop;
    pthread_mutex_t lock;
    int result;                  /* 0, 1 (differs) or -1 */
    uint64_t first_diff;
};

/* Does [OFF, OFF+LEN) of IMG read as zeros?  *RUN: how far. */
static int
verify_status(struct vmc_image *img, uint64_t off, uint64_t len, bool *zero,
              uint64_t *run)
{
    enum vmc_extent_type t;
    uint64_t size = vmc_image_size(img);

    if (off >= size) {
        *zero = true;
        *run = len;
        return 0;
    }
    if (len > size - off)
        len = size - off;
    if (vmc_image_block_status(img, off, len, &t, run) == -1)
        return -1;
    *zero = t != VMC_EXTENT_DATA;
    return 0;
}

static int
verify_read(struct vmc_image *img, uint8_t *buf, uint64_t len, uint64_t off)
{
    uint64_t size = vmc_image_size(img);

    if (off >= size) {
        memset(buf, 0, len);
        return 0;
    }
    if (len > size - off) {
        memset(buf + (size - off), 0, len - (size - off));
        len = size - off;
    }
    return vmc_image_pread(img, buf, len, off);
}

static void
verify_set(struct verify *v, int r, uint64_t diff)
{
    pthread_mutex_lock(&v->lock);
    if (r == -1 && v->result != -1)
        v->result = -1;
    else if (r == 1 && v->result != -1 &&
             (v->result == 0 || diff < v->first_diff)) {
        v->result = 1;
        v->first_diff = diff;
    }
    pthread_mutex_unlock(&v->lock);
    atomic_store(&v->stop, true);
}

/* Compare the slice [OFF, OFF+LEN): 0, 1 (sets *DIFF) or -1. */
static int
verify_slice(struct verify *v, uint8_t *ba, uint8_t *bb, uint64_t off,
             uint64_t len, uint64_t *diff)
{
    uint64_t end = off + len;

    while (off < end) {
        uint64_t n = end - off, ra, rb, i;
        bool za, zb;

        if (verify_status(v->a, off, n, &za, &ra) == -1 ||
            verify_status(v->b, off, n, &zb, &rb) == -1)
            return -1;
        if (za && zb) {
            off += ra < rb ? ra : rb;
            continue;
        }
        /* Both answers hold that far: read no more. */
        if (ra < n)
            n = ra;
        if (rb < n)
            n = rb;
        if (verify_read(v->a, ba, n, off) == -1 ||
            verify_read(v->b, bb, n, off) == -1)
            return -1;
        atomic_fetch_add(&v->bytes, 2 * n);
        if (memcmp(ba, bb, n) != 0) {
            for (i = 0; ba[i] == bb[i]; i++)
                ;
            *diff = off + i;
            return 1;
        }
        off += n;
    }
    return 0;
}

static void *
verify_worker(void *arg)
{
    struct verify *v = arg;
    struct vmc_handle *h = v->job->h;
    struct vmc_job *prev = vmc_job_enter(v->job);
    uint8_t *ba = vmc_aligned_alloc(h, 4096, VERIFY_CHUNK);
    uint8_t *bb = vmc_aligned_alloc(h, 4096, VERIFY_CHUNK);

    if (ba == NULL || bb == NULL)
        verify_set(v, -1, 0);
    while (!atomic_load(&v->stop)) {
        uint64_t off = atomic_fetch_add(&v->next, VERIFY_CHUNK), len, diff = 0;
        int r;

        if (off >= v->size)
            break;
        if (vmc_cancelled(h)) {
            vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
            verify_set(v, -1, 0);
            break;
        }
        len = v->size - off < VERIFY_CHUNK ? v->size - off : VERIFY_CHUNK;
        r = verify_slice(v, ba, bb, off, len, &diff);
        if (r != 0) {
            verify_set(v, r, diff);
            break;
        }
        vmc_progress(h, atomic_fetch_add(&v->done, len) + len, v->size);
    }
    free(ba);
    free(bb);
    vmc_job_leave(prev);
    return NULL;
}

int
vmc_pl_compare(struct vmc_image *src, struct vmc_image *dst,
               unsigned threads, uint64_t *first_diff, uint64_t *bytes)
{
    struct verify v = { .a = src, .b = dst, .result = 0 };
    pthread_t tids[VERIFY_MAX_THREADS];
    unsigned i, n = 0;

    v.size = vmc_image_size(src) > vmc_image_size(dst)
        ? vmc_image_size(src) : vmc_image_size(dst);
    v.job = vmc_job_current(src->h);
    pthread_mutex_init(&v.lock, NULL);
    if (threads == 0)
        threads = vmc_ncpus() < 4 ? 4 : vmc_ncpus();
    if (threads > VERIFY_MAX_THREADS)
        threads = VERIFY_MAX_THREADS;
    if (v.job == NULL) {
        vmc_error_kind(src->h, VMC_ERR_INTERNAL, "verify outside a job");
        return -1;
    }
    vmc_progress(src->h, 0, v.size);
    for (i = 0; i < threads; i++) {
        if (pthread_create(&tids[n], NULL, verify_worker, &v) != 0)
            break;
        n++;
    }
    if (n == 0)
        verify_worker(&v);
    for (i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&v.lock);
    *bytes += atomic_load(&v.bytes);
    if (v.result == 1)
        *first_diff = v.first_diff;
    else if (v.result == 0)
        vmc_progress(src->h, v.size, v.size);
    return v.result;
}
