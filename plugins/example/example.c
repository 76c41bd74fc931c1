/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv example plugin: the starting point for a new hypervisor.
 *
 * This plugin teaches vmconv a tiny text format, the "example VM
 * description" (files named *.vmconv-example), so that it has something
 * real to read and write without any hypervisor installed:
 *
 *   vmconv-example 1
 *   # comments start with '#'
 *   name = demo
 *   firmware = uefi
 *   vcpus = 2
 *   memory = 2G
 *
 *   [disk]
 *   file = demo.qcow2
 *   bus = virtio
 *   boot = 1
 *
 *   [nic]
 *   mac = 52:54:00:12:34:56
 *   network = default
 *
 * vmconv-example-plugin(1) lists every key.  `vmconv inspect
 * samples/example/demo.vmconv-example` shows what this plugin reads.
 *
 * To start a plugin for another hypervisor:
 *
 *  1. Copy this folder to plugins/NAME/ and rename example.c to NAME.c
 *     and the man page to vmconv-NAME-plugin.pod.
 *  2. In plugins/NAME/Makefile.am replace "example" by NAME.
 *  3. Add NAME to SUBDIRS in plugins/Makefile.am and plugins/NAME/Makefile
 *     to AC_CONFIG_FILES in configure.ac.
 *  4. Replace the parser and the writer below; keep the shape: probe
 *     decides on content, read fills a struct vmc_vm, write emits files.
 *
 * Outside the source tree it builds with the installed headers and
 * common/cleanup.{c,h} copied beside it:
 *
 *   cc -shared -fPIC -fvisibility=hidden -I. -o vmconv-example.so \
 *      example.c cleanup.c $(pkg-config --cflags --libs vmconv) -Wl,-z,defs
 *
 * Rules every plugin keeps (vmconv-plugin(3) has them all):
 *  - Only the public headers: <vmconv/plugin.h> (which includes
 *    <vmconv/vm.h>, <vmconv/image.h>, <vmconv/version.h>,
 *    <vmconv/vmconv.h> and the helpers of <vmconv/util.h>); and
 *    common/ (CLEANUP_*, XML writer macros), linked in statically,
 *    outside the ABI.
 *  - Everything read from a source is hostile: check every value,
 *    bound every size, and give one clear error naming the file and the
 *    line or key, then return NULL / -1.  Never crash, never guess.
 *  - Report errors with vmc_error exactly once, where the problem is
 *    found; callers just return.  Never print.
 *  - Never write to the source.  Write only inside opts->outdir.
 */
/* asprintf; an in-tree plugin would get this from config.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#include "cleanup.h"          /* common/: CLEANUP_FREE, no ABI */

/* The first line of every file, then the format version. */
#define EXAMPLE_MAGIC "vmconv-example "
#define EXAMPLE_VERSION 1
/* Descriptions are small: refuse anything bigger before reading it. */
#define EXAMPLE_MAX_SIZE (1024 * 1024)
#define EXAMPLE_SUFFIX ".vmconv-example"

/* ---- Probe ------------------------------------------------------------ */

/* Recognise a source by its content, never by its name alone: the
 * first line is "vmconv-example N".  100 means certain.  The core has
 * already read the start of the file (IN->head); probe must not fail
 * or set an error: anything it cannot read is simply not ours.
 */
static int
example_probe(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    const char *head = (const char *) in->head;
    size_t len = strlen(EXAMPLE_MAGIC);

    if (!in->is_file || in->head_len < len + 1)
        return 0;
    if (memcmp(head, EXAMPLE_MAGIC, len) != 0)
        return 0;
    if (head[len] < '0' || head[len] > '9')
        return 0;
    return 100;
}

/* ---- Parsing values --------------------------------------------------- */

/* Where the parser is, for error messages: "FILE: line N: ...". */
struct example_parser {
    struct vmc_handle *h;
    const char *path;
    const char *dir;             /* directory of PATH, for relative files */
    unsigned line;
    struct vmc_vm *vm;
    struct vmc_disk *disk;       /* the [disk] being read, or NULL */
    struct vmc_nic *nic;         /* the [nic] being read, or NULL */
};

/* A size: vmc_parse_size_what parses it and names the file, the line
 * and the key in its error.
 */
static int
example_parse_size(struct example_parser *p, const char *key,
                   const char *value, uint64_t *out)
{
    char what[PATH_MAX + 64];

    snprintf(what, sizeof what, "%s: line %u: %s", p->path, p->line, key);
    return vmc_parse_size_what(p->h, what, value, out);
}

