/*
 * test_envfile.c -- .env reading and atomic flag edits (envfile.c): the
 * dotenv/shell reading rules, files refused with file:line:col (a NUL,
 * invalid UTF-8, an unclosed quote), lines too irregular to rewrite, values
 * written so that /bin/sh and python-dotenv read them back exactly, and the
 * backups (0600, the newest N kept).  Cases the fuzzer found are at the end.
 */
#include "config.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgcutover/envfile.h"
#include "tap.h"

/* envfile_parse, or NULL (the message in *e). */
static envfile *parse(const char *text, size_t len, pgc_err *e)
{
	envfile *ef = NULL;
	pgc_err_clear(e);
	if (envfile_parse("x/.env", text, len, &ef, e) < 0)
		return NULL;
	return ef;
}

/* text with key set to value, or NULL with the message in *e. */
static char *render(const char *text, const char *key, const char *value, char **old, pgc_err *e)
{
	envfile *ef = parse(text, strlen(text), e);
	if (!ef)
		return NULL;
	char *out;
	size_t n;
	int rc = envfile_render_set(ef, key, value, &out, &n, old, e);
	envfile_free(ef);
	return rc < 0 ? NULL : out;
}

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
	pgc_err e = {0};
	envfile *ef = parse(sample, strlen(sample), &e);
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
	pgc_err e = {0};
	char *old = NULL;
	char *out = render(sample, "USE_LEGACY_SUPABASE", "false", &old, &e);
	is_str(old, "true", "old value returned");
	ok(out && strstr(out, "export USE_LEGACY_SUPABASE=false   # flipped on cutover night\n") != NULL,
	   "export and trailing comment kept");
	size_t before = (size_t)(strstr(sample, "export") - sample);
	ok(out && strncmp(out, sample, before) == 0, "lines before untouched");
	is_int(out ? (long long)strlen(out) : -1, (long long)strlen(sample) + 1, "only the value bytes changed");
	free(old);
	free(out);

	out = render(sample, "GREETING", "bye now", &old, &e);
	ok(out && strstr(out, "GREETING=\"bye now\"\n") != NULL, "double-quote style kept");
	free(old);
	free(out);

	out = render(sample, "DUP", "3", &old, &e);
	ok(out && strstr(out, "DUP=3\nDUP=3\n") != NULL, "every duplicate line rewritten");
	free(old);
	free(out);

	out = render("A=1", "NEW_FLAG", "on", &old, &e);
	is_str(out, "A=1\nNEW_FLAG=on\n", "missing key appended after a newline");
	ok(old == NULL, "no old value for a new key");
	free(out);

	out = render("", "X", "a#b c", &old, &e);
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
	char dir[TAP_TMPL_MAX];
	if (!mkdtemp(tap_tmpl(dir, sizeof dir, "pgc-envfile"))) {
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
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "false", &seen, 0, &r, &e) == 0, "set with matching stamp");
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
		is_int(sb.st_mode & 07777, ENVFILE_BACKUP_MODE, "backup is private (0600), not the file's 0640");
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
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "false", &after, 0, &r, &e) == 0 && !r.changed,
	   "unchanged value is a no-op");
	is_int(count_backups(dir), nb, "no backup for a no-op");
	envfile_set_result_free(&r);

	/* Someone edits the file behind our back. */
	f = fopen(path, "a");
	fputs("MANUAL=1\n", f);
	fclose(f);
	pgc_err_clear(&e);
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "true", &after, 0, &r, &e) < 0, "stale stamp refused");
	is_int(e.code, PGC_EXIT_TEMPFAIL, "refusal is TEMPFAIL");
	ok(strstr(e.msg, "behind") != NULL, "message says changed behind our back");
	ok(envfile_load(path, &ef, &e) == 0 && strcmp(envfile_get(ef, "USE_LEGACY_SUPABASE"), "false") == 0,
	   "refused set changed nothing");
	envfile_free(ef);

	/* No stamp: read-modify-write of the current file keeps the manual line. */
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "true", NULL, 0, &r, &e) == 0, "set without stamp");
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
	ok(envfile_set(path, "USE_LEGACY_SUPABASE", "false", NULL, 0, &r, &e) == 0, "set with a stale temporary file beside it");
	envfile_set_result_free(&r);
	ok(access(stale, F_OK) != 0, "the killed write's temporary file is removed");
	ok(access(other, F_OK) == 0, "a file that only starts like one is kept");
	free(stale);
	free(other);

	/* Missing file: created 0600. */
	char *p2 = xasprintf("%s/new.env", dir);
	ok(envfile_set(p2, "FLAG", "1", NULL, 0, &r, &e) == 0 && r.old_value == NULL && r.backup_path == NULL,
	   "set on a missing file creates it");
	envfile_set_result_free(&r);
	stat(p2, &sb);
	is_int(sb.st_mode & 07777, ENVFILE_NEW_MODE, "new file is private");
	ok(envfile_set(p2, "BAD NAME", "1", NULL, 0, &r, &e) < 0, "invalid name refused");
	ok(envfile_set(p2, "FLAG", "a\nB=2", NULL, 0, &r, &e) < 0, "multi-line value refused");

	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	free(p2);
	free(path);
}

