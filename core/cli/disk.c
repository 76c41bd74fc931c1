/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv disk: convert, info, compare, check, create and map disk
 * images, the way qemu-img users expect.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <vmconv/convert.h>

#include "cli.h"

/* Exit codes of `disk check`, as qemu-img check has them. */
enum {
    CHECK_CLEAN = 0,
    CHECK_FAILED = 1,
    CHECK_CORRUPT = 2,
    CHECK_LEAKS = 3,
    CHECK_UNSUPPORTED = 63,
};

/* Options shared by the subcommands that open images. */
enum {
    OPT_ALLOW_OUTSIDE = 256,
    OPT_IGNORE_PARENT_ID,
    OPT_MACHINE_READABLE,
    OPT_JSON,
    OPT_VERIFY,
    OPT_FSYNC,
};

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- Progress ----------------------------------------------------- */

struct progress {
    bool bar;                    /* -p */
    bool machine;                /* --machine-readable */
    bool tty;
    double start;
    int last_percent;
};

static void
progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    struct progress *p = opaque;
    double pct = total ? 100.0 * (double) done / (double) total : 100.0;

    if (done == total && p->last_percent == 100)
        return;                 /* the final call comes once */
    if (p->machine) {
        printf("{\"event\": \"progress\", \"done\": %" PRIu64 ", \"total\": %"
               PRIu64 ", \"percent\": %.2f}\n", done, total, pct);
        fflush(stdout);
        p->last_percent = (int) pct;
        return;
    }
    if (!p->bar)
        return;
    if (p->tty) {
        char d[32], t[32];
        int width = 30, fill = (int) (pct * width / 100), i;
        double secs = now_seconds() - p->start;

        cli_format_size(d, sizeof d, done);
        cli_format_size(t, sizeof t, total);
        fputs("\r[", stderr);
        for (i = 0; i < width; i++)
            fputc(i < fill ? '#' : ' ', stderr);
        fprintf(stderr, "] %5.1f%%  %s / %s", pct, d, t);
        if (secs > 0.5) {
            char r[32];

            cli_format_size(r, sizeof r, (uint64_t) ((double) done / secs));
            fprintf(stderr, "  %s/s", r);
        }
        fputs("   ", stderr);
        if (done == total)
            fputc('\n', stderr);
    } else if ((int) pct / 10 != p->last_percent / 10 || done == total) {
        /* Not a terminal: a line every 10%, qemu-img style. */
        fprintf(stderr, "    (%.2f/100%%)\n", pct);
    }
    p->last_percent = (int) pct;
}

/* ---- Helpers ------------------------------------------------------ */

static unsigned
open_flags(bool allow_outside, bool ignore_parent)
{
    return (allow_outside ? VMC_IMAGE_ALLOW_OUTSIDE : 0) |
           (ignore_parent ? VMC_IMAGE_IGNORE_PARENT_ID : 0);
}

/* True if the source NAME is an NBD URI (nbd://, nbds://, nbd+unix://,
 * nbds+unix://), not a file.
 */
static bool
source_is_uri(const char *name)
{
    return strncmp(name, "nbd", 3) == 0 && strstr(name, "://") != NULL;
}

/* Open the source image NAME: an NBD URI or a file. */
static struct vmc_image *
open_source(struct vmc_handle *h, const char *name, const char *fmt,
            unsigned flags)
{
    if (source_is_uri(name))
        return vmc_image_open_uri(h, name, fmt, flags);
    return vmc_image_open_name(h, name, fmt, flags);
}

static int
bad_usage(const char *cmd)
{
    fprintf(stderr, "Try 'vmconv disk %s --help'.\n", cmd);
    return EXIT_USAGE;
}

/* ---- disk info ---------------------------------------------------- */

/* Continuation lines of a value holding newlines are indented, so a
 * name read from an image cannot forge a line of its own.
 */
#define INFO_INDENT 4

/* Print V (strings from the image: terminal-safe) and a newline. */
static void
info_print_value(struct json_object *v)
{
    if (json_object_is_type(v, json_type_object) ||
        json_object_is_type(v, json_type_array))
        /* json-c escapes control characters as \u00XX. */
        cli_print_safe(stdout, json_object_to_json_string_ext(v,
                           JSON_C_TO_STRING_PLAIN |
                           JSON_C_TO_STRING_NOSLASHESCAPE), INFO_INDENT);
    else {
        const char *str = json_object_get_string(v);

        cli_print_safe(stdout, str ? str : "(none)", INFO_INDENT);
    }
    putchar('\n');
}

