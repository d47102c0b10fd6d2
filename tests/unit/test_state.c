/*
 * test_state.c -- the SQLite state file: creation modes, schema version and
 * migration, appending, the hash chain and what state_verify() detects
 * (edits, deletions, a truncated tail), read-only handles, batches, bad
 * payloads, snapshots, and a write that hits the file size limit.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "pgcutover/state.h"
#include "tap.h"

static char tmpdir[TAP_TMPL_MAX];

static int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		printf("# raw sql: %s\n", err ? err : "?");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static state *open_new(const char *name, pgc_err *e)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	state *st = NULL;
	if (state_open(path, STATE_OPEN_CREATE, &st, e) < 0)
		printf("# open %s: %s\n", path, e->msg);
	free(path);
	return st;
}

static int append_n(state *st, int n, pgc_err *e)
{
	for (int i = 0; i < n; i++) {
		char payload[64];
		snprintf(payload, sizeof payload, "{\"text\":\"note %d\"}", i);
		if (state_append(st, EV_NOTE, "1", NULL, payload, NULL, e) < 0)
			return -1;
	}
	return 0;
}

static int count_cb(const st_event *ev, void *ud)
{
	(*(int *)ud)++;
	return 0;
}

static int64_t ids_seen[16];
static int ids_cb(const st_event *ev, void *ud)
{
	int *k = ud;
	if (*k < 16)
		ids_seen[*k] = ev->id;
	(*k)++;
	return 0;
}

typedef struct chain_check {
	char prev[65];
	int64_t expect;
	int ok;
} chain_check;

static int chain_cb(const st_event *ev, void *ud)
{
	chain_check *c = ud;
	if (ev->id != c->expect || strcmp(ev->prev_hash, c->prev) != 0 || strlen(ev->hash) != 64)
		c->ok = 0;
	memcpy(c->prev, ev->hash, sizeof c->prev);
	c->expect++;
	return 0;
}

static void test_create_and_append(void)
{
	pgc_err e = {0};
	char *path = xasprintf("%s/sub/dir/s.db", tmpdir);
	state *st = NULL;
	ok(state_open(path, STATE_OPEN_READONLY, &st, &e) < 0 && e.code == PGC_EXIT_NOINPUT,
	   "read-only open of a missing file fails with NOINPUT");
	ok(state_open(path, 0, &st, &e) < 0, "read-write open without CREATE of a missing file fails");
	ok(state_open(path, STATE_OPEN_CREATE, &st, &e) == 0 && st, "create in a new nested directory");
	struct stat sb;
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "state file is 0600");
	char *dir = xasprintf("%s/sub/dir", tmpdir);
	ok(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700, "created directory is 0700");
	free(dir);
	is_int(state_schema_version(st), STATE_SCHEMA_VERSION, "user_version is the schema version");
	is_int(state_last_id(st), 0, "new state has no events");

	state_set_actor(st, "alice", "jump1");
	int64_t id = 0;
	ok(state_append(st, EV_TICK, "3", "3.1", "{\"hash\":\"abcd\"}", &id, &e) == 0, "append a tick");
	is_int(id, 2, "first append follows the state_created event");
	st_event *first = NULL;
	ok(state_get_event(st, 1, &first, &e) == 1 && strcmp(first->kind, EV_STATE_CREATED) == 0,
	   "event 1 is state_created");
	is_str(first ? first->prev_hash : NULL,
	       "0000000000000000000000000000000000000000000000000000000000000000", "genesis prev_hash is 64 zeros");
	is_str(first ? first->operator_name : NULL, "alice", "state_created carries the first writer");
	st_event_free(first);
	st_event *tick = NULL;
	ok(state_get_event(st, 2, &tick, &e) == 1, "read the tick back");
	if (tick) {
		is_str(tick->operator_name, "alice", "operator recorded");
		is_str(tick->host, "jump1", "host recorded");
		is_int(tick->pid, getpid(), "pid recorded");
		is_str(tick->phase, "3", "phase recorded");
		is_str(tick->item, "3.1", "item recorded");
		is_str(tick->payload, "{\"hash\":\"abcd\"}", "payload stored as given");
	}
	st_event_free(tick);
	ok(append_n(st, 10, &e) == 0, "append 10 notes");
	ok(state_append(st, EV_NOTE, NULL, NULL, NULL, NULL, &e) == 0, "NULL payload allowed");
	st_event *last = NULL;
	ok(state_get_event(st, state_last_id(st), &last, &e) == 1 && strcmp(last->payload, "{}") == 0,
	   "NULL payload is stored as {}");
	st_event_free(last);
	int n = 0;
	state_foreach(st, 0, count_cb, &n, &e);
	is_int(n, 13, "foreach sees every event");
	n = 0;
	state_foreach(st, 10, count_cb, &n, &e);
	is_int(n, 3, "foreach after id 10 sees the rest");
	int k = 0;
	state_foreach_kind(st, EV_NOTE, 3, ids_cb, &k, &e);
	ok(k == 3 && ids_seen[0] == 11 && ids_seen[1] == 12 && ids_seen[2] == 13,
	   "foreach_kind: the last 3 notes, oldest first (%lld %lld %lld)",
	   (long long)ids_seen[0], (long long)ids_seen[1], (long long)ids_seen[2]);
	k = 0;
	state_foreach_kind(st, EV_TICK, 0, ids_cb, &k, &e);
	ok(k == 1 && ids_seen[0] == 2, "foreach_kind: every event of a kind, and only those");
	chain_check c = {.expect = 1, .ok = 1};
	memset(c.prev, '0', 64);
	c.prev[64] = '\0';
	state_foreach(st, 0, chain_cb, &c, &e);
	ok(c.ok, "ids are consecutive and each prev_hash is the previous hash");
	int64_t bad = -1;
	ok(state_verify(st, &bad, &e) == 0 && bad == 0, "verify: intact");

	ok(state_append(st, EV_NOTE, NULL, NULL, "[1,2]", NULL, &e) < 0, "a non-object payload is refused");
	ok(state_append(st, EV_NOTE, NULL, NULL, "{not json", NULL, &e) < 0 &&
	   strstr(e.msg, "JSON") != NULL, "invalid JSON payload is refused, saying why");
	is_int(state_last_id(st), 13, "refused payloads wrote nothing");

	st_event *lk = NULL;
	ok(state_last_of_kind(st, EV_TICK, &lk, &e) == 1 && lk && lk->id == 2, "last_of_kind finds the tick");
	st_event_free(lk);
	ok(state_last_of_kind(st, EV_COUNTS, &lk, &e) == 0 && !lk, "last_of_kind: none of that kind");
	state_close(st);

	/* Append-only at the SQL level. */
	ok(raw_exec(path, "UPDATE events SET payload = '{}' WHERE id = 2") < 0, "UPDATE of events is refused");
	ok(raw_exec(path, "DELETE FROM events WHERE id = 2") < 0, "DELETE of events is refused");
	free(path);
}

