/*
 * evpay.c -- the event payloads (see evpay.h): per kind, the writer that
 * spells its JSON text and the reader that gives its fields back.  Core
 * modules (action, rollback, compare, health, lease, rehearsal) hand these
 * their typed records instead of building JSON themselves; the console,
 * the export, the notifier and the post-mortem read through the readers.
 * Every reader tolerates a missing payload, a non-object and a field of
 * the wrong type: the log is years of events written by older versions.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/evpay.h"
#include "pgcutover/util.h"

/* Latency is recorded in tenths of a millisecond. */
#define EVPAY_LATENCY_TENTHS 10
#define EVPAY_SECONDS_PER_MINUTE 60.0
#define EVP_TIME_MAX 40   /* an ISO-8601 time */
#define EVP_SUBSECOND 0.1  /* below it a duration gets milliseconds */

static cJSON *parse(const char *payload)
{
	return payload ? cJSON_Parse(payload) : NULL;
}

static char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}


char *evp_json_text(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

void evp_json_add_clean(cJSON *o, const char *k, const act_masker *m, const char *v)
{
	if (!v) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	char *c = act_masker_clean(m, v);
	cJSON_AddStringToObject(o, k, c);
	free(c);
}

void evp_json_add_flag_value(cJSON *o, const char *k, const act_masker *m, const char *name, const char *v)
{
	if (v && envfile_name_is_secret(name))
		cJSON_AddStringToObject(o, k, ACT_MASK);
	else
		evp_json_add_clean(o, k, m, v);
}

static double num_field(const cJSON *o, const char *key, double absent)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : absent;
}

/* ---- the operator's kinds (ops.c): tick, untick, note, phase_complete,
 * phase_override, downtime, duty_done, session, runbook_loaded/changed ---- */

/* Only a non-empty value is written. */
static void add_given(cJSON *o, const char *key, const char *val)
{
	if (val && *val)
		cJSON_AddStringToObject(o, key, val);
}

char *ops_payload_tick(const char *hash, const char *note)
{
	return ops_payload_tick_auto(hash, note, 0);
}

char *ops_payload_tick_auto(const char *hash, const char *note, int64_t start_id)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "hash", hash ? hash : "");
	add_given(o, "note", note);
	if (start_id > 0)
		cJSON_AddNumberToObject(o, "start_id", (double)start_id);
	return evp_json_text(o);
}

char *ops_payload_untick(const char *hash, const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "hash", hash ? hash : "");
	cJSON_AddStringToObject(o, "reason", reason ? reason : "");
	return evp_json_text(o);
}

char *ops_payload_note(const char *text, const char *hash)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", text ? text : "");
	add_given(o, "hash", hash);
	return evp_json_text(o);
}

char *ops_payload_phase_complete(int done, int total, const char *gate, bool gate_overridden)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "done", done);
	cJSON_AddNumberToObject(o, "total", total);
	add_given(o, gate_overridden ? "gate_overridden" : "gate", gate);
	return evp_json_text(o);
}

char *ops_payload_phase_override(const char *reason, const char *item, const char *open_phase,
                                 const char *gate)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", reason ? reason : "");
	add_given(o, "item", item);
	add_given(o, "open_phase", open_phase);
	add_given(o, "gate", gate);
	return evp_json_text(o);
}

char *ops_payload_downtime_start(const char *reason, int plan_min)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", reason ? reason : "explicit");
	if (plan_min >= 0)
		cJSON_AddNumberToObject(o, "planned_s", plan_min * EVPAY_SECONDS_PER_MINUTE);
	return evp_json_text(o);
}

char *ops_payload_downtime_end(double elapsed_s, int plan_min, bool over)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "elapsed_s", (double)(long)elapsed_s);
	if (plan_min >= 0)
		cJSON_AddNumberToObject(o, "planned_s", plan_min * EVPAY_SECONDS_PER_MINUTE);
	cJSON_AddBoolToObject(o, "over", over);
	return evp_json_text(o);
}

char *ops_payload_duty_done(const char *hash, const char *note)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "hash", hash ? hash : "");
	add_given(o, "note", note);
	return evp_json_text(o);
}

char *ops_payload_session_start(const char *mode)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", mode ? mode : "console");
	return evp_json_text(o);
}

char *ops_payload_session_end(const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", reason ? reason : "");
	return evp_json_text(o);
}

/* {"sha256":..,"path":..,"items":[[id,hash],..]} for runbook_loaded. */
char *ops_payload_runbook_loaded(const runbook *rb, const lg_item_ref *refs, size_t n)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "sha256", rb->sha256);
	char *abs = rb->path ? realpath(rb->path, NULL) : NULL;
	cJSON_AddStringToObject(root, "path", abs ? abs : rb->path ? rb->path : "");
	free(abs);
	cJSON_AddNumberToObject(root, "phases", (double)rb->n_phases);
	cJSON *items = cJSON_AddArrayToObject(root, "items");
	for (size_t i = 0; i < n; i++) {
		cJSON *pair = cJSON_CreateArray();
		cJSON_AddItemToArray(pair, cJSON_CreateString(refs[i].id));
		cJSON_AddItemToArray(pair, cJSON_CreateString(refs[i].hash));
		cJSON_AddItemToArray(items, pair);
	}
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

void evr_op_read(const char *payload, evr_op *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->hash = str_field(o, "hash");
	out->note = str_field(o, "note");
	out->text = str_field(o, "text");
	out->reason = str_field(o, "reason");
	out->status = str_field(o, "status");
	out->gate_overridden = str_field(o, "gate_overridden");
	out->elapsed_s = num_field(o, "elapsed_s", -1);
	out->planned_s = num_field(o, "planned_s", -1);
	cJSON_Delete(o);
}

void evr_op_free(evr_op *o)
{
	free(o->hash);
	free(o->note);
	free(o->text);
	free(o->reason);
	free(o->status);
	free(o->gate_overridden);
	memset(o, 0, sizeof *o);
}

int ops_read_runbook_loaded(const char *payload, char **path, char sha256[65])
{
	*path = NULL;
	sha256[0] = '\0';
	cJSON *pl = parse(payload);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(pl, "path"),
	            *s = cJSON_GetObjectItemCaseSensitive(pl, "sha256");
	int rc = 0;
	if (cJSON_IsString(p) && *p->valuestring) {
		*path = xstrdup(p->valuestring);
		snprintf(sha256, 65, "%s", cJSON_IsString(s) ? s->valuestring : "");
		rc = 1;
	}
	cJSON_Delete(pl);
	return rc;
}

