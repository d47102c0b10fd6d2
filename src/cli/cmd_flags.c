/*
 * cmd_flags.c -- `pgcutover flags [--json]` lists every declared .env flag:
 * its value in the config's env_file now, the last value pgcutover set
 * (from the audit's flag_set events) and whether the file was changed
 * behind pgcutover's back since; with --record it records each such hand
 * edit not yet in the audit as a flag_drift event (a writer: the driver's
 * lease, so while the console drives it refuses and the console's flags
 * panel records it; a plain `flags` stays a read anyone may run next to
 * the console).  `pgcutover flag set NAME VALUE` sets one
 * declared flag atomically (envfile.c), with a backup, audited as flag_set.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_action.h"
#include "pgcutover/envfile.h"

static int flags_list(const cli_args *a, cli_opts *o)
{
	bool record = cli_flag(a, OPT_RECORD);
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, !record));
	if (rc)
		return rc;
	pgc_err e = {0};
	act_flags *f;
	if (act_flags_read(ctx.cfg, ctx.rb, ctx.st, &f, &e) < 0) {
		cli_unload(&ctx);
		return cli_report(&e);
	}
	int n_recorded = 0;
	if (record && act_flags_record_drift(ctx.st, ctx.cfg, f, "flags --record", &n_recorded, &e) < 0) {
		act_flags_free(f);
		cli_unload(&ctx);
		return cli_report(&e);
	}
	if (o->json) {
		char *js = act_flags_json(f);
		printf("%s\n", js);
		free(js);
	} else {
		printf("%s%s\n", f->file, f->stamp.exists ? "" : " (missing)");
		for (size_t i = 0; i < f->n_flags; i++) {
			const act_flag_status *fs = &f->flags[i];
			printf("  %-32s %-12s%s%s%s\n", fs->name, fs->value ? fs->value : "(unset)",
			       fs->last_set ? " last set by pgcutover: " : "", fs->last_set ? fs->last_set : "",
			       fs->changed_behind_back ? "  CHANGED BEHIND PGCUTOVER'S BACK" : "");
		}
		if (f->file_changed_behind_back)
			printf("warning: %s was changed by something else since pgcutover last wrote it\n", f->file);
		bool unrecorded = false;
		for (size_t i = 0; i < f->n_flags; i++)
			unrecorded |= f->flags[i].changed_behind_back && !f->flags[i].drift_recorded;
		if (record && n_recorded)
			printf("recorded %d flag_drift event%s\n", n_recorded, n_recorded == 1 ? "" : "s");
		else if (unrecorded)
			printf("not yet in the audit: `pgcutover flags --record` (or the console's flags panel) records it\n");
	}
	act_flags_free(f);
	cli_unload(&ctx);
	return 0;
}

int cmd_flags(const cli_args *a, cli_opts *o)
{
	return flags_list(a, o);
}

static int flag_set(const cli_args *a, const char *name, const char *value, cli_opts *o)
{
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc)
		return rc;
	cli_recover_unknown(&ctx);
	if (!act_flag_declared(ctx.cfg, ctx.rb, name)) {
		cli_unload(&ctx);
		return cli_usage_error("flag", "%s is not a flag declared in the config's \"flags\"", name);
	}
	envfile_set_result res;
	pgc_err e = {0};
	if (act_set_flag(ctx.st, ctx.cfg, NULL, NULL, name, value, NULL, &res, &e) < 0) {
		cli_unload(&ctx);
		return cli_report(&e);
	}
	if (o->json) {
		char *js = act_flag_set_payload(ctx.cfg, NULL, name, &res, 0, false, true);
		printf("%s\n", js);
		free(js);
	} else if (!o->quiet) {
		act_masker *m = act_masker_new(ctx.cfg);
		char *old = act_flag_shown(m, name, res.old_value, "(unset)");
		char *nv = act_flag_shown(m, name, value, "(unset)");
		act_masker_free(m);
		printf("%s: %s -> %s in %s%s%s%s\n", name, old, nv,
		       ctx.cfg->env_file, res.changed ? "" : " (unchanged)",
		       res.backup_path ? ", backup " : "", res.backup_path ? res.backup_path : "");
		free(old);
		free(nv);
	}
	envfile_set_result_free(&res);
	cli_unload(&ctx);
	return 0;
}

int cmd_flag(const cli_args *a, cli_opts *o)
{
	if (a->argc == 3 && strcmp(a->argv[0], "set") == 0)
		return flag_set(a, a->argv[1], a->argv[2], o);
	return cli_usage_error("flag", "set NAME VALUE: the subcommand, a declared flag and its value");
}
