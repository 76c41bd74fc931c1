/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: the VM model as a .vmx (target --to vmware).
 *
 * Writes OUTDIR/NAME.vmx for VMware Workstation and ESXi
 * (../shared/specs/vmx.md section 6): the hardware version the devices
 * need, the guestOS id, firmware, controllers and disks at their units
 * (the converted images named relative to the final output directory
 * when they are inside it), CD-ROMs and floppies, NICs with the
 * source's MAC addresses, serial ports.  Values are UTF-8 with '"',
 * '|', '#' and control characters escaped as |XX.
 *
 * What VMware cannot take is said with a warning, never dropped in
 * silence: a MAC outside VMware's static range is kept as a generated
 * address, devices of other hypervisors become VMware's equivalents.
 * Nothing is written unless the whole file is: it is built in memory
 * and written once.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#include "cleanup.h"
#include "vmx.h"

/* The text being written; on out of memory OOM is set and appends
 * stop.
 */
struct vmxw {
    struct vmc_handle *h;
    const struct vmc_vm *vm;
    const struct vmc_write_options *opts;
    FILE *fp;                    /* open_memstream over BUF, LEN */
    char *buf;
    size_t len;
    bool oom;
};

static void
vmxw_raw(struct vmxw *w, const char *s, size_t n)
{
    if (!w->oom && fwrite(s, 1, n, w->fp) != n)
        w->oom = true;
}

/* key = "VALUE" with VALUE escaped. */
static void
vmxw_kv(struct vmxw *w, const char *key, const char *value)
{
    const unsigned char *p;

    vmxw_raw(w, key, strlen(key));
    vmxw_raw(w, " = \"", 4);
    for (p = (const unsigned char *) value; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '|' ||
            *p == '#') {
            char esc[4];

            snprintf(esc, sizeof esc, "|%02X", *p);
            vmxw_raw(w, esc, 3);
        } else
            vmxw_raw(w, (const char *) p, 1);
    }
    vmxw_raw(w, "\"\n", 2);
}

