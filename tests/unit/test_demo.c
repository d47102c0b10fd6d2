/*
 * test_demo.c -- the parts of core/demo.c that run without a server, in
 * real temporary directories: the compiled-in assets are the files in
 * examples/, demo_open() makes --dir absolute and names a missing parent,
 * demo_write_files() writes the runbook, config and app.env with their
 * modes and keeps an operator's edits, the config holds no secret and
 * loads, a directory that is not a demo is refused, and demo_stop() tears
 * down a half-made directory (and touches nothing without the marker).
 * The servers themselves: tests/integration/demo_*.sh.
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cJSON.h>
#include "pgcutover/demo.h"
#include "pgcutover/config.h"
#include "tap.h"

static char *read_all(const char *path)
{
	char *text = NULL;
	size_t len;
	pgc_err e;
	return pgc_read_file(path, 0, &text, &len, &e) == 0 ? text : NULL;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void test_assets(void)
{
	const char *srcdir = getenv("top_srcdir") ? getenv("top_srcdir") : PGC_SRCDIR;
	const char *const names[] = {"booking-runbook.md", "demo-schema.sql", "demo-data.sql", NULL};
	for (int i = 0; names[i]; i++) {
		const struct pgc_asset *a = demo_asset(names[i]);
		char *path = xasprintf("%s/examples/%s", srcdir, names[i]);
		char *file = read_all(path);
		ok(a && file && a->len == strlen(file) && memcmp(a->data, file, a->len) == 0,
		   "asset %s is examples/%s as compiled in", names[i], names[i]);
		free(file);
		free(path);
	}
	ok(demo_asset("no-such-asset") == NULL, "an unknown asset is NULL");
}

static void capture(void *arg, const char *line)
{
	sb_puts(arg, line);
}

static void test_open(const char *tmp)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd) || chdir(tmp) < 0) {
		ok(0, "chdir %s", tmp);
		return;
	}
	demo d = {0};
	pgc_err e = {0};
	ok(demo_open(&d, "rel-demo/", DEMO_DEFAULT_ROWS, false, &e) == 0, "--dir relative: opens");
	char real[PATH_MAX];
	char *want = xasprintf("%s/rel-demo", realpath(tmp, real) ? real : tmp);
	is_str(d.dir, want, "--dir is made absolute, trailing slash dropped");
	ok(d.explicit_dir && !d.rows_given && d.rows == DEMO_DEFAULT_ROWS, "the options are kept");
	ok(!exists("rel-demo"), "opening creates nothing");
	demo_free(&d);
	free(want);

	d = (demo){0};
	ok(demo_open(&d, "no-parent/demo", 500, true, &e) < 0, "--dir under a missing parent: an error");
	ok(strstr(e.msg, "no-parent") != NULL, "naming the parent: %s", e.msg);
	demo_free(&d);

	d = (demo){0};
	ok(demo_open(&d, NULL, 500, true, &e) == 0 && !d.explicit_dir, "no --dir: a default");
	char *base = xasprintf("/" DEMO_DIR_PREFIX "%ld", (long)geteuid());
	size_t bl = strlen(base), dl = d.dir ? strlen(d.dir) : 0;
	ok(d.dir && d.dir[0] == '/' && dl > bl && strcmp(d.dir + dl - bl, base) == 0,
	   "the default ends in " DEMO_DIR_PREFIX "UID: %s", d.dir ? d.dir : "(null)");
	demo_free(&d);
	free(base);
	if (chdir(cwd) < 0)
		ok(0, "chdir back");
}

/* Writes a marker as demo leaves it when interrupted. */
static void half_made(const char *dir, bool created_dir)
{
	char *pg = xasprintf("%s/pg/source", dir);
	char *cmd = xasprintf("mkdir -p '%s'", pg);
	if (system(cmd) != 0)
		ok(0, "%s", cmd);
	char *marker = xasprintf("%s/" DEMO_MARKER, dir);
	char *text = xasprintf("version=1\ncreated_dir=%d\nrows=100\ncomplete=0\n", created_dir);
	char *junk = xasprintf("%s/PG_VERSION.part", pg);
	pgc_err e;
	pgc_write_file_atomic(marker, text, strlen(text), 0644, 0, &e);
	pgc_write_file_atomic(junk, "1", 1, 0644, 0, &e);
	free(junk); free(text); free(marker); free(cmd); free(pg);
}

