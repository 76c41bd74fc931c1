/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHD differencing disks: find the parent from the parent locators
 * (W2ru relative path, then W2ku absolute path, then MacX file URL)
 * and the header's parent name, each turned into a local name by
 * vmc_image_find_name (Windows paths, another case), open it under the
 * path policy and check that it is the disk this one was made from
 * (unique ID; vmc_image_parent_mismatch applies the policy).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vpc-internal.h"

struct vpc_candidate {
    char *name;                  /* UTF-8, '/' separators */
    const char *source;          /* "W2ru locator", ... */
};

#define VPC_MAX_CANDIDATES (VPC_MAX_LOCATORS + 1)

/* Decode LEN bytes of UTF-16 (big-endian if BE) up to the first NUL
 * into a malloc'd UTF-8 string with '/' separators.  WHAT names the
 * field for errors.
 */
static char *
vpc_utf16_name(struct vmc_image *img, const uint8_t *p, size_t len, bool be,
               const char *what)
{
    CLEANUP_FREE char *out = NULL;
    char ctx[PATH_MAX + 64];
    size_t o;
    char *c;

    snprintf(ctx, sizeof ctx, "%s: %s", img->path, what);
    /* Fixed-size fields are NUL-padded; an odd byte count ends at the
     * last whole code unit, as before.
     */
    out = vmc_utf16_to_utf8(img->h, p, len & ~(size_t) 1,
                            be ? VMC_UTF16_BE : VMC_UTF16_LE,
                            VMC_UTF16_STOP_AT_NUL, ctx, &o);
    if (out == NULL)
        return NULL;
    if (o > VPC_MAX_NAME_LEN) {
        vmc_error(img->h, "%s: %s: name is %zu bytes long, more than the %u "
                  "allowed", img->path, what, o, VPC_MAX_NAME_LEN);
        return NULL;
    }
    for (c = out; *c; c++)
        if (*c == '\\')
            *c = '/';
    return vmc_steal_pointer(&out);
}

/* Replace S by its last path component, in place. */
static void
vpc_basename(char *s)
{
    char *slash = strrchr(s, '/');

    if (slash)
        memmove(s, slash + 1, strlen(slash + 1) + 1);
}

