/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vmdk driver's private interfaces, shared by vmdk.c (open, read,
 * info), vmdk-descriptor.c (the text descriptor), vmdk-sparse.c (sparse
 * extents: hosted "KDMV", streamOptimized, COWD, seSparse),
 * vmdk-check.c and vmdk-write.c (creating images).
 */
#ifndef VMCONV_VMDK_INTERNAL_H
#define VMCONV_VMDK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>
#include <libdeflate.h>

#include "internal.h"
#include "vmdk-ondisk.h"

/* Limits on hostile input. */
#define VMDK_MAX_DESC_SIZE   (1024u * 1024)   /* standalone descriptor */
#define VMDK_MAX_DESC_LINES  100000u
#define VMDK_MAX_LINE_LEN    65536u
#define VMDK_MAX_EXTENTS     65536u
#define VMDK_MAX_GRAIN       2048ull     /* sectors (1 MiB) */
#define VMDK_MIN_GTES        128u
#define VMDK_MAX_GTES        512u
#define VMDK_MAX_GD_ENTRIES  (32ull * 1024 * 1024)
/* Virtual sizes are counted in bytes in a uint64_t and handed around as
 * off_t: keep them below 2^62.
 */
#define VMDK_MAX_SECTORS     (1ull << 53)

/* ---- Descriptor --------------------------------------------------- */

enum vmdk_access {
    VMDK_ACCESS_RW,
    VMDK_ACCESS_RDONLY,
    VMDK_ACCESS_NOACCESS,
};

enum vmdk_ext_type {
    VMDK_EXT_FLAT,          /* FLAT and VMFS: raw bytes in a file */
    VMDK_EXT_SPARSE,        /* SPARSE, VMFSSPARSE, SESPARSE */
    VMDK_EXT_ZERO,          /* ZERO: no file, reads as zeros */
};

struct vmdk_desc_extent {
    enum vmdk_access access;
    enum vmdk_ext_type type;
    const char *type_name;      /* as the descriptor spells it (static) */
    uint64_t sectors;
    char *filename;             /* UTF-8; NULL for ZERO */
    uint64_t offset;            /* sectors into the file (FLAT) */
    unsigned line;
};

struct vmdk_desc {
    unsigned version;
    bool has_cid;
    uint32_t cid;
    bool has_parent_cid;
    uint32_t parent_cid;
    char *create_type;
    char *parent_hint;
    char *encoding;
    char *adapter_type;
    char *hw_version;
    char *tools_version;
    char *long_content_id;
    char *uuid;
    bool thin;
    struct vmdk_desc_extent *extents;
    size_t nextents;
};

#define VMDK_CID_NONE 0xFFFFFFFFu

/* Parse the descriptor TEXT (LEN bytes, need not be NUL-terminated)
 * read from PATH into D (zeroed by the caller).  Returns 0, or -1 with
 * an error naming PATH and the line.  D is freed by vmdk_desc_free even
 * after a failure.
 */
int vmdk_desc_parse(struct vmc_handle *h, const char *path,
                    const char *text, size_t len, struct vmdk_desc *d);
void vmdk_desc_free(struct vmdk_desc *d);

/* What a new descriptor says. */
struct vmdk_desc_params {
    const char *create_type;
    uint32_t cid;
    uint64_t sectors;           /* capacity */
    const char *extent_type;    /* "SPARSE", "FLAT" */
    const char *extent_file;
    const char *adapter_type;
    const char *hw_version;
    const char *tools_version;  /* NULL: not written */
    const uint8_t *ids;         /* 28 bytes for ddb.uuid and
                                   ddb.longContentID; NULL: random */
};

/* Build the text of a new descriptor (malloc'd; the caller frees it),
 * or NULL with an error set on H.
 */
char *vmdk_desc_build(struct vmc_handle *h, const char *path,
                      const struct vmdk_desc_params *p);

/* True if the first LEN bytes of BUF look like a text descriptor. */
bool vmdk_desc_probe(const uint8_t *buf, size_t len, uint64_t file_size);

/* ---- Sparse extents ----------------------------------------------- */

enum vmdk_sparse_kind {
    VMDK_SPARSE_HOSTED,         /* "KDMV", incl. streamOptimized */
    VMDK_SPARSE_COWD,           /* ESXi vmfsSparse redo log */
    VMDK_SPARSE_SE,             /* ESXi seSparse */
};

struct vmdk_gt_slot;

struct vmdk_sparse {
    enum vmdk_sparse_kind kind;
    const char *path;           /* borrowed from the extent */
    struct vmc_file *file;      /* borrowed; named PATH */
    uint64_t file_size;
    uint32_t version;
    uint32_t flags;
    uint64_t capacity;          /* sectors */
    uint64_t grain;             /* sectors */
    uint64_t gt_entries;        /* entries per grain table */
    uint64_t gd_entries;
    uint64_t gd_offset;         /* sectors */
    uint64_t rgd_offset;        /* sectors, 0 if none */
    uint64_t overhead;          /* sectors */
    uint64_t desc_offset;       /* sectors */
    uint64_t desc_size;         /* sectors */
    bool compressed;
    bool markers;
    bool zeroed_grain;
    bool footer;                /* header came from the stream footer */
    bool unclean;
    unsigned entry_size;        /* 4, or 8 for seSparse */
    uint64_t gt_sectors;        /* sectors of one grain table */
    /* seSparse areas (sectors). */
    uint64_t se_gt_offset;
    uint64_t se_gt_size;
    uint64_t se_grains_offset;
    uint64_t se_grains_size;
    void *gd;                   /* the whole grain directory, as stored */
    pthread_mutex_t lock;       /* protects cache */
    struct vmdk_gt_slot *cache;
};

