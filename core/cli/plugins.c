/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv plugins: list the hypervisor plugins vmconv loads; with
 * --help NAME, describe one: what it can do, the target capabilities
 * it declares and the parameters it takes.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <vmconv/plugin.h>

#include "cli.h"
#include "vm-print.h"

static void
plugins_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv plugins [--json] [--plugin-dir DIR]\n"
            "       vmconv plugins --help NAME\n"
            "\n"
            "List the hypervisor plugins: name, version, plugin ABI, whether\n"
            "each reads (is a source) and writes (is a target), its file.\n"
            "--json adds the VM model version, the target capabilities and\n"
            "the parameters of each.  --help NAME describes plugin NAME.\n"
            "Plugins come from --plugin-dir, else $VMCONV_PLUGIN_DIR, else\n"
            "%s.\n"
            "A file in that directory that is not a valid plugin is reported\n"
            "and the exit status is 2.\n"
            "\n"
            "Options:\n"
            "      --json            print a JSON array\n"
            "      --plugin-dir DIR  load the plugins from DIR\n"
            "  -h, --help [NAME]     print this help, or plugin NAME's, and exit\n",
            PLUGINDIR);
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static void
plugins_print_table(struct vmc_handle *h)
{
    size_t i, n = vmc_plugin_count(h);

    printf("%-10s %-8s %-3s %-4s %-5s %-20s %s\n", "NAME", "VERSION", "ABI",
           "READ", "WRITE", "FILE", "DESCRIPTION");
    for (i = 0; i < n; i++) {
        struct vmc_loaded_plugin *p = vmc_plugin_get(h, i);
        const char *version = vmc_plugin_version(p);
        const char *desc = vmc_plugin_description(p);

        printf("%-10s %-8s %-3u %-4s %-5s %-20s ", vmc_plugin_name(p),
               version ? version : "-", vmc_plugin_api_version(p),
               vmc_plugin_can_read(p) ? "yes" : "no",
               vmc_plugin_can_write(p) ? "yes" : "no",
               base_name(vmc_plugin_file(p)));
        cli_print_safe(stdout, desc ? desc : "-", 0);
        putchar('\n');
    }
    printf("\n%zu plugin%s loaded from %s\n", n, n == 1 ? "" : "s",
           vmc_plugins_dir(h));
}

/* Each value of a capability MASK, by name (TO_STRING of the enum),
 * the default marked, separated by ", ".
 */
static void
plugins_print_mask(const char *label, uint64_t mask, int def, int last,
                   const char *(*to_string)(int), const char *def_note)
{
    const char *sep = "";
    int v;

    printf("%-14s", label);
    for (v = 0; v < last; v++)
        if (mask & VMC_CAP(v)) {
            printf("%s%s%s", sep, to_string(v),
                   v == def ? def_note : "");
            sep = ", ";
        }
    printf("%s\n", *sep ? "" : "none declared");
}

/* The enums' name tables, as int -> name for plugins_print_mask. */
static const char *bus_name(int v) { return vmc_disk_bus_to_string(v); }
static const char *ctrl_name(int v)
{
    return vmc_controller_model_to_string(v);
}
static const char *nic_name(int v) { return vmc_nic_model_to_string(v); }
static const char *video_name(int v) { return vmc_video_model_to_string(v); }
static const char *fw_name(int v) { return vmc_firmware_to_string(v); }

static void
plugins_print_caps(const struct vmc_target_caps *c)
{
    size_t i, j;

    plugins_print_mask("disk buses:", c->disk_buses, c->default_disk_bus,
                       VMC_DISK_BUS_LAST, bus_name, " (default)");
    plugins_print_mask("controllers:", c->controller_models,
                       c->default_scsi_controller, VMC_CONTROLLER_MODEL_LAST,
                       ctrl_name, " (default for scsi)");
    plugins_print_mask("NIC models:", c->nic_models, c->default_nic_model,
                       VMC_NIC_MODEL_LAST, nic_name, " (default)");
    plugins_print_mask("video:", c->video_models, c->default_video_model,
                       VMC_VIDEO_MODEL_LAST, video_name, " (default)");
    plugins_print_mask("firmware:", c->firmware, c->default_firmware,
                       VMC_FIRMWARE_LAST, fw_name, " (default)");
    printf("%-14s", "disk formats:");
    for (i = 0; c->disk_formats && c->disk_formats[i].format; i++) {
        const struct vmc_target_format *f = &c->disk_formats[i];

        printf("%s", i ? "\n              " : "");
        cli_print_safe(stdout, f->format, 0);
        printf("%s", i == 0 ? " (default)" : "");
        for (j = 0; f->subformats && f->subformats[j]; j++) {
            printf("%s", j ? ", " : ": ");
            cli_print_safe(stdout, f->subformats[j], 0);
            printf("%s", j == 0 ? " (default)" : "");
        }
    }
    printf("%s\n", i ? "" : "none declared");
}