/* A small count (vCPUs, a boot position ...): 0 .. MAX, digits only. */
static int
example_parse_uint(struct example_parser *p, const char *key,
                   const char *value, unsigned max, unsigned *out)
{
    uint64_t v = 0;
    const char *s;

    for (s = value; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t) (*s - '0');
        if (v > max) {
            vmc_error(p->h, "%s: line %u: %s: %s is more than %u",
                      p->path, p->line, key, value, max);
            return -1;
        }
    }
    if (s == value || *s != '\0') {
        vmc_error(p->h, "%s: line %u: %s: '%s' is not a number", p->path,
                  p->line, key, value);
        return -1;
    }
    *out = (unsigned) v;
    return 0;
}

static int
example_parse_bool(struct example_parser *p, const char *key,
                   const char *value, bool *out)
{
    if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
        *out = true;
    else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
        *out = false;
    else {
        vmc_error(p->h, "%s: line %u: %s: '%s' is not yes or no", p->path,
                  p->line, key, value);
        return -1;
    }
    return 0;
}

/* Enum values use the names of vmconv's own tables (vm.h), so the
 * example format and vmconv's JSON spell them the same way.
 * FROM_STRING is one of the vmc_*_from_string functions.
 */
static int
example_parse_enum(struct example_parser *p, const char *key,
                   const char *value, int (*from_string)(const char *),
                   int *out)
{
    int v = from_string(value);

    if (v == -1) {
        vmc_error(p->h, "%s: line %u: %s: '%s' is not a known value",
                  p->path, p->line, key, value);
        return -1;
    }
    *out = v;
    return 0;
}

/* A disk file named relative to the description is made absolute, so
 * the model never depends on the current directory.
 */
static int
example_set_file(struct example_parser *p, const char *value)
{
    char *abs = NULL;
    int r;

    if (value[0] == '/')
        return vmc_vm_set_string(p->vm, &p->disk->path, value);
    if (asprintf(&abs, "%s/%s", p->dir, value) == -1) {
        vmc_error(p->h, "%s: %m", p->path);
        return -1;
    }
    r = vmc_vm_set_string(p->vm, &p->disk->path, abs);
    free(abs);
    return r;
}

/* ---- One key of each section ----------------------------------------- */

static int
example_vm_key(struct example_parser *p, const char *key, const char *value)
{
    struct vmc_vm *vm = p->vm;
    char id[VMC_UUID_LEN + 1];
    int e;

    if (strcmp(key, "name") == 0)
        return vmc_vm_set_string(vm, &vm->name, value);
    if (strcmp(key, "uuid") == 0) {
        if (vmc_uuid_normalize(value, id) == -1) {
            vmc_error(p->h, "%s: line %u: uuid: '%s' is not a UUID",
                      p->path, p->line, value);
            return -1;
        }
        return vmc_vm_set_string(vm, &vm->uuid, id);
    }
    if (strcmp(key, "description") == 0)
        return vmc_vm_set_string(vm, &vm->description, value);
    if (strcmp(key, "firmware") == 0) {
        if (example_parse_enum(p, key, value, vmc_firmware_from_string,
                               &e) == -1)
            return -1;
        vm->firmware = e;
        return 0;
    }
    if (strcmp(key, "secure-boot") == 0)
        return example_parse_bool(p, key, value, &vm->secure_boot);
    if (strcmp(key, "machine") == 0)
        return vmc_vm_set_string(vm, &vm->machine, value);
    if (strcmp(key, "vcpus") == 0)
        return example_parse_uint(p, key, value, 4096, &vm->vcpus);
    if (strcmp(key, "sockets") == 0)
        return example_parse_uint(p, key, value, 4096, &vm->cpu_sockets);
    if (strcmp(key, "cores") == 0)
        return example_parse_uint(p, key, value, 4096, &vm->cpu_cores);
    if (strcmp(key, "threads") == 0)
        return example_parse_uint(p, key, value, 4096, &vm->cpu_threads);
    if (strcmp(key, "memory") == 0)
        return example_parse_size(p, key, value, &vm->memory);
    if (strcmp(key, "os") == 0) {
        if (example_parse_enum(p, key, value, vmc_os_family_from_string,
                               &e) == -1)
            return -1;
        vm->os_family = e;
        return 0;
    }
    if (strcmp(key, "distro") == 0)
        return vmc_vm_set_string(vm, &vm->os_distro, value);
    if (strcmp(key, "os-version") == 0)
        return vmc_vm_set_string(vm, &vm->os_version, value);
    if (strcmp(key, "arch") == 0)
        return vmc_vm_set_string(vm, &vm->os_arch, value);
    if (strcmp(key, "video") == 0) {
        if (example_parse_enum(p, key, value, vmc_video_model_from_string,
                               &e) == -1)
            return -1;
        vm->video = e;
        return 0;
    }
    if (strcmp(key, "vram") == 0)
        return example_parse_size(p, key, value, &vm->vram);
    vmc_error(p->h, "%s: line %u: unknown key '%s'", p->path, p->line, key);
    return -1;
}

