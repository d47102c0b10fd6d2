/*
 * test_evpay.c -- the payload writers of evpay.h (and ops.h's auto tick):
 * each writer's text is the same, byte for byte, as the text the code it
 * replaced built for the same record (the log is hash-chained and
 * exported, so a moved key or a changed number format breaks every log
 * written before), and each reads back through its reader.
 *
 * The operator's kinds (ops_payload_*, moved here unchanged from ops.c and
 * pinned by test_ops) are read back through evr_op_read().
 *
 * The expected text is not pasted: each ref_* function below is the JSON
 * building as it stood in action.c, rollback.c, compare.c, health.c,
 * lease.c and cmd_rehearsal.c before the writers moved to evpay.c, run here
 * on the same inputs as the writer.  Inputs carry what the writers must
 * mask or clean (a URL password, a known secret, a secret-named flag, a
 * control character).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/evpay.h"
#include "pgcutover/ops.h"
#include "tap.h"

#define SECRET "hunter2-s3cret"

static char *print_free(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *ret = xstrdup(s);
	cJSON_free(s);
	return ret;
}

/* ---- the builders as they were (action.c) ---- */

static char *ref_clean(const act_masker *m, const char *text)
{
	char *masked = act_masker_apply(m, text ? text : "");
	char *out = pgc_sanitize_n(masked, strlen(masked), PGC_SANITIZE_LINES);
	free(masked);
	return out;
}

static void ref_add_str(cJSON *o, const char *k, const act_masker *m, const char *v)
{
	if (!v) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	char *c = ref_clean(m, v);
	cJSON_AddStringToObject(o, k, c);
	free(c);
}

static void ref_add_flag_value(cJSON *o, const char *k, const act_masker *m, const char *name, const char *v)
{
	if (v && envfile_name_is_secret(name))
		cJSON_AddStringToObject(o, k, ACT_MASK);
	else
		ref_add_str(o, k, m, v);
}

static char *ref_command_start(const act_plan *plan, const act_masker *m)
{
	cJSON *o = cJSON_CreateObject();
	ref_add_str(o, "command", m, plan->command);
	cJSON_AddStringToObject(o, "shell", plan->shell);
	ref_add_str(o, "workdir", m, plan->workdir);
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
			ref_add_str(vars, plan->vars[i].name, m, plan->vars[i].value);
	}
	if (plan->item_hash[0])
		cJSON_AddStringToObject(o, "item_hash", plan->item_hash);
	cJSON_AddBoolToObject(o, "rollback", plan->rollback);
	return print_free(o);
}

static char *ref_command_end(const act_result *res, const char *head, const char *tail, const act_masker *m)
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
	ref_add_str(o, "output_head", m, head);
	ref_add_str(o, "output_tail", m, tail);
	cJSON_AddNumberToObject(o, "output_bytes", (double)res->output_bytes);
	cJSON_AddBoolToObject(o, "truncated", res->truncated);
	cJSON_AddNumberToObject(o, "segment", res->failed_segment);
	if (res->error[0])
		ref_add_str(o, "error", m, res->error);
	return print_free(o);
}

static char *ref_auto_tick(const char *hash, int64_t start_id)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "hash", hash);
	cJSON_AddStringToObject(t, "note", "auto: command exited 0");
	cJSON_AddNumberToObject(t, "start_id", (double)start_id);
	return print_free(t);
}

static char *ref_command_unknown(int64_t id, int pid, const char *host, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "start_id", (double)id);
	cJSON_AddNumberToObject(o, "pid", pid);
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddStringToObject(o, "message", message);
	return print_free(o);
}

static char *ref_flag_set(const act_masker *m, const char *file, const char *name, const envfile_set_result *sr,
                          int64_t start_id, bool rollback, bool manual, const char *hmac)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	ref_add_flag_value(o, "old", m, name, sr->old_value);
	ref_add_flag_value(o, "new", m, name, sr->new_value);
	ref_add_str(o, "file", m, file);
	ref_add_str(o, "backup", m, sr->backup_path);
	cJSON_AddBoolToObject(o, "changed", sr->changed);
	cJSON_AddStringToObject(o, "sha256", sr->after.sha256);
	if (hmac)
		cJSON_AddStringToObject(o, "new_hmac", hmac);
	cJSON_AddNumberToObject(o, "start_id", (double)start_id);
	cJSON_AddBoolToObject(o, "rollback", rollback);
	if (manual)
		cJSON_AddBoolToObject(o, "manual", true);
	return print_free(o);
}

/* ---- rollback.c ---- */

static void ref_add_flag_str(cJSON *o, const char *k, const char *name, const char *v)
{
	if (!v) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	char *s = act_flag_shown(NULL, name, v, "");
	cJSON_AddStringToObject(o, k, s);
	free(s);
}

static char *ref_rolled_back(const act_rollback *rb, const act_result *step_results)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; rb->restore && i < rb->restore->n_segs; i++) {
		const act_segment *s = &rb->restore->segs[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", s->name);
		ref_add_flag_str(x, "from", s->name, s->old_value);
		ref_add_flag_str(x, "to", s->name, s->value);
		cJSON_AddItemToArray(arr, x);
	}
	cJSON_AddItemToObject(o, "restored", arr);
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; i < rb->n_steps; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "item", rb->steps[i]->item_id);
		if (step_results) {
			cJSON_AddNumberToObject(x, "start_id", (double)step_results[i].start_event_id);
			cJSON_AddStringToObject(x, "status", act_status_name(step_results[i].status));
			cJSON_AddNumberToObject(x, "exit", act_result_exit(&step_results[i]));
		}
		cJSON_AddItemToArray(steps, x);
	}
	cJSON_AddBoolToObject(o, "past_point_of_no_return", rb->past_point_of_no_return);
	if (rb->past_point_of_no_return && rb->rows_gained >= 0) {
		cJSON_AddNumberToObject(o, "rows_gained", (double)rb->rows_gained);
		cJSON_AddBoolToObject(o, "rows_gained_exact", rb->rows_gained_exact);
	}
	return print_free(o);
}

