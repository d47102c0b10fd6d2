/*
 * evpay.h -- event payloads: one typed writer and one typed reader per
 * event kind, side by side, so the JSON text of every kind is spelled in
 * one place (evpay.c).  Every state_append() takes its payload from a
 * writer here: ops_payload_* for the operator's own kinds (the ops of
 * ops.h), evp_*_write for the rest; src/cli and src/ui neither build nor
 * parse payload text (evp_embed hands a --json document the stored text as
 * JSON).  The payload text is hash-chained and exported: a writer
 * must keep its keys, their order and their number format, so a change
 * here is a change to the log format (tests/unit/test_evpay.c pins them).
 *
 * Writers take the typed record and return malloc'd JSON text; they mask
 * and sanitise where the kind's values may hold a secret or a control
 * character (a masker NULL masks only inline passwords).  Readers never
 * fail: a missing or malformed field reads as absent (NULL, has_* false,
 * 0), since an old log may predate it.  Strings are the payload's own
 * text (already masked by the writer); the caller frees the struct with
 * its _free function.
 */
#ifndef PGCUTOVER_EVPAY_H
#define PGCUTOVER_EVPAY_H

#include <stdbool.h>
#include <stdint.h>
#include "pgcutover/action.h"
#include "pgcutover/compare.h"
#include "pgcutover/health.h"
#include "pgcutover/lease.h"
#include "pgcutover/ledger.h"
#include "pgcutover/runbook.h"
#include "pgcutover/seqsync.h"
#include "pgcutover/freeze.h"
#include "pgcutover/goboard.h"
#include "pgcutover/syncwatch.h"
#include "pgcutover/verify.h"

struct cJSON;

/* ---- the operator's kinds (ops.h): tick, untick, note, phase_complete,
 * phase_override, downtime_start/end, duty_done, session_start/end,
 * runbook_loaded/changed; the operator's words are masked by the op before
 * the text is recorded ---- */
char *ops_payload_tick(const char *hash, const char *note);
/* The tick a command run records on a zero exit: start_id = its command_start. */
char *ops_payload_tick_auto(const char *hash, const char *note, int64_t start_id);
char *ops_payload_untick(const char *hash, const char *reason);
char *ops_payload_note(const char *text, const char *hash);
char *ops_payload_phase_complete(int done, int total, const char *gate, bool gate_overridden);
/* item: the tick that completes the phase (or NULL); open_phase: the
 * earlier phase still open (order override); gate: the failing gate (gate
 * override).  One of open_phase/gate. */
char *ops_payload_phase_override(const char *reason, const char *item, const char *open_phase,
                                 const char *gate);
char *ops_payload_downtime_start(const char *reason, int plan_min);
char *ops_payload_downtime_end(double elapsed_s, int plan_min, bool over);
char *ops_payload_duty_done(const char *hash, const char *note);
char *ops_payload_session_start(const char *mode);
/* {"sha256","path","phases","items":[[id,hash],..]} and the diff with
 * from_sha256/to_sha256 */
char *ops_payload_runbook_loaded(const runbook *rb, const lg_item_ref *refs, size_t n);
char *ops_payload_runbook_changed(const lg_runbook_diff *d, const char *from, const char *to);
char *ops_payload_session_end(const char *reason);

/* The fields of any of the operator's kinds, each NULL (or -1) when the
 * payload has none. */
typedef struct evr_op {
	char *hash;               /* tick, untick, note, duty_done: the item's text hash */
	char *note;               /* tick, duty_done */
	char *text;               /* note */
	char *reason;             /* untick, phase_override, downtime_start, session_end */
	char *status;             /* phase_override: the status it forces */
	char *gate_overridden;    /* phase_complete: the gate completed past */
	double elapsed_s;         /* downtime_end */
	double planned_s;         /* downtime_start/end */
} evr_op;

void evr_op_read(const char *payload, evr_op *out);
void evr_op_free(evr_op *o);

/* A runbook_loaded payload's path (new string) and sha256: 1 when it names
 * a path, 0 when not (*path NULL, sha256 ""). */
int ops_read_runbook_loaded(const char *payload, char **path, char sha256[65]);
/* The "items":[[id,hash],...] of a runbook_loaded payload (*refs: free());
 * -1 (PGC_EXIT_DATAERR) when it has no items list. */
