/*
 * schema.c -- schema parity (tables, columns, indexes, constraints,
 * functions, triggers, sequences) and sequence parity between source and
 * target, from catalog queries.  `pgcutover schema` calls the blocking
 * sch_fetch()/sch_check_sequences(); the console can send sch_query() texts
 * on its own async connections and feed the results to sch_snapshot_add().
 *
 * Objects are named the way SQL would write them (format('%I')), so names
 * line up with the config's table names; each carries a detail (type and
 * nullability, an index or constraint definition, ...) that must also match.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/schema.h"
#include "pgcutover/pqtext.h"

#define SCH_DEFAULT_SCHEMA "public"

static const char *const sch_kind_names[SCH_N_KINDS] = {
	"tables", "columns", "indexes", "constraints", "functions", "triggers", "sequences",
	"views", "enums", "row_security", "policies", "grants", "extensions", "roles",
	"referenced_schemas",
};

const char *sch_kind_name(sch_kind k) { return k < SCH_N_KINDS ? sch_kind_names[k] : "?"; }

void sch_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* The schema part of a config table name, unquoted (plain parts fold). */
static char *sch_schema_part(const char *name)
{
	strbuf sb;
	sb_init(&sb);
	const char *p = name;
	if (*p == '"') {
		for (p++; *p; p++) {
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			sb_putc(&sb, *p);
		}
		if (*p == '"')
			p++;
	} else {
		for (; *p && *p != '.'; p++)
			sb_putc(&sb, (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p);
	}
	if (*p != '.') {
		sb_free(&sb);
		return xstrdup(SCH_DEFAULT_SCHEMA);
	}
	return sb_steal(&sb);
}

char **sch_schemas_of(const config *cfg)
{
	char **v = xcalloc(cfg->n_tables + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_tables; i++) {
		char *s = sch_schema_part(cfg->tables[i].name);
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = strcmp(v[k], s) == 0;
		if (seen)
			free(s);
		else
			v[n++] = s;
	}
	return v;
}

/* WHERE fragment restricting namespace alias `n`. */
char *sch_schema_filter(PGconn *c, char *const *schemas)
{
	strbuf sb;
	sb_init(&sb);
	if (!schemas || !schemas[0]) {
		sb_puts(&sb, "n.nspname NOT IN ('pg_catalog', 'information_schema') "
		        "AND n.nspname NOT LIKE 'pg\\_%'");
		return sb_steal(&sb);
	}
	sb_puts(&sb, "n.nspname IN (");
	for (size_t i = 0; schemas[i]; i++) {
		char *lit = PQescapeLiteral(c, schemas[i], strlen(schemas[i]));
		if (!lit) {
			sb_free(&sb);
			return NULL;
		}
		sb_printf(&sb, "%s%s", i ? ", " : "", lit);
		PQfreemem(lit);
	}
	sb_putc(&sb, ')');
	return sb_steal(&sb);
}

/* Objects that belong to an extension are the extension's business. */
#define SCH_NOT_EXTENSION(classid, objid) \
	"NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = '" classid \
	"'::regclass AND e.objid = " objid " AND e.deptype = 'e')"

char *sch_query(PGconn *c, sch_kind kind, char *const *schemas)
{
	char *f = sch_schema_filter(c, schemas);
	if (!f)
		return NULL;
	char *q = NULL;
	switch (kind) {
	case SCH_TABLE:
		q = xasprintf(
			"SELECT format('%%I.%%I', n.nspname, c.relname), "
			"CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' "
			"WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END "
			"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND %s AND "
			SCH_NOT_EXTENSION("pg_class", "c.oid"), f);
		break;
	case SCH_COLUMN:
		q = xasprintf(
			"SELECT format('%%I.%%I.%%I', n.nspname, c.relname, a.attname), "
			"pg_catalog.format_type(a.atttypid, a.atttypmod) || "
			"CASE WHEN a.attnotnull THEN ' not null' ELSE '' END "
			"FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 "
			"AND NOT a.attisdropped AND %s AND " SCH_NOT_EXTENSION("pg_class", "c.oid"), f);
		break;
	case SCH_INDEX:
		q = xasprintf(
			"SELECT format('%%I.%%I', n.nspname, i.relname), pg_catalog.pg_get_indexdef(i.oid) "
			"FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid "
			"JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace WHERE %s AND "
			SCH_NOT_EXTENSION("pg_class", "x.indrelid"), f);
		break;
	case SCH_CONSTRAINT:
		q = xasprintf(
			"SELECT format('%%I.%%I.%%I', n.nspname, c.relname, k.conname), "
			"pg_catalog.pg_get_constraintdef(k.oid) "
			"FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE %s AND "
			SCH_NOT_EXTENSION("pg_class", "c.oid"), f);
		break;
	case SCH_FUNCTION:
		/* The body's hash stands for the body: equal text, equal function. */
		q = xasprintf(
			"SELECT format('%%I.%%I(%%s)', n.nspname, p.proname, "
			"pg_catalog.pg_get_function_identity_arguments(p.oid)), "
			"coalesce(pg_catalog.pg_get_function_result(p.oid), 'procedure') || ' ' || l.lanname "
			"|| ' body ' || left(md5(coalesce(p.prosrc, '')), 12) "
			"FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
			"JOIN pg_catalog.pg_language l ON l.oid = p.prolang WHERE %s AND "
			SCH_NOT_EXTENSION("pg_proc", "p.oid"), f);
		break;
	case SCH_TRIGGER:
		q = xasprintf(
			"SELECT format('%%I.%%I.%%I', n.nspname, c.relname, t.tgname), "
			"pg_catalog.pg_get_triggerdef(t.oid) "
			"FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"WHERE NOT t.tgisinternal AND %s", f);
		break;
	case SCH_SEQUENCE:
		/* Not last_value: that differs by design until the cutover. */
		q = xasprintf(
			"SELECT format('%%I.%%I', n.nspname, c.relname), "
			"pg_catalog.format_type(s.seqtypid, NULL) || ' increment ' || s.seqincrement "
			"FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE %s AND "
			SCH_NOT_EXTENSION("pg_class", "c.oid"), f);
		break;
	case SCH_VIEW:
		q = xasprintf(
			"SELECT format('%%I.%%I', n.nspname, c.relname), "
			"'definition ' || left(md5(pg_catalog.pg_get_viewdef(c.oid)), 12) "
			"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"WHERE c.relkind IN ('v', 'm') AND %s AND " SCH_NOT_EXTENSION("pg_class", "c.oid"), f);
		break;
	case SCH_ENUM:
		q = xasprintf(
			"SELECT format('%%I.%%I', n.nspname, t.typname), "
			"(SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e "
			"WHERE e.enumtypid = t.oid) "
			"FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
			"WHERE t.typtype = 'e' AND %s AND " SCH_NOT_EXTENSION("pg_type", "t.oid"), f);
		break;
	case SCH_RLS:
		q = xasprintf(
			"SELECT format('%%I.%%I', n.nspname, c.relname), "
			"'enabled' || CASE WHEN c.relforcerowsecurity THEN ', forced' ELSE '' END "
			"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"WHERE c.relrowsecurity AND %s", f);
		break;
	case SCH_POLICY:
		q = xasprintf(
			"SELECT format('%%I.%%I.%%I', p.schemaname, p.tablename, p.policyname), "
			"p.cmd || ' ' || p.permissive || ' to ' || array_to_string(p.roles, ',') "
			"|| coalesce(' using ' || p.qual, '') || coalesce(' with check ' || p.with_check, '') "
			"FROM pg_catalog.pg_policies p JOIN pg_catalog.pg_namespace n ON n.nspname = p.schemaname "
			"WHERE %s", f);
		break;
	case SCH_GRANT:
		/* the owner's own privileges are the owner's business */
		q = xasprintf(
			"SELECT format('%%I.%%I to %%s', n.nspname, c.relname, "
			"CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END), "
			"string_agg(a.privilege_type, ',' ORDER BY a.privilege_type) "
			"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a "
			"LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee "
			"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND a.grantee <> c.relowner AND %s "
			"GROUP BY 1", f);
		break;
	case SCH_EXTENSION:
		q = xstrdup("SELECT x.extname, x.extversion FROM pg_catalog.pg_extension x");
		break;
	case SCH_ROLE:
		q = xasprintf(
			"SELECT r.rolname, CASE WHEN r.rolcanlogin THEN 'login' ELSE 'nologin' END "
			"FROM pg_catalog.pg_roles r WHERE r.oid IN ("
			"SELECT unnest(p.polroles) FROM pg_catalog.pg_policy p "
			"JOIN pg_catalog.pg_class c ON c.oid = p.polrelid "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE %s "
			"UNION SELECT a.grantee FROM pg_catalog.pg_class c "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a WHERE a.grantee <> c.relowner AND %s)",
			f, f);
		break;
	case SCH_REF_SCHEMA:
		q = xasprintf(
			"SELECT DISTINCT rn.nspname, 'referenced by foreign keys' "
			"FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid "
			"JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace "
			"WHERE k.contype = 'f' AND rn.nspname <> n.nspname AND %s", f);
		break;
	default:
		break;
	}
	free(f);
	return q;
}

void sch_snapshot_add(sch_snapshot *snap, sch_kind kind, const PGresult *res)
{
	int n = PQntuples(res);
	if (n <= 0 || PQnfields(res) < 2)
		return;
	snap->objs[kind] = xrealloc(snap->objs[kind], (snap->n[kind] + (size_t)n) * sizeof(sch_object));
	for (int r = 0; r < n; r++) {
		sch_object *o = &snap->objs[kind][snap->n[kind]++];
		o->name = pgc_sanitize(PQgetvalue(res, r, 0));
		o->detail = pgc_sanitize(PQgetvalue(res, r, 1));
	}
}

static int sch_obj_cmp(const void *a, const void *b)
{
	return strcmp(((const sch_object *)a)->name, ((const sch_object *)b)->name);
}

void sch_snapshot_sort(sch_snapshot *snap)
{
	for (int k = 0; k < SCH_N_KINDS; k++)
		if (snap->n[k] > 1)
			qsort(snap->objs[k], snap->n[k], sizeof(sch_object), sch_obj_cmp);
}

void sch_snapshot_clear(sch_snapshot *snap)
{
	for (int k = 0; k < SCH_N_KINDS; k++) {
		for (size_t i = 0; i < snap->n[k]; i++) {
			free(snap->objs[k][i].name);
			free(snap->objs[k][i].detail);
		}
		free(snap->objs[k]);
	}
	memset(snap, 0, sizeof *snap);
}

int sch_fetch(PGconn *c, char *const *schemas, sch_snapshot *out, const char *who, pgc_err *e)
{
	memset(out, 0, sizeof *out);
	for (int k = 0; k < SCH_N_KINDS; k++) {
		char *q = sch_query(c, (sch_kind)k, schemas);
		if (!q) {
			sch_snapshot_clear(out);
			return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: cannot quote a schema name", who);
		}
		PGresult *res = PQexec(c, q);
		free(q);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			char *m = pq_oneline(PQresultErrorMessage(res));
			char *srv = pq_server(c);
			pgc_fail(e, sch_query_exit_code(c, res), "%s (%s): reading %s: %s", who, srv,
			         sch_kind_name((sch_kind)k), m);
			free(m);
			free(srv);
			PQclear(res);
			sch_snapshot_clear(out);
			return -1;
		}
		sch_snapshot_add(out, (sch_kind)k, res);
		PQclear(res);
	}
	sch_snapshot_sort(out);
	return 0;
}

static void sch_diff_push(sch_diff **v, size_t *n, sch_kind k, const char *name,
                          const char *sd, const char *td)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n] = (sch_diff){k, xstrdup(name), sd ? xstrdup(sd) : NULL, td ? xstrdup(td) : NULL};
	(*n)++;
}

