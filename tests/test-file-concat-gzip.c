/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The concatenation and gzip byte sources (core/file-concat.c,
 * core/file-gzip.c) and the source names that open them
 * ("concat:...", "gzip:...", vmc_image_open_name): reads inside parts,
 * across every boundary, at the end and past it; parts that are empty
 * or leave their file; a part whose file shrank; gzip data read at
 * random offsets with a small index that has to be thinned, across
 * concatenated members; corrupt, truncated and non-gzip data refused at
 * open naming the file.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include <vmconv/convert.h>

#include "internal.h"
#include "file.h"

#define FILE_BYTES 65536u

static struct vmc_handle *h;
static char path[64];
static uint8_t pattern[FILE_BYTES];
static struct vmc_file *file;

static void
setup(void)
{
    size_t i;
    int fd;

    h = vmc_new();
    strcpy(path, "/tmp/test-file-concat.XXXXXX");  /* each test (CK_FORK=no) */
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    for (i = 0; i < FILE_BYTES; i++)
        pattern[i] = (uint8_t) (i * 13 + 5);
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

/* ---- Concatenation ------------------------------------------------ */

/* Three parts of FILE: [100, 1100), [5000, 5003), all of it. */
static const struct { uint64_t off, len; } three[] = {
    { 100, 1000 }, { 5000, 3 }, { 0, FILE_BYTES },
};
#define THREE_BYTES (1000u + 3u + FILE_BYTES)

static struct vmc_file *
concat_three(uint8_t *expect)
{
    struct vmc_file_part parts[3];
    struct vmc_file *c;
    size_t i, at = 0;

    for (i = 0; i < 3; i++) {
        parts[i].file = file;
        parts[i].offset = three[i].off;
        parts[i].length = three[i].len;
        if (expect)
            memcpy(expect + at, pattern + three[i].off, three[i].len);
        at += three[i].len;
    }
    c = vmc_file_concat_open(h, "chunks", parts, 3, false);
    ck_assert_ptr_nonnull(c);
    return c;
}

START_TEST(test_concat_reads)
{
    static uint8_t expect[THREE_BYTES], buf[THREE_BYTES];
    struct vmc_file *c = concat_three(expect);
    const uint64_t bounds[] = { 1000, 1003 };
    uint64_t size;
    size_t i;

    ck_assert_int_eq(vmc_file_get_size(c, &size), 0);
    ck_assert_uint_eq(size, THREE_BYTES);
    ck_assert(!c->writable);
    ck_assert_int_eq(vmc_file_pread_full(c, buf, THREE_BYTES, 0), 0);
    ck_assert_mem_eq(buf, expect, THREE_BYTES);
    /* Across each boundary, and a read spanning a whole small part. */
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(vmc_file_pread_full(c, buf, 4, bounds[i] - 2), 0);
        ck_assert_mem_eq(buf, expect + bounds[i] - 2, 4);
        ck_assert_int_eq(vmc_file_pread_full(c, buf, 1, bounds[i]), 0);
        ck_assert_uint_eq(buf[0], expect[bounds[i]]);
        ck_assert_int_eq(vmc_file_pread_full(c, buf, 1, bounds[i] - 1), 0);
        ck_assert_uint_eq(buf[0], expect[bounds[i] - 1]);
    }
    ck_assert_int_eq(vmc_file_pread_full(c, buf, 10, 995), 0);
    ck_assert_mem_eq(buf, expect + 995, 10);
    /* The last byte; then past the end. */
    ck_assert_int_eq(vmc_file_pread_full(c, buf, 1, THREE_BYTES - 1), 0);
    ck_assert_uint_eq(buf[0], expect[THREE_BYTES - 1]);
    ck_assert_int_eq(vmc_file_pread_full(c, buf, 0, THREE_BYTES), 0);
    memset(buf, 0xee, 8);
    ck_assert_int_eq(vmc_file_pread_full(c, buf, 2, THREE_BYTES - 1), -1);
    ck_assert_str_eq(vmc_get_error(h), "chunks: unexpected end of file "
                     "reading 2 bytes at offset 66538");
    ck_assert_uint_eq(buf[0], 0xee);
    ck_assert_int_eq(vmc_file_pread_full(c, buf, 8, UINT64_MAX - 3), -1);
    ck_assert_int_eq(vmc_file_pwrite_full(c, buf, 1, 0), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "read-only"));
    ck_assert_int_eq(vmc_file_close(c), 0);
}
END_TEST

