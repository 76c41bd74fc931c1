/* vhdx differencing images: the parent locator ([MS-VHDX] 2.6.2.6)
 * and opening and verifying the parent.
 *
 * Locator paths are Windows paths from a hostile file.  We try, in
 * order: relative_path (backslashes made slashes) from the child's
 * directory, then the file name part of absolute_win32_path and of
 * volume_path looked up in the child's own directory (a chain copied
 * off a Windows host keeps its files together).  Names match ignoring
 * case when the exact spelling does not exist, as on Windows.  The core's path
 * policy refuses anything leading outside the top image's directory.
 * The parent must carry the DataWriteGuid the child was made against.
 */
#include <config.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vhdx-internal.h"

static const uint8_t vhdx_guid_parent_vhdx[16] = VHDX_GUID_PARENT_TYPE_VHDX;

char *
vhdx_utf16le_to_utf8(const uint8_t *p, size_t len)
{
    char *out, *d;
    size_t i;

    if (len % 2 != 0)
        return NULL;
    out = malloc(len / 2 * 3 + 1);
    if (out == NULL)
        return NULL;
    d = out;
    for (i = 0; i < len; i += 2) {
        uint32_t c = vmc_le16(p + i);

        if (c >= 0xd800 && c < 0xdc00) {
            uint32_t lo;

            if (i + 4 > len)
                goto bad;
            lo = vmc_le16(p + i + 2);
            if (lo < 0xdc00 || lo >= 0xe000)
                goto bad;
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            i += 2;
        } else if ((c >= 0xdc00 && c < 0xe000) || c == 0) {
            goto bad;
        }
        if (c < 0x80) {
            *d++ = (char) c;
        } else if (c < 0x800) {
            *d++ = (char) (0xc0 | (c >> 6));
            *d++ = (char) (0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *d++ = (char) (0xe0 | (c >> 12));
            *d++ = (char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (char) (0x80 | (c & 0x3f));
        } else {
            *d++ = (char) (0xf0 | (c >> 18));
            *d++ = (char) (0x80 | ((c >> 12) & 0x3f));
            *d++ = (char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (char) (0x80 | (c & 0x3f));
        }
    }
    *d = '\0';
    return out;

bad:
    free(out);
    return NULL;
}

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
    if (off == 0 || len % 2 != 0 || (uint64_t) off + len > item_len ||
        (len == 0 && strcmp(what, "key") == 0)) {
        vmc_error(img->h, "%s: parent locator at offset %" PRIu64 ": entry %"
                  PRIu32 ": %s at %" PRIu32 " length %" PRIu32 " is empty, "
                  "odd or not inside the %" PRIu32 " byte item", img->path,
                  where, i, what, off, len, item_len);
        return -1;
    }
    *out = vhdx_utf16le_to_utf8(item + off, len);
    if (*out == NULL) {
        vmc_error(img->h, "%s: parent locator at offset %" PRIu64 ": entry %"
                  PRIu32 ": %s is not valid UTF-16", img->path, where, i,
                  what);
        return -1;
    }
    return 0;
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

/* The file name part of a Windows path (after the last \ / or :). */
static const char *
vhdx_win_basename(const char *p)
{
    const char *s = p, *c;

    for (c = p; *c; c++)
        if (*c == '\\' || *c == '/' || *c == ':')
            s = c + 1;
    return s;
}

/* True if NAME exists relative to IMG's directory (or absolute). */
static bool
vhdx_name_exists(struct vmc_image *img, const char *name)
{
    CLEANUP_FREE char *path = NULL;
    struct stat st;

    if (name[0] == '/')
        return stat(name, &st) == 0;
    if (asprintf(&path, "%s/%s", img->dir, name) == -1)
        return false;
    return stat(path, &st) == 0;
}

/* Windows names are case-insensitive: if NAME (relative, '/'
 * separated) does not exist as spelled, look for its last component in
 * its directory ignoring case.  Returns a new name, or NULL if none
 * matches (or on error).
 */
static char *
vhdx_find_casefold(struct vmc_image *img, const char *name)
{
    CLEANUP_FREE char *dirpath = NULL;
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    int dirlen = slash ? (int) (slash - name) : 0;
    char *found = NULL;
    struct dirent *d;
    DIR *dir;

    if (name[0] == '/' || *base == '\0')
        return NULL;
    if (asprintf(&dirpath, "%s/%.*s", img->dir, dirlen, name) == -1)
        return NULL;
    dir = opendir(dirpath);
    if (dir == NULL)
        return NULL;
    while ((d = readdir(dir)) != NULL)
        if (strcasecmp(d->d_name, base) == 0) {
            if (asprintf(&found, "%.*s%s%s", dirlen, name, slash ? "/" : "",
                         d->d_name) == -1)
                found = NULL;
            break;
        }
    closedir(dir);
    return found;
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
    char g[39];

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
    if (img->flags & VMC_IMAGE_IGNORE_PARENT_ID) {
        vmc_warning(img->h, "%s: parent %s has DataWriteGuid %s but the "
                    "child expects %s: the chain is broken; reading it "
                    "anyway as asked", img->path, p->path, g,
                    link ? link : "(no parent_linkage)");
        return 0;
    }
    vmc_error(img->h, "%s: parent %s has DataWriteGuid %s but the child "
              "expects %s: the chain is broken (the parent changed after "
              "this differencing image was made)", img->path, p->path, g,
              link ? link : "(no parent_linkage in the parent locator)");
    return -1;
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
        char *c;

        if (val == NULL || *val == '\0')
            continue;
        name = strdup(k == 0 ? val : vhdx_win_basename(val));
        if (name == NULL) {
            vmc_error(img->h, "%s: %m", img->path);
            return -1;
        }
        for (c = name; *c; c++)
            if (*c == '\\')
                *c = '/';
        if (*name != '\0' && !vhdx_name_exists(img, name)) {
            char *other = vhdx_find_casefold(img, name);

            if (other) {
                free(name);
                name = other;
            }
        }
        if (*name == '\0' || !vhdx_name_exists(img, name)) {
            used += (size_t) snprintf(tried + used,
                                      used < sizeof tried
                                      ? sizeof tried - used : 0,
                                      "%s%s '%s'", used ? ", " : "",
                                      keys[k], name);
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
