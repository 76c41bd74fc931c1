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

struct vmc_loaded_plugin {
    char *file;                  /* absolute path, as dlopen'd */
    void *dl;
    struct vmc_plugin p;         /* copy; fields the plugin lacks are 0 */
    uint32_t api_version;
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
    if (p->p.probe == NULL) {
        plugin_refuse(h, set, file, "plugin '%s' has no probe callback",
                      p->p.name);
        return -1;
    }
    if (p->p.read == NULL && p->p.write == NULL) {
        plugin_refuse(h, set, file, "plugin '%s' has neither a read nor a "
                      "write callback", p->p.name);
        return -1;
    }
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

bool
vmc_plugin_can_read(const struct vmc_loaded_plugin *p)
{
    return p->p.read != NULL;
}

bool
vmc_plugin_can_write(const struct vmc_loaded_plugin *p)
{
    return p->p.write != NULL;
}

/* ---- Calling plugins ------------------------------------------------ */

int
vmc_plugin_probe(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                 const char *source)
{
    int r = p->p.probe(h, source);

    if (r < 0 || r > 100) {
        vmc_debug(h, "plugin %s: probe of %s returned %d, outside 0..100",
                  p->p.name, source, r);
        r = r < 0 ? 0 : 100;
    }
    return r;
}

struct vmc_vm *
vmc_plugin_read(struct vmc_handle *h, struct vmc_loaded_plugin *p,
                const char *source)
{
    struct vmc_vm *vm;

    if (p->p.read == NULL) {
        vmc_error(h, "%s: the %s plugin cannot read VMs (it only writes)",
                  source, p->p.name);
        return NULL;
    }
    vmc_clear_error(h);
    vm = p->p.read(h, source);
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
    return vm;
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

    if (p->p.write == NULL) {
        vmc_error(h, "the %s plugin cannot write VMs (it only reads)",
                  p->p.name);
        return -1;
    }
    if (outdir == NULL || *outdir == '\0') {
        vmc_error(h, "%s plugin: no output directory", p->p.name);
        return -1;
    }
    if (name == NULL || *name == '\0' || strchr(name, '/') ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        vmc_error(h, "%s plugin: '%s' cannot name output files", p->p.name,
                  name ? name : "");
        return -1;
    }
    vmc_clear_error(h);
    if (p->p.write(h, vm, &opts) == -1) {
        if (vmc_get_error(h) == NULL)
            vmc_error(h, "%s: the %s plugin failed to write without saying "
                      "why", outdir, p->p.name);
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
    CLEANUP_FREE char *names = NULL;
    size_t nbest = 0, nreaders = 0, i;
    int best_score = 0;
    struct stat st;

    if (strstr(source, "://") == NULL && stat(source, &st) == -1) {
        vmc_error(h, "%s: %m", source);
        return NULL;
    }
    best = calloc(vmc_plugin_count(h) + 1, sizeof *best);
    if (best == NULL) {
        vmc_error(h, "%s: %m", source);
        return NULL;
    }
    for (i = 0; i < vmc_plugin_count(h); i++) {
        struct vmc_loaded_plugin *p = vmc_plugin_get(h, i);
        int score;

        if (p->p.read == NULL)
            continue;
        nreaders++;
        score = vmc_plugin_probe(h, p, source);
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
