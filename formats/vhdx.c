/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vhdx: Hyper-V virtual hard disk v2 ([MS-VHDX] v1.0).
 *
 * Reads fixed, dynamic and differencing (.avhdx) images, replaying a
 * dirty metadata log in memory (vhdx-log.c) so the source is never
 * written, and following parent locators (vhdx-parent.c).  Writes
 * dynamic and fixed images (vhdx-create.c).
 *
 * Everything in the file is hostile until checked: both headers and
 * region table copies are validated and the best one used, metadata
 * items are bounded, the BAT size is computed in 64-bit arithmetic and
 * checked against its region before allocating, and every BAT entry is
 * checked at open.  An entry found invalid is marked: reads touching it
 * fail with a message saying why, and check lists them all.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vhdx-internal.h"

static const uint8_t vhdx_guid_bat[16] = VHDX_GUID_BAT_REGION;
static const uint8_t vhdx_guid_metadata[16] = VHDX_GUID_METADATA_REGION;
static const uint8_t vhdx_guid_file_params[16] = VHDX_GUID_FILE_PARAMETERS;
static const uint8_t vhdx_guid_disk_size[16] = VHDX_GUID_VIRTUAL_DISK_SIZE;
static const uint8_t vhdx_guid_disk_id[16] = VHDX_GUID_VIRTUAL_DISK_ID;
static const uint8_t vhdx_guid_lss[16] = VHDX_GUID_LOGICAL_SECTOR_SIZE;
static const uint8_t vhdx_guid_pss[16] = VHDX_GUID_PHYSICAL_SECTOR_SIZE;
static const uint8_t vhdx_guid_locator[16] = VHDX_GUID_PARENT_LOCATOR;

/* ---- Small helpers ------------------------------------------------ */

void
vhdx_guid_to_string(const uint8_t *g, char *out)
{
    snprintf(out, 39, "{%08" PRIX32 "-%04X-%04X-%02X%02X-"
             "%02X%02X%02X%02X%02X%02X}",
             vmc_le32(g), vmc_le16(g + 4), vmc_le16(g + 6), g[8], g[9],
             g[10], g[11], g[12], g[13], g[14], g[15]);
}

static bool
vhdx_guid_is_zero(const uint8_t *g)
{
    return vmc_is_zero(g, 16);
}

void
vhdx_add_note(struct vhdx *v, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (v->nnotes >= VHDX_NOTE_MAX)
        return;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) != -1)
        v->notes[v->nnotes++] = s;
    va_end(ap);
}

void
vhdx_free(struct vhdx *v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->nnotes; i++)
        free(v->notes[i]);
    for (i = 0; i < v->nlocator; i++) {
        free(v->locator[i].key);
        free(v->locator[i].value);
    }
    free(v->locator);
    free(v->overlay);
    free(v->overlay_data);
    free(v->bat);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

uint64_t
vhdx_compute_bat_entries(uint64_t data_blocks, uint64_t chunk_ratio,
                         bool differencing)
{
    uint64_t bitmap_blocks = vmc_div_round_up(data_blocks, chunk_ratio);

    if (differencing)
        return bitmap_blocks * (chunk_ratio + 1);
    return data_blocks + (data_blocks - 1) / chunk_ratio;
}

static inline uint64_t
vhdx_entry_offset(uint64_t e)
{
    return (e >> VHDX_BAT_OFFSET_SHIFT) << VHDX_BAT_OFFSET_SHIFT;
}

static inline uint64_t
vhdx_payload_index(const struct vhdx *v, uint64_t block)
{
    return block + block / v->chunk_ratio;
}

static inline uint64_t
vhdx_bitmap_index(const struct vhdx *v, uint64_t chunk)
{
    return (chunk + 1) * v->chunk_ratio + chunk;
}

static int
vhdx_probe(const struct vmc_probe *p)
{
    if (p->head_len >= 8 && memcmp(p->head, VHDX_FILE_SIG, 8) == 0)
        return 100;
    return 0;
}

/* ---- Headers ------------------------------------------------------ */

struct vhdx_hdr {
    uint64_t sequence;
    uint8_t file_write_guid[16];
    uint8_t data_write_guid[16];
    uint8_t log_guid[16];
    uint16_t log_version;
    uint16_t version;
    uint32_t log_length;
    uint64_t log_offset;
};

/* Decode and validate one header copy in BUF (4 KiB).  Returns 0, or
 * -1 with the reason in WHY.
 */
static int
vhdx_decode_header(const uint8_t *buf, struct vhdx_hdr *hd, char *why,
                   size_t whylen)
{
    const struct vhdx_header_disk *d = (const void *) buf;
    uint8_t copy[VHDX_HEADER_SIZE];
    uint32_t crc;

    if (memcmp(d->signature, VHDX_HEADER_SIG, 4) != 0) {
        snprintf(why, whylen, "no 'head' signature");
        return -1;
    }
    memcpy(copy, buf, sizeof copy);
    memset(copy + 4, 0, 4);
    crc = vmc_crc32c(0, copy, sizeof copy);
    if (crc != vmc_le32(&d->checksum)) {
        snprintf(why, whylen, "checksum 0x%08" PRIx32 " does not match "
                 "the contents (0x%08" PRIx32 ")", vmc_le32(&d->checksum),
                 crc);
        return -1;
    }
    hd->sequence = vmc_le64(&d->sequence_number);
    memcpy(hd->file_write_guid, d->file_write_guid, 16);
    memcpy(hd->data_write_guid, d->data_write_guid, 16);
    memcpy(hd->log_guid, d->log_guid, 16);
    hd->log_version = vmc_le16(&d->log_version);
    hd->version = vmc_le16(&d->version);
    hd->log_length = vmc_le32(&d->log_length);
    hd->log_offset = vmc_le64(&d->log_offset);
    if (hd->version != 1) {
        snprintf(why, whylen, "version %u is not 1", hd->version);
        return -1;
    }
    return 0;
}

