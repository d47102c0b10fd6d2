/*
 * state.c -- the SQLite state file: an append-only, SHA-256 chained audit log
 * of events, plus a cache of ledger snapshots.  cli_load(), the console, the
 * monitor and replay open it; state_append() is the only code that writes an
 * event.
 *
 * Durability: WAL with synchronous=FULL, every append in a BEGIN IMMEDIATE
 * transaction (or a caller's batch), so a kill -9, a full disk or an I/O
 * error never leaves half an event.  Tamper evidence: each event's hash
 * covers its canonical text and the previous hash; triggers refuse UPDATE and
 * DELETE; the `meta` table records the chain head (last id and hash) in the
 * same transaction as each append, which is what reveals a truncated tail.
 * None of this stops someone who rewrites the whole file and recomputes every
 * hash: anchor the head elsewhere (`log --verify` prints it) for that.
 * The only module that sees SQLite: lease.c's row and replay's queries go
 * through typed functions here (state_lease_*, state_last_of_kind_at,
 * state_foreach_time).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include "pgcutover/state.h"
#include "pgcutover/lease.h"   /* lease_info: the row kept here */

/* "PGCU": PRAGMA application_id marks the file as ours. */
#define STATE_APPLICATION_ID 0x50474355
/* How long a writer waits for another writer's transaction. */
#define STATE_BUSY_TIMEOUT_MS 5000
/* Page cache big enough that a batch of 100,000 events is not spilled to
 * the WAL and read back before it commits (negative = KiB). */
#define STATE_CACHE_PRAGMA "PRAGMA cache_size=-65536"
#define STATE_DIR_MODE 0700
#define STATE_FILE_MODE 0600
/* STATE_OPEN_GROUP_READ: a monitor in the owner's group may read (SQLite
 * gives the -wal and -shm files the state file's mode). */
#define STATE_DIR_MODE_GROUP 0750
#define STATE_FILE_MODE_GROUP 0640
#define STATE_GROUP_BITS (S_IRGRP)
#define STATE_DIR_GROUP_BITS (S_IRGRP | S_IXGRP)
/* Timestamps are stored rounded to microseconds so their canonical text is
 * the same wherever the double goes (export, import). */
#define STATE_TS_SCALE 1000000
#define STATE_TS_DIGITS 6
#define SHA256_HEX_LEN 64
#define STATE_CANON_MAGIC "pgcutover-event-v1\n"
#define STATE_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Migration i takes the schema from version i to i + 1.  Never edit one that
 * has shipped; append a new one and bump STATE_SCHEMA_VERSION. */
static const char *const state_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  ts REAL NOT NULL,"
	"  operator TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  phase TEXT,"
	"  item TEXT,"
	"  payload TEXT NOT NULL CHECK (json_valid(payload)),"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE INDEX events_kind ON events(kind, id);"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
	"  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
	"  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE snapshots ("
	"  event_id INTEGER NOT NULL,"
	"  runbook_sha256 TEXT NOT NULL,"
	"  created REAL NOT NULL,"
	"  ledger TEXT NOT NULL,"
	"  PRIMARY KEY (runbook_sha256, event_id));",
};
_Static_assert(sizeof state_migrations / sizeof state_migrations[0] == STATE_SCHEMA_VERSION,
               "one migration per schema version");

#define EVENT_COLUMNS "id, ts, operator, host, pid, kind, phase, item, payload, prev_hash, hash"

struct state {
	sqlite3 *db;
	char *path;
	bool readonly;
	bool immutable;     /* read-only snapshot (see state_is_immutable) */
	struct stat seen;   /* the file as opened, for state_file_changed */
	char *operator_name;
	char *host;
	int pid;
	bool in_batch;      /* inside state_begin() .. state_commit() */
	bool batch_failed;  /* an append failed and rolled the batch back */
	int64_t head_id;    /* chain head, valid inside a write transaction */
	char head_hash[65];
	char *scratch;      /* canonical text being hashed */
	size_t scratch_cap;
	EVP_MD *md;
	EVP_MD_CTX *md_ctx;
	sqlite3_stmt *q_insert, *q_head_events, *q_head_meta, *q_set_head,
	             *q_data_version, *q_last_of_kind, *q_get;
	sqlite3 *snap_db;   /* snapshot cache of a state only read (see state_snapshot_cache) */
	char *snap_path;
	state_guard_fn guard;   /* asked inside every write transaction (lease.c) */
	void *guard_ud;
};

/* ---- helpers ---- */

/* The directory part of path ("." for a bare name); new string. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

static int read_only_fail(const char *path, pgc_err *e, const char *what)
{
	return pgc_fail(e, PGC_EXIT_NOPERM, "%s: %s%sthe state file is read-only (for you, uid %d, or on "
	                "a read-only file system): writing needs write access to it, its -wal and -shm and "
	                "its directory; `pgcutover monitor` only reads", path, what ? what : "",
	                what && *what ? ": " : "", (int)getuid());
}

/* SQLite's last error on db said in an operator's words, with the exit
 * status it deserves: a full disk and a read-only file say so (SQLite says
 * "disk I/O error" and "attempt to write a readonly database"). */
static int sqlite_fail(sqlite3 *db, const char *path, pgc_err *e, const char *what)
{
	int rc = sqlite3_extended_errcode(db) & 0xff, sys = sqlite3_system_errno(db);
	const char *sep = what && *what ? ": " : "";
	what = what ? what : "";
	if (rc == SQLITE_FULL || (rc == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT))) {
		char *dir = dir_of(path), real[PATH_MAX];
		pgc_fail(e, PGC_EXIT_IOERR, "%s: %s%sthe disk is full (no space left in %s for the state "
		         "file, its -wal or -shm): free some space and run it again", path, what, sep,
		         realpath(dir, real) ? real : dir);
		free(dir);
		return -1;
	}
	if (rc == SQLITE_READONLY || (rc == SQLITE_IOERR && sys == EROFS))
		return read_only_fail(path, e, what);
	int code = PGC_EXIT_IOERR;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		code = PGC_EXIT_TEMPFAIL;
	else if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		code = PGC_EXIT_DATAERR;
	else if (rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)
		code = PGC_EXIT_CANTCREAT;
	return pgc_fail(e, code, "%s: %s%s%s", path, what, sep, sqlite3_errmsg(db));
}

/* SQLite's last error on st in an operator's words ("the disk is full",
 * "read-only") and the exit status it deserves (74, 77, 75 when busy, 65
 * when not a state).  Returns -1. */
static int db_fail(state *st, pgc_err *e, const char *what)
{
	return sqlite_fail(st->db, st->path, e, what);
}

static int exec_sql(state *st, const char *sql, pgc_err *e)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sqlite_fail(st->db, st->path, e, NULL);
	return 0;
}

/* Runs a query returning one integer (PRAGMAs). */
static int query_int(state *st, const char *sql, int64_t *out, pgc_err *e)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot read the state file");
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_DONE)
		*out = 0;
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, e, "cannot read the state file");
	return 0;
}

