/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: Hyper-V VMs (.vmcx of 2016 and later, the XML
 * configuration of 2012 / 2012 R2, export folders holding either).
 *
 * Probe recognises, by content, a .vmcx by its container signature, a
 * 2012 configuration by its <configuration> root with a <manifest>, and
 * an export folder by its "Virtual Machines" folder holding a
 * configuration.  Reading turns the configuration into a key tree
 * (hv-xml.c, vmcx.c) that hv-config.c gives meaning in the VM model.
 * The formats are described in ../shared/specs/hyperv-config.md.
 */
#include <config.h>

#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <vmconv/plugin.h>

#include "cleanup.h"
#include "hv.h"

/* "HyperVStorage" container (.vmcx, .vmrs): u32 LE at offset 0. */
#define HYPERV_VMCX_SIGNATURE 0x01282014u

/* The largest configuration read (real ones are tens of KiB). */
#define HYPERV_MAX_CONFIG (64u * 1024 * 1024)
/* A .vmrs larger than this holds the guest's memory: saved state. */
#define HYPERV_VMRS_SAVED (1u << 20)

enum hyperv_kind {
    HYPERV_NONE,
    HYPERV_VMCX,
    HYPERV_XML,
    HYPERV_DIR,
    HYPERV_JSON,
};

/* True if NEEDLE (ASCII) is in BUF as 8-bit text or as UTF-16LE/BE. */
static bool
hyperv_contains(const char *buf, size_t len, const char *needle)
{
    size_t nlen = strlen(needle), i, j;

    if (memmem(buf, len, needle, nlen))
        return true;
    for (i = 0; i + 2 * nlen <= len; i++) {
        for (j = 0; j < nlen; j++)
            if (buf[i + 2 * j] != needle[j] || buf[i + 2 * j + 1] != '\0')
                break;
        if (j == nlen)
            return true;
    }
    return false;
}

static bool
hyperv_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* The configurations (*.xml, *.vmcx) of the folder DIR: their count,
 * and the first one's name into *FIRST (malloc'd) when FIRST is not
 * NULL.  Hidden files are skipped.
 */
static size_t
hyperv_configs_in(const char *dir, char **first)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (first)
        *first = NULL;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!hyperv_ends_with(e->d_name, ".xml") &&
            !hyperv_ends_with(e->d_name, ".vmcx"))
            continue;
        if (n++ == 0 && first &&
            asprintf(first, "%s/%s", dir, e->d_name) == -1)
            *first = NULL;
    }
    closedir(d);
    return n;
}

/* The "Virtual Machines" folder of the export folder DIR (its name in
 * any case), malloc'd, or NULL.
 */
static char *
hyperv_vm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *r = NULL;

    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL)
        if (strcasecmp(e->d_name, "Virtual Machines") == 0) {
            if (asprintf(&r, "%s/%s", dir, e->d_name) == -1)
                r = NULL;
            break;
        }
    closedir(d);
    return r;
}

