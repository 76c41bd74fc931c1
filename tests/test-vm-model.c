/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM model API: lists and their limits, strings, notes, the enum
 * name tables, the UUID/MAC helpers and the digests left to the core.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/vm.h>

#include "vm-internal.h"

static struct vmc_handle *h;

static void
setup(void)
{
    h = vmc_new();
    ck_assert_ptr_nonnull(h);
}

static void
teardown(void)
{
    vmc_free(h);
    h = NULL;
}

START_TEST(test_new_is_empty)
{
    struct vmc_vm *vm = vmc_vm_new(h);

    ck_assert_ptr_nonnull(vm);
    ck_assert_ptr_eq(vm->h, h);
    ck_assert_ptr_null(vm->name);
    ck_assert_int_eq(vm->firmware, VMC_FIRMWARE_UNKNOWN);
    ck_assert_uint_eq(vm->nr_disks, 0);
    vmc_vm_free(vm);
    vmc_vm_free(NULL);
}
END_TEST

START_TEST(test_add_elements_zeroed)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_disk *d1, *d2;
    struct vmc_nic *n;

    d1 = vmc_vm_add_disk(vm);
    d2 = vmc_vm_add_disk(vm);
    n = vmc_vm_add_nic(vm);
    ck_assert_ptr_nonnull(d1);
    ck_assert_ptr_nonnull(d2);
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(vm->nr_disks, 2);
    ck_assert_ptr_eq(vm->disks[0], d1);
    ck_assert_ptr_eq(vm->disks[1], d2);
    ck_assert_int_eq(d2->bus, VMC_DISK_BUS_UNKNOWN);
    ck_assert_int_eq(d2->device, VMC_DISK_DEVICE_DISK);
    ck_assert_uint_eq(d2->boot_order, 0);
    ck_assert_int_eq(n->model, VMC_NIC_MODEL_UNKNOWN);
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_disk_limit)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    size_t i;

    for (i = 0; i < VMC_VM_MAX_DISKS; i++)
        ck_assert_ptr_nonnull(vmc_vm_add_disk(vm));
    ck_assert_ptr_null(vmc_vm_add_disk(vm));
    ck_assert_str_eq(vmc_get_error(h), "vm: more than 1024 disks");
    ck_assert_uint_eq(vm->nr_disks, VMC_VM_MAX_DISKS);
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_backing_limit)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_disk *d = vmc_vm_add_disk(vm);
    size_t i;

    for (i = 0; i < VMC_VM_MAX_BACKING; i++)
        ck_assert_int_eq(vmc_disk_add_backing(vm, d, "x"), 0);
    ck_assert_int_eq(vmc_disk_add_backing(vm, d, "x"), -1);
    ck_assert_str_eq(vmc_get_error(h),
                     "vm: more than 64 files in a disk's backing chain");
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_set_string)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    char buf[8] = "abc";

    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->name, buf), 0);
    strcpy(buf, "xyz");                 /* it copied */
    ck_assert_str_eq(vm->name, "abc");
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->name, "def"), 0);
    ck_assert_str_eq(vm->name, "def");
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->name, NULL), 0);
    ck_assert_ptr_null(vm->name);
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_notes)
{
    struct vmc_vm *vm = vmc_vm_new(h);

    ck_assert_int_eq(vmc_vm_add_note(vm, "%s: %d", "a", 1), 0);
    ck_assert_int_eq(vmc_vm_add_note(vm, "b"), 0);
    ck_assert_uint_eq(vm->nr_notes, 2);
    ck_assert_str_eq(vm->notes[0], "a: 1");
    ck_assert_str_eq(vm->notes[1], "b");
    vmc_vm_free(vm);
}
END_TEST

/* Index fields where 0 is a real slot start unknown (-1). */
START_TEST(test_new_disk_address_unknown)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_disk *d = vmc_vm_add_disk(vm);

    ck_assert_int_eq(d->controller, -1);
    ck_assert_int_eq(d->unit, -1);
    ck_assert_int_eq(d->controller_ref, -1);
    ck_assert_int_eq(vmc_snapshot_add_disk(vm, vmc_vm_add_snapshot(vm))->disk,
                     -1);
    ck_assert_ptr_nonnull(vmc_vm_add_controller(vm));
    ck_assert_ptr_nonnull(vmc_vm_add_serial(vm));
    ck_assert_uint_eq(vm->nr_controllers, 1);
    ck_assert_uint_eq(vm->nr_serials, 1);
    vmc_vm_free(vm);
}
END_TEST

