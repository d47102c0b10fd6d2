/*
 * cmd_rollback.c -- `pgcutover rollback PHASE --yes [--dry-run] [--json]`:
 * the headless rollback button.  Shows exactly what will happen: the flag
 * values to restore (from the audit: each flag's value before the phase's
 * first flag_set since its last rollback) and the phase's rollback steps'
 * commands.  Then restores the flags, runs the steps in order (stopping at
 * the first failure), and appends phase_rolled_back, which the ledger
 * shows as "rolled back".  Past the config's point of no return it says so
 * and needs a second confirmation (--past-point-of-no-return headless).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli_action.h"
#include "pgcutover/envfile.h"

typedef struct restore {
	char *name;
	char *value;     /* value before the phase's first change; NULL = was unset */
	bool masked;     /* recorded as *** (secret-looking): cannot be restored */
} restore;

typedef struct restore_scan {
	const char *phase;
	int64_t since;   /* last phase_rolled_back of this phase */
	restore *v;
	size_t n;
} restore_scan;

static int scan_rolled_back(const st_event *ev, void *ud)
{
	restore_scan *s = ud;
	if (strcmp(ev->kind, EV_PHASE_ROLLED_BACK) == 0 && ev->phase && strcmp(ev->phase, s->phase) == 0)
		s->since = ev->id;
	return 0;
}

static int scan_flag_sets(const st_event *ev, void *ud)
{
	restore_scan *s = ud;
	if (ev->id <= s->since || strcmp(ev->kind, EV_FLAG_SET) != 0 || !ev->phase ||
	    strcmp(ev->phase, s->phase) != 0)
		return 0;
	cJSON *o = cJSON_Parse(ev->payload);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(o, "old");
	const cJSON *rb = cJSON_GetObjectItemCaseSensitive(o, "rollback");
	if (cJSON_IsString(name) && !cJSON_IsTrue(rb)) {
		bool seen = false;
		for (size_t i = 0; i < s->n; i++)
			seen |= strcmp(s->v[i].name, name->valuestring) == 0;
		if (!seen) {
			s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
			restore *r = &s->v[s->n++];
			r->name = xstrdup(name->valuestring);
			r->value = cJSON_IsString(old) ? xstrdup(old->valuestring) : NULL;
			r->masked = r->value && strcmp(r->value, ACT_MASK) == 0;
		}
	}
	cJSON_Delete(o);
	return 0;
}

/* Is the config's point of no return ticked?  Fills who/when text. */
static bool past_point_of_no_return(const cli_ctx *ctx, char *desc, size_t n)
{
	if (!ctx->cfg->point_of_no_return || !ctx->lg)
		return false;
	const rb_phase *ph = NULL;
	const rb_item *it = runbook_item(ctx->rb, ctx->cfg->point_of_no_return, &ph);
	if (!it)
		return false;
	lg_item *li = ledger_item(ctx->lg, (size_t)(ph - ctx->rb->phases), (size_t)(it - ph->items));
	if (!li || !li->done)
		return false;
	char ts[32] = "";
	if (li->done_at > 0)
		pgc_iso8601(li->done_at, ts, sizeof ts);
	char *text = pgc_sanitize(it->text ? it->text : "");
	snprintf(desc, n, "item %s \"%.80s\" was ticked%s%s%s%s", it->id, text, ts[0] ? " at " : "", ts,
	         li->done_by ? " by " : "", li->done_by ? li->done_by : "");
	free(text);
	return true;
}

static int rollback_usage(void)
{
	return cli_usage_error("rollback", "usage: pgcutover rollback PHASE [--yes] [--dry-run] [--json] "
	                       "[--past-point-of-no-return]");
}

