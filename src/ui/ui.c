/*
 * ui.c -- the console's context and glue: opens the terminal (ncursesw,
 * UTF-8 or ASCII, colour or not), lays out the panes, runs the single poll()
 * loop (terminal input, signals through loop_signal, a one-second timer for
 * the clock and for following the state file), and redraws only the panes
 * marked dirty, through wnoutrefresh()/doupdate() so nothing flickers.
 * cmd_console.c calls ui_console_run(); the pane files draw into the windows
 * made here.  Writes are ops.c's operations (ui_ops_ctx), the same the
 * headless tick/untick/note commands call.
 */
#include "config.h"
#include <langinfo.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "pgcutover/lease.h"
#include "ui_priv.h"

/* The one UI context, reachable from the crash handler to restore the tty. */
static ui_ctx *ui_the_ctx;

const char *ui_mode_name(ui_mode m)
{
	switch (m) {
	case UI_MODE_DRIVER: return "DRIVER";
	case UI_MODE_MONITOR: return "MONITOR";
	case UI_MODE_REPLAY: return "REPLAY";
	}
	return "?";
}

void ui_mark(ui_ctx *u, unsigned dirty)
{
	u->dirty |= dirty;
}

void ui_status(ui_ctx *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->status_msg, sizeof u->status_msg, fmt, ap);
	va_end(ap);
	u->status_until = pgc_now() + UI_STATUS_SECS;
	ui_mark(u, UI_DIRTY_KEYBAR);
}

bool ui_read_only(const ui_ctx *u)
{
	return u->s.mode != UI_MODE_DRIVER;
}

double ui_now(const ui_ctx *u)
{
	return u->replay ? ui_timeline_now(u) : pgc_now();
}

const rb_phase *ui_cur_phase(const ui_ctx *u)
{
	return u->rb->n_phases ? &u->rb->phases[u->phase] : NULL;
}

void ui_select_phase(ui_ctx *u, size_t phase)
{
	if (phase >= u->rb->n_phases || phase == u->phase)
		return;
	u->phase = phase;
	u->cursor = u->top = 0;
	u->n_rows_v = 0;   /* the old phase's rows say nothing about this one */
	u->rows_stale = true;
	ui_mark(u, UI_DIRTY_RAIL | UI_DIRTY_LIST | UI_DIRTY_HEADER);
}

/* A pane's first line: title on a rule, marked when the pane has focus
 * (brackets and bold, so it shows without colour too). */
void ui_pane_title(ui_ctx *u, WINDOW *w, int y, const char *title, const char *right, bool focused)
{
	int width = getmaxx(w);
	char buf[256];
	snprintf(buf, sizeof buf, focused ? "[%s]" : " %s ", title);
	attr_t ra = ui_attr(u, UI_C_DIM, A_NORMAL);
	ui_hline(u, w, y, 0, width, ra, ui_pair(u, UI_C_DIM));
	ui_put(u, w, y, 1, buf, width - 2, focused ? A_BOLD | A_REVERSE : A_BOLD, ui_pair(u, UI_C_TITLE));
	if (right && *right) {
		char rb[256];
		snprintf(rb, sizeof rb, " %s ", right);
		int rw = ui_text_width(u, rb);
		int tw = ui_text_width(u, buf) + 2;
		if (rw + tw + 2 <= width)
			ui_put_right(u, w, y, width - 1, rb, 0, ui_pair(u, UI_C_DIM));
	}
}

bool ui_may_write(ui_ctx *u)
{
	if (ui_read_only(u)) {
		ui_status(u, "%s mode: nothing is recorded from this console", ui_mode_name(u->s.mode));
		return false;
	}
	return true;
}

ops_ctx ui_ops_ctx(ui_ctx *u)
{
	return (ops_ctx){.st = u->s.st, .lg = u->lg, .cfg = u->s.cfg};
}

void ui_after_write(ui_ctx *u)
{
	/* ops.c folded the events into the ledger already, so
	 * ui_follow_state() would not see them as new for the rows */
	u->rows_stale = true;
	ui_follow_state(u);
	ui_side_refresh_recorded(u);
	ui_mark(u, UI_DIRTY_ALL);
}

