/*
 * pqasync.h -- one non-blocking libpq connection on the loop (loop.h),
 * for the services that ask a server one query at a time on a schedule
 * (the freeze watch, the sync watch): connect with the session settings
 * of every pgcutover connection (sch_connect_start: read-only,
 * application_name=pgcutover, statement_timeout), send a query when idle,
 * hear the result from the loop.  Nothing blocks; a lost connection is
 * reported once (PQA_FAILED) and the owner decides whether to start again.
 */
#ifndef PGCUTOVER_PQASYNC_H
#define PGCUTOVER_PQASYNC_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "pgcutover/config.h"
#include "pgcutover/loop.h"
#include "pgcutover/util.h"

typedef struct pqa pqa;

typedef enum pqa_event {
	PQA_CONNECTED,   /* ready for pqa_send */
	PQA_RESULT,      /* res: the query's result (owned by the caller: PQclear) */
	PQA_FAILED,      /* pqa_error says why; the connection is closed */
} pqa_event;

typedef void (*pqa_fn)(pqa *q, pqa_event ev, PGresult *res, void *ud);

/* Starts connecting to ep; who ("source", "target") names it in errors.
 * NULL with e when refused at once. */
pqa *pqa_start(const config *cfg, const cfg_endpoint *ep, const char *who, loop *lp, pqa_fn fn,
               void *ud, pgc_err *e);
void pqa_free(pqa *q);   /* NULL is fine; nothing is reported */
/* Connected and no query in flight. */
bool pqa_idle(const pqa *q);
/* Sends sql (a query whose first result is reported).  -1 when not idle
 * or the send failed (then PQA_FAILED was reported). */
int pqa_send(pqa *q, const char *sql);
PGconn *pqa_conn(pqa *q);
const char *pqa_error(const pqa *q);   /* "" none */

#endif
