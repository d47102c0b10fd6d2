/*
 * svc.h -- the console's backend, as services on the one poll() loop
 * (loop.h): live row counts with their refresh schedule, webhook
 * notifications for the events of the state, and schema/sequence parity.
 * Each service is created before the loop, started on it (svc_*_start) and
 * stopped before the loop ends; none prints or draws: the console reads
 * their structured state and renders it.  The headless commands use the
 * same cores underneath (cmp_session, notify_scan, sch_*).
 *
 * "Am I still the driver" is not polled here: the lease is the state's
 * write guard (lease.h), so a service that writes after a takeover is
 * refused, and the counts service then stops recording.  The notify
 * service asks the lease only when there are new events to announce.
 */
#ifndef PGCUTOVER_SVC_H
#define PGCUTOVER_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include "pgcutover/compare.h"
#include "pgcutover/config.h"
#include "pgcutover/lease.h"
#include "pgcutover/loop.h"
#include "pgcutover/runbook.h"
#include "pgcutover/schema.h"
#include "pgcutover/state.h"
#include "pgcutover/verify.h"

/* ---- counts: a comparison session refreshed on an interval ---- */

/* The intervals > and < step through, in seconds; 0 = off. */
#define SVC_COUNTS_INTERVALS {5, 15, 30, 60, 300, 0}
#define SVC_COUNTS_DEFAULT_INTERVAL 1   /* index: 15 s */
/* The load budgets + and - step through: the share of wall time (%) exact
 * re-counts may keep each server busy; the config's counts_budget_pct is
 * the start. */
#define SVC_COUNTS_BUDGETS {0, 5, 10, 20, 50, 100}
/* Unspent budget is saved up for at most this long. */
#define SVC_COUNTS_BUDGET_WINDOW_MS 60000.0
/* Before a side has counted anything: 1M rows/s, and a round trip each. */
#define SVC_COUNTS_ASSUMED_ROWS_PER_MS 1000.0
#define SVC_COUNTS_COUNT_OVERHEAD_MS 1.0

typedef enum svc_counts_op {
	SVC_COUNTS_REFRESH,   /* estimates, then exact where cheap */
	SVC_COUNTS_EXACT,     /* count(*) of every table */
	SVC_COUNTS_FASTER,
	SVC_COUNTS_SLOWER,
	SVC_COUNTS_BUDGET_UP,     /* exact re-counts may take more of each server */
	SVC_COUNTS_BUDGET_DOWN,
} svc_counts_op;

typedef struct svc_counts svc_counts;

/* st: the history the sparklines start from (may be NULL) and, with
 * record, where completed snapshots are recorded (EV_COUNTS, by the
 * session, as `pgcutover counts` does); a monitor counting with its own
 * credentials records nothing.  l: the driver's lease, to tell a write
 * refused after a takeover (recording stops, silently) from a failure. */
svc_counts *svc_counts_new(const config *cfg, state *st, bool record, lease *l);
/* The same with the sides' drivers given (cmp_session_new_with), for tests. */
svc_counts *svc_counts_new_with(const config *cfg, state *st, bool record, lease *l,
                                const cmp_side_init_fn init[CMP_N_SIDES]);
void svc_counts_free(svc_counts *sc);
/* Connects and asks the first refresh; a failure is kept (svc_counts_error). */
void svc_counts_start(svc_counts *sc, loop *lp);
void svc_counts_stop(svc_counts *sc);   /* cancels what is in flight */
/* Does op; msg: a line for the operator.  -1 when no session runs. */
int svc_counts_do(svc_counts *sc, svc_counts_op op, char *msg, size_t n);
/* NULL when it could not start (svc_counts_error says why). */
const cmp_session *svc_counts_session(const svc_counts *sc);
/* The current interval in seconds, 0 = off. */
int svc_counts_interval(const svc_counts *sc);
/* The load budget: % of wall time exact re-counts may take per side. */
int svc_counts_budget(const svc_counts *sc);
/* Which tables a periodic refresh counts exactly (the rest are estimates,
 * or exact counts kept while their write counters have not moved):
 * smallest first, then the most recently written, while the predicted time
 * of their counts fits what each side has left of its budget
 * (avail_ms[side]).  out: n_tables flags; returns how many. */
