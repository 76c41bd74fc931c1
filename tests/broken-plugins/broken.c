/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plugins for the loader tests: each library in tests/foundation.mk is
 * this file built with one VARIANT_* macro.  Most are broken in exactly
 * one way the loader must refuse; a few are good.
 *
 * Good plugins append "NAME load" / "NAME unload" to the file named by
 * $VMCONV_TEST_PLUGIN_LOG, so tests can see the callbacks run.
 *
 * VARIANT_V2 is a good plugin using the version 2 callbacks (probe2,
 * read2, finish, config_help, caps): its read2 puts the options it
 * received into the VM, its write and finish log what they see.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#if defined(VARIANT_BAD_NAME)
#define NAME "Bad Name"
#elif defined(VARIANT_NO_NAME)
#define NAME ""
#elif defined(VARIANT_TWIN1) || defined(VARIANT_TWIN2)
#define NAME "twin"
#elif defined(VARIANT_CLAIM_A)
#define NAME "claim-a"
#elif defined(VARIANT_CLAIM_B)
#define NAME "claim-b"
#elif defined(VARIANT_CLAIM_LESS)
#define NAME "claim-less"
#elif defined(VARIANT_BIGGER)
#define NAME "bigger"
#elif defined(VARIANT_V2)
#define NAME "v2"
#else
#define NAME "good"
#endif

#if defined(VARIANT_CLAIM_A) || defined(VARIANT_CLAIM_B)
#define SCORE 50
#elif defined(VARIANT_CLAIM_LESS)
#define SCORE 20
#else
#define SCORE 0
#endif

#define UNUSED __attribute__((unused))

static UNUSED void
test_log(const char *what)
{
    const char *file = getenv("VMCONV_TEST_PLUGIN_LOG");
    FILE *fp;

    if (file == NULL || (fp = fopen(file, "a")) == NULL)
        return;
    fprintf(fp, "%s %s\n", NAME, what);
    fclose(fp);
}

static UNUSED int
test_load(struct vmc_handle *h)
{
#ifdef VARIANT_LOAD_FAILS
    vmc_error(h, "no licence for this plugin");
    return -1;
#else
    test_log("load");
    return 0;
#endif
}

static UNUSED void
test_unload(struct vmc_handle *h)
{
    test_log("unload");
}

static UNUSED int
test_probe(struct vmc_handle *h, const char *source)
{
    return SCORE;
}

static UNUSED struct vmc_vm *
test_read(struct vmc_handle *h, const char *source)
{
    struct vmc_vm *vm = vmc_vm_new(h);

    if (vm && vmc_vm_set_string(vm, &vm->name, NAME) == -1) {
        vmc_vm_free(vm);
        return NULL;
    }
    return vm;
}

#ifdef VARIANT_V2
/* Scores 70 for a file whose head starts with "v2-source" and whose
 * tail ends with "end\n": shows both arrive.
 */
static int
v2_probe2(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    if (!in->is_file || in->head_len < 9 ||
        memcmp(in->head, "v2-source", 9) != 0)
        return 0;
    if (in->tail_len < 4 ||
        memcmp(in->tail + in->tail_len - 4, "end\n", 4) != 0)
        return 0;
    return in->file_size == in->head_len ? 70 : 0;
}

/* The VM's description says what read2 received. */
static struct vmc_vm *
v2_read2(struct vmc_handle *h, const char *source,
         const struct vmc_read_options *opts)
{
    struct vmc_vm *vm;
    size_t i;

    if (!VMC_STRUCT_HAS(opts, struct vmc_read_options, params)) {
        vmc_error(h, "%s: read options too small", source);
        return NULL;
    }
    for (i = 0; i < opts->nr_params; i++)
        if (strncmp(opts->params[i], "fail=", 5) == 0) {
            vmc_error(h, "%s: v2: asked to fail: %s", source,
                      opts->params[i] + 5);
            return NULL;
        }
    vm = vmc_vm_new(h);
    if (vm == NULL)
        return NULL;
    if (vmc_vm_set_string(vm, &vm->name, NAME) == -1)
        goto err;
    if (vmc_vm_add_note(vm, "image_flags=%u", opts->image_flags) == -1 ||
        vmc_vm_add_note(vm, "workdir=%s", opts->workdir) == -1)
        goto err;
    for (i = 0; i < opts->nr_params; i++)
        if (vmc_vm_add_note(vm, "param=%s", opts->params[i]) == -1)
            goto err;
    /* Version 2 of the options: said only when set. */
    if (VMC_STRUCT_HAS(opts, struct vmc_read_options, flags) &&
        opts->flags != 0 &&
        vmc_vm_add_note(vm, "flags=%u", opts->flags) == -1)
        goto err;
    return vm;
 err:
    vmc_vm_free(vm);
    return NULL;
}

