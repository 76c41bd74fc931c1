/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv internals: the byte-source ("protocol") layer under the
 * format drivers.  A struct vmc_file is where an image's bytes live: a
 * local file or device (file-posix.c), a byte range of another file
 * (file-range.c: a disk inside an OVA), byte ranges of several files
 * one after the other (file-concat.c: a disk split into chunks), the
 * inflated contents of gzip data (file-gzip.c), or an NBD export
 * (file-nbd.c, through libnbd).  Drivers read and write only through
 * it, so every format works on every back-end.  Not installed.
 *
 * Errors: every function here reports its own failure once on the
 * file's handle, naming the file (its NAME) and the offset, and returns
 * -1.  Callers add nothing.
 *
 * Threading: pread, extents and (on a writable file) pwrite may be
 * called from several threads at once.  truncate, flush and close are
 * not called concurrently with anything else on the same file.
 */
#ifndef VMCONV_FILE_H
#define VMCONV_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vmconv/vmconv.h>
#include <vmconv/convert.h>

struct vmc_file;

/* What a run of a file holds. */
enum vmc_file_extent {
    VMC_FILE_DATA,              /* may hold anything */
    VMC_FILE_HOLE,              /* reads as zeros and stores nothing */
};

/* One back-end.  The vmc_file_* wrappers below are what callers use. */
struct vmc_file_ops {
    const char *name;           /* "posix", "range", "nbd" */

    /* Read exactly COUNT bytes at OFFSET.  A file ending before
     * OFFSET + COUNT is an error, never a short read.
     */
    int (*pread)(struct vmc_file *f, void *buf, size_t count,
                 uint64_t offset);
    /* Write COUNT bytes at OFFSET (NULL for read-only back-ends). */
    int (*pwrite)(struct vmc_file *f, const void *buf, size_t count,
                  uint64_t offset);
    /* The current size in bytes. */
    int (*get_size)(struct vmc_file *f, uint64_t *size);
    /* Describe the bytes from OFFSET (LENGTH > 0): set *TYPE and *RUN
     * (0 < *RUN <= LENGTH).  A back-end that cannot tell says DATA for
     * all of LENGTH.  Past the end of the file is a hole.
     */
    int (*extents)(struct vmc_file *f, uint64_t offset, uint64_t length,
                   enum vmc_file_extent *type, uint64_t *run);
    /* Make what was written durable (fsync).  NULL: nothing to do. */
    int (*flush)(struct vmc_file *f);
    /* Set the size (NULL for read-only back-ends). */
    int (*truncate)(struct vmc_file *f, uint64_t size);
    /* Bytes the storage holds for the file (st_blocks), or NULL: then
     * the DATA extents are counted.
     */
    int (*allocated)(struct vmc_file *f, uint64_t *bytes);
    /* Release the back-end's resources and F itself.  Returns 0, or -1
     * if something could not be released cleanly (reported).
     */
    int (*close)(struct vmc_file *f);
};

/* The part every back-end shares; back-ends embed it first in their own
 * struct.
 */
struct vmc_file {
    const struct vmc_file_ops *ops;
    struct vmc_handle *h;
    char *name;                 /* for messages: path, "PATH@OFFSET", URI */
    bool writable;
    dev_t dev;                  /* identity of a local file, else 0 */
    ino_t ino;
};

/* ---- Back-ends ---------------------------------------------------- */

/* Open the local file or block device PATH, read-only unless WRITABLE
 * (O_CLOEXEC always).  Refuses directories.  Messages as an image
 * open has always given them: "open: PATH: ...", "PATH: is a directory,
 * not a disk image".  Returns NULL with an error set on H.
 */
struct vmc_file *vmc_file_posix_open(struct vmc_handle *h, const char *path,
                                     bool writable);

/* Wrap the open descriptor FD (taken over: closed by vmc_file_close,
 * and on failure here) under NAME, which messages show.  Returns NULL
 * with an error set on H.
 */
struct vmc_file *vmc_file_posix_fdopen(struct vmc_handle *h, const char *name,
                                       int fd, bool writable);

/* The bytes [OFFSET, OFFSET + LENGTH) of UNDER as a read-only file of
 * LENGTH bytes named NAME.  Reads that reach past LENGTH fail like a
 * read past the end of a file; nothing outside the window is ever
 * returned.  The window must lie inside UNDER.  With OWN, UNDER is
 * closed with the range (also when this fails).  Returns NULL with an
 * error set on H.
 */
struct vmc_file *vmc_file_range_open(struct vmc_handle *h, const char *name,
                                     struct vmc_file *under, uint64_t offset,
                                     uint64_t length, bool own);

