/*
 * lease.c -- one driver at a time (see lease.h).  The lease is a single row
 * in a `lease` table kept in the state file (read and written through
 * state_lease_*), next to the events but not one
 * of them (heartbeats would flood the audit log); acquiring, taking over
 * and releasing are events when they matter.  The advisory lock lives on a
 * separate "<state>.lock" file: SQLite uses POSIX locks on the database file
 * itself, and closing any descriptor of that file would drop ours.  Open
 * file description locks (F_OFD_SETLK) are used where the kernel has them,
 * so two handles in one process conflict like two processes do.
 * Callers: cli_load() (every read-write command), the console, `lease`.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/lease.h"
#include "pgcutover/evpay.h"

#define LEASE_LOCK_MODE 0600
#define LEASE_TIME_MAX 40
#define LEASE_PROC_PATH_MAX 64
#define LEASE_PROC_STAT_MAX 1024
#define LEASE_STAT_STARTTIME_FIELD 22   /* proc(5) */

#ifdef F_OFD_SETLK
#define LEASE_SETLK F_OFD_SETLK
#else
#define LEASE_SETLK F_SETLK
#endif

struct lease {
	state *st;
	int lock_fd;          /* -1 when the lock could not be had (takeover of a hung holder) */
	bool owns_row;        /* false for a nested acquire */
	bool audit;
	double last_beat;
	bool lost;            /* a write was refused: another driver holds the lease */
	lease_info info;
};

char *lease_lock_path(const char *state_path)
{
	return xasprintf("%s.lock", state_path);
}

void lease_info_free(lease_info *li)
{
	if (!li)
		return;
	free(li->operator_name);
	free(li->host);
	free(li->command);
	memset(li, 0, sizeof *li);
}

int lease_read(state *st, lease_info *out, pgc_err *e)
{
	return state_lease_read(st, out, e);
}

static bool pid_gone(int pid)
{
	return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

long long lease_process_started(int pid)
{
	char path[LEASE_PROC_PATH_MAX], buf[LEASE_PROC_STAT_MAX];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: count
	 * fields from the last ')'.  starttime is field 22. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field < LEASE_STAT_STARTTIME_FIELD; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return 0;
	}
	char *end = NULL;
	long long v = strtoll(p + 1, &end, 10);
	return end && end != p + 1 && v > 0 ? v : 0;
}

/* A one-shot (headless) holder on this host is gone for sure, so its lease
 * can be taken without asking: it holds the lock for as long as it runs,
 * the lock is free, and its pid is gone or now names another process (a
 * different start time).  Without a recorded start time a live pid may be
 * the holder (one that took over without the lock): ask, as before. */
static bool one_shot_gone(const lease_info *li, const char *my_host, bool got_lock)
{
	if (!got_lock || li->heartbeats || strcmp(li->host, my_host) != 0)
		return false;
	if (pid_gone(li->pid))
		return true;
	long long now_started = lease_process_started(li->pid);
	return li->started > 0 && now_started > 0 && now_started != li->started;
}

lease_liveness lease_judge(const lease_info *li, double now, const char *my_host)
{
	if (!li->host)
		return LEASE_FREE;   /* lease_read found no row */
	if (my_host && strcmp(li->host, my_host) == 0 && pid_gone(li->pid))
		return LEASE_DEAD;
	if (now - li->heartbeat_at > LEASE_STALE_SECONDS && li->heartbeats)
		return LEASE_SILENT;
	return LEASE_LIVE;
}

/* What lease_acquire makes of a row, knowing whether the lock was free.
 * A held lock proves a live holder on this host whatever its heartbeat
 * says, unless it promised heartbeats and stopped (hung).  A free lock on
 * the same host means the holder is gone (or took over without the lock
 * and is judged by its pid and heartbeat); another host is judged by its
 * heartbeat alone. */
static lease_liveness judge_with_lock(const lease_info *li, double now, const char *my_host,
                                      bool got_lock)
{
	bool stale = now - li->heartbeat_at > LEASE_STALE_SECONDS;
	if (!got_lock)
		return stale && li->heartbeats ? LEASE_SILENT : LEASE_LIVE;
	if (strcmp(li->host, my_host) == 0 && pid_gone(li->pid))
		return LEASE_DEAD;
	if (strcmp(li->host, my_host) == 0 && !li->heartbeats)
		return LEASE_DEAD;   /* a headless holder always holds the lock */
	return stale ? LEASE_SILENT : LEASE_LIVE;
}

const char *lease_liveness_name(lease_liveness l)
{
	switch (l) {
	case LEASE_FREE: return "free";
	case LEASE_MINE: return "mine";
	case LEASE_LIVE: return "live";
	case LEASE_SILENT: return "silent";
	case LEASE_DEAD: return "dead";
	}
	return "?";
}

