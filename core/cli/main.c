/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv: the command.  A thin front over libvmconv: parses the global
 * options, installs the handlers that print, and dispatches to one
 * subcommand.
 */
#include <config.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmconv/util.h>

#include "cli.h"

struct cli_globals cli;

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    { "convert", cmd_convert, "convert a VM to another hypervisor" },
    { "inspect", cmd_inspect, "describe a VM (its neutral model)" },
    { "disk",    cmd_disk,    "convert, inspect, compare, check disk images" },
    { "plugins", cmd_plugins, "list the hypervisor plugins" },
};

static void
usage(FILE *fp)
{
    size_t i;

    fprintf(fp,
            "Usage: vmconv [-v|-q] [--plugin-dir DIR] COMMAND [ARGS...]\n"
            "       vmconv --version | --help\n"
            "\n"
            "Move virtual machines and disk images between hypervisors.\n"
            "\n"
            "Commands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp,
            "\n"
            "Options:\n"
            "  -v, --verbose        print debug messages (twice: more)\n"
            "  -q, --quiet          print errors only\n"
            "      --plugin-dir DIR load plugins from DIR\n"
            "  -V, --version        print the version and exit\n"
            "  -h, --help           print this help and exit\n"
            "\n"
            "'vmconv COMMAND --help' describes a command; vmconv(1) has the\n"
            "details and the exit codes.\n");
}

void
cli_errorf(const char *fmt, ...)
{
    va_list ap;

    fputs("vmconv: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
cli_print_error(struct vmc_handle *h)
{
    /* The library names no command line option; hints give ours. */
    static const char *const hints[VMC_HINT_LAST] = {
        [VMC_HINT_ALLOW_OUTSIDE] =
            " (use --allow-outside-paths if you trust this image)",
        [VMC_HINT_IGNORE_PARENT_ID] =
            " (use --ignore-parent-id to read it anyway)",
        [VMC_HINT_CREATE_OPTIONS] =
            " (-o help lists the options of this format)",
    };
    const char *msg = vmc_get_error(h);
    enum vmc_error_hint hint = vmc_get_error_hint(h);
    const char *extra = hint > VMC_HINT_NONE && hint < VMC_HINT_LAST
        ? hints[hint] : NULL;

    cli_errorf("%s%s", msg ? msg : "unknown error", extra ? extra : "");
}

static void
cli_log(void *opaque, enum vmc_log_level level, const char *msg)
{
    switch (level) {
    case VMC_LOG_WARNING:
        if (!cli.quiet)
            fprintf(stderr, "vmconv: warning: %s\n", msg);
        break;
    case VMC_LOG_INFO:
        if (!cli.quiet)
            fprintf(stderr, "vmconv: %s\n", msg);
        break;
    case VMC_LOG_DEBUG:
        fprintf(stderr, "vmconv: debug: %s\n", msg);
        break;
    default:
        break;
    }
}

struct vmc_handle *
cli_handle(void)
{
    struct vmc_handle *h = vmc_new();

    if (h == NULL) {
        perror("vmconv");
        exit(EXIT_IO);
    }
    vmc_set_log_handler(h, cli_log, NULL);
    vmc_set_verbose(h, cli.verbose);
    return h;
}

int
main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "plugin-dir", required_argument, NULL, 'P' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *env;
    size_t i;
    int c;

    /* Stop at the first non-option: the rest belongs to the command. */
    while ((c = getopt_long(argc, argv, "+vqVh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            cli.verbose++;
            break;
        case 'q':
            cli.quiet = true;
            break;
        case 'P':
            cli.plugin_dir = optarg;
            break;
        case 'V':
            printf("vmconv %s\n", PACKAGE_VERSION);
            return EXIT_OK;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if ((env = getenv("VMCONV_DEBUG")) != NULL && *env && cli.verbose == 0)
        cli.verbose = 1;
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0) {
            argc -= optind;
            argv += optind;
            optind = 0;         /* reset getopt for the subcommand */
            return commands[i].fn(argc, argv);
        }
    cli_errorf("unknown command '%s' (vmconv --help lists them)",
               argv[optind]);
    return EXIT_USAGE;
}
