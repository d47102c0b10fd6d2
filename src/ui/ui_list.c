/*
 * ui_list.c -- the one list widget behind the overlays' scrolling (help,
 * log, item details, parity, command output, .env flags, health): where
 * the window onto n lines starts, the selection when the list has one,
 * and what j/k, arrows, PgUp/PgDn, g/G (Home/End) do to them.  The seven
 * overlays had seven copies of this, each clamping a little differently
 * (the flags panel had no PgDn and no scrolling at all); a screen now
 * keeps a ui_list, calls ui_list_fit() with what it is about to draw and
 * ui_list_key() with the keys it does not use itself.  ui_list_draw()
 * draws one-row entries with the selection highlighted; screens whose
 * lines come from wrapped text ask ui_list_row() where a line lands.
 */
#include "config.h"
#include "ui_priv.h"

void ui_list_init(ui_list *l, bool select)
{
	*l = (ui_list){.select = select};
}

void ui_list_fit(ui_list *l, size_t n, size_t page)
{
	l->n = n;
	l->page = page ? page : 1;
	size_t last_top = n > l->page ? n - l->page : 0;
	if (l->select) {
		if (l->cursor >= n)
			l->cursor = n ? n - 1 : 0;
		if (l->cursor < l->top)
			l->top = l->cursor;
		if (l->cursor >= l->top + l->page)
			l->top = l->cursor - l->page + 1;
	} else if (l->follow) {
		l->top = last_top;
	}
	if (l->top > last_top)
		l->top = last_top;
}

int ui_list_row(const ui_list *l, size_t i)
{
	if (i < l->top || i >= l->top + l->page)
		return -1;
	return (int)(i - l->top);
}

/* Adds d to v within [0, max]. */
static size_t step(size_t v, long d, size_t max)
{
	if (d < 0 && (size_t)-d > v)
		return 0;
	v = (size_t)((long)v + d);
	return v > max ? max : v;
}

int ui_list_key(ui_list *l, ui_action a)
{
	size_t page = l->page ? l->page : 1;
	size_t *v = l->select ? &l->cursor : &l->top;
	size_t max = l->select ? (l->n ? l->n - 1 : 0) : (l->n > page ? l->n - page : 0);
	switch (a) {
	case UI_ACT_UP: *v = step(*v, -1, max); break;
	case UI_ACT_DOWN: *v = step(*v, 1, max); break;
	case UI_ACT_PGUP: *v = step(*v, -(long)page, max); break;
	case UI_ACT_PGDN: *v = step(*v, (long)page, max); break;
	case UI_ACT_TOP: *v = 0; break;
	case UI_ACT_BOTTOM: *v = max; break;
	default: return 0;
	}
	/* at the end a following list keeps following (new output shows) */
	l->follow = !l->select && l->top >= max;
	ui_list_fit(l, l->n, l->page);
	return 1;
}

void ui_list_draw(ui_ctx *u, ui_list *l, WINDOW *w, int y, int x, int width, size_t n, int rows,
                  ui_list_row_fn row, void *ud)
{
	ui_list_fit(l, n, rows > 0 ? (size_t)rows : 1);
	for (int r = 0; r < rows && l->top + (size_t)r < n; r++) {
		size_t i = l->top + (size_t)r;
		bool sel = l->select && i == l->cursor;
		if (sel)
			mvwchgat(w, y + r, x, width, A_REVERSE, 0, NULL);
		row(u, w, y + r, i, sel, ud);
	}
}
