/*
 * test_ledger.c -- folding events over a runbook: initial [x] state, ticks
 * and unticks by whom and when, notes at item/phase/general level, phase
 * status and times, overrides, counts, ticks that follow a moved item and
 * ticks that must not land on a different item, snapshots, catch-up through
 * a real state file, and the runbook diff.  Runbooks are parsed from small
 * inline texts with runbook_parse().
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/evpay.h"
#include "pgcutover/ledger.h"
#include "tap.h"

static const char RB_V1[] =
	"# Test migration\n"
	"\n"
	"## Phase 0: Access\n"
	"\n"
	"- [x] Jump host provisioned\n"
	"- [x] Read-only role created\n"
	"\n"
	"## Phase 1: Copy\n"
	"\n"
	"### 1.1 Copy data\n"
	"\n"
	"- [ ] Stop writes\n"
	"- [ ] Copy customers\n"
	"- [ ] Copy orders\n"
	"- [N/A] Copy legacy table\n"
	"\n"
	"### 1.2 Rollback (if needed)\n"
	"\n"
	"- [ ] Revert the app config\n"
	"\n"
	"## Phase 2: Cutover\n"
	"\n"
	"- [ ] Point the app at the new database\n";

/* Same items, but one inserted before "Copy customers" (which moves from
 * 1.2 to 1.3) and "Copy orders" edited in place. */
static const char RB_V2[] =
	"# Test migration\n"
	"\n"
	"## Phase 0: Access\n"
	"\n"
	"- [x] Jump host provisioned\n"
	"- [x] Read-only role created\n"
	"\n"
	"## Phase 1: Copy\n"
	"\n"
	"### 1.1 Copy data\n"
	"\n"
	"- [ ] Stop writes\n"
	"- [ ] Take a backup first\n"
	"- [ ] Copy customers\n"
	"- [ ] Copy all orders\n"
	"- [N/A] Copy legacy table\n"
	"\n"
	"### 1.2 Rollback (if needed)\n"
	"\n"
	"- [ ] Revert the app config\n"
	"\n"
	"## Phase 2: Cutover\n"
	"\n"
	"- [ ] Point the app at the new database\n";

static runbook *parse(const char *text)
{
	runbook *rb = NULL;
	pgc_err e = {0};
	if (runbook_parse(text, strlen(text), "test.md", NULL, &rb, &e) < 0)
		printf("# parse: %s\n", e.msg);
	return rb;
}

static int64_t next_id = 1;

static void apply(ledger *lg, const char *kind, const char *op, double ts,
                  const char *phase, const char *item, const char *payload)
{
	st_event ev = {.id = next_id++, .ts = ts, .operator_name = (char *)op, .host = "h",
	               .pid = 1, .kind = (char *)kind, .phase = (char *)phase,
	               .item = (char *)item, .payload = (char *)payload};
	ledger_apply(lg, &ev);
}

static const rb_item *item_of(const runbook *rb, const char *id)
{
	return runbook_item(rb, id, NULL);
}

/* A tick payload as cmd_tick writes it: the item's hash (and a note). */
static char *tick_payload(const runbook *rb, const char *id, const char *note)
{
	const rb_item *it = item_of(rb, id);
	if (note)
		return xasprintf("{\"hash\":\"%s\",\"note\":\"%s\"}", it ? it->hash : "", note);
	return xasprintf("{\"hash\":\"%s\"}", it ? it->hash : "");
}

static void tick(ledger *lg, const runbook *rb, const char *op, double ts, const char *phase,
                 const char *id, const char *note)
{
	char *pl = tick_payload(rb, id, note);
	apply(lg, EV_TICK, op, ts, phase, id, pl);
	free(pl);
}

