/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VMDK text descriptor: parsing what VMware, qemu and others write
 * (CRLF, any case, quoted names with spaces, legacy encodings), refusing
 * what we can't read, probing, the descriptors we write, and disks made
 * of several FLAT and ZERO extents read through the image API.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vmdk-internal.h"

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

static int
parse(const char *text, struct vmdk_desc *d)
{
    memset(d, 0, sizeof *d);
    return vmdk_desc_parse(h, "t.vmdk", text, strlen(text), d);
}

/* TEXT must be refused with an error containing MSG. */
static void
refused(const char *text, const char *msg)
{
    struct vmdk_desc d;

    ck_assert_int_eq(parse(text, &d), -1);
    ck_assert_msg(strstr(vmc_get_error(h), msg) != NULL, "%s",
                  vmc_get_error(h));
    ck_assert_msg(strncmp(vmc_get_error(h), "t.vmdk: ", 8) == 0, "%s",
                  vmc_get_error(h));
    vmdk_desc_free(&d);
}

START_TEST(test_vmware_style)
{
    struct vmdk_desc d;
    const char *text =
        "# Disk DescriptorFile\r\n"
        "VERSION=1\r\n"
        "encoding=\"UTF-8\"\r\n"
        "cid=0a1B2c3D\r\n"
        "ParentCID = ffffffff\r\n"
        "  createtype = \"twoGbMaxExtentSparse\"  \r\n"
        "\r\n"
        "# Extent description\r\n"
        "RW 4192256 SPARSE \"My Disk-s001.vmdk\"\r\n"
        "rdonly 2048 flat \"My Disk-f002.vmdk\" 63\r\n"
        "RW 100 ZERO\r\n"
        "RW 200 VMFS \"x-flat.vmdk\"\r\n"
        "\r\n"
        "#DDB\r\n"
        "ddb.adapterType = \"lsilogic\"\r\n"
        "DDB.VirtualHWVersion = \"8\"\r\n"
        "ddb.thinProvisioned = \"1\"\r\n"
        "ddb.uuid = \"60 00 C2 9b 11 22 33 44-55 66 77 88 99 aa bb cc\"\r\n";

    ck_assert_msg(parse(text, &d) == 0, "%s", vmc_get_error(h));
    ck_assert_uint_eq(d.version, 1);
    ck_assert(d.has_cid);
    ck_assert_uint_eq(d.cid, 0x0a1b2c3d);
    ck_assert_uint_eq(d.parent_cid, 0xffffffff);
    ck_assert_str_eq(d.create_type, "twoGbMaxExtentSparse");
    ck_assert_str_eq(d.adapter_type, "lsilogic");
    ck_assert_str_eq(d.hw_version, "8");
    ck_assert(d.thin);
    ck_assert_uint_eq(d.nextents, 4);
    ck_assert_int_eq(d.extents[0].type, VMDK_EXT_SPARSE);
    ck_assert_uint_eq(d.extents[0].sectors, 4192256);
    ck_assert_str_eq(d.extents[0].filename, "My Disk-s001.vmdk");
    ck_assert_int_eq(d.extents[1].access, VMDK_ACCESS_RDONLY);
    ck_assert_int_eq(d.extents[1].type, VMDK_EXT_FLAT);
    ck_assert_uint_eq(d.extents[1].offset, 63);
    ck_assert_int_eq(d.extents[2].type, VMDK_EXT_ZERO);
    ck_assert_ptr_null(d.extents[2].filename);
    ck_assert_str_eq(d.extents[3].type_name, "VMFS");
    ck_assert_uint_eq(d.extents[3].offset, 0);
    vmdk_desc_free(&d);
}
END_TEST

START_TEST(test_delta_link)
{
    struct vmdk_desc d;

    ck_assert_int_eq(parse("version=1\nCID=fffffffe\nparentCID=1234\n"
                           "createType=\"monolithicSparse\"\n"
                           "parentFileNameHint=\"C:\\VMs\\base.vmdk\"\n"
                           "RW 10 SPARSE \"c.vmdk\"\n", &d), 0);
    ck_assert_uint_eq(d.cid, 0xfffffffe);
    ck_assert(d.has_parent_cid);
    ck_assert_uint_eq(d.parent_cid, 0x1234);
    ck_assert_str_eq(d.parent_hint, "C:\\VMs\\base.vmdk");
    vmdk_desc_free(&d);
}
END_TEST

START_TEST(test_windows_1252_names)
{
    struct vmdk_desc d;

    ck_assert_int_eq(parse("encoding=\"windows-1252\"\n"
                           "RW 10 FLAT \"d\xe9j\xe0-flat.vmdk\" 0\n", &d), 0);
    ck_assert_str_eq(d.extents[0].filename, "d\xc3\xa9j\xc3\xa0-flat.vmdk");
    vmdk_desc_free(&d);
}
END_TEST

