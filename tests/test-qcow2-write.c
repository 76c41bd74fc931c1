/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qcow2 writer through the image API: concurrent writers, the copy
 * engine (with and without compression), write-once and alignment
 * refusals, memory that follows the data written rather than the
 * virtual size, and images read back by our reader (and checked by
 * qemu-img when it is installed).
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MIB (1024u * 1024)
#define NTHREADS 8

static char dir[] = "/tmp/test-qcow2-write.XXXXXX";
static char path[256];

static void
setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/test-qcow2-write.XXXXXX")));
    snprintf(path, sizeof path, "%s/out.qcow2", dir);
}

static void
teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The byte at OFF of the test pattern: cluster index in every byte,
 * with some clusters left zero.
 */
static uint8_t
pattern(uint64_t off, uint64_t cs)
{
    uint64_t c = off / cs;

    return c % 5 == 3 ? 0 : (uint8_t) (c * 7 + 1 + off % 13);
}

/* qemu-img check PATH: 0 when clean, or 77 when qemu-img is absent. */
static int
qemu_check(const char *p)
{
    char cmd[400];
    int r;

    if (system("command -v qemu-img > /dev/null 2>&1") != 0)
        return 77;
    snprintf(cmd, sizeof cmd, "qemu-img check -q '%s'", p);
    r = system(cmd);
    return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Read IMG back and compare with the pattern. */
static void
verify(const char *p, uint64_t size, uint64_t cs)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_open(h, p, "qcow2", 0);
    uint8_t *buf = malloc(MIB);
    uint64_t off, i;
    int r;

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert_uint_eq(vmc_image_size(img), size);
    for (off = 0; off < size; off += MIB) {
        uint64_t n = size - off < MIB ? size - off : MIB;

        ck_assert_int_eq(vmc_image_pread(img, buf, n, off), 0);
        for (i = 0; i < n; i++)
            if (buf[i] != pattern(off + i, cs))
                ck_abort_msg("byte %llu differs",
                             (unsigned long long) (off + i));
    }
    free(buf);
    vmc_image_close(img);
    vmc_free(h);
    r = qemu_check(p);
    ck_assert_msg(r == 0 || r == 77, "qemu-img check exit %d", r);
}

struct job {
    struct vmc_image *img;
    uint64_t size;
    uint64_t cs;
    unsigned id;
    int ret;
};

/* Thread ID writes every NTHREADS-th cluster, in whole clusters. */
static void *
writer(void *arg)
{
    struct job *j = arg;
    uint8_t *buf = malloc(j->cs);
    uint64_t off, i;

    j->ret = 0;
    for (off = j->id * j->cs; off < j->size; off += NTHREADS * j->cs) {
        uint64_t n = j->size - off < j->cs ? j->size - off : j->cs;

        for (i = 0; i < n; i++)
            buf[i] = pattern(off + i, j->cs);
        if (vmc_is_zero(buf, n))
            continue;
        if (vmc_image_pwrite(j->img, buf, n, off) == -1)
            j->ret = -1;
    }
    free(buf);
    return NULL;
}

static void
concurrent(const char *opts, uint64_t cs)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 24 * MIB + 3 * 512;
    struct vmc_image *img = vmc_image_create(h, path, "qcow2", size, opts);
    pthread_t t[NTHREADS];
    struct job jobs[NTHREADS];
    unsigned i;

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    for (i = 0; i < NTHREADS; i++) {
        jobs[i] = (struct job) { img, size, cs, i, 0 };
        pthread_create(&t[i], NULL, writer, &jobs[i]);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(jobs[i].ret == 0, "%s", vmc_get_error(h));
    }
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_image_close(img), 0);
    vmc_free(h);
    verify(path, size, cs);
}

START_TEST(test_concurrent_pwrite)
{
    concurrent(NULL, 65536);
}
END_TEST

START_TEST(test_concurrent_pwrite_small_clusters)
{
    concurrent("cluster_size=4K", 4096);
}
END_TEST

START_TEST(test_concurrent_pwrite_compressed)
{
    concurrent("compress=on", 65536);
}
END_TEST

START_TEST(test_concurrent_pwrite_zstd_v3)
{
    concurrent("compress=on,compression_type=zstd,cluster_size=16K", 16384);
}
END_TEST

