/*
 * cmd_log.c -- `pgcutover log [--json] [--since T] [--limit N] [--verify]`:
 * the audit log as stored, oldest first (a command_end's exit code and
 * duration at a glance before its payload), or a check of its hash chain.
 * Read-only (SQLITE_OPEN_READONLY), so it works beside a driving console.
 * --json prints an array of events; with --verify, {"intact":..}.  Both are
 * interfaces (see pgcutover(1)).  Exit 1 when --verify finds a bad event.
 */
#include "config.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/evpay.h"
#include "pgcutover/export.h"
#include "pgcutover/ops.h"

#define LOG_TIME_MAX 32

typedef struct log_run {
	bool json;
	double since;        /* events with ts >= since */
	long long limit;     /* the last N matching events; 0 = all */
	long long skip;      /* matching events to pass over before printing */
	long long seen;      /* matching events so far */
	long long printed;
	cJSON *array;        /* --json: collected events */
} log_run;

static int count_matching(const st_event *ev, void *ud)
{
	log_run *r = ud;
	if (ev->ts >= r->since)
		r->seen++;
	return 0;
}

static cJSON *event_json(const st_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	char ts[LOG_TIME_MAX];
	pgc_iso8601(ev->ts, ts, sizeof ts);
	cJSON_AddNumberToObject(o, "id", (double)ev->id);
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddStringToObject(o, "operator", ev->operator_name);
	cJSON_AddStringToObject(o, "host", ev->host);
	cJSON_AddNumberToObject(o, "pid", ev->pid);
	cJSON_AddStringToObject(o, "kind", ev->kind);
	cJSON_AddItemToObject(o, "phase", ev->phase ? cJSON_CreateString(ev->phase) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "item", ev->item ? cJSON_CreateString(ev->item) : cJSON_CreateNull());
	cJSON *pl = evp_embed(ev->payload);
	cJSON_AddItemToObject(o, "payload", pl ? pl : cJSON_CreateString(ev->payload));
	cJSON_AddStringToObject(o, "prev_hash", ev->prev_hash);
	cJSON_AddStringToObject(o, "hash", ev->hash);
	return o;
}

static int print_event(const st_event *ev, void *ud)
{
	log_run *r = ud;
	if (ev->ts < r->since)
		return 0;
	if (r->skip > 0) {
		r->skip--;
		return 0;
	}
	/* Events appended between the counting pass and this one are left for
	 * the next call rather than overflowing the limit. */
	if (r->limit > 0 && r->printed >= r->limit)
		return 1;
	r->printed++;
	if (r->json) {
		cJSON_AddItemToArray(r->array, event_json(ev));
		return 0;
	}
	char ts[LOG_TIME_MAX];
	pgc_iso8601(ev->ts, ts, sizeof ts);
	char *who = xasprintf("%s@%s", ev->operator_name, ev->host);
	const char *what = ev->item ? ev->item : ev->phase ? ev->phase : "-";
	/* Payloads are JSON (control characters escaped), but a file edited by
	 * hand may hold anything: never send raw escapes to the terminal. */
	char *shown = ops_runbook_loaded_brief(ev);
	char *brief = evp_event_brief(ev);   /* "exit 127 (0.4s)", as the console's events show */
	char *line = xasprintf("%6lld  %s  %-16s %-16s %-8s %s%s%s", (long long)ev->id, ts, who, ev->kind,
	                       what, brief, brief[0] ? "  " : "", shown ? shown : ev->payload);
	free(brief);
	free(shown);
	char *safe = pgc_sanitize(line);
	puts(safe);
	free(safe);
	free(line);
	free(who);
	return 0;
}

static int log_verify(cli_ctx *ctx, bool json)
{
	int64_t bad = 0;
	pgc_err e = {0};
	int rc = state_verify(ctx->st, &bad, &e);
	if (rc < 0 && bad == 0)
		return cli_report(&e);   /* could not read, not a broken chain */
	int64_t n = state_last_id(ctx->st);
	st_event *head = NULL;
	if (rc == 0 && n > 0)
		state_get_event(ctx->st, n, &head, NULL);
	if (json) {
		chain_verdict v = {.intact = rc == 0, .events = rc == 0 ? n : bad - 1,
		                   .head = head ? head->hash : NULL, .bad_event = bad, .error = e.msg};
		char *s = export_verdict_json(&v);
		puts(s);
		free(s);
	} else if (rc == 0) {
		printf("chain intact: %lld events\n", (long long)n);
		if (head)
			printf("head: event %lld %s\n", (long long)n, head->hash);
	} else {
		printf("chain broken at event %lld: %s\n", (long long)bad, e.msg);
	}
	st_event_free(head);
	return rc == 0 ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
}

int cmd_log(const cli_args *a, cli_opts *o)
{
	log_run r = {.json = o->json};
	bool verify = cli_flag(a, OPT_VERIFY);
	const char *val;
	if ((val = cli_opt(a, OPT_SINCE)) && pgc_parse_time(val, &r.since) < 0)
		return cli_usage_error("log", "--since: cannot read '%s' as a time "
		                       "(ISO-8601, 'YYYY-MM-DD HH:MM' or unix seconds)", val);
	if ((val = cli_opt(a, OPT_LIMIT))) {
		char *end;
		r.limit = strtoll(val, &end, 10);
		if (*val == '\0' || *end || r.limit <= 0)
			return cli_usage_error("log", "--limit needs a positive number, not '%s'", val);
	}
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, true));
	if (rc != 0)
		return rc;
	if (!ctx.st) {
		fprintf(stderr, "pgcutover: %s: no state file yet (nothing has been recorded)\n", ctx.state_path);
		rc = verify ? PGC_EXIT_NOINPUT : PGC_EXIT_OK;
		if (!verify && r.json)
			puts("[]");
		cli_unload(&ctx);
		return rc;
	}
	if (verify) {
		rc = log_verify(&ctx, r.json);
		cli_unload(&ctx);
		return rc;
	}
	pgc_err e = {0};
	if (r.limit > 0) {
		if (state_foreach(ctx.st, 0, count_matching, &r, &e) < 0)
			goto fail;
		r.skip = r.seen > r.limit ? r.seen - r.limit : 0;
	}
	if (r.json)
		r.array = cJSON_CreateArray();
	if (state_foreach(ctx.st, 0, print_event, &r, &e) < 0)
		goto fail;
	if (r.json) {
		char *s = cJSON_Print(r.array);
		puts(s);
		cJSON_free(s);
		cJSON_Delete(r.array);
	}
	cli_unload(&ctx);
	return PGC_EXIT_OK;
fail:
	cJSON_Delete(r.array);
	cli_unload(&ctx);
	return cli_report(&e);
}
