/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: the JSON that samples/hyperv/
 * vmconv-hyperv-export.ps1 writes on a Hyper-V host (Get-VM and its
 * companions through ConvertTo-Json), marked "vmconv":
 * "hyperv-get-vm/1", into the VM model.
 *
 * Every key of the script's object is known here; another key is an
 * error (a typo or a newer script), except keys starting with "_"
 * (comments).  Enumerations and dates are strings (the script converts
 * them), sizes are bytes.  Disk paths are the host's: found by base
 * name in the JSON's folder and its "Virtual Hard Disks" and
 * "Snapshots" subfolders (hv_find_file), missing ones listed.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include <vmconv/plugin.h>

#include "cleanup.h"
#include "hv.h"

#define HVJ_MAX_DEPTH 16

struct hvj {
    struct vmc_handle *h;
    const struct hv_source *src;
    struct vmc_vm *vm;
    int generation;
};

static void hvj_bad(struct hvj *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
hvj_bad(struct hvj *c, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vmc_error_kind(c->h, VMC_ERR_BAD_INPUT, "%s: %s: %s", c->src->path, key,
                   msg);
}

static int hvj_note(struct hvj *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
hvj_note(struct hvj *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vmc_vm_add_note(c->vm, "%s", msg);
}

/* Every key of OBJ (named WHAT) is in KEYS (NULL-terminated) or starts
 * with "_".
 */
static int
hvj_keys(struct hvj *c, json_object *obj, const char *what,
         const char *const *keys)
{
    json_object_iter it;

    json_object_object_foreachC(obj, it) {
        size_t i;

        if (it.key[0] == '_')
            continue;
        for (i = 0; keys[i]; i++)
            if (strcmp(keys[i], it.key) == 0)
                break;
        if (keys[i] == NULL) {
            hvj_bad(c, what, "'%s' is not a key of hyperv-get-vm/1", it.key);
            return -1;
        }
    }
    return 0;
}

/* KEY of OBJ: *OUT (NULL when absent or null).  TYPE is what it must be
 * when present.
 */
static int
hvj_get(struct hvj *c, json_object *obj, const char *key, json_type type,
        const char *where, json_object **out)
{
    json_object *v = NULL;
    char what[256];

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, type) &&
        !(type == json_type_double && json_object_is_type(v, json_type_int))) {
        snprintf(what, sizeof what, "%s%s%s", where, *where ? "." : "", key);
        hvj_bad(c, what, "is %s, not %s",
                json_type_to_name(json_object_get_type(v)),
                json_type_to_name(type));
        return -1;
    }
    *out = v;
    return 0;
}

static int
hvj_str(struct hvj *c, json_object *obj, const char *key, const char *where,
        const char **s)
{
    json_object *v;

    *s = NULL;
    if (hvj_get(c, obj, key, json_type_string, where, &v) == -1)
        return -1;
    if (v)
        *s = json_object_get_string(v);
    return 0;
}

/* An integer in [MIN, MAX]; *FOUND says if present. */
static int
hvj_uint(struct hvj *c, json_object *obj, const char *key, const char *where,
         uint64_t min, uint64_t max, uint64_t *val, bool *found)
{
    json_object *v;
    int64_t i;
    char what[256];

    *val = 0;
    *found = false;
    if (hvj_get(c, obj, key, json_type_int, where, &v) == -1)
        return -1;
    if (v == NULL)
        return 0;
    snprintf(what, sizeof what, "%s%s%s", where, *where ? "." : "", key);
    errno = 0;
    i = json_object_get_int64(v);
    if (i < 0 || (uint64_t) i < min || (uint64_t) i > max ||
        (i == INT64_MAX && errno)) {
        hvj_bad(c, what, "%s is out of range (%" PRIu64 "-%" PRIu64 ")",
                json_object_get_string(v), min, max);
        return -1;
    }
    *val = (uint64_t) i;
    *found = true;
    return 0;
}

static int
hvj_bool(struct hvj *c, json_object *obj, const char *key, const char *where,
         bool def, bool *val)
{
    json_object *v;

    *val = def;
    if (hvj_get(c, obj, key, json_type_boolean, where, &v) == -1)
        return -1;
    if (v)
        *val = json_object_get_boolean(v);
    return 0;
}

/* ---- The VM ------------------------------------------------------------- */

