/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan of a conversion: which plugin reads the source, the target
 * model (devices the target can express, networks mapped), each disk's
 * source chain and target file, the space needed against the space
 * free, and every risk found.  Planning reads and writes nothing but
 * the source's metadata; --dry-run stops after it.
 *
 * Target file names: OUTDIR/NAME-diskN.EXT, N counting the converted
 * disks from 1 in the source's order, EXT the format's usual extension
 * (qcow2, img for raw, vmdk, vhdx, vhd for vpc).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <vmconv/image.h>
#include <vmconv/vm.h>

#include "internal.h"
#include "pipeline-internal.h"

/* Metadata a sparse target adds to its data, at most: a 64th of the
 * data (qcow2 L2 tables and refcounts, VHDX BAT, VMDK grain tables)
 * plus a fixed part.
 */
#define PLAN_META_FIXED (4ull * 1024 * 1024)
#define PLAN_META_SHIFT 6
/* The configuration files and the report. */
#define PLAN_CONFIG_BYTES (1024ull * 1024)

void
vmc_pl_json_str(struct json_object *o, const char *key, const char *s)
{
    json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

void
vmc_pl_json_u64(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t) v));
}

void
vmc_pl_risk(struct pipeline *p, const char *severity,
            enum vmc_error_kind kind, const char *id, const char *fmt, ...)
{
    struct json_object *r = json_object_new_object();
    char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) == -1)
        msg = NULL;
    va_end(ap);
    vmc_pl_json_str(r, "severity", severity);
    vmc_pl_json_str(r, "id", id);
    vmc_pl_json_str(r, "kind", vmc_error_kind_name(kind));
    vmc_pl_json_str(r, "message", msg ? msg : "(out of memory)");
    json_object_array_add(p->risks, r);
    if (strcmp(severity, "error") == 0 && !p->blocked) {
        p->blocked = true;
        p->block_kind = kind;
        p->block_msg = msg;
        msg = NULL;
    }
    free(msg);
}

/* ---- Reading the source ------------------------------------------- */

/* The plugin that claims SOURCE, NULL if none does (no error), or
 * NULL with *ERR set after an error (a tie).
 */
static struct vmc_loaded_plugin *
plan_probe_plugins(struct pipeline *p, bool *err)
{
    struct vmc_handle *h = p->h;
    struct vmc_loaded_plugin *lp;
    size_t i;
    int best = 0;

    *err = false;
    for (i = 0; i < vmc_plugin_count(h); i++) {
        struct vmc_loaded_plugin *q = vmc_plugin_get(h, i);
        int s;

        if (!vmc_plugin_can_read(q))
            continue;
        s = vmc_plugin_probe(h, q, p->o.source);
        if (s > best)
            best = s;
    }
    if (best == 0)
        return NULL;
    lp = vmc_plugin_for_source(h, p->o.source);
    if (lp == NULL) {
        vmc_set_error_kind(h, VMC_ERR_USAGE);
        *err = true;
    }
    return lp;
}

/* Choose the reader of the source: sets p->source_kind and returns the
 * plugin, or NULL with *DISK_FORMAT set for the built-in disk source.
 * Returns -1 with an error set.
 */
static int
plan_choose_reader(struct pipeline *p, struct vmc_loaded_plugin **lp,
                   const char **disk_format)
{
    struct vmc_handle *h = p->h;
    const char *src = p->o.source, *from = p->o.from;
    struct stat st;
    bool err;

    *lp = NULL;
    if (from && strcmp(from, "disk") == 0) {
        if (!vmc_pl_disk_probe(h, src, disk_format, true)) {
            if (vmc_pl_is_uri(src))
                vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: --from disk: "
                               "cannot read a disk image there", src);
            else if (stat(src, &st) == -1)
                vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %m", src);
            else
                vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: --from disk: not "
                               "a disk image vmconv reads", src);
            return -1;
        }
        p->source_kind = "disk";
        return 0;
    }
    if (from) {
        *lp = vmc_plugin_find(h, from);
        if (*lp == NULL) {
            vmc_error_kind(h, VMC_ERR_USAGE, "--from %s: no such plugin "
                           "('vmconv plugins' lists them; 'disk' reads a "
                           "bare disk image)", from);
            return -1;
        }
        if (!vmc_plugin_can_read(*lp)) {
            vmc_error_kind(h, VMC_ERR_USAGE, "--from %s: the %s plugin "
                           "cannot read VMs", from, from);
            return -1;
        }
        p->source_kind = vmc_plugin_name(*lp);
        return 0;
    }
    if (strstr(src, "://") == NULL && stat(src, &st) == -1) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %m", src);
        return -1;
    }
    *lp = plan_probe_plugins(p, &err);
    if (err)
        return -1;
    if (*lp) {
        p->source_kind = vmc_plugin_name(*lp);
        return 0;
    }
    if (vmc_pl_disk_probe(h, src, disk_format, false)) {
        p->source_kind = "disk";
        return 0;
    }
    vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: no plugin recognises this "
                   "source, and it is not a disk image vmconv reads (a "
                   "raw image must be a non-empty multiple of 512 bytes; "
                   "--from disk reads any file as one)", src);
    return -1;
}

/* The "hardware" section: each value and whether it was given, read
 * or guessed.
 */
static void
plan_hw_item(struct json_object *hw, const char *key, struct json_object *v,
             const char *origin)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "value", v);
    vmc_pl_json_str(o, "origin", origin);
    json_object_object_add(hw, key, o);
}

static void
plan_hardware(struct pipeline *p)
{
    struct vmc_vm *vm = p->vm;
    bool disk = strcmp(p->source_kind, "disk") == 0;
    struct json_object *hw = json_object_new_object();
    const char *read = disk ? "guessed" : "source";

    if (p->o.vcpus)
        vm->vcpus = p->o.vcpus;
    if (p->o.memory)
        vm->memory = p->o.memory;
    if (p->o.firmware > 0 && p->o.firmware < VMC_FIRMWARE_LAST)
        vm->firmware = (enum vmc_firmware) p->o.firmware;
    plan_hw_item(hw, "vcpus", json_object_new_int((int) vm->vcpus),
                 p->o.vcpus ? "option" : read);
    plan_hw_item(hw, "memory", json_object_new_int64((int64_t) vm->memory),
                 p->o.memory ? "option" : read);
    plan_hw_item(hw, "firmware",
                 json_object_new_string(vmc_firmware_to_string(vm->firmware)),
                 p->o.firmware > 0 ? "option" :
                 disk ? "guessed from the partition table" : "source");
    json_object_object_add(p->doc, "hardware", hw);
}

