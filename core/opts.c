/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* key=value,key=value option lists, as qemu-img -o takes them. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct vmc_opt {
    char *key;
    char *value;
};

struct vmc_opts {
    struct vmc_opt *v;
    size_t n;
};

void
vmc_opts_free(struct vmc_opts *o)
{
    size_t i;

    if (o == NULL)
        return;
    for (i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].value);
    }
    free(o->v);
    free(o);
}

/* Copy the next item of *P (up to an unescaped ',') into a new string;
 * ",," stands for a comma.  Advances *P past the separator.
 */
static char *
opts_next_item(const char **p)
{
    const char *s = *p;
    char *out = malloc(strlen(s) + 1), *d = out;

    if (out == NULL)
        return NULL;
    while (*s) {
        if (*s == ',') {
            if (s[1] == ',') {
                *d++ = ',';
                s += 2;
                continue;
            }
            s++;
            break;
        }
        *d++ = *s++;
    }
    *d = '\0';
    *p = s;
    return out;
}

static const struct vmc_opt_desc *
opts_find(const struct vmc_opt_desc *desc, const char *key)
{
    for (; desc && desc->name; desc++)
        if (strcmp(desc->name, key) == 0)
            return desc;
    return NULL;
}

struct vmc_opts *
vmc_opts_parse(struct vmc_handle *h, const char *format, const char *text,
               const struct vmc_opt_desc *desc)
{
    struct vmc_opts *o = calloc(1, sizeof *o);
    const char *p = text ? text : "";

    if (o == NULL) {
        vmc_error(h, "options: %m");
        return NULL;
    }
    while (*p) {
        CLEANUP_FREE char *item = opts_next_item(&p);
        char *eq;
        struct vmc_opt *nv;
        size_t i;

        if (item == NULL) {
            vmc_error(h, "options: %m");
            goto fail;
        }
        if (*item == '\0')
            continue;
        eq = strchr(item, '=');
        if (eq == NULL) {
            vmc_error(h, "%s: option '%s' has no value (write key=value)",
                      format, item);
            goto fail;
        }
        *eq = '\0';
        if (opts_find(desc, item) == NULL) {
            vmc_error_kind(h, VMC_ERR_USAGE, "%s: unknown option '%s'", format,
                           item);
            vmc_set_error_hint(h, VMC_HINT_CREATE_OPTIONS);
            goto fail;
        }
        for (i = 0; i < o->n; i++)
            if (strcmp(o->v[i].key, item) == 0) {
                vmc_error(h, "%s: option '%s' given twice", format, item);
                goto fail;
            }
        nv = realloc(o->v, (o->n + 1) * sizeof *nv);
        if (nv == NULL) {
            vmc_error(h, "options: %m");
            goto fail;
        }
        o->v = nv;
        o->v[o->n].key = strdup(item);
        o->v[o->n].value = strdup(eq + 1);
        o->n++;
        if (o->v[o->n - 1].key == NULL || o->v[o->n - 1].value == NULL) {
            vmc_error(h, "options: %m");
            goto fail;
        }
    }
    return o;

fail:
    vmc_opts_free(o);
    return NULL;
}

const char *
vmc_opts_get(const struct vmc_opts *o, const char *key)
{
    size_t i;

    for (i = 0; o && i < o->n; i++)
        if (strcmp(o->v[i].key, key) == 0)
            return o->v[i].value;
    return NULL;
}

int
vmc_parse_size(const char *s, uint64_t *val)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s)
        return -1;
    switch (*end) {
    case '\0': case 'b': case 'B': shift = 0; break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    case 'p': case 'P': shift = 50; break;
    default: return -1;
    }
    if (*end != '\0') {
        end++;
        if (*end == 'i')        /* KiB, MiB */
            end++;
        if (*end == 'B' && shift)
            end++;
        if (*end != '\0')
            return -1;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *val = (uint64_t) v << shift;
    return 0;
}

int
vmc_opts_get_size(struct vmc_handle *h, const struct vmc_opts *o,
                  const char *key, uint64_t dflt, uint64_t *val)
{
    const char *s = vmc_opts_get(o, key);

    if (s == NULL) {
        *val = dflt;
        return 0;
    }
    if (vmc_parse_size(s, val) == -1) {
        vmc_error(h, "option %s: '%s' is not a size (e.g. 65536, 64K, 2M)",
                  key, s);
        return -1;
    }
    return 0;
}

int
vmc_opts_get_bool(struct vmc_handle *h, const struct vmc_opts *o,
                  const char *key, bool dflt, bool *val)
{
    const char *s = vmc_opts_get(o, key);

    if (s == NULL)
        *val = dflt;
    else if (!strcasecmp(s, "on") || !strcasecmp(s, "yes") ||
             !strcasecmp(s, "true") || !strcmp(s, "1"))
        *val = true;
    else if (!strcasecmp(s, "off") || !strcasecmp(s, "no") ||
             !strcasecmp(s, "false") || !strcmp(s, "0"))
        *val = false;
    else {
        vmc_error(h, "option %s: '%s' is not on or off", key, s);
        return -1;
    }
    return 0;
}

int
vmc_opts_get_int(struct vmc_handle *h, const struct vmc_opts *o,
                 const char *key, int64_t dflt, int64_t *val)
{
    const char *s = vmc_opts_get(o, key);
    char *end;
    long long v;

    if (s == NULL) {
        *val = dflt;
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0') {
        vmc_error(h, "option %s: '%s' is not a number", key, s);
        return -1;
    }
    *val = v;
    return 0;
}
