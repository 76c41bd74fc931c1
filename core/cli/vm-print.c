/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing VM models for people, shared by vmconv inspect and vmconv
 * convert.  Depends on the public headers only, so that tests can print
 * models too (tests/vm-print-json.c).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vm-print.h"

/* "label:" padded to a column, then the value. */
#define LABEL_WIDTH 13

static void
print_label(FILE *fp, const char *label)
{
    fprintf(fp, "%-*s", LABEL_WIDTH, label);
}

static void
print_string(FILE *fp, const char *label, const char *value)
{
    if (value == NULL)
        return;
    print_label(fp, label);
    cli_print_safe(fp, value, LABEL_WIDTH);
    fputc('\n', fp);
}

static const char *
plural(unsigned n)
{
    return n == 1 ? "" : "s";
}

static void
print_cpus(FILE *fp, const struct vmc_vm *vm)
{
    print_label(fp, "vcpus:");
    if (vm->vcpus)
        fprintf(fp, "%u", vm->vcpus);
    else
        fputs("unknown", fp);
    if (vm->cpu_sockets || vm->cpu_cores || vm->cpu_threads)
        fprintf(fp, " (%u socket%s, %u core%s, %u thread%s)",
                vm->cpu_sockets, plural(vm->cpu_sockets),
                vm->cpu_cores, plural(vm->cpu_cores),
                vm->cpu_threads, plural(vm->cpu_threads));
    if (vm->nested_virt)
        fputs(", nested virtualisation", fp);
    fputc('\n', fp);
}

static void
print_os(FILE *fp, const struct vmc_vm *vm)
{
    const char *parts[] = { vm->os_distro, vm->os_version, vm->os_arch };
    size_t i;

    if (vm->os_family == VMC_OS_FAMILY_UNKNOWN && !vm->os_distro &&
        !vm->os_version && !vm->os_arch && !vm->os_id)
        return;
    print_label(fp, "guest os:");
    fputs(vmc_os_family_to_string(vm->os_family), fp);
    for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i]) {
            fputc(' ', fp);
            cli_print_safe(fp, parts[i], 0);
        }
    if (vm->os_id) {
        fputs(" (", fp);
        cli_print_safe(fp, vm->os_id, 0);
        fputc(')', fp);
    }
    fputc('\n', fp);
}

/* ", text" for a connection state that is known. */
static void
print_connection(FILE *fp, enum vmc_connection c)
{
    if (c != VMC_CONNECTION_UNKNOWN)
        fprintf(fp, ", %s", vmc_connection_to_string(c));
}

/* "scsi 1:3", with "?" for an unknown controller or unit; just the bus
 * when both are unknown.
 */
static void
print_address(FILE *fp, const struct vmc_disk *d)
{
    fputs(vmc_disk_bus_to_string(d->bus), fp);
    if (d->controller < 0 && d->unit < 0)
        return;
    fputc(' ', fp);
    if (d->controller >= 0)
        fprintf(fp, "%d", d->controller);
    else
        fputc('?', fp);
    fputc(':', fp);
    if (d->unit >= 0)
        fprintf(fp, "%d", d->unit);
    else
        fputc('?', fp);
}

static void
print_disk(FILE *fp, size_t i, const struct vmc_disk *d)
{
    char label[32], size[32];
    size_t j;

    snprintf(label, sizeof label, "disk %zu:", i);
    print_label(fp, label);
    fprintf(fp, "%s on ", vmc_disk_device_to_string(d->device));
    print_address(fp, d);
    if (d->controller_model != VMC_CONTROLLER_MODEL_UNKNOWN ||
        d->controller_ref >= 0) {
        fputs(" (", fp);
        if (d->controller_model != VMC_CONTROLLER_MODEL_UNKNOWN)
            fprintf(fp, "%s%s",
                    vmc_controller_model_to_string(d->controller_model),
                    d->controller_ref >= 0 ? ", " : "");
        if (d->controller_ref >= 0)
            fprintf(fp, "controllers[%d]", d->controller_ref);
        fputc(')', fp);
    }
    if (d->boot_order)
        fprintf(fp, ", boot %u", d->boot_order);
    if (d->readonly)
        fputs(", read-only", fp);
    if (d->shareable)
        fputs(", shareable", fp);
    print_connection(fp, d->connection);
    if (d->reference_only)
        fputs(", referenced (not converted)", fp);
    if (d->independent)
        fputs(", independent", fp);
    if (d->nonpersistent)
        fputs(", nonpersistent", fp);
    if (d->logical_block_size || d->physical_block_size)
        fprintf(fp, ", sectors %" PRIu32 "/%" PRIu32 " bytes",
                d->logical_block_size, d->physical_block_size);
    fputs(": ", fp);
    if (d->path)
        cli_print_safe(fp, d->path, 0);
    else if (d->missing)
        fputs("missing", fp);
    else if (d->source_ref)
        fputs("not resolved", fp);
    else
        fputs("empty", fp);
    if (d->format || d->virtual_size) {
        fputs(" (", fp);
        if (d->format)
            cli_print_safe(fp, d->format, 0);
        if (d->virtual_size) {
            cli_format_size(size, sizeof size, d->virtual_size);
            fprintf(fp, "%s%s", d->format ? ", " : "", size);
        }
        fputc(')', fp);
    }
    fputc('\n', fp);
    if (d->source_ref) {
        print_label(fp, "");
        fputs("written as ", fp);
        cli_print_safe(fp, d->source_ref, 0);
        fputc('\n', fp);
    }
    for (j = 0; j < d->nr_backing; j++) {
        print_label(fp, "");
        fputs("backed by ", fp);
        cli_print_safe(fp, d->backing[j], 0);
        fputc('\n', fp);
    }
}

