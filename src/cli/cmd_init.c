/* cmd_init.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_init(int argc, char **argv, cli_opts *o)
{
	fprintf(stderr, "pgcutover: init: not implemented yet\n");
	return PGC_EXIT_SOFTWARE;
}
