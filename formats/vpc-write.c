/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing VHDs: fixed (data then a footer, sparse on the host) and
 * dynamic (footer copy, header, BAT, blocks appended as first written,
 * trailing footer).  Sizes are exact by default: the footer's current
 * size is the virtual size and the creator is "qem2", which every qemu
 * (old and new) and Hyper-V read by current size.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpc-internal.h"

/* Seconds between the Unix epoch and the VHD epoch (2000-01-01 UTC). */
#define VPC_EPOCH 946684800

#define VPC_WRITER_VERSION 0x00010000u   /* "creator version" we write */
#define VPC_HEADER_OFFSET 512u
#define VPC_BAT_OFFSET 1536u
/* Data of each block starts on this boundary (as Windows 10 does), so
 * the host sees aligned writes; the gap before each bitmap is a hole.
 */
#define VPC_DATA_ALIGN 4096u

const struct vmc_opt_desc vpc_create_opts[] = {
    { "subformat", VMC_OPT_STRING,
      "dynamic (default: grows as data is written) or fixed (the data, "
      "then a 512-byte footer; sparse on the host)" },
    { "force_size", VMC_OPT_BOOL,
      "on (default): the virtual size is exactly the input's (creator "
      "\"qem2\", read the same by every qemu and by Hyper-V); off: round "
      "the size up to a whole CHS geometry, as qemu-img without force_size "
      "and Virtual PC do" },
    { "azure", VMC_OPT_BOOL,
      "on: make an image Azure accepts: fixed, exact size, footer at the "
      "end; the virtual size must be a multiple of 1 MiB, else this fails "
      "and names the next valid size" },
    { "azure_round", VMC_OPT_BOOL,
      "with azure=on: round the virtual size up to the next multiple of "
      "1 MiB instead of failing (the added tail reads as zeros)" },
    { "block_size", VMC_OPT_SIZE,
      "dynamic: block size, a power of two from 4K to 256M (default 2M, "
      "what Hyper-V and qemu use)" },
    { NULL, 0, NULL }
};

struct vpc_create_params {
    bool fixed;
    bool force_size;
    bool azure;
    bool azure_round;
    uint64_t block_size;
};

static int
vpc_parse_opts(struct vmc_image *img, const struct vmc_opts *opts,
               struct vpc_create_params *p)
{
    struct vmc_handle *h = img->h;
    const char *sub = vmc_opts_get(opts, "subformat");

    if (vmc_opts_get_bool(h, opts, "azure", false, &p->azure) == -1 ||
        vmc_opts_get_bool(h, opts, "azure_round", false,
                          &p->azure_round) == -1 ||
        vmc_opts_get_bool(h, opts, "force_size", true,
                          &p->force_size) == -1 ||
        vmc_opts_get_size(h, opts, "block_size", VPC_DEFAULT_BLOCK_SIZE,
                          &p->block_size) == -1)
        return -1;
    if (sub == NULL)
        p->fixed = p->azure;
    else if (strcmp(sub, "fixed") == 0)
        p->fixed = true;
    else if (strcmp(sub, "dynamic") == 0)
        p->fixed = false;
    else {
        vmc_error(h, "%s: vpc option subformat: '%s' is not 'dynamic' or "
                  "'fixed'", img->path, sub);
        return -1;
    }
    if (p->azure && !p->fixed) {
        vmc_error(h, "%s: vpc option azure=on needs a fixed VHD (Azure "
                  "takes no dynamic ones): drop subformat=dynamic",
                  img->path);
        return -1;
    }
    if (p->azure && !p->force_size) {
        vmc_error(h, "%s: vpc option azure=on needs the exact size: drop "
                  "force_size=off", img->path);
        return -1;
    }
    if (p->azure_round && !p->azure) {
        vmc_error(h, "%s: vpc option azure_round=on goes with azure=on",
                  img->path);
        return -1;
    }
    if (vmc_opts_get(opts, "block_size") && p->fixed) {
        vmc_error(h, "%s: vpc option block_size applies to dynamic VHDs "
                  "only", img->path);
        return -1;
    }
    if (!vmc_is_pow2(p->block_size) ||
        p->block_size < VPC_MIN_CREATE_BLOCK_SIZE ||
        p->block_size > VPC_MAX_CREATE_BLOCK_SIZE) {
        vmc_error(h, "%s: vpc option block_size: %" PRIu64 " is not a power "
                  "of two from 4K to 256M", img->path, p->block_size);
        return -1;
    }
    return 0;
}