static void
info_print_human(struct json_object *o, int depth)
{
    struct json_object *v;
    char a[32], b[32];

    json_object_object_get_ex(o, "filename", &v);
    printf("%simage: ", depth ? "\n" : "");
    info_print_value(v);
    json_object_object_get_ex(o, "format", &v);
    printf("file format: ");
    info_print_value(v);
    json_object_object_get_ex(o, "virtual-size", &v);
    cli_format_size(a, sizeof a, (uint64_t) json_object_get_int64(v));
    printf("virtual size: %s (%" PRId64 " bytes)\n", a,
           json_object_get_int64(v));
    json_object_object_get_ex(o, "actual-size", &v);
    cli_format_size(b, sizeof b, (uint64_t) json_object_get_int64(v));
    printf("disk size: %s\n", b);
    json_object_object_foreach(o, key, val) {
        if (!strcmp(key, "filename") || !strcmp(key, "format") ||
            !strcmp(key, "virtual-size") || !strcmp(key, "actual-size") ||
            !strcmp(key, "backing"))
            continue;
        cli_print_safe(stdout, key, INFO_INDENT);
        printf(": ");
        info_print_value(val);
    }
    if (json_object_object_get_ex(o, "backing", &v))
        info_print_human(v, depth + 1);
}

static void
disk_info_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv disk info [-f FMT] [--json] [OPTIONS] IMAGE\n"
            "\n"
            "Describe a disk image and its backing chain: format, subformat,\n"
            "virtual size, allocated bytes, cluster size, backing files,\n"
            "dirty or log state.\n"
            "\n"
            "  -f, --format FMT          do not probe: IMAGE is FMT\n"
            "      --json                print JSON (schema in vmconv(1))\n"
            "      --allow-outside-paths follow backing names that leave\n"
            "                            the image's directory\n"
            "      --ignore-parent-id    open chains whose parent IDs do not\n"
            "                            match (with a warning)\n"
            "  -h, --help                print this help\n");
}

static int
disk_info(int argc, char **argv)
{
    static const struct option lo[] = {
        { "format", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, OPT_JSON },
        { "output", required_argument, NULL, 'o' },
        { "allow-outside-paths", no_argument, NULL, OPT_ALLOW_OUTSIDE },
        { "ignore-parent-id", no_argument, NULL, OPT_IGNORE_PARENT_ID },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *fmt = NULL;
    bool json = false, outside = false, ignore_parent = false;
    struct vmc_handle *h;
    struct vmc_image *img;
    char *text;
    int c, r;

    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case OPT_JSON: json = true; break;
        case 'o':               /* qemu-img spelling: --output=json */
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "human") != 0) {
                cli_errorf("disk info: --output must be json or human");
                return bad_usage("info");
            }
            break;
        case OPT_ALLOW_OUTSIDE: outside = true; break;
        case OPT_IGNORE_PARENT_ID: ignore_parent = true; break;
        case 'h': disk_info_usage(stdout); return EXIT_OK;
        default: return bad_usage("info");
        }
    }
    if (argc - optind != 1) {
        cli_errorf("disk info: expected one IMAGE");
        return bad_usage("info");
    }
    h = cli_handle();
    img = open_source(h, argv[optind], fmt,
                      open_flags(outside, ignore_parent));
    if (img == NULL) {
        cli_print_error(h);
        r = cli_exit_for_error(h);
        vmc_free(h);
        return r;
    }
    text = vmc_image_info_json(img);
    if (text == NULL) {
        cli_print_error(h);
        r = cli_exit_for_error(h);
        vmc_image_close(img);
        vmc_free(h);
        return r;
    }
    if (json)
        printf("%s\n", text);
    else {
        struct json_object *o = json_tokener_parse(text);

        info_print_human(o, 0);
        json_object_put(o);
    }
    free(text);
    vmc_image_close(img);
    vmc_free(h);
    return EXIT_OK;
}

