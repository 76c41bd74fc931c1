/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image object: probing, opening a backing chain under the path
 * policy, range-checked I/O, creating outputs atomically, info, check.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <vmconv/convert.h>

#include "internal.h"

static int
image_read_probe(const char *path, struct vmc_file *file,
                 uint64_t file_size, struct vmc_probe *p, uint8_t *head,
                 uint8_t *tail)
{
    p->path = path;
    p->file_size = file_size;
    p->head = head;
    p->head_len = file_size < VMC_PROBE_HEAD ? file_size : VMC_PROBE_HEAD;
    p->tail = tail;
    p->tail_len = file_size < VMC_PROBE_TAIL ? file_size : VMC_PROBE_TAIL;
    if (vmc_file_pread_full(file, head, p->head_len, 0) == -1)
        return -1;
    if (vmc_file_pread_full(file, tail, p->tail_len,
                            file_size - p->tail_len) == -1)
        return -1;
    return 0;
}

/* Pick the driver with the highest probe score. */
static const struct vmc_format_ops *
image_probe_file(struct vmc_handle *h, const char *path,
                 struct vmc_file *file, uint64_t file_size)
{
    CLEANUP_FREE uint8_t *head = malloc(VMC_PROBE_HEAD);
    uint8_t tail[VMC_PROBE_TAIL];
    struct vmc_probe p;
    const struct vmc_format_ops *best = NULL;
    int best_score = 0;
    size_t i;

    if (head == NULL) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    if (image_read_probe(path, file, file_size, &p, head, tail) == -1)
        return NULL;
    for (i = 0; vmc_formats[i] != NULL; i++) {
        int score = vmc_formats[i]->probe ? vmc_formats[i]->probe(&p) : 0;

        if (score > best_score) {
            best_score = score;
            best = vmc_formats[i];
        }
    }
    if (best == NULL)
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: format not recognised",
                       path);
    return best;
}

static char *
dir_of(const char *path)
{
    CLEANUP_FREE char *copy = strdup(path);

    if (copy == NULL)
        return NULL;
    return strdup(dirname(copy));
}

static struct vmc_image *
image_alloc(struct vmc_handle *h, const char *path)
{
    struct vmc_image *img = calloc(1, sizeof *img);

    if (img == NULL) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    img->h = h;
    img->path = strdup(path);
    img->dir = dir_of(path);
    if (img->path == NULL || img->dir == NULL) {
        vmc_error(h, "%s: %m", path);
        free(img->path);
        free(img->dir);
        free(img);
        return NULL;
    }
    return img;
}

static void
image_free(struct vmc_image *img)
{
    struct vmc_outfile *o, *next;

    for (o = img->outfiles; o; o = next) {
        next = o->next;
        vmc_file_close(o->file);
        if (!img->committed && o->tmp)
            unlink(o->tmp);
        free(o->tmp);
        free(o->final);
        free(o);
    }
    vmc_file_close(img->file);
    free(img->path);
    free(img->dir);
    free(img->root);
    free(img);
}

/* Open the image in FILE (taken over: closed on failure), shown as
 * PATH, as a member of a chain (CHILD is NULL for the top).  ORIGIN is
 * NULL for a local file (see struct vmc_image).
 */
