/*
 * test_ops.c -- the operator's actions of ops.h over a real state file:
 * each op's outcomes (done, already done, needs an order override, blocked
 * by the counts gate, refused), that an op which needs a reason records
 * nothing until it is given, that the tick, its overrides and the
 * phase_complete land in one transaction, that "already done" is decided
 * from events another handle appended after our ledger was built, and the
 * payload keys each writer produces.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "pgcutover/ops.h"
#include "pgcutover/compare.h"
#include "tap.h"

static const char RB[] =
	"# Ops\n"
	"\n"
	"## Phase 0: Prep\n"
	"\n"
	"- [ ] Announce\n"
	"- [ ] Freeze deploys\n"
	"\n"
	"## Phase 1: Copy\n"
	"\n"
	"- [ ] Copy data\n"
	"- [ ] Verify\n"
	"\n"
	"## Phase 2: Switch\n"
	"\n"
	"- [ ] Point the app\n"
	"\n"
	"## Phase 3: Watch\n"
	"\n"
	"- [ ] Every 2 hours: Error logs\n";

static const char CFG[] =
	"{\"runbook\": \"rb.md\", \"source\": \"host=/nowhere\", \"target\": \"host=/nowhere\",\n"
	" \"tables\": [{\"name\": \"bookings\"}, {\"name\": \"reminders\"}], \"gates\": [\"1\"]}\n";

static const char COUNTS_DIFFER[] =
	"{\"match\":false,\"exact\":true,\"tables\":["
	"{\"table\":\"bookings\",\"source\":10,\"target\":5,\"exact\":true,\"match\":false,\"state\":\"behind\"},"
	"{\"table\":\"reminders\",\"source\":3,\"target\":3,\"exact\":true,\"match\":true,\"state\":\"matched\"}]}";
static const char COUNTS_BOTH_DIFFER[] =
	"{\"match\":false,\"exact\":true,\"tables\":["
	"{\"table\":\"bookings\",\"source\":10,\"target\":5,\"exact\":true,\"match\":false,\"state\":\"behind\"},"
	"{\"table\":\"reminders\",\"source\":3,\"target\":1,\"exact\":true,\"match\":false,\"state\":\"behind\"}]}";
static const char COUNTS_MATCH[] =
	"{\"match\":true,\"exact\":true,\"tables\":["
	"{\"table\":\"bookings\",\"source\":10,\"target\":10,\"exact\":true,\"match\":true,\"state\":\"matched\"},"
	"{\"table\":\"reminders\",\"source\":3,\"target\":3,\"exact\":true,\"match\":true,\"state\":\"matched\"}]}";

typedef struct fixture {
	char dir[TAP_TMPL_MAX];
	char *path;
	runbook *rb;
	config *cfg;
	state *st;
	ledger *lg;
	ops_ctx c;
} fixture;

static int setup_rb(fixture *f, const char *rb)
{
	memset(f, 0, sizeof *f);
	pgc_err e = {0};
	if (runbook_parse(rb, strlen(rb), "rb.md", NULL, &f->rb, &e) < 0 ||
	    config_parse(CFG, strlen(CFG), "/tmp/pgcutover.json", &f->cfg, &e) < 0 ||
	    !mkdtemp(tap_tmpl(f->dir, sizeof f->dir, "pgc-test-ops"))) {
		printf("# setup: %s\n", e.msg);
		return -1;
	}
	f->path = xasprintf("%s/state.db", f->dir);
	if (state_open(f->path, STATE_OPEN_CREATE, &f->st, &e) < 0)
		return -1;
	state_set_actor(f->st, "alice", "host1");
	f->lg = ledger_new(f->rb);
	f->c = (ops_ctx){.st = f->st, .lg = f->lg, .cfg = f->cfg};
	return 0;
}

static int setup(fixture *f)
{
	return setup_rb(f, RB);
}

static void teardown(fixture *f)
{
	ledger_free(f->lg);
	state_close(f->st);
	char *wal = xasprintf("%s-wal", f->path), *shm = xasprintf("%s-shm", f->path);
	unlink(f->path);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
	rmdir(f->dir);
	free(f->path);
	config_free(f->cfg);
	runbook_free(f->rb);
}

/* The kinds of the events after id `after`, space-separated. */
static int kinds_cb(const st_event *ev, void *ud)
{
	strbuf *sb = ud;
	/* state_created comes with the first event; counts are the fixture's */
	if (strcmp(ev->kind, EV_STATE_CREATED) == 0 || strcmp(ev->kind, EV_COUNTS) == 0)
		return 0;
	if (sb->len)
		sb_putc(sb, ' ');
	sb_puts(sb, ev->kind);
	return 0;
}

