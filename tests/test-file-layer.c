/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte-source layer (core/file*.c): a byte range of another file
 * reads exactly its window and refuses everything outside it, even
 * where the file below has bytes; local files report their holes and
 * data as SEEK_DATA/SEEK_HOLE see them; messages name the file and the
 * offset; NBD URIs are recognised.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define FILE_BYTES 65536u
#define WIN_OFF 1000u
#define WIN_LEN 5000u

#define SPARSE_BYTES (4u << 20)

static struct vmc_handle *h;
static char path[] = "/tmp/test-file-layer.XXXXXX";
static uint8_t pattern[FILE_BYTES];
static struct vmc_file *file;           /* PATH, read-only */

static void
setup(void)
{
    size_t i;
    int fd;

    h = vmc_new();
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    for (i = 0; i < FILE_BYTES; i++)
        pattern[i] = (uint8_t) (i * 7 + 3);
    ck_assert_int_eq(pwrite(fd, pattern, FILE_BYTES, 0), FILE_BYTES);
    close(fd);
    file = vmc_file_posix_open(h, path, false);
    ck_assert_ptr_nonnull(file);
}

static void
teardown(void)
{
    vmc_file_close(file);
    unlink(path);
    vmc_free(h);
}

/* The window [WIN_OFF, WIN_OFF + WIN_LEN) of FILE, not owning it. */
static struct vmc_file *
window(void)
{
    struct vmc_file *r = vmc_file_range_open(h, "member", file, WIN_OFF,
                                             WIN_LEN, false);

    ck_assert_ptr_nonnull(r);
    return r;
}

/* A read of R that must fail without touching BUF. */
static void
refused_read(struct vmc_file *r, size_t count, uint64_t offset)
{
    uint8_t buf[64];

    ck_assert_uint_le(count, sizeof buf);
    memset(buf, 0xee, sizeof buf);
    ck_assert_int_eq(vmc_file_pread_full(r, buf, count, offset), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "member: unexpected end "
                                 "of file"));
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_uint_eq(buf[i], 0xee);
}

START_TEST(test_range_reads_inside_and_at_edges)
{
    struct vmc_file *r = window();
    uint8_t *buf = malloc(WIN_LEN);
    uint64_t size;

    ck_assert_int_eq(vmc_file_get_size(r, &size), 0);
    ck_assert_uint_eq(size, WIN_LEN);
    ck_assert_int_eq(vmc_file_pread_full(r, buf, WIN_LEN, 0), 0);
    ck_assert_mem_eq(buf, pattern + WIN_OFF, WIN_LEN);
    ck_assert_int_eq(vmc_file_pread_full(r, buf, 1, 0), 0);
    ck_assert_uint_eq(buf[0], pattern[WIN_OFF]);
    ck_assert_int_eq(vmc_file_pread_full(r, buf, 1, WIN_LEN - 1), 0);
    ck_assert_uint_eq(buf[0], pattern[WIN_OFF + WIN_LEN - 1]);
    ck_assert_int_eq(vmc_file_pread_full(r, buf, 17, WIN_LEN - 17), 0);
    ck_assert_mem_eq(buf, pattern + WIN_OFF + WIN_LEN - 17, 17);
    ck_assert_int_eq(vmc_file_pread_full(r, buf, 0, WIN_LEN), 0);
    free(buf);
    ck_assert_int_eq(vmc_file_close(r), 0);
}
END_TEST

START_TEST(test_range_refuses_reads_leaving_the_window)
{
    struct vmc_file *r = window();

    refused_read(r, 2, WIN_LEN - 1);            /* one byte over the end */
    refused_read(r, 1, WIN_LEN);
    refused_read(r, 64, WIN_LEN - 63);
    refused_read(r, 8, WIN_LEN + 100000);
    refused_read(r, 8, UINT64_MAX - 3);         /* offset + count wraps */
    ck_assert_str_eq(vmc_get_error(h), "member: unexpected end of file "
                     "reading 8 bytes at offset 18446744073709551612");
    vmc_file_close(r);
}
END_TEST

START_TEST(test_range_is_read_only)
{
    struct vmc_file *r = window();
    uint8_t b = 0;

    ck_assert(!r->writable);
    ck_assert_int_eq(vmc_file_pwrite_full(r, &b, 1, 0), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "read-only"));
    ck_assert_int_eq(vmc_file_truncate(r, 10), -1);
    vmc_file_close(r);
}
END_TEST

START_TEST(test_range_must_lie_inside_the_file)
{
    ck_assert_ptr_null(vmc_file_range_open(h, "member", file, 60000, 10000,
                                           false));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "outside the file"));
    ck_assert_ptr_null(vmc_file_range_open(h, "member", file, UINT64_MAX,
                                           2, false));
    /* The whole file is a window too. */
    vmc_file_close(vmc_file_range_open(h, "member", file, 0, FILE_BYTES,
                                       false));
}
END_TEST

