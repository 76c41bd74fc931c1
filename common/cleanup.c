/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv common/: the functions behind cleanup.h's attributes. */
#ifdef HAVE_CONFIG_H             /* not when built out of tree */
#include <config.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <vmconv/image.h>
#include <vmconv/vm.h>

#include "cleanup.h"

void
common_cleanup_free(void *ptr)
{
    free(*(void **) ptr);
}

void
common_cleanup_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

void
common_cleanup_fclose(FILE **fp)
{
    if (*fp)
        fclose(*fp);
}

void
common_cleanup_vm_free(struct vmc_vm **vm)
{
    vmc_vm_free(*vm);
}

void
common_cleanup_image_close(struct vmc_image **img)
{
    vmc_image_close(*img);
}
