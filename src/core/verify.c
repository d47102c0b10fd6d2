/*
 * verify.c -- row-level verification (verify.h): chunked checksums that
 * find the differing rows, PostgreSQL on both sides.
 *
 * Work is a stream of tasks, each a pair of statements (one per side, or
 * one side only) whose results are handled together: the columns of a
 * table (META), where to cut it (PLAN, SAMPLE), count and hash of a key
 * range (RANGE), the key boundaries inside a range that differs (SPLIT),
 * the keys and row hashes of a small range (LEAF), per-column hashes of
 * changed rows (COLS), and the whole-table figure of a table without a key
 * (WHOLE).  Each side has a FIFO of statements and a pool of async libpq
 * connections on the loop; a task is handled when both its halves came
 * back.  Every statement is one SELECT: one snapshot, in a read-only
 * repeatable-read session whose TimeZone, DateStyle and float settings
 * are fixed so the canonical text is the same on both servers.
 *
 * Called by `pgcutover verify` (src/cli/cmd_verify.c) and the console's
 * verify screen; the finished run is recorded through evp_verify_write().
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include "pgcutover/evpay.h"
#include "pgcutover/pqtext.h"
#include "pgcutover/proc.h"
#include "pgcutover/schema.h"
#include "pgcutover/verify.h"

#define VFY_CONNECT_TIMEOUT_MS 10000
#define VFY_APPLICATION_NAME "pgcutover"
/* Settings that make the canonical text the same on both servers, and the
 * session read-only with one snapshot per statement. */
#define VFY_SESSION_SETTINGS \
	" -c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres" \
	" -c extra_float_digits=1 -c bytea_output=hex -c standard_conforming_strings=on" \
	" -c default_transaction_isolation=repeatable\\ read"
/* Sampled rows per range wanted when cutting a table by a non-integer key. */
#define VFY_SAMPLES_PER_RANGE 4
#define VFY_PCT 100.0
/* What a cancelling child execs when done (coreutils, always there). */
#define VFY_TRUE_PATH "/bin/true"

#include "verify_priv.h"

static void vs_dispatch(vside *sd);
static void vc_event(loop *lp, int fd, short revents, void *ud);
static void vt_handle(vtask *t);

static const char *const side_label[2] = {"source", "target"};

/* ---- small helpers ---- */

void vfy_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* 'text' with quotes doubled: standard_conforming_strings is on in every
 * session (VFY_SESSION_SETTINGS). */
void vfy_lit(strbuf *sb, const char *s)
{
	sb_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_putc(sb, '\'');
		sb_putc(sb, *s);
	}
	sb_putc(sb, '\'');
}

char *vfy_ident(const char *s)
{
	strbuf sb;
	sb_init(&sb);
	sb_putc(&sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			sb_putc(&sb, '"');
		sb_putc(&sb, *s);
	}
	sb_putc(&sb, '"');
	return sb_steal(&sb);
}

