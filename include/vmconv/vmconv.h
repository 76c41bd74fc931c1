/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv: the library handle, errors, logging and progress.
 *
 * Every libvmconv call takes a struct vmc_handle.  A failing call sets
 * one error message on the handle (read it with vmc_get_error) and
 * returns -1 or NULL.  libvmconv never prints: warnings, information
 * and debug messages go to the log handler the caller installs.
 *
 * A handle may be used from several threads at once (the copy engine
 * does); the error slot and the handlers are protected by a lock, and
 * the handlers are called with no lock held, so a handler may call
 * back into the handle (vmc_clear_error, vmc_set_event_handler, ...).
 */
#ifndef VMCONV_VMCONV_H
#define VMCONV_VMCONV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmc_handle;

enum vmc_log_level {
    VMC_LOG_WARNING,
    VMC_LOG_INFO,
    VMC_LOG_DEBUG,
    VMC_LOG_LAST
};

typedef void (*vmc_log_fn)(void *opaque, enum vmc_log_level level,
                           const char *msg);

/* Progress: DONE of TOTAL bytes processed.  Called from the thread
 * that does the work, at most about ten times a second per job, and
 * once with DONE == TOTAL at the end.  The older, narrower form of
 * the progress events below; both may be installed.
 */
typedef void (*vmc_progress_fn)(void *opaque, uint64_t done, uint64_t total);

/* ---- Events ------------------------------------------------------- */

enum vmc_event_kind {
    VMC_EVENT_PROGRESS,          /* DONE of TOTAL bytes, SKIPPED of them
                                    not written (holes, zeros) */
    VMC_EVENT_PHASE_START,       /* PHASE begins */
    VMC_EVENT_PHASE_END,         /* PHASE ended (successfully or not) */
    VMC_EVENT_WARNING,           /* MESSAGE, as also sent to the log */
    VMC_EVENT_INFO,              /* MESSAGE, as also sent to the log */
    VMC_EVENT_LAST
};

/* One event of a job.  Valid only during the handler's call: copy
 * what you keep.  Fields added later go at the end; _STRUCT_SIZE is
 * the size of the struct the library filled, so test
 * VMC_EVENT_HAS(ev, field) before reading a field newer than yours.
 */
struct vmc_event {
    uint32_t _struct_size;
    enum vmc_event_kind kind;
    const char *phase;           /* vmc_disk_convert: "open", "create",
                                    "copy", "commit", "verify";
                                    vmc_image_copy and vmc_image_compare
                                    on their own: "copy", "compare";
                                    NULL outside a job */
    int disk;                    /* the job's disk index, -1 if none */
    uint64_t done;               /* PROGRESS: bytes done */
    uint64_t total;              /* PROGRESS: bytes in all */
    uint64_t skipped;            /* PROGRESS: of DONE, bytes skipped
                                    (holes, zero runs: not written) */
    const char *message;         /* WARNING, INFO; else NULL */
};

#define VMC_EVENT_HAS(ev, field)                                        \
    ((ev)->_struct_size >= offsetof(struct vmc_event, field) +          \
     sizeof (ev)->field)

/* Called from the thread that does the work (several threads of one
 * job may call it at once), with no lock held.  Progress events are
 * rate-limited to about ten a second per job; the last one of a phase
 * (DONE == TOTAL) is always delivered, once.
 */
typedef void (*vmc_event_fn)(void *opaque, const struct vmc_event *ev);

/* ---- Errors ------------------------------------------------------- */

/* What kind of failure an error is: exit codes and retry policies
 * follow it (vmconv(1) maps each to an exit status).
 */
enum vmc_error_kind {
    VMC_ERR_NONE = 0,            /* no error */
    VMC_ERR_OTHER,               /* reported without a kind */
    VMC_ERR_BAD_INPUT,           /* the input is damaged, missing or not
                                    what it claims */
    VMC_ERR_UNSUPPORTED,         /* valid, but uses a feature vmconv
                                    does not handle */
    VMC_ERR_IO,                  /* reading or writing failed */
    VMC_ERR_NO_SPACE,            /* the target is full (ENOSPC, EDQUOT) */
    VMC_ERR_INTERRUPTED,         /* cancelled (vmc_cancel, a signal) */
    VMC_ERR_VERIFY,              /* the output read back differs */
    VMC_ERR_USAGE,               /* the caller asked for something
                                    impossible (bad arguments) */
    VMC_ERR_INTERNAL,            /* a bug in vmconv */
    VMC_ERR_LAST
};

/* Returns a new handle, or NULL (errno set) when out of memory. */
struct vmc_handle *vmc_new(void);
void vmc_free(struct vmc_handle *h);

/* The version of the library, "MAJOR.MINOR.PATCH". */
const char *vmc_version(void);

void vmc_set_log_handler(struct vmc_handle *h, vmc_log_fn fn, void *opaque);
void vmc_set_progress_handler(struct vmc_handle *h, vmc_progress_fn fn,
                              void *opaque);
/* Install FN to receive every event (NULL removes it).  A call of the
 * previous handler already under way in another thread may still
 * finish after this returns.
 */
void vmc_set_event_handler(struct vmc_handle *h, vmc_event_fn fn,
                           void *opaque);
void vmc_set_verbose(struct vmc_handle *h, int verbose);
int vmc_get_verbose(const struct vmc_handle *h);

/* The message of the last error on H, or NULL if none.  The string
 * is a copy private to the calling thread, made under the handle's
 * lock: another thread setting an error cannot free it.  It stays
 * valid until this thread calls vmc_get_error again (on any handle)
 * or exits; do not free it.
 *
 * Jobs (vmc_disk_convert, vmc_image_copy, vmc_image_compare) keep
 * their first error: once a job has failed, later errors of its other
 * workers (or of its cleanup) do not replace it, and when the job
 * returns its first error is the handle's last error, even if other
 * jobs on the handle failed meanwhile.
 */
const char *vmc_get_error(struct vmc_handle *h);
/* The errno saved with the last error, or 0. */
int vmc_get_errno(struct vmc_handle *h);
/* The kind of the last error, VMC_ERR_NONE if there is none. */
enum vmc_error_kind vmc_get_error_kind(struct vmc_handle *h);
/* A short name for KIND: "bad-input", "io", ... (static; "unknown"
 * for values out of range).
 */
const char *vmc_error_kind_name(enum vmc_error_kind kind);
void vmc_clear_error(struct vmc_handle *h);

/* Report an error, a warning, information or a debug message.  %m
 * expands errno as in glibc.  vmc_debug writes only in verbose mode.
 */
void vmc_error(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* vmc_error with the kind of the failure (vmc_error sets
 * VMC_ERR_OTHER).
 */
void vmc_error_kind(struct vmc_handle *h, enum vmc_error_kind kind,
                    const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vmc_warning(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vmc_info(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vmc_debug(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Ask long-running work on H to stop at its next check.  Safe to call
 * from a signal handler.  Work that stops this way fails with the
 * error "cancelled" of kind VMC_ERR_INTERRUPTED.
 */
void vmc_cancel(struct vmc_handle *h);
int vmc_cancelled(const struct vmc_handle *h);

/* Parse a size such as "65536", "64K", "2M", "1GiB", "4T" into *VAL.
 * Returns 0, or -1 if S is not a size.
 */
int vmc_parse_size(const char *s, uint64_t *val);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_VMCONV_H */
