/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion, Linux fix: the old hypervisor's guest tools out,
 * the QEMU guest agent on.
 *
 * The tools of a hypervisor the guest no longer runs on are at best
 * dead weight (open-vm-tools logs "not running in a VMware VM" and
 * exits) and at worst harmful (the VMware Tools tarball installs its
 * own kernel modules and X drivers, hyperv-daemons' units wait for
 * devices that never come).  They are removed with the guest's own
 * package manager, offline: dpkg and rpm run in the guest (chroot) and
 * need no network.  One `sh` per package manager, since every program
 * run in the appliance costs seconds under TCG.
 *
 * Which tools go: those of the source hypervisor when the target is
 * another one; when the source is unknown ("disk"), those of every
 * hypervisor but the target.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

/* The packages of each hypervisor's tools, by package format; each
 * list is removed in one command, so the packages that depend on
 * others come first only for readability (dpkg and rpm order them).
 * open-vm-tools: Debian/Ubuntu and Fedora/RHEL/SUSE name it alike,
 * with -desktop, -sdmp (service discovery) and -containerinfo
 * subpackages, and -salt-minion on RHEL/SUSE.  Hyper-V: Debian ships
 * "hyperv-daemons" (from the linux source package); Fedora/RHEL split
 * it into hypervkvpd, hypervvssd, hypervfcopyd under the hyperv-daemons
 * meta package (with hyperv-daemons-license and hyperv-tools); SUSE
 * names it "hyper-v".  Ubuntu's linux-cloud-tools-* are tied to kernel
 * versions and are left alone.
 */
static const char *const vmware_deb[] = {
    "open-vm-tools-desktop", "open-vm-tools-sdmp",
    "open-vm-tools-containerinfo", "open-vm-tools", NULL
};
static const char *const vmware_rpm[] = {
    "open-vm-tools-desktop", "open-vm-tools-sdmp",
    "open-vm-tools-containerinfo", "open-vm-tools-salt-minion",
    "open-vm-tools", NULL
};
static const char *const hyperv_deb[] = { "hyperv-daemons", NULL };
static const char *const hyperv_rpm[] = {
    "hyperv-daemons", "hypervkvpd", "hypervvssd", "hypervfcopyd",
    "hyperv-tools", "hyperv-daemons-license", "hyper-v", NULL
};

/* The guest's package format ("deb", "rpm") from inspection, or "". */
static const char *
package_format(const struct guest_fix_ctx *c)
{
    const char *f = json_object_get_string(
        json_object_object_get(c->os, "package-format"));

    return f ? f : "";
}

/* Is the Debian package NAME installed (unpacked) in the guest?  dpkg
 * keeps /var/lib/dpkg/info/NAME.list (NAME:ARCH.list for multi-arch
 * "same" packages) for exactly the packages whose files are on disk,
 * which is cheaper to look at than parsing the status file.
 */
static bool
deb_installed(guestfs_h *g, const char *name)
{
    char path[256];
    char **m;
    bool r;

    snprintf(path, sizeof path, "/var/lib/dpkg/info/%s.list", name);
    if (vmc_guest_exists(g, path))
        return true;
    snprintf(path, sizeof path, "/var/lib/dpkg/info/%s:*.list", name);
    guestfs_push_error_handler(g, NULL, NULL);
    m = guestfs_glob_expand(g, path);
    guestfs_pop_error_handler(g);
    r = m && m[0];
    vmc_guest_free_strings(m);
    return r;
}

/* Append to *LIST (a space-separated string, grown) each name of PKGS
 * that is installed.  For rpm, the rpm database cannot be read without
 * rpm: one `rpm -q` for the whole list.  Returns 0, or -1 with an
 * error set on H.
 */