static char *kinds_after(fixture *f, int64_t after)
{
	strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, "");
	pgc_err e = {0};
	state_foreach(f->st, after, kinds_cb, &sb, &e);
	return sb.buf;
}

static char *payload_of(fixture *f, const char *kind)
{
	st_event *ev = NULL;
	pgc_err e = {0};
	if (state_last_of_kind(f->st, kind, &ev, &e) != 1)
		return xstrdup("");
	char *s = xstrdup(ev->payload);
	st_event_free(ev);
	return s;
}

static bool has_key(const char *json, const char *key)
{
	cJSON *o = cJSON_Parse(json);
	bool r = cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
	cJSON_Delete(o);
	return r;
}

static void test_tick_untick_note(void)
{
	fixture f;
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	ops_outcome o;
	int64_t start = state_last_id(f.st);
	ok(ops_tick(&f.c, 0, 0, NULL, NULL, &o) == 0 && o.result == OPS_DONE, "tick 0.1: done");
	ok(o.event_id > start && !o.phase_completed, "the tick's event id, the phase not complete");
	ok(ledger_item(f.lg, 0, 0)->done, "the ledger is caught up");
	ok(strstr(o.message, "0.1") != NULL, "message names the item (%s)", o.message);

	ok(ops_tick(&f.c, 0, 0, NULL, NULL, &o) == 0 && o.result == OPS_ALREADY_DONE, "tick again: already done");
	ok(strstr(o.message, "already done") && strstr(o.message, "alice"), "says who did it (%s)", o.message);
	int64_t before = state_last_id(f.st);
	ok(ops_tick(&f.c, 0, 0, "took 3 min", NULL, &o) == 0 && o.result == OPS_ALREADY_DONE,
	   "tick again with a note: already done");
	char *k = kinds_after(&f, before);
	is_str(k, "note", "the note is recorded, not a tick");
	free(k);

	/* another handle ticks 0.2 after our ledger was built: we must see it */
	state *other = NULL;
	pgc_err e = {0};
	state_open(f.path, 0, &other, &e);
	state_set_actor(other, "bob", "host2");
	char *pl = ops_payload_tick(f.rb->phases[0].items[1].hash, NULL);
	state_append(other, EV_TICK, "0", "0.2", pl, NULL, &e);
	free(pl);
	state_close(other);
	before = state_last_id(f.st);
	ok(ops_tick(&f.c, 0, 1, NULL, NULL, &o) == 0 && o.result == OPS_ALREADY_DONE,
	   "tick of an item another process ticked: already done (decided under the write lock)");
	ok(strstr(o.message, "bob") != NULL, "names bob (%s)", o.message);
	is_int(state_last_id(f.st), before, "nothing recorded");

	ok(ops_untick(&f.c, 0, 0, "", &o) == 0 && o.result == OPS_REFUSED, "untick without a reason: refused");
	ok(ops_untick(&f.c, 0, 0, "redo", &o) == 0 && o.result == OPS_DONE, "untick with a reason: done");
	ok(!ledger_item(f.lg, 0, 0)->done, "0.1 open again");
	char *js = payload_of(&f, EV_UNTICK);
	ok(has_key(js, "hash") && has_key(js, "reason"), "untick payload: hash, reason (%s)", js);
	free(js);
	ok(ops_untick(&f.c, 0, 0, "again", &o) == 0 && o.result == OPS_ALREADY_DONE, "untick an open item: already so");

	ok(ops_note(&f.c, 1, 0, "slow disk", &o) == 0 && o.result == OPS_DONE, "note on an item");
	js = payload_of(&f, EV_NOTE);
	ok(has_key(js, "text") && has_key(js, "hash"), "item note payload: text, hash (%s)", js);
	free(js);
	ok(ops_note(&f.c, 1, SIZE_MAX, "phase note", &o) == 0 && o.result == OPS_DONE, "note on a phase");
	js = payload_of(&f, EV_NOTE);
	ok(has_key(js, "text") && !has_key(js, "hash"), "phase note payload: text only (%s)", js);
	free(js);
	ok(ops_note(&f.c, SIZE_MAX, SIZE_MAX, "general", &o) == 0 && o.result == OPS_DONE, "note on the migration");
	ok(ops_note(&f.c, SIZE_MAX, SIZE_MAX, "", &o) == 0 && o.result == OPS_REFUSED, "an empty note: refused");
	teardown(&f);
}

