/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cleanup attributes: a local marked with one of these is freed when it
 * goes out of scope, so every early return is safe.  Hand a value to
 * the caller with vmc_steal_pointer / vmc_steal_fd.
 */
#ifndef VMCONV_CLEANUP_H
#define VMCONV_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

void vmc_cleanup_free(void *ptr);
void vmc_cleanup_close(int *fd);
void vmc_cleanup_json_put(void *ptr);
void vmc_cleanup_image_close(void *ptr);

#define CLEANUP_FREE __attribute__((cleanup(vmc_cleanup_free)))
#define CLEANUP_CLOSE __attribute__((cleanup(vmc_cleanup_close)))
#define CLEANUP_JSON_PUT __attribute__((cleanup(vmc_cleanup_json_put)))
#define CLEANUP_IMAGE_CLOSE __attribute__((cleanup(vmc_cleanup_image_close)))

/* Return *PP and set it to NULL. */
#define vmc_steal_pointer(pp)                                           \
    ({ __typeof__(*(pp)) vmc_steal_tmp_ = *(pp); *(pp) = NULL; vmc_steal_tmp_; })

/* Return *FDP and set it to -1. */
#define vmc_steal_fd(fdp)                                               \
    ({ int vmc_steal_fd_ = *(fdp); *(fdp) = -1; vmc_steal_fd_; })

#endif /* VMCONV_CLEANUP_H */
