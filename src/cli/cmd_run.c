/*
 * cmd_run.c -- `pgcutover run ITEM [--yes] [--dry-run] [--json]`: runs an
 * item's command block headless, through the same core (action.c) as the
 * console's `x`.  Shows the exact command first; without --yes asks on the
 * terminal (items of the cutover phase and rollback steps need the item id
 * or "yes" typed) and refuses when there is none.  --dry-run shows what
 * would run and which flags would change, and changes nothing.  The switch
 * item runs only when the go/no-go board lets it, or with --override (the
 * decision recorded with the board's values, goboard.h).  The exit
 * status is the command's (124 timeout, 130 cancelled).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_action.h"
#include "pgcutover/goboard.h"

int cmd_run(const cli_args *a, cli_opts *o)
{
	const char *item = a->argc > 0 ? a->argv[0] : NULL;
	bool yes = cli_flag(a, 'y'), dry = cli_flag(a, 'n');
	if (!item)
		return cli_usage_error("run", "which item? e.g. pgcutover run 3.7");

	cli_ctx ctx;
	/* A dry run reads the state only to find nothing: it must change nothing. */
	int rc = cli_load(&ctx, o, cli_need(a, dry));
	if (rc)
		return rc;
	cli_print_runbook_change(&ctx);
	if (!dry)
		cli_recover_unknown(&ctx);

	act_plan *p = NULL;
	pgc_err e = {0};
	if (act_plan_item(ctx.cfg, ctx.rb, item, &p, &e) < 0) {
		cli_unload(&ctx);
		return cli_report(&e);
	}
	if (!dry) {
		/* The switch waits for the go/no-go board (goboard.h). */
		char why[GO_VALUE_MAX * 2];
		int g = go_decide_run(ctx.cfg, ctx.rb, ctx.st, p->item_id, cli_opt(a, OPT_OVERRIDE), why, sizeof why, &e);
		if (g != 0) {
			if (g > 0)
				fprintf(stderr, "pgcutover run: %s is the switch, gated on the go/no-go board: %s; nothing run "
				        "(give --override REASON to run it anyway)\n", p->item_id, why);
			act_plan_free(p);
			cli_unload(&ctx);
			return g > 0 ? CLI_NEEDS_OVERRIDE_EXIT : cli_report(&e);
		}
	}
	if (dry) {
		if (o->json) {
			char *js = act_plan_json(p);
			printf("%s\n", js);
			free(js);
		} else {
			char *d = act_plan_describe(p);
			printf("dry run, nothing changed:\n%s", d);
			free(d);
		}
		act_plan_free(p);
		cli_unload(&ctx);
		return 0;
	}

	char *what = xasprintf("item %s", p->item_id);
	rc = cli_fill_vars(p, what);
	free(what);
	if (!rc && !yes) {
		char *d = act_plan_describe(p);
		char *shown = xasprintf("pgcutover will run:\n%s", d);
		free(d);
		if (!cli_tty_write(shown)) {
			fputs(shown, stderr);
			fprintf(stderr, "pgcutover: run %s needs a confirmation and there is no terminal; "
			        "give --yes to run it unattended\n", p->item_id);
			rc = CLI_NO_TERMINAL_EXIT;
		} else {
			int c = cli_tty_confirm(p->needs_typed_confirm
			                        ? (p->rollback ? "This is a rollback step." : "This is a cutover step.")
			                        : "Run it?", p->item_id, false);
			if (c < 0)
				rc = CLI_NO_TERMINAL_EXIT;
			else if (c == 0) {
				fprintf(stderr, "pgcutover: not run\n");
				rc = PGC_EXIT_TEMPFAIL;
			}
		}
		free(shown);
	}
	if (rc) {
		act_plan_free(p);
		cli_unload(&ctx);
		return rc;
	}

	loop *lp = loop_new();
	act_result res;
	rc = cli_run_plan(&ctx, lp, p, o->json, &res);
	if (!rc) {
		if (o->json) {
			char *js = cli_result_json(p, &res);
			printf("%s\n", js);
			free(js);
		} else if (!o->quiet || res.status != ACT_OK) {
			fprintf(stderr, "pgcutover: item %s: %s (exit %d) in %.1fs%s%s\n", p->item_id,
			        act_status_name(res.status), act_result_exit(&res), res.duration_s,
			        res.error[0] ? ": " : "", res.error);
		}
		rc = act_result_exit(&res);
	}
	loop_free(lp);
	act_plan_free(p);
	cli_unload(&ctx);
	return rc;
}
