/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest object of vmconv inspect --guest (and of the plan), for
 * people.  Every string from the guest goes through cli_print_safe.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "guest-print.h"

static const char *
gs(struct json_object *o, const char *key)
{
    struct json_object *v = json_object_object_get(o, key);

    return v ? json_object_get_string(v) : NULL;
}

static const char *
or_unknown(const char *s)
{
    return s ? s : "unknown";
}

static bool
gb(struct json_object *o, const char *key)
{
    return json_object_get_boolean(json_object_object_get(o, key));
}

/* "initramfs", "built in", "module only" or "absent" for driver D. */
static const char *
driver_where(struct json_object *d)
{
    if (gb(d, "built-in"))
        return "built in";
    if (gb(d, "initramfs"))
        return "initramfs";
    if (gb(d, "module"))
        return "module only";
    return "absent";
}

static void
print_kernel(FILE *fp, struct json_object *k, const char *in)
{
    struct json_object *drv = json_object_object_get(k, "drivers");
    bool first = true;

    cli_printf_safe(fp, "%s      %s: %s, initramfs %s, modules %s\n", in,
              or_unknown(gs(k, "version")),
              gb(k, "bootable") ? "bootable" : "not bootable",
              gs(k, "initramfs") ? gs(k, "initramfs") : "none",
              gs(k, "modules") ? gs(k, "modules") : "none");
    if (gs(k, "initramfs-error"))
        cli_printf_safe(fp, "%s        initramfs unreadable: %s\n", in,
                  gs(k, "initramfs-error"));
    cli_printf_safe(fp, "%s        drivers: ", in);
    /* The drivers the kernel has, in any form; the others are absent. */
    json_object_object_foreach(drv, name, d) {
        if (strcmp(driver_where(d), "absent") == 0)
            continue;
        cli_printf_safe(fp, "%s%s %s", first ? "" : ", ", name, driver_where(d));
        first = false;
    }
    fputs(first ? "none of those vmconv looks for\n" : "\n", fp);
}

static void
print_os(FILE *fp, struct json_object *os, const char *in)
{
    struct json_object *m = json_object_object_get(os, "mountpoints");
    struct json_object *k = json_object_object_get(os, "kernels");
    bool first = true;
    size_t i;

    cli_printf_safe(fp, "%s  root %s: %s %s %s %s\n", in, or_unknown(gs(os, "root")),
              or_unknown(gs(os, "type")), or_unknown(gs(os, "distro")),
              or_unknown(gs(os, "version")), or_unknown(gs(os, "arch")));
    if (gs(os, "product-name"))
        cli_printf_safe(fp, "%s    product:    %s\n", in, gs(os, "product-name"));
    cli_printf_safe(fp, "%s    hostname:   %s\n", in, or_unknown(gs(os, "hostname")));
    cli_printf_safe(fp, "%s    packages:   %s (%s)\n", in,
              or_unknown(gs(os, "package-format")),
              or_unknown(gs(os, "package-management")));
    cli_printf_safe(fp, "%s    firmware:   %s (partition table %s%s%s)\n", in,
              or_unknown(gs(os, "firmware")),
              or_unknown(gs(os, "partition-table")),
              gs(os, "efi-system-partition") ? ", EFI system partition " : "",
              gs(os, "efi-system-partition") ? gs(os, "efi-system-partition")
              : "");
    cli_printf_safe(fp, "%s    mounts:     ", in);
    json_object_object_foreach(m, mp, dev) {
        cli_printf_safe(fp, "%s%s on %s", first ? "" : ", ", mp,
                  json_object_get_string(dev));
        first = false;
    }
    fputs(first ? "none\n" : "\n", fp);
    if (k == NULL)
        return;
    cli_printf_safe(fp, "%s    kernels:%s\n", in,
              json_object_array_length(k) ? "" : "    none found in /boot");
    for (i = 0; i < json_object_array_length(k); i++)
        print_kernel(fp, json_object_array_get_idx(k, i), in);
    cli_printf_safe(fp, "%s    virtio:     disk %s, scsi %s, net %s (in every "
              "bootable kernel's initramfs, or built in)\n", in,
              gb(os, "virtio-blk") ? "yes" : "no",
              gb(os, "virtio-scsi") ? "yes" : "no",
              gb(os, "virtio-net") ? "yes" : "no");
    cli_printf_safe(fp, "%s    after fix:  virtio disk %s, net %s "
              "(initramfs tool: %s)\n", in,
              gb(os, "virtio-blk-after-fix") ? "yes" : "no",
              gb(os, "virtio-net-after-fix") ? "yes" : "no",
              gs(os, "initramfs-tool") ? gs(os, "initramfs-tool") : "none");
}

void
cli_print_guest(FILE *fp, struct json_object *g, const char *in)
{
    struct json_object *oses = json_object_object_get(g, "operating-systems");
    size_t i;

    cli_printf_safe(fp, "%sguest: %s", in, or_unknown(gs(g, "status")));
    if (gs(g, "accelerator"))
        cli_printf_safe(fp, " (libguestfs appliance with %s)",
                  strcmp(gs(g, "accelerator"), "kvm") == 0 ? "KVM"
                  : "TCG, without KVM");
    fputc('\n', fp);
    for (i = 0; oses && i < json_object_array_length(oses); i++)
        print_os(fp, json_object_array_get_idx(oses, i), in);
}