/* Does BUF start (after a byte order mark and white space) with '{'? */
static bool
hyperv_json_start(const unsigned char *buf, size_t n)
{
    size_t i = 0, step = 1;

    if (n >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
        i = 3;
    else if (n >= 2 && buf[0] == 0xff && buf[1] == 0xfe) {
        i = 2;
        step = 2;
    }
    for (; i < n; i += step)
        if (buf[i] == '{')
            return step == 1 || (i + 1 < n && buf[i + 1] == 0);
        else if (!strchr(" \t\r\n", buf[i]) || buf[i] == '\0' ||
                 (step == 2 && (i + 1 >= n || buf[i + 1] != 0)))
            return false;
    return false;
}

static enum hyperv_kind
hyperv_kind_of(const struct vmc_probe_input *in, int *score)
{
    const unsigned char *buf = in->head;
    size_t n = in->head_len;
    uint32_t sig;

    *score = 0;
    if (!in->is_file) {
        struct stat st;
        char *vmdir;

        if (stat(in->source, &st) != 0 || !S_ISDIR(st.st_mode))
            return HYPERV_NONE;
        vmdir = hyperv_vm_dir(in->source);
        if (vmdir && hyperv_configs_in(vmdir, NULL) > 0)
            *score = 80;
        free(vmdir);
        return *score ? HYPERV_DIR : HYPERV_NONE;
    }
    if (n >= 4) {
        sig = (uint32_t) buf[0] | (uint32_t) buf[1] << 8 |
            (uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24;
        if (sig == HYPERV_VMCX_SIGNATURE) {
            *score = 90;
            return HYPERV_VMCX;
        }
    }
    /* The JSON of samples/hyperv/vmconv-hyperv-export.ps1, in UTF-8 or
     * (Windows PowerShell's Out-File) UTF-16.
     */
    if (hyperv_json_start(buf, n) &&
        hyperv_contains((const char *) buf, n, "\"hyperv-get-vm/")) {
        *score = 90;
        return HYPERV_JSON;
    }
    /* <configuration> alone is also .NET's app.config: ask for the
     * Hyper-V <manifest> too.
     */
    if (vmc_probe_xml_root(buf, n, "configuration") &&
        hyperv_contains((const char *) buf, n, "<manifest")) {
        *score = 90;
        return HYPERV_XML;
    }
    return HYPERV_NONE;
}

static int
hyperv_probe(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    int score;

    hyperv_kind_of(in, &score);
    return score;
}

/* Refuse a VM exported in a saved state: 2012 R2 keeps the memory in
 * "<GUID>/<GUID>.bin" (and .vsv) beside the configuration, 2016 and
 * later in "<GUID>.vmrs".
 */
static int
hyperv_refuse_saved(struct vmc_handle *h, const char *path)
{
    CLEANUP_FREE char *base = strdup(path), *sub = NULL, *vmrs = NULL;
    char *dot;
    struct stat st;
    DIR *d;
    struct dirent *e;
    const char *found = NULL;
    char foundbuf[512];

    if (base == NULL) {
        vmc_error(h, "%s: out of memory", path);
        return -1;
    }
    dot = strrchr(base, '.');
    if (dot && strchr(dot, '/') == NULL)
        *dot = '\0';
    if (asprintf(&vmrs, "%s.vmrs", base) == -1 ||
        asprintf(&sub, "%s", base) == -1) {
        vmrs = sub = NULL;
        vmc_error(h, "%s: out of memory", path);
        return -1;
    }
    if (stat(vmrs, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size > HYPERV_VMRS_SAVED) {
        snprintf(foundbuf, sizeof foundbuf, "%s, %lld bytes", vmrs,
                 (long long) st.st_size);
        found = foundbuf;
    }
    d = found ? NULL : opendir(sub);
    while (d && (e = readdir(d)) != NULL)
        if (hyperv_ends_with(e->d_name, ".bin") ||
            hyperv_ends_with(e->d_name, ".vsv")) {
            snprintf(foundbuf, sizeof foundbuf, "%s/%s", sub, e->d_name);
            found = foundbuf;
            break;
        }
    if (d)
        closedir(d);
    if (found == NULL)
        return 0;
    vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: the VM is in a saved state "
                   "(its memory is in %s): its disks are not those of a "
                   "shut-down guest; start it on Hyper-V, shut the guest "
                   "down, and export it again", path, found);
    return -1;
}

/* The guest state file (UEFI variables, vTPM) beside a .vmcx:
 * "<GUID>.vmgs".
 */
static int
hyperv_vmgs(struct vmc_handle *h, struct vmc_vm *vm, const char *path)
{
    CLEANUP_FREE char *vmgs = NULL, *abs = NULL;
    size_t len = strlen(path);
    struct stat st;

    if (len < 5 || strcasecmp(path + len - 5, ".vmcx") != 0)
        return 0;
    if (asprintf(&vmgs, "%.*s.vmgs", (int) (len - 5), path) == -1) {
        vmgs = NULL;
        vmc_error(h, "%s: out of memory", path);
        return -1;
    }
    if (stat(vmgs, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    abs = realpath(vmgs, NULL);
    if (abs == NULL) {
        vmc_error(h, "%s: %m", vmgs);
        return -1;
    }
    vm->nvram_kind = VMC_NVRAM_KIND_HYPERV_VMGS;
    return vmc_vm_set_string(vm, &vm->nvram_path, abs);
}

/* Fill SRC for the configuration file PATH: its directory, and the
 * export folder when it sits in "Virtual Machines".
 */
static int
hyperv_source(struct vmc_handle *h, const char *path, struct hv_source *src)
{
    char *copy = strdup(path), *dir, *slash;

    if (copy == NULL) {
        vmc_error(h, "%s: out of memory", path);
        return -1;
    }
    dir = dirname(copy);
    src->dir = strdup(dir);
    slash = strrchr(dir, '/');
    if (strcasecmp(slash ? slash + 1 : dir, "Virtual Machines") == 0) {
        if (slash == dir)
            src->export_dir = strdup("/");
        else if (slash)
            src->export_dir = strndup(dir, (size_t) (slash - dir));
        else
            src->export_dir = strdup(".");
        if (src->export_dir == NULL) {
            free(copy);
            vmc_error(h, "%s: out of memory", path);
            return -1;
        }
    }
    free(copy);
    if (src->dir == NULL) {
        vmc_error(h, "%s: out of memory", path);
        return -1;
    }
    src->path = path;
    return 0;
}

static struct vmc_vm *
hyperv_read_config(struct vmc_handle *h, const char *path,
                   enum hyperv_kind kind, const struct vmc_read_options *opts)
{
    CLEANUP_FREE void *buf = NULL;
    struct hv_source src = { .opts = opts };
    struct hv_node *tree = NULL;
    const struct hv_node *config;
    struct vmc_vm *vm = NULL;
    size_t len;
    bool relabelled = false;

    if (hyperv_source(h, path, &src) == -1)
        goto out;
    buf = vmc_read_file_len(h, path, HYPERV_MAX_CONFIG, &len);
    if (buf == NULL)
        goto out;
    if (kind == HYPERV_XML)
        tree = hv_xml_parse(h, buf, len, path, &relabelled);
    else
        tree = vmcx_parse(h, buf, len, path);
    if (tree == NULL)
        goto out;
    config = kind == HYPERV_XML ? tree : hv_child(tree, "configuration");
    if (config == NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: no 'configuration' key: "
                       "not a Hyper-V VM configuration", path);
        goto out;
    }
    if (kind == HYPERV_VMCX && hv_get(config, "properties/name") == NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: the container has no "
                       "configuration/properties/name: a runtime state file "
                       "(.vmrs) or another Hyper-V file, not a VM "
                       "configuration (.vmcx)", path);
        goto out;
    }
    if (hyperv_refuse_saved(h, path) == -1)
        goto out;
    vm = hv_config_to_vm(h, config, &src);
    if (vm && relabelled &&
        vmc_vm_add_note(vm, "the XML declares UTF-16 but holds 8-bit text: "
                        "read as UTF-8") == -1) {
        vmc_vm_free(vm);
        vm = NULL;
    }
    if (vm && kind == HYPERV_VMCX && hyperv_vmgs(h, vm, path) == -1) {
        vmc_vm_free(vm);
        vm = NULL;
    }
 out:
    hv_tree_free(tree);
    free(src.dir);
    free(src.export_dir);
    return vm;
}

/* The JSON of samples/hyperv/vmconv-hyperv-export.ps1: its disks are
 * looked for beside it (and in "Virtual Hard Disks", "Snapshots").
 */
static struct vmc_vm *
hyperv_read_json(struct vmc_handle *h, const char *path,
                 const struct vmc_read_options *opts)
{
    CLEANUP_FREE unsigned char *buf = NULL;
    CLEANUP_FREE char *text = NULL;
    struct hv_source src = { .opts = opts };
    struct vmc_vm *vm = NULL;
    size_t len;

    if (hyperv_source(h, path, &src) == -1)
        return NULL;
    src.export_dir = strdup(src.dir);
    if (src.export_dir == NULL) {
        vmc_error(h, "%s: out of memory", path);
        goto out;
    }
    buf = vmc_read_file_len(h, path, HYPERV_MAX_CONFIG, &len);
    if (buf == NULL)
        goto out;
    if (len >= 2 && buf[0] == 0xff && buf[1] == 0xfe)
        text = vmc_utf16_to_utf8(h, buf, len, VMC_UTF16_BOM_LE, 0, path,
                                 NULL);
    else if (memchr(buf, '\0', len))
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: a NUL byte at offset %zu: "
                       "not JSON text", path,
                       (size_t) ((unsigned char *) memchr(buf, '\0', len) -
                                 buf));
    else
        text = strdup(len >= 3 && buf[0] == 0xef && buf[1] == 0xbb &&
                      buf[2] == 0xbf ? (char *) buf + 3 : (char *) buf);
    if (text)
        vm = hv_json_read(h, text, &src);
    else if (vmc_get_error_kind(h) == VMC_ERR_NONE)
        vmc_error(h, "%s: out of memory", path);
 out:
    free(src.dir);
    free(src.export_dir);
    return vm;
}

/* An export folder: its one configuration in "Virtual Machines". */
static struct vmc_vm *
hyperv_read_dir(struct vmc_handle *h, const char *dir,
                const struct vmc_read_options *opts)
{
    CLEANUP_FREE char *vmdir = hyperv_vm_dir(dir), *cfg = NULL;
    struct vmc_probe_input *in;
    struct vmc_vm *vm = NULL;
    enum hyperv_kind kind;
    size_t n;
    int score;

    if (vmdir == NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: no 'Virtual Machines' "
                       "folder: not a Hyper-V export folder", dir);
        return NULL;
    }
    n = hyperv_configs_in(vmdir, &cfg);
    if (n != 1 || cfg == NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %zu configurations (.xml, "
                       ".vmcx) in it: give the one to read", vmdir, n);
        return NULL;
    }
    in = vmc_probe_input_new(h, cfg);
    if (in == NULL)
        return NULL;
    kind = hyperv_kind_of(in, &score);
    vmc_probe_input_free(in);
    if (kind != HYPERV_XML && kind != HYPERV_VMCX) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: not a Hyper-V .vmcx or XML "
                       "configuration", cfg);
        return NULL;
    }
    vm = hyperv_read_config(h, cfg, kind, opts);
    return vm;
}