/* ---- compare.c: cmp_snapshot_json(cs, false) ---- */

static void ref_rows(cJSON *o, const char *key, int64_t rows)
{
	if (rows >= 0)
		cJSON_AddNumberToObject(o, key, (double)rows);
	else
		cJSON_AddNullToObject(o, key);
}

static char *ref_counts(const cmp_rec *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddBoolToObject(root, "match", r->match);
	cJSON_AddBoolToObject(root, "exact", r->exact);
	cJSON *arr = cJSON_AddArrayToObject(root, "tables");
	for (size_t i = 0; i < r->n_tables; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "table", r->tables[i].table);
		ref_rows(o, "source", r->tables[i].source);
		ref_rows(o, "target", r->tables[i].target);
		cJSON_AddBoolToObject(o, "exact", r->tables[i].exact);
		cJSON_AddBoolToObject(o, "match", r->tables[i].match);
		cJSON_AddStringToObject(o, "state", r->tables[i].state);
		cJSON_AddItemToArray(arr, o);
	}
	return print_free(root);
}

/* ---- health.c ---- */

static char *ref_health(const hc_check *c, const hc_result *r, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "all_ok", hc_all_ok(r, n));
	cJSON *arr = cJSON_AddArrayToObject(o, "checks");
	for (size_t i = 0; i < n; i++) {
		cJSON *x = cJSON_CreateObject();
		char *name = pgc_sanitize(c[i].name);
		char *masked = act_masker_apply(NULL, c[i].url);
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
		cJSON_AddNumberToObject(x, "latency_ms", (double)(long)(r[i].latency_ms * 10) / 10.0);
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
	return print_free(o);
}

/* ---- lease.c ---- */

static char *ref_lease_takeover(const lease_info *li, const char *reason, bool automatic)
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
	return print_free(root);
}

static char *ref_lease(const char *command, double held_s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "command", command);
	if (held_s >= 0)
		cJSON_AddNumberToObject(root, "held_s", (double)(long)held_s);
	return print_free(root);
}

/* ---- cmd_rehearsal.c ---- */

static char *ref_rehearsal(const config *cfg, const char *note)
{
	cJSON *pl = cJSON_CreateObject();
	cJSON_AddStringToObject(pl, "note", note ? note : "");
	char *raw = cJSON_PrintUnformatted(pl);
	char *s = act_mask_payload(cfg, raw);
	cJSON_free(raw);
	cJSON_Delete(pl);
	return s;
}

/* ---- the tests ---- */

static act_masker *masker(void)
{
	act_masker *m = act_masker_new(NULL);
	act_masker_add(m, SECRET);
	return m;
}

static void same(char *got, char *want, const char *what)
{
	char name[TAP_TMPL_MAX];
	snprintf(name, sizeof name, "%s: the same text as before", what);
	is_str(got, want, name);
	free(want);
}

static void command_start(void)
{
	act_masker *m = masker();
	act_segment segs[3] = {{.kind = ACT_SEG_SHELL, .text = "pg_dump"},
	                       {.kind = ACT_SEG_FLAG, .name = "USE_NEW_DB", .value = "true"},
	                       {.kind = ACT_SEG_FLAG, .name = "DB_PASSWORD", .value = SECRET}};
	act_var vars[3] = {{.name = "TARGET_URL", .value = "postgres://app:pw1@db/x"},
	                   {.name = "API_TOKEN", .value = "tok"}, {.name = "REGION", .value = "eu\x01west"}};
	act_plan p = {.item_id = "5.3", .phase_id = "5", .item_hash = "0123456789abcdef",
	              .shell = "/bin/bash", .command = "pg_dump \"postgres://app:pw1@db/x\" --pw " SECRET "\n",
	              .workdir = "/srv/" SECRET, .timeout_s = 90, .segs = segs, .n_segs = 3,
	              .vars = vars, .n_vars = 3, .rollback = true};
	char *got = evp_command_start_write(&p, m);
	same(got, ref_command_start(&p, m), "command_start");
	ok(!strstr(got, SECRET) && !strstr(got, "pw1"), "command_start: secrets masked");
	evr_command_start cs;
	evr_command_start_read(got, &cs);
	char *want_cmd = ref_clean(m, p.command);
	is_str(cs.command, want_cmd, "command_start: the command reads back (masked)");
	is_str(cs.item_hash, p.item_hash, "command_start: the item hash reads back");
	ok(cs.rollback, "command_start: rollback reads back");
	free(want_cmd);
	evr_command_start_free(&cs);
	free(got);

	p.item_hash[0] = '\0';
	p.rollback = false;
	p.n_vars = 0;
	got = evp_command_start_write(&p, m);
	same(got, ref_command_start(&p, m), "command_start without a hash or vars");
	evr_command_start_read(got, &cs);
	ok(!cs.item_hash && !cs.rollback, "command_start: no hash, not a rollback");
	evr_command_start_free(&cs);
	free(got);
	act_masker_free(m);
}

