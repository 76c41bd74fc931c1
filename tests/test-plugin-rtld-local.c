/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A program that loads libvmconv itself with dlopen(RTLD_LOCAL), as
 * Python's ctypes does, can load plugins: they are linked against
 * libvmconv (-z defs), so their vmc_* calls do not depend on the
 * library's symbols being global.  Not linked with libvmconv: it gets
 * the library's path in $LIBVMCONV and the plugin directory in
 * $VMCONV_PLUGIN_DIR.  Exits 0 when the example plugin loads and
 * reads the sample.
 */
#include <config.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmconv/plugin.h>

#define SYM(name) \
    __typeof__(name) *p_##name = (__typeof__(name) *) dlsym(lib, #name)

int
main(void)
{
    const char *path = getenv("LIBVMCONV");
    const char *dir = getenv("VMCONV_PLUGIN_DIR");
    const char *sample = getenv("SAMPLE");
    struct vmc_handle *h;
    struct vmc_loaded_plugin *p;
    struct vmc_vm *vm;
    void *lib;

    if (path == NULL || dir == NULL || sample == NULL) {
        fprintf(stderr, "set LIBVMCONV, VMCONV_PLUGIN_DIR and SAMPLE\n");
        return 2;
    }
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    {
        SYM(vmc_new);
        SYM(vmc_free);
        SYM(vmc_get_error);
        SYM(vmc_plugins_load);
        SYM(vmc_plugins_refused_count);
        SYM(vmc_plugins_refused);
        SYM(vmc_plugin_find);
        SYM(vmc_plugin_read);
        SYM(vmc_vm_free);

        if (!p_vmc_new || !p_vmc_free || !p_vmc_get_error ||
            !p_vmc_plugins_load || !p_vmc_plugins_refused_count ||
            !p_vmc_plugins_refused || !p_vmc_plugin_find ||
            !p_vmc_plugin_read || !p_vmc_vm_free) {
            fprintf(stderr, "dlsym: %s\n", dlerror());
            return 1;
        }
        h = p_vmc_new();
        if (h == NULL || p_vmc_plugins_load(h, dir) == -1) {
            fprintf(stderr, "load: %s\n", h ? p_vmc_get_error(h) : "?");
            return 1;
        }
        if (p_vmc_plugins_refused_count(h) > 0) {
            fprintf(stderr, "%s\n", p_vmc_plugins_refused(h, 0));
            return 1;
        }
        p = p_vmc_plugin_find(h, "example");
        vm = p ? p_vmc_plugin_read(h, p, sample) : NULL;
        if (vm == NULL) {
            fprintf(stderr, "read: %s\n", p ? p_vmc_get_error(h) :
                    "no example plugin");
            return 1;
        }
        printf("%s\n", vm->name);
        p_vmc_vm_free(vm);
        p_vmc_free(h);
    }
    return 0;
}
