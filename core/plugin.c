/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin loader: finds the plugin directory, loads every "*.so" in
 * it with dlopen, checks each one against the ABI rules of
 * include/vmconv/plugin.h, and drives the plugins' callbacks.
 *
 * Policy: a file that is not a valid plugin is refused with a warning
 * naming it and why, and loading goes on with the others (a stale
 * third-party plugin must not stop conversions that don't need it).
 * `vmconv plugins` reports refusals and exits non-zero, so a broken
 * installation is noticed.
 */
#include <config.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#include "internal.h"

/* The size of version 1's struct vmc_plugin: the smallest a plugin may
 * register.  Fixed forever, whatever fields are added later.
 */
#define PLUGIN_V1_SIZE                                                  \
    (offsetof(struct vmc_plugin, write) +                               \
     sizeof ((struct vmc_plugin *) 0)->write)
#define PLUGIN_NAME_MAX 32

/* The first field of version 2: a struct that does not reach past it
 * was built for VM model 1.
 */
#define PLUGIN_HAS_MODEL_VERSION(pl)                                    \
    VMC_STRUCT_HAS(pl, struct vmc_plugin, _model_version)

/* The smallest struct vmc_target_caps: its first version, every field
 * up to disk_formats.  Fixed forever.
 */
#define CAPS_V1_SIZE                                                    \
    (offsetof(struct vmc_target_caps, disk_formats) +                   \
     sizeof ((struct vmc_target_caps *) 0)->disk_formats)
#define CAPS_MAX_FORMATS 64
#define CAPS_MAX_SUBFORMATS 64

/* The smallest options struct a caller may pass: its first version. */
#define READ_OPTIONS_V1_SIZE                                            \
    (offsetof(struct vmc_read_options, params) +                        \
     sizeof ((struct vmc_read_options *) 0)->params)
#define WRITE_OPTIONS_V1_SIZE                                           \
    (offsetof(struct vmc_write_options, name) +                         \
     sizeof ((struct vmc_write_options *) 0)->name)

struct vmc_loaded_plugin {
    char *file;                  /* absolute path, as dlopen'd */
    void *dl;
    struct vmc_plugin p;         /* copy; fields the plugin lacks are 0 */
    uint32_t api_version;
    uint32_t model_version;
    struct vmc_target_caps caps; /* copy of *p.caps, when set */
    bool loaded;                 /* load() ran: call unload() at the end */
};

struct plugin_set {
    char *dir;
    struct vmc_loaded_plugin **v;
    size_t n;
    char **refused;
    size_t nr_refused;
};

static struct plugin_set *
plugin_set(struct vmc_handle *h)
{
    return h->plugins;
}

static void
plugins_free(struct vmc_handle *h)
{
    struct plugin_set *set = h->plugins;
    size_t i;

    if (set == NULL)
        return;
    for (i = set->n; i-- > 0;) {
        struct vmc_loaded_plugin *p = set->v[i];

        if (p->loaded && p->p.unload)
            p->p.unload(h);
        dlclose(p->dl);
        free(p->file);
        free(p);
    }
    for (i = 0; i < set->nr_refused; i++)
        free(set->refused[i]);
    free(set->refused);
    free(set->v);
    free(set->dir);
    free(set);
    h->plugins = NULL;
}

static void plugin_refuse(struct vmc_handle *h, struct plugin_set *set,
                          const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record and warn "FILE: plugin refused: REASON". */
static void
plugin_refuse(struct vmc_handle *h, struct plugin_set *set, const char *file,
              const char *fmt, ...)
{
    char *reason = NULL;
    char *msg = NULL;
    char **nv;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&reason, fmt, ap);
    va_end(ap);
    if (r == -1 ||
        asprintf(&msg, "%s: plugin refused: %s", file, reason) == -1) {
        free(reason);
        vmc_warning(h, "%s: plugin refused (out of memory)", file);
        return;
    }
    free(reason);
    vmc_warning(h, "%s", msg);
    nv = realloc(set->refused, (set->nr_refused + 1) * sizeof *nv);
    if (nv == NULL) {
        free(msg);
        return;
    }
    set->refused = nv;
    set->refused[set->nr_refused++] = msg;
}

/* True if the file starts with the ELF magic.  Checked before dlopen so
 * a text file named *.so gets a plain message rather than the dynamic
 * linker's.
 */
static int
plugin_is_elf(struct vmc_handle *h, struct plugin_set *set, const char *file)
{
    static const unsigned char magic[4] = { 0x7f, 'E', 'L', 'F' };
    unsigned char buf[4];
    CLEANUP_CLOSE int fd = -1;
    ssize_t r;

    fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd == -1) {
        plugin_refuse(h, set, file, "open: %m");
        return 0;
    }
    r = pread(fd, buf, sizeof buf, 0);
    if (r == -1) {
        plugin_refuse(h, set, file, "read: %m");
        return 0;
    }
    if (r != (ssize_t) sizeof buf || memcmp(buf, magic, sizeof buf) != 0) {
        plugin_refuse(h, set, file, "not an ELF shared object");
        return 0;
    }
    return 1;
}

