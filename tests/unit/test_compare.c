/*
 * test_compare.c -- the comparison model (compare.h) driven through its side
 * driver interface by a scripted driver: what a refresh asks for (estimates
 * first, exact counts where the mode or a small estimate calls for one),
 * validation states, the summary line, completion and the one EV_COUNTS
 * event per snapshot in a real state file, errors kept beside the last good
 * figure, unreachable sides, rows/s and ETA from history, the history ring,
 * and history loaded back from the state; the pace of a side's counts
 * (pace.h: concurrency raised while rows/s grows, never over pool_size,
 * parallel workers only for a big table alone).  The PostgreSQL and PostgREST
 * drivers are tested against real servers in tests/integration.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "pgcutover/compare.h"
#include "pgcutover/evpay.h"
#include "pgcutover/pace.h"
#include "tap.h"

#define MAX_REQ 64

/* What the scripted driver was asked, per side. */
typedef struct script {
	struct { size_t table; bool exact; } req[MAX_REQ];
	size_t n_req;
	int cancels;
	bool started;
} script;

static script scripts[CMP_N_SIDES];

static int sc_start(cmp_side *sd, pgc_err *e)
{
	((script *)sd->impl)->started = true;
	return 0;
}

static void sc_request(cmp_side *sd, size_t t, bool exact)
{
	script *s = sd->impl;
	if (s->n_req < MAX_REQ) {
		s->req[s->n_req].table = t;
		s->req[s->n_req].exact = exact;
		s->n_req++;
	}
}

static void sc_cancel(cmp_side *sd) { ((script *)sd->impl)->cancels++; }
static void sc_free(cmp_side *sd) { sd->impl = NULL; }

static const cmp_side_ops sc_ops = {"script", sc_start, sc_request, sc_cancel, sc_free};

static int sc_init(cmp_side *sd, pgc_err *e)
{
	memset(&scripts[sd->which], 0, sizeof scripts[sd->which]);
	sd->impl = &scripts[sd->which];
	sd->ops = &sc_ops;
	sd->server = xstrdup(sd->which == CMP_SOURCE ? "src:5432/app" : "dst:5432/app");
	return 0;
}

static const cmp_side_init_fn sc_inits[CMP_N_SIDES] = {sc_init, sc_init};

static bool asked(cmp_which w, size_t t, bool exact)
{
	for (size_t i = 0; i < scripts[w].n_req; i++)
		if (scripts[w].req[i].table == t && scripts[w].req[i].exact == exact)
			return true;
	return false;
}

static int snapshots_seen;
static void on_change(cmp_session *cs, bool done, void *ud)
{
	if (done)
		snapshots_seen++;
}

static int count_events(const st_event *ev, void *ud)
{
	if (strcmp(ev->kind, EV_COUNTS) == 0) {
		int *n = ud;
		(*n)++;
	}
	return 0;
}

static config *make_config(void)
{
	static const char json[] =
		"{\"runbook\": \"rb.md\", \"source\": \"host=/nowhere\", \"target\": \"host=/nowhere\",\n"
		" \"tables\": [{\"name\": \"big\"}, {\"name\": \"small\"}]}\n";
	config *cfg = NULL;
	pgc_err e = {0};
	if (config_parse(json, strlen(json), "/tmp/pgcutover.json", &cfg, &e) != 0) {
		printf("# config: %s\n", e.msg);
		exit(1);
	}
	return cfg;
}

#define BIG_EST 5000000
#define SMALL 42

/* The one display order: differences first (largest first), then errors
 * and unknowns, then equal tables; ties keep the config's order. */
static void test_order(void)
{
	const cmp_order_key keys[] = {
		{10, 10, false},   /* 0 equal */
		{50, 49, false},   /* 1 differs by 1 */
		{-1, 7, false},    /* 2 unknown source */
		{50, 10, false},   /* 3 differs by 40 */
		{20, 20, true},    /* 4 equal figures, but a side failed */
		{5, 5, false},     /* 5 equal */
		{10, 50, false},   /* 6 differs by 40 the other way: after 3 */
		{0, 0, false},     /* 7 equal, empty */
	};
	size_t n = sizeof keys / sizeof keys[0];
	size_t order[sizeof keys / sizeof keys[0]];
	cmp_order(keys, n, order);
	const size_t want[] = {3, 6, 1, 2, 4, 0, 5, 7};
	bool same = true;
	for (size_t i = 0; i < n; i++)
		if (order[i] != want[i])
			same = false;
	ok(same, "order: differences (largest first, ties in config order), unknowns, equal");
	is_int(cmp_order_rank(&keys[4]), CMP_RANK_UNKNOWN, "a failed side is unknown, even with equal figures");
	size_t tally[CMP_N_RANKS];
	cmp_order_tally(keys, n, tally);
	char buf[128];
	is_str(cmp_tally_words(tally, " · ", buf, sizeof buf), "3 differ · 3 equal · 2 unknown", "tally words");
	cmp_order_tally(keys, 1, tally);
	is_str(cmp_tally_words(tally, ", ", buf, sizeof buf), "1 equal", "tally leaves empty ranks out");
	cmp_order_tally(keys, 0, tally);
	is_str(cmp_tally_words(tally, ", ", buf, sizeof buf), "no tables", "no tables");
	cmp_order(keys, 0, order);   /* nothing to do, nothing touched */
}

