/*
 * replay.h -- time travel through a recorded migration: the derived state
 * (a ledger) as of any event or time, from a state file or a JSONL export
 * (export.h).  From a state file, seeking starts at the newest ledger
 * snapshot at or before the target (ledger_build_at), so it costs at most
 * REPLAY_SNAPSHOT_EVERY events of folding once replay_index() has left
 * snapshots along the log.  Also: the timeline's event times with idle gaps
 * compressed (-i SECONDS), and the runbook a log was recorded against.
 * Used by `pgcutover replay` and by the console's REPLAY mode.
 */
#ifndef PGCUTOVER_REPLAY_H
#define PGCUTOVER_REPLAY_H

#include "pgcutover/ledger.h"
#include "pgcutover/export.h"
#include "pgcutover/evpay.h"

/* Events between checkpoint snapshots written by replay_index(). */
#define REPLAY_SNAPSHOT_EVERY 10000

typedef struct replay_src replay_src;

/* Opens a state file (read-only) or a JSONL export, told apart by the
 * SQLite header.  A JSONL export is imported once, its chain checked, into
 * a state file in the cache directory ($PGCUTOVER_CACHE_DIR, else
 * $XDG_CACHE_HOME/pgcutover, else ~/.cache/pgcutover) named after the
 * file's path and identity, and read from there, then and later; without
 * a writable cache, from stdin ("-") or when its chain is broken (said on
 * stderr) it is read into memory.  A JSONL log must be a whole run of
 * events from event 1. */
int replay_open(const char *path, replay_src **out, pgc_err *e);
void replay_close(replay_src *r);
/* The state handle (a JSONL export's cache too), or NULL for a log read
 * into memory. */
state *replay_state(replay_src *r);
bool replay_is_jsonl(const replay_src *r);    /* the source is a JSONL export */
bool replay_in_memory(const replay_src *r);   /* read into memory, no state */
/* A JSONL export: 1 when its hash chain was checked whole (on import), 0
 * when it is broken, -1 when not checked (read into memory); a state file:
 * -1 (`pgcutover verify` checks one). */
int replay_chain_checked(const replay_src *r);
/* The JSONL export's cache state file, or NULL. */
const char *replay_cache_path(const replay_src *r);
/* A state replayed: keeps its checkpoint snapshots in the cache directory
 * (snapshots-<key>.db beside the JSONL imports) from now on, since replay
 * never writes to the state it reads; replay_open() uses such a cache when
 * an earlier replay left one.  -1 when there is no cache directory. */
int replay_snapshots_aside(replay_src *r, pgc_err *e);
int64_t replay_last_id(replay_src *r);

/* The id of the last event at or before time t (0 when t is before the
 * first event).  Event times never go backwards within a log (one writer
 * at a time), so this is a binary search. */
int replay_id_at_time(replay_src *r, double t, int64_t *id, pgc_err *e);
/* One event's time; -1 when there is no such event. */
int replay_event_time(replay_src *r, int64_t id, double *ts, pgc_err *e);
/* Calls fn for events first..last (inclusive) in id order (the event is
 * valid during fn); stops when fn returns non-zero. */
int replay_foreach(replay_src *r, int64_t first, int64_t last, state_event_fn fn, void *ud, pgc_err *e);

/* The newest event of a kind at or before upto (the command running at the
 * cursor: command_start, and its command_end when that is <= upto; the
 * last health or flag_set): 1 and *out (free with st_event_free), 0 none,
 * -1 error.  Uses the (kind, id) index of a state file. */
int replay_last_of_kind_at(replay_src *r, const char *kind, int64_t upto, st_event **out, pgc_err *e);

/* The same for the newest event of a kind whose payload names `name`
 * ({"name": name}: a flag_set of one flag). */
int replay_last_named_at(replay_src *r, const char *kind, const char *name, int64_t upto, st_event **out,
                         pgc_err *e);

/* A flag's value in the .env as the log knew it at upto: its newest
 * flag_set (pgcutover's write) or flag_drift (a hand edit it saw),
 * whichever came last.  1 with *out (st_event_free), *value (as recorded,
 * masked; NULL when removed; free()) and *by_hand; 0 none; -1 error. */
int replay_flag_at(replay_src *r, const char *name, int64_t upto, st_event **out, char **value,
                   bool *by_hand, pgc_err *e);

/* The ledger over rb as of event_id (0 = before anything happened). */
int replay_build(replay_src *r, const runbook *rb, int64_t event_id, ledger **out, pgc_err *e);

/* The runbook path and sha256 recorded by the last runbook_loaded event at
 * or before upto: 1 found (*path malloc'd), 0 none, -1 error. */
int replay_recorded_runbook(replay_src *r, int64_t upto, char **path, char sha256[65], pgc_err *e);

/* Writes the missing ledger snapshots every `every` events of st (opened
 * read-write, or read-only with a state_snapshot_cache) over rb, folding the log once.  *written (may be NULL) is
 * how many were added.  Snapshots are a cache: no lease needed. */
int replay_index(const runbook *rb, state *st, int64_t every, int *written, pgc_err *e);
/* Whether snapshots of rb cover st every `every` events (so seeking is fast). */
bool replay_indexed(state *st, const runbook *rb, int64_t every);

/* Every event's time, in id order (times[0] is event 1).  New array. */
int replay_times(replay_src *r, double **times, size_t *n, pgc_err *e);
/* The times of events first.. (a log that grew since it was opened). */
int replay_times_from(replay_src *r, int64_t first, double **times, size_t *n, pgc_err *e);
/* Idle gaps compressed: out[i] is event i's position on a timeline where
 * every gap longer than max_gap counts as max_gap (max_gap <= 0: none),
 * out[0] = 0.  Returns the compressed length in seconds. */
double replay_compress(const double *times, size_t n, double max_gap, double *out);


/* The command running at event upto, or the last one run by then: the
 * newest command_start at or before it, and its command_end when that is
 * at or before upto too (else it was still running).  `replay --at --json`
 * and the console's replay line both present this. */
typedef struct replay_command {
	st_event *start;            /* NULL: no command had started by then */
	evr_command_start cmd;      /* start's payload */
	st_event *end;              /* its end by then; NULL: still running */
	evr_command_end result;     /* end's payload, when end */
} replay_command;
/* 0 (out->start may be NULL), -1 error. */
int replay_command_at(replay_src *r, int64_t upto, replay_command *out, pgc_err *e);
void replay_command_free(replay_command *c);

/* A time an operator gives `replay --at` or the console's t: HH:MM[:SS]
 * (local time: the first such clock time that has not ended before ref, the
 * log's first event, so a night that crosses midnight reads as a person
 * means it) or what pgc_parse_time reads (a date and time, Unix seconds).
 * *t is the time meant; *upto the end of the unit written (the minute, the
 * second, the millisecond, the day), less a hair, so the event a time was
 * copied from `log` is included.  -1 when text is not a time. */
int replay_parse_at(const char *text, double ref, double *t, double *upto);

#endif
