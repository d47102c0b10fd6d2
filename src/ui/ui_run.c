/*
 * ui_run.c -- running the runbook from the console: `x` runs the item's
 * command block, `X` shows what it would do (dry run), `R` in the phase
 * rail rolls the selected phase back; `o` and the pane are ui_output.c.
 *
 * The UI never runs anything itself: it asks the action module (action.h)
 * for a plan, shows exactly what will happen, asks for the variables nobody
 * defined and for the one confirmation (ui_confirmed: the item id, or the
 * phase id for a rollback, or `yes`, typed and Enter; past the point of no
 * return first the word `rollback`, under the warning in red),
 * then act_start() runs it inside the console's loop.  Output streams into
 * the output pane (ui_output.c) through the action's masker and
 * pgc_sanitize_n(), so secrets and escape sequences never reach the screen;
 * Ctrl-C in the pane cancels (SIGTERM to the process group, SIGKILL after
 * the grace period).
 * Everything is audited by the action module itself (command_start,
 * flag_set, command_end, phase_rolled_back or phase_rollback_failed), as
 * `pgcutover run` and `pgcutover rollback` do.  The switch item (goboard.h)
 * asks for a reason while the last go/no-go board is not go (as `pgcutover
 * run --override REASON` takes one), and its go_decision (go, or override
 * with the reason) is recorded by go_decide_run as the run starts.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/freeze.h"
#include "pgcutover/schema.h"
#include "pgcutover/action.h"
#include "pgcutover/envfile.h"
#include "pgcutover/goboard.h"
#include "ui_priv.h"

#define RUN_TYPED_WORD "rollback"    /* second confirmation past the point of no return */

static void run_next(ui_ctx *u);

/* A rollback stage failed (or could not start): recorded by the core, so
 * the rail marks the phase until it is resolved. */
static void rollback_failed(ui_ctx *u, const act_result *res)
{
	ui_runner *r = &u->runner;
	act_result fr = *res;
	if (fr.status == ACT_RUNNING || fr.status == ACT_OK) {   /* could not start */
		memset(&fr, 0, sizeof fr);
		fr.status = ACT_ERROR;
		fr.failed_segment = -1;
	}
	pgc_err e = {0};
	if (act_rollback_record_failed(u->s.st, r->rbk, r->stage, &fr, r->step_res, NULL, &e) < 0)
		ui_out_line(r, "the failed rollback was NOT recorded");
	ui_follow_state(u);
	ui_mark(u, UI_DIRTY_ALL);
}

static void runner_clear(ui_ctx *u)
{
	ui_runner *r = &u->runner;
	if (r->run) {
		act_free(r->run);
		r->run = NULL;
	}
	if (r->finish_timer)
		loop_timer_cancel(u->lp, r->finish_timer);
	act_plan_free(r->plan);
	act_rollback_free(r->rbk);
	free(r->step_res);
	free(r->out);
	free(r->override);
	frz_release_free(r->frz);
	memset(r, 0, sizeof *r);
}

void ui_run_free(ui_ctx *u)
{
	runner_clear(u);
}

bool ui_run_busy(const ui_ctx *u, char *what, size_t n)
{
	if (!u->runner.run || act_finished(u->runner.run))
		return false;
	snprintf(what, n, "%s", u->runner.title);
	return true;
}

/* ---- running ---- */

static void on_flag(void *ud, const char *name, const char *old_value, const char *new_value,
                    const char *backup_path)
{
	(void)backup_path;
	ui_ctx *u = ud;
	const act_masker *m = u->runner.run ? act_get_masker(u->runner.run) : NULL;
	char *o = act_flag_shown(m, name, old_value, "(absent)"), *n = act_flag_shown(m, name, new_value, "");
	char line[UI_LINE_MAX];
	snprintf(line, sizeof line, "[flag] %s: %s -> %s", name, o, n);
	free(o);
	free(n);
	char *safe = pgc_sanitize_n(line, strlen(line), PGC_SANITIZE_LINES);
	ui_out_line(&u->runner, safe);
	free(safe);
	ui_mark(u, UI_DIRTY_OVERLAY);
}

/* The end of a run is handled on the next loop turn, outside the action's
 * own callback (the run may be freed then). */
static void on_done(void *ud, const act_result *res)
{
	ui_ctx *u = ud;
	u->runner.last = *res;
	u->runner.ended = true;
	u->runner.has_last = true;
	if (!u->runner.finish_timer)
		u->runner.finish_timer = loop_timer(u->lp, 0, ui_run_finish, u);
}

