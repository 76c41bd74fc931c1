/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 cluster compression helpers: round trips for deflate and zstd,
 * "does not fit" when compression does not pay, and clear errors for
 * truncated, short and garbage input (never a crash).
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "qcow2-internal.h"

#define CS 65536

static uint8_t in[CS], packed[2 * CS], out[CS];

static void
fill_text(void)
{
    size_t i;

    for (i = 0; i < CS; i++)
        in[i] = "qcow2 compressed cluster "[i % 25] + (uint8_t) (i / 4096);
}

/* Compress IN with TYPE; returns the compressed length. */
static size_t
pack(struct vmc_handle *h, int type)
{
    struct qcow2_enc *e = qcow2_enc_new(h, "test", type);
    ssize_t n;

    ck_assert_ptr_nonnull(e);
    n = qcow2_compress(h, "test", e, in, CS, packed, CS - 1);
    qcow2_enc_free(e);
    ck_assert_int_gt(n, 0);
    ck_assert_int_lt(n, CS);
    return (size_t) n;
}

static void
round_trip(int type)
{
    struct vmc_handle *h = vmc_new();
    struct qcow2_dec *d = NULL;
    size_t n;

    fill_text();
    n = pack(h, type);
    /* Trailing bytes after the stream are normal (whole sectors). */
    memset(packed + n, 0xee, 300);
    ck_assert_int_eq(qcow2_decompress(h, "test", 4096, type, &d, packed,
                                      n + 300, out, CS), 0);
    ck_assert(memcmp(in, out, CS) == 0);
    /* The decompressor is reused for the next cluster. */
    memset(out, 0, CS);
    ck_assert_int_eq(qcow2_decompress(h, "test", 4096, type, &d, packed, n,
                                      out, CS), 0);
    ck_assert(memcmp(in, out, CS) == 0);
    qcow2_dec_free(d);
    vmc_free(h);
}

START_TEST(test_deflate_round_trip)
{
    round_trip(QCOW2_COMPRESSION_DEFLATE);
}
END_TEST

START_TEST(test_zstd_round_trip)
{
    round_trip(QCOW2_COMPRESSION_ZSTD);
}
END_TEST

static void
truncated(int type)
{
    struct vmc_handle *h = vmc_new();
    struct qcow2_dec *d = NULL;
    size_t n;

    fill_text();
    n = pack(h, type);
    ck_assert_int_eq(qcow2_decompress(h, "img.qcow2", 123456, type, &d,
                                      packed, n / 2, out, CS), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "img.qcow2"));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "123456"));
    qcow2_dec_free(d);
    vmc_free(h);
}

START_TEST(test_deflate_truncated)
{
    truncated(QCOW2_COMPRESSION_DEFLATE);
}
END_TEST

START_TEST(test_zstd_truncated)
{
    truncated(QCOW2_COMPRESSION_ZSTD);
}
END_TEST

/* A stream of half a cluster is not a compressed cluster. */
static void
short_output(int type)
{
    struct vmc_handle *h = vmc_new();
    struct qcow2_enc *e = qcow2_enc_new(h, "test", type);
    struct qcow2_dec *d = NULL;
    ssize_t n;

    fill_text();
    n = qcow2_compress(h, "test", e, in, CS / 2, packed, CS);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(qcow2_decompress(h, "img.qcow2", 0, type, &d, packed,
                                      (size_t) n, out, CS), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "not a whole cluster"));
    qcow2_enc_free(e);
    qcow2_dec_free(d);
    vmc_free(h);
}

START_TEST(test_deflate_short_output)
{
    short_output(QCOW2_COMPRESSION_DEFLATE);
}
END_TEST

START_TEST(test_zstd_short_output)
{
    short_output(QCOW2_COMPRESSION_ZSTD);
}
END_TEST

/* A deflate stream that goes on past the cluster: qemu takes the first
 * cluster of output, and so do we (libdeflate refuses it, the zlib
 * fallback decides).
 */
START_TEST(test_deflate_stream_longer_than_cluster)
{
    struct vmc_handle *h = vmc_new();
    struct qcow2_dec *d = NULL;
    static uint8_t twice[2 * CS], big[4 * CS];
    z_stream z;
    size_t i, n;

    for (i = 0; i < 2 * CS; i++)
        twice[i] = (uint8_t) ("longer stream "[i % 14] + i / 8192);
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, -12, 9,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = twice;
    z.avail_in = sizeof twice;
    z.next_out = big;
    z.avail_out = sizeof big;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    n = sizeof big - z.avail_out;
    deflateEnd(&z);
    ck_assert_int_eq(qcow2_decompress(h, "img.qcow2", 512,
                                      QCOW2_COMPRESSION_DEFLATE, &d, big, n,
                                      out, CS), 0);
    ck_assert(memcmp(out, twice, CS) == 0);
    qcow2_dec_free(d);
    vmc_free(h);
}
END_TEST

START_TEST(test_garbage)
{
    struct vmc_handle *h = vmc_new();
    struct qcow2_dec *d = NULL;
    int type;

    for (type = 0; type <= 1; type++) {
        size_t i;

        for (i = 0; i < 4096; i++)
            packed[i] = (uint8_t) (i * 151 + 7);
        ck_assert_int_eq(qcow2_decompress(h, "img.qcow2", 512, type, &d,
                                          packed, 4096, out, CS), -1);
        qcow2_dec_free(d);
        d = NULL;
    }
    vmc_free(h);
}
END_TEST

/* Random bytes do not compress: the writer stores them as they are. */
START_TEST(test_incompressible_does_not_fit)
{
    struct vmc_handle *h = vmc_new();
    int type;
    size_t i;
    uint32_t x = 12345;

    for (i = 0; i < CS; i++) {
        x = x * 1103515245 + 12345;
        in[i] = (uint8_t) (x >> 23);
    }
    for (type = 0; type <= 1; type++) {
        struct qcow2_enc *e = qcow2_enc_new(h, "test", type);

        ck_assert_int_eq(qcow2_compress(h, "test", e, in, CS, packed, CS - 1),
                         0);
        qcow2_enc_free(e);
    }
    vmc_free(h);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("qcow2-compress");
    TCase *tc = tcase_create("qcow2-compress");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_deflate_round_trip);
    tcase_add_test(tc, test_zstd_round_trip);
    tcase_add_test(tc, test_deflate_truncated);
    tcase_add_test(tc, test_zstd_truncated);
    tcase_add_test(tc, test_deflate_short_output);
    tcase_add_test(tc, test_zstd_short_output);
    tcase_add_test(tc, test_deflate_stream_longer_than_cluster);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_incompressible_does_not_fit);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
