/*
 * compare.h -- live source/target comparison of row counts.
 *
 * A cmp_session holds, for every table in the config (config order = the
 * dependency order), the latest figure from each side: rows, exact or
 * estimate, when it was measured, the last error, a short history (for
 * rows/s, the ETA to parity and a sparkline) and a validation state as DMS
 * users know them.  The console pane and `pgcutover counts` both drive a
 * session inside the one poll() loop (loop.h); nothing here blocks except
 * the brief PQcancel() of a query in flight.
 *
 * Each side is a pluggable driver (cmp_side_ops): PostgreSQL through async
 * libpq (compare.c) or Supabase/PostgREST through curl multi (rest.c).  A
 * driver is asked for one table's figure at a time and answers, from the
 * loop, with cmp_side_report().  When every table has an answer from both
 * sides the refresh is a complete snapshot: it is recorded as one EV_COUNTS
 * event (when a state is attached) and the listener is told.
 */
#ifndef PGCUTOVER_COMPARE_H
#define PGCUTOVER_COMPARE_H

#include "pgcutover/util.h"
#include "pgcutover/config.h"
#include "pgcutover/loop.h"
#include "pgcutover/state.h"

typedef struct cmp_session cmp_session;
typedef struct cmp_side cmp_side;

typedef enum cmp_which { CMP_SOURCE = 0, CMP_TARGET = 1, CMP_N_SIDES = 2 } cmp_which;

/* Validation state of one table (names as in DMS; see cmp_state_name()). */
typedef enum cmp_state {
	CMP_NOT_CHECKED,   /* no figure yet */
	CMP_COUNTING,      /* a request is in flight, nothing for this refresh yet */
	CMP_ESTIMATED,     /* both figures known, at least one an estimate */
	CMP_MATCHED,       /* both exact and equal */
	CMP_MISMATCHED,    /* both exact and different */
	CMP_ERROR,         /* a side failed for this refresh (see the figure's error) */
	CMP_NO_PK,         /* counts equal and exact, but the table has no primary key */
} cmp_state;

/* Rows in history kept per side and table (rows/s, ETA, sparkline). */
#define CMP_HISTORY 32
/* In estimate mode, tables estimated below this many rows are counted
 * exactly anyway: it costs little and avoids false mismatches. */
#define CMP_CHEAP_EXACT_ROWS 100000
/* rows/s is measured over history points no older than this. */
#define CMP_RATE_WINDOW_S 120.0

typedef struct cmp_point {
	double ts;          /* unix seconds */
	int64_t rows;
	bool exact;
} cmp_point;

/* What kind of failure a figure's error is: it decides the exit status
 * (see cmp_exit_code).  A missing table is a difference between the
 * databases; a timeout or a failing server is not a finding at all. */
typedef enum cmp_fail {
	CMP_FAIL_NONE,
	CMP_FAIL_SERVER,    /* the server failed or went away (exit 69) */
	CMP_FAIL_TIMEOUT,   /* statement timeout, lock wait, deadlock: retry (exit 75) */
	CMP_FAIL_MISSING,   /* the table does not exist on that side (a difference) */
} cmp_fail;

/* One side's figure for one table. */
typedef struct cmp_figure {
	int64_t rows;         /* last good figure; -1 = never known */
	bool exact;           /* rows is a count(*) (else an estimate) */
	double measured_at;   /* unix seconds of rows; 0 = never */
	unsigned gen;         /* refresh generation rows belong to */
	bool pending;         /* a request for this refresh is in flight */
	bool done;            /* this refresh has its final answer (figure or error) */
	char *error;          /* error of this refresh, or NULL; names the server */
	cmp_fail fail;        /* what kind of error (CMP_FAIL_NONE without one) */
	double error_at;
	int has_pk;           /* -1 unknown, 0 no, 1 yes (drivers that know) */
	/* Write counters (PostgreSQL: inserts + updates + deletes of
	 * pg_stat_user_tables) and the last exact count they vouch for. */
	int64_t writes;       /* -1 unknown */
	double writes_moved_at; /* unix seconds the counter was last seen moving; 0 never */
	int64_t exact_rows;   /* the last exact count, -1 none */
	double exact_at;      /* its time; 0 = none, or writes moved since */
	int64_t exact_writes; /* the counter read before that count, -1 unknown */
	double unchanged_since; /* > 0: rows is the exact count of then, the
	                       * counters unmoved for longer than stats_delay_s
	                       * (exact stays false: not a fresh count) */
	cmp_point hist[CMP_HISTORY];  /* ring, oldest at hist_start */
	size_t hist_start, hist_len;
} cmp_figure;

