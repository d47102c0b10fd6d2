/*
 * loop.c -- the one poll() loop every interactive path runs on.  File
 * descriptors (terminal, libpq sockets, curl sockets, child pipes) and
 * one-shot timers are registered by their owners; signals are turned into
 * bytes on a self-pipe so their callbacks run in loop context, where it is
 * safe to touch ncurses, SQLite or libpq.  Single-threaded by design.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pgcutover/loop.h"

#define LOOP_MAX_SIGNAL 65

typedef struct loop_watch_entry {
	int fd;
	short events;
	loop_fd_fn fn;
	void *ud;
	bool removed;
} loop_watch_entry;

typedef struct loop_timer_entry {
	int id;
	double due_ms;
	loop_timer_fn fn;
	void *ud;
} loop_timer_entry;

typedef struct loop_signal_entry {
	loop_signal_fn fn;
	void *ud;
} loop_signal_entry;

struct loop {
	loop_watch_entry *watches;
	size_t n_watches, cap_watches;
	loop_timer_entry *timers;
	size_t n_timers, cap_timers;
	int next_timer_id;
	loop_signal_entry signals[LOOP_MAX_SIGNAL];
	int sigpipe[2];
	bool stopped;
	void *procs;                     /* proc.c's child registry */
	void (*procs_free)(void *procs);
};

/* The write end of the signal pipe; signals are process-wide, so is this. */
static int loop_sigpipe_wr = -1;

double loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

loop *loop_new(void)
{
	loop *lp = xcalloc(1, sizeof *lp);
	lp->sigpipe[0] = lp->sigpipe[1] = -1;
	lp->next_timer_id = 1;
	return lp;
}

void loop_free(loop *lp)
{
	if (!lp)
		return;
	if (lp->procs_free)
		lp->procs_free(lp->procs);
	for (int s = 1; s < LOOP_MAX_SIGNAL; s++)
		if (lp->signals[s].fn)
			signal(s, SIG_DFL);
	if (lp->sigpipe[0] >= 0) {
		close(lp->sigpipe[0]);
		close(lp->sigpipe[1]);
		loop_sigpipe_wr = -1;
	}
	free(lp->watches);
	free(lp->timers);
	free(lp);
}

void loop_watch(loop *lp, int fd, short events, loop_fd_fn fn, void *ud)
{
	for (size_t i = 0; i < lp->n_watches; i++) {
		if (lp->watches[i].fd == fd && !lp->watches[i].removed) {
			lp->watches[i].events = events;
			lp->watches[i].fn = fn;
			lp->watches[i].ud = ud;
			return;
		}
	}
	if (lp->n_watches == lp->cap_watches) {
		lp->cap_watches = lp->cap_watches ? lp->cap_watches * 2 : 8;
		lp->watches = xrealloc(lp->watches, lp->cap_watches * sizeof *lp->watches);
	}
	lp->watches[lp->n_watches++] = (loop_watch_entry){fd, events, fn, ud, false};
}

void loop_unwatch(loop *lp, int fd)
{
	/* Marked, not removed: loop_once may be iterating the array. */
	for (size_t i = 0; i < lp->n_watches; i++)
		if (lp->watches[i].fd == fd)
			lp->watches[i].removed = true;
}

static void loop_compact(loop *lp)
{
	size_t j = 0;
	for (size_t i = 0; i < lp->n_watches; i++)
		if (!lp->watches[i].removed)
			lp->watches[j++] = lp->watches[i];
	lp->n_watches = j;
}

int loop_timer(loop *lp, int ms, loop_timer_fn fn, void *ud)
{
	if (lp->n_timers == lp->cap_timers) {
		lp->cap_timers = lp->cap_timers ? lp->cap_timers * 2 : 8;
		lp->timers = xrealloc(lp->timers, lp->cap_timers * sizeof *lp->timers);
	}
	int id = lp->next_timer_id++;
	lp->timers[lp->n_timers++] = (loop_timer_entry){id, loop_now_ms() + (ms < 0 ? 0 : ms), fn, ud};
	return id;
}

void loop_timer_cancel(loop *lp, int id)
{
	for (size_t i = 0; i < lp->n_timers; i++) {
		if (lp->timers[i].id == id) {
			lp->timers[i] = lp->timers[--lp->n_timers];
			return;
		}
	}
}

static void loop_on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	if (loop_sigpipe_wr >= 0 && write(loop_sigpipe_wr, &b, 1) < 0) {
		/* pipe full: the signal is already pending in it */
	}
	errno = saved;
}

