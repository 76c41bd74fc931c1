/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The digests a source plugin left to the pipeline (vmc_vm_add_digest,
 * asked for with VMC_READ_DEFER_DIGESTS): the disks an OVA manifest
 * lists.  Reading a disk whole to hash it before copying it costs a
 * second pass over it; instead one thread reads each such file (its raw
 * bytes, through the byte-source layer: a file, a range of the OVA, a
 * concatenation of chunks) and hashes it while the disks are copied.
 * The copies read the same bytes at about the same time, so the second
 * read mostly comes from the page cache.  The promise is unchanged for
 * the user: nothing appears in OUTDIR unless every digest matched, as
 * the disks stage, which runs before the commit, fails otherwise.
 *
 * One thread for all the files, one after another, in the order the
 * plugin listed them: the reads stay sequential on the package.
 *
 * Failures: a file that differs or cannot be read fails the
 * conversion (VMC_ERR_BAD_INPUT, naming the package, the member and
 * both digests) and stops the copies.  A copy that fails stops the
 * hashing (the handle is cancelled); unless it failed on the target's
 * side (I/O, no space), the hashing is then finished, because a
 * damaged member explains bad data better than the format driver can.
 * Ctrl-C stops both.
 */
#include <config.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pipeline-internal.h"
#include "vm-internal.h"

/* Bytes per read: large enough to keep the disk streaming. */
#define DIGEST_IO (4u * 1024 * 1024)

enum digest_state {
    DIGEST_PENDING,
    DIGEST_MATCHED,
    DIGEST_DIFFERS,
    DIGEST_FAILED,               /* could not be read */
};

struct pl_digest {
    const struct vmc_vm_digest *d;   /* in p->vm */
    enum digest_state state;
    struct vmc_digest_ctx *ctx;      /* while PENDING, once started */
    uint64_t done;                   /* bytes hashed */
    char hex[VMC_DIGEST_HEX_MAX];    /* what the data has */
    char *error;                     /* FAILED: why */
    enum vmc_error_kind error_kind;
};

struct pl_digests {
    struct pipeline *p;
    size_t n;
    struct pl_digest *v;
    char *buf;
    pthread_t tid;
    bool running;                    /* TID to join */
    void (*failed)(void *opaque);    /* stops the copies */
    void *opaque;
};

/* Hash the rest of digest G (from G->done).  Returns 0 when it is
 * finished (matched or not), -1 when it could not be read (G->error
 * set), 1 when it stopped because the handle was cancelled.  Errors go
 * to the calling thread's job, so that they do not become the
 * conversion's error behind the copies' back.
 */
static int
digest_run_one(struct pl_digests *dg, struct pl_digest *g)
{
    struct vmc_handle *h = dg->p->h;
    struct vmc_image *img;
    uint64_t size;

    img = vmc_image_open_name(h, g->d->path, "raw", 0);
    if (img == NULL)
        goto failed;
    size = vmc_image_size(img);
    if (g->ctx == NULL && (g->ctx = vmc_digest_new(h, g->d->kind)) == NULL)
        goto failed;
    while (g->done < size) {
        size_t len = size - g->done < DIGEST_IO ? (size_t) (size - g->done)
                                                : DIGEST_IO;

        if (vmc_cancelled(h)) {
            vmc_image_close(img);
            return 1;
        }
        if (vmc_image_pread(img, dg->buf, len, g->done) == -1)
            goto failed;
        vmc_digest_update(g->ctx, dg->buf, len);
        g->done += len;
    }
    vmc_image_close(img);
    vmc_digest_final(g->ctx, g->hex);
    g->ctx = NULL;
    g->state = strcmp(g->hex, g->d->hex) == 0 ? DIGEST_MATCHED
                                               : DIGEST_DIFFERS;
    return 0;

failed:
    vmc_image_close(img);
    {
        struct vmc_job *j = vmc_job_current(h);
        const char *msg = j && j->error ? j->error : vmc_get_error(h);

        g->error = strdup(msg ? msg : "cannot be read");
        g->error_kind = j && j->failed ? j->error_kind : VMC_ERR_IO;
    }
    g->state = DIGEST_FAILED;
    return -1;
}

/* Hash every pending digest, in order, until one fails or differs
 * (then call DG->failed) or the handle is cancelled.
 */
static void
digests_run(struct pl_digests *dg)
{
    struct vmc_job job, *prev;
    double t0 = vmc_pl_now();
    uint64_t bytes = 0;
    size_t i;

    vmc_job_init(&job, dg->p->h, -1);
    prev = vmc_job_enter(&job);
    for (i = 0; i < dg->n; i++)
        bytes -= dg->v[i].done;
    for (i = 0; i < dg->n; i++) {
        struct pl_digest *g = &dg->v[i];
        int r;

        if (g->state != DIGEST_PENDING)
            continue;
        r = digest_run_one(dg, g);
        if (r == 1)
            break;
        if (r == -1 || g->state == DIGEST_DIFFERS) {
            if (dg->failed)
                dg->failed(dg->opaque);
            break;
        }
    }
    for (i = 0; i < dg->n; i++)
        bytes += dg->v[i].done;
    if (bytes > 0)
        vmc_debug(dg->p->h, "digests: %" PRIu64 " bytes hashed in %.2f s",
                  bytes, vmc_pl_now() - t0);
    vmc_job_leave(prev);
    /* Not vmc_job_finish: our error must not replace the handle's
     * (a copy's) here; the disks stage reports it.
     */
    free(job.error);
}

