/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest fix: compressing a rebuilt initramfs on the host.
 *
 * Under TCG, the compressor a guest's initramfs tool runs is the
 * slowest part of a rebuild (dracut's gzip -9 of a hostonly image: 43
 * of 78 s, about fifty times its native cost).  So where the tool can
 * write its image uncompressed (dracut --no-compress), vmconv does the
 * compression here, with the algorithm and level the tool would have
 * used, and puts the result back.  An image is a sequence of cpio
 * archives; a leading early archive (dracut marks it with a file
 * named early_cpio: CPU microcode, ACPI tables) must stay
 * uncompressed, and is copied as it is.  Everything after it becomes
 * one compressed stream, which is the layout the tool writes.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zstd.h>

#include <vmconv/vmconv.h>
#include "guest.h"

#define OUT_CHUNK (1024 * 1024)
/* libdeflate compresses in one call, into a buffer the size of the
 * input: an uncompressed image above this (a real one is some tens of
 * MiB) is refused rather than allocated for.
 */
#define GZIP_MAX (UINT64_C(1) << 30)

/* If BUF (LEN bytes) starts with a newc archive holding early_cpio,
 * return where that archive ends (after its trailer and the zero
 * padding behind it); else 0.  Returns (size_t) -1 when the archive is
 * damaged.
 */
static size_t
early_end(const unsigned char *buf, size_t len)
{
    size_t off = 0;
    bool early = false;

    for (;;) {
        unsigned long namesize, filesize;
        const char *name;

        if (off + GUEST_NEWC_HEADER > len ||
            (memcmp(buf + off, "070701", 6) != 0 &&
             memcmp(buf + off, "070702", 6) != 0))
            return off == 0 ? 0 : (size_t) -1;
        namesize = vmc_guest_newc_field(buf + off + 94);
        filesize = vmc_guest_newc_field(buf + off + 54);
        if (namesize == 0 || namesize > len - off - GUEST_NEWC_HEADER)
            return (size_t) -1;
        name = (const char *) buf + off + GUEST_NEWC_HEADER;
        if (name[namesize - 1] != '\0')
            return (size_t) -1;
        if (strcmp(name, "early_cpio") == 0 ||
            strcmp(name, "./early_cpio") == 0)
            early = true;
        off += (GUEST_NEWC_HEADER + namesize + 3) & ~(size_t) 3;
        if (off > len || filesize > len - off)
            return (size_t) -1;
        off += (filesize + 3) & ~(size_t) 3;
        if (off > len)
            off = len;
        if (strcmp(name, "TRAILER!!!") == 0)
            break;
    }
    if (!early)
        return 0;
    while (off < len && buf[off] == 0)
        off++;
    return off;
}

/* libvmconv's vmc_pwrite_full is not part of the public API this
 * module links against.
 */
static int
write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n > 0) {
        ssize_t r = write(fd, b, n);

        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t) r;
    }
    return 0;
}

/* gzip with libdeflate: at level 6 its output is smaller than gzip
 * -9's (measured on kernel modules: 29.6 MB against 30.0 MB of 110 MB)
 * and it takes a twenty-fifth of the time.
 */
static int
gzip_one_call(struct vmc_handle *h, const char *out, int fd,
              const unsigned char *in, size_t len, int level)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    unsigned char *buf = NULL;
    size_t cap, n;
    int ret = -1;

    if (c == NULL) {
        vmc_error(h, "out of memory");
        return -1;
    }
    cap = libdeflate_gzip_compress_bound(c, len);
    buf = malloc(cap);
    if (buf == NULL) {
        vmc_error(h, "out of memory (%zu bytes for %s)", cap, out);
        goto out;
    }
    n = libdeflate_gzip_compress(c, in, len, buf, cap);
    if (n == 0) {
        vmc_error(h, "libdeflate: gzip compression of %zu bytes failed",
                  len);
        goto out;
    }
    if (write_all(fd, buf, n) == -1) {
        vmc_error(h, "write: %s: %m", out);
        goto out;
    }
    ret = 0;
 out:
    free(buf);
    libdeflate_free_compressor(c);
    return ret;
}

static int
zstd_stream(struct vmc_handle *h, const char *out, int fd,
            const unsigned char *in, size_t len, int level)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    unsigned char *buf = malloc(OUT_CHUNK);
    ZSTD_inBuffer ib = { in, len, 0 };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t left;
    int ret = -1;

    if (c == NULL || buf == NULL) {
        vmc_error(h, "out of memory");
        goto out;
    }
    if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel,
                                            level)) ||
        /* As the zstd command writes its frames (--check). */
        ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1))) {
        vmc_error(h, "zstd: cannot set level %d", level);
        goto out;
    }
    /* The tools run zstd -T0; a libzstd built without threads says no. */
    if (ncpu > 1)
        (void) ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, (int) ncpu);
    do {
        ZSTD_outBuffer ob = { buf, OUT_CHUNK, 0 };

        left = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
        if (ZSTD_isError(left)) {
            vmc_error(h, "zstd: %s", ZSTD_getErrorName(left));
            goto out;
        }
        if (write_all(fd, buf, ob.pos) == -1) {
            vmc_error(h, "write: %s: %m", out);
            goto out;
        }
    } while (left != 0);
    ret = 0;
 out:
    ZSTD_freeCCtx(c);
    free(buf);
    return ret;
}

int
vmc_guest_initrd_compress(struct vmc_handle *h, const char *in,
                          const char *out, enum vmc_initrd_compressor how,
                          int level)
{
    const unsigned char *map = MAP_FAILED;
    struct stat st;
    size_t len = 0, early;
    int ifd, ofd = -1, ret = -1;

    ifd = open(in, O_RDONLY | O_CLOEXEC);
    if (ifd == -1 || fstat(ifd, &st) == -1) {
        vmc_error(h, "open: %s: %m", in);
        goto out;
    }
    len = (size_t) st.st_size;
    if (len < GUEST_NEWC_HEADER) {
        vmc_error(h, "%s: %zu bytes: not an uncompressed initramfs", in,
                  len);
        goto out;
    }
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, ifd, 0);
    if (map == MAP_FAILED) {
        vmc_error(h, "mmap: %s: %m", in);
        goto out;
    }
    if (memcmp(map, "070701", 6) != 0 && memcmp(map, "070702", 6) != 0) {
        vmc_error(h, "%s: offset 0: not an uncompressed cpio archive "
                  "(the tool compressed it after all?)", in);
        goto out;
    }
    early = early_end(map, len);
    if (early == (size_t) -1) {
        vmc_error(h, "%s: its first cpio archive is damaged", in);
        goto out;
    }
    ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (ofd == -1) {
        vmc_error(h, "open: %s: %m", out);
        goto out;
    }
    if (early > 0 && write_all(ofd, map, early) == -1) {
        vmc_error(h, "write: %s: %m", out);
        goto out;
    }
    if (how == VMC_INITRD_GZIP && len - early > GZIP_MAX)
        vmc_error(h, "%s: %zu bytes uncompressed: more than vmconv "
                  "compresses with gzip (%" PRIu64 ")", in, len - early,
                  GZIP_MAX);
    else if (how == VMC_INITRD_GZIP)
        ret = gzip_one_call(h, out, ofd, map + early, len - early, level);
    else
        ret = zstd_stream(h, out, ofd, map + early, len - early, level);
 out:
    if (map != MAP_FAILED)
        munmap((void *) map, len);
    if (ofd != -1 && close(ofd) == -1 && ret == 0) {
        vmc_error(h, "close: %s: %m", out);
        ret = -1;
    }
    if (ifd != -1)
        close(ifd);
    return ret;
}