size_t sch_compare(const sch_snapshot *src, const sch_snapshot *dst, sch_diff **out)
{
	sch_diff *v = NULL;
	size_t n = 0;
	for (int k = 0; k < SCH_N_KINDS; k++) {
		size_t i = 0, j = 0;
		const sch_object *a = src->objs[k], *b = dst->objs[k];
		while (i < src->n[k] || j < dst->n[k]) {
			int c = i >= src->n[k] ? 1 : j >= dst->n[k] ? -1 : strcmp(a[i].name, b[j].name);
			if (c < 0) {
				sch_diff_push(&v, &n, (sch_kind)k, a[i].name, a[i].detail, NULL);
				i++;
			} else if (c > 0) {
				sch_diff_push(&v, &n, (sch_kind)k, b[j].name, NULL, b[j].detail);
				j++;
			} else {
				if (strcmp(a[i].detail, b[j].detail) != 0)
					sch_diff_push(&v, &n, (sch_kind)k, a[i].name, a[i].detail, b[j].detail);
				i++;
				j++;
			}
		}
	}
	*out = v;
	return n;
}

void sch_diffs_free(sch_diff *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].name);
		free(d[i].source_detail);
		free(d[i].target_detail);
	}
	free(d);
}

void sch_seq_checks_free(sch_seq_check *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].table);
		free(v[i].column);
		free(v[i].sequence);
		free(v[i].error);
	}
	free(v);
}

