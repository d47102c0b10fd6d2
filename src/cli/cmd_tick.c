/* cmd_tick.c -- placeholder, being written. */
#include "config.h"
#include <stdio.h>
#include "pgcutover/cli.h"

int cmd_tick(int argc, char **argv, cli_opts *o) { fprintf(stderr, "pgcutover: tick: not implemented yet\n"); return PGC_EXIT_SOFTWARE; }
int cmd_untick(int argc, char **argv, cli_opts *o) { fprintf(stderr, "pgcutover: untick: not implemented yet\n"); return PGC_EXIT_SOFTWARE; }
int cmd_note(int argc, char **argv, cli_opts *o) { fprintf(stderr, "pgcutover: note: not implemented yet\n"); return PGC_EXIT_SOFTWARE; }
