/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The format driver contract: struct vmc_format_ops, struct vmc_image
 * and the core functions a driver may call (backing files, related
 * files, check results).  Included by formats/ and by core/image.c,
 * core/copy.c.  Not installed.
 */
#ifndef VMCONV_DRIVER_H
#define VMCONV_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vmconv/vmconv.h>
#include <vmconv/image.h>

#include "file.h"
#include "opts.h"

struct json_object;

/* What a driver says about a range of its own layer. */
enum vmc_bs {
    VMC_BS_DATA,        /* this layer holds the data */
    VMC_BS_ZERO,        /* reads as zeros, hides the backing file */
    VMC_BS_BACKING,     /* not in this layer: backing file, else zeros */
};

/* What probe sees of a file. */
struct vmc_probe {
    const char *path;
    const uint8_t *head;         /* first bytes of the file */
    size_t head_len;             /* up to VMC_PROBE_HEAD */
    const uint8_t *tail;         /* last bytes of the file */
    size_t tail_len;             /* up to VMC_PROBE_TAIL */
    uint64_t file_size;
};
#define VMC_PROBE_HEAD 65536
#define VMC_PROBE_TAIL 1024

struct vmc_check_result;

/* One driver.  Threading: pread and block_status are called from
 * several threads at once and must be safe so (no shared scratch
 * buffers; lock any lazily filled cache).  pwrite and encode are called
 * from several threads at once too, unless ORDERED_WRITES, in which case
 * pwrite/write_encoded are called one at a time in increasing offset
 * order.  The core checks every request's range against the virtual
 * size before calling a driver.
 */
struct vmc_format_ops {
    const char *name;            /* "qcow2" */
    const char *description;     /* "QEMU copy-on-write v2/v3" */
    bool ordered_writes;
    /* Writes to an image being created may cover part of a cluster
     * (blocks read as zeros until written: vhd, vhdx).  Without it the
     * engine writes whole clusters only.
     */
    bool partial_cluster_writes;
    const struct vmc_opt_desc *create_opts;  /* NULL-name terminated */

    /* Return 0 if P is not this format, else a confidence 1..100
     * (raw answers 1).  Must not read the file.
     */
    int (*probe)(const struct vmc_probe *p);

    /* IMG has h, path, dir, file (read-only unless writable),
     * file_size and flags set.  Validate the headers, set img->size (and
     * img->cluster_size), store private state in img->priv, and open
     * the backing file if any with vmc_image_open_backing.  Returns 0
     * or -1 with an error set; close is not called after a failed
     * open, so free what you allocated.
     */
    int (*open)(struct vmc_image *img);
    void (*close)(struct vmc_image *img);

    /* Describe the run starting at OFFSET in this layer (LENGTH > 0):
     * set *TYPE and *RUN (0 < *RUN <= LENGTH).  Returns 0 or -1.
     */
    int (*block_status)(struct vmc_image *img, uint64_t offset,
                        uint64_t length, enum vmc_bs *type, uint64_t *run);

    /* Fill BUF with the guest-visible bytes, reading the backing chain
     * through vmc_image_backing_pread for VMC_BS_BACKING parts.
     */
    int (*pread)(struct vmc_image *img, void *buf, size_t count,
                 uint64_t offset);

    /* Writers (NULL for read-only formats).  create: img->file is a new
     * empty file opened read-write, img->size is the virtual size;
     * lay out an empty image.  OPTS were validated against create_opts.
     */
    int (*create)(struct vmc_image *img, const struct vmc_opts *opts);
    int (*pwrite)(struct vmc_image *img, const void *buf, size_t count,
                  uint64_t offset);

    /* Optional split of pwrite for formats that compress: encode turns
     * COUNT bytes at OFFSET into a private chunk (any thread, touches
     * no shared state, and copies what it keeps: the engine reuses BUF
     * at once and may hold the chunk a while before storing it);
     * write_encoded stores it (serialised by the engine) and always
     * consumes it, whether it succeeds or fails; free_encoded frees a
     * chunk that is never passed to write_encoded.
     */
    int (*encode)(struct vmc_image *img, const void *buf, size_t count,
                  uint64_t offset, void **chunk);
    int (*write_encoded)(struct vmc_image *img, void *chunk);
    void (*free_encoded)(void *chunk);

    /* Optional, for targets that allocate space on first write.  When
     * the image being created sets ordered_alloc, the engine calls
     * reserve one range at a time, in increasing offset order, with
     * the data it will then pass to pwrite for that same range (so the
     * driver can leave zero clusters out); the pwrite may then come
     * from any thread.  Space is so handed out in disk order, the same
     * whatever the threads, while the data is written in parallel.
     */
    int (*reserve)(struct vmc_image *img, const void *buf, size_t count,
                   uint64_t offset);

    /* Write all metadata so the file is complete (before commit). */
    int (*flush)(struct vmc_image *img);

    /* Add format-specific fields to O (a json object): "subformat",
     * "cluster-size", "dirty", ... (see vmconv-disk(1)).
     */
    int (*info)(struct vmc_image *img, struct json_object *o);

    /* Validate the structure of this layer; report findings with
     * vmc_check_error / vmc_check_leak.  Returns 0 if the check ran.
     */
    int (*check)(struct vmc_image *img, struct vmc_check_result *r);
};

/* Output files made by vmc_image_create: written under a temporary
 * name, renamed to FINAL on commit, unlinked otherwise.
 */