static int prepare(state *st, sqlite3_stmt **q, const char *sql, pgc_err *e)
{
	if (*q) {
		sqlite3_reset(*q);
		sqlite3_clear_bindings(*q);
		return 0;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot prepare a statement");
	return 0;
}

static const char *col_text(sqlite3_stmt *q, int i)
{
	return (const char *)sqlite3_column_text(q, i);
}

static void copy_hash(char dst[65], const char *src)
{
	size_t n = src ? strnlen(src, SHA256_HEX_LEN) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* Fills ev from a row of EVENT_COLUMNS; strings point into the statement. */
static void row_to_event(sqlite3_stmt *q, st_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->id = sqlite3_column_int64(q, 0);
	ev->ts = sqlite3_column_double(q, 1);
	ev->operator_name = (char *)col_text(q, 2);
	ev->host = (char *)col_text(q, 3);
	ev->pid = sqlite3_column_int(q, 4);
	ev->kind = (char *)col_text(q, 5);
	ev->phase = (char *)col_text(q, 6);
	ev->item = (char *)col_text(q, 7);
	ev->payload = (char *)col_text(q, 8);
	copy_hash(ev->prev_hash, col_text(q, 9));
	copy_hash(ev->hash, col_text(q, 10));
	if (!ev->operator_name) ev->operator_name = "";
	if (!ev->host) ev->host = "";
	if (!ev->kind) ev->kind = "";
	if (!ev->payload) ev->payload = "{}";
}

st_event *st_event_dup(const st_event *src)
{
	st_event *ev = xcalloc(1, sizeof *ev);
	*ev = *src;
	ev->operator_name = xstrdup(src->operator_name ? src->operator_name : "");
	ev->host = xstrdup(src->host ? src->host : "");
	ev->kind = xstrdup(src->kind ? src->kind : "");
	ev->phase = src->phase ? xstrdup(src->phase) : NULL;
	ev->item = src->item ? xstrdup(src->item) : NULL;
	ev->payload = xstrdup(src->payload ? src->payload : "{}");
	return ev;
}

void st_event_clear(st_event *ev)
{
	if (!ev)
		return;
	free(ev->operator_name);
	free(ev->host);
	free(ev->kind);
	free(ev->phase);
	free(ev->item);
	free(ev->payload);
	memset(ev, 0, sizeof *ev);
}

void st_event_free(st_event *ev)
{
	st_event_clear(ev);
	free(ev);
}

/* The canonical form is fixed forever (a hash chain outlives versions), so
 * it is written out here rather than left to a library's formatting:
 *   pgcutover-event-v1\n{"id":N,"ts":"SECS.MICROS","operator":"..","host":"..",
 *   "pid":N,"kind":"..","phase":".."|null,"item":".."|null,"payload":"<text>",
 *   "prev_hash":".."}
 * Strings are JSON-escaped (", \\ and bytes below 0x20 as \\u00XX); the
 * payload is hashed as the exact text stored. */

/* Worst case: every byte escaped as \u00XX (6 bytes) plus quotes. */
#define CANON_ESCAPE_MAX 6
#define CANON_FIXED_MAX 256

static size_t canon_str_max(const char *s)
{
	return s ? strlen(s) * CANON_ESCAPE_MAX + 2 : 4;
}

static char *canon_put(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

static char *canon_str(char *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s)
		return canon_put(o, "null", 4);
	*o++ = '"';
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (;; p++) {
		if (*p != '\0' && *p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		o = canon_put(o, (const char *)run, (size_t)(p - run));
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else {
			o = canon_put(o, "\\u00", 4);
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
		run = p + 1;
	}
	*o++ = '"';
	return o;
}

/* Decimal digits of v (v >= 0), zero-padded to at least width. */
static char *canon_uint(char *o, unsigned long long v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*o++ = tmp[--n];
	return o;
}

static char *canon_int(char *o, long long v)
{
	if (v < 0) {
		*o++ = '-';
		return canon_uint(o, 0ULL - (unsigned long long)v, 1);
	}
	return canon_uint(o, (unsigned long long)v, 1);
}

static size_t canon_max(const st_event *ev)
{
	return CANON_FIXED_MAX + canon_str_max(ev->operator_name) + canon_str_max(ev->host) +
	       canon_str_max(ev->kind) + canon_str_max(ev->phase) + canon_str_max(ev->item) +
	       canon_str_max(ev->payload ? ev->payload : "{}") + canon_str_max(ev->prev_hash);
}

/* ts in whole microseconds, rounded half away from zero; |ts| <= STATE_TS_MAX. */
static long long ts_micros(double ts)
{
	double us = ts * STATE_TS_SCALE;
	return (long long)(us < 0 ? us - 0.5 : us + 0.5);
}

/* Below STATE_TS_MAX the microseconds fit 52 bits, so the double of a whole
 * number of microseconds converts back to that number exactly: accepting
 * only times that survive the round trip makes the canonical text
 * one-to-one. */
const char *state_ts_problem(double ts)
{
	if (!isfinite(ts))
		return "is not a finite number";
	if (ts < 0 || ts > STATE_TS_MAX)
		return "is out of range (1970 to 2100)";
	if ((double)ts_micros(ts) / STATE_TS_SCALE != ts)
		return "is not a whole number of microseconds";
	return NULL;
}

/* Writes the canonical text into buf (canon_max(ev) bytes); returns length. */
static size_t canon_write(const st_event *ev, char *buf)
{
	char *o = buf;
	o = canon_put(o, STATE_CANON_MAGIC, strlen(STATE_CANON_MAGIC));
	o = canon_put(o, "{\"id\":", 6);
	o = canon_int(o, (long long)ev->id);
	/* ts as integer microseconds: exact, and no locale or %f rounding. */
	o = canon_put(o, ",\"ts\":\"", 7);
	if (isfinite(ev->ts) && fabs(ev->ts) <= STATE_TS_MAX) {
		long long ts_us = ts_micros(ev->ts);
		unsigned long long abs_us = ts_us < 0 ? 0ULL - (unsigned long long)ts_us : (unsigned long long)ts_us;
		if (ts_us < 0)
			*o++ = '-';
		o = canon_uint(o, abs_us / (unsigned long long)STATE_TS_SCALE, 1);
		*o++ = '.';
		o = canon_uint(o, abs_us % (unsigned long long)STATE_TS_SCALE, STATE_TS_DIGITS);
	} else {
		/* Never accepted on import, but a hand-edited state may hold one:
		 * its bits, so no two such times share a hash (the cast above
		 * would be undefined and fold them together). */
		uint64_t bits;
		memcpy(&bits, &ev->ts, sizeof bits);
		*o++ = 'x';
		for (int shift = 60; shift >= 0; shift -= 4)
			*o++ = "0123456789abcdef"[(bits >> shift) & 15];
	}
	o = canon_put(o, "\",\"operator\":", 13);
	o = canon_str(o, ev->operator_name);
	o = canon_put(o, ",\"host\":", 8);
	o = canon_str(o, ev->host);
	o = canon_put(o, ",\"pid\":", 7);
	o = canon_int(o, ev->pid);
	o = canon_put(o, ",\"kind\":", 8);
	o = canon_str(o, ev->kind);
	o = canon_put(o, ",\"phase\":", 9);
	o = canon_str(o, ev->phase);
	o = canon_put(o, ",\"item\":", 8);
	o = canon_str(o, ev->item);
	o = canon_put(o, ",\"payload\":", 11);
	o = canon_str(o, ev->payload ? ev->payload : "{}");
	o = canon_put(o, ",\"prev_hash\":", 13);
	o = canon_str(o, ev->prev_hash);
	*o++ = '}';
	*o = '\0';
	return (size_t)(o - buf);
}

char *state_event_canonical(const st_event *ev)
{
	char *buf = xmalloc(canon_max(ev));
	canon_write(ev, buf);
	return buf;
}

/* Hashes with a digest context and scratch buffer kept in the handle:
 * fetching the algorithm per event costs more than hashing it. */
static void event_hash(state *st, const st_event *ev, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	size_t need = canon_max(ev);
	if (need > st->scratch_cap) {
		st->scratch = xrealloc(st->scratch, need);
		st->scratch_cap = need;
	}
	size_t n = canon_write(ev, st->scratch);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!st->md_ctx) {
		st->md = EVP_MD_fetch(NULL, "SHA256", NULL);
		st->md_ctx = EVP_MD_CTX_new();
	}
	if (!st->md || !st->md_ctx || !EVP_DigestInit_ex(st->md_ctx, st->md, NULL) ||
	    !EVP_DigestUpdate(st->md_ctx, st->scratch, n) ||
	    !EVP_DigestFinal_ex(st->md_ctx, md, &mdlen)) {
		pgc_sha256_hex(st->scratch, n, out);   /* the plain path */
		return;
	}
	for (unsigned i = 0; i < SHA256_HEX_LEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

/* Where ev breaks a chain that expects event expect_id after prev_hash.
 * st (may be NULL) only lends its cached digest. */
static st_chain_fault chain_check(state *st, const st_event *ev, int64_t expect_id, const char *prev_hash)
{
	if (ev->id != expect_id)
		return ST_CHAIN_ID;
	if (strcmp(ev->prev_hash, prev_hash) != 0)
		return ST_CHAIN_PREV;
	char h[65];
	if (st) {
		event_hash(st, ev, h);
	} else {
		char *canon = state_event_canonical(ev);
		pgc_sha256_hex(canon, strlen(canon), h);
		free(canon);
	}
	return strcmp(h, ev->hash) != 0 ? ST_CHAIN_HASH : ST_CHAIN_OK;
}

st_chain_fault state_chain_check(const st_event *ev, int64_t expect_id, const char *prev_hash)
{
	return chain_check(NULL, ev, expect_id, prev_hash);
}

/* ---- opening, schema ---- */

/* The directory part of path and those above it (pgc_mkdir_p); new
 * directories get 0700 (0750 for a group-readable state). */
static int make_parent_dirs(const char *path, mode_t mode, pgc_err *e)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	char *dir = xstrndup(path, (size_t)(slash - path));
	int rc = pgc_mkdir_p(dir, mode, e);
	free(dir);
	return rc;
}

static int migrate(state *st, pgc_err *e)
{
	if (exec_sql(st, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	int64_t version = 0, n_objects = 0, app_id = 0;
	if (query_int(st, "PRAGMA user_version", &version, e) < 0 ||
	    query_int(st, "PRAGMA application_id", &app_id, e) < 0 ||
	    query_int(st, "SELECT count(*) FROM sqlite_master", &n_objects, e) < 0)
		goto fail;
	if ((app_id != 0 && app_id != STATE_APPLICATION_ID) || (version == 0 && n_objects > 0)) {
		pgc_fail(e, PGC_EXIT_DATAERR, "%s: not a pgcutover state file", st->path);
		goto fail;
	}
	if (version > STATE_SCHEMA_VERSION) {
		pgc_fail(e, PGC_EXIT_DATAERR, "%s: state schema version %lld is newer than this "
		         "pgcutover understands (%d); upgrade pgcutover", st->path,
		         (long long)version, STATE_SCHEMA_VERSION);
		goto fail;
	}
	if (version == STATE_SCHEMA_VERSION) {
		exec_sql(st, "COMMIT", NULL);
		return 0;
	}
	for (int64_t v = version; v < STATE_SCHEMA_VERSION; v++)
		if (exec_sql(st, state_migrations[v], e) < 0)
			goto fail;
	char sql[128];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
	         STATE_SCHEMA_VERSION, STATE_APPLICATION_ID);
	if (exec_sql(st, sql, e) < 0 || exec_sql(st, "COMMIT", e) < 0)
		goto fail;
	return 0;
fail:
	if (!sqlite3_get_autocommit(st->db))
		exec_sql(st, "ROLLBACK", NULL);
	return -1;
}

/* A read-only handle checks the schema without changing anything. */
static int check_schema_readonly(state *st, pgc_err *e)
{
	int64_t version = 0, app_id = 0;
	if (query_int(st, "PRAGMA user_version", &version, e) < 0 ||
	    query_int(st, "PRAGMA application_id", &app_id, e) < 0)
		return -1;
	if (app_id != STATE_APPLICATION_ID || version == 0)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s: not a pgcutover state file", st->path);
	if (version > STATE_SCHEMA_VERSION)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s: state schema version %lld is newer than this "
		                "pgcutover understands (%d); upgrade pgcutover", st->path,
		                (long long)version, STATE_SCHEMA_VERSION);
	if (version < STATE_SCHEMA_VERSION)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s: state schema version %lld is older than %d; "
		                "open it once read-write (e.g. `pgcutover status`) to migrate it",
		                st->path, (long long)version, STATE_SCHEMA_VERSION);
	return 0;
}

static bool file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* "file:" URI of a path, for SQLite's ?immutable=1. */
static char *path_uri(const char *path, const char *query)
{
	strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p))
			sb_printf(&sb, "%c", *p);
		else
			sb_printf(&sb, "%%%02X", *p);
	}
	sb_printf(&sb, "?%s", query);
	return sb_steal(&sb);
}

