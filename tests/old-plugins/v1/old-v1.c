/* A plugin frozen at plugin ABI version 1 / VM model 1, in the manner
 * of nbdkit's tests/old-plugins: built against the copy of the public
 * headers kept beside it (include/vmconv/, as they were when the ABI
 * was first published), never against the tree's include/.  Today's
 * loader must keep loading it and reading and writing through it.
 * Never edit the headers in include/; add a v2/ beside this when a
 * later ABI needs the same guard.
 *
 * Its format, one "key=value" a line after the magic line:
 *
 *   old-v1
 *   name=web
 *   vcpus=2
 *   memory=1073741824
 *   disk=/path/to/disk.qcow2
 *
 * Built twice (tests/foundation.mk): as is, registered with the old
 * VMC_REGISTER_PLUGIN, and with OLD_GUARD_PAGE, where its struct ends
 * exactly at a page the process cannot touch: a loader reading any
 * byte past the version 1 struct (_struct_size) crashes, with or
 * without valgrind.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#ifdef OLD_GUARD_PAGE
#define NAME "old-v1-guard"
#else
#define NAME "old-v1"
#endif
#define MAGIC "old-v1\n"
#define MAX_SIZE 65536

static int
old_probe(struct vmc_handle *h, const char *source)
{
    char head[16];
    ptrdiff_t n = vmc_probe_read_head(h, source, head, sizeof head);

    if (n < (ptrdiff_t) strlen(MAGIC) ||
        memcmp(head, MAGIC, strlen(MAGIC)) != 0)
        return 0;
    return 100;
}

static int
old_parse_line(struct vmc_vm *vm, const char *source, char *line)
{
    char *eq = strchr(line, '=');
    struct vmc_disk *d;

    if (eq == NULL) {
        vmc_error(vm->h, "%s: '%s' is not key=value", source, line);
        return -1;
    }
    *eq++ = '\0';
    if (strcmp(line, "name") == 0)
        return vmc_vm_set_string(vm, &vm->name, eq);
    if (strcmp(line, "vcpus") == 0) {
        vm->vcpus = (unsigned) strtoul(eq, NULL, 10);
        return 0;
    }
    if (strcmp(line, "memory") == 0) {
        vm->memory = strtoull(eq, NULL, 10);
        return 0;
    }
    if (strcmp(line, "disk") == 0) {
        d = vmc_vm_add_disk(vm);
        if (d == NULL)
            return -1;
        d->bus = VMC_DISK_BUS_SATA;
        d->boot_order = (unsigned) vm->nr_disks;
        return vmc_vm_set_string(vm, &d->path, eq);
    }
    vmc_error(vm->h, "%s: unknown key '%s'", source, line);
    return -1;
}

static struct vmc_vm *
old_read(struct vmc_handle *h, const char *source)
{
    char *text, *line, *next;
    struct vmc_vm *vm;

    text = vmc_read_file(h, source, MAX_SIZE);
    if (text == NULL)
        return NULL;
    if (strncmp(text, MAGIC, strlen(MAGIC)) != 0) {
        vmc_error(h, "%s: not an old-v1 file", source);
        free(text);
        return NULL;
    }
    vm = vmc_vm_new(h);
    if (vm == NULL) {
        free(text);
        return NULL;
    }
    vm->firmware = VMC_FIRMWARE_BIOS;
    for (line = text + strlen(MAGIC); *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        else
            next = line + strlen(line);
        if (*line && old_parse_line(vm, source, line) == -1) {
            vmc_vm_free(vm);
            vm = NULL;
            break;
        }
    }
    free(text);
    return vm;
}

static int
old_write(struct vmc_handle *h, const struct vmc_vm *vm,
          const struct vmc_write_options *opts)
{
    char path[4096];
    FILE *fp;
    size_t i;

    snprintf(path, sizeof path, "%s/%s.old", opts->outdir, opts->name);
    fp = fopen(path, "wx");
    if (fp == NULL) {
        vmc_error(h, "create: %s: %m", path);
        return -1;
    }
    fprintf(fp, "%sname=%s\nvcpus=%u\nmemory=%" PRIu64 "\n", MAGIC,
            vm->name ? vm->name : opts->name, vm->vcpus, vm->memory);
    for (i = 0; i < vm->nr_disks; i++)
        fprintf(fp, "disk=%s\n", vm->disks[i]->path ? vm->disks[i]->path :
                "");
    if (fclose(fp) != 0) {
        vmc_error(h, "write: %s: %m", path);
        unlink(path);
        return -1;
    }
    return 0;
}

static struct vmc_plugin plugin = {
    .name        = NAME,
    .version     = "1.0",
    .description = "a plugin frozen at ABI version 1",
    .probe       = old_probe,
    .read        = old_read,
    .write       = old_write,
};

#ifndef OLD_GUARD_PAGE
VMC_REGISTER_PLUGIN(plugin)
#else
/* What version 1's VMC_REGISTER_PLUGIN does, with the struct copied
 * to the end of a readable page followed by an inaccessible one.
 */
VMC_PLUGIN_EXPORT const struct vmc_plugin *vmc_plugin_init(void);
VMC_PLUGIN_EXPORT const struct vmc_plugin *
vmc_plugin_init(void)
{
    static struct vmc_plugin *guarded;
    long page = sysconf(_SC_PAGESIZE);
    char *map;

    if (guarded)
        return guarded;
    plugin._struct_size = sizeof plugin;
    plugin._api_version = VMC_PLUGIN_API_VERSION;
    map = mmap(NULL, 2 * (size_t) page, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED ||
        mprotect(map + page, (size_t) page, PROT_NONE) == -1)
        return NULL;
    guarded = (struct vmc_plugin *) (map + page - sizeof plugin);
    memcpy(guarded, &plugin, sizeof plugin);
    return guarded;
}
#endif
