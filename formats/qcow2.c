/* qcow2 driver: being written (this placeholder refuses every image). */
#include <config.h>

#include "internal.h"

static int
qcow2_open(struct vmc_image *img)
{
    vmc_error(img->h, "%s: the qcow2 driver is not implemented yet", img->path);
    return -1;
}

const struct vmc_format_ops vmc_format_qcow2 = {
    .name = "qcow2",
    .description = "qcow2 (not implemented yet)",
    .open = qcow2_open,
};