static void
vmxw_kvf(struct vmxw *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
vmxw_kvf(struct vmxw *w, const char *key, const char *fmt, ...)
{
    char v[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    vmxw_kv(w, key, v);
}

/* PREFIX.NAME = "VALUE". */
static void
vmxw_dev(struct vmxw *w, const char *prefix, const char *name,
         const char *value)
{
    char key[128];

    snprintf(key, sizeof key, "%s.%s", prefix, name);
    vmxw_kv(w, key, value);
}

static const char *
vmxw_bool(bool b)
{
    return b ? "TRUE" : "FALSE";
}

/* ---- Devices: where each one goes ------------------------------------ */

enum vmxw_bus { W_IDE, W_SATA, W_SCSI, W_NVME, W_FLOPPY, W_SKIP };

static const char *const vmxw_bus_names[] = {
    [W_IDE] = "ide", [W_SATA] = "sata", [W_SCSI] = "scsi", [W_NVME] = "nvme",
    [W_FLOPPY] = "floppy",
};

/* Per bus: controllers 0-3 and the units used on each. */
struct vmxw_slots {
    bool used[4][64];
    bool ctrl[4];
    enum vmc_controller_model scsi_model[4];
};

/* Where each disk of the VM goes. */
struct vmxw_place {
    enum vmxw_bus bus;
    unsigned ctrl, unit;
};

static unsigned
vmxw_max_ctrl(enum vmxw_bus b)
{
    return b == W_IDE ? 1 : 3;
}

/* The highest unit usable on a controller of bus B (model M for SCSI);
 * for NVMe the classic 15 namespaces, SATA 30 ports.
 */
static unsigned
vmxw_max_unit(enum vmxw_bus b, enum vmc_controller_model m)
{
    switch (b) {
    case W_IDE: return 1;
    case W_SATA: return 29;
    case W_SCSI: return m == VMC_CONTROLLER_MODEL_PVSCSI ? 63 : 15;
    case W_NVME: return 14;
    default: return 1;
    }
}

/* The SCSI controller model to write for a source model M. */
static enum vmc_controller_model
vmxw_scsi_model(const struct vmc_vm *vm, enum vmc_controller_model m)
{
    switch (m) {
    case VMC_CONTROLLER_MODEL_BUSLOGIC:
    case VMC_CONTROLLER_MODEL_LSILOGIC:
    case VMC_CONTROLLER_MODEL_LSISAS1068:
    case VMC_CONTROLLER_MODEL_PVSCSI:
        return m;
    default:
        break;
    }
    /* Drivers every guest has: Windows since Vista has LSI SAS, Linux
     * has had PVSCSI since 2.6.33; LSI Logic for anything else.
     */
    if (vm->os_family == VMC_OS_FAMILY_WINDOWS)
        return VMC_CONTROLLER_MODEL_LSISAS1068;
    if (vm->os_family == VMC_OS_FAMILY_LINUX)
        return VMC_CONTROLLER_MODEL_PVSCSI;
    return VMC_CONTROLLER_MODEL_LSILOGIC;
}

static const char *
vmxw_scsi_dev(enum vmc_controller_model m)
{
    switch (m) {
    case VMC_CONTROLLER_MODEL_BUSLOGIC: return "buslogic";
    case VMC_CONTROLLER_MODEL_LSISAS1068: return "lsisas1068";
    case VMC_CONTROLLER_MODEL_PVSCSI: return "pvscsi";
    default: return "lsilogic";
    }
}

/* The bus disk D goes on. */
static enum vmxw_bus
vmxw_bus_of(struct vmxw *w, size_t i, const struct vmc_disk *d)
{
    if (d->device == VMC_DISK_DEVICE_FLOPPY)
        return W_FLOPPY;
    if (d->device == VMC_DISK_DEVICE_LUN) {
        if (d->path || d->source_ref == NULL) {
            vmc_warning(w->h, "disk %zu: a raw device (LUN) cannot be "
                        "carried to VMware: left out", i);
            return W_SKIP;
        }
        return W_SCSI;
    }
    switch (d->bus) {
    case VMC_DISK_BUS_IDE: return W_IDE;
    case VMC_DISK_BUS_SATA: return W_SATA;
    case VMC_DISK_BUS_SCSI: return W_SCSI;
    case VMC_DISK_BUS_NVME:
        if (d->device == VMC_DISK_DEVICE_CDROM)
            return W_SATA;
        return W_NVME;
    default:
        break;
    }
    /* virtio, USB, unknown: SCSI for disks, SATA for CD-ROMs. */
    return d->device == VMC_DISK_DEVICE_CDROM ? W_SATA : W_SCSI;
}

/* Choose each disk's bus, controller and unit: the source's own where
 * VMware has it and it is free, else the first free unit.
 */
static int
vmxw_place(struct vmxw *w, struct vmxw_slots *slots,
           struct vmxw_place *pl)
{
    const struct vmc_vm *vm = w->vm;
    size_t i;
    int pass;

    for (i = 0; i < 4; i++)
        slots[W_SCSI].scsi_model[i] = VMC_CONTROLLER_MODEL_UNKNOWN;
    /* The source's controllers, with or without disks. */
    for (i = 0; i < vm->nr_controllers; i++) {
        const struct vmc_controller *ctl = vm->controllers[i];
        enum vmxw_bus b;

        if (ctl->bus == VMC_DISK_BUS_SCSI)
            b = W_SCSI;
        else if (ctl->bus == VMC_DISK_BUS_SATA)
            b = W_SATA;
        else if (ctl->bus == VMC_DISK_BUS_NVME)
            b = W_NVME;
        else
            continue;
        if (ctl->index > 3)
            continue;
        slots[b].ctrl[ctl->index] = true;
        if (b == W_SCSI)
            slots[b].scsi_model[ctl->index] =
                vmxw_scsi_model(vm, ctl->model);
    }
    for (i = 0; i < vm->nr_disks; i++)
        pl[i].bus = vmxw_bus_of(w, i, vm->disks[i]);
    /* Pass 0 keeps the addresses that fit, pass 1 places the rest. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < vm->nr_disks; i++) {
            const struct vmc_disk *d = vm->disks[i];
            struct vmxw_slots *s;
            enum vmc_controller_model m = VMC_CONTROLLER_MODEL_UNKNOWN;
            unsigned c, u, maxu;
            bool kept = false;

            if (pl[i].bus == W_SKIP || pl[i].bus == W_FLOPPY)
                continue;
            s = &slots[pl[i].bus];
            if (pl[i].bus == W_SCSI)
                m = vmxw_scsi_model(vm, d->controller_model);
            if (pass == 0) {
                if (d->controller < 0 || d->unit < 0 ||
                    (unsigned) d->controller > vmxw_max_ctrl(pl[i].bus) ||
                    (pl[i].bus == W_SCSI && d->unit == 7) ||
                    (pl[i].bus == W_SCSI &&
                     s->scsi_model[d->controller] !=
                     VMC_CONTROLLER_MODEL_UNKNOWN &&
                     s->scsi_model[d->controller] != m))
                    continue;
                c = (unsigned) d->controller;
                u = (unsigned) d->unit;
                if (u > vmxw_max_unit(pl[i].bus, m) || s->used[c][u])
                    continue;
                kept = true;
            } else {
                if (pl[i].ctrl != UINT32_MAX)
                    continue;
                /* The first controller of a matching model. */
                kept = false;
                for (c = 0; c <= vmxw_max_ctrl(pl[i].bus) && !kept; c++) {
                    if (pl[i].bus == W_SCSI &&
                        s->scsi_model[c] != VMC_CONTROLLER_MODEL_UNKNOWN &&
                        s->scsi_model[c] != m)
                        continue;
                    maxu = vmxw_max_unit(pl[i].bus, m);
                    for (u = 0; u <= maxu; u++)
                        if (!s->used[c][u] &&
                            !(pl[i].bus == W_SCSI && u == 7)) {
                            kept = true;
                            break;
                        }
                    if (kept)
                        break;
                }
                if (!kept) {
                    vmc_error(w->h, "%s: disk %zu: no free %s unit left",
                              w->opts->outdir, i,
                              vmxw_bus_names[pl[i].bus]);
                    return -1;
                }
            }
            s->used[c][u] = true;
            s->ctrl[c] = true;
            if (pl[i].bus == W_SCSI)
                s->scsi_model[c] = m;
            pl[i].ctrl = c;
            pl[i].unit = u;
        }
    }
    return 0;
}

