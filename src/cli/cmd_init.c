/*
 * cmd_init.c -- `pgcutover init RUNBOOK [-o FILE|DIR] [--force]`: writes a
 * starter pgcutover.json for an operator's own runbook (core/init.c decides
 * what goes in it and writes it) and says what it found, as text or --json.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "pgcutover/cli.h"
#include "pgcutover/init.h"

static void print_names(const char *label, const init_names *l, const char *none)
{
	printf("  %-10s ", label);
	if (l->n == 0) {
		printf("%s\n", none);
		return;
	}
	printf("%zu:", l->n);
	for (size_t i = 0; i < l->n; i++) {
		char *s = pgc_sanitize(l->v[i]);
		printf("%s %s", i ? "," : "", s);
		free(s);
	}
	printf("\n");
}

static void report(const cli_opts *o, const init_outcome *r)
{
	if (o->json) {
		char *s = init_outcome_json(r);
		printf("%s\n", s);
		free(s);
		return;
	}
	if (o->quiet)
		return;
	const char *out = r->config_path;
	char *title = pgc_sanitize(r->title);
	printf("wrote %s for \"%s\" (%zu phase%s, %zu item%s)\n", out, title, r->n_phases,
	       r->n_phases == 1 ? "" : "s", r->n_items, r->n_items == 1 ? "" : "s");
	free(title);
	printf("  %-10s %s\n", "runbook", r->runbook);
	print_names("tables", &r->tables,
	            "none found (no \"in dependency order\" list): add them by hand");
	if (r->tables_from_source)
		printf("  %-10s the source's foreign keys: referenced tables first\n", "order");
	if (r->cycles.n)
		print_names("cycles", &r->cycles, "");
	if (r->skipped_tables.n)
		print_names("not tables", &r->skipped_tables, "");
	print_names("flags", &r->flags, "none found");
	if (r->not_flags.n)
		print_names("left out", &r->not_flags, "");
	if (r->health.n)
		print_names("health", &r->health, "");
	if (r->point_of_no_return)
		printf("  %-10s %s (the last item before the \"point of no return\" checkpoint)\n",
		       "no return", r->point_of_no_return);
	printf("  %-10s %s (placeholder)\n", "source", INIT_SOURCE_PLACEHOLDER);
	printf("  %-10s %s (placeholder)\n", "target", INIT_TARGET_PLACEHOLDER);
	printf("  %-10s %s\n", "env_file", INIT_ENV_FILE);
	if (r->cycles.n)
		printf("\"cycles\" are foreign keys in a loop: no order loads them all; those tables come last.\n");
	if (r->not_flags.n)
		printf("\"left out\" are NAME=VALUE lines that look like shell variables; add any "
		       "that are really .env flags to \"flags\".\n");
	printf("Next: define the two services in ~/.pg_service.conf (passwords in ~/.pgpass),\n"
	       "      or edit source/target; then run: pgcutover -c %s check\n", out);
}

int cmd_init(const cli_args *a, cli_opts *o)
{
	init_options io = {
		.runbook_path = a->argc > 0 ? a->argv[0] : o->runbook_path,
		.out = cli_opt(a, 'o') ? cli_opt(a, 'o') : o->config_path,
		.force = cli_flag(a, 'f'),
		.source = cli_opt(a, OPT_SOURCE),
	};
	if (!io.runbook_path)
		return cli_usage_error("init", "which runbook? e.g. pgcutover init runbook.md");
	init_outcome r;
	pgc_err e;
	pgc_err_clear(&e);
	int rc = init_write_config(&io, &r, &e) < 0 ? cli_report(&e) : PGC_EXIT_OK;
	if (rc == PGC_EXIT_OK)
		report(o, &r);
	init_outcome_free(&r);
	return rc;
}