static void test_fold(void)
{
	runbook *rb = parse(RB_V1);
	ok(rb != NULL, "parse the test runbook");
	if (!rb)
		return;
	ledger *lg = ledger_new(rb);
	size_t p, i;
	ok(ledger_find_item(lg, "1.2", &p, &i) == 0 && p == 1 && i == 1, "find item 1.2");
	ok(ledger_find_item(lg, "1.99", &p, &i) < 0, "no item 1.99");
	ok(ledger_find_item(lg, "9.1", &p, &i) < 0, "no phase 9");
	ok(ledger_find_phase(lg, "2", &p) == 0 && p == 2, "find phase 2");

	ok(ledger_item(lg, 0, 0)->done && !ledger_item(lg, 0, 0)->done_by, "[x] in the file is done, by nobody");
	is_int(lg->phases[0].status, LG_PHASE_DONE, "phase 0 all [x]: done");
	is_int(lg->phases[1].total, 3, "phase 1 total leaves out [N/A] and rollback items");
	is_int(lg->phases[1].status, LG_PHASE_NOT_STARTED, "phase 1 not started");
	is_str(lg_phase_status_words(lg->phases[1].status), "not started", "in words for a person");
	is_str(lg_phase_status_words(LG_PHASE_ROLLED_BACK), "rolled back", "rolled back in words");
	int total_counted = 0;
	for (size_t q = 0; q < rb->n_phases; q++)
		for (size_t k = 0; k < rb->phases[q].n_items; k++)
			total_counted += ledger_item_counts(&rb->phases[q].items[k]);
	is_int(lg->items_total, total_counted, "items_total sums the counted items");
	is_int(lg->items_done, 2, "items_done starts at the file's [x]");

	tick(lg, rb, "alice", 1000.0, "1", "1.1", "writes stopped at 02:01");
	lg_item *it = ledger_item(lg, 1, 0);
	ok(it->done, "tick marks the item done");
	is_str(it->done_by, "alice", "done_by is the operator");
	ok(it->done_at == 1000.0, "done_at is the event time");
	is_int(it->n_notes, 1, "a tick's note is kept on the item");
	is_str(it->n_notes ? it->notes[0].text : NULL, "writes stopped at 02:01", "note text");
	is_int(lg->phases[1].status, LG_PHASE_IN_PROGRESS, "phase 1 in progress after a tick");
	ok(lg->phases[1].started_at == 1000.0, "phase started at the first tick");
	is_int(lg->phases[1].done, 1, "phase 1 done count");

	tick(lg, rb, "bob", 1100.0, "1", "1.2", NULL);
	tick(lg, rb, "bob", 1200.0, "1", "1.3", NULL);
	is_int(lg->phases[1].status, LG_PHASE_DONE, "all counted items ticked: done");
	apply(lg, EV_PHASE_COMPLETE, "bob", 1200.0, "1", NULL, "{}");
	ok(lg->phases[1].completed_at == 1200.0, "completed_at from phase_complete");
	ok(!ledger_item(lg, 1, 4)->done, "the rollback item is untouched");

	apply(lg, EV_UNTICK, "carol", 1300.0, "1", "1.2", "{\"reason\":\"count mismatch\"}");
	ok(!ledger_item(lg, 1, 1)->done && !ledger_item(lg, 1, 1)->done_by, "untick clears done and done_by");
	is_int(lg->phases[1].status, LG_PHASE_IN_PROGRESS, "phase back in progress after an untick");
	ok(lg->phases[1].completed_at == 0, "untick clears completed_at");
	ok(ledger_item(lg, 1, 1)->n_notes == 1 && strstr(ledger_item(lg, 1, 1)->notes[0].text, "count mismatch"),
	   "the untick reason is kept as a note");

	apply(lg, EV_UNTICK, "carol", 1310.0, "0", "0.1", "{}");
	is_int(lg->phases[0].status, LG_PHASE_IN_PROGRESS, "unticking a file [x] item reopens its phase");

	apply(lg, EV_NOTE, "dave", 1400.0, "2", NULL, "{\"text\":\"phase 2 waits for the DBA\"}");
	apply(lg, EV_NOTE, "dave", 1401.0, NULL, NULL, "{\"text\":\"general remark\"}");
	apply(lg, EV_NOTE, "dave", 1402.0, "1", "1.3", "{\"text\":\"orders copied twice\"}");
	is_int(lg->phases[2].n_notes, 1, "phase note");
	is_int(lg->n_general_notes, 1, "general note");
	is_int(ledger_item(lg, 1, 2)->n_notes, 1, "item note");
	is_int(lg->phases[2].status, LG_PHASE_NOT_STARTED, "a note does not start a phase");

	apply(lg, EV_PHASE_OVERRIDE, "erin", 1500.0, "1", NULL, "{\"status\":\"rolled_back\",\"reason\":\"abort\"}");
	is_int(lg->phases[1].status, LG_PHASE_ROLLED_BACK, "override: rolled back");
	apply(lg, EV_PHASE_OVERRIDE, "erin", 1501.0, "1", NULL, "{\"status\":\"auto\"}");
	is_int(lg->phases[1].status, LG_PHASE_IN_PROGRESS, "override auto: back to derived status");
	apply(lg, EV_PHASE_OVERRIDE, "erin", 1502.0, "1", NULL, "{\"status\":\"rolled_back\"}");
	size_t before = lg->phases[1].n_notes;
	apply(lg, EV_PHASE_OVERRIDE, "erin", 1503.0, "1", NULL, "{\"reason\":\"phase 0 signed off by phone\",\"item\":\"1.3\"}");
	is_int(lg->phases[1].status, LG_PHASE_ROLLED_BACK, "an order override without status forces nothing");
	ok(lg->phases[1].n_notes == before + 1 &&
	   strstr(lg->phases[1].notes[before].text, "signed off by phone") != NULL, "its reason is kept as a phase note");
	apply(lg, EV_PHASE_OVERRIDE, "erin", 1504.0, "1", NULL, "{\"status\":\"auto\"}");

	apply(lg, EV_COUNTS, "erin", 1600.0, NULL, NULL, "{\"tables\":[]}");
	is_str(lg->last_counts, "{\"tables\":[]}", "last counts payload kept");
	ok(lg->last_counts_ts == 1600.0, "last counts time kept");
	apply(lg, "some_future_kind", "erin", 1700.0, NULL, NULL, "{}");
	is_int(lg->last_event_id, next_id - 1, "unknown kinds still advance last_event_id");

	apply(lg, EV_TICK, "x", 1800.0, "1", "1.77", "{\"hash\":\"0123456789abcdef\"}");
	is_int(lg->n_unmatched, 1, "a tick of an unknown item is counted as unmatched");

	/* Snapshot round trip. */
	char *snap = ledger_snapshot_json(lg);
	ledger *lg2 = ledger_new(rb);
	pgc_err e = {0};
	ok(ledger_restore_snapshot(lg2, snap, lg->last_event_id, &e) == 0, "restore a snapshot");
	int same = lg2->items_done == lg->items_done && lg2->n_unmatched == lg->n_unmatched &&
	           lg2->n_general_notes == lg->n_general_notes;
	for (size_t q = 0; q < rb->n_phases; q++) {
		same &= lg2->phases[q].status == lg->phases[q].status;
		same &= lg2->phases[q].done == lg->phases[q].done;
		same &= lg2->phases[q].started_at == lg->phases[q].started_at;
		same &= lg2->phases[q].n_notes == lg->phases[q].n_notes;
		for (size_t k = 0; k < rb->phases[q].n_items; k++) {
			lg_item *a = ledger_item(lg, q, k), *b = ledger_item(lg2, q, k);
			same &= a->done == b->done && a->n_notes == b->n_notes && a->done_at == b->done_at;
			same &= (!a->done_by && !b->done_by) || (a->done_by && b->done_by && !strcmp(a->done_by, b->done_by));
		}
	}
	ok(same, "restored ledger equals the folded one");
	is_int(lg2->last_event_id, lg->last_event_id, "restored ledger knows its event id");
	runbook *other = parse(RB_V2);
	ledger *lg3 = other ? ledger_new(other) : NULL;
	ok(lg3 && ledger_restore_snapshot(lg3, snap, 1, &e) < 0,
	   "a snapshot does not restore over a different runbook shape");
	ledger_free(lg3);
	runbook_free(other);
	free(snap);
	ledger_free(lg2);
	ledger_free(lg);
	runbook_free(rb);
}

