/*
 * cmd_sync.c -- `pgcutover sync [--watch SECONDS] [--json]`: is the target
 * caught up with the source (syncwatch.h)?  With subscriptions on the
 * target: lag per subscription against the source's pg_current_wal_lsn(),
 * slot state, retained WAL, tables by state, and caught up only once the
 * target confirmed the LSN taken after the freeze (taken by the first sync
 * after `freeze check` proved it, and recorded).  Without: a script sync,
 * caught up when the last exact counts after the freeze are equal.
 * --watch checks every second until caught up or SECONDS pass, printing
 * the lag, and says STALLED loudly when no subscription's confirmed LSN
 * moved for SYNC_STALL_S while bytes are behind.  Records a sync event.
 *
 * Exit status: 0 caught up, 1 not (or stalled), 69 a side unreachable.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/cli.h"
#include "pgcutover/compare.h"
#include "pgcutover/evpay.h"
#include "pgcutover/freeze.h"
#include "pgcutover/schema.h"
#include "pgcutover/syncwatch.h"

#define SYNC_STALL_S 10
#define SYNC_MAX_WATCH_S 86400

static volatile sig_atomic_t sync_interrupted;
static void sync_on_signal(int signo) { (void)signo; sync_interrupted = 1; }

/* The freeze (its time, 0 none) and the post-freeze LSN a sync recorded since. */
static double sync_freeze_at(state *st, char **post_lsn)
{
	*post_lsn = NULL;
	int64_t fid = 0;
	double at = frz_proven_at(st, &fid);
	st_event *sev = NULL;
	pgc_err e = {0};
	if (at > 0 && state_last_of_kind(st, EV_SYNC, &sev, &e) == 1 && sev->id > fid)
		*post_lsn = evr_sync_post_lsn(sev->payload);
	st_event_free(sev);
	return at;
}

static void sync_print(const sync_report *r, bool stalled)
{
	if (!r->logical) {
		printf("%s\n", r->words);
		return;
	}
	printf("source at %s%s%s\n", r->source_lsn, r->post_freeze_lsn ? "; after the freeze: " : "",
	       r->post_freeze_lsn ? r->post_freeze_lsn : "");
	for (size_t i = 0; i < r->n_subs; i++) {
		const sync_sub *s = &r->subs[i];
		printf("  %s%s  slot %s %s%s  confirmed %s  lag %lld bytes, %.0f s  retained %lld bytes  tables: "
		       "%d ready, %d synced, %d copying%s\n", s->name, s->enabled ? "" : " (DISABLED)", s->slot ? s->slot : "-",
		       !s->slot_found ? "MISSING" : s->slot_active ? "active" : "INACTIVE",
		       s->wal_status ? (strcmp(s->wal_status, "lost") == 0 ? " WAL LOST" : "") : "",
		       s->confirmed_lsn ? s->confirmed_lsn : "-", (long long)s->lag_bytes, s->lag_s,
		       (long long)s->retained_bytes, s->n_ready, s->n_synced, s->n_copying,
		       s->past_freeze ? "  past the freeze" : "");
	}
	if (stalled)
		printf("STALLED: no subscription confirmed anything new for %d s while bytes are behind\n", SYNC_STALL_S);
	printf("%s\n", r->words);
	fflush(stdout);
}

/* One check; script sync judged from the last counts. */
static int sync_once(cli_ctx *ctx, PGconn *src, PGconn *dst, double freeze_at, const char *post, sync_report *r,
                     pgc_err *e)
{
	if (sync_check(src, dst, freeze_at > 0, post, r, e) != 0)
		return -1;
	if (!r->logical) {
		st_event *cev = NULL;
		pgc_err ce = {0};
		bool equal = false;
		double at = 0;
		if (state_last_of_kind(ctx->st, EV_COUNTS, &cev, &ce) == 1) {
			equal = cmp_payload_all_matched(ctx->cfg, cev->payload, NULL, 0);
			at = cev->ts;
		}
		st_event_free(cev);
		sync_script_verdict(r, equal, at, freeze_at);
	}
	return 0;
}

int cmd_sync(const cli_args *a, cli_opts *o)
{
	int watch_s = 0;
	if (cli_opt(a, OPT_WATCH) &&
	    cli_parse_int("sync", "--watch", cli_opt(a, OPT_WATCH), 1, SYNC_MAX_WATCH_S, &watch_s) < 0)
		return PGC_EXIT_USAGE;
	cli_ctx ctx = {0};
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	if (ctx.cfg->source.kind != CFG_EP_POSTGRES) {
		cli_unload(&ctx);
		return cli_usage_error("sync", "needs SQL access to the source (it is a REST endpoint)");
	}
	pgc_err e = {0};
	PGconn *src = sch_connect(ctx.cfg, &ctx.cfg->source, "source", &e);
	PGconn *dst = src ? sch_connect(ctx.cfg, &ctx.cfg->target, "target", &e) : NULL;
	sync_report r = {0}, prev = {0};
	char *post = NULL;
	bool stalled = false;
	if (!dst) {
		rc = cli_report(&e);
		goto done;
	}
	double freeze_at = sync_freeze_at(ctx.st, &post);
	signal(SIGINT, sync_on_signal);
	signal(SIGTERM, sync_on_signal);
	double start = pgc_now(), moved_at = start;
	for (;;) {
		if (sync_once(&ctx, src, dst, freeze_at, post, &r, &e) != 0) {
			rc = cli_report(&e);
			goto done;
		}
		if (!post && r.post_freeze_lsn)
			post = xstrdup(r.post_freeze_lsn);   /* the watch keeps the LSN it took */
		if (!sync_stalled(&prev, &r) || prev.n_subs == 0)
			moved_at = pgc_now();
		stalled = pgc_now() - moved_at >= SYNC_STALL_S;
		if (!o->json && (watch_s == 0 || r.caught_up || stalled || !r.logical))
			sync_print(&r, stalled);
		else if (!o->json)
			printf("lag %lld bytes%s\n", r.n_subs ? (long long)r.subs[0].lag_bytes : 0LL,
			       r.n_subs > 1 ? " (first subscription)" : "");
		if (watch_s == 0 || r.caught_up || !r.logical || sync_interrupted || pgc_now() - start >= watch_s)
			break;
		sync_report_free(&prev);
		prev = r;
		memset(&r, 0, sizeof r);
		sleep(1);
	}
	char *payload = evp_sync_write(&r, stalled);
	pgc_err se = {0};
	if (state_append(ctx.st, EV_SYNC, NULL, NULL, payload, NULL, &se) != 0)
		cli_report(&se);
	if (o->json)
		printf("%s\n", payload);
	free(payload);
	rc = r.caught_up ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
done:
	if (src)
		PQfinish(src);
	if (dst)
		PQfinish(dst);
	free(post);
	sync_report_free(&r);
	sync_report_free(&prev);
	cli_unload(&ctx);
	return rc;
}