char **vfy_strv_dup(char *const *v, size_t n)
{
	if (!v)
		return NULL;
	char **c = xcalloc(n ? n : 1, sizeof *c);
	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

void vfy_notify(vfy_session *vs)
{
	if (vs->fn)
		vs->fn(vs, false, vs->ud);
}

/* ---- tasks ---- */

vtask *vfy_task_new(vfy_session *vs, size_t ti, vtask_kind kind)
{
	vtask *t = xcalloc(1, sizeof *t);
	t->vs = vs;
	t->ti = ti;
	t->kind = kind;
	return t;
}

static void vt_free(vtask *t)
{
	vtab *tb = &t->vs->tabs[t->ti];
	free(t->what);
	free(t->refs);
	for (int w = 0; w < 2; w++) {
		free(t->sql[w]);
		free(t->err[w]);
		if (t->res[w])
			PQclear(t->res[w]);
	}
	vfy_rest_task_free(t);
	vfy_strv_free(t->r.lo, tb->n_key);
	vfy_strv_free(t->r.hi, tb->n_key);
	free(t);
}

/* Queues the task's statements (sql[w] owned by the task). */
void vfy_task_submit(vtask *t)
{
	vfy_session *vs = t->vs;
	bool has[2] = {t->sql[0] != NULL, t->sql[1] != NULL};
	bool rest = t->rest_query != NULL;
	vs->tabs[t->ti].outstanding++;
	for (int w = 0; w < 2; w++) {
		if (!has[w])
			continue;
		t->waiting++;
		vside *sd = &vs->side[w];
		t->next[w] = NULL;
		if (sd->tail)
			sd->tail->next[w] = t;
		else
			sd->head = t;
		sd->tail = t;
	}
	if (rest)
		t->waiting++;
	/* every half is counted before any is sent: one that fails at once
	 * cannot finish the task while another is still to go */
	for (int w = 0; w < 2; w++)
		if (has[w])
			vs_dispatch(&vs->side[w]);
	if (rest)
		vfy_rest_submit(t);   /* the source's half: a page over HTTP */
}

void vfy_check_done(vfy_session *vs);

/* One half came back (result, error or dropped). */
void vfy_half_done(vtask *t)
{
	if (--t->waiting > 0)
		return;
	vfy_session *vs = t->vs;
	vtab *tb = &vs->tabs[t->ti];
	tb->outstanding--;
	if (!tb->finished && !vs->cancelled)
		vt_handle(t);
	vt_free(t);
	vfy_check_done(vs);
}

/* ---- the table's end ---- */

bool vfy_integrity_broken(const vfy_table *t)
{
	for (size_t i = 0; i < t->n_integrity; i++)
		if (t->integrity[i].rows > 0)
			return true;
	return false;
}

static void tab_finish(vfy_session *vs, vtab *tb)
{
	if (tb->finished)
		return;
	tb->finished = true;
	vfy_table *p = &tb->pub;
	p->ended_ms = loop_now_ms();
	if (p->state == VFY_ERROR || p->state == VFY_CANCELLED) {
		p->equal = false;
	} else if (p->state == VFY_NO_PK) {
		p->equal = p->n_schema == 0 && !vfy_integrity_broken(p) && p->whole_rows[0] == p->whole_rows[1] &&
		           p->whole_hash[0] && p->whole_hash[1] &&
		           strcmp(p->whole_hash[0], p->whole_hash[1]) == 0;
	} else {
		p->equal = p->n_schema == 0 && p->missing.total == 0 && p->extra.total == 0 &&
		           p->changed_total == 0 && !vfy_integrity_broken(p);
		p->state = p->equal ? VFY_MATCHED : VFY_MISMATCHED;
	}
	vfy_notify(vs);
}

void vfy_tab_fail(vfy_session *vs, vtab *tb, const char *err)
{
	if (tb->finished)
		return;
	if (tb->pub.state != VFY_ERROR) {
		tb->pub.state = VFY_ERROR;
		free(tb->pub.error);
		tb->pub.error = xstrdup(err);
	}
	if (tb->outstanding == 0)
		tab_finish(vs, tb);
}

static void vs_record(vfy_session *vs)
{
	if (!vs->st)
		return;
	char *payload = evp_verify_write(vs);
	pgc_err e = {0};
	if (state_append(vs->st, EV_VERIFY, NULL, NULL, payload, NULL, &e) != 0) {
		free(vs->record_error);
		vs->record_error = xstrdup(e.msg);
	}
	free(payload);
}

static void pg_resolve_strays(vfy_session *vs, size_t ti);

void vfy_check_done(vfy_session *vs)
{
	if (vs->done)
		return;
	for (size_t i = 0; i < vs->n_tabs; i++) {
		vtab *tb = &vs->tabs[i];
		if (!tb->finished && tb->outstanding == 0 && vs->begun) {
			/* rows one side lacked in their range are confirmed by key
			 * before the table is done (they may sit in another range on
			 * the other side: another collation orders text keys apart) */
			if (!vs->cancelled && tb->pub.state != VFY_ERROR && !tb->strays_resolved &&
			    (tb->n_stray[0] || tb->n_stray[1])) {
				if (vs->rest)
					vfy_rest_resolve_strays(vs, i);
				else
					pg_resolve_strays(vs, i);
			}
			if (tb->outstanding == 0)
				tab_finish(vs, tb);
		}
		if (!tb->finished)
			return;
	}
	vs->done = true;
	vs_record(vs);
	if (vs->fn)
		vs->fn(vs, true, vs->ud);
}

/* ---- connections ---- */

static char *vs_error(vside *sd, const char *msg)
{
	char *one = pq_oneline(msg ? msg : "");
	char *s = xasprintf("%s (%s): %s", sd->label, sd->server ? sd->server : sd->label,
	                    *one ? one : "unknown error");
	free(one);
	return s;
}

static void vc_watch(vconn *c, short events)
{
	int fd = PQsocket(c->conn);
	if (c->fd >= 0 && c->fd != fd)
		loop_unwatch(c->sd->vs->lp, c->fd);
	c->fd = fd;
	if (fd >= 0)
		loop_watch(c->sd->vs->lp, fd, events, vc_event, c);
}

static void vc_close(vconn *c)
{
	loop *lp = c->sd->vs->lp;
	if (c->fd >= 0)
		loop_unwatch(lp, c->fd);
	if (c->timer_id > 0)
		loop_timer_cancel(lp, c->timer_id);
	if (c->conn)
		PQfinish(c->conn);
	vside *sd = c->sd;
	memset(c, 0, sizeof *c);
	c->sd = sd;
	c->fd = -1;
}

static size_t vs_live(vside *sd)
{
	size_t n = 0;
	for (size_t i = 0; i < sd->n_conns; i++)
		n += sd->conns[i].st != VC_UNUSED;
	return n;
}

/* Fails every queued half of this side: nothing can serve it. */
static void vs_fail_queued(vside *sd, const char *err)
{
	while (sd->head) {
		vtask *t = sd->head;
		sd->head = t->next[sd->which];
		if (!sd->head)
			sd->tail = NULL;
		free(t->err[sd->which]);
		t->err[sd->which] = xstrdup(err);
		vfy_half_done(t);
	}
}

/* A connection failed or broke: its half fails; with no connection left
 * the side is down and what waits fails too. */
static void vc_lost(vconn *c, const char *msg)
{
	vside *sd = c->sd;
	if (!sd->server || !sd->ever_up) {
		free(sd->server);
		sd->server = pq_server(c->conn);
	}
	char *err = vs_error(sd, msg);
	vtask *t = c->task;
	vc_close(c);
	if (t) {
		free(t->err[sd->which]);
		t->err[sd->which] = xstrdup(err);
		vfy_half_done(t);
	}
	if (vs_live(sd) == 0) {
		free(sd->down_err);
		sd->down_err = xstrdup(err);
		vs_fail_queued(sd, err);
		vfy_session *vs = sd->vs;
		if (sd->which == (vs->rest ? 1 : 0) && !vs->begun) {
			/* the side that names the tables never came up: nothing
			 * can be verified */
			vs->begun = true;
			for (size_t i = 0; i < vs->n_tabs; i++)
				vfy_tab_fail(vs, &vs->tabs[i], err);
			vfy_check_done(vs);
		}
	}
	free(err);
}

static void vc_connect_timeout(loop *lp, void *ud)
{
	vconn *c = ud;
	c->timer_id = 0;
	vc_lost(c, "timeout expired while connecting");
}

static void vc_ignore_notice(void *arg, const char *message)
{
}

static void vc_open(vside *sd)
{
	vconn *c = NULL;
	for (size_t i = 0; i < sd->n_conns && !c; i++)
		if (sd->conns[i].st == VC_UNUSED)
			c = &sd->conns[i];
	if (!c)
		return;
	const char *const keys[] = {"dbname", "application_name", "options", NULL};
	const char *const vals[] = {sd->conninfo, VFY_APPLICATION_NAME, sd->options, NULL};
	c->conn = PQconnectStartParams(keys, vals, 1);
	c->fd = -1;
	c->st = VC_CONNECTING;
	if (!c->conn) {
		vc_lost(c, "out of memory starting a libpq connection");
		return;
	}
	PQsetNoticeProcessor(c->conn, vc_ignore_notice, NULL);
	if (PQstatus(c->conn) == CONNECTION_BAD) {
		vc_lost(c, PQerrorMessage(c->conn));
		return;
	}
	c->timer_id = loop_timer(sd->vs->lp, VFY_CONNECT_TIMEOUT_MS, vc_connect_timeout, c);
	vc_watch(c, POLLOUT);
}

static void vs_begin(vfy_session *vs, PGconn *qc);

static void vc_connect_step(vconn *c)
{
	vside *sd = c->sd;
	switch (PQconnectPoll(c->conn)) {
	case PGRES_POLLING_READING:
		vc_watch(c, POLLIN);
		return;
	case PGRES_POLLING_WRITING:
		vc_watch(c, POLLOUT);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		vc_lost(c, PQerrorMessage(c->conn));
		return;
	}
	loop_timer_cancel(sd->vs->lp, c->timer_id);
	c->timer_id = 0;
	if (PQsetnonblocking(c->conn, 1) != 0) {
		vc_lost(c, PQerrorMessage(c->conn));
		return;
	}
	c->st = VC_READY;
	vc_watch(c, POLLIN);
	if (!sd->ever_up) {
		free(sd->server);
		sd->server = pq_server(c->conn);
		sd->ever_up = true;
	}
	if (sd->which == (sd->vs->rest ? 1 : 0) && !sd->vs->begun)
		vs_begin(sd->vs, c->conn);
	vs_dispatch(sd);
}

static void vc_send(vconn *c, vtask *t)
{
	vside *sd = c->sd;
	c->task = t;
	c->got_result = false;
	if (!PQsendQuery(c->conn, t->sql[sd->which])) {
		vc_lost(c, PQerrorMessage(c->conn));
		return;
	}
	c->st = VC_BUSY;
	int fl = PQflush(c->conn);
	if (fl < 0) {
		vc_lost(c, PQerrorMessage(c->conn));
		return;
	}
	c->flushing = fl == 1;
	vc_watch(c, c->flushing ? (POLLIN | POLLOUT) : POLLIN);
}

static void vs_dispatch(vside *sd)
{
	for (size_t i = 0; i < sd->n_conns && sd->head; i++) {
		vconn *c = &sd->conns[i];
		if (c->st != VC_READY)
			continue;
		vtask *t = sd->head;
		sd->head = t->next[sd->which];
		if (!sd->head)
			sd->tail = NULL;
		vc_send(c, t);
	}
	/* Grow the pool while statements wait. */
	size_t queued = 0;
	for (vtask *t = sd->head; t; t = t->next[sd->which])
		queued++;
	size_t connecting = 0;
	for (size_t i = 0; i < sd->n_conns; i++)
		connecting += sd->conns[i].st == VC_CONNECTING;
	if (queued > 0 && vs_live(sd) == 0 && sd->down_err) {
		/* A verify is one pass: a side that is down fails what waits
		 * (the next run connects again). */
		char *err = xstrdup(sd->down_err);
		vs_fail_queued(sd, err);
		free(err);
		return;
	}
	while (queued > connecting && vs_live(sd) < sd->n_conns && (sd->ever_up || vs_live(sd) == 0)) {
		vc_open(sd);
		connecting++;
	}
}

static void vc_rest_over(loop *lp, void *ud)
{
	vconn *c = ud;
	c->timer_id = 0;
	c->st = VC_READY;
	vs_dispatch(c->sd);
}

static void vc_half_finished(vconn *c)
{
	vside *sd = c->sd;
	vtask *t = c->task;
	c->task = NULL;
	c->st = VC_READY;
	vc_watch(c, POLLIN);
	/* --max-load: the connection rests before its next range */
	if (t && t->kind == VT_RANGE && sd->vs->lim.pause_ms > 0) {
		c->st = VC_RESTING;
		c->timer_id = loop_timer(sd->vs->lp, sd->vs->lim.pause_ms, vc_rest_over, c);
	}
	if (t) {
		if (!c->got_result && !t->err[sd->which])
			t->err[sd->which] = vs_error(sd, "query returned no result");
		vfy_half_done(t);
	}
	vs_dispatch(sd);   /* the connection is free for what waits */
}

static void vc_event(loop *lp, int fd, short revents, void *ud)
{
	vconn *c = ud;
	vside *sd = c->sd;
	if (c->st == VC_CONNECTING) {
		vc_connect_step(c);
		return;
	}
	if (c->flushing && (revents & POLLOUT)) {
		int fl = PQflush(c->conn);
		if (fl < 0) {
			vc_lost(c, PQerrorMessage(c->conn));
			return;
		}
		c->flushing = fl == 1;
		if (!c->flushing)
			vc_watch(c, POLLIN);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (!PQconsumeInput(c->conn)) {
		vc_lost(c, PQerrorMessage(c->conn));
		return;
	}
	if (c->st != VC_BUSY) {
		PGresult *res;
		while (!PQisBusy(c->conn) && (res = PQgetResult(c->conn)))
			PQclear(res);
		if (PQstatus(c->conn) == CONNECTION_BAD)
			vc_lost(c, PQerrorMessage(c->conn));
		return;
	}
	while (c->st == VC_BUSY && !PQisBusy(c->conn)) {
		PGresult *res = PQgetResult(c->conn);
		if (!res) {
			vc_half_finished(c);
			break;
		}
		vtask *t = c->task;
		if (!c->got_result && t) {
			c->got_result = true;
			if (PQresultStatus(res) == PGRES_TUPLES_OK) {
				t->res[sd->which] = res;
				continue;
			}
			t->err[sd->which] = vs_error(sd, PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	if (c->st == VC_BUSY && PQstatus(c->conn) == CONNECTION_BAD)
		vc_lost(c, PQerrorMessage(c->conn));
}

/* ---- SQL of a table ---- */

/* The canonical text of column q of type typname: the same value gives the
 * same text on both servers (their sessions share VFY_SESSION_SETTINGS). */
static char *col_canon(const char *q, const char *typname)
{
	if (strcmp(typname, "timestamptz") == 0)
		return xasprintf("pg_catalog.to_char(%s AT TIME ZONE 'UTC', "
		                 "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", q);
	if (strcmp(typname, "timestamp") == 0)
		return xasprintf("pg_catalog.to_char(%s, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')", q);
	if (strcmp(typname, "numeric") == 0)
		return xasprintf("pg_catalog.trim_scale(%s)::text", q);
	if (strcmp(typname, "json") == 0)
		return xasprintf("%s::jsonb::text", q);
	return xasprintf("%s::text", q);
}

/* count and 64-bit sum of row hashes over a WHERE clause */
static char *sql_where(vtab *tb, const vrange *r)
{
	strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, " WHERE true");
	char **b[2] = {r->lo, r->hi};
	const char *op[2] = {">=", "<"};
	for (int k = 0; k < 2; k++) {
		if (!b[k])
			continue;
		sb_printf(&sb, " AND (%s) %s (", tb->key_list, op[k]);
		for (size_t i = 0; i < tb->n_key; i++) {
			if (i)
				sb_puts(&sb, ", ");
			vfy_lit(&sb, b[k][i]);
			sb_printf(&sb, "::%s", tb->key_types[i]);
		}
		sb_putc(&sb, ')');
	}
	return sb_steal(&sb);
}

static char *sql_range(vtab *tb, int w, const vrange *r)
{
	char *where = sql_where(tb, r);
	char *s = xasprintf("SELECT pg_catalog.count(*), COALESCE(pg_catalog.sum(%s), 0)::text "
	                    "FROM %s%s", tb->hash_expr[w], tb->qname, where);
	free(where);
	return s;
}

static void tab_submit_range(vfy_session *vs, size_t ti, char **lo, char **hi)
{
	vtab *tb = &vs->tabs[ti];
	vtask *t = vfy_task_new(vs, ti, VT_RANGE);
	t->r.lo = lo;
	t->r.hi = hi;
	for (int w = 0; w < 2; w++)
		t->sql[w] = sql_range(tb, w, &t->r);
	tb->pub.ranges++;
	vfy_task_submit(t);
}

/* Builds the canonical expressions once both sides' columns are known;
 * false when the table cannot be checked row by row (no key). */
static void tab_submit_plan(vfy_session *vs, size_t ti);
void vfy_keys_add(vfy_keys *k, const char *json);

/* "(k1, k2)" of the keys of rows on the target, or the row's ctid. */
static char *keys_sel(const char *key_text, const char *alias)
{
	if (strcmp(key_text, "ctid::text") == 0)
		return xasprintf("%s.ctid::text", alias);
	/* key_text is "\"a\"::text, \"b\"::text": qualify each part */
	strbuf sb;
	sb_init(&sb);
	const char *s = key_text;
	while (*s) {
		sb_printf(&sb, "%s.", alias);
		const char *e = strstr(s, "::text");
		size_t l = e ? (size_t)(e - s) + strlen("::text") : strlen(s);
		sb_add(&sb, s, l);
		s += l;
		if (*s == ',') {
			sb_puts(&sb, ", ");
			s += 2;
		}
	}
	return sb_steal(&sb);
}

/* Integrity on the target: the foreign keys among the configured tables
 * (orphans, NOT VALID ones named) and the columns NOT NULL on the source
 * but not on the target (rows holding NULL there). */
void vfy_submit_integrity(vfy_session *vs, size_t ti, const char *key_text)
{
	vtab *tb = &vs->tabs[ti];
	tb->ctid_keys = strcmp(key_text, "ctid::text") == 0;
	strbuf sb, lit;
	sb_init(&sb);
	sb_init(&lit);
	vfy_lit(&lit, tb->qname);
	sb_puts(&sb, "SELECT c.conname, NOT c.convalidated, c.confrelid::regclass::text, "
	        "(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ',' ORDER BY k.n) "
	        "FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY AS k(att, n) JOIN pg_catalog.pg_attribute a "
	        "ON a.attrelid = c.conrelid AND a.attnum = k.att), "
	        "(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ',' ORDER BY k.n) "
	        "FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY AS k(att, n) JOIN pg_catalog.pg_attribute a "
	        "ON a.attrelid = c.confrelid AND a.attnum = k.att) "
	        "FROM pg_catalog.pg_constraint c WHERE c.contype = 'f' AND c.conrelid = pg_catalog.to_regclass(");
	sb_puts(&sb, lit.buf);
	sb_puts(&sb, ") AND c.confrelid IN (");
	for (size_t i = 0; i < vs->n_tabs; i++) {
		char *q = vs->tabs[i].qname;
		if (!q)
			continue;
		strbuf l2;
		sb_init(&l2);
		vfy_lit(&l2, q);
		sb_printf(&sb, "%spg_catalog.to_regclass(%s)", i ? ", " : "", l2.buf);
		sb_free(&l2);
	}
	sb_puts(&sb, ") ORDER BY c.conname");
	sb_free(&lit);
	vtask *t = vfy_task_new(vs, ti, VT_FKS);
	t->sql[1] = sb_steal(&sb);
	t->what = xstrdup(key_text);
	vfy_task_submit(t);
	/* NOT NULL on the source, nullable on the target */
	for (size_t i = 0; i < tb->n_cols[0]; i++) {
		if (!tb->cols[0][i].notnull)
			continue;
		for (size_t j = 0; j < tb->n_cols[1]; j++) {
			if (strcmp(tb->cols[1][j].name, tb->cols[0][i].name) != 0 || tb->cols[1][j].notnull)
				continue;
			char *q = vfy_ident(tb->cols[0][i].name), *ks = keys_sel(key_text, "t");
			vtask *n = vfy_task_new(vs, ti, VT_NULLS);
			n->what = xstrdup(tb->cols[0][i].name);
			n->sql[1] = xasprintf("SELECT pg_catalog.count(*) OVER (), %s FROM %s t WHERE t.%s IS NULL LIMIT %d",
			                      ks, tb->qname, q, VFY_INTEGRITY_KEYS);
			free(q);
			free(ks);
			vfy_task_submit(n);
		}
	}
}

/* The length of the first name of a comma-separated list of
 * quote_ident()ed names: a quoted one may hold commas ("a,b") and doubled
 * quotes. */
static size_t ident_len(const char *s)
{
	if (*s != '"')
		return strcspn(s, ",");
	const char *p = s + 1;
	while (*p && !(*p == '"' && p[1] != '"'))
		p += *p == '"' ? 2 : 1;
	return (size_t)(p - s) + (*p == '"');
}

/* One orphan query per foreign key the FKS task found. */
static void handle_fks(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	const PGresult *r = t->res[1];
	for (int i = 0; i < PQntuples(r); i++) {
		const char *ck = PQgetvalue(r, i, 3), *pk = PQgetvalue(r, i, 4);
		strbuf cond, notnull;
		sb_init(&cond);
		sb_init(&notnull);
		/* the column lists are quote_ident()ed and comma-separated */
		const char *a = ck, *b = pk;
		while (*a && *b) {
			size_t la = ident_len(a), lb = ident_len(b);
			sb_printf(&cond, "%sp.%.*s = c.%.*s", cond.len ? " AND " : "", (int)lb, b, (int)la, a);
			sb_printf(&notnull, " AND c.%.*s IS NOT NULL", (int)la, a);
			a += la + (a[la] == ',');
			b += lb + (b[lb] == ',');
		}
		char *ks = keys_sel(t->what, "c");
		vtask *n = vfy_task_new(vs, t->ti, VT_ORPHANS);
		n->what = xstrdup(PQgetvalue(r, i, 0));
		n->refs = xstrdup(PQgetvalue(r, i, 2));
		n->not_valid = strcmp(PQgetvalue(r, i, 1), "t") == 0;
		n->sql[1] = xasprintf("SELECT pg_catalog.count(*) OVER (), %s FROM %s c WHERE true%s AND NOT EXISTS "
		                      "(SELECT 1 FROM %s p WHERE %s) LIMIT %d", ks, tb->qname, notnull.buf ? notnull.buf : "",
		                      PQgetvalue(r, i, 2), cond.buf ? cond.buf : "true", VFY_INTEGRITY_KEYS);
		free(ks);
		sb_free(&cond);
		sb_free(&notnull);
		vfy_task_submit(n);
	}
}

/* The rows an integrity query found: how many, and the first keys. */
static void handle_integrity(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	const PGresult *r = t->res[1];
	int64_t rows = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	if (rows == 0 && !(t->kind == VT_ORPHANS && t->not_valid))
		return;
	vfy_table *p = &tb->pub;
	p->integrity = xrealloc(p->integrity, (p->n_integrity + 1) * sizeof *p->integrity);
	vfy_issue *is = &p->integrity[p->n_integrity++];
	memset(is, 0, sizeof *is);
	is->kind = t->kind == VT_ORPHANS ? VFY_ISSUE_ORPHANS : VFY_ISSUE_NULLS;
	is->what = xstrdup(t->what);
	is->refs = t->refs ? xstrdup(t->refs) : NULL;
	is->not_valid = t->not_valid;
	is->rows = rows;
	int nk = PQnfields(r) - 1;
	for (int i = 0; i < PQntuples(r); i++) {
		cJSON *k = nk > 1 ? cJSON_CreateArray() : NULL;
		cJSON *one = NULL;
		for (int f = 1; f <= nk; f++) {
			const char *v = PQgetvalue(r, i, f);
			bool num = !tb->ctid_keys && f - 1 < (int)tb->n_key && tb->key_int[f - 1];
			cJSON *x = num ? cJSON_CreateRaw(v) : cJSON_CreateString(v);
			if (k)
				cJSON_AddItemToArray(k, x);
			else
				one = x;
		}
		char *s = cJSON_PrintUnformatted(k ? k : one);
		vfy_keys_add(&is->keys, s);
		cJSON_free(s);
		cJSON_Delete(k ? k : one);
	}
	is->keys.total = rows;
}

static void tab_build(vfy_session *vs, size_t ti)
{
	vtab *tb = &vs->tabs[ti];
	vfy_table *p = &tb->pub;
	/* common columns, both lists in name order */
	size_t i = 0, j = 0;
	size_t cap = tb->n_cols[0] + 1;
	tb->col_names = xcalloc(cap, sizeof *tb->col_names);
	tb->col_expr[0] = xcalloc(cap, sizeof *tb->col_expr[0]);
	tb->col_expr[1] = xcalloc(cap, sizeof *tb->col_expr[1]);
	vcol *a = tb->cols[0], *b = tb->cols[1];
	while (i < tb->n_cols[0] || j < tb->n_cols[1]) {
		int c = i >= tb->n_cols[0] ? 1 : j >= tb->n_cols[1] ? -1 : strcmp(a[i].name, b[j].name);
		if (c != 0) {
			const vcol *only = c < 0 ? &a[i] : &b[j];
			p->schema = xrealloc(p->schema, (p->n_schema + 1) * sizeof *p->schema);
			p->schema[p->n_schema++] = xasprintf("column %s: only on the %s", only->name,
			                                     c < 0 ? "source" : "target");
			if (c < 0)
				i++;
			else
				j++;
			continue;
		}
		if (strcmp(a[i].type, b[j].type) != 0) {
			p->schema = xrealloc(p->schema, (p->n_schema + 1) * sizeof *p->schema);
			p->schema[p->n_schema++] = xasprintf("column %s: %s on the source, %s on the target",
			                                     a[i].name, a[i].type, b[j].type);
		}
		char *q = vfy_ident(a[i].name);
		tb->col_names[tb->n_common] = xstrdup(a[i].name);
		tb->col_expr[0][tb->n_common] = col_canon(q, a[i].typname);
		tb->col_expr[1][tb->n_common] = col_canon(q, b[j].typname);
		tb->n_common++;
		free(q);
		i++;
		j++;
	}
	for (int w = 0; w < 2; w++) {
		strbuf sb;
		sb_init(&sb);
		sb_puts(&sb, "('x' || pg_catalog.left(pg_catalog.md5(ROW(");
		for (size_t k = 0; k < tb->n_common; k++)
			sb_printf(&sb, "%s%s", k ? ", " : "", tb->col_expr[w][k]);
		if (tb->n_common == 0)
			sb_puts(&sb, "''");
		sb_puts(&sb, ")::text), 16))::bit(64)::bigint");
		tb->hash_expr[w] = sb_steal(&sb);
	}
	/* the source's primary key, which the target must have too */
	size_t nk = 0;
	for (size_t k = 0; k < tb->n_cols[0]; k++)
		if (a[k].pkpos > 0)
			nk++;
	tb->key_names = xcalloc(nk + 1, sizeof *tb->key_names);
	tb->key_types = xcalloc(nk + 1, sizeof *tb->key_types);
	tb->key_int = xcalloc(nk + 1, sizeof *tb->key_int);
	bool key_common = true;
	for (size_t k = 0; k < tb->n_cols[0]; k++) {
		int pos = a[k].pkpos;
		if (pos <= 0 || (size_t)pos > nk)
			continue;
		tb->key_names[pos - 1] = vfy_ident(a[k].name);
		tb->key_types[pos - 1] = xstrdup(a[k].type);
		tb->key_int[pos - 1] = strcmp(a[k].typname, "int2") == 0 || strcmp(a[k].typname, "int4") == 0 ||
		                       strcmp(a[k].typname, "int8") == 0;
		bool found = false;
		for (size_t m = 0; m < tb->n_cols[1]; m++)
			found |= strcmp(b[m].name, a[k].name) == 0;
		key_common &= found;
	}
	tb->n_key = nk;
	for (size_t k = 0; k < nk; k++)
		if (!tb->key_names[k])
			tb->n_key = 0;   /* expression index or gap: treat as no key */
	if (tb->n_key == 0 || !key_common) {
		vfy_submit_integrity(vs, ti, "ctid::text");
		p->state = VFY_NO_PK;
		vtask *t = vfy_task_new(vs, ti, VT_WHOLE);
		for (int w = 0; w < 2; w++)
			t->sql[w] = xasprintf("SELECT pg_catalog.count(*), COALESCE(pg_catalog.sum(%s), 0)::text "
			                      "FROM %s", tb->hash_expr[w], tb->qname);
		vfy_task_submit(t);
		return;
	}
	/* A key column whose collation differs between the sides (a hosted
	 * source in en_US or ICU, a target in C) orders text keys apart: the
	 * same range would hold other rows on each side, and splitting might
	 * not end.  Its ranges are then taken in "C" order on both sides
	 * (correct, though the key's index serves only a side in "C"). */
	bool *key_c = xcalloc(tb->n_key + 1, sizeof *key_c);
	for (size_t k = 0; k < tb->n_cols[0]; k++) {
		int pos = a[k].pkpos;
		if (pos <= 0 || (size_t)pos > tb->n_key || !a[k].collation || !*a[k].collation)
			continue;
		for (size_t m = 0; m < tb->n_cols[1]; m++)
			if (strcmp(b[m].name, a[k].name) == 0 && b[m].collation &&
			    strcmp(b[m].collation, a[k].collation) != 0) {
				key_c[pos - 1] = true;
				char *note = xasprintf("key column %s: collation %s on the source, %s on the target "
				                       "(ranges compared in \"C\" order)", a[k].name, a[k].collation,
				                       b[m].collation);
				free(tb->collation_note);
				tb->collation_note = note;
			}
	}
	strbuf kl, kt;
	sb_init(&kl);
	sb_init(&kt);
	for (size_t k = 0; k < tb->n_key; k++) {
		sb_printf(&kl, "%s%s%s", k ? ", " : "", tb->key_names[k], key_c[k] ? " COLLATE \"C\"" : "");
		sb_printf(&kt, "%s%s::text", k ? ", " : "", tb->key_names[k]);
	}
	free(key_c);
	tb->key_list = sb_steal(&kl);
	tb->key_text = sb_steal(&kt);
	tb->int_key = tb->n_key == 1 && tb->key_int[0];
	vfy_submit_integrity(vs, ti, tb->key_text);
	/* a re-run: where it differed last time first (ranges of this key) */
	for (size_t k = 0; k < tb->n_prior; k++) {
		const evr_verify_range *pr = &tb->prior[k];
		if ((pr->lo && pr->n_lo != tb->n_key) || (pr->hi && pr->n_hi != tb->n_key) || pr->page)
			continue;
		tb->recheck_pending++;
	}
	if (tb->recheck_pending > 0) {
		for (size_t k = 0; k < tb->n_prior; k++) {
			const evr_verify_range *pr = &tb->prior[k];
			if ((pr->lo && pr->n_lo != tb->n_key) || (pr->hi && pr->n_hi != tb->n_key) || pr->page)
				continue;
			vtask *t = vfy_task_new(vs, ti, VT_RECHECK);
			t->r.lo = vfy_strv_dup(pr->lo, tb->n_key);
			t->r.hi = vfy_strv_dup(pr->hi, tb->n_key);
			for (int w = 0; w < 2; w++)
				t->sql[w] = sql_range(tb, w, &t->r);
			vfy_task_submit(t);
		}
		return;
	}
	tab_submit_plan(vs, ti);
}

/* Where to cut the table: the integer key's min and max, or (any other
 * key) the estimate that decides whether to sample boundaries. */
static void tab_submit_plan(vfy_session *vs, size_t ti)
{
	vtab *tb = &vs->tabs[ti];
	vtask *t = vfy_task_new(vs, ti, VT_PLAN);
	char *lit;
	{
		strbuf sb;
		sb_init(&sb);
		vfy_lit(&sb, tb->qname);
		lit = sb_steal(&sb);
	}
	if (tb->int_key)
		t->sql[0] = xasprintf("SELECT pg_catalog.min(%s)::text, pg_catalog.max(%s)::text, "
		                      "(SELECT c.reltuples::bigint FROM pg_catalog.pg_class c "
		                      "WHERE c.oid = pg_catalog.to_regclass(%s)) FROM %s",
		                      tb->key_list, tb->key_list, lit, tb->qname);
	else
		t->sql[0] = xasprintf("SELECT NULL, NULL, c.reltuples::bigint FROM pg_catalog.pg_class c "
		                      "WHERE c.oid = pg_catalog.to_regclass(%s)", lit);
	free(lit);
	vfy_task_submit(t);
}

/* ---- handling results ---- */

static void tab_key_json(vtab *tb, const PGresult *res, int row, strbuf *out)
{
	cJSON *arr = tb->n_key > 1 ? cJSON_CreateArray() : NULL;
	for (size_t k = 0; k < tb->n_key; k++) {
		const char *v = PQgetvalue(res, row, (int)k);
		cJSON *item = tb->key_int[k] ? cJSON_CreateRaw(v) : cJSON_CreateString(v);
		if (!arr) {
			char *s = cJSON_PrintUnformatted(item);
			sb_puts(out, s);
			cJSON_free(s);
			cJSON_Delete(item);
			return;
		}
		cJSON_AddItemToArray(arr, item);
	}
	char *s = cJSON_PrintUnformatted(arr);
	sb_puts(out, s);
	cJSON_free(s);
	cJSON_Delete(arr);
}

void vfy_keys_add(vfy_keys *k, const char *json)
{
	k->total++;
	if (k->n >= VFY_KEYS_KEPT)
		return;
	k->v = xrealloc(k->v, (k->n + 1) * sizeof *k->v);
	k->v[k->n++] = xstrdup(json);
}

/* One row of a LEAF result: its joined key, key JSON, row index. */
typedef struct vrow {
	char *key;         /* key texts joined by VFY_KEY_SEP */
	const char *hash;
	int row;
} vrow;

static int vrow_cmp(const void *x, const void *y)
{
	return strcmp(((const vrow *)x)->key, ((const vrow *)y)->key);
}

static vrow *leaf_rows(vtab *tb, const PGresult *res, int *n)
{
	*n = PQntuples(res);
	vrow *v = xcalloc((size_t)*n + 1, sizeof *v);
	for (int r = 0; r < *n; r++) {
		strbuf sb;
		sb_init(&sb);
		for (size_t k = 0; k < tb->n_key; k++) {
			if (k)
				sb_putc(&sb, VFY_KEY_SEP);
			sb_puts(&sb, PQgetvalue(res, r, (int)k));
		}
		v[r].key = sb_steal(&sb);
		v[r].hash = PQgetvalue(res, r, (int)tb->n_key);
		v[r].row = r;
	}
	qsort(v, (size_t)*n, sizeof *v, vrow_cmp);
	return v;
}

/* Queues per-column hashes of the rows whose keys are in keys (SQL
 * literal tuples), to name the columns that differ. */
static void tab_submit_cols(vfy_session *vs, size_t ti, const strbuf *keys)
{
	vtab *tb = &vs->tabs[ti];
	vtask *t = vfy_task_new(vs, ti, VT_COLS);
	for (int w = 0; w < 2; w++) {
		strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "SELECT %s", tb->key_text);
		for (size_t c = 0; c < tb->n_common; c++)
			sb_printf(&sb, ", COALESCE(pg_catalog.md5(%s), '-')", tb->col_expr[w][c]);
		sb_printf(&sb, " FROM %s WHERE (%s) IN (%s)", tb->qname, tb->key_list, keys->buf);
		t->sql[w] = sb_steal(&sb);
	}
	vfy_task_submit(t);
}

static void key_literal(vtab *tb, const PGresult *res, int row, strbuf *sb)
{
	sb_puts(sb, tb->n_key > 1 ? "(" : "");
	for (size_t k = 0; k < tb->n_key; k++) {
		if (k)
			sb_puts(sb, ", ");
		vfy_lit(sb, PQgetvalue(res, row, (int)k));
		sb_printf(sb, "::%s", tb->key_types[k]);
	}
	sb_puts(sb, tb->n_key > 1 ? ")" : "");
}

/* A row side w has and the other side's range for it did not: kept to be
 * confirmed by key when the table's ranges are done (pg_resolve_strays),
 * or past VFY_KEYS_KEPT reported as missing (w 0) or extra (w 1). */
static void pg_stray(vtab *tb, int w, const char *key, const char *key_json, const char *hash)
{
	if (tb->n_stray[w] >= VFY_KEYS_KEPT) {
		vfy_keys_add(w ? &tb->pub.extra : &tb->pub.missing, key_json);
		return;
	}
	tb->stray[w] = xrealloc(tb->stray[w], (tb->n_stray[w] + 1) * sizeof *tb->stray[w]);
	vrrow *r = &tb->stray[w][tb->n_stray[w]++];
	r->key = xstrdup(key);
	r->key_json = xstrdup(key_json);
	r->hash = (uint64_t)strtoll(hash, NULL, 10);
	r->col = NULL;
}

/* "(lit::type, …)" of a joined key text into sb. */
static void key_literal_joined(const vtab *tb, const char *key, strbuf *sb)
{
	sb_puts(sb, tb->n_key > 1 ? "(" : "");
	for (size_t k = 0; k < tb->n_key; k++) {
		size_t l = strcspn(key, "\x1f");
		char *v = xstrndup(key, l);
		if (k)
			sb_puts(sb, ", ");
		vfy_lit(sb, v);
		sb_printf(sb, "::%s", tb->key_types[k]);
		free(v);
		key += l + (key[l] != '\0');
	}
	sb_puts(sb, tb->n_key > 1 ? ")" : "");
}

/* Looks up rows (kept by side w) on the other side by key. */
static void pg_submit_confirm(vfy_session *vs, size_t ti, int w, vrrow *rows, size_t n)
{
	vtab *tb = &vs->tabs[ti];
	vtask *t = vfy_task_new(vs, ti, VT_CONFIRM);
	t->split_side = w;
	t->rows = rows;
	t->n_rows = n;
	strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "SELECT %s, %s::text FROM %s WHERE (%s) IN (", tb->key_text, tb->hash_expr[!w], tb->qname,
	          tb->key_list);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_puts(&sb, ", ");
		key_literal_joined(tb, rows[i].key, &sb);
	}
	sb_putc(&sb, ')');
	t->sql[!w] = sb_steal(&sb);
	vfy_task_submit(t);
}

#define VFY_CONFIRM_BATCH 500

/* Every range is done: rows kept on both sides under one key sat in
 * different ranges (changed when their hashes differ: their columns are
 * asked for); the others are looked up by key (verify_priv.h). */
void vfy_strays_resolve(vfy_session *vs, size_t ti, size_t batch, vfy_pair_fn changed, vfy_confirm_fn confirm,
                        void *ud)
{
	vtab *tb = &vs->tabs[ti];
	tb->strays_resolved = true;
	vrrow *v[2] = {tb->stray[0], tb->stray[1]};
	size_t n[2] = {tb->n_stray[0], tb->n_stray[1]};
	tb->stray[0] = tb->stray[1] = NULL;
	tb->n_stray[0] = tb->n_stray[1] = 0;
	for (int w = 0; w < 2; w++)
		if (n[w] > 1)   /* v[w] is NULL when none was kept */
			qsort(v[w], n[w], sizeof *v[w], vfy_vrrow_cmp);
	vrrow *left[2] = {xcalloc(n[0] + 1, sizeof (vrrow)), xcalloc(n[1] + 1, sizeof (vrrow))};
	size_t nl[2] = {0, 0};
	size_t i = 0, j = 0;
	while (i < n[0] || j < n[1]) {
		int c = i >= n[0] ? 1 : j >= n[1] ? -1 : strcmp(v[0][i].key, v[1][j].key);
		if (c < 0) {
			left[0][nl[0]++] = v[0][i];
			memset(&v[0][i++], 0, sizeof (vrrow));
		} else if (c > 0) {
			left[1][nl[1]++] = v[1][j];
			memset(&v[1][j++], 0, sizeof (vrrow));
		} else {
			if (v[0][i].hash != v[1][j].hash)
				changed(vs, ti, &v[0][i], &v[1][j], ud);
			i++;
			j++;
		}
	}
	for (int w = 0; w < 2; w++) {
		vfy_rows_free(v[w], n[w]);
		for (size_t k = 0; k < nl[w]; k += batch) {
			size_t m = nl[w] - k < batch ? nl[w] - k : batch;
			vrrow *b = xcalloc(m + 1, sizeof *b);
			memcpy(b, left[w] + k, m * sizeof *b);
			confirm(vs, ti, w, b, m);
		}
		free(left[w]);
	}
}

/* A pair kept under one key with other hashes: its key literal, for the
 * one column query of them all. */
static void pg_pair_changed(vfy_session *vs, size_t ti, const vrrow *src, const vrrow *dst, void *ud)
{
	(void)dst;
	strbuf *changed = ud;
	if (changed->len)
		sb_puts(changed, ", ");
	key_literal_joined(&vs->tabs[ti], src->key, changed);
}

static void pg_resolve_strays(vfy_session *vs, size_t ti)
{
	strbuf changed;
	sb_init(&changed);
	vfy_strays_resolve(vs, ti, VFY_CONFIRM_BATCH, pg_pair_changed, pg_submit_confirm, &changed);
	if (changed.len)
		tab_submit_cols(vs, ti, &changed);
	sb_free(&changed);
}

/* The other side's rows for keys one side kept: not found, missing (kept
 * by the source) or extra; found with another hash, changed (columns
 * asked for); found the same, no difference. */
static void handle_confirm(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	int w = t->split_side;
	int n;
	vrow *found = leaf_rows(tb, t->res[!w], &n);
	qsort(t->rows, t->n_rows, sizeof *t->rows, vfy_vrrow_cmp);
	strbuf changed;
	sb_init(&changed);
	size_t i = 0;
	int j = 0;
	while (i < t->n_rows) {
		int c = j >= n ? -1 : strcmp(t->rows[i].key, found[j].key);
		if (c < 0) {
			vfy_keys_add(w ? &tb->pub.extra : &tb->pub.missing, t->rows[i++].key_json);
		} else if (c > 0) {
			j++;
		} else {
			if (t->rows[i].hash != (uint64_t)strtoll(found[j].hash, NULL, 10)) {
				if (changed.len)
					sb_puts(&changed, ", ");
				key_literal_joined(tb, t->rows[i].key, &changed);
			}
			i++;
			j++;
		}
	}
	if (changed.len)
		tab_submit_cols(vs, t->ti, &changed);
	sb_free(&changed);
	for (int r = 0; r < n; r++)
		free(found[r].key);
	free(found);
}

static void handle_leaf(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	int n[2];
	vrow *v[2];
	for (int w = 0; w < 2; w++)
		v[w] = leaf_rows(tb, t->res[w], &n[w]);
	tb->pub.rows += n[0];
	tb->pub.rows_done += n[0];
	strbuf changed;
	sb_init(&changed);
	int i = 0, j = 0;
	while (i < n[0] || j < n[1]) {
		int c = i >= n[0] ? 1 : j >= n[1] ? -1 : strcmp(v[0][i].key, v[1][j].key);
		strbuf kj;
		sb_init(&kj);
		if (c < 0) {
			tab_key_json(tb, t->res[0], v[0][i].row, &kj);
			pg_stray(tb, 0, v[0][i].key, kj.buf, v[0][i].hash);
			i++;
		} else if (c > 0) {
			tab_key_json(tb, t->res[1], v[1][j].row, &kj);
			pg_stray(tb, 1, v[1][j].key, kj.buf, v[1][j].hash);
			j++;
		} else {
			if (strcmp(v[0][i].hash, v[1][j].hash) != 0) {
				if (changed.len)
					sb_puts(&changed, ", ");
				key_literal(tb, t->res[0], v[0][i].row, &changed);
			}
			i++;
			j++;
		}
		sb_free(&kj);
	}
	for (int w = 0; w < 2; w++) {
		for (int r = 0; r < n[w]; r++)
			free(v[w][r].key);
		free(v[w]);
	}
	if (changed.len)
		tab_submit_cols(vs, t->ti, &changed);
	sb_free(&changed);
}

static void handle_cols(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	const PGresult *s = t->res[0], *g = t->res[1];
	for (int r = 0; r < PQntuples(s); r++) {
		int m = -1;
		for (int q = 0; q < PQntuples(g) && m < 0; q++) {
			bool same = true;
			for (size_t k = 0; k < tb->n_key && same; k++)
				same = strcmp(PQgetvalue(s, r, (int)k), PQgetvalue(g, q, (int)k)) == 0;
			if (same)
				m = q;
		}
		strbuf cols;
		sb_init(&cols);
		for (size_t c = 0; c < tb->n_common && m >= 0; c++) {
			int f = (int)(tb->n_key + c);
			if (strcmp(PQgetvalue(s, r, f), PQgetvalue(g, m, f)) != 0)
				sb_printf(&cols, "%s%s", cols.len ? "," : "", tb->col_names[c]);
		}
		if (m < 0 || cols.len == 0) {
			sb_free(&cols);
			continue;   /* changed back meanwhile, or gone: the next run says */
		}
		strbuf kj;
		sb_init(&kj);
		tab_key_json(tb, s, r, &kj);
		tb->pub.changed_total++;
		if (tb->pub.n_changed < VFY_KEYS_KEPT) {
			tb->pub.changed = xrealloc(tb->pub.changed, (tb->pub.n_changed + 1) * sizeof *tb->pub.changed);
			tb->pub.changed[tb->pub.n_changed].key = sb_steal(&kj);
			tb->pub.changed[tb->pub.n_changed++].columns = sb_steal(&cols);
		}
		sb_free(&kj);
		sb_free(&cols);
	}
}

static char **row_values(const PGresult *res, int row, size_t n)
{
	char **v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t k = 0; k < n; k++)
		v[k] = xstrdup(PQgetvalue(res, row, (int)k));
	return v;
}

