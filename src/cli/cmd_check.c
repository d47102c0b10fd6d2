/* cmd_check.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_check(int argc, char **argv, cli_opts *o)
{
	fprintf(stderr, "pgcutover: check: not implemented yet\n");
	return PGC_EXIT_SOFTWARE;
}
