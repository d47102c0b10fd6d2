/*
 * schema.h -- schema parity and sequence parity between source and target.
 *
 * sch_fetch() reads one side's catalog (tables, columns with type and
 * nullability, indexes, constraints, functions, triggers, sequences, and
 * what a Supabase exit breaks: views, enums, row-level security and its
 * policies, grants, extensions, the roles policies and grants name, the
 * schemas foreign keys reference) into a
 * sch_snapshot of named objects; sch_compare() lists what differs.  The
 * sequence check finds every serial/identity column on the target and says
 * whether its sequence is ahead of max(column) -- after a data import the
 * bug that breaks the first INSERT after cutover.
 *
 * The catalog queries are exposed (sch_queries) with a function that reads
 * their results (sch_snapshot_add), so the console can run them on its
 * async connections; sch_fetch() is the blocking convenience used by
 * `pgcutover schema`.  Nothing here prints.
 */
#ifndef PGCUTOVER_SCHEMA_H
#define PGCUTOVER_SCHEMA_H

#include <libpq-fe.h>
#include "pgcutover/util.h"
#include "pgcutover/config.h"

typedef enum sch_kind {
	SCH_TABLE, SCH_COLUMN, SCH_INDEX, SCH_CONSTRAINT, SCH_FUNCTION, SCH_TRIGGER,
	SCH_SEQUENCE,
	/* what a Supabase exit trips on */
	SCH_VIEW,        /* a view's definition (its hash) */
	SCH_ENUM,        /* an enum type's labels, in order */
	SCH_RLS,         /* row-level security enabled (forced) on a table */
	SCH_POLICY,      /* a policy: command, permissive, roles, USING, WITH CHECK */
	SCH_GRANT,       /* table and sequence privileges per grantee */
	SCH_EXTENSION,   /* installed extensions and their versions */
	SCH_ROLE,        /* roles the policies and grants name (anon, authenticated, ...) */
	SCH_REF_SCHEMA,  /* schemas foreign keys reference (auth for REFERENCES auth.users) */
	SCH_N_KINDS
} sch_kind;

/* One object: name identifies it across sides ("public.clients.email");
 * detail is what must also be equal ("text not null", an index definition). */
typedef struct sch_object {
	char *name;
	char *detail;
} sch_object;

typedef struct sch_snapshot {
	sch_object *objs[SCH_N_KINDS];   /* sorted by name */
	size_t n[SCH_N_KINDS];
} sch_snapshot;

/* A difference: only on one side, or on both with different details. */
typedef struct sch_diff {
	sch_kind kind;
	char *name;
	char *source_detail;   /* NULL when missing on the source */
	char *target_detail;   /* NULL when missing on the target */
} sch_diff;

/* One serial/identity column of the target. */
typedef struct sch_seq_check {
	char *table;           /* schema.table */
	char *column;
	char *sequence;        /* schema.sequence */
	int64_t last_value;    /* sequence last_value */
	bool is_called;        /* false: nextval returns last_value itself */
	bool has_max;          /* false when the table is empty */
	int64_t max;           /* max(column) */
	bool ok;               /* next value > max, or table empty */
	char *error;           /* query failed for this one, or NULL */
	int error_code;        /* with error: PGC_EXIT_TEMPFAIL (timeout) or PGC_EXIT_UNAVAILABLE */
} sch_seq_check;

const char *sch_kind_name(sch_kind k);   /* "tables", "columns", ... (JSON keys) */

/* Schemas compared: those of the config's tables ("public" when a name has
 * no schema), or every non-system schema when the config lists none.
 * Returns a NULL-terminated malloc'd array of malloc'd names. */
char **sch_schemas_of(const config *cfg);
void sch_strv_free(char **v);
/* The WHERE fragment restricting the namespace alias `n` to schemas (every
 * non-system schema when none).  malloc'd; NULL on an escaping error. */
char *sch_schema_filter(PGconn *c, char *const *schemas);

/* The catalog query for kind, restricted to schemas: the result has two
 * text columns, name and detail.  malloc'd; NULL on an escaping error. */