START_TEST(test_concat_refuses_bad_parts)
{
    struct vmc_file_part p[2] = {
        { file, 0, 10 }, { file, 60000, 10000 },
    };

    ck_assert_ptr_null(vmc_file_concat_open(h, "chunks", p, 2, false));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "outside the file"));
    p[1].offset = 0;
    p[1].length = 0;
    ck_assert_ptr_null(vmc_file_concat_open(h, "chunks", p, 2, false));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "part 1"));
    ck_assert_ptr_null(vmc_file_concat_open(h, "chunks", p, 0, false));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "not 0"));
}
END_TEST

/* A part whose file shrank after the open: the read fails naming it. */
START_TEST(test_concat_part_read_error)
{
    char p2[] = "/tmp/test-file-concat-2.XXXXXX";
    int fd = mkstemp(p2);
    struct vmc_file_part parts[2];
    struct vmc_file *c;
    uint8_t buf[100];

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, pattern, 4096, 0), 4096);
    parts[0] = (struct vmc_file_part) { file, 0, 100 };
    parts[1].file = vmc_file_posix_open(h, p2, false);
    ck_assert_ptr_nonnull(parts[1].file);
    parts[1].offset = 0;
    parts[1].length = 4096;
    c = vmc_file_concat_open(h, "chunks", parts, 2, true);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(ftruncate(fd, 1000), 0);
    close(fd);
    ck_assert_int_eq(vmc_file_pread_full(c, buf, 100, 50), 0);
    ck_assert_mem_eq(buf, pattern + 50, 50);
    ck_assert_mem_eq(buf + 50, pattern, 50);
    ck_assert_int_eq(vmc_file_pread_full(c, buf, 100, 2000), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), p2));
    /* Closes FILE too (OWN): the fixture must not. */
    ck_assert_int_eq(vmc_file_close(c), 0);
    file = vmc_file_posix_open(h, path, false);
    unlink(p2);
}
END_TEST

START_TEST(test_concat_extents)
{
    char sp[] = "/tmp/test-file-concat-sparse.XXXXXX";
    static uint8_t data[65536];
    int fd = mkstemp(sp);
    struct vmc_file_part parts[2];
    struct vmc_file *sf, *c;
    enum vmc_file_extent t;
    uint64_t run;
    bool holes;

    ck_assert_int_ge(fd, 0);
    memset(data, 0x5a, sizeof data);
    ck_assert_int_eq(ftruncate(fd, 4 << 20), 0);
    ck_assert_int_eq(pwrite(fd, data, sizeof data, 1 << 20), sizeof data);
    holes = lseek(fd, 0, SEEK_DATA) == 1 << 20;
    close(fd);
    sf = vmc_file_posix_open(h, sp, false);
    ck_assert_ptr_nonnull(sf);
    /* [1 MiB - 4096, 1 MiB + 4096) of the sparse file, then FILE. */
    parts[0] = (struct vmc_file_part) { sf, (1 << 20) - 4096, 8192 };
    parts[1] = (struct vmc_file_part) { file, 0, FILE_BYTES };
    c = vmc_file_concat_open(h, "chunks", parts, 2, false);
    ck_assert_ptr_nonnull(c);
    if (holes) {
        ck_assert_int_eq(vmc_file_extents(c, 0, 100000, &t, &run), 0);
        ck_assert_int_eq(t, VMC_FILE_HOLE);
        ck_assert_uint_eq(run, 4096);
    }
    /* Cut at the end of the part. */
    ck_assert_int_eq(vmc_file_extents(c, 4096, 100000, &t, &run), 0);
    ck_assert_int_eq(t, VMC_FILE_DATA);
    ck_assert_uint_eq(run, 4096);
    ck_assert_int_eq(vmc_file_extents(c, 8192, 10, &t, &run), 0);
    ck_assert_int_eq(t, VMC_FILE_DATA);
    ck_assert_uint_le(run, 10);
    /* Past the end: a hole. */
    ck_assert_int_eq(vmc_file_extents(c, 8192 + FILE_BYTES, 10, &t, &run),
                     0);
    ck_assert_int_eq(t, VMC_FILE_HOLE);
    vmc_file_close(c);
    vmc_file_close(sf);
    unlink(sp);
}
END_TEST

