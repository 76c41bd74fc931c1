/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv convert: what the command prints.
 *
 *  - On a terminal (stdout), one progress bar per disk for its copy
 *    and verify phases (bytes, rate, time left) and a line per stage;
 *    nothing of that when stdout is not a terminal.
 *  - With --machine-readable, every event as one JSON line (progress
 *    lines carry "rate", bytes a second since the phase began), then a
 *    final "result" line.
 *  - At the end, the plan (--dry-run) or the report as text, rendered
 *    from the vmconv-convert/1 document.  Strings that come from the
 *    source are printed with control characters replaced.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "convert-print.h"
#include "guest-print.h"

#define BAR_WIDTH 24

static double
cp_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
convert_printer_init(struct convert_printer *pr, bool machine, bool json)
{
    memset(pr, 0, sizeof *pr);
    pr->machine = machine;
    pr->bars = !machine && !json && !cli.quiet && isatty(STDOUT_FILENO);
    pthread_mutex_init(&pr->lock, NULL);
    pr->start = cp_now();
}

void
convert_printer_done(struct convert_printer *pr)
{
    pthread_mutex_destroy(&pr->lock);
    free(pr->bars_v);
}

static struct convert_bar *
cp_bar(struct convert_printer *pr, int disk)
{
    if (disk < 0)
        return NULL;
    if ((size_t) disk >= pr->nbars) {
        size_t n = (size_t) disk + 8;
        struct convert_bar *v = realloc(pr->bars_v, n * sizeof *v);

        if (v == NULL)
            return NULL;
        memset(v + pr->nbars, 0, (n - pr->nbars) * sizeof *v);
        pr->bars_v = v;
        pr->nbars = n;
    }
    return &pr->bars_v[disk];
}

/* "1:05" or "1:02:03". */
static void
cp_duration(char *buf, size_t len, double s)
{
    unsigned long t = s > 0 ? (unsigned long) (s + 0.5) : 0;

    if (t >= 3600)
        snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%lu:%02lu", t / 60, t % 60);
}

static void
cp_draw_bar(struct convert_printer *pr, size_t disk)
{
    struct convert_bar *b = &pr->bars_v[disk];
    double pct = b->total ? 100.0 * (double) b->done_bytes /
                            (double) b->total : b->done ? 100.0 : 0.0;
    double secs = cp_now() - b->t0, rate = 0;
    int fill = (int) (pct * BAR_WIDTH / 100), i;
    char d[32], t[32], r[32], eta[32];

    if (secs > 0.2 || (b->done && secs > 0))
        rate = (double) b->done_bytes / secs;
    cli_format_size(d, sizeof d, b->done_bytes);
    cli_format_size(t, sizeof t, b->total);
    cli_format_size(r, sizeof r, (uint64_t) rate);
    if (b->done)
        cp_duration(eta, sizeof eta, secs);
    else if (rate > 0)
        cp_duration(eta, sizeof eta,
                    (double) (b->total - b->done_bytes) / rate);
    else
        snprintf(eta, sizeof eta, "--:--");
    printf("\r\033[2Kdisk %-3zu %-6s [", disk, b->phase);
    for (i = 0; i < BAR_WIDTH; i++)
        putchar(i < fill ? '#' : '.');
    printf("] %3.0f%%  %s / %s  %s/s  %s %s\n", pct, d, t, r,
           b->done ? "in" : "ETA", eta);
}

/* Redraw every bar below the last line of text. */
static void
cp_redraw(struct convert_printer *pr)
{
    size_t i;
    int n = 0;

    if (pr->lines > 0)
        printf("\033[%dA", pr->lines);
    for (i = 0; i < pr->nbars; i++)
        if (pr->bars_v[i].used) {
            cp_draw_bar(pr, i);
            n++;
        }
    pr->lines = n;
    fflush(stdout);
}

/* A line of text: finished bars stay above it, running ones are drawn
 * again below it.
 */
static void
cp_text_line(struct convert_printer *pr, const char *stage)
{
    size_t i;

    for (i = 0; i < pr->nbars; i++)
        if (pr->bars_v[i].done)
            pr->bars_v[i].used = pr->bars_v[i].done = false;
    printf("[%6.1f] %s\n", cp_now() - pr->start, stage);
    pr->lines = 0;
    cp_redraw(pr);
}

static bool
cp_bar_phase(const char *phase)
{
    return phase && (strcmp(phase, "copy") == 0 ||
                     strcmp(phase, "verify") == 0);
}