static void test_order_and_gate(void)
{
	fixture f;
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	ops_outcome o;
	pgc_err e = {0};
	/* phase 0 open (0/2): ticking phase 2's last counted item completes
	 * phase 2 out of order */
	int64_t before = state_last_id(f.st);
	ok(ops_tick(&f.c, 2, 0, NULL, NULL, &o) == 0 && o.result == OPS_NEEDS_ORDER_OVERRIDE,
	   "last item of phase 2 with phase 0 open: needs an order override (%s)", o.message);
	is_int((long long)o.open_phase_idx, 0, "names phase 0 as the open one");
	ok(strstr(o.message, "phase 0") && strstr(o.message, "0/2"), "message: phase 0 open (0/2) (%s)", o.message);
	is_int(state_last_id(f.st), before, "nothing recorded without the reason");
	ok(!ledger_item(f.lg, 2, 0)->done, "the item is not ticked");

	ops_override ov = {.order_reason = "phase 0 is paperwork"};
	ok(ops_tick(&f.c, 2, 0, NULL, &ov, &o) == 0 && o.result == OPS_DONE && o.phase_completed,
	   "with the reason: done, phase 2 complete");
	char *k = kinds_after(&f, before);
	is_str(k, "phase_override tick phase_complete", "override, tick and phase_complete together");
	free(k);
	char *js = payload_of(&f, EV_PHASE_OVERRIDE);
	ok(has_key(js, "reason") && has_key(js, "item") && has_key(js, "open_phase"),
	   "order override payload: reason, item, open_phase (%s)", js);
	free(js);

	/* phase 1 is gated; counts differ */
	state_append(f.st, EV_COUNTS, NULL, NULL, COUNTS_DIFFER, NULL, &e);
	ops_tick(&f.c, 0, 0, NULL, NULL, &o);
	ops_tick(&f.c, 0, 1, NULL, NULL, &o);
	ok(o.result == OPS_DONE && o.phase_completed, "phase 0 completes in order");
	ok(ops_tick(&f.c, 1, 0, NULL, NULL, &o) == 0 && o.result == OPS_DONE, "1.1: not the last, the gate does not apply");
	before = state_last_id(f.st);
	ok(ops_tick(&f.c, 1, 1, NULL, NULL, &o) == 0 && o.result == OPS_BLOCKED_BY_GATE,
	   "last item of gated phase 1, counts differ: blocked by the gate (%s)", o.message);
	ok(strstr(o.gate, "bookings") != NULL, "the gate names the table (%s)", o.gate);
	ok(strstr(o.message, "bookings") != NULL, "so does the message");
	is_int(state_last_id(f.st), before, "nothing recorded: cancelling at the gate leaves no tick");
	ok(!ledger_item(f.lg, 1, 1)->done, "1.2 still open");

	ok(ops_tick(&f.c, 1, 1, NULL, &ov, &o) == 0 && o.result == OPS_BLOCKED_BY_GATE,
	   "an order reason does not open the gate");
	state_append(f.st, EV_COUNTS, NULL, NULL, COUNTS_BOTH_DIFFER, NULL, &e);
	ok(ops_tick(&f.c, 1, 1, NULL, NULL, &o) == 0 && o.result == OPS_BLOCKED_BY_GATE &&
	   strstr(o.gate, "bookings") && strstr(o.gate, "reminders"),
	   "two tables differ: the gate names both (%s)", o.gate);
	ov.gate_reason = "bookings catch up by replication";
	ok(ops_tick(&f.c, 1, 1, NULL, &ov, &o) == 0 && o.result == OPS_DONE && o.phase_completed,
	   "with a gate reason: done and complete");
	k = kinds_after(&f, before);
	is_str(k, "phase_override tick phase_complete", "gate override, tick, phase_complete");
	free(k);
	js = payload_of(&f, EV_PHASE_OVERRIDE);
	ok(has_key(js, "reason") && has_key(js, "gate"), "gate override payload: reason, gate (%s)", js);
	free(js);
	js = payload_of(&f, EV_PHASE_COMPLETE);
	ok(has_key(js, "done") && has_key(js, "total") && has_key(js, "gate_overridden"),
	   "phase_complete payload says the gate was overridden (%s)", js);
	free(js);
	ok(ops_complete_phase(&f.c, 1, NULL, &o) == 0 && o.result == OPS_ALREADY_DONE, "complete again: already done");

	/* the gate met: the last tick completes with no reason */
	ops_untick(&f.c, 1, 1, "recheck", &o);
	state_append(f.st, EV_COUNTS, NULL, NULL, COUNTS_MATCH, NULL, &e);
	ok(ops_tick(&f.c, 1, 1, NULL, NULL, &o) == 0 && o.result == OPS_DONE && o.phase_completed,
	   "the untick reopened phase 1; counts match: the re-tick completes it with no reason");
	ok(strstr(o.gate, "tables match") != NULL, "the gate it met (%s)", o.gate);
	teardown(&f);
}

