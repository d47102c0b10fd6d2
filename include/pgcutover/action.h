/*
 * action.h -- running a runbook item's command block on cutover night.
 *
 * Two steps, so the console and `pgcutover run` show the same thing before
 * anything happens:
 *   1. act_plan_item() turns an item's block into a plan: shell segments and
 *      .env flag edits in block order (a NAME=VALUE line whose NAME is a
 *      declared flag), the flag values they would change, the variables the
 *      command uses that nobody defined.  A plan changes nothing (dry run).
 *   2. act_start() runs the plan inside the caller's loop (loop.h): each shell
 *      segment under /bin/sh -c (bash for `bash` blocks) in its own process
 *      group, in the config's workdir, with non-blocking pipes (proc.h:
 *      started by proc_spawn(), its end reported on SIGCHLD by the loop's
 *      child registry); each run of flag edits with no command between
 *      them (comments aside) through one envfile_set_many(): one atomic
 *      write, one backup, so the file never holds half of them.  Nothing
 *      blocks; hooks report output, flag changes and the end.  act_cancel() (Ctrl-C in the console) and
 *      the timeout send SIGTERM to the group, SIGKILL after a grace period.
 * From the console (one run at a time, all in its loop):
 *     act_plan_item(cfg, rb, id, &plan, &e);        show act_plan_describe(plan)
 *     ask for plan->missing_vars -> act_plan_set_var(); confirm (typed id when
 *       plan->needs_typed_confirm)
 *     act_start(lp, plan, cfg, &(act_opts){.st = st}, &hooks, ud, &run, &e);
 *     hooks.output: mask with act_masker_apply(act_get_masker(run), ..) and
 *       pgc_sanitize_n() before drawing; hooks.done: show the result, then
 *       act_free(run) and act_plan_free(plan) outside the hook
 *     Ctrl-C in the output pane: act_cancel(run)
 * Every run is audited through state_append(): command_start, flag_set,
 * command_end (output head and tail capped, secrets masked, control
 * characters replaced; the payloads' writers and readers are in evpay.h).
 * act_recover_unknown() closes the command_start
 * events of a pgcutover that died while its command ran (command_unknown).
 */
#ifndef PGCUTOVER_ACTION_H
#define PGCUTOVER_ACTION_H

#include <stdbool.h>
#include <stdint.h>
#include "pgcutover/util.h"
#include "pgcutover/config.h"
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"
#include "pgcutover/loop.h"
#include "pgcutover/envfile.h"
#include "pgcutover/ledger.h"

/* Event kinds appended by this module (payloads: see action.c's header
 * comment and pgcutover(1), AUDIT EVENTS). */
#define EV_COMMAND_START     "command_start"
#define EV_COMMAND_END       "command_end"
#define EV_COMMAND_UNKNOWN   "command_unknown"
#define EV_FLAG_SET          "flag_set"
#define EV_FLAG_DRIFT        "flag_drift"   /* a hand edit of a declared flag (flags.c) */
#define EV_PHASE_ROLLED_BACK "phase_rolled_back"

/* The audit keeps the first and the last bytes of the output. */
#define ACT_OUTPUT_HEAD_MAX (32 * 1024)
#define ACT_OUTPUT_TAIL_MAX (32 * 1024)
/* Output is masked a line at a time; a longer line in pieces this long. */
#define ACT_OUTPUT_LINE_MAX (64 * 1024)
/* Between SIGTERM and SIGKILL to the command's process group. */
#define ACT_KILL_GRACE_MS 3000
/* Waiting loops turn the loop in slices this long: loop_once() runs due
 * timers before it polls, so an end reached in a timer would otherwise
 * leave poll() waiting with nothing left to wake it. */
#define ACT_WAIT_SLICE_MS 50
/* Secret values shorter than this are not masked: a MONKEY=true in the
 * environment would otherwise turn every "true" in the output into ***. */
#define ACT_MASK_MIN_LEN 6
#define ACT_MASK "***"
#define ACT_UNKNOWN_END_MESSAGE "end unknown: pgcutover exited while it ran"

typedef enum act_seg_kind {
	ACT_SEG_SHELL,   /* text run by the shell */
	ACT_SEG_FLAG,    /* name=value written to the config's env_file */
} act_seg_kind;

typedef struct act_segment {
	act_seg_kind kind;
	char *text;        /* ACT_SEG_SHELL: the lines, as in the block */
	char *name;        /* ACT_SEG_FLAG */
	char *value;
	char *old_value;   /* ACT_SEG_FLAG: value in the file when planned, NULL if absent */
	int line;          /* runbook line of the segment's first line (0 when unknown) */
} act_segment;