char *lease_describe(const lease_info *li, double now)
{
	char since[LEASE_TIME_MAX];
	pgc_iso8601(li->acquired_at, since, sizeof since);
	char *op = pgc_sanitize(li->operator_name), *host = pgc_sanitize(li->host),
	     *cmd = pgc_sanitize(li->command);
	char *s = xasprintf("%s@%s (pid %d, %s) since %s, heartbeat %.0f s ago", op, host, li->pid,
	                    cmd, since, now - li->heartbeat_at < 0 ? 0 : now - li->heartbeat_at);
	free(op);
	free(host);
	free(cmd);
	return s;
}

const lease_info *lease_holder(const lease *l)
{
	return &l->info;
}

/* Opens and tries to lock the lock file: 1 locked, 0 held by another, -1 error. */
static int lock_try(const char *state_file, int *fd_out, pgc_err *e)
{
	*fd_out = -1;
	char *path = lease_lock_path(state_file);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, LEASE_LOCK_MODE);
	if (fd < 0) {
		pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot open the lock file: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, LEASE_SETLK, &fl) == 0) {
		*fd_out = fd;
		return 1;
	}
	int err = errno;
	close(fd);
	if (err == EAGAIN || err == EACCES)
		return 0;
	return pgc_fail(e, PGC_EXIT_IOERR, "%s.lock: cannot lock: %s", state_file, strerror(err));
}

static bool same_holder(const lease_info *a, const lease_info *b)
{
	return a->pid == b->pid && strcmp(a->host, b->host) == 0 && a->acquired_at == b->acquired_at;
}

int lease_check(lease *l, pgc_err *e)
{
	lease_info cur;
	int have = lease_read(l->st, &cur, e);
	if (have < 0)
		return -1;
	if (have == 1 && same_holder(&cur, &l->info)) {
		lease_info_free(&cur);
		return 1;
	}
	char *who = have == 1 ? lease_describe(&cur, pgc_now()) : NULL;
	lease_info_free(&cur);
	pgc_fail(e, PGC_EXIT_TEMPFAIL, "%s: the lease was %s%s%s; stop driving and watch with "
	         "`pgcutover monitor`", state_path(l->st), who ? "taken over" : "given up",
	         who ? " by " : "", who ? who : "");
	free(who);
	return 0;
}

/* The state's write guard (state_set_guard): runs inside the write
 * transaction, so the answer holds until the commit. */
static int lease_guard(state *st, void *ud, pgc_err *e)
{
	(void)st;
	lease *l = ud;
	int mine = lease_check(l, e);
	if (mine == 0)
		l->lost = true;
	return mine == 1 ? 0 : -1;
}

bool lease_lost(const lease *l)
{
	return l && l->lost;
}

