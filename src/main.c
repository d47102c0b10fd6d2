/*
 * main.c -- argument parsing and dispatch only.  Global options (-c, -r, -s,
 * --operator, --json, --no-color, -q, -V, -h) are accepted before or after
 * the command name and removed.  The commands are a declarative table (after
 * tmux's cmd_entry): name, usage, options for getopt_long and what the
 * command loads.  From it come the top-level usage, `CMD --help` and
 * `help CMD`, and the parsing of each command's options; the command in
 * src/cli/ gets them parsed (cli_args) and only does the work.
 */
#include "config.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/cli.h"

/* One command, declared: tmux's cmd_entry.  usage holds the command's
 * forms, one a line, without "pgcutover "; help (optional) says more under
 * `CMD --help`.  optstring and options are getopt_long's (main adds
 * --help/-h); a leading '+' stops at the first argument that is not an
 * option, for commands whose arguments may start with '-' (note's text,
 * flag's value); with max_args -1 as well (free text: note) an unknown
 * option begins the text, as `note -5 min` always did.  max_args bounds
 * the positional arguments (-1: any).
 * need is what the command loads (cli_load's CLI_* flags) when it writes,
 * need_ro when an invocation only reads. */
typedef struct cli_command {
	const char *name;
	const char *usage;
	const char *summary;
	const char *help;
	const char *optstring;
	const struct option *options;
	int max_args;
	int need, need_ro;
	cli_cmd_fn fn;
} cli_command;

#define LOAD_WRITE(base) ((base) | CLI_STATE_RW)
#define LOAD_READ(base)  ((base) | CLI_STATE_RO)

static const struct option no_opts[] = {{NULL, 0, NULL, 0}};
static const struct option console_opts[] = {
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"plan-from", required_argument, NULL, OPT_PLAN_FROM},
	{NULL, 0, NULL, 0}};
static const struct option monitor_opts[] = {
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"live", no_argument, NULL, OPT_LIVE},
	{"plan-from", required_argument, NULL, OPT_PLAN_FROM},
	{NULL, 0, NULL, 0}};
static const struct option init_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"force", no_argument, NULL, 'f'},
	{"source", required_argument, NULL, OPT_SOURCE},
	{NULL, 0, NULL, 0}};
static const struct option log_opts[] = {
	{"since", required_argument, NULL, OPT_SINCE},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{NULL, 0, NULL, 0}};
static const struct option tick_opts[] = {
	{"note", required_argument, NULL, OPT_NOTE},
	{"override", required_argument, NULL, OPT_OVERRIDE},
	{NULL, 0, NULL, 0}};
static const struct option untick_opts[] = {
	{"reason", required_argument, NULL, OPT_REASON},
	{NULL, 0, NULL, 0}};
static const struct option counts_opts[] = {
	{"exact", no_argument, NULL, OPT_EXACT},
	{"timing", no_argument, NULL, OPT_TIMING},
	{"watch", required_argument, NULL, OPT_WATCH},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{NULL, 0, NULL, 0}};
static const struct option verify_opts[] = {
	{"table", required_argument, NULL, OPT_TABLE},
	{"max-load", required_argument, NULL, OPT_MAX_LOAD},
	{NULL, 0, NULL, 0}};
static const struct option run_opts[] = {
	{"yes", no_argument, NULL, 'y'},
	{"dry-run", no_argument, NULL, 'n'},
	{"override", required_argument, NULL, OPT_OVERRIDE},
	{NULL, 0, NULL, 0}};
static const struct option rollback_opts[] = {
	{"yes", no_argument, NULL, 'y'},
	{"dry-run", no_argument, NULL, 'n'},
	{"past-point-of-no-return", no_argument, NULL, OPT_PAST_PONR},
	{NULL, 0, NULL, 0}};
static const struct option due_opts[] = {
	{"done", no_argument, NULL, OPT_DONE},
	{"note", required_argument, NULL, OPT_NOTE},
	{NULL, 0, NULL, 0}};
static const struct option export_opts[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"verify", required_argument, NULL, OPT_VERIFY},
	{NULL, 0, NULL, 0}};
static const struct option replay_opts[] = {
	{"at", required_argument, NULL, OPT_AT},
	{"event", required_argument, NULL, OPT_EVENT},
	{"timeline", no_argument, NULL, OPT_TIMELINE},
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"idle", required_argument, NULL, 'i'},
	{NULL, 0, NULL, 0}};
