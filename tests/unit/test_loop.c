/* test_loop.c -- the poll loop: timers fire in order, fd callbacks run,
 * signals arrive as callbacks, unwatch inside a callback is safe. */
#include "config.h"
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include "pgcutover/loop.h"
#include "tap.h"

static int order[8], n_order;
static void tmark(loop *lp, void *ud) { order[n_order++] = (int)(intptr_t)ud; }
static int got_bytes;
static void on_read(loop *lp, int fd, short re, void *ud)
{
	char b[16];
	got_bytes += (int)read(fd, b, sizeof b);
	loop_unwatch(lp, fd);
}
static int got_sig;
static void on_sig(loop *lp, int s, void *ud) { got_sig = s; loop_stop(lp); }
static void stop_timer(loop *lp, void *ud) { loop_stop(lp); }

int main(void)
{
	loop *lp = loop_new();
	/* registered once before, so the first real registration is not the
	 * slow one: under valgrind a first call is translated, and took longer
	 * than the 10 ms between these timers' due times */
	loop_timer_cancel(lp, loop_timer(lp, 1000, tmark, (void *)(intptr_t)8));
	(void)loop_now_ms();
	loop_timer(lp, 30, tmark, (void *)(intptr_t)3);
	loop_timer(lp, 10, tmark, (void *)(intptr_t)1);
	int cancelled = loop_timer(lp, 15, tmark, (void *)(intptr_t)9);
	loop_timer(lp, 20, tmark, (void *)(intptr_t)2);
	loop_timer_cancel(lp, cancelled);
	double t0 = loop_now_ms();
	while (n_order < 3 && loop_now_ms() - t0 < 2000)
		loop_once(lp, 100);
	is_int(n_order, 3, "three timers fired, the cancelled one did not");
	ok(order[0] == 1 && order[1] == 2 && order[2] == 3, "timers fire in due order");

	int p[2];
	ok(pipe(p) == 0, "pipe");
	loop_watch(lp, p[0], POLLIN, on_read, NULL);
	ok(write(p[1], "abc", 3) == 3, "write");
	loop_once(lp, 500);
	is_int(got_bytes, 3, "fd callback read the bytes");
	ok(write(p[1], "de", 2) == 2, "write again");
	loop_once(lp, 50);
	is_int(got_bytes, 3, "unwatched fd no longer delivered");

	loop_signal(lp, SIGUSR1, on_sig, NULL);
	loop_timer(lp, 2000, stop_timer, NULL);
	kill(getpid(), SIGUSR1);
	loop_run(lp);
	is_int(got_sig, SIGUSR1, "signal delivered through the loop");

	/* A timer that completes the caller's work must not leave the next
	 * loop_once(-1) asleep in poll() with nothing left to wake it. */
	loop *lp2 = loop_new();
	n_order = 0;
	loop_timer(lp2, 0, tmark, (void *)(intptr_t)7);
	double t1 = loop_now_ms();
	loop_once(lp2, 3000);
	ok(n_order == 1 && loop_now_ms() - t1 < 2500, "loop_once returns after a timer fires, without waiting out max_wait");
	loop_free(lp2);
	loop_free(lp);
	close(p[0]);
	close(p[1]);
	return done_testing();
}