typedef struct act_var {
	char *name;
	char *value;
} act_var;

typedef struct act_plan {
	char item_id[RB_ID_MAX];   /* "" for a plan that is only flag restores */
	char phase_id[RB_ID_MAX];
	char item_hash[17];
	char *item_text;
	char *shell;               /* "/bin/sh" or "/bin/bash" */
	char *command;             /* the whole block text */
	char *workdir;
	char *env_file;            /* NULL when the config names none */
	int env_backups;           /* backups of env_file a flag edit keeps */
	int timeout_s;
	act_segment *segs; size_t n_segs;
	char **missing_vars; size_t n_missing_vars;  /* used, defined nowhere */
	char **preflight; size_t n_preflight;        /* act_preflight() of the shell
	                                              * segments: "pm2 not on PATH" */
	act_var *vars; size_t n_vars;                /* answers, given once to the child */
	bool needs_typed_confirm;  /* phase 5 or a rollback step: type the id or yes */
	bool rollback;             /* the item is a rollback step */
} act_plan;

/* Plans the runnable block of item_id.  Fails (PGC_EXIT_DATAERR) when the
 * item has no runnable block, or has flag edits and the config no env_file. */
int act_plan_item(const config *cfg, const runbook *rb, const char *item_id,
                  act_plan **out, pgc_err *e);
/* A plan that only writes flags (rollback restores).  names/values n long. */
act_plan *act_plan_flags(const config *cfg, const char *phase_id,
                         const char *const *names, const char *const *values, size_t n);
void act_plan_free(act_plan *p);
/* Copies the segments of flags (a plan of act_plan_flags) into p before
 * segs[at] (a rollback's restores, written with a step's flag lines). */
void act_plan_insert_flags(act_plan *p, size_t at, const act_plan *flags);
/* Gives a missing variable a value for this run (removes it from missing). */
void act_plan_set_var(act_plan *p, const char *name, const char *value);
/* The end of the run of flag segments that starts at segs[from]: the
 * index after its last flag segment, comment-only shell segments between
 * them included (a run is applied as one write).  from when segs[from] is
 * not a flag. */
size_t act_plan_flag_run(const act_plan *p, size_t from);
/* Flag segments whose value differs from the file's now. */
size_t act_plan_flag_changes(const act_plan *p);
/* Pre-flight of a block's shell text: the first word of each command (after
 * NAME=value, if/then/do/!...; not builtins, keywords, the block's own
 * functions, words with $ or `; here-documents and comments skipped) that
 * is not there: "pm2 not on PATH", "./x.sh not found in WORKDIR", "./x.sh
 * is not executable" (a word with a slash, from workdir).  *out malloc'd,
 * n long; each string malloc'd.  act_plan_item fills plan->preflight. */
size_t act_preflight(const char *text, const char *workdir, char ***out);
/* Dry-run description (JSON object text, secrets masked); malloc'd. */
char *act_plan_json(const act_plan *p);
/* Human text of the plan (what would run), secrets masked; malloc'd. */
char *act_plan_describe(const act_plan *p);

/* True when name is a flag declared in the config or the runbook. */
bool act_is_declared_flag(const config *cfg, const runbook *rb, const char *name);
/* Names used as $NAME / ${NAME} in text that the text does not assign and
 * that have no default (${NAME:-x}); specials ($1, $?, ...) excluded. */
size_t act_used_vars(const char *text, char ***names_out);

typedef enum act_status {
	ACT_RUNNING,
	ACT_OK,          /* every segment ended with exit 0 */
	ACT_FAILED,      /* a shell segment exited non-zero: later segments not run */
	ACT_SIGNALLED,   /* killed by a signal we did not send */
	ACT_TIMED_OUT,
	ACT_CANCELLED,
	ACT_ERROR,       /* could not start, or a flag edit failed */
} act_status;

typedef struct act_result {
	act_status status;
	int exit_code;       /* shell exit status; 128+signal when signalled */
	int signal;          /* 0, or the signal that ended the shell */
	double duration_s;
	size_t output_bytes; /* stdout + stderr, all of it */
	bool truncated;      /* the audit holds only head and tail */
	int failed_segment;  /* index, or -1 */
	int64_t start_event_id;
	bool ticked;         /* auto-ticked after a zero exit */
	int error_code;      /* PGC_EXIT_* for ACT_ERROR */
	char error[PGC_ERR_MAX];
} act_result;

