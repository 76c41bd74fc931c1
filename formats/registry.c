/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The list of format drivers.  Probing asks each in this order and
 * takes the highest score; raw answers 1, so it wins only when nothing
 * else recognises the file.
 */
#include <config.h>

#include <string.h>

#include "internal.h"

const struct vmc_format_ops *const vmc_formats[] = {
    &vmc_format_qcow2,
    &vmc_format_vmdk,
    &vmc_format_vhdx,
    &vmc_format_vpc,
    &vmc_format_raw,
    NULL
};

/* Names users may type for a format, as qemu-img spells them too. */
static const struct {
    const char *alias;
    const char *name;
} format_aliases[] = {
    { "vhd", "vpc" },
    { "img", "raw" },
};

const struct vmc_format_ops *
vmc_format_lookup(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof format_aliases / sizeof format_aliases[0]; i++)
        if (strcmp(name, format_aliases[i].alias) == 0)
            name = format_aliases[i].name;
    for (i = 0; vmc_formats[i] != NULL; i++)
        if (strcmp(vmc_formats[i]->name, name) == 0)
            return vmc_formats[i];
    return NULL;
}
