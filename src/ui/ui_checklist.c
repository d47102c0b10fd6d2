/*
 * ui_checklist.c -- the checklist pane: the selected phase's runbook notes,
 * steps (with their schedule against the clock), nested items and
 * checkpoint gates as a foldable tree, plus the item detail overlay (Enter
 * or `c`: text, command, who ticked it and when, notes).
 *
 * The visible tree is flattened into u->rows_v once per change (fold, tick,
 * phase switch, new events) so moving the cursor costs only the rows on
 * screen, even with 10,000 items.  Space ticks through ops_tick(); unticks,
 * and what ops.c says needs a reason (an item whose sub-items are open, a
 * phase completed out of order or past its counts gate), ask first; Esc at
 * such a prompt records nothing.  Each item row shows its id when the pane
 * has room.  O moves to the next open item, v filters the rows (all, open,
 * last run failed, blocked), U unticks the operator's own last tick (ops_untick).
 */
#include "config.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "pgcutover/compare.h"
#include "pgcutover/schedule.h"
#include "pgcutover/rehearsal.h"
#include "ui_priv.h"

#define DETAIL_MAX_COLS 100
#define MINUTES_PER_DAY (24 * 60)

static void ensure_fold_state(ui_ctx *u, size_t p)
{
	if (!u->item_folded) {
		u->item_folded = xcalloc(u->rb->n_phases, sizeof *u->item_folded);
		u->step_folded = xcalloc(u->rb->n_phases, sizeof *u->step_folded);
		u->notes_open = xcalloc(u->rb->n_phases, 1);
	}
	const rb_phase *ph = &u->rb->phases[p];
	if (!u->item_folded[p])
		u->item_folded[p] = xcalloc(ph->n_items + 1, 1);
	if (!u->step_folded[p])
		u->step_folded[p] = xcalloc(ph->n_steps + 1, 1);
}

void ui_checklist_free(ui_ctx *u)
{
	if (u->item_folded) {
		for (size_t i = 0; i < u->rb->n_phases; i++) {
			free(u->item_folded[i]);
			free(u->step_folded[i]);
		}
	}
	free(u->item_folded);
	free(u->step_folded);
	free(u->notes_open);
	free(u->rows_v);
	free(u->step_done);
	free(u->step_total);
	u->item_folded = NULL;
	u->step_folded = NULL;
	u->notes_open = NULL;
	u->rows_v = NULL;
}

static void push_row(ui_ctx *u, ui_row_kind kind, int indent, size_t idx)
{
	if (u->n_rows_v == u->cap_rows_v) {
		u->cap_rows_v = u->cap_rows_v ? u->cap_rows_v * 2 : 256;
		u->rows_v = xrealloc(u->rows_v, u->cap_rows_v * sizeof *u->rows_v);
	}
	ui_row *r = &u->rows_v[u->n_rows_v++];
	r->kind = (uint8_t)kind;
	r->indent = (uint8_t)(indent > UINT8_MAX ? UINT8_MAX : indent);
	r->idx = (int32_t)idx;
}

static bool item_has_children(const rb_phase *ph, size_t i)
{
	return i + 1 < ph->n_items && ph->items[i + 1].parent == (int)i;
}

static bool item_done(ui_ctx *u, size_t p, size_t i)
{
	lg_item *li = ledger_item(u->lg, p, i);
	return li && li->done;
}

/* The walk that flattens the tree; kept as a small state machine so the
 * step rows, their items and their checkpoints come out in file order. */
typedef struct flat_walk {
	int fold_level;      /* steps deeper than this are inside a folded step */
	bool step_hidden;    /* items of the current step are not shown */
	bool step_shown;     /* the current step's row is shown */
	int min_level;
} flat_walk;

static void open_step(ui_ctx *u, const rb_phase *ph, size_t s, flat_walk *fw)
{
	int level = ph->steps[s].level;
	if (level <= fw->fold_level)
		fw->fold_level = INT_MAX;
	bool hidden = level > fw->fold_level;
	bool folded = u->step_folded[u->phase][s];
	fw->step_shown = !hidden;
	if (!hidden) {
		push_row(u, UI_ROW_STEP, level - fw->min_level, s);
		if (folded)
			fw->fold_level = level;
	}
	fw->step_hidden = hidden || folded;
}

static void close_step(ui_ctx *u, const rb_phase *ph, size_t s, flat_walk *fw)
{
	if (ph->steps[s].checkpoint && !fw->step_hidden)
		push_row(u, UI_ROW_CHECKPOINT, ph->steps[s].level - fw->min_level + 1, s);
}

static const char *const filter_names[UI_FILTER_N] = {"all", "open", "last run failed", "blocked"};

/* Whether the checklist's filter keeps item i of the selected phase. */
static bool filter_keeps(ui_ctx *u, size_t i)
{
	lg_item *li = ledger_item(u->lg, u->phase, i);
	const char *run = lg_run_state(&li->last_run);
	switch (u->filter) {
	case UI_FILTER_OPEN: return !li->done && ledger_item_counts(&ui_cur_phase(u)->items[i]);
	case UI_FILTER_FAILED: return run && strcmp(run, "ok") != 0 && strcmp(run, "running") != 0;
	case UI_FILTER_BLOCKED:
		return ui_cur_phase(u)->items[i].mark == RB_MARK_BLOCKED ||
		       (u->filter_gate && !li->done && ledger_item_counts(&ui_cur_phase(u)->items[i]));
	default: return true;
	}
}

