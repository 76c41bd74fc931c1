/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv internals: the handle (errors, logging, events, progress,
 * cancellation) and jobs.  Not installed.
 */
#ifndef VMCONV_HANDLE_H
#define VMCONV_HANDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <vmconv/vmconv.h>

struct vmc_handle {
    pthread_mutex_t lock;        /* protects everything down to plugins */
    char *error;                 /* last error message, or NULL */
    int error_errno;
    enum vmc_error_kind error_kind;
    int error_hint;              /* enum vmc_error_hint of the last error */
    int verbose;
    atomic_int cancelled;
    vmc_log_fn log_fn;
    void *log_opaque;
    vmc_progress_fn progress_fn;
    void *progress_opaque;
    vmc_event_fn event_fn;
    void *event_opaque;
    uint64_t progress_last_ns;   /* rate limit outside any job */
    bool progress_final_sent;
    void *plugins;               /* loaded plugins (core/plugin.c) */
    void (*plugins_free)(struct vmc_handle *h);
};

/* A job: one unit of work on a handle (a disk conversion, a copy, a
 * compare), run by one thread and the workers it starts.  It keeps
 * its first error, its own progress rate limit, its phase and disk
 * index for events.  Every thread working for the job enters it
 * (vmc_job_enter); errors, warnings and progress reported on the
 * job's handle from that thread then belong to the job.
 */
struct vmc_job {
    struct vmc_handle *h;
    int disk;                    /* for events, -1 if none */
    const char *phase;           /* static string or NULL */
    /* Under h->lock: */
    bool failed;                 /* the first error is recorded */
    char *error;
    int error_errno;
    enum vmc_error_kind error_kind;
    uint64_t progress_last_ns;
    bool progress_final_sent;
};

void vmc_job_init(struct vmc_job *j, struct vmc_handle *h, int disk);
/* Make J the calling thread's job; returns the previous one, to be
 * given back to vmc_job_leave.
 */
struct vmc_job *vmc_job_enter(struct vmc_job *j);
void vmc_job_leave(struct vmc_job *prev);
/* The calling thread's job if it works on H, else NULL. */
struct vmc_job *vmc_job_current(struct vmc_handle *h);
/* End J: if it failed, its first error becomes the handle's last
 * error again.  Frees what J holds (not J).
 */
void vmc_job_finish(struct vmc_job *j);
/* Set the phase of the calling thread's job and send PHASE_START, or
 * send PHASE_END of the current phase.
 */
void vmc_job_phase_start(struct vmc_handle *h, const char *phase);
void vmc_job_phase_end(struct vmc_handle *h);

/* The progress reporter for long loops: rate-limited per job, the
 * final DONE == TOTAL of a phase always sent once.
 */
void vmc_progress(struct vmc_handle *h, uint64_t done, uint64_t total);
void vmc_progress_skipped(struct vmc_handle *h, uint64_t done,
                          uint64_t total, uint64_t skipped);

/* Give the last error KIND if it was reported without one. */
void vmc_set_error_kind(struct vmc_handle *h, enum vmc_error_kind kind);
/* The kind of a failed system call's errno: VMC_ERR_NO_SPACE for
 * ENOSPC and EDQUOT, else VMC_ERR_IO.
 */
enum vmc_error_kind vmc_errno_kind(int e);

/* Number of online CPUs (at least 1). */
unsigned vmc_ncpus(void);

#endif /* VMCONV_HANDLE_H */
