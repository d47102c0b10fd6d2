/*
 * proc.c -- starts child processes and reports their ends through the loop
 * (see proc.h).  Callers: action.c (runbook commands), cluster.c (initdb,
 * pg_ctl), compare_pg.c (query cancellers).
 *
 * Between fork and exec only async-signal-safe calls: everything the child
 * needs (argv, envp, paths) is built by the caller before proc_spawn().
 * The child registry lives in the loop's procs slot; SIGCHLD only says
 * "some child changed", so every registered pid is asked with
 * waitpid(pid, WNOHANG) and nobody else's child is touched.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgcutover/proc.h"

extern char **environ;

/* Set to their default in every child, caught or ignored by us: an ignored
 * SIGPIPE or SIGINT would otherwise survive exec into the command. */
static const int proc_reset_signals[] = {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD,
                                         SIGTSTP, SIGTTOU, SIGTTIN, SIGWINCH, SIGUSR1, SIGUSR2,
                                         SIGALRM};

/* ------------------------------------------------------------------ */
/* in the child */

static void child_say(const char *what, const char *path)
{
	/* write() only: nothing here may allocate */
	const char *parts[] = {"pgcutover: cannot ", what, " ", path, "\n"};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		if (write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
			return;
}

static void child_reset_signals(void)
{
	/* Handlers installed through loop_signal() write to the parent's
	 * self-pipe: a child that does not exec must not keep them. */
	for (int s = 1; s < NSIG; s++) {
		struct sigaction old;
		if (sigaction(s, NULL, &old) == 0 && old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
			signal(s, SIG_DFL);
	}
	for (size_t i = 0; i < sizeof proc_reset_signals / sizeof *proc_reset_signals; i++)
		signal(proc_reset_signals[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fd onto target, inheritable there. */
static bool child_dup(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0) == 0;
	return dup2(fd, target) == target;
}

bool proc_become_user(const proc_user *u)
{
	if (!u)
		return true;
	return initgroups(u->name, u->gid) == 0 && setgid(u->gid) == 0 && setuid(u->uid) == 0 &&
	       (u->uid == 0 || setuid(0) != 0);   /* and cannot come back */
}

static int child_open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* Sets up stream target from how/pipe end/shared file; false on failure. */
static bool child_stream(proc_io how, int target, int pipe_end, int file_fd, int null_flags)
{
	switch (how) {
	case PROC_IO_INHERIT:
		return true;
	case PROC_IO_PIPE:
		return child_dup(pipe_end, target);
	case PROC_IO_FILE:
		return child_dup(file_fd, target);
	case PROC_IO_NULL:
		break;
	}
	int nul = child_open_null(null_flags);
	return nul >= 0 && child_dup(nul, target);
}

static void child_exec(const proc_spec *sp, const int in[2], const int out[2], const int err[2])
{
	if (sp->new_pgroup)
		setpgid(0, 0);
	child_reset_signals();
	if (!proc_become_user(sp->user))
		_exit(PROC_EXIT_SETUP);
	int file_fd = -1;
	if ((sp->out == PROC_IO_FILE || sp->err == PROC_IO_FILE) &&
	    (!sp->file || (file_fd = open(sp->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0))
		_exit(PROC_EXIT_SETUP);
	if (!child_stream(sp->in, STDIN_FILENO, in[0], -1, O_RDONLY) ||
	    !child_stream(sp->out, STDOUT_FILENO, out[1], file_fd, O_WRONLY) ||
	    !child_stream(sp->err, STDERR_FILENO, err[1], file_fd, O_WRONLY))
		_exit(PROC_EXIT_SETUP);
	/* The pipes and the file are close-on-exec: only 0, 1 and 2 go on. */
	if (sp->cwd && chdir(sp->cwd) < 0 && (!sp->cwd_fallback || chdir(sp->cwd_fallback) < 0)) {
		child_say("change to the working directory", sp->cwd);
		_exit(PROC_EXIT_EXEC);
	}
	execve(sp->path, sp->argv, sp->envp ? sp->envp : environ);
	child_say("execute", sp->path);
	_exit(PROC_EXIT_EXEC);
}

/* ------------------------------------------------------------------ */
/* starting */

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void close_pair(int p[2])
{
	close_fd(&p[0]);
	close_fd(&p[1]);
}

static const char *prog_name(const proc_spec *sp)
{
	const char *slash = strrchr(sp->path, '/');
	return slash ? slash + 1 : sp->path;
}

pid_t proc_fork(pgc_err *e)
{
	fflush(NULL);   /* or buffered output is written twice */
	pid_t pid = fork();
	if (pid == 0)
		child_reset_signals();
	else if (pid < 0)
		pgc_fail(e, PGC_EXIT_SOFTWARE, "fork: %s", strerror(errno));
	return pid;
}

int proc_spawn(const proc_spec *sp, proc_child *out, pgc_err *e)
{
	int in[2] = {-1, -1}, o[2] = {-1, -1}, er[2] = {-1, -1};
	out->pid = -1;
	out->in_fd = out->out_fd = out->err_fd = -1;
	/* Close-on-exec from the start: a child started meanwhile by another
	 * caller must not hold these ends (it would keep our reads from EOF). */
	if ((sp->in == PROC_IO_PIPE && pipe2(in, O_CLOEXEC) < 0) ||
	    (sp->out == PROC_IO_PIPE && pipe2(o, O_CLOEXEC) < 0) ||
	    (sp->err == PROC_IO_PIPE && pipe2(er, O_CLOEXEC) < 0)) {
		int saved = errno;
		close_pair(in);
		close_pair(o);
		close_pair(er);
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: pipe: %s", prog_name(sp), strerror(saved));
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(sp, in, o, er);
	int saved = errno;
	close_fd(&in[0]);   /* the child's ends */
	close_fd(&o[1]);
	close_fd(&er[1]);
	if (pid < 0) {
		close_pair(in);
		close_pair(o);
		close_pair(er);
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: fork: %s", prog_name(sp), strerror(saved));
	}
	if (sp->new_pgroup)
		setpgid(pid, pid);   /* also here: no race with an early kill(-pid) */
	int ends[3] = {in[1], o[0], er[0]};
	for (int i = 0; i < 3; i++)
		if (ends[i] >= 0)
			fcntl(ends[i], F_SETFL, fcntl(ends[i], F_GETFL) | O_NONBLOCK);
	out->pid = pid;
	out->in_fd = in[1];
	out->out_fd = o[0];
	out->err_fd = er[0];
	return 0;
}

int proc_wait(pid_t pid, int *status)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (status)
		*status = st;
	return 0;
}

int proc_run(const proc_spec *sp, int *status, pgc_err *e)
{
	proc_child ch;
	if (proc_spawn(sp, &ch, e) < 0)
		return -1;
	close_fd(&ch.in_fd);   /* nobody would read or write them */
	close_fd(&ch.out_fd);
	close_fd(&ch.err_fd);
	if (proc_wait(ch.pid, status) < 0)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: waitpid: %s", prog_name(sp), strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------ */
/* the loop's child registry */

typedef struct proc_entry {
	pid_t pid;
	proc_exit_fn fn;
	void *ud;
	bool ended;       /* collected, fn not yet called */
	int status;
	int err;
	struct proc_entry *next;
} proc_entry;

typedef struct proc_registry {
	loop *lp;
	proc_entry *head;
	int kick_timer;   /* delivers ends noticed outside SIGCHLD */
} proc_registry;

/* Asks e's child once; true when it has ended (or cannot be asked). */
static bool entry_collect(proc_entry *en)
{
	if (en->ended)
		return true;
	int st = 0;
	pid_t got;
	while ((got = waitpid(en->pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (got == 0)
		return false;
	en->ended = true;
	en->status = got < 0 ? -1 : st;
	en->err = got < 0 ? errno : 0;
	return true;
}

/* Calls fn for every ended entry, one at a time: a callback may watch or
 * unwatch others (a run starts its next segment, or is freed). */
static void registry_deliver(proc_registry *reg)
{
	for (;;) {
		proc_entry **pp = &reg->head;
		while (*pp && !(*pp)->ended)
			pp = &(*pp)->next;
		proc_entry *en = *pp;
		if (!en)
			return;
		*pp = en->next;
		proc_entry done = *en;
		free(en);
		errno = done.err;
		done.fn(reg->lp, done.pid, done.status, done.ud);
	}
}

static void registry_on_sigchld(loop *lp, int signo, void *ud)
{
	proc_registry *reg = ud;
	for (proc_entry *en = reg->head; en; en = en->next)
		entry_collect(en);
	registry_deliver(reg);
}

static void registry_on_kick(loop *lp, void *ud)
{
	proc_registry *reg = ud;
	reg->kick_timer = 0;
	registry_deliver(reg);
}

/* With the loop: children still registered are forgotten (collected when
 * they have already ended, so none is left a zombie for that reason). */
static void registry_free(void *p)
{
	proc_registry *reg = p;
	while (reg->head) {
		proc_entry *en = reg->head;
		reg->head = en->next;
		entry_collect(en);
		free(en);
	}
	free(reg);
}

static proc_registry *registry_get(loop *lp, pgc_err *e)
{
	proc_registry *reg = loop_procs(lp);
	if (reg)
		return reg;
	reg = xcalloc(1, sizeof *reg);
	reg->lp = lp;
	if (loop_signal(lp, SIGCHLD, registry_on_sigchld, reg) < 0) {
		free(reg);
		pgc_fail(e, PGC_EXIT_SOFTWARE, "SIGCHLD handler: %s", strerror(errno));
		return NULL;
	}
	loop_set_procs(lp, reg, registry_free);
	return reg;
}

int proc_watch(loop *lp, pid_t pid, proc_exit_fn fn, void *ud, pgc_err *e)
{
	proc_registry *reg = registry_get(lp, e);
	if (!reg)
		return -1;
	proc_entry *en = xcalloc(1, sizeof *en);
	en->pid = pid;
	en->fn = fn;
	en->ud = ud;
	en->next = reg->head;
	reg->head = en;
	/* It may have ended before the handler was there to hear it. */
	if (entry_collect(en) && !reg->kick_timer)
		reg->kick_timer = loop_timer(lp, 0, registry_on_kick, reg);
	return 0;
}

int proc_unwatch(loop *lp, pid_t pid, int *status)
{
	proc_registry *reg = loop_procs(lp);
	for (proc_entry **pp = reg ? &reg->head : NULL; pp && *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			proc_entry *en = *pp;
			*pp = en->next;
			int collected = en->ended && en->err == 0;
			if (collected && status)
				*status = en->status;
			free(en);
			return collected;
		}
	}
	return 0;
}

size_t proc_watched(loop *lp)
{
	proc_registry *reg = loop_procs(lp);
	size_t n = 0;
	for (proc_entry *en = reg ? reg->head : NULL; en; en = en->next)
		n++;
	return n;
}