int ops_read_runbook_items(const char *payload_json, lg_item_ref **refs, size_t *n, pgc_err *e)
{
	*refs = NULL;
	*n = 0;
	cJSON *root = parse(payload_json);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (!cJSON_IsArray(items)) {
		cJSON_Delete(root);
		return pgc_fail(e, PGC_EXIT_DATAERR, "runbook_loaded event without an items list");
	}
	size_t cap = (size_t)cJSON_GetArraySize(items);
	*refs = xcalloc(cap ? cap : 1, sizeof **refs);
	const cJSON *pair;
	cJSON_ArrayForEach(pair, items) {
		const cJSON *id = cJSON_GetArrayItem(pair, 0), *hash = cJSON_GetArrayItem(pair, 1);
		if (!cJSON_IsString(id) || !cJSON_IsString(hash))
			continue;
		snprintf((*refs)[*n].id, sizeof (*refs)[*n].id, "%s", id->valuestring);
		snprintf((*refs)[*n].hash, sizeof (*refs)[*n].hash, "%s", hash->valuestring);
		(*n)++;
	}
	cJSON_Delete(root);
	return 0;
}

void ops_read_runbook_sha256(const char *payload, char sha256[65])
{
	cJSON *pl = parse(payload);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(pl, "sha256");
	snprintf(sha256, 65, "%s", cJSON_IsString(s) ? s->valuestring : "");
	cJSON_Delete(pl);
}

char *ops_runbook_loaded_brief(const st_event *ev)
{
	if (strcmp(ev->kind, EV_RUNBOOK_LOADED) != 0)
		return NULL;
	cJSON *pl = parse(ev->payload);
	cJSON *items = cJSON_GetObjectItemCaseSensitive(pl, "items");
	if (!cJSON_IsArray(items)) {
		cJSON_Delete(pl);
		return NULL;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(pl, "items", cJSON_CreateNumber(cJSON_GetArraySize(items)));
	return evp_json_text(pl);
}

/* The diff's JSON with from/to sha256 added. */
char *ops_payload_runbook_changed(const lg_runbook_diff *d, const char *from, const char *to)
{
	char *diff = ledger_diff_json(d);
	cJSON *root = cJSON_Parse(diff);
	free(diff);
	cJSON_AddStringToObject(root, "from_sha256", from);
	cJSON_AddStringToObject(root, "to_sha256", to);
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

/* ---- command_start ---- */

char *evp_command_start_write(const act_plan *plan, const act_masker *m)
{
	cJSON *o = cJSON_CreateObject();
	evp_json_add_clean(o, "command", m, plan->command);
	cJSON_AddStringToObject(o, "shell", plan->shell);
	evp_json_add_clean(o, "workdir", m, plan->workdir);
	cJSON_AddNumberToObject(o, "timeout_s", plan->timeout_s);
	cJSON_AddNumberToObject(o, "segments", (double)plan->n_segs);
	cJSON *flags = cJSON_AddArrayToObject(o, "flags");
	for (size_t i = 0; i < plan->n_segs; i++)
		if (plan->segs[i].kind == ACT_SEG_FLAG)
			cJSON_AddItemToArray(flags, cJSON_CreateString(plan->segs[i].name));
	cJSON *vars = cJSON_AddObjectToObject(o, "vars");
	for (size_t i = 0; i < plan->n_vars; i++) {
		if (envfile_name_is_secret(plan->vars[i].name))
			cJSON_AddStringToObject(vars, plan->vars[i].name, ACT_MASK);
		else
			evp_json_add_clean(vars, plan->vars[i].name, m, plan->vars[i].value);
	}
	if (plan->item_hash[0])
		cJSON_AddStringToObject(o, "item_hash", plan->item_hash);
	cJSON_AddBoolToObject(o, "rollback", plan->rollback);
	return evp_json_text(o);
}

void evr_command_start_read(const char *payload, evr_command_start *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->command = str_field(o, "command");
	out->item_hash = str_field(o, "item_hash");
	out->rollback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "rollback"));
	cJSON_Delete(o);
}

void evr_command_start_free(evr_command_start *c)
{
	free(c->command);
	free(c->item_hash);
	memset(c, 0, sizeof *c);
}

/* ---- command_end ---- */

char *evp_command_end_write(const act_result *res, const char *output_head, const char *output_tail,
                            const act_masker *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "start_id", (double)res->start_event_id);
	cJSON_AddStringToObject(o, "status", act_status_name(res->status));
	if (res->status == ACT_ERROR)
		cJSON_AddNullToObject(o, "exit");
	else
		cJSON_AddNumberToObject(o, "exit", res->exit_code);
	cJSON_AddNumberToObject(o, "signal", res->signal);
	if (res->signal)
		cJSON_AddStringToObject(o, "signal_name", sigabbrev_np(res->signal) ? sigabbrev_np(res->signal) : "?");
	cJSON_AddNumberToObject(o, "duration_s", res->duration_s);
	evp_json_add_clean(o, "output_head", m, output_head);
	evp_json_add_clean(o, "output_tail", m, output_tail);
	cJSON_AddNumberToObject(o, "output_bytes", (double)res->output_bytes);
	cJSON_AddBoolToObject(o, "truncated", res->truncated);
	cJSON_AddNumberToObject(o, "segment", res->failed_segment);
	if (res->error[0])
		evp_json_add_clean(o, "error", m, res->error);
	return evp_json_text(o);
}

void evr_command_end_read(const char *payload, evr_command_end *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(o, "start_id"),
	            *ex = cJSON_GetObjectItemCaseSensitive(o, "exit"),
	            *dur = cJSON_GetObjectItemCaseSensitive(o, "duration_s");
	if (cJSON_IsNumber(sid))
		out->start_id = (int64_t)sid->valuedouble;
	if (cJSON_IsNumber(ex)) {
		out->has_exit = true;
		out->exit_code = ex->valueint;
	}
	if (cJSON_IsNumber(dur)) {
		out->has_duration = true;
		out->duration_s = dur->valuedouble;
	}
	out->status = str_field(o, "status");
	out->output_head = str_field(o, "output_head");
	out->output_tail = str_field(o, "output_tail");
	out->error = str_field(o, "error");
	cJSON_Delete(o);
}

void evr_command_end_free(evr_command_end *c)
{
	free(c->status);
	free(c->output_head);
	free(c->output_tail);
	free(c->error);
	memset(c, 0, sizeof *c);
}

/* ---- command_unknown ---- */

char *evp_command_unknown_write(int64_t start_id, int pid, const char *host, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "start_id", (double)start_id);
	cJSON_AddNumberToObject(o, "pid", pid);
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddStringToObject(o, "message", message);
	return evp_json_text(o);
}

int64_t evp_command_closes(const char *payload)
{
	cJSON *o = parse(payload);
	int64_t id = (int64_t)num_field(o, "start_id", 0);
	cJSON_Delete(o);
	return id;
}

/* ---- flag_set ---- */

char *evp_flag_set_write(const evp_flag_set *f, const act_masker *m)
{
	const envfile_set_result *sr = f->sr;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", f->name);
	evp_json_add_flag_value(o, "old", m, f->name, sr->old_value);
	evp_json_add_flag_value(o, "new", m, f->name, sr->new_value);
	evp_json_add_clean(o, "file", m, f->file);
	evp_json_add_clean(o, "backup", m, sr->backup_path);
	cJSON_AddBoolToObject(o, "changed", sr->changed);
	cJSON_AddStringToObject(o, "sha256", sr->after.sha256);
	if (f->new_hmac)
		cJSON_AddStringToObject(o, "new_hmac", f->new_hmac);
	cJSON_AddNumberToObject(o, "start_id", (double)f->start_id);
	cJSON_AddBoolToObject(o, "rollback", f->rollback);
	if (f->manual)
		cJSON_AddBoolToObject(o, "manual", true);
	return evp_json_text(o);
}