static void test_complete_phase(void)
{
	fixture f;
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	ops_outcome o;
	pgc_err e = {0};
	ok(ops_complete_phase(&f.c, 0, NULL, &o) == 0 && o.result == OPS_REFUSED,
	   "complete a phase with open items: refused (%s)", o.message);
	/* items done by events written straight to the log (an old state):
	 * the phase stays open until completed */
	for (size_t i = 0; i < 2; i++) {
		char *pl = ops_payload_tick(f.rb->phases[1].items[i].hash, NULL);
		state_append(f.st, EV_TICK, "1", f.rb->phases[1].items[i].id, pl, NULL, &e);
		free(pl);
	}
	state_append(f.st, EV_COUNTS, NULL, NULL, COUNTS_MATCH, NULL, &e);
	int64_t before = state_last_id(f.st);
	ok(ops_complete_phase(&f.c, 1, NULL, &o) == 0 && o.result == OPS_NEEDS_ORDER_OVERRIDE,
	   "phase 1 with phase 0 open: needs the order override");
	is_int(state_last_id(f.st), before, "nothing recorded");
	ops_override ov = {.order_reason = "later"};
	ok(ops_complete_phase(&f.c, 1, &ov, &o) == 0 && o.result == OPS_DONE && o.phase_completed,
	   "with the reason: complete (the gate met)");
	ok(strstr(o.gate, "match") != NULL, "the gate it met (%s)", o.gate);
	char *k = kinds_after(&f, before);
	is_str(k, "phase_override phase_complete", "override then phase_complete");
	free(k);
	teardown(&f);
}

static void test_downtime_duty(void)
{
	fixture f;
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	ops_outcome o;
	double now = pgc_now();
	ok(ops_downtime(&f.c, false, now, &o) == 0 && o.result == OPS_ALREADY_DONE, "end before a start: not running");
	ok(ops_downtime(&f.c, true, now, &o) == 0 && o.result == OPS_DONE, "start: done");
	char *js = payload_of(&f, EV_DOWNTIME_START);
	ok(has_key(js, "reason"), "start payload: reason (%s)", js);
	free(js);
	ok(ops_downtime(&f.c, true, now, &o) == 0 && o.result == OPS_ALREADY_DONE, "start again: already running");
	ok(ops_downtime(&f.c, false, now + 5, &o) == 0 && o.result == OPS_DONE, "end: done");
	js = payload_of(&f, EV_DOWNTIME_END);
	ok(has_key(js, "elapsed_s") && has_key(js, "over"), "end payload: elapsed_s, over (%s)", js);
	free(js);

	ok(ops_duty_done(&f.c, 2, 0, NULL, &o) == 0 && o.result == OPS_REFUSED, "duty done on a plain item: refused");
	ok(ops_duty_done(&f.c, 3, 0, "all quiet", &o) == 0 && o.result == OPS_DONE, "duty done on the duty");
	js = payload_of(&f, EV_DUTY_DONE);
	ok(has_key(js, "hash") && has_key(js, "note"), "duty payload: hash, note (%s)", js);
	free(js);
	teardown(&f);
}

