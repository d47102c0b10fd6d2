/*
 * evread.c -- typed readers of the event payloads the console shows (see
 * evread.h).  The screens used to parse these with cJSON each on their
 * own (the timeline, the event strip); a reader per kind keeps the key
 * names next to each other and out of src/ui.  Every reader tolerates a
 * missing payload, a non-object and a field of the wrong type: the log is
 * years of events written by older versions.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/evread.h"
#include "pgcutover/util.h"

static cJSON *parse(const char *payload)
{
	return payload ? cJSON_Parse(payload) : NULL;
}

static char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

void evr_command_start_read(const char *payload, evr_command_start *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	out->command = str_field(o, "command");
	cJSON_Delete(o);
}

void evr_command_start_free(evr_command_start *c)
{
	free(c->command);
	memset(c, 0, sizeof *c);
}

void evr_command_end_read(const char *payload, evr_command_end *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(o, "start_id"),
	            *ex = cJSON_GetObjectItemCaseSensitive(o, "exit"),
	            *dur = cJSON_GetObjectItemCaseSensitive(o, "duration_s");
	if (cJSON_IsNumber(sid))
		out->start_id = (int64_t)sid->valuedouble;
	if (cJSON_IsNumber(ex)) {
		out->has_exit = true;
		out->exit_code = ex->valueint;
	}
	if (cJSON_IsNumber(dur)) {
		out->has_duration = true;
		out->duration_s = dur->valuedouble;
	}
	out->status = str_field(o, "status");
	out->output_head = str_field(o, "output_head");
	out->output_tail = str_field(o, "output_tail");
	cJSON_Delete(o);
}

void evr_command_end_free(evr_command_end *c)
{
	free(c->status);
	free(c->output_head);
	free(c->output_tail);
	memset(c, 0, sizeof *c);
}

char *evr_flag_set_new(const char *payload)
{
	cJSON *o = parse(payload);
	char *v = str_field(o, "new");
	cJSON_Delete(o);
	return v;
}

void evr_health_read(const char *payload, evr_health *out)
{
	memset(out, 0, sizeof *out);
	cJSON *o = parse(payload);
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(o, "checks"), *c;
	strbuf failing;
	sb_init(&failing);
	if (cJSON_IsArray(checks)) {
		cJSON_ArrayForEach(c, checks) {
			out->n_checks++;
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok"))) {
				out->n_ok++;
			} else {
				const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
				sb_printf(&failing, "%s%s", failing.len ? ", " : "",
				          cJSON_IsString(name) ? name->valuestring : "?");
			}
		}
	}
	out->failing = sb_steal(&failing);
	cJSON_Delete(o);
}

void evr_health_free(evr_health *h)
{
	free(h->failing);
	memset(h, 0, sizeof *h);
}

char *evr_why(const char *payload)
{
	static const char *const keys[] = {"reason", "text", "note", "mode", "message"};
	strbuf sb;
	sb_init(&sb);
	cJSON *o = parse(payload);
	for (size_t i = 0; o && i < sizeof keys / sizeof keys[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
		if (cJSON_IsString(v) && v->valuestring[0])
			sb_printf(&sb, "  %s: %s", keys[i], v->valuestring);
	}
	cJSON_Delete(o);
	return sb_steal(&sb);
}