static int
installed(struct vmc_handle *h, guestfs_h *g, const char *format,
          const char *const *pkgs, char **list)
{
    CLEANUP_FREE char *out = NULL, *cmd = NULL;
    size_t i;

    if (strcmp(format, "rpm") == 0) {
        FILE *f;
        size_t len = 0;

        f = open_memstream(&cmd, &len);
        if (f == NULL) {
            vmc_error(h, "out of memory");
            return -1;
        }
        fputs("rpm -q --qf '%{NAME}\\n'", f);
        for (i = 0; pkgs[i]; i++)
            fprintf(f, " %s", pkgs[i]);
        /* rpm -q fails when any is missing: that is the usual case. */
        fputs(" 2>/dev/null; true", f);
        if (fclose(f) != 0) {
            vmc_error(h, "out of memory");
            return -1;
        }
        out = guestfs_sh(g, cmd);
        if (out == NULL) {
            vmc_warning(h, "guest: cannot query the rpm database: %s",
                        guestfs_last_error(g));
            return 0;
        }
    }
    for (i = 0; pkgs[i]; i++) {
        bool yes = false;
        char *s;

        if (strcmp(format, "deb") == 0)
            yes = deb_installed(g, pkgs[i]);
        else if (out) {
            /* a line that is exactly the name */
            size_t l = strlen(pkgs[i]);
            const char *p;

            for (p = out; (p = strstr(p, pkgs[i])) != NULL; p += l)
                if ((p == out || p[-1] == '\n') &&
                    (p[l] == '\n' || p[l] == '\0')) {
                    yes = true;
                    break;
                }
        }
        if (!yes)
            continue;
        if (asprintf(&s, "%s%s%s", *list ? *list : "", *list ? " " : "",
                     pkgs[i]) == -1) {
            vmc_error(h, "out of memory");
            return -1;
        }
        free(*list);
        *list = s;
    }
    return 0;
}

/* Remove the packages named in LIST (space-separated) with the guest's
 * package manager, each recorded.  A removal that fails is a warning:
 * the guest still boots with the tools in place.
 */
static int
remove_packages(struct vmc_handle *h, guestfs_h *g, const char *format,
                const char *list, struct json_object *changes)
{
    CLEANUP_FREE char *cmd = NULL, *names = NULL;
    char *p, *save = NULL;
    int r;

    if (strcmp(format, "deb") == 0)
        /* --purge: the conffiles (tools.conf ...) go too; no debconf
         * questions in the appliance.  The maintainer scripts stop the
         * services through invoke-rc.d, which a policy-rc.d exiting 101
         * ("action forbidden", invoke-rc.d(8)) turns into nothing, as
         * in any chroot; one the guest has of its own is left alone.
         */
        r = asprintf(&cmd, "p=/usr/sbin/policy-rc.d; "
                     "if [ ! -e $p ]; then trap 'rm -f $p' EXIT; "
                     "printf '#!/bin/sh\\nexit 101\\n' > $p; chmod 755 $p; "
                     "fi; DEBIAN_FRONTEND=noninteractive dpkg --purge %s",
                     list);
    else
        r = asprintf(&cmd, "rpm -e %s", list);
    if (r == -1 || (names = strdup(list)) == NULL) {
        vmc_error(h, "out of memory");
        return -1;
    }
    if (vmc_guest_sh(h, g, "removing the old hypervisor's tools", cmd) == -1) {
        vmc_warning(h, "%s: the packages are left installed",
                    vmc_get_error(h));
        vmc_clear_error(h);
        return 0;
    }
    for (p = strtok_r(names, " ", &save); p; p = strtok_r(NULL, " ", &save))
        vmc_guest_change(h, changes, p, "package removed (%s)",
                         strcmp(format, "deb") == 0 ? "dpkg --purge"
                         : "rpm -e");
    return 0;
}

/* Remove a VMware Tools tarball installation by hand: the files its
 * installer database lists, then the database and its service units.
 *
 * The database, /etc/vmware-tools/locations, is a log the installer
 * (vmware-install.pl, public in every VMware Tools tarball) appends to:
 * "file PATH [MTIME]" and "directory PATH" for what it installed,
 * "remove_file PATH" and "remove_directory PATH" when it took them
 * back, "answer KEY VALUE" for its settings.  The last word on a path
 * wins.  Directories are removed only when empty (rmdir), deepest
 * first, since the guest may have put its own files in /usr/lib or
 * /etc/pam.d.
 */
