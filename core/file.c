/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte-source layer: what every back-end shares (see file.h). */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "handle.h"

int
vmc_file_init(struct vmc_file *f, const struct vmc_file_ops *ops,
              struct vmc_handle *h, const char *name, bool writable)
{
    f->ops = ops;
    f->h = h;
    f->writable = writable && ops->pwrite != NULL;
    f->name = strdup(name);
    if (f->name == NULL) {
        vmc_error(h, "%s: %m", name);
        return -1;
    }
    return 0;
}

int
vmc_file_read_only(struct vmc_file *f, const char *what)
{
    vmc_error_kind(f->h, VMC_ERR_USAGE, "%s: %s: the file is open "
                   "read-only", f->name, what);
    return -1;
}

int
vmc_file_get_size(struct vmc_file *f, uint64_t *size)
{
    return f->ops->get_size(f, size);
}

int
vmc_file_extents(struct vmc_file *f, uint64_t offset, uint64_t length,
                 enum vmc_file_extent *type, uint64_t *run)
{
    if (length == 0) {
        vmc_error(f->h, "%s: internal error: extents of an empty range at "
                  "offset %" PRIu64, f->name, offset);
        return -1;
    }
    if (f->ops->extents == NULL) {
        *type = VMC_FILE_DATA;
        *run = length;
        return 0;
    }
    if (f->ops->extents(f, offset, length, type, run) == -1)
        return -1;
    if (*run == 0 || *run > length) {
        vmc_error(f->h, "%s: internal error: the %s back-end returned an "
                  "extent of %" PRIu64 " bytes for a request of %" PRIu64,
                  f->name, f->ops->name, *run, length);
        return -1;
    }
    return 0;
}

int
vmc_file_flush(struct vmc_file *f)
{
    if (!f->writable || f->ops->flush == NULL)
        return 0;
    return f->ops->flush(f);
}

int
vmc_file_truncate(struct vmc_file *f, uint64_t size)
{
    if (!f->writable)
        return vmc_file_read_only(f, "setting the size");
    return f->ops->truncate(f, size);
}

uint64_t
vmc_file_allocated(struct vmc_file *f)
{
    uint64_t size, off, run, total = 0;
    enum vmc_file_extent type;

    if (f->ops->allocated)
        return f->ops->allocated(f, &total) == 0 ? total : 0;
    if (f->ops->get_size(f, &size) == -1)
        return 0;
    for (off = 0; off < size; off += run) {
        if (vmc_file_extents(f, off, size - off, &type, &run) == -1)
            return 0;
        if (type == VMC_FILE_DATA)
            total += run;
    }
    return total;
}

int
vmc_file_close(struct vmc_file *f)
{
    if (f == NULL)
        return 0;
    return f->ops->close(f);
}

bool
vmc_file_is_nbd_uri(const char *uri)
{
    static const char *const schemes[] = {
        "nbd://", "nbds://", "nbd+unix://", "nbds+unix://", NULL
    };
    size_t i;

    for (i = 0; schemes[i]; i++)
        if (strncmp(uri, schemes[i], strlen(schemes[i])) == 0)
            return true;
    return false;
}

#ifndef HAVE_LIBNBD
struct vmc_file *
vmc_file_nbd_open(struct vmc_handle *h, const char *uri)
{
    vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: cannot open an NBD export: "
                   "vmconv was built without libnbd", uri);
    return NULL;
}
#endif
