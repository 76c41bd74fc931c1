/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmc_vm_check: is a VM model consistent?  The core calls it after a
 * plugin read and before a write, so that a reader's bug or a hostile
 * source shows as one clear error instead of a broken target.  The
 * rules are listed in vm.h; the first problem found is reported.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vm-internal.h"

/* The highest unit number of any bus, and of any controller number
 * where the bus has no fixed count.
 */
#define CHECK_MAX_UNIT 16383
#define CHECK_MAX_CONTROLLER (VMC_VM_MAX_CONTROLLERS - 1)

static void bad(const struct vmc_vm *vm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report "SOURCE: message": the source path when the VM has one. */
static void
bad(const struct vmc_vm *vm, const char *fmt, ...)
{
    CLEANUP_FREE char *msg = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r == -1) {
        msg = NULL;
        vmc_error(vm->h, "vm: %m");
        return;
    }
    vmc_error(vm->h, "%s: %s", vm->source_path ? vm->source_path : "vm",
              msg);
}

/* ---- Enums ---------------------------------------------------------- */

/* V must be a value of T.  LIST and I name the element ("disks", 1),
 * LIST NULL for the VM itself; KEY is the JSON key.
 */
static int
check_enum(const struct vmc_vm *vm, const struct vmc_enum_table *t, int v,
           const char *list, size_t i, const char *key)
{
    if (v >= 0 && v < t->last)
        return 0;
    if (list)
        bad(vm, "%s[%zu].%s: %d is not %s", list, i, key, v, t->what);
    else
        bad(vm, "%s: %d is not %s", key, v, t->what);
    return -1;
}

int
vmc_vm_check_enums(const struct vmc_vm *vm)
{
    size_t i;

    if (check_enum(vm, &vmc_firmware_table, vm->firmware, NULL, 0,
                   "firmware") == -1 ||
        check_enum(vm, &vmc_os_family_table, vm->os_family, NULL, 0,
                   "os.family") == -1 ||
        check_enum(vm, &vmc_video_model_table, vm->video, NULL, 0,
                   "video.model") == -1 ||
        check_enum(vm, &vmc_nvram_kind_table, vm->nvram_kind, NULL, 0,
                   "nvram-kind") == -1 ||
        check_enum(vm, &vmc_secure_boot_template_table,
                   vm->secure_boot_template, NULL, 0,
                   "secure-boot-template") == -1 ||
        check_enum(vm, &vmc_clock_table, vm->clock, NULL, 0,
                   "clock") == -1 ||
        check_enum(vm, &vmc_graphics_table, vm->graphics, NULL, 0,
                   "graphics") == -1)
        return -1;
    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *d = vm->disks[i];

        if (check_enum(vm, &vmc_disk_device_table, d->device, "disks", i,
                       "device") == -1 ||
            check_enum(vm, &vmc_disk_bus_table, d->bus, "disks", i,
                       "bus") == -1 ||
            check_enum(vm, &vmc_controller_model_table, d->controller_model,
                       "disks", i, "controller-model") == -1 ||
            check_enum(vm, &vmc_connection_table, d->connection, "disks", i,
                       "connection") == -1)
            return -1;
    }
    for (i = 0; i < vm->nr_nics; i++) {
        const struct vmc_nic *n = vm->nics[i];

        if (check_enum(vm, &vmc_nic_model_table, n->model, "nics", i,
                       "model") == -1 ||
            check_enum(vm, &vmc_net_type_table, n->net_type, "nics", i,
                       "network-type") == -1 ||
            check_enum(vm, &vmc_connection_table, n->connection, "nics", i,
                       "connection") == -1 ||
            check_enum(vm, &vmc_mac_kind_table, n->mac_kind, "nics", i,
                       "mac-kind") == -1)
            return -1;
    }
    for (i = 0; i < vm->nr_controllers; i++) {
        const struct vmc_controller *c = vm->controllers[i];

        if (check_enum(vm, &vmc_disk_bus_table, c->bus, "controllers", i,
                       "bus") == -1 ||
            check_enum(vm, &vmc_controller_model_table, c->model,
                       "controllers", i, "model") == -1)
            return -1;
    }
    for (i = 0; i < vm->nr_serials; i++)
        if (check_enum(vm, &vmc_serial_type_table, vm->serials[i]->type,
                       "serials", i, "type") == -1)
            return -1;
    return 0;
}

/* ---- Controllers and disks ------------------------------------------ */