static void test_changed_runbook(void)
{
	runbook *v1 = parse(RB_V1), *v2 = parse(RB_V2);
	if (!v1 || !v2) {
		ok(0, "parse both runbook versions");
		return;
	}
	/* Ticks recorded against v1, folded over v2. */
	char *pl_customers = tick_payload(v1, "1.2", NULL);   /* "Copy customers" */
	char *pl_orders = tick_payload(v1, "1.3", NULL);      /* "Copy orders" */
	ledger *lg = ledger_new(v2);
	apply(lg, EV_TICK, "alice", 10.0, "1", "1.2", pl_customers);
	size_t p, i;
	ledger_find_item(lg, "1.2", &p, &i);
	ok(!ledger_item(lg, p, i)->done, "the new item now at 1.2 is not ticked by the old 1.2 tick");
	ok(!ledger_item(lg, p, i)->changed_in_runbook, "a tick that followed its item flags nothing");
	ledger_find_item(lg, "1.3", &p, &i);
	ok(ledger_item(lg, p, i)->done, "the tick followed 'Copy customers' to its new id 1.3");
	is_int(lg->n_unmatched, 0, "a followed tick is not unmatched");
	apply(lg, EV_TICK, "alice", 11.0, "1", "1.3", pl_orders);
	ledger_find_item(lg, "1.4", &p, &i);
	ok(!ledger_item(lg, p, i)->done, "the edited 'Copy all orders' is not ticked");
	ledger_find_item(lg, "1.3", &p, &i);
	is_int(lg->n_unmatched, 1, "the tick of the edited text is unmatched");
	/* The old 1.3 tick found a different text at 1.3 and no unique match. */
	ok(ledger_item(lg, p, i)->changed_in_runbook, "item at the tick's id is flagged changed_in_runbook");
	ledger_free(lg);
	free(pl_customers);
	free(pl_orders);

	/* Runbook diff over the real parse. */
	size_t n1, n2;
	lg_item_ref *r1 = ledger_runbook_refs(v1, &n1), *r2 = ledger_runbook_refs(v2, &n2);
	is_int(n1, v1->n_items_total, "refs cover every item");
	lg_runbook_diff d;
	ledger_runbook_diff(r1, n1, r2, n2, &d);
	int moved_customers = 0;
	for (size_t k = 0; k < d.n_moved; k++)
		if (!strcmp(d.moved[k].from, "1.2") && !strcmp(d.moved[k].to, "1.3"))
			moved_customers = 1;
	ok(moved_customers, "diff: 'Copy customers' moved 1.2 -> 1.3");
	is_int(d.n_appeared, 2, "diff: two appeared (new item, edited text)");
	is_int(d.n_vanished, 1, "diff: one vanished (old text of the edited item)");
	ok(d.n_vanished && !strcmp(d.vanished[0].id, "1.3"), "diff: the vanished text was at 1.3");
	char *json = ledger_diff_json(&d);
	ok(strstr(json, "\"moved\":[[\"1.2\",\"1.3\"") != NULL, "diff JSON lists moves as [from,to,hash]");
	free(json);
	char *summary = ledger_diff_summary(&d);
	ok(strstr(summary, "1.2->1.3") && strstr(summary, "appeared") && strstr(summary, "vanished"),
	   "summary names moves, appeared and vanished");
	free(summary);
	ledger_diff_free(&d);

	ledger_runbook_diff(r1, n1, r1, n1, &d);
	ok(ledger_diff_empty(&d), "a runbook compared with itself has no changes");
	ledger_diff_free(&d);
	free(r1);
	free(r2);
	runbook_free(v1);
	runbook_free(v2);
}

