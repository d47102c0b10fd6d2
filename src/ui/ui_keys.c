/*
 * ui_keys.c -- the console's one key table and the dispatcher that runs it.
 * Each row of ui_keys[] names its key(s), where it works, its key-bar word,
 * its `?` line and its handler (htop's model): dispatch is a lookup, not a
 * switch.  Rows without a handler (moving, Enter, Space, Esc) pass their
 * action to the screen or pane with focus, whose descriptor (ui_screen) or
 * pane key function knows what they mean there.  The key bar and the help
 * (ui_keybar.c) are generated from the same rows and leave out what this
 * console refuses, so the screen never offers a key that only says no.
 * Keys follow htop/less/k9s habits: arrows and j/k, h/l/Tab between panes,
 * Enter to open, Space to tick, / to search, q to quit.  Where two rows
 * share a key (n: Note, or Next while a search is on, as in less), their
 * avail() callbacks say which one holds, for the dispatch and the bar alike.
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "ui_priv.h"

#define CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27
#define KEY_TAB '\t'

static void focus_pane(ui_ctx *u, int delta)
{
	int f = ((int)u->focus + delta + UI_PANE_N) % UI_PANE_N;
	/* a screen too short for the counts pane has none to focus */
	if (f == UI_PANE_SIDE && !u->w_side)
		f = (f + delta + UI_PANE_N) % UI_PANE_N;
	u->focus = (ui_pane)f;
	ui_mark(u, UI_DIRTY_RAIL | UI_DIRTY_SIDE | UI_DIRTY_LIST | UI_DIRTY_EVENTS | UI_DIRTY_KEYBAR);
}

/* 0-5: the phase with that id, else the phase at that position. */
static void jump_phase(ui_ctx *u, int digit)
{
	char id[16];
	snprintf(id, sizeof id, "%d", digit);
	for (size_t i = 0; i < u->rb->n_phases; i++)
		if (strcmp(u->rb->phases[i].id, id) == 0) {
			ui_select_phase(u, i);
			return;
		}
	ui_status(u, "no phase %s in this runbook", id);
}

/* r, e, +, -, < and >: asked of the module running the comparison; a console
 * without one (MONITOR has no database credentials) says so. */
static void counts_key(ui_ctx *u, ui_action a)
{
	if (!u->s.counts_cmd) {
		if (u->s.mode != UI_MODE_DRIVER)
			ui_status(u, "%s mode: no live counts here; the pane shows the driver's last recorded counts",
			          ui_mode_name(u->s.mode));
		else
			ui_status(u, "no live counts: the config needs a source, a target and tables");
		return;
	}
	ui_counts_cmd cmd = a == UI_ACT_COUNTS_EXACT ? UI_COUNTS_EXACT
	                  : a == UI_ACT_COUNTS_SLOWER ? UI_COUNTS_SLOWER
	                  : a == UI_ACT_COUNTS_FASTER ? UI_COUNTS_FASTER
	                  : a == UI_ACT_COUNTS_BUDGET_UP ? UI_COUNTS_BUDGET_UP
	                  : a == UI_ACT_COUNTS_BUDGET_DOWN ? UI_COUNTS_BUDGET_DOWN : UI_COUNTS_REFRESH;
	char msg[256] = "";
	u->s.counts_cmd(u->s.hook_ud, cmd, msg, sizeof msg);
	ui_status(u, "%s", msg);
	ui_side_poll(u);   /* show "counting..." or the new interval at once */
}


