/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VHDX log overlay: descriptors applied in order (later wins) must
 * read exactly as if they had been written over the file one by one,
 * including zero runs, overlapping writes and bytes past the end of
 * the file.  Compared with a naive replay into a buffer.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhdx-internal.h"

#define FILE_BYTES (64u * 4096)          /* the real file */
#define END_BYTES (96u * 4096)           /* the file after replay */

static struct vmc_handle *h;
static struct vmc_image img;
static int fd = -1;
static char path[] = "/tmp/test-vhdx-overlay.XXXXXX";

static void
setup(void)
{
    uint8_t *buf = malloc(FILE_BYTES);
    size_t i;

    h = vmc_new();
    img.h = h;
    img.path = path;
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    for (i = 0; i < FILE_BYTES; i++)
        buf[i] = (uint8_t) (i * 7 + 3);
    ck_assert_int_eq(pwrite(fd, buf, FILE_BYTES, 0), FILE_BYTES);
    img.file = vmc_file_posix_fdopen(h, path, dup(fd), false);
    ck_assert_ptr_nonnull(img.file);
    img.file_size = FILE_BYTES;
    free(buf);
}

static void
teardown(void)
{
    vmc_file_close(img.file);
    close(fd);
    unlink(path);
    vmc_free(h);
}

/* Check that reading V over the whole file and at random ranges gives
 * REF.
 */
static void
check_reads(struct vhdx *v, const uint8_t *ref)
{
    uint8_t *buf = malloc(END_BYTES);
    unsigned seed = 1;
    int k;

    ck_assert_int_eq(vhdx_file_pread(&img, v, buf, END_BYTES, 0), 0);
    ck_assert_mem_eq(buf, ref, END_BYTES);
    for (k = 0; k < 500; k++) {
        uint64_t off = (uint64_t) rand_r(&seed) % END_BYTES;
        size_t n = 1 + (size_t) rand_r(&seed) % (END_BYTES - off);

        ck_assert_int_eq(vhdx_file_pread(&img, v, buf, n, off), 0);
        ck_assert_mem_eq(buf, ref + off, n);
    }
    /* Past the replayed end is an error, not zeros. */
    ck_assert_int_eq(vhdx_file_pread(&img, v, buf, 2, END_BYTES - 1), -1);
    free(buf);
}

START_TEST(test_overlay_later_wins)
{
    static uint8_t sector[3][4096];
    struct vhdx_extent items[] = {
        { 4096, 12288, NULL },                  /* zero two sectors */
        { 8192, 12288, sector[0] },             /* data over the zeros */
        { 0, 4096, sector[1] },
        { 0, 4096, NULL },                      /* zeros over that */
        { 70 * 4096, 71 * 4096, sector[2] },    /* past EOF */
        { 60 * 4096, 68 * 4096, NULL },         /* across EOF */
    };
    struct vhdx v = { .file_end = END_BYTES };
    uint8_t *ref = calloc(1, END_BYTES);
    size_t i;

    memset(sector[0], 0xaa, 4096);
    memset(sector[1], 0xbb, 4096);
    memset(sector[2], 0xcc, 4096);
    ck_assert_int_eq(pread(fd, ref, FILE_BYTES, 0), FILE_BYTES);
    for (i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (items[i].data)
            memcpy(ref + items[i].start, items[i].data,
                   items[i].end - items[i].start);
        else
            memset(ref + items[i].start, 0, items[i].end - items[i].start);
    }
    ck_assert_int_eq(vhdx_overlay_build(h, path, &v, items,
                                        sizeof items / sizeof items[0]), 0);
    /* Disjoint and sorted. */
    for (i = 1; i < v.noverlay; i++)
        ck_assert(v.overlay[i].start >= v.overlay[i - 1].end);
    check_reads(&v, ref);
    free(v.overlay);
    free(ref);
}
END_TEST

START_TEST(test_overlay_random_against_naive_replay)
{
    enum { N = 400 };
    static uint8_t data[N][4096];
    struct vhdx_extent items[N];
    struct vhdx v = { .file_end = END_BYTES };
    uint8_t *ref = calloc(1, END_BYTES);
    unsigned seed = 42;
    size_t i;

    ck_assert_int_eq(pread(fd, ref, FILE_BYTES, 0), FILE_BYTES);
    for (i = 0; i < N; i++) {
        uint64_t s = (uint64_t) (rand_r(&seed) % 95) * 4096;

        if (rand_r(&seed) % 3 == 0) {
            uint64_t len = (uint64_t) (1 + rand_r(&seed) % 8) * 4096;

            if (s + len > END_BYTES)
                len = END_BYTES - s;
            items[i] = (struct vhdx_extent) { s, s + len, NULL };
            memset(ref + s, 0, len);
        } else {
            memset(data[i], (int) (i & 0xff), 4096);
            data[i][0] = (uint8_t) (i >> 8);
            items[i] = (struct vhdx_extent) { s, s + 4096, data[i] };
            memcpy(ref + s, data[i], 4096);
        }
    }
    ck_assert_int_eq(vhdx_overlay_build(h, path, &v, items, N), 0);
    check_reads(&v, ref);
    free(v.overlay);
    free(ref);
}
END_TEST

START_TEST(test_no_overlay_reads_file_and_refuses_past_end)
{
    struct vhdx v = { .file_end = FILE_BYTES };
    uint8_t buf[16];

    ck_assert_int_eq(vhdx_file_pread(&img, &v, buf, 16, 4096), 0);
    ck_assert_uint_eq(buf[0], (uint8_t) (4096 * 7 + 3));
    ck_assert_int_eq(vhdx_file_pread(&img, &v, buf, 16, FILE_BYTES - 8), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "beyond the end"));
}
END_TEST

static Suite *
overlay_suite(void)
{
    Suite *s = suite_create("vhdx-overlay");
    TCase *tc = tcase_create("overlay");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_overlay_later_wins);
    tcase_add_test(tc, test_overlay_random_against_naive_replay);
    tcase_add_test(tc, test_no_overlay_reads_file_and_refuses_past_end);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(overlay_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
