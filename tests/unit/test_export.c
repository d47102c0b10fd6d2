/*
 * test_export.c -- the JSONL form of events (export.c): a line parses back
 * into the same event with the payload's exact bytes, even when a string
 * before the payload holds the text "payload": or quotes and backslashes;
 * a payload that would break a line travels as payload_text; the chain of
 * an exported file verifies, and an edit is caught on its line; the
 * replay timeline compresses idle gaps.  Times and numbers the chain
 * cannot bind one-to-one (inf, 1e300, -5e15, sub-microsecond, huge ids)
 * are refused on import, and even a state holding such a time gives each
 * its own canonical text; hostile lines (ids of 1e300, hashes that are not
 * hex, payload_text that only looks like JSON) are refused or survive a
 * round trip with their canonical text.  The Markdown post-mortem's
 * downtime is sched_downtime_get()'s (an explicit start and end, nothing
 * ticked in the window), its times to the second, a day-long plan in days,
 * a range as written, a note's newline a <br>.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/export.h"
#include "pgcutover/replay.h"
#include "pgcutover/evpay.h"
#include "pgcutover/schedule.h"
#include "tap.h"

static char tmpdir[TAP_TMPL_MAX];

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* An event line with the given id, ts, pid and hash texts. */
static char *line_with(const char *id, const char *ts, const char *pid, const char *hash, const char *payload)
{
	return xasprintf("{\"id\":%s,\"ts\":%s,\"operator\":\"o\",\"host\":\"h\",\"pid\":%s,"
	                 "\"kind\":\"note\",\"phase\":null,\"item\":null,\"prev_hash\":\"" HASH_A "\","
	                 "\"hash\":\"%s\",%s}", id, ts, pid, hash, payload);
}

static bool parses(char *line)
{
	st_event ev;
	pgc_err e;
	bool r = export_parse_line(line, &ev, &e) == 0;
	if (r)
		st_event_clear(&ev);
	free(line);
	return r;
}

/* Imports line, exports it, imports that: the canonical text (what the hash
 * covers) must not change.  Returns the second event's payload, or NULL. */
static char *round_trip(char *line, bool *same_canon)
{
	st_event a, b;
	pgc_err e;
	char *payload = NULL;
	*same_canon = false;
	if (export_parse_line(line, &a, &e) == 0) {
		char *again = export_event_line(&a);
		if (export_parse_line(again, &b, &e) == 0) {
			char *ca = state_event_canonical(&a), *cb = state_event_canonical(&b);
			*same_canon = strcmp(ca, cb) == 0;
			payload = xstrdup(b.payload);
			free(ca);
			free(cb);
			st_event_clear(&b);
		}
		free(again);
		st_event_clear(&a);
	}
	free(line);
	return payload;
}

/* Issue 19, found by tests/fuzz/fuzz_jsonl: numbers and texts an imported
 * line may carry. */
static void test_hostile_lines(void)
{
	ok(parses(line_with("7", "1765000000.25", "42", HASH_A, "\"payload\":{}")), "a plain line parses");
	ok(!parses(line_with("1e300", "1.5", "1", HASH_A, "\"payload\":{}")),
	   "an id of 1e300 is refused (it overflowed the int64_t)");
	ok(!parses(line_with("-1e300", "1.5", "1", HASH_A, "\"payload\":{}")), "an id of -1e300 is refused");
	ok(!parses(line_with("1.5", "1.5", "1", HASH_A, "\"payload\":{}")), "an id of 1.5 is refused");
	ok(!parses(line_with("9007199254740993", "1.5", "1", HASH_A, "\"payload\":{}")),
	   "an id beyond 2^53 is refused");
	ok(!parses(line_with("1", "1.5", "1e10", HASH_A, "\"payload\":{}")), "a pid beyond an int is refused");
	ok(!parses(line_with("1", "1.5", "1",
	                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\"payload\":{}")),
	   "a hash with a quote in it is refused (it was exported raw into a broken line)");
	ok(!parses(line_with("1", "1.5", "1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                     "\"payload\":{}")), "a hash in capitals is not one pgcutover wrote");
	bool same;
	char *p = round_trip(line_with("1", "1.5", "1", HASH_A, "\"payload_text\":\"{\\\"a\\\": [1,\""), &same);
	ok(p && strcmp(p, "{\"a\": [1,") == 0 && same,
	   "a payload_text that starts with { but is no JSON object is exported as payload_text again");
	free(p);
	ok(!parses(line_with("1", "1765000006.0172835", "1", HASH_A, "\"payload\":{}")),
	   "a time with seven decimals is refused: the chain binds whole microseconds");
	p = round_trip(line_with("1", "1765000006.172835", "1", HASH_A, "\"payload\":{\"k\": [1, 2]}"), &same);
	ok(p && same && strcmp(p, "{\"k\": [1, 2]}") == 0, "a JSON payload keeps its exact text");
	free(p);
}


