/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The frozen-ABI test (nbdkit's tests/old-plugins): plugins built
 * against the kept copy of the version 1 headers
 * (tests/old-plugins/v1/include) must load into today's libvmconv and
 * work: probe, read, write, and finish (which they do not have).  One
 * of them ends its struct at an inaccessible page, so a loader reading
 * past a version 1 plugin's _struct_size crashes here;
 * old-plugins-valgrind.sh runs this test under valgrind too.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/plugin.h>

static struct vmc_handle *h;
static char dir[PATH_MAX];               /* scratch directory */
static char plugins[PATH_MAX + 16];      /* DIR/plugins */
static char source[PATH_MAX + 16];       /* DIR/web.old */

static const char old_text[] =
    "old-v1\nname=web\nvcpus=2\nmemory=1073741824\n"
    "disk=/vm/web-0.qcow2\ndisk=/vm/web-1.raw\n";

static void
link_plugin(const char *variant)
{
    const char *builddir = getenv("builddir");
    char src[PATH_MAX], dst[2 * PATH_MAX], *abs;

    snprintf(src, sizeof src, "%s/.libs/vmconv-%s.so",
             builddir ? builddir : ".", variant);
    abs = realpath(src, NULL);
    if (abs == NULL)
        ck_abort_msg("%s: %s (build the test plugins first)", src,
                     strerror(errno));
    snprintf(dst, sizeof dst, "%s/vmconv-%s.so", plugins, variant);
    ck_assert_int_eq(symlink(abs, dst), 0);
    free(abs);
}

static void
setup(void)
{
    char tmpl[] = "/tmp/vmconv-old-plugin-test.XXXXXX";
    FILE *fp;

    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    ck_assert_ptr_nonnull(realpath(tmpl, dir));
    snprintf(plugins, sizeof plugins, "%s/plugins", dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    link_plugin("old-v1");
    link_plugin("old-v1-guard");
    snprintf(source, sizeof source, "%s/web.old", dir);
    fp = fopen(source, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(old_text, fp);
    ck_assert_int_eq(fclose(fp), 0);

    h = vmc_new();
    ck_assert_ptr_nonnull(h);
    if (vmc_plugins_load(h, plugins) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
}

static void
teardown(void)
{
    char cmd[PATH_MAX + 16];

    vmc_free(h);
    h = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static const char *const variants[] = { "old-v1", "old-v1-guard" };

static struct vmc_loaded_plugin *
plugin(int i)
{
    struct vmc_loaded_plugin *p = vmc_plugin_find(h, variants[i]);

    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(test_old_plugin_loads)
{
    struct vmc_loaded_plugin *p;

    ck_assert_uint_eq(vmc_plugins_refused_count(h), 0);
    ck_assert_uint_eq(vmc_plugin_count(h), 2);
    p = plugin(_i);
    ck_assert_str_eq(vmc_plugin_version(p), "1.0");
    ck_assert_uint_eq(vmc_plugin_api_version(p), 1);
    /* Built before the model version existed: model 1. */
    ck_assert_uint_eq(vmc_plugin_model_version(p), 1);
    ck_assert(vmc_plugin_can_read(p));
    ck_assert(vmc_plugin_can_write(p));
    ck_assert(!vmc_plugin_can_finish(p));
    ck_assert_ptr_null(vmc_plugin_config_help(p));
    ck_assert_ptr_null(vmc_plugin_target_caps(p));
}
END_TEST

START_TEST(test_old_plugin_probes)
{
    struct vmc_loaded_plugin *p = plugin(_i);

    ck_assert_int_eq(vmc_plugin_probe(h, p, source), 100);
    ck_assert_int_eq(vmc_plugin_probe(h, p, dir), 0);
    ck_assert_int_eq(vmc_plugin_probe(h, p, "/nonexistent"), 0);
}
END_TEST

/* Read through the version 1 read, with and without options (a version
 * 1 plugin gets none, but empty options are fine).
 */
START_TEST(test_old_plugin_reads)
{
    struct vmc_loaded_plugin *p = plugin(_i);
    struct vmc_read_options opts = {
        ._struct_size = sizeof opts,
        .image_flags = VMC_IMAGE_ALLOW_OUTSIDE,
        .workdir = dir,
    };
    struct vmc_vm *vm;

    vm = vmc_plugin_read_opts(h, p, source, &opts);
    if (vm == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(vm->name, "web");
    ck_assert_uint_eq(vm->vcpus, 2);
    ck_assert_uint_eq(vm->memory, 1073741824);
    ck_assert_int_eq(vm->firmware, VMC_FIRMWARE_BIOS);
    ck_assert_uint_eq(vm->nr_disks, 2);
    ck_assert_str_eq(vm->disks[1]->path, "/vm/web-1.raw");
    ck_assert_int_eq(vm->disks[1]->bus, VMC_DISK_BUS_SATA);
    ck_assert_uint_eq(vm->disks[1]->boot_order, 2);
    ck_assert_str_eq(vm->source_plugin, variants[_i]);
    vmc_vm_free(vm);
}
END_TEST

/* Write with version 2 options (the plugin reads only outdir and name),
 * finish (it has none: succeeds), read back the same VM.
 */
START_TEST(test_old_plugin_writes)
{
    static const char *const paths[] = { "/a.qcow2", "/b.raw" };
    struct vmc_loaded_plugin *p = plugin(_i);
    struct vmc_write_options opts = { ._struct_size = sizeof opts };
    char out[PATH_MAX + 16], file[PATH_MAX + 32];
    struct vmc_vm *vm, *back;
    char *json1, *json2;

    vm = vmc_plugin_read(h, p, source);
    ck_assert_ptr_nonnull(vm);
    snprintf(out, sizeof out, "%s/out", dir);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    opts.outdir = out;
    opts.name = "copy";
    opts.nr_disks = 2;
    opts.disk_tmp_paths = paths;
    opts.disk_final_paths = paths;
    opts.libvirt_uri = "test:///default";
    if (vmc_plugin_write_opts(h, p, vm, &opts) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_plugin_finish(h, p, vm, &opts), 0);
    snprintf(file, sizeof file, "%s/copy.old", out);
    back = vmc_plugin_read(h, p, file);
    if (back == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    /* The same VM, apart from where it was read from. */
    ck_assert_int_eq(vmc_vm_set_string(back, &back->source_path, source), 0);
    json1 = vmc_vm_to_json(vm);
    json2 = vmc_vm_to_json(back);
    ck_assert_ptr_nonnull(json1);
    ck_assert_ptr_nonnull(json2);
    ck_assert_str_eq(json1, json2);
    free(json1);
    free(json2);
    vmc_vm_free(back);
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_old_plugins_tie_for_their_source)
{
    ck_assert_ptr_null(vmc_plugin_for_source(h, source));
    /* (Files load in name order: vmconv-old-v1-guard.so first.) */
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "the old-v1-guard and "
                                 "old-v1 plugins recognise this source "
                                 "equally (confidence 100)"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("plugin-old");
    TCase *tc = tcase_create("v1");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_old_plugin_loads, 0, 2);
    tcase_add_loop_test(tc, test_old_plugin_probes, 0, 2);
    tcase_add_loop_test(tc, test_old_plugin_reads, 0, 2);
    tcase_add_loop_test(tc, test_old_plugin_writes, 0, 2);
    tcase_add_test(tc, test_old_plugins_tie_for_their_source);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
