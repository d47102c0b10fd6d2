/*
 * compare_pg.c -- the PostgreSQL side driver of the comparison (compare.h):
 * asynchronous libpq inside the one poll() loop.
 *
 * A side owns a pool of up to pool_size connections (PQconnectStartParams +
 * PQconnectPoll, then non-blocking PQsendQuery/PQconsumeInput/PQgetResult),
 * so different tables can be counted at once.  Estimates of every table
 * (and their size in pages) come from one catalog query; exact count(*)
 * requests are dispatched biggest-estimate first.  How many counts run at
 * once and whether one may use parallel workers is the pace's (pace.h):
 * from one, raised while the side's rows/s grows; a SET of
 * max_parallel_workers_per_gather goes in front of a count only when the
 * session's plan setting must change.  Every session is read-only (default_transaction_read_only),
 * says application_name=pgcutover and carries the configured
 * statement_timeout.  Passwords only ever come from libpq itself
 * (PGPASSWORD, ~/.pgpass, the service file): the conninfo is used as is and
 * messages name host, port and database only.  A lost or refused server
 * fails the queued requests with a message and is retried with backoff.
 * PQcancel() (a round trip on a new connection, when a refresh replaces one
 * in flight) blocks in libpq 15: a refresh runs it in a forked child
 * (proc_fork, its end reported by the loop's child registry), and only
 * closing the session waits for it.  Resolving a host name in
 * PQconnectStartParams() still blocks (use hostaddr= to skip it).
 */
#include "config.h"
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <libpq-fe.h>
#include "pgcutover/compare.h"
#include "pgcutover/pace.h"
#include "pgcutover/pqtext.h"
#include "pgcutover/proc.h"
#include "pgcutover/schema.h"

/* async libpq has no connect_timeout of its own: this bounds a connect. */
#define PGS_CONNECT_TIMEOUT_MS 10000
#define PGS_BACKOFF_MIN_MS 1000
#define PGS_BACKOFF_MAX_MS 30000
#define PGS_APPLICATION_NAME "pgcutover"

typedef enum pgs_conn_state {
	PGS_UNUSED,        /* slot without a connection */
	PGS_CONNECTING,
	PGS_READY,
	PGS_BUSY,
} pgs_conn_state;

typedef enum pgs_job_kind { PGS_JOB_NONE, PGS_JOB_ESTIMATES, PGS_JOB_COUNT } pgs_job_kind;

typedef struct pgs_side pgs_side;

typedef struct pgs_conn {
	pgs_side *ps;
	PGconn *conn;
	int fd;                /* watched socket, -1 when none */
	short events;          /* what the watch asks for */
	pgs_conn_state st;
	int timer_id;          /* connect timeout */
	pgs_job_kind job;
	size_t table;          /* PGS_JOB_COUNT */
	size_t *tables;        /* PGS_JOB_ESTIMATES: table indexes in the query */
	size_t n_tables;
	unsigned epoch;        /* of the job; stale results are dropped */
	bool got_result;       /* the job's result was handled */
	bool flushing;
	bool serial;           /* the session has max_parallel_workers_per_gather = 0 */
	bool plan_stale;       /* a count failed: its SET may not have run */
	bool in_flight;        /* a count of this connection is counted in ps->in_flight */
	double started_ms;     /* of the count */
	double area_at_start;  /* ps->in_flight_area then */
	int64_t rows;          /* the count's answer, -1 none */
} pgs_conn;

struct pgs_side {
	cmp_side *sd;
	pgs_conn *conns;
	size_t n_conns;
	size_t n_tables;
	bool *want_estimate;   /* queued: one batch for all of them */
	bool *want_exact;      /* queued exact counts */
	int64_t *estimate;     /* last estimate, for biggest-first ordering */
	unsigned epoch;        /* bumped by cancel */
	char *options;         /* user options + ours */
	char *conninfo;
	int backoff_ms;
	int retry_timer;       /* > 0 while waiting to retry after a failure */
	char *down_err;        /* why the side is down, or NULL */
	int dispatch_depth;    /* > 0 while handling results: dispatch later */
	int kick_timer;        /* pending deferred dispatch */
	pid_t *cancellers; size_t n_cancellers;  /* children running PQcancel() */
	int64_t *pages;        /* relpages from the estimates, 0 unknown */
	cmp_pace pace;         /* how many counts at once, parallel or not */
	int in_flight;         /* counts running */
	double in_flight_area; /* integral of in_flight over time (count-ms) */
	double in_flight_at;   /* loop_now_ms() of its last change */
};

static void pgs_dispatch(pgs_side *ps);
static void pgs_conn_event(loop *lp, int fd, short revents, void *ud);

/* ---- small helpers ---- */

