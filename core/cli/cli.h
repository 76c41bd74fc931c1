/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vmconv command: shared declarations of its subcommands. */
#ifndef VMCONV_CLI_H
#define VMCONV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vmconv/vmconv.h>
#include <vmconv/image.h>

struct vmc_loaded_plugin;

/* Exit codes, one per class of failure, the same for every
 * subcommand (vmconv(1), EXIT STATUS).  cli_exit_for_error maps an
 * error's kind to its class.
 */
enum {
    EXIT_OK = 0,
    EXIT_BAD_INPUT = 1,          /* the input is unreadable, damaged or
                                    unsupported (and errors of no
                                    other class) */
    EXIT_USAGE = 2,              /* bad command line or options */
    EXIT_IO = 3,                 /* reading or writing failed, or the
                                    target is full */
    EXIT_VERIFY = 4,             /* the output read back differs from
                                    the source; disk compare: the
                                    images differ */
    EXIT_CANCELLED = 5,          /* interrupted by a signal */
};

/* Options every subcommand accepts (set by main before dispatch). */
struct cli_globals {
    int verbose;
    bool quiet;
    const char *plugin_dir;      /* --plugin-dir, or NULL */
};
extern struct cli_globals cli;

/* A handle with the CLI's log handler installed; exits on failure. */
struct vmc_handle *cli_handle(void);
/* Print the handle's last error as "vmconv: MSG". */
void cli_print_error(struct vmc_handle *h);
/* Print "vmconv: " and the formatted message to stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- common.c ---- */

/* "2 GiB", "1.5 MiB", "512 bytes" into BUF. */
void cli_format_size(char *buf, size_t len, uint64_t bytes);

/* Print S to FP with control characters (from a hostile source: they
 * could drive the terminal) shown as '?': C0 controls, DEL and the C1
 * controls encoded in UTF-8.  Newlines are kept, followed by INDENT
 * spaces.
 */
void cli_print_safe(FILE *fp, const char *s, int indent);

/* printf, the result printed as cli_print_safe does (no indent). */
void cli_printf_safe(FILE *fp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* SIGINT, SIGTERM and SIGHUP cancel the work on H (vmc_cancel); a
 * second signal ends the process at once.
 */
void cli_catch_signals(struct vmc_handle *h);

/* The exit status for the last error on H, by its kind (vmconv(1),
 * EXIT STATUS).
 */
int cli_exit_for_error(struct vmc_handle *h);

/* Print EV as one JSON line (--machine-readable; the schema is in
 * vmconv(1)).
 */
void cli_print_event_json(FILE *fp, const struct vmc_event *ev);
/* The same, with "rate" (bytes a second) in progress lines when RATE
 * is not negative.
 */
void cli_print_event_json_rate(FILE *fp, const struct vmc_event *ev,
                               double rate);

/* Load the plugins (from --plugin-dir, $VMCONV_PLUGIN_DIR or the
 * default).  Refused plugins were reported as warnings by the library.
 * Returns 0, or -1 after printing the error.
 */
int cli_load_plugins(struct vmc_handle *h);

/* Choose the plugin to read SOURCE: the one named FROM if given, else
 * the one probing best.  CMD names the command in messages.  Returns
 * the plugin, or NULL after printing an error with *EXIT_CODE set.
 */
struct vmc_loaded_plugin *cli_source_plugin(struct vmc_handle *h,
                                            const char *cmd,
                                            const char *source,
                                            const char *from,
                                            int *exit_code);

int cmd_disk(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif /* VMCONV_CLI_H */
