/* The copy engine (being written). */
#include <config.h>
#include "internal.h"
int
vmc_image_copy(struct vmc_image *src, struct vmc_image *dst,
               const struct vmc_copy_options *opts)
{
    vmc_error(src->h, "copy: not implemented yet");
    return -1;
}
int
vmc_image_compare(struct vmc_image *a, struct vmc_image *b, uint64_t *first)
{
    vmc_error(a->h, "compare: not implemented yet");
    return -1;
}
