/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHDX on-disk structures, little-endian as stored ([MS-VHDX] v1.0).
 * The driver decodes each into host order with the vhdx_decode_*
 * helpers and never touches these packed structs otherwise.
 */
#ifndef VMCONV_VHDX_ONDISK_H
#define VMCONV_VHDX_ONDISK_H

#include <stdint.h>

#define VHDX_MiB (1024u * 1024u)

/* The header section: five 64 KiB slots in the first 1 MiB. */
#define VHDX_HEADER_SECTION_SIZE VHDX_MiB
#define VHDX_FILE_ID_OFFSET 0
#define VHDX_HEADER1_OFFSET 0x10000
#define VHDX_HEADER2_OFFSET 0x20000
#define VHDX_REGION1_OFFSET 0x30000
#define VHDX_REGION2_OFFSET 0x40000

#define VHDX_HEADER_SIZE 4096          /* bytes covered by the CRC */
#define VHDX_REGION_TABLE_SIZE 65536
#define VHDX_METADATA_TABLE_SIZE 65536
#define VHDX_ALIGN VHDX_MiB            /* every object is 1 MiB aligned */
#define VHDX_LOG_SECTOR 4096

#define VHDX_FILE_SIG "vhdxfile"
#define VHDX_HEADER_SIG "head"
#define VHDX_REGION_SIG "regi"
#define VHDX_METADATA_SIG "metadata"
#define VHDX_LOG_ENTRY_SIG "loge"
#define VHDX_LOG_ZERO_SIG "zero"
#define VHDX_LOG_DESC_SIG "desc"
#define VHDX_LOG_DATA_SIG "data"

/* File type identifier at offset 0. */
struct vhdx_file_id_disk {
    char signature[8];                 /* "vhdxfile" */
    uint16_t creator[256];             /* UTF-16LE, optional */
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_file_id_disk) == 520, "VHDX layout");

/* One of the two headers (4 KiB, CRC-32C over all of it). */
struct vhdx_header_disk {
    char signature[4];                 /* "head" */
    uint32_t checksum;
    uint64_t sequence_number;
    uint8_t file_write_guid[16];
    uint8_t data_write_guid[16];
    uint8_t log_guid[16];
    uint16_t log_version;              /* 0 */
    uint16_t version;                  /* 1 */
    uint32_t log_length;
    uint64_t log_offset;
    uint8_t reserved[4016];
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_header_disk) == 4096, "VHDX layout");

/* Region table header (64 KiB table, CRC-32C over all of it). */
struct vhdx_region_header_disk {
    char signature[4];                 /* "regi" */
    uint32_t checksum;
    uint32_t entry_count;              /* <= VHDX_MAX_REGIONS */
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_region_header_disk) == 16, "VHDX layout");

struct vhdx_region_entry_disk {
    uint8_t guid[16];
    uint64_t file_offset;
    uint32_t length;
    uint32_t required;                 /* bit 0 */
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_region_entry_disk) == 32, "VHDX layout");

#define VHDX_MAX_REGIONS 2047

/* Metadata table header at the start of the metadata region. */
struct vhdx_metadata_header_disk {
    char signature[8];                 /* "metadata" */
    uint16_t reserved;
    uint16_t entry_count;              /* <= VHDX_MAX_METADATA_ENTRIES */
    uint8_t reserved2[20];
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_metadata_header_disk) == 32, "VHDX layout");

struct vhdx_metadata_entry_disk {
    uint8_t item_id[16];
    uint32_t offset;                   /* from the region start, >= 64 KiB */
    uint32_t length;                   /* <= 1 MiB */
    uint32_t flags;                    /* VHDX_META_IS_* */
    uint32_t reserved2;
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_metadata_entry_disk) == 32, "VHDX layout");

#define VHDX_MAX_METADATA_ENTRIES 2047
#define VHDX_MAX_USER_METADATA 1024
#define VHDX_MAX_METADATA_ITEM VHDX_MiB
#define VHDX_META_IS_USER 0x1u
#define VHDX_META_IS_VIRTUAL_DISK 0x2u
#define VHDX_META_IS_REQUIRED 0x4u

/* File parameters item. */
struct vhdx_file_params_disk {
    uint32_t block_size;
    uint32_t flags;                    /* VHDX_PARAMS_* */
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_file_params_disk) == 8, "VHDX layout");

#define VHDX_PARAMS_LEAVE_BLOCKS_ALLOCATED 0x1u
#define VHDX_PARAMS_HAS_PARENT 0x2u