#define MD_T0 1795000000.0    /* 2026-11-18 */
#define MD_DOWN_S 291.0

static void md_event(export_md *md, ledger *lg, int64_t id, double ts, const char *kind, const char *item,
                     char *payload)
{
	st_event ev = {.id = id, .ts = ts, .operator_name = (char *)"dora", .host = (char *)"h", .pid = 1,
	               .kind = (char *)kind, .item = (char *)item, .payload = payload};
	export_md_add(md, &ev);
	ledger_apply(lg, &ev);
	free(payload);
}

static void test_md_report(void)
{
	const char *text = "# R\n\n## Phase 1: Soak\n\n**Duration:** 3-5 days\n\n- [ ] Watch\n\n"
	                   "## Phase 2: Long\n\n**Duration:** 3 days\n\n- [ ] Wait\n\n"
	                   "## Phase 5: Cutover\n\n### 5.2 Cutover Window (02:00-04:00)\n\n- [ ] Stop the app\n";
	runbook *rb = NULL;
	pgc_err e = {0};
	if (runbook_parse(text, strlen(text), "r.md", NULL, &rb, &e) < 0) {
		ok(false, "parse the report's runbook: %s", e.msg);
		return;
	}
	export_md *md = export_md_new(rb, "s.db");
	ledger *lg = ledger_new(rb);
	md_event(md, lg, 1, MD_T0, EV_DOWNTIME_START, NULL, ops_payload_downtime_start("explicit", 120));
	md_event(md, lg, 2, MD_T0 + 5.25, EV_NOTE, NULL, ops_payload_note("first line\nsecond line", NULL));
	md_event(md, lg, 3, MD_T0 + MD_DOWN_S, EV_DOWNTIME_END, NULL, ops_payload_downtime_end(MD_DOWN_S, 120, false));
	sched_downtime d;
	sched_downtime_get(rb, lg, MD_T0 + MD_DOWN_S, &d);
	char *out = export_md_finish(md);
	char *want = xasprintf("Actual: 4m51s (%ld s), from ", (long)d.elapsed_s);
	ok(d.elapsed_s > 0 && strstr(out, want) != NULL, "md: the actual downtime is sched_downtime_get()'s");
	ok(strstr(out, "(downtime start) to ") && strstr(out, "(downtime end)."), "md: from the start to the end event");
	ok(!strstr(out, "not recorded"), "md: nothing ticked in the window, yet the downtime is known");
	ok(strstr(out, "- Times: UTC") && !strstr(out, ".000Z") && strstr(out, "2026-11-18 11:06:40 (downtime start)"),
	   "md: times to the second, the zone stated");
	ok(strstr(out, "| 3-5 days |") != NULL, "md: a range as the runbook wrote it");
	ok(strstr(out, "| 3d |") != NULL, "md: 3 days as 3d");
	ok(strstr(out, "first line<br>second line") != NULL, "md: a newline in a cell is a <br>");
	free(want);
	free(out);
	ledger_free(lg);
	runbook_free(rb);
}

