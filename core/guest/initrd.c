/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: a Linux guest's kernels, and which drivers each
 * can use at boot: in its initramfs, built into it (modules.builtin),
 * or only present as a module in /lib/modules/VERSION.
 *
 * An initramfs is one or more cpio archives one after the other: on
 * many distributions an uncompressed one first (CPU microcode), then
 * the main one compressed with gzip, xz, zstd or lz4.  libguestfs's
 * initrd-list reads a gzip'd one only, so where it fails the image is
 * downloaded to a private host directory and read here: the plain
 * archives at the front are walked by their newc headers, and the rest
 * is read with libarchive, which undoes the compression.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

const char *const vmc_guest_drivers[GUEST_NR_DRIVERS] = {
    /* KVM */
    "virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci",
    "virtio_console",
    /* Hyper-V */
    "hv_vmbus", "hv_storvsc", "hv_netvsc",
    /* VMware */
    "vmw_pvscsi", "vmxnet3",
    /* emulated devices every hypervisor offers */
    "mptspi", "mptsas", "ahci", "ata_piix", "nvme", "e1000", "e1000e",
};


static void
initrd_add(struct json_object *names, const char *path)
{
    const char *b = strrchr(path, '/');

    json_object_array_add(names, json_object_new_string(b ? b + 1 : path));
}

unsigned long
vmc_guest_newc_field(const unsigned char *p)
{
    char s[9];

    memcpy(s, p, 8);
    s[8] = '\0';
    return strtoul(s, NULL, 16);
}

/* Walk the plain newc archives at the start of BUF (LEN bytes), adding
 * their members; returns the offset where something else starts.
 */
static size_t
initrd_plain(const unsigned char *buf, size_t len, struct json_object *names)
{
    size_t off = 0;

    for (;;) {
        unsigned long namesize, filesize;
        char name[4096];

        /* Zero padding between archives. */
        while (off + 4 <= len && memcmp(buf + off, "\0\0\0\0", 4) == 0)
            off += 4;
        if (off + GUEST_NEWC_HEADER > len ||
            (memcmp(buf + off, "070701", 6) != 0 &&
             memcmp(buf + off, "070702", 6) != 0))
            return off;
        namesize = vmc_guest_newc_field(buf + off + 94);
        filesize = vmc_guest_newc_field(buf + off + 54);
        if (namesize == 0 || namesize > sizeof name ||
            namesize > len - off - GUEST_NEWC_HEADER)
            return len;         /* damaged: nothing more to read */
        memcpy(name, buf + off + GUEST_NEWC_HEADER, namesize);
        name[namesize - 1] = '\0';
        off += (GUEST_NEWC_HEADER + namesize + 3) & ~(size_t) 3;
        if (filesize > len - off)
            return len;
        off += (filesize + 3) & ~(size_t) 3;
        if (strcmp(name, "TRAILER!!!") != 0)
            initrd_add(names, name);
        if (off > len)
            return len;
    }
}

int
vmc_guest_initrd_members(struct vmc_handle *h, const char *path,
                         struct json_object *names)
{
    CLEANUP_FREE unsigned char *buf = NULL;
    struct archive *a = NULL;
    struct archive_entry *e;
    struct stat st;
    size_t off, got = 0;
    int fd, r, ret = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || fstat(fd, &st) == -1) {
        vmc_error(h, "open: %s: %m", path);
        goto out;
    }
    buf = malloc(st.st_size > 0 ? (size_t) st.st_size : 1);
    if (buf == NULL) {
        vmc_error(h, "%s: %m", path);
        goto out;
    }
    while (got < (size_t) st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t) st.st_size - got);

        if (n <= 0) {
            vmc_error(h, "read: %s: %m", path);
            goto out;
        }
        got += (size_t) n;
    }
    off = initrd_plain(buf, got, names);
    if (off >= got) {
        ret = 0;
        goto out;
    }
    a = archive_read_new();
    if (a == NULL) {
        vmc_error(h, "%s: out of memory", path);
        goto out;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_cpio(a);
    /* Several compressed archives may follow each other. */
    archive_read_set_options(a, "read_concatenated_archives");
    if (archive_read_open_memory(a, buf + off, got - off) != ARCHIVE_OK) {
        vmc_error(h, "%s: offset %zu: not a cpio archive libarchive "
                  "reads: %s", path, off, archive_error_string(a));
        goto out;
    }
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
           r == ARCHIVE_WARN) {
        const char *name = archive_entry_pathname(e);

        if (name && strcmp(name, "TRAILER!!!") != 0)
            initrd_add(names, name);
        archive_read_data_skip(a);
    }
    if (r != ARCHIVE_EOF) {
        vmc_error(h, "%s: %s", path, archive_error_string(a));
        goto out;
    }
    ret = 0;
 out:
    if (a)
        archive_read_free(a);
    if (fd != -1)
        close(fd);
    return ret;
}

