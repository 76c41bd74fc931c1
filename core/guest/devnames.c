/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest fix: device names that change with the disk bus.
 *
 * A guest that names its disks by kernel name (/dev/sda1 on VMware's
 * SCSI or SATA, /dev/hda1 on IDE, /dev/xvda1 on Xen, /dev/vda1 on
 * virtio, /dev/nvme0n1p1) finds another name on the target's bus.  The
 * names become UUID= (or LABEL= when the file system has no UUID) in
 * /etc/fstab, /etc/crypttab, the kernel's root= and resume= in the
 * bootloader's configuration (GRUB 2's grub.cfg and /etc/default/grub,
 * GRUB legacy's menu.lst, boot loader entries) and initramfs-tools'
 * RESUME=.  GRUB_DISABLE_LINUX_UUID=true, which makes update-grub
 * write kernel names again, is turned off, and GRUB 2's device.map,
 * which names the old disks, is removed (grub-install makes a new one
 * when it needs one).  LVM, md and names by UUID, label or path are
 * left alone: they do not change.
 *
 * The guest's Nth disk is the appliance's Nth drive (both in the VM's
 * order), so /dev/sdb2 in the guest is partition 2 of the appliance's
 * second drive, whose file system UUID is read there.  A name whose
 * partition has no file system ID is left as it is, with a warning.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

/* The appliance's drives (guestfs_list_devices), in the VM's order. */
struct devmap {
    char **devs;
    size_t n;
};

/* The disk index and partition number of the kernel name NAME
 * ("/dev/sdb2" -> 1, 2; "/dev/nvme0n1p3" -> 0, 3; "/dev/hda" -> 0, 0),
 * with *LEN the length of the name in NAME (it may be followed by other
 * text).  False when NAME is not such a name.
 */
static bool
parse_kernel_name(const char *name, size_t *disk, unsigned *part,
                  size_t *len)
{
    static const char *const prefixes[] = { "sd", "hd", "xvd", "vd", NULL };
    const char *p;
    size_t i, d = 0;
    unsigned long v;
    char *end;

    if (strncmp(name, "/dev/", 5) != 0)
        return false;
    p = name + 5;
    if (strncmp(p, "nvme", 4) == 0 && isdigit((unsigned char) p[4])) {
        v = strtoul(p + 4, &end, 10);
        if (*end != 'n' || !isdigit((unsigned char) end[1]) || v > 64)
            return false;
        d = v;
        strtoul(end + 1, &end, 10);
        *part = 0;
        if (*end == 'p' && isdigit((unsigned char) end[1])) {
            v = strtoul(end + 1, &end, 10);
            if (v > 256)
                return false;
            *part = (unsigned) v;
        }
        p = end;
        goto done;
    }
    for (i = 0; prefixes[i]; i++)
        if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0 &&
            islower((unsigned char) p[strlen(prefixes[i])]))
            break;
    if (prefixes[i] == NULL)
        return false;
    p += strlen(prefixes[i]);
    /* sda..sdz, then sdaa..: bijective base 26. */
    while (islower((unsigned char) *p)) {
        d = d * 26 + (size_t) (*p - 'a') + 1;
        if (d > 1000)
            return false;
        p++;
    }
    d--;
    *part = 0;
    if (isdigit((unsigned char) *p)) {
        v = strtoul(p, &end, 10);
        if (v > 256)
            return false;
        *part = (unsigned) v;
        p = end;
    }
 done:
    /* The name must end here (a path such as /dev/sda1/x is not one). */
    if (*p != '\0' && strchr(" \t\n\"',;)", *p) == NULL)
        return false;
    *disk = d;
    *len = (size_t) (p - name);
    return true;
}

/* "UUID=..." or "LABEL=..." for the kernel name NAME (LEN bytes), or
 * NULL (not a name that changes, no such partition, no ID).
 */
