/*
 * test_freeze.c -- the go/no-go board's default switch item and its
 * staleness rule (goboard.h), and the freeze watch's folding of samples (freeze.h): the
 * first sample is the baseline; a moved counter or a non-ignored session
 * holding a written transaction is a write, named; an ignored one is shown
 * but does not count; proven only after quiet_s without a write; a counter
 * that went down (stats reset) is a write too; the REST fallback (exact
 * counts) is labelled; the apply/release statements.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "pgcutover/freeze.h"
#include "pgcutover/goboard.h"
#include "pgcutover/runbook.h"
#include "tap.h"

static char **ignore_of(const char *a)
{
	char **v = calloc(2, sizeof *v);
	v[0] = a ? strdup(a) : NULL;
	return v;
}

/* A sample at ts: table "public.t" with ins, and one session group. */
static frz_sample sample(double ts, int64_t ins, const char *role, const char *app, int writing, bool ignored)
{
	frz_sample s = {.ts = ts, .commits = (int64_t)ts};
	s.tables = calloc(2, sizeof *s.tables);
	s.tables[0] = (frz_table_counter){strdup("public.a"), 5, 0, 0};
	s.tables[1] = (frz_table_counter){strdup("public.t"), ins, 1, 0};
	s.n_tables = 2;
	if (role) {
		s.sessions = calloc(1, sizeof *s.sessions);
		s.sessions[0] = (frz_sessions){strdup(role), strdup(app), strdup("10.0.0.7"), 3, writing, ignored};
		s.n_sessions = 1;
	}
	return s;
}

/* The switch: the first item of a "cutover" phase that sets a declared
 * flag (not one in an earlier phase, not a rollback step); the config's
 * switch.item wins.  Evidence from before the freeze is stale and red;
 * grey inputs do not count; the freeze and postpone are never stale. */
static void go_board_rules(void)
{
	static const char md[] =
		"# R\n\n## Phase 1: Prepare\n\n- [ ] Test flag\n  ```bash\n  USE_NEW_DB=true\n  ```\n"
		"\n## Phase 2: Cutover\n\n- [ ] Stop\n- [ ] Flip\n  ```bash\n  USE_NEW_DB=true\n  ```\n";
	const char *flags[] = {"USE_NEW_DB"};
	rb_options opt = {.flags = flags, .n_flags = 1};
	runbook *rb = NULL;
	pgc_err e = {0};
	ok(runbook_parse(md, strlen(md), "r.md", &opt, &rb, &e) == 0, "runbook parses");
	char sw[RB_ID_MAX];
	go_switch_item(NULL, rb, sw, sizeof sw);
	is_str(sw, "2.2", "the switch: the cutover phase's flag item, not phase 1's");
	config cfg = {.switch_item = "2.1"};
	go_switch_item(&cfg, rb, sw, sizeof sw);
	is_str(sw, "2.1", "switch.item wins");
	runbook_free(rb);

	go_board b = {.freeze_at = 100};
	for (int i = 0; i < GO_N_INPUTS; i++)
		b.in[i] = (go_input){.status = GO_GREEN, .measured_at = 150};
	b.in[GO_IN_VERIFY].status = GO_GREY;
	go_board_finish(&b);
	ok(b.go, "every input green after the freeze: go");
	b.in[GO_IN_COUNTS].measured_at = 90;
	b.in[GO_IN_FREEZE].measured_at = 100;
	b.in[GO_IN_POSTPONE].measured_at = 10;
	go_board_finish(&b);
	ok(!b.go && b.in[GO_IN_COUNTS].stale && b.in[GO_IN_COUNTS].status == GO_RED, "counts from before the freeze: stale, red, no-go");
	ok(!b.in[GO_IN_POSTPONE].stale && b.in[GO_IN_POSTPONE].status == GO_GREEN, "postpone is judged now, never stale");
	char *red = go_board_red_words(&b);
	is_str(red, "counts: stale (measured before the freeze) ", "the red words say stale");
	free(red);
	b.freeze_at = 0;
	b.in[GO_IN_COUNTS].measured_at = 150;
	b.in[GO_IN_COUNTS].stale = false;
	b.in[GO_IN_COUNTS].status = GO_GREEN;
	go_board_finish(&b);
	ok(!b.go && b.in[GO_IN_SCHEMA].status == GO_RED, "no freeze proven: nothing counts");
	ok(b.in[GO_IN_VERIFY].status == GO_GREY, "verify not configured stays grey");
}