int main(void)
{
	if (!mkdtemp(tap_tmpl(tmpdir, sizeof tmpdir, "pgc-test-export")))
		return 1;
	test_hostile_lines();
	test_md_report();
	char *path = xasprintf("%s/s.db", tmpdir);
	pgc_err e = {0};
	state *st = NULL;
	ok(state_open(path, STATE_OPEN_CREATE, &st, &e) == 0, "open state");
	state_set_actor(st, "o\"p \\ \"payload\":{", "h");
	ok(state_append(st, EV_NOTE, NULL, "1.1", "{\"text\":\"a \\\"payload\\\": b\",  \"n\" : 1}", NULL, &e) == 0,
	   "append with odd spacing and a tricky operator");
	ok(state_append(st, EV_NOTE, NULL, NULL, "{\n  \"text\": \"pretty\"\n}", NULL, &e) == 0,
	   "append a payload with newlines");

	char *jsonl = xasprintf("%s/out.jsonl", tmpdir);
	FILE *f = fopen(jsonl, "w");
	int64_t n = 0;
	ok(f && export_jsonl(st, 0, f, &n, &e) == 0, "export");
	fclose(f);
	is_int(n, 3, "three events (state_created + two)");

	for (int64_t id = 2; id <= 3; id++) {
		st_event *ev = NULL, back;
		state_get_event(st, id, &ev, &e);
		char *line = export_event_line(ev);
		ok(!strchr(line, '\n'), "event %lld: one line", (long long)id);
		ok(export_parse_line(line, &back, &e) == 0, "event %lld parses back", (long long)id);
		is_str(back.payload, ev->payload, "payload bytes are exact");
		is_str(back.operator_name, ev->operator_name, "operator");
		is_str(back.hash, ev->hash, "hash");
		ok(back.ts == ev->ts, "ts");
		char *c1 = state_event_canonical(ev), *c2 = state_event_canonical(&back);
		is_str(c2, c1, "same canonical text, so the same hash");
		free(c1);
		free(c2);
		if (id == 3)
			ok(strstr(line, "\"payload_text\":") != NULL, "the multi-line payload travels as payload_text");
		st_event_clear(&back);
		free(line);
		st_event_free(ev);
	}

	int64_t events = 0, bad = 0;
	char head[65];
	is_int(export_verify_jsonl(jsonl, &events, head, &bad, &e), 0, "the export verifies");
	st_event *last = NULL;
	state_get_event(st, 3, &last, &e);
	is_str(head, last->hash, "head is the last hash");
	st_event_free(last);

	/* Edit the second line's payload. */
	char *text = NULL;
	size_t len = 0;
	pgc_read_file(jsonl, 0, &text, &len, &e);
	char *p = strstr(text, "\"n\" : 1");
	ok(p != NULL, "found the payload to edit");
	if (p)
		p[6] = '2';
	f = fopen(jsonl, "w");
	fputs(text, f);
	fclose(f);
	free(text);
	is_int(export_verify_jsonl(jsonl, &events, head, &bad, &e), 1, "an edited payload is caught");
	is_int(bad, 2, "on line 2");

	/* Out-of-range numbers: refused, each saying which. */
	{
		st_event *ev2 = NULL, back;
		state_get_event(st, 2, &ev2, &e);
		char *line = export_event_line(ev2);
		char *ts_at = strstr(line, "\"ts\":");
		char *ts_end = ts_at ? strchr(ts_at, ',') : NULL;
		ok(ts_at && ts_end, "the line has a ts");
		static const struct { const char *ts, *why; } bad_ts[] = {
			{"1e300", "ts is out of range"}, {"-5e15", "ts is out of range"},
			{"1e999", "ts is not a finite number"}, {"-1e999", "ts is not a finite number"},
			{"1796000000.0000003", "ts is not a whole number of microseconds"},
			{"-0.5", "ts is out of range"},
		};
		for (size_t k = 0; ts_at && ts_end && k < sizeof bad_ts / sizeof bad_ts[0]; k++) {
			char *edited = xasprintf("%.*s\"ts\":%s%s", (int)(ts_at - line), line, bad_ts[k].ts, ts_end);
			pgc_err pe = {0};
			ok(export_parse_line(edited, &back, &pe) < 0 && strstr(pe.msg, bad_ts[k].why),
			   "ts %s refused: %s", bad_ts[k].ts, pe.msg);
			free(edited);
		}
		char *id_at = strstr(line, "\"id\":");
		char *id_end = id_at ? strchr(id_at, ',') : NULL;
		static const char *const bad_id[] = {"1e300", "0", "-3", "2.5", "1e999"};
		for (size_t k = 0; id_at && id_end && k < sizeof bad_id / sizeof bad_id[0]; k++) {
			char *edited = xasprintf("%.*s\"id\":%s%s", (int)(id_at - line), line, bad_id[k], id_end);
			pgc_err pe = {0};
			ok(export_parse_line(edited, &back, &pe) < 0 && strstr(pe.msg, "id is not a whole number"),
			   "id %s refused: %s", bad_id[k], pe.msg);
			free(edited);
		}
		char *pid_at = strstr(line, "\"pid\":");
		char *pid_end = pid_at ? strchr(pid_at, ',') : NULL;
		static const char *const bad_pid[] = {"1e300", "-1", "4294967296", "1.5"};
		for (size_t k = 0; pid_at && pid_end && k < sizeof bad_pid / sizeof bad_pid[0]; k++) {
			char *edited = xasprintf("%.*s\"pid\":%s%s", (int)(pid_at - line), line, bad_pid[k], pid_end);
			pgc_err pe = {0};
			ok(export_parse_line(edited, &back, &pe) < 0 && strstr(pe.msg, "pid is not a whole number"),
			   "pid %s refused: %s", bad_pid[k], pe.msg);
			free(edited);
		}
		free(line);

		/* The canonical text is one-to-one, even for times never accepted. */
		static const double odd_ts[] = {1e300, -5e15, 2e300, 1e19, -1e19, INFINITY, -INFINITY};
		char *canon[sizeof odd_ts / sizeof odd_ts[0]];
		double saved = ev2->ts;
		for (size_t k = 0; k < sizeof odd_ts / sizeof odd_ts[0]; k++) {
			ev2->ts = odd_ts[k];
			canon[k] = state_event_canonical(ev2);
		}
		ev2->ts = saved;
		char *normal = state_event_canonical(ev2);
		int dup = 0;
		for (size_t k = 0; k < sizeof odd_ts / sizeof odd_ts[0]; k++) {
			dup += strcmp(canon[k], normal) == 0;
			for (size_t m = k + 1; m < sizeof odd_ts / sizeof odd_ts[0]; m++)
				dup += strcmp(canon[k], canon[m]) == 0;
		}
		is_int(dup, 0, "out-of-range times have canonical texts of their own");
		for (size_t k = 0; k < sizeof odd_ts / sizeof odd_ts[0]; k++)
			free(canon[k]);
		free(normal);
		ok(state_ts_problem(saved) == NULL && state_ts_problem(1796621461.93892) == NULL &&
		   state_ts_problem(STATE_TS_MAX) == NULL && state_ts_problem(0) == NULL,
		   "times as stored (whole microseconds, 1970 to 2100) are accepted");
		st_event_free(ev2);
	}

	/* The command at a cursor, from the state and from a JSONL. */
	int64_t sid = 0;
	char end_payload[64];
	state_append(st, "command_start", "1", "1.1", "{\"command\":\"true\"}", &sid, &e);
	snprintf(end_payload, sizeof end_payload, "{\"start_id\":%lld,\"status\":\"ok\"}", (long long)sid);
	int64_t eid = 0;
	state_append(st, "command_end", "1", "1.1", end_payload, &eid, &e);
	char *jsonl2 = xasprintf("%s/two.jsonl", tmpdir);
	f = fopen(jsonl2, "w");
	export_jsonl(st, 0, f, NULL, &e);
	fclose(f);
	const char *srcs[] = {path, jsonl2};
	for (int s = 0; s < 2; s++) {
		replay_src *r = NULL;
		ok(replay_open(srcs[s], &r, &e) == 0, "replay_open %s", s ? "jsonl" : "state");
		st_event *ev = NULL;
		is_int(replay_last_of_kind_at(r, "command_start", sid - 1, &ev, &e), 0, "no command before its start");
		is_int(replay_last_of_kind_at(r, "command_start", eid, &ev, &e), 1, "the command at its end");
		is_int(ev ? ev->id : 0, sid, "is the one started");
		st_event_free(ev);
		ev = NULL;
		is_int(replay_last_of_kind_at(r, "command_end", sid, &ev, &e), 0, "not ended yet at its start");
		replay_close(r);
	}
	free(jsonl2);

	double times[] = {100, 101, 200, 202, 1000};
	double pos[5];
	double total = replay_compress(times, 5, 10, pos);
	ok(total == 1 + 10 + 2 + 10, "gaps longer than 10 s count 10 s (total %.0f)", total);
	ok(pos[2] == 11 && pos[3] == 13, "positions follow");
	is_int((long long)replay_compress(times, 5, 0, pos), 900, "no compression: the wall span");

	state_close(st);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	free(cmd);
	free(path);
	free(jsonl);
	return done_testing();
}
