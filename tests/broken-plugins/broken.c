/* Plugins for the loader tests: each library in tests/foundation.mk is
 * this file built with one VARIANT_* macro.  Most are broken in exactly
 * one way the loader must refuse; a few are good.
 *
 * Good plugins append "NAME load" / "NAME unload" to the file named by
 * $VMCONV_TEST_PLUGIN_LOG, so tests can see the callbacks run.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

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

static UNUSED struct vmc_plugin plugin = {
    .name = NAME,
    .version = "0",
    .description = "loader test plugin",
    .load = test_load,
    .unload = test_unload,
#ifndef VARIANT_NO_PROBE
    .probe = test_probe,
#endif
#ifndef VARIANT_NO_READ_WRITE
    .read = test_read,
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
    defined(VARIANT_BIGGER)
/* What VMC_REGISTER_PLUGIN does, with one header field wrong (or, for
 * BIGGER, as a plugin built against a future plugin.h with more fields
 * would: that one must load).
 */
VMC_PLUGIN_EXPORT const struct vmc_plugin *vmc_plugin_init(void);
VMC_PLUGIN_EXPORT const struct vmc_plugin *
vmc_plugin_init(void)
{
#if defined(VARIANT_NEWER_ABI)
    plugin._struct_size = sizeof plugin;
    plugin._api_version = VMC_PLUGIN_API_VERSION + 1;
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