static struct vmc_vm *
hyperv_read(struct vmc_handle *h, const char *source,
            const struct vmc_read_options *opts)
{
    struct vmc_probe_input *in;
    enum hyperv_kind kind;
    int score;

    if (opts && opts->nr_params) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: hyperv plugin: unknown read "
                       "parameter '%s' (it takes none)", source,
                       opts->params[0]);
        return NULL;
    }
    in = vmc_probe_input_new(h, source);
    if (in == NULL)
        return NULL;
    kind = hyperv_kind_of(in, &score);
    /* Asked to read a <configuration> the probe did not take (its
     * <manifest> cut off, say): the XML reader says what is wrong.
     */
    if (kind == HYPERV_NONE && in->is_file &&
        vmc_probe_xml_root(in->head, in->head_len, "configuration"))
        kind = HYPERV_XML;
    vmc_probe_input_free(in);
    switch (kind) {
    case HYPERV_VMCX:
    case HYPERV_XML:
        return hyperv_read_config(h, source, kind, opts);
    case HYPERV_DIR:
        return hyperv_read_dir(h, source, opts);
    case HYPERV_JSON:
        return hyperv_read_json(h, source, opts);
    case HYPERV_NONE:
        break;
    }
    vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: hyperv plugin: not a Hyper-V "
                   "export folder, .vmcx or XML configuration, or the JSON "
                   "of vmconv-hyperv-export.ps1", source);
    return NULL;
}

