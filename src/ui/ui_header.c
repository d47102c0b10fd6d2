/*
 * ui_header.c -- the two header lines: the migration's title, source and
 * target, the mode (DRIVER / MONITOR / REPLAY, in colour and in words),
 * operator@host, the wall clock, the health checks' mark (ui_health_mark),
 * the phase in progress (or the phases, when
 * several are; ledger_current_words) with its time, and the downtime
 * clock (schedule.h): planned from the runbook's cutover window, running
 * from the downtime_start event (D) or the first tick inside the window,
 * red and "OVER" past the plan.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/schedule.h"
#include "pgcutover/rehearsal.h"
#include "ui_priv.h"

#define MINUTES_PER_DAY (24 * 60)

/* Value of keyword kw in a libpq "k=v k=v" conninfo, or "" (no quoting:
 * this is only for showing, never for connecting). */
static void conninfo_value(const char *ci, const char *kw, char *buf, size_t n)
{
	size_t kl = strlen(kw);
	buf[0] = '\0';
	for (const char *p = ci; p && *p;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, kw, kl) == 0 && p[kl] == '=') {
			p += kl + 1;
			size_t l = strcspn(p, " ");
			snprintf(buf, n, "%.*s", (int)l, p);
			return;
		}
		p = strchr(p, ' ');
	}
}

/* "dbname@host:port" -- short enough for the header; a socket directory is
 * cut to its last two parts.  service=NAME and URIs are shown as written. */
static void endpoint_words(const cfg_endpoint *ep, char *buf, size_t n)
{
	char host[128], port[32], db[96], svc[128];
	switch (ep->kind) {
	case CFG_EP_POSTGRES:
		if (!ep->conninfo || strstr(ep->conninfo, "://") || !strchr(ep->conninfo, '=')) {
			snprintf(buf, n, "%s", ep->conninfo ? ep->conninfo : "postgres");
			return;
		}
		conninfo_value(ep->conninfo, "service", svc, sizeof svc);
		conninfo_value(ep->conninfo, "host", host, sizeof host);
		conninfo_value(ep->conninfo, "port", port, sizeof port);
		conninfo_value(ep->conninfo, "dbname", db, sizeof db);
		if (svc[0] && !host[0]) {
			snprintf(buf, n, "service %s", svc);
			return;
		}
		const char *h = host;
		if (host[0] == '/') {
			/* "/tmp/x/demo/pg" -> "demo/pg" */
			const char *last = strrchr(host, '/');
			for (const char *q = last - 1; q > host; q--)
				if (*q == '/') {
					h = q + 1;
					break;
				}
		}
		snprintf(buf, n, "%s%s%s%s%s", db[0] ? db : "", db[0] ? "@" : "", h[0] ? h : "localhost",
		         port[0] ? ":" : "", port);
		break;
	case CFG_EP_SUPABASE: snprintf(buf, n, "supabase %s", ep->url ? ep->url : ""); break;
	default: snprintf(buf, n, "not configured"); break;
	}
}

/* "4m12s behind rehearsal, downtime end ~03:12" (--plan-from); short:
 * "rehearsal: 4m12s behind, end ~03:12", for a narrow terminal. */
static void rehearsal_words(ui_ctx *u, const sched_downtime *dtm, bool short_form, char *buf, size_t n)
{
	double delta, projected, dt_end;
	if (rehearsal_compare(u->s.plan, u->lg, &delta, &projected) < 0) {
		snprintf(buf, n, "%s rehearsal: %s", ui_glyph_str(u, UI_G_VLINE),
		         short_form ? "nothing yet" : "nothing to compare yet");
		return;
	}
	char d[24], end[16];
	ui_fmt_duration(delta < 0 ? -delta : delta, d, sizeof d);
	bool has_dt = dtm->has_window && rehearsal_downtime_end(u->s.plan, u->lg, dtm->phase, dtm->step, &dt_end) == 0;
	ui_fmt_clock(has_dt ? dt_end : projected, end, sizeof end, false);
	if (short_form)
		snprintf(buf, n, "%s rehearsal: %s %s, end ~%s", ui_glyph_str(u, UI_G_VLINE), d,
		         delta > 0 ? "behind" : "ahead", end);
	else
		snprintf(buf, n, "%s %s %s rehearsal, %s ~%s", ui_glyph_str(u, UI_G_VLINE), d,
		         delta > 0 ? "behind" : "ahead of", has_dt ? "downtime end" : "end", end);
}