char *sch_query(PGconn *c, sch_kind kind, char *const *schemas);
/* Adds the rows of a sch_query() result to snap. */
void sch_snapshot_add(sch_snapshot *snap, sch_kind kind, const PGresult *res);
void sch_snapshot_sort(sch_snapshot *snap);
void sch_snapshot_clear(sch_snapshot *snap);

/* Blocking: runs every catalog query on c.  who names the side in errors. */
int sch_fetch(PGconn *c, char *const *schemas, sch_snapshot *out, const char *who, pgc_err *e);

/* Differences, in kind then name order.  Returns how many (*out malloc'd). */
size_t sch_compare(const sch_snapshot *src, const sch_snapshot *dst, sch_diff **out);
void sch_diffs_free(sch_diff *d, size_t n);

/* The exit status a failed query deserves: PGC_EXIT_TEMPFAIL for a
 * statement or lock timeout, a deadlock or a serialization failure (worth
 * retrying), else PGC_EXIT_UNAVAILABLE (the server failed or went away). */
int sch_query_exit_code(PGconn *c, const PGresult *res);

/* Blocking: checks every serial/identity column of c in schemas.  A failed
 * query fails the whole check (e->code from sch_query_exit_code); one that
 * fails for a single column is that column's error. */
int sch_check_sequences(PGconn *c, char *const *schemas, sch_seq_check **out, size_t *n,
                        pgc_err *e);
void sch_seq_checks_free(sch_seq_check *v, size_t n);
/* The statement that puts a sequence behind max(column) right, for the
 * operator to run on the target; NULL when it cannot be written safely.
 * malloc'd. */
char *sch_seq_fix_sql(const sch_seq_check *s);
/* The report's line for a difference and for a sequence check, indented,
 * without a newline, as `pgcutover schema` prints them and the console's
 * parity overlay shows them.  malloc'd. */
char *sch_diff_line(const sch_diff *d);
char *sch_seq_line(const sch_seq_check *s);

/* The sequence check in steps, for the console's async connections (and
 * sch_check_sequences): the query listing the serial/identity columns
 * (NULL on an escaping error); the checks its result names (returns how
 * many, *out malloc'd); for check i the query of the sequence's value and
 * of max(column); and what their results say.  A failed query is the
 * check's error (-1). */
char *sch_seq_list_query(PGconn *c, char *const *schemas);
size_t sch_seq_checks_init(const PGresult *list, sch_seq_check **out);
char *sch_seq_value_query(const PGresult *list, size_t i);
char *sch_seq_max_query(const PGresult *list, size_t i);
int sch_seq_set_value(sch_seq_check *sc, PGconn *c, const PGresult *res);
int sch_seq_set_max(sch_seq_check *sc, PGconn *c, const PGresult *list, size_t i, const PGresult *res);

/* Blocking connect for the headless commands: read-only session,
 * application_name=pgcutover, statement_timeout from the config.  who is
 * "source"/"target"; errors name host, port and database, never a password,
 * with code PGC_EXIT_UNAVAILABLE. */
PGconn *sch_connect(const config *cfg, const cfg_endpoint *ep, const char *who, pgc_err *e);
/* The same, non-blocking: PQconnectStartParams() (drive it with
 * PQconnectPoll).  sch_conn_fail() words a failed connection the same way. */
PGconn *sch_connect_start(const config *cfg, const cfg_endpoint *ep, const char *who, pgc_err *e);
void sch_conn_fail(PGconn *c, const char *who, pgc_err *e);

/* The config's "table" / "schema.table" (parts plain or "quoted", as in
 * SQL: plain parts fold to lower case) as a safely quoted SQL name, e.g.
 * "Mixed Case; x" stays one identifier.  malloc'd; NULL when malformed.
 * (compare_pg.c) */
char *cmp_pg_quote_table(PGconn *c, const char *name);
/* libpq "options" for every pgcutover session: the conninfo's own options,
 * then default_transaction_read_only=on and statement_timeout (when > 0).
 * NULL with *errmsg (malloc'd) when the conninfo does not parse. */
char *cmp_pg_session_options(const char *conninfo, int statement_timeout_ms, char **errmsg);

#endif