typedef struct cmp_table {
	char *name;           /* as in the config, maybe "schema.table" */
	char *pk;             /* config's pk column or NULL */
	cmp_figure side[CMP_N_SIDES];
	cmp_state state;
	double rate;          /* target rows/s: newest growing run of figures of one
	                       * kind within CMP_RATE_WINDOW_S; 0 = unknown */
	double eta_s;         /* seconds until target reaches source at rate; -1 unknown */
} cmp_table;

/*
 * Driver interface.  The session fills in cs, which, lp, ep, cfg and label, then
 * calls the driver's init function (cmp_pg_side_init, cmp_rest_side_init),
 * which sets ops and impl.  All callbacks run on the loop's thread.
 */
typedef struct cmp_side_ops {
	const char *kind;   /* "postgres", "postgrest" */
	/* Begin connecting (non-blocking).  Errors here are configuration
	 * errors; an unreachable server is reported later through
	 * cmp_side_report_status()/cmp_side_report(). */
	int (*start)(cmp_side *sd, pgc_err *e);
	/* Ask for a figure of table table_idx: exact = count(*), else the
	 * cheapest estimate.  The answer comes through cmp_side_report(),
	 * maybe before this returns; a new request for a table replaces one
	 * still queued.  Drivers may batch estimates into one query. */
	void (*request_count)(cmp_side *sd, size_t table_idx, bool exact);
	/* Drop queued requests and cancel queries in flight; no reports are
	 * due for them afterwards. */
	void (*cancel)(cmp_side *sd);
	/* Cancel, close connections, unwatch fds, free impl. */
	void (*free)(cmp_side *sd);
} cmp_side_ops;

struct cmp_side {
	const cmp_side_ops *ops;
	cmp_session *cs;
	cmp_which which;
	loop *lp;
	const cfg_endpoint *ep;
	const config *cfg;      /* pool_size, statement_timeout_ms, tables */
	char *label;            /* "source", "target" */
	char *server;           /* "host=H port=P dbname=D" or a URL, never a secret;
	                         * set by the driver (the label until it knows) */
	void *impl;             /* driver state */
	bool estimates_final;   /* the driver's estimates are what the config asks
	                         * for (REST count planned/estimated): an estimates
	                         * refresh asks neither side for cheap exact counts */
	const struct cmp_pace *pace;
	double exact_busy_ms;   /* wall time with an exact count running (the load) */
	int64_t exact_rows_total; /* rows those counts counted */  /* the PostgreSQL driver's choices of
	                         * concurrency and plans (pace.h), NULL for others */
	/* connectivity, kept by cmp_side_report_status() */
	bool up;                /* connected at least once and not lost since */
	bool ever_tried;
	char *error;            /* last connection error (names the server) or NULL */
	double down_since;      /* unix seconds; 0 when up */
	/* timing (loop_now_ms(), 0 = not yet), for `counts --timing` and bench */
	double started_ms;      /* cmp_start() */
	double connected_ms;    /* first time up */
	double first_figure_ms; /* first figure (usually the estimates) */
	double last_figure_ms;  /* latest figure */
};

/* Driver -> session: a figure (err == NULL; rows >= 0) or an error for one
 * table (err names the server; rows ignored).  Stale answers (for a refresh
 * that was superseded) must not be reported; drivers drop them. */
void cmp_side_report(cmp_session *cs, cmp_which which, size_t table_idx,
                     int64_t rows, bool exact, const char *err);
/* The same for an error of a known kind (cmp_side_report's errors are
 * CMP_FAIL_SERVER). */
void cmp_side_report_fail(cmp_session *cs, cmp_which which, size_t table_idx,
                          cmp_fail kind, const char *err);
/* Driver -> session: the table's write counter (inserts + updates +
 * deletes), read before its figure of the same refresh is reported. */
void cmp_side_report_writes(cmp_session *cs, cmp_which which, size_t table_idx, int64_t writes);
/* Driver -> session: whether the table has a primary key (when known). */
void cmp_side_report_pk(cmp_session *cs, cmp_which which, size_t table_idx, bool has_pk);
/* Driver -> session: the side's connection came up (err NULL) or was lost
 * or refused (err names the server, never a password). */
void cmp_side_report_status(cmp_session *cs, cmp_which which, bool up, const char *err);