static struct vmc_image *
image_open_file(struct vmc_handle *h, struct vmc_file *file,
                const char *path, const char *origin, const char *format,
                unsigned flags, struct vmc_image *child)
{
    struct vmc_image *img;
    const struct vmc_image *c;

    img = image_alloc(h, path);
    if (img == NULL) {
        vmc_file_close(file);
        return NULL;
    }
    img->file = file;
    img->origin = origin;
    img->flags = flags;
    img->writable = (flags & VMC_IMAGE_RDWR) != 0;
    img->child = child;
    img->depth = child ? child->depth + 1 : 0;
    img->dev = file->dev;
    img->ino = file->ino;
    if (vmc_file_get_size(file, &img->file_size) == -1)
        goto fail;
    for (c = child; c; c = c->child)
        if (c->dev == img->dev && c->ino == img->ino) {
            vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: backing chain loops: "
                           "this file is already in the chain (opened as %s)",
                           path, c->path);
            goto fail;
        }

    if (child) {
        img->root = strdup(child->root);
    } else if (origin == NULL) {
        CLEANUP_FREE char *abs = realpath(img->dir, NULL);

        img->root = abs ? strdup(abs) : NULL;
    } else
        img->root = strdup("");         /* names are not followed */
    if (img->root == NULL) {
        vmc_error(h, "%s: resolving its directory: %m", path);
        goto fail;
    }

    if (format) {
        img->ops = vmc_format_lookup(format);
        if (img->ops == NULL) {
            vmc_error(h, "%s: unknown format '%s'", path, format);
            goto fail;
        }
    } else {
        img->ops = image_probe_file(h, path, img->file, img->file_size);
        if (img->ops == NULL)
            goto fail;
    }
    if (img->writable && img->ops->pwrite == NULL) {
        vmc_error(h, "%s: format %s cannot be written", path, img->ops->name);
        goto fail;
    }
    if (img->ops->open(img) == -1) {
        /* Header validation failed: bad input, unless the driver said
         * more precisely (unsupported, I/O).
         */
        vmc_set_error_kind(h, VMC_ERR_BAD_INPUT);
        goto fail;
    }
    vmc_debug(h, "opened %s as %s, virtual size %" PRIu64, path,
              img->ops->name, img->size);
    return img;

fail:
    image_free(img);
    return NULL;
}

/* Open the local file PATH as a member of a chain. */
static struct vmc_image *
image_open_internal(struct vmc_handle *h, const char *path,
                    const char *format, unsigned flags,
                    struct vmc_image *child)
{
    struct vmc_file *file;

    file = vmc_file_posix_open(h, path, (flags & VMC_IMAGE_RDWR) != 0);
    if (file == NULL)
        return NULL;
    return image_open_file(h, file, path, NULL, format, flags, child);
}

struct vmc_image *
vmc_image_open(struct vmc_handle *h, const char *path, const char *format,
               unsigned flags)
{
    return image_open_internal(h, path, format, flags, NULL);
}

/* Images that are not local files are read-only. */
static int
image_check_source_flags(struct vmc_handle *h, const char *name,
                         const char *what, unsigned flags)
{
    if (flags & VMC_IMAGE_RDWR) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: %s can only be opened "
                       "read-only", name, what);
        return -1;
    }
    return 0;
}

struct vmc_image *
vmc_image_open_range(struct vmc_handle *h, const char *path,
                     uint64_t offset, uint64_t length, const char *format,
                     unsigned flags)
{
    CLEANUP_FREE char *name = NULL;
    struct vmc_file *under, *file;

    if (image_check_source_flags(h, path, "an image inside another file",
                                 flags) == -1)
        return NULL;
    if (asprintf(&name, "%s@%" PRIu64, path, offset) == -1) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    under = vmc_file_posix_open(h, path, false);
    if (under == NULL)
        return NULL;
    file = vmc_file_range_open(h, name, under, offset, length, true);
    if (file == NULL)
        return NULL;
    return image_open_file(h, file, name, "from a byte range of another "
                           "file", format, flags, NULL);
}

/* Open the byte source a range: or concat: name describes (read-only
 * local files below).  Sets *FILE and *LABEL (the name messages use).
 * Returns 1, 0 if NAME is neither (a plain path), or -1.
 */
static int
source_open_parts(struct vmc_handle *h, const char *name,
                  struct vmc_file **file, char **label)
{
    struct vmc_name_part *parts = NULL;
    struct vmc_file_part *fp = NULL;
    const char *path;
    uint64_t offset, length;
    size_t n = 0, i, j;
    int r;

