/*
 * rehearsal.h -- a rehearsal's timings as the plan for the live run.  A
 * state is marked a rehearsal by an EV_REHEARSAL event (`pgcutover rehearsal
 * mark`); a live run loads one (`--plan-from STATE`) and gets, per item, how
 * long it took in rehearsal (from the previous tick in its phase, or the
 * phase's start) and where in the rehearsal's timeline it was done, so the
 * live run can be shown ahead of or behind the rehearsal with a projected
 * end.  Used by `pgcutover rehearsal` and the console's header.
 */
#ifndef PGCUTOVER_REHEARSAL_H
#define PGCUTOVER_REHEARSAL_H

#include "pgcutover/config.h"
#include "pgcutover/ledger.h"

#define EV_REHEARSAL "rehearsal"   /* payload: {"note":..} */

typedef struct rh_plan {
	size_t n_items;        /* as in the ledger: phase-major runbook order */
	double *item_s;        /* seconds the item took in rehearsal; -1 not done there */
	double *item_offset_s; /* seconds from the rehearsal's first tick to its tick; -1 */
	double *phase_s;       /* rb->n_phases: started..completed; -1 unknown */
	double total_s;        /* first tick to last tick */
	bool marked;           /* the state carries an EV_REHEARSAL event */
	char *source;
} rh_plan;

/* Marks st a rehearsal: appends EV_REHEARSAL with note (may be NULL; masked
 * with cfg's secrets) unless it already is one.  1 already marked
 * (*mark_id: that event's id), 0 marked now, -1 on error. */
int rehearsal_mark(state *st, const config *cfg, const char *note, int64_t *mark_id, pgc_err *e);

/* Reads the rehearsal state at path (read-only) over rb, the live run's
 * runbook (items are matched by id and text hash like any ledger). */
int rehearsal_plan_from(const runbook *rb, const char *path, rh_plan **out, pgc_err *e);
void rehearsal_plan_free(rh_plan *p);

/* Live vs rehearsal at the live run's latest tick: *delta_s > 0 behind,
 * < 0 ahead; *projected_end the live time the last rehearsed item would be
 * done at this pace offset.  0 when computed, -1 when nothing comparable was
 * done yet. */
int rehearsal_compare(const rh_plan *p, const ledger *live, double *delta_s, double *projected_end);

/* The live time the downtime would end at this pace: when the rehearsal's
 * last tick in the cutover window's step (phase, step and the steps nested
 * under it) came, shifted by the live run's delta.  0 computed, -1 when
 * the rehearsal ticked nothing there or nothing is comparable yet. */
int rehearsal_downtime_end(const rh_plan *p, const ledger *live, size_t phase, size_t step, double *end);

#endif
