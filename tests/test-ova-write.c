/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vmware plugin's OVA writer (target parameter format=ova): a model
 * and a streamOptimized VMDK made here are written as an OVA through
 * vmc_plugin_write_opts, the tar is checked (.ovf first, then the .mf,
 * then the disk; owner 0, mode 0644) and read back through the plugin's
 * own OVA reader to the same model, its disk read in place and
 * converted to the same data.  Bad inputs are refused.
 */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/convert.h>
#include <vmconv/plugin.h>

#define MiB (UINT64_C(1) << 20)
#define DISK_SIZE (8 * MiB)
#define GRAIN 65536

static struct vmc_handle *h;
static struct vmc_loaded_plugin *vmware;
static char dir[PATH_MAX];

static void
setup(void)
{
    char tmpl[] = "/tmp/vmconv-ova-write.XXXXXX";
    const char *pd = getenv("VMCONV_PLUGIN_DIR");

    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    ck_assert_ptr_nonnull(realpath(tmpl, dir));
    h = vmc_new();
    ck_assert_ptr_nonnull(h);
    if (vmc_plugins_load(h, pd) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    vmware = vmc_plugin_find(h, "vmware");
    ck_assert_ptr_nonnull(vmware);
}

static void
teardown(void)
{
    char cmd[PATH_MAX + 16];

    vmc_free(h);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* The byte at OFFSET of the test disk's data. */
static unsigned char
pattern(uint64_t offset)
{
    return (unsigned char) ((offset / 512) * 7 + 1);
}

/* Make DIR/NAME: an 8 MiB VMDK of SUBFORMAT with data in its first and
 * fifth MiB.  Returns the path (malloc'd).
 */
static char *
make_vmdk(const char *name, const char *subformat)
{
    char *path, opts[64];
    struct vmc_image *img;
    static unsigned char buf[GRAIN];
    uint64_t at[] = { 0, 4 * MiB };
    size_t i, k;

    ck_assert_int_ne(asprintf(&path, "%s/%s", dir, name), -1);
    snprintf(opts, sizeof opts, "subformat=%s", subformat);
    img = vmc_image_create(h, path, "vmdk", DISK_SIZE, opts);
    if (img == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    for (i = 0; i < 2; i++) {
        for (k = 0; k < GRAIN; k++)
            buf[k] = pattern(at[i] + k);
        ck_assert_int_eq(vmc_image_pwrite(img, buf, GRAIN, at[i]), 0);
    }
    if (vmc_image_commit(img) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_image_close(img), 0);
    return path;
}

/* The VM every test writes: what a VMware OVA can express. */
static struct vmc_vm *
make_vm(void)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_controller *c;
    struct vmc_disk *d;
    struct vmc_nic *n;

    ck_assert_ptr_nonnull(vm);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->name, "web01 & <co>"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->description,
                                       "line one\nline \"two\""), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->uuid,
                     "564d1234-5678-9abc-def0-123456789abc"), 0);
    vm->firmware = VMC_FIRMWARE_UEFI;
    vm->secure_boot = true;
    vm->vcpus = 4;
    vm->cpu_sockets = 2;
    vm->cpu_cores = 2;
    vm->cpu_threads = 1;
    vm->memory = 2048 * MiB;
    vm->os_family = VMC_OS_FAMILY_WINDOWS;
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_distro, "windows"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_version, "2019"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_arch, "x86_64"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_id,
                                       "windows2019srv_64Guest"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->source_version, "vmx-19"),
                     0);
    vm->video = VMC_VIDEO_MODEL_VMVGA;
    vm->vram = 8 * MiB;
    vm->nested_virt = true;

    c = vmc_vm_add_controller(vm);
    c->bus = VMC_DISK_BUS_SCSI;
    c->index = 0;
    c->model = VMC_CONTROLLER_MODEL_PVSCSI;
    c = vmc_vm_add_controller(vm);
    c->bus = VMC_DISK_BUS_SATA;
    c->index = 0;
    c->model = VMC_CONTROLLER_MODEL_AHCI;

    d = vmc_vm_add_disk(vm);
    d->device = VMC_DISK_DEVICE_DISK;
    d->bus = VMC_DISK_BUS_SCSI;
    d->controller = 0;
    d->unit = 0;
    d->controller_ref = 0;
    d->controller_model = VMC_CONTROLLER_MODEL_PVSCSI;
    d->virtual_size = DISK_SIZE;
    d->independent = true;
    ck_assert_int_eq(vmc_vm_set_string(vm, &d->format, "vmdk"), 0);
    d = vmc_vm_add_disk(vm);
    d->device = VMC_DISK_DEVICE_CDROM;
    d->bus = VMC_DISK_BUS_SATA;
    d->controller = 0;
    d->unit = 1;
    d->controller_ref = 1;
    d->controller_model = VMC_CONTROLLER_MODEL_AHCI;
    d->readonly = true;
    d->connection = VMC_CONNECTION_DISCONNECTED;

    n = vmc_vm_add_nic(vm);
    n->model = VMC_NIC_MODEL_VMXNET3;
    n->net_type = VMC_NET_TYPE_NETWORK;
    ck_assert_int_eq(vmc_vm_set_string(vm, &n->network, "VM Network"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &n->mac, "00:50:56:01:02:03"), 0);
    n->mac_kind = VMC_MAC_KIND_STATIC;
    n->connection = VMC_CONNECTION_CONNECTED;
    n = vmc_vm_add_nic(vm);
    n->model = VMC_NIC_MODEL_E1000E;
    n->net_type = VMC_NET_TYPE_NETWORK;
    ck_assert_int_eq(vmc_vm_set_string(vm, &n->network, "backend"), 0);
    n->connection = VMC_CONNECTION_DISCONNECTED;
    ck_assert_int_eq(vmc_vm_check(vm), 0);
    return vm;
}