/* ---- disk convert ------------------------------------------------- */

static void
disk_convert_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv disk convert [-f FMT] -O FMT [-o OPTIONS] [-c] [-p]\n"
            "                           [--machine-readable] [OPTIONS] IN OUT\n"
            "\n"
            "Copy the disk IN (with its whole backing chain, flattened) into\n"
            "a new image OUT of format FMT.  IN is only read.  OUT appears\n"
            "only when the copy has succeeded; on error or interruption\n"
            "nothing is left behind.\n"
            "\n"
            "  -f, --source-format FMT   do not probe: IN is FMT\n"
            "  -O, --target-format FMT   raw, qcow2, vmdk, vhdx or vpc (vhd)\n"
            "  -o, --options K=V,...     options of the target format\n"
            "                            (-o help lists them)\n"
            "  -c, --compress            compress the output (qcow2;\n"
            "                            vmdk: use -o subformat=streamOptimized)\n"
            "  -p, --progress            show progress\n"
            "      --machine-readable    progress and result as JSON lines\n"
            "  -m, --threads N           worker threads (default: cores, at\n"
            "                            least 4 for uncompressed output)\n"
            "      --request-size SIZE   bytes per request (default 4M)\n"
            "      --verify              compare OUT with IN after writing\n"
            "      --fsync               have OUT on disk before it appears\n"
            "                            (default: left to the kernel, as\n"
            "                            qemu-img and cp do)\n"
            "      --allow-outside-paths follow backing names that leave\n"
            "                            the image's directory\n"
            "      --ignore-parent-id    read chains whose parent IDs do not\n"
            "                            match (with a warning)\n"
            "  -h, --help                print this help\n");
}

struct convert_args {
    const char *src_fmt;
    const char *dst_fmt;
    const char *options;
    bool compress;
    bool progress;
    bool machine;
    bool verify;
    bool fsync;
    bool outside;
    bool ignore_parent;
    unsigned threads;
    size_t request;
    const char *in;
    const char *out;
};

/* The options for vmc_image_create: -o plus compress=on for -c. */
static char *
convert_options(const struct convert_args *a)
{
    char *s = NULL;

    if (!a->compress)
        return a->options ? strdup(a->options) : NULL;
    if (asprintf(&s, "%s%scompress=on", a->options ? a->options : "",
                 a->options && *a->options ? "," : "") == -1)
        return NULL;
    return s;
}

static void
machine_result(bool ok, struct vmc_handle *h, const struct convert_args *a,
               uint64_t size, double secs)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "event",
                           json_object_new_string(ok ? "done" : "error"));
    if (ok) {
        json_object_object_add(o, "source", json_object_new_string(a->in));
        json_object_object_add(o, "target", json_object_new_string(a->out));
        json_object_object_add(o, "format",
                               json_object_new_string(a->dst_fmt));
        json_object_object_add(o, "virtual-size",
                               json_object_new_int64((int64_t) size));
        json_object_object_add(o, "seconds", json_object_new_double(secs));
    } else {
        const char *e = vmc_get_error(h);

        json_object_object_add(o, "message",
                               json_object_new_string(e ? e : "error"));
        json_object_object_add(o, "kind", json_object_new_string(
                                   vmc_error_kind_name(vmc_get_error_kind(h))));
    }
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    json_object_put(o);
}

/* Events of the conversion: each one a JSON line with
 * --machine-readable, else the copy's progress for -p.
 */
static void
convert_event(void *opaque, const struct vmc_event *ev)
{
    struct progress *p = opaque;

    if (p->machine) {
        cli_print_event_json(stdout, ev);
        return;
    }
    if (ev->kind == VMC_EVENT_PROGRESS &&
        (ev->phase == NULL || strcmp(ev->phase, "copy") == 0))
        progress_cb(p, ev->done, ev->total);
}