static void command_end(void)
{
	act_masker *m = masker();
	act_result r = {.status = ACT_FAILED, .exit_code = 3, .duration_s = 1.234, .output_bytes = 70000,
	                .truncated = true, .failed_segment = 0, .start_event_id = 41};
	char *got = evp_command_end_write(&r, "connecting as " SECRET "\n", "tail\x07 end", m);
	same(got, ref_command_end(&r, "connecting as " SECRET "\n", "tail\x07 end", m), "command_end (failed)");
	evr_command_end ce;
	evr_command_end_read(got, &ce);
	ok(ce.start_id == 41 && ce.has_exit && ce.exit_code == 3 && ce.has_duration && ce.duration_s == 1.234,
	   "command_end: start_id, exit and duration read back");
	is_str(ce.status, "failed", "command_end: status reads back");
	is_str(ce.output_head, "connecting as ***\n", "command_end: the head reads back masked");
	ok(ce.output_tail && !strchr(ce.output_tail, '\x07'), "command_end: the tail reads back sanitised");
	ok(!ce.error, "command_end: no error");
	evr_command_end_free(&ce);
	ok(evp_command_closes(got) == 41, "command_end: closes its start");
	free(got);

	act_result e = {.status = ACT_ERROR, .exit_code = 137, .signal = 9, .duration_s = 0.5, .failed_segment = 2,
	                .start_event_id = 42};
	snprintf(e.error, sizeof e.error, "flag DB_URL: cannot write postgres://u:%s@h", SECRET);
	got = evp_command_end_write(&e, "", NULL, m);
	same(got, ref_command_end(&e, "", NULL, m), "command_end (error, signal)");
	evr_command_end_read(got, &ce);
	ok(!ce.has_exit && ce.error && !strstr(ce.error, SECRET) && !ce.output_tail,
	   "command_end: an error has no exit, its message masked, a NULL tail as absent");
	evr_command_end_free(&ce);
	free(got);

	got = ops_payload_tick_auto("0123456789abcdef", "auto: command exited 0", 41);
	same(got, ref_auto_tick("0123456789abcdef", 41), "the auto tick");
	free(got);
	act_masker_free(m);
}

static void command_unknown(void)
{
	char *got = evp_command_unknown_write(77, 4242, "bastion-1", "pgcutover exited while it ran");
	same(got, ref_command_unknown(77, 4242, "bastion-1", "pgcutover exited while it ran"), "command_unknown");
	ok(evp_command_closes(got) == 77, "command_unknown: closes its start");
	evr_command_end ce;
	evr_command_end_read(got, &ce);
	ok(ce.start_id == 77 && !ce.status, "command_unknown: read as an end it has no status");
	evr_command_end_free(&ce);
	free(got);
	ok(evp_command_closes("nope") == 0, "closes: nothing for a malformed payload");
}

static void flag_set(void)
{
	act_masker *m = masker();
	envfile_set_result sr = {.old_value = "postgres://app:old@db/x", .new_value = "postgres://app:new@db2/x",
	                         .backup_path = "/etc/app/.env.1", .changed = true,
	                         .after = {.exists = true, .sha256 = "ab12"}};
	evp_flag_set f = {.name = "DATABASE_URL", .file = "/etc/app/.env", .sr = &sr, .new_hmac = "cafe",
	                  .start_id = 12, .rollback = false, .manual = false};
	char *got = evp_flag_set_write(&f, m);
	same(got, ref_flag_set(m, f.file, f.name, &sr, 12, false, false, "cafe"), "flag_set (a URL)");
	ok(!strstr(got, ":old@") && !strstr(got, ":new@"), "flag_set: URL passwords masked");
	evr_flag_set r;
	evr_flag_set_read(got, &r);
	is_str(r.name, "DATABASE_URL", "flag_set: the name reads back");
	is_str(r.file, "/etc/app/.env", "flag_set: the file reads back");
	is_str(r.sha256, "ab12", "flag_set: the file's hash reads back");
	is_str(r.new_hmac, "cafe", "flag_set: the hmac reads back");
	ok(r.old_value && strstr(r.old_value, ACT_MASK) && !r.rollback, "flag_set: old masked, not a rollback");
	evr_flag_set_free(&r);
	char *nv = evr_flag_set_new(got);
	ok(nv && strstr(nv, "db2"), "flag_set: the new value reads back");
	free(nv);
	free(got);

	envfile_set_result sec = {.old_value = NULL, .new_value = SECRET, .changed = true};
	evp_flag_set g = {.name = "DB_PASSWORD", .sr = &sec, .start_id = 0, .rollback = true, .manual = true};
	got = evp_flag_set_write(&g, m);
	same(got, ref_flag_set(m, NULL, "DB_PASSWORD", &sec, 0, true, true, NULL), "flag_set (secret, manual)");
	evr_flag_set_read(got, &r);
	ok(!r.old_value && r.new_value && strcmp(r.new_value, ACT_MASK) == 0 && r.rollback && !r.file &&
	   !r.new_hmac, "flag_set: was unset, secret as ***, a rollback, no file or hmac");
	evr_flag_set_free(&r);
	free(got);
	act_masker_free(m);
}