void evr_flag_set_read(const char *payload, evr_flag_set *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->name = str_field(o, "name");
	out->old_value = str_field(o, "old");
	out->new_value = str_field(o, "new");
	out->file = str_field(o, "file");
	out->sha256 = str_field(o, "sha256");
	out->new_hmac = str_field(o, "new_hmac");
	out->rollback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "rollback"));
	cJSON_Delete(o);
}

void evr_flag_set_free(evr_flag_set *f)
{
	free(f->name);
	free(f->old_value);
	free(f->new_value);
	free(f->file);
	free(f->sha256);
	free(f->new_hmac);
	memset(f, 0, sizeof *f);
}

char *evr_flag_set_new(const char *payload)
{
	cJSON *o = parse(payload);
	char *v = str_field(o, "new");
	cJSON_Delete(o);
	return v;
}

/* ---- flag_drift ---- */

char *evp_flag_drift_write(const evp_flag_drift *d, const act_masker *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", d->name);
	evp_json_add_clean(o, "file", m, d->file);
	evp_json_add_flag_value(o, "value", m, d->name, d->value);
	cJSON_AddBoolToObject(o, "absent", d->value == NULL);
	evp_json_add_flag_value(o, "last_set", m, d->name, d->last_set);
	if (d->hmac)
		cJSON_AddStringToObject(o, "hmac", d->hmac);
	if (d->sha256)
		cJSON_AddStringToObject(o, "sha256", d->sha256);
	evp_json_add_clean(o, "noticed_by", m, d->noticed_by);
	return evp_json_text(o);
}

void evr_flag_drift_read(const char *payload, evr_flag_drift *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->name = str_field(o, "name");
	out->file = str_field(o, "file");
	out->value = str_field(o, "value");
	out->last_set = str_field(o, "last_set");
	out->hmac = str_field(o, "hmac");
	out->noticed_by = str_field(o, "noticed_by");
	out->absent = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "absent"));
	cJSON_Delete(o);
}

void evr_flag_drift_free(evr_flag_drift *d)
{
	free(d->name);
	free(d->file);
	free(d->value);
	free(d->last_set);
	free(d->hmac);
	free(d->noticed_by);
	memset(d, 0, sizeof *d);
}

char *evr_flag_drift_key(const char *hmac, bool absent, const char *value)
{
	if (hmac && *hmac)
		return xasprintf("h:%s", hmac);
	if (absent || !value)
		return xstrdup("absent");
	return xasprintf("v:%s", value);
}

/* ---- phase_rolled_back ---- */

static void add_flag_str(cJSON *o, const char *k, const char *name, const char *v)
{
	if (!v) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	char *s = act_flag_shown(NULL, name, v, "");   /* a URL's password masked too */
	cJSON_AddStringToObject(o, k, s);
	free(s);
}

cJSON *evp_rollback_restores(const act_rollback *rb, const char *from_key, const char *to_key)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; rb->restore && i < rb->restore->n_segs; i++) {
		const act_segment *s = &rb->restore->segs[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", s->name);
		add_flag_str(x, from_key, s->name, s->old_value);
		add_flag_str(x, to_key, s->name, s->value);
		cJSON_AddItemToArray(arr, x);
	}
	return arr;
}

static cJSON *step_results_json(const act_rollback *rb, const act_result *step_results, size_t n)
{
	cJSON *steps = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "item", rb->steps[i]->item_id);
		if (step_results) {
			cJSON_AddNumberToObject(x, "start_id", (double)step_results[i].start_event_id);
			cJSON_AddStringToObject(x, "status", act_status_name(step_results[i].status));
			cJSON_AddNumberToObject(x, "exit", act_result_exit(&step_results[i]));
		}
		cJSON_AddItemToArray(steps, x);
	}
	return steps;
}

char *evp_rolled_back_write(const act_rollback *rb, const act_result *step_results)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "restored", evp_rollback_restores(rb, "from", "to"));
	cJSON_AddItemToObject(o, "steps", step_results_json(rb, step_results, rb->n_steps));
	cJSON_AddBoolToObject(o, "past_point_of_no_return", rb->past_point_of_no_return);
	if (rb->past_point_of_no_return && rb->rows_gained >= 0) {
		cJSON_AddNumberToObject(o, "rows_gained", (double)rb->rows_gained);
		cJSON_AddBoolToObject(o, "rows_gained_exact", rb->rows_gained_exact);
	}
	return evp_json_text(o);
}

void evr_rolled_back_read(const char *payload, evr_rolled_back *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->past_point_of_no_return = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "past_point_of_no_return"));
	out->rows_gained = (int64_t)num_field(o, "rows_gained", -1);
	out->rows_gained_exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "rows_gained_exact"));
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "restored");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "steps");
	out->n_restored = cJSON_IsArray(r) ? (size_t)cJSON_GetArraySize(r) : 0;
	out->n_steps = cJSON_IsArray(s) ? (size_t)cJSON_GetArraySize(s) : 0;
	cJSON_Delete(o);
}

char *evp_rollback_failed_write(const act_rollback *rb, const char *failed_at, const act_result *failed,
                                const act_result *step_results, size_t n_steps_ran,
                                const char *const *restored, size_t n_restored)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "failed_at", failed_at);
	cJSON_AddStringToObject(o, "status", act_status_name(failed->status));
	cJSON_AddNumberToObject(o, "exit", act_result_exit(failed));
	if (failed->error[0])
		cJSON_AddStringToObject(o, "error", failed->error);
	cJSON *r = cJSON_AddArrayToObject(o, "restored");
	for (size_t i = 0; i < n_restored; i++)
		cJSON_AddItemToArray(r, cJSON_CreateString(restored[i]));
	cJSON_AddNumberToObject(o, "flags", rb->restore ? (double)rb->restore->n_segs : 0);
	cJSON_AddItemToObject(o, "steps", step_results_json(rb, step_results, n_steps_ran));
	return evp_json_text(o);
}

void evr_rollback_failed_read(const char *payload, evr_rollback_failed *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->failed_at = str_field(o, "failed_at");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "restored");
	out->n_restored = cJSON_IsArray(r) ? (size_t)cJSON_GetArraySize(r) : 0;
	double nf = num_field(o, "flags", 0);
	out->n_flags = nf > 0 ? (size_t)nf : 0;
	cJSON_Delete(o);
}

void evr_rollback_failed_free(evr_rollback_failed *f)
{
	free(f->failed_at);
	f->failed_at = NULL;
}

/* ---- counts ---- */

