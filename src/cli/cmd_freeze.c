/*
 * cmd_freeze.c -- `pgcutover freeze [check|watch] [--window N] [--json]`:
 * proves the write freeze on the source (freeze.h) and records what it
 * found as a freeze event; `freeze apply --roles a,b` and `freeze release
 * [--roles a,b]` set and reset default_transaction_read_only for roles
 * (apply also ends their sessions), shown first, asked on the terminal
 * unless --yes, recorded with the exact statements (freeze_applied,
 * freeze_released).  The sampling runs in the core's frz_session on the
 * loop, the same the console's freeze panel runs.
 *
 * Exit status: check 0 proven, 1 a write seen (named); watch 0 proven
 * (it prints who still writes meanwhile), 130 interrupted; 69 the source
 * unreachable; apply/release 0 done, 64 no confirmation possible.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pgcutover/cli.h"
#include "pgcutover/evpay.h"
#include "pgcutover/freeze.h"
#include "pgcutover/loop.h"
#include "pgcutover/schema.h"
#include "cli_action.h"

#define FREEZE_PROGRESS_EVERY_S 5
#define FREEZE_EXIT_INTERRUPTED 130

typedef struct freeze_run {
	cli_ctx *ctx;
	bool watch, json;
	loop *lp;
	frz_session *fs;
	const char *verdict;     /* set when it ends */
	int rc;
	double last_progress;
	size_t writes_printed;
} freeze_run;

static void freeze_clock(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, n, "%H:%M:%S", &tm);
}

static void freeze_end(freeze_run *r, const char *verdict, int rc)
{
	r->verdict = verdict;
	r->rc = rc;
	loop_stop(r->lp);
}

static void freeze_on_sample(frz_session *fs, void *ud)
{
	freeze_run *r = ud;
	const frz_watch *w = frz_session_watch(fs);
	double now = pgc_now();
	if (frz_session_error(fs)[0]) {
		freeze_end(r, "failed", PGC_EXIT_UNAVAILABLE);
		return;
	}
	char clock[16];
	freeze_clock(clock, sizeof clock);
	if (w->verdict == FRZ_WRITE_SEEN) {
		char *who = frz_watch_who(w, now);
		if (!r->json)
			printf("%s  WRITE SEEN: %s\n          who: %s\n", clock, w->last_write_what, who);
		free(who);
		fflush(stdout);
		r->writes_printed++;
		if (!r->watch)
			freeze_end(r, "write_seen", PGC_EXIT_DIFFERENT);
		return;
	}
	if (w->verdict == FRZ_PROVEN) {
		freeze_end(r, "proven", PGC_EXIT_OK);
		return;
	}
	if (!r->json && now - r->last_progress >= FREEZE_PROGRESS_EVERY_S) {
		r->last_progress = now;
		printf("%s  quiet %.0f of %d s\n", clock, frz_watch_quiet_for(w, now), w->quiet_s);
		fflush(stdout);
	}
}

static void freeze_on_signal(loop *lp, int signo, void *ud)
{
	(void)lp;
	(void)signo;
	freeze_end(ud, "interrupted", FREEZE_EXIT_INTERRUPTED);
}

static void freeze_print_ignore(const frz_watch *w, bool defaults)
{
	printf("ignoring sessions of (%s):", defaults ? "hosted defaults, freeze.ignore replaces them"
	                                               : "freeze.ignore");
	for (size_t i = 0; w->ignore[i]; i++)
		printf("%s %s", i ? "," : "", w->ignore[i]);
	printf("%s\n", w->ignore[0] ? "" : " nothing");
}

