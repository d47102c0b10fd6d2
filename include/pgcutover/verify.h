/*
 * verify.h -- row-level verification of source against target, PostgreSQL
 * on both sides, without pulling whole tables to the client.
 *
 * For each configured table a vfy_session reads both sides' columns,
 * builds one canonical row text from the columns common to both (by name,
 * in name order; timestamptz in UTC with a fixed format, numeric without
 * trailing zeros, floats and dates in fixed session settings, NULL
 * distinct from ''), and hashes it inside each server: per row the first
 * 64 bits of md5, per key range count(*) and sum() of them (order does not
 * matter).  Ranges come from the primary key's min/max (an integer key) or
 * sampled boundaries (any other key); both sides compute the same range
 * in parallel on the async pools.  A range that differs is split on its
 * own rows' key boundaries until it holds at most VFY_LEAF_ROWS rows, then
 * the keys and row hashes of both sides are fetched and compared: missing
 * on the target, extra on the target, changed (the differing columns are
 * found from per-column hashes of just those rows).  A column on one side
 * only is one schema difference; a table without a primary key gets one
 * whole-table count and hash.  Each range is one statement (one
 * snapshot) in a read-only repeatable-read session; config "verify"
 * bounds the load (rows per range, a pause between ranges).
 *
 * Everything runs on the one poll() loop (loop.h); the console and
 * `pgcutover verify` drive the same session and read the same model.
 * The finished run is recorded as one EV_VERIFY event (evp_verify_write);
 * vfy_recorded_equal() answers "was everything equal, and since when"
 * from the log for the go/no-go board and a phase's verify gate.
 */
#ifndef PGCUTOVER_VERIFY_H
#define PGCUTOVER_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "pgcutover/config.h"
#include "pgcutover/loop.h"
#include "pgcutover/state.h"
#include "pgcutover/util.h"

struct cJSON;

/* A range that differs is split until it holds at most this many rows on
 * either side; then its rows' keys and hashes are fetched. */
#define VFY_LEAF_ROWS 256
/* A differing range is split into this many parts. */
#define VFY_FANOUT 16
/* Differing keys kept in memory per table and kind (the counts go on). */
#define VFY_KEYS_KEPT 10000
/* Differing keys per table and kind written to the audit record. */
#define VFY_KEYS_RECORDED 100

typedef enum vfy_state {
	VFY_PENDING,      /* not started */
	VFY_RUNNING,
	VFY_MATCHED,
	VFY_MISMATCHED,   /* rows or columns differ */
	VFY_NO_PK,        /* no primary key: whole-table count and hash only */
	VFY_ERROR,        /* a side failed (error says how) */
	VFY_CANCELLED,
} vfy_state;

/* One changed row: its key (JSON text) and the columns that differ. */
typedef struct vfy_changed {
	char *key;
	char *columns;    /* "a,b" */
} vfy_changed;

typedef struct vfy_keys {
	char **v;         /* JSON text of each key: 42, "abc" or [1,"x"] */
	size_t n;         /* kept (<= VFY_KEYS_KEPT) */
	int64_t total;    /* found */
} vfy_keys;

/* Integrity on the target (tables loaded with triggers off or constraints
 * NOT VALID): rows whose foreign key finds no parent among the configured
 * tables, and rows holding NULL in a column the source declares NOT NULL
 * and the target does not. */
#define VFY_INTEGRITY_KEYS 10    /* first keys listed per finding */
typedef enum vfy_issue_kind { VFY_ISSUE_ORPHANS, VFY_ISSUE_NULLS } vfy_issue_kind;
typedef struct vfy_issue {
	vfy_issue_kind kind;
	char *what;               /* the constraint, or the column */
	char *refs;               /* ORPHANS: the referenced table */
	bool not_valid;           /* ORPHANS: the constraint is NOT VALID (listed even
	                           * with no orphan) */
	int64_t rows;             /* rows breaking it */
	vfy_keys keys;            /* their first keys (the row's ctid without a key) */
} vfy_issue;

typedef struct vfy_table {
	char *name;
	vfy_state state;
	bool equal;               /* final: no difference of any kind */
	int64_t rows;             /* source rows checked */
	int64_t rows_est;         /* expected source rows (progress), -1 unknown */
	int64_t rows_done;        /* source rows in ranges finished */
	double started_ms, ended_ms;  /* loop_now_ms() */
	char *error;              /* VFY_ERROR: the server's message */
	char **schema;            /* "column x: only on the target", ... */
	size_t n_schema;
	vfy_keys missing, extra;  /* on the source only / on the target only */
	vfy_changed *changed;     /* kept (<= VFY_KEYS_KEPT) */
	size_t n_changed;
	int64_t changed_total;
	int64_t ranges, ranges_differed;
	/* a re-run: the ranges that differed last time (recorded), re-checked
	 * before the whole table is confirmed */
	int64_t rechecked, rechecked_differ;
	vfy_issue *integrity;     /* findings on the target */
	size_t n_integrity;
	/* no primary key: whole-table figures of each side */
	int64_t whole_rows[2];
	char *whole_hash[2];
} vfy_table;

