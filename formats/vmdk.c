/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmdk: VMware virtual disks.  A disk is a text descriptor (a file of
 * its own, or embedded in a sparse extent) listing extents that are
 * concatenated: flat files, hosted sparse files (monolithicSparse,
 * twoGbMaxExtentSparse, streamOptimized), ESXi redo logs (COWD,
 * seSparse) and zero extents.  This file probes, opens a disk with its
 * extents and parent, and reads it; vmdk-descriptor.c, vmdk-sparse.c,
 * vmdk-check.c and vmdk-write.c do the rest.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vmdk-internal.h"

/* Block status merges at most this many lookups per call. */
#define VMDK_BS_MAX_LOOKUPS 64

/* createTypes that name raw devices: refused. */
static const char *const vmdk_raw_create_types[] = {
    "vmfsRDM", "vmfsRawDeviceMap", "vmfsRDMP", "vmfsPassthroughRawDeviceMap",
    "vmfsRaw", "fullDevice", "partitionedDevice", NULL
};

static int
vmdk_probe(const struct vmc_probe *p)
{
    if (vmdk_sparse_magic(p->head, p->head_len) != -1)
        return 100;
    if (vmdk_desc_probe(p->head, p->head_len, p->file_size))
        return 100;
    return 0;
}

static void
vmdk_free(struct vmdk *v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->nextents; i++) {
        struct vmdk_extent *e = &v->extents[i];

        vmdk_sparse_free(e->sparse);
        if (e->own_file)
            vmc_file_close(e->file);
        free(e->filename);
        free(e->path);
    }
    free(v->extents);
    vmdk_desc_free(&v->desc);
    vmdk_writer_free(v->w);
    free(v);
}

static void
vmdk_close(struct vmc_image *img)
{
    vmdk_free(img->priv);
    img->priv = NULL;
}

static const char *
vmdk_sparse_type_name(const struct vmdk_sparse *s)
{
    switch (s->kind) {
    case VMDK_SPARSE_COWD:
        return "VMFSSPARSE";
    case VMDK_SPARSE_SE:
        return "SESPARSE";
    default:
        return "SPARSE";
    }
}

/* The file itself is a sparse extent (its descriptor, if any, is
 * embedded): one extent covering the header's capacity.
 */
static int
vmdk_open_sparse_file(struct vmc_image *img, struct vmdk *v)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE char *text = NULL;
    struct vmdk_extent *e;
    struct vmdk_sparse *s;

    v->extents = calloc(1, sizeof *v->extents);
    if (v->extents == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    e = &v->extents[0];
    e->file = img->file;
    e->own_file = false;
    e->path = strdup(img->path);
    e->filename = strdup(img->path);
    if (e->path == NULL || e->filename == NULL) {
        vmc_error(h, "%s: %m", img->path);
        free(e->path);
        free(e->filename);
        free(v->extents);
        v->extents = NULL;
        return -1;
    }
    v->nextents = 1;
    e->type = VMDK_EXT_SPARSE;
    e->file_size = img->file_size;
    s = vmdk_sparse_open(h, e->path, e->file, e->file_size, &text);
    if (s == NULL)
        return -1;
    e->sparse = s;
    e->type_name = vmdk_sparse_type_name(s);
    e->length = s->capacity * VMDK_SECTOR;
    if (s->kind != VMDK_SPARSE_HOSTED)
        vmc_warning(h, "%s: this is an ESXi delta extent (%s) without its "
                    "descriptor: its parent disk is not read, so unwritten "
                    "areas read as zeros (open the descriptor .vmdk that "
                    "names it instead)", img->path, e->type_name);
    if (text) {
        uint64_t sum = 0;
        size_t i;

        v->has_desc = true;
        v->desc_embedded = true;
        if (vmdk_desc_parse(h, img->path, text, strlen(text), &v->desc) == -1)
            return -1;
        /* The file is the disk; the extent lines only describe it. */
        for (i = 0; i < v->desc.nextents; i++)
            sum += v->desc.extents[i].sectors;
        if (v->desc.nextents > 0 && sum != s->capacity)
            vmc_warning(h, "%s: the embedded descriptor's extents add up to "
                        "%" PRIu64 " sectors but the header's capacity is %"
                        PRIu64 "; using the header", img->path, sum,
                        s->capacity);
    }
    return 0;
}