void ui_checklist_rebuild(ui_ctx *u)
{
	const rb_phase *ph = ui_cur_phase(u);
	u->rows_stale = false;
	ui_mark(u, UI_DIRTY_LIST);
	if (!ph)
		return;
	ensure_fold_state(u, u->phase);
	if (u->filter == UI_FILTER_BLOCKED) {   /* once per rebuild, not per item */
		ops_gate g;
		ops_phase_gate(u->s.cfg, u->lg, u->phase, &g);
		u->filter_gate = g.blocked;
		ops_gate_free(&g);
	}
	ui_row keep = {0, 0, -1};
	if (u->cursor < u->n_rows_v)
		keep = u->rows_v[u->cursor];
	u->n_rows_v = 0;
	if (ph->n_steps + 1 > u->cap_steps) {
		u->cap_steps = ph->n_steps + 1;
		u->step_done = xrealloc(u->step_done, u->cap_steps * sizeof *u->step_done);
		u->step_total = xrealloc(u->step_total, u->cap_steps * sizeof *u->step_total);
	}
	memset(u->step_done, 0, u->cap_steps * sizeof *u->step_done);
	memset(u->step_total, 0, u->cap_steps * sizeof *u->step_total);

	if (ph->n_notes) {
		push_row(u, UI_ROW_NOTES, 0, 0);
		if (u->notes_open[u->phase])
			for (size_t i = 0; i < ph->n_notes; i++)
				push_row(u, UI_ROW_NOTE, 1, i);
	}
	for (size_t i = 0; i < u->lg->phases[u->phase].n_notes; i++)
		push_row(u, UI_ROW_PNOTE, 0, i);
	flat_walk fw = {INT_MAX, false, false, INT_MAX};
	for (size_t s = 0; s < ph->n_steps; s++)
		if (ph->steps[s].level < fw.min_level)
			fw.min_level = ph->steps[s].level;
	int cur_step = -1;
	int skip_depth = -1;
	u->item_id_w = 0;
	for (size_t i = 0; i < ph->n_items; i++) {
		const rb_item *it = &ph->items[i];
		int idl = (int)strlen(it->id);
		if (idl > u->item_id_w)
			u->item_id_w = idl;
		while (cur_step < it->step) {
			if (cur_step >= 0)
				close_step(u, ph, (size_t)cur_step, &fw);
			cur_step++;
			open_step(u, ph, (size_t)cur_step, &fw);
			skip_depth = -1;
		}
		if (it->step >= 0 && ledger_item_counts(it)) {
			u->step_total[it->step]++;
			if (item_done(u, u->phase, i))
				u->step_done[it->step]++;
		}
		if (it->step >= 0 && fw.step_hidden)
			continue;
		if (u->filter != UI_FILTER_ALL) {
			/* a filter shows every item it keeps, folded or not */
			if (filter_keeps(u, i))
				push_row(u, UI_ROW_ITEM, it->step >= 0 ? ph->steps[it->step].level - fw.min_level + 1 : 0, i);
			continue;
		}
		if (skip_depth >= 0 && it->depth > skip_depth)
			continue;
		skip_depth = -1;
		int indent = it->step >= 0 ? ph->steps[it->step].level - fw.min_level + 1 : 0;
		push_row(u, UI_ROW_ITEM, indent, i);
		if (u->item_folded[u->phase][i] && item_has_children(ph, i))
			skip_depth = it->depth;
	}
	while (cur_step + 1 < (int)ph->n_steps) {
		if (cur_step >= 0)
			close_step(u, ph, (size_t)cur_step, &fw);
		cur_step++;
		open_step(u, ph, (size_t)cur_step, &fw);
	}
	if (cur_step >= 0)
		close_step(u, ph, (size_t)cur_step, &fw);

	/* keep the cursor on the same row; an item hidden by a fold moves the
	 * cursor to its nearest shown ancestor */
	if (keep.idx >= 0) {
		int32_t want = keep.idx;
		for (;;) {
			for (size_t r = 0; r < u->n_rows_v; r++)
				if (u->rows_v[r].kind == keep.kind && u->rows_v[r].idx == want) {
					u->cursor = r;
					return;
				}
			if (keep.kind != UI_ROW_ITEM || want < 0 || (size_t)want >= ph->n_items ||
			    ph->items[want].parent < 0)
				break;
			want = ph->items[want].parent;
		}
	}
	if (u->cursor >= u->n_rows_v)
		u->cursor = u->n_rows_v ? u->n_rows_v - 1 : 0;
}

/* ---- drawing ---- */

