/*
 * test_replay.c -- seeking a long log (replay.c): the ledger replay_build()
 * gives at any event is the one a plain fold from the start gives, from a
 * state file (checkpoint snapshots written by replay_index) and from its
 * JSONL export (snapshots kept in memory past REPLAY_SNAPSHOT_EVERY), on
 * both sides of every checkpoint; replay_times_from() returns the tail of
 * replay_times(); ledger_replace() moves one ledger's state into another.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pgcutover/export.h"
#include "pgcutover/replay.h"
#include "pgcutover/action.h"
#include "tap.h"

static char tmpdir[TAP_TMPL_MAX];

/* Ticks and unticks over the items, notes between: the mix that makes a
 * wrong fold show in the ledger. */
#define N_EVENTS (2 * REPLAY_SNAPSHOT_EVERY + 4321)
#define TICK_EVERY 7

typedef struct fold_ctx {
	ledger *lg;
	int64_t upto;
} fold_ctx;

static int fold_one(const st_event *ev, void *ud)
{
	fold_ctx *c = ud;
	if (ev->id > c->upto)
		return 1;
	ledger_apply(c->lg, ev);
	return 0;
}

/* The plain fold from the start, as the reference. */
static char *folded_json(const runbook *rb, state *st, int64_t upto)
{
	fold_ctx c = {ledger_new(rb), upto};
	state_foreach(st, 0, fold_one, &c, NULL);
	char *json = ledger_snapshot_json(c.lg);
	ledger_free(c.lg);
	return json;
}

static char *built_json(replay_src *r, const runbook *rb, int64_t id)
{
	ledger *lg = NULL;
	pgc_err e = {0};
	if (replay_build(r, rb, id, &lg, &e) < 0)
		return xstrdup(e.msg);
	char *json = ledger_snapshot_json(lg);
	ledger_free(lg);
	return json;
}

/* replay_parse_at(): what `replay --at` and the console's t read. */
static double local_time(int y, int mo, int d, int h, int mi, int sec)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
	                .tm_sec = sec, .tm_isdst = -1};
	return (double)mktime(&tm);
}

