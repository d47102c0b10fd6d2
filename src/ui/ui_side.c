/*
 * ui_side.c -- the side pane: row counts per table, source against target.
 * ui_side_draw() only draws a ui_side_data it is given, so the comparison
 * module can hand it live figures; until then the console shows the last
 * recorded snapshot (an EV_COUNTS event folded by the ledger) with its age,
 * "no counts recorded yet", or "not configured" when the config lists no
 * tables.  Each table's validation state is a short word (= exact match,
 * ~ estimates equal, DIFF, ERR, ... counting, noPK, ? unknown), never colour
 * alone; a table that does not match gets a second line with the delta,
 * % of source, rows/s and ETA to parity, and a sparkline of the target's
 * recent figures.  The title says the refresh interval and the age.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/compare.h"
#include "ui_priv.h"

#define SIDE_NUM_COLS 8
#define SIDE_VERDICT_COLS 4   /* "=", "DIFF", "noPK" ... */
#define SIDE_DETAIL_INDENT 2
#define SIDE_RATE_K 1000.0
#define SIDE_SPARK_LEVELS 8

void ui_side_data_free(ui_side_data *d)
{
	for (size_t i = 0; i < d->n_rows; i++)
		free(d->rows[i].table);
	free(d->rows);
	free(d->message);
	memset(d, 0, sizeof *d);
}

int ui_side_from_counts_json(const char *json, double ts, ui_side_data *d)
{
	memset(d, 0, sizeof *d);
	cmp_rec rec;
	if (cmp_rec_read(json, &rec) < 0)
		return -1;
	if (rec.n_tables)
		d->rows = xcalloc(rec.n_tables, sizeof *d->rows);
	for (size_t i = 0; i < rec.n_tables; i++) {
		const cmp_rec_table *t = &rec.tables[i];
		ui_side_row *r = &d->rows[d->n_rows++];
		r->table = xstrdup(t->table);
		r->source = t->source;
		r->target = t->target;
		r->age_s = -1;
		r->eta_s = -1;
		if (t->state)
			snprintf(r->state, sizeof r->state, "%s", t->state);
		r->exact = t->exact;
	}
	bool all = d->n_rows > 0;
	for (size_t i = 0; i < d->n_rows; i++)
		if (d->rows[i].source < 0 || d->rows[i].source != d->rows[i].target)
			all = false;
	if (rec.summary)
		d->message = pgc_sanitize(rec.summary);
	d->all_match = all;
	d->interval_s = -1;
	cmp_rec_free(&rec);
	d->status = UI_SIDE_RECORDED;
	d->ts = ts;
	return d->n_rows ? 0 : -1;
}

/* From the ledger's last counts event, unless live figures are shown. */
void ui_side_refresh_recorded(ui_ctx *u)
{
	if (u->side_live)
		return;
	if (u->side.status != UI_SIDE_NOT_CONFIGURED && u->lg->last_counts_ts == u->side_ts && u->side_ts != 0)
		return;
	ui_side_data_free(&u->side);
	u->side_ts = u->lg->last_counts_ts;
	if (u->lg->last_counts && ui_side_from_counts_json(u->lg->last_counts, u->lg->last_counts_ts, &u->side) == 0)
		;
	else if (u->s.cfg && u->s.cfg->n_tables)
		u->side.status = UI_SIDE_NONE_YET;
	else
		u->side.status = UI_SIDE_NOT_CONFIGURED;
	ui_mark(u, UI_DIRTY_SIDE);
}

static void fmt_count(long long n, char *buf, size_t sz)
{
	if (n < 0)
		snprintf(buf, sz, "?");
	else if (n >= 100000000LL)
		snprintf(buf, sz, "%lldM", n / 1000000);
	else
		snprintf(buf, sz, "%lld", n);
}

static void ui_side_draw_in(ui_ctx *u, WINDOW *w, const ui_side_data *d, int h, int width);

void ui_side_draw(ui_ctx *u, WINDOW *w, const ui_side_data *d)
{
	werase(w);
	/* a rule between the side pane and its neighbour, on the side it has one */
	int h = getmaxy(w), width = getmaxx(w) - 1;
	ui_vline(u, w, u->side_right ? 0 : width, ui_attr(u, UI_C_DIM, 0), ui_pair(u, UI_C_DIM));
	if (u->side_right) {
		WINDOW *inner = derwin(w, h, width, 0, 1);
		if (inner) {
			ui_side_draw_in(u, inner, d, h, width);
			delwin(inner);
		}
		return;
	}
	ui_side_draw_in(u, w, d, h, width);
}

