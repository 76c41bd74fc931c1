/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The .vmx dictionary parser of the vmware plugin
 * (plugins/vmware/vmx-parse.c), tested alone: syntax, escapes,
 * charsets, duplicates, and one clear error for each kind of bad
 * input.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmconv/vmconv.h>

#include "../plugins/vmware/vmx-parse.h"

static struct vmc_handle *h;

static void
setup(void)
{
    h = vmc_new();
    ck_assert_ptr_nonnull(h);
}

static void
teardown(void)
{
    vmc_free(h);
    h = NULL;
}

static struct vmx_dict *
parse_ok(const char *text, size_t len)
{
    struct vmx_dict *d = vmx_parse_buffer(h, text, len, "t.vmx");

    if (d == NULL)
        ck_abort_msg("parse failed: %s", vmc_get_error(h));
    return d;
}

#define PARSE_OK(s) parse_ok(s, sizeof (s) - 1)

/* Parsing TEXT fails with exactly MSG. */
static void
parse_fails(const char *text, size_t len, const char *msg)
{
    struct vmx_dict *d = vmx_parse_buffer(h, text, len, "t.vmx");

    ck_assert_msg(d == NULL, "parsed: %.60s", text);
    ck_assert_str_eq(vmc_get_error(h), msg);
}

#define PARSE_FAILS(s, msg) parse_fails(s, sizeof (s) - 1, msg)

START_TEST(test_basic)
{
    struct vmx_dict *d = PARSE_OK(
        "#!/usr/bin/vmware\n"
        ".encoding = \"UTF-8\"\n"
        "\n"
        "  # a comment\n"
        "config.version = \"8\"\n"
        "displayName=\"web 01\"   # trailing comment\n"
        "memSize = \"4096\"\n"
        "scsi0:0.fileName = \"web01.vmdk\"\n"
        "empty = \"\"\n"
        "packer = unquoted\n"
        "\tnumvcpus\t=\t\"2\"");

    ck_assert_uint_eq(d->nr, 8);
    ck_assert_str_eq(vmx_get(d, "displayname"), "web 01");
    ck_assert_str_eq(vmx_get(d, "DISPLAYNAME"), "web 01");
    ck_assert_str_eq(vmx_get(d, "memsize"), "4096");
    ck_assert_str_eq(vmx_get(d, "memSize"), "4096");
    ck_assert_str_eq(vmx_get(d, "SCSI0:0.FILENAME"), "web01.vmdk");
    ck_assert_str_eq(vmx_getf(d, "scsi%d:%d.filename", 0, 0), "web01.vmdk");
    ck_assert_str_eq(vmx_get(d, "empty"), "");
    ck_assert_str_eq(vmx_get(d, "packer"), "unquoted");
    ck_assert_str_eq(vmx_get(d, "numvcpus"), "2");
    ck_assert_ptr_null(vmx_get(d, "nosuchkey"));
    ck_assert_uint_eq(vmx_find(d, "memsize")->line, 7);
    ck_assert_str_eq(d->encoding, "UTF-8");
    ck_assert(!d->encoding_guessed);
    vmx_dict_free(d);
}
END_TEST

/* The last of a duplicated key wins, whatever its case. */
START_TEST(test_duplicates)
{
    struct vmx_dict *d = PARSE_OK(
        "memsize = \"1024\"\n"
        "a = \"x\"\n"
        "MemSize = \"2048\"\n"
        "MEMSIZE = \"4096\"\n");

    ck_assert_uint_eq(d->nr, 2);
    ck_assert_str_eq(vmx_get(d, "memsize"), "4096");
    ck_assert_uint_eq(vmx_find(d, "memsize")->line, 4);
    vmx_dict_free(d);
}
END_TEST

START_TEST(test_escapes)
{
    struct vmx_dict *d = PARSE_OK(
        "annotation = \"line 1|0Aline 2 |22quoted|22 a|7Cb |23\"\n"
        "name = \"caf|C3|A9\"\n");

    ck_assert_str_eq(vmx_get(d, "annotation"),
                     "line 1\nline 2 \"quoted\" a|b #");
    ck_assert_str_eq(vmx_get(d, "name"), "caf\xc3\xa9");
    vmx_dict_free(d);
}
END_TEST

