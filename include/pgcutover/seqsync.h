/*
 * seqsync.h -- sequences at the switch: headroom on both sides and the
 * target's sequences set past the source (`pgcutover sequences`, the
 * go/no-go board).
 *
 * seq_check() lists every sequence of the compared schemas on both sides
 * (pg_sequences), with the column that owns it (identity or serial/OWNED BY;
 * a sequence no column owns is listed as unowned and never guessed at), the
 * column's max() on each side, the values left before the sequence's
 * maximum (warned under a floor), and for an owned sequence the statement
 * that sets the target to max(source last_value, column max) + offset when
 * the target is not already past it.  seq_sync_apply() runs those
 * statements on the target in one transaction.  Note: setval() is not
 * transactional in PostgreSQL; when statement k fails, the k-1 before it
 * stay set, and seq_sync_apply() says how many were applied so the record
 * is exact.  Nothing here prints or records; the CLI records the outcome
 * with evp_sequences_write() (evpay.h).
 */
#ifndef PGCUTOVER_SEQSYNC_H
#define PGCUTOVER_SEQSYNC_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "pgcutover/util.h"


typedef enum seq_owner_kind { SEQ_IDENTITY, SEQ_SERIAL, SEQ_UNOWNED } seq_owner_kind;

/* One side's view of a sequence. */
typedef struct seq_side {
	bool present;          /* the sequence exists on this side */
	bool called;           /* nextval() was called (pg_sequences.last_value not null) */
	int64_t last_value;    /* with called */
	int64_t start_value, increment, max_value;
	bool has_col_max;      /* the owning column has a row */
	int64_t col_max;
	int64_t headroom;      /* values left before max_value */
	bool low;              /* headroom under the floor */
	char *error;           /* reading the column's max() failed, or NULL */
} seq_side;

typedef struct seq_entry {
	char *sequence;        /* schema.name, quoted as SQL needs (%I) */
	char *table;           /* owning table (%I.%I), NULL when unowned */
	char *column;          /* owning column as stored, NULL when unowned */
	seq_owner_kind kind;
	char *data_type;       /* smallint, integer, bigint */
	seq_side src, dst;
	bool has_want;         /* something was ever taken from it */
	int64_t want;          /* the target's value after a sync (offset included) */
	bool behind;           /* target's next value <= max(source last_value, column max) */
	char *statement;       /* the setval the sync runs; NULL: nothing to do */
	char *problem;         /* why it cannot be synced (past its maximum), or NULL */
} seq_entry;

typedef struct seq_report {
	seq_entry *v;
	size_t n;
	bool have_source;      /* false: a REST source (target only) */
	int64_t offset, floor;
	size_t n_behind, n_low, n_unowned, n_statements;
} seq_report;

const char *seq_kind_name(seq_owner_kind k);   /* "identity", "serial", "unowned" */

/* Blocking: reads both sides (src NULL for a REST source).  A failed
 * listing query fails the check (-1, e->code from sch_query_exit_code); a
 * column max() that fails is that side's error. */
int seq_check(PGconn *src, PGconn *dst, char *const *schemas, int64_t offset, int64_t floor,
              seq_report *out, pgc_err *e);
void seq_report_free(seq_report *r);

/* Runs the report's statements on dst in one transaction (BEGIN READ
 * WRITE; the session default is read-only).  *applied: how many setval()s
 * took effect (all on success; on failure those before the failing one,
 * since setval is not rolled back).  0, or -1 with e. */
int seq_sync_apply(PGconn *dst, const seq_report *r, size_t *applied, pgc_err *e);

/* The report's line for an entry, as `pgcutover sequences` prints it.
 * malloc'd, no newline. */
char *seq_entry_line(const seq_entry *s, bool have_source);

#endif
