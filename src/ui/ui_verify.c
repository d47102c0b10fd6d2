/*
 * ui_verify.c -- the `V` screen: row-level verify, source against target.
 * The run is not the UI's: the verify service (svc_verify.c, behind
 * ui_setup's verify hooks) drives a vfy_session on the console's loop;
 * this file shows its model -- per table the state, a progress bar, rows
 * checked, rows/s and the time left, then what differs -- and redraws
 * when the run's generation changes.  V starts a run (or shows the one
 * running); on the screen, V hides it while the run goes on; Esc cancels
 * a run in flight (the cancel does not wait for the servers), and closes
 * the screen once nothing runs.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/verify.h"
#include "ui_priv.h"

#define VERIFY_MAX_COLS 120
#define VERIFY_MARGIN_ROWS 2     /* above and below the box */
#define VERIFY_CHROME_ROWS 4     /* border rows, the state line, the header */
#define VERIFY_BAR 10            /* progress bar cells */
#define VERIFY_NAME_W 18
#define VERIFY_KEYS_SHOWN 5      /* differing keys shown per kind */
#define VERIFY_PCT 100.0

static bool running_now(ui_ctx *u)
{
	unsigned gen = 0;
	const vfy_session *vs = u->s.verify_session ? u->s.verify_session(u->s.hook_ud, &gen) : NULL;
	return vs && !vfy_done(vs);
}

void ui_verify_open(ui_ctx *u)
{
	if (u->overlay == &ui_scr_verify && running_now(u)) {
		/* V on the screen hides it: the run goes on in the background */
		ui_overlay_close(u);
		ui_status(u, "verify goes on in the background (V shows it)");
		return;
	}
	if (!u->s.verify_start) {
		ui_status(u, "%s", u->s.mode == UI_MODE_DRIVER
		          ? "no verify: the config needs a PostgreSQL target (and a PostgreSQL or Supabase source)"
		          : "no verify here: this console has no database credentials");
		return;
	}
	char msg[PGC_ERR_MAX] = "";
	if (u->s.verify_start(u->s.hook_ud, msg, sizeof msg) < 0) {
		ui_status(u, "%s", msg);
		return;
	}
	ui_status(u, "%s", msg);
	u->overlay = &ui_scr_verify;
	u->verify_top = 0;
	u->verify_gen = 0;
	ui_mark(u, UI_DIRTY_ALL);
}

/* Called every second: redraw when the run moved (or just for the clock
 * of rows/s and ETA while it runs). */
void ui_verify_poll(ui_ctx *u)
{
	if (u->overlay != &ui_scr_verify || !u->s.verify_session)
		return;
	unsigned gen = 0;
	const vfy_session *vs = u->s.verify_session(u->s.hook_ud, &gen);
	if (gen != u->verify_gen || (vs && !vfy_done(vs)))
		ui_mark(u, UI_DIRTY_OVERLAY);
}