/* ---- Names -------------------------------------------------------- */

START_TEST(test_concat_names)
{
    struct vmc_name_part *parts;
    size_t n;

    ck_assert_int_eq(vmc_concat_name_parse(h, "/x/y", &parts, &n), 0);
    ck_assert_int_eq(vmc_concat_name_parse(h, "range:1:2:/x", &parts, &n),
                     0);
    ck_assert_int_eq(vmc_concat_name_parse(h, "concat:2:0:10:4:/a:b:"
                                           "7:3:4:/c:d", &parts, &n), 1);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(parts[0].path, "/a:b");
    ck_assert_uint_eq(parts[0].offset, 0);
    ck_assert_uint_eq(parts[0].length, 10);
    ck_assert_str_eq(parts[1].path, "/c:d");
    ck_assert_uint_eq(parts[1].offset, 7);
    ck_assert_uint_eq(parts[1].length, 3);
    vmc_concat_parts_free(parts, n);

    /* Malformed: each is refused with the syntax. */
    {
        static const char *const bad[] = {
            "concat:", "concat:0", "concat:1", "concat:1:0:10:4:/a:b:",
            "concat:2:0:10:5:/a:b", "concat:1:0:10:6:/a:b",
            "concat:1:0:10:0:", "concat:1:x:10:1:/", "concat:1:0:-1:1:/",
            "concat:1:0:10:99999999999999999999:/", "concat:1:0:10:3:/a:b",
            "concat:65537:0:1:1:/",
        };

        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            ck_assert_int_eq(vmc_concat_name_parse(h, bad[i], &parts, &n),
                             -1);
            ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "not a "
                                         "concatenation source"));
        }
    }
    ck_assert_ptr_null(vmc_gzip_name_inner("/x.gz"));
    ck_assert_str_eq(vmc_gzip_name_inner("gzip:range:1:2:/x"),
                     "range:1:2:/x");
}
END_TEST

/* vmc_image_open_name over a file whose name holds ':'. */
START_TEST(test_image_open_name_concat)
{
    char dir[] = "/tmp/test-file-concat-dir.XXXXXX";
    char p[256], name[1024];
    struct vmc_image *img;
    uint8_t buf[1500];
    FILE *fp;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/a:1:2:b", dir);
    fp = fopen(p, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(pattern, 1, 4096, fp), 4096);
    fclose(fp);
    snprintf(name, sizeof name, "concat:2:512:1000:%zu:%s:0:500:%zu:%s",
             strlen(p), p, strlen(path), path);
    img = vmc_image_open_name(h, name, "raw", 0);
    ck_assert_ptr_nonnull(img);
    ck_assert_uint_eq(vmc_image_size(img), 1500);
    ck_assert_int_eq(vmc_image_pread(img, buf, 1500, 0), 0);
    ck_assert_mem_eq(buf, pattern + 512, 1000);
    ck_assert_mem_eq(buf + 1000, pattern, 500);
    vmc_image_close(img);
    ck_assert(vmc_source_name_holds(h, name, p));
    ck_assert(vmc_source_name_holds(h, name, path));
    ck_assert(!vmc_source_name_holds(h, name, dir));
    ck_assert_ptr_null(vmc_image_open_name(h, name, "raw", VMC_IMAGE_RDWR));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "read-only"));
    /* A part outside its file. */
    snprintf(name, sizeof name, "concat:1:4000:1000:%zu:%s", strlen(p), p);
    ck_assert_ptr_null(vmc_image_open_name(h, name, "raw", 0));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "outside the file"));
    /* A missing part. */
    snprintf(name, sizeof name, "concat:1:0:1:%zu:%s.x", strlen(p) + 2, p);
    ck_assert_ptr_null(vmc_image_open_name(h, name, "raw", 0));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), ".x"));
    unlink(p);
    rmdir(dir);
}
END_TEST

