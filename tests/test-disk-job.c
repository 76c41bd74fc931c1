/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk job (vmc_disk_convert), events, error kinds, first error
 * wins, vmc_get_error from several threads, _struct_size handling and
 * the output directory policy (vmc_outdir_*).
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmconv/convert.h>

#include "internal.h"

#define MiB (1024u * 1024)
#define SIZE (16 * MiB)

static struct vmc_handle *h;
static char dir[64];
static char src[128], dst[128];

/* A raw image: 2 MiB of data at 1 MiB, a data byte at the end, holes
 * between.
 */
static void
setup(void)
{
    static uint8_t buf[2 * MiB];
    int fd;
    size_t i;

    strcpy(dir, "/tmp/vmconv-test-job.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(src, sizeof src, "%s/in.raw", dir);
    snprintf(dst, sizeof dst, "%s/out.qcow2", dir);
    fd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t) (i * 7 + 1);
    ck_assert_int_eq(pwrite(fd, buf, sizeof buf, MiB), (ssize_t) sizeof buf);
    ck_assert_int_eq(pwrite(fd, "e", 1, SIZE - 1), 1);
    close(fd);
    h = vmc_new();
}

static void
teardown(void)
{
    char cmd[128];

    vmc_free(h);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- Events ------------------------------------------------------- */

struct seen {
    int starts, ends, progress, finals, copy_progress;
    char phases[256];
    int disk;
    uint64_t skipped;
    bool reenter;                /* call back into the handle */
    bool corrupt_before_verify;
    bool signal_at_copy;
};

static void
on_event(void *opaque, const struct vmc_event *ev)
{
    struct seen *s = opaque;

    ck_assert_uint_eq(ev->_struct_size, sizeof *ev);
    if (s->reenter) {
        /* Handlers run outside the handle's lock. */
        vmc_set_event_handler(h, on_event, opaque);
        (void) vmc_get_error(h);
        (void) vmc_get_error_kind(h);
        vmc_clear_error(h);
    }
    s->disk = ev->disk;
    switch (ev->kind) {
    case VMC_EVENT_PHASE_START:
        s->starts++;
        strcat(s->phases, ev->phase);
        strcat(s->phases, " ");
        if (s->corrupt_before_verify && strcmp(ev->phase, "verify") == 0) {
            int fd = open(dst, O_WRONLY);
            struct stat st;

            /* The last data byte of the qcow2 file: the guest's final
             * byte is in the last cluster written.
             */
            ck_assert_int_ge(fd, 0);
            ck_assert_int_eq(fstat(fd, &st), 0);
            ck_assert_int_eq(pwrite(fd, "X", 1, st.st_size - 1), 1);
            close(fd);
        }
        if (s->signal_at_copy && strcmp(ev->phase, "copy") == 0)
            kill(getpid(), SIGINT);
        break;
    case VMC_EVENT_PHASE_END:
        s->ends++;
        break;
    case VMC_EVENT_PROGRESS:
        s->progress++;
        if (strcmp(ev->phase, "copy") == 0)
            s->copy_progress++;
        if (ev->done == ev->total) {
            s->finals++;
            if (strcmp(ev->phase, "copy") == 0)
                s->skipped = ev->skipped;
        }
        ck_assert_uint_le(ev->skipped, ev->done);
        break;
    default:
        break;
    }
}

static int old_final;

static void
on_progress(void *opaque, uint64_t done, uint64_t total)
{
    if (done == total)
        old_final++;
}

START_TEST(test_convert_events)
{
    struct vmc_disk_job job = VMC_DISK_JOB_INIT;
    struct vmc_disk_stats stats = VMC_DISK_STATS_INIT;
    struct seen s = { .reenter = true };
    uint64_t diff = 1;
    struct vmc_image *a, *b;

    job.src = src;
    job.dst = dst;
    job.dst_format = "qcow2";
    job.verify = true;
    job.disk_index = 3;
    job.request_size = 65536;   /* many items: the rate limit matters */
    job.stats = &stats;
    vmc_set_event_handler(h, on_event, &s);
    vmc_set_progress_handler(h, on_progress, NULL);
    ck_assert_int_eq(vmc_disk_convert(h, &job), 0);
    ck_assert_str_eq(s.phases, "open create copy commit verify ");
    ck_assert_int_eq(s.starts, 5);
    ck_assert_int_eq(s.ends, 5);
    ck_assert_int_eq(s.disk, 3);
    /* One final progress event per phase with progress (copy, verify),
     * for the new and the old handler alike.
     */
    ck_assert_int_eq(s.finals, 2);
    ck_assert_int_eq(old_final, 2);
    /* 256 items of 64 KiB, rate-limited per job, not per thread: the
     * first, the last and about ten a second.
     */
    ck_assert_int_lt(s.copy_progress, 40);
    /* Holes: 16 MiB less the data (2 MiB + one 64 KiB unit). */
    ck_assert_uint_eq(s.skipped, SIZE - 2 * MiB - 65536);
    ck_assert_uint_eq(stats.virtual_size, SIZE);
    ck_assert_uint_eq(stats.skipped, s.skipped);
    ck_assert_str_eq(stats.source_format, "raw");

    a = vmc_image_open(h, src, NULL, 0);
    b = vmc_image_open(h, dst, NULL, 0);
    ck_assert_int_eq(vmc_image_compare(a, b, &diff), 0);
    vmc_image_close(a);
    vmc_image_close(b);
}
END_TEST

START_TEST(test_convert_refusals)
{
    struct vmc_disk_job job = VMC_DISK_JOB_INIT;
    char alias[160];

    /* The output is the source, also through a hard link. */
    snprintf(alias, sizeof alias, "%s/alias.raw", dir);
    ck_assert_int_eq(link(src, alias), 0);
    job.src = src;
    job.dst = alias;
    job.dst_format = "raw";
    ck_assert_int_eq(vmc_disk_convert(h, &job), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "refusing to overwrite"));

    /* A missing source is bad input. */
    job.src = "/nonexistent/vmconv-test.raw";
    job.dst = dst;
    ck_assert_int_eq(vmc_disk_convert(h, &job), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_BAD_INPUT);

    /* A struct not initialised with VMC_DISK_JOB_INIT. */
    job._struct_size = 0;
    ck_assert_int_eq(vmc_disk_convert(h, &job), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "VMC_DISK_JOB_INIT"));
    ck_assert_int_ne(access(dst, F_OK), 0);
}
END_TEST

