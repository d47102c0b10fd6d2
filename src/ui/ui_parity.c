/*
 * ui_parity.c -- the `p` overlay: schema parity and sequence parity, source
 * against target.  The check itself is not the UI's: the parity service
 * (svc_parity.c, behind ui_setup's parity hooks) reads both catalogs on
 * the loop's async connections and hands back a structured result; this
 * file lays it out in the words of `pgcutover schema` (object counts side
 * by side, each difference, each sequence and its verdict), scrolls it,
 * and marks in bold what the result says is wrong -- a difference, a
 * sequence behind or unchecked, a failed check -- never by reading words
 * back out of text.  p again re-runs the check.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/svc.h"
#include "ui_priv.h"

#define PARITY_MAX_COLS 120
#define PARITY_MARGIN_ROWS 2     /* above and below the box */
#define PARITY_CHROME_ROWS 3     /* border rows and the state line */

/* One laid-out line and whether it needs the operator's eye. */
typedef struct parity_line {
	char text[UI_LINE_MAX];
	bool alarm;
} parity_line;

typedef struct parity_layout {
	parity_line *v;
	size_t n, cap;
} parity_layout;

static void pl_add(parity_layout *pl, bool alarm, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pl_add(parity_layout *pl, bool alarm, const char *fmt, ...)
{
	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? 2 * pl->cap : 32;
		pl->v = xrealloc(pl->v, pl->cap * sizeof *pl->v);
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pl->v[pl->n].text, sizeof pl->v[pl->n].text, fmt, ap);
	va_end(ap);
	pl->v[pl->n++].alarm = alarm;
}

/* The result as lines, in the layout of `pgcutover schema`. */
static void parity_layout_of(const svc_parity_result *r, parity_layout *pl)
{
	if (r->catalogs_read) {
		pl_add(pl, false, "%-12s %8s %8s", "OBJECTS", "SOURCE", "TARGET");
		for (int k = 0; k < SCH_N_KINDS; k++) {
			bool differs = r->src.n[k] != r->dst.n[k];
			pl_add(pl, differs, "%-12s %8zu %8zu%s", sch_kind_name((sch_kind)k), r->src.n[k], r->dst.n[k],
			       differs ? "   differs" : "");
		}
		if (r->n_diffs > 0) {
			pl_add(pl, false, "%s", "");
			pl_add(pl, false, "differences (%zu):", r->n_diffs);
		}
		for (size_t i = 0; i < r->n_diffs; i++) {
			char *line = sch_diff_line(&r->diffs[i]);
			pl_add(pl, true, "%s", line);
			free(line);
		}
	} else if (!r->have_source && r->phase != SVC_PARITY_IDLE) {
		pl_add(pl, false, "source is a Supabase REST endpoint: schema not compared, target sequences only");
	}
	if (r->seqs_read && r->n_seqs > 0) {
		pl_add(pl, false, "%s", "");
		pl_add(pl, false, "sequences on the target (%zu):", r->n_seqs);
		for (size_t i = 0; i < r->n_seqs; i++) {
			const sch_seq_check *s = &r->seqs[i];
			char *line = sch_seq_line(s);
			pl_add(pl, s->error || !s->ok, "%s", line);
			free(line);
			if (s->error)
				continue;
			char *fix = s->ok ? NULL : sch_seq_fix_sql(s);
			if (fix) {
				pl_add(pl, false, "    the next INSERT will fail; fix on the target with:");
				pl_add(pl, false, "    %s", fix);
			}
			free(fix);
		}
	}
	if (r->phase == SVC_PARITY_FAILED) {
		pl_add(pl, false, "%s", "");
		pl_add(pl, true, "(check failed: %s)", r->error);
	} else if (r->phase == SVC_PARITY_DONE) {
		bool bad = r->n_diffs > 0 || r->seqs_bad > 0;
		char diffs[64] = "";
		if (r->n_diffs > 0)
			snprintf(diffs, sizeof diffs, " (%zu difference%s)", r->n_diffs, r->n_diffs == 1 ? "" : "s");
		char seqs[64];
		if (r->seqs_bad > 0)
			snprintf(seqs, sizeof seqs, "%zu SEQUENCE%s BEHIND OR UNCHECKED", r->seqs_bad,
			         r->seqs_bad == 1 ? "" : "S");
		else
			snprintf(seqs, sizeof seqs, "sequences ok (%zu)", r->n_seqs);
		pl_add(pl, false, "%s", "");
		pl_add(pl, bad, "schema: %s%s; %s", !r->have_source ? "not compared" : r->n_diffs ? "DIFFERENT" : "equal",
		       diffs, seqs);
	}
}