/* A side whose server gives `per_count` rows/s to each count up to `cores`
 * counts at once and shares them beyond: what pace_observe settles on. */
static int pace_settle(int ceiling, int cores, int rounds)
{
	cmp_pace p;
	pace_init(&p, ceiling);
	const double per_count = 4e6;
	for (int r = 0; r < rounds; r++) {
		int lv = p.limit;
		double share = lv <= cores ? 1.0 : (double)cores / lv;
		double ms = 500000 / (per_count * share) * 1000;   /* 500k rows */
		int got = pace_observe(&p, 500000, ms, lv);
		if (got > ceiling || got < 1)
			return -1;
	}
	return p.limit;
}

static void test_pace(void)
{
	cmp_pace p;
	pace_init(&p, 4);
	is_int(p.limit, 1, "pace starts with one count at once");
	is_int(pace_observe(&p, 500000, 100, 1), 2, "a measured count at the limit raises it");
	is_int(pace_observe(&p, 500000, 200, 2), 1,
	       "two at once giving no more rows/s: back to one");
	ok(p.settled, "and it stays there");
	is_int(pace_observe(&p, 500000, 100, 1), 1, "settled: no probing again");

	pace_init(&p, 4);
	is_int(pace_observe(&p, 1000, 100, 1), 1, "a small count says nothing about throughput");
	is_int(pace_observe(&p, 500000, 5, 1), 1, "nor a count quicker than the clock's grain");
	is_int(pace_observe(&p, 500000, 100, 1), 2, "a big one does");
	is_int(pace_observe(&p, 500000, 100, 1), 2, "one measured below the limit only notes its rate");

	is_int(pace_settle(4, 2, 20), 2, "2 cores, pool 4: settles at 2 at once");
	is_int(pace_settle(8, 4, 20), 4, "4 cores, pool 8: settles at 4");
	is_int(pace_settle(3, 16, 20), 3, "16 cores, pool 3: the pool is the ceiling");
	is_int(pace_settle(1, 16, 20), 1, "pool_size 1: one at a time");
	for (int ceiling = 1; ceiling <= 8; ceiling++)
		for (int cores = 1; cores <= 12; cores++) {
			int lim = pace_settle(ceiling, cores, 30);
			if (lim < 1 || lim > ceiling) {
				ok(0, "limit %d out of 1..%d (cores %d)", lim, ceiling, cores);
				return;
			}
		}
	ok(1, "the limit stays within 1..pool_size for every pool and core count");

	pace_init(&p, 4);
	ok(pace_parallel(&p, 100000, 5000000, 0, 0), "a big table alone may use parallel workers");
	ok(!pace_parallel(&p, 100000, 5000000, 1, 0), "not beside another count");
	ok(!pace_parallel(&p, 100000, 5000000, 0, 3), "not with counts queued behind it");
	ok(!pace_parallel(&p, 10, 1000, 0, 0), "not for a small table");
	ok(!pace_parallel(&p, 0, 1000, 0, 0), "not for a small estimate when the size is unknown");
	ok(pace_parallel(&p, 0, 5000000, 0, 0), "a big estimate when the size is unknown");
}

