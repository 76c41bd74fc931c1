/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv convert: move a VM to another hypervisor.  The command parses
 * its options into a struct vmc_convert_options, runs vmc_convert
 * (core/pipeline.c) and prints its events: a progress bar per disk on
 * a terminal, JSON lines with --machine-readable, and at the end the
 * plan (--dry-run) or the report, as text or (--json) as the
 * vmconv-convert/1 document.
 */
#include <config.h>

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <vmconv/image.h>
#include <vmconv/pipeline.h>
#include <vmconv/plugin.h>
#include <vmconv/vm.h>

#include "cli.h"
#include "convert-print.h"

static void
convert_usage(FILE *fp)
{
    fprintf(fp,
"Usage: vmconv convert SOURCE [--to PLUGIN] -O OUTDIR [OPTIONS]\n"
"\n"
"Convert the VM SOURCE (a VM configuration a plugin reads, or a bare disk\n"
"image) for another hypervisor: copy and convert its disks, and write the\n"
"new VM into OUTDIR, a new or empty directory.  The source is never changed;\n"
"OUTDIR appears only when everything succeeded.\n"
"\n"
"Source and target:\n"
"      --from PLUGIN        read SOURCE with PLUGIN ('disk': a bare disk image)\n"
"      --to PLUGIN          the target hypervisor (default kvm)\n"
"  -O, --output OUTDIR      where the new VM goes\n"
"      --name NAME          the new VM's name and file names\n"
"      --vm NAME            the VM to read from a source holding several\n"
"  -ic URI                  SOURCE is a domain at this libvirt URI (read\n"
"                           parameter uri=URI; implies --from kvm)\n"
"      --allow-running      read a running VM (read parameter allow-running=on)\n"
"  -io KEY=VALUE            a parameter of the source plugin (repeatable)\n"
"      --vcpus N, --memory SIZE, --firmware bios|uefi\n"
"                           the hardware of a bare disk source (else guessed)\n"
"      --allow-outside-paths, --ignore-parent-id\n"
"                           as for 'vmconv disk convert'\n"
"Target disks:\n"
"  -of FORMAT               disk format (default: the target's first);\n"
"                           'ova' (--to vmware): one OVA package\n"
"  -o KEY=VALUE[,...]       options of that format (repeatable; -o help\n"
"                           lists them)\n"
"  -oa sparse|preallocated  host allocation (default sparse)\n"
"Target configuration:\n"
"      --network SRC:DST    NICs on network SRC go to network DST; DST alone:\n"
"                           every NIC not otherwise mapped (repeatable)\n"
"      --bridge SRC:DST     the same, to the host bridge DST\n"
"      --libvirt-uri URI    define the VM there once written\n"
"      --domain-type TYPE   target parameter domain-type=TYPE\n"
"      --replace            target parameter replace=on\n"
"  -oo KEY=VALUE            a parameter of the target plugin (repeatable)\n"
"Running:\n"
"  -n, --dry-run            read and plan, print the plan, write nothing\n"
"      --json               print the plan or report as JSON\n"
"      --machine-readable   print progress and the result as JSON lines\n"
"      --jobs N             convert N disks at once (default 1)\n"
"      --threads N          copy workers per disk (default: per format)\n"
"      --tmpdir DIR         work directory of the source plugin\n"
"      --no-guest-fix       skip the guest fix\n"
"      --no-verify          do not read the target disks back\n"
"      --no-space-check     write even if the estimate does not fit\n"
"  -q, --quiet / -v, --verbose\n"
"      --plugin-dir DIR     load the plugins from DIR\n"
"  -h, --help               print this help and exit\n"
"\n"
"Exit status: 0 done, 1 bad input, 2 usage, 3 I/O error or out of space,\n"
"4 verification failed, 5 interrupted (vmconv(1)).\n");
}

/* ---- Options ------------------------------------------------------ */

/* A growable list of strings (the caller's argv strings or our own). */
struct strv {
    size_t n;
    const char **v;
    char **owned;                /* strings to free */
    size_t nowned;
};

static int
strv_add(struct strv *s, const char *str, bool own)
{
    const char **v = realloc(s->v, (s->n + 2) * sizeof *v);

    if (v == NULL)
        return -1;
    s->v = v;
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
    if (own) {
        char **o = realloc(s->owned, (s->nowned + 1) * sizeof *o);

        if (o == NULL)
            return -1;
        s->owned = o;
        s->owned[s->nowned++] = (char *) str;
    }
    return 0;
}

/* Add "KEY=VALUE" built from two parts. */
static int
strv_addkv(struct strv *s, const char *key, const char *value)
{
    char *kv;

    if (asprintf(&kv, "%s=%s", key, value) == -1)
        return -1;
    if (strv_add(s, kv, true) == -1) {
        free(kv);
        return -1;
    }
    return 0;
}

