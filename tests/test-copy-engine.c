/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The copy engine's contract with target drivers, checked with a
 * recording driver: every byte written at most once, writes aligned to
 * the target's cluster size, no all-zero pieces written, writes in
 * offset order for ordered targets, encode run on several threads, and
 * for ordered encoded targets, the reorder buffer: a slow item does not
 * stop the other workers, the chunks waiting stay bounded, and every
 * chunk is stored or freed whatever happens.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SIZE (40u * 1024 * 1024 + 4096 + 512)

struct rec {
    pthread_mutex_t lock;
    uint8_t *data;               /* what was written */
    uint8_t *written;            /* one flag per byte */
    uint64_t last_end;           /* ordered: end of the last write */
    bool out_of_order;
    bool rewrite;
    bool misaligned;
    bool zero_piece;
    int encode_threads_seen;
    pthread_t encode_threads[8];
    /* Ordered encoded targets. */
    bool slow_first;             /* the encode at offset 0 takes 300 ms */
    uint64_t fail_from;          /* write_encoded fails from here (0: never) */
    long live;                   /* chunks encoded, not yet stored or freed */
    long max_live;
    long encoded;
    long encoded_before_store;   /* -1 until the first store */
};

static struct rec rec;

static void
rec_store(struct vmc_image *img, const void *buf, size_t n, uint64_t off)
{
    uint64_t i;

    pthread_mutex_lock(&rec.lock);
    if (img->ops->ordered_writes || img->ordered_writes) {
        if (off < rec.last_end)
            rec.out_of_order = true;
        rec.last_end = off + n;
    }
    if (off % img->cluster_size != 0 ||
        ((off + n) % img->cluster_size != 0 && off + n != img->size))
        rec.misaligned = true;
    if (vmc_is_zero(buf, n))
        rec.zero_piece = true;
    for (i = 0; i < n; i++) {
        if (rec.written[off + i])
            rec.rewrite = true;
        rec.written[off + i] = 1;
    }
    memcpy(rec.data + off, buf, n);
    pthread_mutex_unlock(&rec.lock);
}

static int
rec_pwrite(struct vmc_image *img, const void *buf, size_t n, uint64_t off)
{
    rec_store(img, buf, n, off);
    return 0;
}

struct chunk {
    uint64_t off;
    size_t n;
    uint8_t *copy;
};

static int
rec_encode(struct vmc_image *img, const void *buf, size_t n, uint64_t off,
           void **out)
{
    struct chunk *c = malloc(sizeof *c);
    pthread_t self = pthread_self();
    int i;

    c->off = off;
    c->n = n;
    c->copy = malloc(n);
    memcpy(c->copy, buf, n);
    if (rec.slow_first && off == 0)
        usleep(300 * 1000);
    pthread_mutex_lock(&rec.lock);
    rec.encoded++;
    if (++rec.live > rec.max_live)
        rec.max_live = rec.live;
    for (i = 0; i < rec.encode_threads_seen; i++)
        if (pthread_equal(rec.encode_threads[i], self))
            break;
    if (i == rec.encode_threads_seen && i < 8)
        rec.encode_threads[rec.encode_threads_seen++] = self;
    pthread_mutex_unlock(&rec.lock);
    usleep(200);                 /* let the other workers run */
    *out = c;
    return 0;
}

static void
rec_free_encoded(void *p)
{
    struct chunk *c = p;

    pthread_mutex_lock(&rec.lock);
    rec.live--;
    pthread_mutex_unlock(&rec.lock);
    free(c->copy);
    free(c);
}

static int
rec_write_encoded(struct vmc_image *img, void *p)
{
    struct chunk *c = p;

    pthread_mutex_lock(&rec.lock);
    if (rec.encoded_before_store == -1)
        rec.encoded_before_store = rec.encoded;
    pthread_mutex_unlock(&rec.lock);
    if (rec.fail_from && c->off >= rec.fail_from) {
        vmc_error(img->h, "recorder: disk full at offset %lu",
                  (unsigned long) c->off);
        rec_free_encoded(c);
        return -1;
    }
    rec_store(img, c->copy, c->n, c->off);
    rec_free_encoded(c);
    return 0;
}

