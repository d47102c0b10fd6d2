/*
 * test_ui_list.c -- the console's list widget and key table, without a
 * terminal: the window and selection that ui_list_fit()/ui_list_key() keep
 * for the overlays (clamping at both ends, pages of what is shown, the
 * selection kept visible, following the end of a command's output), and
 * the key table's lookup: a key means one row per context, and the rows
 * that act on their own carry a handler while the moving keys pass on to
 * the screen with focus.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "ui_priv.h"
#include "tap.h"

static void scroll_list(void)
{
	ui_list l;
	ui_list_init(&l, false);
	ui_list_fit(&l, 100, 10);
	is_int(l.top, 0, "scroll: starts at the top");
	ui_list_key(&l, UI_ACT_UP);
	is_int(l.top, 0, "scroll: up at the top stays");
	ui_list_key(&l, UI_ACT_DOWN);
	is_int(l.top, 1, "scroll: down moves one line");
	ui_list_key(&l, UI_ACT_PGDN);
	is_int(l.top, 11, "scroll: a page is the lines shown");
	ui_list_key(&l, UI_ACT_BOTTOM);
	is_int(l.top, 90, "scroll: the bottom shows the last page, not past it");
	ok(l.follow, "scroll: at the end it follows");
	ui_list_key(&l, UI_ACT_PGDN);
	is_int(l.top, 90, "scroll: no further than the last page");
	ui_list_fit(&l, 120, 10);
	is_int(l.top, 110, "scroll: following, new lines keep the end in view");
	ui_list_key(&l, UI_ACT_PGUP);
	is_int(l.top, 100, "scroll: page up");
	ok(!l.follow, "scroll: off the end it stops following");
	ui_list_fit(&l, 130, 10);
	is_int(l.top, 100, "scroll: not following, the window stays");
	ui_list_key(&l, UI_ACT_TOP);
	is_int(l.top, 0, "scroll: g goes to the top");
	ui_list_fit(&l, 5, 10);
	ui_list_key(&l, UI_ACT_DOWN);
	is_int(l.top, 0, "scroll: fewer lines than a page do not scroll");
	is_int(ui_list_key(&l, UI_ACT_OPEN), 0, "scroll: Enter is not the list's");
	ui_list_init(&l, false);
	ui_list_fit(&l, 100, 10);
	ui_list_key(&l, UI_ACT_PGDN);
	is_int(ui_list_row(&l, 10), 0, "row: the first shown line is row 0");
	is_int(ui_list_row(&l, 9), -1, "row: a line above the window is not shown");
	is_int(ui_list_row(&l, 20), -1, "row: a line below the window is not shown");
}

static void select_list(void)
{
	ui_list l;
	ui_list_init(&l, true);
	ui_list_fit(&l, 50, 10);
	ui_list_key(&l, UI_ACT_UP);
	is_int(l.cursor, 0, "select: up at the first stays");
	for (int i = 0; i < 12; i++)
		ui_list_key(&l, UI_ACT_DOWN);
	is_int(l.cursor, 12, "select: down moves the selection");
	is_int(l.top, 3, "select: the window follows the selection");
	ui_list_key(&l, UI_ACT_BOTTOM);
	is_int(l.cursor, 49, "select: G selects the last");
	is_int(l.top, 40, "select: ... and shows it");
	ui_list_key(&l, UI_ACT_PGDN);
	is_int(l.cursor, 49, "select: page down stops at the last");
	ui_list_key(&l, UI_ACT_PGUP);
	is_int(l.cursor, 39, "select: page up by the rows shown");
	is_int(l.top, 39, "select: ... the window moves with it");
	ui_list_fit(&l, 20, 10);
	is_int(l.cursor, 19, "select: fewer entries: the selection stays on one");
	ok(!l.follow, "select: a selection list never follows");
	ui_list_fit(&l, 0, 10);
	is_int(l.cursor, 0, "select: an empty list selects nothing past its end");
}

static void key_table(void)
{
	const ui_key *k = ui_key_find(UI_KC_LIST, '/');
	ok(k && k->run, "'/' in the checklist has its own handler (item search)");
	k = ui_key_find(UI_KC_LOG, '/');
	ok(k && !k->run && k->act == UI_ACT_SEARCH, "'/' in the log goes to the log screen");
	k = ui_key_find(UI_KC_DETAIL, 'j');
	ok(k && !k->run && k->act == UI_ACT_DOWN, "j in an overlay goes to its list");
	k = ui_key_find(UI_KC_LIST, 'r');
	ok(k && k->avail, "r says when this console takes it (no counts: not offered)");
	ok(ui_key_find(UI_KC_SMALL, 'j') == NULL, "the enlarge notice takes no moving keys");
	/* one row per key and context (a second would never be reached),
	 * unless each says when it holds (avail): n is Note, or the next
	 * match right after a search, as in less */
	int dup = 0;
	for (size_t i = 0; i < ui_n_keys; i++)
		for (size_t j = i + 1; j < ui_n_keys; j++)
			for (int a = 0; a < UI_KEY_CODES && ui_keys[i].codes[a]; a++)
				for (int b = 0; b < UI_KEY_CODES && ui_keys[j].codes[b]; b++)
					if (ui_keys[i].codes[a] == ui_keys[j].codes[b] &&
					    (ui_keys[i].contexts & ui_keys[j].contexts) &&
					    !(ui_keys[i].avail && ui_keys[j].avail) && !dup++)
						printf("# %s and %s share a code and a context\n", ui_keys[i].label,
						       ui_keys[j].label);
	is_int(dup, 0, "no two rows claim the same key in the same context");

	static ui_ctx u;   /* big: not on the stack */
	memset(&u, 0, sizeof u);
	u.s.mode = UI_MODE_DRIVER;
	k = ui_key_find_for(&u, UI_KC_LIST, 'n');
	ok(k && k->act == UI_ACT_NOTE, "n: a note when no search is on");
	snprintf(u.search, sizeof u.search, "%s", "copy");
	u.searching = true;
	k = ui_key_find_for(&u, UI_KC_LIST, 'n');
	ok(k && k->act == UI_ACT_SEARCH_NEXT, "n: the next match right after a search");
	k = ui_key_find_for(&u, UI_KC_LIST, 'N');
	ok(k && k->act == UI_ACT_SEARCH_PREV, "N: the previous match");
	u.searching = false;
	u.s.mode = UI_MODE_MONITOR;
	k = ui_key_find_for(&u, UI_KC_LIST, 'n');
	ok(k && k->act == UI_ACT_NOTE, "n in a monitor: the note row, which says it is refused");
}

int main(void)
{
	scroll_list();
	select_list();
	key_table();
	return done_testing();
}
