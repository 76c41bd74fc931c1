/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names another hypervisor wrote (a VMX fileName, a VHD/VHDX parent
 * locator, a VMDK extent or parentFileNameHint, a Hyper-V disk path)
 * turned into local files, under the path policy.
 *
 * A VM folder copied off its host keeps its files together but not
 * the host's absolute paths, drive letters, shares or datastores, and
 * the names were written on case-insensitive file systems.  So a
 * foreign absolute name is looked up, with its prefix removed, in the
 * directory of the file that names it, then by its last component
 * alone; and a component that does not exist as spelled is matched
 * ignoring case.
 */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <vmconv/image.h>
#include <vmconv/util.h>

#include "internal.h"

_Static_assert(VMC_FOREIGN_ALLOW_OUTSIDE == VMC_IMAGE_ALLOW_OUTSIDE,
               "the foreign-name flag is the image flag");

enum foreign_kind {
    FOREIGN_RELATIVE,            /* relative: BASE/NAME only */
    FOREIGN_ABSOLUTE,            /* another host's absolute path */
    FOREIGN_POSIX,               /* an absolute path of this host */
};

bool
vmc_path_is_inside(const char *path, const char *root)
{
    size_t n = strlen(root);

    if (strcmp(root, "/") == 0)
        return true;
    return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Skip one path component and the slashes after it. */
static char *
skip_component(char *p)
{
    while (*p && *p != '/')
        p++;
    while (*p == '/')
        p++;
    return p;
}

/* Classify NAME (a malloc'd copy, backslashes turned into slashes, is
 * returned) and set *REST to the part to look up below BASE: the path
 * after "C:", "\\server\share", "[datastore]" or
 * "/vmfs/volumes/DATASTORE".
 */
static char *
foreign_split(const char *name, enum foreign_kind *kind, char **rest)
{
    char *s = strdup(name), *p;

    if (s == NULL)
        return NULL;
    for (p = s; *p; p++)
        if (*p == '\\')
            *p = '/';
    *kind = FOREIGN_ABSOLUTE;
    if (s[0] == '[' && (p = strchr(s, ']')) != NULL) {
        /* "[datastore1] vm/vm.vmdk" */
        p++;
        while (*p == ' ' || *p == '/')
            p++;
    }
    else if (s[0] == '/' && s[1] == '/')
        /* "\\server\share\dir\x.vhd", "\\?\Volume{GUID}\x.vhdx" */
        p = skip_component(skip_component(s + 2));
    else if (isalpha((unsigned char) s[0]) && s[1] == ':') {
        /* "C:\dir\x.vhdx" */
        p = s + 2;
        while (*p == '/')
            p++;
    }
    else if (strncmp(s, "/vmfs/volumes/", 14) == 0)
        p = skip_component(s + 14);
    else {
        p = s;
        *kind = s[0] == '/' ? FOREIGN_POSIX : FOREIGN_RELATIVE;
    }
    *rest = p;
    return s;
}

/* The last component of the '/'-separated P. */
static const char *
last_component(const char *p)
{
    const char *slash = strrchr(p, '/');

    return slash ? slash + 1 : p;
}

/* Append COMP to the relative name *OUT ("" or "a/b"). */
static int
append_component(char **out, const char *comp, size_t len)
{
    char *n = NULL;

    if (asprintf(&n, "%s%s%.*s", *out, **out ? "/" : "", (int) len,
                 comp) == -1)
        return -1;
    free(*out);
    *out = n;
    return 0;
}

/* Find the '/'-separated relative name REL below BASE, matching each
 * component ignoring case where it does not exist as spelled.  Returns
 * 1 and sets *FOUND (malloc'd, relative to BASE), 0 if not found, -1
 * with an error (ambiguous, out of memory).
 */
static int
foreign_lookup(struct vmc_handle *h, const char *base, const char *rel,
               const char *ctx, char **found)
{
    CLEANUP_FREE char *out = strdup("");
    const char *p = rel;
    struct stat st;

    if (out == NULL)
        goto nomem;
    while (*p) {
        const char *comp = p;
        size_t len = strcspn(p, "/");
        CLEANUP_FREE char *path = NULL;
        CLEANUP_FREE char *match = NULL;
        struct dirent *d;
        DIR *dir;

        p += len;
        while (*p == '/')
            p++;
        if (len == 0 || (len == 1 && comp[0] == '.'))
            continue;
        if (asprintf(&path, "%s/%s%s%.*s", base, out, *out ? "/" : "",
                     (int) len, comp) == -1)
            goto nomem;
        if ((len == 2 && comp[0] == '.' && comp[1] == '.') ||
            lstat(path, &st) == 0) {
            if (append_component(&out, comp, len) == -1)
                goto nomem;
            continue;
        }
        free(path);
        if (asprintf(&path, "%s/%s", base, out) == -1) {
            path = NULL;
            goto nomem;
        }
        dir = opendir(path);
        if (dir == NULL)
            return 0;
        while ((d = readdir(dir)) != NULL) {
            if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
                strlen(d->d_name) != len ||
                strncasecmp(d->d_name, comp, len) != 0)
                continue;
            if (match != NULL) {
                vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s '%.*s' matches "
                               "both '%s' and '%s' in %s when case is "
                               "ignored", ctx, (int) len, comp, match,
                               d->d_name, path);
                closedir(dir);
                return -1;
            }
            match = strdup(d->d_name);
            if (match == NULL) {
                closedir(dir);
                goto nomem;
            }
        }
        closedir(dir);
        if (match == NULL)
            return 0;
        if (append_component(&out, match, strlen(match)) == -1)
            goto nomem;
    }
    if (*out == '\0')
        return 0;
    {
        CLEANUP_FREE char *path = NULL;

        if (asprintf(&path, "%s/%s", base, out) == -1) {
            path = NULL;
            goto nomem;
        }
        if (stat(path, &st) == -1)
            return 0;
    }
    *found = vmc_steal_pointer(&out);
    return 1;