static int
example_disk_key(struct example_parser *p, const char *key,
                 const char *value)
{
    struct vmc_disk *d = p->disk;
    int e;

    if (strcmp(key, "file") == 0)
        return example_set_file(p, value);
    if (strcmp(key, "format") == 0)
        return vmc_vm_set_string(p->vm, &d->format, value);
    if (strcmp(key, "size") == 0)
        return example_parse_size(p, key, value, &d->virtual_size);
    if (strcmp(key, "device") == 0) {
        if (example_parse_enum(p, key, value, vmc_disk_device_from_string,
                               &e) == -1)
            return -1;
        d->device = e;
        return 0;
    }
    if (strcmp(key, "bus") == 0) {
        if (example_parse_enum(p, key, value, vmc_disk_bus_from_string,
                               &e) == -1)
            return -1;
        d->bus = e;
        return 0;
    }
    if (strcmp(key, "controller-model") == 0) {
        if (example_parse_enum(p, key, value,
                               vmc_controller_model_from_string, &e) == -1)
            return -1;
        d->controller_model = e;
        return 0;
    }
    /* 0 is a real slot: without these keys the address is unknown
     * (-1, as vmc_vm_add_disk left it).
     */
    if (strcmp(key, "controller") == 0 || strcmp(key, "unit") == 0) {
        unsigned u;

        if (example_parse_uint(p, key, value, 255, &u) == -1)
            return -1;
        *(key[0] == 'c' ? &d->controller : &d->unit) = (int) u;
        return 0;
    }
    if (strcmp(key, "boot") == 0)
        return example_parse_uint(p, key, value, 255, &d->boot_order);
    if (strcmp(key, "readonly") == 0)
        return example_parse_bool(p, key, value, &d->readonly);
    if (strcmp(key, "shareable") == 0)
        return example_parse_bool(p, key, value, &d->shareable);
    vmc_error(p->h, "%s: line %u: unknown key '%s' in [disk]", p->path,
              p->line, key);
    return -1;
}

static int
example_nic_key(struct example_parser *p, const char *key, const char *value)
{
    struct vmc_nic *n = p->nic;
    char mac[VMC_MAC_LEN + 1];
    int e;

    if (strcmp(key, "mac") == 0) {
        if (vmc_mac_normalize(value, mac) == -1) {
            vmc_error(p->h, "%s: line %u: mac: '%s' is not a MAC address",
                      p->path, p->line, value);
            return -1;
        }
        return vmc_vm_set_string(p->vm, &n->mac, mac);
    }
    if (strcmp(key, "model") == 0) {
        if (example_parse_enum(p, key, value, vmc_nic_model_from_string,
                               &e) == -1)
            return -1;
        n->model = e;
        return 0;
    }
    if (strcmp(key, "network") == 0 || strcmp(key, "bridge") == 0) {
        if (n->network) {
            vmc_error(p->h, "%s: line %u: a [nic] has one network or bridge",
                      p->path, p->line);
            return -1;
        }
        n->net_type = key[0] == 'n' ? VMC_NET_TYPE_NETWORK :
            VMC_NET_TYPE_BRIDGE;
        return vmc_vm_set_string(p->vm, &n->network, value);
    }
    vmc_error(p->h, "%s: line %u: unknown key '%s' in [nic]", p->path,
              p->line, key);
    return -1;
}

/* ---- Lines ------------------------------------------------------------ */

/* Trim spaces and tabs at both ends of S, in place. */
static char *
example_trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

/* One line (without its newline): a comment, a blank, a [section] or
 * "key = value".
 */
