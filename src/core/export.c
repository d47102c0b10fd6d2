/*
 * export.c -- the audit log as JSONL and as a Markdown post-mortem (see
 * export.h).  The JSONL keeps each event's exact stored payload text and
 * both hashes, so export_verify_jsonl() recomputes the chain with
 * state_event_canonical() -- the same canonical text state.c hashes -- from
 * the file alone.  The report folds a ledger over the runbook (when there is
 * one) for phase times and reads the action events (command_end,
 * phase_rolled_back, flag_set, flag_drift) for failures, rollbacks and
 * hand edits of the .env.
 * Callers: cmd_export.c, replay.c (reading a JSONL log).
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/compare.h"
#include "pgcutover/evpay.h"
#include "pgcutover/export.h"
#include "pgcutover/ledger.h"
#include "pgcutover/schedule.h"

#define EXPORT_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define EXPORT_HASH_LEN 64
#define EXPORT_TIME_MAX 40
/* A line longer than this is not one of ours (command output is capped
 * well below it). */
#define EXPORT_LINE_MAX (64u * 1024 * 1024)
/* How much of a failed command's output tail the report quotes. */
#define EXPORT_OUTPUT_QUOTE_MAX 600
/* Text cells longer than this are cut in the report's tables. */
#define EXPORT_CELL_MAX 160
#define SECONDS_PER_MINUTE 60
#define MINUTES_PER_HOUR 60
#define HOURS_PER_DAY 24
#define DAYS_PER_WEEK 7
/* In pgc_iso8601's "2026-11-24T02:05:07.123Z": where the 'T' is, and the
 * length up to the seconds. */
#define EXPORT_ISO_DATE 10
#define EXPORT_ISO_SECONDS 19

/* ---- JSONL ---- */

static void put_json_string(strbuf *sb, const char *s)
{
	if (!s) {
		sb_puts(sb, "null");
		return;
	}
	cJSON *str = cJSON_CreateString(s);
	char *t = cJSON_PrintUnformatted(str);
	sb_puts(sb, t);
	cJSON_free(t);
	cJSON_Delete(str);
}

/* Whether the payload can go into a line as it is: one line, an object.
 * An imported payload_text may be any text, "{" and all: only one that
 * parses as a JSON object is written raw, or the line would not parse. */
static bool payload_fits_line(const char *p)
{
	if (!p || p[0] != '{' || strchr(p, '\n') || strchr(p, '\r'))
		return false;
	cJSON *o = cJSON_ParseWithOpts(p, NULL, true);
	bool object = cJSON_IsObject(o);
	cJSON_Delete(o);
	return object;
}

char *export_event_line(const st_event *ev)
{
	strbuf sb;
	sb_init(&sb);
	char when[EXPORT_TIME_MAX];
	pgc_iso8601(ev->ts, when, sizeof when);
	sb_printf(&sb, "{\"id\":%lld,\"ts\":%.6f,\"time\":\"%s\",\"operator\":", (long long)ev->id, ev->ts, when);
	put_json_string(&sb, ev->operator_name);
	sb_puts(&sb, ",\"host\":");
	put_json_string(&sb, ev->host);
	sb_printf(&sb, ",\"pid\":%d,\"kind\":", ev->pid);
	put_json_string(&sb, ev->kind);
	sb_puts(&sb, ",\"phase\":");
	put_json_string(&sb, ev->phase);
	sb_puts(&sb, ",\"item\":");
	put_json_string(&sb, ev->item);
	sb_printf(&sb, ",\"prev_hash\":\"%s\",\"hash\":\"%s\",", ev->prev_hash, ev->hash);
	const char *p = ev->payload ? ev->payload : "{}";
	if (payload_fits_line(p)) {
		sb_puts(&sb, "\"payload\":");
		sb_puts(&sb, p);
	} else {
		/* Exact bytes that would break a line travel as a string. */
		sb_puts(&sb, "\"payload_text\":");
		put_json_string(&sb, p);
	}
	sb_putc(&sb, '}');
	return sb_steal(&sb);
}

/* Where the value of the top-level "payload" member starts: the first
 * "payload": outside a string (keys before it cannot hide one, since
 * their quotes would be escaped). */
static const char *payload_start(const char *line)
{
	static const char key[] = "\"payload\":";
	bool in_str = false;
	for (const char *p = line; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		if (*p == '"') {
			if (strncmp(p, key, sizeof key - 1) == 0)
				return p + sizeof key - 1;
			in_str = true;
		}
	}
	return NULL;
}

static char *opt_string(const cJSON *o, const char *key, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (!cJSON_IsNull(v))
		*bad = true;
	return NULL;
}

static void copy_hash(char dst[65], const cJSON *v, bool *bad)
{
	/* lowercase hex as written: anything else would be exported raw into
	 * a line it could break */
	if (!cJSON_IsString(v) || strlen(v->valuestring) != EXPORT_HASH_LEN ||
	    strspn(v->valuestring, "0123456789abcdef") != EXPORT_HASH_LEN) {
		*bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, v->valuestring, EXPORT_HASH_LEN + 1);
}

