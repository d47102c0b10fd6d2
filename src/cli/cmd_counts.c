/*
 * cmd_counts.c -- `pgcutover counts [--json] [--exact] [--watch SECONDS]
 * [--timeout MS]`: row counts of every configured table on source and
 * target, through the same comparison core (compare.h) the console's counts
 * pane uses, run on the one poll() loop until the snapshot is complete.
 *
 * Exit status: 0 every table matches, 1 a table differs or could not be
 * counted, 69 a side is unreachable (the message names the server).  Each
 * completed snapshot is recorded as one EV_COUNTS event when the state file
 * exists.  --watch repeats every SECONDS until interrupted, printing one
 * JSON object per line (--json) or a refreshed table.  --timing reports on
 * stderr how long connecting, the first figure and the last one took, and
 * per PostgreSQL side how many counts ran at once and how many could use
 * parallel workers (pace.h).
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/cli.h"
#include "pgcutover/compare.h"
#include "pgcutover/pace.h"

#define COUNTS_MS_PER_S 1000
#define COUNTS_MAX_WATCH_S 86400
#define COUNTS_MAX_TIMEOUT_MS 86400000
#define COUNTS_EXIT_INTERRUPTED 130

typedef struct counts_run {
	cli_opts *o;
	cmp_session *cs;
	loop *lp;
	bool exact;
	bool timing;          /* --timing: connect/figure times on stderr */
	int watch_s;          /* 0 = once */
	bool tty;
	bool interrupted;
	int rc;               /* of the last snapshot */
	unsigned snapshots;
} counts_run;

static int counts_exit_code(cmp_session *cs)
{
	return cmp_exit_code(cs);
}

static void counts_print_rows(FILE *f, int64_t v, int width)
{
	if (v >= 0)
		fprintf(f, " %*lld", width, (long long)v);
	else
		fprintf(f, " %*s", width, "-");
}

static void counts_print_text(counts_run *r)
{
	const cmp_session *cs = r->cs;
	size_t namew = strlen("TABLE");
	for (size_t i = 0; i < cmp_n_tables(cs); i++) {
		size_t l = strlen(cmp_table_at(cs, i)->name);
		if (l > namew)
			namew = l;
	}
	enum { NUMW = 12 };
	if (r->watch_s > 0 && r->tty) {
		/* refresh in place: straight to the terminal, past the filter
		 * that keeps escape sequences out of headless output */
		static const char home_clear[] = "\033[H\033[2J";
		fflush(stdout);
		if (write(STDOUT_FILENO, home_clear, sizeof home_clear - 1) < 0) { /* cosmetic */ }
	} else if (r->snapshots > 1)
		putchar('\n');
	enum { PCTW = 7 };
	printf("%-*s %*s %*s %*s %*s  %s\n", (int)namew, "TABLE", NUMW, "SOURCE", NUMW, "TARGET",
	       NUMW, "DELTA", PCTW, "%", "STATE");
	/* differences first, as the console shows them (cmp_order) */
	size_t n = cmp_n_tables(cs);
	cmp_order_key *keys = cmp_session_order_keys(cs);
	size_t *order = xcalloc(n ? n : 1, sizeof *order);
	cmp_order(keys, n, order);
	free(keys);
	for (size_t k = 0; k < n; k++) {
		const cmp_table *t = cmp_table_at(cs, order[k]);
		const cmp_figure *s = &t->side[CMP_SOURCE], *g = &t->side[CMP_TARGET];
		char *name = pgc_sanitize(t->name);
		printf("%-*s", (int)namew, name);
		free(name);
		counts_print_rows(stdout, s->rows, NUMW);
		counts_print_rows(stdout, g->rows, NUMW);
		if (s->rows >= 0 && g->rows >= 0)
			printf(" %+*lld", NUMW, (long long)(g->rows - s->rows));
		else
			printf(" %*s", NUMW, "-");
		double pct = cmp_table_pct(t);
		if (pct >= 0)
			printf(" %*.1f", PCTW, pct);
		else
			printf(" %*s", PCTW, "-");
		printf("  %s\n", cmp_state_name(t->state));   /* "estimated" says it */
	}
	free(order);
	for (size_t i = 0; i < cmp_n_tables(cs); i++) {
		const cmp_table *t = cmp_table_at(cs, i);
		for (int w = 0; w < CMP_N_SIDES; w++)
			if (t->side[w].error) {
				char *name = pgc_sanitize(t->name), *why = pgc_sanitize(t->side[w].error);
				printf("%s: %s\n", name, why);
				free(name);
				free(why);
			}
	}
	char buf[PGC_ERR_MAX];
	printf("%s\n", cmp_summary(cs, buf, sizeof buf));
	if (r->watch_s > 0) {
		char at[32];
		pgc_iso8601(cmp_snapshot_at(cs), at, sizeof at);
		printf("counted at %s; every %d s, interrupt to stop\n", at, r->watch_s);
	}
	fflush(stdout);
}

