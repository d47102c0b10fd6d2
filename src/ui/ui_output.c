/*
 * ui_output.c -- the console's output pane: what `x`, `X` and `R` show and
 * what the command prints, live.  ui_run.c decides what runs; this file
 * keeps the pane's text and draws it.
 *
 * Everything that reaches the buffer has been through pgc_sanitize_n()
 * (escape sequences replaced, so a command can never drive the terminal)
 * and the command's output through the run's masker first (act_run does
 * that a whole line at a time, so a secret split across two reads is never
 * shown in halves).  The
 * buffer is bounded: past OUT_MAX bytes whole lines are dropped from the
 * front and the pane says so.  The pane follows the end while the operator
 * has not scrolled away from it.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/action.h"
#include "ui_priv.h"

#define OUT_MAX (256 * 1024)     /* output kept for the pane; older bytes dropped */
#define OUT_MAX_COLS 130
#define OUT_MARGIN_ROWS 2
#define OUT_CHROME_ROWS 3        /* border rows and the status line */

static void out_append(ui_runner *r, const char *s, size_t n)
{
	if (n >= OUT_MAX) {
		s += n - OUT_MAX / 2;
		n = OUT_MAX / 2;
	}
	if (r->out_len + n > OUT_MAX) {
		/* drop whole lines from the front so the pane never starts mid-line */
		size_t drop = r->out_len + n - OUT_MAX;
		if (drop > r->out_len)
			drop = r->out_len;
		const char *nl = memchr(r->out + drop, '\n', r->out_len - drop);
		if (nl)   /* else one line longer than the buffer: cut inside it */
			drop = (size_t)(nl - r->out) + 1;
		memmove(r->out, r->out + drop, r->out_len - drop);
		r->out_len -= drop;
		r->dropped = true;
	}
	if (r->out_len + n + 1 > r->out_cap) {
		r->out_cap = r->out_len + n + 1 + OUT_MAX / 8;
		r->out = xrealloc(r->out, r->out_cap);
	}
	memcpy(r->out + r->out_len, s, n);
	r->out_len += n;
	r->out[r->out_len] = '\0';
}

/* A line of pgcutover's own, on a line of its own even when the command's
 * output did not end with a newline. */
void ui_out_line(ui_runner *r, const char *s)
{
	if (r->out_len && r->out[r->out_len - 1] != '\n')
		out_append(r, "\n", 1);
	out_append(r, s, strlen(s));
	out_append(r, "\n", 1);
}

void ui_out_text(ui_runner *r, const char *text)
{
	char *safe = pgc_sanitize_n(text, strlen(text), PGC_SANITIZE_LINES);
	out_append(r, safe, strlen(safe));
	if (r->out_len && r->out[r->out_len - 1] != '\n')
		out_append(r, "\n", 1);
	free(safe);
}

/* Command output, masked a line at a time by the run (act_outbuf_feed), so
 * a secret split across two reads never reaches the pane in halves. */
void ui_out_feed(ui_runner *r, const char *data, size_t n)
{
	char *safe = pgc_sanitize_n(data, n, PGC_SANITIZE_LINES);
	out_append(r, safe, strlen(safe));
	free(safe);
}

void ui_output_open(ui_ctx *u)
{
	u->overlay = &ui_scr_output;
	u->runner.list.follow = true;
	ui_mark(u, UI_DIRTY_ALL);
}

/* o */
void ui_output_show(ui_ctx *u)
{
	if (!u->runner.out_len) {
		ui_status(u, "no command has run in this console yet (x runs the item's command)");
		return;
	}
	ui_output_open(u);
}

/* ---- the pane ---- */

/* How the command itself ended: its exit status, or the signal that
 * killed it (a cancel or a timeout), not `pgcutover run`'s exit code. */
void ui_out_fmt_end(const act_result *res, char *buf, size_t n)
{
	if (res->signal > 0)
		snprintf(buf, n, "signal %d (%s)", res->signal, strsignal(res->signal));
	else if (res->status == ACT_ERROR)
		snprintf(buf, n, "no exit status");   /* see the error that follows */
	else if (res->status == ACT_OK || res->status == ACT_FAILED)
		snprintf(buf, n, "exit %d", res->exit_code);
	else
		snprintf(buf, n, "exit %d", act_result_exit(res));
}

static int count_lines(const char *s, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n')
			k++;
	return k + (n && s[n - 1] != '\n');
}

void ui_output_draw(ui_ctx *u)
{
	ui_runner *r = &u->runner;
	int W = u->cols - 4 < OUT_MAX_COLS ? u->cols - 4 : OUT_MAX_COLS;
	int H = u->rows - 2 * OUT_MARGIN_ROWS;
	char buf[UI_LINE_MAX];
	snprintf(buf, sizeof buf, " Output: %s ", r->title);
	bool running = r->run && !act_finished(r->run);
	WINDOW *w = ui_overlay_window(u, OUT_MARGIN_ROWS, H, W, buf,
	                              running ? " j/k scroll  ^C cancel  Esc hide " : " j/k scroll  Esc close ");
	if (running) {
		char el[24];
		ui_fmt_duration(pgc_now() - r->started_at, el, sizeof el);
		snprintf(buf, sizeof buf, "running for %s (pid %d)", el, act_child_pid(r->run));
		ui_put(u, w, 1, 2, buf, W - 4, A_BOLD, ui_pair(u, UI_C_PROGRESS));
	} else if (r->has_last) {
		char how[UI_OUT_END_MAX];
		ui_out_fmt_end(&r->last, how, sizeof how);
		snprintf(buf, sizeof buf, "%s: %s, %s, %.1fs", r->title, act_status_name(r->last.status), how,
		         r->last.duration_s);
		bool good = r->last.status == ACT_OK;
		ui_put(u, w, 1, 2, buf, W - 4, good ? 0 : A_BOLD, ui_pair(u, good ? UI_C_DONE : UI_C_WARN));
	} else {
		ui_put(u, w, 1, 2, r->dropped ? "(older output dropped)" : "", W - 4, 0, ui_pair(u, UI_C_DIM));
	}
	int body = H - OUT_CHROME_ROWS;
	int total = count_lines(r->out, r->out_len);
	ui_list_fit(&r->list, total > 0 ? (size_t)total : 0, body > 0 ? (size_t)body : 1);
	int n = 0, y = 2;
	for (const char *p = r->out ? r->out : ""; *p && y < 2 + body;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (ui_list_row(&r->list, (size_t)n) >= 0) {
			snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), p);
			bool mark = strncmp(buf, "──", strlen("──")) == 0 || strstr(buf, "POINT OF NO RETURN");
			ui_put(u, w, y++, 2, buf, W - 4, mark ? A_BOLD : 0, 0);
		}
		n++;
		p += len + (nl ? 1 : 0);
	}
}

int ui_output_key(ui_ctx *u, ui_action a)
{
	/* G (or scrolling to the end) follows new output again */
	if (!ui_list_key(&u->runner.list, a))
		return 0;
	ui_mark(u, UI_DIRTY_OVERLAY);
	return 1;
}

const ui_screen ui_scr_output = {"output", UI_KC_OUTPUT, ui_output_draw, ui_output_key};