/* Through the copy engine from a raw file holding the pattern. */
static void
copy_from_raw(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 20 * MIB, off, i;
    char raw[300];
    uint8_t *buf = malloc(MIB);
    struct vmc_image *src, *dst;
    struct vmc_copy_options co = { .threads = 4 };
    int fd;

    snprintf(raw, sizeof raw, "%s/in.raw", dir);
    fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    for (off = 0; off < size; off += MIB) {
        for (i = 0; i < MIB; i++)
            buf[i] = pattern(off + i, 65536);
        ck_assert_int_eq(pwrite(fd, buf, MIB, (off_t) off), (ssize_t) MIB);
    }
    close(fd);
    free(buf);
    src = vmc_image_open(h, raw, "raw", 0);
    ck_assert_ptr_nonnull(src);
    dst = vmc_image_create(h, path, "qcow2", size, opts);
    ck_assert_msg(dst != NULL, "%s", vmc_get_error(h));
    ck_assert_msg(vmc_image_copy(src, dst, &co) == 0, "%s", vmc_get_error(h));
    ck_assert_msg(vmc_image_commit(dst) == 0, "%s", vmc_get_error(h));
    vmc_image_close(dst);
    vmc_image_close(src);
    vmc_free(h);
    verify(path, size, 65536);
}

START_TEST(test_copy_engine_plain)
{
    copy_from_raw(NULL);
}
END_TEST

START_TEST(test_copy_engine_compressed)
{
    copy_from_raw("compress=on");
}
END_TEST

START_TEST(test_write_once)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_create(h, path, "qcow2", 4 * MIB, NULL);
    uint8_t *buf = malloc(65536);

    memset(buf, 0xaa, 65536);
    ck_assert_int_eq(vmc_image_pwrite(img, buf, 65536, 65536), 0);
    ck_assert_int_eq(vmc_image_pwrite(img, buf, 65536, 65536), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "written twice"));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "out.qcow2"));
    free(buf);
    vmc_image_close(img);
    vmc_free(h);
}
END_TEST

START_TEST(test_unaligned_write_refused)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_create(h, path, "qcow2", 4 * MIB, NULL);
    uint8_t buf[4096];

    memset(buf, 0xaa, sizeof buf);
    ck_assert_int_eq(vmc_image_pwrite(img, buf, sizeof buf, 4096), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "whole clusters"));
    ck_assert_int_eq(vmc_image_pwrite(img, buf, sizeof buf, 0), -1);
    vmc_image_close(img);
    vmc_free(h);
}
END_TEST

/* 1 TiB virtual, 64 MiB written: the writer's memory is a few MiB. */
START_TEST(test_memory_follows_data)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 1024ull * 1024 * MIB, base = 512ull * 1024 * MIB, off;
    struct vmc_image *img;
    uint8_t *buf = malloc(MIB);
    struct mallinfo2 before, after;
    struct stat st;
    int r;

    memset(buf, 0x5c, MIB);
    before = mallinfo2();
    img = vmc_image_create(h, path, "qcow2", size, NULL);
    ck_assert_ptr_nonnull(img);
    for (off = 0; off < 64 * MIB; off += MIB)
        ck_assert_int_eq(vmc_image_pwrite(img, buf, MIB, base + off), 0);
    after = mallinfo2();
    ck_assert_msg(after.uordblks - before.uordblks < 4 * MIB,
                  "writer uses %zu bytes", after.uordblks - before.uordblks);
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    vmc_image_close(img);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_lt(st.st_size, 66 * MIB);
    free(buf);
    vmc_free(h);
    r = qemu_check(path);
    ck_assert_msg(r == 0 || r == 77, "qemu-img check exit %d", r);
}
END_TEST

START_TEST(test_size_too_large_for_clusters)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img;

    /* 512-byte clusters map at most 128 GiB with a 32 MiB L1. */
    img = vmc_image_create(h, path, "qcow2", 256ull * 1024 * MIB,
                           "cluster_size=512");
    ck_assert_ptr_null(img);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "too large"));
    vmc_free(h);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("qcow2-write");
    TCase *tc = tcase_create("qcow2-write");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_concurrent_pwrite);
    tcase_add_test(tc, test_concurrent_pwrite_small_clusters);
    tcase_add_test(tc, test_concurrent_pwrite_compressed);
    tcase_add_test(tc, test_concurrent_pwrite_zstd_v3);
    tcase_add_test(tc, test_copy_engine_plain);
    tcase_add_test(tc, test_copy_engine_compressed);
    tcase_add_test(tc, test_write_once);
    tcase_add_test(tc, test_unaligned_write_refused);
    tcase_add_test(tc, test_memory_follows_data);
    tcase_add_test(tc, test_size_too_large_for_clusters);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
