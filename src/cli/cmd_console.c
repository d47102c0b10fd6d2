/*
 * cmd_console.c -- `pgcutover console` (also what `pgcutover` alone runs):
 * loads the config, runbook, state and ledger through cli_load(), exactly as
 * the headless commands do, takes the driver's lease (one driver at a
 * time; the console heartbeats it) and hands them to the ncurses console in
 * src/ui/.  Options: --ascii forces ASCII drawing; --no-color (global) and
 * NO_COLOR turn colour off.  `pgcutover monitor` is the same console in
 * MONITOR mode: the state opened read-only, no lease, every write key
 * disabled; it follows the driver's events and says when the driver falls
 * silent.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/cli.h"
#include "pgcutover/ui.h"

static int console_open(int argc, char **argv, cli_opts *o, ui_mode mode)
{
	bool ascii = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ascii") == 0)
			ascii = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: pgcutover [-c CONFIG] [--operator NAME] [--no-color] console [--ascii]\n"
			       "Opens the operator console; ? inside lists the keys.  See pgcutover(1).\n");
			return 0;
		} else
			return cli_usage_error("console", "unknown option '%s'", argv[i]);
	}
	/* before the lease and session events: a run without a terminal must
	 * leave no trace in the state */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "pgcutover: the console needs a terminal; "
		                "use status, log, tick, untick and note without one\n");
		return PGC_EXIT_USAGE;
	}
	cli_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	int need = CLI_NEED_CONFIG | CLI_NEED_RUNBOOK |
	           (mode == UI_MODE_MONITOR ? CLI_STATE_RO : CLI_STATE_RW | CLI_DRIVER);
	int rc = cli_load(&ctx, o, need);
	if (rc != 0)
		return rc;
	if (!ctx.st) {
		fprintf(stderr, "pgcutover: monitor: no state file at %s yet: nothing to follow\n",
		        ctx.state_path ? ctx.state_path : "(default path)");
		cli_unload(&ctx);
		return PGC_EXIT_NOINPUT;
	}
	ui_setup s = {
		.cfg = ctx.cfg,
		.rb = ctx.rb,
		.st = ctx.st,
		.lg = ctx.lg,
		.mode = mode,
		.operator_name = o->operator_name,
		.host = pgc_host_name(),
		.no_color = o->no_color,
		.ascii = ascii,
		.startup_message = ctx.runbook_change_report,
		.lease = ctx.lease,
	};
	pgc_err e = {0};
	rc = ui_console_run(&s, &e);
	if (rc < 0)
		rc = cli_report(&e);
	else if (ctx.runbook_change_report && !o->quiet)
		fprintf(stderr, "%s\n", ctx.runbook_change_report);
	cli_unload(&ctx);
	return rc;
}

int cmd_console(int argc, char **argv, cli_opts *o)
{
	return console_open(argc, argv, o, UI_MODE_DRIVER);
}

int cmd_monitor(int argc, char **argv, cli_opts *o)
{
	return console_open(argc, argv, o, UI_MODE_MONITOR);
}
