/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-write-vm: drive the kvm plugin's write and finish as the
 * conversion pipeline does, for the kvm tests (the pipeline itself is
 * vmconv convert's).
 *
 *   kvm-write-vm [--json] [--from PLUGIN] [--read-param K=V]...
 *                [--guest virtio|novirtio] [--param K=V]...
 *                [--disk FINAL_PATH]... [--uri URI] [--finish]
 *                [--name NAME] [--format FMT] [--to PLUGIN] SOURCE OUTDIR
 *
 * SOURCE is read with PLUGIN (default: the one probing best), or is a
 * vmconv-vm JSON document with --json.  The domain is written into
 * OUTDIR (which must exist), and with --finish defined at URI.  --to
 * PLUGIN writes with another target plugin instead (default: kvm).
 * --disk gives, in order, the final path of each disk (the converted
 * images; "" for a drive without one), as the pipeline does; without
 * it the VM's own paths are written.  --format FMT makes each hard disk
 * given by --disk an image of FMT, as the pipeline converts them.
 * --guest says what guest conversion learnt (without it: no guest
 * conversion ran).  Plugins come from $VMCONV_PLUGIN_DIR; warnings go
 * to stderr.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/plugin.h>

#define MAXP 16

/* Warnings go to stderr ("warning: ..."), as vmconv prints them. */
static void
log_fn(void *opaque, enum vmc_log_level level, const char *msg)
{
    if (level == VMC_LOG_WARNING)
        fprintf(stderr, "warning: %s\n", msg);
}

int
main(int argc, char **argv)
{
    enum { O_JSON = 256, O_FROM, O_RPARAM, O_GUEST, O_PARAM, O_DISK, O_URI,
           O_FINISH, O_NAME, O_FORMAT, O_TO };
    static const struct option lo[] = {
        { "json", no_argument, NULL, O_JSON },
        { "from", required_argument, NULL, O_FROM },
        { "read-param", required_argument, NULL, O_RPARAM },
        { "guest", required_argument, NULL, O_GUEST },
        { "param", required_argument, NULL, O_PARAM },
        { "disk", required_argument, NULL, O_DISK },
        { "uri", required_argument, NULL, O_URI },
        { "finish", no_argument, NULL, O_FINISH },
        { "name", required_argument, NULL, O_NAME },
        { "format", required_argument, NULL, O_FORMAT },
        { "to", required_argument, NULL, O_TO },
        { NULL, 0, NULL, 0 }
    };
    const char *from = NULL, *rparams[MAXP], *params[MAXP], *uri = NULL;
    const char *guest_kind = NULL, *name = NULL, *format = NULL;
    const char *to = "kvm";
    const char **disks = NULL;
    size_t nr = 0, nw = 0, nd = 0;
    bool json = false, finish = false;
    struct vmc_handle *h;
    struct vmc_loaded_plugin *src, *kvm;
    struct vmc_guest_info *guest = NULL;
    struct vmc_vm *vm = NULL;
    int c, ret = EXIT_FAILURE;

    disks = calloc((size_t) argc, sizeof *disks);
    if (disks == NULL)
        return EXIT_FAILURE;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = true; break;
        case O_FROM: from = optarg; break;
        case O_RPARAM: if (nr < MAXP) rparams[nr++] = optarg; break;
        case O_PARAM: if (nw < MAXP) params[nw++] = optarg; break;
        case O_GUEST: guest_kind = optarg; break;
        case O_DISK: disks[nd++] = *optarg ? optarg : NULL; break;
        case O_URI: uri = optarg; break;
        case O_FINISH: finish = true; break;
        case O_NAME: name = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_TO: to = optarg; break;
        default: return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: kvm-write-vm [options] SOURCE OUTDIR\n");
        return 2;
    }
    h = vmc_new();
    if (h == NULL)
        goto out;
    vmc_set_log_handler(h, log_fn, NULL);
    if (vmc_plugins_load(h, NULL) == -1)
        goto out;
    kvm = vmc_plugin_find(h, to);
    if (kvm == NULL) {
        fprintf(stderr, "kvm-write-vm: no %s plugin\n", to);
        goto out;
    }
    if (json) {
        char *text = vmc_read_file(h, argv[optind], VMC_VM_JSON_MAX);

        vm = text ? vmc_vm_from_json(h, text, argv[optind]) : NULL;
        free(text);
    }
    else {
        struct vmc_read_options ro = {
            ._struct_size = sizeof ro,
            .nr_params = nr,
            .params = rparams,
        };

        src = from ? vmc_plugin_find(h, from) :
            vmc_plugin_for_source(h, argv[optind]);
        if (src)
            vm = vmc_plugin_read_opts(h, src, argv[optind], &ro);
    }
    if (vm == NULL)
        goto out;
    if (guest_kind) {
        guest = vmc_guest_info_new(h);
        if (guest == NULL)
            goto out;
        guest->has_virtio_blk = guest->has_virtio_net =
            strcmp(guest_kind, "virtio") == 0;
    }
    if (nd && nd != vm->nr_disks) {
        fprintf(stderr, "kvm-write-vm: %zu --disk for %zu disks\n", nd,
                vm->nr_disks);
        goto out;
    }
    /* As the pipeline does: the disks given are converted images of
     * FORMAT.
     */
    for (size_t i = 0; i < nd; i++)
        if (format && disks[i] &&
            vm->disks[i]->device == VMC_DISK_DEVICE_DISK &&
            vmc_vm_set_string(vm, &vm->disks[i]->format, format) == -1)
            goto out;
    {
        struct vmc_write_options wo = {
            ._struct_size = sizeof wo,
            .outdir = argv[optind + 1],
            .name = name ? name : vm->name,
            .final_outdir = argv[optind + 1],
            .nr_disks = nd,
            .disk_tmp_paths = nd ? disks : NULL,
            .disk_final_paths = nd ? disks : NULL,
            .nr_params = nw,
            .params = params,
            .libvirt_uri = uri,
            .guest = guest,
        };

        if (vmc_plugin_write_opts(h, kvm, vm, &wo) == -1)
            goto out;
        if (finish && vmc_plugin_finish(h, kvm, vm, &wo) == -1)
            goto out;
    }
    ret = EXIT_SUCCESS;
 out:
    if (ret != EXIT_SUCCESS && h && vmc_get_error(h))
        fprintf(stderr, "kvm-write-vm: %s\n", vmc_get_error(h));
    vmc_guest_info_free(guest);
    vmc_vm_free(vm);
    vmc_free(h);
    free(disks);
    return ret;
}
