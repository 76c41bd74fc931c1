/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VMDK writer through the image API: concurrent pwrite, encode in
 * many threads then write_encoded in order, the copy engine, write-once
 * and alignment refusals, streamOptimized order, disks far larger than
 * the data, and images read back by our reader (and checked by qemu-img
 * when it is installed).
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define MIB (1024u * 1024)
#define GRAIN 65536u
#define NTHREADS 8

static char dir[64];
static char path[256];

static void
setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/test-vmdk-write.XXXXXX")));
    snprintf(path, sizeof path, "%s/out.vmdk", dir);
}

static void
teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The byte at OFF: grain number in every byte, some grains zero. */
static uint8_t
pattern(uint64_t off)
{
    uint64_t g = off / GRAIN;

    return g % 5 == 3 ? 0 : (uint8_t) (g * 7 + 1 + off % 13);
}

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

static void
verify(const char *p, uint64_t size)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_open(h, p, NULL, 0);
    uint8_t *buf = malloc(MIB);
    uint64_t off, i;
    int r;

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert_str_eq(vmc_image_format(img), "vmdk");
    ck_assert_uint_eq(vmc_image_size(img), size);
    for (off = 0; off < size; off += MIB) {
        uint64_t n = size - off < MIB ? size - off : MIB;

        ck_assert_msg(vmc_image_pread(img, buf, n, off) == 0, "%s",
                      vmc_get_error(h));
        for (i = 0; i < n; i++)
            if (buf[i] != pattern(off + i))
                ck_abort_msg("byte %llu differs",
                             (unsigned long long) (off + i));
    }
    free(buf);
    vmc_image_close(img);
    vmc_free(h);
    r = qemu_check(p);
    ck_assert_msg(r == 0 || r == 77, "qemu-img check exit %d", r);
}

static void
fill(uint8_t *buf, uint64_t off, uint64_t n)
{
    uint64_t i;

    for (i = 0; i < n; i++)
        buf[i] = pattern(off + i);
}

struct job {
    struct vmc_image *img;
    uint64_t size;
    unsigned id;
    int ret;
};

/* Thread ID writes every NTHREADS-th grain. */
static void *
writer(void *arg)
{
    struct job *j = arg;
    uint8_t *buf = malloc(GRAIN);
    uint64_t off;

    j->ret = 0;
    for (off = j->id * GRAIN; off < j->size; off += NTHREADS * GRAIN) {
        uint64_t n = j->size - off < GRAIN ? j->size - off : GRAIN;

        fill(buf, off, n);
        if (vmc_is_zero(buf, n))
            continue;
        if (vmc_image_pwrite(j->img, buf, n, off) == -1)
            j->ret = -1;
    }
    free(buf);
    return NULL;
}

static void
concurrent(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 40 * MIB + 3 * 512;
    struct vmc_image *img = vmc_image_create(h, path, "vmdk", size, opts);
    pthread_t t[NTHREADS];
    struct job jobs[NTHREADS];
    unsigned i;

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    for (i = 0; i < NTHREADS; i++) {
        jobs[i] = (struct job) { img, size, i, 0 };
        pthread_create(&t[i], NULL, writer, &jobs[i]);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(jobs[i].ret == 0, "%s", vmc_get_error(h));
    }
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_image_close(img), 0);
    vmc_free(h);
    verify(path, size);
}

START_TEST(test_concurrent_sparse)
{
    concurrent(NULL);
}
END_TEST

START_TEST(test_concurrent_flat)
{
    char flat[300];
    struct stat st;

    concurrent("subformat=monolithicFlat");
    snprintf(flat, sizeof flat, "%s/out-flat.vmdk", dir);
    ck_assert_int_eq(stat(flat, &st), 0);
}
END_TEST

/* streamOptimized: encode 1 MiB pieces in many threads, out of order,
 * then store them in offset order, as the copy engine does.
 */
struct enc_job {
    struct vmc_image *img;
    uint64_t size;
    unsigned id;
    void **chunks;
    int ret;
};

