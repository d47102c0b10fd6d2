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
	WINDOW *w = ui_overlay_window(u, PARITY_MARGIN_ROWS, H, W, " Schema and sequence parity: source vs target ",
	                              " j/k scroll  p re-run  Esc close ");
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
	if (a == UI_ACT_PARITY) {
		ui_parity_open(u);
		return 1;
	}
	int page = u->rows - 2 * PARITY_MARGIN_ROWS - PARITY_CHROME_ROWS;
	return ui_overlay_scroll(u, a, &u->parity_top, u->parity_lines, page);
}
