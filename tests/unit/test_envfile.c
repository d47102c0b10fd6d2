/* test_envfile.c -- .env reading and atomic flag edits (envfile.c). */
#include "config.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pgcutover/envfile.h"
#include "tap.h"

static const char sample[] =
	"# App settings\n"
	"\n"
	"DATABASE_URL=postgres://app@db/app\n"
	"export USE_LEGACY_SUPABASE=true   # flipped on cutover night\n"
	"GREETING=\"hello world\"\n"
	"SINGLE='a b'\n"
	"ESCAPED=\"say \\\"hi\\\"\"\n"
	"  SPACED = value  \n"
	"not an assignment\n"
	"DUP=1\n"
	"DUP=2\n";

static void test_parse(void)
{
	envfile *ef = envfile_parse("x/.env", sample, strlen(sample));
	is_str(envfile_get(ef, "DATABASE_URL"), "postgres://app@db/app", "plain value");
	is_str(envfile_get(ef, "USE_LEGACY_SUPABASE"), "true", "export prefix and inline comment");
	is_str(envfile_get(ef, "GREETING"), "hello world", "double quotes removed");
	is_str(envfile_get(ef, "SINGLE"), "a b", "single quotes removed");
	is_str(envfile_get(ef, "ESCAPED"), "say \"hi\"", "escapes resolved in double quotes");
	is_str(envfile_get(ef, "SPACED"), "value", "spaces around = and value trimmed");
	is_str(envfile_get(ef, "DUP"), "2", "last duplicate wins");
	ok(envfile_get(ef, "not") == NULL, "a line without = is not an entry");
	ok(envfile_get(ef, "App") == NULL, "a comment is not an entry");
	envfile_free(ef);
}

static void test_render(void)
{
	char *old = NULL;
	char *out = envfile_render_set(sample, strlen(sample), "USE_LEGACY_SUPABASE", "false", &old);
	is_str(old, "true", "old value returned");
	ok(strstr(out, "export USE_LEGACY_SUPABASE=false   # flipped on cutover night\n") != NULL,
	   "export and trailing comment kept");
	size_t before = (size_t)(strstr(sample, "export") - sample);
	ok(strncmp(out, sample, before) == 0, "lines before untouched");
	is_int((long long)strlen(out), (long long)strlen(sample) + 1, "only the value bytes changed");
	free(old);
	free(out);

	out = envfile_render_set(sample, strlen(sample), "GREETING", "bye now", &old);
	ok(strstr(out, "GREETING=\"bye now\"\n") != NULL, "double-quote style kept");
	free(old);
	free(out);

	out = envfile_render_set(sample, strlen(sample), "DUP", "3", &old);
	ok(strstr(out, "DUP=3\nDUP=3\n") != NULL, "every duplicate line rewritten");
	free(old);
	free(out);

	out = envfile_render_set("A=1", 3, "NEW_FLAG", "on", &old);
	is_str(out, "A=1\nNEW_FLAG=on\n", "missing key appended after a newline");
	ok(old == NULL, "no old value for a new key");
	free(out);

	out = envfile_render_set("", 0, "X", "a#b c", &old);
	is_str(out, "X=\"a#b c\"\n", "value needing quotes gets them");
	free(out);
	free(old);
}

