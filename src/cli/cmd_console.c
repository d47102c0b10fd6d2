/* cmd_console.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_console(int argc, char **argv, cli_opts *o)
{
	fprintf(stderr, "pgcutover: console: not implemented yet\n");
	return PGC_EXIT_SOFTWARE;
}