/* Picks up events appended by this console or by anyone else (a headless
 * `tick` in another shell shows here within a second). */
int ui_follow_state(ui_ctx *u)
{
	pgc_err e = {0};
	int64_t last = state_last_id(u->s.st);
	int changed = 0;
	if (last > u->lg->last_event_id) {
		if (ledger_catch_up(u->lg, u->s.st, &e) != 0)
			ui_status(u, "state: %.200s", e.msg);
		u->rows_stale = true;
		changed = 1;
	}
	if (last > u->ev_last_id) {
		ui_events_load(u);
		changed = 1;
	}
	if (changed) {
		ui_monitor_follow(u);
		ui_side_refresh_recorded(u);
		ui_mark(u, UI_DIRTY_ALL);
	}
	return changed;
}

void ui_monitor_follow(ui_ctx *u)
{
	const ledger *lg = u->lg;
	if (!u->follow || !ui_read_only(u) || u->replay || !u->driver[0] || lg->work_phase == SIZE_MAX ||
	    lg->work_event_id == u->followed_id || !lg->work_by || strcmp(lg->work_by, u->driver) != 0)
		return;
	u->followed_id = lg->work_event_id;
	ui_select_phase(u, lg->work_phase);
	ui_checklist_rebuild(u);
	ui_checklist_reveal(u, lg->work_item);
	ui_mark(u, UI_DIRTY_ALL);
}

void ui_follow_toggle(ui_ctx *u)
{
	if (!ui_read_only(u) || u->replay) {
		ui_status(u, "f follows the driver in a monitor; this console %s", u->replay ? "replays" : "drives");
		return;
	}
	u->follow = !u->follow;
	u->followed_id = 0;
	if (u->follow)
		ui_monitor_follow(u);
	ui_status(u, u->follow ? "following %s: the driver's phase and item" : "not following %s (f follows again)",
	          u->driver[0] ? u->driver : "the driver");
	ui_mark(u, UI_DIRTY_HEADER);
}

/* ---- layout ---- */

static void free_windows(ui_ctx *u)
{
	WINDOW **ws[] = {&u->w_header, &u->w_rail, &u->w_side, &u->w_list, &u->w_events,
	                 &u->w_keybar, &u->w_ov, &u->w_prompt, &u->w_timeline};
	for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
		if (*ws[i]) {
			delwin(*ws[i]);
			*ws[i] = NULL;
		}
}

static void layout(ui_ctx *u)
{
	free_windows(u);
	getmaxyx(stdscr, u->rows, u->cols);
	u->too_small = u->rows < UI_MIN_ROWS || u->cols < UI_MIN_COLS;
	u->dirty = UI_DIRTY_ALL;
	if (u->too_small)
		return;
	int ev_h = u->rows >= UI_TALL_ROWS ? UI_EVENTS_ROWS_TALL : UI_EVENTS_ROWS;
	int body_y = UI_HEADER_ROWS;
	int body_h = u->rows - UI_HEADER_ROWS - UI_KEYBAR_ROWS - ev_h;
	if (u->replay) {
		/* the timeline sits between the panes and the event strip */
		body_h -= UI_TIMELINE_ROWS;
		u->w_timeline = newwin(UI_TIMELINE_ROWS, u->cols, body_y + body_h, 0);
	}
	int rail_w = u->cols >= UI_WIDE_COLS ? UI_RAIL_COLS_WIDE : UI_RAIL_COLS;
	int list_x = rail_w, list_w = u->cols - rail_w;

	u->w_header = newwin(UI_HEADER_ROWS, u->cols, 0, 0);
	u->w_keybar = newwin(UI_KEYBAR_ROWS, u->cols, u->rows - UI_KEYBAR_ROWS, 0);
	u->w_events = newwin(ev_h, u->cols, u->rows - UI_KEYBAR_ROWS - ev_h, 0);

	/* the rail wants a title line and two lines per phase */
	int rail_want = 1 + 2 * (int)u->rb->n_phases;
	u->side_right = u->cols >= UI_WIDE_COLS;
	if (u->side_right) {
		u->w_rail = newwin(body_h, rail_w, body_y, 0);
		list_w -= UI_SIDE_COLS;
		u->w_side = newwin(body_h, UI_SIDE_COLS, body_y, list_x + list_w);
		u->side_rows = body_h;
	} else {
		int rail_h = rail_want < body_h - UI_SIDE_MIN_ROWS ? rail_want : body_h - UI_SIDE_MIN_ROWS;
		if (rail_h < body_h / 2)
			rail_h = body_h / 2 < rail_want ? body_h / 2 : rail_want;
		int side_h = body_h - rail_h;
		if (side_h < UI_SIDE_MIN_ROWS) {
			rail_h = body_h;
			side_h = 0;
		}
		u->w_rail = newwin(rail_h, rail_w, body_y, 0);
		u->w_side = side_h ? newwin(side_h, rail_w, body_y + rail_h, 0) : NULL;
		u->side_rows = side_h;
	}
	u->w_list = newwin(body_h, list_w, body_y, list_x);
	if (!u->w_side && u->focus == UI_PANE_SIDE)
		u->focus = UI_PANE_LIST;
}