static void on_output(void *ud, int stream, const char *data, size_t n)
{
	(void)stream;
	ui_ctx *u = ud;
	ui_out_feed(&u->runner, data, n);
	if (u->overlay == &ui_scr_output)
		ui_mark(u, UI_DIRTY_OVERLAY);
}

static const act_hooks run_hooks = {on_output, on_flag, on_done};

static bool start_plan(ui_ctx *u, const act_plan *p)
{
	ui_runner *r = &u->runner;
	const config *cfg = u->s.cfg;
	act_opts opt = {.st = u->s.st, .auto_tick = cfg && cfg->auto_tick && !r->rbk};
	pgc_err e = {0};
	char line[UI_LINE_MAX];
	snprintf(line, sizeof line, "── %s %s ──", p->item_id[0] ? "running" : "restoring flags of phase",
	         p->item_id[0] ? p->item_id : p->phase_id);
	ui_out_line(r, line);
	r->ended = false;
	r->started_at = pgc_now();
	if (act_start(u->lp, p, cfg, &opt, &run_hooks, u, &r->run, &e) < 0) {
		snprintf(line, sizeof line, "could not start: %.900s", e.msg);
		char *safe = pgc_sanitize_n(line, strlen(line), PGC_SANITIZE_LINES);
		ui_out_line(r, safe);
		free(safe);
		ui_status(u, "%s NOT run: %.200s", p->item_id[0] ? p->item_id : "restore", e.msg);
		r->run = NULL;
		ui_follow_state(u);
		return false;
	}
	ui_follow_state(u);   /* command_start */
	return true;
}

/* Called from a zero timer after a run ended: reports it, and for a
 * rollback starts the next step or records the rollback. */
void ui_run_finish(loop *lp, void *ud)
{
	(void)lp;
	ui_ctx *u = ud;
	ui_runner *r = &u->runner;
	r->finish_timer = 0;
	if (!r->run)
		return;
	const act_result res = r->last;
	const act_plan *p = act_get_plan(r->run);
	act_free(r->run);
	r->run = NULL;
	char line[UI_LINE_MAX];
	char how[UI_OUT_END_MAX];
	ui_out_fmt_end(&res, how, sizeof how);
	snprintf(line, sizeof line, "── %s: %s, %s, %.1fs%s%.*s ──", p->item_id[0] ? p->item_id : "restore",
	         act_status_name(res.status), how, res.duration_s,
	         res.error[0] ? ": " : "", (int)(sizeof line / 2), res.error);
	char *safe = pgc_sanitize_n(line, strlen(line), PGC_SANITIZE_LINES);
	ui_out_line(r, safe);
	free(safe);
	ui_follow_state(u);
	if (r->rbk) {
		if (res.status != ACT_OK) {
			snprintf(line, sizeof line, "phase %s NOT marked rolled back: %s failed", r->rbk->phase_id,
			         p->item_id[0] ? p->item_id : "restoring flags");
			ui_out_line(r, line);
			rollback_failed(u, &res);
			ui_status(u, "%s", line);
			return;
		}
		if (r->stage >= 0)
			r->step_res[r->stage] = res;
		r->stage++;
		run_next(u);
		return;
	}
	ui_status(u, "%s: %s (%s) in %.1fs%s", p->item_id, act_status_name(res.status), how, res.duration_s,
	          res.ticked ? "; ticked" : "");
	ui_mark(u, UI_DIRTY_ALL);
}

static void run_next(ui_ctx *u);

static void freeze_released(frz_release_op *op, int rc, const char *err, void *ud)
{
	ui_ctx *u = ud;
	ui_runner *r = &u->runner;
	char line[UI_LINE_MAX];
	if (rc < 0)
		snprintf(line, sizeof line, "the write freeze was NOT released: %.900s (pgcutover freeze release)", err);
	else
		snprintf(line, sizeof line, "write freeze released on the source");
	ui_out_line(r, line);
	frz_release_free(op);
	r->frz = NULL;
	r->frz_done = true;
	ui_follow_state(u);   /* freeze_released */
	run_next(u);
}

/* Rollback: restore (stage -1), then steps 0..n-1, the write freeze's
 * release when one was applied, then the record. */