static const struct option rehearsal_opts[] = {
	{"note", required_argument, NULL, OPT_NOTE},
	{"plan-from", required_argument, NULL, OPT_PLAN_FROM},
	{NULL, 0, NULL, 0}};
static const struct option flags_opts[] = {
	{"record", no_argument, NULL, OPT_RECORD},
	{NULL, 0, NULL, 0}};
static const struct option sequences_opts[] = {
	{"offset", required_argument, NULL, OPT_OFFSET},
	{"dry-run", no_argument, NULL, 'n'},
	{"yes", no_argument, NULL, 'y'},
	{NULL, 0, NULL, 0}};
static const struct option freeze_opts[] = {
	{"window", required_argument, NULL, OPT_WINDOW},
	{"roles", required_argument, NULL, OPT_ROLES},
	{"dry-run", no_argument, NULL, 'n'},
	{"yes", no_argument, NULL, 'y'},
	{NULL, 0, NULL, 0}};
static const struct option sync_opts[] = {
	{"watch", required_argument, NULL, OPT_WATCH},
	{NULL, 0, NULL, 0}};
static const struct option demo_opts[] = {
	{"rows", required_argument, NULL, OPT_ROWS},
	{"dir", required_argument, NULL, OPT_DIR},
	{"stop", no_argument, NULL, OPT_STOP},
	{"no-console", no_argument, NULL, OPT_NO_CONSOLE},
	{NULL, 0, NULL, 0}};

#define RB (CLI_WANT_CONFIG | CLI_NEED_RUNBOOK)
#define CR (CLI_NEED_CONFIG | CLI_NEED_RUNBOOK)