START_TEST(test_crlf_bom)
{
    struct vmx_dict *d = PARSE_OK(
        "\xef\xbb\xbf.encoding = \"UTF-8\"\r\n"
        "displayName = \"x\"\r\n"
        "guestOS = \"rhel9-64\"\r\n");

    ck_assert_uint_eq(d->nr, 3);
    ck_assert_str_eq(vmx_get(d, ".encoding"), "UTF-8");
    ck_assert_str_eq(vmx_get(d, "displayname"), "x");
    ck_assert_str_eq(vmx_get(d, "guestos"), "rhel9-64");
    vmx_dict_free(d);
}
END_TEST

START_TEST(test_utf16_bom)
{
    static const char text[] =
        "\xff\xfe" "a\0 \0=\0 \0\"\0\xe9\0\"\0\n\0";
    struct vmx_dict *d = parse_ok(text, sizeof text - 1);

    ck_assert_str_eq(vmx_get(d, "a"), "\xc3\xa9");
    vmx_dict_free(d);
}
END_TEST

START_TEST(test_windows_1252)
{
    struct vmx_dict *d = PARSE_OK(
        ".encoding = \"windows-1252\"\n"
        "displayName = \"Caf\xe9 \x80\"\n");

    ck_assert_str_eq(vmx_get(d, "displayname"), "Caf\xc3\xa9 \xe2\x82\xac");
    ck_assert_str_eq(d->encoding, "windows-1252");
    vmx_dict_free(d);
}
END_TEST

/* Shift_JIS: the second byte of a character may be '|' (0x7C), which
 * must not be read as an escape: the text is converted first.
 */
START_TEST(test_shift_jis)
{
    struct vmx_dict *d = PARSE_OK(
        ".encoding = \"Shift_JIS\"\n"
        "displayName = \"\x83\x7c\x83\x58\x83\x67 |22\"\n");

    /* ポスト "  */
    ck_assert_str_eq(vmx_get(d, "displayname"),
                     "\xe3\x83\x9d\xe3\x82\xb9\xe3\x83\x88 \"");
    vmx_dict_free(d);
}
END_TEST

/* No .encoding and bytes that are not UTF-8: read as windows-1252,
 * and said so.
 */
START_TEST(test_guessed_encoding)
{
    struct vmx_dict *d = PARSE_OK("displayName = \"Caf\xe9\"\n");

    ck_assert_str_eq(vmx_get(d, "displayname"), "Caf\xc3\xa9");
    ck_assert(d->encoding_guessed);
    ck_assert_ptr_null(d->encoding);
    vmx_dict_free(d);
}
END_TEST

START_TEST(test_errors)
{
    PARSE_FAILS("a = \"1\"\nthis is junk\n",
                "t.vmx: line 2: expected 'key = \"value\"'");
    PARSE_FAILS("a = \"1\nb = \"2\"\n",
                "t.vmx: line 1: a: the value has no closing quote");
    PARSE_FAILS("a = \"1\" b\n",
                "t.vmx: line 1: a: unexpected text after the value");
    PARSE_FAILS("= \"1\"\n", "t.vmx: line 1: expected 'key = \"value\"'");
    PARSE_FAILS("a = \"x|2\"\n", "t.vmx: line 1: a: '|' is not followed "
                "by two hex digits (VMware writes '|' as |7C)");
    PARSE_FAILS("a = \"x|zz\"\n", "t.vmx: line 1: a: '|' is not followed "
                "by two hex digits (VMware writes '|' as |7C)");
    PARSE_FAILS("a = \"x|00\"\n", "t.vmx: line 1: a: the escape |00 (a NUL "
                "byte) is not allowed");
    PARSE_FAILS("a = \"1\"\nb = \"x\0y\"\n",
                "t.vmx: line 2: NUL byte (not a .vmx text file)");
    PARSE_FAILS("a = \"\x01\x02\"\n",
                "t.vmx: line 1: control character 0x01 (not a .vmx text "
                "line)");
    PARSE_FAILS("\xef\xbb\xbf" "a = \"\xff\"\n",
                "t.vmx: line 1: a: the value is not valid UTF-8");
    PARSE_FAILS(".encoding = \"UTF-8\"\na = \"\xc3\"\n",
                "t.vmx: line 2: a: the value is not valid text in its "
                ".encoding");
    PARSE_FAILS("a = \"|C3\"\n", "t.vmx: line 1: a: an escape in the value "
                "makes it invalid UTF-8");
    PARSE_FAILS(".encoding = \"no-such-charset\"\na = \"1\"\n",
                "t.vmx: line 1: .encoding: 'no-such-charset' is not a "
                "character set this system can convert");
    PARSE_FAILS(".encoding = \"Shift_JIS\"\n\na = \"\x85\x40\"\n",
                "t.vmx: line 3: text that is not Shift_JIS (the .encoding "
                "of line 1)");
}
END_TEST

