/*
 * ui_side.c -- the side pane: row counts per table, source against target.
 * ui_side_draw() only draws a ui_side_data it is given, so the comparison
 * module can hand it live figures; until then the console shows the last
 * recorded snapshot (an EV_COUNTS event folded by the ledger) with its age,
 * "no counts recorded yet", or "not configured" when the config lists no
 * tables.  Equal and different rows are marked with words (=, DIFF, ? when a
 * figure is unknown), not by
 * colour alone.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "ui_priv.h"

#define SIDE_NUM_COLS 8
#define SIDE_VERDICT_COLS 4   /* "=" or "DIFF" */

void ui_side_data_free(ui_side_data *d)
{
	for (size_t i = 0; i < d->n_rows; i++)
		free(d->rows[i].table);
	free(d->rows);
	free(d->message);
	memset(d, 0, sizeof *d);
}

static long long side_count(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return (long long)v->valuedouble;
	if (cJSON_IsObject(v)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "count");
		if (!c)
			c = cJSON_GetObjectItemCaseSensitive(v, "rows");
		if (cJSON_IsNumber(c))
			return (long long)c->valuedouble;
	}
	return -1;
}

static void add_row(ui_side_data *d, const char *name, const cJSON *src, const cJSON *dst)
{
	d->rows = xrealloc(d->rows, (d->n_rows + 1) * sizeof *d->rows);
	ui_side_row *r = &d->rows[d->n_rows++];
	r->table = xstrdup(name);
	r->source = side_count(src);
	r->target = side_count(dst);
}

int ui_side_from_counts_json(const char *json, double ts, ui_side_data *d)
{
	memset(d, 0, sizeof *d);
	cJSON *o = json ? cJSON_Parse(json) : NULL;
	if (!o)
		return -1;
	const cJSON *tables = cJSON_GetObjectItemCaseSensitive(o, "tables");
	if (cJSON_IsArray(tables)) {
		const cJSON *t;
		cJSON_ArrayForEach(t, tables) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
			if (!cJSON_IsString(name))
				name = cJSON_GetObjectItemCaseSensitive(t, "table");
			if (!cJSON_IsString(name))
				continue;
			add_row(d, name->valuestring, cJSON_GetObjectItemCaseSensitive(t, "source"),
			        cJSON_GetObjectItemCaseSensitive(t, "target"));
		}
	} else if (cJSON_IsObject(o)) {
		const cJSON *t;
		cJSON_ArrayForEach(t, o) {
			if (cJSON_IsObject(t) && t->string)
				add_row(d, t->string, cJSON_GetObjectItemCaseSensitive(t, "source"),
				        cJSON_GetObjectItemCaseSensitive(t, "target"));
		}
	}
	cJSON_Delete(o);
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

static void ui_side_draw_in(ui_ctx *u, WINDOW *w, const ui_side_data *d, int h, int width)
{
	char right[48] = "";
	if (d->ts > 0) {
		char d_age[24];
		ui_fmt_duration(pgc_now() - d->ts, d_age, sizeof d_age);
		snprintf(right, sizeof right, "%s ago", d_age);
	}
	ui_pane_title(u, w, 0, d->status == UI_SIDE_LIVE ? "Row counts (live)" : "Row counts", right, false);
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
	if (d->message && y < h)
		ui_put(u, w, y++, 1, d->message, width - 2, UI_STYLE(u, UI_C_WARN, A_BOLD));
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
	for (size_t i = 0; i < d->n_rows && y < h; i++, y++) {
		const ui_side_row *r = &d->rows[i];
		bool known = r->source >= 0 && r->target >= 0;
		bool same = known && r->source == r->target;
		char s[24], t[24];
		fmt_count(r->source, s, sizeof s);
		fmt_count(r->target, t, sizeof t);
		ui_put(u, w, y, 1, r->table, name_w, 0, 0);
		ui_put_right(u, w, y, src_r, s, 0, 0);
		ui_put_right(u, w, y, dst_r, t, 0, 0);
		/* an unknown side is no verdict at all, not a difference */
		ui_put(u, w, y, verdict_x, !known ? "?" : same ? "=" : "DIFF", SIDE_VERDICT_COLS,
		       same || !known ? 0 : A_BOLD, ui_pair(u, same ? UI_C_DONE : UI_C_WARN));
	}
}
