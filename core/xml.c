/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* XML for plugins: a safe reader (no network, no entities, no DTD) and
 * the probes' sniffing of an XML document's root element.
 *
 * Every XML-reading plugin (libvirt domains, OVF, Hyper-V 2012 R2
 * configurations) parses through vmc_xml_read_file/_memory, so the
 * promise of DESIGN.md ("XML is parsed without network access or
 * entity expansion") is kept in one place.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <vmconv/plugin.h>
#include <vmconv/util.h>

#include "internal.h"

/* ---- The safe reader ------------------------------------------------- */

/* What the SAX hooks found, reached through ctxt->_private. */
struct xml_guard {
    const char *refused;         /* why the document was refused, or NULL */
    int line;
    char first[256];             /* the first parse error, or "" */
    int first_line;
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
    xmlInitParser();
}

/* Called for every <!ENTITY ...> declaration: refuse the document.
 * With no entity declared, no "billion laughs" and no external entity
 * (XXE) can exist; predefined entities (&lt; ...) need no declaration.
 */
static void
xml_refuse_entity(void *ctx, const xmlChar *name, int type,
                  const xmlChar *public_id, const xmlChar *system_id,
                  xmlChar *content)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct xml_guard *g = ctxt->_private;

    if (g->refused == NULL) {
        g->refused = "the document declares entities (<!ENTITY ...>), "
            "which vmconv does not accept";
        g->line = xmlSAX2GetLineNumber(ctxt);
    }
    xmlStopParser(ctxt);
}

static void
xml_refuse_unparsed_entity(void *ctx, const xmlChar *name,
                           const xmlChar *public_id,
                           const xmlChar *system_id,
                           const xmlChar *notation)
{
    xml_refuse_entity(ctx, name, 0, public_id, system_id, NULL);
}

/* libxml2's structured error channel: keep the first error (later
 * ones often follow from it: "Premature end of data").
 */
static void
xml_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct xml_guard *g = ctxt->_private;
    size_t n;

    if (g == NULL || e == NULL || e->level < XML_ERR_ERROR ||
        g->first[0] != '\0')
        return;
    snprintf(g->first, sizeof g->first, "%s",
             e->message ? e->message : "not well-formed XML");
    n = strlen(g->first);
    while (n > 0 && (g->first[n - 1] == '\n' || g->first[n - 1] == ' '))
        g->first[--n] = '\0';
    /* One line: "... encoding !\nBytes: 0x96 ..." */
    for (char *p = g->first; (p = strchr(p, '\n')) != NULL; )
        *p = ' ';
    g->first_line = e->line;
}

struct _xmlDoc *
vmc_xml_read_memory(struct vmc_handle *h, const void *buf, size_t len,
                    const char *name)
{
    /* XML_PARSE_NONET: no network.  Not XML_PARSE_NOENT (entity
     * substitution), XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR,
     * XML_PARSE_DTDVALID, XML_PARSE_XINCLUDE or XML_PARSE_HUGE.
     */
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR |
        XML_PARSE_NOWARNING;
    struct xml_guard g = { .refused = NULL };
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;

    if (len > INT_MAX) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: XML document of %zu bytes "
                       "is too large", name, len);
        return NULL;
    }
    pthread_once(&xml_once, xml_init);
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        vmc_error(h, "%s: cannot create an XML parser: out of memory", name);
        return NULL;
    }
    ctxt->_private = &g;
    ctxt->sax->entityDecl = xml_refuse_entity;
    ctxt->sax->unparsedEntityDecl = xml_refuse_unparsed_entity;
    ctxt->sax->serror = xml_error;
    /* Never fetch an external subset or entity, whatever the options. */
    ctxt->sax->externalSubset = NULL;
    ctxt->sax->resolveEntity = NULL;

    doc = xmlCtxtReadMemory(ctxt, buf, (int) len, name, NULL, options);
    if (g.refused) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: line %d: %s", name, g.line,
                       g.refused);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    else if (doc == NULL || !ctxt->wellFormed) {
        if (g.first[0] == '\0')
            xml_error(ctxt, xmlCtxtGetLastError(ctxt));
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: line %d: %s", name,
                       g.first_line,
                       g.first[0] ? g.first : "not well-formed XML");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

struct _xmlDoc *
vmc_xml_read_file(struct vmc_handle *h, const char *path, size_t max)
{
    CLEANUP_FREE void *buf = NULL;
    size_t len;

    buf = vmc_read_file_len(h, path, max, &len);
    if (buf == NULL)
        return NULL;
    return vmc_xml_read_memory(h, buf, len, path);
}

