/*
 * cmd_flags.c -- `pgcutover flags [--json]` lists every declared .env flag:
 * its value in the config's env_file now, the last value pgcutover set
 * (from the audit's flag_set events) and whether the file was changed
 * behind pgcutover's back since.  `pgcutover flag set NAME VALUE` sets one
 * declared flag atomically (envfile.c), with a backup, audited as flag_set.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli_action.h"
#include "pgcutover/envfile.h"

typedef struct last_set {
	char *name;
	char *value;     /* as recorded ("***" for secret-looking names) */
	double ts;
	char *operator_name;
} last_set;

typedef struct flag_scan {
	const char *file;
	last_set *v;
	size_t n;
	char *last_sha;  /* file sha256 after pgcutover's newest write */
} flag_scan;

static int scan_flag_set(const st_event *ev, void *ud)
{
	flag_scan *s = ud;
	if (strcmp(ev->kind, EV_FLAG_SET) != 0)
		return 0;
	cJSON *o = cJSON_Parse(ev->payload);
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(o, "file");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *nv = cJSON_GetObjectItemCaseSensitive(o, "new");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(o, "sha256");
	if (cJSON_IsString(name) && (!cJSON_IsString(file) || !s->file || strcmp(file->valuestring, s->file) == 0)) {
		last_set *ls = NULL;
		for (size_t i = 0; i < s->n; i++)
			if (strcmp(s->v[i].name, name->valuestring) == 0)
				ls = &s->v[i];
		if (!ls) {
			s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
			ls = &s->v[s->n++];
			memset(ls, 0, sizeof *ls);
			ls->name = xstrdup(name->valuestring);
		}
		free(ls->value);
		free(ls->operator_name);
		ls->value = cJSON_IsString(nv) ? xstrdup(nv->valuestring) : NULL;
		ls->operator_name = xstrdup(ev->operator_name ? ev->operator_name : "");
		ls->ts = ev->ts;
		if (cJSON_IsString(sha) && sha->valuestring[0]) {
			free(s->last_sha);
			s->last_sha = xstrdup(sha->valuestring);
		}
	}
	cJSON_Delete(o);
	return 0;
}

/* Declared flags: the config's, then any other the runbook edits. */
static size_t declared_flags(const cli_ctx *ctx, char ***out)
{
	char **v = NULL;
	size_t n = 0;
	for (size_t i = 0; ctx->cfg && i < ctx->cfg->n_flags; i++) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = ctx->cfg->flags[i];
	}
	for (size_t p = 0; ctx->rb && p < ctx->rb->n_phases; p++) {
		const rb_phase *ph = &ctx->rb->phases[p];
		for (size_t i = 0; i < ph->n_flag_edits; i++) {
			bool seen = false;
			for (size_t k = 0; k < n; k++)
				seen |= strcmp(v[k], ph->flag_edits[i].name) == 0;
			if (!seen) {
				v = xrealloc(v, (n + 1) * sizeof *v);
				v[n++] = ph->flag_edits[i].name;
			}
		}
	}
	*out = v;
	return n;
}