size_t svc_counts_pick(const cmp_session *cs, const double avail_ms[CMP_N_SIDES], bool *out);
/* What went wrong last ("" none): not started, or a snapshot not recorded. */
const char *svc_counts_error(const svc_counts *sc);

/* ---- notify: the webhook hears about the driver's events ---- */

typedef struct svc_notify svc_notify;
#define SVC_NOTIFY_SCAN_MS 1000

/* NULL when no webhook is configured.  Events before the start are not
 * announced (they were when they happened). */
svc_notify *svc_notify_new(const config *cfg, const runbook *rb, state *st, lease *l);
void svc_notify_start(svc_notify *sn, loop *lp);
/* Announces what is left (a session's last events), waits at most
 * NOTIFY_FLUSH_MS for delivery, and frees.  NULL is fine. */
void svc_notify_finish(svc_notify *sn);
/* The last delivery failure ("" none) and a number that changes with it. */
const char *svc_notify_notice(const svc_notify *sn, unsigned *gen);

/* ---- parity: schema and sequence parity on async connections ---- */

typedef enum svc_parity_phase {
	SVC_PARITY_IDLE,      /* never started */
	SVC_PARITY_RUNNING,
	SVC_PARITY_DONE,      /* the result is complete */
	SVC_PARITY_FAILED,    /* error says why; what was read so far stays */
} svc_parity_phase;

/* What the check found: the overlay renders it. */
typedef struct svc_parity_result {
	svc_parity_phase phase;
	bool have_source;            /* the source's catalog was compared */
	sch_snapshot src, dst;       /* object counts: n[kind] */
	bool catalogs_read;          /* src/dst complete and diffs computed */
	sch_diff *diffs;
	size_t n_diffs;
	sch_seq_check *seqs;
	size_t n_seqs;
	bool seqs_read;              /* every sequence checked */
	size_t seqs_bad;             /* behind, or not checkable */
	char error[PGC_ERR_MAX];     /* FAILED: the server and what it said */
	unsigned gen;                /* changes with every step */
} svc_parity_result;

typedef struct svc_parity svc_parity;
#define SVC_PARITY_TIMEOUT_MS 120000   /* a check that takes longer is abandoned */

svc_parity *svc_parity_new(const config *cfg);
/* Abandons a check in flight (before the loop goes); NULL is fine. */
void svc_parity_stop(svc_parity *sp);
void svc_parity_free(svc_parity *sp);  /* svc_parity_stop, then frees */
/* Starts (or restarts) a check on lp and says so in msg.  A server that
 * refuses at once is a FAILED result like any later failure; -1 is kept
 * for what the caller should show instead of the result (none yet). */
int svc_parity_start(svc_parity *sp, loop *lp, char *msg, size_t n);
const svc_parity_result *svc_parity_get(const svc_parity *sp);

/* ---- verify: row-level verification on the console's loop ---- */

typedef struct svc_verify svc_verify;

/* st: where a finished run is recorded (EV_VERIFY) and whose last run's
 * differing ranges are re-checked first; NULL records nothing. */
svc_verify *svc_verify_new(const config *cfg, state *st);
/* Starts a run (a finished one is replaced; one running is left alone)
 * and says so in msg.  -1 with msg when it cannot start. */
int svc_verify_start(svc_verify *sv, loop *lp, char *msg, size_t n);
/* Cancels a run in flight without waiting for the servers; false when
 * none runs. */
bool svc_verify_cancel(svc_verify *sv);
/* The run (NULL: none yet) and a number that changes with every step. */
const vfy_session *svc_verify_session(const svc_verify *sv, unsigned *gen);
void svc_verify_stop(svc_verify *sv);   /* before the loop goes */
void svc_verify_free(svc_verify *sv);

#endif
