/*
 * cmd_console.c -- `pgcutover console` (also what `pgcutover` alone runs):
 * loads the config, runbook, state and ledger through cli_load(), exactly as
 * the headless commands do, takes the driver's lease (one driver at a
 * time; the console heartbeats it) and hands them to the ncurses console in
 * src/ui/.  Options: --ascii forces ASCII drawing; --no-color (global) and
 * NO_COLOR turn colour off; --plan-from STATE loads a rehearsal's timings
 * (rehearsal.c) for the header and the checklist.  `pgcutover monitor` is
 * the same console in MONITOR mode: the state opened read-only, no lease,
 * every write key disabled; it follows the driver's events and says when
 * the driver falls silent.
 *
 * The console's backend -- live counts, webhook notifications, schema
 * parity -- are services of src/core (svc.h) on the console's loop; this
 * file creates them, hands their hooks to the UI and maps the counts model
 * onto the side pane's rows.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/cli.h"
#include "pgcutover/compare.h"
#include "pgcutover/lease.h"
#include "pgcutover/loop.h"
#include "pgcutover/rehearsal.h"
#include "pgcutover/svc.h"
#include "pgcutover/freeze.h"
#include "pgcutover/ui.h"

/* ---- the console's backend: services on its loop (svc.h) ---- */

typedef struct console_hooks {
	svc_counts *counts;     /* NULL: no live counts here */
	svc_parity *parity;     /* NULL: no parity check here */
	svc_verify *verify;     /* NULL: no verify here */
	svc_notify *notify;     /* NULL: no webhook, or a monitor */
	frz_session *freeze;    /* W: the write-freeze watch, while one runs */
	bool freeze_recorded;   /* this watch's proof is recorded */
	const config *cfg;
	state *st;              /* the driver's state: the proof is recorded; NULL a monitor */
	loop *lp;
} console_hooks;

/* The watch's news: the driver records the freeze once proven. */
static void hooks_freeze_sample(frz_session *fs, void *ud)
{
	console_hooks *h = ud;
	const frz_watch *w = frz_session_watch(fs);
	if (h->freeze_recorded || !h->st || w->verdict != FRZ_PROVEN)
		return;
	pgc_err e = {0};
	h->freeze_recorded = true;
	frz_record(h->st, w, "console", "proven", pgc_now(), NULL, &e);
}

static int hooks_freeze_start(void *ud, char *msg, size_t n)
{
	console_hooks *h = ud;
	frz_session_free(h->freeze);
	h->freeze_recorded = false;
	h->freeze = frz_session_new(h->cfg, h->cfg->freeze_quiet_s, h->lp, hooks_freeze_sample, h);
	pgc_err e = {0};
	if (frz_session_start(h->freeze, &e) != 0) {
		snprintf(msg, n, "freeze watch: %.200s", e.msg);
		frz_session_free(h->freeze);
		h->freeze = NULL;
		return -1;
	}
	return 0;
}

static const frz_watch *hooks_freeze_watch(void *ud, const char **error)
{
	console_hooks *h = ud;
	*error = h->freeze ? frz_session_error(h->freeze) : "";
	return h->freeze ? frz_session_watch(h->freeze) : NULL;
}

static void hooks_on_loop(loop *lp, void *ud)
{
	console_hooks *h = ud;
	h->lp = lp;
	if (h->counts)
		svc_counts_start(h->counts, lp);
	svc_notify_start(h->notify, lp);
}

static void hooks_on_loop_end(loop *lp, void *ud)
{
	(void)lp;
	console_hooks *h = ud;
	svc_parity_stop(h->parity);   /* abandons a check in flight */
	frz_session_free(h->freeze);
	h->freeze = NULL;
	svc_verify_stop(h->verify);
	svc_notify_finish(h->notify);
	h->notify = NULL;
	svc_counts_stop(h->counts);
}

