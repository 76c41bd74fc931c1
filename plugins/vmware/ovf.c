/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: parse an OVF 1.x / 2.0 envelope into the VM
 * model (../shared/specs/ovf.md).
 *
 * The document is read through the safe XML reader (no network, no
 * entities, no DTD).  Elements are matched on their namespace URI, not
 * their prefix.  Every number is checked: an absurd capacity, memory
 * size or CPU count is an error naming the file, the line and the
 * element.  What the model has no field for (nested virtualization,
 * a disk's declared capacity that differs from its image) becomes a
 * note.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "cleanup.h"
#include "ovf.h"

#define NS_OVF1 "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_OVF2 "http://schemas.dmtf.org/ovf/envelope/2"
#define NS_CIM  "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
#define NS_VMW  "http://www.vmware.com/schema/ovf"
#define NS_VBOX "http://www.virtualbox.org/ovf/machine"

/* The largest number of VirtualSystems listed in a refusal. */
#define OVF_MAX_SYSTEMS 256

/* CIM ResourceType values used (DMTF CIM_ResourceAllocationSettingData). */
enum {
    RT_OTHER = 1, RT_CPU = 3, RT_MEMORY = 4, RT_IDE = 5, RT_SCSI = 6,
    RT_NIC = 10, RT_FLOPPY = 14, RT_CD = 15, RT_DVD = 16, RT_DISK = 17,
    RT_STORAGE = 20, RT_SERIAL = 21, RT_VIDEO = 24,
};

struct ovf_ctx {
    struct vmc_handle *h;
    const char *name;            /* the file, for messages */
    const xmlChar *ns;           /* the envelope's namespace */
    struct ovf_desc *d;
    struct vmc_vm *vm;
    /* Controllers by InstanceID: [i] = index in vm->controllers. */
    size_t nr_ctrl;
    struct { char *id; size_t ctrl; } *ctrl;
    unsigned next_index[VMC_DISK_BUS_LAST];
};

/* ---- Small helpers ------------------------------------------------- */

static bool
ovf_ns_is(const xmlNode *n, const char *uri)
{
    return n->ns && n->ns->href && strcmp((const char *) n->ns->href, uri) == 0;
}

/* True if N is the element LOCAL in the envelope's namespace. */
static bool
ovf_is(const struct ovf_ctx *c, const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE &&
        strcmp((const char *) n->name, local) == 0 && n->ns &&
        xmlStrEqual(n->ns->href, c->ns);
}

/* True if N is the CIM element LOCAL (rasd:, vssd:, epasd:, sasd:). */
static bool
ovf_is_cim(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE &&
        strcmp((const char *) n->name, local) == 0 && n->ns && n->ns->href &&
        strncmp((const char *) n->ns->href, NS_CIM, strlen(NS_CIM)) == 0;
}

static bool
ovf_is_vmw(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE &&
        strcmp((const char *) n->name, local) == 0 && ovf_ns_is(n, NS_VMW);
}

static xmlNode *
ovf_child(const struct ovf_ctx *c, const xmlNode *n, const char *local)
{
    xmlNode *k;

    for (k = n->children; k; k = k->next)
        if (ovf_is(c, k, local))
            return k;
    return NULL;
}

/* The attribute LOCAL in the envelope's namespace (or unqualified, as
 * some writers put it), as a malloc'd string, or NULL.
 */
static char *
ovf_attr(const struct ovf_ctx *c, xmlNode *n, const char *local)
{
    xmlChar *v = xmlGetNsProp(n, BAD_CAST local, c->ns);

    if (v == NULL)
        v = xmlGetNoNsProp(n, BAD_CAST local);
    return (char *) v;
}

static char *
ovf_attr_ns(xmlNode *n, const char *local, const char *ns)
{
    return (char *) xmlGetNsProp(n, BAD_CAST local, BAD_CAST ns);
}

/* The text of N with surrounding white space removed (malloc'd). */
static char *
ovf_text(const xmlNode *n)
{
    xmlChar *t = xmlNodeGetContent(n);
    char *s = (char *) t, *e;

    if (s == NULL)
        return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                     e[-1] == '\r'))
        e--;
    *e = '\0';
    memmove(t, s, strlen(s) + 1);
    return (char *) t;
}

/* Set the error "NAME: line L: <ELEM>: MESSAGE". */
static void __attribute__((format(printf, 3, 4)))
ovf_err(const struct ovf_ctx *c, const xmlNode *n, const char *fmt, ...)
{
    CLEANUP_FREE char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) == -1)
        msg = NULL;
    va_end(ap);
    vmc_error(c->h, "%s: line %ld: <%s>: %s", c->name, xmlGetLineNo(n),
              n ? (const char *) n->name : "?", msg ? msg : fmt);
}

/* Parse the decimal S (of element N, field WHAT) up to MAX. */
static int
ovf_uint(const struct ovf_ctx *c, const xmlNode *n, const char *what,
         const char *s, uint64_t max, uint64_t *val)
{
    uint64_t v = 0;
    const char *p = s;

    if (s == NULL || *s == '\0') {
        ovf_err(c, n, "%s: empty value", what);
        return -1;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            ovf_err(c, n, "%s: '%s' is not a whole number", what, s);
            return -1;
        }
        if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10) {
            ovf_err(c, n, "%s: '%s' is out of range", what, s);
            return -1;
        }
        v = v * 10 + (uint64_t) (*p - '0');
    }
    if (v > max) {
        ovf_err(c, n, "%s: '%s' is out of range (at most %" PRIu64 ")",
                what, s, max);
        return -1;
    }
    *val = v;
    return 0;
}

/* Parse a DSP0004 programmatic unit of bytes ("byte", "byte * 2^30",
 * "byte * 10^3", "KiloBytes", "MegaBytes", "GigaBytes", "MB") into
 * *MULT.  An empty or missing unit is DEFAULT_MULT.
 */
static int
ovf_byte_units(const struct ovf_ctx *c, const xmlNode *n, const char *what,
               const char *u, uint64_t default_mult, uint64_t *mult)
{
    static const struct { const char *name; uint64_t mult; } named[] = {
        { "byte", 1 }, { "bytes", 1 },
        { "kilobytes", UINT64_C(1) << 10 }, { "kb", UINT64_C(1) << 10 },
        { "megabytes", UINT64_C(1) << 20 }, { "mb", UINT64_C(1) << 20 },
        { "gigabytes", UINT64_C(1) << 30 }, { "gb", UINT64_C(1) << 30 },
        { "terabytes", UINT64_C(1) << 40 }, { "tb", UINT64_C(1) << 40 },
    };
    unsigned base, exp;
    char rest;
    size_t i;

    if (u == NULL || *u == '\0') {
        *mult = default_mult;
        return 0;
    }
    for (i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcasecmp(u, named[i].name) == 0) {
            *mult = named[i].mult;
            return 0;
        }
    if (sscanf(u, "byte * %u^%u%c", &base, &exp, &rest) == 2 ||
        sscanf(u, "byte*%u^%u%c", &base, &exp, &rest) == 2) {
        uint64_t m = 1;

        if ((base == 2 && exp <= 60) || (base == 10 && exp <= 18)) {
            while (exp-- > 0)
                m *= base;
            *mult = m;
            return 0;
        }
    }
    ovf_err(c, n, "%s: '%s' is not a unit of bytes this reader knows", what,
            u);
    return -1;
}