int cmd_rollback(int argc, char **argv, cli_opts *o)
{
	const char *phase_id = NULL;
	bool yes = false, dry = false, past_ok = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
			yes = true;
		else if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			dry = true;
		else if (strcmp(argv[i], "--past-point-of-no-return") == 0)
			past_ok = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return rollback_usage();
		else if (!phase_id)
			phase_id = argv[i];
		else
			return rollback_usage();
	}
	if (!phase_id)
		return rollback_usage();
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, CLI_NEED_CONFIG | CLI_NEED_RUNBOOK | (dry ? CLI_STATE_RO : CLI_STATE_RW));
	if (rc)
		return rc;
	cli_print_runbook_change(&ctx);
	if (!dry)
		cli_recover_unknown(&ctx);
	pgc_err e = {0};
	const rb_phase *ph = runbook_phase(ctx.rb, phase_id);
	if (!ph) {
		rc = cli_usage_error("rollback", "no phase '%s' in %s", phase_id, ctx.rb->path);
		cli_unload(&ctx);
		return rc;
	}

	/* Flags to restore, from the audit. */
	restore_scan scan = {.phase = ph->id};
	if (ctx.st && (state_foreach(ctx.st, 0, scan_rolled_back, &scan, &e) < 0 ||
	               state_foreach(ctx.st, 0, scan_flag_sets, &scan, &e) < 0)) {
		cli_unload(&ctx);
		return cli_report(&e);
	}
	strbuf notes;
	sb_init(&notes);
	const char **names = xcalloc(scan.n + 1, sizeof *names), **values = xcalloc(scan.n + 1, sizeof *values);
	size_t n_restore = 0;
	envfile *ef = NULL;
	if (ctx.cfg->env_file && envfile_load(ctx.cfg->env_file, &ef, &e) < 0) {
		rc = cli_report(&e);
		pgc_err_clear(&e);
	}
	for (size_t i = 0; i < scan.n; i++) {
		const char *now = ef ? envfile_get(ef, scan.v[i].name) : NULL;
		if (scan.v[i].value && now && strcmp(now, scan.v[i].value) == 0)
			sb_printf(&notes, "flag %s already has its value from before phase %s\n",
			          scan.v[i].name, ph->id);
		else if (scan.v[i].masked)
			sb_printf(&notes, "flag %s looks secret; its old value is not in the audit: not restored\n",
			          scan.v[i].name);
		else if (!scan.v[i].value)
			sb_printf(&notes, "flag %s was not in the file before phase %s; left as it is\n",
			          scan.v[i].name, ph->id);
		else {
			names[n_restore] = scan.v[i].name;
			values[n_restore++] = scan.v[i].value;
		}
	}
	envfile_free(ef);
	act_plan *restore_plan = n_restore ? act_plan_flags(ctx.cfg, ph->id, names, values, n_restore) : NULL;
	if (restore_plan && !restore_plan->env_file) {
		act_plan_free(restore_plan);
		restore_plan = NULL;
		sb_printf(&notes, "the config names no env_file: flags not restored\n");
	}

	/* The rollback steps' commands. */
	act_plan **steps = xcalloc(ph->n_items + 1, sizeof *steps);
	size_t n_steps = 0;
	for (size_t i = 0; i < ph->n_items && rc == 0; i++) {
		const rb_item *it = &ph->items[i];
		if (!it->rollback || !it->block || !it->block->runnable)
			continue;
		if (act_plan_item(ctx.cfg, ctx.rb, it->id, &steps[n_steps], &e) < 0)
			rc = cli_report(&e);
		else
			n_steps++;
	}
	char ponr[512] = "";
	bool past = past_point_of_no_return(&ctx, ponr, sizeof ponr);
	if (!rc && n_steps == 0 && n_restore == 0) {
		fprintf(stderr, "pgcutover: phase %s has no rollback step with a command and pgcutover "
		        "changed no flag in it: nothing to roll back\n%s", ph->id, notes.buf ? notes.buf : "");
		rc = PGC_EXIT_DATAERR;
	}

	/* What will happen. */
	strbuf show;
	sb_init(&show);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "phase", ph->id);
	cJSON_AddBoolToObject(root, "dry_run", dry);
	cJSON_AddBoolToObject(root, "past_point_of_no_return", past);
	cJSON *jr = cJSON_AddArrayToObject(root, "restore");
	cJSON *js = cJSON_AddArrayToObject(root, "steps");
	sb_printf(&show, "rollback of phase %s:\n", ph->id);
	if (past)
		sb_printf(&show, "POINT OF NO RETURN PASSED: %s; the target has taken writes the source has not seen.\n",
		          ponr);
	for (size_t i = 0; restore_plan && i < restore_plan->n_segs; i++) {
		const act_segment *s = &restore_plan->segs[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", s->name);
		bool secret = envfile_name_is_secret(s->name);
		if (s->old_value)
			cJSON_AddStringToObject(x, "current", secret ? ACT_MASK : s->old_value);
		else
			cJSON_AddNullToObject(x, "current");
		cJSON_AddStringToObject(x, "restore", secret ? ACT_MASK : s->value);
		cJSON_AddItemToArray(jr, x);
	}
	if (restore_plan) {
		char *d = act_plan_describe(restore_plan);
		sb_printf(&show, "restore flags (values before the phase's first change):\n%s", d);
		free(d);
	}
	for (size_t i = 0; i < n_steps; i++) {
		char *d = act_plan_describe(steps[i]);
		sb_printf(&show, "then step %s:\n%s", steps[i]->item_id, d);
		free(d);
		char *pj = act_plan_json(steps[i]);
		cJSON_AddItemToArray(js, cJSON_Parse(pj));
		free(pj);
	}
	if (notes.len)
		sb_puts(&show, notes.buf);
	cJSON *jn = cJSON_AddArrayToObject(root, "notes");
	for (char *l = notes.buf; l && *l;) {
		char *nl = strchr(l, '\n');
		char *line = xstrndup(l, nl ? (size_t)(nl - l) : strlen(l));
		cJSON_AddItemToArray(jn, cJSON_CreateString(line));
		free(line);
		l = nl ? nl + 1 : l + strlen(l);
	}

	if (!rc && dry) {
		if (o->json) {
			char *s = cJSON_PrintUnformatted(root);
			printf("%s\n", s);
			cJSON_free(s);
		} else {
			printf("dry run, nothing changed:\n%s", show.buf);
		}
		goto out;
	}
	for (size_t i = 0; !rc && i < n_steps; i++) {
		char *what = xasprintf("rollback step %s", steps[i]->item_id);
		rc = cli_fill_vars(steps[i], what);
		free(what);
	}
	if (!rc && (!yes || (past && !past_ok))) {
		if (!cli_tty_write(show.buf)) {
			fputs(show.buf, stderr);
			if (!yes)
				fprintf(stderr, "pgcutover: rollback needs a confirmation and there is no terminal; "
				        "give --yes\n");
			else
				fprintf(stderr, "pgcutover: the point of no return has passed; give "
				        "--past-point-of-no-return as well to roll back anyway\n");
			rc = CLI_NO_TERMINAL_EXIT;
		} else {
			int c = yes ? 1 : cli_tty_confirm("Roll back?", ph->id);
			if (c > 0 && past && !past_ok)
				c = cli_tty_confirm("The point of no return has passed: rows written to the target "
				                    "since will not be on the source.", "rollback");
			if (c < 0)
				rc = CLI_NO_TERMINAL_EXIT;
			else if (c == 0) {
				fprintf(stderr, "pgcutover: not rolled back\n");
				rc = PGC_EXIT_TEMPFAIL;
			}
		}
	}
	if (rc)
		goto out;

	/* Run: flags first (the steps' own edits, if any, then win), then steps. */
	loop *lp = loop_new();
	cJSON *done_steps = cJSON_CreateArray();
	act_result res;
	bool ok = true;
	if (restore_plan) {
		rc = cli_run_plan(&ctx, lp, restore_plan, o->json, &res);
		if (!rc && res.status != ACT_OK) {
			fprintf(stderr, "pgcutover: restoring flags failed: %s\n", res.error);
			rc = act_result_exit(&res);
		}
		ok = rc == 0;
	}
	for (size_t i = 0; ok && i < n_steps; i++) {
		rc = cli_run_plan(&ctx, lp, steps[i], o->json, &res);
		if (rc) {
			ok = false;
			break;
		}
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "item", steps[i]->item_id);
		cJSON_AddNumberToObject(x, "start_id", (double)res.start_event_id);
		cJSON_AddStringToObject(x, "status", act_status_name(res.status));
		cJSON_AddNumberToObject(x, "exit", act_result_exit(&res));
		cJSON_AddItemToArray(done_steps, x);
		if (res.status != ACT_OK) {
			fprintf(stderr, "pgcutover: rollback step %s: %s (exit %d)%s%s; phase %s NOT marked rolled back\n",
			        steps[i]->item_id, act_status_name(res.status), act_result_exit(&res),
			        res.error[0] ? ": " : "", res.error, ph->id);
			rc = act_result_exit(&res);
			ok = false;
		}
	}
	loop_free(lp);
	if (ok) {
		cJSON *pl = cJSON_CreateObject();
		cJSON *pr = cJSON_AddArrayToObject(pl, "restored");
		for (size_t i = 0; restore_plan && i < restore_plan->n_segs; i++) {
			const act_segment *s = &restore_plan->segs[i];
			bool secret = envfile_name_is_secret(s->name);
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "name", s->name);
			if (s->old_value)
				cJSON_AddStringToObject(x, "from", secret ? ACT_MASK : s->old_value);
			else
				cJSON_AddNullToObject(x, "from");
			cJSON_AddStringToObject(x, "to", secret ? ACT_MASK : s->value);
			cJSON_AddItemToArray(pr, x);
		}
		cJSON_AddItemToObject(pl, "steps", cJSON_Duplicate(done_steps, 1));
		cJSON_AddBoolToObject(pl, "past_point_of_no_return", past);
		char *ptext = cJSON_PrintUnformatted(pl);
		int64_t id = 0;
		if (state_append(ctx.st, EV_PHASE_ROLLED_BACK, ph->id, NULL, ptext, &id, &e) < 0)
			rc = cli_report(&e);
		cJSON_free(ptext);
		if (!rc) {
			if (o->json) {
				cJSON_AddNumberToObject(pl, "event_id", (double)id);
				cJSON_AddStringToObject(pl, "phase", ph->id);
				char *s = cJSON_PrintUnformatted(pl);
				printf("%s\n", s);
				cJSON_free(s);
			} else if (!o->quiet) {
				printf("phase %s rolled back (%zu flag%s restored, %zu step%s run)\n", ph->id,
				       restore_plan ? restore_plan->n_segs : 0,
				       restore_plan && restore_plan->n_segs == 1 ? "" : "s", n_steps, n_steps == 1 ? "" : "s");
			}
		}
		cJSON_Delete(pl);
	}
	cJSON_Delete(done_steps);
out:
	cJSON_Delete(root);
	sb_free(&show);
	sb_free(&notes);
	for (size_t i = 0; i < n_steps; i++)
		act_plan_free(steps[i]);
	free(steps);
	act_plan_free(restore_plan);
	free(names);
	free(values);
	for (size_t i = 0; i < scan.n; i++) {
		free(scan.v[i].name);
		free(scan.v[i].value);
	}
	free(scan.v);
	cli_unload(&ctx);
	return rc;
}
