/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHD ("vpc"): Virtual PC / Hyper-V fixed, dynamic and differencing
 * disks.  This file probes, opens (footer, dynamic header, block
 * allocation table) and reads; vpc-parent.c finds the parent of a
 * differencing disk, vpc-write.c creates images, vpc-check.c has info
 * and check.  Notes on the format: ../shared/specs/vhd.md.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpc-internal.h"

/* block_status reads at most this many bitmaps to merge one run. */
#define VPC_BS_MAX_BITMAP_READS 64
/* Bitmap bytes read into a stack buffer; more are malloc'd. */
#define VPC_BITMAP_STACK 1024

/* One's complement of the byte sum of BUF, whose 4-byte checksum field
 * at SKIP_OFF counts as zero.
 */
uint32_t
vpc_checksum(const void *buf, size_t len, size_t skip_off)
{
    const uint8_t *p = buf;
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i < len; i++)
        if (i < skip_off || i >= skip_off + 4)
            sum += p[i];
    return ~sum;
}

/* Decode the on-disk footer D into host order. */
void
vpc_decode_footer(const struct vpc_footer_disk *d, struct vpc_footer *f)
{
    f->features = vmc_be32(&d->features);
    f->version = vmc_be32(&d->version);
    f->data_offset = vmc_be64(&d->data_offset);
    f->timestamp = vmc_be32(&d->timestamp);
    memcpy(f->creator_app, d->creator_app, 4);
    f->creator_version = vmc_be32(&d->creator_version);
    f->creator_os = vmc_be32(&d->creator_os);
    f->original_size = vmc_be64(&d->original_size);
    f->current_size = vmc_be64(&d->current_size);
    f->cylinders = vmc_be16(&d->cylinders);
    f->heads = d->heads;
    f->sectors = d->sectors;
    f->disk_type = vmc_be32(&d->disk_type);
    f->checksum = vmc_be32(&d->checksum);
    memcpy(f->uuid, d->uuid, 16);
    f->saved_state = d->saved_state;
}

/* Encode F into D, computing the checksum (F->checksum is ignored). */
void
vpc_encode_footer(const struct vpc_footer *f, struct vpc_footer_disk *d)
{
    memset(d, 0, sizeof *d);
    memcpy(d->cookie, VPC_FOOTER_COOKIE, VPC_COOKIE_LEN);
    vmc_put_be32(&d->features, f->features);
    vmc_put_be32(&d->version, f->version);
    vmc_put_be64(&d->data_offset, f->data_offset);
    vmc_put_be32(&d->timestamp, f->timestamp);
    memcpy(d->creator_app, f->creator_app, 4);
    vmc_put_be32(&d->creator_version, f->creator_version);
    vmc_put_be32(&d->creator_os, f->creator_os);
    vmc_put_be64(&d->original_size, f->original_size);
    vmc_put_be64(&d->current_size, f->current_size);
    vmc_put_be16(&d->cylinders, f->cylinders);
    d->heads = f->heads;
    d->sectors = f->sectors;
    vmc_put_be32(&d->disk_type, f->disk_type);
    memcpy(d->uuid, f->uuid, 16);
    d->saved_state = f->saved_state;
    vmc_put_be32(&d->checksum,
                 vpc_checksum(d, sizeof *d,
                              offsetof(struct vpc_footer_disk, checksum)));
}

/* The CHS geometry the VHD specification's appendix gives for a disk
 * of SECTORS sectors (rounding down).
 */
void
vpc_geometry(uint64_t sectors, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
    const uint64_t max = (uint64_t) VPC_CHS_MAX_C * VPC_CHS_MAX_H *
        VPC_CHS_MAX_S;
    uint64_t cth, h, s;

    if (sectors > max)
        sectors = max;
    if (sectors >= (uint64_t) VPC_CHS_MAX_C * 16 * 63) {
        s = 255;
        h = 16;
        cth = sectors / s;
    } else {
        s = 17;
        cth = sectors / s;
        h = vmc_div_round_up(cth, 1024);
        if (h < 4)
            h = 4;
        if (cth >= h * 1024 || h > 16) {
            s = 31;
            h = 16;
            cth = sectors / s;
        }
        if (cth >= h * 1024) {
            s = 63;
            h = 16;
            cth = sectors / s;
        }
    }
    *cyl = (uint16_t) (cth / h);
    *heads = (uint8_t) h;
    *spt = (uint8_t) s;
}