static int
convert_run(struct vmc_handle *h, const struct convert_args *a)
{
    struct vmc_disk_job job = VMC_DISK_JOB_INIT;
    struct vmc_disk_stats stats = VMC_DISK_STATS_INIT;
    struct progress prog = { .bar = a->progress, .machine = a->machine,
                             .tty = isatty(STDERR_FILENO) != 0,
                             .last_percent = -10 };
    char *options = convert_options(a);
    double t0 = now_seconds();
    int r;

    job.src = a->in;
    job.src_format = a->src_fmt;
    job.dst = a->out;
    job.dst_format = a->dst_fmt;
    job.create_options = options;
    job.open_flags = open_flags(a->outside, a->ignore_parent);
    job.threads = a->threads;
    job.request_size = a->request;
    job.verify = a->verify;
    job.fsync = a->fsync;
    job.stats = &stats;
    job.src_is_uri = source_is_uri(a->in);
    prog.start = now_seconds();
    vmc_set_event_handler(h, convert_event, &prog);
    r = vmc_disk_convert(h, &job);
    vmc_set_event_handler(h, NULL, NULL);
    free(options);
    if (r == -1)
        return -1;
    if (a->machine)
        machine_result(true, h, a, stats.virtual_size, now_seconds() - t0);
    else if (!cli.quiet && cli.verbose) {
        char sz[32];

        cli_format_size(sz, sizeof sz, stats.virtual_size);
        fprintf(stderr, "vmconv: %s (%s, %s) -> %s (%s) in %.1f s%s\n",
                a->in, stats.source_format, sz, a->out, a->dst_fmt,
                now_seconds() - t0, a->verify ? ", verified" : "");
    }
    return 0;
}

static int
disk_convert(int argc, char **argv)
{
    static const struct option lo[] = {
        { "source-format", required_argument, NULL, 'f' },
        { "target-format", required_argument, NULL, 'O' },
        { "options", required_argument, NULL, 'o' },
        { "compress", no_argument, NULL, 'c' },
        { "progress", no_argument, NULL, 'p' },
        { "threads", required_argument, NULL, 'm' },
        { "request-size", required_argument, NULL, 'R' },
        { "machine-readable", no_argument, NULL, OPT_MACHINE_READABLE },
        { "verify", no_argument, NULL, OPT_VERIFY },
        { "fsync", no_argument, NULL, OPT_FSYNC },
        { "allow-outside-paths", no_argument, NULL, OPT_ALLOW_OUTSIDE },
        { "ignore-parent-id", no_argument, NULL, OPT_IGNORE_PARENT_ID },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct convert_args a = { 0 };
    struct vmc_handle *h;
    uint64_t v;
    int c, r;

    while ((c = getopt_long(argc, argv, "f:O:o:cpm:W:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f': a.src_fmt = optarg; break;
        case 'O': a.dst_fmt = optarg; break;
        case 'o': a.options = optarg; break;
        case 'c': a.compress = true; break;
        case 'p': a.progress = true; break;
        case 'm':
            if (vmc_parse_size(optarg, &v) == -1 || v < 1 || v > 16) {
                cli_errorf("disk convert: --threads must be 1 to 16");
                return bad_usage("convert");
            }
            a.threads = (unsigned) v;
            break;
        case 'R':
            if (vmc_parse_size(optarg, &v) == -1) {
                cli_errorf("disk convert: --request-size: '%s' is not a size",
                           optarg);
                return bad_usage("convert");
            }
            a.request = (size_t) v;
            break;
        case OPT_MACHINE_READABLE: a.machine = true; break;
        case OPT_VERIFY: a.verify = true; break;
        case OPT_FSYNC: a.fsync = true; break;
        case OPT_ALLOW_OUTSIDE: a.outside = true; break;
        case OPT_IGNORE_PARENT_ID: a.ignore_parent = true; break;
        case 'h': disk_convert_usage(stdout); return EXIT_OK;
        default: return bad_usage("convert");
        }
    }
    if (a.dst_fmt == NULL) {
        cli_errorf("disk convert: -O FMT is required");
        return bad_usage("convert");
    }
    if (a.options && strcmp(a.options, "help") == 0) {
        char *help = vmc_image_create_help(a.dst_fmt);

        if (help == NULL) {
            cli_errorf("disk convert: unknown format '%s'", a.dst_fmt);
            return EXIT_USAGE;
        }
        printf("Options of the %s format (-o KEY=VALUE,...):\n%s",
               a.dst_fmt, help);
        free(help);
        return EXIT_OK;
    }
    if (argc - optind != 2) {
        cli_errorf("disk convert: expected IN and OUT");
        return bad_usage("convert");
    }
    a.in = argv[optind];
    a.out = argv[optind + 1];

    h = cli_handle();
    cli_catch_signals(h);
    r = convert_run(h, &a);
    if (r == -1) {
        if (a.machine)
            machine_result(false, h, &a, 0, 0);
        cli_print_error(h);
        r = cli_exit_for_error(h);
        vmc_free(h);
        return r;
    }
    vmc_free(h);
    return EXIT_OK;
}

/* ---- disk compare ------------------------------------------------- */

static void
disk_compare_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv disk compare [-f FMT] [-F FMT] [-s] [-p] A B\n"
            "\n"
            "Compare the guest-visible contents of two images of any formats.\n"
            "Exit status: 0 identical, 4 different (the first differing\n"
            "offset is printed), others as in vmconv(1).\n"
            "\n"
            "  -f FMT        format of A (default: probe)\n"
            "  -F FMT        format of B (default: probe)\n"
            "  -s, --strict  images of different sizes differ\n"
            "  -p            show progress\n"
            "  -h, --help    print this help\n");
}

