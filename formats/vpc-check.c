/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHD info (format fields for `vmconv disk info`) and structural check
 * (footers, header, BAT, locators).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vpc-internal.h"

/* ---- Info ----------------------------------------------------------- */

/* A four-character code as text: printable bytes as they are, others
 * as \xNN ("tap\x00").
 */
static struct json_object *
vpc_fourcc_json(const uint8_t c[4])
{
    char buf[4 * 4 + 1];
    size_t o = 0;
    int i;

    for (i = 0; i < 4; i++) {
        if (c[i] >= 0x20 && c[i] < 0x7f && c[i] != '\\')
            buf[o++] = (char) c[i];
        else
            o += (size_t) snprintf(buf + o, sizeof buf - o, "\\x%02x", c[i]);
    }
    buf[o] = '\0';
    return json_object_new_string(buf);
}

static struct json_object *
vpc_uuid_json(const uint8_t u[16])
{
    char s[37];

    snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
             u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return json_object_new_string(s);
}

/* Add the VHD fields of `vmconv disk info` to O. */
int
vpc_info(struct vmc_image *img, struct json_object *o)
{
    struct vpc *v = img->priv;
    const struct vpc_footer *f = &v->footer;
    struct json_object *geo;
    uint8_t os[4];
    char ver[32];

    json_object_object_add(o, "subformat", json_object_new_string(
        f->disk_type == VPC_TYPE_FIXED ? "fixed" :
        f->disk_type == VPC_TYPE_DYNAMIC ? "dynamic" : "differencing"));
    json_object_object_add(o, "creator-app", vpc_fourcc_json(f->creator_app));
    snprintf(ver, sizeof ver, "%u.%u", f->creator_version >> 16,
             f->creator_version & 0xFFFF);
    json_object_object_add(o, "creator-version", json_object_new_string(ver));
    vmc_put_be32(os, f->creator_os);
    json_object_object_add(o, "creator-os", vpc_fourcc_json(os));
    json_object_object_add(o, "current-size",
                           json_object_new_int64((int64_t) f->current_size));
    json_object_object_add(o, "chs-size",
                           json_object_new_int64((int64_t) v->chs_size));
    json_object_object_add(o, "virtual-size-from", json_object_new_string(
        v->use_chs ? "chs" : "current-size"));
    geo = json_object_new_object();
    json_object_object_add(geo, "cylinders",
                           json_object_new_int(f->cylinders));
    json_object_object_add(geo, "heads", json_object_new_int(f->heads));
    json_object_object_add(geo, "sectors", json_object_new_int(f->sectors));
    json_object_object_add(o, "geometry", geo);
    json_object_object_add(o, "uuid", vpc_uuid_json(f->uuid));
    json_object_object_add(o, "saved-state",
                           json_object_new_boolean(f->saved_state != 0));
    if (f->disk_type == VPC_TYPE_DIFF) {
        json_object_object_add(o, "parent-uuid",
                               vpc_uuid_json(v->header.parent_uuid));
        if (v->parent_name)
            json_object_object_add(o, "parent-name",
                                   json_object_new_string(v->parent_name));
    }
    return 0;
}

/* ---- Check ---------------------------------------------------------- */

struct vpc_region {
    uint64_t start, end;
    const char *what;
    uint32_t entry;              /* BAT entry for blocks */
};

/* The footers: the trailing one must be valid and, for dynamic disks,
 * equal to the copy at offset 0.
 */