int ops_read_runbook_items(const char *payload_json, lg_item_ref **refs, size_t *n, pgc_err *e);
/* A runbook_loaded payload's sha256 ("" when absent), path or not. */
void ops_read_runbook_sha256(const char *payload, char sha256[65]);
/* A runbook_loaded event's payload for a person (`pgcutover log`): the
 * items list replaced by how many there are; NULL for another kind or a
 * payload without one (then show it as stored).  free(). */
char *ops_runbook_loaded_brief(const st_event *ev);

/* ---- command_start (action.c) ---- */
/* {"command","shell","workdir","timeout_s","segments","flags":[names],
 *  "vars":{name:value},["item_hash",]"rollback"}; command, workdir and
 * var values masked with m, secret-named vars as ***. */
char *evp_command_start_write(const act_plan *plan, const act_masker *m);

typedef struct evr_command_start {
	char *command;          /* NULL when absent */
	char *item_hash;        /* the item's text hash when it ran; NULL when absent */
	bool rollback;          /* a rollback step's command */
} evr_command_start;

void evr_command_start_read(const char *payload, evr_command_start *out);
void evr_command_start_free(evr_command_start *c);

/* ---- command_end (action.c) ---- */
/* {"start_id","status","exit" (null for an error),"signal",["signal_name",]
 *  "duration_s","output_head","output_tail","output_bytes","truncated",
 *  "segment",["error"]}: output and error masked with m. */
char *evp_command_end_write(const act_result *res, const char *output_head, const char *output_tail,
                            const act_masker *m);

typedef struct evr_command_end {
	int64_t start_id;       /* 0 when absent */
	bool has_exit;
	int exit_code;
	char *status;           /* "ok", "failed", "timeout"...; NULL when absent */
	bool has_duration;
	double duration_s;
	char *output_head, *output_tail;   /* NULL when absent */
	char *error;            /* why pgcutover stopped it; NULL when absent */
} evr_command_end;

void evr_command_end_read(const char *payload, evr_command_end *out);
void evr_command_end_free(evr_command_end *c);

/* ---- command_unknown (act_recover_unknown) ---- */
/* {"start_id","pid","host","message"} */
char *evp_command_unknown_write(int64_t start_id, int pid, const char *host, const char *message);
/* The start_id a command_end or command_unknown closes; 0 when absent. */
int64_t evp_command_closes(const char *payload);

/* ---- flag_set (action.c) ---- */
typedef struct evp_flag_set {
	const char *name;
	const char *file;          /* the env_file; NULL recorded as null */
	const envfile_set_result *sr;
	const char *new_hmac;      /* of the new value (act_flag_hmac), or NULL */
	int64_t start_id;          /* the run that set it; 0 manual */
	bool rollback;             /* a restore by a rollback */
	bool manual;               /* `pgcutover flags set` (written only when true) */
} evp_flag_set;

/* {"name","old","new","file","backup","changed","sha256",["new_hmac",]
 *  "start_id","rollback",["manual":true]}: old and new as *** for a
 * secret-named flag, values and paths masked with m. */
char *evp_flag_set_write(const evp_flag_set *f, const act_masker *m);

typedef struct evr_flag_set {
	char *name, *old_value, *new_value;   /* NULL when absent (old: was unset) */
	char *file, *sha256, *new_hmac;       /* NULL when absent */
	bool rollback;                        /* a rollback's restore */
} evr_flag_set;

void evr_flag_set_read(const char *payload, evr_flag_set *out);
void evr_flag_set_free(evr_flag_set *f);
/* flag_set: the new value as recorded (masked when secret); NULL when absent. */
char *evr_flag_set_new(const char *payload);

/* ---- flag_drift (flags.c) ---- */
/* A declared flag found in the env_file with another value than
 * pgcutover last wrote there (a hand edit), recorded once per value. */
typedef struct evp_flag_drift {
	const char *name;
	const char *file;          /* the env_file */
	const char *value;         /* in the file now as shown (act_flag_shown), NULL when the flag is gone */
	const char *last_set;      /* pgcutover's last write as recorded (masked) */
	const char *hmac;          /* act_flag_hmac of the value now, or NULL (no key, or gone) */
	const char *sha256;        /* of the file as read */
	const char *noticed_by;    /* "console", "flags --record" */
} evp_flag_drift;

