/*
 * seqsync.c -- sequences at the switch (seqsync.h): both sides' sequences
 * from pg_sequences with the column that owns each, the owning column's
 * max(), the values left before each maximum, and the setval() that puts
 * the target past the source.  Called by `pgcutover sequences` (cmd_sequences.c)
 * and the go/no-go board (goboard.c).  Blocking libpq on connections made
 * by sch_connect(); nothing here prints or records.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "pgcutover/seqsync.h"
#include "pgcutover/schema.h"
#include "pgcutover/pqtext.h"

const char *seq_kind_name(seq_owner_kind k)
{
	switch (k) {
	case SEQ_IDENTITY: return "identity";
	case SEQ_SERIAL:   return "serial";
	case SEQ_UNOWNED:  return "unowned";
	}
	return "?";
}

/* Columns of the listing query. */
enum { SQ_NAME, SQ_TYPE, SQ_START, SQ_INCR, SQ_MIN, SQ_MAX, SQ_LAST, SQ_TABLE, SQ_COL, SQ_QCOL,
       SQ_DEPTYPE };

/* Every sequence of the schemas (not an extension's), its owning column
 * (deptype 'i' identity, 'a' serial or OWNED BY) when there is one. */
static char *seq_list_query(PGconn *c, char *const *schemas)
{
	char *f = sch_schema_filter(c, schemas);
	if (!f)
		return NULL;
	char *q = xasprintf(
		"SELECT format('%%I.%%I', s.schemaname, s.sequencename), s.data_type::text, "
		"s.start_value, s.increment_by, s.min_value, s.max_value, s.last_value, "
		"own.tbl, own.col, own.qcol, own.deptype "
		"FROM pg_catalog.pg_sequences s "
		"JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname "
		"JOIN pg_catalog.pg_class sc ON sc.relnamespace = n.oid AND sc.relname = s.sequencename "
		"LEFT JOIN LATERAL (SELECT format('%%I.%%I', tn.nspname, t.relname) AS tbl, "
		"a.attname AS col, quote_ident(a.attname) AS qcol, d.deptype::text AS deptype "
		"FROM pg_catalog.pg_depend d "
		"JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p') "
		"JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
		"WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = sc.oid "
		"AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') "
		"AND d.refobjsubid > 0 LIMIT 1) own ON true "
		"WHERE %s AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE "
		"e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = sc.oid AND e.deptype = 'e') "
		"ORDER BY 1", f);
	free(f);
	return q;
}