static void key_pane_next(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; focus_pane(u, 1); }
static void key_pane_prev(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; focus_pane(u, -1); }
static void key_phase(ui_ctx *u, const ui_key *k, int code) { (void)k; jump_phase(u, code - '0'); }
static void key_counts(ui_ctx *u, const ui_key *k, int code) { (void)code; counts_key(u, k->act); }
static void key_run(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_run_item(u, false); }
static void key_dry_run(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_run_item(u, true); }
static void key_rollback(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_run_rollback(u); }
static void key_output(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_output_show(u); }
static void key_downtime(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_downtime_key(u); }
static void key_duty(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_duty_key(u); }
static void key_parity(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_parity_open(u); }
static void key_go(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_go_open(u); }
static void key_freeze(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_freeze_open(u); }
static void key_verify(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_verify_open(u); }
static void key_log(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_log_open(u); }
static void key_counts_full(ui_ctx *u, const ui_key *k, int code) { (void)k; (void)code; ui_counts_open(u); }
static void key_replay(ui_ctx *u, const ui_key *k, int code) { (void)code; ui_timeline_key(u, k->act); }

static bool counts_live(const ui_ctx *u) { return u->s.counts_cmd != NULL; }
/* F and H read today's file and servers, not the night replayed */
static bool not_replay(const ui_ctx *u) { return u->replay == NULL; }

static void replay_refused(ui_ctx *u, const ui_key *k)
{
	ui_status(u, "REPLAY mode: %s shows today's %s; the replay's, as of the cursor, are under the timeline",
	          k->label, k->act == UI_ACT_FLAGS ? ".env flags" : "health");
}

static void key_flags(ui_ctx *u, const ui_key *k, int code)
{
	(void)code;
	if (u->replay)
		replay_refused(u, k);
	else
		ui_flags_open(u);
}

static void key_health(ui_ctx *u, const ui_key *k, int code)
{
	(void)code;
	if (u->replay)
		replay_refused(u, k);
	else
		ui_health_open(u);
}

static void key_help(ui_ctx *u, const ui_key *k, int code)
{
	(void)k; (void)code;
	ui_help_open(u);
}

static void key_redraw(ui_ctx *u, const ui_key *k, int code)
{
	(void)k; (void)code;
	clearok(curscr, TRUE);
	ui_mark(u, UI_DIRTY_ALL);
}

static void quit_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	if (ui_said_yes(text))
		u->quit = true;
}

static void key_quit(ui_ctx *u, const ui_key *k, int code)
{
	(void)k; (void)code;
	/* ask only when quitting would abandon something running */
	char what[160] = "";
	if (ui_run_busy(u, what, sizeof what) ||
	    (u->s.busy && u->s.busy(u->s.hook_ud, what, sizeof what))) {
		char title[256];
		snprintf(title, sizeof title, "%s is running. Quit anyway? (y/n, then Enter)", what[0] ? what : "Something");
		ui_prompt_open(u, &(ui_prompt_spec){.title = title, .hint = "y quits, n or Esc stays",
		                                    .required = true, .yes_no = true, .done = quit_answer});
		return;
	}
	u->quit = true;
}

static void search_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	snprintf(u->search, sizeof u->search, "%s", text);
	ui_checklist_search(u, u->search, true);
}

static void key_search(ui_ctx *u, const ui_key *k, int code)
{
	(void)k; (void)code;
	ui_prompt_open(u, &(ui_prompt_spec){.title = "Search items (every phase)",
	                                    .hint = "Enter finds, then n: next match, N: previous; Esc cancels",
	                                    .initial = u->search, .required = true, .done = search_answer});
}

/* n / N right after a search (as in less: next / previous match); Esc or
 * any other key ends it and n adds notes again. */
static void key_search_next(ui_ctx *u, const ui_key *k, int code)
{
	(void)code;
	if (!u->search[0])
		ui_status(u, "no search yet: press /");
	else if (k->act == UI_ACT_SEARCH_PREV)
		ui_checklist_search_prev(u, u->search);
	else
		ui_checklist_search(u, u->search, true);
}

static void key_search_end(ui_ctx *u, const ui_key *k, int code)
{
	(void)k; (void)code;
	if (!u->searching)
		return;   /* Esc with nothing to end: no message */
	u->searching = false;
	ui_status(u, "search ended: n adds a note again");
	ui_mark(u, UI_DIRTY_KEYBAR);
}