    r = vmc_range_name_parse(h, name, &path, &offset, &length);
    if (r == 1) {
        struct vmc_file *under;

        if (asprintf(label, "%s@%" PRIu64, path, offset) == -1) {
            vmc_error(h, "%s: %m", path);
            return -1;
        }
        under = vmc_file_posix_open(h, path, false);
        *file = under ? vmc_file_range_open(h, *label, under, offset, length,
                                            true) : NULL;
        goto done;
    }
    if (r == -1)
        return -1;
    r = vmc_concat_name_parse(h, name, &parts, &n);
    if (r != 1)
        return r;
    *file = NULL;
    fp = calloc(n, sizeof *fp);
    if (fp == NULL ||
        asprintf(label, "%s@%" PRIu64 " (%zu parts)", parts[0].path,
                 parts[0].offset, n) == -1) {
        vmc_error(h, "%s: %m", parts[0].path);
        *label = NULL;
        goto out;
    }
    for (i = 0; i < n; i++) {
        /* One open file for the parts of the same file (an OVA). */
        for (j = 0; j < i; j++)
            if (strcmp(parts[j].path, parts[i].path) == 0)
                break;
        fp[i].file = j < i ? fp[j].file
                           : vmc_file_posix_open(h, parts[i].path, false);
        if (fp[i].file == NULL) {
            /* Close those opened so far, each once. */
            for (j = 0; j < i; j++) {
                size_t k;

                for (k = 0; k < j; k++)
                    if (fp[k].file == fp[j].file)
                        break;
                if (k == j)
                    vmc_file_close(fp[j].file);
            }
            goto out;
        }
        fp[i].offset = parts[i].offset;
        fp[i].length = parts[i].length;
    }
    *file = vmc_file_concat_open(h, *label, fp, n, true);
out:
    free(fp);
    vmc_concat_parts_free(parts, n);
done:
    if (*file == NULL) {
        free(*label);
        *label = NULL;
        return -1;
    }
    return 1;
}

struct vmc_image *
vmc_image_open_name(struct vmc_handle *h, const char *name,
                    const char *format, unsigned flags)
{
    CLEANUP_FREE char *label = NULL, *glabel = NULL;
    const char *inner = vmc_gzip_name_inner(name);
    struct vmc_file *file = NULL;
    const char *origin = "from byte ranges of other files";
    int r;

    if (inner == NULL && strncmp(name, VMC_RANGE_PREFIX,
                                 strlen(VMC_RANGE_PREFIX)) != 0 &&
        strncmp(name, VMC_CONCAT_PREFIX, strlen(VMC_CONCAT_PREFIX)) != 0)
        return vmc_image_open(h, name, format, flags);
    if (image_check_source_flags(h, name, "an image inside other files",
                                 flags) == -1)
        return NULL;
    if (inner) {
        if (vmc_gzip_name_inner(inner) || *inner == '\0') {
            vmc_error_kind(h, VMC_ERR_USAGE, "%s: not a gzip source "
                           "(gzip:PATH, gzip:range:... or gzip:concat:...)",
                           name);
            return NULL;
        }
        r = source_open_parts(h, inner, &file, &label);
        if (r == -1)
            return NULL;
        if (r == 0) {
            file = vmc_file_posix_open(h, inner, false);
            if (file == NULL)
                return NULL;
        }
        if (asprintf(&glabel, "%s (gzip)", label ? label : inner) == -1) {
            vmc_error(h, "%s: %m", inner);
            vmc_file_close(file);
            return NULL;
        }
        file = vmc_file_gzip_open(h, glabel, file, true);
        if (file == NULL)
            return NULL;
        return image_open_file(h, file, glabel, "from gzip-compressed data",
                               format, flags, NULL);
    }
    if (source_open_parts(h, name, &file, &label) != 1)
        return NULL;
    if (strncmp(name, VMC_RANGE_PREFIX, strlen(VMC_RANGE_PREFIX)) == 0)
        origin = "from a byte range of another file";
    return image_open_file(h, file, label, origin, format, flags, NULL);
}