/* Read both headers and pick the current one into V. */
static int
vhdx_read_headers(struct vmc_image *img, struct vhdx *v)
{
    struct vmc_handle *h = img->h;
    uint8_t buf[2][VHDX_HEADER_SIZE];
    struct vhdx_hdr hd[2];
    char why[2][160];
    int ok[2];
    const struct vhdx_hdr *cur;
    int i, pick;

    for (i = 0; i < 2; i++) {
        uint64_t off = i == 0 ? VHDX_HEADER1_OFFSET : VHDX_HEADER2_OFFSET;

        if (vmc_file_pread_full(img->file, buf[i], VHDX_HEADER_SIZE,
                                off) == -1)
            return -1;
        ok[i] = vhdx_decode_header(buf[i], &hd[i], why[i],
                                   sizeof why[i]) == 0;
    }
    if (!ok[0] && !ok[1]) {
        vmc_error(h, "%s: header 1 at offset %u: %s; header 2 at offset "
                  "%u: %s: no valid header", img->path, VHDX_HEADER1_OFFSET,
                  why[0], VHDX_HEADER2_OFFSET, why[1]);
        return -1;
    }
    if (ok[0] && ok[1]) {
        if (hd[0].sequence == hd[1].sequence &&
            memcmp(buf[0], buf[1], VHDX_HEADER_SIZE) != 0) {
            /* [MS-VHDX] calls this ambiguous; accepting byte-identical
             * copies (Disk2VHD writes them) is what qemu does too.
             */
            vmc_error(h, "%s: headers 1 and 2 have the same sequence number "
                      "%" PRIu64 " but different contents: cannot tell "
                      "which is current", img->path, hd[0].sequence);
            return -1;
        }
        pick = hd[1].sequence > hd[0].sequence ? 1 : 0;
    } else {
        pick = ok[0] ? 0 : 1;
        vhdx_add_note(v, "header %d at offset %u is bad (%s); using "
                      "header %d", 2 - pick,
                      pick ? VHDX_HEADER1_OFFSET : VHDX_HEADER2_OFFSET,
                      why[1 - pick], pick + 1);
    }
    cur = &hd[pick];
    v->header_index = pick + 1;
    v->sequence = cur->sequence;
    memcpy(v->file_write_guid, cur->file_write_guid, 16);
    memcpy(v->data_write_guid, cur->data_write_guid, 16);
    memcpy(v->log_guid, cur->log_guid, 16);
    v->log_length = cur->log_length;
    v->log_offset = cur->log_offset;

    if (!vhdx_guid_is_zero(cur->log_guid) && cur->log_version != 0) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: header %d: log version %u is not supported "
                       "(only 0) and the log is not empty", img->path,
                       v->header_index, cur->log_version);
        return -1;
    }
    if (v->log_length % VHDX_ALIGN != 0 || v->log_offset % VHDX_ALIGN != 0) {
        vmc_error(h, "%s: header %d: log at offset %" PRIu64 " length %"
                  PRIu32 " is not 1 MiB aligned", img->path,
                  v->header_index, v->log_offset, v->log_length);
        return -1;
    }
    if (v->log_length > 0) {
        if (v->log_offset < VHDX_HEADER_SECTION_SIZE) {
            vmc_error(h, "%s: header %d: log offset %" PRIu64 " is inside "
                      "the header section", img->path, v->header_index,
                      v->log_offset);
            return -1;
        }
        if (vmc_check_range(h, img->path, img->file_size, v->log_offset,
                            v->log_length, "log") == -1)
            return -1;
    } else if (!vhdx_guid_is_zero(v->log_guid)) {
        vmc_error(h, "%s: header %d: the log is not empty but its length "
                  "is 0", img->path, v->header_index);
        return -1;
    }
    return 0;
}

/* ---- Region table ------------------------------------------------- */

struct vhdx_regions {
    uint64_t bat_offset;
    uint64_t bat_length;
    uint64_t meta_offset;
    uint64_t meta_length;
};

/* True if [A, A+ALEN) and [B, B+BLEN) overlap (ends saturate, so a
 * hostile offset near 2^64 cannot wrap).
 */
static bool
vhdx_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    uint64_t aend, bend;

    if (vmc_add_overflow(a, alen, &aend))
        aend = UINT64_MAX;
    if (vmc_add_overflow(b, blen, &bend))
        bend = UINT64_MAX;
    return a < bend && b < aend;
}

/* Decode and validate the region table copy in BUF (64 KiB).  Returns
 * 0, or -1 with the reason in WHY.
 */
static int
vhdx_decode_regions(const struct vhdx *v, const uint8_t *buf,
                    struct vhdx_regions *r, char *why, size_t whylen)
{
    const struct vhdx_region_header_disk *hd = (const void *) buf;
    CLEANUP_FREE uint8_t *copy = NULL;
    uint64_t off[VHDX_MAX_REGIONS], len[VHDX_MAX_REGIONS];
    uint32_t n, i, j, crc;
    bool have_bat = false, have_meta = false;