int
vmc_pl_read_source(struct pipeline *p)
{
    struct vmc_handle *h = p->h;
    struct vmc_read_options ro = { ._struct_size = sizeof ro };
    struct vmc_loaded_plugin *lp;
    const char *disk_format = NULL;
    struct json_object *src;

    if (plan_choose_reader(p, &lp, &disk_format) == -1)
        return -1;
    if (lp == NULL && p->o.nr_read_params > 0) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: a bare disk image takes no "
                       "source parameters (%s): --vm, -ic, --allow-running "
                       "and -io are for plugins", p->o.source,
                       p->o.read_params[0]);
        return -1;
    }
    if (lp) {
        ro.image_flags = p->o.image_flags;
        ro.workdir = p->o.tmpdir;
        ro.nr_params = p->o.nr_read_params;
        ro.params = p->o.read_params;
        /* Digests of disks are checked while they are copied
         * (pipeline-digest.c), not read whole first.
         */
        ro.flags = VMC_READ_DEFER_DIGESTS;
        p->vm = vmc_plugin_read_opts(h, lp, p->o.source, &ro);
    } else
        p->vm = vmc_pl_disk_read(p, disk_format);
    if (p->vm == NULL) {
        vmc_set_error_kind(h, VMC_ERR_BAD_INPUT);
        return -1;
    }
    if (vmc_pl_digests_plan(p) == -1)
        return -1;
    src = json_object_new_object();
    vmc_pl_json_str(src, "path", p->o.source);
    vmc_pl_json_str(src, "reader", p->source_kind);
    vmc_pl_json_str(src, "name", p->vm->name);
    json_object_object_add(p->doc, "source", src);
    plan_hardware(p);
    return 0;
}

/* ---- Names and formats -------------------------------------------- */

static const char *
plan_extension(const char *format)
{
    static const char *const ext[][2] = {
        { "qcow2", "qcow2" }, { "raw", "img" }, { "vmdk", "vmdk" },
        { "vhdx", "vhdx" }, { "vpc", "vhd" },
    };
    size_t i;

    for (i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcmp(format, ext[i][0]) == 0)
            return ext[i][1];
    return format;
}

/* The VM's name: --name (refused if unusable as a file name), else the
 * source VM's name or the source's base name, with characters a file
 * name cannot hold replaced by '_'.
 */
static int
plan_name(struct pipeline *p)
{
    struct vmc_handle *h = p->h;
    const char *n = p->o.name;
    char *s;

    if (n) {
        if (*n == '\0' || *n == '.' || strchr(n, '/') || strlen(n) > 200) {
            vmc_error_kind(h, VMC_ERR_USAGE, "--name '%s': not usable as a "
                           "file name (empty, a leading '.', a '/' or "
                           "longer than 200 bytes)", n);
            return -1;
        }
        p->name = strdup(n);
    } else {
        n = p->vm->name && *p->vm->name ? p->vm->name : "vm";
        p->name = strndup(n, 200);
    }
    if (p->name == NULL) {
        vmc_error(h, "%m");
        return -1;
    }
    for (s = p->name; *s; s++)
        if (*s == '/' || (unsigned char) *s < 0x20 || *s == 0x7f)
            *s = '_';
    if (p->name[0] == '.')
        p->name[0] = '_';
    return 0;
}

static bool
plan_format_known(const char *f)
{
    const char *const *v;

    for (v = vmc_image_formats(); *v; v++)
        if (strcmp(*v, f) == 0)
            return true;
    return false;
}

/* The target disk format: -of, else the target's default.  Sets
 * *FORMAT (static or the caller's string).
 */
static int
plan_format(struct pipeline *p, const char **format)
{
    struct vmc_handle *h = p->h;
    const struct vmc_target_format *tf;
    const char *f = p->o.disk_format;

    if (f == NULL) {
        *format = p->caps && p->caps->disk_formats &&
            p->caps->disk_formats[0].format
            ? p->caps->disk_formats[0].format : "qcow2";
        return 0;
    }
    if (strcmp(f, "vhd") == 0)
        f = "vpc";
    if (!plan_format_known(f)) {
        vmc_error_kind(h, VMC_ERR_USAGE, "-of %s: not a disk format vmconv "
                       "writes", f);
        return -1;
    }
    if (p->caps && p->caps->disk_formats) {
        for (tf = p->caps->disk_formats; tf->format; tf++)
            if (strcmp(tf->format, f) == 0)
                break;
        if (tf->format == NULL) {
            vmc_error_kind(h, VMC_ERR_USAGE, "-of %s: the %s target does "
                           "not take %s disks ('vmconv plugins --help %s' "
                           "lists the formats it takes)", f, p->to, f, p->to);
            return -1;
        }
    }
    *format = f;
    return 0;
}

/* Refuse unknown create options now, before anything is written (their
 * values are checked when the disk is created).
 */
static int
plan_check_options(struct pipeline *p, struct pl_disk *d)
{
    const struct vmc_format_ops *ops = vmc_format_lookup(d->dst_format);
    struct vmc_opts *o;

    if (d->create_options == NULL || ops == NULL)
        return 0;
    o = vmc_opts_parse(p->h, d->dst_format, d->create_options,
                       ops->create_opts);
    if (o == NULL) {
        vmc_set_error_kind(p->h, VMC_ERR_USAGE);
        return -1;
    }
    vmc_opts_free(o);
    return 0;
}

/* The create options of one target disk: -o, and what -oa preallocated
 * needs of the format.
 */
