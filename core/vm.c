/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The neutral VM model: allocation, lists, strings, deep copies,
 * temporary files, the enum name tables and the UUID/MAC helpers.
 * JSON is in vm-json.c, the consistency check in vm-check.c.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "vm-internal.h"

/* ---- Enum name tables ---------------------------------------------- */

static const char *const firmware_names[] = {
    [VMC_FIRMWARE_UNKNOWN] = "unknown",
    [VMC_FIRMWARE_BIOS] = "bios",
    [VMC_FIRMWARE_UEFI] = "uefi",
};
static const char *const disk_device_names[] = {
    [VMC_DISK_DEVICE_DISK] = "disk",
    [VMC_DISK_DEVICE_CDROM] = "cdrom",
    [VMC_DISK_DEVICE_FLOPPY] = "floppy",
    [VMC_DISK_DEVICE_LUN] = "lun",
};
static const char *const disk_bus_names[] = {
    [VMC_DISK_BUS_UNKNOWN] = "unknown",
    [VMC_DISK_BUS_IDE] = "ide",
    [VMC_DISK_BUS_SATA] = "sata",
    [VMC_DISK_BUS_SCSI] = "scsi",
    [VMC_DISK_BUS_VIRTIO] = "virtio",
    [VMC_DISK_BUS_NVME] = "nvme",
    [VMC_DISK_BUS_FDC] = "fdc",
    [VMC_DISK_BUS_USB] = "usb",
};
static const char *const controller_model_names[] = {
    [VMC_CONTROLLER_MODEL_UNKNOWN] = "unknown",
    [VMC_CONTROLLER_MODEL_BUSLOGIC] = "buslogic",
    [VMC_CONTROLLER_MODEL_LSILOGIC] = "lsilogic",
    [VMC_CONTROLLER_MODEL_LSISAS1068] = "lsisas1068",
    [VMC_CONTROLLER_MODEL_PVSCSI] = "pvscsi",
    [VMC_CONTROLLER_MODEL_VIRTIO_SCSI] = "virtio-scsi",
    [VMC_CONTROLLER_MODEL_HYPERV_SCSI] = "hyperv-scsi",
    [VMC_CONTROLLER_MODEL_AHCI] = "ahci",
    [VMC_CONTROLLER_MODEL_PIIX3] = "piix3",
    [VMC_CONTROLLER_MODEL_PIIX4] = "piix4",
};
static const char *const nic_model_names[] = {
    [VMC_NIC_MODEL_UNKNOWN] = "unknown",
    [VMC_NIC_MODEL_E1000] = "e1000",
    [VMC_NIC_MODEL_E1000E] = "e1000e",
    [VMC_NIC_MODEL_VMXNET] = "vmxnet",
    [VMC_NIC_MODEL_VMXNET2] = "vmxnet2",
    [VMC_NIC_MODEL_VMXNET3] = "vmxnet3",
    [VMC_NIC_MODEL_PCNET] = "pcnet",
    [VMC_NIC_MODEL_VIRTIO] = "virtio",
    [VMC_NIC_MODEL_RTL8139] = "rtl8139",
    [VMC_NIC_MODEL_HYPERV_NETVSC] = "hyperv-netvsc",
    [VMC_NIC_MODEL_HYPERV_LEGACY] = "hyperv-legacy",
};
static const char *const net_type_names[] = {
    [VMC_NET_TYPE_UNKNOWN] = "unknown",
    [VMC_NET_TYPE_NETWORK] = "network",
    [VMC_NET_TYPE_BRIDGE] = "bridge",
    [VMC_NET_TYPE_NAT] = "nat",
    [VMC_NET_TYPE_HOST_ONLY] = "host-only",
    [VMC_NET_TYPE_NONE] = "none",
};
static const char *const video_model_names[] = {
    [VMC_VIDEO_MODEL_UNKNOWN] = "unknown",
    [VMC_VIDEO_MODEL_NONE] = "none",
    [VMC_VIDEO_MODEL_VGA] = "vga",
    [VMC_VIDEO_MODEL_CIRRUS] = "cirrus",
    [VMC_VIDEO_MODEL_VMVGA] = "vmvga",
    [VMC_VIDEO_MODEL_QXL] = "qxl",
    [VMC_VIDEO_MODEL_VIRTIO] = "virtio",
    [VMC_VIDEO_MODEL_BOCHS] = "bochs",
    [VMC_VIDEO_MODEL_HYPERV] = "hyperv",
};
static const char *const os_family_names[] = {
    [VMC_OS_FAMILY_UNKNOWN] = "unknown",
    [VMC_OS_FAMILY_LINUX] = "linux",
    [VMC_OS_FAMILY_WINDOWS] = "windows",
    [VMC_OS_FAMILY_OTHER] = "other",
};
static const char *const nvram_kind_names[] = {
    [VMC_NVRAM_KIND_UNKNOWN] = "unknown",
    [VMC_NVRAM_KIND_VMWARE] = "vmware-nvram",
    [VMC_NVRAM_KIND_OVMF_VARS] = "ovmf-vars",
    [VMC_NVRAM_KIND_HYPERV_VMGS] = "hyperv-vmgs",
};
static const char *const secure_boot_template_names[] = {
    [VMC_SECURE_BOOT_TEMPLATE_UNKNOWN] = "unknown",
    [VMC_SECURE_BOOT_TEMPLATE_MS_WINDOWS] = "microsoft-windows",
    [VMC_SECURE_BOOT_TEMPLATE_MS_UEFI_CA] = "microsoft-uefi-ca",
    [VMC_SECURE_BOOT_TEMPLATE_OPEN_SOURCE_SHIELDED] =
        "open-source-shielded-vm",
};
static const char *const clock_names[] = {
    [VMC_CLOCK_UNKNOWN] = "unknown",
    [VMC_CLOCK_UTC] = "utc",
    [VMC_CLOCK_LOCALTIME] = "localtime",
};
static const char *const serial_type_names[] = {
    [VMC_SERIAL_TYPE_UNKNOWN] = "unknown",
    [VMC_SERIAL_TYPE_NONE] = "none",
    [VMC_SERIAL_TYPE_FILE] = "file",
    [VMC_SERIAL_TYPE_PIPE] = "pipe",
    [VMC_SERIAL_TYPE_PTY] = "pty",
    [VMC_SERIAL_TYPE_TCP] = "tcp",
    [VMC_SERIAL_TYPE_DEVICE] = "device",
};
static const char *const connection_names[] = {
    [VMC_CONNECTION_UNKNOWN] = "unknown",
    [VMC_CONNECTION_CONNECTED] = "connected",
    [VMC_CONNECTION_DISCONNECTED] = "disconnected",
};
static const char *const mac_kind_names[] = {
    [VMC_MAC_KIND_UNKNOWN] = "unknown",
    [VMC_MAC_KIND_STATIC] = "static",
    [VMC_MAC_KIND_GENERATED] = "generated",
    [VMC_MAC_KIND_VPX] = "vpx-assigned",
    [VMC_MAC_KIND_DYNAMIC] = "dynamic",
};
static const char *const graphics_names[] = {
    [VMC_GRAPHICS_UNKNOWN] = "unknown",
    [VMC_GRAPHICS_NONE] = "none",
    [VMC_GRAPHICS_VNC] = "vnc",
    [VMC_GRAPHICS_SPICE] = "spice",
    [VMC_GRAPHICS_RDP] = "rdp",
    [VMC_GRAPHICS_SDL] = "sdl",
    [VMC_GRAPHICS_VMWARE] = "vmware",
};

