/* vmconv plugins: list the hypervisor plugins vmconv loads. */
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
            "\n"
            "List the hypervisor plugins: name, version, plugin ABI, whether\n"
            "each reads (is a source) and writes (is a target), its file.\n"
            "Plugins come from --plugin-dir, else $VMCONV_PLUGIN_DIR, else\n"
            "%s.\n"
            "A file in that directory that is not a valid plugin is reported\n"
            "and the exit status is 2.\n"
            "\n"
            "Options:\n"
            "      --json            print a JSON array\n"
            "      --plugin-dir DIR  load the plugins from DIR\n"
            "  -h, --help            print this help and exit\n",
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

static struct json_object *
plugins_json_one(struct vmc_loaded_plugin *p)
{
    struct json_object *o = json_object_new_object();
    const char *version = vmc_plugin_version(p);
    const char *desc = vmc_plugin_description(p);

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
    bool json = false;
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
            plugins_usage(stdout);
            return EXIT_OK;
        default:
            plugins_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("plugins: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }

    h = cli_handle();
    if (cli_load_plugins(h) == -1) {
        vmc_free(h);
        return EXIT_ERROR;
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
    if (r == -1 || refused > 0)
        return EXIT_ERROR;
    return EXIT_OK;
}
