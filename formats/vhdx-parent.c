/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vhdx differencing images: the parent locator ([MS-VHDX] 2.6.2.6)
 * and opening and verifying the parent.
 *
 * Locator paths are Windows paths from a hostile file.  We try, in
 * order, relative_path, absolute_win32_path and volume_path, each
 * turned into a local name by vmc_image_find_name (core/foreign.c):
 * relative paths from the child's directory, absolute ones without
 * their drive or volume and then by file name beside the child (a
 * chain copied off a Windows host keeps its files together), ignoring
 * case when the exact spelling does not exist, as on Windows.  The
 * path policy refuses anything leading outside the top image's
 * directory.  The parent must carry the DataWriteGuid the child was
 * made against (vmc_image_parent_mismatch applies the policy).
 */
#include <config.h>

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vhdx-internal.h"

static const uint8_t vhdx_guid_parent_vhdx[16] = VHDX_GUID_PARENT_TYPE_VHDX;

const char *
vhdx_locator_get(const struct vhdx *v, const char *key)
{
    size_t i;

    for (i = 0; i < v->nlocator; i++)
        if (strcmp(v->locator[i].key, key) == 0)
            return v->locator[i].value;
    return NULL;
}

/* Decode the UTF-16LE string at OFF/LEN of the locator item (LEN
 * bytes long) into *OUT.  Returns 0 or -1 with an error.
 */
static int
vhdx_locator_string(struct vmc_image *img, uint64_t where, const uint8_t *item,
                    uint32_t item_len, uint32_t off, uint32_t len,
                    uint32_t i, const char *what, char **out)
{
    char ctx[PATH_MAX + 128];

    if (off == 0 || len % 2 != 0 || (uint64_t) off + len > item_len ||
        (len == 0 && strcmp(what, "key") == 0)) {
        vmc_error(img->h, "%s: parent locator at offset %" PRIu64 ": entry %"
                  PRIu32 ": %s at %" PRIu32 " length %" PRIu32 " is empty, "
                  "odd or not inside the %" PRIu32 " byte item", img->path,
                  where, i, what, off, len, item_len);
        return -1;
    }
    snprintf(ctx, sizeof ctx, "%s: parent locator at offset %" PRIu64
             ": entry %" PRIu32 ": %s", img->path, where, i, what);
    *out = vmc_utf16_to_utf8(img->h, item + off, len, VMC_UTF16_LE, 0, ctx,
                             NULL);
    return *out == NULL ? -1 : 0;
}

int
vhdx_parse_locator(struct vmc_image *img, struct vhdx *v,
                   const uint8_t *item, uint32_t len, uint64_t where)
{
    struct vmc_handle *h = img->h;
    uint32_t n, i, j;
    char g[39];

    if (memcmp(item, vhdx_guid_parent_vhdx, 16) != 0) {
        vhdx_guid_to_string(item, g);
        vmc_error(h, "%s: parent locator at offset %" PRIu64 ": unknown "
                  "locator type %s (only VHDX parents are defined)",
                  img->path, where, g);
        return -1;
    }
    n = vmc_le16(item + 18);
    if (n > VHDX_MAX_LOCATOR_ENTRIES ||
        sizeof(struct vhdx_locator_header_disk) +
        (uint64_t) n * sizeof(struct vhdx_locator_entry_disk) > len) {
        vmc_error(h, "%s: parent locator at offset %" PRIu64 ": %" PRIu32
                  " key/value entries do not fit in the %" PRIu32 " byte "
                  "item (or are more than %d)", img->path, where, n, len,
                  VHDX_MAX_LOCATOR_ENTRIES);
        return -1;
    }
    v->locator = vmc_calloc(h, img->path, n ? n : 1, sizeof *v->locator,
                            "parent locator");
    if (v->locator == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        const uint8_t *e = item + 20 + i * 12;
        struct vhdx_kv *kv = &v->locator[v->nlocator];

        if (vhdx_locator_string(img, where, item, len, vmc_le32(e),
                                vmc_le16(e + 8), i, "key", &kv->key) == -1)
            return -1;
        v->nlocator++;
        if (vhdx_locator_string(img, where, item, len, vmc_le32(e + 4),
                                vmc_le16(e + 10), i, "value",
                                &kv->value) == -1)
            return -1;
        for (j = 0; j < i; j++)
            if (strcmp(v->locator[j].key, kv->key) == 0) {
                vmc_error(h, "%s: parent locator at offset %" PRIu64
                          ": key '%s' appears twice", img->path, where,
                          kv->key);
                return -1;
            }
    }
    return 0;
}