/* Round SIZE (a multiple of 512) up to a whole CHS geometry, as qemu
 * does without force_size; sizes past the largest geometry stay as
 * they are (readers then take the current size).
 */
static int
vpc_round_chs(struct vmc_image *img, uint64_t *size, struct vpc_footer *f)
{
    const uint64_t max = (uint64_t) VPC_CHS_MAX_C * VPC_CHS_MAX_H *
        VPC_CHS_MAX_S;
    uint64_t sectors = *size / VPC_SECTOR, i;

    if (sectors >= max) {
        f->cylinders = VPC_CHS_MAX_C;
        f->heads = VPC_CHS_MAX_H;
        f->sectors = VPC_CHS_MAX_S;
        return 0;
    }
    /* One geometry step is at most 16 x 255 sectors. */
    for (i = 0; i <= 16 * 255 * 2; i++) {
        uint64_t chs;

        vpc_geometry(sectors + i, &f->cylinders, &f->heads, &f->sectors);
        chs = (uint64_t) f->cylinders * f->heads * f->sectors;
        if (chs >= sectors) {
            *size = chs * VPC_SECTOR;
            return 0;
        }
    }
    vmc_error(img->h, "%s: internal error: no CHS geometry holds %" PRIu64
              " sectors", img->path, sectors);
    return -1;
}

/* Settle the virtual size and the footer's size fields. */
static int
vpc_create_size(struct vmc_image *img, const struct vpc_create_params *p,
                struct vpc_footer *f)
{
    struct vmc_handle *h = img->h;
    uint64_t size = img->size;

    if (size % VPC_SECTOR != 0) {
        size = vmc_round_up(size, VPC_SECTOR);
        vmc_info(h, "%s: virtual size %" PRIu64 " rounded up to %" PRIu64
                 " (VHD sizes are whole 512-byte sectors)", img->path,
                 img->size, size);
    }
    if (p->azure && size % VPC_AZURE_ALIGN != 0) {
        uint64_t next = vmc_round_up(size, VPC_AZURE_ALIGN);

        if (!p->azure_round) {
            vmc_error(h, "%s: virtual size %" PRIu64 " is not a multiple "
                      "of 1 MiB, which Azure requires; the next valid size "
                      "is %" PRIu64 " (add azure_round=on to round up to "
                      "it)", img->path, img->size, next);
            return -1;
        }
        vmc_info(h, "%s: virtual size %" PRIu64 " rounded up to %" PRIu64
                 " for Azure", img->path, img->size, next);
        size = next;
    }
    if (size > VPC_MAX_SIZE) {
        vmc_error(h, "%s: virtual size %" PRIu64 " is larger than the VHD "
                  "maximum of 2040 GiB (%" PRIu64 " bytes); use VHDX for "
                  "bigger disks", img->path, img->size,
                  (uint64_t) VPC_MAX_SIZE);
        return -1;
    }
    if (p->force_size) {
        vpc_geometry(size / VPC_SECTOR, &f->cylinders, &f->heads,
                     &f->sectors);
        memcpy(f->creator_app, "qem2", 4);
    } else {
        uint64_t before = size;

        if (vpc_round_chs(img, &size, f) == -1)
            return -1;
        if (size > VPC_MAX_SIZE) {
            vmc_error(h, "%s: virtual size %" PRIu64 " rounded up to a CHS "
                      "geometry is larger than the VHD maximum of 2040 GiB",
                      img->path, img->size);
            return -1;
        }
        if (size != before)
            vmc_info(h, "%s: virtual size %" PRIu64 " rounded up to %"
                     PRIu64 " (CHS %u/%u/%u, force_size=off)", img->path,
                     img->size, size, f->cylinders, f->heads, f->sectors);
        /* The creator old and new qemu and Virtual PC read by CHS: the
         * size is exactly the geometry's, so every reader agrees.
         */
        memcpy(f->creator_app, "qemu", 4);
    }
    f->original_size = size;
    f->current_size = size;
    img->size = size;
    return 0;
}