/* The highest controller number BUS may have. */
static int
max_controller(enum vmc_disk_bus bus)
{
    switch (bus) {
    case VMC_DISK_BUS_IDE: return 1;     /* primary and secondary channel */
    case VMC_DISK_BUS_FDC: return 0;
    default: return CHECK_MAX_CONTROLLER;
    }
}

/* The highest unit on BUS with a controller of MODEL; *NOT_7 is set
 * for the VMware SCSI HBAs, whose unit 7 is the adapter itself.
 */
static int
max_unit(enum vmc_disk_bus bus, enum vmc_controller_model model,
         bool *not_7)
{
    *not_7 = false;
    switch (bus) {
    case VMC_DISK_BUS_IDE:
    case VMC_DISK_BUS_FDC:
        return 1;
    case VMC_DISK_BUS_SATA:
        return 31;                       /* AHCI ports */
    case VMC_DISK_BUS_NVME:
        return 255;
    case VMC_DISK_BUS_USB:
        return 127;
    case VMC_DISK_BUS_SCSI:
        switch (model) {
        case VMC_CONTROLLER_MODEL_BUSLOGIC:
        case VMC_CONTROLLER_MODEL_LSILOGIC:
        case VMC_CONTROLLER_MODEL_LSISAS1068:
            *not_7 = true;
            return 15;
        case VMC_CONTROLLER_MODEL_PVSCSI:
            *not_7 = true;
            return 63;
        case VMC_CONTROLLER_MODEL_HYPERV_SCSI:
            return 63;
        default:
            return CHECK_MAX_UNIT;
        }
    default:
        return CHECK_MAX_UNIT;
    }
}

static int
check_controllers(const struct vmc_vm *vm)
{
    size_t i, j;

    for (i = 0; i < vm->nr_controllers; i++) {
        const struct vmc_controller *c = vm->controllers[i];
        const char *bus = vmc_disk_bus_to_string(c->bus);

        if (c->index > (unsigned) max_controller(c->bus)) {
            bad(vm, "controllers[%zu]: %s%u: a VM has at most %s%d", i, bus,
                c->index, bus, max_controller(c->bus));
            return -1;
        }
        for (j = 0; j < i; j++)
            if (vm->controllers[j]->bus == c->bus &&
                vm->controllers[j]->index == c->index) {
                bad(vm, "controllers[%zu]: %s%u is also controllers[%zu]", i,
                    bus, c->index, j);
                return -1;
            }
    }
    return 0;
}

/* The disk's model: its own, or its controller's. */
static enum vmc_controller_model
disk_model(const struct vmc_vm *vm, const struct vmc_disk *d)
{
    if (d->controller_model != VMC_CONTROLLER_MODEL_UNKNOWN)
        return d->controller_model;
    if (d->controller_ref >= 0 && (size_t) d->controller_ref <
        vm->nr_controllers)
        return vm->controllers[d->controller_ref]->model;
    return VMC_CONTROLLER_MODEL_UNKNOWN;
}

/* DISKS[I]'s reference to a controller exists and agrees with it. */
static int
check_controller_ref(const struct vmc_vm *vm, size_t i)
{
    const struct vmc_disk *d = vm->disks[i];
    const struct vmc_controller *c;

    if (d->controller_ref == -1)
        return 0;
    if (d->controller_ref < -1 ||
        (size_t) d->controller_ref >= vm->nr_controllers) {
        bad(vm, "disks[%zu]: controller-ref %d names no controller (the VM "
            "has %zu)", i, d->controller_ref, vm->nr_controllers);
        return -1;
    }
    c = vm->controllers[d->controller_ref];
    if ((d->bus != VMC_DISK_BUS_UNKNOWN && d->bus != c->bus) ||
        (d->controller >= 0 && (unsigned) d->controller != c->index)) {
        bad(vm, "disks[%zu]: on %s%d, but its controller-ref %d is %s%u", i,
            vmc_disk_bus_to_string(d->bus), d->controller, d->controller_ref,
            vmc_disk_bus_to_string(c->bus), c->index);
        return -1;
    }
    if (d->controller_model != VMC_CONTROLLER_MODEL_UNKNOWN &&
        d->controller_model != c->model) {
        bad(vm, "disks[%zu]: controller model %s differs from %s%u's %s", i,
            vmc_controller_model_to_string(d->controller_model),
            vmc_disk_bus_to_string(c->bus), c->index,
            vmc_controller_model_to_string(c->model));
        return -1;
    }
    return 0;
}

/* DISKS[I]'s address: in range for its bus, not used by an earlier
 * disk.
 */
