/*
 * svc_parity.c -- the console's schema and sequence parity as a service on
 * the loop: both catalogs are read over non-blocking libpq connections
 * with the queries of schema.c (sch_query, sch_snapshot_add), compared with
 * sch_compare(), then the target's serial/identity sequences are checked
 * step by step (sch_seq_*), so a slow catalog or a vanished server never
 * freezes the screen.  The result is structured (svc_parity_result): the
 * overlay renders it, `pgcutover schema` prints the same findings from the
 * same core.  A check that outlives SVC_PARITY_TIMEOUT_MS is abandoned.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/pqtext.h"
#include "pgcutover/svc.h"

enum { SIDE_SOURCE, SIDE_TARGET, N_SIDES };

/* Where one side is: connecting, one query after another, finished. */
typedef enum par_step {
	STEP_CONNECTING,
	STEP_CATALOG,      /* kind: the catalog query of that kind */
	STEP_SEQ_LIST,     /* target: the serial/identity columns */
	STEP_SEQ_VALUE,    /* target: seq_i's sequence value */
	STEP_SEQ_MAX,      /* target: seq_i's max(column) */
	STEP_DONE,
} par_step;

typedef struct par_side {
	struct svc_parity *sp;
	const char *who;
	PGconn *c;
	int fd;
	par_step step;
	int kind;
	size_t seq_i;
	PGresult *res;       /* the query's result, until the NULL that ends it */
	PGresult *seq_list;  /* target: the list the sequence steps walk */
} par_side;

struct svc_parity {
	const config *cfg;
	loop *lp;
	char **schemas;
	par_side side[N_SIDES];
	int timer_id;
	svc_parity_result r;
};

static void par_event(loop *lp, int fd, short revents, void *ud);

svc_parity *svc_parity_new(const config *cfg)
{
	svc_parity *sp = xcalloc(1, sizeof *sp);
	sp->cfg = cfg;
	for (int w = 0; w < N_SIDES; w++) {
		sp->side[w].sp = sp;
		sp->side[w].fd = -1;
		sp->side[w].who = w == SIDE_SOURCE ? "source" : "target";
	}
	return sp;
}

static void par_side_close(par_side *ps)
{
	if (ps->fd >= 0)
		loop_unwatch(ps->sp->lp, ps->fd);
	ps->fd = -1;
	if (ps->c)
		PQfinish(ps->c);
	ps->c = NULL;
	PQclear(ps->res);
	ps->res = NULL;
	PQclear(ps->seq_list);
	ps->seq_list = NULL;
	ps->step = STEP_DONE;
}

static void par_result_clear(svc_parity_result *r)
{
	sch_snapshot_clear(&r->src);
	sch_snapshot_clear(&r->dst);
	sch_diffs_free(r->diffs, r->n_diffs);
	sch_seq_checks_free(r->seqs, r->n_seqs);
	unsigned gen = r->gen;
	memset(r, 0, sizeof *r);
	r->gen = gen + 1;
}

/* Stops everything in flight; the result so far stays. */
static void par_stop(svc_parity *sp)
{
	for (int w = 0; w < N_SIDES; w++)
		par_side_close(&sp->side[w]);
	if (sp->timer_id)
		loop_timer_cancel(sp->lp, sp->timer_id);
	sp->timer_id = 0;
}

static void par_fail(svc_parity *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void par_fail(svc_parity *sp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sp->r.error, sizeof sp->r.error, fmt, ap);
	va_end(ap);
	par_stop(sp);
	sp->r.phase = SVC_PARITY_FAILED;
	sp->r.gen++;
}

void svc_parity_stop(svc_parity *sp)
{
	if (!sp || sp->r.phase != SVC_PARITY_RUNNING)
		return;
	par_fail(sp, "abandoned");
}

void svc_parity_free(svc_parity *sp)
{
	if (!sp)
		return;
	par_stop(sp);
	par_result_clear(&sp->r);
	sch_strv_free(sp->schemas);
	free(sp);
}

static void par_watch(par_side *ps, short events)
{
	int fd = PQsocket(ps->c);
	if (ps->fd >= 0 && ps->fd != fd)
		loop_unwatch(ps->sp->lp, ps->fd);
	ps->fd = fd;
	if (fd >= 0)
		loop_watch(ps->sp->lp, fd, events, par_event, ps);
}