/* The counts service's model, as the side pane's rows. */
static int hooks_side_fill(void *ud, ui_side_data *d)
{
	console_hooks *h = ud;
	const cmp_session *cs = svc_counts_session(h->counts);
	const char *error = svc_counts_error(h->counts);
	memset(d, 0, sizeof *d);
	if (!cs) {
		if (!error[0])
			return 0;
		d->status = UI_SIDE_ERROR;
		d->message = xstrdup(error);
		return 1;
	}
	size_t n = cmp_n_tables(cs);
	d->rows = xcalloc(n ? n : 1, sizeof *d->rows);
	d->n_rows = n;
	double newest = 0, now = pgc_now();
	for (size_t i = 0; i < n; i++) {
		const cmp_table *t = cmp_table_at(cs, i);
		ui_side_row *r = &d->rows[i];
		r->table = xstrdup(t->name);
		r->source = t->side[CMP_SOURCE].rows;
		r->target = t->side[CMP_TARGET].rows;
		snprintf(r->state, sizeof r->state, "%s", cmp_state_key(t->state));
		r->exact = t->side[CMP_SOURCE].exact && t->side[CMP_TARGET].exact;
		/* An exact count kept while its table is unwritten is an exact
		 * figure to look at (not fresh enough for a gate: the core
		 * records it as an estimate). */
		const cmp_figure *fs = &t->side[CMP_SOURCE], *fg = &t->side[CMP_TARGET];
		if ((fs->exact || fs->unchanged_since > 0) && (fg->exact || fg->unchanged_since > 0) &&
		    (fs->unchanged_since > 0 || fg->unchanged_since > 0)) {
			r->exact = true;
			r->unchanged_since = fs->unchanged_since > 0 && (fg->unchanged_since <= 0 ||
			                     fs->unchanged_since < fg->unchanged_since)
			                     ? fs->unchanged_since : fg->unchanged_since;
		}
		r->rate = t->rate;
		r->eta_s = t->eta_s;
		r->age_s = -1;
		for (int w = 0; w < CMP_N_SIDES; w++) {
			double at = t->side[w].measured_at;
			if (at > newest)
				newest = at;
			if (at > 0 && now - at > r->age_s)
				r->age_s = now - at;
		}
		cmp_point pts[UI_SPARK_POINTS];
		size_t np = cmp_table_history(t, CMP_TARGET, pts, UI_SPARK_POINTS);
		for (size_t k = 0; k < np; k++)
			r->spark[k] = pts[k].rows;
		r->n_spark = (int)np;
	}
	d->ts = newest;
	d->refreshing = !cmp_snapshot_complete(cs);
	d->refreshing_exact = d->refreshing && cmp_refresh_exact(cs);
	d->interval_s = svc_counts_interval(h->counts);
	d->budget_pct = svc_counts_budget(h->counts);
	char buf[256];
	if (cmp_any_unreachable(cs)) {
		d->status = UI_SIDE_ERROR;
		const cmp_side *src = cmp_side_at(cs, CMP_SOURCE), *dst = cmp_side_at(cs, CMP_TARGET);
		const cmp_side *down = (src && !src->up && src->error) ? src
		                     : (dst && !dst->up && dst->error) ? dst : NULL;
		if (!down) {
			d->message = xstrdup("a side is unreachable");
		} else {
			/* the pane is ~30 columns: "target unreachable" first, then
			 * libpq's reason; the endpoint "(host=... dbname=...)" the
			 * error starts with is in the header already and filled the
			 * line, so the operator saw only "target (host=/tmp/pg…" */
			const char *why = down->error;
			size_t ll = strlen(down->label);
			const char *rest = strncmp(why, down->label, ll) == 0 && why[ll] == ' ' && why[ll + 1] == '('
			                   ? strstr(why, "): ") : NULL;
			char *msg = rest ? xasprintf("%s unreachable: %s", down->label, rest + 3) : NULL;
			d->message = pgc_sanitize(msg ? msg : why);   /* REST: "supabase: t: no answer" */
			free(msg);
		}
	} else {
		d->status = UI_SIDE_LIVE;
		d->all_match = !error[0] && cmp_all_match(cs);
		d->message = xstrdup(error[0] ? error : cmp_summary(cs, buf, sizeof buf));
		d->message_error = error[0] != '\0';
	}
	return 1;
}