static void test_diff_synthetic(void)
{
	lg_item_ref old_refs[] = {{"1.1", "aaaa"}, {"1.2", "bbbb"}, {"1.3", "bbbb"}, {"1.4", "cccc"}};
	lg_item_ref new_refs[] = {{"1.1", "bbbb"}, {"1.2", "bbbb"}, {"1.3", "dddd"}};
	lg_runbook_diff d;
	ledger_runbook_diff(old_refs, 4, new_refs, 3, &d);
	is_int(d.n_moved, 1, "duplicate texts: one unchanged, one moved");
	ok(d.n_moved && !strcmp(d.moved[0].from, "1.3") && !strcmp(d.moved[0].to, "1.1"), "moved 1.3 -> 1.1");
	is_int(d.n_vanished, 2, "aaaa and cccc vanished");
	is_int(d.n_appeared, 1, "dddd appeared");
	char *json = ledger_diff_json(&d);
	lg_item_ref *back = NULL;
	size_t n = 0;
	char *payload = xasprintf("{\"items\":[[\"1.1\",\"aaaa\"],[\"1.2\",\"bbbb\"]]}");
	pgc_err e = {0};
	ok(ops_read_runbook_items(payload, &back, &n, &e) == 0 && n == 2 && !strcmp(back[1].hash, "bbbb"),
	   "refs read back from a runbook_loaded payload");
	free(back);
	ok(ops_read_runbook_items("{}", &back, &n, &e) < 0, "a payload without items is an error");
	free(payload);
	free(back);
	free(json);
	ledger_diff_free(&d);
}

