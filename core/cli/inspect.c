/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv inspect: read a VM with the plugin that recognises it and show
 * its neutral model.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <vmconv/guest.h>
#include <vmconv/image.h>
#include <vmconv/plugin.h>

#include "cli.h"
#include "guest-print.h"
#include "vm-print.h"

static void
inspect_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv inspect [--from PLUGIN] [--json] [--guest]\n"
            "                      [-ic URI] [-io KEY=VALUE]... SOURCE\n"
            "\n"
            "Read the VM SOURCE (a .vmx, a Hyper-V configuration, libvirt XML,\n"
            "...) with the plugin that recognises it and describe it: firmware,\n"
            "CPUs, memory, disks, NICs, snapshots.  Nothing is changed.\n"
            "\n"
            "Options:\n"
            "      --from PLUGIN     read SOURCE with PLUGIN, not the one probing\n"
            "                        best\n"
            "      --json            print the model as JSON (vmconv-vm-json(5))\n"
            "      --guest           also inspect the guest operating system on\n"
            "                        the disks (libguestfs, read-only): OS, kernels,\n"
            "                        drivers in their initramfs\n"
            "      --allow-outside-paths, --ignore-parent-id\n"
            "                        open the disks' chains as vmconv convert does\n"
            "  -ic URI               SOURCE is a domain at this libvirt URI (the\n"
            "                        source plugin's read parameter uri=URI)\n"
            "  -io KEY=VALUE         a read parameter for the source plugin\n"
            "                        ('vmconv plugins --help PLUGIN' lists them)\n"
            "      --plugin-dir DIR  load the plugins from DIR\n"
            "  -h, --help            print this help and exit\n");
}

/* Print the model's JSON TEXT, with the "guest" object GTEXT added
 * when not NULL.  Returns an exit code.
 */
static int
inspect_print_json(const char *text, const char *gtext)
{
    struct json_object *doc, *g;

    if (gtext == NULL) {
        fputs(text, stdout);
        return EXIT_OK;
    }
    doc = json_tokener_parse(text);
    g = json_tokener_parse(gtext);
    if (doc == NULL || g == NULL) {
        json_object_put(doc);
        json_object_put(g);
        cli_errorf("inspect: out of memory");
        return EXIT_IO;
    }
    json_object_object_add(doc, "guest", g);
    printf("%s\n", json_object_to_json_string_ext(
        doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
        JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
    return EXIT_OK;
}

int
cmd_inspect(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "from", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "guest", no_argument, NULL, 'g' },
        { "allow-outside-paths", no_argument, NULL, 'A' },
        { "ignore-parent-id", no_argument, NULL, 'I' },
        { "plugin-dir", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { "ic", required_argument, NULL, 'c' },
        { "io", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 }
    };
    const char *from = NULL;
    char *ic_param = NULL;
    const char **params = NULL;
    size_t nr_params = 0;
    const char *source;
    struct vmc_handle *h;
    struct vmc_loaded_plugin *p;
    struct vmc_vm *vm;
    bool json = false, guest = false;
    unsigned image_flags = 0;
    char *text, *gtext = NULL;
    int c, code = EXIT_BAD_INPUT;

    /* getopt_long_only: -ic and -io are long options with one dash, as
     * virt-v2v spells them.
     */
    params = calloc((size_t) argc + 1, sizeof *params);
    if (params == NULL) {
        cli_errorf("inspect: out of memory");
        return EXIT_IO;
    }
    while ((c = getopt_long_only(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            free(ic_param);
            if (asprintf(&ic_param, "uri=%s", optarg) == -1) {
                ic_param = NULL;
                cli_errorf("inspect: out of memory");
                free(params);
                return EXIT_IO;
            }
            break;
        case 'o':
            if (strchr(optarg, '=') == NULL) {
                cli_errorf("inspect: -io %s: give KEY=VALUE", optarg);
                free(ic_param);
                free(params);
                return EXIT_USAGE;
            }
            params[nr_params++] = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'g':
            guest = true;
            break;
        case 'A':
            image_flags |= VMC_IMAGE_ALLOW_OUTSIDE;
            break;
        case 'I':
            image_flags |= VMC_IMAGE_IGNORE_PARENT_ID;
            break;
        case 'P':               /* also accepted before the command */
            cli.plugin_dir = optarg;
            break;
        case 'h':
            inspect_usage(stdout);
            free(ic_param);
            free(params);
            return EXIT_OK;
        default:
            inspect_usage(stderr);
            free(ic_param);
            free(params);
            return EXIT_USAGE;
        }
    }
    if (ic_param)
        params[nr_params++] = ic_param;
    if (argc - optind != 1) {
        cli_errorf(argc == optind ? "inspect: no SOURCE given (see "
                   "'vmconv inspect --help')" : "inspect: give one SOURCE");
        free(ic_param);
        free(params);
        return EXIT_USAGE;
    }
    source = argv[optind];
    /* A domain of a libvirt connection: the kvm plugin reads those. */
    if (ic_param && from == NULL)
        from = "kvm";

    h = cli_handle();
    if (cli_load_plugins(h) == -1)
        goto out;
    p = cli_source_plugin(h, "inspect", source, from, &code);
    if (p == NULL)
        goto out;
    {
        struct vmc_read_options ro = {
            ._struct_size = sizeof ro,
            .nr_params = nr_params,
            .params = params,
        };

        vm = vmc_plugin_read_opts(h, p, source, &ro);
    }
    if (vm == NULL) {
        cli_print_error(h);
        code = cli_exit_for_error(h);
        goto out;
    }
    if (guest) {
        gtext = vmc_guest_inspect(h, vm, image_flags);
        if (gtext == NULL) {
            cli_print_error(h);
            code = cli_exit_for_error(h);
            vmc_vm_free(vm);
            goto out;
        }
    }
    if (json) {
        text = vmc_vm_to_json(vm);
        if (text == NULL) {
            cli_print_error(h);
            code = cli_exit_for_error(h);
        }
        else {
            code = inspect_print_json(text, gtext);
            free(text);
        }
    }
    else {
        cli_print_vm(stdout, vm);
        code = EXIT_OK;
        if (gtext) {
            struct json_object *g = json_tokener_parse(gtext);

            cli_print_guest(stdout, g, "");
            json_object_put(g);
        }
    }
    free(gtext);
    vmc_vm_free(vm);
 out:
    vmc_free(h);
    free(ic_param);
    free(params);
    if (code == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_errorf("inspect: write error on standard output");
        code = EXIT_IO;
    }
    return code;
}
