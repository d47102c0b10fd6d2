/*
 * test_svc.c -- the console's backend services (svc.h) without a screen:
 * the counts service driven through scripted comparison sides in a real
 * state file (snapshots recorded by the session, < and > stepping through
 * the intervals, + and - the load budget, which tables a periodic refresh
 * counts exactly within it (smallest first, none whose write counters vouch
 * for its last count, none over the budget), and after a takeover of the lease the write refused by the
 * state's guard and recording stopped without an error on the pane), and
 * the one webhook scanner, notify_scan() (only this process's events for a
 * headless writer, everything for the console, and where it got to).
 * Parity runs against real servers in tests/e2e/console_counts.sh.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgcutover/notify.h"
#include "pgcutover/svc.h"
#include "state_test.h"
#include "tap.h"

/* ---- a scripted comparison side: answers only when the test says ---- */

static int sc_start(cmp_side *sd, pgc_err *e) { (void)sd; (void)e; return 0; }
static void sc_request(cmp_side *sd, size_t t, bool exact) { (void)sd; (void)t; (void)exact; }
static void sc_cancel(cmp_side *sd) { (void)sd; }
static void sc_free(cmp_side *sd) { sd->impl = NULL; }
static const cmp_side_ops sc_ops = {"script", sc_start, sc_request, sc_cancel, sc_free};

static int sc_init(cmp_side *sd, pgc_err *e)
{
	(void)e;
	sd->ops = &sc_ops;
	sd->server = xstrdup(sd->which == CMP_SOURCE ? "src:5432/app" : "dst:5432/app");
	return 0;
}

static const cmp_side_init_fn sc_inits[CMP_N_SIDES] = {sc_init, sc_init};

