/* libvmconv internals: the handle (errors, logging, progress,
 * cancellation).  Not installed.
 */
#ifndef VMCONV_HANDLE_H
#define VMCONV_HANDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <vmconv/vmconv.h>

#define VMC_ERROR_MAX 1024

struct vmc_handle {
    pthread_mutex_t lock;        /* protects error and the callbacks */
    char *error;                 /* last error message, or NULL */
    int error_errno;
    int verbose;
    atomic_int cancelled;
    vmc_log_fn log_fn;
    void *log_opaque;
    vmc_progress_fn progress_fn;
    void *progress_opaque;
    void *plugins;               /* loaded plugins (core/plugin.c) */
    void (*plugins_free)(struct vmc_handle *h);
};

/* The progress reporter for long loops (rate-limited). */
void vmc_progress(struct vmc_handle *h, uint64_t done, uint64_t total);

/* Number of online CPUs (at least 1). */
unsigned vmc_ncpus(void);

#endif /* VMCONV_HANDLE_H */