/* Why a read-only open of a WAL state failed, in words an operator can act
 * on: SQLite says "unable to open database file" or "attempt to write a
 * readonly database" for all of these. */
static int explain_readonly_failure(const char *path, pgc_err *e)
{
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	const char *bad = access(path, R_OK) != 0 ? path
	                : file_exists(shm) && access(shm, R_OK) != 0 ? shm
	                : file_exists(wal) && access(wal, R_OK) != 0 ? wal : NULL;
	int rc = 0;
	if (bad)
		rc = pgc_fail(e, PGC_EXIT_NOPERM, "%s: you (uid %d) cannot read %s: a monitor needs read access "
		              "to the state file and, while a driver has it open, its -wal and -shm files "
		              "(SQLite WAL).  On the driver's side: \"state_group_readable\": true in the config "
		              "(or chmod g+r %s %s %s and chmod g+rx on the directory), and run the monitor in "
		              "that group; see MONITOR in pgcutover(1)", path, (int)getuid(), bad, path, wal,
		              shm);
	free(wal);
	free(shm);
	return rc;
}

/* Opens the immutable snapshot of st->path (see db_open). */
static int open_snapshot(state *st, pgc_err *e)
{
	char *uri = path_uri(st->path, "immutable=1");
	int rc = sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot open state file: %s", st->path,
		                st->db ? sqlite3_errmsg(st->db) : "out of memory");
	sqlite3_extended_result_codes(st->db, 1);
	st->immutable = true;
	return check_schema_readonly(st, e);
}

/* Opens st->path into st->db.  Read-only, when neither -wal nor -shm exists
 * (no process has the file open): an immutable snapshot, since SQLite would
 * otherwise make a -wal and -shm beside a file it only reads (and leave
 * them there), or fail where it cannot.  Nothing changes the file before a
 * writer opens it, which makes the -shm first: state_file_changed() says so
 * and the reader opens it again, the usual way.  Otherwise (a driver has it
 * open) the usual read-only open, through the WAL. */