/* ---- gzip --------------------------------------------------------- */

#define GZ_DATA (3u << 20)

static uint8_t *gz_plain;               /* GZ_DATA bytes */

/* Semi-compressible bytes: runs of a pseudo-random byte. */
static void
make_plain(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed;
    size_t i = 0;

    while (i < n) {
        size_t run;

        x = x * 1103515245u + 12345u;
        run = 1 + (x >> 16) % 40;
        for (; run > 0 && i < n; run--, i++)
            p[i] = (uint8_t) (x >> 8) ^ (uint8_t) (i & 3);
    }
}

/* gzip N bytes of P; returns the compressed size, *OUT malloc'ed. */
static size_t
gz_compress(const uint8_t *p, size_t n, uint8_t **out)
{
    z_stream z;
    size_t cap = n + n / 10 + 1024;

    memset(&z, 0, sizeof z);
    *out = malloc(cap);
    ck_assert_ptr_nonnull(*out);
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *) p;
    z.avail_in = (uInt) n;
    z.next_out = *out;
    z.avail_out = (uInt) cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    deflateEnd(&z);
    return cap - z.avail_out;
}

/* Write BUF to a new temporary file; returns it open, *P its name. */
static struct vmc_file *
temp_file(const void *buf, size_t n, char *p)
{
    int fd = mkstemp(p);
    struct vmc_file *f;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, buf, n), (ssize_t) n);
    close(fd);
    f = vmc_file_posix_open(h, p, false);
    ck_assert_ptr_nonnull(f);
    return f;
}

/* Reads of G (SIZE bytes, EXPECT) at pseudo-random offsets, forwards,
 * backwards and across the end.
 */
static void
check_reads(struct vmc_file *g, const uint8_t *expect, uint64_t size)
{
    static uint8_t buf[200000];
    uint32_t x = 7;
    uint64_t got, off;
    int i;

    ck_assert_int_eq(vmc_file_get_size(g, &got), 0);
    ck_assert_uint_eq(got, size);
    for (i = 0; i < 300; i++) {
        size_t len;

        x = x * 1103515245u + 12345u;
        off = ((uint64_t) x * 2654435761u) % size;
        x = x * 1103515245u + 12345u;
        len = 1 + x % sizeof buf;
        if (len > size - off)
            len = (size_t) (size - off);
        ck_assert_int_eq(vmc_file_pread_full(g, buf, len, off), 0);
        ck_assert_mem_eq(buf, expect + off, len);
    }
    /* Sequential, in small steps (the history buffer). */
    for (off = 0; off < size; off += 65536) {
        size_t len = size - off < 65536 ? (size_t) (size - off) : 65536;

        ck_assert_int_eq(vmc_file_pread_full(g, buf, len, off), 0);
        ck_assert_mem_eq(buf, expect + off, len);
    }
    /* Backwards. */
    for (off = size; off >= 70000; off -= 70000) {
        ck_assert_int_eq(vmc_file_pread_full(g, buf, 1000, off - 70000), 0);
        ck_assert_mem_eq(buf, expect + off - 70000, 1000);
    }
    ck_assert_int_eq(vmc_file_pread_full(g, buf, 1, size - 1), 0);
    ck_assert_uint_eq(buf[0], expect[size - 1]);
    ck_assert_int_eq(vmc_file_pread_full(g, buf, 2, size - 1), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "unexpected end of "
                                 "file"));
    /* Still fine after the refusal. */
    ck_assert_int_eq(vmc_file_pread_full(g, buf, 10, 0), 0);
    ck_assert_mem_eq(buf, expect, 10);
}

