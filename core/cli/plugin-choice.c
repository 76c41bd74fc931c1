/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Choosing the plugin that reads a source, shared by vmconv inspect
 * and vmconv convert.
 */
#include <config.h>

#include <stdio.h>

#include "cli.h"
#include "vm-print.h"

int
cli_load_plugins(struct vmc_handle *h)
{
    if (vmc_plugins_load(h, cli.plugin_dir) == -1) {
        cli_print_error(h);
        return -1;
    }
    return 0;
}

struct vmc_loaded_plugin *
cli_source_plugin(struct vmc_handle *h, const char *cmd, const char *source,
                  const char *from, int *exit_code)
{
    struct vmc_loaded_plugin *p;

    if (from) {
        p = vmc_plugin_find(h, from);
        if (p == NULL) {
            cli_errorf("%s: --from %s: no such plugin ('vmconv plugins' "
                       "lists them)", cmd, from);
            *exit_code = EXIT_USAGE;
            return NULL;
        }
        if (!vmc_plugin_can_read(p)) {
            cli_errorf("%s: --from %s: the %s plugin cannot read VMs", cmd,
                       from, from);
            *exit_code = EXIT_USAGE;
            return NULL;
        }
        return p;
    }
    p = vmc_plugin_for_source(h, source);
    if (p == NULL) {
        cli_print_error(h);
        *exit_code = cli_exit_for_error(h);
    }
    return p;
}