static void run_next(ui_ctx *u)
{
	ui_runner *r = &u->runner;
	act_rollback *rb = r->rbk;
	while (r->stage < (int)rb->n_steps) {
		const act_plan *p = act_rollback_stage(rb, r->stage);
		if (!p) {
			r->stage++;
			continue;
		}
		if (!start_plan(u, p)) {
			ui_out_line(r, "rollback stopped: NOT marked rolled back");
			rollback_failed(u, &(act_result){.status = ACT_RUNNING});
			return;
		}
		return;
	}
	pgc_err e = {0};
	int64_t id = 0;
	char line[UI_LINE_MAX];
	if (rb->release_freeze && !r->frz_done) {
		/* the write freeze of freeze apply is undone with the phase, as
		 * `pgcutover rollback` does: on the loop, then the record */
		if (r->frz)
			return;   /* under way */
		char **roles = frz_applied_roles(u->s.st);
		if (roles) {
			r->frz = frz_release_start(u->s.cfg, u->s.st, roles, u->lp, freeze_released, u, &e);
			sch_strv_free(roles);
			if (r->frz) {
				ui_out_line(r, "── releasing the write freeze on the source ──");
				ui_mark(u, UI_DIRTY_ALL);
				return;
			}
			snprintf(line, sizeof line, "the write freeze was NOT released: %.900s (pgcutover freeze release)",
			         e.msg);
			ui_out_line(r, line);
			e.msg[0] = '\0';
		}
		r->frz_done = true;
	}
	if (act_rollback_record(u->s.st, rb, r->step_res, &id, &e) < 0) {
		snprintf(line, sizeof line, "rollback ran but was NOT recorded: %.900s", e.msg);
		ui_status(u, "%.200s", line);
	} else {
		size_t nf = rb->restore ? rb->restore->n_segs : 0;
		snprintf(line, sizeof line, "phase %s rolled back (%zu flag%s restored, %zu step%s run)", rb->phase_id,
		         nf, nf == 1 ? "" : "s", rb->n_steps, rb->n_steps == 1 ? "" : "s");
		ui_status(u, "%s", line);
	}
	ui_out_line(r, line);
	ui_follow_state(u);
	ui_mark(u, UI_DIRTY_ALL);
}

/* ---- asking ---- */

/* The next plan that still misses a variable, or NULL. */
static act_plan *plan_missing(ui_runner *r)
{
	if (r->plan && r->plan->n_missing_vars)
		return r->plan;
	if (r->rbk)
		for (size_t i = 0; i < r->rbk->n_steps; i++)
			if (r->rbk->steps[i]->n_missing_vars)
				return r->rbk->steps[i];
	return NULL;
}

static void var_answer(ui_ctx *u, const char *text, void *ctx);
static void typed_answer(ui_ctx *u, const char *text, void *ctx);
static void override_answer(ui_ctx *u, const char *text, void *ctx);
static void ponr_answer(ui_ctx *u, const char *text, void *ctx);
static void run_declined(ui_ctx *u, const char *text, void *ctx);

/* Asks what is still to be asked; when nothing is, the confirmation. */
static void ask_next(ui_ctx *u)
{
	ui_runner *r = &u->runner;
	act_plan *mp = plan_missing(r);
	char title[sizeof u->prompt.title];
	if (r->plan && r->gated && !r->override) {
		/* as `pgcutover run --override REASON`: the reason is recorded
		 * with the board's values when the run starts */
		snprintf(title, sizeof title, "%.16s is the switch and the board is not go: why run it anyway?",
		         r->plan->item_id);
		ui_prompt_open(u, &(ui_prompt_spec){
			.title = title,
			.hint = "recorded with the board's values; Esc: nothing is run",
			.required = true, .done = override_answer, .cancel = run_declined});
		return;
	}
	if (mp) {
		const char *name = mp->missing_vars[0];
		bool secret = envfile_name_is_secret(name);
		snprintf(title, sizeof title, "%s uses $%.60s, defined nowhere: its value for this run", mp->item_id,
		         name);
		/* in the hint, not the title: a long title is cut at the box's edge */
		ui_prompt_open(u, &(ui_prompt_spec){
			.title = title,
			.hint = secret ? "secret-looking: typed blind, used once, never recorded; Esc runs nothing"
			               : "used once, recorded with the run; Esc runs nothing",
			.secret = secret, .done = var_answer, .cancel = run_declined});
		return;
	}
	if (r->rbk) {
		if (r->rbk->past_point_of_no_return && !r->ponr_confirmed) {
			/* the same typed style; past this point the word is stronger */
			snprintf(title, sizeof title, "PAST THE POINT OF NO RETURN: type %s to roll back anyway", RUN_TYPED_WORD);
			char *warn = act_rollback_warning(r->rbk);
			char hint[sizeof u->prompt.hint];
			snprintf(hint, sizeof hint, "%s%sEsc: nothing is run", r->rows_gained, r->rows_gained[0] ? "; " : "");
			ui_prompt_open(u, &(ui_prompt_spec){.title = title, .warning = warn,
			                                    .hint = hint, .required = true,
			                                    .done = ponr_answer, .cancel = run_declined});
			free(warn);
			return;
		}
		snprintf(title, sizeof title, "Roll back phase %.16s: type the phase id or yes, then Enter", r->rbk->phase_id);
		ui_prompt_open(u, &(ui_prompt_spec){.title = title,
		                                    .hint = "the output pane shows what will run; Esc: nothing is run",
		                                    .required = true, .done = typed_answer, .cancel = run_declined});
		return;
	}
	/* every run: the item id or yes, typed (phase 5 and rollback steps
	 * say so in the title) */
	snprintf(title, sizeof title, "%s %.16s%s type the item id or yes, then Enter",
	         !r->plan->needs_typed_confirm ? "Run" : r->plan->rollback ? "Rollback step" : "Cutover step",
	         r->plan->item_id, r->plan->needs_typed_confirm ? ":" : "?");
	ui_prompt_open(u, &(ui_prompt_spec){.title = title, .hint = "Esc: nothing is run", .required = true,
	                                    .done = typed_answer, .cancel = run_declined});
}

