/*
 * evread.h -- one reader per event payload kind the console shows: the
 * typed fields of a command_start, command_end, flag_set and health
 * payload, and the "why" words (reason, text, note, mode, message) any
 * event may carry.  The writers are elsewhere (ops.h, action.c,
 * health.c); keeping the readers here means src/ui parses no JSON and a
 * renamed key is changed in one reader, not in every screen that shows it.
 * Readers never fail: a missing or malformed field reads as absent (NULL,
 * has_* false), since an old log may predate it.  Strings are the
 * payload's own text (already masked by the writer); the caller frees the
 * struct with its _free function.
 */
#ifndef PGCUTOVER_EVREAD_H
#define PGCUTOVER_EVREAD_H

#include <stdbool.h>
#include <stdint.h>

typedef struct evr_command_start {
	char *command;          /* NULL when absent */
} evr_command_start;

typedef struct evr_command_end {
	int64_t start_id;       /* 0 when absent */
	bool has_exit;
	int exit_code;
	char *status;           /* "ok", "failed", "timeout"...; NULL when absent */
	bool has_duration;
	double duration_s;
	char *output_head, *output_tail;   /* NULL when absent */
} evr_command_end;

typedef struct evr_health {
	int n_checks, n_ok;
	char *failing;          /* names of the failing checks, ", "-joined ("" none) */
} evr_health;

void evr_command_start_read(const char *payload, evr_command_start *out);
void evr_command_start_free(evr_command_start *c);
void evr_command_end_read(const char *payload, evr_command_end *out);
void evr_command_end_free(evr_command_end *c);
/* flag_set: the new value as recorded (masked when secret); NULL when absent. */
char *evr_flag_set_new(const char *payload);
void evr_health_read(const char *payload, evr_health *out);
void evr_health_free(evr_health *h);
/* "  reason: x  text: y" from whichever of reason, text, note, mode and
 * message the payload has (non-empty strings, in that order); "" none. */
char *evr_why(const char *payload);

#endif
