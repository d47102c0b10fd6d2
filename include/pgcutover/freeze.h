/*
 * freeze.h -- proof that nothing writes to the source any more
 * (`pgcutover freeze`, the console's freeze panel, the go/no-go board).
 *
 * Every second one query reads, on the source: the write counters of every
 * table of the compared schemas (pg_stat_user_tables n_tup_ins/upd/del),
 * the database's commits (pg_stat_database.xact_commit) and its client
 * sessions grouped by role, application_name and client address
 * (pg_stat_activity), with how many hold a transaction that has written
 * (backend_xid set).  pgcutover's own sessions (application_name
 * pgcutover...) are not counted.  A frz_watch folds the samples: any
 * table counter that moved, or any session not on the ignore list holding
 * a written transaction, is a write, named (the table and +rows, the
 * sessions by role@client (application) xN).  The freeze is proven after
 * quiet_s seconds without one.
 *
 * Why the window must be long: a backend sends its counters to the shared
 * statistics when its transaction ends, at most once per PGSTAT_MIN_INTERVAL
 * (1 s) and, when that is refused (lock contention), again after
 * PGSTAT_IDLE_INTERVAL (10 s) while idle, forced after 60 s; a transaction
 * left open (idle in transaction) reports nothing until it ends, which is
 * why a session with backend_xid set counts as writing by itself.  The
 * default window is 30 s; one under FRZ_STATS_HOLDBACK_S is allowed (tests)
 * but said to be too short.
 *
 * Hosted sources have writers that are not the app (Supabase's
 * supabase_admin, authenticator, realtime, storage, pg_cron; RDS's
 * rdsadmin): sessions whose role or application_name is on the ignore list
 * (FRZ_DEFAULT_IGNORE unless the config's freeze.ignore replaces it) are
 * shown as ignored, never silently; their tables are usually outside the
 * compared schemas (auth, storage, realtime), whose counters are not read.
 *
 * A REST-only source (no SQL access) cannot be watched this way: the
 * evidence is then exact row counts that stayed the same over the window
 * (frz_watch_feed_counts), labelled weaker.
 */
#ifndef PGCUTOVER_FREEZE_H
#define PGCUTOVER_FREEZE_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "pgcutover/config.h"
#include "pgcutover/loop.h"
#include "pgcutover/util.h"

#define FRZ_DEFAULT_QUIET_S 30
#define FRZ_STATS_HOLDBACK_S 11   /* PGSTAT_IDLE_INTERVAL (10 s) and a sample */
#define FRZ_SAMPLE_MS 1000
/* Roles and application names ignored unless freeze.ignore says otherwise. */
#define FRZ_DEFAULT_IGNORE {"supabase_admin", "supabase_auth_admin", "supabase_storage_admin", \
	"supabase_realtime_admin", "supabase_replication_admin", "supabase_read_only_user", \
	"authenticator", "pgbouncer", "realtime", "storage", "pg_cron", "pg_cron scheduler", \
	"rdsadmin", NULL}

typedef struct frz_table_counter {
	char *table;           /* schema.table (%I.%I) */
	int64_t ins, upd, del;
} frz_table_counter;

/* Client sessions of one role, application and address. */
typedef struct frz_sessions {
	char *role, *app, *client;   /* client: address, or "local" (Unix socket) */
	int count;
	int writing;                 /* with a transaction that has written (backend_xid) */
	bool ignored;
} frz_sessions;

typedef struct frz_sample {
	double ts;                   /* unix seconds */
	frz_table_counter *tables; size_t n_tables;
	int64_t commits;
	frz_sessions *sessions; size_t n_sessions;
} frz_sample;

/* A table written since the watch began. */
typedef struct frz_written {
	char *table;
	int64_t rows;                /* inserted + updated + deleted since the start */
	double last_at;
} frz_written;

typedef enum frz_verdict {
	FRZ_WATCHING,    /* quiet so far, not long enough */
	FRZ_WRITE_SEEN,  /* this sample saw a write */
	FRZ_PROVEN,      /* quiet for quiet_s */
} frz_verdict;

typedef struct frz_watch {
	int quiet_s;
	char **ignore;               /* NULL-terminated, owned */
	bool counts_only;            /* REST source: exact counts stable (weaker) */
	double started, last_write;  /* last_write starts at started */
	bool have_prev;
	frz_sample prev;
	frz_written *written; size_t n_written;
	int64_t commits;             /* since the start (read-only ones and ours included) */
	frz_sessions *sessions; size_t n_sessions;   /* the latest sample's */
	size_t writes_seen;          /* samples that saw a write */
	size_t samples;
	char last_write_what[512];   /* the last write, as said */
	unsigned long queries;       /* samples asked of the source (frz_session) */
	double query_ms;             /* their total time, sent to answered */
	frz_verdict verdict;
} frz_watch;

