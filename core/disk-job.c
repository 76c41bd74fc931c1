/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk job: convert one disk image (with its backing chain) into
 * a new image: open, refuse to overwrite the source, create, copy,
 * commit, verify.  `vmconv disk convert` and the pipeline call it.
 */
#include <config.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <vmconv/convert.h>

#include "internal.h"
#include "copy.h"

/* The sizes of the first versions of the job structs. */
#define DISK_JOB_V1_SIZE \
    (offsetof(struct vmc_disk_job, stats) + sizeof (void *))
#define DISK_STATS_V1_SIZE \
    (offsetof(struct vmc_disk_stats, verify_seconds) + sizeof (double))

static double
job_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* True if PATH names the same file as any image of IMG's chain (also
 * through a symbolic link or a hard link: same device and inode).
 */
static bool
job_same_file_as_chain(const char *path, struct vmc_image *img)
{
    struct stat a, b;

    if (stat(path, &a) == -1)
        return false;
    for (; img; img = vmc_image_backing(img))
        if (stat(vmc_image_path(img), &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            return true;
    return false;
}

/* Open the job's source: an NBD URI, a byte range of a file, or a
 * file.  Read-only whatever the flags.
 */
static struct vmc_image *
job_open_source(struct vmc_handle *h, const struct vmc_disk_job *j)
{
    unsigned flags = j->open_flags & ~VMC_IMAGE_RDWR;

    if (j->src_is_uri)
        return vmc_image_open_uri(h, j->src, j->src_format, flags);
    /* range:, concat:, gzip: or a file. */
    return vmc_image_open_name(h, j->src, j->src_format, flags);
}

/* True if PATH names a file the range:, concat: or gzip: source SRC
 * reads. */
static bool
job_same_file_as_container(struct vmc_handle *h, const char *path,
                           const char *src)
{
    return vmc_source_name_holds(h, src, path);
}

/* Copy the caller's job into *J (fields within its _struct_size) and
 * check it.  Returns 0 or -1.
 */
static int
job_read(struct vmc_handle *h, const struct vmc_disk_job *job,
         struct vmc_disk_job *j)
{
    memset(j, 0, sizeof *j);
    j->disk_index = -1;
    if (job == NULL || job->_struct_size < DISK_JOB_V1_SIZE) {
        vmc_error_kind(h, VMC_ERR_USAGE, "disk job: struct vmc_disk_job "
                       "of %u bytes is smaller than its first version (%zu "
                       "bytes): initialise it with VMC_DISK_JOB_INIT",
                       job ? job->_struct_size : 0,
                       (size_t) DISK_JOB_V1_SIZE);
        return -1;
    }
    memcpy(j, job, job->_struct_size < sizeof *j ? job->_struct_size
                                                 : sizeof *j);
    if (j->src == NULL || j->dst == NULL || j->dst_format == NULL) {
        vmc_error_kind(h, VMC_ERR_USAGE, "disk job: the source, the "
                       "target and the target format are required");
        return -1;
    }
    if (j->stats && j->stats->_struct_size < DISK_STATS_V1_SIZE) {
        vmc_error_kind(h, VMC_ERR_USAGE, "disk job: struct vmc_disk_stats "
                       "of %u bytes is smaller than its first version (%zu "
                       "bytes): initialise it with VMC_DISK_STATS_INIT",
                       j->stats->_struct_size, (size_t) DISK_STATS_V1_SIZE);
        return -1;
    }
    return 0;
}

static int
job_check_cancelled(struct vmc_handle *h)
{
    if (vmc_cancelled(h)) {
        vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
        return -1;
    }
    return 0;
}

/* The "verify" phase: open DST again and compare it with SRC. */
static int
job_verify(struct vmc_handle *h, const struct vmc_disk_job *j,
           struct vmc_image *src)
{
    CLEANUP_IMAGE_CLOSE struct vmc_image *check = NULL;
    uint64_t diff = 0;
    int r;

    check = vmc_image_open(h, j->dst, j->dst_format, 0);
    if (check == NULL)
        return -1;
    r = vmc_image_compare(src, check, &diff);
    if (r == 1) {
        vmc_error_kind(h, VMC_ERR_VERIFY, "%s: verification failed: "
                       "differs from %s at offset %" PRIu64, j->dst, j->src,
                       diff);
        return -1;
    }
    return r;
}

/* Create DST, copy SRC into it and commit it ("create", "copy",
 * "commit").  Sets *SKIPPED.
 */
static int
job_write(struct vmc_handle *h, const struct vmc_disk_job *j,
          struct vmc_image *src, uint64_t *skipped)
{
    struct vmc_copy_options copts = VMC_COPY_OPTIONS_INIT;
    CLEANUP_IMAGE_CLOSE struct vmc_image *dst = NULL;
    int r;

    vmc_job_phase_start(h, "create");
    if (job_same_file_as_chain(j->dst, src) ||
        job_same_file_as_container(h, j->dst, j->src)) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: is the source or one of its "
                       "backing files; refusing to overwrite it", j->dst);
        r = -1;
    } else {
        dst = vmc_image_create(h, j->dst, j->dst_format,
                               vmc_image_size(src), j->create_options);
        r = dst ? 0 : -1;
    }
    vmc_job_phase_end(h);
    if (r == -1)
        return -1;
    vmc_image_set_sync(dst, j->fsync);

    copts.threads = j->threads;
    copts.request_size = j->request_size;
    copts.no_zero_detect = j->no_zero_detect;
    vmc_job_phase_start(h, "copy");
    r = vmc_copy_counted(src, dst, &copts, skipped);
    vmc_job_phase_end(h);
    if (r == -1 || job_check_cancelled(h) == -1)
        return -1;

    vmc_job_phase_start(h, "commit");
    r = vmc_image_commit(dst);
    vmc_job_phase_end(h);
    return r;
}

