/* test_runbook.c -- the runbook parser: every convention of
 * shared/runbook-format.md and pgcutover-runbook(5), the mojibake repair,
 * and hostile input (NUL, bad UTF-8, unterminated fences, 100 MB, 10,000-deep
 * nesting, no phases, a last line without a newline, a 20-digit duration),
 * which must end in path:line:col errors, not crashes. */
#include "config.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/runbook.h"
#include "tap.h"

#define FIXTURES PGC_SRCDIR "/tests/fixtures/runbooks/"

static runbook *parse_opt(const char *md, const rb_options *opt, pgc_err *e)
{
	runbook *rb = NULL;
	pgc_err_clear(e);
	if (runbook_parse(md, strlen(md), "t.md", opt, &rb, e) < 0)
		return NULL;
	return rb;
}

static runbook *parse(const char *md)
{
	pgc_err e;
	runbook *rb = parse_opt(md, NULL, &e);
	if (!rb)
		printf("# parse failed: %s\n", e.msg);
	return rb;
}

static runbook *load(const char *name, const rb_options *opt)
{
	runbook *rb = NULL;
	pgc_err e;
	char *path = xasprintf("%s%s", FIXTURES, name);
	if (runbook_load(path, opt, &rb, &e) < 0)
		printf("# load %s failed: %s\n", path, e.msg);
	free(path);
	return rb;
}

static bool has_warning(const runbook *rb, const char *needle)
{
	for (size_t i = 0; i < rb->n_warnings; i++)
		if (strstr(rb->warnings[i], needle))
			return true;
	return false;
}