static int
example_parse_line(struct example_parser *p, char *line)
{
    char *eq, *key, *value;

    line = example_trim(line);
    if (*line == '\0' || *line == '#')
        return 0;
    /* The model refuses too many disks or NICs too, but here the
     * message can say where.
     */
    if (strcmp(line, "[disk]") == 0) {
        if (p->vm->nr_disks >= VMC_VM_MAX_DISKS) {
            vmc_error(p->h, "%s: line %u: more than %d disks", p->path,
                      p->line, VMC_VM_MAX_DISKS);
            return -1;
        }
        p->nic = NULL;
        p->disk = vmc_vm_add_disk(p->vm);
        return p->disk ? 0 : -1;
    }
    if (strcmp(line, "[nic]") == 0) {
        if (p->vm->nr_nics >= VMC_VM_MAX_NICS) {
            vmc_error(p->h, "%s: line %u: more than %d NICs", p->path,
                      p->line, VMC_VM_MAX_NICS);
            return -1;
        }
        p->disk = NULL;
        p->nic = vmc_vm_add_nic(p->vm);
        return p->nic ? 0 : -1;
    }
    if (*line == '[') {
        vmc_error(p->h, "%s: line %u: unknown section '%s' (use [disk] or "
                  "[nic])", p->path, p->line, line);
        return -1;
    }
    eq = strchr(line, '=');
    if (eq == NULL) {
        vmc_error(p->h, "%s: line %u: expected 'key = value'", p->path,
                  p->line);
        return -1;
    }
    *eq = '\0';
    key = example_trim(line);
    value = example_trim(eq + 1);
    if (*value == '\0') {
        vmc_error(p->h, "%s: line %u: %s: the value is empty", p->path,
                  p->line, key);
        return -1;
    }
    if (p->disk)
        return example_disk_key(p, key, value);
    if (p->nic)
        return example_nic_key(p, key, value);
    return example_vm_key(p, key, value);
}

/* Check the first line, "vmconv-example 1".  Returns the rest of the
 * text, or NULL with an error.
 */
static char *
example_check_magic(struct example_parser *p, char *text)
{
    char *nl = strchr(text, '\n');
    char *version;

    if (nl) {
        *nl = '\0';
        if (nl > text && nl[-1] == '\r')
            nl[-1] = '\0';
    }
    if (strncmp(text, EXAMPLE_MAGIC, strlen(EXAMPLE_MAGIC)) != 0) {
        vmc_error(p->h, "%s: line 1: not an example VM description (it "
                  "must start with \"%s%d\")", p->path, EXAMPLE_MAGIC,
                  EXAMPLE_VERSION);
        return NULL;
    }
    version = example_trim(text + strlen(EXAMPLE_MAGIC));
    if (strcmp(version, "1") != 0) {
        vmc_error(p->h, "%s: line 1: format version '%s' is not supported "
                  "(this plugin reads version %d)", p->path, version,
                  EXAMPLE_VERSION);
        return NULL;
    }
    return nl ? nl + 1 : text + strlen(text);
}

/* ---- Read ------------------------------------------------------------- */

/* The parameters read takes (config_help below lists them), each
 * "key=value": only disk-dir, the directory relative disk file names
 * are resolved in (default: the description's own).  Sets *DISK_DIR
 * (NULL when not given).  Returns 0 or -1 with an error.
 */
static int
example_read_params(struct vmc_handle *h, const char *source,
                    const struct vmc_read_options *opts,
                    const char **disk_dir)
{
    size_t i;

    *disk_dir = NULL;
    for (i = 0; i < opts->nr_params; i++) {
        const char *param = opts->params[i];

        if (strncmp(param, "disk-dir=", 9) == 0 && param[9] != '\0')
            *disk_dir = param + 9;
        else {
            vmc_error(h, "%s: example plugin: unknown parameter '%s' (it "
                      "takes disk-dir=DIR)", source, param);
            return -1;
        }
    }
    return 0;
}

/* Read the description SOURCE into a new VM.  Returns the VM (the core
 * frees it) or NULL with one error set on H.  OPTS are the core's (the
 * image flags and the work directory are unused: this reader opens no
 * images and extracts nothing).
 */