/* Sub-ranges of r cut at the boundary rows of res (each a key). */
static void submit_cut(vfy_session *vs, size_t ti, const vrange *r, const PGresult *res, int step)
{
	vtab *tb = &vs->tabs[ti];
	char **lo = vfy_strv_dup(r->lo, tb->n_key);
	int n = PQntuples(res);
	for (int b = step - 1; b < n; b += step) {
		char **cut = row_values(res, b, tb->n_key);
		tab_submit_range(vs, ti, lo, vfy_strv_dup(cut, tb->n_key));
		lo = cut;
	}
	tab_submit_range(vs, ti, lo, vfy_strv_dup(r->hi, tb->n_key));
}

void vfy_note_differed(vtab *tb, const vrange *r)
{
	tb->pub.ranges_differed++;
	if (tb->n_differed >= VFY_KEYS_RECORDED)
		return;
	tb->differed = xrealloc(tb->differed, (tb->n_differed + 1) * sizeof *tb->differed);
	tb->differed[tb->n_differed].lo = vfy_strv_dup(r->lo, tb->n_key);
	tb->differed[tb->n_differed++].hi = vfy_strv_dup(r->hi, tb->n_key);
}

static void handle_range(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	int64_t cnt[2];
	const char *sum[2];
	for (int w = 0; w < 2; w++) {
		cnt[w] = strtoll(PQgetvalue(t->res[w], 0, 0), NULL, 10);
		sum[w] = PQgetvalue(t->res[w], 0, 1);
	}
	if (cnt[0] == cnt[1] && strcmp(sum[0], sum[1]) == 0) {
		tb->pub.rows += cnt[0];
		tb->pub.rows_done += cnt[0];
		return;
	}
	int big = cnt[1] > cnt[0];
	vtask *n = vfy_task_new(vs, t->ti, cnt[big] <= VFY_LEAF_ROWS ? VT_LEAF : VT_SPLIT);
	n->r.lo = vfy_strv_dup(t->r.lo, tb->n_key);
	n->r.hi = vfy_strv_dup(t->r.hi, tb->n_key);
	char *where = sql_where(tb, &n->r);
	if (n->kind == VT_LEAF) {
		vfy_note_differed(tb, &n->r);
		for (int w = 0; w < 2; w++)
			n->sql[w] = xasprintf("SELECT %s, %s::text FROM %s%s", tb->key_text,
			                      tb->hash_expr[w], tb->qname, where);
	} else {
		int64_t step = (cnt[big] + VFY_FANOUT - 1) / VFY_FANOUT;
		n->split_side = big;
		n->count[0] = cnt[0];
		n->count[1] = cnt[1];
		n->sql[big] = xasprintf("SELECT %s FROM (SELECT %s, pg_catalog.row_number() OVER (ORDER BY %s) "
		                        "AS pgc_rn FROM %s%s) s WHERE pgc_rn %% %lld = 0 ORDER BY pgc_rn",
		                        tb->key_text, tb->key_list, tb->key_list, tb->qname, where,
		                        (long long)step);
	}
	free(where);
	vfy_task_submit(n);
}