START_TEST(test_convert_verify_fails)
{
    struct vmc_disk_job job = VMC_DISK_JOB_INIT;
    struct seen s = { .corrupt_before_verify = true };

    job.src = src;
    job.dst = dst;
    job.dst_format = "raw";
    job.verify = true;
    snprintf(dst, sizeof dst, "%s/out.raw", dir);
    vmc_set_event_handler(h, on_event, &s);
    ck_assert_int_eq(vmc_disk_convert(h, &job), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_VERIFY);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "verification failed"));
}
END_TEST

static struct vmc_handle *signal_h;

static void
on_sigint(int sig)
{
    vmc_cancel(signal_h);
}

/* SIGINT during a job writing into an output directory: the job stops
 * as interrupted and the temporary directory goes away.
 */
START_TEST(test_outdir_interrupted)
{
    struct vmc_disk_job job = VMC_DISK_JOB_INIT;
    struct seen s = { .signal_at_copy = true };
    struct sigaction sa = { .sa_handler = on_sigint }, old;
    struct vmc_outdir *o;
    char outdir[160], out[512], tmp[256];

    snprintf(outdir, sizeof outdir, "%s/vm", dir);
    o = vmc_outdir_create(h, outdir);
    ck_assert_ptr_nonnull(o);
    snprintf(tmp, sizeof tmp, "%s", vmc_outdir_tmpdir(o));
    snprintf(out, sizeof out, "%s/disk.qcow2", tmp);
    signal_h = h;
    sigaction(SIGINT, &sa, &old);
    job.src = src;
    job.dst = out;
    job.dst_format = "qcow2";
    vmc_set_event_handler(h, on_event, &s);
    ck_assert_int_eq(vmc_disk_convert(h, &job), -1);
    sigaction(SIGINT, &old, NULL);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_INTERRUPTED);
    ck_assert_str_eq(vmc_get_error(h), "cancelled");
    ck_assert_int_eq(vmc_outdir_commit(o), -1);     /* still cancelled */
    vmc_outdir_abort(o);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    ck_assert_int_ne(access(outdir, F_OK), 0);
}
END_TEST

/* ---- Errors ------------------------------------------------------- */

START_TEST(test_error_kinds)
{
    int fd = open("/dev/full", O_WRONLY);
    char b[8] = "x";

    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_NONE);
    ck_assert_int_eq(vmc_check_range(h, "f", 100, 90, 20, "L1"), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_BAD_INPUT);
    ck_assert_ptr_null(vmc_malloc(h, "f", VMC_MAX_ALLOC + 1, "BAT"));
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_BAD_INPUT);
    vmc_error(h, "plain");
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_OTHER);
    vmc_set_error_kind(h, VMC_ERR_IO);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_IO);
    vmc_set_error_kind(h, VMC_ERR_USAGE);          /* only OTHER is retagged */
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_IO);
    if (fd >= 0) {
        ck_assert_int_eq(vmc_pwrite_full(h, "/dev/full", fd, b, 1, 0), -1);
        ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_NO_SPACE);
        close(fd);
    }
    ck_assert_str_eq(vmc_error_kind_name(VMC_ERR_NO_SPACE), "no-space");
    ck_assert_str_eq(vmc_error_kind_name(VMC_ERR_LAST), "unknown");
    vmc_clear_error(h);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_NONE);
    ck_assert_ptr_null(vmc_get_error(h));
}
END_TEST

