/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example plugin, loaded from the build tree through the loader:
 * probe, read of the sample, write and read back, and every kind of bad
 * description refused with its message.
 */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/plugin.h>

static struct vmc_handle *h;
static struct vmc_loaded_plugin *example;
static char dir[PATH_MAX];           /* scratch directory (realpath) */
static char plugins[PATH_MAX + 16];  /* DIR/plugins */
static char sample[PATH_MAX];

static void
setup(void)
{
    const char *top_builddir = getenv("top_builddir");
    const char *top_srcdir = getenv("top_srcdir");
    char tmpl[] = "/tmp/vmconv-example-test.XXXXXX";
    char so[PATH_MAX], abs[PATH_MAX], link[2 * PATH_MAX];

    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    ck_assert_ptr_nonnull(realpath(tmpl, dir));
    snprintf(plugins, sizeof plugins, "%s/plugins", dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    snprintf(so, sizeof so, "%s/plugins/example/.libs/vmconv-example.so",
             top_builddir ? top_builddir : "..");
    snprintf(link, sizeof link, "%s/vmconv-example.so", plugins);
    if (realpath(so, abs) == NULL)
        ck_abort_msg("%s: not built", so);
    ck_assert_int_eq(symlink(abs, link), 0);
    snprintf(sample, sizeof sample, "%s/samples/example/demo.vmconv-example",
             top_srcdir ? top_srcdir : "..");

    h = vmc_new();
    ck_assert_ptr_nonnull(h);
    if (vmc_plugins_load(h, plugins) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_uint_eq(vmc_plugins_refused_count(h), 0);
    example = vmc_plugin_find(h, "example");
    ck_assert_ptr_nonnull(example);
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

/* Write CONTENT (LEN bytes) to DIR/NAME; returns the path (static). */
static const char *
scratch_file(const char *name, const char *content, size_t len)
{
    static char path[2 * PATH_MAX];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(content, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

START_TEST(test_registration)
{
    ck_assert_str_eq(vmc_plugin_name(example), "example");
    ck_assert_str_eq(vmc_plugin_version(example), VMC_VERSION_STRING);
    ck_assert_str_eq(VMC_VERSION_STRING, PACKAGE_VERSION);
    ck_assert_str_eq(vmc_version(), VMC_VERSION_STRING);
    ck_assert_uint_eq(vmc_plugin_model_version(example), VMC_VM_MODEL_VERSION);
    ck_assert_ptr_nonnull(strstr(vmc_plugin_config_help(example),
                                 "disk-dir=DIR"));
    ck_assert_uint_eq(vmc_plugin_api_version(example), VMC_PLUGIN_API_VERSION);
    ck_assert(vmc_plugin_can_read(example));
    ck_assert(vmc_plugin_can_write(example));
    ck_assert_ptr_nonnull(strstr(vmc_plugin_description(example),
                                 ".vmconv-example"));
}
END_TEST

START_TEST(test_probe)
{
    const char *f;

    ck_assert_int_eq(vmc_plugin_probe(h, example, sample), 100);
    f = scratch_file("a.vmx", "config.version = \"8\"\n", 21);
    ck_assert_int_eq(vmc_plugin_probe(h, example, f), 0);
    f = scratch_file("short", "vmconv-example", 14);
    ck_assert_int_eq(vmc_plugin_probe(h, example, f), 0);
    /* Named like ours, not ours inside: content decides. */
    f = scratch_file("x.vmconv-example", "name = x\n", 9);
    ck_assert_int_eq(vmc_plugin_probe(h, example, f), 0);
    ck_assert_int_eq(vmc_plugin_probe(h, example, dir), 0);
    ck_assert_int_eq(vmc_plugin_probe(h, example, "/nonexistent/x"), 0);
    ck_assert_ptr_null(vmc_get_error(h));
    ck_assert_ptr_eq(vmc_plugin_for_source(h, sample), example);
}
END_TEST

START_TEST(test_read_sample)
{
    struct vmc_vm *vm = vmc_plugin_read(h, example, sample);
    char disk[2 * PATH_MAX];
    const char *top_srcdir = getenv("top_srcdir");

    if (vm == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(vm->source_plugin, "example");
    ck_assert_str_eq(vm->source_path, sample);
    ck_assert_str_eq(vm->name, "demo");
    ck_assert_str_eq(vm->uuid, "6b1c2f0e-3d4a-4b5c-9d6e-7f8091a2b3c4");
    ck_assert_str_eq(vm->description, "A small Linux VM for the quick start");
    ck_assert_int_eq(vm->firmware, VMC_FIRMWARE_UEFI);
    ck_assert(!vm->secure_boot);
    ck_assert_str_eq(vm->machine, "q35");
    ck_assert_uint_eq(vm->vcpus, 2);
    ck_assert_uint_eq(vm->cpu_sockets, 1);
    ck_assert_uint_eq(vm->cpu_cores, 2);
    ck_assert_uint_eq(vm->cpu_threads, 1);
    ck_assert_uint_eq(vm->memory, 2ull << 30);
    ck_assert_int_eq(vm->os_family, VMC_OS_FAMILY_LINUX);
    ck_assert_str_eq(vm->os_distro, "debian");
    ck_assert_str_eq(vm->os_version, "12");
    ck_assert_str_eq(vm->os_arch, "x86_64");
    ck_assert_int_eq(vm->video, VMC_VIDEO_MODEL_VIRTIO);
    ck_assert_uint_eq(vm->vram, 16 << 20);

    ck_assert_uint_eq(vm->nr_disks, 2);
    snprintf(disk, sizeof disk, "%s/samples/example/../disks/demo.vmdk",
             top_srcdir ? top_srcdir : "..");
    ck_assert_str_eq(vm->disks[0]->path, disk);
    ck_assert_str_eq(vm->disks[0]->format, "vmdk");
    ck_assert_uint_eq(vm->disks[0]->virtual_size, 64 << 20);
    ck_assert_int_eq(vm->disks[0]->device, VMC_DISK_DEVICE_DISK);
    ck_assert_int_eq(vm->disks[0]->bus, VMC_DISK_BUS_VIRTIO);
    ck_assert_uint_eq(vm->disks[0]->boot_order, 1);
    ck_assert_ptr_null(vm->disks[1]->path);
    ck_assert_int_eq(vm->disks[1]->device, VMC_DISK_DEVICE_CDROM);
    ck_assert_int_eq(vm->disks[1]->bus, VMC_DISK_BUS_SATA);
    ck_assert_int_eq(vm->disks[1]->controller_model,
                     VMC_CONTROLLER_MODEL_AHCI);
    ck_assert_uint_eq(vm->disks[1]->unit, 1);
    ck_assert(vm->disks[1]->readonly);

    ck_assert_uint_eq(vm->nr_nics, 1);
    ck_assert_str_eq(vm->nics[0]->mac, "52:54:00:12:34:56");
    ck_assert_int_eq(vm->nics[0]->model, VMC_NIC_MODEL_VIRTIO);
    ck_assert_int_eq(vm->nics[0]->net_type, VMC_NET_TYPE_NETWORK);
    ck_assert_str_eq(vm->nics[0]->network, "default");
    vmc_vm_free(vm);
}
END_TEST

/* Read the sample, write it, read the result: the same model. */
START_TEST(test_write_read_back)
{
    struct vmc_vm *vm1, *vm2;
    char out[PATH_MAX + 16], file[2 * PATH_MAX], msg[3 * PATH_MAX];
    char *j1, *j2;
    struct stat st;

    vm1 = vmc_plugin_read(h, example, sample);
    ck_assert_ptr_nonnull(vm1);
    snprintf(out, sizeof out, "%s/out", dir);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    if (vmc_plugin_write(h, example, vm1, out, "copy") == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    snprintf(file, sizeof file, "%s/copy.vmconv-example", out);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(vmc_plugin_probe(h, example, file), 100);
    vm2 = vmc_plugin_read(h, example, file);
    if (vm2 == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_vm_set_string(vm2, &vm2->source_path, sample), 0);
    j1 = vmc_vm_to_json(vm1);
    j2 = vmc_vm_to_json(vm2);
    ck_assert_str_eq(j1, j2);

    /* Never overwrites. */
    ck_assert_int_eq(vmc_plugin_write(h, example, vm1, out, "copy"), -1);
    snprintf(msg, sizeof msg, "create: %s: File exists", file);
    ck_assert_str_eq(vmc_get_error(h), msg);
    free(j1);
    free(j2);
    vmc_vm_free(vm1);
    vmc_vm_free(vm2);
}
END_TEST

START_TEST(test_write_refuses_unrepresentable)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    char file[2 * PATH_MAX], msg[3 * PATH_MAX];
    struct stat st;

    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->name, "x"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->description, "two\nlines"),
                     0);
    ck_assert_int_eq(vmc_plugin_write(h, example, vm, dir, "x"), -1);
    snprintf(file, sizeof file, "%s/x.vmconv-example", dir);
    snprintf(msg, sizeof msg, "%s: description: the example format cannot "
             "hold the value 'two\nlines' (one line, no blanks at either "
             "end)", file);
    ck_assert_str_eq(vmc_get_error(h), msg);
    /* No partial file is left behind. */
    ck_assert_int_eq(stat(file, &st), -1);
    vmc_vm_free(vm);
}
END_TEST

/* The format needs a name: a VM without one takes the files' name. */
START_TEST(test_write_unnamed_vm)
{
    struct vmc_vm *vm = vmc_vm_new(h), *back;
    char file[2 * PATH_MAX];

    vm->vcpus = 3;
    ck_assert_int_eq(vmc_plugin_write(h, example, vm, dir, "anon"), 0);
    snprintf(file, sizeof file, "%s/anon.vmconv-example", dir);
    back = vmc_plugin_read(h, example, file);
    if (back == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(back->name, "anon");
    ck_assert_uint_eq(back->vcpus, 3);
    vmc_vm_free(vm);
    vmc_vm_free(back);
}
END_TEST

START_TEST(test_write_missing_outdir)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    char msg[2 * PATH_MAX];

    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->name, "x"), 0);
    ck_assert_int_eq(vmc_plugin_write(h, example, vm, "/nonexistent/out",
                                      "x"), -1);
    snprintf(msg, sizeof msg, "create: /nonexistent/out/x.vmconv-example: "
             "No such file or directory");
    ck_assert_str_eq(vmc_get_error(h), msg);
    vmc_vm_free(vm);
}
END_TEST

/* Bad descriptions: the text after the first line, and the message
 * after "FILE: ".
 */
static const struct {
    const char *text;
    const char *error;
} bad[] = {
    { "hello\n", "line 1: not an example VM description (it must start "
      "with \"vmconv-example 1\")" },
    { "vmconv-example 2\nname = a\n", "line 1: format version '2' is not "
      "supported (this plugin reads version 1)" },
    { "vmconv-example 1\n# no name\nvcpus = 1\n", "the VM has no name "
      "(add 'name = ...')" },
    { "vmconv-example 1\nname = a\nmemory = 12Q\n", "line 3: memory: '12Q' "
      "is not a size (a number, optionally followed by K, M, G, T or P)" },
    { "vmconv-example 1\nname = a\nmemory = G\n", "line 3: memory: 'G' "
      "is not a size (a number, optionally followed by K, M, G, T or P)" },
    { "vmconv-example 1\nname = a\nmemory = 99999999999T\n", "line 3: "
      "memory: '99999999999T' is too large" },
    { "vmconv-example 1\nname = a\nmemory = 99999999999999999999999\n",
      "line 3: memory: '99999999999999999999999' is too large" },
    { "vmconv-example 1\nname = a\nvcpus = 5000\n", "line 3: vcpus: 5000 "
      "is more than 4096" },
    { "vmconv-example 1\nname = a\nvcpus = -1\n", "line 3: vcpus: '-1' is "
      "not a number" },
    { "vmconv-example 1\nname = a\nvcpus = 2M\n", "line 3: vcpus: '2M' is "
      "not a number" },
    { "vmconv-example 1\nname = a\nsecure-boot = maybe\n", "line 3: "
      "secure-boot: 'maybe' is not yes or no" },
    { "vmconv-example 1\nname = a\nuuid = 1234\n", "line 3: uuid: '1234' "
      "is not a UUID" },
    { "vmconv-example 1\nname = a\n[disk]\nbus = foo\n", "line 4: bus: "
      "'foo' is not a known value" },
    { "vmconv-example 1\nname = a\n[disk]\nbsu = ide\n", "line 4: unknown "
      "key 'bsu' in [disk]" },
    { "vmconv-example 1\nname = a\n[nic]\nmac = zz\n", "line 4: mac: 'zz' "
      "is not a MAC address" },
    { "vmconv-example 1\nname = a\n[nic]\nnetwork = a\nbridge = b\n",
      "line 5: a [nic] has one network or bridge" },
    { "vmconv-example 1\nname = a\n[cdrom]\n", "line 3: unknown section "
      "'[cdrom]' (use [disk] or [nic])" },
    { "vmconv-example 1\ncolour = red\n", "line 2: unknown key 'colour'" },
    { "vmconv-example 1\nname =\n", "line 2: name: the value is empty" },
    { "vmconv-example 1\r\njust words\r\n", "line 2: expected 'key = "
      "value'" },
};

START_TEST(test_read_bad)
{
    const char *f = scratch_file("bad.vmconv-example", bad[_i].text,
                                 strlen(bad[_i].text));
    char msg[3 * PATH_MAX];

    ck_assert_ptr_null(vmc_plugin_read(h, example, f));
    snprintf(msg, sizeof msg, "%s: %s", f, bad[_i].error);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

START_TEST(test_read_nul_byte)
{
    static const char text[] = "vmconv-example 1\nname = a\0\nvcpus = 9\n";
    const char *f = scratch_file("nul.vmconv-example", text,
                                 sizeof text - 1);
    char msg[3 * PATH_MAX];

    ck_assert_ptr_null(vmc_plugin_read(h, example, f));
    snprintf(msg, sizeof msg, "%s: not a text file (NUL byte at offset 25)",
             f);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

START_TEST(test_read_too_many_disks)
{
    size_t n = VMC_VM_MAX_DISKS + 1, i;
    char *text = malloc(64 + n * 7);
    char *p = text;
    const char *f;
    char msg[3 * PATH_MAX];

    p += sprintf(p, "vmconv-example 1\nname = a\n");
    for (i = 0; i < n; i++)
        p += sprintf(p, "[disk]\n");
    f = scratch_file("many.vmconv-example", text, strlen(text));
    ck_assert_ptr_null(vmc_plugin_read(h, example, f));
    snprintf(msg, sizeof msg, "%s: line %zu: more than 1024 disks", f, n + 2);
    ck_assert_str_eq(vmc_get_error(h), msg);
    free(text);
}
END_TEST

START_TEST(test_read_too_big)
{
    size_t len = 1024 * 1024 + 1;
    char *text = malloc(len);
    const char *f;
    char msg[3 * PATH_MAX];

    memset(text, '#', len);
    memcpy(text, "vmconv-example 1\n", 17);
    f = scratch_file("big.vmconv-example", text, len);
    ck_assert_ptr_null(vmc_plugin_read(h, example, f));
    snprintf(msg, sizeof msg, "%s: file is 1048577 bytes, more than the "
             "1048576 allowed", f);
    ck_assert_str_eq(vmc_get_error(h), msg);
    free(text);
}
END_TEST

/* read2's parameters arrive: disk-dir moves where relative disk names
 * are resolved; an unknown parameter is refused by name.
 */
START_TEST(test_read_param_disk_dir)
{
    static const char *const params[] = { "disk-dir=/datastore/vms" };
    static const char *const unknown[] = { "colour=blue" };
    struct vmc_read_options opts = {
        ._struct_size = sizeof opts, .nr_params = 1, .params = params,
    };
    char msg[2 * PATH_MAX];
    struct vmc_vm *vm;

    vm = vmc_plugin_read_opts(h, example, sample, &opts);
    if (vm == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(vm->disks[0]->path, "/datastore/vms/../disks/demo.vmdk");
    vmc_vm_free(vm);

    opts.params = unknown;
    ck_assert_ptr_null(vmc_plugin_read_opts(h, example, sample, &opts));
    snprintf(msg, sizeof msg, "%s: example plugin: unknown parameter "
             "'colour=blue' (it takes disk-dir=DIR)", sample);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

/* The target capabilities it declares, as the core hands them out. */
START_TEST(test_target_caps)
{
    const struct vmc_target_caps *c = vmc_plugin_target_caps(example);

    ck_assert_ptr_nonnull(c);
    ck_assert(c->disk_buses & VMC_CAP(VMC_DISK_BUS_VIRTIO));
    ck_assert(c->disk_buses & VMC_CAP(VMC_DISK_BUS_USB));
    ck_assert(!(c->disk_buses & VMC_CAP(VMC_DISK_BUS_UNKNOWN)));
    ck_assert_int_eq(c->default_disk_bus, VMC_DISK_BUS_VIRTIO);
    ck_assert_int_eq(c->default_nic_model, VMC_NIC_MODEL_VIRTIO);
    ck_assert_str_eq(c->disk_formats[0].format, "qcow2");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("plugin-example");
    TCase *tc = tcase_create("example");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registration);
    tcase_add_test(tc, test_read_param_disk_dir);
    tcase_add_test(tc, test_target_caps);
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_read_sample);
    tcase_add_test(tc, test_write_read_back);
    tcase_add_test(tc, test_write_refuses_unrepresentable);
    tcase_add_test(tc, test_write_unnamed_vm);
    tcase_add_test(tc, test_write_missing_outdir);
    tcase_add_loop_test(tc, test_read_bad, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, test_read_nul_byte);
    tcase_add_test(tc, test_read_too_many_disks);
    tcase_add_test(tc, test_read_too_big);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
