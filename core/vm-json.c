/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM model as JSON: schema "vmconv-vm/3" (vmconv-vm-json(5)); the
 * reader also takes "vmconv-vm/1" and "vmconv-vm/2" documents.
 *
 * vmc_vm_to_json writes every key, always in the same order, so the
 * same VM gives the same text.  vmc_vm_from_json treats its input as
 * hostile: every key is type- and range-checked, unknown keys are
 * refused (typos must not silently drop a setting), cross references
 * between snapshots and disks are checked, and the first problem gives
 * one error naming the source and the key path.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"
#include "vm-internal.h"

/* ---- Writing -------------------------------------------------------- */

/* json-c's constructors only fail when out of memory; the builders
 * below note such failures in *OOM and the caller checks once.
 */
static void
json_add(struct json_object *o, const char *key, struct json_object *v,
         bool *oom)
{
    if (v == NULL || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        *oom = true;
    }
}

static struct json_object *
json_str(const char *s)
{
    return s ? json_object_new_string(s) : json_object_new_null();
}

static void
add_str(struct json_object *o, const char *key, const char *s, bool *oom)
{
    if (s)
        json_add(o, key, json_object_new_string(s), oom);
    else
        json_object_object_add(o, key, NULL);  /* JSON null */
}

static void
add_int(struct json_object *o, const char *key, int64_t v, bool *oom)
{
    json_add(o, key, json_object_new_int64(v), oom);
}

static void
add_bool(struct json_object *o, const char *key, bool v, bool *oom)
{
    json_add(o, key, json_object_new_boolean(v), oom);
}

static void
add_enum(struct json_object *o, const char *key,
         const struct vmc_enum_table *t, int v, bool *oom)
{
    const char *name = vmc_enum_to_string(t, v);

    /* vmc_vm_to_json refused out-of-range values already
     * (vmc_vm_check_enums); should one get here, it is written as
     * null, never as a valid name such as table 0, which is "disk" for
     * the device.
     */
    add_str(o, key, name, oom);
}

/* An index where -1 means unknown: written as null. */
static void
add_index(struct json_object *o, const char *key, int v, bool *oom)
{
    if (v >= 0)
        add_int(o, key, v, oom);
    else
        json_object_object_add(o, key, NULL);
}

static void
add_array(struct json_object *o, const char *key, struct json_object **a,
          bool *oom)
{
    *a = json_object_new_array();
    json_add(o, key, *a, oom);
    if (*oom)
        *a = NULL;
}

static void
append(struct json_object *a, struct json_object *v, bool *oom)
{
    if (a == NULL || v == NULL || json_object_array_add(a, v) != 0) {
        json_object_put(v);
        *oom = true;
    }
}

static struct json_object *
disk_to_json(const struct vmc_disk *d, bool *oom)
{
    struct json_object *o = json_object_new_object();
    struct json_object *b = NULL;
    size_t i;

    if (o == NULL) {
        *oom = true;
        return NULL;
    }
    add_str(o, "path", d->path, oom);
    add_str(o, "source-ref", d->source_ref, oom);
    add_bool(o, "missing", d->missing, oom);
    add_str(o, "format", d->format, oom);
    add_int(o, "virtual-size", (int64_t) d->virtual_size, oom);
    add_int(o, "logical-block-size", d->logical_block_size, oom);
    add_int(o, "physical-block-size", d->physical_block_size, oom);
    add_enum(o, "device", &vmc_disk_device_table, d->device, oom);
    add_enum(o, "bus", &vmc_disk_bus_table, d->bus, oom);
    add_enum(o, "controller-model", &vmc_controller_model_table,
             d->controller_model, oom);
    add_index(o, "controller-ref", d->controller_ref, oom);
    add_index(o, "controller", d->controller, oom);
    add_index(o, "unit", d->unit, oom);
    add_int(o, "boot-order", d->boot_order, oom);
    add_bool(o, "readonly", d->readonly, oom);
    add_bool(o, "shareable", d->shareable, oom);
    add_enum(o, "connection", &vmc_connection_table, d->connection, oom);
    add_bool(o, "reference-only", d->reference_only, oom);
    add_bool(o, "independent", d->independent, oom);
    add_bool(o, "nonpersistent", d->nonpersistent, oom);
    add_array(o, "backing", &b, oom);
    for (i = 0; i < d->nr_backing; i++)
        append(b, json_str(d->backing[i]), oom);
    return o;
}

static struct json_object *
nic_to_json(const struct vmc_nic *n, bool *oom)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL) {
        *oom = true;
        return NULL;
    }
    add_str(o, "mac", n->mac, oom);
    add_enum(o, "mac-kind", &vmc_mac_kind_table, n->mac_kind, oom);
    add_enum(o, "model", &vmc_nic_model_table, n->model, oom);
    add_enum(o, "network-type", &vmc_net_type_table, n->net_type, oom);
    add_str(o, "network", n->network, oom);
    add_str(o, "network-orig", n->network_orig, oom);
    add_int(o, "vlan", n->vlan, oom);
    add_enum(o, "connection", &vmc_connection_table, n->connection, oom);
    return o;
}

