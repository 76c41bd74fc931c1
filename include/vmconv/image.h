/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv image API: open, read, write, create, copy and compare disk
 * images in the formats vmconv knows natively (raw, qcow2, vmdk, vhdx,
 * vpc).  Plugins and the `vmconv disk` command use this API; the
 * format drivers behind it are internal.
 *
 * Safety rules every call keeps:
 *  - an image opened without VMC_IMAGE_RDWR is opened O_RDONLY, and so
 *    is every file it refers to (backing files, extents, parents, data
 *    files);
 *  - names read from an image (backing files, extents, parent
 *    locators, data files) are refused when they lead outside the
 *    directory of the image the caller opened, unless
 *    VMC_IMAGE_ALLOW_OUTSIDE is given, and are never followed from an
 *    image opened from a byte range or a URI;
 *  - an image made by vmc_image_create appears under its final name
 *    only when vmc_image_commit succeeds; otherwise nothing is left.
 */
#ifndef VMCONV_IMAGE_H
#define VMCONV_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmc_image;

/* Flags for vmc_image_open. */
#define VMC_IMAGE_RDWR           0x1u  /* open for writing (never a source) */
#define VMC_IMAGE_NO_BACKING     0x2u  /* do not open backing files/parents */
#define VMC_IMAGE_ALLOW_OUTSIDE  0x4u  /* follow names leaving the directory */
#define VMC_IMAGE_IGNORE_PARENT_ID 0x8u /* open chains whose parent IDs
                                          (VMDK CID, VHD/VHDX parent GUID)
                                          do not match, with a warning */

/* The longest backing chain vmconv follows. */
#define VMC_MAX_CHAIN_DEPTH 64

/* Open PATH.  FORMAT is a format name ("qcow2") or NULL to probe the
 * content.  Returns NULL with an error set on H.
 */
struct vmc_image *vmc_image_open(struct vmc_handle *h, const char *path,
                                 const char *format, unsigned flags);

/* Open the image stored in the bytes [OFFSET, OFFSET + LENGTH) of the
 * local file PATH: a disk inside a container, such as a VMDK member of
 * an uncompressed OVA (tar) file.  Nothing outside the range is read;
 * the range must lie inside the file.  FORMAT as for vmc_image_open.
 * Read-only: VMC_IMAGE_RDWR is refused.
 *
 * Messages and vmc_image_path() name the image "PATH@OFFSET", and the
 * offsets in messages count from OFFSET.  Names read from such an
 * image (backing files, parents, extents, data files) are refused, not
 * resolved: a member of a container has no directory of its own, and
 * the files beside the container are not its siblings.  Open it with
 * VMC_IMAGE_NO_BACKING to read just this layer of a differencing
 * image.  Returns NULL with an error set on H.
 */
struct vmc_image *vmc_image_open_range(struct vmc_handle *h, const char *path,
                                       uint64_t offset, uint64_t length,
                                       const char *format, unsigned flags);

/* Open the source image NAME as vmc_disk_convert opens a disk job's
 * source (see vmconv-vm-json(5), "A disk"):
 *  - "range:OFFSET:LENGTH:PATH": as vmc_image_open_range;
 *  - "concat:COUNT" then COUNT times ":OFFSET:LENGTH:PATHLENGTH:PATH":
 *    those byte ranges of those local files one after the other (a
 *    disk split into chunks); PATH is exactly PATHLENGTH bytes;
 *  - "gzip:SOURCE": the inflated contents of SOURCE, a local file or
 *    a range: or concat: name (a gzip-compressed disk of an OVA, read
 *    in place: nothing is written; opening inflates it once to check
 *    it and index it);
 *  - anything else: the local file NAME, as vmc_image_open.
 * The first three are read-only (VMC_IMAGE_RDWR is refused), and names
 * read from them are refused, as for vmc_image_open_range.  Returns
 * NULL with an error set on H.
 */
struct vmc_image *vmc_image_open_name(struct vmc_handle *h, const char *name,
                                      const char *format, unsigned flags);

/* Open the image served at URI over NBD: "nbd://HOST[:PORT]/EXPORT",
 * "nbd+unix:///EXPORT?socket=PATH", and the TLS forms "nbds://" and
 * "nbds+unix://".  The export's bytes are read as FORMAT (or probed
 * when NULL), so an export of a qcow2 file is read as qcow2, and a raw
 * export's block status (base:allocation) tells holes from data.
 * Read-only: VMC_IMAGE_RDWR is refused.  Names read from the image are
 * refused, as for vmc_image_open_range.  Needs vmconv built with
 * libnbd; without it this fails saying so.  Returns NULL with an error
 * set on H.
 */
struct vmc_image *vmc_image_open_uri(struct vmc_handle *h, const char *uri,
                                     const char *format, unsigned flags);

/* Close IMG and every image of its backing chain.  For an image made
 * by vmc_image_create and not committed, removes what was written.
 * Returns 0, or -1 if a final flush failed.  Accepts NULL.
 */
int vmc_image_close(struct vmc_image *img);

const char *vmc_image_format(const struct vmc_image *img);
const char *vmc_image_path(const struct vmc_image *img);
uint64_t vmc_image_size(const struct vmc_image *img);
/* The allocation unit (cluster, grain, block) or 0 if the format has
 * none.  Copies go faster when requests are multiples of it.
 */
uint32_t vmc_image_cluster_size(const struct vmc_image *img);
/* The next image in the backing chain, or NULL. */
struct vmc_image *vmc_image_backing(const struct vmc_image *img);

