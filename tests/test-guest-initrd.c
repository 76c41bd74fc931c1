/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: reading an initramfs on the host
 * (vmc_guest_initrd_members): one gzip'd cpio; an uncompressed cpio
 * (microcode) followed by a zstd'd one, as Debian writes them; xz and
 * lz4; and damaged input, which is an error, not a crash.  The
 * archives are made with cpio and the compressors.  Then
 * vmc_guest_initrd_compress: a dracut image written uncompressed,
 * compressed on the host (gzip with its early archive kept as it is,
 * zstd), read back by the system's own decompressors.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "internal.h"
#include "guest/guest.h"

static struct vmc_handle *h;
static char dir[64];

/* Run the shell command C in DIR. */
static int
sh(const char *c)
{
    char cmd[2048];

    snprintf(cmd, sizeof cmd, "cd %s && %s", dir, c);
    return system(cmd);
}

static void
setup(void)
{
    strcpy(dir, "/tmp/vmconv-test-initrd.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(sh("mkdir -p early/kernel/x86/microcode main/usr/lib/"
                        "modules/6.1/kernel/drivers/block && echo m > early/"
                        "kernel/x86/microcode/GenuineIntel.bin && echo b > "
                        "main/usr/lib/modules/6.1/kernel/drivers/block/"
                        "virtio_blk.ko && echo i > main/init"), 0);
    ck_assert_int_eq(sh("(cd early && find . -mindepth 1 | cpio -o -H newc "
                        "--quiet) > early.cpio && (cd main && find . "
                        "-mindepth 1 | cpio -o -H newc --quiet) > main.cpio"), 0);
    h = vmc_new();
}

static void
teardown(void)
{
    char cmd[128];

    vmc_free(h);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static bool
has(struct json_object *names, const char *name)
{
    size_t i;

    for (i = 0; i < json_object_array_length(names); i++)
        if (strcmp(json_object_get_string(
                       json_object_array_get_idx(names, i)), name) == 0)
            return true;
    return false;
}

/* The members of DIR/FILE, or NULL when it cannot be read. */
static struct json_object *
members(const char *file)
{
    struct json_object *names = json_object_new_array();
    char path[128];

    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (vmc_guest_initrd_members(h, path, names) == -1) {
        json_object_put(names);
        return NULL;
    }
    return names;
}

static void
check_main(struct json_object *n, bool early)
{
    ck_assert_ptr_nonnull(n);
    ck_assert(has(n, "virtio_blk.ko"));
    ck_assert(has(n, "init"));
    ck_assert(!has(n, "TRAILER!!!"));
    ck_assert(has(n, "GenuineIntel.bin") == early);
    json_object_put(n);
}

START_TEST(test_gzip)
{
    ck_assert_int_eq(sh("gzip -c main.cpio > i"), 0);
    check_main(members("i"), false);
}
END_TEST

START_TEST(test_early_zstd)
{
    if (system("command -v zstd >/dev/null") != 0)
        return;
    ck_assert_int_eq(sh("{ cat early.cpio; zstd -q -c main.cpio; } > i"), 0);
    check_main(members("i"), true);
}
END_TEST

START_TEST(test_early_xz_lz4)
{
    if (system("command -v xz >/dev/null") == 0) {
        ck_assert_int_eq(sh("{ cat early.cpio; xz -c --check=crc32 "
                            "main.cpio; } > i"), 0);
        check_main(members("i"), true);
    }
    if (system("command -v lz4 >/dev/null") == 0) {
        ck_assert_int_eq(sh("{ cat early.cpio; lz4 -l -q -c main.cpio; } "
                            "> i"), 0);
        check_main(members("i"), true);
    }
}
END_TEST

START_TEST(test_plain)
{
    ck_assert_int_eq(sh("cat early.cpio main.cpio > i"), 0);
    check_main(members("i"), true);
}
END_TEST

START_TEST(test_damaged)
{
    struct json_object *n;

    /* Not an archive after the early one. */
    ck_assert_int_eq(sh("{ cat early.cpio; yes not-an-archive | head -c 4096; } "
                        "> i"), 0);
    ck_assert_ptr_null(members("i"));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "/i"));
    /* Cut inside an archive's second header. */
    ck_assert_int_eq(sh("head -c 150 main.cpio > i"), 0);
    n = members("i");
    ck_assert_ptr_null(n);
    /* A name size past the end: nothing more read, no error. */
    {
        char hdr[111], path[128];
        FILE *fp;

        memset(hdr, '0', 110);
        memcpy(hdr, "070701", 6);
        memcpy(hdr + 94, "000FFFFF", 8);
        hdr[110] = 'x';
        snprintf(path, sizeof path, "%s/i", dir);
        fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        ck_assert_uint_eq(fwrite(hdr, 1, sizeof hdr, fp), sizeof hdr);
        fclose(fp);
    }
    n = members("i");
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(json_object_array_length(n), 0);
    json_object_put(n);
    /* Missing. */
    ck_assert_ptr_null(members("missing"));
}
END_TEST