static void counts_print(counts_run *r)
{
	if (r->o->json) {
		char *j = cmp_snapshot_json(r->cs, true);
		puts(j);
		free(j);
		fflush(stdout);
	} else {
		counts_print_text(r);
	}
	if (cmp_any_unreachable(r->cs) && !r->o->quiet) {
		for (int w = 0; w < CMP_N_SIDES; w++) {
			const cmp_side *sd = cmp_side_at(r->cs, (cmp_which)w);
			if (!sd->up && sd->error)
				fprintf(stderr, "pgcutover: %s unreachable: %s\n", sd->label, sd->error);
		}
	}
}

/* One line per side: milliseconds from start to connected, to the first
 * figure (the estimates), to the last figure of the snapshot. */
static void counts_print_timing(counts_run *r)
{
	for (int w = 0; w < CMP_N_SIDES; w++) {
		const cmp_side *sd = cmp_side_at(r->cs, (cmp_which)w);
		double t0 = sd->started_ms;
		fprintf(stderr, "timing: %s connected %.1f ms, first figure %.1f ms "
		        "(%.1f ms after connecting), last figure %.1f ms\n", sd->label,
		        sd->connected_ms ? sd->connected_ms - t0 : -1.0,
		        sd->first_figure_ms ? sd->first_figure_ms - t0 : -1.0,
		        sd->first_figure_ms && sd->connected_ms ? sd->first_figure_ms - sd->connected_ms : -1.0,
		        sd->last_figure_ms ? sd->last_figure_ms - t0 : -1.0);
		if (sd->pace)
			fprintf(stderr, "timing: %s counts at once: at most %d (now %d, ceiling %d), "
			        "%u with parallel workers\n", sd->label, sd->pace->max_seen,
			        sd->pace->limit, sd->pace->ceiling, sd->pace->n_parallel);
	}
}

static void counts_refresh_timer(loop *lp, void *ud)
{
	counts_run *r = ud;
	cmp_refresh(r->cs, r->exact);
}

static void counts_on_change(cmp_session *cs, bool snapshot_done, void *ud)
{
	counts_run *r = ud;
	if (!snapshot_done)
		return;
	r->snapshots++;
	r->rc = counts_exit_code(cs);
	counts_print(r);
	if (r->timing)
		counts_print_timing(r);
	if (cmp_record_error(cs) && !r->o->quiet)
		fprintf(stderr, "pgcutover: counts not recorded in the state: %s\n", cmp_record_error(cs));
	if (r->watch_s > 0)
		loop_timer(r->lp, r->watch_s * COUNTS_MS_PER_S, counts_refresh_timer, r);
	else
		loop_stop(r->lp);
}

static void counts_on_signal(loop *lp, int signo, void *ud)
{
	counts_run *r = ud;
	r->interrupted = true;
	loop_stop(lp);
}

int cmd_counts(const cli_args *a, cli_opts *o)
{
	counts_run r = {.o = o, .rc = PGC_EXIT_SOFTWARE};
	int timeout_ms = -1;
	r.exact = cli_flag(a, OPT_EXACT);
	r.timing = cli_flag(a, OPT_TIMING);
	if (cli_opt(a, OPT_WATCH) &&
	    cli_parse_int("counts", "--watch", cli_opt(a, OPT_WATCH), 1, COUNTS_MAX_WATCH_S, &r.watch_s) < 0)
		return PGC_EXIT_USAGE;
	if (cli_opt(a, OPT_TIMEOUT) &&
	    cli_parse_int("counts", "--timeout", cli_opt(a, OPT_TIMEOUT), 1, COUNTS_MAX_TIMEOUT_MS, &timeout_ms) < 0)
		return PGC_EXIT_USAGE;
	cli_ctx ctx = {0};
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	if (timeout_ms > 0)
		ctx.cfg->statement_timeout_ms = timeout_ms;
	pgc_err e = {0};
	r.lp = loop_new();
	r.cs = cmp_session_new(ctx.cfg, r.lp, &e);
	if (!r.cs) {
		rc = cli_report(&e);
		goto done;
	}
	r.tty = isatty(STDOUT_FILENO);
	state *st = cli_open_state_existing(&ctx, "counts");
	cmp_session_set_state(r.cs, st);
	cmp_session_set_listener(r.cs, counts_on_change, &r);
	loop_signal(r.lp, SIGINT, counts_on_signal, &r);
	loop_signal(r.lp, SIGTERM, counts_on_signal, &r);
	if (cmp_start(r.cs, &e) != 0) {
		rc = cli_report(&e);
		cmp_session_free(r.cs);
		if (st)
			state_close(st);
		goto done;
	}
	cmp_refresh(r.cs, r.exact);
	if (r.watch_s > 0 || r.snapshots == 0)   /* loop_run would miss an early stop */
		loop_run(r.lp);
	rc = r.rc;
	if (r.interrupted && r.snapshots == 0)
		rc = COUNTS_EXIT_INTERRUPTED;
	cmp_session_free(r.cs);   /* cancels counts still running */
	if (st)
		state_close(st);
done:
	loop_free(r.lp);
	cli_unload(&ctx);
	return rc;
}
