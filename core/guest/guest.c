/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: the entry points.
 *
 * vmc_guest_inspect_disks inspects the guest on a VM's source disks
 * (served by nbdkit with the cow filter, so the source is never
 * written) for the plan of vmconv convert and for vmconv inspect
 * --guest.  The guest-fix hook of the pipeline (vmc_guest_fix) is
 * phase 1 of issue 16: the guest is inspected, and nothing in it is
 * changed yet; it says so.
 */
#include <config.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmconv/convert.h>
#include <vmconv/guest.h>
#include <vmconv/image.h>

#include "internal.h"
#include "cleanup.h"
#include "guest.h"
#include "pipeline-internal.h"

/* How much of a disk's start is read to see whether it holds a
 * partition table or a file system (btrfs's superblock is at 64 KiB).
 */
#define GUEST_PROBE_BYTES (128 * 1024)


static bool
guest_is_uri(const char *path)
{
    return strstr(path, "://") != NULL;
}

/* Does the disk at PATH hold a partition table or a file system (the
 * first bytes say)?  Answers true when it cannot tell, so that only a
 * disk surely without one is skipped.
 */
static bool
guest_disk_has_content(struct vmc_handle *h, const char *path,
                       const char *format, unsigned flags)
{
    CLEANUP_FREE unsigned char *buf = malloc(GUEST_PROBE_BYTES);
    struct vmc_image *img;
    uint64_t size;
    size_t n;
    bool found;

    if (buf == NULL)
        return true;
    img = vmc_image_open_name(h, path, format, flags);
    if (img == NULL) {
        vmc_clear_error(h);
        return true;
    }
    size = vmc_image_size(img);
    n = size < GUEST_PROBE_BYTES ? (size_t) size : GUEST_PROBE_BYTES;
    if (vmc_image_pread(img, buf, n, 0) == -1) {
        vmc_clear_error(h);
        vmc_image_close(img);
        return true;
    }
    vmc_image_close(img);
    found = (n >= 512 && buf[510] == 0x55 && buf[511] == 0xaa) ||  /* MBR */
        (n >= 1024 + 58 && buf[1024 + 56] == 0x53 &&
         buf[1024 + 57] == 0xef) ||                            /* ext2/3/4 */
        (n >= 4 && memcmp(buf, "XFSB", 4) == 0) ||
        (n >= 65536 + 72 && memcmp(buf + 65536 + 64, "_BHRfS_M", 8) == 0) ||
        (n >= 6 && memcmp(buf, "LUKS\xba\xbe", 6) == 0);
    for (size_t s = 0; !found && s < 4 && (s + 1) * 512 <= n; s++)
        found = memcmp(buf + s * 512, "LABELONE", 8) == 0;      /* LVM */
    return found;
}

/* Set R's "status" to PREFIX followed by ARG (if not NULL). */
static void
report_status(struct json_object *r, const char *prefix, const char *arg)
{
    char *s = NULL;

    if (asprintf(&s, "%s%s", prefix, arg ? arg : "") == -1)
        s = NULL;
    json_object_object_add(r, "status",
                           json_object_new_string(s ? s : prefix));
    free(s);
}

#ifdef HAVE_LIBGUESTFS
/* The libguestfs module (guest.h), loaded once and kept. */
static pthread_mutex_t guestfs_module_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct vmc_guestfs_ops *guestfs_module;

/* The module's table, or NULL with *WHY (malloc'd) saying why it
 * cannot be had.  $VMCONV_GUESTFS_MODULE names another file (the build
 * tree's, for the tests).
 */
static const struct vmc_guestfs_ops *
guestfs_module_load(char **why)
{
    const char *path = getenv("VMCONV_GUESTFS_MODULE");
    const struct vmc_guestfs_ops *ops;
    void *m;

    pthread_mutex_lock(&guestfs_module_lock);
    ops = guestfs_module;
    if (ops != NULL)
        goto out;
    if (path == NULL || *path == '\0')
        path = VMC_GUESTFS_MODULE_PATH;
    m = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (m == NULL) {
        if (asprintf(why, "the libguestfs module cannot be loaded (%s)",
                     dlerror()) == -1)
            *why = NULL;
        goto out;
    }
    ops = dlsym(m, VMC_GUESTFS_OPS_SYMBOL);
    if (ops == NULL || ops->version != VMC_GUESTFS_OPS_VERSION) {
        if (asprintf(why, "%s: not a vmconv libguestfs module of version %d",
                     path, VMC_GUESTFS_OPS_VERSION) == -1)
            *why = NULL;
        dlclose(m);
        ops = NULL;
        goto out;
    }
    guestfs_module = ops;        /* never unloaded */
 out:
    pthread_mutex_unlock(&guestfs_module_lock);
    return ops;
}