static int64_t seq_int(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? 0 : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

/* The values left before the sequence's bound, in steps of its increment. */
static int64_t seq_headroom(const seq_side *s, int64_t min_value)
{
	if (s->increment == 0)
		return 0;
	int64_t current = s->called ? s->last_value : s->start_value - s->increment;
	int64_t left;
	if (s->increment > 0) {
		if (__builtin_sub_overflow(s->max_value, current, &left))
			return INT64_MAX;
		return left / s->increment;
	}
	if (__builtin_sub_overflow(current, min_value, &left))
		return INT64_MAX;
	return left / -s->increment;
}

static void seq_side_read(seq_side *s, const PGresult *res, int r, int64_t floor)
{
	s->present = true;
	s->called = !PQgetisnull(res, r, SQ_LAST);
	s->last_value = seq_int(res, r, SQ_LAST);
	s->start_value = seq_int(res, r, SQ_START);
	s->increment = seq_int(res, r, SQ_INCR);
	s->max_value = seq_int(res, r, SQ_MAX);
	s->headroom = seq_headroom(s, seq_int(res, r, SQ_MIN));
	s->low = s->headroom < floor;
}

static seq_entry *seq_find(seq_report *rep, const char *name)
{
	for (size_t i = 0; i < rep->n; i++)
		if (strcmp(rep->v[i].sequence, name) == 0)
			return &rep->v[i];
	return NULL;
}

/* Adds one side's listing to the report (an entry per sequence name). */
static void seq_merge(seq_report *rep, const PGresult *res, bool source)
{
	int rows = PQntuples(res);
	rep->v = xrealloc(rep->v, (rep->n + (size_t)rows + 1) * sizeof *rep->v);
	for (int r = 0; r < rows; r++) {
		char *name = pgc_sanitize(PQgetvalue(res, r, SQ_NAME));
		seq_entry *s = seq_find(rep, name);
		if (!s) {
			s = &rep->v[rep->n++];
			memset(s, 0, sizeof *s);
			s->sequence = name;
			s->data_type = pgc_sanitize(PQgetvalue(res, r, SQ_TYPE));
			s->kind = SEQ_UNOWNED;
		} else
			free(name);
		if (!s->table && !PQgetisnull(res, r, SQ_TABLE)) {
			s->table = pgc_sanitize(PQgetvalue(res, r, SQ_TABLE));
			s->column = pgc_sanitize(PQgetvalue(res, r, SQ_COL));
			s->kind = strcmp(PQgetvalue(res, r, SQ_DEPTYPE), "i") == 0 ? SEQ_IDENTITY : SEQ_SERIAL;
		}
		seq_side_read(source ? &s->src : &s->dst, res, r, rep->floor);
	}
}

static PGresult *seq_list(PGconn *c, char *const *schemas, const char *who, pgc_err *e)
{
	char *q = seq_list_query(c, schemas);
	if (!q) {
		pgc_fail(e, PGC_EXIT_SOFTWARE, "cannot quote a schema name");
		return NULL;
	}
	PGresult *res = PQexec(c, q);
	free(q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char *m = pq_oneline(PQresultErrorMessage(res));
		pgc_fail(e, sch_query_exit_code(c, res), "%s: reading sequences: %s", who, m);
		free(m);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* max(column) of an owned sequence's column on one side; the listing row
 * gives the quoted names. */
static void seq_col_max(seq_side *side, PGconn *c, const PGresult *list, const char *seqname)
{
	int rows = PQntuples(list);
	for (int r = 0; r < rows; r++) {
		char *name = pgc_sanitize(PQgetvalue(list, r, SQ_NAME));
		bool match = strcmp(name, seqname) == 0 && !PQgetisnull(list, r, SQ_TABLE);
		free(name);
		if (!match)
			continue;
		char *q = xasprintf("SELECT max(%s)::bigint FROM %s", PQgetvalue(list, r, SQ_QCOL),
		                    PQgetvalue(list, r, SQ_TABLE));
		PGresult *res = PQexec(c, q);
		free(q);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			side->has_col_max = !PQgetisnull(res, 0, 0);
			side->col_max = seq_int(res, 0, 0);
		} else
			side->error = pq_oneline(PQresultErrorMessage(res));
		PQclear(res);
		return;
	}
}

/* What the target must be set to, and the statement that does it. */
static void seq_plan(seq_report *rep, seq_entry *s, PGconn *dst)
{
	if (s->kind == SEQ_UNOWNED || !s->dst.present || s->dst.increment <= 0)
		return;
	bool have = false;
	int64_t base = 0;
	if (s->src.present && s->src.called) {
		base = s->src.last_value;
		have = true;
	}
	if (s->src.has_col_max && (!have || s->src.col_max > base)) {
		base = s->src.col_max;
		have = true;
	}
	if (s->dst.has_col_max && (!have || s->dst.col_max > base)) {
		base = s->dst.col_max;
		have = true;
	}
	if (!have)
		return;
	int64_t dst_next = s->dst.called ? s->dst.last_value + s->dst.increment : s->dst.start_value;
	s->behind = dst_next <= base;
	int64_t want;
	if (__builtin_add_overflow(base, rep->offset, &want) || want > s->dst.max_value) {
		s->problem = xasprintf("%lld + offset %lld is past the sequence's maximum %lld",
			                         (long long)base, (long long)rep->offset, (long long)s->dst.max_value);
		return;
	}
	s->has_want = true;
	s->want = want;
	if (dst_next > want)
		return;
	char *lit = PQescapeLiteral(dst, s->sequence, strlen(s->sequence));
	if (!lit)
		return;
	s->statement = xasprintf("SELECT pg_catalog.setval(%s, %lld, true);", lit, (long long)want);
	PQfreemem(lit);
}

int seq_check(PGconn *src, PGconn *dst, char *const *schemas, int64_t offset, int64_t floor,
              seq_report *out, pgc_err *e)
{
	memset(out, 0, sizeof *out);
	out->have_source = src != NULL;
	out->offset = offset;
	out->floor = floor;
	PGresult *sl = src ? seq_list(src, schemas, "source", e) : NULL;
	if (src && !sl)
		return -1;
	PGresult *dl = seq_list(dst, schemas, "target", e);
	if (!dl) {
		PQclear(sl);
		return -1;
	}
	if (sl)
		seq_merge(out, sl, true);
	seq_merge(out, dl, false);
	for (size_t i = 0; i < out->n; i++) {
		seq_entry *s = &out->v[i];
		if (s->kind != SEQ_UNOWNED) {
			if (s->src.present)
				seq_col_max(&s->src, src, sl, s->sequence);
			if (s->dst.present)
				seq_col_max(&s->dst, dst, dl, s->sequence);
		}
		seq_plan(out, s, dst);
		out->n_behind += s->behind;
		out->n_low += (s->src.present && s->src.low) + (s->dst.present && s->dst.low);
		out->n_unowned += s->kind == SEQ_UNOWNED;
		out->n_statements += s->statement != NULL;
	}
	PQclear(sl);
	PQclear(dl);
	return 0;
}

static void seq_side_free(seq_side *s)
{
	free(s->error);
}

void seq_report_free(seq_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		seq_entry *s = &r->v[i];
		free(s->sequence);
		free(s->table);
		free(s->column);
		free(s->data_type);
		free(s->statement);
		free(s->problem);
		seq_side_free(&s->src);
		seq_side_free(&s->dst);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}

static int seq_exec(PGconn *c, const char *sql, ExecStatusType want, pgc_err *e)
{
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == want;
	if (!ok) {
		char *m = pq_oneline(PQresultErrorMessage(res));
		pgc_fail(e, sch_query_exit_code(c, res), "target: %s: %s", sql, m);
		free(m);
	}
	PQclear(res);
	return ok ? 0 : -1;
}

int seq_sync_apply(PGconn *dst, const seq_report *r, size_t *applied, pgc_err *e)
{
	*applied = 0;
	if (r->n_statements == 0)
		return 0;
	if (seq_exec(dst, "BEGIN READ WRITE", PGRES_COMMAND_OK, e) < 0)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		if (!r->v[i].statement)
			continue;
		if (seq_exec(dst, r->v[i].statement, PGRES_TUPLES_OK, e) < 0) {
			PQclear(PQexec(dst, "ROLLBACK"));
			return -1;
		}
		(*applied)++;
	}
	if (seq_exec(dst, "COMMIT", PGRES_COMMAND_OK, e) < 0)
		return -1;
	return 0;
}

static void seq_side_text(strbuf *sb, const char *who, const seq_side *s, bool owned)
{
	if (!s->present) {
		sb_printf(sb, "  %s: missing", who);
		return;
	}
	if (s->called)
		sb_printf(sb, "  %s: last %lld", who, (long long)s->last_value);
	else
		sb_printf(sb, "  %s: not yet called", who);
	if (owned && s->error)
		sb_printf(sb, ", max(col) NOT READ: %s", s->error);
	else if (owned)
		sb_printf(sb, s->has_col_max ? ", max(col) %lld" : ", max(col) none", (long long)s->col_max);
	sb_printf(sb, ", %lld left%s", (long long)s->headroom, s->low ? " (LOW)" : "");
}

char *seq_entry_line(const seq_entry *s, bool have_source)
{
	strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "  %s  %s %s", s->sequence, s->data_type, seq_kind_name(s->kind));
	if (s->table)
		sb_printf(&sb, " %s.%s", s->table, s->column);
	if (have_source)
		seq_side_text(&sb, "source", &s->src, s->kind != SEQ_UNOWNED);
	seq_side_text(&sb, "target", &s->dst, s->kind != SEQ_UNOWNED);
	if (s->kind == SEQ_UNOWNED)
		sb_puts(&sb, "  NOT OWNED BY A COLUMN: not synced, set it by hand if the app uses it");
	else if (s->statement)
		sb_printf(&sb, "  %s -> %lld", s->behind ? "BEHIND" : "short of offset", (long long)s->want);
	else if (s->problem)
		sb_printf(&sb, "  NOT SYNCABLE: %s", s->problem);
	else
		sb_puts(&sb, "  ok");
	return sb_steal(&sb);
}