/* ceil(a / b) for a >= 0, b > 0, without libm */
static double div_up(double a, double b)
{
	double q = (double)(int64_t)(a / b);
	return q * b < a ? q + 1 : q;
}

static void handle_plan(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	const PGresult *res = t->res[0];
	int64_t est = -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 2))
		est = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	tb->pub.rows_est = est;
	int64_t per = vs->lim.rows_per_range;
	if (tb->int_key && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		double lo = strtod(PQgetvalue(res, 0, 0), NULL), hi = strtod(PQgetvalue(res, 0, 1), NULL);
		double span = hi - lo + 1;
		double rows = est > 0 ? (double)est : span;
		if (tb->pub.rows_est < 0)
			tb->pub.rows_est = (int64_t)span;
		double nr = div_up(rows, (double)per);
		if (nr > span)
			nr = span;
		if (nr < 1)
			nr = 1;
		double width = div_up(span, nr);
		char **prev = NULL;
		for (double b = lo + width; b <= hi; b += width) {
			char **cut = xcalloc(1, sizeof *cut);
			cut[0] = xasprintf("%lld", (long long)b);
			tab_submit_range(vs, t->ti, prev, vfy_strv_dup(cut, 1));
			prev = cut;
		}
		tab_submit_range(vs, t->ti, prev, NULL);
		return;
	}
	if (!tb->int_key && est > per) {
		double nr = div_up((double)est, (double)per);
		double pct = VFY_PCT * nr * VFY_SAMPLES_PER_RANGE / (double)est;
		if (pct > VFY_PCT)
			pct = VFY_PCT;
		vtask *s = vfy_task_new(vs, t->ti, VT_SAMPLE);
		s->count[0] = (int64_t)nr;
		s->sql[0] = xasprintf("SELECT %s FROM %s TABLESAMPLE SYSTEM (%.6f) ORDER BY %s",
		                      tb->key_text, tb->qname, pct, tb->key_list);
		vfy_task_submit(s);
		return;
	}
	tab_submit_range(vs, t->ti, NULL, NULL);
}

