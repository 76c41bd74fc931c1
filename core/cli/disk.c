/* vmconv disk: being written. */
#include <config.h>
#include "cli.h"
int cmd_disk(int argc, char **argv) { cli_errorf("disk: not implemented yet"); return EXIT_ERROR; }