struct vmc_image *
vmc_image_open_uri(struct vmc_handle *h, const char *uri, const char *format,
                   unsigned flags)
{
    struct vmc_file *file;

    if (!vmc_file_is_nbd_uri(uri)) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: not a URI vmconv can open "
                       "(nbd://, nbds://, nbd+unix:// or nbds+unix://)", uri);
        return NULL;
    }
    if (image_check_source_flags(h, uri, "an NBD export", flags) == -1)
        return NULL;
    file = vmc_file_nbd_open(h, uri);
    if (file == NULL)
        return NULL;
    return image_open_file(h, file, uri, "from an NBD export", format,
                           flags, NULL);
}

int
vmc_image_close(struct vmc_image *img)
{
    int r = 0;

    if (img == NULL)
        return 0;
    if (img->writable && !img->creating && img->ops && img->ops->flush &&
        img->ops->flush(img) == -1)
        r = -1;
    if (img->ops && img->ops->close)
        img->ops->close(img);
    if (vmc_image_close(img->backing) == -1)
        r = -1;
    image_free(img);
    return r;
}

const char *
vmc_image_format(const struct vmc_image *img)
{
    return img->ops->name;
}

const char *
vmc_image_path(const struct vmc_image *img)
{
    return img->path;
}

uint64_t
vmc_image_size(const struct vmc_image *img)
{
    return img->size;
}

uint32_t
vmc_image_cluster_size(const struct vmc_image *img)
{
    return img->cluster_size;
}

struct vmc_image *
vmc_image_backing(const struct vmc_image *img)
{
    return img->backing;
}

static const char *format_names[16];

static void
image_fill_format_names(void)
{
    size_t i;

    for (i = 0; vmc_formats[i] && i < 15; i++)
        format_names[i] = vmc_formats[i]->name;
}

const char *const *
vmc_image_formats(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, image_fill_format_names);
    return format_names;
}

const char *
vmc_image_probe(struct vmc_handle *h, const char *path)
{
    const struct vmc_format_ops *ops = NULL;
    struct vmc_file *file;
    uint64_t size;

    file = vmc_file_posix_open(h, path, false);
    if (file == NULL)
        return NULL;
    if (vmc_file_get_size(file, &size) == 0)
        ops = image_probe_file(h, path, file, size);
    vmc_file_close(file);
    return ops ? ops->name : NULL;
}

static int
image_check_request(struct vmc_image *img, size_t count, uint64_t offset,
                    const char *what)
{
    uint64_t end;

    if (vmc_add_overflow(offset, count, &end) || end > img->size) {
        vmc_error(img->h, "%s: %s of %zu bytes at offset %" PRIu64
                  " is beyond the virtual size (%" PRIu64 " bytes)",
                  img->path, what, count, offset, img->size);
        return -1;
    }
    return 0;
}

int
vmc_image_pread(struct vmc_image *img, void *buf, size_t count,
                uint64_t offset)
{
    if (image_check_request(img, count, offset, "read") == -1)
        return -1;
    if (count == 0)
        return 0;
    return img->ops->pread(img, buf, count, offset);
}

int
vmc_image_pwrite(struct vmc_image *img, const void *buf, size_t count,
                 uint64_t offset)
{
    if (!img->writable) {
        vmc_error(img->h, "%s: image is open read-only", img->path);
        return -1;
    }
    if (image_check_request(img, count, offset, "write") == -1)
        return -1;
    if (count == 0)
        return 0;
    return img->ops->pwrite(img, buf, count, offset);
}

int
vmc_image_flush(struct vmc_image *img)
{
    if (!img->writable || img->ops->flush == NULL)
        return 0;
    return img->ops->flush(img);
}

int
vmc_image_backing_pread(struct vmc_image *img, void *buf, size_t count,
                        uint64_t offset)
{
    struct vmc_image *b = img->backing;
    uint64_t avail;

    if (b == NULL || offset >= b->size) {
        memset(buf, 0, count);
        return 0;
    }
    avail = b->size - offset;
    if (count > avail) {
        memset((uint8_t *) buf + avail, 0, count - avail);
        count = (size_t) avail;
    }
    return b->ops->pread(b, buf, count, offset);
}