static void vt_handle(vtask *t)
{
	vfy_session *vs = t->vs;
	vtab *tb = &vs->tabs[t->ti];
	for (int w = 0; w < 2; w++)
		if (t->err[w]) {
			vfy_tab_fail(vs, tb, t->err[w]);
			return;
		}
	if (vfy_rest_handle(t)) {
		vfy_notify(vs);
		return;
	}
	switch (t->kind) {
	case VT_META:
		for (int w = 0; w < 2; w++) {
			int n = PQntuples(t->res[w]);
			if (n == 0) {
				char *e = xasprintf("table %s does not exist on the %s", tb->pub.name, side_label[w]);
				tb->pub.schema = xrealloc(tb->pub.schema, (tb->pub.n_schema + 1) * sizeof *tb->pub.schema);
				tb->pub.schema[tb->pub.n_schema++] = e;
				continue;
			}
			tb->cols[w] = xcalloc((size_t)n, sizeof *tb->cols[w]);
			for (int r = 0; r < n; r++) {
				vcol *c = &tb->cols[w][r];
				c->name = xstrdup(PQgetvalue(t->res[w], r, 0));
				c->typname = xstrdup(PQgetvalue(t->res[w], r, 1));
				c->type = xstrdup(PQgetvalue(t->res[w], r, 2));
				c->pkpos = atoi(PQgetvalue(t->res[w], r, 3));
				c->notnull = strcmp(PQgetvalue(t->res[w], r, 4), "t") == 0;
				c->collation = xstrdup(PQgetvalue(t->res[w], r, 5));
			}
			tb->n_cols[w] = (size_t)n;
		}
		if (!tb->cols[0] || !tb->cols[1])
			return;   /* mismatched: a side lacks the table */
		tab_build(vs, t->ti);
		break;
	case VT_RECHECK:
		tb->pub.rechecked++;
		if (strcmp(PQgetvalue(t->res[0], 0, 0), PQgetvalue(t->res[1], 0, 0)) != 0 ||
		    strcmp(PQgetvalue(t->res[0], 0, 1), PQgetvalue(t->res[1], 0, 1)) != 0)
			tb->pub.rechecked_differ++;
		if (--tb->recheck_pending == 0)
			tab_submit_plan(vs, t->ti);
		break;
	case VT_PLAN:
		handle_plan(vs, t);
		break;
	case VT_SAMPLE: {
		vrange all = {NULL, NULL};
		int n = PQntuples(t->res[0]);
		int step = (int)(n / (t->count[0] > 0 ? t->count[0] : 1));
		submit_cut(vs, t->ti, &all, t->res[0], step > 0 ? step : 1);
		break;
	}
	case VT_RANGE:
		handle_range(vs, t);
		break;
	case VT_SPLIT:
		if (PQntuples(t->res[t->split_side]) == 0) {
			/* changed meanwhile: look at the rows themselves */
			vtask *n = vfy_task_new(vs, t->ti, VT_LEAF);
			n->r.lo = vfy_strv_dup(t->r.lo, tb->n_key);
			n->r.hi = vfy_strv_dup(t->r.hi, tb->n_key);
			char *where = sql_where(tb, &n->r);
			for (int w = 0; w < 2; w++)
				n->sql[w] = xasprintf("SELECT %s, %s::text FROM %s%s", tb->key_text,
				                      tb->hash_expr[w], tb->qname, where);
			free(where);
			vfy_note_differed(tb, &n->r);
			vfy_task_submit(n);
		} else {
			submit_cut(vs, t->ti, &t->r, t->res[t->split_side], 1);
		}
		break;
	case VT_LEAF:
		handle_leaf(vs, t);
		break;
	case VT_COLS:
		handle_cols(vs, t);
		break;
	case VT_CONFIRM:
		handle_confirm(vs, t);
		break;
	case VT_FKS:
		handle_fks(vs, t);
		break;
	case VT_ORPHANS:
	case VT_NULLS:
		handle_integrity(vs, t);
		break;
	case VT_WHOLE:
		for (int w = 0; w < 2; w++) {
			tb->pub.whole_rows[w] = strtoll(PQgetvalue(t->res[w], 0, 0), NULL, 10);
			tb->pub.whole_hash[w] = xstrdup(PQgetvalue(t->res[w], 0, 1));
		}
		tb->pub.rows = tb->pub.rows_done = tb->pub.whole_rows[0];
		break;
	case VT_RPAGE:
	case VT_RMATCH:
	case VT_RWHOLE:
	case VT_RRECHECK:
	case VT_RCONFIRM:
		break;   /* vfy_rest_handle's */
	}
	vfy_notify(vs);
}