#ifdef VMC_GUESTFS_MODULE

struct json_object *
vmc_guest_initrd_list(struct vmc_handle *h, guestfs_h *g, const char *path,
            const char *tmpdir)
{
    struct json_object *names = json_object_new_array();
    char **l;
    char host[4096];
    size_t i;

    l = guestfs_initrd_list(g, path);
    if (l) {
        for (i = 0; l[i]; i++)
            initrd_add(names, l[i]);
        vmc_guest_free_strings(l);
        return names;
    }
    vmc_debug(h, "guest: %s: initrd-list failed (%s): reading it here",
              path, guestfs_last_error(g));
    snprintf(host, sizeof host, "%s/initrd", tmpdir);
    if (guestfs_download(g, path, host) == -1) {
        vmc_error(h, "%s: cannot read it from the guest: %s", path,
                  guestfs_last_error(g));
        json_object_put(names);
        return NULL;
    }
    if (vmc_guest_initrd_members(h, host, names) == -1) {
        unlink(host);
        json_object_put(names);
        return NULL;
    }
    unlink(host);
    return names;
}

/* Does the guest file PATH exist (as a file, following symlinks)? */
static bool
guest_file(guestfs_h *g, const char *path)
{
    return guestfs_is_file_opts(g, path, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS,
                                1, -1) > 0;
}

/* The text of the guest file PATH, or NULL (missing or unreadable). */
static char *
guest_read(guestfs_h *g, const char *path)
{
    char *s, *t;
    size_t len;

    if (!guest_file(g, path))
        return NULL;
    s = guestfs_read_file(g, path, &len);
    if (s == NULL)
        return NULL;
    t = realloc(s, len + 1);
    if (t == NULL) {
        free(s);
        return NULL;
    }
    t[len] = '\0';
    return t;
}

/* Does TEXT (modules.dep or modules.builtin) list module NAME: a
 * line starting with a path whose last part is NAME.ko[.*]?
 */