static const cli_command commands[] = {
	{"console", "console [--ascii] [--take-over] [--plan-from STATE]", "open the operator console (default)",
	 "Opens the operator console; ? inside lists the keys.",
	 "", console_opts, 0, CR | CLI_STATE_RW | CLI_DRIVER, CR | CLI_STATE_RW | CLI_DRIVER, cmd_console},
	{"monitor", "monitor [--ascii] [--live] [--plan-from STATE]", "the console read-only, following the driver",
	 NULL, "", monitor_opts, 0, LOAD_READ(CR), LOAD_READ(CR), cmd_monitor},
	{"check", "check [--json] RUNBOOK", "parse a runbook and summarise it",
	 "RUNBOOK - reads standard input.", "", no_opts, 1, 0, 0, cmd_check},
	{"init", "init RUNBOOK [-o FILE|DIR] [--force] [--source CONNINFO]", "write a starter pgcutover.json",
	 "Writes a starter config for RUNBOOK to FILE (default: the -c file, else\n"
	 "./" CFG_DEFAULT_NAME "): tables from its \"dependency order\" lists (with --source,\n"
	 "from that database's foreign keys, referenced tables first, cycles named),\n"
	 "flags from its NAME=VALUE lines that look like feature flags or database\n"
	 "switches, health checks from every item or block that curls a URL.  An\n"
	 "existing file is kept unless --force is given.\n"
	 "See pgcutover.json(5).", "o:f", init_opts, 1, 0, 0, cmd_init},
	{"status", "status [--json]", "progress per phase",
	 NULL, "", no_opts, 0, LOAD_READ(RB), LOAD_READ(RB), cmd_status},
	{"log", "log [--json] [--since TIME] [--limit N] [--verify]", "the audit log, or a check of its hash chain",
	 NULL, "", log_opts, 0, LOAD_READ(CLI_WANT_CONFIG), LOAD_READ(CLI_WANT_CONFIG), cmd_log},
	{"tick", "tick ITEM [--note TEXT] [--override REASON]", "mark an item done",
	 NULL, "", tick_opts, 1, LOAD_WRITE(RB), LOAD_WRITE(RB), cmd_tick},
	{"untick", "untick ITEM --reason TEXT", "mark an item not done",
	 NULL, "", untick_opts, 1, LOAD_WRITE(RB), LOAD_WRITE(RB), cmd_untick},
	{"note", "note [ITEM|PHASE] TEXT", "add a note",
	 NULL, "+", no_opts, -1, LOAD_WRITE(RB), LOAD_WRITE(RB), cmd_note},
	{"counts", "counts [--json] [--exact] [--watch SECONDS] [--timeout MS] [--timing]",
	 "row counts, source vs target",
	 NULL, "", counts_opts, 0, CLI_NEED_CONFIG, CLI_NEED_CONFIG, cmd_counts},
	{"verify", "verify [--table TABLE] [--max-load ROWS/MS] [--json]", "row-level verification, source vs target",
	 "Compares every configured table (or TABLE) row by row: per key range a count\n"
	 "and a hash of canonical row text inside each server, differing ranges split\n"
	 "down to the rows missing, extra or changed.  --max-load ROWS/MS: ranges of\n"
	 "ROWS rows, each connection resting MS ms after each (config \"verify\" in\n"
	 "pgcutover.json(5) sets the same).",
	 "", verify_opts, 0, CLI_NEED_CONFIG, CLI_NEED_CONFIG, cmd_verify},
	{"schema", "schema [--json]", "schema and sequence parity, source vs target",
	 NULL, "", no_opts, 0, CLI_NEED_CONFIG, CLI_NEED_CONFIG, cmd_schema},
	{"go", "go [--json]", "the go/no-go board for the switch (fresh evidence, after the freeze)",
	 "Takes fresh exact counts (recorded), checks sequences and schema now, reads the\n"
	 "freeze, sync and health checks from the log; evidence from before the freeze\n"
	 "is stale.  Records the board: ticking or running the switch item (config\n"
	 "switch.item) needs the last board to be go, or an override reason.",
	 "", no_opts, 0, LOAD_WRITE(CR) | CLI_NO_LEASE, LOAD_WRITE(CR) | CLI_NO_LEASE, cmd_go},
	{"sync", "sync [--watch SECONDS] [--json]", "is the target caught up with the source (after the freeze)?",
	 "With subscriptions on the target: lag per subscription against the source's\n"
	 "pg_current_wal_lsn() in bytes and seconds, slot state, retained WAL, tables by\n"
	 "state; caught up only when the target confirmed an LSN taken after the freeze.\n"
	 "Without: a script sync, caught up when exact counts after the freeze are equal.\n"
	 "--watch checks every second until caught up (STALLED said loudly).",
	 "", sync_opts, 0, LOAD_WRITE(CLI_NEED_CONFIG) | CLI_NO_LEASE, LOAD_WRITE(CLI_NEED_CONFIG) | CLI_NO_LEASE, cmd_sync},
	{"sequences", "sequences [check] [--json]\nsequences sync [--offset N] [--dry-run] [--yes] [--json]",
	 "sequence headroom both sides; set the target's past the source",
	 "check: every sequence on both sides, values left before its maximum (warned\n"
	 "under sequences.headroom_floor), owned ones behind the source flagged.\n"
	 "sync: sets the target's identity and serial sequences to\n"
	 "max(source last_value, column max) + offset in one transaction, after showing\n"
	 "the statements (asked unless --yes); recorded with the old values.",
	 "ny", sequences_opts, 1, LOAD_WRITE(CLI_NEED_CONFIG), CLI_NEED_CONFIG,
	 cmd_sequences},
	{"freeze", "freeze [check|watch] [--window SECONDS] [--json]\n"
	 "freeze apply --roles ROLE,... [--dry-run] [--yes] [--json]\n"
	 "freeze release [--roles ROLE,...] [--dry-run] [--yes] [--json]",
	 "prove nothing writes to the source; optionally make roles read-only",
	 "check: samples the source every second (table write counters, commits,\n"
	 "sessions by role, application_name and client) and exits 0 once quiet for\n"
	 "--window seconds (default freeze.quiet_s, 30), 1 at the first write, naming it.\n"
	 "watch: keeps going, printing who still writes, until proven.  Both record a\n"
	 "freeze event.  apply: ALTER ROLE ... SET default_transaction_read_only and\n"
	 "ends the roles' sessions; release resets it (default: the roles last applied).",
	 "ny", freeze_opts, 1, LOAD_WRITE(CLI_NEED_CONFIG), LOAD_WRITE(CLI_NEED_CONFIG) | CLI_NO_LEASE, cmd_freeze},
	{"run", "run ITEM [--yes] [--dry-run] [--override REASON] [--json]", "run an item's command block",
	 NULL, "yn", run_opts, 1, LOAD_WRITE(CR), CR, cmd_run},
	{"flags", "flags [--json] [--record]", ".env flags: value, last set, changed behind back",
	 "--record records each flag changed behind pgcutover's back as a flag_drift\n"
	 "event (once per value), taking the driver's lease as any writer does; while\n"
	 "the console drives, its flags panel records them.",
	 "", flags_opts, 0, LOAD_WRITE(CLI_NEED_CONFIG), LOAD_READ(CLI_NEED_CONFIG), cmd_flags},
	{"flag", "flag set NAME VALUE", "set a declared .env flag (audited)",
	 NULL, "+", no_opts, 3, LOAD_WRITE(CLI_NEED_CONFIG), LOAD_WRITE(CLI_NEED_CONFIG), cmd_flag},
	{"health", "health [--json]", "run the HTTP health checks",
	 NULL, "", no_opts, 0, LOAD_WRITE(CLI_NEED_CONFIG) | CLI_NO_LEASE,
	 LOAD_WRITE(CLI_NEED_CONFIG) | CLI_NO_LEASE, cmd_health},
	{"rollback", "rollback PHASE [--yes] [--dry-run] [--json] [--past-point-of-no-return]", "roll a phase back",
	 NULL, "yn", rollback_opts, 1, LOAD_WRITE(CR), LOAD_READ(CR), cmd_rollback},
	{"downtime", "downtime [start|end|status] [--json]", "the downtime clock",
	 NULL, "", no_opts, 1, LOAD_WRITE(RB), LOAD_READ(RB), cmd_downtime},
	{"due", "due [--json]\ndue ITEM --done [--note TEXT]", "recurring duties: when next due",
	 NULL, "", due_opts, 1, LOAD_WRITE(RB), LOAD_READ(RB), cmd_due},
	{"lease", "lease [--json]\nlease hold SECONDS", "who drives this state",
	 "Shows who drives the state (operator, host, pid, command, since, heartbeat),\n"
	 "or holds the lease for SECONDS (until SIGTERM/SIGINT) like a console would.",
	 "", no_opts, 2, LOAD_WRITE(CLI_WANT_CONFIG) | CLI_DRIVER, LOAD_READ(CLI_WANT_CONFIG), cmd_lease},
	{"export", "export [--format jsonl|md] [-o FILE]\nexport --verify FILE.jsonl [--json]",
	 "the audit log as JSONL or a Markdown report; check an export's chain",
	 "jsonl: one event a line (id, ts, time, operator, host, pid, kind, phase, item,\n"
	 "prev_hash, hash, payload); md: a post-mortem report.",
	 "o:", export_opts, 0, LOAD_READ(CLI_WANT_CONFIG), LOAD_READ(CLI_WANT_CONFIG), cmd_export},
	{"replay", "replay [STATE|LOG.jsonl] [--at TIME | --event N] [--json]\n"
	 "replay [STATE|LOG.jsonl] --timeline [-i SECONDS] [--json]\n"
	 "replay [STATE|LOG.jsonl] [-i SECONDS] [--ascii]   (on a terminal)", "state as of a time; on a terminal: play it back",
	 "The state as of TIME (ISO-8601, 'YYYY-MM-DD HH:MM[:SS]' or unix seconds) or\n"
	 "event N; the last event by default.  With none of --at, --event, --json,\n"
	 "--timeline on a terminal: the console in REPLAY mode (Space plays, ? keys).",
	 "i:", replay_opts, 1, CLI_WANT_CONFIG, CLI_WANT_CONFIG, cmd_replay},
	{"rehearsal", "rehearsal mark [--note TEXT]\nrehearsal plan --plan-from STATE [--json]", "rehearsal timings",
	 NULL, "", rehearsal_opts, 2, LOAD_WRITE(RB), LOAD_READ(RB), cmd_rehearsal},
	{"demo", "demo [--rows N] [--dir DIR] [--stop] [--no-console]", "local demo migration",
	 NULL, "", demo_opts, 0, 0, 0, cmd_demo},
	{NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL},
};