static void test_runbook_sync(void)
{
	fixture f;
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	pgc_err e = {0};
	char *report = NULL;
	ok(ops_runbook_sync(f.st, f.rb, true, &report, &e) == 0 && !report, "first load: recorded, nothing to report");
	char *k = kinds_after(&f, 0);
	is_str(k, "runbook_loaded", "runbook_loaded");
	free(k);
	int64_t before = state_last_id(f.st);
	ok(ops_runbook_sync(f.st, f.rb, true, &report, &e) == 0 && state_last_id(f.st) == before,
	   "the same runbook again: nothing recorded");
	/* Announce moves down one: 0.1 -> 0.2 */
	static const char RB2[] = "# Ops\n\n## Phase 0: Prep\n\n- [ ] Freeze deploys\n- [ ] Announce\n";
	runbook *rb2 = NULL;
	runbook_parse(RB2, strlen(RB2), "rb.md", NULL, &rb2, &e);
	ok(ops_runbook_sync(f.st, rb2, false, &report, &e) == 0 && report && state_last_id(f.st) == before,
	   "read-only: a report, nothing recorded");
	free(report);
	ok(ops_runbook_sync(f.st, rb2, true, &report, &e) == 0 && report && strstr(report, "changed since"),
	   "changed: reported");
	free(report);
	/* the reader gives back what the writer recorded */
	char *js0 = payload_of(&f, EV_RUNBOOK_LOADED), *path = NULL, sha[65];
	ok(ops_read_runbook_loaded(js0, &path, sha) == 1 && path && strstr(path, "rb.md") &&
	   strcmp(sha, rb2->sha256) == 0, "runbook_loaded read back: path and sha256 (%s)", js0);
	free(path);
	free(js0);
	ok(ops_read_runbook_loaded("{\"sha256\":\"x\"}", &path, sha) == 0 && !path && !sha[0],
	   "a runbook_loaded without a path: none");
	ok(ops_read_runbook_loaded("not json", &path, sha) == 0 && !path, "not JSON: none");
	k = kinds_after(&f, before);
	is_str(k, "runbook_changed runbook_loaded", "runbook_changed and runbook_loaded in one go");
	free(k);
	char *js = payload_of(&f, EV_RUNBOOK_CHANGED);
	ok(has_key(js, "moved") && has_key(js, "from_sha256") && has_key(js, "to_sha256"),
	   "runbook_changed payload: moved, from/to sha256 (%s)", js);
	free(js);
	runbook_free(rb2);
	teardown(&f);
}

static void test_payloads(void)
{
	char *s = ops_payload_tick("abc", NULL);
	is_str(s, "{\"hash\":\"abc\"}", "tick payload without a note");
	free(s);
	s = ops_payload_phase_complete(3, 3, "", false);
	is_str(s, "{\"done\":3,\"total\":3}", "phase_complete without a gate");
	free(s);
	s = ops_payload_note("a \"quoted\" word", NULL);
	is_str(s, "{\"text\":\"a \\\"quoted\\\" word\"}", "note text escaped");
	free(s);
	is_str(ops_result_name(OPS_BLOCKED_BY_GATE), "blocked_by_gate", "result names");
	s = ops_payload_session_start("console");
	is_str(s, "{\"mode\":\"console\"}", "session_start payload");
	free(s);
	s = ops_payload_session_end("quit");
	is_str(s, "{\"reason\":\"quit\"}", "session_end payload");
	free(s);
}

/* "Is phase p blocked by its gate, and by which tables": the one answer
 * the rail, the gate prompt and `status` show. */
