/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmdk: the text descriptor.  Parsing a hostile descriptor (a file of
 * its own, or embedded in a sparse extent) and writing new ones.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmdk-internal.h"

#define VMDK_DESC_SIGNATURE "# Disk DescriptorFile"

/* Extent types: how each is read, or why it is refused. */
static const struct {
    const char *name;
    enum vmdk_ext_type type;
    bool has_file;
    const char *refused;
} desc_ext_types[] = {
    { "FLAT", VMDK_EXT_FLAT, true, NULL },
    { "VMFS", VMDK_EXT_FLAT, true, NULL },
    { "SPARSE", VMDK_EXT_SPARSE, true, NULL },
    { "VMFSSPARSE", VMDK_EXT_SPARSE, true, NULL },
    { "SESPARSE", VMDK_EXT_SPARSE, true, NULL },
    { "ZERO", VMDK_EXT_ZERO, false, NULL },
    { "VMFSRDM", VMDK_EXT_FLAT, true,
      "is a raw device mapping: the data lives on a SAN LUN, not in a "
      "file; raw device mappings are not supported (copy the LUN itself)" },
    { "VMFSRAW", VMDK_EXT_FLAT, true,
      "is a raw device: raw devices are not supported (copy the device "
      "itself)" },
    { "VMFSRDMP", VMDK_EXT_FLAT, true,
      "is a pass-through raw device mapping: raw device mappings are not "
      "supported (copy the LUN itself)" },
};

/* A printable copy of at most 40 bytes of [S, S + N) for messages
 * (descriptor text is hostile: no control characters on a terminal).
 */
static const char *
desc_show(char *buf, const char *s, size_t n)
{
    size_t i;

    if (n > 40)
        n = 40;
    for (i = 0; i < n; i++)
        buf[i] = isprint((unsigned char) s[i]) ? s[i] : '?';
    buf[n] = '\0';
    return buf;
}

void
vmdk_desc_free(struct vmdk_desc *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nextents; i++)
        free(d->extents[i].filename);
    free(d->extents);
    free(d->create_type);
    free(d->parent_hint);
    free(d->encoding);
    free(d->adapter_type);
    free(d->hw_version);
    free(d->tools_version);
    free(d->long_content_id);
    free(d->uuid);
    memset(d, 0, sizeof *d);
}

bool
vmdk_desc_probe(const uint8_t *buf, size_t len, uint64_t file_size)
{
    size_t i = 0, n = strlen(VMDK_DESC_SIGNATURE);
    const char *p;

    if (file_size > VMDK_MAX_DESC_SIZE || len == 0)
        return false;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && isspace(buf[i]))
        i++;
    if (len - i >= n && strncasecmp((const char *) buf + i,
                                    VMDK_DESC_SIGNATURE, n) == 0)
        return true;
    /* Without the signature, a small text file with a createType line. */
    if (memchr(buf, '\0', len) != NULL)
        return false;
    for (p = (const char *) buf; p && p < (const char *) buf + len;) {
        const char *end = (const char *) buf + len;

        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if ((size_t) (end - p) > 10 && strncasecmp(p, "createType", 10) == 0) {
            p += 10;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (p < end && *p == '=')
                return true;
        }
        p = memchr(p, '\n', (size_t) (end - p));
        if (p)
            p++;
    }
    return false;
}

/* Strip spaces and tabs from both ends of [*S, *E). */
static void
desc_trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' ||
                       (*e)[-1] == '\r'))
        (*e)--;
}

static char *
desc_strndup(struct vmc_handle *h, const char *path, const char *s,
             size_t n)
{
    char *r = strndup(s, n);

    if (r == NULL)
        vmc_error(h, "%s: %m", path);
    return r;
}

/* Parse a value: "quoted" or bare.  Returns a malloc'd string. */
static char *
desc_value(struct vmc_handle *h, const char *path, unsigned line,
           const char *key, const char *s, const char *e)
{
    if (s < e && *s == '"') {
        const char *q = memchr(s + 1, '"', (size_t) (e - s - 1));

        if (q == NULL) {
            vmc_error(h, "%s: descriptor line %u: the value of %s has no "
                      "closing quote", path, line, key);
            return NULL;
        }
        return desc_strndup(h, path, s + 1, (size_t) (q - s - 1));
    }
    return desc_strndup(h, path, s, (size_t) (e - s));
}

