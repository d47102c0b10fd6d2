/*
 * freeze.c -- the write-freeze proof (freeze.h): the one sample query on
 * the source, its reading, the watch that folds samples into "who still
 * writes" and "proven after N quiet seconds", the session that runs it on
 * the loop every second, and the statements of `freeze apply/release`.
 * Called by `pgcutover freeze` (cmd_freeze.c), the console's freeze panel
 * (through svc-style polling of frz_session_watch) and the go board.
 * Nothing here prints or records: the payload writer is evp_freeze_write.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/freeze.h"
#include "pgcutover/compare.h"
#include "pgcutover/evpay.h"
#include "pgcutover/state.h"
#include "pgcutover/pqasync.h"
#include "pgcutover/pqtext.h"
#include "pgcutover/schema.h"

static char **strv_dup(const char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	char **out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

char **frz_ignore_list(const config *cfg)
{
	static const char *const defaults[] = FRZ_DEFAULT_IGNORE;
	if (cfg && cfg->freeze_ignore_set) {
		const char *const *v = (const char *const *)cfg->freeze_ignore;
		static const char *const none[] = {NULL};
		return strv_dup(v ? v : none);
	}
	return strv_dup(defaults);
}

static bool frz_ignored(char *const *ignore, const char *role, const char *app)
{
	for (size_t i = 0; ignore && ignore[i]; i++)
		if ((role && strcmp(ignore[i], role) == 0) || (app && *app && strcmp(ignore[i], app) == 0))
			return true;
	return false;
}

/* ---- the sample ---- */

enum { FQ_KIND, FQ_A, FQ_B, FQ_C, FQ_X, FQ_Y, FQ_Z };

char *frz_sample_query(PGconn *c, char *const *schemas)
{
	char *f = sch_schema_filter(c, schemas);
	if (!f)
		return NULL;
	/* Sessions of other roles show NULL state and client_addr to a role
	 * without pg_read_all_stats: "hidden", not "local". */
	char *q = xasprintf(
		"SELECT 't', format('%%I.%%I', n.schemaname, n.relname), NULL::text, NULL::text, "
		"n.n_tup_ins, n.n_tup_upd, n.n_tup_del "
		"FROM (SELECT s.*, s.schemaname AS nspname FROM pg_catalog.pg_stat_user_tables s) n WHERE %s "
		"UNION ALL SELECT 'd', NULL, NULL, NULL, xact_commit, 0::bigint, 0::bigint "
		"FROM pg_catalog.pg_stat_database WHERE datname = current_database() "
		"UNION ALL SELECT 's', usename::text, application_name, "
		"CASE WHEN client_addr IS NOT NULL THEN host(client_addr) WHEN state IS NULL THEN 'hidden' "
		"ELSE 'local' END, count(*), count(*) FILTER (WHERE backend_xid IS NOT NULL), 0::bigint "
		"FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend' "
		"AND datname = current_database() AND pid <> pg_catalog.pg_backend_pid() "
		"AND application_name NOT LIKE 'pgcutover%%' GROUP BY 2, 3, 4", f);
	free(f);
	return q;
}

static int frz_table_cmp(const void *a, const void *b)
{
	return strcmp(((const frz_table_counter *)a)->table, ((const frz_table_counter *)b)->table);
}

static int64_t frz_int(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? 0 : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

int frz_sample_read(const PGresult *res, char *const *ignore, double now, frz_sample *out, pgc_err *e)
{
	memset(out, 0, sizeof *out);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char *m = pq_oneline(res ? PQresultErrorMessage(res) : "no result");
		pgc_fail(e, PGC_EXIT_UNAVAILABLE, "source: reading write counters and sessions: %s", m);
		free(m);
		return -1;
	}
	out->ts = now;
	int rows = PQntuples(res);
	size_t cap = rows > 0 ? (size_t)rows : 1;
	out->tables = xcalloc(cap, sizeof *out->tables);
	out->sessions = xcalloc(cap, sizeof *out->sessions);
	for (int r = 0; r < rows; r++) {
		char k = PQgetvalue(res, r, FQ_KIND)[0];
		if (k == 't') {
			frz_table_counter *t = &out->tables[out->n_tables++];
			t->table = pgc_sanitize(PQgetvalue(res, r, FQ_A));
			t->ins = frz_int(res, r, FQ_X);
			t->upd = frz_int(res, r, FQ_Y);
			t->del = frz_int(res, r, FQ_Z);
		} else if (k == 'd') {
			out->commits = frz_int(res, r, FQ_X);
		} else if (k == 's') {
			frz_sessions *s = &out->sessions[out->n_sessions++];
			s->role = pgc_sanitize(PQgetvalue(res, r, FQ_A));
			s->app = pgc_sanitize(PQgetvalue(res, r, FQ_B));
			s->client = pgc_sanitize(PQgetvalue(res, r, FQ_C));
			s->count = (int)frz_int(res, r, FQ_X);
			s->writing = (int)frz_int(res, r, FQ_Y);
			s->ignored = frz_ignored(ignore, s->role, s->app);
		}
	}
	qsort(out->tables, out->n_tables, sizeof *out->tables, frz_table_cmp);
	return 0;
}

