/*
 * ui_panels.c -- two overlays for cutover night: `F` the .env flags panel
 * and `H` the health panel.
 *
 * Flags: the declared flags as the action module reads them (act_flags_read:
 * the value in the config's env_file now, the last value pgcutover set, by
 * whom and when, and whether somebody changed the file behind pgcutover's
 * back), re-read every few seconds while open.  Enter on a flag asks for a
 * value and sets it with act_set_flag(), passing the stamp of the file as
 * shown, so a file changed since is refused rather than overwritten.  A
 * flag changed behind pgcutover's back is recorded as it is first shown
 * (act_flags_record_drift: once per value) when this console drives; a
 * monitor only shows it.
 *
 * Health: the config's checks and the runbook's `curl URL` items run at once
 * on curl multi in the console's loop (health.c); the results are recorded
 * as one health event, as `pgcutover health` does, and the panel keeps the
 * last few runs per check as a history line.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/action.h"
#include "pgcutover/envfile.h"
#include "pgcutover/health.h"
#include "ui_priv.h"

#define PANEL_MAX_COLS 120
#define PANEL_MARGIN_ROWS 2
#define FLAGS_REREAD_S 2.0

static WINDOW *panel_window(ui_ctx *u, const char *title, const char *keys, int *W, int *H)
{
	*W = u->cols - 4 < PANEL_MAX_COLS ? u->cols - 4 : PANEL_MAX_COLS;
	*H = u->rows - 2 * PANEL_MARGIN_ROWS;
	return ui_overlay_window(u, PANEL_MARGIN_ROWS, *H, *W, title, keys);
}

/* ---- flags ---- */

static void flags_reload(ui_ctx *u)
{
	act_flags_free(u->panels.flags);
	u->panels.flags = NULL;
	u->panels.flags_error[0] = '\0';
	pgc_err e = {0};
	int n = 0;
	if (act_flags_read(u->s.cfg, u->rb, u->s.st, &u->panels.flags, &e) < 0)
		snprintf(u->panels.flags_error, sizeof u->panels.flags_error, "%s", e.msg);
	else if (!ui_read_only(u) &&
	         act_flags_record_drift(u->s.st, u->s.cfg, u->panels.flags, "console", &n, &e) < 0)
		ui_status(u, "hand edit of the .env not recorded: %s", e.msg);
	else if (n > 0)
		ui_status(u, "recorded %d flag%s changed behind pgcutover's back (flag_drift)", n, n == 1 ? "" : "s");
	u->panels.flags_read_at = pgc_now();
	/* the file may have lost flags since: the selection stays on one */
	ui_list_fit(&u->panels.flags_list, u->panels.flags ? u->panels.flags->n_flags : 0, u->panels.flags_list.page);
}

void ui_flags_open(ui_ctx *u)
{
	if (!u->s.cfg || !u->s.cfg->env_file) {
		ui_status(u, "no flags panel: the config names no env_file");
		return;
	}
	ui_list_init(&u->panels.flags_list, true);
	flags_reload(u);
	u->overlay = &ui_scr_flags;
	ui_mark(u, UI_DIRTY_ALL);
}

static void health_poll(ui_ctx *u);

/* ---- the config file, reloaded on change ---- */

/* What reloads: everything read from u->s.cfg when it is used (commands'
 * workdir, shell, timeouts and variables, flags and env_file, health
 * checks, point of no return, phase gates).  What takes a restart: the
 * runbook path, the state, the source and target, tables and notify (the
 * counts, parity and notify services keep the config they started with,
 * and are never handed a freed one: reloaded configs live until exit). */