/* VALUE * MULT, refused above MAX. */
static int
ovf_scale(const struct ovf_ctx *c, const xmlNode *n, const char *what,
          uint64_t value, uint64_t mult, uint64_t max, uint64_t *out)
{
    if (mult != 0 && value > max / mult) {
        ovf_err(c, n, "%s: %" PRIu64 " x %" PRIu64 " bytes is out of range",
                what, value, mult);
        return -1;
    }
    *out = value * mult;
    return 0;
}

/* ---- References and DiskSection ------------------------------------ */

/* Refuse an href that could leave the package: a URL, an absolute
 * path, "..", a backslash, an empty name.
 */
static int
ovf_check_href(const struct ovf_ctx *c, const xmlNode *n, const char *href)
{
    const char *p;

    if (href == NULL || *href == '\0') {
        ovf_err(c, n, "ovf:href is missing");
        return -1;
    }
    if (strchr(href, '\\') || href[0] == '/' || strstr(href, "://") ||
        strncasecmp(href, "file:", 5) == 0) {
        ovf_err(c, n, "ovf:href '%s' is not a file name inside the package",
                href);
        return -1;
    }
    for (p = href; *p; ) {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.') {
            ovf_err(c, n, "ovf:href '%s' leaves the package (\"..\")", href);
            return -1;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}

static int
ovf_read_references(struct ovf_ctx *c, xmlNode *refs)
{
    xmlNode *n;
    size_t i;

    for (n = refs ? refs->children : NULL; n; n = n->next) {
        CLEANUP_FREE char *size = NULL, *comp = NULL, *chunk = NULL;
        struct ovf_file *f;

        if (!ovf_is(c, n, "File"))
            continue;
        if (c->d->nr_files >= OVF_MAX_FILES) {
            ovf_err(c, n, "more than %d files", OVF_MAX_FILES);
            return -1;
        }
        f = realloc(c->d->files, (c->d->nr_files + 1) * sizeof *f);
        if (f == NULL) {
            vmc_error(c->h, "%s: out of memory", c->name);
            return -1;
        }
        c->d->files = f;
        f = &c->d->files[c->d->nr_files++];
        memset(f, 0, sizeof *f);
        f->id = ovf_attr(c, n, "id");
        f->href = ovf_attr(c, n, "href");
        if (f->id == NULL) {
            ovf_err(c, n, "ovf:id is missing");
            return -1;
        }
        if (ovf_check_href(c, n, f->href) == -1)
            return -1;
        for (i = 0; i + 1 < c->d->nr_files; i++)
            if (strcmp(c->d->files[i].id, f->id) == 0) {
                ovf_err(c, n, "ovf:id '%s' is used twice", f->id);
                return -1;
            }
        size = ovf_attr(c, n, "size");
        if (size) {
            if (ovf_uint(c, n, "ovf:size", size, INT64_MAX, &f->size) == -1)
                return -1;
            f->has_size = true;
        }
        comp = ovf_attr(c, n, "compression");
        if (comp && strcmp(comp, "gzip") == 0)
            f->gzip = true;
        else if (comp && *comp && strcmp(comp, "identity") != 0) {
            ovf_err(c, n, "ovf:compression '%s' is not supported (gzip is)",
                    comp);
            return -1;
        }
        chunk = ovf_attr(c, n, "chunkSize");
        if (chunk && (ovf_uint(c, n, "ovf:chunkSize", chunk, INT64_MAX,
                               &f->chunk_size) == -1))
            return -1;
    }
    return 0;
}

/* The index in desc->files of the file with ovf:id ID, or -1. */
static ptrdiff_t
ovf_file_by_id(const struct ovf_ctx *c, const char *id)
{
    size_t i;

    for (i = 0; i < c->d->nr_files; i++)
        if (strcmp(c->d->files[i].id, id) == 0)
            return (ptrdiff_t) i;
    return -1;
}

/* The Disk element of DiskSection with ovf:diskId ID, or NULL. */
static xmlNode *
ovf_disk_by_id(const struct ovf_ctx *c, xmlNode *env, const char *id)
{
    xmlNode *s, *n;

    for (s = env->children; s; s = s->next) {
        if (!ovf_is(c, s, "DiskSection"))
            continue;
        for (n = s->children; n; n = n->next) {
            CLEANUP_FREE char *did = NULL;

            if (!ovf_is(c, n, "Disk"))
                continue;
            did = ovf_attr(c, n, "diskId");
            if (did && strcmp(did, id) == 0)
                return n;
        }
    }
    return NULL;
}

/* ---- Items ----------------------------------------------------------- */

/* The text of the CIM field LOCAL of ITEM (malloc'd), or NULL. */
static char *
ovf_item_field(xmlNode *item, const char *local)
{
    xmlNode *k;

    for (k = item->children; k; k = k->next)
        if (ovf_is_cim(k, local))
            return ovf_text(k);
    return NULL;
}

/* The vmw:Config / vmw:ExtraConfig value of KEY inside N, or NULL. */
static char *
ovf_vmw_config(xmlNode *n, const char *key)
{
    xmlNode *k;

    for (k = n->children; k; k = k->next) {
        CLEANUP_FREE char *kk = NULL;

        if (!ovf_is_vmw(k, "Config") && !ovf_is_vmw(k, "ExtraConfig"))
            continue;
        kk = ovf_attr_ns(k, "key", NS_VMW);
        if (kk && strcasecmp(kk, key) == 0)
            return ovf_attr_ns(k, "value", NS_VMW);
    }
    return NULL;
}

static bool
ovf_controller_index_used(const struct ovf_ctx *c, enum vmc_disk_bus bus,
                          uint64_t index)
{
    size_t i;

    for (i = 0; i < c->vm->nr_controllers; i++)
        if (c->vm->controllers[i]->bus == bus &&
            c->vm->controllers[i]->index == index)
            return true;
    return false;
}

/* Register a controller Item. */
static int
ovf_add_controller(struct ovf_ctx *c, xmlNode *item, enum vmc_disk_bus bus,
                   enum vmc_controller_model model)
{
    CLEANUP_FREE char *id = ovf_item_field(item, "InstanceID");
    CLEANUP_FREE char *addr = ovf_item_field(item, "Address");
    struct vmc_controller *ctl;
    uint64_t index;
    void *p;
    size_t i;

    if (id == NULL) {
        ovf_err(c, item, "rasd:InstanceID is missing");
        return -1;
    }
    for (i = 0; i < c->nr_ctrl; i++)
        if (strcmp(c->ctrl[i].id, id) == 0) {
            ovf_err(c, item, "rasd:InstanceID '%s' is used twice", id);
            return -1;
        }
    if (addr && *addr) {
        if (ovf_uint(c, item, "rasd:Address", addr, 255, &index) == -1)
            return -1;
    }
    else
        index = c->next_index[bus];
    if (index + 1 > c->next_index[bus])
        c->next_index[bus] = (unsigned) index + 1;
    if (ovf_controller_index_used(c, bus, index)) {
        /* vCloud Director writes two IDE controllers with Address 1:
         * number this one after the others, and say so.
         */
        uint64_t old = index;

        for (index = 0; ovf_controller_index_used(c, bus, index); index++)
            ;
        if (index > 255) {
            ovf_err(c, item, "too many %s controllers",
                    vmc_disk_bus_to_string(bus));
            return -1;
        }
        if (vmc_vm_add_note(c->vm, "controller Item %s says it is %s%"
                            PRIu64 ", which another Item already is: "
                            "numbered %s%" PRIu64, id,
                            vmc_disk_bus_to_string(bus), old,
                            vmc_disk_bus_to_string(bus), index) == -1)
            return -1;
    }
    ctl = vmc_vm_add_controller(c->vm);
    if (ctl == NULL)
        return -1;
    ctl->bus = bus;
    ctl->index = (unsigned) index;
    ctl->model = model;
    p = realloc(c->ctrl, (c->nr_ctrl + 1) * sizeof *c->ctrl);
    if (p == NULL) {
        vmc_error(c->h, "%s: out of memory", c->name);
        return -1;
    }
    c->ctrl = p;
    c->ctrl[c->nr_ctrl].id = id;
    id = NULL;
    c->ctrl[c->nr_ctrl].ctrl = c->vm->nr_controllers - 1;
    c->nr_ctrl++;
    return 0;
}

static enum vmc_controller_model
ovf_scsi_model(const char *sub)
{
    if (sub == NULL)
        return VMC_CONTROLLER_MODEL_UNKNOWN;
    if (strcasecmp(sub, "lsilogic") == 0)
        return VMC_CONTROLLER_MODEL_LSILOGIC;
    /* open-vmdk's validator spells it "lsilogicas". */
    if (strcasecmp(sub, "lsilogicsas") == 0 ||
        strcasecmp(sub, "lsilogicas") == 0)
        return VMC_CONTROLLER_MODEL_LSISAS1068;
    if (strcasecmp(sub, "buslogic") == 0)
        return VMC_CONTROLLER_MODEL_BUSLOGIC;
    if (strcasecmp(sub, "VirtualSCSI") == 0 || strcasecmp(sub, "pvscsi") == 0)
        return VMC_CONTROLLER_MODEL_PVSCSI;
    if (strcasecmp(sub, "virtio-scsi") == 0)
        return VMC_CONTROLLER_MODEL_VIRTIO_SCSI;
    return VMC_CONTROLLER_MODEL_UNKNOWN;
}

static enum vmc_nic_model
ovf_nic_model(const char *sub)
{
    static const struct { const char *name; enum vmc_nic_model m; } t[] = {
        { "E1000", VMC_NIC_MODEL_E1000 },
        { "E1000e", VMC_NIC_MODEL_E1000E },
        { "VmxNet3", VMC_NIC_MODEL_VMXNET3 },
        { "VmxNet2", VMC_NIC_MODEL_VMXNET2 },
        { "VmxNet", VMC_NIC_MODEL_VMXNET },
        { "PCNet32", VMC_NIC_MODEL_PCNET },
        { "Am79C970A", VMC_NIC_MODEL_PCNET },   /* VirtualBox */
        { "Am79C973", VMC_NIC_MODEL_PCNET },    /* VirtualBox */
        { "virtio", VMC_NIC_MODEL_VIRTIO },
        { "virtio-net", VMC_NIC_MODEL_VIRTIO },
        { "rtl8139", VMC_NIC_MODEL_RTL8139 },
    };
    size_t i;

    if (sub == NULL)
        return VMC_NIC_MODEL_UNKNOWN;
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcasecmp(sub, t[i].name) == 0)
            return t[i].m;
    return VMC_NIC_MODEL_UNKNOWN;
}