static void flag_drift(void)
{
	act_masker *m = masker();
	evp_flag_drift d = {.name = "DATABASE_URL", .file = "/etc/app/.env", .value = "postgres://app:hand@db3/x",
	                    .last_set = "postgres://app:***@db2/x", .hmac = "beef", .sha256 = "cd34",
	                    .noticed_by = "console"};
	char *got = evp_flag_drift_write(&d, m);
	ok(!strstr(got, ":hand@"), "flag_drift: a URL's password masked");
	evr_flag_drift r;
	evr_flag_drift_read(got, &r);
	is_str(r.name, "DATABASE_URL", "flag_drift: the name reads back");
	is_str(r.file, "/etc/app/.env", "flag_drift: the file reads back");
	ok(r.value && strstr(r.value, "db3") && !r.absent, "flag_drift: the value now reads back, present");
	is_str(r.hmac, "beef", "flag_drift: the hmac reads back");
	is_str(r.noticed_by, "console", "flag_drift: who saw it reads back");
	char *k = evr_flag_drift_key(r.hmac, r.absent, r.value);
	is_str(k, "h:beef", "flag_drift: told apart by its hmac");
	free(k);
	evr_flag_drift_free(&r);
	free(got);

	evp_flag_drift g = {.name = "DB_PASSWORD", .value = SECRET, .last_set = ACT_MASK, .noticed_by = "flags --record"};
	got = evp_flag_drift_write(&g, m);
	ok(!strstr(got, SECRET), "flag_drift: a secret flag's value is not written");
	evr_flag_drift_read(got, &r);
	ok(r.value && strcmp(r.value, ACT_MASK) == 0 && !r.hmac && !r.file, "flag_drift: secret as ***, no hmac, no file");
	k = evr_flag_drift_key(r.hmac, r.absent, r.value);
	is_str(k, "v:" ACT_MASK, "flag_drift: without an hmac, told apart by the value recorded");
	free(k);
	evr_flag_drift_free(&r);
	free(got);

	evp_flag_drift h = {.name = "USE_NEW_DB", .value = NULL, .last_set = "true"};
	got = evp_flag_drift_write(&h, m);
	evr_flag_drift_read(got, &r);
	ok(r.absent && !r.value && !r.noticed_by, "flag_drift: a flag gone from the file reads as absent");
	k = evr_flag_drift_key(r.hmac, r.absent, r.value);
	is_str(k, "absent", "flag_drift: a removal is its own drift");
	free(k);
	evr_flag_drift_free(&r);
	free(got);
	evr_flag_drift_read("not json", &r);
	ok(!r.name && !r.absent, "flag_drift: a malformed payload reads as empty");
	evr_flag_drift_free(&r);
	act_masker_free(m);
}

static void rolled_back(void)
{
	act_segment segs[2] = {{.kind = ACT_SEG_FLAG, .name = "DATABASE_URL", .value = "postgres://a:pw@old/x",
	                        .old_value = "postgres://a:pw@new/x"},
	                       {.kind = ACT_SEG_FLAG, .name = "API_SECRET", .value = "v1", .old_value = NULL}};
	act_plan restore = {.segs = segs, .n_segs = 2};
	act_plan s1 = {.item_id = "R.1"}, s2 = {.item_id = "R.2"};
	act_plan *steps[2] = {&s1, &s2};
	act_rollback rb = {.phase_id = "4", .restore = &restore, .steps = steps, .n_steps = 2,
	                   .past_point_of_no_return = true, .rows_gained = 1234, .rows_gained_exact = true};
	act_result res[2] = {{.status = ACT_OK, .start_event_id = 90},
	                     {.status = ACT_FAILED, .exit_code = 2, .start_event_id = 93}};
	char *got = evp_rolled_back_write(&rb, res);
	same(got, ref_rolled_back(&rb, res), "phase_rolled_back (past the point of no return)");
	evr_rolled_back r;
	evr_rolled_back_read(got, &r);
	ok(r.past_point_of_no_return && r.rows_gained == 1234 && r.rows_gained_exact && r.n_restored == 2 &&
	   r.n_steps == 2, "phase_rolled_back: reads back");
	free(got);

	rb.past_point_of_no_return = false;
	rb.restore = NULL;
	got = evp_rolled_back_write(&rb, NULL);
	same(got, ref_rolled_back(&rb, NULL), "phase_rolled_back (no restores, no results)");
	evr_rolled_back_read(got, &r);
	ok(!r.past_point_of_no_return && r.rows_gained == -1 && r.n_restored == 0 && r.n_steps == 2,
	   "phase_rolled_back: no rows gained recorded reads as -1");
	free(got);
}

static void rollback_failed(void)
{
	act_segment segs[2] = {{.kind = ACT_SEG_FLAG, .name = "USE_NEW_DB", .value = "false"},
	                       {.kind = ACT_SEG_FLAG, .name = "USE_LEGACY", .value = "true"}};
	act_plan restore = {.segs = segs, .n_segs = 2};
	act_plan s1 = {.item_id = "R.1"}, s2 = {.item_id = "R.2"};
	act_plan *steps[2] = {&s1, &s2};
	act_rollback rb = {.phase_id = "4", .restore = &restore, .steps = steps, .n_steps = 2};
	act_result res[2] = {{.status = ACT_OK, .start_event_id = 90},
	                     {.status = ACT_FAILED, .exit_code = 5, .start_event_id = 93}};
	const char *restored[] = {"USE_NEW_DB"};
	char *got = evp_rollback_failed_write(&rb, "R.2", &res[1], res, 1, restored, 1);
	cJSON *o = cJSON_Parse(got);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "steps");
	ok(cJSON_IsArray(st) && cJSON_GetArraySize(st) == 1 &&
	   strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(st, 0), "item")->valuestring, "R.1") == 0,
	   "phase_rollback_failed: the steps that ran before it");
	ok(cJSON_GetObjectItemCaseSensitive(o, "exit")->valueint == 5 &&
	   strcmp(cJSON_GetObjectItemCaseSensitive(o, "status")->valuestring, "failed") == 0,
	   "phase_rollback_failed: how the step ended");
	cJSON_Delete(o);
	evr_rollback_failed f;
	evr_rollback_failed_read(got, &f);
	ok(f.failed_at && strcmp(f.failed_at, "R.2") == 0 && f.n_restored == 1 && f.n_flags == 2,
	   "phase_rollback_failed: reads back (step, 1 of 2 flags restored)");
	evr_rollback_failed_free(&f);
	free(got);
	evr_rollback_failed_read("not json", &f);
	ok(f.failed_at == NULL && f.n_restored == 0 && f.n_flags == 0, "phase_rollback_failed: a damaged payload reads as empty");
	evr_rollback_failed_free(&f);
}