static void *
encoder(void *arg)
{
    struct enc_job *j = arg;
    uint8_t *buf = malloc(MIB);
    uint64_t off;

    j->ret = 0;
    for (off = (uint64_t) j->id * MIB; off < j->size;
         off += (uint64_t) NTHREADS * MIB) {
        uint64_t n = j->size - off < MIB ? j->size - off : MIB;

        fill(buf, off, n);
        if (j->img->ops->encode(j->img, buf, n, off,
                                &j->chunks[off / MIB]) == -1)
            j->ret = -1;
    }
    free(buf);
    return NULL;
}

START_TEST(test_stream_encode_threads)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 40 * MIB + 3 * 512, n = (size + MIB - 1) / MIB, i;
    struct vmc_image *img = vmc_image_create(h, path, "vmdk", size,
                                             "subformat=streamOptimized");
    void **chunks = calloc(n, sizeof *chunks);
    pthread_t t[NTHREADS];
    struct enc_job jobs[NTHREADS];

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert(img->ops->ordered_writes);
    for (i = 0; i < NTHREADS; i++) {
        jobs[i] = (struct enc_job) { img, size, (unsigned) i, chunks, 0 };
        pthread_create(&t[i], NULL, encoder, &jobs[i]);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(jobs[i].ret == 0, "%s", vmc_get_error(h));
    }
    for (i = 0; i < n; i++)
        ck_assert_msg(img->ops->write_encoded(img, chunks[i]) == 0, "%s",
                      vmc_get_error(h));
    free(chunks);
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_image_close(img), 0);
    vmc_free(h);
    verify(path, size);
}
END_TEST

/* Through the copy engine from a raw file, every subformat. */
static void
copy_from_raw(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 20 * MIB + 1536, off;
    char raw[300];
    uint8_t *buf = malloc(MIB);
    struct vmc_image *src, *dst;
    struct vmc_copy_options co = { .threads = 4 };
    int fd;

    snprintf(raw, sizeof raw, "%s/in.raw", dir);
    fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    for (off = 0; off < size; off += MIB) {
        uint64_t n = size - off < MIB ? size - off : MIB;

        fill(buf, off, n);
        ck_assert_int_eq(pwrite(fd, buf, n, (off_t) off), (ssize_t) n);
    }
    close(fd);
    free(buf);
    src = vmc_image_open(h, raw, "raw", 0);
    ck_assert_ptr_nonnull(src);
    dst = vmc_image_create(h, path, "vmdk", size, opts);
    ck_assert_msg(dst != NULL, "%s", vmc_get_error(h));
    ck_assert_msg(vmc_image_copy(src, dst, &co) == 0, "%s", vmc_get_error(h));
    ck_assert_msg(vmc_image_commit(dst) == 0, "%s", vmc_get_error(h));
    vmc_image_close(dst);
    vmc_image_close(src);
    vmc_free(h);
    verify(path, size);
}

START_TEST(test_copy_sparse)
{
    copy_from_raw(NULL);
}
END_TEST

START_TEST(test_copy_stream)
{
    copy_from_raw("subformat=streamOptimized");
}
END_TEST

START_TEST(test_copy_flat)
{
    copy_from_raw("subformat=monolithicFlat");
}
END_TEST

/* Make an image of SIZE with OPTS, write one grain of 0x5a at OFF with
 * pwrite, then try WHAT; it must fail with an error containing MSG.
 */
static void
refused(const char *opts, uint64_t size, uint64_t off2, size_t len2,
        bool zero_first, const char *msg)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_create(h, path, "vmdk", size, opts);
    uint8_t *buf = malloc(2 * GRAIN);

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    memset(buf, zero_first ? 0 : 0x5a, 2 * GRAIN);
    ck_assert_msg(vmc_image_pwrite(img, buf, 2 * GRAIN, 4 * GRAIN) == 0,
                  "%s", vmc_get_error(h));
    memset(buf, 0x5a, 2 * GRAIN);
    ck_assert_int_eq(vmc_image_pwrite(img, buf, len2, off2), -1);
    ck_assert_msg(strstr(vmc_get_error(h), msg) != NULL, "%s",
                  vmc_get_error(h));
    ck_assert_msg(strstr(vmc_get_error(h), path) != NULL, "%s",
                  vmc_get_error(h));
    vmc_image_close(img);
    vmc_free(h);
    free(buf);
}