/* Issue 19 item 1: a NUL (and what else no reader agrees on) is refused
 * with file:line:col, not read up to the NUL. */
static void test_refused_files(void)
{
	static const struct { const char *text; size_t len; const char *where, *why; } cases[] = {
		{"FLAG=1\nA=2\0junk\nKEEP=me\n", 24, "x/.env:2:4:", "NUL"},
		{"FLAG=caf\xc3\nA=1\n", 14, "x/.env:1:9:", "UTF-8"},
		{"A=1\nB=\xff\n", 8, "x/.env:2:3:", "UTF-8"},
		{"\xef\xbb\xbf" "FLAG=1\n", 10, "x/.env:1:1:", "byte order mark"},
		{"A=1\rB=2\n", 8, "x/.env:1:4:", "carriage return"},
		{"A=1\nFLAG=\"abc\nB=1\n", 18, "x/.env:2:6:", "never closed"},
		{"FLAG='abc", 9, "x/.env:1:6:", "never closed"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		pgc_err e = {0};
		envfile *ef = parse(cases[i].text, cases[i].len, &e);
		ok(ef == NULL && e.code == PGC_EXIT_DATAERR, "refused: case %zu (%s)", i, cases[i].why);
		ok(strncmp(e.msg, cases[i].where, strlen(cases[i].where)) == 0 && strstr(e.msg, cases[i].why),
		   "message names %s and says %s", cases[i].where, cases[i].why);
		if (strncmp(e.msg, cases[i].where, strlen(cases[i].where)) != 0)
			printf("#   got '%s'\n", e.msg);
		envfile_free(ef);
	}
	pgc_err e = {0};
	envfile *ef = parse("A=1\r\nB=\"x y\"\r\n", 14, &e);
	ok(ef != NULL, "CRLF line ends are read");
	is_str(ef ? envfile_get(ef, "A") : NULL, "1", "the CR is part of the line end, not the value");
	envfile_free(ef);
}

/* Issue 19 item 2: values are read as dotenv and the shell read them;
 * a line they read differently is not rewritten; what is written reads
 * back exactly. */
static void test_quoting(void)
{
	pgc_err e = {0};
	char *old = NULL;
	char *out = render("FLAG=true # c\n", "FLAG", "", &old, &e);
	is_str(out, "FLAG=\"\" # c\n", "an empty value before a comment is written as \"\"");
	envfile *ef = out ? parse(out, strlen(out), &e) : NULL;
	is_str(ef ? envfile_get(ef, "FLAG") : NULL, "", "and reads back empty, not as the comment");
	envfile_free(ef);
	free(old);
	old = NULL;
	char *out2 = out ? render(out, "FLAG", "on", &old, &e) : NULL;
	is_str(out2, "FLAG=\"on\" # c\n", "a second set keeps the comment");
	free(out);
	free(out2);
	free(old);

	ef = parse("FLAG= # c\nB=  \n", 15, &e);
	is_str(ef ? envfile_get(ef, "FLAG") : NULL, "", "FLAG= # c reads as empty (the shell's and Node's reading)");
	is_str(ef ? envfile_get(ef, "B") : NULL, "", "trailing blanks only: empty");
	envfile_free(ef);
	out = render("FLAG= # c\n", "FLAG", "2", &old, &e);
	ok(out == NULL && e.code == PGC_EXIT_DATAERR && strncmp(e.msg, "x/.env:1:7: cannot set FLAG", 27) == 0 &&
	   strstr(e.msg, "python-dotenv"), "FLAG= # c is refused (python-dotenv reads the comment): %s", e.msg);
	free(out);

	const char *ml = "A=1\nFLAG=\"first\nline\" # note\nKEEP=me\n";
	ef = parse(ml, strlen(ml), &e);
	is_str(ef ? envfile_get(ef, "FLAG") : NULL, "first\nline", "a double-quoted value spans lines");
	is_str(ef ? envfile_get(ef, "KEEP") : NULL, "me", "the line after it is read");
	ok(ef && ef->n_entries == 3 && ef->entries[1].end_line == 3 && ef->entries[2].line == 4,
	   "line numbers count the value's lines");
	envfile_free(ef);
	out = render(ml, "FLAG", "NEWV", &old, &e);
	is_str(out, "A=1\nFLAG=\"NEWV\" # note\nKEEP=me\n", "a multi-line value is replaced whole: no stray line");
	is_str(old, "first\nline", "old value is the whole multi-line value");
	free(out);
	free(old);

	out = render("FLAG='a\nb'\n", "FLAG", "x", &old, &e);
	is_str(out, "FLAG='x'\n", "a multi-line single-quoted value too");
	free(out);
	free(old);

	out = render("FLAG='it''s'\nK=1\n", "FLAG", "NEWV", &old, &e);
	ok(out == NULL && strncmp(e.msg, "x/.env:1:10: cannot set FLAG", 28) == 0 && strstr(e.msg, "closing quote"),
	   "'it''s' is refused, not turned into 'NEWV''s': %s", e.msg);
	free(out);

	static const struct { const char *line, *why; } irregular[] = {
		{"FLAG=\"say \\\"hi\\\"\"\n", "backslash inside double quotes"},
		{"FLAG=\"$HOME\"\n", "expands"},
		{"FLAG='a\\\\b'\n", "two backslashes"},
		{"FLAG=a#b\n", "'#' inside"},
		{"FLAG=a b\n", "blank inside"},
		{"FLAG = 1\n", "blank before '='"},
		{"FLAG= 1\n", "blank after '='"},
		{"FLAG=~/x\n", "'~'"},
		{"FLAG=it's\n", "quote inside"},
		{"FLAG=a;b\n", "shell operator"},
		{"FLAG=\"a\" b\n", "runs it as a command"},
		{"FLAG=abc\xc2\xa0\n", "Unicode space at the end"},
		{"FLAG=\xe2\x80\x83x\n", "Unicode space at the start"},
	};
	for (size_t i = 0; i < sizeof irregular / sizeof *irregular; i++) {
		out = render(irregular[i].line, "FLAG", "x", NULL, &e);
		ok(out == NULL && e.code == PGC_EXIT_DATAERR && strstr(e.msg, irregular[i].why) &&
		   strstr(e.msg, "by hand"), "%s refused: %s", irregular[i].why, e.msg);
		free(out);
	}
	out = render("OTHER=a b\nFLAG=1\n", "FLAG", "2", NULL, &e);
	is_str(out, "OTHER=a b\nFLAG=2\n", "another key's irregular line does not stop a set, and is kept");
	free(out);

	out = render("FLAG=1\n", "FLAG", "it's \"x\"", NULL, &e);
	ok(out == NULL && e.code == PGC_EXIT_USAGE && !strstr(e.msg, "it's"),
	   "a value with ' and \" is refused, without echoing it: %s", e.msg);
	free(out);
	out = render("", "a.b", "1", NULL, &e);
	ok(out == NULL && e.code == PGC_EXIT_USAGE, "a name with '.' is not written (the shell cannot read it)");
	free(out);
	out = render("FLAG=1\n", "FLAG", "a\\", NULL, &e);
	ok(out == NULL && e.code == PGC_EXIT_USAGE && strstr(e.msg, "ends with one"),
	   "a value ending in a backslash is refused: %s", e.msg);
	free(out);
	out = render("FLAG=1\n", "FLAG", "caf\xc3", NULL, &e);
	ok(out == NULL && strstr(e.msg, "UTF-8"), "a value that is not UTF-8 is refused");
	free(out);

	out = render("A=1\r\nB=2", "FLAG", "x y", NULL, &e);
	is_str(out, "A=1\r\nB=2\r\nFLAG=\"x y\"\r\n", "appended with the file's CRLF line ends");
	free(out);
	out = render("A=1\r\nFLAG=0 # c\r\n", "FLAG", "1", NULL, &e);
	is_str(out, "A=1\r\nFLAG=1 # c\r\n", "CRLF kept on a rewritten line");
	free(out);
	out = render("export A=1\nexport B=2\n", "FLAG", "1", NULL, &e);
	is_str(out, "export A=1\nexport B=2\nexport FLAG=1\n", "appended with export when every line has it");
	free(out);
}

/* Runs cmd; returns its stdout (length in *n), or NULL when it failed. */
static char *capture(const char *cmd, size_t *n)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	strbuf b;
	sb_init(&b);
	char buf[512];
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, p)) > 0)
		sb_add(&b, buf, got);
	int st = pclose(p);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		sb_free(&b);
		return NULL;
	}
	*n = b.len;
	return sb_steal(&b);
}