/* ---- Sections --------------------------------------------------------- */

/* The hardware version: what the devices need, at least 10 (SATA), and
 * never below the source's own.
 */
static unsigned
vmxw_hw_version(const struct vmc_vm *vm, const struct vmxw_place *pl)
{
    unsigned hw = 10, src;
    size_t i;

    if (vm->nested_virt && hw < 9)
        hw = 9;
    if (vm->secure_boot)
        hw = hw < 13 ? 13 : hw;
    for (i = 0; i < vm->nr_disks; i++)
        if (pl[i].bus == W_NVME && hw < 13)
            hw = 13;
    if (vm->tpm && hw < 14)
        hw = 14;
    if (vm->source_version &&
        sscanf(vm->source_version, "vmx-%u", &src) == 1 && src > hw &&
        src <= 99)
        hw = src;
    return hw;
}

/* GUID G back into the two signed halves VMware stores (the inverse
 * of the reader's vm.genid mapping).
 */
static void
vmxw_genid(struct vmxw *w, const char *g)
{
    char s[33], lo[17], hi[17];

    if (strlen(g) != 36)
        return;
    memcpy(s + 8, g, 8);
    memcpy(s + 4, g + 9, 4);
    memcpy(s + 0, g + 14, 4);
    memcpy(s + 30, g + 19, 2);
    memcpy(s + 28, g + 21, 2);
    memcpy(s + 26, g + 24, 2);
    memcpy(s + 24, g + 26, 2);
    memcpy(s + 22, g + 28, 2);
    memcpy(s + 20, g + 30, 2);
    memcpy(s + 18, g + 32, 2);
    memcpy(s + 16, g + 34, 2);
    s[32] = '\0';
    memcpy(lo, s, 16);
    lo[16] = '\0';
    memcpy(hi, s + 16, 16);
    hi[16] = '\0';
    vmxw_kvf(w, "vm.genid", "%" PRId64,
             (int64_t) strtoull(lo, NULL, 16));
    vmxw_kvf(w, "vm.genidX", "%" PRId64,
             (int64_t) strtoull(hi, NULL, 16));
}

