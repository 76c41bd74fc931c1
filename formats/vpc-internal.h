/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHD ("vpc") driver internals shared by formats/vpc*.c. */
#ifndef VMCONV_VPC_INTERNAL_H
#define VMCONV_VPC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "repro.h"
#include "vpc-ondisk.h"

/* Limits on what a file may ask of us. */
#define VPC_MIN_BLOCK_SIZE VPC_SECTOR
#define VPC_MAX_LOCATOR_LEN 65536u       /* 32K UTF-16 units: a Windows path */
#define VPC_MAX_NAME_LEN 4096u           /* UTF-8 bytes of a parent name */

/* Writer block sizes (the reader takes any power of two >= 512). */
#define VPC_DEFAULT_BLOCK_SIZE (2u * 1024 * 1024)
#define VPC_MIN_CREATE_BLOCK_SIZE 4096u
#define VPC_MAX_CREATE_BLOCK_SIZE (256u * 1024 * 1024)

/* Azure wants fixed VHDs whose virtual size is a multiple of 1 MiB. */
#define VPC_AZURE_ALIGN (1024u * 1024)

/* The footer in host order. */
struct vpc_footer {
    uint32_t features;
    uint32_t version;
    uint64_t data_offset;
    uint32_t timestamp;
    uint8_t creator_app[4];
    uint32_t creator_version;
    uint32_t creator_os;
    uint64_t original_size;
    uint64_t current_size;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
    uint32_t disk_type;
    uint32_t checksum;
    uint8_t uuid[16];
    uint8_t saved_state;
};

struct vpc_locator {
    uint32_t code;
    uint32_t space;
    uint32_t length;
    uint64_t offset;
};

/* The dynamic disk header in host order. */
struct vpc_header {
    uint64_t data_offset;
    uint64_t table_offset;
    uint32_t version;
    uint32_t max_table_entries;
    uint32_t block_size;
    uint32_t checksum;
    uint8_t parent_uuid[16];
    uint32_t parent_timestamp;
    uint8_t parent_name[VPC_PARENT_NAME_BYTES];
    struct vpc_locator loc[VPC_MAX_LOCATORS];
};

struct vpc {
    struct vpc_footer footer;
    uint64_t footer_offset;      /* where we read it */
    bool dynamic;                /* dynamic or differencing: has a BAT */
    bool use_chs;                /* virtual size from the CHS geometry */
    uint64_t chs_size;           /* C x H x S x 512 */

    /* Dynamic and differencing. */
    struct vpc_header header;
    uint32_t block_size;
    uint32_t bitmap_size;        /* bytes, a multiple of 512 */
    uint32_t nblocks;            /* blocks covering the virtual size */
    uint32_t *bat;               /* max_table_entries, host order */
    uint8_t *bad;                /* bit per entry: points outside the file */
    uint64_t nbad;
    char *parent_name;           /* as found (UTF-8), NULL if none */

    /* Writer. */
    pthread_mutex_t lock;        /* protects bat and next_free when writing */
    bool lock_init;
    uint64_t next_free;          /* where the next block goes */
    uint32_t bat_bytes;          /* BAT region size, a multiple of 512 */
    struct vmc_repro repro;      /* SOURCE_DATE_EPOCH */
};

/* vpc.c */
uint32_t vpc_checksum(const void *buf, size_t len, size_t skip_off);
void vpc_decode_footer(const struct vpc_footer_disk *d, struct vpc_footer *f);
void vpc_encode_footer(const struct vpc_footer *f, struct vpc_footer_disk *d);
void vpc_geometry(uint64_t sectors, uint16_t *cyl, uint8_t *heads,
                  uint8_t *spt);
bool vpc_bat_bad(const struct vpc *v, uint32_t i);
uint32_t vpc_bitmap_bytes(uint32_t block_size);

/* vpc-parent.c: open the parent of a differencing disk. */
int vpc_open_parent(struct vmc_image *img);

/* vpc-write.c */
extern const struct vmc_opt_desc vpc_create_opts[];
int vpc_create(struct vmc_image *img, const struct vmc_opts *opts);
int vpc_reserve(struct vmc_image *img, const void *buf, size_t count,
                uint64_t offset);
int vpc_pwrite(struct vmc_image *img, const void *buf, size_t count,
               uint64_t offset);
int vpc_flush(struct vmc_image *img);
uint32_t vpc_bat_get(struct vmc_image *img, uint32_t i);

/* vpc-check.c */
int vpc_info(struct vmc_image *img, struct json_object *o);
int vpc_check(struct vmc_image *img, struct vmc_check_result *r);

#endif /* VMCONV_VPC_INTERNAL_H */