/* Each reader's FLAG from files r0.env ... r<n-1>.env in dir, NUL after
 * each, compared with want[]: one process per reader, not per file. */
static int check_reader(const char *reader, const char *cmd, char **want, char **texts, int n)
{
	size_t len = 0;
	char *out = capture(cmd, &len);
	if (!out) {
		printf("# %s failed\n", reader);
		return n;
	}
	int bad = 0;
	size_t pos = 0;
	for (int i = 0; i < n; i++) {
		const char *got = pos < len ? out + pos : "";
		if (pos >= len || strcmp(got, want[i]) != 0) {
			printf("# %s read '%s' for '%s' from: %s", reader, got, want[i], texts[i]);
			bad++;
		}
		pos += strlen(got) + 1;
	}
	free(out);
	return bad;
}

/* What is written reads back exactly in /bin/sh (set -a; .) and, when it
 * is installed, python-dotenv: real readers, not our own parser. */
static void test_readers_agree(const char *dir)
{
	static const char *const values[] = {
		"", "true", "postgres://app@db/app?sslmode=require", "a b", "a#b", "x # y",
		"it's", "say \"hi\"", "$HOME", "`id`", "back\\slash", "~/x", "a;b&c|d", "\ttab",
		"h\xc3\xa9llo w\xc3\xb6rld", "=x=", "'", "\"", "*", "a  b  ", "C:\\dir\\f", "nbsp\xc2\xa0", "\xe3\x80\x80ideo",
	};
	static const char *const files[] = {
		"FLAG=old # c\n", "FLAG='old'\n", "FLAG=\"old\"   # c\n", "A=1\n", "export FLAG=\"m\nl\"\n",
	};
	enum { NV = sizeof values / sizeof *values, NF = sizeof files / sizeof *files };
	char *want[NV * NF], *texts[NV * NF];
	int n = 0, refused = 0;
	for (size_t f = 0; f < NF; f++)
		for (size_t v = 0; v < NV; v++) {
			pgc_err e = {0};
			char *out = render(files[f], "FLAG", values[v], NULL, &e);
			if (!out) {
				printf("# refused %s: %s\n", values[v], e.msg);
				refused++;
				continue;
			}
			char *path = xasprintf("%s/r%d.env", dir, n);
			FILE *fp = fopen(path, "w");
			fputs(out, fp);
			fclose(fp);
			free(path);
			want[n] = (char *)values[v];
			texts[n++] = out;
		}
	is_int(refused, 0, "no value refused");
	char *files_arg = xasprintf("$(i=0; while [ $i -lt %d ]; do echo '%s'/r$i.env; i=$((i+1)); done)", n, dir);
	char *cmd = xasprintf("for f in %s; do (set -a; . \"$f\"; printf '%%s\\0' \"$FLAG\"); done", files_arg);
	ok(check_reader("sh", cmd, want, texts, n) == 0, "/bin/sh reads back exactly the %d values set", n);
	free(cmd);
	if (system("python3 -c 'import dotenv' 2>/dev/null") == 0) {
		cmd = xasprintf("python3 -c 'import sys, dotenv\n"
		                "for f in sys.argv[1:]: sys.stdout.write(dotenv.dotenv_values(f)[\"FLAG\"] + \"\\0\")' %s",
		                files_arg);
		ok(check_reader("python-dotenv", cmd, want, texts, n) == 0,
		   "python-dotenv reads back exactly the %d values set", n);
		free(cmd);
	} else {
		printf("# python-dotenv not installed: checked /bin/sh only\n");
	}
	free(files_arg);
	for (int i = 0; i < n; i++)
		free(texts[i]);
}