int sch_query_exit_code(PGconn *c, const PGresult *res)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(c) != CONNECTION_BAD && code &&
	    (strcmp(code, "57014") == 0 || strcmp(code, "55P03") == 0 ||
	     strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0))
		return PGC_EXIT_TEMPFAIL;
	return PGC_EXIT_UNAVAILABLE;
}

char *sch_seq_list_query(PGconn *c, char *const *schemas)
{
	char *f = sch_schema_filter(c, schemas);
	if (!f)
		return NULL;
	/* deptype 'a': a serial's OWNED BY; 'i': an identity column. */
	char *q = xasprintf(
		"SELECT format('%%I.%%I', n.nspname, c.relname), a.attname, "
		"format('%%I.%%I', sn.nspname, s.relname), quote_ident(a.attname), sq.seqincrement "
		"FROM pg_catalog.pg_depend d "
		"JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
		"JOIN pg_catalog.pg_sequence sq ON sq.seqrelid = s.oid "
		"JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace "
		"JOIN pg_catalog.pg_class c ON c.oid = d.refobjid AND c.relkind IN ('r', 'p') "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid "
		"WHERE d.classid = 'pg_catalog.pg_class'::regclass "
		"AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') AND %s "
		"ORDER BY 1, 2", f);
	free(f);
	return q;
}