/* Event ids are counted in a double by cJSON: exact up to 2^53. */
#define EXPORT_ID_MAX 9007199254740992.0

int export_parse_line(const char *line, st_event *ev, pgc_err *e)
{
	memset(ev, 0, sizeof *ev);
	cJSON *o = cJSON_Parse(line);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return pgc_fail(e, PGC_EXIT_DATAERR, "not a JSON object");
	}
	bool bad = false;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id"),
	            *ts = cJSON_GetObjectItemCaseSensitive(o, "ts"),
	            *pid = cJSON_GetObjectItemCaseSensitive(o, "pid"),
	            *ptext = cJSON_GetObjectItemCaseSensitive(o, "payload_text");
	const char *ts_problem = NULL, *num_problem = NULL;
	if (!cJSON_IsNumber(id) || !cJSON_IsNumber(ts) || !cJSON_IsNumber(pid))
		bad = true;
	else if ((ts_problem = state_ts_problem(ts->valuedouble)))
		bad = true;
	else if (!(id->valuedouble >= 1 && id->valuedouble < EXPORT_ID_MAX)   /* 2^53 + 1 reads as 2^53 */ ||
	         (double)(int64_t)id->valuedouble != id->valuedouble)   /* in range: the cast is defined */
		num_problem = "id", bad = true;
	else if (!(pid->valuedouble >= 0 && pid->valuedouble <= INT_MAX) ||
	         (double)(int)pid->valuedouble != pid->valuedouble)
		num_problem = "pid", bad = true;
	else {
		ev->id = (int64_t)id->valuedouble;
		ev->ts = ts->valuedouble;
		ev->pid = (int)pid->valuedouble;
	}
	ev->operator_name = opt_string(o, "operator", &bad);
	ev->host = opt_string(o, "host", &bad);
	ev->kind = opt_string(o, "kind", &bad);
	ev->phase = opt_string(o, "phase", &bad);
	ev->item = opt_string(o, "item", &bad);
	copy_hash(ev->prev_hash, cJSON_GetObjectItemCaseSensitive(o, "prev_hash"), &bad);
	copy_hash(ev->hash, cJSON_GetObjectItemCaseSensitive(o, "hash"), &bad);
	if (!ev->operator_name || !ev->host || !ev->kind)
		bad = true;
	if (cJSON_IsString(ptext)) {
		ev->payload = xstrdup(ptext->valuestring);
	} else {
		const char *start = payload_start(line);
		const char *end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
			end--;
		if (!start || end <= start || end[-1] != '}' || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "payload")))
			bad = true;
		else
			ev->payload = xstrndup(start, (size_t)(end - 1 - start));
	}
	cJSON_Delete(o);
	if (ts_problem || num_problem) {
		st_event_clear(ev);
		if (ts_problem)
			return pgc_fail(e, PGC_EXIT_DATAERR, "ts %s", ts_problem);
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s is not a whole number in range", num_problem);
	}
	if (bad) {
		st_event_clear(ev);
		return pgc_fail(e, PGC_EXIT_DATAERR, "not a pgcutover event (id, ts, operator, host, pid, "
		                "kind, prev_hash, hash and payload are needed)");
	}
	return 0;
}

typedef struct export_run {
	FILE *out;
	int64_t n;
	bool failed;
} export_run;

static int export_one(const st_event *ev, void *ud)
{
	export_run *r = ud;
	char *line = export_event_line(ev);
	if (fputs(line, r->out) == EOF || fputc('\n', r->out) == EOF)
		r->failed = true;
	free(line);
	r->n++;
	return r->failed ? 1 : 0;
}

int export_jsonl(state *st, int64_t after_id, FILE *out, int64_t *n_out, pgc_err *e)
{
	export_run r = {.out = out};
	if (state_foreach(st, after_id, export_one, &r, e) < 0)
		return -1;
	if (r.failed || fflush(out) != 0)
		return pgc_fail(e, PGC_EXIT_IOERR, "cannot write the export: %s", strerror(errno));
	if (n_out)
		*n_out = r.n;
	return 0;
}

/* Calls fn for each non-empty line of path; lineno is 1-based. */
typedef int (*line_fn)(const char *line, int64_t lineno, void *ud);