/* Issue 19 item 10: backups are 0600 and only the newest N are kept. */
static void test_backups(const char *dir)
{
	char *path = xasprintf("%s/app.env", dir);
	FILE *f = fopen(path, "w");
	fputs("FLAG=0\n", f);
	fclose(f);
	chmod(path, 0644);
	char *other = xasprintf("%s/app.env.bak-notes", dir);
	f = fopen(other, "w");
	fputs("mine\n", f);
	fclose(f);
	const unsigned keep = 3;
	const int sets = 14;
	pgc_err e = {0};
	int fails = 0;
	char *last_bak = NULL;
	for (int i = 1; i <= sets; i++) {
		char v[16];
		snprintf(v, sizeof v, "%d", i);
		envfile_set_result r;
		if (envfile_set(path, "FLAG", v, NULL, keep, &r, &e) < 0)
			fails++;
		free(last_bak);
		last_bak = r.backup_path ? xstrdup(r.backup_path) : NULL;
		envfile_set_result_free(&r);
	}
	is_int(fails, 0, "every set succeeded");
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, private = 0, newest = 0;
	while (d && (de = readdir(d))) {
		if (!strstr(de->d_name, "app.env" ENVFILE_BACKUP_INFIX) || strcmp(de->d_name, "app.env.bak-notes") == 0)
			continue;
		n++;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		struct stat sb;
		if (stat(p, &sb) == 0 && (sb.st_mode & 07777) == ENVFILE_BACKUP_MODE)
			private++;
		char *data = NULL;
		size_t len;
		if (pgc_read_file(p, 0, &data, &len, &e) == 0) {
			/* The newest keep backups hold the values before the last keep sets. */
			int val = atoi(data + 5);
			newest += val >= sets - (int)keep && val < sets;
		}
		free(data);
		free(p);
	}
	if (d)
		closedir(d);
	is_int(n, keep, "only the newest backups are kept");
	is_int(private, keep, "backups of a 0644 file are 0600");
	is_int(newest, keep, "the ones kept are the newest (N ordered as numbers, not names)");
	ok(access(other, F_OK) == 0, "a file that is not a backup is never removed");
	ok(last_bak && access(last_bak, F_OK) == 0, "the backup just written is kept");
	free(last_bak);
	free(other);
	free(path);
}