void frz_sample_free(frz_sample *s)
{
	for (size_t i = 0; i < s->n_tables; i++)
		free(s->tables[i].table);
	for (size_t i = 0; i < s->n_sessions; i++) {
		free(s->sessions[i].role);
		free(s->sessions[i].app);
		free(s->sessions[i].client);
	}
	free(s->tables);
	free(s->sessions);
	memset(s, 0, sizeof *s);
}

/* ---- the watch ---- */

void frz_watch_init(frz_watch *w, int quiet_s, char **ignore, double now)
{
	memset(w, 0, sizeof *w);
	w->quiet_s = quiet_s;
	w->ignore = ignore;
	w->started = w->last_write = now;
}

void frz_watch_free(frz_watch *w)
{
	frz_sample_free(&w->prev);
	for (size_t i = 0; i < w->n_written; i++)
		free(w->written[i].table);
	free(w->written);
	for (size_t i = 0; w->ignore && w->ignore[i]; i++)
		free(w->ignore[i]);
	free(w->ignore);
	memset(w, 0, sizeof *w);
}

static void frz_note_written(frz_watch *w, const char *table, int64_t rows, double at)
{
	for (size_t i = 0; i < w->n_written; i++)
		if (strcmp(w->written[i].table, table) == 0) {
			w->written[i].rows += rows;
			w->written[i].last_at = at;
			return;
		}
	w->written = xrealloc(w->written, (w->n_written + 1) * sizeof *w->written);
	w->written[w->n_written++] = (frz_written){xstrdup(table), rows, at};
}

static frz_verdict frz_decide(frz_watch *w, bool wrote, double now, const char *what)
{
	w->samples++;
	if (wrote) {
		w->last_write = now;
		w->writes_seen++;
		snprintf(w->last_write_what, sizeof w->last_write_what, "%s", what);
		return w->verdict = FRZ_WRITE_SEEN;
	}
	if (w->samples >= 2 && now - w->last_write >= w->quiet_s)
		return w->verdict = FRZ_PROVEN;
	return w->verdict = FRZ_WATCHING;
}

frz_verdict frz_watch_feed(frz_watch *w, frz_sample *s)
{
	strbuf what;
	sb_init(&what);
	bool wrote = false;
	if (w->have_prev) {
		for (size_t i = 0; i < s->n_tables; i++) {
			const frz_table_counter *t = &s->tables[i];
			const frz_table_counter *p = bsearch(t, w->prev.tables, w->prev.n_tables, sizeof *t, frz_table_cmp);
			if (!p)
				continue;   /* a table created since: its rows are in its counters from now on */
			int64_t d = (t->ins + t->upd + t->del) - (p->ins + p->upd + p->del);
			if (d == 0)
				continue;
			wrote = true;
			if (d < 0)
				sb_printf(&what, "%s%s counters reset", what.len ? ", " : "", t->table);
			else {
				sb_printf(&what, "%s%s +%lld", what.len ? ", " : "", t->table, (long long)d);
				frz_note_written(w, t->table, d, s->ts);
			}
		}
		w->commits += s->commits - w->prev.commits;
	}
	for (size_t i = 0; i < s->n_sessions; i++) {
		const frz_sessions *x = &s->sessions[i];
		if (x->ignored || x->writing == 0)
			continue;
		wrote = true;
		sb_printf(&what, "%s%s@%s (%s) writing in an open transaction x%d", what.len ? ", " : "", x->role,
		          x->client, x->app, x->writing);
	}
	frz_sample_free(&w->prev);
	w->prev = *s;
	memset(s, 0, sizeof *s);
	w->have_prev = true;
	w->sessions = w->prev.sessions;
	w->n_sessions = w->prev.n_sessions;
	frz_verdict v = frz_decide(w, wrote, w->prev.ts, what.len ? what.buf : "");
	sb_free(&what);
	return v;
}

