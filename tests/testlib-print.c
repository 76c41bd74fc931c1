/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The human printer of VM models (core/cli/vm-print.c), built into the
 * tests that check what vmconv inspect shows.  Included rather than
 * listed as a source so that its object stays in tests/ (an object in
 * ../core/cli would clash with the vmconv command's).
 */
#include "cli/vm-print.c"
/* The CLI helpers the printer calls (cli_print_safe, cli_format_size). */
#include "cli/common.c"
