/*
 * ui_timeline.c -- the console's REPLAY mode (`pgcutover replay STATE` on a
 * terminal): a cursor over a recorded log and the timeline bar that shows
 * it, with the phase starts and the events marked.  Every pane reads u->lg,
 * and here u->lg is the ledger as of the cursor: a step forward applies the
 * next events, anything else rebuilds it from the nearest checkpoint
 * snapshot (replay_build), so a seek costs at most REPLAY_SNAPSHOT_EVERY
 * events of folding whatever the log's length.  Playback moves a virtual
 * time along the timeline (idle gaps cut to -i SECONDS) on loop timers,
 * never by sleeping.  The bar's window also shows the last command run
 * before the cursor, the last health run and the .env flags as pgcutover
 * had set them.  The
 * keys (Space, < >, . , [ ], t) come from the key table's REPLAY context;
 * writes are off as in any read-only mode.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pgcutover/action.h"
#include "pgcutover/health.h"
#include "pgcutover/replay.h"
#include "ui_priv.h"

/* A playback frame: the bar and the clock move this often while playing. */
#define RP_FRAME_MS 100
#define RP_MS_PER_SEC 1000.0
/* A move forward by more events than this rebuilds from a snapshot
 * instead of applying them one by one. */
#define RP_APPLY_MAX REPLAY_SNAPSHOT_EVERY
#define RP_TIME_MAX 40
/* Below the microsecond resolution events are stored with. */
#define RP_TIME_EPSILON 1e-7
#define RP_SECS_PER_MIN 60
#define RP_SECS_PER_HOUR 3600
/* Logs up to this long load every event's time at open (a sequential
 * read of the log); longer ones, replayed without -i, look times up by id
 * as needed, so opening a million events does not read them all. */
#define RP_EAGER_MAX 100000

static const int rp_speeds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
#define RP_N_SPEEDS ((int)(sizeof rp_speeds / sizeof rp_speeds[0]))

typedef struct rp_mark {
	int64_t id;          /* the event that started the phase */
	size_t phase;
} rp_mark;

struct ui_replay {
	replay_src *src;
	int64_t total;       /* events in the log */
	int64_t cursor;      /* events applied to u->lg (0 = before the first) */
	double *times;       /* times[i]: event i+1's time; NULL when lazy */
	double *pos;         /* its place on the timeline (gaps compressed) */
	size_t cap;
	bool lazy;           /* no arrays: a place is the time since t0 */
	double t0;           /* the first event's time */
	double length;       /* timeline length, seconds */
	double vt;           /* the cursor's place on the timeline */
	bool playing;
	int speed;           /* index in rp_speeds */
	int timer;
	double last_ms;      /* loop_now_ms() of the last frame */
	rp_mark *starts; size_t n_starts;   /* phase starts, in id order */
	char command[UI_LINE_MAX];          /* the command at the cursor, one line */
	char flags[UI_LINE_MAX];            /* the flags pgcutover had set by then */
	char health[UI_LINE_MAX];           /* the last health run by then */
	int data_version;
	int *buckets; int n_buckets;        /* events per bar column */
	int64_t buckets_total;
};

/* Event id's time and its place on the timeline (id >= 1). */
static double time_of(const struct ui_replay *rp, int64_t id)
{
	if (!rp->lazy)
		return rp->times[id - 1];
	double ts = rp->t0;
	replay_event_time(rp->src, id, &ts, NULL);
	return ts;
}

static double pos_of(const struct ui_replay *rp, int64_t id)
{
	return rp->lazy ? time_of(rp, id) - rp->t0 : rp->pos[id - 1];
}

double ui_timeline_now(const ui_ctx *u)
{
	const struct ui_replay *rp = u->replay;
	if (!rp || rp->total == 0)
		return pgc_now();
	if (rp->cursor == 0)
		return rp->t0;
	int64_t c = rp->cursor;
	double t = time_of(rp, c), here = pos_of(rp, c);
	if (c < rp->total && rp->vt > here) {
		/* between two events: the clock runs along the (compressed) gap */
		double next = pos_of(rp, c + 1);
		double f = next > here ? (rp->vt - here) / (next - here) : 0;
		if (f > 1)
			f = 1;
		t += f * (time_of(rp, c + 1) - t);
	}
	return t;
}

