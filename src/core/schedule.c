/*
 * schedule.c -- the downtime clock, late steps and recurring duties (see
 * schedule.h), derived from the runbook and the ledger with the time
 * given, so every caller (console header and checklist, `status --json`,
 * `downtime`, `due`, replay) computes the same thing and the unit tests
 * need no clock.
 */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "pgcutover/schedule.h"

#define MINUTES_PER_DAY (24 * 60)
#define SECONDS_PER_MINUTE 60
#define SECONDS_PER_HOUR 3600
#define SECONDS_PER_DAY 86400

static int hhmm(const char *s)
{
	int h, m;
	if (!s || sscanf(s, "%d:%d", &h, &m) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	return h * 60 + m;
}

int sched_minutes_between(const char *from, const char *to)
{
	int a = hhmm(from), b = hhmm(to);
	if (a < 0 || b < 0)
		return -1;
	return (b - a + MINUTES_PER_DAY) % MINUTES_PER_DAY;
}

bool sched_window(const runbook *rb, size_t *phase, size_t *step)
{
	for (size_t p = 0; p < rb->n_phases; p++)
		for (size_t s = 0; s < rb->phases[p].n_steps; s++)
			if (rb->phases[p].steps[s].window_from[0]) {
				*phase = p;
				*step = s;
				return true;
			}
	return false;
}

/* Steps s .. end-1 are the window step and the steps nested in it. */
static size_t window_end(const rb_phase *ph, size_t s)
{
	size_t e = s + 1;
	while (e < ph->n_steps && ph->steps[e].level > ph->steps[s].level)
		e++;
	return e;
}

void sched_downtime_get(const runbook *rb, ledger *lg, double now, sched_downtime *d)
{
	memset(d, 0, sizeof *d);
	d->plan_min = -1;
	d->has_window = sched_window(rb, &d->phase, &d->step);
	if (d->has_window) {
		const rb_step *st = &rb->phases[d->phase].steps[d->step];
		d->plan_min = sched_minutes_between(st->window_from, st->window_to);
	}
	if (lg->downtime_start > 0) {
		d->start = lg->downtime_start;
		d->explicit_start = true;
		d->end = lg->downtime_end;
		d->explicit_end = lg->downtime_end > 0;
	} else if (d->has_window) {
		/* no explicit start: from the first tick or command run inside
		 * the window (stopping the app is run before it is ticked) to the
		 * last tick, once every item there is done */
		const rb_phase *ph = &rb->phases[d->phase];
		size_t e = window_end(ph, d->step);
		double first = 0, last = 0;
		bool all_done = true;
		for (size_t i = 0; i < ph->n_items; i++) {
			const rb_item *it = &ph->items[i];
			if (it->step < (int)d->step || it->step >= (int)e || !ledger_item_counts(it))
				continue;
			const lg_item *li = ledger_item(lg, d->phase, i);
			if (li && li->first_run_at > 0 && (first == 0 || li->first_run_at < first))
				first = li->first_run_at;
			if (li && li->done && li->done_at > 0) {
				if (first == 0 || li->done_at < first)
					first = li->done_at;
				if (li->done_at > last)
					last = li->done_at;
			} else if (!li || !li->done) {
				all_done = false;
			}
		}
		d->start = first;
		d->end = first > 0 && all_done ? last : 0;
	}
	if (lg->downtime_end > 0 && d->end == 0 && d->start > 0 && lg->downtime_end >= d->start) {
		d->end = lg->downtime_end;   /* an explicit end after an implicit start */
		d->explicit_end = true;
	}
	if (d->start > 0) {
		d->running = d->end == 0;
		d->elapsed_s = (d->running ? now : d->end) - d->start;
		if (d->elapsed_s < 0)
			d->elapsed_s = 0;
		d->over = d->plan_min >= 0 && d->elapsed_s > d->plan_min * (double)SECONDS_PER_MINUTE;
	}
}

double sched_step_due(const runbook *rb, size_t p, size_t s, const sched_downtime *d)
{
	if (p < rb->n_phases && s < rb->phases[p].n_steps && rb->phases[p].steps[s].has_offset && d->start > 0) {
		/* a countdown step is placed from go-time, in any phase */
		const rb_step *st = &rb->phases[p].steps[s];
		return d->start + (st->offset_min + st->duration_min) * (double)SECONDS_PER_MINUTE;
	}
	if (!d->has_window || d->start <= 0 || p != d->phase)
		return 0;
	const rb_phase *ph = &rb->phases[p];
	if (s < d->step || s >= window_end(ph, d->step))
		return 0;
	const rb_step *win = &ph->steps[d->step], *st = &ph->steps[s];
	if (s == d->step)
		return d->plan_min >= 0 ? d->start + d->plan_min * (double)SECONDS_PER_MINUTE : 0;
	int off = sched_minutes_between(win->window_from, st->at);
	if (off < 0)
		return 0;
	return d->start + (off + st->duration_min) * (double)SECONDS_PER_MINUTE;
}

void sched_fmt_offset(int offset_min, char *buf, size_t n)
{
	int a = offset_min < 0 ? -offset_min : offset_min;
	char sign = offset_min < 0 ? '-' : '+';
	if (a >= 2 * MINUTES_PER_DAY && a % MINUTES_PER_DAY == 0)
		snprintf(buf, n, "T%c%dd", sign, a / MINUTES_PER_DAY);
	else if (a >= 60 && a % 60 == 0)
		snprintf(buf, n, "T%c%dh", sign, a / 60);
	else
		snprintf(buf, n, "T%c%dm", sign, a);
}

int sched_parse_every(const char *text)
{
	if (!text)
		return -1;
	while (isspace((unsigned char)*text))
		text++;
	char *end;
	double n = strtod(text, &end);
	if (end == text)
		n = 1;   /* "hour", "day" */
	while (isspace((unsigned char)*end))
		end++;
	if (n <= 0)
		return -1;
	static const struct { const char *unit; int secs; } units[] = {
		{"second", 1}, {"sec", 1}, {"s", 1},
		{"minute", SECONDS_PER_MINUTE}, {"min", SECONDS_PER_MINUTE}, {"m", SECONDS_PER_MINUTE},
		{"hour", SECONDS_PER_HOUR}, {"hr", SECONDS_PER_HOUR}, {"h", SECONDS_PER_HOUR},
		{"day", SECONDS_PER_DAY}, {"d", SECONDS_PER_DAY},
	};
	size_t wl = 0;
	while (isalpha((unsigned char)end[wl]))
		wl++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t ul = strlen(units[i].unit);
		/* the unit, or its plural */
		if ((wl == ul || (wl == ul + 1 && tolower((unsigned char)end[ul]) == 's')) &&
		    strncasecmp(end, units[i].unit, ul) == 0)
			return (int)(n * units[i].secs);
	}
	return -1;
}

