/*
 * lease.h -- one driver at a time.  The process that drives a migration (the
 * console, or a headless writer such as `tick` for as long as it runs) holds
 * a lease: a row in the state file's `lease` table (operator, host, pid,
 * command, acquired_at, heartbeat_at) plus an advisory lock on
 * "<state>.lock" next to the state file.  The lock proves the holder is alive
 * on this host (the kernel drops it when the process dies); the heartbeat
 * says so to monitors and to other hosts.  A lease whose holder is dead, or
 * whose heartbeat is older than LEASE_STALE_SECONDS, may be taken over with
 * LEASE_TAKE_OVER (`--take-over`); the takeover is an audited event.  A
 * one-shot (headless) holder on this host that is gone -- lock free, pid
 * gone or reused (another start time) -- is taken over without asking, and
 * that is recorded the same way ("automatic": true).
 * Called by cli_load() for read-write commands, the console and `lease`.
 */
#ifndef PGCUTOVER_LEASE_H
#define PGCUTOVER_LEASE_H

#include "pgcutover/state.h"

/* A heartbeat older than this makes a driver "silent": its lease may be
 * taken over and monitors show it in red. */
#define LEASE_STALE_SECONDS 30
/* How often lease_heartbeat() really writes; calling it more often (e.g.
 * from a 1 s timer) is cheap. */
#define LEASE_HEARTBEAT_SECONDS 5

#define EV_LEASE_ACQUIRED "lease_acquired"   /* payload: command */
#define EV_LEASE_RELEASED "lease_released"   /* payload: command, held_s */
#define EV_LEASE_TAKEOVER "lease_takeover"   /* payload: reason, automatic, from{...} */

enum {
	LEASE_TAKE_OVER  = 1 << 0,  /* the operator confirmed taking over a dead/silent lease */
	LEASE_AUDIT      = 1 << 1,  /* record lease_acquired / lease_released events */
	LEASE_HEARTBEATS = 1 << 2,  /* the holder will call lease_heartbeat() (console) */
};

/* Who holds the lease, as read from the state file. */
typedef struct lease_info {
	char *operator_name;
	char *host;
	char *command;       /* "console", "tick", ... */
	int pid;
	double acquired_at;
	double heartbeat_at;
	bool heartbeats;     /* the holder promised heartbeats */
	long long started;   /* the holder's start time (see lease_process_started); 0 unknown */
} lease_info;

/* What a would-be driver makes of an existing lease. */
typedef enum lease_liveness {
	LEASE_FREE,     /* nobody holds it */
	LEASE_MINE,     /* this process holds it */
	LEASE_LIVE,     /* another live driver holds it */
	LEASE_SILENT,   /* the holder's heartbeat is older than LEASE_STALE_SECONDS */
	LEASE_DEAD,     /* the holder's process is gone (same host) */
} lease_liveness;

typedef struct lease lease;

/* Takes the lease for the process (operator, host, pid) running `command`.
 * When another live driver holds it: -1 with e->code PGC_EXIT_TEMPFAIL and
 * a message naming the holder, since when, and `pgcutover monitor`.  A
 * dead or silent holder is replaced only with LEASE_TAKE_OVER (recorded as
 * a lease_takeover event); otherwise the same exit code and a message that
 * says --take-over would do it.  Except: a gone one-shot holder on this
 * host (no heartbeats) is replaced at once, recorded as a lease_takeover
 * with "automatic": true.  A nested acquire by the process that
 * already holds the lease succeeds and its release is a no-op. */
int lease_acquire(state *st, const char *operator_name, const char *host, int pid,
                  const char *command, int flags, lease **out, pgc_err *e);

/* Refreshes heartbeat_at, at most every LEASE_HEARTBEAT_SECONDS (now is
 * pgc_now()).  -1 with PGC_EXIT_TEMPFAIL when the lease was taken over by
 * someone else: the caller must stop writing (drop to monitor mode). */
int lease_heartbeat(lease *l, double now, pgc_err *e);

/* Gives the lease up (records lease_released with LEASE_AUDIT), unlocks and
 * frees.  NULL is fine. */
void lease_release(lease *l);

/* Whether l is still the lease in the state file: 1 yes, 0 no (e says who
 * took it over, code PGC_EXIT_TEMPFAIL), -1 on a read error.  A held lease
 * is also the state's write guard (state_set_guard): once another process
 * has taken over, every write of this one fails with that message and
 * nothing is written -- no need to poll before writing. */
int lease_check(lease *l, pgc_err *e);
/* true once a write was refused because the lease is someone else's. */
bool lease_lost(const lease *l);

/* The current holder: 1 and *out filled (free with lease_info_free), 0 when
 * nobody holds it (or the file predates leases), -1 on error.  Works on a
 * read-only handle: monitors use it for "driver silent for 2 min". */
int lease_read(state *st, lease_info *out, pgc_err *e);
void lease_info_free(lease_info *li);

/* Judges a lease from its row alone (no lock probe): DEAD when the holder
 * ran on my_host and its pid is gone, SILENT when its heartbeat is stale,
 * else LIVE.  Monitors use this; lease_acquire() also probes the lock. */
lease_liveness lease_judge(const lease_info *li, double now, const char *my_host);
const char *lease_liveness_name(lease_liveness l);

/* "alice@jump1 (pid 4242, console) since 2026-11-24T02:05:07Z, heartbeat
 * 3 s ago" -- for messages and the monitor header.  New string. */
char *lease_describe(const lease_info *li, double now);

/* The info of a held lease (what this process wrote). */
const lease_info *lease_holder(const lease *l);
/* Start time of process pid (field 22 of /proc/PID/stat, clock ticks since
 * boot), which tells a pid reused by another process from the holder; 0 when
 * unknown (no such process, no /proc). */
long long lease_process_started(int pid);
/* Path of the lock file for a state file ("<state>.lock"); new string. */
char *lease_lock_path(const char *state_path);

#endif
