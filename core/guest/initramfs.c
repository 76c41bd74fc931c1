/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest fix: the target's disk drivers in each bootable kernel's
 * initramfs.
 *
 * Inspection (initrd.c) already listed each kernel's initramfs and
 * which drivers it holds.  Only a kernel that can boot (it has an
 * initramfs and its modules) and lacks a driver the target's disks
 * need is touched, and only when the driver is a module file of that
 * kernel; its initramfs is rebuilt with the guest's own tool
 * (update-initramfs, dracut, or RHEL's mkinitrd), after the drivers
 * were added to the tool's configuration, so that later kernel updates
 * keep them.  The old image stays beside the new one as
 * INITRD.vmconv-orig when /boot has room for it.  The new image is
 * read back: a driver still missing is an error.  Rebuilding is the
 * slow part of a conversion under TCG, which is why nothing is rebuilt
 * that already has what it needs.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

#define INITRD_BACKUP_SUFFIX ".vmconv-orig"

static bool
any_exists(guestfs_h *g, const char *const *paths)
{
    for (; *paths; paths++)
        if (vmc_guest_exists(g, *paths))
            return true;
    return false;
}

const char *
vmc_guest_initramfs_tool(guestfs_h *g)
{
    static const char *const mkinitramfs[] = {
        "/usr/sbin/mkinitramfs", "/sbin/mkinitramfs", NULL };
    static const char *const update[] = {
        "/usr/sbin/update-initramfs", "/sbin/update-initramfs", NULL };
    static const char *const dracut[] = {
        "/usr/bin/dracut", "/usr/sbin/dracut", "/sbin/dracut", NULL };
    static const char *const mkinitrd[] = {
        "/sbin/mkinitrd", "/usr/sbin/mkinitrd", "/usr/bin/mkinitrd", NULL };

    /* initramfs-tools first: a Debian guest may have both installed
     * in the past, and the one whose generator is present wins.
     */
    if (any_exists(g, mkinitramfs) && any_exists(g, update))
        return "update-initramfs";
    if (any_exists(g, dracut))
        return "dracut";
    if (any_exists(g, mkinitrd))
        return "mkinitrd";
    return NULL;
}

/* Does the kernel K (inspection's object) have DRIVER in its initramfs
 * or built in?  Set *MODULE to whether it is a module file.
 */
static bool
kernel_has(struct json_object *k, const char *driver, bool *module)
{
    struct json_object *d = json_object_object_get(
        json_object_object_get(k, "drivers"), driver);

    *module = json_object_get_boolean(json_object_object_get(d, "module"));
    return json_object_get_boolean(json_object_object_get(d, "initramfs")) ||
        json_object_get_boolean(json_object_object_get(d, "built-in"));
}

/* Is NAME a whole line of TEXT (comments and blanks aside)? */
static bool
text_has_line(const char *text, const char *name)
{
    size_t n = strlen(name);
    const char *p = text;

    while (p && *p) {
        p += strspn(p, " \t");
        /* strchr finds the terminator too: NAME at the very end. */
        if (strncmp(p, name, n) == 0 && strchr(" \t\r\n", p[n]))
            return true;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

/* Add DRIVERS (space-separated) to the tool's configuration so that
 * every initramfs the guest builds from now on has them.
 */
static int
config_add(struct vmc_handle *h, guestfs_h *g, const char *tool,
           const char *target, const char *const *drivers,
           struct json_object *changes)
{
    CLEANUP_FREE char *old = NULL, *list = NULL;
    const char *path;
    size_t len = 0, i;
    FILE *f;

    f = open_memstream(&list, &len);
    if (f == NULL) {
        vmc_error(h, "out of memory");
        return -1;
    }
    if (strcmp(tool, "update-initramfs") == 0) {
        path = "/etc/initramfs-tools/modules";
        guestfs_push_error_handler(g, NULL, NULL);
        old = guestfs_cat(g, path);
        guestfs_pop_error_handler(g);
        fprintf(f, "%s%s# Added by vmconv: the %s target's disk drivers\n",
                old ? old : "",
                old && *old && old[strlen(old) - 1] != '\n' ? "\n" : "",
                target);
        for (i = 0; drivers[i]; i++)
            if (old == NULL || !text_has_line(old, drivers[i]))
                fprintf(f, "%s\n", drivers[i]);
    }
    else if (strcmp(tool, "dracut") == 0) {
        path = "/etc/dracut.conf.d/90-vmconv.conf";
        fprintf(f, "# Added by vmconv: the %s target's disk drivers\n"
                "add_drivers+=\" ", target);
        for (i = 0; drivers[i]; i++)
            fprintf(f, "%s ", drivers[i]);
        fprintf(f, "\"\n");
        if (guestfs_mkdir_p(g, "/etc/dracut.conf.d") == -1) {
            fclose(f);
            vmc_error(h, "guest: /etc/dracut.conf.d: %s",
                      guestfs_last_error(g));
            return -1;
        }
    }
    else {
        /* RHEL's mkinitrd takes the drivers on its command line only. */
        fclose(f);
        return 0;
    }
    if (fclose(f) != 0) {
        vmc_error(h, "out of memory");
        return -1;
    }
    if (guestfs_write(g, path, list, len) == -1) {
        vmc_error(h, "guest: writing %s: %s", path, guestfs_last_error(g));
        return -1;
    }
    vmc_guest_change(h, changes, path, "%s the %s target's disk drivers so "
                     "that every initramfs built from now on has them",
                     old ? "added" : "created with", target);
    return 0;
}

/* Keep the old image as INITRD.vmconv-orig when the file system has
 * room for it and one more of its size.
 */
static void
backup(struct vmc_handle *h, guestfs_h *g, const char *initrd,
       struct json_object *changes)
{
    CLEANUP_FREE char *bak = NULL;
    struct guestfs_statvfs *sv;
    int64_t size;

    if (asprintf(&bak, "%s%s", initrd, INITRD_BACKUP_SUFFIX) == -1)
        return;
    if (vmc_guest_exists(g, bak))
        return;                  /* from an earlier conversion: keep it */
    size = guestfs_filesize(g, initrd);
    sv = guestfs_statvfs(g, initrd);
    if (size < 0 || sv == NULL ||
        (uint64_t) sv->bavail * (uint64_t) sv->bsize < 3 * (uint64_t) size) {
        vmc_warning(h, "guest: %s: not enough room beside it to keep the "
                    "old image: it is replaced", initrd);
        guestfs_free_statvfs(sv);
        return;
    }
    guestfs_free_statvfs(sv);
    if (guestfs_cp_a(g, initrd, bak) == -1) {
        vmc_warning(h, "guest: %s: cannot keep the old image: %s", initrd,
                    guestfs_last_error(g));
        return;
    }
    vmc_guest_change(h, changes, bak, "the old initramfs, kept");
}

/* Rebuild kernel VER's INITRD with TOOL so that it holds DRIVERS. */
static int
rebuild(struct vmc_handle *h, guestfs_h *g, const char *tool,
        const char *ver, const char *initrd, const char *const *drivers)
{
    CLEANUP_FREE char *cmd = NULL, *with = NULL;
    size_t len = 0, i;
    FILE *f;
    int r;

    /* Kernel versions and paths come from the guest: they are quoted
     * for the shell, and inspection only takes names that follow
     * /boot/vmlinuz-.
     */
    if (strpbrk(ver, "'\\\n") || strpbrk(initrd, "'\\\n")) {
        vmc_error(h, "guest: kernel %s: its name cannot be passed to %s",
                  ver, tool);
        return -1;
    }
    if (strcmp(tool, "update-initramfs") == 0)
        r = asprintf(&cmd, "update-initramfs -u -k '%s'", ver);
    else if (strcmp(tool, "dracut") == 0)
        r = asprintf(&cmd, "dracut -f '%s' '%s'", initrd, ver);
    else {
        f = open_memstream(&with, &len);
        if (f == NULL) {
            vmc_error(h, "out of memory");
            return -1;
        }
        for (i = 0; drivers[i]; i++)
            fprintf(f, " --with=%s", drivers[i]);
        if (fclose(f) != 0) {
            vmc_error(h, "out of memory");
            return -1;
        }
        r = asprintf(&cmd, "mkinitrd -f%s '%s' '%s'", with, initrd, ver);
    }
    if (r == -1) {
        vmc_error(h, "out of memory");
        return -1;
    }
    vmc_info(h, "guest: rebuilding the initramfs of kernel %s with %s "
             "(slow without KVM)", ver, tool);
    return vmc_guest_sh(h, g, tool, cmd);
}

int
vmc_guest_fix_initramfs(struct vmc_handle *h, guestfs_h *g,
                        const struct guest_fix_ctx *c,
                        struct json_object *changes)
{
    struct json_object *kernels = json_object_object_get(c->os, "kernels");
    size_t i, j, n = json_object_array_length(kernels);
    size_t bootable = 0, good = 0, nd = 0;
    const char *tool = vmc_guest_initramfs_tool(g);
    const char **missing = NULL;
    struct json_object *names = NULL;
    bool configured = false;
    int ret = -1;

    for (j = 0; c->boot_drivers && c->boot_drivers[j]; j++)
        nd++;
    missing = calloc(nd + 1, sizeof *missing);
    if (missing == NULL) {
        vmc_error(h, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        struct json_object *k = json_object_array_get_idx(kernels, i);
        const char *ver = json_object_get_string(
            json_object_object_get(k, "version"));
        const char *initrd = json_object_get_string(
            json_object_object_get(k, "initramfs"));
        size_t nm = 0;
        bool unfixable = false;

        if (!json_object_get_boolean(json_object_object_get(k, "bootable")))
            continue;
        bootable++;
        for (j = 0; j < nd; j++) {
            bool module;

            if (kernel_has(k, c->boot_drivers[j], &module))
                continue;
            if (!module) {
                vmc_warning(h, "guest: kernel %s has no %s module: it "
                            "cannot boot from the target's disks", ver,
                            c->boot_drivers[j]);
                unfixable = true;
                break;
            }
            missing[nm++] = c->boot_drivers[j];
        }
        missing[nm] = NULL;
        if (unfixable)
            continue;
        if (nm == 0) {
            good++;
            continue;
        }
        if (tool == NULL) {
            vmc_warning(h, "guest: kernel %s: its initramfs lacks %s and "
                        "the guest has no tool to rebuild it "
                        "(update-initramfs, dracut, mkinitrd)", ver,
                        missing[0]);
            continue;
        }
        if (!configured) {
            if (config_add(h, g, tool, c->target, c->boot_drivers,
                           changes) == -1)
                goto out;
            configured = true;
        }
        backup(h, g, initrd, changes);
        if (rebuild(h, g, tool, ver, initrd, missing) == -1)
            goto out;
        /* Read it back: the tool may have left a driver out. */
        names = vmc_guest_initrd_list(h, g, initrd, c->tmpdir);
        if (names == NULL)
            goto out;
        for (j = 0; j < nm; j++)
            if (!vmc_guest_initrd_has(names, missing[j])) {
                json_object_put(names);
                names = NULL;
                vmc_error(h, "guest: kernel %s: %s rebuilt %s, and it "
                          "still lacks %s", ver, tool, initrd, missing[j]);
                goto out;
            }
        vmc_guest_change(h, changes, initrd, "rebuilt with %s to add %s%s%s"
                         "%s", tool, missing[0],
                         nm > 1 ? " and " : "", nm > 1 ? missing[1] : "",
                         nm > 2 ? " and more of the target's drivers" : "");
        json_object_put(names);
        names = NULL;
        good++;
    }
    if (bootable > 0 && good == 0 && nd > 0) {
        vmc_error(h, "guest: no kernel of the guest can boot from the "
                  "target's disks (it needs %s in its initramfs)",
                  c->boot_drivers[0]);
        goto out;
    }
    ret = 0;
 out:
    free(missing);
    return ret;
}
