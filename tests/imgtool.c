/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imgtool: a small driver of the image API for tests, independent of
 * the vmconv command and the copy engine, so a format's tests show the
 * driver alone.
 *
 *   imgtool read IMAGE OUT.raw [FORMAT]   whole image to a sparse raw file
 *   imgtool map IMAGE [FORMAT]            block status runs
 *   imgtool create FMT OPTS IN.raw OUT    new image with IN's contents
 *                                         (OPTS "" for defaults)
 *   imgtool info IMAGE [FORMAT]           info JSON
 *   imgtool check IMAGE [FORMAT]          structural check
 *   imgtool probe IMAGE                   detected format name
 *   imgtool fdcheck IMAGE                 read the whole image, then fail
 *                                         if any descriptor of this
 *                                         process can write
 *
 * Environment: IMGTOOL_FLAGS=outside,nobacking,ignoreparent adds open
 * flags.  IMGTOOL_RANGE=OFFSET,LENGTH opens IMAGE as the image stored in
 * that byte range of the file (vmc_image_open_range).  An IMAGE
 * starting with "nbd" and holding "://" is an NBD URI
 * (vmc_image_open_uri).  Exit 0 on success, 1 on error (message on
 * stderr), 2 when check finds errors, 3 when it finds leaks only.
 */
#include <config.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/image.h>

#define CHUNK (1024 * 1024)

static struct vmc_handle *h;

static void
die(void)
{
    const char *e = vmc_get_error(h);

    fprintf(stderr, "imgtool: %s\n", e ? e : "error");
    exit(1);
}

static void
logfn(void *opaque, enum vmc_log_level level, const char *msg)
{
    fprintf(stderr, "imgtool: %s%s\n",
            level == VMC_LOG_WARNING ? "warning: " : "", msg);
}

static unsigned
env_flags(void)
{
    const char *s = getenv("IMGTOOL_FLAGS");
    unsigned f = 0;

    if (s && strstr(s, "outside"))
        f |= VMC_IMAGE_ALLOW_OUTSIDE;
    if (s && strstr(s, "nobacking"))
        f |= VMC_IMAGE_NO_BACKING;
    if (s && strstr(s, "ignoreparent"))
        f |= VMC_IMAGE_IGNORE_PARENT_ID;
    return f;
}

static struct vmc_image *
open_image(const char *path, const char *fmt)
{
    const char *range = getenv("IMGTOOL_RANGE");
    struct vmc_image *img;

    if (range && *range) {
        unsigned long long off, len;

        if (sscanf(range, "%llu,%llu", &off, &len) != 2) {
            fprintf(stderr, "imgtool: IMGTOOL_RANGE=%s: expected "
                    "OFFSET,LENGTH\n", range);
            exit(1);
        }
        img = vmc_image_open_range(h, path, off, len, fmt, env_flags());
    } else if (strncmp(path, "nbd", 3) == 0 && strstr(path, "://"))
        img = vmc_image_open_uri(h, path, fmt, env_flags());
    else
        img = vmc_image_open(h, path, fmt, env_flags());

    if (img == NULL)
        die();
    return img;
}

static int
do_read(const char *path, const char *out, const char *fmt)
{
    struct vmc_image *img = open_image(path, fmt);
    uint64_t size = vmc_image_size(img), off = 0;
    char *buf = malloc(CHUNK);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd == -1 || buf == NULL || ftruncate(fd, (off_t) size) == -1) {
        perror(out);
        return 1;
    }
    while (off < size) {
        enum vmc_extent_type t;
        uint64_t run, n;

        if (vmc_image_block_status(img, off, size - off, &t, &run) == -1)
            die();
        if (t != VMC_EXTENT_DATA) {
            off += run;
            continue;
        }
        while (run > 0) {
            n = run < CHUNK ? run : CHUNK;
            if (vmc_image_pread(img, buf, n, off) == -1)
                die();
            if (pwrite(fd, buf, n, (off_t) off) != (ssize_t) n) {
                perror(out);
                return 1;
            }
            off += n;
            run -= n;
        }
    }
    free(buf);
    close(fd);
    if (vmc_image_close(img) == -1)
        die();
    return 0;
}

static int
do_map(const char *path, const char *fmt)
{
    static const char *names[] = { "data", "zero", "hole" };
    struct vmc_image *img = open_image(path, fmt);
    uint64_t size = vmc_image_size(img), off = 0;

    while (off < size) {
        enum vmc_extent_type t;
        uint64_t run;

        if (vmc_image_block_status(img, off, size - off, &t, &run) == -1)
            die();
        printf("%" PRIu64 " %" PRIu64 " %s\n", off, run, names[t]);
        off += run;
    }
    vmc_image_close(img);
    return 0;
}