static int
tarball_remove_listed(struct vmc_handle *h, guestfs_h *g,
                      struct json_object *changes)
{
    CLEANUP_FREE char *db = vmc_guest_read(g, "/etc/vmware-tools/locations");
    struct json_object *files = json_object_new_object();
    struct json_object *dirs = json_object_new_object();
    char *line, *save = NULL;
    size_t nfiles = 0;
    int pass, removed;

    for (line = db ? strtok_r(db, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        char *path;

        if (sp == NULL)
            continue;
        *sp = '\0';
        path = sp + 1;
        if (strcmp(line, "file") == 0 && (sp = strchr(path, ' ')))
            *sp = '\0';       /* the MTIME */
        if (path[0] != '/' || strstr(path, "/../"))
            continue;
        if (strcmp(line, "file") == 0)
            json_object_object_add(files, path, json_object_new_boolean(1));
        else if (strcmp(line, "remove_file") == 0)
            json_object_object_del(files, path);
        else if (strcmp(line, "directory") == 0)
            json_object_object_add(dirs, path, json_object_new_boolean(1));
        else if (strcmp(line, "remove_directory") == 0)
            json_object_object_del(dirs, path);
    }
    json_object_object_foreach(files, path, v) {
        (void) v;
        if (guestfs_rm_f(g, path) == 0)
            nfiles++;
    }
    /* Deepest first: rmdir each directory while one was removed in
     * the pass before, so parents go after their children.
     */
    guestfs_push_error_handler(g, NULL, NULL);
    for (pass = 0, removed = 1; removed && pass < 16; pass++) {
        removed = 0;
        json_object_object_foreach(dirs, dpath, dv) {
            if (json_object_get_boolean(dv) && guestfs_rmdir(g, dpath) == 0) {
                json_object_object_add(dirs, dpath,
                                       json_object_new_boolean(0));
                removed = 1;
            }
        }
    }
    guestfs_pop_error_handler(g);
    json_object_put(files);
    json_object_put(dirs);
    if (nfiles > 0)
        vmc_guest_change(h, changes, "/etc/vmware-tools/locations",
                         "removed the %zu files of VMware Tools it lists",
                         nfiles);
    return 0;
}

/* The service units and init scripts the tarball installs (its
 * installer writes them outside its database on some versions), and
 * the database itself.
 */
static int
tarball_remove_units(struct vmc_handle *h, guestfs_h *g,
                     struct json_object *changes)
{
    static const char *const globs[] = {
        "/etc/init.d/vmware-tools*",
        "/etc/rc.d/init.d/vmware-tools*",
        "/etc/rc[0-6S].d/[SK][0-9][0-9]vmware-tools*",
        "/etc/rc.d/rc[0-6].d/[SK][0-9][0-9]vmware-tools*",
        "/etc/systemd/system/vmware-tools*.service",
        "/etc/systemd/system/*.wants/vmware-tools*.service",
        "/lib/systemd/system/vmware-tools*.service",
        "/usr/lib/systemd/system/vmware-tools*.service",
        "/etc/init/vmware-tools*.conf",
        NULL
    };
    size_t i, j;

    for (i = 0; globs[i]; i++) {
        char **m;

        guestfs_push_error_handler(g, NULL, NULL);
        m = guestfs_glob_expand(g, globs[i]);
        guestfs_pop_error_handler(g);
        for (j = 0; m && m[j]; j++) {
            if (vmc_guest_rm(h, g, m[j]) == -1) {
                vmc_guest_free_strings(m);
                return -1;
            }
            vmc_guest_change(h, changes, m[j], "removed (VMware Tools)");
        }
        vmc_guest_free_strings(m);
    }
    if (vmc_guest_exists(g, "/etc/vmware-tools")) {
        if (guestfs_rm_rf(g, "/etc/vmware-tools") == -1) {
            vmc_error(h, "guest: removing /etc/vmware-tools: %s",
                      guestfs_last_error(g));
            return -1;
        }
        vmc_guest_change(h, changes, "/etc/vmware-tools",
                         "removed (VMware Tools)");
    }
    return 0;
}

/* A VMware Tools tarball installation (not a package): its own
 * uninstaller when it works, else removed by hand.
 *
 * VMware's documentation (e.g. the Player 5.0 manual, "Uninstall
 * VMware Tools") names /usr/bin/vmware-uninstall-tools.pl for tar
 * installs; it is the installer itself under another name, and the
 * installer takes --default to use every default answer.  Whether the
 * uninstall path honours it differs between versions, so stdin is
 * /dev/null too, and a failure falls back to removing the files its
 * database lists.
 */
static int
remove_tarball(struct vmc_handle *h, guestfs_h *g,
               struct json_object *changes)
{
    static const char *const uninst = "/usr/bin/vmware-uninstall-tools.pl";