static char tmpdir[] = "/tmp/vmconv-test-model.XXXXXX";

static void
make_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    close(fd);
}

static bool
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Temporary files and directories live exactly as long as the model
 * that owns them; a copy owns none; a symbolic link inside a
 * directory is removed, not followed.
 */
START_TEST(test_tmpfiles)
{
    char file[128], dir[128], sub[128], inner[128], keep[128], link[128];
    struct vmc_vm *vm, *copy;

    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(file, sizeof file, "%s/disk.vmdk", tmpdir);
    snprintf(dir, sizeof dir, "%s/work", tmpdir);
    snprintf(sub, sizeof sub, "%s/work/sub", tmpdir);
    snprintf(inner, sizeof inner, "%s/work/sub/f", tmpdir);
    snprintf(keep, sizeof keep, "%s/keep", tmpdir);
    snprintf(link, sizeof link, "%s/work/link", tmpdir);
    make_file(file);
    make_file(keep);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    make_file(inner);
    ck_assert_int_eq(symlink(keep, link), 0);

    vm = vmc_vm_new(h);
    ck_assert_int_eq(vmc_vm_add_tmpfile(vm, file), 0);
    ck_assert_int_eq(vmc_vm_add_tmpfile(vm, dir), 0);
    ck_assert_int_eq(vmc_vm_add_tmpfile(vm, "/nonexistent/already-gone"), 0);
    copy = vmc_vm_copy(vm);
    ck_assert_ptr_nonnull(copy);
    vmc_vm_free(copy);
    ck_assert(exists(file));
    ck_assert(exists(inner));
    /* Not in the JSON form. */
    {
        char *j = vmc_vm_to_json(vm);

        ck_assert_ptr_null(strstr(j, "disk.vmdk"));
        free(j);
    }
    vmc_vm_free(vm);
    ck_assert(!exists(file));
    ck_assert(!exists(dir));
    ck_assert(exists(keep));            /* the link's target stays */
    ck_assert_int_eq(unlink(keep), 0);
    ck_assert_int_eq(rmdir(tmpdir), 0);
}
END_TEST

/* Digests a reader leaves to the core: checked when added, stored in
 * lower case, copied with the model, not in its JSON form.
 */