static int
plan_create_options(struct pipeline *p, struct pl_disk *d)
{
    struct vmc_handle *h = p->h;
    const char *extra = NULL, *o = p->o.disk_options;
    int r;

    if (p->o.allocation == VMC_ALLOCATION_PREALLOCATED) {
        if (strcmp(d->dst_format, "qcow2") == 0) {
            vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "-oa preallocated: "
                           "preallocating qcow2 disks is not implemented "
                           "yet (use -of raw, vhdx or vpc)");
            return -1;
        }
        if (strcmp(d->dst_format, "vhdx") == 0 ||
            strcmp(d->dst_format, "vpc") == 0)
            extra = "subformat=fixed";
        else if (strcmp(d->dst_format, "vmdk") == 0)
            extra = "subformat=monolithicFlat";
    }
    if (extra && o && *o)
        r = asprintf(&d->create_options, "%s,%s", o, extra);
    else if (extra || (o && *o))
        r = (d->create_options = strdup(extra ? extra : o)) ? 0 : -1;
    else
        r = 0;
    if (r == -1) {
        vmc_error(h, "%m");
        return -1;
    }
    return plan_check_options(p, d);
}

/* ---- Disks -------------------------------------------------------- */

static uint64_t
plan_file_allocated(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t) st.st_blocks * 512 : 0;
}

/* Bytes of IMG's guest view that hold data (not holes or zeros). */
static int
plan_data_bytes(struct vmc_handle *h, struct vmc_image *img, uint64_t *data)
{
    uint64_t off = 0, size = vmc_image_size(img), run;
    enum vmc_extent_type t;

    *data = 0;
    while (off < size) {
        if (vmc_cancelled(h)) {
            vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
            return -1;
        }
        if (vmc_image_block_status(img, off, size - off, &t, &run) == -1)
            return -1;
        if (t == VMC_EXTENT_DATA)
            *data += run;
        off += run;
    }
    return 0;
}

/* Open disk D's source chain read-only and note what it holds.  A
 * disk that cannot be opened is a blocking risk, not an error, so a
 * dry run lists every problem.
 */
static int
plan_inspect_disk(struct pipeline *p, struct pl_disk *d,
                  const struct vmc_disk *vd)
{
    struct vmc_handle *h = p->h;
    CLEANUP_IMAGE_CLOSE struct vmc_image *img = NULL;
    struct vmc_image *b;
    char id[32];

    snprintf(id, sizeof id, "disks[%zu]", d->index);
    img = vmc_pl_open_source(h, vd->path, vd->format, p->o.image_flags);
    if (img == NULL) {
        if (vmc_get_error_kind(h) == VMC_ERR_INTERRUPTED)
            return -1;
        vmc_pl_risk(p, "error", VMC_ERR_BAD_INPUT, id, "%s: %s", id,
                    vmc_get_error(h));
        vmc_clear_error(h);
        d->convert = false;
        d->skip_why = "cannot be read";
        return 0;
    }
    d->src_path = strdup(vd->path);
    d->src_format = strdup(vmc_image_format(img));
    d->virtual_size = vmc_image_size(img);
    d->chain = json_object_new_array();
    for (b = img; b; b = vmc_image_backing(b)) {
        struct json_object *e = json_object_new_object();
        uint64_t a = plan_file_allocated(vmc_image_path(b));

        vmc_pl_json_str(e, "path", vmc_image_path(b));
        vmc_pl_json_str(e, "format", vmc_image_format(b));
        vmc_pl_json_u64(e, "allocated-size", a);
        json_object_array_add(d->chain, e);
        d->allocated += a;
    }
    if (plan_data_bytes(h, img, &d->data) == -1)
        return -1;
    if (d->src_path == NULL || d->src_format == NULL) {
        vmc_error(h, "%m");
        return -1;
    }
    return 0;
}

/* Plan disk I: convert it or say why not. */
static int
plan_disk(struct pipeline *p, size_t i, const char *format, unsigned *n)
{
    struct vmc_handle *h = p->h;
    struct pl_disk *d = &p->disks[i];
    const struct vmc_disk *vd = p->vm->disks[i];
    uint64_t base;

    d->index = i;
    d->error_kind = VMC_ERR_NONE;
    if (vd->missing) {
        vmc_pl_risk(p, "error", VMC_ERR_BAD_INPUT, "missing-disk",
                    "disks[%zu]: %s was not found", i,
                    vd->source_ref ? vd->source_ref : "its image");
        d->skip_why = "missing";
        return 0;
    }
    if (vd->path == NULL) {
        d->skip_why = "empty drive";
        return 0;
    }
    if (vd->reference_only) {
        d->skip_why = "referenced as it is (reference only)";
        return 0;
    }
    d->convert = true;
    if (plan_inspect_disk(p, d, vd) == -1)
        return -1;
    if (!d->convert)
        return 0;
    d->dst_format = format;
    if (plan_create_options(p, d) == -1)
        return -1;
    (*n)++;
    if (asprintf(&d->file, "%s-disk%u.%s", p->name, *n,
                 plan_extension(format)) == -1 ||
        asprintf(&d->final_path, "%s/%s", p->outdir, d->file) == -1) {
        vmc_error(h, "%m");
        return -1;
    }
    base = p->o.allocation == VMC_ALLOCATION_PREALLOCATED
        ? d->virtual_size : d->data;
    d->need = base + (base >> PLAN_META_SHIFT) + PLAN_META_FIXED;
    return 0;
}

static int
plan_disks(struct pipeline *p)
{
    const char *format;
    unsigned n = 0;
    size_t i;

    if (plan_format(p, &format) == -1)
        return -1;
    p->nr_disks = p->vm->nr_disks;
    p->disks = calloc(p->nr_disks + 1, sizeof *p->disks);
    p->tmp_paths = calloc(p->nr_disks + 1, sizeof *p->tmp_paths);
    p->final_paths = calloc(p->nr_disks + 1, sizeof *p->final_paths);
    if (p->disks == NULL || p->tmp_paths == NULL || p->final_paths == NULL) {
        vmc_error(p->h, "%m");
        return -1;
    }
    for (i = 0; i < p->nr_disks; i++)
        if (plan_disk(p, i, format, &n) == -1)
            return -1;
    return 0;
}

/* ---- Devices ------------------------------------------------------ */

