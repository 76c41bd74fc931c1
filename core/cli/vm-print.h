/* Printing VM models and plugin choices for people (vmconv inspect,
 * vmconv convert --dry-run).
 */
#ifndef VMCONV_CLI_VM_PRINT_H
#define VMCONV_CLI_VM_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include <vmconv/plugin.h>

/* "2 GiB", "1.5 MiB", "512 bytes" into BUF. */
void cli_format_size(char *buf, size_t len, uint64_t bytes);

/* Print S to FP with control characters (from a hostile source: they
 * could drive the terminal) shown as '?'.  Newlines are kept, followed
 * by INDENT spaces.
 */
void cli_print_safe(FILE *fp, const char *s, int indent);

/* The human summary of VM: one "label: value" line per fact. */
void cli_print_vm(FILE *fp, const struct vmc_vm *vm);

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

#endif /* VMCONV_CLI_VM_PRINT_H */