/* Where block data goes: the bitmap just before a 4K boundary. */
static uint64_t
vpc_place(const struct vpc *v, uint64_t pos, uint64_t *bitmap_at)
{
    uint64_t data = v->block_size >= VPC_DATA_ALIGN
        ? vmc_round_up(pos + v->bitmap_size, VPC_DATA_ALIGN)
        : pos + v->bitmap_size;

    *bitmap_at = data - v->bitmap_size;
    return data;
}

static int
vpc_create_dynamic(struct vmc_image *img, struct vpc *v,
                   const struct vpc_create_params *p)
{
    struct vpc_header *hd = &v->header;
    uint64_t entries = vmc_div_round_up(img->size, p->block_size), i;

    v->block_size = (uint32_t) p->block_size;
    v->bitmap_size = vpc_bitmap_bytes(v->block_size);
    v->nblocks = (uint32_t) entries;
    v->bat = vmc_calloc(img->h, img->path, entries ? entries : 1,
                        sizeof *v->bat, "block allocation table");
    if (v->bat == NULL)
        return -1;
    for (i = 0; i < entries; i++)
        v->bat[i] = VPC_BAT_UNUSED;
    v->bat_bytes = (uint32_t) vmc_round_up(entries * 4, VPC_SECTOR);
    if (v->bat_bytes == 0)
        v->bat_bytes = VPC_SECTOR;
    v->next_free = VPC_BAT_OFFSET + v->bat_bytes;

    hd->data_offset = UINT64_MAX;
    hd->table_offset = VPC_BAT_OFFSET;
    hd->version = VPC_VERSION;
    hd->max_table_entries = (uint32_t) entries;
    hd->block_size = v->block_size;
    v->footer.data_offset = VPC_HEADER_OFFSET;
    v->footer.disk_type = VPC_TYPE_DYNAMIC;
    v->dynamic = true;
    img->cluster_size = v->block_size;
    return 0;
}

/* The footer's unique id: random (version 4), or with SOURCE_DATE_EPOCH
 * derived from the image (called again at flush, when the data is
 * known).
 */
static void
vpc_unique_id(struct vpc *v)
{
    uint8_t *u = v->footer.uuid;

    if (v->repro.on)
        vmc_repro_id(&v->repro, "vpc unique id", u, sizeof v->footer.uuid);
    else
        vmc_random_bytes(u, sizeof v->footer.uuid);
    u[6] = (uint8_t) ((u[6] & 0x0F) | 0x40);   /* version 4 */
    u[8] = (uint8_t) ((u[8] & 0x3F) | 0x80);   /* RFC 4122 */
}

/* Lay out an empty VHD of img->size bytes (possibly rounded up, see
 * vpc_create_size); nothing but the fixed disk's size is written
 * before flush.
 */
int
vpc_create(struct vmc_image *img, const struct vmc_opts *opts)
{
    struct vpc_create_params p;
    struct vpc *v;
    struct vpc_footer *f;
    time_t now = time(NULL);

    if (vpc_parse_opts(img, opts, &p) == -1)
        return -1;
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    f = &v->footer;
    if (vpc_create_size(img, &p, f) == -1 ||
        vmc_repro_init(img->h, img->path, &v->repro) == -1)
        goto fail;
    if (v->repro.on)
        now = (time_t) v->repro.epoch;
    vmc_repro_salt_str(&v->repro, "vpc");
    vmc_repro_salt(&v->repro, img->size);
    vmc_repro_salt(&v->repro, p.block_size);
    vmc_repro_salt(&v->repro, p.fixed * 4u + p.force_size * 2u + p.azure);
    f->features = VPC_FEATURE_RESERVED;
    f->version = VPC_VERSION;
    f->timestamp = now > VPC_EPOCH ? (uint32_t) (now - VPC_EPOCH) : 0;
    f->creator_version = VPC_WRITER_VERSION;
    f->creator_os = VPC_OS_WINDOWS;
    vpc_unique_id(v);
    v->chs_size = (uint64_t) f->cylinders * f->heads * f->sectors *
        VPC_SECTOR;
    v->use_chs = !p.force_size && v->chs_size == img->size;

    if (p.fixed) {
        f->data_offset = VPC_FIXED_DATA_OFFSET;
        f->disk_type = VPC_TYPE_FIXED;
        if (vmc_file_truncate(img->file, img->size + VPC_FOOTER_SIZE) == -1)
            goto fail;
    } else if (vpc_create_dynamic(img, v, &p) == -1) {
        goto fail;
    }
    if (pthread_mutex_init(&v->lock, NULL) != 0) {
        vmc_error(img->h, "%s: cannot initialise a mutex", img->path);
        goto fail;
    }
    v->lock_init = true;
    /* Dynamic: blocks are appended on first write; the copy engine
     * reserves them in offset order (vpc_reserve), so they lie in disk
     * order, the same for any number of threads.
     */
    img->ordered_alloc = v->dynamic;
    img->priv = v;
    return 0;

fail:
    free(v->bat);
    free(v);
    return -1;
}