static void test_catch_up(void)
{
	runbook *rb = parse(RB_V1);
	char dir[TAP_TMPL_MAX];
	if (!rb || !mkdtemp(tap_tmpl(dir, sizeof dir, "pgc-test-ledger"))) {
		ok(0, "set up");
		return;
	}
	char *path = xasprintf("%s/s.db", dir);
	pgc_err e = {0};
	state *st = NULL;
	state_open(path, STATE_OPEN_CREATE, &st, &e);
	state_set_actor(st, "alice", "h1");
	char *pl = tick_payload(rb, "1.1", NULL);
	state_append(st, EV_TICK, "1", "1.1", pl, NULL, &e);
	free(pl);
	ledger *lg = ledger_new(rb);
	ok(ledger_catch_up(lg, st, &e) == 0, "catch up from a state file");
	ok(ledger_item(lg, 1, 0)->done, "tick from the file applied");
	is_str(ledger_item(lg, 1, 0)->done_by, "alice", "by the recorded operator");
	pl = tick_payload(rb, "1.2", NULL);
	state_append(st, EV_TICK, "1", "1.2", pl, NULL, &e);
	free(pl);
	ledger_catch_up(lg, st, &e);
	ok(ledger_item(lg, 1, 1)->done, "incremental catch-up applies only the new event");
	is_int(lg->last_event_id, state_last_id(st), "ledger is at the last event");

	/* Replay: the state as of an earlier event, with and without a snapshot. */
	int64_t first_tick = state_last_id(st) - 1;
	ledger *at = NULL;
	ok(ledger_build_at(rb, st, first_tick, &at, &e) == 0, "build the ledger as of the first tick");
	ok(at && ledger_item(at, 1, 0)->done && !ledger_item(at, 1, 1)->done, "as of the first tick: only 1.1 done");
	is_int(at ? at->last_event_id : -1, first_tick, "replay ledger stops at the event asked for");
	ledger_free(at);
	char *snap = ledger_snapshot_json(lg);
	state_snapshot_write(st, lg->last_event_id, rb->sha256, snap, &e);
	free(snap);
	pl = tick_payload(rb, "1.3", NULL);
	state_append(st, EV_TICK, "1", "1.3", pl, NULL, &e);
	free(pl);
	ok(ledger_build_at(rb, st, state_last_id(st), &at, &e) == 0, "build from a snapshot plus later events");
	ok(at && ledger_item(at, 1, 1)->done && ledger_item(at, 1, 2)->done, "snapshot state and later tick both there");
	ledger_free(at);
	ok(ledger_build_at(rb, st, first_tick, &at, &e) == 0 && at && !ledger_item(at, 1, 1)->done,
	   "a snapshot after the cursor is not used");
	ledger_free(at);
	ledger_free(lg);
	state_close(st);
	runbook_free(rb);
	unlink(path);
	free(path);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
}

/* phase_rolled_back reopens the phase: ticks no longer count, the status
 * reads rolled back until work starts again, and the history survives as
 * notes and through snapshots. */
static void test_rolled_back(void)
{
	runbook *rb = parse(RB_V1);
	if (!rb)
		return;
	ledger *lg = ledger_new(rb);
	tick(lg, rb, "ana", 100, "2", "2.1", NULL);
	is_str(lg_phase_status_name(lg->phases[2].status), "done", "phase 2 done after its only tick");
	int before = lg->items_done;
	apply(lg, EV_PHASE_ROLLED_BACK, "ben", 200, "2", NULL, "{}");
	is_str(lg_phase_status_name(lg->phases[2].status), "rolled_back", "phase 2 rolled back");
	ok(!ledger_item(lg, 2, 0)->done, "its item is open again");
	is_int(lg->items_done, before - 1, "the tick no longer counts");
	ok(lg->phases[2].completed_at == 0 && lg->phases[2].rolled_back_at == 200, "completion cleared, rollback time kept");
	ok(ledger_item(lg, 2, 0)->n_notes == 1 && strstr(ledger_item(lg, 2, 0)->notes[0].text, "ana"),
	   "who had ticked it is kept as a note");
	ok(lg->phases[0].status == LG_PHASE_DONE, "other phases untouched");

	char *snap = ledger_snapshot_json(lg);
	ledger *lg2 = ledger_new(rb);
	ok(ledger_restore_snapshot(lg2, snap, lg->last_event_id, NULL) == 0 &&
	   lg2->phases[2].status == LG_PHASE_ROLLED_BACK, "rolled back survives a snapshot");
	free(snap);
	ledger_free(lg2);

	tick(lg, rb, "ana", 300, "2", "2.1", NULL);
	is_str(lg_phase_status_name(lg->phases[2].status), "done", "ticking again completes it again");
	ledger_free(lg);
	runbook_free(rb);
}

/* Where the migration is, for the header and `status`: the phases in
 * progress, not the first phase nobody started. */