static void
plan_change(struct pipeline *p, const char *what, const char *from,
            const char *to, const char *why)
{
    struct json_object *c = json_object_new_object();

    vmc_pl_json_str(c, "device", what);
    vmc_pl_json_str(c, "from", from);
    vmc_pl_json_str(c, "to", to);
    vmc_pl_json_str(c, "why", why);
    json_object_array_add(p->devices, c);
}

static const char *pl_bus(int v) { return vmc_disk_bus_to_string(v); }
static const char *pl_ctrl(int v) { return vmc_controller_model_to_string(v); }
static const char *pl_nic(int v) { return vmc_nic_model_to_string(v); }
static const char *pl_video(int v) { return vmc_video_model_to_string(v); }
static const char *pl_fw(int v) { return vmc_firmware_to_string(v); }

/* Without the guest fix nobody has looked for paravirtual drivers in
 * the guest (virtio, VMware pvscsi/vmxnet, Hyper-V synthetic devices),
 * so a device the target lacks is replaced by an emulated one that
 * every guest of the last fifteen years drives with what it has (AHCI,
 * IDE, the LSI and BusLogic HBAs, Intel and Realtek NICs): a guest
 * that boots and then gets its drivers, rather than a faster device it
 * cannot use.  The lists are in order of preference.
 */
static const int pl_emulated_scsi[] = {
    VMC_CONTROLLER_MODEL_LSILOGIC, VMC_CONTROLLER_MODEL_LSISAS1068,
    VMC_CONTROLLER_MODEL_BUSLOGIC, -1
};
static const int pl_emulated_buses[] = {
    VMC_DISK_BUS_SATA, VMC_DISK_BUS_IDE, -1
};
static const int pl_emulated_nics[] = {
    VMC_NIC_MODEL_E1000E, VMC_NIC_MODEL_E1000, VMC_NIC_MODEL_RTL8139,
    VMC_NIC_MODEL_PCNET, -1
};

/* True when the guest's drivers were not checked, or the guest lacks
 * the paravirtual ones (NET: its NIC driver, else its disk driver):
 * choose emulated devices.
 */
static bool
plan_emulated_only_for(const struct pipeline *p, bool net)
{
    if (p->o.no_guest_fix || vmc_pipeline_guest_fix == NULL ||
        p->guest == NULL)
        return true;
    return net ? !p->guest->has_virtio_net : !p->guest->has_virtio_blk;
}

static bool
plan_emulated_only(const struct pipeline *p)
{
    return plan_emulated_only_for(p, false);
}

/* The first value of LIST the target's MASK has, or -1. */
static int
plan_first_in(const int *list, uint64_t mask)
{
    size_t i;

    for (i = 0; list[i] != -1; i++)
        if (mask & VMC_CAP(list[i]))
            return list[i];
    return -1;
}

/* The replacement for a device the target lacks: an emulated one from
 * LIST when the guest's drivers are unknown and the target has one,
 * else the target's default DEF.
 */
static int
plan_fallback(const struct pipeline *p, const int *list, uint64_t mask,
              int def, bool *emulated)
{
    int e;

    *emulated = false;
    if (plan_emulated_only_for(p, list == pl_emulated_nics) &&
        (e = plan_first_in(list, mask)) != -1) {
        *emulated = true;
        return e;
    }
    return def;
}

/* Choose V if the target's MASK has it, else FALLBACK (EMULATED: one
 * picked by plan_fallback from an emulated list, not the target's
 * default); record a change.
 */
static int
plan_pick(struct pipeline *p, const char *what, int v, uint64_t mask,
          int fallback, bool emulated, const char *(*name)(int))
{
    if (p->caps == NULL || (v != 0 && (mask & VMC_CAP(v))))
        return v;
    if (v == fallback)
        return v;
    plan_change(p, what, name(v), name(fallback),
                v == 0 ? "unknown in the source: the target's default"
                : emulated
                ? "the target has no such device: an emulated one the "
                  "guest has drivers for"
                : "the target has no such device: its default");
    return fallback;
}

static void
plan_disk_devices(struct pipeline *p)
{
    const struct vmc_target_caps *c = p->caps;
    struct vmc_vm *t = p->tvm;
    char what[64];
    size_t i, j;

    for (i = 0; i < t->nr_controllers; i++) {
        struct vmc_controller *ct = t->controllers[i];
        bool emulated;
        int m, bus, fb;

        if (ct->model == VMC_CONTROLLER_MODEL_UNKNOWN || c == NULL ||
            (c->controller_models & VMC_CAP(ct->model)))
            continue;
        snprintf(what, sizeof what, "controllers[%zu].model", i);
        if (ct->bus == VMC_DISK_BUS_SCSI && plan_emulated_only(p) &&
            plan_first_in(pl_emulated_scsi, c->controller_models) == -1 &&
            (bus = plan_first_in(pl_emulated_buses, c->disk_buses)) != -1) {
            /* No SCSI HBA the guest surely drives: its disks move to an
             * emulated bus, and the emptied controller goes.
             */
            plan_change(p, what, pl_ctrl(ct->model), "none",
                        "the target has no such SCSI controller nor an "
                        "emulated one: its disks move to an emulated bus "
                        "the guest has drivers for");
            for (j = 0; j < t->nr_disks; j++) {
                struct vmc_disk *d = t->disks[j];

                if (d->controller_ref != (int) i)
                    continue;
                snprintf(what, sizeof what, "disks[%zu].bus", j);
                plan_change(p, what, pl_bus(d->bus), pl_bus(bus),
                            "its controller is not on the target");
                d->bus = (enum vmc_disk_bus) bus;
                d->controller = d->unit = d->controller_ref = -1;
                d->controller_model = VMC_CONTROLLER_MODEL_UNKNOWN;
            }
            ct->bus = VMC_DISK_BUS_LAST;   /* dropped below, silently */
            continue;
        }
        fb = ct->bus == VMC_DISK_BUS_SCSI
             ? plan_fallback(p, pl_emulated_scsi, c->controller_models,
                             (int) c->default_scsi_controller, &emulated)
             : (emulated = false, 0);
        m = plan_pick(p, what, ct->model, c->controller_models, fb,
                      emulated, pl_ctrl);
        ct->model = (enum vmc_controller_model) m;
        for (j = 0; j < t->nr_disks; j++)
            if (t->disks[j]->controller_ref == (int) i)
                t->disks[j]->controller_model = ct->model;
    }
    for (i = 0; i < t->nr_disks; i++) {
        struct vmc_disk *d = t->disks[i];
        bool emulated = false;
        int b, fb = 0;

        snprintf(what, sizeof what, "disks[%zu].bus", i);
        if (c != NULL)
            fb = plan_fallback(p, pl_emulated_buses, c->disk_buses,
                               (int) c->default_disk_bus, &emulated);
        b = plan_pick(p, what, d->bus, c ? c->disk_buses : 0, fb, emulated,
                      pl_bus);
        if (b != (int) d->bus) {
            /* Its old address means nothing on the new bus. */
            d->bus = (enum vmc_disk_bus) b;
            d->controller = d->unit = d->controller_ref = -1;
            d->controller_model = VMC_CONTROLLER_MODEL_UNKNOWN;
        }
    }
}