/* Bytes of the sector bitmap in front of each block: a bit per
 * sector, rounded up to whole sectors.
 */
uint32_t
vpc_bitmap_bytes(uint32_t block_size)
{
    uint64_t bits = block_size / VPC_SECTOR;

    return (uint32_t) vmc_round_up(vmc_div_round_up(bits, 8), VPC_SECTOR);
}

/* True if BAT entry I was found to point outside the file. */
bool
vpc_bat_bad(const struct vpc *v, uint32_t i)
{
    return v->bad && (v->bad[i / 8] & (1u << (i % 8)));
}

/* ---- Probe ---------------------------------------------------------- */

/* "conectix" at offset 0 (dynamic, differencing) or in the last
 * sector (fixed).
 */
static int
vpc_probe(const struct vmc_probe *p)
{
    if (p->head_len >= VPC_FOOTER_SIZE &&
        memcmp(p->head, VPC_FOOTER_COOKIE, VPC_COOKIE_LEN) == 0)
        return 100;
    /* Fixed disks have their footer only at the end.  Less sure than a
     * magic at offset 0, so a format with one wins over the guest data.
     */
    if (p->tail_len >= VPC_FOOTER_SIZE &&
        memcmp(p->tail + p->tail_len - VPC_FOOTER_SIZE, VPC_FOOTER_COOKIE,
               VPC_COOKIE_LEN) == 0)
        return 50;
    /* Virtual PC before 2004 wrote a 511-byte footer: claim it so open
     * can say it is not supported, rather than reading it as raw.
     */
    if (p->tail_len >= VPC_FOOTER_SIZE &&
        memcmp(p->tail + p->tail_len - (VPC_FOOTER_SIZE - 1),
               VPC_FOOTER_COOKIE, VPC_COOKIE_LEN) == 0)
        return 50;
    return 0;
}

/* ---- Open ------------------------------------------------------------ */

static void
vpc_free(struct vpc *v)
{
    if (v == NULL)
        return;
    if (v->lock_init)
        pthread_mutex_destroy(&v->lock);
    free(v->bat);
    free(v->bad);
    free(v->parent_name);
    free(v);
}

static bool
vpc_has_cookie(const struct vpc_footer_disk *d)
{
    return memcmp(d->cookie, VPC_FOOTER_COOKIE, VPC_COOKIE_LEN) == 0;
}

static bool
vpc_footer_sum_ok(const struct vpc_footer_disk *d)
{
    return vmc_be32(&d->checksum) ==
        vpc_checksum(d, sizeof *d, offsetof(struct vpc_footer_disk, checksum));
}

/* Find and read the footer: a fixed disk has it only at the end;
 * dynamic and differencing disks have a copy at offset 0, which is the
 * one used (as qemu does).  A valid fixed footer at the end wins, so a
 * fixed disk whose guest data starts with a VHD is read as fixed.
 */
