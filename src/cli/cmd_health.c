/*
 * cmd_health.c -- `pgcutover health [--json]`: runs every HTTP health check
 * (the config's "health" list and the runbook items that are a single
 * `curl URL` or say "Health check:" with one) at once on curl multi
 * (health.c), prints status and latency, records one "health" event, and
 * exits 0 only when all of them pass (1 when one fails).  With no check at
 * all it says so on stderr, records nothing and exits 78 (PGC_EXIT_CONFIG):
 * nothing checked is not "all ok".
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_action.h"
#include "pgcutover/health.h"

int cmd_health(const cli_args *a, cli_opts *o)
{
	cli_ctx ctx;
	/* Checking health is not driving: it works beside a running console and
	 * only appends its "health" event (no driver lease). */
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc)
		return rc;
	hc_check *checks;
	size_t n = hc_collect(ctx.cfg, ctx.rb, &checks);
	if (n == 0) {
		fprintf(stderr, "pgcutover: no health checks: add \"health\" to the config, or a runbook item "
		                "`curl URL` or \"Health check: `curl URL`\"; nothing checked, nothing recorded\n");
		hc_checks_free(checks, n);
		cli_unload(&ctx);
		return PGC_EXIT_CONFIG;
	}
	hc_result *res = xcalloc(n, sizeof *res);
	pgc_err e = {0};
	loop *lp = loop_new();
	if (hc_run_wait(lp, checks, n, res, &e) < 0) {
		rc = cli_report(&e);
		goto out;
	}
	if (hc_record(ctx.st, checks, res, n, &e) < 0)
		fprintf(stderr, "pgcutover: warning: health results not recorded: %s\n", e.msg);
	if (o->json) {
		char *js = hc_results_json(checks, res, n);
		printf("%s\n", js);
		free(js);
	} else {
		for (size_t i = 0; i < n; i++) {
			char *name = pgc_sanitize(checks[i].name);
			char *url = act_masker_apply(NULL, checks[i].url);
			char *surl = pgc_sanitize(url);
			printf("%-4s %-24s %s  ", res[i].ok ? "ok" : "FAIL", name, surl);
			if (res[i].status)
				printf("HTTP %ld  %.1f ms", res[i].status, res[i].latency_ms);
			if (!res[i].ok)
				printf("%s%s", res[i].status ? "  " : "", res[i].error);
			if (checks[i].item[0])
				printf("  (item %s)", checks[i].item);
			printf("\n");
			free(name);
			free(url);
			free(surl);
		}
	}
	rc = hc_all_ok(res, n) ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
out:
	loop_free(lp);
	free(res);
	hc_checks_free(checks, n);
	cli_unload(&ctx);
	return rc;
}
