/*
 * main.c -- argument parsing and dispatch only.  Global options (-c, -r, -s,
 * --operator, --json, --no-color, -q, -V, -h) are accepted before or after
 * the command name and removed; the rest goes to the command in src/cli/.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/cli.h"

typedef struct cli_command {
	const char *name;
	cli_cmd_fn fn;
	const char *synopsis;
} cli_command;

static const cli_command commands[] = {
	{"console", cmd_console, "console [--ascii] [--take-over] [--plan-from STATE]  open the operator console (default)"},
	{"monitor", cmd_monitor, "monitor [--ascii] [--live] [--plan-from STATE]  the console read-only, following the driver"},
	{"check",   cmd_check,   "check [--json] RUNBOOK  parse a runbook and summarise it"},
	{"init",    cmd_init,    "init RUNBOOK [-o FILE]  write a starter pgcutover.json"},
	{"status",  cmd_status,  "status [--json]         progress per phase"},
	{"log",     cmd_log,     "log [--json] [--since T] [--limit N] [--verify]  the audit log"},
	{"tick",    cmd_tick,    "tick ITEM [--note TEXT] mark an item done"},
	{"untick",  cmd_untick,  "untick ITEM --reason TEXT  mark an item not done"},
	{"note",    cmd_note,    "note [ITEM] TEXT        add a note"},
	{"counts",  cmd_counts,  "counts [--json] [--exact] [--watch S] [--timeout MS]  row counts, source vs target"},
	{"schema",  cmd_schema,  "schema [--json]         schema and sequence parity, source vs target"},
	{"run",     cmd_run,     "run ITEM [--yes] [--dry-run] [--json]  run an item's command block"},
	{"flags",   cmd_flags,   "flags [--json]          .env flags: value, last set, changed behind back"},
	{"flag",    cmd_flag,    "flag set NAME VALUE     set a declared .env flag (audited)"},
	{"health",  cmd_health,  "health [--json]         run the HTTP health checks"},
	{"rollback", cmd_rollback, "rollback PHASE [--yes] [--dry-run] [--json]  roll a phase back"},
	{"downtime", cmd_downtime, "downtime [start|end|status] [--json]  the downtime clock"},
	{"due",     cmd_due,     "due [--json] | due ITEM --done  recurring duties: when next due"},
	{"lease",   cmd_lease,   "lease [--json] | lease hold SECONDS  who drives this state"},
	{"export",  cmd_export,  "export --format jsonl|md [-o FILE] | export --verify FILE.jsonl"},
	{"replay",  cmd_replay,  "replay [STATE|LOG.jsonl] [--at TIME|--event N] [--json] [-i S]  state as of a time; on a terminal: play it back"},
	{"rehearsal", cmd_rehearsal, "rehearsal mark | rehearsal plan --plan-from STATE [--json]  rehearsal timings"},
	{"demo",    cmd_demo,    "demo [--rows N] [--dir DIR] [--stop] [--no-console]  local demo migration"},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pgcutover [-c CONFIG] [-r RUNBOOK] [-s STATE] [--operator NAME]\n"
	           "                 [--json] [--no-color] [-q] COMMAND [ARGS]\n"
	           "       pgcutover -V | -h | help COMMAND\n\ncommands:\n");
	for (const cli_command *c = commands; c->name; c++)
		fprintf(f, "  %s\n", c->synopsis);
	fprintf(f, "\nSee pgcutover(1), pgcutover-runbook(5), pgcutover.json(5).\n");
}

static const cli_command *find_command(const char *name)
{
	for (const cli_command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Takes the value of a global option either joined (--opt=V) or next. */
static int take_value(int argc, char **argv, int *i, const char *opt, const char **out)
{
	size_t n = strlen(opt);
	if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	if (strcmp(argv[*i], opt) == 0) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "pgcutover: option %s needs a value\n", opt);
			exit(PGC_EXIT_USAGE);
		}
		*out = argv[++*i];
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	cli_opts o = {0};
	char **rest = xcalloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	bool after_dashdash = false;

	if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
		o.no_color = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (after_dashdash || a[0] != '-' || a[1] == '\0') {
			rest[nrest++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			after_dashdash = true;
			rest[nrest++] = argv[i];
			continue;
		}
		if (take_value(argc, argv, &i, "-c", &o.config_path) ||
		    take_value(argc, argv, &i, "--config", &o.config_path) ||
		    take_value(argc, argv, &i, "-r", &o.runbook_path) ||
		    take_value(argc, argv, &i, "--runbook", &o.runbook_path) ||
		    take_value(argc, argv, &i, "-s", &o.state_path) ||
		    take_value(argc, argv, &i, "--state", &o.state_path) ||
		    take_value(argc, argv, &i, "--operator", &o.operator_name))
			continue;
		if (strcmp(a, "--json") == 0)
			o.json = true;
		else if (strcmp(a, "--take-over") == 0)
			o.take_over = true;
		else if (strcmp(a, "--no-color") == 0)
			o.no_color = true;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			o.quiet = true;
		else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("pgcutover %s\n", PACKAGE_VERSION);
			return 0;
		} else if ((strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) && nrest == 0) {
			usage(stdout);
			return 0;
		} else
			rest[nrest++] = argv[i];   /* a command's own option */
	}
	if (!o.operator_name)
		o.operator_name = getenv("PGCUTOVER_OPERATOR");
	if (!o.operator_name)
		o.operator_name = pgc_login_name();

	const char *name = nrest > 0 ? rest[0] : "console";
	if (strcmp(name, "help") == 0) {
		const cli_command *c = nrest > 1 ? find_command(rest[1]) : NULL;
		if (nrest > 1 && !c) {
			fprintf(stderr, "pgcutover: unknown command '%s'\n", rest[1]);
			return PGC_EXIT_USAGE;
		}
		if (c)
			printf("usage: pgcutover %s\nSee pgcutover(1), section COMMANDS.\n", c->synopsis);
		else
			usage(stdout);
		return 0;
	}
	const cli_command *c = find_command(name);
	if (!c) {
		fprintf(stderr, "pgcutover: unknown command '%s'\n", name);
		usage(stderr);
		return PGC_EXIT_USAGE;
	}
	if (nrest == 0)
		rest[nrest++] = (char *)name;
	o.command = c->name;
	/* Headless output never carries a file's or a server's escape
	 * sequences to the terminal.  The console draws on stdout itself;
	 * replay (a console on a terminal) and export (JSONL is data) choose. */
	static const char *const own_stdout[] = {"console", "monitor", "demo", "replay", "export", NULL};
	bool filter_out = true;
	for (const char *const *n = own_stdout; *n; n++)
		filter_out &= strcmp(c->name, *n) != 0;
	cli_safe_output(filter_out, strcmp(c->name, "console") != 0 && strcmp(c->name, "monitor") != 0 &&
	                strcmp(c->name, "demo") != 0, o.json);
	int rc = c->fn(nrest, rest, &o);
	free(rest);
	return rc;
}