static void test_tamper(void)
{
	pgc_err e = {0};
	state *st = open_new("tamper.db", &e);
	append_n(st, 9, &e);                  /* ids 1..10 */
	char *path = xstrdup(state_path(st));
	state_close(st);

	ok(raw_exec(path, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;"
	                  "UPDATE events SET payload = '{\"text\":\"forged\"}' WHERE id = 5") == 0,
	   "forge event 5 after dropping the trigger");
	ok(state_open(path, 0, &st, &e) == 0, "reopen");
	int64_t bad = 0;
	ok(state_verify(st, &bad, &e) < 0, "verify fails after an edit");
	is_int(bad, 5, "verify names the edited event");
	ok(strstr(e.msg, "event 5") != NULL, "message names event 5");
	state_close(st);

	/* Re-hash the forged row correctly: the next event's prev_hash betrays it. */
	st_event *ev = NULL;
	state_open(path, 0, &st, &e);
	state_get_event(st, 5, &ev, &e);
	char *canon = state_event_canonical(ev);
	char h[65];
	pgc_sha256_hex(canon, strlen(canon), h);
	free(canon);
	state_close(st);
	st_event_free(ev);
	char *sql = xasprintf("UPDATE events SET hash = '%s' WHERE id = 5", h);
	raw_exec(path, sql);
	free(sql);
	state_open(path, 0, &st, &e);
	ok(state_verify(st, &bad, &e) < 0 && bad == 6, "a re-hashed forgery breaks the chain at the next event");
	state_close(st);
	free(path);

	st = open_new("gap.db", &e);
	append_n(st, 9, &e);
	path = xstrdup(state_path(st));
	state_close(st);
	raw_exec(path, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = 4");
	state_open(path, 0, &st, &e);
	ok(state_verify(st, &bad, &e) < 0 && bad == 4, "a deleted middle event is detected and named");
	state_close(st);
	free(path);

	st = open_new("trunc.db", &e);
	append_n(st, 9, &e);
	path = xstrdup(state_path(st));
	state_close(st);
	raw_exec(path, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = 10");
	state_open(path, 0, &st, &e);
	ok(state_verify(st, &bad, &e) < 0 && bad == 10, "a deleted last event (truncated tail) is detected");
	ok(strstr(e.msg, "truncated") != NULL, "message says truncated");
	ok(state_append(st, EV_NOTE, NULL, NULL, NULL, NULL, &e) < 0 && e.code == PGC_EXIT_DATAERR,
	   "appending to a truncated log is refused");
	is_int(state_last_id(st), 9, "nothing appended to the truncated log");
	state_close(st);
	free(path);
}

static void test_readonly_and_batches(void)
{
	pgc_err e = {0};
	state *w = open_new("ro.db", &e);
	append_n(w, 2, &e);
	state *r = NULL;
	ok(state_open(state_path(w), STATE_OPEN_READONLY, &r, &e) == 0, "read-only open while a writer has it open");
	ok(r && state_is_readonly(r), "handle says read-only");
	ok(state_append(r, EV_NOTE, NULL, NULL, NULL, NULL, &e) < 0, "append through a read-only handle fails");
	int v1 = state_data_version(r);
	is_int(state_data_version(r), v1, "data_version is stable without writes");
	append_n(w, 1, &e);
	ok(state_data_version(r) != v1, "data_version changes after the writer appends");
	is_int(state_last_id(r), state_last_id(w), "reader sees the writer's events");
	ok(state_verify(r, NULL, &e) == 0, "verify works read-only");

	int64_t before = state_last_id(w);
	ok(state_begin(w, &e) == 0, "begin a batch");
	append_n(w, 50, &e);
	is_int(state_last_id(r), before, "reader does not see an uncommitted batch");
	state_rollback(w);
	is_int(state_last_id(w), before, "rolled-back batch left nothing");
	ok(state_begin(w, &e) == 0 && append_n(w, 50, &e) == 0 && state_commit(w, &e) == 0, "commit a batch of 50");
	is_int(state_last_id(r), before + 50, "reader sees the committed batch");
	ok(state_verify(r, NULL, &e) == 0, "chain intact across batches");

	ok(state_begin(w, &e) == 0, "begin another batch");
	append_n(w, 3, &e);
	ok(state_append(w, EV_NOTE, NULL, NULL, "nope", NULL, &e) < 0, "a bad event inside a batch fails");
	ok(state_append(w, EV_NOTE, NULL, NULL, NULL, NULL, &e) < 0, "the failed batch takes no more events");
	ok(state_commit(w, &e) < 0, "commit of a failed batch reports the failure");
	is_int(state_last_id(w), before + 50, "a failed batch writes none of its events");
	ok(state_append(w, EV_NOTE, NULL, NULL, NULL, NULL, &e) == 0, "appends work again after a failed batch");

	/* Snapshots. */
	ok(state_snapshot_write(w, 5, "aaaa", "{\"at\":5}", &e) == 0, "write a snapshot at 5");
	ok(state_snapshot_write(w, 20, "aaaa", "{\"at\":20}", &e) == 0, "write a snapshot at 20");
	ok(state_snapshot_write(r, 30, "aaaa", "{}", &e) < 0, "read-only handle cannot write snapshots");
	int64_t at = 0;
	char *json = NULL;
	ok(state_snapshot_read(r, 19, "aaaa", &at, &json, &e) == 1 && at == 5 && strcmp(json, "{\"at\":5}") == 0,
	   "newest snapshot at or before 19 is the one at 5");
	free(json);
	ok(state_snapshot_read(r, 1000, "aaaa", &at, &json, &e) == 1 && at == 20, "newest overall is 20");
	free(json);
	ok(state_snapshot_read(r, 1000, "bbbb", &at, &json, &e) == 0 && !json, "none for another runbook");
	state_close(r);
	state_close(w);
}

static void test_schema(void)
{
	pgc_err e = {0};
	char *path = xasprintf("%s/empty.db", tmpdir);
	raw_exec(path, "PRAGMA user_version = 0");   /* an empty SQLite file */
	state *st = NULL;
	ok(state_open(path, STATE_OPEN_READONLY, &st, &e) < 0, "read-only open of an unmigrated file fails");
	ok(state_open(path, 0, &st, &e) == 0, "read-write open migrates an empty file");
	is_int(st ? state_schema_version(st) : -1, STATE_SCHEMA_VERSION, "migrated to the current version");
	state_close(st);
	free(path);

	path = xasprintf("%s/foreign.db", tmpdir);
	raw_exec(path, "CREATE TABLE customers (id int)");
	ok(state_open(path, 0, &st, &e) < 0 && strstr(e.msg, "not a pgcutover state file"),
	   "another application's database is refused");
	free(path);

	path = xasprintf("%s/future.db", tmpdir);
	st = NULL;
	state_open(path, STATE_OPEN_CREATE, &st, &e);
	state_close(st);
	raw_exec(path, "PRAGMA user_version = 99");
	ok(state_open(path, 0, &st, &e) < 0 && strstr(e.msg, "newer"), "a newer schema is refused read-write");
	ok(state_open(path, STATE_OPEN_READONLY, &st, &e) < 0 && strstr(e.msg, "newer"),
	   "a newer schema is refused read-only");
	free(path);

	path = xasprintf("%s/garbage.db", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("this is not sqlite, just text long enough to look like a header......", f);
	fclose(f);
	ok(state_open(path, 0, &st, &e) < 0 && e.code == PGC_EXIT_DATAERR, "a non-SQLite file is refused");
	free(path);
}

static void test_canonical(void)
{
	st_event ev = {.id = 7, .ts = 1764000000.5, .operator_name = "a\"b", .host = "h\n",
	               .pid = 42, .kind = "note", .phase = NULL, .item = "1.2", .payload = "{}"};
	memset(ev.prev_hash, '0', 64);
	char *c1 = state_event_canonical(&ev);
	ok(strstr(c1, "\"operator\":\"a\\\"b\"") != NULL, "canonical escapes quotes");
	ok(strstr(c1, "\"host\":\"h\\u000a\"") != NULL, "canonical escapes control characters");
	ok(strstr(c1, "\"phase\":null") != NULL, "NULL phase is null, distinct from a string");
	ev.phase = "null";
	char *c2 = state_event_canonical(&ev);
	ok(strcmp(c1, c2) != 0, "phase \"null\" and NULL serialise differently");
	ev.phase = NULL;
	ev.pid = 43;
	char *c3 = state_event_canonical(&ev);
	ok(strcmp(c1, c3) != 0, "pid is covered");
	free(c1);
	free(c2);
	free(c3);
}

/* Appends big events under a small RLIMIT_FSIZE until a write fails, then
 * checks the failure is reported and the log is whole afterwards. */
static void test_write_failure(void)
{
	pgc_err e = {0};
	state *st = open_new("full.db", &e);
	append_n(st, 3, &e);
	struct rlimit old;
	getrlimit(RLIMIT_FSIZE, &old);
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < (1u << 20)) {
		ok(1, "# SKIP file size limit already low");
		state_close(st);
		return;
	}
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit lim = old;
	enum { LIMIT = 256 * 1024, BIG = 20000 };
	lim.rlim_cur = LIMIT;
	setrlimit(RLIMIT_FSIZE, &lim);
	char *big = xmalloc(BIG + 32);
	strcpy(big, "{\"text\":\"");
	memset(big + 9, 'x', BIG);
	strcpy(big + 9 + BIG, "\"}");
	int failed = 0, written = 0;
	for (int i = 0; i < 100 && !failed; i++) {
		if (state_append(st, EV_NOTE, NULL, NULL, big, NULL, &e) < 0)
			failed = 1;
		else
			written++;
	}
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	free(big);
	ok(failed, "an append past the file size limit fails (after %d written)", written);
	ok(e.code == PGC_EXIT_IOERR && strstr(e.msg, "nothing was written"),
	   "the error says nothing was written: %s", e.msg);
	char *path = xstrdup(state_path(st));
	state_close(st);
	ok(state_open(path, 0, &st, &e) == 0, "reopen after the failure");
	is_int(state_last_id(st), 4 + written, "every reported event is there, no half event");
	ok(state_verify(st, NULL, &e) == 0, "chain intact after the failure");
	ok(state_append(st, EV_NOTE, NULL, NULL, NULL, NULL, &e) == 0, "appends work again once there is room");
	state_close(st);
	free(path);
}

static void test_event_dup(void)
{
	st_event src = {.id = 7, .ts = 1.5, .operator_name = "alice", .host = NULL, .kind = "note",
	                .phase = "1", .item = NULL, .payload = NULL};
	st_event *d = st_event_dup(&src);
	ok(d->id == 7 && d->ts == 1.5, "st_event_dup: id and time");
	ok(strcmp(d->operator_name, "alice") == 0 && d->operator_name != src.operator_name, "a copy of the operator");
	ok(strcmp(d->host, "") == 0 && strcmp(d->payload, "{}") == 0, "a missing host is \"\", a missing payload {}");
	ok(d->item == NULL && strcmp(d->phase, "1") == 0, "phase copied, no item stays none");
	/* an event held by value (as an export's are) is emptied in place */
	st_event held = *d;
	free(d);
	st_event_clear(&held);
	ok(held.id == 0 && !held.operator_name && !held.kind && !held.phase && !held.payload,
	   "st_event_clear frees the strings and zeroes the event");
	st_event_clear(NULL);
}

static void add_time(double ts, void *ud)
{
	double *sum = ud;
	sum[0] += 1;
	sum[1] = ts;
}

/* What replay asks of a state file: the newest event of a kind up to an
 * event, by the name in its payload, and the times alone. */
static void test_replay_queries(void)
{
	char *path = xasprintf("%s/replay.db", tmpdir);
	state *st = NULL;
	pgc_err e = {0};
	ok(state_open(path, STATE_OPEN_CREATE, &st, &e) == 0, "state opens (%s)", e.msg);
	int64_t a = 0, b = 0, c = 0;
	state_append(st, "flag_set", NULL, NULL, "{\"name\":\"A\",\"new\":\"1\"}", &a, &e);
	state_append(st, "flag_set", NULL, NULL, "{\"name\":\"B\",\"new\":\"2\"}", &b, &e);
	state_append(st, "flag_set", NULL, NULL, "{\"name\":\"A\",\"new\":\"3\"}", &c, &e);
	st_event *ev = NULL;
	is_int(state_last_of_kind_at(st, "flag_set", "A", c - 1, &ev, &e), 1, "A's flag_set before the last");
	ok(ev && ev->id == a, "is the first one");
	st_event_free(ev);
	is_int(state_last_of_kind_at(st, "flag_set", NULL, c, &ev, &e), 1, "any flag_set up to the last");
	ok(ev && ev->id == c, "is the last one");
	st_event_free(ev);
	is_int(state_last_of_kind_at(st, "flag_set", "C", c, &ev, &e), 0, "none names C");
	ok(ev == NULL, "and nothing is returned");
	is_int(state_last_of_kind_at(st, "note", NULL, c, &ev, &e), 0, "no note at all");
	int64_t last = state_last_id(st);
	st_event *lastev = NULL;
	state_get_event(st, last, &lastev, &e);
	double sum[2] = {0, 0};
	is_int(state_foreach_time(st, b, add_time, sum, &e), 0, "the times from B's event on");
	ok(sum[0] == (double)(last - b + 1) && lastev && sum[1] == lastev->ts, "one time an event, the last one last");
	st_event_free(lastev);
	state_close(st);
	free(path);
}

int main(void)
{
	if (!mkdtemp(tap_tmpl(tmpdir, sizeof tmpdir, "pgc-test-state"))) {
		perror("mkdtemp");
		return 1;
	}
	test_create_and_append();
	test_tamper();
	test_readonly_and_batches();
	test_schema();
	test_canonical();
	test_write_failure();
	test_event_dup();
	test_replay_queries();
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	return done_testing();
}