static int
hvj_identity(struct hvj *c, json_object *o)
{
    struct vmc_vm *vm = c->vm;
    const char *name, *id, *ver, *state, *notes;
    char g[VMC_UUID_LEN + 1];
    uint64_t gen;
    bool found;

    if (hvj_str(c, o, "Name", "", &name) == -1 ||
        hvj_str(c, o, "Id", "", &id) == -1 ||
        hvj_str(c, o, "Version", "", &ver) == -1 ||
        hvj_str(c, o, "State", "", &state) == -1 ||
        hvj_str(c, o, "Notes", "", &notes) == -1 ||
        hvj_uint(c, o, "Generation", "", 1, 2, &gen, &found) == -1)
        return -1;
    if (name == NULL || *name == '\0') {
        hvj_bad(c, "Name", "missing: the VM has no name");
        return -1;
    }
    if (!found) {
        hvj_bad(c, "Generation", "missing");
        return -1;
    }
    c->generation = (int) gen;
    if (vmc_vm_set_string(vm, &vm->name, name) == -1 ||
        (notes && *notes &&
         vmc_vm_set_string(vm, &vm->description, notes) == -1) ||
        (ver && vmc_vm_set_string(vm, &vm->source_version, ver) == -1) ||
        vmc_vm_set_string(vm, &vm->machine, gen == 2 ? "hyperv-gen2"
                                                     : "hyperv-gen1") == -1)
        return -1;
    vm->firmware = gen == 2 ? VMC_FIRMWARE_UEFI : VMC_FIRMWARE_BIOS;
    vm->graphics = VMC_GRAPHICS_RDP;
    vm->video = VMC_VIDEO_MODEL_HYPERV;
    if (id) {
        if (vmc_uuid_normalize(id, g) == -1) {
            hvj_bad(c, "Id", "'%s' is not a GUID", id);
            return -1;
        }
        if (hvj_note(c, "Hyper-V VM ID: %s", g) == -1)
            return -1;
    }
    if (state && strcasecmp(state, "Saved") == 0) {
        vmc_error_kind(c->h, VMC_ERR_UNSUPPORTED, "%s: the VM is in a saved "
                       "state (State: Saved): its disks are not those of a "
                       "shut-down guest; start it on Hyper-V, shut the guest "
                       "down, and describe it again", c->src->path);
        return -1;
    }
    if (state && strcasecmp(state, "Off") != 0 &&
        hvj_note(c, "the VM was %s when it was described: copy its disks "
                 "only after shutting it down", state) == -1)
        return -1;
    return 0;
}

static int
hvj_cpu_memory(struct hvj *c, json_object *o)
{
    struct vmc_vm *vm = c->vm;
    uint64_t n, lo, hi;
    bool found, dyn, tpm;

    if (hvj_uint(c, o, "ProcessorCount", "", 1, 2048, &n, &found) == -1)
        return -1;
    vm->vcpus = found ? (unsigned) n : 1;
    if (hvj_uint(c, o, "MemoryStartup", "", 1 << 20, UINT64_C(1) << 48,
                 &vm->memory, &found) == -1 ||
        hvj_bool(c, o, "DynamicMemoryEnabled", "", false, &dyn) == -1 ||
        hvj_uint(c, o, "MemoryMinimum", "", 0, UINT64_C(1) << 48, &lo,
                 &found) == -1 ||
        hvj_uint(c, o, "MemoryMaximum", "", 0, UINT64_C(1) << 48, &hi,
                 &found) == -1 ||
        hvj_bool(c, o, "TpmEnabled", "", false, &tpm) == -1)
        return -1;
    vm->tpm = tpm;
    if (!dyn)
        return 0;
    if (lo && lo <= vm->memory)
        vm->memory_min = lo;
    if (hi && hi >= vm->memory)
        vm->memory_max = hi;
    return hvj_note(c, "dynamic memory: startup %" PRIu64 " MiB, minimum %"
                    PRIu64 " MiB, maximum %" PRIu64 " MiB", vm->memory >> 20,
                    lo >> 20, hi >> 20);
}

