/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs the Linux guest fix of the libguestfs module
 * ($VMCONV_GUESTFS_MODULE) on one disk, without the conversion around
 * it, for guest-fix.sh:
 *
 *   guest-fix-driver SOCKET SOURCE TARGET bios|uefi [MAC|-]...
 *
 * SOCKET is an NBD server's Unix socket serving the disk writable
 * (nbdkit file), so that what the fix writes can be read back.  The
 * module launches its appliance on it, inspects it and fixes the one
 * Linux root found as if converting from SOURCE to TARGET with one
 * target NIC per MAC ("-": a new MAC).  Prints {"os": ..., "changes":
 * [...]} on stdout, the library's messages on stderr ("warning: ...",
 * "info: ...").  Exit 0, 1 on an error, 77 when the appliance cannot
 * launch here.
 */
#include <config.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "internal.h"
#include "guest/guest.h"

static void
log_msg(void *opaque, enum vmc_log_level level, const char *msg)
{
    static const char *const names[] = { "warning", "info", "debug" };

    (void) opaque;
    fprintf(stderr, "%s: %s\n", level < VMC_LOG_LAST ? names[level] : "?",
            msg);
}

int
main(int argc, char **argv)
{
    const char *mod = getenv("VMCONV_GUESTFS_MODULE");
    const struct vmc_guestfs_ops *ops;
    struct guest_fix_ctx c;
    struct json_object *oses, *out, *changes, *os = NULL;
    const char *socks[1], *accel = NULL, *macs[16];
    const char *drivers[] = { "virtio_blk", "virtio_net", "virtio_pci", NULL };
    char tmpdir[] = "/tmp/guest-fix-driver.XXXXXX";
    struct vmc_handle *h;
    void *dl, *g;
    size_t i;
    int r;

    if (argc < 5 || argc - 5 > 16 || mod == NULL) {
        fprintf(stderr, "usage: VMCONV_GUESTFS_MODULE=... %s SOCKET SOURCE "
                "TARGET bios|uefi [MAC|-]...\n", argv[0]);
        return 1;
    }
    dl = dlopen(mod, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    ops = dlsym(dl, VMC_GUESTFS_OPS_SYMBOL);
    if (ops == NULL || ops->version != VMC_GUESTFS_OPS_VERSION) {
        fprintf(stderr, "%s: no ops of version %d\n", mod,
                VMC_GUESTFS_OPS_VERSION);
        return 1;
    }
    h = vmc_new();
    vmc_set_log_handler(h, log_msg, NULL);
    if (getenv("VMCONV_DEBUG"))
        vmc_set_verbose(h, 1);
    socks[0] = argv[1];
    g = ops->launch(h, socks, 1, &accel);
    if (g == NULL) {
        fprintf(stderr, "SKIP: the appliance cannot launch: %s\n",
                vmc_get_error(h));
        return 77;
    }
    oses = json_object_new_array();
    if (ops->inspect_roots(h, g, oses) == -1 ||
        json_object_array_length(oses) != 1) {
        fprintf(stderr, "inspection: %s\n", vmc_get_error(h)
                ? vmc_get_error(h) : "not one root");
        return 1;
    }
    os = json_object_array_get_idx(oses, 0);
    for (i = 5; i < (size_t) argc; i++)
        macs[i - 5] = strcmp(argv[i], "-") == 0 ? NULL : argv[i];
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    memset(&c, 0, sizeof c);
    c.root = json_object_get_string(json_object_object_get(os, "root"));
    c.os = os;
    c.source = argv[2];
    c.target = argv[3];
    c.boot_drivers = drivers;
    c.drivers = drivers;
    c.firmware_uefi = strcmp(argv[4], "uefi") == 0;
    c.nr_nics = argc - 5;
    c.nic_macs = macs;
    c.tmpdir = tmpdir;
    changes = json_object_new_array();
    r = ops->fix(h, g, &c, changes);
    if (r == -1)
        fprintf(stderr, "fix: %s\n", vmc_get_error(h));
    ops->close(g);
    rmdir(tmpdir);
    out = json_object_new_object();
    json_object_object_add(out, "accelerator", json_object_new_string(accel));
    json_object_object_add(out, "os", json_object_get(os));
    json_object_object_add(out, "changes", changes);
    puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY));
    json_object_put(out);
    json_object_put(oses);
    vmc_free(h);
    return r == 0 ? 0 : 1;
}