static int for_each_line(const char *path, line_fn fn, void *ud, pgc_err *e)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f)
		return pgc_fail(e, errno == ENOENT ? PGC_EXIT_NOINPUT : PGC_EXIT_IOERR, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t lineno = 0;
	int rc = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((size_t)len > EXPORT_LINE_MAX) {
			rc = pgc_fail(e, PGC_EXIT_DATAERR, "%s:%lld: line too long", path, (long long)lineno);
			break;
		}
		const char *p = line;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			continue;
		if ((rc = fn(line, lineno, ud)) != 0)
			break;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

typedef struct read_ctx {
	export_log *log;
	size_t cap;
	const char *path;
	pgc_err *e;
} read_ctx;

static int read_one(const char *line, int64_t lineno, void *ud)
{
	read_ctx *r = ud;
	st_event ev;
	pgc_err pe = {0};
	if (export_parse_line(line, &ev, &pe) < 0)
		return pgc_fail(r->e, PGC_EXIT_DATAERR, "%s:%lld: %s", r->path, (long long)lineno, pe.msg);
	if (r->log->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->log->events = xrealloc(r->log->events, r->cap * sizeof *r->log->events);
	}
	r->log->events[r->log->n++] = ev;
	return 0;
}

int export_read_jsonl(const char *path, export_log *log, pgc_err *e)
{
	memset(log, 0, sizeof *log);
	read_ctx r = {.log = log, .path = path, .e = e};
	if (for_each_line(path, read_one, &r, e) != 0) {
		export_log_free(log);
		return -1;
	}
	return 0;
}

/* ---- import into a state file ---- */

#define EXPORT_IMPORT_BATCH 50000   /* events per transaction */

typedef struct import_ctx {
	state *st;
	const char *path;
	int64_t n;
	pgc_err *e;
} import_ctx;

static int import_one(const char *line, int64_t lineno, void *ud)
{
	import_ctx *c = ud;
	st_event ev;
	pgc_err pe = {0};
	if (export_parse_line(line, &ev, &pe) < 0) {
		pgc_fail(c->e, PGC_EXIT_DATAERR, "%s:%lld: %s", c->path, (long long)lineno, pe.msg);
		return 1;
	}
	int rc = 0;
	if (c->n > 0 && c->n % EXPORT_IMPORT_BATCH == 0 &&
	    (state_commit(c->st, &pe) < 0 || state_begin(c->st, &pe) < 0))
		rc = pgc_fail(c->e, pe.code ? pe.code : PGC_EXIT_IOERR, "%s: %s", state_path(c->st), pe.msg);
	else if (state_import_event(c->st, &ev, &pe) < 0)
		rc = pgc_fail(c->e, pe.code ? pe.code : PGC_EXIT_DATAERR, "%s:%lld: %s", c->path, (long long)lineno, pe.msg);
	st_event_clear(&ev);
	if (rc)
		return 1;
	c->n++;
	return 0;
}

int export_import_jsonl(const char *path, state *st, int64_t *n_out, pgc_err *e)
{
	import_ctx c = {.st = st, .path = path, .e = e};
	if (state_begin(st, e) < 0)
		return -1;
	if (for_each_line(path, import_one, &c, e) != 0) {
		state_rollback(st);
		return -1;
	}
	if (c.n == 0) {
		state_rollback(st);
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s: no events", path);
	}
	pgc_err pe = {0};
	if (state_commit(st, &pe) < 0)
		return pgc_fail(e, pe.code ? pe.code : PGC_EXIT_IOERR, "%s: %s", state_path(st), pe.msg);
	if (n_out)
		*n_out = c.n;
	return 0;
}

void export_log_free(export_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		st_event_clear(&log->events[i]);
	free(log->events);
	memset(log, 0, sizeof *log);
}

typedef struct verify_ctx {
	const char *path;
	int64_t expect_id;
	char prev[65];
	int64_t bad_line;
	pgc_err *e;
} verify_ctx;

static int verify_line(const char *line, int64_t lineno, void *ud)
{
	verify_ctx *v = ud;
	st_event ev;
	pgc_err pe = {0};
	if (export_parse_line(line, &ev, &pe) < 0) {
		v->bad_line = lineno;
		pgc_fail(v->e, PGC_EXIT_DIFFERENT, "%s:%lld: %s", v->path, (long long)lineno, pe.msg);
		return 1;
	}
	int rc = 0;
	switch (state_chain_check(&ev, v->expect_id, v->prev)) {
	case ST_CHAIN_ID:
		pgc_fail(v->e, PGC_EXIT_DIFFERENT, "%s:%lld: event %lld where event %lld was expected: "
		         "events were removed or reordered", v->path, (long long)lineno, (long long)ev.id,
		         (long long)v->expect_id);
		rc = 1;
		break;
	case ST_CHAIN_PREV:
		pgc_fail(v->e, PGC_EXIT_DIFFERENT, "%s:%lld: event %lld: previous hash does not match "
		         "event %lld: the chain is broken", v->path, (long long)lineno, (long long)ev.id,
		         (long long)ev.id - 1);
		rc = 1;
		break;
	case ST_CHAIN_HASH:
		pgc_fail(v->e, PGC_EXIT_DIFFERENT, "%s:%lld: event %lld (%s): hash does not match its "
		         "contents: the event was edited", v->path, (long long)lineno, (long long)ev.id, ev.kind);
		rc = 1;
		break;
	case ST_CHAIN_OK:
		break;
	}
	if (rc)
		v->bad_line = lineno;
	else {
		memcpy(v->prev, ev.hash, sizeof v->prev);
		v->expect_id++;
	}
	st_event_clear(&ev);
	return rc;
}

int export_verify_jsonl(const char *path, int64_t *n_events, char head_hash[65],
                        int64_t *bad_line, pgc_err *e)
{
	verify_ctx v = {.path = path, .expect_id = 1, .e = e};
	memcpy(v.prev, EXPORT_GENESIS_HASH, sizeof v.prev);
	*bad_line = 0;
	int rc = for_each_line(path, verify_line, &v, e);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		*bad_line = v.bad_line;
		*n_events = v.expect_id - 1;
		return 1;
	}
	if (v.expect_id == 1)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s: no events", path);
	*n_events = v.expect_id - 1;
	memcpy(head_hash, v.prev, 65);
	return 0;
}

