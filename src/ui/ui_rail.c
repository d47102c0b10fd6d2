/*
 * ui_rail.c -- the phase rail: every phase of the runbook (0 ... 5 and any
 * extra such as post-migration) with a progress bar, done/total, risk
 * level, status in words (not started, in progress, done, rolled back, or
 * the ledger's "rollback failed at ITEM, ..." in place of the bar) and
 * the actual duration once done, the actual downtime on the window's phase,
 * and "R" on phases with a rollback step to run; a phase its counts gate
 * blocks (ops_phase_gate) says "blocked:" and by which tables instead.  j/k select the phase the checklist shows;
 * Space on a finished phase records it complete (with an override reason
 * when an earlier phase is open).
 */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "pgcutover/schedule.h"
#include "ui_priv.h"

#define RAIL_ROWS_PER_PHASE 2
#define RAIL_BAR_COLS 10
#define RAIL_RISK_COLS 6
#define RAIL_BLOCKED "blocked: "

/* "HIGH", "MEDIUM - data loss" -> first word, upper case, short. */
static void risk_word(const char *risk, char *buf, size_t n)
{
	size_t j = 0;
	buf[0] = '\0';
	if (!risk)
		return;
	const char *p = risk;
	while (*p && !isalpha((unsigned char)*p))
		p++;
	while (*p && isalpha((unsigned char)*p) && j + 1 < n && j < RAIL_RISK_COLS)
		buf[j++] = (char)toupper((unsigned char)*p++);
	buf[j] = '\0';
}

static bool risk_high(const char *w)
{
	return strncmp(w, "HIGH", 4) == 0 || strncmp(w, "CRIT", 4) == 0;
}

/* A rollback step with a command: R has something to run. */
static bool has_rollback(const rb_phase *ph)
{
	for (size_t i = 0; i < ph->n_items; i++)
		if (ph->items[i].rollback && ph->items[i].block && ph->items[i].block->runnable)
			return true;
	for (size_t i = 0; i < ph->n_steps; i++)   /* a rollback written as prose and code */
		if (ph->steps[i].rollback && ph->steps[i].block && ph->steps[i].block->runnable)
			return true;
	return false;
}