static bool has_str(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void test_small_example(void)
{
	static const char *const flags[] = {"USE_NEW_DB"};
	rb_options opt = {.flags = flags, .n_flags = 1};
	runbook *rb = load("small.md", &opt);
	ok(rb != NULL, "small example from runbook-format.md loads");
	if (!rb)
		return;
	is_str(rb->title, "Shop DB: Heroku Postgres \xe2\x86\x92 self-hosted PostgreSQL 16", "title keeps its arrow");
	is_str(rb->status, "In progress", "top-level **Status:** kept");
	is_int(rb->n_phases, 3, "three phases");
	const rb_phase *p0 = runbook_phase(rb, "0");
	ok(p0 && p0->level == 3, "Phase 0 found at ### under ## Prerequisites");
	is_str(p0 ? p0->title : NULL, "Access and tooling", "emoji mark and 'Phase 0:' stripped from the title");
	is_str(p0 ? p0->duration : NULL, "1 hour", "**Duration:** is a phase attribute");
	is_int(p0 ? p0->done : -1, 2, "[x] items counted as done");
	ok(rb->n_sections == 1 && strcmp(rb->sections[0].title, "Prerequisites") == 0,
	   "## Prerequisites without own checkboxes is a context section");

	const rb_phase *p3 = runbook_phase(rb, "3");
	ok(p3 && p3->level == 2 && p3->numbered, "Phase 3 at ##");
	is_str(p3 ? p3->risk : NULL, "HIGH", "**Risk Level:** kept");
	is_int(p3 ? p3->n_items : 0, 4, "nested items count in the phase");
	const rb_phase *ph;
	const rb_item *it = runbook_item(rb, "3.2", &ph);
	ok(it && ph == p3, "runbook_item finds 3.2 and its phase");
	is_str(it ? it->text : NULL, "customers (12,400 records)", "item text without the checkbox");
	is_int(it ? it->parent : -2, 0, "nested item's parent is 3.1");
	is_int(it ? it->depth : -1, 1, "nested item depth 1");
	it = runbook_item(rb, "3.4", NULL);
	ok(it && it->block && strcmp(it->block->lang, "bash") == 0 && it->block->runnable,
	   "indented bash block attached to the item before it");
	is_str(it && it->block ? it->block->text : NULL, "./scripts/compare-counts.sh",
	       "block text has its common indent removed");
	is_int(p3 ? p3->commands : -1, 1, "runnable blocks attached to items are commands");
	ok(p3 && p3->n_steps == 1 && p3->steps[0].checkpoint &&
	   strcmp(p3->steps[0].checkpoint, "counts match on every table") == 0, "**Checkpoint:** closes step 3.1");
	ok(rb->n_dep_tables == 2 && strcmp(rb->dep_tables[0], "customers") == 0 &&
	   strcmp(rb->dep_tables[1], "orders") == 0, "tables under a 'dependency order' list");

	const rb_phase *p5 = runbook_phase(rb, "5");
	ok(p5 && p5->n_steps == 4, "Phase 5 has four steps (### and ####)");
	if (p5 && p5->n_steps == 4) {
		is_str(p5->steps[0].window_from, "01:00", "window start from (01:00-03:00)");
		is_str(p5->steps[0].window_to, "03:00", "window end");
		is_str(p5->steps[1].at, "01:00", "step time from (01:00, 5 min)");
		is_int(p5->steps[1].duration_min, 5, "step duration 5 min");
		is_str(p5->steps[2].at, "01:05", "second step time");
		ok(p5->steps[3].rollback && !p5->steps[1].rollback, "### 5.4 Rollback is a rollback step");
		ok(p5->has_rollback, "phase has a rollback procedure");
		ok(p5->items[2].rollback && !p5->items[0].rollback, "items in the rollback step are rollback items");
	}
	is_int(p5 ? p5->n_flag_edits : 0, 2, "declared flag NAME=VALUE lines are flag edits");
	if (p5 && p5->n_flag_edits == 2) {
		is_str(p5->flag_edits[0].value, "true", "flag edit value");
		is_int(p5->flag_edits[0].item, 1, "flag edit knows its item");
		is_str(p5->flag_edits[1].value, "false", "rollback flag edit value");
	}
	ok(has_str(rb->assignments, rb->n_assignments, "USE_NEW_DB=true") &&
	   has_str(rb->assignments, rb->n_assignments, "USE_NEW_DB=false"), "assignments collected for init");
	is_int(rb->n_items_total, 9, "total items");
	is_int(rb->n_warnings, 0, "no warnings on the clean example");
	ok(strlen(rb->sha256) == 64, "sha256 of the file");
	runbook_free(rb);
}

static void test_ids_and_hashes(void)
{
	runbook *rb = parse("# T\n## Phase 0.8: Prep\n- [ ] first   item\n  - [x] child\n- [ ] third\n");
	ok(rb && rb->n_phases == 1 && strcmp(rb->phases[0].id, "0.8") == 0, "phase id 0.8");
	if (!rb)
		return;
	is_str(rb->phases[0].items[0].id, "0.8.1", "item ids are phase.ordinal");
	is_str(rb->phases[0].items[2].id, "0.8.3", "ordinals count nested items in document order");
	char hex[65];
	pgc_sha256_hex("first item", strlen("first item"), hex);
	hex[16] = '\0';
	is_str(rb->phases[0].items[0].hash, hex, "hash: 16 hex of sha256 of whitespace-normalised text");
	ok(runbook_item(rb, "0.8.2", NULL) == &rb->phases[0].items[1], "runbook_item with a dotted phase id");
	ok(runbook_item(rb, "0.8.4", NULL) == NULL && runbook_item(rb, "0.8.x", NULL) == NULL &&
	   runbook_item(rb, "0.8", NULL) == NULL, "runbook_item refuses bad ids");
	runbook_free(rb);
}

static void test_marks_and_bullets(void)
{
	runbook *rb = parse("# T\n## Phase 1: Marks\n"
	                    "- [ ] open\n- [x] done\n- [X] done too\n* [ ] star bullet\n+ [ ] plus bullet\n"
	                    "1. [ ] numbered\n- [-] skipped\n- [~] in progress\n- [!] blocked\n- [N/A] not applicable\n"
	                    "- [?] odd\n- plain note\n- [link](http://x) is a note\n");
	ok(rb != NULL, "marks parse");
	if (!rb)
		return;
	const rb_phase *ph = &rb->phases[0];
	is_int(ph->n_items, 11, "every bracket mark is an item, plain bullets are not");
	is_int(ph->done, 2, "only [x] and [X] are done");
	rb_mark want[] = {RB_MARK_OPEN, RB_MARK_DONE, RB_MARK_DONE, RB_MARK_OPEN, RB_MARK_OPEN, RB_MARK_OPEN,
	                  RB_MARK_SKIPPED, RB_MARK_PROGRESS, RB_MARK_BLOCKED, RB_MARK_NA, RB_MARK_OTHER};
	bool all = ph->n_items >= 11;
	for (size_t i = 0; all && i < 11; i++)
		all = ph->items[i].mark == want[i];
	ok(all, "marks classified");
	is_str(ph->n_items >= 10 ? ph->items[9].mark_text : NULL, "N/A", "mark kept as written");
	is_str(ph->n_items >= 11 ? ph->items[10].mark_text : NULL, "?", "unknown mark kept as written");
	ok(has_str(ph->notes, ph->n_notes, "- plain note"), "plain bullet kept as a note");
	runbook_free(rb);
}

static void test_nesting(void)
{
	runbook *rb = parse("# T\n## Phase 2: Nest\n- [ ] a\n  - [ ] b\n    - [ ] c\n\t\t- [ ] d (tabs)\n"
	                    "  - [ ] e\n- note\n  - [ ] under a note\n- [ ] f\n");
	ok(rb != NULL, "nested list parses");
	if (!rb)
		return;
	const rb_phase *ph = &rb->phases[0];
	is_int(ph->n_items, 7, "all nested items");
	int parents[] = {-1, 0, 1, 2, 0, -1, -1};
	int depths[] = {0, 1, 2, 3, 1, 0, 0};
	bool okp = ph->n_items == 7, okd = okp;
	for (int i = 0; okp && i < 7; i++) {
		okp = okp && ph->items[i].parent == parents[i];
		okd = okd && ph->items[i].depth == depths[i];
	}
	ok(okp, "parents follow indentation (tabs count as 4 columns)");
	ok(okd, "depths follow indentation");
	runbook_free(rb);
}

static void test_blocks(void)
{
	static const char *const flags[] = {"USE_LEGACY_SUPABASE", "USE_REPOSITORY_PATTERN"};
	rb_options opt = {.flags = flags, .n_flags = 2};
	pgc_err e;
	runbook *rb = parse_opt("# T\n## Phase 5: Cut\n"
	                        "- [ ] unlabeled\n```\necho a\n```\n"
	                        "- [ ] tilde sh\n    ~~~sh\n    echo b\n      echo c\n    ~~~\n"
	                        "- [ ] js shown not run\n  ```javascript\n  const x = 1;\n  ```\n"
	                        "- [ ] If critical issues detected:\n  ```bash\n  pm2 stop all\n  # Revert .env\n"
	                        "  USE_LEGACY_SUPABASE=true\n  USE_REPOSITORY_PATTERN=false\n  pm2 start all\n"
	                        "  PGPASSWORD=x pg_dump db\n  local_var=1\n  ```\n"
	                        "- [ ] two blocks\n  ```sql\n  select 1;\n  ```\n  ```bash\n  psql -c 'select 1'\n  ```\n"
	                        "  ```bash\n  echo again\n  ```\n"
	                        "Some paragraph.\n\n```bash\necho orphan\n```\n"
	                        "````md\n```bash\nnot a fence end\n```\n````\n",
	                        &opt, &e);
	ok(rb != NULL, "blocks parse");
	if (!rb) {
		printf("# %s\n", e.msg);
		return;
	}
	const rb_phase *ph = &rb->phases[0];
	ok(ph->items[0].block && ph->items[0].block->runnable && !*ph->items[0].block->lang,
	   "unlabeled block is runnable");
	ok(ph->items[1].block && strcmp(ph->items[1].block->lang, "sh") == 0, "~~~sh fence with language");
	is_str(ph->items[1].block ? ph->items[1].block->text : NULL, "echo b\n  echo c", "common indent removed only");
	ok(ph->items[2].block && !ph->items[2].block->runnable, "javascript block is shown, never run");
	is_int(ph->n_flag_edits, 2, "only declared flags are flag edits");
	ok(ph->n_flag_edits == 2 && strcmp(ph->flag_edits[0].name, "USE_LEGACY_SUPABASE") == 0 &&
	   ph->flag_edits[0].line == 20, "flag edit name and line");
	ok(!has_str(rb->assignments, rb->n_assignments, "local_var=1"), "lower-case shell variables are no assignments");
	ok(ph->items[4].block && strcmp(ph->items[4].block->lang, "bash") == 0,
	   "a shell block beats an earlier sql block as the item's command");
	ok(has_warning(rb, "already has a command block"), "a second command block warns");
	is_int(ph->commands, 4, "commands: runnable blocks attached to items");
	is_int(ph->n_blocks, 9, "every block is kept in the phase");
	ok(ph->n_blocks == 9 && strstr(ph->blocks[8]->text, "not a fence end") != NULL, "a longer fence holds a shorter one");
	runbook_free(rb);
}

static void test_extras(void)
{
	runbook *rb = parse("# T\n## Phase 4: Watch\n**Goal:** stay up\n**Date:** 2025-11-06\n"
	                    "- [ ] Every 2 hours: Error logs\n- [ ] **Every day:** backups\n"
	                    "- [ ] `curl http://localhost:3000/health`\n- [ ] Health says ok (`curl http://x/health`)\n"
	                    "- [ ] **Lead Developer** - ______ Date: ____\n"
	                    "- [ ] long item\n      continued on the next line\n"
	                    "**Checkpoint:** before any step\n"
	                    "### Rollback to Phase 2\n- [ ] undo\n");
	ok(rb != NULL, "extras parse");
	if (!rb)
		return;
	const rb_phase *ph = &rb->phases[0];
	is_int(rb->n_phases, 1, "'### Rollback to Phase 2' is a step, not a phase");
	is_str(ph->goal, "stay up", "**Goal:**");
	is_str(ph->date, "2025-11-06", "**Date:**");
	is_str(ph->items[0].recurring, "2 hours", "Every 2 hours: -> recurring");
	is_str(ph->items[1].recurring, "day", "bold Every day: -> recurring");
	ok(ph->items[2].health_check, "item that is only a curl URL is a health check");
	ok(!ph->items[3].health_check, "item with more than the curl is not");
	is_str(ph->items[3].inline_code, "curl http://x/health", "first inline code kept");
	is_str(ph->items[4].text, "**Lead Developer** - ______ Date: ____", "blanks kept in the text");
	is_str(ph->items[5].detail, "continued on the next line", "continuation line is the item's detail");
	is_str(ph->checkpoint, "before any step", "checkpoint before any step belongs to the phase");
	ok(ph->n_steps == 1 && ph->steps[0].rollback && ph->items[6].rollback, "rollback step and its item");
	runbook_free(rb);
}

static void test_emoji_titles(void)
{
	runbook *rb = parse("# \xf0\x9f\x9a\x80 Title \xe2\x9c\x85\n"
	                    "## \xe2\x9c\x85 Phase 1: Done one \xe2\x9c\x85\n- [x] a\n"
	                    "## \xc3\xa2\xc5\x93\xe2\x80\xa6 Phase 2: Mojibake mark\n- [ ] b\n"
	                    "## \xe2\xac\x9c Phase 3 \xe2\x80\x94 Dash\n- [ ] c\n"
	                    "## \xe2\x9a\xa0\xef\xb8\x8f **Phase 4**\n- [ ] d\n");
	ok(rb != NULL, "emoji headings parse");
	if (!rb)
		return;
	is_str(rb->title, "Title", "emoji stripped from the # title");
	is_int(rb->n_phases, 4, "four phases");
	is_str(rb->phases[0].title, "Done one", "leading and trailing status marks stripped");
	is_str(rb->phases[1].title, "Mojibake mark", "mojibake status mark repaired and stripped");
	is_str(rb->phases[2].title, "Dash", "em dash separator after the id");
	is_str(rb->phases[3].id, "4", "bold phase heading after a warning sign with VS16");
	ok(rb->repaired_encoding && rb->repaired_lines == 1, "one repaired line counted");
	runbook_free(rb);
}

static void test_unnumbered(void)
{
	runbook *rb = load("unnumbered.md", NULL);
	ok(rb != NULL, "unnumbered fixture loads");
	if (!rb)
		return;
	is_int(rb->n_phases, 3, "every ## with checkboxes is a phase");
	ok(rb->n_phases == 3 && strcmp(rb->phases[0].id, "pre-migration-phase") == 0 &&
	   strcmp(rb->phases[1].id, "migration-execution") == 0 && strcmp(rb->phases[2].id, "sign-off") == 0,
	   "slug ids in file order");
	ok(rb->n_phases == 3 && !rb->phases[0].numbered, "slug phases are not numbered");
	ok(rb->n_sections == 2 && strcmp(rb->sections[0].title, "Overview") == 0 &&
	   strstr(rb->sections[0].text, "quarterly freeze") != NULL, "sections without checkboxes are context with text");
	is_str(rb->risk, "MEDIUM", "top-level risk kept on the runbook");
	ok(rb->n_phases == 3 && rb->phases[1].has_rollback, "'Roll back' step is a rollback");
	ok(rb->n_phases == 3 && strcmp(rb->phases[1].steps[0].at, "22:00") == 0 &&
	   rb->phases[1].steps[1].duration_min == 120, "step schedule in an unnumbered phase");
	runbook_free(rb);

	rb = parse("# T\n## Phase 1: A\n- [ ] a\n## Post-Migration (30 days)\n- [ ] watch\n## Notes\ntext\n");
	ok(rb && rb->n_phases == 2 && strcmp(rb->phases[1].id, "post-migration") == 0,
	   "later unnumbered ## with checkboxes: slug id without the parenthesis");
	is_str(rb ? rb->phases[1].duration : NULL, "30 days", "duration from the heading's parenthesis");
	runbook_free(rb);

	rb = parse("# T\n## Phase 1: A\n- [ ] a\n## Phase 1: again\n- [ ] b\n## Same\n- [ ] c\n## Same\n- [ ] d\n");
	ok(rb && has_warning(rb, "phase 1 appears again"), "duplicate phase number warns");
	ok(rb && rb->n_phases == 4 && strcmp(rb->phases[1].id, "phase-1-again") == 0 &&
	   strcmp(rb->phases[3].id, "same-2") == 0, "duplicates get unique slug ids");
	runbook_free(rb);
}

/* many equal headings: unique ids, counted on (a linear scheme, not a
 * search from -2 for every duplicate) */
static void test_many_duplicates(void)
{
	enum { DUPS = 10000 };
	strbuf b;
	sb_init(&b);
	sb_puts(&b, "# T\n## Same-3\n- [ ] taken early\n");
	for (int i = 0; i < DUPS; i++)
		sb_puts(&b, "## Same\n- [ ] x\n```bash\nFLAG=1\n```\n");
	runbook *rb = NULL;
	pgc_err e;
	ok(runbook_parse(b.buf, b.len, "dups.md", NULL, &rb, &e) == 0 && rb->n_phases == DUPS + 1,
	   "%d equal ## headings are %d phases", DUPS, DUPS);
	if (rb) {
		char want[32];
		snprintf(want, sizeof want, "same-%d", DUPS + 1);
		is_str(rb->phases[DUPS].id, want, "last duplicate's id skips the slug taken early");
		is_str(rb->phases[2].id, "same-2", "second one is same-2");
		is_str(rb->phases[3].id, "same-4", "same-3 is taken, so same-4");
		is_int(rb->n_assignments, 1, "the same assignment is collected once");
	}
	runbook_free(rb);
	sb_free(&b);
}

static void test_large_fixture(void)
{
	runbook *rb = load("large.md", NULL);
	ok(rb != NULL, "large realistic runbook loads");
	if (!rb)
		return;
	/* count checklist lines outside fences independently of the parser */
	char *path = xasprintf("%slarge.md", FIXTURES);
	FILE *f = fopen(path, "r");
	free(path);
	char line[4096];
	size_t items = 0, numbered = 0;
	bool fence = false;
	while (f && fgets(line, sizeof line, f)) {
		char *s = line + strspn(line, " \t");
		if (strncmp(s, "```", 3) == 0 || strncmp(s, "~~~", 3) == 0) {
			fence = !fence;
			continue;
		}
		if (fence)
			continue;
		if ((s[0] == '-' || s[0] == '*') && s[1] == ' ' && s[2] == '[' && strchr(s + 3, ']') &&
		    strchr(s + 3, ']') - s <= 7)
			items++;
		if (strncmp(line, "## ", 3) == 0 || strncmp(line, "### ", 4) == 0)
			if (strstr(line, "Phase ") && strchr("0123456789", strstr(line, "Phase ")[6]))
				numbered++;
	}
	if (f)
		fclose(f);
	ok(items >= 200, "fixture holds 200+ items");
	is_int(rb->n_items_total, items, "every checklist line is an item");
	size_t nnum = 0;
	for (size_t i = 0; i < rb->n_phases; i++)
		nnum += rb->phases[i].numbered;
	is_int(nnum, numbered, "every Phase N heading is a phase");
	ok(runbook_phase(rb, "0") && runbook_phase(rb, "0.8") && runbook_phase(rb, "post-migration") &&
	   runbook_phase(rb, "sign-off"), "phases 0, 0.8, post-migration, sign-off");
	is_str(runbook_phase(rb, "0") ? runbook_phase(rb, "0")->title : NULL,
	       "Baileys Session Migration", "phase 0 title without emoji and '(COMPLETED)' (issue 15 item 6)");
	const rb_phase *p5 = runbook_phase(rb, "5");
	ok(p5 && p5->has_rollback, "phase 5 has a rollback");
	ok(has_str(rb->assignments, rb->n_assignments, "USE_LEGACY_SUPABASE=true"), "rollback assignment collected");
	is_int(rb->n_dep_tables, 8, "eight tables in dependency order");
	is_int(rb->n_warnings, 0, "no warnings");
	runbook_free(rb);
}

static void test_mojibake_repair(void)
{
	struct { const char *in, *want, *name; } cases[] = {
		{"a \xc3\xa2\xe2\x80\xa0\xe2\x80\x99 b", "a \xe2\x86\x92 b", "arrow"},
		{"\xc3\xa2\xc5\x93\xe2\x80\xa6 done", "\xe2\x9c\x85 done", "check mark"},
		{"\xc3\xb0\xc5\xb8\xc5\xbd\xc2\xaf goal", "\xf0\x9f\x8e\xaf goal", "4-byte emoji"},
		{"\xc3\xa2\xc2\xac\xc5\x93 todo", "\xe2\xac\x9c todo", "white square"},
		{"\xc3\xa2\xc5\x92 failed", "\xe2\x9d\x8c failed", "byte 0x9D dropped"},
		{"\xc3\xa2\xef\xbf\xbd\xc5\x92 failed", "\xe2\x9d\x8c failed", "byte 0x9D as U+FFFD"},
		{"\xc3\xa2\xc2\x9d\xc5\x92 failed", "\xe2\x9d\x8c failed", "byte 0x9D as U+009D"},
		{"\xc3\xa2\x9d\xc5\x92 failed", "\xe2\x9d\x8c failed", "byte 0x9D passed through raw"},
		{"caf\xc3\x83\xc2\xa9", "caf\xc3\xa9", "2-byte letter"},
		{"say \xc3\xa2\xe2\x82\xac\xc5\x93hi\xc3\xa2\xe2\x82\xac now", "say \xe2\x80\x9chi\xe2\x80\x9d now",
		 "closing quote that lost 0x9D"},
		{"\xc3\xb0\xc5\xb8\xe2\x80\x98\xc2\xa8\xc3\xa2\xe2\x82\xac\xc3\xb0\xc5\xb8\xe2\x80\x99\xc2\xbb",
		 "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb", "zero-width joiner between emoji that lost 0x8D"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool changed = false;
		char *out = rb_repair_mojibake(cases[i].in, strlen(cases[i].in), &changed);
		char name[128];
		snprintf(name, sizeof name, "repair: %s", cases[i].name);
		ok(changed, "%s: changed", name);
		is_str(out, cases[i].want, name);
		free(out);
	}
	const char *good[] = {"caf\xc3\xa9 \xe2\x86\x92 na\xc3\xafve \xe2\x9c\x85", "plain ascii",
	                      "\xc3\xa9\xe2\x84\xa2x", "\xc3\x87" "a va \xe2\x82\xac" "100", "\xc3\xa2 alone"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		bool changed = true;
		char *out = rb_repair_mojibake(good[i], strlen(good[i]), &changed);
		ok(out == NULL && !changed, "correct text untouched: '%s'", good[i]);
		free(out);
	}
	bool changed;
	char *out = rb_repair_mojibake("x \xe9 y", 5, &changed);
	ok(out == NULL && !changed, "Latin-1 byte is not repairable");
	free(out);

	runbook *m = load("mojibake.md", NULL), *c = load("mojibake-clean.md", NULL);
	ok(m && c, "mojibake fixture and its clean source load");
	if (m && c) {
		ok(m->repaired_encoding && !c->repaired_encoding, "repaired_encoding only for the damaged file");
		ok(m->repaired_lines > 0, "repaired lines counted");
		size_t rep_warnings = 0;
		for (size_t i = 0; i < m->n_warnings; i++)
			rep_warnings += strstr(m->warnings[i], "repaired") != NULL;
		is_int(rep_warnings, 1, "one warning says so, once");
		is_str(m->title, c->title, "title repaired");
		bool same = m->n_phases == c->n_phases && m->n_items_total == c->n_items_total;
		for (size_t i = 0; same && i < m->n_phases; i++) {
			same = strcmp(m->phases[i].title, c->phases[i].title) == 0 &&
			       strcmp(m->phases[i].id, c->phases[i].id) == 0 &&
			       ((!m->phases[i].risk && !c->phases[i].risk) ||
			        (m->phases[i].risk && c->phases[i].risk && strcmp(m->phases[i].risk, c->phases[i].risk) == 0));
			for (size_t j = 0; same && j < m->phases[i].n_items; j++) {
				same = strcmp(m->phases[i].items[j].text, c->phases[i].items[j].text) == 0 &&
				       strcmp(m->phases[i].items[j].hash, c->phases[i].items[j].hash) == 0;
				if (!same)
					printf("# got '%s', want '%s'\n", m->phases[i].items[j].text, c->phases[i].items[j].text);
			}
		}
		ok(same, "every phase and item reads exactly as the clean source (lost bytes included)");
		ok(strcmp(m->sha256, c->sha256) != 0, "sha256 is of the bytes as read, not the repair");
	}
	runbook_free(m);
	runbook_free(c);
}

static void expect_error(const char *md, size_t len, const char *want, const char *name)
{
	runbook *rb = NULL;
	pgc_err e;
	pgc_err_clear(&e);
	int rc = runbook_parse(md, len, "bad.md", NULL, &rb, &e);
	ok(rc == -1 && rb == NULL && e.code == PGC_EXIT_DATAERR, "%s: rejected with DATAERR", name);
	ok(strstr(e.msg, want) != NULL, "%s: message '%s'", name, e.msg);
}

static void test_errors(void)
{
	static const char nul[] = "# T\n## Phase 1: A\n- [ ] a\0b\n";
	expect_error(nul, sizeof nul - 1, "bad.md:3:8: NUL byte", "NUL byte");
	static const char latin1[] = "# T\n## Phase 1: A\n- [ ] Caf\xe9\n";
	expect_error(latin1, sizeof latin1 - 1, "bad.md:3:10: invalid UTF-8", "invalid UTF-8");
	const char *s = "# T\n## Phase 1: A\n- [ ] a\n  ```bash\n  echo\n- [ ] b\n";
	expect_error(s, strlen(s), "bad.md:4:3: unterminated code fence", "unterminated fence at its opening line");
	s = "# T\nno phases\n- [ ] loose item\n## Notes\n- plain\n";
	expect_error(s, strlen(s), "bad.md:1:1: no phases", "no phases");

	rb_options small = {.max_bytes = 16};
	runbook *rb = NULL;
	pgc_err e;
	s = "# T\n## Phase 1: A\n- [ ] a\n";
	ok(runbook_parse(s, strlen(s), "big.md", &small, &rb, &e) == -1 && strstr(e.msg, "big.md:1:1:") &&
	   strstr(e.msg, "limit"), "file over max_bytes rejected: %s", e.msg);

	/* a 100 MB file (sparse) is refused before it is read */
	char tmpl[TAP_TMPL_MAX];
	int fd = mkstemp(tap_tmpl(tmpl, sizeof tmpl, "pgc-rb"));
	ok(fd >= 0 && ftruncate(fd, 100L * 1024 * 1024) == 0, "100 MB file created");
	if (fd >= 0)
		close(fd);
	rb = NULL;
	ok(runbook_load(tmpl, NULL, &rb, &e) == -1 && e.code == PGC_EXIT_DATAERR && strstr(e.msg, ":1:1:") && !rb,
	   "100 MB runbook: DATAERR with line:col: %s", e.msg);
	unlink(tmpl);

	/* 10,000-deep nesting, one more column per level: no recursion, an
	 * error at the first line deeper than RB_MAX_DEPTH */
	enum { DEEP = 10000 };
	strbuf b;
	sb_init(&b);
	sb_puts(&b, "# Deep\n## Phase 1: Deep\n");
	for (int i = 0; i < DEEP; i++) {
		for (int k = 0; k < i; k++)
			sb_putc(&b, ' ');
		sb_printf(&b, "- [ ] level %d\n", i);
	}
	rb = NULL;
	int rc = runbook_parse(b.buf, b.len, "deep.md", NULL, &rb, &e);
	char want[64];
	snprintf(want, sizeof want, "deep.md:%d:%d:", 3 + RB_MAX_DEPTH, RB_MAX_DEPTH + 1);
	ok(rc == -1 && e.code == PGC_EXIT_DATAERR && strstr(e.msg, want), "10,000-deep nesting: %s", e.msg);
	sb_free(&b);

	/* columns in messages count bytes: tabs are one */
	sb_init(&b);
	sb_puts(&b, "# Deep\n## Phase 1: Deep\n");
	for (int i = 0; i <= RB_MAX_DEPTH; i++) {
		for (int k = 0; k < i / 4; k++)
			sb_putc(&b, '\t');
		for (int k = 0; k < i % 4; k++)
			sb_putc(&b, ' ');
		sb_printf(&b, "- [ ] level %d\n", i);
	}
	rb = NULL;
	rc = runbook_parse(b.buf, b.len, "tabs.md", NULL, &rb, &e);
	snprintf(want, sizeof want, "tabs.md:%d:%d:", 3 + RB_MAX_DEPTH, RB_MAX_DEPTH / 4 + RB_MAX_DEPTH % 4 + 1);
	ok(rc == -1 && strstr(e.msg, want), "tab-indented nesting: byte column in the message: %s", e.msg);
	sb_free(&b);

	/* RB_MAX_DEPTH levels exactly are fine */
	sb_init(&b);
	sb_puts(&b, "# Deep\n## Phase 1: Deep\n");
	for (int i = 0; i < RB_MAX_DEPTH; i++) {
		for (int k = 0; k < 2 * i; k++)
			sb_putc(&b, ' ');
		sb_printf(&b, "- [ ] level %d\n", i);
	}
	rb = NULL;
	rc = runbook_parse(b.buf, b.len, "deep.md", NULL, &rb, &e);
	ok(rc == 0 && rb && rb->phases[0].items[RB_MAX_DEPTH - 1].depth == RB_MAX_DEPTH - 1,
	   "nesting of exactly RB_MAX_DEPTH levels loads");
	runbook_free(rb);
	sb_free(&b);

	const char *fixtures[] = {"malformed-unterminated-fence.md", "malformed-invalid-utf8.md",
	                          "malformed-nul.md", "malformed-no-phases.md"};
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		char *path = xasprintf("%s%s", FIXTURES, fixtures[i]);
		rb = NULL;
		pgc_err_clear(&e);
		rc = runbook_load(path, NULL, &rb, &e);
		ok(rc == -1 && e.code == PGC_EXIT_DATAERR && strncmp(e.msg, path, strlen(path)) == 0,
		   "%s: path:line:col error", fixtures[i]);
		free(path);
	}
}

static void test_many_items(void)
{
	enum { N = 10000, PHASES = 5 };
	strbuf b;
	sb_init(&b);
	sb_puts(&b, "# Big\n");
	for (int p = 1; p <= PHASES; p++) {
		sb_printf(&b, "## Phase %d: Part %d\n", p, p);
		for (int i = 0; i < N / PHASES; i++) {
			if (i % 50 == 0)
				sb_printf(&b, "### %d.%d Step\n", p, i / 50);
			sb_printf(&b, "%s- [%c] item %d of phase %d\n", i % 3 == 2 ? "  " : "", i % 4 ? ' ' : 'x', i, p);
		}
	}
	runbook *rb = NULL;
	pgc_err e;
	int rc = runbook_parse(b.buf, b.len, "big.md", NULL, &rb, &e);
	ok(rc == 0 && rb && rb->n_items_total == N, "10,000-item runbook parses completely");
	if (rb) {
		char last[32];
		snprintf(last, sizeof last, "%d.%d", PHASES, N / PHASES);
		const rb_item *it = runbook_item(rb, last, NULL);
		ok(it && strstr(it->text, "of phase 5"), "last item found by id %s", last);
	}
	runbook_free(rb);
	sb_free(&b);
}

static void test_long_detail(void)
{
	enum { LINES = 10000 };
	strbuf b;
	sb_init(&b);
	sb_puts(&b, "# T\n## Phase 1: A\n- [ ] item\n");
	for (int i = 0; i < LINES; i++)
		sb_printf(&b, "  line %d\n", i);
	sb_puts(&b, "- [ ] next\n  one line\n");
	runbook *rb = NULL;
	pgc_err e;
	ok(runbook_parse(b.buf, b.len, "d.md", NULL, &rb, &e) == 0, "item with %d continuation lines", LINES);
	if (rb) {
		const char *d = rb->phases[0].items[0].detail;
		size_t nl = 0;
		for (const char *q = d; q && *q; q++)
			nl += *q == '\n';
		ok(d && strncmp(d, "line 0\nline 1\n", 14) == 0 && nl == LINES - 1, "every line kept in the detail");
		is_str(rb->phases[0].items[1].detail, "one line", "the next item has its own detail");
	}
	runbook_free(rb);
	sb_free(&b);
}

static void test_phase_headings(void)
{
	runbook *rb = parse("# T\n## Prerequisites\n### \xf0\x9f\x94\xa7 Tooling (Phase 0.8)\n- [ ] a\n"
	                    "## PHASE 1 - Setup\n- [ ] b\n### Phase 1 checklist\n- [ ] c\n### Back to Phase 0.8 notes\n- [ ] d\n"
	                    "## Migration Phase 2: Copy\n- [ ] e\n## Phase 2a: Extra\n- [ ] f\n");
	ok(rb != NULL, "phase heading variants parse");
	if (!rb)
		return;
	ok(runbook_phase(rb, "0.8") && strcmp(runbook_phase(rb, "0.8")->title, "Tooling (Phase 0.8)") == 0,
	   "### with Phase N later in the heading, outside a ## phase, is a phase with its whole title");
	const rb_phase *p1 = runbook_phase(rb, "1");
	ok(p1 && strcmp(p1->title, "Setup") == 0, "upper-case PHASE and a dash separator");
	ok(p1 && p1->n_steps == 2 && p1->n_items == 3, "### repeating its own phase number or naming another is a step");
	ok(runbook_phase(rb, "2") && strcmp(runbook_phase(rb, "2")->title, "Migration Phase 2: Copy") == 0,
	   "## with Phase N inside the heading keeps the whole title");
	ok(runbook_phase(rb, "2a") != NULL, "letter suffix in a phase id");
	runbook_free(rb);
}

static void test_line_endings(void)
{
	runbook *rb = parse("\xef\xbb\xbf# T\r\n## Phase 1: A\r\n- [ ] a\r\n  ```bash\r\n  echo\r\n  ```\r\n");
	ok(rb && strcmp(rb->title, "T") == 0 && rb->phases[0].items[0].block &&
	   strcmp(rb->phases[0].items[0].block->text, "echo") == 0 && strcmp(rb->phases[0].items[0].text, "a") == 0,
	   "BOM and CRLF line endings");
	runbook_free(rb);
	rb = parse("# T\n## Phase 1: A\n- [ ] a\n<!-- old plan\n- [ ] hidden\n-->\n<!-- one line -->\n- [ ] b\n"
	           "<!--\n- [ ] never closed\n");
	ok(rb && rb->phases[0].n_items == 2 && strcmp(rb->phases[0].items[1].text, "b") == 0,
	   "checkboxes inside HTML comments are not items");
	ok(rb && has_warning(rb, "t.md:9:1: HTML comment never closed"), "an unclosed comment warns");
	runbook_free(rb);
	rb = parse("# T\n- [ ] outside\n## Phase 1: A\n- [ ] a\n");
	ok(rb && has_warning(rb, "t.md:2:1: checklist item outside any phase"), "item outside phases warns");
	runbook_free(rb);
}

/* Parses the first len bytes of text from a heap copy of exactly len bytes:
 * the (buf, len) contract, with nothing after the last byte to lean on
 * (ASan reports a read past it). */
static runbook *parse_exact(const char *text, size_t len, pgc_err *e)
{
	char *buf = malloc(len);
	memcpy(buf, text, len);
	runbook *rb = NULL;
	pgc_err_clear(e);
	if (runbook_parse(buf, len, "t.md", NULL, &rb, e) < 0)
		rb = NULL;
	free(buf);
	return rb;
}

/* Issue 19: the parser read past len on a last line without a newline
 * (strspn at a --- rule, and at a closing fence), and a 20-digit duration
 * overflowed an int. */
static void test_last_line_and_len(void)
{
	pgc_err e;
	/* what follows len must not count: here it would make "--- trailing"
	 * a note; within len "---" under "some text" is a setext underline, as
	 * on GitHub (issue 15 item 7): "some text" is a ## heading */
	const char *rule = "# T\n## Phase 1: A\n- [ ] a\n\nsome text\n--- trailing";
	runbook *rb = parse_exact(rule, strlen(rule) - strlen(" trailing"), &e);
	ok(rb && rb->phases[0].n_notes == 0 && rb->n_sections == 1 && strcmp(rb->sections[0].title, "some text") == 0,
	   "a --- underline on a last line without a newline is read within len");
	runbook_free(rb);
	rb = parse("# T\n## Phase 1: A\n- [ ] a\n\n---  \n");
	ok(rb && rb->phases[0].n_notes == 0, "a rule with trailing blanks is a rule");
	runbook_free(rb);
	/* ... and here it would leave the fence open */
	const char *fence = "## Phase 1: A\n- [ ] a\n  ```bash\n  true\n  ```  x";
	rb = parse_exact(fence, strlen(fence) - 1, &e);
	ok(rb && rb->phases[0].items[0].block && strcmp(rb->phases[0].items[0].block->text, "true") == 0,
	   "a closing fence on a last line without a newline closes, read within len");
	if (!rb)
		printf("# %s\n", e.msg);
	runbook_free(rb);
	rb = parse("## Phase 1: A\n- [ ] a\n  ```bash\n  true\n  ```   \n- [ ] b\n");
	ok(rb && rb->phases[0].n_items == 2, "a closing fence with trailing blanks closes");
	runbook_free(rb);
	const char *last = "## Phase 1: A\n### Stop (01:00, 5 min)\n- [ ] stop";
	rb = parse_exact(last, strlen(last), &e);
	ok(rb && rb->phases[0].n_items == 1 && strcmp(rb->phases[0].items[0].text, "stop") == 0,
	   "an item on a last line without a newline");
	runbook_free(rb);
}

static void test_duration_overflow(void)
{
	runbook *rb = parse("## Phase 1: A\n### Stop (99999999999999999999 min)\n- [ ] a\n"
	                    "### Soak (366 days)\n- [ ] b\n### Longer (367 days)\n- [ ] c\n"
	                    "### Huge (1e308 hours)\n- [ ] d\n### Short (5 min)\n- [ ] e\n");
	ok(rb && rb->phases[0].n_steps == 5, "five steps");
	if (rb && rb->phases[0].n_steps == 5) {
		const rb_step *st = rb->phases[0].steps;
		is_int(st[0].duration_min, 0, "99999999999999999999 min is no duration (it overflowed an int)");
		is_int(st[1].duration_min, 366 * 24 * 60, "366 days is a duration");
		is_int(st[2].duration_min, 0, "367 days is not");
		is_int(st[3].duration_min, 0, "1e308 hours is not");
		is_int(st[4].duration_min, 5, "5 min still is");
	}
	runbook_free(rb);
}

/* Issue 15 item 1: the words decide, then the structure, then the operator. */
static void test_rollback_classify(void)
{
	static const struct { const char *title; rb_rollback_kind want; } cases[] = {
		{"Rollback readiness", RB_ROLLBACK_WORK},
		{"Rollback Preparedness", RB_ROLLBACK_WORK},
		{"Phase 7.5 \xe2\x80\x94 Rollback rehearsal (staging only)", RB_ROLLBACK_WORK},
		{"Rollback Monitoring", RB_ROLLBACK_WORK},
		{"Plan to roll back", RB_ROLLBACK_WORK},
		{"5.4 Rollback (if needed)", RB_ROLLBACK_PROCEDURE},
		{"Emergency Rollback", RB_ROLLBACK_PROCEDURE},
		{"Rollback procedure", RB_ROLLBACK_PROCEDURE},
		{"Revert", RB_ROLLBACK_PROCEDURE},
		{"Roll back (if needed)", RB_ROLLBACK_PROCEDURE},
		{"Rollback", RB_ROLLBACK_PROCEDURE},
		{"Copy data", RB_ROLLBACK_NONE},
		{"Unrolled backups", RB_ROLLBACK_NONE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *why = NULL;
		rb_rollback_kind k = rb_rollback_classify(cases[i].title, &why);
		is_int(k, cases[i].want, cases[i].title);
		ok((k == RB_ROLLBACK_NONE) == (why == NULL), "a reason exactly when it names a rollback");
		free(why);
	}
	runbook *rb = parse("# T\n## Go/No-Go\n- [ ] lag ok\n#### Rollback\n- [ ] owner named\n"
	                    "## Phase 5: Cutover\n### Rollback readiness\n- [ ] a\n"
	                    "### Rollback (if needed)\n- [ ] b\n#### Restart\n- [ ] c\n"
	                    "### Rollback <!-- pgcutover: work -->\n- [ ] d\n"
	                    "### Readiness\n\n<!-- pgcutover: rollback -->\n- [ ] e\n");
	ok(rb != NULL, "rollback shapes parse");
	if (!rb)
		return;
	const rb_phase *g = &rb->phases[0], *p5 = &rb->phases[1];
	ok(!g->items[1].rollback && g->steps[0].rollback_kind == RB_ROLLBACK_WORK,
	   "a bare Rollback heading in a go/no-go list is work");
	ok(!p5->items[0].rollback, "Rollback readiness items count");
	ok(p5->items[1].rollback && p5->items[2].rollback, "a procedure's sub-steps are its procedure");
	ok(strstr(p5->steps[2].rollback_why, "inside rollback step") != NULL, "and say so");
	ok(!p5->items[3].rollback, "marker on the heading line: work");
	is_str(p5->steps[3].title, "Rollback", "the marker is not part of the title");
	ok(p5->items[4].rollback && p5->has_rollback, "marker under the heading: rollback");
	ok(!rb->rollback_plan, "not a rollback plan");
	runbook_free(rb);

	rb = parse("# Rollback plan\n## Emergency Rollback\n- [ ] a\n- [x] b\n");
	ok(rb && rb->rollback_plan && !rb->phases[0].items[0].rollback && !rb->phases[0].has_rollback,
	   "a file of rollback sections only is read as the work");
	ok(rb && has_warning(rb, "rollback plan"), "with a warning that says so");
	runbook_free(rb);
}

/* Issue 15 item 6: what a person reads as the title, nothing more. */
static void test_title_noise(void)
{
	runbook *rb = parse("# Payments DB move\n\n**Status:** In progress\n\n"
	                    "## Phase 1: Preparation \xe2\x9c\x85 COMPLETE\n- [x] a\n"
	                    "## Phase 2: **Data** copy (IN PROGRESS)\n"
	                    "### 2.1 Copy the **orders** table - Done\n- [ ] b\n"
	                    "### Last Review: [Date before deployment]\n"
	                    "### Sign-off: ________\n"
	                    "### Owner: TBD\n"
	                    "### 2.2 Done\n- [ ] d\n"
	                    "## Post-migration monitoring and cleanup tasks list\n- [ ] c\n"
	                    "\n---\n\n**Status:** Ready for review\n**Date:** 2026-01-01\n");
	ok(rb != NULL, "noisy titles parse");
	if (!rb)
		return;
	is_str(rb->phases[0].title, "Preparation", "'\xe2\x9c\x85 COMPLETE' is not part of the title");
	is_str(rb->phases[1].title, "Data copy", "'(IN PROGRESS)' and **bold** are not");
	is_str(rb->phases[1].steps[0].title, "2.1 Copy the orders table", "'- Done' and bold in a step");
	is_int(rb->phases[1].n_steps, 2, "blanks to fill in are not steps");
	is_str(rb->phases[1].steps[1].title, "2.2 Done", "a heading that is only a status word stays");
	ok(rb->phases[1].n_notes == 3 && strstr(rb->phases[1].notes[0], "[Date before deployment]"),
	   "the blanks are kept as notes");
	is_str(rb->phases[2].id, "post-migration-monitoring-and-cleanup", "slug cut between words");
	ok(strlen(rb->phases[2].id) <= 40, "and within 40 characters");
	ok(rb->phases[2].status == NULL, "a footer's **Status:** is not the last phase's");
	is_str(rb->status, "In progress", "the document's own status stays");
	is_str(rb->date, "2026-01-01", "the footer's date is the document's");
	runbook_free(rb);
	rb = parse("# T\n## Phase 1: A\n- [ ] a\n---\n- [ ] b\n**Risk:** HIGH\n");
	ok(rb && rb->phases[0].n_items == 2 && rb->phases[0].risk && strcmp(rb->phases[0].risk, "HIGH") == 0,
	   "items after a rule: the phase goes on, its metadata is its own");
	runbook_free(rb);
}

/* Issue 15 items 2 and 3: countdowns, 12-hour clocks, duration ranges. */
static void test_countdown_and_times(void)
{
	runbook *rb = parse("# T\n## Prep\n### T-48 Hours (2 Days Before)\n**Duration:** 30 minutes\n- [ ] a\n"
	                    "### T-2 Hours\n**Duration**: 15-30 minutes\n- [ ] b\n"
	                    "### T \xe2\x88\x92 24h\n- [ ] b2\n"
	                    "## Cutover\n### Window (8:00 AM - 2:00 PM)\n#### Stop (12:15 am, 5 min)\n- [ ] c\n"
	                    "#### Copy (2 to 4 hours)\n- [ ] d\n### T+30 min\n- [ ] e\n"
	                    "### Team (8 people)\n- [ ] f\n");
	ok(rb != NULL, "countdown runbook parses");
	if (!rb)
		return;
	const rb_step *s = rb->phases[0].steps;
	ok(s[0].has_offset && s[0].offset_min == -48 * 60, "T-48 Hours is an offset");
	is_int(s[0].duration_min, 30, "its duration is **Duration:**, not 48 h or 2 days");
	ok(s[1].offset_min == -120 && s[1].duration_min == 30 && s[1].duration_min_low == 15,
	   "15-30 minutes: both ends, the plan uses the upper");
	ok(s[2].has_offset && s[2].offset_min == -24 * 60, "T, minus sign, 24h");
	s = rb->phases[1].steps;
	is_str(s[0].window_from, "08:00", "8:00 AM");
	is_str(s[0].window_to, "14:00", "2:00 PM");
	is_str(s[1].at, "00:15", "12:15 am is 00:15");
	ok(s[2].duration_min == 240 && s[2].duration_min_low == 120, "2 to 4 hours");
	ok(s[3].has_offset && s[3].offset_min == 30 && s[3].duration_min == 0, "T+30 min: after go-time, no duration");
	ok(!s[4].has_offset && !s[4].at[0] && s[4].duration_min == 0, "'(8 people)' is no time");
	runbook_free(rb);
}

/* Issue 15 item 4: blocks that follow no item belong to their step. */
static void test_step_blocks(void)
{
	const char *flags[] = {"USE_NEW_DB", "USE_LEGACY"};
	rb_options opt = {.flags = flags, .n_flags = 2};
	pgc_err e;
	runbook *rb = parse_opt("# T\n## Phase 1: A\n### 1.1 Before the list\n```bash\necho a\n```\n- [ ] a\n"
	                        "  ```bash\n  echo item\n  ```\n"
	                        "### 1.2 No checkbox\nprose\n```yaml\nk: v\n```\n```sh\necho b\n```\n"
	                        "### 1.3 Env\nIn `.env`:\n```\nUSE_NEW_DB=true\n```\n"
	                        "### 1.4 Env by label\n```ini title=\".env\"\nUSE_LEGACY=false\n```\n"
	                        "### 1.5 Export\n- [ ] b\n  ```bash\n  export USE_LEGACY=true\n  ```\n",
	                        &opt, &e);
	ok(rb != NULL, "step blocks parse");
	if (!rb)
		return;
	const rb_phase *ph = &rb->phases[0];
	ok(ph->steps[0].block && strcmp(ph->steps[0].block->text, "echo a") == 0, "the block above the checklist is the step's");
	ok(ph->items[0].block && strcmp(ph->items[0].block->text, "echo item") == 0, "the one under the item stays the item's");
	ok(ph->steps[1].block && ph->steps[1].block->runnable && strcmp(ph->steps[1].block->text, "echo b") == 0,
	   "a step without checkboxes: its shell block wins over the yaml shown before it");
	ok(ph->steps[2].block && ph->steps[2].block->env, "after 'In `.env`:' the block is a .env block");
	ok(ph->steps[3].block && ph->steps[3].block->env && ph->steps[3].block->runnable,
	   "'.env' in the info string labels it too");
	is_str(ph->steps[0].id, "1.s1", "step ids");
	ok(runbook_step(rb, "1.s2", NULL) == &ph->steps[1] && !runbook_step(rb, "1.s9", NULL) &&
	   !runbook_step(rb, "1.2", NULL), "runbook_step finds by id");
	is_int(ph->commands, 6, "every runnable block counted once");
	is_int(ph->n_flag_edits, 3, "flag edits from .env blocks and export lines");
	ok(ph->n_flag_edits == 3 && ph->flag_edits[0].step == 2 && ph->flag_edits[2].item == 1 &&
	   strcmp(ph->flag_edits[2].name, "USE_LEGACY") == 0 && strcmp(ph->flag_edits[2].value, "true") == 0,
	   "export USE_LEGACY=true is an edit of the item's block");
	is_int(rb->n_items_total, 2, "no item invented");
	runbook_free(rb);
}

/* Issue 15 item 7: GitHub's block rules. */
static void test_gfm_blocks(void)
{
	runbook *rb = parse("Plan\n====\n\nPhase 1: A\n==========\n- [ ] a\n\nPhase 2: B\n----------\n- [ ] b\n"
	                    "> - [ ] quoted\n>> - [x] twice quoted\n\n    - [ ] code\n\n- [ ] c\n    - [ ] nested\n"
	                    "\ntext\n---\n- [ ] d\n");
	ok(rb != NULL, "setext, quotes, indented code parse");
	if (!rb)
		return;
	is_str(rb->title, "Plan", "setext = title");
	ok(rb->n_phases >= 2 && strcmp(rb->phases[0].id, "1") == 0 && rb->phases[0].n_items == 1,
	   "'Phase 1' over ==== is a phase with its item");
	ok(rb->n_phases >= 2 && strcmp(rb->phases[1].id, "2") == 0 && rb->phases[1].level == 2, "'Phase 2' over ---- is a ## phase");
	const rb_phase *p2 = rb->n_phases >= 2 ? &rb->phases[1] : NULL;
	ok(p2 && p2->n_items == 5, "quoted items count, the 4-space one does not");
	ok(p2 && p2->n_items == 5 && strcmp(p2->items[1].text, "quoted") == 0 &&
	   strcmp(p2->items[2].text, "twice quoted") == 0 && p2->items[2].mark == RB_MARK_DONE,
	   "items in (nested) block quotes");
	ok(p2 && p2->n_items == 5 && strcmp(p2->items[4].text, "nested") == 0 && p2->items[4].parent == 3,
	   "four spaces under an item: a sub-item");
	ok(rb->n_phases == 3 && strcmp(rb->phases[2].title, "text") == 0 && rb->phases[2].n_items == 1,
	   "text over --- is a ## section (a slug phase here)");
	runbook_free(rb);
}

int main(void)
{
	test_small_example();
	test_ids_and_hashes();
	test_marks_and_bullets();
	test_nesting();
	test_blocks();
	test_extras();
	test_emoji_titles();
	test_unnumbered();
	test_large_fixture();
	test_mojibake_repair();
	test_errors();
	test_many_items();
	test_many_duplicates();
	test_long_detail();
	test_phase_headings();
	test_line_endings();
	test_last_line_and_len();
	test_duration_overflow();
	test_rollback_classify();
	test_title_noise();
	test_countdown_and_times();
	test_step_blocks();
	test_gfm_blocks();
	return done_testing();
}
