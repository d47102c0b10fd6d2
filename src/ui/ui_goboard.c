/*
 * ui_goboard.c -- the `B` overlay: the go/no-go board for the switch
 * (goboard.h).  Nothing here measures or decides: the board is the core's
 * go_board_from_log() (freeze, sync, counts, health, postpone from the
 * log) with the schema and target-sequence parity the parity service
 * (svc_parity, the `p` check, started on opening) reports, finished by
 * go_board_finish(); a driver records it (go_board) once the parity check
 * is done, so the gate on the switch item can read it.  Each input shows
 * its status, when it was measured and its value; stale evidence (from
 * before the freeze) says so.  B again re-checks; `e` in the panes takes
 * exact counts, `pgcutover freeze check` proves the freeze.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pgcutover/goboard.h"
#include "pgcutover/svc.h"
#include "ui_priv.h"

#define GO_MAX_COLS 110
#define GO_MARGIN_ROWS 2

/* The board as the core puts it together now. */
static void ui_go_build(ui_ctx *u, go_board *b, bool *parity_done)
{
	pgc_err e = {0};
	go_board_from_log(b, u->s.cfg, u->rb, u->s.st, pgc_now(), &e);
	const svc_parity_result *r = u->s.parity_result ? u->s.parity_result(u->s.hook_ud) : NULL;
	*parity_done = r && (r->phase == SVC_PARITY_DONE || r->phase == SVC_PARITY_FAILED);
	if (*parity_done) {
		if (u->go_parity_at == 0)
			u->go_parity_at = pgc_now();
		go_board_set_schema(b, r->have_source, r->n_diffs, u->go_parity_at,
		                    r->phase == SVC_PARITY_FAILED ? r->error : NULL);
		if (r->phase == SVC_PARITY_DONE)
			go_board_set_target_sequences(b, r->n_seqs, r->seqs_bad, u->go_parity_at);
	}
	go_board_finish(b);
}

void ui_go_open(ui_ctx *u)
{
	char msg[256] = "";
	if (u->s.parity_start)
		u->s.parity_start(u->s.hook_ud, msg, sizeof msg);
	u->go_parity_at = 0;
	u->go_recorded = false;
	u->overlay = &ui_scr_go;
	ui_mark(u, UI_DIRTY_ALL);
}

/* Every second while open: time passes, the parity check progresses; a
 * driver records the board once the check is done. */
void ui_go_poll(ui_ctx *u)
{
	if (u->overlay != &ui_scr_go)
		return;
	ui_mark(u, UI_DIRTY_OVERLAY);
	if (u->go_recorded || u->s.mode != UI_MODE_DRIVER || !u->s.st)
		return;
	go_board b;
	bool done = false;
	ui_go_build(u, &b, &done);
	if (!done)
		return;
	pgc_err e = {0};
	u->go_recorded = true;
	if (go_board_record(u->s.st, &b, NULL, &e) != 0)
		ui_status(u, "go/no-go board not recorded: %.200s", e.msg);
	else
		ui_after_write(u);
}

static void ui_go_draw(ui_ctx *u)
{
	int W = u->cols - 4 < GO_MAX_COLS ? u->cols - 4 : GO_MAX_COLS;
	int H = u->rows - 2 * GO_MARGIN_ROWS;
	go_board b;
	bool done = false;
	ui_go_build(u, &b, &done);
	char title[RB_ID_MAX + 48];
	snprintf(title, sizeof title, " Go/no-go for the switch %s ", b.switch_item[0] ? b.switch_item : "(none found)");
	WINDOW *w = ui_overlay_window(u, GO_MARGIN_ROWS, H, W, title, " B re-check  Esc close ");
	int y = 1;
	ui_put(u, w, y++, 2, done ? (u->go_recorded ? "recorded; the gate on the switch reads it"
	                                            : "schema and sequences checked")
	                          : "checking schema and sequences... (in the background)",
	       W - 4, done ? 0 : A_BOLD, ui_pair(u, done ? UI_C_DIM : UI_C_PROGRESS));
	y++;
	for (int i = 0; i < GO_N_INPUTS && y < H - 2; i++) {
		const go_input *in = &b.in[i];
		char when[16] = "-", line[UI_LINE_MAX];
		if (in->measured_at > 0) {
			time_t t = (time_t)in->measured_at;
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(when, sizeof when, "%H:%M:%S", &tm);
		}
		snprintf(line, sizeof line, "%-3s %-10s %-9s %s%s", in->status == GO_GREEN ? "ok" : in->status == GO_RED ? "NO" : "-",
		         go_input_key((go_input_id)i), when, in->stale ? "STALE (before the freeze) " : "", in->value);
		bool red = in->status == GO_RED;
		ui_put(u, w, y++, 2, line, W - 4, red ? A_BOLD : 0,
		       ui_pair(u, red ? UI_C_WARN : in->status == GO_GREEN ? UI_C_DONE : UI_C_DIM));
	}
	y++;
	if (y < H - 1)
		ui_put(u, w, y, 2, b.go ? "GO" : "NO-GO: the switch waits (or takes a typed reason)", W - 4, A_BOLD,
		       ui_pair(u, b.go ? UI_C_DONE : UI_C_WARN));
}

static int ui_go_key(ui_ctx *u, ui_action a)
{
	if (a == UI_ACT_GO) {
		ui_go_open(u);
		return 1;
	}
	return 0;
}

const ui_screen ui_scr_go = {"go", UI_KC_GO, ui_go_draw, ui_go_key};