    if (memcmp(hd->signature, VHDX_REGION_SIG, 4) != 0) {
        snprintf(why, whylen, "no 'regi' signature");
        return -1;
    }
    copy = malloc(VHDX_REGION_TABLE_SIZE);
    if (copy == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    memcpy(copy, buf, VHDX_REGION_TABLE_SIZE);
    memset(copy + 4, 0, 4);
    crc = vmc_crc32c(0, copy, VHDX_REGION_TABLE_SIZE);
    if (crc != vmc_le32(&hd->checksum)) {
        snprintf(why, whylen, "checksum 0x%08" PRIx32 " does not match the "
                 "contents (0x%08" PRIx32 ")", vmc_le32(&hd->checksum), crc);
        return -1;
    }
    n = vmc_le32(&hd->entry_count);
    if (n > VHDX_MAX_REGIONS) {
        snprintf(why, whylen, "entry count %" PRIu32 " is more than %d", n,
                 VHDX_MAX_REGIONS);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const struct vhdx_region_entry_disk *e =
            (const void *) (buf + sizeof *hd + i * sizeof *e);
        bool is_bat = memcmp(e->guid, vhdx_guid_bat, 16) == 0;
        bool is_meta = memcmp(e->guid, vhdx_guid_metadata, 16) == 0;
        char g[39];

        vhdx_guid_to_string(e->guid, g);
        off[i] = vmc_le64(&e->file_offset);
        len[i] = vmc_le32(&e->length);
        if (!is_bat && !is_meta) {
            if (vmc_le32(&e->required) & 1) {
                snprintf(why, whylen, "entry %" PRIu32 ": unknown region %s "
                         "is marked required", i, g);
                return -1;
            }
            continue;
        }
        if ((is_bat && have_bat) || (is_meta && have_meta)) {
            snprintf(why, whylen, "entry %" PRIu32 ": region %s appears "
                     "twice", i, g);
            return -1;
        }
        if (off[i] % VHDX_ALIGN != 0 || len[i] % VHDX_ALIGN != 0 ||
            len[i] == 0) {
            snprintf(why, whylen, "entry %" PRIu32 " (%s): offset %" PRIu64
                     " length %" PRIu64 " is not a non-empty 1 MiB aligned "
                     "range", i, is_bat ? "BAT" : "metadata", off[i], len[i]);
            return -1;
        }
        if (off[i] < VHDX_HEADER_SECTION_SIZE ||
            off[i] > v->file_end || len[i] > v->file_end - off[i]) {
            snprintf(why, whylen, "entry %" PRIu32 " (%s): offset %" PRIu64
                     " length %" PRIu64 " is outside the file (%" PRIu64
                     " bytes) or inside the header section", i,
                     is_bat ? "BAT" : "metadata", off[i], len[i],
                     v->file_end);
            return -1;
        }
        if (v->log_length > 0 &&
            vhdx_ranges_overlap(off[i], len[i], v->log_offset,
                                v->log_length)) {
            snprintf(why, whylen, "entry %" PRIu32 " (%s): offset %" PRIu64
                     " length %" PRIu64 " overlaps the log", i,
                     is_bat ? "BAT" : "metadata", off[i], len[i]);
            return -1;
        }
        if (is_bat) {
            have_bat = true;
            r->bat_offset = off[i];
            r->bat_length = len[i];
        } else {
            have_meta = true;
            r->meta_offset = off[i];
            r->meta_length = len[i];
        }
    }
    /* Known regions must not overlap anything else in the table; the
     * table holds at most 2047 entries, so pairs are cheap enough.
     */
    for (i = 0; i < n; i++) {
        const uint8_t *gi = buf + sizeof *hd + i * 32;

        for (j = i + 1; j < n; j++) {
            const uint8_t *gj = buf + sizeof *hd + j * 32;

            if (memcmp(gi, gj, 16) == 0) {
                snprintf(why, whylen, "entries %" PRIu32 " and %" PRIu32
                         " have the same GUID", i, j);
                return -1;
            }
            if (len[i] && len[j] &&
                vhdx_ranges_overlap(off[i], len[i], off[j], len[j])) {
                snprintf(why, whylen, "entries %" PRIu32 " and %" PRIu32
                         " overlap", i, j);
                return -1;
            }
        }
    }
    if (!have_bat || !have_meta) {
        snprintf(why, whylen, "no %s region", have_bat ? "metadata" : "BAT");
        return -1;
    }
    return 0;
}

static int
vhdx_read_regions(struct vmc_image *img, struct vhdx *v)
{
    CLEANUP_FREE uint8_t *buf = NULL;
    struct vhdx_regions r[2];
    char why[2][200];
    int i;

    buf = vmc_malloc(img->h, img->path, VHDX_REGION_TABLE_SIZE,
                     "region table");
    if (buf == NULL)
        return -1;
    for (i = 0; i < 2; i++) {
        uint64_t off = i == 0 ? VHDX_REGION1_OFFSET : VHDX_REGION2_OFFSET;

        if (vhdx_file_pread(img, v, buf, VHDX_REGION_TABLE_SIZE, off) == -1)
            return -1;
        if (vhdx_decode_regions(v, buf, &r[i], why[i], sizeof why[i]) == 0)
            break;
    }
    if (i == 2) {
        vmc_error(img->h, "%s: region table 1 at offset %u: %s; region "
                  "table 2 at offset %u: %s: no valid region table",
                  img->path, VHDX_REGION1_OFFSET, why[0],
                  VHDX_REGION2_OFFSET, why[1]);
        return -1;
    }
    if (i == 1) {
        vhdx_add_note(v, "region table 1 at offset %u is bad (%s); using "
                      "region table 2", VHDX_REGION1_OFFSET, why[0]);
    } else {
        /* Copy 1 is good: say so if copy 2 is not, for check. */
        if (vhdx_file_pread(img, v, buf, VHDX_REGION_TABLE_SIZE,
                            VHDX_REGION2_OFFSET) == -1)
            return -1;
        if (vhdx_decode_regions(v, buf, &r[1], why[1], sizeof why[1]) == -1)
            vhdx_add_note(v, "region table 2 at offset %u is bad (%s); "
                          "region table 1 is used", VHDX_REGION2_OFFSET,
                          why[1]);
    }
    v->bat_offset = r[i].bat_offset;
    v->bat_length = r[i].bat_length;
    v->meta_offset = r[i].meta_offset;
    v->meta_length = r[i].meta_length;
    return 0;
}

/* ---- Metadata ----------------------------------------------------- */

struct vhdx_meta_item {
    uint8_t id[16];
    uint32_t offset;
    uint32_t length;
    uint32_t flags;
};

static int
vhdx_meta_cmp_offset(const void *a, const void *b)
{
    const struct vhdx_meta_item *x = a, *y = b;

    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Read the first LEN bytes of metadata item IT (range-checked) into
 * BUF; the item must hold at least LEN bytes.
 */
static int
vhdx_read_item(struct vmc_image *img, struct vhdx *v,
               const struct vhdx_meta_item *it, void *buf, uint32_t len,
               const char *what)
{
    if (it->length < len) {
        vmc_error(img->h, "%s: metadata item %s at offset %" PRIu64
                  ": length %" PRIu32 " is less than %" PRIu32, img->path,
                  what, v->meta_offset + it->offset, it->length, len);
        return -1;
    }
    return vhdx_file_pread(img, v, buf, len, v->meta_offset + it->offset);
}

/* Validate the metadata table entries in TABLE into ITEMS/N. */
static int
vhdx_decode_metadata_table(struct vmc_image *img, struct vhdx *v,
                           const uint8_t *table,
                           struct vhdx_meta_item *items, size_t *nitems)
{
    struct vmc_handle *h = img->h;
    const struct vhdx_metadata_header_disk *hd = (const void *) table;
    CLEANUP_FREE struct vhdx_meta_item *sorted = NULL;
    uint32_t n, i, j, nuser = 0;
    size_t m = 0;

    if (memcmp(hd->signature, VHDX_METADATA_SIG, 8) != 0) {
        vmc_error(h, "%s: metadata table at offset %" PRIu64 ": no "
                  "'metadata' signature", img->path, v->meta_offset);
        return -1;
    }
    n = vmc_le16(&hd->entry_count);
    if (n > VHDX_MAX_METADATA_ENTRIES) {
        vmc_error(h, "%s: metadata table at offset %" PRIu64 ": entry count "
                  "%" PRIu32 " is more than %d", img->path, v->meta_offset,
                  n, VHDX_MAX_METADATA_ENTRIES);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const struct vhdx_metadata_entry_disk *e =
            (const void *) (table + sizeof *hd + i * sizeof *e);
        struct vhdx_meta_item *it = &items[i];
        uint64_t where = v->meta_offset + sizeof *hd + i * sizeof *e;

        memcpy(it->id, e->item_id, 16);
        it->offset = vmc_le32(&e->offset);
        it->length = vmc_le32(&e->length);
        it->flags = vmc_le32(&e->flags);
        if (it->flags & VHDX_META_IS_USER)
            nuser++;
        if (it->length == 0) {
            if (it->offset != 0) {
                vmc_error(h, "%s: metadata entry %" PRIu32 " at offset %"
                          PRIu64 ": empty item with offset %" PRIu32,
                          img->path, i, where, it->offset);
                return -1;
            }
            continue;
        }
        if (it->offset < VHDX_METADATA_TABLE_SIZE ||
            it->length > VHDX_MAX_METADATA_ITEM ||
            (uint64_t) it->offset + it->length > v->meta_length) {
            vmc_error(h, "%s: metadata entry %" PRIu32 " at offset %" PRIu64
                      ": item at %" PRIu32 " length %" PRIu32 " is not "
                      "inside the metadata region (%" PRIu64 " bytes, items "
                      "from 64 KiB, at most 1 MiB each)", img->path, i,
                      where, it->offset, it->length, v->meta_length);
            return -1;
        }
        for (j = 0; j < i; j++)
            if (memcmp(items[j].id, it->id, 16) == 0 &&
                ((items[j].flags ^ it->flags) & VHDX_META_IS_USER) == 0) {
                vmc_error(h, "%s: metadata entry %" PRIu32 " at offset %"
                          PRIu64 ": duplicate of entry %" PRIu32, img->path,
                          i, where, j);
                return -1;
            }
    }
    if (nuser > VHDX_MAX_USER_METADATA) {
        vmc_error(h, "%s: metadata table at offset %" PRIu64 ": %" PRIu32
                  " user items, more than %d", img->path, v->meta_offset,
                  nuser, VHDX_MAX_USER_METADATA);
        return -1;
    }
    /* Items must not overlap: sort the non-empty ones by offset. */
    sorted = vmc_calloc(h, img->path, n ? n : 1, sizeof *sorted,
                        "metadata table");
    if (sorted == NULL)
        return -1;
    for (i = 0; i < n; i++)
        if (items[i].length)
            sorted[m++] = items[i];
    qsort(sorted, m, sizeof *sorted, vhdx_meta_cmp_offset);
    for (i = 1; i < m; i++)
        if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].length) {
            vmc_error(h, "%s: metadata region at offset %" PRIu64 ": items "
                      "at %" PRIu32 " and %" PRIu32 " overlap", img->path,
                      v->meta_offset, sorted[i - 1].offset, sorted[i].offset);
            return -1;
        }
    *nitems = n;
    return 0;
}

