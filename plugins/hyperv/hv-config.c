/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: a configuration tree (XML or .vmcx) into the
 * VM model.
 *
 * The keys (../shared/specs/hyperv-config.md sections 2 and 4):
 * properties/{name,global_id,subtype,version,notes}; settings/processors/
 * count; settings/memory/bank/{size,dynamic_memory_enabled,reservation,
 * limit} in MiB; devices are nodes "_<instance GUID>_" whose kind is
 * the device GUID the manifest (manifest/vdevN/{device,instance,name})
 * gives their instance, or their own GUID for the devices Hyper-V
 * names by type (IDE controller, firmware, floppy).  Drives are
 * controllerN/driveM/{type,pathname} under a storage controller; NICs
 * are the devices with a MacAddress; the firmware device holds the
 * generation 1 boot order (boot/deviceN) and secure_boot_enabled.
 *
 * Disk paths are the Hyper-V host's: they are found in the export
 * folder by hv_find_file (Virtual Hard Disks\, Snapshots\), a disk
 * not found is kept and marked missing, a found one is opened
 * read-only through formats/ for its format, size and backing chain
 * (an .avhdx checkpoint's parents, their locators resolved inside the
 * folder).  The checkpoints are the configurations in the export's
 * Snapshots folder, named by their GUID: their name, creation time
 * (a FILETIME) and drives.
 */
#include <config.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <vmconv/plugin.h>

#include "cleanup.h"
#include "hv.h"

#define GUID_IDE     "83f8638b-8dca-4152-9eda-2ca8b33039b4"
#define GUID_SCSI    "d422512d-2bf2-4752-809d-7b82b5fcb1b4"
#define GUID_FLOPPY  "8f0d2762-0b00-4e04-af4f-19010527cb93"
#define GUID_FIRMWARE "ac6b8dc1-3257-4a70-b1b2-a9c9215659ad"
#define GUID_VIDEO   "f3cf6965-e8d3-44a9-9b7d-a04245ea7525"
#define GUID_NETVSC  "2fc216b0-d2e2-4967-9b6d-b8a5c9ca2778"

/* Secure Boot template ids (Get-VMFirmware SecureBootTemplateId; the
 * first two are confirmed by public scripts reading them back from
 * Hyper-V, the shielded one by a public C# table only).
 */
#define GUID_SB_WINDOWS "1734c6e8-3154-4dda-ba5f-a874cc483422"
#define GUID_SB_UEFI_CA "272e7447-90a4-4563-a4b9-8e4ab00526ce"
#define GUID_SB_SHIELDED "4292ae2b-ee2c-42b5-a969-dd8f8689f6f3"

#define HV_MAX_VCPUS 2048
#define HV_MAX_MEMORY_MIB (256ull * 1024 * 1024)   /* 256 TiB */
#define HV_MAX_SCSI 64

struct hv_ctx {
    struct vmc_handle *h;
    const struct hv_source *src;
    const struct hv_node *cfg;
    struct vmc_vm *vm;
    int generation;
    bool no_open;                /* a checkpoint's configuration: find
                                    its disks, do not open them */
};