/* {"name","file","value","absent","last_set",["hmac",]"sha256","noticed_by"}:
 * the value as *** for a secret-named flag, values masked with m. */
char *evp_flag_drift_write(const evp_flag_drift *d, const act_masker *m);

typedef struct evr_flag_drift {
	char *name, *file, *value, *last_set, *hmac, *noticed_by;   /* NULL when absent */
	bool absent;               /* the flag was gone from the file */
} evr_flag_drift;

void evr_flag_drift_read(const char *payload, evr_flag_drift *out);
void evr_flag_drift_free(evr_flag_drift *d);
/* What tells one drift from another: "h:HMAC", else "absent", else
 * "v:" and the value as recorded.  New string. */
char *evr_flag_drift_key(const char *hmac, bool absent, const char *value);

/* ---- phase_rolled_back (rollback.c) ---- */
/* [{"name",from_key,to_key}] of rb's flag restores, values shown as
 * act_flag_shown() does: the payload's "restored" and the dry run's
 * "restore" list. */
struct cJSON *evp_rollback_restores(const act_rollback *rb, const char *from_key, const char *to_key);
/* {"restored":[{name,from,to}],"steps":[{"item"[,"start_id","status","exit"]}],
 *  "past_point_of_no_return",["rows_gained","rows_gained_exact"]};
 * step_results: rb->n_steps results in order, or NULL. */
char *evp_rolled_back_write(const act_rollback *rb, const act_result *step_results);

typedef struct evr_rolled_back {
	bool past_point_of_no_return;
	int64_t rows_gained;       /* -1 when not recorded */
	bool rows_gained_exact;
	size_t n_restored, n_steps;
} evr_rolled_back;

void evr_rolled_back_read(const char *payload, evr_rolled_back *out);

/* ---- phase_rollback_failed (rollback.c) ----
 * {"failed_at": item id or "restore","status","exit"[,"error"],
 *  "restored":[names written before the failure],"flags": how many the
 *  rollback restores,"steps":[{"item","start_id","status","exit"}] of
 *  the steps that ran}; failed: the result of the stage that failed. */
char *evp_rollback_failed_write(const act_rollback *rb, const char *failed_at, const act_result *failed,
                                const act_result *step_results, size_t n_steps_ran,
                                const char *const *restored, size_t n_restored);

typedef struct evr_rollback_failed {
	char *failed_at;           /* item id, or "restore" */
	size_t n_restored, n_flags;
} evr_rollback_failed;

void evr_rollback_failed_read(const char *payload, evr_rollback_failed *out);
void evr_rollback_failed_free(evr_rollback_failed *f);

/* ---- counts (compare.c) ---- */
/* The compact snapshot: {"match","exact","tables":[{"table","source",
 * "target" (null when -1),"exact","match","state"}]}; r->summary is not
 * written. */
char *evp_counts_write(const cmp_rec *r);
/* The one reader (see cmp_rec in compare.h): 0, or -1 when payload_json is
 * not a JSON object (*out then empty). */
int cmp_rec_read(const char *payload_json, cmp_rec *out);
void cmp_rec_free(cmp_rec *r);
const cmp_rec_table *cmp_rec_find(const cmp_rec *r, const char *table);

/* ---- health (health.c) ---- */
/* {"all_ok","checks":[{"name","url","item","ok","status","latency_ms",
 *  "expect_status","expect_body","body_matched","error"}]}: the url's
 * password masked, text sanitised. */
char *evp_health_write(const hc_check *c, const hc_result *r, size_t n);

typedef struct evr_health {
	int n_checks, n_ok;
	char *failing;          /* names of the failing checks, ", "-joined ("" none) */
} evr_health;

void evr_health_read(const char *payload, evr_health *out);
void evr_health_free(evr_health *h);

/* ---- lease_acquired, lease_released, lease_takeover (lease.c) ---- */
/* {"command"[,"held_s"]}: held_s < 0 is not written (acquired). */
char *evp_lease_write(const char *command, double held_s);
/* {"reason","automatic","from":{"operator","host","pid","command",
 *  "acquired_at","heartbeat_at"[,"started"]}} */
char *evp_lease_takeover_write(const lease_info *from, const char *reason, bool automatic);