/* The metadata items we know, in the order vhdx_read_values uses. */
enum {
    VHDX_ITEM_PARAMS, VHDX_ITEM_SIZE, VHDX_ITEM_ID, VHDX_ITEM_LSS,
    VHDX_ITEM_PSS, VHDX_ITEM_LOCATOR, VHDX_NITEMS
};
static const struct {
    const uint8_t *id;
    const char *name;
} vhdx_known_items[VHDX_NITEMS] = {
    { vhdx_guid_file_params, "file parameters" },
    { vhdx_guid_disk_size, "virtual disk size" },
    { vhdx_guid_disk_id, "virtual disk id" },
    { vhdx_guid_lss, "logical sector size" },
    { vhdx_guid_pss, "physical sector size" },
    { vhdx_guid_locator, "parent locator" },
};

/* Sort the N entries of ITEMS into FOUND (the known system items);
 * refuse unknown required items and missing required ones.
 */
static int
vhdx_find_items(struct vmc_image *img, struct vhdx *v,
                const struct vhdx_meta_item *items, size_t n,
                const struct vhdx_meta_item **found)
{
    size_t i, k;
    char g[39];

    for (i = 0; i < n; i++) {
        bool is_known = false;

        for (k = 0; k < VHDX_NITEMS; k++)
            if (memcmp(items[i].id, vhdx_known_items[k].id, 16) == 0 &&
                !(items[i].flags & VHDX_META_IS_USER)) {
                found[k] = &items[i];
                is_known = true;
            }
        if (!is_known && (items[i].flags & VHDX_META_IS_REQUIRED)) {
            vhdx_guid_to_string(items[i].id, g);
            vmc_error(img->h, "%s: metadata entry %zu: unknown %s item %s is "
                      "marked required; vmconv cannot read this image",
                      img->path, i,
                      items[i].flags & VHDX_META_IS_USER ? "user" : "system",
                      g);
            return -1;
        }
    }
    for (k = 0; k < VHDX_ITEM_LOCATOR; k++)
        if (found[k] == NULL || found[k]->length == 0) {
            vmc_error(img->h, "%s: metadata table at offset %" PRIu64
                      ": the required %s item is missing", img->path,
                      v->meta_offset, vhdx_known_items[k].name);
            return -1;
        }
    return 0;
}

/* Read the values of the known items FOUND into V. */
static int
vhdx_read_values(struct vmc_image *img, struct vhdx *v,
                 const struct vhdx_meta_item **found)
{
    const struct vhdx_meta_item *loc = found[VHDX_ITEM_LOCATOR];
    CLEANUP_FREE uint8_t *p = NULL;
    uint8_t b[8];

#define ITEM(k, buf, len) \
    vhdx_read_item(img, v, found[k], buf, len, vhdx_known_items[k].name)
    if (ITEM(VHDX_ITEM_PARAMS, b, 8) == -1)
        return -1;
    v->block_size = vmc_le32(b);
    v->leave_allocated =
        (vmc_le32(b + 4) & VHDX_PARAMS_LEAVE_BLOCKS_ALLOCATED) != 0;
    v->has_parent = (vmc_le32(b + 4) & VHDX_PARAMS_HAS_PARENT) != 0;
    if (ITEM(VHDX_ITEM_SIZE, b, 8) == -1)
        return -1;
    v->disk_size = vmc_le64(b);
    if (ITEM(VHDX_ITEM_ID, v->disk_id, 16) == -1 ||
        ITEM(VHDX_ITEM_LSS, b, 4) == -1)
        return -1;
    v->logical_sector = vmc_le32(b);
    if (ITEM(VHDX_ITEM_PSS, b, 4) == -1)
        return -1;
    v->physical_sector = vmc_le32(b);
    if (!v->has_parent)
        return 0;
    if (loc == NULL || loc->length == 0) {
        vmc_error(img->h, "%s: differencing image (HasParent set) without "
                  "a parent locator item", img->path);
        return -1;
    }
    if (loc->length < sizeof(struct vhdx_locator_header_disk)) {
        vmc_error(img->h, "%s: metadata item parent locator at offset %"
                  PRIu64 ": %" PRIu32 " bytes is too short", img->path,
                  v->meta_offset + loc->offset, loc->length);
        return -1;
    }
    p = vmc_malloc(img->h, img->path, loc->length, "parent locator");
    if (p == NULL || ITEM(VHDX_ITEM_LOCATOR, p, loc->length) == -1)
        return -1;
#undef ITEM
    return vhdx_parse_locator(img, v, p, loc->length,
                              v->meta_offset + loc->offset);
}

/* Read the metadata table and the items we know into V. */
static int
vhdx_read_metadata(struct vmc_image *img, struct vhdx *v)
{
    struct vmc_handle *h = img->h;
    const struct vhdx_meta_item *found[VHDX_NITEMS] = { NULL };
    CLEANUP_FREE uint8_t *table = NULL;
    CLEANUP_FREE struct vhdx_meta_item *items = NULL;
    size_t n;

    if (v->meta_length < VHDX_METADATA_TABLE_SIZE) {
        vmc_error(h, "%s: metadata region at offset %" PRIu64 " is too "
                  "small", img->path, v->meta_offset);
        return -1;
    }
    table = vmc_malloc(h, img->path, VHDX_METADATA_TABLE_SIZE,
                       "metadata table");
    items = vmc_calloc(h, img->path, VHDX_MAX_METADATA_ENTRIES,
                       sizeof *items, "metadata table");
    if (table == NULL || items == NULL)
        return -1;
    if (vhdx_file_pread(img, v, table, VHDX_METADATA_TABLE_SIZE,
                        v->meta_offset) == -1 ||
        vhdx_decode_metadata_table(img, v, table, items, &n) == -1 ||
        vhdx_find_items(img, v, items, n, found) == -1)
        return -1;
    return vhdx_read_values(img, v, found);
}

