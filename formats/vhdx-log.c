/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vhdx log: find the active sequence of a dirty metadata log
 * ([MS-VHDX] 2.3.3) and replay it into an in-memory overlay, so an
 * image left dirty by a crash reads as Hyper-V would read it, without
 * writing the source.
 *
 * The log is read whole (at most VHDX_MAX_LOG_LENGTH).  The scan is
 * linear in the log's length: an entry is checked sector by sector
 * (descriptor and data sector signatures and sequence numbers) before
 * its CRC, every sector of a well-formed entry but the first starts
 * with "desc", "zero" or "data", so well-formed entries never overlap
 * and each byte is checksummed a bounded number of times.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhdx-internal.h"

/* One checked log entry. */
struct vhdx_log_entry {
    uint64_t pos;                /* byte offset in the log */
    uint32_t length;
    uint32_t tail;
    uint64_t sequence;
    uint32_t descriptors;
    uint32_t data_sectors;
    uint64_t flushed_file_offset;
    uint64_t last_file_offset;
};

struct vhdx_log {
    const uint8_t *buf;          /* the whole log */
    uint64_t len;
    const uint8_t *guid;
};

static const uint8_t *
vhdx_log_sector(const struct vhdx_log *log, uint64_t pos, uint64_t k)
{
    return log->buf + (pos + k * VHDX_LOG_SECTOR) % log->len;
}

/* Descriptor slot I (0-based) of the entry at POS: the header takes
 * the first two 32-byte slots of the first sector.
 */
static const uint8_t *
vhdx_log_descriptor(const struct vhdx_log *log, uint64_t pos, uint64_t i)
{
    uint64_t slot = i + 2;

    return vhdx_log_sector(log, pos, slot / VHDX_LOG_DESCRIPTORS_PER_SECTOR)
        + (slot % VHDX_LOG_DESCRIPTORS_PER_SECTOR) * 32;
}

static uint64_t
vhdx_log_desc_sectors(uint64_t descriptors)
{
    return vmc_div_round_up(descriptors + 2, VHDX_LOG_DESCRIPTORS_PER_SECTOR);
}

/* Check the entry at POS.  Returns true and fills E if it is a valid
 * entry of this log.
 */
static bool
vhdx_log_entry_valid(const struct vhdx_log *log, uint64_t pos,
                     struct vhdx_log_entry *e)
{
    const uint8_t *s = log->buf + pos;
    uint64_t sectors, dsec, i, ndata = 0, end;
    uint32_t crc;

    if (memcmp(s, VHDX_LOG_ENTRY_SIG, 4) != 0)
        return false;
    e->pos = pos;
    e->length = vmc_le32(s + 8);
    e->tail = vmc_le32(s + 12);
    e->sequence = vmc_le64(s + 16);
    e->descriptors = vmc_le32(s + 24);
    e->flushed_file_offset = vmc_le64(s + 48);
    e->last_file_offset = vmc_le64(s + 56);
    if (e->length == 0 || e->length % VHDX_LOG_SECTOR != 0 ||
        e->length > log->len || e->tail % VHDX_LOG_SECTOR != 0 ||
        e->tail >= log->len || e->sequence == 0 ||
        memcmp(s + 32, log->guid, 16) != 0 ||
        e->flushed_file_offset % VHDX_ALIGN != 0 ||
        e->last_file_offset % VHDX_ALIGN != 0)
        return false;
    sectors = e->length / VHDX_LOG_SECTOR;
    dsec = vhdx_log_desc_sectors(e->descriptors);
    if (dsec > sectors)
        return false;

    for (i = 0; i < e->descriptors; i++) {
        const uint8_t *d = vhdx_log_descriptor(log, pos, i);
        uint64_t len, off = vmc_le64(d + 16);

        if (vmc_le64(d + 24) != e->sequence || off % VHDX_LOG_SECTOR != 0)
            return false;
        if (memcmp(d, VHDX_LOG_DESC_SIG, 4) == 0) {
            if (vmc_add_overflow(off, VHDX_LOG_SECTOR, &end))
                return false;
            ndata++;
        } else if (memcmp(d, VHDX_LOG_ZERO_SIG, 4) == 0) {
            len = vmc_le64(d + 8);
            if (len % VHDX_LOG_SECTOR != 0 || vmc_add_overflow(off, len, &end))
                return false;
        } else {
            return false;
        }
    }
    /* The entry is exactly its descriptor sectors and data sectors. */
    if (dsec + ndata != sectors)
        return false;
    for (i = 0; i < ndata; i++) {
        const uint8_t *d = vhdx_log_sector(log, pos, dsec + i);

        if (memcmp(d, VHDX_LOG_DATA_SIG, 4) != 0 ||
            (((uint64_t) vmc_le32(d + 4) << 32) | vmc_le32(d + 4092)) !=
            e->sequence)
            return false;
    }
    e->data_sectors = (uint32_t) ndata;