static void test_phase_gate(void)
{
	fixture f;
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	ops_outcome o;
	pgc_err e = {0};
	ops_gate g;
	char w[OPS_GATE_MAX];
	ops_phase_gate(f.cfg, f.lg, 2, &g);
	ok(!g.gated && g.met && !g.blocked && g.n_tables == 0, "phase 2 is not gated: never blocked");
	ops_gate_words(&g, 80, w, sizeof w);
	is_str(w, "", "no words for a met gate");
	ops_gate_free(&g);
	ops_phase_gate(NULL, f.lg, 1, &g);
	ok(g.met && !g.blocked, "no config: nothing is gated");
	ops_gate_free(&g);

	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(g.gated && !g.met && !g.blocked, "phase 1 gated, no counts, not started: not met, not (yet) blocked");
	ops_gate_free(&g);
	ops_tick(&f.c, 0, 0, NULL, NULL, &o);
	ops_tick(&f.c, 0, 1, NULL, NULL, &o);
	ops_tick(&f.c, 1, 0, NULL, NULL, &o);
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(g.blocked && g.n_tables == 0, "in progress with no counts recorded: blocked, by no table");
	ops_gate_words(&g, 80, w, sizeof w);
	is_str(w, "no exact counts recorded", "words: no exact counts");
	ops_gate_free(&g);

	state_append(f.st, EV_COUNTS, NULL, NULL, COUNTS_BOTH_DIFFER, NULL, &e);
	ledger_catch_up(f.lg, f.st, &e);
	int64_t before = state_last_id(f.st);
	ok(ops_tick(&f.c, 1, 1, NULL, NULL, &o) == 0 && o.result == OPS_BLOCKED_BY_GATE, "the last tick is refused");
	is_int(state_last_id(f.st), before, "nothing recorded (Esc at the prompt)");
	ok(strstr(o.gate, "bookings: behind") && strstr(o.gate, "reminders: behind"), "the outcome names every table (%s)", o.gate);
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(g.gated && !g.met && g.blocked, "phase 1 at its gate: blocked");
	is_int((long long)g.n_tables, 2, "by both tables");
	ok(g.n_tables == 2 && strcmp(g.tables[0].name, "bookings") == 0 && g.tables[0].counted && g.tables[0].diff == -5 &&
	   strcmp(g.tables[1].name, "reminders") == 0 && g.tables[1].diff == -2,
	   "bookings -5 first, reminders -2 (target - source)");
	ops_gate_words(&g, 80, w, sizeof w);
	is_str(w, "bookings -5, reminders -2", "words: every table");
	ops_gate_words(&g, 20, w, sizeof w);
	is_str(w, "bookings -5 +1 more", "cut to the width: +N more");
	ops_gate_words(&g, 3, w, sizeof w);
	is_str(w, "bookings -5 +1 more", "the first table is always named");
	ops_gate_free(&g);

	state_append(f.st, EV_COUNTS, NULL, NULL, COUNTS_DIFFER, NULL, &e);
	ledger_catch_up(f.lg, f.st, &e);
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(g.blocked && g.n_tables == 1 && g.tables[0].diff == -5, "only bookings differs now");
	ops_gate_free(&g);

	ops_override ov = {.gate_reason = "replication catches up"};
	ops_tick(&f.c, 1, 1, NULL, &ov, &o);
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(!g.met && !g.blocked, "completed with a gate reason: not blocked, though not met");
	ops_gate_free(&g);
	state_append(f.st, EV_COUNTS, NULL, NULL, COUNTS_MATCH, NULL, &e);
	ledger_catch_up(f.lg, f.st, &e);
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(g.met && !g.blocked && g.n_tables == 0, "counts match: met");
	ops_gate_free(&g);
	teardown(&f);
}

/* A phase in "verify": {"gates"} waits for a recorded verify run that
 * found every table equal; the same override reason goes past it. */
