/*
 * cmd_verify.c -- `pgcutover verify [--table T] [--json]`: row-level
 * verification of source against target through the core (verify.h) the
 * console's verify screen drives, on the one poll() loop until every table
 * has its answer.
 *
 * Exit status: 0 every table equal, 1 a difference (rows missing, extra or
 * changed, a column on one side only, a table without a key whose
 * whole-table hash differs), 69 a side failed, 75 interrupted.  The run is
 * recorded as one EV_VERIFY event when the state file exists.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/verify.h"

/* Differing keys printed per table and kind in the text report. */
#define VERIFY_TEXT_KEYS 10
/* --max-load bounds, as config "verify" takes them (pgcutover.json(5)). */
#define VERIFY_MIN_ROWS 16
#define VERIFY_MAX_ROWS 100000000
#define VERIFY_MAX_PAUSE_MS 60000

typedef struct verify_run {
	cli_opts *o;
	loop *lp;
	bool interrupted;
} verify_run;

static void verify_on_change(vfy_session *vs, bool done, void *ud)
{
	verify_run *r = ud;
	if (done)
		loop_stop(r->lp);
}

static void verify_on_signal(loop *lp, int signo, void *ud)
{
	verify_run *r = ud;
	r->interrupted = true;
	loop_stop(lp);
}

static void verify_print_keys(const char *what, char *const *v, size_t n, int64_t total)
{
	if (total == 0)
		return;
	printf("  %s %lld:", what, (long long)total);
	for (size_t i = 0; i < n && i < VERIFY_TEXT_KEYS; i++) {
		char *k = pgc_sanitize(v[i]);
		printf(" %s", k);
		free(k);
	}
	printf("%s\n", total > VERIFY_TEXT_KEYS ? " ..." : "");
}

static void verify_print_text(const vfy_session *vs)
{
	size_t namew = vfy_name_width(vs, strlen("TABLE"));
	enum { NUMW = 10 };
	printf("%-*s %*s %*s %*s %*s  %s\n", (int)namew, "TABLE", NUMW, "ROWS", NUMW, "MISSING",
	       NUMW, "EXTRA", NUMW, "CHANGED", "STATE");
	for (size_t i = 0; i < vfy_n_tables(vs); i++) {
		const vfy_table *t = vfy_table_at(vs, i);
		char *name = pgc_sanitize(t->name);
		printf("%-*s %*lld %*lld %*lld %*lld  %s\n", (int)namew, name, NUMW, (long long)t->rows,
		       NUMW, (long long)t->missing.total, NUMW, (long long)t->extra.total,
		       NUMW, (long long)t->changed_total, vfy_state_key(t->state));
		free(name);
	}
	for (size_t i = 0; i < vfy_n_tables(vs); i++) {
		const vfy_table *t = vfy_table_at(vs, i);
		if (t->equal)
			continue;
		char *name = pgc_sanitize(t->name);
		printf("%s:\n", name);
		free(name);
		for (size_t k = 0; k < t->n_schema; k++) {
			char *s = pgc_sanitize(t->schema[k]);
			printf("  schema: %s\n", s);
			free(s);
		}
		if (t->state == VFY_NO_PK)
			printf("  cannot verify row by row (no primary key): source %lld rows, target %lld rows, "
			       "whole-table hash %s\n", (long long)t->whole_rows[0], (long long)t->whole_rows[1],
			       t->whole_hash[0] && t->whole_hash[1] && strcmp(t->whole_hash[0], t->whole_hash[1]) == 0
			       ? "equal" : "differs");
		if (t->error) {
			char *s = pgc_sanitize(t->error);
			printf("  error: %s\n", s);
			free(s);
		}
		for (size_t k = 0; k < t->n_integrity; k++) {
			const vfy_issue *is = &t->integrity[k];
			char *what = pgc_sanitize(is->what), *refs = pgc_sanitize(is->refs ? is->refs : "");
			if (is->kind == VFY_ISSUE_ORPHANS)
				printf("  foreign key %s -> %s%s: %lld orphan row%s on the target", what, refs,
				       is->not_valid ? " (NOT VALID)" : "", (long long)is->rows, is->rows == 1 ? "" : "s");
			else
				printf("  column %s: NOT NULL on the source, not on the target: %lld row%s hold NULL",
				       what, (long long)is->rows, is->rows == 1 ? "" : "s");
			for (size_t j = 0; j < is->keys.n && j < VERIFY_TEXT_KEYS; j++) {
				char *key = pgc_sanitize(is->keys.v[j]);
				printf("%s%s", j ? " " : ": ", key);
				free(key);
			}
			printf("\n");
			free(what);
			free(refs);
		}
		verify_print_keys("missing on the target", t->missing.v, t->missing.n, t->missing.total);
		verify_print_keys("extra on the target", t->extra.v, t->extra.n, t->extra.total);
		if (t->changed_total > 0) {
			printf("  changed %lld:", (long long)t->changed_total);
			for (size_t k = 0; k < t->n_changed && k < VERIFY_TEXT_KEYS; k++) {
				char *key = pgc_sanitize(t->changed[k].key), *cols = pgc_sanitize(t->changed[k].columns);
				printf(" %s (%s)", key, cols);
				free(key);
				free(cols);
			}
			printf("%s\n", t->changed_total > VERIFY_TEXT_KEYS ? " ..." : "");
		}
	}
	char buf[PGC_ERR_MAX];
	printf("%s\n", vfy_summary(vs, buf, sizeof buf));
}

