/*
 * replay.c -- the derived state as of any point of a recorded migration (see
 * replay.h).  A state file is read through state.c (ledger_build_at starts
 * from the newest snapshot at or before the target).  A JSONL export is
 * imported once, its chain checked, into a state file in the cache
 * directory, then read like a state: a later replay of the same file opens
 * that and seeks through its snapshots instead of parsing the whole log.
 * When there is no cache directory to write, or the chain is broken, or the
 * log comes on stdin, the export is read into memory and folded from the
 * start, as before.
 * replay_index() leaves checkpoint snapshots every N events so that seeking
 * a long state costs a snapshot read and at most N events of folding.
 * Callers: cmd_replay.c, the console's REPLAY mode.
 */
#include "config.h"
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "pgcutover/ops.h"
#include "pgcutover/action.h"
#include "pgcutover/replay.h"
#include "pgcutover/evpay.h"

/* The first bytes of every SQLite 3 database file. */
#define SQLITE_MAGIC "SQLite format 3"

struct replay_src {
	state *st;        /* a state file, or */
	export_log log;   /* a JSONL export (events[i].id == i + 1) */
	bool jsonl;
	/* JSONL: ledger snapshots kept in memory every REPLAY_SNAPSHOT_EVERY
	 * events (snaps[k] is as of event (k + 1) * every), made by the first
	 * seek past the first checkpoint, for the runbook whose sha256 is
	 * snaps_rb: a JSONL seek then folds at most that many events too. */
	char **snaps; size_t n_snaps;
	char snaps_rb[65];
	bool from_jsonl;  /* the source is a JSONL export (cached or in memory) */
	int chain;        /* JSONL: 1 checked whole, 0 broken, -1 not checked */
	char *cache;      /* JSONL imported: the cache state's path */
	char *snap_cache; /* a state: where its checkpoint snapshots are kept */
};

/* ---- the JSONL cache ---- */

static char *cache_dir(void)
{
	const char *d = getenv("PGCUTOVER_CACHE_DIR");
	if (d && *d)
		return xstrdup(d);
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && *x == '/')
		return xasprintf("%s/pgcutover", x);
	const char *h = getenv("HOME");
	if (h && *h == '/')
		return xasprintf("%s/.cache/pgcutover", h);
	return NULL;
}

/* DIR/jsonl-<path key>-<file key>.db: one cache per export file, replaced
 * when the file changes (size, mtime, inode).  *glob_out gets the pattern of
 * every cache of that path. */
