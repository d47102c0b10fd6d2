/*
 * syncwatch.c -- the final sync's state (syncwatch.h): subscriptions on
 * the target, their slots on the source, lag against the source's
 * pg_current_wal_lsn(), and "caught up" against the LSN taken after the
 * freeze.  Called by `pgcutover sync` (cmd_sync.c); the go board reads
 * the recorded verdict.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/syncwatch.h"
#include "pgcutover/pqtext.h"
#include "pgcutover/schema.h"

enum { SS_NAME, SS_ENABLED, SS_SLOT, SS_COPYING, SS_SYNCED, SS_READY, SS_OTHER, SS_END_TIME };

static int sync_fail(PGconn *c, PGresult *res, const char *what, pgc_err *e)
{
	char *m = pq_oneline(PQresultErrorMessage(res));
	pgc_fail(e, sch_query_exit_code(c, res), "%s: %s", what, m);
	free(m);
	PQclear(res);
	return -1;
}

static char *sync_str(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : pgc_sanitize(PQgetvalue(res, r, c));
}

/* The slot's state and the lags of one subscription, on the source. */
static int sync_slot(PGconn *src, sync_sub *s, const char *cur, const char *post, double end_time, double now,
                     pgc_err *e)
{
	const char *params[3] = {s->slot, cur, post ? post : cur};
	PGresult *res = PQexecParams(src,
		"SELECT active, wal_status, pg_catalog.pg_wal_lsn_diff($2::pg_lsn, restart_lsn)::bigint, "
		"confirmed_flush_lsn::text, pg_catalog.pg_wal_lsn_diff($2::pg_lsn, confirmed_flush_lsn)::bigint, "
		"confirmed_flush_lsn >= $3::pg_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
		3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return sync_fail(src, res, "source: reading replication slots", e);
	s->lag_bytes = -1;
	s->lag_s = -1;
	if (PQntuples(res) == 1) {
		s->slot_found = true;
		s->slot_active = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		s->wal_status = sync_str(res, 0, 1);
		s->retained_bytes = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		s->confirmed_lsn = sync_str(res, 0, 3);
		if (!PQgetisnull(res, 0, 4)) {
			s->lag_bytes = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
			if (s->lag_bytes < 0)
				s->lag_bytes = 0;
			s->lag_s = s->lag_bytes == 0 ? 0 : end_time > 0 ? now - end_time : -1;
		}
		s->past_freeze = post && strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	}
	PQclear(res);
	return 0;
}

static void sync_verdict(sync_report *r)
{
	size_t behind = 0, copying = 0, missing = 0;
	int64_t lag = 0;
	for (size_t i = 0; i < r->n_subs; i++) {
		const sync_sub *s = &r->subs[i];
		behind += !s->past_freeze;
		copying += (size_t)(s->n_copying + s->n_synced + s->n_other);
		missing += !s->slot_found;
		if (s->lag_bytes > lag)
			lag = s->lag_bytes;
	}
	r->caught_up = r->post_freeze_lsn && behind == 0 && copying == 0 && missing == 0;
	if (!r->post_freeze_lsn)
		snprintf(r->words, sizeof r->words, "no freeze proven: lag %lld bytes, not caught up", (long long)lag);
	else if (missing)
		snprintf(r->words, sizeof r->words, "%zu subscription%s without a slot on the source", missing,
		         missing == 1 ? "" : "s");
	else if (r->caught_up)
		snprintf(r->words, sizeof r->words, "caught up: the target confirmed %s, after the freeze", r->post_freeze_lsn);
	else
		snprintf(r->words, sizeof r->words, "not caught up: %zu subscription%s before %s (lag %lld bytes), "
		         "%zu table%s not ready", behind, behind == 1 ? "" : "s", r->post_freeze_lsn, (long long)lag,
		         copying, copying == 1 ? "" : "s");
}

int sync_check(PGconn *src, PGconn *dst, bool freeze_proven, const char *post_freeze_lsn, sync_report *out,
               pgc_err *e)
{
	memset(out, 0, sizeof *out);
	PGresult *res = PQexec(dst,
		"SELECT s.subname, s.subenabled, s.subslotname, "
		"count(*) FILTER (WHERE r.srsubstate IN ('i', 'd')), count(*) FILTER (WHERE r.srsubstate IN ('f', 's')), "
		"count(*) FILTER (WHERE r.srsubstate = 'r'), "
		"count(r.srsubstate) FILTER (WHERE r.srsubstate NOT IN ('i', 'd', 'f', 's', 'r')), "
		"(SELECT extract(epoch FROM max(st.latest_end_time)) FROM pg_catalog.pg_stat_subscription st "
		"WHERE st.subid = s.oid) "
		"FROM pg_catalog.pg_subscription s LEFT JOIN pg_catalog.pg_subscription_rel r ON r.srsubid = s.oid "
		"WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) "
		"GROUP BY s.oid, s.subname, s.subenabled, s.subslotname ORDER BY 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return sync_fail(dst, res, "target: reading subscriptions", e);
	int rows = PQntuples(res);
	out->logical = rows > 0;
	if (!out->logical) {
		PQclear(res);
		return 0;
	}
	PGresult *cur = PQexec(src, "SELECT pg_catalog.pg_current_wal_lsn()::text");
	if (PQresultStatus(cur) != PGRES_TUPLES_OK || PQntuples(cur) != 1) {
		PQclear(res);
		return sync_fail(src, cur, "source: reading pg_current_wal_lsn()", e);
	}
	out->source_lsn = xstrdup(PQgetvalue(cur, 0, 0));
	PQclear(cur);
	if (post_freeze_lsn)
		out->post_freeze_lsn = xstrdup(post_freeze_lsn);
	else if (freeze_proven)
		out->post_freeze_lsn = xstrdup(out->source_lsn);
	out->subs = xcalloc((size_t)rows, sizeof *out->subs);
	out->n_subs = (size_t)rows;
	double now = pgc_now();
	for (int i = 0; i < rows; i++) {
		sync_sub *s = &out->subs[i];
		s->name = sync_str(res, i, SS_NAME);
		s->enabled = strcmp(PQgetvalue(res, i, SS_ENABLED), "t") == 0;
		s->slot = sync_str(res, i, SS_SLOT);
		s->n_copying = atoi(PQgetvalue(res, i, SS_COPYING));
		s->n_synced = atoi(PQgetvalue(res, i, SS_SYNCED));
		s->n_ready = atoi(PQgetvalue(res, i, SS_READY));
		s->n_other = atoi(PQgetvalue(res, i, SS_OTHER));
		double end = PQgetisnull(res, i, SS_END_TIME) ? 0 : strtod(PQgetvalue(res, i, SS_END_TIME), NULL);
		if (s->slot && sync_slot(src, s, out->source_lsn, out->post_freeze_lsn, end, now, e) < 0) {
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	sync_verdict(out);
	return 0;
}

void sync_report_free(sync_report *r)
{
	for (size_t i = 0; i < r->n_subs; i++) {
		free(r->subs[i].name);
		free(r->subs[i].slot);
		free(r->subs[i].wal_status);
		free(r->subs[i].confirmed_lsn);
	}
	free(r->subs);
	free(r->source_lsn);
	free(r->post_freeze_lsn);
	memset(r, 0, sizeof *r);
}

void sync_script_verdict(sync_report *r, bool counts_equal, double counts_at, double freeze_at)
{
	r->caught_up = counts_equal && freeze_at > 0 && counts_at >= freeze_at;
	if (freeze_at == 0)
		snprintf(r->words, sizeof r->words, "script sync (no subscription): no freeze proven yet");
	else if (counts_at < freeze_at)
		snprintf(r->words, sizeof r->words, "script sync (no subscription): no exact counts after the freeze");
	else
		snprintf(r->words, sizeof r->words, "script sync (no subscription): counts after the freeze %s",
		         counts_equal ? "equal" : "NOT equal");
}

bool sync_stalled(const sync_report *prev, const sync_report *now)
{
	if (!prev || !now->logical || now->caught_up || prev->n_subs != now->n_subs)
		return false;
	for (size_t i = 0; i < now->n_subs; i++) {
		const sync_sub *a = &prev->subs[i], *b = &now->subs[i];
		if (b->lag_bytes <= 0)
			continue;
		if (!a->confirmed_lsn || !b->confirmed_lsn || strcmp(a->confirmed_lsn, b->confirmed_lsn) != 0)
			return false;   /* moved */
	}
	for (size_t i = 0; i < now->n_subs; i++)
		if (now->subs[i].lag_bytes > 0)
			return true;
	return false;
}
