/*
 * ui_events.c -- the event strip (the last audit events, newest first) and
 * the full log overlay (`L`) with search (`/`, then n for the next match and N for the previous, as in less,
 * in the lines and the events' fields) and, on Enter, the selected event's
 * every field.  Events are read with state_foreach() after the last one
 * seen, so events appended by another process (a headless `tick`) show up
 * on the next timer tick.  Every line and detail is built once from the
 * event by evpay.c (evp_event_line_rb: a tick with its item's text;
 * evp_event_detail), sanitised.  The strip folds consecutive counts
 * snapshots into one line ("counts ×12, last 02:05: 3 differ"): the
 * console records one every refresh and they pushed everything else out.
 * In REPLAY mode both show the log up to the cursor (ui_timeline.c).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/replay.h"
#include "ui_priv.h"

#define EVENT_TIME_COLS 9

/* detail: the log's entries keep every field, for Enter and `/`. */
static void ev_fill(ui_ev *dst, const st_event *ev, bool detail, const runbook *u_rb)
{
	dst->id = ev->id;
	dst->ts = ev->ts;
	dst->kind = xstrdup(ev->kind ? ev->kind : "");
	dst->line = evp_event_line_rb(ev, u_rb);
	dst->detail = detail ? evp_event_detail(ev) : NULL;
	dst->brief = NULL;
	dst->who = NULL;
	dst->repeat = 1;
}

static void ev_clear(ui_ev *e)
{
	free(e->kind);
	free(e->line);
	free(e->detail);
	free(e->brief);
	free(e->who);
}

/* The strip folds a run of periodic counts snapshots into its newest
 * entry ("counts ×12, last 02:05: 3 differ"); the full log keeps them all. */
static bool ev_fold_counts(ui_ctx *u, const st_event *ev)
{
	if (!ev->kind || strcmp(ev->kind, EV_COUNTS) != 0)
		return false;
	ui_ev *last = u->n_events ? &u->events[u->n_events - 1] : NULL;
	unsigned repeat = last && strcmp(last->kind, EV_COUNTS) == 0 ? last->repeat + 1 : 0;
	if (repeat) {
		ev_clear(last);
		u->n_events--;
	}
	ui_ev *e = &u->events[u->n_events++];
	ev_fill(e, ev, false, u->rb);
	e->brief = evp_event_brief(ev);
	e->who = pgc_sanitize(ev->operator_name ? ev->operator_name : "?");
	if (repeat)
		e->repeat = repeat;
	return true;
}

static int on_event(const st_event *ev, void *ud)
{
	ui_ctx *u = ud;
	if (u->n_events == UI_EVENT_RING) {
		ev_clear(&u->events[0]);
		memmove(u->events, u->events + 1, (UI_EVENT_RING - 1) * sizeof *u->events);
		u->n_events--;
	}
	if (!ev_fold_counts(u, ev))
		ev_fill(&u->events[u->n_events++], ev, false, u->rb);
	if (u->log && (u->n_log == 0 || ev->id > u->log[u->n_log - 1].id)) {
		u->log = xrealloc(u->log, (u->n_log + 1) * sizeof *u->log);
		ev_fill(&u->log[u->n_log++], ev, true, u->rb);
		u->log_list.n = u->n_log;
		if (u->log_list.cursor)
			u->log_list.cursor++;   /* stay on the same event as new ones arrive */
	}
	u->ev_last_id = ev->id;
	return 0;
}

void ui_events_load(ui_ctx *u)
{
	pgc_err e = {0};
	if (!u->events)
		u->events = xcalloc(UI_EVENT_RING, sizeof *u->events);
	if (u->replay) {
		/* the strip ends at the cursor, wherever it moved */
		for (size_t i = 0; i < u->n_events; i++)
			ev_clear(&u->events[i]);
		u->n_events = 0;
		u->ev_scroll = 0;
		int64_t upto = ui_timeline_cursor(u);
		if (replay_foreach(ui_timeline_src(u), upto - UI_EVENT_RING + 1, upto, on_event, u, &e) < 0)
			ui_status(u, "replay: %.200s", e.msg);
		ui_mark(u, UI_DIRTY_EVENTS | UI_DIRTY_OVERLAY);
		return;
	}
	int64_t last = state_last_id(u->s.st);
	int64_t after = u->ev_last_id;
	if (last - after > UI_EVENT_RING && !u->log)
		after = last - UI_EVENT_RING;
	if (state_foreach(u->s.st, after, on_event, u, &e) != 0 && e.msg[0])
		ui_status(u, "state: %.200s", e.msg);
	ui_mark(u, UI_DIRTY_EVENTS | UI_DIRTY_OVERLAY);
}