/* Stop everything S holds and free it. */
static void
session_free(struct vmc_guest_session *s)
{
    size_t i;

    if (s == NULL)
        return;
    if (s->g)
        s->ops->close(s->g);
    for (i = 0; s->nbd && i < s->n; i++)
        vmc_guest_nbd_stop(&s->nbd[i]);
    free(s->nbd);
    json_object_put(s->os);
    free(s);
}

/* Start nbdkit on each disk, launch the appliance, inspect.  0, or -1
 * with an error set (cancelled, out of memory); *WHY is set instead
 * when the guest could not be inspected.  With SESS, the appliance and
 * nbdkit are kept running for the fix and handed over in *SESS.
 */
static int
guest_run(struct vmc_handle *h, size_t n, const char *const *paths,
          const char *const *formats, unsigned flags, struct json_object *r,
          char **why, struct vmc_guest_session **sess)
{
    struct vmc_guest_session *s = calloc(1, sizeof *s);
    const char **socks = calloc(n ? n : 1, sizeof *socks);
    struct json_object *oses;
    const char *accel = NULL;
    size_t i, nr = 0;
    int ret = -1;

    if (s == NULL || socks == NULL ||
        (s->nbd = calloc(n ? n : 1, sizeof *s->nbd)) == NULL) {
        vmc_error(h, "out of memory");
        goto out;
    }
    s->n = n;
    s->ops = guestfs_module_load(why);
    if (s->ops == NULL) {
        ret = *why ? 0 : -1;
        if (ret == -1)
            vmc_error(h, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (paths[i] == NULL)
            continue;
        if (vmc_guest_nbd_start(h, paths[i], formats ? formats[i] : NULL,
                                flags, &s->nbd[i]) == -1) {
            if (vmc_get_error_kind(h) == VMC_ERR_INTERRUPTED)
                goto out;
            goto why;
        }
        socks[nr++] = s->nbd[i].sock;
    }
    s->g = s->ops->launch(h, socks, nr, &accel);
    if (vmc_cancelled(h)) {
        vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
        goto out;
    }
    if (s->g == NULL)
        goto why;
    json_object_object_add(r, "accelerator", json_object_new_string(accel));
    oses = json_object_new_array();
    json_object_object_add(r, "operating-systems", oses);
    if (s->ops->inspect_roots(h, s->g, oses) == -1) {
        if (vmc_get_error_kind(h) == VMC_ERR_INTERRUPTED)
            goto out;
        goto why;
    }
    ret = 0;
    if (sess && json_object_array_length(oses) > 0) {
        s->os = json_object_get(json_object_array_get_idx(oses, 0));
        *sess = s;
        s = NULL;
    }
    goto out;
 why:
    *why = strdup(vmc_get_error(h) ? vmc_get_error(h) : "failed");
    vmc_clear_error(h);
    ret = *why ? 0 : -1;
 out:
    session_free(s);
    free(socks);
    return ret;
}
#endif

/* The guest facts of the first OS in REPORT's "operating-systems", or
 * NULL (none).  -1 with an error when out of memory.
 */
static int
guest_info(struct vmc_handle *h, struct json_object *report,
           struct vmc_guest_info **out)
{
    struct json_object *oses = json_object_object_get(report,
                                                      "operating-systems");
    struct json_object *os = json_object_array_get_idx(oses, 0);
    struct vmc_guest_info *g;
    const char *type;

    *out = NULL;
    if (os == NULL)
        return 0;
    g = vmc_guest_info_new(h);
    if (g == NULL)
        return -1;
    type = json_object_get_string(json_object_object_get(os, "type"));
    g->os_family = type && strcmp(type, "linux") == 0 ? VMC_OS_FAMILY_LINUX
        : type && strcmp(type, "windows") == 0 ? VMC_OS_FAMILY_WINDOWS
        : VMC_OS_FAMILY_OTHER;
#define STR(field, key)                                                 \
    do {                                                                \
        struct json_object *v_ = json_object_object_get(os, key);       \
        if (v_ && (g->field = strdup(json_object_get_string(v_))) == NULL) \
            goto oom;                                                   \
    } while (0)
    STR(os_distro, "distro");
    STR(os_version, "version");
    STR(os_arch, "arch");
    STR(root_device, "root");
#undef STR
    /* What the guest drives once fixed: the plan chooses devices by
     * it, and the fix makes it true (initramfs.c).
     */
    g->has_virtio_blk = json_object_get_boolean(
        json_object_object_get(os, "virtio-blk-after-fix"));
    g->has_virtio_net = json_object_get_boolean(
        json_object_object_get(os, "virtio-net-after-fix"));
    *out = g;
    return 0;
 oom:
    vmc_guest_info_free(g);
    vmc_error(h, "out of memory");
    return -1;
}

int
vmc_guest_inspect_disks(struct vmc_handle *h, size_t n,
                        const char *const *paths, const char *const *formats,
                        unsigned image_flags, struct vmc_guest_info **guest,
                        struct json_object **report,
                        struct vmc_guest_session **sess)
{
    struct json_object *r = json_object_new_object();
    CLEANUP_FREE char *why = NULL;
    size_t i, nr = 0;
    bool content = false;

    *guest = NULL;
    *report = NULL;
    if (sess)
        *sess = NULL;
    for (i = 0; i < n; i++) {
        if (paths[i] == NULL)
            continue;
        nr++;
        if (guest_is_uri(paths[i])) {
            report_status(r, "not inspected: inspecting a guest on an NBD "
                          "source is not implemented yet: ", paths[i]);
            *report = r;
            return 0;
        }
        /* nbdkit-vmconv-plugin serves files and byte ranges of them. */
        if (strncmp(paths[i], VMC_CONCAT_PREFIX,
                    strlen(VMC_CONCAT_PREFIX)) == 0 ||
            strncmp(paths[i], VMC_GZIP_PREFIX,
                    strlen(VMC_GZIP_PREFIX)) == 0) {
            report_status(r, "not inspected: inspecting a guest on a disk "
                          "stored in chunks or gzip-compressed inside an "
                          "OVA is not implemented yet: ", paths[i]);
            *report = r;
            return 0;
        }
        if (!content)
            content = guest_disk_has_content(h, paths[i],
                                             formats ? formats[i] : NULL,
                                             image_flags);
    }
    if (nr == 0 || !content) {
        report_status(r, "not inspected: ", nr == 0
                      ? "the VM has no disk image"
                      : "no partition table or file system on the disks");
        *report = r;
        return 0;
    }
#ifdef HAVE_LIBGUESTFS
    if (guest_run(h, n, paths, formats, image_flags, r, &why, sess) == -1) {
        json_object_put(r);
        return -1;
    }
    if (why) {
        report_status(r, "not inspected: ", why);
        *report = r;
        return 0;
    }
    report_status(r, json_object_array_length(json_object_object_get(
                      r, "operating-systems")) > 0
                  ? "inspected" : "no operating system found", NULL);
    if (guest_info(h, r, guest) == -1) {
        json_object_put(r);
        if (sess) {
            session_free(*sess);
            *sess = NULL;
        }
        return -1;
    }
#else
    (void) why;
    report_status(r, "not inspected: vmconv was built without libguestfs",
                  NULL);
#endif
    *report = r;
    return 0;
}

/* ---- The public API (vmconv/guest.h) -------------------------------- */

char *
vmc_guest_inspect(struct vmc_handle *h, const struct vmc_vm *vm,
                  unsigned image_flags)
{
    const char **paths = calloc(vm->nr_disks ? vm->nr_disks : 1,
                                sizeof *paths);
    const char **formats = calloc(vm->nr_disks ? vm->nr_disks : 1,
                                  sizeof *formats);
    struct vmc_guest_info *g = NULL;
    struct json_object *r = NULL;
    char *text = NULL;
    size_t i;

    if (paths == NULL || formats == NULL) {
        vmc_error(h, "out of memory");
        goto out;
    }
    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *d = vm->disks[i];

        if (d->device == VMC_DISK_DEVICE_DISK && d->path) {
            paths[i] = d->path;
            formats[i] = d->format;
        }
    }
    if (vmc_guest_inspect_disks(h, vm->nr_disks, paths, formats,
                                image_flags, &g, &r, NULL) == -1)
        goto out;
    text = strdup(json_object_to_json_string_ext(
        r, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
        JSON_C_TO_STRING_NOSLASHESCAPE));
    if (text == NULL)
        vmc_error(h, "out of memory");
 out:
    vmc_guest_info_free(g);
    json_object_put(r);
    free(paths);
    free(formats);
    return text;
}

