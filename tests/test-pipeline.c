/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The conversion pipeline through its API (vmc_convert): the options
 * struct's size, the stages' events in order, a dry run writing
 * nothing, the guest-fix stage's contract (what issue 16 plugs in),
 * two disks at once, cancellation, and the allocation names.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <vmconv/pipeline.h>
#include <vmconv/plugin.h>

#include "internal.h"
#include "pipeline-internal.h"

#define MiB (1024u * 1024)

static struct vmc_handle *h;
static char dir[64];
static char src[128], out[128];

static void
setup(void)
{
    static uint8_t buf[MiB];
    size_t i;
    int fd;

    strcpy(dir, "/tmp/vmconv-test-pipe.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(src, sizeof src, "%s/in.raw", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    fd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t) (i * 13 + 5);
    ck_assert_int_eq(pwrite(fd, buf, sizeof buf, MiB), (ssize_t) sizeof buf);
    ck_assert_int_eq(ftruncate(fd, 8 * MiB), 0);
    close(fd);
    h = vmc_new();
    ck_assert_int_eq(vmc_plugins_load(h, getenv("VMCONV_PLUGIN_DIR")), 0);
    ck_assert_ptr_nonnull(vmc_plugin_find(h, "example"));
}

static void
teardown(void)
{
    char cmd[128];

    vmc_free(h);
    vmc_pipeline_guest_fix = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int
entries(const char *d)
{
    char cmd[256];
    FILE *fp;
    int n = 0, c;

    snprintf(cmd, sizeof cmd, "ls -A %s", d);
    fp = popen(cmd, "r");
    while ((c = fgetc(fp)) != EOF)
        n += c == '\n';
    pclose(fp);
    return n;
}

static void
options(struct vmc_convert_options *o)
{
    *o = (struct vmc_convert_options) VMC_CONVERT_OPTIONS_INIT;
    o->source = src;
    o->to = "example";
    o->outdir = out;
}

/* The stages seen, as "read,plan,..." (pipeline stages only). */
struct seen {
    char stages[256];
    int disk_events;
};

static void
on_event(void *opaque, const struct vmc_event *ev)
{
    struct seen *s = opaque;

    if (ev->kind == VMC_EVENT_PHASE_START && ev->disk < 0 && ev->phase) {
        if (s->stages[0])
            strcat(s->stages, ",");
        strcat(s->stages, ev->phase);
    }
    if (ev->disk == 0)
        s->disk_events++;
}

START_TEST(test_struct_size)
{
    struct vmc_convert_options o;

    options(&o);
    o._struct_size = 4;
    ck_assert_int_eq(vmc_convert(h, &o, NULL), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_USAGE);
    ck_assert_int_eq(vmc_convert(h, NULL, NULL), -1);
    ck_assert_int_eq(entries(dir), 1);
}
END_TEST

START_TEST(test_dry_run)
{
    struct vmc_convert_options o;
    struct vmc_conversion *c = NULL;
    struct seen s = { "" };
    struct json_object *doc, *v;

    options(&o);
    o.dry_run = true;
    vmc_set_event_handler(h, on_event, &s);
    ck_assert_int_eq(vmc_convert(h, &o, &c), 0);
    ck_assert_str_eq(s.stages, "read,plan");
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_null(vmc_conversion_report_path(c));
    doc = json_tokener_parse(vmc_conversion_json(c, false));
    ck_assert_ptr_nonnull(doc);
    ck_assert(json_object_object_get_ex(doc, "schema", &v));
    ck_assert_str_eq(json_object_get_string(v), "vmconv-convert/1");
    ck_assert(json_object_object_get_ex(doc, "disks", &v));
    ck_assert_int_eq(json_object_array_length(v), 1);
    json_object_put(doc);
    vmc_conversion_free(c);
    ck_assert_int_eq(entries(dir), 1);   /* in.raw alone */
}
END_TEST

/* A guest-fix stage standing in for guest conversion: it runs before
 * the disks are copied (nothing is in the temporary directory yet),
 * is told where the VM comes from and goes, and reports a change.
 */
static int guest_fix_calls;

static int
fake_guest_fix(struct vmc_handle *gh, struct vmc_guest_session *sess,
               const struct vmc_vm *vm, const char *source,
               const char *target, struct json_object *changes,
               struct vmc_guest_info **guest)
{
    guest_fix_calls++;
    ck_assert_ptr_eq(gh, h);
    ck_assert_ptr_null(sess);        /* a blank disk: nothing inspected */
    ck_assert_uint_eq(vm->nr_disks, 1);
    ck_assert_str_eq(source, "disk");
    ck_assert_str_eq(target, "example");
    ck_assert_int_eq(entries(out), 0);
    json_object_array_add(changes, json_object_new_string("test change"));
    *guest = vmc_guest_info_new(gh);
    return 0;
}

START_TEST(test_stages_and_guest_fix)
{
    struct vmc_convert_options o;
    struct vmc_conversion *c = NULL;
    struct seen s = { "" };
    char report[160];
    struct stat st;
    const char *json;

    vmc_pipeline_guest_fix = fake_guest_fix;
    options(&o);
    o.jobs = 2;
    vmc_set_event_handler(h, on_event, &s);
    ck_assert_int_eq(vmc_convert(h, &o, &c), 0);
    ck_assert_str_eq(s.stages, "read,plan,guest-fix,disks,verify,write,"
                     "commit,finish");
    ck_assert_int_gt(s.disk_events, 0);
    ck_assert_int_eq(guest_fix_calls, 1);
    snprintf(report, sizeof report, "%s/in.report.json", out);
    ck_assert_str_eq(vmc_conversion_report_path(c), report);
    ck_assert_int_eq(stat(report, &st), 0);
    json = vmc_conversion_json(c, false);
    ck_assert_ptr_nonnull(strstr(json, "\"changes\":[\"test change\"]"));
    ck_assert_ptr_nonnull(strstr(json, "\"status\":\"done\""));
    vmc_conversion_free(c);
    ck_assert_int_eq(entries(out), 3);   /* disk, description, report */
}
END_TEST

/* Two disks converted at once (--jobs 2), both verified. */
START_TEST(test_two_disks_at_once)
{
    struct vmc_convert_options o;
    struct vmc_conversion *c = NULL;
    char desc[160];
    FILE *fp;

    snprintf(desc, sizeof desc, "%s/two.vmconv-example", dir);
    fp = fopen(desc, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "vmconv-example 1\nname = two\n"
            "[disk]\nfile = in.raw\nformat = raw\n"
            "[disk]\nfile = in.raw\nformat = raw\nbus = sata\n");
    fclose(fp);
    options(&o);
    o.source = desc;
    o.jobs = 2;
    o.threads = 2;
    ck_assert_int_eq(vmc_convert(h, &o, &c), 0);
    ck_assert_ptr_nonnull(strstr(vmc_conversion_json(c, false),
                                 "\"file\":\"two-disk2.qcow2\""));
    vmc_conversion_free(c);
    ck_assert_int_eq(entries(out), 4);   /* 2 disks, description, report */
}
END_TEST

START_TEST(test_cancelled)
{
    struct vmc_convert_options o;

    options(&o);
    vmc_cancel(h);
    ck_assert_int_eq(vmc_convert(h, &o, NULL), -1);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_INTERRUPTED);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "the source was not "
                                 "touched"));
    ck_assert_int_eq(entries(dir), 1);   /* no output, no temporary dir */
}
END_TEST

START_TEST(test_allocation_names)
{
    ck_assert_str_eq(vmc_allocation_to_string(VMC_ALLOCATION_SPARSE),
                     "sparse");
    ck_assert_int_eq(vmc_allocation_from_string("preallocated"),
                     VMC_ALLOCATION_PREALLOCATED);
    ck_assert_int_eq(vmc_allocation_from_string("thick"), -1);
    ck_assert_ptr_null(vmc_allocation_to_string(VMC_ALLOCATION_LAST));
}
END_TEST

static Suite *
pipeline_suite(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_struct_size);
    tcase_add_test(tc, test_dry_run);
    tcase_add_test(tc, test_stages_and_guest_fix);
    tcase_add_test(tc, test_two_disks_at_once);
    tcase_add_test(tc, test_cancelled);
    tcase_add_test(tc, test_allocation_names);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(pipeline_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