static struct vmc_vm *
example_read(struct vmc_handle *h, const char *source,
             const struct vmc_read_options *opts)
{
    struct example_parser p = { .h = h, .path = source, .line = 1 };
    CLEANUP_FREE char *text = NULL;
    CLEANUP_FREE char *dir = NULL;
    char *slash, *rest;
    const char *disk_dir;
    struct vmc_vm *vm = NULL;

    if (example_read_params(h, source, opts, &disk_dir) == -1)
        return NULL;

    /* vmc_read_file opens read-only, refuses files over the limit
     * before reading them, and refuses a NUL byte (it would silently
     * end the text early).
     */
    text = vmc_read_file(h, source, EXAMPLE_MAX_SIZE);
    if (text == NULL)
        return NULL;
    dir = strdup(disk_dir ? disk_dir : source);
    if (dir == NULL) {
        vmc_error(h, "%s: %m", source);
        goto out;
    }
    if (disk_dir == NULL) {
        /* By default, disk names are relative to the description. */
        slash = strrchr(dir, '/');
        if (slash == dir)
            dir[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
    }
    p.dir = dir;

    rest = example_check_magic(&p, text);
    if (rest == NULL)
        goto out;
    vm = vmc_vm_new(h);
    if (vm == NULL)
        goto out;
    p.vm = vm;
    while (*rest) {
        char *nl = strchr(rest, '\n');

        p.line++;
        if (nl)
            *nl = '\0';
        if (nl > rest && nl[-1] == '\r')   /* tolerate CRLF */
            nl[-1] = '\0';
        if (example_parse_line(&p, rest) == -1) {
            vmc_vm_free(vm);
            vm = NULL;
            goto out;
        }
        if (nl == NULL)
            break;
        rest = nl + 1;
    }
    if (vm->name == NULL) {
        vmc_error(h, "%s: the VM has no name (add 'name = ...')", source);
        vmc_vm_free(vm);
        vm = NULL;
    }
 out:
    return vm;
}

/* ---- Write ------------------------------------------------------------ */

/* The largest exact unit: 2147483648 is written "2G". */
static void
example_format_size(char *buf, size_t len, uint64_t v)
{
    static const char units[] = "TGMK";
    static const unsigned shifts[] = { 40, 30, 20, 10 };
    size_t i;

    for (i = 0; i < 4; i++)
        if (v != 0 && v % (UINT64_C(1) << shifts[i]) == 0) {
            snprintf(buf, len, "%" PRIu64 "%c", v >> shifts[i], units[i]);
            return;
        }
    snprintf(buf, len, "%" PRIu64, v);
}

/* A value the format can hold: one line, no leading or trailing
 * blanks (they would be trimmed), not empty.
 */
static int
example_check_value(struct vmc_handle *h, const char *file, const char *key,
                    const char *value)
{
    size_t len = strlen(value);

    if (len == 0 || strpbrk(value, "\r\n") != NULL ||
        value[0] == ' ' || value[0] == '\t' ||
        value[len - 1] == ' ' || value[len - 1] == '\t') {
        vmc_error(h, "%s: %s: the example format cannot hold the value "
                  "'%s' (one line, no blanks at either end)", file, key,
                  value);
        return -1;
    }
    return 0;
}

/* Write "key = value" if VALUE is set. */
static int
example_put(struct vmc_handle *h, FILE *fp, const char *file,
            const char *key, const char *value)
{
    if (value == NULL)
        return 0;
    if (example_check_value(h, file, key, value) == -1)
        return -1;
    fprintf(fp, "%s = %s\n", key, value);
    return 0;
}

static void
example_put_uint(FILE *fp, const char *key, uint64_t v)
{
    if (v)
        fprintf(fp, "%s = %" PRIu64 "\n", key, v);
}

static void
example_put_size(FILE *fp, const char *key, uint64_t v)
{
    char buf[32];

    if (v) {
        example_format_size(buf, sizeof buf, v);
        fprintf(fp, "%s = %s\n", key, buf);
    }
}

/* Enums: nothing for the first ("unknown") value. */
static void
example_put_enum(FILE *fp, const char *key, int v, const char *name)
{
    if (v != 0 && name)
        fprintf(fp, "%s = %s\n", key, name);
}

static int
example_write_disk(struct vmc_handle *h, FILE *fp, const char *file,
                   const struct vmc_disk *d)
{
    fprintf(fp, "\n[disk]\n");
    if (example_put(h, fp, file, "file", d->path) == -1 ||
        example_put(h, fp, file, "format", d->format) == -1)
        return -1;
    example_put_size(fp, "size", d->virtual_size);
    /* device's first value is "disk", the default: write the others. */
    example_put_enum(fp, "device", d->device,
                     vmc_disk_device_to_string(d->device));
    example_put_enum(fp, "bus", d->bus, vmc_disk_bus_to_string(d->bus));
    example_put_enum(fp, "controller-model", d->controller_model,
                     vmc_controller_model_to_string(d->controller_model));
    if (d->controller >= 0)
        fprintf(fp, "controller = %d\n", d->controller);
    if (d->unit >= 0)
        fprintf(fp, "unit = %d\n", d->unit);
    example_put_uint(fp, "boot", d->boot_order);
    if (d->readonly)
        fprintf(fp, "readonly = yes\n");
    if (d->shareable)
        fprintf(fp, "shareable = yes\n");
    return 0;
}

static int
example_write_nic(struct vmc_handle *h, FILE *fp, const char *file,
                  const struct vmc_nic *n)
{
    fprintf(fp, "\n[nic]\n");
    if (example_put(h, fp, file, "mac", n->mac) == -1)
        return -1;
    example_put_enum(fp, "model", n->model,
                     vmc_nic_model_to_string(n->model));
    if (n->net_type != VMC_NET_TYPE_UNKNOWN &&
        n->net_type != VMC_NET_TYPE_NETWORK &&
        n->net_type != VMC_NET_TYPE_BRIDGE)
        vmc_warning(h, "%s: the example format has no network type %s: "
                    "written as a named network", file,
                    vmc_net_type_to_string(n->net_type));
    return example_put(h, fp, file,
                       n->net_type == VMC_NET_TYPE_BRIDGE ? "bridge" :
                       "network", n->network);
}

/* Everything of the model the example format has no key for is
 * dropped, and said so once.
 */
static void
example_warn_dropped(struct vmc_handle *h, const char *file,
                     const struct vmc_vm *vm)
{
    size_t i;
    bool backing = false;

    for (i = 0; i < vm->nr_disks; i++)
        backing |= vm->disks[i]->nr_backing > 0;
    if (vm->genid || vm->tpm || vm->nr_snapshots || backing ||
        vm->os_id || vm->nr_notes)
        vmc_warning(h, "%s: the example format has no place for%s%s%s%s%s%s",
                    file, vm->genid ? " the generation ID" : "",
                    vm->tpm ? " the TPM" : "",
                    vm->nr_snapshots ? " snapshots" : "",
                    backing ? " backing chains" : "",
                    vm->os_id ? " the source's OS identifier" : "",
                    vm->nr_notes ? " notes" : "");
}

/* The whole description.  A VM without a name (the format requires
 * one) takes the name of the output files.
 */
static int
example_write_all(struct vmc_handle *h, FILE *fp, const char *file,
                  const struct vmc_vm *vm, const char *name)
{
    size_t i;

    fprintf(fp, "%s%d\n", EXAMPLE_MAGIC, EXAMPLE_VERSION);
    fprintf(fp, "# written by vmconv %s\n", vmc_version());
    if (example_put(h, fp, file, "name", vm->name ? vm->name : name) == -1 ||
        example_put(h, fp, file, "uuid", vm->uuid) == -1 ||
        example_put(h, fp, file, "description", vm->description) == -1)
        return -1;
    example_put_enum(fp, "firmware", vm->firmware,
                     vmc_firmware_to_string(vm->firmware));
    if (vm->secure_boot)
        fprintf(fp, "secure-boot = yes\n");
    if (example_put(h, fp, file, "machine", vm->machine) == -1)
        return -1;
    example_put_uint(fp, "vcpus", vm->vcpus);
    example_put_uint(fp, "sockets", vm->cpu_sockets);
    example_put_uint(fp, "cores", vm->cpu_cores);
    example_put_uint(fp, "threads", vm->cpu_threads);
    example_put_size(fp, "memory", vm->memory);
    example_put_enum(fp, "os", vm->os_family,
                     vmc_os_family_to_string(vm->os_family));
    if (example_put(h, fp, file, "distro", vm->os_distro) == -1 ||
        example_put(h, fp, file, "os-version", vm->os_version) == -1 ||
        example_put(h, fp, file, "arch", vm->os_arch) == -1)
        return -1;
    example_put_enum(fp, "video", vm->video,
                     vmc_video_model_to_string(vm->video));
    example_put_size(fp, "vram", vm->vram);
    for (i = 0; i < vm->nr_disks; i++)
        if (example_write_disk(h, fp, file, vm->disks[i]) == -1)
            return -1;
    for (i = 0; i < vm->nr_nics; i++)
        if (example_write_nic(h, fp, file, vm->nics[i]) == -1)
            return -1;
    return 0;
}

/* Write VM as OUTDIR/NAME.vmconv-example.  The file must not exist yet
 * (O_EXCL): a plugin never overwrites.  On any error the partial file
 * is removed.
 */
static int
example_write(struct vmc_handle *h, const struct vmc_vm *vm,
              const struct vmc_write_options *opts)
{
    char *file = NULL;
    FILE *fp = NULL;
    int fd = -1;
    int err;
    int r = -1;

    if (asprintf(&file, "%s/%s%s", opts->outdir, opts->name,
                 EXAMPLE_SUFFIX) == -1) {
        vmc_error(h, "%s: %m", opts->outdir);
        return -1;
    }
    fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd == -1) {
        vmc_error(h, "create: %s: %m", file);
        goto out;
    }
    fp = fdopen(fd, "w");
    if (fp == NULL) {
        vmc_error(h, "%s: %m", file);
        close(fd);
        goto out_unlink;
    }
    if (example_write_all(h, fp, file, vm, opts->name) == -1) {
        fclose(fp);
        goto out_unlink;
    }
    /* fclose reports the write errors (a full disk) stdio deferred. */
    err = ferror(fp);
    if (fclose(fp) != 0 || err) {
        vmc_error(h, "write: %s: %m", file);
        goto out_unlink;
    }
    example_warn_dropped(h, file, vm);
    r = 0;
    goto out;

 out_unlink:
    unlink(file);
 out:
    free(file);
    return r;
}

