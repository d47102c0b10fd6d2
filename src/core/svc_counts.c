/*
 * svc_counts.c -- the console's live row counts as a service on the loop:
 * one comparison session (compare.c), refreshed on an interval the
 * operator steps with + and -, a new refresh starting only once the last
 * one has finished (a refresh of big tables may take minutes).  Snapshots
 * are recorded by the session itself (cmp_session_set_state), the same
 * path as `pgcutover counts`; the lease's write guard refuses them once
 * another process drives, and then this service stops recording.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/svc.h"

#define MS_PER_S 1000

static const int svc_intervals[] = SVC_COUNTS_INTERVALS;
#define SVC_N_INTERVALS (sizeof svc_intervals / sizeof svc_intervals[0])

struct svc_counts {
	const config *cfg;
	state *st;
	bool record;
	lease *lease;
	const cmp_side_init_fn *init;   /* the sides' drivers, NULL: by endpoint */
	cmp_session *cs;
	loop *lp;
	size_t interval;        /* index in svc_intervals */
	int timer_id;           /* the interval's timer, 0 = none */
	char error[PGC_ERR_MAX];
};

svc_counts *svc_counts_new(const config *cfg, state *st, bool record, lease *l)
{
	return svc_counts_new_with(cfg, st, record, l, NULL);
}

svc_counts *svc_counts_new_with(const config *cfg, state *st, bool record, lease *l,
                                const cmp_side_init_fn init[CMP_N_SIDES])
{
	svc_counts *sc = xcalloc(1, sizeof *sc);
	sc->init = init;
	sc->cfg = cfg;
	sc->st = st;
	sc->record = record && st;
	sc->lease = l;
	sc->interval = SVC_COUNTS_DEFAULT_INTERVAL;
	return sc;
}

static void svc_counts_tick(loop *lp, void *ud);

/* (Re)arms the interval timer for the current interval; off: none. */
static void svc_counts_arm(svc_counts *sc)
{
	if (sc->timer_id)
		loop_timer_cancel(sc->lp, sc->timer_id);
	sc->timer_id = 0;
	int secs = svc_intervals[sc->interval];
	if (secs > 0)
		sc->timer_id = loop_timer(sc->lp, secs * MS_PER_S, svc_counts_tick, sc);
}

static void svc_counts_tick(loop *lp, void *ud)
{
	(void)lp;
	svc_counts *sc = ud;
	sc->timer_id = 0;
	if (cmp_snapshot_complete(sc->cs))
		cmp_refresh(sc->cs, true);
	svc_counts_arm(sc);
}

static void svc_counts_on_snapshot(cmp_session *cs, bool snapshot_done, void *ud)
{
	svc_counts *sc = ud;
	if (!snapshot_done || !sc->record)
		return;
	/* Another process drives now: its snapshots are the record.  Not an
	 * error to show; this console is a monitor from here on. */
	if (lease_lost(sc->lease)) {
		cmp_session_set_state(cs, NULL);
		sc->record = false;
		sc->error[0] = '\0';
		return;
	}
	const char *why = cmp_record_error(cs);
	if (why)
		snprintf(sc->error, sizeof sc->error, "counts NOT recorded: %.900s", why);
	else
		sc->error[0] = '\0';
}

void svc_counts_start(svc_counts *sc, loop *lp)
{
	pgc_err e = {0};
	sc->lp = lp;
	sc->cs = cmp_session_new_with(sc->cfg, lp, sc->init, &e);
	if (sc->cs) {
		cmp_session_set_listener(sc->cs, svc_counts_on_snapshot, sc);
		if (sc->record)
			cmp_session_set_state(sc->cs, sc->st);
	}
	if (!sc->cs || cmp_start(sc->cs, &e) < 0) {
		snprintf(sc->error, sizeof sc->error, "%s", e.msg[0] ? e.msg : "counts unavailable");
		return;
	}
	/* the recorded history gives the sparkline and rows/s from the start */
	if (sc->st && cmp_session_load_history(sc->cs, sc->st, &e) < 0)
		snprintf(sc->error, sizeof sc->error, "history not loaded: %.900s", e.msg);
	cmp_refresh(sc->cs, true);   /* estimates first, exact counts replace them */
	svc_counts_arm(sc);
}

void svc_counts_stop(svc_counts *sc)
{
	if (!sc)
		return;
	if (sc->timer_id)
		loop_timer_cancel(sc->lp, sc->timer_id);
	sc->timer_id = 0;
	cmp_session_free(sc->cs);   /* cancels what is in flight, unwatches its sockets */
	sc->cs = NULL;
}

void svc_counts_free(svc_counts *sc)
{
	if (!sc)
		return;
	svc_counts_stop(sc);
	free(sc);
}

int svc_counts_do(svc_counts *sc, svc_counts_op op, char *msg, size_t n)
{
	if (!sc->cs) {
		snprintf(msg, n, "counts unavailable: %s", sc->error[0] ? sc->error : "no comparison running");
		return -1;
	}
	switch (op) {
	case SVC_COUNTS_REFRESH:
	case SVC_COUNTS_EXACT: {
		bool exact = op == SVC_COUNTS_EXACT;
		bool was_running = !cmp_snapshot_complete(sc->cs);
		cmp_refresh(sc->cs, exact);   /* cancels what is in flight */
		svc_counts_arm(sc);           /* the interval counts from now */
		snprintf(msg, n, "%s%s", exact ? "exact counts (count(*) of every table) asked"
		                                : "counts refresh asked (estimates, then exact where cheap)",
		         was_running ? "; the refresh in flight was cancelled" : "");
		return 0;
	}
	case SVC_COUNTS_FASTER:
	case SVC_COUNTS_SLOWER: {
		size_t i = sc->interval;
		if (op == SVC_COUNTS_SLOWER && i + 1 < SVC_N_INTERVALS)
			i++;
		else if (op == SVC_COUNTS_FASTER && i > 0)
			i--;
		sc->interval = i;
		svc_counts_arm(sc);
		int secs = svc_intervals[i];
		if (secs > 0)
			snprintf(msg, n, "counts refresh every %d s (+ slower, - faster)", secs);
		else
			snprintf(msg, n, "automatic counts refresh off (r refreshes, - turns it back on)");
		return 0;
	}
	}
	return -1;
}

const cmp_session *svc_counts_session(const svc_counts *sc)
{
	return sc->cs;
}

int svc_counts_interval(const svc_counts *sc)
{
	return svc_intervals[sc->interval];
}

const char *svc_counts_error(const svc_counts *sc)
{
	return sc->error;
}
