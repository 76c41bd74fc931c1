/* vmconv: the plugin ABI, and the calls applications use to load and
 * drive plugins.  vmconv-plugin(3) is the contract in prose.
 *
 * A plugin is a shared object (vmconv-NAME.so in the plugin directory)
 * teaching vmconv one hypervisor: it recognises that hypervisor's VM
 * configurations (probe), reads one into the neutral VM model (read)
 * and/or writes a VM model out as that hypervisor's configuration
 * (write).  It fills a struct vmc_plugin and registers it:
 *
 *   #include <vmconv/plugin.h>
 *
 *   static struct vmc_plugin plugin = {
 *       .name    = "myhv",
 *       .version = "1.0",
 *       .probe   = myhv_probe,
 *       .read    = myhv_read,
 *   };
 *
 *   VMC_REGISTER_PLUGIN(plugin)
 *
 * ABI rules:
 *  - vmc_plugin_init is the only symbol a plugin exports.  It returns
 *    the plugin's struct, whose first two fields (set by the macro)
 *    tell the loader which struct vmc_plugin the plugin was built with.
 *  - Fields are only ever ADDED AT THE END of struct vmc_plugin and of
 *    struct vmc_write_options.  A plugin built against an older
 *    plugin.h keeps loading: fields it does not have read as NULL.
 *  - VMC_PLUGIN_API_VERSION changes only if the ABI breaks; the loader
 *    refuses plugins built for a newer version than its own.
 *  - Plugins call back into libvmconv only through the public vmc_*
 *    functions of the installed headers (vmconv.h, vm.h, image.h and
 *    this file).  They are not linked against libvmconv: the symbols
 *    come from the vmconv process that loads them.
 */
#ifndef VMCONV_PLUGIN_H
#define VMCONV_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>
#include <vmconv/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMC_PLUGIN_API_VERSION 1

/* What the core passes to a plugin's write callback.  Allocated by the
 * core; _STRUCT_SIZE is the size of the struct the core knows, so a
 * plugin newer than the core tests VMC_WRITE_OPTION_HAS(opts, field)
 * before reading a field added after version 1.
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
};

#define VMC_WRITE_OPTION_HAS(opts, field)                               \
    ((opts)->_struct_size >= offsetof(struct vmc_write_options, field) + \
     sizeof (opts)->field)

struct vmc_plugin {
    /* Set by VMC_REGISTER_PLUGIN; don't set them yourself. */
    uint32_t _struct_size;
    uint32_t _api_version;

    /* Required.  [a-z0-9_-], at most 32 bytes: what users type after
     * --to and see in `vmconv plugins`.  The file is vmconv-NAME.so.
     */
    const char *name;
    /* The plugin's version (PACKAGE_VERSION for in-tree plugins). */
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

    /* Required.  How sure the plugin is that SOURCE (a path, or a URI
     * for plugins that take one) is one of its VMs: 0 = not mine,
     * 100 = certainly mine.  Decide on the content, not the name.
     * Never fails and never sets an error: a source it cannot read
     * is 0.  Must not change anything.
     */
    int (*probe)(struct vmc_handle *h, const char *source);

    /* Read SOURCE into a new VM model (vmc_vm_new(h)).  Returns the VM
     * (the core frees it) or NULL with one error set on H.  Opens the
     * source read-only, and any file it names.  NULL if the plugin
     * cannot read (a target-only plugin).
     */
    struct vmc_vm *(*read)(struct vmc_handle *h, const char *source);

    /* Write VM as this hypervisor's configuration into opts->outdir.
     * VM's disks already point at the converted images.  Returns 0 or
     * -1 with one error set on H.  NULL if the plugin cannot write.
     * A plugin needs at least one of read and write.
     */
    int (*write)(struct vmc_handle *h, const struct vmc_vm *vm,
                 const struct vmc_write_options *opts);

    /* New fields go here, at the end. */
};

#if defined(__GNUC__) || defined(__clang__)
#define VMC_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define VMC_PLUGIN_EXPORT
#endif

/* Register PLUGIN (a static struct vmc_plugin): fills the hidden fields
 * and defines the one exported symbol, vmc_plugin_init.
 */
#define VMC_REGISTER_PLUGIN(plugin)                                     \
    VMC_PLUGIN_EXPORT const struct vmc_plugin *vmc_plugin_init(void);   \
    VMC_PLUGIN_EXPORT const struct vmc_plugin *                         \
    vmc_plugin_init(void)                                               \
    {                                                                   \
        (plugin)._struct_size = sizeof (plugin);                        \
        (plugin)._api_version = VMC_PLUGIN_API_VERSION;                 \
        return &(plugin);                                               \
    }

/* ---- Helpers for plugins ------------------------------------------- */

#include <vmconv/util.h>

/* Read the whole regular file PATH (at most MAX bytes) into a malloc'd,
 * NUL-terminated buffer.  Returns NULL with an error naming PATH.
 */
char *vmc_read_file(struct vmc_handle *h, const char *path, size_t max);

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
bool vmc_plugin_can_read(const struct vmc_loaded_plugin *p);
bool vmc_plugin_can_write(const struct vmc_loaded_plugin *p);

/* Call the plugin's callbacks.  probe returns 0..100.  read sets the
 * VM's source_plugin and source_path; it fails with an error if the
 * plugin cannot read.  write fails if the plugin cannot write.
 */
int vmc_plugin_probe(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                     const char *source);
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
