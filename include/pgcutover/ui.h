/*
 * ui.h -- the operator console (ncursesw).  cmd_console.c loads the config,
 * runbook, state and ledger through cli_load() and hands them to
 * ui_console_run(), which owns the terminal until the operator quits.  The
 * console reads the core and writes only through state_append(), exactly
 * like the headless tick/untick/note commands.
 *
 * ui_side_data is the side pane's input: the comparison module (counts)
 * fills one through the side_fill hook; until then the console shows the
 * last recorded snapshot from the ledger or "not configured".
 */
#ifndef PGCUTOVER_UI_H
#define PGCUTOVER_UI_H

#include "pgcutover/util.h"
#include "pgcutover/config.h"
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"
#include "pgcutover/ledger.h"

struct loop;
struct lease;
struct replay_src;
struct rh_plan;
struct vfy_session;

typedef enum ui_mode {
	UI_MODE_DRIVER,   /* may write events */
	UI_MODE_MONITOR,  /* follows a driver, every write key disabled */
	UI_MODE_REPLAY,   /* shows a recorded migration, read-only */
} ui_mode;

/* ---- side pane: row counts ---- */
typedef enum ui_side_status {
	UI_SIDE_NOT_CONFIGURED,   /* no tables in the config */
	UI_SIDE_NONE_YET,         /* tables configured, nothing recorded */
	UI_SIDE_RECORDED,         /* last snapshot from the state */
	UI_SIDE_LIVE,             /* filled by the comparison module */
	UI_SIDE_ERROR,            /* message says why; rows are last good */
} ui_side_status;

/* Points of the target's recorded history kept for the sparkline. */
#define UI_SPARK_POINTS 8

typedef struct ui_side_row {
	char *table;
	long long source, target;   /* -1 when unknown */
	char state[24];             /* validation state key ("matched", "estimated",
	                             * "no_primary_key" ...), "" when not known */
	bool exact;                 /* both figures are count(*) */
	double unchanged_since;     /* > 0: a figure is the exact count of then,
	                             * kept because its table has not been written
	                             * since (unix s of the older count) */
	double age_s;               /* of the older figure; -1 unknown */
	double rate;                /* target rows/s while it grows; 0 unknown */
	double eta_s;               /* to parity at that rate; -1 unknown */
	long long spark[UI_SPARK_POINTS];  /* target history, oldest first */
	int n_spark;
} ui_side_row;

typedef struct ui_side_data {
	ui_side_status status;
	double ts;                  /* when the figures were taken, 0 = unknown */
	char *message;              /* error or extra words, or NULL */
	bool message_error;         /* message is an error (else the summary the
	                             * full screen shows, C) */
	bool all_match;             /* message is a summary of tables all matching */
	bool refreshing;            /* a refresh is in flight */
	bool refreshing_exact;      /* ... and it asked for count(*) */
	int interval_s;             /* automatic refresh, 0 = off, -1 = none here */
	int budget_pct;             /* exact re-counts' share of each server's
	                             * time, -1 = none here */
	ui_side_row *rows; size_t n_rows;
} ui_side_data;

/* What the counts keys ask of the module that runs the comparison. */
typedef enum ui_counts_cmd {
	UI_COUNTS_REFRESH,     /* r: refresh now (estimates, then cheap exact) */
	UI_COUNTS_EXACT,       /* e: refresh now with count(*) of every table */
	UI_COUNTS_FASTER,      /* <: shorter automatic interval */
	UI_COUNTS_SLOWER,      /* >: longer automatic interval (up to off) */
	UI_COUNTS_BUDGET_UP,   /* +: exact re-counts may take more of each server */
	UI_COUNTS_BUDGET_DOWN, /* -: less (to estimates only) */
} ui_counts_cmd;