size_t sch_seq_checks_init(const PGresult *list, sch_seq_check **out)
{
	int rows = PQntuples(list);
	sch_seq_check *v = xcalloc(rows > 0 ? (size_t)rows : 1, sizeof *v);
	for (int r = 0; r < rows; r++) {
		v[r].table = pgc_sanitize(PQgetvalue(list, r, 0));
		v[r].column = pgc_sanitize(PQgetvalue(list, r, 1));
		v[r].sequence = pgc_sanitize(PQgetvalue(list, r, 2));
	}
	*out = v;
	return rows > 0 ? (size_t)rows : 0;
}

/* The names come back quoted by the server (format %I). */
char *sch_seq_value_query(const PGresult *list, size_t i)
{
	return xasprintf("SELECT last_value, is_called FROM %s", PQgetvalue(list, (int)i, 2));
}

char *sch_seq_max_query(const PGresult *list, size_t i)
{
	return xasprintf("SELECT max(%s)::bigint FROM %s", PQgetvalue(list, (int)i, 3),
	                 PQgetvalue(list, (int)i, 0));
}

/* A per-column query that did not give its one row. */
static bool sch_seq_failed(sch_seq_check *sc, PGconn *c, const PGresult *res)
{
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		return false;
	free(sc->error);
	sc->error = pq_oneline(PQresultStatus(res) == PGRES_TUPLES_OK ? "no row" : PQresultErrorMessage(res));
	sc->error_code = sch_query_exit_code(c, res);
	return true;
}

