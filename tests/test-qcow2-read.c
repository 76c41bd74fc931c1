/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qcow2 reader from several threads at once: random preads and
 * block status over an image with many more L2 tables than the cache
 * holds (512-byte clusters), plain and compressed, must all return the
 * right bytes.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MIB (1024u * 1024)
#define SIZE (6 * MIB + 1536)
#define NTHREADS 8
#define ROUNDS 150

static char dir[64];
static char path[128];

static uint8_t
pattern(uint64_t off)
{
    uint64_t c = off / 4096;

    return c % 7 == 2 ? 0 : (uint8_t) (c * 13 + off % 11 + 1);
}

/* Make PATH with the pattern, written in 64 KiB requests. */
static void
make_image(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img;
    uint8_t *buf = malloc(65536);
    uint64_t off, i;

    strcpy(dir, "/tmp/test-qcow2-read.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/img.qcow2", dir);
    img = vmc_image_create(h, path, "qcow2", SIZE, opts);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    for (off = 0; off < SIZE; off += 65536) {
        uint64_t n = SIZE - off < 65536 ? SIZE - off : 65536;

        for (i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        if (!vmc_is_zero(buf, n))
            ck_assert_msg(vmc_image_pwrite(img, buf, n, off) == 0, "%s",
                          vmc_get_error(h));
    }
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    vmc_image_close(img);
    free(buf);
    vmc_free(h);
}

static void
remove_image(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

struct reader {
    struct vmc_image *img;
    unsigned seed;
    int bad;
};

static void *
reader(void *arg)
{
    struct reader *rd = arg;
    uint8_t *buf = malloc(256 * 1024);
    int round;

    for (round = 0; round < ROUNDS; round++) {
        uint64_t off = (uint64_t) rand_r(&rd->seed) % SIZE;
        uint64_t len = 1 + (uint64_t) rand_r(&rd->seed) % (256 * 1024);
        enum vmc_extent_type t;
        uint64_t i, run;

        if (len > SIZE - off)
            len = SIZE - off;
        if (vmc_image_pread(rd->img, buf, len, off) == -1) {
            rd->bad = 1;
            break;
        }
        for (i = 0; i < len; i++)
            if (buf[i] != pattern(off + i)) {
                rd->bad = 2;
                break;
            }
        if (vmc_image_block_status(rd->img, off, len, &t, &run) == -1 ||
            run == 0 || run > len) {
            rd->bad = 3;
            break;
        }
        if (t != VMC_EXTENT_DATA) {
            for (i = 0; i < run; i++)
                if (pattern(off + i) != 0) {
                    rd->bad = 4;
                    break;
                }
        }
    }
    free(buf);
    return NULL;
}

static void
concurrent_reads(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img;
    pthread_t t[NTHREADS];
    struct reader rd[NTHREADS];
    unsigned i;

    make_image(opts);
    img = vmc_image_open(h, path, NULL, 0);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert_str_eq(vmc_image_format(img), "qcow2");
    for (i = 0; i < NTHREADS; i++) {
        rd[i] = (struct reader) { img, i * 7919 + 1, 0 };
        pthread_create(&t[i], NULL, reader, &rd[i]);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(rd[i].bad == 0, "reader %u failed (%d): %s", i,
                      rd[i].bad, vmc_get_error(h) ? vmc_get_error(h) : "");
    }
    vmc_image_close(img);
    vmc_free(h);
    remove_image();
}

START_TEST(test_concurrent_small_clusters)
{
    concurrent_reads("cluster_size=512");
}
END_TEST

START_TEST(test_concurrent_compressed)
{
    concurrent_reads("cluster_size=1K,compress=on");
}
END_TEST

START_TEST(test_concurrent_zstd)
{
    concurrent_reads("cluster_size=4K,compress=on,compression_type=zstd");
}
END_TEST

START_TEST(test_concurrent_default)
{
    concurrent_reads(NULL);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("qcow2-read");
    TCase *tc = tcase_create("qcow2-read");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_concurrent_small_clusters);
    tcase_add_test(tc, test_concurrent_compressed);
    tcase_add_test(tc, test_concurrent_zstd);
    tcase_add_test(tc, test_concurrent_default);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
