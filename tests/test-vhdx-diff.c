/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Differencing VHDX read from several threads at once, at unaligned
 * offsets and lengths: a chain of three (base <- mid <- top) made by
 * the independent generator tests/vhdx-make-diff.py, with
 * PARTIALLY_PRESENT blocks whose sector runs start and end anywhere.
 * Every read must equal the generator's flat raw image, and block
 * status must agree with it (zero and hole runs read as zeros).
 * Skipped (77) without python3.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define NTHREADS 8

static char dir[] = "/tmp/test-vhdx-diff.XXXXXX";
static uint8_t *ref;
static uint64_t ref_size;
static struct vmc_image *img;
static atomic_int errors;

static void *
reader(void *arg)
{
    unsigned seed = (unsigned) (uintptr_t) arg;
    uint8_t *buf = malloc(3 * 1024 * 1024);
    int k;

    for (k = 0; k < 400 && buf; k++) {
        uint64_t off = ((uint64_t) rand_r(&seed) * 7919) % ref_size;
        size_t n = 1 + (size_t) rand_r(&seed) % (k % 4 ? 5000 : 3 << 20);

        if (n > ref_size - off)
            n = ref_size - off;
        if (vmc_image_pread(img, buf, n, off) == -1 ||
            memcmp(buf, ref + off, n) != 0)
            atomic_fetch_add(&errors, 1);
    }
    free(buf);
    return NULL;
}

static void *
mapper(void *arg)
{
    unsigned seed = (unsigned) (uintptr_t) arg;
    int k;

    for (k = 0; k < 200; k++) {
        uint64_t off = ((uint64_t) rand_r(&seed) * 7919) % ref_size;
        enum vmc_extent_type t;
        uint64_t run;

        if (vmc_image_block_status(img, off, ref_size - off, &t,
                                   &run) == -1 ||
            run == 0 || run > ref_size - off ||
            (t != VMC_EXTENT_DATA && !vmc_is_zero(ref + off, run)))
            atomic_fetch_add(&errors, 1);
    }
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

START_TEST(test_chain3_concurrent_unaligned)
{
    struct vmc_handle *h = vmc_new();
    char path[256];

    snprintf(path, sizeof path, "%s/top.avhdx", dir);
    img = vmc_image_open(h, path, NULL, 0);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert_str_eq(vmc_image_format(img), "vhdx");
    ck_assert_uint_eq(vmc_image_size(img), ref_size);
    ck_assert_ptr_nonnull(vmc_image_backing(img));
    ck_assert_ptr_nonnull(vmc_image_backing(vmc_image_backing(img)));
    atomic_store(&errors, 0);
    run(reader);
    ck_assert_int_eq(atomic_load(&errors), 0);
    run(mapper);
    ck_assert_int_eq(atomic_load(&errors), 0);
    vmc_image_close(img);
    vmc_free(h);
}
END_TEST

/* Run the generator into DIR and load top.raw.  Returns false if
 * python3 is missing.
 */
static bool
generate(void)
{
    const char *srcdir = getenv("srcdir");
    char cmd[1024], path[256];
    struct stat st;
    int fd;

    if (system("python3 -c pass > /dev/null 2>&1") != 0)
        return false;
    if (mkdtemp(dir) == NULL)
        return false;
    snprintf(cmd, sizeof cmd, "python3 '%s/vhdx-make-diff.py' chain3 '%s'",
             srcdir ? srcdir : ".", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "%s failed\n", cmd);
        exit(EXIT_FAILURE);
    }
    snprintf(path, sizeof path, "%s/top.raw", dir);
    fd = open(path, O_RDONLY);
    if (fd == -1 || fstat(fd, &st) == -1) {
        perror(path);
        exit(EXIT_FAILURE);
    }
    ref_size = (uint64_t) st.st_size;
    ref = malloc(ref_size);
    if (ref == NULL || pread(fd, ref, ref_size, 0) != (ssize_t) ref_size) {
        perror(path);
        exit(EXIT_FAILURE);
    }
    close(fd);
    return true;
}

int
main(void)
{
    Suite *s = suite_create("vhdx-diff");
    TCase *tc = tcase_create("diff");
    SRunner *sr;
    char cmd[300];
    int failed;

    if (!generate()) {
        printf("SKIP: python3 is not installed\n");
        return 77;
    }
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_chain3_concurrent_unaligned);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(ref);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
