/*
 * ui_priv.h -- what the console's pane files share: the one UI context
 * (ui_ctx), the flattened checklist rows, the key table's types and the
 * drawing helpers.  Only src/ui/ files include this; the rest of the program
 * sees include/pgcutover/ui.h.
 *
 * Layout (htop-like, one file per screen element):
 *   ui.c          context, layout, poll() loop glue, signals, redraw
 *   ui_header.c   title, mode, operator, clocks
 *   ui_rail.c     phases with progress
 *   ui_checklist.c the selected phase as a foldable tree
 *   ui_side.c     row counts
 *   ui_parity.c   schema and sequence parity overlay
 *   ui_goboard.c  the go/no-go board for the switch (B)
 *   ui_freeze.c   who still writes to the source; the freeze proof (W)
 *   ui_run.c      running an item's command, rollback, the output pane
 *   ui_panels.c   the .env flags panel and the health panel
 *   ui_events.c   event strip and the full log overlay
 *   ui_keybar.c   bottom key bar and the `?` help, both from ui_keys.c
 *   ui_keys.c     the one key table and the actions it dispatches
 *   ui_prompt.c   text input and confirmation dialogs
 *   ui_verify.c   the row-level verify screen (V)
 *   ui_draw.c     sanitised, width-aware UTF-8 drawing, ASCII fallbacks
 *   ui_list.c     the overlays' one scrolling list widget
 *   ui_timeline.c REPLAY mode: the timeline bar, the cursor and playback
 *
 * Adding an overlay screen: its own ui_foo.c (a `const ui_screen
 * ui_scr_foo` with draw and key functions, a ui_list for its scrolling,
 * an opener that sets u->overlay = &ui_scr_foo and is the key's handler),
 * one row in ui_keys[] (key, bar word, help line, handler), and here its
 * UI_KC_ bit and two declarations; Makefile.am lists the file.
 */
#ifndef PGCUTOVER_UI_PRIV_H
#define PGCUTOVER_UI_PRIV_H

#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <wchar.h>
#include "pgcutover/ui.h"
#include "pgcutover/loop.h"
#include "pgcutover/action.h"
#include "pgcutover/health.h"
#include "pgcutover/ops.h"
#include "pgcutover/evpay.h"

/* Smallest screen the panes are laid out for. */
#define UI_MIN_COLS 80
#define UI_MIN_ROWS 24
#define UI_HEADER_ROWS 2
#define UI_KEYBAR_ROWS 1
#define UI_RAIL_COLS 32          /* left column: phase rail and side pane */
#define UI_RAIL_COLS_WIDE 38     /* from UI_WIDE_COLS on */
#define UI_WIDE_COLS 140         /* side pane moves right of the checklist */
#define UI_SIDE_COLS 34
#define UI_SIDE_MIN_ROWS 4
#define UI_EVENTS_ROWS 5         /* title + 4 events */
#define UI_EVENTS_ROWS_TALL 7    /* from UI_TALL_ROWS on */
#define UI_TALL_ROWS 34
#define UI_EVENT_RING 256        /* events kept for the strip */
#define UI_TICK_MS 1000          /* clock and state follow */
#define UI_PROMPT_MAX 512        /* characters in a text prompt */
#define UI_SEARCH_MAX 256
#define UI_STATUS_SECS 6         /* a status message stays this long */
#define UI_STATUS_MIN_SECS 2     /* ... and a monitor's driver notice waits this
                                  * long before replacing one */
#define UI_LINE_MAX 1024         /* widest line drawn */
#define UI_ESCDELAY_MS 25
#define UI_KEYBAR_MAX_RANK 9    /* highest bar_rank in the key table */
#define UI_TIMELINE_ROWS 5       /* REPLAY: title, bar, phase labels, command, flags */

/* In Tab order (the side pane, row counts, sits under the rail). */
typedef enum ui_pane {
	UI_PANE_RAIL,
	UI_PANE_SIDE,
	UI_PANE_LIST,
	UI_PANE_EVENTS,
	UI_PANE_N,
} ui_pane;



/* What the keys act on right now; one bit per context in the key table.
 * The panes have the low bits; each overlay screen (ui_screen) one of the
 * bits from UI_KC_SCREEN0 up, so UI_KC_OVERLAY covers any screen added. */