/* Open the extent the descriptor line X describes into E. */
static int
vmdk_open_extent(struct vmc_image *img, const struct vmdk_desc_extent *x,
                 struct vmdk_extent *e)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE char *name = NULL;
    uint64_t end;

    e->type = x->type;
    e->type_name = x->type_name;
    e->length = x->sectors * VMDK_SECTOR;
    if (x->type == VMDK_EXT_ZERO)
        return 0;
    e->filename = strdup(x->filename);
    if (e->filename == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    /* Names written on Windows or ESXi: see vmc_image_find_name.  When
     * nothing is found, opening the name as written gives the error.
     */
    if (vmc_image_find_name(img, x->filename, "extent", &name) == -1)
        return -1;
    e->file = vmc_image_open_related(img, name ? name : x->filename,
                                     "extent", &e->path);
    if (e->file == NULL)
        return -1;
    e->own_file = true;
    if (vmc_file_get_size(e->file, &e->file_size) == -1)
        return -1;

    if (x->type == VMDK_EXT_FLAT) {
        e->flat_offset = x->offset * VMDK_SECTOR;
        if (vmc_add_overflow(e->flat_offset, e->length, &end) ||
            end > e->file_size) {
            vmc_error(h, "%s: descriptor line %u: %s extent '%s' needs %"
                      PRIu64 " bytes from offset %" PRIu64 " but the file "
                      "has %" PRIu64, img->path, x->line, x->type_name,
                      x->filename, e->length, e->flat_offset, e->file_size);
            return -1;
        }
        return 0;
    }

    e->sparse = vmdk_sparse_open(h, e->path, e->file, e->file_size, NULL);
    if (e->sparse == NULL)
        return -1;
    if (e->sparse->capacity != x->sectors) {
        vmc_error(h, "%s: descriptor line %u: extent '%s' has %" PRIu64
                  " sectors but its header says %" PRIu64, img->path,
                  x->line, x->filename, x->sectors, e->sparse->capacity);
        return -1;
    }
    return 0;
}