/* ---- Registration ----------------------------------------------------- */

/* What the example format can hold, declared as data so the planner
 * needs no knowledge of this target: every bus, controller, NIC and
 * video model and both firmware kinds of the model, and any disk
 * format vmconv writes.  The first format is the default.
 */
static const struct vmc_target_format example_formats[] = {
    { "qcow2", NULL },
    { "raw", NULL },
    { "vmdk", NULL },
    { "vhdx", NULL },
    { "vpc", NULL },
    { NULL, NULL },
};

/* Every value of each enum but its first ("unknown"). */
#define EXAMPLE_ALL_BUT_UNKNOWN(last) \
    ((VMC_CAP(last) - 1) & ~VMC_CAP(0))

static const struct vmc_target_caps example_caps = {
    ._struct_size = sizeof example_caps,
    .disk_buses = EXAMPLE_ALL_BUT_UNKNOWN(VMC_DISK_BUS_LAST),
    .default_disk_bus = VMC_DISK_BUS_VIRTIO,
    .controller_models = EXAMPLE_ALL_BUT_UNKNOWN(VMC_CONTROLLER_MODEL_LAST),
    .default_scsi_controller = VMC_CONTROLLER_MODEL_VIRTIO_SCSI,
    .nic_models = EXAMPLE_ALL_BUT_UNKNOWN(VMC_NIC_MODEL_LAST),
    .default_nic_model = VMC_NIC_MODEL_VIRTIO,
    .video_models = EXAMPLE_ALL_BUT_UNKNOWN(VMC_VIDEO_MODEL_LAST),
    .default_video_model = VMC_VIDEO_MODEL_VGA,
    .firmware = VMC_CAP(VMC_FIRMWARE_BIOS) | VMC_CAP(VMC_FIRMWARE_UEFI),
    .default_firmware = VMC_FIRMWARE_BIOS,
    .disk_formats = example_formats,
};

/* The plugin: its name is what users type ("--to example") and must be
 * [a-z0-9_-].  probe2 (or version 1's probe) is required, and at least
 * one of read2 (or read) and write.  load, unload and finish are
 * optional and unused here: this target writes files only.
 */
static struct vmc_plugin plugin = {
    .name        = "example",
    .version     = VMC_VERSION_STRING,
    .description = "example VM descriptions (*.vmconv-example), "
                   "a template for new plugins",
    .probe2      = example_probe,
    .read2       = example_read,
    .write       = example_write,
    .config_help = "disk-dir=DIR  resolve relative disk file names in DIR\n"
                   "              (default: the description's directory)",
    .caps        = &example_caps,
};

/* Defines vmc_plugin_init, the one symbol vmconv looks for. */
VMC_REGISTER_PLUGIN(plugin)
