/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM model's JSON form: a full VM survives a round trip byte for
 * byte, and every kind of malformed document is refused with one error
 * naming the source and the key path.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
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

/* A VM using every field, every list and a non-default value of every
 * enum.
 */
static struct vmc_vm *
full_vm(void)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_disk *d;
    struct vmc_nic *n;
    struct vmc_snapshot *s;
    struct vmc_snapshot_disk *sd;
    struct vmc_controller *ct;
    struct vmc_serial *se;

    ck_assert_ptr_nonnull(vm);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->name, "web \"01\" / ü"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->uuid,
                     "564d1234-5678-9abc-def0-123456789abc"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->genid,
                     "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->description,
                     "line one\nline two\ttab"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->source_plugin, "vmware"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->source_path,
                     "/vms/web01/web01.vmx"), 0);
    vm->firmware = VMC_FIRMWARE_UEFI;
    vm->secure_boot = true;
    vm->tpm = true;
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->machine, "vmx-19"), 0);
    vm->vcpus = 8;
    vm->cpu_sockets = 2;
    vm->cpu_cores = 2;
    vm->cpu_threads = 2;
    vm->memory = 16ull << 30;
    vm->os_family = VMC_OS_FAMILY_LINUX;
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_distro, "rhel"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_version, "9.2"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_arch, "x86_64"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->os_id, "rhel9-64"), 0);
    vm->video = VMC_VIDEO_MODEL_VMVGA;
    vm->vram = 16 << 20;

    d = vmc_vm_add_disk(vm);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(vmc_vm_set_string(vm, &d->path,
                     "/vms/web01/web01-000002.vmdk"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &d->format, "vmdk"), 0);
    d->virtual_size = 40ull << 30;
    d->bus = VMC_DISK_BUS_SCSI;
    d->controller_model = VMC_CONTROLLER_MODEL_PVSCSI;
    d->controller = 1;
    d->unit = 3;
    d->boot_order = 1;
    d->shareable = true;
    ck_assert_int_eq(vmc_disk_add_backing(vm, d,
                     "/vms/web01/web01-000001.vmdk"), 0);
    ck_assert_int_eq(vmc_disk_add_backing(vm, d, "/vms/web01/web01.vmdk"), 0);

    d = vmc_vm_add_disk(vm);
    ck_assert_ptr_nonnull(d);
    d->device = VMC_DISK_DEVICE_CDROM;
    d->bus = VMC_DISK_BUS_SATA;
    d->controller_model = VMC_CONTROLLER_MODEL_AHCI;
    d->readonly = true;

    n = vmc_vm_add_nic(vm);
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(vmc_vm_set_string(vm, &n->mac, "00:50:56:aa:bb:cc"), 0);
    n->model = VMC_NIC_MODEL_VMXNET3;
    n->net_type = VMC_NET_TYPE_NETWORK;
    ck_assert_int_eq(vmc_vm_set_string(vm, &n->network, "VM Network"), 0);
    n = vmc_vm_add_nic(vm);
    ck_assert_ptr_nonnull(n);
    n->model = VMC_NIC_MODEL_HYPERV_LEGACY;
    n->net_type = VMC_NET_TYPE_HOST_ONLY;

    s = vmc_vm_add_snapshot(vm);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(vmc_vm_set_string(vm, &s->id, "1"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &s->name, "before upgrade"), 0);
    s->created = 1700000000;
    sd = vmc_snapshot_add_disk(vm, s);
    ck_assert_ptr_nonnull(sd);
    ck_assert_int_eq(sd->disk, -1);
    sd->disk = 0;
    ck_assert_int_eq(vmc_vm_set_string(vm, &sd->path,
                     "/vms/web01/web01.vmdk"), 0);
    sd = vmc_snapshot_add_disk(vm, s);
    ck_assert_ptr_nonnull(sd);
    ck_assert_int_eq(vmc_vm_set_string(vm, &sd->path,
                     "/vms/web01/old-data.vmdk"), 0);
    s = vmc_vm_add_snapshot(vm);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(vmc_vm_set_string(vm, &s->id, "2"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &s->parent, "1"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->current_snapshot, "2"), 0);

    ck_assert_int_eq(vmc_vm_add_note(vm, "scsi0:%d: %s", 7, "odd unit"), 0);
    ck_assert_int_eq(vmc_vm_add_note(vm, "the VM is suspended"), 0);

    /* Schema 2. */
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->source_version, "vmx-19"), 0);
    ck_assert_int_eq(vmc_vm_set_string(vm, &vm->nvram_path,
                     "/vms/web01/web01.nvram"), 0);
    vm->nvram_kind = VMC_NVRAM_KIND_VMWARE;
    vm->secure_boot_template = VMC_SECURE_BOOT_TEMPLATE_MS_UEFI_CA;
    vm->clock = VMC_CLOCK_LOCALTIME;
    vm->clock_offset = -3600;
    vm->memory_min = 1ull << 30;
    vm->memory_max = 32ull << 30;
    vm->memory_reservation = 2ull << 30;
    vm->graphics = VMC_GRAPHICS_VNC;
    ct = vmc_vm_add_controller(vm);
    ck_assert_ptr_nonnull(ct);
    ct->bus = VMC_DISK_BUS_SCSI;
    ct->index = 1;
    ct->model = VMC_CONTROLLER_MODEL_PVSCSI;
    d = vm->disks[0];
    d->controller_ref = 0;
    ck_assert_int_eq(vmc_vm_set_string(vm, &d->source_ref,
                     "[datastore1] web01/web01-000002.vmdk"), 0);
    d->logical_block_size = 512;
    d->physical_block_size = 4096;
    d = vm->disks[1];
    d->missing = true;
    d->connection = VMC_CONNECTION_DISCONNECTED;
    d->reference_only = true;
    d->controller = 0;
    ck_assert_int_eq(vmc_vm_set_string(vm, &d->source_ref,
                     "/isos/gone.iso"), 0);
    n = vm->nics[0];
    n->mac_kind = VMC_MAC_KIND_STATIC;
    ck_assert_int_eq(vmc_vm_set_string(vm, &n->network_orig, "dvPortGroup"),
                     0);
    n->vlan = 42;
    n->connection = VMC_CONNECTION_CONNECTED;
    se = vmc_vm_add_serial(vm);
    ck_assert_ptr_nonnull(se);
    se->index = 1;
    se->type = VMC_SERIAL_TYPE_TCP;
    ck_assert_int_eq(vmc_vm_set_string(vm, &se->target, "127.0.0.1:4555"),
                     0);
    return vm;
}

