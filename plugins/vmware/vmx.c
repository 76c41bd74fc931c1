/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: a .vmx into the VM model.
 *
 * vmx-parse.c turns the text into a dictionary; this file gives the
 * keys their meaning (../shared/specs/vmx.md): identity, CPUs and
 * memory, firmware, the guest OS, disks on IDE / SATA / SCSI / NVMe,
 * CD-ROMs and floppies, NICs, serial ports, and the snapshots of the
 * .vmsd beside the .vmx.
 *
 * Defaults are VMware's where VMware has one (one vCPU, one core per
 * socket, BIOS, a NIC's generated MAC, startConnected TRUE); a value
 * VMware has no default for (memsize) stays unknown and a note says
 * so.  Numbers out of range, a malformed UUID or MAC, a device address
 * its controller cannot have are one error naming the file, line and
 * key.  Disk files are found with the foreign-name resolver (ESXi and
 * datastore paths fall back to the file of that name beside the .vmx,
 * with a note); a disk not found is kept, marked missing.  Found disks
 * are opened read-only through formats/ for their format, size and
 * backing chain.
 */
#include <config.h>

#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#include "cleanup.h"
#include "vmx-parse.h"
#include "vmx.h"

/* The largest values accepted (ESXi 8 maxima, with room). */
#define VMX_MAX_VCPUS       4096
#define VMX_MAX_MEMSIZE_MIB (64ull * 1024 * 1024)   /* 64 TiB */
#define VMX_MAX_NIC_INDEX   255
#define VMX_MAX_SERIAL_INDEX 31

/* What one read needs. */
struct vmx_ctx {
    struct vmc_handle *h;
    const char *path;            /* the .vmx as given */
    char *dir;                   /* its directory */
    const struct vmc_read_options *opts;
    struct vmx_dict *d;
    struct vmc_vm *vm;
};

/* "FILE: line N: KEY" (or "FILE: KEY" for an absent key) into BUF. */
static const char *
vmx_what(const struct vmx_ctx *c, const char *key, char *buf, size_t len)
{
    const struct vmx_entry *e = vmx_find(c->d, key);

    if (e)
        snprintf(buf, len, "%s: line %u: %s", c->path, e->line, e->name);
    else
        snprintf(buf, len, "%s: %s", c->path, key);
    return buf;
}

/* KEY as the file spells it ("scsi0:0.fileName"), or KEY. */
static const char *
vmx_name(const struct vmx_ctx *c, const char *key)
{
    const struct vmx_entry *e = vmx_find(c->d, key);

    return e ? e->name : key;
}

static void
vmx_bad(const struct vmx_ctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Report "FILE: line N: KEY: MESSAGE". */
static void
vmx_bad(const struct vmx_ctx *c, const char *key, const char *fmt, ...)
{
    char what[512], msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vmc_error(c->h, "%s: %s", vmx_what(c, key, what, sizeof what), msg);
}

/* Boolean KEY into *VAL (DEF when absent).  Returns 0 or -1. */
static int
vmx_bool(const struct vmx_ctx *c, const char *key, bool def, bool *val)
{
    const char *s = vmx_get(c->d, key);
    char what[512];

    *val = def;
    if (s == NULL)
        return 0;
    return vmc_parse_bool(c->h, vmx_what(c, key, what, sizeof what), s, val);
}

/* Boolean "PREFIX.NAME" into *VAL (DEF when absent). */
static int
vmx_bool2(const struct vmx_ctx *c, const char *prefix, const char *name,
          bool def, bool *val)
{
    char key[128];

    snprintf(key, sizeof key, "%s.%s", prefix, name);
    return vmx_bool(c, key, def, val);
}

/* Unsigned KEY into *VAL, in [MIN, MAX]; *FOUND (if not NULL) says
 * whether the key is there.  Absent: *VAL = DEF.  Returns 0 or -1.
 */
static int
vmx_uint(const struct vmx_ctx *c, const char *key, uint64_t min,
         uint64_t max, uint64_t def, uint64_t *val, bool *found)
{
    const char *s = vmx_get(c->d, key);
    char what[512];

    *val = def;
    if (found)
        *found = s != NULL;
    if (s == NULL)
        return 0;
    if (vmc_parse_uint(c->h, vmx_what(c, key, what, sizeof what), s, max,
                       val) == -1)
        return -1;
    if (*val < min) {
        vmx_bad(c, key, "'%s' is less than %" PRIu64, s, min);
        return -1;
    }
    return 0;
}

/* A signed 64-bit decimal KEY (vm.genid) into *VAL.  Returns 0, or -1
 * with an error.
 */
static int
vmx_int64(const struct vmx_ctx *c, const char *key, int64_t *val)
{
    const char *s = vmx_get(c->d, key), *p;
    uint64_t u = 0;
    bool neg;

    p = s;
    neg = *p == '-';
    if (neg)
        p++;
    if (*p == '\0')
        goto bad;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || u > (UINT64_MAX - 9) / 10)
            goto bad;
        u = u * 10 + (uint64_t) (*p - '0');
    }
    if (u > (neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX))
        goto bad;
    *val = neg ? (int64_t) (0 - u) : (int64_t) u;
    return 0;
 bad:
    vmx_bad(c, key, "'%s' is not a signed 64-bit number", s);
    return -1;
}

