/* cmd_counts.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_counts(int argc, char **argv, cli_opts *o)
{
	fprintf(stderr, "pgcutover: counts: not implemented yet\n");
	return PGC_EXIT_SOFTWARE;
}
