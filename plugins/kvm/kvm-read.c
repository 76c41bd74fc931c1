/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv kvm plugin: a libvirt domain XML document into the VM model.
 *
 * The document comes from the safe reader (no entities, no network).
 * Everything read is checked: a value that cannot be right (a memory
 * size past 16 TiB, 100000 vCPUs, a malformed MAC) is one error naming
 * the document, the line and the element.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/tree.h>

#include <vmconv/plugin.h>

#include "kvm-internal.h"

/* Limits past which a value is refused as absurd. */
#define KVM_MAX_MEMORY (UINT64_C(16) << 40)   /* 16 TiB */
#define KVM_MAX_VCPUS 4096
#define KVM_MAX_BOOT_ORDER 65535

struct rd {
    struct vmc_handle *h;
    struct vmc_vm *vm;
    const char *name;            /* the document, in messages */
    const char *base;            /* relative source paths, or NULL */
    void *conn;                  /* virConnectPtr or NULL */
};

static bool
is_el(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE &&
        strcmp((const char *) n->name, name) == 0;
}

/* The first child element NAME of N, or NULL. */
static xmlNode *
child(const xmlNode *n, const char *name)
{
    xmlNode *c;

    for (c = n ? n->children : NULL; c; c = c->next)
        if (is_el(c, name))
            return c;
    return NULL;
}

/* Attribute NAME of N (malloc'd by libxml2; xmlFree it), or NULL. */
static char *
attr(const xmlNode *n, const char *name)
{
    return n ? (char *) xmlGetNoNsProp(n, (const xmlChar *) name) : NULL;
}

/* The text of N, trimmed (malloc'd with malloc), or NULL when N is
 * NULL or out of memory.
 */
static char *
text(const xmlNode *n)
{
    xmlChar *t;
    char *s, *e, *r;

    if (n == NULL)
        return NULL;
    t = xmlNodeGetContent(n);
    if (t == NULL)
        return NULL;
    s = (char *) t;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                     e[-1] == '\r'))
        e--;
    r = strndup(s, (size_t) (e - s));
    xmlFree(t);
    return r;
}

static void
oom(struct rd *r)
{
    vmc_error(r->h, "out of memory");
}

/* One error: "NAME: line N: MESSAGE". */
static void bad(struct rd *r, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
bad(struct rd *r, const xmlNode *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vmc_error_kind(r->h, VMC_ERR_BAD_INPUT, "%s: line %ld: %s", r->name,
                   n ? xmlGetLineNo(n) : 0L, msg);
}

/* An unsigned number (decimal, or hex with 0x as libvirt accepts) at
 * most MAX.
 */
static int
parse_num(struct rd *r, const xmlNode *n, const char *what, const char *s,
          uint64_t max, uint64_t *val)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ') {
        bad(r, n, "%s: '%s' is not a number", what, s);
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno == ERANGE || (uint64_t) v > max) {
        bad(r, n, "%s: %s is out of range", what, s);
        return -1;
    }
    if (errno || *end != '\0') {
        bad(r, n, "%s: '%s' is not a number", what, s);
        return -1;
    }
    *val = v;
    return 0;
}

/* An unsigned attribute NAME of N (absent: *VAL untouched, returns 0). */
static int
attr_num(struct rd *r, const xmlNode *n, const char *name, const char *what,
         uint64_t max, uint64_t *val)
{
    char *s = attr(n, name);
    int ret = 0;

    if (s) {
        ret = parse_num(r, n, what, s, max, val);
        xmlFree(s);
    }
    return ret;
}

/* A libvirt scaled size: VALUE in UNIT (libvirt's units: b, bytes, KB,
 * k, KiB, MB, M, MiB ... EiB; DEFUNIT when none) into bytes.
 */
static int
scaled(struct rd *r, const xmlNode *n, const char *what, uint64_t defunit,
       uint64_t max, uint64_t *bytes)
{
    static const struct { const char *u; uint64_t m; } units[] = {
        { "b", 1 }, { "bytes", 1 },
        { "KB", 1000 }, { "k", 1024 }, { "K", 1024 }, { "KiB", 1024 },
        { "MB", 1000000 }, { "m", 1 << 20 }, { "M", 1 << 20 },
        { "MiB", 1 << 20 },
        { "GB", 1000000000 }, { "g", 1 << 30 }, { "G", 1 << 30 },
        { "GiB", 1 << 30 },
        { "TB", UINT64_C(1000000000000) }, { "t", UINT64_C(1) << 40 },
        { "T", UINT64_C(1) << 40 }, { "TiB", UINT64_C(1) << 40 },
        { "PB", UINT64_C(1000000000000000) }, { "p", UINT64_C(1) << 50 },
        { "P", UINT64_C(1) << 50 }, { "PiB", UINT64_C(1) << 50 },
        { "EB", UINT64_C(1000000000000000000) }, { "e", UINT64_C(1) << 60 },
        { "E", UINT64_C(1) << 60 }, { "EiB", UINT64_C(1) << 60 },
    };
    char *u = attr(n, "unit"), *t = text(n);
    uint64_t mult = defunit, v;
    size_t i;
    int ret = -1;

    if (t == NULL) {
        oom(r);
        goto out;
    }
    if (u) {
        for (i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strcmp(u, units[i].u) == 0)
                break;
        if (i == sizeof units / sizeof units[0]) {
            bad(r, n, "%s: unit '%s' is not a libvirt size unit", what, u);
            goto out;
        }
        mult = units[i].m;
    }
    if (parse_num(r, n, what, t, UINT64_MAX, &v) == -1)
        goto out;
    if (v > max / mult) {
        char buf[160];

        snprintf(buf, sizeof buf, "%s%s%s", t, u ? " " : "", u ? u : "");
        bad(r, n, "%s: %s is absurd (more than 16 TiB)", what, buf);
        goto out;
    }
    *bytes = v * mult;
    ret = 0;
 out:
    xmlFree(u);
    free(t);
    return ret;
}