static int
vpc_read_footer(struct vmc_image *img, struct vpc *v)
{
    struct vmc_handle *h = img->h;
    struct vpc_footer_disk head, tail;
    const struct vpc_footer_disk *use;
    uint64_t tail_off;
    uint32_t computed;

    if (img->file_size < VPC_FOOTER_SIZE) {
        vmc_error(h, "%s: file is %" PRIu64 " bytes, too small for a VHD "
                  "footer (512 bytes)", img->path, img->file_size);
        return -1;
    }
    tail_off = img->file_size - VPC_FOOTER_SIZE;
    if (vmc_file_pread_full(img->file, &head, sizeof head, 0) == -1 ||
        vmc_file_pread_full(img->file, &tail, sizeof tail, tail_off) == -1)
        return -1;

    if (vpc_has_cookie(&tail) && vpc_footer_sum_ok(&tail) &&
        vmc_be32(&tail.disk_type) == VPC_TYPE_FIXED) {
        use = &tail;
        v->footer_offset = tail_off;
    } else if (vpc_has_cookie(&head)) {
        use = &head;
        v->footer_offset = 0;
    } else if (vpc_has_cookie(&tail)) {
        use = &tail;
        v->footer_offset = tail_off;
    } else {
        uint8_t b[VPC_COOKIE_LEN];

        if (img->file_size >= VPC_FOOTER_SIZE - 1 + VPC_COOKIE_LEN &&
            vmc_file_pread_full(img->file, b, sizeof b,
                                img->file_size - (VPC_FOOTER_SIZE - 1)) == 0 &&
            memcmp(b, VPC_FOOTER_COOKIE, VPC_COOKIE_LEN) == 0) {
            vmc_error(h, "%s: 511-byte footer at offset %" PRIu64
                      " (Virtual PC before 2004): this VHD variant is not "
                      "supported yet", img->path,
                      img->file_size - (VPC_FOOTER_SIZE - 1));
            return -1;
        }
        vmc_error(h, "%s: not a VHD: no footer cookie \"conectix\" at "
                  "offset 0 or at offset %" PRIu64, img->path, tail_off);
        return -1;
    }

    computed = vpc_checksum(use, sizeof *use,
                            offsetof(struct vpc_footer_disk, checksum));
    if (vmc_be32(&use->checksum) != computed) {
        vmc_error(h, "%s: footer at offset %" PRIu64 ": footer checksum is "
                  "wrong (stored %08" PRIx32 ", computed %08" PRIx32 ")",
                  img->path, v->footer_offset, vmc_be32(&use->checksum),
                  computed);
        return -1;
    }
    vpc_decode_footer(use, &v->footer);
    return 0;
}

/* Creators whose disks current upstream qemu sizes by CHS geometry:
 * Virtual PC and qemu before force_size.  Every other creator (Hyper-V
 * "win ", Disk2vhd, XenServer, Azure, "qem2", ...) means CurrentSize.
 */
static bool
vpc_creator_uses_chs(const uint8_t app[4])
{
    return memcmp(app, "vpc ", 4) == 0 || memcmp(app, "qemu", 4) == 0;
}

/* Check the footer fields and set the virtual size. */
static int
vpc_set_size(struct vmc_image *img, struct vpc *v)
{
    struct vmc_handle *h = img->h;
    const struct vpc_footer *f = &v->footer;
    bool max_geometry;

    if (f->disk_type != VPC_TYPE_FIXED && f->disk_type != VPC_TYPE_DYNAMIC &&
        f->disk_type != VPC_TYPE_DIFF) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: footer at offset %" PRIu64 ": disk type %" PRIu32
                       " is not supported (2 fixed, 3 dynamic, 4 differencing)",
                       img->path, v->footer_offset, f->disk_type);
        return -1;
    }
    v->dynamic = f->disk_type != VPC_TYPE_FIXED;
    if (f->current_size > VPC_MAX_SIZE) {
        vmc_error(h, "%s: footer at offset %" PRIu64 ": current size %"
                  PRIu64 " is larger than the VHD maximum of 2040 GiB",
                  img->path, v->footer_offset, f->current_size);
        return -1;
    }
    if (f->current_size % VPC_SECTOR != 0) {
        vmc_error(h, "%s: footer at offset %" PRIu64 ": current size %"
                  PRIu64 " is not a multiple of 512", img->path,
                  v->footer_offset, f->current_size);
        return -1;
    }

    v->chs_size = (uint64_t) f->cylinders * f->heads * f->sectors *
        VPC_SECTOR;
    max_geometry = f->cylinders == VPC_CHS_MAX_C &&
        f->heads == VPC_CHS_MAX_H && f->sectors == VPC_CHS_MAX_S;
    v->use_chs = vpc_creator_uses_chs(f->creator_app) && !max_geometry &&
        v->chs_size != 0;
    img->size = v->use_chs ? v->chs_size : f->current_size;
    if (v->use_chs && v->chs_size != f->current_size)
        vmc_info(h, "%s: virtual size %" PRIu64 " from the CHS geometry "
                 "%u/%u/%u (creator \"%.4s\"); the footer's current size "
                 "is %" PRIu64, img->path, v->chs_size, f->cylinders,
                 f->heads, f->sectors, (const char *) f->creator_app,
                 f->current_size);

    if (!v->dynamic && img->size > img->file_size - VPC_FOOTER_SIZE) {
        vmc_error(h, "%s: fixed VHD is truncated: its virtual size %" PRIu64
                  " needs a file of %" PRIu64 " bytes, the file has %" PRIu64,
                  img->path, img->size, img->size + VPC_FOOTER_SIZE,
                  img->file_size);
        return -1;
    }
    if (f->saved_state)
        vmc_warning(h, "%s: the VM was in a saved state when this disk was "
                    "last used: its file systems may not be consistent",
                    img->path);
    return 0;
}

