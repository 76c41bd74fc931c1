/* vmconv plugins: being written. */
#include <config.h>
#include <stdio.h>
#include "cli.h"

int
cmd_plugins(int argc, char **argv)
{
    cli_errorf("plugins: not implemented yet");
    return EXIT_ERROR;
}