static void add_rows(cJSON *o, const char *key, int64_t rows)
{
	if (rows >= 0)
		cJSON_AddNumberToObject(o, key, (double)rows);
	else
		cJSON_AddNullToObject(o, key);
}

char *evp_counts_write(const cmp_rec *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddBoolToObject(root, "match", r->match);
	cJSON_AddBoolToObject(root, "exact", r->exact);
	cJSON *arr = cJSON_AddArrayToObject(root, "tables");
	for (size_t i = 0; i < r->n_tables; i++) {
		const cmp_rec_table *t = &r->tables[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "table", t->table);
		add_rows(o, "source", t->source);
		add_rows(o, "target", t->target);
		cJSON_AddBoolToObject(o, "exact", t->exact);
		cJSON_AddBoolToObject(o, "match", t->match);
		cJSON_AddStringToObject(o, "state", t->state ? t->state : "");
		cJSON_AddItemToArray(arr, o);
	}
	return evp_json_text(root);
}

static int64_t cmp_rec_count(const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "count");
		v = c ? c : cJSON_GetObjectItemCaseSensitive(v, "rows");
	}
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static void cmp_rec_add(cmp_rec *r, const char *name, const cJSON *t)
{
	r->tables = xrealloc(r->tables, (r->n_tables + 1) * sizeof *r->tables);
	cmp_rec_table *rt = &r->tables[r->n_tables++];
	memset(rt, 0, sizeof *rt);
	rt->table = xstrdup(name);
	rt->source = cmp_rec_count(cJSON_GetObjectItemCaseSensitive(t, "source"));
	rt->target = cmp_rec_count(cJSON_GetObjectItemCaseSensitive(t, "target"));
	rt->exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "exact"));
	rt->match = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "match"));
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(t, "state");
	rt->state = cJSON_IsString(st) ? xstrdup(st->valuestring) : NULL;
}

int cmp_rec_read(const char *payload_json, cmp_rec *out)
{
	memset(out, 0, sizeof *out);
	cJSON *root = payload_json ? cJSON_Parse(payload_json) : NULL;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -1;
	}
	out->match = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "match"));
	out->exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "exact"));
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
	out->summary = cJSON_IsString(sum) ? xstrdup(sum->valuestring) : NULL;
	const cJSON *tables = cJSON_GetObjectItemCaseSensitive(root, "tables"), *t;
	if (cJSON_IsArray(tables)) {
		out->has_tables = true;
		cJSON_ArrayForEach(t, tables) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "table");
			if (!cJSON_IsString(name))
				name = cJSON_GetObjectItemCaseSensitive(t, "name");
			if (cJSON_IsString(name))
				cmp_rec_add(out, name->valuestring, t);
		}
	} else if (!tables) {
		/* the oldest shape: {"clients": {"source": .., "target": ..}, ..} */
		cJSON_ArrayForEach(t, root) {
			if (cJSON_IsObject(t) && t->string) {
				out->has_tables = true;
				cmp_rec_add(out, t->string, t);
			}
		}
	}
	cJSON_Delete(root);
	return 0;
}

void cmp_rec_free(cmp_rec *r)
{
	for (size_t i = 0; i < r->n_tables; i++) {
		free(r->tables[i].table);
		free(r->tables[i].state);
	}
	free(r->tables);
	free(r->summary);
	memset(r, 0, sizeof *r);
}

const cmp_rec_table *cmp_rec_find(const cmp_rec *r, const char *table)
{
	const cmp_rec_table *found = NULL;
	for (size_t i = 0; i < r->n_tables; i++)
		if (strcmp(r->tables[i].table, table) == 0)
			found = &r->tables[i];   /* the last one, as a JSON object would say */
	return found;
}

/* ---- health ---- */

char *evp_health_write(const hc_check *c, const hc_result *r, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "all_ok", hc_all_ok(r, n));
	cJSON *arr = cJSON_AddArrayToObject(o, "checks");
	for (size_t i = 0; i < n; i++) {
		cJSON *x = cJSON_CreateObject();
		char *name = pgc_sanitize(c[i].name);
		char *masked = act_masker_apply(NULL, c[i].url);   /* user:password@ in a URL */
		char *url = pgc_sanitize(masked);
		free(masked);
		cJSON_AddStringToObject(x, "name", name);
		cJSON_AddStringToObject(x, "url", url);
		free(name);
		free(url);
		if (c[i].item[0])
			cJSON_AddStringToObject(x, "item", c[i].item);
		else
			cJSON_AddNullToObject(x, "item");
		cJSON_AddBoolToObject(x, "ok", r[i].ok);
		cJSON_AddNumberToObject(x, "status", (double)r[i].status);
		cJSON_AddNumberToObject(x, "latency_ms",
		                        (double)(long)(r[i].latency_ms * EVPAY_LATENCY_TENTHS) / EVPAY_LATENCY_TENTHS);
		cJSON_AddNumberToObject(x, "expect_status", c[i].expect_status);
		if (c[i].expect_body) {
			char *eb = pgc_sanitize(c[i].expect_body);
			cJSON_AddStringToObject(x, "expect_body", eb);
			free(eb);
		} else {
			cJSON_AddNullToObject(x, "expect_body");
		}
		cJSON_AddBoolToObject(x, "body_matched", r[i].body_matched);
		if (r[i].ok)
			cJSON_AddNullToObject(x, "error");
		else {
			char *er = pgc_sanitize(r[i].error);
			cJSON_AddStringToObject(x, "error", er);
			free(er);
		}
		cJSON_AddItemToArray(arr, x);
	}
	return evp_json_text(o);
}

void evr_health_read(const char *payload, evr_health *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(o, "checks"), *c;
	strbuf failing;
	sb_init(&failing);
	if (cJSON_IsArray(checks)) {
		cJSON_ArrayForEach(c, checks) {
			out->n_checks++;
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok"))) {
				out->n_ok++;
			} else {
				const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
				sb_printf(&failing, "%s%s", failing.len ? ", " : "",
				          cJSON_IsString(name) ? name->valuestring : "?");
			}
		}
	}
	out->failing = sb_steal(&failing);
	cJSON_Delete(o);
}

void evr_health_free(evr_health *h)
{
	free(h->failing);
	memset(h, 0, sizeof *h);
}

/* ---- verify ---- */

char *evp_verify_write(const vfy_session *vs)
{
	return evp_json_text(vfy_result_json(vs, VFY_KEYS_RECORDED));
}

/* A range bound: an array of key texts, NULL (open) for anything else. */
static char **verify_bound(const cJSON *a, size_t *n)
{
	*n = 0;
	if (!cJSON_IsArray(a))
		return NULL;
	char **v = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *v);
	const cJSON *x;
	cJSON_ArrayForEach(x, a)
		v[(*n)++] = xstrdup(cJSON_IsString(x) ? x->valuestring : "");
	return v;
}