static int
hyperv_write(struct vmc_handle *h, const struct vmc_vm *vm,
             const struct vmc_write_options *opts)
{
    if (opts->nr_params) {
        vmc_error_kind(h, VMC_ERR_USAGE, "hyperv plugin: unknown write "
                       "parameter '%s' (it takes none)", opts->params[0]);
        return -1;
    }
    if (VMC_WRITE_OPTION_HAS(opts, libvirt_uri) && opts->libvirt_uri) {
        vmc_error_kind(h, VMC_ERR_USAGE, "hyperv plugin: a libvirt URI (%s) "
                       "is for a KVM target: the Hyper-V target writes a "
                       "script to run on the Hyper-V host", opts->libvirt_uri);
        return -1;
    }
    return hv_write(h, vm, opts);
}

/* What Hyper-V offers a converted guest.  Generation 2 (UEFI, the
 * default) boots from synthetic SCSI only; generation 1 (BIOS) boots
 * from IDE and has SCSI for data disks.  The legacy NIC is generation
 * 1 only, for guests without the netvsc driver.
 */
static const char *const hyperv_vhdx_subformats[] = {
    "dynamic", "fixed", NULL
};

static const char *const hyperv_vpc_subformats[] = {
    "dynamic", "fixed", NULL
};

/* VHDX by default; VHD (vpc) when asked, e.g. for Azure uploads
 * (-o azure=on).
 */