static const char RB_FIVE[] =
	"# Five\n\n## Phase 1: A\n\n- [ ] a1\n\n## Phase 2: B\n\n- [ ] b1\n\n"
	"## Phase 3: C\n\n- [ ] c1\n- [ ] c2\n\n## Phase 4: D\n\n- [ ] d1\n\n"
	"## Phase 5: E\n\n- [ ] e1\n- [ ] e2\n";

static void test_current(void)
{
	runbook *rb = parse(RB_FIVE);
	if (!rb)
		return;
	ledger *lg = ledger_new(rb);
	char w[128];
	size_t idx[4];
	is_int((long long)ledger_current_words(lg, w, sizeof w), 0, "nothing done: the first phase");
	is_str(w, "phase 1 not started", "in words");
	tick(lg, rb, "ana", 100, "3", "3.1", NULL);
	is_int((long long)ledger_current_words(lg, w, sizeof w), 2, "phase 3 ticked, 1 never started: phase 3");
	is_str(w, "phase 3 in progress", "in words: the phase in progress, not phase 1");
	tick(lg, rb, "ben", 110, "5", "5.1", NULL);
	is_int((long long)ledger_phases_in_progress(lg, idx, 4), 2, "two phases in progress");
	ok(idx[0] == 2 && idx[1] == 4, "3 and 5, in runbook order");
	is_int((long long)ledger_current_words(lg, w, sizeof w), 4, "several: the latest is returned");
	is_str(w, "phases 3, 5 in progress", "several in progress: all named");
	tick(lg, rb, "ben", 120, "5", "5.2", NULL);
	tick(lg, rb, "ana", 130, "3", "3.2", NULL);
	ledger_current_words(lg, w, sizeof w);
	is_str(w, "phase 1 not started", "3 and 5 done, none in progress, none after 5: the first open phase");
	apply(lg, EV_PHASE_ROLLED_BACK, "ben", 200, "5", NULL, "{}");
	ledger_current_words(lg, w, sizeof w);
	is_str(w, "phase 5 rolled back", "the latest phase worked on, rolled back");
	tick(lg, rb, "ana", 300, "5", "5.1", NULL);
	tick(lg, rb, "ana", 300, "5", "5.2", NULL);
	tick(lg, rb, "ana", 310, "1", "1.1", NULL);
	tick(lg, rb, "ana", 320, "2", "2.1", NULL);
	ledger_current_words(lg, w, sizeof w);
	is_str(w, "phase 4 not started", "1, 2, 3 and 5 done: phase 4 is next");
	tick(lg, rb, "ana", 330, "4", "4.1", NULL);
	ok(ledger_current_words(lg, w, sizeof w) == SIZE_MAX, "all done: none");
	is_str(w, "all phases done", "in words");
	ledger_free(lg);
	runbook_free(rb);
}

/* A command run through its events, payloads from evpay.c's writers. */
static int64_t run_start(ledger *lg, const runbook *rb, double ts, const char *id, bool rollback)
{
	const rb_item *it = item_of(rb, id);
	act_plan plan = {.shell = "/bin/sh", .command = "pm2 restart app", .rollback = rollback};
	snprintf(plan.item_id, sizeof plan.item_id, "%s", id);
	snprintf(plan.item_hash, sizeof plan.item_hash, "%s", it ? it->hash : "");
	char *pl = evp_command_start_write(&plan, NULL);
	int64_t sid = next_id;
	apply(lg, EV_COMMAND_START, "ana", ts, "1", id, pl);
	free(pl);
	return sid;
}

static void run_end(ledger *lg, double ts, const char *id, int64_t sid, act_status st, int code, double dur)
{
	act_result r = {.status = st, .exit_code = code, .duration_s = dur, .failed_segment = -1,
	                .start_event_id = sid};
	char *pl = evp_command_end_write(&r, "", "sh: pm2: not found\n", NULL);
	apply(lg, EV_COMMAND_END, "ana", ts, "1", id, pl);
	free(pl);
}

/* An item's last run: running from its command_start, then ended with the
 * command_end that closes that start (status, exit, duration, time), lost
 * with command_unknown; an end of another run changes nothing; the header's
 * running command is the latest started; a snapshot keeps it. */
