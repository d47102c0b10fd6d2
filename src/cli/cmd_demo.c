/*
 * cmd_demo.c -- `pgcutover demo [--rows N] [--dir DIR] [--stop]
 * [--no-console]`: a complete local migration to play with.  core/demo.c
 * makes (or reuses, or with --stop removes) the directory with its two
 * PostgreSQL clusters and files; this file prints its progress, then opens
 * the console (a child `pgcutover -c ... console`), or with --no-console /
 * no terminal prints what to try.
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgcutover/proc.h"
#include "pgcutover/cli.h"
#include "pgcutover/demo.h"

/* demo.h's progress lines, and the texts below: not with -q. */
static void say(void *arg, const char *line)
{
	const cli_opts *o = arg;
	if (!o->quiet) {
		fputs(line, stdout);
		fflush(stdout);
	}
}

/* Runs this binary with `-c CONFIG --operator NAME cmd` and waits.  Returns
 * its exit status, or -1 when it could not be started. */
static int run_self(const demo *d, const cli_opts *o, const char *cmd)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *cfg = xasprintf("%s/" DEMO_CONFIG_FILE, d->dir);
	char *argv[] = {"pgcutover", "-c", cfg, "--operator", (char *)o->operator_name,
	                (char *)cmd, NULL};
	/* Like system(): a ^C at the terminal is the child's to handle; we
	 * must not die under it and leave it on the terminal alone.  (The
	 * child starts with default dispositions: proc_spawn resets them.) */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	int status = 0, rc = -1;
	pgc_err e = {0};
	fflush(NULL);
	if (proc_run(&(proc_spec){.path = self, .argv = argv, .in = PROC_IO_INHERIT, .out = PROC_IO_INHERIT,
	                          .err = PROC_IO_INHERIT},
	             &status, &e) == 0)
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : PGC_EXIT_SOFTWARE;
	else
		fprintf(stderr, "pgcutover: %s\n", e.msg);
	free(cfg);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return rc;
}

/* The console on a terminal, else what to try; the console's exit code. */
static int open_console(const demo *d, cli_opts *o, bool no_console)
{
	int rc = 0;
	char *text;
	if (no_console || !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		text = demo_guide(d);
		say(o, text);
	} else if ((rc = run_self(d, o, "console")) == PGC_EXIT_SOFTWARE || rc < 0) {
		/* No console in this build yet: show the way in and the status. */
		text = demo_guide(d);
		printf("%s\n", text);
		run_self(d, o, "status");
		rc = 0;
	} else {
		text = demo_left_running(d);
		say(o, text);
	}
	free(text);
	return rc;
}

int cmd_demo(const cli_args *a, cli_opts *o)
{
	const char *opt_dir = cli_opt(a, OPT_DIR), *v = cli_opt(a, OPT_ROWS);
	char *end = NULL;
	errno = 0;
	long rows = v ? strtol(v, &end, 10) : DEMO_DEFAULT_ROWS;
	if (v && (!*v || *end || errno || rows < DEMO_MIN_ROWS || rows > DEMO_MAX_ROWS))
		return cli_usage_error("demo", "--rows needs a number from %ld to %ld",
		                       DEMO_MIN_ROWS, DEMO_MAX_ROWS);
	if (opt_dir && !*opt_dir)
		return cli_usage_error("demo", "--dir needs a directory");

	demo d = {.say = say, .say_arg = o};
	pgc_err e = {0};
	demo_outcome done;   /* the progress lines say what was done */
	bool stop = cli_flag(a, OPT_STOP);
	int rc = demo_open(&d, opt_dir, rows, v != NULL, &e);
	if (rc == 0)
		rc = stop ? demo_stop(&d, &done, &e) : demo_create(&d, &done, &e);
	if (rc == 0 && !stop)
		rc = open_console(&d, o, cli_flag(a, OPT_NO_CONSOLE));
	demo_free(&d);
	return rc < 0 ? cli_report(&e) : rc;
}