START_TEST(test_write_twice)
{
    refused(NULL, 4 * MIB, 5 * GRAIN, GRAIN, false, "written twice");
}
END_TEST

START_TEST(test_write_twice_after_zeros)
{
    refused(NULL, 4 * MIB, 4 * GRAIN, GRAIN, true, "written twice");
}
END_TEST

START_TEST(test_write_unaligned)
{
    refused(NULL, 4 * MIB, 8 * GRAIN + 512, GRAIN, false, "whole");
}
END_TEST

START_TEST(test_write_short)
{
    refused(NULL, 4 * MIB, 8 * GRAIN, 4096, false, "whole");
}
END_TEST

START_TEST(test_stream_backwards)
{
    refused("subformat=streamOptimized", 4 * MIB, 0, GRAIN, false,
            "increasing offset order");
}
END_TEST

START_TEST(test_stream_twice)
{
    refused("subformat=streamOptimized", 4 * MIB, 5 * GRAIN, GRAIN, false,
            "increasing offset order");
}
END_TEST

START_TEST(test_stream_unaligned)
{
    refused("subformat=streamOptimized", 4 * MIB, 8 * GRAIN + 512, GRAIN,
            false, "whole");
}
END_TEST

/* A 2 TiB disk with one grain at its end: small file, fast, readable. */
static void
huge(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 2048ull * 1024 * MIB, off = size - GRAIN;
    struct vmc_image *img = vmc_image_create(h, path, "vmdk", size, opts);
    uint8_t *buf = malloc(GRAIN), *back = malloc(GRAIN);
    enum vmc_extent_type t;
    uint64_t run;
    struct stat st;
    int r;

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    fill(buf, 0, GRAIN);
    ck_assert_msg(vmc_image_pwrite(img, buf, GRAIN, off) == 0, "%s",
                  vmc_get_error(h));
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    vmc_image_close(img);
    ck_assert_int_eq(stat(path, &st), 0);
    /* Allocated: metadata touched + one grain (sparse file holes). */
    ck_assert_int_lt((long long) st.st_blocks * 512, 200ll * MIB);
    img = vmc_image_open(h, path, NULL, 0);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert_uint_eq(vmc_image_size(img), size);
    ck_assert_int_eq(vmc_image_block_status(img, 0, size, &t, &run), 0);
    ck_assert_int_eq(t, VMC_EXTENT_HOLE);
    ck_assert_int_eq(vmc_image_block_status(img, off, GRAIN, &t, &run), 0);
    ck_assert_int_eq(t, VMC_EXTENT_DATA);
    ck_assert_int_eq(vmc_image_pread(img, back, GRAIN, off), 0);
    ck_assert_int_eq(memcmp(buf, back, GRAIN), 0);
    vmc_image_close(img);
    vmc_free(h);
    free(buf);
    free(back);
    r = qemu_check(path);
    ck_assert_msg(r == 0 || r == 77, "qemu-img check exit %d", r);
}

START_TEST(test_huge_sparse)
{
    huge(NULL);
}
END_TEST

START_TEST(test_huge_stream)
{
    huge("subformat=streamOptimized");
}
END_TEST

START_TEST(test_too_big)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_create(h, path, "vmdk",
                                             2048ull * 1024 * MIB + 512,
                                             NULL);

    ck_assert_ptr_null(img);
    ck_assert_msg(strstr(vmc_get_error(h), "at most 2 TiB") != NULL, "%s",
                  vmc_get_error(h));
    ck_assert_int_eq(access(path, F_OK), -1);
    vmc_free(h);
}
END_TEST