/* The file is a text descriptor naming the extents. */
static int
vmdk_open_descriptor_file(struct vmc_image *img, struct vmdk *v)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE char *text = NULL;
    uint64_t sum = 0;
    size_t i, len;

    if (img->file_size > VMDK_MAX_DESC_SIZE) {
        vmc_error(h, "%s: not a VMDK descriptor: the file has %" PRIu64
                  " bytes, more than the %u a descriptor may have",
                  img->path, img->file_size, VMDK_MAX_DESC_SIZE);
        return -1;
    }
    text = malloc(img->file_size + 1);
    if (text == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    if (vmc_file_pread_full(img->file, text, img->file_size, 0) == -1)
        return -1;
    text[img->file_size] = '\0';
    /* The descriptor is a C string: qemu-img pads it with NULs to a
     * sector, and when it rewrites the CID it can leave the end of the
     * old text after the new NUL.  What comes first must look like a
     * descriptor.
     */
    len = strlen(text);
    if (!vmdk_desc_probe((const uint8_t *) text, len, len)) {
        vmc_error(h, "%s: not a VMDK image: no sparse extent magic number "
                  "and not a text descriptor", img->path);
        return -1;
    }
    v->has_desc = true;
    if (vmdk_desc_parse(h, img->path, text, len, &v->desc) == -1)
        return -1;
    if (v->desc.create_type)
        for (i = 0; vmdk_raw_create_types[i]; i++)
            if (strcasecmp(v->desc.create_type, vmdk_raw_create_types[i]) == 0) {
                vmc_error(h, "%s: createType \"%s\" is a raw device disk; "
                          "raw devices and raw device mappings are not "
                          "supported (copy the device itself)", img->path,
                          v->desc.create_type);
                return -1;
            }
    if (v->desc.nextents == 0) {
        vmc_error(h, "%s: the descriptor lists no extents", img->path);
        return -1;
    }
    v->extents = calloc(v->desc.nextents, sizeof *v->extents);
    if (v->extents == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    for (i = 0; i < v->desc.nextents; i++) {
        const struct vmdk_desc_extent *x = &v->desc.extents[i];

        v->nextents = i + 1;
        if (vmc_add_overflow(sum, x->sectors, &sum) ||
            sum > VMDK_MAX_SECTORS) {
            vmc_error(h, "%s: descriptor line %u: the extents add up to more "
                      "than %llu sectors", img->path, x->line,
                      VMDK_MAX_SECTORS);
            return -1;
        }
        v->extents[i].start = (sum - x->sectors) * VMDK_SECTOR;
        if (vmdk_open_extent(img, x, &v->extents[i]) == -1)
            return -1;
    }
    return 0;
}

/* Open the parent of a delta link and check its CID. */
static int
vmdk_open_parent(struct vmc_image *img, struct vmdk *v)
{
    struct vmc_handle *h = img->h;
    const struct vmdk_desc *d = &v->desc;
    CLEANUP_FREE char *name = NULL;
    const struct vmdk *pv;
    char want[32], got[32];

    if (!v->has_desc || !d->has_parent_cid || d->parent_cid == VMDK_CID_NONE)
        return 0;
    if (img->flags & VMC_IMAGE_NO_BACKING)
        return 0;
    if (d->parent_hint == NULL || d->parent_hint[0] == '\0') {
        vmc_error(h, "%s: the descriptor has parentCID=%08" PRIx32 " but no "
                  "parentFileNameHint: the parent disk cannot be found",
                  img->path, d->parent_cid);
        return -1;
    }
    if (vmc_image_find_name(img, d->parent_hint, "parentFileNameHint",
                            &name) == -1)
        return -1;
    if (vmc_image_open_backing(img, name ? name : d->parent_hint, "vmdk",
                               "parentFileNameHint") == -1)
        return -1;

    pv = img->backing->priv;
    if (!pv->has_desc || !pv->desc.has_cid)
        snprintf(got, sizeof got, "no descriptor CID");
    else if (pv->desc.cid != d->parent_cid)
        snprintf(got, sizeof got, "CID=%08" PRIx32, pv->desc.cid);
    else
        return 0;
    snprintf(want, sizeof want, "parentCID=%08" PRIx32, d->parent_cid);
    if (vmc_image_parent_mismatch(img, "CID", want, got) == 0)
        return 0;
    vmc_image_close(img->backing);
    img->backing = NULL;
    return -1;
}

static int
vmdk_open(struct vmc_image *img)
{
    struct vmc_handle *h = img->h;
    struct vmdk *v;
    uint8_t head[8] = { 0 };
    size_t n = img->file_size < sizeof head ? img->file_size : sizeof head;
    uint64_t size = 0;
    size_t i;
    int r;

    if (img->writable) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: changing an existing VMDK image is not supported "
                       "yet (vmconv only reads VMDK images and creates new ones)",
                       img->path);
        return -1;
    }
    if (vmc_file_pread_full(img->file, head, n, 0) == -1)
        return -1;
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        vmc_error(h, "%s: %m", img->path);
        return -1;
    }
    if (vmdk_sparse_magic(head, n) != -1)
        r = vmdk_open_sparse_file(img, v);
    else
        r = vmdk_open_descriptor_file(img, v);
    if (r == -1) {
        vmdk_free(v);
        return -1;
    }
    for (i = 0; i < v->nextents; i++) {
        size += v->extents[i].length;
        if (img->cluster_size == 0 && v->extents[i].sparse)
            img->cluster_size =
                (uint32_t) (v->extents[i].sparse->grain * VMDK_SECTOR);
    }
    img->size = size;
    img->priv = v;
    if (vmdk_open_parent(img, v) == -1) {
        img->priv = NULL;
        vmdk_free(v);
        return -1;
    }
    return 0;
}