static struct vmc_format_ops rec_ops = {
    .name = "recorder",
    .pwrite = rec_pwrite,
};

static struct vmc_handle *h;
static struct vmc_image *src;
static uint8_t *pattern;

/* A raw source with data at unaligned places, written zeros and holes. */
static void
setup(void)
{
    char path[] = "/tmp/vmconv-copy-XXXXXX";
    int fd = mkstemp(path);
    static const struct { uint64_t off, len; } runs[] = {
        { 0, 100 }, { 65536 - 7, 20 }, { 1 << 20, 3 << 20 },
        { (7 << 20) + 4095, 70000 }, { 20 << 20, 512 },
        { SIZE - 1, 1 },
    };
    size_t i, j;

    h = vmc_new();
    pattern = calloc(1, SIZE);
    for (i = 0; i < sizeof runs / sizeof runs[0]; i++)
        for (j = 0; j < runs[i].len; j++)
            pattern[runs[i].off + j] = (uint8_t) (j * 7 + i + 1) | 1;
    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(ftruncate(fd, SIZE), 0);
    for (i = 0; i < sizeof runs / sizeof runs[0]; i++)
        ck_assert_int_eq(pwrite(fd, pattern + runs[i].off, runs[i].len,
                                (off_t) runs[i].off), (ssize_t) runs[i].len);
    /* Written zeros: allocated but all zero. */
    {
        uint8_t *z = calloc(1, 1 << 20);

        ck_assert_int_eq(pwrite(fd, z, 1 << 20, 30 << 20), 1 << 20);
        free(z);
    }
    close(fd);
    src = vmc_image_open(h, path, "raw", 0);
    ck_assert_ptr_nonnull(src);
    unlink(path);

    memset(&rec, 0, sizeof rec);
    rec.encoded_before_store = -1;
    pthread_mutex_init(&rec.lock, NULL);
    rec.data = calloc(1, SIZE);
    rec.written = calloc(1, SIZE);
}

static void
teardown(void)
{
    vmc_image_close(src);
    vmc_free(h);
    free(pattern);
    free(rec.data);
    free(rec.written);
}

/* A target image using the recorder. */
static struct vmc_image *
rec_target(uint32_t cluster, bool ordered, bool encode)
{
    struct vmc_image *t = calloc(1, sizeof *t);

    rec_ops.ordered_writes = ordered;
    rec_ops.encode = encode ? rec_encode : NULL;
    rec_ops.write_encoded = encode ? rec_write_encoded : NULL;
    rec_ops.free_encoded = encode ? rec_free_encoded : NULL;
    t->h = h;
    t->ops = &rec_ops;
    t->path = (char *) "recorder";
    t->writable = true;
    t->size = SIZE;
    t->cluster_size = cluster;
    return t;
}

static void
check_result(void)
{
    ck_assert(!rec.rewrite);
    ck_assert(!rec.misaligned);
    ck_assert(!rec.zero_piece);
    ck_assert(!rec.out_of_order);
    ck_assert(memcmp(rec.data, pattern, SIZE) == 0);
}

START_TEST(test_copy_plain_64k)
{
    struct vmc_image *t = rec_target(65536, false, false);

    ck_assert_int_eq(vmc_image_copy(src, t, NULL), 0);
    check_result();
    free(t);
}
END_TEST

START_TEST(test_copy_big_clusters)
{
    struct vmc_image *t = rec_target(2 << 20, false, false);
    struct vmc_copy_options o = { .threads = 3, .request_size = 1 << 20 };

    /* Clusters larger than the request size: requests grow to a whole
     * cluster, so writes stay whole clusters.
     */
    ck_assert_int_eq(vmc_image_copy(src, t, &o), 0);
    check_result();
    free(t);
}
END_TEST