/* ---- The pipeline's guest-fix hook ---------------------------------- */

/* The Linux drivers of each device the target can have: one table for
 * every direction (the drivers of a KVM, Hyper-V or VMware target are
 * those of the devices its plan chose).  BOOT: needed in the initramfs
 * to reach the root file system.
 */
struct guest_driver_row {
    int kind;                    /* 0 disk bus, 1 controller, 2 NIC */
    int model;
    bool boot;
    const char *drivers[3];
};

static const struct guest_driver_row guest_driver_table[] = {
    { 0, VMC_DISK_BUS_VIRTIO, true, { "virtio_blk", "virtio_pci" } },
    { 0, VMC_DISK_BUS_SATA, true, { "ahci" } },
    { 0, VMC_DISK_BUS_IDE, true, { "ata_piix" } },
    { 0, VMC_DISK_BUS_NVME, true, { "nvme" } },
    { 1, VMC_CONTROLLER_MODEL_VIRTIO_SCSI, true,
      { "virtio_scsi", "virtio_pci" } },
    { 1, VMC_CONTROLLER_MODEL_PVSCSI, true, { "vmw_pvscsi" } },
    { 1, VMC_CONTROLLER_MODEL_LSILOGIC, true, { "mptspi" } },
    { 1, VMC_CONTROLLER_MODEL_LSISAS1068, true, { "mptsas" } },
    { 1, VMC_CONTROLLER_MODEL_HYPERV_SCSI, true,
      { "hv_storvsc", "hv_vmbus" } },
    { 1, VMC_CONTROLLER_MODEL_AHCI, true, { "ahci" } },
    { 2, VMC_NIC_MODEL_VIRTIO, false, { "virtio_net", "virtio_pci" } },
    { 2, VMC_NIC_MODEL_VMXNET3, false, { "vmxnet3" } },
    { 2, VMC_NIC_MODEL_E1000, false, { "e1000" } },
    { 2, VMC_NIC_MODEL_E1000E, false, { "e1000e" } },
    { 2, VMC_NIC_MODEL_HYPERV_NETVSC, false, { "hv_netvsc", "hv_vmbus" } },
};