static int
desc_parse_cid(struct vmc_handle *h, const char *path, unsigned line,
               const char *key, const char *v, uint32_t *cid)
{
    char *end;
    unsigned long long n;

    errno = 0;
    n = strtoull(v, &end, 16);
    if (*v == '\0' || *end != '\0' || errno != 0 || n > UINT32_MAX ||
        !isxdigit((unsigned char) *v)) {
        char show[41];

        vmc_error(h, "%s: descriptor line %u: %s '%s' is not a 32-bit "
                  "hexadecimal number", path, line, key,
                  desc_show(show, v, strlen(v)));
        return -1;
    }
    *cid = (uint32_t) n;
    return 0;
}

/* Replace *PS with a malloc'd copy of V (taking ownership of V). */
static void
desc_set(char **ps, char *v)
{
    free(*ps);
    *ps = v;
}

static int
desc_key_value(struct vmc_handle *h, const char *path, unsigned line,
               const char *s, const char *e, struct vmdk_desc *d)
{
    const char *eq = memchr(s, '=', (size_t) (e - s));
    const char *ks = s, *ke, *vs, *ve;
    CLEANUP_FREE char *key = NULL;
    char *v, *c;

    if (eq == NULL) {
        char show[41];

        vmc_error(h, "%s: descriptor line %u: expected 'key = value' or an "
                  "extent line, found '%s'", path, line,
                  desc_show(show, s, (size_t) (e - s)));
        return -1;
    }
    ke = eq;
    vs = eq + 1;
    ve = e;
    desc_trim(&ks, &ke);
    desc_trim(&vs, &ve);
    key = desc_strndup(h, path, ks, (size_t) (ke - ks));
    if (key == NULL)
        return -1;
    for (c = key; *c; c++)      /* keys appear in messages */
        if (!isprint((unsigned char) *c))
            *c = '?';
    if (strncasecmp(key, "encryption.", 11) == 0) {
        vmc_error(h, "%s: the disk is encrypted (descriptor line %u: %s); "
                  "encrypted VMDK disks are not supported: decrypt the "
                  "virtual machine in VMware first", path, line, key);
        return -1;
    }
    v = desc_value(h, path, line, key, vs, ve);
    if (v == NULL)
        return -1;

    if (strcasecmp(key, "version") == 0) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);

        if (*v == '\0' || *end != '\0' || n < 1 || n > 3) {
            char show[41];

            vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                           "%s: descriptor line %u: descriptor version '%s' "
                           "is not supported (1 to 3 are)", path, line,
                           desc_show(show, v, strlen(v)));
            free(v);
            return -1;
        }
        d->version = (unsigned) n;
        free(v);
    } else if (strcasecmp(key, "CID") == 0) {
        int r = desc_parse_cid(h, path, line, "CID", v, &d->cid);

        free(v);
        if (r == -1)
            return -1;
        d->has_cid = true;
    } else if (strcasecmp(key, "parentCID") == 0) {
        int r = desc_parse_cid(h, path, line, "parentCID", v, &d->parent_cid);

        free(v);
        if (r == -1)
            return -1;
        d->has_parent_cid = true;
    } else if (strcasecmp(key, "createType") == 0) {
        desc_set(&d->create_type, v);
    } else if (strcasecmp(key, "parentFileNameHint") == 0) {
        desc_set(&d->parent_hint, v);
    } else if (strcasecmp(key, "encoding") == 0) {
        desc_set(&d->encoding, v);
    } else if (strcasecmp(key, "ddb.adapterType") == 0) {
        desc_set(&d->adapter_type, v);
    } else if (strcasecmp(key, "ddb.virtualHWVersion") == 0) {
        desc_set(&d->hw_version, v);
    } else if (strcasecmp(key, "ddb.toolsVersion") == 0) {
        desc_set(&d->tools_version, v);
    } else if (strcasecmp(key, "ddb.longContentID") == 0) {
        desc_set(&d->long_content_id, v);
    } else if (strcasecmp(key, "ddb.uuid") == 0) {
        desc_set(&d->uuid, v);
    } else if (strcasecmp(key, "ddb.thinProvisioned") == 0) {
        d->thin = strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
        free(v);
    } else {
        free(v);                /* keys we don't need */
    }
    return 0;
}

