/*
 * cli.h -- what the command files in src/cli share: the global options parsed
 * by main.c and a context that loads the config, runbook and state the same
 * way for every command (and for the console).
 */
#ifndef PGCUTOVER_CLI_H
#define PGCUTOVER_CLI_H

#include <stdio.h>
#include "pgcutover/util.h"
#include "pgcutover/config.h"
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"
#include "pgcutover/ledger.h"
#include "pgcutover/lease.h"

typedef struct cli_opts {
	const char *config_path;   /* -c; NULL = ./pgcutover.json */
	const char *runbook_path;  /* -r */
	const char *state_path;    /* -s */
	const char *operator_name; /* --operator; default login name */
	bool json;                 /* --json */
	bool no_color;             /* --no-color or NO_COLOR */
	bool quiet;                /* -q */
	bool take_over;            /* --take-over: replace a dead or silent driver's lease */
	const char *command;       /* the command's name, recorded in the lease */
} cli_opts;

enum {
	CLI_NEED_CONFIG   = 1 << 0,  /* a config file must exist */
	CLI_NEED_RUNBOOK  = 1 << 1,
	CLI_STATE_RO      = 1 << 2,  /* open state read-only */
	CLI_STATE_RW      = 1 << 3,  /* open/create state read-write, sync runbook */
	CLI_WANT_CONFIG   = 1 << 4,  /* load config when present */
	CLI_NO_LEASE      = 1 << 5,  /* CLI_STATE_RW without taking the driver's lease */
	CLI_DRIVER        = 1 << 6,  /* long-lived driver (console): lease audited, heartbeats */
};

typedef struct cli_ctx {
	cli_opts *opts;
	config *cfg;       /* may be NULL without CLI_NEED_CONFIG */
	runbook *rb;
	state *st;
	ledger *lg;        /* built when state and runbook are loaded */
	char *runbook_change_report; /* human text when the runbook changed, or NULL */
	char *unknown_report; /* commands whose end this start found unknown, or NULL */
	lease *lease;      /* held with CLI_STATE_RW unless CLI_NO_LEASE; released by cli_unload */
	char *state_path;  /* resolved state path (set even when st is NULL:
	                    * CLI_STATE_RO on a state file that does not exist yet) */
	int64_t notify_after; /* headless writer: events after this id, appended by this
	                       * process, are sent to the webhook by cli_unload; -1 none */
} cli_ctx;

/* With CLI_STATE_RW, a ledger snapshot is written when this many events
 * were folded since the newest one, so opening a long log stays fast. */
#define CLI_SNAPSHOT_EVERY 1000

/* Prints ctx->runbook_change_report on stderr (unless -q). */
void cli_print_runbook_change(const cli_ctx *ctx);

/* Loads what `need` asks for.  On error prints "pgcutover: msg" to stderr and
 * returns the exit code (> 0); returns 0 on success. */
int cli_load(cli_ctx *ctx, cli_opts *o, int need);
void cli_unload(cli_ctx *ctx);

/* Opens the state to record a measurement in (counts, verify), only when
 * it already exists: measuring must not create a state file for a runbook
 * nobody started.  NULL when there is none (a failure to open is said on
 * stderr: "pgcutover: WHAT not recorded: ..."). */
state *cli_open_state_existing(cli_ctx *ctx, const char *what);

/* Prints "pgcutover: <msg>" on stderr, returns e->code. */
/* Puts a filter between stdout (out) and/or stderr (err) and the terminal:
 * escape sequences and other controls become '?', or with json C1 controls
 * become \u00XX (output.c).  For headless commands only. */
void cli_safe_output(bool out, bool err, bool json);
int cli_report(const pgc_err *e);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An option's whole-number value from min to max into *out; else a usage
 * error naming cmd and opt (printed) and -1. */
int cli_parse_int(const char *cmd, const char *opt, const char *v, int min, int max, int *out);

/* Option ids: a short option is its own letter; options with only a long
 * name are numbered from CLI_OPT_LONG.  main.c's command table maps the
 * names to these, and a command reads what was given with cli_opt(). */
enum {
	CLI_OPT_LONG = 0x100,
	OPT_ASCII = CLI_OPT_LONG, OPT_AT, OPT_DIR, OPT_DONE, OPT_EVENT, OPT_EXACT,
	OPT_FORMAT, OPT_LIMIT, OPT_LIVE, OPT_MAX_LOAD, OPT_NO_CONSOLE, OPT_NOTE, OPT_OVERRIDE,
	OPT_PAST_PONR, OPT_PLAN_FROM, OPT_REASON, OPT_RECORD, OPT_ROWS, OPT_SINCE, OPT_SOURCE, OPT_STOP,
	OPT_TABLE, OPT_TIMELINE, OPT_TIMEOUT, OPT_TIMING, OPT_VERIFY, OPT_WATCH, OPT_OFFSET, OPT_WINDOW,
	OPT_ROLES,
	CLI_OPT_END
};

/* A command's arguments as main.c parsed them from its table entry: the
 * options by id (the value, "" for a flag, NULL when not given; the last
 * one wins) and the positional arguments.  need/need_ro are the entry's
 * loads: what cli_load() gets when the command writes, and when this
 * invocation only reads (--dry-run, a read-only subcommand). */
typedef struct cli_args {
	const char *name;          /* the command's name */
	int argc;                  /* positional arguments, options removed */
	char **argv;
	int need, need_ro;
	const char *opt[CLI_OPT_END];
} cli_args;

static inline const char *cli_opt(const cli_args *a, int id) { return a->opt[id]; }
static inline bool cli_flag(const cli_args *a, int id) { return a->opt[id] != NULL; }
static inline int cli_need(const cli_args *a, bool read_only) { return read_only ? a->need_ro : a->need; }

/* Commands: global options and the command's own are already parsed. */
typedef int (*cli_cmd_fn)(const cli_args *a, cli_opts *o);

int cmd_check(const cli_args *a, cli_opts *o);
int cmd_init(const cli_args *a, cli_opts *o);
int cmd_status(const cli_args *a, cli_opts *o);
int cmd_log(const cli_args *a, cli_opts *o);
int cmd_tick(const cli_args *a, cli_opts *o);
int cmd_untick(const cli_args *a, cli_opts *o);
int cmd_note(const cli_args *a, cli_opts *o);
int cmd_demo(const cli_args *a, cli_opts *o);
int cmd_console(const cli_args *a, cli_opts *o);
int cmd_monitor(const cli_args *a, cli_opts *o);
int cmd_counts(const cli_args *a, cli_opts *o);
int cmd_verify(const cli_args *a, cli_opts *o);
int cmd_run(const cli_args *a, cli_opts *o);
int cmd_flags(const cli_args *a, cli_opts *o);
int cmd_flag(const cli_args *a, cli_opts *o);
int cmd_health(const cli_args *a, cli_opts *o);
int cmd_rollback(const cli_args *a, cli_opts *o);
int cmd_schema(const cli_args *a, cli_opts *o);
int cmd_lease(const cli_args *a, cli_opts *o);
int cmd_export(const cli_args *a, cli_opts *o);
int cmd_replay(const cli_args *a, cli_opts *o);
int cmd_rehearsal(const cli_args *a, cli_opts *o);
int cmd_downtime(const cli_args *a, cli_opts *o);
int cmd_due(const cli_args *a, cli_opts *o);
int cmd_sequences(const cli_args *a, cli_opts *o);
int cmd_freeze(const cli_args *a, cli_opts *o);
int cmd_go(const cli_args *a, cli_opts *o);
int cmd_sync(const cli_args *a, cli_opts *o);

#endif