static void counts_snapshot(void)
{
	cmp_rec_table t[3] = {
		{.table = "public.clients", .source = 1000, .target = 1000, .exact = true, .match = true,
		 .state = "matched"},
		{.table = "events", .source = 123456789012, .target = -1, .exact = false, .match = false,
		 .state = "error"},
		{.table = "t\"q", .source = 0, .target = 3, .exact = false, .match = false, .state = "estimated"}};
	cmp_rec rec = {.match = false, .exact = false, .has_tables = true, .tables = t, .n_tables = 3};
	char *got = evp_counts_write(&rec);
	same(got, ref_counts(&rec), "counts");
	cmp_rec back;
	ok(cmp_rec_read(got, &back) == 0 && back.has_tables && back.n_tables == 3 && !back.match && !back.exact,
	   "counts: reads back");
	bool all = back.n_tables == 3;
	for (size_t i = 0; all && i < 3; i++)
		all = strcmp(back.tables[i].table, t[i].table) == 0 && back.tables[i].source == t[i].source &&
		      back.tables[i].target == t[i].target && back.tables[i].exact == t[i].exact &&
		      back.tables[i].match == t[i].match && strcmp(back.tables[i].state, t[i].state) == 0;
	ok(all, "counts: every table's figures, flags and state read back (a missing figure as -1)");
	cmp_rec_free(&back);
	free(got);

	rec = (cmp_rec){.match = true, .exact = true, .has_tables = true, .tables = t, .n_tables = 1};
	got = evp_counts_write(&rec);
	same(got, ref_counts(&rec), "counts (all matched)");
	ok(cmp_rec_read(got, &back) == 0 && back.match && back.exact, "counts: match and exact read back");
	cmp_rec_free(&back);
	free(got);
}

static void health_checks(void)
{
	hc_check c[2] = {{.name = "api\x1b[2J", .url = "https://ops:" SECRET "@api/health", .expect_status = 200,
	                  .expect_body = "\"ok\"", .item = "3.1"},
	                 {.name = "web", .url = "http://w/", .expect_status = 0}};
	hc_result r[2] = {{.done = true, .ok = true, .status = 200, .latency_ms = 12.3456, .body_matched = true},
	                  {.done = true, .ok = false, .status = 503, .latency_ms = 0.04}};
	snprintf(r[1].error, sizeof r[1].error, "HTTP 503 \x07");
	char *got = evp_health_write(c, r, 2);
	same(got, ref_health(c, r, 2), "health");
	ok(!strstr(got, SECRET), "health: the URL's password masked");
	evr_health h;
	evr_health_read(got, &h);
	is_int(h.n_checks, 2, "health: checks read back");
	is_int(h.n_ok, 1, "health: passing read back");
	is_str(h.failing, "web", "health: the failing check reads back");
	evr_health_free(&h);
	free(got);
	char *viahc = hc_results_json(c, r, 2);
	got = evp_health_write(c, r, 2);
	is_str(viahc, got, "health: hc_results_json is the payload writer");
	free(viahc);
	free(got);
}

static void lease_events(void)
{
	char *got = evp_lease_write("console", -1);
	same(got, ref_lease("console", -1), "lease_acquired");
	evr_lease l;
	evr_lease_read(got, &l);
	ok(l.command && strcmp(l.command, "console") == 0 && l.held_s < 0 && !l.reason,
	   "lease_acquired: command reads back, nothing held");
	evr_lease_free(&l);
	free(got);

	got = evp_lease_write("tick", 3725.9);
	same(got, ref_lease("tick", 3725.9), "lease_released");
	evr_lease_read(got, &l);
	ok(l.held_s == 3725, "lease_released: whole seconds held read back");
	evr_lease_free(&l);
	free(got);

	lease_info li = {.operator_name = "alice", .host = "bastion-1", .command = "console", .pid = 4242,
	                 .acquired_at = 1767225600.25, .heartbeat_at = 1767225660.5, .started = 987654};
	got = evp_lease_takeover_write(&li, "holder silent", false);
	same(got, ref_lease_takeover(&li, "holder silent", false), "lease_takeover");
	evr_lease_read(got, &l);
	ok(l.reason && strcmp(l.reason, "holder silent") == 0 && !l.automatic && l.from_operator &&
	   strcmp(l.from_operator, "alice") == 0 && l.from_host && strcmp(l.from_host, "bastion-1") == 0 &&
	   l.from_pid == 4242 && l.command && strcmp(l.command, "console") == 0, "lease_takeover: reads back");
	evr_lease_free(&l);
	free(got);
	li.started = 0;
	got = evp_lease_takeover_write(&li, "one-shot holder not running", true);
	same(got, ref_lease_takeover(&li, "one-shot holder not running", true), "lease_takeover (automatic)");
	free(got);
}

static void rehearsal_note(void)
{
	const char *note = "dry run; target postgres://app:pw9@db/x";
	char *got = evp_rehearsal_write(NULL, note);
	same(got, ref_rehearsal(NULL, note), "rehearsal");
	char *n = evr_rehearsal_note(got);
	ok(n && !strstr(n, "pw9") && strstr(n, "dry run"), "rehearsal: the note reads back masked");
	free(n);
	free(got);
	got = evp_rehearsal_write(NULL, NULL);
	same(got, ref_rehearsal(NULL, NULL), "rehearsal without a note");
	n = evr_rehearsal_note(got);
	is_str(n, "", "rehearsal: no note reads back empty");
	free(n);
	free(got);
}

