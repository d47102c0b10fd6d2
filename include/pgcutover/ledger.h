/*
 * ledger.h -- the derived state: folds the event log over the runbook into
 * what is ticked, by whom and when, notes, phase status and durations.  The
 * console, `status` and replay all read a ledger; nothing else interprets
 * events.  ledger_apply() takes one event at a time so a follower (monitor)
 * or replay cursor can advance incrementally.
 */
#ifndef PGCUTOVER_LEDGER_H
#define PGCUTOVER_LEDGER_H

#include "pgcutover/runbook.h"
#include "pgcutover/state.h"

typedef struct lg_note {
	double ts;
	char *operator_name;
	char *text;
} lg_note;

typedef struct lg_item {
	bool done;
	double done_at;           /* 0 when not done or done in the file */
	char *done_by;            /* NULL when from the file's [x] */
	lg_note *notes; size_t n_notes;
	bool changed_in_runbook;  /* hash differs from the one ticked */
} lg_item;

typedef enum lg_phase_status {
	LG_PHASE_NOT_STARTED,
	LG_PHASE_IN_PROGRESS,
	LG_PHASE_DONE,
	LG_PHASE_ROLLED_BACK,
} lg_phase_status;

typedef struct lg_phase {
	lg_phase_status status;
	int done, total;
	double started_at;        /* first tick in the phase */
	double completed_at;      /* phase_complete event */
} lg_phase;

typedef struct ledger {
	const runbook *rb;
	lg_item *items;           /* indexed like runbook order: phase-major */
	lg_phase *phases;         /* rb->n_phases */
	size_t *phase_offset;     /* index of a phase's first item in items */
	int64_t last_event_id;
	double last_event_ts;
	lg_note *general_notes; size_t n_general_notes;
	/* last counts snapshot payload (JSON text) and its time, or NULL */
	char *last_counts; double last_counts_ts;
} ledger;

ledger *ledger_new(const runbook *rb);
void ledger_free(ledger *lg);
/* Applies one event.  Unknown kinds are ignored (forward compatible). */
void ledger_apply(ledger *lg, const st_event *ev);
/* Applies every event after lg->last_event_id. */
int ledger_catch_up(ledger *lg, state *st, pgc_err *e);

lg_item *ledger_item(ledger *lg, size_t phase_idx, size_t item_idx);
const char *lg_phase_status_name(lg_phase_status s);

#endif