/* A table whose LAST disagrees with its names fails to build. */
#define ENUM_TABLE(var, what_, names_, last_)                          \
    _Static_assert(sizeof names_ / sizeof names_[0] == last_,          \
                   #names_ " does not match " #last_);                  \
    const struct vmc_enum_table var = { what_, names_, last_ }

ENUM_TABLE(vmc_firmware_table, "a firmware", firmware_names,
           VMC_FIRMWARE_LAST);
ENUM_TABLE(vmc_disk_device_table, "a disk device", disk_device_names,
           VMC_DISK_DEVICE_LAST);
ENUM_TABLE(vmc_disk_bus_table, "a disk bus", disk_bus_names,
           VMC_DISK_BUS_LAST);
ENUM_TABLE(vmc_controller_model_table, "a controller model",
           controller_model_names, VMC_CONTROLLER_MODEL_LAST);
ENUM_TABLE(vmc_nic_model_table, "a NIC model", nic_model_names,
           VMC_NIC_MODEL_LAST);
ENUM_TABLE(vmc_net_type_table, "a network type", net_type_names,
           VMC_NET_TYPE_LAST);
ENUM_TABLE(vmc_video_model_table, "a video model", video_model_names,
           VMC_VIDEO_MODEL_LAST);
ENUM_TABLE(vmc_os_family_table, "an OS family", os_family_names,
           VMC_OS_FAMILY_LAST);
ENUM_TABLE(vmc_nvram_kind_table, "an NVRAM kind", nvram_kind_names,
           VMC_NVRAM_KIND_LAST);
ENUM_TABLE(vmc_secure_boot_template_table, "a Secure Boot template",
           secure_boot_template_names, VMC_SECURE_BOOT_TEMPLATE_LAST);
ENUM_TABLE(vmc_clock_table, "a clock", clock_names, VMC_CLOCK_LAST);
ENUM_TABLE(vmc_serial_type_table, "a serial port type", serial_type_names,
           VMC_SERIAL_TYPE_LAST);
ENUM_TABLE(vmc_connection_table, "a connection state", connection_names,
           VMC_CONNECTION_LAST);
ENUM_TABLE(vmc_mac_kind_table, "a MAC address kind", mac_kind_names,
           VMC_MAC_KIND_LAST);
ENUM_TABLE(vmc_graphics_table, "a graphics kind", graphics_names,
           VMC_GRAPHICS_LAST);

const char *
vmc_enum_to_string(const struct vmc_enum_table *t, int v)
{
    if (v < 0 || v >= t->last)
        return NULL;
    return t->names[v];
}

int
vmc_enum_from_string(const struct vmc_enum_table *t, const char *s)
{
    int i;

    if (s == NULL)
        return -1;
    for (i = 0; i < t->last; i++)
        if (strcmp(s, t->names[i]) == 0)
            return i;
    return -1;
}

char *
vmc_enum_names(const struct vmc_enum_table *t)
{
    size_t len = 1;
    char *s;
    int i;

    for (i = 0; i < t->last; i++)
        len += strlen(t->names[i]) + 2;
    s = malloc(len);
    if (s == NULL)
        return NULL;
    *s = '\0';
    for (i = 0; i < t->last; i++) {
        if (i > 0)
            strcat(s, ", ");
        strcat(s, t->names[i]);
    }
    return s;
}

const char *
vmc_firmware_to_string(enum vmc_firmware v)
{
    return vmc_enum_to_string(&vmc_firmware_table, (int) v);
}

const char *
vmc_disk_device_to_string(enum vmc_disk_device v)
{
    return vmc_enum_to_string(&vmc_disk_device_table, (int) v);
}

const char *
vmc_disk_bus_to_string(enum vmc_disk_bus v)
{
    return vmc_enum_to_string(&vmc_disk_bus_table, (int) v);
}

const char *
vmc_controller_model_to_string(enum vmc_controller_model v)
{
    return vmc_enum_to_string(&vmc_controller_model_table, (int) v);
}

const char *
vmc_nic_model_to_string(enum vmc_nic_model v)
{
    return vmc_enum_to_string(&vmc_nic_model_table, (int) v);
}

const char *
vmc_net_type_to_string(enum vmc_net_type v)
{
    return vmc_enum_to_string(&vmc_net_type_table, (int) v);
}

const char *
vmc_video_model_to_string(enum vmc_video_model v)
{
    return vmc_enum_to_string(&vmc_video_model_table, (int) v);
}

const char *
vmc_os_family_to_string(enum vmc_os_family v)
{
    return vmc_enum_to_string(&vmc_os_family_table, (int) v);
}

int
vmc_firmware_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_firmware_table, s);
}