frz_verdict frz_watch_feed_counts(frz_watch *w, const char *const *tables, const int64_t *rows, size_t n,
                                  double now)
{
	w->counts_only = true;
	frz_sample s = {.ts = now, .n_tables = n};
	s.tables = xcalloc(n ? n : 1, sizeof *s.tables);
	for (size_t i = 0; i < n; i++) {
		s.tables[i].table = xstrdup(tables[i]);
		s.tables[i].ins = rows[i];   /* a count: any change is a write */
	}
	qsort(s.tables, s.n_tables, sizeof *s.tables, frz_table_cmp);
	return frz_watch_feed(w, &s);
}

double frz_watch_quiet_for(const frz_watch *w, double now)
{
	return now - w->last_write;
}

static void frz_sessions_text(strbuf *sb, const frz_watch *w, bool ignored)
{
	bool first = true;
	for (size_t i = 0; i < w->n_sessions; i++) {
		const frz_sessions *x = &w->sessions[i];
		if (x->ignored != ignored)
			continue;
		sb_printf(sb, "%s%s@%s (%s) x%d", first ? "" : ", ", x->role, x->client,
		          x->app[0] ? x->app : "no application_name", x->count);
		if (x->writing)
			sb_printf(sb, " (%d writing)", x->writing);
		first = false;
	}
}

char *frz_watch_who(const frz_watch *w, double now)
{
	strbuf sb;
	sb_init(&sb);
	if (w->n_written == 0)
		sb_puts(&sb, w->counts_only ? "counts unchanged" : "no table written");
	for (size_t i = 0; i < w->n_written; i++)
		sb_printf(&sb, "%s%s %+lld rows", i ? ", " : "", w->written[i].table, (long long)w->written[i].rows);
	sb_printf(&sb, " in %.0f s", now - w->started);
	if (!w->counts_only) {
		size_t before = sb.len;
		sb_puts(&sb, "; sessions: ");
		size_t mark = sb.len;
		frz_sessions_text(&sb, w, false);
		if (sb.len == mark) {
			sb.len = before;
			sb.buf[before] = '\0';
			sb_puts(&sb, "; no other sessions");
		}
	}
	return sb_steal(&sb);
}

char *frz_watch_ignored(const frz_watch *w)
{
	strbuf sb;
	sb_init(&sb);
	frz_sessions_text(&sb, w, true);
	return sb_steal(&sb);
}

/* ---- the session on the loop ---- */

struct frz_session {
	const config *cfg;
	loop *lp;
	char **schemas;
	char *sql;
	pqa *q;
	cmp_session *cs;       /* a REST source: exact counts instead */
	int timer_id;
	frz_watch w;
	frz_listener_fn fn;
	void *ud;
	double sent_ms;
	char error[PGC_ERR_MAX];
};

static void frz_send(frz_session *fs)
{
	if (!pqa_idle(fs->q))
		return;   /* the last sample is still out: this tick is skipped */
	if (!fs->sql)
		fs->sql = frz_sample_query(pqa_conn(fs->q), fs->schemas);
	if (!fs->sql) {
		snprintf(fs->error, sizeof fs->error, "cannot quote a schema name");
		fs->fn(fs, fs->ud);
		return;
	}
	fs->sent_ms = loop_now_ms();
	if (pqa_send(fs->q, fs->sql) == 0)
		fs->w.queries++;
}

static void frz_tick(loop *lp, void *ud)
{
	frz_session *fs = ud;
	fs->timer_id = loop_timer(lp, FRZ_SAMPLE_MS, frz_tick, fs);
	frz_send(fs);
}

