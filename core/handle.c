/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library handle: errors, logging, events, progress, cancellation,
 * and jobs (first error wins, progress rate per job).
 *
 * Locking: h->lock protects the error slot, the handlers and the job
 * fields marked so in handle.h.  No handler is ever called with it
 * held: the function pointer and its opaque are copied under the lock
 * and called after unlocking, so a handler may call back into H.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmconv/util.h>

#include "internal.h"

/* Progress events: at most one per this many ns per job. */
#define PROGRESS_INTERVAL_NS 100000000u

static _Thread_local struct vmc_job *current_job;

/* Whether this thread's last error became the handle's error (a job
 * keeps its first one): vmc_set_error_hint applies only then.
 */
static _Thread_local bool error_kept;

struct vmc_handle *
vmc_new(void)
{
    struct vmc_handle *h = calloc(1, sizeof *h);

    if (h == NULL)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

void
vmc_free(struct vmc_handle *h)
{
    if (h == NULL)
        return;
    if (h->plugins_free)
        h->plugins_free(h);
    pthread_mutex_destroy(&h->lock);
    free(h->error);
    free(h);
}

const char *
vmc_version(void)
{
    return PACKAGE_VERSION;
}

void
vmc_set_log_handler(struct vmc_handle *h, vmc_log_fn fn, void *opaque)
{
    pthread_mutex_lock(&h->lock);
    h->log_fn = fn;
    h->log_opaque = opaque;
    pthread_mutex_unlock(&h->lock);
}

void
vmc_set_progress_handler(struct vmc_handle *h, vmc_progress_fn fn,
                         void *opaque)
{
    pthread_mutex_lock(&h->lock);
    h->progress_fn = fn;
    h->progress_opaque = opaque;
    pthread_mutex_unlock(&h->lock);
}

void
vmc_set_event_handler(struct vmc_handle *h, vmc_event_fn fn, void *opaque)
{
    pthread_mutex_lock(&h->lock);
    h->event_fn = fn;
    h->event_opaque = opaque;
    pthread_mutex_unlock(&h->lock);
}

void
vmc_set_verbose(struct vmc_handle *h, int verbose)
{
    h->verbose = verbose;
}

int
vmc_get_verbose(const struct vmc_handle *h)
{
    return h->verbose;
}

/* ---- Jobs --------------------------------------------------------- */

void
vmc_job_init(struct vmc_job *j, struct vmc_handle *h, int disk)
{
    memset(j, 0, sizeof *j);
    j->h = h;
    j->disk = disk;
}

struct vmc_job *
vmc_job_enter(struct vmc_job *j)
{
    struct vmc_job *prev = current_job;

    current_job = j;
    return prev;
}

void
vmc_job_leave(struct vmc_job *prev)
{
    current_job = prev;
}

struct vmc_job *
vmc_job_current(struct vmc_handle *h)
{
    struct vmc_job *j = current_job;

    return j && j->h == h ? j : NULL;
}

void
vmc_job_finish(struct vmc_job *j)
{
    struct vmc_handle *h = j->h;

    pthread_mutex_lock(&h->lock);
    if (j->failed && j->error) {
        free(h->error);
        h->error = vmc_steal_pointer(&j->error);
        h->error_errno = j->error_errno;
        h->error_kind = j->error_kind;
    }
    pthread_mutex_unlock(&h->lock);
    free(j->error);
    j->error = NULL;
}

/* ---- Events ------------------------------------------------------- */

/* Fill in the job's phase and disk, then call the handlers outside the
 * lock.
 */
static void
handle_emit(struct vmc_handle *h, struct vmc_event *ev)
{
    struct vmc_job *j = vmc_job_current(h);
    vmc_event_fn fn;
    void *opaque;
    vmc_progress_fn pfn;
    void *popaque;

    ev->_struct_size = sizeof *ev;
    ev->phase = j ? j->phase : NULL;
    ev->disk = j ? j->disk : -1;
    pthread_mutex_lock(&h->lock);
    fn = h->event_fn;
    opaque = h->event_opaque;
    pfn = h->progress_fn;
    popaque = h->progress_opaque;
    pthread_mutex_unlock(&h->lock);
    if (fn)
        fn(opaque, ev);
    if (pfn && ev->kind == VMC_EVENT_PROGRESS)
        pfn(popaque, ev->done, ev->total);
}

static void
job_phase_event(struct vmc_handle *h, enum vmc_event_kind kind)
{
    struct vmc_event ev = { .kind = kind };

    handle_emit(h, &ev);
}

void
vmc_job_phase_start(struct vmc_handle *h, const char *phase)
{
    struct vmc_job *j = vmc_job_current(h);

    if (j) {
        pthread_mutex_lock(&h->lock);
        j->phase = phase;
        j->progress_final_sent = false;
        j->progress_last_ns = 0;
        pthread_mutex_unlock(&h->lock);
    }
    vmc_debug(h, "phase %s", phase);
    job_phase_event(h, VMC_EVENT_PHASE_START);
}

void
vmc_job_phase_end(struct vmc_handle *h)
{
    job_phase_event(h, VMC_EVENT_PHASE_END);
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

void
vmc_progress_skipped(struct vmc_handle *h, uint64_t done, uint64_t total,
                     uint64_t skipped)
{
    struct vmc_job *j = vmc_job_current(h);
    struct vmc_event ev = { .kind = VMC_EVENT_PROGRESS, .done = done,
                            .total = total, .skipped = skipped };
    uint64_t now = now_ns(), *last;
    bool *final_sent, send = false;

    pthread_mutex_lock(&h->lock);
    if (h->event_fn == NULL && h->progress_fn == NULL) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    last = j ? &j->progress_last_ns : &h->progress_last_ns;
    final_sent = j ? &j->progress_final_sent : &h->progress_final_sent;
    if (done >= total) {
        send = !*final_sent;
        *final_sent = true;
    } else if (done == 0) {
        send = true;
        *final_sent = false;
    } else if (now - *last >= PROGRESS_INTERVAL_NS)
        send = true;
    if (send)
        *last = now;
    pthread_mutex_unlock(&h->lock);
    if (send)
        handle_emit(h, &ev);
}

void
vmc_progress(struct vmc_handle *h, uint64_t done, uint64_t total)
{
    vmc_progress_skipped(h, done, total, 0);
}

/* ---- Errors ------------------------------------------------------- */

/* The calling thread's copy of an error message (vmc_get_error).  The
 * pointer is kept in a thread-local variable (so leak checkers see it
 * reachable) and in a key whose destructor frees it at thread exit.
 */
static _Thread_local char *error_copy;
static _Thread_local size_t error_copy_len;
static pthread_key_t error_copy_key;
static pthread_once_t error_copy_once = PTHREAD_ONCE_INIT;

static void
error_copy_init(void)
{
    pthread_key_create(&error_copy_key, free);
}

const char *
vmc_get_error(struct vmc_handle *h)
{
    const char *r = NULL;
    size_t len;

    pthread_once(&error_copy_once, error_copy_init);
    pthread_mutex_lock(&h->lock);
    if (h->error) {
        len = strlen(h->error) + 1;
        if (len > error_copy_len) {
            char *p = realloc(error_copy, len);

            if (p) {
                error_copy = p;
                error_copy_len = len;
                pthread_setspecific(error_copy_key, p);
            }
        }
        if (len <= error_copy_len) {
            memcpy(error_copy, h->error, len);
            r = error_copy;
        } else
            r = "out of memory copying the error message";
    }
    pthread_mutex_unlock(&h->lock);
    return r;
}

int
vmc_get_errno(struct vmc_handle *h)
{
    int e;

    pthread_mutex_lock(&h->lock);
    e = h->error_errno;
    pthread_mutex_unlock(&h->lock);
    return e;
}

enum vmc_error_kind
vmc_get_error_kind(struct vmc_handle *h)
{
    enum vmc_error_kind k;

    pthread_mutex_lock(&h->lock);
    k = h->error ? h->error_kind : VMC_ERR_NONE;
    pthread_mutex_unlock(&h->lock);
    return k;
}

const char *
vmc_error_kind_name(enum vmc_error_kind kind)
{
    static const char *const names[VMC_ERR_LAST] = {
        [VMC_ERR_NONE] = "none",
        [VMC_ERR_OTHER] = "other",
        [VMC_ERR_BAD_INPUT] = "bad-input",
        [VMC_ERR_UNSUPPORTED] = "unsupported",
        [VMC_ERR_IO] = "io",
        [VMC_ERR_NO_SPACE] = "no-space",
        [VMC_ERR_INTERRUPTED] = "interrupted",
        [VMC_ERR_VERIFY] = "verify",
        [VMC_ERR_USAGE] = "usage",
        [VMC_ERR_INTERNAL] = "internal",
    };

    if ((unsigned) kind >= VMC_ERR_LAST)
        return "unknown";
    return names[kind];
}

enum vmc_error_hint
vmc_get_error_hint(struct vmc_handle *h)
{
    enum vmc_error_hint hint;

    pthread_mutex_lock(&h->lock);
    hint = h->error ? (enum vmc_error_hint) h->error_hint : VMC_HINT_NONE;
    pthread_mutex_unlock(&h->lock);
    return hint;
}

void
vmc_set_error_hint(struct vmc_handle *h, enum vmc_error_hint hint)
{
    pthread_mutex_lock(&h->lock);
    if (error_kept && h->error)
        h->error_hint = (int) hint;
    pthread_mutex_unlock(&h->lock);
}

void
vmc_clear_error(struct vmc_handle *h)
{
    struct vmc_job *j = vmc_job_current(h);

    pthread_mutex_lock(&h->lock);
    free(h->error);
    h->error = NULL;
    h->error_errno = 0;
    h->error_kind = VMC_ERR_NONE;
    h->error_hint = 0;
    /* A thread of a job that clears the error has recovered from it. */
    if (j) {
        free(j->error);
        j->error = NULL;
        j->failed = false;
        j->error_kind = VMC_ERR_NONE;
    }
    pthread_mutex_unlock(&h->lock);
}

enum vmc_error_kind
vmc_errno_kind(int e)
{
    switch (e) {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return VMC_ERR_NO_SPACE;
    default:
        return VMC_ERR_IO;
    }
}

void
vmc_set_error_kind(struct vmc_handle *h, enum vmc_error_kind kind)
{
    struct vmc_job *j = vmc_job_current(h);

    pthread_mutex_lock(&h->lock);
    if (h->error && h->error_kind == VMC_ERR_OTHER)
        h->error_kind = kind;
    if (j && j->failed && j->error_kind == VMC_ERR_OTHER)
        j->error_kind = kind;
    pthread_mutex_unlock(&h->lock);
}

static void
handle_error(struct vmc_handle *h, enum vmc_error_kind kind, int saved,
             const char *fmt, va_list ap)
{
    struct vmc_job *j = vmc_job_current(h);
    char *msg = NULL;
    bool dropped = false;

    errno = saved;              /* for %m */
    if (vasprintf(&msg, fmt, ap) == -1)
        msg = NULL;

    pthread_mutex_lock(&h->lock);
    if (j && j->failed)
        dropped = true;         /* the job keeps its first error */
    else {
        if (j) {
            j->failed = true;
            j->error = msg ? strdup(msg) : NULL;
            j->error_errno = saved;
            j->error_kind = kind;
        }
        free(h->error);
        h->error = msg;
        h->error_errno = saved;
        h->error_kind = kind;
        h->error_hint = 0;
    }
    error_kept = !dropped;
    pthread_mutex_unlock(&h->lock);
    if (h->verbose)
        vmc_debug(h, "error%s: %s",
                  dropped ? " (after the job's first one, not kept)" : "",
                  msg ? msg : "(out of memory)");
    if (dropped)
        free(msg);
    errno = saved;
}

void
vmc_error(struct vmc_handle *h, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    handle_error(h, VMC_ERR_OTHER, saved, fmt, ap);
    va_end(ap);
}

void
vmc_error_kind(struct vmc_handle *h, enum vmc_error_kind kind,
               const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    if ((unsigned) kind >= VMC_ERR_LAST || kind == VMC_ERR_NONE)
        kind = VMC_ERR_OTHER;
    va_start(ap, fmt);
    handle_error(h, kind, saved, fmt, ap);
    va_end(ap);
}

/* ---- Logging ------------------------------------------------------ */

static void
vmc_log(struct vmc_handle *h, enum vmc_log_level level, const char *fmt,
        va_list ap)
{
    int saved = errno;
    char *msg = NULL;
    vmc_log_fn fn;
    void *opaque;

    errno = saved;
    if (vasprintf(&msg, fmt, ap) == -1)
        return;
    pthread_mutex_lock(&h->lock);
    fn = h->log_fn;
    opaque = h->log_opaque;
    pthread_mutex_unlock(&h->lock);
    if (fn)
        fn(opaque, level, msg);
    if (level == VMC_LOG_WARNING || level == VMC_LOG_INFO) {
        struct vmc_event ev = {
            .kind = level == VMC_LOG_WARNING ? VMC_EVENT_WARNING
                                             : VMC_EVENT_INFO,
            .message = msg,
        };

        handle_emit(h, &ev);
    }
    free(msg);
    errno = saved;
}

void
vmc_warning(struct vmc_handle *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmc_log(h, VMC_LOG_WARNING, fmt, ap);
    va_end(ap);
}

void
vmc_info(struct vmc_handle *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmc_log(h, VMC_LOG_INFO, fmt, ap);
    va_end(ap);
}

void
vmc_debug(struct vmc_handle *h, const char *fmt, ...)
{
    va_list ap;

    if (!h->verbose)
        return;
    va_start(ap, fmt);
    vmc_log(h, VMC_LOG_DEBUG, fmt, ap);
    va_end(ap);
}

void
vmc_cancel(struct vmc_handle *h)
{
    atomic_store(&h->cancelled, 1);
}

int
vmc_cancelled(const struct vmc_handle *h)
{
    return atomic_load(&((struct vmc_handle *) h)->cancelled);
}