static int
vmxw_general(struct vmxw *w, unsigned hw)
{
    const struct vmc_vm *vm = w->vm;
    char gbuf[64];
    const char *guest;
    bool exact;
    uint64_t mib;
    unsigned cps;
    int i;

    if (vm->memory == 0) {
        vmc_error(w->h, "%s: the VM's memory size is unknown: a .vmx needs "
                  "memsize", w->opts->outdir);
        return -1;
    }
    vmxw_kv(w, ".encoding", "UTF-8");
    vmxw_kv(w, "config.version", "8");
    vmxw_kvf(w, "virtualHW.version", "%u", hw);
    vmxw_kv(w, "displayName", vm->name ? vm->name : w->opts->name);
    if (vm->description)
        vmxw_kv(w, "annotation", vm->description);
    guest = vmx_guest_for_vm(vm, gbuf, sizeof gbuf, &exact);
    if (!exact)
        vmc_warning(w->h, "VMware has no guestOS id for this guest OS: "
                    "writing guestOS \"%s\"", guest);
    vmxw_kv(w, "guestOS", guest);
    mib = (vm->memory + (1 << 20) - 1) >> 20;
    if (mib % 4) {
        vmc_warning(w->h, "memory %" PRIu64 " MiB rounded up to a multiple "
                    "of 4 MiB, as VMware requires", mib);
        mib += 4 - mib % 4;
    }
    vmxw_kvf(w, "memsize", "%" PRIu64, mib);
    if (vm->memory_max)
        vmxw_kvf(w, "sched.mem.max", "%" PRIu64, vm->memory_max >> 20);
    if (vm->memory_reservation)
        vmxw_kvf(w, "sched.mem.minsize", "%" PRIu64,
                 vm->memory_reservation >> 20);
    vmxw_kvf(w, "numvcpus", "%u", vm->vcpus ? vm->vcpus : 1);
    cps = 1;
    if (vm->cpu_cores && vm->vcpus &&
        vm->vcpus % (vm->cpu_cores * (vm->cpu_threads ? vm->cpu_threads
                                                        : 1)) == 0)
        cps = vm->cpu_cores * (vm->cpu_threads ? vm->cpu_threads : 1);
    if (vm->cpu_threads > 1)
        vmc_warning(w->h, "VMware has no CPU threads: %u threads per core "
                    "written as cores", vm->cpu_threads);
    vmxw_kvf(w, "cpuid.coresPerSocket", "%u", cps);
    vmxw_kv(w, "firmware", vm->firmware == VMC_FIRMWARE_UEFI ? "efi"
                                                              : "bios");
    if (vm->firmware == VMC_FIRMWARE_UEFI)
        vmxw_kv(w, "uefi.secureBoot.enabled", vmxw_bool(vm->secure_boot));
    else if (vm->secure_boot)
        vmc_warning(w->h, "Secure Boot needs UEFI firmware: not enabled");
    if (vm->nested_virt)
        vmxw_kv(w, "vhv.enable", "TRUE");
    if (vm->tpm) {
        vmxw_kv(w, "vtpm.present", "TRUE");
        vmc_warning(w->h, "the VM has a virtual TPM: ESXi powers it on only "
                    "once it is encrypted (a key provider is needed)");
    }
    if (vm->uuid) {
        char u[64];

        /* The guest's SMBIOS UUID is kept: "keep" answers VMware's
         * "moved or copied?" question.
         */
        snprintf(u, sizeof u, "%.2s %.2s %.2s %.2s %.2s %.2s %.2s %.2s-"
                 "%.2s %.2s %.2s %.2s %.2s %.2s %.2s %.2s",
                 vm->uuid, vm->uuid + 2, vm->uuid + 4, vm->uuid + 6,
                 vm->uuid + 9, vm->uuid + 11, vm->uuid + 14, vm->uuid + 16,
                 vm->uuid + 19, vm->uuid + 21, vm->uuid + 24, vm->uuid + 26,
                 vm->uuid + 28, vm->uuid + 30, vm->uuid + 32, vm->uuid + 34);
        vmxw_kv(w, "uuid.bios", u);
        vmxw_kv(w, "uuid.action", "keep");
    }
    if (vm->genid)
        vmxw_genid(w, vm->genid);
    if (vm->clock_offset)
        vmxw_kvf(w, "rtc.diffFromUTC", "%" PRId64, vm->clock_offset);
    if (vm->video == VMC_VIDEO_MODEL_NONE)
        vmxw_kv(w, "svga.present", "FALSE");
    else {
        vmxw_kv(w, "svga.present", "TRUE");
        if (vm->vram && vm->vram <= UINT32_MAX)
            vmxw_kvf(w, "svga.vramSize", "%" PRIu64, vm->vram);
    }
    vmxw_kv(w, "pciBridge0.present", "TRUE");
    for (i = 4; i <= 7; i++) {
        char p[32];

        snprintf(p, sizeof p, "pciBridge%d", i);
        vmxw_dev(w, p, "present", "TRUE");
        vmxw_dev(w, p, "virtualDev", "pcieRootPort");
        vmxw_dev(w, p, "functions", "8");
    }
    return 0;
}

