/*
 * state_writer.c -- a test and benchmark helper (not installed): appends
 * COUNT note events to a state file through state_append(), either each in
 * its own fsynced transaction (the way commands write) or in batches of
 * --batch N (state_begin/state_commit, the way an import writes), then
 * optionally re-verifies the chain.  Used by tests/integration/state_kill.sh
 * (killed with -9 mid-run; --progress prints each committed id) and
 * bench/state.sh (timings on stdout as "name seconds" lines).  With
 * --lease COMMAND it first takes the driver's lease the way a headless
 * command does (--console: the way the console does, heartbeating), so a
 * kill -9 leaves a dead holder's lease behind.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pgcutover/lease.h"
#include "pgcutover/state.h"

static void usage(void)
{
	fprintf(stderr, "usage: state_writer [--batch N] [--progress] [--verify] "
	        "[--lease COMMAND [--console]] STATE COUNT\n");
	exit(PGC_EXIT_USAGE);
}

int main(int argc, char **argv)
{
	long batch = 1, count = -1;
	bool progress = false, verify = false;
	const char *path = NULL, *lease_cmd = NULL;
	bool console = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--progress") == 0)
			progress = true;
		else if (strcmp(argv[i], "--verify") == 0)
			verify = true;
		else if (strcmp(argv[i], "--lease") == 0 && i + 1 < argc)
			lease_cmd = argv[++i];
		else if (strcmp(argv[i], "--console") == 0)
			console = true;
		else if (!path)
			path = argv[i];
		else if (count < 0)
			count = strtol(argv[i], NULL, 10);
		else
			usage();
	}
	if (!path || count < 0 || batch < 1)
		usage();
	pgc_err e = {0};
	state *st = NULL;
	if (state_open(path, STATE_OPEN_CREATE, &st, &e) < 0) {
		fprintf(stderr, "state_writer: %s\n", e.msg);
		return e.code;
	}
	state_set_actor(st, "bench", NULL);
	lease *ls = NULL;
	if (lease_cmd && lease_acquire(st, "bench", pgc_host_name(), (int)getpid(), lease_cmd,
	                               console ? LEASE_AUDIT | LEASE_HEARTBEATS : 0, &ls, &e) < 0)
		goto fail;
	double t0 = pgc_now();
	clock_t c0 = clock();
	for (long done = 0; done < count;) {
		long n = count - done < batch ? count - done : batch;
		if (batch > 1 && state_begin(st, &e) < 0)
			goto fail;
		int64_t id = 0;
		for (long k = 0; k < n; k++) {
			char payload[64];
			snprintf(payload, sizeof payload, "{\"text\":\"event %ld\"}", done + k);
			if (state_append(st, EV_NOTE, NULL, NULL, payload, &id, &e) < 0)
				goto fail;
		}
		if (batch > 1 && state_commit(st, &e) < 0)
			goto fail;
		done += n;
		if (progress) {
			printf("committed %lld\n", (long long)id);
			fflush(stdout);
		}
	}
	/* Wall and CPU seconds: on a shared machine the CPU time says what the
	 * code costs, the wall time what an operator waits. */
	double t1 = pgc_now();
	clock_t c1 = clock();
	printf("append %.3f %.3f\n", t1 - t0, (double)(c1 - c0) / CLOCKS_PER_SEC);
	if (verify) {
		if (state_verify(st, NULL, &e) < 0)
			goto fail;
		printf("verify %.3f %.3f\n", pgc_now() - t1, (double)(clock() - c1) / CLOCKS_PER_SEC);
	}
	lease_release(ls);
	state_close(st);
	return 0;
fail:
	fprintf(stderr, "state_writer: %s\n", e.msg);
	state_close(st);
	return e.code ? e.code : 1;
}