static void
cp_bars_event(struct convert_printer *pr, const struct vmc_event *ev)
{
    struct convert_bar *b = cp_bar(pr, ev->disk);

    if (ev->disk < 0) {
        if (ev->kind == VMC_EVENT_PHASE_START && ev->phase)
            cp_text_line(pr, ev->phase);
        return;
    }
    if (b == NULL || !cp_bar_phase(ev->phase))
        return;
    switch (ev->kind) {
    case VMC_EVENT_PHASE_START:
        *b = (struct convert_bar) { .used = true, .t0 = cp_now(),
            .phase = strcmp(ev->phase, "copy") == 0 ? "copy" : "verify" };
        break;
    case VMC_EVENT_PROGRESS:
        b->done_bytes = ev->done;
        b->total = ev->total;
        break;
    case VMC_EVENT_PHASE_END:
        b->done = true;
        break;
    default:
        return;
    }
    cp_redraw(pr);
}

/* A JSON line, with the rate of a progress event. */
static void
cp_machine_event(struct convert_printer *pr, const struct vmc_event *ev)
{
    struct convert_bar *b = cp_bar(pr, ev->disk);
    double rate = -1;

    if (b && ev->kind == VMC_EVENT_PHASE_START) {
        b->t0 = cp_now();
        b->used = true;
    } else if (b && b->used && ev->kind == VMC_EVENT_PROGRESS) {
        double secs = cp_now() - b->t0;

        rate = secs > 0 ? (double) ev->done / secs : 0;
    }
    cli_print_event_json_rate(stdout, ev, rate);
}

void
convert_print_event(void *opaque, const struct vmc_event *ev)
{
    struct convert_printer *pr = opaque;

    pthread_mutex_lock(&pr->lock);
    if (pr->machine)
        cp_machine_event(pr, ev);
    else if (pr->bars)
        cp_bars_event(pr, ev);
    pthread_mutex_unlock(&pr->lock);
}

void
convert_print_result(struct vmc_handle *h, struct vmc_conversion *c,
                     int code)
{
    struct json_object *o = json_object_new_object();
    const char *report = c ? vmc_conversion_report_path(c) : NULL;
    struct json_object *doc = c ? json_tokener_parse(
        vmc_conversion_json(c, false)) : NULL;
    struct json_object *res = NULL, *v;

    json_object_object_add(o, "event", json_object_new_string("result"));
    json_object_object_add(o, "ok", json_object_new_boolean(code == 0));
    json_object_object_add(o, "exit", json_object_new_int(code));
    if (code != 0) {
        const char *msg = vmc_get_error(h);

        json_object_object_add(o, "error",
                               json_object_new_string(msg ? msg : "failed"));
        json_object_object_add(o, "error-kind", json_object_new_string(
            vmc_error_kind_name(vmc_get_error_kind(h))));
    }
    if (doc && json_object_object_get_ex(doc, "result", &res) &&
        json_object_object_get_ex(res, "outdir", &v))
        json_object_object_add(o, "outdir", json_object_get(v));
    json_object_object_add(o, "report",
                           report ? json_object_new_string(report) : NULL);
    printf("%s\n", json_object_to_json_string_ext(o,
           JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    json_object_put(doc);
    json_object_put(o);
}

/* ---- The plan and the report as text ------------------------------ */

static const char *
js(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return NULL;
    return json_object_get_string(v);
}

static uint64_t
ju(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) && v
        ? (uint64_t) json_object_get_int64(v) : 0;
}

static double
jd(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) && v
        ? json_object_get_double(v) : 0;
}

static bool
jb(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) && v &&
        json_object_get_boolean(v);
}