static void draw_too_small(ui_ctx *u)
{
	char line1[128], line2[128], line3[128];
	werase(stdscr);
	snprintf(line1, sizeof line1, "Terminal is %d%s%d.", u->cols, ui_glyph_str(u, UI_G_TIMES), u->rows);
	snprintf(line2, sizeof line2, "Please enlarge to %d%s%d.", UI_MIN_COLS, ui_glyph_str(u, UI_G_TIMES), UI_MIN_ROWS);
	line3[0] = '\0';
	if (ui_text_width(u, line2) > u->cols) {
		/* a very narrow terminal (20 columns) cut the size it asks for */
		snprintf(line2, sizeof line2, "Please enlarge");
		snprintf(line3, sizeof line3, "to %d%s%d.", UI_MIN_COLS, ui_glyph_str(u, UI_G_TIMES), UI_MIN_ROWS);
	}
	const char *lines[] = {line1, line2, line3, "q quits"};
	int y0 = u->rows / 2 - 1;
	for (int i = 0; i < 4; i++) {
		if (!lines[i][0])
			continue;
		int w = ui_text_width(u, lines[i]);
		int x = (u->cols - w) / 2;
		if (x < 0)
			x = 0;
		ui_put(u, stdscr, y0 + i < 0 ? 0 : y0 + i, x, lines[i], u->cols, i == 1 || i == 2 ? A_BOLD : 0, 0);
	}
	wnoutrefresh(stdscr);
}

static void redraw(ui_ctx *u)
{
	if (u->too_small) {
		if (u->dirty)
			draw_too_small(u);
		u->dirty = 0;
		doupdate();
		return;
	}
	if (u->rows_stale)
		ui_checklist_rebuild(u);
	if (!u->dirty)
		return;
	if ((u->dirty & UI_DIRTY_ALL) == UI_DIRTY_ALL) {
		werase(stdscr);
		wnoutrefresh(stdscr);
	}
	unsigned d = u->dirty;
	if (d & UI_DIRTY_HEADER) { ui_header_draw(u); wnoutrefresh(u->w_header); }
	/* the timeline moves with the header's clock */
	if ((d & UI_DIRTY_HEADER) && u->w_timeline) { ui_timeline_draw(u); wnoutrefresh(u->w_timeline); }
	if (d & UI_DIRTY_RAIL) { ui_rail_draw(u); wnoutrefresh(u->w_rail); }
	if ((d & UI_DIRTY_SIDE) && u->w_side) { ui_side_draw(u, u->w_side, &u->side); wnoutrefresh(u->w_side); }
	if (d & UI_DIRTY_LIST) { ui_checklist_draw(u); wnoutrefresh(u->w_list); }
	if (d & UI_DIRTY_EVENTS) { ui_events_draw(u); wnoutrefresh(u->w_events); }
	if (d & UI_DIRTY_KEYBAR) { ui_keybar_draw(u); wnoutrefresh(u->w_keybar); }
	/* overlays sit on top: redraw them whenever anything under them moved */
	if (u->overlay != NULL) {
		u->overlay->draw(u);
		if (u->w_ov)
			wnoutrefresh(u->w_ov);
	}
	if (ui_prompt_active(u)) {
		ui_prompt_draw(u);
		if (u->w_prompt)
			wnoutrefresh(u->w_prompt);
	}
	u->dirty = 0;
	doupdate();
}