/* Check the metadata values and derive the BAT geometry. */
static int
vhdx_check_geometry(struct vmc_image *img, struct vhdx *v)
{
    struct vmc_handle *h = img->h;
    uint64_t where = v->meta_offset;

    if (!vmc_is_pow2(v->block_size) || v->block_size < VHDX_MIN_BLOCK_SIZE ||
        v->block_size > VHDX_MAX_BLOCK_SIZE) {
        vmc_error(h, "%s: metadata at offset %" PRIu64 ": block size %"
                  PRIu32 " is not a power of two between 1 MiB and 256 MiB",
                  img->path, where, v->block_size);
        return -1;
    }
    if (v->logical_sector != 512 && v->logical_sector != 4096) {
        vmc_error(h, "%s: metadata at offset %" PRIu64 ": logical sector "
                  "size %" PRIu32 " is not 512 or 4096", img->path, where,
                  v->logical_sector);
        return -1;
    }
    if (v->physical_sector != 512 && v->physical_sector != 4096) {
        vmc_error(h, "%s: metadata at offset %" PRIu64 ": physical sector "
                  "size %" PRIu32 " is not 512 or 4096", img->path, where,
                  v->physical_sector);
        return -1;
    }
    if (v->disk_size == 0 || v->disk_size > VHDX_MAX_VIRTUAL_SIZE ||
        v->disk_size % v->logical_sector != 0) {
        vmc_error(h, "%s: metadata at offset %" PRIu64 ": virtual disk size "
                  "%" PRIu64 " is not a non-zero multiple of the logical "
                  "sector size (%" PRIu32 ") of at most 64 TiB", img->path,
                  where, v->disk_size, v->logical_sector);
        return -1;
    }
    /* All below fits easily in 64 bits: size <= 2^46, block >= 2^20. */
    v->chunk_ratio = (VHDX_SECTORS_PER_CHUNK * v->logical_sector) /
        v->block_size;
    v->data_blocks = vmc_div_round_up(v->disk_size, v->block_size);
    v->bitmap_blocks = vmc_div_round_up(v->data_blocks, v->chunk_ratio);
    v->bat_entries = vhdx_compute_bat_entries(v->data_blocks, v->chunk_ratio,
                                              v->has_parent);
    if (v->bat_entries > v->bat_length / 8) {
        vmc_error(h, "%s: BAT region at offset %" PRIu64 " length %" PRIu64
                  " is too small for the %" PRIu64 " entries a disk of %"
                  PRIu64 " bytes with %" PRIu32 " byte blocks needs",
                  img->path, v->bat_offset, v->bat_length, v->bat_entries,
                  v->disk_size, v->block_size);
        return -1;
    }
    return 0;
}

/* ---- BAT ---------------------------------------------------------- */

struct vhdx_obj {
    uint64_t start;
    uint64_t end;
    int64_t entry;               /* BAT index, or a VHDX_OBJ_* */
};
#define VHDX_OBJ_HEADERS (-1)
#define VHDX_OBJ_LOG (-2)
#define VHDX_OBJ_BAT (-3)
#define VHDX_OBJ_METADATA (-4)

/* Describe object O into BUF for messages. */
static const char *
vhdx_obj_name(const struct vhdx_obj *o, char *buf, size_t len)
{
    switch (o->entry) {
    case VHDX_OBJ_HEADERS: return "the header section";
    case VHDX_OBJ_LOG: return "the log";
    case VHDX_OBJ_BAT: return "the BAT region";
    case VHDX_OBJ_METADATA: return "the metadata region";
    }
    snprintf(buf, len, "BAT entry %" PRId64, o->entry);
    return buf;
}

