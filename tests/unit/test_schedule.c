/*
 * test_schedule.c -- the downtime clock, late steps and recurring duties of
 * schedule.c on a parsed runbook and a ledger fed events at fixed times (no
 * wall clock): the window found and its planned length across midnight,
 * the implicit start at the first tick or command run inside the window
 * (not a rollback run) and its end when
 * the window's items are done, an explicit downtime_start/end taking over,
 * a step's due time on the downtime's clock and lateness, interval parsing,
 * duties inactive before their phase starts, due from the phase start, then
 * from the last duty_done, overdue after the interval, and a ledger
 * snapshot that keeps the downtime and the duties.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/schedule.h"
#include "pgcutover/state.h"
#include "tap.h"

static const char RB[] =
	"# Sched\n"
	"\n"
	"## Phase 4: Parallel run\n"
	"\n"
	"- [ ] Dual write on\n"
	"- [ ] Every 2 hours: Error logs checked\n"
	"\n"
	"## Phase 5: Production Cutover\n"
	"\n"
	"### 5.2 Cutover Window (23:30-01:30)\n"
	"\n"
	"#### Stop Services (23:30, 5 min)\n"
	"- [ ] Stop the app\n"
	"\n"
	"#### Final sync (23:50, 30 min)\n"
	"- [ ] Sync the last rows\n";

static int64_t next_id = 1;

static void apply(ledger *lg, const char *kind, double ts, const char *phase, const char *item,
                  const char *payload)
{
	st_event ev = {.id = next_id++, .ts = ts, .operator_name = "op", .host = "h", .pid = 1,
	               .kind = (char *)kind, .phase = (char *)phase, .item = (char *)item,
	               .payload = (char *)payload};
	ledger_apply(lg, &ev);
}

static char *hash_payload(const runbook *rb, const char *id)
{
	static char buf[64];
	snprintf(buf, sizeof buf, "{\"hash\":\"%s\"}", runbook_item(rb, id, NULL)->hash);
	return buf;
}

static void span_is(double secs, const char *want, const char *name)
{
	char buf[SCHED_SPAN_MAX];
	sched_fmt_span(secs, buf, sizeof buf);
	is_str(buf, want, name);
}

int main(void)
{
	span_is(4 * 60 + 59, "4m", "span: minutes, seconds dropped");
	span_is(90 * 60, "90m", "span: 90 minutes still in minutes");
	span_is(91 * 60, "1h31m", "span: past 90 minutes, hours and minutes");
	span_is(509 * 60, "8h29m", "span: 509 minutes are 8h29m");
	span_is(48 * 3600, "48h00m", "span: 48 hours still in hours");
	span_is(50 * 3600 + 59 * 60, "2d02h", "span: past 48 hours, days and hours");
	span_is(-30, "0m", "span: negative is 0");

	runbook *rb = NULL;
	pgc_err e = {0};
	if (runbook_parse(RB, strlen(RB), "s.md", NULL, &rb, &e) < 0) {
		printf("# %s\n", e.msg);
		return 1;
	}
	const double T0 = 1800000000.0;   /* fixed, any */
	const double MIN = 60;

	is_int(sched_minutes_between("23:30", "01:30"), 120, "window across midnight: 120 min");
	is_int(sched_minutes_between("02:00", "06:00"), 240, "02:00-06:00: 240 min");
	is_int(sched_minutes_between("2 am", "06:00"), -1, "not times: -1");
	is_int(sched_parse_every("2 hours"), 7200, "every: 2 hours");
	is_int(sched_parse_every("30 min"), 1800, "every: 30 min");
	is_int(sched_parse_every("15 minutes"), 900, "every: 15 minutes");
	is_int(sched_parse_every("hour"), 3600, "every: hour");
	is_int(sched_parse_every("day"), 86400, "every: day");
	is_int(sched_parse_every("fortnight"), -1, "every: unknown unit");

	ledger *lg = ledger_new(rb);
	sched_downtime d;
	sched_downtime_get(rb, lg, T0, &d);
	ok(d.has_window, "the cutover window is found");
	is_int(d.plan_min, 120, "planned downtime 120 min");
	ok(d.start == 0 && !d.running, "not started before anything happens");

	/* implicit start at the first tick in the window */
	apply(lg, EV_TICK, T0, "5", "5.1", hash_payload(rb, "5.1"));
	sched_downtime_get(rb, lg, T0 + 10 * MIN, &d);
	ok(d.start == T0 && d.running && !d.explicit_start, "implicit start at the first tick inside the window");
	ok(d.elapsed_s == 10 * MIN, "elapsed runs with now");
	/* step 5.2 "Final sync (23:50, 30 min)": due 20 + 30 min after the start */
	double due = sched_step_due(rb, 1, 2, &d);
	ok(due == T0 + 50 * MIN, "a step is due at start + offset in the window + duration (%.0f)", due - T0);
	ok(sched_step_due(rb, 1, 1, &d) == T0 + 5 * MIN, "the first step: 5 min after the start");
	ok(sched_step_due(rb, 0, 0, &d) == 0, "steps outside the window have no due time");
	apply(lg, EV_TICK, T0 + 60 * MIN, "5", "5.2", hash_payload(rb, "5.2"));
	sched_downtime_get(rb, lg, T0 + 70 * MIN, &d);
	ok(!d.running && d.end == T0 + 60 * MIN && d.elapsed_s == 60 * MIN,
	   "implicit: ends when every item of the window is ticked");

	/* a command run inside the window starts the clock before its tick */
	{
		ledger *lr = ledger_new(rb);
		char pl[160];
		snprintf(pl, sizeof pl, "{\"item_hash\":\"%s\",\"rollback\":true}", runbook_item(rb, "5.1", NULL)->hash);
		apply(lr, "command_start", T0 - 30 * MIN, "5", "5.1", pl);
		apply(lr, "command_start", T0 - 20 * MIN, "5", "5.1", "{\"item_hash\":\"0000\"}");
		sched_downtime_get(rb, lr, T0, &d);
		ok(d.start == 0, "a rollback run, or a run of an item whose text changed, starts nothing");
		snprintf(pl, sizeof pl, "{\"item_hash\":\"%s\",\"rollback\":false}", runbook_item(rb, "5.1", NULL)->hash);
		apply(lr, "command_start", T0 - 5 * MIN, "5", "5.1", pl);
		apply(lr, "command_start", T0 - 2 * MIN, "5", "5.1", pl);
		sched_downtime_get(rb, lr, T0, &d);
		ok(d.start == T0 - 5 * MIN && d.running && !d.explicit_start,
		   "implicit start at the first command run inside the window");
		apply(lr, EV_TICK, T0, "5", "5.1", hash_payload(rb, "5.1"));
		apply(lr, EV_TICK, T0 + 40 * MIN, "5", "5.2", hash_payload(rb, "5.2"));
		sched_downtime_get(rb, lr, T0 + 50 * MIN, &d);
		ok(!d.running && d.elapsed_s == 45 * MIN, "it ends at the last tick: 45 min from the run");
		char *sn = ledger_snapshot_json(lr);
		ledger *lr2 = ledger_new(rb);
		ok(ledger_restore_snapshot(lr2, sn, lr->last_event_id, &e) == 0, "snapshot with a run restores");
		sched_downtime_get(rb, lr2, T0 + 50 * MIN, &d);
		ok(d.start == T0 - 5 * MIN, "the snapshot keeps when the command first ran");
		free(sn);
		ledger_free(lr2);
		apply(lr, EV_PHASE_ROLLED_BACK, T0 + 60 * MIN, "5", NULL, "{}");
		sched_downtime_get(rb, lr, T0 + 61 * MIN, &d);
		ok(d.start == 0, "the phase rolled back: the runs before it start nothing");
		ledger_free(lr);
	}

	/* explicit events take over */
	apply(lg, EV_DOWNTIME_START, T0 + 100 * MIN, "5", NULL, "{\"reason\":\"explicit\"}");
	sched_downtime_get(rb, lg, T0 + 300 * MIN, &d);
	ok(d.explicit_start && d.start == T0 + 100 * MIN && d.running, "downtime_start: the clock starts there");
	ok(d.over, "past the 120 planned minutes: over");
	apply(lg, EV_DOWNTIME_START, T0 + 110 * MIN, "5", NULL, "{}");
	sched_downtime_get(rb, lg, T0 + 120 * MIN, &d);
	ok(d.start == T0 + 100 * MIN, "a second start while running keeps the first");
	apply(lg, EV_DOWNTIME_END, T0 + 190 * MIN, "5", NULL, "{}");
	sched_downtime_get(rb, lg, T0 + 500 * MIN, &d);
	ok(!d.running && d.explicit_end && d.elapsed_s == 90 * MIN && !d.over,
	   "downtime_end stops it: 90 of 120 min, not over");

	/* duties */
	sched_duty *v;
	size_t n = sched_duties(rb, lg, T0, &v);
	is_int(n, 1, "one recurring duty");
	ok(n == 1 && !v[0].active && v[0].next_due == 0, "inactive before its phase starts");
	free(v);
	apply(lg, EV_TICK, T0 + 1000 * MIN, "4", "4.1", hash_payload(rb, "4.1"));
	n = sched_duties(rb, lg, T0 + 1001 * MIN, &v);
	ok(n == 1 && v[0].active && v[0].next_due == T0 + 1120 * MIN && !v[0].overdue,
	   "phase in progress: due 2 hours after the phase's start");
	free(v);
	n = sched_duties(rb, lg, T0 + 1121 * MIN, &v);
	ok(n == 1 && v[0].overdue, "overdue past the interval");
	free(v);
	apply(lg, EV_DUTY_DONE, T0 + 1130 * MIN, "4", "4.2", hash_payload(rb, "4.2"));
	n = sched_duties(rb, lg, T0 + 1131 * MIN, &v);
	ok(n == 1 && !v[0].overdue && v[0].next_due == T0 + 1250 * MIN && v[0].count == 1 &&
	   v[0].last_by && strcmp(v[0].last_by, "op") == 0,
	   "duty_done: not overdue, next due 2 hours after it, who and how many times");
	free(v);

	/* snapshots keep both */
	char *snap = ledger_snapshot_json(lg);
	ledger *lg2 = ledger_new(rb);
	ok(ledger_restore_snapshot(lg2, snap, lg->last_event_id, &e) == 0, "snapshot restores");
	sched_downtime d2;
	sched_downtime_get(rb, lg2, T0 + 500 * MIN, &d2);
	ok(d2.start == d.start && d2.end == d.end && d2.explicit_start, "the snapshot keeps the downtime");
	n = sched_duties(rb, lg2, T0 + 1131 * MIN, &v);
	ok(n == 1 && v[0].count == 1 && v[0].last_done == T0 + 1130 * MIN, "the snapshot keeps the duties");
	free(v);
	free(snap);
	ledger_free(lg2);
	ledger_free(lg);
	runbook_free(rb);

	/* issue 15 item 2: countdown steps are placed from go-time */
	static const char CD[] = "# C\n## Prep\n### T-48 Hours (2 Days Before)\n**Duration:** 30 minutes\n- [ ] a\n"
	                         "## Cutover\n### Window (8:00 AM - 2:00 PM)\n- [ ] b\n### T+30 min\n- [ ] c\n";
	if (runbook_parse(CD, strlen(CD), "c.md", NULL, &rb, &e) < 0) {
		printf("# %s\n", e.msg);
		return 1;
	}
	lg = ledger_new(rb);
	sched_downtime_get(rb, lg, T0, &d);
	is_int(d.plan_min, 360, "a 12-hour window (8:00 AM - 2:00 PM) is 6 hours of downtime");
	ok(sched_step_due(rb, 0, 0, &d) == 0, "before go-time a countdown step has no due time");
	apply(lg, EV_DOWNTIME_START, T0, "cutover", NULL, "{}");
	sched_downtime_get(rb, lg, T0 + MIN, &d);
	ok(sched_step_due(rb, 0, 0, &d) == T0 - 48 * 60 * MIN + 30 * MIN,
	   "T-48 Hours, 30 minutes long: due 47h30m before go-time, in another phase");
	ok(sched_step_due(rb, 1, 1, &d) == T0 + 30 * MIN, "T+30 min: 30 minutes after go-time");
	char off[SCHED_SPAN_MAX];
	sched_fmt_offset(-48 * 60, off, sizeof off);
	is_str(off, "T-2d", "offset words: T-2d");
	sched_fmt_offset(-120, off, sizeof off);
	is_str(off, "T-2h", "offset words: T-2h");
	sched_fmt_offset(30, off, sizeof off);
	is_str(off, "T+30m", "offset words: T+30m");
	ledger_free(lg);
	runbook_free(rb);
	return done_testing();
}