    if (!vmc_guest_exists(g, "/etc/vmware-tools/locations") &&
        !vmc_guest_exists(g, uninst))
        return 0;
    if (vmc_guest_exists(g, uninst) && vmc_guest_exists(g, "/usr/bin/perl")) {
        if (vmc_guest_sh(h, g, "vmware-uninstall-tools.pl",
                         "t=; command -v timeout >/dev/null && "
                         "t='timeout 600'; "
                         "$t /usr/bin/perl /usr/bin/vmware-uninstall-tools.pl "
                         "--default </dev/null") == 0 &&
            !vmc_guest_exists(g, "/etc/vmware-tools/locations")) {
            vmc_guest_change(h, changes, uninst,
                             "run: VMware Tools uninstalled");
            return tarball_remove_units(h, g, changes);
        }
        vmc_debug(h, "guest: vmware-uninstall-tools.pl did not finish (%s): "
                  "removing VMware Tools by hand",
                  vmc_get_error(h) ? vmc_get_error(h) : "database left");
        vmc_clear_error(h);
    }
    if (tarball_remove_listed(h, g, changes) == -1)
        return -1;
    if (vmc_guest_exists(g, uninst)) {
        if (vmc_guest_rm(h, g, uninst) == -1)
            return -1;
        vmc_guest_change(h, changes, uninst, "removed (VMware Tools)");
    }
    return tarball_remove_units(h, g, changes);
}

/* Make sure the QEMU guest agent, when installed, starts on KVM.
 *
 * Debian/Ubuntu's unit (Debian 12: /lib/systemd/system/qemu-guest-
 * agent.service) has an empty [Install] section: it is started by
 * udev, /lib/udev/rules.d/60-qemu-guest-agent.rules setting
 * SYSTEMD_WANTS when the virtio-serial port org.qemu.guest_agent.0
 * appears, and binds to that port's device unit.  Fedora/RHEL's unit
 * says WantedBy=dev-virtio\x2dports-org.qemu.guest_agent.0.device in
 * [Install], which needs `systemctl enable`: that is a symlink in
 * /etc/systemd/system/TARGET.wants/, made here without running
 * systemctl.  Either way the target VM needs the virtio-serial channel
 * named org.qemu.guest_agent.0 (the target plugin's business).  A unit
 * masked by the administrator (a link to /dev/null) is left masked.
 */
static int
enable_qemu_ga(struct vmc_handle *h, guestfs_h *g,
               struct json_object *changes)
{
    static const char *const units[] = {
        "/usr/lib/systemd/system/qemu-guest-agent.service",
        "/lib/systemd/system/qemu-guest-agent.service",
        NULL
    };
    CLEANUP_FREE char *text = NULL;
    const char *unit = NULL;
    char *line, *save = NULL;
    bool install = false;
    size_t i;