/* The source is up: quote the names and ask both sides for the columns. */
/* The differing ranges of the last recorded run, per table, for a re-run
 * to re-check first. */
static void vs_load_prior(vfy_session *vs)
{
	st_event *ev = NULL;
	pgc_err e = {0};
	if (!vs->st || state_last_of_kind(vs->st, EV_VERIFY, &ev, &e) < 0 || !ev)
		return;
	evr_verify r;
	evr_verify_read(ev->payload, &r);
	for (size_t i = 0; i < vs->n_tabs; i++)
		for (size_t k = 0; k < r.n_tables; k++)
			if (strcmp(r.tables[k].table, vs->tabs[i].pub.name) == 0 && r.tables[k].n_ranges) {
				vs->tabs[i].prior = r.tables[k].ranges;
				vs->tabs[i].n_prior = r.tables[k].n_ranges;
				r.tables[k].ranges = NULL;   /* moved */
				r.tables[k].n_ranges = 0;
			}
	evr_verify_free(&r);
	st_event_free(ev);
}

char *vfy_meta_sql(const char *qname)
{
	strbuf lit;
	sb_init(&lit);
	vfy_lit(&lit, qname);
	char *s = xasprintf(
		"SELECT a.attname, t.typname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
		"COALESCE((SELECT k.n FROM pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(att, n) "
		"WHERE k.att = a.attnum), 0), a.attnotnull, "
		"COALESCE((SELECT c.collname FROM pg_catalog.pg_collation c WHERE c.oid = a.attcollation), '') "
		"FROM pg_catalog.pg_attribute a "
		"JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
		"LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid AND i.indisprimary "
		"WHERE a.attrelid = pg_catalog.to_regclass(%s) AND a.attnum > 0 "
		"AND NOT a.attisdropped ORDER BY a.attname COLLATE \"C\"", lit.buf);
	sb_free(&lit);
	return s;
}

static void vs_begin(vfy_session *vs, PGconn *qc)
{
	vs->begun = true;
	vs_load_prior(vs);
	for (size_t i = 0; i < vs->n_tabs; i++) {
		vtab *tb = &vs->tabs[i];
		tb->pub.state = VFY_RUNNING;
		tb->pub.started_ms = loop_now_ms();
		tb->qname = cmp_pg_quote_table(qc, tb->pub.name);
		if (!tb->qname) {
			vfy_tab_fail(vs, tb, "cannot quote the table name");
			continue;
		}
		if (vs->rest) {
			vfy_rest_begin_table(vs, i);
			continue;
		}
		vtask *t = vfy_task_new(vs, i, VT_META);
		for (int w = 0; w < 2; w++)
			t->sql[w] = vfy_meta_sql(tb->qname);
		vfy_task_submit(t);
	}
	vfy_notify(vs);
	vfy_check_done(vs);
}

/* ---- the session ---- */