static void
vpc_decode_header(const struct vpc_header_disk *d, struct vpc_header *hd)
{
    int i;

    hd->data_offset = vmc_be64(&d->data_offset);
    hd->table_offset = vmc_be64(&d->table_offset);
    hd->version = vmc_be32(&d->version);
    hd->max_table_entries = vmc_be32(&d->max_table_entries);
    hd->block_size = vmc_be32(&d->block_size);
    hd->checksum = vmc_be32(&d->checksum);
    memcpy(hd->parent_uuid, d->parent_uuid, 16);
    hd->parent_timestamp = vmc_be32(&d->parent_timestamp);
    memcpy(hd->parent_name, d->parent_name, VPC_PARENT_NAME_BYTES);
    for (i = 0; i < VPC_MAX_LOCATORS; i++) {
        const struct vpc_locator_disk *l = &d->locators[i];

        hd->loc[i].code = vmc_be32(&l->platform_code);
        hd->loc[i].space = vmc_be32(&l->data_space);
        hd->loc[i].length = vmc_be32(&l->data_length);
        hd->loc[i].offset = vmc_be64(&l->data_offset);
    }
}

/* Read and check the dynamic disk header. */
static int
vpc_read_header(struct vmc_image *img, struct vpc *v)
{
    struct vmc_handle *h = img->h;
    struct vpc_header_disk d;
    struct vpc_header *hd = &v->header;
    uint64_t off = v->footer.data_offset, max_entries, needed;
    uint32_t computed;

    if (vmc_check_range(h, img->path, img->file_size, off, sizeof d,
                        "dynamic disk header") == -1)
        return -1;
    if (vmc_file_pread_full(img->file, &d, sizeof d, off) == -1)
        return -1;
    if (memcmp(d.cookie, VPC_HEADER_COOKIE, VPC_COOKIE_LEN) != 0) {
        vmc_error(h, "%s: dynamic disk header at offset %" PRIu64 ": bad "
                  "cookie (expected \"cxsparse\")", img->path, off);
        return -1;
    }
    computed = vpc_checksum(&d, sizeof d,
                            offsetof(struct vpc_header_disk, checksum));
    if (vmc_be32(&d.checksum) != computed) {
        vmc_error(h, "%s: dynamic disk header at offset %" PRIu64 ": header "
                  "checksum is wrong (stored %08" PRIx32 ", computed %08"
                  PRIx32 ")", img->path, off, vmc_be32(&d.checksum),
                  computed);
        return -1;
    }
    vpc_decode_header(&d, hd);

    if (!vmc_is_pow2(hd->block_size) || hd->block_size < VPC_MIN_BLOCK_SIZE) {
        vmc_error(h, "%s: dynamic disk header at offset %" PRIu64 ": block "
                  "size %" PRIu32 " is not a power of two >= 512",
                  img->path, off, hd->block_size);
        return -1;
    }
    v->block_size = hd->block_size;
    v->bitmap_size = vpc_bitmap_bytes(hd->block_size);

    needed = vmc_div_round_up(img->size, hd->block_size);
    max_entries = vmc_div_round_up(VPC_MAX_SIZE, hd->block_size);
    if (hd->max_table_entries < needed) {
        vmc_error(h, "%s: dynamic disk header at offset %" PRIu64 ": the "
                  "block allocation table has %" PRIu32 " entries, too few "
                  "for the virtual size %" PRIu64 " (needs %" PRIu64 ")",
                  img->path, off, hd->max_table_entries, img->size, needed);
        return -1;
    }
    if (hd->max_table_entries > max_entries) {
        vmc_error(h, "%s: dynamic disk header at offset %" PRIu64 ": the "
                  "block allocation table has %" PRIu32 " entries, more "
                  "than the %" PRIu64 " a 2040 GiB disk of %" PRIu32
                  "-byte blocks can use", img->path, off,
                  hd->max_table_entries, max_entries, hd->block_size);
        return -1;
    }
    v->nblocks = (uint32_t) needed;
    if (vmc_check_range(h, img->path, img->file_size, hd->table_offset,
                        (uint64_t) hd->max_table_entries * 4,
                        "block allocation table") == -1)
        return -1;
    img->cluster_size = hd->block_size;
    return 0;
}