static int
check_address(const struct vmc_vm *vm, size_t i)
{
    const struct vmc_disk *d = vm->disks[i];
    const char *bus = vmc_disk_bus_to_string(d->bus);
    bool not_7;
    int mu;
    size_t j;

    if (d->controller < -1 || d->unit < -1) {
        bad(vm, "disks[%zu]: controller %d, unit %d: -1 is the only "
            "negative value (unknown)", i, d->controller, d->unit);
        return -1;
    }
    if (d->bus == VMC_DISK_BUS_UNKNOWN)
        return 0;
    if (d->controller > max_controller(d->bus)) {
        bad(vm, "disks[%zu]: controller %s%d: a VM has at most %s%d", i, bus,
            d->controller, bus, max_controller(d->bus));
        return -1;
    }
    mu = max_unit(d->bus, disk_model(vm, d), &not_7);
    if (d->unit > mu || (not_7 && d->unit == 7)) {
        bad(vm, "disks[%zu]: unit %d is out of range for %s%s%s (0-%d%s)", i,
            d->unit, bus, disk_model(vm, d) ? " " : "",
            disk_model(vm, d) ? vmc_controller_model_to_string(
                disk_model(vm, d)) : "", mu, not_7 ? ", not 7" : "");
        return -1;
    }
    if (d->controller < 0 || d->unit < 0)
        return 0;
    for (j = 0; j < i; j++) {
        const struct vmc_disk *o = vm->disks[j];

        if (o->bus == d->bus && o->controller == d->controller &&
            o->unit == d->unit) {
            bad(vm, "disks[%zu]: %s%d:%d is already used by disks[%zu]", i,
                bus, d->controller, d->unit, j);
            return -1;
        }
    }
    return 0;
}

static bool
block_size_ok(uint32_t v)
{
    return v == 0 || (v >= 512 && v <= 65536 && (v & (v - 1)) == 0);
}

static int
check_disks(const struct vmc_vm *vm)
{
    size_t i, j;

    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *d = vm->disks[i];

        if (check_controller_ref(vm, i) == -1 ||
            check_address(vm, i) == -1)
            return -1;
        if (d->boot_order)
            for (j = 0; j < i; j++)
                if (vm->disks[j]->boot_order == d->boot_order) {
                    bad(vm, "disks[%zu]: boot order %u is also that of "
                        "disks[%zu]", i, d->boot_order, j);
                    return -1;
                }
        if (!block_size_ok(d->logical_block_size) ||
            !block_size_ok(d->physical_block_size) ||
            (d->logical_block_size && d->physical_block_size &&
             d->physical_block_size < d->logical_block_size)) {
            bad(vm, "disks[%zu]: sector sizes %" PRIu32 "/%" PRIu32 ": "
                "expected powers of two from 512 to 65536, physical >= "
                "logical", i, d->logical_block_size, d->physical_block_size);
            return -1;
        }
        if (d->missing && d->path) {
            bad(vm, "disks[%zu]: marked missing but has a path", i);
            return -1;
        }
    }
    return 0;
}

/* ---- The rest ------------------------------------------------------- */

static int
check_nics(const struct vmc_vm *vm)
{
    char m[VMC_MAC_LEN + 1];
    size_t i, j;

    for (i = 0; i < vm->nr_nics; i++) {
        const struct vmc_nic *n = vm->nics[i];

        if (n->vlan > 4095) {
            bad(vm, "nics[%zu]: VLAN %u is out of range (0-4095)", i,
                n->vlan);
            return -1;
        }
        if (n->mac == NULL)
            continue;
        if (vmc_mac_normalize(n->mac, m) == -1 || strcmp(m, n->mac) != 0) {
            bad(vm, "nics[%zu]: '%s' is not a MAC address in canonical "
                "form (xx:xx:xx:xx:xx:xx, lower case)", i, n->mac);
            return -1;
        }
        for (j = 0; j < i; j++)
            if (vm->nics[j]->mac && strcmp(vm->nics[j]->mac, n->mac) == 0) {
                bad(vm, "nics[%zu]: MAC address %s is also that of "
                    "nics[%zu]", i, n->mac, j);
                return -1;
            }
    }
    return 0;
}

static int
check_serials(const struct vmc_vm *vm)
{
    size_t i, j;

    for (i = 0; i < vm->nr_serials; i++)
        for (j = 0; j < i; j++)
            if (vm->serials[j]->index == vm->serials[i]->index) {
                bad(vm, "serials[%zu]: port %u is also serials[%zu]", i,
                    vm->serials[i]->index, j);
                return -1;
            }
    return 0;
}