static int local_minutes(double t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

static int parse_hhmm(const char *s)
{
	int h, m;
	if (!s || sscanf(s, "%d:%d", &h, &m) != 2)
		return -1;
	return h * 60 + m;
}

static void step_schedule(ui_ctx *u, size_t s_idx, const rb_step *st, bool done, bool phase_live, char *buf, size_t n)
{
	char dur[32] = "", when[SCHED_SPAN_MAX] = "";
	bool range = st->duration_min_low && st->duration_min_low < st->duration_min;
	bool hours = st->duration_min >= 60 && st->duration_min % 60 == 0 && (!range || st->duration_min_low % 60 == 0);
	int unit = hours ? 60 : 1;
	if (range)
		snprintf(dur, sizeof dur, "%d-%d %s", st->duration_min_low / unit, st->duration_min / unit, hours ? "h" : "min");
	else if (st->duration_min)
		snprintf(dur, sizeof dur, "%d %s", st->duration_min / unit, hours ? "h" : "min");
	if (st->has_offset)
		sched_fmt_offset(st->offset_min, when, sizeof when);   /* from go-time */
	else
		snprintf(when, sizeof when, "%s", st->at);
	buf[0] = '\0';
	if (when[0] && dur[0])
		snprintf(buf, n, "%s, %s", when, dur);
	else if (when[0])
		snprintf(buf, n, "%s", when);
	else if (st->window_from[0])
		snprintf(buf, n, "%s-%s", st->window_from, st->window_to);
	else
		snprintf(buf, n, "%s", dur);
	/* once the downtime clock runs, steps are due on its clock (its start
	 * plus the step's offset in the window), whatever the wall clock says */
	sched_downtime dtm;
	sched_downtime_get(u->rb, u->lg, pgc_now(), &dtm);
	double due = sched_step_due(u->rb, u->phase, s_idx, &dtm);
	if (due > 0) {
		if (done)
			return;
		double t = dtm.running ? pgc_now() : dtm.end;
		size_t l = strlen(buf);
		char span[SCHED_SPAN_MAX];
		sched_fmt_span(t > due ? t - due : due - t, span, sizeof span);
		snprintf(buf + l, n - l, " %s %s %s (%s)", ui_glyph_str(u, UI_G_BULLET), t > due ? "late" : "due in", span,
		         SCHED_CLOCK_DOWNTIME);
		return;
	}
	int at = parse_hhmm(st->at[0] ? st->at : st->window_from);
	if (at < 0 || done || !phase_live)
		return;
	/* against real time, only while the phase runs: a rehearsal at noon
	 * should not call the 02:00 steps late */
	int now = local_minutes(ui_now(u));
	int end = st->duration_min ? at + st->duration_min : parse_hhmm(st->window_to);
	if (end < 0)
		end = at;
	int ahead = (at - now + MINUTES_PER_DAY) % MINUTES_PER_DAY;
	size_t l = strlen(buf);
	char span[SCHED_SPAN_MAX];
	if (now >= at && now < end) {
		snprintf(buf + l, n - l, " %s now (%s)", ui_glyph_str(u, UI_G_BULLET), SCHED_CLOCK_WALL);
	} else if (now >= end && now - end < MINUTES_PER_DAY / 2) {
		sched_fmt_span((now - end) * 60.0, span, sizeof span);
		snprintf(buf + l, n - l, " %s late %s (%s)", ui_glyph_str(u, UI_G_BULLET), span, SCHED_CLOCK_WALL);
	} else {
		sched_fmt_span(ahead * 60.0, span, sizeof span);
		snprintf(buf + l, n - l, " %s in %s (%s)", ui_glyph_str(u, UI_G_BULLET), span, SCHED_CLOCK_WALL);
	}
}

static const char *mark_str(const rb_item *it, bool done, char *buf, size_t n)
{
	if (done)
		return "[x]";
	if (it->mark == RB_MARK_OPEN || it->mark == RB_MARK_DONE)
		return "[ ]";
	snprintf(buf, n, "[%s]", it->mark_text);
	return buf;
}

/* The item ids' column: as wide as the phase's widest id and a space; 0
 * (hidden) when the pane is too narrow to keep room for the text too. */
#define UI_ID_MIN_TEXT 50
static int id_column(const ui_ctx *u, int width)
{
	int idw = u->item_id_w;   /* measured when the rows were built, not per row drawn */
	return idw && width - (idw + 1) >= UI_ID_MIN_TEXT ? idw + 1 : 0;
}

static void draw_item_row(ui_ctx *u, WINDOW *w, int y, int x, int width, const rb_phase *ph,
                          const ui_row *row, attr_t base)
{
	size_t i = (size_t)row->idx;
	const rb_item *it = &ph->items[i];
	lg_item *li = ledger_item(u->lg, u->phase, i);
	bool done = li && li->done;
	/* its id (what tick, run and rollback take), dim, left of the row */
	int idw = id_column(u, width);
	if (idw) {
		ui_put(u, w, y, x, it->id, idw - 1, base | ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
		x += idw;
		width -= idw;
	}
	int ind = (row->indent + it->depth) * 2;
	if (ind > width / 2)
		ind = width / 2;
	x += ind;
	width -= ind;
	const char *fold = " ";
	if (item_has_children(ph, i))
		fold = ui_glyph_str(u, u->item_folded[u->phase][i] ? UI_G_FOLD_CLOSED : UI_G_FOLD_OPEN);
	ui_put(u, w, y, x, fold, 1, base, 0);
	char mb[24];
	const char *mark = mark_str(it, done, mb, sizeof mb);
	int mw = ui_put(u, w, y, x + 2, mark, width - 2, base | (done ? ui_attr(u, UI_C_DONE, A_BOLD) : 0),
	                done ? ui_pair(u, UI_C_DONE) : 0);

	/* right-hand facts: notes, command, who and when */
	char right[200] = "";
	size_t rl = 0;
	if (li && li->changed_in_runbook)
		rl += (size_t)snprintf(right + rl, sizeof right - rl, "text changed! ");
	if (li && li->n_notes)
		rl += (size_t)snprintf(right + rl, sizeof right - rl, "%s%zu ", ui_glyph_str(u, UI_G_NOTE), li->n_notes);
	if (it->block && it->block->runnable)
		rl += (size_t)snprintf(right + rl, sizeof right - rl, "%s cmd ", ui_glyph_str(u, UI_G_CMD));
	bool overdue = false;
	if (it->recurring && u->lg->phases[u->phase].status == LG_PHASE_IN_PROGRESS) {
		/* a recurring duty: when it is next due, loudly when overdue */
		const lg_phase *lp = &u->lg->phases[u->phase];
		int every = sched_parse_every(it->recurring);
		if (every > 0 && lp->started_at > 0) {
			double from = li->duty_done_at > lp->started_at ? li->duty_done_at : lp->started_at;
			double due = from + every, now = ui_now(u);
			char clock[16];
			ui_fmt_clock(due, clock, sizeof clock, false);
			overdue = now > due;
			char span[SCHED_SPAN_MAX];
			sched_fmt_span(now - due, span, sizeof span);
			if (overdue)
				rl += (size_t)snprintf(right + rl, sizeof right - rl, "OVERDUE %s (u) ", span);
			else
				rl += (size_t)snprintf(right + rl, sizeof right - rl, "next %s ", clock);
		}
	}
	if (u->s.plan) {
		/* how long this took in rehearsal (--plan-from) */
		size_t k = u->lg->phase_offset[u->phase] + i;
		if (k < u->s.plan->n_items && u->s.plan->item_s[k] >= 0) {
			char d[24];
			ui_fmt_duration(u->s.plan->item_s[k], d, sizeof d);
			rl += (size_t)snprintf(right + rl, sizeof right - rl, "reh %s ", d);
		}
	}
	if (done && li->done_by) {
		char clock[16];
		ui_fmt_clock(li->done_at, clock, sizeof clock, false);
		char *who = pgc_sanitize(li->done_by);
		rl += (size_t)snprintf(right + rl, sizeof right - rl, "%s %s %s", ui_glyph_str(u, UI_G_CHECK), who, clock);
		free(who);
	} else if (done) {
		rl += (size_t)snprintf(right + rl, sizeof right - rl, "(in the file)");
	}
	/* its last command run, at the very right: failed in the warning colour */
	char run[64];
	const char *run_state = li ? ui_fmt_run(u, &li->last_run, run, sizeof run) : NULL;
	bool run_failed = run_state && strcmp(run_state, "failed") == 0;
	int runw = run_state ? ui_text_width(u, run) + 1 : 0;
	int rw = ui_text_width(u, right);
	int text_x = x + 2 + mw + 1;
	int text_w = width - (2 + mw + 1) - (rw ? rw + 2 : 0) - runw;
	if (text_w < width / 3) {
		text_w = width - (2 + mw + 1) - runw;
		rw = 0;   /* a narrow pane keeps the text and the run, drops the facts */
	}
	ui_put(u, w, y, text_x, it->text, text_w, base | (done ? ui_attr(u, UI_C_DIM, 0) : 0), 0);
	if (runw)
		ui_put_right(u, w, y, x + width, run, base | (run_failed ? A_BOLD : 0),
		             run_failed ? ui_pair(u, UI_C_WARN) : ui_pair(u, UI_C_ACCENT));
	if (rw)
		ui_put_right(u, w, y, x + width - runw, right, base | (overdue ? A_BOLD : 0),
		             overdue ? ui_pair(u, UI_C_WARN) : done ? ui_pair(u, UI_C_DONE) : ui_pair(u, UI_C_DIM));
}

static void draw_row(ui_ctx *u, WINDOW *w, int y, const rb_phase *ph, const ui_row *row, bool selected)
{
	int width = getmaxx(w);
	bool focused = u->focus == UI_PANE_LIST && u->overlay == NULL;
	attr_t base = selected && focused ? A_REVERSE : 0;
	if (selected && focused)
		mvwchgat(w, y, 0, width, A_REVERSE, 0, NULL);
	if (selected)
		ui_put(u, w, y, 0, ui_glyph_str(u, UI_G_CURSOR), 1, base | A_BOLD, 0);
	int x = 2;
	int avail = width - x - 1;
	switch ((ui_row_kind)row->kind) {
	case UI_ROW_NOTES: {
		char buf[96];
		snprintf(buf, sizeof buf, "%s Notes from the runbook (%zu)",
		         ui_glyph_str(u, u->notes_open[u->phase] ? UI_G_FOLD_OPEN : UI_G_FOLD_CLOSED), ph->n_notes);
		ui_put(u, w, y, x, buf, avail, base | ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
		break;
	}
	case UI_ROW_NOTE: {
		ui_put(u, w, y, x + 2, ui_glyph_str(u, UI_G_BULLET), 1, base, 0);
		ui_put(u, w, y, x + 4, ph->notes[row->idx], avail - 4, base | ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
		break;
	}
	case UI_ROW_PNOTE: {
		const lg_note *n = &u->lg->phases[u->phase].notes[row->idx];
		char clock[16], buf[UI_LINE_MAX];
		ui_fmt_clock(n->ts, clock, sizeof clock, false);
		snprintf(buf, sizeof buf, "%s %s %s: %s", ui_glyph_str(u, UI_G_NOTE), clock,
		         n->operator_name ? n->operator_name : "?", n->text ? n->text : "");
		ui_put(u, w, y, x, buf, avail, base, ui_pair(u, UI_C_ACCENT));
		break;
	}
	case UI_ROW_STEP: {
		const rb_step *st = &ph->steps[row->idx];
		int ind = row->indent * 2;
		bool done = u->step_total[row->idx] > 0 && u->step_done[row->idx] == u->step_total[row->idx];
		bool live = u->lg->phases[u->phase].status == LG_PHASE_IN_PROGRESS;
		char sched[160], right[224];
		step_schedule(u, (size_t)row->idx, st, done, live, sched, sizeof sched);
		/* its time against its plan, once started (ledger.h) */
		double el = 0;
		bool sdone = false;
		int plan = 0;
		bool over = false;
		if (ledger_step_elapsed(u->lg, u->phase, (size_t)row->idx, ui_now(u), &el, &sdone, &plan) == 0) {
			char d[24], p[24] = "";
			ui_fmt_duration(el, d, sizeof d);
			if (plan > 0)
				ui_fmt_duration(plan * 60.0, p, sizeof p);
			over = plan > 0 && el > plan * 60.0;
			size_t l = strlen(sched);
			snprintf(sched + l, sizeof sched - l, "%s%s %s%s%s%s", l ? "  " : "", sdone ? "took" : "elapsed", d,
			         p[0] ? " of " : "", p, over ? " over" : "");
		}
		if (u->step_total[row->idx])
			snprintf(right, sizeof right, "%s%s%d/%d%s", sched, sched[0] ? "  " : "",
			         u->step_done[row->idx], u->step_total[row->idx], done ? " done" : "");
		else
			snprintf(right, sizeof right, "%s", sched);
		if (st->block && st->block->runnable) {   /* its own command: x runs it */
			size_t l = strlen(right);
			snprintf(right + l, sizeof right - l, "%sx: %s", l ? "  " : "", st->id);
		}
		if (st->rollback) {
			size_t l = strlen(right);
			snprintf(right + l, sizeof right - l, "%sROLLBACK", l ? "  " : "");
		}
		ui_put(u, w, y, x + ind, ui_glyph_str(u, u->step_folded[u->phase][row->idx] ? UI_G_FOLD_CLOSED : UI_G_FOLD_OPEN),
		       1, base | A_BOLD, 0);
		int rw = ui_text_width(u, right);
		int tw = avail - ind - 2 - (rw ? rw + 2 : 0);
		if (tw < avail / 3) {
			tw = avail - ind - 2;
			rw = 0;
		}
		ui_put(u, w, y, x + ind + 2, st->title, tw, base | A_BOLD, ui_pair(u, st->rollback ? UI_C_WARN : UI_C_TITLE));
		if (rw) {
			bool late = strstr(right, "late") != NULL || over;
			ui_put_right(u, w, y, width - 1, right, base | (late ? A_BOLD : 0),
			             ui_pair(u, late ? UI_C_WARN : done ? UI_C_DONE : UI_C_ACCENT));
		}
		break;
	}
	case UI_ROW_ITEM:
		draw_item_row(u, w, y, x, avail, ph, row, base);
		break;
	case UI_ROW_CHECKPOINT: {
		const rb_step *st = &ph->steps[row->idx];
		bool passed = u->step_total[row->idx] > 0 && u->step_done[row->idx] == u->step_total[row->idx];
		int ind = row->indent * 2;
		char buf[64];
		snprintf(buf, sizeof buf, "%s Checkpoint:", ui_glyph_str(u, UI_G_CHECKPOINT));
		int cw = ui_put(u, w, y, x + ind, buf, avail - ind, base | A_BOLD, ui_pair(u, UI_C_ACCENT));
		const char *gate = passed ? "gate: items done" : "gate: go/no-go";
		int gw = ui_text_width(u, gate);
		ui_put(u, w, y, x + ind + cw + 1, st->checkpoint, avail - ind - cw - gw - 3, base, 0);
		ui_put_right(u, w, y, width - 1, gate, base | (passed ? 0 : A_BOLD),
		             ui_pair(u, passed ? UI_C_DONE : UI_C_PROGRESS));
		break;
	}
	}
}

void ui_checklist_draw(ui_ctx *u)
{
	WINDOW *w = u->w_list;
	werase(w);
	const rb_phase *ph = ui_cur_phase(u);
	if (!ph)
		return;
	int h = getmaxy(w);
	int vis = h - 1;
	if (vis < 1)
		return;
	if (u->cursor < u->top)
		u->top = u->cursor;
	if (u->cursor >= u->top + (size_t)vis)
		u->top = u->cursor - (size_t)vis + 1;
	if (u->top + (size_t)vis > u->n_rows_v)
		u->top = u->n_rows_v > (size_t)vis ? u->n_rows_v - (size_t)vis : 0;

	char title[300], right[160];
	snprintf(title, sizeof title, "Phase %s %s %s", ph->id, ui_glyph_str(u, UI_G_BULLET), ph->title);
	const lg_phase *lp = &u->lg->phases[u->phase];
	size_t last = u->top + (size_t)vis < u->n_rows_v ? u->top + (size_t)vis : u->n_rows_v;
	char shown[48] = "";
	if (u->filter)
		snprintf(shown, sizeof shown, "v: %s  ", filter_names[u->filter]);
	snprintf(right, sizeof right, "%s%d/%d done  rows %zu-%zu of %zu", shown, lp->done, lp->total,
	         u->n_rows_v ? u->top + 1 : 0, last, u->n_rows_v);
	ui_pane_title(u, w, 0, title, right, u->focus == UI_PANE_LIST);
	if (!u->n_rows_v) {
		ui_put(u, w, 2, 2, u->filter ? "No items of this phase pass the filter (v: the next filter)."
		                             : "This phase has no items.", getmaxx(w) - 4, A_DIM, 0);
		return;
	}
	for (int y = 0; y < vis && u->top + (size_t)y < u->n_rows_v; y++) {
		size_t r = u->top + (size_t)y;
		draw_row(u, w, y + 1, ph, &u->rows_v[r], r == u->cursor);
	}
}

/* ---- actions ---- */

static void move_cursor(ui_ctx *u, long delta)
{
	if (!u->n_rows_v)
		return;
	long c = (long)u->cursor + delta;
	if (c < 0)
		c = 0;
	if (c >= (long)u->n_rows_v)
		c = (long)u->n_rows_v - 1;
	u->cursor = (size_t)c;
	ui_mark(u, UI_DIRTY_LIST);
}

static int page_rows(ui_ctx *u)
{
	int h = u->w_list ? getmaxy(u->w_list) - 2 : 10;
	return h > 1 ? h : 1;
}

/* ---- ticks and phase completion through ops.c ---- */

/* how long after a gate took exact counts itself Space asks for the reason */
#define UI_GATE_EXACT_AGAIN_S 600
#define GATE_TITLE_FMT "Phase %.16s is gated on row counts: %.160s. Reason:"

/* The override or gate prompt's answer goes back to the op that asked; the
 * gate prompt's context carries the order reason given before it. */
static void override_answer(ui_ctx *u, const char *text, void *ctx)
{
	const ui_target *t = ctx;
	ops_override ov = {.order_reason = text, .children_reason = t->children_reason};
	if (t->item != SIZE_MAX)
		ui_tick_item(u, t->phase, t->item, &ov);
	else
		ui_complete_phase(u, t->phase, &ov);
}

static void gate_answer(ui_ctx *u, const char *text, void *ctx)
{
	const ui_target *t = ctx;
	ops_override ov = {.order_reason = t->order_reason, .gate_reason = text,
	                   .children_reason = t->children_reason};
	if (t->item != SIZE_MAX)
		ui_tick_item(u, t->phase, t->item, &ov);
	else
		ui_complete_phase(u, t->phase, &ov);
}

static void children_answer(ui_ctx *u, const char *text, void *ctx)
{
	const ui_target *t = ctx;
	ops_override ov = {.children_reason = text};
	ui_tick_item(u, t->phase, t->item, &ov);
}

/* A prompt's target, with the reasons already given riding along to the
 * next prompt, so one call then records them all. */
static ui_target *target_with(size_t p, size_t i, const ops_override *ov)
{
	ui_target *t = ui_target_new(p, i);
	snprintf(t->order_reason, sizeof t->order_reason, "%s", ov && ov->order_reason ? ov->order_reason : "");
	snprintf(t->children_reason, sizeof t->children_reason, "%s",
	         ov && ov->children_reason ? ov->children_reason : "");
	return t;
}

static void untick_answer(ui_ctx *u, const char *text, void *ctx)
{
	const ui_target *t = ctx;
	if (!ui_may_write(u))
		return;
	const rb_phase *ph = &u->rb->phases[t->phase];
	ops_ctx c = ui_ops_ctx(u);
	ops_outcome oc;
	ops_untick(&c, t->phase, t->item, text, &oc);
	ui_after_write(u);
	if (oc.result == OPS_DONE)
		ui_status(u, "unticked %s: %s", ph->items[t->item].id, text);
	else
		ui_status(u, "%.300s", oc.message);
}

/* An outcome that needs a reason becomes the prompt asking it; any other
 * becomes the status line.  i is the item ticked, SIZE_MAX when the phase
 * itself was being completed.  The order reason already given (ov) rides
 * along to the gate prompt, so one call then records both. */
static void present_outcome(ui_ctx *u, size_t p, size_t i, const ops_override *ov, const ops_outcome *oc)
{
	const rb_phase *ph = &u->rb->phases[p];
	ui_after_write(u);
	switch (oc->result) {
	case OPS_OPEN_CHILDREN: {
		char title[sizeof u->prompt.title];
		snprintf(title, sizeof title, "%.200s. Tick anyway? Reason:", oc->message);
		ui_prompt_open(u, &(ui_prompt_spec){.title = title,
		                                    .hint = "recorded with the tick; Esc: nothing is recorded",
		                                    .required = true, .reason = true, .done = children_answer,
		                                    .ctx = target_with(p, i, ov), .own_ctx = true});
		return;
	}
	case OPS_NEEDS_ORDER_OVERRIDE: {
		char title[sizeof u->prompt.title];
		snprintf(title, sizeof title, "%.200s. Reason:", oc->message);
		ui_prompt_open(u, &(ui_prompt_spec){.title = title,
		                                    .hint = "recorded as a phase override; Esc: nothing is recorded",
		                                    .required = true, .reason = true, .done = override_answer,
		                                    .ctx = target_with(p, i, ov), .own_ctx = true});
		return;
	}
	case OPS_BLOCKED_BY_GATE: {
		/* every table that shuts it, cut to the title with "+N more" */
		char title[sizeof u->prompt.title], words[OPS_GATE_MAX];
		int room = ui_prompt_title_cols(u) - snprintf(NULL, 0, GATE_TITLE_FMT, ph->id, "");
		ops_gate g;
		ops_phase_gate(u->s.cfg, u->lg, p, &g);
		ops_gate_words(&g, room > 0 ? (size_t)room : 0, words, sizeof words);
		/* A gate is decided on fresh exact counts: when the last recorded
		 * counts have a table without one (the periodic refresh records
		 * estimates), the console takes them now instead of asking for
		 * an override on figures that are not evidence; Space again once
		 * they are in decides the gate on them.  Once only: when they
		 * could not be taken (a server gone), the next Space asks for the
		 * reason as before; a table with no figure at all (no counts, a
		 * failed count) asks at once. */
		bool inexact = false;
		for (size_t k = 0; k < g.n_tables; k++)
			inexact = inexact || g.tables[k].estimated;
		ops_gate_free(&g);
		double now = ui_now(u);
		if (inexact && u->s.counts_cmd && !ui_read_only(u) &&
		    (u->gate_exact_at == 0 || now - u->gate_exact_at > UI_GATE_EXACT_AGAIN_S)) {
			u->gate_exact_at = now;
			char msg[256] = "";
			u->s.counts_cmd(u->s.hook_ud, UI_COUNTS_EXACT, msg, sizeof msg);
			ui_side_poll(u);
			ui_status(u, "phase %s is gated on exact row counts (%.80s): exact counts started; "
			          "Space again once they are in", ph->id, words);
			return;
		}
		snprintf(title, sizeof title, GATE_TITLE_FMT, ph->id, words);
		ui_target *t = target_with(p, i, ov);
		ui_prompt_open(u, &(ui_prompt_spec){.title = title,
		                                    .hint = "recorded as a gate override; Esc: nothing is recorded (e: exact counts)",
		                                    .required = true, .reason = true, .done = gate_answer,
		                                    .ctx = t, .own_ctx = true});
		return;
	}
	case OPS_NEEDS_GO: {
		char title[sizeof u->prompt.title];
		snprintf(title, sizeof title, "%.200s. Go anyway? Reason:", oc->message);
		ui_prompt_open(u, &(ui_prompt_spec){.title = title,
		                                    .hint = "recorded with the board's values; Esc: nothing is recorded (B: the board)",
		                                    .required = true, .reason = true, .done = gate_answer,
		                                    .ctx = target_with(p, i, ov), .own_ctx = true});
		return;
	}
	case OPS_DONE:
		if (i != SIZE_MAX)
			ui_status(u, "ticked %s%s%s", ph->items[i].id, oc->phase_completed ? "; phase complete: " : "",
			          oc->phase_completed ? ph->id : "");
		else
			ui_status(u, "%.300s", oc->message);
		return;
	case OPS_ALREADY_DONE: case OPS_REFUSED: case OPS_ERROR:
		ui_status(u, "%.300s", oc->message);
		return;
	}
}

/* Records phase p complete (all its items done), asking what ops.c says it
 * needs: an override reason while an earlier phase is open, a gate reason
 * while its counts gate is not met. */
void ui_complete_phase(ui_ctx *u, size_t p, const ops_override *ov)
{
	if (!ui_may_write(u))
		return;
	ops_ctx c = ui_ops_ctx(u);
	ops_outcome oc;
	ops_complete_phase(&c, p, ov, &oc);
	present_outcome(u, p, SIZE_MAX, ov, &oc);
}

void ui_checklist_tick(ui_ctx *u)
{
	if (!u->n_rows_v)
		return;
	const ui_row *row = &u->rows_v[u->cursor];
	if (row->kind != UI_ROW_ITEM) {
		ui_status(u, "Space ticks items; Enter folds and unfolds");
		return;
	}
	const rb_phase *ph = ui_cur_phase(u);
	size_t i = (size_t)row->idx;
	const rb_item *it = &ph->items[i];
	if (item_done(u, u->phase, i)) {
		char title[200];
		snprintf(title, sizeof title, "Untick %s: reason (audited)", it->id);
		ui_prompt_open(u, &(ui_prompt_spec){.title = title, .hint = "Enter records the untick, Esc cancels",
		                                    .required = true, .reason = true, .done = untick_answer,
		                                    .ctx = ui_target_new(u->phase, i), .own_ctx = true});
		return;
	}
	ui_tick_item(u, u->phase, i, NULL);
}

/* The tick, and "phase complete" when it was the phase's last open item,
 * in one transaction -- ops_tick(), the same `pgcutover tick` calls.  When
 * completing the phase needs a reason nothing is written and the prompt
 * asks for it; its answer calls this again with the reason. */
void ui_tick_item(ui_ctx *u, size_t p, size_t i, const ops_override *ov)
{
	if (!ui_may_write(u))
		return;
	ops_ctx c = ui_ops_ctx(u);
	ops_outcome oc;
	ops_tick(&c, p, i, NULL, ov, &oc);
	present_outcome(u, p, i, ov, &oc);
}

/* Unfolds what hides item i of the selected phase and puts the cursor on it. */
void ui_checklist_reveal(ui_ctx *u, size_t i)
{
	const rb_phase *ph = ui_cur_phase(u);
	ensure_fold_state(u, u->phase);
	const rb_item *it = &ph->items[i];
	if (it->step >= 0) {
		/* the step and every enclosing (shallower) step before it */
		int level = ph->steps[it->step].level + 1;
		for (int s = it->step; s >= 0; s--)
			if (ph->steps[s].level < level) {
				u->step_folded[u->phase][s] = 0;
				level = ph->steps[s].level;
			}
	}
	for (int p = it->parent; p >= 0; p = ph->items[p].parent)
		u->item_folded[u->phase][p] = 0;
	if (u->cursor < u->n_rows_v) {
		u->rows_v[u->cursor].kind = UI_ROW_ITEM;
		u->rows_v[u->cursor].idx = (int32_t)i;
	} else {
		u->cursor = 0;
		push_row(u, UI_ROW_ITEM, 0, i);
	}
	ui_checklist_rebuild(u);
}

/* Every item of every phase in one sequence (phase by phase, wrapping
 * round); from the cursor's item, `first` steps away, then one `step` at a
 * time, the first whose text holds the needle. */
static void search_items(ui_ctx *u, const char *needle, long first, long step)
{
	size_t np = u->rb->n_phases, total = 0, here = 0;
	for (size_t p = 0; p < np; p++) {
		if (p == u->phase)
			here = total;
		total += u->rb->phases[p].n_items;
	}
	if (!total) {
		ui_status(u, "not found: %s", needle);
		return;
	}
	if (u->n_rows_v && u->rows_v[u->cursor].kind == UI_ROW_ITEM)
		here += (size_t)u->rows_v[u->cursor].idx;
	long at = (long)here + first;
	for (size_t k = 0; k < total; k++, at += step) {
		size_t pos = (size_t)(((at % (long)total) + (long)total) % (long)total), p = 0;
		while (pos >= u->rb->phases[p].n_items)
			pos -= u->rb->phases[p++].n_items;
		const rb_phase *ph = &u->rb->phases[p];
		if (strcasestr(ph->items[pos].text, needle)) {
			if (p != u->phase) {
				ui_select_phase(u, p);
				ui_checklist_rebuild(u);
			}
			ui_checklist_reveal(u, pos);
			u->searching = true;
			ui_status(u, "found in %s (n: next, N: previous, Esc: end the search)", ph->items[pos].id);
			ui_mark(u, UI_DIRTY_LIST | UI_DIRTY_RAIL | UI_DIRTY_KEYBAR);
			return;
		}
	}
	ui_status(u, "not found: %s", needle);
}

void ui_checklist_search(ui_ctx *u, const char *needle, bool from_next)
{
	search_items(u, needle, from_next ? 1 : 0, 1);
}

void ui_checklist_search_prev(ui_ctx *u, const char *needle)
{
	search_items(u, needle, -1, -1);
}

static void set_all_steps(ui_ctx *u, uint8_t folded)
{
	const rb_phase *ph = ui_cur_phase(u);
	ensure_fold_state(u, u->phase);
	for (size_t s = 0; s < ph->n_steps; s++)
		u->step_folded[u->phase][s] = folded;
	u->rows_stale = true;
	ui_mark(u, UI_DIRTY_LIST);
}

static void open_detail(ui_ctx *u, size_t item)
{
	u->overlay = &ui_scr_detail;
	u->detail_item = item;
	ui_list_init(&u->detail_list, false);
	ui_mark(u, UI_DIRTY_ALL);
}

/* O: the next open item after the cursor, in this phase, then the phases
 * after it, then from the first phase round. */
static void next_open(ui_ctx *u)
{
	size_t np = u->rb->n_phases, start = 0;
	if (!np)
		return;
	for (size_t r = u->cursor; r < u->n_rows_v; r++)
		if (u->rows_v[r].kind == UI_ROW_ITEM) {
			start = (size_t)u->rows_v[r].idx + (r == u->cursor ? 1 : 0);
			break;
		} else if (r + 1 == u->n_rows_v) {
			start = ui_cur_phase(u)->n_items;
		}
	for (size_t k = 0; k <= np; k++) {
		size_t p = (u->phase + k) % np;
		const rb_phase *ph = &u->rb->phases[p];
		for (size_t i = k == 0 ? start : 0; i < ph->n_items; i++)
			if (!item_done(u, p, i) && ledger_item_counts(&ph->items[i])) {
				ui_select_phase(u, p);
				ui_checklist_rebuild(u);
				ui_checklist_reveal(u, i);
				ui_status(u, "next open item: %s", ph->items[i].id);
				return;
			}
	}
	ui_status(u, "no open items: every item is done");
}

/* v: all rows, open items only, items whose last run failed. */
static void cycle_filter(ui_ctx *u)
{
	u->filter = (u->filter + 1) % UI_FILTER_N;
	u->rows_stale = true;
	ui_status(u, u->filter ? "showing only items: %s (v: next filter)" : "showing %s items (v: filter)",
	          filter_names[u->filter]);
}

/* U: unticks the item this operator ticked last, after asking why. */
static void undo_last_tick(ui_ctx *u)
{
	size_t p, i;
	if (ledger_last_tick_by(u->lg, u->s.operator_name, &p, &i) < 0) {
		ui_status(u, "nothing to undo: no item ticked by %s is done", u->s.operator_name ? u->s.operator_name : "you");
		return;
	}
	ui_select_phase(u, p);
	ui_checklist_rebuild(u);
	ui_checklist_reveal(u, i);
	const rb_item *it = &u->rb->phases[p].items[i];
	char title[200];
	snprintf(title, sizeof title, "Undo your last tick: untick %s? Reason (audited):", it->id);
	ui_prompt_open(u, &(ui_prompt_spec){.title = title, .hint = "Enter records the untick, Esc cancels",
	                                    .required = true, .reason = true, .done = untick_answer,
	                                    .ctx = ui_target_new(p, i), .own_ctx = true});
}

int ui_checklist_key(ui_ctx *u, ui_action a)
{
	switch (a) {
	case UI_ACT_NEXT_OPEN: next_open(u); return 1;
	case UI_ACT_FILTER: cycle_filter(u); return 1;
	case UI_ACT_UNDO_TICK: if (ui_may_write(u)) undo_last_tick(u); return 1;
	case UI_ACT_UP: move_cursor(u, -1); return 1;
	case UI_ACT_DOWN: move_cursor(u, 1); return 1;
	case UI_ACT_PGUP: move_cursor(u, -page_rows(u)); return 1;
	case UI_ACT_PGDN: move_cursor(u, page_rows(u)); return 1;
	case UI_ACT_TOP: move_cursor(u, -(long)u->n_rows_v); return 1;
	case UI_ACT_BOTTOM: move_cursor(u, (long)u->n_rows_v); return 1;
	case UI_ACT_TICK: ui_checklist_tick(u); return 1;
	case UI_ACT_FOLD_ALL: set_all_steps(u, 1); return 1;
	case UI_ACT_UNFOLD_ALL: set_all_steps(u, 0); return 1;
	case UI_ACT_OPEN:
	case UI_ACT_COMMAND: {
		if (!u->n_rows_v)
			return 1;
		const ui_row *row = &u->rows_v[u->cursor];
		const rb_phase *ph = ui_cur_phase(u);
		ensure_fold_state(u, u->phase);
		if (row->kind == UI_ROW_ITEM) {
			size_t i = (size_t)row->idx;
			if (a == UI_ACT_OPEN && item_has_children(ph, i)) {
				u->item_folded[u->phase][i] ^= 1;
				u->rows_stale = true;
			} else {
				open_detail(u, i);
			}
		} else if (row->kind == UI_ROW_STEP) {
			u->step_folded[u->phase][row->idx] ^= 1;
			u->rows_stale = true;
		} else if (row->kind == UI_ROW_NOTES || row->kind == UI_ROW_NOTE) {
			u->notes_open[u->phase] ^= 1;
			u->rows_stale = true;
		}
		ui_mark(u, UI_DIRTY_LIST);
		return 1;
	}
	default:
		return 0;
	}
}

/* ---- item detail overlay ---- */

typedef struct detail_out {
	ui_ctx *u;
	WINDOW *w;
	const ui_list *list;   /* which wrapped lines show */
	int y;           /* next logical line */
	int x, width;
	attr_t attr;
	short pair;
} detail_out;

static void detail_emit(const char *s, size_t n, void *ud)
{
	detail_out *d = ud;
	int row = ui_list_row(d->list, (size_t)d->y);
	if (row >= 0) {
		char *line = xstrndup(s, n);
		ui_put(d->u, d->w, row + 1, d->x, line, d->width, d->attr, d->pair);
		free(line);
	}
	d->y++;
}

static void detail_text(detail_out *d, const char *s, attr_t attr, short pair)
{
	d->attr = attr;
	d->pair = pair;
	ui_wrap_lines(d->u, s, d->width, detail_emit, d);
}

void ui_detail_draw(ui_ctx *u)
{
	const rb_phase *ph = ui_cur_phase(u);
	if (!ph || u->detail_item >= ph->n_items) {
		u->overlay = NULL;
		return;
	}
	const rb_item *it = &ph->items[u->detail_item];
	lg_item *li = ledger_item(u->lg, u->phase, u->detail_item);
	int W = u->cols - 4 < DETAIL_MAX_COLS ? u->cols - 4 : DETAIL_MAX_COLS;
	int H = u->rows - 4;
	char buf[512];
	snprintf(buf, sizeof buf, " Item %s %s line %d ", it->id, ui_glyph_str(u, UI_G_BULLET), it->line);
	WINDOW *w = ui_overlay_window(u, 2, H, W, buf, " j/k scroll  Esc close ");

	/* the lines are counted as they are wrapped: the window is the one
	 * the keys moved over the last count, refitted to this one below */
	ui_list_fit(&u->detail_list, u->detail_list.n, H - 2 > 0 ? (size_t)(H - 2) : 1);
	detail_out d = {u, w, &u->detail_list, 0, 2, W - 4, 0, 0};
	bool done = li && li->done;
	char mb[24];
	snprintf(buf, sizeof buf, "%s %s", mark_str(it, done, mb, sizeof mb), it->text);
	detail_text(&d, buf, A_BOLD, 0);
	detail_text(&d, "", 0, 0);
	if (done && li->done_by) {
		char ts[40];
		pgc_iso8601(li->done_at, ts, sizeof ts);
		snprintf(buf, sizeof buf, "Ticked by %s at %s", li->done_by, ts);
		detail_text(&d, buf, ui_attr(u, UI_C_DONE, A_BOLD), ui_pair(u, UI_C_DONE));
	} else if (done) {
		detail_text(&d, "Ticked in the runbook file ([x]).", 0, ui_pair(u, UI_C_DONE));
	} else {
		detail_text(&d, "Not ticked.", 0, 0);
	}
	if (li && li->changed_in_runbook)
		detail_text(&d, "The item's text changed in the runbook since it was ticked.", A_BOLD, ui_pair(u, UI_C_WARN));
	if (it->step >= 0) {
		snprintf(buf, sizeof buf, "Step: %s", ph->steps[it->step].title);
		detail_text(&d, buf, 0, 0);
	}
	if (it->rollback)
		detail_text(&d, "Part of the rollback procedure.", A_BOLD, ui_pair(u, UI_C_WARN));
	if (it->recurring) {
		snprintf(buf, sizeof buf, "Recurring: every %s", it->recurring);
		detail_text(&d, buf, 0, 0);
	}
	if (it->health_check)
		detail_text(&d, "A health check (curl).", 0, 0);
	if (it->inline_code) {
		snprintf(buf, sizeof buf, "Inline code: %s", it->inline_code);
		detail_text(&d, buf, 0, ui_pair(u, UI_C_ACCENT));
	}
	const rb_block *sb = it->step >= 0 && !it->block ? ph->steps[it->step].block : NULL;
	if (sb) {   /* the step's own command, written above its checklist */
		detail_text(&d, "", 0, 0);
		snprintf(buf, sizeof buf, sb->runnable ? "The step's command (%s, line %d; x on step %s runs it):"
		                                       : "The step's code (%s, line %d; shown, never run):",
		         sb->lang[0] ? sb->lang : "unlabeled", sb->line, ph->steps[it->step].id);
		detail_text(&d, buf, A_BOLD, 0);
		d.x += 2;
		d.width -= 2;
		detail_text(&d, sb->text, 0, ui_pair(u, UI_C_ACCENT));
		d.x -= 2;
		d.width += 2;
	}
	if (it->block) {
		detail_text(&d, "", 0, 0);
		snprintf(buf, sizeof buf, it->block->runnable ? "Command (%s, line %d):" : "Code (%s, line %d; shown, never run):",
		         it->block->lang[0] ? it->block->lang : "unlabeled", it->block->line);
		detail_text(&d, buf, A_BOLD, 0);
		d.x += 2;
		d.width -= 2;
		detail_text(&d, it->block->text, 0, ui_pair(u, UI_C_ACCENT));
		d.x -= 2;
		d.width += 2;
	} else if (!sb) {
		detail_text(&d, "No command attached.", ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
	}
	if (li && li->n_notes) {
		detail_text(&d, "", 0, 0);
		detail_text(&d, "Notes:", A_BOLD, 0);
		for (size_t k = 0; k < li->n_notes; k++) {
			char clock[16];
			ui_fmt_clock(li->notes[k].ts, clock, sizeof clock, false);
			snprintf(buf, sizeof buf, "%s %s: %s", clock, li->notes[k].operator_name ? li->notes[k].operator_name : "?",
			         li->notes[k].text ? li->notes[k].text : "");
			detail_text(&d, buf, 0, 0);
		}
	}
	ui_list_fit(&u->detail_list, (size_t)d.y, u->detail_list.page);
}

int ui_detail_key(ui_ctx *u, ui_action a)
{
	if (!ui_list_key(&u->detail_list, a))
		return 0;
	ui_mark(u, UI_DIRTY_OVERLAY);
	return 1;
}

/* ---- the downtime clock (D) and recurring duties (u) ---- */

static void downtime_answer(ui_ctx *u, const char *text, void *ctx);

void ui_downtime_key(ui_ctx *u)
{
	sched_downtime d;
	sched_downtime_get(u->rb, u->lg, pgc_now(), &d);
	char title[sizeof u->prompt.title];
	if (d.running) {
		char el[24];
		ui_fmt_duration(d.elapsed_s, el, sizeof el);
		snprintf(title, sizeof title, "Downtime ends now? type yes, then Enter (%s so far, planned %d min)", el,
		         d.plan_min);
	} else {
		snprintf(title, sizeof title, "Downtime starts now? type yes, then Enter (the clock runs until D again)");
	}
	ui_prompt_open(u, &(ui_prompt_spec){.title = title, .hint = "yes records it; Esc: nothing is recorded",
	                                    .required = true, .done = downtime_answer});
}

static void downtime_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	if (!ui_confirmed(text, NULL)) {
		ui_status(u, "downtime clock unchanged: the answer was not yes");
		return;
	}
	if (!ui_may_write(u))
		return;
	sched_downtime d;
	sched_downtime_get(u->rb, u->lg, pgc_now(), &d);
	ops_ctx c = ui_ops_ctx(u);
	ops_outcome oc;
	/* the question asked was "starts" or "ends" as the clock stood; if
	 * someone else moved it since, ops.c says so and records nothing */
	ops_downtime(&c, !d.running, pgc_now(), &oc);
	ui_after_write(u);
	if (oc.result == OPS_DONE && d.running) {
		sched_downtime_get(u->rb, u->lg, pgc_now(), &d);
		char el[24];
		ui_fmt_duration(d.elapsed_s, el, sizeof el);
		ui_status(u, "downtime ended: %s (planned %d min)%s", el, d.plan_min, d.over ? " OVER PLAN" : "");
	} else {
		ui_status(u, "%.300s", oc.message);
	}
}

void ui_duty_key(ui_ctx *u)
{
	if (!u->n_rows_v || u->rows_v[u->cursor].kind != UI_ROW_ITEM) {
		ui_status(u, "put the cursor on a recurring duty (\"Every 2 hours: ...\")");
		return;
	}
	const rb_item *it = &ui_cur_phase(u)->items[u->rows_v[u->cursor].idx];
	if (!it->recurring) {
		ui_status(u, "%s is not a recurring duty; Space ticks it", it->id);
		return;
	}
	if (!ui_may_write(u))
		return;
	ops_ctx c = ui_ops_ctx(u);
	ops_outcome oc;
	ops_duty_done(&c, u->phase, (size_t)u->rows_v[u->cursor].idx, NULL, &oc);
	ui_after_write(u);
	if (oc.result == OPS_DONE) {
		int every = sched_parse_every(it->recurring);
		char clock[16] = "?";
		if (every > 0)
			ui_fmt_clock(pgc_now() + every, clock, sizeof clock, false);
		ui_status(u, "duty %s done; next due %s", it->id, clock);
	} else {
		ui_status(u, "%.300s", oc.message);
	}
}

const ui_screen ui_scr_detail = {"details", UI_KC_DETAIL, ui_detail_draw, ui_detail_key};
