/*
 * test_lease.c -- the driver lease (lease.c): a second would-be driver is
 * refused while the lock and a fresh heartbeat say the first is alive, even
 * with LEASE_TAKE_OVER; a silent holder (stale heartbeat) is taken over only
 * with LEASE_TAKE_OVER, the takeover is an event, and the old holder's next
 * heartbeat reports the loss; lease_judge() on synthetic rows (stale, dead
 * pid, non-heartbeating holder); release frees it; read-only handles and
 * files without a lease table read as "nobody".  A one-shot holder that is
 * gone (pid reused: another start time) is taken over without asking and
 * recorded; one whose pid still runs with its start time is not.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/lease.h"
#include "state_test.h"
#include "tap.h"

/* A pid that cannot be running: above Linux's pid_max limit. */
#define NO_SUCH_PID 999999999

static char tmpdir[TAP_TMPL_MAX];

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

int main(void)
{
	if (!mkdtemp(tap_tmpl(tmpdir, sizeof tmpdir, "pgc-test-lease")))
		return 1;
	char *path = xasprintf("%s/s.db", tmpdir);
	pgc_err e = {0};
	state *a = NULL, *b = NULL;
	ok(state_open(path, STATE_OPEN_CREATE, &a, &e) == 0, "open first handle");
	ok(state_open(path, 0, &b, &e) == 0, "open second handle");
	state_set_actor(b, "bob", NULL);

	lease_info li;
	is_int(lease_read(a, &li, &e), 0, "a new state has no lease (no table yet)");

	const char *host = pgc_host_name();
	int me = (int)getpid(), other = (int)getppid();
	lease *la = NULL, *lb = NULL;
	ok(lease_acquire(a, "alice", host, me, "console", LEASE_AUDIT | LEASE_HEARTBEATS, &la, &e) == 0,
	   "alice acquires");
	is_int(count_kind(a, EV_LEASE_ACQUIRED), 1, "acquire with LEASE_AUDIT is an event");

	pgc_err e2 = {0};
	ok(lease_acquire(b, "bob", host, other, "tick", LEASE_TAKE_OVER, &lb, &e2) < 0,
	   "bob is refused while alice holds the lock with a fresh heartbeat, even with take-over");
	is_int(e2.code, PGC_EXIT_TEMPFAIL, "refusal code is TEMPFAIL (75)");
	ok(strstr(e2.msg, "alice@") && strstr(e2.msg, "console") && strstr(e2.msg, "pgcutover monitor"),
	   "refusal names the holder and the monitor: %s", e2.msg);

	/* Alice hangs: her heartbeat goes stale while she still holds the lock. */
	char sql[128];
	snprintf(sql, sizeof sql, "UPDATE lease SET heartbeat_at = heartbeat_at - %d", 2 * LEASE_STALE_SECONDS);
	ok(sqlite3_exec(state_db_for_tests(b), sql, NULL, NULL, NULL) == SQLITE_OK, "age alice's heartbeat");
	pgc_err e3 = {0};
	ok(lease_acquire(b, "bob", host, other, "tick", 0, &lb, &e3) < 0 && strstr(e3.msg, "silent")
	   && strstr(e3.msg, "--take-over"), "a silent holder is not replaced without take-over: %s", e3.msg);
	ok(lease_acquire(b, "bob", host, other, "tick", LEASE_TAKE_OVER, &lb, &e) == 0,
	   "with take-over bob replaces the silent holder");
	is_int(count_kind(b, EV_LEASE_TAKEOVER), 1, "the takeover is an event");
	ok(lease_read(a, &li, &e) == 1 && strcmp(li.operator_name, "bob") == 0 && li.pid == other,
	   "the lease now names bob");
	lease_info_free(&li);

	/* The write guard: alice's writes are refused under the write lock the
	 * moment bob holds the lease, without her polling for it. */
	ok(!lease_lost(la), "alice has not noticed yet");
	int64_t before = state_last_id(a);
	pgc_err eg = {0};
	int64_t gid = 0;
	ok(state_append(a, EV_NOTE, NULL, NULL, "{\"text\":\"late\"}", &gid, &eg) < 0,
	   "alice's write after the takeover is refused");
	is_int(eg.code, PGC_EXIT_TEMPFAIL, "refused with TEMPFAIL (75)");
	ok(strstr(eg.msg, "taken over by bob@") != NULL, "the refusal names the new driver: %s", eg.msg);
	is_int(state_last_id(a), before, "nothing was written");
	ok(lease_lost(la), "alice's lease knows it was lost");
	pgc_err eb = {0};
	ok(state_begin(a, &eb) < 0 && strstr(eb.msg, "taken over"), "a batch is refused the same way");
	ok(state_append(b, EV_NOTE, NULL, NULL, "{\"text\":\"bob\"}", NULL, &e) == 0,
	   "bob, the driver, writes");
	pgc_err ec = {0};
	is_int(lease_check(la, &ec), 0, "lease_check: alice's lease is not the state's");

	pgc_err e4 = {0};
	ok(lease_heartbeat(la, pgc_now() + LEASE_HEARTBEAT_SECONDS + 1, &e4) < 0 &&
	   e4.code == PGC_EXIT_TEMPFAIL && strstr(e4.msg, "taken over by bob@"),
	   "alice's next heartbeat says she lost the lease: %s", e4.msg);
	lease_release(la);   /* must not delete bob's row */
	ok(lease_read(b, &li, &e) == 1 && strcmp(li.operator_name, "bob") == 0,
	   "the loser's release leaves the new holder's lease alone");
	lease_info_free(&li);
	ok(lease_heartbeat(lb, pgc_now() + LEASE_HEARTBEAT_SECONDS + 1, &e) == 0, "bob heartbeats");
	is_int(lease_check(lb, &e), 1, "lease_check: bob's lease is the state's");
	lease_release(lb);
	is_int(lease_read(a, &li, &e), 0, "after bob's release nobody holds it");
	ok(state_append(b, EV_NOTE, NULL, NULL, "{\"text\":\"after\"}", NULL, &e) == 0,
	   "a released lease guards nothing any more");

	/* lease_judge on rows: no lock probe. */
	double now = pgc_now();
	lease_info row = {.operator_name = "x", .host = (char *)host, .command = "console",
	                  .pid = me, .acquired_at = now, .heartbeat_at = now, .heartbeats = true};
	is_int(lease_judge(&row, now, host), LEASE_LIVE, "fresh heartbeat, pid alive: live");
	is_int(lease_judge(&row, now + LEASE_STALE_SECONDS + 1, host), LEASE_SILENT, "stale heartbeat: silent");
	row.heartbeats = false;
	is_int(lease_judge(&row, now + LEASE_STALE_SECONDS + 1, host), LEASE_LIVE,
	       "a holder that never promised heartbeats is not silent");
	row.pid = NO_SUCH_PID;
	is_int(lease_judge(&row, now, host), LEASE_DEAD, "pid gone on this host: dead");
	is_int(lease_judge(&row, now, "elsewhere"), LEASE_LIVE, "another host's pid is not probed");

	/* Read-only handles read the lease. */
	ok(lease_acquire(a, "alice", host, me, "console", LEASE_HEARTBEATS, &la, &e) == 0, "alice again");
	state *ro = NULL;
	ok(state_open(path, STATE_OPEN_READONLY, &ro, &e) == 0, "read-only handle");
	ok(lease_read(ro, &li, &e) == 1 && li.heartbeats && strcmp(li.command, "console") == 0,
	   "a monitor's read-only handle sees the holder");
	char *d = lease_describe(&li, pgc_now());
	ok(strstr(d, "alice@") && strstr(d, "since ") && strstr(d, "heartbeat"), "describe: %s", d);
	free(d);
	lease_info_free(&li);
	lease *nested = NULL;
	ok(lease_acquire(a, "alice", host, me, "tick", 0, &nested, &e) == 0, "nested acquire by the holder");
	lease_release(nested);
	is_int(lease_read(ro, &li, &e), 1, "releasing the nested lease keeps the outer one");
	lease_info_free(&li);
	lease_release(la);

	/* One-shot holders left behind (as by kill -9): rows written directly. */
	is_int(lease_read(a, &li, &e), 0, "released: nobody holds it");
	long long parent_started = lease_process_started(other);
	ok(parent_started > 0, "the parent's start time is read from /proc (%lld)", parent_started);
	char *row_sql = xasprintf("INSERT OR REPLACE INTO lease (id, operator, host, pid, command, "
	                          "acquired_at, heartbeat_at, heartbeats, started) VALUES "
	                          "(1, 'carol', '%s', %d, 'note', 1, 1, 0, %lld)", host, other, parent_started);
	ok(sqlite3_exec(state_db_for_tests(a), row_sql, NULL, NULL, NULL) == SQLITE_OK, "carol's note holds it (live pid)");
	free(row_sql);
	pgc_err e5 = {0};
	ok(lease_acquire(b, "bob", host, other + 1, "note", 0, &lb, &e5) < 0 && e5.code == PGC_EXIT_TEMPFAIL,
	   "a one-shot holder whose pid runs with its start time is not taken without asking");
	int takeovers = count_kind(a, EV_LEASE_TAKEOVER);
	row_sql = xasprintf("UPDATE lease SET started = %lld", parent_started + 1);
	ok(sqlite3_exec(state_db_for_tests(a), row_sql, NULL, NULL, NULL) == SQLITE_OK, "carol's start time differs: pid reused");
	free(row_sql);
	ok(lease_acquire(b, "bob", host, other + 1, "note", 0, &lb, &e) == 0,
	   "a one-shot holder whose pid was reused is taken over without asking");
	is_int(count_kind(a, EV_LEASE_TAKEOVER), takeovers + 1, "and that is a lease_takeover event");
	lease_release(lb);
	row_sql = xasprintf("INSERT OR REPLACE INTO lease (id, operator, host, pid, command, acquired_at, "
	                    "heartbeat_at, heartbeats, started) VALUES (1, 'carol', '%s', %d, 'note', 1, 1, 0, %lld)",
	                    host, me, lease_process_started(me) + 1);
	ok(sqlite3_exec(state_db_for_tests(a), row_sql, NULL, NULL, NULL) == SQLITE_OK, "a dead note's pid is now mine");
	free(row_sql);
	ok(lease_acquire(a, "alice", host, me, "note", 0, &la, &e) == 0 &&
	   lease_read(b, &li, &e) == 1 && strcmp(li.operator_name, "alice") == 0,
	   "my own pid with another start time is not a nested acquire: the row becomes mine");
	lease_info_free(&li);
	is_int(count_kind(a, EV_LEASE_TAKEOVER), takeovers + 2, "recorded as a takeover too");
	lease_release(la);
	row_sql = xasprintf("INSERT OR REPLACE INTO lease (id, operator, host, pid, command, acquired_at, "
	                    "heartbeat_at, heartbeats, started) VALUES (1, 'carol', '%s', %d, 'console', 1, 1, 1, NULL)",
	                    host, NO_SUCH_PID);
	ok(sqlite3_exec(state_db_for_tests(a), row_sql, NULL, NULL, NULL) == SQLITE_OK, "a dead console holds it");
	free(row_sql);
	pgc_err e6 = {0};
	ok(lease_acquire(b, "bob", host, other, "note", 0, &lb, &e6) < 0 && strstr(e6.msg, "--take-over"),
	   "a dead console's lease still needs --take-over");

	state_close(ro);
	state_close(a);
	state_close(b);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	free(cmd);
	free(path);
	return done_testing();
}
