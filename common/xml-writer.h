/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv common/: short forms for writing XML with libxml2's
 * xmlTextWriter, for plugins that write libvirt domains, OVF or
 * Hyper-V configurations.  Not part of the plugin ABI.
 *
 * The macros expect two locals in scope: "h" (struct vmc_handle *) and
 * "xo" (xmlTextWriterPtr), and are used in a function returning int:
 * when libxml2 fails, they set an error on h naming the element or
 * attribute and return -1 from that function.
 *
 *   xmlw_start_element ("disk") {
 *       xmlw_attribute ("type", "file");
 *       xmlw_attribute_format ("index", "%zu", i);
 *       xmlw_single_element ("source", path);
 *   }
 *
 * xmlw_start_element runs the block that follows once and then closes
 * the element.  Leave the block only by reaching its end (no break,
 * goto or return out of it) except on error.
 */
#ifndef VMCONV_COMMON_XML_WRITER_H
#define VMCONV_COMMON_XML_WRITER_H

#include <libxml/xmlwriter.h>

#include <vmconv/vmconv.h>

/* Set the error for a failed writer call FN on NAME and return -1. */
#define xmlw_fail_(fn, kind, name)                                      \
    do {                                                                \
        vmc_error(h, "writing XML: %s %s: %s failed", (kind), (name),   \
                  (fn));                                                \
        return -1;                                                      \
    } while (0)

#define xmlw_cat2_(a, b) a##b
#define xmlw_cat_(a, b) xmlw_cat2_(a, b)

#define xmlw_start_element(name)                                        \
    xmlw_start_element_((name), xmlw_cat_(xmlw_once_, __COUNTER__))

/* ONCE is a name unique to this use, so nested elements don't shadow. */
#define xmlw_start_element_(name, once)                                 \
    if (xmlTextWriterStartElement(xo, BAD_CAST (name)) == -1)           \
        xmlw_fail_("xmlTextWriterStartElement", "element", (name));     \
    else                                                                \
        for (int once = 1; once;                                        \
             once = 0, ({                                               \
                 if (xmlTextWriterEndElement(xo) == -1)                 \
                     xmlw_fail_("xmlTextWriterEndElement", "element",   \
                                (name));                                \
             }))

/* <NAME>TEXT</NAME>; TEXT is escaped. */
#define xmlw_single_element(name, text)                                 \
    do {                                                                \
        if (xmlTextWriterWriteElement(xo, BAD_CAST (name),              \
                                      BAD_CAST (text)) == -1)           \
            xmlw_fail_("xmlTextWriterWriteElement", "element", (name)); \
    } while (0)

#define xmlw_single_element_format(name, fmt, ...)                      \
    do {                                                                \
        if (xmlTextWriterWriteFormatElement(xo, BAD_CAST (name), fmt,   \
                                            __VA_ARGS__) == -1)         \
            xmlw_fail_("xmlTextWriterWriteFormatElement", "element",    \
                       (name));                                         \
    } while (0)

/* NAME="VALUE" on the element just started; VALUE is escaped. */
#define xmlw_attribute(name, value)                                     \
    do {                                                                \
        if (xmlTextWriterWriteAttribute(xo, BAD_CAST (name),            \
                                        BAD_CAST (value)) == -1)        \
            xmlw_fail_("xmlTextWriterWriteAttribute", "attribute",      \
                       (name));                                         \
    } while (0)

#define xmlw_attribute_format(name, fmt, ...)                           \
    do {                                                                \
        if (xmlTextWriterWriteFormatAttribute(xo, BAD_CAST (name), fmt, \
                                              __VA_ARGS__) == -1)       \
            xmlw_fail_("xmlTextWriterWriteFormatAttribute",             \
                       "attribute", (name));                            \
    } while (0)

/* Text content of the current element; escaped. */
#define xmlw_string(text)                                               \
    do {                                                                \
        if (xmlTextWriterWriteString(xo, BAD_CAST (text)) == -1)        \
            xmlw_fail_("xmlTextWriterWriteString", "text", "content");  \
    } while (0)

#define xmlw_string_format(fmt, ...)                                    \
    do {                                                                \
        if (xmlTextWriterWriteFormatString(xo, fmt, __VA_ARGS__) == -1) \
            xmlw_fail_("xmlTextWriterWriteFormatString", "text",        \
                       "content");                                      \
    } while (0)

/* <!-- TEXT --> */
#define xmlw_comment(text)                                              \
    do {                                                                \
        if (xmlTextWriterWriteComment(xo, BAD_CAST (text)) == -1)       \
            xmlw_fail_("xmlTextWriterWriteComment", "comment", "");     \
    } while (0)

#endif /* VMCONV_COMMON_XML_WRITER_H */