static void
strv_free(struct strv *s)
{
    size_t i;

    for (i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s->owned);
    free(s->v);
}

struct convert_args {
    struct vmc_convert_options o;
    struct strv networks, bridges, rparams, wparams;
    char *disk_options;          /* -o joined with ',' */
    bool json, machine;
    bool ic;                     /* -ic given */
    bool ova;                    /* -of ova */
};

static int
args_add_disk_option(struct convert_args *a, const char *opt)
{
    char *s;

    if (a->disk_options == NULL)
        s = strdup(opt);
    else if (asprintf(&s, "%s,%s", a->disk_options, opt) == -1)
        s = NULL;
    if (s == NULL)
        return -1;
    free(a->disk_options);
    a->disk_options = s;
    return 0;
}

static int
parse_count(const char *opt, const char *s, unsigned max, unsigned *v)
{
    char *end;
    unsigned long n = strtoul(s, &end, 10);

    if (*s == '\0' || *end != '\0' || n < 1 || n > max) {
        cli_errorf("convert: %s must be 1 to %u", opt, max);
        return -1;
    }
    *v = (unsigned) n;
    return 0;
}

static int
need_kv(const char *opt, const char *s)
{
    const char *eq = strchr(s, '=');

    if (eq == NULL || eq == s) {
        cli_errorf("convert: %s '%s': expected KEY=VALUE", opt, s);
        return -1;
    }
    return 0;
}

enum {
    OPT_TO = 256, OPT_FROM, OPT_OF, OPT_OA, OPT_NAME, OPT_NETWORK,
    OPT_BRIDGE, OPT_LIBVIRT_URI, OPT_VM, OPT_TMPDIR, OPT_JOBS, OPT_THREADS,
    OPT_NO_GUEST_FIX, OPT_NO_VERIFY, OPT_NO_SPACE_CHECK, OPT_JSON,
    OPT_MACHINE, OPT_DOMAIN_TYPE, OPT_REPLACE, OPT_OO, OPT_IC,
    OPT_ALLOW_RUNNING, OPT_IO, OPT_VCPUS, OPT_MEMORY, OPT_FIRMWARE,
    OPT_ALLOW_OUTSIDE, OPT_IGNORE_PARENT_ID,
};

static const struct option convert_long_opts[] = {
    { "to", required_argument, NULL, OPT_TO },
    { "from", required_argument, NULL, OPT_FROM },
    { "output", required_argument, NULL, 'O' },
    { "of", required_argument, NULL, OPT_OF },
    { "oa", required_argument, NULL, OPT_OA },
    { "oo", required_argument, NULL, OPT_OO },
    { "ic", required_argument, NULL, OPT_IC },
    { "io", required_argument, NULL, OPT_IO },
    { "name", required_argument, NULL, OPT_NAME },
    { "network", required_argument, NULL, OPT_NETWORK },
    { "bridge", required_argument, NULL, OPT_BRIDGE },
    { "libvirt-uri", required_argument, NULL, OPT_LIBVIRT_URI },
    { "vm", required_argument, NULL, OPT_VM },
    { "tmpdir", required_argument, NULL, OPT_TMPDIR },
    { "jobs", required_argument, NULL, OPT_JOBS },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "no-guest-fix", no_argument, NULL, OPT_NO_GUEST_FIX },
    { "no-verify", no_argument, NULL, OPT_NO_VERIFY },
    { "no-space-check", no_argument, NULL, OPT_NO_SPACE_CHECK },
    { "dry-run", no_argument, NULL, 'n' },
    { "json", no_argument, NULL, OPT_JSON },
    { "machine-readable", no_argument, NULL, OPT_MACHINE },
    { "domain-type", required_argument, NULL, OPT_DOMAIN_TYPE },
    { "replace", no_argument, NULL, OPT_REPLACE },
    { "allow-running", no_argument, NULL, OPT_ALLOW_RUNNING },
    { "vcpus", required_argument, NULL, OPT_VCPUS },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "firmware", required_argument, NULL, OPT_FIRMWARE },
    { "allow-outside-paths", no_argument, NULL, OPT_ALLOW_OUTSIDE },
    { "ignore-parent-id", no_argument, NULL, OPT_IGNORE_PARENT_ID },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "plugin-dir", required_argument, NULL, 'P' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
};

/* One option; returns 0, 1 (--help printed) or -1 (usage error,
 * printed).
 */
