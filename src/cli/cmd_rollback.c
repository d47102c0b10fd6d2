/*
 * cmd_rollback.c -- `pgcutover rollback PHASE [--yes] [--dry-run] [--json]
 * [--past-point-of-no-return]`: the headless rollback button, over the
 * same core as the console (act_rollback_plan in rollback.c).  Shows
 * exactly what will happen -- the flag values to restore and the rollback
 * steps' commands -- asks (typed phase id, on the terminal) unless --yes,
 * runs the steps in their written order with the flag restores where the
 * plan puts them (stopping at the first failure) and records
 * phase_rolled_back, or phase_rollback_failed when a stage fails.  Past the config's point of no
 * return it says so and needs a second confirmation.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_action.h"
#include "pgcutover/freeze.h"
#include "pgcutover/schema.h"

/* Asks what has to be asked; returns 0 to go on, or an exit status. */
static int confirm(const act_rollback *rbk, const char *shown, bool yes, bool past_ok)
{
	if (yes && (!rbk->past_point_of_no_return || past_ok))
		return 0;
	if (!cli_tty_write(shown)) {
		fputs(shown, stderr);
		if (!yes)
			fprintf(stderr, "pgcutover: rollback needs a confirmation and there is no terminal; give --yes\n");
		else
			fprintf(stderr, "pgcutover: the point of no return has passed; give "
			        "--past-point-of-no-return as well to roll back anyway\n");
		return CLI_NO_TERMINAL_EXIT;
	}
	int c = yes ? 1 : cli_tty_confirm("Roll back?", rbk->phase_id, false);
	if (c > 0 && rbk->past_point_of_no_return && !past_ok)
		c = cli_tty_confirm("The point of no return has passed: rows written to the target "
		                    "since will not be on the source.", "rollback", true);
	if (c < 0)
		return CLI_NO_TERMINAL_EXIT;
	if (c == 0) {
		fprintf(stderr, "pgcutover: not rolled back\n");
		return PGC_EXIT_TEMPFAIL;
	}
	return 0;
}

int cmd_rollback(const cli_args *a, cli_opts *o)
{
	const char *phase_id = a->argc > 0 ? a->argv[0] : NULL;
	bool yes = cli_flag(a, 'y'), dry = cli_flag(a, 'n'), past_ok = cli_flag(a, OPT_PAST_PONR);
	if (!phase_id)
		return cli_usage_error("rollback", "which phase? e.g. pgcutover rollback 4");
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, dry));
	if (rc)
		return rc;
	cli_print_runbook_change(&ctx);
	if (!dry)
		cli_recover_unknown(&ctx);
	pgc_err e = {0};
	act_rollback *rbk = NULL;
	if (act_rollback_plan(ctx.cfg, ctx.rb, ctx.st, ctx.lg, phase_id, &rbk, &e) < 0) {
		rc = e.code == PGC_EXIT_USAGE ? cli_usage_error("rollback", "%s", e.msg) : cli_report(&e);
		cli_unload(&ctx);
		return rc;
	}
	char *shown = act_rollback_describe(rbk);
	if (dry) {
		if (o->json) {
			char *js = act_rollback_json(rbk);
			printf("%s\n", js);
			free(js);
		} else {
			printf("dry run, nothing changed:\n%s", shown);
		}
		goto out;
	}
	for (size_t i = 0; !rc && i < rbk->n_steps; i++) {
		char *what = xasprintf("rollback step %s", rbk->steps[i]->item_id);
		rc = cli_fill_vars(rbk->steps[i], what);
		free(what);
	}
	if (!rc)
		rc = confirm(rbk, shown, yes, past_ok);
	if (rc)
		goto out;

	/* The steps in their written order, the restores with the first step's
	 * flag lines (or first, on their own, when no step has one). */
	loop *lp = loop_new();
	act_result res = {0};
	act_result *step_res = xcalloc(rbk->n_steps + 1, sizeof *step_res);
	int failed_stage = -2;   /* none */
	if (act_rollback_stage(rbk, -1)) {
		rc = cli_run_plan(&ctx, lp, act_rollback_stage(rbk, -1), o->json, &res);
		if (rc || res.status != ACT_OK) {
			failed_stage = -1;
			if (!rc) {
				fprintf(stderr, "pgcutover: restoring flags failed: %s; phase %s NOT marked rolled back\n",
				        res.error, rbk->phase_id);
				rc = act_result_exit(&res);
			}
		}
	}
	for (size_t i = 0; !rc && i < rbk->n_steps; i++) {
		rc = cli_run_plan(&ctx, lp, rbk->steps[i], o->json, &step_res[i]);
		if (rc || step_res[i].status != ACT_OK) {
			failed_stage = (int)i;
			res = step_res[i];
			if (!rc) {
				fprintf(stderr, "pgcutover: rollback step %s: %s (exit %d)%s%s; phase %s NOT marked rolled back\n",
				        rbk->steps[i]->item_id, act_status_name(step_res[i].status),
				        act_result_exit(&step_res[i]), step_res[i].error[0] ? ": " : "", step_res[i].error,
				        rbk->phase_id);
				rc = act_result_exit(&step_res[i]);
			}
		}
	}
	loop_free(lp);
	if (failed_stage > -2) {
		/* Recorded, so `status` and the console mark the phase until it
		 * is resolved (what was restored is in the record). */
		if (res.status == ACT_RUNNING || res.status == ACT_OK) {   /* could not start */
			memset(&res, 0, sizeof res);
			res.status = ACT_ERROR;
			res.failed_segment = -1;
			res.error_code = rc;
		}
		pgc_err fe = {0};
		if (act_rollback_record_failed(ctx.st, rbk, failed_stage, &res, step_res, NULL, &fe) < 0)
			fprintf(stderr, "pgcutover: the failed rollback was NOT recorded: %s\n", fe.msg);
	}
	if (!rc && rbk->release_freeze) {
		/* The write freeze of freeze apply is undone with the phase. */
		char **roles = frz_applied_roles(ctx.st);
		pgc_err fe = {0};
		if (roles && frz_release(ctx.cfg, ctx.st, roles, &fe) < 0)
			fprintf(stderr, "pgcutover: the write freeze was NOT released: %s (pgcutover freeze release)\n", fe.msg);
		else if (roles && !o->quiet && !o->json)
			printf("write freeze released on the source\n");
		sch_strv_free(roles);
	}
	int64_t id = 0;
	if (!rc && act_rollback_record(ctx.st, rbk, step_res, &id, &e) < 0)
		rc = cli_report(&e);
	if (!rc && o->json) {
		st_event *ev = NULL;
		if (state_get_event(ctx.st, id, &ev, &e) == 1) {
			printf("{\"event_id\":%lld,\"phase\":\"%s\",\"payload\":%s}\n", (long long)id, rbk->phase_id,
			       ev->payload);
			st_event_free(ev);
		}
	} else if (!rc && !o->quiet) {
		size_t nf = rbk->restore ? rbk->restore->n_segs : 0;
		printf("phase %s rolled back (%zu flag%s restored, %zu step%s run)\n", rbk->phase_id,
		       nf, nf == 1 ? "" : "s", rbk->n_steps, rbk->n_steps == 1 ? "" : "s");
	}
	free(step_res);
out:
	free(shown);
	act_rollback_free(rbk);
	cli_unload(&ctx);
	return rc;
}
