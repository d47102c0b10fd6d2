/*
 * ui_keys.c -- the console's one key table and the dispatcher that runs it.
 * The key bar (ui_keybar.c) and the `?` help are generated from ui_keys[],
 * so what the screen says a key does is what it does.  Keys follow
 * htop/less/k9s habits: arrows and j/k, h/l/Tab between panes, Enter to
 * open, Space to tick, / to search, q to quit.
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "ui_priv.h"

#define CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27
#define KEY_TAB '\t'

const ui_key ui_keys[] = {
	{{KEY_UP, 'k'}, "\xe2\x86\x91/k", NULL, "move up", UI_ACT_UP, UI_KC_PANES | UI_KC_OVERLAY, false, 0},
	{{KEY_DOWN, 'j'}, "\xe2\x86\x93/j", "Move", "move down", UI_ACT_DOWN, UI_KC_PANES | UI_KC_OVERLAY, false, 3},
	{{KEY_PPAGE, CTRL('b')}, "PgUp", NULL, "page up", UI_ACT_PGUP, UI_KC_PANES | UI_KC_OVERLAY, false, 0},
	{{KEY_NPAGE, CTRL('f'), ' '}, "PgDn", NULL, "page down (Space in the log and help)", UI_ACT_PGDN, UI_KC_OVERLAY, false, 0},
	{{KEY_NPAGE, CTRL('f')}, "PgDn", NULL, "page down", UI_ACT_PGDN, UI_KC_PANES, false, 0},
	{{'g', KEY_HOME}, "g", NULL, "go to the top", UI_ACT_TOP, UI_KC_PANES | UI_KC_OVERLAY, false, 0},
	{{'G', KEY_END}, "G", NULL, "go to the bottom", UI_ACT_BOTTOM, UI_KC_PANES | UI_KC_OVERLAY, false, 0},
	{{'h', KEY_LEFT}, "h/l", NULL, "pane to the left (l: to the right)", UI_ACT_PANE_LEFT, UI_KC_PANES, false, 0},
	{{'l', KEY_RIGHT}, "l", NULL, NULL, UI_ACT_PANE_RIGHT, UI_KC_PANES, false, 0},
	{{KEY_TAB}, "Tab", "Pane", "next pane (Shift-Tab: previous)", UI_ACT_PANE_NEXT, UI_KC_PANES, false, 6},
	{{KEY_BTAB}, "S-Tab", NULL, NULL, UI_ACT_PANE_PREV, UI_KC_PANES, false, 0},
	{{'\n', '\r', KEY_ENTER}, "Enter", "Open", "fold/unfold a step or item; an item's details; events: the log; flags: set one", UI_ACT_OPEN, UI_KC_PANES | UI_KC_FLAGS, false, 5},
	{{' '}, "Space", "Tick", "tick/untick the item (untick asks why); phases: record complete", UI_ACT_TICK, UI_KC_LIST | UI_KC_RAIL, true, 2},
	{{'n'}, "n", "Note", "add a note (to the item under the cursor, else to the phase)", UI_ACT_NOTE, UI_KC_PANES, true, 4},
	{{'c'}, "c", "Cmd", "show the item's command and details", UI_ACT_COMMAND, UI_KC_LIST, false, 9},
	{{'/'}, "/", "Search", "search items in every phase (the log: search events)", UI_ACT_SEARCH, UI_KC_PANES | UI_KC_LOG, false, 7},
	{{'n', 'N'}, "n", "Next", "next search match", UI_ACT_SEARCH_NEXT, UI_KC_LOG, false, 7},
	{{'N'}, "N", NULL, "next search match", UI_ACT_SEARCH_NEXT, UI_KC_PANES, false, 0},
	{{'0', '1', '2', '3', '4', '5'}, "0-5", "Phase", "jump to phase 0 ... 5", UI_ACT_PHASE, UI_KC_PANES, false, 8},
	{{'z'}, "z/Z", NULL, "fold every step of the phase (Z unfolds all)", UI_ACT_FOLD_ALL, UI_KC_LIST, false, 0},
	{{'Z'}, "Z", NULL, NULL, UI_ACT_UNFOLD_ALL, UI_KC_LIST, false, 0},
	{{'r'}, "r", "Recount", "row counts: refresh now (estimates, then exact where cheap)", UI_ACT_COUNTS_REFRESH, UI_KC_PANES, false, 9},
	{{'e'}, "e", NULL, "row counts: exact count(*) of every table now", UI_ACT_COUNTS_EXACT, UI_KC_PANES, false, 0},
	{{'+', '='}, "+/-", NULL, "row counts: refresh less often / more often (to off)", UI_ACT_COUNTS_SLOWER, UI_KC_PANES, false, 0},
	{{'-'}, "-", NULL, NULL, UI_ACT_COUNTS_FASTER, UI_KC_PANES, false, 0},
	{{'x'}, "x", "Run", "run the item's command: shows it, asks, then runs it (phase 5 and rollback steps: type the id)", UI_ACT_RUN, UI_KC_LIST, true, 6},
	{{'X'}, "X", NULL, "dry run: what the item's command would run and which flags it would change", UI_ACT_DRY_RUN, UI_KC_LIST, false, 0},
	{{'R'}, "R", "Rollback", "roll the selected phase back: shows the steps and flags, asks for the phase id", UI_ACT_ROLLBACK, UI_KC_RAIL, true, 6},
	{{'o'}, "o", NULL, "the last command's output (Ctrl-C there cancels a running one)", UI_ACT_OUTPUT, UI_KC_PANES, false, 0},
	{{'F'}, "F", NULL, ".env flags: values, who set them, changes behind pgcutover's back; Enter sets one", UI_ACT_FLAGS, UI_KC_PANES, false, 0},
	{{'H'}, "H", NULL, "health checks: run them all now (H again re-runs), with history", UI_ACT_HEALTH, UI_KC_PANES | UI_KC_HEALTH, false, 0},
	{{'D'}, "D", NULL, "downtime starts now / ends now (asks first; the header shows the clock)", UI_ACT_DOWNTIME, UI_KC_PANES, true, 0},
	{{'u'}, "u", NULL, "a recurring duty (\"Every 2 hours: ...\") done now: restarts its timer", UI_ACT_DUTY, UI_KC_LIST, true, 0},
	{{'p'}, "p", NULL, "schema and sequence parity, source vs target (p again re-runs)", UI_ACT_PARITY, UI_KC_PANES | UI_KC_PARITY, false, 0},
	{{'L'}, "L", "Log", "full audit log with search", UI_ACT_LOG, UI_KC_PANES, false, 8},
	{{'?', KEY_F(1)}, "?", "Help", "this help", UI_ACT_HELP, UI_KC_PANES, false, 1},
	{{KEY_ESC, 'q', KEY_BACKSPACE}, "Esc/q", "Back", "close this view", UI_ACT_BACK, UI_KC_OVERLAY, false, 1},
	{{CTRL('l')}, "^L", NULL, "repaint the screen", UI_ACT_REDRAW, UI_KC_PANES | UI_KC_OVERLAY | UI_KC_SMALL, false, 0},
	{{'q', KEY_F(10)}, "q", "Quit", "quit the console", UI_ACT_QUIT, UI_KC_PANES | UI_KC_SMALL, false, 0},
	/* REPLAY mode: looked up before the pane keys (Space is Tick there) */
	{{' '}, "Space", "Play", "play / pause the replay", UI_ACT_RP_PLAY, UI_KC_REPLAY, false, 1},
	{{'<'}, "</>", "Speed", "slower (> faster): 1x to 1000x", UI_ACT_RP_SLOWER, UI_KC_REPLAY, false, 3},
	{{'>'}, ">", NULL, NULL, UI_ACT_RP_FASTER, UI_KC_REPLAY, false, 0},
	{{'.'}, "./,", "Step", "next event (, previous event)", UI_ACT_RP_EV_NEXT, UI_KC_REPLAY, false, 2},
	{{','}, ",", NULL, NULL, UI_ACT_RP_EV_PREV, UI_KC_REPLAY, false, 0},
	{{'['}, "[/]", "Phase start", "previous phase start (] next)", UI_ACT_RP_PHASE_PREV, UI_KC_REPLAY, false, 5},
	{{']'}, "]", NULL, NULL, UI_ACT_RP_PHASE_NEXT, UI_KC_REPLAY, false, 0},
	{{'t'}, "t", "Time", "go to a time (HH:MM[:SS] or a date and time)", UI_ACT_RP_SEEK, UI_KC_REPLAY, false, 4},
};
const size_t ui_n_keys = sizeof ui_keys / sizeof ui_keys[0];

