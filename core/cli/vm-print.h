/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing VM models and plugin choices for people (vmconv inspect,
 * vmconv convert --dry-run).
 */
#ifndef VMCONV_CLI_VM_PRINT_H
#define VMCONV_CLI_VM_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include <vmconv/plugin.h>

/* The human summary of VM: one "label: value" line per fact. */
void cli_print_vm(FILE *fp, const struct vmc_vm *vm);

#endif /* VMCONV_CLI_VM_PRINT_H */