/* A window of a window sees only the inner one. */
START_TEST(test_range_nested)
{
    struct vmc_file *outer = window();
    struct vmc_file *inner;
    uint8_t buf[200];

    inner = vmc_file_range_open(h, "member", outer, 100, 200, true);
    ck_assert_ptr_nonnull(inner);
    ck_assert_int_eq(vmc_file_pread_full(inner, buf, 200, 0), 0);
    ck_assert_mem_eq(buf, pattern + WIN_OFF + 100, 200);
    refused_read(inner, 1, 200);
    ck_assert_int_eq(vmc_file_close(inner), 0);     /* closes OUTER */
}
END_TEST

/* ---- Extents of local files and of ranges over them --------------- */

static char sparse_path[] = "/tmp/test-file-layer-sparse.XXXXXX";

/* A SPARSE_BYTES file with 64 KiB of data at 1 MiB and at 3 MiB.
 * Returns false if the file system does not report holes.
 */
static bool
make_sparse(struct vmc_file **fp)
{
    static uint8_t data[65536];
    int fd = mkstemp(sparse_path);
    off_t d;

    ck_assert_int_ge(fd, 0);
    memset(data, 0x5a, sizeof data);
    ck_assert_int_eq(ftruncate(fd, SPARSE_BYTES), 0);
    ck_assert_int_eq(pwrite(fd, data, sizeof data, 1 << 20), sizeof data);
    ck_assert_int_eq(pwrite(fd, data, sizeof data, 3 << 20), sizeof data);
    d = lseek(fd, 0, SEEK_DATA);
    close(fd);
    *fp = vmc_file_posix_open(h, sparse_path, false);
    ck_assert_ptr_nonnull(*fp);
    return d == 1 << 20;
}

static void
expect_extent(struct vmc_file *f, uint64_t off, uint64_t len,
              enum vmc_file_extent want, uint64_t want_run)
{
    enum vmc_file_extent t;
    uint64_t run;

    ck_assert_int_eq(vmc_file_extents(f, off, len, &t, &run), 0);
    ck_assert_int_eq(t, want);
    ck_assert_uint_eq(run, want_run);
}

START_TEST(test_posix_extents)
{
    struct vmc_file *f;

    if (!make_sparse(&f)) {
        fprintf(stderr, "SKIP part: the file system reports no holes\n");
        expect_extent(f, 0, SPARSE_BYTES, VMC_FILE_DATA, SPARSE_BYTES);
        goto out;
    }
    expect_extent(f, 0, SPARSE_BYTES, VMC_FILE_HOLE, 1 << 20);
    expect_extent(f, 0, 4096, VMC_FILE_HOLE, 4096);    /* clipped */
    expect_extent(f, 1 << 20, SPARSE_BYTES - (1 << 20), VMC_FILE_DATA,
                  65536);
    expect_extent(f, (1 << 20) + 4096, 100, VMC_FILE_DATA, 100);
    expect_extent(f, (1 << 20) + 65536, SPARSE_BYTES, VMC_FILE_HOLE,
                  (2 << 20) - 65536);
    expect_extent(f, 3 << 20, SPARSE_BYTES - (3 << 20), VMC_FILE_DATA,
                  65536);
    expect_extent(f, (3 << 20) + 65536, (1 << 20) - 65536, VMC_FILE_HOLE,
                  (1 << 20) - 65536);
    expect_extent(f, SPARSE_BYTES + 4096, 512, VMC_FILE_HOLE, 512);
    /* Counted from st_blocks: the two data runs, not the holes. */
    ck_assert_uint_ge(vmc_file_allocated(f), 2 * 65536);
    ck_assert_uint_lt(vmc_file_allocated(f), 1 << 20);
out:
    vmc_file_close(f);
    unlink(sparse_path);
}
END_TEST

START_TEST(test_range_extents)
{
    struct vmc_file *f, *r;
    bool holes = make_sparse(&f);

    /* From 4 KiB before the first data run, 128 KiB long. */
    r = vmc_file_range_open(h, "member", f, (1 << 20) - 4096, 131072, true);
    ck_assert_ptr_nonnull(r);
    if (holes) {
        expect_extent(r, 0, 131072, VMC_FILE_HOLE, 4096);
        expect_extent(r, 4096, 131072 - 4096, VMC_FILE_DATA, 65536);
        expect_extent(r, 4096 + 65536, 131072 - 4096 - 65536,
                      VMC_FILE_HOLE, 131072 - 4096 - 65536);
        /* Asking for more than the window: the run ends with it. */
        expect_extent(r, 4096 + 65536, SPARSE_BYTES, VMC_FILE_HOLE,
                      131072 - 4096 - 65536);
        /* The allocated bytes of a range are its data extents. */
        ck_assert_uint_eq(vmc_file_allocated(r), 65536);
    }
    expect_extent(r, 131072, 4096, VMC_FILE_HOLE, 4096);
    vmc_file_close(r);
    unlink(sparse_path);
}
END_TEST

/* ---- Local files: messages and writing ---------------------------- */

