/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 on-disk layout (big-endian) and the limits vmconv applies.
 * See ../shared/specs/qcow2.md and qemu docs/interop/qcow2.rst.
 */
#ifndef VMCONV_QCOW2_ONDISK_H
#define VMCONV_QCOW2_ONDISK_H

#include <stdint.h>

#define QCOW2_MAGIC 0x514649fbu      /* "QFI\xfb" */

/* The header, as stored.  Version 2 ends at incompatible_features
 * (72 bytes); version 3 has at least everything up to header_length
 * (104 bytes) and qemu writes the compression type too (112 bytes).
 */
struct qcow2_header_disk {
    uint32_t magic;
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
    /* version 3 */
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    /* header_length > 104 */
    uint8_t compression_type;
    uint8_t padding[7];
} __attribute__((packed));
_Static_assert(sizeof(struct qcow2_header_disk) == 112, "qcow2 header layout");

#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_MIN_HEADER_LEN 104
#define QCOW2_V3_HEADER_LEN 112      /* what qemu and vmconv write */

/* Feature bits. */
#define QCOW2_INCOMPAT_DIRTY        (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT      (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE    (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION  (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2        (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN        0x1full
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS     (1ull << 0)
#define QCOW2_AUTOCLEAR_DATA_RAW    (1ull << 1)

#define QCOW2_COMPRESSION_DEFLATE 0
#define QCOW2_COMPRESSION_ZSTD    1

/* Header extensions: u32 type, u32 length, data padded to 8. */
#define QCOW2_EXT_END           0x00000000u
#define QCOW2_EXT_BACKING_FMT   0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS       0x23852875u
#define QCOW2_EXT_CRYPTO        0x0537be77u
#define QCOW2_EXT_DATA_FILE     0x44415441u

/* One feature name table entry. */
struct qcow2_feature_disk {
    uint8_t type;                    /* 0 incompatible, 1 compatible,
                                        2 autoclear */
    uint8_t bit;
    char name[46];
} __attribute__((packed));
_Static_assert(sizeof(struct qcow2_feature_disk) == 48, "qcow2 feature");

/* The bitmaps extension (autoclear bit 0). */
struct qcow2_bitmaps_ext_disk {
    uint32_t nb_bitmaps;
    uint32_t reserved;
    uint64_t directory_size;
    uint64_t directory_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct qcow2_bitmaps_ext_disk) == 24, "qcow2 bitmaps");

/* A bitmap directory entry (followed by extra data, then the name,
 * padded to 8).
 */
struct qcow2_bitmap_dir_disk {
    uint64_t table_offset;
    uint32_t table_size;
    uint32_t flags;
    uint8_t type;
    uint8_t granularity_bits;
    uint16_t name_size;
    uint32_t extra_data_size;
} __attribute__((packed));
_Static_assert(sizeof(struct qcow2_bitmap_dir_disk) == 24, "qcow2 bitmap dir");

/* A snapshot table entry (followed by extra data, the id string and
 * the name, padded to 8).
 */
struct qcow2_snapshot_disk {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    uint16_t id_str_size;
    uint16_t name_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint32_t vm_state_size;
    uint32_t extra_data_size;
} __attribute__((packed));
_Static_assert(sizeof(struct qcow2_snapshot_disk) == 40, "qcow2 snapshot");

/* L1 entries. */
#define QCOW2_L1_OFFSET_MASK   0x00fffffffffffe00ull
#define QCOW2_L1_RESERVED_MASK 0x7f000000000001ffull
#define QCOW2_OFLAG_COPIED     (1ull << 63)

/* L2 entries. */
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       (1ull << 0)
#define QCOW2_L2_OFFSET_MASK   0x00fffffffffffe00ull
#define QCOW2_L2_RESERVED_MASK 0x3f000000000001feull
#define QCOW2_SUBCLUSTERS      32

/* Refcount table entries. */
#define QCOW2_REFT_OFFSET_MASK   0xfffffffffffffe00ull
#define QCOW2_REFT_RESERVED_MASK 0x00000000000001ffull

/* Bitmap table entries. */
#define QCOW2_BME_OFFSET_MASK   0x00fffffffffffe00ull

/* Limits: qemu's (block/qcow2.h), which vmconv also applies, so any
 * image qemu accepts we accept and nothing makes us allocate much.
 */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MIN_EXTL2_CLUSTER_BITS 14
#define QCOW2_MAX_L1_BYTES (32u * 1024 * 1024)
#define QCOW2_MAX_L1_ENTRIES (QCOW2_MAX_L1_BYTES / 8)
#define QCOW2_MAX_REFTABLE_BYTES (8u * 1024 * 1024)
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOT_TABLE_BYTES (64u * 1024 * 1024)
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_BACKING_FMT 31
#define QCOW2_MAX_DATA_FILE_NAME 4095
#define QCOW2_MAX_REFCOUNT_ORDER 6
#define QCOW2_MAX_BITMAPS 65535
#define QCOW2_MAX_BITMAP_DIR_BYTES (64u * 1024 * 1024)

#endif /* VMCONV_QCOW2_ONDISK_H */