static int db_open(state *st, bool ro, pgc_err *e)
{
	st->immutable = false;
	if (ro) {
		char *wal = xasprintf("%s-wal", st->path), *shm = xasprintf("%s-shm", st->path);
		bool idle = !file_exists(wal) && !file_exists(shm);
		free(wal);
		free(shm);
		if (idle) {
			if (access(st->path, R_OK) != 0 && explain_readonly_failure(st->path, e) < 0)
				return -1;
			return open_snapshot(st, e);
		}
	}
	int oflags = (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(st->path, &st->db, oflags, NULL) != SQLITE_OK) {
		if (ro && explain_readonly_failure(st->path, e) < 0)
			return -1;
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot open state file: %s", st->path,
		                st->db ? sqlite3_errmsg(st->db) : "out of memory");
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STATE_BUSY_TIMEOUT_MS);
	if (!ro)
		return 0;
	pgc_err first = {0};
	if (check_schema_readonly(st, &first) == 0)
		return 0;
	int code = sqlite3_extended_errcode(st->db) & 0xff;
	if (code != SQLITE_READONLY && code != SQLITE_CANTOPEN) {
		*e = first;
		return -1;
	}
	if (explain_readonly_failure(st->path, e) < 0)
		return -1;
	char *shm = xasprintf("%s-shm", st->path), *dir = xstrdup(st->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	bool snapshot = !file_exists(shm) && access(slash ? dir : ".", W_OK) != 0;
	free(shm);
	free(dir);
	if (!snapshot) {
		*e = first;
		return -1;
	}
	sqlite3_close(st->db);
	st->db = NULL;
	return open_snapshot(st, e);
}

/* A group-readable state: the file (and its -wal, -shm) g+r, the directory
 * g+rx, whatever they were created with. */
static void make_group_readable(const char *path)
{
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char *f = xasprintf("%s%s", path, suffix[i]);
		struct stat sb;
		if (stat(f, &sb) == 0 && (sb.st_mode & STATE_GROUP_BITS) != STATE_GROUP_BITS)
			chmod(f, (sb.st_mode & 07777) | STATE_GROUP_BITS);
		free(f);
	}
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		struct stat sb;
		if (stat(dir, &sb) == 0 && sb.st_uid == geteuid() &&
		    (sb.st_mode & STATE_DIR_GROUP_BITS) != STATE_DIR_GROUP_BITS)
			chmod(dir, (sb.st_mode & 07777) | STATE_DIR_GROUP_BITS);
	}
	free(dir);
}

int state_open(const char *path, int flags, state **out, pgc_err *e)
{
	*out = NULL;
	bool ro = (flags & STATE_OPEN_READONLY) != 0;
	bool group = (flags & STATE_OPEN_GROUP_READ) != 0 && !ro;
	struct stat sb;
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT)
			return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: %s", path, strerror(errno));
		if (ro || !(flags & STATE_OPEN_CREATE))
			return pgc_fail(e, PGC_EXIT_NOINPUT, "%s: no such state file", path);
		if (make_parent_dirs(path, group ? STATE_DIR_MODE_GROUP : STATE_DIR_MODE, e) < 0)
			return -1;
		/* Created here, not by SQLite, so the mode is 0600 (0640) whatever
		 * the umask; SQLite gives the -wal and -shm files the same mode. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		              group ? STATE_FILE_MODE_GROUP : STATE_FILE_MODE);
		if (fd < 0 && errno != EEXIST)
			return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot create state file: %s",
			                path, strerror(errno));
		if (fd >= 0) {
			if (group)
				fchmod(fd, STATE_FILE_MODE_GROUP);   /* the umask may have taken g+r */
			close(fd);
		}
	} else if (!S_ISREG(sb.st_mode)) {
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: not a regular file", path);
	} else if (!ro && access(path, W_OK) != 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
		/* Before SQLite leaves a -wal and -shm it cannot use behind. */
		return read_only_fail(path, e, NULL);
	}
	if (group)
		make_group_readable(path);

	state *st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	st->readonly = ro;
	st->operator_name = xstrdup(pgc_login_name());
	st->host = xstrdup(pgc_host_name());
	st->pid = (int)getpid();
	stat(path, &st->seen);
	if (db_open(st, ro, e) < 0) {
		state_close(st);
		return -1;
	}
	if (!ro) {
		/* journal_mode can only change outside a transaction. */
		if (exec_sql(st, "PRAGMA journal_mode=WAL", e) < 0 ||
		    exec_sql(st, STATE_CACHE_PRAGMA, e) < 0 ||
		    exec_sql(st, "PRAGMA synchronous=FULL", e) < 0 ||
		    migrate(st, e) < 0) {
			state_close(st);
			return -1;
		}
		if (group)
			make_group_readable(path);   /* -wal and -shm exist now */
	}
	*out = st;
	return 0;
}

static void finalize_all(state *st)
{
	sqlite3_stmt **qs[] = {&st->q_insert, &st->q_head_events, &st->q_head_meta, &st->q_set_head,
	                       &st->q_data_version, &st->q_last_of_kind, &st->q_get};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		sqlite3_finalize(*qs[i]);
		*qs[i] = NULL;
	}
}

bool state_is_immutable(const state *st)
{
	return st->immutable;
}

int state_file_changed(state *st, bool *replaced)
{
	struct stat sb;
	*replaced = false;
	if (stat(st->path, &sb) != 0)
		return -1;   /* between the unlink and the rename of a refresh */
	*replaced = sb.st_ino != st->seen.st_ino || sb.st_dev != st->seen.st_dev;
	bool rewritten = sb.st_size != st->seen.st_size || sb.st_mtim.tv_sec != st->seen.st_mtim.tv_sec ||
	                 sb.st_mtim.tv_nsec != st->seen.st_mtim.tv_nsec;
	bool driver_came = false;
	if (st->immutable) {
		char *shm = xasprintf("%s-shm", st->path);
		driver_came = file_exists(shm);
		free(shm);
	}
	return *replaced || rewritten || driver_came;
}

int state_reopen(state *st, pgc_err *e)
{
	if (!st->readonly)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: only a read-only state is reopened", st->path);
	struct stat sb;
	if (stat(st->path, &sb) != 0)
		return pgc_fail(e, PGC_EXIT_NOINPUT, "%s: %s", st->path, strerror(errno));
	/* The new handle first: on failure the old one keeps serving. */
	state tmp = {.path = st->path, .readonly = true};
	if (db_open(&tmp, true, e) < 0) {
		if (tmp.db)
			sqlite3_close(tmp.db);
		return -1;
	}
	finalize_all(st);
	sqlite3_close(st->db);
	st->db = tmp.db;
	st->immutable = tmp.immutable;
	st->seen = sb;
	return 0;
}

void state_close(state *st)
{
	if (!st)
		return;
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	finalize_all(st);
	if (st->db)
		sqlite3_close(st->db);
	if (st->snap_db)
		sqlite3_close(st->snap_db);
	free(st->snap_path);
	EVP_MD_CTX_free(st->md_ctx);
	EVP_MD_free(st->md);
	free(st->scratch);
	free(st->path);
	free(st->operator_name);
	free(st->host);
	free(st);
}

const char *state_path(const state *st)
{
	return st->path;
}

bool state_is_readonly(const state *st)
{
	return st->readonly;
}

/* For the unit tests only (tests/unit/state_test.h): they age a lease or
 * count rows behind the modules' backs.  No module sees SQLite. */
sqlite3 *state_db_for_tests(state *st);
sqlite3 *state_db_for_tests(state *st)
{
	return st->db;
}

/* ---- the lease row (lease.c's policy, its storage here) ---- */

static const char *const lease_schema =
	"CREATE TABLE IF NOT EXISTS lease ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  operator TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  command TEXT NOT NULL,"
	"  acquired_at REAL NOT NULL,"
	"  heartbeat_at REAL NOT NULL,"
	"  heartbeats INTEGER NOT NULL,"
	"  started INTEGER)";