static const struct vmc_snapshot *
find_snapshot(const struct vmc_vm *vm, const char *id)
{
    size_t i;

    for (i = 0; i < vm->nr_snapshots; i++)
        if (vm->snapshots[i]->id && strcmp(vm->snapshots[i]->id, id) == 0)
            return vm->snapshots[i];
    return NULL;
}

static int
check_snapshots(const struct vmc_vm *vm)
{
    size_t i, j, steps;

    for (i = 0; i < vm->nr_snapshots; i++) {
        const struct vmc_snapshot *s = vm->snapshots[i];

        if (s->id == NULL || *s->id == '\0') {
            bad(vm, "snapshots[%zu]: no id", i);
            return -1;
        }
        for (j = 0; j < i; j++)
            if (strcmp(vm->snapshots[j]->id, s->id) == 0) {
                bad(vm, "snapshots[%zu]: id '%s' is also that of "
                    "snapshots[%zu]", i, s->id, j);
                return -1;
            }
        for (j = 0; j < s->nr_disks; j++) {
            int d = s->disks[j]->disk;

            if (d < -1 || (d >= 0 && (size_t) d >= vm->nr_disks)) {
                bad(vm, "snapshots[%zu].disks[%zu]: disk %d is not a disk "
                    "index (the VM has %zu disks)", i, j, d, vm->nr_disks);
                return -1;
            }
        }
    }
    for (i = 0; i < vm->nr_snapshots; i++) {
        const struct vmc_snapshot *s = vm->snapshots[i];

        for (steps = 0; s && s->parent; steps++) {
            if (steps >= vm->nr_snapshots) {
                bad(vm, "snapshots[%zu]: the chain of parents loops", i);
                return -1;
            }
            if (find_snapshot(vm, s->parent) == NULL) {
                bad(vm, "snapshots[%zu]: parent '%s' is no snapshot's id",
                    i, s->parent);
                return -1;
            }
            s = find_snapshot(vm, s->parent);
        }
    }
    if (vm->current_snapshot && find_snapshot(vm, vm->current_snapshot) ==
        NULL) {
        bad(vm, "current snapshot '%s' is no snapshot's id",
            vm->current_snapshot);
        return -1;
    }
    return 0;
}

/* A UUID field, if set, in the canonical form of vmc_uuid_normalize. */
static int
check_uuid(const struct vmc_vm *vm, const char *what, const char *u)
{
    char c[VMC_UUID_LEN + 1];

    if (u == NULL)
        return 0;
    if (vmc_uuid_normalize(u, c) == -1 || strcmp(c, u) != 0) {
        bad(vm, "%s: '%s' is not a UUID in canonical form", what, u);
        return -1;
    }
    return 0;
}

static int
check_sizes(const struct vmc_vm *vm)
{
    uint64_t topo = (uint64_t) vm->cpu_sockets * vm->cpu_cores *
        vm->cpu_threads;

    /* Each factor is below 2^32 and so the product of three fits only
     * when it is small; compare without overflow by bounding first.
     */
    if (vm->vcpus && vm->cpu_sockets && vm->cpu_cores && vm->cpu_threads &&
        ((uint64_t) vm->cpu_sockets * vm->cpu_cores > vm->vcpus ||
         topo != vm->vcpus)) {
        bad(vm, "%u sockets * %u cores * %u threads is not %u vCPUs",
            vm->cpu_sockets, vm->cpu_cores, vm->cpu_threads, vm->vcpus);
        return -1;
    }
    if (vm->memory && vm->memory_min && vm->memory_min > vm->memory) {
        bad(vm, "memory-min %" PRIu64 " is more than the memory, %" PRIu64,
            vm->memory_min, vm->memory);
        return -1;
    }
    if (vm->memory && vm->memory_max && vm->memory_max < vm->memory) {
        bad(vm, "memory-max %" PRIu64 " is less than the memory, %" PRIu64,
            vm->memory_max, vm->memory);
        return -1;
    }
    return 0;
}

int
vmc_vm_check(const struct vmc_vm *vm)
{
    if (vmc_vm_check_enums(vm) == -1 ||
        check_uuid(vm, "uuid", vm->uuid) == -1 ||
        check_uuid(vm, "genid", vm->genid) == -1 ||
        check_sizes(vm) == -1 ||
        check_controllers(vm) == -1 ||
        check_disks(vm) == -1 ||
        check_nics(vm) == -1 ||
        check_serials(vm) == -1 ||
        check_snapshots(vm) == -1)
        return -1;
    return 0;
}
