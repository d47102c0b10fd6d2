/*
 * test_init.c -- init_write_config() in real temporary directories: a fresh
 * init writes the config with INIT_FILE_MODE and what the runbook says; a
 * second init refuses (exists) and leaves the file as it was, --force
 * overwrites; a directory that cannot be written gives an error naming the
 * path; and init_outcome_json() reports what was written.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cJSON.h>
#include "pgcutover/init.h"
#include "pgcutover/config.h"
#include "pgcutover/fkorder.h"
#include "tap.h"

/* The runbook the tests init: two tables in a dependency list, a flag, a
 * shell variable, a health item and the point of no return. */
static const char runbook_text[] =
	"# Test migration\n\n"
	"## Phase 1: Copy\n\n"
	"### 1.1 Copy data\n\n"
	"- [ ] Copy in dependency order:\n"
	"  - [ ] customers (10 records)\n"
	"  - [ ] orders (20 records) - Depends on customers\n"
	"- [ ] Switch over\n"
	"  ```bash\n"
	"  USE_NEW_DB=true\n"
	"  BACKUP_FILE=dump_$(date +%F).sql\n"
	"  ```\n\n"
	"**Checkpoint:** point of no return\n\n"
	"### 1.2 Check\n\n"
	"- [ ] `curl http://localhost:8080/health`\n";

static char *read_all(const char *path)
{
	char *text = NULL;
	size_t len;
	pgc_err e;
	return pgc_read_file(path, 0, &text, &len, &e) == 0 ? text : NULL;
}

static bool has_name(const init_names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

static void test_fresh(const char *dir, const char *rb)
{
	char *out = xasprintf("%s/ops", dir);
	mkdir(out, 0755);
	init_options o = {.runbook_path = rb, .out = out};
	init_outcome r;
	pgc_err e = {0};
	mode_t old = umask(0);
	int rc = init_write_config(&o, &r, &e);
	umask(old);
	is_int(rc, 0, "fresh init writes");
	char *want = xasprintf("%s/" CFG_DEFAULT_NAME, out);
	is_str(r.config_path, want, "a directory as -o means DIR/pgcutover.json");
	ok(r.written && !r.exists, "the outcome says written");
	struct stat st;
	ok(stat(want, &st) == 0 && (st.st_mode & 07777) == INIT_FILE_MODE,
	   "the file has mode %o whatever the umask", INIT_FILE_MODE);
	is_str(r.runbook, "../runbook.md", "runbook relative to the config's directory");
	ok(r.tables.n == 2 && strcmp(r.tables.v[0], "customers") == 0 &&
	   strcmp(r.tables.v[1], "orders") == 0, "tables in dependency order");
	ok(has_name(&r.flags, "USE_NEW_DB") && !has_name(&r.flags, "BACKUP_FILE"),
	   "a boolean NAME=VALUE is a flag, a shell variable is not");
	ok(has_name(&r.not_flags, "BACKUP_FILE"), "the shell variable is reported as left out");
	ok(has_name(&r.health, "http://localhost:8080/health"), "the curl item is a health check");
	ok(r.point_of_no_return != NULL, "the point of no return is named");

	/* What was written loads and says the same. */
	char *text = read_all(want);
	config *c = NULL;
	ok(text && config_parse(text, strlen(text), want, &c, &e) == 0, "the written config loads");
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	cJSON *src = cJSON_GetObjectItem(j, "source"), *tbl = cJSON_GetObjectItem(j, "tables");
	is_str(cJSON_GetStringValue(src), INIT_SOURCE_PLACEHOLDER, "source is the placeholder");
	is_int(cJSON_GetArraySize(tbl), (long long)r.tables.n, "the file holds the outcome's tables");
	cJSON_Delete(j);
	config_free(c);

	/* --json: the outcome as an object. */
	char *js = init_outcome_json(&r);
	cJSON *oj = cJSON_Parse(js);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(oj, "config")), want, "json: config");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(oj, "runbook")), r.runbook, "json: runbook");
	is_int((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(oj, "phases")), (long long)r.n_phases,
	       "json: phases");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(oj, "flags")), (long long)r.flags.n, "json: flags");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(oj, "not_flags")), (long long)r.not_flags.n,
	       "json: not_flags");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(oj, "point_of_no_return")),
	       r.point_of_no_return, "json: point_of_no_return");
	ok(strstr(js, "password") == NULL, "json: no password anywhere");
	cJSON_Delete(oj);
	free(js);
	init_outcome_free(&r);

	/* Again: refused, file untouched; with force: written. */
	FILE *f = fopen(want, "w");
	if (f) {
		fputs("{\"runbook\": \"edited.md\"}\n", f);
		fclose(f);
	}
	char *before = read_all(want);
	pgc_err_clear(&e);
	rc = init_write_config(&o, &r, &e);
	ok(rc < 0 && r.exists && !r.written, "a second init refuses: exists");
	is_int(e.code, PGC_EXIT_CANTCREAT, "the refusal's exit code");
	ok(strstr(e.msg, want) && strstr(e.msg, "already exists"), "the refusal names the file: %s", e.msg);
	char *after = read_all(want);
	is_str(after, before, "the existing file is not overwritten");
	init_outcome_free(&r);
	free(after);
	o.force = true;
	rc = init_write_config(&o, &r, &e);
	after = read_all(want);
	ok(rc == 0 && r.written && after && strcmp(after, before) != 0, "force overwrites");
	init_outcome_free(&r);
	free(after);
	free(before);
	free(text);
	free(want);
	free(out);
}