int lease_acquire(state *st, const char *operator_name, const char *host, int pid,
                  const char *command, int flags, lease **out, pgc_err *e)
{
	*out = NULL;
	int fd = -1;
	int got = lock_try(state_path(st), &fd, e);
	if (got < 0)
		return -1;
	/* One write transaction: two would-be drivers racing see each other. */
	if (state_begin(st, e) < 0)
		goto fail_fd;
	if (state_lease_table(st, e) < 0)
		goto fail_txn;
	lease_info cur;
	int have = lease_read(st, &cur, e);
	if (have < 0)
		goto fail_txn;
	double now = pgc_now();
	lease *l = xcalloc(1, sizeof *l);
	l->st = st;
	l->lock_fd = fd;
	l->audit = (flags & LEASE_AUDIT) != 0;
	l->last_beat = now;
	l->owns_row = true;
	l->info.operator_name = xstrdup(operator_name);
	l->info.host = xstrdup(host);
	l->info.command = xstrdup(command ? command : "pgcutover");
	l->info.pid = pid;
	l->info.started = lease_process_started(pid);
	l->info.acquired_at = now;
	l->info.heartbeat_at = now;
	l->info.heartbeats = (flags & LEASE_HEARTBEATS) != 0;

	char *payload = NULL;
	const char *kind = NULL;
	/* Same pid and host but another start time: a dead holder's pid reused. */
	if (have && cur.pid == pid && strcmp(cur.host, host) == 0 &&
	    !(cur.started > 0 && l->info.started > 0 && cur.started != l->info.started)) {
		/* Already ours: this is a nested load in the same process. */
		l->owns_row = false;
		lease_info_free(&l->info);
		l->info = cur;
		state_rollback(st);
		*out = l;
		return 0;
	}
	bool automatic = false;
	if (have) {
		lease_liveness lv = judge_with_lock(&cur, now, host, got == 1);
		automatic = lv == LEASE_DEAD && one_shot_gone(&cur, host, got == 1);
		char *who = lease_describe(&cur, now);
		if (lv == LEASE_LIVE) {
			pgc_fail(e, PGC_EXIT_TEMPFAIL, "%s is driven by %s; only one driver at a time: "
			         "watch with `pgcutover monitor`", state_path(st), who);
		} else if (!(flags & LEASE_TAKE_OVER) && !automatic) {
			char why[LEASE_TIME_MAX * 2];
			if (lv == LEASE_DEAD)
				snprintf(why, sizeof why, "is not running any more");
			else
				snprintf(why, sizeof why, "has been silent for more than %d s", LEASE_STALE_SECONDS);
			pgc_fail(e, PGC_EXIT_TEMPFAIL, "%s was driven by %s, which %s; if you are sure "
			         "nobody else is driving, take over with --take-over (recorded in the log)",
			         state_path(st), who, why);
		}
		free(who);
		if (lv == LEASE_LIVE || !((flags & LEASE_TAKE_OVER) || automatic)) {
			lease_info_free(&cur);
			lease_info_free(&l->info);
			free(l);
			goto fail_txn;
		}
		kind = EV_LEASE_TAKEOVER;
		payload = evp_lease_takeover_write(&cur, automatic ? "one-shot holder not running" :
		                                   lv == LEASE_DEAD ? "holder not running" : "holder silent",
		                                   automatic);
		lease_info_free(&cur);
	} else if (l->audit) {
		kind = EV_LEASE_ACQUIRED;
		payload = evp_lease_write(l->info.command, -1);
	}
	int rc = state_lease_write(st, &l->info, e);
	if (rc == 0 && kind)
		rc = state_append(st, kind, NULL, NULL, payload, NULL, e);
	free(payload);
	if (rc < 0 || state_commit(st, e) < 0) {
		state_rollback(st);
		if (l->lock_fd >= 0)
			close(l->lock_fd);
		lease_info_free(&l->info);
		free(l);
		return -1;
	}
	/* From now on every write of this process checks it still drives. */
	state_set_guard(st, lease_guard, l);
	*out = l;
	return 0;
fail_txn:
	state_rollback(st);
fail_fd:
	if (fd >= 0)
		close(fd);
	return -1;
}

int lease_heartbeat(lease *l, double now, pgc_err *e)
{
	if (!l || !l->owns_row || now - l->last_beat < LEASE_HEARTBEAT_SECONDS)
		return 0;
	/* A holder that took over without the lock picks it up once the hung
	 * process has gone. */
	if (l->lock_fd < 0 && lock_try(state_path(l->st), &l->lock_fd, NULL) <= 0)
		l->lock_fd = -1;
	int beat = state_lease_beat(l->st, &l->info, now, e);
	if (beat < 0)
		return -1;
	if (beat == 0) {
		lease_info cur;
		char *who = NULL;
		if (lease_read(l->st, &cur, NULL) == 1)
			who = lease_describe(&cur, now);
		lease_info_free(&cur);
		l->owns_row = false;
		pgc_fail(e, PGC_EXIT_TEMPFAIL, "%s: the lease was taken over%s%s; stop driving and "
		         "watch with `pgcutover monitor`", state_path(l->st), who ? " by " : "", who ? who : "");
		free(who);
		return -1;
	}
	l->last_beat = now;
	l->info.heartbeat_at = now;
	return 0;
}

void lease_release(lease *l)
{
	if (!l)
		return;
	/* the release itself may write (lease_released) only when it is ours,
	 * which it checks below */
	if (state_guard_ud(l->st) == l)
		state_set_guard(l->st, NULL, NULL);
	if (l->owns_row && state_begin(l->st, NULL) == 0) {
		lease_info cur;
		int have = lease_read(l->st, &cur, NULL);
		bool mine = have == 1 && same_holder(&cur, &l->info);
		lease_info_free(&cur);
		int rc = 0;
		if (mine) {
			rc = state_lease_delete(l->st, NULL);
			if (rc == 0 && l->audit) {
				char *payload = evp_lease_write(l->info.command, pgc_now() - l->info.acquired_at);
				rc = state_append(l->st, EV_LEASE_RELEASED, NULL, NULL, payload, NULL, NULL);
				free(payload);
			}
		}
		if (rc < 0 || state_commit(l->st, NULL) < 0)
			state_rollback(l->st);
	}
	/* Unlock only after the row is gone, so nobody sees a free lock with
	 * our row still in place. */
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	lease_info_free(&l->info);
	free(l);
}