typedef struct ui_setup {
	const config *cfg;          /* may be NULL */
	const runbook *rb;
	state *st;
	ledger *lg;
	ui_mode mode;
	const char *operator_name;
	const char *host;
	bool no_color;              /* --no-color or NO_COLOR */
	bool ascii;                 /* force ASCII glyphs (--ascii) */
	const char *startup_message;/* shown once in the status line, or NULL */
	struct lease *lease;        /* the driver's lease: heartbeats every second;
	                             * when taken over the console drops to MONITOR */
	/* REPLAY mode: the recorded log (st is its state, or NULL for JSONL);
	 * the console folds its own ledgers as the cursor moves (lg unused). */
	struct replay_src *replay;
	double replay_idle;         /* -i: longest idle gap kept on the timeline, 0 = all */
	/* --plan-from: a rehearsal's timings (rehearsal.h), or NULL: the header
	 * shows ahead/behind and the projected end of downtime, each item its
	 * rehearsal duration. */
	const struct rh_plan *plan;

	/* Hooks for the modules that run work inside the console's loop
	 * (counts, actions); all optional, all called in loop context. */
	void *hook_ud;
	/* Called once the loop exists: register fds and timers here. */
	void (*on_loop)(struct loop *lp, void *hook_ud);
	/* Called before the loop is freed: release what was registered on it. */
	void (*on_loop_end)(struct loop *lp, void *hook_ud);
	/* Called every second: fill *d and return 1 when the side pane should
	 * show it (the console then owns d's memory), 0 to keep what it shows. */
	int (*side_fill)(void *hook_ud, ui_side_data *d);
	/* Whether something is running that quitting would abandon; fills what
	 * (a few words) and returns true.  q then asks before quitting. */
	bool (*busy)(void *hook_ud, char *what, size_t n);
	/* The counts keys (r, e, +, -): does it and says what in msg for the
	 * status line.  Returns 0, -1 when it cannot (msg says why).  NULL:
	 * this console runs no comparison (MONITOR, or nothing configured). */
	int (*counts_cmd)(void *hook_ud, ui_counts_cmd cmd, char *msg, size_t n);
	/* p: schema and sequence parity.  parity_start begins a check in the
	 * background (a check running is restarted); returns 0, or -1 with
	 * msg saying why not.  parity_result: what the check found so far
	 * (svc.h; its gen changes with every step), which the overlay renders.
	 * NULL: no parity check in this console. */
	int (*parity_start)(void *hook_ud, char *msg, size_t n);
	const struct svc_parity_result *(*parity_result)(void *hook_ud);
	/* W: the write-freeze watch (freeze.h) on the console's loop.
	 * freeze_start begins a new watch (0, or -1 with msg); freeze_watch:
	 * what it found so far, *error "" or why it stopped.  The backend
	 * records the freeze when proven (driver).  NULL: no watch here. */
	int (*freeze_start)(void *hook_ud, char *msg, size_t n);
	const struct frz_watch *(*freeze_watch)(void *hook_ud, const char **error);
	/* V: row-level verify.  verify_start begins a run in the background
	 * (0, or -1 with msg); verify_cancel stops the one running (false:
	 * none); verify_session: the run's model (verify.h) and a number that
	 * changes with every step.  NULL: no verify in this console. */
	int (*verify_start)(void *hook_ud, char *msg, size_t n);
	bool (*verify_cancel)(void *hook_ud);
	const struct vfy_session *(*verify_session)(void *hook_ud, unsigned *gen);
	/* A word for the status line from a background module (a webhook that
	 * failed), shown when gen changes and the text is not empty. */
	const char *(*notice)(void *hook_ud, unsigned *gen);
} ui_setup;

/* Runs the console until the operator quits or SIGTERM/SIGHUP arrive.
 * Returns the exit code (0, or 128+signal); -1 with e set when the terminal
 * cannot be opened. */
int ui_console_run(const ui_setup *s, pgc_err *e);

/* Whether $TERM names a terminal the console can draw on (known to
 * terminfo, able to move its cursor: not TERM=dumb or a hardcopy).  -1 with
 * e set (PGC_EXIT_USAGE) when not; called before anything is recorded. */
int ui_terminal_check(pgc_err *e);

const char *ui_mode_name(ui_mode m);   /* "DRIVER" ... */

/* Reads a counts snapshot payload (JSON) into d.  Accepts
 * {"tables":[{"name"|"table":T,"source":N,"target":N},...]} where a side may
 * also be an object {"count":N}, and {"T":{"source":N,"target":N},...}.
 * Returns 0, -1 when the text is not understood. */
int ui_side_from_counts_json(const char *json, double ts, ui_side_data *d);
void ui_side_data_free(ui_side_data *d);

#endif
