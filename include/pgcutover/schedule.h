/*
 * schedule.h -- the cutover window as a schedule: the downtime clock, late
 * steps and recurring duties, all derived from the runbook and the ledger
 * (no I/O, no wall clock: `now` is given), so the console, `status`,
 * `downtime`, `due` and replay agree.
 *
 * Downtime: the runbook's cutover window is the first step with a time
 * window ("5.2 Cutover Window (02:00-06:00)"); its length is the planned
 * downtime.  The clock starts at an explicit downtime_start event (the
 * console's D, `pgcutover downtime start`), else at the first tick or
 * command run (command_start) inside the window's steps; it stops at an explicit downtime_end, else (no
 * explicit start) when every item of the window is ticked.
 *
 * Late steps: a step's planned end is the downtime start plus the step's
 * offset in the window ("02:05" in a 02:00 window: 5 minutes) plus its
 * duration; a step with open items past its planned end is late.  A
 * countdown step ("T-48 Hours", "T+30 min", in any phase) is placed from
 * go-time, the downtime start, by its offset.
 *
 * Duties: items "Every 2 hours: Error logs" become timers while their phase
 * is in progress: due every interval from the phase's start or the last
 * duty_done event, overdue past it.
 */
#ifndef PGCUTOVER_SCHEDULE_H
#define PGCUTOVER_SCHEDULE_H
#include <stdbool.h>
#include "pgcutover/runbook.h"
#include "pgcutover/ledger.h"

typedef struct sched_downtime {
	bool has_window;       /* the runbook has a cutover window */
	size_t phase, step;    /* where it is */
	int plan_min;          /* its planned length in minutes; -1 unknown */
	double start, end;     /* unix seconds; 0 = not started / still running */
	bool explicit_start;   /* from a downtime_start event (else the first tick or run) */
	bool explicit_end;
	bool running;          /* started and not ended */
	double elapsed_s;      /* start to end, or to now while running; 0 before */
	bool over;             /* elapsed beyond the plan */
} sched_downtime;

/* The first step with a time window. */
bool sched_window(const runbook *rb, size_t *phase, size_t *step);
/* Minutes from "HH:MM" to "HH:MM", across midnight; -1 when not times. */
int sched_minutes_between(const char *from, const char *to);
void sched_downtime_get(const runbook *rb, ledger *lg, double now, sched_downtime *d);

/* Planned end (unix seconds) of step s of phase p on this downtime's clock,
 * or 0 when the step has no time or the downtime has not started. */
double sched_step_due(const runbook *rb, size_t p, size_t s, const sched_downtime *d);
/* "T-48h", "T+30m", "T-2d": a countdown offset in words (buf of
 * SCHED_SPAN_MAX). */
void sched_fmt_offset(int offset_min, char *buf, size_t n);

/* A schedule's span in words: "4m" up to 90 minutes, then "8h29m", then
 * past 48 hours "3d02h" (negative taken as 0).  How late, how long until:
 * the console's step and duty words and `downtime` use it. */
#define SCHED_SPAN_MAX 24
void sched_fmt_span(double seconds, char *buf, size_t n);
/* The clocks a step's words are on, named where they are shown. */
#define SCHED_CLOCK_DOWNTIME "downtime clock"
#define SCHED_CLOCK_WALL "wall clock"

/* "2 hours", "30 min", "15 minutes", "hour", "day" -> seconds; -1 unknown. */
int sched_parse_every(const char *text);

typedef struct sched_duty {
	size_t phase, item;
	int every_s;           /* -1 when the interval is not understood */
	bool active;           /* its phase is in progress */
	double last_done;      /* 0 never confirmed */
	const char *last_by;   /* ledger's, or NULL */
	int count;
	double next_due;       /* 0 when inactive */
	bool overdue;
} sched_duty;

/* Every recurring item of the runbook, in runbook order.  Returns how many
 * (*out malloc'd, NULL when none). */
size_t sched_duties(const runbook *rb, ledger *lg, double now, sched_duty **out);

#endif