int
vmc_disk_device_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_disk_device_table, s);
}

int
vmc_disk_bus_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_disk_bus_table, s);
}

int
vmc_controller_model_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_controller_model_table, s);
}

int
vmc_nic_model_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_nic_model_table, s);
}

int
vmc_net_type_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_net_type_table, s);
}

int
vmc_video_model_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_video_model_table, s);
}

int
vmc_os_family_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_os_family_table, s);
}

const char *
vmc_nvram_kind_to_string(enum vmc_nvram_kind v)
{
    return vmc_enum_to_string(&vmc_nvram_kind_table, (int) v);
}

int
vmc_nvram_kind_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_nvram_kind_table, s);
}

const char *
vmc_secure_boot_template_to_string(enum vmc_secure_boot_template v)
{
    return vmc_enum_to_string(&vmc_secure_boot_template_table, (int) v);
}

int
vmc_secure_boot_template_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_secure_boot_template_table, s);
}

const char *
vmc_clock_to_string(enum vmc_clock v)
{
    return vmc_enum_to_string(&vmc_clock_table, (int) v);
}

int
vmc_clock_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_clock_table, s);
}

const char *
vmc_serial_type_to_string(enum vmc_serial_type v)
{
    return vmc_enum_to_string(&vmc_serial_type_table, (int) v);
}

int
vmc_serial_type_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_serial_type_table, s);
}

const char *
vmc_connection_to_string(enum vmc_connection v)
{
    return vmc_enum_to_string(&vmc_connection_table, (int) v);
}

int
vmc_connection_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_connection_table, s);
}

const char *
vmc_mac_kind_to_string(enum vmc_mac_kind v)
{
    return vmc_enum_to_string(&vmc_mac_kind_table, (int) v);
}

int
vmc_mac_kind_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_mac_kind_table, s);
}

const char *
vmc_graphics_to_string(enum vmc_graphics v)
{
    return vmc_enum_to_string(&vmc_graphics_table, (int) v);
}

int
vmc_graphics_from_string(const char *s)
{
    return vmc_enum_from_string(&vmc_graphics_table, s);
}

/* ---- Allocation ----------------------------------------------------- */

/* What a VM owns but does not show: its temporary files and the
 * digests left for the core to check.  The public
 * struct comes first, so the library's allocation of struct vmc_vm is
 * this one and plugins never see the rest.
 */
struct vm_private {
    struct vmc_vm vm;
    size_t nr_tmpfiles;
    char **tmpfiles;
    size_t nr_digests;
    struct vmc_vm_digest *digests;
};

static struct vm_private *
vm_private(const struct vmc_vm *vm)
{
    return (struct vm_private *) ((char *) vm -
                                  offsetof(struct vm_private, vm));
}

