/* vmconv: the library handle, errors, logging and progress.
 *
 * Every libvmconv call takes a struct vmc_handle.  A failing call sets
 * one error message on the handle (read it with vmc_get_error) and
 * returns -1 or NULL.  libvmconv never prints: warnings, information
 * and debug messages go to the log handler the caller installs.
 *
 * A handle may be used from several threads at once (the copy engine
 * does); the error slot and the log handler are protected by a lock.
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
 * that does the work, at most a few times a second.
 */
typedef void (*vmc_progress_fn)(void *opaque, uint64_t done, uint64_t total);

/* Returns a new handle, or NULL (errno set) when out of memory. */
struct vmc_handle *vmc_new(void);
void vmc_free(struct vmc_handle *h);

/* The version of the library, "MAJOR.MINOR.PATCH". */
const char *vmc_version(void);

void vmc_set_log_handler(struct vmc_handle *h, vmc_log_fn fn, void *opaque);
void vmc_set_progress_handler(struct vmc_handle *h, vmc_progress_fn fn,
                              void *opaque);
void vmc_set_verbose(struct vmc_handle *h, int verbose);
int vmc_get_verbose(const struct vmc_handle *h);

/* The message of the last error on H, or NULL if none.  The string
 * belongs to the handle and stays valid until the next error.
 */
const char *vmc_get_error(struct vmc_handle *h);
/* The errno saved with the last error, or 0. */
int vmc_get_errno(struct vmc_handle *h);
void vmc_clear_error(struct vmc_handle *h);

/* Report an error, a warning, information or a debug message.  %m
 * expands errno as in glibc.  vmc_debug writes only in verbose mode.
 */
void vmc_error(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vmc_warning(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vmc_info(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vmc_debug(struct vmc_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Ask long-running work on H to stop at its next check.  Safe to call
 * from a signal handler.  Work that stops this way fails with the
 * error "cancelled".
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
