/*
 * cmd_schedule.c -- `pgcutover downtime [start|end] [--json]` and
 * `pgcutover due [ITEM --done] [--json]`: the downtime clock and the
 * recurring duties of schedule.h, headless.  `downtime` alone prints the
 * clock (planned, started, elapsed, late steps); start/end record the
 * downtime_start / downtime_end events the console's D records (ops.c).  `due`
 * lists the duties with when each is next due and exits 1 when one is
 * overdue; `due ITEM --done` records a duty_done event, as the console's u
 * (both through ops.c).
 * Writers hold the driver's lease like tick (cli_load).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/ops.h"
#include "pgcutover/cli.h"
#include "pgcutover/schedule.h"
#include "pgcutover/status_json.h"

#define SCHED_TIME_MAX 40
#define EXIT_OVERDUE 1

static void print_json(cJSON *o)
{
	char *s = cJSON_Print(o);
	puts(s);
	cJSON_free(s);
	cJSON_Delete(o);
}

static void fmt_dur(double s, char *buf, size_t n)
{
	long v = (long)s;
	snprintf(buf, n, "%ldh%02ldm%02lds", v / 3600, (v / 60) % 60, v % 60);
}

static int downtime_print(const cli_ctx *ctx, bool json)
{
	double now = pgc_now();
	if (json) {
		print_json(status_downtime_json(ctx->rb, ctx->lg, now));
		return 0;
	}
	sched_downtime d;
	sched_downtime_get(ctx->rb, ctx->lg, now, &d);
	if (d.has_window) {
		const rb_step *st = &ctx->rb->phases[d.phase].steps[d.step];
		char *title = pgc_sanitize(st->title ? st->title : "");
		printf("window   %s, %s-%s, phase %s, planned %d min\n", title,
		       st->window_from, st->window_to, ctx->rb->phases[d.phase].id, d.plan_min);
		free(title);
	} else {
		printf("window   none in the runbook\n");
	}
	if (d.start <= 0) {
		printf("downtime not started\n");
		return 0;
	}
	char when[SCHED_TIME_MAX], el[32];
	pgc_iso8601(d.start, when, sizeof when);
	fmt_dur(d.elapsed_s, el, sizeof el);
	printf("started  %s (%s)\n", when, d.explicit_start ? "downtime start" : "first tick in the window");
	if (d.end > 0) {
		pgc_iso8601(d.end, when, sizeof when);
		printf("ended    %s\n", when);
	}
	printf("elapsed  %s%s%s\n", el, d.running ? " (running)" : "", d.over ? "  OVER PLAN" : "");
	cJSON *dj = status_downtime_json(ctx->rb, ctx->lg, now);
	const cJSON *late = cJSON_GetObjectItemCaseSensitive(dj, "late_steps"), *l;
	cJSON_ArrayForEach(l, late) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(l, "step"), *ls = cJSON_GetObjectItemCaseSensitive(l, "late_s");
		char *safe = pgc_sanitize(cJSON_GetStringValue(s));
		char span[SCHED_SPAN_MAX];
		sched_fmt_span(ls->valuedouble, span, sizeof span);
		printf("late     %s by %s on the %s\n", safe, span, SCHED_CLOCK_DOWNTIME);
		free(safe);
	}
	cJSON_Delete(dj);
	return 0;
}

static int downtime_record(cli_ctx *ctx, bool start, bool json)
{
	ops_ctx oc = {.st = ctx->st, .lg = ctx->lg, .cfg = ctx->cfg};
	ops_outcome out;
	if (ops_downtime(&oc, start, pgc_now(), &out) < 0)
		return cli_report(&out.err);
	if (out.result != OPS_DONE) {
		fprintf(stderr, "pgcutover downtime: %s\n", out.message);
		return PGC_EXIT_TEMPFAIL;
	}
	if (json)
		return downtime_print(ctx, true);
	printf("%s\n", out.message);
	return 0;
}

int cmd_downtime(const cli_args *a, cli_opts *o)
{
	const char *verb = a->argc > 0 ? a->argv[0] : NULL;
	if (verb && strcmp(verb, "start") != 0 && strcmp(verb, "end") != 0 && strcmp(verb, "status") != 0)
		return cli_usage_error("downtime", "unknown argument '%s' (start, end or status)", verb);
	bool write = verb && strcmp(verb, "status") != 0;
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, !write));
	if (rc)
		return rc;
	rc = write ? downtime_record(&ctx, strcmp(verb, "start") == 0, o->json) : downtime_print(&ctx, o->json);
	cli_unload(&ctx);
	return rc;
}

static int due_done(cli_ctx *ctx, const char *id, const char *note, bool json)
{
	size_t p, i;
	if (ledger_find_item(ctx->lg, id, &p, &i) < 0) {
		fprintf(stderr, "pgcutover due: no item %s in %s\n", id, ctx->rb->path);
		return PGC_EXIT_DATAERR;
	}
	ops_ctx oc = {.st = ctx->st, .lg = ctx->lg, .cfg = ctx->cfg};
	ops_outcome out;
	if (ops_duty_done(&oc, p, i, note, &out) < 0)
		return cli_report(&out.err);
	if (out.result == OPS_REFUSED) {
		fprintf(stderr, "pgcutover due: %s\n", out.message);
		return PGC_EXIT_DATAERR;
	}
	if (!json)
		printf("%s\n", out.message);
	return -1;   /* print the list */
}

int cmd_due(const cli_args *a, cli_opts *o)
{
	const char *id = a->argc > 0 ? a->argv[0] : NULL, *note = cli_opt(a, OPT_NOTE);
	bool done = cli_flag(a, OPT_DONE);
	if (id && !done)
		return cli_usage_error("due", "ITEM needs --done (pgcutover due %s --done)", id);
	if (done && !id)
		return cli_usage_error("due", "--done needs the duty's item id");
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, !done));
	if (rc)
		return rc;
	if (done && (rc = due_done(&ctx, id, note, o->json)) >= 0) {
		cli_unload(&ctx);
		return rc;
	}
	double now = pgc_now();
	sched_duty *v;
	size_t n = sched_duties(ctx.rb, ctx.lg, now, &v);
	bool overdue = false;
	for (size_t k = 0; k < n; k++)
		overdue |= v[k].overdue;
	if (o->json) {
		print_json(status_duties_json(ctx.rb, ctx.lg, now));
	} else if (n == 0) {
		printf("no recurring duties in %s\n", ctx.rb->path);
	} else {
		for (size_t k = 0; k < n; k++) {
			const sched_duty *d = &v[k];
			const rb_item *it = &ctx.rb->phases[d->phase].items[d->item];
			char when[SCHED_TIME_MAX] = "-";
			if (d->next_due > 0)
				pgc_iso8601(d->next_due, when, sizeof when);
			char *text = pgc_sanitize(it->text ? it->text : "");
			char span[SCHED_SPAN_MAX], rel[SCHED_SPAN_MAX + 32] = "";
			if (d->active && d->next_due > 0) {
				sched_fmt_span(d->overdue ? now - d->next_due : d->next_due - now, span, sizeof span);
				snprintf(rel, sizeof rel, " (%s %s)", d->overdue ? "late" : "in", span);
			}
			printf("%-8s every %-10s %-8s %s%s  %s\n", it->id, it->recurring,
			       !d->active ? "inactive" : d->overdue ? "OVERDUE" : "due", d->active ? when : "-", rel, text);
			free(text);
		}
	}
	free(v);
	cli_unload(&ctx);
	return overdue ? EXIT_OVERDUE : 0;
}