static int hooks_counts_cmd(void *ud, ui_counts_cmd cmd, char *msg, size_t n)
{
	static const svc_counts_op ops[] = {
		[UI_COUNTS_REFRESH] = SVC_COUNTS_REFRESH, [UI_COUNTS_EXACT] = SVC_COUNTS_EXACT,
		[UI_COUNTS_FASTER] = SVC_COUNTS_FASTER, [UI_COUNTS_SLOWER] = SVC_COUNTS_SLOWER,
		[UI_COUNTS_BUDGET_UP] = SVC_COUNTS_BUDGET_UP, [UI_COUNTS_BUDGET_DOWN] = SVC_COUNTS_BUDGET_DOWN,
	};
	return svc_counts_do(((console_hooks *)ud)->counts, ops[cmd], msg, n);
}

static int hooks_parity_start(void *ud, char *msg, size_t n)
{
	console_hooks *h = ud;
	return svc_parity_start(h->parity, h->lp, msg, n);
}

static int hooks_verify_start(void *ud, char *msg, size_t n)
{
	console_hooks *h = ud;
	return svc_verify_start(h->verify, h->lp, msg, n);
}

static bool hooks_verify_cancel(void *ud)
{
	return svc_verify_cancel(((console_hooks *)ud)->verify);
}

static const vfy_session *hooks_verify_session(void *ud, unsigned *gen)
{
	return svc_verify_session(((console_hooks *)ud)->verify, gen);
}

static const svc_parity_result *hooks_parity_result(void *ud)
{
	return svc_parity_get(((console_hooks *)ud)->parity);
}

static const char *hooks_notice(void *ud, unsigned *gen)
{
	return svc_notify_notice(((console_hooks *)ud)->notify, gen);
}

