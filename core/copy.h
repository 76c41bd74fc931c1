/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv internals: the copy engine's entry for jobs that want its
 * counts.  Not installed.
 */
#ifndef VMCONV_COPY_H
#define VMCONV_COPY_H

#include <stdint.h>

#include <vmconv/image.h>

/* vmc_image_copy, and on success *SKIPPED (if not NULL) receives the
 * bytes not written because they were holes or zeros.
 */
int vmc_copy_counted(struct vmc_image *src, struct vmc_image *dst,
                     const struct vmc_copy_options *opts,
                     uint64_t *skipped);

#endif /* VMCONV_COPY_H */
