/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: the key tree both configuration formats read
 * into (hv.h).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hv.h"

int
hv_node_attach(struct hv_node *parent, struct hv_node *n)
{
    if (parent->nr_kids == parent->alloc_kids) {
        size_t a = parent->alloc_kids ? parent->alloc_kids * 2 : 8;
        struct hv_node **k = realloc(parent->kids, a * sizeof *k);

        if (k == NULL)
            return -1;
        parent->kids = k;
        parent->alloc_kids = a;
    }
    parent->kids[parent->nr_kids++] = n;
    n->parent = parent;
    return 0;
}

struct hv_node *
hv_node_add(struct hv_node *parent, const char *name, size_t name_len)
{
    struct hv_node *n = calloc(1, sizeof *n);

    if (n == NULL)
        return NULL;
    n->name = strndup(name, name_len);
    if (n->name == NULL || (parent && hv_node_attach(parent, n) == -1)) {
        free(n->name);
        free(n);
        return NULL;
    }
    n->type = HV_NODE;
    return n;
}

void
hv_tree_free(struct hv_node *root)
{
    size_t i;

    if (root == NULL)
        return;
    for (i = 0; i < root->nr_kids; i++)
        hv_tree_free(root->kids[i]);
    free(root->kids);
    free(root->name);
    free(root->s);
    free(root->bytes);
    free(root);
}

const struct hv_node *
hv_child(const struct hv_node *n, const char *name)
{
    size_t i;

    if (n == NULL)
        return NULL;
    for (i = 0; i < n->nr_kids; i++)
        if (strcasecmp(n->kids[i]->name, name) == 0)
            return n->kids[i];
    return NULL;
}

const struct hv_node *
hv_get(const struct hv_node *n, const char *path)
{
    char comp[256];

    while (n && *path) {
        const char *slash = strchr(path, '/');
        size_t len = slash ? (size_t) (slash - path) : strlen(path);

        if (len >= sizeof comp)
            return NULL;
        memcpy(comp, path, len);
        comp[len] = '\0';
        n = hv_child(n, comp);
        path += len;
        if (*path == '/')
            path++;
    }
    return n;
}

const char *
hv_str(const struct hv_node *n, const char *path)
{
    n = hv_get(n, path);
    return n && n->type == HV_STRING ? n->s : NULL;
}

const char *
hv_path(const struct hv_node *n, char *buf, size_t len)
{
    const struct hv_node *chain[HV_MAX_DEPTH + 2];
    size_t depth = 0, used = 0;

    buf[0] = '\0';
    for (; n && depth < HV_MAX_DEPTH + 2; n = n->parent)
        if (n->name[0])
            chain[depth++] = n;
    while (depth > 0) {
        int r = snprintf(buf + used, len - used, "%s%s", used ? "/" : "",
                         chain[--depth]->name);

        if (r < 0 || (size_t) r >= len - used)
            break;
        used += (size_t) r;
    }
    return buf;
}