/* Parent locator item: header, then key/value entries. */
struct vhdx_locator_header_disk {
    uint8_t locator_type[16];
    uint16_t reserved;
    uint16_t key_value_count;
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_locator_header_disk) == 20, "VHDX layout");

struct vhdx_locator_entry_disk {
    uint32_t key_offset;               /* from the start of the item */
    uint32_t value_offset;
    uint16_t key_length;               /* bytes of UTF-16LE */
    uint16_t value_length;
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_locator_entry_disk) == 12, "VHDX layout");

/* BAT entry: bits 0-2 state, 20-63 FileOffsetMB. */
#define VHDX_BAT_STATE_MASK 0x7ull
#define VHDX_BAT_RESERVED_MASK 0xffff8ull
#define VHDX_BAT_OFFSET_SHIFT 20

/* Payload block states. */
#define VHDX_PAYLOAD_NOT_PRESENT 0
#define VHDX_PAYLOAD_UNDEFINED 1
#define VHDX_PAYLOAD_ZERO 2
#define VHDX_PAYLOAD_UNMAPPED 3
#define VHDX_PAYLOAD_UNMAPPED_V095 5   /* 0.95 draft; qemu reads it as zero */
#define VHDX_PAYLOAD_FULLY_PRESENT 6
#define VHDX_PAYLOAD_PARTIALLY_PRESENT 7

/* Sector bitmap block states. */
#define VHDX_SB_NOT_PRESENT 0
#define VHDX_SB_PRESENT 6

#define VHDX_SB_BLOCK_SIZE VHDX_MiB
#define VHDX_SECTORS_PER_CHUNK (1ull << 23)

#define VHDX_MIN_BLOCK_SIZE VHDX_MiB
#define VHDX_MAX_BLOCK_SIZE (256u * VHDX_MiB)
#define VHDX_MAX_VIRTUAL_SIZE (64ull << 40)     /* 64 TiB */

/* Log entry header (the first 64 bytes of an entry's first sector). */
struct vhdx_log_entry_disk {
    char signature[4];                 /* "loge" */
    uint32_t checksum;                 /* over the whole entry */
    uint32_t entry_length;
    uint32_t tail;
    uint64_t sequence_number;
    uint32_t descriptor_count;
    uint32_t reserved;
    uint8_t log_guid[16];
    uint64_t flushed_file_offset;
    uint64_t last_file_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_log_entry_disk) == 64, "VHDX layout");

/* Zero and data descriptors (32 bytes each). */
struct vhdx_log_descriptor_disk {
    char signature[4];                 /* "zero" or "desc" */
    uint32_t trailing_bytes;           /* desc: bytes 4092..4095; zero: 0 */
    uint64_t leading_or_length;        /* desc: bytes 0..7; zero: length */
    uint64_t file_offset;
    uint64_t sequence_number;
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_log_descriptor_disk) == 32, "VHDX layout");

/* Data sector (4 KiB). */
struct vhdx_log_data_disk {
    char signature[4];                 /* "data" */
    uint32_t sequence_high;
    uint8_t data[4084];                /* bytes 8..4091 of the sector */
    uint32_t sequence_low;
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_log_data_disk) == 4096, "VHDX layout");

#define VHDX_LOG_DESCRIPTORS_PER_SECTOR 128

/* GUIDs in on-disk (Microsoft mixed-endian) byte order. */
#define VHDX_GUID_BAT_REGION                                            \
    { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,                  \
      0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 }
#define VHDX_GUID_METADATA_REGION                                       \
    { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,                  \
      0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e }
#define VHDX_GUID_FILE_PARAMETERS                                       \
    { 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,                  \
      0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b }
#define VHDX_GUID_VIRTUAL_DISK_SIZE                                     \
    { 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,                  \
      0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 }
#define VHDX_GUID_VIRTUAL_DISK_ID                                       \
    { 0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45,                  \
      0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46 }
#define VHDX_GUID_LOGICAL_SECTOR_SIZE                                   \
    { 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,                  \
      0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f }
#define VHDX_GUID_PHYSICAL_SECTOR_SIZE                                  \
    { 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44,                  \
      0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56 }
#define VHDX_GUID_PARENT_LOCATOR                                        \
    { 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,                  \
      0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c }
#define VHDX_GUID_PARENT_TYPE_VHDX                                      \
    { 0xb7, 0xef, 0x4a, 0xb0, 0x9e, 0xd1, 0x81, 0x4a,                  \
      0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13 }

#endif /* VMCONV_VHDX_ONDISK_H */