/* Link DISK to the controller named by ITEM's rasd:Parent and set its
 * unit from rasd:AddressOnParent.
 */
static int
ovf_attach(struct ovf_ctx *c, xmlNode *item, struct vmc_disk *disk)
{
    CLEANUP_FREE char *parent = ovf_item_field(item, "Parent");
    CLEANUP_FREE char *aop = ovf_item_field(item, "AddressOnParent");
    uint64_t unit;
    size_t i;

    if (aop && *aop) {
        if (ovf_uint(c, item, "rasd:AddressOnParent", aop, 16383,
                     &unit) == -1)
            return -1;
        disk->unit = (int) unit;
    }
    if (parent == NULL || *parent == '\0')
        return 0;
    for (i = 0; i < c->nr_ctrl; i++)
        if (strcmp(c->ctrl[i].id, parent) == 0) {
            const struct vmc_controller *ctl =
                c->vm->controllers[c->ctrl[i].ctrl];

            disk->controller_ref = (int) c->ctrl[i].ctrl;
            disk->bus = ctl->bus;
            disk->controller = (int) ctl->index;
            disk->controller_model = ctl->model;
            return 0;
        }
    ovf_err(c, item, "rasd:Parent '%s' names no controller Item", parent);
    return -1;
}

/* "ovf:/disk/ID" or "/disk/ID" (virt-v2v accepts both): ID, or NULL. */
static const char *
ovf_host_resource(const char *hr, const char *kind)
{
    size_t klen = strlen(kind);

    if (hr == NULL)
        return NULL;
    if (strncmp(hr, "ovf:", 4) == 0)
        hr += 4;
    if (hr[0] == '/' && strncmp(hr + 1, kind, klen) == 0 &&
        hr[klen + 1] == '/' && hr[klen + 2] != '\0')
        return hr + klen + 2;
    return NULL;
}

static int
ovf_add_ref(struct ovf_ctx *c, size_t disk, size_t file, uint64_t capacity)
{
    struct ovf_disk_ref *r;

    r = realloc(c->d->refs, (c->d->nr_refs + 1) * sizeof *r);
    if (r == NULL) {
        vmc_error(c->h, "%s: out of memory", c->name);
        return -1;
    }
    c->d->refs = r;
    r[c->d->nr_refs].disk = disk;
    r[c->d->nr_refs].file = file;
    r[c->d->nr_refs].capacity = capacity;
    c->d->nr_refs++;
    return 0;
}