/* The switch item runs only on a go board (goboard.h); the decision is
 * recorded as the run starts.  False (said on the status line) when not. */
static bool switch_may_run(ui_ctx *u, const char *item_id, bool record, const char *reason)
{
	if (!u->s.st)
		return true;
	char why[2 * GO_VALUE_MAX];
	pgc_err e = {0};
	int64_t bev = 0;
	char *bpl = NULL;
	int g = record ? go_decide_run(u->s.cfg, u->rb, u->s.st, item_id, reason, why, sizeof why, &e)
	               : go_gate(u->s.cfg, u->rb, u->s.st, item_id, pgc_now(), &bev, &bpl, why, sizeof why);
	free(bpl);
	if (g == 1) {
		ui_status(u, "%s is the switch, gated on the go/no-go board: %.200s (B shows it)", item_id, why);
		return false;
	}
	if (g < 0 && record)
		ui_status(u, "the go decision was not recorded: %.200s", e.msg);
	if (record && g == 0)
		ui_after_write(u);
	return !(g < 0 && record);
}

static void go(ui_ctx *u)
{
	ui_runner *r = &u->runner;
	if (!r->rbk && !switch_may_run(u, r->plan->item_id, true, r->override))
		return;
	if (r->rbk) {
		r->stage = -1;
		run_next(u);
	} else {
		start_plan(u, r->plan);
	}
	ui_mark(u, UI_DIRTY_ALL);
}

/* The answers to ask_next's prompts: each goes on to the next question or
 * to the run; Esc at any of them (run_declined) runs nothing. */
static bool run_pending(ui_ctx *u)
{
	return u->runner.plan || u->runner.rbk;
}

static void var_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	ui_runner *r = &u->runner;
	act_plan *mp = run_pending(u) ? plan_missing(r) : NULL;
	if (!mp)
		return;
	char *name = xstrdup(mp->missing_vars[0]);
	/* the same variable in later rollback steps gets the same answer */
	for (act_plan *q; (q = plan_missing(r)) && q->n_missing_vars &&
	     strcmp(q->missing_vars[0], name) == 0;)
		act_plan_set_var(q, name, text);
	free(name);
	ask_next(u);
}

static void override_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	if (!run_pending(u) || !u->runner.plan)
		return;
	free(u->runner.override);
	u->runner.override = xstrdup(text);
	ask_next(u);
}

static void typed_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	ui_runner *r = &u->runner;
	if (!run_pending(u))
		return;
	const char *want = r->rbk ? r->rbk->phase_id : r->plan->item_id;
	if (ui_confirmed(text, want))
		go(u);
	else
		ui_status(u, "%s not run: the answer was neither %s nor yes", r->rbk ? "phase" : want, want);
}

static void ponr_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	if (!run_pending(u))
		return;
	if (strcmp(text, RUN_TYPED_WORD) == 0) {
		u->runner.ponr_confirmed = true;
		ask_next(u);
	} else {
		ui_status(u, "not rolled back: type %s to go past the point of no return", RUN_TYPED_WORD);
	}
}

static void run_declined(ui_ctx *u, const char *text, void *ctx)
{
	(void)text; (void)ctx;
	if (run_pending(u)) {
		if (!u->runner.run)
			ui_out_line(&u->runner, "── not run ──");
		ui_mark(u, UI_DIRTY_OVERLAY);
	}
	ui_status(u, "not run; nothing changed");
}