static int count_backups(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strstr(de->d_name, ".env" ENVFILE_BACKUP_INFIX))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_set_on_disk(void)
{
	char dir[] = "/tmp/pgc-envfile-XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	char *path = xasprintf("%s/.env", dir);
	FILE *f = fopen(path, "w");
	fputs(sample, f);
	fclose(f);
	chmod(path, 0640);

	envfile *ef;
	pgc_err e = {0};
	ok(envfile_load(path, &ef, &e) == 0, "load");
	envfile_stamp seen = ef->stamp;
	ok(seen.exists && seen.size == (int64_t)strlen(sample), "stamp has size");
	envfile_free(ef);

	envfile_set_result r;
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "false", &seen, &r, &e) == 0, "set with matching stamp");
	is_str(r.old_value, "true", "set reports old value");
	is_str(r.new_value, "false", "set reports new value");
	ok(r.changed, "changed");
	ok(r.backup_path != NULL && access(r.backup_path, F_OK) == 0, "backup file exists");
	struct stat sb;
	stat(path, &sb);
	is_int(sb.st_mode & 07777, 0640, "mode kept");
	if (r.backup_path) {
		char *bak;
		size_t blen;
		pgc_read_file(r.backup_path, 0, &bak, &blen, &e);
		ok(blen == strlen(sample) && memcmp(bak, sample, blen) == 0, "backup holds previous bytes");
		free(bak);
		stat(r.backup_path, &sb);
		is_int(sb.st_mode & 07777, 0640, "backup has the same mode");
	}
	ok(!envfile_stamp_equal(&seen, &r.after), "stamp after differs");
	envfile_stamp after = r.after;
	envfile_set_result_free(&r);

	ok(envfile_load(path, &ef, &e) == 0 && strcmp(envfile_get(ef, "USE_LEGACY_SUPABASE"), "false") == 0,
	   "new value read back");
	ok(ef && strstr(ef->text, "# flipped on cutover night") != NULL, "comment kept on disk");
	envfile_free(ef);

	/* Same value again: nothing written, no backup. */
	int nb = count_backups(dir);
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "false", &after, &r, &e) == 0 && !r.changed,
	   "unchanged value is a no-op");
	is_int(count_backups(dir), nb, "no backup for a no-op");
	envfile_set_result_free(&r);

	/* Someone edits the file behind our back. */
	f = fopen(path, "a");
	fputs("MANUAL=1\n", f);
	fclose(f);
	pgc_err_clear(&e);
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "true", &after, &r, &e) < 0, "stale stamp refused");
	is_int(e.code, PGC_EXIT_TEMPFAIL, "refusal is TEMPFAIL");
	ok(strstr(e.msg, "behind") != NULL, "message says changed behind our back");
	ok(envfile_load(path, &ef, &e) == 0 && strcmp(envfile_get(ef, "USE_LEGACY_SUPABASE"), "false") == 0,
	   "refused set changed nothing");
	envfile_free(ef);

	/* No stamp: read-modify-write of the current file keeps the manual line. */
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "true", NULL, &r, &e) == 0, "set without stamp");
	envfile_set_result_free(&r);
	ok(envfile_load(path, &ef, &e) == 0 && envfile_get(ef, "MANUAL") != NULL, "manual edit kept");
	envfile_free(ef);

	/* A write killed with -9 leaves its temporary file (.NAME.pgcutover-
	 * and six characters); the next write removes it, and nothing else. */
	char *stale = xasprintf("%s/..env" ENVFILE_TEMP_INFIX "a1b2c3", dir);
	char *other = xasprintf("%s/..env" ENVFILE_TEMP_INFIX "a1b2c3.keep", dir);
	f = fopen(stale, "w");
	fputs("USE_LEGACY_SUPABASE=half", f);
	fclose(f);
	f = fopen(other, "w");
	fclose(f);
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "false", NULL, &r, &e) == 0, "set with a stale temporary file beside it");
	envfile_set_result_free(&r);
	ok(access(stale, F_OK) != 0, "the killed write's temporary file is removed");
	ok(access(other, F_OK) == 0, "a file that only starts like one is kept");
	free(stale);
	free(other);

	/* Missing file: created 0600. */
	char *p2 = xasprintf("%s/new.env", dir);
	ok(envfile_set(p2, "FLAG", "1", NULL, &r, &e) == 0 && r.old_value == NULL && r.backup_path == NULL,
	   "set on a missing file creates it");
	envfile_set_result_free(&r);
	stat(p2, &sb);
	is_int(sb.st_mode & 07777, ENVFILE_NEW_MODE, "new file is private");
	ok(envfile_set(p2, "BAD NAME", "1", NULL, &r, &e) < 0, "invalid name refused");
	ok(envfile_set(p2, "FLAG", "a\nB=2", NULL, &r, &e) < 0, "multi-line value refused");

	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	free(p2);
	free(path);
}

static void test_secret_names(void)
{
	ok(envfile_name_is_secret("DB_PASSWORD"), "DB_PASSWORD is secret");
	ok(envfile_name_is_secret("SUPABASE_SERVICE_KEY"), "..._KEY is secret");
	ok(envfile_name_is_secret("github_token"), "case-insensitive");
	ok(!envfile_name_is_secret("USE_LEGACY_SUPABASE"), "a flag is not secret");
}

int main(void)
{
	test_parse();
	test_render();
	test_set_on_disk();
	test_secret_names();
	return done_testing();
}
