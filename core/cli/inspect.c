/* vmconv inspect: read a VM with the plugin that recognises it and show
 * its neutral model.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmconv/plugin.h>

#include "cli.h"
#include "vm-print.h"

static void
inspect_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv inspect [--from PLUGIN] [--json] SOURCE\n"
            "\n"
            "Read the VM SOURCE (a .vmx, a Hyper-V configuration, libvirt XML,\n"
            "...) with the plugin that recognises it and describe it: firmware,\n"
            "CPUs, memory, disks, NICs, snapshots.  Nothing is changed.\n"
            "\n"
            "Options:\n"
            "      --from PLUGIN     read SOURCE with PLUGIN, not the one probing\n"
            "                        best\n"
            "      --json            print the model as JSON (vmconv-vm-json(5))\n"
            "      --plugin-dir DIR  load the plugins from DIR\n"
            "  -h, --help            print this help and exit\n");
}

int
cmd_inspect(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "from", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "plugin-dir", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *from = NULL;
    const char *source;
    struct vmc_handle *h;
    struct vmc_loaded_plugin *p;
    struct vmc_vm *vm;
    bool json = false;
    char *text;
    int c, code = EXIT_ERROR;

    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'P':               /* also accepted before the command */
            cli.plugin_dir = optarg;
            break;
        case 'h':
            inspect_usage(stdout);
            return EXIT_OK;
        default:
            inspect_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_errorf(argc == optind ? "inspect: no SOURCE given (see "
                   "'vmconv inspect --help')" : "inspect: give one SOURCE");
        return EXIT_USAGE;
    }
    source = argv[optind];

    h = cli_handle();
    if (cli_load_plugins(h) == -1)
        goto out;
    p = cli_source_plugin(h, "inspect", source, from, &code);
    if (p == NULL)
        goto out;
    vm = vmc_plugin_read(h, p, source);
    if (vm == NULL) {
        cli_print_error(h);
        code = EXIT_ERROR;
        goto out;
    }
    if (json) {
        text = vmc_vm_to_json(vm);
        if (text == NULL) {
            cli_print_error(h);
            code = EXIT_ERROR;
        }
        else {
            fputs(text, stdout);
            free(text);
            code = EXIT_OK;
        }
    }
    else {
        cli_print_vm(stdout, vm);
        code = EXIT_OK;
    }
    vmc_vm_free(vm);
 out:
    vmc_free(h);
    if (code == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_errorf("inspect: write error on standard output");
        code = EXIT_ERROR;
    }
    return code;
}