static void frz_on_pq(pqa *q, pqa_event ev, PGresult *res, void *ud)
{
	(void)q;
	frz_session *fs = ud;
	if (ev == PQA_CONNECTED) {
		frz_send(fs);
		return;
	}
	if (ev == PQA_FAILED) {
		snprintf(fs->error, sizeof fs->error, "%s", pqa_error(fs->q));
		if (fs->timer_id)
			loop_timer_cancel(fs->lp, fs->timer_id);
		fs->timer_id = 0;
		fs->fn(fs, fs->ud);
		return;
	}
	fs->w.query_ms += loop_now_ms() - fs->sent_ms;
	frz_sample s;
	pgc_err e = {0};
	int rc = frz_sample_read(res, fs->w.ignore, pgc_now(), &s, &e);
	PQclear(res);
	if (rc < 0) {
		snprintf(fs->error, sizeof fs->error, "%s", e.msg);
		if (fs->timer_id)
			loop_timer_cancel(fs->lp, fs->timer_id);
		fs->timer_id = 0;
	} else
		frz_watch_feed(&fs->w, &s);
	fs->fn(fs, fs->ud);
}

/* A REST source: one exact count snapshot done; the next after a tick. */
static void frz_counts_tick(loop *lp, void *ud)
{
	(void)lp;
	frz_session *fs = ud;
	fs->timer_id = 0;
	fs->sent_ms = loop_now_ms();
	fs->w.queries++;
	cmp_refresh(fs->cs, true);
}

static void frz_on_counts(cmp_session *cs, bool snapshot_done, void *ud)
{
	frz_session *fs = ud;
	if (!snapshot_done)
		return;
	fs->w.query_ms += loop_now_ms() - fs->sent_ms;
	size_t n = cmp_n_tables(cs);
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	int64_t *rows = xcalloc(n ? n : 1, sizeof *rows);
	for (size_t i = 0; i < n; i++) {
		const cmp_table *t = cmp_table_at(cs, i);
		const cmp_figure *f = &t->side[CMP_SOURCE];
		if (f->error || !f->exact || f->rows < 0) {
			snprintf(fs->error, sizeof fs->error, "source: %s: %s", t->name,
			         f->error ? f->error : "no exact count");
			break;
		}
		names[i] = t->name;
		rows[i] = f->rows;
	}
	if (!fs->error[0]) {
		frz_watch_feed_counts(&fs->w, names, rows, n, pgc_now());
		fs->timer_id = loop_timer(fs->lp, FRZ_SAMPLE_MS, frz_counts_tick, fs);
	}
	free(names);
	free(rows);
	fs->fn(fs, fs->ud);
}

frz_session *frz_session_new(const config *cfg, int quiet_s, loop *lp, frz_listener_fn fn, void *ud)
{
	frz_session *fs = xcalloc(1, sizeof *fs);
	fs->cfg = cfg;
	fs->lp = lp;
	fs->fn = fn;
	fs->ud = ud;
	fs->schemas = sch_schemas_of(cfg);
	frz_watch_init(&fs->w, quiet_s, frz_ignore_list(cfg), pgc_now());
	return fs;
}

int frz_session_start(frz_session *fs, pgc_err *e)
{
	if (fs->cfg->source.kind != CFG_EP_POSTGRES) {
		fs->w.counts_only = true;
		if (!(fs->cs = cmp_session_new(fs->cfg, fs->lp, e)))
			return -1;
		cmp_session_set_listener(fs->cs, frz_on_counts, fs);
		if (cmp_start(fs->cs, e) != 0)
			return -1;
		fs->w.started = fs->w.last_write = pgc_now();
		frz_counts_tick(fs->lp, fs);
		return 0;
	}
	fs->q = pqa_start(fs->cfg, &fs->cfg->source, "source", fs->lp, frz_on_pq, fs, e);
	if (!fs->q)
		return -1;
	fs->w.started = fs->w.last_write = pgc_now();
	fs->timer_id = loop_timer(fs->lp, FRZ_SAMPLE_MS, frz_tick, fs);
	return 0;
}

void frz_session_free(frz_session *fs)
{
	if (!fs)
		return;
	if (fs->timer_id)
		loop_timer_cancel(fs->lp, fs->timer_id);
	pqa_free(fs->q);
	if (fs->cs)
		cmp_session_free(fs->cs);
	frz_watch_free(&fs->w);
	sch_strv_free(fs->schemas);
	free(fs->sql);
	free(fs);
}