int main(void)
{
	test_order();
	test_pace();
	config *cfg = make_config();
	loop *lp = loop_new();
	pgc_err e = {0};
	char buf[PGC_ERR_MAX];

	char dir[TAP_TMPL_MAX];
	if (!mkdtemp(tap_tmpl(dir, sizeof dir, "pgc-test-compare")))
		return 1;
	char *stpath = xasprintf("%s/state.db", dir);
	state *st = NULL;
	ok(state_open(stpath, STATE_OPEN_CREATE, &st, &e) == 0, "state opens (%s)", e.msg);

	cmp_session *cs = cmp_session_new_with(cfg, lp, sc_inits, &e);
	ok(cs != NULL, "session with scripted sides");
	cmp_session_set_state(cs, st);
	cmp_session_set_listener(cs, on_change, NULL);
	ok(cmp_start(cs, &e) == 0 && scripts[CMP_SOURCE].started && scripts[CMP_TARGET].started,
	   "start starts both sides");
	is_int(cmp_n_tables(cs), 2, "two tables");
	is_str(cmp_state_key(cmp_table_at(cs, 0)->state), "not_checked", "before a refresh: not checked");

	/* --- estimate mode --- */
	cmp_refresh(cs, false);
	ok(asked(CMP_SOURCE, 0, false) && asked(CMP_SOURCE, 1, false) &&
	   asked(CMP_TARGET, 0, false) && asked(CMP_TARGET, 1, false), "refresh asks every table for an estimate");
	ok(!asked(CMP_SOURCE, 0, true), "no exact count asked yet");
	is_str(cmp_state_key(cmp_table_at(cs, 0)->state), "counting", "in flight: counting");

	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST, false, NULL);
	cmp_side_report(cs, CMP_TARGET, 0, BIG_EST - 1000, false, NULL);
	ok(!asked(CMP_SOURCE, 0, true), "a big estimate is not recounted in estimate mode");
	is_str(cmp_state_key(cmp_table_at(cs, 0)->state), "estimated", "both estimated: estimated");
	ok(!cmp_snapshot_complete(cs), "not complete while a table is outstanding");

	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, false, NULL);
	ok(asked(CMP_SOURCE, 1, true), "a small estimate is followed by an exact count");
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 1, SMALL, true, NULL);
	ok(cmp_snapshot_complete(cs), "complete when every table has both answers");
	is_int(snapshots_seen, 1, "the listener hears of the snapshot once");
	is_str(cmp_state_key(cmp_table_at(cs, 1)->state), "matched", "exact and equal: matched");
	ok(!cmp_all_match(cs), "big differs (by estimate)");
	ok(cmp_table_pct(cmp_table_at(cs, 0)) > 99.97 && cmp_table_pct(cmp_table_at(cs, 0)) < 99.99,
	   "percent of the source on the target");
	is_str(cmp_summary(cs, buf, sizeof buf),
	       "1/2 tables match; first mismatch big: source 5000000, target 4999000 (-1000) (estimates)",
	       "summary names the first mismatch, marked as estimates");

	char *payload = cmp_snapshot_json(cs, false);
	ok(!cmp_payload_all_matched(cfg, payload, buf, sizeof buf), "gate: estimates do not pass");
	is_str(buf, "big: only estimated (run pgcutover counts --exact)", "gate: says why");
	free(payload);
	ok(!cmp_payload_all_matched(cfg, NULL, buf, sizeof buf), "gate: no counts recorded, no pass");

	int n_ev = 0;
	state_foreach(st, 0, count_events, &n_ev, &e);
	is_int(n_ev, 1, "one EV_COUNTS event for the snapshot");
	ok(cmp_record_error(cs) == NULL, "recorded without error");

	/* --- exact mode, with a cancelled refresh before it --- */
	cmp_refresh(cs, true);
	int cancels = scripts[CMP_SOURCE].cancels;
	cmp_refresh(cs, true);
	is_int(scripts[CMP_SOURCE].cancels, cancels + 1, "asking again cancels what is in flight");
	scripts[CMP_SOURCE].n_req = scripts[CMP_TARGET].n_req = 0;
	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST, false, NULL);
	ok(asked(CMP_SOURCE, 0, true), "exact mode: every estimate is followed by an exact count");
	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST + 7, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 0, BIG_EST + 7, true, NULL);
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 1, SMALL, true, NULL);
	ok(cmp_snapshot_complete(cs) && cmp_all_match(cs), "exact and equal everywhere");
	is_str(cmp_summary(cs, buf, sizeof buf), "2/2 tables match", "summary: all match");
	payload = cmp_snapshot_json(cs, false);
	ok(cmp_payload_all_matched(cfg, payload, NULL, 0), "gate: exact and equal everywhere passes");
	/* the one reader gives back what the writer wrote */
	cmp_rec rec;
	ok(cmp_rec_read(payload, &rec) == 0 && rec.has_tables, "reader: the payload reads");
	ok(rec.match && rec.exact, "reader: match and exact as written");
	is_int(rec.n_tables, cmp_n_tables(cs), "reader: every table");
	const cmp_rec_table *rbig = cmp_rec_find(&rec, cmp_table_at(cs, 0)->name);
	ok(rbig != NULL, "reader: finds a table by name");
	is_int(rbig ? rbig->source : -2, cmp_table_at(cs, 0)->side[CMP_SOURCE].rows, "reader: source figure");
	is_int(rbig ? rbig->target : -2, cmp_table_at(cs, 0)->side[CMP_TARGET].rows, "reader: target figure");
	is_str(rbig ? rbig->state : NULL, cmp_state_key(cmp_table_at(cs, 0)->state), "reader: state word");
	ok(rbig && rbig->exact && rbig->match, "reader: exact and match per table");
	cmp_rec_free(&rec);
	free(payload);
	ok(cmp_rec_read("{\"tables\":[{\"name\":\"a\",\"source\":{\"count\":3},\"target\":{\"rows\":2}}]}",
	                &rec) == 0 && rec.n_tables == 1 && rec.tables[0].source == 3 && rec.tables[0].target == 2 &&
	   !rec.tables[0].exact && !rec.tables[0].state, "reader: an older shape (name, count objects)");
	cmp_rec_free(&rec);
	ok(cmp_rec_read("{\"a\":{\"source\":5,\"target\":null}}", &rec) == 0 && rec.has_tables &&
	   rec.n_tables == 1 && rec.tables[0].source == 5 && rec.tables[0].target == -1,
	   "reader: the oldest shape (tables keyed by name), a missing figure is -1");
	cmp_rec_free(&rec);
	ok(cmp_rec_read("[1]", &rec) < 0 && rec.n_tables == 0, "reader: not an object");
	ok(cmp_rec_read(NULL, &rec) < 0, "reader: nothing recorded");
	ok(!cmp_payload_all_matched(cfg, "{\"match\":true,\"tables\":[{\"table\":\"big\",\"exact\":true,"
	   "\"match\":true,\"state\":\"matched\"}]}", buf, sizeof buf), "gate: a table missing from the snapshot");
	is_str(buf, "small: not in the last recorded counts", "gate: names the missing table");
	ok(cmp_refresh_exact(cs), "refresh was exact");
	cmp_side_report_pk(cs, CMP_TARGET, 1, false);
	cmp_refresh(cs, true);
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 1, SMALL, true, NULL);
	is_str(cmp_state_key(cmp_table_at(cs, 1)->state), "no_primary_key", "equal counts, no key: no primary key");
	ok(cmp_table_match(cmp_table_at(cs, 1)), "... and the counts still match");
	cmp_side_report_pk(cs, CMP_TARGET, 1, true);

	/* --- errors keep the last good figure --- */
	cmp_refresh(cs, true);
	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST + 7, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 0, -1, false, "target (dst:5432/app): canceling statement due to statement timeout");
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 1, SMALL, true, NULL);
	const cmp_table *big = cmp_table_at(cs, 0);
	is_str(cmp_state_key(big->state), "error", "an error puts the table in error");
	is_int(big->side[CMP_TARGET].rows, BIG_EST + 7, "the last good figure is kept");
	ok(big->side[CMP_TARGET].measured_at > 0, "with the time it was measured");
	ok(!cmp_all_match(cs), "a table in error does not match");
	char *j = cmp_snapshot_json(cs, true);
	cJSON *root = cJSON_Parse(j);
	cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "tables"), 0);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(t0, "target_error")),
	       "target (dst:5432/app): canceling statement due to statement timeout", "JSON: target_error");
	ok(cJSON_IsNull(cJSON_GetObjectItem(t0, "source_error")), "JSON: source_error null");
	ok(cJSON_IsFalse(cJSON_GetObjectItem(root, "match")), "JSON: match false");
	cJSON_Delete(root);
	free(j);

	/* --- exit status: an error is never a difference --- */
	cmp_side_report_status(cs, CMP_TARGET, true, NULL);
	cmp_side_report_status(cs, CMP_SOURCE, true, NULL);
	is_int(cmp_exit_code(cs), PGC_EXIT_UNAVAILABLE, "an error of unknown kind: the server failed (69)");
	cmp_refresh(cs, true);
	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST + 7, true, NULL);
	cmp_side_report_fail(cs, CMP_TARGET, 0, CMP_FAIL_TIMEOUT, "target (dst:5432/app): statement timeout");
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 1, SMALL + 1, true, NULL);
	is_int(cmp_exit_code(cs), PGC_EXIT_TEMPFAIL, "a timeout: 75, even beside a difference");
	cmp_refresh(cs, true);
	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST + 7, true, NULL);
	cmp_side_report_fail(cs, CMP_TARGET, 0, CMP_FAIL_MISSING, "target (dst:5432/app): table big does not exist");
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 1, SMALL, true, NULL);
	is_int(cmp_exit_code(cs), PGC_EXIT_DIFFERENT, "a table missing on one side is a difference (1)");
	cmp_refresh(cs, true);
	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST + 7, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 0, BIG_EST + 7, true, NULL);
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 1, SMALL, true, NULL);
	is_int(cmp_exit_code(cs), PGC_EXIT_OK, "errors cleared by good figures: 0");
	cmp_refresh(cs, true);
	cmp_side_report(cs, CMP_SOURCE, 0, BIG_EST + 7, true, NULL);
	cmp_side_report_fail(cs, CMP_TARGET, 0, CMP_FAIL_TIMEOUT, "target (dst:5432/app): statement timeout");
	cmp_side_report(cs, CMP_SOURCE, 1, SMALL, true, NULL);
	cmp_side_report_fail(cs, CMP_TARGET, 1, CMP_FAIL_SERVER, "target (dst:5432/app): terminating connection");
	is_int(cmp_exit_code(cs), PGC_EXIT_UNAVAILABLE, "a failing server beside a timeout: 69");
	/* (this error snapshot is the last recorded one, for the history test below) */

	/* --- unreachable --- */
	ok(!cmp_any_unreachable(cs), "both sides up");
	cmp_side_report_status(cs, CMP_TARGET, false, "target (dst:5432/app): connection refused");
	ok(cmp_any_unreachable(cs), "a side down is unreachable");
	ok(strncmp(cmp_summary(cs, buf, sizeof buf), "target unreachable: target (dst:5432/app)", 41) == 0,
	   "summary says which side is unreachable");
	cmp_side_report_status(cs, CMP_TARGET, true, NULL);

	/* --- rows/s and ETA from history --- */
	cmp_refresh(cs, true);
	cmp_side_report(cs, CMP_SOURCE, 0, 10000, true, NULL);
	cmp_side_report(cs, CMP_TARGET, 0, 1000, true, NULL);
	usleep(1200 * 1000);
	cmp_side_report(cs, CMP_TARGET, 0, 7000, true, NULL);
	big = cmp_table_at(cs, 0);
	ok(big->rate > 6000 / 1.5 && big->rate < 6000 / 1.15, "rows/s from the target's history (%.0f)", big->rate);
	ok(big->eta_s > 3000 / big->rate - 0.01 && big->eta_s < 3000 / big->rate + 0.01,
	   "ETA = rows to go / rate (%.2f s)", big->eta_s);
	/* every refresh starts with estimates: one between two counts (even a
	 * high one) does not hide the growth the counts show */
	cmp_side_report(cs, CMP_TARGET, 0, 9500, false, NULL);
	cmp_side_report(cs, CMP_TARGET, 0, 8000, true, NULL);
	ok(big->rate > 7000 / 1.5 && big->rate < 7000 / 1.15,
	   "rows/s steps over an estimate between counts (%.0f)", big->rate);
	cmp_side_report(cs, CMP_TARGET, 0, 10000, true, NULL);
	ok(big->eta_s == 0, "at parity the ETA is 0");

	cmp_point pts[CMP_HISTORY];
	for (int i = 0; i < CMP_HISTORY + 8; i++)
		cmp_side_report(cs, CMP_SOURCE, 1, i, true, NULL);
	size_t n = cmp_table_history(cmp_table_at(cs, 1), CMP_SOURCE, pts, CMP_HISTORY);
	is_int(n, CMP_HISTORY, "history is capped");
	is_int(pts[n - 1].rows, CMP_HISTORY + 7, "newest last");
	is_int(pts[0].rows, 8, "oldest first");
	n = cmp_table_history(cmp_table_at(cs, 1), CMP_SOURCE, pts, 3);
	is_int(n, 3, "asking for fewer gives the newest");
	is_int(pts[0].rows, CMP_HISTORY + 5, "... in order");

	cmp_session_free(cs);

	/* --- history from the state --- */
	cs = cmp_session_new_with(cfg, lp, sc_inits, &e);
	ok(cmp_session_load_history(cs, st, &e) == 0, "history loads from the state");
	big = cmp_table_at(cs, 0);
	is_int(big->side[CMP_SOURCE].rows, BIG_EST + 7, "last recorded source figure");
	is_int(big->side[CMP_TARGET].rows, BIG_EST + 7, "last good target figure (the error snapshot kept it)");
	ok(big->side[CMP_SOURCE].hist_len >= 3, "one history point per recorded snapshot");
	is_str(cmp_state_key(big->state), "error", "state of the last snapshot");
	cmp_session_free(cs);

	state_close(st);
	unlink(stpath);
	char *wal = xasprintf("%s-wal", stpath), *shm = xasprintf("%s-shm", stpath);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
	rmdir(dir);
	free(stpath);
	loop_free(lp);
	config_free(cfg);
	return done_testing();
}
