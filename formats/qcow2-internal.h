/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 driver: state shared by qcow2.c (open, read), qcow2-write.c
 * (create, write, flush), qcow2-check.c and qcow2-compress.c.
 */
#ifndef VMCONV_QCOW2_INTERNAL_H
#define VMCONV_QCOW2_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "qcow2-ondisk.h"

struct qcow2_writer;

/* Most L2 tables the read cache keeps, and most bytes it may use. */
#define QCOW2_L2_CACHE_TABLES 32
#define QCOW2_L2_CACHE_BYTES (32u * 1024 * 1024)

/* The header, decoded and validated. */
struct qcow2_header {
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible;
    uint64_t compatible;
    uint64_t autoclear;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
};

struct qcow2_l2_slot {
    uint64_t offset;             /* host offset of the table, 0 = empty */
    uint64_t last_use;
    uint8_t *data;               /* one cluster, as stored */
};

/* Where the bitmaps extension says the bitmap directory is. */
struct qcow2_bitmaps {
    bool present;
    uint32_t nb_bitmaps;
    uint64_t directory_size;
    uint64_t directory_offset;
};

/* Reader state (an image opened with qcow2_open). */
struct qcow2 {
    struct qcow2_header hdr;
    uint64_t cluster_size;
    uint32_t l2_entries;         /* entries per L2 table */
    unsigned l2_entry_size;      /* 8, or 16 with extended L2 */
    bool extended_l2;
    uint64_t subcluster_size;
    unsigned csize_shift;        /* compressed descriptor layout */
    uint64_t csize_mask;
    uint64_t coffset_mask;
    uint32_t l1_needed;          /* L1 entries the virtual size uses */
    uint64_t *l1;                /* l1_needed entries, host order */
    char *backing_name;          /* as stored, or NULL */
    char *backing_fmt;           /* backing format extension, or NULL */
    char *data_file_name;        /* external data file, as stored */
    struct vmc_file *data;       /* where data clusters are: the external
                                    data file, else img->file */
    uint64_t data_size;          /* of DATA when opened */
    bool external;               /* DATA is an external data file */
    bool data_raw;               /* ... and a raw image of the disk by
                                    itself (autoclear data-file-raw) */
    struct qcow2_bitmaps bitmaps;
    unsigned cache_slots;
    pthread_mutex_t cache_lock;
    uint64_t cache_clock;
    struct qcow2_l2_slot cache[QCOW2_L2_CACHE_TABLES];
    struct qcow2_writer *writer; /* set only for an image being created */
};

/* qcow2.c */
extern const struct vmc_format_ops qcow2_format_compressed;
struct qcow2 *qcow2_new(struct vmc_image *img);
void qcow2_free(struct qcow2 *q);

/* qcow2-write.c */
extern const struct vmc_opt_desc qcow2_create_opts[];
int qcow2_create(struct vmc_image *img, const struct vmc_opts *opts);
int qcow2_pwrite(struct vmc_image *img, const void *buf, size_t count,
                 uint64_t offset);
int qcow2_reserve(struct vmc_image *img, const void *buf, size_t count,
                  uint64_t offset);
int qcow2_encode(struct vmc_image *img, const void *buf, size_t count,
                 uint64_t offset, void **chunk);
int qcow2_write_encoded(struct vmc_image *img, void *chunk);
void qcow2_free_encoded(void *chunk);
int qcow2_flush(struct vmc_image *img);
void qcow2_writer_free(struct qcow2_writer *w);

/* qcow2-check.c */
int qcow2_check(struct vmc_image *img, struct vmc_check_result *r);

/* qcow2-compress.c */

/* A decompressor for one thread, made lazily by qcow2_decompress. */
struct qcow2_dec;
void qcow2_dec_free(struct qcow2_dec *d);
/* Decompress IN (LEN bytes, from PATH at host offset HOST) into
 * exactly OUT_LEN bytes of OUT with compression TYPE.  *DP is created
 * on first use; the caller frees it with qcow2_dec_free.  Returns 0, or
 * -1 with an error naming PATH and HOST.
 */
int qcow2_decompress(struct vmc_handle *h, const char *path, uint64_t host,
                     int type, struct qcow2_dec **dp, const void *in,
                     size_t len, void *out, size_t out_len);

/* A compressor for one thread. */
struct qcow2_enc;
struct qcow2_enc *qcow2_enc_new(struct vmc_handle *h, const char *path,
                                int type);
void qcow2_enc_free(struct qcow2_enc *e);
/* Compress IN (LEN bytes) into OUT (room for OUT_MAX bytes).  Returns
 * the compressed length, 0 if it does not fit in OUT_MAX, or -1 with
 * an error set.
 */
ssize_t qcow2_compress(struct vmc_handle *h, const char *path,
                       struct qcow2_enc *e, const void *in, size_t len,
                       void *out, size_t out_max);

#endif /* VMCONV_QCOW2_INTERNAL_H */
