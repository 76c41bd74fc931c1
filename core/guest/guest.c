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

#define GUEST_FIX_NOT_YET "guest fixes (drivers, fstab, bootloader) are " \
    "not implemented yet: inspected only"

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

/* Start nbdkit on each disk, launch the appliance, inspect.  0, or -1
 * with an error set (cancelled, out of memory); *WHY is set instead
 * when the guest could not be inspected.
 */
static int
guest_run(struct vmc_handle *h, size_t n, const char *const *paths,
          const char *const *formats, unsigned flags, struct json_object *r,
          char **why)
{
    struct guest_nbd *nbd = calloc(n ? n : 1, sizeof *nbd);
    const char **socks = calloc(n ? n : 1, sizeof *socks);
    const struct vmc_guestfs_ops *ops;
    struct json_object *oses;
    const char *accel = NULL;
    void *g = NULL;
    size_t i, nr = 0;
    int ret = -1;

    if (nbd == NULL || socks == NULL) {
        vmc_error(h, "out of memory");
        goto out;
    }
    ops = guestfs_module_load(why);
    if (ops == NULL) {
        ret = *why ? 0 : -1;
        if (ret == -1)
            vmc_error(h, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (paths[i] == NULL)
            continue;
        if (vmc_guest_nbd_start(h, paths[i], formats ? formats[i] : NULL,
                                flags, &nbd[nr]) == -1) {
            if (vmc_get_error_kind(h) == VMC_ERR_INTERRUPTED)
                goto out;
            goto why;
        }
        socks[nr] = nbd[nr].sock;
        nr++;
    }
    g = ops->launch(h, socks, nr, &accel);
    if (vmc_cancelled(h)) {
        vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
        goto out;
    }
    if (g == NULL)
        goto why;
    json_object_object_add(r, "accelerator", json_object_new_string(accel));
    oses = json_object_new_array();
    json_object_object_add(r, "operating-systems", oses);
    if (ops->inspect_roots(h, g, oses) == -1) {
        if (vmc_get_error_kind(h) == VMC_ERR_INTERRUPTED)
            goto out;
        goto why;
    }
    ret = 0;
    goto out;
 why:
    *why = strdup(vmc_get_error(h) ? vmc_get_error(h) : "failed");
    vmc_clear_error(h);
    ret = *why ? 0 : -1;
 out:
    if (g)
        ops->close(g);
    for (i = 0; nbd && i < nr + 1 && i < n; i++)
        vmc_guest_nbd_stop(&nbd[i]);
    free(nbd);
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
    g->has_virtio_blk = json_object_get_boolean(
        json_object_object_get(os, "virtio-blk"));
    g->has_virtio_net = json_object_get_boolean(
        json_object_object_get(os, "virtio-net"));
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
                        struct json_object **report)
{
    struct json_object *r = json_object_new_object();
    CLEANUP_FREE char *why = NULL;
    size_t i, nr = 0;
    bool content = false;

    *guest = NULL;
    *report = NULL;
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
    if (guest_run(h, n, paths, formats, image_flags, r, &why) == -1) {
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
                                image_flags, &g, &r) == -1)
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

/* Phase 1: the guest was inspected at plan time (on the source disks,
 * before the devices were chosen), and *GUEST holds its facts; nothing
 * in the guest is changed yet, and the run says so.
 */
static int
guest_fix(struct vmc_handle *h, struct vmc_vm *vm,
          const char *const *tmp_paths, struct json_object *changes,
          struct vmc_guest_info **guest)
{
    (void) vm, (void) tmp_paths, (void) changes;
    if (*guest == NULL) {
        vmc_info(h, "guest: no operating system was inspected: nothing "
                 "to fix");
        return 0;
    }
    vmc_warning(h, "%s", GUEST_FIX_NOT_YET);
    return 0;
}

vmc_guest_fix_fn vmc_pipeline_guest_fix = guest_fix;
vmc_guest_inspect_fn vmc_pipeline_guest_inspect = vmc_guest_inspect_disks;
