/*
 * cmd_check.c -- `pgcutover check [--json] RUNBOOK`: parses a runbook and
 * shows how pgcutover understood it, phase by phase (items, done, steps,
 * commands, flag edits, rollback, risk, duration), the runbook's health
 * checks (health.c's hc_collect) and the warnings; how many items `status`
 * will count (ledger_item_counts, so the two agree) and every heading that
 * names a rollback, read as a procedure or as work, and why.  Needs
 * no config; when one is given (-c) or ./pgcutover.json exists, its declared
 * flags are used to recognise NAME=VALUE flag edits.  The --json shape is an
 * interface documented in pgcutover(1); keep it stable.
 * The table fits $COLUMNS, the terminal or 80 columns, cutting long cells.
 * Exit: 0 ok, 64 usage, 65 bad runbook, 66 missing file.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/health.h"
#include "pgcutover/ledger.h"

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static size_t phase_flag_edits(const rb_phase *ph)
{
	return ph->n_flag_edits;
}

/* What `status` will count: the items that are work (not in a rollback
 * procedure, not skipped or N/A), and those marked done in the file. */
typedef struct check_counts {
	size_t counted, counted_done, rollback, not_counted;
} check_counts;

static check_counts phase_counts(const rb_phase *ph)
{
	check_counts c = {0};
	for (size_t i = 0; i < ph->n_items; i++) {
		const rb_item *it = &ph->items[i];
		if (ledger_item_counts(it)) {
			c.counted++;
			c.counted_done += it->mark == RB_MARK_DONE;
		} else if (it->rollback) {
			c.rollback++;
		} else {
			c.not_counted++;
		}
	}
	return c;
}

static check_counts runbook_counts(const runbook *rb)
{
	check_counts t = {0};
	for (size_t i = 0; i < rb->n_phases; i++) {
		check_counts c = phase_counts(&rb->phases[i]);
		t.counted += c.counted;
		t.counted_done += c.counted_done;
		t.rollback += c.rollback;
		t.not_counted += c.not_counted;
	}
	return t;
}

static size_t step_items(const rb_phase *ph, size_t step)
{
	size_t n = 0;
	for (size_t i = 0; i < ph->n_items; i++)
		n += ph->items[i].step == (int)step;
	return n;
}

/* Calls fn for every heading read as a rollback procedure or as rollback
 * work (the phase's title, then its steps), with its item count. */
typedef void (*rollback_fn)(void *arg, const rb_phase *ph, const char *title, int line, bool rollback,
                            const char *why, size_t items);

static void each_rollback_heading(const runbook *rb, rollback_fn fn, void *arg)
{
	for (size_t i = 0; i < rb->n_phases; i++) {
		const rb_phase *ph = &rb->phases[i];
		if (ph->rollback_kind != RB_ROLLBACK_NONE)
			fn(arg, ph, ph->title, ph->line, ph->rollback, ph->rollback_why ? ph->rollback_why : "",
			   ph->n_items);
		for (size_t j = 0; j < ph->n_steps; j++) {
			const rb_step *st = &ph->steps[j];
			if (st->rollback_kind != RB_ROLLBACK_NONE)
				fn(arg, ph, st->title, st->line, st->rollback, st->rollback_why ? st->rollback_why : "",
				   step_items(ph, j));
		}
	}
}

static void rollback_json(void *arg, const rb_phase *ph, const char *title, int line, bool rollback,
                          const char *why, size_t items)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "phase", ph->id);
	cJSON_AddStringToObject(o, "title", title);
	cJSON_AddNumberToObject(o, "line", line);
	cJSON_AddStringToObject(o, "read_as", rollback ? "rollback" : "work");
	cJSON_AddStringToObject(o, "why", why);
	cJSON_AddNumberToObject(o, "items", (double)items);
	cJSON_AddItemToArray((cJSON *)arg, o);
}

