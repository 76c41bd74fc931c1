/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the core helpers every reader of untrusted bytes uses:
 * endian decoding, checked arithmetic, range checks, bounded
 * allocation, zero detection, CRC-32C, sizes and option lists.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

START_TEST(test_endian_decode)
{
    const uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint8_t out[8];

    ck_assert_uint_eq(vmc_le16(b), 0x0201);
    ck_assert_uint_eq(vmc_be16(b), 0x0102);
    ck_assert_uint_eq(vmc_le32(b + 1), 0x05040302);
    ck_assert_uint_eq(vmc_be32(b), 0x01020304);
    ck_assert(vmc_le64(b) == 0x0807060504030201ull);
    ck_assert(vmc_be64(b) == 0x0102030405060708ull);
    vmc_put_be64(out, 0x0102030405060708ull);
    ck_assert_mem_eq(out, b, 8);
    vmc_put_le32(out, 0x04030201);
    ck_assert_mem_eq(out, b, 4);
}
END_TEST

START_TEST(test_checked_arithmetic)
{
    uint64_t r;

    ck_assert(!vmc_add_overflow(1, 2, &r) && r == 3);
    ck_assert(vmc_add_overflow(UINT64_MAX, 1, &r));
    ck_assert(vmc_mul_overflow(1ull << 40, 1ull << 30, &r));
    ck_assert(!vmc_mul_overflow(1ull << 20, 1ull << 20, &r) && r == 1ull << 40);
    ck_assert(vmc_is_pow2(4096) && !vmc_is_pow2(0) && !vmc_is_pow2(3 << 20));
    ck_assert_uint_eq(vmc_div_round_up(10, 4), 3);
    ck_assert_uint_eq(vmc_round_up(4097, 4096), 8192);
}
END_TEST

START_TEST(test_check_range_refuses_outside)
{
    ck_assert_int_eq(vmc_check_range(h, "f.img", 1000, 0, 1000, "table"), 0);
    ck_assert_int_eq(vmc_check_range(h, "f.img", 1000, 1, 1000, "table"), -1);
    ck_assert_str_eq(vmc_get_error(h),
                     "f.img: table at offset 1 length 1000 is outside the "
                     "file (1000 bytes)");
    /* Offset + length wrapping around must not pass. */
    ck_assert_int_eq(vmc_check_range(h, "f.img", 1000, UINT64_MAX, 2, "x"), -1);
}
END_TEST

START_TEST(test_bounded_allocation)
{
    ck_assert_ptr_null(vmc_malloc(h, "f.img", VMC_MAX_ALLOC + 1, "BAT"));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "f.img: BAT would need"));
    ck_assert_ptr_null(vmc_calloc(h, "f.img", UINT64_MAX / 2, 4, "L1 table"));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "L1 table"));
    free(vmc_calloc(h, "f.img", 16, 16, "small"));
}
END_TEST

START_TEST(test_is_zero)
{
    static uint8_t b[100000];   /* zeros; off the stack */

    ck_assert(vmc_is_zero(b, sizeof b));
    ck_assert(vmc_is_zero(b, 0));
    b[99999] = 1;
    ck_assert(!vmc_is_zero(b, sizeof b));
    ck_assert(vmc_is_zero(b, 99999));
    b[3] = 1;
    ck_assert(!vmc_is_zero(b, 10));
}
END_TEST

START_TEST(test_crc32c_known_values)
{
    /* The standard check value of CRC-32C and an iSCSI test vector. */
    uint8_t zeros[32] = { 0 };

    ck_assert_uint_eq(vmc_crc32c(0, "123456789", 9), 0xE3069283);
    ck_assert_uint_eq(vmc_crc32c(0, zeros, 32), 0x8A9136AA);
    /* Incremental equals one-shot. */
    ck_assert_uint_eq(vmc_crc32c(vmc_crc32c(0, "1234", 4), "56789", 5),
                      0xE3069283);
}
END_TEST