static struct json_object *
jo(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static size_t
jlen(struct json_object *a)
{
    return a && json_object_is_type(a, json_type_array)
        ? json_object_array_length(a) : 0;
}

static const char *
sz(char *buf, uint64_t v)
{
    cli_format_size(buf, 32, v);
    return buf;
}

static void
text_hardware(FILE *fp, struct json_object *hw)
{
    struct json_object *c = jo(hw, "vcpus"), *m = jo(hw, "memory"),
        *f = jo(hw, "firmware");
    char b[32];

    if (hw == NULL)
        return;
    cli_printf_safe(fp, "  hardware:  %" PRIu64 " vCPUs (%s), %s memory (%s), "
              "firmware %s (%s)\n", ju(c, "value"), js(c, "origin"),
              sz(b, ju(m, "value")), js(m, "origin"), js(f, "value"),
              js(f, "origin"));
}

static void
text_disk(FILE *fp, struct json_object *d)
{
    struct json_object *s = jo(d, "source"), *t = jo(d, "target"),
        *chain = jo(s, "chain"), *r = jo(d, "result");
    char b1[32], b2[32], b3[32];
    size_t i;

    cli_printf_safe(fp, "    disk %" PRIu64 " (%s): ", ju(d, "index"),
              js(d, "device"));
    if (!jb(d, "convert")) {
        cli_printf_safe(fp, "%s: not converted (%s)\n",
                  js(s, "path") ? js(s, "path") :
                  js(s, "ref") ? js(s, "ref") : "no image", js(d, "skipped"));
        return;
    }
    cli_printf_safe(fp, "%s\n        %s, %s virtual, %s allocated, %s of data\n",
              js(s, "path"), js(s, "format"), sz(b1, ju(s, "virtual-size")),
              sz(b2, ju(s, "allocated-size")), sz(b3, ju(s, "data-size")));
    for (i = 1; i < jlen(chain); i++) {
        struct json_object *e = json_object_array_get_idx(chain, i);

        cli_printf_safe(fp, "        backed by %s (%s)\n", js(e, "path"),
                  js(e, "format"));
    }
    cli_printf_safe(fp, "     -> %s\n        %s, bus %s, about %s on the host\n",
              js(t, "path"), js(t, "format"), js(t, "bus"),
              sz(b1, ju(t, "estimated-size")));
    if (r && jb(r, "copied"))
        cli_printf_safe(fp, "        copied %s, skipped %s (holes, zeros) in "
                  "%.1f s%s\n", sz(b1, ju(r, "bytes-copied")),
                  sz(b2, ju(r, "bytes-skipped")), jd(r, "copy-seconds"),
                  jb(r, "verified") ? "; verified" : "");
    if (r && js(r, "error"))
        cli_printf_safe(fp, "        failed: %s\n", js(r, "error"));
}

static void
text_networks(FILE *fp, struct json_object *nets)
{
    size_t i;

    if (jlen(nets) == 0) {
        fprintf(fp, "  networks:  no NICs\n");
        return;
    }
    fprintf(fp, "  networks:\n");
    for (i = 0; i < jlen(nets); i++) {
        struct json_object *n = json_object_array_get_idx(nets, i);

        if (jb(n, "mapped"))
            cli_printf_safe(fp, "    nic %" PRIu64 " %s: %s %s -> %s %s (%s)\n",
                      ju(n, "nic"), js(n, "mac") ? js(n, "mac") : "(no MAC)",
                      js(n, "from-type"), js(n, "from") ? js(n, "from") : "-",
                      js(n, "to-type"), js(n, "to"), js(n, "by"));
        else
            cli_printf_safe(fp, "    nic %" PRIu64 " %s: %s %s (kept)\n",
                      ju(n, "nic"), js(n, "mac") ? js(n, "mac") : "(no MAC)",
                      js(n, "from-type"), js(n, "from") ? js(n, "from") : "-");
    }
}

/* The digests left to the conversion (an OVA's manifest). */
static void
text_digests(FILE *fp, struct json_object *dg, bool plan)
{
    struct json_object *files = jo(dg, "files");
    size_t i, n = jlen(files), matched = 0;

    if (dg == NULL || n == 0)
        return;
    for (i = 0; i < n; i++)
        if (jb(json_object_array_get_idx(files, i), "matched"))
            matched++;
    if (plan)
        cli_printf_safe(fp, "  digests:   %zu file%s of the manifest, checked "
                        "%s\n", n, n == 1 ? "" : "s", js(dg, "checked"));
    else
        cli_printf_safe(fp, "Digests: %zu of %zu file%s matched the "
                        "manifest (read while copying).\n", matched, n,
                        n == 1 ? "" : "s");
}

static void
text_plan(FILE *fp, struct json_object *doc)
{
    struct json_object *src = jo(doc, "source"), *tgt = jo(doc, "target"),
        *disks = jo(doc, "disks"), *dev = jo(doc, "devices"),
        *g = jo(doc, "guest-fix"), *sp = jo(doc, "space"),
        *risks = jo(doc, "risks");
    char b1[32], b2[32];
    size_t i;

    cli_printf_safe(fp, "%s %s (read as %s) for %s into %s\n",
              jb(doc, "dry-run") ? "Plan (dry run): convert" : "Convert",
              js(src, "path"), js(src, "reader"), js(tgt, "plugin"),
              js(tgt, "outdir"));
    cli_printf_safe(fp, "  name:      %s\n", js(tgt, "name"));
    text_hardware(fp, jo(doc, "hardware"));
    fprintf(fp, "  disks:\n");
    for (i = 0; i < jlen(disks); i++)
        text_disk(fp, json_object_array_get_idx(disks, i));
    if (jlen(dev) == 0)
        fprintf(fp, "  devices:   as in the source\n");
    else
        fprintf(fp, "  devices:\n");
    for (i = 0; i < jlen(dev); i++) {
        struct json_object *c = json_object_array_get_idx(dev, i);

        cli_printf_safe(fp, "    %s: %s -> %s (%s)\n", js(c, "device"),
                  js(c, "from"), js(c, "to"), js(c, "why"));
    }
    text_networks(fp, jo(doc, "networks"));
    text_digests(fp, jo(doc, "digests"), true);
    cli_printf_safe(fp, "  guest fix: %s\n", js(g, "status"));
    if (jo(g, "inspection"))
        cli_print_guest(fp, jo(g, "inspection"), "    ");
    if (sp)
        cli_printf_safe(fp, "  space:     about %s needed, %s free on %s%s\n",
                  sz(b1, ju(sp, "needed")), sz(b2, ju(sp, "available")),
                  js(sp, "filesystem"), jb(sp, "fits") ? "" :
                  ": does not fit");
    fprintf(fp, "  risks:%s\n", jlen(risks) ? "" : "     none found");
    for (i = 0; i < jlen(risks); i++) {
        struct json_object *r = json_object_array_get_idx(risks, i);

        cli_printf_safe(fp, "    %s: %s\n", js(r, "severity"), js(r, "message"));
    }
}

static void
text_report(FILE *fp, struct json_object *doc, const char *report)
{
    struct json_object *files = jo(doc, "files"), *v = jo(doc, "verify"),
        *st = jo(doc, "stages"), *w = jo(doc, "warnings"),
        *res = jo(doc, "result");
    char b1[32], b2[32];
    size_t i;

    if (!jb(res, "ok"))
        return;
    fprintf(fp, "Files written:\n");
    for (i = 0; i < jlen(files); i++) {
        struct json_object *f = json_object_array_get_idx(files, i);

        cli_printf_safe(fp, "  %s  %s%s%s\n", js(f, "path"), sz(b1, ju(f, "size")),
                  js(f, "sha256") ? "  sha256 " : "",
                  js(f, "sha256") ? js(f, "sha256") : "");
    }
    cli_printf_safe(fp, "Copied %s, skipped %s (holes and zeros).\n",
              sz(b1, ju(doc, "bytes-copied")), sz(b2, ju(doc, "bytes-skipped")));
    if (jb(v, "enabled"))
        cli_printf_safe(fp, "Verified: every disk read back and compared, %s read "
                  "in %.1f s (%.0f%% of the conversion's time).\n",
                  sz(b1, ju(v, "bytes-read")), jd(v, "seconds"),
                  100 * jd(v, "share-of-time"));
    else
        fprintf(fp, "Not verified (--no-verify).\n");
    text_digests(fp, jo(doc, "digests"), false);
    fprintf(fp, "Stages:");
    for (i = 0; i < jlen(st); i++) {
        struct json_object *s = json_object_array_get_idx(st, i);

        cli_printf_safe(fp, "%s %s %.1f s", i ? "," : "", js(s, "stage"),
                  jd(s, "seconds"));
    }
    fprintf(fp, "\n");
    for (i = 0; i < jlen(w); i++)
        cli_printf_safe(fp, "Warning: %s\n",
                  json_object_get_string(json_object_array_get_idx(w, i)));
    cli_printf_safe(fp, "Done in %.1f s: the VM is in %s\n", jd(res, "seconds"),
              js(res, "outdir"));
    if (report)
        cli_printf_safe(fp, "Report: %s\n", report);
}

void
convert_print_text(FILE *fp, const char *json,
                   const struct vmc_conversion *c)
{
    struct json_object *doc = json_tokener_parse(json);

    if (doc == NULL)
        return;
    if (jo(doc, "disks"))
        text_plan(fp, doc);
    if (!jb(doc, "dry-run"))
        text_report(fp, doc, vmc_conversion_report_path(c));
    json_object_put(doc);
}
