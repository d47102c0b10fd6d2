/*
 * cmd_rehearsal.c -- `pgcutover rehearsal mark [--note TEXT]` marks this
 * state a rehearsal (an audited EV_REHEARSAL event, once), and
 * `pgcutover rehearsal plan --plan-from STATE [--json]` shows what a
 * rehearsal's state says about the live run: per item how long it took in
 * rehearsal and when it was done on the rehearsal's timeline, per phase
 * its duration, and -- when this run has ticks -- whether it is ahead of or
 * behind the rehearsal and its projected end.  Core: rehearsal.c.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/action.h"
#include "pgcutover/cli.h"
#include "pgcutover/rehearsal.h"

#define RH_TIME_MAX 40

static int mark(const cli_args *a, cli_opts *o, const char *note)
{
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	pgc_err e = {0};
	int64_t id = 0;
	int have = rehearsal_mark(ctx.st, ctx.cfg, note, &id, &e);
	if (have < 0)
		rc = cli_report(&e);
	else if (have == 1)
		printf("%s is already a rehearsal (event %lld)\n", ctx.state_path, (long long)id);
	else
		printf("%s marked a rehearsal\n", ctx.state_path);
	cli_unload(&ctx);
	return rc;
}

static cJSON *secs_json(double s)
{
	return s < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)(long)(s + 0.5));
}

static int rehearsal_plan(const cli_args *a, cli_opts *o, const char *from)
{
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, true));
	if (rc != 0)
		return rc;
	pgc_err e = {0};
	rh_plan *p = NULL;
	if (rehearsal_plan_from(ctx.rb, from, &p, &e) < 0) {
		rc = cli_report(&e);
		cli_unload(&ctx);
		return rc;
	}
	if (!p->marked && !o->quiet)
		fprintf(stderr, "pgcutover: note: %s is not marked a rehearsal (`pgcutover rehearsal mark`)\n", from);
	double delta = 0, end = 0;
	bool live = ctx.lg && rehearsal_compare(p, ctx.lg, &delta, &end) == 0;
	const runbook *rb = ctx.rb;
	if (o->json) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "rehearsal", from);
		cJSON_AddBoolToObject(root, "marked", p->marked);
		cJSON_AddItemToObject(root, "total_s", secs_json(p->total_s));
		cJSON *phases = cJSON_AddArrayToObject(root, "phases");
		cJSON *items = cJSON_AddArrayToObject(root, "items");
		for (size_t ph = 0; ph < rb->n_phases; ph++) {
			cJSON *po = cJSON_CreateObject();
			cJSON_AddStringToObject(po, "id", rb->phases[ph].id);
			cJSON_AddItemToObject(po, "rehearsal_s", secs_json(p->phase_s[ph]));
			cJSON_AddItemToArray(phases, po);
			for (size_t i = 0; i < rb->phases[ph].n_items; i++) {
				size_t k = ctx.lg->phase_offset[ph] + i;
				cJSON *io = cJSON_CreateObject();
				cJSON_AddStringToObject(io, "id", rb->phases[ph].items[i].id);
				cJSON_AddItemToObject(io, "rehearsal_s", secs_json(p->item_s[k]));
				cJSON_AddItemToObject(io, "offset_s", secs_json(p->item_offset_s[k]));
				cJSON_AddItemToArray(items, io);
			}
		}
		if (live) {
			cJSON *lo = cJSON_AddObjectToObject(root, "live");
			cJSON_AddNumberToObject(lo, "delta_s", (double)(long)delta);
			cJSON_AddStringToObject(lo, "pace", delta > 0 ? "behind" : delta < 0 ? "ahead" : "on_time");
			char buf[RH_TIME_MAX];
			pgc_iso8601(end, buf, sizeof buf);
			cJSON_AddStringToObject(lo, "projected_end", buf);
		} else {
			cJSON_AddNullToObject(root, "live");
		}
		char *s = cJSON_Print(root);
		puts(s);
		cJSON_free(s);
		cJSON_Delete(root);
	} else {
		printf("rehearsal %s: %ld s from first to last tick\n", from, (long)p->total_s);
		for (size_t ph = 0; ph < rb->n_phases; ph++)
			for (size_t i = 0; i < rb->phases[ph].n_items; i++) {
				size_t k = ctx.lg->phase_offset[ph] + i;
				if (p->item_s[k] < 0)
					continue;
				char *t = pgc_sanitize(rb->phases[ph].items[i].text);
				printf("  %-8s %6ld s  at +%ld s  %s\n", rb->phases[ph].items[i].id, (long)p->item_s[k],
				       (long)p->item_offset_s[k], t);
				free(t);
			}
		if (live) {
			char buf[RH_TIME_MAX];
			pgc_iso8601(end, buf, sizeof buf);
			printf("live: %ld s %s the rehearsal; projected end %s\n", labs((long)delta),
			       delta > 0 ? "behind" : "ahead of", buf);
		}
	}
	rehearsal_plan_free(p);
	cli_unload(&ctx);
	return PGC_EXIT_OK;
}

int cmd_rehearsal(const cli_args *a, cli_opts *o)
{
	const char *sub = a->argc > 0 ? a->argv[0] : NULL;
	const char *note = cli_opt(a, OPT_NOTE), *from = cli_opt(a, OPT_PLAN_FROM);
	bool plan = sub && strcmp(sub, "plan") == 0;
	if (a->argc > 1 && (!plan || from))
		return cli_usage_error("rehearsal", "unknown argument '%s'", a->argv[1]);
	if (plan && a->argc > 1)
		from = a->argv[1];   /* rehearsal plan STATE */
	if (sub && strcmp(sub, "mark") == 0)
		return mark(a, o, note);
	if (plan && from)
		return rehearsal_plan(a, o, from);
	return cli_usage_error("rehearsal", "mark, or plan --plan-from STATE");
}