static bool
list_has(const char *text, const char *name)
{
    const char *p = text;
    size_t n = strlen(name);

    while (p && *p) {
        const char *end = p + strcspn(p, ":\n");
        const char *b = p;
        const char *q;

        for (q = p; q < end; q++)
            if (*q == '/')
                b = q + 1;
        if ((size_t) (end - b) >= n + 3 && memcmp(b, name, n) == 0 &&
            memcmp(b + n, ".ko", 3) == 0)
            return true;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

/* Is NAME a module file of kernel VER (modules.dep, else where the
 * kernel tree keeps it)?
 */
static bool
module_present(guestfs_h *g, const char *ver, const char *dep,
               const char *name)
{
    char pat[512];
    char **l;
    bool found;

    if (dep)
        return list_has(dep, name);
    snprintf(pat, sizeof pat, "/lib/modules/%s/kernel/drivers/*/%s.ko*",
             ver, name);
    l = guestfs_glob_expand(g, pat);
    found = l && l[0];
    vmc_guest_free_strings(l);
    if (found)
        return true;
    snprintf(pat, sizeof pat, "/lib/modules/%s/kernel/drivers/*/*/%s.ko*",
             ver, name);
    l = guestfs_glob_expand(g, pat);
    found = l && l[0];
    vmc_guest_free_strings(l);
    return found;
}

bool
vmc_guest_initrd_has(struct json_object *names, const char *name)
{
    size_t i, n = json_object_array_length(names), l = strlen(name);

    for (i = 0; i < n; i++) {
        const char *s = json_object_get_string(
            json_object_array_get_idx(names, i));

        if (strncmp(s, name, l) == 0 && strncmp(s + l, ".ko", 3) == 0)
            return true;
    }
    return false;
}

/* The initramfs of kernel VER, or NULL. */
static char *
kernel_initrd(guestfs_h *g, const char *ver)
{
    static const char *const pats[][2] = {
        { "/boot/initrd.img-", "" },        /* Debian, Ubuntu */
        { "/boot/initramfs-", ".img" },     /* Fedora, RHEL */
        { "/boot/initrd-", "" },            /* SUSE */
        { "/boot/initrd-", ".img" },
    };
    char path[512];
    size_t i;

    for (i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        snprintf(path, sizeof path, "%s%s%s", pats[i][0], ver, pats[i][1]);
        if (guest_file(g, path))
            return strdup(path);
    }
    return NULL;
}

/* One kernel's facts, or NULL with an error set on H. */
static struct json_object *
kernel_facts(struct vmc_handle *h, guestfs_h *g, const char *vmlinuz,
             const char *tmpdir)
{
    const char *ver = vmlinuz + strlen("/boot/vmlinuz-");
    struct json_object *k = json_object_new_object(), *drv, *names = NULL;
    CLEANUP_FREE char *initrd = kernel_initrd(g, ver);
    CLEANUP_FREE char *dep = NULL, *builtin = NULL;
    char path[512];
    bool modules;
    size_t i;

    json_object_object_add(k, "version", json_object_new_string(ver));
    json_object_object_add(k, "kernel", json_object_new_string(vmlinuz));
    json_object_object_add(k, "initramfs",
                           initrd ? json_object_new_string(initrd) : NULL);
    snprintf(path, sizeof path, "/lib/modules/%s", ver);
    modules = guestfs_is_dir_opts(g, path, GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS,
                                  1, -1) > 0;
    json_object_object_add(k, "modules",
                           modules ? json_object_new_string(path) : NULL);
    /* A kernel boots here with an initramfs and its modules. */
    json_object_object_add(k, "bootable",
                           json_object_new_boolean(initrd && modules));
    if (modules) {
        snprintf(path, sizeof path, "/lib/modules/%s/modules.dep", ver);
        dep = guest_read(g, path);
        snprintf(path, sizeof path, "/lib/modules/%s/modules.builtin", ver);
        builtin = guest_read(g, path);
    }
    if (initrd) {
        names = vmc_guest_initrd_list(h, g, initrd, tmpdir);
        if (names == NULL) {
            /* Unreadable: it carries nothing we can count on. */
            json_object_object_add(k, "initramfs-error",
                                   json_object_new_string(vmc_get_error(h)));
            vmc_clear_error(h);
        }
    }
    if (names)
        json_object_object_add(k, "initramfs-files", json_object_new_int64(
            (int64_t) json_object_array_length(names)));
    drv = json_object_new_object();
    for (i = 0; i < GUEST_NR_DRIVERS; i++) {
        const char *name = vmc_guest_drivers[i];
        struct json_object *d = json_object_new_object();
        bool bi = builtin && list_has(builtin, name);

        json_object_object_add(d, "initramfs", json_object_new_boolean(
            names && vmc_guest_initrd_has(names, name)));
        json_object_object_add(d, "module", json_object_new_boolean(
            modules && module_present(g, ver, dep, name)));
        json_object_object_add(d, "built-in", json_object_new_boolean(bi));
        json_object_object_add(drv, name, d);
    }
    json_object_object_add(k, "drivers", drv);
    json_object_put(names);
    return k;
}

int
vmc_guest_kernels(struct vmc_handle *h, guestfs_h *g, const char *tmpdir,
                  struct json_object *kernels)
{
    char **l;
    size_t i;

    l = guestfs_glob_expand(g, "/boot/vmlinuz-*");
    if (l == NULL) {
        vmc_error(h, "/boot: %s", guestfs_last_error(g));
        return -1;
    }
    for (i = 0; l[i]; i++) {
        struct json_object *k;

        if (vmc_cancelled(h)) {
            vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
            vmc_guest_free_strings(l);
            return -1;
        }
        k = kernel_facts(h, g, l[i], tmpdir);
        if (k == NULL) {
            vmc_guest_free_strings(l);
            return -1;
        }
        json_object_array_add(kernels, k);
    }
    vmc_guest_free_strings(l);
    return 0;
}

#endif /* VMC_GUESTFS_MODULE */
