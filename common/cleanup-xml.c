/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv common/: the libxml2 cleanup attributes of cleanup.h. */
#include <config.h>

#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <libxml/xpath.h>

#include "cleanup.h"

void
common_cleanup_xmlfreedoc(struct _xmlDoc **doc)
{
    if (*doc)
        xmlFreeDoc(*doc);
}

void
common_cleanup_xmlfreetextwriter(struct _xmlTextWriter **xo)
{
    if (*xo)
        xmlFreeTextWriter(*xo);
}

void
common_cleanup_xmlxpathfreecontext(struct _xmlXPathContext **ctx)
{
    if (*ctx)
        xmlXPathFreeContext(*ctx);
}

void
common_cleanup_xmlxpathfreeobject(struct _xmlXPathObject **obj)
{
    if (*obj)
        xmlXPathFreeObject(*obj);
}

void
common_cleanup_xmlbufferfree(struct _xmlBuffer **buf)
{
    if (*buf)
        xmlBufferFree(*buf);
}