/* Read the BAT and mark the entries whose block (bitmap and data) is
 * not inside the file before the trailing footer.  Those fail when
 * read; check lists them.
 */
static int
vpc_read_bat(struct vmc_image *img, struct vpc *v)
{
    struct vmc_handle *h = img->h;
    uint32_t n = v->header.max_table_entries, i;
    uint64_t limit = img->file_size - VPC_FOOTER_SIZE;
    uint64_t first_bad = 0;
    uint32_t first_bad_entry = 0;
    uint64_t nbad_used = 0;

    v->bat = vmc_calloc(h, img->path, n, sizeof *v->bat,
                        "block allocation table");
    if (v->bat == NULL)
        return -1;
    if (vmc_file_pread_full(img->file, v->bat, (size_t) n * 4,
                            v->header.table_offset) == -1)
        return -1;
    for (i = 0; i < n; i++) {
        uint64_t start, end;

        v->bat[i] = vmc_be32(&v->bat[i]);
        if (v->bat[i] == VPC_BAT_UNUSED)
            continue;
        start = (uint64_t) v->bat[i] * VPC_SECTOR;
        end = start + v->bitmap_size + v->block_size;
        if (end <= limit)
            continue;
        if (v->bad == NULL) {
            v->bad = vmc_calloc(h, img->path, vmc_div_round_up(n, 8), 1,
                                "bad block list");
            if (v->bad == NULL)
                return -1;
        }
        v->bad[i / 8] |= (uint8_t) (1u << (i % 8));
        v->nbad++;
        if (i < v->nblocks && nbad_used++ == 0) {
            first_bad = start;
            first_bad_entry = i;
        }
    }
    /* Not an error yet: the first read of such a block reports it,
     * and check lists them all.
     */
    if (nbad_used > 0)
        vmc_debug(h, "%s: %" PRIu64 " block allocation table entries "
                  "point outside the file (the first, entry %" PRIu32
                  ", to offset %" PRIu64 "); reading those blocks will "
                  "fail", img->path, nbad_used, first_bad_entry, first_bad);
    return 0;
}

/* Open an existing VHD (read-only): footer, size, and for dynamic and
 * differencing disks the header, the BAT and the parent.
 */
static int
vpc_open(struct vmc_image *img)
{
    struct vpc *v;

    if (img->writable) {
        vmc_error(img->h, "%s: opening an existing VHD for writing is not "
                  "supported yet", img->path);
        return -1;
    }
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        return -1;
    }
    img->priv = v;
    if (vpc_read_footer(img, v) == -1 || vpc_set_size(img, v) == -1)
        goto fail;
    if (v->dynamic) {
        if (vpc_read_header(img, v) == -1 || vpc_read_bat(img, v) == -1)
            goto fail;
        if (v->footer.disk_type == VPC_TYPE_DIFF &&
            vpc_open_parent(img) == -1)
            goto fail;
    }
    return 0;

fail:
    vpc_free(v);
    img->priv = NULL;
    return -1;
}

static void
vpc_close(struct vmc_image *img)
{
    vpc_free(img->priv);
    img->priv = NULL;
}

/* ---- Reading -------------------------------------------------------- */

/* The entry of block B, failing for entries that point outside the
 * file.  Sets *SECTOR (VPC_BAT_UNUSED for an absent block).
 */
static int
vpc_block(struct vmc_image *img, uint32_t b, uint32_t *sector)
{
    struct vpc *v = img->priv;

    *sector = vpc_bat_get(img, b);
    if (*sector != VPC_BAT_UNUSED && vpc_bat_bad(v, b)) {
        vmc_error(img->h, "%s: block allocation table entry %" PRIu32
                  " (at offset %" PRIu64 "): block at offset %" PRIu64
                  " length %" PRIu64 " is outside the file (%" PRIu64
                  " bytes, the last 512 of them the footer)", img->path, b,
                  v->header.table_offset + (uint64_t) b * 4,
                  (uint64_t) *sector * VPC_SECTOR,
                  (uint64_t) v->bitmap_size + v->block_size, img->file_size);
        return -1;
    }
    return 0;
}

