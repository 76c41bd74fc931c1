/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: fixing a Linux guest so that it boots on the target
 * (issue 16).  The appliance was launched on nbdkit's copy-on-write
 * overlays of the source disks, so everything written here lands in
 * the overlay, which the copy then reads: the source is never written.
 *
 * The guest's file systems are mounted read-write, then each concern
 * runs in its own file, in this order:
 *
 *   devnames.c   device names that change (/dev/sda1 ...) to UUID= in
 *                fstab, crypttab, resume= and the bootloader config
 *   tools.c      the old hypervisor's tools out, the QEMU agent on
 *   network.c    the interfaces keep their names and configuration
 *   boot.c       SELinux relabel, the UEFI fallback boot path
 *   initramfs.c  the target's disk drivers into each bootable kernel's
 *                initramfs (only when missing, with the guest's own
 *                tool): last, because the initramfs takes in what the
 *                others changed (the .link files and udev rules,
 *                RESUME=, the configuration without the old tools)
 *
 * Each appends what it changed, file by file, to the report.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

void
vmc_guest_change(struct vmc_handle *h, struct json_object *changes,
                 const char *file, const char *fmt, ...)
{
    char *what = NULL, *s = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&what, fmt, ap) == -1)
        what = NULL;
    va_end(ap);
    if (what && asprintf(&s, "%s: %s", file, what) != -1) {
        vmc_debug(h, "guest: %s", s);
        json_object_array_add(changes, json_object_new_string(s));
    }
    free(what);
    free(s);
}

bool
vmc_guest_exists(guestfs_h *g, const char *path)
{
    int r;

    guestfs_push_error_handler(g, NULL, NULL);
    r = guestfs_exists(g, path);
    guestfs_pop_error_handler(g);
    return r == 1;
}

char *
vmc_guest_read(guestfs_h *g, const char *path)
{
    char *buf, *s = NULL;
    size_t len = 0;

    guestfs_push_error_handler(g, NULL, NULL);
    buf = guestfs_read_file(g, path, &len);
    guestfs_pop_error_handler(g);
    if (buf && (s = malloc(len + 1)) != NULL) {
        memcpy(s, buf, len);
        s[len] = '\0';
    }
    free(buf);
    return s;
}

int
vmc_guest_write(struct vmc_handle *h, guestfs_h *g, const char *path,
                const char *content)
{
    if (guestfs_write(g, path, content, strlen(content)) == -1) {
        vmc_error(h, "guest: writing %s: %s", path, guestfs_last_error(g));
        return -1;
    }
    return 0;
}

int
vmc_guest_rm(struct vmc_handle *h, guestfs_h *g, const char *path)
{
    if (guestfs_rm_f(g, path) == -1) {
        vmc_error(h, "guest: removing %s: %s", path, guestfs_last_error(g));
        return -1;
    }
    return 0;
}

int
vmc_guest_sh(struct vmc_handle *h, guestfs_h *g, const char *what,
             const char *cmd)
{
    /* Output and errors both, in order: guestfs_sh fails on a non-zero
     * exit and its error then holds stderr only (stdout is dropped), so
     * on failure the whole output goes to stderr too.
     */
    CLEANUP_FREE char *full = NULL;
    char *out;

    if (asprintf(&full, "vmc_out=$( { %s\n} 2>&1 ); vmc_rc=$?; "
                 "printf '%%s\\n' \"$vmc_out\"; "
                 "if [ $vmc_rc != 0 ]; then "
                 "printf '%%s\\n' \"$vmc_out\" >&2; exit $vmc_rc; fi",
                 cmd) == -1) {
        vmc_error(h, "out of memory");
        return -1;
    }
    vmc_debug(h, "guest: %s: running: %s", what, cmd);
    out = guestfs_sh(g, full);
    if (out == NULL) {
        const char *e = guestfs_last_error(g);
        size_t l = e ? strlen(e) : 0;

        /* The end of the output says what went wrong. */
        vmc_error(h, "guest: %s failed: %s", what,
                  e ? (l > 2000 ? e + l - 2000 : e) : "failed");
        return -1;
    }
    vmc_debug(h, "guest: %s: %s", what, out);
    free(out);
    return 0;
}

static int
cmp_mp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;

    return (int) strlen(x[0]) - (int) strlen(y[0]);
}

/* Mount ROOT's file systems read-write, shortest mount point first.  A
 * file system that cannot be mounted is an error unless it is not
 * needed (swap has no mount point here).
 */
static int
fix_mount(struct vmc_handle *h, guestfs_h *g, const char *root)
{
    char **mps = guestfs_inspect_get_mountpoints(g, root);
    size_t i, n = 0;
    int r = 0;

    if (mps == NULL) {
        vmc_error(h, "guest: %s: no mount points: %s", root,
                  guestfs_last_error(g));
        return -1;
    }
    while (mps[n])
        n++;
    qsort(mps, n / 2, 2 * sizeof *mps, cmp_mp);
    for (i = 0; i + 1 < n && r == 0; i += 2)
        if (guestfs_mount(g, mps[i + 1], mps[i]) == -1) {
            if (strcmp(mps[i], "/") == 0) {
                vmc_error(h, "guest: cannot mount the root file system %s "
                          "read-write: %s", mps[i + 1],
                          guestfs_last_error(g));
                r = -1;
            }
            else
                vmc_warning(h, "guest: cannot mount %s on %s: %s: it is "
                            "left as it is", mps[i + 1], mps[i],
                            guestfs_last_error(g));
        }
    vmc_guest_free_strings(mps);
    return r;
}

int
vmc_guest_fix_root(struct vmc_handle *h, guestfs_h *g,
                   const struct guest_fix_ctx *c, struct json_object *changes)
{
    static int (*const concerns[])(struct vmc_handle *,
                                    guestfs_h *,
                                    const struct guest_fix_ctx *,
                                    struct json_object *) = {
        /* in order (see the head of this file) */
        vmc_guest_fix_devnames,
        vmc_guest_fix_tools,
        vmc_guest_fix_network,
        vmc_guest_fix_boot,
        vmc_guest_fix_initramfs,
        NULL
    };
    size_t i;
    int r = 0;

    if (fix_mount(h, g, c->root) == -1) {
        guestfs_umount_all(g);
        return -1;
    }
    for (i = 0; concerns[i] && r == 0; i++) {
        r = concerns[i](h, g, c, changes);
        if (r == 0 && vmc_cancelled(h)) {
            vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
            r = -1;
        }
    }
    /* Flush the guest's writes to the overlay before it is read. */
    guestfs_sync(g);
    if (guestfs_umount_all(g) == -1 && r == 0) {
        vmc_error(h, "guest: unmounting the guest's file systems: %s",
                  guestfs_last_error(g));
        r = -1;
    }
    guestfs_sync(g);
    return r;
}