/* Driver init functions. */
typedef int (*cmp_side_init_fn)(cmp_side *sd, pgc_err *e);
int cmp_pg_side_init(cmp_side *sd, pgc_err *e);     /* compare_pg.c */
int cmp_rest_side_init(cmp_side *sd, pgc_err *e);   /* rest.c */

/* Called after every change of figures (for a redraw) and with
 * snapshot_done when a refresh has completed. */
typedef void (*cmp_listener_fn)(cmp_session *cs, bool snapshot_done, void *ud);

/* Creates the session and both sides (not yet connected).  cfg and lp must
 * outlive the session.  Fails when a side is not configured. */
cmp_session *cmp_session_new(const config *cfg, loop *lp, pgc_err *e);
/* The same with the drivers given per side (NULL: chosen by the endpoint's
 * kind), for other kinds of sides and for tests of the model. */
cmp_session *cmp_session_new_with(const config *cfg, loop *lp,
                                  const cmp_side_init_fn init[CMP_N_SIDES], pgc_err *e);
void cmp_session_free(cmp_session *cs);   /* cancels what is in flight */
/* When set, every completed snapshot is appended as one EV_COUNTS event.
 * Setting it (NULL: record no more) forgets cmp_record_error(). */
void cmp_session_set_state(cmp_session *cs, state *st);
/* Why the last snapshot could not be recorded, or NULL when it was. */
const char *cmp_record_error(const cmp_session *cs);
void cmp_session_set_listener(cmp_session *cs, cmp_listener_fn fn, void *ud);
/* Starts connecting both sides.  Returns -1 on a configuration error. */
int cmp_start(cmp_session *cs, pgc_err *e);
/* Starts a new refresh: cancels what is in flight, asks for estimates of all
 * tables, then exact counts of all tables (exact) or only of those with no
 * estimate or one below CMP_CHEAP_EXACT_ROWS (not when a side's
 * estimates_final), and of those whose other side answered exactly
 * (like with like).  Cancelling a PostgreSQL
 * query costs a short blocking round trip (PQcancel), so on an interval
 * refresh when the last snapshot is complete rather than on a fixed beat. */
void cmp_refresh(cmp_session *cs, bool exact);
/* A refresh of estimates, with exact counts of only the tables flagged in
 * exact_tables (n_tables of them; the console's budget picks them), no
 * others counted because they are small. */
void cmp_refresh_some(cmp_session *cs, const bool *exact_tables);
/* Cancels the refresh in flight (figures kept). */
void cmp_cancel(cmp_session *cs);

/* Reading the model. */
size_t cmp_n_tables(const cmp_session *cs);
const cmp_table *cmp_table_at(const cmp_session *cs, size_t i);
const cmp_side *cmp_side_at(const cmp_session *cs, cmp_which which);
bool cmp_snapshot_complete(const cmp_session *cs);  /* current refresh done */
bool cmp_refresh_exact(const cmp_session *cs);      /* current refresh asked exact */
double cmp_snapshot_at(const cmp_session *cs);      /* unix s of last complete; 0 */
bool cmp_all_match(const cmp_session *cs);          /* every table's counts equal */
bool cmp_any_unreachable(const cmp_session *cs);    /* a side is down */
/* The exit status of the last snapshot: PGC_EXIT_UNAVAILABLE when a side is
 * down or a count failed on the server, else PGC_EXIT_TEMPFAIL when one
 * timed out, else PGC_EXIT_DIFFERENT when a table differs (or is missing
 * on one side), else PGC_EXIT_OK.  An error is never a difference. */
int cmp_exit_code(const cmp_session *cs);
/* "8/8 tables match", "clients: source 120, target 118 (-2)", ... into buf. */
const char *cmp_summary(const cmp_session *cs, char *buf, size_t n);
const char *cmp_state_name(cmp_state s);   /* "matched", "no primary key" ... */
const char *cmp_state_key(cmp_state s);    /* JSON: "matched", "no_primary_key" */
/* Both figures known, no error, and equal (estimates or exact). */
bool cmp_table_match(const cmp_table *t);
/* Target rows as a percentage of source rows (100 = parity, may exceed it);
 * -1 when unknown or the source is empty and the target is not. */
double cmp_table_pct(const cmp_table *t);
/* History of one side's figures, oldest first; returns how many (<= max). */
size_t cmp_table_history(const cmp_table *t, cmp_which which, cmp_point *out, size_t max);