static int
parse_one(struct convert_args *a, int c, const char *arg)
{
    struct vmc_convert_options *o = &a->o;
    uint64_t v;
    int e, r = 0;

    switch (c) {
    case OPT_TO: o->to = arg; break;
    case OPT_FROM: o->from = arg; break;
    case 'O': o->outdir = arg; break;
    case OPT_OF:
        /* An OVA is a package, not a disk format: -of ova is short for
         * -of vmdk -o subformat=streamOptimized -oo format=ova (the
         * target plugin refuses format=ova if it cannot write one).
         */
        if (strcmp(arg, "ova") == 0) {
            o->disk_format = "vmdk";
            if (!a->ova)
                r = strv_add(&a->wparams, "format=ova", false);
            a->ova = true;
        } else
            o->disk_format = arg;
        break;
    case 'o': r = args_add_disk_option(a, arg); break;
    case OPT_OA:
        e = vmc_allocation_from_string(arg);
        if (e < 0) {
            cli_errorf("convert: -oa must be sparse or preallocated");
            return -1;
        }
        o->allocation = (enum vmc_allocation) e;
        break;
    case OPT_NAME: o->name = arg; break;
    case OPT_NETWORK: r = strv_add(&a->networks, arg, false); break;
    case OPT_BRIDGE: r = strv_add(&a->bridges, arg, false); break;
    case OPT_LIBVIRT_URI: o->libvirt_uri = arg; break;
    case OPT_VM: r = strv_addkv(&a->rparams, "vm", arg); break;
    case OPT_IC:
        r = strv_addkv(&a->rparams, "uri", arg);
        a->ic = true;
        break;
    case OPT_ALLOW_RUNNING:
        r = strv_add(&a->rparams, "allow-running=on", false);
        break;
    case OPT_IO:
        if (need_kv("-io", arg) == -1)
            return -1;
        r = strv_add(&a->rparams, arg, false);
        break;
    case OPT_DOMAIN_TYPE: r = strv_addkv(&a->wparams, "domain-type", arg);
        break;
    case OPT_REPLACE: r = strv_add(&a->wparams, "replace=on", false); break;
    case OPT_OO:
        if (need_kv("-oo", arg) == -1)
            return -1;
        r = strv_add(&a->wparams, arg, false);
        break;
    case OPT_TMPDIR: o->tmpdir = arg; break;
    case OPT_JOBS: return parse_count("--jobs", arg, 16, &o->jobs);
    case OPT_THREADS: return parse_count("--threads", arg, 16, &o->threads);
    case OPT_VCPUS: return parse_count("--vcpus", arg, 4096, &o->vcpus);
    case OPT_MEMORY:
        if (vmc_parse_size(arg, &v) == -1 || v < 1024 * 1024) {
            cli_errorf("convert: --memory '%s': expected a size of at "
                       "least 1M (2G, 4096M)", arg);
            return -1;
        }
        o->memory = v;
        break;
    case OPT_FIRMWARE:
        e = vmc_firmware_from_string(arg);
        if (e <= 0) {
            cli_errorf("convert: --firmware must be bios or uefi");
            return -1;
        }
        o->firmware = e;
        break;
    case OPT_ALLOW_OUTSIDE: o->image_flags |= VMC_IMAGE_ALLOW_OUTSIDE; break;
    case OPT_IGNORE_PARENT_ID:
        o->image_flags |= VMC_IMAGE_IGNORE_PARENT_ID;
        break;
    case OPT_NO_GUEST_FIX: o->no_guest_fix = true; break;
    case OPT_NO_VERIFY: o->no_verify = true; break;
    case OPT_NO_SPACE_CHECK: o->no_space_check = true; break;
    case 'n': o->dry_run = true; break;
    case OPT_JSON: a->json = true; break;
    case OPT_MACHINE: a->machine = true; break;
    case 'q': cli.quiet = true; break;
    case 'v': cli.verbose++; break;
    case 'P': cli.plugin_dir = arg; break;
    case 'h': convert_usage(stdout); return 1;
    default:
        convert_usage(stderr);
        return -1;
    }
    if (r == -1) {
        cli_errorf("convert: out of memory");
        return -1;
    }
    return 0;
}