typedef struct evr_lease {
	char *command;          /* acquired/released; the holder's for a takeover */
	double held_s;          /* released; -1 when absent */
	char *reason;           /* takeover; NULL otherwise */
	bool automatic;
	char *from_operator, *from_host;   /* takeover: the previous holder */
	int from_pid;
} evr_lease;

void evr_lease_read(const char *payload, evr_lease *out);
void evr_lease_free(evr_lease *l);

/* ---- rehearsal (rehearsal.c) ---- */
/* {"note"}: masked with act_masker_new(cfg) (the note may quote a secret). */
char *evp_rehearsal_write(const config *cfg, const char *note);
/* The note; NULL when absent. */
char *evr_rehearsal_note(const char *payload);

/* ---- sequences_synced (seqsync.h, `pgcutover sequences sync`) ---- */
/* The report as JSON: {"offset","floor","behind","low","unowned",
 * "sequences":[{"sequence","type","kind","table","column","source":{..}|null,
 * "target":{..}|null,"want","behind","statement","problem"}]}, a side
 * {"last_value" (null: not yet called),"max_value","col_max","headroom",
 * "low","error"}; int64 values written exactly.  `sequences --json`
 * prints it; the writer below records it. */
struct cJSON *evp_sequences_json(const seq_report *r);
/* The report above plus "applied" (setval()s that took effect) and
 * "error" (null when the transaction committed): the target's old values
 * are its "target" objects, the new ones "want" where "statement" is set. */
char *evp_sequences_write(const seq_report *r, size_t applied, const char *error);

/* ---- freeze, freeze_applied, freeze_released (freeze.h) ---- */
/* {"mode","verdict","evidence":"stats"|"counts","quiet_s","watched_s",
 *  "quiet_for_s","samples","writes_seen","last_write","who","commits",
 *  "written":[{"table","rows"}],"sessions":[{"role","application_name",
 *  "client","count","writing","ignored"}],"ignore":[..],"queries",
 *  "query_ms_mean" (the watch's load on the source),"error"}.
 * verdict: "proven", "write_seen", "interrupted", "failed". */
char *evp_freeze_write(const frz_watch *w, const char *mode, const char *verdict, double now,
                       const char *error);
typedef struct evr_freeze {
	char *verdict;          /* NULL when absent */
	char *evidence;         /* "stats" or "counts" (weaker) */
	char *who;
	double quiet_s, quiet_for_s;
} evr_freeze;
void evr_freeze_read(const char *payload, evr_freeze *out);
void evr_freeze_free(evr_freeze *f);
/* {"roles":[..],"statements":[..],"ran","error"} */
char *evp_freeze_apply_write(char *const *roles, char *const *sql, size_t ran, const char *error);
/* The roles of a freeze_applied payload (NULL-terminated; sch_strv_free), NULL none. */
char **evr_freeze_roles(const char *payload);

/* ---- go_board, go_decision (goboard.h) ---- */
/* {"go","at","freeze_at","switch_item","red","inputs":{KEY:{"status",
 *  "value","measured_at","stale"}}} */
char *evp_go_board_write(const go_board *b);
/* A verdict and its words: a go_board's "go" and "red" (the red inputs),
 * a sync's "caught_up" and "words". */
typedef struct evr_verdict {
	bool ok;
	char *words;            /* NULL when absent */
} evr_verdict;
void evr_verdict_read(const char *payload, const char *ok_key, const char *words_key, evr_verdict *out);
void evr_verdict_free(evr_verdict *v);
/* {"decision":"go"|"override","reason","why","board_event","board":{..}}:
 * reason NULL for a go; board_payload embedded as recorded (null none). */
char *evp_go_decision_write(const char *reason, const char *why, int64_t board_event, const char *board_payload);
/* A go_decision's reason and board as Markdown list lines for the
 * post-mortem: "  - reason: ...\n  - freeze: green, proven: quiet 30 s\n".
 * Sanitised; malloc'd. */
char *evp_go_decision_md(const char *payload);

/* ---- sync (syncwatch.h) ---- */
/* {"mode":"logical"|"script","caught_up","words","stalled","source_lsn",
 *  "post_freeze_lsn","subscriptions":[{"name","enabled","slot","slot_active",
 *  "wal_status","retained_bytes","confirmed_lsn","lag_bytes","lag_s",
 *  "tables":{"copying","synced","ready","other"},"past_freeze"}]}; the go
 * board reads "caught_up" and "words" (evr_verdict_read). */