int
vmc_image_block_status(struct vmc_image *img, uint64_t offset,
                       uint64_t length, enum vmc_extent_type *type,
                       uint64_t *run)
{
    enum vmc_bs bs;
    uint64_t r;

    if (length == 0 || offset >= img->size) {
        vmc_error(img->h, "%s: block status of an empty range at offset %"
                  PRIu64, img->path, offset);
        return -1;
    }
    if (length > img->size - offset)
        length = img->size - offset;
    if (img->ops->block_status(img, offset, length, &bs, &r) == -1)
        return -1;
    if (r == 0 || r > length) {
        vmc_error(img->h, "%s: internal error: %s driver returned a run of "
                  "%" PRIu64 " bytes for a request of %" PRIu64,
                  img->path, img->ops->name, r, length);
        return -1;
    }
    switch (bs) {
    case VMC_BS_DATA:
        *type = VMC_EXTENT_DATA;
        break;
    case VMC_BS_ZERO:
        *type = VMC_EXTENT_ZERO;
        break;
    case VMC_BS_BACKING:
        if (img->backing == NULL || offset >= img->backing->size) {
            *type = VMC_EXTENT_HOLE;
            break;
        }
        return vmc_image_block_status(img->backing, offset, r, type, run);
    }
    *run = r;
    return 0;
}

/* ---- Names read from images: the path policy ---------------------- */

char *
vmc_image_resolve_name(struct vmc_image *img, const char *name,
                       const char *what)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE char *joined = NULL;
    CLEANUP_FREE char *canon = NULL;
    CLEANUP_FREE char *parent_canon = NULL;

    if (name == NULL || *name == '\0') {
        vmc_error(h, "%s: %s is empty", img->path, what);
        return NULL;
    }
    if (img->origin) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: %s '%s' is not "
                       "followed: the image was opened %s, where names have "
                       "no directory to be relative to", img->path, what,
                       name, img->origin);
        return NULL;
    }
    if (strchr(name, ':') && strstr(name, "://")) {
        vmc_error(h, "%s: %s '%s' is a URL, not a file; vmconv follows "
                  "only local files", img->path, what, name);
        return NULL;
    }
    if (strncmp(name, "json:", 5) == 0 || strncmp(name, "nbd:", 4) == 0) {
        vmc_error(h, "%s: %s '%s' is a qemu protocol string, not a file",
                  img->path, what, name);
        return NULL;
    }
    if (name[0] == '/')
        joined = strdup(name);
    else if (asprintf(&joined, "%s/%s", img->dir, name) == -1)
        joined = NULL;
    if (joined == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return NULL;
    }

    canon = realpath(joined, NULL);
    if (canon == NULL) {
        vmc_error(h, "%s: %s '%s' (%s): %m", img->path, what, name, joined);
        return NULL;
    }
    if (!(img->flags & VMC_IMAGE_ALLOW_OUTSIDE) &&
        !vmc_path_is_inside(canon, img->root)) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %s '%s' leads outside "
                       "the image's directory %s (to %s); refusing to "
                       "follow it", img->path, what, name, img->root, canon);
        vmc_set_error_hint(h, VMC_HINT_ALLOW_OUTSIDE);
        return NULL;
    }
    return vmc_steal_pointer(&canon);
}

int
vmc_image_find_name(struct vmc_image *img, const char *name,
                    const char *what, char **local)
{
    unsigned flags = VMC_FOREIGN_MISSING_OK;

    if (img->flags & VMC_IMAGE_ALLOW_OUTSIDE)
        flags |= VMC_FOREIGN_ALLOW_OUTSIDE;
    return vmc_foreign_resolve(img->h, name, img->dir, img->root, flags,
                               img->path, what, local);
}

int
vmc_image_parent_mismatch(struct vmc_image *img, const char *what,
                          const char *child_says, const char *parent_has)
{
    const char *parent = img->backing ? img->backing->path : "?";

    if (img->flags & VMC_IMAGE_IGNORE_PARENT_ID) {
        vmc_warning(img->h, "%s: parent %s does not match: %s mismatch: "
                    "this image records %s, the parent has %s; "
                    "reading it anyway as asked", img->path, parent, what,
                    child_says, parent_has);
        return 0;
    }
    vmc_error_kind(img->h, VMC_ERR_BAD_INPUT, "%s: parent %s does not "
                   "match: %s mismatch: this image records %s, the parent "
                   "has %s: the parent was changed or replaced after this "
                   "image was made, and reading through it would give "
                   "wrong data", img->path, parent, what, child_says,
                   parent_has);
    vmc_set_error_hint(img->h, VMC_HINT_IGNORE_PARENT_ID);
    return -1;
}