static bool searching(const ui_ctx *u) { return u->searching && u->search[0]; }
static bool not_searching(const ui_ctx *u) { return !searching(u); }

/* The same op as `pgcutover note [ITEM] TEXT`. */
static void note_answer(ui_ctx *u, const char *text, void *ctx)
{
	const ui_target *t = ctx;
	if (!ui_may_write(u))
		return;
	const rb_phase *ph = &u->rb->phases[t->phase];
	ops_ctx c = ui_ops_ctx(u);
	ops_outcome oc;
	ops_note(&c, t->phase, t->item, text, &oc);
	ui_after_write(u);
	if (oc.result == OPS_DONE)
		ui_status(u, "note recorded on %s%s", t->item != SIZE_MAX ? "" : "phase ",
		          t->item != SIZE_MAX ? ph->items[t->item].id : ph->id);
	else
		ui_status(u, "%.300s", oc.message);
}

static void key_note(ui_ctx *u, const ui_key *k, int code)
{
	(void)k; (void)code;
	char title[200];
	size_t it = SIZE_MAX;
	if (u->focus == UI_PANE_LIST && u->n_rows_v && u->rows_v[u->cursor].kind == UI_ROW_ITEM) {
		it = (size_t)u->rows_v[u->cursor].idx;
		snprintf(title, sizeof title, "Note on item %s", ui_cur_phase(u)->items[it].id);
	} else {
		snprintf(title, sizeof title, "Note on phase %s", ui_cur_phase(u)->id);
	}
	ui_prompt_open(u, &(ui_prompt_spec){.title = title, .hint = "Enter records the note, Esc cancels",
	                                    .required = true, .done = note_answer,
	                                    .ctx = ui_target_new(u->phase, it), .own_ctx = true});
}

static void key_follow(ui_ctx *u, const ui_key *k, int code)
{
	(void)k;
	(void)code;
	ui_follow_toggle(u);
}