static int
vpc_check_footers(struct vmc_image *img, struct vmc_check_result *r)
{
    struct vpc *v = img->priv;
    struct vpc_footer_disk head, tail;
    uint64_t tail_off = img->file_size - VPC_FOOTER_SIZE;
    uint32_t sum;

    if (!(v->footer.features & VPC_FEATURE_RESERVED))
        vmc_check_note(r, "footer features %08" PRIx32 " lack the reserved "
                       "bit 0x2 every writer sets", v->footer.features);
    if (vmc_file_pread_full(img->file, &tail, sizeof tail, tail_off) == -1 ||
        vmc_file_pread_full(img->file, &head, sizeof head, 0) == -1)
        return -1;
    if (!v->dynamic) {
        if (img->size < tail_off)
            vmc_check_note(r, "%" PRIu64 " bytes between the end of the data "
                           "(%" PRIu64 ") and the footer at offset %" PRIu64,
                           tail_off - img->size, img->size, tail_off);
        return 0;
    }
    if (v->footer_offset != 0)
        vmc_check_error(r, "the footer copy at offset 0 is missing (the "
                        "footer at the end, offset %" PRIu64 ", was used)",
                        tail_off);
    if (memcmp(tail.cookie, VPC_FOOTER_COOKIE, VPC_COOKIE_LEN) != 0) {
        vmc_check_error(r, "no footer at the end of the file (offset %"
                        PRIu64 "): the file is truncated or was not closed",
                        tail_off);
        return 0;
    }
    sum = vpc_checksum(&tail, sizeof tail,
                       offsetof(struct vpc_footer_disk, checksum));
    if (vmc_be32(&tail.checksum) != sum)
        vmc_check_error(r, "footer at offset %" PRIu64 ": checksum is wrong "
                        "(stored %08" PRIx32 ", computed %08" PRIx32 ")",
                        tail_off, vmc_be32(&tail.checksum), sum);
    if (v->footer_offset == 0 && memcmp(&head, &tail, sizeof head) != 0)
        vmc_check_error(r, "the footer copy at offset 0 differs from the "
                        "footer at offset %" PRIu64, tail_off);
    return 0;
}

