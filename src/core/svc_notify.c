/*
 * svc_notify.c -- the console's webhook notifications as a service on the
 * loop: every second it looks for events appended since the last look (by
 * this console, a headless `tick` beside it, anyone) and hands them to the
 * one scanner, notify_scan().  Only the driver speaks for the migration:
 * when there is something new, the lease is asked (lease_check) and a
 * console whose lease was taken over skips it -- the new driver announces.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/notify.h"
#include "pgcutover/svc.h"

struct svc_notify {
	const config *cfg;
	const runbook *rb;
	state *st;
	lease *lease;
	loop *lp;
	notifier *n;
	int64_t after;             /* events up to this id were looked at */
	int timer_id;
	unsigned gen;
	char notice[320];
};

svc_notify *svc_notify_new(const config *cfg, const runbook *rb, state *st, lease *l)
{
	if (!cfg || !st || !notify_url(cfg, NULL))
		return NULL;
	svc_notify *sn = xcalloc(1, sizeof *sn);
	sn->cfg = cfg;
	sn->rb = rb;
	sn->st = st;
	sn->lease = l;
	return sn;
}

/* Whether this process still drives: a lease-less writer always does. */
static bool svc_notify_driving(svc_notify *sn)
{
	if (!sn->lease)
		return true;
	pgc_err e = {0};
	return lease_check(sn->lease, &e) == 1;
}

static void svc_notify_scan(svc_notify *sn)
{
	if (state_last_id(sn->st) <= sn->after)
		return;
	if (!svc_notify_driving(sn)) {
		sn->after = state_last_id(sn->st);
		return;
	}
	pgc_err e = {0};
	notify_scan(sn->n, sn->cfg, sn->rb, sn->st, &sn->after, 0, &e);
}

static void svc_notify_tick(loop *lp, void *ud)
{
	svc_notify *sn = ud;
	sn->timer_id = loop_timer(lp, SVC_NOTIFY_SCAN_MS, svc_notify_tick, sn);
	svc_notify_scan(sn);
	unsigned g = notify_generation(sn->n);
	if (g != sn->gen) {
		sn->gen = g;
		snprintf(sn->notice, sizeof sn->notice, "%s", notify_last_error(sn->n));
	}
}

void svc_notify_start(svc_notify *sn, loop *lp)
{
	if (!sn)
		return;
	sn->lp = lp;
	sn->n = notify_new(sn->cfg, lp);
	if (!sn->n)
		return;
	sn->after = state_last_id(sn->st);   /* history was announced when it happened */
	sn->timer_id = loop_timer(lp, SVC_NOTIFY_SCAN_MS, svc_notify_tick, sn);
}

void svc_notify_finish(svc_notify *sn)
{
	if (!sn)
		return;
	if (sn->n) {
		if (sn->timer_id)
			loop_timer_cancel(sn->lp, sn->timer_id);
		/* what happened last (a session's final phase_complete) still goes
		 * out, within the headless wait */
		svc_notify_scan(sn);
		notify_flush(sn->n, NOTIFY_FLUSH_MS);
		notify_free(sn->n);
	}
	free(sn);
}

const char *svc_notify_notice(const svc_notify *sn, unsigned *gen)
{
	*gen = sn ? sn->gen : 0;
	return sn ? sn->notice : "";
}
