/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every field of the VM model is handled everywhere: freed, written and
 * read as JSON, deep-copied, printed for people and documented in
 * vmconv-vm-json(5).
 *
 * The tables below list each field of each struct of vm.h.  A layout
 * check proves that a table covers its whole struct (a field appended
 * to vm.h and not listed here fails it), and the tests then use the
 * tables to compare models field by field, so a field forgotten in
 * vmc_vm_free (leak), vmc_vm_to_json / vmc_vm_from_json (round trip),
 * vmc_vm_copy (equality, no shared pointers), cli_print_vm (its text
 * is missing) or the POD (its key is missing) fails a test naming it.
 *
 * One hole remains: a small field appended into a struct's tail
 * padding (a bool after a bool) does not change the struct's size.
 * The round-trip and print tests catch it only once it is listed.
 */
#include <config.h>

#include <check.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <vmconv/vm.h>

#include "cli/vm-print.h"
#include "testlib.h"

/* Counting live heap blocks, to prove that vmc_vm_free frees every
 * field.  malloc and friends defined here replace the C library's for
 * the whole process, json-c and libvmconv included.  Under
 * AddressSanitizer, whose own allocator must not be replaced, its leak
 * checker does this job instead.
 */
#ifndef __SANITIZE_ADDRESS__
#define COUNT_BLOCKS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static long live_blocks;

void *
malloc(size_t n)
{
    void *p = __libc_malloc(n);

    if (p)
        __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}

void *
calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);

    if (p)
        __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}

void *
realloc(void *p, size_t n)
{
    void *q = __libc_realloc(p, n);

    if (p == NULL && q)
        __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    else if (p && n == 0 && q == NULL)
        __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    return q;
}

void
free(void *p)
{
    if (p)
        __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    __libc_free(p);
}
#endif

enum kind {
    K_HANDLE,                    /* vm->h: same handle, not printed */
    K_STR,                       /* char *, NULL by default */
    K_BOOL,
    K_UINT,                      /* unsigned */
    K_INT,                       /* int, -1 by default (an index) */
    K_U32,
    K_U64,
    K_I64,
    K_ENUM,                      /* 0 by default */
    K_NR,                        /* the count of the list that follows */
    K_LIST,                      /* T **, elements described by SUB */
    K_STRS,                      /* char ** */
};

struct table;

struct field {
    const char *name;
    size_t off;
    size_t size;
    enum kind kind;
    const struct table *sub;     /* K_LIST */
    const char *print;           /* text cli_print_vm shows for the value
                                    full_vm gives it */
};

struct table {
    const char *name;
    size_t size;
    size_t align;
    const struct field *f;
    size_t n;
};