static void verify_bound_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void evr_verify_read(const char *payload, evr_verify *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->equal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "equal"));
	out->complete = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "complete"));
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(o, "summary");
	if (cJSON_IsString(sum))
		out->summary = xstrdup(sum->valuestring);
	const cJSON *tabs = cJSON_GetObjectItemCaseSensitive(o, "tables"), *t;
	if (cJSON_IsArray(tabs)) {
		out->tables = xcalloc((size_t)cJSON_GetArraySize(tabs) + 1, sizeof *out->tables);
		cJSON_ArrayForEach(t, tabs) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "table");
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(t, "state");
			if (!cJSON_IsString(name))
				continue;
			evr_verify_table *vt = &out->tables[out->n_tables++];
			vt->table = xstrdup(name->valuestring);
			vt->equal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "equal"));
			vt->state = cJSON_IsString(st) ? xstrdup(st->valuestring) : NULL;
			const cJSON *rs = cJSON_GetObjectItemCaseSensitive(t, "ranges"), *r;
			if (!cJSON_IsArray(rs))
				continue;
			vt->ranges = xcalloc((size_t)cJSON_GetArraySize(rs) + 1, sizeof *vt->ranges);
			cJSON_ArrayForEach(r, rs) {
				evr_verify_range *vr = &vt->ranges[vt->n_ranges++];
				vr->lo = verify_bound(cJSON_GetObjectItemCaseSensitive(r, "lo"), &vr->n_lo);
				vr->hi = verify_bound(cJSON_GetObjectItemCaseSensitive(r, "hi"), &vr->n_hi);
				const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "bounds");
				vr->page = cJSON_IsString(b) && strcmp(b->valuestring, "(]") == 0;
			}
		}
	}
	cJSON_Delete(o);
}

void evr_verify_free(evr_verify *v)
{
	for (size_t i = 0; i < v->n_tables; i++) {
		free(v->tables[i].table);
		free(v->tables[i].state);
		for (size_t r = 0; r < v->tables[i].n_ranges; r++) {
			verify_bound_free(v->tables[i].ranges[r].lo, v->tables[i].ranges[r].n_lo);
			verify_bound_free(v->tables[i].ranges[r].hi, v->tables[i].ranges[r].n_hi);
		}
		free(v->tables[i].ranges);
	}
	free(v->tables);
	free(v->summary);
	memset(v, 0, sizeof *v);
}

/* ---- lease ---- */

char *evp_lease_write(const char *command, double held_s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "command", command);
	if (held_s >= 0)
		cJSON_AddNumberToObject(root, "held_s", (double)(long)held_s);
	return evp_json_text(root);
}

char *evp_lease_takeover_write(const lease_info *li, const char *reason, bool automatic)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "reason", reason);
	cJSON_AddBoolToObject(root, "automatic", automatic);
	cJSON *from = cJSON_AddObjectToObject(root, "from");
	cJSON_AddStringToObject(from, "operator", li->operator_name);
	cJSON_AddStringToObject(from, "host", li->host);
	cJSON_AddNumberToObject(from, "pid", li->pid);
	cJSON_AddStringToObject(from, "command", li->command);
	cJSON_AddNumberToObject(from, "acquired_at", li->acquired_at);
	cJSON_AddNumberToObject(from, "heartbeat_at", li->heartbeat_at);
	if (li->started > 0)
		cJSON_AddNumberToObject(from, "started", (double)li->started);
	return evp_json_text(root);
}

void evr_lease_read(const char *payload, evr_lease *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "from");
	out->held_s = num_field(o, "held_s", -1);
	out->reason = str_field(o, "reason");
	out->automatic = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "automatic"));
	out->command = str_field(cJSON_IsObject(from) ? from : o, "command");
	out->from_operator = str_field(from, "operator");
	out->from_host = str_field(from, "host");
	out->from_pid = (int)num_field(from, "pid", 0);
	cJSON_Delete(o);
}

void evr_lease_free(evr_lease *l)
{
	free(l->command);
	free(l->reason);
	free(l->from_operator);
	free(l->from_host);
	memset(l, 0, sizeof *l);
}

/* ---- rehearsal ---- */

char *evp_rehearsal_write(const config *cfg, const char *note)
{
	cJSON *pl = cJSON_CreateObject();
	cJSON_AddStringToObject(pl, "note", note ? note : "");
	char *raw = evp_json_text(pl);
	char *s = act_mask_payload(cfg, raw);   /* the note may quote a secret */
	free(raw);
	return s;
}

char *evr_rehearsal_note(const char *payload)
{
	cJSON *o = parse(payload);
	char *v = str_field(o, "note");
	cJSON_Delete(o);
	return v;
}

/* ---- any kind ---- */

char *evr_why(const char *payload)
{
	static const char *const keys[] = {"reason", "text", "note", "mode", "message"};
	strbuf sb;
	sb_init(&sb);
	cJSON *o = parse(payload);
	for (size_t i = 0; o && i < sizeof keys / sizeof keys[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
		if (cJSON_IsString(v) && v->valuestring[0])
			sb_printf(&sb, "  %s: %s", keys[i], v->valuestring);
	}
	cJSON_Delete(o);
	return sb_steal(&sb);
}

void evp_brief_duration(double s, char *buf, size_t n)
{
	if (s < 0)
		snprintf(buf, n, "?");
	else if (s < EVP_SUBSECOND)   /* a command that fails at once: 0.009s, not 0.0s */
		snprintf(buf, n, "%.3fs", s);
	else if (s < EVPAY_SECONDS_PER_MINUTE)
		snprintf(buf, n, "%.1fs", s);
	else
		snprintf(buf, n, "%ldm%02lds", (long)(s / EVPAY_SECONDS_PER_MINUTE), (long)s % 60);
}

/* " exit 127 (0.4s)", " timed_out exit 137 (30.0s)": a command_end. */
static void command_end_brief(strbuf *sb, const char *payload)
{
	evr_command_end ce;
	evr_command_end_read(payload, &ce);
	if (ce.status && strcmp(ce.status, "ok") != 0 && strcmp(ce.status, "failed") != 0)
		sb_printf(sb, " %s", ce.status);
	if (ce.has_exit)
		sb_printf(sb, " exit %d", ce.exit_code);
	if (ce.has_duration) {
		char d[EVP_DURATION_MAX];
		evp_brief_duration(ce.duration_s, d, sizeof d);
		sb_printf(sb, " (%s)", d);
	}
	if (ce.error && ce.error[0])
		sb_printf(sb, "  error: %s", ce.error);
	evr_command_end_free(&ce);
}

/* ---- sequences_synced ---- */

static void seq_add_int(cJSON *o, const char *key, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	cJSON_AddRawToObject(o, key, buf);
}

static void seq_add_side(cJSON *o, const char *key, const seq_side *s, bool owned)
{
	if (!s->present) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	cJSON *so = cJSON_AddObjectToObject(o, key);
	if (s->called)
		seq_add_int(so, "last_value", s->last_value);
	else
		cJSON_AddNullToObject(so, "last_value");
	seq_add_int(so, "max_value", s->max_value);
	if (owned && s->has_col_max)
		seq_add_int(so, "col_max", s->col_max);
	else
		cJSON_AddNullToObject(so, "col_max");
	seq_add_int(so, "headroom", s->headroom);
	cJSON_AddBoolToObject(so, "low", s->low);
	if (s->error)
		cJSON_AddStringToObject(so, "error", s->error);
	else
		cJSON_AddNullToObject(so, "error");
}

cJSON *evp_sequences_json(const seq_report *r)
{
	cJSON *root = cJSON_CreateObject();
	seq_add_int(root, "offset", r->offset);
	seq_add_int(root, "floor", r->floor);
	cJSON_AddNumberToObject(root, "behind", (double)r->n_behind);
	cJSON_AddNumberToObject(root, "low", (double)r->n_low);
	cJSON_AddNumberToObject(root, "unowned", (double)r->n_unowned);
	cJSON *a = cJSON_AddArrayToObject(root, "sequences");
	for (size_t i = 0; i < r->n; i++) {
		const seq_entry *s = &r->v[i];
		bool owned = s->kind != SEQ_UNOWNED;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "sequence", s->sequence);
		cJSON_AddStringToObject(o, "type", s->data_type);
		cJSON_AddStringToObject(o, "kind", seq_kind_name(s->kind));
		evp_json_add_clean(o, "table", NULL, s->table);
		evp_json_add_clean(o, "column", NULL, s->column);
		if (r->have_source)
			seq_add_side(o, "source", &s->src, owned);
		else
			cJSON_AddNullToObject(o, "source");
		seq_add_side(o, "target", &s->dst, owned);
		if (s->has_want)
			seq_add_int(o, "want", s->want);
		else
			cJSON_AddNullToObject(o, "want");
		cJSON_AddBoolToObject(o, "behind", s->behind);
		evp_json_add_clean(o, "statement", NULL, s->statement);
		evp_json_add_clean(o, "problem", NULL, s->problem);
		cJSON_AddItemToArray(a, o);
	}
	return root;
}

