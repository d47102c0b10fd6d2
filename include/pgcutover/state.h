/*
 * state.h -- the SQLite state file: an append-only, hash-chained audit log of
 * events.  Everything the console shows is derived from these events (see
 * ledger.h).  state_append() is the one function that writes events.
 *
 * The file is opened in WAL mode with synchronous=FULL so a kill -9 or power
 * loss never loses an event that state_append() reported written.
 */
#ifndef PGCUTOVER_STATE_H
#define PGCUTOVER_STATE_H

#include "pgcutover/util.h"

typedef struct state state;

enum {
	STATE_OPEN_READONLY = 1 << 0,  /* SQLITE_OPEN_READONLY: monitors */
	STATE_OPEN_CREATE   = 1 << 1,  /* create file (0600) and dir (0700) */
	STATE_OPEN_GROUP_READ = 1 << 2,/* read-write: file, -wal, -shm g+r (0640), dir g+rx */
};

/* One event as stored.  Strings owned by the event. */
typedef struct st_event {
	int64_t id;          /* 1, 2, 3 ... */
	double ts;           /* unix seconds */
	char *operator_name;
	char *host;
	int pid;
	char *kind;          /* see EV_* below */
	char *phase;         /* NULL when not about a phase */
	char *item;          /* NULL when not about an item */
	char *payload;       /* JSON object text, "{}" when empty */
	char prev_hash[65];
	char hash[65];
} st_event;

/* Event kinds. */
#define EV_STATE_CREATED   "state_created"
#define EV_RUNBOOK_LOADED  "runbook_loaded"   /* payload: sha256, items [[id,hash],..] */
#define EV_RUNBOOK_CHANGED "runbook_changed"  /* payload: moved/appeared/vanished */
#define EV_TICK            "tick"             /* payload: hash, note? */
#define EV_UNTICK          "untick"           /* payload: hash, reason */
#define EV_NOTE            "note"             /* payload: text */
#define EV_PHASE_COMPLETE  "phase_complete"
#define EV_PHASE_OVERRIDE  "phase_override"   /* payload: reason */
#define EV_PHASE_ROLLED_BACK "phase_rolled_back" /* payload: restored flags, steps */
#define EV_PHASE_ROLLBACK_FAILED "phase_rollback_failed" /* payload: failed_at, restored flags */
#define EV_COUNTS          "counts"           /* payload: snapshot of all tables */
#define EV_DOWNTIME_START  "downtime_start"   /* payload: reason */
#define EV_DOWNTIME_END    "downtime_end"
#define EV_DUTY_DONE       "duty_done"        /* item: a recurring duty; payload: hash, note? */
#define EV_SESSION_START   "session_start"
#define EV_SESSION_END     "session_end"
#define EV_SEQUENCES_SYNCED "sequences_synced" /* payload: evp_sequences_write */
#define EV_FREEZE          "freeze"           /* payload: evp_freeze_write */
#define EV_FREEZE_APPLIED  "freeze_applied"   /* payload: evp_freeze_apply_write */
#define EV_FREEZE_RELEASED "freeze_released"  /* payload: evp_freeze_apply_write */
#define EV_SYNC            "sync"             /* payload: evp_sync_write */
#define EV_GO_BOARD        "go_board"         /* payload: evp_go_board_write */
#define EV_GO_DECISION     "go_decision"      /* item: the switch; payload: evp_go_decision_write */
#define EV_VERIFY          "verify"           /* payload: row-level verify run (evp_verify_write) */

int state_open(const char *path, int flags, state **out, pgc_err *e);
void state_close(state *st);
const char *state_path(const state *st);

/* Who writes: recorded in every event appended through this handle. */
void state_set_actor(state *st, const char *operator_name, const char *host);

/* Appends one event in its own transaction, fsynced before returning.
 * phase/item may be NULL; payload_json NULL means "{}".  On success *id_out
 * (when non-NULL) is the new event id. */
int state_append(state *st, const char *kind, const char *phase, const char *item,
                 const char *payload_json, int64_t *id_out, pgc_err *e);

/* Calls fn for each event with id > after_id, in id order, until fn returns
 * non-zero (that value is returned).  The event is only valid during fn. */
