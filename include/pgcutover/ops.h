/*
 * ops.h -- the operator's state-changing actions, written once for the
 * console and the headless commands: tick, untick, note, complete a phase
 * (with its order and counts-gate overrides), downtime start/end, duty
 * done, and the console session and runbook records.  Each op catches the ledger up and decides under the state's write
 * transaction (so two operators ticking the same item record it once),
 * writes its events through the typed payload writers (evpay.h), and returns an
 * ops_outcome.  Nothing is written unless the whole op is: a tick that would
 * complete a phase out of order, or past a counts gate, records nothing
 * until the caller calls again with the reason (the console asks for it, the
 * CLI takes --override).  The caller only presents the outcome.
 */
#ifndef PGCUTOVER_OPS_H
#define PGCUTOVER_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pgcutover/config.h"
#include "pgcutover/evpay.h"
#include "pgcutover/ledger.h"
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"
#include "pgcutover/util.h"

/* What an op did, or what it needs to go ahead. */
typedef enum ops_result {
	OPS_DONE,                 /* recorded */
	OPS_ALREADY_DONE,         /* it already is so: nothing recorded (a tick's note still is) */
	OPS_NEEDS_ORDER_OVERRIDE, /* an earlier phase is open: call again with order_reason */
	OPS_BLOCKED_BY_GATE,      /* the phase's counts gate is not met: call again with gate_reason */
	OPS_OPEN_CHILDREN,        /* a tick of an item whose sub-items are not all done:
	                           * call again with children_reason */
	OPS_NEEDS_GO,             /* the switch item while the go/no-go board does not
	                           * let it go (goboard.h): call again with gate_reason */
	OPS_REFUSED,              /* cannot be done as asked (open items, not a duty, empty text) */
	OPS_ERROR,                /* err says why; nothing recorded */
} ops_result;

#define OPS_MSG_MAX (PGC_ERR_MAX + 64)
#define OPS_GATE_MAX 256

typedef struct ops_outcome {
	ops_result result;
	char message[OPS_MSG_MAX]; /* one line for a person: what happened or what is needed */
	pgc_err err;               /* OPS_ERROR */
	int64_t event_id;          /* the op's own event (tick, untick, note...), 0 = none */
	size_t phase_idx;          /* the phase the op is about (SIZE_MAX: none) */
	bool phase_completed;      /* a phase_complete event was recorded */
	size_t open_phase_idx;     /* NEEDS_ORDER_OVERRIDE: the first earlier open phase */
	char gate[OPS_GATE_MAX];   /* the gate's word: what blocks it, or what it met */
	bool gate_blocked;         /* the phase is gated and its counts do not match */
	int open_children;         /* OPEN_CHILDREN: how many sub-items are open (the
	                            * message names them) */
} ops_outcome;

/* The reasons an operator gave to go past a check; NULL or "" = not given. */
typedef struct ops_override {
	const char *order_reason;  /* complete a phase while an earlier one is open */
	const char *gate_reason;   /* complete a gated phase whose counts do not match;
	                            * tick the switch item past a red go/no-go board */
	const char *children_reason; /* tick an item whose sub-items are open; recorded
	                            * in the tick's note with the open sub-items' ids */
} ops_override;

/* What every op works on.  Events carry the actor set on st
 * (state_set_actor); the ledger is caught up by each op. */
typedef struct ops_ctx {
	state *st;
	ledger *lg;                /* over the runbook the ids refer to (lg->rb) */
	const config *cfg;         /* gates and secrets to mask; may be NULL */
} ops_ctx;

const char *ops_result_name(ops_result r);

/* Ticks item i of phase p.  An item with open sub-items (nested items under
 * it, at any depth) is not ticked without ov->children_reason: the outcome
 * is OPS_OPEN_CHILDREN, "5.2 has 2 open sub-items: 5.3, 5.5".  When it is
 * the phase's last open item the phase
 * is recorded complete in the same transaction, after the order and gate
 * checks (each needing its reason in ov).  The switch item (goboard.h)
 * needs the last go/no-go board to be go, else ov->gate_reason
 * (OPS_NEEDS_GO); its tick records a go_decision with the board's values.
 * note (may be NULL) goes into the
 * tick's payload; on an item already done it is recorded as a note. */