#define F(T, m, k, p) { #m, offsetof(T, m), sizeof ((T *) 0)->m, k, NULL, p }
#define L(T, m, sub, p) \
    { #m, offsetof(T, m), sizeof ((T *) 0)->m, K_LIST, &sub, p }
#define TABLE(var, T, fields) \
    static const struct table var = { #T, sizeof (T), alignof (T), fields, \
        sizeof fields / sizeof fields[0] }

static const struct field disk_fields[] = {
    F(struct vmc_disk, path, K_STR, "/vms/web01/web01-000002.vmdk"),
    F(struct vmc_disk, format, K_STR, "(vmdk, "),
    F(struct vmc_disk, virtual_size, K_U64, "40 GiB)"),
    F(struct vmc_disk, device, K_ENUM, "cdrom on "),
    F(struct vmc_disk, bus, K_ENUM, "disk on scsi"),
    F(struct vmc_disk, controller_model, K_ENUM, "(pvscsi, "),
    F(struct vmc_disk, controller, K_INT, "scsi 1:3"),
    F(struct vmc_disk, unit, K_INT, "scsi 1:3"),
    F(struct vmc_disk, boot_order, K_UINT, "boot 1"),
    F(struct vmc_disk, readonly, K_BOOL, "read-only"),
    F(struct vmc_disk, shareable, K_BOOL, "shareable"),
    F(struct vmc_disk, nr_backing, K_NR, NULL),
    F(struct vmc_disk, backing, K_STRS, "backed by /vms/web01/web01.vmdk"),
    F(struct vmc_disk, source_ref, K_STR,
      "written as [datastore1] web01/web01-000002.vmdk"),
    F(struct vmc_disk, missing, K_BOOL, ": missing"),
    F(struct vmc_disk, logical_block_size, K_U32, "sectors 512/"),
    F(struct vmc_disk, physical_block_size, K_U32, "/4096 bytes"),
    F(struct vmc_disk, controller_ref, K_INT, "controllers[0])"),
    F(struct vmc_disk, connection, K_ENUM, ", disconnected"),
    F(struct vmc_disk, reference_only, K_BOOL, "referenced (not converted)"),
    F(struct vmc_disk, independent, K_BOOL, ", independent"),
    F(struct vmc_disk, nonpersistent, K_BOOL, ", nonpersistent"),
};
TABLE(disk_table, struct vmc_disk, disk_fields);

static const struct field nic_fields[] = {
    F(struct vmc_nic, mac, K_STR, "00:50:56:aa:bb:cc"),
    F(struct vmc_nic, model, K_ENUM, "vmxnet3 00:50:56:aa:bb:cc"),
    F(struct vmc_nic, net_type, K_ENUM, " on network "),
    F(struct vmc_nic, network, K_STR, "network VM Network"),
    F(struct vmc_nic, network_orig, K_STR, "(source network dvPortGroup)"),
    F(struct vmc_nic, vlan, K_UINT, "VLAN 42"),
    F(struct vmc_nic, connection, K_ENUM, "VLAN 42, connected"),
    F(struct vmc_nic, mac_kind, K_ENUM, "00:50:56:aa:bb:cc (static)"),
};
TABLE(nic_table, struct vmc_nic, nic_fields);

static const struct field snapshot_disk_fields[] = {
    F(struct vmc_snapshot_disk, disk, K_INT, "disk 0: /vms/web01/snap.vmdk"),
    F(struct vmc_snapshot_disk, path, K_STR, "/vms/web01/old-data.vmdk"),
};
TABLE(snapshot_disk_table, struct vmc_snapshot_disk, snapshot_disk_fields);

static const struct field snapshot_fields[] = {
    F(struct vmc_snapshot, id, K_STR, "snapshot:    snap-a"),
    F(struct vmc_snapshot, name, K_STR, "\"before upgrade\""),
    F(struct vmc_snapshot, parent, K_STR, ", parent snap-a"),
    F(struct vmc_snapshot, description, K_STR, "the state before 9.3"),
    F(struct vmc_snapshot, created, K_I64, "created 1700000000"),
    F(struct vmc_snapshot, nr_disks, K_NR, NULL),
    L(struct vmc_snapshot, disks, snapshot_disk_table, "a removed disk: "),
};
TABLE(snapshot_table, struct vmc_snapshot, snapshot_fields);

static const struct field controller_fields[] = {
    F(struct vmc_controller, bus, K_ENUM, "controller:  scsi1"),
    F(struct vmc_controller, index, K_UINT, "controller:  scsi1"),
    F(struct vmc_controller, model, K_ENUM, "scsi1 (pvscsi)"),
};
TABLE(controller_table, struct vmc_controller, controller_fields);

static const struct field serial_fields[] = {
    F(struct vmc_serial, index, K_UINT, "serial 1:"),
    F(struct vmc_serial, type, K_ENUM, "serial 1:    tcp"),
    F(struct vmc_serial, target, K_STR, "tcp 127.0.0.1:4555"),
};
TABLE(serial_table, struct vmc_serial, serial_fields);

static const struct field vm_fields[] = {
    F(struct vmc_vm, h, K_HANDLE, NULL),
    F(struct vmc_vm, name, K_STR, "name:        web01"),
    F(struct vmc_vm, uuid, K_STR, "564d1234-5678-9abc-def0-123456789abc"),
    F(struct vmc_vm, genid, K_STR, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
    F(struct vmc_vm, description, K_STR, "the web server"),
    F(struct vmc_vm, source_plugin, K_STR, "(vmware plugin)"),
    F(struct vmc_vm, source_path, K_STR, "source:      /vms/web01/web01.vmx"),
    F(struct vmc_vm, firmware, K_ENUM, "firmware:    uefi"),
    F(struct vmc_vm, secure_boot, K_BOOL, "secure boot on"),
    F(struct vmc_vm, tpm, K_BOOL, ", TPM"),
    F(struct vmc_vm, machine, K_STR, "machine:     pc-q35"),
    F(struct vmc_vm, vcpus, K_UINT, "vcpus:       8"),
    F(struct vmc_vm, cpu_sockets, K_UINT, "2 sockets"),
    F(struct vmc_vm, cpu_cores, K_UINT, "2 cores"),
    F(struct vmc_vm, cpu_threads, K_UINT, "2 threads"),
    F(struct vmc_vm, memory, K_U64, "memory:      16 GiB"),
    F(struct vmc_vm, os_family, K_ENUM, "guest os:    linux"),
    F(struct vmc_vm, os_distro, K_STR, "linux rhel"),
    F(struct vmc_vm, os_version, K_STR, "rhel 9.2"),
    F(struct vmc_vm, os_arch, K_STR, "9.2 x86_64"),
    F(struct vmc_vm, os_id, K_STR, "(rhel9-64)"),
    F(struct vmc_vm, video, K_ENUM, "video:       vmvga"),
    F(struct vmc_vm, vram, K_U64, "vmvga, 16 MiB"),
    F(struct vmc_vm, nr_disks, K_NR, NULL),
    L(struct vmc_vm, disks, disk_table, "disk 1:"),
    F(struct vmc_vm, nr_nics, K_NR, NULL),
    L(struct vmc_vm, nics, nic_table, "nic 0:"),
    F(struct vmc_vm, nr_snapshots, K_NR, NULL),
    L(struct vmc_vm, snapshots, snapshot_table, "snapshot:"),
    F(struct vmc_vm, current_snapshot, K_STR, ", current"),
    F(struct vmc_vm, nr_notes, K_NR, NULL),
    F(struct vmc_vm, notes, K_STRS, "note:        the VM is suspended"),
    F(struct vmc_vm, source_version, K_STR, "version:     vmx-19"),
    F(struct vmc_vm, nvram_path, K_STR, "nvram:       /vms/web01/web01.nvram"),
    F(struct vmc_vm, nvram_kind, K_ENUM, "(vmware-nvram)"),
    F(struct vmc_vm, secure_boot_template, K_ENUM,
      "(microsoft-uefi-ca keys)"),
    F(struct vmc_vm, clock, K_ENUM, "clock:       localtime"),
    F(struct vmc_vm, clock_offset, K_I64, "localtime, -3600 s"),
    F(struct vmc_vm, memory_min, K_U64, "min 1 GiB"),
    F(struct vmc_vm, memory_max, K_U64, "max 32 GiB"),
    F(struct vmc_vm, memory_reservation, K_U64, "reserved 2 GiB"),
    F(struct vmc_vm, graphics, K_ENUM, "graphics:    vnc"),
    F(struct vmc_vm, nr_controllers, K_NR, NULL),
    L(struct vmc_vm, controllers, controller_table, "controller:"),
    F(struct vmc_vm, nr_serials, K_NR, NULL),
    L(struct vmc_vm, serials, serial_table, "serial 1:"),
    F(struct vmc_vm, nested_virt, K_BOOL, ", nested virtualisation"),
};
TABLE(vm_table, struct vmc_vm, vm_fields);

static const struct table *const tables[] = {
    &vm_table, &disk_table, &nic_table, &snapshot_table,
    &snapshot_disk_table, &controller_table, &serial_table,
};
#define NR_TABLES (sizeof tables / sizeof tables[0])

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

#define S(field, value) \
    ck_assert_int_eq(vmc_vm_set_string(vm, &(field), value), 0)

/* A valid VM in which every field of every struct holds a value other
 * than its default somewhere (test_every_field_set checks it).
 */
static struct vmc_vm *
full_vm(void)
{
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_disk *d;
    struct vmc_nic *n;
    struct vmc_snapshot *s;
    struct vmc_snapshot_disk *sd;
    struct vmc_controller *c;
    struct vmc_serial *se;

    ck_assert_ptr_nonnull(vm);
    S(vm->name, "web01");
    S(vm->uuid, "564d1234-5678-9abc-def0-123456789abc");
    S(vm->genid, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    S(vm->description, "the web server");
    S(vm->source_plugin, "vmware");
    S(vm->source_path, "/vms/web01/web01.vmx");
    S(vm->source_version, "vmx-19");
    vm->firmware = VMC_FIRMWARE_UEFI;
    vm->secure_boot = true;
    vm->secure_boot_template = VMC_SECURE_BOOT_TEMPLATE_MS_UEFI_CA;
    vm->tpm = true;
    S(vm->nvram_path, "/vms/web01/web01.nvram");
    vm->nvram_kind = VMC_NVRAM_KIND_VMWARE;
    S(vm->machine, "pc-q35");
    vm->clock = VMC_CLOCK_LOCALTIME;
    vm->clock_offset = -3600;
    vm->vcpus = 8;
    vm->cpu_sockets = 2;
    vm->cpu_cores = 2;
    vm->cpu_threads = 2;
    vm->memory = 16ull << 30;
    vm->memory_min = 1ull << 30;
    vm->memory_max = 32ull << 30;
    vm->memory_reservation = 2ull << 30;
    vm->os_family = VMC_OS_FAMILY_LINUX;
    S(vm->os_distro, "rhel");
    S(vm->os_version, "9.2");
    S(vm->os_arch, "x86_64");
    S(vm->os_id, "rhel9-64");
    vm->video = VMC_VIDEO_MODEL_VMVGA;
    vm->vram = 16 << 20;
    vm->graphics = VMC_GRAPHICS_VNC;
    vm->nested_virt = true;

    c = vmc_vm_add_controller(vm);
    ck_assert_ptr_nonnull(c);
    c->bus = VMC_DISK_BUS_SCSI;
    c->index = 1;
    c->model = VMC_CONTROLLER_MODEL_PVSCSI;

    d = vmc_vm_add_disk(vm);
    ck_assert_ptr_nonnull(d);
    S(d->path, "/vms/web01/web01-000002.vmdk");
    S(d->source_ref, "[datastore1] web01/web01-000002.vmdk");
    S(d->format, "vmdk");
    d->virtual_size = 40ull << 30;
    d->logical_block_size = 512;
    d->physical_block_size = 4096;
    d->bus = VMC_DISK_BUS_SCSI;
    d->controller_model = VMC_CONTROLLER_MODEL_PVSCSI;
    d->controller_ref = 0;
    d->controller = 1;
    d->unit = 3;
    d->boot_order = 1;
    d->shareable = true;
    d->independent = true;
    d->nonpersistent = true;
    ck_assert_int_eq(vmc_disk_add_backing(vm, d,
                     "/vms/web01/web01-000001.vmdk"), 0);
    ck_assert_int_eq(vmc_disk_add_backing(vm, d, "/vms/web01/web01.vmdk"), 0);

    d = vmc_vm_add_disk(vm);
    ck_assert_ptr_nonnull(d);
    S(d->source_ref, "/isos/gone.iso");
    d->missing = true;
    d->device = VMC_DISK_DEVICE_CDROM;
    d->bus = VMC_DISK_BUS_SATA;
    d->controller = 0;
    d->readonly = true;
    d->connection = VMC_CONNECTION_DISCONNECTED;
    d->reference_only = true;

    n = vmc_vm_add_nic(vm);
    ck_assert_ptr_nonnull(n);
    S(n->mac, "00:50:56:aa:bb:cc");
    n->mac_kind = VMC_MAC_KIND_STATIC;
    n->model = VMC_NIC_MODEL_VMXNET3;
    n->net_type = VMC_NET_TYPE_NETWORK;
    S(n->network, "VM Network");
    S(n->network_orig, "dvPortGroup");
    n->vlan = 42;
    n->connection = VMC_CONNECTION_CONNECTED;

    se = vmc_vm_add_serial(vm);
    ck_assert_ptr_nonnull(se);
    se->index = 1;
    se->type = VMC_SERIAL_TYPE_TCP;
    S(se->target, "127.0.0.1:4555");

    s = vmc_vm_add_snapshot(vm);
    ck_assert_ptr_nonnull(s);
    S(s->id, "snap-a");
    S(s->name, "before upgrade");
    S(s->description, "the state before 9.3");
    s->created = 1700000000;
    sd = vmc_snapshot_add_disk(vm, s);
    ck_assert_ptr_nonnull(sd);
    sd->disk = 0;
    S(sd->path, "/vms/web01/snap.vmdk");
    sd = vmc_snapshot_add_disk(vm, s);
    ck_assert_ptr_nonnull(sd);
    S(sd->path, "/vms/web01/old-data.vmdk");
    s = vmc_vm_add_snapshot(vm);
    ck_assert_ptr_nonnull(s);
    S(s->id, "snap-b");
    S(s->parent, "snap-a");
    S(vm->current_snapshot, "snap-b");

    ck_assert_int_eq(vmc_vm_add_note(vm, "the VM is suspended"), 0);
    return vm;
}

/* ---- Walking models through the tables ------------------------------ */

#define AT(p, f) ((const char *) (p) + (f)->off)

static size_t
count_of(const void *p, const struct table *t, size_t i)
{
    /* A list's count is the K_NR field just before it. */
    ck_assert_msg(i > 0 && t->f[i - 1].kind == K_NR,
                  "%s.%s: no count before it", t->name, t->f[i].name);
    return *(const size_t *) AT(p, &t->f[i - 1]);
}

/* Is the field's value its default (what a zeroed element holds, or -1
 * for an index)?
 */
static bool
is_default(const void *p, const struct field *f)
{
    switch (f->kind) {
    case K_HANDLE: return false;
    case K_STR: case K_LIST: case K_STRS:
        return *(void *const *) AT(p, f) == NULL;
    case K_BOOL: return !*(const bool *) AT(p, f);
    case K_INT: return *(const int *) AT(p, f) == -1;
    case K_NR: return *(const size_t *) AT(p, f) == 0;
    default: break;
    }
    /* Any other scalar: all bytes zero. */
    for (size_t i = 0; i < f->size; i++)
        if (AT(p, f)[i] != 0)
            return false;
    return true;
}

/* Mark in SEEN (one flag per table and field) what is set in P. */
static void
mark_set(const void *p, const struct table *t, bool seen[][64])
{
    size_t ti, i, j;

    for (ti = 0; tables[ti] != t; ti++)
        ;
    for (i = 0; i < t->n; i++) {
        const struct field *f = &t->f[i];

        if (!is_default(p, f))
            seen[ti][i] = true;
        if (f->kind == K_LIST) {
            void *const *list = *(void *const *const *) AT(p, f);

            for (j = 0; j < count_of(p, t, i); j++)
                mark_set(list[j], f->sub, seen);
        }
    }
}

/* Compare A and B field by field.  Writes the path of the first
 * difference into WHERE and returns false.  With DISTINCT, every
 * pointer must differ too (a deep copy shares nothing).
 */
static bool
equal(const void *a, const void *b, const struct table *t, bool distinct,
      char *where, size_t len)
{
    size_t i, j;

    for (i = 0; i < t->n; i++) {
        const struct field *f = &t->f[i];
        const void *pa = AT(a, f), *pb = AT(b, f);

        snprintf(where, len, "%s.%s", t->name, f->name);
        switch (f->kind) {
        case K_HANDLE:
            if (*(void *const *) pa != *(void *const *) pb)
                return false;
            break;
        case K_STR: {
            const char *sa = *(const char *const *) pa;
            const char *sb = *(const char *const *) pb;

            if ((sa == NULL) != (sb == NULL) ||
                (sa && strcmp(sa, sb) != 0) || (distinct && sa && sa == sb))
                return false;
            break;
        }
        case K_STRS: {
            char *const *la = *(char *const *const *) pa;
            char *const *lb = *(char *const *const *) pb;

            if (distinct && la && la == lb)
                return false;
            for (j = 0; j < count_of(a, t, i); j++)
                if (strcmp(la[j], lb[j]) != 0 || (distinct && la[j] == lb[j]))
                    return false;
            break;
        }
        case K_LIST: {
            void *const *la = *(void *const *const *) pa;
            void *const *lb = *(void *const *const *) pb;

            if (distinct && la && la == lb)
                return false;
            for (j = 0; j < count_of(a, t, i); j++) {
                char sub[256];

                if ((distinct && la[j] == lb[j]) ||
                    !equal(la[j], lb[j], f->sub, distinct, sub, sizeof sub)) {
                    snprintf(where, len, "%s.%s[%zu]: %s", t->name, f->name,
                             j, sub);
                    return false;
                }
            }
            break;
        }
        default:
            if (memcmp(pa, pb, f->size) != 0)
                return false;
        }
    }
    return true;
}

/* ---- Tests ---------------------------------------------------------- */

/* Each table lists its struct's fields in order, with nothing but
 * alignment padding between them and after the last: a field added to
 * vm.h and not here fails.
 */
START_TEST(test_tables_cover_structs)
{
    size_t ti, i;

    for (ti = 0; ti < NR_TABLES; ti++) {
        const struct table *t = tables[ti];
        size_t end = 0;

        ck_assert_uint_le(t->n, 64);
        for (i = 0; i < t->n; i++) {
            const struct field *f = &t->f[i];
            size_t align = f->size < alignof (max_align_t) ? f->size :
                alignof (max_align_t);

            if (f->off < end || f->off - end >= align)
                ck_abort_msg("%s: %zu bytes before %s (at %zu) are not in "
                             "the table: a field is missing", t->name,
                             f->off - end, f->name, f->off);
            end = f->off + f->size;
        }
        if (t->size - end >= t->align)
            ck_abort_msg("%s: %zu bytes after %s are not in the table: a "
                         "field appended to vm.h is missing here", t->name,
                         t->size - end, t->f[t->n - 1].name);
    }
}
END_TEST

START_TEST(test_every_field_set)
{
    struct vmc_vm *vm = full_vm();
    bool seen[NR_TABLES][64] = { { false } };
    size_t ti, i;

    mark_set(vm, &vm_table, seen);
    for (ti = 0; ti < NR_TABLES; ti++)
        for (i = 0; i < tables[ti]->n; i++)
            if (tables[ti]->f[i].kind != K_HANDLE && !seen[ti][i])
                ck_abort_msg("full_vm sets no %s.%s", tables[ti]->name,
                             tables[ti]->f[i].name);
    if (vmc_vm_check(vm) == -1)
        ck_abort_msg("full_vm is not valid: %s", vmc_get_error(h));
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_json_round_trip_every_field)
{
    struct vmc_vm *vm = full_vm(), *back;
    char *j;
    char where[512];

    j = vmc_vm_to_json(vm);
    ck_assert_ptr_nonnull(j);
    back = vmc_vm_from_json(h, j, "full.json");
    if (back == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    if (!equal(vm, back, &vm_table, false, where, sizeof where))
        ck_abort_msg("JSON round trip loses %s", where);
    free(j);
    vmc_vm_free(vm);
    vmc_vm_free(back);
}
END_TEST

START_TEST(test_copy_every_field)
{
    struct vmc_vm *vm = full_vm(), *copy;
    char *before, *after;
    char where[512];

    before = vmc_vm_to_json(vm);
    copy = vmc_vm_copy(vm);
    ck_assert_ptr_nonnull(copy);
    if (!equal(vm, copy, &vm_table, true, where, sizeof where))
        ck_abort_msg("vmc_vm_copy: %s differs or is shared", where);
    /* The source is unchanged, and changing the copy leaves it so. */
    after = vmc_vm_to_json(vm);
    ck_assert_str_eq(before, after);
    free(after);
    ck_assert_int_eq(vmc_vm_set_string(copy, &copy->disks[0]->path, "/x"), 0);
    copy->nics[0]->vlan = 7;
    after = vmc_vm_to_json(vm);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    vmc_vm_free(copy);
    vmc_vm_free(vm);
}
END_TEST

/* vmc_vm_free frees every field: as many heap blocks are live before a
 * full VM (and its copy, and its JSON twin) is made as after it is
 * freed.
 */
START_TEST(test_free_every_field)
{
#ifdef COUNT_BLOCKS
    long before;
    struct vmc_vm *vm, *copy, *back;
    char *j;

    /* Warm up anything allocated once (json-c, stdio). */
    vm = full_vm();
    j = vmc_vm_to_json(vm);
    back = vmc_vm_from_json(h, j, "warm.json");
    free(j);
    vmc_vm_free(back);
    vmc_vm_free(vm);

    before = __atomic_load_n(&live_blocks, __ATOMIC_RELAXED);
    vm = full_vm();
    copy = vmc_vm_copy(vm);
    j = vmc_vm_to_json(vm);
    back = vmc_vm_from_json(h, j, "full.json");
    ck_assert_ptr_nonnull(copy);
    ck_assert_ptr_nonnull(back);
    free(j);
    vmc_vm_free(back);
    vmc_vm_free(copy);
    vmc_vm_free(vm);
    ck_assert_int_eq(__atomic_load_n(&live_blocks, __ATOMIC_RELAXED), before);
#endif
}
END_TEST

START_TEST(test_print_every_field)
{
    struct vmc_vm *vm = full_vm();
    char *out = NULL;
    size_t len = 0, ti, i;
    FILE *fp = open_memstream(&out, &len);

    ck_assert_ptr_nonnull(fp);
    cli_print_vm(fp, vm);
    ck_assert_int_eq(fclose(fp), 0);
    for (ti = 0; ti < NR_TABLES; ti++)
        for (i = 0; i < tables[ti]->n; i++) {
            const struct field *f = &tables[ti]->f[i];

            if (f->kind == K_HANDLE || f->kind == K_NR)
                continue;
            ck_assert_msg(f->print != NULL, "%s.%s: no print text",
                          tables[ti]->name, f->name);
            if (strstr(out, f->print) == NULL)
                ck_abort_msg("cli_print_vm does not show %s.%s (\"%s\"):\n%s",
                             tables[ti]->name, f->name, f->print, out);
        }
    free(out);
    vmc_vm_free(vm);
}
END_TEST

/* Every key of the JSON form, at any depth, is described in the POD. */
static void
check_keys_documented(struct json_object *o, const char *pod)
{
    size_t i;

    if (json_object_is_type(o, json_type_array)) {
        for (i = 0; i < json_object_array_length(o); i++)
            check_keys_documented(json_object_array_get_idx(o, i), pod);
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    json_object_object_foreach(o, key, val) {
        char item[128];

        snprintf(item, sizeof item, "B<%s>", key);
        if (strstr(pod, item) == NULL)
            ck_abort_msg("vmconv-vm-json.pod does not describe '%s'", key);
        check_keys_documented(val, pod);
    }
}

START_TEST(test_pod_documents_every_key)
{
    const char *srcdir = getenv("top_srcdir");
    struct vmc_vm *vm = full_vm();
    char path[4096];
    char *j, *pod;
    struct json_object *o;

    snprintf(path, sizeof path, "%s/core/vmconv-vm-json.pod",
             srcdir ? srcdir : "..");
    pod = vmc_read_file(h, path, 1 << 20);
    if (pod == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    j = vmc_vm_to_json(vm);
    o = json_tokener_parse(j);
    ck_assert_ptr_nonnull(o);
    check_keys_documented(o, pod);
    json_object_put(o);
    free(j);
    free(pod);
    vmc_vm_free(vm);
}
END_TEST

/* The JSON of the full VM, key order included, is pinned by a golden
 * file: a change to the schema shows as a diff to review.
 */
START_TEST(test_json_golden)
{
    struct vmc_vm *vm = full_vm();
    char *j = vmc_vm_to_json(vm);

    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(test_compare_golden(j, "vm-json/full.json"), 0);
    free(j);
    vmc_vm_free(vm);
}
END_TEST

/* test_compare_golden fails on a difference and on a missing file. */
START_TEST(test_golden_helper)
{
    struct vmc_vm *vm = full_vm();
    char *j = vmc_vm_to_json(vm);

    if (getenv("VMCONV_TEST_REGENERATE"))
        unsetenv("VMCONV_TEST_REGENERATE");     /* forked: no effect after */
    j[strlen(j) / 2] = '#';
    ck_assert_int_eq(test_compare_golden(j, "vm-json/full.json"), -1);
    ck_assert_int_eq(unlink("vm-json-full.json.actual"), 0);
    ck_assert_int_eq(test_compare_golden(j, "vm-json/no-such-file"), -1);
    free(j);
    vmc_vm_free(vm);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("vm-fields");
    TCase *tc = tcase_create("fields");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_tables_cover_structs);
    tcase_add_test(tc, test_every_field_set);
    tcase_add_test(tc, test_json_round_trip_every_field);
    tcase_add_test(tc, test_copy_every_field);
    tcase_add_test(tc, test_free_every_field);
    tcase_add_test(tc, test_print_every_field);
    tcase_add_test(tc, test_pod_documents_every_key);
    tcase_add_test(tc, test_json_golden);
    tcase_add_test(tc, test_golden_helper);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