static int
set(struct rd *r, char **field, const char *value)
{
    return vmc_vm_set_string(r->vm, field, value);
}

/* ---- Identity, CPU, memory, firmware -------------------------------- */

static int
read_identity(struct rd *r, const xmlNode *dom)
{
    const xmlNode *n;
    char uuid[VMC_UUID_LEN + 1];
    char *t;
    int ret = -1;

    n = child(dom, "name");
    t = text(n);
    if (t == NULL || *t == '\0') {
        free(t);
        bad(r, n ? n : dom, "<domain> has no <name>");
        return -1;
    }
    if (set(r, &r->vm->name, t) == -1)
        goto out;
    free(t);
    t = NULL;
    if ((n = child(dom, "uuid")) != NULL) {
        t = text(n);
        if (t == NULL || vmc_uuid_normalize(t, uuid) == -1) {
            bad(r, n, "%s: '%s' is not a UUID", "<uuid>", t);
            goto out;
        }
        if (set(r, &r->vm->uuid, uuid) == -1)
            goto out;
        free(t);
        t = NULL;
    }
    if ((n = child(dom, "genid")) != NULL) {
        t = text(n);
        /* <genid/> asks libvirt to make one: nothing to keep. */
        if (t && *t) {
            if (vmc_uuid_normalize(t, uuid) == -1) {
                bad(r, n, "%s: '%s' is not a UUID", "<genid>", t);
                goto out;
            }
            if (set(r, &r->vm->genid, uuid) == -1)
                goto out;
        }
        free(t);
        t = NULL;
    }
    if ((n = child(dom, "description")) != NULL) {
        t = text(n);
        if (t && *t && set(r, &r->vm->description, t) == -1)
            goto out;
    }
    ret = 0;
 out:
    free(t);
    return ret;
}

static int
read_cpu_memory(struct rd *r, const xmlNode *dom)
{
    const xmlNode *n, *cpu, *topo;
    uint64_t v, sockets = 0, dies = 1, cores = 0, threads = 0;
    char *t;

    n = child(dom, "memory");
    if (n == NULL) {
        bad(r, dom, "<domain> has no <memory>");
        return -1;
    }
    if (scaled(r, n, "<memory>", 1024, KVM_MAX_MEMORY, &r->vm->memory) == -1)
        return -1;
    if (r->vm->memory == 0) {
        bad(r, n, "<memory> is 0");
        return -1;
    }
    r->vm->vcpus = 1;
    if ((n = child(dom, "vcpu")) != NULL) {
        t = text(n);
        if (t == NULL) {
            oom(r);
            return -1;
        }
        if (parse_num(r, n, "<vcpu>", t, KVM_MAX_VCPUS, &v) == -1) {
            free(t);
            return -1;
        }
        free(t);
        if (v == 0) {
            bad(r, n, "<vcpu> is 0");
            return -1;
        }
        r->vm->vcpus = (unsigned) v;
    }
    cpu = child(dom, "cpu");
    /* Nested virtualisation: the guest is given vmx or svm. */
    for (n = cpu ? cpu->children : NULL; n; n = n->next) {
        char *fname, *policy;

        if (!is_el(n, "feature"))
            continue;
        fname = attr(n, "name");
        policy = attr(n, "policy");
        if (fname && (strcmp(fname, "vmx") == 0 || strcmp(fname, "svm") == 0) &&
            (policy == NULL || strcmp(policy, "require") == 0 ||
             strcmp(policy, "force") == 0 || strcmp(policy, "optional") == 0))
            r->vm->nested_virt = true;
        xmlFree(fname);
        xmlFree(policy);
    }
    topo = child(cpu, "topology");
    if (topo) {
        if (attr_num(r, topo, "sockets", "<topology sockets>", KVM_MAX_VCPUS,
                     &sockets) == -1 ||
            attr_num(r, topo, "dies", "<topology dies>", KVM_MAX_VCPUS,
                     &dies) == -1 ||
            attr_num(r, topo, "cores", "<topology cores>", KVM_MAX_VCPUS,
                     &cores) == -1 ||
            attr_num(r, topo, "threads", "<topology threads>", KVM_MAX_VCPUS,
                     &threads) == -1)
            return -1;
        if (sockets == 0 || dies == 0 || cores == 0 || threads == 0) {
            bad(r, topo, "<topology> needs sockets, cores and "
                "threads of at least 1");
            return -1;
        }
        if (sockets * dies * cores * threads != r->vm->vcpus) {
            char buf[256];

            snprintf(buf, sizeof buf, "%" PRIu64 " x %" PRIu64 " x %" PRIu64
                     " x %" PRIu64 " (sockets x dies x cores x threads) is "
                     "not %u", sockets, dies, cores, threads, r->vm->vcpus);
            bad(r, topo, "<topology>: %s", buf);
            return -1;
        }
        if (dies > 1 && vmc_vm_add_note(r->vm, "the CPU topology has %"
                                        PRIu64 " dies per socket: they are "
                                        "counted as cores", dies) == -1)
            return -1;
        r->vm->cpu_sockets = (unsigned) sockets;
        r->vm->cpu_cores = (unsigned) (cores * dies);
        r->vm->cpu_threads = (unsigned) threads;
    }
    return 0;
}