static int
disk_compare(int argc, char **argv)
{
    static const struct option lo[] = {
        { "strict", no_argument, NULL, 's' },
        { "progress", no_argument, NULL, 'p' },
        { "allow-outside-paths", no_argument, NULL, OPT_ALLOW_OUTSIDE },
        { "ignore-parent-id", no_argument, NULL, OPT_IGNORE_PARENT_ID },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *fa = NULL, *fb = NULL;
    bool strict = false, outside = false, ignore_parent = false;
    struct progress prog = { .tty = isatty(STDERR_FILENO) != 0,
                             .last_percent = -10 };
    struct vmc_handle *h;
    struct vmc_image *a = NULL, *b = NULL;
    uint64_t diff = 0;
    int c, r = EXIT_BAD_INPUT, cmp;

    while ((c = getopt_long(argc, argv, "f:F:sph", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fa = optarg; break;
        case 'F': fb = optarg; break;
        case 's': strict = true; break;
        case 'p': prog.bar = true; break;
        case OPT_ALLOW_OUTSIDE: outside = true; break;
        case OPT_IGNORE_PARENT_ID: ignore_parent = true; break;
        case 'h': disk_compare_usage(stdout); return EXIT_OK;
        default: return bad_usage("compare");
        }
    }
    if (argc - optind != 2) {
        cli_errorf("disk compare: expected two images");
        return bad_usage("compare");
    }
    h = cli_handle();
    cli_catch_signals(h);
    a = open_source(h, argv[optind], fa, open_flags(outside, ignore_parent));
    if (a)
        b = open_source(h, argv[optind + 1], fb,
                        open_flags(outside, ignore_parent));
    if (a == NULL || b == NULL) {
        cli_print_error(h);
        r = cli_exit_for_error(h);
        goto out;
    }
    if (strict && vmc_image_size(a) != vmc_image_size(b)) {
        printf("Image size mismatch: %" PRIu64 " != %" PRIu64 "\n",
               vmc_image_size(a), vmc_image_size(b));
        r = EXIT_VERIFY;
        goto out;
    }
    prog.start = now_seconds();
    vmc_set_progress_handler(h, progress_cb, &prog);
    cmp = vmc_image_compare(a, b, &diff);
    vmc_set_progress_handler(h, NULL, NULL);
    if (cmp == -1) {
        cli_print_error(h);
        r = cli_exit_for_error(h);
    } else if (cmp == 1) {
        printf("Content mismatch at offset %" PRIu64 "!\n", diff);
        r = EXIT_VERIFY;
    } else {
        if (!cli.quiet)
            printf("Images are identical.\n");
        r = EXIT_OK;
    }
out:
    vmc_image_close(a);
    vmc_image_close(b);
    vmc_free(h);
    return r;
}

/* ---- disk check --------------------------------------------------- */

static void
disk_check_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv disk check [-f FMT] [--json] IMAGE\n"
            "\n"
            "Validate the structure of IMAGE (not its backing files): tables\n"
            "outside the file or overlapping, bad markers, refcount errors,\n"
            "leaked space.  IMAGE is only read; nothing is repaired.\n"
            "\n"
            "Exit status (as qemu-img check): 0 no problems, 1 the check\n"
            "could not run, 2 corruptions found, 3 leaks only,\n"
            "63 the format has no check.\n"
            "\n"
            "  -f, --format FMT  do not probe: IMAGE is FMT\n"
            "      --json        print the result as JSON\n"
            "  -h, --help        print this help\n");
}