static int freeze_watch(cli_ctx *ctx, const cli_args *a, bool watch, bool json)
{
	int quiet = ctx->cfg->freeze_quiet_s;
	if (cli_opt(a, OPT_WINDOW) &&
	    cli_parse_int("freeze", "--window", cli_opt(a, OPT_WINDOW), 1, CFG_MAX_FREEZE_QUIET_S, &quiet) < 0)
		return PGC_EXIT_USAGE;
	freeze_run r = {.ctx = ctx, .watch = watch, .json = json, .last_progress = pgc_now()};
	r.lp = loop_new();
	r.fs = frz_session_new(ctx->cfg, quiet, r.lp, freeze_on_sample, &r);
	const frz_watch *w = frz_session_watch(r.fs);
	if (!json) {
		if (w->counts_only || ctx->cfg->source.kind != CFG_EP_POSTGRES)
			printf("source is a REST endpoint (no SQL access): the evidence is exact row counts of the "
			       "configured tables stable for %d s -- WEAKER than the write counters\n", quiet);
		else
			printf("watching the source's write counters and sessions every %d ms; proven after %d quiet s\n",
			       FRZ_SAMPLE_MS, quiet);
		if (quiet < FRZ_STATS_HOLDBACK_S)
			printf("WARNING: %d s is shorter than the %d s PostgreSQL may hold back table counters\n", quiet,
			       FRZ_STATS_HOLDBACK_S);
		freeze_print_ignore(w, !ctx->cfg->freeze_ignore_set);
		fflush(stdout);
	}
	loop_signal(r.lp, SIGINT, freeze_on_signal, &r);
	loop_signal(r.lp, SIGTERM, freeze_on_signal, &r);
	pgc_err e = {0};
	if (frz_session_start(r.fs, &e) != 0) {
		cli_report(&e);
		r.verdict = "failed";
		r.rc = e.code ? e.code : PGC_EXIT_UNAVAILABLE;
	} else
		loop_run(r.lp);
	double now = pgc_now();
	const char *err = r.rc == PGC_EXIT_UNAVAILABLE ? (frz_session_error(r.fs)[0] ? frz_session_error(r.fs) : e.msg)
	                                               : NULL;
	pgc_err se = {0};
	if (ctx->st && frz_record(ctx->st, w, watch ? "watch" : "check", r.verdict, now, err, &se) != 0)
		cli_report(&se);
	if (json) {
		char *payload = evp_freeze_write(w, watch ? "watch" : "check", r.verdict, now, err);
		printf("%s\n", payload);
		free(payload);
	} else {
		char *who = frz_watch_who(w, now);
		char *ign = frz_watch_ignored(w);
		if (strcmp(r.verdict, "proven") == 0)
			printf("FREEZE PROVEN: quiet for %.0f s%s; %s\n", frz_watch_quiet_for(w, now),
			       w->counts_only ? " (exact counts only: weaker evidence)" : "", who);
		else if (strcmp(r.verdict, "write_seen") == 0)
			printf("NOT FROZEN: %s\n", w->last_write_what);
		else if (strcmp(r.verdict, "failed") == 0 && err)
			fprintf(stderr, "pgcutover: %s\n", err);
		else
			printf("interrupted after %.0f s quiet; %s\n", frz_watch_quiet_for(w, now), who);
		if (ign[0])
			printf("ignored sessions: %s\n", ign);
		free(who);
		free(ign);
	}
	frz_session_free(r.fs);
	loop_free(r.lp);
	return r.rc;
}

/* The roles of --roles a,b (NULL-terminated, sch_strv_free). */
static char **freeze_roles(const char *s)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	char **v = xcalloc(n + 1, sizeof *v);
	size_t k = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		if (len > 0)
			v[k++] = xstrndup(s, len);
		s += len + (s[len] == ',');
	}
	return v;
}

