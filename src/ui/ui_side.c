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
 * Tables are listed in the core's one order (cmp_order: differences
 * first, the largest first, then errors and unknowns, then equal) under a
 * summary that fits ("3 differ · 297 equal"); Tab focuses the pane and
 * j/k scroll it; C (or Enter there) opens every table full screen with
 * source, target, difference, exact or estimate, and age.
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
	d->budget_pct = -1;
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
		return same ? (r->exact ? "=" : "~") : "DIFF";   /* exact: a kept count */
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

/* The rows in the one display order (cmp_order): differences first. */
static size_t *side_order(const ui_side_data *d, size_t tally[CMP_N_RANKS])
{
	size_t n = d->n_rows;
	cmp_order_key *keys = xcalloc(n ? n : 1, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		keys[i].source = d->rows[i].source;
		keys[i].target = d->rows[i].target;
		keys[i].failed = strcmp(d->rows[i].state, "error") == 0;
	}
	size_t *order = xcalloc(n ? n : 1, sizeof *order);
	cmp_order(keys, n, order);
	cmp_order_tally(keys, n, tally);
	free(keys);
	return order;
}

/* "3 differ · 297 equal · 2 unknown" */
static const char *side_tally(const ui_ctx *u, const size_t tally[CMP_N_RANKS], char *buf, size_t n)
{
	return cmp_tally_words(tally, u->utf8 ? " \xc2\xb7 " : ", ", buf, n);
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
		char budget[16] = "";
		if (d->budget_pct >= 0)   /* exact re-counts' share of each server */
			snprintf(budget, sizeof budget, " %d%%", d->budget_pct);
		if (d->interval_s > 0)
			snprintf(title, sizeof title, "Counts live/%ds%s", d->interval_s, budget);
		else
			snprintf(title, sizeof title, "Counts live/off%s", budget);
	} else
		snprintf(title, sizeof title, "Row counts");
	ui_pane_title(u, w, 0, title, right, u->focus == UI_PANE_SIDE && !u->overlay);
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
	size_t tally[CMP_N_RANKS];
	size_t *order = side_order(d, tally);
	if (d->message && (d->status == UI_SIDE_ERROR || d->message_error || !d->n_rows) && y < h)
		ui_put(u, w, y++, 1, d->message, width - 2, UI_STYLE(u, UI_C_WARN, A_BOLD));
	if (d->n_rows && y < h) {
		/* the summary in words that fit the pane; the long one is on C */
		char tb[96];
		side_tally(u, tally, tb, sizeof tb);
		bool fine = tally[CMP_RANK_DIFFER] == 0 && tally[CMP_RANK_UNKNOWN] == 0;
		ui_put(u, w, y++, 1, tb, width - 2, UI_STYLE(u, fine ? UI_C_DONE : UI_C_WARN, A_BOLD));
	}
	/* columns: name, source, target, verdict -- one space apart */
	int name_w = width - 1 - 2 * (SIDE_NUM_COLS + 1) - SIDE_VERDICT_COLS - 1;
	int src_r = 1 + name_w + 1 + SIDE_NUM_COLS, dst_r = src_r + 1 + SIDE_NUM_COLS;
	int verdict_x = dst_r + 1;
	/* the column heads only when they do not cost a table its line */
	if (y < h && h - y - 1 >= (int)d->n_rows) {
		ui_put(u, w, y, 1, "table", name_w, A_UNDERLINE, 0);
		ui_put_right(u, w, y, src_r, "source", A_UNDERLINE, 0);
		ui_put_right(u, w, y, dst_r, "target", A_UNDERLINE, 0);
		y++;
	}
	/* a window onto the tables (Tab focuses the pane, j/k scroll it); the
	 * last line says how many are below when they do not all fit */
	int avail = h - y;
	int page = avail;
	if (avail > 0 && (size_t)avail < d->n_rows)
		page = avail - 1;
	ui_list_fit(&u->side_list, d->n_rows, page > 0 ? (size_t)page : 1);
	/* second lines only while there is room for every table's first line */
	int spare = h - y - (int)d->n_rows;
	int shown = 0;
	for (size_t k = u->side_list.top; k < d->n_rows && y < h && shown < page; k++, y++, shown++) {
		const ui_side_row *r = &d->rows[order[k]];
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
	size_t shown_to = u->side_list.top + (size_t)(page > 0 ? page : 0);
	if (page < avail && shown_to < d->n_rows) {
		char more[64];
		snprintf(more, sizeof more, "+%zu more; C: all", d->n_rows - shown_to);
		ui_put(u, w, h - 1, 1, more, width - 2, ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
	} else if (y + 1 < h && spare > 1)
		ui_put(u, w, h - 1, 1, "= exact ~ estimate  r e + - C", width - 2,
		       ui_attr(u, UI_C_DIM, A_DIM), ui_pair(u, UI_C_DIM));
	free(order);
}

/* The pane with focus: j/k and pages scroll the tables, Enter opens C. */
int ui_side_key(ui_ctx *u, ui_action a)
{
	if (a == UI_ACT_OPEN) {
		ui_counts_open(u);
		return 1;
	}
	if (!ui_list_key(&u->side_list, a))
		return 0;
	ui_mark(u, UI_DIRTY_SIDE);
	return 1;
}

/* ---- C: every table, full screen ---- */

#define COUNTS_NUM_COLS 11
#define COUNTS_KIND_COLS 8     /* "estimate" */
#define COUNTS_KEPT_COLS 28    /* "exact, unchanged since 02:14" */
#define COUNTS_AGE_COLS 8

void ui_counts_open(ui_ctx *u)
{
	const ui_side_data *d = &u->side;
	if (d->status == UI_SIDE_NOT_CONFIGURED || d->status == UI_SIDE_NONE_YET || !d->n_rows) {
		ui_status(u, "%s", d->status == UI_SIDE_NOT_CONFIGURED ? "row counts: no \"tables\" in the config"
		                                                       : "row counts: none recorded yet");
		return;
	}
	u->overlay = &ui_scr_counts;
	ui_mark(u, UI_DIRTY_ALL);
}

static void counts_draw(ui_ctx *u)
{
	const ui_side_data *d = &u->side;
	int W = u->cols - 2, H = u->rows - UI_KEYBAR_ROWS - 1;
	char title[96];
	if (d->budget_pct >= 0)
		snprintf(title, sizeof title, " Row counts: all %zu tables, differences first; exact re-counts %d%% of each server (+/-) ",
		         d->n_rows, d->budget_pct);
	else
		snprintf(title, sizeof title, " Row counts: all %zu tables, differences first ", d->n_rows);
	WINDOW *w = ui_overlay_window(u, 1, H, W, title, " j/k scroll  r e refresh  Esc close ");
	size_t tally[CMP_N_RANKS];
	size_t *order = side_order(d, tally);
	int y = 1, inner = W - 4;
	char buf[UI_LINE_MAX];
	side_tally(u, tally, buf, sizeof buf);
	bool fine = tally[CMP_RANK_DIFFER] == 0 && tally[CMP_RANK_UNKNOWN] == 0;
	ui_put(u, w, y++, 2, buf, inner, UI_STYLE(u, fine ? UI_C_DONE : UI_C_WARN, A_BOLD));
	if (d->message)
		ui_put(u, w, y++, 2, d->message, inner, d->message_error || d->status == UI_SIDE_ERROR ? A_BOLD : 0,
		       ui_pair(u, d->message_error || d->status == UI_SIDE_ERROR ? UI_C_WARN : UI_C_NORMAL));
	/* table, source, target, difference, exact/estimate, age, state */
	int kind_cols = COUNTS_KIND_COLS;
	for (size_t k = 0; k < d->n_rows; k++)
		if (d->rows[k].unchanged_since > 0)
			kind_cols = COUNTS_KEPT_COLS;
	int fixed = 3 * (COUNTS_NUM_COLS + 1) + 2 + kind_cols + 1 + COUNTS_AGE_COLS + 2 + SIDE_VERDICT_COLS;
	int name_w = inner - fixed;
	if (name_w < 8)
		name_w = 8;
	int src_r = 2 + name_w + 1 + COUNTS_NUM_COLS, dst_r = src_r + 1 + COUNTS_NUM_COLS;
	int dif_r = dst_r + 1 + COUNTS_NUM_COLS, kind_x = dif_r + 2;
	int age_r = kind_x + kind_cols + 1 + COUNTS_AGE_COLS, st_x = age_r + 2;
	ui_put(u, w, y, 2, "table", name_w, A_UNDERLINE, 0);
	ui_put_right(u, w, y, src_r, "source", A_UNDERLINE, 0);
	ui_put_right(u, w, y, dst_r, "target", A_UNDERLINE, 0);
	ui_put_right(u, w, y, dif_r, "difference", A_UNDERLINE, 0);
	ui_put(u, w, y, kind_x, "counted", kind_cols, A_UNDERLINE, 0);
	ui_put_right(u, w, y, age_r, "age", A_UNDERLINE, 0);
	ui_put(u, w, y, st_x, "state", SIDE_VERDICT_COLS + 1, A_UNDERLINE, 0);
	y++;
	int rows = H - 1 - y;
	ui_list_fit(&u->counts_list, d->n_rows, rows > 0 ? (size_t)rows : 1);
	for (size_t k = u->counts_list.top; k < d->n_rows && y < H - 1; k++, y++) {
		const ui_side_row *r = &d->rows[order[k]];
		bool good;
		const char *v = verdict(r, &good);
		char s[24], t[24], df[24] = "-", age[24] = "-";
		snprintf(s, sizeof s, r->source >= 0 ? "%lld" : "?", r->source);
		snprintf(t, sizeof t, r->target >= 0 ? "%lld" : "?", r->target);
		if (r->source >= 0 && r->target >= 0)
			snprintf(df, sizeof df, "%+lld", r->target - r->source);
		double a = r->age_s >= 0 ? r->age_s : d->ts > 0 ? ui_now(u) - d->ts : -1;
		if (a >= 0)
			ui_fmt_duration(a, age, sizeof age);
		bool bad = !good && strcmp(v, "?") != 0 && strcmp(v, "...") != 0;
		ui_put(u, w, y, 2, r->table, name_w, bad ? A_BOLD : 0, 0);
		ui_put_right(u, w, y, src_r, s, 0, 0);
		ui_put_right(u, w, y, dst_r, t, 0, 0);
		ui_put_right(u, w, y, dif_r, df, bad ? A_BOLD : 0, ui_pair(u, bad ? UI_C_WARN : UI_C_NORMAL));
		char kind[48];
		if (r->unchanged_since > 0) {
			char hm[16];
			ui_fmt_clock(r->unchanged_since, hm, sizeof hm, false);
			snprintf(kind, sizeof kind, "exact, unchanged since %s", hm);
		} else {
			snprintf(kind, sizeof kind, "%s", r->exact ? "exact" : "estimate");
		}
		ui_put(u, w, y, kind_x, kind, kind_cols, 0, 0);
		ui_put_right(u, w, y, age_r, age, 0, 0);
		ui_put(u, w, y, st_x, v, SIDE_VERDICT_COLS + 1, bad ? A_BOLD : 0,
		       ui_pair(u, good ? UI_C_DONE : bad ? UI_C_WARN : UI_C_DIM));
	}
	free(order);
}

static int counts_key(ui_ctx *u, ui_action a)
{
	if (ui_list_key(&u->counts_list, a)) {
		ui_mark(u, UI_DIRTY_OVERLAY);
		return 1;
	}
	return 0;
}

const ui_screen ui_scr_counts = {"row counts", UI_KC_COUNTS, counts_draw, counts_key};
