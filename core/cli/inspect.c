/* vmconv inspect: being written. */
#include <config.h>
#include <stdio.h>
#include "cli.h"

int
cmd_inspect(int argc, char **argv)
{
    cli_errorf("inspect: not implemented yet");
    return EXIT_ERROR;
}