static bool
plugin_name_valid(const char *name)
{
    size_t i;

    for (i = 0; name[i]; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return i > 0 && i <= PLUGIN_NAME_MAX;
}

static struct vmc_loaded_plugin *
plugin_lookup(struct plugin_set *set, const char *name)
{
    size_t i;

    for (i = 0; i < set->n; i++)
        if (strcmp(set->v[i]->p.name, name) == 0)
            return set->v[i];
    return NULL;
}

/* The enums' name tables as int -> name, for caps_check_mask. */
static const char *bus_name(int v) { return vmc_disk_bus_to_string(v); }
static const char *ctrl_name(int v)
{
    return vmc_controller_model_to_string(v);
}
static const char *nic_name(int v) { return vmc_nic_model_to_string(v); }
static const char *video_name(int v) { return vmc_video_model_to_string(v); }
static const char *fw_name(int v) { return vmc_firmware_to_string(v); }

/* Check that MASK holds only values below LAST, and that DEF is one of
 * them, or 0 ("unknown") when MASK is empty or ANY_DEF.  NAME names a
 * value.  Returns 0, or -1 after refusing FILE.
 */
static int
caps_check_mask(struct vmc_handle *h, struct plugin_set *set,
                const char *file, const char *what, uint64_t mask, int def,
                int last, const char *(*name)(int), bool any_def)
{
    if (last < 64 && (mask >> last) != 0) {
        plugin_refuse(h, set, file, "target capabilities: %s: bit %d is "
                      "not a value this vmconv knows", what,
                      63 - __builtin_clzll(mask));
        return -1;
    }
    if (def == 0 && (mask == 0 || any_def))
        return 0;
    if (def < 0 || def >= last || (mask & VMC_CAP(def)) == 0) {
        plugin_refuse(h, set, file, "target capabilities: the default %s "
                      "'%s' is not among those declared", what,
                      def >= 0 && def < last ? name(def) : "?");
        return -1;
    }
    return 0;
}

/* Check the target capabilities P's plugin declared and copy them into
 * p->caps (reading only their _struct_size bytes).  Returns 0, or -1
 * after refusing FILE.
 */
static int
caps_check(struct vmc_handle *h, struct plugin_set *set, const char *file,
           struct vmc_loaded_plugin *p)
{
    const struct vmc_target_caps *c = p->p.caps;
    size_t size, i, j;

    if (c->_struct_size < CAPS_V1_SIZE) {
        plugin_refuse(h, set, file, "target capabilities struct is %" PRIu32
                      " bytes, smaller than the %zu of its first version",
                      c->_struct_size, (size_t) CAPS_V1_SIZE);
        return -1;
    }
    size = c->_struct_size < sizeof p->caps ? c->_struct_size :
        sizeof p->caps;
    memset(&p->caps, 0, sizeof p->caps);
    memcpy(&p->caps, c, size);
    p->caps._struct_size = sizeof p->caps;
    c = &p->caps;
    if (caps_check_mask(h, set, file, "disk bus", c->disk_buses,
                        (int) c->default_disk_bus, VMC_DISK_BUS_LAST,
                        bus_name, false) == -1 ||
        caps_check_mask(h, set, file, "SCSI controller model",
                        c->controller_models,
                        (int) c->default_scsi_controller,
                        VMC_CONTROLLER_MODEL_LAST, ctrl_name,
                        true) == -1 ||
        caps_check_mask(h, set, file, "NIC model", c->nic_models,
                        (int) c->default_nic_model,
                        VMC_NIC_MODEL_LAST, nic_name, false) == -1 ||
        caps_check_mask(h, set, file, "video model", c->video_models,
                        (int) c->default_video_model,
                        VMC_VIDEO_MODEL_LAST, video_name, false) == -1 ||
        caps_check_mask(h, set, file, "firmware", c->firmware,
                        (int) c->default_firmware,
                        VMC_FIRMWARE_LAST, fw_name, false) == -1)
        return -1;
    /* "unknown" is not something a target can be asked to write. */
    if ((c->disk_buses & VMC_CAP(VMC_DISK_BUS_UNKNOWN)) ||
        (c->nic_models & VMC_CAP(VMC_NIC_MODEL_UNKNOWN)) ||
        (c->video_models & VMC_CAP(VMC_VIDEO_MODEL_UNKNOWN)) ||
        (c->firmware & VMC_CAP(VMC_FIRMWARE_UNKNOWN))) {
        plugin_refuse(h, set, file, "target capabilities: 'unknown' is "
                      "declared as a capability");
        return -1;
    }
    for (i = 0; c->disk_formats && c->disk_formats[i].format; i++) {
        const struct vmc_target_format *f = &c->disk_formats[i];

        if (i >= CAPS_MAX_FORMATS || f->format[0] == '\0') {
            plugin_refuse(h, set, file, "target capabilities: disk format "
                          "%zu: %s", i, i >= CAPS_MAX_FORMATS ?
                          "too many formats" : "the name is empty");
            return -1;
        }
        for (j = 0; f->subformats && f->subformats[j]; j++)
            if (j >= CAPS_MAX_SUBFORMATS || f->subformats[j][0] == '\0') {
                plugin_refuse(h, set, file, "target capabilities: disk "
                              "format %s: subformat %zu: %s", f->format, j,
                              j >= CAPS_MAX_SUBFORMATS ?
                              "too many subformats" : "the name is empty");
                return -1;
            }
    }
    return 0;
}

/* Check the registered struct PL of FILE against the ABI rules and copy
 * it into P.  Returns 0, or -1 after refusing the file.
 */
static int
plugin_check(struct vmc_handle *h, struct plugin_set *set, const char *file,
             const struct vmc_plugin *pl, struct vmc_loaded_plugin *p)
{
    struct vmc_loaded_plugin *other;
    size_t size;

    if (pl == NULL) {
        plugin_refuse(h, set, file, "vmc_plugin_init returned NULL");
        return -1;
    }
    /* The two header fields are at the same place in every version. */
    if (pl->_api_version > VMC_PLUGIN_API_VERSION) {
        plugin_refuse(h, set, file, "built for plugin ABI version %" PRIu32
                      ", newer than this vmconv's (%d): upgrade vmconv",
                      pl->_api_version, VMC_PLUGIN_API_VERSION);
        return -1;
    }
    if (pl->_api_version == 0) {
        plugin_refuse(h, set, file, "plugin ABI version 0 is not valid "
                      "(not registered with VMC_REGISTER_PLUGIN?)");
        return -1;
    }
    if (pl->_struct_size < PLUGIN_V1_SIZE) {
        plugin_refuse(h, set, file, "plugin struct is %" PRIu32 " bytes, "
                      "smaller than the %zu of ABI version 1 (not "
                      "registered with VMC_REGISTER_PLUGIN?)",
                      pl->_struct_size, (size_t) PLUGIN_V1_SIZE);
        return -1;
    }
    /* Read nothing past the plugin's _struct_size: a version 1 plugin
     * has no _model_version.
     */
    p->model_version = PLUGIN_HAS_MODEL_VERSION(pl) ? pl->_model_version : 1;
    if (p->model_version > VMC_VM_MODEL_VERSION) {
        plugin_refuse(h, set, file, "built for a newer vmconv (VM model %"
                      PRIu32 ", this one knows %d): upgrade vmconv",
                      p->model_version, VMC_VM_MODEL_VERSION);
        return -1;
    }
    if (p->model_version == 0) {
        plugin_refuse(h, set, file, "VM model version 0 is not valid (not "
                      "registered with VMC_REGISTER_PLUGIN?)");
        return -1;
    }
    size = pl->_struct_size < sizeof p->p ? pl->_struct_size : sizeof p->p;
    memset(&p->p, 0, sizeof p->p);
    memcpy(&p->p, pl, size);
    p->api_version = pl->_api_version;

    if (p->p.name == NULL || p->p.name[0] == '\0') {
        plugin_refuse(h, set, file, "the plugin has no name");
        return -1;
    }
    if (!plugin_name_valid(p->p.name)) {
        plugin_refuse(h, set, file, "plugin name '%s' is not valid (use "
                      "a-z, 0-9, '-' and '_', at most %d characters)",
                      p->p.name, PLUGIN_NAME_MAX);
        return -1;
    }
    if (p->p.probe == NULL && p->p.probe2 == NULL) {
        plugin_refuse(h, set, file, "plugin '%s' has no probe callback",
                      p->p.name);
        return -1;
    }
    if (p->p.read == NULL && p->p.read2 == NULL && p->p.write == NULL) {
        plugin_refuse(h, set, file, "plugin '%s' has neither a read nor a "
                      "write callback", p->p.name);
        return -1;
    }
    if (p->p.finish && p->p.write == NULL) {
        plugin_refuse(h, set, file, "plugin '%s' has a finish callback but "
                      "no write callback", p->p.name);
        return -1;
    }
    if (p->p.caps && caps_check(h, set, file, p) == -1)
        return -1;
    other = plugin_lookup(set, p->p.name);
    if (other) {
        plugin_refuse(h, set, file, "plugin name '%s' is already taken by %s",
                      p->p.name, other->file);
        return -1;
    }
    return 0;
}

typedef const struct vmc_plugin *(*plugin_init_fn)(void);

/* Load FILE (an absolute path).  A bad plugin is refused, not an
 * error: returns -1 only when out of memory.
 */
static int
plugin_load_one(struct vmc_handle *h, struct plugin_set *set,
                const char *file)
{
    struct vmc_loaded_plugin *p;
    struct vmc_loaded_plugin **nv;
    plugin_init_fn init;
    struct stat st;
    void *dl;

    if (stat(file, &st) == -1) {
        plugin_refuse(h, set, file, "stat: %m");
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        plugin_refuse(h, set, file, "not a regular file");
        return 0;
    }
    if (!plugin_is_elf(h, set, file))
        return 0;
    dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        plugin_refuse(h, set, file, "dlopen: %s", dlerror());
        return 0;
    }
    init = (plugin_init_fn) dlsym(dl, "vmc_plugin_init");
    if (init == NULL) {
        dlclose(dl);
        plugin_refuse(h, set, file,
                      "no vmc_plugin_init symbol: not a vmconv plugin");
        return 0;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL || (p->file = strdup(file)) == NULL) {
        free(p);
        dlclose(dl);
        vmc_error(h, "%s: %m", file);
        return -1;
    }
    p->dl = dl;
    if (plugin_check(h, set, file, init(), p) == -1)
        goto out_refused;
    if (p->p.load) {
        vmc_clear_error(h);
        if (p->p.load(h) == -1) {
            const char *why = vmc_get_error(h);

            plugin_refuse(h, set, file, "plugin '%s' failed to load: %s",
                          p->p.name, why ? why : "no reason given");
            vmc_clear_error(h);
            goto out_refused;
        }
        p->loaded = true;
    }
    nv = realloc(set->v, (set->n + 1) * sizeof *nv);
    if (nv == NULL) {
        vmc_error(h, "%s: %m", file);
        if (p->loaded && p->p.unload)
            p->p.unload(h);
        dlclose(dl);
        free(p->file);
        free(p);
        return -1;
    }
    set->v = nv;
    set->v[set->n++] = p;
    vmc_debug(h, "plugin %s %s (ABI %u) loaded from %s", p->p.name,
              p->p.version ? p->p.version : "", p->api_version, file);
    return 0;

 out_refused:
    dlclose(dl);
    free(p->file);
    free(p);
    return 0;
}