int64_t ui_timeline_cursor(const ui_ctx *u)
{
	return u->replay ? u->replay->cursor : 0;
}

replay_src *ui_timeline_src(const ui_ctx *u)
{
	return u->replay ? u->replay->src : NULL;
}

/* The last event whose timeline place is at or before vt. */
static int64_t id_at_pos(const struct ui_replay *rp, double vt)
{
	if (rp->lazy) {
		int64_t id = 0;
		replay_id_at_time(rp->src, rp->t0 + vt, &id, NULL);
		return id < rp->total ? id : rp->total;
	}
	int64_t lo = 0, hi = rp->total;   /* answer in [lo, hi] */
	while (lo < hi) {
		int64_t mid = lo + (hi - lo + 1) / 2;
		if (rp->pos[mid - 1] <= vt)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static void add_times(struct ui_replay *rp, const double *t, size_t n, double idle)
{
	if (rp->total + (int64_t)n > (int64_t)rp->cap) {
		rp->cap = (size_t)rp->total + n;
		rp->times = xrealloc(rp->times, (rp->cap ? rp->cap : 1) * sizeof *rp->times);
		rp->pos = xrealloc(rp->pos, (rp->cap ? rp->cap : 1) * sizeof *rp->pos);
	}
	for (size_t i = 0; i < n; i++) {
		int64_t k = rp->total + (int64_t)i;
		rp->times[k] = t[i];
		if (k == 0) {
			rp->pos[k] = 0;
			continue;
		}
		double gap = t[i] - rp->times[k - 1];
		if (gap < 0)
			gap = 0;
		if (idle > 0 && gap > idle)
			gap = idle;
		rp->pos[k] = rp->pos[k - 1] + gap;
	}
	rp->total += (int64_t)n;
	rp->length = rp->total ? rp->pos[rp->total - 1] : 0;
}

/* Phase starts from the last ledger: a phase starts at its first tick. */
static void find_phase_starts(ui_ctx *u, const ledger *last)
{
	struct ui_replay *rp = u->replay;
	free(rp->starts);
	rp->starts = xcalloc(u->rb->n_phases ? u->rb->n_phases : 1, sizeof *rp->starts);
	rp->n_starts = 0;
	for (size_t p = 0; p < u->rb->n_phases; p++) {
		int64_t id = 0;
		if (last->phases[p].started_at <= 0 ||
		    replay_id_at_time(rp->src, last->phases[p].started_at, &id, NULL) < 0 || id <= 0)
			continue;
		size_t k = rp->n_starts++;
		while (k > 0 && rp->starts[k - 1].id > id) {
			rp->starts[k] = rp->starts[k - 1];
			k--;
		}
		rp->starts[k] = (rp_mark){id, p};
	}
}

/* "5.2.1 exit 0 after 0m03s (01:02:03): last output line  `systemctl stop
 * web`", for the last command started at or before the cursor. */
static void command_at_cursor(ui_ctx *u)
{
	struct ui_replay *rp = u->replay;
	rp->command[0] = '\0';
	replay_command c;
	pgc_err e = {0};
	if (rp->cursor == 0 || replay_command_at(rp->src, rp->cursor, &c, &e) < 0 || !c.start)
		return;
	char first_line[160] = "";
	if (c.cmd.command)
		snprintf(first_line, sizeof first_line, "%.*s", (int)strcspn(c.cmd.command, "\n"), c.cmd.command);
	char when[16];
	ui_fmt_clock(c.start->ts, when, sizeof when, true);
	const evr_command_end *ep = &c.result;
	const char *item = c.start->item ? c.start->item : "";
	if (!c.end) {
		snprintf(rp->command, sizeof rp->command, "%s running since %s  `%s`", item, when, first_line);
	} else {
		char d[24] = "?";
		if (ep->has_duration)
			ui_fmt_duration(ep->duration_s, d, sizeof d);
		char how[64];
		if (ep->has_exit)
			snprintf(how, sizeof how, "exit %d", ep->exit_code);
		else
			snprintf(how, sizeof how, "%s", ep->status ? ep->status : "ended");
		/* the last line the command printed says most about how it ended:
		 * it comes before the command text, which a narrow screen cuts */
		const char *out = ep->output_tail && *ep->output_tail ? ep->output_tail
		                : ep->output_head ? ep->output_head : "";
		size_t len = strlen(out);
		while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
			len--;
		size_t from = len;
		while (from && out[from - 1] != '\n')
			from--;
		snprintf(rp->command, sizeof rp->command, "%s %s after %s (%s)%s%.*s  `%s`", item, how, d, when,
		         len ? ": " : "", (int)(len - from), out + from, first_line);
	}
	replay_command_free(&c);
}

/* "USE_NEW_DB=true (bob 01:05)  ..." from the last flag_set or flag_drift
 * (", by hand") of each declared flag at or before the cursor: the .env as
 * the log knew it then (the file itself is today's). */
static void flags_at_cursor(ui_ctx *u)
{
	struct ui_replay *rp = u->replay;
	rp->flags[0] = '\0';
	if (!u->s.cfg || u->s.cfg->n_flags == 0)
		return;
	size_t len = 0;
	for (size_t i = 0; i < u->s.cfg->n_flags && len < sizeof rp->flags; i++) {
		const char *name = u->s.cfg->flags[i];
		st_event *ev = NULL;
		char value[128] = "not set yet";
		char *nv = NULL;
		bool by_hand = false;
		if (rp->cursor > 0 && replay_flag_at(rp->src, name, rp->cursor, &ev, &nv, &by_hand, NULL) == 1) {
			char when[16];
			ui_fmt_clock(ev->ts, when, sizeof when, false);
			snprintf(value, sizeof value, "%s (%s %s%s)", nv ? nv : by_hand ? "(removed)" : "?",
			         ev->operator_name ? ev->operator_name : "?", when, by_hand ? ", by hand" : "");
			free(nv);
			st_event_free(ev);
		}
		len += (size_t)snprintf(rp->flags + len, sizeof rp->flags - len, "%s%s=%s", len ? "  " : "", name, value);
	}
}

/* "2/3 ok at 01:02 (failing: api)" from the last health event at or
 * before the cursor: what the driver saw then, not what the servers say
 * today (the H panel). */
static void health_at_cursor(ui_ctx *u)
{
	struct ui_replay *rp = u->replay;
	st_event *ev = NULL;
	snprintf(rp->health, sizeof rp->health, "none run yet");
	if (rp->cursor == 0 || replay_last_of_kind_at(rp->src, EV_HEALTH, rp->cursor, &ev, NULL) != 1)
		return;
	evr_health h;
	evr_health_read(ev->payload, &h);
	char when[16];
	ui_fmt_clock(ev->ts, when, sizeof when, false);
	const char *f = h.failing;
	snprintf(rp->health, sizeof rp->health, "%d/%d ok at %s%s%s%s", h.n_ok, h.n_checks, when,
	         *f ? " (failing: " : "", f, *f ? ")" : "");
	evr_health_free(&h);
	st_event_free(ev);
}

typedef struct apply_ctx {
	ledger *lg;
	char phase[RB_ID_MAX], item[RB_ID_MAX];
} apply_ctx;

static int apply_one(const st_event *ev, void *ud)
{
	apply_ctx *c = ud;
	if (c->lg)
		ledger_apply(c->lg, ev);
	if (ev->phase || ev->item) {
		snprintf(c->phase, sizeof c->phase, "%s", ev->phase ? ev->phase : "");
		snprintf(c->item, sizeof c->item, "%s", ev->item ? ev->item : "");
	}
	return 0;
}

/* Selects the phase (and item) the newest event at the cursor was about, so
 * playing shows where the work was, as the driver's screen did. */
static void follow_work(ui_ctx *u, const apply_ctx *c)
{
	size_t p, i;
	if (c->item[0] && ledger_find_item(u->lg, c->item, &p, &i) == 0) {
		if (p != u->phase)
			ui_select_phase(u, p);
		ui_checklist_rebuild(u);
		ui_checklist_reveal(u, i);
	} else if (c->phase[0] && ledger_find_phase(u->lg, c->phase, &p) == 0) {
		ui_select_phase(u, p);
	}
}

/* Moves the cursor to event id (0 = before the first); set_vt puts the
 * timeline place on that event. */
static void rp_goto(ui_ctx *u, int64_t id, bool set_vt)
{
	struct ui_replay *rp = u->replay;
	pgc_err e = {0};
	if (id < 0)
		id = 0;
	if (id > rp->total)
		id = rp->total;
	if (set_vt)
		rp->vt = id ? pos_of(rp, id) : 0;
	if (id == rp->cursor)
		return;
	apply_ctx c = {0};
	if (id > rp->cursor && id - rp->cursor <= RP_APPLY_MAX) {
		c.lg = u->lg;
		if (replay_foreach(rp->src, rp->cursor + 1, id, apply_one, &c, &e) < 0) {
			ui_status(u, "replay: %.200s", e.msg);
			return;
		}
	} else {
		ledger *lg = NULL;
		if (replay_build(rp->src, u->rb, id, &lg, &e) < 0) {
			ui_status(u, "replay: %.200s", e.msg);
			return;
		}
		ledger_free(u->lg);
		u->lg = lg;
		if (id > 0)
			replay_foreach(rp->src, id, id, apply_one, &c, NULL);
	}
	rp->cursor = id;
	follow_work(u, &c);
	u->rows_stale = true;
	ui_events_load(u);
	ui_side_refresh_recorded(u);
	command_at_cursor(u);
	flags_at_cursor(u);
	health_at_cursor(u);
	ui_mark(u, UI_DIRTY_ALL);
}

static void arm_frame(ui_ctx *u);

static void on_frame(loop *lp, void *ud)
{
	(void)lp;
	ui_ctx *u = ud;
	struct ui_replay *rp = u->replay;
	rp->timer = 0;
	if (!rp->playing)
		return;
	double now = loop_now_ms();
	rp->vt += (now - rp->last_ms) / RP_MS_PER_SEC * rp_speeds[rp->speed];
	rp->last_ms = now;
	if (rp->vt >= rp->length) {
		rp->vt = rp->length;
		rp->playing = false;
		rp_goto(u, rp->total, false);
		ui_status(u, "end of the log (event %lld): Space plays it again", (long long)rp->total);
	} else {
		rp_goto(u, id_at_pos(rp, rp->vt), false);
		arm_frame(u);
	}
	ui_mark(u, UI_DIRTY_HEADER);
	ui_redraw(u);
}

static void arm_frame(ui_ctx *u)
{
	struct ui_replay *rp = u->replay;
	if (!rp->timer)
		rp->timer = loop_timer(u->lp, RP_FRAME_MS, on_frame, u);
}

static void set_playing(ui_ctx *u, bool on)
{
	struct ui_replay *rp = u->replay;
	rp->playing = on;
	if (on) {
		if (rp->cursor >= rp->total)
			rp_goto(u, 0, true);   /* from the end: play it again */
		rp->last_ms = loop_now_ms();
		arm_frame(u);
	} else if (rp->timer) {
		loop_timer_cancel(u->lp, rp->timer);
		rp->timer = 0;
	}
	ui_mark(u, UI_DIRTY_HEADER);
}

int ui_timeline_open(ui_ctx *u, pgc_err *e)
{
	if (!u->s.replay)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "REPLAY mode needs a log to replay");
	struct ui_replay *rp = xcalloc(1, sizeof *rp);
	u->replay = rp;
	rp->src = u->s.replay;
	int64_t last_id = replay_last_id(rp->src);
	rp->lazy = !replay_in_memory(rp->src) && u->s.replay_idle <= 0 && last_id > RP_EAGER_MAX;
	if (rp->lazy) {
		rp->total = last_id;
		if (replay_event_time(rp->src, 1, &rp->t0, e) < 0)
			return pgc_fail(e, PGC_EXIT_DATAERR, "the log has no first event");
		rp->length = time_of(rp, rp->total) - rp->t0;
	} else {
		double *t = NULL;
		size_t n = 0;
		if (replay_times(rp->src, &t, &n, e) < 0)
			return -1;
		add_times(rp, t, n, u->s.replay_idle);
		free(t);
		rp->t0 = rp->total ? rp->times[0] : 0;
	}
	ledger *last = NULL;
	if (replay_build(rp->src, u->rb, rp->total, &last, e) < 0)
		return -1;
	find_phase_starts(u, last);
	ledger_free(last);
	if (replay_build(rp->src, u->rb, 0, &u->lg, e) < 0)
		return -1;
	if (u->s.st)
		rp->data_version = state_data_version(u->s.st);
	flags_at_cursor(u);
	health_at_cursor(u);
	return 0;
}

void ui_timeline_close(ui_ctx *u)
{
	struct ui_replay *rp = u->replay;
	if (!rp)
		return;
	ledger_free(u->lg);
	u->lg = NULL;
	free(rp->times);
	free(rp->pos);
	free(rp->starts);
	free(rp->buckets);
	free(rp);
	u->replay = NULL;
}

/* A replay of a state that is still being driven: the timeline grows. */
void ui_timeline_follow(ui_ctx *u)
{
	struct ui_replay *rp = u->replay;
	if (!rp || !u->s.st)
		return;
	/* A state nobody had open is read as a snapshot, which SQLite never
	 * sees change: a writer that came meanwhile makes it open it again. */
	bool replaced = false, reopened = state_is_immutable(u->s.st) &&
	                state_file_changed(u->s.st, &replaced) == 1 && state_reopen(u->s.st, NULL) == 0;
	int v = state_data_version(u->s.st);
	if (v == rp->data_version && !reopened)
		return;
	rp->data_version = v;
	double *t = NULL;
	size_t n = 0;
	int64_t last_id = replay_last_id(rp->src);
	if (rp->lazy && last_id > rp->total) {
		rp->total = last_id;
		rp->length = time_of(rp, rp->total) - rp->t0;
		n = 1;
	} else if (!rp->lazy && replay_times_from(rp->src, rp->total + 1, &t, &n, NULL) == 0 && n) {
		add_times(rp, t, n, u->s.replay_idle);
	}
	if (n) {
		ledger *last = NULL;
		if (replay_build(rp->src, u->rb, rp->total, &last, NULL) == 0) {
			find_phase_starts(u, last);
			ledger_free(last);
		}
		ui_mark(u, UI_DIRTY_HEADER);
	}
	free(t);
}

/* ---- keys ---- */

static void seek_phase(ui_ctx *u, int dir)
{
	struct ui_replay *rp = u->replay;
	if (dir > 0) {
		for (size_t k = 0; k < rp->n_starts; k++)
			if (rp->starts[k].id > rp->cursor) {
				rp_goto(u, rp->starts[k].id, true);
				ui_status(u, "phase %s starts (event %lld)", u->rb->phases[rp->starts[k].phase].id,
				          (long long)rp->starts[k].id);
				return;
			}
		ui_status(u, "no phase starts after the cursor");
	} else {
		for (size_t k = rp->n_starts; k-- > 0;)
			if (rp->starts[k].id < rp->cursor) {
				rp_goto(u, rp->starts[k].id, true);
				ui_status(u, "phase %s starts (event %lld)", u->rb->phases[rp->starts[k].phase].id,
				          (long long)rp->starts[k].id);
				return;
			}
		ui_status(u, "no phase starts before the cursor");
	}
}

static void seek_answer(ui_ctx *u, const char *text, void *ctx);

void ui_timeline_key(ui_ctx *u, ui_action a)
{
	struct ui_replay *rp = u->replay;
	if (!rp)
		return;
	switch (a) {
	case UI_ACT_RP_PLAY:
		set_playing(u, !rp->playing);
		break;
	case UI_ACT_RP_SLOWER:
	case UI_ACT_RP_FASTER:
		rp->speed += a == UI_ACT_RP_FASTER ? 1 : -1;
		if (rp->speed < 0)
			rp->speed = 0;
		if (rp->speed >= RP_N_SPEEDS)
			rp->speed = RP_N_SPEEDS - 1;
		ui_mark(u, UI_DIRTY_HEADER);
		break;
	case UI_ACT_RP_EV_NEXT:
	case UI_ACT_RP_EV_PREV:
		set_playing(u, false);
		rp_goto(u, rp->cursor + (a == UI_ACT_RP_EV_NEXT ? 1 : -1), true);
		break;
	case UI_ACT_RP_PHASE_NEXT:
	case UI_ACT_RP_PHASE_PREV:
		set_playing(u, false);
		seek_phase(u, a == UI_ACT_RP_PHASE_NEXT ? 1 : -1);
		break;
	case UI_ACT_RP_SEEK: {
		set_playing(u, false);
		ui_prompt_open(u, &(ui_prompt_spec){.title = "Go to a time",
		                                    .hint = "HH:MM[:SS] (that day), or YYYY-MM-DD HH:MM[:SS] / ISO-8601; Esc cancels",
		                                    .required = true, .done = seek_answer});
		break;
	}
	default:
		break;
	}
}

static void seek_answer(ui_ctx *u, const char *text, void *ctx)
{
	(void)ctx;
	struct ui_replay *rp = u->replay;
	double t = 0, upto = 0;
	/* read as `replay --at` reads it (replay.h) */
	if (replay_parse_at(text, rp->t0, &t, &upto) < 0) {
		ui_status(u, "cannot read '%.100s' as a time: HH:MM[:SS] or YYYY-MM-DD HH:MM[:SS]", text);
		return;
	}
	int64_t id = 0;
	pgc_err e = {0};
	if (replay_id_at_time(rp->src, upto, &id, &e) < 0) {
		ui_status(u, "replay: %.200s", e.msg);
		return;
	}
	rp_goto(u, id, true);
	char when[RP_TIME_MAX];
	pgc_iso8601(t, when, sizeof when);
	if (rp->total && t < rp->t0)
		ui_status(u, "%s is before the first event: cursor at the start", when);
	else
		ui_status(u, "at %s: event %lld of %lld", when, (long long)id, (long long)rp->total);
}

/* ---- drawing ---- */

static void fill_buckets(struct ui_replay *rp, int cols)
{
	if (rp->n_buckets == cols && rp->buckets_total == rp->total)
		return;
	free(rp->buckets);
	rp->buckets = xcalloc((size_t)cols, sizeof *rp->buckets);
	rp->n_buckets = cols;
	rp->buckets_total = rp->total;
	if (rp->lazy && rp->length > 0) {
		/* column c holds the places [c, c + 1) * step: count by the ids at
		 * the borders, a binary search each instead of a read of the log */
		double step = rp->length / (cols - 1 > 0 ? cols - 1 : 1);
		int64_t before = 0;
		for (int c = 0; c < cols; c++) {
			int64_t upto = c == cols - 1 ? rp->total : id_at_pos(rp, (c + 1) * step - RP_TIME_EPSILON);
			rp->buckets[c] = (int)(upto - before);
			before = upto;
		}
		return;
	}
	for (int64_t i = 0; i < rp->total; i++) {
		int c = rp->length > 0 ? (int)(pos_of(rp, i + 1) / rp->length * (cols - 1)) : 0;
		rp->buckets[c < cols ? c : cols - 1]++;
	}
}

static int col_of(const struct ui_replay *rp, double vt, int cols)
{
	if (rp->length <= 0)
		return 0;
	int c = (int)(vt / rp->length * (cols - 1));
	return c < 0 ? 0 : c >= cols ? cols - 1 : c;
}

static void duration_hms(double secs, char *buf, size_t n)
{
	long s = (long)secs;
	snprintf(buf, n, "%ld:%02ld:%02ld", s / RP_SECS_PER_HOUR, (s % RP_SECS_PER_HOUR) / RP_SECS_PER_MIN,
	         s % RP_SECS_PER_MIN);
}

void ui_timeline_draw(ui_ctx *u)
{
	WINDOW *w = u->w_timeline;
	struct ui_replay *rp = u->replay;
	if (!w || !rp)
		return;
	werase(w);
	int width = getmaxx(w);
	char title[96], right[200], when[RP_TIME_MAX], at[48], len[48];
	snprintf(title, sizeof title, "Replay %s %dx", rp->playing ? "playing" : "paused", rp_speeds[rp->speed]);
	pgc_iso8601(ui_timeline_now(u), when, sizeof when);
	when[19] = '\0';   /* to the second */
	when[10] = ' ';
	duration_hms(rp->vt, at, sizeof at);
	duration_hms(rp->length, len, sizeof len);
	snprintf(right, sizeof right, "event %lld/%lld  %s  %s/%s%s", (long long)rp->cursor, (long long)rp->total,
	         rp->total ? when : "-", at, len, u->s.replay_idle > 0 ? " (idle cut)" : "");
	ui_pane_title(u, w, 0, title, right, false);

	int cols = width - 2;
	if (cols < 1)
		return;
	fill_buckets(rp, cols);
	int cur = col_of(rp, rp->vt, cols);
	for (int c = 0; c < cols; c++) {
		const char *g = rp->buckets[c] ? ui_glyph_str(u, UI_G_BULLET) : ui_glyph_str(u, UI_G_HLINE);
		bool played = c <= cur && rp->cursor > 0;
		ui_put(u, w, 1, 1 + c, g, 1, played ? A_BOLD : 0, ui_pair(u, played ? UI_C_ACCENT : UI_C_DIM));
	}
	/* phase starts: a bar in the timeline and the phase id under it */
	int label_end = 0;
	for (size_t k = 0; k < rp->n_starts; k++) {
		int c = col_of(rp, pos_of(rp, rp->starts[k].id), cols);
		ui_put(u, w, 1, 1 + c, ui_glyph_str(u, UI_G_VLINE), 1, A_BOLD, ui_pair(u, UI_C_PROGRESS));
		char lab[RB_ID_MAX + 2];
		snprintf(lab, sizeof lab, "%s", u->rb->phases[rp->starts[k].phase].id);
		int lw = ui_text_width(u, lab);
		if (1 + c >= label_end && 1 + c + lw <= width) {
			ui_put(u, w, 2, 1 + c, lab, lw, 0, ui_pair(u, UI_C_PROGRESS));
			label_end = 1 + c + lw + 1;
		}
	}
	ui_put(u, w, 1, 1 + cur, ui_glyph_str(u, UI_G_BAR_FULL), 1, A_REVERSE | A_BOLD, 0);
	if (rp->command[0]) {
		char line[UI_LINE_MAX + 16];
		snprintf(line, sizeof line, "%s %s", ui_glyph_str(u, UI_G_CMD), rp->command);
		ui_put(u, w, 3, 1, line, width - 2, 0, 0);
	} else {
		ui_put(u, w, 3, 1, "no command run before the cursor", width - 2, UI_STYLE(u, UI_C_DIM, A_DIM));
	}
	char line[2 * UI_LINE_MAX + 32];
	snprintf(line, sizeof line, "health: %s%s%s", rp->health, rp->flags[0] ? "  flags: " : "", rp->flags);
	ui_put(u, w, 4, 1, line, width - 2, 0, 0);
}