/* Binary junk: the first bad line is named. */
START_TEST(test_binary_junk)
{
    char buf[4096];
    unsigned seed = 1;
    size_t i;
    struct vmx_dict *d;

    for (i = 0; i < sizeof buf; i++) {
        seed = seed * 1103515245 + 12345;
        buf[i] = (char) (seed >> 16);
    }
    d = vmx_parse_buffer(h, buf, sizeof buf, "junk.vmx");
    ck_assert_ptr_null(d);
    ck_assert_msg(strncmp(vmc_get_error(h), "junk.vmx: line ", 15) == 0,
                  "%s", vmc_get_error(h));
}
END_TEST

/* A 10 MB line in a file: refused naming the line; a file over the
 * limit with short lines: refused naming the size.  Neither reads more
 * than the limit.
 */
START_TEST(test_huge)
{
    char path[] = "/tmp/test-vmx-parse.XXXXXX";
    int fd = mkstemp(path);
    FILE *fp;
    size_t i;
    struct vmx_dict *d;
    char msg[512];

    ck_assert_int_ge(fd, 0);
    fp = fdopen(fd, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("config.version = \"8\"\nannotation = \"", fp);
    for (i = 0; i < 10u * 1000 * 1000; i++)
        fputc('x', fp);
    fputs("\"\n", fp);
    ck_assert_int_eq(fclose(fp), 0);
    d = vmx_parse_file(h, path);
    ck_assert_ptr_null(d);
    snprintf(msg, sizeof msg, "%s: line 2: longer than 1048576 bytes (not a "
             ".vmx line)", path);
    ck_assert_str_eq(vmc_get_error(h), msg);

    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    for (i = 0; i < 800000; i++)
        fprintf(fp, "k%zu = \"v\"\n", i);
    ck_assert_int_eq(fclose(fp), 0);
    d = vmx_parse_file(h, path);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(vmc_get_error(h), "bytes, more than the 8 MiB a "
                         ".vmx may hold") != NULL, "%s", vmc_get_error(h));

    /* Many keys under the size limit. */
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    for (i = 0; i < 70000; i++)
        fprintf(fp, "k%zu = \"v\"\n", i);
    ck_assert_int_eq(fclose(fp), 0);
    d = vmx_parse_file(h, path);
    ck_assert_ptr_null(d);
    snprintf(msg, sizeof msg, "%s: line 65537: more than 65536 keys (not a "
             ".vmx)", path);
    ck_assert_str_eq(vmc_get_error(h), msg);
    unlink(path);

    d = vmx_parse_file(h, "/dev/null");
    ck_assert_ptr_null(d);
    ck_assert_str_eq(vmc_get_error(h), "/dev/null: not a regular file");
}
END_TEST

START_TEST(test_corpus)
{
    const char *corpus = getenv("VMCONV_CORPUS");
    const char *srcdir = getenv("srcdir");
    char path[4096];
    struct vmx_dict *d;

    snprintf(path, sizeof path, "%s/data/corpus/vmx/virtv2v-test-i-vmx-6.vmx",
             srcdir ? srcdir : ".");
    if (access(path, R_OK) != 0 && corpus && *corpus)
        snprintf(path, sizeof path, "%s/vmx/virtv2v-test-i-vmx-6.vmx",
                 corpus);
    if (access(path, R_OK) != 0)
        return;
    d = vmx_parse_file(h, path);
    if (d == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(vmx_get(d, "nvme0:0.filename"), "nvme-disk.vmdk");
    ck_assert_str_eq(vmx_get(d, "uuid.bios"),
                     "42 2c 17 6d 0b 31 4e 16-82 97 f0 b4 99 0b 86 09");
    vmx_dict_free(d);
}
END_TEST

static Suite *
vmx_parse_suite(void)
{
    Suite *s = suite_create("vmx-parse");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_duplicates);
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_crlf_bom);
    tcase_add_test(tc, test_utf16_bom);
    tcase_add_test(tc, test_windows_1252);
    tcase_add_test(tc, test_shift_jis);
    tcase_add_test(tc, test_guessed_encoding);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_binary_junk);
    tcase_add_test(tc, test_huge);
    tcase_add_test(tc, test_corpus);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(vmx_parse_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
