/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion (issue 16), libvmconv internals: the source disks
 * served by nbdkit (our plugin under the cow filter) on private Unix
 * sockets, a libguestfs appliance on them (KVM when it works here,
 * else TCG), and inspection of the guest operating systems found.
 * One file per concern:
 *
 *   guest.c      the entry points (inspection for the plan and for
 *                vmconv inspect --guest, the pipeline's guest-fix hook)
 *   nbdkit.c     starting and stopping nbdkit per source disk
 *   appliance.c  the libguestfs handle: KVM probe, drives, launch
 *   inspect.c    what inspection found, per root, as JSON
 *   initrd.c     kernels, their initramfs members and modules
 *   initrd-compress.c  a rebuilt initramfs compressed on the host
 *
 * Not installed.
 */
#ifndef VMCONV_GUEST_H
#define VMCONV_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include <vmconv/plugin.h>

/* The drivers looked for in each kernel, in this order. */
#define GUEST_NR_DRIVERS 17
extern const char *const vmc_guest_drivers[GUEST_NR_DRIVERS];

/* nbdkit serving one source disk on a private socket. */
struct guest_nbd {
    pid_t pid;                   /* 0 when not running */
    char *dir;                   /* private directory (mode 0700) */
    char *sock;                  /* DIR/nbd.sock */
};

/* Start nbdkit (our plugin, the cow filter over it, --exit-with-parent)
 * serving PATH (FORMAT, or NULL to probe) read-only on a socket in a
 * new private directory; wait until it is ready.  Returns 0, or -1 with
 * an error set (nothing left running, the directory removed).
 */
int vmc_guest_nbd_start(struct vmc_handle *h, const char *path,
                        const char *format, unsigned image_flags,
                        struct guest_nbd *n);
/* Stop N's nbdkit and remove its directory.  Safe on a zeroed N and on
 * one already stopped.
 */
void vmc_guest_nbd_stop(struct guest_nbd *n);

/* Inspection kept running for the fix (guest.c): nbdkit per source
 * disk (by the VM's disk index; pid 0 when the disk has no image) and
 * the launched appliance, until the fix is done.
 */
struct vmc_guestfs_ops;
struct vmc_guest_session {
    size_t n;
    struct guest_nbd *nbd;
    const struct vmc_guestfs_ops *ops;
    void *g;                     /* NULL once the fix is done */
    struct json_object *os;      /* the inspected OS the fix works on */
};

/* What the fix of one Linux guest is asked to do.  The guest's file
 * systems are mounted read-write under / in the appliance (the writes
 * go to nbdkit's copy-on-write overlay, never to the source).
 */
struct guest_fix_ctx {
    const char *root;                 /* the root device inspection found */
    struct json_object *os;           /* inspect.c's object for ROOT
                                         ("kernels" included) */
    const char *source;               /* the source hypervisor: "vmware",
                                         "hyperv", "kvm", or "disk"
                                         (unknown) */
    const char *target;               /* the target plugin's name */
    const char *const *boot_drivers;  /* NULL-terminated: the modules the
                                         initramfs must hold for the
                                         target's disks (drivers.c) */
    const char *const *drivers;       /* NULL-terminated: every driver
                                         the target's devices need */
    bool firmware_uefi;               /* the target boots with UEFI */
    bool nvram_kept;                  /* the source's UEFI variables are
                                         carried over */
    size_t nr_nics;
    const char *const *nic_macs;      /* per target NIC: its MAC, lower
                                         case "aa:bb:cc:dd:ee:ff", or NULL
                                         when it gets a new one */
    const char *tmpdir;               /* a private host directory */
};

/* The libguestfs half of the guest step lives in a module of its own,
 * vmconv-guestfs.so ($libdir/vmconv/, or $VMCONV_GUESTFS_MODULE),
 * loaded by guest.c when a guest is first inspected: libguestfs pulls
 * in some sixty libraries (libvirt, glib, gnutls ...) that every
 * `vmconv disk convert` would otherwise load for nothing.  The module
 * exports one symbol, VMC_GUESTFS_OPS_SYMBOL, a struct vmc_guestfs_ops
 * of its VMC_GUESTFS_OPS_VERSION; handles are its own (guestfs_h *).
 */
#define VMC_GUESTFS_OPS_SYMBOL "vmc_guestfs_ops"
#define VMC_GUESTFS_OPS_VERSION 2

struct vmc_guestfs_ops {
    unsigned version;            /* VMC_GUESTFS_OPS_VERSION */
    /* A libguestfs handle with SOCKS (N private nbdkit sockets) added
     * as raw NBD drives, launched: KVM when a short probe shows it runs
     * a guest here, else TCG (backend direct, force_tcg).  Sets *ACCEL
     * to "kvm" or "tcg" (static).  Returns the handle, or NULL with an
     * error set on H.  Close with close.
     */
    void *(*launch)(struct vmc_handle *h, const char *const *socks,
                    size_t n, const char **accel);
    /* Inspect the launched G: one JSON object per operating system
     * found (vmconv-inspect(1)'s "guest" object, "operating-systems"),
     * added to OSES.  Returns 0, or -1 with an error set on H.
     */
    int (*inspect_roots)(struct vmc_handle *h, void *g,
                         struct json_object *oses);
    /* Fix the Linux guest on C->root in the launched G (version 2):
     * mount its file systems read-write, run every concern (fix.c),
     * unmount, and flush.  Appends each change to CHANGES (strings).
     * Returns 0, or -1 with an error set on H.
     */
    int (*fix)(struct vmc_handle *h, void *g, const struct guest_fix_ctx *c,
               struct json_object *changes);
    /* Shut the appliance down and free G. */
    void (*close)(void *g);
};

/* The module's own pieces (appliance.c, inspect.c, initrd.c). */
#ifdef VMC_GUESTFS_MODULE
#include <guestfs.h>

guestfs_h *vmc_guest_launch(struct vmc_handle *h, const char *const *socks,
                            size_t n, const char **accel);
int vmc_guest_inspect_roots(struct vmc_handle *h, guestfs_h *g,
                            struct json_object *oses);

/* Fill KERNELS (a JSON array) with the kernels of the guest mounted in
 * G: each version, its files, whether it can boot, and for each driver
 * whether it is in its initramfs, a module or built in.  TMPDIR is a
 * private host directory for downloads.  Returns 0, or -1 with an
 * error set on H.
 */
int vmc_guest_kernels(struct vmc_handle *h, guestfs_h *g,
                      const char *tmpdir, struct json_object *kernels);

/* The basenames of the members of the guest's initramfs PATH (a JSON
 * array of strings), or NULL with an error set on H.
 */
struct json_object *vmc_guest_initrd_list(struct vmc_handle *h, guestfs_h *g,
                                          const char *path,
                                          const char *tmpdir);
/* Does NAMES (vmc_guest_initrd_list) hold module NAME (NAME.ko*)? */
bool vmc_guest_initrd_has(struct json_object *names, const char *name);

/* The guest's tool that builds an initramfs ("update-initramfs",
 * "dracut", "mkinitrd"), or NULL; the guest is mounted.
 */
const char *vmc_guest_initramfs_tool(guestfs_h *g);

/* Free a NULL-terminated list of strings libguestfs returned. */
void vmc_guest_free_strings(char **s);

/* ---- The guest fix (fix.c and one file per concern) ---------------- */

/* Each concern: 0, or -1 with an error set on H (the conversion
 * fails).  What cannot be done safely is a warning (vmc_warning), not
 * an error.  Every change appends "FILE: what was done" to CHANGES
 * (vmc_guest_change).
 */
int vmc_guest_fix_initramfs(struct vmc_handle *h, guestfs_h *g,
                            const struct guest_fix_ctx *c,
                            struct json_object *changes);
int vmc_guest_fix_devnames(struct vmc_handle *h, guestfs_h *g,
                           const struct guest_fix_ctx *c,
                           struct json_object *changes);
int vmc_guest_fix_tools(struct vmc_handle *h, guestfs_h *g,
                        const struct guest_fix_ctx *c,
                        struct json_object *changes);
int vmc_guest_fix_network(struct vmc_handle *h, guestfs_h *g,
                          const struct guest_fix_ctx *c,
                          struct json_object *changes);
int vmc_guest_fix_boot(struct vmc_handle *h, guestfs_h *g,
                       const struct guest_fix_ctx *c,
                       struct json_object *changes);

/* Fix the Linux guest C->root in G: mount, every concern, unmount. */
int vmc_guest_fix_root(struct vmc_handle *h, guestfs_h *g,
                       const struct guest_fix_ctx *c,
                       struct json_object *changes);

/* Append "FILE: <printf FMT>" to CHANGES, and say it in verbose mode. */
void vmc_guest_change(struct vmc_handle *h, struct json_object *changes,
                      const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Does PATH exist in the guest (no error either way)? */
bool vmc_guest_exists(guestfs_h *g, const char *path);

/* The contents of the file PATH in the guest, NUL-terminated (the
 * caller frees), or NULL when it is absent or cannot be read (no error:
 * the concerns read optional configuration files).
 */
char *vmc_guest_read(guestfs_h *g, const char *path);

/* Write CONTENT to PATH in the guest / remove PATH from the guest.
 * Returns 0, or -1 with an error set on H naming PATH.
 */
int vmc_guest_write(struct vmc_handle *h, guestfs_h *g, const char *path,
                    const char *content);
int vmc_guest_rm(struct vmc_handle *h, guestfs_h *g, const char *path);

/* Run the shell command CMD in the guest (chroot, with /dev /proc /sys);
 * its output goes to vmc_debug.  Returns 0, or -1 with an error set on
 * H naming WHAT and the command's last output.
 */
int vmc_guest_sh(struct vmc_handle *h, guestfs_h *g, const char *what,
                 const char *cmd);
#endif

/* The members of the initramfs image in the host file PATH (cpio
 * archives, concatenated, each one plain or compressed: gzip, xz,
 * zstd, lz4, bzip2, lzma), as the basenames of its files, added to
 * NAMES (a JSON array of strings).  Returns 0, or -1 with an error
 * set on H.
 */
int vmc_guest_initrd_members(struct vmc_handle *h, const char *path,
                             struct json_object *names);

/* A cpio "newc" header: 110 bytes, its numbers 8 hex digits each
 * (vmc_guest_newc_field reads the one at P).
 */
#define GUEST_NEWC_HEADER 110
unsigned long vmc_guest_newc_field(const unsigned char *p);

/* initrd-compress.c: compress the uncompressed initramfs image IN (a
 * tool's output with compression off) into OUT with HOW at LEVEL, as
 * the tool would have: a leading early archive (one holding
 * early_cpio) stays as it is, the rest becomes one stream.  Returns 0,
 * or -1 with an error set on H.
 */
enum vmc_initrd_compressor { VMC_INITRD_GZIP, VMC_INITRD_ZSTD };
int vmc_guest_initrd_compress(struct vmc_handle *h, const char *in,
                              const char *out,
                              enum vmc_initrd_compressor how, int level);

/* Inspect the guest on the disks PATHS (N of them, NULL entries are
 * skipped; FORMATS alike, NULL entries probed), opened with
 * IMAGE_FLAGS.  *REPORT is set to a new JSON object (the "guest"
 * object of vmconv-inspect(1)): its "status" says what happened, and
 * when an operating system was found, *GUEST is set to its facts (else
 * NULL).  A guest that cannot be inspected is not an error: the report
 * says why.  With SESS (else NULL), when an operating system was
 * found, *SESS keeps nbdkit and the appliance running for the fix
 * (vmc_guest_session_close).  Returns 0, or -1 with an error set on H
 * (out of memory, cancelled).
 */
int vmc_guest_inspect_disks(struct vmc_handle *h, size_t n,
                            const char *const *paths,
                            const char *const *formats,
                            unsigned image_flags,
                            struct vmc_guest_info **guest,
                            struct json_object **report,
                            struct vmc_guest_session **sess);

#endif /* VMCONV_GUEST_H */
