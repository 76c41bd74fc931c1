/* vmdk driver: being written (this placeholder refuses every image). */
#include <config.h>

#include "internal.h"

static int
vmdk_open(struct vmc_image *img)
{
    vmc_error(img->h, "%s: the vmdk driver is not implemented yet", img->path);
    return -1;
}

const struct vmc_format_ops vmc_format_vmdk = {
    .name = "vmdk",
    .description = "vmdk (not implemented yet)",
    .open = vmdk_open,
};
