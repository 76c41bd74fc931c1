/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vhdx driver's private state, shared by vhdx.c (headers, regions,
 * metadata, BAT, reads), vhdx-log.c (log replay in memory),
 * vhdx-parent.c (parent locator and chain) and vhdx-create.c (writer).
 */
#ifndef VMCONV_VHDX_INTERNAL_H
#define VMCONV_VHDX_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "repro.h"
#include "vhdx-ondisk.h"

/* The largest log vmconv replays in memory (the log is read whole;
 * Hyper-V and qemu-img make 1 MiB logs), and the most descriptors it
 * applies (each costs about 100 bytes of overlay bookkeeping).
 */
#define VHDX_MAX_LOG_LENGTH (64ull * VHDX_MiB)
#define VHDX_MAX_LOG_DESCRIPTORS (256u * 1024)
/* Most key/value pairs we accept in a parent locator. */
#define VHDX_MAX_LOCATOR_ENTRIES 256

/* In-memory BAT entries keep the on-disk value, with the reserved bits
 * cleared and replaced by our own marks: an entry found invalid at open
 * is readable by check but refused by reads.
 */
#define VHDX_BAT_BAD 0x8ull
#define VHDX_BAT_WHY_SHIFT 4
#define VHDX_BAT_WHY_MASK (0xfull << VHDX_BAT_WHY_SHIFT)
enum vhdx_bat_why {
    VHDX_WHY_NONE,
    VHDX_WHY_STATE,            /* a state not allowed in this file type */
    VHDX_WHY_OUTSIDE,          /* block outside the file */
    VHDX_WHY_OVERLAP,          /* block overlaps another object */
    VHDX_WHY_NO_BITMAP,        /* PARTIALLY_PRESENT, bitmap not present */
};

/* One extent of the log overlay: [start, end) of the file reads DATA
 * (or zeros if DATA is NULL) instead of the file's bytes.
 */
struct vhdx_extent {
    uint64_t start;
    uint64_t end;
    const uint8_t *data;
};

struct vhdx_kv {
    char *key;                  /* UTF-8 */
    char *value;
};

/* Where an open image's header or region table copy was found bad:
 * kept as text for check and info.
 */
#define VHDX_NOTE_MAX 4

struct vhdx {
    /* The file as the log makes it: reads below FILE_END consult the
     * overlay first, then the file (zeros past its real end).
     */
    uint64_t file_end;
    struct vhdx_extent *overlay;
    size_t noverlay;
    uint8_t *overlay_data;
    bool log_replayed;
    uint64_t log_entries;       /* entries replayed */

    /* Current header. */
    int header_index;           /* 1 or 2 */
    uint64_t sequence;
    uint8_t file_write_guid[16];
    uint8_t data_write_guid[16];
    uint8_t log_guid[16];
    uint32_t log_length;
    uint64_t log_offset;
    char creator[256 * 3 + 1];  /* UTF-8 */

    /* Notes for check ("header 1 ... is bad: ..."). */
    char *notes[VHDX_NOTE_MAX];
    size_t nnotes;

    /* Regions. */
    uint64_t bat_offset;
    uint64_t bat_length;
    uint64_t meta_offset;
    uint64_t meta_length;

    /* Metadata. */
    uint32_t block_size;
    bool leave_allocated;
    bool has_parent;
    uint64_t disk_size;
    uint8_t disk_id[16];
    uint32_t logical_sector;
    uint32_t physical_sector;
    struct vhdx_kv *locator;
    size_t nlocator;

    /* Derived, and the BAT. */
    uint64_t chunk_ratio;
    uint64_t data_blocks;
    uint64_t bitmap_blocks;
    uint64_t bat_entries;
    uint64_t *bat;
    uint64_t bad_entries;       /* entries marked VHDX_BAT_BAD */
    uint64_t reserved_bits;     /* entries with reserved bits set */

    /* Writer (vhdx-create.c). */
    bool fixed;
    pthread_mutex_t lock;       /* protects next_alloc and bat */
    uint64_t payload_offset;
    uint64_t next_alloc;
    bool zero_state;            /* unwritten blocks are ZERO, not NOT_PRESENT */
    struct vmc_repro repro;     /* creating: SOURCE_DATE_EPOCH */
};

/* vhdx.c */
void vhdx_free(struct vhdx *v);
void vhdx_add_note(struct vhdx *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vhdx_guid_to_string(const uint8_t *g, char *out /* [39] */);
uint64_t vhdx_compute_bat_entries(uint64_t data_blocks, uint64_t chunk_ratio,
                                  bool differencing);

/* vhdx-log.c */
/* Find the active log sequence of IMG (LogGuid non-zero) and build V's
 * overlay; sets v->file_end.  Returns 0 or -1 with an error set.
 */
int vhdx_log_replay(struct vmc_image *img, struct vhdx *v);
/* Read LEN bytes at OFF of the file as replayed.  Errors past
 * v->file_end.  Thread-safe.
 */
int vhdx_file_pread(struct vmc_image *img, struct vhdx *v, void *buf,
                    size_t len, uint64_t off);
/* Build a disjoint, sorted overlay from ITEMS (later items win); used
 * by vhdx_log_replay, exposed for the unit test.  On success V's
 * overlay and noverlay are set (the data pointers are the items').
 */
int vhdx_overlay_build(struct vmc_handle *h, const char *path,
                       struct vhdx *v, const struct vhdx_extent *items,
                       size_t nitems);

/* vhdx-parent.c */
/* Parse the parent locator ITEM (LEN bytes, at file offset WHERE)
 * into v->locator.
 */
int vhdx_parse_locator(struct vmc_image *img, struct vhdx *v,
                       const uint8_t *item, uint32_t len, uint64_t where);
/* Find, open and verify the parent of differencing image IMG. */
int vhdx_open_parent(struct vmc_image *img, struct vhdx *v);
const char *vhdx_locator_get(const struct vhdx *v, const char *key);
/* Decode LEN bytes of UTF-16LE at P into a new NUL-terminated UTF-8
 * string; NULL on bad input (unpaired surrogate, NUL) or no memory.
 */

/* vhdx-create.c */
extern const struct vmc_opt_desc vhdx_create_opts[];
int vhdx_create(struct vmc_image *img, const struct vmc_opts *opts);
int vhdx_reserve(struct vmc_image *img, const void *buf, size_t count,
                 uint64_t offset);
int vhdx_pwrite(struct vmc_image *img, const void *buf, size_t count,
                uint64_t offset);
int vhdx_flush(struct vmc_image *img);

#endif /* VMCONV_VHDX_INTERNAL_H */
