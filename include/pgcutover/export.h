/*
 * export.h -- the audit log out of the state file: JSONL (one event a line,
 * every field including prev_hash and hash, so the chain can be verified
 * from the file alone and replayed without the state), and a Markdown
 * post-mortem report (timeline, who did what when, planned vs actual time
 * per phase, downtime, counts, rollbacks, failed commands).  Used by
 * `pgcutover export` and by replay.c to read a JSONL log.
 *
 * JSONL line: {"id":N,"ts":SECS.MICROS,"time":"ISO","operator":..,"host":..,
 * "pid":N,"kind":..,"phase":..|null,"item":..|null,"prev_hash":..,"hash":..,
 * "payload":{...}}.  The payload is written as the exact text stored (the
 * hash covers those bytes) and is always the last member, which is how a
 * reader gets its exact text back.
 */
#ifndef PGCUTOVER_EXPORT_H
#define PGCUTOVER_EXPORT_H

#include <stdio.h>
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"

/* The JSONL line of one event (no newline).  New string. */
char *export_event_line(const st_event *ev);
/* Parses one line into ev (strings owned; free with st_event_clear).
 * -1 with e (PGC_EXIT_DATAERR) when the line is not an event. */
int export_parse_line(const char *line, st_event *ev, pgc_err *e);

/* Writes every event of st (after after_id) to out, one line each. */
int export_jsonl(state *st, int64_t after_id, FILE *out, int64_t *n_out, pgc_err *e);

/* A JSONL log read into memory, in file order. */
typedef struct export_log {
	st_event *events;
	size_t n;
} export_log;
int export_read_jsonl(const char *path, export_log *log, pgc_err *e);
void export_log_free(export_log *log);
/* Appends every event of a JSONL export to st (a new, empty state) as it
 * was recorded, checking the chain as it goes (state_import_event), in
 * batches; -1 with the file and line of the first bad event. */
int export_import_jsonl(const char *path, state *st, int64_t *n_out, pgc_err *e);

/* Checks the chain of a JSONL file: ids 1, 2, 3 ..., each prev_hash the
 * previous hash (the first the genesis), each hash recomputed.  0 intact
 * (*n_events and head_hash set); 1 tampered with *bad_line (1-based), e
 * naming the line and event, and *n_events the intact events before it;
 * -1 when the file cannot be read.  A removed tail leaves a shorter valid
 * chain: compare the head with `log --verify`. */
int export_verify_jsonl(const char *path, int64_t *n_events, char head_hash[65],
                        int64_t *bad_line, pgc_err *e);

/* What a chain check found, for `log --verify --json` and `export --verify
 * --json`: one shape for both, so a script reads either the same way. */
typedef struct chain_verdict {
	bool intact;
	int64_t events;      /* intact: the chain's length; broken: the intact events before the bad one */
	const char *head;    /* intact: the last event's hash */
	int64_t bad_event;   /* broken: the first bad event's id (the id expected there) */
	int64_t bad_line;    /* broken, in a JSONL file: its line (1-based); 0 for a state */
	const char *error;   /* broken: what is wrong */
} chain_verdict;

/* {"intact","events","head","bad_event","bad_line","error"}: every key
 * always present, null where it does not apply.  New string (pretty). */
char *export_verdict_json(const chain_verdict *v);

/* Markdown post-mortem from the events (in id order).  rb may be NULL (no
 * planned durations then).  New string. */
typedef struct export_md export_md;
export_md *export_md_new(const runbook *rb, const char *source_name);
void export_md_add(export_md *md, const st_event *ev);
char *export_md_finish(export_md *md);   /* frees md */

#endif