void ui_redraw(ui_ctx *u)
{
	redraw(u);
}

static void handle_resize(ui_ctx *u)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	layout(u);
	clearok(curscr, TRUE);
}

/* ---- loop callbacks ---- */

static void on_stdin(loop *lp, int fd, short revents, void *ud)
{
	ui_ctx *u = ud;
	wint_t wch;
	int r;
	double t0 = u->trace ? loop_now_ms() : 0;
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		u->quit = true;
		u->exit_code = PGC_EXIT_IOERR;
		loop_stop(lp);
		return;
	}
	while ((r = wget_wch(stdscr, &wch)) != ERR) {
		bool is_key = r == KEY_CODE_YES;
		if (is_key && wch == KEY_RESIZE) {
			layout(u);
			continue;
		}
		if (ui_prompt_active(u) && !u->too_small)
			ui_prompt_key(u, wch, is_key);
		else
			ui_key_dispatch(u, (int)wch, is_key);
		if (u->quit)
			break;
	}
	if (u->quit) {
		loop_stop(lp);
		return;
	}
	redraw(u);
	if (u->trace) {
		/* input read to frame written, for bench/console.sh */
		fprintf(u->trace, "%.3f\n", loop_now_ms() - t0);
		fflush(u->trace);
	}
}

static void arm_timer(ui_ctx *u);

/* A monitor says when the driver has gone quiet: its lease's heartbeat is
 * the only sign of life a driver gives between events. */
static void monitor_watch_driver(ui_ctx *u, double now)
{
	lease_info li;
	pgc_err e = {0};
	int held = lease_read(u->s.st, &li, &e);
	if (held < 0)
		return;
	char driver[sizeof u->driver];
	snprintf(driver, sizeof driver, "%s", held && li.operator_name ? li.operator_name : "");
	if (strcmp(driver, u->driver) != 0) {
		snprintf(u->driver, sizeof u->driver, "%s", driver);
		ui_monitor_follow(u);
		ui_mark(u, UI_DIRTY_HEADER);
	}
	lease_liveness l = held ? lease_judge(&li, now, pgc_host_name()) : LEASE_FREE;
	/* Said once per change, so it does not drown the other messages.  At
	 * start, "no driver" (the usual case of a monitor opened after the
	 * night) does not replace a message still showing: the snapshot notice
	 * said the same, and a copy's or a snapshot's notice matters more. */
	if ((int)l != u->driver_liveness) {
		bool first = u->driver_liveness < 0;
		bool showing = u->status_msg[0] && now <= u->status_until;
		if (first && l == LEASE_FREE && showing) {
			u->driver_liveness = (int)l;
			lease_info_free(&li);
			return;
		}
		/* a message shown less than UI_STATUS_MIN_SECS ("state file changed
		 * at ...", set when a headless writer's events arrive) stays: the
		 * change is said on a later second */
		if (showing && now < u->status_until - UI_STATUS_SECS + UI_STATUS_MIN_SECS) {
			lease_info_free(&li);
			return;
		}
		u->driver_liveness = (int)l;
		char since[32] = "?";
		time_t beat = (time_t)li.heartbeat_at;
		struct tm tm;
		if (held && localtime_r(&beat, &tm))
			strftime(since, sizeof since, "%H:%M:%S", &tm);
		if (l == LEASE_SILENT || l == LEASE_DEAD)
			ui_status(u, "driver %s@%s %s: last heartbeat %s (%ds ago)",
			          li.operator_name ? li.operator_name : "?", li.host ? li.host : "?",
			          l == LEASE_DEAD ? "gone (process ended)" : "silent", since,
			          (int)(now - li.heartbeat_at));
		else if (l == LEASE_FREE)
			ui_status(u, "no driver: nobody holds this state's lease");
		else if (l == LEASE_LIVE)
			ui_status(u, "driver %s@%s is live", li.operator_name ? li.operator_name : "?",
			          li.host ? li.host : "?");
	}
	lease_info_free(&li);
}

