/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* raw: the disk's bytes as they are.  Sparse-aware: the file's holes
 * (SEEK_DATA/SEEK_HOLE, or NBD block status) are reported as
 * unallocated, and a new raw image is a sparse file, so the copy
 * engine's skipped zeros cost nothing.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"

static int
raw_probe(const struct vmc_probe *p)
{
    return 1;
}

static int
raw_open(struct vmc_image *img)
{
    img->size = img->file_size;
    return 0;
}

/* Holes of the file (SEEK_DATA on a local file, block status over NBD)
 * are not in this layer: they read as zeros.
 */
static int
raw_block_status(struct vmc_image *img, uint64_t offset, uint64_t length,
                 enum vmc_bs *type, uint64_t *run)
{
    enum vmc_file_extent t;

    if (vmc_file_extents(img->file, offset, length, &t, run) == -1)
        return -1;
    *type = t == VMC_FILE_HOLE ? VMC_BS_BACKING : VMC_BS_DATA;
    return 0;
}

static int
raw_pread(struct vmc_image *img, void *buf, size_t count, uint64_t offset)
{
    return vmc_file_pread_full(img->file, buf, count, offset);
}

static int
raw_create(struct vmc_image *img, const struct vmc_opts *opts)
{
    return vmc_file_truncate(img->file, img->size);
}

static int
raw_pwrite(struct vmc_image *img, const void *buf, size_t count,
           uint64_t offset)
{
    return vmc_file_pwrite_full(img->file, buf, count, offset);
}

static int
raw_info(struct vmc_image *img, struct json_object *o)
{
    json_object_object_add(o, "subformat", json_object_new_string("raw"));
    return 0;
}

const struct vmc_format_ops vmc_format_raw = {
    .name = "raw",
    .description = "raw disk image (sparse-aware)",
    .probe = raw_probe,
    .open = raw_open,
    .block_status = raw_block_status,
    .pread = raw_pread,
    .create = raw_create,
    .pwrite = raw_pwrite,
    .info = raw_info,
};
