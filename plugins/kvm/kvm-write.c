/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv kvm plugin: the VM model as a libvirt domain (NAME.xml), and
 * defining it through libvirt (finish).
 *
 * The XML is built with libxml2's xmlTextWriter only, so names and
 * paths are always escaped.  What the guest is given follows what
 * guest conversion learnt (opts->guest): virtio devices when it has
 * the drivers, emulated SATA and e1000e when it has not; without guest
 * conversion, the source's device kinds, each mapped to the closest
 * one QEMU emulates.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include <vmconv/plugin.h>

#include "kvm-internal.h"
#include "kvm-host.h"

/* More hard disks than this go on virtio-scsi instead of virtio-blk
 * (one PCIe slot each).
 */
#define KVM_MAX_VIRTIO_BLK 16

/* What each disk becomes. */
struct wdisk {
    const struct vmc_disk *d;
    size_t i;                    /* index in vm->disks */
    const char *path;            /* what <source> names, or NULL */
    enum vmc_disk_bus bus;       /* written bus */
    enum vmc_controller_model model; /* of a SCSI controller */
    int controller, unit;        /* drive address, -1: libvirt picks */
    char dev[16];
};

struct wr {
    struct vmc_handle *h;
    const struct vmc_vm *vm;
    const struct vmc_write_options *opts;
    const struct vmc_guest_info *guest;
    struct kvm_write_params params;
    xmlTextWriterPtr w;
    bool err;
    bool same_kind;              /* the source is a libvirt domain */
    bool pc;                     /* i440fx (IDE drives), else q35 */
    const char *arch;
    struct wdisk *disks;         /* in boot order */
    size_t nr;
};

/* ---- xmlTextWriter shorthands: the first failure is kept ------------ */

static void
start(struct wr *w, const char *el)
{
    if (!w->err && xmlTextWriterStartElement(w->w, BAD_CAST el) < 0)
        w->err = true;
}

static void
end(struct wr *w)
{
    if (!w->err && xmlTextWriterEndElement(w->w) < 0)
        w->err = true;
}

/* S, or a copy with the control characters XML 1.0 cannot carry
 * (C0 other than tab, newline, carriage return) made '?'.  *COPY is
 * the copy to free, or NULL.  Returns NULL when out of memory.
 */
