/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHD helpers: the CHS geometry of the specification's appendix (the
 * expected values are the geometries Hyper-V, Windows 10 and qemu
 * wrote into corpus images), the footer checksum, the bitmap size and
 * the footer encoding round trip.
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vpc-internal.h"

static void
geo_is(uint64_t sectors, unsigned c, unsigned h, unsigned s)
{
    uint16_t cyl;
    uint8_t heads, spt;

    vpc_geometry(sectors, &cyl, &heads, &spt);
    ck_assert_uint_eq(cyl, c);
    ck_assert_uint_eq(heads, h);
    ck_assert_uint_eq(spt, s);
}

START_TEST(test_geometry_corpus)
{
    geo_is(20480, 301, 4, 17);          /* dissect dynamic.vhd, Windows 10 */
    geo_is(8228, 121, 4, 17);           /* dfvfs ext2.vhd, qemu */
    geo_is(266338304, 65278, 16, 255);  /* Hyper-V 2012 R2, 127 GiB */
}
END_TEST

START_TEST(test_geometry_steps)
{
    /* 31 and 63 sectors per track as the disk grows. */
    geo_is(17 * 4 * 1024 * 4, 561, 16, 31);
    geo_is(31 * 16 * 1024, 503, 16, 63);
    /* The largest geometry, and sizes past it clamp there. */
    geo_is(65535ull * 16 * 255, 65535, 16, 255);
    geo_is(0xFF000000ull, 65535, 16, 255);
    geo_is(0, 0, 4, 17);
}
END_TEST

START_TEST(test_geometry_rounds_down)
{
    uint64_t s;

    for (s = 1; s < 3000000; s += 9973) {
        uint16_t c;
        uint8_t h, spt;

        vpc_geometry(s, &c, &h, &spt);
        ck_assert_uint_le((uint64_t) c * h * spt, s);
    }
}
END_TEST

START_TEST(test_checksum)
{
    uint8_t buf[512];
    uint32_t sum;

    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(vpc_checksum(buf, sizeof buf, 64), 0xFFFFFFFFu);
    memset(buf, 1, sizeof buf);
    /* The checksum field's own bytes do not count. */
    sum = vpc_checksum(buf, sizeof buf, 64);
    ck_assert_uint_eq(sum, ~(uint32_t) 508);
}
END_TEST

START_TEST(test_bitmap_bytes)
{
    ck_assert_uint_eq(vpc_bitmap_bytes(512), 512);
    ck_assert_uint_eq(vpc_bitmap_bytes(2u * 1024 * 1024), 512);
    ck_assert_uint_eq(vpc_bitmap_bytes(4u * 1024 * 1024), 1024);
    ck_assert_uint_eq(vpc_bitmap_bytes(256u * 1024 * 1024), 65536);
    ck_assert_uint_eq(vpc_bitmap_bytes(0x80000000u), 524288);
}
END_TEST

START_TEST(test_footer_round_trip)
{
    struct vpc_footer f, g;
    struct vpc_footer_disk d;

    memset(&f, 0, sizeof f);
    f.features = VPC_FEATURE_RESERVED;
    f.version = VPC_VERSION;
    f.data_offset = 512;
    f.timestamp = 0x2A000000;
    memcpy(f.creator_app, "qem2", 4);
    f.creator_version = 0x00010000;
    f.creator_os = VPC_OS_WINDOWS;
    f.original_size = f.current_size = 10485760;
    vpc_geometry(20480, &f.cylinders, &f.heads, &f.sectors);
    f.disk_type = VPC_TYPE_DYNAMIC;
    memset(f.uuid, 0xAB, 16);
    vpc_encode_footer(&f, &d);
    ck_assert_int_eq(memcmp(d.cookie, "conectix", 8), 0);
    vpc_decode_footer(&d, &g);
    ck_assert_uint_eq(g.checksum,
                      vpc_checksum(&d, sizeof d,
                                   offsetof(struct vpc_footer_disk, checksum)));
    g.checksum = f.checksum;
    ck_assert_int_eq(memcmp(&f, &g, sizeof f), 0);
    /* Big-endian on disk. */
    ck_assert_uint_eq(((const uint8_t *) &d)[60 + 3], VPC_TYPE_DYNAMIC);
    ck_assert_uint_eq(((const uint8_t *) &d)[48 + 5], 0xA0);
}
END_TEST

static Suite *
vpc_suite(void)
{
    Suite *s = suite_create("vpc-geometry");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_geometry_corpus);
    tcase_add_test(tc, test_geometry_steps);
    tcase_add_test(tc, test_geometry_rounds_down);
    tcase_add_test(tc, test_checksum);
    tcase_add_test(tc, test_bitmap_bytes);
    tcase_add_test(tc, test_footer_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(vpc_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
