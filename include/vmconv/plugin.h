/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv: the plugin ABI, and the calls applications use to load and
 * drive plugins.  vmconv-plugin(3) is the contract in prose.
 *
 * A plugin is a shared object (vmconv-NAME.so in the plugin directory)
 * teaching vmconv one hypervisor: it recognises that hypervisor's VM
 * configurations (probe), reads one into the neutral VM model (read)
 * and/or writes a VM model out as that hypervisor's configuration
 * (write, then finish once the output is in place).  It fills a struct
 * vmc_plugin and registers it:
 *
 *   #include <vmconv/plugin.h>
 *
 *   static struct vmc_plugin plugin = {
 *       .name    = "myhv",
 *       .version = "1.0",
 *       .probe2  = myhv_probe,
 *       .read2   = myhv_read,
 *   };
 *
 *   VMC_REGISTER_PLUGIN(plugin)
 *
 * ABI rules:
 *  - vmc_plugin_init is the only symbol a plugin exports.  It returns
 *    the plugin's struct, whose hidden fields (set by the macro) tell
 *    the loader which struct vmc_plugin and which VM model (vm.h) the
 *    plugin was built with.
 *  - Fields are only ever ADDED AT THE END of every structure here.  A
 *    plugin built against an older plugin.h keeps loading: the core
 *    reads only the _struct_size bytes it registered, and fields it
 *    does not have read as NULL / 0.
 *  - Structures the core hands to a plugin (options, probe input,
 *    guest facts) carry the core's _struct_size: a plugin newer than
 *    the core tests VMC_STRUCT_HAS(ptr, type, field) before reading a
 *    field added later than the core it runs in.
 *  - VMC_PLUGIN_API_VERSION changes only if the ABI breaks; the loader
 *    refuses plugins built for a newer version than its own.  The same
 *    holds for VMC_VM_MODEL_VERSION (vm.h): the library allocates the
 *    model, so a plugin built for a newer model (which would write
 *    fields past the library's allocation) is refused.
 *  - Plugins call back into libvmconv only through the public vmc_*
 *    functions of the installed headers (vmconv.h, vm.h, image.h and
 *    this file).  In-tree plugins are linked against libvmconv with
 *    -z defs; out-of-tree ones should be too (pkg-config --libs
 *    vmconv), so that a program loading libvmconv with RTLD_LOCAL can
 *    load them.
 */
#ifndef VMCONV_PLUGIN_H
#define VMCONV_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>
#include <vmconv/image.h>
#include <vmconv/version.h>
#include <vmconv/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMC_PLUGIN_API_VERSION 1

/* True if the structure at PTR (of TYPE, with a _struct_size) is big
 * enough to hold FIELD: use it before reading a field that was added
 * after the structure's first version.
 */
#define VMC_STRUCT_HAS(ptr, type, field)                                \
    ((ptr)->_struct_size >= offsetof(type, field) + sizeof (ptr)->field)

/* ---- What the core tells a plugin --------------------------------- */

/* Guest facts learned by guest conversion (inspection of the disks),
 * handed to the target's write and finish.  Allocated by libvmconv
 * (vmc_guest_info_new); strings are NULL (unknown) or malloc'd and
 * owned by the struct.  It grows at the end as conversion learns more:
 * test VMC_STRUCT_HAS(guest, struct vmc_guest_info, field) before
 * reading a field added after the plugin's plugin.h.
 */
struct vmc_guest_info {
    uint32_t _struct_size;
    enum vmc_os_family os_family;
    char *os_distro;             /* "rhel", "ubuntu", "windows" ... */
    char *os_version;            /* "9.2", "22.04", "10.0" ... */
    char *os_arch;               /* "x86_64", "i686", "aarch64" */
    char *root_device;           /* the root filesystem as the guest
                                    names it after conversion
                                    ("/dev/vda2", "C:") */
    bool has_virtio_blk;         /* the converted guest boots from a */
    bool has_virtio_net;         /* virtio disk / has a virtio NIC driver */
    bool has_qemu_ga;            /* the QEMU guest agent is installed */
};

/* A new guest info, all unknown, or NULL with an error set on H.  Free
 * with vmc_guest_info_free (accepts NULL).
 */
struct vmc_guest_info *vmc_guest_info_new(struct vmc_handle *h);
void vmc_guest_info_free(struct vmc_guest_info *g);

/* What probe2 is given: the core reads the source once and hands the
 * same bytes to every plugin.
 */
#define VMC_PLUGIN_PROBE_HEAD 65536
#define VMC_PLUGIN_PROBE_TAIL 1024

struct vmc_probe_input {
    uint32_t _struct_size;
    const char *source;          /* the path or URI as given */
    bool is_file;                /* SOURCE is a regular file that could
                                    be read: HEAD, TAIL, FILE_SIZE are
                                    set.  False for a URI, a directory,
                                    a device or an unreadable file:
                                    HEAD_LEN and TAIL_LEN are 0 */
    const uint8_t *head;         /* the first HEAD_LEN bytes */
    size_t head_len;             /* min(file size, VMC_PLUGIN_PROBE_HEAD) */
    const uint8_t *tail;         /* the last TAIL_LEN bytes */
    size_t tail_len;             /* min(file size, VMC_PLUGIN_PROBE_TAIL) */
    uint64_t file_size;
};

/* The probe input of SOURCE, as the core gives it to probe2: for a
 * reader that classifies its source again in read2.  Returns NULL with
 * an error only when out of memory (a source that cannot be read has
 * is_file false).  Free with vmc_probe_input_free (accepts NULL).
 */
struct vmc_probe_input *vmc_probe_input_new(struct vmc_handle *h,
                                            const char *source);
void vmc_probe_input_free(struct vmc_probe_input *in);

/* What the core passes to read2.  Callers of vmc_plugin_read_opts
 * allocate it (set _struct_size = sizeof); the plugin gets the core's
 * own copy, with every field filled.
 */
struct vmc_read_options {
    uint32_t _struct_size;
    unsigned image_flags;        /* VMC_IMAGE_* (image.h) to pass when
                                    the plugin opens the source's disks:
                                    VMC_IMAGE_ALLOW_OUTSIDE (path policy),
                                    VMC_IMAGE_IGNORE_PARENT_ID; the core
                                    strips VMC_IMAGE_RDWR */
    const char *workdir;         /* an existing directory where the
                                    plugin may create files (an OVA's
                                    extracted members); never NULL for
                                    the plugin: $TMPDIR or /var/tmp when
                                    the caller gives none.  Every file
                                    created there is registered with
                                    vmc_vm_add_tmpfile, so it lives
                                    exactly as long as the VM */
    size_t nr_params;            /* plugin parameters, each "key=value" */
    const char *const *params;   /* (keys the plugin's config_help
                                    lists); the plugin refuses a key it
                                    does not know */
    /* Version 2 (test VMC_STRUCT_HAS(opts, struct vmc_read_options,
     * flags) in a plugin that may run in an older core):
     */
    unsigned flags;              /* VMC_READ_* below; a plugin ignores
                                    those it does not know */
};

/* The caller will check digests the reader registers with
 * vmc_vm_add_digest (vm.h) before anything it writes is kept: a reader
 * may leave the digests of large files it does not otherwise read
 * (the disks an OVA manifest lists, read in place) to the caller
 * instead of reading them whole itself.  The conversion pipeline sets
 * it (it hashes those files while it copies the disks); vmconv inspect
 * does not, so that it still checks everything.  Small files are best
 * checked at once.
 */
#define VMC_READ_DEFER_DIGESTS 0x1u

/* What the core passes to write and finish.  Callers of
 * vmc_plugin_write_opts allocate it (set _struct_size = sizeof); the
 * plugin gets the core's own copy.  A plugin newer than the core tests
 * VMC_WRITE_OPTION_HAS(opts, field) before reading a field added after
 * version 1.
 */
struct vmc_write_options {
    uint32_t _struct_size;
    /* Version 1: */
    const char *outdir;          /* existing, empty directory to write
                                    the configuration files into; the
                                    core renames it into place when the
                                    whole conversion succeeded */
    const char *name;            /* base name for the files ("web01"),
                                    never NULL, without '/' */
    /* Version 2: */
    const char *final_outdir;    /* where OUTDIR will be renamed to:
                                    configuration files name paths
                                    under it.  Never NULL for the plugin
                                    (OUTDIR when nothing is renamed) */
    size_t nr_disks;             /* vm->nr_disks, or 0 if the caller */
    const char *const *disk_tmp_paths;   /* gave no paths.  [i]: disk  */
    const char *const *disk_final_paths; /* i's converted image now
                                    (inside OUTDIR: read it here) and
                                    once renamed (write this one into
                                    the configuration); NULL for a drive
                                    without an image */
    size_t nr_params;            /* target parameters, each "key=value" */
    const char *const *params;
    const char *libvirt_uri;     /* define the VM there in finish, or
                                    NULL to write files only */
    const struct vmc_guest_info *guest; /* guest facts, or NULL if the
                                    guest was not inspected */
};

#define VMC_WRITE_OPTION_HAS(opts, field)                               \
    VMC_STRUCT_HAS(opts, struct vmc_write_options, field)

/* ---- What a target declares: its capabilities, as data ------------ */

/* The bit of enum value V in a capability mask. */
#define VMC_CAP(v) (UINT64_C(1) << (v))

/* One disk format a target writes: FORMAT as vmc_image_formats() names
 * it, and the subformats it accepts (NULL-terminated, the first is the
 * default; NULL when the format has none).  Never grows.
 */
struct vmc_target_format {
    const char *format;
    const char *const *subformats;
};

/* What a target can express, so the planner picks devices without
 * knowing the hypervisor.  Each mask holds VMC_CAP(value) of the vm.h
 * enum it names; each default is one of its mask's values.  Owned by
 * the plugin (static const data).
 */
struct vmc_target_caps {
    uint32_t _struct_size;       /* sizeof (struct vmc_target_caps) */
    uint64_t disk_buses;         /* VMC_CAP(VMC_DISK_BUS_*) */
    enum vmc_disk_bus default_disk_bus;
    uint64_t controller_models;  /* VMC_CAP(VMC_CONTROLLER_MODEL_*) */
    enum vmc_controller_model default_scsi_controller; /* for the SCSI
                                    bus, or UNKNOWN if it has none */
    uint64_t nic_models;         /* VMC_CAP(VMC_NIC_MODEL_*) */
    enum vmc_nic_model default_nic_model;
    uint64_t video_models;       /* VMC_CAP(VMC_VIDEO_MODEL_*) */
    enum vmc_video_model default_video_model;
    uint64_t firmware;           /* VMC_CAP(VMC_FIRMWARE_*) */
    enum vmc_firmware default_firmware;
    const struct vmc_target_format *disk_formats; /* ends with a NULL
                                    format; the first is the default */
};

/* ---- The plugin ----------------------------------------------------- */

struct vmc_plugin {
    /* Set by VMC_REGISTER_PLUGIN; don't set them yourself. */
    uint32_t _struct_size;
    uint32_t _api_version;

    /* Required.  [a-z0-9_-], at most 32 bytes: what users type after
     * --to and see in `vmconv plugins`.  The file is vmconv-NAME.so.
     */
    const char *name;
    /* The plugin's version (VMC_VERSION_STRING for in-tree plugins). */
    const char *version;
    /* One line for `vmconv plugins`: what it reads and writes. */
    const char *description;

    /* Optional.  Called once after the plugin is accepted, before any
     * other callback; return 0, or -1 with an error set on H to refuse
     * the plugin (then unload is not called).
     */
    int (*load)(struct vmc_handle *h);
    /* Optional.  Called once when H is freed. */
    void (*unload)(struct vmc_handle *h);

    /* Version 1 probe (probe2 replaces it; one of them is required).
     * How sure the plugin is that SOURCE (a path, or a URI for plugins
     * that take one) is one of its VMs: 0 = not mine, 100 = certainly
     * mine.  Decide on the content, not the name.  Never fails and
     * never sets an error: a source it cannot read is 0.  Must not
     * change anything.
     */
    int (*probe)(struct vmc_handle *h, const char *source);

    /* Version 1 read (read2 replaces it).  Read SOURCE into a new VM
     * model (vmc_vm_new(h)).  Returns the VM (the core frees it) or
     * NULL with one error set on H.  Opens the source read-only, and
     * any file it names.  NULL if the plugin cannot read (a
     * target-only plugin).
     */
    struct vmc_vm *(*read)(struct vmc_handle *h, const char *source);

    /* Write VM as this hypervisor's configuration into opts->outdir.
     * VM's disks describe the converted images (their paths:
     * opts->disk_final_paths).  Returns 0 or -1 with one error set on
     * H (OUTDIR is temporary: the caller removes it).  NULL if the
     * plugin cannot write.  A plugin needs at least one of read (or read2) and
     * write.
     */
    int (*write)(struct vmc_handle *h, const struct vmc_vm *vm,
                 const struct vmc_write_options *opts);

    /* ---- Version 2 (vmconv 0.2) ---- */

    /* Set by VMC_REGISTER_PLUGIN: the VMC_VM_MODEL_VERSION the plugin
     * was built with.  A plugin whose struct ends before this field is
     * a version 1 plugin, built for model version 1.
     */
    uint32_t _model_version;

    /* Like probe, given the source's first and last bytes, read once by
     * the core for all plugins (see struct vmc_probe_input).  Same
     * rules: 0..100, never an error, changes nothing.  Called instead
     * of probe when set.
     */
    int (*probe2)(struct vmc_handle *h, const struct vmc_probe_input *in);

    /* Like read, with options (image flags, work directory, plugin
     * parameters).  Called instead of read when set.  A reader that
     * creates files (extracted disks) registers each one with
     * vmc_vm_add_tmpfile(vm, path), so it is removed with the VM.
     */
    struct vmc_vm *(*read2)(struct vmc_handle *h, const char *source,
                            const struct vmc_read_options *opts);

    /* Optional, for targets.  Called after write succeeded and the core
     * renamed opts->outdir to opts->final_outdir (the files are in
     * their final place), e.g. to define the VM in libvirt at
     * opts->libvirt_uri.  Returns 0, or -1 with one error set on H
     * after undoing its own partial work (a domain it defined is
     * undefined again): when finish fails nothing of it is left; the
     * written files stay where they are and the caller decides.
     */
    int (*finish)(struct vmc_handle *h, const struct vmc_vm *vm,
                  const struct vmc_write_options *opts);

    /* Optional: the "key=value" parameters read2 and write accept, one
     * per line ("disk-dir=DIR   where relative disk names are
     * resolved"); `vmconv plugins --help NAME` prints it.
     */
    const char *config_help;

    /* Optional, for targets: what the target can express (static
     * data owned by the plugin).  NULL: the planner assumes nothing.
     */
    const struct vmc_target_caps *caps;

    /* ---- Version 2, added in vmconv 0.2 after caps ---- */

    /* Optional, for targets: look at the VM as it will be written,
     * before anything exists (the conversion's plan, also for a dry
     * run), and say what will not carry over or may not work: each
     * vmc_warning it sends becomes a risk in the plan (a MAC the
     * hypervisor will not take, KVM unusable on this host).  OPTS are
     * write's, except that nothing exists yet: OUTDIR is where the
     * output will be (not created), and the disk paths name files not
     * written yet.  Must not create or change anything.  Returns 0, or
     * -1 with one error set on H when the target cannot take this VM
     * at all (the plan then stops the conversion with that error).
     */
    int (*check)(struct vmc_handle *h, const struct vmc_vm *vm,
                 const struct vmc_write_options *opts);

    /* New fields go here, at the end. */
};

#if defined(__GNUC__) || defined(__clang__)
#define VMC_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define VMC_PLUGIN_EXPORT
#endif

/* Register PLUGIN (a static struct vmc_plugin): fills the hidden fields
 * (struct size, ABI version, VM model version) and defines the one
 * exported symbol, vmc_plugin_init.
 */
#define VMC_REGISTER_PLUGIN(plugin)                                     \
    VMC_PLUGIN_EXPORT const struct vmc_plugin *vmc_plugin_init(void);   \
    VMC_PLUGIN_EXPORT const struct vmc_plugin *                         \
    vmc_plugin_init(void)                                               \
    {                                                                   \
        (plugin)._struct_size = sizeof (plugin);                        \
        (plugin)._api_version = VMC_PLUGIN_API_VERSION;                 \
        (plugin)._model_version = VMC_VM_MODEL_VERSION;                 \
        return &(plugin);                                               \
    }

/* ---- Helpers for plugins ------------------------------------------- */

/* Reading files, UTF-16, foreign paths, parsing values, safe XML and
 * digests: <vmconv/util.h>.
 */
#include <vmconv/util.h>

/* For probe: read up to LEN bytes from the start of PATH into BUF,
 * without blocking on FIFOs or devices.  Returns the number of bytes
 * read, or -1 if PATH is not a readable regular file.  Sets no error.
 */
ptrdiff_t vmc_probe_read_head(struct vmc_handle *h, const char *path,
                              void *buf, size_t len);

/* For probe: true if the first element of the XML text BUF (LEN bytes,
 * UTF-8 or UTF-16 with a byte order mark) is NAME, after the XML
 * declaration, comments, processing instructions and DOCTYPE.  NAME may
 * have a prefix ("ovf:Envelope"); a NAME without one also matches any
 * prefixed element of that local name.
 */
bool vmc_probe_xml_root(const void *buf, size_t len, const char *name);

/* ---- For applications: loading and using plugins -------------------- */

struct vmc_loaded_plugin;

/* Load every "*.so" file in DIR (or, when DIR is NULL, in
 * $VMCONV_PLUGIN_DIR if set and not empty, else in the compiled-in
 * plugin directory, $libdir/vmconv/plugins).  Hidden files are
 * skipped.  A relative DIR is taken relative to the current directory,
 * but the current directory is never searched implicitly.  Files are
 * loaded in name order.
 *
 * A file that is not a valid plugin is refused with a warning naming
 * it and why (vmc_plugins_refused lists them) and loading goes on:
 * one stale third-party plugin must not stop conversions that don't
 * need it.  Returns 0, or -1 with an error if the directory cannot be
 * read or plugins were already loaded on H.  Plugins stay loaded until
 * vmc_free(H).
 */
int vmc_plugins_load(struct vmc_handle *h, const char *dir);

/* The directory plugins were loaded from (absolute), or NULL. */
const char *vmc_plugins_dir(struct vmc_handle *h);

/* The plugins accepted, in name order of their files. */
size_t vmc_plugin_count(struct vmc_handle *h);
struct vmc_loaded_plugin *vmc_plugin_get(struct vmc_handle *h, size_t i);
/* The plugin called NAME, or NULL (no error set). */
struct vmc_loaded_plugin *vmc_plugin_find(struct vmc_handle *h,
                                          const char *name);

/* The files refused, and why: "FILE: plugin refused: REASON". */
size_t vmc_plugins_refused_count(struct vmc_handle *h);
const char *vmc_plugins_refused(struct vmc_handle *h, size_t i);

const char *vmc_plugin_name(const struct vmc_loaded_plugin *p);
const char *vmc_plugin_version(const struct vmc_loaded_plugin *p);
const char *vmc_plugin_description(const struct vmc_loaded_plugin *p);
const char *vmc_plugin_file(const struct vmc_loaded_plugin *p);
/* The ABI version the plugin was built for. */
unsigned vmc_plugin_api_version(const struct vmc_loaded_plugin *p);
/* The VM model version (VMC_VM_MODEL_VERSION) it was built for: 1 for
 * a plugin built before the field existed.
 */
unsigned vmc_plugin_model_version(const struct vmc_loaded_plugin *p);
/* True if it reads (read or read2), writes, has a finish callback. */
bool vmc_plugin_can_read(const struct vmc_loaded_plugin *p);
bool vmc_plugin_can_write(const struct vmc_loaded_plugin *p);
bool vmc_plugin_can_finish(const struct vmc_loaded_plugin *p);
/* The plugin's config_help text (lines "key=value  what it does"), or
 * NULL if it takes no parameters.
 */
const char *vmc_plugin_config_help(const struct vmc_loaded_plugin *p);
/* The target capabilities the plugin declared, as a struct of this
 * library's size (fields the plugin's struct lacked are 0), or NULL if
 * it declared none.  Valid while the plugin is loaded.
 */
const struct vmc_target_caps *
vmc_plugin_target_caps(const struct vmc_loaded_plugin *p);

/* Call the plugin's callbacks.
 *
 * probe returns 0..100 (calling probe2 with the source's head and
 * tail, or the version 1 probe).
 *
 * read_opts calls read2 (or the version 1 read, which gets no
 * options).  OPTS may be NULL (defaults: no image flags, $TMPDIR or
 * /var/tmp as the work directory, no parameters).  It sets the VM's
 * source_plugin and source_path, and fails with an error if the plugin
 * cannot read or a parameter is not "key=value".
 *
 * write_opts checks OPTS (outdir and a usable name required; disk path
 * arrays, when given, must have one entry per disk of VM) and calls
 * write.  It fails if the plugin cannot write.
 *
 * finish calls the plugin's finish after the caller renamed
 * opts->outdir to opts->final_outdir; it fails without calling it if
 * the output is not in its final place yet.  A plugin without finish
 * succeeds.
 *
 * check calls the plugin's check (options checked as for write_opts);
 * a plugin without one, or one that cannot write, succeeds.
 *
 * vmc_plugin_read and vmc_plugin_write are read_opts and write_opts
 * with default options.
 */
int vmc_plugin_probe(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                     const char *source);
struct vmc_vm *vmc_plugin_read_opts(struct vmc_handle *h,
                                    struct vmc_loaded_plugin *p,
                                    const char *source,
                                    const struct vmc_read_options *opts);
int vmc_plugin_write_opts(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                          const struct vmc_vm *vm,
                          const struct vmc_write_options *opts);
int vmc_plugin_finish(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                      const struct vmc_vm *vm,
                      const struct vmc_write_options *opts);
int vmc_plugin_check(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                     const struct vmc_vm *vm,
                     const struct vmc_write_options *opts);
struct vmc_vm *vmc_plugin_read(struct vmc_handle *h,
                               struct vmc_loaded_plugin *p,
                               const char *source);
int vmc_plugin_write(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                     const struct vmc_vm *vm, const char *outdir,
                     const char *name);

/* Probe SOURCE with every plugin that can read and return the one most
 * sure of it.  Fails with an error if SOURCE (when it is not a URI)
 * does not exist, if no plugin recognises it, or if several share the
 * best confidence (the message lists them).
 */
struct vmc_loaded_plugin *vmc_plugin_for_source(struct vmc_handle *h,
                                                const char *source);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_PLUGIN_H */
