/*
 * cmd_replay.c -- `pgcutover replay [STATE|LOG.jsonl] [--at TIME|--event N]
 * [--json] [--timeline [-i SECONDS]]`: the state of a migration as it was
 * at a point of its log, headless.  --json prints the `status --json`
 * object as of that point plus a "replay" member (source, event_id, at,
 * events_total, counts); --timeline lists the events with their offsets on
 * a timeline whose idle gaps are cut to SECONDS.  The runbook is -r or the
 * config's, else the one the log recorded (runbook_loaded).  A long state
 * file gets checkpoint snapshots on first replay when it is writable, so
 * later seeks are fast.  Without --at/--event/--json/--timeline on a
 * terminal it opens the console in REPLAY mode (ui_timeline.c) with the
 * cursor before the first event.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/evpay.h"
#include "pgcutover/replay.h"
#include "pgcutover/status_json.h"
#include "pgcutover/ui.h"

#define REPLAY_TIME_MAX 40
#define SECONDS_PER_MINUTE 60
#define SECONDS_PER_HOUR 3600

typedef struct replay_args {
	const char *source;
	const char *at;
	long long event;      /* -1 = not given */
	bool timeline;
	bool ascii;           /* --ascii: the interactive replay draws in ASCII */
	double idle;          /* -i: longest gap kept on the timeline; 0 = all */
} replay_args;

/* Source: the argument, else -s, else the config's state, else the
 * default for the runbook. */
static char *resolve_source(const replay_args *a, const cli_ctx *ctx, pgc_err *e)
{
	if (a->source)
		return xstrdup(a->source);
	if (ctx->opts->state_path)
		return xstrdup(ctx->opts->state_path);
	if (ctx->cfg && ctx->cfg->state)
		return xstrdup(ctx->cfg->state);
	const char *rb = ctx->opts->runbook_path ? ctx->opts->runbook_path : ctx->cfg ? ctx->cfg->runbook : NULL;
	if (!rb) {
		pgc_fail(e, PGC_EXIT_USAGE, "what should be replayed? give STATE or LOG.jsonl, -s STATE, "
		         "or a config / -r RUNBOOK");
		return NULL;
	}
	return config_default_state_path(rb, e);
}

/* -r, else the config's runbook, else the one the log recorded. */
static int load_runbook(replay_src *src, const cli_ctx *ctx, int64_t upto, runbook **rb, pgc_err *e)
{
	const char *path = ctx->opts->runbook_path ? ctx->opts->runbook_path : ctx->cfg ? ctx->cfg->runbook : NULL;
	char *recorded = NULL, sha[65] = "";
	if (replay_recorded_runbook(src, upto, &recorded, sha, e) < 0)
		return -1;
	if (!path)
		path = recorded;
	if (!path) {
		free(recorded);
		return pgc_fail(e, PGC_EXIT_USAGE, "the log records no runbook: give -r RUNBOOK");
	}
	rb_options opt = {0};
	if (ctx->cfg) {
		opt.flags = (const char *const *)ctx->cfg->flags;
		opt.n_flags = ctx->cfg->n_flags;
	}
	int rc = runbook_load(path, &opt, rb, e);
	if (rc == 0 && sha[0] && strcmp(sha, (*rb)->sha256) != 0 && !ctx->opts->quiet)
		fprintf(stderr, "pgcutover: note: %s changed since the log recorded it (sha256 %.12s, now "
		        "%.12s); items are matched by their text\n", path, sha, (*rb)->sha256);
	free(recorded);
	return rc;
}

/* Leaves checkpoint snapshots for a long log so seeks are fast: in a JSONL
 * export's cache state, or for a state (never written by a replay) in the
 * cache directory beside it. */
static void index_if_useful(const runbook *rb, replay_src *src, bool quiet)
{
	state *ro = replay_state(src);
	const char *path = replay_cache_path(src);
	if (!ro || state_last_id(ro) < REPLAY_SNAPSHOT_EVERY || (path && access(path, W_OK) != 0) ||
	    replay_indexed(ro, rb, REPLAY_SNAPSHOT_EVERY))
		return;
	state *rw = NULL;
	pgc_err e = {0};
	int written = 0;
	int opened = path ? state_open(path, 0, &rw, &e) : replay_snapshots_aside(src, &e);
	if (opened == 0 && replay_index(rb, rw ? rw : ro, REPLAY_SNAPSHOT_EVERY, &written, &e) == 0) {
		if (written && !quiet)
			fprintf(stderr, "pgcutover: wrote %d checkpoint snapshots for fast seeking\n", written);
	} else if (!quiet) {
		fprintf(stderr, "pgcutover: note: no checkpoint snapshots written (%s); seeking folds more\n", e.msg);
	}
	state_close(rw);
}

static void print_json(cJSON *root)
{
	char *s = cJSON_Print(root);
	puts(s);
	cJSON_free(s);
}

static cJSON *json_time(double t)
{
	if (t <= 0)
		return cJSON_CreateNull();
	char buf[REPLAY_TIME_MAX];
	pgc_iso8601(t, buf, sizeof buf);
	return cJSON_CreateString(buf);
}