START_TEST(test_gzip_random_access)
{
    char p[] = "/tmp/test-file-gzip.XXXXXX";
    uint8_t *z;
    size_t zn;
    struct vmc_file *under, *g;

    gz_plain = malloc(GZ_DATA);
    make_plain(gz_plain, GZ_DATA, 1);
    zn = gz_compress(gz_plain, GZ_DATA, &z);
    under = temp_file(z, zn, p);
    /* A point every 64 KiB at first, at most 4: thinned several times. */
    g = vmc_file_gzip_open_tuned(h, "disk.gz", under, true, 65536, 4);
    ck_assert_ptr_nonnull(g);
    check_reads(g, gz_plain, GZ_DATA);
    ck_assert_int_eq(vmc_file_close(g), 0);
    /* The defaults. */
    under = vmc_file_posix_open(h, p, false);
    g = vmc_file_gzip_open(h, "disk.gz", under, true);
    ck_assert_ptr_nonnull(g);
    check_reads(g, gz_plain, GZ_DATA);
    ck_assert_int_eq(vmc_file_close(g), 0);
    unlink(p);
    free(z);
    free(gz_plain);
}
END_TEST

/* Several threads reading at once, each its own sequence (more than
 * the cursors there are), each byte checked.
 */
struct reader {
    struct vmc_file *g;
    const uint8_t *expect;
    uint64_t size;
    unsigned seed;
    int bad;
};

static void *
reader_run(void *arg)
{
    struct reader *r = arg;
    static __thread uint8_t buf[65536];
    uint64_t off = (uint64_t) r->seed * (r->size / 7);
    int i;

    for (i = 0; i < 200; i++) {
        size_t len = 1 + (r->seed * 7919u + (unsigned) i * 104729u) %
                         sizeof buf;

        if (off >= r->size)
            off = (off * 31) % r->size;
        if (len > r->size - off)
            len = (size_t) (r->size - off);
        if (vmc_file_pread_full(r->g, buf, len, off) == -1 ||
            memcmp(buf, r->expect + off, len) != 0)
            r->bad++;
        off += len;
    }
    return NULL;
}

START_TEST(test_gzip_threads)
{
    char p[] = "/tmp/test-file-gzip-t.XXXXXX";
    struct reader r[6];
    pthread_t t[6];
    uint8_t *plain = malloc(GZ_DATA), *z;
    struct vmc_file *g;
    size_t zn, i;

    make_plain(plain, GZ_DATA, 9);
    zn = gz_compress(plain, GZ_DATA, &z);
    g = vmc_file_gzip_open_tuned(h, "disk.gz", temp_file(z, zn, p), true,
                                 262144, 64);
    ck_assert_ptr_nonnull(g);
    for (i = 0; i < 6; i++) {
        r[i] = (struct reader) { g, plain, GZ_DATA, (unsigned) i, 0 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, reader_run, &r[i]), 0);
    }
    for (i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(r[i].bad, 0);
    }
    vmc_file_close(g);
    unlink(p);
    free(z);
    free(plain);
}
END_TEST

/* Two members one after the other, read as one stream, inside a byte
 * range of a larger file.
 */
START_TEST(test_gzip_members_in_a_range)
{
    char p[] = "/tmp/test-file-gzip-2.XXXXXX";
    uint8_t *z1, *z2, *all, *plain;
    size_t n1, n2, a = 1000, b = 2u << 20;
    struct vmc_file *under, *r, *g;

    plain = malloc(a + b);
    make_plain(plain, a + b, 3);
    n1 = gz_compress(plain, a, &z1);
    n2 = gz_compress(plain + a, b, &z2);
    all = malloc(512 + n1 + n2 + 512);
    memset(all, 0x77, 512 + n1 + n2 + 512);
    memcpy(all + 512, z1, n1);
    memcpy(all + 512 + n1, z2, n2);
    under = temp_file(all, 512 + n1 + n2 + 512, p);
    r = vmc_file_range_open(h, "x.ova@512", under, 512, n1 + n2, true);
    ck_assert_ptr_nonnull(r);
    g = vmc_file_gzip_open_tuned(h, "x.ova@512 (gzip)", r, true, 100000,
                                 8);
    ck_assert_ptr_nonnull(g);
    check_reads(g, plain, a + b);
    vmc_file_close(g);
    unlink(p);
    free(z1);
    free(z2);
    free(all);
    free(plain);
}
END_TEST