/* PATH relative to the final output directory when inside it. */
static const char *
vmxw_rel(const struct vmxw *w, const char *path)
{
    const char *dir = w->opts->final_outdir;
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1])
        return path + n + 1;
    return path;
}

/* The image file disk I is written with. */
static const char *
vmxw_image(const struct vmxw *w, size_t i)
{
    const struct vmc_disk *d = w->vm->disks[i];

    if (w->opts->nr_disks && w->opts->disk_final_paths &&
        w->opts->disk_final_paths[i])
        return vmxw_rel(w, w->opts->disk_final_paths[i]);
    return d->path;
}

static void
vmxw_connection(struct vmxw *w, const char *s, enum vmc_connection c)
{
    vmxw_dev(w, s, "startConnected",
             vmxw_bool(c != VMC_CONNECTION_DISCONNECTED));
}

static int
vmxw_disk(struct vmxw *w, size_t i, const struct vmxw_place *p)
{
    const struct vmc_disk *d = w->vm->disks[i];
    const char *file = vmxw_image(w, i);
    char s[32];

    snprintf(s, sizeof s, "%s%u:%u", vmxw_bus_names[p->bus], p->ctrl,
             p->unit);
    if (d->device == VMC_DISK_DEVICE_LUN) {
        vmxw_dev(w, s, "present", "TRUE");
        vmxw_dev(w, s, "deviceType", "scsi-passthru");
        vmxw_dev(w, s, "fileName", d->source_ref);
        vmxw_connection(w, s, d->connection);
        vmc_warning(w->h, "disk %zu: the host device '%s' is passed "
                    "through as %s: it must exist on the VMware host", i,
                    d->source_ref, s);
        return 0;
    }
    if (d->device == VMC_DISK_DEVICE_CDROM) {
        const char *iso = d->path ? d->path : d->source_ref;

        vmxw_dev(w, s, "present", "TRUE");
        if (file && !d->reference_only)
            iso = file;
        if (iso && !d->path && !d->missing) {
            vmxw_dev(w, s, "deviceType",
                     p->bus == W_IDE ? "atapi-cdrom" : "cdrom-raw");
            vmxw_dev(w, s, "fileName", iso);
        } else {
            vmxw_dev(w, s, "deviceType", "cdrom-image");
            vmxw_dev(w, s, "fileName", iso ? iso : "");
        }
        vmxw_connection(w, s, d->connection);
        return 0;
    }
    if (file == NULL) {
        vmc_error(w->h, "%s: disk %zu (%s) has no image to refer to",
                  w->opts->outdir, i, s);
        return -1;
    }
    vmxw_dev(w, s, "present", "TRUE");
    if (p->bus == W_SCSI)
        vmxw_dev(w, s, "deviceType", "scsi-hardDisk");
    else if (p->bus == W_IDE)
        vmxw_dev(w, s, "deviceType", "ata-hardDisk");
    vmxw_dev(w, s, "fileName", file);
    if (strlen(file) < 5 || strcasecmp(file + strlen(file) - 5, ".vmdk") != 0)
        vmc_warning(w->h, "disk %zu: '%s' is not a VMDK: VMware reads only "
                    "VMDK disks (convert it first)", i, file);
    if (d->independent)
        vmxw_dev(w, s, "mode", d->nonpersistent
                 ? "independent-nonpersistent" : "independent-persistent");
    else if (d->nonpersistent)
        vmxw_dev(w, s, "mode", "nonpersistent");
    if (d->readonly)
        vmc_warning(w->h, "disk %zu: VMware has no read-only disks: %s is "
                    "writable", i, s);
    return 0;
}