static bool
path_is_uefi(const char *p)
{
    return p && (strstr(p, "OVMF") || strstr(p, "AAVMF") ||
                 strstr(p, "edk2") || strstr(p, "QEMU_EFI") ||
                 strstr(p, "ovmf") || strstr(p, "uefi") || strstr(p, "UEFI"));
}

static int
read_os(struct rd *r, const xmlNode *dom, xmlNode **boot_devs,
        size_t *nr_boot_devs)
{
    const xmlNode *os = child(dom, "os"), *n, *c;
    char *s = NULL, *t = NULL, *name = NULL;
    int ret = -1;

    *nr_boot_devs = 0;
    if (os == NULL) {
        bad(r, dom, "<domain> has no <os>");
        return -1;
    }
    n = child(os, "type");
    t = text(n);
    if (t == NULL || strcmp(t, "hvm") != 0) {
        bad(r, n ? n : os, "<os><type> is '%s': only full virtualization "
            "(hvm) guests can be converted", t ? t : "");
        goto out;
    }
    if ((s = attr(n, "machine")) && set(r, &r->vm->machine, s) == -1)
        goto out;
    xmlFree(s);
    if ((s = attr(n, "arch")) && set(r, &r->vm->os_arch, s) == -1)
        goto out;
    xmlFree(s);
    s = NULL;

    /* Firmware: <os firmware='efi'>, or a loader that is UEFI. */
    s = attr(os, "firmware");
    if (s && strcmp(s, "efi") == 0)
        r->vm->firmware = VMC_FIRMWARE_UEFI;
    else if (s && strcmp(s, "bios") == 0)
        r->vm->firmware = VMC_FIRMWARE_BIOS;
    xmlFree(s);
    s = NULL;
    if ((n = child(os, "loader")) != NULL) {
        char *type = attr(n, "type"), *secure = attr(n, "secure");
        char *path = text(n);

        if (r->vm->firmware == VMC_FIRMWARE_UNKNOWN)
            r->vm->firmware = (type && strcmp(type, "pflash") == 0) ||
                path_is_uefi(path) ? VMC_FIRMWARE_UEFI : VMC_FIRMWARE_BIOS;
        if (secure && strcmp(secure, "yes") == 0)
            r->vm->secure_boot = true;
        xmlFree(type);
        xmlFree(secure);
        free(path);
    }
    for (n = child(child(os, "firmware"), "feature"); n; n = n->next) {
        char *en, *fname;

        if (!is_el(n, "feature"))
            continue;
        en = attr(n, "enabled");
        fname = attr(n, "name");
        if (fname && strcmp(fname, "secure-boot") == 0)
            r->vm->secure_boot = en && strcmp(en, "yes") == 0;
        xmlFree(en);
        xmlFree(fname);
    }
    if (r->vm->secure_boot && r->vm->firmware != VMC_FIRMWARE_UEFI)
        r->vm->firmware = VMC_FIRMWARE_UEFI;
    if ((n = child(os, "nvram")) != NULL) {
        char *p = NULL;

        if ((c = child(n, "source")) != NULL)
            p = attr(c, "file");
        else
            p = (char *) xmlNodeGetContent(n);
        if (p && *p) {
            if (set(r, &r->vm->nvram_path, p) == -1) {
                xmlFree(p);
                goto out;
            }
            r->vm->nvram_kind = VMC_NVRAM_KIND_OVMF_VARS;
        }
        xmlFree(p);
    }
    if (r->vm->firmware == VMC_FIRMWARE_UNKNOWN && r->vm->os_arch &&
        (strcmp(r->vm->os_arch, "x86_64") == 0 ||
         strcmp(r->vm->os_arch, "i686") == 0))
        r->vm->firmware = VMC_FIRMWARE_BIOS;
    /* Legacy boot order: <boot dev='hd|cdrom|fd|network'/>. */
    for (c = os->children; c; c = c->next)
        if (is_el(c, "boot") && *nr_boot_devs < 4)
            boot_devs[(*nr_boot_devs)++] = (xmlNode *) c;
    ret = 0;
 out:
    xmlFree(s);
    free(t);
    free(name);
    return ret;
}

static int
read_clock_features(struct rd *r, const xmlNode *dom)
{
    const xmlNode *n = child(dom, "clock");
    char *off, *basis;
    int ret = 0;

    r->vm->clock = VMC_CLOCK_UTC;
    if (n == NULL)
        return 0;
    off = attr(n, "offset");
    basis = attr(n, "basis");
    if (off == NULL || strcmp(off, "utc") == 0)
        r->vm->clock = VMC_CLOCK_UTC;
    else if (strcmp(off, "localtime") == 0)
        r->vm->clock = VMC_CLOCK_LOCALTIME;
    else if (strcmp(off, "variable") == 0) {
        char *adj = attr(n, "adjustment");

        r->vm->clock = basis && strcmp(basis, "localtime") == 0 ?
            VMC_CLOCK_LOCALTIME : VMC_CLOCK_UTC;
        if (adj) {
            char *end;
            long long v;

            errno = 0;
            v = strtoll(adj, &end, 10);
            if (errno || *end || end == adj || v > INT64_C(3153600000) ||
                v < -INT64_C(3153600000)) {
                bad(r, n, "<clock adjustment>: '%s' is not a number of "
                    "seconds", adj);
                ret = -1;
            }
            else
                r->vm->clock_offset = v;
            xmlFree(adj);
        }
    }
    else if (vmc_vm_add_note(r->vm, "clock offset '%s' is not kept: the "
                             "guest clock is taken as UTC", off) == -1)
        ret = -1;
    xmlFree(off);
    xmlFree(basis);
    return ret;
}