size_t sched_duties(const runbook *rb, ledger *lg, double now, sched_duty **out)
{
	*out = NULL;
	size_t n = 0;
	for (size_t p = 0; p < rb->n_phases; p++) {
		const lg_phase *lp = &lg->phases[p];
		for (size_t i = 0; i < rb->phases[p].n_items; i++) {
			const rb_item *it = &rb->phases[p].items[i];
			if (!it->recurring)
				continue;
			*out = xrealloc(*out, (n + 1) * sizeof **out);
			sched_duty *d = &(*out)[n++];
			memset(d, 0, sizeof *d);
			d->phase = p;
			d->item = i;
			d->every_s = sched_parse_every(it->recurring);
			const lg_item *li = ledger_item(lg, p, i);
			d->last_done = li->duty_done_at;
			d->last_by = li->duty_done_by;
			d->count = li->duty_count;
			d->active = lp->status == LG_PHASE_IN_PROGRESS && lp->started_at > 0;
			if (d->active && d->every_s > 0) {
				double from = d->last_done > lp->started_at ? d->last_done : lp->started_at;
				d->next_due = from + d->every_s;
				d->overdue = now > d->next_due;
			}
		}
	}
	return n;
}

void sched_fmt_span(double seconds, char *buf, size_t n)
{
	long m = seconds > 0 ? (long)(seconds / 60) : 0;
	if (m <= 90)
		snprintf(buf, n, "%ldm", m);
	else if (m <= 48 * 60)
		snprintf(buf, n, "%ldh%02ldm", m / 60, m % 60);
	else
		snprintf(buf, n, "%ldd%02ldh", m / (24 * 60), (m / 60) % 24);
}