static int
vhdx_obj_cmp(const void *a, const void *b)
{
    const struct vhdx_obj *x = a, *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static void
vhdx_mark_bad(struct vhdx *v, uint64_t i, enum vhdx_bat_why why)
{
    if (v->bat[i] & VHDX_BAT_BAD)
        return;
    v->bat[i] |= VHDX_BAT_BAD | ((uint64_t) why << VHDX_BAT_WHY_SHIFT);
    v->bad_entries++;
}

static bool
vhdx_is_bitmap_entry(const struct vhdx *v, uint64_t i)
{
    return (i + 1) % (v->chunk_ratio + 1) == 0;
}

/* The block index of payload entry I, or UINT64_MAX for a bitmap entry
 * or an entry past the last block.
 */
static uint64_t
vhdx_entry_block(const struct vhdx *v, uint64_t i)
{
    uint64_t b;

    if (vhdx_is_bitmap_entry(v, i))
        return UINT64_MAX;
    b = i - i / (v->chunk_ratio + 1);
    return b < v->data_blocks ? b : UINT64_MAX;
}

/* Bytes of block B that the file must hold: a whole block, except
 * the last one which need only reach the end of the virtual disk
 * (qemu-img's fixed images end there, even mid-MiB).
 */
static uint64_t
vhdx_block_need(const struct vhdx *v, uint64_t b)
{
    uint64_t start = b * v->block_size;

    return v->disk_size - start < v->block_size
        ? v->disk_size - start : v->block_size;
}

/* Collect the file objects (header section, log, BAT and metadata
 * regions, present blocks and bitmaps) sorted by offset into *OUT.
 * Entries marked bad are left out, except those marked for overlapping
 * if WITH_OVERLAPS (check reports what they overlap).
 */
static int
vhdx_collect_objects(struct vmc_image *img, struct vhdx *v,
                     bool with_overlaps, struct vhdx_obj **out, size_t *nout)
{
    struct vhdx_obj *o;
    size_t n = 0;
    uint64_t i, count = 4;

    for (i = 0; i < v->bat_entries; i++) {
        uint64_t s = v->bat[i] & VHDX_BAT_STATE_MASK;

        if (s == VHDX_PAYLOAD_FULLY_PRESENT ||
            s == VHDX_PAYLOAD_PARTIALLY_PRESENT)
            count++;
    }
    o = vmc_calloc(img->h, img->path, count, sizeof *o, "BAT check");
    if (o == NULL)
        return -1;
    o[n++] = (struct vhdx_obj) { 0, VHDX_HEADER_SECTION_SIZE,
                                 VHDX_OBJ_HEADERS };
    if (v->log_length)
        o[n++] = (struct vhdx_obj) { v->log_offset,
                                     v->log_offset + v->log_length,
                                     VHDX_OBJ_LOG };
    o[n++] = (struct vhdx_obj) { v->bat_offset,
                                 v->bat_offset + v->bat_length,
                                 VHDX_OBJ_BAT };
    o[n++] = (struct vhdx_obj) { v->meta_offset,
                                 v->meta_offset + v->meta_length,
                                 VHDX_OBJ_METADATA };
    for (i = 0; i < v->bat_entries; i++) {
        uint64_t e = v->bat[i], s = e & VHDX_BAT_STATE_MASK, len;

        if ((e & VHDX_BAT_BAD) &&
            !(with_overlaps && ((e & VHDX_BAT_WHY_MASK) >> VHDX_BAT_WHY_SHIFT)
              == VHDX_WHY_OVERLAP))
            continue;
        if (vhdx_is_bitmap_entry(v, i)) {
            if (!v->has_parent || s != VHDX_SB_PRESENT)
                continue;
            len = VHDX_SB_BLOCK_SIZE;
        } else {
            if (s != VHDX_PAYLOAD_FULLY_PRESENT &&
                s != VHDX_PAYLOAD_PARTIALLY_PRESENT)
                continue;
            if (vhdx_entry_block(v, i) == UINT64_MAX)
                continue;
            len = v->block_size;
        }
        o[n++] = (struct vhdx_obj) { vhdx_entry_offset(e),
                                     vhdx_entry_offset(e) + len,
                                     (int64_t) i };
    }
    qsort(o, n, sizeof *o, vhdx_obj_cmp);
    *out = o;
    *nout = n;
    return 0;
}

/* Validate every BAT entry, marking the bad ones. */
static int
vhdx_validate_bat(struct vmc_image *img, struct vhdx *v)
{
    CLEANUP_FREE struct vhdx_obj *o = NULL;
    size_t n, k, owner;
    uint64_t i, max_end;

    for (i = 0; i < v->bat_entries; i++) {
        uint64_t e = v->bat[i], s = e & VHDX_BAT_STATE_MASK;
        uint64_t off = vhdx_entry_offset(e), need, b;

        if (vhdx_is_bitmap_entry(v, i)) {
            if (!v->has_parent)
                continue;       /* unused outside differencing images */
            if (s == VHDX_SB_NOT_PRESENT)
                continue;
            if (s != VHDX_SB_PRESENT) {
                vhdx_mark_bad(v, i, VHDX_WHY_STATE);
                continue;
            }
            need = VHDX_SB_BLOCK_SIZE;
        } else {
            b = vhdx_entry_block(v, i);
            if (b == UINT64_MAX)
                continue;
            switch (s) {
            case VHDX_PAYLOAD_NOT_PRESENT:
            case VHDX_PAYLOAD_UNDEFINED:
            case VHDX_PAYLOAD_ZERO:
            case VHDX_PAYLOAD_UNMAPPED:
            case VHDX_PAYLOAD_UNMAPPED_V095:
                continue;
            case VHDX_PAYLOAD_FULLY_PRESENT:
                break;
            case VHDX_PAYLOAD_PARTIALLY_PRESENT:
                if (v->has_parent)
                    break;
                /* fall through */
            default:
                vhdx_mark_bad(v, i, VHDX_WHY_STATE);
                continue;
            }
            need = vhdx_block_need(v, b);
        }
        if (off < VHDX_HEADER_SECTION_SIZE || off > v->file_end ||
            need > v->file_end - off)
            vhdx_mark_bad(v, i, VHDX_WHY_OUTSIDE);
    }

    /* PARTIALLY_PRESENT needs its chunk's sector bitmap. */
    if (v->has_parent)
        for (i = 0; i < v->bat_entries; i++) {
            uint64_t b = vhdx_entry_block(v, i), sb;

            if (b == UINT64_MAX ||
                (v->bat[i] & VHDX_BAT_STATE_MASK) !=
                VHDX_PAYLOAD_PARTIALLY_PRESENT)
                continue;
            sb = v->bat[vhdx_bitmap_index(v, b / v->chunk_ratio)];
            if ((sb & VHDX_BAT_STATE_MASK) != VHDX_SB_PRESENT ||
                (sb & VHDX_BAT_BAD))
                vhdx_mark_bad(v, i, VHDX_WHY_NO_BITMAP);
        }

    /* Nothing may overlap: sweep the sorted objects. */
    if (vhdx_collect_objects(img, v, false, &o, &n) == -1)
        return -1;
    owner = 0;
    max_end = 0;
    for (k = 0; k < n; k++) {
        if (k > 0 && o[k].start < max_end) {
            if (o[k].entry >= 0)
                vhdx_mark_bad(v, (uint64_t) o[k].entry, VHDX_WHY_OVERLAP);
            if (o[owner].entry >= 0)
                vhdx_mark_bad(v, (uint64_t) o[owner].entry,
                              VHDX_WHY_OVERLAP);
        }
        if (o[k].end > max_end) {
            max_end = o[k].end;
            owner = k;
        }
    }
    return 0;
}

static int
vhdx_read_bat(struct vmc_image *img, struct vhdx *v)
{
    uint64_t i;

    v->bat = vmc_malloc(img->h, img->path, v->bat_entries * 8, "BAT");
    if (v->bat == NULL)
        return -1;
    if (vhdx_file_pread(img, v, v->bat, v->bat_entries * 8,
                        v->bat_offset) == -1)
        return -1;
    for (i = 0; i < v->bat_entries; i++) {
        uint64_t e = le64toh(v->bat[i]);

        if (e & VHDX_BAT_RESERVED_MASK)
            v->reserved_bits++;
        v->bat[i] = e & ~VHDX_BAT_RESERVED_MASK;
    }
    return vhdx_validate_bat(img, v);
}

/* ---- Open and close ----------------------------------------------- */

static void
vhdx_read_creator(const uint8_t *id, struct vhdx *v)
{
    const uint8_t *c = id + offsetof(struct vhdx_file_id_disk, creator);
    CLEANUP_FREE char *s = NULL;
    size_t n;

    for (n = 0; n < 256 && vmc_le16(c + 2 * n) != 0; n++)
        ;
    s = vmc_utf16_to_utf8(NULL, c, n * 2, VMC_UTF16_LE, 0, "creator", NULL);
    if (s)
        snprintf(v->creator, sizeof v->creator, "%s", s);
}

static int
vhdx_open(struct vmc_image *img)
{
    struct vmc_handle *h = img->h;
    struct vhdx *v;
    uint8_t id[sizeof(struct vhdx_file_id_disk)];

    if (img->writable) {
        vmc_error(h, "%s: writing into an existing VHDX image is not "
                  "supported yet (vmconv creates new ones)", img->path);
        return -1;
    }
    if (img->file_size < VHDX_HEADER_SECTION_SIZE) {
        vmc_error(h, "%s: file of %" PRIu64 " bytes is too small for a "
                  "VHDX image (at least 1 MiB)", img->path, img->file_size);
        return -1;
    }
    if (vmc_file_pread_full(img->file, id, sizeof id, 0) == -1)
        return -1;
    if (memcmp(id, VHDX_FILE_SIG, 8) != 0) {
        vmc_error(h, "%s: offset 0: no 'vhdxfile' signature: not a VHDX "
                  "image", img->path);
        return -1;
    }
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    pthread_mutex_init(&v->lock, NULL);
    v->file_end = img->file_size;
    vhdx_read_creator(id, v);

    if (vhdx_read_headers(img, v) == -1)
        goto fail;
    if (!vhdx_guid_is_zero(v->log_guid) && vhdx_log_replay(img, v) == -1)
        goto fail;
    if (vhdx_read_regions(img, v) == -1 ||
        vhdx_read_metadata(img, v) == -1 ||
        vhdx_check_geometry(img, v) == -1 ||
        vhdx_read_bat(img, v) == -1)
        goto fail;

    img->size = v->disk_size;
    img->cluster_size = v->block_size;
    img->priv = v;
    if (v->has_parent && !(img->flags & VMC_IMAGE_NO_BACKING) &&
        vhdx_open_parent(img, v) == -1) {
        img->priv = NULL;
        goto fail;
    }
    return 0;

fail:
    vhdx_free(v);
    return -1;
}

static void
vhdx_close(struct vmc_image *img)
{
    vhdx_free(img->priv);
    img->priv = NULL;
}

/* ---- Mapping guest offsets ---------------------------------------- */

enum vhdx_kind {
    VHDX_DATA,
    VHDX_ZERO,
    VHDX_BACKING,
};

/* Bitmap bytes read at once when resolving a PARTIALLY_PRESENT block
 * (32768 sectors: 16 MiB at 512-byte sectors).
 */
#define VHDX_BITMAP_WINDOW 4096

static const char *
vhdx_why_text(enum vhdx_bat_why why)
{
    switch (why) {
    case VHDX_WHY_STATE: return "its state is not valid in this image";
    case VHDX_WHY_OUTSIDE:
        return "its block lies outside the file or in the header section";
    case VHDX_WHY_OVERLAP: return "its block overlaps another object";
    case VHDX_WHY_NO_BITMAP:
        return "it is partially present but its sector bitmap is not";
    case VHDX_WHY_NONE: break;
    }
    return "it is invalid";
}

static int
vhdx_bad_entry(struct vmc_image *img, struct vhdx *v, uint64_t i)
{
    uint64_t e = v->bat[i];

    vmc_error(img->h, "%s: BAT entry %" PRIu64 " at offset %" PRIu64
              " (state %u, file offset %" PRIu64 "): %s", img->path, i,
              v->bat_offset + i * 8, (unsigned) (e & VHDX_BAT_STATE_MASK),
              vhdx_entry_offset(e),
              vhdx_why_text((enum vhdx_bat_why)
                            ((e & VHDX_BAT_WHY_MASK) >> VHDX_BAT_WHY_SHIFT)));
    return -1;
}

/* Describe the run at guest OFFSET (at most LEN bytes, within one
 * block): *KIND, *RUN and for data the file offset *FOFF.
 */
static int
vhdx_map(struct vmc_image *img, struct vhdx *v, uint64_t offset,
         uint64_t len, enum vhdx_kind *kind, uint64_t *run, uint64_t *foff)
{
    uint64_t b = offset / v->block_size;
    uint64_t in = offset % v->block_size;
    uint64_t idx = vhdx_payload_index(v, b);
    uint64_t e = v->bat[idx];
    uint64_t avail = v->block_size - in;

    if (avail > len)
        avail = len;
    if (e & VHDX_BAT_BAD)
        return vhdx_bad_entry(img, v, idx);
    switch (e & VHDX_BAT_STATE_MASK) {
    case VHDX_PAYLOAD_FULLY_PRESENT:
        *kind = VHDX_DATA;
        *foff = vhdx_entry_offset(e) + in;
        *run = avail;
        return 0;
    case VHDX_PAYLOAD_PARTIALLY_PRESENT:
        break;
    case VHDX_PAYLOAD_NOT_PRESENT:
        *kind = VHDX_BACKING;
        *run = avail;
        return 0;
    case VHDX_PAYLOAD_ZERO:
        *kind = VHDX_ZERO;
        *run = avail;
        return 0;
    default:
        /* UNDEFINED, UNMAPPED: zeros; in a base image nothing hides. */
        *kind = v->has_parent ? VHDX_ZERO : VHDX_BACKING;
        *run = avail;
        return 0;
    }

    /* PARTIALLY_PRESENT: one bit per logical sector, LSB first, at
     * (block % ChunkRatio) * SectorsPerBlock + sector in the chunk's
     * bitmap block.
     */
    {
        uint64_t lss = v->logical_sector;
        uint64_t sb = v->bat[vhdx_bitmap_index(v, b / v->chunk_ratio)];
        uint64_t s0 = in / lss;
        uint64_t s1 = vmc_div_round_up(in + avail, lss);
        uint64_t bit0 = (b % v->chunk_ratio) * (v->block_size / lss) + s0;
        uint64_t nbits, byte0, nbytes, k;
        uint8_t bm[VHDX_BITMAP_WINDOW + 1];
        bool set;

        if (s1 - s0 > VHDX_BITMAP_WINDOW * 8)
            s1 = s0 + VHDX_BITMAP_WINDOW * 8;
        nbits = s1 - s0;
        byte0 = bit0 / 8;
        nbytes = (bit0 + nbits - 1) / 8 - byte0 + 1;
        if (vhdx_file_pread(img, v, bm, nbytes,
                            vhdx_entry_offset(sb) + byte0) == -1)
            return -1;
        set = (bm[0] >> (bit0 % 8)) & 1;
        for (k = 1; k < nbits; k++) {
            uint64_t bit = bit0 + k - byte0 * 8;

            if (((bm[bit / 8] >> (bit % 8)) & 1) != set)
                break;
        }
        *run = (s0 + k) * lss - in;
        if (*run > avail)
            *run = avail;
        if (set) {
            *kind = VHDX_DATA;
            *foff = vhdx_entry_offset(e) + in;
        } else {
            *kind = VHDX_BACKING;
        }
        return 0;
    }
}

static int
vhdx_block_status(struct vmc_image *img, uint64_t offset, uint64_t length,
                  enum vmc_bs *type, uint64_t *run)
{
    struct vhdx *v = img->priv;
    enum vhdx_kind kind, k2;
    uint64_t r, r2, foff, done;

    if (vhdx_map(img, v, offset, length, &kind, &r, &foff) == -1)
        return -1;
    /* Merge following runs of the same kind; stop before an invalid
     * entry, which is reported when the caller gets to it.
     */
    for (done = r; done < length; done += r2) {
        uint64_t b = (offset + done) / v->block_size;

        if (v->bat[vhdx_payload_index(v, b)] & VHDX_BAT_BAD)
            break;
        if (vhdx_map(img, v, offset + done, length - done, &k2, &r2,
                     &foff) == -1)
            return -1;
        if (k2 != kind)
            break;
    }
    *run = done;
    *type = kind == VHDX_DATA ? VMC_BS_DATA
        : kind == VHDX_ZERO ? VMC_BS_ZERO : VMC_BS_BACKING;
    return 0;
}

static int
vhdx_pread(struct vmc_image *img, void *buf, size_t count, uint64_t offset)
{
    struct vhdx *v = img->priv;
    uint8_t *p = buf;
    enum vhdx_kind kind, k2;
    uint64_t run, r2, foff, f2;
    bool have_next = false;

    while (count > 0) {
        if (have_next) {
            kind = k2;
            run = r2;
            foff = f2;
            have_next = false;
        } else if (vhdx_map(img, v, offset, count, &kind, &run,
                            &foff) == -1) {
            return -1;
        }
        /* Coalesce runs contiguous in the file into one read. */
        while (kind == VHDX_DATA && run < count) {
            if (vhdx_map(img, v, offset + run, count - run, &k2, &r2,
                         &f2) == -1)
                return -1;
            if (k2 != VHDX_DATA || f2 != foff + run) {
                have_next = true;
                break;
            }
            run += r2;
        }
        switch (kind) {
        case VHDX_DATA:
            if (vhdx_file_pread(img, v, p, run, foff) == -1)
                return -1;
            break;
        case VHDX_ZERO:
            memset(p, 0, run);
            break;
        case VHDX_BACKING:
            if (vmc_image_backing_pread(img, p, run, offset) == -1)
                return -1;
            break;
        }
        p += run;
        offset += run;
        count -= run;
    }
    return 0;
}

/* ---- Info and check ----------------------------------------------- */

static const char *
vhdx_subformat(const struct vhdx *v)
{
    if (v->has_parent)
        return "differencing";
    return v->leave_allocated ? "fixed" : "dynamic";
}

static int
vhdx_info(struct vmc_image *img, struct json_object *o)
{
    struct vhdx *v = img->priv;
    char g[39];

    json_object_object_add(o, "subformat",
                           json_object_new_string(vhdx_subformat(v)));
    json_object_object_add(o, "cluster-size",
                           json_object_new_int64(v->block_size));
    json_object_object_add(o, "block-size",
                           json_object_new_int64(v->block_size));
    json_object_object_add(o, "logical-sector-size",
                           json_object_new_int64(v->logical_sector));
    json_object_object_add(o, "physical-sector-size",
                           json_object_new_int64(v->physical_sector));
    json_object_object_add(o, "log", json_object_new_string(
                               v->log_replayed ? "replayed in memory"
                               : "empty"));
    json_object_object_add(o, "creator", json_object_new_string(v->creator));
    vhdx_guid_to_string(v->data_write_guid, g);
    json_object_object_add(o, "data-write-guid", json_object_new_string(g));
    vhdx_guid_to_string(v->disk_id, g);
    json_object_object_add(o, "virtual-disk-id", json_object_new_string(g));
    if (v->has_parent) {
        struct json_object *loc = json_object_new_object();
        const char *link = vhdx_locator_get(v, "parent_linkage");
        size_t i;

        if (link)
            json_object_object_add(o, "parent-linkage",
                                   json_object_new_string(link));
        for (i = 0; loc && i < v->nlocator; i++)
            json_object_object_add(loc, v->locator[i].key,
                                   json_object_new_string(
                                       v->locator[i].value));
        if (loc)
            json_object_object_add(o, "parent-locator", loc);
    }
    return 0;
}

/* Report every object that overlaps an earlier one. */
static int
vhdx_check_overlaps(struct vmc_image *img, struct vhdx *v,
                    struct vmc_check_result *r)
{
    CLEANUP_FREE struct vhdx_obj *o = NULL;
    size_t n, k, owner = 0;
    uint64_t max_end = 0;

    if (vhdx_collect_objects(img, v, true, &o, &n) == -1)
        return -1;
    for (k = 0; k < n; k++) {
        if (k > 0 && o[k].start < max_end) {
            char a[64], b[64];

            vmc_check_error(r, "%s at file offset %" PRIu64 " overlaps %s "
                            "at file offset %" PRIu64 " (ending at %" PRIu64
                            ")", vhdx_obj_name(&o[k], b, sizeof b),
                            o[k].start, vhdx_obj_name(&o[owner], a, sizeof a),
                            o[owner].start, o[owner].end);
        }
        if (o[k].end > max_end) {
            max_end = o[k].end;
            owner = k;
        }
    }
    return 0;
}

static int
vhdx_check(struct vmc_image *img, struct vmc_check_result *r)
{
    struct vhdx *v = img->priv;
    uint64_t i, odd_bitmaps = 0;
    size_t k;

    for (k = 0; k < v->nnotes; k++)
        vmc_check_note(r, "%s", v->notes[k]);
    if (v->log_replayed)
        vmc_check_note(r, "the log is not empty (%" PRIu64 " entries, "
                       "replayed in memory; the file was not changed)",
                       v->log_entries);
    for (i = 0; i < v->bat_entries; i++) {
        uint64_t e = v->bat[i];
        enum vhdx_bat_why why = (e & VHDX_BAT_WHY_MASK) >> VHDX_BAT_WHY_SHIFT;

        if (!v->has_parent && vhdx_is_bitmap_entry(v, i) &&
            (e & VHDX_BAT_STATE_MASK) != 0)
            odd_bitmaps++;
        if (!(e & VHDX_BAT_BAD) || why == VHDX_WHY_OVERLAP)
            continue;
        vmc_check_error(r, "BAT entry %" PRIu64 " (%s, state %u, file offset %"
                        PRIu64 "): %s", i,
                        vhdx_is_bitmap_entry(v, i) ? "sector bitmap"
                        : "payload", (unsigned) (e & VHDX_BAT_STATE_MASK),
                        vhdx_entry_offset(e), vhdx_why_text(why));
    }
    if (vhdx_check_overlaps(img, v, r) == -1)
        return -1;
    if (odd_bitmaps)
        vmc_check_note(r, "%" PRIu64 " sector bitmap entries have a non-zero "
                       "state in a non-differencing image (ignored)",
                       odd_bitmaps);
    if (v->reserved_bits)
        vmc_check_note(r, "%" PRIu64 " BAT entries have reserved bits set "
                       "(ignored)", v->reserved_bits);
    return 0;
}

const struct vmc_format_ops vmc_format_vhdx = {
    .name = "vhdx",
    .description = "Hyper-V VHDX (fixed, dynamic, differencing)",
    /* A new block reads as zeros until written (the file is extended
     * with zeros), so the copy engine may fill it a request at a time
     * instead of holding whole 32 MiB blocks in memory.
     */
    .partial_cluster_writes = true,
    .create_opts = vhdx_create_opts,
    .probe = vhdx_probe,
    .open = vhdx_open,
    .close = vhdx_close,
    .block_status = vhdx_block_status,
    .pread = vhdx_pread,
    .create = vhdx_create,
    .pwrite = vhdx_pwrite,
    .reserve = vhdx_reserve,
    .flush = vhdx_flush,
    .info = vhdx_info,
    .check = vhdx_check,
};