const frz_watch *frz_session_watch(const frz_session *fs)
{
	return &fs->w;
}

const char *frz_session_error(const frz_session *fs)
{
	return fs->error;
}


/* ---- enforcement ---- */

char **frz_apply_sql(PGconn *c, char *const *roles, bool release)
{
	size_t n = 0;
	while (roles[n])
		n++;
	char **v = xcalloc(2 * n + 3, sizeof *v);
	size_t k = 0;
	v[k++] = xstrdup("BEGIN READ WRITE");
	for (size_t i = 0; i < n; i++) {
		char *id = PQescapeIdentifier(c, roles[i], strlen(roles[i]));
		if (!id) {
			sch_strv_free(v);
			return NULL;
		}
		v[k++] = release ? xasprintf("ALTER ROLE %s RESET default_transaction_read_only", id)
		                 : xasprintf("ALTER ROLE %s SET default_transaction_read_only = on", id);
		PQfreemem(id);
	}
	v[k++] = xstrdup("COMMIT");
	/* After the commit, so a session that connects meanwhile starts read-only. */
	for (size_t i = 0; i < n && !release; i++) {
		char *lit = PQescapeLiteral(c, roles[i], strlen(roles[i]));
		if (!lit) {
			sch_strv_free(v);
			return NULL;
		}
		v[k++] = xasprintf("SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
		                   "WHERE usename = %s AND pid <> pg_catalog.pg_backend_pid()", lit);
		PQfreemem(lit);
	}
	return v;
}

int frz_apply_run(PGconn *c, char *const *sql, size_t *done, pgc_err *e)
{
	*done = 0;
	for (size_t i = 0; sql[i]; i++) {
		PGresult *res = PQexec(c, sql[i]);
		ExecStatusType st = PQresultStatus(res);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			char *m = pq_oneline(PQresultErrorMessage(res));
			pgc_fail(e, sch_query_exit_code(c, res), "source: %s: %s", sql[i], m);
			free(m);
			PQclear(res);
			PQclear(PQexec(c, "ROLLBACK"));
			return -1;
		}
		PQclear(res);
		(*done)++;
	}
	return 0;
}

char **frz_applied_roles(state *st)
{
	st_event *ap = NULL, *rel = NULL;
	pgc_err e = {0};
	char **roles = NULL;
	if (st && state_last_of_kind(st, EV_FREEZE_APPLIED, &ap, &e) == 1 &&
	    (state_last_of_kind(st, EV_FREEZE_RELEASED, &rel, &e) != 1 || rel->id < ap->id))
		roles = evr_freeze_roles(ap->payload);
	st_event_free(ap);
	st_event_free(rel);
	return roles;
}

/* ---- the release, on the loop ---- */

struct frz_release_op {
	const config *cfg;
	state *st;
	loop *lp;
	char **roles;
	char **sql;
	size_t ran;
	pqa *q;
	frz_release_fn fn;
	void *ud;
	int rc;
	char err[PGC_ERR_MAX];
	int exit_code;
	int timer;
	bool ended;
};

static void rel_told(loop *lp, void *ud)
{
	(void)lp;
	frz_release_op *op = ud;
	op->timer = 0;
	op->fn(op, op->rc, op->rc < 0 ? op->err : NULL, op->ud);   /* may free op */
}

/* Records what ran (freeze_released) and tells the owner on the next loop
 * turn, outside libpq's callback. */
static void rel_end(frz_release_op *op, const char *err)
{
	if (op->ended)
		return;
	op->ended = true;
	op->rc = err ? -1 : 0;
	if (err)
		snprintf(op->err, sizeof op->err, "%s", err);
	if (op->sql) {
		char *pl = evp_freeze_apply_write(op->roles, op->sql, op->ran, err);
		pgc_err e = {0};
		if (state_append(op->st, EV_FREEZE_RELEASED, NULL, NULL, pl, NULL, &e) < 0 && !err) {
			op->rc = -1;
			snprintf(op->err, sizeof op->err, "released, but not recorded: %.900s", e.msg);
		}
		free(pl);
	}
	op->timer = loop_timer(op->lp, 0, rel_told, op);
}