/* Drivers a target needs whatever its devices: on Hyper-V, Linux
 * reaches even the emulated IDE disks of a generation 1 VM through
 * the VMBus storage driver, which takes them over from ata_piix.
 */
struct guest_target_row {
    const char *target;          /* the target plugin's name */
    bool boot;
    const char *drivers[3];
};

static const struct guest_target_row guest_target_table[] = {
    { "hyperv", true, { "hv_vmbus", "hv_storvsc" } },
    { "hyperv", false, { "hv_netvsc" } },
};

/* Add D to LIST (N used, of CAP) unless it is there. */
static void
driver_add(const char **list, size_t *n, size_t cap, const char *d)
{
    size_t k;

    for (k = 0; k < *n; k++)
        if (strcmp(list[k], d) == 0)
            return;
    if (*n + 1 < cap)
        list[(*n)++] = d;
    list[*n] = NULL;
}

/* Add the drivers of device KIND/MODEL to LIST (N used, of CAP), once
 * each; only the boot ones when BOOT_ONLY.
 */
static void
drivers_add(const char **list, size_t *n, size_t cap, int kind, int model,
            bool boot_only)
{
    size_t i, j;

    for (i = 0; i < sizeof guest_driver_table / sizeof guest_driver_table[0];
         i++) {
        const struct guest_driver_row *r = &guest_driver_table[i];

        if (r->kind != kind || r->model != model || (boot_only && !r->boot))
            continue;
        for (j = 0; j < 3 && r->drivers[j]; j++)
            driver_add(list, n, cap, r->drivers[j]);
    }
    list[*n] = NULL;
}

/* The drivers VM's devices need on TARGET (BOOT_ONLY: to reach its
 * hard disks) into LIST (CAP entries, NULL-terminated).
 */