START_TEST(test_embedded_nul_padding)
{
    struct vmdk_desc d;
    char text[512];

    memset(text, 0, sizeof text);
    strcpy(text, "createType=\"monolithicSparse\"\nRW 8 SPARSE \"a.vmdk\"\n");
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(vmdk_desc_parse(h, "t.vmdk", text, sizeof text, &d), 0);
    ck_assert_uint_eq(d.nextents, 1);
    vmdk_desc_free(&d);
}
END_TEST

START_TEST(test_refusals)
{
    refused("version=4\n", "descriptor version '4'");
    refused("CID=xyz\n", "CID 'xyz'");
    refused("CID=123456789\n", "32-bit");
    refused("parentCID=\n", "parentCID");
    refused("createType=\"monolithicSparse\n", "closing quote");
    refused("just some words\n", "expected 'key = value'");
    refused("RW 10 FLATTISH \"a\" 0\n", "extent type 'FLATTISH'");
    refused("RW 10 VMFSRAW \"a\"\n", "raw device");
    refused("RW 10 VMFSRDM \"a\"\n", "raw device mapping");
    refused("NOACCESS 10 FLAT \"a\" 0\n", "NOACCESS");
    refused("RW 10 ZERO \"a\"\n", "has no file");
    refused("RW 10 SPARSE\n", "has no file name");
    refused("RW 10 SPARSE \"\"\n", "empty");
    refused("RW 10 SPARSE \"a\" 7\n", "unexpected text");
    refused("RW 10 FLAT \"a\" 0 junk\n", "unexpected text 'junk'");
    refused("RW -5 FLAT \"a\" 0\n", "extent size");
    refused("RW 0 ZERO\n", "extent size");
    refused("RW 18446744073709551616 ZERO\n", "extent size");
    refused("encryption.keySafe = \"x\"\n", "encrypted");
    refused("encoding=\"no-such-charset\"\nRW 1 FLAT \"\xe9\" 0\n",
            "not known");
    refused("a=\x1b[2J\nCID=\x1b[31m\n", "CID '?[31m'");
}
END_TEST

START_TEST(test_too_many_lines)
{
    size_t n = VMDK_MAX_DESC_LINES + 5, i;
    char *text = malloc(n + 1);

    for (i = 0; i < n; i++)
        text[i] = '\n';
    text[n] = '\0';
    refused(text, "more than");
    free(text);
}
END_TEST

START_TEST(test_probe)
{
    const char *a = "\xef\xbb\xbf  # Disk DescriptorFile\nversion=1\n";
    const char *b = "# a comment\n  createType = \"vmfs\"\n";
    const char *c = "config.version = \"8\"\nscsi0:0.fileName = \"x.vmdk\"\n";
    const uint8_t d[] = "createType=\"vmfs\"\n\0\0binary";

    ck_assert(vmdk_desc_probe((const uint8_t *) a, strlen(a), 100));
    ck_assert(vmdk_desc_probe((const uint8_t *) b, strlen(b), 100));
    ck_assert(!vmdk_desc_probe((const uint8_t *) c, strlen(c), 100));
    ck_assert(!vmdk_desc_probe(d, sizeof d, 100));
    ck_assert(!vmdk_desc_probe((const uint8_t *) a, strlen(a),
                               VMDK_MAX_DESC_SIZE + 1));
}
END_TEST

/* What we write parses back. */
static void
built(const char *adapter, uint64_t sectors, const char *cyl,
      const char *heads)
{
    struct vmdk_desc_params p = {
        .create_type = "monolithicSparse", .cid = 0xdeadbeef,
        .sectors = sectors, .extent_type = "SPARSE",
        .extent_file = "disk one.vmdk", .adapter_type = adapter,
        .hw_version = "4", .tools_version = NULL,
    };
    char *text = vmdk_desc_build(h, "t.vmdk", &p), want[64];
    struct vmdk_desc d;

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(parse(text, &d), 0);
    ck_assert_uint_eq(d.cid, 0xdeadbeef);
    ck_assert_uint_eq(d.parent_cid, 0xffffffff);
    ck_assert_str_eq(d.create_type, "monolithicSparse");
    ck_assert_str_eq(d.adapter_type, adapter);
    ck_assert_uint_eq(d.nextents, 1);
    ck_assert_uint_eq(d.extents[0].sectors, sectors);
    ck_assert_str_eq(d.extents[0].filename, "disk one.vmdk");
    ck_assert_ptr_null(d.tools_version);
    ck_assert_int_eq(strlen(d.long_content_id), 32);
    ck_assert_str_eq(d.long_content_id + 24, "deadbeef");
    snprintf(want, sizeof want, "ddb.geometry.cylinders = \"%s\"\n", cyl);
    ck_assert_msg(strstr(text, want) != NULL, "%s", text);
    snprintf(want, sizeof want, "ddb.geometry.heads = \"%s\"\n", heads);
    ck_assert_msg(strstr(text, want) != NULL, "%s", text);
    ck_assert(strstr(text, "encoding=\"UTF-8\"\n") != NULL);
    vmdk_desc_free(&d);
    free(text);
}