int
vmc_image_open_backing(struct vmc_image *img, const char *name,
                       const char *format, const char *what)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE char *path = NULL;
    struct vmc_image *b;

    if (img->depth + 1 >= VMC_MAX_CHAIN_DEPTH) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: backing chain is longer "
                       "than %d images", img->path, VMC_MAX_CHAIN_DEPTH);
        return -1;
    }
    path = vmc_image_resolve_name(img, name, what);
    if (path == NULL)
        return -1;
    /* Backing files are always opened read-only. */
    b = image_open_internal(h, path, format,
                            img->flags & ~VMC_IMAGE_RDWR, img);
    if (b == NULL)
        return -1;
    img->backing = b;
    return 0;
}

struct vmc_file *
vmc_image_open_related(struct vmc_image *img, const char *name,
                       const char *what, char **resolved)
{
    CLEANUP_FREE char *path = vmc_image_resolve_name(img, name, what);
    struct vmc_file *file;
    struct stat st;
    int fd;

    if (path == NULL)
        return NULL;
    fd = open(path, (img->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd == -1) {
        vmc_error(img->h, "%s: %s '%s': open %s: %m", img->path, what, name,
                  path);
        return NULL;
    }
    if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
        vmc_error(img->h, "%s: %s '%s': %s is not a file", img->path, what,
                  name, path);
        close(fd);
        return NULL;
    }
    file = vmc_file_posix_fdopen(img->h, path, fd, img->writable);
    if (file && resolved)
        *resolved = vmc_steal_pointer(&path);
    return file;
}

/* ---- Creating outputs --------------------------------------------- */

/* Create the file TEMPLATE ("...XXXXXX", the X replaced in place) with
 * a random name, mode 0666 less the umask: the kernel applies the
 * umask, so the process-wide umask is never changed (that raced with
 * other threads creating files).  Returns the fd, or -1 with errno.
 */
