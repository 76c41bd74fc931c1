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
#include <sys/stat.h>
#include <unistd.h>

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

/* Is NAME a dracut configuration file name (*.conf)? */
static bool
conf_name(const char *name)
{
    size_t n = strlen(name);

    return n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int
cmp_base(const void *a, const void *b)
{
    const char *x = strrchr(*(const char *const *) a, '/');
    const char *y = strrchr(*(const char *const *) b, '/');

    return strcmp(x, y);
}

/* dracut's configuration files in the order dracut reads them:
 * /etc/dracut.conf, then the *.conf of /usr/lib/dracut/dracut.conf.d
 * and /etc/dracut.conf.d by file name, /etc's winning over a file of
 * the same name.  NULL-terminated; the caller frees with
 * vmc_guest_free_strings.
 */
static char **
dracut_conf_files(guestfs_h *g)
{
    char **lib = guestfs_glob_expand(g, "/usr/lib/dracut/dracut.conf.d/*");
    char **etc = guestfs_glob_expand(g, "/etc/dracut.conf.d/*");
    size_t nl = 0, ne = 0, n = 0, i, j;
    char **all;

    while (lib && lib[nl])
        nl++;
    while (etc && etc[ne])
        ne++;
    all = calloc(nl + ne + 2, sizeof *all);
    if (all == NULL)
        goto out;
    all[n++] = strdup("/etc/dracut.conf");
    for (i = 0; i < ne; i++)
        if (conf_name(etc[i]))
            all[n++] = strdup(etc[i]);
    for (i = 0; i < nl; i++) {
        bool shadowed = false;

        if (!conf_name(lib[i]))
            continue;
        for (j = 0; j < ne; j++)
            if (strcmp(strrchr(lib[i], '/'), strrchr(etc[j], '/')) == 0)
                shadowed = true;
        if (!shadowed)
            all[n++] = strdup(lib[i]);
    }
    for (i = 0; i < n; i++)
        if (all[i] == NULL) {
            vmc_guest_free_strings(all);
            all = NULL;
            goto out;
        }
    if (n > 2)
        qsort(all + 1, n - 1, sizeof *all, cmp_base);
 out:
    vmc_guest_free_strings(lib);
    vmc_guest_free_strings(etc);
    return all;
}

/* Can vmconv compress what dracut builds for kernel VER on the host,
 * exactly as dracut would (initrd-compress.c)?  dracut 059 compresses
 * with what its configuration's compress= names, else with the first
 * of pigz and gzip it finds (-9), and zstd at level 15; vmconv writes
 * the same formats: zstd at level 15, gzip with libdeflate, whose
 * level 6 is smaller than gzip -9 at a small part of its time.  Any
 * other compressor, a command with options of its own, or a squashfs
 * image (not compressed by dracut at all) stays dracut's business.  Returns true with *HOW, *LEVEL and
 * *NAME (for the report) set.
 */
static bool
dracut_host_compression(guestfs_h *g, const char *ver,
                        enum vmc_initrd_compressor *how, int *level,
                        const char **name)
{
    static const char *const gzips[] = {
        "/usr/bin/gzip", "/bin/gzip", "/usr/bin/pigz", NULL };
    char **files = dracut_conf_files(g);
    char value[64] = "";
    bool ok = true;
    size_t i;

    if (files == NULL)
        return false;
    for (i = 0; files[i] && ok; i++) {
        CLEANUP_FREE char *text = vmc_guest_read(g, files[i]);
        const char *p = text;

        if (text && strstr(text, "squash"))
            ok = false;
        while (ok && p && *p) {
            size_t n;

            p += strspn(p, " \t");
            if (strncmp(p, "compress=", 9) == 0) {
                p += 9;
                if (*p == '"' || *p == '\'')
                    p++;
                n = strcspn(p, "\"'\n \t#");
                if (n >= sizeof value)
                    ok = false;
                else {
                    memcpy(value, p, n);
                    value[n] = '\0';
                    /* Anything after the name (options): not ours. */
                    if (p[n] == ' ' || p[n] == '\t')
                        ok = false;
                }
            }
            p = strchr(p, '\n');
            if (p)
                p++;
        }
    }
    vmc_guest_free_strings(files);
    if (!ok)
        return false;
    if (value[0] == '\0' || strcmp(value, "gzip") == 0 ||
        strcmp(value, "pigz") == 0) {
        if (!any_exists(g, gzips))
            return false;
        /* libdeflate's level 6 packs tighter than gzip -9. */
        *how = VMC_INITRD_GZIP;
        *level = 6;
        *name = "gzip (libdeflate level 6) where dracut runs gzip -9";
        return true;
    }
    if (strcmp(value, "zstd") == 0) {
        CLEANUP_FREE char *config = NULL, *path = NULL;

        /* dracut falls back to gzip without the kernel's zstd. */
        if (asprintf(&path, "/boot/config-%s", ver) == -1)
            return false;
        config = vmc_guest_read(g, path);
        if (config == NULL || !text_has_line(config, "CONFIG_RD_ZSTD=y"))
            return false;
        *how = VMC_INITRD_ZSTD;
        *level = 15;
        *name = "zstd level 15, as dracut";
        return true;
    }
    return false;
}

/* dracut wrote INITRD uncompressed: compress it here with HOW at
 * LEVEL, put it back, and list its members into *NAMES (read from the
 * host copy, after checking the guest has all of it).
 */
static int
host_compress(struct vmc_handle *h, guestfs_h *g, const char *initrd,
              const char *tmpdir, enum vmc_initrd_compressor how, int level,
              struct json_object **names)
{
    char plain[4096], packed[4096];
    struct stat st;
    int64_t size;
    int ret = -1;

    snprintf(plain, sizeof plain, "%s/initrd-plain", tmpdir);
    snprintf(packed, sizeof packed, "%s/initrd-packed", tmpdir);
    if (guestfs_download(g, initrd, plain) == -1) {
        vmc_error(h, "guest: %s: cannot read it: %s", initrd,
                  guestfs_last_error(g));
        goto out;
    }
    vmc_debug(h, "guest: %s: read, compressing", initrd);
    if (vmc_guest_initrd_compress(h, plain, packed, how, level) == -1)
        goto out;
    unlink(plain);
    vmc_debug(h, "guest: %s: compressed, writing it back", initrd);
    if (guestfs_upload(g, packed, initrd) == -1) {
        vmc_error(h, "guest: %s: cannot write it: %s", initrd,
                  guestfs_last_error(g));
        goto out;
    }
    if (stat(packed, &st) == -1) {
        vmc_error(h, "stat: %s: %m", packed);
        goto out;
    }
    size = guestfs_filesize(g, initrd);
    if (size != (int64_t) st.st_size) {
        vmc_error(h, "guest: %s: %" PRId64 " bytes written back, not "
                  "the %jd compressed here", initrd, size,
                  (intmax_t) st.st_size);
        goto out;
    }
    *names = json_object_new_array();
    if (vmc_guest_initrd_members(h, packed, *names) == -1) {
        json_object_put(*names);
        *names = NULL;
        goto out;
    }
    ret = 0;
 out:
    unlink(plain);
    unlink(packed);
    return ret;
}

/* Rebuild kernel VER's INITRD with TOOL so that it holds DRIVERS.
 * When the image was compressed on the host, *NAMES is set to its
 * members and HOW (LEN bytes) says how; else *NAMES stays NULL.
 */
static int
rebuild(struct vmc_handle *h, guestfs_h *g, const struct guest_fix_ctx *c,
        const char *tool, const char *ver, const char *initrd,
        const char *const *drivers, struct json_object **names,
        char *how, size_t len)
{
    CLEANUP_FREE char *cmd = NULL, *with = NULL;
    enum vmc_initrd_compressor comp = VMC_INITRD_GZIP;
    const char *comp_name = NULL;
    bool host = false;
    size_t wlen = 0, i;
    int level = 0;
    FILE *f;
    int r;

    *names = NULL;
    how[0] = '\0';
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
    else if (strcmp(tool, "dracut") == 0) {
        host = dracut_host_compression(g, ver, &comp, &level, &comp_name);
        r = asprintf(&cmd, "dracut -f%s '%s' '%s'",
                     host ? " --no-compress" : "", initrd, ver);
    }
    else {
        f = open_memstream(&with, &wlen);
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
    if (vmc_guest_sh(h, g, tool, cmd) == -1)
        return -1;
    if (!host)
        return 0;
    /* Under TCG its compressor is most of a rebuild's time. */
    vmc_debug(h, "guest: %s: compressing it here: %s", initrd, comp_name);
    if (host_compress(h, g, initrd, c->tmpdir, comp, level, names) == -1)
        return -1;
    snprintf(how, len, " (compressed on the host: %s)", comp_name);
    return 0;
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
    char how[160];
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
        if (rebuild(h, g, c, tool, ver, initrd, missing, &names, how,
                    sizeof how) == -1)
            goto out;
        /* Read it back: the tool may have left a driver out. */
        if (names == NULL)
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
                         "%s%s", tool, missing[0],
                         nm > 1 ? " and " : "", nm > 1 ? missing[1] : "",
                         nm > 2 ? " and more of the target's drivers" : "",
                         how);
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