static void
print_nic(FILE *fp, size_t i, const struct vmc_nic *n)
{
    char label[32];

    snprintf(label, sizeof label, "nic %zu:", i);
    print_label(fp, label);
    fprintf(fp, "%s %s", vmc_nic_model_to_string(n->model),
            n->mac ? n->mac : "(no MAC)");
    if (n->mac_kind != VMC_MAC_KIND_UNKNOWN)
        fprintf(fp, " (%s)", vmc_mac_kind_to_string(n->mac_kind));
    if (n->net_type != VMC_NET_TYPE_UNKNOWN || n->network) {
        fprintf(fp, " on %s", vmc_net_type_to_string(n->net_type));
        if (n->network) {
            fputc(' ', fp);
            cli_print_safe(fp, n->network, 0);
        }
    }
    if (n->network_orig) {
        fputs(" (source network ", fp);
        cli_print_safe(fp, n->network_orig, 0);
        fputc(')', fp);
    }
    if (n->vlan)
        fprintf(fp, ", VLAN %u", n->vlan);
    print_connection(fp, n->connection);
    fputc('\n', fp);
}

static void
print_controller(FILE *fp, const struct vmc_controller *c)
{
    print_label(fp, "controller:");
    fprintf(fp, "%s%u", vmc_disk_bus_to_string(c->bus), c->index);
    if (c->model != VMC_CONTROLLER_MODEL_UNKNOWN)
        fprintf(fp, " (%s)", vmc_controller_model_to_string(c->model));
    fputc('\n', fp);
}

static void
print_serial(FILE *fp, const struct vmc_serial *s)
{
    char label[32];

    snprintf(label, sizeof label, "serial %u:", s->index);
    print_label(fp, label);
    fputs(vmc_serial_type_to_string(s->type), fp);
    if (s->target) {
        fputc(' ', fp);
        cli_print_safe(fp, s->target, 0);
    }
    fputc('\n', fp);
}

static void
print_snapshot(FILE *fp, const struct vmc_vm *vm, const struct vmc_snapshot *s)
{
    size_t i;

    print_label(fp, "snapshot:");
    cli_print_safe(fp, s->id, 0);
    if (s->name) {
        fputs(" \"", fp);
        cli_print_safe(fp, s->name, 0);
        fputc('"', fp);
    }
    if (s->parent) {
        fputs(", parent ", fp);
        cli_print_safe(fp, s->parent, 0);
    }
    if (s->created)
        fprintf(fp, ", created %" PRIi64, s->created);
    if (vm->current_snapshot && strcmp(vm->current_snapshot, s->id) == 0)
        fputs(", current", fp);
    fputc('\n', fp);
    if (s->description) {
        print_label(fp, "");
        cli_print_safe(fp, s->description, LABEL_WIDTH);
        fputc('\n', fp);
    }
    for (i = 0; i < s->nr_disks; i++) {
        print_label(fp, "");
        if (s->disks[i]->disk >= 0)
            fprintf(fp, "disk %d: ", s->disks[i]->disk);
        else
            fputs("a removed disk: ", fp);
        cli_print_safe(fp, s->disks[i]->path ? s->disks[i]->path : "?", 0);
        fputc('\n', fp);
    }
}