/* A disk Item (ResourceType 17). */
static int
ovf_item_disk(struct ovf_ctx *c, xmlNode *env, xmlNode *item)
{
    CLEANUP_FREE char *hr = ovf_item_field(item, "HostResource");
    CLEANUP_FREE char *cap = NULL, *units = NULL, *fref = NULL;
    const char *id = ovf_host_resource(hr, "disk");
    struct vmc_disk *disk;
    xmlNode *dn;
    uint64_t value, mult, capacity;
    ptrdiff_t fi;

    if (id == NULL && ovf_host_resource(hr, "file")) {
        /* The image file itself (VirtualCenter 2009): no capacity. */
        fi = ovf_file_by_id(c, ovf_host_resource(hr, "file"));
        if (fi < 0) {
            ovf_err(c, item, "rasd:HostResource '%s' names no File in "
                    "References", hr);
            return -1;
        }
        disk = vmc_vm_add_disk(c->vm);
        if (disk == NULL)
            return -1;
        disk->device = VMC_DISK_DEVICE_DISK;
        if (ovf_attach(c, item, disk) == -1 ||
            vmc_vm_set_string(c->vm, &disk->source_ref,
                              c->d->files[fi].href) == -1)
            return -1;
        return ovf_add_ref(c, c->vm->nr_disks - 1, (size_t) fi, 0);
    }
    if (id == NULL) {
        ovf_err(c, item, "rasd:HostResource '%s' does not name a disk "
                "(ovf:/disk/ID)", hr ? hr : "");
        return -1;
    }
    dn = ovf_disk_by_id(c, env, id);
    if (dn == NULL) {
        ovf_err(c, item, "rasd:HostResource '%s': no Disk with ovf:diskId "
                "'%s' in the DiskSection", hr, id);
        return -1;
    }
    disk = vmc_vm_add_disk(c->vm);
    if (disk == NULL)
        return -1;
    disk->device = VMC_DISK_DEVICE_DISK;
    if (ovf_attach(c, item, disk) == -1)
        return -1;

    {
        /* VMware's disk mode: independent disks stay out of snapshots,
         * nonpersistent ones lose the guest's writes at power off.
         */
        CLEANUP_FREE char *mode = ovf_vmw_config(item, "backing.diskMode");

        if (mode && strncmp(mode, "independent_", 12) == 0) {
            disk->independent = true;
            disk->nonpersistent = strcmp(mode + 12, "nonpersistent") == 0;
        }
    }
    cap = ovf_attr(c, dn, "capacity");
    units = ovf_attr(c, dn, "capacityAllocationUnits");
    if (ovf_uint(c, dn, "ovf:capacity", cap, INT64_MAX, &value) == -1 ||
        ovf_byte_units(c, dn, "ovf:capacityAllocationUnits", units, 1,
                       &mult) == -1 ||
        ovf_scale(c, dn, "ovf:capacity", value, mult, OVF_MAX_CAPACITY,
                  &capacity) == -1)
        return -1;
    disk->virtual_size = capacity;

    fref = ovf_attr(c, dn, "fileRef");
    if (fref == NULL || *fref == '\0') {
        /* A blank disk: the importer creates it empty. */
        return vmc_vm_add_note(c->vm, "disk '%s' has no file: it is an "
                               "empty disk of %" PRIu64 " bytes to create",
                               id, capacity);
    }
    fi = ovf_file_by_id(c, fref);
    if (fi < 0) {
        ovf_err(c, dn, "ovf:fileRef '%s' names no File in References", fref);
        return -1;
    }
    if (vmc_vm_set_string(c->vm, &disk->source_ref,
                          c->d->files[fi].href) == -1)
        return -1;
    return ovf_add_ref(c, c->vm->nr_disks - 1, (size_t) fi, capacity);
}

/* A CD/DVD or floppy Item. */
static int
ovf_item_removable(struct ovf_ctx *c, xmlNode *item, int rt)
{
    CLEANUP_FREE char *hr = ovf_item_field(item, "HostResource");
    CLEANUP_FREE char *aa = ovf_item_field(item, "AutomaticAllocation");
    const char *fid = ovf_host_resource(hr, "file");
    struct vmc_disk *disk;
    bool b;

    disk = vmc_vm_add_disk(c->vm);
    if (disk == NULL)
        return -1;
    disk->readonly = rt != RT_FLOPPY;
    if (rt == RT_FLOPPY) {
        CLEANUP_FREE char *aop = ovf_item_field(item, "AddressOnParent");
        uint64_t unit = 0;

        disk->device = VMC_DISK_DEVICE_FLOPPY;
        disk->bus = VMC_DISK_BUS_FDC;
        disk->controller = 0;
        if (aop && *aop &&
            ovf_uint(c, item, "rasd:AddressOnParent", aop, 1, &unit) == -1)
            return -1;
        /* A floppy Item names no parent: count the drives. */
        if (!(aop && *aop)) {
            size_t i;

            for (i = 0; i + 1 < c->vm->nr_disks; i++)
                if (c->vm->disks[i]->device == VMC_DISK_DEVICE_FLOPPY)
                    unit++;
        }
        disk->unit = (int) unit;
    }
    else {
        size_t i;

        disk->device = VMC_DISK_DEVICE_CDROM;
        if (ovf_attach(c, item, disk) == -1)
            return -1;
        /* VirtualBox puts a CD-ROM at the address of the disk on the
         * same IDE controller: keep the disk's, leave the CD-ROM's
         * position unknown.
         */
        for (i = 0; disk->unit >= 0 && i + 1 < c->vm->nr_disks; i++) {
            const struct vmc_disk *o = c->vm->disks[i];

            if (o->bus == disk->bus && o->controller == disk->controller &&
                o->unit == disk->unit) {
                CLEANUP_FREE char *iid = ovf_item_field(item, "InstanceID");

                if (vmc_vm_add_note(c->vm, "the CD-ROM of Item %s is at "
                                    "%s%d:%d, where disk %zu is: its "
                                    "position is left unknown",
                                    iid ? iid : "?",
                                    vmc_disk_bus_to_string(disk->bus),
                                    disk->controller, disk->unit, i) == -1)
                    return -1;
                disk->unit = -1;
                break;
            }
        }
    }
    if (aa && vmc_parse_bool(NULL, "", aa, &b) == 0)
        disk->connection = b ? VMC_CONNECTION_CONNECTED
                             : VMC_CONNECTION_DISCONNECTED;
    if (fid) {
        ptrdiff_t fi = ovf_file_by_id(c, fid);

        if (fi < 0) {
            ovf_err(c, item, "rasd:HostResource '%s' names no File in "
                    "References", hr);
            return -1;
        }
        /* An ISO in the package: kept as a medium, not converted. */
        disk->reference_only = true;
        if (vmc_vm_set_string(c->vm, &disk->source_ref,
                              c->d->files[fi].href) == -1)
            return -1;
        return ovf_add_ref(c, c->vm->nr_disks - 1, (size_t) fi, 0);
    }
    return 0;
}

static int
ovf_item_nic(struct ovf_ctx *c, xmlNode *item)
{
    CLEANUP_FREE char *sub = ovf_item_field(item, "ResourceSubType");
    CLEANUP_FREE char *conn = ovf_item_field(item, "Connection");
    CLEANUP_FREE char *addr = ovf_item_field(item, "Address");
    CLEANUP_FREE char *aa = ovf_item_field(item, "AutomaticAllocation");
    struct vmc_nic *nic;
    char mac[VMC_MAC_LEN + 1];
    bool b;

    nic = vmc_vm_add_nic(c->vm);
    if (nic == NULL)
        return -1;
    nic->model = ovf_nic_model(sub);
    if (sub && *sub && nic->model == VMC_NIC_MODEL_UNKNOWN &&
        vmc_vm_add_note(c->vm, "NIC %zu: adapter type '%s' is unknown",
                        c->vm->nr_nics - 1, sub) == -1)
        return -1;
    if (conn && *conn) {
        nic->net_type = VMC_NET_TYPE_NETWORK;
        if (vmc_vm_set_string(c->vm, &nic->network, conn) == -1)
            return -1;
    }
    if (addr && *addr) {
        if (vmc_mac_normalize(addr, mac) == -1) {
            ovf_err(c, item, "rasd:Address '%s' is not a MAC address", addr);
            return -1;
        }
        if (vmc_vm_set_string(c->vm, &nic->mac, mac) == -1)
            return -1;
        nic->mac_kind = VMC_MAC_KIND_STATIC;
    }
    if (aa && vmc_parse_bool(NULL, "", aa, &b) == 0)
        nic->connection = b ? VMC_CONNECTION_CONNECTED
                            : VMC_CONNECTION_DISCONNECTED;
    return 0;
}

