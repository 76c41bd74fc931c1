/* vpc driver: being written (this placeholder refuses every image). */
#include <config.h>

#include "internal.h"

static int
vpc_open(struct vmc_image *img)
{
    vmc_error(img->h, "%s: the vpc driver is not implemented yet", img->path);
    return -1;
}

const struct vmc_format_ops vmc_format_vpc = {
    .name = "vpc",
    .description = "vpc (not implemented yet)",
    .open = vpc_open,
};