/* vmconv plugins --help NAME. */
static int
plugins_print_help(struct vmc_handle *h, const char *name)
{
    struct vmc_loaded_plugin *p = vmc_plugin_find(h, name);
    const struct vmc_target_caps *caps;
    const char *version, *desc, *help;

    if (p == NULL) {
        cli_errorf("plugins: --help %s: no such plugin ('vmconv plugins' "
                   "lists them)", name);
        return EXIT_USAGE;
    }
    version = vmc_plugin_version(p);
    desc = vmc_plugin_description(p);
    printf("%s %s: ", vmc_plugin_name(p), version ? version : "-");
    cli_print_safe(stdout, desc ? desc : "-", 0);
    printf("\n\n%-14s%s\n", "file:", vmc_plugin_file(p));
    printf("%-14splugin ABI %u, VM model %u\n", "built for:",
           vmc_plugin_api_version(p), vmc_plugin_model_version(p));
    printf("%-14sprobe%s%s%s\n", "can:",
           vmc_plugin_can_read(p) ? ", read (source)" : "",
           vmc_plugin_can_write(p) ? ", write (target)" : "",
           vmc_plugin_can_finish(p) ? ", finish" : "");
    caps = vmc_plugin_target_caps(p);
    if (caps)
        plugins_print_caps(caps);
    else if (vmc_plugin_can_write(p))
        printf("%-14snot declared\n", "capabilities:");
    help = vmc_plugin_config_help(p);
    if (help && *help) {
        printf("parameters:\n  ");
        cli_print_safe(stdout, help, 2);
        putchar('\n');
    }
    else
        printf("%-14snone\n", "parameters:");
    return EXIT_OK;
}

/* MASK as an array of names (TO_STRING of the enum). */
static struct json_object *
plugins_json_mask(uint64_t mask, int last, const char *(*to_string)(int))
{
    struct json_object *a = json_object_new_array();
    int v;

    for (v = 0; a && v < last; v++)
        if (mask & VMC_CAP(v))
            json_object_array_add(a, json_object_new_string(to_string(v)));
    return a;
}

static struct json_object *
plugins_json_caps(const struct vmc_target_caps *c)
{
    struct json_object *o = json_object_new_object();
    struct json_object *formats = json_object_new_array();
    size_t i, j;

    if (o == NULL || formats == NULL) {
        json_object_put(o);
        json_object_put(formats);
        return NULL;
    }
    json_object_object_add(o, "disk-buses",
        plugins_json_mask(c->disk_buses, VMC_DISK_BUS_LAST, bus_name));
    json_object_object_add(o, "default-disk-bus",
        json_object_new_string(bus_name(c->default_disk_bus)));
    json_object_object_add(o, "controller-models",
        plugins_json_mask(c->controller_models, VMC_CONTROLLER_MODEL_LAST,
                          ctrl_name));
    json_object_object_add(o, "default-scsi-controller",
        json_object_new_string(ctrl_name(c->default_scsi_controller)));
    json_object_object_add(o, "nic-models",
        plugins_json_mask(c->nic_models, VMC_NIC_MODEL_LAST, nic_name));
    json_object_object_add(o, "default-nic-model",
        json_object_new_string(nic_name(c->default_nic_model)));
    json_object_object_add(o, "video-models",
        plugins_json_mask(c->video_models, VMC_VIDEO_MODEL_LAST,
                          video_name));
    json_object_object_add(o, "default-video-model",
        json_object_new_string(video_name(c->default_video_model)));
    json_object_object_add(o, "firmware",
        plugins_json_mask(c->firmware, VMC_FIRMWARE_LAST, fw_name));
    json_object_object_add(o, "default-firmware",
        json_object_new_string(fw_name(c->default_firmware)));
    for (i = 0; c->disk_formats && c->disk_formats[i].format; i++) {
        const struct vmc_target_format *f = &c->disk_formats[i];
        struct json_object *fo = json_object_new_object();
        struct json_object *subs = json_object_new_array();

        for (j = 0; subs && f->subformats && f->subformats[j]; j++)
            json_object_array_add(subs,
                                  json_object_new_string(f->subformats[j]));
        json_object_object_add(fo, "format",
                               json_object_new_string(f->format));
        json_object_object_add(fo, "subformats", subs);
        json_object_array_add(formats, fo);
    }
    json_object_object_add(o, "disk-formats", formats);
    json_object_object_add(o, "default-disk-format",
        i ? json_object_new_string(c->disk_formats[0].format) : NULL);
    return o;
}