/* Files leased by an older pgcutover lack the column; adding it is harmless
 * to them (they name their columns). */
static const char *const lease_add_started = "ALTER TABLE lease ADD COLUMN started INTEGER";


int state_lease_table(state *st, pgc_err *e)
{
	if (sqlite3_exec(st->db, lease_schema, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot create the lease table");
	sqlite3_stmt *probe;
	if (sqlite3_prepare_v2(st->db, "SELECT started FROM lease", -1, &probe, NULL) == SQLITE_OK)
		sqlite3_finalize(probe);
	else if (sqlite3_exec(st->db, lease_add_started, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot add the start time to the lease table");
	return 0;
}

static char *col_dup(sqlite3_stmt *q, int i)
{
	const char *s = col_text(q, i);
	return xstrdup(s ? s : "");
}

int state_lease_read(state *st, lease_info *out, pgc_err *e)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *q;
	const char *sql = "SELECT operator, host, pid, command, acquired_at, heartbeat_at, heartbeats, "
	                  "started FROM lease WHERE id = 1";
	int prc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	if (prc != SQLITE_OK && strstr(sqlite3_errmsg(st->db), "no such column")) {
		/* leased by an older pgcutover: no start time recorded */
		sql = "SELECT operator, host, pid, command, acquired_at, heartbeat_at, heartbeats, "
		      "NULL FROM lease WHERE id = 1";
		prc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	}
	if (prc != SQLITE_OK) {
		/* A file no driver has leased yet has no table: nobody holds it. */
		if (strstr(sqlite3_errmsg(st->db), "no such table"))
			return 0;
		return db_fail(st, e, "cannot read the lease");
	}
	int rc = sqlite3_step(q), ret = 0;
	if (rc == SQLITE_ROW) {
		out->operator_name = col_dup(q, 0);
		out->host = col_dup(q, 1);
		out->pid = sqlite3_column_int(q, 2);
		out->command = col_dup(q, 3);
		out->acquired_at = sqlite3_column_double(q, 4);
		out->heartbeat_at = sqlite3_column_double(q, 5);
		out->heartbeats = sqlite3_column_int(q, 6) != 0;
		out->started = sqlite3_column_int64(q, 7);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = db_fail(st, e, "cannot read the lease");
	}
	sqlite3_finalize(q);
	return ret;
}

int state_lease_write(state *st, const lease_info *li, pgc_err *e)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO lease (id, operator, host, pid, "
	                       "command, acquired_at, heartbeat_at, heartbeats, started) "
	                       "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
	                       -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot write the lease");
	sqlite3_bind_text(q, 1, li->operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, li->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, li->pid);
	sqlite3_bind_text(q, 4, li->command, -1, SQLITE_STATIC);
	sqlite3_bind_double(q, 5, li->acquired_at);
	sqlite3_bind_double(q, 6, li->heartbeat_at);
	sqlite3_bind_int(q, 7, li->heartbeats);
	if (li->started > 0)
		sqlite3_bind_int64(q, 8, li->started);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_fail(st, e, "cannot write the lease");
}

int state_lease_beat(state *st, const lease_info *li, double now, pgc_err *e)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "UPDATE lease SET heartbeat_at = ? WHERE id = 1 "
	                       "AND host = ? AND pid = ? AND acquired_at = ?", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot update the lease");
	sqlite3_bind_double(q, 1, now);
	sqlite3_bind_text(q, 2, li->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, li->pid);
	sqlite3_bind_double(q, 4, li->acquired_at);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(st, e, "cannot update the lease");
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int state_lease_delete(state *st, pgc_err *e)
{
	if (sqlite3_exec(st->db, "DELETE FROM lease WHERE id = 1", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot release the lease");
	return 0;
}

int state_schema_version(state *st)
{
	int64_t v = 0;
	if (query_int(st, "PRAGMA user_version", &v, NULL) < 0)
		return -1;
	return (int)v;
}

void state_set_actor(state *st, const char *operator_name, const char *host)
{
	if (operator_name) {
		free(st->operator_name);
		st->operator_name = xstrdup(operator_name);
	}
	if (host) {
		free(st->host);
		st->host = xstrdup(host);
	}
}

/* ---- appending ---- */

/* Reads the chain head from the events and from meta; they must agree, or
 * appending would silently extend a truncated or edited log. */
static int read_head(state *st, pgc_err *e)
{
	if (prepare(st, &st->q_head_events, "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1", e) < 0)
		return -1;
	int rc = sqlite3_step(st->q_head_events);
	int64_t ev_id = 0;
	char ev_hash[65] = STATE_GENESIS_HASH;
	if (rc == SQLITE_ROW) {
		ev_id = sqlite3_column_int64(st->q_head_events, 0);
		copy_hash(ev_hash, col_text(st->q_head_events, 1));
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st->q_head_events);
		return db_fail(st, e, "cannot read the last event");
	}
	sqlite3_reset(st->q_head_events);

	if (prepare(st, &st->q_head_meta, "SELECT (SELECT value FROM meta WHERE key = 'head_id'),"
	            " (SELECT value FROM meta WHERE key = 'head_hash')", e) < 0)
		return -1;
	rc = sqlite3_step(st->q_head_meta);
	int64_t meta_id = 0;
	char meta_hash[65] = STATE_GENESIS_HASH;
	if (rc == SQLITE_ROW && sqlite3_column_type(st->q_head_meta, 0) != SQLITE_NULL) {
		meta_id = sqlite3_column_int64(st->q_head_meta, 0);
		copy_hash(meta_hash, col_text(st->q_head_meta, 1));
	} else if (rc != SQLITE_ROW) {
		sqlite3_reset(st->q_head_meta);
		return db_fail(st, e, "cannot read the chain head");
	}
	sqlite3_reset(st->q_head_meta);
	if (meta_id != ev_id || strcmp(meta_hash, ev_hash) != 0)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s: the log ends at event %lld but its recorded head "
		                "is event %lld: it was truncated or edited; refusing to append "
		                "(see `pgcutover log --verify`)", st->path, (long long)ev_id, (long long)meta_id);
	st->head_id = ev_id;
	memcpy(st->head_hash, ev_hash, sizeof st->head_hash);
	return 0;
}

static int begin_write(state *st, pgc_err *e)
{
	if (st->readonly)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: opened read-only", st->path);
	if (exec_sql(st, "BEGIN IMMEDIATE", e) < 0) {
		if (e && e->code == PGC_EXIT_TEMPFAIL)
			pgc_fail(e, PGC_EXIT_TEMPFAIL, "%s: locked by another writer for more than %d ms",
			         st->path, STATE_BUSY_TIMEOUT_MS);
		return -1;
	}
	if (read_head(st, e) < 0) {
		exec_sql(st, "ROLLBACK", NULL);
		return -1;
	}
	/* Under the write lock, so nobody can change what the guard read
	 * before the commit: a driver whose lease was taken over writes
	 * nothing, however long ago it last looked. */
	if (st->guard && st->guard(st, st->guard_ud, e) < 0) {
		exec_sql(st, "ROLLBACK", NULL);
		return -1;
	}
	return 0;
}

void state_set_guard(state *st, state_guard_fn fn, void *ud)
{
	st->guard = fn;
	st->guard_ud = ud;
}

void *state_guard_ud(const state *st)
{
	return st->guard_ud;
}

static void abort_write(state *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Records the chain head in meta, in the transaction that moved it: once
 * per commit, not per event, since only the committed head matters. */
static int write_head(state *st, pgc_err *e)
{
	if (prepare(st, &st->q_set_head, "INSERT INTO meta (key, value) VALUES "
	            "('head_id', ?1), ('head_hash', ?2) "
	            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", e) < 0)
		return -1;
	sqlite3_bind_int64(st->q_set_head, 1, st->head_id);
	sqlite3_bind_text(st->q_set_head, 2, st->head_hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st->q_set_head);
	sqlite3_reset(st->q_set_head);
	if (rc != SQLITE_DONE)
		return db_fail(st, e, "cannot record the chain head (nothing was written)");
	return 0;
}

static int commit_write(state *st, pgc_err *e)
{
	if (write_head(st, e) < 0) {
		abort_write(st);
		return -1;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(st, e, "cannot commit (nothing was written)");
		abort_write(st);
		return -1;
	}
	return 0;
}

/* Writes one events row as it is; SQLite's result code, -1 when the
 * statement cannot be prepared (e set). */
static int insert_row(state *st, const st_event *ev, pgc_err *e)
{
	if (prepare(st, &st->q_insert, "INSERT INTO events (" EVENT_COLUMNS ") "
	            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
		return -1;
	sqlite3_stmt *q = st->q_insert;
	sqlite3_bind_int64(q, 1, ev->id);
	sqlite3_bind_double(q, 2, ev->ts);
	sqlite3_bind_text(q, 3, ev->operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, ev->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, ev->pid);
	sqlite3_bind_text(q, 6, ev->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, ev->phase, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, ev->item, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, ev->payload ? ev->payload : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 10, ev->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, ev->hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc;
}

/* Inserts one event after the cached head and moves the cached head. */
static int insert_event(state *st, const char *kind, const char *phase, const char *item,
                        const char *payload, int64_t *id_out, pgc_err *e)
{
	/* SQLite's CHECK validates the JSON; an object is checked here, which
	 * is cheaper than asking SQLite to parse it a second time. */
	const char *p = payload ? payload : "{}";
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p != '{')
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: %s event: payload is not a JSON object",
		                st->path, kind);
	st_event ev = {0};
	ev.id = st->head_id + 1;
	ev.ts = (double)(int64_t)(pgc_now() * STATE_TS_SCALE + 0.5) / STATE_TS_SCALE;
	ev.operator_name = st->operator_name;
	ev.host = st->host;
	ev.pid = st->pid;
	ev.kind = (char *)kind;
	ev.phase = (char *)phase;
	ev.item = (char *)item;
	ev.payload = (char *)(payload ? payload : "{}");
	memcpy(ev.prev_hash, st->head_hash, sizeof ev.prev_hash);
	event_hash(st, &ev, ev.hash);

	int rc = insert_row(st, &ev, e);
	if (rc < 0)
		return -1;
	if (rc != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(st->db)) == SQLITE_CONSTRAINT_CHECK)
			return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: %s event: payload is not a JSON object",
			                st->path, kind);
		return db_fail(st, e, "cannot append an event (nothing was written)");
	}

	st->head_id = ev.id;
	memcpy(st->head_hash, ev.hash, sizeof st->head_hash);
	if (id_out)
		*id_out = ev.id;
	return 0;
}

/* A new file's first event says so; it is written with the first append
 * so that it carries the actor of whoever first wrote. */
static int insert_with_genesis(state *st, const char *kind, const char *phase, const char *item,
                               const char *payload, int64_t *id_out, pgc_err *e)
{
	if (st->head_id == 0 && strcmp(kind, EV_STATE_CREATED) != 0) {
		char created[128];
		snprintf(created, sizeof created, "{\"schema\":%d,\"version\":\"%s\"}",
		         STATE_SCHEMA_VERSION, PACKAGE_VERSION);
		if (insert_event(st, EV_STATE_CREATED, NULL, NULL, created, NULL, e) < 0)
			return -1;
	}
	return insert_event(st, kind, phase, item, payload, id_out, e);
}

int state_append(state *st, const char *kind, const char *phase, const char *item,
                 const char *payload_json, int64_t *id_out, pgc_err *e)
{
	if (st->in_batch) {
		if (st->batch_failed)
			return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: the batch was already rolled back", st->path);
		if (insert_with_genesis(st, kind, phase, item, payload_json, id_out, e) < 0) {
			/* One failed event fails the whole batch: all or nothing. */
			abort_write(st);
			st->batch_failed = true;
			return -1;
		}
		return 0;
	}
	if (begin_write(st, e) < 0)
		return -1;
	if (insert_with_genesis(st, kind, phase, item, payload_json, id_out, e) < 0) {
		abort_write(st);
		return -1;
	}
	return commit_write(st, e);
}

int state_import_event(state *st, const st_event *ev, pgc_err *e)
{
	if (!st->in_batch || st->batch_failed)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: an import runs inside a batch", st->path);
	const char *why = NULL;
	st_chain_fault f = chain_check(st, ev, st->head_id + 1, st->head_hash);
	if (f == ST_CHAIN_ID)
		why = "not the next event: events were removed or reordered";
	else if (f == ST_CHAIN_PREV)
		why = "its previous hash is not the event before's: the chain is broken";
	else if (!ev->kind || !ev->operator_name || !ev->host)
		why = "a kind, operator or host is missing";
	else if (f == ST_CHAIN_HASH)
		why = "its hash does not match its contents: the event was edited";
	if (why) {
		abort_write(st);
		st->batch_failed = true;
		if (ev->id != st->head_id + 1)
			return pgc_fail(e, PGC_EXIT_DATAERR, "event %lld where event %lld was expected: %s",
			                (long long)ev->id, (long long)st->head_id + 1, why);
		return pgc_fail(e, PGC_EXIT_DATAERR, "event %lld (%s): %s", (long long)ev->id,
		                ev->kind ? ev->kind : "?", why);
	}
	int rc = insert_row(st, ev, e);
	if (rc != SQLITE_DONE) {
		if (rc >= 0)
			db_fail(st, e, "cannot import an event (nothing of this batch was written)");
		abort_write(st);
		st->batch_failed = true;
		return -1;
	}
	st->head_id = ev->id;
	memcpy(st->head_hash, ev->hash, sizeof st->head_hash);
	return 0;
}

int state_begin(state *st, pgc_err *e)
{
	if (st->in_batch)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: batch already open", st->path);
	if (begin_write(st, e) < 0)
		return -1;
	st->in_batch = true;
	st->batch_failed = false;
	return 0;
}

int state_commit(state *st, pgc_err *e)
{
	if (!st->in_batch)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: no batch open", st->path);
	st->in_batch = false;
	if (st->batch_failed)
		return pgc_fail(e, PGC_EXIT_IOERR, "%s: an append failed, nothing in the batch was written",
		                st->path);
	return commit_write(st, e);
}

void state_rollback(state *st)
{
	if (st->in_batch)
		abort_write(st);
	st->in_batch = false;
	st->batch_failed = false;
}

/* ---- reading ---- */

static int foreach_rows(state *st, sqlite3_stmt *q, state_event_fn fn, void *ud, pgc_err *e);

int state_foreach(state *st, int64_t after_id, state_event_fn fn, void *ud, pgc_err *e)
{
	/* Not cached: a callback may itself read the state. */
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "SELECT " EVENT_COLUMNS " FROM events WHERE id > ? ORDER BY id",
	                       -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot read events");
	sqlite3_bind_int64(q, 1, after_id);
	return foreach_rows(st, q, fn, ud, e);
}

int state_foreach_kind(state *st, const char *kind, int64_t last_n, state_event_fn fn, void *ud, pgc_err *e)
{
	/* the (kind, id) index finds them without reading the rest of the log */
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "SELECT * FROM (SELECT " EVENT_COLUMNS " FROM events WHERE kind = ? "
	                       "ORDER BY id DESC LIMIT ?) ORDER BY id", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot read events");
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, last_n > 0 ? last_n : -1);
	return foreach_rows(st, q, fn, ud, e);
}

static int foreach_rows(state *st, sqlite3_stmt *q, state_event_fn fn, void *ud, pgc_err *e)
{
	int rc, ret = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		st_event ev;
		row_to_event(q, &ev);
		if ((ret = fn(&ev, ud)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(st, e, "cannot read events");
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	return ret;
}

int64_t state_last_id(state *st)
{
	int64_t id = 0;
	if (query_int(st, "SELECT coalesce(max(id), 0) FROM events", &id, NULL) < 0)
		return -1;
	return id;
}

static int get_one(state *st, sqlite3_stmt *q, st_event **out, pgc_err *e)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		st_event ev;
		row_to_event(q, &ev);
		*out = st_event_dup(&ev);
		sqlite3_reset(q);
		return 1;
	}
	sqlite3_reset(q);
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(st, e, "cannot read events");
}

int state_last_of_kind(state *st, const char *kind, st_event **out, pgc_err *e)
{
	*out = NULL;
	if (prepare(st, &st->q_last_of_kind, "SELECT " EVENT_COLUMNS " FROM events WHERE kind = ? "
	            "ORDER BY id DESC LIMIT 1", e) < 0)
		return -1;
	sqlite3_bind_text(st->q_last_of_kind, 1, kind, -1, SQLITE_TRANSIENT);
	return get_one(st, st->q_last_of_kind, out, e);
}

int state_last_of_kind_at(state *st, const char *kind, const char *name, int64_t upto, st_event **out,
                          pgc_err *e)
{
	*out = NULL;
	sqlite3_stmt *q;
	const char *sql = name ? "SELECT max(id) FROM events WHERE kind = ? AND id <= ? "
	                         "AND json_extract(payload, '$.name') = ?"
	                       : "SELECT max(id) FROM events WHERE kind = ? AND id <= ?";
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot read the events");
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, upto);
	if (name)
		sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	int64_t id = 0;
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (id <= 0)
		return 0;
	return state_get_event(st, id, out, e);
}

int state_foreach_time(state *st, int64_t first, void (*fn)(double ts, void *ud), void *ud, pgc_err *e)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "SELECT ts FROM events WHERE id >= ? ORDER BY id", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_fail(st, e, "cannot read the event times");
	sqlite3_bind_int64(q, 1, first);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		fn(sqlite3_column_double(q, 0), ud);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(st, e, "cannot read the event times");
	return 0;
}

int state_get_event(state *st, int64_t id, st_event **out, pgc_err *e)
{
	*out = NULL;
	if (prepare(st, &st->q_get, "SELECT " EVENT_COLUMNS " FROM events WHERE id = ?", e) < 0)
		return -1;
	sqlite3_bind_int64(st->q_get, 1, id);
	return get_one(st, st->q_get, out, e);
}

int state_data_version(state *st)
{
	if (prepare(st, &st->q_data_version, "PRAGMA data_version", NULL) < 0)
		return -1;
	int v = -1;
	if (sqlite3_step(st->q_data_version) == SQLITE_ROW)
		v = sqlite3_column_int(st->q_data_version, 0);
	sqlite3_reset(st->q_data_version);
	return v;
}

/* ---- verification ---- */

typedef struct verify_ctx {
	int64_t expect_id;
	char prev_hash[65];
	int64_t bad_id;
	pgc_err *e;
	const char *path;
	state *st;
} verify_ctx;

static int verify_one(const st_event *ev, void *ud)
{
	verify_ctx *v = ud;
	st_chain_fault f = chain_check(v->st, ev, v->expect_id, v->prev_hash);
	if (f == ST_CHAIN_ID) {
		v->bad_id = v->expect_id;
		pgc_fail(v->e, PGC_EXIT_DIFFERENT, "%s: event %lld is missing (ids jump from %lld to %lld): "
		                "events were deleted", v->path, (long long)v->expect_id,
		                (long long)v->expect_id - 1, (long long)ev->id);
		return 1;
	}
	if (f == ST_CHAIN_PREV) {
		v->bad_id = ev->id;
		pgc_fail(v->e, PGC_EXIT_DIFFERENT, "%s: event %lld: previous hash does not match "
		                "event %lld: the chain is broken", v->path, (long long)ev->id,
		                (long long)ev->id - 1);
		return 1;
	}
	if (f == ST_CHAIN_HASH) {
		v->bad_id = ev->id;
		pgc_fail(v->e, PGC_EXIT_DIFFERENT, "%s: event %lld: hash does not match its contents: "
		                "the event was edited", v->path, (long long)ev->id);
		return 1;
	}
	memcpy(v->prev_hash, ev->hash, sizeof v->prev_hash);
	v->expect_id++;
	return 0;
}

int state_verify(state *st, int64_t *bad_id, pgc_err *e)
{
	if (bad_id)
		*bad_id = 0;
	/* One read transaction so a concurrent writer cannot move the head
	 * between the chain walk and the meta comparison. */
	bool own_txn = sqlite3_get_autocommit(st->db);
	if (own_txn && exec_sql(st, "BEGIN", e) < 0)
		return -1;
	verify_ctx v = {.expect_id = 1, .e = e, .path = st->path, .st = st};
	memcpy(v.prev_hash, STATE_GENESIS_HASH, sizeof v.prev_hash);
	int rc = state_foreach(st, 0, verify_one, &v, e);
	if (rc == 0) {
		int64_t last = v.expect_id - 1;
		int64_t meta_id = 0;
		char *meta_hash = NULL;
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(st->db, "SELECT (SELECT value FROM meta WHERE key = 'head_id'),"
		                       " (SELECT value FROM meta WHERE key = 'head_hash')", -1, &q, NULL) != SQLITE_OK) {
			rc = db_fail(st, e, "cannot read the chain head");
		} else {
			if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
				meta_id = sqlite3_column_int64(q, 0);
				meta_hash = xstrdup(col_text(q, 1) ? col_text(q, 1) : "");
			}
			sqlite3_finalize(q);
			if (meta_id > last) {
				v.bad_id = last + 1;
				rc = pgc_fail(e, PGC_EXIT_DIFFERENT, "%s: events after %lld are missing: the recorded "
				              "head is event %lld: the log was truncated", st->path,
				              (long long)last, (long long)meta_id);
			} else if (meta_id < last) {
				v.bad_id = meta_id + 1;
				rc = pgc_fail(e, PGC_EXIT_DIFFERENT, "%s: event %lld: not recorded in the chain head "
				              "(head is event %lld): written outside pgcutover or the head was edited",
				              st->path, (long long)meta_id + 1, (long long)meta_id);
			} else if (last > 0 && strcmp(meta_hash ? meta_hash : "", v.prev_hash) != 0) {
				v.bad_id = last;
				rc = pgc_fail(e, PGC_EXIT_DIFFERENT, "%s: event %lld: hash differs from the recorded "
				              "chain head", st->path, (long long)last);
			}
			free(meta_hash);
		}
	} else if (rc > 0) {
		rc = -1;
	}
	if (own_txn)
		exec_sql(st, "COMMIT", NULL);
	if (bad_id)
		*bad_id = v.bad_id;
	return rc < 0 ? -1 : 0;
}