static int
disk_check(int argc, char **argv)
{
    static const struct option lo[] = {
        { "format", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, OPT_JSON },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *fmt = NULL;
    bool json = false;
    struct vmc_handle *h;
    struct vmc_image *img;
    struct vmc_check_result res = VMC_CHECK_RESULT_INIT;
    int c, r;
    size_t i;

    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case OPT_JSON: json = true; break;
        case 'o': json = strcmp(optarg, "json") == 0; break;
        case 'h': disk_check_usage(stdout); return CHECK_CLEAN;
        default:
            fprintf(stderr, "Try 'vmconv disk check --help'.\n");
            return CHECK_FAILED;
        }
    }
    if (argc - optind != 1) {
        cli_errorf("disk check: expected one IMAGE");
        return CHECK_FAILED;
    }
    h = cli_handle();
    /* Check one file: its backing chain is not opened. */
    img = open_source(h, argv[optind], fmt, VMC_IMAGE_NO_BACKING);
    if (img == NULL || vmc_image_check(img, &res) == -1) {
        cli_print_error(h);
        vmc_image_close(img);
        vmc_free(h);
        return CHECK_FAILED;
    }
    r = !res.supported ? CHECK_UNSUPPORTED
        : res.errors ? CHECK_CORRUPT
        : res.leaks ? CHECK_LEAKS : CHECK_CLEAN;
    if (json) {
        struct json_object *o = json_object_new_object();
        struct json_object *m = json_object_new_array();

        json_object_object_add(o, "filename",
                               json_object_new_string(argv[optind]));
        json_object_object_add(o, "format",
                               json_object_new_string(vmc_image_format(img)));
        json_object_object_add(o, "supported",
                               json_object_new_boolean(res.supported));
        json_object_object_add(o, "corruptions",
                               json_object_new_int64((int64_t) res.errors));
        json_object_object_add(o, "leaks",
                               json_object_new_int64((int64_t) res.leaks));
        for (i = 0; i < res.nmessages; i++)
            json_object_array_add(m, json_object_new_string(res.messages[i]));
        json_object_object_add(o, "messages", m);
        printf("%s\n", json_object_to_json_string_ext(o,
                   JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else {
        for (i = 0; i < res.nmessages; i++)
            printf("%s\n", res.messages[i]);
        if (!res.supported)
            printf("%s: the %s format has no structural check\n",
                   argv[optind], vmc_image_format(img));
        else if (res.errors)
            printf("%" PRIu64 " errors were found on the image.\n"
                   "Data may be corrupted, or further writes to the image "
                   "may corrupt it.\n", res.errors);
        if (res.supported && res.leaks)
            printf("%" PRIu64 " leaked clusters were found on the image.\n"
                   "This means waste of disk space, but no harm to data.\n",
                   res.leaks);
        if (res.supported && !res.errors && !res.leaks)
            printf("No errors were found on the image.\n");
    }
    vmc_check_result_free(&res);
    vmc_image_close(img);
    vmc_free(h);
    return r;
}

/* ---- disk create -------------------------------------------------- */

static int
disk_create(int argc, char **argv)
{
    static const struct option lo[] = {
        { "format", required_argument, NULL, 'f' },
        { "options", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *fmt = "raw", *options = NULL;
    struct vmc_handle *h;
    struct vmc_image *img;
    uint64_t size;
    int c, r;

    while ((c = getopt_long(argc, argv, "f:o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'o': options = optarg; break;
        case 'h':
            printf("Usage: vmconv disk create [-f FMT] [-o OPTIONS] FILE SIZE\n"
                   "\n"
                   "Create an empty image of SIZE bytes (suffixes K, M, G, T).\n"
                   "-o help lists the options of FMT.\n");
            return EXIT_OK;
        default: return bad_usage("create");
        }
    }
    if (options && strcmp(options, "help") == 0) {
        char *help = vmc_image_create_help(fmt);

        if (help == NULL) {
            cli_errorf("disk create: unknown format '%s'", fmt);
            return EXIT_USAGE;
        }
        printf("Options of the %s format:\n%s", fmt, help);
        free(help);
        return EXIT_OK;
    }
    if (argc - optind != 2) {
        cli_errorf("disk create: expected FILE and SIZE");
        return bad_usage("create");
    }
    if (vmc_parse_size(argv[optind + 1], &size) == -1) {
        cli_errorf("disk create: '%s' is not a size", argv[optind + 1]);
        return bad_usage("create");
    }
    h = cli_handle();
    img = vmc_image_create(h, argv[optind], fmt, size, options);
    if (img == NULL || vmc_image_commit(img) == -1) {
        cli_print_error(h);
        r = cli_exit_for_error(h);
        vmc_image_close(img);
        vmc_free(h);
        return r;
    }
    vmc_image_close(img);
    vmc_free(h);
    return EXIT_OK;
}

/* ---- disk map ----------------------------------------------------- */

static int
disk_map(int argc, char **argv)
{
    static const char *names[] = { "data", "zero", "hole" };
    static const struct option lo[] = {
        { "format", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *fmt = NULL;
    bool json = false, first = true;
    struct vmc_handle *h;
    struct vmc_image *img;
    uint64_t off = 0, size;
    int c, r;

    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case OPT_JSON: json = true; break;
        case 'h':
            printf("Usage: vmconv disk map [-f FMT] [--json] IMAGE\n"
                   "\n"
                   "List the runs of the guest-visible disk: data, zero\n"
                   "(allocated, reads as zeros) or hole (allocated nowhere\n"
                   "in the backing chain).\n");
            return EXIT_OK;
        default: return bad_usage("map");
        }
    }
    if (argc - optind != 1) {
        cli_errorf("disk map: expected one IMAGE");
        return bad_usage("map");
    }
    h = cli_handle();
    img = open_source(h, argv[optind], fmt, 0);
    if (img == NULL) {
        cli_print_error(h);
        r = cli_exit_for_error(h);
        vmc_free(h);
        return r;
    }
    size = vmc_image_size(img);
    if (json)
        printf("[");
    while (off < size) {
        enum vmc_extent_type t;
        uint64_t run;

        if (vmc_image_block_status(img, off, size - off, &t, &run) == -1) {
            cli_print_error(h);
            r = cli_exit_for_error(h);
            vmc_image_close(img);
            vmc_free(h);
            return r;
        }
        if (json)
            printf("%s\n{ \"start\": %" PRIu64 ", \"length\": %" PRIu64
                   ", \"type\": \"%s\" }", first ? "" : ",", off, run,
                   names[t]);
        else
            printf("%#16" PRIx64 " %#16" PRIx64 " %s\n", off, run, names[t]);
        first = false;
        off += run;
    }
    if (json)
        printf("\n]\n");
    vmc_image_close(img);
    vmc_free(h);
    return EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------- */

static void
disk_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: vmconv disk SUBCOMMAND [ARGS...]\n"
            "\n"
            "Subcommands:\n"
            "  convert   copy an image (and its chain) into a new format\n"
            "  info      describe an image and its backing chain\n"
            "  compare   compare the contents of two images\n"
            "  check     validate an image's structure\n"
            "  create    create an empty image\n"
            "  map       list data, zero and hole runs\n"
            "\n"
            "Formats: raw, qcow2, vmdk, vhdx, vpc (VHD).  'vmconv disk\n"
            "SUBCOMMAND --help' describes each.\n");
}

int
cmd_disk(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {
        { "convert", disk_convert },
        { "info", disk_info },
        { "compare", disk_compare },
        { "check", disk_check },
        { "create", disk_create },
        { "map", disk_map },
    };
    size_t i;

    if (argc < 2) {
        disk_usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        disk_usage(stdout);
        return EXIT_OK;
    }
    for (i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(argv[1], subs[i].name) == 0) {
            optind = 0;
            return subs[i].fn(argc - 1, argv + 1);
        }
    cli_errorf("disk: unknown subcommand '%s' (vmconv disk --help lists them)",
               argv[1]);
    return EXIT_USAGE;
}
