/* The library handle: errors, logging, progress, cancellation. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

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
vmc_set_verbose(struct vmc_handle *h, int verbose)
{
    h->verbose = verbose;
}

int
vmc_get_verbose(const struct vmc_handle *h)
{
    return h->verbose;
}

const char *
vmc_get_error(struct vmc_handle *h)
{
    return h->error;
}

int
vmc_get_errno(struct vmc_handle *h)
{
    return h->error_errno;
}

void
vmc_clear_error(struct vmc_handle *h)
{
    pthread_mutex_lock(&h->lock);
    free(h->error);
    h->error = NULL;
    h->error_errno = 0;
    pthread_mutex_unlock(&h->lock);
}

void
vmc_error(struct vmc_handle *h, const char *fmt, ...)
{
    int saved = errno;
    char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    errno = saved;              /* for %m */
    if (vasprintf(&msg, fmt, ap) == -1)
        msg = NULL;
    va_end(ap);

    pthread_mutex_lock(&h->lock);
    free(h->error);
    h->error = msg;
    h->error_errno = saved;
    pthread_mutex_unlock(&h->lock);
    if (h->verbose)
        vmc_debug(h, "error: %s", msg ? msg : "(out of memory)");
    errno = saved;
}

static void
vmc_log(struct vmc_handle *h, enum vmc_log_level level, const char *fmt,
        va_list ap)
{
    int saved = errno;
    char *msg = NULL;

    errno = saved;
    if (vasprintf(&msg, fmt, ap) == -1)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->log_fn)
        h->log_fn(h->log_opaque, level, msg);
    pthread_mutex_unlock(&h->lock);
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

/* Rate-limited to about 10 calls a second, plus the final one. */
void
vmc_progress(struct vmc_handle *h, uint64_t done, uint64_t total)
{
    static _Thread_local uint64_t last_ns;
    struct timespec ts;
    uint64_t now;

    if (h->progress_fn == NULL)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
    if (done != total && done != 0 && now - last_ns < 100000000u)
        return;
    last_ns = now;
    pthread_mutex_lock(&h->lock);
    if (h->progress_fn)
        h->progress_fn(h->progress_opaque, done, total);
    pthread_mutex_unlock(&h->lock);
}