char *evp_sequences_write(const seq_report *r, size_t applied, const char *error)
{
	cJSON *o = evp_sequences_json(r);
	cJSON_AddNumberToObject(o, "applied", (double)applied);
	evp_json_add_clean(o, "error", NULL, error);
	return evp_json_text(o);
}

/* "3 set, offset 1000" or "FAILED after 1 of 3". */
static void sequences_brief(strbuf *sb, const char *payload)
{
	cJSON *o = parse(payload);
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(o, "applied");
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *sq = cJSON_GetObjectItemCaseSensitive(o, "sequences");
	int planned = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, sq)
		planned += cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "statement"));
	int applied = cJSON_IsNumber(ap) ? ap->valueint : 0;
	if (cJSON_IsString(er))
		sb_printf(sb, " FAILED after %d of %d set", applied, planned);
	else
		sb_printf(sb, " %d set", applied);
	cJSON_Delete(o);
}

/* ---- freeze ---- */

static void add_strv(cJSON *o, const char *key, char *const *v)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; v && v[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

char *evp_freeze_write(const frz_watch *w, const char *mode, const char *verdict, double now,
                       const char *error)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", mode);
	cJSON_AddStringToObject(o, "verdict", verdict);
	cJSON_AddStringToObject(o, "evidence", w->counts_only ? "counts" : "stats");
	cJSON_AddNumberToObject(o, "quiet_s", w->quiet_s);
	cJSON_AddNumberToObject(o, "watched_s", now - w->started);
	cJSON_AddNumberToObject(o, "quiet_for_s", frz_watch_quiet_for(w, now));
	cJSON_AddNumberToObject(o, "samples", (double)w->samples);
	cJSON_AddNumberToObject(o, "writes_seen", (double)w->writes_seen);
	evp_json_add_clean(o, "last_write", NULL, w->last_write_what[0] ? w->last_write_what : NULL);
	char *who = frz_watch_who(w, now);
	evp_json_add_clean(o, "who", NULL, who);
	free(who);
	cJSON_AddNumberToObject(o, "commits", (double)w->commits);
	cJSON *a = cJSON_AddArrayToObject(o, "written");
	for (size_t i = 0; i < w->n_written; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "table", w->written[i].table);
		cJSON_AddNumberToObject(t, "rows", (double)w->written[i].rows);
		cJSON_AddItemToArray(a, t);
	}
	a = cJSON_AddArrayToObject(o, "sessions");
	for (size_t i = 0; i < w->n_sessions; i++) {
		const frz_sessions *x = &w->sessions[i];
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "role", x->role);
		cJSON_AddStringToObject(t, "application_name", x->app);
		cJSON_AddStringToObject(t, "client", x->client);
		cJSON_AddNumberToObject(t, "count", x->count);
		cJSON_AddNumberToObject(t, "writing", x->writing);
		cJSON_AddBoolToObject(t, "ignored", x->ignored);
		cJSON_AddItemToArray(a, t);
	}
	add_strv(o, "ignore", w->ignore);
	cJSON_AddNumberToObject(o, "queries", (double)w->queries);
	cJSON_AddNumberToObject(o, "query_ms_mean", w->queries ? w->query_ms / (double)w->queries : 0);
	evp_json_add_clean(o, "error", NULL, error);
	return evp_json_text(o);
}

void evr_freeze_read(const char *payload, evr_freeze *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->verdict = str_field(o, "verdict");
	out->evidence = str_field(o, "evidence");
	out->who = str_field(o, "who");
	out->quiet_s = num_field(o, "quiet_s", 0);
	out->quiet_for_s = num_field(o, "quiet_for_s", 0);
	cJSON_Delete(o);
}

void evr_freeze_free(evr_freeze *f)
{
	free(f->verdict);
	free(f->evidence);
	free(f->who);
	memset(f, 0, sizeof *f);
}

char *evp_freeze_apply_write(char *const *roles, char *const *sql, size_t ran, const char *error)
{
	cJSON *o = cJSON_CreateObject();
	add_strv(o, "roles", roles);
	add_strv(o, "statements", sql);
	cJSON_AddNumberToObject(o, "ran", (double)ran);
	evp_json_add_clean(o, "error", NULL, error);
	return evp_json_text(o);
}

char **evr_freeze_roles(const char *payload)
{
	cJSON *o = parse(payload);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "roles");
	int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
	char **v = NULL;
	if (n > 0) {
		v = xcalloc((size_t)n + 1, sizeof *v);
		size_t k = 0;
		const cJSON *it;
		cJSON_ArrayForEach(it, a)
			if (cJSON_IsString(it))
				v[k++] = xstrdup(it->valuestring);
	}
	cJSON_Delete(o);
	return v;
}

/* "proven: quiet 30 s" or "write_seen: public.clients +3" */
static void freeze_brief(strbuf *sb, const char *payload)
{
	cJSON *o = parse(payload);
	char *v = str_field(o, "verdict"), *ev = str_field(o, "evidence"), *lw = str_field(o, "last_write");
	if (v && strcmp(v, "proven") == 0)
		sb_printf(sb, " proven: quiet %.0f s%s", num_field(o, "quiet_for_s", 0),
		          ev && strcmp(ev, "counts") == 0 ? " (counts only, weaker)" : "");
	else if (v)
		sb_printf(sb, " %s%s%s", v, lw ? ": " : "", lw ? lw : "");
	free(v);
	free(ev);
	free(lw);
	cJSON_Delete(o);
}