static int
plugin_filter(const struct dirent *d)
{
    size_t len = strlen(d->d_name);

    return d->d_name[0] != '.' && len > 3 &&
        strcmp(d->d_name + len - 3, ".so") == 0;
}

/* The directory to load from: DIR, else $VMCONV_PLUGIN_DIR, else the
 * compiled-in one.  Never "" (which would mean the current directory).
 */
static const char *
plugin_dir_choose(struct vmc_handle *h, const char *dir)
{
    const char *env;

    if (dir) {
        if (*dir == '\0')
            vmc_error(h, "plugin directory: the name is empty");
        return *dir ? dir : NULL;
    }
    env = getenv("VMCONV_PLUGIN_DIR");
    if (env && *env)
        return env;
    return PLUGINDIR;
}

int
vmc_plugins_load(struct vmc_handle *h, const char *dir)
{
    struct plugin_set *set;
    struct dirent **names = NULL;
    char *abs;
    int n, i;
    int r = 0;

    if (h->plugins) {
        vmc_error(h, "plugins are already loaded (from %s)",
                  plugin_set(h)->dir);
        return -1;
    }
    dir = plugin_dir_choose(h, dir);
    if (dir == NULL)
        return -1;
    abs = realpath(dir, NULL);
    if (abs == NULL) {
        vmc_error(h, "plugin directory %s: %m", dir);
        return -1;
    }
    n = scandir(abs, &names, plugin_filter, alphasort);
    if (n == -1) {
        vmc_error(h, "plugin directory %s: %m", abs);
        free(abs);
        return -1;
    }
    set = calloc(1, sizeof *set);
    if (set == NULL) {
        vmc_error(h, "plugin directory %s: %m", abs);
        free(abs);
        for (i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return -1;
    }
    set->dir = abs;
    h->plugins = set;
    h->plugins_free = plugins_free;
    vmc_debug(h, "loading plugins from %s", abs);
    for (i = 0; i < n; i++) {
        CLEANUP_FREE char *file = NULL;

        if (r == 0) {
            /* ABS has a '/', so dlopen never searches its own path. */
            if (asprintf(&file, "%s/%s", abs, names[i]->d_name) == -1) {
                file = NULL;
                vmc_error(h, "plugin directory %s: %m", abs);
                r = -1;
            }
            else if (plugin_load_one(h, set, file) == -1)
                r = -1;
        }
        free(names[i]);
    }
    free(names);
    return r;
}

const char *
vmc_plugins_dir(struct vmc_handle *h)
{
    return h->plugins ? plugin_set(h)->dir : NULL;
}

size_t
vmc_plugin_count(struct vmc_handle *h)
{
    return h->plugins ? plugin_set(h)->n : 0;
}

struct vmc_loaded_plugin *
vmc_plugin_get(struct vmc_handle *h, size_t i)
{
    return i < vmc_plugin_count(h) ? plugin_set(h)->v[i] : NULL;
}

struct vmc_loaded_plugin *
vmc_plugin_find(struct vmc_handle *h, const char *name)
{
    return h->plugins ? plugin_lookup(plugin_set(h), name) : NULL;
}

size_t
vmc_plugins_refused_count(struct vmc_handle *h)
{
    return h->plugins ? plugin_set(h)->nr_refused : 0;
}

const char *
vmc_plugins_refused(struct vmc_handle *h, size_t i)
{
    if (i >= vmc_plugins_refused_count(h))
        return NULL;
    return plugin_set(h)->refused[i];
}

const char *
vmc_plugin_name(const struct vmc_loaded_plugin *p)
{
    return p->p.name;
}

const char *
vmc_plugin_version(const struct vmc_loaded_plugin *p)
{
    return p->p.version;
}

const char *
vmc_plugin_description(const struct vmc_loaded_plugin *p)
{
    return p->p.description;
}

const char *
vmc_plugin_file(const struct vmc_loaded_plugin *p)
{
    return p->file;
}

unsigned
vmc_plugin_api_version(const struct vmc_loaded_plugin *p)
{
    return p->api_version;
}

unsigned
vmc_plugin_model_version(const struct vmc_loaded_plugin *p)
{
    return p->model_version;
}

bool
vmc_plugin_can_read(const struct vmc_loaded_plugin *p)
{
    return p->p.read != NULL || p->p.read2 != NULL;
}

bool
vmc_plugin_can_write(const struct vmc_loaded_plugin *p)
{
    return p->p.write != NULL;
}

bool
vmc_plugin_can_finish(const struct vmc_loaded_plugin *p)
{
    return p->p.finish != NULL;
}

const char *
vmc_plugin_config_help(const struct vmc_loaded_plugin *p)
{
    return p->p.config_help;
}

const struct vmc_target_caps *
vmc_plugin_target_caps(const struct vmc_loaded_plugin *p)
{
    return p->p.caps ? &p->caps : NULL;
}

/* ---- Guest facts ---------------------------------------------------- */

struct vmc_guest_info *
vmc_guest_info_new(struct vmc_handle *h)
{
    struct vmc_guest_info *g = calloc(1, sizeof *g);

    if (g == NULL) {
        vmc_error(h, "guest info: %m");
        return NULL;
    }
    g->_struct_size = sizeof *g;
    return g;
}

void
vmc_guest_info_free(struct vmc_guest_info *g)
{
    if (g == NULL)
        return;
    free(g->os_distro);
    free(g->os_version);
    free(g->os_arch);
    free(g->root_device);
    free(g);
}

/* ---- Calling plugins ------------------------------------------------ */

/* A probe input with its buffers, as vmc_probe_input_new returns it. */
struct probe_owned {
    struct vmc_probe_input in;   /* first: its address is the struct's */
    uint8_t head[VMC_PLUGIN_PROBE_HEAD];
    uint8_t tail[VMC_PLUGIN_PROBE_TAIL];
};

/* Read up to LEN bytes at OFFSET of FD into BUF.  Returns the number
 * read (short only at the end of the file), or -1.
 */
static ptrdiff_t
probe_read_at(int fd, uint8_t *buf, size_t len, uint64_t offset)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t) (offset + got));

        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            return -1;
        if (r == 0)
            break;
        got += (size_t) r;
    }
    return (ptrdiff_t) got;
}