/* Read a decimal number at *P (advancing it).  Returns false if none. */
static bool
desc_number(const char **p, const char *e, uint64_t *val)
{
    uint64_t n = 0;
    const char *s = *p;

    if (s >= e || !isdigit((unsigned char) *s))
        return false;
    while (s < e && isdigit((unsigned char) *s)) {
        if (vmc_mul_overflow(n, 10, &n) ||
            vmc_add_overflow(n, (uint64_t) (*s - '0'), &n))
            return false;
        s++;
    }
    *p = s;
    *val = n;
    return true;
}

static void
desc_skip_space(const char **p, const char *e)
{
    while (*p < e && (**p == ' ' || **p == '\t'))
        (*p)++;
}

/* Parse "ACCESS SECTORS TYPE ["FILE" [OFFSET]]" into X. */
static int
desc_extent_line(struct vmc_handle *h, const char *path, unsigned line,
                 const char *s, const char *e, struct vmdk_desc_extent *x)
{
    const char *p = s, *tok;
    size_t toklen, i;
    char show[41];

    x->line = line;
    tok = p;
    while (p < e && *p != ' ' && *p != '\t')
        p++;
    toklen = (size_t) (p - tok);
    if (toklen == 2 && strncasecmp(tok, "RW", 2) == 0)
        x->access = VMDK_ACCESS_RW;
    else if (toklen == 6 && strncasecmp(tok, "RDONLY", 6) == 0)
        x->access = VMDK_ACCESS_RDONLY;
    else
        x->access = VMDK_ACCESS_NOACCESS;

    desc_skip_space(&p, e);
    if (!desc_number(&p, e, &x->sectors) || x->sectors == 0 ||
        x->sectors > VMDK_MAX_SECTORS) {
        vmc_error(h, "%s: descriptor line %u: the extent size must be a "
                  "number of sectors between 1 and %llu", path, line,
                  VMDK_MAX_SECTORS);
        return -1;
    }
    desc_skip_space(&p, e);
    tok = p;
    while (p < e && *p != ' ' && *p != '\t')
        p++;
    toklen = (size_t) (p - tok);
    for (i = 0; i < sizeof desc_ext_types / sizeof desc_ext_types[0]; i++)
        if (strlen(desc_ext_types[i].name) == toklen &&
            strncasecmp(tok, desc_ext_types[i].name, toklen) == 0)
            break;
    if (i == sizeof desc_ext_types / sizeof desc_ext_types[0]) {
        vmc_error(h, "%s: descriptor line %u: extent type '%s' is not "
                  "supported", path, line, desc_show(show, tok, toklen));
        return -1;
    }
    if (desc_ext_types[i].refused) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED,
                       "%s: descriptor line %u: the %s extent %s", path, line,
                       desc_ext_types[i].name, desc_ext_types[i].refused);
        return -1;
    }
    x->type = desc_ext_types[i].type;
    x->type_name = desc_ext_types[i].name;

    desc_skip_space(&p, e);
    if (p < e && *p == '"') {
        const char *q = memchr(p + 1, '"', (size_t) (e - p - 1));

        if (q == NULL) {
            vmc_error(h, "%s: descriptor line %u: the extent file name has "
                      "no closing quote", path, line);
            return -1;
        }
        if (!desc_ext_types[i].has_file) {
            vmc_error(h, "%s: descriptor line %u: a %s extent has no file",
                      path, line, x->type_name);
            return -1;
        }
        x->filename = desc_strndup(h, path, p + 1, (size_t) (q - p - 1));
        if (x->filename == NULL)
            return -1;
        if (x->filename[0] == '\0') {
            vmc_error(h, "%s: descriptor line %u: the extent file name is "
                      "empty", path, line);
            return -1;
        }
        p = q + 1;
        desc_skip_space(&p, e);
        if (p < e) {
            if (x->type != VMDK_EXT_FLAT || !desc_number(&p, e, &x->offset)
                || x->offset > VMDK_MAX_SECTORS) {
                vmc_error(h, "%s: descriptor line %u: unexpected text after "
                          "the extent file name", path, line);
                return -1;
            }
            desc_skip_space(&p, e);
        }
    } else if (desc_ext_types[i].has_file) {
        vmc_error(h, "%s: descriptor line %u: the %s extent has no file "
                  "name", path, line, x->type_name);
        return -1;
    }
    if (p < e) {
        vmc_error(h, "%s: descriptor line %u: unexpected text '%s' at the "
                  "end of the extent line", path, line,
                  desc_show(show, p, (size_t) (e - p)));
        return -1;
    }
    if (x->access == VMDK_ACCESS_NOACCESS) {
        vmc_error(h, "%s: descriptor line %u: extent access NOACCESS is not "
                  "supported (RW and RDONLY are)", path, line);
        return -1;
    }
    return 0;
}