enum {
	UI_KC_RAIL    = 1 << 0,
	UI_KC_LIST    = 1 << 1,
	UI_KC_EVENTS  = 1 << 2,
	UI_KC_SIDE    = 1 << 3,   /* the row counts pane */
	UI_KC_SMALL   = 1 << 6,   /* the "enlarge" notice */
	UI_KC_REPLAY  = 1 << 9,   /* the panes in REPLAY mode: wins over the pane keys */
	UI_KC_SCREEN0 = 1 << 16,
	UI_KC_LOG     = UI_KC_SCREEN0 << 0,
	UI_KC_HELP    = UI_KC_SCREEN0 << 1,
	UI_KC_DETAIL  = UI_KC_SCREEN0 << 2,
	UI_KC_PARITY  = UI_KC_SCREEN0 << 3,   /* schema/sequence parity overlay */
	UI_KC_OUTPUT  = UI_KC_SCREEN0 << 4,   /* a command's output pane */
	UI_KC_FLAGS   = UI_KC_SCREEN0 << 5,   /* the .env flags panel */
	UI_KC_HEALTH  = UI_KC_SCREEN0 << 6,   /* the health panel */
	UI_KC_COUNTS  = UI_KC_SCREEN0 << 7,   /* every table's counts, full screen */
	UI_KC_GO      = UI_KC_SCREEN0 << 8,   /* the go/no-go board */
	UI_KC_FREEZE  = UI_KC_SCREEN0 << 9,   /* the write-freeze watch */
	UI_KC_VERIFY  = UI_KC_SCREEN0 << 10,  /* row-level verify */
	UI_KC_PANES   = UI_KC_RAIL | UI_KC_LIST | UI_KC_EVENTS | UI_KC_SIDE,
};
#define UI_KC_OVERLAY 0xffff0000u

typedef enum ui_action {
	UI_ACT_NONE,
	UI_ACT_UP, UI_ACT_DOWN, UI_ACT_PGUP, UI_ACT_PGDN, UI_ACT_TOP, UI_ACT_BOTTOM,
	UI_ACT_PANE_LEFT, UI_ACT_PANE_RIGHT, UI_ACT_PANE_NEXT, UI_ACT_PANE_PREV,
	UI_ACT_OPEN, UI_ACT_TICK, UI_ACT_NOTE, UI_ACT_SEARCH, UI_ACT_SEARCH_NEXT, UI_ACT_SEARCH_PREV, UI_ACT_SEARCH_END,
	UI_ACT_COMMAND, UI_ACT_PHASE, UI_ACT_LOG, UI_ACT_HELP, UI_ACT_BACK,
	UI_ACT_FOLD_ALL, UI_ACT_UNFOLD_ALL, UI_ACT_REDRAW, UI_ACT_QUIT,
	UI_ACT_COUNTS_REFRESH, UI_ACT_COUNTS_EXACT, UI_ACT_COUNTS_SLOWER, UI_ACT_COUNTS_FASTER,
	UI_ACT_COUNTS_BUDGET_UP, UI_ACT_COUNTS_BUDGET_DOWN,
	UI_ACT_PARITY, UI_ACT_RUN, UI_ACT_DRY_RUN, UI_ACT_ROLLBACK, UI_ACT_OUTPUT,
	/* REPLAY mode (ui_timeline.c) */
	UI_ACT_RP_PLAY, UI_ACT_RP_SLOWER, UI_ACT_RP_FASTER, UI_ACT_RP_EV_NEXT, UI_ACT_RP_EV_PREV,
	UI_ACT_RP_PHASE_PREV, UI_ACT_RP_PHASE_NEXT, UI_ACT_RP_SEEK,
	UI_ACT_DOWNTIME, UI_ACT_DUTY, UI_ACT_FLAGS, UI_ACT_HEALTH, UI_ACT_COUNTS_FULL,
	UI_ACT_NEXT_OPEN, UI_ACT_FILTER, UI_ACT_UNDO_TICK, UI_ACT_FOLLOW, UI_ACT_GO, UI_ACT_FREEZE, UI_ACT_VERIFY,
} ui_action;

