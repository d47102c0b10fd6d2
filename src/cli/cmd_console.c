/*
 * cmd_console.c -- `pgcutover console` (also what `pgcutover` alone runs):
 * loads the config, runbook, state and ledger through cli_load(), exactly as
 * the headless commands do, takes the driver's lease (one driver at a
 * time; the console heartbeats it) and hands them to the ncurses console in
 * src/ui/.  Options: --ascii forces ASCII drawing; --no-color (global) and
 * NO_COLOR turn colour off; --plan-from STATE loads a rehearsal's timings
 * (rehearsal.c) for the header and the checklist.  `pgcutover monitor` is
 * the same console in MONITOR mode: the state opened read-only, no lease,
 * every write key disabled; it follows the driver's events and says when
 * the driver falls silent.
 *
 * `p` in the console shows schema and sequence parity: this file runs
 * `pgcutover schema` (this very binary) as a child process whose output the
 * loop reads without blocking, so a slow catalog or a vanished server never
 * freezes the screen, and the console shows exactly what the headless
 * command prints.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgcutover/cli.h"
#include "pgcutover/compare.h"
#include "pgcutover/lease.h"
#include "pgcutover/loop.h"
#include "pgcutover/rehearsal.h"
#include "pgcutover/notify.h"
#include "pgcutover/ui.h"

/* Automatic refresh intervals of the live counts that + and - step
 * through, in seconds; 0 = off.  A new refresh starts only once the last
 * one has finished (a refresh of big tables may itself take minutes). */
static const int counts_intervals[] = {5, 15, 30, 60, 300, 0};
#define COUNTS_N_INTERVALS (sizeof counts_intervals / sizeof counts_intervals[0])
#define COUNTS_DEFAULT_INTERVAL 1   /* 15 s */
#define MS_PER_S 1000

/* Live row counts for the side pane: a comparison session on the console's
 * own loop (non-blocking libpq / curl multi), snapshots recorded in the
 * state like `pgcutover counts` does. */
typedef struct console_counts {
	const config *cfg;
	state *st;
	cmp_session *cs;
	loop *lp;
	size_t interval;        /* index in counts_intervals */
	int timer_id;           /* the interval's timer, 0 = none */
	char error[PGC_ERR_MAX];
} console_counts;

static void counts_on_snapshot(cmp_session *cs, bool snapshot_done, void *ud);

static void counts_tick(loop *lp, void *ud);

/* (Re)arms the interval timer for the current interval; off: none. */
static void counts_arm(console_counts *cc)
{
	if (cc->timer_id)
		loop_timer_cancel(cc->lp, cc->timer_id);
	cc->timer_id = 0;
	int secs = counts_intervals[cc->interval];
	if (secs > 0)
		cc->timer_id = loop_timer(cc->lp, secs * MS_PER_S, counts_tick, cc);
}

static void counts_tick(loop *lp, void *ud)
{
	(void)lp;
	console_counts *cc = ud;
	cc->timer_id = 0;
	if (cmp_snapshot_complete(cc->cs))
		cmp_refresh(cc->cs, true);
	counts_arm(cc);
}

static void counts_on_loop(loop *lp, void *ud)
{
	console_counts *cc = ud;
	pgc_err e = {0};
	cc->lp = lp;
	cc->cs = cmp_session_new(cc->cfg, lp, &e);
	if (cc->cs)
		cmp_session_set_listener(cc->cs, counts_on_snapshot, cc);
	if (!cc->cs || cmp_start(cc->cs, &e) < 0) {
		snprintf(cc->error, sizeof cc->error, "%s", e.msg[0] ? e.msg : "counts unavailable");
		return;
	}
	/* the recorded history gives the sparkline and rows/s from the start */
	if (cc->st && cmp_session_load_history(cc->cs, cc->st, &e) < 0)
		snprintf(cc->error, sizeof cc->error, "history not loaded: %.900s", e.msg);
	cmp_refresh(cc->cs, true);   /* estimates first, exact counts replace them */
	counts_arm(cc);
}