/* Open the sparse extent in FILE (PATH, FILE_SIZE bytes): check its
 * header and load its grain directory.  If DESC is not NULL and the
 * extent embeds a descriptor, *DESC receives its malloc'd,
 * NUL-terminated text (else NULL).  Returns NULL with an error set.
 */
struct vmdk_sparse *vmdk_sparse_open(struct vmc_handle *h, const char *path,
                                     struct vmc_file *file,
                                     uint64_t file_size, char **desc);
void vmdk_sparse_free(struct vmdk_sparse *s);

/* The kind of sparse extent a file's first bytes show, or -1. */
int vmdk_sparse_magic(const uint8_t *buf, size_t len);

enum vmdk_map_kind {
    VMDK_MAP_UNALLOC,           /* not in this layer */
    VMDK_MAP_ZERO,              /* zero grain */
    VMDK_MAP_DATA,              /* uncompressed, at file_offset */
    VMDK_MAP_COMPRESSED,        /* the grain (marker) at file_offset */
};

struct vmdk_map {
    enum vmdk_map_kind kind;
    uint64_t file_offset;       /* bytes; see above */
    uint64_t length;            /* bytes from the requested offset */
};

/* Describe the extent's bytes from OFFSET (< capacity) for at most
 * LENGTH bytes.  With CONTIGUOUS, a DATA run only covers grains that
 * follow each other in the file (one read); without it, any data.
 * COMPRESSED runs cover one grain with CONTIGUOUS.  Returns 0 or -1.
 */
int vmdk_sparse_map(struct vmc_handle *h, struct vmdk_sparse *s,
                    uint64_t offset, uint64_t length, bool contiguous,
                    struct vmdk_map *m);

/* Buffers and decompressors for reading compressed grains, kept
 * across the grains of one read call (set up once per call, not per
 * grain).  libdeflate inflates a whole grain in one call; zlib is the
 * fallback that handles the odd cases and words the errors.  Start
 * zeroed; vmdk_grain_reader_free releases it.
 */
struct vmdk_grain_reader {
    uint8_t *cbuf;               /* marker + compressed data */
    size_t cbuf_len;
    size_t guess;                /* bytes to read first: last grain's size */
    struct libdeflate_decompressor *ld;
    bool z_ready;
    z_stream z;
};

void vmdk_grain_reader_free(struct vmdk_grain_reader *gr);

/* Read the compressed grain whose marker/data is at FILE_OFFSET and
 * that starts at extent byte GRAIN_START, into BUF (grain bytes).
 * Bytes after the decompressed length are zeroed.  Returns 0 or -1.
 */
int vmdk_sparse_read_grain(struct vmc_handle *h, struct vmdk_sparse *s,
                           struct vmdk_grain_reader *gr,
                           uint64_t grain_start, uint64_t file_offset,
                           uint8_t *buf);

/* Check the layer's structure (vmdk-check.c). */
void vmdk_sparse_check(struct vmc_handle *h, struct vmdk_sparse *s,
                       struct vmc_check_result *r);

/* ---- The image ---------------------------------------------------- */

struct vmdk_extent {
    enum vmdk_ext_type type;
    const char *type_name;
    char *filename;             /* as the descriptor names it */
    char *path;                 /* opened */
    struct vmc_file *file;      /* NULL for ZERO */
    bool own_file;              /* false when it is img->file */
    uint64_t file_size;
    uint64_t start;             /* virtual byte offset */
    uint64_t length;            /* bytes */
    uint64_t flat_offset;       /* bytes (FLAT) */
    struct vmdk_sparse *sparse;
};

struct vmdk_writer;

struct vmdk {
    bool has_desc;
    bool desc_embedded;
    struct vmdk_desc desc;
    struct vmdk_extent *extents;
    size_t nextents;
    struct vmdk_writer *w;      /* while creating */
};

/* Writers (vmdk-write.c). */
extern const struct vmc_opt_desc vmdk_create_opts[];
int vmdk_create(struct vmc_image *img, const struct vmc_opts *opts);
/* The ops of a streamOptimized image being written (vmdk.c). */
extern const struct vmc_format_ops vmdk_format_stream;
int vmdk_pwrite(struct vmc_image *img, const void *buf, size_t count,
                uint64_t offset);
int vmdk_reserve(struct vmc_image *img, const void *buf, size_t count,
                 uint64_t offset);
int vmdk_encode(struct vmc_image *img, const void *buf, size_t count,
                uint64_t offset, void **chunk);
int vmdk_write_encoded(struct vmc_image *img, void *chunk);
void vmdk_free_encoded(void *chunk);
int vmdk_flush(struct vmc_image *img);
void vmdk_writer_free(struct vmdk_writer *w);

/* Check (vmdk-check.c). */
int vmdk_check(struct vmc_image *img, struct vmc_check_result *r);

#endif /* VMCONV_VMDK_INTERNAL_H */