static cJSON *number_or_null(bool have, int64_t n)
{
	return have ? cJSON_CreateNumber((double)n) : cJSON_CreateNull();
}

char *export_verdict_json(const chain_verdict *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "intact", v->intact);
	cJSON_AddNumberToObject(o, "events", (double)v->events);
	cJSON_AddItemToObject(o, "head", v->intact && v->head ? cJSON_CreateString(v->head) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "bad_event", number_or_null(!v->intact && v->bad_event > 0, v->bad_event));
	cJSON_AddItemToObject(o, "bad_line", number_or_null(!v->intact && v->bad_line > 0, v->bad_line));
	cJSON_AddItemToObject(o, "error", !v->intact && v->error ? cJSON_CreateString(v->error) : cJSON_CreateNull());
	char *s = cJSON_Print(o);
	cJSON_Delete(o);
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

/* ---- Markdown report ---- */

typedef struct md_row {
	double ts;
	char *who, *kind, *where, *detail;
} md_row;

typedef struct md_op {
	char *name;
	int ticks, unticks, notes, commands, other;
	double first, last;
} md_op;

struct export_md {
	const runbook *rb;
	ledger *lg;
	char *source;
	int64_t n_events;
	double first_ts, last_ts;
	md_row *rows; size_t n_rows, cap_rows;
	md_op *ops; size_t n_ops;
	strbuf rollbacks, failures, takeovers, drifts, decisions;
	int n_counts, n_health;
	char *last_counts; double last_counts_ts;
};

export_md *export_md_new(const runbook *rb, const char *source_name)
{
	export_md *md = xcalloc(1, sizeof *md);
	md->rb = rb;
	md->lg = rb ? ledger_new(rb) : NULL;
	md->source = xstrdup(source_name ? source_name : "");
	sb_init(&md->rollbacks);
	sb_init(&md->failures);
	sb_init(&md->takeovers);
	sb_init(&md->drifts);
	sb_init(&md->decisions);
	return md;
}

/* Text fit for one Markdown table cell: sanitised, pipes escaped, a line
 * break as <br> (a cell is one line of the table; sanitising first made
 * every newline a '?').  Markdown in it (a runbook's **bold**) is kept,
 * and a cut never leaves a ** open to run into the next cell. */
static char *cell(const char *s)
{
	strbuf sb;
	sb_init(&sb);
	size_t n = 0;
	int stars = 0;
	const char *p = s ? s : "";
	while (*p && n < EXPORT_CELL_MAX) {
		size_t len = strcspn(p, "\r\n");
		char *seg = xstrndup(p, len);
		char *clean = pgc_sanitize(seg);
		free(seg);
		for (const char *c = clean; *c && n < EXPORT_CELL_MAX; c++, n++) {
			if (*c == '|')
				sb_puts(&sb, "\\|");
			else
				sb_putc(&sb, *c);
			if (c[0] == '*' && c[1] == '*' && n + 1 < EXPORT_CELL_MAX) {
				sb_putc(&sb, '*');
				c++;
				n++;
				stars++;
			}
		}
		free(clean);
		p += len;
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p) {
			p++;
			if (*p && n < EXPORT_CELL_MAX)
				sb_puts(&sb, "<br>");
		}
	}
	if (*p) {
		if (stars % 2)
			sb_puts(&sb, "**");
		sb_puts(&sb, "…");
	}
	return sb_steal(&sb);
}

static md_op *op_for(export_md *md, const char *name)
{
	for (size_t i = 0; i < md->n_ops; i++)
		if (strcmp(md->ops[i].name, name) == 0)
			return &md->ops[i];
	md->ops = xrealloc(md->ops, (md->n_ops + 1) * sizeof *md->ops);
	md_op *op = &md->ops[md->n_ops++];
	memset(op, 0, sizeof *op);
	op->name = xstrdup(name);
	return op;
}

static const char *item_text(const export_md *md, const char *id)
{
	const rb_item *it = md->rb && id ? runbook_item(md->rb, id, NULL) : NULL;
	return it ? it->text : NULL;
}

/* "2026-11-24 02:05:07", UTC (the report's header says so): a reader
 * wants the second, not the millisecond the log keeps. */
