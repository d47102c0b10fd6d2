/*
 * ui_parity.c -- the `p` overlay: schema parity and sequence parity, source
 * against target.  The check itself is not the UI's: the module behind
 * ui_setup's parity hooks (cmd_console.c runs `pgcutover schema` as a child
 * process in the loop, so a slow catalog never freezes the screen) hands
 * back its text as it arrives; this file shows it, scrolls it, and marks
 * the lines that matter (a difference, a sequence BEHIND) in bold.  p again
 * re-runs the check.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ui_priv.h"

#define PARITY_MAX_COLS 120
#define PARITY_MARGIN_ROWS 2     /* above and below the box */
#define PARITY_CHROME_ROWS 3     /* border rows and the state line */

/* Words that make a line worth the operator's eye. */
static bool parity_alarm(const char *line)
{
	static const char *const words[] = {"BEHIND", "differs", "DIFFERENT", "only on", "UNCHECKED",
	                                    "will fail", "error", "unreachable", NULL};
	for (size_t i = 0; words[i]; i++)
		if (strstr(line, words[i]))
			return true;
	return false;
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
	u->overlay = UI_OV_PARITY;
	u->parity_top = 0;
	u->parity_gen = 0;
	ui_mark(u, UI_DIRTY_ALL);
}

/* Called every second: redraw when the text grew or the check ended. */
void ui_parity_poll(ui_ctx *u)
{
	if (u->overlay != UI_OV_PARITY || !u->s.parity_text)
		return;
	bool running = false;
	unsigned gen = 0;
	u->s.parity_text(u->s.hook_ud, &running, &gen);
	if (gen != u->parity_gen)
		ui_mark(u, UI_DIRTY_OVERLAY);
}

void ui_parity_draw(ui_ctx *u)
{
	int W = u->cols - 4 < PARITY_MAX_COLS ? u->cols - 4 : PARITY_MAX_COLS;
	int H = u->rows - 2 * PARITY_MARGIN_ROWS;
	if (u->w_ov)
		delwin(u->w_ov);
	u->w_ov = newwin(H, W, PARITY_MARGIN_ROWS, (u->cols - W) / 2);
	WINDOW *w = u->w_ov;
	werase(w);
	if (u->utf8)
		box_set(w, WACS_VLINE, WACS_HLINE);
	else
		wborder(w, '|', '|', '-', '-', '+', '+', '+', '+');
	ui_put(u, w, 0, 2, " Schema and sequence parity: source vs target ", W - 4, A_BOLD, 0);
	ui_put_right(u, w, H - 1, W - 2, " j/k scroll  p re-run  Esc close ", 0, ui_pair(u, UI_C_DIM));
	bool running = false;
	unsigned gen = 0;
	const char *text = u->s.parity_text ? u->s.parity_text(u->s.hook_ud, &running, &gen) : NULL;
	u->parity_gen = gen;
	int y = 1;
	ui_put(u, w, y++, 2, running ? "checking... (pgcutover schema, in the background)" : "done",
	       W - 4, running ? A_BOLD : 0, ui_pair(u, running ? UI_C_PROGRESS : UI_C_DIM));
	int body = H - PARITY_CHROME_ROWS;
	int n = 0;
	for (const char *p = text ? text : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= (int)u->parity_top && y < 1 + body + 1) {
			char line[UI_LINE_MAX];
			snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
			bool alarm = parity_alarm(line);
			ui_put(u, w, y++, 2, line, W - 4, alarm ? A_BOLD : 0, alarm ? ui_pair(u, UI_C_WARN) : 0);
		}
		n++;
		p += len + (nl ? 1 : 0);
	}
	u->parity_lines = n;
}

int ui_parity_key(ui_ctx *u, ui_action a)
{
	int page = u->rows - 2 * PARITY_MARGIN_ROWS - PARITY_CHROME_ROWS;
	long top = (long)u->parity_top;
	switch (a) {
	case UI_ACT_UP: top--; break;
	case UI_ACT_DOWN: top++; break;
	case UI_ACT_PGUP: top -= page; break;
	case UI_ACT_PGDN: top += page; break;
	case UI_ACT_TOP: top = 0; break;
	case UI_ACT_BOTTOM: top = u->parity_lines; break;
	case UI_ACT_PARITY:
		ui_parity_open(u);
		return 1;
	case UI_ACT_BACK:
		u->overlay = UI_OV_NONE;
		if (u->w_ov) {
			delwin(u->w_ov);
			u->w_ov = NULL;
		}
		ui_mark(u, UI_DIRTY_ALL);
		return 1;
	default:
		return 0;
	}
	long max = u->parity_lines - page;
	if (top > max)
		top = max;
	if (top < 0)
		top = 0;
	u->parity_top = (size_t)top;
	ui_mark(u, UI_DIRTY_OVERLAY);
	return 1;
}