int main(void)
{
	go_board_rules();
	frz_watch w;
	frz_watch_init(&w, 10, ignore_of("supabase_admin"), 100);
	frz_sample s = sample(100, 7, "app_user", "node-pg", 0, false);
	is_int(frz_watch_feed(&w, &s), FRZ_WATCHING, "the first sample is the baseline");
	s = sample(101, 19, "app_user", "node-pg", 0, false);
	is_int(frz_watch_feed(&w, &s), FRZ_WRITE_SEEN, "a moved counter is a write");
	is_str(w.last_write_what, "public.t +12", "named with its rows");
	char *who = frz_watch_who(&w, 110);
	is_str(who, "public.t +12 rows in 10 s; sessions: app_user@10.0.0.7 (node-pg) x3", "who still writes");
	free(who);
	s = sample(105, 19, "app_user", "node-pg", 0, false);
	is_int(frz_watch_feed(&w, &s), FRZ_WATCHING, "quiet 4 s of 10: watching");
	s = sample(111, 19, "app_user", "node-pg", 0, false);
	is_int(frz_watch_feed(&w, &s), FRZ_PROVEN, "quiet 10 s: proven");
	s = sample(112, 19, "app_user", "node-pg", 2, false);
	is_int(frz_watch_feed(&w, &s), FRZ_WRITE_SEEN, "a session holding a written transaction is a write");
	is_str(w.last_write_what, "app_user@10.0.0.7 (node-pg) writing in an open transaction x2", "named as such");
	s = sample(123, 19, "supabase_admin", "realtime", 1, true);
	is_int(frz_watch_feed(&w, &s), FRZ_PROVEN, "an ignored role's open write does not count");
	char *ign = frz_watch_ignored(&w);
	is_str(ign, "supabase_admin@10.0.0.7 (realtime) x3 (1 writing)", "but it is shown");
	free(ign);
	s = sample(124, 2, NULL, NULL, 0, false);
	is_int(frz_watch_feed(&w, &s), FRZ_WRITE_SEEN, "a counter that went down (reset) is a write");
	is_str(w.last_write_what, "public.t counters reset", "said as a reset");
	is_int((int)w.writes_seen, 3, "three writes seen");
	frz_watch_free(&w);

	frz_watch_init(&w, 2, ignore_of(NULL), 0);
	const char *names[] = {"clients"};
	int64_t rows[] = {10};
	is_int(frz_watch_feed_counts(&w, names, rows, 1, 0), FRZ_WATCHING, "counts: the baseline");
	rows[0] = 11;
	is_int(frz_watch_feed_counts(&w, names, rows, 1, 1), FRZ_WRITE_SEEN, "counts: a change is a write");
	is_int(frz_watch_feed_counts(&w, names, rows, 1, 3), FRZ_PROVEN, "counts: stable for the window");
	ok(w.counts_only, "counts: the weaker evidence is labelled");
	who = frz_watch_who(&w, 3);
	is_str(who, "clients +1 rows in 3 s", "counts: no sessions to name");
	free(who);
	frz_watch_free(&w);

	char **def = frz_ignore_list(NULL);
	bool has_admin = false, has_rds = false;
	for (size_t i = 0; def[i]; i++) {
		has_admin |= strcmp(def[i], "supabase_admin") == 0;
		has_rds |= strcmp(def[i], "rdsadmin") == 0;
	}
	ok(has_admin && has_rds, "the hosted defaults name supabase_admin and rdsadmin");
	for (size_t i = 0; def[i]; i++)
		free(def[i]);
	free(def);
	return done_testing();
}