static void test_parse_at(void)
{
	setenv("TZ", "Europe/Berlin", 1);   /* not UTC: local time must be local */
	tzset();
	double ref = local_time(2026, 12, 7, 23, 0, 30);   /* a night that crosses midnight */
	double t = 0, upto = 0;
	ok(replay_parse_at("23:30", ref, &t, &upto) == 0, "at: HH:MM reads");
	is_int((long long)t, (long long)local_time(2026, 12, 7, 23, 30, 0), "at: 23:30 is on the log's first day");
	ok(upto > t + 59.9 && upto < t + 60, "at: ... to the end of that minute");
	ok(replay_parse_at("03:12", ref, &t, &upto) == 0, "at: 03:12 reads");
	is_int((long long)t, (long long)local_time(2026, 12, 8, 3, 12, 0), "at: 03:12 after a 23:00 start is the next day");
	ok(replay_parse_at("23:00", ref, &t, &upto) == 0 && (long long)t == (long long)local_time(2026, 12, 7, 23, 0, 0),
	   "at: the minute the log began in is that day's (the first event is in it)");
	ok(replay_parse_at("03:12:05", ref, &t, &upto) == 0 && upto > t + 0.9 && upto < t + 1,
	   "at: HH:MM:SS to the end of the second");
	ok(replay_parse_at("2026-12-07T03:12:05.123Z", ref, &t, &upto) == 0 && upto > t + 0.0009 && upto < t + 0.001,
	   "at: a time from log to the end of its millisecond");
	ok(replay_parse_at("2026-12-07 03:12", ref, &t, &upto) == 0 && upto > t + 59.9 && upto < t + 60,
	   "at: a date and HH:MM to the end of the minute");
	ok(replay_parse_at("2026-12-07", ref, &t, &upto) == 0 && upto > t + 86399 && upto < t + 86400,
	   "at: a date alone to the end of the day");
	ok(replay_parse_at("1796000000", ref, &t, &upto) == 0 && t == 1796000000.0 && upto < t + 1,
	   "at: Unix seconds");
	const char *bad[] = {"25:00", "03:61", "3:1x", "", "yesterday", "12:00:00:00"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(replay_parse_at(bad[i], ref, &t, &upto) < 0, "at: '%s' is not a time", bad[i]);
	unsetenv("TZ");
	tzset();
}

/* replay_command_at(): the command running at an event, or the last one. */
static void test_command_at(void)
{
	pgc_err e = {0};
	char *path = xasprintf("%s/cmd.db", tmpdir);
	state *st = NULL;
	ok(state_open(path, STATE_OPEN_CREATE, &st, &e) == 0, "cmd: state opens (%s)", e.msg);
	state_set_actor(st, "tester", "h");
	int64_t before = 0, s1 = 0, mid = 0, e1 = 0, s2 = 0, e2 = 0;
	state_append(st, EV_NOTE, NULL, NULL, "{\"text\":\"before\"}", &before, &e);
	state_append(st, EV_COMMAND_START, "1", "1.1", "{\"command\":\"echo one\\nsecond line\"}", &s1, &e);
	state_append(st, EV_NOTE, NULL, NULL, "{\"text\":\"during\"}", &mid, &e);
	char *end1 = xasprintf("{\"start_id\":%lld,\"status\":\"failed\",\"exit\":127,\"duration_s\":0.5,"
	                       "\"output_tail\":\"sh: pm2: not found\\n\"}", (long long)s1);
	state_append(st, EV_COMMAND_END, "1", "1.1", end1, &e1, &e);
	state_append(st, EV_COMMAND_START, "1", "1.2", "{\"command\":\"sleep 9\"}", &s2, &e);
	/* an end that closes another run (one that was never started here) */
	state_append(st, EV_COMMAND_END, "1", "1.2", "{\"start_id\":999,\"status\":\"ok\",\"exit\":0}", &e2, &e);
	free(end1);
	state_close(st);

	replay_src *r = NULL;
	ok(replay_open(path, &r, &e) == 0, "cmd: replay opens (%s)", e.msg);
	replay_command c;
	ok(replay_command_at(r, before, &c, &e) == 0 && c.start == NULL, "cmd: none before the first start");
	replay_command_free(&c);
	ok(replay_command_at(r, mid, &c, &e) == 0 && c.start && c.start->id == s1 && !c.end,
	   "cmd: running at an event between its start and end");
	is_str(c.cmd.command ? c.cmd.command : "", "echo one\nsecond line", "cmd: its command");
	replay_command_free(&c);
	ok(replay_command_at(r, e1, &c, &e) == 0 && c.start && c.start->id == s1 && c.end && c.end->id == e1,
	   "cmd: ended at its command_end");
	ok(c.result.has_exit && c.result.exit_code == 127, "cmd: with its exit code");
	replay_command_free(&c);
	ok(replay_command_at(r, e2, &c, &e) == 0 && c.start && c.start->id == s2 && !c.end,
	   "cmd: an end of another run does not end the newest start");
	replay_command_free(&c);
	replay_close(r);
	free(path);
}

int main(void)
{
	if (!mkdtemp(tap_tmpl(tmpdir, sizeof tmpdir, "pgc-test-replay")))
		return 1;
	test_parse_at();
	test_command_at();
	pgc_err e = {0};
	char *rb_path = xasprintf("%s/rb.md", tmpdir);
	FILE *f = fopen(rb_path, "w");
	fputs("# T\n\n## Phase 1: One\n\n- [ ] a\n- [ ] b\n- [ ] c\n\n## Phase 2: Two\n\n- [ ] d\n- [ ] e\n", f);
	fclose(f);
	runbook *rb = NULL;
	rb_options opt = {0};
	ok(runbook_load(rb_path, &opt, &rb, &e) == 0, "runbook loads");

	char *path = xasprintf("%s/s.db", tmpdir);
	state *st = NULL;
	ok(state_open(path, STATE_OPEN_CREATE, &st, &e) == 0, "state opens");
	state_set_actor(st, "tester", "h");
	state_begin(st, &e);
	size_t n_items = 0;
	const rb_item *items[8];
	for (size_t p = 0; p < rb->n_phases; p++)
		for (size_t i = 0; i < rb->phases[p].n_items; i++)
			items[n_items++] = &rb->phases[p].items[i];
	int failures = 0;
	for (int k = 1; k < N_EVENTS; k++) {
		const rb_item *it = items[(k / TICK_EVERY) % n_items];
		char payload[96];
		snprintf(payload, sizeof payload, "{\"hash\":\"%s\",\"reason\":\"r\",\"text\":\"n%d\"}", it->hash, k);
		const char *kind = k % TICK_EVERY ? EV_NOTE : (k / TICK_EVERY) % 3 == 2 ? EV_UNTICK : EV_TICK;
		char phase[RB_ID_MAX];
		snprintf(phase, sizeof phase, "%s", it->id);
		*strchr(phase, '.') = '\0';
		if (state_append(st, kind, phase, it->id, payload, NULL, &e) < 0)
			failures++;
	}
	is_int(failures, 0, "appended the log");
	ok(state_commit(st, &e) == 0, "committed");
	int64_t last = state_last_id(st);
	is_int(last, N_EVENTS, "events in the log");
	int written = 0;
	ok(replay_index(rb, st, REPLAY_SNAPSHOT_EVERY, &written, &e) == 0, "checkpoint snapshots written");
	is_int(written, N_EVENTS / REPLAY_SNAPSHOT_EVERY, "one per REPLAY_SNAPSHOT_EVERY events");

	char *jsonl = xasprintf("%s/log.jsonl", tmpdir);
	f = fopen(jsonl, "w");
	int64_t n = 0;
	ok(f && export_jsonl(st, 0, f, &n, &e) == 0, "exported");
	fclose(f);

	replay_src *from_state = NULL, *from_jsonl = NULL;
	ok(replay_open(path, &from_state, &e) == 0, "replay opens the state");
	ok(replay_open(jsonl, &from_jsonl, &e) == 0, "replay opens the JSONL");
	ok(!replay_is_jsonl(from_state) && replay_is_jsonl(from_jsonl), "told apart");

	const int64_t ids[] = {0, 1, REPLAY_SNAPSHOT_EVERY - 1, REPLAY_SNAPSHOT_EVERY, REPLAY_SNAPSHOT_EVERY + 1,
	                       2 * REPLAY_SNAPSHOT_EVERY + 17, last - 1, last};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		char *want = folded_json(rb, st, ids[i]);
		char *a = built_json(from_state, rb, ids[i]);
		char *b = built_json(from_jsonl, rb, ids[i]);
		char name[96];
		snprintf(name, sizeof name, "state: the ledger at event %lld is the plain fold's", (long long)ids[i]);
		is_str(a, want, name);
		snprintf(name, sizeof name, "JSONL: the ledger at event %lld is the plain fold's", (long long)ids[i]);
		is_str(b, want, name);
		free(want);
		free(a);
		free(b);
	}
	char *first = folded_json(rb, st, 1), *final = folded_json(rb, st, last);
	ok(strcmp(first, final) != 0, "the log does change the ledger (the comparisons above can fail)");
	free(first);
	free(final);
	/* Backwards after forwards: the in-memory snapshots are reused. */
	char *want = folded_json(rb, st, REPLAY_SNAPSHOT_EVERY + 3);
	char *b = built_json(from_jsonl, rb, REPLAY_SNAPSHOT_EVERY + 3);
	is_str(b, want, "JSONL: a seek back lands right too");
	free(want);
	free(b);

	double *all = NULL, *tail = NULL;
	size_t n_all = 0, n_tail = 0;
	const int64_t from = last - 9;
	ok(replay_times(from_state, &all, &n_all, &e) == 0, "all times");
	ok(replay_times_from(from_state, from, &tail, &n_tail, &e) == 0, "times from an event");
	is_int(n_all, last, "one time per event");
	is_int(n_tail, last - from + 1, "the tail's length");
	ok(n_tail && memcmp(tail, all + (from - 1), n_tail * sizeof *tail) == 0, "the tail is the same times");
	free(all);
	free(tail);
	ok(replay_times_from(from_jsonl, from, &tail, &n_tail, &e) == 0 && n_tail == (size_t)(last - from + 1),
	   "the same from the JSONL");
	free(tail);

	ledger *dst = NULL, *src = NULL;
	replay_build(from_state, rb, 100, &dst, &e);
	replay_build(from_state, rb, 2000, &src, &e);
	char *src_json = ledger_snapshot_json(src);
	ledger *kept = dst;
	ledger_replace(dst, src);
	char *dst_json = ledger_snapshot_json(dst);
	ok(dst == kept, "ledger_replace keeps the pointer");
	is_str(dst_json, src_json, "and holds the other ledger's state");
	is_int(dst->last_event_id, 2000, "as of its event");
	free(src_json);
	free(dst_json);
	ledger_free(dst);

	replay_close(from_state);
	replay_close(from_jsonl);
	state_close(st);
	runbook_free(rb);
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	free(jsonl);
	free(path);
	free(rb_path);
	return done_testing();
}