static void fmt_time(double t, char *buf, size_t n)
{
	if (t <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	char iso[EXPORT_TIME_MAX];
	pgc_iso8601(t, iso, sizeof iso);   /* "2026-11-24T02:05:07.123Z" or "invalid time" */
	if (strlen(iso) >= EXPORT_ISO_SECONDS && iso[EXPORT_ISO_DATE] == 'T')
		snprintf(buf, n, "%.*s %.*s", EXPORT_ISO_DATE, iso, EXPORT_ISO_SECONDS - EXPORT_ISO_DATE - 1,
		         iso + EXPORT_ISO_DATE + 1);
	else
		snprintf(buf, n, "%s", iso);
}

/* 45s, 4m51s, 2h05m, and past a day 3d04h (not 76h00m). */
static void fmt_duration(double secs, char *buf, size_t n)
{
	if (secs < 0) {
		snprintf(buf, n, "-");
		return;
	}
	long s = (long)(secs + 0.5);
	long h = s / (SECONDS_PER_MINUTE * MINUTES_PER_HOUR), m = (s / SECONDS_PER_MINUTE) % MINUTES_PER_HOUR;
	if (h >= HOURS_PER_DAY && h % HOURS_PER_DAY == 0)
		snprintf(buf, n, "%ldd", h / HOURS_PER_DAY);
	else if (h >= HOURS_PER_DAY)
		snprintf(buf, n, "%ldd%02ldh", h / HOURS_PER_DAY, h % HOURS_PER_DAY);
	else if (h)
		snprintf(buf, n, "%ldh%02ldm", h, m);
	else if (m)
		snprintf(buf, n, "%ldm%02lds", m, s % SECONDS_PER_MINUTE);
	else
		snprintf(buf, n, "%lds", s);
}

void export_md_add(export_md *md, const st_event *ev)
{
	if (md->lg)
		ledger_apply(md->lg, ev);
	if (md->n_events == 0)
		md->first_ts = ev->ts;
	md->n_events++;
	md->last_ts = ev->ts;
	evr_op pl;
	evr_op_read(ev->payload, &pl);
	md_op *op = op_for(md, ev->operator_name);
	if (op->first == 0)
		op->first = ev->ts;
	op->last = ev->ts;
	char when[EXPORT_TIME_MAX];
	fmt_time(ev->ts, when, sizeof when);
	const char *k = ev->kind;
	char *detail = NULL;
	bool in_timeline = true;
	if (strcmp(k, EV_TICK) == 0) {
		op->ticks++;
		const char *note = pl.note;
		const char *t = item_text(md, ev->item);
		detail = xasprintf("%s%s%s", t ? t : "", note ? " — note: " : "", note ? note : "");
	} else if (strcmp(k, EV_UNTICK) == 0) {
		op->unticks++;
		const char *reason = pl.reason;
		detail = xasprintf("reason: %s", reason ? reason : "-");
	} else if (strcmp(k, EV_NOTE) == 0) {
		op->notes++;
		detail = xstrdup(pl.text ? pl.text : "");
	} else if (strcmp(k, EV_COUNTS) == 0) {
		md->n_counts++;
		free(md->last_counts);
		md->last_counts = xstrdup(ev->payload);
		md->last_counts_ts = ev->ts;
		in_timeline = false;
		op->other++;
	} else if (strcmp(k, "health") == 0) {
		md->n_health++;
		in_timeline = false;
		op->other++;
	} else if (strcmp(k, "command_start") == 0) {
		op->commands++;
		evr_command_start cs;
		evr_command_start_read(ev->payload, &cs);
		detail = xstrdup(cs.command ? cs.command : "");
		evr_command_start_free(&cs);
	} else if (strcmp(k, "command_end") == 0) {
		evr_command_end ce;
		evr_command_end_read(ev->payload, &ce);
		const char *status = ce.status;
		bool failed = (status && strcmp(status, "ok") != 0) || (ce.has_exit && ce.exit_code != 0);
		char exit_text[24] = "-";
		if (ce.has_exit)
			snprintf(exit_text, sizeof exit_text, "%d", ce.exit_code);
		detail = xasprintf("%s, exit %s", status ? status : "?", exit_text);
		if (failed) {
			char *c_item = cell(ev->item ? ev->item : "-");
			char *c_who = cell(ev->operator_name);
			char d[EXPORT_TIME_MAX];
			fmt_duration(ce.has_duration ? ce.duration_s : -1, d, sizeof d);
			sb_printf(&md->failures, "- %s item %s by %s: %s, exit %d after %s\n", when, c_item, c_who,
			          status ? status : "?", ce.has_exit ? ce.exit_code : -1, d);
			const char *tail = ce.output_tail;
			if (!tail || !*tail)
				tail = ce.output_head;
			const char *err = ce.error;
			if (err && *err) {
				char *c = cell(err);
				sb_printf(&md->failures, "  - error: %s\n", c);
				free(c);
			}
			if (tail && *tail) {
				size_t len = strlen(tail);
				const char *from = len > EXPORT_OUTPUT_QUOTE_MAX ? tail + len - EXPORT_OUTPUT_QUOTE_MAX : tail;
				char *clean = pgc_sanitize(from);
				sb_puts(&md->failures, "\n  ```\n");
				for (char *line = strtok(clean, "\n"); line; line = strtok(NULL, "\n"))
					sb_printf(&md->failures, "  %s\n", line);
				sb_puts(&md->failures, "  ```\n\n");
				free(clean);
			}
			free(c_item);
			free(c_who);
		}
		evr_command_end_free(&ce);
	} else if (strcmp(k, "phase_rolled_back") == 0) {
		char *c = cell(ev->phase ? ev->phase : "-");
		char *w = cell(ev->operator_name);
		sb_printf(&md->rollbacks, "- %s phase %s rolled back by %s\n", when, c, w);
		free(c);
		free(w);
	} else if (strcmp(k, "lease_takeover") == 0) {
		evr_lease ls;
		evr_lease_read(ev->payload, &ls);
		char *w = cell(ev->operator_name), *f = cell(ls.from_operator);
		sb_printf(&md->takeovers, "- %s %s took over the lease from %s (%s)\n", when, w, f,
		          ls.reason ? ls.reason : "-");
		free(w);
		free(f);
		evr_lease_free(&ls);
	} else if (strcmp(k, "flag_set") == 0) {
		op->other++;
		evr_flag_set fl;
		evr_flag_set_read(ev->payload, &fl);
		detail = xasprintf("%s: %s → %s", fl.name ? fl.name : "?", fl.old_value ? fl.old_value : "-",
		                   fl.new_value ? fl.new_value : "-");
		evr_flag_set_free(&fl);
	} else if (strcmp(k, EV_FLAG_DRIFT) == 0) {
		op->other++;
		evr_flag_drift fd;
		evr_flag_drift_read(ev->payload, &fd);
		detail = xasprintf("%s: %s → %s by hand (seen by %s)", fd.name ? fd.name : "?",
		                   fd.last_set ? fd.last_set : "-", fd.absent ? "(removed)" : fd.value ? fd.value : "-",
		                   fd.noticed_by ? fd.noticed_by : "?");
		char *c = cell(detail), *w = cell(ev->operator_name);
		sb_printf(&md->drifts, "- %s %s (recorded by %s)\n", when, c, w);
		free(c);
		free(w);
		evr_flag_drift_free(&fd);
	} else if (strcmp(k, EV_GO_DECISION) == 0) {
		op->other++;
		detail = evp_event_brief(ev);
		char *c = cell(ev->item ? ev->item : "-"), *w = cell(ev->operator_name);
		char *lines = evp_go_decision_md(ev->payload);
		sb_printf(&md->decisions, "- %s switch %s by %s: %s\n%s", when, c, w, detail, lines);
		free(lines);
		free(c);
		free(w);
	} else if (strcmp(k, "phase_override") == 0 || strcmp(k, EV_PHASE_COMPLETE) == 0) {
		op->other++;
		detail = xstrdup(pl.reason ? pl.reason : "");
	} else if (strcmp(k, EV_RUNBOOK_LOADED) == 0 || strcmp(k, EV_STATE_CREATED) == 0 ||
	           strcmp(k, "session_start") == 0 || strcmp(k, "session_end") == 0 ||
	           strcmp(k, "lease_acquired") == 0 || strcmp(k, "lease_released") == 0) {
		in_timeline = strcmp(k, EV_RUNBOOK_LOADED) != 0;
		op->other++;
	} else {
		op->other++;
		detail = evp_event_brief(ev);   /* freeze, sequences, go_board: their verdict */
	}
	if (strcmp(k, EV_UNTICK) == 0) {
		char *c = cell(ev->item ? ev->item : "-"), *w = cell(ev->operator_name),
		     *r = cell(pl.reason);
		sb_printf(&md->rollbacks, "- %s item %s unticked by %s: %s\n", when, c, w, r);
		free(c);
		free(w);
		free(r);
	}
	if (in_timeline) {
		if (md->n_rows == md->cap_rows) {
			md->cap_rows = md->cap_rows ? md->cap_rows * 2 : 256;
			md->rows = xrealloc(md->rows, md->cap_rows * sizeof *md->rows);
		}
		md_row *r = &md->rows[md->n_rows++];
		r->ts = ev->ts;
		r->who = xstrdup(ev->operator_name);
		r->kind = xstrdup(k);
		r->where = xstrdup(ev->item ? ev->item : ev->phase ? ev->phase : "");
		r->detail = detail ? detail : xstrdup("");
		detail = NULL;
	}
	free(detail);
	evr_op_free(&pl);
}

/* "2 hours", "30 min", "1.5 days", "1 week" -> seconds; -1 when unreadable. */
static double planned_seconds(const char *text)
{
	if (!text)
		return -1;
	const char *p = text;
	while (*p && (*p < '0' || *p > '9'))
		p++;
	if (!*p)
		return -1;
	char *end = NULL;
	double v = strtod(p, &end);
	/* "2-3 hours": the upper bound is the plan's promise. */
	if (end && *end == '-' && end[1] >= '0' && end[1] <= '9')
		v = strtod(end + 1, &end);
	while (end && *end == ' ')
		end++;
	if (!end || !*end)
		return -1;
	double unit;
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = SECONDS_PER_MINUTE; break;
	case 'h': unit = SECONDS_PER_MINUTE * MINUTES_PER_HOUR; break;
	case 'd': unit = SECONDS_PER_MINUTE * MINUTES_PER_HOUR * HOURS_PER_DAY; break;
	case 'w': unit = SECONDS_PER_MINUTE * MINUTES_PER_HOUR * HOURS_PER_DAY * DAYS_PER_WEEK; break;
	default: return -1;
	}
	return v * unit;
}