/* Asks the comparison module for the side pane's figures (every second,
 * and at once after a counts key). */
void ui_side_poll(ui_ctx *u)
{
	if (!u->s.side_fill)
		return;
	ui_side_data d;
	memset(&d, 0, sizeof d);
	if (u->s.side_fill(u->s.hook_ud, &d) == 1) {
		ui_side_data_free(&u->side);
		u->side = d;
		u->side_live = true;
		ui_mark(u, UI_DIRTY_SIDE);
	}
}

/* A state brought over by scp or rsync is replaced (a rename: another
 * inode) or rewritten in place, and a snapshot (see state_is_immutable)
 * never changes under SQLite's eyes: SQLite follows neither, so the file is
 * opened again.  A driver's own checkpoints change the file too; reopening
 * then costs little and finds nothing new, so it says nothing. */
static void monitor_follow_file(ui_ctx *u)
{
	bool replaced = false;
	if (!state_is_readonly(u->s.st) || state_file_changed(u->s.st, &replaced) != 1)
		return;
	int64_t before = state_last_id(u->s.st);
	bool was_snapshot = state_is_immutable(u->s.st);
	pgc_err e = {0};
	if (state_reopen(u->s.st, &e) < 0) {
		/* mid-copy, most likely: the next second tries again */
		ui_status(u, "the state file changed and cannot be read yet: %.180s", e.msg);
		return;
	}
	int64_t after = state_last_id(u->s.st);
	if (replaced || after < u->lg->last_event_id) {
		/* another file: nothing derived from the old one stands */
		ledger *lg = NULL;
		if (ledger_build_at(u->rb, u->s.st, after, &lg, &e) < 0) {
			ui_status(u, "state: %.200s", e.msg);
			return;
		}
		ledger_replace(u->lg, lg);
		ui_events_reset(u);
		u->rows_stale = true;
	}
	u->data_version = state_data_version(u->s.st);
	ui_follow_state(u);
	ui_side_refresh_recorded(u);
	ui_mark(u, UI_DIRTY_ALL);
	if (replaced || after != before) {
		struct stat sb;
		char when[16] = "?";
		if (stat(state_path(u->s.st), &sb) == 0)
			ui_fmt_clock((double)sb.st_mtime, when, sizeof when, true);
		/* A state driven here has the drivers' lock file beside it; a copy
		 * brought over by scp or rsync has none. */
		char *lock = lease_lock_path(state_path(u->s.st));
		bool driven_here = access(lock, F_OK) == 0;
		free(lock);
		ui_status(u, "%s at %s: %lld events",
		          was_snapshot && !replaced && driven_here ? "state file changed" : "copy refreshed",
		          when, (long long)after);
	}
}

