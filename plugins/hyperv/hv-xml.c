/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: the XML configuration of Hyper-V 2012 and
 * 2012 R2 into the key tree (hv.h).
 *
 * Every leaf element carries type="string|integer|bool|bytes"; an
 * element without a type is a container
 * (../shared/specs/hyperv-config.md section 2).  Hyper-V writes the
 * file in UTF-16LE with a byte order mark; copies re-encoded as 8-bit
 * text that still declare UTF-16 exist (the corpus' mwrock file), and
 * are read as UTF-8.  Parsing goes through the library's safe reader:
 * no network, no entities, no DTD.
 */
#include <config.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cleanup.h"
#include "hv.h"

struct hv_xml {
    struct vmc_handle *h;
    const char *name;
    size_t nodes;
};

static int
b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode base64 TEXT (whitespace ignored) into *OUT / *LEN.  Returns 0,
 * or -1 if TEXT is not base64 (no error set), -2 out of memory.
 */
static int
b64_decode(const char *text, uint8_t **out, size_t *len)
{
    size_t n = strlen(text), o = 0, pad = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    const char *p;

    if (buf == NULL)
        return -2;
    for (p = text; *p; p++) {
        int v;

        if (isspace((unsigned char) *p))
            continue;
        if (*p == '=') {
            pad++;
            continue;
        }
        v = b64_val((unsigned char) *p);
        if (v < 0 || pad) {
            free(buf);
            return -1;
        }
        acc = acc << 6 | (uint32_t) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t) (acc >> bits);
        }
    }
    if (pad > 2) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = o;
    return 0;
}

static bool
all_space(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char) *s))
            return false;
    return true;
}

static int hv_xml_bad(struct hv_xml *x, const xmlNode *e, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));

static int
hv_xml_bad(struct hv_xml *x, const xmlNode *e, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vmc_error_kind(x->h, VMC_ERR_BAD_INPUT, "%s: line %ld: <%s>: %s", x->name,
                   (long) xmlGetLineNo(e), (const char *) e->name, msg);
    return -1;
}

/* The value of the leaf element E of TYPE into N. */
static int
hv_xml_leaf(struct hv_xml *x, const xmlNode *e, const char *type,
            struct hv_node *n)
{
    char *text = (char *) xmlNodeGetContent(e);
    int r = 0;

    if (text == NULL) {
        vmc_error(x->h, "%s: out of memory", x->name);
        return -1;
    }
    if (strlen(text) > HV_MAX_STRING) {
        r = hv_xml_bad(x, e, "value longer than %u bytes", HV_MAX_STRING);
        goto out;
    }
    if (strcmp(type, "string") == 0) {
        n->type = HV_STRING;
        /* Pretty-printed copies write an empty string as whitespace. */
        n->s = strdup(all_space(text) ? "" : text);
        if (n->s == NULL) {
            vmc_error(x->h, "%s: out of memory", x->name);
            r = -1;
        }
    }
    else if (strcmp(type, "integer") == 0) {
        const char *p = text;
        bool neg;
        uint64_t v = 0;

        while (isspace((unsigned char) *p))
            p++;
        neg = *p == '-';
        if (neg)
            p++;
        if (!isdigit((unsigned char) *p)) {
            r = hv_xml_bad(x, e, "'%s' is not an integer", text);
            goto out;
        }
        for (; isdigit((unsigned char) *p); p++) {
            if (v > (UINT64_MAX - 9) / 10) {
                r = hv_xml_bad(x, e, "'%s' is out of range", text);
                goto out;
            }
            v = v * 10 + (uint64_t) (*p - '0');
        }
        while (isspace((unsigned char) *p))
            p++;
        if (*p || (neg && v > (uint64_t) INT64_MAX + 1) ||
            (!neg && v > (uint64_t) INT64_MAX)) {
            r = hv_xml_bad(x, e, "'%s' is not a 64-bit integer", text);
            goto out;
        }
        n->type = HV_INT;
        n->i = neg ? (int64_t) (0 - v) : (int64_t) v;
    }
    else if (strcmp(type, "bool") == 0) {
        char *p = text, *end;

        while (isspace((unsigned char) *p))
            p++;
        end = p + strlen(p);
        while (end > p && isspace((unsigned char) end[-1]))
            *--end = '\0';
        n->type = HV_BOOL;
        if (strcasecmp(p, "true") == 0)
            n->b = true;
        else if (strcasecmp(p, "false") == 0)
            n->b = false;
        else
            r = hv_xml_bad(x, e, "'%s' is not True or False", p);
    }
    else if (strcmp(type, "bytes") == 0) {
        n->type = HV_BYTES;
        r = b64_decode(text, &n->bytes, &n->len);
        if (r == -1)
            r = hv_xml_bad(x, e, "the value is not base64");
        else if (r == -2) {
            vmc_error(x->h, "%s: out of memory", x->name);
            r = -1;
        }
    }
    else
        r = hv_xml_bad(x, e, "type=\"%s\" is not string, integer, bool or "
                       "bytes", type);
 out:
    xmlFree(text);
    return r;
}

