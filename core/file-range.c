/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte-source back-end for a window [offset, offset + length) of
 * another file: a disk image stored inside a container (a VMDK member
 * of an uncompressed OVA tar).  Read-only.  Every request is checked
 * against the window before it reaches the file below, so no byte
 * outside the window is ever read.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "handle.h"
#include "util.h"

struct range_file {
    struct vmc_file f;
    struct vmc_file *under;
    uint64_t offset;
    uint64_t length;
    bool own;
};

static inline struct range_file *
range_of(struct vmc_file *f)
{
    return (struct range_file *) f;
}

static int
range_pread(struct vmc_file *f, void *buf, size_t count, uint64_t offset)
{
    struct range_file *r = range_of(f);

    /* The same words as a read past the end of a file. */
    if (offset > r->length || count > r->length - offset) {
        vmc_error_kind(f->h, VMC_ERR_BAD_INPUT, "%s: unexpected end of "
                       "file reading %zu bytes at offset %" PRIu64, f->name,
                       count, offset);
        return -1;
    }
    return vmc_file_pread_full(r->under, buf, count, r->offset + offset);
}

static int
range_get_size(struct vmc_file *f, uint64_t *size)
{
    *size = range_of(f)->length;
    return 0;
}

static int
range_extents(struct vmc_file *f, uint64_t offset, uint64_t length,
              enum vmc_file_extent *type, uint64_t *run)
{
    struct range_file *r = range_of(f);

    if (offset >= r->length) {
        *type = VMC_FILE_HOLE;
        *run = length;
        return 0;
    }
    if (length > r->length - offset)
        length = r->length - offset;
    return vmc_file_extents(r->under, r->offset + offset, length, type, run);
}

static int
range_close(struct vmc_file *f)
{
    struct range_file *r = range_of(f);
    int ret = 0;

    if (r->own)
        ret = vmc_file_close(r->under);
    free(f->name);
    free(r);
    return ret;
}

static const struct vmc_file_ops range_ops = {
    .name = "range",
    .pread = range_pread,
    .get_size = range_get_size,
    .extents = range_extents,
    .close = range_close,
};

struct vmc_file *
vmc_file_range_open(struct vmc_handle *h, const char *name,
                    struct vmc_file *under, uint64_t offset, uint64_t length,
                    bool own)
{
    struct range_file *r;
    uint64_t size;

    if (vmc_file_get_size(under, &size) == -1 ||
        vmc_check_range(h, under->name, size, offset, length,
                        "byte range") == -1)
        goto fail;
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        vmc_error(h, "%s: %m", name);
        goto fail;
    }
    if (vmc_file_init(&r->f, &range_ops, h, name, false) == -1) {
        free(r);
        goto fail;
    }
    r->under = under;
    r->offset = offset;
    r->length = length;
    r->own = own;
    r->f.dev = under->dev;
    r->f.ino = under->ino;
    return &r->f;

fail:
    if (own)
        vmc_file_close(under);
    return NULL;
}