/* Prints an entry's forms: "usage: pgcutover FORM", then one a line. */
static void command_usage(FILE *f, const cli_command *c, bool detail)
{
	const char *u = c->usage;
	for (bool first = true; *u; first = false) {
		size_t n = strcspn(u, "\n");
		fprintf(f, "%s pgcutover %.*s\n", first ? "usage:" : "      ", (int)n, u);
		u += n + (u[n] == '\n');
	}
	if (detail && c->help)
		fprintf(f, "%s\n", c->help);
	if (detail)
		fprintf(f, "See pgcutover(1), section COMMANDS.\n");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pgcutover [-c CONFIG] [-r RUNBOOK] [-s STATE] [--operator NAME]\n"
	           "                 [--json] [--no-color] [-q] COMMAND [ARGS]\n"
	           "       pgcutover -V | -h | help COMMAND | COMMAND --help\n\ncommands:\n");
	for (const cli_command *c = commands; c->name; c++) {
		const char *u = c->usage;
		for (bool first = true; *u; first = false) {
			size_t n = strcspn(u, "\n");
			if (first)
				fprintf(f, "  %-12s %s\n", c->name, c->summary);
			fprintf(f, "      %.*s\n", (int)n, u);
			u += n + (u[n] == '\n');
		}
	}
	fprintf(f, "\nSee pgcutover(1), pgcutover-runbook(5), pgcutover.json(5).\n");
}