static int
vmx_note(struct vmx_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
vmx_note(struct vmx_ctx *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vmc_vm_add_note(c->vm, "%s", msg);
}

static int
vmx_set(struct vmx_ctx *c, char **field, const char *value)
{
    return vmc_vm_set_string(c->vm, field, value);
}

/* ---- Identity, CPUs, memory, firmware, OS ---------------------------- */

static int
vmx_uuid(struct vmx_ctx *c, const char *key, char out[VMC_UUID_LEN + 1])
{
    const char *s = vmx_get(c->d, key);

    if (vmc_uuid_normalize(s, out) == -1) {
        vmx_bad(c, key, "'%s' is not a UUID (16 hex bytes)", s);
        return -1;
    }
    return 0;
}

/* vm.genid / vm.genidX: the two signed 64-bit halves of the VM
 * generation ID, turned into the GUID the guest sees (the layout
 * virt-v2v documents, ../shared/specs/vmx.md).
 */
static int
vmx_genid(struct vmx_ctx *c)
{
    int64_t lo, hi;
    char s[33], g[VMC_UUID_LEN + 1];

    if (vmx_get(c->d, "vm.genid") == NULL ||
        vmx_get(c->d, "vm.genidx") == NULL)
        return 0;
    if (vmx_int64(c, "vm.genid", &lo) == -1 ||
        vmx_int64(c, "vm.genidx", &hi) == -1)
        return -1;
    snprintf(s, sizeof s, "%016" PRIx64 "%016" PRIx64, (uint64_t) lo,
             (uint64_t) hi);
    snprintf(g, sizeof g, "%.8s-%.4s-%.4s-%.2s%.2s-%.2s%.2s%.2s%.2s%.2s%.2s",
             s + 8, s + 4, s + 0, s + 30, s + 28, s + 26, s + 24, s + 22,
             s + 20, s + 18, s + 16);
    return vmx_set(c, &c->vm->genid, g);
}

static int
vmx_identity(struct vmx_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    char u[VMC_UUID_LEN + 1];
    const char *s;

    if (vmx_set(c, &vm->name, vmx_get(c->d, "displayname")) == -1 ||
        vmx_set(c, &vm->description, vmx_get(c->d, "annotation")) == -1)
        return -1;
    if (vm->description && *vm->description == '\0') {
        free(vm->description);
        vm->description = NULL;
    }
    if (vmx_get(c->d, "uuid.bios")) {
        /* libvirt's vmx driver keeps the bytes in the order written. */
        if (vmx_uuid(c, "uuid.bios", u) == -1 ||
            vmx_set(c, &vm->uuid, u) == -1)
            return -1;
    }
    if (vmx_get(c->d, "vc.uuid")) {
        if (vmx_uuid(c, "vc.uuid", u) == -1 ||
            vmx_note(c, "vCenter instance UUID (vc.uuid): %s", u) == -1)
            return -1;
    }
    if (vmx_genid(c) == -1)
        return -1;
    /* Seconds the guest's clock runs ahead of the host's. */
    if (vmx_get(c->d, "rtc.difffromutc") &&
        vmx_int64(c, "rtc.difffromutc", &vm->clock_offset) == -1)
        return -1;
    s = vmx_get(c->d, "checkpoint.vmstate");
    if (s && *s &&
        vmx_note(c, "the VM is suspended (checkpoint.vmState = \"%s\"): "
                 "its disks are not in a shut-down state; power it on and "
                 "shut it down before converting", s) == -1)
        return -1;
    return 0;
}

static int
vmx_cpu_memory(struct vmx_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    uint64_t vcpus, cores, mem, v;
    bool found;

    if (vmx_uint(c, "numvcpus", 1, VMX_MAX_VCPUS, 1, &vcpus, NULL) == -1 ||
        vmx_uint(c, "cpuid.corespersocket", 1, VMX_MAX_VCPUS, 1, &cores,
                 NULL) == -1)
        return -1;
    vm->vcpus = (unsigned) vcpus;
    if (vcpus % cores == 0) {
        vm->cpu_sockets = (unsigned) (vcpus / cores);
        vm->cpu_cores = (unsigned) cores;
        vm->cpu_threads = 1;
    } else if (vmx_note(c, "cpuid.coresPerSocket = %" PRIu64 " does not "
                        "divide numvcpus = %" PRIu64 ": CPU topology "
                        "unknown", cores, vcpus) == -1)
        return -1;

    if (vmx_uint(c, "memsize", 1, VMX_MAX_MEMSIZE_MIB, 0, &mem,
                 &found) == -1)
        return -1;
    if (!found) {
        if (vmx_note(c, "memsize is not set: the memory size is unknown") ==
            -1)
            return -1;
    }
    vm->memory = mem << 20;
    if (vmx_uint(c, "sched.mem.max", 0, VMX_MAX_MEMSIZE_MIB, 0, &v,
                 &found) == -1)
        return -1;
    vm->memory_max = v << 20;
    if (vmx_uint(c, "sched.mem.minsize", 0, VMX_MAX_MEMSIZE_MIB, 0, &v,
                 NULL) == -1)
        return -1;
    vm->memory_reservation = v << 20;
    if (vm->memory_max && vm->memory && vm->memory_max < vm->memory) {
        /* A limit below the size: the guest still sees MEMSIZE. */
        if (vmx_note(c, "sched.mem.max (%" PRIu64 " MiB) limits the VM "
                     "below its memsize", vm->memory_max >> 20) == -1)
            return -1;
        vm->memory_max = 0;
    }
    if (vm->memory && vm->memory_reservation > vm->memory)
        vm->memory_reservation = vm->memory;
    return 0;
}

static int
vmx_firmware(struct vmx_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    const char *fw = vmx_get(c->d, "firmware");
    const char *nvram = vmx_get(c->d, "nvram");
    bool b;

    if (fw == NULL || strcasecmp(fw, "bios") == 0)
        vm->firmware = VMC_FIRMWARE_BIOS;
    else if (strcasecmp(fw, "efi") == 0)
        vm->firmware = VMC_FIRMWARE_UEFI;
    else if (vmx_note(c, "firmware = \"%s\" is not bios or efi: firmware "
                      "unknown", fw) == -1)
        return -1;
    if (vmx_bool(c, "uefi.secureboot.enabled", false, &b) == -1)
        return -1;
    vm->secure_boot = b;
    if (b && vm->firmware != VMC_FIRMWARE_UEFI) {
        if (vmx_note(c, "uefi.secureBoot.enabled is TRUE but the firmware "
                     "is not efi: Secure Boot ignored") == -1)
            return -1;
        vm->secure_boot = false;
    }
    if (vmx_bool(c, "vtpm.present", false, &b) == -1)
        return -1;
    vm->tpm = b;
    if (vmx_bool(c, "vhv.enable", false, &b) == -1)
        return -1;
    vm->nested_virt = b;
    if (nvram && *nvram) {
        char what[512];
        char *local = NULL;
        unsigned fl = VMC_FOREIGN_MISSING_OK |
                      (c->opts->image_flags & VMC_FOREIGN_ALLOW_OUTSIDE);

        if (vmc_resolve_foreign_name(c->h, nvram, c->dir, fl,
                                     vmx_what(c, "nvram", what, sizeof what),
                                     &local) == -1)
            return -1;
        if (local) {
            vm->nvram_path = local;
            vm->nvram_kind = VMC_NVRAM_KIND_VMWARE;
        }
        else if (vmx_note(c, "the NVRAM file '%s' was not found (VMware "
                          "creates it at the first power-on)", nvram) == -1)
            return -1;
    }
    return 0;
}

static int
vmx_os(struct vmx_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    const char *id = vmx_get(c->d, "guestos");
    const char *hw = vmx_get(c->d, "virtualhw.version");
    const struct vmx_guest *g;
    const char *arch;
    uint64_t v;

    if (hw) {
        char ver[32];

        if (vmx_uint(c, "virtualhw.version", 1, 1000, 0, &v, NULL) == -1)
            return -1;
        snprintf(ver, sizeof ver, "vmx-%02" PRIu64, v);
        if (vmx_set(c, &vm->source_version, ver) == -1)
            return -1;
    }
    if (id == NULL || *id == '\0')
        return vmx_note(c, "guestOS is not set: the guest OS is unknown");
    if (vmx_set(c, &vm->os_id, id) == -1)
        return -1;
    g = vmx_guest_lookup(id, &arch);
    if (arch && vmx_set(c, &vm->os_arch, arch) == -1)
        return -1;
    if (g == NULL)
        return vmx_note(c, "guestOS \"%s\" is not in vmconv's table: the "
                        "guest OS family is unknown", id);
    vm->os_family = g->family;
    if (vmx_set(c, &vm->os_distro, g->distro) == -1 ||
        vmx_set(c, &vm->os_version, g->version) == -1)
        return -1;
    return 0;
}

static int
vmx_video(struct vmx_ctx *c)
{
    struct vmc_vm *vm = c->vm;
    uint64_t vram;
    bool present;

    if (vmx_bool(c, "svga.present", true, &present) == -1)
        return -1;
    vm->video = present ? VMC_VIDEO_MODEL_VMVGA : VMC_VIDEO_MODEL_NONE;
    if (vmx_uint(c, "svga.vramsize", 0, UINT32_MAX, 0, &vram, NULL) == -1)
        return -1;
    vm->vram = present ? vram : 0;
    vm->graphics = VMC_GRAPHICS_VMWARE;
    return 0;
}

/* ---- Device slots ---------------------------------------------------- */

enum vmx_bus { VMX_IDE, VMX_SATA, VMX_SCSI, VMX_NVME, VMX_BUS_LAST };

static const struct {
    const char *name;
    enum vmc_disk_bus bus;
    unsigned max_ctrl;           /* highest controller number */
    unsigned max_unit;           /* highest unit (SCSI: see vmx_max_unit) */
} vmx_buses[VMX_BUS_LAST] = {
    [VMX_IDE]  = { "ide",  VMC_DISK_BUS_IDE,  1, 1 },
    [VMX_SATA] = { "sata", VMC_DISK_BUS_SATA, 3, 29 },
    [VMX_SCSI] = { "scsi", VMC_DISK_BUS_SCSI, 3, 15 },
    [VMX_NVME] = { "nvme", VMC_DISK_BUS_NVME, 3, 63 },
};

/* The order disks are listed in: SCSI, NVMe, SATA, IDE. */
static const enum vmx_bus vmx_bus_order[] = {
    VMX_SCSI, VMX_NVME, VMX_SATA, VMX_IDE
};

/* A device slot "BUSc:u" found in the keys. */
struct vmx_slot {
    enum vmx_bus bus;
    unsigned ctrl, unit;
};

/* Parse KEY as "BUSc:u.<anything>" (or with CTRL_ONLY, "BUSc.<..>"):
 * the bus and numbers.  Numbers above 9999 do not match.
 */
static bool
vmx_slot_key(const char *key, bool ctrl_only, enum vmx_bus *bus,
             unsigned *ctrl, unsigned *unit)
{
    unsigned b;

    for (b = 0; b < VMX_BUS_LAST; b++) {
        size_t n = strlen(vmx_buses[b].name);
        const char *p = key + n;
        unsigned long x, y = 0;
        char *end;

        if (strncmp(key, vmx_buses[b].name, n) != 0 || *p < '0' ||
            *p > '9')
            continue;
        x = strtoul(p, &end, 10);
        if (end - p > 4)
            return false;
        if (ctrl_only) {
            if (*end != '.')
                return false;
        } else {
            if (*end != ':' || end[1] < '0' || end[1] > '9')
                return false;
            p = end + 1;
            y = strtoul(p, &end, 10);
            if (end - p > 4 || *end != '.')
                return false;
        }
        *bus = b;
        *ctrl = (unsigned) x;
        *unit = (unsigned) y;
        return true;
    }
    return false;
}

static int
vmx_cmp_slot(const void *a, const void *b)
{
    const struct vmx_slot *x = a, *y = b;
    unsigned i, ox = 0, oy = 0;

    for (i = 0; i < VMX_BUS_LAST; i++) {
        if (vmx_bus_order[i] == x->bus)
            ox = i;
        if (vmx_bus_order[i] == y->bus)
            oy = i;
    }
    if (ox != oy)
        return ox < oy ? -1 : 1;
    if (x->ctrl != y->ctrl)
        return x->ctrl < y->ctrl ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

/* The SCSI controller model of scsiN, from its virtualDev. */
static int
vmx_scsi_model(struct vmx_ctx *c, unsigned n,
               enum vmc_controller_model *model)
{
    char key[32];
    const char *dev;

    snprintf(key, sizeof key, "scsi%u.virtualdev", n);
    dev = vmx_get(c->d, key);
    *model = VMC_CONTROLLER_MODEL_UNKNOWN;
    if (dev == NULL)
        return vmx_note(c, "scsi%u.virtualDev is not set: the SCSI "
                        "controller model is unknown (VMware picks one for "
                        "the guest OS)", n);
    if (strcasecmp(dev, "lsilogic") == 0)
        *model = VMC_CONTROLLER_MODEL_LSILOGIC;
    else if (strcasecmp(dev, "lsisas1068") == 0)
        *model = VMC_CONTROLLER_MODEL_LSISAS1068;
    else if (strcasecmp(dev, "pvscsi") == 0)
        *model = VMC_CONTROLLER_MODEL_PVSCSI;
    else if (strcasecmp(dev, "buslogic") == 0)
        *model = VMC_CONTROLLER_MODEL_BUSLOGIC;
    else
        return vmx_note(c, "scsi%u.virtualDev = \"%s\" is not a SCSI "
                        "controller vmconv knows: model unknown", n, dev);
    return 0;
}

/* Is the controller BUSn present?  IDE controllers always are. */
static int
vmx_ctrl_present(struct vmx_ctx *c, enum vmx_bus bus, unsigned n,
                 bool *present)
{
    char key[32];

    if (bus == VMX_IDE) {
        *present = true;
        return 0;
    }
    snprintf(key, sizeof key, "%s%u.present", vmx_buses[bus].name, n);
    return vmx_bool(c, key, false, present);
}

/* The index in vm->controllers of BUSn, added (with its model) on first
 * use.  Returns the index or -1 with an error.
 */
static int
vmx_controller(struct vmx_ctx *c, enum vmx_bus bus, unsigned n)
{
    struct vmc_vm *vm = c->vm;
    struct vmc_controller *ctl;
    enum vmc_controller_model model = VMC_CONTROLLER_MODEL_UNKNOWN;
    size_t i;

    for (i = 0; i < vm->nr_controllers; i++)
        if (vm->controllers[i]->bus == vmx_buses[bus].bus &&
            vm->controllers[i]->index == n)
            return (int) i;
    if (bus == VMX_SCSI && vmx_scsi_model(c, n, &model) == -1)
        return -1;
    if (bus == VMX_SATA)
        model = VMC_CONTROLLER_MODEL_AHCI;
    if (bus == VMX_IDE)
        model = VMC_CONTROLLER_MODEL_PIIX4;
    ctl = vmc_vm_add_controller(vm);
    if (ctl == NULL)
        return -1;
    ctl->bus = vmx_buses[bus].bus;
    ctl->index = n;
    ctl->model = model;
    return (int) (vm->nr_controllers - 1);
}

/* Is UNIT a valid address on its controller?  Sets *MAX to the
 * highest unit of the model.
 */
static bool
vmx_unit_ok(enum vmx_bus bus, enum vmc_controller_model model,
            unsigned unit, unsigned *max)
{
    *max = vmx_buses[bus].max_unit;
    if (bus == VMX_SCSI && (model == VMC_CONTROLLER_MODEL_PVSCSI ||
                            model == VMC_CONTROLLER_MODEL_UNKNOWN))
        *max = 63;
    if (unit > *max)
        return false;
    return !(bus == VMX_SCSI && unit == 7);
}

/* Does the descriptor at PATH name a raw device (RDM)? */
static bool
vmx_is_rdm(struct vmc_handle *h, const char *path)
{
    char buf[4096];
    ptrdiff_t n = vmc_probe_read_head(h, path, buf, sizeof buf - 1);
    static const char *const types[] = {
        "vmfsRawDeviceMap", "vmfsPassthroughRawDeviceMap", "vmfsRDM",
        "vmfsRDMP", "fullDevice", "partitionedDevice", NULL
    };
    size_t i;
    char *p;

    if (n <= 0 || memchr(buf, '\0', (size_t) n))
        return false;
    buf[n] = '\0';
    p = strcasestr(buf, "createType");
    if (p == NULL)
        return false;
    for (i = 0; types[i]; i++) {
        char q[64];

        snprintf(q, sizeof q, "\"%s\"", types[i]);
        if (strcasestr(p, q) && strcasestr(p, q) - p < 40)
            return true;
    }
    return false;
}

/* Resolve the file NAME of KEY against the .vmx's directory: *LOCAL is
 * the local path, or NULL when not found.  A host path found beside the
 * .vmx instead gets a note.  With MEDIUM (an ISO or floppy image, only
 * referred to, never read), a name the path policy refuses is kept as
 * written (*REFUSED set) instead of failing.  Returns 0 or -1.
 */
static int
vmx_resolve2(struct vmx_ctx *c, const char *key, const char *name,
             bool medium, char **local, bool *refused)
{
    char what[512];
    unsigned fl = VMC_FOREIGN_MISSING_OK |
                  (c->opts->image_flags & VMC_FOREIGN_ALLOW_OUTSIDE);

    *local = NULL;
    if (refused)
        *refused = false;
    if (vmc_resolve_foreign_name(c->h, name, c->dir, fl,
                                 vmx_what(c, key, what, sizeof what),
                                 local) == -1) {
        if (!medium || vmc_get_error_hint(c->h) != VMC_HINT_ALLOW_OUTSIDE)
            return -1;
        vmc_clear_error(c->h);
        *refused = true;
        return vmx_note(c, "%s: '%s' is outside the VM's directory: "
                        "referred to as written (allow files outside to "
                        "resolve it)", vmx_name(c, key), name);
    }
    if (*local && (name[0] == '/' || name[0] == '[' || name[0] == '\\' ||
                   (name[0] && name[1] == ':'))) {
        const char *base = strrchr(*local, '/');

        if (strcmp(*local, name) != 0 &&
            vmx_note(c, "%s: '%s' is not on this host: using %s, found "
                     "beside the .vmx", vmx_name(c, key), name,
                     base ? base + 1 : *local)
            == -1)
            return -1;
    }
    return 0;
}

static int
vmx_resolve(struct vmx_ctx *c, const char *key, const char *name,
            char **local)
{
    return vmx_resolve2(c, key, name, false, local, NULL);
}

/* Open the disk image at D->path read-only and fill its format, size
 * and backing chain.
 */
static int
vmx_open_disk(struct vmx_ctx *c, struct vmc_disk *d)
{
    CLEANUP_IMAGE_CLOSE struct vmc_image *img = NULL;
    struct vmc_image *b;

    img = vmc_image_open(c->h, d->path, NULL,
                         c->opts->image_flags & ~VMC_IMAGE_RDWR);
    if (img == NULL)
        return -1;
    if (vmx_set(c, &d->format, vmc_image_format(img)) == -1)
        return -1;
    d->virtual_size = vmc_image_size(img);
    for (b = vmc_image_backing(img); b; b = vmc_image_backing(b))
        if (vmc_disk_add_backing(c->vm, d, vmc_image_path(b)) == -1)
            return -1;
    return 0;
}

/* A hard disk at slot S whose fileName is NAME. */
static int
vmx_hard_disk(struct vmx_ctx *c, const char *key, const char *name,
              const char *slot, struct vmc_disk *d)
{
    char *local;

    d->device = VMC_DISK_DEVICE_DISK;
    if (name == NULL || *name == '\0') {
        vmx_bad(c, key, "a hard disk needs a file name");
        return -1;
    }
    if (vmx_set(c, &d->source_ref, name) == -1 ||
        vmx_resolve(c, key, name, &local) == -1)
        return -1;
    if (local == NULL) {
        d->missing = true;
        return vmx_note(c, "%s: disk '%s' not found", slot, name);
    }
    d->path = local;
    if (vmx_is_rdm(c->h, local)) {
        d->device = VMC_DISK_DEVICE_LUN;
        d->reference_only = true;
        return vmx_note(c, "%s: '%s' is a raw device mapping (RDM): it "
                        "cannot be converted offline; copy the LUN itself",
                        slot, name);
    }
    return vmx_open_disk(c, d);
}

/* A CD-ROM (or a host SCSI device) at slot S of type TYPE. */
static int
vmx_cdrom(struct vmx_ctx *c, const char *key, const char *name,
          const char *slot, const char *type, bool client,
          struct vmc_disk *d)
{
    char *local;
    bool refused;

    d->device = VMC_DISK_DEVICE_CDROM;
    d->readonly = true;
    d->reference_only = true;
    if (client)
        return vmx_note(c, "%s: the CD-ROM drive of the remote console "
                        "(clientDevice): kept as an empty drive", slot);
    if (name == NULL || *name == '\0' ||
        strcasecmp(name, "emptyBackingString") == 0)
        return 0;
    if (strcasecmp(type, "cdrom-image") != 0) {
        /* A host drive: referred to, never read. */
        if (vmx_set(c, &d->source_ref, name) == -1)
            return -1;
        return vmx_note(c, "%s: the host's CD-ROM drive '%s' (%s)", slot,
                        name, type);
    }
    if (vmx_set(c, &d->source_ref, name) == -1 ||
        vmx_resolve2(c, key, name, true, &local, &refused) == -1)
        return -1;
    if (refused)
        return 0;
    if (local == NULL) {
        d->missing = true;
        return vmx_note(c, "%s: ISO image '%s' not found", slot, name);
    }
    d->path = local;
    return 0;
}

/* The disk mode of slot S. */
static int
vmx_disk_mode(struct vmx_ctx *c, const char *s, struct vmc_disk *d)
{
    const char *mode = vmx_getf(c->d, "%s.mode", s);

    if (mode == NULL || strcasecmp(mode, "persistent") == 0)
        return 0;
    if (strcasecmp(mode, "independent-persistent") == 0) {
        d->independent = true;
        return vmx_note(c, "%s: independent-persistent disk (left out of "
                        "snapshots)", s);
    }
    if (strcasecmp(mode, "independent-nonpersistent") == 0) {
        d->independent = true;
        d->nonpersistent = true;
        return vmx_note(c, "%s: independent-nonpersistent disk (the "
                        "guest's changes are discarded at power off)", s);
    }
    if (strcasecmp(mode, "nonpersistent") == 0) {
        d->nonpersistent = true;
        return vmx_note(c, "%s: nonpersistent disk (the guest's changes "
                        "are discarded at power off)", s);
    }
    return vmx_note(c, "%s: disk mode \"%s\" (kept as a persistent disk)",
                    s, mode);
}

/* One present device slot. */
static int
vmx_slot(struct vmx_ctx *c, const struct vmx_slot *sl)
{
    char s[32], key[64];
    const char *type, *name;
    struct vmc_disk *d;
    bool present, client, connected;
    unsigned max;
    int ref;

    snprintf(s, sizeof s, "%s%u:%u", vmx_buses[sl->bus].name, sl->ctrl,
             sl->unit);
    snprintf(key, sizeof key, "%s.present", s);
    if (vmx_bool(c, key, false, &present) == -1)
        return -1;
    if (!present)
        return 0;
    if (vmx_ctrl_present(c, sl->bus, sl->ctrl, &present) == -1)
        return -1;
    if (!present)
        return vmx_note(c, "%s: its controller %s%u is not present: "
                        "device ignored", s, vmx_buses[sl->bus].name,
                        sl->ctrl);
    if (sl->ctrl > vmx_buses[sl->bus].max_ctrl) {
        vmx_bad(c, key, "controller %u is out of range for %s (0-%u)",
                sl->ctrl, vmx_buses[sl->bus].name,
                vmx_buses[sl->bus].max_ctrl);
        return -1;
    }
    ref = vmx_controller(c, sl->bus, sl->ctrl);
    if (ref == -1)
        return -1;
    if (!vmx_unit_ok(sl->bus, c->vm->controllers[ref]->model, sl->unit,
                     &max)) {
        vmx_bad(c, key, "unit %u is out of range for %s%u (%s: 0-%u%s)",
                sl->unit, vmx_buses[sl->bus].name, sl->ctrl,
                vmc_controller_model_to_string(
                    c->vm->controllers[ref]->model),
                max, sl->bus == VMX_SCSI ? ", not 7" : "");
        return -1;
    }
    d = vmc_vm_add_disk(c->vm);
    if (d == NULL)
        return -1;
    d->bus = vmx_buses[sl->bus].bus;
    d->controller = (int) sl->ctrl;
    d->unit = (int) sl->unit;
    d->controller_ref = ref;
    d->controller_model = c->vm->controllers[ref]->model;

    type = vmx_getf(c->d, "%s.devicetype", s);
    snprintf(key, sizeof key, "%s.filename", s);
    name = vmx_get(c->d, key);
    if (vmx_bool2(c, s, "clientdevice", false, &client) == -1 ||
        vmx_bool2(c, s, "startconnected", true, &connected) == -1)
        return -1;
    if (type && (strcasecmp(type, "cdrom-image") == 0 ||
                 strcasecmp(type, "cdrom-raw") == 0 ||
                 strcasecmp(type, "atapi-cdrom") == 0)) {
        d->connection = connected ? VMC_CONNECTION_CONNECTED
                                  : VMC_CONNECTION_DISCONNECTED;
        return vmx_cdrom(c, key, name, s, type, client, d);
    }
    if (type && strcasecmp(type, "scsi-passthru") == 0) {
        d->device = VMC_DISK_DEVICE_LUN;
        d->reference_only = true;
        d->connection = connected ? VMC_CONNECTION_CONNECTED
                                  : VMC_CONNECTION_DISCONNECTED;
        if (name && *name && vmx_set(c, &d->source_ref, name) == -1)
            return -1;
        return vmx_note(c, "%s: a host SCSI device passed through "
                        "(scsi-passthru '%s'): not converted", s,
                        name ? name : "");
    }
    if (type && strcasecmp(type, "rawDisk") == 0) {
        d->device = VMC_DISK_DEVICE_LUN;
        d->reference_only = true;
        if (name && *name && vmx_set(c, &d->source_ref, name) == -1)
            return -1;
        return vmx_note(c, "%s: a raw host disk (rawDisk '%s'): not "
                        "converted", s, name ? name : "");
    }
    if (type && strcasecmp(type, "scsi-hardDisk") != 0 &&
        strcasecmp(type, "disk") != 0 && strcasecmp(type, "plainDisk") != 0 &&
        strcasecmp(type, "ata-hardDisk") != 0) {
        char tkey[64];

        snprintf(tkey, sizeof tkey, "%s.devicetype", s);
        vmx_bad(c, tkey, "'%s' is not a device type vmconv knows", type);
        return -1;
    }
    if (vmx_disk_mode(c, s, d) == -1)
        return -1;
    return vmx_hard_disk(c, key, name, s, d);
}

/* Every storage device slot, in vmx_bus_order. */
static int
vmx_disks(struct vmx_ctx *c)
{
    CLEANUP_FREE struct vmx_slot *slots = NULL;
    size_t n = 0, i;
    unsigned ctrl, unit;
    enum vmx_bus bus;

    slots = calloc(c->d->nr + 1, sizeof *slots);
    if (slots == NULL) {
        vmc_error(c->h, "%s: out of memory", c->path);
        return -1;
    }
    for (i = 0; i < c->d->nr; i++) {
        if (!vmx_slot_key(c->d->e[i].key, false, &bus, &ctrl, &unit) ||
            strcmp(strchr(c->d->e[i].key, '.'), ".present") != 0)
            continue;
        slots[n].bus = bus;
        slots[n].ctrl = ctrl;
        slots[n].unit = unit;
        n++;
    }
    qsort(slots, n, sizeof *slots, vmx_cmp_slot);
    /* Present controllers without devices are listed too. */
    for (i = 0; i < c->d->nr; i++) {
        bool present;

        if (!vmx_slot_key(c->d->e[i].key, true, &bus, &ctrl, &unit) ||
            bus == VMX_IDE ||
            strcmp(strchr(c->d->e[i].key, '.'), ".present") != 0)
            continue;
        if (vmx_bool(c, c->d->e[i].key, false, &present) == -1)
            return -1;
        if (!present)
            continue;
        if (ctrl > vmx_buses[bus].max_ctrl) {
            vmx_bad(c, c->d->e[i].key, "controller %u is out of range for "
                    "%s (0-%u)", ctrl, vmx_buses[bus].name,
                    vmx_buses[bus].max_ctrl);
            return -1;
        }
    }
    for (i = 0; i < n; i++)
        if (vmx_slot(c, &slots[i]) == -1)
            return -1;
    for (i = 0; i < c->d->nr; i++) {
        bool present;

        if (!vmx_slot_key(c->d->e[i].key, true, &bus, &ctrl, &unit) ||
            bus == VMX_IDE ||
            strcmp(strchr(c->d->e[i].key, '.'), ".present") != 0)
            continue;
        if (vmx_bool(c, c->d->e[i].key, false, &present) == -1)
            return -1;
        if (present && vmx_controller(c, bus, ctrl) == -1)
            return -1;
    }
    return 0;
}

/* floppyN: present unless floppyN.present is FALSE, when any floppyN
 * key exists.
 */
static int
vmx_floppies(struct vmx_ctx *c)
{
    unsigned n;

    for (n = 0; n < 2; n++) {
        char key[32], s[16];
        const char *type, *name;
        struct vmc_disk *d;
        bool present, client, connected;
        size_t i, len;

        snprintf(s, sizeof s, "floppy%u", n);
        len = strlen(s);
        for (i = 0; i < c->d->nr; i++)
            if (strncmp(c->d->e[i].key, s, len) == 0 &&
                c->d->e[i].key[len] == '.')
                break;
        if (i == c->d->nr)
            continue;
        snprintf(key, sizeof key, "%s.present", s);
        if (vmx_bool(c, key, true, &present) == -1)
            return -1;
        if (!present)
            continue;
        if (vmx_bool2(c, s, "clientdevice", false, &client) == -1 ||
            vmx_bool2(c, s, "startconnected", true, &connected) == -1)
            return -1;
        d = vmc_vm_add_disk(c->vm);
        if (d == NULL)
            return -1;
        d->device = VMC_DISK_DEVICE_FLOPPY;
        d->bus = VMC_DISK_BUS_FDC;
        d->controller = 0;
        d->unit = (int) n;
        d->reference_only = true;
        d->connection = connected ? VMC_CONNECTION_CONNECTED
                                  : VMC_CONNECTION_DISCONNECTED;
        type = vmx_getf(c->d, "%s.filetype", s);
        snprintf(key, sizeof key, "%s.filename", s);
        name = vmx_get(c->d, key);
        if (client) {
            if (vmx_note(c, "%s: the floppy drive of the remote console "
                         "(clientDevice): kept as an empty drive", s) == -1)
                return -1;
            continue;
        }
        if (name == NULL || *name == '\0')
            continue;
        if (vmx_set(c, &d->source_ref, name) == -1)
            return -1;
        if (type && strcasecmp(type, "file") == 0) {
            char *local;
            bool refused;

            if (vmx_resolve2(c, key, name, true, &local, &refused) == -1)
                return -1;
            d->path = local;
            d->missing = local == NULL && !refused;
            if (d->missing &&
                vmx_note(c, "%s: floppy image '%s' not found", s, name) == -1)
                return -1;
        } else if (vmx_note(c, "%s: the host's floppy drive '%s'", s,
                            name) == -1)
            return -1;
    }
    return 0;
}

/* ---- NICs ------------------------------------------------------------ */

static int
vmx_mac(struct vmx_ctx *c, const char *s, struct vmc_nic *n)
{
    const char *type = vmx_getf(c->d, "%s.addresstype", s);
    const char *first = "generatedaddress", *second = "address";
    char key[64], mac[VMC_MAC_LEN + 1];
    const char *v;

    n->mac_kind = VMC_MAC_KIND_GENERATED;
    if (type && strcasecmp(type, "static") == 0) {
        n->mac_kind = VMC_MAC_KIND_STATIC;
        first = "address";
        second = "generatedaddress";
    } else if (type && strcasecmp(type, "vpx") == 0)
        n->mac_kind = VMC_MAC_KIND_VPX;
    else if (type && strcasecmp(type, "generated") != 0) {
        snprintf(key, sizeof key, "%s.addresstype", s);
        vmx_bad(c, key, "'%s' is not static, generated or vpx", type);
        return -1;
    }
    snprintf(key, sizeof key, "%s.%s", s, first);
    v = vmx_get(c->d, key);
    if (v == NULL || *v == '\0') {
        snprintf(key, sizeof key, "%s.%s", s, second);
        v = vmx_get(c->d, key);
    }
    if (v == NULL || *v == '\0') {
        n->mac_kind = VMC_MAC_KIND_UNKNOWN;
        return vmx_note(c, "%s: no MAC address yet (VMware generates one at "
                        "the first power-on)", s);
    }
    if (vmc_mac_normalize(v, mac) == -1) {
        vmx_bad(c, key, "'%s' is not a MAC address", v);
        return -1;
    }
    return vmx_set(c, &n->mac, mac);
}

static int
vmx_nic_model(struct vmx_ctx *c, const char *s, struct vmc_nic *n)
{
    const char *dev = vmx_getf(c->d, "%s.virtualdev", s);
    const char *features = vmx_getf(c->d, "%s.features", s);

    if (dev == NULL)
        return vmx_note(c, "%s.virtualDev is not set: the NIC model is "
                        "unknown (VMware picks one for the guest OS)", s);
    if (strcasecmp(dev, "e1000") == 0)
        n->model = VMC_NIC_MODEL_E1000;
    else if (strcasecmp(dev, "e1000e") == 0)
        n->model = VMC_NIC_MODEL_E1000E;
    else if (strcasecmp(dev, "vmxnet3") == 0)
        n->model = VMC_NIC_MODEL_VMXNET3;
    else if (strcasecmp(dev, "vmxnet2") == 0)
        n->model = VMC_NIC_MODEL_VMXNET2;
    else if (strcasecmp(dev, "vmxnet") == 0)
        n->model = features && strcmp(features, "15") == 0
                   ? VMC_NIC_MODEL_VMXNET2 : VMC_NIC_MODEL_VMXNET;
    else if (strcasecmp(dev, "vlance") == 0)
        n->model = VMC_NIC_MODEL_PCNET;
    else
        return vmx_note(c, "%s.virtualDev = \"%s\" is not a NIC model "
                        "vmconv knows: model unknown", s, dev);
    return 0;
}

/* The network of ethernetN (S): what --network maps. */
static int
vmx_network(struct vmx_ctx *c, const char *s, struct vmc_nic *n)
{
    const char *name = vmx_getf(c->d, "%s.networkname", s);
    const char *ct = vmx_getf(c->d, "%s.connectiontype", s);
    const char *vnet = vmx_getf(c->d, "%s.vnet", s);
    const char *pg = vmx_getf(c->d, "%s.dvs.portgroupid", s);
    const char *sw = vmx_getf(c->d, "%s.dvs.switchid", s);
    const char *opaque = vmx_getf(c->d, "%s.opaquenetwork.id", s);
    const char *otype = vmx_getf(c->d, "%s.opaquenetwork.type", s);

    if (pg && *pg) {
        n->net_type = VMC_NET_TYPE_NETWORK;
        if (vmx_set(c, &n->network, name && *name ? name : pg) == -1)
            return -1;
        return vmx_note(c, "%s: distributed switch port group %s (switch "
                        "%s)", s, pg, sw ? sw : "unknown");
    }
    if (opaque && *opaque) {
        n->net_type = VMC_NET_TYPE_NETWORK;
        if (vmx_set(c, &n->network, name && *name ? name : opaque) == -1)
            return -1;
        return vmx_note(c, "%s: NSX opaque network %s (%s)", s, opaque,
                        otype ? otype : "type unknown");
    }
    if (name && *name) {
        n->net_type = VMC_NET_TYPE_NETWORK;
        return vmx_set(c, &n->network, name);
    }
    if (vnet && *vnet) {
        /* "/dev/vmnet1" on Linux hosts, "vmnet1" on Windows. */
        const char *b = strrchr(vnet, '/');

        vnet = b ? b + 1 : vnet;
    } else
        vnet = NULL;
    if (ct == NULL || strcasecmp(ct, "bridged") == 0)
        n->net_type = VMC_NET_TYPE_BRIDGE;
    else if (strcasecmp(ct, "nat") == 0)
        n->net_type = VMC_NET_TYPE_NAT;
    else if (strcasecmp(ct, "hostonly") == 0)
        n->net_type = VMC_NET_TYPE_HOST_ONLY;
    else if (strcasecmp(ct, "custom") == 0)
        n->net_type = VMC_NET_TYPE_NETWORK;
    else
        return vmx_note(c, "%s.connectionType = \"%s\" is not one vmconv "
                        "knows: network unknown", s, ct);
    return vmx_set(c, &n->network, vnet);
}

static int
vmx_nics(struct vmx_ctx *c)
{
    bool seen[VMX_MAX_NIC_INDEX + 1] = { false };
    size_t i;
    unsigned idx;

    for (i = 0; i < c->d->nr; i++) {
        const char *k = c->d->e[i].key;
        unsigned long v;
        char *end;

        if (strncmp(k, "ethernet", 8) != 0 || k[8] < '0' || k[8] > '9')
            continue;
        v = strtoul(k + 8, &end, 10);
        if (strcmp(end, ".present") != 0)
            continue;
        if (v > VMX_MAX_NIC_INDEX || end - (k + 8) > 4) {
            vmx_bad(c, k, "NIC number %.*s is out of range (0-%u)",
                    (int) (end - (k + 8)), k + 8, VMX_MAX_NIC_INDEX);
            return -1;
        }
        seen[v] = true;
    }
    for (idx = 0; idx <= VMX_MAX_NIC_INDEX; idx++) {
        char s[32], key[64];
        struct vmc_nic *n;
        bool present, connected;

        if (!seen[idx])
            continue;
        snprintf(s, sizeof s, "ethernet%u", idx);
        snprintf(key, sizeof key, "%s.present", s);
        if (vmx_bool(c, key, false, &present) == -1)
            return -1;
        if (!present)
            continue;
        snprintf(key, sizeof key, "%s.startconnected", s);
        if (vmx_bool(c, key, true, &connected) == -1)
            return -1;
        n = vmc_vm_add_nic(c->vm);
        if (n == NULL)
            return -1;
        n->connection = connected ? VMC_CONNECTION_CONNECTED
                                  : VMC_CONNECTION_DISCONNECTED;
        if (vmx_mac(c, s, n) == -1 || vmx_nic_model(c, s, n) == -1 ||
            vmx_network(c, s, n) == -1)
            return -1;
    }
    return 0;
}

/* ---- Serial ports ------------------------------------------------------ */

static int
vmx_serials(struct vmx_ctx *c)
{
    unsigned idx;

    for (idx = 0; idx <= VMX_MAX_SERIAL_INDEX; idx++) {
        char s[32], key[64];
        const char *type, *name;
        struct vmc_serial *se;
        bool present;

        snprintf(s, sizeof s, "serial%u", idx);
        snprintf(key, sizeof key, "%s.present", s);
        if (vmx_get(c->d, key) == NULL)
            continue;
        if (vmx_bool(c, key, false, &present) == -1)
            return -1;
        if (!present)
            continue;
        se = vmc_vm_add_serial(c->vm);
        if (se == NULL)
            return -1;
        se->index = idx;
        type = vmx_getf(c->d, "%s.filetype", s);
        name = vmx_getf(c->d, "%s.filename", s);
        if (type == NULL)
            se->type = VMC_SERIAL_TYPE_UNKNOWN;
        else if (strcasecmp(type, "file") == 0)
            se->type = VMC_SERIAL_TYPE_FILE;
        else if (strcasecmp(type, "device") == 0)
            se->type = VMC_SERIAL_TYPE_DEVICE;
        else if (strcasecmp(type, "pipe") == 0)
            se->type = VMC_SERIAL_TYPE_PIPE;
        else if (strcasecmp(type, "network") == 0)
            se->type = VMC_SERIAL_TYPE_TCP;
        else if (vmx_note(c, "%s.fileType = \"%s\": the serial port's "
                          "connection is unknown", s, type) == -1)
            return -1;
        if (name && *name && vmx_set(c, &se->target, name) == -1)
            return -1;
    }
    return 0;
}

/* ---- Snapshots (.vmsd) ------------------------------------------------- */

/* The index in vm->disks of the disk at NODE ("scsi0:1"), or -1. */
static int
vmx_disk_at(const struct vmc_vm *vm, const char *node)
{
    char key[64];
    enum vmx_bus bus;
    unsigned ctrl, unit;
    size_t i;

    snprintf(key, sizeof key, "%s.", node);
    for (i = 0; key[i]; i++)
        if (key[i] >= 'A' && key[i] <= 'Z')
            key[i] = (char) (key[i] - 'A' + 'a');
    if (!vmx_slot_key(key, false, &bus, &ctrl, &unit))
        return -1;
    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *d = vm->disks[i];

        if (d->bus == vmx_buses[bus].bus && d->controller == (int) ctrl &&
            d->unit == (int) unit)
            return (int) i;
    }
    return -1;
}

static int
vmx_snapshot(struct vmx_ctx *c, struct vmx_ctx *sc, unsigned idx)
{
    struct vmc_vm *vm = c->vm;
    struct vmc_snapshot *snap;
    const char *uid = vmx_getf(sc->d, "snapshot%u.uid", idx);
    const char *v;
    char key[64];
    uint64_t nd, hi, lo, i;

    if (uid == NULL || *uid == '\0')
        return 0;
    snap = vmc_vm_add_snapshot(vm);
    if (snap == NULL ||
        vmx_set(c, &snap->id, uid) == -1 ||
        vmx_set(c, &snap->name, vmx_getf(sc->d, "snapshot%u.displayname",
                                         idx)) == -1 ||
        vmx_set(c, &snap->description,
                vmx_getf(sc->d, "snapshot%u.description", idx)) == -1 ||
        vmx_set(c, &snap->parent,
                vmx_getf(sc->d, "snapshot%u.parent", idx)) == -1)
        return -1;
    if (snap->description && *snap->description == '\0') {
        free(snap->description);
        snap->description = NULL;
    }
    if (snap->parent && *snap->parent == '\0') {
        free(snap->parent);
        snap->parent = NULL;
    }
    /* Microseconds since the epoch, in two signed 32-bit halves. */
    snprintf(key, sizeof key, "snapshot%u.createtimehigh", idx);
    v = vmx_get(sc->d, key);
    if (v) {
        int64_t h, l = 0;

        if (vmx_int64(sc, key, &h) == -1)
            return -1;
        snprintf(key, sizeof key, "snapshot%u.createtimelow", idx);
        if (vmx_get(sc->d, key) && vmx_int64(sc, key, &l) == -1)
            return -1;
        hi = (uint32_t) h;
        lo = (uint32_t) l;
        snap->created = (int64_t) (((hi << 32) | lo) / 1000000);
    }
    snprintf(key, sizeof key, "snapshot%u.numdisks", idx);
    if (vmx_uint(sc, key, 0, VMC_VM_MAX_DISKS, 0, &nd, NULL) == -1)
        return -1;
    for (i = 0; i < nd; i++) {
        const char *node = vmx_getf(sc->d, "snapshot%u.disk%" PRIu64 ".node",
                                    idx, i);
        const char *file;
        struct vmc_snapshot_disk *sd;
        char *local = NULL;

        snprintf(key, sizeof key, "snapshot%u.disk%" PRIu64 ".filename", idx,
                 i);
        file = vmx_get(sc->d, key);
        if (file == NULL)
            continue;
        sd = vmc_snapshot_add_disk(vm, snap);
        if (sd == NULL || vmx_resolve(sc, key, file, &local) == -1)
            return -1;
        sd->disk = node ? vmx_disk_at(vm, node) : -1;
        sd->path = local;
        if (local == NULL && vmx_set(c, &sd->path, file) == -1)
            return -1;
    }
    return 0;
}

static struct vmc_snapshot *
vmx_snapshot_find(const struct vmc_vm *vm, const char *id)
{
    size_t i;

    for (i = 0; i < vm->nr_snapshots; i++)
        if (strcmp(vm->snapshots[i]->id, id) == 0)
            return vm->snapshots[i];
    return NULL;
}

/* Two snapshots with one uid are an error; a parent the file does not
 * have is dropped with a note (its snapshot was deleted).
 */
static int
vmx_snapshot_links(struct vmx_ctx *c, const struct vmx_ctx *sc)
{
    struct vmc_vm *vm = c->vm;
    size_t i, j;

    for (i = 0; i < vm->nr_snapshots; i++) {
        struct vmc_snapshot *s = vm->snapshots[i];

        for (j = 0; j < i; j++)
            if (strcmp(vm->snapshots[j]->id, s->id) == 0) {
                vmc_error(c->h, "%s: two snapshots have the uid '%s'",
                          sc->path, s->id);
                return -1;
            }
        if (s->parent && vmx_snapshot_find(vm, s->parent) == NULL) {
            if (vmx_note(c, "%s: snapshot '%s' names parent '%s', which "
                         "the file does not have", sc->path, s->id,
                         s->parent) == -1)
                return -1;
            free(s->parent);
            s->parent = NULL;
        }
    }
    return 0;
}

/* The .vmsd beside the .vmx: its name is the .vmx's with .vmsd. */
static int
vmx_snapshots(struct vmx_ctx *c)
{
    CLEANUP_FREE char *vmsd = NULL;
    struct vmx_ctx sc = *c;
    const char *cur;
    size_t len = strlen(c->path), i;
    unsigned idx;
    int r = -1;

    if (len < 4 || strcasecmp(c->path + len - 4, ".vmx") != 0)
        return 0;
    if (asprintf(&vmsd, "%.*s.vmsd", (int) (len - 4), c->path) == -1) {
        vmsd = NULL;
        vmc_error(c->h, "%s: out of memory", c->path);
        return -1;
    }
    if (access(vmsd, F_OK) != 0)
        return 0;
    sc.path = vmsd;
    sc.d = vmx_parse_file(c->h, vmsd);
    if (sc.d == NULL)
        return -1;
    for (i = 0; i < sc.d->nr; i++) {
        const char *k = sc.d->e[i].key;
        unsigned long v;
        char *end;

        if (strncmp(k, "snapshot", 8) != 0 || k[8] < '0' || k[8] > '9')
            continue;
        v = strtoul(k + 8, &end, 10);
        if (strcmp(end, ".uid") != 0)
            continue;
        if (v >= VMC_VM_MAX_SNAPSHOTS) {
            vmx_bad(&sc, k, "snapshot number %lu is out of range", v);
            goto out;
        }
    }
    for (idx = 0; idx < VMC_VM_MAX_SNAPSHOTS; idx++)
        if (vmx_snapshot(c, &sc, idx) == -1)
            goto out;
    if (vmx_snapshot_links(c, &sc) == -1)
        goto out;
    cur = vmx_get(sc.d, "snapshot.current");
    if (cur && *cur && vmx_snapshot_find(c->vm, cur) == NULL) {
        if (vmx_note(c, "%s: snapshot.current names snapshot '%s', which "
                     "the file does not have", vmsd, cur) == -1)
            goto out;
        cur = NULL;
    }
    if (cur && *cur && vmx_set(c, &c->vm->current_snapshot, cur) == -1)
        goto out;
    r = 0;
 out:
    vmx_dict_free(sc.d);
    return r;
}

/* ---- The whole .vmx ---------------------------------------------------- */

static int
vmx_refuse_encrypted(struct vmx_ctx *c)
{
    const char *key = vmx_get(c->d, "encryption.keysafe") ?
                      "encryption.keySafe" :
                      vmx_get(c->d, "encryption.data") ? "encryption.data"
                                                       : NULL;

    if (key == NULL)
        return 0;
    vmc_error(c->h, "%s: the VM is encrypted (%s): its configuration and "
              "disks can only be read with the key; remove the encryption "
              "in VMware first (VM settings, Options, Access Control)",
              c->path, key);
    return -1;
}

struct vmc_vm *
vmx_read(struct vmc_handle *h, const char *path,
         const struct vmc_read_options *opts)
{
    CLEANUP_FREE char *copy = NULL;
    CLEANUP_VMC_VM_FREE struct vmc_vm *vm = NULL;
    struct vmx_ctx c = { .h = h, .path = path, .opts = opts };
    struct vmc_vm *ret = NULL;

    c.d = vmx_parse_file(h, path);
    if (c.d == NULL)
        return NULL;
    copy = strdup(path);
    if (copy)
        c.dir = strdup(dirname(copy));
    vm = vmc_vm_new(h);
    if (c.dir == NULL || vm == NULL) {
        if (vm)
            vmc_error(h, "%s: out of memory", path);
        goto out;
    }
    c.vm = vm;
    if (vmx_refuse_encrypted(&c) == -1)
        goto out;
    if (c.d->encoding_guessed &&
        vmc_vm_add_note(vm, "the .vmx names no .encoding and is not UTF-8: "
                        "read as windows-1252") == -1)
        goto out;
    if (vmx_identity(&c) == -1 || vmx_cpu_memory(&c) == -1 ||
        vmx_firmware(&c) == -1 || vmx_os(&c) == -1 || vmx_video(&c) == -1 ||
        vmx_disks(&c) == -1 || vmx_floppies(&c) == -1 ||
        vmx_nics(&c) == -1 || vmx_serials(&c) == -1 ||
        vmx_snapshots(&c) == -1)
        goto out;
    ret = vm;
    vm = NULL;
 out:
    free(c.dir);
    vmx_dict_free(c.d);
    return ret;
}