/* Load bounds, from config "verify" (defaults below) or the command line. */
typedef struct vfy_limits {
	int64_t rows_per_range;   /* initial range size */
	int pause_ms;             /* a connection rests this long after each range */
} vfy_limits;
#define VFY_DEFAULT_ROWS_PER_RANGE 100000
#define VFY_DEFAULT_PAUSE_MS 0

typedef struct vfy_session vfy_session;

/* Told after every change worth a redraw, and with done when the run ended
 * (every table finished, failed or was cancelled). */
typedef void (*vfy_listener_fn)(vfy_session *vs, bool done, void *ud);

/* A session over cfg's tables (only `only` when non-NULL; -1 with e when
 * the config has no such table or a side is not PostgreSQL).  cfg and lp
 * must outlive it. */
vfy_session *vfy_session_new(const config *cfg, loop *lp, const char *only, pgc_err *e);
void vfy_session_free(vfy_session *vs);
void vfy_set_listener(vfy_session *vs, vfy_listener_fn fn, void *ud);
/* When set, the finished run is appended as one EV_VERIFY event, and the
 * ranges the last recorded run found differing are re-checked first. */
void vfy_set_state(vfy_session *vs, state *st);
const char *vfy_record_error(const vfy_session *vs);
/* Starts connecting and verifying.  -1 on a configuration error. */
int vfy_start(vfy_session *vs, pgc_err *e);
/* Stops: unfinished tables become cancelled, queries in flight are
 * cancelled without waiting; the listener hears done. */
void vfy_cancel(vfy_session *vs);

size_t vfy_n_tables(const vfy_session *vs);
const vfy_table *vfy_table_at(const vfy_session *vs, size_t i);
bool vfy_done(const vfy_session *vs);
/* The longest table name's length, at least at_least (a column's width). */
size_t vfy_name_width(const vfy_session *vs, size_t at_least);
bool vfy_all_equal(const vfy_session *vs);
/* PGC_EXIT_OK all equal, PGC_EXIT_DIFFERENT a difference, PGC_EXIT_UNAVAILABLE
 * a table failed, PGC_EXIT_TEMPFAIL cancelled.  An error is never a difference. */
int vfy_exit_code(const vfy_session *vs);
const char *vfy_state_key(vfy_state s);     /* "matched", "no_primary_key", ... */
/* A finding with rows breaking it (a NOT VALID constraint alone is not). */
bool vfy_integrity_broken(const vfy_table *t);
/* Progress of a table: rows/s since it started (0 unknown) and seconds
 * left (-1 unknown). */
void vfy_table_progress(const vfy_table *t, double now_ms, double *rate, double *eta_s);
/* "3/3 tables equal", "clients: 2 missing, 1 extra, 4 changed" into buf. */
const char *vfy_summary(const vfy_session *vs, char *buf, size_t n);

/* The result as JSON (cJSON object, caller deletes):
 *   {"equal":bool,"complete":bool,"summary":"…","tables":[{"table","equal","state",
 *    "rows","missing":[key…],"extra":[key…],"changed":[key…],
 *    "changed_columns":[{"key":key,"columns":["a"]}…],"missing_n","extra_n",
 *    "changed_n","schema":["…"],"error":"…"|null}]}
 * with at most max_keys keys per list (the _n figures are the totals). */
struct cJSON *vfy_result_json(const vfy_session *vs, size_t max_keys);

/* ---- a Supabase/PostgREST source (verify_rest.c) ---- */

/* A timestamptz's ISO text ("2024-03-10 14:05:06.5+05:30", " BC" allowed)
 * as the same instant in UTC ("2024-03-10 08:35:06.5Z") into out; false
 * when it is not such a text (infinity, another DateStyle). */
bool vfy_canon_timestamptz(const char *in, char *out, size_t n);
/* The query string of a page: select=<col>::text,… in cols' order,
 * order=<key>.asc,… and, after a page, the keyset filter past `after`
 * (<key>=gt.<v>, or an or=(…) tree for a composite key), and up to and
 * with `upto` (<key>=lte.<v>; both bounds of a composite key: one
 * and=(or(…),or(…)) tree); NULL bounds are open.  URL-encoded. */
char *vfy_rest_page_query(char *const *cols, size_t n_cols, char *const *key, size_t n_key,
                          char *const *after, char *const *upto);
/* The rows of n keys (keys[i * n_key + k]): the same select and order,
 * or=(k.eq."a",k.eq."b",…), a composite key's parts in and(…). */
char *vfy_rest_keys_query(char *const *cols, size_t n_cols, char *const *key, size_t n_key,
                          char *const *keys, size_t n);

/* ---- what the log says (go/no-go board, gates) ---- */

/* The last recorded verify run of st: 1 found (*equal, *at = its time,
 * why = its summary), 0 none recorded, -1 on a read error. */
int vfy_recorded_equal(state *st, bool *equal, double *at, char *why, size_t n, pgc_err *e);
/* Whether a payload's run covers every table of cfg and found them all
 * equal; why names the first that is not. */
bool vfy_payload_all_equal(const config *cfg, const char *payload, char *why, size_t n);

#endif