/* Drop the controllers of a bus the target does not have (their disks
 * moved to another bus): the target would have to write them.
 */
static void
plan_drop_controllers(struct pipeline *p)
{
    struct vmc_vm *t = p->tvm;
    char what[64];
    size_t i, j, n = 0;

    if (p->caps == NULL)
        return;
    for (i = 0; i < t->nr_controllers; i++) {
        struct vmc_controller *c = t->controllers[i];

        if (c->bus == VMC_DISK_BUS_UNKNOWN ||
            (c->bus != VMC_DISK_BUS_LAST &&
             (p->caps->disk_buses & VMC_CAP(c->bus)))) {
            for (j = 0; j < t->nr_disks; j++)
                if (t->disks[j]->controller_ref == (int) i)
                    t->disks[j]->controller_ref = (int) n;
            t->controllers[n++] = c;
            continue;
        }
        if (c->bus != VMC_DISK_BUS_LAST) {
            snprintf(what, sizeof what, "controllers[%zu]", i);
            plan_change(p, what, vmc_disk_bus_to_string(c->bus), "none",
                        "the target has no such bus: its disks moved");
        }
        free(c);
    }
    t->nr_controllers = n;
}

static void
plan_devices(struct pipeline *p)
{
    const struct vmc_target_caps *c = p->caps;
    struct vmc_vm *t = p->tvm;
    char what[64];
    size_t i;
    int fw;

    plan_disk_devices(p);
    plan_drop_controllers(p);
    for (i = 0; i < t->nr_nics; i++) {
        bool emulated = false;
        int fb = 0;

        snprintf(what, sizeof what, "nics[%zu].model", i);
        if (c != NULL)
            fb = plan_fallback(p, pl_emulated_nics, c->nic_models,
                               (int) c->default_nic_model, &emulated);
        t->nics[i]->model = (enum vmc_nic_model)
            plan_pick(p, what, t->nics[i]->model, c ? c->nic_models : 0,
                      fb, emulated, pl_nic);
    }
    if (t->video != VMC_VIDEO_MODEL_NONE)
        t->video = (enum vmc_video_model)
            plan_pick(p, "video", t->video, c ? c->video_models : 0,
                      c ? (int) c->default_video_model : 0, false, pl_video);
    fw = plan_pick(p, "firmware", t->firmware, c ? c->firmware : 0,
                   c ? (int) c->default_firmware : 0, false, pl_fw);
    if (fw != (int) t->firmware && t->firmware != VMC_FIRMWARE_UNKNOWN)
        vmc_pl_risk(p, "warning", VMC_ERR_UNSUPPORTED, "firmware",
                    "the %s target has no %s firmware: the guest may not "
                    "boot with %s", p->to,
                    vmc_firmware_to_string(t->firmware),
                    vmc_firmware_to_string(fw));
    t->firmware = (enum vmc_firmware) fw;
    if (json_object_array_length(p->devices) > 0 &&
        (p->o.no_guest_fix || vmc_pipeline_guest_fix == NULL))
        vmc_pl_risk(p, "warning", VMC_ERR_UNSUPPORTED, "drivers",
                    "devices were chosen for the target, and the guest was "
                    "not checked for their drivers (the guest fix does not "
                    "run): without them it may not boot or find its "
                    "network");
    else if (json_object_array_length(p->devices) > 0 && p->guest == NULL)
        vmc_pl_risk(p, "warning", VMC_ERR_UNSUPPORTED, "drivers",
                    "devices were chosen for the target, and the guest "
                    "could not be inspected for their drivers (%s): "
                    "without them it may not boot or find its network",
                    json_object_get_string(json_object_object_get(
                        p->guest_report, "status")));
}

/* The guest has the paravirtual drivers (virtio) in every bootable
 * kernel's initramfs: its hard disks and NICs move to them where the
 * target has them.
 */
