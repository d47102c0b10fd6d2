/* test_util.c -- shared helpers: string buffers, errors, time parsing and
 * formatting (times out of any calendar too), SHA-256, sanitising of
 * terminal escapes, and the one atomic file write. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pgcutover/util.h"
#include "tap.h"

/* Entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static void test_write_atomic(void)
{
	char dir[] = "/tmp/pgc-util-XXXXXX";
	ok(mkdtemp(dir) != NULL, "a scratch directory");
	char *path = xasprintf("%s/f.json", dir), *text = NULL, *other = xasprintf("%s/other", dir);
	size_t len = 0;
	pgc_err e = {0};
	is_int(pgc_write_file_atomic(path, "one\n", 4, 0600, 0, &e), 0, "write a new file");
	pgc_read_file(path, 0, &text, &len, &e);
	is_str(text, "one\n", "it holds the data");
	free(text);
	struct stat sb;
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "with the mode asked for");
	is_int(pgc_write_file_atomic(path, "two\n", 4, 0600, 0, &e), 0, "replace it");
	pgc_read_file(path, 0, &text, &len, &e);
	is_str(text, "two\n", "the new data");
	free(text);
	errno = 0;
	is_int(pgc_write_file_atomic(path, "three\n", 6, 0600, PGC_WRITE_NO_CLOBBER, &e), -1,
	       "no-clobber over an existing file fails");
	is_int(errno, EEXIST, "with EEXIST");
	pgc_read_file(path, 0, &text, &len, &e);
	is_str(text, "two\n", "and leaves the file as it was");
	free(text);
	/* a link planted at the final name is replaced, never written through */
	unlink(path);
	ok(symlink(other, path) == 0, "a planted symlink");
	is_int(pgc_write_file_atomic(path, "four\n", 5, 0600, 0, &e), 0, "write over it");
	ok(access(other, F_OK) != 0 && lstat(path, &sb) == 0 && S_ISREG(sb.st_mode),
	   "the link is replaced by the file, its target not created");
	is_int(count_entries(dir), 1, "no temporary file is left behind");
	is_int(pgc_write_file_atomic("/nonexistent-dir/x", "x", 1, 0600, 0, &e), -1, "an unwritable place fails");
	ok(strstr(e.msg, "/nonexistent-dir/x") != NULL, "naming the file");
	unlink(path);
	rmdir(dir);
	free(path);
	free(other);
}

/* The modes: narrowed by the umask, exactly as asked, or kept from the
 * file replaced (with its owner); failures leave no temporary file. */