/* ---- snapshots ---- */

/* ---- the snapshot cache of a state only read ---- */

/* Rows are keyed by the hash of the event they stand at: that hash covers
 * every event before it, so a snapshot restores only onto the very log it
 * was folded from, whatever became of the file at that path. */
static const char *const snap_cache_schema =
	"CREATE TABLE IF NOT EXISTS snapshots ("
	"  event_id INTEGER NOT NULL,"
	"  event_hash TEXT NOT NULL,"
	"  runbook_sha256 TEXT NOT NULL,"
	"  created REAL NOT NULL,"
	"  ledger TEXT NOT NULL,"
	"  PRIMARY KEY (runbook_sha256, event_hash))";

static int snap_cache_fail(state *st, pgc_err *e, const char *what)
{
	return sqlite_fail(st->snap_db, st->snap_path, e, what);
}

int state_snapshot_cache(state *st, const char *path, pgc_err *e)
{
	if (st->snap_db)
		return 0;
	if (make_parent_dirs(path, STATE_DIR_MODE, e) < 0)
		return -1;
	/* Created here so it is 0600 whatever the umask. */
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, STATE_FILE_MODE);
	if (fd < 0)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot create the snapshot cache: %s", path,
		                strerror(errno));
	close(fd);
	st->snap_path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->snap_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    (sqlite3_extended_result_codes(st->snap_db, 1), sqlite3_busy_timeout(st->snap_db, STATE_BUSY_TIMEOUT_MS),
	     sqlite3_exec(st->snap_db, snap_cache_schema, NULL, NULL, NULL)) != SQLITE_OK) {
		int rc = st->snap_db ? snap_cache_fail(st, e, "cannot open the snapshot cache")
		                     : pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: out of memory", path);
		sqlite3_close(st->snap_db);
		st->snap_db = NULL;
		free(st->snap_path);
		st->snap_path = NULL;
		return rc;
	}
	return 0;
}

