/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion, Linux fix: what the first boot on the target needs
 * beyond drivers.
 *
 * SELinux: the files the other concerns wrote (and dpkg/rpm run from
 * the appliance) carry no or wrong SELinux labels, which an enforcing
 * guest refuses to use.  /.autorelabel makes the guest relabel its
 * file systems at the next boot (selinux-autorelabel on Fedora/RHEL)
 * and reboot once.
 *
 * UEFI: a guest booted through its NVRAM boot entry (EFI/<distro>/
 * shimx64.efi) loses that entry when the UEFI variables are not carried
 * over; the firmware then boots the removable-media path EFI/BOOT/
 * BOOTX64.EFI of the EFI system partition, which many installs lack.
 * The distro's loader is copied there.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

/* SELINUX= in /etc/selinux/config, or NULL (the caller frees). */
static char *
selinux_mode(guestfs_h *g)
{
    CLEANUP_FREE char *text = vmc_guest_read(g, "/etc/selinux/config");
    char *line, *save = NULL, *mode = NULL;

    for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *v;
        size_t l;

        line += strspn(line, " \t");
        if (strncmp(line, "SELINUX=", 8) != 0)
            continue;
        v = line + 8;
        v += strspn(v, " \t\"'");
        l = strcspn(v, " \t\"'#");
        free(mode);
        mode = strndup(v, l);     /* the last one wins, as for the shell */
    }
    return mode;
}

static int
fix_selinux(struct vmc_handle *h, guestfs_h *g, struct json_object *changes)
{
    CLEANUP_FREE char *mode = selinux_mode(g);

    if (mode == NULL || (strcasecmp(mode, "enforcing") != 0 &&
                         strcasecmp(mode, "permissive") != 0))
        return 0;
    if (vmc_guest_exists(g, "/.autorelabel"))
        return 0;
    if (guestfs_touch(g, "/.autorelabel") == -1) {
        vmc_error(h, "guest: creating /.autorelabel: %s",
                  guestfs_last_error(g));
        return -1;
    }
    vmc_guest_change(h, changes, "/.autorelabel", "created: SELinux is %s, "
                     "the guest relabels its files at the next boot", mode);
    return 0;
}

/* Is a file system mounted on MP (a path in the guest)? */
static bool
mounted(guestfs_h *g, const char *mp)
{
    char **m = guestfs_mountpoints(g);
    bool r = false;
    size_t i;

    for (i = 0; m && m[i] && m[i + 1] && !r; i += 2)
        r = strcmp(m[i + 1], mp) == 0;
    vmc_guest_free_strings(m);
    return r;
}

/* The mount point of the EFI system partition in the guest: the one
 * inspection found for "efi-system-partition", else /boot/efi or /efi;
 * NULL when there is none.  Sets *ESP to the partition when known.
 */
static const char *
esp_mountpoint(const struct guest_fix_ctx *c, const char **esp)
{
    struct json_object *mps = json_object_object_get(c->os, "mountpoints");

    *esp = json_object_get_string(
        json_object_object_get(c->os, "efi-system-partition"));
    if (*esp && mps) {
        json_object_object_foreach(mps, mp, dev)
            if (strcmp(json_object_get_string(dev), *esp) == 0)
                return mp;
    }
    if (json_object_object_get_ex(mps, "/boot/efi", NULL))
        return "/boot/efi";
    if (json_object_object_get_ex(mps, "/efi", NULL))
        return "/efi";
    return NULL;
}

/* The file names of the removable-media loader, shim and GRUB for the
 * guest's architecture, or false when it is not one UEFI boots here.
 */
static bool
arch_loaders(const struct guest_fix_ctx *c, const char **boot,
             const char **shim, const char **grub, const char **mm)
{
    const char *arch = json_object_get_string(
        json_object_object_get(c->os, "arch"));

    if (arch == NULL || strcmp(arch, "x86_64") == 0) {
        *boot = "BOOTX64.EFI", *shim = "shimx64.efi";
        *grub = "grubx64.efi", *mm = "mmx64.efi";
    }
    else if (strcmp(arch, "aarch64") == 0) {
        *boot = "BOOTAA64.EFI", *shim = "shimaa64.efi";
        *grub = "grubaa64.efi", *mm = "mmaa64.efi";
    }
    else if (strcmp(arch, "i386") == 0 || strcmp(arch, "i686") == 0) {
        *boot = "BOOTIA32.EFI", *shim = "shimia32.efi";
        *grub = "grubia32.efi", *mm = "mmia32.efi";
    }
    else
        return false;
    return true;
}

/* Copy SRC to DST in the guest and record it. */
static int
copy_recorded(struct vmc_handle *h, guestfs_h *g, const char *src,
              const char *dst, struct json_object *changes)
{
    if (guestfs_cp(g, src, dst) == -1) {
        vmc_error(h, "guest: copying %s to %s: %s", src, dst,
                  guestfs_last_error(g));
        return -1;
    }
    vmc_guest_change(h, changes, dst, "copied from %s (the UEFI "
                     "removable-media boot path)", src);
    return 0;
}

/* The distro's loader directory under EFI: the one named like the
 * distro when it has a loader, else the first with shim, else the first
 * with GRUB.  Sets *HAS_SHIM.  Returns a path the caller frees, or NULL.
 */