const ui_key ui_keys[] = {
	{{KEY_UP, 'k'}, "\xe2\x86\x91/k", NULL, "move up", UI_ACT_UP, UI_KC_PANES | UI_KC_OVERLAY, false, 0, NULL, NULL},
	{{KEY_DOWN, 'j'}, "\xe2\x86\x93/j", "Move", "move down", UI_ACT_DOWN, UI_KC_PANES | UI_KC_OVERLAY, false, 3, NULL, NULL},
	{{KEY_PPAGE, CTRL('b')}, "PgUp", NULL, "page up", UI_ACT_PGUP, UI_KC_PANES | UI_KC_OVERLAY, false, 0, NULL, NULL},
	{{KEY_NPAGE, CTRL('f'), ' '}, "PgDn", NULL, "page down (Space in the log and help)", UI_ACT_PGDN, UI_KC_OVERLAY, false, 0, NULL, NULL},
	{{KEY_NPAGE, CTRL('f')}, "PgDn", NULL, "page down", UI_ACT_PGDN, UI_KC_PANES, false, 0, NULL, NULL},
	{{'g', KEY_HOME}, "g", NULL, "go to the top", UI_ACT_TOP, UI_KC_PANES | UI_KC_OVERLAY, false, 0, NULL, NULL},
	{{'G', KEY_END}, "G", NULL, "go to the bottom", UI_ACT_BOTTOM, UI_KC_PANES | UI_KC_OVERLAY, false, 0, NULL, NULL},
	{{'h', KEY_LEFT}, "h/l", NULL, "pane to the left (l: to the right)", UI_ACT_PANE_LEFT, UI_KC_PANES, false, 0, key_pane_prev, NULL},
	{{'l', KEY_RIGHT}, "l", NULL, NULL, UI_ACT_PANE_RIGHT, UI_KC_PANES, false, 0, key_pane_next, NULL},
	{{KEY_TAB}, "Tab", "Pane", "next pane (Shift-Tab: previous)", UI_ACT_PANE_NEXT, UI_KC_PANES, false, 6, key_pane_next, NULL},
	{{KEY_BTAB}, "S-Tab", NULL, NULL, UI_ACT_PANE_PREV, UI_KC_PANES, false, 0, key_pane_prev, NULL},
	{{'\n', '\r', KEY_ENTER}, "Enter", "Open", "fold/unfold a step or item; an item's details; events: the log; log: an event's every field; flags: set one", UI_ACT_OPEN, UI_KC_PANES | UI_KC_LOG | UI_KC_FLAGS, false, 5, NULL, NULL},
	{{' '}, "Space", "Tick", "tick/untick the item (untick asks why); phases: record complete", UI_ACT_TICK, UI_KC_LIST | UI_KC_RAIL, true, 2, NULL, NULL},
	{{'n'}, "n", "Note", "add a note (to the item under the cursor, else to the phase)", UI_ACT_NOTE, UI_KC_PANES, true, 4, key_note, not_searching},
	{{'c'}, "c", "Cmd", "show the item's command and details", UI_ACT_COMMAND, UI_KC_LIST, false, 9, NULL, NULL},
	{{'/'}, "/", "Search", "search items in every phase", UI_ACT_SEARCH, UI_KC_PANES, false, 7, key_search, NULL},
	{{'/'}, "/", "Search", "search the log's events", UI_ACT_SEARCH, UI_KC_LOG, false, 7, NULL, NULL},
	{{'n'}, "n/N", "Next/Prev", "next / previous search match (as in less)", UI_ACT_SEARCH_NEXT, UI_KC_LOG, false, 7, NULL, NULL},
	{{'N'}, "N", NULL, NULL, UI_ACT_SEARCH_PREV, UI_KC_LOG, false, 0, NULL, NULL},
	{{'n'}, "n/N", "Next/Prev", "while a search is on: next / previous match (as in less)", UI_ACT_SEARCH_NEXT, UI_KC_PANES, false, 4, key_search_next, searching},
	{{'N'}, "N", NULL, NULL, UI_ACT_SEARCH_PREV, UI_KC_PANES, false, 0, key_search_next, searching},
	{{KEY_ESC}, "Esc", "End search", "end the search (n adds notes again)", UI_ACT_SEARCH_END, UI_KC_PANES, false, 5, key_search_end, searching},
	{{'0', '1', '2', '3', '4', '5'}, "0-5", "Phase", "jump to phase 0 ... 5", UI_ACT_PHASE, UI_KC_PANES, false, 8, key_phase, NULL},
	{{'z'}, "z/Z", NULL, "fold every step of the phase (Z unfolds all)", UI_ACT_FOLD_ALL, UI_KC_LIST, false, 0, NULL, NULL},
	{{'Z'}, "Z", NULL, NULL, UI_ACT_UNFOLD_ALL, UI_KC_LIST, false, 0, NULL, NULL},
	{{'r'}, "r", "Recount", "row counts: refresh now (estimates, then exact where cheap)", UI_ACT_COUNTS_REFRESH, UI_KC_PANES | UI_KC_COUNTS, false, 9, key_counts, counts_live},
	{{'e'}, "e", NULL, "row counts: exact count(*) of every table now", UI_ACT_COUNTS_EXACT, UI_KC_PANES | UI_KC_COUNTS, false, 0, key_counts, counts_live},
	{{'+', '='}, "+/-", NULL, "row counts: exact re-counts may take more / less of each server's time (0 to 100%, default 10%)", UI_ACT_COUNTS_BUDGET_UP, UI_KC_PANES | UI_KC_COUNTS, false, 0, key_counts, counts_live},
	{{'-'}, "-", NULL, NULL, UI_ACT_COUNTS_BUDGET_DOWN, UI_KC_PANES | UI_KC_COUNTS, false, 0, key_counts, counts_live},
	{{'>'}, ">/<", NULL, "row counts: refresh less often / more often (to off)", UI_ACT_COUNTS_SLOWER, UI_KC_PANES, false, 0, key_counts, counts_live},
	{{'<'}, "<", NULL, NULL, UI_ACT_COUNTS_FASTER, UI_KC_PANES, false, 0, key_counts, counts_live},
	{{'x'}, "x", "Run", "run the item's (or the step's own) command: shows it, asks (the id or yes, then Enter), then runs it", UI_ACT_RUN, UI_KC_LIST, true, 6, key_run, NULL},
	{{'X'}, "X", NULL, "dry run: what the item's command would run and which flags it would change", UI_ACT_DRY_RUN, UI_KC_LIST, false, 0, key_dry_run, NULL},
	{{'R'}, "R", "Rollback", "roll the selected phase back: shows the steps and flags, asks (the phase id or yes, then Enter)", UI_ACT_ROLLBACK, UI_KC_RAIL, true, 6, key_rollback, NULL},
	{{'o'}, "o", NULL, "the last command's output (Ctrl-C there cancels a running one)", UI_ACT_OUTPUT, UI_KC_PANES, false, 0, key_output, NULL},
	{{'F'}, "F", NULL, ".env flags: values, who set them, changes behind pgcutover's back; Enter sets one", UI_ACT_FLAGS, UI_KC_PANES, false, 0, key_flags, not_replay},
	{{'H'}, "H", NULL, "health checks: run them all now (H again re-runs), with history", UI_ACT_HEALTH, UI_KC_PANES | UI_KC_HEALTH, false, 0, key_health, not_replay},
	{{'D'}, "D", NULL, "downtime starts now / ends now (asks first; the header shows the clock)", UI_ACT_DOWNTIME, UI_KC_PANES, true, 0, key_downtime, NULL},
	{{'O'}, "O", NULL, "the next open item (on to the next phases)", UI_ACT_NEXT_OPEN, UI_KC_LIST, false, 0, NULL, NULL},
	{{'v'}, "v", NULL, "filter the checklist: all, open items, items whose last run failed, blocked items", UI_ACT_FILTER, UI_KC_LIST, false, 0, NULL, NULL},
	{{'f'}, "f", NULL, "monitor: follow the driver's phase and item, or stop (moving the cursor stops it)", UI_ACT_FOLLOW, UI_KC_PANES, false, 0, key_follow, NULL},
	{{'U'}, "U", NULL, "undo your last tick: unticks it after asking why (audited)", UI_ACT_UNDO_TICK, UI_KC_LIST, true, 0, NULL, NULL},
	{{'u'}, "u", NULL, "a recurring duty (\"Every 2 hours: ...\") done now: restarts its timer", UI_ACT_DUTY, UI_KC_LIST, true, 0, key_duty, NULL},
	{{'p'}, "p", NULL, "schema and sequence parity, source vs target (p again re-runs)", UI_ACT_PARITY, UI_KC_PANES | UI_KC_PARITY, false, 0, key_parity, NULL},
	{{'B'}, "B", NULL, "go/no-go board for the switch: freeze, sync, counts, sequences, schema, health, verify (B again re-checks)", UI_ACT_GO, UI_KC_PANES | UI_KC_GO, false, 0, key_go, not_replay},
	{{'W'}, "W", NULL, "write freeze: who still writes to the source, proven after the quiet window (W again restarts)", UI_ACT_FREEZE, UI_KC_PANES | UI_KC_FREEZE, false, 0, key_freeze, not_replay},
	{{'V'}, "V", NULL, "row-level verify, source vs target: progress per table, what differs (V hides it while it runs, Esc cancels)", UI_ACT_VERIFY, UI_KC_PANES | UI_KC_VERIFY, false, 0, key_verify, NULL},
	{{'C'}, "C", NULL, "row counts full screen: every table, differences first, with its difference, exact or estimate, age", UI_ACT_COUNTS_FULL, UI_KC_PANES, false, 0, key_counts_full, NULL},
	{{'L'}, "L", "Log", "full audit log with search", UI_ACT_LOG, UI_KC_PANES, false, 8, key_log, NULL},
	{{'?', KEY_F(1)}, "?", "Help", "this help", UI_ACT_HELP, UI_KC_PANES, false, 1, key_help, NULL},
	{{KEY_ESC, 'q', KEY_BACKSPACE}, "Esc/q", "Back", "close this view", UI_ACT_BACK, UI_KC_OVERLAY, false, 1, NULL, NULL},
	{{CTRL('l')}, "^L", NULL, "repaint the screen", UI_ACT_REDRAW, UI_KC_PANES | UI_KC_OVERLAY | UI_KC_SMALL, false, 0, key_redraw, NULL},
	{{'q', KEY_F(10)}, "q", "Quit", "quit the console", UI_ACT_QUIT, UI_KC_PANES | UI_KC_SMALL, false, 0, key_quit, NULL},
	/* REPLAY mode: looked up before the pane keys (Space is Tick there) */
	{{' '}, "Space", "Play", "play / pause the replay", UI_ACT_RP_PLAY, UI_KC_REPLAY, false, 1, key_replay, NULL},
	{{'<'}, "</>", "Speed", "slower (> faster): 1x to 1000x", UI_ACT_RP_SLOWER, UI_KC_REPLAY, false, 3, key_replay, NULL},
	{{'>'}, ">", NULL, NULL, UI_ACT_RP_FASTER, UI_KC_REPLAY, false, 0, key_replay, NULL},
	{{'.'}, "./,", "Step", "next event (, previous event)", UI_ACT_RP_EV_NEXT, UI_KC_REPLAY, false, 2, key_replay, NULL},
	{{','}, ",", NULL, NULL, UI_ACT_RP_EV_PREV, UI_KC_REPLAY, false, 0, key_replay, NULL},
	{{'['}, "[/]", "Phase start", "previous phase start (] next)", UI_ACT_RP_PHASE_PREV, UI_KC_REPLAY, false, 5, key_replay, NULL},
	{{']'}, "]", NULL, NULL, UI_ACT_RP_PHASE_NEXT, UI_KC_REPLAY, false, 0, key_replay, NULL},
	{{'t'}, "t", "Time", "go to a time (HH:MM[:SS] or a date and time)", UI_ACT_RP_SEEK, UI_KC_REPLAY, false, 4, key_replay, NULL},
};

