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

/* An item's last command run (command_start, then command_end or
 * command_unknown closing it): running while ended_at is 0. */
#define LG_RUN_STATUS_MAX 16
typedef struct lg_run {
	int64_t start_id;         /* its command_start; 0 = never run */
	double started_at;
	double ended_at;          /* 0 while it runs */
	char status[LG_RUN_STATUS_MAX];   /* "ok", "failed", "timed_out", "unknown"...; "" while it runs */
	bool has_exit;
	int exit_code;
	double duration_s;        /* as command_end recorded it; -1 when absent */
} lg_run;

typedef struct lg_item {
	bool done;
	double done_at;           /* 0 when not done or done in the file */
	char *done_by;            /* NULL when from the file's [x] */
	lg_note *notes; size_t n_notes;
	bool changed_in_runbook;  /* hash differs from the one ticked */
	double duty_done_at;      /* recurring duty: last confirmed (duty_done), 0 never */
	char *duty_done_by;
	int duty_count;           /* times confirmed */
	double first_run_at;      /* first command_start of the item's command
	                           * (rollback steps aside) since its phase was
	                           * last rolled back; 0 = never run */
	lg_run last_run;          /* its last command run, rollback steps included */
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
	lg_note *notes; size_t n_notes;   /* notes about the phase, not an item */
	lg_phase_status forced;   /* phase_override {"status":..}; NOT_STARTED = none */
	bool has_forced;
	double rolled_back_at;    /* last phase_rolled_back; 0 = never */
	char *rollback_failed;    /* "rollback failed at 5.26, flags restored" after a
	                           * phase_rollback_failed, until a rollback succeeds or
	                           * a tick, untick or override in the phase; else NULL */
	int file_done;            /* counted items marked [x] in the file */
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
	/* last row-level verify run (EV_VERIFY payload) and its time, or NULL */
	char *last_verify; double last_verify_ts;
	/* downtime clock: downtime_start / downtime_end events (the latest
	 * downtime: a start after an end begins a new one); 0 = none */
	double downtime_start, downtime_end;
	char *downtime_start_reason;
	int items_done, items_total;  /* over every phase, as in lg_phase */
	/* tick/untick/note events naming an item that is not in this runbook
	 * (or whose text changed and cannot be found again) */
	int n_unmatched;
	/* where someone last worked: the item of the latest tick, untick,
	 * duty_done or command_start (a monitor follows its driver there);
	 * work_phase SIZE_MAX = none since the ledger was built */
	size_t work_phase, work_item;
	char *work_by;            /* its operator */
	int64_t work_event_id;
} ledger;

/* Counting rule: an item counts towards its phase's done/total unless it is
 * in a rollback step or marked [-] or [N/A] in the file (those are not work
 * to finish the phase).  A tick carries the item's hash; when the item at
 * that id now has another hash, the tick follows the hash to the one item
 * that has it (the item moved) or, when none or several do, is not applied
 * and the item at the id is flagged changed_in_runbook. */

ledger *ledger_new(const runbook *rb);
void ledger_free(ledger *lg);
/* Moves src's derived state into dst (whose owner keeps the pointer) and
 * frees src: a follower whose state file was replaced starts over. */
void ledger_replace(ledger *dst, ledger *src);
/* Applies one event.  Unknown kinds are ignored (forward compatible). */
void ledger_apply(ledger *lg, const st_event *ev);
/* Applies every event after lg->last_event_id. */
int ledger_catch_up(ledger *lg, state *st, pgc_err *e);
/* The derived state as of event `event_id` (replay): starts from the newest
 * snapshot at or before it for this runbook, then folds up to it.  Returns
 * 0 and a new ledger in *out. */
int ledger_build_at(const runbook *rb, state *st, int64_t event_id, ledger **out, pgc_err *e);

lg_item *ledger_item(ledger *lg, size_t phase_idx, size_t item_idx);
/* An item's last run as a word: "running", "ok", or "failed" for any other
 * end (failed, timed_out, error, unknown...); NULL when it never ran. */
const char *lg_run_state(const lg_run *r);
/* The item whose command runs now (the latest started when several do):
 * 0 with its indexes, -1 when none runs. */