char *evp_sync_write(const sync_report *r, bool stalled);
/* The post_freeze_lsn a sync payload recorded (malloc'd), NULL none. */
char *evr_sync_post_lsn(const char *payload);
/* ---- verify (verify.c) ---- */
/* vfy_result_json(vs, VFY_KEYS_RECORDED): {"equal","complete","summary",
 * "tables":[{"table","equal","state","rows","missing","extra","changed",
 * "changed_columns","missing_n","extra_n","changed_n","schema","error",
 * "rechecked","ranges":[{"lo":[text…]|null,"hi":[text…]|null}]}]}, the
 * first VFY_KEYS_RECORDED differing keys of each kind and differing key
 * ranges per table (the ranges are what the next run re-checks first). */
char *evp_verify_write(const vfy_session *vs);

/* A key range that differed: its bounds' key texts (NULL = open). */
typedef struct evr_verify_range {
	char **lo, **hi;
	size_t n_lo, n_hi;
	bool page;        /* "bounds": "(]": a REST source's page, after lo up
	                   * to and with hi (else from lo up to before hi) */
} evr_verify_range;

typedef struct evr_verify_table {
	char *table;
	bool equal;
	char *state;            /* vfy_state_key() word, or NULL */
	evr_verify_range *ranges;   /* "ranges": where it differed, for the next run */
	size_t n_ranges;
} evr_verify_table;

typedef struct evr_verify {
	bool equal, complete;
	char *summary;          /* NULL when absent */
	evr_verify_table *tables;
	size_t n_tables;
} evr_verify;

void evr_verify_read(const char *payload, evr_verify *out);
void evr_verify_free(evr_verify *v);

/* ---- any kind ---- */
/* "  reason: x  text: y" from whichever of reason, text, note, mode and
 * message the payload has (non-empty strings, in that order); "" none. */
char *evr_why(const char *payload);
/* What an event's payload says at a glance, "" when its kind has nothing
 * to say: a command_end's status (unless ok/failed), exit code and duration,
 * "exit 127 (0.4s)"; a counts snapshot's verdict in the words of
 * cmp_tally_words(), "1 differ, 1 equal" (" (estimates)" unless exact).  `pgcutover log` puts it before the payload, and
 * evp_event_line() after the item.  Sanitised; new string. */
char *evp_event_brief(const st_event *ev);
/* An event in one line for a person: "alice      command_end     5.5
 * exit 127 (0.4s)" -- operator, kind, item or phase, then evp_event_brief()
 * and evr_why().  The console's event strip and log show it.  Sanitised;
 * new string. */
char *evp_event_line(const st_event *ev);
/* The same, with a tick's or untick's item text from rb after its id
 * (cut to 60 bytes): "alice      tick            1.2 \"Copy the data\"".
 * rb NULL: as evp_event_line(). */
char *evp_event_line_rb(const st_event *ev, const runbook *rb);
/* A command's duration in brief: "0.009s", "0.4s", "2m05s" ("?" below 0),
 * as the event line and the console's item rows show it. */
#define EVP_DURATION_MAX 32
void evp_brief_duration(double s, char *buf, size_t n);
/* Every field of an event, one per line ("key: value", nested objects
 * indented, a multi-line string's lines below its key), for the console's
 * event detail and its search: the payload as stored (masked by its
 * writer), each line sanitised.  New string, lines joined by '\n'. */
char *evp_event_detail(const st_event *ev);
/* For JSON written beside the payloads (a plan's dry run): o[key] = v as
 * the audit records it, masked with m and sanitised (null for NULL); a
 * flag's value as *** when its name looks secret. */
void evp_json_add_clean(struct cJSON *o, const char *key, const act_masker *m, const char *v);
/* Compact text of o (malloc'd), which it frees: how every writer ends. */
char *evp_json_text(struct cJSON *o);
void evp_json_add_flag_value(struct cJSON *o, const char *key, const act_masker *m, const char *name,
                             const char *v);
/* The stored payload as a JSON value to embed in a --json document (the
 * caller owns it; cJSON_Delete); NULL when it is not JSON. */
struct cJSON *evp_embed(const char *payload);

#endif
