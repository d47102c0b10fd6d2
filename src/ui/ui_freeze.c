/*
 * ui_freeze.c -- the `W` overlay: who still writes to the source, and the
 * write-freeze proof (freeze.h).  The watch is the core's frz_session on
 * the console's loop (behind ui_setup's freeze hooks, started on opening,
 * W again restarts it); this file only lays out what its frz_watch says:
 * quiet so far against the window, the last write named, the tables
 * written and the sessions by role@client (application), the ignore list
 * and the ignored sessions, and PROVEN once it is (the driver's backend
 * records it, so the go board's freeze input turns green).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/freeze.h"
#include "ui_priv.h"

#define FREEZE_MAX_COLS 110
#define FREEZE_MARGIN_ROWS 2

void ui_freeze_open(ui_ctx *u)
{
	if (!u->s.freeze_start) {
		ui_status(u, "%s", u->s.mode == UI_MODE_DRIVER ? "no freeze watch: the config names no source"
		                                               : "no freeze watch here: this console has no database credentials");
		return;
	}
	char msg[256] = "";
	if (u->s.freeze_start(u->s.hook_ud, msg, sizeof msg) < 0) {
		ui_status(u, "%s", msg);
		return;
	}
	u->overlay = &ui_scr_freeze;
	ui_mark(u, UI_DIRTY_ALL);
}

void ui_freeze_poll(ui_ctx *u)
{
	if (u->overlay == &ui_scr_freeze)
		ui_mark(u, UI_DIRTY_OVERLAY);
}

/* Puts text on as many lines as it needs from *y, cut at W-4 columns. */
static void freeze_wrapped(ui_ctx *u, WINDOW *w, int *y, int ymax, int W, const char *text, int attr, int pair)
{
	size_t len = strlen(text), per = W > 8 ? (size_t)(W - 6) : 1;
	for (size_t off = 0; off < len && *y < ymax; off += per) {
		char line[UI_LINE_MAX];
		snprintf(line, sizeof line, "%s%.*s", off ? "  " : "", (int)per, text + off);
		ui_put(u, w, (*y)++, 2, line, W - 4, attr, pair);
	}
}

static void ui_freeze_draw(ui_ctx *u)
{
	int W = u->cols - 4 < FREEZE_MAX_COLS ? u->cols - 4 : FREEZE_MAX_COLS;
	int H = u->rows - 2 * FREEZE_MARGIN_ROWS;
	WINDOW *w = ui_overlay_window(u, FREEZE_MARGIN_ROWS, H, W, " Write freeze: who still writes to the source ",
	                              " W restart  Esc close ");
	const char *err = "";
	const frz_watch *fw = u->s.freeze_watch ? u->s.freeze_watch(u->s.hook_ud, &err) : NULL;
	int y = 1, ymax = H - 1;
	char line[UI_LINE_MAX];
	if (!fw) {
		ui_put(u, w, y, 2, "not watching (W starts)", W - 4, 0, 0);
		return;
	}
	double now = pgc_now();
	if (err && *err) {
		snprintf(line, sizeof line, "watch stopped: %s", err);
		freeze_wrapped(u, w, &y, ymax, W, line, A_BOLD, ui_pair(u, UI_C_WARN));
	}
	snprintf(line, sizeof line, "%s every %d ms; proven after %d quiet s%s",
	         fw->counts_only ? "exact counts (REST source: WEAKER evidence)" : "write counters and sessions",
	         FRZ_SAMPLE_MS, fw->quiet_s, fw->quiet_s < FRZ_STATS_HOLDBACK_S ? " (shorter than PostgreSQL may hold counters back)" : "");
	ui_put(u, w, y++, 2, line, W - 4, 0, ui_pair(u, UI_C_DIM));
	y++;
	bool proven = fw->verdict == FRZ_PROVEN;
	if (proven)
		snprintf(line, sizeof line, "FREEZE PROVEN: quiet for %.0f s", frz_watch_quiet_for(fw, now));
	else
		snprintf(line, sizeof line, "quiet %.0f of %d s%s", frz_watch_quiet_for(fw, now), fw->quiet_s,
		         fw->samples < 2 ? " (first samples)" : "");
	ui_put(u, w, y++, 2, line, W - 4, A_BOLD, ui_pair(u, proven ? UI_C_DONE : UI_C_PROGRESS));
	if (fw->last_write_what[0]) {
		snprintf(line, sizeof line, "last write seen: %s", fw->last_write_what);
		freeze_wrapped(u, w, &y, ymax, W, line, proven ? 0 : A_BOLD, ui_pair(u, proven ? UI_C_DIM : UI_C_WARN));
	}
	char *who = frz_watch_who(fw, now);
	snprintf(line, sizeof line, "who: %s", who);
	free(who);
	freeze_wrapped(u, w, &y, ymax, W, line, 0, 0);
	y++;
	char *ign = frz_watch_ignored(fw);
	if (*ign) {
		snprintf(line, sizeof line, "ignored sessions: %s", ign);
		freeze_wrapped(u, w, &y, ymax, W, line, 0, ui_pair(u, UI_C_DIM));
	}
	free(ign);
	strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, "ignoring sessions of:");
	for (size_t i = 0; fw->ignore && fw->ignore[i]; i++)
		sb_printf(&sb, "%s %s", i ? "," : "", fw->ignore[i]);
	freeze_wrapped(u, w, &y, ymax, W, sb.buf, 0, ui_pair(u, UI_C_DIM));
	sb_free(&sb);
}

static int ui_freeze_key(ui_ctx *u, ui_action a)
{
	if (a == UI_ACT_FREEZE) {
		ui_freeze_open(u);
		return 1;
	}
	return 0;
}

const ui_screen ui_scr_freeze = {"freeze", UI_KC_FREEZE, ui_freeze_draw, ui_freeze_key};
