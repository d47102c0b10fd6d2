/*
 * ui_keybar.c -- the bottom key bar (htop-style: key in reverse video, then
 * what it does) and the `?` help overlay.  Both are generated from the one
 * key table in ui_keys.c, filtered by what has focus and by what this
 * console takes (ui_key_usable: MONITOR's bar has no Recount, the help
 * marks it disabled), so the screen never advertises a key that does
 * something else or only refuses.  The bar also carries the
 * transient status message (what was just recorded, errors).
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "ui_priv.h"

void ui_keybar_draw(ui_ctx *u)
{
	WINDOW *w = u->w_keybar;
	int width = getmaxx(w);
	werase(w);
	if (u->status_msg[0]) {
		ui_put(u, w, 0, 0, u->status_msg, width - 1, A_BOLD, 0);
		return;
	}
	if (ui_prompt_active(u)) {
		ui_put(u, w, 0, 0, "Enter confirm  Esc cancel  ^U clear", width - 1, 0, 0);
		return;
	}
	unsigned ctx = ui_key_context(u);
	if (u->replay && (ctx & UI_KC_PANES))
		ctx |= UI_KC_REPLAY;
	/* drop the least important entries until the bar fits */
	int max_rank = UI_KEYBAR_MAX_RANK;
	for (; max_rank > 0; max_rank--) {
		int need = 0;
		for (size_t i = 0; i < ui_n_keys; i++) {
			const ui_key *k = &ui_keys[i];
			if (!k->bar || !(k->contexts & ctx) || !ui_key_usable(u, k) || k->bar_rank > max_rank)
				continue;
			need += ui_text_width(u, k->label) + ui_text_width(u, k->bar) + 3;
		}
		if (need <= width)
			break;
	}
	int x = 0;
	for (size_t i = 0; i < ui_n_keys && x < width - 1; i++) {
		const ui_key *k = &ui_keys[i];
		if (!k->bar || !(k->contexts & ctx) || k->bar_rank > max_rank)
			continue;
		if (!ui_key_usable(u, k))
			continue;
		int kw = ui_text_width(u, k->label);
		int bw = ui_text_width(u, k->bar);
		if (x + kw + bw + 1 > width - 1)
			break;
		x += ui_put(u, w, 0, x, k->label, kw, UI_STYLE(u, UI_C_KEY, A_REVERSE));
		x += 1 + ui_put(u, w, 0, x + 1, k->bar, bw, 0, 0);
		x += 2;
	}
}

/* Where a key works, in words, from its context bits. */
static void where(unsigned c, char *buf, size_t n)
{
	static const struct { unsigned bits; const char *name; } parts[] = {
		{UI_KC_PANES, "panes"}, {UI_KC_LIST, "checklist"}, {UI_KC_RAIL, "phases"},
		{UI_KC_EVENTS, "events"}, {UI_KC_OVERLAY, "views"}, {UI_KC_LOG, "log"},
		{UI_KC_HELP, "help"}, {UI_KC_DETAIL, "details"}, {UI_KC_REPLAY, "replay"},
	};
	if ((c & (UI_KC_PANES | UI_KC_OVERLAY)) == (UI_KC_PANES | UI_KC_OVERLAY)) {
		snprintf(buf, n, "everywhere");
		return;
	}
	buf[0] = '\0';
	unsigned left = c & (UI_KC_PANES | UI_KC_OVERLAY | UI_KC_REPLAY);
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		if ((left & parts[i].bits) != parts[i].bits)
			continue;
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%s%s", l ? ", " : "", parts[i].name);
		left &= ~parts[i].bits;
	}
}

/* Lines of the help list (keys with help text shown in this mode). */
static size_t help_lines(const ui_ctx *u)
{
	size_t n = 0;
	for (size_t i = 0; i < ui_n_keys; i++)
		if (ui_keys[i].help && (!(ui_keys[i].contexts & UI_KC_REPLAY) || u->replay))
			n++;
	return n;
}

#define HELP_KEY_COLS 10
#define HELP_WHERE_COLS 18

void ui_help_draw(ui_ctx *u)
{
	int W = u->cols - 4, H = u->rows - 2;
	WINDOW *w = ui_overlay_window(u, 1, H, W, " Keys ", " j/k scroll  Esc close ");
	int y = 1, line = 0;
	ui_list_fit(&u->help_list, help_lines(u), H - 2 > 0 ? (size_t)(H - 2) : 1);
	for (size_t i = 0; i < ui_n_keys && y < H - 1; i++) {
		const ui_key *k = &ui_keys[i];
		if (!k->help || ((k->contexts & UI_KC_REPLAY) && !u->replay))
			continue;
		if (ui_list_row(&u->help_list, (size_t)line++) < 0)
			continue;
		ui_put(u, w, y, 2, k->label, HELP_KEY_COLS - 2, A_BOLD, 0);
		char buf[300], wh[64];
		snprintf(buf, sizeof buf, "%s%s", k->help, ui_key_usable(u, k) ? "" : " (disabled in this mode)");
		ui_put(u, w, y, 2 + HELP_KEY_COLS, buf, W - 4 - HELP_KEY_COLS - HELP_WHERE_COLS - 1, 0, 0);
		where(k->contexts, wh, sizeof wh);
		ui_put_right(u, w, y, W - 2, wh, 0, ui_pair(u, UI_C_DIM));
		y++;
	}
	if (y < H - 2) {
		y++;
		ui_put(u, w, y++, 2, "Marks: [x] done  [ ] open  [-] skipped  [~] in progress  [!] blocked  [N/A]", W - 4, 0, 0);
		ui_put(u, w, y++, 2, "Every tick, untick, note and override is appended to the audit log.", W - 4, 0, 0);
	}
}

void ui_help_open(ui_ctx *u)
{
	u->overlay = &ui_scr_help;
	ui_list_init(&u->help_list, false);
	u->help_list.n = help_lines(u);
	ui_mark(u, UI_DIRTY_ALL);
}

int ui_help_key(ui_ctx *u, ui_action a)
{
	if (!ui_list_key(&u->help_list, a))
		return 0;
	ui_mark(u, UI_DIRTY_OVERLAY);
	return 1;
}

const ui_screen ui_scr_help = {"help", UI_KC_HELP, ui_help_draw, ui_help_key};
