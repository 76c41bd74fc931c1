/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vhdx writer: dynamic and fixed images, written in one pass.
 *
 * Layout (every object and the file size 1 MiB multiples):
 *   0        file identifier (creator "vmconv"), headers 1 and 2,
 *            region tables 1 and 2
 *   1 MiB    log (LOG_SIZE, zeros: the log is empty, LogGuid is 0)
 *   ...      BAT, then the metadata region (1 MiB)
 *   ...      payload blocks
 *
 * Dynamic: a block is allocated at the end of the file the first time
 * any part of it is written (under the lock; the data is written
 * outside it), so unwritten parts of a block read as zeros.  Fixed:
 * every block is FULLY_PRESENT and contiguous; the file is sized with
 * ftruncate (sparse on the host).  flush writes the headers, region
 * tables, BAT and metadata; nothing is logged.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhdx-internal.h"

#define VHDX_DEFAULT_BLOCK_SIZE (32u * VHDX_MiB)
#define VHDX_DEFAULT_LOG_SIZE VHDX_MiB
#define VHDX_MAX_CREATE_LOG_SIZE (256u * VHDX_MiB)
#define VHDX_CREATOR "vmconv"

const struct vmc_opt_desc vhdx_create_opts[] = {
    { "subformat", VMC_OPT_STRING, "dynamic (default) or fixed" },
    { "block_size", VMC_OPT_SIZE,
      "payload block size, a power of two from 1M to 256M (default 32M)" },
    { "log_size", VMC_OPT_SIZE, "log size, a multiple of 1M (default 1M)" },
    { "logical_sector_size", VMC_OPT_SIZE, "512 (default) or 4096" },
    { "physical_sector_size", VMC_OPT_SIZE, "512 or 4096 (default)" },
    { "block_state_zero", VMC_OPT_BOOL,
      "mark unwritten blocks ZERO instead of NOT_PRESENT (default off)" },
    { NULL, 0, NULL },
};

static const uint8_t vhdx_guid_bat[16] = VHDX_GUID_BAT_REGION;
static const uint8_t vhdx_guid_metadata[16] = VHDX_GUID_METADATA_REGION;
static const uint8_t vhdx_guid_file_params[16] = VHDX_GUID_FILE_PARAMETERS;
static const uint8_t vhdx_guid_disk_size[16] = VHDX_GUID_VIRTUAL_DISK_SIZE;
static const uint8_t vhdx_guid_disk_id[16] = VHDX_GUID_VIRTUAL_DISK_ID;
static const uint8_t vhdx_guid_lss[16] = VHDX_GUID_LOGICAL_SECTOR_SIZE;
static const uint8_t vhdx_guid_pss[16] = VHDX_GUID_PHYSICAL_SECTOR_SIZE;

/* Make a random (version 4) GUID in on-disk byte order; with
 * SOURCE_DATE_EPOCH, one derived from the image (LABEL names which).
 */
static void
vhdx_random_guid(struct vhdx *v, const char *label, uint8_t *g)
{
    if (v->repro.on)
        vmc_repro_id(&v->repro, label, g, 16);
    else
        vmc_random_bytes(g, 16);
    g[7] = (uint8_t) ((g[7] & 0x0f) | 0x40);  /* Data3 high nibble */
    g[8] = (uint8_t) ((g[8] & 0x3f) | 0x80);
}

static int
vhdx_create_options(struct vmc_image *img, struct vhdx *v,
                    const struct vmc_opts *opts, uint64_t *log_size)
{
    struct vmc_handle *h = img->h;
    const char *sub = vmc_opts_get(opts, "subformat");
    uint64_t bs, lss, pss;

    if (sub == NULL || strcmp(sub, "dynamic") == 0)
        v->fixed = false;
    else if (strcmp(sub, "fixed") == 0)
        v->fixed = true;
    else {
        vmc_error(h, "%s: option subformat: '%s' is not dynamic or fixed "
                  "(vmconv does not create differencing images)", img->path,
                  sub);
        return -1;
    }
    if (vmc_opts_get_size(h, opts, "block_size", VHDX_DEFAULT_BLOCK_SIZE,
                          &bs) == -1 ||
        vmc_opts_get_size(h, opts, "log_size", VHDX_DEFAULT_LOG_SIZE,
                          log_size) == -1 ||
        vmc_opts_get_size(h, opts, "logical_sector_size", 512, &lss) == -1 ||
        vmc_opts_get_size(h, opts, "physical_sector_size", 4096,
                          &pss) == -1 ||
        vmc_opts_get_bool(h, opts, "block_state_zero", false,
                          &v->zero_state) == -1)
        return -1;
    if (!vmc_is_pow2(bs) || bs < VHDX_MIN_BLOCK_SIZE ||
        bs > VHDX_MAX_BLOCK_SIZE) {
        vmc_error(h, "%s: option block_size: %" PRIu64 " is not a power of "
                  "two from 1M to 256M", img->path, bs);
        return -1;
    }
    if (*log_size == 0 || *log_size % VHDX_MiB != 0 ||
        *log_size > VHDX_MAX_CREATE_LOG_SIZE) {
        vmc_error(h, "%s: option log_size: %" PRIu64 " is not a multiple of "
                  "1M up to 256M", img->path, *log_size);
        return -1;
    }
    if ((lss != 512 && lss != 4096) || (pss != 512 && pss != 4096)) {
        vmc_error(h, "%s: options logical_sector_size and "
                  "physical_sector_size must be 512 or 4096 (got %" PRIu64
                  " and %" PRIu64 ")", img->path, lss, pss);
        return -1;
    }
    v->block_size = (uint32_t) bs;
    v->logical_sector = (uint32_t) lss;
    v->physical_sector = (uint32_t) pss;
    return 0;
}