/* Compare two GUID strings ignoring braces and case. */
static bool
vhdx_guid_text_equal(const char *a, const char *b)
{
    size_t la, lb;

    if (*a == '{')
        a++;
    if (*b == '{')
        b++;
    la = strcspn(a, "}");
    lb = strcspn(b, "}");
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Check the opened parent against the child. */
static int
vhdx_verify_parent(struct vmc_image *img, struct vhdx *v)
{
    struct vmc_image *p = img->backing;
    const struct vhdx *pv = p->priv;
    const char *link = vhdx_locator_get(v, "parent_linkage");
    const char *link2 = vhdx_locator_get(v, "parent_linkage2");
    char g[39], want[128], have[64];

    if (pv->logical_sector != v->logical_sector) {
        vmc_error(img->h, "%s: parent %s has %" PRIu32 " byte logical "
                  "sectors but this differencing image has %" PRIu32,
                  img->path, p->path, pv->logical_sector, v->logical_sector);
        return -1;
    }
    if (p->size != img->size) {
        vmc_error(img->h, "%s: parent %s has a virtual size of %" PRIu64
                  " bytes but this differencing image has %" PRIu64,
                  img->path, p->path, p->size, img->size);
        return -1;
    }
    vhdx_guid_to_string(pv->data_write_guid, g);
    if ((link && vhdx_guid_text_equal(link, g)) ||
        (link2 && vhdx_guid_text_equal(link2, g)))
        return 0;
    snprintf(want, sizeof want, "parent_linkage %s",
             link ? link : "(none in the parent locator)");
    snprintf(have, sizeof have, "DataWriteGuid %s", g);
    return vmc_image_parent_mismatch(img, "DataWriteGuid", want, have);
}

int
vhdx_open_parent(struct vmc_image *img, struct vhdx *v)
{
    static const char *const keys[] = {
        "relative_path", "absolute_win32_path", "volume_path",
    };
    char tried[1024] = "";
    size_t k, used = 0;

    for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *val = vhdx_locator_get(v, keys[k]);
        CLEANUP_FREE char *name = NULL;

        if (val == NULL || *val == '\0')
            continue;
        /* Windows paths, another case: see vmc_image_find_name. */
        if (vmc_image_find_name(img, val, keys[k], &name) == -1)
            return -1;
        if (name == NULL) {
            used += (size_t) snprintf(tried + used,
                                      used < sizeof tried
                                      ? sizeof tried - used : 0,
                                      "%s%s '%s'", used ? ", " : "",
                                      keys[k], val);
            if (used >= sizeof tried)
                used = sizeof tried - 1;
            continue;
        }
        if (vmc_image_open_backing(img, name, "vhdx",
                                   "parent locator") == -1)
            return -1;
        if (vhdx_verify_parent(img, v) == -1) {
            vmc_image_close(img->backing);
            img->backing = NULL;
            return -1;
        }
        return 0;
    }
    if (used == 0)
        vmc_error(img->h, "%s: differencing image: the parent locator names "
                  "no parent file (no relative_path, absolute_win32_path or "
                  "volume_path)", img->path);
    else
        vmc_error(img->h, "%s: differencing image: parent not found (tried "
                  "%s in %s)", img->path, tried, img->dir);
    return -1;
}
