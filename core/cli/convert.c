/* vmconv convert: move a VM to another hypervisor.
 *
 * What works today: the command line is parsed and checked, the target
 * plugin is found, the source is recognised and read into the VM model,
 * and --dry-run prints what is known of the job.  The conversion
 * pipeline itself (plan, disk copy, guest fix, write) is not written
 * yet, so every run ends with a plain error saying so.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/convert.h>
#include <vmconv/plugin.h>

#include "cli.h"
#include "vm-print.h"

static void
convert_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv convert SOURCE --to kvm|vmware|hyperv -O OUTDIR\n"
            "                      [--from PLUGIN] [--dry-run]\n"
            "\n"
            "Convert the VM SOURCE for another hypervisor: copy and convert\n"
            "its disks, fix the guest so it boots there, and write the new\n"
            "VM's configuration into OUTDIR.  The source is never changed.\n"
            "\n"
            "Options:\n"
            "      --to PLUGIN       the target hypervisor (a plugin that writes)\n"
            "  -O, --output DIR      where the new VM goes: a new or empty\n"
            "                        directory\n"
            "      --from PLUGIN     read SOURCE with PLUGIN, not the one probing\n"
            "                        best\n"
            "  -n, --dry-run         show what would be done, change nothing\n"
            "      --plugin-dir DIR  load the plugins from DIR\n"
            "  -h, --help            print this help and exit\n"
            "\n"
            "Not implemented yet: the conversion pipeline itself; this command\n"
            "checks its arguments and reads the source, then stops with an\n"
            "error.\n");
}

/* What --dry-run shows: the job as far as it is known without a plan. */
static void
convert_print_job(const struct vmc_vm *vm, const char *to,
                  const char *outdir)
{
    printf("Would convert this VM:\n\n");
    cli_print_vm(stdout, vm);
    printf("\nfor %s (the %s plugin), into ", to, to);
    cli_print_safe(stdout, outdir, 0);
    printf(".\n\n");
    fflush(stdout);
}

int
cmd_convert(int argc, char **argv)
{
    enum { OPT_TO = 256, OPT_FROM };
    static const struct option long_opts[] = {
        { "to", required_argument, NULL, OPT_TO },
        { "output", required_argument, NULL, 'O' },
        { "from", required_argument, NULL, OPT_FROM },
        { "dry-run", no_argument, NULL, 'n' },
        { "plugin-dir", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *to = NULL, *outdir = NULL, *from = NULL, *source;
    struct vmc_loaded_plugin *target, *p;
    struct vmc_handle *h;
    struct vmc_vm *vm;
    bool dry_run = false;
    int c, code = EXIT_ERROR;

    while ((c = getopt_long(argc, argv, "O:nh", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_TO:
            to = optarg;
            break;
        case 'O':
            outdir = optarg;
            break;
        case OPT_FROM:
            from = optarg;
            break;
        case 'n':
            dry_run = true;
            break;
        case 'P':               /* also accepted before the command */
            cli.plugin_dir = optarg;
            break;
        case 'h':
            convert_usage(stdout);
            return EXIT_OK;
        default:
            convert_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_errorf(argc == optind ? "convert: no SOURCE given (see "
                   "'vmconv convert --help')" : "convert: give one SOURCE");
        return EXIT_USAGE;
    }
    source = argv[optind];
    if (to == NULL) {
        cli_errorf("convert: --to is required (kvm, vmware or hyperv)");
        return EXIT_USAGE;
    }
    if (outdir == NULL || *outdir == '\0') {
        cli_errorf("convert: -O OUTDIR is required");
        return EXIT_USAGE;
    }

    h = cli_handle();
    /* OUTDIR must be new or empty: vmconv never mixes its output with
     * files already there.
     */
    if (vmc_outdir_check(h, outdir) == -1) {
        cli_errorf("convert: -O %s", vmc_get_error(h));
        vmc_free(h);
        return EXIT_USAGE;
    }
    if (cli_load_plugins(h) == -1)
        goto out;
    target = vmc_plugin_find(h, to);
    if (target == NULL) {
        cli_errorf("convert: --to %s: no such plugin ('vmconv plugins' "
                   "lists them)", to);
        code = EXIT_USAGE;
        goto out;
    }
    if (!vmc_plugin_can_write(target)) {
        cli_errorf("convert: --to %s: the %s plugin cannot write VMs", to,
                   to);
        code = EXIT_USAGE;
        goto out;
    }
    p = cli_source_plugin(h, "convert", source, from, &code);
    if (p == NULL)
        goto out;
    vm = vmc_plugin_read(h, p, source);
    if (vm == NULL) {
        cli_print_error(h);
        code = EXIT_ERROR;
        goto out;
    }
    if (dry_run)
        convert_print_job(vm, to, outdir);
    vmc_vm_free(vm);
    cli_errorf("convert: the conversion pipeline is not implemented yet");
    code = EXIT_ERROR;
 out:
    vmc_free(h);
    return code;
}