    /* CRC-32C over the whole entry with the checksum field zero. */
    crc = vmc_crc32c(0, s, 4);
    crc = vmc_crc32c(crc, "\0\0\0\0", 4);
    crc = vmc_crc32c(crc, s + 8, VHDX_LOG_SECTOR - 8);
    for (i = 1; i < sectors; i++)
        crc = vmc_crc32c(crc, vhdx_log_sector(log, pos, i), VHDX_LOG_SECTOR);
    return crc == vmc_le32(s + 4);
}

/* Find the active sequence: its entries from tail to head go to BEST
 * (room for len/4096 entries), their number to *NBEST (0: none).
 */
static void
vhdx_log_find_active(const struct vhdx_log *log, struct vhdx_log_entry *run,
                     struct vhdx_log_entry *best, size_t *nbest)
{
    uint64_t pos = 0, scanned = 0;

    *nbest = 0;
    while (scanned < log->len) {
        struct vhdx_log_entry next;
        uint64_t total;
        size_t n = 1, i;

        if (!vhdx_log_entry_valid(log, pos, &run[0])) {
            pos = (pos + VHDX_LOG_SECTOR) % log->len;
            scanned += VHDX_LOG_SECTOR;
            continue;
        }
        /* Extend while the next entry is valid and follows on. */
        total = run[0].length;
        while (total < log->len &&
               vhdx_log_entry_valid(log, (pos + total) % log->len, &next) &&
               next.sequence == run[n - 1].sequence + 1 &&
               next.length <= log->len - total) {
            run[n++] = next;
            total += next.length;
        }
        /* Valid if the head's tail is one of the run's entries. */
        for (i = 0; i < n; i++)
            if (run[i].pos == run[n - 1].tail)
                break;
        if (i < n &&
            (*nbest == 0 ||
             run[n - 1].sequence > best[*nbest - 1].sequence)) {
            memcpy(best, run + i, (n - i) * sizeof *best);
            *nbest = n - i;
        }
        pos = (pos + total) % log->len;
        scanned += total;
    }
}

/* ---- The overlay -------------------------------------------------- */

/* Max-heap of item indices (the latest item wins). */
static void
vhdx_heap_push(size_t *heap, size_t *n, size_t v)
{
    size_t i = (*n)++;

    while (i > 0 && heap[(i - 1) / 2] < v) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = v;
}

static void
vhdx_heap_pop(size_t *heap, size_t *n)
{
    size_t v = heap[--(*n)], i = 0, c;

    while ((c = 2 * i + 1) < *n) {
        if (c + 1 < *n && heap[c + 1] > heap[c])
            c++;
        if (heap[c] <= v)
            break;
        heap[i] = heap[c];
        i = c;
    }
    if (*n > 0)
        heap[i] = v;
}

static int
vhdx_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

struct vhdx_item_ref {
    uint64_t start;
    size_t index;
};

