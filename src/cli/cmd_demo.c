/* cmd_demo.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_demo(int argc, char **argv, cli_opts *o)
{
	fprintf(stderr, "pgcutover: demo: not implemented yet\n");
	return PGC_EXIT_SOFTWARE;
}