static const cli_command *find_command(const char *name)
{
	for (const cli_command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* The name an option was given as, for messages: "-o" or "--output". */
static const char *option_shown(int optopt_, const char *arg, char *buf, size_t n)
{
	if (optopt_ > 0 && optopt_ < CLI_OPT_LONG) {
		snprintf(buf, n, "-%c", optopt_);
		return buf;
	}
	snprintf(buf, n, "%.*s", (int)strcspn(arg ? arg : "?", "="), arg ? arg : "?");
	return buf;
}

/* Parses argv (argv[0] the command's name) by c's table entry into *a.
 * Returns -1 to go on, else the exit code: 0 after --help, 64 on an
 * unknown option, a missing value or too many arguments. */
static int parse_command(const cli_command *c, int argc, char **argv, cli_args *a)
{
	size_t nopt = 0;
	while (c->options[nopt].name)
		nopt++;
	struct option *longopts = xcalloc(nopt + 2, sizeof *longopts);
	memcpy(longopts, c->options, nopt * sizeof *longopts);
	longopts[nopt] = (struct option){"help", no_argument, NULL, 'h'};
	bool in_order = c->optstring[0] == '+';
	char *optstring = xasprintf("%s:%sh", in_order ? "+" : "", c->optstring + in_order);

	memset(a, 0, sizeof *a);
	a->name = c->name;
	a->need = c->need;
	a->need_ro = c->need_ro;
	int rc = -1, ch, before = 1;
	bool text = in_order && c->max_args < 0, text_started = false;
	char shown[64];
	opterr = 0;
	optind = 1;
	while (rc < 0 && (before = optind, ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		if (ch == '?' && text) {
			text_started = true;   /* the text starts at this argument */
			break;
		} else if (ch == 'h') {
			command_usage(stdout, c, true);
			rc = PGC_EXIT_OK;
		} else if (ch == '?') {
			rc = cli_usage_error(c->name, "unknown option '%s'",
			                     option_shown(optopt, argv[optind - 1], shown, sizeof shown));
		} else if (ch == ':') {
			rc = cli_usage_error(c->name, "option '%s' needs a value",
			                     option_shown(optopt, argv[optind - 1], shown, sizeof shown));
		} else if (ch > 0 && ch < CLI_OPT_END) {
			a->opt[ch] = optarg ? optarg : "";
		}
	}
	if (rc < 0) {
		int first = text_started ? before : optind;
		a->argc = argc - first;
		a->argv = argv + first;
		if (c->max_args >= 0 && a->argc > c->max_args)
			rc = cli_usage_error(c->name, "unexpected argument '%s'", a->argv[c->max_args]);
	}
	free(optstring);
	free(longopts);
	return rc;
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
	int rc = 0;
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
			goto out;
		} else if ((strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) && nrest == 0) {
			usage(stdout);
			goto out;
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
			rc = PGC_EXIT_USAGE;
			goto out;
		}
		if (c)
			command_usage(stdout, c, true);
		else
			usage(stdout);
		goto out;
	}
	const cli_command *c = find_command(name);
	if (!c) {
		fprintf(stderr, "pgcutover: unknown command '%s'\n", name);
		usage(stderr);
		rc = PGC_EXIT_USAGE;
		goto out;
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
	cli_args args;
	rc = parse_command(c, nrest, rest, &args);
	if (rc < 0)
		rc = c->fn(&args, &o);
out:
	free(rest);
	return rc;
}