/* Read COUNT bytes at OFFSET, through the whole backing chain.  Returns
 * 0 or -1.  Reading past the virtual size is an error.
 */
int vmc_image_pread(struct vmc_image *img, void *buf, size_t count,
                    uint64_t offset);

/* Write COUNT bytes at OFFSET.  An image being created is write-once:
 * write each byte at most once, in whole clusters (the final cluster
 * may be short where the virtual size ends).  Returns 0 or -1.
 */
int vmc_image_pwrite(struct vmc_image *img, const void *buf, size_t count,
                     uint64_t offset);

int vmc_image_flush(struct vmc_image *img);

/* What a range of the guest-visible disk holds, across the chain. */
enum vmc_extent_type {
    VMC_EXTENT_DATA = 0,     /* allocated; may hold anything */
    VMC_EXTENT_ZERO = 1,     /* reads as zeros (allocated as zero) */
    VMC_EXTENT_HOLE = 2,     /* allocated nowhere in the chain: zeros */
    VMC_EXTENT_LAST
};

/* Describe the range starting at OFFSET: sets *TYPE and *RUN, the
 * length (> 0, <= LENGTH) of the run of that type.  Returns 0 or -1.
 */
int vmc_image_block_status(struct vmc_image *img, uint64_t offset,
                           uint64_t length, enum vmc_extent_type *type,
                           uint64_t *run);

/* Probe the format of PATH by content.  Returns the format name
 * (static string), or NULL with an error set.
 */
const char *vmc_image_probe(struct vmc_handle *h, const char *path);

/* The names of the formats vmconv knows, NULL-terminated (static). */
const char *const *vmc_image_formats(void);

/* Describe IMG and its chain as a JSON document (malloc'd text; the
 * caller frees it), or NULL with an error set.  The schema is in
 * vmconv-disk(1).
 */
char *vmc_image_info_json(struct vmc_image *img);

/* Create a new image of FORMAT at PATH holding SIZE bytes.  OPTIONS is
 * "key=value,key=value" (NULL for defaults).  The image is written to
 * a temporary name beside PATH; vmc_image_commit renames it in place.
 * Returns NULL with an error set.
 */
struct vmc_image *vmc_image_create(struct vmc_handle *h, const char *path,
                                   const char *format, uint64_t size,
                                   const char *options);

/* Finish IMG (made by vmc_image_create): write its final metadata and
 * move it and its companion files to their final names.  Returns 0 or
 * -1; on error nothing is left under the final names.
 */
int vmc_image_commit(struct vmc_image *img);

/* Make vmc_image_commit fsync IMG's files before renaming them, so the
 * output is on disk when it appears under its name.  Off by default,
 * as with qemu-img convert and cp: the data then reaches the disk when
 * the kernel writes it back.
 */
void vmc_image_set_sync(struct vmc_image *img, bool sync);

/* The options FORMAT accepts for vmc_image_create, as lines
 * "name  help\n" (static), or NULL if the format is unknown.
 */
char *vmc_image_create_help(const char *format);

/* Copying.  Caller-allocated: initialise with VMC_COPY_OPTIONS_INIT
 * (or set _STRUCT_SIZE to sizeof the struct) so a library older than
 * your header reads only the fields it knows.  _STRUCT_SIZE 0 is taken
 * as version 1 (the fields below), for callers written before it.
 * Fields are only ever added at the end.
 */
struct vmc_copy_options {
    uint32_t _struct_size;
    /* Version 1: */
    unsigned threads;        /* worker threads; 0 = number of cores */
    size_t request_size;     /* bytes per request; 0 = default (4 MiB) */
    bool no_zero_detect;     /* write data extents even if all zero */
};

#define VMC_COPY_OPTIONS_INIT \
    { ._struct_size = sizeof (struct vmc_copy_options) }

/* Copy the guest-visible contents of SRC into DST (same virtual size
 * or larger).  Holes and zero runs are not written; DST must read as
 * zeros where nothing is written (a freshly created image).  Reports
 * progress events (done, total, skipped) through the handle.  OPTS
 * may be NULL for defaults.  Returns 0 or -1.
 */
int vmc_image_copy(struct vmc_image *src, struct vmc_image *dst,
                   const struct vmc_copy_options *opts);

/* Compare the contents of A and B.  Returns 0 if identical, 1 if they
 * differ (and sets *FIRST_DIFF to the first differing byte offset), or
 * -1 on error.  Images of different sizes are compared over the
 * shorter one; the rest of the longer one must read as zeros.
 */
int vmc_image_compare(struct vmc_image *a, struct vmc_image *b,
                      uint64_t *first_diff);

/* Structural check.  Caller-allocated, filled by the library:
 * initialise with VMC_CHECK_RESULT_INIT (or set _STRUCT_SIZE); the
 * library writes only within _STRUCT_SIZE.  0 is taken as version 1.
 */
struct vmc_check_result {
    uint32_t _struct_size;
    /* Version 1: */
    uint64_t errors;         /* corruptions found */
    uint64_t leaks;          /* allocated but unused space */
    bool supported;          /* false: the format has no check */
    char **messages;         /* what was found, NULL-terminated */
    size_t nmessages;
};

#define VMC_CHECK_RESULT_INIT \
    { ._struct_size = sizeof (struct vmc_check_result) }

/* Check IMG (not its backing files).  Fills R; free it with
 * vmc_check_result_free.  Returns 0 if the check ran (whatever it
 * found), -1 if it could not run.
 */
int vmc_image_check(struct vmc_image *img, struct vmc_check_result *r);
void vmc_check_result_free(struct vmc_check_result *r);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_IMAGE_H */