/* ---- go_board, go_decision ---- */

static void add_time(cJSON *o, const char *key, double ts)
{
	if (ts > 0)
		cJSON_AddNumberToObject(o, key, ts);
	else
		cJSON_AddNullToObject(o, key);
}

char *evp_go_board_write(const go_board *b)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "go", b->go);
	add_time(o, "at", b->at);
	add_time(o, "freeze_at", b->freeze_at);
	evp_json_add_clean(o, "switch_item", NULL, b->switch_item[0] ? b->switch_item : NULL);
	char *red = go_board_red_words(b);
	evp_json_add_clean(o, "red", NULL, red);
	free(red);
	cJSON *in = cJSON_AddObjectToObject(o, "inputs");
	for (int i = 0; i < GO_N_INPUTS; i++) {
		cJSON *x = cJSON_AddObjectToObject(in, go_input_key((go_input_id)i));
		cJSON_AddStringToObject(x, "status", go_status_name(b->in[i].status));
		evp_json_add_clean(x, "value", NULL, b->in[i].value);
		add_time(x, "measured_at", b->in[i].measured_at);
		cJSON_AddBoolToObject(x, "stale", b->in[i].stale);
	}
	return evp_json_text(o);
}

void evr_verdict_read(const char *payload, const char *ok_key, const char *words_key, evr_verdict *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, ok_key));
	out->words = str_field(o, words_key);
	cJSON_Delete(o);
}

void evr_verdict_free(evr_verdict *v)
{
	free(v->words);
	memset(v, 0, sizeof *v);
}

char *evp_go_decision_write(const char *reason, const char *why, int64_t board_event, const char *board_payload)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "decision", reason ? "override" : "go");
	evp_json_add_clean(o, "reason", NULL, reason);
	evp_json_add_clean(o, "why", NULL, why && why[0] ? why : NULL);
	if (board_event > 0)
		cJSON_AddNumberToObject(o, "board_event", (double)board_event);
	else
		cJSON_AddNullToObject(o, "board_event");
	cJSON *b = board_payload ? cJSON_Parse(board_payload) : NULL;
	if (b)
		cJSON_AddItemToObject(o, "board", b);
	else
		cJSON_AddNullToObject(o, "board");
	return evp_json_text(o);
}

char *evp_go_decision_md(const char *payload)
{
	cJSON *o = parse(payload);
	strbuf sb;
	sb_init(&sb);
	char *reason = str_field(o, "reason"), *why = str_field(o, "why");
	if (reason)
		sb_printf(&sb, "  - reason: %s\n", reason);
	if (why)
		sb_printf(&sb, "  - past: %s\n", why);
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "board"), "inputs");
	const cJSON *x;
	cJSON_ArrayForEach(x, in) {
		char *st = str_field(x, "status"), *v = str_field(x, "value");
		sb_printf(&sb, "  - %s: %s%s, %s\n", x->string ? x->string : "?", st ? st : "?",
		          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "stale")) ? " (stale)" : "", v ? v : "");
		free(st);
		free(v);
	}
	if (!in)
		sb_puts(&sb, "  - no board recorded\n");
	free(reason);
	free(why);
	cJSON_Delete(o);
	char *raw = sb_steal(&sb);
	char *clean = pgc_sanitize_n(raw, strlen(raw), PGC_SANITIZE_LINES);
	free(raw);
	return clean;
}


char *evp_sync_write(const sync_report *r, bool stalled)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", r->logical ? "logical" : "script");
	cJSON_AddBoolToObject(o, "caught_up", r->caught_up);
	evp_json_add_clean(o, "words", NULL, r->words);
	cJSON_AddBoolToObject(o, "stalled", stalled);
	evp_json_add_clean(o, "source_lsn", NULL, r->source_lsn);
	evp_json_add_clean(o, "post_freeze_lsn", NULL, r->post_freeze_lsn);
	cJSON *a = cJSON_AddArrayToObject(o, "subscriptions");
	for (size_t i = 0; i < r->n_subs; i++) {
		const sync_sub *s = &r->subs[i];
		cJSON *x = cJSON_CreateObject();
		evp_json_add_clean(x, "name", NULL, s->name);
		cJSON_AddBoolToObject(x, "enabled", s->enabled);
		evp_json_add_clean(x, "slot", NULL, s->slot);
		cJSON_AddBoolToObject(x, "slot_active", s->slot_active);
		evp_json_add_clean(x, "wal_status", NULL, s->wal_status);
		cJSON_AddNumberToObject(x, "retained_bytes", (double)s->retained_bytes);
		evp_json_add_clean(x, "confirmed_lsn", NULL, s->confirmed_lsn);
		cJSON_AddNumberToObject(x, "lag_bytes", (double)s->lag_bytes);
		cJSON_AddNumberToObject(x, "lag_s", s->lag_s);
		cJSON *t = cJSON_AddObjectToObject(x, "tables");
		cJSON_AddNumberToObject(t, "copying", s->n_copying);
		cJSON_AddNumberToObject(t, "synced", s->n_synced);
		cJSON_AddNumberToObject(t, "ready", s->n_ready);
		cJSON_AddNumberToObject(t, "other", s->n_other);
		cJSON_AddBoolToObject(x, "past_freeze", s->past_freeze);
		cJSON_AddItemToArray(a, x);
	}
	return evp_json_text(o);
}

char *evr_sync_post_lsn(const char *payload)
{
	cJSON *o = parse(payload);
	char *v = str_field(o, "post_freeze_lsn");
	cJSON_Delete(o);
	return v;
}

/* "GO" or "NO-GO: counts: ..." */
static void go_board_brief(strbuf *sb, const char *payload)
{
	evr_verdict g;
	evr_verdict_read(payload, "go", "red", &g);
	sb_printf(sb, g.ok ? " GO" : " NO-GO: %s", g.words ? g.words : "");
	evr_verdict_free(&g);
}

/* The sync's words: "caught up: ..." */
static void sync_brief(strbuf *sb, const char *payload)
{
	evr_verdict v;
	evr_verdict_read(payload, "caught_up", "words", &v);
	if (v.words)
		sb_printf(sb, " %s", v.words);
	evr_verdict_free(&v);
}

/* "go" or "override: <why>" */
static void go_decision_brief(strbuf *sb, const char *payload)
{
	cJSON *o = parse(payload);
	char *d = str_field(o, "decision"), *why = str_field(o, "why");
	if (d)
		sb_printf(sb, " %s%s%s", d, why ? " past: " : "", why ? why : "");
	free(d);
	free(why);
	cJSON_Delete(o);
}

/* A counts snapshot's verdict: "3 differ, 297 equal, 2 unknown" (in the
 * core's words, cmp_tally_words), "(estimates)" when not all exact. */
