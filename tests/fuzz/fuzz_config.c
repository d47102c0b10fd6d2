/*
 * fuzz_config.c -- libFuzzer target for the JSON config loader
 * (config_parse, config.c, with jsonpos.c's validator and positions).
 * The text is an exactly sized copy without a terminating NUL, as
 * config_parse(text, len) promises to cope with.
 * Oracles besides the sanitizers: a failure is "path:line:col: ..." with
 * the data-error exit code; on success every configured table passes
 * config_is_table_name() and config_where() names the file for each key
 * path a caller asks about.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/config.h"

#define FUZZ_PATH "/fuzz/pgcutover.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void where_names_file(const config *c, const char *key)
{
	char *w = config_where(c, key);
	if (!w || strncmp(w, FUZZ_PATH, strlen(FUZZ_PATH)) != 0)
		abort();
	free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (size)
		memcpy(text, data, size);
	config *c = NULL;
	pgc_err e = {0};
	if (config_parse(text, size, FUZZ_PATH, &c, &e) < 0) {
		if (strncmp(e.msg, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
			abort();
	} else {
		if (!c->runbook || !c->workdir)
			abort();
		for (size_t i = 0; i < c->n_tables; i++)
			if (!config_is_table_name(c->tables[i].name))
				abort();
		static const char *const keys[] = {
			"runbook", "tables[0]", "tables[1].name", "source.supabase.url",
			"target", "flags[0]", "health[0].url", "point_of_no_return", "gates[0]",
			"no.such[7].key",
		};
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			where_names_file(c, keys[i]);
		config_free(c);
	}
	free(text);
	return 0;
}