static void
print_firmware(FILE *fp, const struct vmc_vm *vm)
{
    print_label(fp, "firmware:");
    fprintf(fp, "%s, secure boot %s", vmc_firmware_to_string(vm->firmware),
            vm->secure_boot ? "on" : "off");
    if (vm->secure_boot_template != VMC_SECURE_BOOT_TEMPLATE_UNKNOWN)
        fprintf(fp, " (%s keys)",
                vmc_secure_boot_template_to_string(vm->secure_boot_template));
    fprintf(fp, "%s\n", vm->tpm ? ", TPM" : "");
    if (vm->nvram_path || vm->nvram_kind != VMC_NVRAM_KIND_UNKNOWN) {
        print_label(fp, "nvram:");
        if (vm->nvram_path)
            cli_print_safe(fp, vm->nvram_path, 0);
        if (vm->nvram_kind != VMC_NVRAM_KIND_UNKNOWN)
            fprintf(fp, "%s(%s)", vm->nvram_path ? " " : "",
                    vmc_nvram_kind_to_string(vm->nvram_kind));
        fputc('\n', fp);
    }
}

static void
print_memory(FILE *fp, const struct vmc_vm *vm)
{
    const struct {
        const char *what;
        uint64_t v;
    } more[] = {
        { "min", vm->memory_min },
        { "max", vm->memory_max },
        { "reserved", vm->memory_reservation },
    };
    char size[32];
    const char *sep = " (";
    size_t i;

    print_label(fp, "memory:");
    if (vm->memory) {
        cli_format_size(size, sizeof size, vm->memory);
        fputs(size, fp);
    }
    else
        fputs("unknown", fp);
    for (i = 0; i < sizeof more / sizeof more[0]; i++)
        if (more[i].v) {
            cli_format_size(size, sizeof size, more[i].v);
            fprintf(fp, "%s%s %s", sep, more[i].what, size);
            sep = ", ";
        }
    fprintf(fp, "%s\n", sep[0] == ',' ? ")" : "");
}

void
cli_print_vm(FILE *fp, const struct vmc_vm *vm)
{
    char size[32];
    size_t i;

    print_label(fp, "name:");
    cli_print_safe(fp, vm->name ? vm->name : "(none)", LABEL_WIDTH);
    fputc('\n', fp);
    if (vm->source_path) {
        print_label(fp, "source:");
        cli_print_safe(fp, vm->source_path, 0);
        if (vm->source_plugin)
            fprintf(fp, " (%s plugin)", vm->source_plugin);
        fputc('\n', fp);
    }
    print_string(fp, "version:", vm->source_version);
    print_string(fp, "uuid:", vm->uuid);
    print_string(fp, "genid:", vm->genid);
    print_string(fp, "description:", vm->description);
    print_firmware(fp, vm);
    print_string(fp, "machine:", vm->machine);
    if (vm->clock != VMC_CLOCK_UNKNOWN || vm->clock_offset) {
        print_label(fp, "clock:");
        fputs(vmc_clock_to_string(vm->clock), fp);
        if (vm->clock_offset)
            fprintf(fp, ", %+" PRIi64 " s", vm->clock_offset);
        fputc('\n', fp);
    }
    print_cpus(fp, vm);
    print_memory(fp, vm);
    print_os(fp, vm);
    if (vm->video != VMC_VIDEO_MODEL_UNKNOWN || vm->vram) {
        print_label(fp, "video:");
        fputs(vmc_video_model_to_string(vm->video), fp);
        if (vm->vram) {
            cli_format_size(size, sizeof size, vm->vram);
            fprintf(fp, ", %s", size);
        }
        fputc('\n', fp);
    }
    if (vm->graphics != VMC_GRAPHICS_UNKNOWN) {
        print_label(fp, "graphics:");
        fprintf(fp, "%s\n", vmc_graphics_to_string(vm->graphics));
    }
    for (i = 0; i < vm->nr_controllers; i++)
        print_controller(fp, vm->controllers[i]);
    for (i = 0; i < vm->nr_disks; i++)
        print_disk(fp, i, vm->disks[i]);
    for (i = 0; i < vm->nr_nics; i++)
        print_nic(fp, i, vm->nics[i]);
    for (i = 0; i < vm->nr_serials; i++)
        print_serial(fp, vm->serials[i]);
    for (i = 0; i < vm->nr_snapshots; i++)
        print_snapshot(fp, vm, vm->snapshots[i]);
    for (i = 0; i < vm->nr_notes; i++)
        print_string(fp, "note:", vm->notes[i]);
}