static void rel_on_pq(pqa *q, pqa_event ev, PGresult *res, void *ud)
{
	frz_release_op *op = ud;
	if (ev == PQA_FAILED) {
		rel_end(op, pqa_error(q));
		return;
	}
	if (ev == PQA_CONNECTED) {
		op->sql = frz_apply_sql(pqa_conn(q), op->roles, true);
		if (!op->sql) {
			rel_end(op, "cannot quote a role name");
			return;
		}
	} else {
		ExecStatusType st = PQresultStatus(res);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			char *m = pq_oneline(PQresultErrorMessage(res));
			char err[PGC_ERR_MAX];
			snprintf(err, sizeof err, "source: %s: %s", op->sql[op->ran], m);
			free(m);
			PQclear(res);
			op->exit_code = PGC_EXIT_UNAVAILABLE;
			rel_end(op, err);   /* the session ends with the connection: nothing half-done stays */
			return;
		}
		PQclear(res);
		op->ran++;
	}
	if (!op->sql[op->ran]) {
		rel_end(op, NULL);
		return;
	}
	if (pqa_send(q, op->sql[op->ran]) < 0 && !op->ended)
		rel_end(op, pqa_error(q));
}

frz_release_op *frz_release_start(const config *cfg, state *st, char *const *roles, loop *lp,
                                  frz_release_fn fn, void *ud, pgc_err *e)
{
	frz_release_op *op = xcalloc(1, sizeof *op);
	op->cfg = cfg;
	op->st = st;
	op->lp = lp;
	op->fn = fn;
	op->ud = ud;
	size_t n = 0;
	while (roles[n])
		n++;
	op->roles = xcalloc(n + 1, sizeof *op->roles);
	for (size_t i = 0; i < n; i++)
		op->roles[i] = xstrdup(roles[i]);
	op->q = pqa_start(cfg, &cfg->source, "source", lp, rel_on_pq, op, e);
	if (!op->q) {
		frz_release_free(op);
		return NULL;
	}
	return op;
}

void frz_release_free(frz_release_op *op)
{
	if (!op)
		return;
	if (op->timer)
		loop_timer_cancel(op->lp, op->timer);
	pqa_free(op->q);
	sch_strv_free(op->sql);
	sch_strv_free(op->roles);
	free(op);
}

typedef struct rel_wait {
	bool done;
	int rc;
	char err[PGC_ERR_MAX];
} rel_wait;

static void rel_waited(frz_release_op *op, int rc, const char *err, void *ud)
{
	(void)op;
	rel_wait *w = ud;
	w->done = true;
	w->rc = rc;
	if (err)
		snprintf(w->err, sizeof w->err, "%s", err);
}

/* Headless: the same release on a private loop, waited for. */
int frz_release(const config *cfg, state *st, char *const *roles, pgc_err *e)
{
	loop *lp = loop_new();
	rel_wait w = {0};
	frz_release_op *op = frz_release_start(cfg, st, roles, lp, rel_waited, &w, e);
	if (!op) {
		loop_free(lp);
		return -1;
	}
	while (!w.done)
		loop_once(lp, 1000);
	int code = op->exit_code ? op->exit_code : PGC_EXIT_UNAVAILABLE;
	frz_release_free(op);
	loop_free(lp);
	if (w.rc < 0)
		return pgc_fail(e, code, "%s", w.err);
	return 0;
}

double frz_proven_at(state *st, int64_t *event_id)
{
	st_event *ev = NULL;
	pgc_err e = {0};
	double at = 0;
	if (event_id)
		*event_id = 0;
	if (st && state_last_of_kind(st, EV_FREEZE, &ev, &e) == 1) {
		evr_freeze f;
		evr_freeze_read(ev->payload, &f);
		if (f.verdict && strcmp(f.verdict, "proven") == 0) {
			at = ev->ts;
			if (event_id)
				*event_id = ev->id;
		}
		evr_freeze_free(&f);
	}
	st_event_free(ev);
	return at;
}

int frz_record(state *st, const frz_watch *w, const char *mode, const char *verdict, double now,
               const char *error, pgc_err *e)
{
	char *pl = evp_freeze_write(w, mode, verdict, now, error);
	int rc = state_append(st, EV_FREEZE, NULL, NULL, pl, NULL, e);
	free(pl);
	return rc;
}