static void
vmxw_floppy(struct vmxw *w, unsigned n, const struct vmc_disk *d,
            const char *file)
{
    char s[16];

    snprintf(s, sizeof s, "floppy%u", n);
    vmxw_dev(w, s, "present", "TRUE");
    if (d->path || d->missing || (file && !d->reference_only)) {
        vmxw_dev(w, s, "fileType", "file");
        vmxw_dev(w, s, "fileName",
                 file && !d->reference_only ? file
                 : d->path ? d->path : d->source_ref);
    } else if (d->source_ref) {
        vmxw_dev(w, s, "fileType", "device");
        vmxw_dev(w, s, "fileName", d->source_ref);
    } else
        vmxw_dev(w, s, "fileName", "");
    vmxw_connection(w, s, d->connection);
}

static int
vmxw_storage(struct vmxw *w, const struct vmxw_slots *slots,
             const struct vmxw_place *pl)
{
    const struct vmc_vm *vm = w->vm;
    unsigned c, nfloppy = 0;
    size_t i;
    int b;

    for (b = W_IDE; b <= W_NVME; b++)
        for (c = 0; c < 4; c++) {
            char s[16];

            if (!slots[b].ctrl[c] || b == W_IDE)
                continue;
            snprintf(s, sizeof s, "%s%u", vmxw_bus_names[b], c);
            vmxw_dev(w, s, "present", "TRUE");
            if (b == W_SCSI)
                vmxw_dev(w, s, "virtualDev",
                         vmxw_scsi_dev(slots[b].scsi_model[c]));
        }
    for (i = 0; i < vm->nr_disks; i++) {
        if (pl[i].bus == W_SKIP)
            continue;
        if (pl[i].bus == W_FLOPPY) {
            if (nfloppy == 2) {
                vmc_warning(w->h, "disk %zu: VMware has two floppy drives: "
                            "left out", i);
                continue;
            }
            vmxw_floppy(w, nfloppy++, vm->disks[i], vmxw_image(w, i));
            continue;
        }
        if (vmxw_disk(w, i, &pl[i]) == -1)
            return -1;
    }
    /* VMware adds a floppy drive when floppy0 is not said absent. */
    if (nfloppy == 0)
        vmxw_kv(w, "floppy0.present", "FALSE");
    return 0;
}