static char *
distro_loader_dir(guestfs_h *g, const char *efi, const char *distro,
                  const char *shim, const char *grub, bool *has_shim)
{
    char **ents;
    char *best = NULL;
    int best_score = 0;
    size_t i;

    guestfs_push_error_handler(g, NULL, NULL);
    ents = guestfs_ls(g, efi);
    guestfs_pop_error_handler(g);
    for (i = 0; ents && ents[i]; i++) {
        CLEANUP_FREE char *dir = NULL, *s = NULL, *gr = NULL;
        int score;
        bool sh;

        if (strcasecmp(ents[i], "BOOT") == 0 ||
            asprintf(&dir, "%s/%s", efi, ents[i]) == -1 ||
            asprintf(&s, "%s/%s", dir, shim) == -1 ||
            asprintf(&gr, "%s/%s", dir, grub) == -1)
            continue;
        sh = vmc_guest_exists(g, s);
        if (!sh && !vmc_guest_exists(g, gr))
            continue;
        score = (sh ? 2 : 1) +
            (distro && strcasecmp(ents[i], distro) == 0 ? 4 : 0);
        if (score > best_score) {
            free(best);
            best = common_steal_pointer(&dir);
            best_score = score;
            *has_shim = sh;
        }
    }
    vmc_guest_free_strings(ents);
    return best;
}

static int
fix_uefi(struct vmc_handle *h, guestfs_h *g, const struct guest_fix_ctx *c,
         struct json_object *changes)
{
    const char *esp = NULL;
    const char *mp = esp_mountpoint(c, &esp);
    const char *distro = json_object_get_string(
        json_object_object_get(c->os, "distro"));
    const char *boot, *shim, *grub, *mm;
    CLEANUP_FREE char *efi = NULL, *bootdir = NULL, *fallback = NULL;
    CLEANUP_FREE char *src = NULL;
    bool has_shim = false;
    const char *beside[3];
    size_t i, nb = 0;

    if (!arch_loaders(c, &boot, &shim, &grub, &mm)) {
        vmc_warning(h, "guest: no UEFI fallback loader name for this "
                    "architecture: the guest may not boot without its "
                    "NVRAM boot entry");
        return 0;
    }
    if (mp == NULL) {
        vmc_warning(h, "guest: no EFI system partition is mounted in the "
                    "guest's fstab: the guest may not boot without its "
                    "NVRAM boot entry");
        return 0;
    }
    /* fix.c leaves a file system it cannot mount as it is: not ours to
     * write into the directory beneath.
     */
    if (!mounted(g, mp)) {
        vmc_warning(h, "guest: the EFI system partition%s%s is not mounted "
                    "on %s: its fallback boot path is left as it is, and "
                    "the guest may not boot without its NVRAM boot entry",
                    esp ? " " : "", esp ? esp : "", mp);
        return 0;
    }
    if (asprintf(&efi, "%s/EFI", strcmp(mp, "/") == 0 ? "" : mp) == -1 ||
        asprintf(&bootdir, "%s/BOOT", efi) == -1 ||
        asprintf(&fallback, "%s/%s", bootdir, boot) == -1) {
        vmc_error(h, "out of memory");
        return -1;
    }
    /* vfat looks names up without regard to case: BOOT/BOOTX64.EFI also
     * finds boot/bootx64.efi.
     */
    if (vmc_guest_exists(g, fallback))
        return 0;
    src = distro_loader_dir(g, efi, distro, shim, grub, &has_shim);
    if (src == NULL) {
        vmc_warning(h, "guest: %s has neither %s nor a distribution's "
                    "loader (%s, %s) to put there: the guest may not boot "
                    "without its NVRAM boot entry", efi, fallback + strlen(efi)
                    + 1, shim, grub);
        return 0;
    }
    if (guestfs_mkdir_p(g, bootdir) == -1) {
        vmc_error(h, "guest: creating %s: %s", bootdir, guestfs_last_error(g));
        return -1;
    }
    /* shim as the fallback loads grubx64.efi from its own directory
     * (and mmx64.efi for MOK enrolment); GRUB alone is the loader
     * itself.  The distributions' signed GRUB images fall back to the
     * grub.cfg beside them ($cmdpath) when their built-in prefix has
     * none: the distro's stub config (which finds /boot/grub) goes
     * along.
     */
    {
        CLEANUP_FREE char *from = NULL;

        if (asprintf(&from, "%s/%s", src, has_shim ? shim : grub) == -1) {
            vmc_error(h, "out of memory");
            return -1;
        }
        if (copy_recorded(h, g, from, fallback, changes) == -1)
            return -1;
    }
    if (has_shim) {
        beside[nb++] = grub;
        beside[nb++] = mm;
    }
    beside[nb++] = "grub.cfg";
    for (i = 0; i < nb; i++) {
        CLEANUP_FREE char *from = NULL, *to = NULL;

        if (asprintf(&from, "%s/%s", src, beside[i]) == -1 ||
            asprintf(&to, "%s/%s", bootdir, beside[i]) == -1) {
            vmc_error(h, "out of memory");
            return -1;
        }
        if (!vmc_guest_exists(g, from) || vmc_guest_exists(g, to))
            continue;
        if (copy_recorded(h, g, from, to, changes) == -1)
            return -1;
    }
    return 0;
}

int
vmc_guest_fix_boot(struct vmc_handle *h, guestfs_h *g,
                   const struct guest_fix_ctx *c, struct json_object *changes)
{
    if (fix_selinux(h, g, changes) == -1)
        return -1;
    if (c->firmware_uefi && !c->nvram_kept)
        return fix_uefi(h, g, c, changes);
    return 0;
}