vfy_session *vfy_session_new(const config *cfg, loop *lp, const char *only, pgc_err *e)
{
	const cfg_endpoint *ep[2] = {&cfg->source, &cfg->target};
	/* the source may be a Supabase/PostgREST API (pages hashed here,
	 * verify_rest.c); the target is where SQL runs */
	bool rest = ep[0]->kind == CFG_EP_SUPABASE;
	for (int w = rest ? 1 : 0; w < 2; w++)
		if (ep[w]->kind != CFG_EP_POSTGRES) {
			pgc_fail(e, PGC_EXIT_CONFIG, "%s: verify needs PostgreSQL on the %s%s",
			         cfg->path ? cfg->path : "config", side_label[w],
			         w == 1 ? " (a Supabase/PostgREST side can only be the source)" : "");
			return NULL;
		}
	vfy_session *vs = xcalloc(1, sizeof *vs);
	vs->cfg = cfg;
	vs->lp = lp;
	vs->lim.rows_per_range = cfg->verify_rows_per_range > 0 ? cfg->verify_rows_per_range
	                                                        : VFY_DEFAULT_ROWS_PER_RANGE;
	vs->lim.pause_ms = cfg->verify_pause_ms > 0 ? cfg->verify_pause_ms : VFY_DEFAULT_PAUSE_MS;
	vs->tabs = xcalloc(cfg->n_tables ? cfg->n_tables : 1, sizeof *vs->tabs);
	for (size_t i = 0; i < cfg->n_tables; i++) {
		if (only && strcmp(only, cfg->tables[i].name) != 0)
			continue;
		vtab *tb = &vs->tabs[vs->n_tabs++];
		tb->pub.name = xstrdup(cfg->tables[i].name);
		tb->pub.rows_est = -1;
	}
	if (only && vs->n_tabs == 0) {
		pgc_fail(e, PGC_EXIT_USAGE, "%s: no table \"%s\" in \"tables\"",
		         cfg->path ? cfg->path : "config", only);
		vfy_session_free(vs);
		return NULL;
	}
	for (int w = 0; w < 2; w++) {
		vside *sd = &vs->side[w];
		sd->vs = vs;
		sd->which = w;
		sd->label = side_label[w];
		if (rest && w == 0) {
			if (vfy_rest_open(vs, e) < 0) {
				vfy_session_free(vs);
				return NULL;
			}
			continue;   /* no connections: the source's half is HTTP */
		}
		sd->conninfo = xstrdup(ep[w]->conninfo ? ep[w]->conninfo : "");
		char *perr = NULL;
		char *opts = cmp_pg_session_options(sd->conninfo, cfg->statement_timeout_ms, &perr);
		if (!opts) {
			pgc_fail(e, PGC_EXIT_CONFIG, "%s: %s conninfo: %s", cfg->path ? cfg->path : "config",
			         sd->label, perr);
			free(perr);
			vfy_session_free(vs);
			return NULL;
		}
		sd->options = xasprintf("%s%s", opts, VFY_SESSION_SETTINGS);
		free(opts);
		sd->n_conns = cfg->pool_size > 0 ? (size_t)cfg->pool_size : CFG_DEFAULT_POOL;
		sd->conns = xcalloc(sd->n_conns, sizeof *sd->conns);
		for (size_t i = 0; i < sd->n_conns; i++) {
			sd->conns[i].sd = sd;
			sd->conns[i].fd = -1;
		}
	}
	return vs;
}

static void vcol_free(vcol *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].name);
		free(c[i].typname);
		free(c[i].type);
		free(c[i].collation);
	}
	free(c);
}

static void vs_drop_queues(vfy_session *vs)
{
	for (int w = 0; w < 2; w++) {
		vside *sd = &vs->side[w];
		while (sd->head) {
			vtask *t = sd->head;
			sd->head = t->next[w];
			if (!sd->head)
				sd->tail = NULL;
			vfy_half_done(t);
		}
	}
}

void vfy_session_free(vfy_session *vs)
{
	if (!vs)
		return;
	vs->cancelled = true;
	vs->done = true;   /* nothing more is recorded or told */
	vs->fn = NULL;
	vfy_rest_stop(vs);
	vs_drop_queues(vs);
	for (int w = 0; w < 2; w++) {
		vside *sd = &vs->side[w];
		for (size_t i = 0; sd->conns && i < sd->n_conns; i++) {
			vconn *c = &sd->conns[i];
			vtask *t = c->task;
			if (c->st == VC_BUSY && c->conn) {
				PGcancel *cn = PQgetCancel(c->conn);
				char buf[256];
				if (cn) {
					(void)PQcancel(cn, buf, sizeof buf);
					PQfreeCancel(cn);
				}
			}
			c->task = NULL;
			vc_close(c);
			if (t)
				vfy_half_done(t);
		}
		for (size_t i = 0; i < sd->n_cancellers; i++) {
			if (!proc_unwatch(vs->lp, sd->cancellers[i], NULL))
				proc_wait(sd->cancellers[i], NULL);
		}
		free(sd->cancellers);
		free(sd->conns);
		free(sd->conninfo);
		free(sd->options);
		free(sd->server);
		free(sd->down_err);
	}
	for (size_t i = 0; i < vs->n_tabs; i++) {
		vtab *tb = &vs->tabs[i];
		vfy_table *p = &tb->pub;
		free(p->name);
		free(p->error);
		vfy_strv_free(p->schema, p->n_schema);
		vfy_strv_free(p->missing.v, p->missing.n);
		vfy_strv_free(p->extra.v, p->extra.n);
		for (size_t k = 0; k < p->n_changed; k++) {
			free(p->changed[k].key);
			free(p->changed[k].columns);
		}
		free(p->changed);
		free(p->whole_hash[0]);
		free(p->whole_hash[1]);
		for (size_t k = 0; k < p->n_integrity; k++) {
			free(p->integrity[k].what);
			free(p->integrity[k].refs);
			vfy_strv_free(p->integrity[k].keys.v, p->integrity[k].keys.n);
		}
		free(p->integrity);
		free(tb->qname);
		for (int w = 0; w < 2; w++) {
			vcol_free(tb->cols[w], tb->n_cols[w]);
			free(tb->hash_expr[w]);
			vfy_strv_free(tb->col_expr[w], tb->n_common);
		}
		vfy_strv_free(tb->col_names, tb->n_common);
		vfy_strv_free(tb->key_names, tb->n_key);
		vfy_strv_free(tb->key_types, tb->n_key);
		free(tb->key_int);
		free(tb->key_list);
		free(tb->key_text);
		for (size_t k = 0; k < tb->n_differed; k++) {
			vfy_strv_free(tb->differed[k].lo, tb->n_key);
			vfy_strv_free(tb->differed[k].hi, tb->n_key);
		}
		free(tb->differed);
		for (size_t k = 0; k < tb->n_prior; k++) {
			vfy_strv_free(tb->prior[k].lo, tb->prior[k].n_lo);
			vfy_strv_free(tb->prior[k].hi, tb->prior[k].n_hi);
		}
		free(tb->prior);
		free(tb->col_ts);
		free(tb->tselect);
		vfy_strv_free(tb->rlast, tb->n_key);
		vfy_rest_tab_free(tb);
		free(tb->collation_note);
		vfy_strv_free(tb->rkeys, tb->n_key);
	}
	rest_client_free(vs->rest);
	sb_free(&vs->rowbuf);
	free(vs->tabs);
	free(vs->record_error);
	free(vs);
}

void vfy_set_listener(vfy_session *vs, vfy_listener_fn fn, void *ud)
{
	vs->fn = fn;
	vs->ud = ud;
}

void vfy_set_state(vfy_session *vs, state *st)
{
	vs->st = st;
}

const char *vfy_record_error(const vfy_session *vs)
{
	return vs->record_error;
}

int vfy_start(vfy_session *vs, pgc_err *e)
{
	for (int w = vs->rest ? 1 : 0; w < 2; w++)
		vc_open(&vs->side[w]);
	return 0;
}

static void vs_canceller_ended(loop *lp, pid_t pid, int status, void *ud)
{
	vside *sd = ud;
	for (size_t i = 0; i < sd->n_cancellers; i++)
		if (sd->cancellers[i] == pid) {
			sd->cancellers[i] = sd->cancellers[--sd->n_cancellers];
			return;
		}
}

void vfy_cancel(vfy_session *vs)
{
	if (vs->done)
		return;
	vs->cancelled = true;
	for (size_t i = 0; i < vs->n_tabs; i++) {
		vtab *tb = &vs->tabs[i];
		if (!tb->finished) {
			tb->pub.state = VFY_CANCELLED;
			tb->finished = true;
			tb->pub.ended_ms = loop_now_ms();
		}
	}
	vfy_rest_stop(vs);
	vs_drop_queues(vs);
	/* Queries in flight: PQcancel's round trips run in a child, so the
	 * loop (the console's key path) does not wait for them. */
	for (int w = 0; w < 2; w++) {
		vside *sd = &vs->side[w];
		PGcancel **v = xcalloc(sd->n_conns + 1, sizeof *v);
		size_t n = 0;
		for (size_t i = 0; i < sd->n_conns; i++)
			if (sd->conns[i].st == VC_BUSY && (v[n] = PQgetCancel(sd->conns[i].conn)))
				n++;
		if (n > 0) {
			pid_t pid = proc_fork(NULL);
			if (pid == 0) {
				char buf[256];
				for (size_t i = 0; i < n; i++)
					(void)PQcancel(v[i], buf, sizeof buf);
				/* end by exec, not _exit: this copy of the console holds
				 * its ncurses, SQLite and libpq memory, which a leak
				 * checker following the fork would report */
				execl(VFY_TRUE_PATH, "true", (char *)NULL);
				_exit(0);
			}
			if (pid > 0) {
				sd->cancellers = xrealloc(sd->cancellers, (sd->n_cancellers + 1) * sizeof *sd->cancellers);
				sd->cancellers[sd->n_cancellers++] = pid;
				(void)proc_watch(vs->lp, pid, vs_canceller_ended, sd, NULL);
			}
		}
		for (size_t i = 0; i < n; i++)
			PQfreeCancel(v[i]);
		free(v);
	}
	vs->begun = true;
	vfy_check_done(vs);
}

/* ---- reading the model ---- */

size_t vfy_n_tables(const vfy_session *vs)
{
	return vs->n_tabs;
}

const vfy_table *vfy_table_at(const vfy_session *vs, size_t i)
{
	return i < vs->n_tabs ? &vs->tabs[i].pub : NULL;
}

size_t vfy_name_width(const vfy_session *vs, size_t at_least)
{
	size_t w = at_least;
	for (size_t i = 0; i < vs->n_tabs; i++)
		w = strlen(vs->tabs[i].pub.name) > w ? strlen(vs->tabs[i].pub.name) : w;
	return w;
}

bool vfy_done(const vfy_session *vs)
{
	return vs->done;
}

bool vfy_all_equal(const vfy_session *vs)
{
	for (size_t i = 0; i < vs->n_tabs; i++)
		if (!vs->tabs[i].finished || !vs->tabs[i].pub.equal)
			return false;
	return true;
}

int vfy_exit_code(const vfy_session *vs)
{
	bool err = false, cancelled = false, diff = false;
	for (size_t i = 0; i < vs->n_tabs; i++) {
		const vfy_table *p = &vs->tabs[i].pub;
		err |= p->state == VFY_ERROR;
		cancelled |= p->state == VFY_CANCELLED || p->state == VFY_PENDING || p->state == VFY_RUNNING;
		diff |= (p->state == VFY_MISMATCHED || p->state == VFY_NO_PK) && !p->equal;
	}
	if (err)
		return PGC_EXIT_UNAVAILABLE;
	if (cancelled)
		return PGC_EXIT_TEMPFAIL;
	return diff ? PGC_EXIT_DIFFERENT : PGC_EXIT_OK;
}