/* The guest OS from libosinfo's metadata ("http://redhat.com/rhel/9.2"). */
static int
read_osinfo(struct rd *r, const xmlNode *dom)
{
    const xmlNode *md = child(dom, "metadata"), *c, *os;
    char *id, *p, *last, *prev;
    int ret = 0;

    for (c = md ? md->children : NULL; c; c = c->next)
        if (is_el(c, "libosinfo"))
            break;
    os = child(c, "os");
    if (os == NULL || (id = attr(os, "id")) == NULL)
        return 0;
    if (set(r, &r->vm->os_id, id) == -1)
        ret = -1;
    if (strstr(id, "microsoft.com/win"))
        r->vm->os_family = VMC_OS_FAMILY_WINDOWS;
    else if (strstr(id, "redhat.com") || strstr(id, "fedoraproject.org") ||
             strstr(id, "ubuntu.com") || strstr(id, "debian.org") ||
             strstr(id, "suse.com") || strstr(id, "opensuse.org") ||
             strstr(id, "centos.org") || strstr(id, "archlinux.org") ||
             strstr(id, "alpinelinux.org") || strstr(id, "almalinux.org") ||
             strstr(id, "rockylinux.org") || strstr(id, "oracle.com/ol"))
        r->vm->os_family = VMC_OS_FAMILY_LINUX;
    else if (strcmp(id, "http://libosinfo.org/unknown") != 0)
        r->vm->os_family = VMC_OS_FAMILY_OTHER;
    /* .../DISTRO/VERSION */
    last = strrchr(id, '/');
    if (last && last > id) {
        *last = '\0';
        prev = strrchr(id, '/');
        p = prev ? prev + 1 : NULL;
        if (p && *p && strchr(p, '.') == NULL && ret == 0 &&
            (set(r, &r->vm->os_distro,
                 r->vm->os_family == VMC_OS_FAMILY_WINDOWS ? "windows" : p)
             == -1 ||
             (last[1] && strcmp(last + 1, "unknown") != 0 &&
              set(r, &r->vm->os_version, last + 1) == -1)))
            ret = -1;
    }
    xmlFree(id);
    return ret;
}

/* ---- Disks ----------------------------------------------------------- */

static int
bus_from_libvirt(const char *s)
{
    if (s == NULL)
        return VMC_DISK_BUS_UNKNOWN;
    if (strcmp(s, "ide") == 0) return VMC_DISK_BUS_IDE;
    if (strcmp(s, "sata") == 0) return VMC_DISK_BUS_SATA;
    if (strcmp(s, "scsi") == 0) return VMC_DISK_BUS_SCSI;
    if (strcmp(s, "virtio") == 0) return VMC_DISK_BUS_VIRTIO;
    if (strcmp(s, "nvme") == 0) return VMC_DISK_BUS_NVME;
    if (strcmp(s, "fdc") == 0) return VMC_DISK_BUS_FDC;
    if (strcmp(s, "usb") == 0) return VMC_DISK_BUS_USB;
    return -1;
}

/* The index in "sdb" (1), "hdaa" (26), or -1. */
static long
dev_index(const char *dev)
{
    const char *p;
    long idx = 0;

    if (dev == NULL || strlen(dev) < 3 || strlen(dev) > 6)
        return -1;
    for (p = dev + 2; *p; p++) {
        if (*p < 'a' || *p > 'z')
            return -1;
        idx = idx * 26 + (*p - 'a' + 1);
    }
    return idx - 1;
}

/* A source path as the configuration names it into DISK: SOURCE_REF,
 * and PATH when the file exists here.
 */
static int
disk_set_path(struct rd *r, struct vmc_disk *d, const char *p, int i)
{
    char *full = NULL;
    int ret = -1;

    if (set(r, &d->source_ref, p) == -1)
        return -1;
    if (p[0] != '/' && r->base) {
        if (asprintf(&full, "%s/%s", r->base, p) == -1) {
            full = NULL;
            oom(r);
            return -1;
        }
        p = full;
    }
    if (p[0] == '/' && access(p, F_OK) == 0) {
        if (set(r, &d->path, p) == -1)
            goto out;
    }
    else {
        d->missing = true;
        if (vmc_vm_add_note(r->vm, "disks[%d]: %s does not exist here", i,
                            d->source_ref) == -1)
            goto out;
    }
    ret = 0;
 out:
    free(full);
    return ret;
}

/* The backing chain under EL (<backingStore>, nested). */
static int
read_backing(struct rd *r, struct vmc_disk *d, const xmlNode *el)
{
    const xmlNode *bs, *src;
    unsigned depth = 0;

    for (bs = child(el, "backingStore"); bs; bs = child(bs, "backingStore")) {
        char *p;

        src = child(bs, "source");
        if (src == NULL)
            break;                  /* <backingStore/>: the chain ends */
        if (++depth > VMC_VM_MAX_BACKING) {
            bad(r, bs, "<backingStore> nests too deep");
            return -1;
        }
        p = attr(src, "file");
        if (p == NULL)
            p = attr(src, "dev");
        if (p == NULL) {
            bad(r, src, "<backingStore><source> names no file");
            return -1;
        }
        if (vmc_disk_add_backing(r->vm, d, p) == -1) {
            xmlFree(p);
            return -1;
        }
        xmlFree(p);
    }
    return 0;
}

