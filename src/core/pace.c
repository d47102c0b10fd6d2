/*
 * pace.c -- the concurrency and parallel-plan choices of one side's exact
 * counts (pace.h): raise the number of counts at once while the side's
 * rows/s grows, back off when a level does not pay, parallel workers only
 * for a big table counted alone.  Called by compare_pg.c; no I/O, so the
 * rules are unit-tested on their own (tests/unit/test_compare.c).
 */
#include "config.h"
#include <string.h>
#include "pgcutover/pace.h"

void pace_init(cmp_pace *p, int ceiling)
{
	memset(p, 0, sizeof *p);
	if (ceiling < 1)
		ceiling = 1;
	if (ceiling > PACE_MAX_LEVEL)
		ceiling = PACE_MAX_LEVEL;
	p->ceiling = ceiling;
	p->limit = 1;
	p->settled = ceiling == 1;
}

int pace_observe(cmp_pace *p, int64_t rows, double ms, double level)
{
	if (rows < PACE_MIN_ROWS || ms < PACE_MIN_MS)
		return p->limit;
	int lv = (int)(level + 0.5);
	if (lv < 1)
		lv = 1;
	if (lv > p->ceiling)
		lv = p->ceiling;
	double side_rate = lv * (double)rows * 1000.0 / ms;
	p->rate_at[lv] = p->rate_at[lv] > 0 ? (p->rate_at[lv] + side_rate) / 2 : side_rate;
	if (lv != p->limit)
		return p->limit;   /* ran below the limit (start, tail): noted only */
	double below = p->limit > 1 ? p->rate_at[p->limit - 1] : 0;
	if (!p->settled) {
		if (below <= 0 || p->rate_at[p->limit] >= below * PACE_GAIN) {
			if (p->limit < p->ceiling)
				p->limit++;
			else
				p->settled = true;
		} else {
			p->limit--;
			p->settled = true;
		}
	} else if (below > 0 && p->rate_at[p->limit] < below) {
		p->limit--;
	}
	return p->limit;
}

bool pace_parallel(const cmp_pace *p, int64_t pages, int64_t est_rows, int in_flight, int queued)
{
	(void)p;
	if (in_flight > 0 || queued > 0)
		return false;
	if (pages > 0)
		return pages >= PACE_PARALLEL_MIN_PAGES;
	return est_rows >= PACE_PARALLEL_MIN_ROWS;
}