static double phase_planned(const rb_phase *ph)
{
	double s = planned_seconds(ph->duration);
	if (s >= 0)
		return s;
	long long mins = 0;   /* thousands of steps of up to a year each */
	for (size_t i = 0; i < ph->n_steps; i++)
		mins += ph->steps[i].duration_min;
	return mins > 0 ? (double)mins * SECONDS_PER_MINUTE : -1;
}

/* The downtime as `pgcutover downtime` and the console's header have it:
 * sched_downtime_get() over the ledger of these events, so an explicit
 * start and end (D) count across a rollback that unticked the window's
 * items in between; a clock still running is measured to the last event. */
static void md_downtime(export_md *md, strbuf *sb)
{
	sb_puts(sb, "\n## Downtime\n\n");
	if (!md->rb || !md->lg) {
		sb_puts(sb, "No runbook: downtime not known.\n");
		return;
	}
	sched_downtime d;
	sched_downtime_get(md->rb, md->lg, md->last_ts, &d);
	if (d.has_window) {
		const rb_phase *ph = &md->rb->phases[d.phase];
		const rb_step *st = &ph->steps[d.step];
		char planned[EXPORT_TIME_MAX];
		fmt_duration(d.plan_min >= 0 ? (double)d.plan_min * SECONDS_PER_MINUTE : -1, planned, sizeof planned);
		char *t = cell(st->title), *id = cell(ph->id);
		sb_printf(sb, "Cutover window \"%s\" (phase %s): planned %s (%s-%s).\n", t, id, planned,
		          st->window_from, st->window_to);
		free(t);
		free(id);
	} else {
		sb_puts(sb, "The runbook has no step with a time window (e.g. \"Cutover Window (01:00-03:00)\"): "
		            "no planned downtime.\n");
	}
	if (d.start <= 0) {
		sb_printf(sb, "Actual: not recorded (no `downtime start`%s).\n",
		          d.has_window ? " and no item of the window ticked or run" : "");
		return;
	}
	char actual[EXPORT_TIME_MAX], a[EXPORT_TIME_MAX], b[EXPORT_TIME_MAX];
	fmt_duration(d.elapsed_s, actual, sizeof actual);
	fmt_time(d.start, a, sizeof a);
	fmt_time(d.running ? md->last_ts : d.end, b, sizeof b);
	const char *from = d.explicit_start ? "downtime start" : "first tick in the window";
	if (d.running)
		sb_printf(sb, "Actual: not ended; %s (%ld s) from %s (%s) to the last event (%s).%s\n", actual,
		          (long)d.elapsed_s, a, from, b, d.over ? " Over plan." : "");
	else
		sb_printf(sb, "Actual: %s (%ld s), from %s (%s) to %s (%s).%s\n", actual, (long)d.elapsed_s, a, from,
		          b, d.explicit_end ? "downtime end" : "last tick in the window", d.over ? " Over plan." : "");
}