START_TEST(test_posix_short_read_is_an_error)
{
    uint8_t buf[16];
    char want[256];

    ck_assert_int_eq(vmc_file_pread_full(file, buf, 10, FILE_BYTES - 6), -1);
    snprintf(want, sizeof want, "%s: unexpected end of file reading 4 "
             "bytes at offset %u", path, FILE_BYTES);
    ck_assert_str_eq(vmc_get_error(h), want);
    ck_assert_int_eq(vmc_file_pwrite_full(file, buf, 1, 0), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "read-only"));
}
END_TEST

START_TEST(test_posix_write_truncate_flush)
{
    char p[] = "/tmp/test-file-layer-w.XXXXXX";
    int fd = mkstemp(p);
    struct vmc_file *f;
    uint8_t buf[4096];
    uint64_t size;

    ck_assert_int_ge(fd, 0);
    f = vmc_file_posix_fdopen(h, p, fd, true);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(vmc_file_truncate(f, 1 << 20), 0);
    ck_assert_int_eq(vmc_file_get_size(f, &size), 0);
    ck_assert_uint_eq(size, 1 << 20);
    ck_assert_int_eq(vmc_file_pwrite_full(f, pattern, 4096, 8192), 0);
    ck_assert_int_eq(vmc_file_flush(f), 0);
    ck_assert_int_eq(vmc_file_pread_full(f, buf, 4096, 8192), 0);
    ck_assert_mem_eq(buf, pattern, 4096);
    ck_assert_int_eq(vmc_file_close(f), 0);
    unlink(p);
}
END_TEST

START_TEST(test_posix_open_refuses_directories)
{
    ck_assert_ptr_null(vmc_file_posix_open(h, "/tmp", false));
    ck_assert_str_eq(vmc_get_error(h), "/tmp: is a directory, not a disk "
                     "image");
    ck_assert_ptr_null(vmc_file_posix_open(h, "/nonexistent/x", false));
    ck_assert_str_eq(vmc_get_error(h), "open: /nonexistent/x: No such file "
                     "or directory");
}
END_TEST

/* ---- NBD ---------------------------------------------------------- */

START_TEST(test_nbd_uris)
{
    const char *uri = "nbd+unix:///export?socket=/nonexistent/sock";

    ck_assert(vmc_file_is_nbd_uri("nbd://localhost/x"));
    ck_assert(vmc_file_is_nbd_uri("nbds://localhost:10809/"));
    ck_assert(vmc_file_is_nbd_uri(uri));
    ck_assert(vmc_file_is_nbd_uri("nbds+unix:///?socket=/s"));
    ck_assert(!vmc_file_is_nbd_uri("nbd:localhost:10809"));
    ck_assert(!vmc_file_is_nbd_uri("http://example.com/x"));
    ck_assert(!vmc_file_is_nbd_uri("/tmp/nbd://x"));
    ck_assert_ptr_null(vmc_file_nbd_open(h, uri));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), uri));
#ifndef HAVE_LIBNBD
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h),
                                 "vmconv was built without libnbd"));
#endif
}
END_TEST

/* ---- The image API over ranges and URIs --------------------------- */

START_TEST(test_image_open_range_and_uri)
{
    struct vmc_image *img;
    uint8_t buf[WIN_LEN];
    char want[256];

    img = vmc_image_open_range(h, path, WIN_OFF, WIN_LEN, "raw", 0);
    ck_assert_ptr_nonnull(img);
    snprintf(want, sizeof want, "%s@%u", path, WIN_OFF);
    ck_assert_str_eq(vmc_image_path(img), want);
    ck_assert_uint_eq(vmc_image_size(img), WIN_LEN);
    ck_assert_int_eq(vmc_image_pread(img, buf, WIN_LEN, 0), 0);
    ck_assert_mem_eq(buf, pattern + WIN_OFF, WIN_LEN);
    vmc_image_close(img);

    ck_assert_ptr_null(vmc_image_open_range(h, path, WIN_OFF, WIN_LEN, "raw",
                                            VMC_IMAGE_RDWR));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "read-only"));
    ck_assert_ptr_null(vmc_image_open_uri(h, "http://example.com/disk",
                                          NULL, 0));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "not a URI vmconv can "
                                 "open"));
    ck_assert_ptr_null(vmc_image_open_uri(h, "nbd://localhost/x", NULL,
                                          VMC_IMAGE_RDWR));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "read-only"));
}
END_TEST

static Suite *
file_layer_suite(void)
{
    Suite *s = suite_create("file-layer");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_range_reads_inside_and_at_edges);
    tcase_add_test(tc, test_range_refuses_reads_leaving_the_window);
    tcase_add_test(tc, test_range_is_read_only);
    tcase_add_test(tc, test_range_must_lie_inside_the_file);
    tcase_add_test(tc, test_range_nested);
    tcase_add_test(tc, test_posix_extents);
    tcase_add_test(tc, test_range_extents);
    tcase_add_test(tc, test_posix_short_read_is_an_error);
    tcase_add_test(tc, test_posix_write_truncate_flush);
    tcase_add_test(tc, test_posix_open_refuses_directories);
    tcase_add_test(tc, test_nbd_uris);
    tcase_add_test(tc, test_image_open_range_and_uri);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(file_layer_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