static int
ovf_item_cpu(struct ovf_ctx *c, xmlNode *item)
{
    CLEANUP_FREE char *q = ovf_item_field(item, "VirtualQuantity");
    uint64_t n, cores;
    xmlNode *k;

    if (ovf_uint(c, item, "rasd:VirtualQuantity", q, OVF_MAX_VCPUS,
                 &n) == -1)
        return -1;
    if (n == 0) {
        ovf_err(c, item, "rasd:VirtualQuantity: 0 virtual CPUs");
        return -1;
    }
    c->vm->vcpus = (unsigned) n;
    for (k = item->children; k; k = k->next) {
        CLEANUP_FREE char *t = NULL;

        if (!ovf_is_vmw(k, "CoresPerSocket"))
            continue;
        t = ovf_text(k);
        if (ovf_uint(c, k, "vmw:CoresPerSocket", t, OVF_MAX_VCPUS,
                     &cores) == -1)
            return -1;
        if (cores == 0 || n % cores != 0) {
            ovf_err(c, k, "%" PRIu64 " cores per socket do not divide %"
                    PRIu64 " virtual CPUs", cores, n);
            return -1;
        }
        c->vm->cpu_cores = (unsigned) cores;
        c->vm->cpu_sockets = (unsigned) (n / cores);
        c->vm->cpu_threads = 1;
    }
    return 0;
}

static int
ovf_item_memory(struct ovf_ctx *c, xmlNode *item)
{
    CLEANUP_FREE char *q = ovf_item_field(item, "VirtualQuantity");
    CLEANUP_FREE char *u = ovf_item_field(item, "AllocationUnits");
    uint64_t n, mult;

    /* No AllocationUnits: MiB, as every writer means it. */
    if (ovf_uint(c, item, "rasd:VirtualQuantity", q, INT64_MAX, &n) == -1 ||
        ovf_byte_units(c, item, "rasd:AllocationUnits", u,
                       UINT64_C(1) << 20, &mult) == -1 ||
        ovf_scale(c, item, "rasd:VirtualQuantity", n, mult, OVF_MAX_MEMORY,
                  &c->vm->memory) == -1)
        return -1;
    return 0;
}

static int
ovf_item_video(struct ovf_ctx *c, xmlNode *item, bool vmware)
{
    CLEANUP_FREE char *vram = ovf_vmw_config(item, "videoRamSizeInKB");
    uint64_t kb;

    if (vmware)
        c->vm->video = VMC_VIDEO_MODEL_VMVGA;
    if (vram) {
        if (ovf_uint(c, item, "videoRamSizeInKB", vram,
                     UINT64_C(1) << 32, &kb) == -1)
            return -1;
        c->vm->vram = kb * 1024;
    }
    return 0;
}

/* The ResourceType of ITEM, or -1 with an error. */
static int
ovf_item_type(struct ovf_ctx *c, xmlNode *item)
{
    CLEANUP_FREE char *rt = ovf_item_field(item, "ResourceType");
    uint64_t v;

    if (ovf_uint(c, item, "rasd:ResourceType", rt, 32767, &v) == -1)
        return -1;
    return (int) v;
}

/* Controllers first (disks name them by InstanceID, possibly before
 * them in the document), then the rest.
 */
static int
ovf_read_controllers(struct ovf_ctx *c, xmlNode *vhs)
{
    xmlNode *item;

    for (item = vhs->children; item; item = item->next) {
        CLEANUP_FREE char *sub = NULL;
        int rt;

        if (!ovf_is(c, item, "Item") && !ovf_is(c, item, "StorageItem") &&
            !ovf_is(c, item, "EthernetPortItem"))
            continue;
        rt = ovf_item_type(c, item);
        if (rt == -1)
            return -1;
        sub = ovf_item_field(item, "ResourceSubType");
        switch (rt) {
        case RT_IDE:
            if (ovf_add_controller(c, item, VMC_DISK_BUS_IDE,
                                   sub && strcasecmp(sub, "PIIX3") == 0
                                   ? VMC_CONTROLLER_MODEL_PIIX3
                                   : sub && strcasecmp(sub, "PIIX4") == 0
                                   ? VMC_CONTROLLER_MODEL_PIIX4
                                   : VMC_CONTROLLER_MODEL_UNKNOWN) == -1)
                return -1;
            break;
        case RT_SCSI:
            if (ovf_add_controller(c, item, VMC_DISK_BUS_SCSI,
                                   ovf_scsi_model(sub)) == -1)
                return -1;
            if (sub && *sub &&
                ovf_scsi_model(sub) == VMC_CONTROLLER_MODEL_UNKNOWN &&
                vmc_vm_add_note(c->vm, "SCSI controller subtype '%s' is "
                                "unknown", sub) == -1)
                return -1;
            break;
        case RT_STORAGE:
            if (sub && strcasecmp(sub, "vmware.nvme.controller") == 0) {
                if (ovf_add_controller(c, item, VMC_DISK_BUS_NVME,
                                       VMC_CONTROLLER_MODEL_UNKNOWN) == -1)
                    return -1;
            }
            else if (sub && (strcasecmp(sub, "vmware.sata.ahci") == 0 ||
                             strcasecmp(sub, "AHCI") == 0)) {
                if (ovf_add_controller(c, item, VMC_DISK_BUS_SATA,
                                       VMC_CONTROLLER_MODEL_AHCI) == -1)
                    return -1;
            }
            else if (vmc_vm_add_note(c->vm, "storage device '%s' is not "
                                     "a controller this reader knows: "
                                     "ignored", sub ? sub : "") == -1)
                return -1;
            break;
        }
    }
    return 0;
}