/* True if [S, E) starts with an extent access keyword and a blank. */
static bool
desc_is_extent_line(const char *s, const char *e)
{
    static const char *const words[] = { "RW", "RDONLY", "NOACCESS" };
    size_t i;

    for (i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);

        if ((size_t) (e - s) > n && strncasecmp(s, words[i], n) == 0 &&
            (s[n] == ' ' || s[n] == '\t'))
            return true;
    }
    return false;
}

/* Convert file names from a legacy ENCODING to UTF-8. */
static int
desc_convert_names(struct vmc_handle *h, const char *path,
                   struct vmdk_desc *d)
{
    iconv_t cd = (iconv_t) -1;
    size_t i;
    int r = 0;

    if (d->encoding == NULL || strcasecmp(d->encoding, "UTF-8") == 0 ||
        strcasecmp(d->encoding, "UTF8") == 0)
        return 0;
    for (i = 0; i < d->nextents && r == 0; i++) {
        char *name = d->extents[i].filename, *out, *op, *ip;
        size_t j, inleft, outleft, outsize;

        if (name == NULL)
            continue;
        for (j = 0; name[j] && (unsigned char) name[j] < 0x80; j++)
            ;
        if (name[j] == '\0')
            continue;           /* plain ASCII */
        if (cd == (iconv_t) -1) {
            cd = iconv_open("UTF-8", d->encoding);
            if (cd == (iconv_t) -1) {
                vmc_error(h, "%s: descriptor encoding '%s' is not known to "
                          "this system", path, d->encoding);
                return -1;
            }
        }
        inleft = strlen(name);
        outsize = outleft = inleft * 4 + 1;
        out = op = malloc(outsize);
        if (out == NULL) {
            vmc_error(h, "%s: %m", path);
            r = -1;
            break;
        }
        ip = name;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &ip, &inleft, &op, &outleft) == (size_t) -1) {
            vmc_error(h, "%s: descriptor line %u: extent file name is not "
                      "valid %s", path, d->extents[i].line, d->encoding);
            free(out);
            r = -1;
            break;
        }
        *op = '\0';
        free(name);
        d->extents[i].filename = out;
    }
    if (cd != (iconv_t) -1)
        iconv_close(cd);
    return r;
}

int
vmdk_desc_parse(struct vmc_handle *h, const char *path, const char *text,
                size_t len, struct vmdk_desc *d)
{
    const char *p = text, *end;
    const char *nul = memchr(text, '\0', len);
    unsigned line = 0;
    size_t cap = 0;

    /* Embedded descriptors are padded with NULs. */
    end = nul ? nul : text + len;
    if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    d->version = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *s = p, *e = nl ? nl : end;

        p = nl ? nl + 1 : end;
        if (++line > VMDK_MAX_DESC_LINES) {
            vmc_error(h, "%s: the descriptor has more than %u lines",
                      path, VMDK_MAX_DESC_LINES);
            return -1;
        }
        if ((size_t) (e - s) > VMDK_MAX_LINE_LEN) {
            vmc_error(h, "%s: descriptor line %u is longer than %u bytes",
                      path, line, VMDK_MAX_LINE_LEN);
            return -1;
        }
        desc_trim(&s, &e);
        if (s == e || *s == '#')
            continue;
        if (desc_is_extent_line(s, e)) {
            if (d->nextents >= VMDK_MAX_EXTENTS) {
                vmc_error(h, "%s: descriptor line %u: more than %u extents",
                          path, line, VMDK_MAX_EXTENTS);
                return -1;
            }
            if (d->nextents == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                struct vmdk_desc_extent *n =
                    realloc(d->extents, ncap * sizeof *n);

                if (n == NULL) {
                    vmc_error(h, "%s: %m", path);
                    return -1;
                }
                d->extents = n;
                cap = ncap;
            }
            memset(&d->extents[d->nextents], 0, sizeof d->extents[0]);
            d->nextents++;
            if (desc_extent_line(h, path, line, s, e,
                                 &d->extents[d->nextents - 1]) == -1)
                return -1;
            continue;
        }
        if (desc_key_value(h, path, line, s, e, d) == -1)
            return -1;
    }
    return desc_convert_names(h, path, d);
}

