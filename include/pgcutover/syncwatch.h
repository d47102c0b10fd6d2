/*
 * syncwatch.h -- is the target caught up with the source (`pgcutover
 * sync`, the go board's sync input)?
 *
 * Logical replication (the target has subscriptions): per subscription,
 * the lag in bytes between the source's pg_current_wal_lsn() -- not what
 * was sent: WAL not yet sent is lag too -- and the LSN the target
 * confirmed (the source slot's confirmed_flush_lsn), the lag in seconds
 * (0 when no bytes are behind, else the time since the target last
 * reported a position: pg_stat_subscription.latest_end_time), the slot's
 * state (active, wal_status) and the WAL it retains (current -
 * restart_lsn), and the tables by pg_subscription_rel state (copying,
 * synced, ready).  "Caught up" only when every subscription confirmed an
 * LSN taken on the source after the freeze was proven (the first `sync`
 * after the freeze takes it and records it) and every table is ready.
 *
 * Script sync (no subscription): caught up when the last exact counts,
 * taken after the freeze, are equal.
 *
 * Blocking libpq on sch_connect() connections; nothing prints or records
 * (the payload writer is evp_sync_write).
 */
#ifndef PGCUTOVER_SYNCWATCH_H
#define PGCUTOVER_SYNCWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "pgcutover/util.h"

#define SYNC_WORDS_MAX 512

typedef struct sync_sub {
	char *name;
	bool enabled;
	char *slot;                 /* the source slot, or NULL */
	bool slot_found, slot_active;
	char *wal_status;           /* reserved, extended, unreserved, lost; NULL */
	int64_t retained_bytes;     /* current - restart_lsn */
	char *confirmed_lsn;        /* confirmed_flush_lsn, NULL unknown */
	int64_t lag_bytes;          /* current - confirmed; -1 unknown */
	double lag_s;               /* see above; -1 unknown */
	int n_copying, n_synced, n_ready, n_other;   /* tables by pg_subscription_rel state */
	bool past_freeze;           /* confirmed >= the post-freeze LSN */
} sync_sub;

typedef struct sync_report {
	bool logical;               /* the target has subscriptions */
	char *source_lsn;           /* pg_current_wal_lsn() now */
	char *post_freeze_lsn;      /* the LSN the target must confirm (NULL: no freeze) */
	sync_sub *subs; size_t n_subs;
	bool caught_up;
	char words[SYNC_WORDS_MAX]; /* the verdict for a person */
} sync_report;

/* Reads both sides.  post_freeze_lsn: the LSN taken after the freeze (NULL
 * when none was taken yet: with freeze_proven, the current source LSN is
 * taken now and becomes it; without, nothing is caught up).  -1 with e
 * when a query fails. */
int sync_check(PGconn *src, PGconn *dst, bool freeze_proven, const char *post_freeze_lsn, sync_report *out,
               pgc_err *e);
void sync_report_free(sync_report *r);
/* Script sync: the verdict from the last counts (equal, and taken after
 * the freeze at freeze_at; 0 = no freeze). */
void sync_script_verdict(sync_report *r, bool counts_equal, double counts_at, double freeze_at);
/* Stalled: lag > 0 and no subscription's confirmed LSN moved since prev
 * (the same subscriptions, an earlier check). */
bool sync_stalled(const sync_report *prev, const sync_report *now);

#endif
