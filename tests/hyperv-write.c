/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hyperv-write SOURCE OUTDIR NAME: read SOURCE (a vmconv-vm JSON model
 * when it ends in ".model.json", else with the plugin that recognises
 * it) and write it with the hyperv plugin into OUTDIR, as the
 * conversion does: every disk that has an image gets the converted
 * image OUTDIR/NAME-diskN.vhdx, or .vhd when HYPERV_WRITE_EXT=vhd (not
 * created here: the script only names it).  The writer's warnings go to stderr ("warning: ...").  Exit 0,
 * or 1 with the error on stderr.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/plugin.h>

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
    struct vmc_loaded_plugin *p, *src;
    struct vmc_vm *vm = NULL;
    struct vmc_write_options wo = { ._struct_size = sizeof wo };
    char **paths = NULL;
    size_t i, n = strlen(argc > 1 ? argv[1] : "");
    int ret = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: hyperv-write SOURCE OUTDIR NAME\n");
        return 2;
    }
    h = vmc_new();
    if (h == NULL || vmc_plugins_load(h, NULL) == -1 ||
        (p = vmc_plugin_find(h, "hyperv")) == NULL) {
        fprintf(stderr, "hyperv-write: no hyperv plugin: %s\n",
                h ? vmc_get_error(h) : "");
        return 2;
    }
    vmc_set_log_handler(h, log_warning, NULL);
    if (n > 11 && strcmp(argv[1] + n - 11, ".model.json") == 0) {
        char *text = vmc_read_file(h, argv[1], VMC_VM_JSON_MAX);

        vm = text ? vmc_vm_from_json(h, text, argv[1]) : NULL;
        free(text);
    }
    else if ((src = vmc_plugin_for_source(h, argv[1])) != NULL)
        vm = vmc_plugin_read(h, src, argv[1]);
    if (vm == NULL)
        goto out;
    paths = calloc(vm->nr_disks + 1, sizeof *paths);
    if (paths == NULL)
        goto out;
    for (i = 0; i < vm->nr_disks; i++)
        if (vm->disks[i]->device == VMC_DISK_DEVICE_DISK &&
            vm->disks[i]->path &&
            asprintf(&paths[i], "%s/%s-disk%zu.%s", argv[2], argv[3], i,
                     getenv("HYPERV_WRITE_EXT") ? getenv("HYPERV_WRITE_EXT")
                                                : "vhdx") == -1)
            goto out;
    wo.outdir = argv[2];
    wo.final_outdir = argv[2];
    wo.name = argv[3];
    wo.nr_disks = vm->nr_disks;
    wo.disk_tmp_paths = (const char *const *) paths;
    wo.disk_final_paths = (const char *const *) paths;
    if (vmc_plugin_write_opts(h, p, vm, &wo) == 0)
        ret = 0;
 out:
    if (ret)
        fprintf(stderr, "hyperv-write: %s\n", vmc_get_error(h));
    for (i = 0; paths && i < vm->nr_disks; i++)
        free(paths[i]);
    free(paths);
    vmc_vm_free(vm);
    vmc_free(h);
    return ret;
}
