/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VHDX writer and reader under concurrency.  Several threads write
 * pieces of a new image in a shuffled order, so blocks are allocated
 * concurrently and out of order; the dynamic image is 4 GiB + 6 MiB
 * with 1 MiB blocks, more than one ChunkRatio (4096 blocks), so the
 * BAT has a sector bitmap entry to step over.  Then several threads
 * read the committed image back.  With QEMU_IMG set, qemu-img check
 * and qemu-img compare (against a sparse raw of the same data) judge
 * the result too.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MiB (1024ull * 1024)
#define PIECE (256u * 1024)
#define NTHREADS 8
#define MAX_PIECES 512

static struct vmc_handle *h;
static struct vmc_image *img;
static uint64_t pieces[MAX_PIECES];      /* offsets written */
static size_t npieces;
static uint64_t disk_size;
static atomic_uint next_piece;
static atomic_int errors;
static char dir[] = "/tmp/test-vhdx-write.XXXXXX";

/* The byte at OFFSET of the disk: written pieces hold a pattern. */
static uint8_t
byte_at(uint64_t off)
{
    uint64_t x = off / 8 + 0x9e3779b97f4a7c15ull;

    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    return (uint8_t) ((x >> ((off % 8) * 8)) | 1);
}

static void
fill(uint8_t *buf, uint64_t off, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        buf[i] = byte_at(off + i);
}

static bool
written(uint64_t off)
{
    size_t i;

    for (i = 0; i < npieces; i++)
        if (off >= pieces[i] && off < pieces[i] + PIECE)
            return true;
    return false;
}

static bool
block_written(uint64_t b, uint64_t bs)
{
    size_t i;

    for (i = 0; i < npieces; i++)
        if (pieces[i] / bs == b)
            return true;
    return false;
}

static size_t
piece_len(uint64_t off)
{
    return disk_size - off < PIECE ? (size_t) (disk_size - off) : PIECE;
}

static void *
writer(void *arg)
{
    uint8_t *buf = malloc(PIECE);
    unsigned i;

    while (buf && (i = atomic_fetch_add(&next_piece, 1)) < npieces) {
        size_t n = piece_len(pieces[i]);

        fill(buf, pieces[i], n);
        if (vmc_image_pwrite(img, buf, n, pieces[i]) == -1)
            atomic_fetch_add(&errors, 1);
    }
    free(buf);
    return NULL;
}

static void *
reader(void *arg)
{
    unsigned seed = (unsigned) (uintptr_t) arg;
    uint8_t *buf = malloc(3 * PIECE);
    int k;

    for (k = 0; k < 60 && buf; k++) {
        /* Half the reads near a written piece, half anywhere. */
        uint64_t off = k % 2
            ? pieces[rand_r(&seed) % npieces] + rand_r(&seed) % PIECE
              - PIECE / 2
            : ((uint64_t) rand_r(&seed) << 20 | (uint64_t) rand_r(&seed))
              % disk_size;
        size_t n = 1 + (size_t) rand_r(&seed) % (3 * PIECE), i;

        if (off >= disk_size)
            off = disk_size - 1;
        if (n > disk_size - off)
            n = disk_size - off;
        if (vmc_image_pread(img, buf, n, off) == -1) {
            atomic_fetch_add(&errors, 1);
            continue;
        }
        /* Pieces are PIECE aligned: one lookup per piece. */
        for (i = 0; i < n; ) {
            uint64_t p = (off + i) / PIECE * PIECE;
            size_t end = p + PIECE - off < n ? (size_t) (p + PIECE - off) : n;
            bool w = written(p);

            for (; i < end; i++)
                if (buf[i] != (w ? byte_at(off + i) : 0))
                    break;
            if (i < end) {
                atomic_fetch_add(&errors, 1);
                break;
            }
        }
    }
    free(buf);
    return NULL;
}

static void
shuffle(unsigned seed)
{
    size_t i;

    for (i = npieces; i > 1; i--) {
        size_t j = (size_t) rand_r(&seed) % i;
        uint64_t t = pieces[i - 1];

        pieces[i - 1] = pieces[j];
        pieces[j] = t;
    }
}

/* Add the pieces of block B (of BS bytes) that PICK selects. */
static void
add_block(uint64_t b, uint64_t bs, unsigned pick)
{
    uint64_t off;

    for (off = b * bs; off < (b + 1) * bs && off < disk_size; off += PIECE)
        if (((off / PIECE) % 4) & pick || pick == 0xf)
            pieces[npieces++] = off;
}

static void
run_threads(void *(*fn)(void *))
{
    pthread_t t[NTHREADS];
    uintptr_t i;

    for (i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, fn, (void *) (i + 1)), 0);
    for (i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
}

/* Write a sparse raw file with the same contents, for qemu-img. */
static void
write_raw(const char *raw)
{
    int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint8_t *buf = malloc(PIECE);
    size_t i;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t) disk_size), 0);
    for (i = 0; i < npieces; i++) {
        size_t n = piece_len(pieces[i]);

        fill(buf, pieces[i], n);
        ck_assert_int_eq(pwrite(fd, buf, n, (off_t) pieces[i]), (ssize_t) n);
    }
    free(buf);
    close(fd);
}