/* Read the first and last bytes of SOURCE into O, if it is a regular
 * file that can be read without blocking (one open: the head, the
 * tail and the size are of the same file).  Anything else leaves
 * O->in.is_file false.  Sets no error.
 */
static void
probe_input_fill(struct vmc_handle *h, const char *source,
                 struct probe_owned *o)
{
    struct vmc_probe_input *in = &o->in;
    CLEANUP_CLOSE int fd = -1;
    struct stat st;
    ptrdiff_t head, tail;
    uint64_t size;

    memset(in, 0, sizeof *in);
    in->_struct_size = sizeof *in;
    in->source = source;
    in->head = o->head;
    in->tail = o->tail;
    if (strstr(source, "://"))
        return;
    fd = open(source, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
        st.st_size < 0) {
        vmc_debug(h, "probe: %s: not a readable regular file", source);
        return;
    }
    size = (uint64_t) st.st_size;
    head = probe_read_at(fd, o->head,
                         size < sizeof o->head ? (size_t) size :
                         sizeof o->head, 0);
    tail = probe_read_at(fd, o->tail,
                         size < sizeof o->tail ? (size_t) size :
                         sizeof o->tail,
                         size < sizeof o->tail ? 0 : size - sizeof o->tail);
    if (head < 0 || tail < 0) {
        vmc_debug(h, "probe: read: %s: %m", source);
        return;
    }
    in->is_file = true;
    in->file_size = size;
    in->head_len = (size_t) head;
    in->tail_len = (size_t) tail;
}

