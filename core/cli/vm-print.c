/* Printing VM models for people, and choosing plugins, shared by
 * vmconv inspect and vmconv convert.
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

static void
print_disk(FILE *fp, size_t i, const struct vmc_disk *d)
{
    char label[32], size[32];
    size_t j;

    snprintf(label, sizeof label, "disk %zu:", i);
    print_label(fp, label);
    fprintf(fp, "%s on %s %u:%u", vmc_disk_device_to_string(d->device),
            vmc_disk_bus_to_string(d->bus), d->controller, d->unit);
    if (d->controller_model != VMC_CONTROLLER_MODEL_UNKNOWN)
        fprintf(fp, " (%s)",
                vmc_controller_model_to_string(d->controller_model));
    if (d->boot_order)
        fprintf(fp, ", boot %u", d->boot_order);
    if (d->readonly)
        fputs(", read-only", fp);
    if (d->shareable)
        fputs(", shareable", fp);
    fputs(": ", fp);
    if (d->path)
        cli_print_safe(fp, d->path, 0);
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
    if (n->net_type != VMC_NET_TYPE_UNKNOWN || n->network) {
        fprintf(fp, " on %s", vmc_net_type_to_string(n->net_type));
        if (n->network) {
            fputc(' ', fp);
            cli_print_safe(fp, n->network, 0);
        }
    }
    fputc('\n', fp);
}

static void
print_snapshot(FILE *fp, const struct vmc_vm *vm, const struct vmc_snapshot *s)
{
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
    if (vm->current_snapshot && strcmp(vm->current_snapshot, s->id) == 0)
        fputs(", current", fp);
    fputc('\n', fp);
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
    print_string(fp, "uuid:", vm->uuid);
    print_string(fp, "genid:", vm->genid);
    print_string(fp, "description:", vm->description);
    print_label(fp, "firmware:");
    fprintf(fp, "%s, secure boot %s%s\n", vmc_firmware_to_string(vm->firmware),
            vm->secure_boot ? "on" : "off", vm->tpm ? ", TPM" : "");
    print_string(fp, "machine:", vm->machine);
    print_cpus(fp, vm);
    print_label(fp, "memory:");
    if (vm->memory) {
        cli_format_size(size, sizeof size, vm->memory);
        fprintf(fp, "%s\n", size);
    }
    else
        fputs("unknown\n", fp);
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
    for (i = 0; i < vm->nr_disks; i++)
        print_disk(fp, i, vm->disks[i]);
    for (i = 0; i < vm->nr_nics; i++)
        print_nic(fp, i, vm->nics[i]);
    for (i = 0; i < vm->nr_snapshots; i++)
        print_snapshot(fp, vm, vm->snapshots[i]);
    for (i = 0; i < vm->nr_notes; i++)
        print_string(fp, "note:", vm->notes[i]);
}