/* Is MAC inside a range VMware accepts for ADDRESSTYPE? */
static bool
vmxw_mac_in(const char *mac, unsigned lo, unsigned hi)
{
    unsigned b3;

    if (strncmp(mac, "00:50:56:", 9) != 0 ||
        sscanf(mac + 9, "%2x", &b3) != 1)
        return false;
    return b3 >= lo && b3 <= hi;
}

static const char *
vmxw_nic_dev(const struct vmc_vm *vm, const struct vmc_nic *n, size_t i,
             struct vmc_handle *h, bool *vmxnet2)
{
    *vmxnet2 = false;
    switch (n->model) {
    case VMC_NIC_MODEL_E1000: return "e1000";
    case VMC_NIC_MODEL_E1000E: return "e1000e";
    case VMC_NIC_MODEL_VMXNET3: return "vmxnet3";
    case VMC_NIC_MODEL_VMXNET: return "vmxnet";
    case VMC_NIC_MODEL_VMXNET2:
        *vmxnet2 = true;
        return "vmxnet";
    case VMC_NIC_MODEL_PCNET: return "vlance";
    default:
        break;
    }
    /* Linux has had vmxnet3 since 2.6.32; Windows needs VMware Tools
     * for it but has e1000e.
     */
    if (n->model != VMC_NIC_MODEL_UNKNOWN)
        vmc_warning(h, "nic %zu: VMware has no %s NIC: written as %s", i,
                    vmc_nic_model_to_string(n->model),
                    vm->os_family == VMC_OS_FAMILY_LINUX ? "vmxnet3"
                                                         : "e1000e");
    return vm->os_family == VMC_OS_FAMILY_LINUX ? "vmxnet3" : "e1000e";
}

static void
vmxw_nic(struct vmxw *w, size_t i)
{
    const struct vmc_nic *n = w->vm->nics[i];
    const char *net = n->network;
    char s[32];
    bool vmxnet2;

    snprintf(s, sizeof s, "ethernet%zu", i);
    vmxw_dev(w, s, "present", "TRUE");
    vmxw_dev(w, s, "virtualDev", vmxw_nic_dev(w->vm, n, i, w->h, &vmxnet2));
    if (vmxnet2)
        vmxw_dev(w, s, "features", "15");
    switch (n->net_type) {
    case VMC_NET_TYPE_BRIDGE:
        vmxw_dev(w, s, "connectionType", "bridged");
        if (net)
            vmxw_dev(w, s, "vnet", net);
        break;
    case VMC_NET_TYPE_NAT:
        vmxw_dev(w, s, "connectionType", "nat");
        if (net)
            vmxw_dev(w, s, "vnet", net);
        break;
    case VMC_NET_TYPE_HOST_ONLY:
        vmxw_dev(w, s, "connectionType", "hostonly");
        if (net)
            vmxw_dev(w, s, "vnet", net);
        break;
    default:
        if (net)
            vmxw_dev(w, s, "networkName", net);
        else if (n->net_type != VMC_NET_TYPE_NONE)
            vmc_warning(w->h, "nic %zu: no network named: connect it to a "
                        "port group in VMware", i);
        break;
    }
    vmxw_connection(w, s, n->net_type == VMC_NET_TYPE_NONE
                          ? VMC_CONNECTION_DISCONNECTED : n->connection);
    if (n->mac == NULL) {
        vmxw_dev(w, s, "addressType", "generated");
        return;
    }
    if (n->mac_kind == VMC_MAC_KIND_VPX && vmxw_mac_in(n->mac, 0x80, 0xbf)) {
        vmxw_dev(w, s, "addressType", "vpx");
        vmxw_dev(w, s, "generatedAddress", n->mac);
    } else if (vmxw_mac_in(n->mac, 0x00, 0x3f) &&
               n->mac_kind != VMC_MAC_KIND_GENERATED) {
        vmxw_dev(w, s, "addressType", "static");
        vmxw_dev(w, s, "address", n->mac);
    } else {
        vmxw_dev(w, s, "addressType", "generated");
        vmxw_dev(w, s, "generatedAddress", n->mac);
        if (n->mac_kind != VMC_MAC_KIND_GENERATED)
            vmc_warning(w->h, "nic %zu: MAC %s is outside the range VMware "
                        "accepts as static (00:50:56:00:00:00 - "
                        "00:50:56:3f:ff:ff): written as a generated "
                        "address, which VMware may replace", i, n->mac);
    }
}