static bool can_start(ui_ctx *u)
{
	if (u->runner.run) {
		ui_status(u, "%s is still running: o shows it, Ctrl-C there cancels it", u->runner.title);
		return false;
	}
	if (!u->s.cfg) {
		ui_status(u, "no configuration: nothing can be run from here");
		return false;
	}
	return true;
}

/* x / X on the item under the cursor, or on a step with its own command
 * (a block under its heading): the same core plan, by the step's id. */
void ui_run_item(ui_ctx *u, bool dry)
{
	bool on_step = u->focus == UI_PANE_LIST && u->n_rows_v && u->rows_v[u->cursor].kind == UI_ROW_STEP;
	if (u->focus != UI_PANE_LIST || !u->n_rows_v || (u->rows_v[u->cursor].kind != UI_ROW_ITEM && !on_step)) {
		ui_status(u, "put the cursor on an item or a step with a command (c shows it)");
		return;
	}
	if (!can_start(u))
		return;
	const rb_phase *ph = ui_cur_phase(u);
	const char *id = on_step ? ph->steps[u->rows_v[u->cursor].idx].id : ph->items[u->rows_v[u->cursor].idx].id;
	act_plan *p = NULL;
	pgc_err e = {0};
	if (act_plan_item(u->s.cfg, u->rb, id, &p, &e) < 0) {
		ui_status(u, "%.240s", e.msg);
		return;
	}
	/* the switch while the board is not go: shown, then a reason asked for
	 * (ask_next), as `pgcutover run --override` takes one */
	bool gated = !dry && !switch_may_run(u, p->item_id, false, NULL);
	runner_clear(u);
	ui_runner *r = &u->runner;
	r->plan = p;
	r->gated = gated;
	snprintf(r->title, sizeof r->title, "%s %s", dry ? "dry run of" : on_step ? "step" : "item", p->item_id);
	char *d = act_plan_describe(p);
	if (gated) {
		char line[PGC_ERR_MAX];
		snprintf(line, sizeof line, "NO-GO: %s", u->status_msg);
		ui_out_text(r, line);
	}
	ui_out_text(r, dry ? "dry run, nothing is changed:" : "pgcutover will run:");
	ui_out_text(r, d);
	free(d);
	ui_output_open(u);
	if (dry) {
		act_plan_free(r->plan);
		r->plan = NULL;
		return;
	}
	ask_next(u);
}

/* R on the selected phase. */
void ui_run_rollback(ui_ctx *u)
{
	if (!can_start(u))
		return;
	const rb_phase *ph = ui_cur_phase(u);
	act_rollback *rb = NULL;
	pgc_err e = {0};
	if (act_rollback_plan(u->s.cfg, u->rb, u->s.st, u->lg, ph->id, &rb, &e) < 0) {
		ui_status(u, "%.240s", e.msg);
		return;
	}
	runner_clear(u);
	ui_runner *r = &u->runner;
	r->rbk = rb;
	r->step_res = xcalloc(rb->n_steps + 1, sizeof *r->step_res);
	snprintf(r->title, sizeof r->title, "rollback of phase %s", rb->phase_id);
	if (rb->past_point_of_no_return) {
		/* short: the prompt's hint line is cut at the box's edge */
		if (rb->rows_gained >= 0)
			snprintf(r->rows_gained, sizeof r->rows_gained,
			         "target gained %s%lld rows since, not on the source",
			         rb->rows_gained_exact ? "" : "~", (long long)rb->rows_gained);
		else
			snprintf(r->rows_gained, sizeof r->rows_gained, "rows the target gained since: unknown");
	}
	char *d = act_rollback_describe(rb);
	ui_out_text(r, "pgcutover will roll back:");
	ui_out_text(r, d);
	free(d);
	if (rb->past_point_of_no_return) {
		ui_out_text(r, "!! PAST THE POINT OF NO RETURN !!");
	}
	ui_output_open(u);
	ask_next(u);
}

/* Ctrl-C: cancel the running command.  Returns true when there was one. */
bool ui_run_cancel(ui_ctx *u)
{
	if (!u->runner.run || act_finished(u->runner.run))
		return false;
	act_cancel(u->runner.run);
	ui_out_line(&u->runner, "── cancelling: SIGTERM to the command's process group ──");
	ui_status(u, "cancelling %s", u->runner.title);
	ui_mark(u, UI_DIRTY_OVERLAY);
	return true;
}
