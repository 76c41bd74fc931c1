/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv-guestfs.so: the libguestfs half of the guest step, a module
 * that libvmconv loads when a guest is first inspected (guest.c), so
 * that programs which never inspect a guest (vmconv disk, pipelines)
 * do not load libguestfs and the sixty libraries behind it.  It exports
 * one symbol, the table below; the rest is appliance.c, inspect.c and
 * initrd.c, which call libvmconv only through its public API.
 */
#include <config.h>

#include "guest.h"

static void *
module_launch(struct vmc_handle *h, const char *const *socks, size_t n,
              const char **accel)
{
    return vmc_guest_launch(h, socks, n, accel);
}

static int
module_inspect_roots(struct vmc_handle *h, void *g, struct json_object *oses)
{
    return vmc_guest_inspect_roots(h, g, oses);
}

static int
module_fix(struct vmc_handle *h, void *g, const struct guest_fix_ctx *c,
           struct json_object *changes)
{
    return vmc_guest_fix_root(h, g, c, changes);
}

static void
module_close(void *g)
{
    if (g == NULL)
        return;
    guestfs_shutdown(g);
    guestfs_close(g);
}

__attribute__((visibility("default")))
const struct vmc_guestfs_ops vmc_guestfs_ops = {
    .version = VMC_GUESTFS_OPS_VERSION,
    .launch = module_launch,
    .inspect_roots = module_inspect_roots,
    .fix = module_fix,
    .close = module_close,
};
