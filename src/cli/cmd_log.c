/* cmd_log.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_log(int argc, char **argv, cli_opts *o)
{
	fprintf(stderr, "pgcutover: log: not implemented yet\n");
	return PGC_EXIT_SOFTWARE;
}
