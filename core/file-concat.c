/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte-source back-end for the concatenation of byte ranges of
 * other files: a disk split into chunks (ovf:chunkSize), whose chunks
 * are members of one OVA or files beside an .ovf.  Read-only.  A read
 * is split at the part boundaries; block status is that of the part
 * below, cut at its boundary.  Nothing outside a part's window is ever
 * read.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "handle.h"
#include "util.h"

struct concat_file {
    struct vmc_file f;
    size_t n;
    struct vmc_file_part *parts;
    uint64_t *start;            /* start[i]: offset of part i; start[n]:
                                   the size */
    bool own;
};

static inline struct concat_file *
concat_of(struct vmc_file *f)
{
    return (struct concat_file *) f;
}

/* The part holding OFFSET (< the size). */
static size_t
concat_find(const struct concat_file *c, uint64_t offset)
{
    size_t lo = 0, hi = c->n;

    /* The last i with start[i] <= offset; empty parts are refused at
     * open, so it is unique.
     */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->start[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int
concat_pread(struct vmc_file *f, void *buf, size_t count, uint64_t offset)
{
    struct concat_file *c = concat_of(f);
    uint64_t size = c->start[c->n];
    char *b = buf;
    size_t i;

    if (offset > size || count > size - offset) {
        vmc_error_kind(f->h, VMC_ERR_BAD_INPUT, "%s: unexpected end of "
                       "file reading %zu bytes at offset %" PRIu64, f->name,
                       count, offset);
        return -1;
    }
    if (count == 0)
        return 0;
    for (i = concat_find(c, offset); count > 0; i++) {
        uint64_t in = offset - c->start[i];
        uint64_t left = c->parts[i].length - in;
        size_t n = count < left ? count : (size_t) left;

        if (vmc_file_pread_full(c->parts[i].file, b, n,
                                c->parts[i].offset + in) == -1)
            return -1;
        b += n;
        count -= n;
        offset += n;
    }
    return 0;
}

static int
concat_get_size(struct vmc_file *f, uint64_t *size)
{
    struct concat_file *c = concat_of(f);

    *size = c->start[c->n];
    return 0;
}

static int
concat_extents(struct vmc_file *f, uint64_t offset, uint64_t length,
               enum vmc_file_extent *type, uint64_t *run)
{
    struct concat_file *c = concat_of(f);
    uint64_t size = c->start[c->n], in, left;
    size_t i;

    if (offset >= size) {
        *type = VMC_FILE_HOLE;
        *run = length;
        return 0;
    }
    i = concat_find(c, offset);
    in = offset - c->start[i];
    left = c->parts[i].length - in;
    if (length > left)
        length = left;
    return vmc_file_extents(c->parts[i].file, c->parts[i].offset + in,
                            length, type, run);
}

/* Close each distinct file of PARTS once. */
static int
concat_close_parts(const struct vmc_file_part *parts, size_t n)
{
    size_t i, j;
    int ret = 0;

    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++)
            if (parts[j].file == parts[i].file)
                break;
        if (j == i && vmc_file_close(parts[i].file) == -1)
            ret = -1;
    }
    return ret;
}

static int
concat_close(struct vmc_file *f)
{
    struct concat_file *c = concat_of(f);
    int ret = 0;

    if (c->own)
        ret = concat_close_parts(c->parts, c->n);
    free(c->parts);
    free(c->start);
    free(f->name);
    free(c);
    return ret;
}

static const struct vmc_file_ops concat_ops = {
    .name = "concat",
    .pread = concat_pread,
    .get_size = concat_get_size,
    .extents = concat_extents,
    .close = concat_close,
};

struct vmc_file *
vmc_file_concat_open(struct vmc_handle *h, const char *name,
                     const struct vmc_file_part *parts, size_t n, bool own)
{
    struct concat_file *c = NULL;
    uint64_t total = 0;
    size_t i;

    if (n == 0 || n > VMC_FILE_CONCAT_MAX_PARTS) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: a concatenation has 1 to %u "
                       "parts, not %zu", name, VMC_FILE_CONCAT_MAX_PARTS, n);
        goto fail;
    }
    for (i = 0; i < n; i++) {
        uint64_t size;

        if (parts[i].length == 0) {
            vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: part %zu (%s) is "
                           "empty", name, i, parts[i].file->name);
            goto fail;
        }
        if (vmc_file_get_size(parts[i].file, &size) == -1 ||
            vmc_check_range(h, parts[i].file->name, size, parts[i].offset,
                            parts[i].length, "byte range") == -1)
            goto fail;
        if (parts[i].length > UINT64_MAX - total) {
            vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: the parts add up to "
                           "more than 2^64 bytes", name);
            goto fail;
        }
        total += parts[i].length;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        goto oom;
    c->parts = malloc(n * sizeof *c->parts);
    c->start = malloc((n + 1) * sizeof *c->start);
    if (c->parts == NULL || c->start == NULL)
        goto oom;
    memcpy(c->parts, parts, n * sizeof *parts);
    c->n = n;
    total = 0;
    for (i = 0; i < n; i++) {
        c->start[i] = total;
        total += parts[i].length;
    }
    c->start[n] = total;
    if (vmc_file_init(&c->f, &concat_ops, h, name, false) == -1)
        goto fail;
    c->own = own;
    c->f.dev = parts[0].file->dev;
    c->f.ino = parts[0].file->ino;
    return &c->f;

oom:
    vmc_error(h, "%s: %m", name);
fail:
    if (c) {
        free(c->parts);
        free(c->start);
        free(c);
    }
    if (own)
        concat_close_parts(parts, n);
    return NULL;
}
