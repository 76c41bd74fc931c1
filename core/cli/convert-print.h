/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv convert: printing events, the plan and the report. */
#ifndef VMCONV_CLI_CONVERT_PRINT_H
#define VMCONV_CLI_CONVERT_PRINT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vmconv/pipeline.h>

struct convert_bar {
    bool used;
    bool done;
    const char *phase;           /* "copy" or "verify" (static) */
    uint64_t done_bytes, total;
    double t0;
};

struct convert_printer {
    bool machine;                /* JSON lines on stdout */
    bool bars;                   /* progress bars: stdout is a terminal */
    pthread_mutex_t lock;
    double start;
    size_t nbars;
    struct convert_bar *bars_v;  /* indexed by disk */
    int lines;                   /* bar lines drawn below the last text */
};

void convert_printer_init(struct convert_printer *pr, bool machine,
                          bool json);
void convert_printer_done(struct convert_printer *pr);
/* The event handler (opaque: the printer). */
void convert_print_event(void *opaque, const struct vmc_event *ev);
/* --machine-readable: the final "result" line. */
void convert_print_result(struct vmc_handle *h, struct vmc_conversion *c,
                          int code);
/* The plan (dry run) or the report, as text, from the JSON document. */
void convert_print_text(FILE *fp, const char *json,
                        const struct vmc_conversion *c);

#endif /* VMCONV_CLI_CONVERT_PRINT_H */
