/*
 * fuzz_runbook.c -- libFuzzer target for the Markdown runbook parser
 * (runbook_parse, runbook.c).  The input is handed over as the (buf, len)
 * the parser's contract promises to respect: an exactly sized copy with no
 * terminating NUL, so a read past the last byte of a last line without a
 * newline is a heap over-read ASan reports.
 * Oracles besides the sanitizers: a failure is a "path:line:col: ..."
 * message with the data-error exit code; on success every item is found
 * again by its own id, and every warning names the file.
 * Built by tests/fuzz/run.sh (clang) and, as a replay driver over the
 * regression files, by `make check` (tests/fuzz/replay_main.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/runbook.h"

#define FUZZ_PATH "fuzz.md"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a buffer of exactly size bytes: nothing after it to lean on */
	char *buf = malloc(size ? size : 1);
	if (size)
		memcpy(buf, data, size);
	static const char *const flags[] = {"FEATURE_NEW_DB", "READ_ONLY"};
	rb_options opt = {.flags = flags, .n_flags = 2};
	runbook *rb = NULL;
	pgc_err e = {0};
	int rc = runbook_parse(buf, size, FUZZ_PATH, &opt, &rb, &e);
	if (rc < 0) {
		if (e.code != PGC_EXIT_DATAERR || strncmp(e.msg, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
			abort();
	} else {
		for (size_t i = 0; i < rb->n_warnings; i++)
			if (strncmp(rb->warnings[i], FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
				abort();
		for (size_t i = 0; i < rb->n_phases; i++) {
			const rb_phase *ph = &rb->phases[i];
			if (runbook_phase(rb, ph->id) == NULL)
				abort();
			for (size_t j = 0; j < ph->n_items; j++) {
				const rb_phase *found_ph = NULL;
				if (runbook_item(rb, ph->items[j].id, &found_ph) == NULL || found_ph == NULL)
					abort();
			}
		}
		runbook_free(rb);
	}
	/* the mojibake repair on its own, over the first line */
	const char *nl = size ? memchr(buf, '\n', size) : NULL;
	size_t n = nl ? (size_t)(nl - buf) : size;
	bool changed = false;
	free(rb_repair_mojibake(buf, n, &changed));
	free(buf);
	return 0;
}