static void counts_brief(strbuf *sb, const char *payload)
{
	cmp_rec rec;
	if (cmp_rec_read(payload, &rec) < 0)
		return;
	if (rec.has_tables) {
		cmp_order_key *keys = xcalloc(rec.n_tables ? rec.n_tables : 1, sizeof *keys);
		for (size_t i = 0; i < rec.n_tables; i++) {
			keys[i].source = rec.tables[i].source;
			keys[i].target = rec.tables[i].target;
			keys[i].failed = rec.tables[i].state && strcmp(rec.tables[i].state, "error") == 0;
		}
		size_t tally[CMP_N_RANKS];
		char words[128];
		cmp_order_tally(keys, rec.n_tables, tally);
		sb_printf(sb, " %s%s", cmp_tally_words(tally, ", ", words, sizeof words),
		          rec.exact ? "" : " (estimates)");
		free(keys);
	}
	cmp_rec_free(&rec);
}

char *evp_event_brief(const st_event *ev)
{
	strbuf sb;
	sb_init(&sb);
	if (ev->kind && strcmp(ev->kind, EV_COMMAND_END) == 0)
		command_end_brief(&sb, ev->payload);
	else if (ev->kind && strcmp(ev->kind, EV_COUNTS) == 0 && ev->payload)
		counts_brief(&sb, ev->payload);
	else if (ev->kind && strcmp(ev->kind, EV_SEQUENCES_SYNCED) == 0 && ev->payload)
		sequences_brief(&sb, ev->payload);
	else if (ev->kind && strcmp(ev->kind, EV_FREEZE) == 0 && ev->payload)
		freeze_brief(&sb, ev->payload);
	else if (ev->kind && strcmp(ev->kind, EV_SYNC) == 0 && ev->payload)
		sync_brief(&sb, ev->payload);
	else if (ev->kind && strcmp(ev->kind, EV_GO_BOARD) == 0 && ev->payload)
		go_board_brief(&sb, ev->payload);
	else if (ev->kind && strcmp(ev->kind, EV_GO_DECISION) == 0 && ev->payload)
		go_decision_brief(&sb, ev->payload);
	char *raw = sb_steal(&sb);
	char *clean = pgc_sanitize(raw[0] == ' ' ? raw + 1 : raw);
	free(raw);
	return clean;
}

char *evp_event_line(const st_event *ev)
{
	return evp_event_line_rb(ev, NULL);
}

/* Bytes of an item's text an event line keeps (cut on a character). */
#define EVP_LINE_ITEM_TEXT 60

char *evp_event_line_rb(const st_event *ev, const runbook *rb)
{
	strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "%-10s %-15s", ev->operator_name ? ev->operator_name : "?", ev->kind ? ev->kind : "?");
	if (ev->item) {
		sb_printf(&sb, " %s", ev->item);
		const rb_item *it = rb && ev->kind && (strcmp(ev->kind, EV_TICK) == 0 || strcmp(ev->kind, EV_UNTICK) == 0)
		                  ? runbook_item(rb, ev->item, NULL) : NULL;
		if (it && it->text) {
			size_t len = strlen(it->text), cut = len;
			if (cut > EVP_LINE_ITEM_TEXT) {
				cut = EVP_LINE_ITEM_TEXT;
				while (cut > 0 && ((unsigned char)it->text[cut] & 0xc0) == 0x80)
					cut--;   /* not inside a UTF-8 character */
			}
			sb_printf(&sb, " \"%.*s%s\"", (int)cut, it->text, cut < len ? "..." : "");
		}
	} else if (ev->phase)
		sb_printf(&sb, " phase %s", ev->phase);
	char *brief = evp_event_brief(ev);
	if (brief[0])
		sb_printf(&sb, " %s", brief);
	free(brief);
	char *why = evr_why(ev->payload);
	sb_puts(&sb, why);
	free(why);
	char *raw = sb_steal(&sb);
	char *clean = pgc_sanitize(raw);
	free(raw);
	return clean;
}

static void detail_line(strbuf *sb, int indent, const char *key, const char *value)
{
	char *clean = pgc_sanitize(value);
	sb_printf(sb, "%*s%s%s%s\n", indent, "", key ? key : "", !key ? "" : clean[0] ? ": " : ":", clean);
	free(clean);
}

static void detail_value(strbuf *sb, int indent, const char *key, const cJSON *v)
{
	if (cJSON_IsString(v) && strchr(v->valuestring, '\n')) {
		detail_line(sb, indent, key, "");
		for (const char *p = v->valuestring; *p;) {
			size_t l = strcspn(p, "\n");
			char *line = xasprintf("%.*s", (int)l, p);
			detail_line(sb, indent + 2, NULL, line);
			free(line);
			p += l + (p[l] == '\n');
		}
	} else if (cJSON_IsString(v)) {
		detail_line(sb, indent, key, v->valuestring);
	} else if (cJSON_IsObject(v) || (cJSON_IsArray(v) && v->child &&
	                                 (cJSON_IsObject(v->child) || cJSON_IsArray(v->child)))) {
		detail_line(sb, indent, key, "");
		const cJSON *c;
		int k = 0;
		cJSON_ArrayForEach(c, v) {
			char idx[24];
			snprintf(idx, sizeof idx, "[%d]", k++);
			detail_value(sb, indent + 2, cJSON_IsObject(v) ? c->string : idx, c);
		}
	} else {
		char *t = cJSON_PrintUnformatted(v);
		detail_line(sb, indent, key, t ? t : "");
		cJSON_free(t);
	}
}

char *evp_event_detail(const st_event *ev)
{
	strbuf sb;
	sb_init(&sb);
	char when[EVP_TIME_MAX];
	pgc_iso8601(ev->ts, when, sizeof when);
	char *head = xasprintf("%lld  %s", (long long)ev->id, when);
	detail_line(&sb, 0, "event", head);
	free(head);
	char *who = xasprintf("%s@%s (pid %d)", ev->operator_name ? ev->operator_name : "?",
	                      ev->host ? ev->host : "?", ev->pid);
	detail_line(&sb, 0, "operator", who);
	free(who);
	detail_line(&sb, 0, "kind", ev->kind ? ev->kind : "?");
	if (ev->phase)
		detail_line(&sb, 0, "phase", ev->phase);
	if (ev->item)
		detail_line(&sb, 0, "item", ev->item);
	cJSON *o = parse(ev->payload);
	if (cJSON_IsObject(o)) {
		detail_line(&sb, 0, "payload", "");
		const cJSON *c;
		cJSON_ArrayForEach(c, o) {
			detail_value(&sb, 2, c->string, c);
		}
	} else if (ev->payload && ev->payload[0]) {
		cJSON *text = cJSON_CreateString(ev->payload);
		detail_value(&sb, 0, "payload", text);
		cJSON_Delete(text);
	}
	cJSON_Delete(o);
	return sb_steal(&sb);
}

cJSON *evp_embed(const char *payload)
{
	return parse(payload);
}
