/*
 * rehearsal.c -- a rehearsal's timings as the live run's plan (see
 * rehearsal.h).  Everything comes from the rehearsal's final ledger: each
 * done item's done_at, each phase's started_at and completed_at.  An item's
 * rehearsal duration is the time since the previous tick in its phase (or
 * the phase's start), which is what an operator means by "that step took
 * 12 minutes last time".  Callers: cmd_rehearsal.c, the console header.
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/rehearsal.h"
#include "pgcutover/evpay.h"

static double first_tick(const ledger *lg, size_t n)
{
	double first = 0;
	for (size_t i = 0; i < n; i++)
		if (lg->items[i].done && lg->items[i].done_at > 0 && (first == 0 || lg->items[i].done_at < first))
			first = lg->items[i].done_at;
	return first;
}

int rehearsal_mark(state *st, const config *cfg, const char *note, int64_t *mark_id, pgc_err *e)
{
	st_event *ev = NULL;
	int have = state_last_of_kind(st, EV_REHEARSAL, &ev, e);
	if (have == 1)
		*mark_id = ev->id;
	st_event_free(ev);
	if (have != 0)
		return have;
	char *pl = evp_rehearsal_write(cfg, note);
	int rc = state_append(st, EV_REHEARSAL, NULL, NULL, pl, mark_id, e);
	free(pl);
	return rc < 0 ? -1 : 0;
}

int rehearsal_plan_from(const runbook *rb, const char *path, rh_plan **out, pgc_err *e)
{
	*out = NULL;
	state *st = NULL;
	if (state_open(path, STATE_OPEN_READONLY, &st, e) < 0)
		return -1;
	ledger *lg = NULL;
	int64_t last = state_last_id(st);
	if (last < 0 || ledger_build_at(rb, st, last, &lg, e) < 0) {
		state_close(st);
		return last < 0 ? pgc_fail(e, PGC_EXIT_IOERR, "%s: cannot read the log", path) : -1;
	}
	st_event *mark = NULL;
	int marked = state_last_of_kind(st, EV_REHEARSAL, &mark, NULL);
	st_event_free(mark);
	state_close(st);

	rh_plan *p = xcalloc(1, sizeof *p);
	p->n_items = lg->phase_offset[rb->n_phases];
	p->item_s = xcalloc(p->n_items ? p->n_items : 1, sizeof *p->item_s);
	p->item_offset_s = xcalloc(p->n_items ? p->n_items : 1, sizeof *p->item_offset_s);
	p->phase_s = xcalloc(rb->n_phases ? rb->n_phases : 1, sizeof *p->phase_s);
	p->marked = marked == 1;
	p->source = xstrdup(path);
	double t0 = first_tick(lg, p->n_items), tmax = t0;
	bool *seen = xcalloc(p->n_items ? p->n_items : 1, sizeof *seen);
	for (size_t ph = 0; ph < rb->n_phases; ph++) {
		const lg_phase *lp = &lg->phases[ph];
		p->phase_s[ph] = lp->started_at > 0 && lp->completed_at > 0 ? lp->completed_at - lp->started_at : -1;
		/* Items in the order they were ticked, not the file's order. */
		double prev = lp->started_at;
		for (;;) {
			size_t best = SIZE_MAX;
			for (size_t i = lg->phase_offset[ph]; i < lg->phase_offset[ph + 1]; i++) {
				const lg_item *it = &lg->items[i];
				if (it->done && it->done_at > 0 && !seen[i] &&
				    (best == SIZE_MAX || it->done_at < lg->items[best].done_at))
					best = i;
			}
			if (best == SIZE_MAX)
				break;
			double at = lg->items[best].done_at;
			p->item_s[best] = prev > 0 && at >= prev ? at - prev : 0;
			p->item_offset_s[best] = at - t0;
			seen[best] = true;
			if (at > tmax)
				tmax = at;
			prev = at;
		}
		for (size_t i = lg->phase_offset[ph]; i < lg->phase_offset[ph + 1]; i++)
			if (!lg->items[i].done || lg->items[i].done_at <= 0)
				p->item_s[i] = p->item_offset_s[i] = -1;
	}
	p->total_s = t0 > 0 ? tmax - t0 : 0;
	free(seen);
	ledger_free(lg);
	*out = p;
	return 0;
}

void rehearsal_plan_free(rh_plan *p)
{
	if (!p)
		return;
	free(p->item_s);
	free(p->item_offset_s);
	free(p->phase_s);
	free(p->source);
	free(p);
}

int rehearsal_compare(const rh_plan *p, const ledger *live, double *delta_s, double *projected_end)
{
	size_t n = live->phase_offset[live->rb->n_phases];
	if (n != p->n_items)
		return -1;
	double t0 = first_tick(live, n), latest = 0;
	size_t at = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		if (live->items[i].done && live->items[i].done_at > latest && p->item_offset_s[i] >= 0) {
			latest = live->items[i].done_at;
			at = i;
		}
	if (at == SIZE_MAX || t0 <= 0)
		return -1;
	*delta_s = (latest - t0) - p->item_offset_s[at];
	*projected_end = t0 + p->total_s + *delta_s;
	return 0;
}

int rehearsal_downtime_end(const rh_plan *p, const ledger *live, size_t phase, size_t step, double *end)
{
	const runbook *rb = live->rb;
	double delta, projected;
	if (phase >= rb->n_phases || rehearsal_compare(p, live, &delta, &projected) < 0)
		return -1;
	const rb_phase *ph = &rb->phases[phase];
	if (step >= ph->n_steps)
		return -1;
	/* the window's step and the steps nested under it */
	size_t s_end = step + 1;
	while (s_end < ph->n_steps && ph->steps[s_end].level > ph->steps[step].level)
		s_end++;
	double last = -1;
	for (size_t i = 0; i < ph->n_items; i++) {
		size_t k = live->phase_offset[phase] + i;
		if (ph->items[i].step >= (int)step && ph->items[i].step < (int)s_end && p->item_offset_s[k] > last)
			last = p->item_offset_s[k];
	}
	if (last < 0)
		return -1;
	double t0 = projected - p->total_s - delta;   /* the live run's first tick */
	*end = t0 + last + delta;
	return 0;
}
