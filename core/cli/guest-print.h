/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing what guest inspection found for people (vmconv inspect
 * --guest, the plan of vmconv convert).
 */
#ifndef VMCONV_CLI_GUEST_PRINT_H
#define VMCONV_CLI_GUEST_PRINT_H

#include <stdio.h>

#include <json-c/json.h>

/* The human summary of the "guest" object G (vmconv(1), inspect
 * --guest), each line starting with INDENT.
 */
void cli_print_guest(FILE *fp, struct json_object *g, const char *indent);

#endif /* VMCONV_CLI_GUEST_PRINT_H */