static int
read_disk(struct rd *r, const xmlNode *el, int i)
{
    struct vmc_disk *d;
    const xmlNode *n;
    char *type = attr(el, "type"), *device = attr(el, "device");
    char *s = NULL, *dev = NULL, *bus = NULL;
    uint64_t v;
    long idx;
    int b, ret = -1;

    d = vmc_vm_add_disk(r->vm);
    if (d == NULL)
        goto out;
    if (device == NULL || strcmp(device, "disk") == 0)
        d->device = VMC_DISK_DEVICE_DISK;
    else if (strcmp(device, "cdrom") == 0)
        d->device = VMC_DISK_DEVICE_CDROM;
    else if (strcmp(device, "floppy") == 0)
        d->device = VMC_DISK_DEVICE_FLOPPY;
    else if (strcmp(device, "lun") == 0)
        d->device = VMC_DISK_DEVICE_LUN;
    else {
        bad(r, el, "<disk device='%s'> is not a disk, cdrom, floppy or "
            "lun", device);
        goto out;
    }
    d->reference_only = d->device == VMC_DISK_DEVICE_CDROM ||
        d->device == VMC_DISK_DEVICE_LUN;

    if ((n = child(el, "driver")) != NULL && (s = attr(n, "type")) != NULL) {
        if (strcmp(s, "aio") != 0 && set(r, &d->format, s) == -1)
            goto out;
        xmlFree(s);
        s = NULL;
    }

    n = child(el, "source");
    if (type == NULL || strcmp(type, "file") == 0 ||
        strcmp(type, "block") == 0) {
        s = attr(n, type && strcmp(type, "block") == 0 ? "dev" : "file");
        if (s && *s && disk_set_path(r, d, s, i) == -1)
            goto out;
    }
    else if (strcmp(type, "volume") == 0 && n) {
        char *pool = attr(n, "pool"), *vol = attr(n, "volume"), *p = NULL;
        char what[64];
        int rc = 0;

        snprintf(what, sizeof what, "%s: disks[%d]", r->name, i);
        if (pool == NULL || vol == NULL) {
            bad(r, n, "<source> of a volume disk needs pool and "
                "volume");
            rc = -1;
        }
        else if (asprintf(&s, "%s/%s", pool, vol) == -1) {
            s = NULL;
            oom(r);
            rc = -1;
        }
        else if (r->conn == NULL) {
            rc = set(r, &d->source_ref, s);
            d->missing = true;
            if (rc == 0)
                rc = vmc_vm_add_note(r->vm, "disks[%d]: volume %s of pool "
                                     "%s is resolved only through libvirt "
                                     "(uri=URI)", i, vol, pool);
        }
        else if ((p = kvm_virt_volume_path(r->h, r->conn, pool, vol,
                                           what)) == NULL)
            rc = -1;
        else
            rc = disk_set_path(r, d, p, i);
        free(p);
        xmlFree(pool);
        xmlFree(vol);
        if (rc == -1)
            goto out;
    }
    else if (vmc_vm_add_note(r->vm, "disks[%d]: a <disk type='%s'> is not "
                             "read: the drive is taken as empty", i,
                             type) == -1)
        goto out;
    xmlFree(s);
    s = NULL;

    if (read_backing(r, d, el) == -1)
        goto out;

    n = child(el, "target");
    dev = attr(n, "dev");
    bus = attr(n, "bus");
    if (n == NULL || dev == NULL) {
        bad(r, n ? n : el, "<disk> has no <target dev>");
        goto out;
    }
    b = bus_from_libvirt(bus);
    if (b == -1) {
        bad(r, n, "<target bus='%s'> is not a bus vmconv knows", bus);
        goto out;
    }
    if (b == VMC_DISK_BUS_UNKNOWN) {
        if (strncmp(dev, "hd", 2) == 0) b = VMC_DISK_BUS_IDE;
        else if (strncmp(dev, "sd", 2) == 0) b = VMC_DISK_BUS_SCSI;
        else if (strncmp(dev, "vd", 2) == 0) b = VMC_DISK_BUS_VIRTIO;
        else if (strncmp(dev, "fd", 2) == 0) b = VMC_DISK_BUS_FDC;
    }
    d->bus = b;
    /* Every SATA controller of libvirt is an AHCI one. */
    if (b == VMC_DISK_BUS_SATA)
        d->controller_model = VMC_CONTROLLER_MODEL_AHCI;
    if ((s = attr(n, "tray")) != NULL)
        d->connection = strcmp(s, "open") == 0 ? VMC_CONNECTION_DISCONNECTED :
            VMC_CONNECTION_CONNECTED;
    xmlFree(s);
    s = NULL;

    /* Its place: an explicit drive address, else what libvirt derives
     * from the name (hdc = IDE bus 1 unit 0, sdh = SCSI controller 1
     * unit 0, SATA 6 ports per controller).
     */
    n = child(el, "address");
    if ((s = attr(n, "type")) != NULL && strcmp(s, "drive") == 0) {
        uint64_t ctl = 0, abus = 0, unit = 0;

        if (attr_num(r, n, "controller", "<address controller>", 255,
                     &ctl) == -1 ||
            attr_num(r, n, "bus", "<address bus>", 255, &abus) == -1 ||
            attr_num(r, n, "unit", "<address unit>", 16383, &unit) == -1)
            goto out;
        if (b == VMC_DISK_BUS_IDE) {
            d->controller = (int) abus;
            d->unit = (int) unit;
        }
        else if (b != VMC_DISK_BUS_VIRTIO && b != VMC_DISK_BUS_USB) {
            d->controller = (int) ctl;
            d->unit = (int) unit;
        }
    }
    else if ((idx = dev_index(dev)) >= 0) {
        switch (b) {
        case VMC_DISK_BUS_IDE:
            d->controller = (int) (idx / 2);
            d->unit = (int) (idx % 2);
            break;
        case VMC_DISK_BUS_SATA:
            d->controller = (int) (idx / 6);
            d->unit = (int) (idx % 6);
            break;
        case VMC_DISK_BUS_SCSI:
            d->controller = (int) (idx / 7);
            d->unit = (int) (idx % 7);
            break;
        case VMC_DISK_BUS_FDC:
            d->controller = 0;
            d->unit = (int) idx;
            break;
        default:
            break;
        }
    }
    xmlFree(s);
    s = NULL;

    if ((n = child(el, "boot")) != NULL) {
        v = 0;
        if (attr_num(r, n, "order", "<boot order>", KVM_MAX_BOOT_ORDER,
                     &v) == -1)
            goto out;
        d->boot_order = (unsigned) v;
    }
    d->readonly = child(el, "readonly") != NULL;
    d->shareable = child(el, "shareable") != NULL;
    /* <transient/>: the guest's writes are dropped at power off. */
    d->nonpersistent = child(el, "transient") != NULL;
    if ((n = child(el, "blockio")) != NULL) {
        uint64_t l = 0, p = 0;

        if (attr_num(r, n, "logical_block_size", "<blockio>", 65536,
                     &l) == -1 ||
            attr_num(r, n, "physical_block_size", "<blockio>", 65536,
                     &p) == -1)
            goto out;
        d->logical_block_size = (uint32_t) l;
        d->physical_block_size = (uint32_t) p;
    }
    ret = 0;
 out:
    xmlFree(type);
    xmlFree(device);
    xmlFree(s);
    xmlFree(dev);
    xmlFree(bus);
    return ret;
}