static void par_send(par_side *ps, char *sql)
{
	if (!sql) {
		par_fail(ps->sp, "%s: cannot quote a schema name", ps->who);
		return;
	}
	int ok = PQsendQuery(ps->c, sql);
	free(sql);
	int fl = ok ? PQflush(ps->c) : -1;
	if (fl < 0) {
		pgc_err e = {0};
		sch_conn_fail(ps->c, ps->who, &e);
		par_fail(ps->sp, "%s", e.msg);
		return;
	}
	par_watch(ps, fl == 1 ? (POLLIN | POLLOUT) : POLLIN);
}

/* Both catalogs read: what differs. */
static void par_compare(svc_parity *sp)
{
	svc_parity_result *r = &sp->r;
	if (r->catalogs_read || !r->have_source || sp->side[SIDE_SOURCE].step != STEP_DONE ||
	    sp->side[SIDE_TARGET].step <= STEP_CATALOG)
		return;
	sch_snapshot_sort(&r->src);
	sch_snapshot_sort(&r->dst);
	r->n_diffs = sch_compare(&r->src, &r->dst, &r->diffs);
	r->catalogs_read = true;
}

static void par_maybe_done(svc_parity *sp)
{
	par_compare(sp);
	if (sp->side[SIDE_SOURCE].step == STEP_DONE && sp->side[SIDE_TARGET].step == STEP_DONE &&
	    sp->r.phase == SVC_PARITY_RUNNING) {
		par_stop(sp);
		sp->r.phase = SVC_PARITY_DONE;
	}
	sp->r.gen++;
}

/* Sends the query of the side's current step (or finishes the side). */
static void par_next(par_side *ps)
{
	svc_parity *sp = ps->sp;
	svc_parity_result *r = &sp->r;
	switch (ps->step) {
	case STEP_CATALOG:
		if (ps->kind < SCH_N_KINDS) {
			par_send(ps, sch_query(ps->c, (sch_kind)ps->kind, sp->schemas));
			return;
		}
		if (ps == &sp->side[SIDE_SOURCE]) {
			par_side_close(ps);   /* its part is done */
			par_maybe_done(sp);
			return;
		}
		ps->step = STEP_SEQ_LIST;
		par_compare(sp);
		par_send(ps, sch_seq_list_query(ps->c, sp->schemas));
		return;
	case STEP_SEQ_VALUE:
	case STEP_SEQ_MAX:
		while (ps->seq_i < r->n_seqs && r->seqs[ps->seq_i].error)
			ps->seq_i++;
		if (ps->seq_i < r->n_seqs) {
			par_send(ps, ps->step == STEP_SEQ_VALUE ? sch_seq_value_query(ps->seq_list, ps->seq_i)
			                                        : sch_seq_max_query(ps->seq_list, ps->seq_i));
			return;
		}
		for (size_t i = 0; i < r->n_seqs; i++)
			if (!r->seqs[i].ok || r->seqs[i].error)
				r->seqs_bad++;
		r->seqs_read = true;
		par_side_close(ps);
		par_maybe_done(sp);
		return;
	default:
		return;
	}
}

/* One query's result (the PGresult before the terminating NULL). */
static void par_result(par_side *ps, PGresult *res)
{
	svc_parity *sp = ps->sp;
	svc_parity_result *r = &sp->r;
	switch (ps->step) {
	case STEP_CATALOG:
	case STEP_SEQ_LIST:
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			char *m = pq_oneline(PQresultErrorMessage(res));
			if (ps->step == STEP_CATALOG)
				par_fail(sp, "%s: reading %s: %s", ps->who, sch_kind_name((sch_kind)ps->kind), m);
			else
				par_fail(sp, "%s: reading serial and identity columns: %s", ps->who, m);
			free(m);
			PQclear(res);
			return;
		}
		if (ps->step == STEP_CATALOG) {
			sch_snapshot_add(ps == &sp->side[SIDE_SOURCE] ? &r->src : &r->dst, (sch_kind)ps->kind, res);
			ps->kind++;
		} else {
			ps->seq_list = res;
			res = NULL;
			r->n_seqs = sch_seq_checks_init(ps->seq_list, &r->seqs);
			ps->step = STEP_SEQ_VALUE;
			ps->seq_i = 0;
		}
		break;
	case STEP_SEQ_VALUE:
		if (sch_seq_set_value(&r->seqs[ps->seq_i], ps->c, res) == 0) {
			ps->step = STEP_SEQ_MAX;
		} else {
			ps->seq_i++;
		}
		break;
	case STEP_SEQ_MAX:
		sch_seq_set_max(&r->seqs[ps->seq_i], ps->c, ps->seq_list, ps->seq_i, res);
		ps->step = STEP_SEQ_VALUE;
		ps->seq_i++;
		break;
	default:
		break;
	}
	PQclear(res);
	r->gen++;
	if (r->phase == SVC_PARITY_RUNNING)
		par_next(ps);
}