static int counts_cmd(void *ud, ui_counts_cmd cmd, char *msg, size_t n)
{
	console_counts *cc = ud;
	if (!cc->cs) {
		snprintf(msg, n, "counts unavailable: %s", cc->error[0] ? cc->error : "no comparison running");
		return -1;
	}
	switch (cmd) {
	case UI_COUNTS_REFRESH:
	case UI_COUNTS_EXACT: {
		bool exact = cmd == UI_COUNTS_EXACT;
		bool was_running = !cmp_snapshot_complete(cc->cs);
		cmp_refresh(cc->cs, exact);   /* cancels what is in flight */
		counts_arm(cc);               /* the interval counts from now */
		snprintf(msg, n, "%s%s", exact ? "exact counts (count(*) of every table) asked"
		                                : "counts refresh asked (estimates, then exact where cheap)",
		         was_running ? "; the refresh in flight was cancelled" : "");
		return 0;
	}
	case UI_COUNTS_FASTER:
	case UI_COUNTS_SLOWER: {
		size_t i = cc->interval;
		if (cmd == UI_COUNTS_SLOWER && i + 1 < COUNTS_N_INTERVALS)
			i++;
		else if (cmd == UI_COUNTS_FASTER && i > 0)
			i--;
		cc->interval = i;
		counts_arm(cc);
		int secs = counts_intervals[i];
		if (secs > 0)
			snprintf(msg, n, "counts refresh every %d s (+ slower, - faster)", secs);
		else
			snprintf(msg, n, "automatic counts refresh off (r refreshes, - turns it back on)");
		return 0;
	}
	}
	return -1;
}

static void counts_on_loop_end(loop *lp, void *ud)
{
	console_counts *cc = ud;
	if (cc->timer_id)
		loop_timer_cancel(lp, cc->timer_id);
	cc->timer_id = 0;
	cmp_session_free(cc->cs);   /* cancels what is in flight, unwatches its sockets */
	cc->cs = NULL;
}

/* Counts are recorded only while this console drives: once another process
 * has taken the lease over, this console is a monitor and writes nothing.
 * So the console records snapshots itself, checking the lease first,
 * rather than letting the session record them. */
static bool counts_still_driver(console_counts *cc)
{
	lease_info li;
	pgc_err e = {0};
	int held = lease_read(cc->st, &li, &e);
	bool mine = held > 0 && li.pid == (int)getpid() && li.host &&
	            strcmp(li.host, pgc_host_name()) == 0;
	if (held > 0)
		lease_info_free(&li);
	return mine;
}

static void counts_on_snapshot(cmp_session *cs, bool snapshot_done, void *ud)
{
	console_counts *cc = ud;
	if (!snapshot_done || !cc->st || !counts_still_driver(cc))
		return;
	char *payload = cmp_snapshot_json(cs, false);
	pgc_err e = {0};
	if (state_append(cc->st, EV_COUNTS, NULL, NULL, payload, NULL, &e) != 0)
		snprintf(cc->error, sizeof cc->error, "counts NOT recorded: %.900s", e.msg);
	else
		cc->error[0] = '\0';
	free(payload);
}

