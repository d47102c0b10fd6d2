/*
 * proc.h -- child processes: starting them, and learning that they ended.
 *
 * Every child pgcutover starts goes through here (runbook commands in
 * action.c, initdb and pg_ctl in cluster.c, the query cancellers in
 * compare_pg.c), so start-up is written once: signal dispositions and mask
 * reset in the child, an optional new process group, standard streams from
 * /dev/null, a file, a pipe or ours, close-on-exec pipes, an optional switch
 * to an unprivileged user.  Modelled on tmux's job.c.
 *
 * Ends come through the loop (loop.h): proc_watch() registers a pid with the
 * loop's child registry, and SIGCHLD (delivered by loop_signal through the
 * self-pipe) makes the registry collect the registered pids, and only them,
 * with waitpid(pid, WNOHANG), so a blocking waitpid() elsewhere (proc_wait,
 * the demo's re-executed self) never has its child stolen.  No timers poll.
 *
 *     proc_child ch;
 *     proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = argv, .out = PROC_IO_PIPE,
 *                             .err = PROC_IO_PIPE, .new_pgroup = true}, &ch, &e);
 *     loop_watch(lp, ch.out_fd, POLLIN, on_out, ud);   (the caller owns the fds)
 *     proc_watch(lp, ch.pid, on_exit, ud);
 *
 * The SIGCHLD handler is installed with SA_RESTART, so read(), write() and
 * waitpid() elsewhere restart; poll() and sleeps return early with EINTR,
 * which their callers already retry.
 */
#ifndef PGCUTOVER_PROC_H
#define PGCUTOVER_PROC_H

#include <stdbool.h>
#include <sys/types.h>
#include "pgcutover/util.h"
#include "pgcutover/loop.h"

/* Exit statuses of a child that failed before exec (as the shell's). */
#define PROC_EXIT_SETUP 126   /* could not switch user or open its output file */
#define PROC_EXIT_EXEC 127    /* could not change directory or execute */

/* Where a child's standard stream comes from or goes to. */
typedef enum proc_io {
	PROC_IO_NULL,      /* /dev/null (the default) */
	PROC_IO_INHERIT,   /* ours */
	PROC_IO_PIPE,      /* a pipe to us: our end non-blocking, close-on-exec */
	PROC_IO_FILE,      /* out/err: spec.file appended to (created 0600), opened
	                    * in the child as its user; out and err share one open */
} proc_io;

/* An unprivileged user for the child (we are root). */
typedef struct proc_user {
	const char *name;  /* for initgroups() */
	uid_t uid;
	gid_t gid;
} proc_user;

typedef struct proc_spec {
	const char *path;          /* executed as is (no PATH search) */
	char *const *argv;         /* argv[0] may differ from path */
	char *const *envp;         /* NULL: our environment */
	const char *cwd;           /* NULL: ours */
	const char *cwd_fallback;  /* tried when cwd fails; NULL: the child fails */
	bool new_pgroup;           /* its own process group (pgid = pid) */
	proc_io in, out, err;      /* in: NULL, INHERIT or PIPE */
	const char *file;          /* for PROC_IO_FILE */
	const proc_user *user;     /* NULL: ours */
} proc_spec;

typedef struct proc_child {
	pid_t pid;
	int in_fd, out_fd, err_fd;  /* our ends of PROC_IO_PIPE streams, else -1 */
} proc_child;

/* Starts a child.  Returns 0, or -1 with e naming the program when it could
 * not be forked (a failed exec shows as exit PROC_EXIT_EXEC, with a line on
 * the child's stderr). */
int proc_spawn(const proc_spec *sp, proc_child *out, pgc_err *e);

/* fork() for a child that does not exec (it must only _exit): stdio
 * flushed first, signal dispositions and mask reset in the child.  Returns
 * as fork() does; -1 with e set. */
pid_t proc_fork(pgc_err *e);
/* In a fresh child: becomes u (groups, gid, uid; no way back).  Only
 * async-signal-safe calls.  Returns false on failure. */
bool proc_become_user(const proc_user *u);

/* Blocking: waits for pid (EINTR-safe).  Returns 0 with *status, or -1. */
int proc_wait(pid_t pid, int *status);
/* Blocking: proc_spawn() then proc_wait().  Returns 0 with *status, or -1
 * with e set. */
int proc_run(const proc_spec *sp, int *status, pgc_err *e);

/* Called from the loop when a watched child has ended: status as from
 * waitpid(), or -1 when it could not be collected (errno set; another
 * waiter took it).  The watch is gone by then. */
typedef void (*proc_exit_fn)(loop *lp, pid_t pid, int status, void *ud);

/* Registers pid (a child of ours) with lp's child registry; fn runs once,
 * from the loop, after it ends.  A child that has already ended is
 * noticed here (a zero timer delivers it).  Installs the loop's SIGCHLD
 * handler the first time.  Returns 0, or -1 with e set. */
int proc_watch(loop *lp, pid_t pid, proc_exit_fn fn, void *ud, pgc_err *e);
/* Forgets pid: fn will not run.  Returns 1 when the registry had already
 * collected the child (it ended; *status, when given, is its wait status,
 * and proc_wait must not be called: the pid may be another process's by
 * now); 0 when it had not: the child is not killed or collected (proc_wait
 * it, or let it go). */
int proc_unwatch(loop *lp, pid_t pid, int *status);
/* How many children lp watches. */
size_t proc_watched(loop *lp);

#endif