struct vmc_probe_input *
vmc_probe_input_new(struct vmc_handle *h, const char *source)
{
    struct probe_owned *o = malloc(sizeof *o);

    if (o == NULL) {
        vmc_error(h, "%s: %m", source);
        return NULL;
    }
    probe_input_fill(h, source, o);
    return &o->in;
}

void
vmc_probe_input_free(struct vmc_probe_input *in)
{
    /* IN is the first member of its struct probe_owned. */
    free(in);
}

/* Call P's probe with the source as IN describes it. */
static int
plugin_probe_in(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                const struct vmc_probe_input *in)
{
    int r;

    if (p->p.probe2)
        r = p->p.probe2(h, in);
    else
        r = p->p.probe(h, in->source);
    if (r < 0 || r > 100) {
        vmc_debug(h, "plugin %s: probe of %s returned %d, outside 0..100",
                  p->p.name, in->source, r);
        r = r < 0 ? 0 : 100;
    }
    return r;
}

int
vmc_plugin_probe(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                 const char *source)
{
    CLEANUP_FREE struct probe_owned *o = malloc(sizeof *o);

    if (o == NULL) {
        vmc_debug(h, "probe %s: out of memory", source);
        return 0;
    }
    probe_input_fill(h, source, o);
    return plugin_probe_in(h, p, &o->in);
}