static struct json_object *
controller_to_json(const struct vmc_controller *ct, bool *oom)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL) {
        *oom = true;
        return NULL;
    }
    add_enum(o, "bus", &vmc_disk_bus_table, ct->bus, oom);
    add_int(o, "index", ct->index, oom);
    add_enum(o, "model", &vmc_controller_model_table, ct->model, oom);
    return o;
}

static struct json_object *
serial_to_json(const struct vmc_serial *se, bool *oom)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL) {
        *oom = true;
        return NULL;
    }
    add_int(o, "index", se->index, oom);
    add_enum(o, "type", &vmc_serial_type_table, se->type, oom);
    add_str(o, "target", se->target, oom);
    return o;
}

static struct json_object *
snapshot_to_json(const struct vmc_snapshot *s, bool *oom)
{
    struct json_object *o = json_object_new_object();
    struct json_object *a = NULL;
    size_t i;

    if (o == NULL) {
        *oom = true;
        return NULL;
    }
    add_str(o, "id", s->id, oom);
    add_str(o, "name", s->name, oom);
    add_str(o, "parent", s->parent, oom);
    add_str(o, "description", s->description, oom);
    add_int(o, "created", s->created, oom);
    add_array(o, "disks", &a, oom);
    for (i = 0; i < s->nr_disks; i++) {
        const struct vmc_snapshot_disk *sd = s->disks[i];
        struct json_object *d = json_object_new_object();

        if (d == NULL) {
            *oom = true;
            break;
        }
        if (sd->disk >= 0)
            add_int(d, "disk", sd->disk, oom);
        else
            json_object_object_add(d, "disk", NULL);
        add_str(d, "path", sd->path, oom);
        append(a, d, oom);
    }
    return o;
}

static struct json_object *
vm_to_json_object(const struct vmc_vm *vm, bool *oom)
{
    struct json_object *o = json_object_new_object();
    struct json_object *sub;
    struct json_object *a = NULL;
    size_t i;

    if (o == NULL) {
        *oom = true;
        return NULL;
    }
    add_str(o, "schema", VMC_VM_JSON_SCHEMA, oom);
    add_str(o, "name", vm->name, oom);
    add_str(o, "uuid", vm->uuid, oom);
    add_str(o, "genid", vm->genid, oom);
    add_str(o, "description", vm->description, oom);
    add_str(o, "source-plugin", vm->source_plugin, oom);
    add_str(o, "source-path", vm->source_path, oom);
    add_str(o, "source-version", vm->source_version, oom);
    add_enum(o, "firmware", &vmc_firmware_table, vm->firmware, oom);
    add_bool(o, "secure-boot", vm->secure_boot, oom);
    add_enum(o, "secure-boot-template", &vmc_secure_boot_template_table,
             vm->secure_boot_template, oom);
    add_bool(o, "tpm", vm->tpm, oom);
    add_bool(o, "nested-virt", vm->nested_virt, oom);
    add_str(o, "nvram-path", vm->nvram_path, oom);
    add_enum(o, "nvram-kind", &vmc_nvram_kind_table, vm->nvram_kind, oom);
    add_str(o, "machine", vm->machine, oom);
    add_enum(o, "clock", &vmc_clock_table, vm->clock, oom);
    add_int(o, "clock-offset", vm->clock_offset, oom);
    add_int(o, "vcpus", vm->vcpus, oom);
    add_int(o, "cpu-sockets", vm->cpu_sockets, oom);
    add_int(o, "cpu-cores", vm->cpu_cores, oom);
    add_int(o, "cpu-threads", vm->cpu_threads, oom);
    add_int(o, "memory", (int64_t) vm->memory, oom);
    add_int(o, "memory-min", (int64_t) vm->memory_min, oom);
    add_int(o, "memory-max", (int64_t) vm->memory_max, oom);
    add_int(o, "memory-reservation", (int64_t) vm->memory_reservation, oom);

    sub = json_object_new_object();
    json_add(o, "os", sub, oom);
    if (!*oom) {
        add_enum(sub, "family", &vmc_os_family_table, vm->os_family, oom);
        add_str(sub, "distro", vm->os_distro, oom);
        add_str(sub, "version", vm->os_version, oom);
        add_str(sub, "arch", vm->os_arch, oom);
        add_str(sub, "id", vm->os_id, oom);
    }
    sub = json_object_new_object();
    json_add(o, "video", sub, oom);
    if (!*oom) {
        add_enum(sub, "model", &vmc_video_model_table, vm->video, oom);
        add_int(sub, "vram", (int64_t) vm->vram, oom);
    }
    add_enum(o, "graphics", &vmc_graphics_table, vm->graphics, oom);

    add_array(o, "controllers", &a, oom);
    for (i = 0; i < vm->nr_controllers && !*oom; i++)
        append(a, controller_to_json(vm->controllers[i], oom), oom);
    add_array(o, "disks", &a, oom);
    for (i = 0; i < vm->nr_disks && !*oom; i++)
        append(a, disk_to_json(vm->disks[i], oom), oom);
    add_array(o, "nics", &a, oom);
    for (i = 0; i < vm->nr_nics && !*oom; i++)
        append(a, nic_to_json(vm->nics[i], oom), oom);
    add_array(o, "serials", &a, oom);
    for (i = 0; i < vm->nr_serials && !*oom; i++)
        append(a, serial_to_json(vm->serials[i], oom), oom);
    add_array(o, "snapshots", &a, oom);
    for (i = 0; i < vm->nr_snapshots && !*oom; i++)
        append(a, snapshot_to_json(vm->snapshots[i], oom), oom);
    add_str(o, "current-snapshot", vm->current_snapshot, oom);
    add_array(o, "notes", &a, oom);
    for (i = 0; i < vm->nr_notes && !*oom; i++)
        append(a, json_str(vm->notes[i]), oom);
    return o;
}