static void test_cannot_write(const char *dir, const char *rb)
{
	/* A parent that is a file: no one can create in it, root included. */
	char *file = xasprintf("%s/plain", dir);
	char *out = xasprintf("%s/pgcutover.json", file);
	close(open(file, O_WRONLY | O_CREAT, 0644));
	init_options o = {.runbook_path = rb, .out = out};
	init_outcome r;
	pgc_err e = {0};
	int rc = init_write_config(&o, &r, &e);
	ok(rc < 0 && !r.written && !r.exists, "a file as the directory: an error");
	ok(strstr(e.msg, out) != NULL, "the error names the path: %s", e.msg);
	init_outcome_free(&r);
	free(out);

	/* A read-only directory (root writes anyway: then there is no test). */
	char *ro = xasprintf("%s/ro", dir);
	mkdir(ro, 0555);
	chmod(ro, 0555);
	if (access(ro, W_OK) == 0) {
		printf("ok %d # skip a read-only directory is writable for this user\n", ++tap_n);
	} else {
		o.out = out = xasprintf("%s/pgcutover.json", ro);
		pgc_err_clear(&e);
		rc = init_write_config(&o, &r, &e);
		ok(rc < 0 && e.code == PGC_EXIT_CANTCREAT, "a read-only directory: cannot create");
		ok(strstr(e.msg, ro) != NULL, "the error names the directory: %s", e.msg);
		ok(access(out, F_OK) != 0, "nothing written");
		init_outcome_free(&r);
		free(out);
	}
	chmod(ro, 0755);
	free(ro);
	free(file);
}

static void test_no_runbook(const char *dir)
{
	char *rb = xasprintf("%s/missing.md", dir);
	char *out = xasprintf("%s/none.json", dir);
	init_options o = {.runbook_path = rb, .out = out};
	init_outcome r;
	pgc_err e = {0};
	ok(init_write_config(&o, &r, &e) < 0 && strstr(e.msg, rb), "a missing runbook is named: %s", e.msg);
	ok(access(out, F_OK) != 0, "and no config is written");
	init_outcome_free(&r);
	free(rb);
	free(out);
}

/* fk_sort without a server: referenced tables first, ties by the order
 * given, cycles named and placed last (issue 15 item 5). */
static void test_fk_sort(void)
{
	char *names[] = {"a_orders", "b_customers", "c_items", "d_x", "e_y", "f_after_cycle", "g_alone"};
	/* child -> parent: orders -> customers, items -> orders, x <-> y, after -> x */
	const size_t edges[][2] = {{0, 1}, {2, 0}, {3, 4}, {4, 3}, {5, 3}};
	fk_order o;
	fk_sort(names, 7, edges, 5, &o);
	strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; i < o.n_tables; i++)
		sb_printf(&sb, "%s%s", i ? "," : "", o.tables[i]);
	is_str(sb.buf, "b_customers,a_orders,c_items,g_alone,d_x,e_y,f_after_cycle",
	       "referenced first; the cycle and what hangs on it last");
	ok(o.n_cycles == 1 && strcmp(o.cycles[0], "d_x -> e_y -> d_x") == 0, "the cycle named once");
	sb_free(&sb);
	fk_order_free(&o);
	fk_sort(names, 0, edges, 0, &o);
	ok(o.n_tables == 0 && o.n_cycles == 0, "no tables: nothing");
	fk_order_free(&o);
}

int main(void)
{
	char tmpl[TAP_TMPL_MAX];
	test_fk_sort();
	char *dir = mkdtemp(tap_tmpl(tmpl, sizeof tmpl, "pgc-test-init"));
	if (!dir) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	char *rb = xasprintf("%s/runbook.md", dir);
	pgc_err e = {0};
	if (pgc_write_file_atomic(rb, runbook_text, strlen(runbook_text), 0644, 0, &e) < 0)
		ok(0, "write the runbook: %s", e.msg);
	test_fresh(dir, rb);
	test_cannot_write(dir, rb);
	test_no_runbook(dir);
	free(rb);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	return done_testing();
}