/* Open gzip data BUF (N bytes): must fail with WANT in the message. */
static void
gzip_refused(const uint8_t *buf, size_t n, const char *want)
{
    char p[] = "/tmp/test-file-gzip-bad.XXXXXX";
    struct vmc_file *under = temp_file(buf, n, p);

    ck_assert_ptr_null(vmc_file_gzip_open(h, "disk.vmdk.gz", under, true));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "disk.vmdk.gz: "));
    if (strstr(vmc_get_error(h), want) == NULL)
        ck_abort_msg("'%s' does not say '%s'", vmc_get_error(h), want);
    unlink(p);
}

START_TEST(test_gzip_refusals)
{
    uint8_t *plain = malloc(1u << 20), *z, *bad;
    size_t zn;

    make_plain(plain, 1u << 20, 5);
    zn = gz_compress(plain, 1u << 20, &z);
    bad = malloc(zn + 16);
    gzip_refused(plain, 4096, "not gzip data");
    gzip_refused(z, 1, "not gzip data");
    gzip_refused(z, zn - 100, "truncated");
    gzip_refused(z, zn - 3, "truncated");          /* inside the trailer */
    memcpy(bad, z, zn);
    bad[zn / 2] ^= 0x55;
    gzip_refused(bad, zn, "corrupt");
    memcpy(bad, z, zn);
    bad[zn - 6] ^= 1;                               /* the CRC */
    gzip_refused(bad, zn, "corrupt");
    memcpy(bad, z, zn);
    memcpy(bad + zn, "garbage!", 8);               /* after the member */
    gzip_refused(bad, zn + 8, "corrupt");
    free(plain);
    free(z);
    free(bad);
}
END_TEST

START_TEST(test_image_open_name_gzip)
{
    char p[] = "/tmp/test-file-gzip-img.XXXXXX";
    char name[256];
    uint8_t *z, buf[4096];
    size_t zn;
    struct vmc_image *img;

    zn = gz_compress(pattern, FILE_BYTES, &z);
    vmc_file_close(temp_file(z, zn, p));
    snprintf(name, sizeof name, "gzip:%s", p);
    img = vmc_image_open_name(h, name, "raw", 0);
    ck_assert_ptr_nonnull(img);
    ck_assert_uint_eq(vmc_image_size(img), FILE_BYTES);
    ck_assert_int_eq(vmc_image_pread(img, buf, 4096, 63000), -1);
    ck_assert_int_eq(vmc_image_pread(img, buf, 4096, 61440), 0);
    ck_assert_mem_eq(buf, pattern + 61440, 4096);
    vmc_image_close(img);
    ck_assert(vmc_source_name_holds(h, name, p));
    snprintf(name, sizeof name, "gzip:range:0:%zu:%s", zn, p);
    img = vmc_image_open_name(h, name, "raw", 0);
    ck_assert_ptr_nonnull(img);
    vmc_image_close(img);
    snprintf(name, sizeof name, "gzip:concat:2:0:10:%zu:%s:10:%zu:%zu:%s",
             strlen(p), p, zn - 10, strlen(p), p);
    img = vmc_image_open_name(h, name, "raw", 0);
    ck_assert_ptr_nonnull(img);
    ck_assert_int_eq(vmc_image_pread(img, buf, 4096, 0), 0);
    ck_assert_mem_eq(buf, pattern, 4096);
    vmc_image_close(img);
    ck_assert_ptr_null(vmc_image_open_name(h, "gzip:gzip:/x", "raw", 0));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "not a gzip source"));
    ck_assert_ptr_null(vmc_image_open_name(h, "gzip:", "raw", 0));
    unlink(p);
    free(z);
}
END_TEST

static Suite *
concat_gzip_suite(void)
{
    Suite *s = suite_create("file-concat-gzip");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_concat_reads);
    tcase_add_test(tc, test_concat_refuses_bad_parts);
    tcase_add_test(tc, test_concat_part_read_error);
    tcase_add_test(tc, test_concat_extents);
    tcase_add_test(tc, test_concat_names);
    tcase_add_test(tc, test_image_open_name_concat);
    tcase_add_test(tc, test_gzip_random_access);
    tcase_add_test(tc, test_gzip_threads);
    tcase_add_test(tc, test_gzip_members_in_a_range);
    tcase_add_test(tc, test_gzip_refusals);
    tcase_add_test(tc, test_image_open_name_gzip);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(concat_gzip_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