START_TEST(test_no_read_while_creating)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_create(h, path, "vmdk", MIB, NULL);
    uint8_t buf[512];

    ck_assert_ptr_nonnull(img);
    ck_assert_int_eq(vmc_image_pread(img, buf, sizeof buf, 0), -1);
    vmc_image_close(img);
    ck_assert_int_eq(access(path, F_OK), -1);
    vmc_free(h);
}
END_TEST

START_TEST(test_no_rdwr_open)
{
    struct vmc_handle *h = vmc_new();
    struct vmc_image *img = vmc_image_create(h, path, "vmdk", MIB, NULL);

    ck_assert_ptr_nonnull(img);
    ck_assert_int_eq(vmc_image_commit(img), 0);
    vmc_image_close(img);
    img = vmc_image_open(h, path, NULL, VMC_IMAGE_RDWR);
    ck_assert_ptr_null(img);
    ck_assert_msg(strstr(vmc_get_error(h), "not supported") != NULL, "%s",
                  vmc_get_error(h));
    vmc_free(h);
}
END_TEST

/* Many threads reading one image whose grain tables (130 of them) do
 * not all fit the reader's table cache: every read must be right.
 */
#define SPREAD_GTS 130
#define GT_SPAN (512ull * GRAIN)

struct read_job {
    struct vmc_image *img;
    unsigned id;
    int bad;
};

/* The expected byte at OFF: the grain written in each grain table. */
static uint8_t
spread(uint64_t off)
{
    uint64_t gt = off / GT_SPAN;

    if (off % GT_SPAN / GRAIN != gt % 512)
        return 0;
    return (uint8_t) (gt + off % 251 + 1);
}

static void *
reader(void *arg)
{
    struct read_job *j = arg;
    uint8_t *buf = malloc(3 * GRAIN);
    unsigned seed = j->id * 7919 + 1, k;
    uint64_t i;

    j->bad = 0;
    for (k = 0; k < 400; k++) {
        uint64_t gt = rand_r(&seed) % SPREAD_GTS;
        uint64_t off = gt * GT_SPAN + (gt % 512) * GRAIN - GRAIN +
                       rand_r(&seed) % GRAIN;

        if (gt == 0)
            off = rand_r(&seed) % GRAIN;
        if (vmc_image_pread(j->img, buf, 2 * GRAIN, off) == -1) {
            j->bad = -1;
            break;
        }
        for (i = 0; i < 2 * GRAIN; i++)
            if (buf[i] != spread(off + i))
                j->bad++;
    }
    free(buf);
    return NULL;
}

static void
concurrent_read(const char *opts)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = SPREAD_GTS * GT_SPAN, gt, i;
    struct vmc_image *img = vmc_image_create(h, path, "vmdk", size, opts);
    uint8_t *buf = malloc(GRAIN);
    pthread_t t[NTHREADS];
    struct read_job jobs[NTHREADS];
    unsigned n;

    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    for (gt = 0; gt < SPREAD_GTS; gt++) {
        uint64_t off = gt * GT_SPAN + (gt % 512) * GRAIN;

        for (i = 0; i < GRAIN; i++)
            buf[i] = spread(off + i);
        ck_assert_msg(vmc_image_pwrite(img, buf, GRAIN, off) == 0, "%s",
                      vmc_get_error(h));
    }
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    vmc_image_close(img);
    img = vmc_image_open(h, path, NULL, 0);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    for (n = 0; n < NTHREADS; n++) {
        jobs[n] = (struct read_job) { img, n, 0 };
        pthread_create(&t[n], NULL, reader, &jobs[n]);
    }
    for (n = 0; n < NTHREADS; n++) {
        pthread_join(t[n], NULL);
        ck_assert_msg(jobs[n].bad == 0, "thread %u: %d (%s)", n,
                      jobs[n].bad, vmc_get_error(h));
    }
    vmc_image_close(img);
    vmc_free(h);
    free(buf);
}

START_TEST(test_concurrent_read_sparse)
{
    concurrent_read(NULL);
}
END_TEST