/* The operator's kinds (written by ops.c's ops, unchanged here) read back
 * through their one reader. */
static void operator_kinds(void)
{
	evr_op o;
	char *p = ops_payload_tick("0123456789abcdef", "rows look right");
	evr_op_read(p, &o);
	ok(o.hash && strcmp(o.hash, "0123456789abcdef") == 0 && o.note && strcmp(o.note, "rows look right") == 0 &&
	   !o.reason && !o.text, "tick: hash and note read back");
	evr_op_free(&o);
	free(p);
	p = ops_payload_untick("0123456789abcdef", "wrong box");
	evr_op_read(p, &o);
	ok(o.hash && o.reason && strcmp(o.reason, "wrong box") == 0 && !o.note, "untick: the reason reads back");
	evr_op_free(&o);
	free(p);
	p = ops_payload_note("a \"quoted\" word", NULL);
	evr_op_read(p, &o);
	ok(o.text && strcmp(o.text, "a \"quoted\" word") == 0 && !o.hash, "note: the text reads back, no hash");
	evr_op_free(&o);
	free(p);
	p = ops_payload_phase_complete(3, 4, "2/3 tables match", true);
	evr_op_read(p, &o);
	ok(o.gate_overridden && strcmp(o.gate_overridden, "2/3 tables match") == 0,
	   "phase_complete: the gate completed past reads back");
	evr_op_free(&o);
	free(p);
	p = ops_payload_downtime_end(5432.9, 90, true);
	evr_op_read(p, &o);
	ok(o.elapsed_s == 5432 && o.planned_s == 5400, "downtime_end: elapsed and planned seconds read back");
	evr_op_free(&o);
	free(p);
	p = ops_payload_downtime_start(NULL, -1);
	evr_op_read(p, &o);
	ok(o.reason && strcmp(o.reason, "explicit") == 0 && o.planned_s == -1 && o.elapsed_s == -1,
	   "downtime_start: the reason reads back, no plan as -1");
	evr_op_free(&o);
	free(p);
	evr_op_read("{\"status\":\"done\",\"reason\":7}", &o);
	ok(o.status && strcmp(o.status, "done") == 0 && !o.reason, "an override's status; a non-string as absent");
	evr_op_free(&o);
	evr_op_read(NULL, &o);
	ok(!o.hash && o.elapsed_s == -1, "no payload reads as nothing");
	evr_op_free(&o);
}

static void embed(void)
{
	cJSON *j = evp_embed("{\"a\":[1,2]}");
	ok(cJSON_IsObject(j), "embed: a payload as JSON");
	cJSON_Delete(j);
	ok(evp_embed("not json") == NULL && evp_embed(NULL) == NULL, "embed: none for text that is not JSON");
}

/* The one line and the detail an event shows as in the console's strip,
 * log and detail: a command_end's exit code and duration in the line, every
 * payload field in the detail, a multi-line output line by line, masked as
 * stored and without control characters. */
static void event_line_and_detail(void)
{
	act_masker *m = masker();
	act_result r = {.status = ACT_FAILED, .exit_code = 127, .duration_s = 0.4, .failed_segment = 0,
	                .start_event_id = 41};
	char *pl = evp_command_end_write(&r, "", "restarting\nsh: pm2: not found " SECRET "\x1b[2J\n", m);
	st_event ev = {.id = 42, .ts = 1700000000, .operator_name = "ana", .host = "bastion", .pid = 7,
	               .kind = EV_COMMAND_END, .phase = "5", .item = "5.5", .payload = pl};
	char *line = evp_event_line(&ev);
	ok(strstr(line, "command_end") && strstr(line, "5.5 exit 127 (0.4s)"), "line: exit code and duration (%s)", line);
	free(line);
	char *d = evp_event_detail(&ev);
	ok(strstr(d, "kind: command_end\n") && strstr(d, "item: 5.5\n"), "detail: the event's fields");
	ok(strstr(d, "  exit: 127\n") && strstr(d, "  status: failed\n") && strstr(d, "  start_id: 41\n"),
	   "detail: the payload's fields, one a line");
	ok(strstr(d, "  output_tail:\n    restarting\n    sh: pm2: not found ***"),
	   "detail: the output tail line by line, masked");
	ok(!strstr(d, SECRET) && !strchr(d, '\x1b'), "detail: no secret, no escape");
	free(d);
	free(pl);

	act_result t = {.status = ACT_TIMED_OUT, .exit_code = 137, .duration_s = 95, .failed_segment = 0,
	                .start_event_id = 43};
	pl = evp_command_end_write(&t, "", "", m);
	ev.payload = pl;
	line = evp_event_line(&ev);
	ok(strstr(line, "5.5 timed_out exit 137 (1m35s)") != NULL, "line: a timeout says so (%s)", line);
	free(line);
	free(pl);

	char d9[EVP_DURATION_MAX];
	evp_brief_duration(0.009, d9, sizeof d9);
	is_str(d9, "0.009s", "a command failing at once: milliseconds, not 0.0s");

	ev.kind = EV_UNTICK;
	ev.payload = "{\"hash\":\"abc\",\"reason\":\"wrong box\"}";
	line = evp_event_line(&ev);
	ok(strstr(line, "untick") && strstr(line, "reason: wrong box") && !strstr(line, "abc"),
	   "line: the reason, not the hash (%s)", line);
	free(line);
	ev.payload = "not json";
	d = evp_event_detail(&ev);
	ok(strstr(d, "payload: not json\n") != NULL, "detail: a payload that is not JSON as text");
	free(d);

	/* a tick names its item's text (from the runbook), cut on a character */
	static const char rbtext[] = "# T\n\n## Phase 5: Cut\n\n- [ ] Stop the writers\n"
	                             "- [ ] y\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x end\n";
	runbook *rb = NULL;
	pgc_err e = {0};
	ok(runbook_parse(rbtext, sizeof rbtext - 1, "rb.md", NULL, &rb, &e) == 0, "runbook parses (%s)", e.msg);
	st_event tk = {.id = 50, .ts = 1700000000, .operator_name = "ana", .kind = EV_TICK, .phase = "5",
	               .item = "5.1", .payload = "{\"hash\":\"abc\"}"};
	line = evp_event_line_rb(&tk, rb);
	ok(strstr(line, "tick") && strstr(line, "5.1 \"Stop the writers\""), "line: a tick with its item's text (%s)", line);
	free(line);
	line = evp_event_line(&tk);
	ok(!strstr(line, "Stop the writers"), "line: without a runbook, the id only");
	free(line);
	tk.item = "5.2";
	line = evp_event_line_rb(&tk, rb);
	ok(strstr(line, "...\"") && !strstr(line, "x end"), "line: a long text is cut (%s)", line);
	ok(strstr(line, "\xc3\xa9...") != NULL, "line: ... on a whole character");
	free(line);
	runbook_free(rb);

	/* a counts snapshot's verdict in the core's words */
	st_event cn = {.id = 51, .ts = 1700000000, .operator_name = "ana", .kind = EV_COUNTS,
	               .payload = "{\"match\":false,\"exact\":true,\"tables\":["
	                          "{\"table\":\"a\",\"source\":5,\"target\":4,\"exact\":true,\"match\":false,\"state\":\"mismatched\"},"
	                          "{\"table\":\"b\",\"source\":5,\"target\":5,\"exact\":true,\"match\":true,\"state\":\"matched\"},"
	                          "{\"table\":\"c\",\"source\":5,\"target\":5,\"exact\":true,\"match\":false,\"state\":\"error\"}]}"};
	char *brief = evp_event_brief(&cn);
	is_str(brief, "1 differ, 1 equal, 1 unknown", "brief: a counts snapshot's verdict");
	free(brief);
	act_masker_free(m);
}