/* ---- Reading ------------------------------------------------------ */

/* The extent holding virtual byte OFFSET (< img->size). */
static struct vmdk_extent *
vmdk_find_extent(const struct vmdk *v, uint64_t offset)
{
    size_t lo = 0, hi = v->nextents;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (v->extents[mid].start <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return &v->extents[lo];
}

static int
vmdk_not_readable(struct vmc_image *img)
{
    vmc_error_kind(img->h, VMC_ERR_UNSUPPORTED,
                   "%s: reading a VMDK image while it is being created "
                   "is not supported", img->path);
    return -1;
}

/* A flat extent's holes read as zeros. */
static int
vmdk_flat_status(struct vmc_image *img, struct vmdk_extent *e, uint64_t off,
                 uint64_t length, enum vmc_bs *type, uint64_t *run)
{
    enum vmc_file_extent t;

    if (vmc_file_extents(e->file, e->flat_offset + off, length, &t,
                         run) == -1)
        return -1;
    *type = t == VMC_FILE_HOLE ? VMC_BS_ZERO : VMC_BS_DATA;
    return 0;
}

static enum vmc_bs
vmdk_map_bs(enum vmdk_map_kind k)
{
    switch (k) {
    case VMDK_MAP_UNALLOC:
        return VMC_BS_BACKING;
    case VMDK_MAP_ZERO:
        return VMC_BS_ZERO;
    default:
        return VMC_BS_DATA;
    }
}

static int
vmdk_block_status(struct vmc_image *img, uint64_t offset, uint64_t length,
                  enum vmc_bs *type, uint64_t *run)
{
    struct vmdk *v = img->priv;
    struct vmdk_extent *e;
    struct vmdk_map m;
    uint64_t off, done;
    unsigned i;

    if (v->w)
        return vmdk_not_readable(img);
    e = vmdk_find_extent(v, offset);
    off = offset - e->start;
    if (length > e->length - off)
        length = e->length - off;
    switch (e->type) {
    case VMDK_EXT_ZERO:
        *type = VMC_BS_ZERO;
        *run = length;
        return 0;
    case VMDK_EXT_FLAT:
        return vmdk_flat_status(img, e, off, length, type, run);
    case VMDK_EXT_SPARSE:
        break;
    }
    if (vmdk_sparse_map(img->h, e->sparse, off, length, false, &m) == -1)
        return -1;
    *type = vmdk_map_bs(m.kind);
    done = m.length;
    for (i = 1; i < VMDK_BS_MAX_LOOKUPS && done < length; i++) {
        if (vmdk_sparse_map(img->h, e->sparse, off + done, length - done,
                            false, &m) == -1)
            return -1;
        if (vmdk_map_bs(m.kind) != *type)
            break;
        done += m.length;
    }
    *run = done;
    return 0;
}

/* vmdk_sparse_pread's work, with GR holding the buffers and
 * decompressors shared by the compressed grains of this one call.
 */
static int
vmdk_sparse_pread_loop(struct vmc_image *img, struct vmdk_extent *e,
                       struct vmdk_grain_reader *gr, uint8_t *buf,
                       size_t count, uint64_t off, uint64_t voff)
{
    struct vmdk_sparse *s = e->sparse;
    uint64_t gbytes = s->grain * VMDK_SECTOR;
    CLEANUP_FREE uint8_t *grain = NULL;

    while (count > 0) {
        struct vmdk_map m;
        uint64_t gstart;

        if (vmdk_sparse_map(img->h, s, off, count, true, &m) == -1)
            return -1;
        switch (m.kind) {
        case VMDK_MAP_UNALLOC:
            if (vmc_image_backing_pread(img, buf, m.length, voff) == -1)
                return -1;
            break;
        case VMDK_MAP_ZERO:
            memset(buf, 0, m.length);
            break;
        case VMDK_MAP_DATA:
            if (vmc_file_pread_full(e->file, buf, m.length,
                                    m.file_offset) == -1)
                return -1;
            break;
        case VMDK_MAP_COMPRESSED:
            gstart = off - off % gbytes;
            if (gstart == off && m.length == gbytes) {
                /* The whole grain is wanted: inflate in place. */
                if (vmdk_sparse_read_grain(img->h, s, gr, gstart,
                                           m.file_offset, buf) == -1)
                    return -1;
                break;
            }
            if (grain == NULL) {
                grain = malloc(gbytes);
                if (grain == NULL) {
                    vmc_error(img->h, "%s: %m", img->path);
                    return -1;
                }
            }
            if (vmdk_sparse_read_grain(img->h, s, gr, gstart, m.file_offset,
                                       grain) == -1)
                return -1;
            memcpy(buf, grain + (off - gstart), m.length);
            break;
        }
        buf += m.length;
        count -= m.length;
        off += m.length;
        voff += m.length;
    }
    return 0;
}

/* Read COUNT bytes at extent offset OFF of sparse extent E (virtual
 * offset VOFF) into BUF.
 */
static int
vmdk_sparse_pread(struct vmc_image *img, struct vmdk_extent *e, uint8_t *buf,
                  size_t count, uint64_t off, uint64_t voff)
{
    struct vmdk_grain_reader gr;
    int r;

    memset(&gr, 0, sizeof gr);
    r = vmdk_sparse_pread_loop(img, e, &gr, buf, count, off, voff);
    vmdk_grain_reader_free(&gr);
    return r;
}

static int
vmdk_pread(struct vmc_image *img, void *buf, size_t count, uint64_t offset)
{
    struct vmdk *v = img->priv;
    uint8_t *p = buf;

    if (v->w)
        return vmdk_not_readable(img);
    while (count > 0) {
        struct vmdk_extent *e = vmdk_find_extent(v, offset);
        uint64_t off = offset - e->start;
        size_t n = count;

        if (n > e->length - off)
            n = (size_t) (e->length - off);
        switch (e->type) {
        case VMDK_EXT_ZERO:
            memset(p, 0, n);
            break;
        case VMDK_EXT_FLAT:
            if (vmc_file_pread_full(e->file, p, n, e->flat_offset + off) == -1)
                return -1;
            break;
        case VMDK_EXT_SPARSE:
            if (vmdk_sparse_pread(img, e, p, n, off, offset) == -1)
                return -1;
            break;
        }
        p += n;
        count -= n;
        offset += n;
    }
    return 0;
}

/* ---- Info --------------------------------------------------------- */

static void
vmdk_json_str(struct json_object *o, const char *key, const char *val)
{
    if (val)
        json_object_object_add(o, key, json_object_new_string(val));
}

static void
vmdk_json_cid(struct json_object *o, const char *key, uint32_t cid)
{
    char buf[16];

    snprintf(buf, sizeof buf, "%08" PRIx32, cid);
    json_object_object_add(o, key, json_object_new_string(buf));
}

static const char *
vmdk_subformat(const struct vmdk *v)
{
    const struct vmdk_sparse *s;

    if (v->has_desc && v->desc.create_type)
        return v->desc.create_type;
    if (v->nextents != 1 || v->extents[0].sparse == NULL)
        return NULL;
    s = v->extents[0].sparse;
    if (s->kind == VMDK_SPARSE_COWD)
        return "vmfsSparse";
    if (s->kind == VMDK_SPARSE_SE)
        return "seSparse";
    return s->compressed ? "streamOptimized" : "monolithicSparse";
}

static int
vmdk_info(struct vmc_image *img, struct json_object *o)
{
    struct vmdk *v = img->priv;
    const struct vmdk_desc *d = &v->desc;
    struct json_object *arr;
    bool dirty = false;
    size_t i;

    if (v->w) {
        json_object_object_add(o, "subformat", json_object_new_string(
                                   "being created"));
        return 0;
    }
    vmdk_json_str(o, "subformat", vmdk_subformat(v));
    if (v->has_desc) {
        if (d->has_cid)
            vmdk_json_cid(o, "cid", d->cid);
        if (d->has_parent_cid)
            vmdk_json_cid(o, "parent-cid", d->parent_cid);
        vmdk_json_str(o, "parent-filename-hint", d->parent_hint);
        vmdk_json_str(o, "adapter-type", d->adapter_type);
        vmdk_json_str(o, "hw-version", d->hw_version);
        vmdk_json_str(o, "long-content-id", d->long_content_id);
        vmdk_json_str(o, "uuid", d->uuid);
        if (d->thin)
            json_object_object_add(o, "thin-provisioned",
                                   json_object_new_boolean(true));
    }
    arr = json_object_new_array();
    if (arr == NULL)
        return -1;
    for (i = 0; i < v->nextents; i++) {
        const struct vmdk_extent *e = &v->extents[i];
        struct json_object *x = json_object_new_object();

        if (x == NULL) {
            json_object_put(arr);
            return -1;
        }
        vmdk_json_str(x, "filename", e->path);
        vmdk_json_str(x, "type", e->type_name);
        json_object_object_add(x, "size",
                               json_object_new_int64((int64_t) e->length));
        json_object_object_add(x, "compressed", json_object_new_boolean(
                                   e->sparse && e->sparse->compressed));
        if (e->sparse) {
            json_object_object_add(x, "cluster-size", json_object_new_int64(
                                       (int64_t) (e->sparse->grain *
                                                  VMDK_SECTOR)));
            if (e->sparse->kind == VMDK_SPARSE_HOSTED)
                json_object_object_add(x, "version", json_object_new_int(
                                           (int) e->sparse->version));
            dirty = dirty || e->sparse->unclean;
        }
        json_object_array_add(arr, x);
    }
    json_object_object_add(o, "extents", arr);
    json_object_object_add(o, "dirty", json_object_new_boolean(dirty));
    return 0;
}

/* The driver.  An image created as streamOptimized gets the second
 * table: its grains are compressed by encode on any thread and
 * appended in increasing offset order; the other subformats take plain
 * pwrite from several threads at once (monolithicSparse after its
 * grains were reserved in offset order).
 */
#define VMDK_OPS_COMMON                                         \
    .name = "vmdk",                                             \
    .description = "VMware virtual disk (sparse, flat, "        \
                   "streamOptimized, ESXi redo logs)",          \
    .create_opts = vmdk_create_opts,                            \
    .probe = vmdk_probe,                                        \
    .open = vmdk_open,                                          \
    .close = vmdk_close,                                        \
    .block_status = vmdk_block_status,                          \
    .pread = vmdk_pread,                                        \
    .create = vmdk_create,                                      \
    .pwrite = vmdk_pwrite,                                      \
    .flush = vmdk_flush,                                        \
    .info = vmdk_info,                                          \
    .check = vmdk_check

const struct vmc_format_ops vmc_format_vmdk = {
    VMDK_OPS_COMMON,
    .reserve = vmdk_reserve,
};

const struct vmc_format_ops vmdk_format_stream = {
    VMDK_OPS_COMMON,
    .ordered_writes = true,
    .encode = vmdk_encode,
    .write_encoded = vmdk_write_encoded,
    .free_encoded = vmdk_free_encoded,
};