/* BAT entry I, under the lock while the image is being written. */
uint32_t
vpc_bat_get(struct vmc_image *img, uint32_t i)
{
    struct vpc *v = img->priv;
    uint32_t e;

    if (!v->lock_init)
        return v->bat[i];
    pthread_mutex_lock(&v->lock);
    e = v->bat[i];
    pthread_mutex_unlock(&v->lock);
    return e;
}

/* The file offset of block B's bitmap, allocating the block at the end
 * of the file if it has none.  Sets *FRESH when it was allocated now.
 */
static int
vpc_alloc_block(struct vmc_image *img, uint32_t b, uint64_t *bitmap_at,
                bool *fresh)
{
    struct vpc *v = img->priv;
    int r = 0;

    *fresh = false;
    pthread_mutex_lock(&v->lock);
    if (v->bat[b] != VPC_BAT_UNUSED) {
        *bitmap_at = (uint64_t) v->bat[b] * VPC_SECTOR;
    } else {
        uint64_t data = vpc_place(v, v->next_free, bitmap_at);

        if (*bitmap_at / VPC_SECTOR >= VPC_BAT_UNUSED) {
            vmc_error(img->h, "%s: block %" PRIu32 " would start past the "
                      "2 TiB a BAT entry can address", img->path, b);
            r = -1;
        } else {
            v->bat[b] = (uint32_t) (*bitmap_at / VPC_SECTOR);
            v->next_free = data + v->block_size;
            *fresh = true;
        }
    }
    pthread_mutex_unlock(&v->lock);
    return r;
}

/* Every sector of a block we allocate is ours: the bitmap is all ones
 * (the parts never written are zeros in the file).
 */
static int
vpc_write_bitmap(struct vmc_image *img, uint64_t at)
{
    struct vpc *v = img->priv;
    uint8_t ones[VPC_SECTOR];
    uint32_t done;

    memset(ones, 0xFF, sizeof ones);
    for (done = 0; done < v->bitmap_size; done += VPC_SECTOR)
        if (vmc_file_pwrite_full(img->file, ones, sizeof ones,
                                 at + done) == -1)
            return -1;
    return 0;
}

/* Ordered allocation (see struct vmc_format_ops): the copy engine
 * allocates the blocks of each request in offset order, then writes
 * with vpc_pwrite from any thread, so blocks lie in disk order.
 */
int
vpc_reserve(struct vmc_image *img, const void *buf, size_t count,
            uint64_t offset)
{
    struct vpc *v = img->priv;
    uint64_t end = offset + count, bitmap_at;
    bool fresh;

    (void) buf;
    if (!v->dynamic || count == 0)
        return 0;
    for (offset -= offset % v->block_size; offset < end;
         offset += v->block_size) {
        if (vpc_alloc_block(img, (uint32_t) (offset / v->block_size),
                            &bitmap_at, &fresh) == -1)
            return -1;
        if (fresh && vpc_write_bitmap(img, bitmap_at) == -1)
            return -1;
    }
    return 0;
}