static void test_last_run(void)
{
	runbook *rb = parse(RB_V1);
	if (!rb)
		return;
	ledger *lg = ledger_new(rb);
	size_t p = 9, i = 9;
	const lg_run *r = &ledger_item(lg, 1, 1)->last_run;
	ok(lg_run_state(r) == NULL && ledger_running(lg, &p, &i) < 0, "never run: no state, nothing running");

	int64_t s1 = run_start(lg, rb, 100, "1.2", false);
	is_str(lg_run_state(r), "running", "command_start: running");
	ok(r->start_id == s1 && r->started_at == 100 && r->ended_at == 0, "running since its start");
	ok(ledger_running(lg, &p, &i) == 0 && p == 1 && i == 1, "ledger_running finds 1.2");

	int64_t s2 = run_start(lg, rb, 110, "1.3", false);
	ok(ledger_running(lg, &p, &i) == 0 && p == 1 && i == 2, "two running: the latest started (1.3)");
	run_end(lg, 111, "1.3", s2, ACT_OK, 0, 0.4);
	is_str(lg_run_state(&ledger_item(lg, 1, 2)->last_run), "ok", "1.3 ended with exit 0: ok");
	ok(ledger_item(lg, 1, 2)->last_run.duration_s == 0.4, "its duration as recorded");

	run_end(lg, 120, "1.2", s1 + 1000, ACT_OK, 0, 1);
	is_str(lg_run_state(r), "running", "an end closing another start changes nothing");
	run_end(lg, 125, "1.2", s1, ACT_FAILED, 127, 25.0);
	is_str(lg_run_state(r), "failed", "exit 127: failed");
	ok(r->has_exit && r->exit_code == 127 && r->ended_at == 125 && r->duration_s == 25.0,
	   "exit code, end time and duration kept");
	is_str(r->status, "failed", "status word kept");
	ok(ledger_running(lg, &p, &i) < 0, "nothing runs any more");
	ok(!ledger_item(lg, 1, 1)->done, "a failed run ticks nothing");

	char *snap = ledger_snapshot_json(lg);
	ledger *lg2 = ledger_new(rb);
	ok(ledger_restore_snapshot(lg2, snap, lg->last_event_id, NULL) == 0, "snapshot restores");
	const lg_run *r2 = &ledger_item(lg2, 1, 1)->last_run;
	ok(r2->start_id == s1 && r2->has_exit && r2->exit_code == 127 && r2->ended_at == 125 &&
	   strcmp(r2->status, "failed") == 0 && r2->duration_s == 25.0, "the last run survives a snapshot");
	ok(!ledger_item(lg2, 0, 0)->last_run.start_id, "an item that never ran stays so");
	free(snap);
	ledger_free(lg2);

	int64_t s3 = run_start(lg, rb, 200, "1.2", false);
	is_str(lg_run_state(r), "running", "a new run replaces the last one");
	ok(!r->has_exit && r->status[0] == '\0', "its old exit code is gone");
	char *pl = evp_command_unknown_write(s3, 4242, "h", "pgcutover exited while it ran");
	apply(lg, EV_COMMAND_UNKNOWN, "ana", 300, "1", "1.2", pl);
	free(pl);
	is_str(lg_run_state(r), "failed", "command_unknown: no longer running");
	is_str(r->status, "unknown", "... with status unknown");

	run_start(lg, rb, 400, "1.5", true);   /* the rollback step's own command */
	is_str(lg_run_state(&ledger_item(lg, 1, 4)->last_run), "running", "a rollback step's run shows too");
	ok(ledger_item(lg, 1, 4)->first_run_at == 0, "... but is not a first run (downtime clock)");
	ledger_free(lg);
	runbook_free(rb);
}

/* Issue 13 item 2: a rollback that stopped part-way marks its phase until
 * a rollback succeeds or the operator ticks, unticks or overrides in it. */
