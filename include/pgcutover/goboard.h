/*
 * goboard.h -- the go/no-go board for the switch (`pgcutover go`, the
 * console's go screen) and the gate on the switch item.
 *
 * Each input has a measured value, when it was measured, and a colour:
 *   freeze     the last freeze event: proven (quiet N s), or a write seen;
 *              a proof from before the downtime started (D) is stale
 *   sync       the last sync event (`pgcutover sync`); without one, a
 *              script sync is judged by the counts (equal after the freeze)
 *   counts     the last recorded exact counts (`go` takes fresh ones first)
 *   sequences  a check taken now: no owned target sequence behind the source
 *   schema     schema parity taken now
 *   health     the last health checks (grey when none are configured)
 *   verify     the last recorded row-level verify run (vfy_recorded_equal):
 *              equal and complete after the freeze; grey when none ran and
 *              no phase is gated on verify
 *   postpone   the config's switch.postpone_file exists: the switch waits
 * Evidence measured before the freeze was proven is stale and red.  The
 * board is go when no input is red (grey ones do not count).
 *
 * The board is recorded (go_board event) when `go` or the console shows it.
 * With a "switch" object in the config (even {}), the gate on the switch item (config switch.item, default the first item
 * of a phase titled cutover that sets a declared .env flag) reads the last one:
 * ticking or running the item is refused unless that board is go, newer
 * than the last freeze event and younger than GO_BOARD_MAX_AGE_S, and no
 * postpone file exists; an operator may go past with a typed reason.
 * Either way the decision is recorded (go_decision) with the board's
 * values, which the post-mortem (`export --format md`) shows.
 */
#ifndef PGCUTOVER_GOBOARD_H
#define PGCUTOVER_GOBOARD_H

#include <stdbool.h>
#include <stdint.h>
#include "pgcutover/config.h"
#include "pgcutover/runbook.h"
#include "pgcutover/seqsync.h"
#include "pgcutover/state.h"
#include "pgcutover/util.h"

#define GO_BOARD_MAX_AGE_S 600
#define GO_VALUE_MAX 256

typedef enum go_status { GO_GREEN, GO_RED, GO_GREY } go_status;

typedef enum go_input_id {
	GO_IN_FREEZE, GO_IN_SYNC, GO_IN_COUNTS, GO_IN_SEQUENCES, GO_IN_SCHEMA, GO_IN_HEALTH,
	GO_IN_VERIFY, GO_IN_POSTPONE, GO_N_INPUTS
} go_input_id;

typedef struct go_input {
	go_status status;
	char value[GO_VALUE_MAX];    /* what was measured, in words */
	double measured_at;          /* unix seconds; 0 = never */
	bool stale;                  /* measured before the freeze: does not count */
} go_input;

typedef struct go_board {
	go_input in[GO_N_INPUTS];
	double freeze_at;            /* the freeze proven (0: not) */
	double at;                   /* when the board was put together */
	bool go;
	char switch_item[RB_ID_MAX]; /* "" when the runbook has none */
} go_board;

const char *go_input_key(go_input_id i);     /* "freeze", "sync", ... (JSON keys) */
const char *go_status_name(go_status s);     /* "green", "red", "grey" */

/* The switch item's id: the config's switch.item, else the first item of a
 * phase titled "cutover" (any case) that sets a declared flag; "" none. */
void go_switch_item(const config *cfg, const runbook *rb, char *out, size_t n);

/* Freeze, sync, counts, health, verify and postpone from the log (and the
 * postpone file); sequences and schema start "not measured" (red). */
int go_board_from_log(go_board *b, const config *cfg, const runbook *rb, state *st, double now, pgc_err *e);
void go_board_set_sequences(go_board *b, const seq_report *r, double at);
void go_board_set_schema(go_board *b, bool have_source, size_t n_diffs, double at, const char *error);
/* The console's sequence check (svc_parity: target sequences against
 * max(column)): bad of n behind or unchecked. */
void go_board_set_target_sequences(go_board *b, size_t n, size_t bad, double at);
/* Records the board (go_board event); *id its event id. */
int go_board_record(state *st, const go_board *b, int64_t *id, pgc_err *e);
/* The hook for row-level verification: equal after the freeze or not. */
void go_board_set_verify(go_board *b, bool equal, const char *words, double at);
/* Marks stale inputs red and decides go. */
void go_board_finish(go_board *b);
/* The red inputs in words: "counts: 2 differ; health: not run after the
 * freeze"; "" when go.  malloc'd. */
char *go_board_red_words(const go_board *b);

/* The gate on item_id.  -1 when it is not the switch item (nothing to
 * record); 0 when the last recorded board lets it go now; 1 when it does
 * not (why says what is red or stale).  With 0 or 1, *board_payload is
 * that board's payload (malloc'd; NULL when none was recorded) and
 * *board_event its id, for the decision's record (evp_go_decision_write). */
int go_gate(const config *cfg, const runbook *rb, state *st, const char *item_id, double now,
            int64_t *board_event, char **board_payload, char *why, size_t n);

/* Blocking, for `pgcutover go`: takes fresh exact counts (recorded in st
 * as any counts are), checks the sequences and the schema, reads the rest
 * from the log and finishes the board.  -1 with e when a side cannot be
 * reached (the board then says so too). */
int go_board_measure(go_board *b, const config *cfg, const runbook *rb, state *st, pgc_err *e);

/* Before a run of item_id (`pgcutover run`, the console's x): 1 blocked
 * (why; nothing recorded) unless reason is given; 0 may run, a go_decision
 * recorded when it is the switch item; -1 with e when recording failed. */
int go_decide_run(const config *cfg, const runbook *rb, state *st, const char *item_id, const char *reason,
                  char *why, size_t n, pgc_err *e);

#endif