/* Check that each of the N PARAMS is "key=value" with a key.  WHAT
 * names the list in the message.  Returns 0 or -1 with an error.
 */
static int
params_check(struct vmc_handle *h, const char *what, size_t n,
             const char *const *params)
{
    size_t i;

    if (n > 0 && params == NULL) {
        vmc_error(h, "%s: %zu parameters given without the list", what, n);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const char *eq = params[i] ? strchr(params[i], '=') : NULL;

        if (eq == NULL || eq == params[i]) {
            vmc_error(h, "%s: parameter '%s' is not key=value", what,
                      params[i] ? params[i] : "(null)");
            return -1;
        }
    }
    return 0;
}

/* Copy the caller's options CALLER (of the caller's _struct_size) into
 * OUT, the core's own struct.  CALLER may be NULL.  Returns 0, or -1
 * with an error if CALLER is smaller than the struct's first version.
 */
static int
read_options_copy(struct vmc_handle *h, const char *source,
                  const struct vmc_read_options *caller,
                  struct vmc_read_options *out)
{
    size_t size;

    memset(out, 0, sizeof *out);
    if (caller) {
        if (caller->_struct_size < READ_OPTIONS_V1_SIZE) {
            vmc_error(h, "%s: read options: _struct_size %" PRIu32 " is "
                      "smaller than the %zu of their first version", source,
                      caller->_struct_size, (size_t) READ_OPTIONS_V1_SIZE);
            return -1;
        }
        size = caller->_struct_size < sizeof *out ? caller->_struct_size :
            sizeof *out;
        memcpy(out, caller, size);
    }
    out->_struct_size = sizeof *out;
    out->image_flags &= ~VMC_IMAGE_RDWR;
    if (out->workdir == NULL || *out->workdir == '\0') {
        const char *tmp = getenv("TMPDIR");

        out->workdir = tmp && *tmp ? tmp : "/var/tmp";
    }
    return params_check(h, source, out->nr_params, out->params);
}