START_TEST(test_first_error_wins)
{
    struct vmc_job j, *prev;

    vmc_job_init(&j, h, 0);
    prev = vmc_job_enter(&j);
    vmc_error_kind(h, VMC_ERR_IO, "first");
    vmc_error_kind(h, VMC_ERR_INTERRUPTED, "second");
    ck_assert_str_eq(vmc_get_error(h), "first");
    vmc_job_leave(prev);
    /* Another job (here: no job) fails meanwhile ... */
    vmc_error(h, "someone else's");
    /* ... and the job's first error is the handle's when it ends. */
    vmc_job_finish(&j);
    ck_assert_str_eq(vmc_get_error(h), "first");
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_IO);

    /* A job thread that clears the error has recovered. */
    vmc_job_init(&j, h, 0);
    prev = vmc_job_enter(&j);
    vmc_error(h, "recovered");
    vmc_clear_error(h);
    vmc_error_kind(h, VMC_ERR_BAD_INPUT, "real");
    vmc_job_leave(prev);
    vmc_job_finish(&j);
    ck_assert_str_eq(vmc_get_error(h), "real");
}
END_TEST

#define NTHREADS 4
#define NLOOPS 2000

static void *
error_thread(void *arg)
{
    long id = (long) arg;
    int i;

    for (i = 0; i < NLOOPS; i++) {
        const char *e;

        vmc_error(h, "error from thread %ld number %d", id, i);
        e = vmc_get_error(h);
        /* Another thread may have replaced or cleared it (then NULL),
         * never freed it under us: what we got is whole.
         */
        ck_assert(e == NULL || strncmp(e, "error from thread ", 18) == 0);
        if (i % 100 == 0)
            vmc_clear_error(h);
    }
    return NULL;
}

START_TEST(test_get_error_threads)
{
    pthread_t t[NTHREADS];
    long i;

    for (i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, error_thread,
                                        (void *) i), 0);
    for (i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
}
END_TEST

/* ---- _struct_size ------------------------------------------------- */