static int
hvj_firmware(struct hvj *c, json_object *fw)
{
    static const char *const keys[] = {
        "SecureBoot", "SecureBootTemplate", "BootOrder", NULL
    };
    struct vmc_vm *vm = c->vm;
    const char *sb, *tmpl;

    if (fw == NULL)
        return 0;
    if (c->generation != 2) {
        hvj_bad(c, "Firmware", "given for a generation 1 VM (which has a "
                "BIOS)");
        return -1;
    }
    if (hvj_keys(c, fw, "Firmware", keys) == -1 ||
        hvj_str(c, fw, "SecureBoot", "Firmware", &sb) == -1 ||
        hvj_str(c, fw, "SecureBootTemplate", "Firmware", &tmpl) == -1)
        return -1;
    if (sb && strcasecmp(sb, "On") == 0)
        vm->secure_boot = true;
    else if (sb && strcasecmp(sb, "Off") != 0) {
        hvj_bad(c, "Firmware.SecureBoot", "'%s' is not On or Off", sb);
        return -1;
    }
    if (!vm->secure_boot || tmpl == NULL)
        return 0;
    if (strcasecmp(tmpl, "MicrosoftWindows") == 0)
        vm->secure_boot_template = VMC_SECURE_BOOT_TEMPLATE_MS_WINDOWS;
    else if (strcasecmp(tmpl, "MicrosoftUEFICertificateAuthority") == 0)
        vm->secure_boot_template = VMC_SECURE_BOOT_TEMPLATE_MS_UEFI_CA;
    else if (strcasecmp(tmpl, "OpenSourceShieldedVM") == 0)
        vm->secure_boot_template =
            VMC_SECURE_BOOT_TEMPLATE_OPEN_SOURCE_SHIELDED;
    else
        return hvj_note(c, "Secure Boot template '%s' is not one vmconv "
                        "knows: template unknown", tmpl);
    return 0;
}

/* ---- Drives --------------------------------------------------------------- */

static int
hvj_controller(struct hvj *c, enum vmc_disk_bus bus, unsigned index)
{
    struct vmc_vm *vm = c->vm;
    struct vmc_controller *ctl;
    size_t i;

    for (i = 0; i < vm->nr_controllers; i++)
        if (vm->controllers[i]->bus == bus && vm->controllers[i]->index == index)
            return (int) i;
    ctl = vmc_vm_add_controller(vm);
    if (ctl == NULL)
        return -1;
    ctl->bus = bus;
    ctl->index = index;
    ctl->model = bus == VMC_DISK_BUS_IDE ? VMC_CONTROLLER_MODEL_PIIX4
                                         : VMC_CONTROLLER_MODEL_HYPERV_SCSI;
    return (int) (vm->nr_controllers - 1);
}

struct hvj_drive {
    json_object *o;
    char where[64];
    bool dvd;
    enum vmc_disk_bus bus;
    unsigned ctrl, unit;
};