static void fmt_eta(double s, char *buf, size_t n)
{
	if (s < 0)
		snprintf(buf, n, "-");
	else if (s < 60)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

/* "[#########...........]  45%" from the rows checked against the
 * expected rows (a finished table is full). */
static void fmt_bar(const vfy_table *t, char *buf, size_t n)
{
	double frac = t->ended_ms > 0 ? 1.0 : t->rows_est > 0 ? (double)t->rows_done / (double)t->rows_est : 0;
	if (frac > 1)
		frac = 1;
	int fill = (int)(frac * VERIFY_BAR + 0.5);
	char cells[VERIFY_BAR + 1];
	for (int i = 0; i < VERIFY_BAR; i++)
		cells[i] = i < fill ? '#' : '.';
	cells[VERIFY_BAR] = '\0';
	snprintf(buf, n, "[%s] %3.0f%%", cells, frac * VERIFY_PCT);
}

static void ui_verify_draw(ui_ctx *u)
{
	int W = u->cols - 4 < VERIFY_MAX_COLS ? u->cols - 4 : VERIFY_MAX_COLS;
	int H = u->rows - 2 * VERIFY_MARGIN_ROWS;
	WINDOW *w = ui_overlay_window(u, VERIFY_MARGIN_ROWS, H, W, " Row-level verify: source vs target ",
	                              running_now(u) ? " j/k scroll  V hide  Esc cancel "
	                                             : " j/k scroll  V re-run  Esc close ");
	unsigned gen = 0;
	const vfy_session *vs = u->s.verify_session ? u->s.verify_session(u->s.hook_ud, &gen) : NULL;
	u->verify_gen = gen;
	if (!vs)
		return;
	bool running = !vfy_done(vs);
	size_t finished = 0;
	for (size_t i = 0; i < vfy_n_tables(vs); i++)
		finished += vfy_table_at(vs, i)->ended_ms > 0;
	char line[UI_LINE_MAX], sum[PGC_ERR_MAX];
	if (running)
		snprintf(line, sizeof line, "verifying... %zu/%zu tables done (Esc cancels)", finished, vfy_n_tables(vs));
	else
		snprintf(line, sizeof line, "%s", vfy_summary(vs, sum, sizeof sum));
	bool alarm = !running && !vfy_all_equal(vs);
	int y = 1;
	ui_put(u, w, y++, 2, line, W - 4, running || alarm ? A_BOLD : 0,
	       ui_pair(u, running ? UI_C_PROGRESS : alarm ? UI_C_WARN : UI_C_DONE));
	snprintf(line, sizeof line, "%-*s %-14s %-17s %9s %8s %6s  %s", VERIFY_NAME_W, "TABLE", "STATE",
	         "PROGRESS", "ROWS", "ROWS/S", "ETA", "MISSING/EXTRA/CHANGED");
	ui_put(u, w, y++, 2, line, W - 4, A_BOLD, 0);
	/* the table rows, then what differs; scrolled as one list */
	char **lines = NULL;
	bool *alarms = NULL;
	size_t n = 0;
	double now = loop_now_ms();
	for (size_t i = 0; i < vfy_n_tables(vs); i++) {
		const vfy_table *t = vfy_table_at(vs, i);
		char bar[VERIFY_BAR + 16], eta[16], rate_s[16];
		double rate, eta_s;
		vfy_table_progress(t, now, &rate, &eta_s);
		fmt_bar(t, bar, sizeof bar);
		fmt_eta(eta_s, eta, sizeof eta);
		snprintf(rate_s, sizeof rate_s, rate > 0 ? "%.0f" : "-", rate);
		const char *st = t->ended_ms > 0 || t->state == VFY_PENDING ? vfy_state_key(t->state) : "checking";
		lines = xrealloc(lines, (n + 1) * sizeof *lines);
		alarms = xrealloc(alarms, (n + 1) * sizeof *alarms);
		lines[n] = xasprintf("%-*.*s %-14s %-17s %9lld %8s %6s  %lld/%lld/%lld", VERIFY_NAME_W, VERIFY_NAME_W,
		                     t->name, st, bar, (long long)t->rows_done, rate_s, eta,
		                     (long long)t->missing.total, (long long)t->extra.total, (long long)t->changed_total);
		alarms[n++] = t->ended_ms > 0 && !t->equal;
	}
	for (size_t i = 0; !running && i < vfy_n_tables(vs); i++) {
		const vfy_table *t = vfy_table_at(vs, i);
		if (t->equal)
			continue;
		strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "%s:", t->name);
		if (t->state == VFY_NO_PK)
			sb_puts(&sb, " cannot verify row by row (no primary key); whole-table hash differs");
		if (t->error)
			sb_printf(&sb, " %s", t->error);
		for (size_t k = 0; k < t->n_schema; k++)
			sb_printf(&sb, " [%s]", t->schema[k]);
		for (size_t k = 0; k < t->missing.n && k < VERIFY_KEYS_SHOWN; k++)
			sb_printf(&sb, "%s%s", k ? " " : " missing ", t->missing.v[k]);
		for (size_t k = 0; k < t->extra.n && k < VERIFY_KEYS_SHOWN; k++)
			sb_printf(&sb, "%s%s", k ? " " : " extra ", t->extra.v[k]);
		for (size_t k = 0; k < t->n_changed && k < VERIFY_KEYS_SHOWN; k++)
			sb_printf(&sb, "%s%s(%s)", k ? " " : " changed ", t->changed[k].key, t->changed[k].columns);
		lines = xrealloc(lines, (n + 1) * sizeof *lines);
		alarms = xrealloc(alarms, (n + 1) * sizeof *alarms);
		lines[n] = sb_steal(&sb);
		alarms[n++] = true;
	}
	int body = H - VERIFY_CHROME_ROWS;
	for (size_t i = u->verify_top; i < n && y < 2 + body; i++)
		ui_put(u, w, y++, 2, lines[i], W - 4, alarms[i] ? A_BOLD : 0, alarms[i] ? ui_pair(u, UI_C_WARN) : 0);
	u->verify_lines = (int)n;
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(alarms);
}

static int ui_verify_key(ui_ctx *u, ui_action a)
{
	if (a == UI_ACT_VERIFY) {
		ui_verify_open(u);
		return 1;
	}
	if (a == UI_ACT_BACK && u->s.verify_cancel && u->s.verify_cancel(u->s.hook_ud)) {
		ui_status(u, "verify cancelled");
		ui_mark(u, UI_DIRTY_OVERLAY);
		return 1;   /* the screen stays: it shows what was cancelled */
	}
	int page = u->rows - 2 * VERIFY_MARGIN_ROWS - VERIFY_CHROME_ROWS;
	return ui_overlay_scroll(u, a, &u->verify_top, u->verify_lines, page);
}

const ui_screen ui_scr_verify = {"verify", UI_KC_VERIFY, ui_verify_draw, ui_verify_key};