/* The ignore list the config gives (freeze.ignore), else the default. */
char **frz_ignore_list(const config *cfg);
void frz_watch_init(frz_watch *w, int quiet_s, char **ignore /* taken */, double now);
void frz_watch_free(frz_watch *w);
/* Folds a sample in (taken: freed by the watch). */
frz_verdict frz_watch_feed(frz_watch *w, frz_sample *s);
/* REST: one exact count snapshot (names and rows, n tables) at now;
 * a change from the previous one is a write. */
frz_verdict frz_watch_feed_counts(frz_watch *w, const char *const *tables, const int64_t *rows,
                                  size_t n, double now);
/* Seconds quiet so far. */
double frz_watch_quiet_for(const frz_watch *w, double now);
/* Who still writes, in one line: "public.clients +12 rows in 30 s;
 * sessions: app_user@10.0.0.7 (node-pg) x3 (1 writing)".  malloc'd. */
char *frz_watch_who(const frz_watch *w, double now);
/* The ignored sessions seen, "supabase_admin@local (psql) x1"; "" none. */
char *frz_watch_ignored(const frz_watch *w);

/* The sample query (NULL on an escaping error) and its reading. */
char *frz_sample_query(PGconn *c, char *const *schemas);
int frz_sample_read(const PGresult *res, char *const *ignore, double now, frz_sample *out, pgc_err *e);
void frz_sample_free(frz_sample *s);

/* ---- a watch on the loop: the sample every FRZ_SAMPLE_MS ---- */
typedef struct frz_session frz_session;
/* Told after every sample (and once on a failure: frz_session_error). */
typedef void (*frz_listener_fn)(frz_session *fs, void *ud);
frz_session *frz_session_new(const config *cfg, int quiet_s, loop *lp, frz_listener_fn fn, void *ud);
int frz_session_start(frz_session *fs, pgc_err *e);
void frz_session_free(frz_session *fs);
const frz_watch *frz_session_watch(const frz_session *fs);
const char *frz_session_error(const frz_session *fs);   /* "" none */

/* ---- enforcement: freeze apply / release ---- */
/* The statements that make the roles' new transactions read-only and end
 * their sessions (apply), or undo the setting (release).  NULL-terminated,
 * malloc'd; NULL on an escaping error. */
char **frz_apply_sql(PGconn *c, char *const *roles, bool release);
/* Runs them (a read-write session).  *done: how many ran. */
int frz_apply_run(PGconn *c, char *const *sql, size_t *done, pgc_err *e);
/* The roles the last freeze_applied set that no freeze_released undid
 * since (NULL-terminated, sch_strv_free), NULL none. */
struct state;
char **frz_applied_roles(struct state *st);
/* Records what a watch found (a freeze event: evp_freeze_write); mode
 * "check", "watch" or "console". */
int frz_record(struct state *st, const frz_watch *w, const char *mode, const char *verdict, double now,
               const char *error, pgc_err *e);
/* When the last freeze check proved the freeze (its event's time), 0 when
 * the last one did not or there is none; *event_id its id (may be NULL). */
double frz_proven_at(struct state *st, int64_t *event_id);
/* Releases roles on the source and records freeze_released (the phase
 * rollback's undo, after its steps ran: `pgcutover rollback` and the
 * console's R), on the loop: connects, runs frz_apply_sql's release
 * statements one by one, records what ran, and tells fn on a later loop
 * turn (rc 0, or -1 with err; fn may free the op).  NULL with e when it
 * cannot start. */
typedef struct frz_release_op frz_release_op;
typedef void (*frz_release_fn)(frz_release_op *op, int rc, const char *err, void *ud);
frz_release_op *frz_release_start(const config *cfg, struct state *st, char *const *roles, loop *lp,
                                  frz_release_fn fn, void *ud, pgc_err *e);
void frz_release_free(frz_release_op *op);
/* The same, waited for on a private loop (`freeze release`, `rollback`).
 * 0, or -1 with e (what ran is recorded either way). */
int frz_release(const config *cfg, struct state *st, char *const *roles, pgc_err *e);

#endif