typedef int (*state_event_fn)(const st_event *ev, void *ud);
int state_foreach(state *st, int64_t after_id, state_event_fn fn, void *ud, pgc_err *e);
/* The same over the events of one kind only, the last last_n of them
 * (0 = all), oldest first; through the kind index, so a long log is not
 * read whole. */
int state_foreach_kind(state *st, const char *kind, int64_t last_n, state_event_fn fn, void *ud, pgc_err *e);

int64_t state_last_id(state *st);

/* Re-computes the hash chain.  Returns 0 when intact; -1 with e naming the
 * first bad event id (and *bad_id set) otherwise.  An edit breaks the
 * event's hash, a deletion leaves a gap in the ids or breaks the next
 * prev_hash; a removed tail leaves a valid shorter chain, so every commit
 * also records the head (last id and hash) in the `meta` table and verify
 * compares it.  Someone who rewrites events, hashes and meta together is
 * not caught: compare the head `log --verify` prints with a copy kept
 * elsewhere for that. */
int state_verify(state *st, int64_t *bad_id, pgc_err *e);

/* Cheap change detection for followers (PRAGMA data_version). */
int state_data_version(state *st);

/* Read-only opens of a WAL state that no driver has open (no -shm) in a
 * directory the reader cannot write fall back to an immutable snapshot
 * (SQLite's ?immutable=1): data_version then never changes, so followers
 * watch the file with state_file_changed().  A -wal or -shm the reader
 * cannot read is refused with what to chmod (PGC_EXIT_NOPERM). */
bool state_is_immutable(const state *st);
/* Whether the file at the state's path is not the one last opened: another
 * inode (a copy renamed over it: rsync, mv), another size or mtime (cp or
 * scp over it, or a driver's checkpoint), or, for a snapshot, a driver that
 * opened it since (its -shm appeared).  1 changed (*replaced: new inode),
 * 0 not, -1 the file is missing right now. */
int state_file_changed(state *st, bool *replaced);
/* Opens the file at the path again (read-only handles only), keeping the
 * old handle when the new open fails. */
int state_reopen(state *st, pgc_err *e);

/* The canonical text hashed for an event (exposed for export/import). */
char *state_event_canonical(const st_event *ev);

/* A copy of an event that outlives the callback it came to (free with
 * st_event_free); missing strings become "" and a missing payload "{}". */
st_event *st_event_dup(const st_event *src);
void st_event_free(st_event *ev);
/* Frees the strings of an event that owns them (a copy, or one parsed from
 * an export) and zeroes it; the event itself is the caller's. */
void st_event_clear(st_event *ev);

/* Schema version stored in PRAGMA user_version; older files are migrated
 * forward on a read-write open, newer ones are refused. */
#define STATE_SCHEMA_VERSION 1
int state_schema_version(state *st);
bool state_is_readonly(const state *st);

/* The lease row (one, id 1) that lease.c keeps in the state file; its
 * policy is lease.c's, only the storage is here, so no module outside
 * state.c sees SQLite.  state_lease_table creates the table or adds the
 * start-time column an older pgcutover's lacks, inside the caller's
 * state_begin().  state_lease_read: 1 and *out (lease_info_free), 0 when
 * nobody holds it (no row, or no table yet), -1.  state_lease_beat moves
 * the heartbeat of the row li holds to now: 1, or 0 when the row is no
 * longer li's (taken over).  All -1 with e in an operator's words ("the
 * disk is full", "read-only") and the exit status it deserves. */
struct lease_info;
int state_lease_table(state *st, pgc_err *e);
int state_lease_read(state *st, struct lease_info *out, pgc_err *e);
int state_lease_write(state *st, const struct lease_info *li, pgc_err *e);
int state_lease_beat(state *st, const struct lease_info *li, double now, pgc_err *e);
int state_lease_delete(state *st, pgc_err *e);

/* Explicit transaction for appending many events at once (import, bench):
 * state_append() inside state_begin()..state_commit() does not commit (or
 * fsync) each event; either all of them are written or none. */
int state_begin(state *st, pgc_err *e);