char *
vmc_vm_to_json(const struct vmc_vm *vm)
{
    CLEANUP_JSON_PUT struct json_object *o = NULL;
    bool oom = false;
    const char *s;
    char *ret;

    if (vmc_vm_check_enums(vm) == -1)
        return NULL;
    o = vm_to_json_object(vm, &oom);
    if (oom) {
        vmc_error(vm->h, "vm: JSON: out of memory");
        return NULL;
    }
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                       JSON_C_TO_STRING_SPACED |
                                       JSON_C_TO_STRING_NOSLASHESCAPE);
    if (s == NULL || asprintf(&ret, "%s\n", s) == -1) {
        vmc_error(vm->h, "vm: JSON: out of memory");
        return NULL;
    }
    return ret;
}

/* ---- Reading -------------------------------------------------------- */

/* Where we are in the document, for messages: SRC names the text, PATH
 * is the JSON path of the object being read ("" for the top,
 * "disks[1]").
 */
struct jin {
    struct vmc_handle *h;
    const char *src;
    int version;                 /* of the schema: 1, 2 or 3 */
};

static void jerr(const struct jin *c, const char *path, const char *key,
                 const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Report "SRC: PATH.KEY: message" (either part may be empty). */
static void
jerr(const struct jin *c, const char *path, const char *key,
     const char *fmt, ...)
{
    CLEANUP_FREE char *msg = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r == -1) {
        msg = NULL;
        vmc_error(c->h, "%s: out of memory", c->src);
        return;
    }
    vmc_error(c->h, "%s: %s%s%s%s%s", c->src, path,
              *path && key ? "." : "", key ? key : "",
              *path || key ? ": " : "", msg);
}

static const char *
jtype(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a number with a fraction";
    case json_type_int: return "an integer";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "something unknown";
}

/* Refuse keys of O (at PATH) that are not in KEYS (NULL-terminated).
 * Keys starting with "x-" are left for other tools and ignored.
 */
static int
check_keys(const struct jin *c, struct json_object *o, const char *path,
           const char *const *keys)
{
    json_object_object_foreach(o, key, val) {
        size_t i;

        (void) val;
        if (strncmp(key, "x-", 2) == 0)
            continue;
        for (i = 0; keys[i]; i++)
            if (strcmp(key, keys[i]) == 0)
                break;
        if (keys[i] == NULL) {
            jerr(c, path, NULL, "unknown key '%s'", key);
            return -1;
        }
    }
    return 0;
}

/* Get KEY of O if present and not null: returns 1 with *V set, 0 if
 * absent or null.
 */
static int
get(struct json_object *o, const char *key, struct json_object **v)
{
    if (!json_object_object_get_ex(o, key, v) || *v == NULL)
        return 0;
    return 1;
}

/* A string or null into *OUT (malloc'd or NULL). */
static int
get_string(const struct jin *c, struct json_object *o, const char *path,
           const char *key, char **out)
{
    struct json_object *v;

    *out = NULL;
    if (!get(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        jerr(c, path, key, "expected a string or null, found %s", jtype(v));
        return -1;
    }
    *out = strdup(json_object_get_string(v));
    if (*out == NULL) {
        vmc_error(c->h, "%s: %m", c->src);
        return -1;
    }
    return 0;
}

/* An integer in [0, MAX] into *OUT (0 if absent). */
static int
get_uint(const struct jin *c, struct json_object *o, const char *path,
         const char *key, uint64_t max, uint64_t *out)
{
    struct json_object *v;
    int64_t i;

    *out = 0;
    if (!get(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        jerr(c, path, key, "expected an integer, found %s", jtype(v));
        return -1;
    }
    i = json_object_get_int64(v);
    if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t) INT64_MAX) {
        jerr(c, path, key, "%" PRIu64 " is larger than %" PRIu64,
             json_object_get_uint64(v), max);
        return -1;
    }
    if (i < 0) {
        jerr(c, path, key, "%" PRIi64 " is negative", i);
        return -1;
    }
    if ((uint64_t) i > max) {
        jerr(c, path, key, "%" PRIi64 " is larger than %" PRIu64, i, max);
        return -1;
    }
    *out = (uint64_t) i;
    return 0;
}

static int
get_unsigned(const struct jin *c, struct json_object *o, const char *path,
             const char *key, unsigned *out)
{
    uint64_t v;

    if (get_uint(c, o, path, key, UINT32_MAX, &v) == -1)
        return -1;
    *out = (unsigned) v;
    return 0;
}