static int
vhdx_item_cmp(const void *a, const void *b)
{
    const struct vhdx_item_ref *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

int
vhdx_overlay_build(struct vmc_handle *h, const char *path, struct vhdx *v,
                   const struct vhdx_extent *items, size_t nitems)
{
    CLEANUP_FREE uint64_t *bounds = NULL;
    CLEANUP_FREE struct vhdx_item_ref *order = NULL;
    CLEANUP_FREE size_t *heap = NULL;
    CLEANUP_FREE struct vhdx_extent *out = NULL;
    size_t nb = 0, i, k, next = 0, nheap = 0, nout = 0;

    if (nitems == 0)
        return 0;
    bounds = vmc_calloc(h, path, nitems * 2, sizeof *bounds, "log overlay");
    order = vmc_calloc(h, path, nitems, sizeof *order, "log overlay");
    heap = vmc_calloc(h, path, nitems, sizeof *heap, "log overlay");
    out = vmc_calloc(h, path, nitems * 2, sizeof *out, "log overlay");
    if (bounds == NULL || order == NULL || heap == NULL || out == NULL)
        return -1;
    for (i = 0; i < nitems; i++) {
        bounds[nb++] = items[i].start;
        bounds[nb++] = items[i].end;
        order[i] = (struct vhdx_item_ref) { items[i].start, i };
    }
    qsort(bounds, nb, sizeof *bounds, vhdx_u64_cmp);
    for (i = 1, k = 1; i < nb; i++)
        if (bounds[i] != bounds[k - 1])
            bounds[k++] = bounds[i];
    nb = k;
    qsort(order, nitems, sizeof *order, vhdx_item_cmp);

    /* Sweep the elementary segments [bounds[k], bounds[k+1]). */
    for (k = 0; k + 1 < nb; k++) {
        uint64_t s = bounds[k], e = bounds[k + 1];
        const struct vhdx_extent *w;
        const uint8_t *data;

        while (next < nitems && order[next].start <= s)
            vhdx_heap_push(heap, &nheap, order[next++].index);
        while (nheap > 0 && items[heap[0]].end <= s)
            vhdx_heap_pop(heap, &nheap);
        if (nheap == 0)
            continue;
        w = &items[heap[0]];
        data = w->data ? w->data + (s - w->start) : NULL;
        if (nout > 0 && out[nout - 1].end == s &&
            ((data == NULL && out[nout - 1].data == NULL) ||
             (data && out[nout - 1].data &&
              out[nout - 1].data + (s - out[nout - 1].start) == data))) {
            out[nout - 1].end = e;
            continue;
        }
        out[nout++] = (struct vhdx_extent) { s, e, data };
    }
    free(v->overlay);
    v->overlay = vmc_steal_pointer(&out);
    v->noverlay = nout;
    return 0;
}

/* Turn the entries of the active sequence into overlay items. */
static int
vhdx_log_apply(struct vmc_image *img, struct vhdx *v,
               const struct vhdx_log *log, const struct vhdx_log_entry *ent,
               size_t nent)
{
    CLEANUP_FREE struct vhdx_extent *items = NULL;
    uint64_t nitems = 0, ndata = 0, n = 0, d = 0, i, j, end;
    uint64_t file_end = img->file_size;
    const struct vhdx_log_entry *head = &ent[nent - 1];

    for (i = 0; i < nent; i++) {
        nitems += ent[i].descriptors;
        ndata += ent[i].data_sectors;
    }
    if (nitems > VHDX_MAX_LOG_DESCRIPTORS) {
        vmc_error(img->h, "%s: the log's active sequence holds %" PRIu64
                  " descriptors, more than vmconv replays (%u)", img->path,
                  nitems, VHDX_MAX_LOG_DESCRIPTORS);
        return -1;
    }
    if (head->flushed_file_offset > img->file_size) {
        vmc_error(img->h, "%s: log entry %" PRIu64 " at log offset %" PRIu64
                  ": the file should be at least %" PRIu64 " bytes but is %"
                  PRIu64 ": it was truncated", img->path, head->sequence,
                  head->pos, head->flushed_file_offset, img->file_size);
        return -1;
    }
    items = vmc_calloc(img->h, img->path, nitems ? nitems : 1,
                       sizeof *items, "log overlay");
    v->overlay_data = vmc_malloc(img->h, img->path,
                                 ndata ? ndata * VHDX_LOG_SECTOR : 1,
                                 "log overlay");
    if (items == NULL || v->overlay_data == NULL)
        return -1;

    for (i = 0; i < nent; i++) {
        uint64_t dsec = vhdx_log_desc_sectors(ent[i].descriptors), k = 0;

        for (j = 0; j < ent[i].descriptors; j++) {
            const uint8_t *desc = vhdx_log_descriptor(log, ent[i].pos, j);
            uint64_t off = vmc_le64(desc + 16);

            if (memcmp(desc, VHDX_LOG_ZERO_SIG, 4) == 0) {
                end = off + vmc_le64(desc + 8);   /* checked: no overflow */
                items[n++] = (struct vhdx_extent) { off, end, NULL };
            } else {
                const uint8_t *src = vhdx_log_sector(log, ent[i].pos,
                                                     dsec + k++);
                uint8_t *dst = v->overlay_data + d++ * VHDX_LOG_SECTOR;

                memcpy(dst, desc + 8, 8);                 /* leading */
                memcpy(dst + 8, src + 8, 4084);
                memcpy(dst + 4092, desc + 4, 4);          /* trailing */
                end = off + VHDX_LOG_SECTOR;
                items[n++] = (struct vhdx_extent) { off, end, dst };
            }
            if (end > file_end)
                file_end = end;
        }
    }
    if (head->last_file_offset > file_end)
        file_end = head->last_file_offset;
    if (vhdx_overlay_build(img->h, img->path, v, items, n) == -1)
        return -1;
    v->file_end = file_end;
    return 0;
}

int
vhdx_log_replay(struct vmc_image *img, struct vhdx *v)
{
    struct vmc_handle *h = img->h;
    CLEANUP_FREE uint8_t *buf = NULL;
    CLEANUP_FREE struct vhdx_log_entry *run = NULL;
    CLEANUP_FREE struct vhdx_log_entry *best = NULL;
    struct vhdx_log log;
    size_t nbest;
    char g[39];

    vhdx_guid_to_string(v->log_guid, g);
    if (v->log_length > VHDX_MAX_LOG_LENGTH) {
        vmc_error(h, "%s: header %d: the log (%" PRIu32 " bytes at offset %"
                  PRIu64 ") needs replaying and is larger than vmconv "
                  "replays (%llu bytes)", img->path, v->header_index,
                  v->log_length, v->log_offset, VHDX_MAX_LOG_LENGTH);
        return -1;
    }
    buf = vmc_malloc(h, img->path, v->log_length, "log");
    run = vmc_calloc(h, img->path, v->log_length / VHDX_LOG_SECTOR,
                     sizeof *run, "log");
    best = vmc_calloc(h, img->path, v->log_length / VHDX_LOG_SECTOR,
                      sizeof *best, "log");
    if (buf == NULL || run == NULL || best == NULL)
        return -1;
    if (vmc_file_pread_full(img->file, buf, v->log_length,
                            v->log_offset) == -1)
        return -1;
    log.buf = buf;
    log.len = v->log_length;
    log.guid = v->log_guid;
    vhdx_log_find_active(&log, run, best, &nbest);
    if (nbest == 0) {
        vmc_error(h, "%s: the log at offset %" PRIu64 " must be replayed "
                  "(header %d has log GUID %s) but it holds no valid "
                  "sequence of entries: the image is corrupt", img->path,
                  v->log_offset, v->header_index, g);
        return -1;
    }
    if (vhdx_log_apply(img, v, &log, best, nbest) == -1)
        return -1;
    v->log_replayed = true;
    v->log_entries = nbest;
    vmc_debug(h, "%s: replayed %zu log entries (sequence %" PRIu64 " to %"
              PRIu64 ") in memory; the file is unchanged", img->path, nbest,
              best[0].sequence, best[nbest - 1].sequence);
    return 0;
}

/* ---- Reading the file as replayed --------------------------------- */

/* Read from the real file; bytes past its end read as zeros. */
static int
vhdx_real_pread(struct vmc_image *img, uint8_t *buf, uint64_t len,
                uint64_t off)
{
    uint64_t n = 0;

    if (off < img->file_size) {
        n = img->file_size - off < len ? img->file_size - off : len;
        if (vmc_file_pread_full(img->file, buf, n, off) == -1)
            return -1;
    }
    memset(buf + n, 0, len - n);
    return 0;
}

int
vhdx_file_pread(struct vmc_image *img, struct vhdx *v, void *buf,
                size_t len, uint64_t off)
{
    uint8_t *p = buf;
    size_t lo = 0, hi = v->noverlay;

    if (off > v->file_end || len > v->file_end - off) {
        vmc_error(img->h, "%s: read of %zu bytes at offset %" PRIu64
                  " is beyond the end of the file (%" PRIu64 " bytes)",
                  img->path, len, off, v->file_end);
        return -1;
    }
    if (v->noverlay == 0)
        return vhdx_real_pread(img, p, len, off);

    /* The first extent ending after OFF. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v->overlay[mid].end <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (len > 0) {
        const struct vhdx_extent *x = lo < v->noverlay ? &v->overlay[lo]
            : NULL;
        uint64_t n = len;

        if (x && x->start <= off) {
            if (x->end - off < n)
                n = x->end - off;
            if (x->data)
                memcpy(p, x->data + (off - x->start), n);
            else
                memset(p, 0, n);
            lo++;
        } else {
            if (x && x->start - off < n)
                n = x->start - off;
            if (vhdx_real_pread(img, p, n, off) == -1)
                return -1;
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}
