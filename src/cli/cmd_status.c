/*
 * cmd_status.c -- `pgcutover status [--json]`: where the migration is
 * (the phases in progress) and progress per phase (status, done/total,
 * started and completed times, duration; "blocked" and by which tables when
 * its counts gate keeps it shut) from the ledger, the same derived state
 * the console draws.  Read-only: it opens the state file
 * SQLITE_OPEN_READONLY, so it can run beside a driving console or on a
 * monitor host.  The --json shape is an interface (see pgcutover(1)).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/ops.h"
#include "pgcutover/status_json.h"

#define SECONDS_PER_MINUTE 60
#define SECONDS_PER_HOUR 3600
#define STATUS_TIME_MAX 32
#define STATUS_CURRENT_MAX 1024

/* "02:05" today, "11-23 02:05" on another day; local time. */
static void local_time(double t, char *buf, size_t n)
{
	if (t <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	time_t s = (time_t)t, now = time(NULL);
	struct tm tm, tm_now;
	localtime_r(&s, &tm);
	localtime_r(&now, &tm_now);
	bool today = tm.tm_year == tm_now.tm_year && tm.tm_yday == tm_now.tm_yday;
	strftime(buf, n, today ? "%H:%M" : "%m-%d %H:%M", &tm);
}

static void duration_text(double secs, char *buf, size_t n)
{
	if (secs < 0) {
		snprintf(buf, n, "-");
		return;
	}
	long s = (long)secs;
	if (s < SECONDS_PER_MINUTE)
		snprintf(buf, n, "%lds", s);
	else if (s < SECONDS_PER_HOUR)
		snprintf(buf, n, "%ldm%02lds", s / SECONDS_PER_MINUTE, s % SECONDS_PER_MINUTE);
	else
		snprintf(buf, n, "%ldh%02ldm", s / SECONDS_PER_HOUR, (s % SECONDS_PER_HOUR) / SECONDS_PER_MINUTE);
}

static int status_json(const cli_ctx *ctx, double now)
{
	cJSON *root = status_json_build(ctx->lg, ctx->cfg, ctx->state_path, now);
	char *text = cJSON_Print(root);
	puts(text);
	cJSON_free(text);
	cJSON_Delete(root);
	return PGC_EXIT_OK;
}

static int status_text(const cli_ctx *ctx, double now)
{
	const runbook *rb = ctx->rb;
	const ledger *lg = ctx->lg;
	char *title = pgc_sanitize(rb->title && *rb->title ? rb->title : rb->path);
	printf("%s\n", title);
	free(title);
	if (ctx->st)
		printf("state: %s (%lld events)\n", ctx->state_path, (long long)lg->last_event_id);
	else
		printf("state: %s (not created yet)\n", ctx->state_path);
	char cur[STATUS_CURRENT_MAX];
	ledger_current_words(lg, cur, sizeof cur);
	printf("now: %s\n", cur);
	size_t id_w = strlen("PHASE"), st_w = 11;   /* "not started"; a failed rollback's text is longer */
	for (size_t p = 0; p < rb->n_phases; p++) {
		if (strlen(rb->phases[p].id) > id_w)
			id_w = strlen(rb->phases[p].id);
		if (strlen(ledger_phase_state(&lg->phases[p])) > st_w)
			st_w = strlen(ledger_phase_state(&lg->phases[p]));
	}
	printf("%-*s  %-*s  %7s  %-11s  %-11s  %8s  %s\n", (int)id_w, "PHASE", (int)st_w, "STATUS", "DONE",
	       "STARTED", "COMPLETED", "DURATION", "TITLE");
	for (size_t p = 0; p < rb->n_phases; p++) {
		const lg_phase *lp = &lg->phases[p];
		char started[STATUS_TIME_MAX], completed[STATUS_TIME_MAX], dur[STATUS_TIME_MAX], done[STATUS_TIME_MAX];
		local_time(lp->started_at, started, sizeof started);
		local_time(lp->completed_at, completed, sizeof completed);
		duration_text(status_phase_duration(lp, now), dur, sizeof dur);
		snprintf(done, sizeof done, "%d/%d", lp->done, lp->total);
		char *t = pgc_sanitize(rb->phases[p].title ? rb->phases[p].title : "");
		ops_gate g;
		ops_phase_gate(ctx->cfg, lg, p, &g);
		printf("%-*s  %-*s  %7s  %-11s  %-11s  %8s  %s\n", (int)id_w, rb->phases[p].id, (int)st_w,
		       g.blocked && !lp->rollback_failed ? "blocked" : ledger_phase_state(lp), done, started, completed,
		       dur, t);
		free(t);
		if (g.blocked) {
			char words[STATUS_CURRENT_MAX];
			ops_gate_words(&g, SIZE_MAX, words, sizeof words);
			char *sw = pgc_sanitize(words);
			printf("%-*s  blocked by its counts gate: %s\n", (int)id_w, "", sw);
			free(sw);
		}
		ops_gate_free(&g);
		for (size_t i = 0; i < rb->phases[p].n_items; i++)
			if (lg->items[lg->phase_offset[p] + i].changed_in_runbook)
				printf("%-*s  ! item %s was ticked with other text: the runbook changed since\n",
				       (int)id_w, "", rb->phases[p].items[i].id);
	}
	printf("total: %d/%d items done\n", lg->items_done, lg->items_total);
	if (lg->n_unmatched)
		printf("note: %d logged tick/note events name items not in this runbook "
		       "(see `pgcutover log`)\n", lg->n_unmatched);
	return PGC_EXIT_OK;
}

int cmd_status(const cli_args *a, cli_opts *o)
{
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, true));
	if (rc != 0)
		return rc;
	cli_print_runbook_change(&ctx);
	double now = pgc_now();
	rc = o->json ? status_json(&ctx, now) : status_text(&ctx, now);
	cli_unload(&ctx);
	return rc;
}