START_TEST(test_parse_size)
{
    uint64_t v;

    ck_assert(vmc_parse_size("65536", &v) == 0 && v == 65536);
    ck_assert(vmc_parse_size("64K", &v) == 0 && v == 65536);
    ck_assert(vmc_parse_size("2M", &v) == 0 && v == 2 << 20);
    ck_assert(vmc_parse_size("1GiB", &v) == 0 && v == 1ull << 30);
    ck_assert(vmc_parse_size("4T", &v) == 0 && v == 4ull << 40);
    ck_assert_int_eq(vmc_parse_size("", &v), -1);
    ck_assert_int_eq(vmc_parse_size("-1", &v), -1);
    ck_assert_int_eq(vmc_parse_size("12X", &v), -1);
    ck_assert_int_eq(vmc_parse_size("99999999999P", &v), -1);
}
END_TEST

static const struct vmc_opt_desc desc[] = {
    { "cluster_size", VMC_OPT_SIZE, "cluster size" },
    { "compress", VMC_OPT_BOOL, "compress" },
    { "name", VMC_OPT_STRING, "a name" },
    { NULL, 0, NULL }
};

START_TEST(test_opts_parse_and_get)
{
    struct vmc_opts *o = vmc_opts_parse(h, "qcow2",
                                        "cluster_size=2M,compress=on,"
                                        "name=a,,b", desc);
    uint64_t cs;
    bool c;

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(vmc_opts_get_size(h, o, "cluster_size", 0, &cs), 0);
    ck_assert(cs == 2 << 20);
    ck_assert_int_eq(vmc_opts_get_bool(h, o, "compress", false, &c), 0);
    ck_assert(c);
    ck_assert_str_eq(vmc_opts_get(o, "name"), "a,b");
    ck_assert_ptr_null(vmc_opts_get(o, "other"));
    vmc_opts_free(o);
}
END_TEST

START_TEST(test_opts_refuse_unknown_and_twice)
{
    ck_assert_ptr_null(vmc_opts_parse(h, "qcow2", "colour=red", desc));
    /* The library names no CLI option ("-o help"): it sets a hint. */
    ck_assert_str_eq(vmc_get_error(h), "qcow2: unknown option 'colour'");
    ck_assert_int_eq(vmc_get_error_hint(h), VMC_HINT_CREATE_OPTIONS);
    ck_assert_ptr_null(vmc_opts_parse(h, "qcow2", "name=a,name=b", desc));
    ck_assert_str_eq(vmc_get_error(h), "qcow2: option 'name' given twice");
    ck_assert_int_eq(vmc_get_error_hint(h), VMC_HINT_NONE);
    ck_assert_ptr_null(vmc_opts_parse(h, "qcow2", "compress", desc));
}
END_TEST

START_TEST(test_opts_bad_values)
{
    struct vmc_opts *o = vmc_opts_parse(h, "qcow2",
                                        "cluster_size=big,compress=maybe",
                                        desc);
    uint64_t cs;
    bool c;

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(vmc_opts_get_size(h, o, "cluster_size", 0, &cs), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "'big' is not a size"));
    ck_assert_int_eq(vmc_opts_get_bool(h, o, "compress", false, &c), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "'maybe' is not on or off"));
    vmc_opts_free(o);
}
END_TEST

START_TEST(test_error_keeps_errno_for_percent_m)
{
    errno = ENOENT;
    vmc_error(h, "open: %s: %m", "x.vmdk");
    ck_assert_str_eq(vmc_get_error(h), "open: x.vmdk: No such file or directory");
    ck_assert_int_eq(vmc_get_errno(h), ENOENT);
    vmc_clear_error(h);
    ck_assert_ptr_null(vmc_get_error(h));
}
END_TEST

static Suite *
util_suite(void)
{
    Suite *s = suite_create("core-util");
    TCase *tc = tcase_create("util");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_endian_decode);
    tcase_add_test(tc, test_checked_arithmetic);
    tcase_add_test(tc, test_check_range_refuses_outside);
    tcase_add_test(tc, test_bounded_allocation);
    tcase_add_test(tc, test_is_zero);
    tcase_add_test(tc, test_crc32c_known_values);
    tcase_add_test(tc, test_parse_size);
    tcase_add_test(tc, test_opts_parse_and_get);
    tcase_add_test(tc, test_opts_refuse_unknown_and_twice);
    tcase_add_test(tc, test_opts_bad_values);
    tcase_add_test(tc, test_error_keeps_errno_for_percent_m);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(util_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