static char *
spec_for(struct vmc_handle *h, guestfs_h *g, const struct devmap *m,
         const char *name, size_t len)
{
    CLEANUP_FREE char *adev = NULL, *uuid = NULL, *label = NULL;
    char *spec = NULL;
    size_t disk, l;
    unsigned part;

    if (!parse_kernel_name(name, &disk, &part, &l) || l != len)
        return NULL;
    if (disk >= m->n) {
        vmc_warning(h, "guest: %.*s names a disk the VM does not have: "
                    "left as it is", (int) len, name);
        return NULL;
    }
    if (part > 0) {
        if (asprintf(&adev, "%s%u", m->devs[disk], part) == -1)
            return NULL;
    }
    else if ((adev = strdup(m->devs[disk])) == NULL)
        return NULL;
    guestfs_push_error_handler(g, NULL, NULL);
    uuid = guestfs_vfs_uuid(g, adev);
    if (uuid == NULL || *uuid == '\0')
        label = guestfs_vfs_label(g, adev);
    guestfs_pop_error_handler(g);
    if (uuid && *uuid) {
        if (asprintf(&spec, "UUID=%s", uuid) == -1)
            spec = NULL;
    }
    else if (label && *label && strpbrk(label, " \t\n\"'\\") == NULL) {
        if (asprintf(&spec, "LABEL=%s", label) == -1)
            spec = NULL;
    }
    else
        vmc_warning(h, "guest: %.*s: its file system has no UUID or label "
                    "to name it by: left as it is", (int) len, name);
    return spec;
}

/* A growable output string. */
struct out {
    char *s;
    size_t len;
    FILE *f;
};

/* Rewrite field FIELD (0-based, whitespace-separated) of each line of
 * TEXT that is not a comment (fstab, crypttab).  Returns the new text
 * (NULL when out of memory) and the number of names changed in *N.
 */