int
vhdx_create(struct vmc_image *img, const struct vmc_opts *opts)
{
    struct vmc_handle *h = img->h;
    struct vhdx *v;
    uint64_t log_size, bat_bytes, i, end;

    v = calloc(1, sizeof *v);
    if (v == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    pthread_mutex_init(&v->lock, NULL);
    if (vhdx_create_options(img, v, opts, &log_size) == -1 ||
        vmc_repro_init(h, img->path, &v->repro) == -1)
        goto fail;

    /* VHDX sizes are whole logical sectors: round up like qemu-img. */
    if (img->size == 0 || img->size > VHDX_MAX_VIRTUAL_SIZE) {
        vmc_error(h, "%s: virtual size %" PRIu64 " is not between 1 byte "
                  "and 64 TiB", img->path, img->size);
        goto fail;
    }
    if (img->size % v->logical_sector) {
        vmc_debug(h, "%s: virtual size %" PRIu64 " rounded up to a multiple "
                  "of %" PRIu32, img->path, img->size, v->logical_sector);
        img->size = vmc_round_up(img->size, v->logical_sector);
    }
    v->disk_size = img->size;
    v->chunk_ratio = (VHDX_SECTORS_PER_CHUNK * v->logical_sector) /
        v->block_size;
    v->data_blocks = vmc_div_round_up(v->disk_size, v->block_size);
    v->bitmap_blocks = vmc_div_round_up(v->data_blocks, v->chunk_ratio);
    v->bat_entries = vhdx_compute_bat_entries(v->data_blocks, v->chunk_ratio,
                                              false);
    bat_bytes = vmc_round_up(v->bat_entries * 8, VHDX_ALIGN);

    v->log_offset = VHDX_HEADER_SECTION_SIZE;
    v->log_length = (uint32_t) log_size;
    v->bat_offset = v->log_offset + log_size;
    v->bat_length = bat_bytes;
    v->meta_offset = v->bat_offset + bat_bytes;
    v->meta_length = VHDX_MiB;
    v->payload_offset = v->meta_offset + v->meta_length;
    v->next_alloc = v->payload_offset;
    v->leave_allocated = v->fixed;

    v->bat = vmc_calloc(h, img->path, v->bat_entries, 8, "BAT");
    if (v->bat == NULL)
        goto fail;
    for (i = 0; i < v->bat_entries; i++) {
        uint64_t b;

        if ((i + 1) % (v->chunk_ratio + 1) == 0)
            continue;           /* sector bitmap entries stay 0 */
        b = i - i / (v->chunk_ratio + 1);
        if (v->fixed)
            v->bat[i] = VHDX_PAYLOAD_FULLY_PRESENT |
                (v->payload_offset + b * v->block_size);
        else if (v->zero_state)
            v->bat[i] = VHDX_PAYLOAD_ZERO;
    }
    if (v->fixed) {
        end = v->payload_offset + v->data_blocks * v->block_size;
        if (vmc_file_truncate(img->file, end) == -1)
            goto fail;
        v->next_alloc = end;
    }
    vmc_repro_salt_str(&v->repro, "vhdx");
    vmc_repro_salt(&v->repro, v->disk_size);
    vmc_repro_salt(&v->repro, v->block_size);
    vmc_repro_salt(&v->repro, log_size);
    vmc_repro_salt(&v->repro, v->logical_sector);
    vmc_repro_salt(&v->repro, v->physical_sector);
    vmc_repro_salt(&v->repro, v->fixed * 2u + v->zero_state);
    vhdx_random_guid(v, "vhdx file write", v->file_write_guid);
    vhdx_random_guid(v, "vhdx data write", v->data_write_guid);
    vhdx_random_guid(v, "vhdx disk id", v->disk_id);
    img->cluster_size = v->block_size;
    /* Dynamic: blocks are allocated on first write; the copy engine
     * reserves them in offset order (vhdx_reserve), so they lie in disk
     * order, the same for any number of threads.
     */
    img->ordered_alloc = !v->fixed;
    img->priv = v;
    return 0;

fail:
    vhdx_free(v);
    return -1;
}

/* Dynamic: the BAT entry of the block holding OFFSET, allocating the
 * block at the end of the file if it has none.
 */
static uint64_t
vhdx_alloc_block(struct vhdx *v, uint64_t offset)
{
    uint64_t b = offset / v->block_size;
    uint64_t idx = b + b / v->chunk_ratio, e;

    pthread_mutex_lock(&v->lock);
    e = v->bat[idx];
    if ((e & VHDX_BAT_STATE_MASK) != VHDX_PAYLOAD_FULLY_PRESENT) {
        e = VHDX_PAYLOAD_FULLY_PRESENT | v->next_alloc;
        v->bat[idx] = e;
        v->next_alloc += v->block_size;
    }
    pthread_mutex_unlock(&v->lock);
    return e;
}

/* Ordered allocation (see struct vmc_format_ops): the copy engine
 * allocates the blocks of each request in offset order, then writes
 * with vhdx_pwrite from any thread, so blocks lie in disk order.
 */
int
vhdx_reserve(struct vmc_image *img, const void *buf, size_t count,
             uint64_t offset)
{
    struct vhdx *v = img->priv;
    uint64_t end = offset + count;

    (void) buf;
    if (v->fixed || count == 0)
        return 0;
    for (offset -= offset % v->block_size; offset < end;
         offset += v->block_size)
        vhdx_alloc_block(v, offset);
    return 0;
}

int
vhdx_pwrite(struct vmc_image *img, const void *buf, size_t count,
            uint64_t offset)
{
    struct vhdx *v = img->priv;
    const uint8_t *p = buf;

    vmc_repro_data(&v->repro, buf, count, offset);
    if (v->fixed)
        return vmc_file_pwrite_full(img->file, buf, count,
                                    v->payload_offset + offset);
    while (count > 0) {
        uint64_t in = offset % v->block_size;
        uint64_t n = v->block_size - in;
        uint64_t e;

        if (n > count)
            n = count;
        e = vhdx_alloc_block(v, offset);
        if (vmc_file_pwrite_full(img->file, p, n,
                                 (e & ~VHDX_BAT_STATE_MASK) + in) == -1)
            return -1;
        p += n;
        offset += n;
        count -= n;
    }
    return 0;
}

/* Fill BUF (4 KiB) with header SEQ of V and its checksum. */
static void
vhdx_build_header(const struct vhdx *v, uint8_t *buf, uint64_t seq)
{
    memset(buf, 0, VHDX_HEADER_SIZE);
    memcpy(buf, VHDX_HEADER_SIG, 4);
    vmc_put_le64(buf + 8, seq);
    memcpy(buf + 16, v->file_write_guid, 16);
    memcpy(buf + 32, v->data_write_guid, 16);
    /* LogGuid (48..63) stays zero: the log is empty. */
    vmc_put_le16(buf + 64, 0);
    vmc_put_le16(buf + 66, 1);
    vmc_put_le32(buf + 68, v->log_length);
    vmc_put_le64(buf + 72, v->log_offset);
    vmc_put_le32(buf + 4, vmc_crc32c(0, buf, VHDX_HEADER_SIZE));
}

static void
vhdx_build_regions(const struct vhdx *v, uint8_t *buf)
{
    memset(buf, 0, VHDX_REGION_TABLE_SIZE);
    memcpy(buf, VHDX_REGION_SIG, 4);
    vmc_put_le32(buf + 8, 2);
    memcpy(buf + 16, vhdx_guid_bat, 16);
    vmc_put_le64(buf + 32, v->bat_offset);
    vmc_put_le32(buf + 40, (uint32_t) v->bat_length);
    vmc_put_le32(buf + 44, 1);
    memcpy(buf + 48, vhdx_guid_metadata, 16);
    vmc_put_le64(buf + 64, v->meta_offset);
    vmc_put_le32(buf + 72, (uint32_t) v->meta_length);
    vmc_put_le32(buf + 76, 1);
    vmc_put_le32(buf + 4, vmc_crc32c(0, buf, VHDX_REGION_TABLE_SIZE));
}

/* The metadata region's first 64 KiB + items (BUF is 128 KiB). */
static void
vhdx_build_metadata(const struct vhdx *v, uint8_t *buf)
{
    static const struct {
        const uint8_t *id;
        uint32_t offset;
        uint32_t length;
        uint32_t flags;
    } items[] = {
        { vhdx_guid_file_params, 0, 8, VHDX_META_IS_REQUIRED },
        { vhdx_guid_disk_size, 8, 8,
          VHDX_META_IS_VIRTUAL_DISK | VHDX_META_IS_REQUIRED },
        { vhdx_guid_disk_id, 16, 16,
          VHDX_META_IS_VIRTUAL_DISK | VHDX_META_IS_REQUIRED },
        { vhdx_guid_lss, 32, 4,
          VHDX_META_IS_VIRTUAL_DISK | VHDX_META_IS_REQUIRED },
        { vhdx_guid_pss, 36, 4,
          VHDX_META_IS_VIRTUAL_DISK | VHDX_META_IS_REQUIRED },
    };
    uint8_t *data = buf + VHDX_METADATA_TABLE_SIZE;
    size_t i;

    memset(buf, 0, 2 * VHDX_METADATA_TABLE_SIZE);
    memcpy(buf, VHDX_METADATA_SIG, 8);
    vmc_put_le16(buf + 10, 5);
    for (i = 0; i < 5; i++) {
        uint8_t *e = buf + 32 + i * 32;

        memcpy(e, items[i].id, 16);
        vmc_put_le32(e + 16, VHDX_METADATA_TABLE_SIZE + items[i].offset);
        vmc_put_le32(e + 20, items[i].length);
        vmc_put_le32(e + 24, items[i].flags);
    }
    vmc_put_le32(data, v->block_size);
    vmc_put_le32(data + 4, v->leave_allocated
                 ? VHDX_PARAMS_LEAVE_BLOCKS_ALLOCATED : 0);
    vmc_put_le64(data + 8, v->disk_size);
    memcpy(data + 16, v->disk_id, 16);
    vmc_put_le32(data + 32, v->logical_sector);
    vmc_put_le32(data + 36, v->physical_sector);
}

int
vhdx_flush(struct vmc_image *img)
{
    struct vmc_handle *h = img->h;
    struct vhdx *v = img->priv;
    CLEANUP_FREE uint8_t *buf = NULL;
    CLEANUP_FREE uint8_t *bat = NULL;
    uint64_t i, end;
    const char *creator = VHDX_CREATOR;

    if (!img->creating)
        return 0;               /* existing images are opened read-only */
    if (v->repro.on) {          /* now that all the data is known */
        vhdx_random_guid(v, "vhdx file write", v->file_write_guid);
        vhdx_random_guid(v, "vhdx data write", v->data_write_guid);
        vhdx_random_guid(v, "vhdx disk id", v->disk_id);
    }

    buf = vmc_calloc(h, img->path, 1, VHDX_HEADER_SECTION_SIZE,
                     "header section");
    bat = vmc_malloc(h, img->path, v->bat_entries * 8, "BAT");
    if (buf == NULL || bat == NULL)
        return -1;

    /* File identifier, headers (header 2 current), region tables. */
    memcpy(buf, VHDX_FILE_SIG, 8);
    for (i = 0; creator[i]; i++)
        vmc_put_le16(buf + 8 + 2 * i, (uint8_t) creator[i]);
    vhdx_build_header(v, buf + VHDX_HEADER1_OFFSET, 1);
    vhdx_build_header(v, buf + VHDX_HEADER2_OFFSET, 2);
    vhdx_build_regions(v, buf + VHDX_REGION1_OFFSET);
    vhdx_build_regions(v, buf + VHDX_REGION2_OFFSET);
    if (vmc_file_pwrite_full(img->file, buf, VHDX_HEADER_SECTION_SIZE,
                             0) == -1)
        return -1;

    vhdx_build_metadata(v, buf);
    if (vmc_file_pwrite_full(img->file, buf, 2 * VHDX_METADATA_TABLE_SIZE,
                             v->meta_offset) == -1)
        return -1;

    pthread_mutex_lock(&v->lock);
    for (i = 0; i < v->bat_entries; i++)
        vmc_put_le64(bat + i * 8, v->bat[i]);
    end = v->next_alloc;
    pthread_mutex_unlock(&v->lock);
    if (vmc_file_pwrite_full(img->file, bat, v->bat_entries * 8,
                             v->bat_offset) == -1)
        return -1;
    if (vmc_file_truncate(img->file, end) == -1)
        return -1;
    return 0;
}