static void on_timer(loop *lp, void *ud)
{
	ui_ctx *u = ud;
	double now = pgc_now();
	if (u->s.lease && u->s.mode == UI_MODE_DRIVER) {
		pgc_err e = {0};
		if (lease_heartbeat(u->s.lease, now, &e) < 0 && e.code == PGC_EXIT_TEMPFAIL) {
			/* someone took over: stop writing, keep following */
			u->s.mode = UI_MODE_MONITOR;
			ui_status(u, "lease taken over; this console is now MONITOR: %.180s", e.msg);
			ui_mark(u, UI_DIRTY_ALL);
		}
	}
	if (u->s.mode == UI_MODE_MONITOR && !u->s.lease)
		monitor_watch_driver(u, now);
	if (u->s.mode == UI_MODE_MONITOR)
		monitor_follow_file(u);
	if (u->replay) {
		ui_timeline_follow(u);   /* the cursor stays where the operator put it */
	} else {
		int v = state_data_version(u->s.st);
		if (v != u->data_version) {
			u->data_version = v;
			ui_follow_state(u);
		}
	}
	long sec = (long)now;
	bool new_second = sec != u->clock_sec;
	if (new_second) {
		size_t rp, ri;
		if (sec / 60 != u->clock_sec / 60)
			ui_mark(u, UI_DIRTY_LIST | UI_DIRTY_RAIL);   /* schedules, durations */
		else if (ledger_running(u->lg, &rp, &ri) == 0)
			ui_mark(u, UI_DIRTY_LIST);   /* a running command's "⟳ 0m21s" */
		u->clock_sec = sec;
		ui_mark(u, UI_DIRTY_HEADER);
	}
	ui_parity_poll(u);
	if (new_second) {
		ui_go_poll(u);
		ui_freeze_poll(u);
	}
	ui_verify_poll(u);
	ui_panels_poll(u);
	if (u->s.notice) {
		unsigned gen = u->notice_gen;
		const char *text = u->s.notice(u->s.hook_ud, &gen);
		if (gen != u->notice_gen) {
			u->notice_gen = gen;
			if (text && *text)
				ui_status(u, "%s", text);
		}
	}
	if (u->s.side_fill) {
		ui_side_poll(u);
		/* the live counts record their snapshots on this console's own
		 * connection, which SQLite's data_version does not count: the
		 * events pane and the ledger pick them up within a second */
		if (new_second && !ui_read_only(u))
			ui_follow_state(u);
	} else if (new_second && u->side.ts > 0)
		ui_mark(u, UI_DIRTY_SIDE);   /* the age of the recorded figures */
	if (u->status_msg[0] && now > u->status_until) {
		u->status_msg[0] = '\0';
		ui_mark(u, UI_DIRTY_KEYBAR);
	}
	arm_timer(u);
	redraw(u);
}

static void arm_timer(ui_ctx *u)
{
	/* wake just after the next wall-clock second so the clock ticks evenly */
	double now = pgc_now();
	int ms = (int)((1.0 - (now - (double)(long)now)) * 1000.0) + 5;
	if (ms > UI_TICK_MS + 5)
		ms = UI_TICK_MS;
	u->timer_id = loop_timer(u->lp, ms, on_timer, u);
}

static void record_session_end(ui_ctx *u, const char *why)
{
	if (ui_read_only(u))
		return;
	ops_ctx c = ui_ops_ctx(u);
	ops_outcome oc;
	ops_session(&c, false, why, &oc);
}

static void on_signal(loop *lp, int signo, void *ud)
{
	ui_ctx *u = ud;
	switch (signo) {
	case SIGWINCH:
		handle_resize(u);
		redraw(u);
		break;
	case SIGTSTP:
		/* give the terminal back, stop, and repaint on resume */
		endwin();
		kill(getpid(), SIGSTOP);
		handle_resize(u);
		redraw(u);
		break;
	case SIGCONT:
		handle_resize(u);
		redraw(u);
		break;
	case SIGINT:
		/* Ctrl-C stops the running command, never the console under it;
		 * in the output pane it never quits, so a Ctrl-C pressed again
		 * just after the command ended does not take the console with it */
		if (u->overlay == &ui_scr_output) {
			if (!ui_run_cancel(u))
				ui_status(u, "no command running: ^C in the output pane only cancels; Esc closes it, q quits");
			break;
		}
		if (ui_run_busy(u, (char[160]){0}, 160)) {
			ui_status(u, "a command is running: o shows it, Ctrl-C there cancels it; q asks before quitting");
			break;
		}
		u->quit = true;
		loop_stop(lp);
		break;
	default:   /* SIGTERM, SIGHUP */
		u->quit = true;
		u->exit_code = 128 + signo;
		/* recorded once a running command is stopped and its end
		 * recorded, so session_end is the session's last event */
		u->end_reason = signo == SIGHUP ? "SIGHUP" : "SIGTERM";
		loop_stop(lp);
		break;
	}
}

/* Crash path: give the operator a working terminal back, then die. */
static void on_crash(int signo)
{
	if (ui_the_ctx && ui_the_ctx->term_open)
		endwin();
	signal(signo, SIG_DFL);
	raise(signo);
}

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL};