/*
 * The one order in which tables are shown (the console's pane and full
 * list, `pgcutover counts`): tables whose counts differ first, the largest
 * absolute difference first; then tables with an error or a figure not
 * known; then the tables whose counts are equal.  Ties keep the config's
 * (dependency) order.  A table is described by its two figures (-1 =
 * unknown) and whether a side failed.
 */
typedef enum cmp_rank { CMP_RANK_DIFFER, CMP_RANK_UNKNOWN, CMP_RANK_EQUAL, CMP_N_RANKS } cmp_rank;
typedef struct cmp_order_key {
	int64_t source, target;   /* -1: unknown */
	bool failed;              /* a side's count failed (state error) */
} cmp_order_key;
cmp_rank cmp_order_rank(const cmp_order_key *k);
/* Fills order[0..n) with the indexes of keys in display order. */
void cmp_order(const cmp_order_key *keys, size_t n, size_t *order);
/* How many tables fall in each rank, and the words for them that fit a
 * narrow pane: "3 differ · 297 equal · 2 unknown" (sep between parts; a
 * rank with no table left out; "no tables" when n is 0). */
void cmp_order_tally(const cmp_order_key *keys, size_t n, size_t tally[CMP_N_RANKS]);
const char *cmp_tally_words(const size_t tally[CMP_N_RANKS], const char *sep, char *buf, size_t sz);
/* The session's tables as order keys (malloc'd, cmp_n_tables() of them). */
cmp_order_key *cmp_session_order_keys(const cmp_session *cs);

/*
 * The snapshot as JSON (malloc'd):
 *   {"match":bool, "exact":bool, "complete":bool, "summary":"…", "at":"ISO",
 *    "tables":[{"table":"clients","source":N|null,"target":N|null,
 *               "delta":N|null,"pct":P|null,"exact":bool,"match":bool,"state":"matched",
 *               "source_error":"…"|null,"target_error":"…"|null,
 *               "source_age_s":S|null,"target_age_s":S|null,
 *               "rate":R|null,"eta_s":S|null}]}
 * The EV_COUNTS payload is the compact form (full = false; evp_counts_write):
 *   {"match":bool,"exact":bool,"tables":[{"table","source","target","exact",
 *    "match","state"}]}
 */
char *cmp_snapshot_json(const cmp_session *cs, bool full);

/* A recorded EV_COUNTS payload, as its one reader gives it back (the
 * writer is cmp_snapshot_json(cs, false), through evp_counts_write()).  Lenient with older shapes: a table named
 * by "name", a count as {"count": N} or {"rows": N}, tables as an object
 * keyed by name.  The gate, the history, the console's recorded pane and
 * the post-mortem all read through it. */
typedef struct cmp_rec_table {
	char *table;
	int64_t source, target;   /* -1: not recorded */
	bool exact;               /* both counts exact */
	bool match;               /* as recorded */
	char *state;              /* cmp_state_key() word, or NULL */
} cmp_rec_table;

typedef struct cmp_rec {
	bool match, exact;
	char *summary;            /* NULL when the payload has none */
	bool has_tables;          /* the payload lists tables at all */
	cmp_rec_table *tables;
	size_t n_tables;
} cmp_rec;

/* Read with cmp_rec_read() and written with evp_counts_write() (evpay.h,
 * where the payload's keys are spelled). */

/* Gate check ("all tables matched", config "gates") on a recorded EV_COUNTS
 * payload such as ledger->last_counts: true when it has every table of cfg
 * with exact, equal counts (state matched, or no_primary_key: the counts
 * are equal, there is just no key to check rows by).  Otherwise false, and
 * why (when non-NULL) names the first table that is not, or says there is
 * no exact snapshot. */
bool cmp_payload_all_matched(const config *cfg, const char *payload_json, char *why, size_t n);
/* The same test for one table of a payload already read (cmp_rec_read):
 * true when it is there with exact, equal counts; else false with why
 * ("NAME: only estimated ..."). */
bool cmp_rec_table_matched(const cmp_rec *rec, const char *name, char *why, size_t n);

/* Whether phase_id may be recorded complete as far as row counts go: true
 * when the config does not gate it (why = "") or cmp_payload_all_matched()
 * holds for last_counts (why = the summary); false with why naming the
 * table that does not match. */
bool cmp_gate_met(const config *cfg, const char *phase_id, const char *last_counts, char *why, size_t n);

/* Folds earlier EV_COUNTS events of st into the tables' history (figures of
 * tables no longer configured are ignored). */
int cmp_session_load_history(cmp_session *cs, state *st, pgc_err *e);

#endif
