/*
 * flags.c -- the declared .env flags as they are now (see action.h): the
 * value in the config's env_file, the last value pgcutover set (from the
 * audit's flag_set events for that file), and whether the file or a flag
 * was changed behind pgcutover's back since its last write.  Read by
 * `pgcutover flags` and the console's flags panel; it changes nothing.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/action.h"

typedef struct flag_scan {
	const char *file;
	act_flags *f;
	char *last_sha;     /* file sha256 after pgcutover's newest write */
} flag_scan;

static act_flag_status *find(act_flags *f, const char *name)
{
	for (size_t i = 0; i < f->n_flags; i++)
		if (strcmp(f->flags[i].name, name) == 0)
			return &f->flags[i];
	return NULL;
}

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
	act_flag_status *fs = cJSON_IsString(name) ? find(s->f, name->valuestring) : NULL;
	if (fs && (!cJSON_IsString(file) || strcmp(file->valuestring, s->file) == 0)) {
		free(fs->last_set);
		free(fs->last_set_by);
		fs->last_set = cJSON_IsString(nv) ? xstrdup(nv->valuestring) : NULL;
		fs->last_set_by = xstrdup(ev->operator_name ? ev->operator_name : "");
		fs->last_set_at = ev->ts;
		if (cJSON_IsString(sha) && sha->valuestring[0]) {
			free(s->last_sha);
			s->last_sha = xstrdup(sha->valuestring);
		}
	}
	cJSON_Delete(o);
	return 0;
}

bool act_flag_declared(const config *cfg, const runbook *rb, const char *name)
{
	return act_is_declared_flag(cfg, rb, name);
}

static void add_flag(act_flags *f, const char *name)
{
	if (find(f, name))
		return;
	f->flags = xrealloc(f->flags, (f->n_flags + 1) * sizeof *f->flags);
	act_flag_status *fs = &f->flags[f->n_flags++];
	memset(fs, 0, sizeof *fs);
	fs->name = xstrdup(name);
}

int act_flags_read(const config *cfg, const runbook *rb, state *st, act_flags **out, pgc_err *e)
{
	if (!cfg || !cfg->env_file)
		return pgc_fail(e, PGC_EXIT_CONFIG, "the config names no env_file");
	envfile *ef;
	if (envfile_load(cfg->env_file, &ef, e) < 0)
		return -1;
	act_flags *f = xcalloc(1, sizeof *f);
	f->file = xstrdup(cfg->env_file);
	f->stamp = ef->stamp;
	for (size_t i = 0; i < cfg->n_flags; i++)
		add_flag(f, cfg->flags[i]);
	for (size_t p = 0; rb && p < rb->n_phases; p++)
		for (size_t i = 0; i < rb->phases[p].n_flag_edits; i++)
			add_flag(f, rb->phases[p].flag_edits[i].name);
	flag_scan scan = {.file = cfg->env_file, .f = f};
	if (st && state_foreach_kind(st, EV_FLAG_SET, 0, scan_flag_set, &scan, e) < 0) {
		envfile_free(ef);
		free(scan.last_sha);
		act_flags_free(f);
		return -1;
	}
	f->file_changed_behind_back = scan.last_sha && ef->stamp.exists &&
	                              strcmp(scan.last_sha, ef->stamp.sha256) != 0;
	free(scan.last_sha);
	for (size_t i = 0; i < f->n_flags; i++) {
		act_flag_status *fs = &f->flags[i];
		const char *v = envfile_get(ef, fs->name);
		bool secret = envfile_name_is_secret(fs->name);
		fs->value = v ? (secret ? xstrdup(ACT_MASK) : act_sanitize(v, strlen(v))) : NULL;
		/* A secret's value is recorded as ***: it cannot be compared. */
		fs->changed_behind_back = fs->last_set && !secret && (!v || strcmp(v, fs->last_set) != 0);
		if (fs->last_set) {
			char *s = act_sanitize(fs->last_set, strlen(fs->last_set));
			free(fs->last_set);
			fs->last_set = s;
		}
	}
	envfile_free(ef);
	*out = f;
	return 0;
}

void act_flags_free(act_flags *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_flags; i++) {
		free(f->flags[i].name);
		free(f->flags[i].value);
		free(f->flags[i].last_set);
		free(f->flags[i].last_set_by);
	}
	free(f->flags);
	free(f->file);
	free(f);
}

static void add_opt_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

char *act_flags_json(const act_flags *f)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "file", f->file);
	cJSON_AddBoolToObject(root, "exists", f->stamp.exists);
	add_opt_str(root, "sha256", f->stamp.exists ? f->stamp.sha256 : NULL);
	cJSON_AddBoolToObject(root, "file_changed_behind_back", f->file_changed_behind_back);
	cJSON *arr = cJSON_AddArrayToObject(root, "flags");
	for (size_t i = 0; i < f->n_flags; i++) {
		const act_flag_status *fs = &f->flags[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", fs->name);
		add_opt_str(x, "value", fs->value);
		add_opt_str(x, "last_set", fs->last_set);
		char ts[32];
		if (fs->last_set_at > 0)
			pgc_iso8601(fs->last_set_at, ts, sizeof ts);
		add_opt_str(x, "last_set_at", fs->last_set_at > 0 ? ts : NULL);
		add_opt_str(x, "last_set_by", fs->last_set_by);
		cJSON_AddBoolToObject(x, "changed_behind_back", fs->changed_behind_back);
		cJSON_AddItemToArray(arr, x);
	}
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *ret = xstrdup(s);
	cJSON_free(s);
	return ret;
}