static int counts_side_fill(void *ud, ui_side_data *d)
{
	console_counts *cc = ud;
	memset(d, 0, sizeof *d);
	if (!cc->cs) {
		if (!cc->error[0])
			return 0;
		d->status = UI_SIDE_ERROR;
		d->message = xstrdup(cc->error);
		return 1;
	}
	size_t n = cmp_n_tables(cc->cs);
	d->rows = xcalloc(n ? n : 1, sizeof *d->rows);
	d->n_rows = n;
	double newest = 0, now = pgc_now();
	for (size_t i = 0; i < n; i++) {
		const cmp_table *t = cmp_table_at(cc->cs, i);
		ui_side_row *r = &d->rows[i];
		r->table = xstrdup(t->name);
		r->source = t->side[CMP_SOURCE].rows;
		r->target = t->side[CMP_TARGET].rows;
		snprintf(r->state, sizeof r->state, "%s", cmp_state_key(t->state));
		r->exact = t->side[CMP_SOURCE].exact && t->side[CMP_TARGET].exact;
		r->rate = t->rate;
		r->eta_s = t->eta_s;
		r->age_s = -1;
		for (int w = 0; w < CMP_N_SIDES; w++) {
			double at = t->side[w].measured_at;
			if (at > newest)
				newest = at;
			if (at > 0 && now - at > r->age_s)
				r->age_s = now - at;
		}
		cmp_point pts[UI_SPARK_POINTS];
		size_t np = cmp_table_history(t, CMP_TARGET, pts, UI_SPARK_POINTS);
		for (size_t k = 0; k < np; k++)
			r->spark[k] = pts[k].rows;
		r->n_spark = (int)np;
	}
	d->ts = newest;
	d->refreshing = !cmp_snapshot_complete(cc->cs);
	d->refreshing_exact = d->refreshing && cmp_refresh_exact(cc->cs);
	d->interval_s = counts_intervals[cc->interval];
	char buf[256];
	if (cmp_any_unreachable(cc->cs)) {
		d->status = UI_SIDE_ERROR;
		const cmp_side *src = cmp_side_at(cc->cs, CMP_SOURCE), *dst = cmp_side_at(cc->cs, CMP_TARGET);
		const cmp_side *down = (src && !src->up && src->error) ? src
		                     : (dst && !dst->up && dst->error) ? dst : NULL;
		if (!down) {
			d->message = xstrdup("a side is unreachable");
		} else {
			/* the pane is ~30 columns: "target unreachable" first, then
			 * libpq's reason; the endpoint "(host=... dbname=...)" the
			 * error starts with is in the header already and filled the
			 * line, so the operator saw only "target (host=/tmp/pg…" */
			const char *why = down->error;
			size_t ll = strlen(down->label);
			const char *rest = strncmp(why, down->label, ll) == 0 && why[ll] == ' ' && why[ll + 1] == '('
			                   ? strstr(why, "): ") : NULL;
			char *msg = rest ? xasprintf("%s unreachable: %s", down->label, rest + 3) : NULL;
			d->message = pgc_sanitize(msg ? msg : why);   /* REST: "supabase: t: no answer" */
			free(msg);
		}
	} else {
		d->status = UI_SIDE_LIVE;
		d->all_match = !cc->error[0] && cmp_all_match(cc->cs);
		d->message = xstrdup(cc->error[0] ? cc->error : cmp_summary(cc->cs, buf, sizeof buf));
	}
	return 1;
}

/* ---- p: schema and sequence parity through a child `pgcutover schema` ---- */

#define PARITY_TIMEOUT_MS 120000          /* a check that takes longer is killed */
#define PARITY_OUTPUT_MAX (256 * 1024)    /* kept of its output */
#define PARITY_READ_CHUNK 4096
#define PARITY_EXEC_FAILED 127

typedef struct console_parity {
	const char *config_path;   /* as given with -c, or NULL (the default) */
	loop *lp;
	pid_t pid;                 /* 0 when no check runs */
	int fd;                    /* read end of its stdout+stderr, -1 */
	int timer_id;
	char *text; size_t len;
	unsigned gen;
} console_parity;

static void parity_append(console_parity *cp, const char *data, size_t n)
{
	if (cp->len + n > PARITY_OUTPUT_MAX)
		n = PARITY_OUTPUT_MAX - cp->len;
	cp->text = xrealloc(cp->text, cp->len + n + 1);
	memcpy(cp->text + cp->len, data, n);
	cp->len += n;
	cp->text[cp->len] = '\0';
	cp->gen++;
}

/* Ends a check: stops watching, reaps the child (kill first when asked) and
 * says how it ended. */