static void
drivers_for(const struct vmc_vm *vm, const char *target, const char **list,
            size_t cap, bool boot_only)
{
    size_t i, j, n = 0;

    list[0] = NULL;
    for (i = 0; i < sizeof guest_target_table / sizeof guest_target_table[0];
         i++) {
        const struct guest_target_row *r = &guest_target_table[i];

        if (strcmp(r->target, target) != 0 || (boot_only && !r->boot))
            continue;
        for (j = 0; j < 3 && r->drivers[j]; j++)
            driver_add(list, &n, cap, r->drivers[j]);
    }
    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *d = vm->disks[i];

        if (d->device != VMC_DISK_DEVICE_DISK)
            continue;
        if (d->bus == VMC_DISK_BUS_SCSI)
            drivers_add(list, &n, cap, 1, (int) d->controller_model,
                        boot_only);
        else
            drivers_add(list, &n, cap, 0, (int) d->bus, boot_only);
    }
    if (boot_only)
        return;
    for (i = 0; i < vm->nr_nics; i++)
        drivers_add(list, &n, cap, 2, (int) vm->nics[i]->model, false);
}

#define GUEST_MAX_DRIVERS 32

static int
guest_fix(struct vmc_handle *h, struct vmc_guest_session *sess,
          const struct vmc_vm *vm, const char *source, const char *target,
          struct json_object *changes, struct vmc_guest_info **guest)
{
    const char *boot[GUEST_MAX_DRIVERS], *all[GUEST_MAX_DRIVERS];
    const char **macs = NULL;
    struct guest_fix_ctx c;
    const char *type, *t;
    char tmpdir[4096];
    size_t i;
    int r;

    if (*guest == NULL || sess == NULL || sess->g == NULL) {
        vmc_info(h, "guest: no operating system was inspected: nothing "
                 "to fix");
        return 0;
    }
    type = json_object_get_string(json_object_object_get(sess->os, "type"));
    if (type == NULL || strcmp(type, "linux") != 0) {
        vmc_warning(h, "guest: fixing a %s guest is not implemented: only "
                    "Linux guests are fixed; it is converted as it is",
                    type ? type : "unknown");
        return 0;
    }
    drivers_for(vm, target, boot, GUEST_MAX_DRIVERS, true);
    drivers_for(vm, target, all, GUEST_MAX_DRIVERS, false);
    macs = calloc(vm->nr_nics ? vm->nr_nics : 1, sizeof *macs);
    if (macs == NULL) {
        vmc_error(h, "out of memory");
        return -1;
    }
    for (i = 0; i < vm->nr_nics; i++)
        macs[i] = vm->nics[i]->mac;
    t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/vmconv-fix.XXXXXX",
             t && *t ? t : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        vmc_error(h, "mkdtemp: %s: %m", tmpdir);
        free(macs);
        return -1;
    }
    memset(&c, 0, sizeof c);
    c.root = json_object_get_string(json_object_object_get(sess->os, "root"));
    c.os = sess->os;
    c.source = source ? source : "disk";
    c.target = target;
    c.boot_drivers = boot;
    c.drivers = all;
    c.firmware_uefi = vm->firmware == VMC_FIRMWARE_UEFI;
    /* Firmware variables survive only to the same kind of hypervisor
     * (VMware's .nvram is not OVMF's): elsewhere the guest boots by
     * the UEFI fallback path.
     */
    c.nvram_kept = vm->nvram_path != NULL && source &&
        strcmp(source, target) == 0;
    c.nr_nics = vm->nr_nics;
    c.nic_macs = macs;
    c.tmpdir = tmpdir;
    vmc_info(h, "guest: fixing the %s guest on %s for the %s target",
             json_object_get_string(json_object_object_get(sess->os,
                                                           "distro")),
             c.root, target);
    r = sess->ops->fix(h, sess->g, &c, changes);
    /* Shut the appliance down: its writes are in the overlays now. */
    sess->ops->close(sess->g);
    sess->g = NULL;
    rmdir(tmpdir);
    free(macs);
    return r;
}

char *
vmc_guest_session_uri(const struct vmc_guest_session *sess, size_t i)
{
    char *uri;

    if (sess == NULL || i >= sess->n || sess->nbd[i].pid == 0)
        return NULL;
    if (asprintf(&uri, "nbd+unix:///?socket=%s", sess->nbd[i].sock) == -1)
        return NULL;
    return uri;
}

void
vmc_guest_session_close(struct vmc_guest_session *sess)
{
#ifdef HAVE_LIBGUESTFS
    session_free(sess);
#else
    (void) sess;
#endif
}

vmc_guest_fix_fn vmc_pipeline_guest_fix = guest_fix;
vmc_guest_inspect_fn vmc_pipeline_guest_inspect = vmc_guest_inspect_disks;