static void
plan_paravirtual(struct pipeline *p)
{
    const struct vmc_target_caps *c = p->caps;
    struct vmc_vm *t = p->tvm;
    char what[64];
    size_t i;

    if (c && p->guest && (c->disk_buses & VMC_CAP(VMC_DISK_BUS_VIRTIO)) &&
        p->guest->os_family == VMC_OS_FAMILY_LINUX &&
        !p->guest->has_virtio_blk)
        vmc_pl_risk(p, "warning", VMC_ERR_UNSUPPORTED, "virtio",
                    "not every bootable kernel of the guest has the virtio "
                    "disk drivers (virtio_blk, virtio_pci) or a tool to add "
                    "them to its initramfs: its disks stay on an emulated "
                    "bus (slower)");
    if (c == NULL || plan_emulated_only_for(p, false) ||
        !(c->disk_buses & VMC_CAP(VMC_DISK_BUS_VIRTIO)))
        goto nics;
    for (i = 0; i < t->nr_disks; i++) {
        struct vmc_disk *d = t->disks[i];

        if (d->device != VMC_DISK_DEVICE_DISK ||
            d->bus == VMC_DISK_BUS_VIRTIO)
            continue;
        snprintf(what, sizeof what, "disks[%zu].bus", i);
        plan_change(p, what, pl_bus(d->bus), pl_bus(VMC_DISK_BUS_VIRTIO),
                    "every bootable kernel of the guest has virtio_blk "
                    "and virtio_pci in its initramfs, or as modules that "
                    "the guest fix adds to it");
        d->bus = VMC_DISK_BUS_VIRTIO;
        d->controller = d->unit = d->controller_ref = -1;
        d->controller_model = VMC_CONTROLLER_MODEL_UNKNOWN;
    }
 nics:
    if (c == NULL || plan_emulated_only_for(p, true) ||
        !(c->nic_models & VMC_CAP(VMC_NIC_MODEL_VIRTIO)))
        return;
    for (i = 0; i < t->nr_nics; i++) {
        if (t->nics[i]->model == VMC_NIC_MODEL_VIRTIO)
            continue;
        snprintf(what, sizeof what, "nics[%zu].model", i);
        plan_change(p, what, pl_nic(t->nics[i]->model),
                    pl_nic(VMC_NIC_MODEL_VIRTIO),
                    "every bootable kernel of the guest has virtio_net "
                    "and virtio_pci");
        t->nics[i]->model = VMC_NIC_MODEL_VIRTIO;
    }
}

/* Inspect the guest on the source disks (unless --no-guest-fix), so
 * that the devices chosen are ones it drives.  Returns 0, or -1 with
 * an error set (cancelled, out of memory).
 */
static int
plan_guest(struct pipeline *p)
{
    const char **paths, **formats;
    const char *status;
    size_t i;
    int r;

    if (p->o.no_guest_fix || vmc_pipeline_guest_fix == NULL ||
        vmc_pipeline_guest_inspect == NULL)
        return 0;
    paths = calloc(p->nr_disks ? p->nr_disks : 1, sizeof *paths);
    formats = calloc(p->nr_disks ? p->nr_disks : 1, sizeof *formats);
    if (paths == NULL || formats == NULL) {
        free(paths);
        free(formats);
        vmc_error(p->h, "out of memory");
        return -1;
    }
    for (i = 0; i < p->nr_disks; i++)
        if (p->disks[i].convert) {
            paths[i] = p->disks[i].src_path;
            formats[i] = p->disks[i].src_format;
        }
    vmc_info(p->h, "guest: inspecting the guest on the source disks");
    r = vmc_pipeline_guest_inspect(p->h, p->nr_disks, paths, formats,
                                   p->o.image_flags, &p->guest,
                                   &p->guest_report,
                                   p->o.dry_run ? NULL : &p->guest_session);
    free(paths);
    free(formats);
    if (r == -1)
        return -1;
    if (vmc_cancelled(p->h)) {
        vmc_error_kind(p->h, VMC_ERR_INTERRUPTED, "cancelled");
        return -1;
    }
    status = json_object_get_string(json_object_object_get(
        p->guest_report, "status"));
    vmc_info(p->h, "guest: %s", status ? status : "?");
    return 0;
}

/* Point the target model's converted disks at their new images. */
static int
plan_target_disks(struct pipeline *p)
{
    size_t i, j;

    for (i = 0; i < p->nr_disks; i++) {
        struct pl_disk *d = &p->disks[i];
        struct vmc_disk *t = p->tvm->disks[i];

        if (!d->convert)
            continue;
        if (vmc_vm_set_string(p->tvm, &t->path, d->final_path) == -1 ||
            vmc_vm_set_string(p->tvm, &t->format, d->dst_format) == -1 ||
            vmc_vm_set_string(p->tvm, &t->source_ref, NULL) == -1)
            return -1;
        for (j = 0; j < t->nr_backing; j++)
            free(t->backing[j]);
        free(t->backing);
        t->backing = NULL;
        t->nr_backing = 0;
        t->virtual_size = d->virtual_size;
        t->missing = false;
    }
    return 0;
}

/* ---- Networks ----------------------------------------------------- */

struct pl_map {
    const char *src;             /* NULL: every NIC not otherwise mapped */
    size_t src_len;
    const char *dst;
    enum vmc_net_type type;
    const char *opt;             /* "--network" or "--bridge" */
    const char *text;
    bool used;
};

static int
plan_parse_maps(struct pipeline *p, struct pl_map *m, size_t *n,
                const char *const *v, size_t nv, enum vmc_net_type type,
                const char *opt)
{
    size_t i, j;

    for (i = 0; i < nv; i++) {
        const char *colon = strchr(v[i], ':');
        struct pl_map e = { .type = type, .opt = opt, .text = v[i] };

        e.src = colon ? v[i] : NULL;
        e.src_len = colon ? (size_t) (colon - v[i]) : 0;
        e.dst = colon ? colon + 1 : v[i];
        if (*e.dst == '\0' || (colon && e.src_len == 0)) {
            vmc_error_kind(p->h, VMC_ERR_USAGE, "%s '%s': expected SRC:DST "
                           "or DST", opt, v[i]);
            return -1;
        }
        for (j = 0; j < *n; j++)
            if ((m[j].src == NULL) == (e.src == NULL) &&
                (e.src == NULL || (m[j].src_len == e.src_len &&
                                   memcmp(m[j].src, e.src, e.src_len) == 0))) {
                vmc_error_kind(p->h, VMC_ERR_USAGE, "%s '%s': %s '%s' "
                               "already maps %.*s", opt, v[i], m[j].opt,
                               m[j].text, e.src ? (int) e.src_len : 9,
                               e.src ? e.src : "every NIC");
                return -1;
            }
        m[(*n)++] = e;
    }
    return 0;
}

static struct pl_map *
plan_find_map(struct pl_map *m, size_t n, const char *net)
{
    size_t i;

    for (i = 0; net && i < n; i++)
        if (m[i].src && strlen(net) == m[i].src_len &&
            memcmp(net, m[i].src, m[i].src_len) == 0)
            return &m[i];
    for (i = 0; i < n; i++)
        if (m[i].src == NULL)
            return &m[i];
    return NULL;
}

