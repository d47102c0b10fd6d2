/*
 * status_json.c -- the `status --json` object from a ledger (see
 * status_json.h), factored out of cmd_status.c's builder so that replay
 * prints the state as of any point in exactly the same shape.  No I/O.
 */
#include "config.h"
#include "pgcutover/status_json.h"

#define STATUS_JSON_TIME_MAX 40

static cJSON *json_time(double t)
{
	if (t <= 0)
		return cJSON_CreateNull();
	char buf[STATUS_JSON_TIME_MAX];
	pgc_iso8601(t, buf, sizeof buf);
	return cJSON_CreateString(buf);
}

/* Seconds a phase took (completed) or has taken up to now (running); -1
 * when it has no start. */
double status_phase_duration(const lg_phase *lp, double now)
{
	if (lp->started_at <= 0)
		return -1;
	if (lp->completed_at > 0)
		return lp->completed_at - lp->started_at;
	if (lp->status == LG_PHASE_IN_PROGRESS)
		return now - lp->started_at;
	return -1;
}

cJSON *status_json_build(const ledger *lg, const char *state_path, double now)
{
	const runbook *rb = lg->rb;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "title", rb->title ? rb->title : "");
	cJSON_AddStringToObject(root, "runbook", rb->path ? rb->path : "");
	cJSON_AddStringToObject(root, "runbook_sha256", rb->sha256);
	cJSON_AddStringToObject(root, "state", state_path ? state_path : "");
	cJSON *phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t p = 0; p < rb->n_phases; p++) {
		const lg_phase *lp = &lg->phases[p];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", rb->phases[p].id);
		cJSON_AddStringToObject(o, "title", rb->phases[p].title ? rb->phases[p].title : "");
		cJSON_AddStringToObject(o, "status", lg_phase_status_name(lp->status));
		cJSON_AddNumberToObject(o, "done", lp->done);
		cJSON_AddNumberToObject(o, "total", lp->total);
		cJSON_AddItemToObject(o, "started_at", json_time(lp->started_at));
		cJSON_AddItemToObject(o, "completed_at", json_time(lp->completed_at));
		double d = status_phase_duration(lp, now);
		cJSON_AddItemToObject(o, "duration_s", d < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)(long)d));
		cJSON *changed = cJSON_AddArrayToObject(o, "changed_in_runbook");
		for (size_t i = 0; i < rb->phases[p].n_items; i++)
			if (lg->items[lg->phase_offset[p] + i].changed_in_runbook)
				cJSON_AddItemToArray(changed, cJSON_CreateString(rb->phases[p].items[i].id));
		cJSON_AddItemToArray(phases, o);
	}
	cJSON_AddNumberToObject(root, "items_done", lg->items_done);
	cJSON_AddNumberToObject(root, "items_total", lg->items_total);
	cJSON_AddNumberToObject(root, "last_event_id", (double)lg->last_event_id);
	cJSON_AddItemToObject(root, "last_event_at", json_time(lg->last_event_ts));
	cJSON_AddNumberToObject(root, "unmatched_events", lg->n_unmatched);
	return root;
}