static int
image_create_tmp(char *template)
{
    static const char chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = strlen(template), i;
    int tries;

    if (n < 6 || strcmp(template + n - 6, "XXXXXX") != 0) {
        errno = EINVAL;
        return -1;
    }
    for (tries = 0; tries < 100; tries++) {
        uint8_t rnd[6];
        int fd;

        vmc_random_bytes(rnd, sizeof rnd);
        for (i = 0; i < 6; i++)
            template[n - 6 + i] = chars[rnd[i] % (sizeof chars - 1)];
        fd = open(template, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Make a temporary file beside FINAL and register it on IMG.  NAME is
 * what messages call it.  Returns the new file's descriptor (owned by
 * the outfile), or -1.
 */
static int
image_add_outfile(struct vmc_image *img, const char *final, const char *name)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE char *dir = dir_of(final);
    CLEANUP_FREE char *base_copy = strdup(final);
    struct vmc_outfile *o;
    int fd;

    if (dir == NULL || base_copy == NULL) {
        vmc_error(h, "%s: %m", final);
        return -1;
    }
    o = calloc(1, sizeof *o);
    if (o == NULL) {
        vmc_error(h, "%s: %m", final);
        return -1;
    }
    o->final = strdup(final);
    if (o->final == NULL ||
        asprintf(&o->tmp, "%s/.%s.vmconv-XXXXXX", dir,
                 basename(base_copy)) == -1) {
        o->tmp = NULL;
        vmc_error(h, "%s: %m", final);
        goto fail;
    }
    fd = image_create_tmp(o->tmp);
    if (fd == -1) {
        vmc_error_kind(h, vmc_errno_kind(errno), "%s: creating a temporary "
                       "file in %s: %m", final, dir);
        free(o->tmp);
        o->tmp = NULL;
        goto fail;
    }
    o->file = vmc_file_posix_fdopen(h, name, fd, true);
    if (o->file == NULL) {
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        goto fail;
    }
    o->next = img->outfiles;
    img->outfiles = o;
    return fd;

fail:
    free(o->final);
    free(o);
    return -1;
}

struct vmc_image *
vmc_image_create(struct vmc_handle *h, const char *path, const char *format,
                 uint64_t size, const char *options)
{
    const struct vmc_format_ops *ops = vmc_format_lookup(format);
    struct vmc_opts *opts;
    struct vmc_image *img;
    struct stat st;
    int fd;

    if (ops == NULL) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: unknown output format '%s'",
                       path, format);
        return NULL;
    }
    if (ops->create == NULL || ops->pwrite == NULL) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: vmconv cannot write the "
                       "%s format", path, format);
        return NULL;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        vmc_error(h, "%s: is a directory", path);
        return NULL;
    }
    opts = vmc_opts_parse(h, format, options, ops->create_opts);
    if (opts == NULL)
        return NULL;
    img = image_alloc(h, path);
    if (img == NULL) {
        vmc_opts_free(opts);
        return NULL;
    }
    img->ops = ops;
    img->writable = true;
    img->creating = true;
    img->flags = VMC_IMAGE_RDWR;
    img->size = size;
    {
        CLEANUP_FREE char *abs = realpath(img->dir, NULL);

        if (abs == NULL) {
            vmc_error(h, "%s: output directory %s: %m", path, img->dir);
            goto fail;
        }
        img->root = strdup(abs);
        if (img->root == NULL) {
            vmc_error(h, "%s: %m", path);
            goto fail;
        }
    }
    fd = image_add_outfile(img, path, path);
    if (fd == -1)
        goto fail;
    fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (fd == -1) {
        vmc_error(h, "%s: %m", path);
        goto fail;
    }
    img->file = vmc_file_posix_fdopen(h, path, fd, true);
    if (img->file == NULL)
        goto fail;
    if (ops->create(img, opts) == -1)
        goto fail;
    vmc_opts_free(opts);
    return img;

fail:
    vmc_opts_free(opts);
    image_free(img);
    return NULL;
}

struct vmc_file *
vmc_image_create_companion(struct vmc_image *img, const char *final_name)
{
    CLEANUP_FREE char *final = NULL;

    if (final_name[0] == '/')
        final = strdup(final_name);
    else if (asprintf(&final, "%s/%s", img->dir, final_name) == -1)
        final = NULL;
    if (final == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return NULL;
    }
    if (image_add_outfile(img, final, final_name) == -1)
        return NULL;
    return img->outfiles->file;
}

int
vmc_image_commit(struct vmc_image *img)
{
    struct vmc_handle *h = img->h;
    struct vmc_outfile *o;

    if (!img->creating || img->committed) {
        vmc_error(h, "%s: commit of an image that is not being created",
                  img->path);
        return -1;
    }
    if (img->ops->flush && img->ops->flush(img) == -1)
        return -1;
    /* img->file is over a dup of the main outfile's descriptor:
     * syncing the outfiles syncs everything.
     */
    for (o = img->outfiles; o && img->sync; o = o->next)
        if (vmc_file_flush(o->file) == -1)
            return -1;
    /* Companions first, the main file last, so a visible main file
     * always has its companions.
     */
    for (o = img->outfiles; o; o = o->next) {
        if (strcmp(o->final, img->path) == 0)
            continue;
        if (rename(o->tmp, o->final) == -1) {
            vmc_error_kind(h, vmc_errno_kind(errno), "rename %s to %s: %m",
                           o->tmp, o->final);
            return -1;
        }
        free(o->tmp);
        o->tmp = NULL;
    }
    for (o = img->outfiles; o; o = o->next) {
        if (o->tmp == NULL)
            continue;
        if (rename(o->tmp, o->final) == -1) {
            vmc_error_kind(h, vmc_errno_kind(errno), "rename %s to %s: %m",
                           o->tmp, o->final);
            return -1;
        }
        free(o->tmp);
        o->tmp = NULL;
    }
    img->committed = true;
    return 0;
}

