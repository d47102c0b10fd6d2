/*
 * cmd_sequences.c -- `pgcutover sequences [check|sync] [--offset N]
 * [--dry-run] [--yes] [--json]`: every sequence on both sides with the
 * values left before its maximum (warned under the config's
 * sequences.headroom_floor), and `sync`: the target's identity and serial
 * sequences set to max(source last_value, column max()) + offset in one
 * transaction, the statements shown first (asked on the terminal unless
 * --yes), recorded with the target's old values as a sequences_synced
 * event.  Sequences no column owns are listed, never set.  The core is
 * seqsync.c; this file parses, asks, prints and records.
 *
 * Exit status: check 0 when every owned target sequence is ahead and no
 * side is under the floor, 1 otherwise; sync 0 when set (or nothing to
 * set), 64 no confirmation possible, 75 declined or a timeout, 69 a side
 * unreachable or the transaction failed (the record says how many took
 * effect: setval is not rolled back).
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/evpay.h"
#include "pgcutover/freeze.h"
#include "pgcutover/schema.h"
#include "pgcutover/seqsync.h"
#include "cli_action.h"

static void sequences_print_text(const seq_report *r)
{
	if (!r->have_source)
		printf("source is a Supabase REST endpoint: target sequences only, from the target's data\n");
	printf("sequences (%zu), floor %lld values left, offset %lld:\n", r->n, (long long)r->floor,
	       (long long)r->offset);
	for (size_t i = 0; i < r->n; i++) {
		char *line = seq_entry_line(&r->v[i], r->have_source);
		printf("%s\n", line);
		free(line);
	}
	if (r->n_low > 0)
		printf("WARNING: %zu sequence side%s under %lld values left\n", r->n_low, r->n_low == 1 ? "" : "s",
		       (long long)r->floor);
	if (r->n_unowned > 0)
		printf("%zu sequence%s not owned by a column: listed, not synced\n", r->n_unowned,
		       r->n_unowned == 1 ? "" : "s");
	printf("%zu behind; %zu to set\n", r->n_behind, r->n_statements);
}

static void sequences_print_statements(FILE *f, const seq_report *r)
{
	fprintf(f, "BEGIN READ WRITE;\n");
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].statement)
			fprintf(f, "%s\n", r->v[i].statement);
	fprintf(f, "COMMIT;\n");
}

static void sequences_print_json(const seq_report *r, bool with_applied, size_t applied, const char *error)
{
	cJSON *o = evp_sequences_json(r);
	if (with_applied) {
		cJSON_AddNumberToObject(o, "applied", (double)applied);
		evp_json_add_clean(o, "error", NULL, error);
	}
	char *txt = cJSON_PrintUnformatted(o);
	puts(txt);
	cJSON_free(txt);
	cJSON_Delete(o);
}

/* Shows the statements and asks (unless --yes): 0 go, else an exit status. */
static int sequences_confirm(const seq_report *r, bool yes)
{
	if (yes)
		return 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	fprintf(m, "pgcutover will run on the target:\n");
	sequences_print_statements(m, r);
	fclose(m);
	int rc = 0;
	if (!cli_tty_write(buf)) {
		fputs(buf, stderr);
		fprintf(stderr, "pgcutover: sequences sync needs a confirmation and there is no terminal; "
		        "give --yes to run it unattended\n");
		rc = CLI_NO_TERMINAL_EXIT;
	} else {
		int c = cli_tty_confirm("Set these sequences on the target?", "yes", true);
		if (c < 0)
			rc = CLI_NO_TERMINAL_EXIT;
		else if (c == 0) {
			fprintf(stderr, "pgcutover: nothing set\n");
			rc = PGC_EXIT_TEMPFAIL;
		}
	}
	free(buf);
	return rc;
}

int cmd_sequences(const cli_args *a, cli_opts *o)
{
	const char *sub = a->argc > 0 ? a->argv[0] : "check";
	bool sync = strcmp(sub, "sync") == 0;
	if (!sync && strcmp(sub, "check") != 0)
		return cli_usage_error("sequences", "unknown subcommand '%s' (check or sync)", sub);
	bool dry = cli_flag(a, 'n');
	cli_ctx ctx = {0};
	int rc = cli_load(&ctx, o, cli_need(a, !sync || dry));
	if (rc != 0)
		return rc;
	int offset = ctx.cfg->seq_offset;
	if (cli_opt(a, OPT_OFFSET) &&
	    cli_parse_int("sequences", "--offset", cli_opt(a, OPT_OFFSET), 0, INT32_MAX, &offset) < 0) {
		cli_unload(&ctx);
		return PGC_EXIT_USAGE;
	}
	seq_report r = {0};
	pgc_err e = {0};
	PGconn *src = NULL, *dst = NULL;
	char **schemas = sch_schemas_of(ctx.cfg);
	bool have_source = ctx.cfg->source.kind == CFG_EP_POSTGRES;
	if (have_source && !(src = sch_connect(ctx.cfg, &ctx.cfg->source, "source", &e))) {
		rc = cli_report(&e);
		goto done;
	}
	if (!(dst = sch_connect(ctx.cfg, &ctx.cfg->target, "target", &e))) {
		rc = cli_report(&e);
		goto done;
	}
	if (seq_check(src, dst, schemas, offset, ctx.cfg->seq_headroom_floor, &r, &e) != 0) {
		rc = cli_report(&e);
		goto done;
	}
	if (!sync) {
		if (o->json)
			sequences_print_json(&r, false, 0, NULL);
		else
			sequences_print_text(&r);
		rc = r.n_behind == 0 && r.n_low == 0 ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
		goto done;
	}
	if (!o->json)
		sequences_print_text(&r);
	if (r.n_statements == 0 || dry) {
		if (o->json)
			sequences_print_json(&r, false, 0, NULL);
		else if (r.n_statements == 0)
			printf("nothing to set: every owned target sequence is past the source\n");
		else {
			printf("dry run, nothing changed; would run on the target:\n");
			sequences_print_statements(stdout, &r);
		}
		goto done;
	}
	if (frz_proven_at(ctx.st, NULL) == 0 && !o->quiet)
		fprintf(stderr, "pgcutover: WARNING: no write freeze is proven (pgcutover freeze check): the source's "
		        "sequences may still move after this sync\n");
	if ((rc = sequences_confirm(&r, cli_flag(a, 'y'))) != 0)
		goto done;
	size_t applied = 0;
	pgc_err ae = {0};
	int arc = seq_sync_apply(dst, &r, &applied, &ae);
	char *payload = evp_sequences_write(&r, applied, arc < 0 ? ae.msg : NULL);
	int64_t id = 0;
	if (state_append(ctx.st, EV_SEQUENCES_SYNCED, NULL, NULL, payload, &id, &e) != 0)
		rc = cli_report(&e);
	free(payload);
	if (o->json)
		sequences_print_json(&r, true, applied, arc < 0 ? ae.msg : NULL);
	else if (arc == 0)
		printf("set %zu sequence%s on the target (event %lld)\n", applied, applied == 1 ? "" : "s",
		       (long long)id);
	if (arc < 0) {
		fprintf(stderr, "pgcutover: %s; %zu of %zu took effect (setval is not rolled back)\n", ae.msg,
		        applied, r.n_statements);
		rc = ae.code;
	}
done:
	if (src)
		PQfinish(src);
	if (dst)
		PQfinish(dst);
	seq_report_free(&r);
	sch_strv_free(schemas);
	cli_unload(&ctx);
	return rc;
}
