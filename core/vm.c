/* The neutral VM model: allocation, lists, strings, the enum name
 * tables and the UUID/MAC helpers.  JSON is in vm-json.c.
 */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- Allocation ----------------------------------------------------- */

struct vmc_vm *
vmc_vm_new(struct vmc_handle *h)
{
    struct vmc_vm *vm = calloc(1, sizeof *vm);

    if (vm == NULL) {
        vmc_error(h, "vm: %m");
        return NULL;
    }
    vm->h = h;
    return vm;
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
    free(d);
}

static void
vm_free_nic(struct vmc_nic *n)
{
    free(n->mac);
    free(n->network);
    free(n);
}

static void
vm_free_snapshot(struct vmc_snapshot *s)
{
    size_t i;

    free(s->id);
    free(s->name);
    free(s->parent);
    free(s->description);
    for (i = 0; i < s->nr_disks; i++) {
        free(s->disks[i]->path);
        free(s->disks[i]);
    }
    free(s->disks);
    free(s);
}

void
vmc_vm_free(struct vmc_vm *vm)
{
    size_t i;

    if (vm == NULL)
        return;
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
    free(vm);
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
    return vm_append(vm->h, (void ***) &vm->disks, &vm->nr_disks,
                     VMC_VM_MAX_DISKS, sizeof (struct vmc_disk), "disks");
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