static void
vmxw_serial(struct vmxw *w, size_t i)
{
    const struct vmc_serial *se = w->vm->serials[i];
    const char *type = NULL;
    char s[32];

    switch (se->type) {
    case VMC_SERIAL_TYPE_FILE: type = "file"; break;
    case VMC_SERIAL_TYPE_PIPE: type = "pipe"; break;
    case VMC_SERIAL_TYPE_DEVICE: type = "device"; break;
    case VMC_SERIAL_TYPE_TCP: type = "network"; break;
    default: break;
    }
    if (se->index > 31 || (type && se->target == NULL) ||
        (type == NULL && se->type != VMC_SERIAL_TYPE_UNKNOWN &&
         se->type != VMC_SERIAL_TYPE_NONE)) {
        vmc_warning(w->h, "serial port %u (%s) cannot be written for "
                    "VMware: left out", se->index,
                    vmc_serial_type_to_string(se->type));
        return;
    }
    snprintf(s, sizeof s, "serial%u", se->index);
    vmxw_dev(w, s, "present", "TRUE");
    if (type) {
        vmxw_dev(w, s, "fileType", type);
        vmxw_dev(w, s, "fileName", se->target);
    }
}

/* Write the text into OUTDIR/NAME.vmx, created new. */
static int
vmxw_save(struct vmxw *w)
{
    CLEANUP_FREE char *path = NULL;

    if (asprintf(&path, "%s/%s.vmx", w->opts->outdir, w->opts->name) == -1) {
        path = NULL;
        vmc_error(w->h, "%s: out of memory", w->opts->outdir);
        return -1;
    }
    return vmc_write_file_new(w->h, path, w->buf, w->len);
}

int
vmx_write(struct vmc_handle *h, const struct vmc_vm *vm,
          const struct vmc_write_options *opts)
{
    struct vmxw w = { .h = h, .vm = vm, .opts = opts };
    struct vmxw_slots slots[W_FLOPPY];
    CLEANUP_FREE struct vmxw_place *pl = NULL;
    size_t i;
    int r = -1;

    memset(slots, 0, sizeof slots);
    pl = calloc(vm->nr_disks + 1, sizeof *pl);
    w.fp = pl ? open_memstream(&w.buf, &w.len) : NULL;
    if (w.fp == NULL) {
        vmc_error(h, "%s: out of memory", opts->outdir);
        return -1;
    }
    for (i = 0; i < vm->nr_disks; i++)
        pl[i].ctrl = UINT32_MAX;
    if (vmxw_place(&w, slots, pl) == -1 ||
        vmxw_general(&w, vmxw_hw_version(vm, pl)) == -1 ||
        vmxw_storage(&w, slots, pl) == -1)
        goto out;
    for (i = 0; i < vm->nr_nics; i++)
        vmxw_nic(&w, i);
    for (i = 0; i < vm->nr_serials; i++)
        vmxw_serial(&w, i);
    if (vm->nr_snapshots)
        vmc_warning(h, "the source's %zu snapshots are not carried: the "
                    "VM is written in its current state", vm->nr_snapshots);
    if (fclose(w.fp) != 0)
        w.oom = true;
    w.fp = NULL;
    if (w.oom) {
        vmc_error(h, "%s: out of memory", opts->outdir);
        goto out;
    }
    r = vmxw_save(&w);
 out:
    if (w.fp)
        fclose(w.fp);
    free(w.buf);
    return r;
}