static void add_int_or_null(cJSON *o, const char *key, bool has, int v)
{
	if (has)
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

/* Every step with a time on it, as the schedule reads it: start time,
 * countdown offset from go-time, duration (a range's ends), window. */
static void schedule_json(const runbook *rb, cJSON *arr)
{
	for (size_t i = 0; i < rb->n_phases; i++) {
		const rb_phase *ph = &rb->phases[i];
		for (size_t j = 0; j < ph->n_steps; j++) {
			const rb_step *st = &ph->steps[j];
			if (!st->at[0] && !st->has_offset && !st->duration_min && !st->window_from[0])
				continue;
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "phase", ph->id);
			cJSON_AddStringToObject(o, "step", st->title);
			cJSON_AddNumberToObject(o, "line", st->line);
			add_str_or_null(o, "at", st->at[0] ? st->at : NULL);
			add_int_or_null(o, "offset_min", st->has_offset, st->offset_min);
			add_int_or_null(o, "duration_min", st->duration_min > 0, st->duration_min);
			add_int_or_null(o, "duration_min_low", st->duration_min > 0,
			                st->duration_min_low ? st->duration_min_low : st->duration_min);
			add_str_or_null(o, "window_from", st->window_from[0] ? st->window_from : NULL);
			add_str_or_null(o, "window_to", st->window_to[0] ? st->window_to : NULL);
			cJSON_AddItemToArray(arr, o);
		}
	}
}

/* Every block that runs: an item's, or a step's own (by the step's id,
 * "5.s2", which `run` and the console's x take), in file order: the items'
 * and the steps' blocks merged by line (each list is in file order). */
static void commands_json(const runbook *rb, cJSON *arr)
{
	for (size_t p = 0; p < rb->n_phases; p++) {
		const rb_phase *ph = &rb->phases[p];
		size_t i = 0, j = 0;
		for (;;) {
			while (i < ph->n_items && !(ph->items[i].block && ph->items[i].block->runnable))
				i++;
			while (j < ph->n_steps && !(ph->steps[j].block && ph->steps[j].block->runnable))
				j++;
			if (i >= ph->n_items && j >= ph->n_steps)
				break;
			bool step = j < ph->n_steps &&
			            (i >= ph->n_items || ph->steps[j].block->line < ph->items[i].block->line);
			const rb_block *b = step ? ph->steps[j].block : ph->items[i].block;
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "id", step ? ph->steps[j++].id : ph->items[i++].id);
			cJSON_AddStringToObject(o, "of", step ? "step" : "item");
			cJSON_AddNumberToObject(o, "line", b->line);
			cJSON_AddStringToObject(o, "lang", b->lang);
			cJSON_AddBoolToObject(o, "env", b->env);
			cJSON_AddItemToArray(arr, o);
		}
	}
}

static int print_json(const runbook *rb)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "title", rb->title);
	cJSON_AddStringToObject(root, "path", rb->path);
	cJSON_AddStringToObject(root, "sha256", rb->sha256);
	cJSON_AddBoolToObject(root, "repaired_encoding", rb->repaired_encoding);
	cJSON_AddNumberToObject(root, "repaired_lines", rb->repaired_lines);
	cJSON_AddNumberToObject(root, "items", (double)rb->n_items_total);
	check_counts tc = runbook_counts(rb);
	cJSON_AddNumberToObject(root, "counted", (double)tc.counted);
	cJSON_AddNumberToObject(root, "counted_done", (double)tc.counted_done);
	cJSON_AddNumberToObject(root, "rollback_items", (double)tc.rollback);
	cJSON_AddBoolToObject(root, "rollback_plan", rb->rollback_plan);
	add_str_or_null(root, "status", rb->status);
	add_str_or_null(root, "goal", rb->goal);
	add_str_or_null(root, "risk", rb->risk);
	add_str_or_null(root, "duration", rb->duration);
	add_str_or_null(root, "date", rb->date);
	cJSON *phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t i = 0; i < rb->n_phases; i++) {
		const rb_phase *ph = &rb->phases[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", ph->id);
		cJSON_AddStringToObject(o, "title", ph->title);
		cJSON_AddBoolToObject(o, "numbered", ph->numbered);
		cJSON_AddNumberToObject(o, "level", ph->level);
		cJSON_AddNumberToObject(o, "line", ph->line);
		cJSON_AddNumberToObject(o, "items", (double)ph->n_items);
		cJSON_AddNumberToObject(o, "done", ph->done);
		cJSON_AddNumberToObject(o, "steps", (double)ph->n_steps);
		cJSON_AddNumberToObject(o, "commands", ph->commands);
		cJSON_AddNumberToObject(o, "flag_edits", (double)phase_flag_edits(ph));
		cJSON_AddBoolToObject(o, "rollback", ph->has_rollback);
		check_counts pc = phase_counts(ph);
		cJSON_AddNumberToObject(o, "counted", (double)pc.counted);
		cJSON_AddNumberToObject(o, "counted_done", (double)pc.counted_done);
		cJSON_AddNumberToObject(o, "rollback_items", (double)pc.rollback);
		add_str_or_null(o, "risk", ph->risk);
		add_str_or_null(o, "duration", ph->duration);
		add_str_or_null(o, "status", ph->status);
		add_str_or_null(o, "goal", ph->goal);
		cJSON_AddItemToArray(phases, o);
	}
	each_rollback_heading(rb, rollback_json, cJSON_AddArrayToObject(root, "rollback_sections"));
	schedule_json(rb, cJSON_AddArrayToObject(root, "schedule"));
	commands_json(rb, cJSON_AddArrayToObject(root, "commands"));
	cJSON *secs = cJSON_AddArrayToObject(root, "sections");
	for (size_t i = 0; i < rb->n_sections; i++)
		cJSON_AddItemToArray(secs, cJSON_CreateString(rb->sections[i].title));
	hc_check *hc;
	size_t n_hc = hc_collect(NULL, rb, &hc);
	cJSON *hcs = cJSON_AddArrayToObject(root, "health_checks");
	for (size_t i = 0; i < n_hc; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "item", hc[i].item);
		cJSON_AddStringToObject(o, "url", hc[i].url);
		cJSON_AddItemToArray(hcs, o);
	}
	hc_checks_free(hc, n_hc);
	cJSON *warn = cJSON_AddArrayToObject(root, "warnings");
	for (size_t i = 0; i < rb->n_warnings; i++)
		cJSON_AddItemToArray(warn, cJSON_CreateString(rb->warnings[i]));
	char *s = cJSON_Print(root);
	int rc = s && puts(s) >= 0 ? PGC_EXIT_OK : PGC_EXIT_IOERR;
	free(s);
	cJSON_Delete(root);
	return rc;
}