static char *cache_path(const char *dir, const char *path, char **glob_out)
{
	char real[PATH_MAX];
	struct stat sb;
	if (!realpath(path, real) || stat(real, &sb) < 0 || !S_ISREG(sb.st_mode))
		return NULL;
	char pk[65], fk[65];
	pgc_sha256_hex(real, strlen(real), pk);
	char *id = xasprintf("%llu:%llu:%lld:%lld.%09ld", (unsigned long long)sb.st_dev,
	                     (unsigned long long)sb.st_ino, (long long)sb.st_size,
	                     (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
	pgc_sha256_hex(id, strlen(id), fk);
	free(id);
	*glob_out = xasprintf("%s/jsonl-%.16s-*.db", dir, pk);
	return xasprintf("%s/jsonl-%.16s-%.16s.db", dir, pk, fk);
}

/* DIR/snapshots-<path key>.db: checkpoint snapshots of the state at path,
 * which replay only reads (state_snapshot_cache checks each against the
 * log, so a file replaced at that path is no danger). */
static char *snapshot_cache_path(const char *path)
{
	char real[PATH_MAX], pk[65];
	char *dir = cache_dir();
	if (!dir || !realpath(path, real)) {
		free(dir);
		return NULL;
	}
	pgc_sha256_hex(real, strlen(real), pk);
	char *cp = xasprintf("%s/snapshots-%.16s.db", dir, pk);
	free(dir);
	return cp;
}

int replay_snapshots_aside(replay_src *r, pgc_err *e)
{
	if (!r->st || r->from_jsonl || !r->snap_cache)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "no cache directory for snapshots (see PGCUTOVER_CACHE_DIR)");
	return state_snapshot_cache(r->st, r->snap_cache, e);
}

/* A state file with its -wal and -shm. */
static void unlink_db(const char *path)
{
	char side[PATH_MAX + 8];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* Opens the cache cp read-only as r's state (r then owns cp): false when it
 * cannot be opened or holds no events. */
static bool adopt_cache(replay_src *r, char *cp)
{
	state *st = NULL;
	pgc_err oe = {0};
	if (state_open(cp, STATE_OPEN_READONLY, &st, &oe) < 0 || state_last_id(st) <= 0) {
		state_close(st);
		return false;
	}
	r->st = st;
	r->cache = cp;
	return true;
}

/* Opens the cached import of a JSONL export, making it first when there is
 * none (state_open creates the cache directory, 0700).  0 with r->st set;
 * 1 when there is no cache to use (r untouched, e says why when the log's
 * chain is broken); -1 only for a log that cannot be read. */
static int open_cached(replay_src *r, const char *path, pgc_err *e)
{
	char *dir = cache_dir(), *pattern = NULL;
	char *cp = dir ? cache_path(dir, path, &pattern) : NULL;
	free(dir);
	if (!cp)
		return 1;
	if (access(cp, R_OK) == 0 && adopt_cache(r, cp)) {
		free(pattern);
		return 0;
	}
	int rc = 1;
	char *tmp = xasprintf("%s.tmp.%ld", cp, (long)getpid());
	unlink_db(tmp);
	state *st = NULL;
	pgc_err ie = {0};
	bool ok = state_open(tmp, STATE_OPEN_CREATE, &st, &ie) == 0 && export_import_jsonl(path, st, NULL, &ie) == 0;
	state_close(st);
	if (ok && rename(tmp, cp) == 0) {
		glob_t g;
		if (glob(pattern, 0, NULL, &g) == 0) {   /* older caches of this path */
			for (size_t i = 0; i < g.gl_pathc; i++)
				if (strcmp(g.gl_pathv[i], cp) != 0)
					unlink_db(g.gl_pathv[i]);
			globfree(&g);
		}
		rc = adopt_cache(r, cp) ? 0 : 1;
	} else if (ie.code == PGC_EXIT_DATAERR) {
		pgc_fail(e, PGC_EXIT_DATAERR, "%s", ie.msg);
		r->chain = 0;
	} else if (ie.code == PGC_EXIT_NOINPUT) {
		pgc_fail(e, ie.code, "%s", ie.msg);
		rc = -1;
	}
	unlink_db(tmp);   /* what is left of it: all of it, or its -wal and -shm */
	free(tmp);
	free(pattern);
	if (rc != 0)
		free(cp);
	return rc;
}

static bool is_sqlite(const char *path)
{
	char head[sizeof SQLITE_MAGIC] = "";
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	return n == sizeof head && memcmp(head, SQLITE_MAGIC, sizeof SQLITE_MAGIC) == 0;
}

int replay_open(const char *path, replay_src **out, pgc_err *e)
{
	*out = NULL;
	replay_src *r = xcalloc(1, sizeof *r);
	if (strcmp(path, "-") != 0 && is_sqlite(path)) {
		if (state_open(path, STATE_OPEN_READONLY, &r->st, e) < 0) {
			free(r);
			return -1;
		}
		/* Snapshots an earlier replay left aside: used when there. */
		r->snap_cache = snapshot_cache_path(path);
		if (r->snap_cache && access(r->snap_cache, W_OK) == 0)
			state_snapshot_cache(r->st, r->snap_cache, NULL);
	} else {
		r->from_jsonl = true;
		r->chain = -1;
		pgc_err ce = {0};
		int c = strcmp(path, "-") != 0 ? open_cached(r, path, &ce) : 1;
		if (c < 0) {
			pgc_fail(e, ce.code, "%s", ce.msg);
			free(r);
			return -1;
		}
		if (c == 0) {
			r->chain = 1;
			*out = r;
			return 0;
		}
		if (r->chain == 0)
			fprintf(stderr, "pgcutover: WARNING: %s; replaying it as it is (check it with "
			        "`pgcutover export --verify`)\n", ce.msg);
		r->jsonl = true;
		if (export_read_jsonl(path, &r->log, e) < 0) {
			free(r);
			return -1;
		}
		for (size_t i = 0; i < r->log.n; i++)
			if (r->log.events[i].id != (int64_t)i + 1) {
				pgc_fail(e, PGC_EXIT_DATAERR, "%s: line %zu holds event %lld where event %zu was "
				         "expected: not a whole log (check it with `pgcutover export --verify`)",
				         path, i + 1, (long long)r->log.events[i].id, i + 1);
				replay_close(r);
				return -1;
			}
	}
	*out = r;
	return 0;
}

void replay_close(replay_src *r)
{
	if (!r)
		return;
	state_close(r->st);
	free(r->cache);
	free(r->snap_cache);
	export_log_free(&r->log);
	for (size_t i = 0; i < r->n_snaps; i++)
		free(r->snaps[i]);
	free(r->snaps);
	free(r);
}

state *replay_state(replay_src *r)
{
	return r->st;
}

bool replay_is_jsonl(const replay_src *r)
{
	return r->from_jsonl;
}

bool replay_in_memory(const replay_src *r)
{
	return r->jsonl;
}

int replay_chain_checked(const replay_src *r)
{
	return r->from_jsonl ? r->chain : -1;
}

const char *replay_cache_path(const replay_src *r)
{
	return r->cache;
}

int64_t replay_last_id(replay_src *r)
{
	return r->jsonl ? (int64_t)r->log.n : state_last_id(r->st);
}

int replay_event_time(replay_src *r, int64_t id, double *ts, pgc_err *e)
{
	if (r->jsonl) {
		if (id < 1 || id > (int64_t)r->log.n)
			return -1;
		*ts = r->log.events[id - 1].ts;
		return 0;
	}
	st_event *ev = NULL;
	int rc = state_get_event(r->st, id, &ev, e);
	if (rc <= 0)
		return -1;
	*ts = ev->ts;
	st_event_free(ev);
	return 0;
}

int replay_id_at_time(replay_src *r, double t, int64_t *id, pgc_err *e)
{
	int64_t lo = 1, hi = replay_last_id(r), best = 0;
	if (hi < 0)
		return pgc_fail(e, PGC_EXIT_IOERR, "cannot read the log");
	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;
		double ts;
		if (replay_event_time(r, mid, &ts, e) < 0)
			return pgc_fail(e, e && e->code ? e->code : PGC_EXIT_DATAERR, "event %lld is missing "
			                "from the log", (long long)mid);
		if (ts <= t) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	*id = best;
	return 0;
}

typedef struct range_ctx {
	int64_t last;
	state_event_fn fn;
	void *ud;
} range_ctx;

static int range_one(const st_event *ev, void *ud)
{
	range_ctx *c = ud;
	if (ev->id > c->last)
		return 1;
	return c->fn(ev, c->ud);
}

int replay_foreach(replay_src *r, int64_t first, int64_t last, state_event_fn fn, void *ud, pgc_err *e)
{
	if (first < 1)
		first = 1;
	if (r->jsonl) {
		for (int64_t i = first; i <= last && i <= (int64_t)r->log.n; i++) {
			int rc = fn(&r->log.events[i - 1], ud);
			if (rc)
				return rc;
		}
		return 0;
	}
	range_ctx c = {last, fn, ud};
	int rc = state_foreach(r->st, first - 1, range_one, &c, e);
	return rc < 0 ? -1 : 0;
}

/* One fold of a JSONL log leaving a snapshot every REPLAY_SNAPSHOT_EVERY
 * events (see struct replay_src). */
static void jsonl_index(replay_src *r, const runbook *rb)
{
	for (size_t i = 0; i < r->n_snaps; i++)
		free(r->snaps[i]);
	free(r->snaps);
	r->n_snaps = r->log.n / REPLAY_SNAPSHOT_EVERY;
	r->snaps = xcalloc(r->n_snaps ? r->n_snaps : 1, sizeof *r->snaps);
	ledger *lg = ledger_new(rb);
	for (size_t i = 0; i < r->n_snaps * REPLAY_SNAPSHOT_EVERY; i++) {
		ledger_apply(lg, &r->log.events[i]);
		if ((i + 1) % REPLAY_SNAPSHOT_EVERY == 0)
			r->snaps[i / REPLAY_SNAPSHOT_EVERY] = ledger_snapshot_json(lg);
	}
	ledger_free(lg);
	snprintf(r->snaps_rb, sizeof r->snaps_rb, "%s", rb->sha256);
}

int replay_build(replay_src *r, const runbook *rb, int64_t event_id, ledger **out, pgc_err *e)
{
	if (!r->jsonl)
		return ledger_build_at(rb, r->st, event_id, out, e);
	if (event_id > (int64_t)r->log.n)
		event_id = (int64_t)r->log.n;
	if (event_id >= REPLAY_SNAPSHOT_EVERY && strcmp(r->snaps_rb, rb->sha256) != 0)
		jsonl_index(r, rb);
	ledger *lg = ledger_new(rb);
	int64_t from = 0;
	size_t k = event_id >= REPLAY_SNAPSHOT_EVERY ? (size_t)(event_id / REPLAY_SNAPSHOT_EVERY) : 0;
	if (k > r->n_snaps)
		k = r->n_snaps;
	if (k > 0 && ledger_restore_snapshot(lg, r->snaps[k - 1], (int64_t)k * REPLAY_SNAPSHOT_EVERY, NULL) == 0) {
		from = (int64_t)k * REPLAY_SNAPSHOT_EVERY;
	} else if (k > 0) {
		ledger_free(lg);   /* a snapshot that does not restore: fold it all */
		lg = ledger_new(rb);
	}
	for (int64_t i = from; i < event_id; i++)
		ledger_apply(lg, &r->log.events[i]);
	*out = lg;
	return 0;
}

int replay_recorded_runbook(replay_src *r, int64_t upto, char **path, char sha256[65], pgc_err *e)
{
	*path = NULL;
	sha256[0] = '\0';
	if (r->jsonl) {
		for (int64_t i = (upto < (int64_t)r->log.n ? upto : (int64_t)r->log.n); i >= 1; i--)
			if (strcmp(r->log.events[i - 1].kind, EV_RUNBOOK_LOADED) == 0 &&
			    ops_read_runbook_loaded(r->log.events[i - 1].payload, path, sha256))
				return 1;
		/* Before the first load (upto too early): the first one recorded. */
		for (size_t i = 0; i < r->log.n; i++)
			if (strcmp(r->log.events[i].kind, EV_RUNBOOK_LOADED) == 0)
				return ops_read_runbook_loaded(r->log.events[i].payload, path, sha256);
		return 0;
	}
	/* The newest load is what the current snapshots were folded over; an
	 * earlier one only matters when the runbook changed mid-migration,
	 * and the ledger follows moved items by hash anyway. */
	st_event *ev = NULL;
	int rc = state_last_of_kind(r->st, EV_RUNBOOK_LOADED, &ev, e);
	if (rc <= 0)
		return rc;
	rc = ops_read_runbook_loaded(ev->payload, path, sha256);
	st_event_free(ev);
	return rc;
}

/* Whether an event's payload has "name": name. */
static bool payload_names(const char *payload, const char *name)
{
	evr_flag_set f;   /* the kinds looked up by name, flag_set and flag_drift, both have "name" */
	evr_flag_set_read(payload, &f);
	bool yes = f.name && strcmp(f.name, name) == 0;
	evr_flag_set_free(&f);
	return yes;
}

/* The newest event of a kind at or before upto, whose payload names `name`
 * when name is not NULL: a scan back through a JSONL log, one indexed
 * query on a state file. */
static int last_at(replay_src *r, const char *kind, const char *name, int64_t upto, st_event **out, pgc_err *e)
{
	*out = NULL;
	if (r->jsonl) {
		for (int64_t i = upto < (int64_t)r->log.n ? upto : (int64_t)r->log.n; i >= 1; i--)
			if (strcmp(r->log.events[i - 1].kind, kind) == 0 &&
			    (!name || payload_names(r->log.events[i - 1].payload, name))) {
				*out = st_event_dup(&r->log.events[i - 1]);
				return 1;
			}
		return 0;
	}
	return state_last_of_kind_at(r->st, kind, name, upto, out, e);
}

int replay_last_of_kind_at(replay_src *r, const char *kind, int64_t upto, st_event **out, pgc_err *e)
{
	return last_at(r, kind, NULL, upto, out, e);
}

int replay_last_named_at(replay_src *r, const char *kind, const char *name, int64_t upto, st_event **out,
                         pgc_err *e)
{
	return last_at(r, kind, name, upto, out, e);
}

int replay_flag_at(replay_src *r, const char *name, int64_t upto, st_event **out, char **value,
                   bool *by_hand, pgc_err *e)
{
	st_event *set = NULL, *drift = NULL;
	*out = NULL;
	*value = NULL;
	*by_hand = false;
	if (last_at(r, EV_FLAG_SET, name, upto, &set, e) < 0 || last_at(r, EV_FLAG_DRIFT, name, upto, &drift, e) < 0) {
		st_event_free(set);
		st_event_free(drift);
		return -1;
	}
	if (drift && (!set || drift->id > set->id)) {
		evr_flag_drift d;
		evr_flag_drift_read(drift->payload, &d);
		*value = d.absent ? NULL : d.value;
		d.value = NULL;
		evr_flag_drift_free(&d);
		*by_hand = true;
		*out = drift;
		st_event_free(set);
	} else if (set) {
		*value = evr_flag_set_new(set->payload);
		*out = set;
		st_event_free(drift);
	}
	return *out ? 1 : 0;
}

/* ---- checkpoint snapshots ---- */

typedef struct index_ctx {
	ledger *lg;
	state *st;
	const runbook *rb;
	int64_t every;
	int format;
	int written;
	pgc_err *e;
	bool failed;
} index_ctx;

/* The snapshot format this build writes: snapshots of another format (an
 * older pgcutover) do not restore and count as missing. */
static int snapshot_format(const runbook *rb)
{
	ledger *lg = ledger_new(rb);
	char *json = ledger_snapshot_json(lg);
	cJSON *root = cJSON_Parse(json);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
	int fmt = cJSON_IsNumber(f) ? f->valueint : -1;
	cJSON_Delete(root);
	free(json);
	ledger_free(lg);
	return fmt;
}

static bool snapshot_exists(state *st, const runbook *rb, int64_t id, int fmt)
{
	int64_t got = 0;
	char *json = NULL;
	int rc = state_snapshot_read(st, id, rb->sha256, &got, &json, NULL);
	bool ok = false;
	if (rc == 1 && got == id) {
		cJSON *root = cJSON_Parse(json);
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
		ok = cJSON_IsNumber(f) && f->valueint == fmt;
		cJSON_Delete(root);
	}
	free(json);
	return ok;
}

static int index_one(const st_event *ev, void *ud)
{
	index_ctx *c = ud;
	ledger_apply(c->lg, ev);
	if (ev->id % c->every == 0 && !snapshot_exists(c->st, c->rb, ev->id, c->format)) {
		char *json = ledger_snapshot_json(c->lg);
		int rc = state_snapshot_write(c->st, ev->id, c->rb->sha256, json, c->e);
		free(json);
		if (rc < 0) {
			c->failed = true;
			return 1;
		}
		c->written++;
	}
	return 0;
}

bool replay_indexed(state *st, const runbook *rb, int64_t every)
{
	int64_t last = state_last_id(st);
	/* One query per store, not one snapshot read per checkpoint: it runs on
	 * every replay start. */
	return state_snapshot_checkpoints(st, rb->sha256, every, last, snapshot_format(rb)) == last / every;
}

int replay_index(const runbook *rb, state *st, int64_t every, int *written, pgc_err *e)
{
	if (written)
		*written = 0;
	if (every <= 0)
		every = REPLAY_SNAPSHOT_EVERY;
	int64_t last = state_last_id(st);
	/* Start from the last checkpoint below the first missing one. */
	int fmt = snapshot_format(rb);
	int64_t start = 0;
	while (start + every <= last && snapshot_exists(st, rb, start + every, fmt))
		start += every;
	if (start + every > last)
		return 0;
	ledger *lg = NULL;
	if (ledger_build_at(rb, st, start, &lg, e) < 0)
		return -1;
	index_ctx c = {.lg = lg, .st = st, .rb = rb, .every = every, .format = fmt, .e = e};
	/* Each snapshot commits on its own: a driver appending meanwhile waits
	 * for one short write, never for the whole fold. */
	int rc = state_foreach(st, start, index_one, &c, e);
	ledger_free(lg);
	if (rc < 0 || c.failed)
		return -1;
	if (written)
		*written = c.written;
	return 0;
}

/* ---- timeline ---- */

typedef struct times_ctx {
	double *t;
	size_t n, cap;
} times_ctx;

static int times_one(const st_event *ev, void *ud)
{
	times_ctx *c = ud;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->t = xrealloc(c->t, c->cap * sizeof *c->t);
	}
	c->t[c->n++] = ev->ts;
	return 0;
}

static void time_one(double ts, void *ud)
{
	st_event ev = {.ts = ts};
	times_one(&ev, ud);
}

int replay_times(replay_src *r, double **times, size_t *n, pgc_err *e)
{
	return replay_times_from(r, 1, times, n, e);
}

int replay_times_from(replay_src *r, int64_t first, double **times, size_t *n, pgc_err *e)
{
	times_ctx c = {0};
	if (!r->jsonl ? state_foreach_time(r->st, first, time_one, &c, e) < 0 : replay_foreach(r, first, INT64_MAX, times_one, &c, e) < 0) {
		free(c.t);
		return -1;
	}
	*times = c.t;
	*n = c.n;
	return 0;
}

double replay_compress(const double *times, size_t n, double max_gap, double *out)
{
	if (n == 0)
		return 0;
	out[0] = 0;
	for (size_t i = 1; i < n; i++) {
		double gap = times[i] - times[i - 1];
		if (gap < 0)
			gap = 0;
		if (max_gap > 0 && gap > max_gap)
			gap = max_gap;
		out[i] = out[i - 1] + gap;
	}
	return out[n - 1];
}

/* ---- what an operator asks of a replay ---- */

int replay_command_at(replay_src *r, int64_t upto, replay_command *out, pgc_err *e)
{
	memset(out, 0, sizeof *out);
	int rc = replay_last_of_kind_at(r, EV_COMMAND_START, upto, &out->start, e);
	if (rc <= 0)
		return rc;
	evr_command_start_read(out->start->payload, &out->cmd);
	st_event *end = NULL;
	rc = replay_last_of_kind_at(r, EV_COMMAND_END, upto, &end, e);
	if (rc < 0) {
		replay_command_free(out);
		return -1;
	}
	if (rc == 1 && evp_command_closes(end->payload) == out->start->id) {
		out->end = end;
		evr_command_end_read(end->payload, &out->result);
	} else {
		st_event_free(end);
	}
	return 0;
}

void replay_command_free(replay_command *c)
{
	if (!c)
		return;
	st_event_free(c->start);
	st_event_free(c->end);
	evr_command_start_free(&c->cmd);
	evr_command_end_free(&c->result);
	memset(c, 0, sizeof *c);
}

/* Half the microsecond events are stored with: above a double's step at
 * today's times (2.4e-7 s), so t + unit - it is still below t + unit. */
#define REPLAY_AT_EPSILON 5e-7
#define SECS_PER_MIN 60
#define SECS_PER_DAY 86400

/* HH:MM[:SS] alone: 0 with the fields and the unit, else -1. */
static int clock_only(const char *s, int *h, int *m, int *sec, double *unit)
{
	int len = 0;
	*sec = 0;
	if (sscanf(s, "%2d:%2d%n", h, m, &len) != 2 || len < 3)
		return -1;
	*unit = SECS_PER_MIN;
	if (s[len] == ':') {
		int l2 = 0;
		if (sscanf(s + len, ":%2d%n", sec, &l2) != 1)
			return -1;
		len += l2;
		*unit = 1;
	}
	if (s[len] != '\0' || *h < 0 || *h > 23 || *m < 0 || *m > 59 || *sec < 0 || *sec > 60)
		return -1;
	return 0;
}

int replay_parse_at(const char *text, double ref, double *t, double *upto)
{
	int h, m, sec;
	double unit = 1;
	if (!text)
		return -1;
	if (clock_only(text, &h, &m, &sec, &unit) == 0) {
		time_t base = (time_t)ref;
		struct tm tm;
		localtime_r(&base, &tm);
		for (int day = 0; day < 2; day++) {
			struct tm c = tm;
			c.tm_mday += day;
			c.tm_hour = h;
			c.tm_min = m;
			c.tm_sec = sec;
			c.tm_isdst = -1;
			*t = (double)mktime(&c);
			if (*t + unit > ref)
				break;   /* not over before the log began: this day's */
		}
	} else {
		if (pgc_parse_time(text, t) < 0)
			return -1;
		/* to the unit written: "...T03:12" the minute, ":05" the second,
		 * ".123" the millisecond, a date alone the day */
		const char *colon = strchr(text, ':'), *dot = strrchr(text, '.');
		int colons = 0;
		for (const char *p = text; *p; p++)
			colons += *p == ':';
		if (dot && (!colon || dot > strrchr(text, ':')))
			for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++)
				unit /= 10;
		else if (colons == 1)
			unit = SECS_PER_MIN;
		else if (!colon && strchr(text, '-') && strlen(text) <= 10)
			unit = SECS_PER_DAY;
	}
	*upto = *t + unit - REPLAY_AT_EPSILON;
	return 0;
}