void ui_events_reset(ui_ctx *u)
{
	for (size_t i = 0; i < u->n_events; i++)
		ev_clear(&u->events[i]);
	u->n_events = 0;
	u->ev_scroll = 0;
	u->ev_last_id = 0;
	ui_events_load(u);
}

void ui_events_free(ui_ctx *u)
{
	for (size_t i = 0; i < u->n_events; i++)
		ev_clear(&u->events[i]);
	free(u->events);
	u->events = NULL;
	u->n_events = 0;
}

static void draw_event(ui_ctx *u, WINDOW *w, int y, const ui_ev *ev, int width, attr_t attr)
{
	char clock[16];
	ui_fmt_clock(ev->ts, clock, sizeof clock, true);
	ui_put(u, w, y, 1, clock, EVENT_TIME_COLS, attr, ui_pair(u, UI_C_DIM));
	bool warn = strcmp(ev->kind, EV_UNTICK) == 0 || strcmp(ev->kind, EV_PHASE_OVERRIDE) == 0 ||
	            strcmp(ev->kind, EV_RUNBOOK_CHANGED) == 0;
	bool good = strcmp(ev->kind, EV_TICK) == 0 || strcmp(ev->kind, EV_PHASE_COMPLETE) == 0;
	char folded[UI_LINE_MAX];
	const char *line = ev->line;
	if (ev->repeat > 1) {
		char last[16];
		ui_fmt_clock(ev->ts, last, sizeof last, false);
		snprintf(folded, sizeof folded, "%-10s counts %s%u, last %s: %s", ev->who, ui_glyph_str(u, UI_G_TIMES),
		         ev->repeat, last, ev->brief);
		line = folded;
	}
	ui_put(u, w, y, 1 + EVENT_TIME_COLS + 1, line, width - EVENT_TIME_COLS - 3,
	       attr | (warn ? A_BOLD : 0), ui_pair(u, warn ? UI_C_WARN : good ? UI_C_DONE : 0));
}

void ui_events_draw(ui_ctx *u)
{
	WINDOW *w = u->w_events;
	werase(w);
	int h = getmaxy(w), width = getmaxx(w);
	char right[64];
	snprintf(right, sizeof right, "%zu shown, L: full log", u->n_events);
	ui_pane_title(u, w, 0, "Events (newest first)", right, u->focus == UI_PANE_EVENTS);
	if (u->ev_scroll >= u->n_events)
		u->ev_scroll = u->n_events ? u->n_events - 1 : 0;
	for (int y = 1; y < h; y++) {
		size_t k = u->ev_scroll + (size_t)(y - 1);
		if (k >= u->n_events)
			break;
		draw_event(u, w, y, &u->events[u->n_events - 1 - k], width, 0);
	}
}

int ui_events_key(ui_ctx *u, ui_action a)
{
	int page = u->w_events ? getmaxy(u->w_events) - 1 : 1;
	switch (a) {
	case UI_ACT_UP: if (u->ev_scroll) u->ev_scroll--; break;
	case UI_ACT_DOWN: if (u->ev_scroll + 1 < u->n_events) u->ev_scroll++; break;
	case UI_ACT_PGUP: u->ev_scroll = u->ev_scroll > (size_t)page ? u->ev_scroll - (size_t)page : 0; break;
	case UI_ACT_PGDN: u->ev_scroll += (size_t)page; break;
	case UI_ACT_TOP: u->ev_scroll = 0; break;
	case UI_ACT_BOTTOM: u->ev_scroll = u->n_events ? u->n_events - 1 : 0; break;
	case UI_ACT_OPEN: ui_log_open(u); return 1;
	default: return 0;
	}
	ui_mark(u, UI_DIRTY_EVENTS);
	return 1;
}