const size_t ui_n_keys = sizeof ui_keys / sizeof ui_keys[0];

unsigned ui_key_context(const ui_ctx *u)
{
	if (u->too_small)
		return UI_KC_SMALL;
	if (u->overlay)
		return u->overlay->kc;
	switch (u->focus) {
	case UI_PANE_RAIL: return UI_KC_RAIL;
	case UI_PANE_EVENTS: return UI_KC_EVENTS;
	case UI_PANE_SIDE: return UI_KC_SIDE;
	default: return UI_KC_LIST;
	}
}

const ui_key *ui_key_find(unsigned context, int code)
{
	return ui_key_find_for(NULL, context, code);
}

/* With u: a row this console takes wins over an earlier one it refuses
 * (n is Note, or Next while a search is on); with none usable, the first,
 * which then says why it is refused. */
const ui_key *ui_key_find_for(const ui_ctx *u, unsigned context, int code)
{
	const ui_key *first = NULL;
	for (size_t i = 0; i < ui_n_keys; i++) {
		if (!(ui_keys[i].contexts & context))
			continue;
		for (int j = 0; j < UI_KEY_CODES && ui_keys[i].codes[j]; j++)
			if (ui_keys[i].codes[j] == code) {
				if (!u || ui_key_usable(u, &ui_keys[i]))
					return &ui_keys[i];
				if (!first)
					first = &ui_keys[i];
				break;
			}
	}
	return first;
}