static void *
digests_thread(void *arg)
{
    digests_run(arg);
    return NULL;
}

int
vmc_pl_digests_plan(struct pipeline *p)
{
    const struct vmc_vm_digest *d;
    struct json_object *o, *files;
    size_t n, i;

    d = vmc_vm_digests(p->vm, &n);
    if (n == 0)
        return 0;
    p->digests = calloc(1, sizeof *p->digests);
    if (p->digests == NULL ||
        (p->digests->v = calloc(n, sizeof *p->digests->v)) == NULL) {
        vmc_error(p->h, "%m");
        return -1;
    }
    p->digests->p = p;
    p->digests->n = n;
    o = json_object_new_object();
    files = json_object_new_array();
    vmc_pl_json_str(o, "checked", "while the disks are copied, before "
                    "anything is kept");
    for (i = 0; i < n; i++) {
        struct json_object *f = json_object_new_object();

        p->digests->v[i].d = &d[i];
        vmc_pl_json_str(f, "file", d[i].what);
        vmc_pl_json_str(f, "path", d[i].path);
        vmc_pl_json_str(f, "algorithm", vmc_digest_name(d[i].kind));
        vmc_pl_json_str(f, "expected", d[i].hex);
        json_object_object_add(f, "actual", NULL);
        json_object_object_add(f, "matched", NULL);
        json_object_array_add(files, f);
    }
    json_object_object_add(o, "files", files);
    json_object_object_add(p->doc, "digests", o);
    return 0;
}

int
vmc_pl_digests_start(struct pipeline *p, void (*failed)(void *opaque),
                     void *opaque)
{
    struct pl_digests *dg = p->digests;

    if (dg == NULL)
        return 0;
    dg->failed = failed;
    dg->opaque = opaque;
    dg->buf = malloc(DIGEST_IO);
    if (dg->buf == NULL) {
        vmc_error(p->h, "%m");
        return -1;
    }
    if (pthread_create(&dg->tid, NULL, digests_thread, dg) != 0) {
        /* Without a thread, the disks stage hashes after the copies. */
        vmc_debug(p->h, "digests: no thread, hashed after the copies");
        return 0;
    }
    dg->running = true;
    return 0;
}

void
vmc_pl_digests_join(struct pipeline *p)
{
    struct pl_digests *dg = p->digests;

    if (dg && dg->running) {
        pthread_join(dg->tid, NULL);
        dg->running = false;
    }
}

/* The error of digest G as the conversion's. */
static int
digest_error(struct pl_digests *dg, struct pl_digest *g)
{
    if (g->state == DIGEST_FAILED)
        vmc_error_kind(dg->p->h, g->error_kind, "%s: reading it to check "
                       "its %s digest: %s", g->d->what,
                       vmc_digest_name(g->d->kind), g->error);
    else
        vmc_error_kind(dg->p->h, VMC_ERR_BAD_INPUT, "%s: %s digest does not "
                       "match: expected %s, the data has %s (the file is "
                       "corrupt or was changed)", g->d->what,
                       vmc_digest_name(g->d->kind), g->d->hex, g->hex);
    return -1;
}

/* Record the outcome of digest I in the document. */
static void
digest_record(struct pl_digests *dg, size_t i)
{
    struct json_object *o = json_object_object_get(dg->p->doc, "digests");
    struct json_object *f =
        json_object_array_get_idx(json_object_object_get(o, "files"), i);
    const struct pl_digest *g = &dg->v[i];

    if (f == NULL || g->state == DIGEST_PENDING || g->state == DIGEST_FAILED)
        return;
    vmc_pl_json_str(f, "actual", g->hex);
    json_object_object_add(f, "matched", json_object_new_boolean(
                           g->state == DIGEST_MATCHED));
}

int
vmc_pl_digests_finish(struct pipeline *p, bool finish)
{
    struct pl_digests *dg = p->digests;
    size_t i;

    if (dg == NULL)
        return 0;
    vmc_pl_digests_join(p);
    if (finish && dg->buf) {
        /* What the thread did not get to (no thread, or stopped). */
        digests_run(dg);
    }
    for (i = 0; i < dg->n; i++)
        digest_record(dg, i);
    for (i = 0; i < dg->n; i++)
        if (dg->v[i].state == DIGEST_DIFFERS ||
            dg->v[i].state == DIGEST_FAILED)
            return digest_error(dg, &dg->v[i]);
    for (i = 0; i < dg->n; i++)
        if (dg->v[i].state == DIGEST_PENDING)
            return 1;
    return 0;
}

void
vmc_pl_digests_free(struct pl_digests *dg)
{
    size_t i;

    if (dg == NULL)
        return;
    for (i = 0; i < dg->n; i++) {
        vmc_digest_free(dg->v[i].ctx);
        free(dg->v[i].error);
    }
    free(dg->v);
    free(dg->buf);
    free(dg);
}