unsigned ui_key_context(const ui_ctx *u)
{
	if (u->too_small)
		return UI_KC_SMALL;
	switch (u->overlay) {
	case UI_OV_HELP: return UI_KC_HELP;
	case UI_OV_LOG: return UI_KC_LOG;
	case UI_OV_DETAIL: return UI_KC_DETAIL;
	case UI_OV_PARITY: return UI_KC_PARITY;
	case UI_OV_OUTPUT: return UI_KC_OUTPUT;
	case UI_OV_FLAGS: return UI_KC_FLAGS;
	case UI_OV_HEALTH: return UI_KC_HEALTH;
	case UI_OV_NONE: break;
	}
	switch (u->focus) {
	case UI_PANE_RAIL: return UI_KC_RAIL;
	case UI_PANE_EVENTS: return UI_KC_EVENTS;
	default: return UI_KC_LIST;
	}
}

const ui_key *ui_key_find(unsigned context, int code)
{
	for (size_t i = 0; i < ui_n_keys; i++) {
		if (!(ui_keys[i].contexts & context))
			continue;
		for (int j = 0; j < UI_KEY_CODES && ui_keys[i].codes[j]; j++)
			if (ui_keys[i].codes[j] == code)
				return &ui_keys[i];
	}
	return NULL;
}