int sch_seq_set_value(sch_seq_check *sc, PGconn *c, const PGresult *res)
{
	if (sch_seq_failed(sc, c, res))
		return -1;
	sc->last_value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	sc->is_called = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	return 0;
}

int sch_seq_set_max(sch_seq_check *sc, PGconn *c, const PGresult *list, size_t i, const PGresult *res)
{
	if (sch_seq_failed(sc, c, res))
		return -1;
	int64_t incr = strtoll(PQgetvalue(list, (int)i, 4), NULL, 10);
	sc->has_max = !PQgetisnull(res, 0, 0);
	sc->max = sc->has_max ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	/* nextval() returns last_value itself until the sequence is called. */
	int64_t next = sc->is_called ? sc->last_value + incr : sc->last_value;
	sc->ok = !sc->has_max || incr < 0 || next > sc->max;
	return 0;
}

/* A column name as SQL would need it written (the catalog gives it bare). */
static char *sch_quote_ident(const char *s)
{
	bool plain = (*s >= 'a' && *s <= 'z') || *s == '_';
	for (const char *p = s; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (plain)
		return xstrdup(s);
	strbuf sb;
	sb_init(&sb);
	sb_putc(&sb, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_putc(&sb, '"');
		sb_putc(&sb, *p);
	}
	sb_putc(&sb, '"');
	return sb_steal(&sb);
}

char *sch_diff_line(const sch_diff *d)
{
	if (!d->target_detail)
		return xasprintf("  %s %s: only on source (%s)", sch_kind_name(d->kind), d->name, d->source_detail);
	if (!d->source_detail)
		return xasprintf("  %s %s: only on target (%s)", sch_kind_name(d->kind), d->name, d->target_detail);
	return xasprintf("  %s %s: source %s; target %s", sch_kind_name(d->kind), d->name, d->source_detail,
	                 d->target_detail);
}

char *sch_seq_line(const sch_seq_check *s)
{
	if (s->error)
		return xasprintf("  %s.%s  %s  NOT CHECKED: %s", s->table, s->column, s->sequence, s->error);
	char maxs[32];
	if (s->has_max)
		snprintf(maxs, sizeof maxs, "%lld", (long long)s->max);
	else
		snprintf(maxs, sizeof maxs, "none (empty)");
	return xasprintf("  %s.%s  %s  last_value %lld%s, max %s  %s", s->table, s->column, s->sequence,
	                 (long long)s->last_value, s->is_called ? "" : " (not yet called)", maxs,
	                 s->ok ? "ok" : "BEHIND");
}

char *sch_seq_fix_sql(const sch_seq_check *s)
{
	if (s->error || strchr(s->sequence, '\''))
		return NULL;
	char *col = sch_quote_ident(s->column);
	char *sql = xasprintf("SELECT setval('%s', (SELECT max(%s) FROM %s));", s->sequence, col, s->table);
	free(col);
	return sql;
}

int sch_check_sequences(PGconn *c, char *const *schemas, sch_seq_check **out, size_t *n,
                        pgc_err *e)
{
	*out = NULL;
	*n = 0;
	char *q = sch_seq_list_query(c, schemas);
	if (!q)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "cannot quote a schema name");
	PGresult *res = PQexec(c, q);
	free(q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char *m = pq_oneline(PQresultErrorMessage(res));
		pgc_fail(e, sch_query_exit_code(c, res), "reading serial and identity columns: %s", m);
		free(m);
		PQclear(res);
		return -1;
	}
	sch_seq_check *v = NULL;
	size_t rows = sch_seq_checks_init(res, &v);
	for (size_t r = 0; r < rows; r++) {
		char *sql = sch_seq_value_query(res, r);
		PGresult *sv = PQexec(c, sql);
		free(sql);
		int rc = sch_seq_set_value(&v[r], c, sv);
		PQclear(sv);
		if (rc < 0)
			continue;
		sql = sch_seq_max_query(res, r);
		PGresult *mv = PQexec(c, sql);
		free(sql);
		sch_seq_set_max(&v[r], c, res, r, mv);
		PQclear(mv);
	}
	*n = rows;
	*out = v;
	PQclear(res);
	return 0;
}