static int
read_controller(struct rd *r, const xmlNode *el, unsigned next[3])
{
    char *type = attr(el, "type"), *model = attr(el, "model");
    struct vmc_controller *c;
    enum vmc_disk_bus bus;
    uint64_t idx;
    int slot, m = VMC_CONTROLLER_MODEL_UNKNOWN, ret = -1;
    size_t i;

    if (type == NULL || (strcmp(type, "scsi") != 0 &&
                         strcmp(type, "sata") != 0 &&
                         strcmp(type, "ide") != 0)) {
        ret = 0;
        goto out;
    }
    bus = strcmp(type, "scsi") == 0 ? VMC_DISK_BUS_SCSI :
        strcmp(type, "sata") == 0 ? VMC_DISK_BUS_SATA : VMC_DISK_BUS_IDE;
    slot = bus == VMC_DISK_BUS_SCSI ? 0 : bus == VMC_DISK_BUS_SATA ? 1 : 2;
    idx = next[slot];
    if (attr_num(r, el, "index", "<controller index>", 255, &idx) == -1)
        goto out;
    next[slot] = (unsigned) idx + 1;
    if (bus == VMC_DISK_BUS_SATA)
        m = VMC_CONTROLLER_MODEL_AHCI;
    else if (model) {
        if (strcmp(model, "virtio-scsi") == 0 ||
            strcmp(model, "virtio-transitional") == 0 ||
            strcmp(model, "virtio-non-transitional") == 0)
            m = VMC_CONTROLLER_MODEL_VIRTIO_SCSI;
        else if (strcmp(model, "lsilogic") == 0)
            m = VMC_CONTROLLER_MODEL_LSILOGIC;
        else if (strcmp(model, "lsisas1068") == 0)
            m = VMC_CONTROLLER_MODEL_LSISAS1068;
        else if (strcmp(model, "buslogic") == 0)
            m = VMC_CONTROLLER_MODEL_BUSLOGIC;
        else if (strcmp(model, "vmpvscsi") == 0)
            m = VMC_CONTROLLER_MODEL_PVSCSI;
        else if (strcmp(model, "piix3") == 0)
            m = VMC_CONTROLLER_MODEL_PIIX3;
        else if (strcmp(model, "piix4") == 0)
            m = VMC_CONTROLLER_MODEL_PIIX4;
    }
    for (i = 0; i < r->vm->nr_controllers; i++)
        if (r->vm->controllers[i]->bus == bus &&
            r->vm->controllers[i]->index == idx) {
            bad(r, el, "<controller type='%s'>: index %" PRIu64 " is used "
                "twice", type, idx);
            goto out;
        }
    c = vmc_vm_add_controller(r->vm);
    if (c == NULL)
        goto out;
    c->bus = bus;
    c->index = (unsigned) idx;
    c->model = m;
    ret = 0;
 out:
    xmlFree(type);
    xmlFree(model);
    return ret;
}

/* ---- NICs, serial ports, graphics, video ----------------------------- */

static int
nic_model(const char *s)
{
    if (s == NULL) return VMC_NIC_MODEL_UNKNOWN;
    if (strcmp(s, "virtio") == 0 || strcmp(s, "virtio-transitional") == 0 ||
        strcmp(s, "virtio-non-transitional") == 0)
        return VMC_NIC_MODEL_VIRTIO;
    if (strcmp(s, "e1000") == 0) return VMC_NIC_MODEL_E1000;
    if (strcmp(s, "e1000e") == 0) return VMC_NIC_MODEL_E1000E;
    if (strcmp(s, "rtl8139") == 0) return VMC_NIC_MODEL_RTL8139;
    if (strcmp(s, "vmxnet3") == 0) return VMC_NIC_MODEL_VMXNET3;
    if (strcmp(s, "pcnet") == 0) return VMC_NIC_MODEL_PCNET;
    return VMC_NIC_MODEL_UNKNOWN;
}