/* One part of a concatenation: the bytes [OFFSET, OFFSET + LENGTH) of
 * FILE (LENGTH > 0).
 */
struct vmc_file_part {
    struct vmc_file *file;
    uint64_t offset;
    uint64_t length;
};

#define VMC_FILE_CONCAT_MAX_PARTS VMC_CONCAT_MAX_PARTS

/* The parts PARTS[0..N) one after the other, as one read-only file
 * named NAME (file-concat.c): a disk split into chunks.  A read may
 * cross parts; a read past the sum of the lengths fails like a read
 * past the end of a file.  Each part must lie inside its file; no part
 * may be empty; 1 <= N <= VMC_FILE_CONCAT_MAX_PARTS.  Several parts may
 * share a file.  With OWN, the parts' files are closed with the
 * concatenation, each once (also when this fails).  PARTS is copied.
 * Returns NULL with an error set on H.
 */
struct vmc_file *vmc_file_concat_open(struct vmc_handle *h, const char *name,
                                      const struct vmc_file_part *parts,
                                      size_t n, bool own);

/* The inflated contents of the gzip data in UNDER (file-gzip.c), a
 * read-only file named NAME with random access.  Opening inflates all
 * of it once, checking every member's CRC and length and indexing
 * restart points (memory: at most 16 MiB of saved windows whatever the
 * size, plus at most 4.5 MiB for 4 read cursors); corrupt or truncated
 * data fails here, naming NAME and the compressed offset.  With OWN,
 * UNDER is closed with it (also when this fails).  Returns NULL with an
 * error set on H.
 */
struct vmc_file *vmc_file_gzip_open(struct vmc_handle *h, const char *name,
                                    struct vmc_file *under, bool own);
/* The same with a restart point every SPAN bytes of output at first
 * and at most MAX_POINTS (>= 2) of them (the defaults: 4 MiB and 512),
 * for tests.
 */
struct vmc_file *vmc_file_gzip_open_tuned(struct vmc_handle *h,
                                          const char *name,
                                          struct vmc_file *under, bool own,
                                          uint64_t span, size_t max_points);

/* True if URI names an NBD export (nbd://, nbds://, nbd+unix://,
 * nbds+unix://), whether or not this build can open it.
 */
bool vmc_file_is_nbd_uri(const char *uri);

/* Connect to the NBD export URI, read-only, asking for block status
 * (base:allocation).  Without libnbd at build time, fails with
 * "vmconv was built without libnbd".  Returns NULL with an error set.
 */
struct vmc_file *vmc_file_nbd_open(struct vmc_handle *h, const char *uri);

/* ---- Calls -------------------------------------------------------- */

/* Read exactly LEN bytes at OFFSET into BUF.  A file ending early is an
 * error: "NAME: unexpected end of file reading LEN bytes at offset N";
 * an I/O error is "NAME: read at offset N: ...".  Returns 0 or -1.
 */
static inline int
vmc_file_pread_full(struct vmc_file *f, void *buf, size_t len,
                    uint64_t offset)
{
    return f->ops->pread(f, buf, len, offset);
}

/* Report a write to a file opened read-only (for vmc_file_pwrite_full). */
int vmc_file_read_only(struct vmc_file *f, const char *what);

/* Write LEN bytes at OFFSET ("NAME: write at offset N: ..."). */
static inline int
vmc_file_pwrite_full(struct vmc_file *f, const void *buf, size_t len,
                     uint64_t offset)
{
    if (!f->writable)
        return vmc_file_read_only(f, "write");
    return f->ops->pwrite(f, buf, len, offset);
}

/* The file's current size. */
int vmc_file_get_size(struct vmc_file *f, uint64_t *size);

/* See vmc_file_ops.extents. */
int vmc_file_extents(struct vmc_file *f, uint64_t offset, uint64_t length,
                     enum vmc_file_extent *type, uint64_t *run);

/* fsync ("NAME: fsync: ..."). */
int vmc_file_flush(struct vmc_file *f);

/* Set the size ("NAME: setting the size to N: ..."). */
int vmc_file_truncate(struct vmc_file *f, uint64_t size);

/* Bytes stored for the file (see vmc_file_ops.allocated); 0 when it
 * cannot be found.
 */
uint64_t vmc_file_allocated(struct vmc_file *f);

/* Close F (NULL is fine).  Returns 0 or -1 (reported). */
int vmc_file_close(struct vmc_file *f);

/* For back-ends: fill the shared part. NAME is copied.  Returns 0, or
 * -1 with an error set.
 */
int vmc_file_init(struct vmc_file *f, const struct vmc_file_ops *ops,
                  struct vmc_handle *h, const char *name, bool writable);

#endif /* VMCONV_FILE_H */