START_TEST(test_round_trip_identical)
{
    struct vmc_vm *vm = full_vm();
    struct vmc_vm *vm2;
    char *j1, *j2;

    j1 = vmc_vm_to_json(vm);
    ck_assert_ptr_nonnull(j1);
    vm2 = vmc_vm_from_json(h, j1, "round-trip.json");
    if (vm2 == NULL)
        ck_abort_msg("from_json: %s", vmc_get_error(h));
    j2 = vmc_vm_to_json(vm2);
    ck_assert_ptr_nonnull(j2);
    ck_assert_str_eq(j1, j2);

    /* And the values really came back, not just the text. */
    ck_assert_str_eq(vm2->name, "web \"01\" / ü");
    ck_assert_uint_eq(vm2->memory, 16ull << 30);
    ck_assert_uint_eq(vm2->nr_disks, 2);
    ck_assert_int_eq(vm2->disks[0]->bus, VMC_DISK_BUS_SCSI);
    ck_assert_uint_eq(vm2->disks[0]->unit, 3);
    ck_assert_uint_eq(vm2->disks[0]->nr_backing, 2);
    ck_assert_str_eq(vm2->disks[0]->backing[1], "/vms/web01/web01.vmdk");
    ck_assert_ptr_null(vm2->disks[1]->path);
    ck_assert_uint_eq(vm2->nr_nics, 2);
    ck_assert_int_eq(vm2->nics[1]->model, VMC_NIC_MODEL_HYPERV_LEGACY);
    ck_assert_uint_eq(vm2->nr_snapshots, 2);
    ck_assert_int_eq(vm2->snapshots[0]->disks[0]->disk, 0);
    ck_assert_int_eq(vm2->snapshots[0]->disks[1]->disk, -1);
    ck_assert_str_eq(vm2->current_snapshot, "2");
    ck_assert_uint_eq(vm2->nr_notes, 2);
    ck_assert_str_eq(vm2->notes[0], "scsi0:7: odd unit");
    ck_assert_int_eq(vm2->disks[1]->unit, -1);
    ck_assert_int_eq(vm2->disks[1]->controller, 0);
    ck_assert_int_eq(vm2->clock_offset, -3600);
    ck_assert_uint_eq(vm2->nr_controllers, 1);
    ck_assert_int_eq(vm2->disks[0]->controller_ref, 0);
    ck_assert_str_eq(vm2->serials[0]->target, "127.0.0.1:4555");
    free(j1);
    free(j2);
    vmc_vm_free(vm);
    vmc_vm_free(vm2);
}
END_TEST