/* ---- Helpers for plugins' probes ------------------------------------ */

ptrdiff_t
vmc_probe_read_head(struct vmc_handle *h, const char *path, void *buf,
                    size_t len)
{
    CLEANUP_CLOSE int fd = -1;
    struct stat st;
    size_t got = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd == -1) {
        vmc_debug(h, "probe: open: %s: %m", path);
        return -1;
    }
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        vmc_debug(h, "probe: %s: not a regular file", path);
        return -1;
    }
    while (got < len) {
        ssize_t r = pread(fd, (char *) buf + got, len - got, (off_t) got);

        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1) {
            vmc_debug(h, "probe: read: %s: %m", path);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t) r;
    }
    return (ptrdiff_t) got;
}

/* Skip from P past the first occurrence of END in [P, LIM); returns
 * LIM if END is not there.
 */
static const char *
xml_skip_past(const char *p, const char *lim, const char *end)
{
    size_t elen = strlen(end);

    for (; p + elen <= lim; p++)
        if (memcmp(p, end, elen) == 0)
            return p + elen;
    return lim;
}

/* Find the name of the first element of the ASCII-compatible text
 * [P, LIM) and compare it with NAME.
 */
static bool
xml_root_matches(const char *p, const char *lim, const char *name)
{
    const char *start, *colon;
    size_t len;

    for (;;) {
        while (p < lim && (*p == ' ' || *p == '\t' || *p == '\r' ||
                           *p == '\n'))
            p++;
        if (lim - p < 2 || *p != '<')
            return false;
        if (p[1] == '?')
            p = xml_skip_past(p, lim, "?>");
        else if (lim - p >= 4 && memcmp(p, "<!--", 4) == 0)
            p = xml_skip_past(p + 4, lim, "-->");
        else if (p[1] == '!') {
            int depth = 0;

            /* <!DOCTYPE ...> with a possible [internal subset]. */
            for (p += 2; p < lim; p++) {
                if (*p == '[')
                    depth++;
                else if (*p == ']' && depth > 0)
                    depth--;
                else if (*p == '>' && depth == 0)
                    break;
            }
            if (p < lim)
                p++;
        }
        else
            break;
    }
    start = ++p;
    while (p < lim && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
           *p != '>' && *p != '/')
        p++;
    if (p == lim)
        return false;
    len = (size_t) (p - start);
    if (len == strlen(name) && memcmp(start, name, len) == 0)
        return true;
    /* "Envelope" also matches "ovf:Envelope". */
    colon = memchr(start, ':', len);
    if (colon && strchr(name, ':') == NULL) {
        size_t local = len - (size_t) (colon + 1 - start);

        return local == strlen(name) && memcmp(colon + 1, name, local) == 0;
    }
    return false;
}

bool
vmc_probe_xml_root(const void *buf, size_t len, const char *name)
{
    const unsigned char *b = buf;
    CLEANUP_FREE char *ascii = NULL;
    size_t i, n;
    int hi;                      /* UTF-16: index of the high byte */

    if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
        return xml_root_matches((const char *) b + 3,
                                (const char *) b + len, name);
    if (len >= 2 && ((b[0] == 0xff && b[1] == 0xfe) ||
                     (b[0] == '<' && b[1] == 0)))
        hi = 1;                  /* UTF-16LE */
    else if (len >= 2 && ((b[0] == 0xfe && b[1] == 0xff) ||
                          (b[0] == 0 && b[1] == '<')))
        hi = 0;                  /* UTF-16BE */
    else
        return xml_root_matches((const char *) b, (const char *) b + len,
                                name);
    /* Markup is ASCII: keep the low byte of ASCII code units, turn
     * anything else into '?'.
     */
    ascii = malloc(len / 2 + 1);
    if (ascii == NULL)
        return false;
    for (i = 0, n = 0; i + 1 < len; i += 2) {
        unsigned char h8 = b[i + (size_t) hi], l8 = b[i + 1 - (size_t) hi];

        ascii[n++] = h8 == 0 && l8 < 0x80 ? (char) l8 : '?';
    }
    i = (b[0] == 0xff || b[0] == 0xfe) ? 1 : 0;  /* skip the BOM */
    return xml_root_matches(ascii + i, ascii + n, name);
}