static void duration_text(double secs, char *buf, size_t n)
{
	long s = (long)secs;
	snprintf(buf, n, "%ld:%02ld:%02ld", s / SECONDS_PER_HOUR, (s % SECONDS_PER_HOUR) / SECONDS_PER_MINUTE,
	         s % SECONDS_PER_MINUTE);
}

typedef struct timeline_ctx {
	const double *pos;
	bool json;
	cJSON *array;
} timeline_ctx;

static int timeline_one(const st_event *ev, void *ud)
{
	timeline_ctx *c = ud;
	double off = c->pos[ev->id - 1];
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)ev->id);
		cJSON_AddItemToObject(o, "time", json_time(ev->ts));
		cJSON_AddNumberToObject(o, "offset_s", off);
		cJSON_AddStringToObject(o, "kind", ev->kind);
		cJSON_AddStringToObject(o, "operator", ev->operator_name);
		if (ev->phase)
			cJSON_AddStringToObject(o, "phase", ev->phase);
		if (ev->item)
			cJSON_AddStringToObject(o, "item", ev->item);
		cJSON_AddItemToArray(c->array, o);
	} else {
		char d[REPLAY_TIME_MAX], when[REPLAY_TIME_MAX];
		duration_text(off, d, sizeof d);
		pgc_iso8601(ev->ts, when, sizeof when);
		char *who = pgc_sanitize(ev->operator_name), *kind = pgc_sanitize(ev->kind),
		     *where = pgc_sanitize(ev->item ? ev->item : ev->phase ? ev->phase : "");
		printf("%9s  %6lld  %s  %-10s %-16s %s\n", d, (long long)ev->id, when, who, kind, where);
		free(who);
		free(kind);
		free(where);
	}
	return 0;
}

static int print_timeline(replay_src *src, const replay_args *a, bool json, pgc_err *e)
{
	double *times = NULL;
	size_t n = 0;
	if (replay_times(src, &times, &n, e) < 0)
		return -1;
	double *pos = xcalloc(n ? n : 1, sizeof *pos);
	double len = replay_compress(times, n, a->idle, pos);
	timeline_ctx c = {.pos = pos, .json = json, .array = json ? cJSON_CreateArray() : NULL};
	int rc = replay_foreach(src, 1, (int64_t)n, timeline_one, &c, e);
	if (json && rc == 0) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddNumberToObject(root, "events", (double)n);
		cJSON_AddNumberToObject(root, "idle_max_s", a->idle);
		cJSON_AddNumberToObject(root, "length_s", len);
		cJSON_AddNumberToObject(root, "wall_s", n ? times[n - 1] - times[0] : 0);
		cJSON_AddItemToObject(root, "timeline", c.array);
		print_json(root);
		cJSON_Delete(root);
	} else {
		cJSON_Delete(c.array);
		if (rc == 0 && !json) {
			char d[REPLAY_TIME_MAX];
			duration_text(len, d, sizeof d);
			printf("%zu events, %s on the timeline\n", n, d);
		}
	}
	free(pos);
	free(times);
	return rc < 0 ? -1 : 0;
}

/* The last command started at or before the cursor, with its end when it
 * had ended by then: {"start_id", "item", "at", "command", "end": {...}|null}. */
static cJSON *command_at(replay_src *src, int64_t id)
{
	replay_command c;
	pgc_err e = {0};
	if (replay_command_at(src, id, &c, &e) < 0 || !c.start)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "start_id", (double)c.start->id);
	if (c.start->item)
		cJSON_AddStringToObject(o, "item", c.start->item);
	cJSON_AddItemToObject(o, "at", json_time(c.start->ts));
	cJSON_AddStringToObject(o, "command", c.cmd.command ? c.cmd.command : "");
	cJSON *endj = c.end ? evp_embed(c.end->payload) : NULL;
	cJSON_AddItemToObject(o, "end", endj ? endj : cJSON_CreateNull());
	replay_command_free(&c);
	return o;
}

static void print_text(const ledger *lg, const char *source, int64_t id, int64_t total, double at)
{
	char when[REPLAY_TIME_MAX] = "-";
	if (at > 0)
		pgc_iso8601(at, when, sizeof when);
	char *src = pgc_sanitize(source);
	printf("%s as of event %lld of %lld (%s)\n", src, (long long)id, (long long)total, when);
	free(src);
	const runbook *rb = lg->rb;
	for (size_t p = 0; p < rb->n_phases; p++) {
		const lg_phase *lp = &lg->phases[p];
		char *t = pgc_sanitize(rb->phases[p].title ? rb->phases[p].title : "");
		printf("  %-8s %-12s %3d/%-3d %s\n", rb->phases[p].id, lg_phase_status_name(lp->status),
		       lp->done, lp->total, t);
		free(t);
	}
	printf("total: %d/%d items done\n", lg->items_done, lg->items_total);
}

/* What an HH:MM alone is read against: the log's first event. */
static double first_event_time(replay_src *src)
{
	double t0 = 0;
	pgc_err e = {0};
	if (replay_event_time(src, 1, &t0, &e) < 0)
		t0 = 0;
	return t0;
}

