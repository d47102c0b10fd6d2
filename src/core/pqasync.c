/*
 * pqasync.c -- one non-blocking libpq connection on the loop (pqasync.h):
 * PQconnectPoll driven by the socket, then PQsendQuery / PQconsumeInput /
 * PQgetResult, the first result of each query handed to the owner.  Used
 * by freeze.c's and syncwatch.c's sessions, which the console and the
 * headless commands both run.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/pqasync.h"
#include "pgcutover/schema.h"

struct pqa {
	loop *lp;
	PGconn *c;
	int fd;
	const char *who;
	bool connecting, busy, dead;
	PGresult *res;          /* the query's first result, until the NULL that ends it */
	pqa_fn fn;
	void *ud;
	char error[PGC_ERR_MAX];
};

static void pqa_on_event(loop *lp, int fd, short revents, void *ud);

static void pqa_watch(pqa *q, short events)
{
	int fd = PQsocket(q->c);
	if (q->fd >= 0 && q->fd != fd)
		loop_unwatch(q->lp, q->fd);
	q->fd = fd;
	if (fd >= 0)
		loop_watch(q->lp, fd, events, pqa_on_event, q);
}

static void pqa_close(pqa *q)
{
	if (q->fd >= 0)
		loop_unwatch(q->lp, q->fd);
	q->fd = -1;
	if (q->c)
		PQfinish(q->c);
	q->c = NULL;
	PQclear(q->res);
	q->res = NULL;
}

static void pqa_fail(pqa *q)
{
	pgc_err e = {0};
	sch_conn_fail(q->c, q->who, &e);
	snprintf(q->error, sizeof q->error, "%s", e.msg);
	pqa_close(q);
	q->dead = true;
	q->busy = q->connecting = false;
	q->fn(q, PQA_FAILED, NULL, q->ud);
}

pqa *pqa_start(const config *cfg, const cfg_endpoint *ep, const char *who, loop *lp, pqa_fn fn,
               void *ud, pgc_err *e)
{
	PGconn *c = sch_connect_start(cfg, ep, who, e);
	if (!c)
		return NULL;
	pqa *q = xcalloc(1, sizeof *q);
	q->lp = lp;
	q->c = c;
	q->fd = -1;
	q->who = who;
	q->fn = fn;
	q->ud = ud;
	q->connecting = true;
	/* libpq: behave as if the first PQconnectPoll said POLLING_WRITING. */
	pqa_watch(q, POLLOUT);
	return q;
}

void pqa_free(pqa *q)
{
	if (!q)
		return;
	pqa_close(q);
	free(q);
}

bool pqa_idle(const pqa *q)
{
	return q && q->c && !q->connecting && !q->busy && !q->dead;
}

PGconn *pqa_conn(pqa *q)
{
	return q->c;
}

const char *pqa_error(const pqa *q)
{
	return q->error;
}

int pqa_send(pqa *q, const char *sql)
{
	if (!pqa_idle(q))
		return -1;
	int fl = PQsendQuery(q->c, sql) ? PQflush(q->c) : -1;
	if (fl < 0) {
		pqa_fail(q);
		return -1;
	}
	q->busy = true;
	pqa_watch(q, fl == 1 ? (POLLIN | POLLOUT) : POLLIN);
	return 0;
}

static void pqa_connect_step(pqa *q)
{
	switch (PQconnectPoll(q->c)) {
	case PGRES_POLLING_READING:
		pqa_watch(q, POLLIN);
		return;
	case PGRES_POLLING_WRITING:
		pqa_watch(q, POLLOUT);
		return;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(q->c, 1) != 0) {
			pqa_fail(q);
			return;
		}
		q->connecting = false;
		pqa_watch(q, POLLIN);
		q->fn(q, PQA_CONNECTED, NULL, q->ud);
		return;
	default:
		pqa_fail(q);
	}
}

static void pqa_on_event(loop *lp, int fd, short revents, void *ud)
{
	(void)lp;
	(void)fd;
	pqa *q = ud;
	if (q->connecting) {
		pqa_connect_step(q);
		return;
	}
	if (revents & POLLOUT) {
		int fl = PQflush(q->c);
		if (fl < 0) {
			pqa_fail(q);
			return;
		}
		pqa_watch(q, fl == 1 ? (POLLIN | POLLOUT) : POLLIN);
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	if (!PQconsumeInput(q->c)) {
		pqa_fail(q);
		return;
	}
	while (q->busy && !PQisBusy(q->c)) {
		PGresult *res = PQgetResult(q->c);
		if (!res) {
			PGresult *got = q->res;
			q->res = NULL;
			q->busy = false;
			q->fn(q, PQA_RESULT, got, q->ud);   /* may send the next query */
			return;
		}
		if (q->res)
			PQclear(res);   /* one result per query: keep the first */
		else
			q->res = res;
	}
	if (!q->busy && PQstatus(q->c) == CONNECTION_BAD)
		pqa_fail(q);
}
