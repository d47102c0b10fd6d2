/*
 * pace.h -- how many exact counts one side runs at once, and whether a
 * count may use parallel workers (issue 20).  Pure decisions, no I/O: the
 * PostgreSQL driver (compare_pg.c) feeds it what each finished count
 * measured and asks it before starting the next one.
 *
 * Concurrency starts at 1 and is raised one at a time while the side's
 * throughput (rows per second of all counts together) grows by at least
 * PACE_GAIN; when a level does not pay, it backs off to the one before and
 * stays there (later measurements may still back it off further).  Counts
 * too small to measure a server's throughput (latency bound) are ignored.
 * The ceiling is the config's pool_size.
 *
 * Parallel workers (PostgreSQL's own max_parallel_workers_per_gather, left
 * at the session default) only for a big table counted alone on its side,
 * nothing queued behind it: there they shorten the wall time; with other
 * counts in flight they compete with them for the same cores (a parallel
 * 1M-row count took 2.5x a serial one beside other counts on 2 cores).
 * Every other count runs with max_parallel_workers_per_gather = 0.
 */
#ifndef PGCUTOVER_PACE_H
#define PGCUTOVER_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define PACE_MAX_LEVEL 64          /* = CFG_MAX_POOL */
#define PACE_GAIN 1.15             /* a level must add 15 % rows/s to stay */
#define PACE_MIN_ROWS 100000       /* smaller counts say nothing about rows/s */
#define PACE_MIN_MS 20.0
#define PACE_PARALLEL_MIN_PAGES 1024   /* 8 MB: min_parallel_table_scan_size's default */
#define PACE_PARALLEL_MIN_ROWS 200000  /* when the page count is unknown */

typedef struct cmp_pace {
	int ceiling;                       /* pool_size */
	int limit;                         /* counts allowed at once now */
	bool settled;                      /* stopped raising */
	double rate_at[PACE_MAX_LEVEL + 1];/* side rows/s measured at a level, 0 = not yet */
	int max_seen;                      /* most counts seen at once (reporting) */
	unsigned n_parallel;               /* counts started with parallel workers allowed */
} cmp_pace;

void pace_init(cmp_pace *p, int ceiling);
/* A count finished: rows in ms, while on average `level` counts ran at once
 * on the side.  Returns the (maybe changed) limit. */
int pace_observe(cmp_pace *p, int64_t rows, double ms, double level);
/* May the count of a table of `pages` pages (0 unknown) and `est_rows`
 * estimated rows (< 0 unknown) use parallel workers, when `in_flight`
 * other counts run on the side and `queued` more wait? */
bool pace_parallel(const cmp_pace *p, int64_t pages, int64_t est_rows, int in_flight, int queued);

#endif
