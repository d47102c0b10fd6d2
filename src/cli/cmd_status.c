/* cmd_status.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_status(int argc, char **argv, cli_opts *o)
{
	fprintf(stderr, "pgcutover: status: not implemented yet\n");
	return PGC_EXIT_SOFTWARE;
}