static int
ovf_read_items(struct ovf_ctx *c, xmlNode *env, xmlNode *vhs, bool vmware)
{
    xmlNode *item;

    for (item = vhs->children; item; item = item->next) {
        int rt;

        if (!ovf_is(c, item, "Item") && !ovf_is(c, item, "StorageItem") &&
            !ovf_is(c, item, "EthernetPortItem"))
            continue;
        rt = ovf_item_type(c, item);
        switch (rt) {
        case -1:
            return -1;
        case RT_CPU:
            if (ovf_item_cpu(c, item) == -1)
                return -1;
            break;
        case RT_MEMORY:
            if (ovf_item_memory(c, item) == -1)
                return -1;
            break;
        case RT_NIC:
            if (ovf_item_nic(c, item) == -1)
                return -1;
            break;
        case RT_DISK:
            if (ovf_item_disk(c, env, item) == -1)
                return -1;
            break;
        case RT_CD:
        case RT_DVD:
        case RT_FLOPPY:
            if (ovf_item_removable(c, item, rt) == -1)
                return -1;
            break;
        case RT_SERIAL: {
            struct vmc_serial *s = vmc_vm_add_serial(c->vm);

            if (s == NULL)
                return -1;
            s->index = (unsigned) c->vm->nr_serials - 1;
            break;
        }
        case RT_VIDEO:
            if (ovf_item_video(c, item, vmware) == -1)
                return -1;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- VM-level configuration ------------------------------------------ */

/* vmw:Config / vmw:ExtraConfig of the VirtualHardwareSection. */
static int
ovf_read_vmw_config(struct ovf_ctx *c, xmlNode *vhs)
{
    CLEANUP_FREE char *fw = ovf_vmw_config(vhs, "firmware");
    CLEANUP_FREE char *sb = ovf_vmw_config(vhs,
                                           "bootOptions.efiSecureBootEnabled");
    CLEANUP_FREE char *vhv = ovf_vmw_config(vhs, "nestedHVEnabled");
    CLEANUP_FREE char *vhv2 = ovf_vmw_config(vhs, "vhv.enable");
    CLEANUP_FREE char *uuid = ovf_vmw_config(vhs, "uuid.bios");
    CLEANUP_FREE char *nvram = ovf_vmw_config(vhs, "nvram");
    bool b;

    if (fw) {
        if (strcasecmp(fw, "efi") == 0)
            c->vm->firmware = VMC_FIRMWARE_UEFI;
        else if (strcasecmp(fw, "bios") == 0)
            c->vm->firmware = VMC_FIRMWARE_BIOS;
        else if (vmc_vm_add_note(c->vm, "firmware '%s' is unknown",
                                 fw) == -1)
            return -1;
    }
    if (sb && vmc_parse_bool(NULL, "", sb, &b) == 0)
        c->vm->secure_boot = b;
    if ((vhv && vmc_parse_bool(NULL, "", vhv, &b) == 0 && b) ||
        (vhv2 && vmc_parse_bool(NULL, "", vhv2, &b) == 0 && b))
        c->vm->nested_virt = true;
    if (uuid) {
        char u[VMC_UUID_LEN + 1];

        if (vmc_uuid_normalize(uuid, u) == 0 &&
            vmc_vm_set_string(c->vm, &c->vm->uuid, u) == -1)
            return -1;
    }
    if (nvram && ovf_host_resource(nvram, "file") &&
        (c->d->nvram_file = ovf_file_by_id(c, ovf_host_resource(nvram,
                                                                 "file")))
        >= 0)
        ;                       /* the package carries it */
    else if (nvram && vmc_vm_add_note(c->vm, "the source kept its firmware "
                                      "variables in '%s', which the OVF "
                                      "does not carry", nvram) == -1)
        return -1;
    return 0;
}

/* VirtualBox's own <vbox:Machine> section: firmware and UUID. */
static int
ovf_read_vbox(struct ovf_ctx *c, xmlNode *vs)
{
    xmlNode *m, *hw, *k;

    for (m = vs->children; m; m = m->next)
        if (m->type == XML_ELEMENT_NODE &&
            strcmp((const char *) m->name, "Machine") == 0 &&
            ovf_ns_is(m, NS_VBOX))
            break;
    if (m == NULL)
        return 0;
    for (k = m->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE &&
            strcmp((const char *) k->name, "Hardware") == 0)
            break;
    hw = k;
    if (hw) {
        for (k = hw->children; k; k = k->next) {
            CLEANUP_FREE char *type = NULL;

            if (k->type != XML_ELEMENT_NODE ||
                strcmp((const char *) k->name, "Firmware") != 0)
                continue;
            type = (char *) xmlGetNoNsProp(k, BAD_CAST "type");
            if (type && strncasecmp(type, "EFI", 3) == 0)
                c->vm->firmware = VMC_FIRMWARE_UEFI;
            else if (type && strcasecmp(type, "BIOS") == 0)
                c->vm->firmware = VMC_FIRMWARE_BIOS;
        }
    }
    if (c->vm->uuid == NULL) {
        CLEANUP_FREE char *uuid = (char *) xmlGetNoNsProp(m, BAD_CAST "uuid");
        char u[VMC_UUID_LEN + 1];

        if (uuid && vmc_uuid_normalize(uuid, u) == 0 &&
            vmc_vm_set_string(c->vm, &c->vm->uuid, u) == -1)
            return -1;
    }
    return 0;
}

/* vSphere guest ids (vmw:osType) to the model's OS hint. */
static const struct {
    const char *prefix;
    enum vmc_os_family family;
    const char *distro;
} ovf_vmw_os[] = {
    { "win", VMC_OS_FAMILY_WINDOWS, "windows" },
    { "rhel", VMC_OS_FAMILY_LINUX, "rhel" },
    { "centos", VMC_OS_FAMILY_LINUX, "centos" },
    { "oraclelinux", VMC_OS_FAMILY_LINUX, "ol" },
    { "ubuntu", VMC_OS_FAMILY_LINUX, "ubuntu" },
    { "debian", VMC_OS_FAMILY_LINUX, "debian" },
    { "sles", VMC_OS_FAMILY_LINUX, "sles" },
    { "opensuse", VMC_OS_FAMILY_LINUX, "opensuse" },
    { "suse", VMC_OS_FAMILY_LINUX, "suse" },
    { "fedora", VMC_OS_FAMILY_LINUX, "fedora" },
    { "vmwarephoton", VMC_OS_FAMILY_LINUX, "photon" },
    { "amazonlinux", VMC_OS_FAMILY_LINUX, "amazon" },
    { "rockylinux", VMC_OS_FAMILY_LINUX, "rocky" },
    { "almalinux", VMC_OS_FAMILY_LINUX, "almalinux" },
    { "asianux", VMC_OS_FAMILY_LINUX, "asianux" },
    { "mandrake", VMC_OS_FAMILY_LINUX, "mandrake" },
    { "mandriva", VMC_OS_FAMILY_LINUX, "mandriva" },
    { "redhat", VMC_OS_FAMILY_LINUX, "redhat" },
    { "coreos", VMC_OS_FAMILY_LINUX, "coreos" },
    { "other24xlinux", VMC_OS_FAMILY_LINUX, NULL },
    { "other26xlinux", VMC_OS_FAMILY_LINUX, NULL },
    { "other3xlinux", VMC_OS_FAMILY_LINUX, NULL },
    { "other4xlinux", VMC_OS_FAMILY_LINUX, NULL },
    { "other5xlinux", VMC_OS_FAMILY_LINUX, NULL },
    { "otherlinux", VMC_OS_FAMILY_LINUX, NULL },
    { "darwin", VMC_OS_FAMILY_OTHER, "macos" },
    { "freebsd", VMC_OS_FAMILY_OTHER, "freebsd" },
    { "solaris", VMC_OS_FAMILY_OTHER, "solaris" },
    { "netware", VMC_OS_FAMILY_OTHER, "netware" },
    { "os2", VMC_OS_FAMILY_OTHER, "os2" },
    { "dos", VMC_OS_FAMILY_OTHER, "dos" },
};

/* Windows versions by the id's start (longest first where they share
 * one).
 */
static const struct { const char *prefix; const char *version; }
ovf_win_version[] = {
    { "windows2019srvnext", "2022" }, { "windows2019srv", "2019" },
    { "windows2022srvnext", "2025" }, { "windows2022srv", "2022" },
    { "windows9server", "2016" }, { "windows8server", "2012" },
    { "windows7server", "2008r2" }, { "windows11", "11" },
    { "windows9", "10" }, { "windows8", "8" }, { "windows7", "7" },
    { "winlonghorn", "2008" }, { "winvista", "vista" },
    { "winnet", "2003" }, { "winxp", "xp" }, { "win2000", "2000" },
    { "winnt", "nt" }, { "winme", "me" }, { "win98", "98" },
    { "win95", "95" }, { "win31", "3.1" },
};

static int
ovf_os_from_vmw(struct ovf_ctx *c, const char *id)
{
    CLEANUP_FREE char *low = strdup(id);
    size_t i, len;
    char *p;

    if (low == NULL) {
        vmc_error(c->h, "%s: out of memory", c->name);
        return -1;
    }
    for (p = low; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    len = strlen(low);
    if (len > 5 && strcmp(low + len - 5, "guest") == 0)
        low[len -= 5] = '\0';
    if (vmc_vm_set_string(c->vm, &c->vm->os_id, id) == -1)
        return -1;
    if (strstr(low, "arm64") || strstr(low, "aarch64"))
        p = "aarch64";
    else if (strstr(low, "64"))
        p = "x86_64";
    else
        p = "i686";
    if (strcmp(low, "other") != 0 &&
        vmc_vm_set_string(c->vm, &c->vm->os_arch, p) == -1)
        return -1;
    for (i = 0; i < sizeof ovf_vmw_os / sizeof ovf_vmw_os[0]; i++) {
        size_t pl = strlen(ovf_vmw_os[i].prefix);

        if (strncmp(low, ovf_vmw_os[i].prefix, pl) != 0)
            continue;
        c->vm->os_family = ovf_vmw_os[i].family;
        if (ovf_vmw_os[i].distro &&
            vmc_vm_set_string(c->vm, &c->vm->os_distro,
                              ovf_vmw_os[i].distro) == -1)
            return -1;
        if (c->vm->os_family == VMC_OS_FAMILY_WINDOWS) {
            size_t j;

            for (j = 0; j < sizeof ovf_win_version / sizeof ovf_win_version[0];
                 j++)
                if (strncmp(low, ovf_win_version[j].prefix,
                            strlen(ovf_win_version[j].prefix)) == 0)
                    return vmc_vm_set_string(c->vm, &c->vm->os_version,
                                             ovf_win_version[j].version);
        }
        else if (ovf_vmw_os[i].distro) {
            /* "rhel9_64", "debian10_64", "sles15_64": the number. */
            const char *v = low + pl;
            size_t n = strspn(v, "0123456789");

            if (n > 0 && n < 4) {
                char ver[4];

                memcpy(ver, v, n);
                ver[n] = '\0';
                if (strcmp(ver, "64") != 0 || v[n] != '\0')
                    return vmc_vm_set_string(c->vm, &c->vm->os_version,
                                             ver);
            }
        }
        return 0;
    }
    return 0;
}

/* CIM_OperatingSystem OSType numbers (OperatingSystemSection ovf:id),
 * used when no vmw:osType says more: the common ones.
 */
static const struct {
    unsigned id;
    enum vmc_os_family family;
    const char *distro;
    const char *version;
    const char *arch;
} ovf_cim_os[] = {
    { 36, VMC_OS_FAMILY_LINUX, NULL, NULL, NULL },
    { 58, VMC_OS_FAMILY_WINDOWS, "windows", "2000", "i686" },
    { 67, VMC_OS_FAMILY_WINDOWS, "windows", "xp", "i686" },
    { 69, VMC_OS_FAMILY_WINDOWS, "windows", "2003", "i686" },
    { 70, VMC_OS_FAMILY_WINDOWS, "windows", "2003", "x86_64" },
    { 71, VMC_OS_FAMILY_WINDOWS, "windows", "xp", "x86_64" },
    { 73, VMC_OS_FAMILY_WINDOWS, "windows", "vista", "i686" },
    { 74, VMC_OS_FAMILY_WINDOWS, "windows", "vista", "x86_64" },
    { 76, VMC_OS_FAMILY_WINDOWS, "windows", "2008", "i686" },
    { 77, VMC_OS_FAMILY_WINDOWS, "windows", "2008", "x86_64" },
    { 79, VMC_OS_FAMILY_LINUX, "rhel", NULL, "i686" },
    { 80, VMC_OS_FAMILY_LINUX, "rhel", NULL, "x86_64" },
    { 83, VMC_OS_FAMILY_LINUX, "suse", NULL, "i686" },
    { 84, VMC_OS_FAMILY_LINUX, "suse", NULL, "x86_64" },
    { 85, VMC_OS_FAMILY_LINUX, "sles", NULL, "i686" },
    { 86, VMC_OS_FAMILY_LINUX, "sles", NULL, "x86_64" },
    { 93, VMC_OS_FAMILY_LINUX, "debian", NULL, "i686" },
    { 94, VMC_OS_FAMILY_LINUX, "debian", NULL, "x86_64" },
    { 97, VMC_OS_FAMILY_LINUX, NULL, NULL, "i686" },
    { 98, VMC_OS_FAMILY_LINUX, NULL, NULL, "x86_64" },
    { 99, VMC_OS_FAMILY_LINUX, NULL, NULL, "x86_64" },
    { 101, VMC_OS_FAMILY_WINDOWS, "windows", "2008r2", "x86_64" },
    { 103, VMC_OS_FAMILY_WINDOWS, "windows", "7", NULL },
    { 104, VMC_OS_FAMILY_LINUX, "centos", NULL, "i686" },
    { 105, VMC_OS_FAMILY_LINUX, "centos", NULL, "x86_64" },
    { 106, VMC_OS_FAMILY_LINUX, "ol", NULL, "i686" },
    { 107, VMC_OS_FAMILY_LINUX, "ol", NULL, "x86_64" },
};

static int
ovf_read_os(struct ovf_ctx *c, xmlNode *vs)
{
    xmlNode *os = ovf_child(c, vs, "OperatingSystemSection");
    CLEANUP_FREE char *vmw = NULL, *id = NULL;
    uint64_t cim;
    size_t i;

    if (os == NULL)
        return 0;
    vmw = ovf_attr_ns(os, "osType", NS_VMW);
    if (vmw && *vmw)
        return ovf_os_from_vmw(c, vmw);
    id = ovf_attr(c, os, "id");
    if (id == NULL || ovf_uint(c, os, "ovf:id", id, 65535, &cim) == -1)
        return id ? -1 : 0;
    {
        char buf[32];

        snprintf(buf, sizeof buf, "cim:%" PRIu64, cim);
        if (vmc_vm_set_string(c->vm, &c->vm->os_id, buf) == -1)
            return -1;
    }
    for (i = 0; i < sizeof ovf_cim_os / sizeof ovf_cim_os[0]; i++) {
        if (ovf_cim_os[i].id != cim)
            continue;
        c->vm->os_family = ovf_cim_os[i].family;
        if (vmc_vm_set_string(c->vm, &c->vm->os_distro,
                              ovf_cim_os[i].distro) == -1 ||
            vmc_vm_set_string(c->vm, &c->vm->os_version,
                              ovf_cim_os[i].version) == -1 ||
            vmc_vm_set_string(c->vm, &c->vm->os_arch,
                              ovf_cim_os[i].arch) == -1)
            return -1;
    }
    if (cim == 1)
        c->vm->os_family = VMC_OS_FAMILY_OTHER;
    return 0;
}

/* The hardware family: "vmx-13", "vmx-14 vmx-20" (the highest is
 * kept), "virtualbox-2.2".  Returns true for a VMware family.
 */
static int
ovf_read_system(struct ovf_ctx *c, xmlNode *vhs, bool *vmware)
{
    xmlNode *sys = ovf_child(c, vhs, "System"), *k;
    CLEANUP_FREE char *type = NULL;
    unsigned best = 0, v;
    const char *p;

    *vmware = false;
    if (sys == NULL)
        return 0;
    for (k = sys->children; k; k = k->next)
        if (ovf_is_cim(k, "VirtualSystemType"))
            type = ovf_text(k);
    if (type == NULL || *type == '\0')
        return 0;
    for (p = type; (p = strstr(p, "vmx-")) != NULL; p += 4)
        if (sscanf(p + 4, "%u", &v) == 1 && v > best && v < 1000)
            best = v;
    if (best) {
        char buf[16];

        *vmware = true;
        snprintf(buf, sizeof buf, "vmx-%02u", best);
        return vmc_vm_set_string(c->vm, &c->vm->source_version, buf);
    }
    return vmc_vm_set_string(c->vm, &c->vm->source_version, type);
}

/* The VirtualSystem VS into c->vm. */
static int
ovf_read_system_vs(struct ovf_ctx *c, xmlNode *env, xmlNode *vs)
{
    xmlNode *vhs = ovf_child(c, vs, "VirtualHardwareSection");
    xmlNode *name = ovf_child(c, vs, "Name");
    xmlNode *ann = ovf_child(c, vs, "AnnotationSection");
    CLEANUP_FREE char *id = ovf_attr(c, vs, "id");
    bool vmware = false;

    if (name) {
        CLEANUP_FREE char *t = ovf_text(name);

        if (t && *t && vmc_vm_set_string(c->vm, &c->vm->name, t) == -1)
            return -1;
    }
    if (c->vm->name == NULL && id &&
        vmc_vm_set_string(c->vm, &c->vm->name, id) == -1)
        return -1;
    if (ann && ovf_child(c, ann, "Annotation")) {
        CLEANUP_FREE char *t = ovf_text(ovf_child(c, ann, "Annotation"));

        if (t && *t &&
            vmc_vm_set_string(c->vm, &c->vm->description, t) == -1)
            return -1;
    }
    if (vhs == NULL) {
        ovf_err(c, vs, "no VirtualHardwareSection");
        return -1;
    }
    if (ovf_read_system(c, vhs, &vmware) == -1 ||
        ovf_read_os(c, vs) == -1 ||
        ovf_read_controllers(c, vhs) == -1 ||
        ovf_read_items(c, env, vhs, vmware) == -1 ||
        ovf_read_vmw_config(c, vhs) == -1 ||
        ovf_read_vbox(c, vs) == -1)
        return -1;
    if (c->vm->vcpus == 0 &&
        vmc_vm_add_note(c->vm, "the OVF lists no CPU Item") == -1)
        return -1;
    if (c->vm->memory == 0 &&
        vmc_vm_add_note(c->vm, "the OVF lists no memory Item") == -1)
        return -1;
    return 0;
}

/* ---- Systems of a collection ------------------------------------------ */

/* Append the VirtualSystems under N (recursively through nested
 * collections) to LIST.
 */
static int
ovf_collect_systems(struct ovf_ctx *c, xmlNode *n, xmlNode **list,
                    size_t *nr, unsigned depth)
{
    xmlNode *k;

    if (depth > 16) {
        ovf_err(c, n, "VirtualSystemCollections nested too deep");
        return -1;
    }
    for (k = n->children; k; k = k->next) {
        if (ovf_is(c, k, "VirtualSystem")) {
            if (*nr >= OVF_MAX_SYSTEMS) {
                ovf_err(c, k, "more than %d VirtualSystems", OVF_MAX_SYSTEMS);
                return -1;
            }
            list[(*nr)++] = k;
        }
        else if (ovf_is(c, k, "VirtualSystemCollection") &&
                 ovf_collect_systems(c, k, list, nr, depth + 1) == -1)
            return -1;
    }
    return 0;
}

/* The name a user picks VS by: its Name, else its ovf:id (malloc'd). */
static char *
ovf_system_name(struct ovf_ctx *c, xmlNode *vs)
{
    xmlNode *name = ovf_child(c, vs, "Name");
    char *t = name ? ovf_text(name) : NULL;

    if (t && *t)
        return t;
    free(t);
    return ovf_attr(c, vs, "id");
}

static bool
ovf_system_matches(struct ovf_ctx *c, xmlNode *vs, const char *want)
{
    CLEANUP_FREE char *id = ovf_attr(c, vs, "id");
    CLEANUP_FREE char *name = ovf_system_name(c, vs);

    return (id && strcmp(id, want) == 0) || (name && strcmp(name, want) == 0);
}

/* Pick the VirtualSystem to read: the only one, or VM_NAME. */
static xmlNode *
ovf_pick_system(struct ovf_ctx *c, xmlNode *env, const char *vm_name)
{
    xmlNode *list[OVF_MAX_SYSTEMS];
    size_t nr = 0, i;
    char *names = NULL;
    size_t len = 0;
    FILE *fp;

    if (ovf_collect_systems(c, env, list, &nr, 0) == -1)
        return NULL;
    if (nr == 0) {
        ovf_err(c, env, "no VirtualSystem");
        return NULL;
    }
    if (vm_name) {
        for (i = 0; i < nr; i++)
            if (ovf_system_matches(c, list[i], vm_name))
                return list[i];
    }
    else if (nr == 1)
        return list[0];

    fp = open_memstream(&names, &len);
    if (fp == NULL) {
        vmc_error(c->h, "%s: out of memory", c->name);
        return NULL;
    }
    for (i = 0; i < nr && i < 32; i++) {
        CLEANUP_FREE char *n = ovf_system_name(c, list[i]);

        fprintf(fp, "%s'%.200s'", i ? ", " : "", n ? n : "?");
    }
    if (nr > 32)
        fprintf(fp, " and %zu more", nr - 32);
    fclose(fp);
    if (vm_name)
        vmc_error(c->h, "%s: no VirtualSystem called '%s' (the package "
                  "holds %s)", c->name, vm_name, names ? names : "");
    else
        vmc_error(c->h, "%s: the package is a vApp of %zu virtual machines "
                  "(%s): pick one with the parameter vm=NAME", c->name, nr,
                  names ? names : "");
    free(names);
    return NULL;
}

/* ---- Entry point -------------------------------------------------- */

void
ovf_desc_free(struct ovf_desc *d)
{
    size_t i;

    if (d == NULL)
        return;
    vmc_vm_free(d->vm);
    for (i = 0; i < d->nr_files; i++) {
        free(d->files[i].id);
        free(d->files[i].href);
    }
    free(d->files);
    free(d->refs);
    memset(d, 0, sizeof *d);
}

int
ovf_parse(struct vmc_handle *h, const char *name, const void *buf,
          size_t len, const char *vm_name, struct ovf_desc *d)
{
    CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
    struct ovf_ctx c = { .h = h, .name = name, .d = d };
    xmlNode *env, *vs;
    size_t i;
    int r = -1;

    memset(d, 0, sizeof *d);
    d->nvram_file = -1;
    doc = vmc_xml_read_memory(h, buf, len, name);
    if (doc == NULL)
        return -1;
    env = xmlDocGetRootElement(doc);
    if (env == NULL || strcmp((const char *) env->name, "Envelope") != 0 ||
        !(ovf_ns_is(env, NS_OVF1) || ovf_ns_is(env, NS_OVF2))) {
        /* OVF 0.9 (VMware, before the DMTF standard) has another
         * namespace; oVirt's OVF is an Envelope of its own kind.
         */
        vmc_error(h, "%s: not an OVF 1.x or 2.0 envelope (root element "
                  "<%s> in namespace '%s')", name,
                  env ? (const char *) env->name : "",
                  env && env->ns && env->ns->href
                  ? (const char *) env->ns->href : "");
        return -1;
    }
    c.ns = env->ns->href;
    d->vm = vmc_vm_new(h);
    if (d->vm == NULL)
        return -1;
    c.vm = d->vm;
    if (ovf_read_references(&c, ovf_child(&c, env, "References")) == -1)
        goto out;
    vs = ovf_pick_system(&c, env, vm_name);
    if (vs == NULL)
        goto out;
    if (ovf_read_system_vs(&c, env, vs) == -1)
        goto out;
    r = 0;
out:
    for (i = 0; i < c.nr_ctrl; i++)
        free(c.ctrl[i].id);
    free(c.ctrl);
    return r;
}