START_TEST(test_copy_big_blocks_partial_writes)
{
    struct vmc_image *t = rec_target(32 << 20, false, false);
    struct vmc_copy_options o = { .threads = 3, .request_size = 1 << 20 };

    /* Block formats that take partial writes keep small requests
     * (bounded memory); writes are request-aligned and never overlap.
     */
    rec_ops.partial_cluster_writes = true;
    ck_assert_int_eq(vmc_image_copy(src, t, &o), 0);
    rec_ops.partial_cluster_writes = false;
    ck_assert(!rec.rewrite);
    ck_assert(!rec.zero_piece);
    ck_assert(memcmp(rec.data, pattern, SIZE) == 0);
    free(t);
}
END_TEST

START_TEST(test_copy_small_clusters)
{
    struct vmc_image *t = rec_target(512, false, false);

    ck_assert_int_eq(vmc_image_copy(src, t, NULL), 0);
    check_result();
    free(t);
}
END_TEST

START_TEST(test_copy_ordered_encoded)
{
    struct vmc_image *t = rec_target(65536, true, true);
    struct vmc_copy_options o = { .threads = 4, .request_size = 1 << 16 };

    ck_assert_int_eq(vmc_image_copy(src, t, &o), 0);
    check_result();
    /* Encoding (compression) ran on more than one thread. */
    ck_assert_int_gt(rec.encode_threads_seen, 1);
    free(t);
}
END_TEST

START_TEST(test_copy_ordered_encoded_slow_item)
{
    struct vmc_image *t = rec_target(65536, true, true);
    struct vmc_copy_options o = { .threads = 4, .request_size = 1 << 16 };

    /* The first item takes 300 ms to encode.  Without the reorder
     * buffer each other worker encodes one item and waits for it: 4
     * encoded before the first store.  With it they go on, parking
     * their items, until the buffer (2 x threads items) is full.
     */
    rec.slow_first = true;
    ck_assert_int_eq(vmc_image_copy(src, t, &o), 0);
    check_result();
    ck_assert_int_gt(rec.encoded_before_store, o.threads);
    /* Bounded: 2 x threads parked, plus one item per worker. */
    ck_assert_int_le(rec.max_live, 3 * o.threads);
    ck_assert_int_eq(rec.live, 0);
    free(t);
}
END_TEST

START_TEST(test_copy_ordered_encoded_store_error)
{
    struct vmc_image *t = rec_target(65536, true, true);
    struct vmc_copy_options o = { .threads = 4, .request_size = 1 << 16 };

    /* A store fails while items wait in the reorder buffer: the copy
     * fails with that error, the writes before it are in order, and
     * every parked chunk is freed.
     */
    rec.slow_first = true;
    rec.fail_from = 2 << 20;
    ck_assert_int_eq(vmc_image_copy(src, t, &o), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "disk full at offset"));
    ck_assert(!rec.out_of_order);
    ck_assert(!rec.rewrite);
    ck_assert_int_eq(rec.live, 0);
    free(t);
}
END_TEST

static void *
cancel_later(void *arg)
{
    (void) arg;
    usleep(100 * 1000);          /* while the first item still encodes */
    vmc_cancel(h);
    return NULL;
}

START_TEST(test_copy_ordered_encoded_cancelled)
{
    struct vmc_image *t = rec_target(65536, true, true);
    struct vmc_copy_options o = { .threads = 4, .request_size = 1 << 16 };
    pthread_t tid;

    /* Cancelled with items parked: every chunk is freed. */
    rec.slow_first = true;
    ck_assert_int_eq(pthread_create(&tid, NULL, cancel_later, NULL), 0);
    ck_assert_int_eq(vmc_image_copy(src, t, &o), -1);
    pthread_join(tid, NULL);
    ck_assert_str_eq(vmc_get_error(h), "cancelled");
    ck_assert_int_eq(rec.live, 0);
    ck_assert_int_gt(rec.encoded, 1);
    free(t);
}
END_TEST