int ledger_running(const ledger *lg, size_t *phase_idx, size_t *item_idx);
const char *lg_phase_status_name(lg_phase_status s);
/* "not started", "in progress", "done", "rolled back": for people. */
const char *lg_phase_status_words(lg_phase_status s);
/* What a phase shows for its state (rail, header, `status`): its
 * rollback_failed text while it stands, else lg_phase_status_words(). */
const char *ledger_phase_state(const lg_phase *lp);
/* "not_started" ... back to the enum; -1 when unknown. */
int lg_phase_status_parse(const char *name);
/* Whether an item counts towards done/total (see the counting rule). */
bool ledger_item_counts(const rb_item *it);

/* Where the migration is, for the console's header and `status`: every
 * phase in progress, in runbook order (idx[] up to max; returns how many
 * there are). */
size_t ledger_phases_in_progress(const ledger *lg, size_t *idx, size_t max);
/* The same in words: "phase 3 in progress", "phases 3, 5 in progress";
 * with none in progress the latest phase worked on when it is not done
 * ("phase 5 rolled back"), else the next one to do after it ("phase 4 not
 * started"); "all phases done".  Returns the phase named (the latest in
 * progress when several), SIZE_MAX when none. */
size_t ledger_current_words(const ledger *lg, char *buf, size_t n);

/* A step's time against its plan (the runbook's "(…, 10 min)" or
 * **Duration:**): from the first tick or command start of its items to the
 * last tick once all are done, else to now.  0 with *elapsed (seconds),
 * *done and *planned_min (0: none planned); -1 when the step has not
 * started (nothing ticked or run in it). */
int ledger_step_elapsed(const ledger *lg, size_t phase_idx, size_t step_idx, double now, double *elapsed,
                        bool *done, int *planned_min);

/* The item operator ticked most recently that is still done (the console's
 * "undo my last tick"): 0 and its indexes, -1 when there is none. */
int ledger_last_tick_by(ledger *lg, const char *operator_name, size_t *phase_idx, size_t *item_idx);

/* Finds an item by id ("3.7", "post-migration.2").  Returns 0 and the
 * indexes, -1 when there is no such item. */
int ledger_find_item(const ledger *lg, const char *id, size_t *phase_idx, size_t *item_idx);
/* Finds a phase by id; -1 when none. */
int ledger_find_phase(const ledger *lg, const char *id, size_t *phase_idx);

/* Serialises the derived state as of lg->last_event_id for the snapshots
 * table, and restores it into a fresh ledger over the same runbook. */
char *ledger_snapshot_json(const ledger *lg);
int ledger_restore_snapshot(ledger *lg, const char *json, int64_t event_id, pgc_err *e);

/* ---- runbook change detection ---- */

typedef struct lg_item_ref {
	char id[RB_ID_MAX];
	char hash[17];
} lg_item_ref;

typedef struct lg_moved {
	char from[RB_ID_MAX], to[RB_ID_MAX];
	char hash[17];
} lg_moved;

typedef struct lg_runbook_diff {
	lg_moved *moved;        size_t n_moved;     /* same text, other id */
	lg_item_ref *appeared;  size_t n_appeared;  /* text not in the old runbook */
	lg_item_ref *vanished;  size_t n_vanished;  /* text no longer in the runbook */
} lg_runbook_diff;

/* The (id, hash) of every item, in runbook order. */
lg_item_ref *ledger_runbook_refs(const runbook *rb, size_t *n);
/* A runbook_loaded payload's items are read by ops_read_runbook_items()
 * (evpay.h). */
/* Compares old and new item lists by text hash: an item whose (id, hash) is
 * in both is unchanged; otherwise a hash in both moved, one only in new
 * appeared, one only in old vanished (a text edited in place shows as one
 * vanished and one appeared with the same id). */
void ledger_runbook_diff(const lg_item_ref *old_refs, size_t n_old,
                         const lg_item_ref *new_refs, size_t n_new, lg_runbook_diff *out);
bool ledger_diff_empty(const lg_runbook_diff *d);
/* {"moved":[[from,to,hash],..],"appeared":[[id,hash],..],"vanished":[[id,hash],..]} */
char *ledger_diff_json(const lg_runbook_diff *d);
/* A few lines a person reads on stderr. */
char *ledger_diff_summary(const lg_runbook_diff *d);
void ledger_diff_free(lg_runbook_diff *d);

#endif