struct vmc_outfile {
    struct vmc_outfile *next;
    char *tmp;
    char *final;
    struct vmc_file *file;
};

struct vmc_image {
    struct vmc_handle *h;
    const struct vmc_format_ops *ops;
    char *path;                  /* as given (final name for outputs) */
    char *dir;                   /* directory of PATH, for relative names */
    char *root;                  /* realpath of the top image's directory:
                                    names may not leave it */
    struct vmc_file *file;       /* read-only unless writable */
    const char *origin;          /* NULL for a local file, else where the
                                    bytes come from ("a byte range of
                                    another file", "an NBD export"):
                                    names read from it are not followed */
    unsigned flags;              /* VMC_IMAGE_* of the top image */
    bool writable;
    bool creating;               /* made by vmc_image_create */
    bool committed;
    bool sync;                   /* fsync before commit renames */
    uint64_t file_size;          /* of file when opened */
    dev_t dev;
    ino_t ino;
    uint64_t size;               /* virtual size */
    uint32_t cluster_size;       /* allocation unit, 0 if none */
    bool ordered_writes;         /* set by create when this image (not
                                    the whole format) needs writes in
                                    offset order: VMDK streamOptimized */
    bool ordered_alloc;          /* set by create: call reserve in offset
                                    order before each pwrite */
    struct vmc_image *backing;
    struct vmc_image *child;     /* the image whose backing we are */
    unsigned depth;              /* 0 for the top image */
    void *priv;
    struct vmc_outfile *outfiles;
};

/* Registry (formats/registry.c). */
extern const struct vmc_format_ops *const vmc_formats[];
const struct vmc_format_ops *vmc_format_lookup(const char *name);
extern const struct vmc_format_ops vmc_format_raw;
extern const struct vmc_format_ops vmc_format_qcow2;
extern const struct vmc_format_ops vmc_format_vmdk;
extern const struct vmc_format_ops vmc_format_vhdx;
extern const struct vmc_format_ops vmc_format_vpc;

/* Open NAME (read from IMG's metadata; relative to IMG's directory) as
 * IMG's backing image, read-only, with FORMAT or probing when NULL.
 * WHAT names the field for messages ("backing file", "parent locator").
 * Refuses names leaving img->root (unless VMC_IMAGE_ALLOW_OUTSIDE),
 * chains deeper than VMC_MAX_CHAIN_DEPTH and loops.  Sets img->backing.
 * Returns 0 or -1 with an error naming IMG's path.
 */
int vmc_image_open_backing(struct vmc_image *img, const char *name,
                           const char *format, const char *what);

/* Find the local file behind NAME, a name IMG's metadata holds as
 * another host wrote it (a Windows or ESXi path, "[datastore] f",
 * backslashes, another case), with vmc_resolve_foreign_name's rules,
 * in IMG's directory and under IMG's path policy.  Sets *LOCAL to the
 * malloc'd name to open (relative to IMG's directory, or absolute), or
 * to NULL if nothing was found (no error: the caller reports what it
 * tried).  Returns 0, or -1 with an error naming IMG (a name leading
 * outside the directory, an ambiguous name).  WHAT names the field.
 */
int vmc_image_find_name(struct vmc_image *img, const char *name,
                        const char *what, char **local);

/* The parent IMG opened (img->backing) is not the one IMG was made
 * from: WHAT ("CID", "DataWriteGuid") differs, CHILD_SAYS is what IMG
 * records, PARENT_HAS what the parent has.  With
 * VMC_IMAGE_IGNORE_PARENT_ID, a warning and 0; otherwise an error
 * (hint VMC_HINT_IGNORE_PARENT_ID) and -1.  The caller closes the
 * parent on -1.
 */
int vmc_image_parent_mismatch(struct vmc_image *img, const char *what,
                              const char *child_says,
                              const char *parent_has);

/* Open NAME (relative to IMG's directory) with the same path policy, for
 * a file the format itself is made of (a VMDK extent, a qcow2 data
 * file).  Read-only unless IMG is writable.  Returns a file named by its
 * resolved path (the caller closes it), or NULL.  If RESOLVED is not
 * NULL it receives the malloc'd path opened.
 */
struct vmc_file *vmc_image_open_related(struct vmc_image *img,
                                        const char *name, const char *what,
                                        char **resolved);

/* Resolve NAME relative to IMG and apply the path policy without
 * opening.  Refuses every name in an image that has an origin (opened
 * from a byte range or a URI).  Returns the malloc'd path or NULL with
 * an error.
 */
char *vmc_image_resolve_name(struct vmc_image *img, const char *name,
                             const char *what);

/* Create a companion output file FINAL_NAME (a VMDK flat extent) for an
 * image being created: returns a read-write file (named FINAL_NAME in
 * messages) over a temporary file that commit renames to FINAL_NAME
 * (relative names are relative to the image's directory).  The file
 * belongs to the image.  NULL on error.
 */
struct vmc_file *vmc_image_create_companion(struct vmc_image *img,
                                            const char *final_name);

/* Read COUNT bytes at OFFSET of IMG's backing chain (zeros where there
 * is no backing image or past its end).  For drivers' pread.
 */
int vmc_image_backing_pread(struct vmc_image *img, void *buf, size_t count,
                            uint64_t offset);

/* Check-result builders for drivers. */
void vmc_check_error(struct vmc_check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vmc_check_leak(struct vmc_check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vmc_check_note(struct vmc_check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* VMCONV_DRIVER_H */