/* The checklist's filter (v cycles it): every row, open items only, items
 * whose last command run failed, blocked items (marked [!] in the runbook,
 * or open in a phase its counts gate blocks). */
enum { UI_FILTER_ALL, UI_FILTER_OPEN, UI_FILTER_FAILED, UI_FILTER_BLOCKED, UI_FILTER_N };

struct ui_ctx;
struct ui_key;

/* The overlays' list widget (ui_list.c): a window of `page` lines onto
 * `n`, with a selection when `select`.  ui_list_fit() clamps it for the
 * n and page about to be drawn; ui_list_key() moves it (0: not a moving
 * key).  `follow`: stuck to the end while new lines come (output). */
typedef struct ui_list {
	size_t n, top, cursor, page;
	bool select, follow;
} ui_list;
/* A key's handler: what the row does (code: the key pressed, for rows with
 * several, like 0-5).  Rows without one pass their action to the screen or
 * pane that has focus (moving, Enter, Space, Esc mean something per screen). */
typedef void (*ui_key_fn)(struct ui_ctx *u, const struct ui_key *k, int code);

#define UI_KEY_CODES 6
typedef struct ui_key {
	int codes[UI_KEY_CODES];  /* key codes, 0-terminated */
	const char *label;        /* how the key is written: "Space" */
	const char *bar;          /* word in the key bar, NULL = help only */
	const char *help;         /* one line for `?` */
	ui_action act;
	unsigned contexts;        /* UI_KC_* where it works */
	bool writes;              /* appends an event: off in MONITOR/REPLAY */
	int bar_rank;             /* key bar: lower stays longer on narrow screens */
	ui_key_fn run;            /* NULL: the focused screen's key function */
	/* NULL or false when this console refuses the key (MONITOR's r: no
	 * counts here); the bar leaves it out, the help says so, the handler
	 * says why when pressed anyway */
	bool (*avail)(const struct ui_ctx *u);
} ui_key;

/* An overlay screen (help, log, parity...): the one descriptor a screen's
 * file defines; u->overlay points at the open one (NULL: the panes). */
typedef struct ui_screen {
	const char *name;
	unsigned kc;                          /* its UI_KC_* bit */
	void (*draw)(struct ui_ctx *u);
	int (*key)(struct ui_ctx *u, ui_action a);   /* 0: key not used */
} ui_screen;
extern const ui_screen ui_scr_help, ui_scr_log, ui_scr_detail, ui_scr_parity, ui_scr_output,
                       ui_scr_flags, ui_scr_health, ui_scr_counts, ui_scr_go, ui_scr_freeze, ui_scr_verify;

extern const ui_key ui_keys[];
extern const size_t ui_n_keys;

typedef enum ui_row_kind {
	UI_ROW_NOTES,       /* the foldable "notes from the runbook" header */
	UI_ROW_NOTE,        /* one runbook note line */
	UI_ROW_STEP,
	UI_ROW_ITEM,
	UI_ROW_CHECKPOINT,
	UI_ROW_PNOTE,       /* an operator's note on the phase (ledger) */
} ui_row_kind;

typedef struct ui_row {
	uint8_t kind;       /* ui_row_kind */
	uint8_t indent;     /* step nesting, in levels */
	int32_t idx;        /* item, step or note index in the phase */
} ui_row;

/* One event as the strip and the log show it: text already built. */
typedef struct ui_ev {
	int64_t id;
	double ts;
	char *kind;
	char *line;         /* "operator  kind  target  detail", sanitised */
	char *detail;       /* the log's: every field, one a line (evp_event_detail); else NULL */
	char *brief;        /* the strip's counts: the verdict (evp_event_brief); else NULL */
	char *who;          /* ... and its operator */
	unsigned repeat;    /* the strip: consecutive counts snapshots folded in (1 = this one) */
} ui_ev;

struct ui_ctx;
/* A prompt's completion: called with the trimmed answer when Enter commits
 * it (and, for .cancel, with "" on Esc); ctx is the opener's pointer. */
typedef void (*ui_prompt_fn)(struct ui_ctx *u, const char *text, void *ctx);

