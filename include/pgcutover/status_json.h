/*
 * status_json.h -- the `status --json` object built from a ledger, shared by
 * `status`, `replay --json` (the state as of a point in the log) and anything
 * else that reports progress per phase.  The shape is an interface (see
 * pgcutover(1)): title, runbook, runbook_sha256, state, current,
 * in_progress, phases[{id, title, status, done, total, started_at,
 * completed_at, duration_s, changed_in_runbook, blocked, blocked_by}],
 * items_done, items_total, last_event_id, last_event_at, unmatched_events,
 * downtime, duties, last_run.
 */
#ifndef PGCUTOVER_STATUS_JSON_H
#define PGCUTOVER_STATUS_JSON_H

#include <cjson/cJSON.h>
#include "pgcutover/config.h"
#include "pgcutover/ledger.h"

/* now: the time a running phase's duration runs up to (the wall clock for
 * status, the cursor for replay).  cfg (its counts gates; may be NULL:
 * nothing is blocked) and state_path may be NULL.  Caller frees with
 * cJSON_Delete. */
cJSON *status_json_build(const ledger *lg, const config *cfg, const char *state_path, double now);
/* Seconds a phase took (completed) or has taken up to now (running); -1
 * when it has no start. */
double status_phase_duration(const lg_phase *lp, double now);
/* {"phase","window","window_from","window_to","planned_s","started_at",
 *  "ended_at","explicit_start","explicit_end","running","elapsed_s","over",
 *  "late_steps":[{"step","due_at","late_s"}]} (schedule.h) */
cJSON *status_downtime_json(const runbook *rb, ledger *lg, double now);
/* [{"item","text","every","every_s","active","last_done_at","last_done_by",
 *   "count","next_due_at","overdue"}] */
cJSON *status_duties_json(const runbook *rb, ledger *lg, double now);
/* An item's last command run (the "last_run" object, keyed by the id of
 * every item that ran): {"state":"running"|"ok"|"failed","start_id",
 * "started_at","ended_at","status","exit","duration_s"} (null where it does
 * not apply; duration_s so far while it runs); null when it never ran. */
cJSON *status_run_json(const lg_run *r, double now);

#endif