static struct json_object *
plugins_json_one(struct vmc_loaded_plugin *p)
{
    struct json_object *o = json_object_new_object();
    const char *version = vmc_plugin_version(p);
    const char *desc = vmc_plugin_description(p);
    const struct vmc_target_caps *caps;
    const char *help;

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "name",
                           json_object_new_string(vmc_plugin_name(p)));
    json_object_object_add(o, "version",
                           version ? json_object_new_string(version) : NULL);
    json_object_object_add(o, "description",
                           desc ? json_object_new_string(desc) : NULL);
    json_object_object_add(o, "file",
                           json_object_new_string(vmc_plugin_file(p)));
    json_object_object_add(o, "abi-version",
                           json_object_new_int64(vmc_plugin_api_version(p)));
    json_object_object_add(o, "read",
                           json_object_new_boolean(vmc_plugin_can_read(p)));
    json_object_object_add(o, "write",
                           json_object_new_boolean(vmc_plugin_can_write(p)));
    json_object_object_add(o, "model-version",
                           json_object_new_int64(vmc_plugin_model_version(p)));
    json_object_object_add(o, "finish",
                           json_object_new_boolean(vmc_plugin_can_finish(p)));
    help = vmc_plugin_config_help(p);
    json_object_object_add(o, "config-help",
                           help ? json_object_new_string(help) : NULL);
    caps = vmc_plugin_target_caps(p);
    json_object_object_add(o, "caps", caps ? plugins_json_caps(caps) : NULL);
    return o;
}

static int
plugins_print_json(struct vmc_handle *h)
{
    struct json_object *a = json_object_new_array();
    size_t i;

    if (a == NULL) {
        cli_errorf("plugins: out of memory");
        return -1;
    }
    for (i = 0; i < vmc_plugin_count(h); i++) {
        struct json_object *o = plugins_json_one(vmc_plugin_get(h, i));

        if (o == NULL || json_object_array_add(a, o) != 0) {
            json_object_put(o);
            json_object_put(a);
            cli_errorf("plugins: out of memory");
            return -1;
        }
    }
    puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
                                        JSON_C_TO_STRING_SPACED |
                                        JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(a);
    return 0;
}

int
cmd_plugins(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "plugin-dir", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct vmc_handle *h;
    bool json = false, help = false;
    size_t i, refused;
    int c, r;

    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'P':               /* also accepted before the command */
            cli.plugin_dir = optarg;
            break;
        case 'h':
            help = true;
            break;
        default:
            plugins_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (help && optind == argc) {
        plugins_usage(stdout);
        return EXIT_OK;
    }
    if (optind != argc && !(help && optind + 1 == argc)) {
        cli_errorf("plugins: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }

    h = cli_handle();
    if (cli_load_plugins(h) == -1) {
        r = cli_exit_for_error(h);
        vmc_free(h);
        return r;
    }
    if (help) {
        r = plugins_print_help(h, argv[optind]);
        vmc_free(h);
        return r;
    }
    r = json ? plugins_print_json(h) : (plugins_print_table(h), 0);
    /* Refusals were logged as warnings while loading; with --quiet
     * nobody saw them, but this command is about plugins: say it.
     */
    refused = vmc_plugins_refused_count(h);
    if (cli.quiet)
        for (i = 0; i < refused; i++)
            cli_errorf("%s", vmc_plugins_refused(h, i));
    vmc_free(h);
    /* A file that is not a valid plugin is bad input. */
    if (r == -1 || refused > 0)
        return EXIT_BAD_INPUT;
    return EXIT_OK;
}