void
vmc_image_set_sync(struct vmc_image *img, bool sync)
{
    img->sync = sync;
}

char *
vmc_image_create_help(const char *format)
{
    const struct vmc_format_ops *ops = vmc_format_lookup(format);
    const struct vmc_opt_desc *d;
    char *out = NULL;
    size_t len = 0;
    FILE *fp;

    if (ops == NULL)
        return NULL;
    fp = open_memstream(&out, &len);
    if (fp == NULL)
        return NULL;
    if (ops->create == NULL)
        fprintf(fp, "%s: read-only format\n", format);
    else if (ops->create_opts == NULL || ops->create_opts[0].name == NULL)
        fprintf(fp, "%s: no options\n", format);
    for (d = ops->create_opts; d && d->name; d++)
        fprintf(fp, "  %-20s %s\n", d->name, d->help);
    fclose(fp);
    return out;
}

/* ---- Info --------------------------------------------------------- */

/* Bytes allocated on the host for IMG's file (st_blocks; the data
 * extents of a range or an NBD export).
 */
static uint64_t
image_allocated(const struct vmc_image *img)
{
    return vmc_file_allocated(img->file);
}

static struct json_object *
image_info_object(struct vmc_image *img)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "filename", json_object_new_string(img->path));
    json_object_object_add(o, "format",
                           json_object_new_string(img->ops->name));
    json_object_object_add(o, "virtual-size",
                           json_object_new_int64((int64_t) img->size));
    json_object_object_add(o, "actual-size",
                           json_object_new_int64((int64_t) image_allocated(img)));
    json_object_object_add(o, "file-size",
                           json_object_new_int64((int64_t) img->file_size));
    if (img->cluster_size)
        json_object_object_add(o, "cluster-size",
                               json_object_new_int64(img->cluster_size));
    if (img->ops->info && img->ops->info(img, o) == -1) {
        json_object_put(o);
        return NULL;
    }
    if (img->backing) {
        struct json_object *b = image_info_object(img->backing);

        if (b == NULL) {
            json_object_put(o);
            return NULL;
        }
        json_object_object_add(o, "backing", b);
    }
    return o;
}

char *
vmc_image_info_json(struct vmc_image *img)
{
    CLEANUP_JSON_PUT struct json_object *o = image_info_object(img);
    const char *s;

    if (o == NULL) {
        if (vmc_get_error(img->h) == NULL)
            vmc_error(img->h, "%s: building info: out of memory", img->path);
        return NULL;
    }
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                       JSON_C_TO_STRING_SPACED |
                                       JSON_C_TO_STRING_NOSLASHESCAPE);
    return strdup(s);
}

/* ---- Check -------------------------------------------------------- */

/* The size of the first struct vmc_check_result. */
#define CHECK_RESULT_V1_SIZE \
    (offsetof(struct vmc_check_result, nmessages) + sizeof (size_t))

int
vmc_image_check(struct vmc_image *img, struct vmc_check_result *r)
{
    struct vmc_check_result full = { 0 };
    size_t size = r->_struct_size ? r->_struct_size : CHECK_RESULT_V1_SIZE;
    uint32_t caller_size = r->_struct_size;
    int ret = 0;

    if (size < CHECK_RESULT_V1_SIZE) {
        vmc_error_kind(img->h, VMC_ERR_USAGE, "%s: check: struct "
                       "vmc_check_result of %zu bytes is smaller than its "
                       "first version (%zu bytes)", img->path, size,
                       (size_t) CHECK_RESULT_V1_SIZE);
        return -1;
    }
    full.supported = img->ops->check != NULL;
    if (full.supported)
        ret = img->ops->check(img, &full);
    /* Only the fields the caller's struct has. */
    memcpy(r, &full, size < sizeof full ? size : sizeof full);
    r->_struct_size = caller_size;
    return ret;
}
