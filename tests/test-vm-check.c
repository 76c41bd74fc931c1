/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmc_vm_check: a valid VM passes; each kind of inconsistency is
 * refused with one error naming the source, the element and the
 * problem.
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

/* Two SCSI disks on a listed pvscsi controller, an IDE CD-ROM, two
 * NICs, a snapshot: valid.
 */
static struct vmc_vm *
base_vm(void)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_controller *c;
    struct vmc_disk *d;
    struct vmc_nic *n;
    struct vmc_snapshot *s;
    size_t i;

    ck_assert_ptr_nonnull(vm);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->source_path, "web01.vmx"), 0);
    vm->vcpus = 4;
    vm->cpu_sockets = 2;
    vm->cpu_cores = 2;
    vm->cpu_threads = 1;
    vm->memory = 4ull << 30;
    c = vmc_vm_add_controller(vm);
    c->bus = VMC_DISK_BUS_SCSI;
    c->model = VMC_CONTROLLER_MODEL_PVSCSI;
    for (i = 0; i < 2; i++) {
        d = vmc_vm_add_disk(vm);
        d->bus = VMC_DISK_BUS_SCSI;
        d->controller = 0;
        d->unit = (int) i;
        d->controller_ref = 0;
        d->boot_order = (unsigned) i + 1;
    }
    d = vmc_vm_add_disk(vm);
    d->device = VMC_DISK_DEVICE_CDROM;
    d->bus = VMC_DISK_BUS_IDE;
    d->controller = 1;
    d->unit = 0;
    for (i = 0; i < 2; i++) {
        n = vmc_vm_add_nic(vm);
        ck_assert_int_eq(vmc_vm_set_string(vm, &n->mac, i ?
                         "00:50:56:00:00:02" : "00:50:56:00:00:01"), 0);
    }
    s = vmc_vm_add_snapshot(vm);
    ck_assert_int_eq(vmc_vm_set_string(vm, &s->id, "1"), 0);
    vmc_snapshot_add_disk(vm, s)->disk = 0;
    return vm;
}