/* ---- full log ---- */

static int on_log_event(const st_event *ev, void *ud)
{
	ui_ctx *u = ud;
	u->log = xrealloc(u->log, (u->n_log + 1) * sizeof *u->log);
	ev_fill(&u->log[u->n_log++], ev, true, u->rb);
	return 0;
}

void ui_log_open(ui_ctx *u)
{
	ui_log_close(u);
	u->log = xcalloc(1, sizeof *u->log);
	u->n_log = 0;
	ui_list_init(&u->log_list, true);
	u->log_detail = false;
	pgc_err e = {0};
	if (u->replay) {
		if (replay_foreach(ui_timeline_src(u), 1, ui_timeline_cursor(u), on_log_event, u, &e) < 0)
			ui_status(u, "replay: %.200s", e.msg);
	} else if (state_foreach(u->s.st, 0, on_log_event, u, &e) != 0 && e.msg[0]) {
		ui_status(u, "state: %.200s", e.msg);
	}
	u->log_list.n = u->n_log;   /* keys typed ahead of the first draw move in it */
	u->overlay = &ui_scr_log;
	ui_mark(u, UI_DIRTY_ALL);
}

void ui_log_close(ui_ctx *u)
{
	for (size_t i = 0; i < u->n_log; i++)
		ev_clear(&u->log[i]);
	free(u->log);
	u->log = NULL;
	u->n_log = 0;
	if (u->overlay == &ui_scr_log) {
		u->overlay = NULL;
		if (u->w_ov) {
			delwin(u->w_ov);
			u->w_ov = NULL;
		}
		ui_mark(u, UI_DIRTY_ALL);
	}
}

static const ui_ev *log_at(const ui_ctx *u, size_t k)
{
	return &u->log[u->n_log - 1 - k];   /* k = 0 is the newest */
}

static void log_row(ui_ctx *u, WINDOW *w, int y, size_t k, bool sel, void *ud);

/* The start of line i of text ("\n"-separated) and its length. */
static const char *nth_line(const char *text, size_t i, int *len)
{
	const char *p = text;
	for (; i > 0 && p; i--) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	*len = (int)strcspn(p, "\n");
	return p;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;
	for (const char *p = text; p && *p; p++)
		n += *p == '\n';
	return n;
}

static void detail_row(ui_ctx *u, WINDOW *w, int y, size_t i, bool sel, void *ud)
{
	(void)sel;
	int len = 0;
	const char *p = nth_line(ud, i, &len);
	if (!p)
		return;
	char buf[UI_LINE_MAX];
	snprintf(buf, sizeof buf, "%.*s", len, p);
	ui_put(u, w, y, 2, buf, getmaxx(w) - 3, 0, 0);
}

/* Enter in the log: the selected event's every field, scrolled with the
 * list keys, Esc back to the list. */
static void log_detail_draw(ui_ctx *u, WINDOW *w, int H, int W)
{
	const ui_ev *ev = log_at(u, u->log_list.cursor);
	char title[64];
	snprintf(title, sizeof title, "Event #%lld", (long long)ev->id);
	ui_pane_title(u, w, 0, title, "Esc: back to the log", true);
	size_t n = count_lines(ev->detail);
	ui_list_draw(u, &u->log_detail_list, w, 1, 0, W, n, H - 1, detail_row, ev->detail);
}

void ui_log_draw(ui_ctx *u)
{
	int W = u->cols, H = u->rows - UI_KEYBAR_ROWS;
	if (u->w_ov)
		delwin(u->w_ov);
	u->w_ov = newwin(H, W, 0, 0);
	WINDOW *w = u->w_ov;
	werase(w);
	if (u->log_detail && u->n_log) {
		log_detail_draw(u, w, H, W);
		return;
	}
	char right[UI_SEARCH_MAX + 128];
	snprintf(right, sizeof right, "%zu events%s%s%s  /: search  n: next  Esc: back", u->n_log,
	         u->log_search[0] ? "  search: \"" : "", u->log_search, u->log_search[0] ? "\"" : "");
	ui_pane_title(u, w, 0, "Audit log (newest first)", right, true);
	ui_list_draw(u, &u->log_list, w, 1, 0, W, u->n_log, H - 1, log_row, NULL);
}

