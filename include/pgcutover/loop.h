/*
 * loop.h -- the single poll()-based event loop.  The console, async counts,
 * curl multi, child processes and signals all register file descriptors and
 * timers here; nothing in the UI path blocks.  Signals arrive through a
 * self-pipe and are delivered as callbacks from the loop, never in handler
 * context; proc.h's child registry hears SIGCHLD that way.
 */
#ifndef PGCUTOVER_LOOP_H
#define PGCUTOVER_LOOP_H

#include <poll.h>
#include "pgcutover/util.h"

typedef struct loop loop;
typedef void (*loop_fd_fn)(loop *lp, int fd, short revents, void *ud);
typedef void (*loop_timer_fn)(loop *lp, void *ud);
typedef void (*loop_signal_fn)(loop *lp, int signo, void *ud);

loop *loop_new(void);
void loop_free(loop *lp);

/* Watches fd for events (POLLIN|POLLOUT); replaces an existing watch. */
void loop_watch(loop *lp, int fd, short events, loop_fd_fn fn, void *ud);
void loop_unwatch(loop *lp, int fd);

/* One-shot timer after ms milliseconds; returns an id > 0. */
int loop_timer(loop *lp, int ms, loop_timer_fn fn, void *ud);
void loop_timer_cancel(loop *lp, int id);

/* Delivers signo through the loop (installs a handler writing to a pipe). */
int loop_signal(loop *lp, int signo, loop_signal_fn fn, void *ud);

/* One slot per loop for proc.c's child registry (proc.h): free_fn runs
 * first in loop_free(), while the loop still works. */
void *loop_procs(loop *lp);
void loop_set_procs(loop *lp, void *procs, void (*free_fn)(void *procs));

/* Runs one poll() round waiting at most max_wait_ms (-1 = until an event). */
int loop_once(loop *lp, int max_wait_ms);
/* Runs until loop_stop(). */
void loop_run(loop *lp);
void loop_stop(loop *lp);
double loop_now_ms(void);  /* monotonic milliseconds */

#endif