static int freeze_enforce(cli_ctx *ctx, const cli_args *a, bool release, bool json)
{
	const char *ro = cli_opt(a, OPT_ROLES);
	char **roles = ro ? freeze_roles(ro) : release && ctx->st ? frz_applied_roles(ctx->st) : NULL;
	if (!roles || !roles[0]) {
		sch_strv_free(roles);
		return cli_usage_error("freeze", release ? "release needs --roles a,b (no freeze apply is recorded)"
		                                         : "apply needs --roles a,b");
	}
	pgc_err e = {0};
	int rc = 0;
	char **sql = NULL;
	PGconn *c = sch_connect(ctx->cfg, &ctx->cfg->source, "source", &e);
	if (!c) {
		rc = cli_report(&e);
		goto done;
	}
	if (!(sql = frz_apply_sql(c, roles, release))) {
		rc = cli_report(&(pgc_err){PGC_EXIT_SOFTWARE, "cannot quote a role name"});
		goto done;
	}
	strbuf shown;
	sb_init(&shown);
	sb_printf(&shown, "pgcutover will run on the source:\n");
	for (size_t i = 0; sql[i]; i++)
		sb_printf(&shown, "  %s;\n", sql[i]);
	if (cli_flag(a, 'n')) {
		printf("dry run, nothing changed; would run on the source:\n%s", shown.buf + strlen("pgcutover will run on the source:\n"));
		sb_free(&shown);
		goto done;
	}
	if (!cli_flag(a, 'y')) {
		if (!cli_tty_write(shown.buf)) {
			fputs(shown.buf, stderr);
			fprintf(stderr, "pgcutover: freeze %s needs a confirmation and there is no terminal; give --yes "
			        "to run it unattended\n", release ? "release" : "apply");
			rc = CLI_NO_TERMINAL_EXIT;
		} else {
			int ok = cli_tty_confirm(release ? "Release the freeze?"
			                                 : "Make these roles read-only and end their sessions?", "yes", true);
			rc = ok < 0 ? CLI_NO_TERMINAL_EXIT : ok == 0 ? PGC_EXIT_TEMPFAIL : 0;
			if (ok == 0)
				fprintf(stderr, "pgcutover: nothing changed\n");
		}
	}
	sb_free(&shown);
	if (rc)
		goto done;
	size_t ran = 0;
	pgc_err ae = {0};
	int arc = frz_apply_run(c, sql, &ran, &ae);
	char *payload = evp_freeze_apply_write(roles, sql, ran, arc < 0 ? ae.msg : NULL);
	if (state_append(ctx->st, release ? EV_FREEZE_RELEASED : EV_FREEZE_APPLIED, NULL, NULL, payload, NULL, &e) != 0)
		rc = cli_report(&e);
	if (json)
		printf("%s\n", payload);
	free(payload);
	if (arc < 0) {
		rc = cli_report(&ae);
		goto done;
	}
	if (!json)
		printf(release ? "released: new sessions of %s may write again\n"
		               : "applied: new transactions of %s are read-only; their sessions were ended\n", ro ? ro : "the roles");
done:
	if (c)
		PQfinish(c);
	sch_strv_free(sql);
	sch_strv_free(roles);
	return rc;
}

int cmd_freeze(const cli_args *a, cli_opts *o)
{
	const char *sub = a->argc > 0 ? a->argv[0] : "check";
	bool check = strcmp(sub, "check") == 0, watch = strcmp(sub, "watch") == 0;
	bool apply = strcmp(sub, "apply") == 0, release = strcmp(sub, "release") == 0;
	if (!check && !watch && !apply && !release)
		return cli_usage_error("freeze", "unknown subcommand '%s' (check, watch, apply or release)", sub);
	bool dry = cli_flag(a, 'n');
	cli_ctx ctx = {0};
	int rc = cli_load(&ctx, o, cli_need(a, check || watch || dry));
	if (rc != 0)
		return rc;
	if (check || watch)
		rc = freeze_watch(&ctx, a, watch, o->json);
	else if (ctx.cfg->source.kind != CFG_EP_POSTGRES)
		rc = cli_usage_error("freeze", "%s needs SQL access to the source (it is a REST endpoint)", sub);
	else
		rc = freeze_enforce(&ctx, a, release, o->json);
	cli_unload(&ctx);
	return rc;
}