static const char *
xml_safe(struct wr *w, const char *s, char **copy)
{
    const unsigned char *p;
    char *c;

    *copy = NULL;
    for (p = (const unsigned char *) s; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            break;
    if (*p == '\0')
        return s;
    c = strdup(s);
    if (c == NULL)
        return NULL;
    for (p = (unsigned char *) c; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            *(unsigned char *) p = '?';
    *copy = c;
    return c;
}

static void
at(struct wr *w, const char *name, const char *value)
{
    char *copy;

    if (w->err || value == NULL)
        return;
    value = xml_safe(w, value, &copy);
    if (value == NULL ||
        xmlTextWriterWriteAttribute(w->w, BAD_CAST name, BAD_CAST value) < 0)
        w->err = true;
    free(copy);
}

static void
atu(struct wr *w, const char *name, uint64_t v)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%" PRIu64, v);
    at(w, name, buf);
}

static void
txt(struct wr *w, const char *s)
{
    char *copy;

    if (w->err)
        return;
    s = xml_safe(w, s, &copy);
    if (s == NULL || xmlTextWriterWriteString(w->w, BAD_CAST s) < 0)
        w->err = true;
    free(copy);
}

/* <EL>TEXT</EL> */
static void
el_text(struct wr *w, const char *el, const char *s)
{
    start(w, el);
    txt(w, s);
    end(w);
}

/* <EL A='V'/> */
static void
el_attr(struct wr *w, const char *el, const char *a, const char *v)
{
    start(w, el);
    at(w, a, v);
    end(w);
}

static bool
is_kvm_source(const struct vmc_vm *vm)
{
    return vm->source_plugin && strcmp(vm->source_plugin, "kvm") == 0;
}

const char *
kvm_domain_name(const struct vmc_vm *vm,
                const struct vmc_write_options *opts)
{
    if (vm->name && *vm->name && strchr(vm->name, '/') == NULL &&
        strlen(vm->name) < 200)
        return vm->name;
    return opts->name;
}

/* ---- Choosing the devices ------------------------------------------- */

static const char *
scsi_model_name(enum vmc_controller_model m)
{
    switch (m) {
    case VMC_CONTROLLER_MODEL_VIRTIO_SCSI: return "virtio-scsi";
    case VMC_CONTROLLER_MODEL_LSILOGIC: return "lsilogic";
    case VMC_CONTROLLER_MODEL_LSISAS1068: return "lsisas1068";
    case VMC_CONTROLLER_MODEL_PVSCSI: return "vmpvscsi";
    default: return NULL;
    }
}

/* The bus a disk keeps without guest conversion: the source's kind
 * where QEMU emulates it, else the closest one (SATA).
 */
static enum vmc_disk_bus
emulated_bus(struct wr *w, const struct vmc_disk *d,
             enum vmc_controller_model *model)
{
    *model = VMC_CONTROLLER_MODEL_UNKNOWN;
    if (d->device == VMC_DISK_DEVICE_FLOPPY)
        return VMC_DISK_BUS_FDC;
    switch (d->bus) {
    case VMC_DISK_BUS_IDE:
    case VMC_DISK_BUS_SATA:
    case VMC_DISK_BUS_USB:
        return d->bus;
    case VMC_DISK_BUS_VIRTIO:
        return d->device == VMC_DISK_DEVICE_CDROM ? VMC_DISK_BUS_SATA :
            VMC_DISK_BUS_VIRTIO;
    case VMC_DISK_BUS_SCSI:
        if (scsi_model_name(d->controller_model) ||
            (d->controller_model == VMC_CONTROLLER_MODEL_UNKNOWN &&
             w->same_kind)) {
            *model = d->controller_model;
            return VMC_DISK_BUS_SCSI;
        }
        return VMC_DISK_BUS_SATA;
    default:
        return VMC_DISK_BUS_SATA;
    }
}

static int
cmp_boot(const void *a, const void *b)
{
    const struct wdisk *x = a, *y = b;
    unsigned ox = x->d->boot_order ? x->d->boot_order : UINT32_MAX;
    unsigned oy = y->d->boot_order ? y->d->boot_order : UINT32_MAX;

    if (ox != oy)
        return ox < oy ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Is the source's address of disk WD usable as it is on its bus? */
static bool
address_ok(const struct wdisk *wd)
{
    const struct vmc_disk *d = wd->d;

    if (d->bus != wd->bus || d->controller < 0 || d->unit < 0)
        return false;
    switch (wd->bus) {
    case VMC_DISK_BUS_IDE: return d->controller <= 1 && d->unit <= 1;
    case VMC_DISK_BUS_SATA: return d->unit < 6;
    case VMC_DISK_BUS_SCSI:
        return wd->model == VMC_CONTROLLER_MODEL_VIRTIO_SCSI ||
            (d->unit < 16 && d->unit != 7);
    default: return false;
    }
}

static const char *libvirt_format(const char *f);

static int
plan_disks(struct wr *w)
{
    const struct vmc_vm *vm = w->vm;
    const struct vmc_write_options *o = w->opts;
    bool virtio = w->guest && w->guest->has_virtio_blk;
    size_t i, j, nr_hard = 0, next[VMC_DISK_BUS_LAST] = { 0 };
    unsigned letter_hd = 0, letter_sd = 0, letter_vd = 0, letter_fd = 0;
    bool use_scsi;

    w->disks = calloc(vm->nr_disks ? vm->nr_disks : 1, sizeof *w->disks);
    if (w->disks == NULL) {
        vmc_error(w->h, "out of memory");
        return -1;
    }
    for (i = 0; i < vm->nr_disks; i++)
        if (vm->disks[i]->device == VMC_DISK_DEVICE_DISK)
            nr_hard++;
    use_scsi = virtio && nr_hard > KVM_MAX_VIRTIO_BLK;
    for (i = 0; i < vm->nr_disks; i++) {
        struct wdisk *wd = &w->disks[w->nr];
        const struct vmc_disk *d = vm->disks[i];
        const char *path = NULL;

        if (o->nr_disks && o->disk_final_paths[i])
            path = o->disk_final_paths[i];
        else if (d->path)
            path = d->path;
        else if (d->source_ref && d->source_ref[0] == '/')
            path = d->source_ref;
        /* libvirt has no hard disk without an image (only removable
         * media can be empty).
         */
        if (path == NULL && (d->device == VMC_DISK_DEVICE_DISK ||
                             d->device == VMC_DISK_DEVICE_LUN)) {
            vmc_warning(w->h, "disks[%zu]: the disk has no image here%s%s%s: "
                        "it is left out of the domain", i,
                        d->source_ref ? " (" : "",
                        d->source_ref ? d->source_ref : "",
                        d->source_ref ? ")" : "");
            continue;
        }
        w->nr++;
        wd->d = d;
        wd->i = i;
        wd->path = path;
        wd->controller = wd->unit = -1;
        if (d->format && libvirt_format(d->format) == NULL) {
            vmc_error(w->h, "%s: disks[%zu]: QEMU under libvirt cannot use "
                      "a %s image: convert it (to qcow2 or raw)", o->outdir,
                      i, d->format);
            return -1;
        }
        if (d->device == VMC_DISK_DEVICE_FLOPPY)
            wd->bus = VMC_DISK_BUS_FDC;
        else if (w->guest == NULL)
            wd->bus = emulated_bus(w, d, &wd->model);
        else if (virtio && use_scsi) {
            wd->bus = VMC_DISK_BUS_SCSI;
            wd->model = VMC_CONTROLLER_MODEL_VIRTIO_SCSI;
        }
        else if (virtio && d->device != VMC_DISK_DEVICE_CDROM)
            wd->bus = VMC_DISK_BUS_VIRTIO;
        else
            wd->bus = VMC_DISK_BUS_SATA;
        if (wd->bus == VMC_DISK_BUS_IDE)
            w->pc = true;
    }
    qsort(w->disks, w->nr, sizeof *w->disks, cmp_boot);

    /* Addresses: the source's where it fits the same bus, else the next
     * free one.
     */
    for (i = 0; i < w->nr; i++) {
        struct wdisk *wd = &w->disks[i];

        if (address_ok(wd)) {
            for (j = 0; j < i; j++)
                if (w->disks[j].bus == wd->bus &&
                    w->disks[j].controller == wd->d->controller &&
                    w->disks[j].unit == wd->d->unit)
                    break;
            if (j == i) {
                wd->controller = wd->d->controller;
                wd->unit = wd->d->unit;
            }
        }
    }
    for (i = 0; i < w->nr; i++) {
        struct wdisk *wd = &w->disks[i];
        size_t per = wd->bus == VMC_DISK_BUS_IDE ? 2 :
            wd->bus == VMC_DISK_BUS_SATA ? 6 :
            wd->bus == VMC_DISK_BUS_SCSI ?
            (wd->model == VMC_CONTROLLER_MODEL_VIRTIO_SCSI ? 16384 : 7) : 0;

        if (per && wd->controller < 0) {
            for (;; next[wd->bus]++) {
                int c = (int) (next[wd->bus] / per);
                int u = (int) (next[wd->bus] % per);

                for (j = 0; j < w->nr; j++)
                    if (w->disks[j].bus == wd->bus &&
                        w->disks[j].controller == c && w->disks[j].unit == u)
                        break;
                if (j == w->nr) {
                    wd->controller = c;
                    wd->unit = u;
                    break;
                }
            }
            if (wd->bus == VMC_DISK_BUS_IDE && wd->controller > 1) {
                vmc_error(w->h, "%s: disks[%zu]: more than 4 IDE drives",
                          o->outdir, wd->i);
                return -1;
            }
        }
        switch (wd->bus) {
        case VMC_DISK_BUS_IDE:
            /* hda..hdd name the four IDE places. */
            snprintf(wd->dev, sizeof wd->dev, "hd%c",
                     'a' + wd->controller * 2 + wd->unit);
            letter_hd++;
            break;
        case VMC_DISK_BUS_VIRTIO:
            if (letter_vd >= 26)
                snprintf(wd->dev, sizeof wd->dev, "vd%c%c",
                         'a' + letter_vd / 26 - 1, 'a' + letter_vd % 26);
            else
                snprintf(wd->dev, sizeof wd->dev, "vd%c", 'a' + letter_vd);
            letter_vd++;
            break;
        case VMC_DISK_BUS_FDC:
            snprintf(wd->dev, sizeof wd->dev, "fd%c", 'a' + letter_fd++);
            break;
        default:
            if (letter_sd >= 26)
                snprintf(wd->dev, sizeof wd->dev, "sd%c%c",
                         'a' + letter_sd / 26 - 1, 'a' + letter_sd % 26);
            else
                snprintf(wd->dev, sizeof wd->dev, "sd%c", 'a' + letter_sd);
            letter_sd++;
            break;
        }
        if (letter_sd > 26 * 27 || letter_vd > 26 * 27 || letter_hd > 4 ||
            letter_fd > 2) {
            vmc_error(w->h, "%s: disks[%zu]: too many drives of one kind",
                      o->outdir, wd->i);
            return -1;
        }
    }
    return 0;
}

static const char *
bus_name(enum vmc_disk_bus b)
{
    switch (b) {
    case VMC_DISK_BUS_IDE: return "ide";
    case VMC_DISK_BUS_SATA: return "sata";
    case VMC_DISK_BUS_SCSI: return "scsi";
    case VMC_DISK_BUS_VIRTIO: return "virtio";
    case VMC_DISK_BUS_FDC: return "fdc";
    case VMC_DISK_BUS_USB: return "usb";
    default: return "sata";
    }
}

static const char *
libvirt_format(const char *f)
{
    static const char *const known[] = {
        "raw", "qcow2", "qcow", "vmdk", "vpc", "qed", "vdi", "iso", "dmg",
        "bochs", "cloop", NULL,
    };
    size_t i;

    for (i = 0; f && known[i]; i++)
        if (strcmp(f, known[i]) == 0)
            return f;
    return NULL;
}

/* ---- The elements ---------------------------------------------------- */

static void
write_disk(struct wr *w, const struct wdisk *wd)
{
    const struct vmc_disk *d = wd->d;
    const char *fmt = libvirt_format(d->format);
    bool block = wd->path && strncmp(wd->path, "/dev/", 5) == 0;
    const char *device = "disk";
    size_t k;

    if (d->device == VMC_DISK_DEVICE_CDROM)
        device = "cdrom";
    else if (d->device == VMC_DISK_DEVICE_FLOPPY)
        device = "floppy";
    else if (d->device == VMC_DISK_DEVICE_LUN &&
             (wd->bus == VMC_DISK_BUS_SCSI || wd->bus == VMC_DISK_BUS_VIRTIO)) {
        /* A LUN passed through: always a host block device. */
        device = "lun";
        block = true;
    }
    start(w, "disk");
    at(w, "type", block ? "block" : "file");
    at(w, "device", device);
    start(w, "driver");
    at(w, "name", "qemu");
    at(w, "type", fmt);
    if (d->device == VMC_DISK_DEVICE_DISK)
        at(w, "discard", "unmap");
    end(w);
    if (wd->path)
        el_attr(w, "source", block ? "dev" : "file", wd->path);
    /* The backing chain, as the source named it (only for an image that
     * was not converted: a converted image stands alone).
     */
    if (d->nr_backing && !(w->opts->nr_disks &&
                           w->opts->disk_final_paths[wd->i])) {
        for (k = 0; k < d->nr_backing; k++) {
            start(w, "backingStore");
            at(w, "type", strncmp(d->backing[k], "/dev/", 5) == 0 ?
               "block" : "file");
            el_attr(w, "format", "type", fmt ? fmt : "raw");
            el_attr(w, "source", strncmp(d->backing[k], "/dev/", 5) == 0 ?
                    "dev" : "file", d->backing[k]);
        }
        for (k = 0; k < d->nr_backing; k++)
            end(w);
    }
    start(w, "target");
    at(w, "dev", wd->dev);
    at(w, "bus", bus_name(wd->bus));
    if (d->device == VMC_DISK_DEVICE_CDROM ||
        d->device == VMC_DISK_DEVICE_FLOPPY) {
        if (d->connection == VMC_CONNECTION_DISCONNECTED)
            at(w, "tray", "open");
        else if (d->connection == VMC_CONNECTION_CONNECTED)
            at(w, "tray", "closed");
    }
    end(w);
    if (d->boot_order)
        atu((start(w, "boot"), w), "order", d->boot_order), end(w);
    if (d->readonly)
        start(w, "readonly"), end(w);
    if (d->shareable)
        start(w, "shareable"), end(w);
    /* libvirt drops the writes only of a file-backed, unshared disk. */
    if (d->nonpersistent && !block && !d->shareable)
        start(w, "transient"), end(w);
    else if (d->nonpersistent)
        vmc_warning(w->h, "disks[%zu]: the guest's writes to it were "
                    "dropped at power off; libvirt cannot do that for a "
                    "%s disk: they are kept", wd->i,
                    block ? "block device" : "shared");
    if (d->logical_block_size || d->physical_block_size) {
        start(w, "blockio");
        if (d->logical_block_size)
            atu(w, "logical_block_size", d->logical_block_size);
        if (d->physical_block_size)
            atu(w, "physical_block_size", d->physical_block_size);
        end(w);
    }
    if (wd->controller >= 0 && wd->unit >= 0) {
        start(w, "address");
        at(w, "type", "drive");
        atu(w, "controller", wd->bus == VMC_DISK_BUS_IDE ? 0 :
            (uint64_t) wd->controller);
        atu(w, "bus", wd->bus == VMC_DISK_BUS_IDE ?
            (uint64_t) wd->controller : 0);
        atu(w, "target", 0);
        atu(w, "unit", (uint64_t) wd->unit);
        end(w);
    }
    end(w);
}

/* Controllers: each SCSI controller a disk uses (with its model), the
 * SATA ones, and, for a libvirt source written as it is, the ones it
 * listed.
 */
static void
write_controllers(struct wr *w)
{
    const struct vmc_vm *vm = w->vm;
    struct { enum vmc_disk_bus bus; int index; const char *model; }
        seen[VMC_VM_MAX_CONTROLLERS];
    size_t nseen = 0, i, j;

    for (i = 0; i < w->nr + (w->guest ? 0 : vm->nr_controllers); i++) {
        enum vmc_disk_bus bus;
        const char *model;
        int index;

        if (i < w->nr) {
            bus = w->disks[i].bus;
            index = w->disks[i].controller;
            model = scsi_model_name(w->disks[i].model);
        }
        else {
            const struct vmc_controller *c = vm->controllers[i - w->nr];

            bus = c->bus;
            index = (int) c->index;
            model = scsi_model_name(c->model);
            if ((bus == VMC_DISK_BUS_SCSI && model == NULL &&
                 !(w->same_kind && c->model == VMC_CONTROLLER_MODEL_UNKNOWN)) ||
                (bus == VMC_DISK_BUS_IDE && !w->pc))
                continue;
        }
        if ((bus != VMC_DISK_BUS_SCSI && bus != VMC_DISK_BUS_SATA &&
             bus != VMC_DISK_BUS_IDE) || index < 0)
            continue;
        for (j = 0; j < nseen; j++)
            if (seen[j].bus == bus && seen[j].index == index)
                break;
        if (j < nseen || nseen == VMC_VM_MAX_CONTROLLERS)
            continue;
        seen[nseen].bus = bus;
        seen[nseen].index = index;
        seen[nseen++].model = model;
    }
    for (j = 0; j < nseen; j++) {
        if (seen[j].bus == VMC_DISK_BUS_IDE)
            continue;            /* libvirt adds the one it has */
        start(w, "controller");
        at(w, "type", seen[j].bus == VMC_DISK_BUS_SCSI ? "scsi" : "sata");
        atu(w, "index", (uint64_t) seen[j].index);
        if (seen[j].bus == VMC_DISK_BUS_SCSI)
            at(w, "model", seen[j].model);
        end(w);
    }
}

static const char *
nic_model_name(struct wr *w, const struct vmc_nic *n)
{
    if (w->guest)
        return w->guest->has_virtio_net ? "virtio" : "e1000e";
    switch (n->model) {
    case VMC_NIC_MODEL_VIRTIO: return "virtio";
    case VMC_NIC_MODEL_E1000: return "e1000";
    case VMC_NIC_MODEL_E1000E: return "e1000e";
    case VMC_NIC_MODEL_RTL8139: return "rtl8139";
    case VMC_NIC_MODEL_VMXNET3: return w->same_kind ? "vmxnet3" : "e1000e";
    case VMC_NIC_MODEL_PCNET: return w->same_kind ? "pcnet" : "e1000e";
    case VMC_NIC_MODEL_UNKNOWN: return w->same_kind ? NULL : "e1000e";
    default: return "e1000e";
    }
}

static void
write_nic(struct wr *w, const struct vmc_nic *n, size_t i)
{
    const char *type = "network", *net = "default";
    bool down = n->connection == VMC_CONNECTION_DISCONNECTED ||
        n->net_type == VMC_NET_TYPE_NONE;

    if (n->net_type == VMC_NET_TYPE_BRIDGE && n->network &&
        (n->network_orig || w->same_kind))
        type = "bridge", net = n->network;
    else if (n->net_type == VMC_NET_TYPE_NETWORK && n->network &&
             (n->network_orig || w->same_kind))
        net = n->network;
    else if (n->net_type == VMC_NET_TYPE_NAT && w->same_kind)
        type = "user", net = NULL;
    else if (n->network && n->net_type != VMC_NET_TYPE_NONE)
        vmc_warning(w->h, "nics[%zu]: the source's network '%s' was not "
                    "mapped to a libvirt network: connected to 'default'",
                    i, n->network);
    start(w, "interface");
    at(w, "type", type);
    if (n->mac)
        el_attr(w, "mac", "address", n->mac);
    if (net)
        el_attr(w, "source", strcmp(type, "bridge") == 0 ? "bridge" :
                "network", net);
    if (nic_model_name(w, n))
        el_attr(w, "model", "type", nic_model_name(w, n));
    if (down)
        el_attr(w, "link", "state", "down");
    else if (n->connection == VMC_CONNECTION_CONNECTED)
        el_attr(w, "link", "state", "up");
    if (n->vlan && w->same_kind) {
        start(w, "vlan");
        atu((start(w, "tag"), w), "id", n->vlan), end(w);
        end(w);
    }
    end(w);
}

/* Serial ports: the source's where they mean something on this host,
 * else a pty; always at least port 0 (the serial console).
 */
static void
write_serials(struct wr *w)
{
    const struct vmc_vm *vm = w->vm;
    bool console_pty = vm->nr_serials == 0;
    size_t i;

    if (vm->nr_serials == 0) {
        start(w, "serial");
        at(w, "type", "pty");
        atu((start(w, "target"), w), "port", 0), end(w);
        end(w);
    }
    for (i = 0; i < vm->nr_serials; i++) {
        const struct vmc_serial *s = vm->serials[i];
        bool abs = s->target && s->target[0] == '/';
        const char *type = "pty";

        if (s->type == VMC_SERIAL_TYPE_FILE && abs) type = "file";
        else if (s->type == VMC_SERIAL_TYPE_PIPE && abs && w->same_kind)
            type = "pipe";
        else if (s->type == VMC_SERIAL_TYPE_DEVICE && abs && w->same_kind)
            type = "dev";
        else if (s->type == VMC_SERIAL_TYPE_NONE) type = "null";
        else if (s->type == VMC_SERIAL_TYPE_TCP && w->same_kind &&
                 s->target && strrchr(s->target, ':'))
            type = "tcp";
        else if (s->type != VMC_SERIAL_TYPE_PTY &&
                 s->type != VMC_SERIAL_TYPE_UNKNOWN)
            vmc_warning(w->h, "serials[%zu]: connected to a pty: its "
                        "source connection (%s) means nothing here", i,
                        s->target ? s->target : "none");
        if (s->index == 0)
            console_pty = strcmp(type, "pty") == 0;
        start(w, "serial");
        at(w, "type", type);
        if (strcmp(type, "tcp") == 0) {
            char *host = strdup(s->target), *colon;

            if (host == NULL) {
                w->err = true;
                return;
            }
            colon = strrchr(host, ':');
            *colon = '\0';
            start(w, "source");
            at(w, "mode", "connect");
            at(w, "host", *host ? host : "127.0.0.1");
            at(w, "service", colon + 1);
            end(w);
            el_attr(w, "protocol", "type", "raw");
            free(host);
        }
        else if (strcmp(type, "pty") != 0 && strcmp(type, "null") != 0)
            el_attr(w, "source", "path", s->target);
        atu((start(w, "target"), w), "port", s->index), end(w);
        end(w);
    }
    if (console_pty) {
        start(w, "console");
        at(w, "type", "pty");
        start(w, "target");
        at(w, "type", "serial");
        atu(w, "port", 0);
        end(w);
        end(w);
    }
}

static const char *
video_name(struct wr *w)
{
    switch (w->vm->video) {
    case VMC_VIDEO_MODEL_NONE: return "none";
    case VMC_VIDEO_MODEL_VGA: return "vga";
    case VMC_VIDEO_MODEL_CIRRUS: return "cirrus";
    case VMC_VIDEO_MODEL_QXL: return "qxl";
    case VMC_VIDEO_MODEL_VIRTIO: return "virtio";
    case VMC_VIDEO_MODEL_BOCHS: return "bochs";
    case VMC_VIDEO_MODEL_VMVGA: return w->same_kind ? "vmvga" : "vga";
    case VMC_VIDEO_MODEL_UNKNOWN: return w->same_kind ? NULL : "vga";
    default: return "vga";
    }
}

static void
write_devices(struct wr *w)
{
    const struct vmc_vm *vm = w->vm;
    const char *video = video_name(w);
    size_t i;
    bool balloon = w->guest == NULL || w->guest->has_virtio_blk ||
        w->guest->has_virtio_net;

    start(w, "devices");
    for (i = 0; i < w->nr; i++)
        write_disk(w, &w->disks[i]);
    write_controllers(w);
    for (i = 0; i < vm->nr_nics; i++)
        write_nic(w, vm->nics[i], i);
    write_serials(w);
    /* The QEMU guest agent's channel (libvirt picks the socket). */
    start(w, "channel");
    at(w, "type", "unix");
    start(w, "target");
    at(w, "type", "virtio");
    at(w, "name", "org.qemu.guest_agent.0");
    end(w);
    end(w);
    if (vm->graphics != VMC_GRAPHICS_NONE) {
        start(w, "input");
        at(w, "type", "tablet");
        at(w, "bus", "usb");
        end(w);
    }
    if (vm->graphics != VMC_GRAPHICS_NONE) {
        start(w, "graphics");
        at(w, "type", vm->graphics == VMC_GRAPHICS_SPICE ? "spice" : "vnc");
        at(w, "autoport", "yes");
        start(w, "listen");
        at(w, "type", "address");
        at(w, "address", "127.0.0.1");
        end(w);
        end(w);
    }
    if (video) {
        start(w, "video");
        start(w, "model");
        at(w, "type", video);
        if (vm->vram && w->same_kind && strcmp(video, "none") != 0 &&
            strcmp(video, "virtio") != 0 && strcmp(video, "bochs") != 0)
            atu(w, "vram", vm->vram / 1024);
        end(w);
        end(w);
    }
    if (vm->tpm) {
        start(w, "tpm");
        at(w, "model", strcmp(w->arch, "x86_64") == 0 ? "tpm-crb" :
           "tpm-tis");
        start(w, "backend");
        at(w, "type", "emulator");
        at(w, "version", "2.0");
        end(w);
        end(w);
    }
    start(w, "rng");
    at(w, "model", "virtio");
    start(w, "backend");
    at(w, "model", "random");
    txt(w, "/dev/urandom");
    end(w);
    end(w);
    el_attr(w, "memballoon", "model", balloon ? "virtio" : "none");
    end(w);
}

static void
write_os(struct wr *w)
{
    const struct vmc_vm *vm = w->vm;
    bool efi = vm->firmware == VMC_FIRMWARE_UEFI ||
        strcmp(w->arch, "aarch64") == 0;

    start(w, "os");
    if (efi)
        at(w, "firmware", "efi");
    start(w, "type");
    at(w, "arch", w->arch);
    at(w, "machine", strcmp(w->arch, "aarch64") == 0 ? "virt" :
       w->pc ? "pc" : "q35");
    txt(w, "hvm");
    end(w);
    if (efi) {
        start(w, "firmware");
        start(w, "feature");
        at(w, "enabled", vm->secure_boot ? "yes" : "no");
        at(w, "name", "enrolled-keys");
        end(w);
        start(w, "feature");
        at(w, "enabled", vm->secure_boot ? "yes" : "no");
        at(w, "name", "secure-boot");
        end(w);
        end(w);
        if (vm->secure_boot)
            el_attr(w, "loader", "secure", "yes");
    }
    end(w);
}

static void
write_cpu_clock(struct wr *w)
{
    const struct vmc_vm *vm = w->vm;
    bool kvm = strcmp(w->params.domain_type, "kvm") == 0;
    bool windows = vm->os_family == VMC_OS_FAMILY_WINDOWS;
    bool topo = vm->cpu_sockets && vm->cpu_cores && vm->cpu_threads &&
        (uint64_t) vm->cpu_sockets * vm->cpu_cores * vm->cpu_threads ==
        (vm->vcpus ? vm->vcpus : 1);

    start(w, "features");
    start(w, "acpi"), end(w);
    if (strcmp(w->arch, "aarch64") != 0)
        start(w, "apic"), end(w);
    if (windows && kvm && strcmp(w->arch, "aarch64") != 0) {
        start(w, "hyperv");
        at(w, "mode", "custom");
        el_attr(w, "relaxed", "state", "on");
        el_attr(w, "vapic", "state", "on");
        start(w, "spinlocks");
        at(w, "state", "on");
        at(w, "retries", "8191");
        end(w);
        end(w);
    }
    if (vm->secure_boot)
        el_attr(w, "smm", "state", "on");
    end(w);
    if (vm->nested_virt && !kvm)
        vmc_warning(w->h, "the source exposed hardware virtualisation to "
                    "the guest (nested virtualisation): a domain of type "
                    "qemu cannot");
    if (kvm || topo) {
        start(w, "cpu");
        if (kvm)
            at(w, "mode", "host-model");
        if (topo) {
            start(w, "topology");
            atu(w, "sockets", vm->cpu_sockets);
            atu(w, "dies", 1);
            atu(w, "cores", vm->cpu_cores);
            atu(w, "threads", vm->cpu_threads);
            end(w);
        }
        /* Nested virtualisation: whichever of Intel's vmx and AMD's svm
         * the host has.
         */
        if (kvm && vm->nested_virt) {
            start(w, "feature");
            at(w, "policy", "optional");
            at(w, "name", "vmx");
            end(w);
            start(w, "feature");
            at(w, "policy", "optional");
            at(w, "name", "svm");
            end(w);
        }
        end(w);
    }
    if (vm->cpu_sockets && !topo)
        vmc_warning(w->h, "the CPU topology %u x %u x %u does not make %u "
                    "vCPUs: libvirt chooses one", vm->cpu_sockets,
                    vm->cpu_cores, vm->cpu_threads, vm->vcpus);
    start(w, "clock");
    {
        bool local = vm->clock == VMC_CLOCK_LOCALTIME ||
            (vm->clock == VMC_CLOCK_UNKNOWN && windows);

        if (vm->clock_offset) {
            char buf[32];

            at(w, "offset", "variable");
            snprintf(buf, sizeof buf, "%" PRId64, vm->clock_offset);
            at(w, "adjustment", buf);
            at(w, "basis", local ? "localtime" : "utc");
        }
        else
            at(w, "offset", local ? "localtime" : "utc");
    }
    if (strcmp(w->arch, "aarch64") != 0) {
        start(w, "timer");
        at(w, "name", "rtc");
        at(w, "tickpolicy", "catchup");
        end(w);
        start(w, "timer");
        at(w, "name", "pit");
        at(w, "tickpolicy", "delay");
        end(w);
        start(w, "timer");
        at(w, "name", "hpet");
        at(w, "present", "no");
        end(w);
        if (windows && kvm) {
            start(w, "timer");
            at(w, "name", "hypervclock");
            at(w, "present", "yes");
            end(w);
        }
    }
    end(w);
}

static void
write_domain(struct wr *w)
{
    const struct vmc_vm *vm = w->vm;
    uint64_t kib = (vm->memory + 1023) / 1024;

    start(w, "domain");
    at(w, "type", w->params.domain_type);
    el_text(w, "name", kvm_domain_name(vm, w->opts));
    if (vm->uuid)
        el_text(w, "uuid", vm->uuid);
    if (vm->genid)
        el_text(w, "genid", vm->genid);
    if (vm->description)
        el_text(w, "description", vm->description);
    if (vm->os_id && strncmp(vm->os_id, "http://", 7) == 0) {
        start(w, "metadata");
        if (!w->err && xmlTextWriterStartElementNS(w->w, BAD_CAST "libosinfo",
                BAD_CAST "libosinfo",
                BAD_CAST "http://libosinfo.org/xmlns/libvirt/domain/1.0") < 0)
            w->err = true;
        if (!w->err && xmlTextWriterStartElementNS(w->w, BAD_CAST "libosinfo",
                BAD_CAST "os", NULL) < 0)
            w->err = true;
        at(w, "id", vm->os_id);
        end(w);
        end(w);
        end(w);
    }
    start(w, "memory");
    at(w, "unit", "KiB");
    {
        char buf[32];

        snprintf(buf, sizeof buf, "%" PRIu64, kib);
        txt(w, buf);
        end(w);
        start(w, "currentMemory");
        at(w, "unit", "KiB");
        txt(w, buf);
        end(w);
        snprintf(buf, sizeof buf, "%u", vm->vcpus ? vm->vcpus : 1);
        start(w, "vcpu");
        at(w, "placement", "static");
        txt(w, buf);
        end(w);
    }
    write_os(w);
    write_cpu_clock(w);
    el_text(w, "on_poweroff", "destroy");
    el_text(w, "on_reboot", "restart");
    el_text(w, "on_crash", "destroy");
    write_devices(w);
    end(w);
}

int
kvm_write_domain(struct vmc_handle *h, const struct vmc_vm *vm,
                 const struct vmc_write_options *opts)
{
    struct wr w = { .h = h, .vm = vm, .opts = opts };
    xmlBufferPtr buf = NULL;
    char *path = NULL;
    const char *why;
    int ret = -1;

    if (kvm_write_params_parse(h, opts, &w.params) == -1)
        return -1;
    if (VMC_WRITE_OPTION_HAS(opts, guest))
        w.guest = opts->guest;
    w.same_kind = is_kvm_source(vm);
    w.arch = w.guest && w.guest->os_arch ? w.guest->os_arch :
        vm->os_arch ? vm->os_arch : "x86_64";
    if (strcmp(w.arch, "x86_64") != 0 && strcmp(w.arch, "i686") != 0 &&
        strcmp(w.arch, "aarch64") != 0) {
        vmc_error(h, "%s: kvm plugin: guests of architecture '%s' are not "
                  "written (x86_64, i686 and aarch64 are)", opts->outdir,
                  w.arch);
        return -1;
    }
    if (vm->memory == 0) {
        vmc_error(h, "%s: kvm plugin: the VM's memory size is unknown",
                  opts->outdir);
        return -1;
    }
    if (vm->memory > (UINT64_C(16) << 40)) {
        vmc_error(h, "%s: kvm plugin: %" PRIu64 " bytes of memory is more "
                  "than 16 TiB", opts->outdir, vm->memory);
        return -1;
    }
    if (strcmp(w.params.domain_type, "kvm") == 0 && !vmc_kvm_host_usable(&why))
        vmc_warning(h, "KVM is not usable here (%s): a domain of type kvm "
                    "may not start or boot on this host; domain-type=qemu "
                    "runs it under emulation", why);
    if (plan_disks(&w) == -1)
        goto out;
    if (w.pc && vm->secure_boot) {
        vmc_error(h, "%s: kvm plugin: Secure Boot needs the q35 machine, "
                  "but IDE drives need i440fx: convert the guest (so its "
                  "disks can move to SATA or virtio)", opts->outdir);
        goto out;
    }

    buf = xmlBufferCreate();
    w.w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (w.w == NULL) {
        vmc_error(h, "out of memory");
        goto out;
    }
    if (xmlTextWriterSetIndent(w.w, 1) < 0 ||
        xmlTextWriterSetIndentString(w.w, BAD_CAST "  ") < 0)
        w.err = true;
    write_domain(&w);
    if (!w.err && xmlTextWriterEndDocument(w.w) < 0)
        w.err = true;
    xmlFreeTextWriter(w.w);
    w.w = NULL;
    if (w.err) {
        vmc_error(h, "%s: kvm plugin: cannot build the domain XML",
                  opts->outdir);
        goto out;
    }

    if (asprintf(&path, "%s/%s.xml", opts->outdir, opts->name) == -1) {
        path = NULL;
        vmc_error(h, "out of memory");
        goto out;
    }
    if (vmc_write_file_new(h, path, xmlBufferContent(buf),
                           (size_t) xmlBufferLength(buf)) == -1)
        goto out;
    ret = 0;
 out:
    xmlFreeTextWriter(w.w);
    xmlBufferFree(buf);
    free(path);
    free(w.disks);
    return ret;
}

int
kvm_finish_domain(struct vmc_handle *h, const struct vmc_vm *vm,
                  const struct vmc_write_options *opts)
{
    struct kvm_write_params p;
    char *file;
    int ret;

    if (kvm_write_params_parse(h, opts, &p) == -1)
        return -1;
    if (!VMC_WRITE_OPTION_HAS(opts, libvirt_uri) || opts->libvirt_uri == NULL)
        return 0;
    if (asprintf(&file, "%s/%s.xml", opts->final_outdir, opts->name) == -1) {
        vmc_error(h, "out of memory");
        return -1;
    }
    ret = kvm_virt_define(h, opts->libvirt_uri, file,
                          kvm_domain_name(vm, opts), vm->uuid, p.replace);
    free(file);
    return ret;
}
