/*
 * cli_action.h -- what the headless action commands (run, rollback, flags,
 * health) share: asking on the terminal, running a plan with live output,
 * and closing runs a crashed pgcutover left open.  Private to src/cli.
 */
#ifndef PGCUTOVER_CLI_ACTION_H
#define PGCUTOVER_CLI_ACTION_H

#include "pgcutover/cli.h"
#include "pgcutover/action.h"
#include "pgcutover/loop.h"

/* Exit status when a confirmation is needed and there is no terminal. */
#define CLI_NO_TERMINAL_EXIT PGC_EXIT_USAGE
/* Exit status when an op needs a reason the console would ask for (a
 * phase completed out of order, a counts gate not met): like a missing
 * --yes, the command line lacks what it needs (--override REASON). */
#define CLI_NEEDS_OVERRIDE_EXIT PGC_EXIT_USAGE

/* Asks on /dev/tty, in the console's words: the answer typed, then Enter,
 * must be `typed` (the item or phase id) or "yes"; with word_only, that
 * word alone (`rollback` past the point of no return).  Returns 1
 * confirmed, 0 declined, -1 no terminal. */
int cli_tty_confirm(const char *question, const char *typed, bool word_only);
/* Reads one line from /dev/tty (echo off when secret).  NULL without one. */
char *cli_tty_ask(const char *prompt, bool secret);
/* Writes text to /dev/tty; false without one. */
bool cli_tty_write(const char *text);

/* Asks for every variable the plan misses (refuses without a terminal).
 * Returns 0, or an exit status after printing why. */
int cli_fill_vars(act_plan *p, const char *what);

/* Runs the plan with the audit, printing its output live (to stderr when
 * json_mode, sanitised when the stream is a terminal).  SIGINT and SIGTERM
 * cancel the command.  Returns 0 with *res, or an exit status. */
int cli_run_plan(cli_ctx *ctx, loop *lp, const act_plan *p, bool json_mode, act_result *res);

/* Closes command_start events left open by a pgcutover that died while
 * its command ran (command_unknown) and says so on stderr; the text is kept
 * in ctx->unknown_report for the console, whose screen hides stderr. */
void cli_recover_unknown(cli_ctx *ctx);

/* {"item","phase","status","exit","signal","duration_s",...} of a run. */
char *cli_result_json(const act_plan *p, const act_result *r);

#endif