START_TEST(test_build)
{
    built("ide", 8192, "9", "16");
    built("ide", 33554432, "16383", "16");      /* 16 GiB: capped */
    built("lsilogic", 33554432, "2089", "255");
    built("pvscsi", 1ull << 32, "65535", "255"); /* 2 TiB: capped */
    built("buslogic", 1, "1", "255");
}
END_TEST

START_TEST(test_build_refuses_quotes)
{
    struct vmdk_desc_params p = {
        .create_type = "monolithicFlat", .cid = 1, .sectors = 1,
        .extent_type = "FLAT", .extent_file = "a\"b-flat.vmdk",
        .adapter_type = "ide", .hw_version = "4",
    };

    ck_assert_ptr_null(vmdk_desc_build(h, "t.vmdk", &p));
    ck_assert(strstr(vmc_get_error(h), "cannot be written") != NULL);
}
END_TEST

/* A disk of FLAT, ZERO and offset FLAT extents, read through the API
 * (qemu-img skips ZERO extents, so the expected bytes are built here).
 */
START_TEST(test_multi_extent_read)
{
    char dir[] = "/tmp/test-vmdk-desc.XXXXXX", p[256], cmd[300];
    uint8_t a[8192], b[4096 + 2048], got[8192 + 1024 + 2048], want[sizeof got];
    struct vmc_image *img;
    enum vmc_extent_type t;
    uint64_t run;
    size_t i;
    FILE *f;
    int fd;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (i = 0; i < sizeof a; i++)
        a[i] = (uint8_t) (i * 3 + 1);
    for (i = 0; i < sizeof b; i++)
        b[i] = (uint8_t) (i * 5 + 2);
    snprintf(p, sizeof p, "%s/a b-f001.vmdk", dir);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_eq(write(fd, a, sizeof a), (ssize_t) sizeof a);
    close(fd);
    snprintf(p, sizeof p, "%s/a b-f002.vmdk", dir);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_eq(write(fd, b, sizeof b), (ssize_t) sizeof b);
    close(fd);
    snprintf(p, sizeof p, "%s/a b.vmdk", dir);
    f = fopen(p, "w");
    fputs("# Disk DescriptorFile\r\nversion=1\r\nCID=1\r\nparentCID=ffffffff\r\n"
          "createType=\"twoGbMaxExtentFlat\"\r\n"
          "RW 16 FLAT \"a b-f001.vmdk\" 0\r\n"
          "RW 2 ZERO\r\n"
          "RDONLY 4 FLAT \"a b-f002.vmdk\" 8\r\n", f);
    fclose(f);
    memcpy(want, a, sizeof a);
    memset(want + 8192, 0, 1024);
    memcpy(want + 8192 + 1024, b + 4096, 2048);

    img = vmc_image_open(h, p, NULL, 0);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert_uint_eq(vmc_image_size(img), sizeof got);
    ck_assert_int_eq(vmc_image_pread(img, got, sizeof got, 0), 0);
    ck_assert_int_eq(memcmp(got, want, sizeof got), 0);
    /* Reads across extent borders, unaligned. */
    ck_assert_int_eq(vmc_image_pread(img, got, 3000, 7000), 0);
    ck_assert_int_eq(memcmp(got, want + 7000, 3000), 0);
    ck_assert_int_eq(vmc_image_block_status(img, 8192, 3072, &t, &run), 0);
    ck_assert_int_eq(t, VMC_EXTENT_ZERO);
    ck_assert_uint_eq(run, 1024);
    vmc_image_close(img);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *
vmdk_descriptor_suite(void)
{
    Suite *s = suite_create("vmdk-descriptor");
    TCase *tc = tcase_create("descriptor");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vmware_style);
    tcase_add_test(tc, test_delta_link);
    tcase_add_test(tc, test_windows_1252_names);
    tcase_add_test(tc, test_embedded_nul_padding);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_too_many_lines);
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_build);
    tcase_add_test(tc, test_build_refuses_quotes);
    tcase_add_test(tc, test_multi_extent_read);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(vmdk_descriptor_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