/* Write VM as DIR/OUT/web01.ova from the disk images PATHS. */
static int
write_ova(const struct vmc_vm *vm, const char *out, const char *const *paths,
          const char *format_param)
{
    struct vmc_write_options o = { ._struct_size = sizeof o };
    const char *params[] = { format_param };
    char outdir[PATH_MAX + 32];

    snprintf(outdir, sizeof outdir, "%s/%s", dir, out);
    ck_assert_int_eq(mkdir(outdir, 0755), 0);
    o.outdir = outdir;
    o.final_outdir = outdir;
    o.name = "web01";
    o.nr_disks = vm->nr_disks;
    o.disk_tmp_paths = paths;
    o.disk_final_paths = paths;
    o.nr_params = 1;
    o.params = params;
    return vmc_plugin_write_opts(h, vmware, vm, &o);
}

static bool
same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The ustar members of PATH in order: names into NAMES (up to MAX). */
static size_t
tar_members(const char *path, char names[][101], size_t max)
{
    FILE *fp = fopen(path, "rb");
    unsigned char hdr[512];
    size_t n = 0;

    ck_assert_ptr_nonnull(fp);
    while (n < max && fread(hdr, 1, 512, fp) == 512 && hdr[0]) {
        uint64_t size = strtoull((const char *) hdr + 124, NULL, 8);

        memcpy(names[n], hdr, 100);
        names[n][100] = '\0';
        ck_assert_uint_eq(strtoul((const char *) hdr + 100, NULL, 8), 0644);
        ck_assert_uint_eq(strtoul((const char *) hdr + 108, NULL, 8), 0);
        ck_assert_uint_eq(strtoul((const char *) hdr + 116, NULL, 8), 0);
        ck_assert_int_eq(memcmp(hdr + 257, "ustar", 5), 0);
        n++;
        ck_assert_int_eq(fseeko(fp, (off_t) ((size + 511) / 512 * 512),
                                SEEK_CUR), 0);
    }
    fclose(fp);
    return n;
}