/* initrd-compress.c: what a tool wrote with its compression off,
 * compressed here.
 */
static int
compress(const char *in, const char *out, enum vmc_initrd_compressor how,
         int level)
{
    char a[128], b[128];

    snprintf(a, sizeof a, "%s/%s", dir, in);
    snprintf(b, sizeof b, "%s/%s", dir, out);
    return vmc_guest_initrd_compress(h, a, b, how, level);
}

START_TEST(test_compress_gzip_early)
{
    /* dracut's early archive: early_cpio marks it; it stays plain. */
    ck_assert_int_eq(sh("echo 1 > early/early_cpio && (cd early && find . "
                        "-mindepth 1 | cpio -o -H newc --quiet) > e.cpio && "
                        "cat e.cpio main.cpio > plain"), 0);
    ck_assert_int_eq(compress("plain", "i", VMC_INITRD_GZIP, 6), 0);
    ck_assert_int_eq(sh("cmp -n $(stat -c %s e.cpio) e.cpio i"), 0);
    ck_assert_int_eq(sh("tail -c +$(($(stat -c %s e.cpio) + 1)) i | "
                        "gzip -dc | cmp - main.cpio"), 0);
    check_main(members("i"), true);
}
END_TEST

START_TEST(test_compress_zstd)
{
    /* No early archive: the whole image is one stream. */
    ck_assert_int_eq(sh("cp main.cpio plain"), 0);
    ck_assert_int_eq(compress("plain", "i", VMC_INITRD_ZSTD, 15), 0);
    ck_assert_int_eq(sh("od -An -tx1 -N4 i | grep -q '28 b5 2f fd'"), 0);
    if (system("command -v zstd >/dev/null") == 0)
        ck_assert_int_eq(sh("zstd -dc i | cmp - plain"), 0);
    check_main(members("i"), false);
}
END_TEST

START_TEST(test_compress_refuses)
{
    /* Compressed already: not what the tool was asked to write. */
    ck_assert_int_eq(sh("gzip -c main.cpio > plain"), 0);
    ck_assert_int_eq(compress("plain", "i", VMC_INITRD_GZIP, 6), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "offset 0"));
    /* An early archive cut short. */
    ck_assert_int_eq(sh("echo 1 > early/early_cpio && (cd early && find . "
                        "-mindepth 1 | cpio -o -H newc --quiet) | head -c 300 "
                        "> plain"), 0);
    ck_assert_int_eq(compress("plain", "i", VMC_INITRD_GZIP, 6), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "damaged"));
    /* Too short, and missing. */
    ck_assert_int_eq(sh("printf 0707 > plain"), 0);
    ck_assert_int_eq(compress("plain", "i", VMC_INITRD_ZSTD, 3), -1);
    ck_assert_int_eq(compress("missing", "i", VMC_INITRD_ZSTD, 3), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "missing"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("guest-initrd");
    TCase *tc = tcase_create("initrd");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_gzip);
    tcase_add_test(tc, test_early_zstd);
    tcase_add_test(tc, test_early_xz_lz4);
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_damaged);
    tcase_add_test(tc, test_compress_gzip_early);
    tcase_add_test(tc, test_compress_zstd);
    tcase_add_test(tc, test_compress_refuses);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