static int
read_interface(struct rd *r, const xmlNode *el, int i)
{
    char *type = attr(el, "type"), *s = NULL, *model = NULL;
    const xmlNode *n;
    char mac[VMC_MAC_LEN + 1];
    struct vmc_nic *nic;
    size_t k;
    int ret = -1;

    nic = vmc_vm_add_nic(r->vm);
    if (nic == NULL)
        goto out;
    n = child(el, "mac");
    if (n && (s = attr(n, "address")) != NULL) {
        if (vmc_mac_normalize(s, mac) == -1) {
            bad(r, n, "<mac address='%s'> is not a MAC address", s);
            goto out;
        }
        for (k = 0; k + 1 < r->vm->nr_nics; k++)
            if (r->vm->nics[k]->mac && strcmp(r->vm->nics[k]->mac, mac) == 0)
                break;
        if (k + 1 < r->vm->nr_nics) {
            /* Two NICs with one MAC cannot both work on a network. */
            if (vmc_vm_add_note(r->vm, "nics[%d]: MAC address %s is also "
                                "that of nics[%zu]: it is not kept (the "
                                "target chooses one)", i, mac, k) == -1)
                goto out;
        }
        else if (set(r, &nic->mac, mac) == -1)
            goto out;
        xmlFree(s);
        s = NULL;
    }
    model = attr(child(el, "model"), "type");
    nic->model = nic_model(model);
    if (model && nic->model == VMC_NIC_MODEL_UNKNOWN &&
        vmc_vm_add_note(r->vm, "nics[%d]: model '%s' is not one vmconv "
                        "knows", i, model) == -1)
        goto out;
    n = child(el, "source");
    if (type && strcmp(type, "network") == 0) {
        nic->net_type = VMC_NET_TYPE_NETWORK;
        s = attr(n, "network");
    }
    else if (type && strcmp(type, "bridge") == 0) {
        nic->net_type = VMC_NET_TYPE_BRIDGE;
        s = attr(n, "bridge");
    }
    else if (type && strcmp(type, "user") == 0)
        nic->net_type = VMC_NET_TYPE_NAT;
    else if (vmc_vm_add_note(r->vm, "nics[%d]: an <interface type='%s'> "
                             "is read as not connected to a known network",
                             i, type ? type : "") == -1)
        goto out;
    if (s && set(r, &nic->network, s) == -1)
        goto out;
    xmlFree(s);
    s = NULL;
    if ((n = child(el, "link")) != NULL && (s = attr(n, "state")) != NULL)
        nic->connection = strcmp(s, "down") == 0 ?
            VMC_CONNECTION_DISCONNECTED : VMC_CONNECTION_CONNECTED;
    xmlFree(s);
    s = NULL;
    if ((n = child(child(el, "vlan"), "tag")) != NULL) {
        uint64_t v = 0;

        if (attr_num(r, n, "id", "<vlan><tag id>", 4095, &v) == -1)
            goto out;
        nic->vlan = (unsigned) v;
    }
    ret = 0;
 out:
    xmlFree(type);
    xmlFree(s);
    xmlFree(model);
    return ret;
}

static int
read_serial(struct rd *r, const xmlNode *el, unsigned next)
{
    char *type = attr(el, "type"), *s = NULL;
    const xmlNode *src = child(el, "source"), *tgt = child(el, "target");
    struct vmc_serial *sp;
    uint64_t port = next;
    size_t i;
    int ret = -1;

    if (attr_num(r, tgt, "port", "<serial><target port>", 63, &port) == -1)
        goto out;
    for (i = 0; i < r->vm->nr_serials; i++)
        if (r->vm->serials[i]->index == port) {
            bad(r, el, "<serial>: port %" PRIu64 " is used twice", port);
            goto out;
        }
    sp = vmc_vm_add_serial(r->vm);
    if (sp == NULL)
        goto out;
    sp->index = (unsigned) port;
    if (type == NULL || strcmp(type, "pty") == 0)
        sp->type = VMC_SERIAL_TYPE_PTY;
    else if (strcmp(type, "file") == 0) {
        sp->type = VMC_SERIAL_TYPE_FILE;
        s = attr(src, "path");
    }
    else if (strcmp(type, "pipe") == 0) {
        sp->type = VMC_SERIAL_TYPE_PIPE;
        s = attr(src, "path");
    }
    else if (strcmp(type, "dev") == 0) {
        sp->type = VMC_SERIAL_TYPE_DEVICE;
        s = attr(src, "path");
    }
    else if (strcmp(type, "tcp") == 0) {
        char *host = attr(src, "host"), *svc = attr(src, "service");

        sp->type = VMC_SERIAL_TYPE_TCP;
        if (host || svc) {
            if (asprintf(&s, "%s:%s", host ? host : "",
                         svc ? svc : "") == -1) {
                s = NULL;
                xmlFree(host);
                xmlFree(svc);
                oom(r);
                goto out;
            }
            if (set(r, &sp->target, s) == -1) {
                xmlFree(host);
                xmlFree(svc);
                goto out;
            }
            free(s);
            s = NULL;
        }
        xmlFree(host);
        xmlFree(svc);
    }
    else if (strcmp(type, "null") == 0)
        sp->type = VMC_SERIAL_TYPE_NONE;
    if (s && set(r, &sp->target, s) == -1)
        goto out;
    ret = 0;
 out:
    xmlFree(type);
    xmlFree(s);
    return ret;
}

static void
read_graphics(struct rd *r, const xmlNode *el)
{
    char *type = attr(el, "type");

    if (r->vm->graphics == VMC_GRAPHICS_NONE && type) {
        if (strcmp(type, "vnc") == 0)
            r->vm->graphics = VMC_GRAPHICS_VNC;
        else if (strcmp(type, "spice") == 0)
            r->vm->graphics = VMC_GRAPHICS_SPICE;
        else if (strcmp(type, "sdl") == 0)
            r->vm->graphics = VMC_GRAPHICS_SDL;
        else if (strcmp(type, "rdp") == 0)
            r->vm->graphics = VMC_GRAPHICS_RDP;
        else
            r->vm->graphics = VMC_GRAPHICS_UNKNOWN;
    }
    xmlFree(type);
}