static void config_poll(ui_ctx *u)
{
	ui_panels *p = &u->panels;
	const config *cur = u->s.cfg;
	if (!cur || !cur->path || u->replay)
		return;
	double now = pgc_now();
	if (p->cfg_watched && now - p->cfg_checked_at < UI_CONFIG_CHECK_S)
		return;
	p->cfg_checked_at = now;
	envfile_stamp st;
	if (envfile_stat(cur->path, &st, NULL) < 0 || !st.exists)
		return;
	if (!p->cfg_watched) {
		p->cfg_stamp = st;
		p->cfg_watched = true;
		return;
	}
	if (envfile_stamp_equal(&st, &p->cfg_stamp))
		return;
	p->cfg_stamp = st;   /* a bad file is reported once, not every check */
	config *nc = NULL;
	pgc_err e = {0};
	if (config_load(cur->path, &nc, &e) < 0) {
		ui_status(u, "config changed but NOT reloaded, the old one stays: %.300s", e.msg);
		return;
	}
	bool restart = !cur->runbook != !nc->runbook || (cur->runbook && strcmp(cur->runbook, nc->runbook) != 0) ||
	               !cur->state != !nc->state || (cur->state && strcmp(cur->state, nc->state) != 0);
	p->cfg_kept = xrealloc(p->cfg_kept, (p->n_cfg_kept + 1) * sizeof *p->cfg_kept);
	p->cfg_kept[p->n_cfg_kept++] = nc;
	u->s.cfg = nc;
	p->hc_stale = true;
	if (u->overlay == &ui_scr_flags)
		flags_reload(u);
	ui_status(u, "config reloaded%s; source, target, tables and notify take a restart",
	          restart ? " (the runbook or state path changed: that takes a restart)" : "");
	ui_mark(u, UI_DIRTY_ALL);
}

void ui_panels_poll(ui_ctx *u)
{
	config_poll(u);
	health_poll(u);
	if (u->overlay == &ui_scr_flags && pgc_now() - u->panels.flags_read_at >= FLAGS_REREAD_S) {
		flags_reload(u);
		ui_mark(u, UI_DIRTY_OVERLAY);
	}
}

static void flag_row(ui_ctx *u, WINDOW *w, int y, size_t i, bool cur, void *ud);

void ui_flags_draw(ui_ctx *u)
{
	int W, H;
	bool ro = ui_read_only(u);
	WINDOW *w = panel_window(u, " .env flags ", ro ? " j/k move  Esc close " : " j/k move  Enter set  Esc close ", &W, &H);
	const act_flags *f = u->panels.flags;
	int y = 1;
	char buf[UI_LINE_MAX];
	if (!f) {
		ui_put(u, w, y, 2, u->panels.flags_error, W - 4, A_BOLD, ui_pair(u, UI_C_WARN));
		return;
	}
	snprintf(buf, sizeof buf, "file %s", f->file ? f->file : "?");
	ui_put(u, w, y++, 2, buf, W - 4, 0, ui_pair(u, UI_C_DIM));
	if (f->file_changed_behind_back)
		ui_put(u, w, y++, 2, "! the file was changed behind pgcutover's back since its last write", W - 4,
		       UI_STYLE(u, UI_C_WARN, A_BOLD));
	y++;
	ui_put(u, w, y, 2, "flag", 28, A_UNDERLINE, 0);
	ui_put(u, w, y, 32, "in the file", 20, A_UNDERLINE, 0);
	ui_put(u, w, y, 54, "last set by pgcutover", W - 56, A_UNDERLINE, 0);
	y++;
	ui_list_draw(u, &u->panels.flags_list, w, y, 2, W - 4, f->n_flags, H - 1 - y, flag_row, NULL);
}

static void flag_row(ui_ctx *u, WINDOW *w, int y, size_t i, bool cur, void *ud)
{
	(void)ud;
	int W = getmaxx(w);
	char buf[UI_LINE_MAX];
	const act_flag_status *s = &u->panels.flags->flags[i];
	attr_t base = cur ? A_REVERSE : 0;
	ui_put(u, w, y, 2, s->name, 28, base | A_BOLD, 0);
	ui_put(u, w, y, 32, s->value ? s->value : "(absent)", 20, base, 0);
	if (s->last_set) {
		char clock[16];
		ui_fmt_clock(s->last_set_at, clock, sizeof clock, false);
		snprintf(buf, sizeof buf, "%s by %s at %s%s", s->last_set, s->last_set_by ? s->last_set_by : "?", clock,
		         s->changed_behind_back ? "  CHANGED BEHIND BACK" : "");
	} else {
		snprintf(buf, sizeof buf, "never");
	}
	ui_put(u, w, y, 54, buf, W - 56, base | (s->changed_behind_back ? A_BOLD : 0),
	       s->changed_behind_back ? ui_pair(u, UI_C_WARN) : 0);
}

static void flags_answer(ui_ctx *u, const char *value, void *ctx);
static void flags_value(ui_ctx *u, const char *value, void *ctx);