static int
cmp_drive(const void *a, const void *b)
{
    const struct hvj_drive *x = a, *y = b;

    if (x->bus != y->bus)   /* IDE before SCSI */
        return x->bus < y->bus ? -1 : 1;
    if (x->ctrl != y->ctrl)
        return x->ctrl < y->ctrl ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

/* The address of drive D (with KEYS, its keys are checked too). */
static int
hvj_drive_addr(struct hvj *c, struct hvj_drive *d, bool keys_too)
{
    static const char *const keys[] = {
        "ControllerType", "ControllerNumber", "ControllerLocation", "Path",
        NULL
    };
    const char *type;
    uint64_t n, loc;
    bool f1, f2;

    if (!json_object_is_type(d->o, json_type_object)) {
        hvj_bad(c, d->where, "not an object");
        return -1;
    }
    if ((keys_too && hvj_keys(c, d->o, d->where, keys) == -1) ||
        hvj_str(c, d->o, "ControllerType", d->where, &type) == -1 ||
        hvj_uint(c, d->o, "ControllerNumber", d->where, 0, 3, &n, &f1) == -1 ||
        hvj_uint(c, d->o, "ControllerLocation", d->where, 0, 63, &loc,
                 &f2) == -1)
        return -1;
    if (type == NULL || !f1 || !f2) {
        hvj_bad(c, d->where, "ControllerType, ControllerNumber and "
                "ControllerLocation are required");
        return -1;
    }
    if (strcasecmp(type, "IDE") == 0) {
        if (c->generation == 2 || n > 1 || loc > 1) {
            hvj_bad(c, d->where, "IDE %" PRIu64 ":%" PRIu64 " is not a "
                    "drive of a generation %d VM", n, loc, c->generation);
            return -1;
        }
        d->bus = VMC_DISK_BUS_IDE;
    }
    else if (strcasecmp(type, "SCSI") == 0)
        d->bus = VMC_DISK_BUS_SCSI;
    else {
        hvj_bad(c, d->where, "ControllerType '%s' is not IDE or SCSI", type);
        return -1;
    }
    d->ctrl = (unsigned) n;
    d->unit = (unsigned) loc;
    return 0;
}

static int
hvj_drive(struct hvj *c, const struct hvj_drive *dr)
{
    struct vmc_vm *vm = c->vm;
    const char *path;
    struct vmc_disk *d;
    char what[600];
    int ref;

    if (hvj_str(c, dr->o, "Path", dr->where, &path) == -1)
        return -1;
    if (path && *path == '\0')
        path = NULL;
    ref = hvj_controller(c, dr->bus, dr->ctrl);
    if (ref == -1 || (d = vmc_vm_add_disk(vm)) == NULL)
        return -1;
    d->bus = dr->bus;
    d->controller = (int) dr->ctrl;
    d->unit = (int) dr->unit;
    d->controller_ref = ref;
    d->controller_model = vm->controllers[ref]->model;
    d->device = dr->dvd ? VMC_DISK_DEVICE_CDROM : VMC_DISK_DEVICE_DISK;
    if (dr->dvd) {
        d->readonly = true;
        d->reference_only = true;
    }
    if (path == NULL) {
        if (dr->dvd)
            return 0;
        hvj_bad(c, dr->where, "a hard disk drive without a Path");
        return -1;
    }
    snprintf(what, sizeof what, "%s: %s.Path", c->src->path, dr->where);
    if (vmc_vm_set_string(vm, &d->source_ref, path) == -1 ||
        hv_find_file(c->h, c->src, path, what, &d->path) == -1)
        return -1;
    if (d->path == NULL) {
        d->missing = true;
        return hvj_note(c, "%s: '%s' not found beside the JSON",
                        dr->where, path);
    }
    return dr->dvd ? 0 : hv_open_disk(c->h, vm, c->src, d);
}

static int
hvj_drives(struct hvj *c, json_object *o)
{
    json_object *hd, *dvd;
    struct hvj_drive *dr = NULL;
    size_t n = 0, i, j, k;
    int r = -1;

    if (hvj_get(c, o, "HardDrives", json_type_array, "", &hd) == -1 ||
        hvj_get(c, o, "DvdDrives", json_type_array, "", &dvd) == -1)
        return -1;
    n = (hd ? json_object_array_length(hd) : 0) +
        (dvd ? json_object_array_length(dvd) : 0);
    if (n > VMC_VM_MAX_DISKS) {
        hvj_bad(c, "HardDrives", "%zu drives (at most %d)", n,
                VMC_VM_MAX_DISKS);
        return -1;
    }
    dr = calloc(n + 1, sizeof *dr);
    if (dr == NULL) {
        vmc_error(c->h, "%s: out of memory", c->src->path);
        return -1;
    }
    k = 0;
    for (j = 0; j < 2; j++) {
        json_object *a = j ? dvd : hd;

        for (i = 0; a && i < json_object_array_length(a); i++) {
            dr[k].o = json_object_array_get_idx(a, i);
            dr[k].dvd = j == 1;
            snprintf(dr[k].where, sizeof dr[k].where, "%s[%zu]",
                     j ? "DvdDrives" : "HardDrives", i);
            if (hvj_drive_addr(c, &dr[k], true) == -1)
                goto out;
            k++;
        }
    }
    qsort(dr, n, sizeof *dr, cmp_drive);
    for (i = 0; i < n; i++) {
        if (i > 0 && cmp_drive(&dr[i - 1], &dr[i]) == 0) {
            hvj_bad(c, dr[i].where, "%s %u:%u is also %s",
                    vmc_disk_bus_to_string(dr[i].bus), dr[i].ctrl,
                    dr[i].unit, dr[i - 1].where);
            goto out;
        }
        if (hvj_drive(c, &dr[i]) == -1)
            goto out;
    }
    r = 0;
 out:
    free(dr);
    return r;
}

/* The disk at BUS CTRL:UNIT, or NULL. */
static struct vmc_disk *
hvj_disk_at(struct vmc_vm *vm, enum vmc_disk_bus bus, int ctrl, int unit)
{
    size_t i;

    for (i = 0; i < vm->nr_disks; i++)
        if (vm->disks[i]->bus == bus && vm->disks[i]->controller == ctrl &&
            vm->disks[i]->unit == unit)
            return vm->disks[i];
    return NULL;
}

static int
hvj_boot(struct hvj *c, json_object *o, json_object *fw)
{
    struct vmc_vm *vm = c->vm;
    json_object *bios, *order = NULL;
    unsigned next = 1;
    size_t i, j;

    if (hvj_get(c, o, "Bios", json_type_object, "", &bios) == -1)
        return -1;
    if (bios) {
        static const char *const keys[] = { "StartupOrder", NULL };

        if (c->generation == 2) {
            hvj_bad(c, "Bios", "given for a generation 2 VM (which has "
                    "UEFI firmware)");
            return -1;
        }
        if (hvj_keys(c, bios, "Bios", keys) == -1 ||
            hvj_get(c, bios, "StartupOrder", json_type_array, "Bios",
                    &order) == -1)
            return -1;
        for (i = 0; order && i < json_object_array_length(order); i++) {
            json_object *e = json_object_array_get_idx(order, i);
            const char *s = json_object_is_type(e, json_type_string)
                            ? json_object_get_string(e) : NULL;
            enum vmc_disk_device want;

            if (s == NULL) {
                hvj_bad(c, "Bios.StartupOrder", "item %zu is not a string", i);
                return -1;
            }
            if (strcasecmp(s, "CD") == 0)
                want = VMC_DISK_DEVICE_CDROM;
            else if (strcasecmp(s, "IDE") == 0)
                want = VMC_DISK_DEVICE_DISK;
            else
                continue;       /* Floppy, LegacyNetworkAdapter */
            for (j = 0; j < vm->nr_disks; j++)
                if (vm->disks[j]->device == want &&
                    vm->disks[j]->bus == VMC_DISK_BUS_IDE &&
                    vm->disks[j]->boot_order == 0) {
                    vm->disks[j]->boot_order = next++;
                    break;
                }
        }
        return 0;
    }
    if (fw == NULL ||
        hvj_get(c, fw, "BootOrder", json_type_array, "Firmware", &order) == -1)
        return fw ? -1 : 0;
    for (i = 0; order && i < json_object_array_length(order); i++) {
        static const char *const keys[] = {
            "BootType", "ControllerType", "ControllerNumber",
            "ControllerLocation", NULL
        };
        json_object *e = json_object_array_get_idx(order, i);
        struct hvj_drive d = { .o = e };
        const char *type;
        struct vmc_disk *disk;

        snprintf(d.where, sizeof d.where, "Firmware.BootOrder[%zu]", i);
        if (!json_object_is_type(e, json_type_object)) {
            hvj_bad(c, d.where, "not an object");
            return -1;
        }
        if (hvj_keys(c, e, d.where, keys) == -1 ||
            hvj_str(c, e, "BootType", d.where, &type) == -1)
            return -1;
        if (type == NULL || strcasecmp(type, "Drive") != 0)
            continue;           /* Network, File */
        if (hvj_drive_addr(c, &d, false) == -1)
            return -1;
        disk = hvj_disk_at(vm, d.bus, (int) d.ctrl, (int) d.unit);
        if (disk && disk->boot_order == 0)
            disk->boot_order = next++;
    }
    return 0;
}

/* ---- NICs, checkpoints ----------------------------------------------------- */

static int
hvj_nics(struct hvj *c, json_object *o)
{
    static const char *const keys[] = {
        "Name", "MacAddress", "DynamicMacAddressEnabled", "IsLegacy",
        "SwitchName", "Connected", "VlanMode", "VlanId", NULL
    };
    struct vmc_vm *vm = c->vm;
    json_object *a;
    size_t i;

    if (hvj_get(c, o, "NetworkAdapters", json_type_array, "", &a) == -1)
        return -1;
    for (i = 0; a && i < json_object_array_length(a); i++) {
        json_object *e = json_object_array_get_idx(a, i);
        const char *mac, *sw, *mode, *name;
        char where[64], m[VMC_MAC_LEN + 1];
        bool dyn, legacy, connected, found;
        uint64_t vlan;
        struct vmc_nic *n;

        snprintf(where, sizeof where, "NetworkAdapters[%zu]", i);
        if (!json_object_is_type(e, json_type_object)) {
            hvj_bad(c, where, "not an object");
            return -1;
        }
        if (hvj_keys(c, e, where, keys) == -1 ||
            hvj_str(c, e, "Name", where, &name) == -1 ||
            hvj_str(c, e, "MacAddress", where, &mac) == -1 ||
            hvj_str(c, e, "SwitchName", where, &sw) == -1 ||
            hvj_str(c, e, "VlanMode", where, &mode) == -1 ||
            hvj_bool(c, e, "DynamicMacAddressEnabled", where, true,
                     &dyn) == -1 ||
            hvj_bool(c, e, "IsLegacy", where, false, &legacy) == -1 ||
            hvj_bool(c, e, "Connected", where, sw && *sw, &connected) == -1 ||
            hvj_uint(c, e, "VlanId", where, 0, 4094, &vlan, &found) == -1)
            return -1;
        n = vmc_vm_add_nic(vm);
        if (n == NULL)
            return -1;
        n->model = legacy ? VMC_NIC_MODEL_HYPERV_LEGACY
                          : VMC_NIC_MODEL_HYPERV_NETVSC;
        n->connection = connected ? VMC_CONNECTION_CONNECTED
                                  : VMC_CONNECTION_DISCONNECTED;
        n->mac_kind = dyn ? VMC_MAC_KIND_DYNAMIC : VMC_MAC_KIND_STATIC;
        if (mac && strspn(mac, "0-:") == strlen(mac)) {
            if (hvj_note(c, "%s (%s): dynamic MAC address not assigned yet",
                         where, name ? name : "no name") == -1)
                return -1;
        }
        else if (mac) {
            if (vmc_mac_normalize(mac, m) == -1) {
                hvj_bad(c, where, "MacAddress '%s' is not a MAC address", mac);
                return -1;
            }
            if (vmc_vm_set_string(vm, &n->mac, m) == -1)
                return -1;
        }
        if (sw && *sw) {
            n->net_type = VMC_NET_TYPE_NETWORK;
            if (vmc_vm_set_string(vm, &n->network, sw) == -1)
                return -1;
        }
        else
            n->net_type = VMC_NET_TYPE_NONE;
        if (mode && strcasecmp(mode, "Access") == 0 && vlan)
            n->vlan = (unsigned) vlan;
        else if (mode && strcasecmp(mode, "Untagged") != 0 &&
                 hvj_note(c, "%s: VLAN mode %s is not kept (only access "
                          "VLANs are)", where, mode) == -1)
            return -1;
    }
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (fraction allowed) as seconds since the epoch. */
static int
hvj_time(const char *s, int64_t *t)
{
    struct tm tm;
    const char *p;

    memset(&tm, 0, sizeof tm);
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (strcmp(p, "Z") != 0)
        return -1;
    *t = (int64_t) timegm(&tm);
    return 0;
}

static int
hvj_checkpoints(struct hvj *c, json_object *o)
{
    static const char *const keys[] = {
        "Id", "Name", "ParentCheckpointId", "CreationTime", NULL
    };
    struct vmc_vm *vm = c->vm;
    json_object *a;
    const char *cur;
    size_t i;

    if (hvj_get(c, o, "Checkpoints", json_type_array, "", &a) == -1 ||
        hvj_str(c, o, "ParentCheckpointId", "", &cur) == -1)
        return -1;
    for (i = 0; a && i < json_object_array_length(a); i++) {
        json_object *e = json_object_array_get_idx(a, i);
        const char *id, *name, *parent, *created;
        char where[64], g[VMC_UUID_LEN + 1];
        struct vmc_snapshot *s;

        snprintf(where, sizeof where, "Checkpoints[%zu]", i);
        if (!json_object_is_type(e, json_type_object)) {
            hvj_bad(c, where, "not an object");
            return -1;
        }
        if (hvj_keys(c, e, where, keys) == -1 ||
            hvj_str(c, e, "Id", where, &id) == -1 ||
            hvj_str(c, e, "Name", where, &name) == -1 ||
            hvj_str(c, e, "ParentCheckpointId", where, &parent) == -1 ||
            hvj_str(c, e, "CreationTime", where, &created) == -1)
            return -1;
        if (id == NULL || vmc_uuid_normalize(id, g) == -1) {
            hvj_bad(c, where, "Id '%s' is not a GUID", id ? id : "");
            return -1;
        }
        s = vmc_vm_add_snapshot(vm);
        if (s == NULL || vmc_vm_set_string(vm, &s->id, g) == -1 ||
            vmc_vm_set_string(vm, &s->name, name) == -1)
            return -1;
        if (parent && *parent) {
            if (vmc_uuid_normalize(parent, g) == -1) {
                hvj_bad(c, where, "ParentCheckpointId '%s' is not a GUID",
                        parent);
                return -1;
            }
            if (vmc_vm_set_string(vm, &s->parent, g) == -1)
                return -1;
        }
        if (created && hvj_time(created, &s->created) == -1) {
            hvj_bad(c, where, "CreationTime '%s' is not "
                    "YYYY-MM-DDTHH:MM:SSZ", created);
            return -1;
        }
    }
    if (cur && *cur) {
        char g[VMC_UUID_LEN + 1];

        if (vmc_uuid_normalize(cur, g) == -1) {
            hvj_bad(c, "ParentCheckpointId", "'%s' is not a GUID", cur);
            return -1;
        }
        if (vmc_vm_set_string(vm, &vm->current_snapshot, g) == -1)
            return -1;
    }
    if (vm->nr_snapshots &&
        hvj_note(c, "%zu checkpoint(s): the disks are read in their "
                 "current state", vm->nr_snapshots) == -1)
        return -1;
    return 0;
}

struct vmc_vm *
hv_json_read(struct vmc_handle *h, const char *text,
             const struct hv_source *src)
{
    static const char *const keys[] = {
        "vmconv", "Name", "Id", "Generation", "Version", "State", "Notes",
        "ProcessorCount", "MemoryStartup", "DynamicMemoryEnabled",
        "MemoryMinimum", "MemoryMaximum", "TpmEnabled", "Firmware", "Bios",
        "HardDrives", "DvdDrives", "NetworkAdapters", "ParentCheckpointId",
        "Checkpoints", NULL
    };
    CLEANUP_VMC_VM_FREE struct vmc_vm *vm = NULL;
    struct hvj c = { .h = h, .src = src };
    json_tokener *tok;
    json_object *o = NULL, *fw;
    const char *mark;
    struct vmc_vm *ret = NULL;

    tok = json_tokener_new_ex(HVJ_MAX_DEPTH);
    if (tok == NULL) {
        vmc_error(h, "%s: out of memory", src->path);
        return NULL;
    }
    o = json_tokener_parse_ex(tok, text, (int) strlen(text));
    if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != strlen(text)) {
        size_t at = json_tokener_get_parse_end(tok);

        while (o && text[at] && strchr(" \t\r\n", text[at]))
            at++;
        if (o == NULL || text[at]) {
            vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: not valid JSON at byte "
                           "%zu: %s", src->path, at,
                           o ? "text after the end of the document"
                             : json_tokener_error_desc(
                                   json_tokener_get_error(tok)));
            goto out;
        }
    }
    vm = vmc_vm_new(h);
    if (vm == NULL)
        goto out;
    c.vm = vm;
    if (!json_object_is_type(o, json_type_object)) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: not a JSON object",
                       src->path);
        goto out;
    }
    if (hvj_str(&c, o, "vmconv", "", &mark) == -1)
        goto out;
    if (mark == NULL || strcmp(mark, "hyperv-get-vm/1") != 0) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: vmconv: '%s' is not "
                       "\"hyperv-get-vm/1\" (the output of samples/hyperv/"
                       "vmconv-hyperv-export.ps1)", src->path,
                       mark ? mark : "");
        goto out;
    }
    if (hvj_keys(&c, o, "the VM", keys) == -1 ||
        hvj_get(&c, o, "Firmware", json_type_object, "", &fw) == -1 ||
        hvj_identity(&c, o) == -1 || hvj_cpu_memory(&c, o) == -1 ||
        hvj_firmware(&c, fw) == -1 || hvj_drives(&c, o) == -1 ||
        hvj_boot(&c, o, fw) == -1 || hvj_nics(&c, o) == -1 ||
        hvj_checkpoints(&c, o) == -1)
        goto out;
    ret = vm;
    vm = NULL;
 out:
    json_object_put(o);
    json_tokener_free(tok);
    return ret;
}