static void test_rollback_failed(void)
{
	runbook *rb = parse(RB_V1);
	if (!rb)
		return;
	ledger *lg = ledger_new(rb);
	tick(lg, rb, "ana", 100, "1", "1.1", NULL);
	ok(lg->phases[1].rollback_failed == NULL, "no mark before any rollback");
	is_str(ledger_phase_state(&lg->phases[1]), "in progress", "the state in words");
	apply(lg, EV_PHASE_ROLLBACK_FAILED, "ben", 200, "1", "1.2.1",
	      "{\"failed_at\":\"1.2.1\",\"status\":\"failed\",\"exit\":5,"
	      "\"restored\":[\"A\",\"B\"],\"flags\":2,\"steps\":[]}");
	is_str(ledger_phase_state(&lg->phases[1]), "rollback failed at 1.2.1, flags restored",
	       "a failed rollback with every flag written: rollback failed at ITEM, flags restored");
	is_str(ledger_phase_state(&lg->phases[2]), "not started", "other phases untouched");

	char *snap = ledger_snapshot_json(lg);
	ledger *lg2 = ledger_new(rb);
	ok(ledger_restore_snapshot(lg2, snap, lg->last_event_id, NULL) == 0 &&
	   lg2->phases[1].rollback_failed && strcmp(lg2->phases[1].rollback_failed,
	                                            "rollback failed at 1.2.1, flags restored") == 0,
	   "the mark survives a snapshot");
	free(snap);
	ledger_free(lg2);

	apply(lg, EV_PHASE_ROLLBACK_FAILED, "ben", 210, "1", "1.2.1",
	      "{\"failed_at\":\"1.2.1\",\"restored\":[\"A\"],\"flags\":2}");
	is_str(ledger_phase_state(&lg->phases[1]), "rollback failed at 1.2.1, 1 of 2 flags restored", "part of the flags");
	apply(lg, EV_PHASE_ROLLBACK_FAILED, "ben", 220, "1", NULL,
	      "{\"failed_at\":\"restore\",\"restored\":[],\"flags\":2}");
	is_str(ledger_phase_state(&lg->phases[1]), "rollback failed restoring flags, flags not restored",
	       "the restores on their own failed");
	apply(lg, EV_PHASE_ROLLED_BACK, "ben", 230, "1", NULL, "{}");
	ok(lg->phases[1].rollback_failed == NULL, "a rollback that succeeds clears the mark");
	is_str(ledger_phase_state(&lg->phases[1]), "rolled back", "and the phase reads rolled back");

	apply(lg, EV_PHASE_ROLLBACK_FAILED, "ben", 240, "1", "1.2.1",
	      "{\"failed_at\":\"1.2.1\",\"restored\":[],\"flags\":0}");
	is_str(ledger_phase_state(&lg->phases[1]), "rollback failed at 1.2.1", "no flag to restore: the step alone");
	tick(lg, rb, "ana", 250, "1", "1.2", NULL);
	ok(lg->phases[1].rollback_failed == NULL, "an operator's tick in the phase resolves it");
	apply(lg, EV_PHASE_ROLLBACK_FAILED, "ben", 260, "1", "1.2.1", "{\"failed_at\":\"1.2.1\"}");
	apply(lg, EV_PHASE_OVERRIDE, "ben", 270, "1", NULL, "{\"status\":\"auto\",\"reason\":\"fixed by hand\"}");
	ok(lg->phases[1].rollback_failed == NULL, "an override resolves it");
	ledger_free(lg);
	runbook_free(rb);
}

/* A step's time against its plan: from its first tick to its last once
 * all are done, else to now; a step nothing happened in has not started. */
static void test_step_elapsed(void)
{
	runbook *rb = parse("# S\n\n## Phase 1: A\n\n### Stop the app (02:00, 10 min)\n\n- [ ] s1\n- [ ] s2\n\n"
	                    "### Copy\n\n- [ ] c1\n");
	if (!rb)
		return;
	ledger *lg = ledger_new(rb);
	double el = -1;
	bool done = true;
	int plan = -1;
	ok(ledger_step_elapsed(lg, 0, 0, 1000, &el, &done, &plan) < 0, "step: not started before anything happened");
	tick(lg, rb, "ana", 100, "1", "1.1", NULL);
	ok(ledger_step_elapsed(lg, 0, 0, 400, &el, &done, &plan) == 0, "step: started by its first tick");
	ok(el == 300 && !done && plan == 10, "step: 300 s so far of a 10 min plan, not done (%g %d %d)", el, done, plan);
	tick(lg, rb, "ana", 1000, "1", "1.2", NULL);
	ok(ledger_step_elapsed(lg, 0, 0, 5000, &el, &done, &plan) == 0 && done && el == 900,
	   "step: done, it took first to last tick (900 s), whatever now is");
	ok(ledger_step_elapsed(lg, 0, 1, 5000, &el, &done, &plan) < 0, "step: the next step has not started");
	ok(ledger_step_elapsed(lg, 0, 9, 5000, &el, &done, &plan) < 0, "step: no such step");
	ledger_free(lg);
	runbook_free(rb);
}

int main(void)
{
	is_str(lg_phase_status_name(LG_PHASE_ROLLED_BACK), "rolled_back", "status names");
	is_int(lg_phase_status_parse("in_progress"), LG_PHASE_IN_PROGRESS, "status parse");
	test_fold();
	test_changed_runbook();
	test_diff_synthetic();
	test_catch_up();
	test_rolled_back();
	test_current();
	test_last_run();
	test_rollback_failed();
	test_step_elapsed();
	return done_testing();
}