static void focus_pane(ui_ctx *u, int delta)
{
	int f = ((int)u->focus + delta + UI_PANE_N) % UI_PANE_N;
	u->focus = (ui_pane)f;
	ui_mark(u, UI_DIRTY_RAIL | UI_DIRTY_LIST | UI_DIRTY_EVENTS | UI_DIRTY_KEYBAR);
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

/* r, e, + and -: asked of the module running the comparison; a console
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
	                  : a == UI_ACT_COUNTS_FASTER ? UI_COUNTS_FASTER : UI_COUNTS_REFRESH;
	char msg[256] = "";
	u->s.counts_cmd(u->s.hook_ud, cmd, msg, sizeof msg);
	ui_status(u, "%s", msg);
	ui_side_poll(u);   /* show "counting..." or the new interval at once */
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
	if (u->replay && (ctx & UI_KC_PANES)) {
		const ui_key *rk = ui_key_find(UI_KC_REPLAY, code);
		if (rk) {
			if (u->status_msg[0]) {
				u->status_msg[0] = '\0';
				ui_mark(u, UI_DIRTY_KEYBAR);
			}
			ui_timeline_key(u, rk->act);
			return;
		}
	}
	const ui_key *k = ui_key_find(ctx, code);
	if (!k) {
		/* Esc where there is nothing to close is not worth a message */
		if (ctx != UI_KC_SMALL && code != KEY_ESC)
			ui_status(u, "key not used here; ? lists the keys");
		return;
	}
	if (u->replay && (k->act == UI_ACT_FLAGS || k->act == UI_ACT_HEALTH)) {
		/* those panels read today's file and servers, not the night replayed */
		ui_status(u, "REPLAY mode: %s shows today's %s; the replay's, as of the cursor, are under the timeline",
		          k->label, k->act == UI_ACT_FLAGS ? ".env flags" : "health");
		return;
	}
	if (k->writes && ui_read_only(u)) {
		ui_status(u, "%s mode: %s is disabled", ui_mode_name(u->s.mode), k->label);
		return;
	}
	if (u->status_msg[0]) {
		u->status_msg[0] = '\0';
		ui_mark(u, UI_DIRTY_KEYBAR);
	}
	switch (k->act) {
	case UI_ACT_QUIT: {
		/* ask only when quitting would abandon something running */
		char what[160] = "";
		if (ui_run_busy(u, what, sizeof what) ||
		    (u->s.busy && u->s.busy(u->s.hook_ud, what, sizeof what))) {
			char title[256];
			snprintf(title, sizeof title, "%s is running. Quit anyway? (y/n)", what[0] ? what : "Something");
			ui_prompt_open(u, UI_PROMPT_QUIT, title, "y quits, n or Esc stays", NULL, true, u->phase, SIZE_MAX);
			return;
		}
		u->quit = true;
		return;
	}
	case UI_ACT_REDRAW:
		clearok(curscr, TRUE);
		ui_mark(u, UI_DIRTY_ALL);
		return;
	default:
		break;
	}
	switch (ctx) {
	case UI_KC_HELP: ui_help_key(u, k->act); return;
	case UI_KC_LOG: ui_log_key(u, k->act); return;
	case UI_KC_DETAIL: ui_detail_key(u, k->act); return;
	case UI_KC_PARITY: ui_parity_key(u, k->act); return;
	case UI_KC_OUTPUT: ui_output_key(u, k->act); return;
	case UI_KC_FLAGS: ui_flags_key(u, k->act); return;
	case UI_KC_HEALTH: ui_health_key(u, k->act); return;
	case UI_KC_SMALL: return;
	default: break;
	}
	switch (k->act) {
	case UI_ACT_PANE_LEFT: focus_pane(u, -1); return;
	case UI_ACT_PANE_RIGHT: case UI_ACT_PANE_NEXT: focus_pane(u, 1); return;
	case UI_ACT_PANE_PREV: focus_pane(u, -1); return;
	case UI_ACT_PHASE:
		jump_phase(u, code - '0');
		return;
	case UI_ACT_LOG:
		ui_log_open(u);
		return;
	case UI_ACT_COUNTS_REFRESH: case UI_ACT_COUNTS_EXACT:
	case UI_ACT_COUNTS_SLOWER: case UI_ACT_COUNTS_FASTER:
		counts_key(u, k->act);
		return;
	case UI_ACT_PARITY:
		ui_parity_open(u);
		return;
	case UI_ACT_RUN: ui_run_item(u, false); return;
	case UI_ACT_DRY_RUN: ui_run_item(u, true); return;
	case UI_ACT_ROLLBACK: ui_run_rollback(u); return;
	case UI_ACT_OUTPUT: ui_output_show(u); return;
	case UI_ACT_DOWNTIME: ui_downtime_key(u); return;
	case UI_ACT_DUTY: ui_duty_key(u); return;
	case UI_ACT_FLAGS: ui_flags_open(u); return;
	case UI_ACT_HEALTH: ui_health_open(u); return;
	case UI_ACT_HELP:
		u->overlay = UI_OV_HELP;
		u->help_top = 0;
		ui_mark(u, UI_DIRTY_ALL);
		return;
	case UI_ACT_SEARCH:
		ui_prompt_open(u, UI_PROMPT_SEARCH, "Search items (every phase)",
		               "Enter finds the next match, N repeats, Esc cancels", u->search, true,
		               u->phase, SIZE_MAX);
		return;
	case UI_ACT_SEARCH_NEXT:
		if (u->search[0])
			ui_checklist_search(u, u->search, true);
		else
			ui_status(u, "no search yet: press /");
		return;
	case UI_ACT_NOTE:
		if (u->focus == UI_PANE_LIST && u->n_rows_v && u->rows_v[u->cursor].kind == UI_ROW_ITEM) {
			size_t it = (size_t)u->rows_v[u->cursor].idx;
			char title[200];
			snprintf(title, sizeof title, "Note on item %s", ui_cur_phase(u)->items[it].id);
			ui_prompt_open(u, UI_PROMPT_NOTE, title, "Enter records the note, Esc cancels",
			               NULL, true, u->phase, it);
		} else {
			char title[200];
			snprintf(title, sizeof title, "Note on phase %s", ui_cur_phase(u)->id);
			ui_prompt_open(u, UI_PROMPT_NOTE, title, "Enter records the note, Esc cancels",
			               NULL, true, u->phase, SIZE_MAX);
		}
		return;
	default:
		break;
	}
	switch (u->focus) {
	case UI_PANE_RAIL: ui_rail_key(u, k->act); break;
	case UI_PANE_EVENTS: ui_events_key(u, k->act); break;
	default: ui_checklist_key(u, k->act); break;
	}
}