const char *act_status_name(act_status s);
/* Exit status for `pgcutover run`: the command's, 124 for a timeout
 * (as timeout(1)), 130 cancelled, PGC_EXIT_* for ACT_ERROR. */
int act_result_exit(const act_result *r);

/* Callbacks from the loop.  All optional.  Output comes masked (the run's
 * masker) in whole lines, framed once here for every surface (`run` and
 * the console add none of their own): a call holds one or more whole
 * lines, or a piece of a line longer than ACT_OUTPUT_LINE_MAX, or the
 * last line without a newline when the segment ends.  So a secret split
 * across two reads is never passed on in halves.  It is not sanitised:
 * do that before drawing (pgc_sanitize_n). */
typedef struct act_hooks {
	void (*output)(void *ud, int stream /* 1 stdout, 2 stderr */, const char *data, size_t n);
	void (*flag)(void *ud, const char *name, const char *old_value, const char *new_value,
	             const char *backup_path);
	void (*done)(void *ud, const act_result *res);
} act_hooks;

typedef struct act_opts {
	state *st;          /* audit; NULL = not recorded (tests only) */
	bool auto_tick;     /* append a tick after a zero exit */
	int grace_ms;       /* 0 = ACT_KILL_GRACE_MS */
	/* extra secrets to mask (e.g. a key the caller read), may be NULL */
	const char *const *secrets; size_t n_secrets;
} act_opts;

typedef struct act_run act_run;
typedef struct act_masker act_masker;

/* Starts the plan (which must outlive the run).  Appends command_start
 * before returning.  Returns 0, or -1 when nothing could start (e set,
 * no events beyond command_start/command_end written). */
int act_start(loop *lp, const act_plan *plan, const config *cfg, const act_opts *opt,
              const act_hooks *hooks, void *ud, act_run **out, pgc_err *e);
/* SIGTERM to the process group now, SIGKILL after the grace period;
 * remaining segments are not run.  Safe to call twice. */
void act_cancel(act_run *r);
bool act_finished(const act_run *r);
const act_result *act_get_result(const act_run *r);
const act_plan *act_get_plan(const act_run *r);
/* Child pid of the running segment, 0 when none. */
int act_child_pid(const act_run *r);
/* The secrets this run masks (for a console that shows its output). */
const act_masker *act_get_masker(const act_run *r);
/* Frees a finished run; a running one is killed (SIGKILL) first. */
void act_free(act_run *r);

/* Headless: start and turn the loop until the run ends.  Returns 0 with
 * *res filled, or -1 when it could not start. */
int act_run_wait(loop *lp, const act_plan *plan, const config *cfg, const act_opts *opt,
                 const act_hooks *hooks, void *ud, act_result *res, pgc_err *e);

/* Closes command_start events with no command_end (pgcutover died while
 * the command ran) with a command_unknown event.  Starts whose pgcutover
 * process is still alive on this host are left alone.  Returns how many
 * were closed (and their item ids in *items_out when non-NULL, malloc'd
 * "3.7, 5.2" text or NULL), -1 on error.  Call on every read-write start. */
int act_recover_unknown(state *st, char **items_out, pgc_err *e);

/* Sets one declared flag in the config's env_file and appends flag_set
 * (payload as in a run, plus "manual": true, start_id 0), for `pgcutover
 * flag set` and the console's flags panel.  expect: the stamp the caller
 * last showed (refused with PGC_EXIT_TEMPFAIL when the file changed since),
 * or NULL.  phase/item may be NULL.  res is filled (free with
 * envfile_set_result_free). */
int act_set_flag(state *st, const config *cfg, const char *phase, const char *item,
                 const char *name, const char *value, const envfile_stamp *expect,
                 envfile_set_result *res, pgc_err *e);
/* flag_set payload text (masked; with new_hmac when st has a key, see
 * act_flag_hmac); start_id 0 for a manual set.  st may be NULL. */
char *act_flag_set_payload(const config *cfg, const state *st, const char *name, const envfile_set_result *sr,
                           int64_t start_id, bool rollback, bool manual);

/* ---- flags panel (flags.c) ----
 * The declared flags as they are: the value in the env_file now, the last
 * value pgcutover set (audit), and whether somebody changed them behind
 * pgcutover's back.  `pgcutover flags` and the console's flags panel. */