struct vmc_vm *
vmc_plugin_read_opts(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                     const char *source, const struct vmc_read_options *opts)
{
    struct vmc_read_options o;
    struct vmc_vm *vm;

    if (!vmc_plugin_can_read(p)) {
        vmc_error(h, "%s: the %s plugin cannot read VMs (it only writes)",
                  source, p->p.name);
        return NULL;
    }
    if (read_options_copy(h, source, opts, &o) == -1)
        return NULL;
    if (p->p.read2 == NULL && o.nr_params > 0) {
        vmc_error(h, "%s: the %s plugin takes no parameters ('%s' given)",
                  source, p->p.name, o.params[0]);
        return NULL;
    }
    vmc_clear_error(h);
    vm = p->p.read2 ? p->p.read2(h, source, &o) : p->p.read(h, source);
    if (vm == NULL) {
        if (vmc_get_error(h) == NULL)
            vmc_error(h, "%s: the %s plugin failed to read it without "
                      "saying why", source, p->p.name);
        return NULL;
    }
    if (vmc_vm_set_string(vm, &vm->source_plugin, p->p.name) == -1 ||
        vmc_vm_set_string(vm, &vm->source_path, source) == -1) {
        vmc_vm_free(vm);
        return NULL;
    }
    /* Whatever the plugin filled, the rest of vmconv sees a consistent
     * model: controllers listed for readers that only set the disks'
     * fields, and no two disks in one slot, no duplicate boot order or
     * MAC (the error names the source and the element).
     */
    if (vmc_vm_sync_controllers(vm) == -1 || vmc_vm_check(vm) == -1) {
        vmc_vm_free(vm);
        return NULL;
    }
    return vm;
}

struct vmc_vm *
vmc_plugin_read(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                const char *source)
{
    return vmc_plugin_read_opts(h, p, source, NULL);
}

/* Copy the caller's write options CALLER into OUT (the core's struct)
 * and check them against VM.  Returns 0 or -1 with an error.
 */
static int
write_options_copy(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                   const struct vmc_vm *vm,
                   const struct vmc_write_options *caller,
                   struct vmc_write_options *out)
{
    const char *name;
    size_t size;

    if (caller == NULL || caller->_struct_size < WRITE_OPTIONS_V1_SIZE) {
        vmc_error(h, "%s plugin: write options: %s", p->p.name,
                  caller ? "_struct_size is smaller than their first "
                  "version's" : "none given");
        return -1;
    }
    memset(out, 0, sizeof *out);
    size = caller->_struct_size < sizeof *out ? caller->_struct_size :
        sizeof *out;
    memcpy(out, caller, size);
    out->_struct_size = sizeof *out;
    if (out->outdir == NULL || *out->outdir == '\0') {
        vmc_error(h, "%s plugin: no output directory", p->p.name);
        return -1;
    }
    name = out->name;
    if (name == NULL || *name == '\0' || strchr(name, '/') ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        vmc_error(h, "%s plugin: '%s' cannot name output files", p->p.name,
                  name ? name : "");
        return -1;
    }
    if (out->final_outdir == NULL || *out->final_outdir == '\0')
        out->final_outdir = out->outdir;
    if (out->nr_disks != 0 &&
        (vm == NULL || out->nr_disks != vm->nr_disks ||
         out->disk_tmp_paths == NULL || out->disk_final_paths == NULL)) {
        vmc_error(h, "%s: write options: %zu disk paths given for a VM "
                  "with %zu disks", out->outdir, out->nr_disks,
                  vm ? vm->nr_disks : 0);
        return -1;
    }
    if (out->nr_disks == 0) {
        out->disk_tmp_paths = NULL;
        out->disk_final_paths = NULL;
    }
    if (out->guest && out->guest->_struct_size < offsetof(struct
                                                          vmc_guest_info,
                                                          os_distro)) {
        vmc_error(h, "%s: write options: the guest info is not valid "
                  "(make it with vmc_guest_info_new)", out->outdir);
        return -1;
    }
    return params_check(h, out->outdir, out->nr_params, out->params);
}

int
vmc_plugin_write_opts(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                      const struct vmc_vm *vm,
                      const struct vmc_write_options *opts)
{
    struct vmc_write_options o;

    if (p->p.write == NULL) {
        vmc_error(h, "the %s plugin cannot write VMs (it only reads)",
                  p->p.name);
        return -1;
    }
    if (write_options_copy(h, p, vm, opts, &o) == -1)
        return -1;
    /* A target plugin may rely on the model being consistent. */
    if (vm && vmc_vm_check(vm) == -1)
        return -1;
    vmc_clear_error(h);
    if (p->p.write(h, vm, &o) == -1) {
        if (vmc_get_error(h) == NULL)
            vmc_error(h, "%s: the %s plugin failed to write without saying "
                      "why", o.outdir, p->p.name);
        return -1;
    }
    return 0;
}

int
vmc_plugin_write(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                 const struct vmc_vm *vm, const char *outdir,
                 const char *name)
{
    struct vmc_write_options opts = {
        ._struct_size = sizeof opts,
        .outdir = outdir,
        .name = name,
    };

    return vmc_plugin_write_opts(h, p, vm, &opts);
}