static void test_verify_gate(void)
{
	static const char VCFG[] =
		"{\"runbook\": \"rb.md\", \"source\": \"host=/nowhere\", \"target\": \"host=/nowhere\",\n"
		" \"tables\": [{\"name\": \"bookings\"}, {\"name\": \"reminders\"}], \"verify\": {\"gates\": [\"1\"]}}\n";
	static const char VERIFY_DIFFER[] =
		"{\"equal\":false,\"complete\":true,\"summary\":\"1/2 tables equal\",\"tables\":["
		"{\"table\":\"bookings\",\"equal\":false,\"state\":\"mismatched\"},"
		"{\"table\":\"reminders\",\"equal\":true,\"state\":\"matched\"}]}";
	static const char VERIFY_EQUAL[] =
		"{\"equal\":true,\"complete\":true,\"summary\":\"2/2 tables equal\",\"tables\":["
		"{\"table\":\"bookings\",\"equal\":true,\"state\":\"matched\"},"
		"{\"table\":\"reminders\",\"equal\":true,\"state\":\"matched\"}]}";
	fixture f;
	pgc_err e = {0};
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	config_free(f.cfg);
	if (config_parse(VCFG, strlen(VCFG), "/tmp/pgcutover.json", &f.cfg, &e) < 0) {
		ok(0, "config: %s", e.msg);
		f.cfg = NULL;
		teardown(&f);
		return;
	}
	f.c.cfg = f.cfg;
	ops_gate g;
	ops_outcome o;
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(g.gated && !g.met && g.by_verify && g.n_tables == 2, "no verify recorded: both tables keep it shut");
	ok(g.n_tables == 2 && strcmp(g.tables[0].why, "bookings: verify not verified") == 0, "why: not verified (%s)",
	   g.n_tables ? g.tables[0].why : "");
	ops_gate_free(&g);
	ops_phase_gate(f.cfg, f.lg, 0, &g);
	ok(!g.gated && g.met, "phase 0 is not verify-gated");
	ops_gate_free(&g);
	ops_tick(&f.c, 0, 0, NULL, NULL, &o);
	ops_tick(&f.c, 0, 1, NULL, NULL, &o);
	ops_tick(&f.c, 1, 0, NULL, NULL, &o);

	state_append(f.st, EV_VERIFY, NULL, NULL, VERIFY_DIFFER, NULL, &e);
	ledger_catch_up(f.lg, f.st, &e);
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(!g.met && g.n_tables == 1 && strcmp(g.tables[0].why, "bookings: verify mismatched") == 0,
	   "a run with a difference: the table that differs");
	ops_gate_free(&g);
	ok(ops_tick(&f.c, 1, 1, NULL, NULL, &o) == 0 && o.result == OPS_BLOCKED_BY_GATE &&
	   strstr(o.message, "gated on verify: bookings: verify mismatched"), "the tick is refused: %s", o.message);
	ops_override ov = {.gate_reason = "checked by hand"};
	ok(ops_tick(&f.c, 1, 1, NULL, &ov, &o) == 0 && o.result == OPS_DONE && o.phase_completed,
	   "an override reason completes it");
	ops_untick(&f.c, 1, 1, "again", &o);

	state_append(f.st, EV_VERIFY, NULL, NULL, VERIFY_EQUAL, NULL, &e);
	ledger_catch_up(f.lg, f.st, &e);
	ops_phase_gate(f.cfg, f.lg, 1, &g);
	ok(g.met && g.n_tables == 0, "every table equal: met");
	is_str(g.summary, "verify: 2/2 tables equal", "the summary is the run's");
	ops_gate_free(&g);
	ok(ops_tick(&f.c, 1, 1, NULL, NULL, &o) == 0 && o.result == OPS_DONE && o.phase_completed,
	   "the tick goes through");
	teardown(&f);
}

/* A parent item is not ticked while its sub-items are open: the outcome
 * names them, nothing is written until a reason is given, and the reason
 * is recorded with the tick naming what was open. */