START_TEST(test_concurrent_read_stream)
{
    concurrent_read("subformat=streamOptimized");
}
END_TEST

/* streamOptimized read-back with grains that compress well and grains
 * that do not, in runs (the reader sizes its first read of a grain by
 * the last one and needs a second read when a big grain follows small
 * ones), read in whole grains (inflated in place) and in slices that
 * start and end inside grains (inflated aside and copied).
 */
static uint8_t
mixed(uint64_t off)
{
    uint64_t g = off / GRAIN, x;

    if (g % 7 == 5)
        return 0;
    if ((g / 3) % 2 == 0)
        return (uint8_t) (g + off % 11);            /* compresses well */
    x = off * 0x9e3779b97f4a7c15ull;                /* does not */
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return (uint8_t) (x >> 56);
}

START_TEST(test_stream_read_mixed)
{
    struct vmc_handle *h = vmc_new();
    uint64_t size = 6 * MIB + 1536, off, i;
    const uint64_t slice = 3 * GRAIN / 2 + 4097;
    uint8_t *buf = malloc(MIB);
    struct vmc_image *img;

    img = vmc_image_create(h, path, "vmdk", size,
                           "subformat=streamOptimized");
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    for (off = 0; off < size; off += MIB) {
        uint64_t n = size - off < MIB ? size - off : MIB;

        for (i = 0; i < n; i++)
            buf[i] = mixed(off + i);
        ck_assert_msg(vmc_image_pwrite(img, buf, n, off) == 0, "%s",
                      vmc_get_error(h));
    }
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    vmc_image_close(img);

    img = vmc_image_open(h, path, NULL, 0);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    /* Whole grains, a MiB at a time. */
    for (off = 0; off < size; off += MIB) {
        uint64_t n = size - off < MIB ? size - off : MIB;

        ck_assert_msg(vmc_image_pread(img, buf, n, off) == 0, "%s",
                      vmc_get_error(h));
        for (i = 0; i < n; i++)
            if (buf[i] != mixed(off + i))
                ck_abort_msg("whole grains: byte %llu differs",
                             (unsigned long long) (off + i));
    }
    /* Slices that start and end inside grains. */
    for (off = 1000; off < size; off += slice) {
        uint64_t n = size - off < slice ? size - off : slice;

        ck_assert_msg(vmc_image_pread(img, buf, n, off) == 0, "%s",
                      vmc_get_error(h));
        for (i = 0; i < n; i++)
            if (buf[i] != mixed(off + i))
                ck_abort_msg("slices: byte %llu differs",
                             (unsigned long long) (off + i));
    }
    vmc_image_close(img);
    vmc_free(h);
    free(buf);
}
END_TEST

static Suite *
vmdk_write_suite(void)
{
    Suite *s = suite_create("vmdk-write");
    TCase *tc = tcase_create("write");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_concurrent_sparse);
    tcase_add_test(tc, test_concurrent_flat);
    tcase_add_test(tc, test_stream_encode_threads);
    tcase_add_test(tc, test_copy_sparse);
    tcase_add_test(tc, test_copy_stream);
    tcase_add_test(tc, test_copy_flat);
    tcase_add_test(tc, test_write_twice);
    tcase_add_test(tc, test_write_twice_after_zeros);
    tcase_add_test(tc, test_write_unaligned);
    tcase_add_test(tc, test_write_short);
    tcase_add_test(tc, test_stream_backwards);
    tcase_add_test(tc, test_stream_twice);
    tcase_add_test(tc, test_stream_unaligned);
    tcase_add_test(tc, test_huge_sparse);
    tcase_add_test(tc, test_huge_stream);
    tcase_add_test(tc, test_too_big);
    tcase_add_test(tc, test_no_read_while_creating);
    tcase_add_test(tc, test_no_rdwr_open);
    tcase_add_test(tc, test_concurrent_read_sparse);
    tcase_add_test(tc, test_concurrent_read_stream);
    tcase_add_test(tc, test_stream_read_mixed);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(vmdk_write_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