static int
do_create(const char *fmt, const char *opts, const char *in, const char *out)
{
    int fd = open(in, O_RDONLY);
    struct stat st;
    struct vmc_image *img;
    uint64_t off, cs = CHUNK;
    char *buf;

    if (fd == -1 || fstat(fd, &st) == -1) {
        perror(in);
        return 1;
    }
    img = vmc_image_create(h, out, fmt, (uint64_t) st.st_size,
                           *opts ? opts : NULL);
    if (img == NULL)
        die();
    /* Requests of 1 MiB, or one cluster where clusters are larger
     * (qcow2 cluster_size=2M): always whole clusters.
     */
    if (vmc_image_cluster_size(img) > cs)
        cs = vmc_image_cluster_size(img);
    buf = malloc(cs);
    for (off = 0; off < (uint64_t) st.st_size; off += cs) {
        uint64_t n = (uint64_t) st.st_size - off < cs
            ? (uint64_t) st.st_size - off : cs;
        ssize_t r = pread(fd, buf, n, (off_t) off);
        size_t i;

        if (r != (ssize_t) n) {
            perror(in);
            return 1;
        }
        for (i = 0; i < n && buf[i] == 0; i++)
            ;
        if (i == n)
            continue;
        if (vmc_image_pwrite(img, buf, n, off) == -1)
            die();
    }
    free(buf);
    close(fd);
    if (vmc_image_commit(img) == -1)
        die();
    if (vmc_image_close(img) == -1)
        die();
    return 0;
}

static int
do_info(const char *path, const char *fmt)
{
    struct vmc_image *img = open_image(path, fmt);
    char *s = vmc_image_info_json(img);

    if (s == NULL)
        die();
    printf("%s\n", s);
    free(s);
    vmc_image_close(img);
    return 0;
}

static int
do_check(const char *path, const char *fmt)
{
    struct vmc_image *img = open_image(path, fmt);
    struct vmc_check_result r;
    size_t i;
    int rc;

    if (vmc_image_check(img, &r) == -1)
        die();
    for (i = 0; i < r.nmessages; i++)
        printf("%s\n", r.messages[i]);
    printf("supported=%d errors=%" PRIu64 " leaks=%" PRIu64 "\n",
           r.supported, r.errors, r.leaks);
    rc = r.errors ? 2 : r.leaks ? 3 : 0;
    vmc_check_result_free(&r);
    vmc_image_close(img);
    return rc;
}

/* Read all of PATH, then list every open descriptor (above stderr)
 * whose access mode allows writing: a source must be opened read-only,
 * and so must every file it refers to.
 */
static int
do_fdcheck(const char *path)
{
    struct vmc_image *img = open_image(path, NULL);
    uint64_t size = vmc_image_size(img), off = 0;
    char *buf = malloc(CHUNK);
    int fd, bad = 0, nfiles = 0;

    while (off < size) {
        enum vmc_extent_type t;
        uint64_t run, n;

        if (vmc_image_block_status(img, off, size - off, &t, &run) == -1)
            die();
        n = run < CHUNK ? run : CHUNK;
        if (t == VMC_EXTENT_DATA && vmc_image_pread(img, buf, n, off) == -1)
            die();
        off += t == VMC_EXTENT_DATA ? n : run;
    }
    for (fd = 3; fd < 4096; fd++) {
        char info[64], line[256], target[4096];
        FILE *fp;
        ssize_t len;

        snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
        fp = fopen(info, "r");
        if (fp == NULL)
            continue;
        snprintf(info, sizeof info, "/proc/self/fd/%d", fd);
        len = readlink(info, target, sizeof target - 1);
        target[len < 0 ? 0 : len] = '\0';
        while (fgets(line, sizeof line, fp)) {
            unsigned long flags;

            if (sscanf(line, "flags: %lo", &flags) != 1)
                continue;
            /* Only files count: not the fdinfo file itself, nor pipes
             * or sockets inherited from make.
             */
            if (target[0] != '/' || strncmp(target, "/proc/", 6) == 0)
                break;
            nfiles++;
            if ((flags & O_ACCMODE) != O_RDONLY) {
                printf("writable: fd %d %s (flags 0%lo)\n", fd, target, flags);
                bad = 1;
            }
        }
        fclose(fp);
    }
    printf("%d files open, %s\n", nfiles, bad ? "some writable" : "all read-only");
    free(buf);
    vmc_image_close(img);
    return bad;
}

int
main(int argc, char **argv)
{
    h = vmc_new();
    vmc_set_log_handler(h, logfn, NULL);
    if (getenv("IMGTOOL_DEBUG"))
        vmc_set_verbose(h, 1);
    if (argc >= 4 && !strcmp(argv[1], "read"))
        return do_read(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
    if (argc >= 3 && !strcmp(argv[1], "map"))
        return do_map(argv[2], argc > 3 ? argv[3] : NULL);
    if (argc == 6 && !strcmp(argv[1], "create"))
        return do_create(argv[2], argv[3], argv[4], argv[5]);
    if (argc >= 3 && !strcmp(argv[1], "info"))
        return do_info(argv[2], argc > 3 ? argv[3] : NULL);
    if (argc >= 3 && !strcmp(argv[1], "check"))
        return do_check(argv[2], argc > 3 ? argv[3] : NULL);
    if (argc == 3 && !strcmp(argv[1], "fdcheck"))
        return do_fdcheck(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "probe")) {
        const char *f = vmc_image_probe(h, argv[2]);

        if (f == NULL)
            die();
        printf("%s\n", f);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of imgtool.c\n");
    return 1;
}
