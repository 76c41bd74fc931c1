/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: what libguestfs inspection finds on each root
 * file system, as JSON (the "operating-systems" of vmconv inspect
 * --guest): the OS, its version and architecture, package format and
 * manager, hostname, mount points, firmware (from the partition table
 * and an EFI system partition), and for Linux its kernels with the
 * drivers each carries (initrd.c).  The guest's file systems are
 * mounted read-only for this.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

/* The GPT type of an EFI system partition. */
#define GPT_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define MBR_ESP 0xef

void
vmc_guest_free_strings(char **s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; s[i]; i++)
        free(s[i]);
    free(s);
}

/* Add KEY: S (taking S; "unknown" or NULL values become null). */
static void
put_str(struct json_object *o, const char *key, char *s)
{
    json_object_object_add(o, key, s && strcmp(s, "unknown") != 0
                           ? json_object_new_string(s) : NULL);
    free(s);
}

/* Is partition PART (a device name) an EFI system partition? */
static bool
part_is_esp(guestfs_h *g, const char *part)
{
    CLEANUP_FREE char *dev = guestfs_part_to_dev(g, part);
    CLEANUP_FREE char *type = NULL, *guid = NULL;
    int num = guestfs_part_to_partnum(g, part);

    if (dev == NULL || num < 1)
        return false;
    type = guestfs_part_get_parttype(g, dev);
    if (type && strcmp(type, "gpt") == 0) {
        guid = guestfs_part_get_gpt_type(g, dev, num);
        return guid && strcasecmp(guid, GPT_ESP) == 0;
    }
    if (type && strcmp(type, "msdos") == 0)
        return guestfs_part_get_mbr_id(g, dev, num) == MBR_ESP;
    return false;
}

/* Firmware: "uefi" when a disk has an EFI system partition, else
 * "bios"; and the partition table of the disk holding ROOT.
 */
static void
root_firmware(guestfs_h *g, const char *root, struct json_object *os)
{
    CLEANUP_FREE char *dev = guestfs_part_to_dev(g, root);
    char **parts = guestfs_list_partitions(g);
    char *esp = NULL;
    size_t i;

    guestfs_push_error_handler(g, NULL, NULL);
    put_str(os, "partition-table",
            dev ? guestfs_part_get_parttype(g, dev) : NULL);
    for (i = 0; parts && parts[i] && esp == NULL; i++)
        if (part_is_esp(g, parts[i]))
            esp = strdup(parts[i]);
    guestfs_pop_error_handler(g);
    json_object_object_add(os, "firmware",
                           json_object_new_string(esp ? "uefi" : "bios"));
    put_str(os, "efi-system-partition", esp);
    vmc_guest_free_strings(parts);
}

static int
cmp_mp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;

    return (int) strlen(x[0]) - (int) strlen(y[0]);
}

/* Mount ROOT's file systems read-only (mount points in MPS, pairs),
 * shortest mount point first; those that fail are left out.
 */
static void
mount_all(struct vmc_handle *h, guestfs_h *g, char **mps)
{
    size_t i, n = 0;

    while (mps[n])
        n++;
    qsort(mps, n / 2, 2 * sizeof *mps, cmp_mp);
    for (i = 0; i + 1 < n; i += 2)
        if (guestfs_mount_ro(g, mps[i + 1], mps[i]) == -1)
            vmc_debug(h, "guest: cannot mount %s on %s: %s", mps[i + 1],
                      mps[i], guestfs_last_error(g));
}

/* Can every bootable kernel in KERNELS use DRIVER and virtio_pci at
 * boot (in its initramfs or built in; with ANY, also as a module
 * file)?  False with none bootable.
 */
static bool
kernels_have(struct json_object *kernels, const char *driver, bool any)
{
    const char *need[] = { driver, "virtio_pci" };
    size_t i, j, n = json_object_array_length(kernels), bootable = 0;

    for (i = 0; i < n; i++) {
        struct json_object *k = json_object_array_get_idx(kernels, i);
        struct json_object *drv = json_object_object_get(k, "drivers");

        if (!json_object_get_boolean(json_object_object_get(k, "bootable")))
            continue;
        bootable++;
        for (j = 0; j < 2; j++) {
            struct json_object *d = json_object_object_get(drv, need[j]);

            if (!json_object_get_boolean(
                    json_object_object_get(d, "initramfs")) &&
                !json_object_get_boolean(
                    json_object_object_get(d, "built-in")) &&
                !(any && json_object_get_boolean(
                      json_object_object_get(d, "module"))))
                return false;
        }
    }
    return bootable > 0;
}

