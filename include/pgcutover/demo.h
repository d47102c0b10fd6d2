/*
 * demo.h -- the local migration `pgcutover demo` sets up: a directory
 * (default $XDG_RUNTIME_DIR or /tmp, pgcutover-demo-UID) with two PostgreSQL
 * clusters (source and target, through cluster.h), the booking schema in
 * both, the source filled and the target left mid-copy, and the files a
 * real migration has (runbook.md, pgcutover.json, app.env), plus a marker
 * file so that only a directory demo made is ever removed.  The schema,
 * data and runbook are compiled in (build-aux/embed.sh -> demo_assets.c).
 * src/cli/cmd_demo.c parses the options, prints and opens the console;
 * see demo.c.
 */
#ifndef PGCUTOVER_DEMO_H
#define PGCUTOVER_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include "pgcutover/util.h"
#include "pgcutover/cluster.h"

#define DEMO_DEFAULT_ROWS 10000L
#define DEMO_MIN_ROWS 100L          /* every table gets at least one row */
#define DEMO_MAX_ROWS 1000000000L
#define DEMO_SOURCE_PORT 5432
#define DEMO_TARGET_PORT 5433
/* Present in every directory demo made; demo_stop() removes nothing without it. */
#define DEMO_MARKER ".pgcutover-demo"
#define DEMO_DIR_PREFIX "pgcutover-demo-"
#define DEMO_RUNBOOK_FILE "runbook.md"
#define DEMO_CONFIG_FILE "pgcutover.json"
#define DEMO_ENV_FILE "app.env"
#define DEMO_STATE_FILE "state.db"

/* A file compiled into the binary (demo_assets.c, generated). */
struct pgc_asset { const char *name; const char *data; size_t len; };
extern const struct pgc_asset pgc_assets[];
/* The asset called name (its file name in examples/), or NULL. */
const struct pgc_asset *demo_asset(const char *name);

/* Called with each progress line ("demo: ...\n") as it happens. */
typedef void demo_say_fn(void *arg, const char *line);

typedef struct demo {
	char *dir;            /* absolute */
	char *pgdir;          /* dir/pg: data directories, logs, sockets */
	bool created_dir;     /* we made dir (so stopping removes it, not just its contents) */
	long rows;            /* rows in the source's biggest tables */
	bool rows_given;      /* rows was asked for (a reused demo keeps its own) */
	bool explicit_dir;    /* dir was given, not the default */
	cluster src, dst;
	char *src_ci, *dst_ci;  /* conninfo of both (no password: trust on a socket) */
	demo_say_fn *say;     /* progress, or NULL */
	void *say_arg;
} demo;

typedef enum demo_outcome {
	DEMO_CREATED,         /* made from nothing (or from a half-made one) */
	DEMO_REUSED,          /* a complete demo was there: servers started */
	DEMO_STOPPED,         /* servers stopped, what demo made removed */
	DEMO_NOTHING_TO_STOP, /* no marker in the directory: nothing touched */
} demo_outcome;

/* Decides d->dir: dir when given (made absolute; its parent must exist),
 * else the default location that already holds a demo, else the first
 * default location.  A demo in a given directory is only ever found by
 * giving it again.  rows is the number asked for, rows_given whether it
 * was.  On error -1 with e set; free d with demo_free() either way. */
int demo_open(demo *d, const char *dir, long rows, bool rows_given, pgc_err *e);
void demo_free(demo *d);

/* Fills d->src, d->dst (in d->dir/pg, ports DEMO_SOURCE_PORT and
 * DEMO_TARGET_PORT), d->pgdir and the conninfos.  Fails without the
 * PostgreSQL server binaries (or, as root, a user to run them as). */
int demo_clusters(demo *d, pgc_err *e);

/* Makes the demo in d->dir, or reuses a complete one (starting its
 * servers); a half-made one (interrupted) is removed and made again.  A
 * directory that is not ours, or not empty and not a demo, is refused. */
int demo_create(demo *d, demo_outcome *out, pgc_err *e);

/* Stops the servers and removes what demo made in d->dir (the directory
 * too when demo made it).  Without a marker nothing is touched. */
int demo_stop(demo *d, demo_outcome *out, pgc_err *e);

/* Writes runbook.md, pgcutover.json and app.env into d->dir where they are
 * missing (a re-run keeps the operator's edits).  Needs the conninfos. */
int demo_write_files(const demo *d, pgc_err *e);

/* The text of pgcutover.json for d (malloc'd). */
char *demo_config_text(const demo *d);

/* What to try once the demo is ready (paths quoted for a shell), and what
 * to say when the console closed and the servers are left running.
 * malloc'd. */
char *demo_guide(const demo *d);
char *demo_left_running(const demo *d);

#endif