static void test_open_children(void)
{
	static const char NESTED[] =
		"# Ops\n\n## Phase 0: Copy\n\n"
		"- [ ] Copy in order:\n"
		"  - [ ] companies\n"
		"  - [ ] staff\n"
		"    - [ ] schedules\n"
		"- [ ] Verify\n";
	fixture f;
	if (setup_rb(&f, NESTED) < 0) {
		ok(0, "set up");
		return;
	}
	ops_outcome o;
	ok(ops_tick(&f.c, 0, 2, NULL, NULL, &o) == 0 && o.result == OPS_OPEN_CHILDREN && o.open_children == 1 &&
	   strcmp(o.message, "0.3 has 1 open sub-item: 0.4") == 0, "a nested parent: its own sub-item named");
	ok(ops_tick(&f.c, 0, 1, NULL, NULL, &o) == 0 && o.result == OPS_DONE, "a leaf ticks");
	ok(ops_tick(&f.c, 0, 0, NULL, NULL, &o) == 0 && o.result == OPS_OPEN_CHILDREN && o.open_children == 2 &&
	   strcmp(o.message, "0.1 has 2 open sub-items: 0.3, 0.4") == 0, "the parent: the open ones at any depth, done ones left out: %s", o.message);
	ok(!ledger_item(f.lg, 0, 0)->done, "nothing recorded");
	ok(strcmp(ops_result_name(o.result), "open_children") == 0, "its name");
	ops_override ov = {.children_reason = "checked by hand"};
	ok(ops_tick(&f.c, 0, 0, NULL, &ov, &o) == 0 && o.result == OPS_DONE && ledger_item(f.lg, 0, 0)->done,
	   "with a reason: ticked");
	char *pl = payload_of(&f, EV_TICK);
	ok(strstr(pl, "ticked with 2 open sub-items (0.3, 0.4): checked by hand") != NULL, "the reason and the open ids recorded: %s", pl);
	free(pl);
	ok(ops_tick(&f.c, 0, 3, NULL, NULL, &o) == 0 && o.result == OPS_DONE, "a leaf under a done parent ticks");
	ok(ops_tick(&f.c, 0, 2, NULL, NULL, &o) == 0 && o.result == OPS_DONE, "a parent whose sub-items are done ticks");
	ok(ops_tick(&f.c, 0, 4, NULL, NULL, &o) == 0 && o.result == OPS_DONE && o.phase_completed,
	   "the next top-level item is no sub-item: the phase completes");
	teardown(&f);
}

/* Where the operators last worked (the monitor follows its driver there)
 * and each one's last tick still done (the console's undo). */
static void test_last_tick_and_work(void)
{
	fixture f;
	if (setup(&f) < 0) {
		ok(0, "set up");
		return;
	}
	size_t p = 9, i = 9;
	ok(ledger_last_tick_by(f.lg, "alice", &p, &i) < 0 && f.lg->work_phase == SIZE_MAX, "nothing ticked, no work");
	ops_outcome o;
	ops_tick(&f.c, 0, 1, NULL, NULL, &o);
	ops_tick(&f.c, 0, 0, NULL, NULL, &o);
	state_set_actor(f.st, "bob", "host2");
	ops_tick(&f.c, 1, 0, NULL, NULL, &o);
	ok(ledger_last_tick_by(f.lg, "alice", &p, &i) == 0 && p == 0 && i == 0, "alice's last tick: 0.1");
	ok(ledger_last_tick_by(f.lg, "bob", &p, &i) == 0 && p == 1 && i == 0, "bob's: 1.1");
	ok(f.lg->work_phase == 1 && f.lg->work_item == 0 && f.lg->work_by && strcmp(f.lg->work_by, "bob") == 0 &&
	   f.lg->work_event_id == o.event_id, "the latest work: bob on 1.1");
	ops_untick(&f.c, 0, 0, "wrong item", &o);
	ok(ledger_last_tick_by(f.lg, "alice", &p, &i) == 0 && p == 0 && i == 1, "0.1 unticked: alice's last still done is 0.2");
	ok(f.lg->work_phase == 0 && f.lg->work_item == 0, "an untick is work too: 0.1");
	ops_note(&f.c, 1, 1, "a note is not work", &o);
	ok(f.lg->work_phase == 0 && f.lg->work_item == 0, "a note moves nothing");
	ok(ledger_last_tick_by(f.lg, "carol", &p, &i) < 0 && ledger_last_tick_by(f.lg, NULL, &p, &i) < 0,
	   "nobody else's");
	teardown(&f);
}

int main(void)
{
	test_open_children();
	test_last_tick_and_work();
	test_tick_untick_note();
	test_order_and_gate();
	test_phase_gate();
	test_verify_gate();
	test_complete_phase();
	test_downtime_duty();
	test_runbook_sync();
	test_payloads();
	return done_testing();
}