struct vmc_vm *
vmc_vm_new(struct vmc_handle *h)
{
    struct vm_private *p = calloc(1, sizeof *p);

    if (p == NULL) {
        vmc_error(h, "vm: %m");
        return NULL;
    }
    p->vm.h = h;
    return &p->vm;
}

static void
vm_free_strings(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
vm_free_disk(struct vmc_disk *d)
{
    free(d->path);
    free(d->format);
    vm_free_strings(d->backing, d->nr_backing);
    free(d->source_ref);
    free(d);
}

static void
vm_free_nic(struct vmc_nic *n)
{
    free(n->mac);
    free(n->network);
    free(n->network_orig);
    free(n);
}

static void
vm_free_snapshot_disk(struct vmc_snapshot_disk *sd)
{
    free(sd->path);
    free(sd);
}

static void
vm_free_snapshot(struct vmc_snapshot *s)
{
    size_t i;

    free(s->id);
    free(s->name);
    free(s->parent);
    free(s->description);
    for (i = 0; i < s->nr_disks; i++)
        vm_free_snapshot_disk(s->disks[i]);
    free(s->disks);
    free(s);
}

static void
vm_free_serial(struct vmc_serial *s)
{
    free(s->target);
    free(s);
}

/* nftw callback: remove one entry of a temporary directory, deepest
 * first.
 */
static int
vm_remove_entry(const char *path, const struct stat *st, int type,
                struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    if (type == FTW_DP)
        return rmdir(path) == -1 ? -1 : 0;
    return unlink(path) == -1 ? -1 : 0;
}

/* Remove the temporary file or directory PATH.  Failures can only be
 * reported as warnings: this runs from vmc_vm_free.
 */
static void
vm_remove_tmpfile(struct vmc_handle *h, const char *path)
{
    struct stat st;

    if (lstat(path, &st) == -1) {
        if (errno != ENOENT)
            vmc_warning(h, "temporary file %s: %m", path);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (nftw(path, vm_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            vmc_warning(h, "temporary directory %s: cannot remove it: %m",
                        path);
    }
    else if (unlink(path) == -1)
        vmc_warning(h, "temporary file %s: cannot remove it: %m", path);
}

void
vmc_vm_free(struct vmc_vm *vm)
{
    struct vm_private *p;
    size_t i;

    if (vm == NULL)
        return;
    p = vm_private(vm);
    /* Last registered first: a file inside a registered directory. */
    for (i = p->nr_tmpfiles; i > 0; i--)
        vm_remove_tmpfile(vm->h, p->tmpfiles[i - 1]);
    vm_free_strings(p->tmpfiles, p->nr_tmpfiles);
    for (i = 0; i < p->nr_digests; i++) {
        free(p->digests[i].path);
        free(p->digests[i].what);
    }
    free(p->digests);

    free(vm->name);
    free(vm->uuid);
    free(vm->genid);
    free(vm->description);
    free(vm->source_plugin);
    free(vm->source_path);
    free(vm->machine);
    free(vm->os_distro);
    free(vm->os_version);
    free(vm->os_arch);
    free(vm->os_id);
    for (i = 0; i < vm->nr_disks; i++)
        vm_free_disk(vm->disks[i]);
    free(vm->disks);
    for (i = 0; i < vm->nr_nics; i++)
        vm_free_nic(vm->nics[i]);
    free(vm->nics);
    for (i = 0; i < vm->nr_snapshots; i++)
        vm_free_snapshot(vm->snapshots[i]);
    free(vm->snapshots);
    free(vm->current_snapshot);
    vm_free_strings(vm->notes, vm->nr_notes);
    free(vm->source_version);
    free(vm->nvram_path);
    for (i = 0; i < vm->nr_controllers; i++)
        free(vm->controllers[i]);
    free(vm->controllers);
    for (i = 0; i < vm->nr_serials; i++)
        vm_free_serial(vm->serials[i]);
    free(vm->serials);
    free(p);
}

void
vmc_cleanup_vm_free(void *ptr)
{
    vmc_vm_free(*(struct vmc_vm **) ptr);
}

/* Make room for one more pointer in the array *V of N elements,
 * refusing more than MAX (WHAT names the list).  Returns 0 or -1 with
 * an error on H.
 */
static int
vm_grow(struct vmc_handle *h, void ***v, size_t n, size_t max,
        const char *what)
{
    void **nv;

    if (n >= max) {
        vmc_error(h, "vm: more than %zu %s", max, what);
        return -1;
    }
    nv = realloc(*v, (n + 1) * sizeof *nv);
    if (nv == NULL) {
        vmc_error(h, "vm: %m");
        return -1;
    }
    *v = nv;
    return 0;
}

/* Append a zeroed element of SIZE bytes to the pointer array *V of *N
 * elements.  Returns the element or NULL with an error on H.
 */
static void *
vm_append(struct vmc_handle *h, void ***v, size_t *n, size_t max,
          size_t size, const char *what)
{
    void *e;

    if (vm_grow(h, v, *n, max, what) == -1)
        return NULL;
    e = calloc(1, size);
    if (e == NULL) {
        vmc_error(h, "vm: %m");
        return NULL;
    }
    (*v)[(*n)++] = e;
    return e;
}

struct vmc_disk *
vmc_vm_add_disk(struct vmc_vm *vm)
{
    struct vmc_disk *d;

    d = vm_append(vm->h, (void ***) &vm->disks, &vm->nr_disks,
                  VMC_VM_MAX_DISKS, sizeof (struct vmc_disk), "disks");
    if (d) {
        d->controller = -1;
        d->unit = -1;
        d->controller_ref = -1;
    }
    return d;
}

struct vmc_controller *
vmc_vm_add_controller(struct vmc_vm *vm)
{
    return vm_append(vm->h, (void ***) &vm->controllers,
                     &vm->nr_controllers, VMC_VM_MAX_CONTROLLERS,
                     sizeof (struct vmc_controller), "controllers");
}

struct vmc_serial *
vmc_vm_add_serial(struct vmc_vm *vm)
{
    return vm_append(vm->h, (void ***) &vm->serials, &vm->nr_serials,
                     VMC_VM_MAX_SERIALS, sizeof (struct vmc_serial),
                     "serial ports");
}

struct vmc_nic *
vmc_vm_add_nic(struct vmc_vm *vm)
{
    return vm_append(vm->h, (void ***) &vm->nics, &vm->nr_nics,
                     VMC_VM_MAX_NICS, sizeof (struct vmc_nic),
                     "network interfaces");
}

struct vmc_snapshot *
vmc_vm_add_snapshot(struct vmc_vm *vm)
{
    return vm_append(vm->h, (void ***) &vm->snapshots, &vm->nr_snapshots,
                     VMC_VM_MAX_SNAPSHOTS, sizeof (struct vmc_snapshot),
                     "snapshots");
}

struct vmc_snapshot_disk *
vmc_snapshot_add_disk(struct vmc_vm *vm, struct vmc_snapshot *s)
{
    struct vmc_snapshot_disk *d;

    d = vm_append(vm->h, (void ***) &s->disks, &s->nr_disks,
                  VMC_VM_MAX_DISKS, sizeof (struct vmc_snapshot_disk),
                  "disks in a snapshot");
    if (d)
        d->disk = -1;
    return d;
}

/* Append a copy of S to the string array *V of *N. */
static int
vm_append_string(struct vmc_handle *h, char ***v, size_t *n, size_t max,
                 const char *s, const char *what)
{
    char *copy;

    if (vm_grow(h, (void ***) v, *n, max, what) == -1)
        return -1;
    copy = strdup(s);
    if (copy == NULL) {
        vmc_error(h, "vm: %m");
        return -1;
    }
    (*v)[(*n)++] = copy;
    return 0;
}

int
vmc_disk_add_backing(struct vmc_vm *vm, struct vmc_disk *disk,
                     const char *path)
{
    return vm_append_string(vm->h, &disk->backing, &disk->nr_backing,
                            VMC_VM_MAX_BACKING, path,
                            "files in a disk's backing chain");
}

int
vmc_vm_set_string(struct vmc_vm *vm, char **field, const char *value)
{
    char *copy = NULL;

    if (value) {
        copy = strdup(value);
        if (copy == NULL) {
            vmc_error(vm->h, "vm: %m");
            return -1;
        }
    }
    free(*field);
    *field = copy;
    return 0;
}

int
vmc_vm_add_note(struct vmc_vm *vm, const char *fmt, ...)
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
        return -1;
    }
    return vm_append_string(vm->h, &vm->notes, &vm->nr_notes,
                            VMC_VM_MAX_NOTES, msg, "notes");
}

int
vmc_vm_add_tmpfile(struct vmc_vm *vm, const char *path)
{
    struct vm_private *p = vm_private(vm);

    return vm_append_string(vm->h, &p->tmpfiles, &p->nr_tmpfiles,
                            VMC_VM_MAX_TMPFILES, path, "temporary files");
}

/* Append a digest to VM (the strings copied). */
static int
vm_append_digest(struct vmc_vm *vm, const char *path, enum vmc_digest kind,
                 const char *hex, const char *what)
{
    struct vm_private *p = vm_private(vm);
    struct vmc_vm_digest *d;

    if (p->nr_digests >= VMC_VM_MAX_DIGESTS) {
        vmc_error(vm->h, "vm: more than %d digests", VMC_VM_MAX_DIGESTS);
        return -1;
    }
    d = realloc(p->digests, (p->nr_digests + 1) * sizeof *d);
    if (d == NULL) {
        vmc_error(vm->h, "vm: %m");
        return -1;
    }
    p->digests = d;
    d = &p->digests[p->nr_digests];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    strcpy(d->hex, hex);
    d->path = strdup(path);
    d->what = strdup(what);
    if (d->path == NULL || d->what == NULL) {
        free(d->path);
        free(d->what);
        vmc_error(vm->h, "vm: %m");
        return -1;
    }
    p->nr_digests++;
    return 0;
}

int
vmc_vm_add_digest(struct vmc_vm *vm, const char *path, const char *algorithm,
                  const char *hex, const char *what)
{
    char lower[VMC_DIGEST_HEX_MAX];
    int kind = algorithm ? vmc_digest_from_name(algorithm) : -1;
    size_t len, i;

    if (path == NULL || *path == '\0' || what == NULL) {
        vmc_error(vm->h, "vm: a digest needs a path and a name");
        return -1;
    }
    if (kind < 0) {
        vmc_error(vm->h, "%s: digest '%s' is not supported (SHA1 and SHA256 "
                  "are)", what, algorithm ? algorithm : "(none)");
        return -1;
    }
    len = hex ? strlen(hex) : 0;
    if (len != (kind == VMC_DIGEST_SHA1 ? 40u : 64u) ||
        strspn(hex, "0123456789abcdefABCDEF") != len) {
        vmc_error(vm->h, "%s: '%s' is not a %s digest", what,
                  hex ? hex : "(none)", vmc_digest_name(kind));
        return -1;
    }
    for (i = 0; i <= len; i++)
        lower[i] = (char) tolower((unsigned char) hex[i]);
    return vm_append_digest(vm, path, (enum vmc_digest) kind, lower, what);
}

const struct vmc_vm_digest *
vmc_vm_digests(const struct vmc_vm *vm, size_t *n)
{
    struct vm_private *p = vm_private(vm);

    *n = p->nr_digests;
    return p->digests;
}

/* ---- Controllers ---------------------------------------------------- */

/* The index in vm->controllers of BUS's controller INDEX, or -1. */
static int
vm_find_controller(const struct vmc_vm *vm, enum vmc_disk_bus bus,
                   unsigned index)
{
    size_t i;

    for (i = 0; i < vm->nr_controllers; i++)
        if (vm->controllers[i]->bus == bus &&
            vm->controllers[i]->index == index)
            return (int) i;
    return -1;
}

int
vmc_vm_sync_controllers(struct vmc_vm *vm)
{
    size_t i;

    for (i = 0; i < vm->nr_disks; i++) {
        struct vmc_disk *d = vm->disks[i];
        struct vmc_controller *c;
        int ref;

        if (d->controller_ref < -1)
            continue;               /* vmc_vm_check reports it */
        if (d->controller_ref == -1) {
            if (d->bus == VMC_DISK_BUS_UNKNOWN || d->controller < 0)
                continue;
            ref = vm_find_controller(vm, d->bus, (unsigned) d->controller);
            if (ref == -1) {
                c = vmc_vm_add_controller(vm);
                if (c == NULL)
                    return -1;
                c->bus = d->bus;
                c->index = (unsigned) d->controller;
                ref = (int) vm->nr_controllers - 1;
            }
            d->controller_ref = ref;
        }
        if ((size_t) d->controller_ref >= vm->nr_controllers)
            continue;               /* vmc_vm_check reports it */
        c = vm->controllers[d->controller_ref];
        if (c->model == VMC_CONTROLLER_MODEL_UNKNOWN)
            c->model = d->controller_model;
        if (d->controller_model == VMC_CONTROLLER_MODEL_UNKNOWN)
            d->controller_model = c->model;
        if (d->bus == VMC_DISK_BUS_UNKNOWN)
            d->bus = c->bus;
        if (d->controller < 0)
            d->controller = (int) c->index;
    }
    /* A model learnt from a later disk reaches the earlier ones too. */
    for (i = 0; i < vm->nr_disks; i++) {
        struct vmc_disk *d = vm->disks[i];

        if (d->controller_ref >= 0 &&
            (size_t) d->controller_ref < vm->nr_controllers &&
            d->controller_model == VMC_CONTROLLER_MODEL_UNKNOWN)
            d->controller_model = vm->controllers[d->controller_ref]->model;
    }
    return 0;
}

/* ---- Deep copy ------------------------------------------------------ */

/* *DST = a copy of SRC (NULL stays NULL).  Returns 0 or -1. */
static int
copy_str(struct vmc_handle *h, char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = strdup(src);
    if (*dst == NULL) {
        vmc_error(h, "vm: %m");
        return -1;
    }
    return 0;
}

/* *DST (N strings) = a copy of the N strings of SRC. */
static int
copy_strs(struct vmc_handle *h, char ***dst, size_t *nd, char *const *src,
          size_t n)
{
    *dst = NULL;
    *nd = 0;
    if (n == 0)
        return 0;
    *dst = calloc(n, sizeof **dst);
    if (*dst == NULL) {
        vmc_error(h, "vm: %m");
        return -1;
    }
    for (; *nd < n; (*nd)++)
        if (copy_str(h, &(*dst)[*nd], src[*nd]) == -1)
            return -1;
    return 0;
}

/* A copy of one element of SIZE bytes: its numbers and enums, with
 * every pointer still shared; the caller replaces those next.
 */
static void *
copy_flat(struct vmc_handle *h, const void *src, size_t size)
{
    void *e = malloc(size);

    if (e == NULL) {
        vmc_error(h, "vm: %m");
        return NULL;
    }
    memcpy(e, src, size);
    return e;
}

static void *
copy_disk(struct vmc_handle *h, const void *src)
{
    const struct vmc_disk *s = src;
    struct vmc_disk *d = copy_flat(h, s, sizeof *d);

    if (d == NULL)
        return NULL;
    d->path = d->format = d->source_ref = NULL;
    d->backing = NULL;
    d->nr_backing = 0;
    if (copy_str(h, &d->path, s->path) == -1 ||
        copy_str(h, &d->format, s->format) == -1 ||
        copy_strs(h, &d->backing, &d->nr_backing, s->backing,
                  s->nr_backing) == -1 ||
        copy_str(h, &d->source_ref, s->source_ref) == -1) {
        vm_free_disk(d);
        return NULL;
    }
    return d;
}

static void *
copy_nic(struct vmc_handle *h, const void *src)
{
    const struct vmc_nic *s = src;
    struct vmc_nic *n = copy_flat(h, s, sizeof *n);

    if (n == NULL)
        return NULL;
    n->mac = n->network = n->network_orig = NULL;
    if (copy_str(h, &n->mac, s->mac) == -1 ||
        copy_str(h, &n->network, s->network) == -1 ||
        copy_str(h, &n->network_orig, s->network_orig) == -1) {
        vm_free_nic(n);
        return NULL;
    }
    return n;
}

static void *
copy_controller(struct vmc_handle *h, const void *src)
{
    return copy_flat(h, src, sizeof (struct vmc_controller));
}

static void *
copy_serial(struct vmc_handle *h, const void *src)
{
    const struct vmc_serial *s = src;
    struct vmc_serial *c = copy_flat(h, s, sizeof *c);

    if (c == NULL)
        return NULL;
    c->target = NULL;
    if (copy_str(h, &c->target, s->target) == -1) {
        vm_free_serial(c);
        return NULL;
    }
    return c;
}

static void *
copy_snapshot_disk(struct vmc_handle *h, const void *src)
{
    const struct vmc_snapshot_disk *s = src;
    struct vmc_snapshot_disk *d = copy_flat(h, s, sizeof *d);

    if (d == NULL)
        return NULL;
    d->path = NULL;
    if (copy_str(h, &d->path, s->path) == -1) {
        vm_free_snapshot_disk(d);
        return NULL;
    }
    return d;
}

/* *DST (*ND elements) = copies (made by COPY) of the N elements of
 * SRC.  On failure *ND counts the elements copied, for the free.
 */
static int
copy_list(struct vmc_handle *h, void ***dst, size_t *nd, void *const *src,
          size_t n, void *(*copy)(struct vmc_handle *, const void *))
{
    *dst = NULL;
    *nd = 0;
    if (n == 0)
        return 0;
    *dst = calloc(n, sizeof **dst);
    if (*dst == NULL) {
        vmc_error(h, "vm: %m");
        return -1;
    }
    for (; *nd < n; (*nd)++) {
        (*dst)[*nd] = copy(h, src[*nd]);
        if ((*dst)[*nd] == NULL)
            return -1;
    }
    return 0;
}

static void *
copy_snapshot(struct vmc_handle *h, const void *src)
{
    const struct vmc_snapshot *s = src;
    struct vmc_snapshot *c = copy_flat(h, s, sizeof *c);

    if (c == NULL)
        return NULL;
    c->id = c->name = c->parent = c->description = NULL;
    c->disks = NULL;
    c->nr_disks = 0;
    if (copy_str(h, &c->id, s->id) == -1 ||
        copy_str(h, &c->name, s->name) == -1 ||
        copy_str(h, &c->parent, s->parent) == -1 ||
        copy_str(h, &c->description, s->description) == -1 ||
        copy_list(h, (void ***) &c->disks, &c->nr_disks,
                  (void *const *) s->disks, s->nr_disks,
                  copy_snapshot_disk) == -1) {
        vm_free_snapshot(c);
        return NULL;
    }
    return c;
}

/* Every pointer and list of VM emptied (after a flat copy, before the
 * deep one), so that a failure half way frees only what was copied.
 */
static void
vm_clear_pointers(struct vmc_vm *vm)
{
    vm->name = vm->uuid = vm->genid = vm->description = NULL;
    vm->source_plugin = vm->source_path = vm->machine = NULL;
    vm->os_distro = vm->os_version = vm->os_arch = vm->os_id = NULL;
    vm->current_snapshot = vm->source_version = vm->nvram_path = NULL;
    vm->disks = NULL;
    vm->nr_disks = 0;
    vm->nics = NULL;
    vm->nr_nics = 0;
    vm->snapshots = NULL;
    vm->nr_snapshots = 0;
    vm->notes = NULL;
    vm->nr_notes = 0;
    vm->controllers = NULL;
    vm->nr_controllers = 0;
    vm->serials = NULL;
    vm->nr_serials = 0;
}

/* Copy the digests of VM into C. */
static int
vm_copy_digests(struct vmc_vm *c, const struct vmc_vm *vm)
{
    size_t n, i;
    const struct vmc_vm_digest *d = vmc_vm_digests(vm, &n);

    for (i = 0; i < n; i++)
        if (vm_append_digest(c, d[i].path, d[i].kind, d[i].hex,
                             d[i].what) == -1)
            return -1;
    return 0;
}

struct vmc_vm *
vmc_vm_copy(const struct vmc_vm *vm)
{
    struct vmc_handle *h = vm->h;
    struct vmc_vm *c = vmc_vm_new(h);

    if (c == NULL)
        return NULL;
    *c = *vm;
    vm_clear_pointers(c);
    if (copy_str(h, &c->name, vm->name) == -1 ||
        copy_str(h, &c->uuid, vm->uuid) == -1 ||
        copy_str(h, &c->genid, vm->genid) == -1 ||
        copy_str(h, &c->description, vm->description) == -1 ||
        copy_str(h, &c->source_plugin, vm->source_plugin) == -1 ||
        copy_str(h, &c->source_path, vm->source_path) == -1 ||
        copy_str(h, &c->machine, vm->machine) == -1 ||
        copy_str(h, &c->os_distro, vm->os_distro) == -1 ||
        copy_str(h, &c->os_version, vm->os_version) == -1 ||
        copy_str(h, &c->os_arch, vm->os_arch) == -1 ||
        copy_str(h, &c->os_id, vm->os_id) == -1 ||
        copy_str(h, &c->current_snapshot, vm->current_snapshot) == -1 ||
        copy_str(h, &c->source_version, vm->source_version) == -1 ||
        copy_str(h, &c->nvram_path, vm->nvram_path) == -1 ||
        copy_list(h, (void ***) &c->disks, &c->nr_disks,
                  (void *const *) vm->disks, vm->nr_disks, copy_disk) == -1 ||
        copy_list(h, (void ***) &c->nics, &c->nr_nics,
                  (void *const *) vm->nics, vm->nr_nics, copy_nic) == -1 ||
        copy_list(h, (void ***) &c->snapshots, &c->nr_snapshots,
                  (void *const *) vm->snapshots, vm->nr_snapshots,
                  copy_snapshot) == -1 ||
        copy_strs(h, &c->notes, &c->nr_notes, vm->notes,
                  vm->nr_notes) == -1 ||
        copy_list(h, (void ***) &c->controllers, &c->nr_controllers,
                  (void *const *) vm->controllers, vm->nr_controllers,
                  copy_controller) == -1 ||
        copy_list(h, (void ***) &c->serials, &c->nr_serials,
                  (void *const *) vm->serials, vm->nr_serials,
                  copy_serial) == -1) {
        vmc_vm_free(c);
        return NULL;
    }
    if (vm_copy_digests(c, vm) == -1) {
        vmc_vm_free(c);
        return NULL;
    }
    return c;
}

/* ---- Identifiers ---------------------------------------------------- */

static int
vm_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Collect exactly N hex digits from IN into DIGITS (lower case),
 * skipping the separators in SEPS.  Returns 0 or -1.
 */
static int
vm_hex_digits(const char *in, const char *seps, char *digits, size_t n)
{
    size_t got = 0;

    for (; *in; in++) {
        if (strchr(seps, *in))
            continue;
        if (vm_hexval((unsigned char) *in) == -1 || got == n)
            return -1;
        digits[got++] = (char) tolower((unsigned char) *in);
    }
    return got == n ? 0 : -1;
}

int
vmc_uuid_normalize(const char *in, char out[VMC_UUID_LEN + 1])
{
    char d[32];
    size_t len = strlen(in);
    char buf[128];

    if (len >= sizeof buf)
        return -1;
    /* Braces only as a pair around the whole thing. */
    if (len >= 2 && in[0] == '{' && in[len - 1] == '}') {
        memcpy(buf, in + 1, len - 2);
        buf[len - 2] = '\0';
    }
    else
        memcpy(buf, in, len + 1);
    if (vm_hex_digits(buf, "- ", d, sizeof d) == -1)
        return -1;
    snprintf(out, VMC_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s",
             d, d + 8, d + 12, d + 16, d + 20);
    return 0;
}

int
vmc_mac_normalize(const char *in, char out[VMC_MAC_LEN + 1])
{
    size_t len = strlen(in);
    char d[12];
    size_t i;

    /* Either 12 bare digits or six pairs with one kind of separator. */
    if (len == 17) {
        char sep = in[2];

        if (sep != ':' && sep != '-')
            return -1;
        for (i = 2; i < 17; i += 3)
            if (in[i] != sep)
                return -1;
        for (i = 0; i < 17; i += 3) {
            if (vm_hexval((unsigned char) in[i]) == -1 ||
                vm_hexval((unsigned char) in[i + 1]) == -1)
                return -1;
        }
    }
    else if (len != 12)
        return -1;
    if (vm_hex_digits(in, len == 17 ? ":-" : "", d, sizeof d) == -1)
        return -1;
    snprintf(out, VMC_MAC_LEN + 1, "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s",
             d, d + 2, d + 4, d + 6, d + 8, d + 10);
    return 0;
}
