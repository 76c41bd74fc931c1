/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of common/, the convenience library for plugins: the
 * cleanup attributes and the XML writer macros, used as a plugin uses
 * them (public headers only).
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include <vmconv/vmconv.h>
#include <vmconv/vm.h>

#include "common/cleanup.h"
#include "common/xml-writer.h"

static struct vmc_handle *h;

static void
setup(void)
{
    h = vmc_new();
}

static void
teardown(void)
{
    vmc_free(h);
}

/* Write a small domain-like document with the macros into XO. */
static int
write_doc(xmlTextWriterPtr xo, const char *path, size_t n)
{
    size_t i;

    xmlw_start_element("domain") {
        xmlw_attribute("type", "kvm");
        xmlw_single_element("name", "web<01>");
        xmlw_comment(" disks ");
        xmlw_start_element("devices") {
            for (i = 0; i < n; i++) {
                xmlw_start_element("disk") {
                    xmlw_attribute_format("index", "%zu", i);
                    xmlw_start_element("source") {
                        xmlw_attribute("file", path);
                    }
                }
            }
        }
        xmlw_single_element_format("memory", "%d", 1024);
        xmlw_start_element("description") {
            xmlw_string("a & b");
            xmlw_string_format(" %s", "c");
        }
    }
    return 0;
}

START_TEST(test_xml_writer)
{
    CLEANUP_XMLBUFFERFREE xmlBufferPtr buf = xmlBufferCreate();
    CLEANUP_XMLFREETEXTWRITER xmlTextWriterPtr xo = NULL;

    ck_assert_ptr_nonnull(buf);
    xo = xmlNewTextWriterMemory(buf, 0);
    ck_assert_ptr_nonnull(xo);
    ck_assert_int_eq(write_doc(xo, "/v/a\"b.qcow2", 2), 0);
    ck_assert_int_ge(xmlTextWriterFlush(xo), 0);
    ck_assert_str_eq((const char *) xmlBufferContent(buf),
                     "<domain type=\"kvm\"><name>web&lt;01&gt;</name>"
                     "<!-- disks --><devices>"
                     "<disk index=\"0\"><source file=\"/v/a&quot;b.qcow2\"/>"
                     "</disk>"
                     "<disk index=\"1\"><source file=\"/v/a&quot;b.qcow2\"/>"
                     "</disk></devices><memory>1024</memory>"
                     "<description>a &amp; b c</description></domain>");
}
END_TEST

/* An attribute with no element open: libxml2 fails, the macro sets an
 * error naming the attribute and returns -1.
 */
static int
write_bad(xmlTextWriterPtr xo)
{
    xmlw_attribute("orphan", "x");
    return 0;
}

START_TEST(test_xml_writer_error)
{
    CLEANUP_XMLBUFFERFREE xmlBufferPtr buf = xmlBufferCreate();
    CLEANUP_XMLFREETEXTWRITER xmlTextWriterPtr xo =
        xmlNewTextWriterMemory(buf, 0);

    ck_assert_int_eq(write_bad(xo), -1);
    ck_assert_str_eq(vmc_get_error(h), "writing XML: attribute orphan: "
                     "xmlTextWriterWriteAttribute failed");
}
END_TEST

static int closed_fd = -1;

static void
scope_with_fd(void)
{
    CLEANUP_CLOSE int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    ck_assert_int_ge(fd, 0);
    closed_fd = fd;
}

static char *
scope_steal(void)
{
    CLEANUP_FREE char *s = strdup("kept");
    CLEANUP_FREE char *t = strdup("freed");

    ck_assert_ptr_nonnull(t);
    return common_steal_pointer(&s);
}

START_TEST(test_cleanup)
{
    char *kept;

    scope_with_fd();
    errno = 0;
    ck_assert_int_eq(fcntl(closed_fd, F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);

    kept = scope_steal();
    ck_assert_str_eq(kept, "kept");
    free(kept);

    /* NULL and -1 are fine (run under valgrind/ASan for the rest). */
    {
        CLEANUP_FREE char *n = NULL;
        CLEANUP_CLOSE int fd = -1;
        CLEANUP_FCLOSE FILE *fp = fopen("/dev/null", "r");
        CLEANUP_VMC_VM_FREE struct vmc_vm *vm = vmc_vm_new(h);
        CLEANUP_XMLFREEDOC xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");

        ck_assert_ptr_nonnull(fp);
        ck_assert_ptr_nonnull(vm);
        ck_assert_ptr_nonnull(doc);
        (void) n;
        (void) fd;
    }
}
END_TEST

static Suite *
common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("common");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_xml_writer);
    tcase_add_test(tc, test_xml_writer_error);
    tcase_add_test(tc, test_cleanup);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(common_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