typedef struct act_flag_status {
	char *name;
	char *value;          /* in the file now, NULL when absent; "***" for secret names */
	char *last_set;       /* last value pgcutover set, NULL when never */
	double last_set_at;   /* 0 when never */
	char *last_set_by;
	bool changed_behind_back; /* file value differs from last_set */
	bool drift_recorded;  /* changed_behind_back and a flag_drift event already says so */
	char *drift_hmac;     /* act_flag_hmac of the value in the file; NULL without a key or value */
	int64_t last_set_id;  /* the flag_set event of last_set; 0 when never */
} act_flag_status;

typedef struct act_flags {
	char *file;                   /* the config's env_file */
	envfile_stamp stamp;          /* of the file as read: pass to act_set_flag */
	bool file_changed_behind_back;/* sha256 differs from pgcutover's last write */
	act_flag_status *flags; size_t n_flags;  /* config order, then the runbook's */
} act_flags;

/* A flag's value as shown or recorded: *** for a secret-looking name, else
 * masked (URL passwords, known secrets) and sanitised; absent when value
 * is NULL.  m may be NULL (inline passwords only).  malloc'd. */
char *act_flag_shown(const act_masker *m, const char *name, const char *value, const char *absent);
/* Keyed hash (HMAC-SHA256, hex) of a flag's real value, recorded as
 * flag_set's "new_hmac" so `flags` can compare the file with pgcutover's
 * last write without the value in the audit.  The key is 32 random bytes
 * in STATE.key (mode 0600) beside the state, never in it, so the record
 * alone does not let a short secret be guessed offline.  create: make the
 * key when there is none (writers only).  Returns 0, or -1 when there is
 * no key (or it cannot be made or read). */
int act_flag_hmac(const state *st, bool create, const char *value, char out[65]);

/* st may be NULL (no history).  Fails when the config names no env_file. */
int act_flags_read(const config *cfg, const runbook *rb, state *st, act_flags **out, pgc_err *e);
void act_flags_free(act_flags *f);
/* Records a flag_drift event (evpay.h) for each flag changed behind
 * pgcutover's back whose drift the audit does not hold yet -- the value
 * now differs from the last drift recorded since the flag's last flag_set
 * -- so a hand edit is recorded once, however often it is seen.  A writer
 * only: the console when it drives (its flags panel), `flags --record`
 * (the driver's lease; a state without the lease refuses by its guard).
 * noticed_by: "console", "flags --record".  *n_recorded: how many. */
int act_flags_record_drift(state *st, const config *cfg, act_flags *f, const char *noticed_by,
                           int *n_recorded, pgc_err *e);
/* {"file","exists","sha256","file_changed_behind_back","flags":[{name,value,
 *  last_set,last_set_at,last_set_by,changed_behind_back,drift_recorded}]} */
char *act_flags_json(const act_flags *f);
/* True when name is declared (config "flags" or a runbook flag edit). */
bool act_flag_declared(const config *cfg, const runbook *rb, const char *name);

/* ---- rollback (rollback.c) ----
 * What the rollback button / `pgcutover rollback PHASE` will do: run the
 * phase's rollback steps in their written order and restore the flags
 * pgcutover changed in the phase (to their values before the phase's
 * first flag_set since its last rollback, from the audit).  A flag a step
 * sets itself is restored by that line where it stands; the others in the
 * same write as the first step's first flag lines, or, when no step has
 * a flag line, first and on their own.  Run act_rollback_stage(rb, -1)
 * (when non-NULL) and then each step with act_start(), in order,
 * stopping at the first that is not ACT_OK; then act_rollback_record(),
 * or act_rollback_record_failed().  Nothing here runs anything. */
typedef struct act_rollback {
	char phase_id[RB_ID_MAX];
	act_plan *restore;            /* every flag restored (a step's own line with
	                               * its value), or NULL: for the text and the
	                               * record; run only through act_rollback_stage */
	int restore_step;             /* step whose first flag lines the restores join;
	                               * -1: restore runs first, on its own */
	act_plan **steps; size_t n_steps;   /* rollback items with a command */
	char **notes; size_t n_notes; /* flags not restored, and why; a freeze released */
	bool release_freeze;          /* roles are read-only on the source (freeze apply):
	                               * `pgcutover rollback` releases them after the steps
	                               * (frz_release) */
	bool past_point_of_no_return; /* the config's item is ticked */
	char *point_of_no_return;     /* "item 5.3 "..." was ticked at T by U", or NULL */
	int64_t rows_gained;          /* past it: target rows (all tables) in the newest
	                               * counts snapshot minus the last one before the
	                               * tick; -1 when unknown (no snapshot on a side).
	                               * Exact snapshots are used when there is one on
	                               * each side, else estimates */
	bool rows_gained_exact;       /* from exact counts on both sides of the tick */
} act_rollback;