/* A check every write transaction runs first, under the write lock (after
 * BEGIN IMMEDIATE, before any event): -1 with e set refuses the write and
 * nothing is written.  The lease installs one ("am I still the driver",
 * lease.h), so no writer has to poll for a takeover.  NULL fn removes it. */
typedef int (*state_guard_fn)(state *st, void *ud, pgc_err *e);
void state_set_guard(state *st, state_guard_fn fn, void *ud);
void *state_guard_ud(const state *st);   /* the installed guard's ud, or NULL */
/* Where an event breaks a hash chain that expects event expect_id after
 * prev_hash: its id, its previous hash, or its own hash (recomputed from
 * its canonical form).  The one check behind state_verify(),
 * state_import_event() and `export --verify`. */
typedef enum st_chain_fault { ST_CHAIN_OK, ST_CHAIN_ID, ST_CHAIN_PREV, ST_CHAIN_HASH } st_chain_fault;
st_chain_fault state_chain_check(const st_event *ev, int64_t expect_id, const char *prev_hash);

/* Event times the chain binds one-to-one: finite, from 1970 up to
 * STATE_TS_MAX, and a whole number of microseconds (as state_append()
 * stores them and an export prints them).  Returns why ts is not one
 * ("is not a finite number", ...), or NULL when it is; imports refuse the
 * others, since two of them could share a hash. */
#define STATE_TS_MAX 4102444800.0   /* 2100-01-01T00:00:00Z */
const char *state_ts_problem(double ts);
/* Inside a batch: appends an event recorded elsewhere (an export) as it is,
 * its id, time, actor and hashes kept.  Refused, and the batch rolled back,
 * unless it is the next id, chains to the head and its hash matches its
 * contents (PGC_EXIT_DATAERR, saying which). */
int state_import_event(state *st, const st_event *ev, pgc_err *e);
int state_commit(state *st, pgc_err *e);
void state_rollback(state *st);

/* The newest event of a kind.  Returns 1 and *out (free with st_event_free),
 * 0 when there is none, -1 on error. */
int state_last_of_kind(state *st, const char *kind, st_event **out, pgc_err *e);
/* The same at or before event upto, and (name not NULL) whose payload's
 * "name" is name: one indexed query (replay). */
int state_last_of_kind_at(state *st, const char *kind, const char *name, int64_t upto, st_event **out,
                          pgc_err *e);
/* fn with the time of each event from id first on, in order, and nothing
 * else: a timeline of a million events builds none of them (replay). */
int state_foreach_time(state *st, int64_t first, void (*fn)(double ts, void *ud), void *ud, pgc_err *e);

/* Fetches one event by id: 1 found, 0 missing, -1 error. */
int state_get_event(state *st, int64_t id, st_event **out, pgc_err *e);

/* Snapshots of derived state (ledger JSON) as of an event, so replay and
 * open need no full fold.  They are a cache, not part of the hash chain:
 * deleting them loses nothing.  runbook_sha256 says which runbook the
 * ledger was folded over.  state_snapshot_read finds the newest snapshot
 * with event_id <= max_event_id for that runbook: 1 found, 0 none, -1 error. */
/* Keeps st's snapshots in the SQLite file at path (created 0600, its
 * directory 0700) rather than in the state: for a state only read (replay),
 * which must never be written.  state_snapshot_write then writes there and
 * state_snapshot_read also looks there, using a cached snapshot only when
 * the event it stands at has the same hash in st (so it is this very log). */
int state_snapshot_cache(state *st, const char *path, pgc_err *e);
/* How many of the checkpoints every, 2 every, ... up to last have a snapshot
 * for runbook_sha256 of ledger format `format`, in st or its cache. */
int64_t state_snapshot_checkpoints(state *st, const char *runbook_sha256, int64_t every, int64_t last,
                                   int format);
int state_snapshot_write(state *st, int64_t event_id, const char *runbook_sha256,
                         const char *ledger_json, pgc_err *e);
int state_snapshot_read(state *st, int64_t max_event_id, const char *runbook_sha256,
                        int64_t *event_id, char **ledger_json, pgc_err *e);

#endif