static int
vpc_region_cmp(const void *a, const void *b)
{
    const struct vpc_region *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* Regions still open at a point that overlaps are compared with; past
 * this many (only in a badly damaged BAT) just the furthest-reaching.
 */
#define VPC_CHECK_ACTIVE 64

static void
vpc_report_overlap(const struct vpc_region *a, const struct vpc_region *b,
                   struct vmc_check_result *r)
{
    if (a->what == NULL && b->what == NULL) {
        vmc_check_error(r, "blocks of BAT entries %" PRIu32 " and %" PRIu32
                        " overlap at offset %" PRIu64, a->entry, b->entry,
                        b->start);
    } else if (a->what == NULL || b->what == NULL) {
        const struct vpc_region *blk = a->what ? b : a;
        const struct vpc_region *meta = a->what ? a : b;

        vmc_check_error(r, "block of BAT entry %" PRIu32 " (offset %" PRIu64
                        ") overlaps the %s at offset %" PRIu64, blk->entry,
                        blk->start, meta->what, meta->start);
    } else {
        vmc_check_error(r, "the %s at offset %" PRIu64 " overlaps the %s at "
                        "offset %" PRIu64, b->what, b->start, a->what,
                        a->start);
    }
}

/* Report overlaps between the regions (sorted here). */
static void
vpc_check_overlaps(struct vpc_region *reg, size_t n,
                   struct vmc_check_result *r)
{
    size_t active[VPC_CHECK_ACTIVE];
    size_t nactive = 0, far = 0, i, j, k;

    qsort(reg, n, sizeof *reg, vpc_region_cmp);
    for (i = 0; i < n; i++) {
        /* Drop the regions that end before this one starts. */
        for (j = k = 0; j < nactive; j++)
            if (reg[active[j]].end > reg[i].start)
                active[k++] = active[j];
        nactive = k;
        for (j = 0; j < nactive; j++)
            vpc_report_overlap(&reg[active[j]], &reg[i], r);
        if (nactive == 0 && i > 0 && reg[far].end > reg[i].start)
            vpc_report_overlap(&reg[far], &reg[i], r);
        if (nactive < VPC_CHECK_ACTIVE)
            active[nactive++] = i;
        if (i == 0 || reg[i].end > reg[far].end)
            far = i;
    }
}

/* Metadata regions of a dynamic disk: footer copy, header, BAT and the
 * locators' data.  Adds them to REG (room for 4 + locators).
 */
static size_t
vpc_metadata_regions(struct vmc_image *img, struct vpc_region *reg,
                     struct vmc_check_result *r)
{
    struct vpc *v = img->priv;
    const struct vpc_header *hd = &v->header;
    size_t n = 0;
    int i;

    reg[n++] = (struct vpc_region) { 0, VPC_FOOTER_SIZE,
                                     "footer copy", 0 };
    reg[n++] = (struct vpc_region) { v->footer.data_offset,
                                     v->footer.data_offset + VPC_HEADER_SIZE,
                                     "dynamic disk header", 0 };
    reg[n++] = (struct vpc_region) {
        hd->table_offset,
        hd->table_offset + (uint64_t) hd->max_table_entries * 4,
        "block allocation table", 0 };
    reg[n++] = (struct vpc_region) { img->file_size - VPC_FOOTER_SIZE,
                                     img->file_size, "footer", 0 };
    for (i = 0; i < VPC_MAX_LOCATORS; i++) {
        const struct vpc_locator *l = &hd->loc[i];
        uint64_t end;

        if (l->code == VPC_PLAT_NONE || l->length == 0)
            continue;
        if (vmc_add_overflow(l->offset, l->length, &end) ||
            end > img->file_size) {
            vmc_check_error(r, "parent locator %d: data at offset %" PRIu64
                            " length %" PRIu32 " is outside the file", i,
                            l->offset, l->length);
            continue;
        }
        reg[n++] = (struct vpc_region) { l->offset, end,
                                         "parent locator data", 0 };
    }
    return n;
}

static int
vpc_check_bat(struct vmc_image *img, struct vmc_check_result *r)
{
    struct vpc *v = img->priv;
    uint32_t n = v->header.max_table_entries, i;
    uint64_t nalloc = 0;
    size_t nreg;
    CLEANUP_FREE struct vpc_region *reg = NULL;

    for (i = 0; i < n; i++)
        if (vpc_bat_get(img, i) != VPC_BAT_UNUSED)
            nalloc++;
    reg = vmc_calloc(img->h, img->path, nalloc + 4 + VPC_MAX_LOCATORS,
                     sizeof *reg, "check regions");
    if (reg == NULL)
        return -1;
    nreg = vpc_metadata_regions(img, reg, r);
    for (i = 0; i < n; i++) {
        uint32_t e = vpc_bat_get(img, i);
        uint64_t start = (uint64_t) e * VPC_SECTOR;

        if (e == VPC_BAT_UNUSED)
            continue;
        if (vpc_bat_bad(v, i)) {
            vmc_check_error(r, "BAT entry %" PRIu32 ": block at offset %"
                            PRIu64 " length %" PRIu64 " is outside the file "
                            "or overlaps the footer at offset %" PRIu64, i,
                            start, (uint64_t) v->bitmap_size + v->block_size,
                            img->file_size - VPC_FOOTER_SIZE);
            continue;
        }
        if (i >= v->nblocks)
            vmc_check_leak(r, "BAT entry %" PRIu32 " is past the virtual "
                           "size but has a block at offset %" PRIu64, i,
                           start);
        reg[nreg++] = (struct vpc_region) {
            start, start + v->bitmap_size + v->block_size, NULL, i };
    }
    vpc_check_overlaps(reg, nreg, r);
    return 0;
}

/* Check the footers, the size rule, and for dynamic and differencing
 * disks the BAT against the file and the metadata.
 */
int
vpc_check(struct vmc_image *img, struct vmc_check_result *r)
{
    struct vpc *v = img->priv;

    if (vpc_check_footers(img, r) == -1)
        return -1;
    if (v->use_chs && v->chs_size != v->footer.current_size)
        vmc_check_note(r, "virtual size %" PRIu64 " comes from the CHS "
                       "geometry (creator \"%.4s\"); the footer's current "
                       "size is %" PRIu64, v->chs_size,
                       (const char *) v->footer.creator_app,
                       v->footer.current_size);
    if (v->dynamic && vpc_check_bat(img, r) == -1)
        return -1;
    return 0;
}
