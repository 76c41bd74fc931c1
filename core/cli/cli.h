/* The vmconv command: shared declarations of its subcommands. */
#ifndef VMCONV_CLI_H
#define VMCONV_CLI_H

#include <stdbool.h>

#include <vmconv/vmconv.h>
#include <vmconv/image.h>

/* Exit codes (documented in vmconv(1)). */
enum {
    EXIT_OK = 0,
    EXIT_DIFFERENT = 1,          /* disk compare: images differ */
    EXIT_ERROR = 2,              /* the operation failed */
    EXIT_USAGE = 3,              /* bad command line */
    EXIT_CANCELLED = 4,          /* interrupted by a signal */
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

int cmd_disk(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif /* VMCONV_CLI_H */