static int
plan_networks(struct pipeline *p)
{
    struct json_object *arr = json_object_new_array();
    CLEANUP_FREE struct pl_map *m = NULL;
    size_t n = 0, i;

    json_object_object_add(p->doc, "networks", arr);
    m = calloc(p->o.nr_networks + p->o.nr_bridges + 1, sizeof *m);
    if (m == NULL) {
        vmc_error(p->h, "%m");
        return -1;
    }
    if (plan_parse_maps(p, m, &n, p->o.networks, p->o.nr_networks,
                        VMC_NET_TYPE_NETWORK, "--network") == -1 ||
        plan_parse_maps(p, m, &n, p->o.bridges, p->o.nr_bridges,
                        VMC_NET_TYPE_BRIDGE, "--bridge") == -1)
        return -1;
    for (i = 0; i < p->tvm->nr_nics; i++) {
        struct vmc_nic *nic = p->tvm->nics[i];
        struct pl_map *e = plan_find_map(m, n, nic->network);
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "nic", json_object_new_int((int) i));
        vmc_pl_json_str(o, "mac", nic->mac);
        vmc_pl_json_str(o, "from", nic->network);
        vmc_pl_json_str(o, "from-type", vmc_net_type_to_string(nic->net_type));
        if (e) {
            e->used = true;
            if (vmc_vm_set_string(p->tvm, &nic->network_orig,
                                  nic->network) == -1 ||
                vmc_vm_set_string(p->tvm, &nic->network, e->dst) == -1)
                return -1;
            nic->net_type = e->type;
        }
        vmc_pl_json_str(o, "to", nic->network);
        vmc_pl_json_str(o, "to-type", vmc_net_type_to_string(nic->net_type));
        json_object_object_add(o, "mapped", json_object_new_boolean(e != NULL));
        vmc_pl_json_str(o, "by", e ? e->text : NULL);
        json_object_array_add(arr, o);
    }
    for (i = 0; i < n; i++)
        if (!m[i].used)
            vmc_pl_risk(p, "warning", VMC_ERR_USAGE, "unused-mapping",
                        "%s %s maps no NIC of this VM", m[i].opt, m[i].text);
    return 0;
}

/* MAC addresses VMware refuses: a static MAC must lie in
 * 00:50:56:00:00:00 - 00:50:56:3f:ff:ff; generated ones carry VMware's
 * own prefixes.
 */
/* The target's own look at the VM as it will be written
 * (vmc_plugin_check): the warnings it sends become risks (see
 * pipeline_event), a refusal an error risk.
 */
static int
plan_target_check(struct pipeline *p)
{
    struct vmc_write_options wo;
    const char **paths;
    size_t i;
    int r;

    paths = calloc(p->nr_disks + 1, sizeof *paths);
    if (paths == NULL) {
        vmc_error(p->h, "out of memory");
        return -1;
    }
    for (i = 0; i < p->nr_disks; i++)
        paths[i] = p->disks[i].convert ? p->disks[i].final_path : NULL;
    memset(&wo, 0, sizeof wo);
    wo._struct_size = sizeof wo;
    wo.outdir = p->outdir;               /* not created yet */
    wo.name = p->name;
    wo.final_outdir = p->outdir;
    wo.nr_disks = p->tvm->nr_disks;
    wo.disk_tmp_paths = paths;
    wo.disk_final_paths = paths;
    wo.nr_params = p->o.nr_write_params;
    wo.params = p->o.write_params;
    wo.libvirt_uri = p->o.libvirt_uri;
    p->checking = true;
    r = vmc_plugin_check(p->h, p->target, p->tvm, &wo);
    p->checking = false;
    free(paths);
    if (r == -1) {
        vmc_pl_risk(p, "error", vmc_get_error_kind(p->h), "target", "%s",
                    vmc_get_error(p->h));
        vmc_clear_error(p->h);
    }
    return 0;
}

/* ---- Space -------------------------------------------------------- */

static int
plan_space(struct pipeline *p)
{
    struct json_object *o = json_object_new_object();
    CLEANUP_FREE char *parent = strdup(p->outdir);
    char *slash;
    struct statvfs sv;
    uint64_t need = PLAN_CONFIG_BYTES, avail;
    size_t i;

    json_object_object_add(p->doc, "space", o);
    if (parent == NULL) {
        vmc_error(p->h, "%m");
        return -1;
    }
    slash = strrchr(parent, '/');
    if (slash == parent)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    for (i = 0; i < p->nr_disks; i++)
        need += p->disks[i].convert ? p->disks[i].need : 0;
    if (statvfs(parent, &sv) == -1) {
        vmc_error_kind(p->h, vmc_errno_kind(errno), "statvfs: %s: %m",
                       parent);
        return -1;
    }
    avail = (uint64_t) sv.f_bavail * sv.f_frsize;
    vmc_pl_json_str(o, "filesystem", parent);
    vmc_pl_json_u64(o, "needed", need);
    vmc_pl_json_u64(o, "available", avail);
    json_object_object_add(o, "fits", json_object_new_boolean(need <= avail));
    json_object_object_add(o, "checked",
                           json_object_new_boolean(!p->o.no_space_check));
    if (need > avail)
        vmc_pl_risk(p, p->o.no_space_check ? "warning" : "error",
                    VMC_ERR_NO_SPACE, "no-space", "%s: the conversion needs "
                    "about %" PRIu64 " MiB and the filesystem has %" PRIu64
                    " MiB free%s", parent, (need + (1 << 20) - 1) >> 20,
                    avail >> 20, p->o.no_space_check
                    ? " (--no-space-check: trying anyway)" : "");
    return 0;
}

/* ---- The plan as JSON --------------------------------------------- */

