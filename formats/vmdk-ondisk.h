/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VMDK on-disk structures, little-endian as stored.  See
 * shared/specs/vmdk.md.  Offsets in sparse headers count 512-byte
 * sectors.
 */
#ifndef VMCONV_VMDK_ONDISK_H
#define VMCONV_VMDK_ONDISK_H

#include <stdint.h>

#define VMDK_SECTOR 512u

/* ---- Hosted sparse extent ("KDMV") -------------------------------- */

#define VMDK4_MAGIC 0x564D444Bu          /* "KDMV" read as LE u32 */
#define VMDK4_GD_AT_END 0xFFFFFFFFFFFFFFFFull

#define VMDK4_FLAG_NL_DETECT   0x00000001u
#define VMDK4_FLAG_RGD         0x00000002u
#define VMDK4_FLAG_ZERO_GRAIN  0x00000004u
#define VMDK4_FLAG_COMPRESS    0x00010000u
#define VMDK4_FLAG_MARKER      0x00020000u
#define VMDK4_FLAGS_INCOMPAT   0xFFFF0000u
#define VMDK4_FLAGS_KNOWN_INCOMPAT (VMDK4_FLAG_COMPRESS | VMDK4_FLAG_MARKER)

#define VMDK4_COMPRESS_NONE    0
#define VMDK4_COMPRESS_DEFLATE 1

/* The grain table entry meaning "this grain reads as zeros" when
 * VMDK4_FLAG_ZERO_GRAIN is set.
 */
#define VMDK4_GTE_ZEROED 1u

struct vmdk4_header_disk {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint64_t capacity;              /* sectors */
    uint64_t grain_size;            /* sectors */
    uint64_t desc_offset;           /* sectors */
    uint64_t desc_size;             /* sectors */
    uint32_t num_gtes_per_gt;
    uint64_t rgd_offset;            /* sectors */
    uint64_t gd_offset;             /* sectors, or VMDK4_GD_AT_END */
    uint64_t overhead;              /* sectors */
    uint8_t unclean_shutdown;
    uint8_t nl_single;              /* '\n' */
    uint8_t nl_non;                 /* ' ' */
    uint8_t nl_double1;             /* '\r' */
    uint8_t nl_double2;             /* '\n' */
    uint16_t compress_algorithm;
    uint8_t pad[433];
} __attribute__((packed));
_Static_assert(sizeof(struct vmdk4_header_disk) == 512, "VMDK layout");

/* streamOptimized: a grain marker precedes each compressed grain. */
struct vmdk_grain_marker_disk {
    uint64_t lba;                   /* virtual sector of the grain */
    uint32_t size;                  /* compressed bytes that follow */
} __attribute__((packed));
_Static_assert(sizeof(struct vmdk_grain_marker_disk) == 12, "VMDK layout");

/* streamOptimized: metadata markers (one sector). */
struct vmdk_meta_marker_disk {
    uint64_t num_sectors;           /* of the metadata that follows */
    uint32_t size;                  /* 0 for a metadata marker */
    uint32_t type;
    uint8_t pad[496];
} __attribute__((packed));
_Static_assert(sizeof(struct vmdk_meta_marker_disk) == 512, "VMDK layout");

#define VMDK_MARKER_EOS    0
#define VMDK_MARKER_GT     1
#define VMDK_MARKER_GD     2
#define VMDK_MARKER_FOOTER 3

/* ---- ESXi vmfsSparse redo log ("COWD") ---------------------------- */

#define VMDK_COWD_MAGIC 0x44574F43u      /* "COWD" read as LE u32 */
#define VMDK_COWD_GT_ENTRIES 4096u

struct vmdk_cowd_header_disk {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t num_sectors;
    uint32_t grain_size;            /* sectors */
    uint32_t gd_offset;             /* sectors */
    uint32_t num_gd_entries;
    uint32_t free_sector;
    uint8_t u[1028];                /* root geometry or parent name + gen */
    uint32_t generation;
    uint8_t name[60];
    uint8_t description[512];
    uint32_t saved_generation;
    uint8_t reserved[8];
    uint32_t unclean_shutdown;
    uint8_t padding[396];
} __attribute__((packed));
_Static_assert(sizeof(struct vmdk_cowd_header_disk) == 2048, "VMDK layout");

/* ---- ESXi space-efficient sparse (seSparse) ----------------------- */

#define VMDK_SE_MAGIC           0x00000000CAFEBABEull
#define VMDK_SE_VERSION         0x0000000200000001ull
#define VMDK_SE_VOLATILE_MAGIC  0x00000000CAFECAFEull
#define VMDK_SE_GRAIN_SIZE      8ull     /* sectors */
#define VMDK_SE_GT_SIZE         64ull    /* sectors: 4096 u64 entries */
#define VMDK_SE_GDE_TYPE_MASK   0xFFFFFFFF00000000ull
#define VMDK_SE_GDE_ALLOCATED   0x1000000000000000ull

struct vmdk_se_const_header_disk {
    uint64_t magic;
    uint64_t version;
    uint64_t capacity;
    uint64_t grain_size;
    uint64_t grain_table_size;
    uint64_t flags;
    uint64_t reserved1;
    uint64_t reserved2;
    uint64_t reserved3;
    uint64_t reserved4;
    uint64_t volatile_header_offset;
    uint64_t volatile_header_size;
    uint64_t journal_header_offset;
    uint64_t journal_header_size;
    uint64_t journal_offset;
    uint64_t journal_size;
    uint64_t grain_dir_offset;
    uint64_t grain_dir_size;
    uint64_t grain_tables_offset;
    uint64_t grain_tables_size;
    uint64_t free_bitmap_offset;
    uint64_t free_bitmap_size;
    uint64_t backmap_offset;
    uint64_t backmap_size;
    uint64_t grains_offset;
    uint64_t grains_size;
    uint8_t pad[304];
} __attribute__((packed));
_Static_assert(sizeof(struct vmdk_se_const_header_disk) == 512,
               "VMDK layout");

struct vmdk_se_volatile_header_disk {
    uint64_t magic;
    uint64_t free_gt_number;
    uint64_t next_txn_seq_number;
    uint64_t replay_journal;
    uint8_t pad[480];
} __attribute__((packed));
_Static_assert(sizeof(struct vmdk_se_volatile_header_disk) == 512,
               "VMDK layout");

#endif /* VMCONV_VMDK_ONDISK_H */