bool ui_key_usable(const ui_ctx *u, const ui_key *k)
{
	if (k->writes && ui_read_only(u))
		return false;
	return !k->avail || k->avail(u);
}

static void clear_status(ui_ctx *u)
{
	if (u->status_msg[0]) {
		u->status_msg[0] = '\0';
		ui_mark(u, UI_DIRTY_KEYBAR);
	}
}

/* The panes' key functions, by focus. */
static int (*const pane_key[UI_PANE_N])(ui_ctx *, ui_action) = {
	[UI_PANE_RAIL] = ui_rail_key, [UI_PANE_LIST] = ui_checklist_key, [UI_PANE_EVENTS] = ui_events_key,
	[UI_PANE_SIDE] = ui_side_key,
};

/* Whether a key moves the monitor's own cursor (which stops following). */
static bool moves_cursor(ui_action a)
{
	switch (a) {
	case UI_ACT_UP: case UI_ACT_DOWN: case UI_ACT_PGUP: case UI_ACT_PGDN: case UI_ACT_TOP:
	case UI_ACT_BOTTOM: case UI_ACT_PHASE: case UI_ACT_NEXT_OPEN: case UI_ACT_SEARCH_NEXT:
		return true;
	default:
		return false;
	}
}

void ui_key_dispatch(ui_ctx *u, int code, bool is_key_code)
{
	unsigned ctx = ui_key_context(u);
	/* keys typed ahead act on the tree as it is now, not as last drawn */
	if (u->rows_stale)
		ui_checklist_rebuild(u);
	/* function keys and characters share a number space: keep them apart */
	if (!is_key_code && code >= KEY_MIN)
		return;
	if (!is_key_code && code == '\r')
		code = '\n';
	/* REPLAY's own keys win over the pane keys they share (Space) */
	const ui_key *k = NULL;
	if (u->replay && (ctx & UI_KC_PANES))
		k = ui_key_find_for(u, UI_KC_REPLAY, code);
	if (!k)
		k = ui_key_find_for(u, ctx, code);
	if (!k) {
		/* Esc where there is nothing to close is not worth a message */
		if (ctx != UI_KC_SMALL && code != KEY_ESC)
			ui_status(u, "key not used here; ? lists the keys");
		return;
	}
	if (k->writes && ui_read_only(u)) {
		ui_status(u, "%s mode: %s is disabled", ui_mode_name(u->s.mode), k->label);
		return;
	}
	clear_status(u);
	/* a search stays on for n / N (and ?) only: any other key ends it, so
	 * n after a tick is a note again */
	if (u->searching && (ctx & UI_KC_PANES) && k->act != UI_ACT_SEARCH_NEXT && k->act != UI_ACT_SEARCH_PREV &&
	    k->act != UI_ACT_SEARCH_END && k->act != UI_ACT_HELP) {
		u->searching = false;
		ui_mark(u, UI_DIRTY_KEYBAR);
	}
	if (u->follow && !u->overlay && ctx != UI_KC_SMALL && moves_cursor(k->act)) {
		u->follow = false;   /* the monitor's operator looks elsewhere now */
		ui_status(u, "not following %s (f follows again)", u->driver[0] ? u->driver : "the driver");
		ui_mark(u, UI_DIRTY_HEADER);
	}
	if (k->run)
		k->run(u, k, code);
	else if (ctx == UI_KC_SMALL)
		return;
	else if (u->overlay) {
		/* Esc closes any screen that has nothing of its own to do first */
		if (!u->overlay->key(u, k->act) && k->act == UI_ACT_BACK)
			ui_overlay_close(u);
	}
	else
		pane_key[u->focus](u, k->act);
}