int
vmc_plugin_check(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                 const struct vmc_vm *vm,
                 const struct vmc_write_options *opts)
{
    struct vmc_write_options o;

    if (p->p.write == NULL || p->p.check == NULL)
        return 0;
    if (write_options_copy(h, p, vm, opts, &o) == -1)
        return -1;
    vmc_clear_error(h);
    if (p->p.check(h, vm, &o) == -1) {
        if (vmc_get_error(h) == NULL)
            vmc_error(h, "%s: the %s plugin refused the VM without saying "
                      "why", o.outdir, p->p.name);
        return -1;
    }
    return 0;
}

int
vmc_plugin_finish(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                  const struct vmc_vm *vm,
                  const struct vmc_write_options *opts)
{
    struct vmc_write_options o;
    struct stat st;

    if (p->p.write == NULL) {
        vmc_error(h, "the %s plugin cannot write VMs (it only reads)",
                  p->p.name);
        return -1;
    }
    if (write_options_copy(h, p, vm, opts, &o) == -1)
        return -1;
    /* finish may define the VM from the files: they must be where they
     * will stay.
     */
    if (stat(o.final_outdir, &st) == -1) {
        vmc_error(h, "%s: cannot finish the %s output: %m", o.final_outdir,
                  p->p.name);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        vmc_error(h, "%s: cannot finish the %s output: not a directory",
                  o.final_outdir, p->p.name);
        return -1;
    }
    if (strcmp(o.final_outdir, o.outdir) != 0 &&
        lstat(o.outdir, &st) == 0) {
        vmc_error(h, "%s: the %s plugin's finish must run after the output "
                  "was renamed to %s", o.outdir, p->p.name, o.final_outdir);
        return -1;
    }
    if (p->p.finish == NULL)
        return 0;
    vmc_clear_error(h);
    if (p->p.finish(h, vm, &o) == -1) {
        if (vmc_get_error(h) == NULL)
            vmc_error(h, "%s: the %s plugin failed to finish without saying "
                      "why", o.final_outdir, p->p.name);
        return -1;
    }
    return 0;
}

/* "a, b and c" of the plugins in V (N of them). */
static char *
plugin_list(struct vmc_loaded_plugin **v, size_t n)
{
    char *s = NULL;
    size_t len = 1, i;

    for (i = 0; i < n; i++)
        len += strlen(v[i]->p.name) + 5;
    s = malloc(len);
    if (s == NULL)
        return NULL;
    *s = '\0';
    for (i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, i == n - 1 ? " and " : ", ");
        strcat(s, v[i]->p.name);
    }
    return s;
}

struct vmc_loaded_plugin *
vmc_plugin_for_source(struct vmc_handle *h, const char *source)
{
    CLEANUP_FREE struct vmc_loaded_plugin **best = NULL;
    CLEANUP_FREE struct probe_owned *o = NULL;
    CLEANUP_FREE char *names = NULL;
    size_t nbest = 0, nreaders = 0, i;
    int best_score = 0;
    struct stat st;

    if (strstr(source, "://") == NULL && stat(source, &st) == -1) {
        vmc_error(h, "%s: %m", source);
        return NULL;
    }
    best = calloc(vmc_plugin_count(h) + 1, sizeof *best);
    o = malloc(sizeof *o);
    if (best == NULL || o == NULL) {
        vmc_error(h, "%s: %m", source);
        return NULL;
    }
    /* Read once; every plugin probes the same bytes. */
    probe_input_fill(h, source, o);
    for (i = 0; i < vmc_plugin_count(h); i++) {
        struct vmc_loaded_plugin *p = vmc_plugin_get(h, i);
        int score;

        if (!vmc_plugin_can_read(p))
            continue;
        nreaders++;
        score = plugin_probe_in(h, p, &o->in);
        vmc_debug(h, "probe %s: %s plugin: %d", source, p->p.name, score);
        if (score == 0 || score < best_score)
            continue;
        if (score > best_score)
            nbest = 0;
        best_score = score;
        best[nbest++] = p;
    }
    if (nreaders == 0) {
        vmc_error(h, "%s: no plugin can read VMs (none loaded from %s)",
                  source, vmc_plugins_dir(h) ? vmc_plugins_dir(h) : "?");
        return NULL;
    }
    if (nbest == 0) {
        vmc_error(h, "%s: no plugin recognises this source", source);
        return NULL;
    }
    if (nbest > 1) {
        names = plugin_list(best, nbest);
        vmc_error(h, "%s: the %s plugins recognise this source equally "
                  "(confidence %d): choose one", source,
                  names ? names : "?", best_score);
        return NULL;
    }
    return best[0];
}