static void par_connected(par_side *ps)
{
	if (PQsetnonblocking(ps->c, 1) != 0) {
		pgc_err e = {0};
		sch_conn_fail(ps->c, ps->who, &e);
		par_fail(ps->sp, "%s", e.msg);
		return;
	}
	ps->step = STEP_CATALOG;
	ps->kind = 0;
	if (ps == &ps->sp->side[SIDE_TARGET] && !ps->sp->r.have_source)
		ps->kind = SCH_N_KINDS;   /* nothing to compare with: sequences only */
	par_next(ps);
}

static void par_event(loop *lp, int fd, short revents, void *ud)
{
	(void)lp;
	(void)fd;
	par_side *ps = ud;
	svc_parity *sp = ps->sp;
	pgc_err e = {0};
	if (ps->step == STEP_CONNECTING) {
		switch (PQconnectPoll(ps->c)) {
		case PGRES_POLLING_READING:
			par_watch(ps, POLLIN);
			return;
		case PGRES_POLLING_WRITING:
			par_watch(ps, POLLOUT);
			return;
		case PGRES_POLLING_OK:
			par_connected(ps);
			return;
		default:
			sch_conn_fail(ps->c, ps->who, &e);
			par_fail(sp, "%s", e.msg);
			return;
		}
	}
	if (revents & POLLOUT) {
		int fl = PQflush(ps->c);
		if (fl < 0)
			goto lost;
		par_watch(ps, fl == 1 ? (POLLIN | POLLOUT) : POLLIN);
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	if (!PQconsumeInput(ps->c))
		goto lost;
	while (!PQisBusy(ps->c)) {
		PGresult *res = PQgetResult(ps->c);
		if (!res) {
			PGresult *got = ps->res;
			ps->res = NULL;
			if (got)
				par_result(ps, got);   /* may send the next query, or close */
			return;
		}
		if (ps->res)
			PQclear(res);   /* one result per query: keep the first */
		else
			ps->res = res;
	}
	return;
lost:
	sch_conn_fail(ps->c, ps->who, &e);
	par_fail(sp, "%s", e.msg);
}

static void par_timeout(loop *lp, void *ud)
{
	(void)lp;
	svc_parity *sp = ud;
	sp->timer_id = 0;
	par_fail(sp, "abandoned: the check took longer than %d s", SVC_PARITY_TIMEOUT_MS / 1000);
}

int svc_parity_start(svc_parity *sp, loop *lp, char *msg, size_t n)
{
	sp->lp = lp;
	par_stop(sp);
	par_result_clear(&sp->r);
	sch_strv_free(sp->schemas);
	sp->schemas = sch_schemas_of(sp->cfg);
	sp->r.have_source = sp->cfg->source.kind == CFG_EP_POSTGRES;
	sp->r.phase = SVC_PARITY_RUNNING;
	for (int w = 0; w < N_SIDES; w++) {
		par_side *ps = &sp->side[w];
		ps->step = STEP_DONE;
		if (w == SIDE_SOURCE && !sp->r.have_source)
			continue;
		pgc_err e = {0};
		ps->c = sch_connect_start(sp->cfg, w == SIDE_SOURCE ? &sp->cfg->source : &sp->cfg->target,
		                          ps->who, &e);
		if (!ps->c) {
			/* refused at once (a socket file missing): the overlay says so
			 * like any other failure */
			par_fail(sp, "%s", e.msg);
			snprintf(msg, n, "parity check failed: %.200s", e.msg);
			return 0;
		}
		ps->step = STEP_CONNECTING;
		/* libpq: behave as if the first PQconnectPoll said POLLING_WRITING. */
		par_watch(ps, POLLOUT);
	}
	sp->timer_id = loop_timer(lp, SVC_PARITY_TIMEOUT_MS, par_timeout, sp);
	snprintf(msg, n, "parity check started");
	return 0;
}

const svc_parity_result *svc_parity_get(const svc_parity *sp)
{
	return &sp->r;
}