static int console_open(const cli_args *a, cli_opts *o, ui_mode mode)
{
	bool ascii = cli_flag(a, OPT_ASCII), live = cli_flag(a, OPT_LIVE);
	const char *plan_from = cli_opt(a, OPT_PLAN_FROM);
	/* before the lease and session events: a run without a terminal must
	 * leave no trace in the state */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "pgcutover: the console needs a terminal; "
		                "use status, log, tick, untick and note without one\n");
		return PGC_EXIT_USAGE;
	}
	pgc_err te = {0};
	if (ui_terminal_check(&te) < 0) {
		fprintf(stderr, "pgcutover: %s\n", te.msg);
		return te.code;
	}
	cli_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	if (!ctx.st) {
		fprintf(stderr, "pgcutover: monitor: no state file at %s yet: nothing to follow\n",
		        ctx.state_path ? ctx.state_path : "(default path)");
		cli_unload(&ctx);
		return PGC_EXIT_NOINPUT;
	}
	/* a rehearsal's timings as the plan: before the terminal is taken */
	rh_plan *plan = NULL;
	pgc_err pe = {0};
	if (plan_from && rehearsal_plan_from(ctx.rb, plan_from, &plan, &pe) < 0) {
		rc = cli_report(&pe);
		cli_unload(&ctx);
		return rc;
	}
	/* the screen hides what cli_load said on stderr: a command whose end is
	 * unknown comes first in the status line */
	char *startup = ctx.unknown_report && ctx.runbook_change_report
	                        ? xasprintf("%s; %s", ctx.unknown_report, ctx.runbook_change_report)
	                        : xstrdup(ctx.unknown_report ? ctx.unknown_report
	                                                     : ctx.runbook_change_report ? ctx.runbook_change_report : "");
	ui_setup s = {
		.cfg = ctx.cfg,
		.rb = ctx.rb,
		.st = ctx.st,
		.lg = ctx.lg,
		.mode = mode,
		.operator_name = o->operator_name,
		.host = pgc_host_name(),
		.no_color = o->no_color,
		.ascii = ascii,
		.startup_message = startup[0] ? startup : NULL,
		.lease = ctx.lease,
		.plan = plan,
	};
	console_hooks h = {0};
	s.notice = hooks_notice;
	/* the driver counts and records; a monitor only with --live and its
	 * own (read-only) credentials, and then records nothing */
	bool counts_here = mode == UI_MODE_DRIVER || live;
	bool live_counts = counts_here && ctx.cfg && ctx.cfg->n_tables > 0 &&
	                   ctx.cfg->source.kind != CFG_EP_NONE && ctx.cfg->target.kind != CFG_EP_NONE;
	/* schema parity needs PostgreSQL catalogs on both sides */
	bool parity = counts_here && ctx.cfg && ctx.cfg->source.kind == CFG_EP_POSTGRES &&
	              ctx.cfg->target.kind == CFG_EP_POSTGRES;
	/* verify runs SQL on the target; the source may be PostgreSQL or a
	 * Supabase/PostgREST API (read in pages) */
	bool verify = counts_here && ctx.cfg && ctx.cfg->target.kind == CFG_EP_POSTGRES &&
	              (ctx.cfg->source.kind == CFG_EP_POSTGRES || ctx.cfg->source.kind == CFG_EP_SUPABASE);
	if (live_counts)
		h.counts = svc_counts_new(ctx.cfg, ctx.st, mode == UI_MODE_DRIVER, ctx.lease);
	if (parity)
		h.parity = svc_parity_new(ctx.cfg);
	/* a monitor verifies with its own credentials and records nothing */
	if (verify)
		h.verify = svc_verify_new(ctx.cfg, mode == UI_MODE_DRIVER ? ctx.st : NULL);
	if (mode == UI_MODE_DRIVER)
		h.notify = svc_notify_new(ctx.cfg, ctx.rb, ctx.st, ctx.lease);
	s.hook_ud = &h;
	s.on_loop = hooks_on_loop;
	s.on_loop_end = hooks_on_loop_end;
	if (h.counts) {
		s.side_fill = hooks_side_fill;
		s.counts_cmd = hooks_counts_cmd;
	}
	if (h.parity) {
		s.parity_start = hooks_parity_start;
		s.parity_result = hooks_parity_result;
	}
	if (h.verify) {
		s.verify_start = hooks_verify_start;
		s.verify_cancel = hooks_verify_cancel;
		s.verify_session = hooks_verify_session;
	}
	if (counts_here && ctx.cfg && ctx.cfg->source.kind != CFG_EP_NONE) {
		h.cfg = ctx.cfg;
		h.st = mode == UI_MODE_DRIVER ? ctx.st : NULL;
		s.freeze_start = hooks_freeze_start;
		s.freeze_watch = hooks_freeze_watch;
	}
	pgc_err e = {0};
	rc = ui_console_run(&s, &e);
	if (rc < 0)
		rc = cli_report(&e);
	else if (ctx.runbook_change_report && !o->quiet)
		fprintf(stderr, "%s\n", ctx.runbook_change_report);
	svc_counts_free(h.counts);
	svc_parity_free(h.parity);
	svc_verify_free(h.verify);
	rehearsal_plan_free(plan);
	free(startup);
	cli_unload(&ctx);
	return rc;
}

int cmd_console(const cli_args *a, cli_opts *o)
{
	return console_open(a, o, UI_MODE_DRIVER);
}

int cmd_monitor(const cli_args *a, cli_opts *o)
{
	return console_open(a, o, UI_MODE_MONITOR);
}