/* The documented spelling of keys and values. */
START_TEST(test_schema_keys)
{
    struct vmc_vm *vm = full_vm();
    char *j = vmc_vm_to_json(vm);
    static const char *const expect[] = {
        "\"schema\": \"vmconv-vm/3\"",
        "\"firmware\": \"uefi\"",
        "\"secure-boot\": true",
        "\"memory\": 17179869184",
        "\"bus\": \"scsi\"",
        "\"controller-model\": \"pvscsi\"",
        "\"virtual-size\": 42949672960",
        "\"device\": \"cdrom\"",
        "\"network-type\": \"host-only\"",
        "\"model\": \"hyperv-legacy\"",
        "\"model\": \"vmvga\"",
        "\"family\": \"linux\"",
        "\"disk\": null",
        "\"current-snapshot\": \"2\"",
        "\"path\": \"/vms/web01/web01.vmdk\"",   /* no escaped slashes */
        "\"unit\": null",                         /* unknown: not 0 */
        "\"controller\": 0",
        "\"controller-ref\": 0",
        "\"clock\": \"localtime\"",
        "\"clock-offset\": -3600",
        "\"nvram-kind\": \"vmware-nvram\"",
        "\"secure-boot-template\": \"microsoft-uefi-ca\"",
        "\"mac-kind\": \"static\"",
        "\"vlan\": 42",
        "\"connection\": \"disconnected\"",
        "\"physical-block-size\": 4096",
        "\"type\": \"tcp\"",
    };
    size_t i;

    ck_assert_ptr_nonnull(j);
    for (i = 0; i < sizeof expect / sizeof expect[0]; i++)
        if (strstr(j, expect[i]) == NULL)
            ck_abort_msg("missing %s in\n%s", expect[i], j);
    ck_assert_int_eq(j[strlen(j) - 1], '\n');
    free(j);
    vmc_vm_free(vm);
}
END_TEST

/* An empty VM gives every key, with null / 0 / "unknown". */
START_TEST(test_empty_vm)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_vm *vm2;
    char *j, *j2;

    j = vmc_vm_to_json(vm);
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_nonnull(strstr(j, "\"name\": null"));
    ck_assert_ptr_nonnull(strstr(j, "\"firmware\": \"unknown\""));
    ck_assert_ptr_nonnull(strstr(j, "\"disks\": [\n  ]"));
    vm2 = vmc_vm_from_json(h, j, "empty.json");
    ck_assert_ptr_nonnull(vm2);
    j2 = vmc_vm_to_json(vm2);
    ck_assert_str_eq(j, j2);
    free(j);
    free(j2);
    vmc_vm_free(vm);
    vmc_vm_free(vm2);
}
END_TEST

/* Only "schema" is required; absent keys take their defaults, and
 * keys starting with "x-" are left alone.
 */