/* --max-load ROWS/MS (or ROWS alone): the config's "verify" load bounds. */
static int verify_max_load(const char *v, config *cfg)
{
	char *end;
	long long rows = strtoll(v, &end, 10);
	long ms = 0;
	if (*end == '/') {
		char *e2;
		ms = strtol(end + 1, &e2, 10);
		if (e2 == end + 1 || *e2 != '\0')
			end = e2 = NULL;
		else
			end = e2;
	}
	if (!end || end == v || *end != '\0' || rows < VERIFY_MIN_ROWS || rows > VERIFY_MAX_ROWS ||
	    ms < 0 || ms > VERIFY_MAX_PAUSE_MS)
		return cli_usage_error("verify", "--max-load needs ROWS/MS: rows per range (%d to %d) and "
		                       "the pause after each range in ms (0 to %d), e.g. 20000/200",
		                       VERIFY_MIN_ROWS, VERIFY_MAX_ROWS, VERIFY_MAX_PAUSE_MS);
	cfg->verify_rows_per_range = rows;
	cfg->verify_pause_ms = (int)ms;
	return 0;
}

int cmd_verify(const cli_args *a, cli_opts *o)
{
	verify_run r = {.o = o};
	cli_ctx ctx = {0};
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	if (cli_opt(a, OPT_MAX_LOAD) && verify_max_load(cli_opt(a, OPT_MAX_LOAD), ctx.cfg) != 0) {
		cli_unload(&ctx);
		return PGC_EXIT_USAGE;
	}
	pgc_err e = {0};
	r.lp = loop_new();
	vfy_session *vs = vfy_session_new(ctx.cfg, r.lp, cli_opt(a, OPT_TABLE), &e);
	if (!vs) {
		rc = cli_report(&e);
		goto done;
	}
	state *st = cli_open_state_existing(&ctx, "verify");
	vfy_set_state(vs, st);
	vfy_set_listener(vs, verify_on_change, &r);
	loop_signal(r.lp, SIGINT, verify_on_signal, &r);
	loop_signal(r.lp, SIGTERM, verify_on_signal, &r);
	if (vfy_start(vs, &e) != 0) {
		rc = cli_report(&e);
	} else {
		if (!vfy_done(vs))
			loop_run(r.lp);
		if (!vfy_done(vs))
			vfy_cancel(vs);   /* interrupted: recorded as cancelled */
		if (o->json) {
			cJSON *j = vfy_result_json(vs, VFY_KEYS_KEPT);
			char *s = cJSON_PrintUnformatted(j);
			puts(s);
			cJSON_free(s);
			cJSON_Delete(j);
		} else {
			verify_print_text(vs);
		}
		if (vfy_record_error(vs) && !o->quiet)
			fprintf(stderr, "pgcutover: verify not recorded in the state: %s\n", vfy_record_error(vs));
		rc = vfy_exit_code(vs);
	}
	vfy_session_free(vs);
	if (st)
		state_close(st);
done:
	loop_free(r.lp);
	cli_unload(&ctx);
	return rc;
}
