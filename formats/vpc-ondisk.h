/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHD ("vpc") on-disk structures, big-endian as stored.  See
 * ../shared/specs/vhd.md (Microsoft "Virtual Hard Disk Image Format
 * Specification" v1.0).
 */
#ifndef VMCONV_VPC_ONDISK_H
#define VMCONV_VPC_ONDISK_H

#include <stdint.h>

#define VPC_SECTOR 512u

#define VPC_FOOTER_COOKIE "conectix"
#define VPC_HEADER_COOKIE "cxsparse"
#define VPC_COOKIE_LEN 8

#define VPC_FOOTER_SIZE 512u
#define VPC_HEADER_SIZE 1024u

/* Disk types (footer field "disk type"). */
#define VPC_TYPE_FIXED 2u
#define VPC_TYPE_DYNAMIC 3u
#define VPC_TYPE_DIFF 4u

/* Footer "features": bit 1 is reserved and always set. */
#define VPC_FEATURE_TEMPORARY 0x1u
#define VPC_FEATURE_RESERVED 0x2u

#define VPC_VERSION 0x00010000u         /* footer and header version */
#define VPC_FIXED_DATA_OFFSET UINT64_MAX /* footer data offset of fixed */
#define VPC_BAT_UNUSED 0xFFFFFFFFu      /* BAT entry of an absent block */

/* Four-character codes, as the big-endian u32 they are stored as. */
#define VPC_FOURCC(a, b, c, d)                                          \
    (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) |                  \
     ((uint32_t) (c) << 8) | (uint32_t) (d))
#define VPC_OS_WINDOWS VPC_FOURCC('W', 'i', '2', 'k')

/* Parent locator platform codes. */
#define VPC_PLAT_NONE 0u
#define VPC_PLAT_WI2R VPC_FOURCC('W', 'i', '2', 'r') /* deprecated */
#define VPC_PLAT_WI2K VPC_FOURCC('W', 'i', '2', 'k') /* deprecated */
#define VPC_PLAT_W2RU VPC_FOURCC('W', '2', 'r', 'u') /* relative, UTF-16LE */
#define VPC_PLAT_W2KU VPC_FOURCC('W', '2', 'k', 'u') /* absolute, UTF-16LE */
#define VPC_PLAT_MAC VPC_FOURCC('M', 'a', 'c', ' ')  /* Mac OS alias blob */
#define VPC_PLAT_MACX VPC_FOURCC('M', 'a', 'c', 'X') /* file URL, UTF-8 */

#define VPC_MAX_LOCATORS 8
#define VPC_PARENT_NAME_BYTES 512

/* The largest disk a VHD holds: 2040 GiB (0xFF000000 sectors). */
#define VPC_MAX_SECTORS 0xFF000000ull
#define VPC_MAX_SIZE (VPC_MAX_SECTORS * VPC_SECTOR)

/* The largest CHS geometry; a footer with it means "use CurrentSize". */
#define VPC_CHS_MAX_C 65535u
#define VPC_CHS_MAX_H 16u
#define VPC_CHS_MAX_S 255u

/* Hard disk footer: at the end of every VHD, and copied at offset 0
 * of dynamic and differencing ones.
 */
struct vpc_footer_disk {
    char     cookie[8];                 /* "conectix" */
    uint32_t features;
    uint32_t version;
    uint64_t data_offset;
    uint32_t timestamp;                 /* seconds since 2000-01-01 UTC */
    uint8_t  creator_app[4];
    uint32_t creator_version;
    uint32_t creator_os;
    uint64_t original_size;
    uint64_t current_size;
    uint16_t cylinders;
    uint8_t  heads;
    uint8_t  sectors;
    uint32_t disk_type;
    uint32_t checksum;
    uint8_t  uuid[16];
    uint8_t  saved_state;
    uint8_t  reserved[427];
} __attribute__((packed));
_Static_assert(sizeof(struct vpc_footer_disk) == VPC_FOOTER_SIZE,
               "VHD footer layout");

/* Parent locator entry of the dynamic disk header. */
struct vpc_locator_disk {
    uint32_t platform_code;
    uint32_t data_space;                /* sectors, or bytes (some writers) */
    uint32_t data_length;               /* bytes */
    uint32_t reserved;
    uint64_t data_offset;               /* absolute file offset */
} __attribute__((packed));
_Static_assert(sizeof(struct vpc_locator_disk) == 24, "VHD locator layout");

/* Dynamic disk header, at the footer's data offset. */
struct vpc_header_disk {
    char     cookie[8];                 /* "cxsparse" */
    uint64_t data_offset;               /* unused: all ones */
    uint64_t table_offset;              /* BAT */
    uint32_t version;
    uint32_t max_table_entries;
    uint32_t block_size;
    uint32_t checksum;
    uint8_t  parent_uuid[16];
    uint32_t parent_timestamp;
    uint32_t reserved1;
    uint8_t  parent_name[VPC_PARENT_NAME_BYTES]; /* UTF-16BE */
    struct vpc_locator_disk locators[VPC_MAX_LOCATORS];
    uint8_t  reserved2[256];
} __attribute__((packed));
_Static_assert(sizeof(struct vpc_header_disk) == VPC_HEADER_SIZE,
               "VHD dynamic header layout");

#endif /* VMCONV_VPC_ONDISK_H */