/* What ui_prompt_open asks and who gets the answer. */
typedef struct ui_prompt_spec {
	const char *title;
	const char *hint;        /* NULL: "Enter confirms, Esc cancels" */
	const char *initial;     /* prefilled text, replaced by the first key */
	bool required;           /* empty input is not accepted */
	bool reason;             /* ... and the error says a reason is required */
	bool yes_no;             /* a question that changes nothing: y or yes, then Enter */
	const char *warning;     /* drawn wrapped in the warning colour above the input */
	bool secret;             /* drawn as stars */
	ui_prompt_fn done;       /* Enter */
	ui_prompt_fn cancel;     /* Esc; NULL: "cancelled; nothing recorded" */
	void *ctx;
	bool own_ctx;            /* ctx is malloc'd: freed once answered */
} ui_prompt_spec;

typedef struct ui_prompt {
	bool active;
	ui_prompt_spec spec;     /* title/hint/initial point at the copies below */
	char title[256];
	char hint[256];
	char warning[768];
	wchar_t buf[UI_PROMPT_MAX + 1];
	int len, cur;
	bool fresh;          /* prefilled: the first character typed replaces it */
	char error[128];
} ui_prompt;

/* The usual prompt context: what an answer is about (item SIZE_MAX: the
 * phase), and the order reason already given when the gate's is asked. */
typedef struct ui_target {
	size_t phase, item;
	char order_reason[UI_PROMPT_MAX * 4 + 1];
	char children_reason[UI_PROMPT_MAX * 4 + 1];
} ui_target;
ui_target *ui_target_new(size_t phase, size_t item);

enum {
	UI_DIRTY_HEADER  = 1 << 0,
	UI_DIRTY_RAIL    = 1 << 1,
	UI_DIRTY_LIST    = 1 << 2,
	UI_DIRTY_SIDE    = 1 << 3,
	UI_DIRTY_EVENTS  = 1 << 4,
	UI_DIRTY_KEYBAR  = 1 << 5,
	UI_DIRTY_OVERLAY = 1 << 6,
	UI_DIRTY_ALL     = 0x7f,
};

/* Colour pairs; every one has an attribute fallback so meaning never rests
 * on colour alone (the words and marks carry it). */
enum {
	UI_C_NORMAL = 0,
	UI_C_TITLE = 1,
	UI_C_DRIVER, UI_C_MONITOR, UI_C_REPLAY,
	UI_C_DONE, UI_C_PROGRESS, UI_C_RISK, UI_C_DIM, UI_C_KEY,
	UI_C_CURSOR, UI_C_WARN, UI_C_ACCENT,
	UI_C_N,
};

typedef enum ui_glyph {
	UI_G_FOLD_OPEN, UI_G_FOLD_CLOSED, UI_G_BAR_FULL, UI_G_BAR_EMPTY,
	UI_G_ARROW, UI_G_CHECK, UI_G_CURSOR, UI_G_CHECKPOINT, UI_G_HLINE,
	UI_G_VLINE, UI_G_ELLIPSIS, UI_G_BULLET, UI_G_CMD, UI_G_NOTE, UI_G_TIMES,
	UI_G_RUN_OK, UI_G_RUN_FAILED, UI_G_RUNNING,   /* a command's last run */
	UI_G_HEALTH_OK,                               /* the header's health mark */
	UI_G_N,
} ui_glyph;

struct act_plan;
struct act_rollback;
struct act_run;

/* A command or rollback run from the console (ui_run.c), and the output
 * pane's text (ui_output.c). */
typedef struct ui_runner {
	struct act_plan *plan;        /* x: the item's plan, owned */
	struct act_rollback *rbk;     /* R: the rollback, owned */
	int stage;                    /* R: -1 restore, then step index */
	act_result *step_res;         /* R: n_steps results */
	struct act_run *run;          /* running now, or NULL */
	bool ended;                   /* the run's done hook has fired */
	bool has_last;
	act_result last;
	int finish_timer;
	bool ponr_confirmed;
	struct frz_release_op *frz;   /* R: the write freeze being released */
	bool frz_done;                /* R: ...released (or tried) */
	bool gated;                   /* x on the switch while the board is not go */
	char *override;               /* ...and the reason typed to run it anyway */
	char rows_gained[160];        /* past the point of no return */
	char title[96];
	double started_at;
	char *out; size_t out_len, out_cap;   /* sanitised, masked output */
	bool dropped;                 /* older output was dropped */
	ui_list list;                 /* the output pane's window, following the end */
} ui_runner;

