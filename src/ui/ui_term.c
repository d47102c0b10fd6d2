/*
 * ui_term.c -- before the console takes the terminal: whether $TERM names
 * one it can draw on.  ncurses draws TERM=dumb (no cursor movement) by
 * printing every screen after the previous one as lines of text, so the
 * console would look alive while showing nothing usable; better to refuse
 * with what to do, before the lease and session events are recorded.
 * Kept apart from ui.c because <term.h> defines macros (lines, columns)
 * that clash with ordinary names.  Called by cmd_console.c.
 */
#include "config.h"
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <curses.h>
#include <term.h>
#include "pgcutover/ui.h"

int ui_terminal_check(pgc_err *e)
{
	const char *t = getenv("TERM");
	if (!t || !*t)
		return pgc_fail(e, PGC_EXIT_USAGE, "the console needs TERM set to the terminal's type "
		                "(e.g. TERM=xterm-256color); use status, log, tick, untick and note without one");
	int err = 0;
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return pgc_fail(e, PGC_EXIT_USAGE, "the console cannot draw on TERM=%s: %s; set TERM to the "
		                "terminal's type, or use status, log, tick, untick and note", t,
		                err == 0 ? "no terminfo entry for it" : "no terminfo database");
	/* TERM=dumb has no cursor movement: ncurses would print every screen
	 * one after the other as lines of text */
	const char *cup = tigetstr("cup");
	bool usable = cup && cup != (char *)-1 && tigetflag("hc") <= 0;
	del_curterm(cur_term);
	if (!usable)
		return pgc_fail(e, PGC_EXIT_USAGE, "the console needs a terminal that can move its cursor, "
		                "and TERM=%s cannot; set TERM to the terminal's type, "
		                "or use status, log, tick, untick and note", t);
	return 0;
}