static void test_write_atomic_modes(void)
{
	char dir[] = "/tmp/pgc-util-XXXXXX";
	ok(mkdtemp(dir) != NULL, "a scratch directory");
	char *path = xasprintf("%s/.env", dir), *sub = xasprintf("%s/sub", dir);
	pgc_err e = {0};
	struct stat sb;
	mode_t old_umask = umask(077);
	is_int(pgc_write_file_atomic(path, "A=1\n", 4, 0644, 0, &e), 0, "write with umask 077");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "the umask narrows the mode");
	is_int(pgc_write_file_atomic(path, "A=2\n", 4, 0644, PGC_WRITE_EXACT_MODE, &e), 0, "exact mode");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644, "the mode asked for, whatever the umask");
	chmod(path, 0640);
	bool root = geteuid() == 0;
	uid_t other_uid = root ? 1 : geteuid();
	gid_t other_gid = root ? 1 : getegid();
	if (root)
		ok(chown(path, other_uid, other_gid) == 0, "given to another user");
	is_int(pgc_write_file_atomic(path, "A=3\n", 4, 0600, PGC_WRITE_KEEP_MODE, &e), 0, "keep the mode");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0640, "the replaced file's mode is kept");
	ok(sb.st_uid == other_uid && sb.st_gid == other_gid, "and its owner");
	char *text = NULL;
	size_t len = 0;
	pgc_read_file(path, 0, &text, &len, &e);
	is_str(text, "A=3\n", "with the new data");
	free(text);
	char *fresh = xasprintf("%s/new", dir);
	is_int(pgc_write_file_atomic(fresh, "x", 1, 0604, PGC_WRITE_KEEP_MODE, &e), 0, "keep-mode of a new file");
	ok(stat(fresh, &sb) == 0 && (sb.st_mode & 07777) == 0604, "gets exactly the mode given");
	umask(old_umask);

	char *prefix = pgc_write_temp_prefix(path);
	char *want = xasprintf("%s/..env" PGC_WRITE_TEMP_INFIX, dir);
	is_str(prefix, want, "temporary files are hidden, named after the file");
	free(want);
	free(prefix);
	prefix = pgc_write_temp_prefix("plain");
	is_str(prefix, ".plain" PGC_WRITE_TEMP_INFIX, "in the current directory too");
	free(prefix);

	/* the temporary file is written, the rename fails: it is removed */
	ok(mkdir(sub, 0700) == 0, "a directory where the file should go");
	errno = 0;
	is_int(pgc_write_file_atomic(sub, "x", 1, 0600, 0, &e), -1, "replacing a directory fails");
	ok(errno == EISDIR && e.code == PGC_EXIT_CANTCREAT && strstr(e.msg, sub) != NULL, "saying why, naming it");
	is_int(pgc_write_file_atomic(path, "B\n", 2, 0600, PGC_WRITE_NO_CLOBBER, &e), -1, "no-clobber fails");
	is_int(count_entries(dir), 3, "neither left a temporary file");
	pgc_read_file(path, 0, &text, &len, &e);
	is_str(text, "A=3\n", "the file is as it was");
	free(text);
	/* a read-only directory: no temporary file can be made (root may) */
	chmod(sub, 0500);
	char *in_ro = xasprintf("%s/f", sub);
	if (!root) {
		is_int(pgc_write_file_atomic(in_ro, "x", 1, 0600, 0, &e), -1, "a read-only directory fails");
		ok(e.code == PGC_EXIT_CANTCREAT && strstr(e.msg, in_ro) != NULL, "naming the file");
		is_int(count_entries(sub), 0, "and leaves nothing there");
	} else {
		ok(1, "# SKIP root writes into a read-only directory");
	}
	unlink(in_ro);
	chmod(sub, 0700);
	rmdir(sub);
	unlink(path);
	unlink(fresh);
	rmdir(dir);
	free(in_ro);
	free(fresh);
	free(path);
	free(sub);
}

/* mkdir -p: every missing level made with the mode asked for, an existing
 * directory is fine, a file in the way is not. */