struct act_flags;
struct hc_batch;

/* Runs of each health check kept for the history line. */
#define UI_HEALTH_HISTORY 20
/* The checks re-run on their own: every UI_HEALTH_PANEL_S while the health
 * panel is open, every UI_HEALTH_BG_S behind it (the header's mark). */
#define UI_HEALTH_PANEL_S 10
#define UI_HEALTH_BG_S 60
/* The config file is checked for a change this often. */
#define UI_CONFIG_CHECK_S 2

/* The flags and health panels (ui_panels.c). */
typedef struct ui_panels {
	struct act_flags *flags;
	char flags_error[PGC_ERR_MAX];
	double flags_read_at;
	ui_list flags_list;
	envfile_stamp flag_stamp;     /* of the file when Enter was pressed */
	char flag_name[128];
	hc_check *hc; size_t n_hc;
	struct hc_batch *batch;
	bool hc_finish;               /* the batch has ended */
	hc_result *hc_last;
	char **hc_hist;               /* per check: "+X+..." */
	int hc_runs;
	double hc_started;
	double hc_ended;              /* when the last run ended, 0 before */
	bool hc_collected;            /* hc/n_hc read from the config and runbook */
	bool hc_record_next;          /* the run in progress was asked for (H): record it */
	bool hc_stale;                /* the config changed: collect again once idle */
	/* the config file, watched for changes (ui_panels.c's config_poll) */
	envfile_stamp cfg_stamp;
	bool cfg_watched;             /* cfg_stamp holds the file as loaded */
	double cfg_checked_at;
	struct config **cfg_kept;     /* configs reloaded, freed at exit: a run or
	                               * a service may still point at one */
	size_t n_cfg_kept;
	ui_list hc_list;              /* one entry per check */
} ui_panels;

typedef struct ui_ctx {
	ui_setup s;
	const runbook *rb;
	ledger *lg;
	loop *lp;
	SCREEN *scr;
	bool utf8, color, term_open;
	int rows, cols;
	bool too_small;
	WINDOW *w_header, *w_rail, *w_side, *w_list, *w_events, *w_keybar, *w_ov, *w_prompt;
	WINDOW *w_timeline;      /* REPLAY mode only */
	struct ui_replay *replay;/* REPLAY mode: cursor and playback (ui_timeline.c) */
	int side_right;          /* side pane right of the list (wide screens) */
	ui_pane focus;
	unsigned dirty;

	/* phase rail */
	size_t phase;            /* selected phase index */
	size_t rail_top;

	/* checklist: fold state per phase, flattened rows of the selected one */
	uint8_t **item_folded;   /* [phase][item], allocated on first use */
	uint8_t **step_folded;   /* [phase][step] */
	uint8_t *notes_open;     /* [phase] */
	ui_row *rows_v; size_t n_rows_v, cap_rows_v;
	int item_id_w;          /* the widest item id of the phase in rows_v */
	int *step_done, *step_total; size_t cap_steps;
	size_t cursor, top;
	bool rows_stale;
	int filter;              /* UI_FILTER_* */
	bool filter_gate;        /* UI_FILTER_BLOCKED: the phase's gate blocks it (at the rebuild) */
	/* MONITOR: follow the driver's phase and item (f toggles; moving the
	 * cursor stops it) */
	bool follow;
	char driver[64];         /* the lease holder's operator, "" none */
	int64_t followed_id;     /* the ledger's work event last followed */
	char search[UI_SEARCH_MAX];
	bool searching;          /* from a `/` answer to Esc or another key: n/N move between matches */

	/* events */
	ui_ev *events; size_t n_events;   /* oldest first, at most UI_EVENT_RING */
	size_t ev_scroll;                 /* 0 = newest at the top */
	int64_t ev_last_id;
	int data_version;

	/* overlays */
	const ui_screen *overlay;         /* NULL: the panes */
	ui_ev *log; size_t n_log;         /* full log, oldest first */
	ui_list log_list;                 /* cursor: index from the newest (0 = newest) */
	char log_search[UI_SEARCH_MAX];
	bool log_detail;                  /* Enter: the selected event's fields */
	ui_list log_detail_list;
	size_t detail_item;
	ui_list detail_list;              /* wrapped lines of the item's details */
	ui_list help_list;
	double go_parity_at;              /* go board: when its parity check was seen done */
	bool go_recorded;                 /* go board: recorded since opened */
	size_t parity_top;                /* parity overlay scroll */
	int parity_lines;
	unsigned parity_gen;              /* text generation drawn */
	size_t verify_top;                /* verify screen scroll */
	int verify_lines;
	unsigned verify_gen;              /* run generation drawn */
	ui_runner runner;
	unsigned notice_gen;              /* last notice shown */
	ui_panels panels;

	ui_prompt prompt;

	int driver_liveness;      /* MONITOR: last lease_liveness announced, -1 none */
	char status_msg[256];
	double status_until;
	bool quit;
	int exit_code;
	const char *end_reason;   /* "SIGHUP"/"SIGTERM": recorded after the command's end */
	int timer_id;
	long clock_sec;                   /* last second drawn in the header */
	double gate_exact_at;             /* when a gate last started exact counts itself */

	FILE *trace;                      /* PGCUTOVER_UI_TRACE: ms per key batch */
	ui_side_data side;
	bool side_live;
	double side_ts;                   /* ledger snapshot shown */
	int side_rows;                    /* rows of the side pane, 0 = hidden */
	ui_list side_list;                /* the pane's window onto its tables */
	ui_list counts_list;              /* C: every table, full screen */
} ui_ctx;