/* The short word for a table's state; "=" only for exact equal counts. */
static const char *verdict(const ui_side_row *r, bool *good)
{
	bool known = r->source >= 0 && r->target >= 0;
	bool same = known && r->source == r->target;
	*good = same;
	if (!r->state[0] || strcmp(r->state, "not_checked") == 0)
		return !known ? "?" : same ? (r->exact ? "=" : "~") : "DIFF";
	if (strcmp(r->state, "matched") == 0)
		return "=";
	if (strcmp(r->state, "no_primary_key") == 0)
		return "noPK";
	if (strcmp(r->state, "estimated") == 0)
		return same ? "~" : "DIFF";
	if (strcmp(r->state, "mismatched") == 0)
		return "DIFF";
	if (strcmp(r->state, "error") == 0) {
		*good = false;
		return "ERR";
	}
	if (strcmp(r->state, "counting") == 0)
		return "...";
	return "?";
}

static void fmt_rate(double rate, char *buf, size_t n)
{
	if (rate >= SIDE_RATE_K * SIDE_RATE_K)
		snprintf(buf, n, "%.1fM/s", rate / (SIDE_RATE_K * SIDE_RATE_K));
	else if (rate >= SIDE_RATE_K)
		snprintf(buf, n, "%.1fk/s", rate / SIDE_RATE_K);
	else if (rate >= 10)
		snprintf(buf, n, "%.0f/s", rate);
	else
		snprintf(buf, n, "%.1f/s", rate);
}

/* A sparkline of the target's figures, scaled between their min and max. */
static void fmt_spark(const ui_ctx *u, const ui_side_row *r, char *buf, size_t n)
{
	static const char *const blocks[SIDE_SPARK_LEVELS] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
	static const char ascii[SIDE_SPARK_LEVELS + 1] = "_.-~=+*#";
	buf[0] = '\0';
	if (r->n_spark < 2)
		return;
	long long lo = r->spark[0], hi = r->spark[0];
	for (int i = 1; i < r->n_spark; i++) {
		if (r->spark[i] < lo) lo = r->spark[i];
		if (r->spark[i] > hi) hi = r->spark[i];
	}
	if (hi == lo)
		return;   /* a flat line says nothing the figures do not */
	size_t len = 0;
	for (int i = 0; i < r->n_spark; i++) {
		int lvl = hi > lo ? (int)((double)(r->spark[i] - lo) * (SIDE_SPARK_LEVELS - 1) / (double)(hi - lo)) : 0;
		const char *g = u->utf8 ? blocks[lvl] : (char[2]){ascii[lvl], 0};
		size_t gl = strlen(g);
		if (len + gl + 1 > n)
			break;
		memcpy(buf + len, g, gl);
		len += gl;
	}
	buf[len] = '\0';
}