int ui_flags_key(ui_ctx *u, ui_action a)
{
	const act_flags *f = u->panels.flags;
	size_t n = f ? f->n_flags : 0;
	if (ui_list_key(&u->panels.flags_list, a)) {
		ui_mark(u, UI_DIRTY_OVERLAY);
		return 1;
	}
	switch (a) {
	case UI_ACT_OPEN: {
		if (!n)
			return 1;
		if (ui_read_only(u)) {
			ui_status(u, "%s mode: flags are not set from here", ui_mode_name(u->s.mode));
			return 1;
		}
		const act_flag_status *s = &f->flags[u->panels.flags_list.cursor];
		/* the file as shown is what the new value is written over */
		u->panels.flag_stamp = f->stamp;
		snprintf(u->panels.flag_name, sizeof u->panels.flag_name, "%s", s->name);
		char title[sizeof u->prompt.title];
		snprintf(title, sizeof title, "New value of %.60s (now %.60s)", s->name, s->value ? s->value : "absent");
		ui_prompt_open(u, &(ui_prompt_spec){.title = title,
		                                    .hint = "Enter, then confirm; Esc: unchanged",
		                                    .secret = envfile_name_is_secret(s->name), .done = flags_value});
		return 1;
	}
	case UI_ACT_BACK: ui_overlay_close(u); return 1;
	default: return 0;
	}
}

/* The value typed, then the one confirmation: the flag's name or yes. */
static void flags_confirm(ui_ctx *u, const char *text, void *ctx)
{
	if (!ui_confirmed(text, u->panels.flag_name)) {
		ui_status(u, "%s unchanged: the answer was neither %s nor yes", u->panels.flag_name, u->panels.flag_name);
		return;
	}
	flags_answer(u, ctx, NULL);
}

static void flags_value(ui_ctx *u, const char *value, void *ctx)
{
	(void)ctx;
	char title[sizeof u->prompt.title];
	bool secret = envfile_name_is_secret(u->panels.flag_name);
	snprintf(title, sizeof title, "Set %.60s to %.60s? type the flag's name or yes, then Enter",
	         u->panels.flag_name, secret ? "the value typed" : *value ? value : "(empty)");
	ui_prompt_open(u, &(ui_prompt_spec){.title = title,
	                                    .hint = "written atomically with a backup, audited; Esc: unchanged",
	                                    .required = true, .done = flags_confirm,
	                                    .ctx = xstrdup(value), .own_ctx = true});
}

static void flags_answer(ui_ctx *u, const char *value, void *ctx)
{
	(void)ctx;
	envfile_set_result res;
	memset(&res, 0, sizeof res);
	pgc_err e = {0};
	const rb_phase *ph = ui_cur_phase(u);
	if (act_set_flag(u->s.st, u->s.cfg, ph ? ph->id : NULL, NULL, u->panels.flag_name, value,
	                 &u->panels.flag_stamp, &res, &e) < 0) {
		ui_status(u, "%s NOT set: %.200s", u->panels.flag_name, e.msg);
	} else {
		act_masker *m = act_masker_new(u->s.cfg);
		char *o = act_flag_shown(m, u->panels.flag_name, res.old_value, "(absent)");
		char *n = act_flag_shown(m, u->panels.flag_name, res.new_value, "");
		act_masker_free(m);
		ui_status(u, "%s: %s -> %s%s", u->panels.flag_name, o, n, res.changed ? "" : " (unchanged)");
		free(o);
		free(n);
	}
	envfile_set_result_free(&res);
	ui_follow_state(u);
	flags_reload(u);
	ui_mark(u, UI_DIRTY_ALL);
}

/* ---- health ---- */