void ui_header_draw(ui_ctx *u)
{
	WINDOW *w = u->w_header;
	int width = getmaxx(w);
	werase(w);
	double now = ui_now(u);

	/* line 1 right: mode, operator@host, clock */
	char clock[16], who[160], mode[24];
	ui_fmt_clock(now, clock, sizeof clock, true);
	snprintf(who, sizeof who, "%s@%s  %s", u->s.operator_name, u->s.host, clock);
	snprintf(mode, sizeof mode, " %s ", ui_mode_name(u->s.mode));
	int pair = u->s.mode == UI_MODE_DRIVER ? UI_C_DRIVER : u->s.mode == UI_MODE_MONITOR ? UI_C_MONITOR : UI_C_REPLAY;
	int wx = ui_put_right(u, w, 0, width - 1, who, 0, 0);
	int mx = ui_put_right(u, w, 0, wx - 2, mode, A_BOLD | (u->color ? 0 : A_REVERSE), ui_pair(u, pair));
	if (u->s.mode == UI_MODE_MONITOR && !u->replay && u->driver[0]) {
		/* whose work the monitor's cursor follows (f toggles) */
		char fol[96];
		snprintf(fol, sizeof fol, u->follow ? "following %s" : "not following %s (f)", u->driver);
		char *safe = pgc_sanitize(fol);
		mx = ui_put_right(u, w, 0, mx - 2, safe, 0, ui_pair(u, UI_C_ACCENT));
		free(safe);
	}
	size_t rp, ri;   /* a command running: "⟳ 5.5 0m21s" */
	if (ledger_running(u->lg, &rp, &ri) == 0) {
		char d[24], run[96];
		ui_fmt_duration(now - ledger_item(u->lg, rp, ri)->last_run.started_at, d, sizeof d);
		snprintf(run, sizeof run, "%s %s %s", ui_glyph_str(u, UI_G_RUNNING), u->rb->phases[rp].items[ri].id, d);
		mx = ui_put_right(u, w, 0, mx - 2, run, A_BOLD, ui_pair(u, UI_C_ACCENT));
	}

	/* the health checks' last run (re-run in the background): "♥ 3/3",
	 * "✗ 2/3 api" */
	char hm[96];
	bool hfail;
	ui_health_mark(u, width / 4, hm, sizeof hm, &hfail);
	if (hm[0])
		mx = ui_put_right(u, w, 0, mx - 2, hm, hfail ? A_BOLD : 0, ui_pair(u, hfail ? UI_C_WARN : UI_C_DONE));

	char title[400];
	snprintf(title, sizeof title, "pgcutover %s %s", ui_glyph_str(u, UI_G_VLINE),
	         u->rb->title && *u->rb->title ? u->rb->title : "(untitled runbook)");
	ui_put(u, w, 0, 1, title, mx - 3, A_BOLD, ui_pair(u, UI_C_TITLE));

	/* line 2 right: phase time, downtime */
	/* where the migration is (ledger.h), with the time in the phase when
	 * one is in progress */
	char phase_t[96], dt[96], right[200];
	size_t cp = ledger_current_words(u->lg, phase_t, sizeof phase_t);
	if (cp != SIZE_MAX && !u->lg->phases[cp].rollback_failed && ledger_phases_in_progress(u->lg, NULL, 0) == 1 &&
	    u->lg->phases[cp].started_at > 0) {
		char d[24];
		ui_fmt_duration(now - u->lg->phases[cp].started_at, d, sizeof d);
		size_t l = strlen(phase_t);
		snprintf(phase_t + l, sizeof phase_t - l, " %s", d);
	}
	sched_downtime dtm;
	sched_downtime_get(u->rb, u->lg, now, &dtm);
	bool over = dtm.over;
	char plan[24] = "?";
	if (dtm.plan_min >= 0)
		snprintf(plan, sizeof plan, "%dh%02dm", dtm.plan_min / 60, dtm.plan_min % 60);
	if (dtm.start > 0) {
		char d[24];
		ui_fmt_duration(dtm.elapsed_s, d, sizeof d);
		snprintf(dt, sizeof dt, "downtime %s of %s%s%s", d, plan,
		         dtm.running ? "" : " (ended)", over ? " OVER" : "");
	} else if (dtm.has_window) {
		snprintf(dt, sizeof dt, "downtime plan %s", plan);
	} else {
		snprintf(dt, sizeof dt, "downtime -");
	}
	char rh[96] = "";
	if (u->s.plan)
		rehearsal_words(u, &dtm, false, rh, sizeof rh);
	snprintf(right, sizeof right, "%s  %s  %s%s%s", phase_t, ui_glyph_str(u, UI_G_VLINE), dt,
	         rh[0] ? "  " : "", rh);
	/* too wide to leave the endpoints a little room: the short forms, so
	 * the downtime and the rehearsal's verdict are cut last */
	if (ui_text_width(u, right) > width - 2 - 24) {
		if (dtm.start > 0) {
			char d[24];
			ui_fmt_duration(dtm.elapsed_s, d, sizeof d);
			snprintf(dt, sizeof dt, "down %s/%s%s%s", d, plan, dtm.running ? "" : " ended", over ? " OVER" : "");
		}
		if (u->s.plan)
			rehearsal_words(u, &dtm, true, rh, sizeof rh);
		snprintf(right, sizeof right, "%s %s %s%s%s", phase_t, ui_glyph_str(u, UI_G_VLINE), dt,
		         rh[0] ? " " : "", rh);
		if (ui_text_width(u, right) > width - 2 - 24)
			snprintf(right, sizeof right, "%s%s%s", dt, rh[0] ? " " : "", rh);
	}
	int rx = ui_put_right(u, w, 1, width - 1, right, over ? A_BOLD : 0, ui_pair(u, over ? UI_C_WARN : UI_C_ACCENT));

	char src[512], dst[512], line[1100];
	if (u->s.cfg) {
		endpoint_words(&u->s.cfg->source, src, sizeof src);
		endpoint_words(&u->s.cfg->target, dst, sizeof dst);
		snprintf(line, sizeof line, "%s %s %s", src, ui_glyph_str(u, UI_G_ARROW), dst);
	} else {
		snprintf(line, sizeof line, "source and target not configured");
	}
	ui_put(u, w, 1, 1, line, rx - 3, 0, ui_pair(u, UI_C_DIM));
}