static void side_add(char *buf, size_t n, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void side_add(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	if (*len + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len = *len + (size_t)k < n ? *len + (size_t)k : n - 1;
}

/* "-2 99.8% 1.2k/s ETA 3m05s" and the sparkline, for a table that differs. */
static void detail_line(const ui_ctx *u, const ui_side_row *r, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	if (r->source >= 0 && r->target >= 0) {
		side_add(buf, n, &len, "%+lld", r->target - r->source);
		if (r->source > 0)
			side_add(buf, n, &len, " %.1f%%", 100.0 * (double)r->target / (double)r->source);
	}
	if (r->rate > 0) {
		char rb[24];
		fmt_rate(r->rate, rb, sizeof rb);
		side_add(buf, n, &len, " %s", rb);
		if (r->eta_s >= 0) {
			char eb[24];
			ui_fmt_duration(r->eta_s, eb, sizeof eb);
			side_add(buf, n, &len, " ETA %s", eb);
		}
	}
	if (strcmp(r->state, "error") == 0 && r->age_s >= 0) {
		char ab[24];
		ui_fmt_duration(r->age_s, ab, sizeof ab);
		side_add(buf, n, &len, " (%s old)", ab);
	}
	char sp[UI_SPARK_POINTS * 4 + 1];
	fmt_spark(u, r, sp, sizeof sp);
	if (sp[0])
		side_add(buf, n, &len, " %s", sp);
}

static void ui_side_draw_in(ui_ctx *u, WINDOW *w, const ui_side_data *d, int h, int width)
{
	char right[48] = "";
	if (d->refreshing)
		snprintf(right, sizeof right, "%s", d->refreshing_exact ? "count(*)..." : "counting...");
	else if (d->ts > 0) {
		char d_age[24];
		ui_fmt_duration(ui_now(u) - d->ts, d_age, sizeof d_age);
		snprintf(right, sizeof right, "%s ago", d_age);
	}
	char title[64];
	if (d->status == UI_SIDE_LIVE || (d->status == UI_SIDE_ERROR && d->interval_s >= 0)) {
		if (d->interval_s > 0)
			snprintf(title, sizeof title, "Counts live/%ds", d->interval_s);
		else
			snprintf(title, sizeof title, "Counts live/off");
	} else
		snprintf(title, sizeof title, "Row counts");
	ui_pane_title(u, w, 0, title, right, false);
	int y = 1;
	switch (d->status) {
	case UI_SIDE_NOT_CONFIGURED:
		ui_put(u, w, y++, 1, "not configured", width - 2, A_BOLD, 0);
		ui_put(u, w, y++, 1, "(no \"tables\" in the config)", width - 2, ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
		return;
	case UI_SIDE_NONE_YET:
		ui_put(u, w, y++, 1, "no counts recorded yet", width - 2, 0, 0);
		ui_put(u, w, y++, 1, "(pgcutover counts)", width - 2, ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
		return;
	default:
		break;
	}
	if (d->message && y < h) {
		if (d->all_match && d->status != UI_SIDE_ERROR)
			ui_put(u, w, y++, 1, d->message, width - 2, UI_STYLE(u, UI_C_DONE, A_BOLD));
		else
			ui_put(u, w, y++, 1, d->message, width - 2, UI_STYLE(u, UI_C_WARN, A_BOLD));
	}
	/* columns: name, source, target, verdict -- one space apart */
	int name_w = width - 1 - 2 * (SIDE_NUM_COLS + 1) - SIDE_VERDICT_COLS - 1;
	int src_r = 1 + name_w + 1 + SIDE_NUM_COLS, dst_r = src_r + 1 + SIDE_NUM_COLS;
	int verdict_x = dst_r + 1;
	if (y < h) {
		ui_put(u, w, y, 1, "table", name_w, A_UNDERLINE, 0);
		ui_put_right(u, w, y, src_r, "source", A_UNDERLINE, 0);
		ui_put_right(u, w, y, dst_r, "target", A_UNDERLINE, 0);
		y++;
	}
	/* second lines only while there is room for every table's first line */
	int spare = h - y - (int)d->n_rows;
	for (size_t i = 0; i < d->n_rows && y < h; i++, y++) {
		const ui_side_row *r = &d->rows[i];
		bool good;
		const char *v = verdict(r, &good);
		char s[24], t[24];
		fmt_count(r->source, s, sizeof s);
		fmt_count(r->target, t, sizeof t);
		ui_put(u, w, y, 1, r->table, name_w, 0, 0);
		ui_put_right(u, w, y, src_r, s, 0, 0);
		ui_put_right(u, w, y, dst_r, t, 0, 0);
		bool unknown = strcmp(v, "?") == 0 || strcmp(v, "...") == 0;
		ui_put(u, w, y, verdict_x, v, SIDE_VERDICT_COLS, good || unknown ? 0 : A_BOLD,
		       ui_pair(u, good ? UI_C_DONE : unknown ? UI_C_DIM : UI_C_WARN));
		if (!good && !unknown && spare > 0 && y + 1 < h) {
			char det[128];
			detail_line(u, r, det, sizeof det);
			if (det[0]) {
				y++;
				spare--;
				ui_put(u, w, y, 1 + SIDE_DETAIL_INDENT, det, width - 2 - SIDE_DETAIL_INDENT,
				       ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
			}
		}
	}
	if (y + 1 < h && spare > 1)
		ui_put(u, w, h - 1, 1, "= exact  ~ estimate  r e + -", width - 2,
		       ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
}
