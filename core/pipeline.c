/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The conversion pipeline (include/vmconv/pipeline.h): read, plan,
 * guest fix, disks, verify, write, commit, finish, report.  The plan
 * is core/plan.c; this file runs the stages and keeps the promises:
 * everything is written into the temporary directory of
 * vmc_outdir_create and appears in OUTDIR only through
 * vmc_outdir_commit; on any failure or cancellation before that, the
 * temporary directory is removed and the error says so.
 *
 * Test hook: the environment variable VMCONV_TEST_CORRUPT_BEFORE_VERIFY
 * = "INDEX:OFFSET" flips the byte at file offset OFFSET of the target
 * image of source disk INDEX after it was written and before it is
 * verified, with a warning.  It exists so that tests can show that
 * verification catches a damaged target; nothing else reads it.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pipeline-internal.h"

#define CONVERT_SCHEMA "vmconv-convert/1"
/* Files up to this size get a sha256 in the report ("where cheap"). */
#define REPORT_SHA_MAX (64ull * 1024 * 1024)
#define PIPELINE_MAX_JOBS 16

/* vmc_pipeline_guest_fix and vmc_pipeline_guest_inspect: core/guest/. */

struct vmc_conversion {
    struct pipeline *p;
};

static void pipeline_free(struct pipeline *p);

static const char *const allocation_names[VMC_ALLOCATION_LAST] = {
    [VMC_ALLOCATION_SPARSE] = "sparse",
    [VMC_ALLOCATION_PREALLOCATED] = "preallocated",
};

const char *
vmc_allocation_to_string(enum vmc_allocation v)
{
    return (unsigned) v < VMC_ALLOCATION_LAST ? allocation_names[v] : NULL;
}

int
vmc_allocation_from_string(const char *s)
{
    int i;

    for (i = 0; s && i < VMC_ALLOCATION_LAST; i++)
        if (strcmp(s, allocation_names[i]) == 0)
            return i;
    return -1;
}

double
vmc_pl_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- Stages ------------------------------------------------------- */

struct stage {
    const char *name;
    double t0;
};

static void
stage_begin(struct pipeline *p, struct stage *s, const char *name)
{
    s->name = name;
    s->t0 = vmc_pl_now();
    vmc_job_phase_start(p->h, name);
}

static int
stage_end(struct pipeline *p, struct stage *s, int r, const char *note)
{
    struct json_object *o = json_object_new_object();

    vmc_job_phase_end(p->h);
    vmc_pl_json_str(o, "stage", s->name);
    json_object_object_add(o, "seconds",
                           json_object_new_double(vmc_pl_now() - s->t0));
    json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
    vmc_pl_json_str(o, "note", note);
    json_object_array_add(p->stages, o);
    return r;
}

/* True if a risk of the plan already says MSG. */
static bool
risk_said(struct pipeline *p, const char *msg)
{
    size_t i, n = json_object_array_length(p->risks);

    for (i = 0; i < n; i++) {
        struct json_object *r = json_object_array_get_idx(p->risks, i), *m;

        if (json_object_object_get_ex(r, "message", &m) &&
            strcmp(json_object_get_string(m), msg) == 0)
            return true;
    }
    return false;
}

/* Warnings sent during the conversion go into the report too; those
 * the target's check sends while planning are risks of the plan, and
 * a later warning saying the same again (the target's write) is not
 * repeated.
 */
static void
pipeline_event(void *opaque, const struct vmc_event *ev)
{
    struct pipeline *p = opaque;
    bool forward = true;

    if (ev->kind == VMC_EVENT_WARNING && ev->message) {
        pthread_mutex_lock(&p->lock);
        if (p->checking) {
            vmc_pl_risk(p, "warning", VMC_ERR_UNSUPPORTED, "target", "%s",
                        ev->message);
            forward = false;
        } else if (risk_said(p, ev->message))
            forward = false;
        else
            json_object_array_add(p->warnings,
                                  json_object_new_string(ev->message));
        pthread_mutex_unlock(&p->lock);
    }
    if (forward && p->user_event_fn)
        p->user_event_fn(p->user_event_opaque, ev);
}

/* The same for the caller's log handler: a warning the plan shows as a
 * risk is not printed a second time.
 */
