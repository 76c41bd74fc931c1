/* raw: the disk's bytes as they are.  Sparse-aware: holes found with
 * SEEK_DATA/SEEK_HOLE are reported as unallocated, and a new raw image
 * is a sparse file, so the copy engine's skipped zeros cost nothing.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "internal.h"

struct raw {
    atomic_bool no_seek_data;   /* the file system can't say: all data */
};

static int
raw_probe(const struct vmc_probe *p)
{
    return 1;
}

static int
raw_alloc(struct vmc_image *img)
{
    img->priv = calloc(1, sizeof(struct raw));
    if (img->priv == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    return 0;
}

static int
raw_open(struct vmc_image *img)
{
    img->size = img->file_size;
    return raw_alloc(img);
}

static void
raw_close(struct vmc_image *img)
{
    free(img->priv);
}

static int
raw_block_status(struct vmc_image *img, uint64_t offset, uint64_t length,
                 enum vmc_bs *type, uint64_t *run)
{
    struct raw *r = img->priv;
    off_t data, hole;

    if (atomic_load(&r->no_seek_data))
        goto all_data;
    data = lseek(img->fd, (off_t) offset, SEEK_DATA);
    if (data == -1) {
        if (errno == ENXIO) {           /* a hole up to the end */
            *type = VMC_BS_BACKING;
            *run = length;
            return 0;
        }
        if (errno == EINVAL || errno == EOPNOTSUPP) {
            atomic_store(&r->no_seek_data, true);
            goto all_data;
        }
        vmc_error(img->h, "%s: lseek SEEK_DATA at %" PRIu64 ": %m",
                  img->path, offset);
        return -1;
    }
    if ((uint64_t) data > offset) {
        *type = VMC_BS_BACKING;
        *run = (uint64_t) data - offset;
        if (*run > length)
            *run = length;
        return 0;
    }
    hole = lseek(img->fd, (off_t) offset, SEEK_HOLE);
    if (hole == -1) {
        vmc_error(img->h, "%s: lseek SEEK_HOLE at %" PRIu64 ": %m",
                  img->path, offset);
        return -1;
    }
    *type = VMC_BS_DATA;
    *run = (uint64_t) hole - offset;
    if (*run > length || *run == 0)
        *run = length;
    return 0;

all_data:
    *type = VMC_BS_DATA;
    *run = length;
    return 0;
}

static int
raw_pread(struct vmc_image *img, void *buf, size_t count, uint64_t offset)
{
    return vmc_pread_full(img->h, img->path, img->fd, buf, count, offset);
}

static int
raw_create(struct vmc_image *img, const struct vmc_opts *opts)
{
    if (ftruncate(img->fd, (off_t) img->size) == -1) {
        vmc_error(img->h, "%s: setting the size to %" PRIu64 ": %m",
                  img->path, img->size);
        return -1;
    }
    return raw_alloc(img);
}

static int
raw_pwrite(struct vmc_image *img, const void *buf, size_t count,
           uint64_t offset)
{
    return vmc_pwrite_full(img->h, img->path, img->fd, buf, count, offset);
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
    .close = raw_close,
    .block_status = raw_block_status,
    .pread = raw_pread,
    .create = raw_create,
    .pwrite = raw_pwrite,
    .info = raw_info,
};