static int flags_list(cli_opts *o)
{
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, CLI_NEED_CONFIG | CLI_STATE_RO);
	if (rc)
		return rc;
	pgc_err e = {0};
	if (!ctx.cfg->env_file) {
		cli_unload(&ctx);
		return cli_report(&(pgc_err){PGC_EXIT_CONFIG, "the config names no env_file"});
	}
	envfile *ef;
	if (envfile_load(ctx.cfg->env_file, &ef, &e) < 0) {
		cli_unload(&ctx);
		return cli_report(&e);
	}
	flag_scan scan = {.file = ctx.cfg->env_file};
	if (ctx.st && state_foreach(ctx.st, 0, scan_flag_set, &scan, &e) < 0) {
		envfile_free(ef);
		cli_unload(&ctx);
		return cli_report(&e);
	}
	bool file_changed = scan.last_sha && ef->stamp.exists && strcmp(scan.last_sha, ef->stamp.sha256) != 0;
	char **names;
	size_t n = declared_flags(&ctx, &names);

	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "file", ctx.cfg->env_file);
	cJSON_AddBoolToObject(root, "exists", ef->stamp.exists);
	if (ef->stamp.exists)
		cJSON_AddStringToObject(root, "sha256", ef->stamp.sha256);
	else
		cJSON_AddNullToObject(root, "sha256");
	cJSON_AddBoolToObject(root, "file_changed_behind_back", file_changed);
	cJSON *arr = cJSON_AddArrayToObject(root, "flags");
	if (!o->json)
		printf("%s%s\n", ctx.cfg->env_file, ef->stamp.exists ? "" : " (missing)");
	for (size_t i = 0; i < n; i++) {
		const char *val = envfile_get(ef, names[i]);
		const last_set *ls = NULL;
		for (size_t k = 0; k < scan.n; k++)
			if (strcmp(scan.v[k].name, names[i]) == 0)
				ls = &scan.v[k];
		bool secret = envfile_name_is_secret(names[i]);
		bool behind = ls && ls->value && !secret && (!val || strcmp(val, ls->value) != 0);
		char *sval = val ? act_sanitize(val, strlen(val)) : NULL;
		char *slast = ls && ls->value ? act_sanitize(ls->value, strlen(ls->value)) : NULL;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", names[i]);
		if (sval)
			cJSON_AddStringToObject(x, "value", secret ? ACT_MASK : sval);
		else
			cJSON_AddNullToObject(x, "value");
		if (slast)
			cJSON_AddStringToObject(x, "last_set", slast);
		else
			cJSON_AddNullToObject(x, "last_set");
		if (ls) {
			char ts[32];
			pgc_iso8601(ls->ts, ts, sizeof ts);
			cJSON_AddStringToObject(x, "last_set_at", ts);
			cJSON_AddStringToObject(x, "last_set_by", ls->operator_name);
		} else {
			cJSON_AddNullToObject(x, "last_set_at");
			cJSON_AddNullToObject(x, "last_set_by");
		}
		cJSON_AddBoolToObject(x, "changed_behind_back", behind);
		cJSON_AddItemToArray(arr, x);
		if (!o->json)
			printf("  %-32s %-12s%s%s%s\n", names[i], sval ? (secret ? ACT_MASK : sval) : "(unset)",
			       slast ? " last set by pgcutover: " : "", slast ? slast : "",
			       behind ? "  CHANGED BEHIND PGCUTOVER'S BACK" : "");
		free(sval);
		free(slast);
	}
	if (o->json) {
		char *s = cJSON_PrintUnformatted(root);
		printf("%s\n", s);
		cJSON_free(s);
	} else if (file_changed) {
		printf("warning: %s was changed by something else since pgcutover last wrote it\n",
		       ctx.cfg->env_file);
	}
	cJSON_Delete(root);
	for (size_t i = 0; i < scan.n; i++) {
		free(scan.v[i].name);
		free(scan.v[i].value);
		free(scan.v[i].operator_name);
	}
	free(scan.v);
	free(scan.last_sha);
	free(names);
	envfile_free(ef);
	cli_unload(&ctx);
	return 0;
}

int cmd_flags(int argc, char **argv, cli_opts *o)
{
	if (argc > 1)
		return cli_usage_error("flags", "usage: pgcutover flags [--json]");
	return flags_list(o);
}

static int flag_set(const char *name, const char *value, cli_opts *o)
{
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, CLI_NEED_CONFIG | CLI_STATE_RW);
	if (rc)
		return rc;
	cli_recover_unknown(&ctx);
	char **names;
	size_t n = declared_flags(&ctx, &names);
	bool declared = false;
	for (size_t i = 0; i < n; i++)
		declared |= strcmp(names[i], name) == 0;
	free(names);
	if (!declared) {
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
		char *js = act_flag_set_payload(ctx.cfg, name, &res, 0, false, true);
		printf("%s\n", js);
		free(js);
	} else if (!o->quiet) {
		bool secret = envfile_name_is_secret(name);
		char *old = res.old_value ? act_sanitize(res.old_value, strlen(res.old_value)) : xstrdup("(unset)");
		char *nv = act_sanitize(value, strlen(value));
		printf("%s: %s -> %s in %s%s%s%s\n", name, secret ? ACT_MASK : old, secret ? ACT_MASK : nv,
		       ctx.cfg->env_file, res.changed ? "" : " (unchanged)",
		       res.backup_path ? ", backup " : "", res.backup_path ? res.backup_path : "");
		free(old);
		free(nv);
	}
	envfile_set_result_free(&res);
	cli_unload(&ctx);
	return 0;
}

int cmd_flag(int argc, char **argv, cli_opts *o)
{
	if (argc == 4 && strcmp(argv[1], "set") == 0)
		return flag_set(argv[2], argv[3], o);
	return cli_usage_error("flag", "usage: pgcutover flag set NAME VALUE");
}