nomem:
    vmc_error(h, "%s: %m", ctx);
    return -1;
}

/* Refuse PATH (existing) if it leads outside ROOT. */
static int
foreign_check_inside(struct vmc_handle *h, const char *path,
                     const char *root, unsigned flags, const char *ctx,
                     bool image)
{
    CLEANUP_FREE char *canon = NULL;

    if (flags & VMC_FOREIGN_ALLOW_OUTSIDE)
        return 0;
    canon = realpath(path, NULL);
    if (canon == NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s (%s): %m", ctx, path);
        return -1;
    }
    if (!vmc_path_is_inside(canon, root)) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s leads outside %s %s (to "
                       "%s); refusing to follow it", ctx,
                       image ? "the image's directory" : "the directory",
                       root, canon);
        vmc_set_error_hint(h, VMC_HINT_ALLOW_OUTSIDE);
        return -1;
    }
    return 0;
}

int
vmc_foreign_resolve(struct vmc_handle *h, const char *name,
                    const char *base, const char *root, unsigned flags,
                    const char *file, const char *what, char **local)
{
    CLEANUP_FREE char *ctx = NULL;
    CLEANUP_FREE char *norm = NULL;
    CLEANUP_FREE char *tried = NULL;
    const char *cand[2];
    enum foreign_kind kind;
    char *rest;
    size_t i, n = 0;
    struct stat st;

    *local = NULL;
    if (asprintf(&ctx, "%s%s%s '%s'", file ? file : "", file ? ": " : "",
                 what, name ? name : "") == -1) {
        ctx = NULL;
        vmc_error(h, "%s: %m", what);
        return -1;
    }
    if (name == NULL || *name == '\0') {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s%s%s is empty",
                       file ? file : "", file ? ": " : "", what);
        return -1;
    }
    norm = foreign_split(name, &kind, &rest);
    if (norm == NULL) {
        vmc_error(h, "%s: %m", ctx);
        return -1;
    }
    if (kind == FOREIGN_POSIX && stat(norm, &st) == 0) {
        if (foreign_check_inside(h, norm, root, flags, ctx,
                                 file != NULL) == -1)
            return -1;
        *local = vmc_steal_pointer(&norm);
        return 0;
    }
    if (kind == FOREIGN_RELATIVE)
        cand[n++] = rest;
    else {
        if (kind == FOREIGN_ABSOLUTE)
            cand[n++] = rest;
        if (n == 0 || strcmp(last_component(rest), rest) != 0)
            cand[n++] = last_component(rest);
    }
    for (i = 0; i < n; i++) {
        CLEANUP_FREE char *path = NULL;
        char *found = NULL;
        char *t = NULL;
        int r;

        if (*cand[i] == '\0')
            continue;
        if (asprintf(&t, "%s%s'%s'", tried ? tried : "", tried ? ", " : "",
                     cand[i]) == -1) {
            vmc_error(h, "%s: %m", ctx);
            return -1;
        }
        free(tried);
        tried = t;
        r = foreign_lookup(h, base, cand[i], ctx, &found);
        if (r == -1)
            return -1;
        if (r == 0)
            continue;
        if (asprintf(&path, "%s/%s", base, found) == -1) {
            free(found);
            vmc_error(h, "%s: %m", ctx);
            return -1;
        }
        if (foreign_check_inside(h, path, root, flags, ctx,
                                 file != NULL) == -1) {
            free(found);
            return -1;
        }
        if (strcmp(found, cand[i]) != 0 || strcmp(found, name) != 0)
            vmc_debug(h, "%s: found as '%s' in %s", ctx, found, base);
        *local = found;
        return 0;
    }
    if (flags & VMC_FOREIGN_MISSING_OK)
        return 0;
    vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s not found (tried %s in %s)",
                   ctx, tried ? tried : "nothing", base);
    return -1;
}

int
vmc_resolve_foreign_name(struct vmc_handle *h, const char *name,
                         const char *base, unsigned flags,
                         const char *what, char **local)
{
    CLEANUP_FREE char *root = NULL;
    CLEANUP_FREE char *found = NULL;

    *local = NULL;
    root = realpath(base, NULL);
    if (root == NULL) {
        vmc_error(h, "%s: %m", base);
        return -1;
    }
    if (vmc_foreign_resolve(h, name, base, root, flags, NULL, what,
                            &found) == -1)
        return -1;
    if (found == NULL)
        return 0;
    if (found[0] == '/')
        *local = vmc_steal_pointer(&found);
    else if (asprintf(local, "%s/%s", base, found) == -1) {
        *local = NULL;
        vmc_error(h, "%s '%s': %m", what, name);
        return -1;
    }
    return 0;
}