static void parity_finish(console_parity *cp, bool kill_it, const char *why)
{
	if (cp->fd >= 0) {
		loop_unwatch(cp->lp, cp->fd);
		close(cp->fd);
		cp->fd = -1;
	}
	if (cp->timer_id)
		loop_timer_cancel(cp->lp, cp->timer_id);
	cp->timer_id = 0;
	if (cp->pid > 0) {
		if (kill_it)
			kill(cp->pid, SIGKILL);
		int st = 0;
		/* its output pipe is closed: the child is exiting, the wait is short */
		while (waitpid(cp->pid, &st, 0) < 0 && errno == EINTR)
			;
		char line[160];
		if (why)
			snprintf(line, sizeof line, "\n(check %s)\n", why);
		else if (WIFEXITED(st) && WEXITSTATUS(st) == PARITY_EXEC_FAILED)
			snprintf(line, sizeof line, "\n(could not run pgcutover schema)\n");
		else if (WIFEXITED(st))
			snprintf(line, sizeof line, "\n(pgcutover schema exited %d: %s)\n", WEXITSTATUS(st),
			         WEXITSTATUS(st) == 0 ? "schema and sequences match"
			         : WEXITSTATUS(st) == 1 ? "differences above" : "see the message above");
		else
			snprintf(line, sizeof line, "\n(pgcutover schema ended by signal %d)\n", WTERMSIG(st));
		parity_append(cp, line, strlen(line));
		cp->pid = 0;
	}
}

static void parity_on_output(loop *lp, int fd, short revents, void *ud)
{
	(void)lp;
	(void)revents;
	console_parity *cp = ud;
	char buf[PARITY_READ_CHUNK];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			parity_append(cp, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		parity_finish(cp, false, NULL);   /* EOF or a read error */
		return;
	}
}

static void parity_on_timeout(loop *lp, void *ud)
{
	(void)lp;
	console_parity *cp = ud;
	cp->timer_id = 0;
	parity_finish(cp, true, "killed: it took longer than two minutes");
}