static char *
rewrite_field(struct vmc_handle *h, guestfs_h *g, const struct devmap *m,
              const char *text, unsigned field, unsigned *n)
{
    struct out o = { NULL, 0, NULL };
    const char *p = text;

    *n = 0;
    o.f = open_memstream(&o.s, &o.len);
    if (o.f == NULL)
        return NULL;
    while (*p) {
        const char *eol = p + strcspn(p, "\n");
        const char *q = p + strspn(p, " \t");
        unsigned f = 0;

        if (*q != '#' && q < eol) {
            /* Find the start and end of the field. */
            while (f < field && q < eol) {
                q += strcspn(q, " \t\n");
                q += strspn(q, " \t");
                f++;
            }
            if (f == field && q < eol) {
                size_t flen = strcspn(q, " \t\n");
                CLEANUP_FREE char *spec = spec_for(h, g, m, q, flen);

                if (spec) {
                    fwrite(p, 1, (size_t) (q - p), o.f);
                    fputs(spec, o.f);
                    p = q + flen;
                    (*n)++;
                }
            }
        }
        fwrite(p, 1, (size_t) (eol - p), o.f);
        if (*eol == '\n')
            fputc('\n', o.f);
        p = *eol ? eol + 1 : eol;
    }
    if (fclose(o.f) != 0) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

/* Rewrite every KEY/dev/... in TEXT (KEY being root=, resume= or
 * RESUME=, at the start of a word).  As rewrite_field.
 */
static char *
rewrite_params(struct vmc_handle *h, guestfs_h *g, const struct devmap *m,
               const char *text, unsigned *n)
{
    static const char *const keys[] = { "root=", "resume=", "RESUME=",
                                        NULL };
    struct out o = { NULL, 0, NULL };
    const char *p = text;

    *n = 0;
    o.f = open_memstream(&o.s, &o.len);
    if (o.f == NULL)
        return NULL;
    while (*p) {
        size_t i, kl = 0;

        for (i = 0; keys[i]; i++) {
            kl = strlen(keys[i]);
            if (strncmp(p, keys[i], kl) == 0 &&
                (p == text || strchr(" \t\n\"'", p[-1])))
                break;
        }
        if (keys[i] && strncmp(p + kl, "/dev/", 5) == 0) {
            size_t dlen = strcspn(p + kl, " \t\n\"'");
            CLEANUP_FREE char *spec = spec_for(h, g, m, p + kl, dlen);

            if (spec) {
                fwrite(p, 1, kl, o.f);
                fputs(spec, o.f);
                p += kl + dlen;
                (*n)++;
                continue;
            }
            fwrite(p, 1, kl + dlen, o.f);
            p += kl + dlen;
            continue;
        }
        fputc(*p++, o.f);
    }
    if (fclose(o.f) != 0) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

/* Apply REWRITE to the guest file PATH (if present); record it. */
static int
fix_file(struct vmc_handle *h, guestfs_h *g, const struct devmap *m,
         const char *path, int field, struct json_object *changes)
{
    CLEANUP_FREE char *text = vmc_guest_read(g, path), *out = NULL;
    unsigned n = 0;

    if (text == NULL)
        return 0;
    out = field >= 0
        ? rewrite_field(h, g, m, text, (unsigned) field, &n)
        : rewrite_params(h, g, m, text, &n);
    if (out == NULL) {
        vmc_error(h, "out of memory");
        return -1;
    }
    if (n == 0 || strcmp(out, text) == 0)
        return 0;
    if (vmc_guest_write(h, g, path, out) == -1)
        return -1;
    vmc_guest_change(h, changes, path, "%u device name%s that change%s on "
                     "the target's bus now by UUID or label", n,
                     n == 1 ? "" : "s", n == 1 ? "s" : "");
    return 0;
}

/* GRUB_DISABLE_LINUX_UUID=true would bring the kernel names back at
 * the next update-grub: comment it out.
 */
static int
fix_default_grub(struct vmc_handle *h, guestfs_h *g,
                 struct json_object *changes)
{
    const char *path = "/etc/default/grub";
    CLEANUP_FREE char *text = vmc_guest_read(g, path), *out = NULL;
    size_t len = 0;
    const char *p;
    bool changed = false;
    FILE *f;

    if (text == NULL)
        return 0;
    f = open_memstream(&out, &len);
    if (f == NULL) {
        vmc_error(h, "out of memory");
        return -1;
    }
    for (p = text; *p;) {
        const char *eol = p + strcspn(p, "\n");
        const char *q = p + strspn(p, " \t");

        if (strncmp(q, "GRUB_DISABLE_LINUX_UUID=", 24) == 0 &&
            strncmp(q + 24, "false", 5) != 0 &&
            strncmp(q + 24, "\"false\"", 7) != 0) {
            fputs("# Turned off by vmconv: disk names change on the new "
                  "hypervisor\n# ", f);
            changed = true;
        }
        fwrite(p, 1, (size_t) (eol - p), f);
        if (*eol == '\n')
            fputc('\n', f);
        p = *eol ? eol + 1 : eol;
    }
    if (fclose(f) != 0) {
        vmc_error(h, "out of memory");
        return -1;
    }
    if (!changed)
        return 0;
    if (vmc_guest_write(h, g, path, out) == -1)
        return -1;
    vmc_guest_change(h, changes, path, "GRUB_DISABLE_LINUX_UUID turned off, "
                     "so that update-grub names the root file system by "
                     "UUID");
    return 0;
}

int
vmc_guest_fix_devnames(struct vmc_handle *h, guestfs_h *g,
                       const struct guest_fix_ctx *c,
                       struct json_object *changes)
{
    static const char *const params_files[] = {
        "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg",
        "/etc/grub2.cfg", "/etc/default/grub",
        "/boot/grub/menu.lst", "/boot/grub/grub.conf",
        "/etc/initramfs-tools/conf.d/resume",
        NULL
    };
    struct devmap m = { NULL, 0 };
    char **entries = NULL;
    size_t i;
    int r = -1;

    (void) c;
    m.devs = guestfs_list_devices(g);
    if (m.devs == NULL) {
        vmc_error(h, "guest: listing the disks: %s", guestfs_last_error(g));
        return -1;
    }
    while (m.devs[m.n])
        m.n++;
    if (fix_file(h, g, &m, "/etc/fstab", 0, changes) == -1 ||
        fix_file(h, g, &m, "/etc/crypttab", 1, changes) == -1)
        goto out;
    for (i = 0; params_files[i]; i++)
        if (fix_file(h, g, &m, params_files[i], -1, changes) == -1)
            goto out;
    /* Boot loader entries (BLS: Fedora, RHEL 8 and later). */
    guestfs_push_error_handler(g, NULL, NULL);
    entries = guestfs_glob_expand(g, "/boot/loader/entries/*.conf");
    guestfs_pop_error_handler(g);
    for (i = 0; entries && entries[i]; i++)
        if (fix_file(h, g, &m, entries[i], -1, changes) == -1)
            goto out;
    if (fix_default_grub(h, g, changes) == -1)
        goto out;
    /* GRUB 2's device.map names the old disks; GRUB legacy needs its
     * own, so it stays there (its names are the BIOS's, hd0).
     */
    if (vmc_guest_exists(g, "/boot/grub/device.map") &&
        !vmc_guest_exists(g, "/boot/grub/menu.lst")) {
        if (guestfs_rm(g, "/boot/grub/device.map") == -1) {
            vmc_error(h, "guest: removing /boot/grub/device.map: %s",
                      guestfs_last_error(g));
            goto out;
        }
        vmc_guest_change(h, changes, "/boot/grub/device.map",
                         "removed: it named the old disks (grub-install "
                         "makes a new one when it needs one)");
    }
    r = 0;
 out:
    vmc_guest_free_strings(entries);
    vmc_guest_free_strings(m.devs);
    return r;
}