int cmd_replay(const cli_args *args, cli_opts *o)
{
	replay_args a = {.event = -1, .at = cli_opt(args, OPT_AT), .timeline = cli_flag(args, OPT_TIMELINE),
	                 .ascii = cli_flag(args, OPT_ASCII), .source = args->argc > 0 ? args->argv[0] : NULL};
	const char *v;
	if ((v = cli_opt(args, OPT_EVENT))) {
		char *end = NULL;
		a.event = strtoll(v, &end, 10);
		if (!*v || !end || *end || a.event < 0)
			return cli_usage_error("replay", "--event needs an event id, got '%s'", v);
	}
	if ((v = cli_opt(args, 'i'))) {
		char *end = NULL;
		a.idle = strtod(v, &end);
		if (!*v || !end || *end || a.idle < 0)
			return cli_usage_error("replay", "-i needs seconds, got '%s'", v);
	}
	if (a.at && a.event >= 0)
		return cli_usage_error("replay", "--at or --event, not both");
	double at_time = 0, at_upto = 0;
	if (a.at && replay_parse_at(a.at, 0, &at_time, &at_upto) < 0)
		return cli_usage_error("replay", "--at: cannot read '%s' as a time (HH:MM[:SS] or YYYY-MM-DD HH:MM[:SS])",
		                       a.at);

	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(args, true));
	if (rc != 0)
		return rc;
	pgc_err e = {0};
	replay_src *src = NULL;
	runbook *rb = NULL;
	ledger *lg = NULL;
	char *source = resolve_source(&a, &ctx, &e);
	if (!source || replay_open(source, &src, &e) < 0)
		goto fail;
	if (a.timeline) {
		cli_safe_output(true, false, o->json);   /* headless: see output.c */
		if (print_timeline(src, &a, o->json, &e) < 0)
			goto fail;
		goto done;
	}
	int64_t total = replay_last_id(src), id = total;
	if (!a.at && a.event < 0 && !o->json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		if (load_runbook(src, &ctx, total, &rb, &e) < 0)
			goto fail;
		index_if_useful(rb, src, o->quiet);
		ui_setup s = {
			.cfg = ctx.cfg,
			.rb = rb,
			.st = replay_state(src),
			.mode = UI_MODE_REPLAY,
			.operator_name = o->operator_name,
			.host = pgc_host_name(),
			.no_color = o->no_color,
			.ascii = a.ascii,
			.replay = src,
			.replay_idle = a.idle,
		};
		rc = ui_console_run(&s, &e);
		if (rc < 0)
			goto fail;
		runbook_free(rb);
		replay_close(src);
		free(source);
		cli_unload(&ctx);
		return rc;
	}
	cli_safe_output(true, false, o->json);   /* headless from here: see output.c */
	if (a.event >= 0)
		id = a.event < total ? a.event : total;
	else if (a.at && (replay_parse_at(a.at, first_event_time(src), &at_time, &at_upto) < 0 ||
	                  replay_id_at_time(src, at_upto, &id, &e) < 0))
		goto fail;
	if (load_runbook(src, &ctx, id, &rb, &e) < 0)
		goto fail;
	index_if_useful(rb, src, o->quiet);
	if (replay_build(src, rb, id, &lg, &e) < 0)
		goto fail;
	/* A running phase's duration runs up to the cursor, not to today. */
	double cursor = a.at ? at_time : lg->last_event_ts;
	if (o->json) {
		cJSON *root = status_json_build(lg, ctx.cfg, source, cursor);
		cJSON *r = cJSON_AddObjectToObject(root, "replay");
		cJSON_AddStringToObject(r, "source", source);
		cJSON_AddStringToObject(r, "format", replay_is_jsonl(src) ? "jsonl" : "state");
		int chain = replay_chain_checked(src);
		if (chain < 0)
			cJSON_AddNullToObject(r, "chain_verified");
		else
			cJSON_AddBoolToObject(r, "chain_verified", chain == 1);
		cJSON_AddNumberToObject(r, "event_id", (double)id);
		cJSON_AddNumberToObject(r, "events_total", (double)total);
		cJSON_AddItemToObject(r, "at", json_time(cursor));
		cJSON *counts = evp_embed(lg->last_counts);
		cJSON_AddItemToObject(r, "counts", counts ? counts : cJSON_CreateNull());
		cJSON_AddItemToObject(r, "counts_at", json_time(lg->last_counts_ts));
		cJSON_AddItemToObject(r, "command", command_at(src, id));
		print_json(root);
		cJSON_Delete(root);
	} else {
		print_text(lg, source, id, total, cursor);
	}
done:
	ledger_free(lg);
	if (rb)
		runbook_free(rb);
	replay_close(src);
	free(source);
	cli_unload(&ctx);
	return PGC_EXIT_OK;
fail:
	rc = cli_report(&e);
	ledger_free(lg);
	if (rb)
		runbook_free(rb);
	replay_close(src);
	free(source);
	cli_unload(&ctx);
	return rc;
}