static int parity_start(void *ud, char *msg, size_t n)
{
	console_parity *cp = ud;
	if (cp->pid > 0)
		parity_finish(cp, true, "restarted");
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(msg, n, "parity check: cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(msg, n, "parity check: cannot fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* only async-signal-safe calls between fork and exec */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		static const int reset[] = {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGTSTP, SIGWINCH};
		for (size_t i = 0; i < sizeof reset / sizeof *reset; i++)
			signal(reset[i], SIG_DFL);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		char *argv[8];
		int a = 0;
		argv[a++] = (char *)"pgcutover";
		if (cp->config_path) {
			argv[a++] = (char *)"-c";
			argv[a++] = (char *)cp->config_path;
		}
		argv[a++] = (char *)"--no-color";
		argv[a++] = (char *)"schema";
		argv[a] = NULL;
		execv("/proc/self/exe", argv);
		_exit(PARITY_EXEC_FAILED);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	cp->pid = pid;
	cp->fd = fds[0];
	free(cp->text);
	cp->text = NULL;
	cp->len = 0;
	cp->gen++;
	loop_watch(cp->lp, cp->fd, POLLIN, parity_on_output, cp);
	cp->timer_id = loop_timer(cp->lp, PARITY_TIMEOUT_MS, parity_on_timeout, cp);
	snprintf(msg, n, "parity check started");
	return 0;
}

static const char *parity_text(void *ud, bool *running, unsigned *gen)
{
	console_parity *cp = ud;
	*running = cp->pid > 0;
	*gen = cp->gen;
	return cp->text;
}

/* ---- webhook notifications for the events of the state ---- */

#define NOTIFY_SCAN_MS 1000

typedef struct console_notify {
	const config *cfg;
	const runbook *rb;
	state *st;
	console_counts *cc;        /* for "still the driver?" */
	loop *lp;
	notifier *n;
	int64_t after;             /* events up to this id were looked at */
	int timer_id;
	unsigned gen;
	char notice[320];
} console_notify;

static int notify_event(const st_event *ev, void *ud)
{
	console_notify *cn = ud;
	char *text = notify_text(cn->cfg, cn->rb, ev);
	if (text)
		notify_send(cn->n, text);
	free(text);
	cn->after = ev->id;
	return 0;
}

static void notify_tick(loop *lp, void *ud)
{
	console_notify *cn = ud;
	cn->timer_id = loop_timer(lp, NOTIFY_SCAN_MS, notify_tick, cn);
	/* only the driver speaks for the migration: after a takeover the new
	 * driver does */
	if (state_last_id(cn->st) > cn->after) {
		if (counts_still_driver(cn->cc)) {
			pgc_err e = {0};
			state_foreach(cn->st, cn->after, notify_event, cn, &e);
		} else {
			cn->after = state_last_id(cn->st);
		}
	}
	unsigned g = notify_generation(cn->n);
	if (g != cn->gen) {
		cn->gen = g;
		snprintf(cn->notice, sizeof cn->notice, "%s", notify_last_error(cn->n));
	}
}

static void notify_on_loop(console_notify *cn, loop *lp)
{
	cn->lp = lp;
	cn->n = notify_new(cn->cfg, lp);
	if (!cn->n)
		return;
	cn->after = state_last_id(cn->st);   /* history was announced when it happened */
	cn->timer_id = loop_timer(lp, NOTIFY_SCAN_MS, notify_tick, cn);
}

static void notify_on_loop_end(console_notify *cn)
{
	if (!cn->n)
		return;
	if (cn->timer_id)
		loop_timer_cancel(cn->lp, cn->timer_id);
	/* what happened last (a session's final phase_complete) still goes out,
	 * within the headless wait */
	if (state_last_id(cn->st) > cn->after && counts_still_driver(cn->cc)) {
		pgc_err e = {0};
		state_foreach(cn->st, cn->after, notify_event, cn, &e);
	}
	notify_flush(cn->n, NOTIFY_FLUSH_MS);
	notify_free(cn->n);
	cn->n = NULL;
}

/* ---- the hooks the console gets: counts, parity, notifications ---- */

typedef struct console_hooks {
	console_counts cc;
	bool live_counts;
	console_parity cp;
	console_notify cn;
} console_hooks;

static void hooks_on_loop(loop *lp, void *ud)
{
	console_hooks *h = ud;
	h->cp.lp = lp;
	if (h->live_counts)
		counts_on_loop(lp, &h->cc);
	if (h->cn.st)
		notify_on_loop(&h->cn, lp);
}

static void hooks_on_loop_end(loop *lp, void *ud)
{
	console_hooks *h = ud;
	if (h->cp.pid > 0)
		parity_finish(&h->cp, true, "abandoned");
	free(h->cp.text);
	h->cp.text = NULL;
	notify_on_loop_end(&h->cn);
	if (h->live_counts)
		counts_on_loop_end(lp, &h->cc);
}

static int hooks_side_fill(void *ud, ui_side_data *d)
{
	return counts_side_fill(&((console_hooks *)ud)->cc, d);
}

static int hooks_counts_cmd(void *ud, ui_counts_cmd cmd, char *msg, size_t n)
{
	return counts_cmd(&((console_hooks *)ud)->cc, cmd, msg, n);
}

static int hooks_parity_start(void *ud, char *msg, size_t n)
{
	return parity_start(&((console_hooks *)ud)->cp, msg, n);
}

static const char *hooks_parity_text(void *ud, bool *running, unsigned *gen)
{
	return parity_text(&((console_hooks *)ud)->cp, running, gen);
}

static const char *hooks_notice(void *ud, unsigned *gen)
{
	console_hooks *h = ud;
	*gen = h->cn.gen;
	return h->cn.notice;
}

static int console_open(int argc, char **argv, cli_opts *o, ui_mode mode)
{
	bool ascii = false, live = false;
	const char *plan_from = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ascii") == 0)
			ascii = true;
		else if (strcmp(argv[i], "--live") == 0 && mode == UI_MODE_MONITOR)
			live = true;
		else if (strcmp(argv[i], "--plan-from") == 0 && i + 1 < argc)
			plan_from = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: pgcutover [-c CONFIG] [--operator NAME] [--no-color] console [--ascii] "
			       "[--plan-from STATE]\n"
			       "       pgcutover [-c CONFIG] monitor [--ascii] [--live]\n"
			       "Opens the operator console; ? inside lists the keys.  See pgcutover(1).\n");
			return 0;
		} else
			return cli_usage_error("console", "unknown option '%s'", argv[i]);
	}
	/* before the lease and session events: a run without a terminal must
	 * leave no trace in the state */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "pgcutover: the console needs a terminal; "
		                "use status, log, tick, untick and note without one\n");
		return PGC_EXIT_USAGE;
	}
	pgc_err te = {0};
	if (ui_terminal_check(&te) < 0) {
		fprintf(stderr, "pgcutover: %s\n", te.msg);
		return te.code;
	}
	cli_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	int need = CLI_NEED_CONFIG | CLI_NEED_RUNBOOK |
	           (mode == UI_MODE_MONITOR ? CLI_STATE_RO : CLI_STATE_RW | CLI_DRIVER);
	int rc = cli_load(&ctx, o, need);
	if (rc != 0)
		return rc;
	if (!ctx.st) {
		fprintf(stderr, "pgcutover: monitor: no state file at %s yet: nothing to follow\n",
		        ctx.state_path ? ctx.state_path : "(default path)");
		cli_unload(&ctx);
		return PGC_EXIT_NOINPUT;
	}
	/* a rehearsal's timings as the plan: before the terminal is taken */
	rh_plan *plan = NULL;
	pgc_err pe = {0};
	if (plan_from && rehearsal_plan_from(ctx.rb, plan_from, &plan, &pe) < 0) {
		rc = cli_report(&pe);
		cli_unload(&ctx);
		return rc;
	}
	/* the screen hides what cli_load said on stderr: a command whose end is
	 * unknown comes first in the status line */
	char *startup = ctx.unknown_report && ctx.runbook_change_report
	                        ? xasprintf("%s; %s", ctx.unknown_report, ctx.runbook_change_report)
	                        : xstrdup(ctx.unknown_report ? ctx.unknown_report
	                                                     : ctx.runbook_change_report ? ctx.runbook_change_report : "");
	ui_setup s = {
		.cfg = ctx.cfg,
		.rb = ctx.rb,
		.st = ctx.st,
		.lg = ctx.lg,
		.mode = mode,
		.operator_name = o->operator_name,
		.host = pgc_host_name(),
		.no_color = o->no_color,
		.ascii = ascii,
		.startup_message = startup[0] ? startup : NULL,
		.lease = ctx.lease,
		.plan = plan,
	};
	console_hooks h = {
		.cc = {.cfg = ctx.cfg, .st = ctx.st, .interval = COUNTS_DEFAULT_INTERVAL},
		.cp = {.config_path = o->config_path, .fd = -1},
		.cn = {.cfg = ctx.cfg, .rb = ctx.rb, .st = mode == UI_MODE_DRIVER ? ctx.st : NULL},
	};
	h.cn.cc = &h.cc;
	s.notice = hooks_notice;
	/* the driver counts; a monitor only with --live and its own (read-only)
	 * credentials, and then records nothing: counts_on_snapshot records only
	 * for the lease holder */
	bool counts_here = mode == UI_MODE_DRIVER || live;
	h.live_counts = counts_here && ctx.cfg && ctx.cfg->n_tables > 0 &&
	                ctx.cfg->source.kind != CFG_EP_NONE && ctx.cfg->target.kind != CFG_EP_NONE;
	/* schema parity needs PostgreSQL catalogs on both sides */
	bool parity = counts_here && ctx.cfg && ctx.cfg->source.kind == CFG_EP_POSTGRES &&
	              ctx.cfg->target.kind == CFG_EP_POSTGRES;
	s.hook_ud = &h;
	s.on_loop = hooks_on_loop;
	s.on_loop_end = hooks_on_loop_end;
	if (h.live_counts) {
		s.side_fill = hooks_side_fill;
		s.counts_cmd = hooks_counts_cmd;
	}
	if (parity) {
		s.parity_start = hooks_parity_start;
		s.parity_text = hooks_parity_text;
	}
	pgc_err e = {0};
	rc = ui_console_run(&s, &e);
	if (rc < 0)
		rc = cli_report(&e);
	else if (ctx.runbook_change_report && !o->quiet)
		fprintf(stderr, "%s\n", ctx.runbook_change_report);
	rehearsal_plan_free(plan);
	free(startup);
	cli_unload(&ctx);
	return rc;
}

int cmd_console(int argc, char **argv, cli_opts *o)
{
	return console_open(argc, argv, o, UI_MODE_DRIVER);
}

int cmd_monitor(int argc, char **argv, cli_opts *o)
{
	return console_open(argc, argv, o, UI_MODE_MONITOR);
}