static void
pipeline_log(void *opaque, enum vmc_log_level level, const char *msg)
{
    struct pipeline *p = opaque;

    if (level == VMC_LOG_WARNING) {
        bool said;

        pthread_mutex_lock(&p->lock);
        said = p->checking || risk_said(p, msg);
        pthread_mutex_unlock(&p->lock);
        if (said)
            return;
    }
    if (p->user_log_fn)
        p->user_log_fn(p->user_log_opaque, level, msg);
}

/* ---- Disks -------------------------------------------------------- */

struct disk_pool {
    struct pipeline *p;
    atomic_size_t next;
    atomic_bool failed;
    bool cancelled_by_us;
    pthread_mutex_t lock;
};

static void
disk_record_error(struct disk_pool *dp, struct pl_disk *d)
{
    struct vmc_handle *h = dp->p->h;
    const char *msg = vmc_get_error(h);

    d->error = strdup(msg ? msg : "failed");
    d->error_kind = vmc_get_error_kind(h);
    pthread_mutex_lock(&dp->lock);
    if (!atomic_exchange(&dp->failed, true) && !vmc_cancelled(h)) {
        /* Stop the other disks' copies: the conversion has failed. */
        dp->cancelled_by_us = true;
        vmc_cancel(h);
    }
    pthread_mutex_unlock(&dp->lock);
}

/* A digest differs or could not be read (pipeline-digest.c, from its
 * thread): stop the copies as a failed disk does.
 */
static void
disk_digest_failed(void *opaque)
{
    struct disk_pool *dp = opaque;
    struct vmc_handle *h = dp->p->h;

    pthread_mutex_lock(&dp->lock);
    if (!atomic_exchange(&dp->failed, true) && !vmc_cancelled(h)) {
        dp->cancelled_by_us = true;
        vmc_cancel(h);
    }
    pthread_mutex_unlock(&dp->lock);
}

static int
disk_one(struct disk_pool *dp, struct pl_disk *d)
{
    struct pipeline *p = dp->p;
    struct vmc_disk_job job = VMC_DISK_JOB_INIT;

    d->stats = (struct vmc_disk_stats) VMC_DISK_STATS_INIT;
    /* After the guest fix the disk is read as the fixed guest sees it. */
    job.src = d->read_uri ? d->read_uri : d->src_path;
    job.src_format = d->read_uri ? "raw" : d->src_format;
    job.dst = d->tmp_path;
    job.dst_format = d->dst_format;
    job.create_options = d->create_options;
    job.open_flags = p->o.image_flags;
    job.threads = p->o.threads;
    job.disk_index = (int) d->index;
    job.src_is_uri = vmc_pl_is_uri(job.src);
    job.stats = &d->stats;
    if (vmc_disk_convert(p->h, &job) == -1) {
        disk_record_error(dp, d);
        return -1;
    }
    d->copied = true;
    return 0;
}

static void *
disk_worker(void *arg)
{
    struct disk_pool *dp = arg;
    struct pipeline *p = dp->p;

    while (!atomic_load(&dp->failed)) {
        size_t i = atomic_fetch_add(&dp->next, 1);

        if (i >= p->nr_disks)
            break;
        if (p->disks[i].convert)
            disk_one(dp, &p->disks[i]);
    }
    return NULL;
}

/* Preallocate the host blocks of a target image (-oa preallocated). */
static int
disk_preallocate(struct pipeline *p, struct pl_disk *d)
{
    CLEANUP_FREE char *flat = NULL;
    const char *path = d->tmp_path;
    CLEANUP_CLOSE int fd = -1;
    struct stat st;
    int e;

    if (strcmp(d->dst_format, "vmdk") == 0) {
        size_t n = strlen(d->tmp_path) - strlen(".vmdk");

        if (asprintf(&flat, "%.*s-flat.vmdk", (int) n, d->tmp_path) == -1) {
            vmc_error(p->h, "%m");
            return -1;
        }
        path = flat;
    }
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1 || fstat(fd, &st) == -1) {
        vmc_error_kind(p->h, vmc_errno_kind(errno), "preallocate: %s: %m",
                       path);
        return -1;
    }
    e = posix_fallocate(fd, 0, st.st_size);
    if (e != 0) {
        errno = e;
        vmc_error_kind(p->h, vmc_errno_kind(e), "preallocate: %s: %m", path);
        return -1;
    }
    return 0;
}