START_TEST(test_struct_size)
{
    struct vmc_image *a, *b;
    struct vmc_copy_options v1 = { .threads = 2 };   /* size 0: version 1 */
    struct vmc_copy_options tiny = { ._struct_size = 4 };
    struct {
        struct vmc_check_result r;
        uint64_t canary;
    } newer;
    struct vmc_check_result small = { ._struct_size = 8 };

    a = vmc_image_open(h, src, "raw", 0);
    b = vmc_image_create(h, dst, "qcow2", SIZE, NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(vmc_image_copy(a, b, &tiny), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_USAGE);
    ck_assert_int_eq(vmc_image_copy(a, b, &v1), 0);
    ck_assert_int_eq(vmc_image_commit(b), 0);
    vmc_image_close(b);

    /* A caller built against a bigger struct: nothing past ours is
     * written.
     */
    b = vmc_image_open(h, dst, "qcow2", VMC_IMAGE_NO_BACKING);
    memset(&newer, 0xa5, sizeof newer);
    newer.r._struct_size = sizeof newer;
    ck_assert_int_eq(vmc_image_check(b, &newer.r), 0);
    ck_assert(newer.r.supported);
    ck_assert_uint_eq(newer.r.errors, 0);
    ck_assert_uint_eq(newer.canary, 0xa5a5a5a5a5a5a5a5ull);
    ck_assert_uint_eq(newer.r._struct_size, sizeof newer);
    vmc_check_result_free(&newer.r);
    ck_assert_int_eq(vmc_image_check(b, &small), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_USAGE);
    vmc_image_close(b);
    vmc_image_close(a);
}
END_TEST

/* ---- Output directory --------------------------------------------- */

/* Does A, or A/B if B is not NULL, exist? */
static bool
exists(const char *a, const char *b)
{
    char p[512];

    snprintf(p, sizeof p, "%s%s%s", a, b ? "/" : "", b ? b : "");
    return access(p, F_OK) == 0;
}

/* How many ".vm.vmconv-*" directories are in DIR. */
static int
count_tmp(void)
{
    char cmd[256];
    FILE *fp;
    int n = -1;

    snprintf(cmd, sizeof cmd, "ls -a %s | grep -c '^\\.vm\\.vmconv-'", dir);
    fp = popen(cmd, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fscanf(fp, "%d", &n), 1);
    pclose(fp);
    return n;
}

START_TEST(test_outdir_policy)
{
    char outdir[160], file[300], stale[200];
    struct vmc_outdir *o;
    pid_t pid;
    FILE *fp;
    char host[256] = "";

    snprintf(outdir, sizeof outdir, "%s/vm", dir);
    /* Refusals, before anything is made. */
    snprintf(file, sizeof file, "%s/no/vm", dir);
    ck_assert_int_eq(vmc_outdir_check(h, file), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h),
                                 "No such file or directory"));
    ck_assert_int_eq(vmc_outdir_check(h, src), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "is not a directory"));
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_USAGE);

    /* Written into the temporary directory, renamed on commit. */
    o = vmc_outdir_create(h, outdir);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(count_tmp(), 1);
    ck_assert(!exists(outdir, NULL));
    snprintf(file, sizeof file, "%s/vm.xml", vmc_outdir_tmpdir(o));
    fp = fopen(file, "w");
    fputs("<domain/>\n", fp);
    fclose(fp);
    ck_assert_int_eq(vmc_outdir_commit(o), 0);
    vmc_outdir_abort(o);
    ck_assert(exists(outdir, "vm.xml"));
    ck_assert(!exists(outdir, ".vmconv-tmpdir"));
    ck_assert_int_eq(count_tmp(), 0);

    /* Not empty now: refused. */
    ck_assert_ptr_null(vmc_outdir_create(h, outdir));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "not empty"));

    /* An empty OUTDIR is replaced; abort leaves it as it was. */
    snprintf(file, sizeof file, "%s/vm.xml", outdir);
    ck_assert_int_eq(unlink(file), 0);
    o = vmc_outdir_create(h, outdir);
    ck_assert_ptr_nonnull(o);
    vmc_outdir_abort(o);
    ck_assert_int_eq(count_tmp(), 0);
    ck_assert(exists(outdir, NULL));
    o = vmc_outdir_create(h, outdir);
    ck_assert_ptr_nonnull(o);
    snprintf(file, sizeof file, "%s/disk.raw", vmc_outdir_tmpdir(o));
    fclose(fopen(file, "w"));
    ck_assert_int_eq(vmc_outdir_commit(o), 0);
    vmc_outdir_abort(o);
    ck_assert(exists(outdir, "disk.raw"));

    /* A temporary directory left by a process that died is swept; one
     * of a live process (ours) is kept.
     */
    pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    gethostname(host, sizeof host - 1);
    snprintf(stale, sizeof stale, "%s/.vm.vmconv-dead01", dir);
    ck_assert_int_eq(mkdir(stale, 0700), 0);
    snprintf(file, sizeof file, "%s/.vmconv-tmpdir", stale);
    fp = fopen(file, "w");
    fprintf(fp, "vmconv temporary output directory\nhost %s\npid %d\n"
            "start 0\n", host, (int) pid);
    fclose(fp);
    snprintf(file, sizeof file, "%s/partial.qcow2", stale);
    fclose(fopen(file, "w"));
    snprintf(stale, sizeof stale, "%s/.vm.vmconv-live01", dir);
    ck_assert_int_eq(mkdir(stale, 0700), 0);
    snprintf(file, sizeof file, "%s/.vmconv-tmpdir", stale);
    fp = fopen(file, "w");
    fprintf(fp, "vmconv temporary output directory\nhost %s\npid %d\n"
            "start 0\n", host, (int) getpid());
    fclose(fp);
    ck_assert_int_eq(count_tmp(), 2);
    snprintf(file, sizeof file, "%s/vm2", dir);
    o = vmc_outdir_create(h, file);
    ck_assert_ptr_nonnull(o);
    vmc_outdir_abort(o);
    ck_assert(!exists(dir, ".vm.vmconv-dead01"));
    ck_assert(exists(dir, ".vm.vmconv-live01"));
}
END_TEST

static Suite *
job_suite(void)
{
    Suite *s = suite_create("disk-job");
    TCase *tc = tcase_create("job");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_convert_events);
    tcase_add_test(tc, test_convert_refusals);
    tcase_add_test(tc, test_convert_verify_fails);
    tcase_add_test(tc, test_outdir_interrupted);
    tcase_add_test(tc, test_error_kinds);
    tcase_add_test(tc, test_first_error_wins);
    tcase_add_test(tc, test_get_error_threads);
    tcase_add_test(tc, test_struct_size);
    tcase_add_test(tc, test_outdir_policy);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(job_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