static void
job_fill_stats(const struct vmc_disk_job *j, struct vmc_image *src,
               uint64_t skipped, double copy_s, double verify_s)
{
    struct vmc_disk_stats s = { 0 };
    uint32_t size = j->stats->_struct_size;

    s._struct_size = size;
    s.source_format = vmc_image_format(src);
    s.virtual_size = vmc_image_size(src);
    s.skipped = skipped;
    s.copy_seconds = copy_s;
    s.verify_seconds = verify_s;
    memcpy(j->stats, &s, size < sizeof s ? size : sizeof s);
}

static int
job_run(struct vmc_handle *h, const struct vmc_disk_job *j)
{
    CLEANUP_IMAGE_CLOSE struct vmc_image *src = NULL;
    uint64_t skipped = 0;
    double t0, t1, t2;

    vmc_job_phase_start(h, "open");
    if (job_check_cancelled(h) == 0)
        src = job_open_source(h, j);
    vmc_job_phase_end(h);
    if (src == NULL)
        return -1;

    t0 = job_now();
    if (job_write(h, j, src, &skipped) == -1)
        return -1;
    t1 = job_now();
    if (j->verify) {
        int r;

        vmc_job_phase_start(h, "verify");
        r = job_check_cancelled(h);
        if (r == 0)
            r = job_verify(h, j, src);
        vmc_job_phase_end(h);
        if (r == -1)
            return -1;
    }
    t2 = job_now();
    if (j->stats)
        job_fill_stats(j, src, skipped, t1 - t0, j->verify ? t2 - t1 : 0);
    return 0;
}

int
vmc_disk_convert(struct vmc_handle *h, const struct vmc_disk_job *job)
{
    struct vmc_disk_job j;
    struct vmc_job state, *prev;
    int r;

    if (job_read(h, job, &j) == -1)
        return -1;
    vmc_job_init(&state, h, j.disk_index);
    prev = vmc_job_enter(&state);
    r = job_run(h, &j);
    vmc_job_leave(prev);
    vmc_job_finish(&state);
    return r;
}