static void
qemu_judge(const char *out)
{
    const char *qemu = getenv("QEMU_IMG");
    char raw[256], cmd[1024];

    if (qemu == NULL || *qemu == '\0' || strcmp(qemu, "no") == 0 ||
        access(qemu, X_OK) != 0)
        return;
    snprintf(raw, sizeof raw, "%s/in.raw", dir);
    write_raw(raw);
    snprintf(cmd, sizeof cmd, "'%s' check -q -f vhdx '%s'", qemu, out);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    if (disk_size <= 256 * MiB) {
        snprintf(cmd, sizeof cmd, "'%s' compare -q -f raw -F vhdx '%s' '%s'",
                 qemu, raw, out);
        ck_assert_msg(system(cmd) == 0, "%s", cmd);
    } else {
        /* qemu-img compare would read all 4 GiB through qemu's vhdx
         * driver (it has no block status): convert the first and the
         * last 16 MiB, where the blocks are, through a raw window.
         */
        uint64_t tail = disk_size - 16 * MiB;
        int k;

        for (k = 0; k < 2; k++) {
            uint64_t start = k ? tail : 0;

            snprintf(cmd, sizeof cmd, "cd '%s' && '%s' convert -O raw "
                     "--image-opts driver=raw,offset=%" PRIu64 ",size=%llu,"
                     "file.driver=vhdx,file.file.driver=file,"
                     "file.file.filename='%s' seg.raw && "
                     "cmp -n %llu -i 0:%" PRIu64 " seg.raw '%s' && rm seg.raw",
                     dir, qemu, start, 16 * MiB, out, 16 * MiB, start, raw);
            ck_assert_msg(system(cmd) == 0, "%s", cmd);
        }
    }
    unlink(raw);
}

static void
write_and_read(const char *opts, uint64_t size, uint64_t bs,
               const uint64_t *blocks, size_t nblocks)
{
    char out[256];
    size_t i;
    uint64_t off;
    enum vmc_extent_type t;
    uint64_t run;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out.vhdx", dir);
    disk_size = size;
    npieces = 0;
    for (i = 0; i < nblocks; i++)
        add_block(blocks[i], bs, i % 3 == 0 ? 0xf : (unsigned) (i % 3));
    shuffle(7);
    h = vmc_new();
    img = vmc_image_create(h, out, "vhdx", size, opts);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    atomic_store(&next_piece, 0);
    atomic_store(&errors, 0);
    run_threads(writer);
    ck_assert_int_eq(atomic_load(&errors), 0);
    ck_assert_msg(vmc_image_commit(img) == 0, "%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_image_close(img), 0);

    img = vmc_image_open(h, out, "vhdx", 0);
    ck_assert_msg(img != NULL, "%s", vmc_get_error(h));
    ck_assert_uint_eq(vmc_image_size(img), size);
    run_threads(reader);
    ck_assert_int_eq(atomic_load(&errors), 0);
    /* Blocks written are data, the others are not (fixed: all data). */
    for (off = 0; off < size; off += run) {
        uint64_t b;

        ck_assert_int_eq(vmc_image_block_status(img, off, size - off, &t,
                                                &run), 0);
        for (b = off / bs; b * bs < off + run; b++)
            ck_assert_msg((t == VMC_EXTENT_DATA) ==
                          (block_written(b, bs) || strstr(opts, "fixed")),
                          "block %" PRIu64 " has type %d", b, (int) t);
    }
    vmc_image_close(img);
    vmc_free(h);
    qemu_judge(out);
    unlink(out);
    rmdir(dir);
}

START_TEST(test_dynamic_past_one_chunk)
{
    /* ChunkRatio at 512-byte sectors and 1 MiB blocks is 4096: blocks
     * 4095, 4096 and the last (4101, short) straddle the bitmap entry.
     */
    static const uint64_t blocks[] = { 0, 1, 7, 4094, 4095, 4096, 4097,
                                       4100, 4101 };

    write_and_read("block_size=1M", 4096 * MiB + 5 * MiB + 512, MiB,
                   blocks, sizeof blocks / sizeof blocks[0]);
}
END_TEST

START_TEST(test_dynamic_zero_state)
{
    static const uint64_t blocks[] = { 0, 2, 3, 9 };

    write_and_read("block_size=8M,block_state_zero=on", 80 * MiB, 8 * MiB,
                   blocks, sizeof blocks / sizeof blocks[0]);
}
END_TEST

START_TEST(test_fixed)
{
    static const uint64_t blocks[] = { 0, 5, 6, 31, 63 };

    write_and_read("subformat=fixed,block_size=1M", 64 * MiB - 4096, MiB,
                   blocks, sizeof blocks / sizeof blocks[0]);
}
END_TEST

static Suite *
write_suite(void)
{
    Suite *s = suite_create("vhdx-write");
    TCase *tc = tcase_create("write");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_dynamic_past_one_chunk);
    tcase_add_test(tc, test_dynamic_zero_state);
    tcase_add_test(tc, test_fixed);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(write_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