/* ---- Writing ------------------------------------------------------ */

/* Descriptor geometry: IDE disks use 16 heads, others 255 (spec §8). */
static void
desc_geometry(const char *adapter, uint64_t sectors, unsigned *cyl,
              unsigned *heads)
{
    uint64_t c;
    uint64_t max;

    if (strcmp(adapter, "ide") == 0) {
        *heads = 16;
        max = 16383;
    } else {
        *heads = 255;
        max = 65535;
    }
    c = vmc_div_round_up(sectors, (uint64_t) *heads * 63);
    if (c > max)
        c = max;
    if (c == 0)
        c = 1;
    *cyl = (unsigned) c;
}

char *
vmdk_desc_build(struct vmc_handle *h, const char *path,
                const struct vmdk_desc_params *p)
{
    char *out = NULL;
    size_t len = 0;
    FILE *fp;
    uint8_t rnd[28];
    unsigned cyl, heads;
    const char *c;

    for (c = p->extent_file; *c; c++)
        if (*c == '"' || *c == '\n' || *c == '\r') {
            vmc_error(h, "%s: the extent file name '%s' cannot be written "
                      "in a VMDK descriptor (quote or newline)", path,
                      p->extent_file);
            return NULL;
        }
    if (p->ids)
        memcpy(rnd, p->ids, sizeof rnd);
    else
        vmc_random_bytes(rnd, sizeof rnd);
    desc_geometry(p->adapter_type, p->sectors, &cyl, &heads);
    fp = open_memstream(&out, &len);
    if (fp == NULL) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    fprintf(fp, "# Disk DescriptorFile\n"
            "version=1\n"
            "encoding=\"UTF-8\"\n"
            "CID=%08" PRIx32 "\n"
            "parentCID=ffffffff\n"
            "createType=\"%s\"\n"
            "\n"
            "# Extent description\n"
            "RW %" PRIu64 " %s \"%s\"%s\n"
            "\n"
            "# The Disk Data Base\n"
            "#DDB\n"
            "\n"
            "ddb.virtualHWVersion = \"%s\"\n"
            "ddb.geometry.cylinders = \"%u\"\n"
            "ddb.geometry.heads = \"%u\"\n"
            "ddb.geometry.sectors = \"63\"\n"
            "ddb.adapterType = \"%s\"\n",
            p->cid, p->create_type, p->sectors, p->extent_type,
            p->extent_file, strcmp(p->extent_type, "FLAT") == 0 ? " 0" : "",
            p->hw_version, cyl, heads, p->adapter_type);
    fprintf(fp, "ddb.uuid = \"%02x %02x %02x %02x %02x %02x %02x %02x-"
            "%02x %02x %02x %02x %02x %02x %02x %02x\"\n",
            rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
            rnd[8], rnd[9], rnd[10], rnd[11], rnd[12], rnd[13], rnd[14],
            rnd[15]);
    fprintf(fp, "ddb.longContentID = \"%02x%02x%02x%02x%02x%02x%02x%02x"
            "%02x%02x%02x%02x%08" PRIx32 "\"\n",
            rnd[16], rnd[17], rnd[18], rnd[19], rnd[20], rnd[21], rnd[22],
            rnd[23], rnd[24], rnd[25], rnd[26], rnd[27], p->cid);
    if (p->tools_version)
        fprintf(fp, "ddb.toolsVersion = \"%s\"\n", p->tools_version);
    if (fclose(fp) != 0 || out == NULL) {
        vmc_error(h, "%s: building the descriptor: %m", path);
        free(out);
        return NULL;
    }
    return out;
}