/* Prints text made safe for a terminal (titles come from the file). */
static void put_safe(const char *s)
{
	char *t = pgc_sanitize(s ? s : "");
	fputs(t, stdout);
	free(t);
}

/* The table's width: $COLUMNS, else the terminal's, else 80. */
#define CHECK_DEFAULT_COLS 80
#define CHECK_RISK_MAX 10     /* a cell wider than this is cut */
#define CHECK_DUR_MAX 14
#define CHECK_TITLE_MIN 12

static int table_width(void)
{
	const char *c = getenv("COLUMNS");
	if (c && *c) {
		char *end;
		long v = strtol(c, &end, 10);
		if (!*end && v > 0 && v < 10000)
			return (int)v;
	}
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return CHECK_DEFAULT_COLS;
}

/* Columns of UTF-8 text (one a character: the runbook's text is mostly
 * Latin). */
static int text_cols(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* s (sanitized, malloc'd) cut to cols columns, "..." at the cut; padded to
 * cols when pad. */
static char *cell(const char *text, int cols, bool pad)
{
	char *t = pgc_sanitize(text ? text : "-");
	if (cols < 1)
		cols = 1;
	if (text_cols(t) > cols) {
		int keep = cols > 3 ? cols - 3 : cols, n = 0;
		char *p = t;
		for (; *p; p++) {
			if (((unsigned char)*p & 0xC0) != 0x80 && n++ == keep)
				break;
		}
		*p = '\0';
		if (cols > 3) {
			char *u = xasprintf("%s...", t);
			free(t);
			t = u;
		}
	}
	if (pad) {
		int w = text_cols(t);
		if (w < cols) {
			char *u = xasprintf("%s%*s", t, cols - w, "");
			free(t);
			t = u;
		}
	}
	return t;
}

static void rollback_human(void *arg, const rb_phase *ph, const char *title, int line, bool rollback,
                           const char *why, size_t items)
{
	int *cols = arg;
	char *t = cell(title, *cols / 3 > CHECK_TITLE_MIN ? *cols / 3 : CHECK_TITLE_MIN, false);
	/* one line within the width, like the table; --json has it whole */
	(void)ph;
	char *full = xasprintf("  %-8s line %d \"%s\" (%zu item%s): %s", rollback ? "rollback" : "work", line, t, items,
	                       items == 1 ? "" : "s", why);
	char *shown = cell(full, *cols, false);
	printf("%s\n", shown);
	free(shown);
	free(full);
	free(t);
}

static int print_human(const runbook *rb)
{
	put_safe(*rb->title ? rb->title : "(untitled runbook)");
	printf("\n");
	put_safe(rb->path);
	printf("  sha256 %.16s\n", rb->sha256);
	if (rb->repaired_encoding)
		printf("note: %d line%s of double-encoded UTF-8 repaired for display; the file is unchanged\n",
		       rb->repaired_lines, rb->repaired_lines == 1 ? "" : "s");
	int idw = (int)strlen("PHASE");
	for (size_t i = 0; i < rb->n_phases; i++)
		if ((int)strlen(rb->phases[i].id) > idw)
			idw = (int)strlen(rb->phases[i].id);
	/* RISK and DURATION as wide as their longest cell, within a cap; the
	 * title takes what is left of the width, and the risk and duration
	 * give back room (down to their headings) before it goes under
	 * CHECK_TITLE_MIN; what does not fit is cut with "..." */
	int riskw = (int)strlen("RISK"), durw = (int)strlen("DURATION"), longest_title = 0;
	for (size_t i = 0; i < rb->n_phases; i++) {
		char *r = pgc_sanitize(rb->phases[i].risk ? rb->phases[i].risk : "-");
		char *d = pgc_sanitize(rb->phases[i].duration ? rb->phases[i].duration : "-");
		char *t = pgc_sanitize(rb->phases[i].title);
		int rw = text_cols(r), dw = text_cols(d), tw = text_cols(t);
		riskw = rw > riskw ? rw : riskw;
		durw = dw > durw ? dw : durw;
		longest_title = tw > longest_title ? tw : longest_title;
		free(r);
		free(d);
		free(t);
	}
	int cols = table_width();
	int fixed = idw + 5 * 6 + 11;   /* id, five numbers, ROLLBACK and their gaps */
	if (fixed + riskw + 1 + durw + 1 + longest_title > cols) {
		/* not all whole: risk and duration within their caps first */
		riskw = riskw < CHECK_RISK_MAX ? riskw : CHECK_RISK_MAX;
		durw = durw < CHECK_DUR_MAX ? durw : CHECK_DUR_MAX;
	}
	int titlew = cols - fixed - riskw - 1 - durw - 1;
	while (titlew < CHECK_TITLE_MIN && (durw > (int)strlen("DURATION") || riskw > (int)strlen("RISK"))) {
		if (durw > (int)strlen("DURATION"))
			durw--;
		else
			riskw--;
		titlew++;
	}
	/* too narrow for a title column: each title on a line of its own */
	bool title_below = titlew < CHECK_TITLE_MIN;
	if (title_below)
		titlew = cols - 4 > CHECK_TITLE_MIN ? cols - 4 : CHECK_TITLE_MIN;
	printf("\n%-*s %5s %5s %5s %5s %5s %8s  %-*s %-*s%s\n", idw,
	       "PHASE", "ITEMS", "DONE", "STEPS", "CMDS", "FLAGS", "ROLLBACK", riskw, "RISK", durw, "DURATION",
	       title_below ? "" : " TITLE");
	size_t done = 0, steps = 0, cmds = 0, flags = 0;
	for (size_t i = 0; i < rb->n_phases; i++) {
		const rb_phase *ph = &rb->phases[i];
		printf("%-*s %5zu %5d %5zu %5d %5zu %8s  ", idw, ph->id, ph->n_items, ph->done, ph->n_steps,
		       ph->commands, phase_flag_edits(ph), ph->has_rollback ? "yes" : "-");
		char *risk = cell(ph->risk, riskw, true);
		char *dur = cell(ph->duration, durw, true);
		char *title = cell(ph->title, titlew, false);
		if (title_below)
			printf("%s %s\n    %s\n", risk, dur, title);
		else
			printf("%s %s %s\n", risk, dur, title);
		free(risk);
		free(dur);
		free(title);
		done += (size_t)ph->done;
		steps += ph->n_steps;
		cmds += (size_t)ph->commands;
		flags += phase_flag_edits(ph);
	}
	printf("\n%zu phase%s, %zu items (%zu done), %zu steps, %zu commands, %zu flag edits",
	       rb->n_phases, rb->n_phases == 1 ? "" : "s", rb->n_items_total, done, steps, cmds, flags);
	if (rb->n_sections)
		printf(", %zu context section%s", rb->n_sections, rb->n_sections == 1 ? "" : "s");
	printf("\n");
	check_counts tc = runbook_counts(rb);
	printf("status counts %zu items (%zu done)", tc.counted, tc.counted_done);
	if (tc.rollback)
		printf("; not %zu rollback item%s", tc.rollback, tc.rollback == 1 ? "" : "s");
	if (tc.not_counted)
		printf("; %zu skipped or N/A", tc.not_counted);
	printf("\n");
	bool any = false;
	for (size_t i = 0; i < rb->n_phases && !any; i++) {
		any = rb->phases[i].rollback_kind != RB_ROLLBACK_NONE;
		for (size_t j = 0; j < rb->phases[i].n_steps && !any; j++)
			any = rb->phases[i].steps[j].rollback_kind != RB_ROLLBACK_NONE;
	}
	if (any) {
		printf("rollback sections (override: <!-- pgcutover: work --> or rollback):\n");
		each_rollback_heading(rb, rollback_human, &cols);
	}
	hc_check *hc;
	size_t n_hc = hc_collect(NULL, rb, &hc);
	if (n_hc) {
		printf("health checks from the runbook:");
		for (size_t i = 0; i < n_hc; i++) {
			printf("%s %s ", i ? "," : "", hc[i].item);
			put_safe(hc[i].url);
		}
		printf("\n");
	} else {
		printf("health checks from the runbook: none\n");
	}
	hc_checks_free(hc, n_hc);
	if (rb->n_warnings) {
		printf("\n%zu warning%s:\n", rb->n_warnings, rb->n_warnings == 1 ? "" : "s");
		for (size_t i = 0; i < rb->n_warnings; i++) {
			printf("  ");
			put_safe(rb->warnings[i]);
			printf("\n");
		}
	}
	return fflush(stdout) == 0 ? PGC_EXIT_OK : PGC_EXIT_IOERR;
}

/* Loads the config when one was named or ./pgcutover.json exists, for the
 * declared flag names (and the runbook path when none was given).  A config
 * that does not load is reported as a warning: check needs none. */
static config *load_config_if_any(const cli_opts *o)
{
	const char *path = o->config_path ? o->config_path : CFG_DEFAULT_NAME;
	if (!o->config_path && access(path, F_OK) != 0)
		return NULL;
	config *cfg = NULL;
	pgc_err e;
	pgc_err_clear(&e);
	if (config_load(path, &cfg, &e) < 0) {
		if (!o->quiet)
			fprintf(stderr, "pgcutover: warning: %s (flags from the config are not used)\n", e.msg);
		return NULL;
	}
	return cfg;
}

/* `check -`: the runbook on standard input, with the same size limit. */
static int load_stdin(const rb_options *opt, runbook **out, pgc_err *e)
{
	size_t max = opt->max_bytes ? opt->max_bytes : RB_DEFAULT_MAX_BYTES;
	strbuf b;
	sb_init(&b);
	char chunk[BUFSIZ];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (b.len + n > max) {
			sb_free(&b);
			return pgc_fail(e, PGC_EXIT_DATAERR, "<stdin>:1:1: input is larger than the %zu byte limit", max);
		}
		sb_add(&b, chunk, n);
	}
	if (ferror(stdin)) {
		sb_free(&b);
		return pgc_fail(e, PGC_EXIT_IOERR, "<stdin>: read error");
	}
	int rc = runbook_parse(b.buf ? b.buf : "", b.len, "<stdin>", opt, out, e);
	sb_free(&b);
	return rc;
}

int cmd_check(const cli_args *a, cli_opts *o)
{
	const char *path = a->argc > 0 ? a->argv[0] : o->runbook_path;
	bool json = o->json;
	config *cfg = load_config_if_any(o);
	if (!path && cfg && cfg->runbook)
		path = cfg->runbook;
	if (!path) {
		if (cfg)
			config_free(cfg);
		return cli_usage_error("check", "no runbook given");
	}
	char *path_copy = xstrdup(path);   /* may point into cfg, freed below */
	rb_options opt = {0};
	if (cfg) {
		opt.flags = (const char *const *)cfg->flags;
		opt.n_flags = cfg->n_flags;
	}
	runbook *rb = NULL;
	pgc_err e;
	pgc_err_clear(&e);
	int rc = strcmp(path_copy, "-") == 0 ? load_stdin(&opt, &rb, &e)
	                                      : runbook_load(path_copy, &opt, &rb, &e);
	free(path_copy);
	if (cfg)
		config_free(cfg);
	if (rc < 0) {
		fprintf(stderr, "pgcutover: %s\n", e.msg);
		return e.code ? e.code : PGC_EXIT_DATAERR;
	}
	rc = json ? print_json(rb) : print_human(rb);
	runbook_free(rb);
	return rc;
}
