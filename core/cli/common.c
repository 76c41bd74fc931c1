/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the vmconv subcommands: terminal-safe printing,
 * sizes for people, signals, exit codes by error kind, events as JSON
 * lines, loading and choosing plugins.
 */
#include <config.h>

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include <vmconv/plugin.h>

#include "cli.h"

void
cli_format_size(char *buf, size_t len, uint64_t bytes)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    uint64_t unit = 1024;
    int i;

    if (bytes < 1024) {
        snprintf(buf, len, "%" PRIu64 " bytes", bytes);
        return;
    }
    for (i = 0; i < 4 && bytes >= unit * 1024; i++)
        unit *= 1024;
    if (bytes % unit == 0)
        snprintf(buf, len, "%" PRIu64 " %s", bytes / unit, units[i]);
    else
        snprintf(buf, len, "%.1f %s", (double) bytes / (double) unit,
                 units[i]);
}

void
cli_print_safe(FILE *fp, const char *s, int indent)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;

        if (c == '\n')
            fprintf(fp, "\n%*s", indent, "");
        else if (c < 0x20 || c == 0x7f)
            fputc('?', fp);
        else if (c == 0xc2 && (unsigned char) s[1] >= 0x80 &&
                 (unsigned char) s[1] <= 0x9f) {
            /* U+0080..U+009F, the C1 controls (CSI is U+009B). */
            fputc('?', fp);
            s++;
        } else
            fputc(c, fp);
    }
}

void
cli_printf_safe(FILE *fp, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) == -1)
        s = NULL;
    va_end(ap);
    if (s) {
        cli_print_safe(fp, s, 0);
        free(s);
    }
}

/* ---- Signals ------------------------------------------------------ */

static struct vmc_handle *signal_h;

static void
cli_on_signal(int sig)
{
    if (signal_h)
        vmc_cancel(signal_h);
    signal(sig, SIG_DFL);       /* a second signal ends us at once */
}

void
cli_catch_signals(struct vmc_handle *h)
{
    struct sigaction sa;

    signal_h = h;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cli_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* ---- Exit codes --------------------------------------------------- */

int
cli_exit_for_error(struct vmc_handle *h)
{
    switch (vmc_get_error_kind(h)) {
    case VMC_ERR_NONE:
        /* A failure reported without an error on H. */
        return EXIT_BAD_INPUT;
    case VMC_ERR_USAGE:
        return EXIT_USAGE;
    case VMC_ERR_IO:
    case VMC_ERR_NO_SPACE:
        return EXIT_IO;
    case VMC_ERR_VERIFY:
        return EXIT_VERIFY;
    case VMC_ERR_INTERRUPTED:
        return EXIT_CANCELLED;
    default:                    /* bad input, unsupported, other */
        return EXIT_BAD_INPUT;
    }
}

/* ---- Events as JSON lines ----------------------------------------- */

static const char *const event_names[VMC_EVENT_LAST] = {
    [VMC_EVENT_PROGRESS] = "progress",
    [VMC_EVENT_PHASE_START] = "phase-start",
    [VMC_EVENT_PHASE_END] = "phase-end",
    [VMC_EVENT_WARNING] = "warning",
    [VMC_EVENT_INFO] = "info",
};

void
cli_print_event_json(FILE *fp, const struct vmc_event *ev)
{
    cli_print_event_json_rate(fp, ev, -1);
}

void
cli_print_event_json_rate(FILE *fp, const struct vmc_event *ev, double rate)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL || (unsigned) ev->kind >= VMC_EVENT_LAST)
        goto out;
    json_object_object_add(o, "event",
                           json_object_new_string(event_names[ev->kind]));
    if (ev->phase)
        json_object_object_add(o, "phase", json_object_new_string(ev->phase));
    if (ev->disk >= 0)
        json_object_object_add(o, "disk", json_object_new_int(ev->disk));
    if (ev->kind == VMC_EVENT_PROGRESS) {
        double pct = ev->total ? 100.0 * (double) ev->done /
                                 (double) ev->total : 100.0;

        json_object_object_add(o, "done",
                               json_object_new_int64((int64_t) ev->done));
        json_object_object_add(o, "total",
                               json_object_new_int64((int64_t) ev->total));
        json_object_object_add(o, "percent",
                               json_object_new_double(pct));
        json_object_object_add(o, "skipped",
                               json_object_new_int64((int64_t) ev->skipped));
        if (rate >= 0)
            json_object_object_add(o, "rate",
                                   json_object_new_int64((int64_t) rate));
    }
    if (ev->message)
        json_object_object_add(o, "message",
                               json_object_new_string(ev->message));
    fprintf(fp, "%s\n", json_object_to_json_string_ext(o,
                JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(fp);
out:
    json_object_put(o);
}
