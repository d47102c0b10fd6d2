/*
 * test_evread.c -- the payload readers of evpay.h over payloads written by
 * the real writers where there is one (ops.h's untick and note,
 * hc_results_json) and over command_start/command_end/flag_set text in the
 * shape action.c writes: each field read, the absent and wrongly typed
 * ones read as absent, and a malformed payload read as empty, not a crash.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/evpay.h"
#include "pgcutover/ops.h"
#include "pgcutover/health.h"
#include "tap.h"

static void why(void)
{
	char *p = ops_payload_untick("abc123", "wrong box");
	char *w = evr_why(p);
	is_str(w, "  reason: wrong box", "why: an untick's reason");
	free(w);
	free(p);
	p = ops_payload_note("rows look right", "abc123");
	w = evr_why(p);
	is_str(w, "  text: rows look right", "why: a note's text, not its hash");
	free(w);
	free(p);
	w = evr_why("{\"reason\":\"\",\"mode\":\"DRIVER\",\"message\":7}");
	is_str(w, "  mode: DRIVER", "why: empty and non-string fields are left out");
	free(w);
	w = evr_why("not json");
	is_str(w, "", "why: malformed payload reads as nothing");
	free(w);
	w = evr_why(NULL);
	is_str(w, "", "why: no payload reads as nothing");
	free(w);
}

static void command(void)
{
	evr_command_start s;
	evr_command_start_read("{\"command\":\"systemctl stop web\\necho done\",\"shell\":true}", &s);
	is_str(s.command, "systemctl stop web\necho done", "command_start: the command");
	evr_command_start_free(&s);
	evr_command_start_read("{\"command\":3}", &s);
	ok(s.command == NULL, "command_start: a non-string command reads as absent");
	evr_command_start_free(&s);

	evr_command_end e;
	evr_command_end_read("{\"start_id\":42,\"exit\":127,\"status\":\"failed\",\"duration_s\":1.5,"
	                     "\"output_head\":\"sh: pm2: not found\\n\",\"output_tail\":\"\"}", &e);
	is_int(e.start_id, 42, "command_end: start_id");
	ok(e.has_exit && e.exit_code == 127, "command_end: exit code");
	is_str(e.status, "failed", "command_end: status");
	ok(e.has_duration && e.duration_s == 1.5, "command_end: duration");
	is_str(e.output_head, "sh: pm2: not found\n", "command_end: output head");
	is_str(e.output_tail, "", "command_end: output tail");
	evr_command_end_free(&e);
	evr_command_end_read("{\"status\":\"timeout\"}", &e);
	ok(!e.has_exit && !e.has_duration && e.start_id == 0 && !e.output_head,
	   "command_end: absent fields read as absent (a timeout has no exit code)");
	evr_command_end_free(&e);
	evr_command_end_read("[1,2]", &e);
	ok(!e.status && !e.has_exit, "command_end: a non-object reads as empty");
	evr_command_end_free(&e);
}

static void flag_and_health(void)
{
	char *v = evr_flag_set_new("{\"name\":\"USE_NEW_DB\",\"old\":\"false\",\"new\":\"true\"}");
	is_str(v, "true", "flag_set: the new value");
	free(v);
	v = evr_flag_set_new("{\"name\":\"X\"}");
	ok(v == NULL, "flag_set: no new value reads as absent");

	hc_check c[3] = {{.name = "api", .url = "http://a"}, {.name = "web", .url = "http://w"},
	                 {.name = "db", .url = "http://d"}};
	hc_result r[3] = {{.done = true, .ok = true, .status = 200}, {.done = true, .ok = false, .status = 503},
	                  {.done = true, .ok = false, .status = 0}};
	char *p = hc_results_json(c, r, 3);
	evr_health h;
	evr_health_read(p, &h);
	is_int(h.n_checks, 3, "health: checks counted");
	is_int(h.n_ok, 1, "health: passing counted");
	is_str(h.failing, "web, db", "health: failing named in order");
	evr_health_free(&h);
	free(p);
	evr_health_read("{}", &h);
	ok(h.n_checks == 0 && h.failing && !*h.failing, "health: no checks reads as 0 of 0, none failing");
	evr_health_free(&h);
}

int main(void)
{
	why();
	command();
	flag_and_health();
	return done_testing();
}
