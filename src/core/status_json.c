/*
 * status_json.c -- the `status --json` object from a ledger (see
 * status_json.h), factored out of cmd_status.c's builder so that replay
 * prints the state as of any point in exactly the same shape.  No I/O.
 */
#include "config.h"
#include <stdlib.h>
#include "pgcutover/status_json.h"
#include "pgcutover/ops.h"
#include "pgcutover/schedule.h"

#define STATUS_JSON_TIME_MAX 40
#define STATUS_JSON_CURRENT_MAX 512

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

cJSON *status_downtime_json(const runbook *rb, ledger *lg, double now)
{
	sched_downtime d;
	sched_downtime_get(rb, lg, now, &d);
	cJSON *o = cJSON_CreateObject();
	if (d.has_window) {
		const rb_step *st = &rb->phases[d.phase].steps[d.step];
		cJSON_AddStringToObject(o, "phase", rb->phases[d.phase].id);
		cJSON_AddStringToObject(o, "window", st->title ? st->title : "");
		cJSON_AddStringToObject(o, "window_from", st->window_from);
		cJSON_AddStringToObject(o, "window_to", st->window_to);
	}
	cJSON_AddItemToObject(o, "planned_s", d.plan_min >= 0 ? cJSON_CreateNumber(d.plan_min * 60.0) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "started_at", json_time(d.start));
	cJSON_AddItemToObject(o, "ended_at", json_time(d.end));
	cJSON_AddBoolToObject(o, "explicit_start", d.explicit_start);
	cJSON_AddBoolToObject(o, "explicit_end", d.explicit_end);
	cJSON_AddBoolToObject(o, "running", d.running);
	cJSON_AddItemToObject(o, "elapsed_s", d.start > 0 ? cJSON_CreateNumber((double)(long)d.elapsed_s) : cJSON_CreateNull());
	cJSON_AddBoolToObject(o, "over", d.over);
	cJSON *late = cJSON_AddArrayToObject(o, "late_steps");
	/* the window's steps, and countdown steps ("T+30 min") of any phase */
	for (size_t p = 0; d.start > 0 && p < rb->n_phases; p++) {
		const rb_phase *ph = &rb->phases[p];
		double t = d.running ? now : d.end;
		for (size_t s = 0; s < ph->n_steps; s++) {
			double due = sched_step_due(rb, p, s, &d);
			if (due <= 0 || t <= due)
				continue;
			bool open = false;
			for (size_t i = 0; i < ph->n_items; i++)
				if (ph->items[i].step == (int)s && ledger_item_counts(&ph->items[i]) &&
				    !ledger_item(lg, p, i)->done)
					open = true;
			if (!open)
				continue;
			cJSON *l = cJSON_CreateObject();
			cJSON_AddStringToObject(l, "step", ph->steps[s].title ? ph->steps[s].title : "");
			cJSON_AddStringToObject(l, "phase", ph->id);
			cJSON_AddItemToObject(l, "due_at", json_time(due));
			cJSON_AddNumberToObject(l, "late_s", (double)(long)(t - due));
			cJSON_AddItemToArray(late, l);
		}
	}
	return o;
}

cJSON *status_duties_json(const runbook *rb, ledger *lg, double now)
{
	sched_duty *v;
	size_t n = sched_duties(rb, lg, now, &v);
	cJSON *arr = cJSON_CreateArray();
	for (size_t k = 0; k < n; k++) {
		const sched_duty *d = &v[k];
		const rb_item *it = &rb->phases[d->phase].items[d->item];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "item", it->id);
		cJSON_AddStringToObject(o, "text", it->text ? it->text : "");
		cJSON_AddStringToObject(o, "every", it->recurring);
		cJSON_AddItemToObject(o, "every_s", d->every_s > 0 ? cJSON_CreateNumber(d->every_s) : cJSON_CreateNull());
		cJSON_AddBoolToObject(o, "active", d->active);
		cJSON_AddItemToObject(o, "last_done_at", json_time(d->last_done));
		cJSON_AddItemToObject(o, "last_done_by", d->last_by ? cJSON_CreateString(d->last_by) : cJSON_CreateNull());
		cJSON_AddNumberToObject(o, "count", d->count);
		cJSON_AddItemToObject(o, "next_due_at", json_time(d->next_due));
		cJSON_AddBoolToObject(o, "overdue", d->overdue);
		cJSON_AddItemToArray(arr, o);
	}
	free(v);
	return arr;
}

/* "blocked" and "blocked_by": [{"table", "difference" (target - source,
 * null without exact counts), "why"}] from ops_phase_gate(). */
