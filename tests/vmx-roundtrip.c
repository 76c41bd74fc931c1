/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmx-roundtrip IN.vmx OUTDIR: read IN.vmx with the vmware plugin,
 * write it back with the plugin's writer into OUTDIR (as rt.vmx, its
 * disks named OUTDIR/rt-diskN.vmdk), read that again, and compare the
 * two models on every field a .vmx can carry.  Exit 0 when they agree,
 * 1 (printing both models) when not, 2 on an error.
 *
 * vmx-roundtrip IN.json OUTDIR: write the vmconv-vm model IN.json (of
 * any hypervisor) as OUTDIR/rt.vmx, read it back and print the model
 * read as JSON: what the writer makes of devices VMware does not have.
 *
 * The writer's warnings are printed on stderr ("warning: ...").
 *
 * Left out of the comparison, because the round trip changes them on
 * purpose: where the disks' images are (they are renamed and not
 * copied here, so they are missing on the way back), the source path,
 * notes, the hardware version (raised to what the devices need), the
 * NVRAM file and the snapshots (neither is carried), and a NIC model
 * or SCSI controller model the source left unknown (the writer picks
 * one).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/plugin.h>

static void
blank(struct vmc_vm *vm, const struct vmc_vm *orig)
{
    size_t i;

    for (i = 0; i < vm->nr_notes; i++)
        free(vm->notes[i]);
    vm->nr_notes = 0;
    vmc_vm_set_string(vm, &vm->source_path, NULL);
    vmc_vm_set_string(vm, &vm->source_version, NULL);
    vmc_vm_set_string(vm, &vm->nvram_path, NULL);
    vm->nvram_kind = VMC_NVRAM_KIND_UNKNOWN;
    vmc_vm_set_string(vm, &vm->current_snapshot, NULL);
    for (i = 0; i < vm->nr_snapshots; i++) {
        struct vmc_snapshot *s = vm->snapshots[i];
        size_t j;

        for (j = 0; j < s->nr_disks; j++) {
            free(s->disks[j]->path);
            free(s->disks[j]);
        }
        free(s->disks);
        free(s->id);
        free(s->name);
        free(s->parent);
        free(s->description);
        free(s);
    }
    vm->nr_snapshots = 0;
    for (i = 0; i < vm->nr_disks; i++) {
        struct vmc_disk *d = vm->disks[i];
        size_t j;

        /* A medium found is written by its local path. */
        if (d->device != VMC_DISK_DEVICE_DISK && d->path)
            vmc_vm_set_string(vm, &d->source_ref, NULL);
        if (d->device != VMC_DISK_DEVICE_DISK)
            continue;
        vmc_vm_set_string(vm, &d->path, NULL);
        vmc_vm_set_string(vm, &d->source_ref, NULL);
        vmc_vm_set_string(vm, &d->format, NULL);
        d->missing = false;
        d->virtual_size = 0;
        for (j = 0; j < d->nr_backing; j++)
            free(d->backing[j]);
        d->nr_backing = 0;
    }
    for (i = 0; i < vm->nr_nics && i < orig->nr_nics; i++)
        if (orig->nics[i]->model == VMC_NIC_MODEL_UNKNOWN)
            vm->nics[i]->model = VMC_NIC_MODEL_UNKNOWN;
    for (i = 0; i < vm->nr_controllers && i < orig->nr_controllers; i++)
        if (orig->controllers[i]->model == VMC_CONTROLLER_MODEL_UNKNOWN)
            vm->controllers[i]->model = VMC_CONTROLLER_MODEL_UNKNOWN;
    for (i = 0; i < vm->nr_disks && i < orig->nr_disks; i++)
        if (orig->disks[i]->controller_model == VMC_CONTROLLER_MODEL_UNKNOWN)
            vm->disks[i]->controller_model = VMC_CONTROLLER_MODEL_UNKNOWN;
}