static void health_done(void *ud, hc_batch *b)
{
	ui_ctx *u = ud;
	ui_panels *p = &u->panels;
	const hc_result *r = hc_results(b);
	/* an automatic run is recorded only when which checks pass changed:
	 * the log says when the app went down, not every minute that it is */
	bool changed = p->hc_runs > 0 && hc_outcome_changed(p->hc_last, r, p->n_hc);
	bool record = p->hc_record_next || changed;
	p->hc_last = xrealloc(p->hc_last, p->n_hc * sizeof *p->hc_last);
	memcpy(p->hc_last, r, p->n_hc * sizeof *r);
	/* history: newest last, UI_HEALTH_HISTORY runs */
	for (size_t i = 0; i < p->n_hc; i++) {
		char *h = p->hc_hist[i];
		size_t len = strlen(h);
		if (len >= UI_HEALTH_HISTORY) {
			memmove(h, h + 1, len);
			len--;
		}
		h[len] = r[i].ok ? '+' : 'X';
		h[len + 1] = '\0';
	}
	p->hc_runs++;
	p->hc_ended = pgc_now();
	if (record && !ui_read_only(u)) {
		pgc_err e = {0};
		if (hc_record(u->s.st, p->hc, r, p->n_hc, &e) < 0)
			ui_status(u, "health NOT recorded: %.200s", e.msg);
		ui_follow_state(u);
	}
	p->hc_finish = true;   /* the batch is freed on the next turn */
	bool all = hc_all_ok(r, p->n_hc);
	if (record)
		ui_status(u, "health%s: %s", p->hc_record_next ? "" : " changed", all ? "all checks pass" : "some checks FAIL");
	p->hc_record_next = false;
	ui_mark(u, UI_DIRTY_ALL);
}

static void health_collect(ui_ctx *u)
{
	ui_panels *p = &u->panels;
	if (p->hc_stale && !(p->batch && !p->hc_finish)) {
		/* the config was reloaded: its checks, from a fresh history */
		hc_free(p->batch);
		p->batch = NULL;
		for (size_t i = 0; i < p->n_hc; i++)
			free(p->hc_hist[i]);
		free(p->hc_hist);
		free(p->hc_last);
		hc_checks_free(p->hc, p->n_hc);
		p->hc_hist = NULL;
		p->hc_last = NULL;
		p->hc = NULL;
		p->n_hc = 0;
		p->hc_runs = 0;
		p->hc_ended = 0;
		p->hc_collected = false;
		p->hc_stale = false;
		ui_list_init(&p->hc_list, false);
	}
	if (p->hc_collected)
		return;
	p->hc_collected = true;
	p->n_hc = hc_collect(u->s.cfg, u->rb, &p->hc);
	p->hc_hist = xcalloc(p->n_hc ? p->n_hc : 1, sizeof *p->hc_hist);
	for (size_t i = 0; i < p->n_hc; i++)
		p->hc_hist[i] = xcalloc(UI_HEALTH_HISTORY + 2, 1);
}

/* Starts a run unless one is under way; asked (H) marks the run, or the
 * one under way, as one to record. */
static void health_start(ui_ctx *u, bool asked)
{
	ui_panels *p = &u->panels;
	if (asked)
		p->hc_record_next = true;
	if (p->batch && !p->hc_finish)
		return;   /* one run at a time */
	hc_free(p->batch);
	p->batch = NULL;
	p->hc_finish = false;
	pgc_err e = {0};
	p->batch = hc_start(u->lp, p->hc, p->n_hc, health_done, u, &e);
	if (!p->batch) {
		ui_status(u, "health: %.200s", e.msg);
		p->hc_record_next = false;
		p->hc_ended = pgc_now();   /* not again on the next tick */
	}
	p->hc_started = pgc_now();
}

/* From ui_panels_poll: the checks re-run on their own, through the loop
 * (curl multi; nothing blocks), faster while the panel is open.  Not in a
 * replay: its health is the replayed night's. */
static void health_poll(ui_ctx *u)
{
	ui_panels *p = &u->panels;
	if (u->replay)
		return;
	health_collect(u);
	if (!p->n_hc || (p->batch && !p->hc_finish))
		return;
	double every = u->overlay == &ui_scr_health ? UI_HEALTH_PANEL_S : UI_HEALTH_BG_S;
	if (p->hc_ended > 0 && pgc_now() - p->hc_ended < every)
		return;
	health_start(u, false);
	if (u->overlay == &ui_scr_health)
		ui_mark(u, UI_DIRTY_OVERLAY);
}

void ui_health_mark(ui_ctx *u, int width, char *buf, size_t n, bool *failing)
{
	ui_panels *p = &u->panels;
	buf[0] = '\0';
	*failing = false;
	if (!p->n_hc || !p->hc_runs)
		return;
	size_t bad, ok = hc_count_ok(p->hc_last, p->n_hc, &bad);
	*failing = bad < p->n_hc;
	snprintf(buf, n, "%s %zu/%zu", ui_glyph_str(u, *failing ? UI_G_RUN_FAILED : UI_G_HEALTH_OK), ok, p->n_hc);
	if (*failing && p->hc[bad].name) {
		size_t l = strlen(buf);
		char *name = pgc_sanitize(p->hc[bad].name);
		snprintf(buf + l, n - l, " %s", name);
		free(name);
		if (ui_text_width(u, buf) > width)
			buf[l] = '\0';
	}
}