char *cmp_pg_session_options(const char *conninfo, int statement_timeout_ms, char **errmsg)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", &perr);
	if (!opts) {
		*errmsg = xstrdup(perr ? perr : "out of memory");
		PQfreemem(perr);
		return NULL;
	}
	strbuf sb;
	sb_init(&sb);
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val && *o->val)
			sb_printf(&sb, "%s ", o->val);
	PQconninfoFree(opts);
	sb_puts(&sb, "-c default_transaction_read_only=on");
	if (statement_timeout_ms > 0)
		sb_printf(&sb, " -c statement_timeout=%d", statement_timeout_ms);
	return sb_steal(&sb);
}

static void sch_ignore_notice(void *arg, const char *message)
{
}

/* Connects (blocking) or starts connecting (async) with the session
 * settings every pgcutover connection has. */
static PGconn *sch_connect_params(const config *cfg, const cfg_endpoint *ep, const char *who,
                                  bool async, pgc_err *e)
{
	if (ep->kind != CFG_EP_POSTGRES) {
		pgc_fail(e, PGC_EXIT_CONFIG, "%s: schema parity needs a PostgreSQL %s (conninfo), "
		         "not %s", cfg->path ? cfg->path : "config", who,
		         ep->kind == CFG_EP_SUPABASE ? "a Supabase REST endpoint" : "nothing");
		return NULL;
	}
	char *err = NULL;
	char *options = cmp_pg_session_options(ep->conninfo, cfg->statement_timeout_ms, &err);
	if (!options) {
		pgc_fail(e, PGC_EXIT_CONFIG, "%s: %s conninfo: %s", cfg->path ? cfg->path : "config", who, err);
		free(err);
		return NULL;
	}
	const char *const keys[] = {"dbname", "application_name", "options", NULL};
	const char *const vals[] = {ep->conninfo ? ep->conninfo : "", "pgcutover", options, NULL};
	PGconn *c = async ? PQconnectStartParams(keys, vals, 1) : PQconnectdbParams(keys, vals, 1);
	free(options);
	if (!c) {
		pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: out of memory", who);
		return NULL;
	}
	PQsetNoticeProcessor(c, sch_ignore_notice, NULL);   /* never print */
	if ((async && PQstatus(c) == CONNECTION_BAD) || (!async && PQstatus(c) != CONNECTION_OK)) {
		sch_conn_fail(c, who, e);
		PQfinish(c);
		return NULL;
	}
	return c;
}

void sch_conn_fail(PGconn *c, const char *who, pgc_err *e)
{
	char *m = pq_oneline(PQerrorMessage(c));
	char *srv = pq_server(c);
	pgc_fail(e, PGC_EXIT_UNAVAILABLE, "%s (%s): %s", who, srv, m);
	free(m);
	free(srv);
}

PGconn *sch_connect(const config *cfg, const cfg_endpoint *ep, const char *who, pgc_err *e)
{
	return sch_connect_params(cfg, ep, who, false, e);
}

PGconn *sch_connect_start(const config *cfg, const cfg_endpoint *ep, const char *who, pgc_err *e)
{
	return sch_connect_params(cfg, ep, who, true, e);
}
