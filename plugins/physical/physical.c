/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv physical plugin: physical machines (P2V).
 *
 * A physical machine is not a file: this plugin will take a host to
 * capture (an ssh:// URI or a booted P2V environment).  Until that is
 * written, probe claims nothing and read fails with a plain error.  It
 * has no write: nothing is converted *to* a physical machine.
 */
#include <config.h>

#include <vmconv/plugin.h>

/* Files belong to the hypervisor plugins; never claim one. */
static int
physical_probe(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    return 0;
}

static struct vmc_vm *
physical_read(struct vmc_handle *h, const char *source,
              const struct vmc_read_options *opts)
{
    vmc_error(h, "%s: physical plugin: reading a physical machine is not "
              "implemented yet", source);
    return NULL;
}

static struct vmc_plugin plugin = {
    .name        = "physical",
    .version     = VMC_VERSION_STRING,
    .description = "physical machines, P2V (not implemented yet)",
    .probe2      = physical_probe,
    .read2       = physical_read,
};

VMC_REGISTER_PLUGIN(plugin)