/* A signed integer into *OUT (0 if absent). */
static int
get_int64(const struct jin *c, struct json_object *o, const char *path,
          const char *key, int64_t *out)
{
    struct json_object *v;

    *out = 0;
    if (!get(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        jerr(c, path, key, "expected an integer, found %s", jtype(v));
        return -1;
    }
    *out = json_object_get_int64(v);
    if ((*out == INT64_MAX &&
         json_object_get_uint64(v) > (uint64_t) INT64_MAX)) {
        jerr(c, path, key, "%" PRIu64 " is larger than %" PRIi64,
             json_object_get_uint64(v), INT64_MAX);
        return -1;
    }
    return 0;
}

/* An index in [0, MAX], or null / absent for unknown: *OUT = -1, or
 * ABSENT for documents of schema 1, where absent meant 0.
 */
static int
get_index(const struct jin *c, struct json_object *o, const char *path,
          const char *key, int max, int absent_v1, int *out)
{
    struct json_object *v;
    uint64_t u;

    *out = -1;
    if (!get(o, key, &v)) {
        if (c->version == 1)
            *out = absent_v1;
        return 0;
    }
    if (get_uint(c, o, path, key, (uint64_t) max, &u) == -1)
        return -1;
    *out = (int) u;
    return 0;
}

static int
get_bool(const struct jin *c, struct json_object *o, const char *path,
         const char *key, bool *out)
{
    struct json_object *v;

    *out = false;
    if (!get(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        jerr(c, path, key, "expected true or false, found %s", jtype(v));
        return -1;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

/* A name from table T into *OUT (0, "unknown" or the default, if
 * absent).
 */
static int
get_enum(const struct jin *c, struct json_object *o, const char *path,
         const char *key, const struct vmc_enum_table *t, int *out)
{
    struct json_object *v;
    CLEANUP_FREE char *names = NULL;
    int e;

    *out = 0;
    if (!get(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        jerr(c, path, key, "expected a string, found %s", jtype(v));
        return -1;
    }
    e = vmc_enum_from_string(t, json_object_get_string(v));
    if (e == -1) {
        names = vmc_enum_names(t);
        jerr(c, path, key, "'%s' is not %s (%s)", json_object_get_string(v),
             t->what, names ? names : "?");
        return -1;
    }
    *out = e;
    return 0;
}

/* An array (or absent/null: *N = 0) of at most MAX elements. */
static int
get_array(const struct jin *c, struct json_object *o, const char *path,
          const char *key, size_t max, struct json_object **a, size_t *n)
{
    *n = 0;
    *a = NULL;
    if (!get(o, key, a))
        return 0;
    if (!json_object_is_type(*a, json_type_array)) {
        jerr(c, path, key, "expected an array, found %s", jtype(*a));
        return -1;
    }
    *n = json_object_array_length(*a);
    if (*n > max) {
        jerr(c, path, key, "%zu elements, more than the %zu allowed", *n, max);
        return -1;
    }
    return 0;
}

/* An object (or absent/null: *SUB = NULL). */
static int
get_object(const struct jin *c, struct json_object *o, const char *path,
           const char *key, struct json_object **sub)
{
    *sub = NULL;
    if (!get(o, key, sub))
        return 0;
    if (!json_object_is_type(*sub, json_type_object)) {
        jerr(c, path, key, "expected an object, found %s", jtype(*sub));
        return -1;
    }
    return 0;
}

/* Element I of array A (named KEY, inside PATH) must be of TYPE.
 * Writes its path ("disks[1]") into EPATH.
 */
static struct json_object *
get_element(const struct jin *c, struct json_object *a, const char *path,
            const char *key, size_t i, json_type type, char *epath,
            size_t epath_len)
{
    struct json_object *e = json_object_array_get_idx(a, i);

    snprintf(epath, epath_len, "%s%s%s[%zu]", path, *path ? "." : "", key, i);
    if (e == NULL || !json_object_is_type(e, type)) {
        jerr(c, epath, NULL, "expected %s, found %s",
             type == json_type_object ? "an object" : "a string",
             e ? jtype(e) : "null");
        return NULL;
    }
    return e;
}

/* A UUID or MAC string: accepted in any form vmc_*_normalize takes,
 * stored canonical.
 */
static int
get_uuid(const struct jin *c, struct json_object *o, const char *path,
         const char *key, char **out)
{
    CLEANUP_FREE char *s = NULL;
    char u[VMC_UUID_LEN + 1];

    *out = NULL;
    if (get_string(c, o, path, key, &s) == -1)
        return -1;
    if (s == NULL)
        return 0;
    if (vmc_uuid_normalize(s, u) == -1) {
        jerr(c, path, key, "'%s' is not a UUID", s);
        return -1;
    }
    *out = strdup(u);
    if (*out == NULL) {
        vmc_error(c->h, "%s: %m", c->src);
        return -1;
    }
    return 0;
}

static int
get_mac(const struct jin *c, struct json_object *o, const char *path,
        const char *key, char **out)
{
    CLEANUP_FREE char *s = NULL;
    char m[VMC_MAC_LEN + 1];

    *out = NULL;
    if (get_string(c, o, path, key, &s) == -1)
        return -1;
    if (s == NULL)
        return 0;
    if (vmc_mac_normalize(s, m) == -1) {
        jerr(c, path, key, "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
             s);
        return -1;
    }
    *out = strdup(m);
    if (*out == NULL) {
        vmc_error(c->h, "%s: %m", c->src);
        return -1;
    }
    return 0;
}

/* Read the string array KEY of O into VM through ADD (one call per
 * element).
 */
static int
get_strings(const struct jin *c, struct json_object *o, const char *path,
            const char *key, size_t max, struct vmc_vm *vm,
            struct vmc_disk *d)
{
    struct json_object *a;
    size_t n, i;
    char epath[256];

    if (get_array(c, o, path, key, max, &a, &n) == -1)
        return -1;
    for (i = 0; i < n; i++) {
        struct json_object *e = get_element(c, a, path, key, i,
                                            json_type_string, epath,
                                            sizeof epath);
        const char *s;
        int r;

        if (e == NULL)
            return -1;
        s = json_object_get_string(e);
        r = d ? vmc_disk_add_backing(vm, d, s) : vmc_vm_add_note(vm, "%s", s);
        if (r == -1)
            return -1;
    }
    return 0;
}

static int
disk_from_json(const struct jin *c, struct json_object *o, const char *path,
               struct vmc_vm *vm)
{
    static const char *const keys[] = {
        "path", "format", "virtual-size", "device", "bus",
        "controller-model", "controller", "unit", "boot-order",
        "readonly", "shareable", "backing",
        /* schema 2 */
        "source-ref", "missing", "logical-block-size",
        "physical-block-size", "controller-ref", "connection",
        "reference-only",
        /* schema 3 */
        "independent", "nonpersistent", NULL
    };
    struct vmc_disk *d;
    unsigned u;
    int e;

    if (check_keys(c, o, path, keys) == -1)
        return -1;
    d = vmc_vm_add_disk(vm);
    if (d == NULL)
        return -1;
    if (get_string(c, o, path, "path", &d->path) == -1 ||
        get_string(c, o, path, "source-ref", &d->source_ref) == -1 ||
        get_bool(c, o, path, "missing", &d->missing) == -1 ||
        get_string(c, o, path, "format", &d->format) == -1 ||
        get_uint(c, o, path, "virtual-size", INT64_MAX,
                 &d->virtual_size) == -1)
        return -1;
    if (get_unsigned(c, o, path, "logical-block-size", &u) == -1)
        return -1;
    d->logical_block_size = u;
    if (get_unsigned(c, o, path, "physical-block-size", &u) == -1)
        return -1;
    d->physical_block_size = u;
    if (get_enum(c, o, path, "connection", &vmc_connection_table, &e) == -1)
        return -1;
    d->connection = e;
    if (get_bool(c, o, path, "reference-only", &d->reference_only) == -1 ||
        get_bool(c, o, path, "independent", &d->independent) == -1 ||
        get_bool(c, o, path, "nonpersistent", &d->nonpersistent) == -1 ||
        get_index(c, o, path, "controller-ref", INT32_MAX, -1,
                  &d->controller_ref) == -1)
        return -1;
    if (d->controller_ref >= 0 &&
        (size_t) d->controller_ref >= vm->nr_controllers) {
        jerr(c, path, "controller-ref", "%d is not a controller index "
             "(the VM has %zu controllers)", d->controller_ref,
             vm->nr_controllers);
        return -1;
    }
    if (get_enum(c, o, path, "device", &vmc_disk_device_table, &e) == -1)
        return -1;
    d->device = e;
    if (get_enum(c, o, path, "bus", &vmc_disk_bus_table, &e) == -1)
        return -1;
    d->bus = e;
    if (get_enum(c, o, path, "controller-model",
                 &vmc_controller_model_table, &e) == -1)
        return -1;
    d->controller_model = e;
    if (get_index(c, o, path, "controller", INT32_MAX, 0,
                  &d->controller) == -1 ||
        get_index(c, o, path, "unit", INT32_MAX, 0, &d->unit) == -1 ||
        get_unsigned(c, o, path, "boot-order", &d->boot_order) == -1 ||
        get_bool(c, o, path, "readonly", &d->readonly) == -1 ||
        get_bool(c, o, path, "shareable", &d->shareable) == -1)
        return -1;
    return get_strings(c, o, path, "backing", VMC_VM_MAX_BACKING, vm, d);
}

static int
nic_from_json(const struct jin *c, struct json_object *o, const char *path,
              struct vmc_vm *vm)
{
    static const char *const keys[] = {
        "mac", "model", "network-type", "network",
        /* schema 2 */
        "mac-kind", "network-orig", "vlan", "connection", NULL
    };
    struct vmc_nic *n;
    uint64_t vlan;
    int e;

    if (check_keys(c, o, path, keys) == -1)
        return -1;
    n = vmc_vm_add_nic(vm);
    if (n == NULL)
        return -1;
    if (get_mac(c, o, path, "mac", &n->mac) == -1)
        return -1;
    if (get_enum(c, o, path, "mac-kind", &vmc_mac_kind_table, &e) == -1)
        return -1;
    n->mac_kind = e;
    if (get_enum(c, o, path, "model", &vmc_nic_model_table, &e) == -1)
        return -1;
    n->model = e;
    if (get_enum(c, o, path, "network-type", &vmc_net_type_table, &e) == -1)
        return -1;
    n->net_type = e;
    if (get_string(c, o, path, "network", &n->network) == -1 ||
        get_string(c, o, path, "network-orig", &n->network_orig) == -1 ||
        get_uint(c, o, path, "vlan", 4095, &vlan) == -1)
        return -1;
    n->vlan = (unsigned) vlan;
    if (get_enum(c, o, path, "connection", &vmc_connection_table, &e) == -1)
        return -1;
    n->connection = e;
    return 0;
}

static int
controller_from_json(const struct jin *c, struct json_object *o,
                     const char *path, struct vmc_vm *vm)
{
    static const char *const keys[] = { "bus", "index", "model", NULL };
    struct vmc_controller *ct;
    int e;

    if (check_keys(c, o, path, keys) == -1)
        return -1;
    ct = vmc_vm_add_controller(vm);
    if (ct == NULL)
        return -1;
    if (get_enum(c, o, path, "bus", &vmc_disk_bus_table, &e) == -1)
        return -1;
    ct->bus = e;
    if (get_unsigned(c, o, path, "index", &ct->index) == -1 ||
        get_enum(c, o, path, "model", &vmc_controller_model_table, &e) == -1)
        return -1;
    ct->model = e;
    return 0;
}

static int
serial_from_json(const struct jin *c, struct json_object *o,
                 const char *path, struct vmc_vm *vm)
{
    static const char *const keys[] = { "index", "type", "target", NULL };
    struct vmc_serial *se;
    int e;

    if (check_keys(c, o, path, keys) == -1)
        return -1;
    se = vmc_vm_add_serial(vm);
    if (se == NULL)
        return -1;
    if (get_unsigned(c, o, path, "index", &se->index) == -1 ||
        get_enum(c, o, path, "type", &vmc_serial_type_table, &e) == -1)
        return -1;
    se->type = e;
    return get_string(c, o, path, "target", &se->target);
}

static int
snapshot_disk_from_json(const struct jin *c, struct json_object *o,
                        const char *path, struct vmc_vm *vm,
                        struct vmc_snapshot *s)
{
    static const char *const keys[] = { "disk", "path", NULL };
    struct vmc_snapshot_disk *sd;
    struct json_object *v;
    uint64_t idx;

    if (check_keys(c, o, path, keys) == -1)
        return -1;
    sd = vmc_snapshot_add_disk(vm, s);
    if (sd == NULL)
        return -1;
    if (get(o, "disk", &v)) {
        if (get_uint(c, o, path, "disk", INT32_MAX, &idx) == -1)
            return -1;
        if (idx >= vm->nr_disks) {
            jerr(c, path, "disk", "%" PRIu64 " is not a disk index "
                 "(the VM has %zu disks)", idx, vm->nr_disks);
            return -1;
        }
        sd->disk = (int) idx;
    }
    return get_string(c, o, path, "path", &sd->path);
}

static int
snapshot_from_json(const struct jin *c, struct json_object *o,
                   const char *path, struct vmc_vm *vm)
{
    static const char *const keys[] = {
        "id", "name", "parent", "description", "created", "disks", NULL
    };
    struct vmc_snapshot *s;
    struct json_object *a;
    uint64_t created;
    size_t n, i;
    char epath[256];

    if (check_keys(c, o, path, keys) == -1)
        return -1;
    s = vmc_vm_add_snapshot(vm);
    if (s == NULL)
        return -1;
    if (get_string(c, o, path, "id", &s->id) == -1)
        return -1;
    if (s->id == NULL || *s->id == '\0') {
        jerr(c, path, "id", "missing: every snapshot needs an id");
        return -1;
    }
    if (get_string(c, o, path, "name", &s->name) == -1 ||
        get_string(c, o, path, "parent", &s->parent) == -1 ||
        get_string(c, o, path, "description", &s->description) == -1 ||
        get_uint(c, o, path, "created", INT64_MAX, &created) == -1)
        return -1;
    s->created = (int64_t) created;
    if (get_array(c, o, path, "disks", VMC_VM_MAX_DISKS, &a, &n) == -1)
        return -1;
    for (i = 0; i < n; i++) {
        struct json_object *e = get_element(c, a, path, "disks", i,
                                            json_type_object, epath,
                                            sizeof epath);

        if (e == NULL || snapshot_disk_from_json(c, e, epath, vm, s) == -1)
            return -1;
    }
    return 0;
}

static struct vmc_snapshot *
find_snapshot(const struct vmc_vm *vm, const char *id, size_t limit)
{
    size_t i;

    for (i = 0; i < limit; i++)
        if (strcmp(vm->snapshots[i]->id, id) == 0)
            return vm->snapshots[i];
    return NULL;
}

/* Snapshot ids are unique, parents and the current snapshot exist, and
 * following parents never loops.
 */
static int
check_snapshots(const struct jin *c, const struct vmc_vm *vm)
{
    char path[64];
    size_t i, steps;

    for (i = 0; i < vm->nr_snapshots; i++) {
        const struct vmc_snapshot *s = vm->snapshots[i];

        snprintf(path, sizeof path, "snapshots[%zu]", i);
        if (find_snapshot(vm, s->id, i)) {
            jerr(c, path, "id", "'%s' is used by an earlier snapshot", s->id);
            return -1;
        }
    }
    for (i = 0; i < vm->nr_snapshots; i++) {
        const struct vmc_snapshot *s = vm->snapshots[i];

        snprintf(path, sizeof path, "snapshots[%zu]", i);
        if (s->parent &&
            find_snapshot(vm, s->parent, vm->nr_snapshots) == NULL) {
            jerr(c, path, "parent", "no snapshot has the id '%s'", s->parent);
            return -1;
        }
        for (steps = 0; s && s->parent; steps++) {
            if (steps >= vm->nr_snapshots) {
                jerr(c, path, "parent", "the chain of parents loops");
                return -1;
            }
            s = find_snapshot(vm, s->parent, vm->nr_snapshots);
        }
    }
    if (vm->current_snapshot &&
        find_snapshot(vm, vm->current_snapshot, vm->nr_snapshots) == NULL) {
        jerr(c, "", "current-snapshot", "no snapshot has the id '%s'",
             vm->current_snapshot);
        return -1;
    }
    return 0;
}

static int
os_from_json(const struct jin *c, struct json_object *top, struct vmc_vm *vm)
{
    static const char *const keys[] = {
        "family", "distro", "version", "arch", "id", NULL
    };
    struct json_object *o;
    int e;

    if (get_object(c, top, "", "os", &o) == -1)
        return -1;
    if (o == NULL)
        return 0;
    if (check_keys(c, o, "os", keys) == -1 ||
        get_enum(c, o, "os", "family", &vmc_os_family_table, &e) == -1)
        return -1;
    vm->os_family = e;
    if (get_string(c, o, "os", "distro", &vm->os_distro) == -1 ||
        get_string(c, o, "os", "version", &vm->os_version) == -1 ||
        get_string(c, o, "os", "arch", &vm->os_arch) == -1 ||
        get_string(c, o, "os", "id", &vm->os_id) == -1)
        return -1;
    return 0;
}

static int
video_from_json(const struct jin *c, struct json_object *top,
                struct vmc_vm *vm)
{
    static const char *const keys[] = { "model", "vram", NULL };
    struct json_object *o;
    int e;

    if (get_object(c, top, "", "video", &o) == -1)
        return -1;
    if (o == NULL)
        return 0;
    if (check_keys(c, o, "video", keys) == -1 ||
        get_enum(c, o, "video", "model", &vmc_video_model_table, &e) == -1)
        return -1;
    vm->video = e;
    return get_uint(c, o, "video", "vram", INT64_MAX, &vm->vram);
}

/* The arrays of the top object: controllers before disks, disks
 * before snapshots (each refers to the one before).
 */
static int
lists_from_json(const struct jin *c, struct json_object *top,
                struct vmc_vm *vm)
{
    static const struct {
        const char *key;
        size_t max;
        int (*fn)(const struct jin *, struct json_object *, const char *,
                  struct vmc_vm *);
    } lists[] = {
        { "controllers", VMC_VM_MAX_CONTROLLERS, controller_from_json },
        { "disks", VMC_VM_MAX_DISKS, disk_from_json },
        { "nics", VMC_VM_MAX_NICS, nic_from_json },
        { "serials", VMC_VM_MAX_SERIALS, serial_from_json },
        { "snapshots", VMC_VM_MAX_SNAPSHOTS, snapshot_from_json },
    };
    struct json_object *a;
    size_t l, n, i;
    char epath[256];

    for (l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        if (get_array(c, top, "", lists[l].key, lists[l].max, &a, &n) == -1)
            return -1;
        for (i = 0; i < n; i++) {
            struct json_object *e = get_element(c, a, "", lists[l].key, i,
                                                json_type_object, epath,
                                                sizeof epath);

            if (e == NULL || lists[l].fn(c, e, epath, vm) == -1)
                return -1;
        }
    }
    return get_strings(c, top, "", "notes", VMC_VM_MAX_NOTES, vm, NULL);
}

static int
vm_from_json_object(struct jin *c, struct json_object *top,
                    struct vmc_vm *vm)
{
    static const char *const keys[] = {
        "schema", "name", "uuid", "genid", "description", "source-plugin",
        "source-path", "firmware", "secure-boot", "tpm", "machine",
        "vcpus", "cpu-sockets", "cpu-cores", "cpu-threads", "memory",
        "os", "video", "disks", "nics", "snapshots", "current-snapshot",
        "notes",
        /* schema 2 */
        "source-version", "secure-boot-template", "nvram-path",
        "nvram-kind", "clock", "clock-offset", "memory-min", "memory-max",
        "memory-reservation", "graphics", "controllers", "serials",
        /* schema 3 */
        "nested-virt", NULL
    };
    CLEANUP_FREE char *schema = NULL;
    int e;

    if (get_string(c, top, "", "schema", &schema) == -1)
        return -1;
    if (schema == NULL) {
        jerr(c, "", "schema", "missing (expected \"%s\")",
             VMC_VM_JSON_SCHEMA);
        return -1;
    }
    if (strcmp(schema, VMC_VM_JSON_SCHEMA) == 0)
        c->version = 3;
    else if (strcmp(schema, "vmconv-vm/2") == 0)
        c->version = 2;
    else if (strcmp(schema, "vmconv-vm/1") == 0)
        c->version = 1;
    else {
        jerr(c, "", "schema", "'%s' is not supported (this vmconv reads "
             "vmconv-vm/1, vmconv-vm/2 and %s)", schema, VMC_VM_JSON_SCHEMA);
        return -1;
    }
    if (check_keys(c, top, "", keys) == -1)
        return -1;
    if (get_string(c, top, "", "name", &vm->name) == -1 ||
        get_uuid(c, top, "", "uuid", &vm->uuid) == -1 ||
        get_uuid(c, top, "", "genid", &vm->genid) == -1 ||
        get_string(c, top, "", "description", &vm->description) == -1 ||
        get_string(c, top, "", "source-plugin", &vm->source_plugin) == -1 ||
        get_string(c, top, "", "source-path", &vm->source_path) == -1 ||
        get_string(c, top, "", "source-version", &vm->source_version) == -1)
        return -1;
    if (get_enum(c, top, "", "firmware", &vmc_firmware_table, &e) == -1)
        return -1;
    vm->firmware = e;
    if (get_enum(c, top, "", "secure-boot-template",
                 &vmc_secure_boot_template_table, &e) == -1)
        return -1;
    vm->secure_boot_template = e;
    if (get_string(c, top, "", "nvram-path", &vm->nvram_path) == -1 ||
        get_enum(c, top, "", "nvram-kind", &vmc_nvram_kind_table, &e) == -1)
        return -1;
    vm->nvram_kind = e;
    if (get_enum(c, top, "", "clock", &vmc_clock_table, &e) == -1)
        return -1;
    vm->clock = e;
    if (get_enum(c, top, "", "graphics", &vmc_graphics_table, &e) == -1)
        return -1;
    vm->graphics = e;
    if (get_int64(c, top, "", "clock-offset", &vm->clock_offset) == -1 ||
        get_uint(c, top, "", "memory-min", INT64_MAX, &vm->memory_min) == -1 ||
        get_uint(c, top, "", "memory-max", INT64_MAX, &vm->memory_max) == -1 ||
        get_uint(c, top, "", "memory-reservation", INT64_MAX,
                 &vm->memory_reservation) == -1)
        return -1;
    if (get_bool(c, top, "", "secure-boot", &vm->secure_boot) == -1 ||
        get_bool(c, top, "", "tpm", &vm->tpm) == -1 ||
        get_bool(c, top, "", "nested-virt", &vm->nested_virt) == -1 ||
        get_string(c, top, "", "machine", &vm->machine) == -1 ||
        get_unsigned(c, top, "", "vcpus", &vm->vcpus) == -1 ||
        get_unsigned(c, top, "", "cpu-sockets", &vm->cpu_sockets) == -1 ||
        get_unsigned(c, top, "", "cpu-cores", &vm->cpu_cores) == -1 ||
        get_unsigned(c, top, "", "cpu-threads", &vm->cpu_threads) == -1 ||
        get_uint(c, top, "", "memory", INT64_MAX, &vm->memory) == -1 ||
        os_from_json(c, top, vm) == -1 ||
        video_from_json(c, top, vm) == -1 ||
        lists_from_json(c, top, vm) == -1 ||
        get_string(c, top, "", "current-snapshot",
                   &vm->current_snapshot) == -1)
        return -1;
    return check_snapshots(c, vm);
}

struct vmc_vm *
vmc_vm_from_json(struct vmc_handle *h, const char *text,
                 const char *source_name)
{
    struct jin c = { h, source_name ? source_name : "VM JSON", 2 };
    CLEANUP_JSON_PUT struct json_object *top = NULL;
    struct json_tokener *tok;
    enum json_tokener_error jerror;
    struct vmc_vm *vm;
    size_t len = strlen(text);
    size_t end;

    if (len > VMC_VM_JSON_MAX) {
        vmc_error(h, "%s: %zu bytes of JSON, more than the %u allowed",
                  c.src, len, VMC_VM_JSON_MAX);
        return NULL;
    }
    tok = json_tokener_new();
    if (tok == NULL) {
        vmc_error(h, "%s: %m", c.src);
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    top = json_tokener_parse_ex(tok, text, (int) len);
    jerror = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerror == json_tokener_continue) {
        vmc_error(h, "%s: invalid JSON: the text ends too early", c.src);
        return NULL;
    }
    if (jerror != json_tokener_success) {
        vmc_error(h, "%s: invalid JSON at byte %zu: %s", c.src, end,
                  json_tokener_error_desc(jerror));
        return NULL;
    }
    end += strspn(text + end, " \t\r\n");
    if (end != len) {
        vmc_error(h, "%s: invalid JSON at byte %zu: text after the end "
                  "of the document", c.src, end);
        return NULL;
    }
    if (!json_object_is_type(top, json_type_object)) {
        vmc_error(h, "%s: expected a JSON object, found %s", c.src,
                  jtype(top));
        return NULL;
    }
    vm = vmc_vm_new(h);
    if (vm == NULL)
        return NULL;
    if (vm_from_json_object(&c, top, vm) == -1) {
        vmc_vm_free(vm);
        return NULL;
    }
    return vm;
}