/* Fixed: straight to the offset.  Dynamic: allocate blocks under the
 * lock, write the data outside it.  Rewrites land in the same place.
 */
int
vpc_pwrite(struct vmc_image *img, const void *buf, size_t count,
           uint64_t offset)
{
    struct vpc *v = img->priv;
    const uint8_t *p = buf;

    vmc_repro_data(&v->repro, buf, count, offset);
    if (!v->dynamic)
        return vmc_file_pwrite_full(img->file, buf, count, offset);
    while (count > 0) {
        uint32_t b = (uint32_t) (offset / v->block_size);
        uint64_t inb = offset % v->block_size, bitmap_at;
        size_t n = count;
        bool fresh;

        if (n > v->block_size - inb)
            n = (size_t) (v->block_size - inb);
        if (vpc_alloc_block(img, b, &bitmap_at, &fresh) == -1)
            return -1;
        if (fresh && vpc_write_bitmap(img, bitmap_at) == -1)
            return -1;
        if (vmc_file_pwrite_full(img->file, p, n,
                                 bitmap_at + v->bitmap_size + inb) == -1)
            return -1;
        p += n;
        offset += n;
        count -= n;
    }
    return 0;
}

static void
vpc_encode_header(const struct vpc_header *hd, struct vpc_header_disk *d)
{
    memset(d, 0, sizeof *d);
    memcpy(d->cookie, VPC_HEADER_COOKIE, VPC_COOKIE_LEN);
    vmc_put_be64(&d->data_offset, hd->data_offset);
    vmc_put_be64(&d->table_offset, hd->table_offset);
    vmc_put_be32(&d->version, hd->version);
    vmc_put_be32(&d->max_table_entries, hd->max_table_entries);
    vmc_put_be32(&d->block_size, hd->block_size);
    vmc_put_be32(&d->checksum,
                 vpc_checksum(d, sizeof *d,
                              offsetof(struct vpc_header_disk, checksum)));
}

/* Write the BAT, the header and both footers of a dynamic disk. */
static int
vpc_flush_dynamic(struct vmc_image *img, const struct vpc_footer_disk *fd)
{
    struct vpc *v = img->priv;
    struct vpc_header_disk hd;
    CLEANUP_FREE uint32_t *bat = NULL;
    uint64_t end;
    uint32_t i;

    bat = vmc_malloc(img->h, img->path, v->bat_bytes,
                     "block allocation table");
    if (bat == NULL)
        return -1;
    memset(bat, 0xFF, v->bat_bytes);
    pthread_mutex_lock(&v->lock);
    for (i = 0; i < v->header.max_table_entries; i++)
        vmc_put_be32(&bat[i], v->bat[i]);
    end = v->next_free;
    pthread_mutex_unlock(&v->lock);

    vpc_encode_header(&v->header, &hd);
    if (vmc_file_pwrite_full(img->file, bat, v->bat_bytes,
                             VPC_BAT_OFFSET) == -1 ||
        vmc_file_pwrite_full(img->file, &hd, sizeof hd,
                             VPC_HEADER_OFFSET) == -1 ||
        vmc_file_pwrite_full(img->file, fd, sizeof *fd, 0) == -1 ||
        vmc_file_pwrite_full(img->file, fd, sizeof *fd, end) == -1)
        return -1;
    if (vmc_file_truncate(img->file, end + VPC_FOOTER_SIZE) == -1)
        return -1;
    img->file_size = end + VPC_FOOTER_SIZE;
    return 0;
}

/* Write the metadata so the file is a complete VHD; may run again. */
int
vpc_flush(struct vmc_image *img)
{
    struct vpc *v = img->priv;
    struct vpc_footer_disk fd;

    if (v->repro.on)
        vpc_unique_id(v);
    vpc_encode_footer(&v->footer, &fd);
    v->footer.checksum = vmc_be32(&fd.checksum);
    if (v->dynamic)
        return vpc_flush_dynamic(img, &fd);
    v->footer_offset = img->size;
    img->file_size = img->size + VPC_FOOTER_SIZE;
    return vmc_file_pwrite_full(img->file, &fd, sizeof fd, img->size);
}