static void log_row(ui_ctx *u, WINDOW *w, int y, size_t k, bool sel, void *ud)
{
	(void)ud;
	int W = getmaxx(w);
	const ui_ev *ev = log_at(u, k);
	if (sel)
		ui_put(u, w, y, 0, ui_glyph_str(u, UI_G_CURSOR), 1, A_REVERSE | A_BOLD, 0);
	char id[24];
	snprintf(id, sizeof id, "#%lld", (long long)ev->id);
	/* the log shows dates too: a migration spans days */
	char ts[40];
	pgc_iso8601(ev->ts, ts, sizeof ts);
	ts[19] = '\0';
	ts[10] = ' ';
	char buf[UI_LINE_MAX];
	snprintf(buf, sizeof buf, "%-7s %s  %s", id, ts, ev->line);
	ui_put(u, w, y, 2, buf, W - 3, sel ? A_REVERSE : 0, 0);
}

/* From the cursor, `first` events away, then a `step` at a time. */
static void log_find(ui_ctx *u, const char *needle, long first, long step)
{
	if (!needle[0] || !u->n_log)
		return;
	long at = (long)u->log_list.cursor + first, n_log = (long)u->n_log;
	for (size_t n = 0; n < u->n_log; n++, at += step) {
		size_t k = (size_t)(((at % n_log) + n_log) % n_log);
		const ui_ev *ev = log_at(u, k);
		if (strcasestr(ev->line, needle) || (ev->detail && strcasestr(ev->detail, needle))) {
			u->log_list.cursor = k;
			ui_status(u, "match: event #%lld (n: next, N: previous)", (long long)ev->id);
			ui_mark(u, UI_DIRTY_OVERLAY);
			return;
		}
	}
	ui_status(u, "not found in the log: %s", needle);
}

void ui_log_search(ui_ctx *u, const char *needle, bool from_next)
{
	log_find(u, needle, from_next ? 1 : 0, 1);
}

static void log_search_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	snprintf(u->log_search, sizeof u->log_search, "%s", text);
	ui_log_search(u, u->log_search, false);
}

int ui_log_key(ui_ctx *u, ui_action a)
{
	if (u->log_detail) {
		bool search = a == UI_ACT_SEARCH || a == UI_ACT_SEARCH_NEXT || a == UI_ACT_SEARCH_PREV;
		if (a == UI_ACT_BACK || search)
			u->log_detail = false;   /* a search goes on in the list */
		else if (!ui_list_key(&u->log_detail_list, a))
			return 0;
		ui_mark(u, UI_DIRTY_OVERLAY);
		if (!search)
			return 1;
	}
	if (a == UI_ACT_OPEN && u->n_log) {
		ui_list_init(&u->log_detail_list, false);
		u->log_detail = true;
		ui_mark(u, UI_DIRTY_OVERLAY);
		return 1;
	}
	if (ui_list_key(&u->log_list, a)) {
		ui_mark(u, UI_DIRTY_OVERLAY);
		return 1;
	}
	switch (a) {
	case UI_ACT_SEARCH:
		ui_prompt_open(u, &(ui_prompt_spec){.title = "Search the log",
		                                    .hint = "Enter finds, then n: next match, N: previous; Esc cancels",
		                                    .initial = u->log_search, .required = true,
		                                    .done = log_search_answer});
		return 1;
	case UI_ACT_SEARCH_NEXT:
		if (u->log_search[0])
			ui_log_search(u, u->log_search, true);
		return 1;
	case UI_ACT_SEARCH_PREV:
		if (u->log_search[0])
			log_find(u, u->log_search, -1, -1);
		return 1;
	case UI_ACT_BACK:
		ui_log_close(u);
		return 1;
	default:
		return 0;
	}
}

const ui_screen ui_scr_log = {"log", UI_KC_LOG, ui_log_draw, ui_log_key};