static const struct vmc_target_format hyperv_formats[] = {
    { "vhdx", hyperv_vhdx_subformats },
    { "vpc", hyperv_vpc_subformats },
    { NULL, NULL },
};

static const struct vmc_target_caps hyperv_caps = {
    ._struct_size = sizeof hyperv_caps,
    .disk_buses = VMC_CAP(VMC_DISK_BUS_SCSI) | VMC_CAP(VMC_DISK_BUS_IDE),
    .default_disk_bus = VMC_DISK_BUS_SCSI,
    .controller_models = VMC_CAP(VMC_CONTROLLER_MODEL_HYPERV_SCSI) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_PIIX4),
    .default_scsi_controller = VMC_CONTROLLER_MODEL_HYPERV_SCSI,
    .nic_models = VMC_CAP(VMC_NIC_MODEL_HYPERV_NETVSC) |
                  VMC_CAP(VMC_NIC_MODEL_HYPERV_LEGACY),
    .default_nic_model = VMC_NIC_MODEL_HYPERV_NETVSC,
    .video_models = VMC_CAP(VMC_VIDEO_MODEL_HYPERV),
    .default_video_model = VMC_VIDEO_MODEL_HYPERV,
    .firmware = VMC_CAP(VMC_FIRMWARE_UEFI) | VMC_CAP(VMC_FIRMWARE_BIOS),
    .default_firmware = VMC_FIRMWARE_UEFI,
    .disk_formats = hyperv_formats,
};

static struct vmc_plugin plugin = {
    .name        = "hyperv",
    .version     = VMC_VERSION_STRING,
    .description = "Hyper-V: reads export folders, .vmcx (2016+) and 2012 "
                   "R2 XML configurations; writes VHDX disks and a "
                   "PowerShell script creating the VM",
    .probe2      = hyperv_probe,
    .read2       = hyperv_read,
    .write       = hyperv_write,
    .caps        = &hyperv_caps,
};

VMC_REGISTER_PLUGIN(plugin)