static int
hv_xml_walk(struct hv_xml *x, const xmlNode *e, struct hv_node *parent,
            unsigned depth)
{
    const xmlNode *c;

    if (depth > HV_MAX_DEPTH) {
        hv_xml_bad(x, e, "nested deeper than %d levels", HV_MAX_DEPTH);
        return -1;
    }
    for (c = e->children; c; c = c->next) {
        struct hv_node *n;
        xmlChar *type;
        int r = 0;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (++x->nodes > HV_MAX_NODES) {
            hv_xml_bad(x, c, "more than %d elements", HV_MAX_NODES);
            return -1;
        }
        n = hv_node_add(parent, (const char *) c->name,
                        strlen((const char *) c->name));
        if (n == NULL) {
            vmc_error(x->h, "%s: out of memory", x->name);
            return -1;
        }
        snprintf(n->where, sizeof n->where, "line %ld",
                 (long) xmlGetLineNo(c));
        type = xmlGetProp(c, BAD_CAST "type");
        if (type) {
            r = hv_xml_leaf(x, c, (const char *) type, n);
            xmlFree(type);
        }
        else
            r = hv_xml_walk(x, c, n, depth + 1);
        if (r == -1)
            return -1;
    }
    return 0;
}

/* The declaration of the 8-bit text BUF says encoding="UTF-16": change
 * it in place to UTF-8 (same length).  Returns true if it did.
 */
static bool
hv_xml_relabel(char *buf, size_t len)
{
    char *decl_end, *enc;
    char save;

    if (len < 6 || memcmp(buf, "<?xml", 5) != 0)
        return false;
    decl_end = memchr(buf, '>', len < 256 ? len : 256);
    if (decl_end == NULL)
        return false;
    save = *decl_end;
    *decl_end = '\0';
    enc = strcasestr(buf, "encoding=\"UTF-16\"");
    *decl_end = save;
    if (enc == NULL)
        return false;
    memcpy(enc, "encoding=\"UTF-8\" ", 17);
    return true;
}

/* BUF as UTF-8 text (malloc'd, *OUT_LEN): UTF-16 with a byte order mark
 * decoded (an unpaired surrogate or an odd length is an error naming
 * the offset), 8-bit text copied.  A declaration saying UTF-16 is
 * changed to UTF-8; *RELABELLED tells when the text was not UTF-16.
 */
static char *
hv_xml_utf8(struct vmc_handle *h, const unsigned char *buf, size_t len,
            const char *name, size_t *out_len, bool *relabelled)
{
    char *text;

    *relabelled = false;
    if (len >= 2 && ((buf[0] == 0xff && buf[1] == 0xfe) ||
                     (buf[0] == 0xfe && buf[1] == 0xff))) {
        text = vmc_utf16_to_utf8(h, buf, len,
                                 buf[0] == 0xff ? VMC_UTF16_BOM_LE
                                                : VMC_UTF16_BOM_BE,
                                 0, name, out_len);
        if (text)
            hv_xml_relabel(text, *out_len);
        return text;
    }
    text = malloc(len + 1);
    if (text == NULL) {
        vmc_error(h, "%s: out of memory", name);
        return NULL;
    }
    memcpy(text, buf, len);
    text[len] = '\0';
    *out_len = len;
    if (!memchr(buf, '\0', len))
        *relabelled = hv_xml_relabel(text, len);
    return text;
}

struct hv_node *
hv_xml_parse(struct vmc_handle *h, const void *buf, size_t len,
             const char *name, bool *relabelled)
{
    CLEANUP_FREE char *copy = NULL;
    struct hv_xml x = { .h = h, .name = name };
    xmlDocPtr doc;
    xmlNodePtr root;
    struct hv_node *tree = NULL;

    copy = hv_xml_utf8(h, buf, len, name, &len, relabelled);
    if (copy == NULL)
        return NULL;
    doc = vmc_xml_read_memory(h, copy, len, name);
    if (doc == NULL)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (root == NULL || strcmp((const char *) root->name, "configuration")) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: the root element is not "
                       "<configuration>: not a Hyper-V configuration", name);
        goto out;
    }
    tree = hv_node_add(NULL, "configuration", 13);
    if (tree == NULL) {
        vmc_error(h, "%s: out of memory", name);
        goto out;
    }
    snprintf(tree->where, sizeof tree->where, "line %ld",
             (long) xmlGetLineNo(root));
    if (hv_xml_walk(&x, root, tree, 0) == -1) {
        hv_tree_free(tree);
        tree = NULL;
    }
 out:
    xmlFreeDoc(doc);
    return tree;
}