static int
read_video(struct rd *r, const xmlNode *el)
{
    const xmlNode *m = child(el, "model");
    char *type = attr(m, "type");
    uint64_t vram = 0;
    int ret = 0;

    if (r->vm->video == VMC_VIDEO_MODEL_UNKNOWN && type) {
        if (strcmp(type, "vga") == 0) r->vm->video = VMC_VIDEO_MODEL_VGA;
        else if (strcmp(type, "cirrus") == 0)
            r->vm->video = VMC_VIDEO_MODEL_CIRRUS;
        else if (strcmp(type, "vmvga") == 0)
            r->vm->video = VMC_VIDEO_MODEL_VMVGA;
        else if (strcmp(type, "qxl") == 0) r->vm->video = VMC_VIDEO_MODEL_QXL;
        else if (strcmp(type, "virtio") == 0)
            r->vm->video = VMC_VIDEO_MODEL_VIRTIO;
        else if (strcmp(type, "bochs") == 0)
            r->vm->video = VMC_VIDEO_MODEL_BOCHS;
        else if (strcmp(type, "none") == 0)
            r->vm->video = VMC_VIDEO_MODEL_NONE;
        if (attr_num(r, m, "vram", "<video><model vram>", UINT64_C(1) << 24,
                     &vram) == -1)
            ret = -1;
        r->vm->vram = vram * 1024;
    }
    xmlFree(type);
    return ret;
}

/* ---- The domain ------------------------------------------------------ */

/* <os><boot dev=...> gives the first disk of each kind its place. */
static int
legacy_boot_order(struct rd *r, xmlNode **boot_devs, size_t nr)
{
    unsigned order = 1;
    size_t i, j;

    for (i = 0; i < r->vm->nr_disks; i++)
        if (r->vm->disks[i]->boot_order) {
            if (nr == 0)
                return 0;
            bad(r, boot_devs[0], "<os><boot dev> and per-device "
                "<boot order> cannot be mixed");
            return -1;
        }
    for (i = 0; i < nr; i++) {
        char *dev = attr(boot_devs[i], "dev");
        int want = -1;

        if (dev && strcmp(dev, "hd") == 0) want = VMC_DISK_DEVICE_DISK;
        else if (dev && strcmp(dev, "cdrom") == 0)
            want = VMC_DISK_DEVICE_CDROM;
        else if (dev && strcmp(dev, "fd") == 0)
            want = VMC_DISK_DEVICE_FLOPPY;
        xmlFree(dev);
        if (want == -1)
            continue;
        for (j = 0; j < r->vm->nr_disks; j++)
            if ((int) r->vm->disks[j]->device == want) {
                if (r->vm->disks[j]->boot_order == 0)
                    r->vm->disks[j]->boot_order = order++;
                break;
            }
    }
    return 0;
}

struct vmc_vm *
kvm_domain_to_vm(struct vmc_handle *h, struct _xmlDoc *doc,
                 const char *name, const char *base, void *conn,
                 bool allow_running)
{
    struct rd r = { .h = h, .name = name, .base = base, .conn = conn };
    xmlNode *dom = xmlDocGetRootElement(doc), *devs, *n;
    xmlNode *boot_devs[4];
    size_t nr_boot_devs;
    unsigned ctl_next[3] = { 0, 0, 0 }, serial_next = 0;
    int nd = 0, nn = 0;
    char *id, *type;

    if (!is_el(dom, "domain")) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: not libvirt domain XML "
                       "(the root element is not <domain>)", name);
        return NULL;
    }
    id = attr(dom, "id");
    if (id && strcmp(id, "-1") != 0 && !allow_running) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: the domain is running "
                       "(id %s): its disks are changing while they would be "
                       "copied; shut it down, or allow reading it anyway "
                       "(allow-running=on)", name, id);
        xmlFree(id);
        return NULL;
    }
    xmlFree(id);
    r.vm = vmc_vm_new(h);
    if (r.vm == NULL)
        return NULL;
    type = attr(dom, "type");
    if (type && strcmp(type, "kvm") != 0 && strcmp(type, "qemu") != 0 &&
        vmc_vm_add_note(r.vm, "the domain's type is '%s' (not kvm or qemu)",
                        type) == -1) {
        xmlFree(type);
        goto fail;
    }
    xmlFree(type);
    if (read_identity(&r, dom) == -1 || read_cpu_memory(&r, dom) == -1 ||
        read_os(&r, dom, boot_devs, &nr_boot_devs) == -1 ||
        read_clock_features(&r, dom) == -1 || read_osinfo(&r, dom) == -1)
        goto fail;
    r.vm->graphics = VMC_GRAPHICS_NONE;
    devs = child(dom, "devices");
    for (n = devs ? devs->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(n, "disk")) {
            if (read_disk(&r, n, nd++) == -1)
                goto fail;
        }
        else if (is_el(n, "controller")) {
            if (read_controller(&r, n, ctl_next) == -1)
                goto fail;
        }
        else if (is_el(n, "interface")) {
            if (read_interface(&r, n, nn++) == -1)
                goto fail;
        }
        else if (is_el(n, "serial")) {
            if (read_serial(&r, n, serial_next++) == -1)
                goto fail;
        }
        else if (is_el(n, "graphics"))
            read_graphics(&r, n);
        else if (is_el(n, "video")) {
            if (read_video(&r, n) == -1)
                goto fail;
        }
        else if (is_el(n, "tpm"))
            r.vm->tpm = true;
    }
    if (legacy_boot_order(&r, boot_devs, nr_boot_devs) == -1)
        goto fail;
    return r.vm;
 fail:
    vmc_vm_free(r.vm);
    return NULL;
}
