/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHD writer and reader under concurrency: several threads write the
 * pieces of a new dynamic or fixed VHD in a shuffled order (so blocks
 * are allocated concurrently and out of order), then several threads
 * read the committed image back and compare with what was written.
 */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SIZE (24u * 1024 * 1024 + 1536)   /* last block partial */
#define PIECE (128u * 1024)
#define NPIECES ((SIZE + PIECE - 1) / PIECE)
#define NTHREADS 8

static uint8_t *ref;             /* what the image should hold */
static uint32_t order[NPIECES];
static atomic_uint next_piece;
static struct vmc_image *img;
static atomic_int errors;

static void *
writer(void *arg)
{
    unsigned i;

    while ((i = atomic_fetch_add(&next_piece, 1)) < NPIECES) {
        uint64_t off = (uint64_t) order[i] * PIECE;
        size_t n = SIZE - off < PIECE ? SIZE - off : PIECE;

        if (vmc_is_zero(ref + off, n))
            continue;            /* as the copy engine: zeros unwritten */
        if (vmc_image_pwrite(img, ref + off, n, off) == -1)
            atomic_fetch_add(&errors, 1);
    }
    return NULL;
}

static void *
reader(void *arg)
{
    unsigned seed = (unsigned) (uintptr_t) arg;
    uint8_t *buf = malloc(3 * PIECE);
    int k;

    for (k = 0; k < 200 && buf; k++) {
        uint64_t off = (uint64_t) rand_r(&seed) % SIZE;
        size_t n = 1 + (size_t) rand_r(&seed) % (3 * PIECE);

        if (n > SIZE - off)
            n = SIZE - off;
        if (vmc_image_pread(img, buf, n, off) == -1 ||
            memcmp(buf, ref + off, n) != 0)
            atomic_fetch_add(&errors, 1);
    }
    free(buf);
    return NULL;
}

static void
run(void *(*fn)(void *))
{
    pthread_t t[NTHREADS];
    uintptr_t i;

    for (i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, fn, (void *) (i + 1)), 0);
    for (i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
}

static void
round_trip(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    char dir[] = "/tmp/test-vpc-threads.XXXXXX", path[64];
    unsigned i, seed = 42;
    uint8_t *back;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.vhd", dir);
    ref = calloc(1, SIZE);
    back = malloc(SIZE);
    ck_assert_ptr_nonnull(ref);
    ck_assert_ptr_nonnull(back);
    /* Random pieces, zero pieces, and pieces with a zero half. */
    for (i = 0; i < NPIECES; i++) {
        uint64_t off = (uint64_t) i * PIECE, j;
        size_t n = SIZE - off < PIECE ? SIZE - off : PIECE;

        order[i] = i;
        if (i % 5 == 3)
            continue;
        for (j = 0; j < n; j++)
            ref[off + j] = (uint8_t) rand_r(&seed);
        if (i % 7 == 2)
            memset(ref + off, 0, n / 2);
    }
    for (i = NPIECES - 1; i > 0; i--) {
        unsigned k = (unsigned) rand_r(&seed) % (i + 1), t = order[i];

        order[i] = order[k];
        order[k] = t;
    }

    img = vmc_image_create(h, path, "vpc", SIZE, opts);
    ck_assert_msg(img != NULL, "create: %s", vmc_get_error(h));
    atomic_store(&next_piece, 0);
    atomic_store(&errors, 0);
    run(writer);
    ck_assert_int_eq(atomic_load(&errors), 0);
    ck_assert_msg(vmc_image_commit(img) == 0, "commit: %s", vmc_get_error(h));
    ck_assert_int_eq(vmc_image_close(img), 0);

    img = vmc_image_open(h, path, NULL, 0);
    ck_assert_msg(img != NULL, "open: %s", vmc_get_error(h));
    ck_assert_str_eq(vmc_image_format(img), "vpc");
    ck_assert_uint_eq(vmc_image_size(img), SIZE);
    ck_assert_int_eq(vmc_image_pread(img, back, SIZE, 0), 0);
    ck_assert_int_eq(memcmp(back, ref, SIZE), 0);
    run(reader);
    ck_assert_int_eq(atomic_load(&errors), 0);
    vmc_image_close(img);

    unlink(path);
    rmdir(dir);
    free(ref);
    free(back);
    vmc_free(h);
}

START_TEST(test_dynamic_threads)
{
    round_trip(NULL);
}
END_TEST

START_TEST(test_dynamic_small_blocks_threads)
{
    round_trip("block_size=64K");
}
END_TEST

START_TEST(test_fixed_threads)
{
    round_trip("subformat=fixed");
}
END_TEST

static Suite *
vpc_suite(void)
{
    Suite *s = suite_create("vpc-threads");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dynamic_threads);
    tcase_add_test(tc, test_dynamic_small_blocks_threads);
    tcase_add_test(tc, test_fixed_threads);
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