START_TEST(test_digests)
{
    static const char sha1[] = "A9993E364706816ABA3E25717850C26C9CD0D89D";
    static const char sha256[] =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    struct vmc_vm *vm = vmc_vm_new(h), *copy;
    const struct vmc_vm_digest *d;
    size_t n;
    char *j;

    ck_assert_int_eq(vmc_vm_add_digest(vm, "range:512:3:/x/a.ova", "sha1",
                                       sha1, "/x/a.ova: disk.vmdk"), 0);
    ck_assert_int_eq(vmc_vm_add_digest(vm, "/x/b.vmdk", "SHA256", sha256,
                                       "/x/vm.ovf: b.vmdk"), 0);
    /* Refused: an unknown algorithm, a digest of the wrong length or
     * not hexadecimal, no path.
     */
    ck_assert_int_eq(vmc_vm_add_digest(vm, "/x/c", "MD5", sha1, "c"), -1);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "'MD5' is not supported"));
    ck_assert_int_eq(vmc_vm_add_digest(vm, "/x/c", "SHA256", sha1, "c"), -1);
    ck_assert_int_eq(vmc_vm_add_digest(vm, "/x/c", "SHA1",
                                       "z9993e364706816aba3e25717850c26c9cd0d89d",
                                       "c"), -1);
    ck_assert_int_eq(vmc_vm_add_digest(vm, "", "SHA1", sha1, "c"), -1);

    d = vmc_vm_digests(vm, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(d[0].path, "range:512:3:/x/a.ova");
    ck_assert_int_eq(d[0].kind, VMC_DIGEST_SHA1);
    ck_assert_str_eq(d[0].hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    ck_assert_str_eq(d[1].what, "/x/vm.ovf: b.vmdk");
    ck_assert_int_eq(d[1].kind, VMC_DIGEST_SHA256);

    copy = vmc_vm_copy(vm);
    ck_assert_ptr_nonnull(copy);
    vmc_vm_free(vm);
    d = vmc_vm_digests(copy, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(d[1].path, "/x/b.vmdk");
    ck_assert_str_eq(d[1].hex, sha256);
    j = vmc_vm_to_json(copy);
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_null(strstr(j, "b.vmdk"));
    free(j);
    vmc_vm_free(copy);
}
END_TEST

/* A reader of model version 1 sets only the disks' fields: the list of
 * controllers is derived, and a listed controller fills in its disks.
 */
START_TEST(test_sync_controllers)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_disk *d0, *d1, *d2, *d3;
    struct vmc_controller *c;

    d0 = vmc_vm_add_disk(vm);            /* scsi0:0, model unknown */
    d0->bus = VMC_DISK_BUS_SCSI;
    d0->controller = 0;
    d0->unit = 0;
    d1 = vmc_vm_add_disk(vm);            /* scsi0:1, lsilogic */
    d1->bus = VMC_DISK_BUS_SCSI;
    d1->controller = 0;
    d1->unit = 1;
    d1->controller_model = VMC_CONTROLLER_MODEL_LSILOGIC;
    d2 = vmc_vm_add_disk(vm);            /* address unknown: left alone */
    d2->bus = VMC_DISK_BUS_SATA;
    c = vmc_vm_add_controller(vm);       /* listed: nvme1, by ref only */
    c->bus = VMC_DISK_BUS_NVME;
    c->index = 1;
    d3 = vmc_vm_add_disk(vm);
    d3->controller_ref = 0;
    d3->unit = 0;

    ck_assert_int_eq(vmc_vm_sync_controllers(vm), 0);
    ck_assert_uint_eq(vm->nr_controllers, 2);
    ck_assert_int_eq(vm->controllers[1]->bus, VMC_DISK_BUS_SCSI);
    ck_assert_uint_eq(vm->controllers[1]->index, 0);
    ck_assert_int_eq(vm->controllers[1]->model,
                     VMC_CONTROLLER_MODEL_LSILOGIC);
    ck_assert_int_eq(d0->controller_ref, 1);
    ck_assert_int_eq(d1->controller_ref, 1);
    ck_assert_int_eq(d0->controller_model, VMC_CONTROLLER_MODEL_LSILOGIC);
    ck_assert_int_eq(d2->controller_ref, -1);
    ck_assert_int_eq(d3->bus, VMC_DISK_BUS_NVME);
    ck_assert_int_eq(d3->controller, 1);
    ck_assert_int_eq(vmc_vm_check(vm), 0);
    /* Idempotent. */
    ck_assert_int_eq(vmc_vm_sync_controllers(vm), 0);
    ck_assert_uint_eq(vm->nr_controllers, 2);

    /* Two models for one controller: left for vmc_vm_check. */
    d0->controller_model = VMC_CONTROLLER_MODEL_PVSCSI;
    ck_assert_int_eq(vmc_vm_sync_controllers(vm), 0);
    ck_assert_int_eq(vmc_vm_check(vm), -1);
    ck_assert_str_eq(vmc_get_error(h), "vm: disks[0]: controller model "
                     "pvscsi differs from scsi0's lsilogic");
    vmc_vm_free(vm);
}
END_TEST

/* Every name maps back to its value; unknown names and values fail. */
START_TEST(test_enum_tables)
{
    int v;

#define CHECK_ENUM(prefix, last)                                        \
    for (v = 0; v < last; v++) {                                        \
        const char *s = vmc_##prefix##_to_string(v);                    \
        ck_assert_ptr_nonnull(s);                                       \
        ck_assert_int_eq(vmc_##prefix##_from_string(s), v);             \
    }                                                                   \
    ck_assert_ptr_null(vmc_##prefix##_to_string(last));                 \
    ck_assert_ptr_null(vmc_##prefix##_to_string(-1));                   \
    ck_assert_int_eq(vmc_##prefix##_from_string("no-such-name"), -1);   \
    ck_assert_int_eq(vmc_##prefix##_from_string(NULL), -1)

    CHECK_ENUM(firmware, VMC_FIRMWARE_LAST);
    CHECK_ENUM(disk_device, VMC_DISK_DEVICE_LAST);
    CHECK_ENUM(disk_bus, VMC_DISK_BUS_LAST);
    CHECK_ENUM(controller_model, VMC_CONTROLLER_MODEL_LAST);
    CHECK_ENUM(nic_model, VMC_NIC_MODEL_LAST);
    CHECK_ENUM(net_type, VMC_NET_TYPE_LAST);
    CHECK_ENUM(video_model, VMC_VIDEO_MODEL_LAST);
    CHECK_ENUM(os_family, VMC_OS_FAMILY_LAST);
    CHECK_ENUM(nvram_kind, VMC_NVRAM_KIND_LAST);
    CHECK_ENUM(secure_boot_template, VMC_SECURE_BOOT_TEMPLATE_LAST);
    CHECK_ENUM(clock, VMC_CLOCK_LAST);
    CHECK_ENUM(serial_type, VMC_SERIAL_TYPE_LAST);
    CHECK_ENUM(connection, VMC_CONNECTION_LAST);
    CHECK_ENUM(mac_kind, VMC_MAC_KIND_LAST);
    CHECK_ENUM(graphics, VMC_GRAPHICS_LAST);
    ck_assert_str_eq(vmc_disk_bus_to_string(VMC_DISK_BUS_NVME), "nvme");
    ck_assert_int_eq(vmc_nic_model_from_string("hyperv-netvsc"),
                     VMC_NIC_MODEL_HYPERV_NETVSC);
    ck_assert_int_eq(vmc_disk_bus_from_string("SCSI"), -1);  /* exact */
}
END_TEST

START_TEST(test_uuid_normalize)
{
    char u[VMC_UUID_LEN + 1];

    ck_assert_int_eq(vmc_uuid_normalize(
        "56 4d 12 34 56 78 9a bc-de f0 12 34 56 78 9a bc", u), 0);
    ck_assert_str_eq(u, "564d1234-5678-9abc-def0-123456789abc");
    ck_assert_int_eq(vmc_uuid_normalize(
        "{83F8638B-8DCA-4152-9EDA-2CA8B33039B4}", u), 0);
    ck_assert_str_eq(u, "83f8638b-8dca-4152-9eda-2ca8b33039b4");
    ck_assert_int_eq(vmc_uuid_normalize(
        "83f8638b8dca41529eda2ca8b33039b4", u), 0);
    ck_assert_str_eq(u, "83f8638b-8dca-4152-9eda-2ca8b33039b4");
    ck_assert_int_eq(vmc_uuid_normalize("83f8638b8dca41529eda2ca8b33039b", u),
                     -1);
    ck_assert_int_eq(vmc_uuid_normalize("83f8638b8dca41529eda2ca8b33039b44",
                                        u), -1);
    ck_assert_int_eq(vmc_uuid_normalize("83f8638g8dca41529eda2ca8b33039b4",
                                        u), -1);
    ck_assert_int_eq(vmc_uuid_normalize(
        "{83f8638b-8dca-4152-9eda-2ca8b33039b4", u), -1);
    ck_assert_int_eq(vmc_uuid_normalize("", u), -1);
}
END_TEST

START_TEST(test_mac_normalize)
{
    char m[VMC_MAC_LEN + 1];

    ck_assert_int_eq(vmc_mac_normalize("00:50:56:AA:bb:Cc", m), 0);
    ck_assert_str_eq(m, "00:50:56:aa:bb:cc");
    ck_assert_int_eq(vmc_mac_normalize("00-15-5D-0A-0B-0C", m), 0);
    ck_assert_str_eq(m, "00:15:5d:0a:0b:0c");
    ck_assert_int_eq(vmc_mac_normalize("00155D0A0B0C", m), 0);
    ck_assert_str_eq(m, "00:15:5d:0a:0b:0c");
    ck_assert_int_eq(vmc_mac_normalize("00:15-5d:0a:0b:0c", m), -1);
    ck_assert_int_eq(vmc_mac_normalize("00:15:5d:0a:0b", m), -1);
    ck_assert_int_eq(vmc_mac_normalize("0:15:5d:0a:0b:0c1", m), -1);
    ck_assert_int_eq(vmc_mac_normalize("00155D0A0B0G", m), -1);
    ck_assert_int_eq(vmc_mac_normalize("", m), -1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("vm-model");
    TCase *tc = tcase_create("model");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_new_is_empty);
    tcase_add_test(tc, test_add_elements_zeroed);
    tcase_add_test(tc, test_disk_limit);
    tcase_add_test(tc, test_backing_limit);
    tcase_add_test(tc, test_set_string);
    tcase_add_test(tc, test_notes);
    tcase_add_test(tc, test_new_disk_address_unknown);
    tcase_add_test(tc, test_tmpfiles);
    tcase_add_test(tc, test_digests);
    tcase_add_test(tc, test_sync_controllers);
    tcase_add_test(tc, test_enum_tables);
    tcase_add_test(tc, test_uuid_normalize);
    tcase_add_test(tc, test_mac_normalize);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
