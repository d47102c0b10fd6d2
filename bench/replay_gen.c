/*
 * replay_gen.c -- bench/replay.sh's generator (not installed, not part of
 * the build: the script compiles it against the build's libpgccore.a).
 * Appends COUNT events to a new state file through the batch API
 * (state_begin / state_append / state_commit) in the mix a long cutover
 * night leaves: mostly counts snapshots from a counts watch and health
 * results, a tick (or now and then an untick) of the runbook's next item
 * every TICK_EVERY events, a note now and then.
 *   usage: replay_gen RUNBOOK STATE COUNT
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"

#define GEN_BATCH 100000
#define GEN_TICK_EVERY 997
#define GEN_UNTICK_EVERY 7      /* every 7th tick is undone and redone */
#define GEN_NOTE_EVERY 4999
#define GEN_HEALTH_EVERY 10
#define GEN_TABLES 6

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: replay_gen RUNBOOK STATE COUNT\n");
		return PGC_EXIT_USAGE;
	}
	long count = strtol(argv[3], NULL, 10);
	pgc_err e = {0};
	runbook *rb = NULL;
	state *st = NULL;
	if (runbook_load(argv[1], NULL, &rb, &e) < 0 || state_open(argv[2], STATE_OPEN_CREATE, &st, &e) < 0) {
		fprintf(stderr, "replay_gen: %s\n", e.msg);
		return 1;
	}
	state_set_actor(st, "bench", NULL);
	size_t phase = 0, item = 0, ticks = 0;
	long n = 0;
	while (n < count) {
		if (state_begin(st, &e) < 0)
			break;
		for (long b = 0; b < GEN_BATCH && n < count; b++, n++) {
			char payload[1024];
			const char *kind = "counts", *ph = NULL, *it = NULL;
			if (n % GEN_TICK_EVERY == GEN_TICK_EVERY - 1 && phase < rb->n_phases) {
				const rb_phase *p = &rb->phases[phase];
				const rb_item *ri = &p->items[item];
				bool undo = ++ticks % GEN_UNTICK_EVERY == 0;
				kind = undo ? "untick" : "tick";
				ph = p->id;
				it = ri->id;
				snprintf(payload, sizeof payload, undo ? "{\"hash\":\"%s\",\"reason\":\"redo\"}" :
				         "{\"hash\":\"%s\"}", ri->hash);
				if (!undo && ++item == p->n_items) {
					item = 0;
					phase++;
				}
			} else if (n % GEN_NOTE_EVERY == GEN_NOTE_EVERY - 1) {
				kind = "note";
				snprintf(payload, sizeof payload, "{\"text\":\"note %ld\"}", n);
			} else if (n % GEN_HEALTH_EVERY == 0) {
				kind = "health";
				snprintf(payload, sizeof payload, "{\"ok\":true,\"checks\":[{\"url\":\"http://app/health\","
				         "\"status\":200,\"ms\":%ld}]}", n % 50);
			} else {
				int len = snprintf(payload, sizeof payload, "{\"match\":false,\"exact\":false,\"tables\":[");
				for (int t = 0; t < GEN_TABLES; t++)
					len += snprintf(payload + len, sizeof payload - (size_t)len,
					                "%s{\"table\":\"t%d\",\"source\":%ld,\"target\":%ld,\"exact\":false,"
					                "\"match\":false,\"state\":\"copying\"}", t ? "," : "", t,
					                100000L * (t + 1), n % (100000L * (t + 1)));
				snprintf(payload + len, sizeof payload - (size_t)len, "]}");
			}
			if (state_append(st, kind, ph, it, payload, NULL, &e) < 0)
				break;
		}
		if (state_commit(st, &e) < 0)
			break;
	}
	if (e.msg[0]) {
		fprintf(stderr, "replay_gen: %s\n", e.msg);
		return 1;
	}
	state_close(st);
	runbook_free(rb);
	return 0;
}