static void test_files_and_stop(const char *tmp)
{
	demo d = {0};
	pgc_err e = {0};
	char *dir = xasprintf("%s/files demo", tmp);
	mkdir(dir, 0700);
	demo_open(&d, dir, 100, false, &e);
	if (demo_clusters(&d, &e) < 0) {
		printf("ok %d # skip no PostgreSQL server binaries: %s\n", ++tap_n, e.msg);
		demo_free(&d);
		free(dir);
		return;
	}
	char *pg = xasprintf("%s/pg", d.dir);
	is_str(d.pgdir, pg, "the clusters live in DIR/pg");
	ok(d.src.port == DEMO_SOURCE_PORT && d.dst.port == DEMO_TARGET_PORT, "on the demo's ports");
	ok(d.src_ci && strstr(d.src_ci, pg) && d.dst_ci && strstr(d.dst_ci, pg),
	   "both conninfos name the socket directory");

	char *text = demo_config_text(&d);
	ok(strstr(text, "password") == NULL && strstr(text, "PGPASSWORD") == NULL,
	   "the config text holds no password");
	config *c = NULL;
	char *cfg = xasprintf("%s/" DEMO_CONFIG_FILE, d.dir);
	ok(config_parse(text, strlen(text), cfg, &c, &e) == 0, "the config loads");
	config_free(c);

	mode_t old = umask(0);
	ok(demo_write_files(&d, &e) == 0, "the files are written");
	umask(old);
	char *rb = xasprintf("%s/" DEMO_RUNBOOK_FILE, d.dir);
	char *env = xasprintf("%s/" DEMO_ENV_FILE, d.dir);
	char *rbtext = read_all(rb), *cfgtext = read_all(cfg), *envtext = read_all(env);
	const struct pgc_asset *a = demo_asset("booking-runbook.md");
	ok(rbtext && a && strcmp(rbtext, a->data) == 0, "runbook.md is the compiled-in runbook");
	is_str(cfgtext, text, "pgcutover.json is the config text");
	ok(mode_of(cfg) == 0644 && mode_of(rb) == 0644, "config and runbook are 0644");
	is_int(mode_of(env), 0600, "app.env is 0600, as a real one holding secrets");
	ok(envtext && strstr(envtext, pg) != NULL, "app.env points at the target's socket directory");
	free(rbtext);
	free(cfgtext);

	/* A re-run keeps what the operator edited. */
	pgc_write_file_atomic(rb, "# mine\n", 7, 0644, 0, &e);
	unlink(env);
	ok(demo_write_files(&d, &e) == 0, "written again");
	rbtext = read_all(rb);
	is_str(rbtext, "# mine\n", "an edited runbook.md is kept");
	ok(exists(env), "a missing app.env is written again");
	free(rbtext);
	free(envtext);

	/* Not a demo: demo_create refuses before making anything. */
	demo_outcome out;
	ok(demo_create(&d, &out, &e) < 0 && e.code == PGC_EXIT_CANTCREAT &&
	   strstr(e.msg, "is not a demo directory"), "a directory with files but no marker is refused");
	ok(!exists(pg), "and nothing is made in it");

	/* demo_stop without a marker: nothing touched. */
	strbuf said;
	sb_init(&said);
	d.say = capture;
	d.say_arg = &said;
	ok(demo_stop(&d, &out, &e) == 0 && out == DEMO_NOTHING_TO_STOP, "no marker: nothing to stop");
	ok(exists(rb) && exists(cfg), "the files are still there");
	ok(said.buf && strstr(said.buf, "nothing to stop"), "and says so");
	demo_free(&d);

	/* A half-made demo in a directory it did not make: emptied, kept. */
	half_made(dir, false);
	d = (demo){.say = capture, .say_arg = &said};
	demo_open(&d, dir, 100, false, &e);
	pgc_err_clear(&e);
	ok(demo_stop(&d, &out, &e) == 0 && out == DEMO_STOPPED, "a half-made demo is stopped%s%s",
	   *e.msg ? ": " : "", e.msg);
	ok(exists(dir) && !exists(pg) && !exists(rb), "its contents are removed, the directory kept");
	demo_free(&d);

	/* One it made: removed with the directory. */
	half_made(dir, true);
	d = (demo){0};
	demo_open(&d, dir, 100, false, &e);
	ok(demo_stop(&d, &out, &e) == 0 && out == DEMO_STOPPED, "a half-made demo demo made: stopped");
	ok(!exists(dir), "the directory is removed");
	demo_free(&d);

	/* The guide quotes the path with a space for a shell. */
	d = (demo){0};
	demo_open(&d, dir, 100, false, &e);
	demo_clusters(&d, &e);
	char *guide = demo_guide(&d), *left = demo_left_running(&d);
	char *quoted = xasprintf("-c '%s/" DEMO_CONFIG_FILE "'", d.dir);
	ok(strstr(guide, quoted) != NULL, "the guide quotes the config path for a shell");
	ok(strstr(guide, "demo --stop --dir '") != NULL, "and says how to stop this --dir");
	ok(strstr(left, d.pgdir) && strstr(left, quoted), "left running: where, and how to reopen");
	free(quoted); free(guide); free(left);
	demo_free(&d);

	sb_free(&said);
	free(text); free(cfg); free(rb); free(env); free(pg); free(dir);
}

int main(void)
{
	char tmpl[TAP_TMPL_MAX];
	char *tmp = mkdtemp(tap_tmpl(tmpl, sizeof tmpl, "pgc-test-demo"));
	if (!tmp) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	test_assets();
	test_open(tmp);
	test_files_and_stop(tmp);
	char *cmd = xasprintf("rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp);
	free(cmd);
	return done_testing();
}