static void init_colors(ui_ctx *u)
{
	u->color = !u->s.no_color && has_colors();
	if (!u->color)
		return;
	start_color();
	/* default background keeps dark and light terminals readable; only
	 * mid-intensity foregrounds that work on both */
	use_default_colors();
	init_pair(UI_C_TITLE, -1, -1);
	init_pair(UI_C_DRIVER, COLOR_BLACK, COLOR_GREEN);
	init_pair(UI_C_MONITOR, COLOR_BLACK, COLOR_CYAN);
	init_pair(UI_C_REPLAY, COLOR_BLACK, COLOR_MAGENTA);
	init_pair(UI_C_DONE, COLOR_GREEN, -1);
	init_pair(UI_C_PROGRESS, COLOR_YELLOW, -1);
	init_pair(UI_C_RISK, COLOR_RED, -1);
	init_pair(UI_C_DIM, COLOR_BLUE, -1);
	init_pair(UI_C_KEY, COLOR_BLACK, COLOR_CYAN);
	init_pair(UI_C_CURSOR, -1, -1);
	init_pair(UI_C_WARN, COLOR_RED, -1);
	init_pair(UI_C_ACCENT, COLOR_CYAN, -1);
}

static bool want_utf8(const ui_ctx *u)
{
	if (u->s.ascii)
		return false;
	const char *cs = nl_langinfo(CODESET);
	if (!cs || (strcmp(cs, "UTF-8") != 0 && strcmp(cs, "utf8") != 0))
		return false;
	const char *term = getenv("TERM");
	/* DEC VT terminals have no Unicode */
	if (term && (strncmp(term, "vt", 2) == 0 || strcmp(term, "dumb") == 0))
		return false;
	return true;
}

static void ui_free(ui_ctx *u)
{
	ui_timeline_close(u);
	ui_checklist_free(u);
	ui_events_free(u);
	ui_log_close(u);
	ui_side_data_free(&u->side);
}