/* "3-5 days" as the runbook wrote it (a range is no one figure), else the
 * planned seconds as a duration. */
static void phase_planned_text(const rb_phase *ph, char *buf, size_t n)
{
	const char *t = ph->duration;
	const char *dash = t ? strchr(t, '-') : NULL;
	if (dash && dash > t && dash[-1] >= '0' && dash[-1] <= '9' && dash[1] >= '0' && dash[1] <= '9' &&
	    planned_seconds(t) >= 0) {
		char *c = cell(t);
		snprintf(buf, n, "%s", c);
		free(c);
		return;
	}
	fmt_duration(phase_planned(ph), buf, n);
}

static void md_phases(export_md *md, strbuf *sb)
{
	sb_puts(sb, "\n## Phases: planned vs actual\n\n");
	if (!md->rb) {
		sb_puts(sb, "No runbook: phase times not known.\n");
		return;
	}
	sb_puts(sb, "| Phase | Title | Status | Done | Planned | Started | Completed | Actual |\n"
	            "|---|---|---|---|---|---|---|---|\n");
	for (size_t p = 0; p < md->rb->n_phases; p++) {
		const rb_phase *ph = &md->rb->phases[p];
		const lg_phase *lp = &md->lg->phases[p];
		char planned[EXPORT_TIME_MAX], st[EXPORT_TIME_MAX], done[EXPORT_TIME_MAX], actual[EXPORT_TIME_MAX];
		phase_planned_text(ph, planned, sizeof planned);
		fmt_time(lp->started_at, st, sizeof st);
		fmt_time(lp->completed_at, done, sizeof done);
		fmt_duration(lp->started_at > 0 && lp->completed_at > 0 ? lp->completed_at - lp->started_at : -1,
		             actual, sizeof actual);
		char *t = cell(ph->title), *id = cell(ph->id);
		sb_printf(sb, "| %s | %s | %s | %d/%d | %s | %s | %s | %s |\n", id, t,
		          lg_phase_status_name(lp->status), lp->done, lp->total, planned, st, done, actual);
		free(t);
		free(id);
	}
}