void ui_health_open(ui_ctx *u)
{
	ui_panels *p = &u->panels;
	health_collect(u);
	if (!p->n_hc) {
		ui_status(u, "no health checks: none in the config, no `curl URL` or \"Health check:\" items in the runbook");
		return;
	}
	u->overlay = &ui_scr_health;
	ui_mark(u, UI_DIRTY_ALL);
	if (ui_read_only(u) && p->hc_runs && !(p->batch && !p->hc_finish))
		return;
	health_start(u, true);
}

void ui_health_draw(ui_ctx *u)
{
	ui_panels *p = &u->panels;
	int W, H;
	WINDOW *w = panel_window(u, " Health checks ", " j/k scroll  H re-run  Esc close ", &W, &H);
	int y = 1;
	char buf[UI_LINE_MAX];
	bool running = p->batch && !p->hc_finish;
	if (running)
		ui_put(u, w, y++, 2, "checking...", W - 4, A_BOLD, ui_pair(u, UI_C_PROGRESS));
	else
	{
		snprintf(buf, sizeof buf, "history, oldest first: + pass, X fail; re-run every %d s while open, every %d s behind",
		         UI_HEALTH_PANEL_S, UI_HEALTH_BG_S);
		ui_put(u, w, y++, 2, buf, W - 4, 0, ui_pair(u, UI_C_DIM));
	}
	/* a check takes up to three lines (a gap, its result, its history):
	 * the list scrolls by check */
	int per = 3, fit = (H - 2 - y) / per;
	ui_list_fit(&p->hc_list, p->n_hc, fit > 0 ? (size_t)fit : 1);
	for (size_t i = p->hc_list.top; i < p->n_hc && y < H - 2; i++) {
		const hc_check *c = &p->hc[i];
		/* a run asked for (H) shows "?" until its own results are in; the
		 * runs on a timer leave the last results in place meanwhile */
		const hc_result *r = p->hc_last && p->hc_runs && !(running && p->hc_record_next) ? &p->hc_last[i] : NULL;
		y++;
		snprintf(buf, sizeof buf, "%-6s %s  %s", !r ? "?" : r->ok ? "PASS" : "FAIL", c->name ? c->name : "", c->url);
		ui_put(u, w, y++, 2, buf, W - 4, r && !r->ok ? A_BOLD : 0,
		       ui_pair(u, !r ? UI_C_DIM : r->ok ? UI_C_DONE : UI_C_WARN));
		if (r) {
			snprintf(buf, sizeof buf, "       HTTP %ld in %.0f ms%s%s   history %s", r->status, r->latency_ms,
			         r->error[0] ? "  " : "", r->error, p->hc_hist[i]);
			ui_put(u, w, y++, 2, buf, W - 4, 0, 0);
		}
	}
}

int ui_health_key(ui_ctx *u, ui_action a)
{
	if (ui_list_key(&u->panels.hc_list, a)) {
		ui_mark(u, UI_DIRTY_OVERLAY);
		return 1;
	}
	switch (a) {
	case UI_ACT_HEALTH: ui_health_open(u); return 1;
	case UI_ACT_BACK: ui_overlay_close(u); return 1;
	default: return 0;
	}
}

void ui_panels_free(ui_ctx *u)
{
	ui_panels *p = &u->panels;
	act_flags_free(p->flags);
	hc_free(p->batch);
	for (size_t i = 0; i < p->n_hc; i++)
		free(p->hc_hist[i]);
	free(p->hc_hist);
	free(p->hc_last);
	hc_checks_free(p->hc, p->n_hc);
	for (size_t i = 0; i < p->n_cfg_kept; i++)
		config_free(p->cfg_kept[i]);
	free(p->cfg_kept);
	memset(p, 0, sizeof *p);
}

const ui_screen ui_scr_flags = {".env flags", UI_KC_FLAGS, ui_flags_draw, ui_flags_key};
const ui_screen ui_scr_health = {"health", UI_KC_HEALTH, ui_health_draw, ui_health_key};