void ui_rail_draw(ui_ctx *u)
{
	WINDOW *w = u->w_rail;
	werase(w);
	int h = getmaxy(w), width = getmaxx(w) - 1;   /* last column: separator */
	ui_vline(u, w, width, ui_attr(u, UI_C_DIM, 0), ui_pair(u, UI_C_DIM));
	WINDOW *tw = w;
	char right[32];
	snprintf(right, sizeof right, "%zu", u->rb->n_phases);
	ui_pane_title(u, tw, 0, "Phases", right, u->focus == UI_PANE_RAIL);
	int slots = (h - 1) / RAIL_ROWS_PER_PHASE;
	if (slots < 1)
		return;
	if (u->phase < u->rail_top)
		u->rail_top = u->phase;
	if (u->phase >= u->rail_top + (size_t)slots)
		u->rail_top = u->phase - (size_t)slots + 1;
	bool focused = u->focus == UI_PANE_RAIL && u->overlay == NULL;
	sched_downtime dtm;
	sched_downtime_get(u->rb, u->lg, pgc_now(), &dtm);
	for (int k = 0; k < slots && u->rail_top + (size_t)k < u->rb->n_phases; k++) {
		size_t p = u->rail_top + (size_t)k;
		const rb_phase *ph = &u->rb->phases[p];
		const lg_phase *lp = &u->lg->phases[p];
		int y = 1 + k * RAIL_ROWS_PER_PHASE;
		bool sel = p == u->phase;
		attr_t base = sel && focused ? A_REVERSE : 0;
		if (sel && focused) {
			mvwchgat(w, y, 0, width, A_REVERSE, 0, NULL);
			mvwchgat(w, y + 1, 0, width, A_REVERSE, 0, NULL);
		}
		if (sel)
			ui_put(u, w, y, 0, ui_glyph_str(u, UI_G_CURSOR), 1, base | A_BOLD, 0);
		char risk[RAIL_RISK_COLS + 2];
		risk_word(ph->risk, risk, sizeof risk);
		int riskw = risk[0] ? (int)strlen(risk) + 1 : 0;
		char head[300];
		snprintf(head, sizeof head, "%s %s", ph->id, ph->title);
		ui_put(u, w, y, 2, head, width - 2 - riskw, base | (sel ? A_BOLD : 0), 0);
		if (risk[0])
			ui_put_right(u, w, y, width, risk, base | (risk_high(risk) ? A_BOLD : 0),
			             ui_pair(u, risk_high(risk) ? UI_C_RISK : UI_C_DIM));
		/* line 2 of a phase its counts gate blocks: the tables that do
		 * (ops.h), in place of the bar that would read "done" */
		ops_gate g;
		ops_phase_gate(u->s.cfg, u->lg, p, &g);
		if (g.blocked && !lp->rollback_failed) {
			char words[OPS_GATE_MAX], line[OPS_GATE_MAX + 16];
			int room = width - 2 - (int)strlen(RAIL_BLOCKED);
			ops_gate_words(&g, room > 0 ? (size_t)room : 0, words, sizeof words);
			snprintf(line, sizeof line, RAIL_BLOCKED "%s", words);
			ui_put(u, w, y + 1, 2, line, width - 2, base | A_BOLD, ui_pair(u, UI_C_WARN));
			ops_gate_free(&g);
			continue;
		}
		ops_gate_free(&g);
		/* line 2: bar, figures, status words, actual duration; a rollback
		 * that failed halfway takes the bar's place (it is what matters) */
		int fx = lp->rollback_failed ? 2 : 3 + RAIL_BAR_COLS;
		if (!lp->rollback_failed)
			ui_bar(u, w, y + 1, 2, RAIL_BAR_COLS, lp->done, lp->total);
		char facts[96];
		/* R first: a narrow rail cuts the end of the line; on the window's
		 * phase, once the downtime ended, its length replaces the words
		 * the bar already says (not started, done) */
		bool down = dtm.start > 0 && !dtm.running && dtm.phase == p;
		bool words = !down || lp->rollback_failed ||
		             (lp->status != LG_PHASE_NOT_STARTED && lp->status != LG_PHASE_DONE);
		int n = snprintf(facts, sizeof facts, "%d/%d%s%s%s", lp->done, lp->total, has_rollback(ph) ? " R" : "",
		                 words ? " " : "", words ? ledger_phase_state(lp) : "");
		if (!down && lp->status == LG_PHASE_DONE && lp->started_at > 0 && lp->completed_at >= lp->started_at) {
			char dur[24];
			ui_fmt_duration(lp->completed_at - lp->started_at, dur, sizeof dur);
			n += snprintf(facts + n, sizeof facts - (size_t)n, " %s", dur);
		}
		/* the window's phase: the actual downtime, once it ended */
		if (down && n > 0 && (size_t)n < sizeof facts) {
			char dur[24];
			ui_fmt_duration(dtm.elapsed_s, dur, sizeof dur);
			n += snprintf(facts + n, sizeof facts - (size_t)n, " down %s", dur);
		}

		short pair = lp->rollback_failed ? UI_C_WARN :
		             lp->status == LG_PHASE_DONE ? UI_C_DONE :
		             lp->status == LG_PHASE_ROLLED_BACK ? UI_C_WARN :
		             lp->status == LG_PHASE_IN_PROGRESS ? UI_C_PROGRESS : UI_C_DIM;
		ui_put(u, w, y + 1, fx, facts, width - fx, base | (lp->rollback_failed ? A_BOLD : 0), ui_pair(u, pair));
	}
}

int ui_rail_key(ui_ctx *u, ui_action a)
{
	size_t n = u->rb->n_phases;
	switch (a) {
	case UI_ACT_UP: if (u->phase > 0) ui_select_phase(u, u->phase - 1); return 1;
	case UI_ACT_DOWN: if (u->phase + 1 < n) ui_select_phase(u, u->phase + 1); return 1;
	case UI_ACT_TOP: case UI_ACT_PGUP: ui_select_phase(u, 0); return 1;
	case UI_ACT_BOTTOM: case UI_ACT_PGDN: ui_select_phase(u, n - 1); return 1;
	case UI_ACT_OPEN:
		u->focus = UI_PANE_LIST;
		ui_mark(u, UI_DIRTY_RAIL | UI_DIRTY_LIST | UI_DIRTY_KEYBAR);
		return 1;
	case UI_ACT_TICK: {
		const lg_phase *lp = &u->lg->phases[u->phase];
		if (lp->completed_at > 0)
			ui_status(u, "phase %s is already complete", u->rb->phases[u->phase].id);
		else if (lp->done < lp->total)
			ui_status(u, "phase %s has %d open items; tick them in the checklist",
			          u->rb->phases[u->phase].id, lp->total - lp->done);
		else
			ui_complete_phase(u, u->phase, NULL);
		return 1;
	}
	default:
		return 0;
	}
}