START_TEST(test_copy_ordered_per_image)
{
    struct vmc_image *t = rec_target(65536, false, false);
    struct vmc_copy_options o = { .threads = 4, .request_size = 1 << 16 };

    /* One subformat of a format may need order (VMDK streamOptimized). */
    t->ordered_writes = true;
    ck_assert_int_eq(vmc_image_copy(src, t, &o), 0);
    check_result();
    ck_assert(rec.last_end == SIZE);
    free(t);
}
END_TEST

START_TEST(test_copy_unordered_encoded)
{
    struct vmc_image *t = rec_target(65536, false, true);
    struct vmc_copy_options o = { .threads = 4, .request_size = 1 << 16 };

    ck_assert_int_eq(vmc_image_copy(src, t, &o), 0);
    check_result();
    ck_assert_int_gt(rec.encode_threads_seen, 1);
    free(t);
}
END_TEST

START_TEST(test_copy_refuses_smaller_target)
{
    struct vmc_image *t = rec_target(65536, false, false);

    t->size = SIZE - 512;
    ck_assert_int_eq(vmc_image_copy(src, t, NULL), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "target is smaller"));
    free(t);
}
END_TEST

START_TEST(test_copy_cancelled)
{
    struct vmc_image *t = rec_target(65536, false, false);

    vmc_cancel(h);
    ck_assert_int_eq(vmc_image_copy(src, t, NULL), -1);
    ck_assert_str_eq(vmc_get_error(h), "cancelled");
    free(t);
}
END_TEST

static int
fail_pwrite(struct vmc_image *img, const void *buf, size_t n, uint64_t off)
{
    vmc_error(img->h, "recorder: disk full at offset %lu", (unsigned long) off);
    return -1;
}

START_TEST(test_copy_write_error_stops_ordered_workers)
{
    struct vmc_image *t = rec_target(65536, true, false);
    struct vmc_copy_options o = { .threads = 4, .request_size = 1 << 16 };

    /* An error in one worker must not leave the others waiting for a
     * turn that never comes.
     */
    rec_ops.pwrite = fail_pwrite;
    ck_assert_int_eq(vmc_image_copy(src, t, &o), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "disk full"));
    rec_ops.pwrite = rec_pwrite;
    free(t);
}
END_TEST

START_TEST(test_compare_finds_first_difference)
{
    char path[] = "/tmp/vmconv-cmp-XXXXXX";
    int fd = mkstemp(path);
    struct vmc_image *b;
    uint64_t diff = 0;

    ck_assert_int_eq(ftruncate(fd, SIZE), 0);
    ck_assert_int_eq(pwrite(fd, pattern, SIZE, 0), SIZE);
    b = vmc_image_open(h, path, "raw", 0);
    ck_assert_int_eq(vmc_image_compare(src, b, &diff), 0);
    vmc_image_close(b);
    ck_assert_int_eq(pwrite(fd, "x", 1, (7 << 20) + 5000), 1);
    b = vmc_image_open(h, path, "raw", 0);
    ck_assert_int_eq(vmc_image_compare(src, b, &diff), 1);
    ck_assert(diff == (7 << 20) + 5000);
    vmc_image_close(b);
    close(fd);
    unlink(path);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("copy-engine");
    TCase *tc = tcase_create("engine");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_copy_plain_64k);
    tcase_add_test(tc, test_copy_big_clusters);
    tcase_add_test(tc, test_copy_big_blocks_partial_writes);
    tcase_add_test(tc, test_copy_small_clusters);
    tcase_add_test(tc, test_copy_ordered_encoded);
    tcase_add_test(tc, test_copy_ordered_encoded_slow_item);
    tcase_add_test(tc, test_copy_ordered_encoded_store_error);
    tcase_add_test(tc, test_copy_ordered_encoded_cancelled);
    tcase_add_test(tc, test_copy_ordered_per_image);
    tcase_add_test(tc, test_copy_unordered_encoded);
    tcase_add_test(tc, test_copy_refuses_smaller_target);
    tcase_add_test(tc, test_copy_cancelled);
    tcase_add_test(tc, test_copy_write_error_stops_ordered_workers);
    tcase_add_test(tc, test_compare_finds_first_difference);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