/* The part of a block's bitmap covering sectors [S0, S1) of the block:
 * BM holds bytes from S0 / 8 on.
 */
struct vpc_bits {
    uint8_t *bm;
    uint32_t s0;                 /* first sector asked for */
    uint32_t base;               /* sector of bm[0] bit 7: s0 & ~7 */
    uint8_t stack[VPC_BITMAP_STACK];
    uint8_t *heap;
};

/* Read the bitmap bytes of sectors [S0, S1) of the block whose entry
 * (bitmap sector) is ENTRY.  The caller frees BITS->heap, even on error.
 */
static int
vpc_bits_read(struct vmc_image *img, uint32_t entry, uint32_t s0,
              uint32_t s1, struct vpc_bits *bits)
{
    uint32_t first = s0 / 8, len = (s1 - 1) / 8 + 1 - first;

    bits->heap = NULL;
    bits->s0 = s0;
    bits->base = first * 8;
    if (len <= sizeof bits->stack) {
        bits->bm = bits->stack;
    } else {
        bits->heap = vmc_malloc(img->h, img->path, len, "sector bitmap");
        if (bits->heap == NULL)
            return -1;
        bits->bm = bits->heap;
    }
    return vmc_file_pread_full(img->file, bits->bm, len,
                               (uint64_t) entry * VPC_SECTOR + first);
}

static bool
vpc_bit(const struct vpc_bits *bits, uint32_t s)
{
    uint32_t i = s - bits->base;

    return (bits->bm[i / 8] >> (7 - i % 8)) & 1;
}

/* The number of sectors from S (< S1) with the same bit as S; sets *SET. */
static uint32_t
vpc_bits_run(const struct vpc_bits *bits, uint32_t s, uint32_t s1, bool *set)
{
    uint32_t e = s + 1;

    *set = vpc_bit(bits, s);
    while (e < s1) {
        uint32_t i = e - bits->base;

        /* Whole bytes at a time when aligned. */
        if (i % 8 == 0 && e + 8 <= s1 &&
            bits->bm[i / 8] == (*set ? 0xff : 0x00)) {
            e += 8;
            continue;
        }
        if (vpc_bit(bits, e) != *set)
            break;
        e++;
    }
    return e - s;
}

/* Fixed disks: the host file's holes are zeros. */
static int
vpc_fixed_block_status(struct vmc_image *img, uint64_t offset,
                       uint64_t length, enum vmc_bs *type, uint64_t *run)
{
    enum vmc_file_extent t;

    if (vmc_file_extents(img->file, offset, length, &t, run) == -1)
        return -1;
    *type = t == VMC_FILE_HOLE ? VMC_BS_BACKING : VMC_BS_DATA;
    return 0;
}

/* Dynamic and differencing: absent blocks and sectors whose bitmap bit
 * is 0 are not in this layer (zeros for a dynamic disk, the parent's
 * data for a differencing one).  Merges runs over several blocks.
 */
static int
vpc_block_status(struct vmc_image *img, uint64_t offset, uint64_t length,
                 enum vmc_bs *type, uint64_t *run)
{
    struct vpc *v = img->priv;
    uint64_t pos = offset, end = offset + length, total = 0;
    unsigned bitmap_reads = 0;
    bool have = false;

    if (!v->dynamic)
        return vpc_fixed_block_status(img, offset, length, type, run);

    while (pos < end) {
        uint32_t b = (uint32_t) (pos / v->block_size);
        uint64_t inb = pos % v->block_size;
        uint64_t n = v->block_size - inb, r;
        uint32_t entry;
        enum vmc_bs t;

        if (n > end - pos)
            n = end - pos;
        if (vpc_block(img, b, &entry) == -1)
            return -1;
        if (entry == VPC_BAT_UNUSED) {
            t = VMC_BS_BACKING;
            r = n;
        } else {
            struct vpc_bits bits;
            uint32_t s0 = (uint32_t) (inb / VPC_SECTOR);
            uint32_t s1 = (uint32_t) vmc_div_round_up(inb + n, VPC_SECTOR);
            uint32_t ns;
            bool set;

            if (have && bitmap_reads >= VPC_BS_MAX_BITMAP_READS)
                break;
            bitmap_reads++;
            if (vpc_bits_read(img, entry, s0, s1, &bits) == -1) {
                free(bits.heap);
                return -1;
            }
            ns = vpc_bits_run(&bits, s0, s1, &set);
            free(bits.heap);
            t = set ? VMC_BS_DATA : VMC_BS_BACKING;
            r = (uint64_t) (s0 + ns) * VPC_SECTOR - inb;
            if (r > n)
                r = n;
        }
        if (have && t != *type)
            break;
        *type = t;
        have = true;
        total += r;
        pos += r;
        if (r < n)
            break;
    }
    *run = total;
    return 0;
}