/* sequences_synced: keys, their order, int64 values written exactly (past
 * 2^53, where a double would round), a side never called as null, the
 * brief in the log line. */
static void sequences_synced(void)
{
	seq_entry e[2] = {0};
	e[0].sequence = "public.big_id_seq";
	e[0].data_type = "bigint";
	e[0].kind = SEQ_IDENTITY;
	e[0].table = "public.big";
	e[0].column = "id";
	e[0].src = (seq_side){.present = true, .called = true, .last_value = 9007199254740993LL,
	                      .max_value = INT64_MAX, .has_col_max = true, .col_max = 9007199254740993LL,
	                      .headroom = 5, .low = true};
	e[0].dst = (seq_side){.present = true, .max_value = INT64_MAX, .has_col_max = true, .col_max = 7,
	                      .headroom = 9};
	e[0].has_want = true;
	e[0].want = 9007199254741993LL;
	e[0].behind = true;
	e[0].statement = "SELECT pg_catalog.setval('public.big_id_seq', 9007199254741993, true);";
	e[1].sequence = "public.loose";
	e[1].data_type = "bigint";
	e[1].kind = SEQ_UNOWNED;
	e[1].dst = (seq_side){.present = true, .max_value = 10, .headroom = 9};
	seq_report r = {.v = e, .n = 2, .have_source = false, .offset = 1000, .floor = 10,
	                .n_behind = 1, .n_low = 1, .n_unowned = 1, .n_statements = 1};
	char *got = evp_sequences_write(&r, 1, NULL);
	is_str(got, "{\"offset\":1000,\"floor\":10,\"behind\":1,\"low\":1,\"unowned\":1,\"sequences\":["
	       "{\"sequence\":\"public.big_id_seq\",\"type\":\"bigint\",\"kind\":\"identity\",\"table\":\"public.big\","
	       "\"column\":\"id\",\"source\":null,\"target\":{\"last_value\":null,\"max_value\":9223372036854775807,"
	       "\"col_max\":7,\"headroom\":9,\"low\":false,\"error\":null},\"want\":9007199254741993,\"behind\":true,"
	       "\"statement\":\"SELECT pg_catalog.setval('public.big_id_seq', 9007199254741993, true);\",\"problem\":null},"
	       "{\"sequence\":\"public.loose\",\"type\":\"bigint\",\"kind\":\"unowned\",\"table\":null,\"column\":null,"
	       "\"source\":null,\"target\":{\"last_value\":null,\"max_value\":10,\"col_max\":null,\"headroom\":9,"
	       "\"low\":false,\"error\":null},\"want\":null,\"behind\":false,\"statement\":null,\"problem\":null}],"
	       "\"applied\":1,\"error\":null}", "sequences_synced: the payload, int64 exact");
	st_event ev = {.kind = EV_SEQUENCES_SYNCED, .payload = got};
	char *brief = evp_event_brief(&ev);
	is_str(brief, "1 set", "sequences_synced: the brief says how many were set");
	free(brief);
	free(got);
	got = evp_sequences_write(&r, 0, "target: boom");
	ev.payload = got;
	brief = evp_event_brief(&ev);
	is_str(brief, "FAILED after 0 of 1 set", "sequences_synced: a failed sync's brief");
	free(brief);
	free(got);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* freeze, go_board, go_decision, sync: keys and their order pinned. */
static void evidence_payloads(void)
{
	char **ign = calloc(2, sizeof *ign);
	ign[0] = strdup("rdsadmin");
	frz_watch w;
	frz_watch_init(&w, 30, ign, 1000);
	w.samples = 31;
	w.queries = 4;
	w.query_ms = 10;
	char *got = evp_freeze_write(&w, "check", "proven", 1031, NULL);
	is_str(got, "{\"mode\":\"check\",\"verdict\":\"proven\",\"evidence\":\"stats\",\"quiet_s\":30,"
	       "\"watched_s\":31,\"quiet_for_s\":31,\"samples\":31,\"writes_seen\":0,\"last_write\":null,"
	       "\"who\":\"no table written in 31 s; no other sessions\",\"commits\":0,\"written\":[],\"sessions\":[],"
	       "\"ignore\":[\"rdsadmin\"],\"queries\":4,\"query_ms_mean\":2.5,\"error\":null}", "freeze: the payload");
	st_event ev = {.kind = EV_FREEZE, .payload = got};
	char *brief = evp_event_brief(&ev);
	is_str(brief, "proven: quiet 31 s", "freeze: the brief");
	free(brief);
	evr_freeze f;
	evr_freeze_read(got, &f);
	is_str(f.verdict, "proven", "freeze: the verdict reads back");
	evr_freeze_free(&f);
	free(got);
	frz_watch_free(&w);

	go_board b = {.at = 2000, .freeze_at = 1500, .go = false};
	snprintf(b.switch_item, sizeof b.switch_item, "5.3");
	for (int i = 0; i < GO_N_INPUTS; i++)
		b.in[i] = (go_input){.status = GO_GREEN, .measured_at = 1900};
	snprintf(b.in[GO_IN_COUNTS].value, GO_VALUE_MAX, "clients: behind");
	b.in[GO_IN_COUNTS].status = GO_RED;
	b.in[GO_IN_VERIFY].status = GO_GREY;
	b.in[GO_IN_VERIFY].measured_at = 0;
	snprintf(b.in[GO_IN_VERIFY].value, GO_VALUE_MAX, "verify: not configured");
	got = evp_go_board_write(&b);
	ok(starts_with(got, "{\"go\":false,\"at\":2000,\"freeze_at\":1500,\"switch_item\":\"5.3\",\"red\":\"counts: clients: behind\","
	           "\"inputs\":{\"freeze\":{\"status\":\"green\",\"value\":\"\",\"measured_at\":1900,\"stale\":false},"),
	   "go_board: the payload's head");
	ok(strstr(got, "\"verify\":{\"status\":\"grey\",\"value\":\"verify: not configured\",\"measured_at\":null,\"stale\":false}") != NULL,
	   "go_board: verify not configured, grey");
	char *dec = evp_go_decision_write("owner accepts", "the board is red", 7, got);
	ok(starts_with(dec, "{\"decision\":\"override\",\"reason\":\"owner accepts\",\"why\":\"the board is red\",\"board_event\":7,"
	           "\"board\":{\"go\":false,"), "go_decision: the payload embeds the board");
	char *md = evp_go_decision_md(dec);
	ok(strstr(md, "  - reason: owner accepts\n") && strstr(md, "  - counts: red, clients: behind\n"), "go_decision: the post-mortem lines");
	free(md);
	free(dec);
	free(got);

	sync_report r = {.logical = false, .caught_up = true};
	snprintf(r.words, sizeof r.words, "script sync (no subscription): counts after the freeze equal");
	got = evp_sync_write(&r, false);
	is_str(got, "{\"mode\":\"script\",\"caught_up\":true,\"words\":\"script sync (no subscription): counts after the freeze equal\","
	       "\"stalled\":false,\"source_lsn\":null,\"post_freeze_lsn\":null,\"subscriptions\":[]}", "sync: the payload");
	evr_verdict v;
	evr_verdict_read(got, "caught_up", "words", &v);
	ok(v.ok && v.words && strncmp(v.words, "script sync", 11) == 0, "sync: the verdict reads back");
	evr_verdict_free(&v);
	free(got);
}

/* The verify payload's reader: what the gate and the go/no-go board read. */
static void verify_reader(void)
{
	evr_verify v;
	evr_verify_read("{\"equal\":false,\"complete\":true,\"summary\":\"1/2 tables equal; b: 1 missing\","
	                "\"tables\":[{\"table\":\"a\",\"equal\":true,\"state\":\"matched\"},"
	                "{\"table\":\"b\",\"equal\":false,\"state\":\"mismatched\",\"missing\":[3]}]}", &v);
	ok(!v.equal && v.complete, "verify: equal and complete read back");
	is_str(v.summary, "1/2 tables equal; b: 1 missing", "verify: summary");
	is_int((int)v.n_tables, 2, "verify: tables");
	ok(v.tables[0].equal && !v.tables[1].equal, "verify: each table's verdict");
	is_str(v.tables[1].state, "mismatched", "verify: a table's state");
	evr_verify_free(&v);
	evr_verify_read("not json", &v);
	ok(!v.equal && !v.complete && v.n_tables == 0 && !v.summary, "verify: a bad payload reads as nothing");
	evr_verify_free(&v);
}

int main(void)
{
	verify_reader();
	command_start();
	command_end();
	command_unknown();
	flag_set();
	flag_drift();
	rolled_back();
	rollback_failed();
	counts_snapshot();
	health_checks();
	lease_events();
	rehearsal_note();
	operator_kinds();
	embed();
	event_line_and_detail();
	sequences_synced();
	evidence_payloads();
	return done_testing();
}