/* Writes OUTDIR/NAME.conf: the final path of each disk, one a line,
 * then the libvirt URI and the guest's distro.
 */
static int
v2_write(struct vmc_handle *h, const struct vmc_vm *vm,
         const struct vmc_write_options *opts)
{
    char path[4096];
    FILE *fp;
    size_t i;

    snprintf(path, sizeof path, "%s/%s.conf", opts->outdir, opts->name);
    fp = fopen(path, "wx");
    if (fp == NULL) {
        vmc_error(h, "create: %s: %m", path);
        return -1;
    }
    for (i = 0; i < opts->nr_disks; i++)
        fprintf(fp, "disk %s (now %s)\n",
                opts->disk_final_paths[i] ? opts->disk_final_paths[i] : "-",
                opts->disk_tmp_paths[i] ? opts->disk_tmp_paths[i] : "-");
    fprintf(fp, "uri %s\n", opts->libvirt_uri ? opts->libvirt_uri : "-");
    fprintf(fp, "guest %s\n", opts->guest && opts->guest->os_distro ?
            opts->guest->os_distro : "-");
    if (fclose(fp) != 0) {
        vmc_error(h, "write: %s: %m", path);
        return -1;
    }
    return 0;
}

/* Logs "v2 finish found NAME.conf" if the file is in its final place;
 * with the target parameter fail-finish=MSG, fails after logging the
 * undo of its (pretend) partial work.
 */
static int
v2_finish(struct vmc_handle *h, const struct vmc_vm *vm,
          const struct vmc_write_options *opts)
{
    char path[4096];
    struct stat st;
    size_t i;

    snprintf(path, sizeof path, "%s/%s.conf", opts->final_outdir, opts->name);
    test_log(stat(path, &st) == 0 ? "finish found the files" :
             "finish did not find the files");
    for (i = 0; i < opts->nr_params; i++)
        if (strncmp(opts->params[i], "fail-finish=", 12) == 0) {
            test_log("finish undone");
            vmc_error(h, "%s: v2: %s", opts->final_outdir,
                      opts->params[i] + 12);
            return -1;
        }
    return 0;
}

static const char *const v2_qcow2_sub[] = { "v3", "v2", NULL };
static const struct vmc_target_format v2_formats[] = {
    { "qcow2", v2_qcow2_sub },
    { "raw", NULL },
    { NULL, NULL },
};

static const struct vmc_target_caps v2_caps = {
    ._struct_size = sizeof v2_caps,
    .disk_buses = VMC_CAP(VMC_DISK_BUS_VIRTIO) | VMC_CAP(VMC_DISK_BUS_SATA),
    .default_disk_bus = VMC_DISK_BUS_VIRTIO,
    .controller_models = VMC_CAP(VMC_CONTROLLER_MODEL_VIRTIO_SCSI),
    .default_scsi_controller = VMC_CONTROLLER_MODEL_VIRTIO_SCSI,
    .nic_models = VMC_CAP(VMC_NIC_MODEL_VIRTIO),
    .default_nic_model = VMC_NIC_MODEL_VIRTIO,
    .video_models = VMC_CAP(VMC_VIDEO_MODEL_VGA),
    .default_video_model = VMC_VIDEO_MODEL_VGA,
    .firmware = VMC_CAP(VMC_FIRMWARE_BIOS),
    .default_firmware = VMC_FIRMWARE_BIOS,
    .disk_formats = v2_formats,
};
#endif