int ui_console_run(const ui_setup *s, pgc_err *e)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return pgc_fail(e, PGC_EXIT_USAGE, "the console needs a terminal; "
		                "use status, log, tick, untick and note without one");
	if (!s->rb || s->rb->n_phases == 0)
		return pgc_fail(e, PGC_EXIT_DATAERR, "the runbook has no phases to show");

	ui_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ui_ctx *u = &ctx;
	u->s = *s;
	u->rb = s->rb;
	u->lg = s->lg;
	if (!u->s.operator_name)
		u->s.operator_name = pgc_login_name();
	if (!u->s.host)
		u->s.host = pgc_host_name();
	setlocale(LC_ALL, "");
	u->utf8 = want_utf8(u);

	/* REPLAY folds its own ledgers as the cursor moves: before the
	 * terminal is taken, so a log that cannot be read is a plain error */
	if (s->mode == UI_MODE_REPLAY && ui_timeline_open(u, e) < 0) {
		ui_timeline_close(u);
		return -1;
	}

	u->scr = newterm(NULL, stdout, stdin);
	if (!u->scr) {
		ui_timeline_close(u);
		const char *t = getenv("TERM");
		return pgc_fail(e, PGC_EXIT_USAGE, "cannot open the terminal (TERM=%s)", t ? t : "unset");
	}
	set_term(u->scr);
	ui_the_ctx = u;
	u->term_open = true;
	struct sigaction crash_old[sizeof crash_signals / sizeof crash_signals[0]];
	for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_crash;
		sa.sa_flags = SA_RESETHAND;
		sigaction(crash_signals[i], &sa, &crash_old[i]);
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(UI_ESCDELAY_MS);
	curs_set(0);
	init_colors(u);

	const char *trace = getenv("PGCUTOVER_UI_TRACE");
	if (trace && *trace)
		u->trace = fopen(trace, "a");

	u->lp = loop_new();
	loop_watch(u->lp, STDIN_FILENO, POLLIN, on_stdin, u);
	if (s->on_loop)
		s->on_loop(u->lp, s->hook_ud);
	const int sigs[] = {SIGWINCH, SIGTERM, SIGHUP, SIGTSTP, SIGCONT, SIGINT};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		loop_signal(u->lp, sigs[i], on_signal, u);

	/* start on the phase the header names (the one in progress, the
	 * latest worked on, else the next to do: ledger_current_words), with
	 * the cursor on its first open item once work on it has begun; a
	 * restart opens where the cutover is */
	char where[128];
	size_t cur = ledger_current_words(u->lg, where, sizeof where);
	for (size_t i = 0; cur == SIZE_MAX && i < u->rb->n_phases; i++)
		if (u->lg->phases[i].status != LG_PHASE_DONE)
			cur = i;
	if (cur != SIZE_MAX)
		u->phase = cur;
	u->rows_stale = true;
	if (cur != SIZE_MAX && u->lg->phases[cur].status != LG_PHASE_NOT_STARTED && !u->replay)
		for (size_t i = 0; i < u->rb->phases[cur].n_items; i++)
			if (!ledger_item(u->lg, cur, i)->done) {
				ui_checklist_reveal(u, i);
				break;
			}
	u->focus = UI_PANE_LIST;
	u->driver_liveness = -1;
	u->follow = ui_read_only(u) && !u->replay;
	if (u->s.st)
		u->data_version = state_data_version(u->s.st);
	if (!ui_read_only(u)) {
		ops_ctx c = ui_ops_ctx(u);
		ops_outcome oc;
		if (ops_session(&c, true, "console", &oc) < 0)
			ui_status(u, "%.200s", oc.message);
	}
	ui_events_load(u);
	ui_side_refresh_recorded(u);
	if (s->startup_message)
		ui_status(u, "%s", s->startup_message);
	else if (u->s.st && state_is_immutable(u->s.st))
		ui_status(u, "a snapshot: no driver has this state open; followed by the file's size and time");
	else if (u->replay)
		ui_status(u, "Space plays, . and , step, [ and ] jump to phase starts, t goes to a time");
	u->clock_sec = (long)pgc_now();
#ifdef __GLIBC__
	/* loading a long runbook and its log leaves freed heap behind; give it
	 * back so a console left open all night stays small */
	malloc_trim(0);
#endif
	layout(u);
	redraw(u);
	arm_timer(u);

	loop_run(u->lp);
	/* The loop may turn again after this (the notifier's last sends, in
	 * on_loop_end): none of the screen's handlers may run then, on windows
	 * and panels already freed. */
	loop_unwatch(u->lp, STDIN_FILENO);
	if (u->timer_id) {
		loop_timer_cancel(u->lp, u->timer_id);
		u->timer_id = 0;
	}

	ui_run_free(u);   /* a command still running is stopped and its end recorded */
	if (u->end_reason)
		record_session_end(u, u->end_reason);
	else if (u->exit_code == 0 || u->exit_code == PGC_EXIT_IOERR)
		record_session_end(u, u->exit_code ? "terminal lost" : "quit");
	if (u->exit_code == PGC_EXIT_IOERR)
		u->exit_code = 0;
	endwin();
	u->term_open = false;
	free_windows(u);
	delscreen(u->scr);
	for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
		sigaction(crash_signals[i], &crash_old[i], NULL);
	ui_the_ctx = NULL;
	if (u->trace)
		fclose(u->trace);
	ui_panels_free(u);
	if (s->on_loop_end)
		s->on_loop_end(u->lp, s->hook_ud);
	/* The console has ended and recorded why.  A hangup comes twice when
	 * its terminal goes (tmux's own, then the closing terminal's), and a
	 * TERM may follow: blocked from here, never delivered, so the second
	 * one cannot kill the process halfway through the rest of its exit
	 * (loop_free puts the default handlers back) */
	sigset_t late;
	sigemptyset(&late);
	sigaddset(&late, SIGHUP);
	sigaddset(&late, SIGTERM);
	sigprocmask(SIG_BLOCK, &late, NULL);
	loop_free(u->lp);
	ui_free(u);
	return u->exit_code;
}