/* Issue 19 item 1, on disk: nothing written, no backup, file unchanged. */
static void test_nul_on_disk(const char *dir)
{
	static const char text[] = "FLAG=1\nA=2\0junk\nKEEP=me\n";
	char *path = xasprintf("%s/nul.env", dir);
	FILE *f = fopen(path, "w");
	fwrite(text, 1, sizeof text - 1, f);
	fclose(f);
	envfile_set_result r;
	pgc_err e = {0};
	ok(envfile_set(path, "FLAG", "2", NULL, 0, &r, &e) < 0 && e.code == PGC_EXIT_DATAERR,
	   "set on a .env with a NUL fails (65)");
	ok(strstr(e.msg, "nul.env:2:4:") != NULL, "message names file:line:col: %s", e.msg);
	char *data = NULL;
	size_t len = 0;
	pgc_read_file(path, 0, &data, &len, &e);
	ok(len == sizeof text - 1 && data && memcmp(data, text, len) == 0, "the file is unchanged");
	free(data);
	char *bak = xasprintf("ls -a '%s' | grep -q 'nul.env.bak-'", dir);
	ok(system(bak) != 0, "no backup written");
	free(bak);
	envfile *ef = NULL;
	ok(envfile_load(path, &ef, &e) < 0 && ef == NULL, "load refuses it too");

	/* The masker must not know fewer secrets because the file is damaged. */
	static const char damaged[] = "A=1\0x\nDB_PASSWORD=s3cret-value\nTOKEN=\"open-quote\nKEEP=me\n";
	f = fopen(path, "w");
	fwrite(damaged, 1, sizeof damaged - 1, f);
	fclose(f);
	ef = envfile_load_lenient(path);
	is_str(ef ? envfile_get(ef, "DB_PASSWORD") : NULL, "s3cret-value", "lenient load reads past a NUL");
	is_str(ef ? envfile_get(ef, "TOKEN") : NULL, "open-quote", "an unclosed quote runs to its line end");
	is_str(ef ? envfile_get(ef, "KEEP") : NULL, "me", "and the next line is read");
	envfile_free(ef);
	free(path);
}