START_TEST(test_valid)
{
    struct vmc_vm *vm = base_vm();
    struct vmc_disk *d;

    if (vmc_vm_check(vm) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    /* Unknown addresses never collide; unit 0 is a real slot. */
    d = vmc_vm_add_disk(vm);
    d->bus = VMC_DISK_BUS_SCSI;
    d = vmc_vm_add_disk(vm);
    d->bus = VMC_DISK_BUS_SCSI;
    d->unit = 5;
    ck_assert_int_eq(vmc_vm_check(vm), 0);
    vmc_vm_free(vm);
    vm = vmc_vm_new(h);
    ck_assert_int_eq(vmc_vm_check(vm), 0);     /* empty is fine */
    vmc_vm_free(vm);
}
END_TEST

static void same_slot(struct vmc_vm *vm) { vm->disks[1]->unit = 0; }
static void dup_boot(struct vmc_vm *vm) { vm->disks[2]->boot_order = 1; }
static void ref_missing(struct vmc_vm *vm) { vm->disks[0]->controller_ref = 3; }
static void ref_other_bus(struct vmc_vm *vm) { vm->disks[2]->controller_ref = 0; }
static void ref_other_model(struct vmc_vm *vm)
{
    vm->disks[1]->controller_model = VMC_CONTROLLER_MODEL_LSILOGIC;
}
static void ide_unit(struct vmc_vm *vm) { vm->disks[2]->unit = 2; }
static void ide_channel(struct vmc_vm *vm) { vm->disks[2]->controller = 2; }
static void scsi_unit_7(struct vmc_vm *vm) { vm->disks[1]->unit = 7; }
static void scsi_unit_64(struct vmc_vm *vm) { vm->disks[1]->unit = 64; }
static void lsi_unit_16(struct vmc_vm *vm)
{
    vm->controllers[0]->model = VMC_CONTROLLER_MODEL_LSILOGIC;
    vm->disks[1]->unit = 16;
}
static void negative_unit(struct vmc_vm *vm) { vm->disks[0]->unit = -2; }
static void dup_mac(struct vmc_vm *vm)
{
    strcpy(vm->nics[1]->mac, "00:50:56:00:00:01");
}
static void upper_mac(struct vmc_vm *vm)
{
    strcpy(vm->nics[1]->mac, "00:50:56:00:00:0A");
}
static void snap_disk(struct vmc_vm *vm) { vm->snapshots[0]->disks[0]->disk = 3; }
static void topology(struct vmc_vm *vm) { vm->cpu_threads = 2; }
static void topology_overflow(struct vmc_vm *vm)
{
    vm->cpu_sockets = 65536;
    vm->cpu_cores = 65536;
    vm->cpu_threads = 1;
}
static void dup_controller(struct vmc_vm *vm)
{
    struct vmc_controller *c = vmc_vm_add_controller(vm);

    c->bus = VMC_DISK_BUS_SCSI;
}
static void dup_serial(struct vmc_vm *vm)
{
    vmc_vm_add_serial(vm);
    vmc_vm_add_serial(vm);
}
static void bad_enum(struct vmc_vm *vm) { vm->clock = (enum vmc_clock) 3; }
static void bad_bus(struct vmc_vm *vm)
{
    vm->controllers[0]->bus = VMC_DISK_BUS_LAST;
}
static void block_size(struct vmc_vm *vm)
{
    vm->disks[0]->logical_block_size = 4096;
    vm->disks[0]->physical_block_size = 512;
}
static void block_size_odd(struct vmc_vm *vm)
{
    vm->disks[0]->logical_block_size = 520;
}
static void missing_with_path(struct vmc_vm *vm)
{
    vm->disks[0]->missing = true;
    vm->disks[0]->path = strdup("/x.vmdk");
}
static void memory_min(struct vmc_vm *vm) { vm->memory_min = 8ull << 30; }
static void memory_max(struct vmc_vm *vm) { vm->memory_max = 1ull << 30; }
static void vlan(struct vmc_vm *vm) { vm->nics[0]->vlan = 4096; }
static void snap_parent(struct vmc_vm *vm)
{
    vm->snapshots[0]->parent = strdup("0");
}
static void snap_current(struct vmc_vm *vm)
{
    vm->current_snapshot = strdup("2");
}
static void bad_uuid(struct vmc_vm *vm)
{
    vm->uuid = strdup("564D1234-5678-9ABC-DEF0-123456789ABC");
}

static const struct {
    void (*mutate)(struct vmc_vm *vm);
    const char *error;
} bad[] = {
    { same_slot, "web01.vmx: disks[1]: scsi0:0 is already used by disks[0]" },
    { dup_boot, "web01.vmx: disks[2]: boot order 1 is also that of disks[0]" },
    { ref_missing, "web01.vmx: disks[0]: controller-ref 3 names no controller "
      "(the VM has 1)" },
    { ref_other_bus, "web01.vmx: disks[2]: on ide1, but its controller-ref 0 "
      "is scsi0" },
    { ref_other_model, "web01.vmx: disks[1]: controller model lsilogic "
      "differs from scsi0's pvscsi" },
    { ide_unit, "web01.vmx: disks[2]: unit 2 is out of range for ide (0-1)" },
    { ide_channel, "web01.vmx: disks[2]: controller ide2: a VM has at most "
      "ide1" },
    { scsi_unit_7, "web01.vmx: disks[1]: unit 7 is out of range for scsi "
      "pvscsi (0-63, not 7)" },
    { scsi_unit_64, "web01.vmx: disks[1]: unit 64 is out of range for scsi "
      "pvscsi (0-63, not 7)" },
    { lsi_unit_16, "web01.vmx: disks[1]: unit 16 is out of range for scsi "
      "lsilogic (0-15, not 7)" },
    { negative_unit, "web01.vmx: disks[0]: controller 0, unit -2: -1 is the "
      "only negative value (unknown)" },
    { dup_mac, "web01.vmx: nics[1]: MAC address 00:50:56:00:00:01 is also "
      "that of nics[0]" },
    { upper_mac, "web01.vmx: nics[1]: '00:50:56:00:00:0A' is not a MAC "
      "address in canonical form (xx:xx:xx:xx:xx:xx, lower case)" },
    { snap_disk, "web01.vmx: snapshots[0].disks[0]: disk 3 is not a disk "
      "index (the VM has 3 disks)" },
    { topology, "web01.vmx: 2 sockets * 2 cores * 2 threads is not 4 vCPUs" },
    { topology_overflow, "web01.vmx: 65536 sockets * 65536 cores * 1 threads "
      "is not 4 vCPUs" },
    { dup_controller, "web01.vmx: controllers[1]: scsi0 is also "
      "controllers[0]" },
    { dup_serial, "web01.vmx: serials[1]: port 0 is also serials[0]" },
    { bad_enum, "web01.vmx: clock: 3 is not a clock" },
    { bad_bus, "web01.vmx: controllers[0].bus: 8 is not a disk bus" },
    { block_size, "web01.vmx: disks[0]: sector sizes 4096/512: expected "
      "powers of two from 512 to 65536, physical >= logical" },
    { block_size_odd, "web01.vmx: disks[0]: sector sizes 520/0: expected "
      "powers of two from 512 to 65536, physical >= logical" },
    { missing_with_path, "web01.vmx: disks[0]: marked missing but has a "
      "path" },
    { memory_min, "web01.vmx: memory-min 8589934592 is more than the memory, "
      "4294967296" },
    { memory_max, "web01.vmx: memory-max 1073741824 is less than the memory, "
      "4294967296" },
    { vlan, "web01.vmx: nics[0]: VLAN 4096 is out of range (0-4095)" },
    { snap_parent, "web01.vmx: snapshots[0]: parent '0' is no snapshot's id" },
    { snap_current, "web01.vmx: current snapshot '2' is no snapshot's id" },
    { bad_uuid, "web01.vmx: uuid: '564D1234-5678-9ABC-DEF0-123456789ABC' is "
      "not a UUID in canonical form" },
};

START_TEST(test_refused)
{
    struct vmc_vm *vm = base_vm();

    bad[_i].mutate(vm);
    vmc_clear_error(h);
    ck_assert_int_eq(vmc_vm_check(vm), -1);
    ck_assert_ptr_nonnull(vmc_get_error(h));
    ck_assert_str_eq(vmc_get_error(h), bad[_i].error);
    vmc_vm_free(vm);
}
END_TEST

/* Without a source path, messages start with "vm". */
START_TEST(test_no_source_path)
{
    struct vmc_vm *vm = base_vm();

    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->source_path, NULL), 0);
    same_slot(vm);
    ck_assert_int_eq(vmc_vm_check(vm), -1);
    ck_assert_str_eq(vmc_get_error(h),
                     "vm: disks[1]: scsi0:0 is already used by disks[0]");
    vmc_vm_free(vm);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("vm-check");
    TCase *tc = tcase_create("check");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_valid);
    tcase_add_loop_test(tc, test_refused, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, test_no_source_path);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