static int
vpc_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Undo %XX escapes of a file URL in place; %00 is refused. */
static int
vpc_percent_decode(struct vmc_image *img, char *s, const char *what)
{
    char *d = s;

    for (; *s; s++) {
        int hi, lo;

        if (*s != '%') {
            *d++ = *s;
            continue;
        }
        hi = vpc_hex(s[1]);
        lo = hi < 0 ? -1 : vpc_hex(s[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            vmc_error(img->h, "%s: %s: bad %%-escape in the file URL",
                      img->path, what);
            return -1;
        }
        *d++ = (char) (hi * 16 + lo);
        s += 2;
    }
    *d = '\0';
    return 0;
}

/* Read locator I's data (checked against the file) into a malloc'd
 * buffer of its length.
 */
static uint8_t *
vpc_locator_data(struct vmc_image *img, int i, const char *what)
{
    struct vpc *v = img->priv;
    const struct vpc_locator *l = &v->header.loc[i];
    uint8_t *buf;

    if (l->length > VPC_MAX_LOCATOR_LEN) {
        vmc_error(img->h, "%s: %s: data length %" PRIu32 " is larger than "
                  "the %u bytes allowed", img->path, what, l->length,
                  VPC_MAX_LOCATOR_LEN);
        return NULL;
    }
    if (vmc_check_range(img->h, img->path, img->file_size, l->offset,
                        l->length, what) == -1)
        return NULL;
    buf = vmc_malloc(img->h, img->path, l->length, what);
    if (buf == NULL)
        return NULL;
    if (vmc_file_pread_full(img->file, buf, l->length, l->offset) == -1) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Decode locator I (of platform CODE) into a candidate parent name:
 * W2ru as a relative path, W2ku and MacX by their file name only (an
 * absolute path of another machine means nothing here; the parent is
 * looked for beside the child).  Returns NULL with an error, or sets
 * *NAME to NULL for an empty locator.
 */
static int
vpc_locator_name(struct vmc_image *img, int i, uint32_t code, char **name)
{
    struct vpc *v = img->priv;
    char what[64];
    CLEANUP_FREE uint8_t *data = NULL;
    char *s;

    snprintf(what, sizeof what, "parent locator %d (%.4s)", i,
             code == VPC_PLAT_W2RU ? "W2ru" :
             code == VPC_PLAT_W2KU ? "W2ku" : "MacX");
    *name = NULL;
    if (v->header.loc[i].length == 0)
        return 0;
    data = vpc_locator_data(img, i, what);
    if (data == NULL)
        return -1;
    if (code == VPC_PLAT_MACX) {
        size_t len = v->header.loc[i].length;

        s = malloc(len + 1);
        if (s == NULL) {
            vmc_error(img->h, "%s: %m", img->path);
            return -1;
        }
        memcpy(s, data, len);
        s[len] = '\0';
        vpc_basename(s);
        if (vpc_percent_decode(img, s, what) == -1) {
            free(s);
            return -1;
        }
    } else {
        /* W2ku is absolute: vmc_image_find_name looks for its file
         * beside the child.
         */
        s = vpc_utf16_name(img, data, v->header.loc[i].length, false, what);
        if (s == NULL)
            return -1;
    }
    if (*s == '\0') {
        free(s);
        return 0;
    }
    *name = s;
    return 0;
}

/* Collect the candidate names in the order they are tried. */
static int
vpc_candidates(struct vmc_image *img, struct vpc_candidate *c, int *nc)
{
    static const struct {
        uint32_t code;
        const char *source;
    } order[] = {
        { VPC_PLAT_W2RU, "W2ru parent locator" },
        { VPC_PLAT_W2KU, "W2ku parent locator" },
        { VPC_PLAT_MACX, "MacX parent locator" },
    };
    struct vpc *v = img->priv;
    size_t k;
    int i;
    char *s;

    *nc = 0;
    for (k = 0; k < sizeof order / sizeof order[0]; k++)
        for (i = 0; i < VPC_MAX_LOCATORS; i++) {
            if (v->header.loc[i].code != order[k].code)
                continue;
            if (vpc_locator_name(img, i, order[k].code, &s) == -1)
                return -1;
            if (s == NULL)
                continue;
            c[*nc].name = s;
            c[*nc].source = order[k].source;
            (*nc)++;
        }
    s = vpc_utf16_name(img, v->header.parent_name, VPC_PARENT_NAME_BYTES,
                       true, "dynamic disk header parent name");
    if (s == NULL)
        return -1;
    vpc_basename(s);
    if (*s == '\0') {
        free(s);
        return 0;
    }
    c[*nc].name = s;
    c[*nc].source = "header parent name";
    (*nc)++;
    return 0;
}

static void
vpc_format_uuid(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
             u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* The opened parent must be the disk the child was made from. */
static int
vpc_check_parent_id(struct vmc_image *img)
{
    struct vpc *v = img->priv;
    const struct vpc *pv = img->backing->priv;
    char want[37], got[37], child_says[64], parent_has[64];

    if (memcmp(pv->footer.uuid, v->header.parent_uuid, 16) == 0)
        return 0;
    vpc_format_uuid(v->header.parent_uuid, want);
    vpc_format_uuid(pv->footer.uuid, got);
    snprintf(child_says, sizeof child_says, "parent unique ID %s", want);
    snprintf(parent_has, sizeof parent_has, "unique ID %s", got);
    return vmc_image_parent_mismatch(img, "unique ID", child_says,
                                     parent_has);
}

int
vpc_open_parent(struct vmc_image *img)
{
    struct vpc *v = img->priv;
    struct vpc_candidate c[VPC_MAX_CANDIDATES];
    int nc = 0, i, r = -1;

    memset(c, 0, sizeof c);
    if (vpc_candidates(img, c, &nc) == -1)
        goto out;
    if (nc == 0) {
        vmc_error(img->h, "%s: differencing disk names no parent (no "
                  "parent locator and no parent name)", img->path);
        goto out;
    }
    v->parent_name = strdup(c[0].name);
    if (v->parent_name == NULL) {
        vmc_error(img->h, "%s: %m", img->path);
        goto out;
    }
    if (img->flags & VMC_IMAGE_NO_BACKING) {
        r = 0;
        goto out;
    }
    for (i = 0; i < nc; i++) {
        CLEANUP_FREE char *local = NULL;

        /* Windows paths, another case: see vmc_image_find_name. */
        if (vmc_image_find_name(img, c[i].name, c[i].source, &local) == -1)
            goto out;
        if (local == NULL) {
            vmc_debug(img->h, "%s: parent '%s' from the %s does not exist",
                      img->path, c[i].name, c[i].source);
            continue;
        }
        free(v->parent_name);
        v->parent_name = strdup(c[i].name);
        if (v->parent_name == NULL) {
            vmc_error(img->h, "%s: %m", img->path);
            goto out;
        }
        if (vmc_image_open_backing(img, local, "vpc",
                                   "parent locator") == -1)
            goto out;
        if (vpc_check_parent_id(img) == -1) {
            vmc_image_close(img->backing);
            img->backing = NULL;
            goto out;
        }
        r = 0;
        goto out;
    }
    {
        char *msg = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&msg, &len);

        if (fp == NULL) {
            vmc_error(img->h, "%s: parent not found: %m", img->path);
            goto out;
        }
        for (i = 0; i < nc; i++)
            fprintf(fp, "%s'%s' (%s)", i ? ", " : "", c[i].name,
                    c[i].source);
        fclose(fp);
        vmc_error(img->h, "%s: parent of this differencing disk not found "
                  "in %s: tried %s", img->path, img->dir, msg ? msg : "");
        free(msg);
    }

out:
    for (i = 0; i < nc; i++)
        free(c[i].name);
    return r;
}
