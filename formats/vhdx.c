/* vhdx driver: being written (this placeholder refuses every image). */
#include <config.h>

#include "internal.h"

static int
vhdx_open(struct vmc_image *img)
{
    vmc_error(img->h, "%s: the vhdx driver is not implemented yet", img->path);
    return -1;
}

const struct vmc_format_ops vmc_format_vhdx = {
    .name = "vhdx",
    .description = "vhdx (not implemented yet)",
    .open = vhdx_open,
};