void ui_parity_open(ui_ctx *u)
{
	if (!u->s.parity_start) {
		ui_status(u, "%s", u->s.mode == UI_MODE_DRIVER
		          ? "no parity check: the config needs a PostgreSQL source and target"
		          : "no parity check here: this console has no database credentials");
		return;
	}
	char msg[256] = "";
	if (u->s.parity_start(u->s.hook_ud, msg, sizeof msg) < 0) {
		ui_status(u, "%s", msg);
		return;
	}
	u->overlay = &ui_scr_parity;
	u->parity_top = 0;
	u->parity_gen = 0;
	ui_mark(u, UI_DIRTY_ALL);
}

/* Called every second: redraw when the check made progress. */
void ui_parity_poll(ui_ctx *u)
{
	if (u->overlay != &ui_scr_parity || !u->s.parity_result)
		return;
	const svc_parity_result *r = u->s.parity_result(u->s.hook_ud);
	if (r && r->gen != u->parity_gen)
		ui_mark(u, UI_DIRTY_OVERLAY);
}

static void ui_parity_draw(ui_ctx *u)
{
	int W = u->cols - 4 < PARITY_MAX_COLS ? u->cols - 4 : PARITY_MAX_COLS;
	int H = u->rows - 2 * PARITY_MARGIN_ROWS;
	WINDOW *w = ui_overlay_window(u, PARITY_MARGIN_ROWS, H, W, " Schema and sequence parity: source vs target ",
	                              " j/k scroll  p re-run  Esc close ");
	const svc_parity_result *r = u->s.parity_result ? u->s.parity_result(u->s.hook_ud) : NULL;
	bool running = r && r->phase == SVC_PARITY_RUNNING;
	u->parity_gen = r ? r->gen : 0;
	int y = 1;
	ui_put(u, w, y++, 2, running ? "checking... (both catalogs, in the background)"
	                             : r && r->phase == SVC_PARITY_FAILED ? "failed" : "done",
	       W - 4, running ? A_BOLD : 0, ui_pair(u, running ? UI_C_PROGRESS : UI_C_DIM));
	parity_layout pl = {0};
	if (r)
		parity_layout_of(r, &pl);
	int body = H - PARITY_CHROME_ROWS;
	for (size_t i = u->parity_top; i < pl.n && y < 1 + body + 1; i++)
		ui_put(u, w, y++, 2, pl.v[i].text, W - 4, pl.v[i].alarm ? A_BOLD : 0,
		       pl.v[i].alarm ? ui_pair(u, UI_C_WARN) : 0);
	u->parity_lines = (int)pl.n;
	free(pl.v);
}

static int ui_parity_key(ui_ctx *u, ui_action a)
{
	if (a == UI_ACT_PARITY) {
		ui_parity_open(u);
		return 1;
	}
	int page = u->rows - 2 * PARITY_MARGIN_ROWS - PARITY_CHROME_ROWS;
	return ui_overlay_scroll(u, a, &u->parity_top, u->parity_lines, page);
}

const ui_screen ui_scr_parity = {"parity", UI_KC_PARITY, ui_parity_draw, ui_parity_key};
