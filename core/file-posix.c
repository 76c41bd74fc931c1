/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte-source back-end for local files and block devices: pread,
 * pwrite, fstat, SEEK_DATA/SEEK_HOLE, fsync and ftruncate on a
 * descriptor.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "handle.h"
#include "util.h"

struct posix_file {
    struct vmc_file f;
    int fd;
    bool blk;                   /* a block device: size from lseek */
    atomic_bool no_seek_data;   /* the file system can't say: all data */
};

static inline struct posix_file *
posix_of(struct vmc_file *f)
{
    return (struct posix_file *) f;
}

static int
posix_pread(struct vmc_file *f, void *buf, size_t count, uint64_t offset)
{
    return vmc_pread_full(f->h, f->name, posix_of(f)->fd, buf, count,
                          offset);
}

static int
posix_pwrite(struct vmc_file *f, const void *buf, size_t count,
             uint64_t offset)
{
    return vmc_pwrite_full(f->h, f->name, posix_of(f)->fd, buf, count,
                           offset);
}

static int
posix_get_size(struct vmc_file *f, uint64_t *size)
{
    struct posix_file *p = posix_of(f);
    struct stat st;

    if (p->blk) {
        off_t end = lseek(p->fd, 0, SEEK_END);

        if (end == -1) {
            vmc_error(f->h, "%s: cannot find the device size: %m", f->name);
            return -1;
        }
        *size = (uint64_t) end;
        return 0;
    }
    if (fstat(p->fd, &st) == -1) {
        vmc_error(f->h, "stat: %s: %m", f->name);
        return -1;
    }
    *size = (uint64_t) st.st_size;
    return 0;
}

/* SEEK_DATA and SEEK_HOLE.  A file system that cannot answer (EINVAL,
 * EOPNOTSUPP; ESPIPE for what cannot seek) makes the whole file data,
 * and is not asked again.
 */
static int
posix_extents(struct vmc_file *f, uint64_t offset, uint64_t length,
              enum vmc_file_extent *type, uint64_t *run)
{
    struct posix_file *p = posix_of(f);
    off_t data, hole;

    if (atomic_load(&p->no_seek_data))
        goto all_data;
    data = lseek(p->fd, (off_t) offset, SEEK_DATA);
    if (data == -1) {
        if (errno == ENXIO) {           /* a hole up to the end */
            *type = VMC_FILE_HOLE;
            *run = length;
            return 0;
        }
        if (errno == EINVAL || errno == EOPNOTSUPP || errno == ESPIPE) {
            atomic_store(&p->no_seek_data, true);
            goto all_data;
        }
        vmc_error_kind(f->h, VMC_ERR_IO, "%s: lseek SEEK_DATA at %" PRIu64
                       ": %m", f->name, offset);
        return -1;
    }
    if ((uint64_t) data > offset) {
        *type = VMC_FILE_HOLE;
        *run = (uint64_t) data - offset;
        if (*run > length)
            *run = length;
        return 0;
    }
    hole = lseek(p->fd, (off_t) offset, SEEK_HOLE);
    if (hole == -1) {
        vmc_error_kind(f->h, VMC_ERR_IO, "%s: lseek SEEK_HOLE at %" PRIu64
                       ": %m", f->name, offset);
        return -1;
    }
    *type = VMC_FILE_DATA;
    *run = (uint64_t) hole - offset;
    if (*run > length || *run == 0)
        *run = length;
    return 0;

all_data:
    *type = VMC_FILE_DATA;
    *run = length;
    return 0;
}

static int
posix_flush(struct vmc_file *f)
{
    if (fsync(posix_of(f)->fd) == -1) {
        vmc_error_kind(f->h, vmc_errno_kind(errno), "%s: fsync: %m",
                       f->name);
        return -1;
    }
    return 0;
}

static int
posix_truncate(struct vmc_file *f, uint64_t size)
{
    if (ftruncate(posix_of(f)->fd, (off_t) size) == -1) {
        vmc_error_kind(f->h, vmc_errno_kind(errno), "%s: setting the size "
                       "to %" PRIu64 ": %m", f->name, size);
        return -1;
    }
    return 0;
}

static int
posix_allocated(struct vmc_file *f, uint64_t *bytes)
{
    struct stat st;

    if (fstat(posix_of(f)->fd, &st) == -1)
        return -1;
    *bytes = (uint64_t) st.st_blocks * 512;
    return 0;
}

static int
posix_close(struct vmc_file *f)
{
    struct posix_file *p = posix_of(f);

    /* As with close(2) everywhere in vmconv, a failure here is not
     * reported: what matters was checked by fsync, when asked for.
     */
    if (p->fd >= 0)
        close(p->fd);
    free(f->name);
    free(p);
    return 0;
}

static const struct vmc_file_ops posix_ops = {
    .name = "posix",
    .pread = posix_pread,
    .pwrite = posix_pwrite,
    .get_size = posix_get_size,
    .extents = posix_extents,
    .flush = posix_flush,
    .truncate = posix_truncate,
    .allocated = posix_allocated,
    .close = posix_close,
};

/* Wrap FD, whose fstat is ST. */
static struct vmc_file *
posix_new(struct vmc_handle *h, const char *name, int fd,
          const struct stat *st, bool writable)
{
    struct posix_file *p = calloc(1, sizeof *p);

    if (p == NULL) {
        vmc_error(h, "%s: %m", name);
        close(fd);
        return NULL;
    }
    p->fd = fd;
    if (vmc_file_init(&p->f, &posix_ops, h, name, writable) == -1) {
        close(fd);
        free(p);
        return NULL;
    }
    p->blk = S_ISBLK(st->st_mode);
    p->f.dev = st->st_dev;
    p->f.ino = st->st_ino;
    return &p->f;
}

struct vmc_file *
vmc_file_posix_fdopen(struct vmc_handle *h, const char *name, int fd,
                      bool writable)
{
    struct stat st;

    if (fstat(fd, &st) == -1) {
        vmc_error(h, "stat: %s: %m", name);
        close(fd);
        return NULL;
    }
    return posix_new(h, name, fd, &st, writable);
}

struct vmc_file *
vmc_file_posix_open(struct vmc_handle *h, const char *path, bool writable)
{
    struct stat st;
    int fd;

    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd == -1) {
        /* A missing or unreadable source is the input's fault. */
        vmc_error_kind(h, errno == EIO ? VMC_ERR_IO : VMC_ERR_BAD_INPUT,
                       "open: %s: %m", path);
        return NULL;
    }
    if (fstat(fd, &st) == -1) {
        vmc_error(h, "stat: %s: %m", path);
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        vmc_error(h, "%s: is a directory, not a disk image", path);
        close(fd);
        return NULL;
    }
    return posix_new(h, path, fd, &st, writable);
}