/* ui.c */
void ui_mark(ui_ctx *u, unsigned dirty);
void ui_status(ui_ctx *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ui_follow_state(ui_ctx *u);
/* MONITOR: moves to the phase and item the driver last worked on (the
 * ledger's work_*), while following; ui_follow_toggle() is the f key. */
void ui_monitor_follow(ui_ctx *u);
void ui_follow_toggle(ui_ctx *u);
void ui_side_poll(ui_ctx *u);
void ui_select_phase(ui_ctx *u, size_t phase);
const rb_phase *ui_cur_phase(const ui_ctx *u);
bool ui_read_only(const ui_ctx *u);
/* Draws what is marked dirty (for timers outside ui.c: replay playback). */
void ui_redraw(ui_ctx *u);
/* The time the panes show: the wall clock, or the REPLAY cursor's time. */
double ui_now(const ui_ctx *u);
void ui_pane_title(ui_ctx *u, WINDOW *w, int y, const char *title, const char *right, bool focused);
/* For ops.c: whether this console may write (a status line says why not),
 * the ops context over its state, and the screen brought up to date after
 * an op (which catches the ledger up itself). */
bool ui_may_write(ui_ctx *u);
ops_ctx ui_ops_ctx(ui_ctx *u);
void ui_after_write(ui_ctx *u);

/* ui_draw.c */
int ui_put(ui_ctx *u, WINDOW *w, int y, int x, const char *s, int maxw, attr_t attr, short pair);
int ui_put_right(ui_ctx *u, WINDOW *w, int y, int right_x, const char *s, attr_t attr, short pair);
int ui_text_width(ui_ctx *u, const char *s);
const char *ui_glyph_str(const ui_ctx *u, ui_glyph g);
void ui_hline(ui_ctx *u, WINDOW *w, int y, int x, int n, attr_t attr, short pair);
void ui_vline(ui_ctx *u, WINDOW *w, int x, attr_t attr, short pair);
void ui_bar(ui_ctx *u, WINDOW *w, int y, int x, int width, int done, int total);
void ui_fmt_duration(double secs, char *buf, size_t n);
void ui_fmt_clock(double t, char *buf, size_t n, bool with_seconds);
/* An item's last run in brief: "✗ exit 127 02:05", "✓ 0.4s", "⟳ 0m21s"
 * (ASCII x, v, ~); "" when it never ran.  Returns lg_run_state(). */
const char *ui_fmt_run(ui_ctx *u, const lg_run *r, char *buf, size_t n);
attr_t ui_attr(const ui_ctx *u, int pair, attr_t fallback);
/* attr and pair arguments of ui_put for a colour pair with its no-colour
 * attribute fallback. */
#define UI_STYLE(u, pair, fallback) ui_attr((u), (pair), (fallback)), ui_pair((u), (pair))
short ui_pair(const ui_ctx *u, int pair);
/* Copies s into buf with control characters removed (for prompts, logs). */
void ui_wrap_lines(ui_ctx *u, const char *s, int width, void (*emit)(const char *, size_t, void *), void *ud);

/* Overlays: a boxed window centred, y rows from the top, h x w, with a
 * title and the keys on its bottom edge; closing; the common scroll keys
 * (up, down, pages, top, bottom; Esc closes) over `lines` lines with a
 * page of `page`.  ui_overlay_scroll returns 0 for a key it does not use. */
WINDOW *ui_overlay_window(ui_ctx *u, int y, int h, int w, const char *title, const char *keys);
void ui_overlay_close(ui_ctx *u);
int ui_overlay_scroll(ui_ctx *u, ui_action a, size_t *top, int lines, int page);

/* ui_list.c */
typedef void (*ui_list_row_fn)(ui_ctx *u, WINDOW *w, int y, size_t i, bool selected, void *ud);
void ui_list_init(ui_list *l, bool select);
void ui_list_fit(ui_list *l, size_t n, size_t page);
int ui_list_row(const ui_list *l, size_t i);       /* window row of line i, -1: not shown */
int ui_list_key(ui_list *l, ui_action a);
/* Fits the list to n rows of which `rows` show from (y, x) and draws each
 * shown through row(), the selection reversed over `width` columns. */
void ui_list_draw(ui_ctx *u, ui_list *l, WINDOW *w, int y, int x, int width, size_t n, int rows,
                  ui_list_row_fn row, void *ud);

/* panes */
void ui_header_draw(ui_ctx *u);
void ui_rail_draw(ui_ctx *u);
int ui_rail_key(ui_ctx *u, ui_action a);
void ui_checklist_rebuild(ui_ctx *u);
void ui_checklist_draw(ui_ctx *u);
int ui_checklist_key(ui_ctx *u, ui_action a);
void ui_checklist_tick(ui_ctx *u);
/* Tick / complete a phase through ops.c; ov: reasons the operator gave
 * (NULL at first).  An outcome needing a reason opens the prompt for it. */
void ui_tick_item(ui_ctx *u, size_t phase_idx, size_t item_idx, const ops_override *ov);
void ui_checklist_search(ui_ctx *u, const char *needle, bool from_next);
/* The previous match before the cursor (N while searching, as in less). */
void ui_checklist_search_prev(ui_ctx *u, const char *needle);
void ui_checklist_free(ui_ctx *u);
void ui_checklist_reveal(ui_ctx *u, size_t item);
void ui_complete_phase(ui_ctx *u, size_t phase_idx, const ops_override *ov);
void ui_detail_draw(ui_ctx *u);
int ui_detail_key(ui_ctx *u, ui_action a);
void ui_side_draw(ui_ctx *u, WINDOW *w, const ui_side_data *d);
void ui_side_refresh_recorded(ui_ctx *u);
int ui_side_key(ui_ctx *u, ui_action a);   /* the pane with focus: scrolls, Enter = C */
void ui_counts_open(ui_ctx *u);            /* C: every table full screen */
void ui_events_load(ui_ctx *u);
void ui_events_draw(ui_ctx *u);
int ui_events_key(ui_ctx *u, ui_action a);
void ui_events_free(ui_ctx *u);
void ui_events_reset(ui_ctx *u);   /* the strip read again from the start */
void ui_log_open(ui_ctx *u);
void ui_log_draw(ui_ctx *u);
int ui_log_key(ui_ctx *u, ui_action a);
void ui_log_search(ui_ctx *u, const char *needle, bool from_next);
void ui_log_close(ui_ctx *u);
void ui_keybar_draw(ui_ctx *u);
void ui_help_open(ui_ctx *u);
void ui_help_draw(ui_ctx *u);
int ui_help_key(ui_ctx *u, ui_action a);

/* ui_parity.c */
void ui_parity_open(ui_ctx *u);
void ui_parity_poll(ui_ctx *u);
/* ui_goboard.c */
void ui_go_open(ui_ctx *u);
void ui_go_poll(ui_ctx *u);
/* ui_freeze.c */
void ui_freeze_open(ui_ctx *u);
void ui_freeze_poll(ui_ctx *u);

/* ui_verify.c */
void ui_verify_open(ui_ctx *u);
void ui_verify_poll(ui_ctx *u);

/* ui_run.c */
void ui_run_item(ui_ctx *u, bool dry);
void ui_run_rollback(ui_ctx *u);
bool ui_run_cancel(ui_ctx *u);
bool ui_run_busy(const ui_ctx *u, char *what, size_t n);
void ui_run_finish(loop *lp, void *ud);
void ui_run_free(ui_ctx *u);
/* ui_output.c: the output pane's bounded, sanitised text */
void ui_out_line(ui_runner *r, const char *s);      /* pgcutover's own line */
void ui_out_text(ui_runner *r, const char *text);   /* sanitised, ends the line */
void ui_out_feed(ui_runner *r, const char *data, size_t n);   /* command output: masked by line */
void ui_output_open(ui_ctx *u);
void ui_output_show(ui_ctx *u);                     /* o */
void ui_output_draw(ui_ctx *u);
int ui_output_key(ui_ctx *u, ui_action a);
#define UI_OUT_END_MAX 64
void ui_out_fmt_end(const act_result *res, char *buf, size_t n);   /* "exit 7", "signal 15 (Terminated)" */
/* ui_timeline.c (REPLAY mode) */
int ui_timeline_open(ui_ctx *u, pgc_err *e);   /* builds u->lg at the start */
void ui_timeline_close(ui_ctx *u);
void ui_timeline_draw(ui_ctx *u);
void ui_timeline_key(ui_ctx *u, ui_action a);
void ui_timeline_follow(ui_ctx *u);            /* a running migration's new events */
double ui_timeline_now(const ui_ctx *u);
int64_t ui_timeline_cursor(const ui_ctx *u);
struct replay_src *ui_timeline_src(const ui_ctx *u);

/* ui_checklist.c: the downtime clock and duties */
void ui_downtime_key(ui_ctx *u);
void ui_duty_key(ui_ctx *u);

/* ui_panels.c */
void ui_flags_open(ui_ctx *u);
void ui_flags_draw(ui_ctx *u);
int ui_flags_key(ui_ctx *u, ui_action a);
void ui_health_open(ui_ctx *u);
/* The header's health mark: "♥ 3/3", "✗ 2/3 api" ("ok 3/3", "x 2/3 api"
 * in ASCII), "" before the first run or with no checks; the failing
 * check's name only when the whole fits in width columns. */
void ui_health_mark(ui_ctx *u, int width, char *buf, size_t n, bool *failing);
void ui_health_draw(ui_ctx *u);
int ui_health_key(ui_ctx *u, ui_action a);
void ui_panels_poll(ui_ctx *u);
void ui_panels_free(ui_ctx *u);

/* ui_keys.c */
unsigned ui_key_context(const ui_ctx *u);
const ui_key *ui_key_find(unsigned context, int code);
const ui_key *ui_key_find_for(const ui_ctx *u, unsigned context, int code);
/* Whether this console takes the key now (mode, what it was set up with). */
bool ui_key_usable(const ui_ctx *u, const ui_key *k);
void ui_key_dispatch(ui_ctx *u, int code, bool is_key_code);

/* ui_prompt.c */
void ui_prompt_open(ui_ctx *u, const ui_prompt_spec *spec);
bool ui_prompt_active(const ui_ctx *u);
void ui_prompt_key(ui_ctx *u, wint_t wch, bool is_key_code);
void ui_prompt_draw(ui_ctx *u);
/* Columns the prompt's title has before it is cut (for text cut to fit). */
int ui_prompt_title_cols(const ui_ctx *u);
/* The one confirmation of whatever changes the world: a line typed and
 * Enter, the answer being `word` (the item or phase id) or `yes`; word
 * NULL: `yes` only.  Every key typed goes into the line until Enter or
 * Esc, never to the console's keys. */
bool ui_confirmed(const char *text, const char *word);
/* The y/n answer of a question that changes nothing (y or yes, then Enter). */
bool ui_said_yes(const char *text);

#endif