#ifdef VARIANT_BAD_CAPS
/* The default NIC model is not among those declared. */
static const struct vmc_target_caps bad_caps = {
    ._struct_size = sizeof bad_caps,
    .nic_models = VMC_CAP(VMC_NIC_MODEL_VIRTIO),
    .default_nic_model = VMC_NIC_MODEL_E1000,
};

static int
bad_caps_write(struct vmc_handle *h, const struct vmc_vm *vm,
               const struct vmc_write_options *opts)
{
    return 0;
}
#endif

static UNUSED struct vmc_plugin plugin = {
    .name = NAME,
    .version = "0",
    .description = "loader test plugin",
    .load = test_load,
    .unload = test_unload,
#if defined(VARIANT_V2)
    .probe2 = v2_probe2,
    .read2 = v2_read2,
    .write = v2_write,
    .finish = v2_finish,
    .config_help = "fail=MSG         read fails with MSG\n"
                   "fail-finish=MSG  finish fails with MSG",
    .caps = &v2_caps,
#else
#ifndef VARIANT_NO_PROBE
    .probe = test_probe,
#endif
#ifndef VARIANT_NO_READ_WRITE
    .read = test_read,
#endif
#endif
#ifdef VARIANT_BAD_CAPS
    .write = bad_caps_write,
    .caps = &bad_caps,
#endif
};

#if defined(VARIANT_NO_INIT)
/* Exports a function, but not the registration symbol. */
VMC_PLUGIN_EXPORT int vmc_plugin_start(void);
VMC_PLUGIN_EXPORT int
vmc_plugin_start(void)
{
    return 0;
}
#elif defined(VARIANT_INIT_NULL)
VMC_PLUGIN_EXPORT const struct vmc_plugin *vmc_plugin_init(void);
VMC_PLUGIN_EXPORT const struct vmc_plugin *
vmc_plugin_init(void)
{
    return NULL;
}
#elif defined(VARIANT_NEWER_ABI) || defined(VARIANT_TINY_STRUCT) || \
    defined(VARIANT_BIGGER) || defined(VARIANT_NEWER_MODEL) || \
    defined(VARIANT_MODEL_ZERO)
/* What VMC_REGISTER_PLUGIN does, with one header field wrong (or, for
 * BIGGER, as a plugin built against a future plugin.h with more fields
 * would: that one must load).
 */
VMC_PLUGIN_EXPORT const struct vmc_plugin *vmc_plugin_init(void);
VMC_PLUGIN_EXPORT const struct vmc_plugin *
vmc_plugin_init(void)
{
    plugin._model_version = VMC_VM_MODEL_VERSION;
#if defined(VARIANT_NEWER_ABI)
    plugin._struct_size = sizeof plugin;
    plugin._api_version = VMC_PLUGIN_API_VERSION + 1;
#elif defined(VARIANT_NEWER_MODEL) || defined(VARIANT_MODEL_ZERO)
    /* Built against a vm.h whose structures grew: its writes would go
     * past what this library allocates.
     */
    plugin._struct_size = sizeof plugin;
    plugin._api_version = VMC_PLUGIN_API_VERSION;
#ifdef VARIANT_NEWER_MODEL
    plugin._model_version = VMC_VM_MODEL_VERSION + 1;
#else
    plugin._model_version = 0;
#endif
#elif defined(VARIANT_BIGGER)
    static struct {
        struct vmc_plugin p;
        void (*future_callbacks[8])(void);
    } bigger;

    bigger.p = plugin;
    bigger.p._struct_size = sizeof bigger;
    bigger.p._api_version = VMC_PLUGIN_API_VERSION;
    return &bigger.p;
#else
    plugin._struct_size = 8;
    plugin._api_version = VMC_PLUGIN_API_VERSION;
#endif
    return &plugin;
}
#else
VMC_REGISTER_PLUGIN(plugin)
#endif