/* lg may be NULL (then the point of no return is not checked); st may be
 * NULL (then no flag is restored).  Fails with PGC_EXIT_USAGE for an
 * unknown phase, PGC_EXIT_DATAERR when there is nothing to roll back. */
int act_rollback_plan(const config *cfg, const runbook *rb, state *st, ledger *lg,
                      const char *phase_id, act_rollback **out, pgc_err *e);
void act_rollback_free(act_rollback *rb);
/* The plan to run at stage -1 (the restores on their own; NULL when they
 * go with a step or there are none) and 0..n_steps-1 (the steps). */
const act_plan *act_rollback_stage(const act_rollback *rb, int stage);
/* Human text of everything that will happen; malloc'd. */
char *act_rollback_describe(const act_rollback *rb);
/* The point-of-no-return warning alone (two sentences, no trailing
 * newline; part of act_rollback_describe's text); malloc'd, NULL when the
 * point of no return has not passed. */
char *act_rollback_warning(const act_rollback *rb);
/* {"phase","dry_run":true,"past_point_of_no_return","point_of_no_return",
 *  "restore":[{name,current,restore}],"restore_with_step":item id or null,
 *  "steps":[plan...],"notes":[...]} */
char *act_rollback_json(const act_rollback *rb);
/* Appends phase_rolled_back (phase = the phase) with payload
 * {"restored":[{name,from,to}],"steps":[{item,start_id,status,exit}],
 *  "past_point_of_no_return":bool}.  step_results: n_steps results in
 * order.  *id_out gets the event id. */
int act_rollback_record(state *st, const act_rollback *rb, const act_result *step_results,
                        int64_t *id_out, pgc_err *e);
/* A rollback that stopped: stage (-1: the restores on their own, else the
 * step's index) ended with failed (not ACT_OK, or could not start: then
 * failed_segment -1).  Appends phase_rollback_failed (phase = the phase,
 * item = the failed step) naming the stage and the flags written before
 * it (evpay.h); the ledger marks the phase "rollback failed at ..." until
 * a rollback succeeds or the operator ticks, unticks or overrides in it.
 * step_results: the results of the steps before stage. */
int act_rollback_record_failed(state *st, const act_rollback *rb, int stage, const act_result *failed,
                               const act_result *step_results, int64_t *id_out, pgc_err *e);

/* Secret masking: values of environment variables with secret-looking names
 * (envfile_name_is_secret), the config's Supabase key variable, secret
 * values in the env_file, and passwords in URLs (scheme://user:PASS@) and
 * in secret-named assignments (DB_PASSWORD=..., password=... in a conninfo)
 * wherever they appear, in the text and in the environment's and the
 * env_file's values.  A run also learns those its command text assigns, so
 * what is masked in a command is masked in its output. */
act_masker *act_masker_new(const config *cfg);
void act_masker_add(act_masker *m, const char *secret);
/* An operator's words (a note, an untick reason) as recorded: the string
 * values of a JSON payload object masked with act_masker_new(cfg), so a
 * note that quotes a known secret or a URL with a password keeps neither.
 * Returns malloc'd JSON (the input unchanged when it is not an object). */
char *act_mask_payload(const config *cfg, const char *payload_json);
/* Adds the inline secrets of text (URL passwords, secret-named assignments). */
void act_masker_learn(act_masker *m, const char *text);
char *act_masker_apply(const act_masker *m, const char *text);
/* act_masker_apply() and pgc_sanitize_n(.., PGC_SANITIZE_LINES): a value as the audit records it. */
char *act_masker_clean(const act_masker *m, const char *text);
void act_masker_free(act_masker *m);

/* Output framed for masking: bytes go in as they are read and come out
 * masked a whole line at a time; a line longer than max_line comes out in
 * pieces cut at a blank and never inside a known secret. */
typedef struct act_outbuf {
	strbuf pending;     /* since the last newline, not passed on yet */
	size_t max_line;
} act_outbuf;
void act_outbuf_init(act_outbuf *b, size_t max_line);
/* Appends n bytes and returns what is ready (masked, NUL bytes kept, may be
 * empty; *out_len bytes), malloc'd.  all: the held-back rest too. */
char *act_outbuf_feed(act_outbuf *b, const act_masker *m, const char *data, size_t n, bool all,
                      size_t *out_len);
void act_outbuf_free(act_outbuf *b);


#endif