static int count_kind(state *st, const char *kind)
{
	sqlite3_stmt *q;
	int n = -1;
	if (sqlite3_prepare_v2(state_db_for_tests(st), "SELECT count(*) FROM events WHERE kind = ?", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	return n;
}

/* Every table of the session answered, exact, source = target = rows. */
static void answer_all(svc_counts *sc, int64_t rows)
{
	cmp_session *cs = (cmp_session *)svc_counts_session(sc);
	for (size_t t = 0; t < cmp_n_tables(cs); t++)
		for (int w = 0; w < CMP_N_SIDES; w++)
			cmp_side_report(cs, (cmp_which)w, t, rows, true, NULL);
}

static config *make_config_at(const char *conninfo, const char *extra)
{
	char *json = xasprintf("{\"runbook\": \"rb.md\", \"source\": \"%s\", \"target\": \"%s\",\n"
	                       " \"tables\": [{\"name\": \"clients\"}, {\"name\": \"orders\"}]%s}\n",
	                       conninfo, conninfo, extra);
	config *cfg = NULL;
	pgc_err e = {0};
	if (config_parse(json, strlen(json), "/tmp/pgcutover.json", &cfg, &e) != 0) {
		printf("# config: %s\n", e.msg);
		exit(1);
	}
	free(json);
	return cfg;
}

static config *make_config(const char *extra)
{
	return make_config_at("host=/nowhere", extra);
}

static void test_counts(const char *dir)
{
	config *cfg = make_config("");
	loop *lp = loop_new();
	pgc_err e = {0};
	char msg[256];
	char *path = xasprintf("%s/counts.db", dir);
	state *a = NULL, *b = NULL;
	ok(state_open(path, STATE_OPEN_CREATE, &a, &e) == 0, "counts: state opens (%s)", e.msg);
	ok(state_open(path, 0, &b, &e) == 0, "counts: a second writer's handle");
	lease *la = NULL, *lb = NULL;
	ok(lease_acquire(a, "alice", "vm", (int)getpid(), "console", LEASE_HEARTBEATS, &la, &e) == 0,
	   "counts: the console holds the lease");

	svc_counts *sc = svc_counts_new_with(cfg, a, true, la, sc_inits);
	svc_counts_start(sc, lp);
	ok(svc_counts_session(sc) != NULL, "counts: a session runs once started");
	is_str(svc_counts_error(sc), "", "counts: no error");
	is_int(svc_counts_interval(sc), 15, "counts: 15 s to start with");

	answer_all(sc, 40);
	ok(cmp_snapshot_complete(svc_counts_session(sc)), "counts: the snapshot is complete");
	is_int(count_kind(a, EV_COUNTS), 1, "counts: the driver's snapshot is recorded, once");

	ok(svc_counts_do(sc, SVC_COUNTS_FASTER, msg, sizeof msg) == 0 && strstr(msg, "every 5 s"),
	   "counts: - goes to 5 s: %s", msg);
	ok(svc_counts_do(sc, SVC_COUNTS_FASTER, msg, sizeof msg) == 0 && svc_counts_interval(sc) == 5,
	   "counts: 5 s is the shortest");
	for (int i = 0; i < 5; i++)
		svc_counts_do(sc, SVC_COUNTS_SLOWER, msg, sizeof msg);
	ok(svc_counts_interval(sc) == 0 && strstr(msg, "off"), "counts: + to the end turns it off: %s", msg);
	is_int(svc_counts_budget(sc), 10, "counts: exact re-counts may take 10%% of each server to start with");
	ok(svc_counts_do(sc, SVC_COUNTS_BUDGET_UP, msg, sizeof msg) == 0 && svc_counts_budget(sc) == 20 &&
	   strstr(msg, "20%"), "counts: + raises it to 20%%: %s", msg);
	for (int i = 0; i < 8; i++)
		svc_counts_do(sc, SVC_COUNTS_BUDGET_DOWN, msg, sizeof msg);
	ok(svc_counts_budget(sc) == 0 && strstr(msg, "estimates only"), "counts: - to 0%%: %s", msg);
	for (int i = 0; i < 8; i++)
		svc_counts_do(sc, SVC_COUNTS_BUDGET_UP, msg, sizeof msg);
	is_int(svc_counts_budget(sc), 100, "counts: + stops at 100%%");

	cmp_session *cs = (cmp_session *)svc_counts_session(sc);
	bool pick[2];
	double plenty[CMP_N_SIDES] = {1000, 1000}, none[CMP_N_SIDES] = {0.5, 1000};
	/* orders (table 1) smaller than clients (table 0) */
	for (int w = 0; w < CMP_N_SIDES; w++) {
		cmp_side_report(cs, (cmp_which)w, 0, 900000, false, NULL);
		cmp_side_report(cs, (cmp_which)w, 1, 10, false, NULL);
	}
	is_int(svc_counts_pick(cs, plenty, pick), 2, "pick: both tables fit a large budget");
	double some[CMP_N_SIDES] = {5, 5};
	ok(svc_counts_pick(cs, some, pick) == 1 && pick[1] && !pick[0],
	   "pick: 5 ms of budget: the small table only (smallest first)");
	is_int(svc_counts_pick(cs, none, pick), 0, "pick: a side without budget: none");
	/* write counters known before an exact count: they vouch for it */
	for (int w = 0; w < CMP_N_SIDES; w++) {
		cmp_side_report_writes(cs, (cmp_which)w, 1, 7);
		cmp_side_report(cs, (cmp_which)w, 1, 10, true, NULL);
	}
	ok(svc_counts_pick(cs, plenty, pick) == 1 && pick[0] && !pick[1],
	   "pick: a table counted with its write counters unmoved is not scanned again");
	cmp_side_report_writes(cs, CMP_TARGET, 1, 8);
	ok(svc_counts_pick(cs, plenty, pick) == 2 && pick[1], "pick: a write on one side: counted again");

	ok(svc_counts_do(sc, SVC_COUNTS_EXACT, msg, sizeof msg) == 0 && strstr(msg, "exact counts"),
	   "counts: e asks exact counts: %s", msg);
	ok(cmp_refresh_exact(svc_counts_session(sc)), "counts: ... and the refresh is exact");

	/* bob takes the silent console's lease over */
	char sql[128];
	snprintf(sql, sizeof sql, "UPDATE lease SET heartbeat_at = heartbeat_at - %d", 2 * LEASE_STALE_SECONDS);
	sqlite3_exec(state_db_for_tests(b), sql, NULL, NULL, NULL);
	ok(lease_acquire(b, "bob", "vm", (int)getppid(), "tick", LEASE_TAKE_OVER, &lb, &e) == 0,
	   "counts: bob takes over (%s)", e.msg);
	answer_all(sc, 41);
	is_int(count_kind(a, EV_COUNTS), 1, "counts: after the takeover the console's snapshot is not recorded");
	is_str(svc_counts_error(sc), "", "counts: and that is no error on the pane (the console is a monitor now)");
	ok(lease_lost(la), "counts: the state's guard refused the write (the lease knows it lost)");
	svc_counts_do(sc, SVC_COUNTS_REFRESH, msg, sizeof msg);
	answer_all(sc, 42);
	ok(cmp_record_error(svc_counts_session(sc)) == NULL, "counts: recording stopped: no write is even tried");
	is_int(count_kind(a, EV_COUNTS), 1, "counts: still one snapshot in the state");

	svc_counts_stop(sc);
	ok(svc_counts_session(sc) == NULL, "counts: stopped");
	svc_counts_free(sc);

	lease_release(lb);
	lease_release(la);
	state_close(b);
	state_close(a);
	loop_free(lp);
	config_free(cfg);
	free(path);
}

static void test_notify_scan(const char *dir)
{
	config *cfg = make_config(", \"notify\": {\"webhook\": \"http://127.0.0.1:9/hook\"}");
	loop *lp = loop_new();
	pgc_err e = {0};
	char *path = xasprintf("%s/notify.db", dir);
	state *st = NULL;
	ok(state_open(path, STATE_OPEN_CREATE, &st, &e) == 0, "notify: state opens (%s)", e.msg);
	state_set_actor(st, "alice", "vm");
	state_append(st, EV_NOTE, NULL, NULL, "{\"text\":\"before\"}", NULL, &e);
	int64_t start = state_last_id(st);
	/* The child must not inherit an open handle: it could not close it
	 * (SQLite forbids using a connection across fork), and valgrind counts
	 * what it leaves as lost.  Close here, reopen after the child. */
	state_close(st);
	st = NULL;

	/* another process (a headless tick beside the console) */
	pid_t kid = fork();
	if (kid == 0) {
		state *k = NULL;
		pgc_err ke = {0};
		if (state_open(path, 0, &k, &ke) < 0)
			_exit(1);
		state_set_actor(k, "bob", "vm");
		int rc = state_append(k, EV_DOWNTIME_START, NULL, NULL, "{\"reason\":\"go\"}", NULL, &ke);
		state_close(k);
		config_free(cfg);   /* the parent's copy: valgrind checks the child too */
		free(path);
		_exit(rc == 0 ? 0 : 1);
	}
	int ws = 0;
	waitpid(kid, &ws, 0);
	ok(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "notify: another process appended");
	ok(state_open(path, 0, &st, &e) == 0, "notify: state reopens (%s)", e.msg);
	state_set_actor(st, "alice", "vm");
	state_append(st, EV_PHASE_COMPLETE, "1", NULL, "{\"done\":2,\"total\":2}", NULL, &e);
	state_append(st, EV_NOTE, NULL, NULL, "{\"text\":\"after\"}", NULL, &e);

	notifier *n = notify_new(cfg, lp);
	ok(n != NULL, "notify: a webhook is configured");
	int64_t after = start;
	ok(notify_scan(n, cfg, NULL, st, &after, (int)getpid(), &e) == 0, "notify: a headless writer's scan");
	is_int(notify_pending(n), 1, "notify: only its own event that speaks (phase complete), not the other's");
	is_int(after, state_last_id(st), "notify: the scan got to the last event");
	notify_free(n);

	n = notify_new(cfg, lp);
	after = start;
	notify_scan(n, cfg, NULL, st, &after, 0, &e);
	is_int(notify_pending(n), 2, "notify: the console's scan hears every process (downtime, phase)");
	after = state_last_id(st);
	notify_scan(n, cfg, NULL, st, &after, 0, &e);
	is_int(notify_pending(n), 2, "notify: nothing new, nothing sent twice");
	notify_free(n);

	state_close(st);
	loop_free(lp);
	config_free(cfg);
	free(path);
}

/* A server that is not there -- refused at once (no socket file) or on the
 * loop (TCP, nobody listening): the check fails naming the side, and a
 * restart starts afresh. */
static void test_parity_unreachable(const char *conninfo)
{
	config *cfg = make_config_at(conninfo, "");
	loop *lp = loop_new();
	char msg[256];
	svc_parity *sp = svc_parity_new(cfg);
	is_int(svc_parity_get(sp)->phase, SVC_PARITY_IDLE, "parity: idle before p");
	for (int round = 0; round < 2; round++) {
		unsigned gen0 = svc_parity_get(sp)->gen;
		int rc = svc_parity_start(sp, lp, msg, sizeof msg);
		for (int i = 0; i < 100 && svc_parity_get(sp)->phase == SVC_PARITY_RUNNING; i++)
			loop_once(lp, 50);
		const svc_parity_result *r = svc_parity_get(sp);
		ok(rc == 0 && r->phase == SVC_PARITY_FAILED, "parity %d (%s): an unreachable server fails the check: %s",
		   round, conninfo, msg);
		ok(strstr(r->error, "source (") || strstr(r->error, "target ("), "parity %d: the error names the side: %s",
		   round, r->error);
		ok(!r->catalogs_read && !r->seqs_read && r->n_diffs == 0, "parity %d: nothing claimed as read", round);
		ok(r->gen != gen0, "parity %d: the generation moved (the overlay redraws)", round);
	}
	svc_parity_free(sp);
	loop_free(lp);
	config_free(cfg);
}

int main(void)
{
	char dir[TAP_TMPL_MAX];
	if (!mkdtemp(tap_tmpl(dir, sizeof dir, "pgc-test-svc")))
		return 1;
	test_counts(dir);
	test_notify_scan(dir);
	test_parity_unreachable("host=/nowhere");
	test_parity_unreachable("host=127.0.0.1 port=1 connect_timeout=5");
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	return done_testing();
}