/* Fill BUF with COUNT bytes at OFFSET that are not in this layer. */
static int
vpc_read_absent(struct vmc_image *img, uint8_t *buf, size_t count,
                uint64_t offset)
{
    struct vpc *v = img->priv;

    if (v->footer.disk_type == VPC_TYPE_DIFF)
        return vmc_image_backing_pread(img, buf, count, offset);
    memset(buf, 0, count);
    return 0;
}

/* Read COUNT bytes at byte INB of block B (inside the block). */
static int
vpc_read_in_block(struct vmc_image *img, uint8_t *buf, size_t count,
                  uint32_t b, uint64_t inb)
{
    struct vpc *v = img->priv;
    uint64_t voff = (uint64_t) b * v->block_size + inb, data;
    uint32_t entry, s0, s1, s;
    struct vpc_bits bits;
    int r = 0;

    if (vpc_block(img, b, &entry) == -1)
        return -1;
    if (entry == VPC_BAT_UNUSED)
        return vpc_read_absent(img, buf, count, voff);
    data = (uint64_t) entry * VPC_SECTOR + v->bitmap_size;
    s0 = (uint32_t) (inb / VPC_SECTOR);
    s1 = (uint32_t) vmc_div_round_up(inb + count, VPC_SECTOR);
    if (vpc_bits_read(img, entry, s0, s1, &bits) == -1)
        goto out;
    /* Coalesce runs of sectors with the same bit into one read. */
    for (s = s0; s < s1 && r == 0;) {
        bool set;
        uint32_t ns = vpc_bits_run(&bits, s, s1, &set);
        uint64_t from = (uint64_t) s * VPC_SECTOR, to;
        size_t len;

        to = (uint64_t) (s + ns) * VPC_SECTOR;
        if (from < inb)
            from = inb;
        if (to > inb + count)
            to = inb + count;
        len = (size_t) (to - from);
        if (set)
            r = vmc_file_pread_full(img->file, buf + (from - inb), len, data + from);
        else
            r = vpc_read_absent(img, buf + (from - inb), len,
                                (uint64_t) b * v->block_size + from);
        s += ns;
    }
    free(bits.heap);
    return r;

out:
    free(bits.heap);
    return -1;
}

/* Fixed: straight from the file.  Dynamic and differencing: block by
 * block, runs of sectors with the same bitmap bit in one read each.
 */
static int
vpc_pread(struct vmc_image *img, void *buf, size_t count, uint64_t offset)
{
    struct vpc *v = img->priv;
    uint8_t *p = buf;

    if (!v->dynamic)
        return vmc_file_pread_full(img->file, buf, count, offset);
    while (count > 0) {
        uint32_t b = (uint32_t) (offset / v->block_size);
        uint64_t inb = offset % v->block_size;
        size_t n = count;

        if (n > v->block_size - inb)
            n = (size_t) (v->block_size - inb);
        if (vpc_read_in_block(img, p, n, b, inb) == -1)
            return -1;
        p += n;
        offset += n;
        count -= n;
    }
    return 0;
}

const struct vmc_format_ops vmc_format_vpc = {
    .name = "vpc",
    .description = "VHD (Virtual PC, Hyper-V, Azure): fixed, dynamic, "
                   "differencing",
    /* Blocks are zeros until written, and written at fixed places. */
    .partial_cluster_writes = true,
    .create_opts = vpc_create_opts,
    .probe = vpc_probe,
    .open = vpc_open,
    .close = vpc_close,
    .block_status = vpc_block_status,
    .pread = vpc_pread,
    .create = vpc_create,
    .pwrite = vpc_pwrite,
    .reserve = vpc_reserve,
    .flush = vpc_flush,
    .info = vpc_info,
    .check = vpc_check,
};