START_TEST(test_write_read_back)
{
    char *vmdk = make_vmdk("disk.vmdk", "streamOptimized");
    const char *paths[] = { vmdk, NULL };
    struct vmc_vm *vm = make_vm(), *back;
    char ova[PATH_MAX + 64], names[8][101], raw[PATH_MAX + 16];
    struct vmc_disk_job job = VMC_DISK_JOB_INIT;
    struct vmc_image *img;
    unsigned char buf[512];
    size_t i;

    if (write_ova(vm, "out", paths, "format=ova") == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    snprintf(ova, sizeof ova, "%s/out/web01.ova", dir);

    /* .ovf first, then the manifest, then the disk. */
    ck_assert_uint_eq(tar_members(ova, names, 8), 3);
    ck_assert_str_eq(names[0], "web01.ovf");
    ck_assert_str_eq(names[1], "web01.mf");
    ck_assert_str_eq(names[2], "web01-disk1.vmdk");

    back = vmc_plugin_read_opts(h, vmware, ova, NULL);
    if (back == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_int_eq(vmc_vm_check(back), 0);
    ck_assert_str_eq(back->name, vm->name);
    ck_assert_str_eq(back->description, vm->description);
    ck_assert_str_eq(back->uuid, vm->uuid);
    ck_assert_int_eq(back->firmware, vm->firmware);
    ck_assert(back->secure_boot);
    ck_assert_uint_eq(back->vcpus, 4);
    ck_assert_uint_eq(back->cpu_sockets, 2);
    ck_assert_uint_eq(back->cpu_cores, 2);
    ck_assert_uint_eq(back->cpu_threads, 1);
    ck_assert_uint_eq(back->memory, vm->memory);
    ck_assert_int_eq(back->os_family, vm->os_family);
    ck_assert_str_eq(back->os_distro, vm->os_distro);
    ck_assert_str_eq(back->os_version, vm->os_version);
    ck_assert_str_eq(back->os_arch, vm->os_arch);
    ck_assert_str_eq(back->os_id, vm->os_id);
    ck_assert_str_eq(back->source_version, vm->source_version);
    ck_assert_int_eq(back->video, vm->video);
    ck_assert_uint_eq(back->vram, vm->vram);
    ck_assert(back->nested_virt);

    ck_assert_uint_eq(back->nr_controllers, vm->nr_controllers);
    for (i = 0; i < vm->nr_controllers; i++) {
        ck_assert_int_eq(back->controllers[i]->bus, vm->controllers[i]->bus);
        ck_assert_uint_eq(back->controllers[i]->index,
                          vm->controllers[i]->index);
        ck_assert_int_eq(back->controllers[i]->model,
                         vm->controllers[i]->model);
    }
    ck_assert_uint_eq(back->nr_disks, vm->nr_disks);
    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *a = vm->disks[i], *b = back->disks[i];

        ck_assert_int_eq(b->device, a->device);
        ck_assert_int_eq(b->bus, a->bus);
        ck_assert_int_eq(b->controller, a->controller);
        ck_assert_int_eq(b->unit, a->unit);
        ck_assert_int_eq(b->controller_ref, a->controller_ref);
        ck_assert_int_eq(b->controller_model, a->controller_model);
        ck_assert_uint_eq(b->virtual_size, a->virtual_size);
        ck_assert(same_str(b->format, a->format));
        ck_assert_int_eq(b->readonly, a->readonly);
        ck_assert_int_eq(b->independent, a->independent);
        ck_assert_int_eq(b->nonpersistent, a->nonpersistent);
        if (a->device == VMC_DISK_DEVICE_CDROM)
            ck_assert_int_eq(b->connection, a->connection);
    }
    ck_assert_uint_eq(back->nr_nics, vm->nr_nics);
    for (i = 0; i < vm->nr_nics; i++) {
        const struct vmc_nic *a = vm->nics[i], *b = back->nics[i];

        ck_assert(same_str(b->mac, a->mac));
        ck_assert_int_eq(b->model, a->model);
        ck_assert_int_eq(b->net_type, a->net_type);
        ck_assert(same_str(b->network, a->network));
        ck_assert_int_eq(b->connection, a->connection);
    }
    ck_assert_uint_eq(back->nr_notes, 0);

    /* The disk is read in place and holds what was written. */
    ck_assert_ptr_nonnull(back->disks[0]->path);
    ck_assert_int_eq(strncmp(back->disks[0]->path, VMC_RANGE_PREFIX,
                             strlen(VMC_RANGE_PREFIX)), 0);
    snprintf(raw, sizeof raw, "%s/disk.raw", dir);
    job.src = back->disks[0]->path;
    job.dst = raw;
    job.dst_format = "raw";
    if (vmc_disk_convert(h, &job) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    img = vmc_image_open(h, raw, "raw", 0);
    ck_assert_ptr_nonnull(img);
    ck_assert_uint_eq(vmc_image_size(img), DISK_SIZE);
    ck_assert_int_eq(vmc_image_pread(img, buf, sizeof buf, 4 * MiB + 512), 0);
    for (i = 0; i < sizeof buf; i++)
        ck_assert_uint_eq(buf[i], pattern(4 * MiB + 512 + i));
    ck_assert_int_eq(vmc_image_pread(img, buf, sizeof buf, 2 * MiB), 0);
    for (i = 0; i < sizeof buf; i++)
        ck_assert_uint_eq(buf[i], 0);
    vmc_image_close(img);

    /* The OVA is never the target of a conversion of its own disk. */
    job.dst = ova;
    ck_assert_int_eq(vmc_disk_convert(h, &job), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "refusing to overwrite"));

    vmc_vm_free(back);
    vmc_vm_free(vm);
    free(vmdk);
}
END_TEST

START_TEST(test_refusals)
{
    char *sparse = make_vmdk("sparse.vmdk", "monolithicSparse");
    char *stream = make_vmdk("stream.vmdk", "streamOptimized");
    const char *bad[] = { sparse, NULL };
    const char *none[] = { NULL, NULL };
    const char *good[] = { stream, NULL };
    struct vmc_vm *vm = make_vm();

    ck_assert_int_eq(write_ova(vm, "o1", bad, "format=ova"), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h),
                                 "is not a streamOptimized VMDK"));
    ck_assert_int_eq(write_ova(vm, "o2", none, "format=ova"), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h),
                                 "disk 0 has no converted image"));
    ck_assert_int_eq(write_ova(vm, "o3", good, "format=zip"), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "unknown output format"));
    vm->memory = 0;
    ck_assert_int_eq(write_ova(vm, "o4", good, "format=ova"), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "no memory size"));
    vmc_vm_free(vm);
    free(sparse);
    free(stream);
}
END_TEST

static Suite *
ova_write_suite(void)
{
    Suite *s = suite_create("ova-write");
    TCase *tc = tcase_create("ova-write");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_read_back);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ova_write_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