/* "target (host=… port=… dbname=…): <libpq message>" */
static char *pgs_error(pgs_side *ps, const char *what, const char *msg)
{
	char *one = pq_oneline(msg);
	if (!*one) {
		free(one);
		one = xstrdup("unknown error");
	}
	char *s = xasprintf("%s (%s): %s%s", ps->sd->label, ps->sd->server, what ? what : "", one);
	free(one);
	return s;
}

/* Quotes one part of a config table name read from *pp: a "double
 * quoted" part is taken literally ("" is a quote), a plain part is folded
 * to lower case as PostgreSQL does.  Appends the quoted identifier to sb;
 * -1 when the name is malformed or cannot be escaped. */
static int pgs_quote_part(PGconn *c, const char **pp, strbuf *sb)
{
	const char *p = *pp;
	strbuf raw;
	sb_init(&raw);
	if (*p == '"') {
		for (p++;; p++) {
			if (*p == '\0') {
				sb_free(&raw);
				return -1;
			}
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			sb_putc(&raw, *p);
		}
		p++;
	} else {
		for (; *p && *p != '.'; p++)
			sb_putc(&raw, (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p);
	}
	*pp = p;
	if (raw.len == 0) {
		sb_free(&raw);
		return -1;
	}
	char *q = PQescapeIdentifier(c, raw.buf, raw.len);
	sb_free(&raw);
	if (!q)
		return -1;
	sb_puts(sb, q);
	PQfreemem(q);
	return 0;
}

/* The config's "table" or "schema.table" (each part plain or quoted, as in
 * SQL) as a safely quoted SQL name, e.g. "\"Mixed Case; x\"" stays one
 * identifier.  NULL when malformed. */
char *cmp_pg_quote_table(PGconn *c, const char *name)
{
	strbuf sb;
	sb_init(&sb);
	const char *p = name;
	if (pgs_quote_part(c, &p, &sb) < 0)
		goto bad;
	if (*p == '.') {
		p++;
		sb_putc(&sb, '.');
		if (pgs_quote_part(c, &p, &sb) < 0)
			goto bad;
	}
	if (*p != '\0')
		goto bad;
	return sb_steal(&sb);
bad:
	sb_free(&sb);
	return NULL;
}

/* ---- connection lifecycle ---- */

static void pgs_watch(pgs_conn *pc, short events)
{
	cmp_side *sd = pc->ps->sd;
	int fd = PQsocket(pc->conn);
	if (pc->fd >= 0 && pc->fd != fd)
		loop_unwatch(sd->lp, pc->fd);
	pc->fd = fd;
	pc->events = events;
	if (fd >= 0)
		loop_watch(sd->lp, fd, events, pgs_conn_event, pc);
}

static void pgs_count_ended(pgs_conn *pc, bool measured);

static void pgs_conn_close(pgs_conn *pc)
{
	cmp_side *sd = pc->ps->sd;
	pgs_count_ended(pc, false);
	if (pc->fd >= 0)
		loop_unwatch(sd->lp, pc->fd);
	if (pc->timer_id > 0)
		loop_timer_cancel(sd->lp, pc->timer_id);
	if (pc->conn)
		PQfinish(pc->conn);
	free(pc->tables);
	pgs_side *ps = pc->ps;
	memset(pc, 0, sizeof *pc);
	pc->ps = ps;
	pc->fd = -1;
	pc->st = PGS_UNUSED;
}

/* Asks the server to stop the query in flight.  PQcancel blocks for the
 * round trip of a new connection; libpq 15 has no async cancel. */
static void pgs_conn_cancel_query(pgs_conn *pc)
{
	PGcancel *cn = PQgetCancel(pc->conn);
	if (cn) {
		char errbuf[256];
		(void)PQcancel(cn, errbuf, sizeof errbuf);
		PQfreeCancel(cn);
	}
}

/* Cancelling from the console's loop: PQcancel() is documented safe in a
 * signal handler (it uses only the PGcancel object), so a forked child can
 * run the round trips while the loop goes on; the loop's child registry
 * reports its end.  Without a fork the cancels run here, blocking as before. */
static void pgs_canceller_ended(loop *lp, pid_t pid, int status, void *ud)
{
	pgs_side *ps = ud;
	for (size_t i = 0; i < ps->n_cancellers; i++)
		if (ps->cancellers[i] == pid) {
			ps->cancellers[i] = ps->cancellers[--ps->n_cancellers];
			return;
		}
}

static void pgs_cancel_async(pgs_side *ps, PGcancel **v, size_t n)
{
	if (n == 0)
		return;
	pid_t pid = proc_fork(NULL);
	if (pid == 0) {
		char errbuf[256];
		for (size_t i = 0; i < n; i++)
			(void)PQcancel(v[i], errbuf, sizeof errbuf);
		_exit(0);
	}
	if (pid < 0) {
		char errbuf[256];
		for (size_t i = 0; i < n; i++)
			(void)PQcancel(v[i], errbuf, sizeof errbuf);
	} else {
		ps->cancellers = xrealloc(ps->cancellers, (ps->n_cancellers + 1) * sizeof *ps->cancellers);
		ps->cancellers[ps->n_cancellers++] = pid;
		/* Unwatched, it stays listed: closing the session waits for it. */
		(void)proc_watch(ps->sd->lp, pid, pgs_canceller_ended, ps, NULL);
	}
	for (size_t i = 0; i < n; i++)
		PQfreeCancel(v[i]);
}

static size_t pgs_count_state(pgs_side *ps, pgs_conn_state st)
{
	size_t n = 0;
	for (size_t i = 0; i < ps->n_conns; i++)
		if (ps->conns[i].st == st)
			n++;
	return n;
}

/* Counts in flight over time, so a finished count knows how many ran
 * beside it on average. */
static void pgs_in_flight_add(pgs_side *ps, int delta)
{
	double now = loop_now_ms();
	if (ps->in_flight_at > 0)
		ps->in_flight_area += (now - ps->in_flight_at) * ps->in_flight;
	if (ps->in_flight > 0 && ps->in_flight_at > 0)
		ps->sd->exact_busy_ms += now - ps->in_flight_at;   /* the load on the server */
	ps->in_flight_at = now;
	ps->in_flight += delta;
	if (ps->in_flight > ps->pace.max_seen)
		ps->pace.max_seen = ps->in_flight;
}

/* A count of pc ended: no longer in flight; a full answer also tells the
 * pace what the side's throughput was at that concurrency. */
static void pgs_count_ended(pgs_conn *pc, bool measured)
{
	pgs_side *ps = pc->ps;
	if (!pc->in_flight)
		return;
	pgs_in_flight_add(ps, 0);
	double ms = loop_now_ms() - pc->started_ms;
	if (measured && pc->rows >= 0 && ms > 0) {
		(void)pace_observe(&ps->pace, pc->rows, ms, (ps->in_flight_area - pc->area_at_start) / ms);
		ps->sd->exact_rows_total += pc->rows;
	}
	pc->in_flight = false;
	pgs_in_flight_add(ps, -1);
}

static bool pgs_has_work(pgs_side *ps)
{
	for (size_t i = 0; i < ps->n_tables; i++)
		if (ps->want_estimate[i] || ps->want_exact[i])
			return true;
	return false;
}

/* Fails every queued request: nothing can serve it now. */
static void pgs_fail_queued(pgs_side *ps, const char *err)
{
	for (size_t i = 0; i < ps->n_tables; i++) {
		if (ps->want_estimate[i] || ps->want_exact[i]) {
			ps->want_estimate[i] = ps->want_exact[i] = false;
			cmp_side_report(ps->sd->cs, ps->sd->which, i, -1, false, err);
		}
	}
}

static void pgs_retry_fire(loop *lp, void *ud);
static void pgs_conn_open(pgs_side *ps);

/* The side is unreachable: remember why, fail what waits, retry later. */
static void pgs_side_down(pgs_side *ps, const char *err)
{
	free(ps->down_err);
	ps->down_err = xstrdup(err);
	cmp_side_report_status(ps->sd->cs, ps->sd->which, false, err);
	ps->dispatch_depth++;
	pgs_fail_queued(ps, err);
	ps->dispatch_depth--;
	if (ps->retry_timer <= 0) {
		ps->backoff_ms = ps->backoff_ms ? ps->backoff_ms * 2 : PGS_BACKOFF_MIN_MS;
		if (ps->backoff_ms > PGS_BACKOFF_MAX_MS)
			ps->backoff_ms = PGS_BACKOFF_MAX_MS;
		ps->retry_timer = loop_timer(ps->sd->lp, ps->backoff_ms, pgs_retry_fire, ps);
	}
}

static void pgs_retry_fire(loop *lp, void *ud)
{
	pgs_side *ps = ud;
	ps->retry_timer = 0;
	if (pgs_count_state(ps, PGS_CONNECTING) + pgs_count_state(ps, PGS_READY) +
	    pgs_count_state(ps, PGS_BUSY) == 0)
		pgs_conn_open(ps);
}

static void pgs_connect_failed(pgs_conn *pc, const char *msg)
{
	pgs_side *ps = pc->ps;
	if (!ps->sd->server || strcmp(ps->sd->server, ps->sd->label) == 0) {
		free(ps->sd->server);
		ps->sd->server = pq_server(pc->conn);
	}
	char *err = pgs_error(ps, "", msg);
	pgs_conn_close(pc);
	/* Another live connection means the server is there (maybe out of
	 * connection slots): queued work waits for it. */
	if (pgs_count_state(ps, PGS_READY) + pgs_count_state(ps, PGS_BUSY) +
	    pgs_count_state(ps, PGS_CONNECTING) == 0)
		pgs_side_down(ps, err);
	free(err);
}

static void pgs_connect_timeout(loop *lp, void *ud)
{
	pgs_conn *pc = ud;
	pc->timer_id = 0;
	pgs_connect_failed(pc, "timeout expired while connecting");
}

static void pgs_ignore_notice(void *arg, const char *message)
{
}

static void pgs_conn_open(pgs_side *ps)
{
	pgs_conn *pc = NULL;
	for (size_t i = 0; i < ps->n_conns && !pc; i++)
		if (ps->conns[i].st == PGS_UNUSED)
			pc = &ps->conns[i];
	if (!pc)
		return;
	/* dbname carries the whole conninfo (expand_dbname); the keywords
	 * after it win over anything in it. */
	const char *const keys[] = {"dbname", "application_name", "options", NULL};
	const char *const vals[] = {ps->conninfo, PGS_APPLICATION_NAME, ps->options, NULL};
	pc->conn = PQconnectStartParams(keys, vals, 1);
	pc->fd = -1;
	if (!pc->conn) {
		pgs_side_down(ps, "out of memory starting a libpq connection");
		return;
	}
	/* libpq would print server notices on stderr; the loop owns the terminal. */
	PQsetNoticeProcessor(pc->conn, pgs_ignore_notice, NULL);
	if (strcmp(ps->sd->server, ps->sd->label) == 0 || !ps->sd->up) {
		free(ps->sd->server);
		ps->sd->server = pq_server(pc->conn);
	}
	if (PQstatus(pc->conn) == CONNECTION_BAD) {
		pc->st = PGS_CONNECTING;
		pgs_connect_failed(pc, PQerrorMessage(pc->conn));
		return;
	}
	pc->st = PGS_CONNECTING;
	pc->timer_id = loop_timer(ps->sd->lp, PGS_CONNECT_TIMEOUT_MS, pgs_connect_timeout, pc);
	/* libpq: behave as if the first PQconnectPoll said POLLING_WRITING. */
	pgs_watch(pc, POLLOUT);
}

static void pgs_connect_step(pgs_conn *pc)
{
	pgs_side *ps = pc->ps;
	switch (PQconnectPoll(pc->conn)) {
	case PGRES_POLLING_READING:
		pgs_watch(pc, POLLIN);
		return;
	case PGRES_POLLING_WRITING:
		pgs_watch(pc, POLLOUT);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		pgs_connect_failed(pc, PQerrorMessage(pc->conn));
		return;
	}
	if (pc->timer_id > 0)
		loop_timer_cancel(ps->sd->lp, pc->timer_id);
	pc->timer_id = 0;
	if (PQsetnonblocking(pc->conn, 1) != 0) {
		pgs_connect_failed(pc, PQerrorMessage(pc->conn));
		return;
	}
	pc->st = PGS_READY;
	pgs_watch(pc, POLLIN);   /* notice a server that goes away while idle */
	free(ps->sd->server);
	ps->sd->server = pq_server(pc->conn);
	free(ps->down_err);
	ps->down_err = NULL;
	ps->backoff_ms = 0;
	if (!ps->sd->up)
		cmp_side_report_status(ps->sd->cs, ps->sd->which, true, NULL);
	pgs_dispatch(ps);
}

/* ---- jobs ---- */

static int pgs_send(pgs_conn *pc, const char *sql)
{
	if (!PQsendQuery(pc->conn, sql))
		return -1;
	pc->st = PGS_BUSY;
	pc->got_result = false;
	int fl = PQflush(pc->conn);
	if (fl < 0)
		return -1;
	pc->flushing = fl == 1;
	pgs_watch(pc, pc->flushing ? (POLLIN | POLLOUT) : POLLIN);
	return 0;
}

/*
 * One query for the estimates of all wanted tables.  The live-tuple
 * statistic (n_live_tup) follows inserts as they commit (an import in
 * progress); reltuples is what ANALYZE saw, -1 when never analyzed.  The
 * statistics function rather than the pg_stat_all_tables view: the view
 * costs a fresh backend tens of milliseconds more to plan.
 */
static char *pgs_estimates_sql(pgs_conn *pc, char **err)
{
	strbuf sb;
	sb_init(&sb);
	sb_puts(&sb,
	        "SELECT t.i, c.oid IS NOT NULL, "
	        "CASE WHEN pg_catalog.pg_stat_get_live_tuples(c.oid) > 0 OR c.reltuples < 0 "
	        "THEN pg_catalog.pg_stat_get_live_tuples(c.oid) "
	        "WHEN c.reltuples >= 0 THEN c.reltuples::bigint END, "
	        "EXISTS (SELECT 1 FROM pg_catalog.pg_index x WHERE x.indrelid = c.oid AND x.indisprimary), "
	        "c.relpages, "
	        "pg_catalog.pg_stat_get_tuples_inserted(c.oid) + pg_catalog.pg_stat_get_tuples_updated(c.oid) "
	        "+ pg_catalog.pg_stat_get_tuples_deleted(c.oid) "
	        "FROM (VALUES ");
	for (size_t k = 0; k < pc->n_tables; k++) {
		size_t i = pc->tables[k];
		char *q = cmp_pg_quote_table(pc->conn, pc->ps->sd->cfg->tables[i].name);
		char *lit = q ? PQescapeLiteral(pc->conn, q, strlen(q)) : NULL;
		if (!lit) {
			*err = xasprintf("cannot quote table name %s", pc->ps->sd->cfg->tables[i].name);
			free(q);
			sb_free(&sb);
			return NULL;
		}
		sb_printf(&sb, "%s(%zu, %s)", k ? ", " : "", i, lit);
		PQfreemem(lit);
		free(q);
	}
	sb_puts(&sb, ") AS t(i, name) "
	        "LEFT JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t.name)");
	return sb_steal(&sb);
}

/* Starts the job a ready connection should do next; false when none. */
static bool pgs_start_job(pgs_side *ps, pgs_conn *pc)
{
	char *sql = NULL, *err = NULL;
	size_t n_est = 0;
	for (size_t i = 0; i < ps->n_tables; i++)
		n_est += ps->want_estimate[i];
	if (n_est > 0) {
		pc->job = PGS_JOB_ESTIMATES;
		free(pc->tables);
		pc->tables = xcalloc(n_est, sizeof *pc->tables);
		pc->n_tables = 0;
		for (size_t i = 0; i < ps->n_tables; i++)
			if (ps->want_estimate[i]) {
				pc->tables[pc->n_tables++] = i;
				ps->want_estimate[i] = false;
			}
		sql = pgs_estimates_sql(pc, &err);
	} else {
		if (ps->in_flight >= ps->pace.limit)
			return false;   /* as many at once as pay on this side */
		/* Biggest first: the longest count starts earliest. */
		size_t best = ps->n_tables;
		int queued = 0;
		for (size_t i = 0; i < ps->n_tables; i++) {
			queued += ps->want_exact[i];
			if (ps->want_exact[i] && (best == ps->n_tables || ps->estimate[i] > ps->estimate[best]))
				best = i;
		}
		if (best == ps->n_tables)
			return false;
		ps->want_exact[best] = false;
		pc->job = PGS_JOB_COUNT;
		pc->table = best;
		pc->rows = -1;
		bool parallel = pace_parallel(&ps->pace, ps->pages[best], ps->estimate[best],
		                              ps->in_flight, queued - 1);
		/* Only a change of plan costs a SET; TO DEFAULT is the server's
		 * (or the conninfo's) own setting. */
		const char *set = parallel == !pc->serial && !pc->plan_stale ? ""
		                  : parallel ? "SET max_parallel_workers_per_gather TO DEFAULT; "
		                  : "SET max_parallel_workers_per_gather = 0; ";
		char *q = cmp_pg_quote_table(pc->conn, ps->sd->cfg->tables[best].name);
		if (q) {
			sql = xasprintf("%sSELECT pg_catalog.count(*) FROM %s", set, q);
			pc->serial = !parallel;
			pc->plan_stale = false;
			ps->pace.n_parallel += parallel;
		} else {
			err = xasprintf("cannot quote table name %s", ps->sd->cfg->tables[best].name);
		}
		free(q);
	}
	pc->epoch = ps->epoch;
	if (sql && pgs_send(pc, sql) == 0) {
		free(sql);
		if (pc->job == PGS_JOB_COUNT) {
			pgs_in_flight_add(ps, 0);
			pc->started_ms = loop_now_ms();
			pc->area_at_start = ps->in_flight_area;
			pc->in_flight = true;
			pgs_in_flight_add(ps, 1);
		}
		return true;
	}
	free(sql);
	/* Could not even send: answer the job's tables with the reason. */
	char *msg = pgs_error(ps, "", err ? err : PQerrorMessage(pc->conn));
	free(err);
	bool bad = PQstatus(pc->conn) == CONNECTION_BAD;
	if (pc->job == PGS_JOB_ESTIMATES) {
		for (size_t k = 0; k < pc->n_tables; k++)
			cmp_side_report(ps->sd->cs, ps->sd->which, pc->tables[k], -1, false, msg);
	} else {
		cmp_side_report(ps->sd->cs, ps->sd->which, pc->table, -1, false, msg);
	}
	free(msg);
	pc->job = PGS_JOB_NONE;
	pc->st = PGS_READY;
	if (bad)
		pgs_conn_close(pc);
	return true;
}

/* Work the pool should have connections for: queued exact counts, the
 * estimates batch (one query), and -- while the estimates of an exact
 * refresh run -- the counts that will follow them, so those connections
 * are ready when the estimates arrive. */
static size_t pgs_expected_work(pgs_side *ps)
{
	size_t n = 0;
	bool estimates = false;
	for (size_t i = 0; i < ps->n_tables; i++) {
		n += ps->want_exact[i];
		estimates |= ps->want_estimate[i];
	}
	for (size_t i = 0; i < ps->n_conns; i++)
		if (ps->conns[i].st == PGS_BUSY && ps->conns[i].job == PGS_JOB_ESTIMATES &&
		    ps->conns[i].epoch == ps->epoch && cmp_refresh_exact(ps->sd->cs))
			n += ps->conns[i].n_tables;
	/* No more counts than the pace lets run at once. */
	size_t room = ps->pace.limit > ps->in_flight ? (size_t)(ps->pace.limit - ps->in_flight) : 0;
	if (n > room)
		n = room;
	return n + estimates;
}

static void pgs_dispatch(pgs_side *ps)
{
	if (ps->dispatch_depth > 0)
		return;
	ps->dispatch_depth++;
	for (size_t i = 0; i < ps->n_conns && pgs_has_work(ps); i++)
		if (ps->conns[i].st == PGS_READY)
			pgs_start_job(ps, &ps->conns[i]);
	size_t live = pgs_count_state(ps, PGS_READY) + pgs_count_state(ps, PGS_BUSY) +
	              pgs_count_state(ps, PGS_CONNECTING);
	if (pgs_has_work(ps) && live == 0 && ps->retry_timer > 0) {
		/* Down and waiting to retry: say so now rather than hang. */
		char *msg = xasprintf("%s (retrying in at most %d s)",
		                      ps->down_err ? ps->down_err : "unreachable",
		                      (ps->backoff_ms + 999) / 1000);
		pgs_fail_queued(ps, msg);
		free(msg);
	} else if (live > 0 || pgs_has_work(ps)) {
		/* Grow the pool while more work is expected than connections
		 * are free or coming.  The first connection alone serves the
		 * estimates: more backends starting at once on a fresh server
		 * would only delay them. */
		while (pgs_count_state(ps, PGS_UNUSED) > 0 &&
		       pgs_count_state(ps, PGS_CONNECTING) + pgs_count_state(ps, PGS_READY) <
		       pgs_expected_work(ps)) {
			size_t before = pgs_count_state(ps, PGS_UNUSED);
			pgs_conn_open(ps);
			if (pgs_count_state(ps, PGS_UNUSED) >= before)
				break;   /* failed at once (and reported) */
		}
	}
	ps->dispatch_depth--;
}

/* What a failed query's SQLSTATE says about the figure: a timeout or a
 * lock worth retrying, a table that is not there, or a failing server. */
static cmp_fail pgs_fail_kind(const PGresult *res)
{
	const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (!code)
		return CMP_FAIL_SERVER;
	if (strcmp(code, "57014") == 0 ||      /* query_canceled: statement_timeout */
	    strcmp(code, "55P03") == 0 ||      /* lock_not_available: lock_timeout */
	    strcmp(code, "40001") == 0 ||      /* serialization_failure */
	    strcmp(code, "40P01") == 0)        /* deadlock_detected */
		return CMP_FAIL_TIMEOUT;
	if (strcmp(code, "42P01") == 0)        /* undefined_table */
		return CMP_FAIL_MISSING;
	return CMP_FAIL_SERVER;
}

static void pgs_handle_result(pgs_conn *pc, PGresult *res)
{
	pgs_side *ps = pc->ps;
	cmp_side *sd = ps->sd;
	if (pc->got_result || pc->epoch != ps->epoch)
		return;   /* extra results, or a cancelled job */
	ExecStatusType rs = PQresultStatus(res);
	if (rs == PGRES_COMMAND_OK && pc->job == PGS_JOB_COUNT)
		return;   /* the SET before the count */
	pc->got_result = true;
	if (rs != PGRES_TUPLES_OK) {
		char *msg = pgs_error(ps, "", PQresultErrorMessage(res));
		cmp_fail kind = pgs_fail_kind(res);
		pc->plan_stale = true;
		if (pc->job == PGS_JOB_ESTIMATES)
			for (size_t k = 0; k < pc->n_tables; k++)
				cmp_side_report_fail(sd->cs, sd->which, pc->tables[k], kind, msg);
		else
			cmp_side_report_fail(sd->cs, sd->which, pc->table, kind, msg);
		free(msg);
		return;
	}
	if (pc->job == PGS_JOB_COUNT) {
		int64_t n = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
		if (n < 0) {
			char *msg = pgs_error(ps, "", "count(*) returned no row");
			cmp_side_report(sd->cs, sd->which, pc->table, -1, false, msg);
			free(msg);
		} else {
			pc->rows = n;
			cmp_side_report(sd->cs, sd->which, pc->table, n, true, NULL);
		}
		return;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		size_t i = (size_t)strtoull(PQgetvalue(res, r, 0), NULL, 10);
		if (i >= ps->n_tables)
			continue;
		if (strcmp(PQgetvalue(res, r, 1), "t") != 0) {
			char *what = xasprintf("table %s does not exist", sd->cfg->tables[i].name);
			char *msg = pgs_error(ps, "", what);
			cmp_side_report_fail(sd->cs, sd->which, i, CMP_FAIL_MISSING, msg);
			free(msg);
			free(what);
			continue;
		}
		cmp_side_report_pk(sd->cs, sd->which, i, strcmp(PQgetvalue(res, r, 3), "t") == 0);
		ps->pages[i] = PQgetisnull(res, r, 4) ? 0 : strtoll(PQgetvalue(res, r, 4), NULL, 10);
		if (!PQgetisnull(res, r, 5))
			cmp_side_report_writes(sd->cs, sd->which, i, strtoll(PQgetvalue(res, r, 5), NULL, 10));
		if (PQgetisnull(res, r, 2)) {
			/* No estimate (never analyzed, partitioned parent): count. */
			ps->estimate[i] = INT64_MAX;
			ps->want_exact[i] = true;
			continue;
		}
		int64_t est = strtoll(PQgetvalue(res, r, 2), NULL, 10);
		ps->estimate[i] = est;
		cmp_side_report(sd->cs, sd->which, i, est, false, NULL);
	}
}

/* The job is finished (all results read): the connection is free again. */
static void pgs_job_done(pgs_conn *pc)
{
	pgs_side *ps = pc->ps;
	if (!pc->got_result && pc->epoch == ps->epoch && pc->job != PGS_JOB_NONE) {
		char *msg = pgs_error(ps, "", "query returned no result");
		if (pc->job == PGS_JOB_COUNT)
			cmp_side_report(ps->sd->cs, ps->sd->which, pc->table, -1, false, msg);
		else
			for (size_t k = 0; k < pc->n_tables; k++)
				cmp_side_report(ps->sd->cs, ps->sd->which, pc->tables[k], -1, false, msg);
		free(msg);
	}
	pgs_count_ended(pc, pc->epoch == ps->epoch);
	pc->job = PGS_JOB_NONE;
	pc->st = PGS_READY;
	pgs_watch(pc, POLLIN);
}

/* The connection broke (server stopped, network gone). */
static void pgs_conn_lost(pgs_conn *pc, const char *why)
{
	pgs_side *ps = pc->ps;
	char *msg = pgs_error(ps, "", why);
	if (pc->st == PGS_BUSY && pc->epoch == ps->epoch && !pc->got_result) {
		if (pc->job == PGS_JOB_COUNT)
			cmp_side_report(ps->sd->cs, ps->sd->which, pc->table, -1, false, msg);
		else
			for (size_t k = 0; k < pc->n_tables; k++)
				cmp_side_report(ps->sd->cs, ps->sd->which, pc->tables[k], -1, false, msg);
	}
	pgs_conn_close(pc);
	if (pgs_count_state(ps, PGS_READY) + pgs_count_state(ps, PGS_BUSY) +
	    pgs_count_state(ps, PGS_CONNECTING) == 0) {
		free(ps->down_err);
		ps->down_err = xstrdup(msg);
		cmp_side_report_status(ps->sd->cs, ps->sd->which, false, msg);
	}
	free(msg);
}

static void pgs_conn_event(loop *lp, int fd, short revents, void *ud)
{
	pgs_conn *pc = ud;
	pgs_side *ps = pc->ps;
	ps->dispatch_depth++;
	if (pc->st == PGS_CONNECTING) {
		pgs_connect_step(pc);
		goto out;
	}
	if (pc->flushing && (revents & POLLOUT)) {
		int fl = PQflush(pc->conn);
		if (fl < 0) {
			pgs_conn_lost(pc, PQerrorMessage(pc->conn));
			goto out;
		}
		pc->flushing = fl == 1;
		if (!pc->flushing)
			pgs_watch(pc, POLLIN);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		goto out;
	if (!PQconsumeInput(pc->conn)) {
		pgs_conn_lost(pc, PQerrorMessage(pc->conn));
		goto out;
	}
	if (pc->st != PGS_BUSY) {
		/* Idle: only a notice or the server saying goodbye. */
		PGresult *res;
		while (!PQisBusy(pc->conn) && (res = PQgetResult(pc->conn)))
			PQclear(res);
		if (PQstatus(pc->conn) == CONNECTION_BAD)
			pgs_conn_lost(pc, PQerrorMessage(pc->conn));
		goto out;
	}
	while (!PQisBusy(pc->conn)) {
		PGresult *res = PQgetResult(pc->conn);
		if (!res) {
			pgs_job_done(pc);
			break;
		}
		pgs_handle_result(pc, res);
		PQclear(res);
	}
	if (pc->st == PGS_BUSY && PQstatus(pc->conn) == CONNECTION_BAD)
		pgs_conn_lost(pc, PQerrorMessage(pc->conn));
out:
	ps->dispatch_depth--;
	pgs_dispatch(ps);
}

/* ---- cmp_side_ops ---- */

static int pgs_start(cmp_side *sd, pgc_err *e)
{
	pgs_side *ps = sd->impl;
	pgs_conn_open(ps);
	return 0;
}

static void pgs_kick(loop *lp, void *ud)
{
	pgs_side *ps = ud;
	ps->kick_timer = 0;
	pgs_dispatch(ps);
}

static void pgs_request_count(cmp_side *sd, size_t table_idx, bool exact)
{
	pgs_side *ps = sd->impl;
	if (table_idx >= ps->n_tables)
		return;
	if (exact) {
		ps->want_exact[table_idx] = true;
		ps->want_estimate[table_idx] = false;
	} else {
		ps->want_estimate[table_idx] = true;
	}
	/* Dispatch once the caller's batch of requests is in: inside a result
	 * handler at its end, otherwise on the next loop round.  So estimates
	 * go out as one query and counts biggest first. */
	if (ps->dispatch_depth == 0 && ps->kick_timer <= 0)
		ps->kick_timer = loop_timer(sd->lp, 0, pgs_kick, ps);
}

static void pgs_cancel(cmp_side *sd)
{
	pgs_side *ps = sd->impl;
	ps->epoch++;
	memset(ps->want_estimate, 0, ps->n_tables * sizeof *ps->want_estimate);
	memset(ps->want_exact, 0, ps->n_tables * sizeof *ps->want_exact);
	PGcancel **v = xcalloc(ps->n_conns ? ps->n_conns : 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < ps->n_conns; i++)
		if (ps->conns[i].st == PGS_BUSY && (v[n] = PQgetCancel(ps->conns[i].conn)))
			n++;
	pgs_cancel_async(ps, v, n);   /* the loop does not wait for the round trips */
	free(v);
}

static void pgs_free(cmp_side *sd)
{
	pgs_side *ps = sd->impl;
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n_conns; i++) {
		if (ps->conns[i].st == PGS_BUSY)
			pgs_conn_cancel_query(&ps->conns[i]);
		pgs_conn_close(&ps->conns[i]);
	}
	if (ps->retry_timer > 0)
		loop_timer_cancel(sd->lp, ps->retry_timer);
	if (ps->kick_timer > 0)
		loop_timer_cancel(sd->lp, ps->kick_timer);
	for (size_t i = 0; i < ps->n_cancellers; i++) {   /* a round trip each, at most */
		if (!proc_unwatch(sd->lp, ps->cancellers[i], NULL))
			proc_wait(ps->cancellers[i], NULL);
	}
	free(ps->cancellers);
	free(ps->conns);
	free(ps->want_estimate);
	free(ps->want_exact);
	free(ps->estimate);
	free(ps->pages);
	sd->pace = NULL;
	free(ps->options);
	free(ps->conninfo);
	free(ps->down_err);
	free(ps);
	sd->impl = NULL;
}

static const cmp_side_ops pgs_ops = {
	.kind = "postgres",
	.start = pgs_start,
	.request_count = pgs_request_count,
	.cancel = pgs_cancel,
	.free = pgs_free,
};

int cmp_pg_side_init(cmp_side *sd, pgc_err *e)
{
	const char *conninfo = sd->ep->conninfo ? sd->ep->conninfo : "";
	char *perr = NULL;
	char *options = cmp_pg_session_options(conninfo, sd->cfg->statement_timeout_ms, &perr);
	if (!options) {
		int rc = pgc_fail(e, PGC_EXIT_CONFIG, "%s: %s conninfo: %s",
		                  sd->cfg->path ? sd->cfg->path : "config", sd->label, perr);
		free(perr);
		return rc;
	}
	pgs_side *ps = xcalloc(1, sizeof *ps);
	ps->sd = sd;
	ps->options = options;
	ps->conninfo = xstrdup(conninfo);
	ps->n_conns = sd->cfg->pool_size > 0 ? (size_t)sd->cfg->pool_size : CFG_DEFAULT_POOL;
	ps->conns = xcalloc(ps->n_conns, sizeof *ps->conns);
	for (size_t i = 0; i < ps->n_conns; i++) {
		ps->conns[i].ps = ps;
		ps->conns[i].fd = -1;
	}
	ps->n_tables = sd->cfg->n_tables;
	ps->want_estimate = xcalloc(ps->n_tables ? ps->n_tables : 1, sizeof *ps->want_estimate);
	ps->want_exact = xcalloc(ps->n_tables ? ps->n_tables : 1, sizeof *ps->want_exact);
	ps->estimate = xcalloc(ps->n_tables ? ps->n_tables : 1, sizeof *ps->estimate);
	ps->pages = xcalloc(ps->n_tables ? ps->n_tables : 1, sizeof *ps->pages);
	pace_init(&ps->pace, (int)ps->n_conns);
	sd->pace = &ps->pace;
	sd->impl = ps;
	sd->ops = &pgs_ops;
	return 0;
}