/* Issue 13 item 7: several flags in one write and one backup; a failing
 * key writes nothing. */
static void test_set_many(const char *dir)
{
	char *path = xasprintf("%s/many.env", dir);
	FILE *f = fopen(path, "w");
	fputs(sample, f);
	fclose(f);
	int nb = count_backups(dir);
	const char *keys[] = {"USE_LEGACY_SUPABASE", "NEW_FLAG", "DUP"};
	const char *values[] = {"false", "on", "3"};
	envfile_set_result r[3];
	pgc_err e = {0};
	ok(envfile_set_many(path, keys, values, 3, NULL, 0, r, &e) == 0, "set_many: three keys");
	is_int(count_backups(dir), nb + 1, "set_many: one backup for three keys");
	is_str(r[0].old_value, "true", "set_many: first key's old value");
	ok(r[1].old_value == NULL && r[1].changed, "set_many: an absent key is added");
	is_str(r[2].old_value, "2", "set_many: a repeated key's old value is its last");
	ok(r[0].backup_path && r[2].backup_path && strcmp(r[0].backup_path, r[2].backup_path) == 0,
	   "set_many: every key names the one backup");
	envfile *ef = NULL;
	ok(envfile_load(path, &ef, &e) == 0 && strcmp(envfile_get(ef, "USE_LEGACY_SUPABASE"), "false") == 0 &&
	   strcmp(envfile_get(ef, "NEW_FLAG"), "on") == 0 && strcmp(envfile_get(ef, "DUP"), "3") == 0,
	   "set_many: all three read back");
	ok(ef && strstr(ef->text, "# flipped on cutover night") != NULL, "set_many: comment kept");
	envfile_free(ef);
	for (int k = 0; k < 3; k++)
		envfile_set_result_free(&r[k]);

	const char *bad_keys[] = {"USE_LEGACY_SUPABASE", "BAD-NAME"};
	const char *bad_values[] = {"true", "x"};
	pgc_err_clear(&e);
	ok(envfile_set_many(path, bad_keys, bad_values, 2, NULL, 0, r, &e) < 0, "set_many: a bad key fails all");
	ok(envfile_load(path, &ef, &e) == 0 && strcmp(envfile_get(ef, "USE_LEGACY_SUPABASE"), "false") == 0,
	   "set_many: nothing written when one key fails");
	envfile_free(ef);
	is_int(count_backups(dir), nb + 1, "set_many: no backup when nothing is written");
	free(path);
}

static void test_on_disk_extra(void)
{
	char dir[] = "/tmp/pgc-envfile2-XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	test_nul_on_disk(dir);
	test_backups(dir);
	test_set_many(dir);
	test_readers_agree(dir);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
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
	test_refused_files();
	test_quoting();
	test_on_disk_extra();
	test_secret_names();
	return done_testing();
}