static void
plan_json_disks(struct pipeline *p)
{
    struct json_object *arr = json_object_new_array();
    size_t i;

    for (i = 0; i < p->nr_disks; i++) {
        struct pl_disk *d = &p->disks[i];
        const struct vmc_disk *vd = p->vm->disks[i];
        struct json_object *o = json_object_new_object(), *s, *t;

        json_object_object_add(o, "index", json_object_new_int((int) i));
        vmc_pl_json_str(o, "device", vmc_disk_device_to_string(vd->device));
        json_object_object_add(o, "convert",
                               json_object_new_boolean(d->convert));
        vmc_pl_json_str(o, "skipped", d->convert ? NULL : d->skip_why);
        s = json_object_new_object();
        vmc_pl_json_str(s, "path", d->src_path ? d->src_path : vd->path);
        vmc_pl_json_str(s, "ref", vd->source_ref);
        vmc_pl_json_str(s, "format", d->src_format ? d->src_format : vd->format);
        vmc_pl_json_str(s, "bus", vmc_disk_bus_to_string(vd->bus));
        if (d->chain) {
            vmc_pl_json_u64(s, "virtual-size", d->virtual_size);
            vmc_pl_json_u64(s, "allocated-size", d->allocated);
            vmc_pl_json_u64(s, "data-size", d->data);
            json_object_object_add(s, "chain", json_object_get(d->chain));
        }
        json_object_object_add(o, "source", s);
        if (d->convert) {
            t = json_object_new_object();
            vmc_pl_json_str(t, "file", d->file);
            vmc_pl_json_str(t, "path", d->final_path);
            vmc_pl_json_str(t, "format", d->dst_format);
            vmc_pl_json_str(t, "options", d->create_options);
            vmc_pl_json_str(t, "bus",
                            vmc_disk_bus_to_string(p->tvm->disks[i]->bus));
            vmc_pl_json_u64(t, "estimated-size", d->need);
            json_object_object_add(o, "target", t);
        }
        json_object_array_add(arr, o);
    }
    json_object_object_add(p->doc, "disks", arr);
}

static void
plan_json_target(struct pipeline *p)
{
    struct json_object *t = json_object_new_object(), *a;
    size_t i;

    vmc_pl_json_str(t, "plugin", p->to);
    vmc_pl_json_str(t, "name", p->name);
    vmc_pl_json_str(t, "outdir", p->outdir);
    vmc_pl_json_str(t, "allocation", vmc_allocation_to_string(p->o.allocation));
    vmc_pl_json_str(t, "libvirt-uri", p->o.libvirt_uri);
    a = json_object_new_array();
    for (i = 0; i < p->o.nr_write_params; i++)
        json_object_array_add(a, json_object_new_string(p->o.write_params[i]));
    json_object_object_add(t, "params", a);
    json_object_object_add(p->doc, "target", t);
}

static void
plan_json_guest(struct pipeline *p)
{
    struct json_object *g = json_object_new_object();

    json_object_object_add(g, "run", json_object_new_boolean(
        !p->o.no_guest_fix && vmc_pipeline_guest_fix != NULL));
    vmc_pl_json_str(g, "status", p->o.no_guest_fix
                    ? "skipped (--no-guest-fix)"
                    : vmc_pipeline_guest_fix == NULL
                    ? "guest conversion: not implemented yet, skipped"
                    : p->guest && p->guest->os_family == VMC_OS_FAMILY_LINUX
                    ? "planned: the target's disk drivers into the "
                      "initramfs where missing, device names to UUID=, the "
                      "old hypervisor's tools out, interface names kept"
                    : p->guest
                    ? "planned: only Linux guests are fixed: this guest is "
                      "converted as it is"
                    : "planned: nothing to fix (no guest inspected)");
    if (p->guest_report)
        json_object_object_add(g, "inspection",
                               json_object_get(p->guest_report));
    json_object_object_add(g, "changes", json_object_get(p->guest_changes));
    json_object_object_add(p->doc, "guest-fix", g);
}

/* Resolve OUTDIR to an absolute path (its parent exists). */
static int
plan_outdir(struct pipeline *p)
{
    CLEANUP_FREE char *copy = strdup(p->o.outdir);
    char real[PATH_MAX], *slash, *base;

    if (copy == NULL) {
        vmc_error(p->h, "%m");
        return -1;
    }
    for (slash = copy + strlen(copy) - 1; slash > copy && *slash == '/';
         slash--)
        *slash = '\0';
    slash = strrchr(copy, '/');
    base = slash ? slash + 1 : copy;
    if (slash == copy)
        strcpy(real, "/");
    else if (realpath(slash ? (*slash = '\0', copy) : ".", real) == NULL) {
        vmc_error_kind(p->h, VMC_ERR_USAGE, "-O %s: %m", p->o.outdir);
        return -1;
    }
    if (asprintf(&p->outdir, "%s%s%s", real,
                 strcmp(real, "/") == 0 ? "" : "/", base) == -1) {
        p->outdir = NULL;
        vmc_error(p->h, "%m");
        return -1;
    }
    return 0;
}

int
vmc_pl_plan(struct pipeline *p)
{
    size_t i;

    static const char *const order[] = {
        "target", "disks", "devices", "networks", "guest-fix", "space",
    };

    /* The document's keys in reading order (values come later). */
    for (i = 0; i < sizeof order / sizeof order[0]; i++)
        json_object_object_add(p->doc, order[i], NULL);
    p->caps = vmc_plugin_target_caps(p->target);
    if (plan_outdir(p) == -1 || plan_name(p) == -1 || plan_disks(p) == -1)
        return -1;
    p->tvm = vmc_vm_copy(p->vm);
    if (p->tvm == NULL || plan_target_disks(p) == -1 || plan_guest(p) == -1)
        return -1;
    plan_devices(p);
    plan_paravirtual(p);
    if (plan_networks(p) == -1)
        return -1;
    if (plan_target_check(p) == -1)
        return -1;
    if (vmc_vm_check(p->tvm) == -1) {
        vmc_pl_risk(p, "error", VMC_ERR_INTERNAL, "target-model",
                    "the target model is inconsistent: %s",
                    vmc_get_error(p->h));
        vmc_clear_error(p->h);
    }
    for (i = 0; i < p->vm->nr_notes; i++)
        vmc_pl_risk(p, "warning", VMC_ERR_NONE, "source-note", "%s",
                    p->vm->notes[i]);
    if (plan_space(p) == -1)
        return -1;
    plan_json_target(p);
    plan_json_disks(p);
    json_object_object_add(p->doc, "devices", json_object_get(p->devices));
    plan_json_guest(p);
    return 0;
}