static void md_counts(export_md *md, strbuf *sb)
{
	sb_puts(sb, "\n## Last row counts\n\n");
	if (!md->last_counts) {
		sb_puts(sb, "No counts were recorded.\n");
		return;
	}
	char when[EXPORT_TIME_MAX];
	fmt_time(md->last_counts_ts, when, sizeof when);
	cmp_rec rec;
	cmp_rec_read(md->last_counts, &rec);
	sb_printf(sb, "Recorded %s (%d snapshots in all); %s, %s.\n\n", when, md->n_counts,
	          rec.exact ? "exact" : "estimates", rec.match ? "all matched" : "not all matched");
	sb_puts(sb, "| Table | Source | Target | State |\n|---|---|---|---|\n");
	for (size_t i = 0; i < rec.n_tables; i++) {
		const cmp_rec_table *t = &rec.tables[i];
		char *name = cell(t->table), *state = cell(t->state);
		char a[32] = "-", b[32] = "-";
		if (t->source >= 0)
			snprintf(a, sizeof a, "%lld", (long long)t->source);
		if (t->target >= 0)
			snprintf(b, sizeof b, "%lld", (long long)t->target);
		sb_printf(sb, "| %s | %s | %s | %s |\n", name, a, b, state);
		free(name);
		free(state);
	}
	cmp_rec_free(&rec);
}

char *export_md_finish(export_md *md)
{
	strbuf sb;
	sb_init(&sb);
	char *title = cell(md->rb && md->rb->title && *md->rb->title ? md->rb->title : "Migration");
	sb_printf(&sb, "# Post-mortem: %s\n\n", title);
	free(title);
	char a[EXPORT_TIME_MAX], b[EXPORT_TIME_MAX], d[EXPORT_TIME_MAX];
	fmt_time(md->first_ts, a, sizeof a);
	fmt_time(md->last_ts, b, sizeof b);
	fmt_duration(md->n_events ? md->last_ts - md->first_ts : -1, d, sizeof d);
	char *src = cell(md->source);
	sb_printf(&sb, "- Source: `%s`\n- Events: %lld, from %s to %s (%s)\n- Times: UTC\n", src,
	          (long long)md->n_events, a, b, d);
	free(src);
	if (md->lg)
		sb_printf(&sb, "- Items done: %d/%d\n", md->lg->items_done, md->lg->items_total);

	md_phases(md, &sb);
	md_downtime(md, &sb);

	sb_puts(&sb, "\n## Who did what\n\n| Operator | Ticks | Unticks | Notes | Commands | Other | First | Last |\n"
	             "|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < md->n_ops; i++) {
		md_op *op = &md->ops[i];
		char *n = cell(op->name);
		fmt_time(op->first, a, sizeof a);
		fmt_time(op->last, b, sizeof b);
		sb_printf(&sb, "| %s | %d | %d | %d | %d | %d | %s | %s |\n", n, op->ticks, op->unticks, op->notes,
		          op->commands, op->other, a, b);
		free(n);
	}
	md_counts(md, &sb);
	sb_printf(&sb, "\n## Rollbacks and unticks\n\n%s", md->rollbacks.len ? md->rollbacks.buf : "None.\n");
	sb_printf(&sb, "\n## Failed commands\n\n%s", md->failures.len ? md->failures.buf : "None.\n");
	if (md->takeovers.len)
		sb_printf(&sb, "\n## Lease takeovers\n\n%s", md->takeovers.buf);
	if (md->drifts.len)
		sb_printf(&sb, "\n## .env changed behind pgcutover's back\n\n%s", md->drifts.buf);
	if (md->decisions.len)
		sb_printf(&sb, "\n## The switch: go/no-go decisions\n\n%s", md->decisions.buf);

	sb_printf(&sb, "\n## Timeline\n\n%d counts and %d health snapshots are left out; "
	          "`pgcutover export --format jsonl` has every event.\n\n"
	          "| Time | Who | Event | Item/phase | Detail |\n|---|---|---|---|---|\n", md->n_counts, md->n_health);
	for (size_t i = 0; i < md->n_rows; i++) {
		md_row *r = &md->rows[i];
		fmt_time(r->ts, a, sizeof a);
		char *w = cell(r->who), *k = cell(r->kind), *wh = cell(r->where), *dt = cell(r->detail);
		sb_printf(&sb, "| %s | %s | %s | %s | %s |\n", a, w, k, wh, dt);
		free(w);
		free(k);
		free(wh);
		free(dt);
		free(r->who);
		free(r->kind);
		free(r->where);
		free(r->detail);
	}
	for (size_t i = 0; i < md->n_ops; i++)
		free(md->ops[i].name);
	free(md->ops);
	free(md->rows);
	sb_free(&md->rollbacks);
	sb_free(&md->failures);
	sb_free(&md->takeovers);
	sb_free(&md->drifts);
	sb_free(&md->decisions);
	free(md->last_counts);
	free(md->source);
	ledger_free(md->lg);
	free(md);
	return sb_steal(&sb);
}