static int hv_note(struct hv_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
hv_note(struct hv_ctx *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vmc_vm_add_note(c->vm, "%s", msg);
}

static void hv_bad(struct hv_ctx *c, const struct hv_node *n,
                   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "FILE: WHERE: PATH: MESSAGE". */
static void
hv_bad(struct hv_ctx *c, const struct hv_node *n, const char *fmt, ...)
{
    char msg[512], path[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vmc_error_kind(c->h, VMC_ERR_BAD_INPUT, "%s: %s%s%s: %s", c->src->path,
                   n->where, n->where[0] ? ": " : "",
                   hv_path(n, path, sizeof path), msg);
}

/* The integer at PATH under N, in [MIN, MAX]; *FOUND says if there is
 * one.  Integers, unsigned integers and decimal strings are accepted.
 */
static int
hv_uint(struct hv_ctx *c, const struct hv_node *n, const char *path,
        uint64_t min, uint64_t max, uint64_t *val, bool *found)
{
    const struct hv_node *v = hv_get(n, path);
    uint64_t x;

    *found = false;
    *val = 0;
    if (v == NULL)
        return 0;
    switch (v->type) {
    case HV_INT:
        if (v->i < 0) {
            hv_bad(c, v, "%" PRId64 " is negative", v->i);
            return -1;
        }
        x = (uint64_t) v->i;
        break;
    case HV_UINT:
        x = v->u;
        break;
    case HV_STRING: {
        char what[600], p[512];

        snprintf(what, sizeof what, "%s: %s%s%s", c->src->path, v->where,
                 v->where[0] ? ": " : "", hv_path(v, p, sizeof p));
        if (vmc_parse_uint(c->h, what, v->s, UINT64_MAX, &x) == -1)
            return -1;
        break;
    }
    default:
        hv_bad(c, v, "not an integer");
        return -1;
    }
    if (x < min || x > max) {
        hv_bad(c, v, "%" PRIu64 " is out of range (%" PRIu64 "-%" PRIu64 ")",
               x, min, max);
        return -1;
    }
    *val = x;
    *found = true;
    return 0;
}

/* The boolean at PATH: *VAL (DEF when absent). */
static int
hv_bool(struct hv_ctx *c, const struct hv_node *n, const char *path,
        bool def, bool *val)
{
    const struct hv_node *v = hv_get(n, path);

    *val = def;
    if (v == NULL)
        return 0;
    switch (v->type) {
    case HV_BOOL:
        *val = v->b;
        return 0;
    case HV_INT:
        *val = v->i != 0;
        return 0;
    case HV_UINT:
        *val = v->u != 0;
        return 0;
    case HV_STRING: {
        char what[600], p[512];

        snprintf(what, sizeof what, "%s: %s%s%s", c->src->path, v->where,
                 v->where[0] ? ": " : "", hv_path(v, p, sizeof p));
        return vmc_parse_bool(c->h, what, v->s, val);
    }
    default:
        hv_bad(c, v, "not a boolean");
        return -1;
    }
}

/* Is NAME "_<guid>_"?  Copies the lower-case GUID into OUT. */
static bool
hv_device_guid(const char *name, char out[VMC_UUID_LEN + 1])
{
    size_t len = strlen(name);
    char in[VMC_UUID_LEN + 1];

    if (len != VMC_UUID_LEN + 2 || name[0] != '_' || name[len - 1] != '_')
        return false;
    memcpy(in, name + 1, VMC_UUID_LEN);
    in[VMC_UUID_LEN] = '\0';
    return vmc_uuid_normalize(in, out) == 0;
}

/* The manifest entry (vdevN) whose instance is GUID, or NULL; *POS is
 * its position in the manifest.
 */
static const struct hv_node *
hv_manifest_entry(const struct hv_ctx *c, const char *guid, size_t *pos)
{
    const struct hv_node *m = hv_child(c->cfg, "manifest");
    size_t i;

    if (m == NULL)
        return NULL;
    for (i = 0; i < m->nr_kids; i++) {
        const char *inst = hv_str(m->kids[i], "instance");
        char g[VMC_UUID_LEN + 1];

        if (inst && vmc_uuid_normalize(inst, g) == 0 && strcmp(g, guid) == 0) {
            if (pos)
                *pos = i;
            return m->kids[i];
        }
    }
    return NULL;
}

/* The device type GUID of the device node named "_GUID_". */
static void
hv_device_type(const struct hv_ctx *c, const char *guid,
               char out[VMC_UUID_LEN + 1])
{
    const struct hv_node *e = hv_manifest_entry(c, guid, NULL);
    const char *dev = e ? hv_str(e, "device") : NULL;

    if (dev == NULL || vmc_uuid_normalize(dev, out) == -1)
        strcpy(out, guid);
}

/* Does the manifest list a device of type GUID? */
static bool
hv_has_device(const struct hv_ctx *c, const char *guid)
{
    const struct hv_node *m = hv_child(c->cfg, "manifest");
    size_t i;

    for (i = 0; m && i < m->nr_kids; i++) {
        const char *dev = hv_str(m->kids[i], "device");
        char g[VMC_UUID_LEN + 1];

        if (dev && vmc_uuid_normalize(dev, g) == 0 && strcmp(g, guid) == 0)
            return true;
    }
    return false;
}

/* ---- Identity, CPUs, memory, firmware ----------------------------------- */

static int
hv_identity(struct hv_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    const struct hv_node *props = hv_child(c->cfg, "properties");
    const char *name = hv_str(props, "name");
    const char *id = hv_str(props, "global_id");
    const char *notes = hv_str(props, "notes");
    const char *bios = hv_str(hv_child(c->cfg, "_" GUID_FIRMWARE "_"),
                              "bios_guid");
    const char *genid = hv_str(c->cfg, "global_settings/devices/"
                               "generation_id");
    char g[VMC_UUID_LEN + 1];
    uint64_t v, sub;
    bool found;

    if (props == NULL) {
        vmc_error_kind(c->h, VMC_ERR_BAD_INPUT, "%s: the configuration has "
                       "no properties: not a Hyper-V VM configuration",
                       c->src->path);
        return -1;
    }
    if (name == NULL || *name == '\0') {
        vmc_error_kind(c->h, VMC_ERR_BAD_INPUT, "%s: properties/name is "
                       "missing: not a Hyper-V VM configuration",
                       c->src->path);
        return -1;
    }
    if (vmc_vm_set_string(vm, &vm->name, name) == -1)
        return -1;
    if (notes && *notes && vmc_vm_set_string(vm, &vm->description, notes) == -1)
        return -1;
    if (id) {
        if (vmc_uuid_normalize(id, g) == -1) {
            hv_bad(c, hv_get(props, "global_id"), "'%s' is not a GUID", id);
            return -1;
        }
        if (hv_note(c, "Hyper-V VM ID: %s", g) == -1)
            return -1;
    }
    if (bios && *bios) {
        if (vmc_uuid_normalize(bios, g) == -1) {
            hv_bad(c, hv_get(c->cfg, "_" GUID_FIRMWARE "_/bios_guid"),
                   "'%s' is not a GUID", bios);
            return -1;
        }
        if (vmc_vm_set_string(vm, &vm->uuid, g) == -1)
            return -1;
    }
    if (genid && *genid &&
        hv_note(c, "VM generation ID as Hyper-V stores it: %s", genid) == -1)
        return -1;
    if (hv_uint(c, props, "version", 0, 0xffff, &v, &found) == -1)
        return -1;
    if (found) {
        char ver[16];

        snprintf(ver, sizeof ver, "%u.%u", (unsigned) (v >> 8),
                 (unsigned) (v & 0xff));
        if (vmc_vm_set_string(vm, &vm->source_version, ver) == -1)
            return -1;
    }
    if (hv_uint(c, props, "subtype", 0, 1, &sub, &found) == -1)
        return -1;
    c->generation = found && sub == 1 ? 2 : 1;
    if (!found && hv_note(c, "properties/subtype is not set: taken as "
                          "generation 1 (BIOS)") == -1)
        return -1;
    vm->firmware = c->generation == 2 ? VMC_FIRMWARE_UEFI : VMC_FIRMWARE_BIOS;
    if (vmc_vm_set_string(vm, &vm->machine, c->generation == 2 ?
                          "hyperv-gen2" : "hyperv-gen1") == -1)
        return -1;
    return 0;
}

static int
hv_cpu_memory(struct hv_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    const struct hv_node *s = hv_child(c->cfg, "settings");
    uint64_t n, size, lo, hi;
    bool found, dyn;

    if (hv_uint(c, s, "processors/count", 1, HV_MAX_VCPUS, &n, &found) == -1)
        return -1;
    vm->vcpus = found ? (unsigned) n : 1;
    if (!found && hv_note(c, "settings/processors/count is not set: one "
                          "vCPU (Hyper-V's default)") == -1)
        return -1;
    if (hv_uint(c, s, "memory/bank/size", 1, HV_MAX_MEMORY_MIB, &size,
                &found) == -1)
        return -1;
    if (!found && hv_note(c, "settings/memory/bank/size is not set: the "
                          "memory size is unknown") == -1)
        return -1;
    vm->memory = size << 20;
    if (hv_bool(c, s, "memory/bank/dynamic_memory_enabled", false, &dyn) == -1)
        return -1;
    if (!dyn)
        return 0;
    if (hv_uint(c, s, "memory/bank/reservation", 0, HV_MAX_MEMORY_MIB, &lo,
                &found) == -1 ||
        hv_uint(c, s, "memory/bank/limit", 0, HV_MAX_MEMORY_MIB, &hi,
                &found) == -1)
        return -1;
    if (lo && lo <= size)
        vm->memory_min = lo << 20;
    if (hi && hi >= size)
        vm->memory_max = hi << 20;
    return hv_note(c, "dynamic memory: startup %" PRIu64 " MiB, minimum %"
                   PRIu64 " MiB, maximum %" PRIu64 " MiB", size, lo, hi);
}

static int
hv_firmware(struct hv_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    const struct hv_node *fw = hv_child(c->cfg, "_" GUID_FIRMWARE "_");
    const char *tmpl = hv_str(fw, "secure_boot_template_id");
    bool sb;

    if (hv_has_device(c, GUID_VIDEO))
        vm->video = VMC_VIDEO_MODEL_HYPERV;
    vm->graphics = VMC_GRAPHICS_RDP;
    if (hv_bool(c, fw, "secure_boot_enabled", false, &sb) == -1)
        return -1;
    if (c->generation != 2)
        return 0;
    vm->secure_boot = sb;
    if (!sb)
        return 0;
    /* Unverified key name: no public sample shows where a .vmcx keeps
     * the template; without it the template is unknown (noted).
     */
    if (tmpl && *tmpl) {
        char g[VMC_UUID_LEN + 1];

        if (vmc_uuid_normalize(tmpl, g) == -1) {
            hv_bad(c, hv_get(fw, "secure_boot_template_id"),
                   "'%s' is not a GUID", tmpl);
            return -1;
        }
        if (strcmp(g, GUID_SB_WINDOWS) == 0)
            vm->secure_boot_template = VMC_SECURE_BOOT_TEMPLATE_MS_WINDOWS;
        else if (strcmp(g, GUID_SB_UEFI_CA) == 0)
            vm->secure_boot_template = VMC_SECURE_BOOT_TEMPLATE_MS_UEFI_CA;
        else if (strcmp(g, GUID_SB_SHIELDED) == 0)
            vm->secure_boot_template =
                VMC_SECURE_BOOT_TEMPLATE_OPEN_SOURCE_SHIELDED;
        else
            return hv_note(c, "Secure Boot template %s is not one vmconv "
                           "knows: template unknown", g);
        return 0;
    }
    if (vm->source_version && strtoul(vm->source_version, NULL, 10) < 6) {
        /* 2012 R2 has one set of keys: Microsoft Windows. */
        vm->secure_boot_template = VMC_SECURE_BOOT_TEMPLATE_MS_WINDOWS;
        return hv_note(c, "Secure Boot of a configuration version %s VM "
                       "(Hyper-V 2012 R2) trusts the Microsoft Windows "
                       "keys only", vm->source_version);
    }
    return hv_note(c, "Secure Boot is on but its template is not in the "
                   "configuration: template unknown");
}

/* ---- Files of the export folder ------------------------------------------ */

static bool
is_dir(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int
hv_find_file(struct vmc_handle *h, const struct hv_source *src,
             const char *name, const char *what, char **local)
{
    const char *subs[] = { "Virtual Hard Disks", "Snapshots", NULL };
    unsigned fl = VMC_FOREIGN_MISSING_OK |
                  (src->opts->image_flags & VMC_FOREIGN_ALLOW_OUTSIDE);
    size_t i;

    *local = NULL;
    if (src->export_dir) {
        for (i = 0; subs[i]; i++) {
            CLEANUP_FREE char *base = NULL;

            if (asprintf(&base, "%s/%s", src->export_dir, subs[i]) == -1) {
                vmc_error(h, "%s: out of memory", src->path);
                return -1;
            }
            if (!is_dir(base))
                continue;
            if (vmc_resolve_foreign_name(h, name, base, fl, what, local) == -1)
                return -1;
            if (*local)
                return 0;
        }
    }
    if (vmc_resolve_foreign_name(h, name, src->dir, fl, what, local) == -1)
        return -1;
    if (*local == NULL && src->export_dir &&
        vmc_resolve_foreign_name(h, name, src->export_dir, fl, what,
                                 local) == -1)
        return -1;
    return 0;
}

int
hv_open_disk(struct vmc_handle *h, struct vmc_vm *vm,
             const struct hv_source *src, struct vmc_disk *d)
{
    CLEANUP_IMAGE_CLOSE struct vmc_image *img = NULL;
    struct vmc_image *b;

    img = vmc_image_open(h, d->path, NULL,
                         src->opts->image_flags & ~VMC_IMAGE_RDWR);
    if (img == NULL)
        return -1;
    if (vmc_vm_set_string(vm, &d->format, vmc_image_format(img)) == -1)
        return -1;
    d->virtual_size = vmc_image_size(img);
    for (b = vmc_image_backing(img); b; b = vmc_image_backing(b))
        if (vmc_disk_add_backing(vm, d, vmc_image_path(b)) == -1)
            return -1;
    if (d->nr_backing &&
        vmc_vm_add_note(vm, "disk %s is a checkpoint (differencing) disk "
                        "over %zu parent(s): the current state is converted",
                        d->source_ref, d->nr_backing) == -1)
        return -1;
    return 0;
}

/* ---- Drives ----------------------------------------------------------------- */

/* Parse "PREFIXnnn" (PREFIX "controller", "drive") into *N. */
static bool
hv_numbered(const char *name, const char *prefix, unsigned *n)
{
    size_t len = strlen(prefix);
    const char *p = name + len;
    unsigned long v;
    char *end;

    if (strncasecmp(name, prefix, len) != 0 || *p < '0' || *p > '9' ||
        strlen(p) > 4)
        return false;
    v = strtoul(p, &end, 10);
    if (*end)
        return false;
    *n = (unsigned) v;
    return true;
}

static int
hv_controller(struct hv_ctx *c, enum vmc_disk_bus bus, unsigned index,
              enum vmc_controller_model model)
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
    ctl->model = model;
    return (int) (vm->nr_controllers - 1);
}

/* One driveM node DRV at BUS CTRL:UNIT. */
static int
hv_drive(struct hv_ctx *c, const struct hv_node *drv, enum vmc_disk_bus bus,
         enum vmc_controller_model model, unsigned ctrl, unsigned unit)
{
    struct vmc_vm *vm = c->vm;
    const char *type = hv_str(drv, "type");
    const char *path = hv_str(drv, "pathname");
    struct vmc_disk *d;
    char slot[32], what[600], p[512];
    int ref;

    snprintf(slot, sizeof slot, "%s%u:%u", vmc_disk_bus_to_string(bus), ctrl,
             unit);
    if (type == NULL || strcasecmp(type, "NONE") == 0 || *type == '\0')
        return 0;
    if (path && *path == '\0')
        path = NULL;
    ref = hv_controller(c, bus, ctrl, model);
    if (ref == -1)
        return -1;
    d = vmc_vm_add_disk(vm);
    if (d == NULL)
        return -1;
    d->bus = bus;
    d->controller = (int) ctrl;
    d->unit = (int) unit;
    d->controller_ref = ref;
    d->controller_model = model;
    snprintf(what, sizeof what, "%s: %s%s%s", c->src->path, drv->where,
             drv->where[0] ? ": " : "", hv_path(drv, p, sizeof p));

    if (strcasecmp(type, "VHD") == 0) {
        d->device = VMC_DISK_DEVICE_DISK;
        if (path == NULL) {
            hv_bad(c, drv, "a hard disk drive without a pathname");
            return -1;
        }
        if (vmc_vm_set_string(vm, &d->source_ref, path) == -1 ||
            hv_find_file(c->h, c->src, path, what, &d->path) == -1)
            return -1;
        if (d->path == NULL) {
            d->missing = true;
            return hv_note(c, "%s: disk '%s' not found in the export folder",
                           slot, path);
        }
        return c->no_open ? 0 : hv_open_disk(c->h, vm, c->src, d);
    }
    if (strcasecmp(type, "ISO") == 0 || strcasecmp(type, "VFD") == 0) {
        bool iso = strcasecmp(type, "ISO") == 0;

        d->device = iso ? VMC_DISK_DEVICE_CDROM : VMC_DISK_DEVICE_FLOPPY;
        d->readonly = iso;
        d->reference_only = true;
        if (path == NULL)
            return 0;
        if (vmc_vm_set_string(vm, &d->source_ref, path) == -1 ||
            hv_find_file(c->h, c->src, path, what, &d->path) == -1)
            return -1;
        if (d->path == NULL) {
            d->missing = true;
            return hv_note(c, "%s: %s image '%s' not found", slot,
                           iso ? "ISO" : "floppy", path);
        }
        return 0;
    }
    /* A pass-through disk or a host drive: referred to, not copied. */
    d->device = VMC_DISK_DEVICE_LUN;
    d->reference_only = true;
    if (path && vmc_vm_set_string(vm, &d->source_ref, path) == -1)
        return -1;
    return hv_note(c, "%s: drive of type '%s'%s%s%s: kept as a host device "
                   "reference, not converted", slot, type,
                   path ? " ('" : "", path ? path : "", path ? "')" : "");
}

/* The drives of the storage controller node CN. */
static int
hv_storage(struct hv_ctx *c, const struct hv_node *cn, enum vmc_disk_bus bus,
           enum vmc_controller_model model, unsigned scsi_index)
{
    unsigned maxc = bus == VMC_DISK_BUS_IDE ? 1 : 0;
    unsigned maxu = bus == VMC_DISK_BUS_IDE ? 1 :
                    bus == VMC_DISK_BUS_SCSI ? 63 : 1;
    unsigned ctrl, unit;
    size_t i, j;

    /* In controller then drive order, whatever the file's order. */
    for (ctrl = 0; ctrl <= maxc; ctrl++) {
        char name[32];
        const struct hv_node *ctl;

        snprintf(name, sizeof name, "controller%u", ctrl);
        ctl = hv_child(cn, name);
        if (ctl == NULL)
            continue;
        for (unit = 0; unit <= maxu; unit++) {
            const struct hv_node *drv;

            snprintf(name, sizeof name, "drive%u", unit);
            drv = hv_child(ctl, name);
            if (drv && hv_drive(c, drv, bus, model,
                                bus == VMC_DISK_BUS_SCSI ? scsi_index : ctrl,
                                unit) == -1)
                return -1;
        }
    }
    /* Anything numbered outside those ranges is an error. */
    for (i = 0; i < cn->nr_kids; i++) {
        const struct hv_node *ctl = cn->kids[i];

        if (!hv_numbered(ctl->name, "controller", &ctrl))
            continue;
        if (ctrl > maxc) {
            hv_bad(c, ctl, "controller %u is out of range (0-%u)", ctrl, maxc);
            return -1;
        }
        for (j = 0; j < ctl->nr_kids; j++)
            if (hv_numbered(ctl->kids[j]->name, "drive", &unit) &&
                unit > maxu) {
                hv_bad(c, ctl->kids[j], "drive %u is out of range (0-%u)",
                       unit, maxu);
                return -1;
            }
    }
    return 0;
}

static bool
hv_has_controllers(const struct hv_node *n)
{
    size_t i;
    unsigned x;

    for (i = 0; i < n->nr_kids; i++)
        if (hv_numbered(n->kids[i]->name, "controller", &x))
            return true;
    return false;
}

static int
hv_cmp_pos(const void *a, const void *b)
{
    const size_t *x = a, *y = b;

    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int
hv_disks(struct hv_ctx *c)
{
    const struct hv_node *cfg = c->cfg;
    size_t (*scsi)[2] = NULL;
    size_t nscsi = 0, i;
    int r = -1;

    /* IDE: the node named by the IDE controller's type (both channels). */
    for (i = 0; i < cfg->nr_kids; i++) {
        char g[VMC_UUID_LEN + 1], t[VMC_UUID_LEN + 1];

        if (!hv_device_guid(cfg->kids[i]->name, g))
            continue;
        hv_device_type(c, g, t);
        if (strcmp(t, GUID_IDE) == 0 && hv_has_controllers(cfg->kids[i])) {
            if (c->generation == 2 &&
                hv_note(c, "an IDE controller in a generation 2 VM") == -1)
                return -1;
            if (hv_storage(c, cfg->kids[i], VMC_DISK_BUS_IDE,
                           VMC_CONTROLLER_MODEL_PIIX4, 0) == -1)
                return -1;
        }
    }
    /* Synthetic SCSI controllers, numbered in manifest order. */
    scsi = calloc(cfg->nr_kids + 1, sizeof *scsi);
    if (scsi == NULL) {
        vmc_error(c->h, "%s: out of memory", c->src->path);
        return -1;
    }
    for (i = 0; i < cfg->nr_kids; i++) {
        char g[VMC_UUID_LEN + 1], t[VMC_UUID_LEN + 1];
        size_t pos = SIZE_MAX / 2 + i;

        if (!hv_device_guid(cfg->kids[i]->name, g))
            continue;
        hv_device_type(c, g, t);
        if (strcmp(t, GUID_SCSI) != 0 &&
            !(strcmp(t, g) == 0 && hv_child(cfg->kids[i],
                                             "ChannelInstanceGuid") &&
              hv_has_controllers(cfg->kids[i])))
            continue;
        hv_manifest_entry(c, g, &pos);
        scsi[nscsi][0] = pos;
        scsi[nscsi][1] = i;
        nscsi++;
    }
    qsort(scsi, nscsi, sizeof *scsi, hv_cmp_pos);
    if (nscsi > HV_MAX_SCSI) {
        vmc_error_kind(c->h, VMC_ERR_BAD_INPUT, "%s: %zu SCSI controllers "
                       "(at most %d)", c->src->path, nscsi, HV_MAX_SCSI);
        goto out;
    }
    for (i = 0; i < nscsi; i++)
        if (hv_storage(c, cfg->kids[scsi[i][1]], VMC_DISK_BUS_SCSI,
                       VMC_CONTROLLER_MODEL_HYPERV_SCSI, (unsigned) i) == -1)
            goto out;
    /* The floppy drive (generation 1). */
    for (i = 0; i < cfg->nr_kids; i++) {
        char g[VMC_UUID_LEN + 1], t[VMC_UUID_LEN + 1];

        if (!hv_device_guid(cfg->kids[i]->name, g))
            continue;
        hv_device_type(c, g, t);
        if (strcmp(t, GUID_FLOPPY) == 0 &&
            hv_storage(c, cfg->kids[i], VMC_DISK_BUS_FDC,
                       VMC_CONTROLLER_MODEL_UNKNOWN, 0) == -1)
            goto out;
    }
    r = 0;
 out:
    free(scsi);
    return r;
}

/* Generation 1: boot/deviceN names device kinds in order. */
static int
hv_boot_order(struct hv_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    const struct hv_node *boot = hv_get(c->cfg, "_" GUID_FIRMWARE "_/boot");
    unsigned order = 1, i;

    if (boot == NULL)
        return 0;
    if (c->generation == 2)
        return hv_note(c, "the boot order of a generation 2 VM (its boot "
                       "entries) is not read: not implemented yet");
    for (i = 0; i < 16; i++) {
        char key[16];
        const char *dev;
        enum vmc_disk_device want;
        size_t j;

        snprintf(key, sizeof key, "device%u", i);
        dev = hv_str(boot, key);
        if (dev == NULL)
            continue;
        if (strcasecmp(dev, "HardDrive") == 0)
            want = VMC_DISK_DEVICE_DISK;
        else if (strcasecmp(dev, "Optical") == 0)
            want = VMC_DISK_DEVICE_CDROM;
        else if (strcasecmp(dev, "Floppy") == 0)
            want = VMC_DISK_DEVICE_FLOPPY;
        else {
            if (hv_note(c, "boot order position %u: %s (not a drive: not "
                        "kept in the model)", i + 1, dev) == -1)
                return -1;
            continue;
        }
        /* BIOS boots from the first IDE drive of that kind. */
        for (j = 0; j < vm->nr_disks; j++) {
            struct vmc_disk *d = vm->disks[j];

            if (d->device == want && d->boot_order == 0 &&
                (d->bus == VMC_DISK_BUS_IDE || d->bus == VMC_DISK_BUS_FDC)) {
                d->boot_order = order++;
                break;
            }
        }
    }
    return 0;
}

/* ---- NICs ------------------------------------------------------------------ */

static int
hv_nic(struct hv_ctx *c, const struct hv_node *n, const char *guid)
{
    struct vmc_vm *vm = c->vm;
    const struct hv_node *e = hv_manifest_entry(c, guid, NULL);
    const char *mname = e ? hv_str(e, "name") : NULL;
    const char *dev = e ? hv_str(e, "device") : NULL;
    const char *mac = hv_str(n, "MacAddress");
    const char *sw = hv_str(n, "Connection/AltSwitchName");
    const char *fname = hv_str(n, "FriendlyName");
    struct vmc_nic *nic;
    char m[VMC_MAC_LEN + 1], dg[VMC_UUID_LEN + 1];
    bool is_static, connected;

    nic = vmc_vm_add_nic(vm);
    if (nic == NULL)
        return -1;
    if (dev && vmc_uuid_normalize(dev, dg) == 0 && strcmp(dg, GUID_NETVSC) == 0)
        nic->model = VMC_NIC_MODEL_HYPERV_NETVSC;
    else if (mname && (strcasestr(mname, "Emulated") ||
                       strcasestr(mname, "Legacy")))
        nic->model = VMC_NIC_MODEL_HYPERV_LEGACY;
    else if (mname && strcasestr(mname, "Synthetic"))
        nic->model = VMC_NIC_MODEL_HYPERV_NETVSC;
    else if (hv_note(c, "network adapter %s: its model is unknown",
                     fname ? fname : guid) == -1)
        return -1;
    if (hv_bool(c, n, "MacAddressIsStatic", false, &is_static) == -1 ||
        hv_bool(c, n, "IsConnected", true, &connected) == -1)
        return -1;
    nic->connection = connected ? VMC_CONNECTION_CONNECTED
                                : VMC_CONNECTION_DISCONNECTED;
    if (mac && strspn(mac, "0-:") == strlen(mac)) {
        nic->mac_kind = VMC_MAC_KIND_DYNAMIC;
        if (hv_note(c, "network adapter %s: dynamic MAC address not "
                    "assigned yet (%s)", fname ? fname : guid, mac) == -1)
            return -1;
    }
    else if (mac) {
        if (vmc_mac_normalize(mac, m) == -1) {
            hv_bad(c, hv_child(n, "MacAddress"), "'%s' is not a MAC address",
                   mac);
            return -1;
        }
        if (vmc_vm_set_string(vm, &nic->mac, m) == -1)
            return -1;
        nic->mac_kind = is_static ? VMC_MAC_KIND_STATIC : VMC_MAC_KIND_DYNAMIC;
    }
    if (sw && *sw) {
        nic->net_type = VMC_NET_TYPE_NETWORK;
        if (vmc_vm_set_string(vm, &nic->network, sw) == -1)
            return -1;
    }
    else
        nic->net_type = VMC_NET_TYPE_NONE;
    return 0;
}

static int
hv_nics(struct hv_ctx *c)
{
    const struct hv_node *cfg = c->cfg;
    size_t i;

    for (i = 0; i < cfg->nr_kids; i++) {
        char g[VMC_UUID_LEN + 1];

        if (hv_device_guid(cfg->kids[i]->name, g) &&
            hv_child(cfg->kids[i], "MacAddress") &&
            hv_nic(c, cfg->kids[i], g) == -1)
            return -1;
    }
    return 0;
}

/* ---- State ---------------------------------------------------------------- */

/* ---- Checkpoints (Snapshots/<GUID>.xml or .vmcx) ------------------------- */

#define HV_FILETIME_EPOCH 11644473600ll   /* 1601-01-01 to 1970-01-01, s */

/* properties/creation_time: a FILETIME (100 ns since 1601), 8 bytes
 * little-endian (base64 in the XML), or an integer.
 */
static int
hv_creation_time(struct hv_ctx *c, const struct hv_node *props, int64_t *t)
{
    const struct hv_node *n = hv_get(props, "creation_time");
    uint64_t ft = 0;
    size_t i;

    *t = 0;
    if (n == NULL)
        return 0;
    if (n->type == HV_BYTES && n->len == 8)
        for (i = 8; i > 0; i--)
            ft = ft << 8 | n->bytes[i - 1];
    else if (n->type == HV_UINT)
        ft = n->u;
    else if (n->type == HV_INT && n->i >= 0)
        ft = (uint64_t) n->i;
    else {
        hv_bad(c, n, "not a FILETIME (8 bytes)");
        return -1;
    }
    *t = (int64_t) (ft / 10000000) - HV_FILETIME_EPOCH;
    return 0;
}

/* The index in VM of the disk at the same place as D, or -1. */
static int
hv_same_slot(const struct vmc_vm *vm, const struct vmc_disk *d)
{
    size_t i;

    for (i = 0; i < vm->nr_disks; i++)
        if (vm->disks[i]->bus == d->bus &&
            vm->disks[i]->controller == d->controller &&
            vm->disks[i]->unit == d->unit)
            return (int) i;
    return -1;
}

/* One checkpoint configuration PATH, of the checkpoint ID. */
static int
hv_snapshot(struct hv_ctx *c, const char *path, const char *id)
{
    CLEANUP_FREE void *buf = NULL;
    CLEANUP_VMC_VM_FREE struct vmc_vm *tmp = NULL;
    struct hv_source src = *c->src;
    struct hv_ctx sc = { .h = c->h, .src = &src, .no_open = true };
    struct hv_node *tree = NULL;
    const struct hv_node *cfg, *props;
    struct vmc_snapshot *s;
    size_t len, i;
    bool relabelled;
    int r = -1;

    src.path = path;
    buf = vmc_read_file_len(c->h, path, 64u << 20, &len);
    if (buf == NULL)
        return -1;
    if (len >= 4 && ((unsigned char *) buf)[0] == 0x14 &&
        ((unsigned char *) buf)[1] == 0x20 &&
        ((unsigned char *) buf)[2] == 0x28 && ((unsigned char *) buf)[3] == 1)
        tree = vmcx_parse(c->h, buf, len, path);
    else
        tree = hv_xml_parse(c->h, buf, len, path, &relabelled);
    if (tree == NULL)
        return -1;
    cfg = strcmp(tree->name, "configuration") == 0 ? tree
          : hv_child(tree, "configuration");
    props = hv_child(cfg, "properties");
    if (cfg == NULL || props == NULL) {
        vmc_error_kind(c->h, VMC_ERR_BAD_INPUT, "%s: no configuration/"
                       "properties: not a Hyper-V checkpoint configuration",
                       path);
        goto out;
    }
    sc.cfg = cfg;
    tmp = vmc_vm_new(c->h);
    if (tmp == NULL)
        goto out;
    sc.vm = tmp;
    sc.generation = c->generation;
    if (hv_disks(&sc) == -1)
        goto out;
    s = vmc_vm_add_snapshot(c->vm);
    if (s == NULL || vmc_vm_set_string(c->vm, &s->id, id) == -1 ||
        vmc_vm_set_string(c->vm, &s->name, hv_str(props, "name")) == -1 ||
        hv_creation_time(&sc, props, &s->created) == -1)
        goto out;
    for (i = 0; i < tmp->nr_disks; i++) {
        const struct vmc_disk *d = tmp->disks[i];
        struct vmc_snapshot_disk *sd;

        if (d->device != VMC_DISK_DEVICE_DISK)
            continue;
        sd = vmc_snapshot_add_disk(c->vm, s);
        if (sd == NULL ||
            vmc_vm_set_string(c->vm, &sd->path,
                              d->path ? d->path : d->source_ref) == -1)
            goto out;
        sd->disk = hv_same_slot(c->vm, d);
    }
    r = 0;
 out:
    hv_tree_free(tree);
    return r;
}

static int
cmp_snapshot(const void *a, const void *b)
{
    const struct vmc_snapshot *x = *(struct vmc_snapshot *const *) a;
    const struct vmc_snapshot *y = *(struct vmc_snapshot *const *) b;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The checkpoint configurations in the export folder's Snapshots. */
static int
hv_snapshots(struct hv_ctx *c, size_t *found)
{
    CLEANUP_FREE char *dir = NULL;
    struct dirent **ents = NULL;
    int n, i, r = 0;

    *found = 0;
    if (c->src->export_dir == NULL ||
        asprintf(&dir, "%s/Snapshots", c->src->export_dir) == -1) {
        dir = NULL;
        return 0;
    }
    n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return 0;
    for (i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        size_t len = strlen(name);
        char g[VMC_UUID_LEN + 1], base[VMC_UUID_LEN + 8];
        CLEANUP_FREE char *path = NULL;

        if (r == -1)
            continue;
        if (!(len > 4 && strcasecmp(name + len - 4, ".xml") == 0) &&
            !(len > 5 && strcasecmp(name + len - 5, ".vmcx") == 0))
            continue;
        snprintf(base, sizeof base, "%.*s", (int) (len - (name[len - 1] ==
                 'l' || name[len - 1] == 'L' ? 4 : 5)), name);
        if (vmc_uuid_normalize(base, g) == -1)
            continue;
        if (asprintf(&path, "%s/%s", dir, name) == -1) {
            path = NULL;
            vmc_error(c->h, "%s: out of memory", dir);
            r = -1;
            continue;
        }
        if (hv_snapshot(c, path, g) == -1)
            r = -1;
        else
            (*found)++;
    }
    for (i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    if (r == 0 && c->vm->nr_snapshots > 1)
        qsort(c->vm->snapshots, c->vm->nr_snapshots,
              sizeof *c->vm->snapshots, cmp_snapshot);
    return r;
}

static int
hv_state(struct hv_ctx *c)
{
    const struct hv_node *gs = hv_child(c->cfg, "global_settings");
    uint64_t n;
    size_t got;
    bool found, merge;

    if (hv_uint(c, gs, "snapshots/list/size", 0, UINT32_MAX, &n, &found) == -1)
        return -1;
    if (hv_snapshots(c, &got) == -1)
        return -1;
    if (got && hv_note(c, "%zu checkpoint(s) read from the export's "
                       "Snapshots folder (their parent links are not read): "
                       "the disks are read in their current state", got) == -1)
        return -1;
    if (n > got && hv_note(c, "the configuration lists %" PRIu64 " "
                           "checkpoint(s), %zu found in the export; the disks "
                           "are read in their current state", n, got) == -1)
        return -1;
    if (hv_bool(c, gs, "disk_merge_pending", false, &merge) == -1)
        return -1;
    if (merge && hv_note(c, "a disk merge is pending (a deleted checkpoint "
                         "not merged yet): the disks are read through their "
                         "whole chain") == -1)
        return -1;
    return 0;
}

struct vmc_vm *
hv_config_to_vm(struct vmc_handle *h, const struct hv_node *config,
                const struct hv_source *src)
{
    CLEANUP_VMC_VM_FREE struct vmc_vm *vm = vmc_vm_new(h);
    struct hv_ctx c = { .h = h, .src = src, .cfg = config };

    if (vm == NULL)
        return NULL;
    c.vm = vm;
    if (hv_identity(&c) == -1 || hv_cpu_memory(&c) == -1 ||
        hv_firmware(&c) == -1 || hv_disks(&c) == -1 ||
        hv_boot_order(&c) == -1 || hv_nics(&c) == -1 || hv_state(&c) == -1)
        return NULL;
    return common_steal_pointer(&vm);
}