const char *vfy_state_key(vfy_state s)
{
	switch (s) {
	case VFY_PENDING:    return "pending";
	case VFY_RUNNING:    return "pending";
	case VFY_MATCHED:    return "matched";
	case VFY_MISMATCHED: return "mismatched";
	case VFY_NO_PK:      return "no_primary_key";
	case VFY_ERROR:      return "error";
	case VFY_CANCELLED:  return "cancelled";
	}
	return "pending";
}

void vfy_table_progress(const vfy_table *t, double now_ms, double *rate, double *eta_s)
{
	*rate = 0;
	*eta_s = -1;
	double end = t->ended_ms > 0 ? t->ended_ms : now_ms;
	double el = (end - t->started_ms) / 1000.0;
	if (t->started_ms <= 0 || el <= 0 || t->rows_done <= 0)
		return;
	*rate = (double)t->rows_done / el;
	if (t->ended_ms > 0)
		*eta_s = 0;
	else if (t->rows_est >= 0)
		*eta_s = t->rows_est > t->rows_done ? (double)(t->rows_est - t->rows_done) / *rate : 0;
}

const char *vfy_summary(const vfy_session *vs, char *buf, size_t n)
{
	size_t eq = 0;
	const vfy_table *first = NULL;
	for (size_t i = 0; i < vs->n_tabs; i++) {
		if (vs->tabs[i].pub.equal)
			eq++;
		else if (!first)
			first = &vs->tabs[i].pub;
	}
	if (!first) {
		snprintf(buf, n, "%zu/%zu tables equal", eq, vs->n_tabs);
		return buf;
	}
	switch (first->state) {
	case VFY_MISMATCHED:
		if (vfy_integrity_broken(first) && !first->missing.total && !first->extra.total &&
		    !first->changed_total && !first->n_schema) {
			const vfy_issue *is = first->integrity;
			while (is->rows == 0)
				is++;
			snprintf(buf, n, "%zu/%zu tables equal; %s: %lld row%s %s %s", eq, vs->n_tabs, first->name,
			         (long long)is->rows, is->rows == 1 ? "" : "s",
			         is->kind == VFY_ISSUE_ORPHANS ? "orphaned, foreign key" : "NULL in required column",
			         is->what);
		} else if (first->n_schema && !first->missing.total && !first->extra.total && !first->changed_total)
			snprintf(buf, n, "%zu/%zu tables equal; %s: %s", eq, vs->n_tabs, first->name, first->schema[0]);
		else
			snprintf(buf, n, "%zu/%zu tables equal; %s: %lld missing, %lld extra, %lld changed",
			         eq, vs->n_tabs, first->name, (long long)first->missing.total,
			         (long long)first->extra.total, (long long)first->changed_total);
		break;
	case VFY_NO_PK:
		snprintf(buf, n, "%zu/%zu tables equal; %s: no primary key, whole-table hash differs",
		         eq, vs->n_tabs, first->name);
		break;
	case VFY_ERROR:
		snprintf(buf, n, "%zu/%zu tables equal; %s: error: %s", eq, vs->n_tabs, first->name,
		         first->error ? first->error : "?");
		break;
	default:
		snprintf(buf, n, "%zu/%zu tables equal; %s: %s", eq, vs->n_tabs, first->name,
		         vfy_state_key(first->state));
		break;
	}
	return buf;
}

static cJSON *keys_json(char *const *v, size_t n, size_t max)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n && i < max; i++) {
		cJSON *k = cJSON_Parse(v[i]);
		cJSON_AddItemToArray(a, k ? k : cJSON_CreateString(v[i]));
	}
	return a;
}

cJSON *vfy_result_json(const vfy_session *vs, size_t max_keys)
{
	cJSON *o = cJSON_CreateObject();
	char sum[PGC_ERR_MAX];
	cJSON_AddBoolToObject(o, "equal", vfy_all_equal(vs));
	cJSON_AddBoolToObject(o, "complete", vfy_done(vs) && !vs->cancelled);
	cJSON_AddStringToObject(o, "summary", vfy_summary(vs, sum, sizeof sum));
	cJSON *tabs = cJSON_AddArrayToObject(o, "tables");
	for (size_t i = 0; i < vs->n_tabs; i++) {
		const vfy_table *p = &vs->tabs[i].pub;
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "table", p->name);
		cJSON_AddBoolToObject(t, "equal", p->equal);
		cJSON_AddStringToObject(t, "state", vfy_state_key(p->state));
		cJSON_AddNumberToObject(t, "rows", (double)p->rows);
		cJSON_AddItemToObject(t, "missing", keys_json(p->missing.v, p->missing.n, max_keys));
		cJSON_AddItemToObject(t, "extra", keys_json(p->extra.v, p->extra.n, max_keys));
		cJSON *ch = cJSON_AddArrayToObject(t, "changed");
		cJSON *cc = cJSON_AddArrayToObject(t, "changed_columns");
		for (size_t k = 0; k < p->n_changed && k < max_keys; k++) {
			cJSON *key = cJSON_Parse(p->changed[k].key);
			cJSON_AddItemToArray(ch, key ? key : cJSON_CreateString(p->changed[k].key));
			cJSON *one = cJSON_CreateObject();
			key = cJSON_Parse(p->changed[k].key);
			cJSON_AddItemToObject(one, "key", key ? key : cJSON_CreateString(p->changed[k].key));
			cJSON *cols = cJSON_AddArrayToObject(one, "columns");
			const char *s = p->changed[k].columns;
			while (*s) {
				size_t l = strcspn(s, ",");
				char *c = xstrndup(s, l);
				cJSON_AddItemToArray(cols, cJSON_CreateString(c));
				free(c);
				s += l + (s[l] == ',');
			}
			cJSON_AddItemToArray(cc, one);
		}
		cJSON_AddNumberToObject(t, "missing_n", (double)p->missing.total);
		cJSON_AddNumberToObject(t, "extra_n", (double)p->extra.total);
		cJSON_AddNumberToObject(t, "changed_n", (double)p->changed_total);
		cJSON *sch = cJSON_AddArrayToObject(t, "schema");
		for (size_t k = 0; k < p->n_schema; k++)
			cJSON_AddItemToArray(sch, cJSON_CreateString(p->schema[k]));
		if (p->state == VFY_NO_PK) {
			cJSON_AddNumberToObject(t, "source_rows", (double)p->whole_rows[0]);
			cJSON_AddNumberToObject(t, "target_rows", (double)p->whole_rows[1]);
		}
		if (p->error)
			cJSON_AddStringToObject(t, "error", p->error);
		else
			cJSON_AddNullToObject(t, "error");
		cJSON *ig = cJSON_AddArrayToObject(t, "integrity");
		for (size_t k = 0; k < p->n_integrity; k++) {
			const vfy_issue *is = &p->integrity[k];
			cJSON *one = cJSON_CreateObject();
			cJSON_AddStringToObject(one, "kind", is->kind == VFY_ISSUE_ORPHANS ? "orphans" : "null_in_required");
			cJSON_AddStringToObject(one, is->kind == VFY_ISSUE_ORPHANS ? "constraint" : "column", is->what);
			if (is->kind == VFY_ISSUE_ORPHANS) {
				cJSON_AddStringToObject(one, "references", is->refs ? is->refs : "");
				cJSON_AddBoolToObject(one, "not_valid", is->not_valid);
			}
			cJSON_AddNumberToObject(one, "rows", (double)is->rows);
			cJSON_AddItemToObject(one, "keys", keys_json(is->keys.v, is->keys.n, max_keys));
			cJSON_AddItemToArray(ig, one);
		}
		if (vs->tabs[i].collation_note) {
			cJSON *notes = cJSON_AddArrayToObject(t, "notes");
			cJSON_AddItemToArray(notes, cJSON_CreateString(vs->tabs[i].collation_note));
		}
		cJSON *rc = cJSON_AddObjectToObject(t, "rechecked");
		cJSON_AddNumberToObject(rc, "ranges", (double)p->rechecked);
		cJSON_AddNumberToObject(rc, "differ", (double)p->rechecked_differ);
		const vtab *tb = &vs->tabs[i];
		cJSON *rs = cJSON_AddArrayToObject(t, "ranges");
		for (size_t k = 0; k < tb->n_differed && k < max_keys; k++) {
			cJSON *one = cJSON_CreateObject();
			char **b[2] = {tb->differed[k].lo, tb->differed[k].hi};
			for (int h = 0; h < 2; h++) {
				if (!b[h]) {
					cJSON_AddNullToObject(one, h ? "hi" : "lo");
					continue;
				}
				cJSON *a = cJSON_AddArrayToObject(one, h ? "hi" : "lo");
				for (size_t m = 0; m < tb->n_key; m++)
					cJSON_AddItemToArray(a, cJSON_CreateString(b[h][m]));
			}
			/* a REST source's pages: after lo, up to and with hi */
			cJSON_AddStringToObject(one, "bounds", vs->rest ? "(]" : "[)");
			cJSON_AddItemToArray(rs, one);
		}
		cJSON_AddItemToArray(tabs, t);
	}
	return o;
}

/* ---- what the log says ---- */

int vfy_recorded_equal(state *st, bool *equal, double *at, char *why, size_t n, pgc_err *e)
{
	st_event *ev = NULL;
	*equal = false;
	*at = 0;
	if (why && n)
		why[0] = '\0';
	int rc = state_last_of_kind(st, EV_VERIFY, &ev, e);
	if (rc < 0)
		return -1;
	if (!ev)
		return 0;
	evr_verify r;
	evr_verify_read(ev->payload, &r);
	*equal = r.equal && r.complete;
	*at = ev->ts;
	if (why && n)
		snprintf(why, n, "%s", r.summary ? r.summary : (*equal ? "all tables equal" : "differences"));
	evr_verify_free(&r);
	st_event_free(ev);
	return 1;
}

bool vfy_payload_all_equal(const config *cfg, const char *payload, char *why, size_t n)
{
	evr_verify r;
	evr_verify_read(payload, &r);
	bool ok = r.complete;
	if (!ok)
		snprintf(why, n, "the last verify did not complete");
	for (size_t i = 0; ok && i < cfg->n_tables; i++) {
		size_t k;
		for (k = 0; k < r.n_tables; k++)
			if (strcmp(r.tables[k].table, cfg->tables[i].name) == 0)
				break;
		if (k == r.n_tables) {
			snprintf(why, n, "%s: not verified", cfg->tables[i].name);
			ok = false;
		} else if (!r.tables[k].equal) {
			snprintf(why, n, "%s: %s", cfg->tables[i].name, r.tables[k].state ? r.tables[k].state : "differs");
			ok = false;
		}
	}
	if (ok)
		snprintf(why, n, "%s", r.summary ? r.summary : "all tables equal");
	evr_verify_free(&r);
	return ok;
}