/* Warnings of the writer go to stderr, for the tests to check. */
static void
log_warning(void *opaque, enum vmc_log_level level, const char *msg)
{
    (void) opaque;
    if (level == VMC_LOG_WARNING)
        fprintf(stderr, "warning: %s\n", msg);
}

int
main(int argc, char **argv)
{
    struct vmc_handle *h;
    struct vmc_loaded_plugin *p;
    struct vmc_vm *a = NULL, *b = NULL, *a0 = NULL;
    struct vmc_write_options wo = { ._struct_size = sizeof wo };
    /* Media outside OUTDIR are referred to by absolute paths. */
    struct vmc_read_options ro = { ._struct_size = sizeof ro,
                                   .image_flags = VMC_IMAGE_ALLOW_OUTSIDE };
    char **paths = NULL, out[4096];
    char *ja = NULL, *jb = NULL;
    size_t i;
    bool from_json;
    int ret = 2;

    if (argc != 3) {
        fprintf(stderr, "usage: vmx-roundtrip IN.vmx OUTDIR\n");
        return 2;
    }
    h = vmc_new();
    if (h == NULL || vmc_plugins_load(h, NULL) == -1 ||
        (p = vmc_plugin_find(h, "vmware")) == NULL) {
        fprintf(stderr, "vmx-roundtrip: no vmware plugin: %s\n",
                h ? vmc_get_error(h) : "");
        return 2;
    }
    vmc_set_log_handler(h, log_warning, NULL);
    from_json = strlen(argv[1]) > 5 &&
                strcmp(argv[1] + strlen(argv[1]) - 5, ".json") == 0;
    if (from_json) {
        char *text = vmc_read_file(h, argv[1], VMC_VM_JSON_MAX);

        a = text ? vmc_vm_from_json(h, text, argv[1]) : NULL;
        free(text);
    } else
        a = vmc_plugin_read_opts(h, p, argv[1], &ro);
    if (a == NULL)
        goto err;
    paths = calloc(a->nr_disks + 1, sizeof *paths);
    if (paths == NULL)
        goto err;
    for (i = 0; i < a->nr_disks; i++)
        if (a->disks[i]->device == VMC_DISK_DEVICE_DISK &&
            asprintf(&paths[i], "%s/rt-disk%zu.vmdk", argv[2], i) == -1)
            goto err;
    wo.outdir = argv[2];
    wo.final_outdir = argv[2];
    wo.name = "rt";
    wo.nr_disks = a->nr_disks;
    wo.disk_tmp_paths = (const char *const *) paths;
    wo.disk_final_paths = (const char *const *) paths;
    if (vmc_plugin_write_opts(h, p, a, &wo) == -1)
        goto err;
    snprintf(out, sizeof out, "%s/rt.vmx", argv[2]);
    b = vmc_plugin_read_opts(h, p, out, &ro);
    if (b == NULL)
        goto err;
    if (from_json) {
        jb = vmc_vm_to_json(b);
        if (jb == NULL)
            goto err;
        fputs(jb, stdout);
        ret = 0;
        goto out;
    }
    a0 = vmc_vm_copy(a);
    if (a0 == NULL)
        goto err;
    blank(a, a0);
    blank(b, a0);
    ja = vmc_vm_to_json(a);
    jb = vmc_vm_to_json(b);
    if (ja == NULL || jb == NULL)
        goto err;
    if (strcmp(ja, jb) == 0)
        ret = 0;
    else {
        printf("--- read\n%s+++ read back\n%s", ja, jb);
        ret = 1;
    }
    goto out;
 err:
    fprintf(stderr, "vmx-roundtrip: %s\n", vmc_get_error(h));
 out:
    if (paths)
        for (i = 0; a && i < a->nr_disks; i++)
            free(paths[i]);
    free(paths);
    free(ja);
    free(jb);
    vmc_vm_free(a);
    vmc_vm_free(a0);
    vmc_vm_free(b);
    vmc_free(h);
    return ret;
}
