/*
 * init.h -- what `pgcutover init` decides and writes: a starter
 * pgcutover.json for an operator's own runbook (tables from its "in
 * dependency order" lists, or from a reachable source's foreign keys in
 * dependency order; flags from NAME=VALUE lines that look like feature
 * flags or database switches; health checks from any item or block that
 * curls a URL; the point of no
 * return from a checkpoint that says so; source and target are
 * service-name placeholders, never passwords).  src/cli/cmd_init.c gives
 * the options and prints the outcome; see init.c.
 */
#ifndef PGCUTOVER_INIT_H
#define PGCUTOVER_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include "pgcutover/util.h"

#define INIT_SOURCE_PLACEHOLDER "service=pgcutover_source"
#define INIT_TARGET_PLACEHOLDER "service=pgcutover_target"
#define INIT_ENV_FILE ".env"
#define INIT_FILE_MODE 0644

typedef struct init_options {
	const char *runbook_path;  /* the operator's runbook */
	const char *out;           /* the config to write; a directory means
	                            * DIR/pgcutover.json; NULL ./pgcutover.json */
	bool force;                /* overwrite an existing file */
	const char *source;        /* a reachable source (conninfo): the tables and
	                            * their order come from its foreign keys; NULL
	                            * for the runbook's lists.  Only read: the
	                            * config keeps the placeholder source */
} init_options;

/* A list of names, in the order the runbook gave them. */
typedef struct init_names {
	char **v;
	size_t n;
} init_names;

typedef struct init_outcome {
	char *config_path;         /* the file written (or refused), as given */
	bool written;              /* config_path was written */
	bool exists;               /* refused: config_path exists and no force */
	char *runbook;             /* the runbook as the config names it:
	                            * relative to the config's directory */
	char *title;               /* the runbook's title ("" without one) */
	size_t n_phases, n_items;
	init_names tables;         /* declared in "tables" */
	init_names skipped_tables; /* in a dependency list but not table names */
	bool tables_from_source;   /* tables read from the source's foreign keys */
	init_names cycles;         /* reference cycles found there ("a -> b -> a") */
	init_names flags;          /* declared in "flags" */
	init_names not_flags;      /* NAME=VALUE lines that look like shell variables */
	init_names health;         /* `curl URL` items: declared in "health" */
	char *point_of_no_return;  /* item id, or NULL */
} init_outcome;

/* Reads the runbook, decides the config, checks that it loads with
 * config_parse() and writes it (mode INIT_FILE_MODE, all or nothing, never
 * over an existing file without o->force).  Returns 0 when written; -1 with
 * e set (the file named in the message; out->exists for the refusal, exit
 * code PGC_EXIT_CANTCREAT).  out is filled as far as it got either way:
 * free it with init_outcome_free(). */
int init_write_config(const init_options *o, init_outcome *out, pgc_err *e);
void init_outcome_free(init_outcome *out);

/* The outcome as `pgcutover init --json` prints it (an object; indented,
 * no final newline).  malloc'd. */
char *init_outcome_json(const init_outcome *out);

#endif
