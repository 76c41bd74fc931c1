/* The VM model API: lists and their limits, strings, notes, the enum
 * name tables and the UUID/MAC helpers.
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/vm.h>

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