/* Parse the command line into A.  Returns 0, 1 (--help) or -1. */
static int
parse_args(struct convert_args *a, int argc, char **argv)
{
    int c, r;

    /* Single-dash long options (-of, -oa, -oo, -ic, -io) as virt-v2v
     * spells them; one-letter options stay short.
     */
    while ((c = getopt_long_only(argc, argv, "O:o:nqvh", convert_long_opts,
                                 NULL)) != -1)
        if ((r = parse_one(a, c, optarg)) != 0)
            return r;
    if (argc - optind != 1) {
        cli_errorf(argc == optind ? "convert: no SOURCE given (see "
                   "'vmconv convert --help')" : "convert: give one SOURCE");
        return -1;
    }
    if (a->o.outdir == NULL || *a->o.outdir == '\0') {
        cli_errorf("convert: -O OUTDIR is required");
        return -1;
    }
    if (a->json && a->machine) {
        cli_errorf("convert: --json and --machine-readable both use "
                   "standard output: choose one");
        return -1;
    }
    a->o.source = argv[optind];
    /* A domain of a libvirt connection: the kvm plugin reads those. */
    if (a->ic && a->o.from == NULL)
        a->o.from = "kvm";
    if (a->ova && (a->disk_options == NULL ||
                   strstr(a->disk_options, "subformat=") == NULL) &&
        args_add_disk_option(a, "subformat=streamOptimized") == -1) {
        cli_errorf("convert: out of memory");
        return -1;
    }
    a->o.disk_options = a->disk_options;
    a->o.nr_networks = a->networks.n;
    a->o.networks = a->networks.v;
    a->o.nr_bridges = a->bridges.n;
    a->o.bridges = a->bridges.v;
    a->o.nr_read_params = a->rparams.n;
    a->o.read_params = a->rparams.v;
    a->o.nr_write_params = a->wparams.n;
    a->o.write_params = a->wparams.v;
    return 0;
}

/* ---- Running ------------------------------------------------------ */

/* -o help: the create options of the target disk format (-of, else the
 * target's default).
 */
static int
convert_options_help(struct vmc_handle *h, const struct convert_args *a)
{
    const char *fmt = a->o.disk_format, *to = a->o.to ? a->o.to : "kvm";
    const struct vmc_target_caps *caps;
    struct vmc_loaded_plugin *p;
    char *help;

    if (fmt == NULL) {
        p = vmc_plugin_find(h, to);
        caps = p ? vmc_plugin_target_caps(p) : NULL;
        fmt = caps && caps->disk_formats && caps->disk_formats[0].format
            ? caps->disk_formats[0].format : "qcow2";
    }
    help = vmc_image_create_help(strcmp(fmt, "vhd") == 0 ? "vpc" : fmt);
    if (help == NULL) {
        cli_errorf("convert: -of %s: not a disk format vmconv writes", fmt);
        return EXIT_USAGE;
    }
    printf("Options of the %s format (-o KEY=VALUE,...):\n%s", fmt, help);
    free(help);
    return EXIT_OK;
}

static int
convert_run(struct convert_args *a)
{
    struct vmc_handle *h = cli_handle();
    struct vmc_conversion *conv = NULL;
    struct convert_printer pr;
    const char *json;
    int r, code;

    cli_catch_signals(h);
    convert_printer_init(&pr, a->machine, a->json);
    vmc_set_event_handler(h, convert_print_event, &pr);
    if (cli_load_plugins(h) == -1) {
        code = cli_exit_for_error(h);
        vmc_free(h);
        return code;
    }
    if (a->disk_options && strcmp(a->disk_options, "help") == 0) {
        code = convert_options_help(h, a);
        vmc_free(h);
        return code;
    }
    r = vmc_convert(h, &a->o, &conv);
    vmc_set_event_handler(h, NULL, NULL);
    convert_printer_done(&pr);
    code = r == 0 ? EXIT_OK : cli_exit_for_error(h);
    json = conv ? vmc_conversion_json(conv, true) : NULL;
    if (a->machine)
        convert_print_result(h, conv, code);
    else if (a->json && json)
        printf("%s\n", json);
    else if (json && !cli.quiet)
        convert_print_text(stdout, json, conv);
    if (r == -1)
        cli_print_error(h);
    if (fflush(stdout) != 0 && code == EXIT_OK) {
        cli_errorf("convert: write error on standard output");
        code = EXIT_IO;
    }
    vmc_conversion_free(conv);
    vmc_free(h);
    return code;
}

int
cmd_convert(int argc, char **argv)
{
    struct convert_args a = { .o = VMC_CONVERT_OPTIONS_INIT };
    const char *e = getenv("VMCONV_GUEST_FIX");
    int r;

    /* VMCONV_GUEST_FIX=no: as --no-guest-fix (vmconv(1), ENVIRONMENT). */
    if (e && strcmp(e, "no") == 0)
        a.o.no_guest_fix = true;
    r = parse_args(&a, argc, argv);
    if (r == 0)
        r = convert_run(&a);
    else
        r = r == 1 ? EXIT_OK : EXIT_USAGE;
    strv_free(&a.networks);
    strv_free(&a.bridges);
    strv_free(&a.rparams);
    strv_free(&a.wparams);
    free(a.disk_options);
    return r;
}
