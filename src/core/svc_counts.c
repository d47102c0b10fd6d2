/*
 * svc_counts.c -- the console's live row counts as a service on the loop:
 * one comparison session (compare.c), refreshed on an interval the
 * operator steps with < and >, a new refresh starting only once the last
 * one has finished (a refresh of big tables may take minutes).
 *
 * Kind to production: the first refresh counts every table exactly; the
 * periodic ones are estimates (one catalog query per side) plus exact
 * re-counts within a load budget -- at most counts_budget_pct (default
 * 10 %, + and - step it) of wall time per side with a count running,
 * measured by the driver (cmp_side.exact_busy_ms) -- smallest and most
 * recently written tables first.  A table whose write counters have not
 * moved since its last exact count keeps that count (compare.c) and is
 * not scanned again.  Gates read recorded exact counts only: the console
 * takes them when a gated phase is completed on estimates (as e does),
 * headless `pgcutover counts --exact` does.  Snapshots
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
static const int svc_budgets[] = SVC_COUNTS_BUDGETS;
#define SVC_N_BUDGETS (sizeof svc_budgets / sizeof svc_budgets[0])
#define SVC_PCT 100.0

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
	int budget_pct;         /* share of wall time exact re-counts may take per side */
	double tokens_ms[CMP_N_SIDES];    /* count time each side may still spend */
	double busy_seen_ms[CMP_N_SIDES]; /* its exact_busy_ms already charged */
	double budget_at_ms;    /* loop_now_ms() of the last accrual */
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
	sc->budget_pct = cfg->counts_budget_pct;
	return sc;
}

/* Adds the budget earned since the last call, less the count time each
 * side has spent; at most SVC_COUNTS_BUDGET_WINDOW_MS of budget is saved. */
static void svc_counts_accrue(svc_counts *sc)
{
	double now = loop_now_ms(), share = sc->budget_pct / SVC_PCT;
	for (int w = 0; w < CMP_N_SIDES; w++) {
		const cmp_side *sd = cmp_side_at(sc->cs, (cmp_which)w);
		if (sc->budget_at_ms > 0)
			sc->tokens_ms[w] += share * (now - sc->budget_at_ms);
		sc->tokens_ms[w] -= sd->exact_busy_ms - sc->busy_seen_ms[w];
		sc->busy_seen_ms[w] = sd->exact_busy_ms;
		if (sc->tokens_ms[w] > share * SVC_COUNTS_BUDGET_WINDOW_MS)
			sc->tokens_ms[w] = share * SVC_COUNTS_BUDGET_WINDOW_MS;
	}
	sc->budget_at_ms = now;
}

typedef struct svc_cand {
	size_t idx;
	int64_t rows;
	double written_at;
} svc_cand;

static int svc_cand_cmp(const void *a, const void *b)
{
	const svc_cand *x = a, *y = b;
	if (x->rows != y->rows)
		return x->rows < y->rows ? -1 : 1;
	if (x->written_at != y->written_at)
		return x->written_at > y->written_at ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

size_t svc_counts_pick(const cmp_session *cs, const double avail_ms[CMP_N_SIDES], bool *out)
{
	size_t n = cmp_n_tables(cs), n_cand = 0, picked = 0;
	svc_cand *cand = xcalloc(n ? n : 1, sizeof *cand);
	for (size_t i = 0; i < n; i++) {
		const cmp_table *t = cmp_table_at(cs, i);
		out[i] = false;
		/* Counted exactly on both sides, write counters known and not
		 * moved since: kept, or waiting out the stats delay before it can
		 * be.  (A side without counters, REST, is counted again.) */
		const cmp_figure *fs = &t->side[CMP_SOURCE], *fg = &t->side[CMP_TARGET];
		if (fs->exact_at > 0 && fs->exact_writes >= 0 && fg->exact_at > 0 && fg->exact_writes >= 0)
			continue;
		int64_t rows = fs->rows > fg->rows ? fs->rows : fg->rows;
		if (rows < 0)
			continue;   /* no estimate yet (or a failure): not this time */
		double written = fs->writes_moved_at > fg->writes_moved_at ? fs->writes_moved_at : fg->writes_moved_at;
		cand[n_cand++] = (svc_cand){i, rows, written};
	}
	qsort(cand, n_cand, sizeof *cand, svc_cand_cmp);
	double left[CMP_N_SIDES], rate[CMP_N_SIDES];
	for (int w = 0; w < CMP_N_SIDES; w++) {
		const cmp_side *sd = cmp_side_at(cs, (cmp_which)w);
		left[w] = avail_ms[w];
		rate[w] = sd->exact_busy_ms > 0 && sd->exact_rows_total > 0
		          ? (double)sd->exact_rows_total / sd->exact_busy_ms : SVC_COUNTS_ASSUMED_ROWS_PER_MS;
	}
	for (size_t k = 0; k < n_cand; k++) {
		double cost[CMP_N_SIDES];
		bool fits = true;
		for (int w = 0; w < CMP_N_SIDES; w++) {
			cost[w] = (double)cand[k].rows / rate[w] + SVC_COUNTS_COUNT_OVERHEAD_MS;
			fits &= cost[w] <= left[w];
		}
		if (!fits)
			continue;
		for (int w = 0; w < CMP_N_SIDES; w++)
			left[w] -= cost[w];
		out[cand[k].idx] = true;
		picked++;
	}
	free(cand);
	return picked;
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
	if (cmp_snapshot_complete(sc->cs)) {
		svc_counts_accrue(sc);
		size_t n = cmp_n_tables(sc->cs);
		bool *exact = xcalloc(n ? n : 1, sizeof *exact);
		(void)svc_counts_pick(sc->cs, sc->tokens_ms, exact);
		cmp_refresh_some(sc->cs, exact);
		free(exact);
	}
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
	sc->budget_at_ms = loop_now_ms();   /* this first count is charged too */
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
			snprintf(msg, n, "counts refresh every %d s (> slower, < faster)", secs);
		else
			snprintf(msg, n, "automatic counts refresh off (r refreshes, < turns it back on)");
		return 0;
	}
	case SVC_COUNTS_BUDGET_UP:
	case SVC_COUNTS_BUDGET_DOWN: {
		int pct = sc->budget_pct;
		if (op == SVC_COUNTS_BUDGET_UP) {
			for (size_t i = 0; i < SVC_N_BUDGETS; i++)
				if (svc_budgets[i] > sc->budget_pct) {
					pct = svc_budgets[i];
					break;
				}
		} else {
			for (size_t i = SVC_N_BUDGETS; i-- > 0;)
				if (svc_budgets[i] < sc->budget_pct) {
					pct = svc_budgets[i];
					break;
				}
		}
		svc_counts_accrue(sc);   /* what was earned so far, at the old rate */
		sc->budget_pct = pct;
		if (pct > 0)
			snprintf(msg, n, "exact re-counts: at most %d%% of each server's time (+ more, - less)", pct);
		else
			snprintf(msg, n, "exact re-counts off: estimates only (e counts every table; + turns them back on)");
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

int svc_counts_budget(const svc_counts *sc)
{
	return sc->budget_pct;
}

const char *svc_counts_error(const svc_counts *sc)
{
	return sc->error;
}
