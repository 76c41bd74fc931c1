/* vmconv convert: being written. */
#include <config.h>
#include <stdio.h>
#include "cli.h"

int
cmd_convert(int argc, char **argv)
{
    cli_errorf("convert: not implemented yet");
    return EXIT_ERROR;
}