static void test_mkdir_p(void)
{
	char dir[] = "/tmp/pgc-util-XXXXXX";
	ok(mkdtemp(dir) != NULL, "a scratch directory");
	mode_t old_umask = umask(022);
	char *deep = xasprintf("%s/a/b/c", dir), *mid = xasprintf("%s/a", dir);
	pgc_err e = {0};
	is_int(pgc_mkdir_p(deep, 0700, &e), 0, "mkdir -p of three new levels");
	struct stat sb;
	ok(stat(deep, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700, "the last one is 0700");
	ok(stat(mid, &sb) == 0 && (sb.st_mode & 0777) == 0700, "and so is the first one made");
	is_int(pgc_mkdir_p(deep, 0700, &e), 0, "again: an existing directory is fine");
	char *slashed = xasprintf("%s/", deep);
	is_int(pgc_mkdir_p(slashed, 0700, &e), 0, "a trailing slash is fine");
	chmod(mid, 0755);
	char *other = xasprintf("%s/a/d", dir);
	is_int(pgc_mkdir_p(other, 0750, &e), 0, "a sibling with another mode");
	ok(stat(mid, &sb) == 0 && (sb.st_mode & 0777) == 0755, "an existing level keeps its mode");
	ok(stat(other, &sb) == 0 && (sb.st_mode & 0777) == 0750, "the new one has the mode asked for");
	char *file = xasprintf("%s/f", dir), *under = xasprintf("%s/f/g", dir);
	pgc_write_file_atomic(file, "x", 1, 0600, 0, &e);
	is_int(pgc_mkdir_p(file, 0700, &e), -1, "a file where the directory should be fails");
	ok(strstr(e.msg, "not a directory") != NULL, "saying so");
	is_int(pgc_mkdir_p(under, 0700, &e), -1, "and so does a directory under a file");
	ok(e.code == PGC_EXIT_CANTCREAT && strstr(e.msg, under) != NULL, "naming it");
	umask(old_umask);
	unlink(file);
	rmdir(other);
	rmdir(deep);
	char *b = xasprintf("%s/a/b", dir);
	rmdir(b);
	rmdir(mid);
	rmdir(dir);
	free(b); free(deep); free(mid); free(slashed); free(other); free(file); free(under);
}

int main(void)
{
	test_write_atomic();
	test_write_atomic_modes();
	test_mkdir_p();

	strbuf sb;
	sb_init(&sb);
	for (int i = 0; i < 1000; i++)
		sb_printf(&sb, "%d,", i);
	ok(sb.len > 3000 && strncmp(sb.buf, "0,1,2,", 6) == 0, "strbuf grows and keeps content");
	char *s = sb_steal(&sb);
	ok(sb.buf == NULL && sb.len == 0, "sb_steal resets the buffer");
	free(s);

	pgc_err e;
	pgc_err_clear(&e);
	is_int(pgc_fail(&e, PGC_EXIT_DATAERR, "%s:%d:%d: bad", "f.md", 3, 7), -1, "pgc_fail returns -1");
	is_str(e.msg, "f.md:3:7: bad", "pgc_fail formats the message");
	is_int(e.code, PGC_EXIT_DATAERR, "pgc_fail sets the code");

	char hex[65];
	pgc_sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of abc (FIPS 180-2 vector)");

	double t;
	ok(pgc_parse_time("2026-11-24T02:05:07Z", &t) == 0, "parse ISO-8601 UTC");
	char buf[40];
	pgc_iso8601(t, buf, sizeof buf);
	is_str(buf, "2026-11-24T02:05:07.000Z", "format round-trips");
	ok(pgc_parse_time("2026-11-24T18:25:47.691Z", &t) == 0, "parse milliseconds");
	pgc_iso8601(t, buf, sizeof buf);
	is_str(buf, "2026-11-24T18:25:47.691Z", "milliseconds survive a round trip (rounded, not truncated)");
	ok(pgc_parse_time("1700000000", &t) == 0 && t == 1700000000.0, "parse unix seconds");
	ok(pgc_parse_time("yesterday", &t) != 0, "reject garbage time");
	/* times from an imported file (issue 19: a fuzzer's 1e195 overflowed
	 * the long long of milliseconds) */
	static const double silly[] = {1e300, -1e300, 1e195, 253402300800.0, -1.0};
	for (size_t i = 0; i < sizeof silly / sizeof silly[0]; i++) {
		pgc_iso8601(silly[i], buf, sizeof buf);
		is_str(buf, PGC_TIME_INVALID, "a time after 9999 or before 1970 is no date");
	}
	pgc_iso8601(strtod("inf", NULL), buf, sizeof buf);
	is_str(buf, PGC_TIME_INVALID, "infinity is no date");
	pgc_iso8601(strtod("nan", NULL), buf, sizeof buf);
	is_str(buf, PGC_TIME_INVALID, "NaN is no date");
	pgc_iso8601(253402300799.0, buf, sizeof buf);
	is_str(buf, "9999-12-31T23:59:59.000Z", "the last second of 9999 is written");
	pgc_iso8601(0.0, buf, sizeof buf);
	is_str(buf, "1970-01-01T00:00:00.000Z", "the epoch is written");

	char *clean = pgc_sanitize("ok\x1b[2Jbad\x07\tend\xc2\x9b" "1m");
	is_str(clean, "ok?[2Jbad? end?1m", "escape, BEL, tab and C1 CSI neutralised");
	free(clean);
	clean = pgc_sanitize("Supabase \xe2\x86\x92 PostgreSQL \xe2\x9c\x85");
	is_str(clean, "Supabase \xe2\x86\x92 PostgreSQL \xe2\x9c\x85", "UTF-8 text kept as is");
	free(clean);
	clean = pgc_sanitize("two\nlines\r\xff\xc0\xaf end");
	is_str(clean, "two?lines???? end", "one line: newline, CR, invalid and overlong UTF-8 become '?'");
	free(clean);
	static const char multi[] = "a\tb\nc\x1b]0;x\x07\0d\xc2\x9b\xed\xa0\x80";
	clean = pgc_sanitize_n(multi, sizeof multi - 1, PGC_SANITIZE_LINES);
	is_str(clean, "a\tb\nc?]0;x??d????", "lines kept: tab and newline stay, OSC, NUL, C1 and a surrogate do not");
	free(clean);

	ok(pgc_login_name()[0] != '\0', "login name is never empty");
	return done_testing();
}
