/*
 * cluster.h -- local, throw-away PostgreSQL clusters: find the server
 * binaries, initdb, start, stop, and run SQL through libpq.  Used by
 * `pgcutover demo` (src/core/demo.c); tests/lib/pg.sh is the shell twin
 * used by the test suite.  Clusters listen on a Unix socket only, trust
 * local connections for the superuser CLUSTER_SUPERUSER, and, when we run
 * as root, run as an unprivileged user (`postgres`, else `nobody`) because
 * PostgreSQL refuses to run as root.  Processes are started through
 * proc.h with argument vectors, never through a shell, and waited for
 * (blocking).  Never prints.
 */
#ifndef PGCUTOVER_CLUSTER_H
#define PGCUTOVER_CLUSTER_H

#include <stdbool.h>
#include <sys/types.h>
#include "pgcutover/util.h"

#define CLUSTER_SUPERUSER "pgcutover"
/* Seconds pg_ctl waits for start/stop (its -t). */
#define CLUSTER_PG_CTL_WAIT_S 60

typedef struct cluster {
	char *bindir;     /* holds initdb, pg_ctl, postgres */
	char *datadir;
	char *sockdir;    /* unix_socket_directories; also the cwd of children */
	char *logfile;    /* server log (pg_ctl -l) */
	int port;
	bool fast;        /* fsync/full_page_writes off: data that may be lost */
	bool drop_priv;   /* we are root: children run as run_uid/run_gid */
	uid_t run_uid;
	gid_t run_gid;
	char *run_user;
} cluster;

/* Server binaries: $PGCUTOVER_PG_BINDIR, initdb on PATH, then
 * /usr/lib/postgresql/15/bin, then the newest /usr/lib/postgresql/N/bin.
 * Returns a malloc'd directory, or NULL with e set (PGC_EXIT_UNAVAILABLE). */
char *cluster_find_bindir(pgc_err *e);

/* Fills c (paths copied) and decides who runs the server.  No I/O besides
 * looking up binaries and users. */
int cluster_setup(cluster *c, const char *datadir, const char *sockdir,
                  const char *logfile, int port, pgc_err *e);
void cluster_free(cluster *c);

/* pgc_mkdir_p (new directories 0700, fine if it exists); path itself then
 * owned by the user the server runs as. */
int cluster_make_dir(const cluster *c, const char *path, pgc_err *e);
/* Fails with a clear message when the server user cannot reach path (a
 * parent directory closed to it, e.g. /root or /run/user/0). */
int cluster_check_reachable(const cluster *c, const char *path, pgc_err *e);

/* True when datadir already holds a cluster. */
bool cluster_exists(const cluster *c);
/* initdb (trust, CLUSTER_SUPERUSER, UTF8, C locale) and the settings for a
 * socket-only server on c->port.  A no-op when the cluster exists. */
int cluster_initdb(cluster *c, pgc_err *e);
/* pg_ctl start -w; a no-op when already running. */
int cluster_start(cluster *c, pgc_err *e);
/* The same for n clusters at once (at most 8), waiting for all. */
int cluster_initdb_each(cluster *const cs[], size_t n, pgc_err *e);
int cluster_start_each(cluster *const cs[], size_t n, pgc_err *e);
/* pg_ctl stop -m fast -w; a no-op when not running. */
int cluster_stop(cluster *c, pgc_err *e);
bool cluster_running(const cluster *c);

/* "host=SOCKDIR port=P dbname=DB user=pgcutover", values quoted as libpq
 * wants them.  malloc'd. */
char *cluster_conninfo(const cluster *c, const char *dbname);

/* Connects with conninfo and runs `settings` (may be NULL) and then
 * `script` (several statements are fine) in one session.  An error names
 * script_name:line of the failing statement when the server says where. */
int cluster_run_sql(const char *conninfo, const char *settings, const char *script,
                    const char *script_name, pgc_err *e);

/* The same as cluster_run_sql on n servers at once (one session each,
 * settings[i] may be NULL), waiting for all of them: loading the demo's
 * source and target overlaps.  The first error wins. */
int cluster_run_sql_each(size_t n, const char *const conninfo[], const char *const settings[],
                         const char *script, const char *script_name, pgc_err *e);

/* Runs sql and returns the first column of the first row (malloc'd; "" for
 * no rows), or NULL with e set. */
char *cluster_query_value(const char *conninfo, const char *sql, pgc_err *e);

#endif