/* The facts of the OS on ROOT, or NULL with an error set on H. */
static struct json_object *
root_facts(struct vmc_handle *h, guestfs_h *g, const char *root,
           const char *tmpdir)
{
    struct json_object *os = json_object_new_object(), *m, *kernels;
    CLEANUP_FREE char *type = guestfs_inspect_get_type(g, root);
    const char *tool;
    char **mps;
    char ver[64];
    size_t i;
    int maj, min;

    json_object_object_add(os, "root", json_object_new_string(root));
    json_object_object_add(os, "type",
                           json_object_new_string(type ? type : "unknown"));
    put_str(os, "distro", guestfs_inspect_get_distro(g, root));
    maj = guestfs_inspect_get_major_version(g, root);
    min = guestfs_inspect_get_minor_version(g, root);
    snprintf(ver, sizeof ver, "%d.%d", maj, min);
    json_object_object_add(os, "version", maj >= 0 && min >= 0
                           ? json_object_new_string(ver) : NULL);
    put_str(os, "arch", guestfs_inspect_get_arch(g, root));
    put_str(os, "product-name", guestfs_inspect_get_product_name(g, root));
    put_str(os, "package-format",
            guestfs_inspect_get_package_format(g, root));
    put_str(os, "package-management",
            guestfs_inspect_get_package_management(g, root));
    put_str(os, "hostname", guestfs_inspect_get_hostname(g, root));
    root_firmware(g, root, os);

    mps = guestfs_inspect_get_mountpoints(g, root);
    m = json_object_new_object();
    for (i = 0; mps && mps[i] && mps[i + 1]; i += 2)
        json_object_object_add(m, mps[i], json_object_new_string(mps[i + 1]));
    json_object_object_add(os, "mountpoints", m);
    if (type == NULL || strcmp(type, "linux") != 0 || mps == NULL) {
        vmc_guest_free_strings(mps);
        return os;
    }
    mount_all(h, g, mps);
    vmc_guest_free_strings(mps);
    kernels = json_object_new_array();
    json_object_object_add(os, "kernels", kernels);
    if (vmc_guest_kernels(h, g, tmpdir, kernels) == -1) {
        guestfs_umount_all(g);
        json_object_put(os);
        return NULL;
    }
    tool = vmc_guest_initramfs_tool(g);
    guestfs_umount_all(g);
    json_object_object_add(os, "initramfs-tool",
                           tool ? json_object_new_string(tool) : NULL);
    /* What the guest drives as it is, and after the fix: a disk driver
     * that is only a module is added to the initramfs by the guest's
     * own tool (initramfs.c); a NIC driver needs no initramfs.
     */
    json_object_object_add(os, "virtio-blk", json_object_new_boolean(
        kernels_have(kernels, "virtio_blk", false)));
    json_object_object_add(os, "virtio-scsi", json_object_new_boolean(
        kernels_have(kernels, "virtio_scsi", false)));
    json_object_object_add(os, "virtio-net", json_object_new_boolean(
        kernels_have(kernels, "virtio_net", false)));
    json_object_object_add(os, "virtio-blk-after-fix", json_object_new_boolean(
        kernels_have(kernels, "virtio_blk", false) ||
        (tool && kernels_have(kernels, "virtio_blk", true))));
    json_object_object_add(os, "virtio-net-after-fix", json_object_new_boolean(
        kernels_have(kernels, "virtio_net", true)));
    return os;
}

int
vmc_guest_inspect_roots(struct vmc_handle *h, guestfs_h *g,
                        struct json_object *oses)
{
    const char *t = getenv("TMPDIR");
    char tmpdir[4096];
    char **roots;
    size_t i;
    int ret = 0;

    snprintf(tmpdir, sizeof tmpdir, "%s/vmconv-initrd.XXXXXX",
             t && *t ? t : "/tmp");
    roots = guestfs_inspect_os(g);
    if (roots == NULL) {
        vmc_error(h, "libguestfs inspection: %s", guestfs_last_error(g));
        return -1;
    }
    if (roots[0] && mkdtemp(tmpdir) == NULL) {
        vmc_error(h, "mkdtemp: %s: %m", tmpdir);
        vmc_guest_free_strings(roots);
        return -1;
    }
    for (i = 0; roots[i]; i++) {
        struct json_object *os = root_facts(h, g, roots[i], tmpdir);

        if (os == NULL) {
            ret = -1;
            break;
        }
        json_object_array_add(oses, os);
    }
    if (roots[0])
        rmdir(tmpdir);
    vmc_guest_free_strings(roots);
    return ret;
}