START_TEST(test_minimal_document)
{
    struct vmc_vm *vm = vmc_vm_from_json(h,
        "{ \"schema\": \"vmconv-vm/1\", \"name\": \"a\", \"x-mine\": [1],"
        "  \"disks\": [ { \"path\": \"/a.img\", \"x-note\": 1 } ],"
        "  \"uuid\": \"{564D1234-5678-9ABC-DEF0-123456789ABC}\","
        "  \"nics\": [ { \"mac\": \"00-15-5D-0A-0B-0C\" } ] }", "min.json");

    if (vm == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(vm->name, "a");
    ck_assert_uint_eq(vm->nr_disks, 1);
    ck_assert_int_eq(vm->disks[0]->bus, VMC_DISK_BUS_UNKNOWN);
    ck_assert_int_eq(vm->disks[0]->device, VMC_DISK_DEVICE_DISK);
    ck_assert_str_eq(vm->uuid, "564d1234-5678-9abc-def0-123456789abc");
    ck_assert_str_eq(vm->nics[0]->mac, "00:15:5d:0a:0b:0c");
    vmc_vm_free(vm);
}
END_TEST

/* A document of schema 1 reads as it did: an absent controller or
 * unit was 0 there.  In schema 2, absent or null is unknown (-1).
 */
START_TEST(test_schema_1_addresses)
{
    struct vmc_vm *vm;

    vm = vmc_vm_from_json(h, "{ \"schema\": \"vmconv-vm/1\", \"disks\": "
                          "[ { \"unit\": 1 }, { \"controller\": null } ] }",
                          "v1.json");
    if (vm == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_int_eq(vm->disks[0]->controller, 0);
    ck_assert_int_eq(vm->disks[0]->unit, 1);
    ck_assert_int_eq(vm->disks[1]->controller, 0);
    ck_assert_int_eq(vm->disks[1]->unit, 0);
    ck_assert_int_eq(vm->disks[1]->controller_ref, -1);
    vmc_vm_free(vm);

    vm = vmc_vm_from_json(h, "{ \"schema\": \"vmconv-vm/2\", \"disks\": "
                          "[ { \"unit\": 1 }, { \"controller\": null } ] }",
                          "v2.json");
    if (vm == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_int_eq(vm->disks[0]->controller, -1);
    ck_assert_int_eq(vm->disks[0]->unit, 1);
    ck_assert_int_eq(vm->disks[1]->controller, -1);
    ck_assert_int_eq(vm->disks[1]->unit, -1);
    vmc_vm_free(vm);
}
END_TEST

/* An enum outside its table (a reader's bug) is refused, never
 * written as a valid name: device 0 is "disk", so a broken CD-ROM
 * would otherwise become a disk.
 */
START_TEST(test_out_of_range_enum_refused)
{
    struct vmc_vm *vm = full_vm();

    vm->disks[1]->device = (enum vmc_disk_device) 7;
    ck_assert_ptr_null(vmc_vm_to_json(vm));
    ck_assert_str_eq(vmc_get_error(h), "/vms/web01/web01.vmx: disks[1].device: "
                     "7 is not a disk device");
    vm->disks[1]->device = VMC_DISK_DEVICE_CDROM;
    vm->nics[0]->mac_kind = (enum vmc_mac_kind) -1;
    ck_assert_ptr_null(vmc_vm_to_json(vm));
    ck_assert_str_eq(vmc_get_error(h), "/vms/web01/web01.vmx: nics[0].mac-kind: "
                     "-1 is not a MAC address kind");
    vmc_vm_free(vm);
}
END_TEST

/* Malformed documents and the one message each must give. */
static const struct {
    const char *json;
    const char *error;
} bad[] = {
    { "", "vm.json: invalid JSON: the text ends too early" },
    { "{ \"schema\": ", "vm.json: invalid JSON: the text ends too early" },
    { "{ \"schema\" \"x\" }",
      "vm.json: invalid JSON at byte 11: object property name separator ':' expected" },
    { "{ \"schema\": \"vmconv-vm/1\" } x",
      "vm.json: invalid JSON at byte 28: unexpected character" },
    { "[ 1 ]", "vm.json: expected a JSON object, found an array" },
    { "{ }", "vm.json: schema: missing (expected \"vmconv-vm/3\")" },
    { "{ \"schema\": 1 }",
      "vm.json: schema: expected a string or null, found an integer" },
    { "{ \"schema\": \"vmconv-vm/4\" }",
      "vm.json: schema: 'vmconv-vm/4' is not supported (this vmconv reads vmconv-vm/1, vmconv-vm/2 and vmconv-vm/3)" },
    { "{ \"schema\": \"vmconv-vm/1\", \"memroy\": 1 }",
      "vm.json: unknown key 'memroy'" },
    { "{ \"schema\": \"vmconv-vm/1\", \"memory\": -1 }",
      "vm.json: memory: -1 is negative" },
    { "{ \"schema\": \"vmconv-vm/1\", \"memory\": 1.5 }",
      "vm.json: memory: expected an integer, found a number with a fraction" },
    { "{ \"schema\": \"vmconv-vm/1\", \"memory\": 18446744073709551615 }",
      "vm.json: memory: 18446744073709551615 is larger than 9223372036854775807" },
    { "{ \"schema\": \"vmconv-vm/1\", \"vcpus\": 4294967296 }",
      "vm.json: vcpus: 4294967296 is larger than 4294967295" },
    { "{ \"schema\": \"vmconv-vm/1\", \"vcpus\": \"4\" }",
      "vm.json: vcpus: expected an integer, found a string" },
    { "{ \"schema\": \"vmconv-vm/1\", \"secure-boot\": 1 }",
      "vm.json: secure-boot: expected true or false, found an integer" },
    { "{ \"schema\": \"vmconv-vm/1\", \"firmware\": \"efi\" }",
      "vm.json: firmware: 'efi' is not a firmware (unknown, bios, uefi)" },
    { "{ \"schema\": \"vmconv-vm/1\", \"uuid\": \"1234\" }",
      "vm.json: uuid: '1234' is not a UUID" },
    { "{ \"schema\": \"vmconv-vm/1\", \"os\": [] }",
      "vm.json: os: expected an object, found an array" },
    { "{ \"schema\": \"vmconv-vm/1\", \"os\": { \"family\": \"bsd\" } }",
      "vm.json: os.family: 'bsd' is not an OS family (unknown, linux, windows, other)" },
    { "{ \"schema\": \"vmconv-vm/1\", \"os\": { \"name\": \"x\" } }",
      "vm.json: os: unknown key 'name'" },
    { "{ \"schema\": \"vmconv-vm/1\", \"video\": { \"vram\": true } }",
      "vm.json: video.vram: expected an integer, found a boolean" },
    { "{ \"schema\": \"vmconv-vm/1\", \"disks\": {} }",
      "vm.json: disks: expected an array, found an object" },
    { "{ \"schema\": \"vmconv-vm/1\", \"disks\": [ {}, \"x\" ] }",
      "vm.json: disks[1]: expected an object, found a string" },
    { "{ \"schema\": \"vmconv-vm/1\", \"disks\": [ {}, { \"bus\": \"foo\" } ] }",
      "vm.json: disks[1].bus: 'foo' is not a disk bus (unknown, ide, sata, scsi, virtio, nvme, fdc, usb)" },
    { "{ \"schema\": \"vmconv-vm/1\", \"disks\": [ { \"bsu\": \"ide\" } ] }",
      "vm.json: disks[0]: unknown key 'bsu'" },
    { "{ \"schema\": \"vmconv-vm/1\", \"disks\": [ { \"backing\": [ \"a\", 3 ] } ] }",
      "vm.json: disks[0].backing[1]: expected a string, found an integer" },
    { "{ \"schema\": \"vmconv-vm/1\", \"disks\": [ { \"unit\": -2 } ] }",
      "vm.json: disks[0].unit: -2 is negative" },
    { "{ \"schema\": \"vmconv-vm/1\", \"nics\": [ { \"mac\": \"00:50:56:aa:bb\" } ] }",
      "vm.json: nics[0].mac: '00:50:56:aa:bb' is not a MAC address (xx:xx:xx:xx:xx:xx)" },
    { "{ \"schema\": \"vmconv-vm/1\", \"nics\": [ { \"model\": \"ne2000\" } ] }",
      "vm.json: nics[0].model: 'ne2000' is not a NIC model (unknown, e1000, e1000e, vmxnet, vmxnet2, vmxnet3, pcnet, virtio, rtl8139, hyperv-netvsc, hyperv-legacy)" },
    { "{ \"schema\": \"vmconv-vm/1\", \"snapshots\": [ { \"name\": \"a\" } ] }",
      "vm.json: snapshots[0].id: missing: every snapshot needs an id" },
    { "{ \"schema\": \"vmconv-vm/1\", \"snapshots\": [ { \"id\": \"a\" }, { \"id\": \"a\" } ] }",
      "vm.json: snapshots[1].id: 'a' is used by an earlier snapshot" },
    { "{ \"schema\": \"vmconv-vm/1\", \"snapshots\": [ { \"id\": \"a\", \"parent\": \"z\" } ] }",
      "vm.json: snapshots[0].parent: no snapshot has the id 'z'" },
    { "{ \"schema\": \"vmconv-vm/1\", \"snapshots\": [ { \"id\": \"a\", \"parent\": \"b\" }, { \"id\": \"b\", \"parent\": \"a\" } ] }",
      "vm.json: snapshots[0].parent: the chain of parents loops" },
    { "{ \"schema\": \"vmconv-vm/1\", \"snapshots\": [ { \"id\": \"a\", \"parent\": \"a\" } ] }",
      "vm.json: snapshots[0].parent: the chain of parents loops" },
    { "{ \"schema\": \"vmconv-vm/1\", \"current-snapshot\": \"q\" }",
      "vm.json: current-snapshot: no snapshot has the id 'q'" },
    { "{ \"schema\": \"vmconv-vm/1\", \"disks\": [ {} ], \"snapshots\": [ { \"id\": \"a\", \"disks\": [ { \"disk\": 1 } ] } ] }",
      "vm.json: snapshots[0].disks[0].disk: 1 is not a disk index (the VM has 1 disks)" },
    { "{ \"schema\": \"vmconv-vm/1\", \"notes\": [ null ] }",
      "vm.json: notes[0]: expected a string, found null" },
    { "{ \"schema\": \"vmconv-vm/1\", \"x\": 1, \"x\": 1, \"schema\": \"b\" }",
      "vm.json: schema: 'b' is not supported (this vmconv reads vmconv-vm/1, vmconv-vm/2 and vmconv-vm/3)" },
    /* Schema 3 members. */
    { "{ \"schema\": \"vmconv-vm/3\", \"nested-virt\": 1 }",
      "vm.json: nested-virt: expected true or false, found an integer" },
    /* Schema 2 members. */
    { "{ \"schema\": \"vmconv-vm/2\", \"clock\": \"local\" }",
      "vm.json: clock: 'local' is not a clock (unknown, utc, localtime)" },
    { "{ \"schema\": \"vmconv-vm/2\", \"clock-offset\": 1.5 }",
      "vm.json: clock-offset: expected an integer, found a number with a fraction" },
    { "{ \"schema\": \"vmconv-vm/2\", \"nvram-kind\": \"vmware\" }",
      "vm.json: nvram-kind: 'vmware' is not an NVRAM kind (unknown, vmware-nvram, ovmf-vars, hyperv-vmgs)" },
    { "{ \"schema\": \"vmconv-vm/2\", \"memory-max\": -4 }",
      "vm.json: memory-max: -4 is negative" },
    { "{ \"schema\": \"vmconv-vm/2\", \"graphics\": 1 }",
      "vm.json: graphics: expected a string, found an integer" },
    { "{ \"schema\": \"vmconv-vm/2\", \"controllers\": [ { \"bus\": \"scsi\", \"slot\": 1 } ] }",
      "vm.json: controllers[0]: unknown key 'slot'" },
    { "{ \"schema\": \"vmconv-vm/2\", \"disks\": [ { \"controller-ref\": 0 } ] }",
      "vm.json: disks[0].controller-ref: 0 is not a controller index (the VM has 0 controllers)" },
    { "{ \"schema\": \"vmconv-vm/2\", \"disks\": [ { \"unit\": -1 } ] }",
      "vm.json: disks[0].unit: -1 is negative" },
    { "{ \"schema\": \"vmconv-vm/2\", \"disks\": [ { \"logical-block-size\": \"4k\" } ] }",
      "vm.json: disks[0].logical-block-size: expected an integer, found a string" },
    { "{ \"schema\": \"vmconv-vm/2\", \"disks\": [ { \"connection\": \"yes\" } ] }",
      "vm.json: disks[0].connection: 'yes' is not a connection state (unknown, connected, disconnected)" },
    { "{ \"schema\": \"vmconv-vm/2\", \"nics\": [ { \"vlan\": 4096 } ] }",
      "vm.json: nics[0].vlan: 4096 is larger than 4095" },
    { "{ \"schema\": \"vmconv-vm/2\", \"nics\": [ { \"mac-kind\": \"vpx\" } ] }",
      "vm.json: nics[0].mac-kind: 'vpx' is not a MAC address kind (unknown, static, generated, vpx-assigned, dynamic)" },
    { "{ \"schema\": \"vmconv-vm/2\", \"serials\": [ { \"type\": \"udp\" } ] }",
      "vm.json: serials[0].type: 'udp' is not a serial port type (unknown, none, file, pipe, pty, tcp, device)" },
    { "{ \"schema\": \"vmconv-vm/2\", \"serials\": [ 1 ] }",
      "vm.json: serials[0]: expected an object, found an integer" },
};

START_TEST(test_malformed)
{
    struct vmc_vm *vm;

    vmc_clear_error(h);
    vm = vmc_vm_from_json(h, bad[_i].json, "vm.json");
    if (vm != NULL)
        ck_abort_msg("accepted: %s", bad[_i].json);
    ck_assert_ptr_nonnull(vmc_get_error(h));
    ck_assert_str_eq(vmc_get_error(h), bad[_i].error);
}
END_TEST

/* Hostile sizes: too many elements, too deep, too long. */
START_TEST(test_limits)
{
    size_t n = VMC_VM_MAX_NICS + 1, i;
    char *big = malloc(64 + n * 3);
    char *p = big;
    struct vmc_vm *vm;

    p += sprintf(p, "{ \"schema\": \"vmconv-vm/1\", \"nics\": [");
    for (i = 0; i < n; i++)
        p += sprintf(p, "%s{}", i ? "," : "");
    sprintf(p, "] }");
    vm = vmc_vm_from_json(h, big, "big.json");
    ck_assert_ptr_null(vm);
    ck_assert_str_eq(vmc_get_error(h),
                     "big.json: nics: 257 elements, more than the 256 allowed");
    free(big);

    vm = vmc_vm_from_json(h, "{ \"schema\": \"vmconv-vm/1\", \"x-a\": "
                          "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]"
                          "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] }", "deep.json");
    ck_assert_ptr_null(vm);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "deep.json: invalid JSON"));

    big = malloc(VMC_VM_JSON_MAX + 2);
    memset(big, ' ', VMC_VM_JSON_MAX + 1);
    big[VMC_VM_JSON_MAX + 1] = '\0';
    vm = vmc_vm_from_json(h, big, "huge.json");
    ck_assert_ptr_null(vm);
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "more than the"));
    free(big);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("vm-json");
    TCase *tc = tcase_create("json");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip_identical);
    tcase_add_test(tc, test_schema_keys);
    tcase_add_test(tc, test_empty_vm);
    tcase_add_test(tc, test_minimal_document);
    tcase_add_test(tc, test_schema_1_addresses);
    tcase_add_test(tc, test_out_of_range_enum_refused);
    tcase_add_loop_test(tc, test_malformed, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