/* The hash of event id in the state: 1, or 0 when there is none. */
static int hash_at(state *st, int64_t id, char out[65])
{
	sqlite3_stmt *q;
	out[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT hash FROM events WHERE id = ?", -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(q, 1, id);
	int found = sqlite3_step(q) == SQLITE_ROW;
	if (found)
		copy_hash(out, col_text(q, 0));
	sqlite3_finalize(q);
	return found && out[0];
}

int64_t state_snapshot_checkpoints(state *st, const char *runbook_sha256, int64_t every, int64_t last,
                                   int format)
{
	if (every <= 0 || last < every)
		return 0;
	size_t n = (size_t)(last / every);
	bool *have = xcalloc(n + 1, sizeof *have);
	static const char *const sql[] = {
		"SELECT event_id, NULL FROM snapshots WHERE runbook_sha256 = ? AND event_id % ? = 0 "
		"AND event_id <= ? AND json_extract(ledger, '$.format') = ?",
		"SELECT event_id, event_hash FROM snapshots WHERE runbook_sha256 = ? AND event_id % ? = 0 "
		"AND event_id <= ? AND json_extract(ledger, '$.format') = ?",
	};
	sqlite3 *dbs[] = {st->db, st->snap_db};
	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *q;
		if (!dbs[k] || sqlite3_prepare_v2(dbs[k], sql[k], -1, &q, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_text(q, 1, runbook_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, every);
		sqlite3_bind_int64(q, 3, last);
		sqlite3_bind_int(q, 4, format);
		while (sqlite3_step(q) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(q, 0);
			char h[65];
			if (id <= 0 || (k == 1 && (!hash_at(st, id, h) || strcmp(h, col_text(q, 1) ? col_text(q, 1) : "") != 0)))
				continue;
			have[id / every] = true;
		}
		sqlite3_finalize(q);
	}
	int64_t count = 0;
	for (size_t i = 1; i <= n; i++)
		count += have[i];
	free(have);
	return count;
}

int state_snapshot_write(state *st, int64_t event_id, const char *runbook_sha256,
                         const char *ledger_json, pgc_err *e)
{
	if (st->snap_db) {
		char h[65];
		if (!hash_at(st, event_id, h))
			return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: no event %lld to snapshot", st->path,
			                (long long)event_id);
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(st->snap_db, "INSERT OR REPLACE INTO snapshots (event_id, event_hash, "
		                       "runbook_sha256, created, ledger) VALUES (?, ?, ?, ?, ?)", -1, &q, NULL) != SQLITE_OK)
			return snap_cache_fail(st, e, "cannot write a snapshot");
		sqlite3_bind_int64(q, 1, event_id);
		sqlite3_bind_text(q, 2, h, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 3, runbook_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_double(q, 4, pgc_now());
		sqlite3_bind_text(q, 5, ledger_json, -1, SQLITE_STATIC);
		int rc = sqlite3_step(q);
		sqlite3_finalize(q);
		return rc == SQLITE_DONE ? 0 : snap_cache_fail(st, e, "cannot write a snapshot");
	}
	if (st->readonly)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: opened read-only", st->path);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO snapshots (event_id, runbook_sha256, "
	                       "created, ledger) VALUES (?, ?, ?, ?)", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot write a snapshot");
	sqlite3_bind_int64(q, 1, event_id);
	sqlite3_bind_text(q, 2, runbook_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_double(q, 3, pgc_now());
	sqlite3_bind_text(q, 4, ledger_json, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(st, e, "cannot write a snapshot");
	return 0;
}

int state_snapshot_read(state *st, int64_t max_event_id, const char *runbook_sha256,
                        int64_t *event_id, char **ledger_json, pgc_err *e)
{
	*ledger_json = NULL;
	*event_id = 0;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "SELECT event_id, ledger FROM snapshots WHERE runbook_sha256 = ? "
	                       "AND event_id <= ? ORDER BY event_id DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, e, "cannot read snapshots");
	sqlite3_bind_text(q, 1, runbook_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, max_event_id);
	int rc = sqlite3_step(q);
	int ret = 0;
	if (rc == SQLITE_ROW) {
		*event_id = sqlite3_column_int64(q, 0);
		*ledger_json = xstrdup(col_text(q, 1) ? col_text(q, 1) : "{}");
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = db_fail(st, e, "cannot read snapshots");
	}
	sqlite3_finalize(q);
	if (ret < 0 || !st->snap_db)
		return ret;
	/* A newer one in the cache, made for this very log (its event's hash). */
	if (sqlite3_prepare_v2(st->snap_db, "SELECT event_id, event_hash, ledger FROM snapshots WHERE "
	                       "runbook_sha256 = ? AND event_id <= ? AND event_id > ? ORDER BY event_id DESC",
	                       -1, &q, NULL) != SQLITE_OK)
		return ret;   /* only a cache: what the state has will do */
	sqlite3_bind_text(q, 1, runbook_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, max_event_id);
	sqlite3_bind_int64(q, 3, *event_id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		char h[65];
		int64_t id = sqlite3_column_int64(q, 0);
		if (!hash_at(st, id, h) || strcmp(h, col_text(q, 1) ? col_text(q, 1) : "") != 0)
			continue;
		free(*ledger_json);
		*event_id = id;
		*ledger_json = xstrdup(col_text(q, 2) ? col_text(q, 2) : "{}");
		ret = 1;
		break;
	}
	sqlite3_finalize(q);
	return ret;
}