static void add_gate(cJSON *o, const config *cfg, const ledger *lg, size_t p)
{
	ops_gate g;
	ops_phase_gate(cfg, lg, p, &g);
	cJSON_AddBoolToObject(o, "blocked", g.blocked);
	cJSON *by = cJSON_AddArrayToObject(o, "blocked_by");
	for (size_t t = 0; g.blocked && t < g.n_tables; t++) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "table", g.tables[t].name);
		cJSON_AddItemToObject(b, "difference", g.tables[t].counted ? cJSON_CreateNumber((double)g.tables[t].diff)
		                                                            : cJSON_CreateNull());
		cJSON_AddStringToObject(b, "why", g.tables[t].why);
		cJSON_AddItemToArray(by, b);
	}
	if (g.blocked && g.n_tables == 0) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddNullToObject(b, "table");
		cJSON_AddNullToObject(b, "difference");
		cJSON_AddStringToObject(b, "why", g.summary);
		cJSON_AddItemToArray(by, b);
	}
	ops_gate_free(&g);
}

cJSON *status_run_json(const lg_run *r, double now)
{
	const char *state = lg_run_state(r);
	if (!state)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddNumberToObject(o, "start_id", (double)r->start_id);
	cJSON_AddItemToObject(o, "started_at", json_time(r->started_at));
	cJSON_AddItemToObject(o, "ended_at", json_time(r->ended_at));
	cJSON_AddItemToObject(o, "status", r->ended_at > 0 ? cJSON_CreateString(r->status) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "exit", r->has_exit ? cJSON_CreateNumber(r->exit_code) : cJSON_CreateNull());
	double d = r->ended_at > 0 ? r->duration_s : now - r->started_at;
	cJSON_AddItemToObject(o, "duration_s", d >= 0 ? cJSON_CreateNumber(d) : cJSON_CreateNull());
	return o;
}

cJSON *status_json_build(const ledger *lg, const config *cfg, const char *state_path, double now)
{
	const runbook *rb = lg->rb;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "title", rb->title ? rb->title : "");
	cJSON_AddStringToObject(root, "runbook", rb->path ? rb->path : "");
	cJSON_AddStringToObject(root, "runbook_sha256", rb->sha256);
	cJSON_AddStringToObject(root, "state", state_path ? state_path : "");
	char cur[STATUS_JSON_CURRENT_MAX];
	ledger_current_words(lg, cur, sizeof cur);
	cJSON_AddStringToObject(root, "current", cur);
	cJSON *inp = cJSON_AddArrayToObject(root, "in_progress");
	size_t np = ledger_phases_in_progress(lg, NULL, 0);
	size_t *idx = xcalloc(np ? np : 1, sizeof *idx);
	ledger_phases_in_progress(lg, idx, np);
	for (size_t k = 0; k < np; k++)
		cJSON_AddItemToArray(inp, cJSON_CreateString(rb->phases[idx[k]].id));
	free(idx);
	cJSON *phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t p = 0; p < rb->n_phases; p++) {
		const lg_phase *lp = &lg->phases[p];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", rb->phases[p].id);
		cJSON_AddStringToObject(o, "title", rb->phases[p].title ? rb->phases[p].title : "");
		cJSON_AddStringToObject(o, "status", lg_phase_status_name(lp->status));
		if (lp->rollback_failed)
			cJSON_AddStringToObject(o, "rollback_failed", lp->rollback_failed);
		else
			cJSON_AddNullToObject(o, "rollback_failed");
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
		add_gate(o, cfg, lg, p);
		cJSON_AddItemToArray(phases, o);
	}
	cJSON_AddItemToObject(root, "downtime", status_downtime_json(rb, (ledger *)lg, now));
	cJSON_AddItemToObject(root, "duties", status_duties_json(rb, (ledger *)lg, now));
	cJSON *runs = cJSON_AddObjectToObject(root, "last_run");   /* item id: its last run */
	for (size_t p = 0; p < rb->n_phases; p++)
		for (size_t i = 0; i < rb->phases[p].n_items; i++) {
			const lg_run *r = &lg->items[lg->phase_offset[p] + i].last_run;
			if (r->start_id)
				cJSON_AddItemToObject(runs, rb->phases[p].items[i].id, status_run_json(r, now));
		}
	cJSON_AddNumberToObject(root, "items_done", lg->items_done);
	cJSON_AddNumberToObject(root, "items_total", lg->items_total);
	cJSON_AddNumberToObject(root, "last_event_id", (double)lg->last_event_id);
	cJSON_AddItemToObject(root, "last_event_at", json_time(lg->last_event_ts));
	cJSON_AddNumberToObject(root, "unmatched_events", lg->n_unmatched);
	return root;
}