int ops_tick(const ops_ctx *c, size_t p, size_t i, const char *note, const ops_override *ov,
             ops_outcome *out);
/* Records phase p complete (all its items done), with the same checks. */
int ops_complete_phase(const ops_ctx *c, size_t p, const ops_override *ov, ops_outcome *out);
/* reason is required (OPS_REFUSED without). */
int ops_untick(const ops_ctx *c, size_t p, size_t i, const char *reason, ops_outcome *out);
/* A note on item i of phase p, on phase p (i == SIZE_MAX) or on the
 * migration (p == SIZE_MAX). */
int ops_note(const ops_ctx *c, size_t p, size_t i, const char *text, ops_outcome *out);
/* Starts (start) or ends the downtime clock; OPS_ALREADY_DONE when it
 * already runs / does not run. */
int ops_downtime(const ops_ctx *c, bool start, double now, ops_outcome *out);
/* Records a recurring duty done; OPS_REFUSED for an item that is not one. */
int ops_duty_done(const ops_ctx *c, size_t p, size_t i, const char *note, ops_outcome *out);

/* A console session begins (start; what: its mode, "console") or ends
 * (what: why). */
int ops_session(const ops_ctx *c, bool start, const char *what, ops_outcome *out);

/* Records rb in the log when it differs from the runbook last loaded into
 * st: runbook_loaded, and runbook_changed with the items that moved,
 * appeared or vanished, in one transaction (only the report when !record).
 * *report: a person's account of the change, or NULL (free()). */
int ops_runbook_sync(state *st, const runbook *rb, bool record, char **report, pgc_err *e);

/* ---- a phase's counts gate, as the rail, the gate prompt and `status` show it ---- */

/* One table that keeps a gate shut. */
typedef struct ops_gate_table {
	char *name;
	bool counted;              /* exact counts of both sides recorded: diff holds */
	bool estimated;            /* both sides have figures, an estimate among them */
	int64_t diff;              /* target - source */
	char *why;                 /* "bookings: behind", "x: only estimated (...)" */
} ops_gate_table;

typedef struct ops_gate {
	bool gated;                /* the config's "gates" (or "verify": {"gates"}) lists the phase */
	bool by_verify;            /* shut by the verify gate: the last recorded verify
	                            * run is missing, incomplete or found a difference */
	bool met;                  /* not gated, or the last recorded counts meet it */
	bool blocked;              /* gated, not met, the phase not recorded complete,
	                            * and worked on (in progress, or all its items done):
	                            * only an override reason completes it */
	char summary[OPS_GATE_MAX]; /* cmp_gate_met()'s word: the first table or "no row counts" */
	ops_gate_table *tables;    /* every table keeping it shut, the largest difference
	                            * first, tables without exact counts last; none when
	                            * no counts are recorded */
	size_t n_tables;
} ops_gate;

/* Phase p's gate from the last recorded counts (lg->last_counts) and, for
 * a phase in "verify": {"gates"}, the last recorded verify run
 * (lg->last_verify: every table equal, vfy_payload_all_equal); cfg may
 * be NULL (nothing is gated).  The one reading of "is p blocked, and by
 * which tables" for the console's rail and gate prompt and `status`.  Free
 * with ops_gate_free(). */
void ops_phase_gate(const config *cfg, const ledger *lg, size_t p, ops_gate *g);
void ops_gate_free(ops_gate *g);
/* What shuts it, for people, in at most width bytes (when it fits):
 * "reminders -1550, bookings -525 +1 more" (target - source; "name ?" for a
 * table without exact counts), at least the first table; "no exact counts
 * recorded" when there are none; "" when met. */
void ops_gate_words(const ops_gate *g, size_t width, char *buf, size_t n);

/* All return 0 when out says what happened (any result but OPS_ERROR), -1
 * with out->err set on OPS_ERROR. */

/* The payloads of these kinds are written by ops_payload_* and read by
 * ops_read_* in evpay.h (with every other kind's). */

#endif