    for (i = 0; units[i] && unit == NULL; i++)
        if (vmc_guest_exists(g, units[i]))
            unit = units[i];
    /* Said in the change list too, where the report's reader looks for
     * what the guest got: an agent it does not have is worth knowing.
     */
    if (unit == NULL) {
        if (vmc_guest_exists(g, "/usr/bin/qemu-ga") ||
            vmc_guest_exists(g, "/usr/sbin/qemu-ga"))
            vmc_guest_change(h, changes, "qemu-guest-agent", "installed "
                             "without a systemd unit: left as it is");
        else
            vmc_guest_change(h, changes, "qemu-guest-agent", "not "
                             "installed: nothing enabled (install it in the "
                             "guest for shutdown, freeze and address "
                             "reporting from the host)");
        return 0;
    }
    if (vmc_guest_exists(g, "/etc/systemd/system/qemu-guest-agent.service")) {
        CLEANUP_FREE char *l = NULL;

        guestfs_push_error_handler(g, NULL, NULL);
        l = guestfs_readlink(g, "/etc/systemd/system/qemu-guest-agent.service");
        guestfs_pop_error_handler(g);
        if (l && strcmp(l, "/dev/null") == 0) {
            vmc_warning(h, "guest: qemu-guest-agent.service is masked: "
                        "left masked");
            return 0;
        }
    }
    text = vmc_guest_read(g, unit);
    for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *v, *w, *wsave = NULL;

        line += strspn(line, " \t");
        if (line[0] == '[') {
            install = strncmp(line, "[Install]", 9) == 0;
            continue;
        }
        if (!install || strncmp(line, "WantedBy=", 9) != 0)
            continue;
        v = line + 9;
        for (w = strtok_r(v, " \t", &wsave); w;
             w = strtok_r(NULL, " \t", &wsave)) {
            CLEANUP_FREE char *dir = NULL, *link = NULL;

            if (strchr(w, '/') || w[0] == '.')
                continue;
            if (asprintf(&dir, "/etc/systemd/system/%s.wants", w) == -1 ||
                asprintf(&link, "%s/qemu-guest-agent.service", dir) == -1) {
                vmc_error(h, "out of memory");
                return -1;
            }
            if (vmc_guest_exists(g, link))
                continue;
            if (guestfs_mkdir_p(g, dir) == -1 ||
                guestfs_ln_sf(g, unit, link) == -1) {
                vmc_error(h, "guest: enabling qemu-guest-agent (%s): %s",
                          link, guestfs_last_error(g));
                return -1;
            }
            vmc_guest_change(h, changes, link, "link to %s: "
                             "qemu-guest-agent enabled", unit);
        }
    }
    if (!vmc_guest_exists(g, "/lib/udev/rules.d/60-qemu-guest-agent.rules") &&
        !vmc_guest_exists(g, "/usr/lib/udev/rules.d/60-qemu-guest-agent.rules")
        && !vmc_guest_exists(g,
                             "/usr/lib/udev/rules.d/99-qemu-guest-agent.rules"))
        vmc_debug(h, "guest: no udev rule for qemu-guest-agent: its unit's "
                  "[Install] section alone starts it");
    return 0;
}

int
vmc_guest_fix_tools(struct vmc_handle *h, guestfs_h *g,
                    const struct guest_fix_ctx *c, struct json_object *changes)
{
    const char *format = package_format(c);
    const char *src = c->source ? c->source : "disk";
    bool unknown = strcmp(src, "disk") == 0;
    bool vmware = strcmp(c->target, "vmware") != 0 &&
        (unknown || strcmp(src, "vmware") == 0);
    bool hyperv = strcmp(c->target, "hyperv") != 0 &&
        (unknown || strcmp(src, "hyperv") == 0);
    bool deb = strcmp(format, "deb") == 0;
    bool rpm = strcmp(format, "rpm") == 0;
    CLEANUP_FREE char *list = NULL;

    if ((deb || rpm) && vmware &&
        installed(h, g, format, deb ? vmware_deb : vmware_rpm, &list) == -1)
        return -1;
    if ((deb || rpm) && hyperv &&
        installed(h, g, format, deb ? hyperv_deb : hyperv_rpm, &list) == -1)
        return -1;
    if (list && remove_packages(h, g, format, list, changes) == -1)
        return -1;
    if (vmware && remove_tarball(h, g, changes) == -1)
        return -1;
    if (strcmp(c->target, "kvm") == 0)
        return enable_qemu_ga(h, g, changes);
    return 0;
}