static int
run_disks(struct pipeline *p)
{
    struct disk_pool dp = { .p = p };
    pthread_t tids[PIPELINE_MAX_JOBS];
    unsigned n = p->o.jobs ? p->o.jobs : 1, started = 0, i;
    struct pl_disk *failed = NULL;
    size_t k;
    int r = 0;

    if (n > PIPELINE_MAX_JOBS)
        n = PIPELINE_MAX_JOBS;
    pthread_mutex_init(&dp.lock, NULL);
    /* The digests the reader left to us are hashed meanwhile. */
    if (vmc_pl_digests_start(p, disk_digest_failed, &dp) == -1) {
        pthread_mutex_destroy(&dp.lock);
        return -1;
    }
    if (n == 1)
        disk_worker(&dp);
    else {
        for (i = 0; i < n; i++)
            if (pthread_create(&tids[started], NULL, disk_worker, &dp) == 0)
                started++;
        if (started == 0)
            disk_worker(&dp);
        for (i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
    }
    vmc_pl_digests_join(p);
    pthread_mutex_destroy(&dp.lock);
    if (dp.cancelled_by_us)
        atomic_store(&p->h->cancelled, 0);
    /* The first real failure (not a disk stopped because of it). */
    for (k = 0; k < p->nr_disks && failed == NULL; k++) {
        struct pl_disk *d = &p->disks[k];

        if (d->error && (d->error_kind != VMC_ERR_INTERRUPTED ||
                         !dp.cancelled_by_us))
            failed = d;
    }
    /* A digest that differs says more than the copy that stopped on
     * its bad data (a format driver's message, kind bad input or
     * other) or was stopped because of it: hash to the end then too,
     * but not after a failure of the target's disk or a Ctrl-C.
     */
    if (!vmc_cancelled(p->h) &&
        vmc_pl_digests_finish(p, failed == NULL ||
                              (failed->error_kind != VMC_ERR_IO &&
                               failed->error_kind != VMC_ERR_NO_SPACE &&
                               failed->error_kind != VMC_ERR_INTERRUPTED)) == -1)
        return -1;
    if (failed) {
        vmc_error_kind(p->h, failed->error_kind, "disks[%zu]: %s",
                       failed->index, failed->error);
        return -1;
    }
    if (atomic_load(&dp.failed) || vmc_cancelled(p->h)) {
        vmc_error_kind(p->h, VMC_ERR_INTERRUPTED, "cancelled");
        return -1;
    }
    for (k = 0; k < p->nr_disks && r == 0; k++)
        if (p->disks[k].copied &&
            p->o.allocation == VMC_ALLOCATION_PREALLOCATED)
            r = disk_preallocate(p, &p->disks[k]);
    return r;
}

static int
stage_disks(struct pipeline *p)
{
    const char *tmp = vmc_outdir_tmpdir(p->out);
    size_t i;

    for (i = 0; i < p->nr_disks; i++) {
        struct pl_disk *d = &p->disks[i];

        if (!d->convert)
            continue;
        if (asprintf(&d->tmp_path, "%s/%s", tmp, d->file) == -1) {
            d->tmp_path = NULL;
            vmc_error(p->h, "%m");
            return -1;
        }
        p->tmp_paths[i] = d->tmp_path;
        p->final_paths[i] = d->final_path;
    }
    return run_disks(p);
}

/* ---- Guest fix, write --------------------------------------------- */

static int
stage_guest_fix(struct pipeline *p, struct vmc_guest_info **guest,
                const char **note)
{
    if (p->o.no_guest_fix) {
        *note = "skipped (--no-guest-fix)";
        return 0;
    }
    if (vmc_pipeline_guest_fix == NULL) {
        *note = "guest conversion: not implemented yet, skipped";
        vmc_info(p->h, "%s", *note);
        return 0;
    }
    /* The facts inspection found at plan time go to the hook. */
    *guest = p->guest;
    p->guest = NULL;
    if (vmc_pipeline_guest_fix(p->h, p->guest_session, p->tvm,
                               p->source_kind, p->to, p->guest_changes,
                               guest) == -1)
        return -1;
    /* The copy and the verify read the fixed guest (nbdkit's overlays
     * over the source disks).
     */
    if (p->guest_session)
        for (size_t i = 0; i < p->nr_disks; i++) {
            struct pl_disk *d = &p->disks[i];

            if (!d->convert)
                continue;
            d->read_uri = vmc_guest_session_uri(p->guest_session, i);
            if (d->read_uri == NULL) {
                vmc_error(p->h, "guest: disk %zu is not served by the "
                          "guest fix's nbdkit", i);
                return -1;
            }
        }
    vmc_pl_json_str(json_object_object_get(p->doc, "guest-fix"), "status",
                    json_object_array_length(p->guest_changes) > 0 ? "done"
                    : "done: nothing changed in the guest");
    return 0;
}

static void
write_options(struct pipeline *p, struct vmc_write_options *wo,
              const struct vmc_guest_info *guest)
{
    memset(wo, 0, sizeof *wo);
    wo->_struct_size = sizeof *wo;
    wo->outdir = vmc_outdir_tmpdir(p->out);
    wo->name = p->name;
    wo->final_outdir = p->outdir;
    wo->nr_disks = p->tvm->nr_disks;
    wo->disk_tmp_paths = p->tmp_paths;
    wo->disk_final_paths = p->final_paths;
    wo->nr_params = p->o.nr_write_params;
    wo->params = p->o.write_params;
    wo->libvirt_uri = p->o.libvirt_uri;
    wo->guest = guest;
}

/* ---- Verify ------------------------------------------------------- */

/* The test hook (see the head of this file). */
static void
test_corrupt(struct pipeline *p)
{
    const char *env = getenv("VMCONV_TEST_CORRUPT_BEFORE_VERIFY");
    unsigned long idx;
    unsigned long long off;
    unsigned char c;
    int fd;

    if (env == NULL || sscanf(env, "%lu:%llu", &idx, &off) != 2 ||
        idx >= p->nr_disks || p->disks[idx].tmp_path == NULL)
        return;
    fd = open(p->disks[idx].tmp_path, O_RDWR | O_CLOEXEC);
    if (fd == -1)
        return;
    if (pread(fd, &c, 1, (off_t) off) == 1) {
        c ^= 0xff;
        if (pwrite(fd, &c, 1, (off_t) off) == 1)
            vmc_warning(p->h, "test hook VMCONV_TEST_CORRUPT_BEFORE_VERIFY: "
                        "flipped the byte at offset %llu of %s", off,
                        p->disks[idx].tmp_path);
    }
    close(fd);
}

static int
verify_disk(struct pipeline *p, struct pl_disk *d)
{
    struct vmc_handle *h = p->h;
    CLEANUP_IMAGE_CLOSE struct vmc_image *src = NULL;
    CLEANUP_IMAGE_CLOSE struct vmc_image *dst = NULL;
    struct vmc_job job, *prev;
    uint64_t diff = 0;
    double t0 = vmc_pl_now();
    int r = -1;

    vmc_job_init(&job, h, (int) d->index);
    prev = vmc_job_enter(&job);
    vmc_job_phase_start(h, "verify");
    src = d->read_uri
        ? vmc_pl_open_source(h, d->read_uri, "raw", p->o.image_flags)
        : vmc_pl_open_source(h, d->src_path, d->src_format,
                             p->o.image_flags);
    if (src)
        dst = vmc_image_open(h, d->tmp_path, d->dst_format, 0);
    if (src && dst)
        r = vmc_pl_compare(src, dst, p->o.threads, &diff, &d->verify_bytes);
    if (r == 1) {
        vmc_error_kind(h, VMC_ERR_VERIFY, "%s: verification failed: it "
                       "differs from %s at offset %" PRIu64, d->file,
                       d->src_path, diff);
        r = -1;
    }
    vmc_job_phase_end(h);
    vmc_job_leave(prev);
    vmc_job_finish(&job);
    d->verify_seconds = vmc_pl_now() - t0;
    d->verified = r == 0;
    return r;
}

static int
stage_verify(struct pipeline *p)
{
    size_t i;

    for (i = 0; i < p->nr_disks; i++)
        if (p->disks[i].copied && verify_disk(p, &p->disks[i]) == -1) {
            /* Re-raise it as the pipeline job's own error. */
            vmc_error_kind(p->h, vmc_get_error_kind(p->h), "%s",
                           vmc_get_error(p->h));
            return -1;
        }
    return 0;
}

/* ---- Report ------------------------------------------------------- */

static void
report_file(struct pipeline *p, struct json_object *files, const char *dir,
            const char *name)
{
    struct json_object *o;
    CLEANUP_FREE char *path = NULL;
    char hex[VMC_DIGEST_HEX_MAX];
    struct stat st;

    if (asprintf(&path, "%s/%s", dir, name) == -1 || lstat(path, &st) == -1 ||
        !S_ISREG(st.st_mode))
        return;
    o = json_object_new_object();
    vmc_pl_json_str(o, "path", path);
    vmc_pl_json_u64(o, "size", (uint64_t) st.st_size);
    vmc_pl_json_u64(o, "allocated-size", (uint64_t) st.st_blocks * 512);
    if ((uint64_t) st.st_size <= REPORT_SHA_MAX &&
        vmc_digest_file(p->h, VMC_DIGEST_SHA256, path, hex) == 0)
        vmc_pl_json_str(o, "sha256", hex);
    else {
        /* Only the report lacks it: not a failure of the conversion. */
        if ((uint64_t) st.st_size <= REPORT_SHA_MAX)
            vmc_clear_error(p->h);
        json_object_object_add(o, "sha256", NULL);
    }
    json_object_array_add(files, o);
}

/* Every file of DIR (the output), in name order. */
static struct json_object *
report_files(struct pipeline *p, const char *dir)
{
    struct json_object *files = json_object_new_array();
    struct dirent **names = NULL;
    int n, i;

    n = scandir(dir, &names, NULL, alphasort);
    for (i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.')
            report_file(p, files, dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return files;
}

static void
report_disks(struct pipeline *p, double total)
{
    struct json_object *arr = json_object_object_get(p->doc, "disks");
    struct json_object *v = json_object_new_object();
    uint64_t copied = 0, skipped = 0, vbytes = 0;
    double vsec = 0;
    size_t i;

    for (i = 0; arr && i < p->nr_disks; i++) {
        struct pl_disk *d = &p->disks[i];
        struct json_object *o = json_object_array_get_idx(arr, i), *r;

        if (!d->convert || o == NULL)
            continue;
        r = json_object_new_object();
        json_object_object_add(r, "copied", json_object_new_boolean(d->copied));
        if (d->copied) {
            vmc_pl_json_u64(r, "bytes-copied",
                            d->stats.virtual_size - d->stats.skipped);
            vmc_pl_json_u64(r, "bytes-skipped", d->stats.skipped);
            json_object_object_add(r, "copy-seconds", json_object_new_double(
                                   d->stats.copy_seconds));
            copied += d->stats.virtual_size - d->stats.skipped;
            skipped += d->stats.skipped;
        }
        json_object_object_add(r, "verified",
                               json_object_new_boolean(d->verified));
        json_object_object_add(r, "verify-seconds",
                               json_object_new_double(d->verify_seconds));
        vmc_pl_json_u64(r, "verify-bytes-read", d->verify_bytes);
        vmc_pl_json_str(r, "error", d->error);
        json_object_object_add(o, "result", r);
        vsec += d->verify_seconds;
        vbytes += d->verify_bytes;
    }
    vmc_pl_json_u64(p->doc, "bytes-copied", copied);
    vmc_pl_json_u64(p->doc, "bytes-skipped", skipped);
    json_object_object_add(v, "enabled", json_object_new_boolean(
                           !p->o.no_verify));
    json_object_object_add(v, "seconds", json_object_new_double(vsec));
    vmc_pl_json_u64(v, "bytes-read", vbytes);
    json_object_object_add(v, "share-of-time", json_object_new_double(
                           total > 0 ? vsec / total : 0));
    vmc_pl_json_str(v, "excluded", json_object_array_length(
                        p->guest_changes) > 0
                    ? "nothing: each disk is compared with the source as "
                      "the guest fix left it (its changes are listed under "
                      "guest-fix)"
                    : "nothing (the guest fix changed nothing)");
    json_object_object_add(p->doc, "verify", v);
}

/* Write the report into DIR/NAME.report.json (a temporary name, then
 * renamed).  A failure is a warning: the conversion itself is done.
 */
static void
report_write(struct pipeline *p, const char *dir)
{
    CLEANUP_FREE char *path = NULL, *tmp = NULL;
    const char *text;
    FILE *fp;
    int err;

    if (asprintf(&path, "%s/%s.report.json", dir, p->name) == -1 ||
        asprintf(&tmp, "%s/.%s.report.json.tmp", dir, p->name) == -1)
        return;
    text = json_object_to_json_string_ext(p->doc, JSON_C_TO_STRING_PRETTY |
                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    fp = fopen(tmp, "wx");
    if (fp == NULL) {
        vmc_warning(p->h, "%s: %m: the report was not written", tmp);
        return;
    }
    fprintf(fp, "%s\n", text);
    err = ferror(fp);
    if (fclose(fp) != 0 || err || rename(tmp, path) == -1) {
        vmc_warning(p->h, "%s: %m: the report was not written", path);
        unlink(tmp);
        return;
    }
    p->report_path = vmc_steal_pointer(&path);
}

/* ---- The whole ---------------------------------------------------- */

/* Everything from the disks to the commit, with the temporary
 * directory P->out.  Returns 0 or -1 (the caller removes it).
 */
static int
run_write_stages(struct pipeline *p, struct vmc_guest_info **guest)
{
    struct vmc_write_options wo;
    struct stage s;
    const char *note = NULL;

    /* The guest is fixed first, in nbdkit's copy-on-write overlays
     * over the source disks; the copy then reads the fixed guest: one
     * pass over the source, no temporary copy, the source never
     * written.
     */
    stage_begin(p, &s, "guest-fix");
    if (stage_end(p, &s, stage_guest_fix(p, guest, &note), note) == -1)
        return -1;
    if (vmc_cancelled(p->h)) {
        vmc_error_kind(p->h, VMC_ERR_INTERRUPTED, "cancelled");
        return -1;
    }
    stage_begin(p, &s, "disks");
    if (stage_end(p, &s, stage_disks(p), NULL) == -1)
        return -1;
    /* Verify before write: the disks are final once copied (and
     * fixed), and a target that packages them (an OVA) may then move
     * them into its package.
     */
    test_corrupt(p);
    if (!p->o.no_verify) {
        stage_begin(p, &s, "verify");
        if (stage_end(p, &s, stage_verify(p), NULL) == -1)
            return -1;
    }
    stage_begin(p, &s, "write");
    write_options(p, &wo, *guest);
    if (stage_end(p, &s, vmc_plugin_write_opts(p->h, p->target, p->tvm, &wo),
                  NULL) == -1)
        return -1;
    json_object_object_add(p->doc, "files",
                           report_files(p, vmc_outdir_tmpdir(p->out)));
    if (vmc_cancelled(p->h)) {
        vmc_error_kind(p->h, VMC_ERR_INTERRUPTED, "cancelled");
        return -1;
    }
    stage_begin(p, &s, "commit");
    if (stage_end(p, &s, vmc_outdir_commit(p->out), NULL) == -1)
        return -1;
    p->committed = true;
    return 0;
}

static void
fix_file_paths(struct pipeline *p)
{
    struct json_object *files = json_object_object_get(p->doc, "files");
    const char *tmp = vmc_outdir_tmpdir(p->out);
    size_t i, n = files ? json_object_array_length(files) : 0, l = strlen(tmp);

    /* The files were listed in the temporary directory. */
    for (i = 0; i < n; i++) {
        struct json_object *f = json_object_array_get_idx(files, i);
        const char *path = json_object_get_string(
            json_object_object_get(f, "path"));
        CLEANUP_FREE char *fin = NULL;

        if (path && strncmp(path, tmp, l) == 0 &&
            asprintf(&fin, "%s%s", p->outdir, path + l) != -1)
            vmc_pl_json_str(f, "path", fin);
    }
}

static int
run(struct pipeline *p)
{
    struct vmc_handle *h = p->h;
    struct vmc_guest_info *guest = NULL;
    struct vmc_write_options wo;
    struct stage s;
    int r;

    stage_begin(p, &s, "read");
    if (stage_end(p, &s, vmc_pl_read_source(p), NULL) == -1)
        return -1;
    stage_begin(p, &s, "plan");
    if (stage_end(p, &s, vmc_pl_plan(p), NULL) == -1)
        return -1;
    if (p->blocked) {
        if (p->o.dry_run)
            vmc_error_kind(h, p->block_kind, "%s", p->block_msg);
        else
            vmc_error_kind(h, p->block_kind, "%s; stopped before writing "
                           "anything, the source was not touched",
                           p->block_msg);
        return -1;
    }
    if (p->o.dry_run)
        return 0;
    p->out = vmc_outdir_create(h, p->o.outdir);
    if (p->out == NULL)
        return -1;
    r = run_write_stages(p, &guest);
    if (r == 0) {
        fix_file_paths(p);
        stage_begin(p, &s, "finish");
        write_options(p, &wo, guest);
        r = stage_end(p, &s, vmc_plugin_finish(h, p->target, p->tvm, &wo),
                      NULL);
    }
    vmc_guest_info_free(guest);
    return r;
}

static int
pipeline_init(struct pipeline *p, struct vmc_handle *h,
              const struct vmc_convert_options *opts)
{
    size_t v1 = offsetof(struct vmc_convert_options, write_params) +
        sizeof (void *);

    p->h = h;
    pthread_mutex_init(&p->lock, NULL);
    if (opts == NULL || opts->_struct_size < v1) {
        vmc_error_kind(h, VMC_ERR_USAGE, "convert: struct "
                       "vmc_convert_options is smaller than its first "
                       "version: initialise it with VMC_CONVERT_OPTIONS_INIT");
        return -1;
    }
    memcpy(&p->o, opts, opts->_struct_size < sizeof p->o
           ? opts->_struct_size : sizeof p->o);
    if (p->o.source == NULL || p->o.outdir == NULL || *p->o.outdir == '\0') {
        vmc_error_kind(h, VMC_ERR_USAGE, "convert: a source and an output "
                       "directory are required");
        return -1;
    }
    if ((unsigned) p->o.allocation >= VMC_ALLOCATION_LAST) {
        vmc_error_kind(h, VMC_ERR_USAGE, "convert: allocation %d is not "
                       "sparse or preallocated", (int) p->o.allocation);
        return -1;
    }
    p->to = p->o.to ? p->o.to : "kvm";
    p->doc = json_object_new_object();
    p->risks = json_object_new_array();
    p->warnings = json_object_new_array();
    p->devices = json_object_new_array();
    p->guest_changes = json_object_new_array();
    p->stages = json_object_new_array();
    vmc_pl_json_str(p->doc, "schema", CONVERT_SCHEMA);
    vmc_pl_json_str(p->doc, "vmconv-version", vmc_version());
    json_object_object_add(p->doc, "dry-run",
                           json_object_new_boolean(p->o.dry_run));
    return 0;
}

/* Check the target and OUTDIR before reading anything. */
static int
pipeline_check_target(struct pipeline *p)
{
    struct vmc_handle *h = p->h;

    p->target = vmc_plugin_find(h, p->to);
    if (p->target == NULL) {
        vmc_error_kind(h, VMC_ERR_USAGE, "--to %s: no such plugin "
                       "('vmconv plugins' lists them)", p->to);
        return -1;
    }
    if (!vmc_plugin_can_write(p->target)) {
        vmc_error_kind(h, VMC_ERR_USAGE, "--to %s: the %s plugin cannot "
                       "write VMs", p->to, p->to);
        return -1;
    }
    if (vmc_outdir_check(h, p->o.outdir) == -1) {
        CLEANUP_FREE char *msg = strdup(vmc_get_error(h));
        enum vmc_error_kind k = vmc_get_error_kind(h);

        vmc_clear_error(h);

        vmc_error_kind(h, k == VMC_ERR_OTHER ? VMC_ERR_USAGE : k, "-O %s",
                       msg ? msg : p->o.outdir);
        return -1;
    }
    return 0;
}

/* The final message of a failure: what failed, what was kept.
 * COMMITTED: OUTDIR is in place; WROTE: a temporary directory was made
 * (and is removed by now).
 */
static void
pipeline_final_error(struct pipeline *p, bool committed, bool wrote)
{
    struct vmc_handle *h = p->h;
    CLEANUP_FREE char *msg = strdup(vmc_get_error(h) ? vmc_get_error(h)
                                                      : "failed");
    enum vmc_error_kind k = vmc_get_error_kind(h);
    enum vmc_error_hint hint = vmc_get_error_hint(h);

    if (k == VMC_ERR_INTERRUPTED)
        msg = (free(msg), strdup("interrupted"));
    if (committed)
        vmc_error_kind(h, k, "%s; the converted VM is in %s (the source "
                       "was not touched)", msg ? msg : "failed", p->outdir);
    else if (wrote)
        vmc_error_kind(h, k, "%s; the partial output was removed, nothing "
                       "was written to %s, and the source was not touched",
                       msg ? msg : "failed", p->o.outdir);
    else if (k == VMC_ERR_INTERRUPTED)
        vmc_error_kind(h, k, "interrupted before anything was written; "
                       "the source was not touched");
    else
        vmc_error_kind(h, k, "%s", msg ? msg : "failed");
    vmc_set_error_hint(h, hint);
}

/* The end of the document: results per disk, stages, risks, warnings
 * and the outcome R of the conversion that began at T0.
 */
static void
pipeline_result(struct pipeline *p, int r, double t0)
{
    struct json_object *res = json_object_new_object();
    struct vmc_handle *h = p->h;

    report_disks(p, vmc_pl_now() - t0);
    json_object_object_add(p->doc, "stages", json_object_get(p->stages));
    json_object_object_add(p->doc, "risks", json_object_get(p->risks));
    json_object_object_add(p->doc, "warnings", json_object_get(p->warnings));
    json_object_object_add(res, "ok", json_object_new_boolean(r == 0));
    vmc_pl_json_str(res, "error", r == 0 ? NULL : vmc_get_error(h));
    vmc_pl_json_str(res, "error-kind", r == 0 ? NULL :
                    vmc_error_kind_name(vmc_get_error_kind(h)));
    json_object_object_add(res, "seconds",
                           json_object_new_double(vmc_pl_now() - t0));
    vmc_pl_json_str(res, "outdir", p->committed ? p->outdir : NULL);
    json_object_object_add(p->doc, "result", res);
}

int
vmc_convert(struct vmc_handle *h, const struct vmc_convert_options *opts,
            struct vmc_conversion **result)
{
    struct pipeline *p = calloc(1, sizeof *p);
    struct vmc_job job, *prev;
    bool committed, wrote;
    double t0 = vmc_pl_now();
    int r;

    if (result)
        *result = NULL;
    if (p == NULL) {
        vmc_error(h, "%m");
        return -1;
    }
    if (pipeline_init(p, h, opts) == -1) {
        pipeline_free(p);
        return -1;
    }
    pthread_mutex_lock(&h->lock);
    p->user_event_fn = h->event_fn;
    p->user_event_opaque = h->event_opaque;
    h->event_fn = pipeline_event;
    h->event_opaque = p;
    p->user_log_fn = h->log_fn;
    p->user_log_opaque = h->log_opaque;
    h->log_fn = pipeline_log;
    h->log_opaque = p;
    pthread_mutex_unlock(&h->lock);

    vmc_job_init(&job, h, -1);
    prev = vmc_job_enter(&job);
    r = pipeline_check_target(p);
    if (r == 0)
        r = run(p);
    vmc_job_leave(prev);
    vmc_job_finish(&job);

    committed = p->committed;
    wrote = p->out != NULL;
    vmc_outdir_abort(p->out);       /* removes it unless committed */
    p->out = NULL;
    if (r == -1)
        pipeline_final_error(p, committed, wrote);

    pipeline_result(p, r, t0);
    if (committed)
        report_write(p, p->outdir);

    pthread_mutex_lock(&h->lock);
    h->event_fn = p->user_event_fn;
    h->event_opaque = p->user_event_opaque;
    h->log_fn = p->user_log_fn;
    h->log_opaque = p->user_log_opaque;
    pthread_mutex_unlock(&h->lock);

    if (result && p->vm && (*result = calloc(1, sizeof **result)) != NULL)
        (*result)->p = p;
    else
        pipeline_free(p);
    return r;
}

const char *
vmc_conversion_json(struct vmc_conversion *c, bool pretty)
{
    struct pipeline *p = c->p;

    free(p->json_text);
    p->json_text = strdup(json_object_to_json_string_ext(p->doc,
        (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
        JSON_C_TO_STRING_NOSLASHESCAPE));
    return p->json_text;
}

const char *
vmc_conversion_report_path(const struct vmc_conversion *c)
{
    return c->p->report_path;
}

static void
pipeline_free(struct pipeline *p)
{
    size_t i;

    for (i = 0; p->disks && i < p->nr_disks; i++) {
        struct pl_disk *d = &p->disks[i];

        free(d->src_path);
        free(d->src_format);
        free(d->read_uri);
        json_object_put(d->chain);
        free(d->file);
        free(d->tmp_path);
        free(d->final_path);
        free(d->create_options);
        free(d->sha256);
        free(d->error);
    }
    free(p->disks);
    free(p->tmp_paths);
    free(p->final_paths);
    vmc_vm_free(p->tvm);
    vmc_vm_free(p->vm);
    free(p->name);
    free(p->outdir);
    free(p->block_msg);
    json_object_put(p->doc);
    json_object_put(p->risks);
    json_object_put(p->warnings);
    json_object_put(p->devices);
    json_object_put(p->guest_changes);
    json_object_put(p->guest_report);
    vmc_guest_session_close(p->guest_session);
    vmc_guest_info_free(p->guest);
    json_object_put(p->stages);
    vmc_pl_digests_free(p->digests);
    free(p->report_path);
    free(p->json_text);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void
vmc_conversion_free(struct vmc_conversion *c)
{
    if (c == NULL)
        return;
    pipeline_free(c->p);
    free(c);
}