static void loop_drain_signals(loop *lp, int fd, short revents, void *ud)
{
	unsigned char buf[64];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			int s = buf[i];
			if (s > 0 && s < LOOP_MAX_SIGNAL && lp->signals[s].fn)
				lp->signals[s].fn(lp, s, lp->signals[s].ud);
		}
	}
}

int loop_signal(loop *lp, int signo, loop_signal_fn fn, void *ud)
{
	if (signo <= 0 || signo >= LOOP_MAX_SIGNAL)
		return -1;
	if (lp->sigpipe[0] < 0) {
		if (pipe(lp->sigpipe) < 0)
			return -1;
		for (int i = 0; i < 2; i++) {
			fcntl(lp->sigpipe[i], F_SETFL, fcntl(lp->sigpipe[i], F_GETFL) | O_NONBLOCK);
			fcntl(lp->sigpipe[i], F_SETFD, FD_CLOEXEC);
		}
		loop_sigpipe_wr = lp->sigpipe[1];
		loop_watch(lp, lp->sigpipe[0], POLLIN, loop_drain_signals, NULL);
	}
	lp->signals[signo].fn = fn;
	lp->signals[signo].ud = ud;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = loop_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(signo, &sa, NULL);
}

void *loop_procs(loop *lp)
{
	return lp->procs;
}

void loop_set_procs(loop *lp, void *procs, void (*free_fn)(void *procs))
{
	lp->procs = procs;
	lp->procs_free = free_fn;
}

/* Runs due timers; returns ms until the next one, or -1 when none.
 * *fired (when non-NULL) is set when any timer ran. */
static int loop_run_timers(loop *lp, bool *fired)
{
	double now = loop_now_ms();
	for (;;) {
		size_t due = lp->n_timers;
		for (size_t i = 0; i < lp->n_timers; i++)
			if (lp->timers[i].due_ms <= now && (due == lp->n_timers || lp->timers[i].due_ms < lp->timers[due].due_ms))
				due = i;
		if (due == lp->n_timers)
			break;
		loop_timer_entry t = lp->timers[due];
		lp->timers[due] = lp->timers[--lp->n_timers];
		if (fired)
			*fired = true;
		t.fn(lp, t.ud);   /* may add or cancel timers */
	}
	double next = -1;
	for (size_t i = 0; i < lp->n_timers; i++)
		if (next < 0 || lp->timers[i].due_ms < next)
			next = lp->timers[i].due_ms;
	if (next < 0)
		return -1;
	double wait = next - loop_now_ms();
	return wait <= 0 ? 0 : (int)wait + 1;
}

int loop_once(loop *lp, int max_wait_ms)
{
	bool fired = false;
	int timer_wait = loop_run_timers(lp, &fired);
	int wait = max_wait_ms;
	if (timer_wait >= 0 && (wait < 0 || timer_wait < wait))
		wait = timer_wait;
	/* A timer that ran may have finished what the caller waits for: only
	 * look at the descriptors, do not sleep, so the caller sees it now. */
	if (fired || lp->stopped)
		wait = 0;
	loop_compact(lp);
	size_t n = lp->n_watches;
	struct pollfd *pfds = xcalloc(n ? n : 1, sizeof *pfds);
	for (size_t i = 0; i < n; i++) {
		pfds[i].fd = lp->watches[i].fd;
		pfds[i].events = lp->watches[i].events;
	}
	int rc = poll(pfds, n, wait);
	if (rc < 0 && errno != EINTR) {
		free(pfds);
		return -1;
	}
	for (size_t i = 0; rc > 0 && i < n; i++) {
		if (!pfds[i].revents)
			continue;
		/* Look the watch up again: an earlier callback may have removed it. */
		for (size_t k = 0; k < lp->n_watches; k++) {
			loop_watch_entry *w = &lp->watches[k];
			if (w->fd == pfds[i].fd && !w->removed) {
				w->fn(lp, w->fd, pfds[i].revents, w->ud);
				break;
			}
		}
	}
	free(pfds);
	loop_run_timers(lp, &fired);
	return rc < 0 ? 0 : fired && rc <= 0 ? 1 : rc;
}

void loop_run(loop *lp)
{
	lp->stopped = false;
	while (!lp->stopped)
		if (loop_once(lp, -1) < 0)
			break;
}

void loop_stop(loop *lp)
{
	lp->stopped = true;
}
