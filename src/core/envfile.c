/*
 * envfile.c -- reading and atomically editing the application's .env file.
 *
 * The file belongs to the operator and the application, so an edit changes
 * only the value bytes of the KEY= lines concerned: comments, blank lines,
 * order, quoting style, `export` prefixes and the file mode stay as they
 * were.  Writes go to a temporary file in the same directory that is
 * fsynced and renamed over the original, then the directory is fsynced, so
 * a crash leaves either the old or the new file, never half of one.  The
 * previous bytes are kept as NAME.bak-YYYYmmddTHHMMSS, linked whole from a
 * fsynced temporary file; temporary files a killed write left are removed
 * by the next.  Called by action.c,
 * the flags commands and the console; never prints.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "pgcutover/envfile.h"

/* How many NAME.bak-STAMP-N names to try when several backups share a second. */
#define ENVFILE_MAX_BACKUP_TRIES 100

/* The parts of one line, as offsets into the line. */
typedef struct env_line {
	bool is_assignment;
	bool exported;
	size_t key_start, key_len;
	size_t val_start, val_end;  /* raw value, quotes included */
	char quote;
} env_line;

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool envfile_valid_name(const char *name)
{
	if (!name || !is_name_start(*name))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!is_name_char(*p))
			return false;
	return true;
}

bool envfile_name_is_secret(const char *name)
{
	static const char *const words[] = {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", NULL};
	for (const char *const *w = words; *w; w++) {
		size_t wl = strlen(*w);
		for (const char *p = name; *p; p++)
			if (strncasecmp(p, *w, wl) == 0)
				return true;
	}
	return false;
}

static void parse_line(const char *s, size_t n, env_line *out)
{
	memset(out, 0, sizeof *out);
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i > 7 && strncmp(s + i, "export", 6) == 0 && (s[i + 6] == ' ' || s[i + 6] == '\t')) {
		out->exported = true;
		i += 7;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
	}
	if (i >= n || !is_name_start(s[i]))
		return;
	out->key_start = i;
	while (i < n && is_name_char(s[i]))
		i++;
	out->key_len = i - out->key_start;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= n || s[i] != '=')
		return;
	i++;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	out->is_assignment = true;
	out->val_start = i;
	if (i < n && (s[i] == '"' || s[i] == '\'')) {
		char q = s[i];
		size_t j = i + 1;
		while (j < n && s[j] != q) {
			if (q == '"' && s[j] == '\\' && j + 1 < n)
				j++;
			j++;
		}
		if (j < n) {   /* closed on this line */
			out->quote = q;
			out->val_end = j + 1;
			return;
		}
	}
	/* Unquoted (or an unclosed quote, kept literally): up to " #" or the end. */
	size_t j = i;
	while (j < n && !(s[j] == '#' && j > i && (s[j - 1] == ' ' || s[j - 1] == '\t')))
		j++;
	while (j > i && (s[j - 1] == ' ' || s[j - 1] == '\t' || s[j - 1] == '\r'))
		j--;
	out->val_end = j;
}

static char *unquote(const char *s, size_t n, char quote)
{
	if (!quote)
		return xstrndup(s, n);
	strbuf b;
	sb_init(&b);
	for (size_t i = 1; i + 1 < n; i++) {
		if (quote == '"' && s[i] == '\\' && i + 2 < n) {
			char c = s[++i];
			sb_putc(&b, c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
		} else {
			sb_putc(&b, s[i]);
		}
	}
	return sb_steal(&b);
}

envfile *envfile_parse(const char *path, const char *text, size_t len)
{
	envfile *ef = xcalloc(1, sizeof *ef);
	ef->path = xstrdup(path ? path : "");
	ef->text = xstrndup(text, len);
	ef->len = len;
	ef->mode = ENVFILE_NEW_MODE;
	size_t cap = 0;
	int lineno = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *s = text + pos;
		lineno++;
		env_line l;
		parse_line(s, n, &l);
		if (l.is_assignment) {
			if (ef->n_entries == cap) {
				cap = cap ? cap * 2 : 16;
				ef->entries = xrealloc(ef->entries, cap * sizeof *ef->entries);
			}
			envfile_entry *en = &ef->entries[ef->n_entries++];
			en->key = xstrndup(s + l.key_start, l.key_len);
			en->value = unquote(s + l.val_start, l.val_end - l.val_start, l.quote);
			en->line = lineno;
			en->quote = l.quote;
			en->exported = l.exported;
		}
		pos += n + (nl ? 1 : 0);
	}
	return ef;
}

static void stamp_of(const struct stat *sb, const char *data, size_t len, envfile_stamp *out)
{
	out->exists = true;
	out->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	out->size = (int64_t)len;
	pgc_sha256_hex(data, len, out->sha256);
}

/* Reads the file and its stat at once; *data NULL when missing. */
static int read_with_stat(const char *path, char **data, size_t *len, struct stat *sb, pgc_err *e)
{
	*data = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return pgc_fail(e, PGC_EXIT_NOINPUT, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode)) {
		int err = errno;
		close(fd);
		return pgc_fail(e, PGC_EXIT_NOINPUT, "%s: %s", path,
		                S_ISREG(sb->st_mode) ? strerror(err) : "not a regular file");
	}
	if ((size_t)sb->st_size > ENVFILE_MAX_BYTES) {
		close(fd);
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s: larger than %u bytes, not a .env file",
		                path, ENVFILE_MAX_BYTES);
	}
	strbuf b;
	sb_init(&b);
	char buf[8192];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			sb_free(&b);
			close(fd);
			return pgc_fail(e, PGC_EXIT_IOERR, "%s: %s", path, strerror(err));
		}
		if (r == 0)
			break;
		sb_add(&b, buf, (size_t)r);
	}
	close(fd);
	*len = b.len;
	*data = sb_steal(&b);
	return 0;
}

int envfile_stat(const char *path, envfile_stamp *out, pgc_err *e)
{
	memset(out, 0, sizeof *out);
	char *data;
	size_t len;
	struct stat sb;
	if (read_with_stat(path, &data, &len, &sb, e) < 0)
		return -1;
	if (data)
		stamp_of(&sb, data, len, out);
	free(data);
	return 0;
}

bool envfile_stamp_equal(const envfile_stamp *a, const envfile_stamp *b)
{
	if (a->exists != b->exists)
		return false;
	if (!a->exists)
		return true;
	return a->mtime_ns == b->mtime_ns && a->size == b->size && strcmp(a->sha256, b->sha256) == 0;
}

int envfile_load(const char *path, envfile **out, pgc_err *e)
{
	char *data;
	size_t len;
	struct stat sb;
	if (read_with_stat(path, &data, &len, &sb, e) < 0)
		return -1;
	envfile *ef = envfile_parse(path, data ? data : "", len);
	if (data) {
		ef->mode = sb.st_mode & 07777;
		stamp_of(&sb, data, len, &ef->stamp);
	}
	free(data);
	*out = ef;
	return 0;
}

void envfile_free(envfile *ef)
{
	if (!ef)
		return;
	for (size_t i = 0; i < ef->n_entries; i++) {
		free(ef->entries[i].key);
		free(ef->entries[i].value);
	}
	free(ef->entries);
	free(ef->text);
	free(ef->path);
	free(ef);
}

const char *envfile_get(const envfile *ef, const char *key)
{
	for (size_t i = ef->n_entries; i > 0; i--)
		if (strcmp(ef->entries[i - 1].key, key) == 0)
			return ef->entries[i - 1].value;
	return NULL;
}

static bool needs_quotes(const char *v)
{
	for (const char *p = v; *p; p++)
		if (strchr(" \t#\"'\\$`\n\r", *p))
			return true;
	return false;
}

/* Writes value the way the line had it, or plainly, quoting only if needed. */
static void put_value(strbuf *b, const char *value, char quote)
{
	if (quote == '\'' && !strpbrk(value, "'\n\r")) {
		sb_printf(b, "'%s'", value);
		return;
	}
	if (quote != '"' && !needs_quotes(value)) {
		sb_puts(b, value);
		return;
	}
	sb_putc(b, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_putc(b, '\\');
		if (*p == '\n')
			sb_puts(b, "\\n");
		else if (*p == '\r')
			sb_puts(b, "\\r");
		else
			sb_putc(b, *p);
	}
	sb_putc(b, '"');
}

char *envfile_render_set(const char *text, size_t len, const char *key,
                         const char *value, char **old_out)
{
	strbuf b;
	sb_init(&b);
	char *old = NULL;
	bool found = false;
	size_t klen = strlen(key);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *s = text + pos;
		env_line l;
		parse_line(s, n, &l);
		if (l.is_assignment && l.key_len == klen && strncmp(s + l.key_start, key, klen) == 0) {
			free(old);
			old = unquote(s + l.val_start, l.val_end - l.val_start, l.quote);
			found = true;
			sb_add(&b, s, l.val_start);
			put_value(&b, value, l.quote);
			sb_add(&b, s + l.val_end, n - l.val_end);
		} else {
			sb_add(&b, s, n);
		}
		if (nl)
			sb_putc(&b, '\n');
		pos += n + (nl ? 1 : 0);
	}
	if (!found) {
		if (b.len > 0 && b.buf[b.len - 1] != '\n')
			sb_putc(&b, '\n');
		sb_printf(&b, "%s=", key);
		put_value(&b, value, 0);
		sb_putc(&b, '\n');
	}
	if (old_out)
		*old_out = old;
	else
		free(old);
	return sb_steal(&b);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* The temporary name beside PATH that every write goes through first. */
static char *temp_template(const char *path)
{
	char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
	char *tmpl = xasprintf("%s/.%s" ENVFILE_TEMP_INFIX "XXXXXX", dirname(dcopy), basename(bcopy));
	free(dcopy);
	free(bcopy);
	return tmpl;
}

/* Writes DATA to a new temporary file beside PATH (mode MODE, owner of
 * ORIG when we may), fsynced; returns its name, or NULL. */
static char *write_temp(const char *path, const char *data, size_t len, mode_t mode,
                        const struct stat *orig, pgc_err *e)
{
	char *tmpl = temp_template(path);
	int fd = mkstemp(tmpl);
	if (fd < 0) {
		pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot create a temporary file beside it: %s",
		         path, strerror(errno));
		free(tmpl);
		return NULL;
	}
	if (orig && fchown(fd, orig->st_uid, orig->st_gid) < 0) {
		/* Only root may give a file away; as the owner it is already right. */
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		pgc_fail(e, PGC_EXIT_IOERR, "%s: %s", tmpl, strerror(errno));
		close(fd);
		unlink(tmpl);
		free(tmpl);
		return NULL;
	}
	close(fd);
	return tmpl;
}

/* A write killed with -9 leaves its temporary file behind (nothing can
 * unlink it then); the next write removes them.  Writers of one state hold
 * its lease, so no other write of this file is under way. */
static void remove_stale_temps(const char *path)
{
	char *tmpl = temp_template(path);
	char *slash = strrchr(tmpl, '/');
	*slash = '\0';
	const char *prefix = slash + 1;
	size_t plen = strlen(prefix) - strlen("XXXXXX");
	DIR *d = opendir(tmpl);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, prefix, plen) == 0 && strlen(de->d_name) == plen + 6)
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	free(tmpl);
}

/* Writes the old bytes to NAME.bak-YYYYmmddTHHMMSS[-N], never overwriting:
 * whole, through a temporary file linked to the backup's name, so a kill
 * never leaves a backup that is only part of the file. */
static char *write_backup(const char *path, const char *data, size_t len, const struct stat *sb, pgc_err *e)
{
	char stampbuf[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stampbuf, sizeof stampbuf, "%Y%m%dT%H%M%S", &tm);
	/* the backup holds the same secrets: the same mode and owner */
	char *tmp = write_temp(path, data, len, sb->st_mode & 07777, sb, e);
	if (!tmp)
		return NULL;
	for (int n = 0; n < ENVFILE_MAX_BACKUP_TRIES; n++) {
		char *bak = n == 0 ? xasprintf("%s%s%s", path, ENVFILE_BACKUP_INFIX, stampbuf)
		                   : xasprintf("%s%s%s-%d", path, ENVFILE_BACKUP_INFIX, stampbuf, n);
		if (link(tmp, bak) == 0) {
			unlink(tmp);
			free(tmp);
			return bak;
		}
		int err = errno;
		if (err == EEXIST) {
			free(bak);
			continue;
		}
		/* a file system without hard links: rename, which replaces, so
		 * only onto a name that is free (writers hold the state's lease) */
		if ((err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS) &&
		    access(bak, F_OK) != 0 && errno == ENOENT) {
			if (rename(tmp, bak) == 0) {
				free(tmp);
				return bak;
			}
			err = errno;
		}
		pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: %s", bak, strerror(err));
		free(bak);
		unlink(tmp);
		free(tmp);
		return NULL;
	}
	unlink(tmp);
	free(tmp);
	pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: too many backups this second", path);
	return NULL;
}

/* temp file, same mode (and owner when we may), fsync, rename, fsync dir. */
static int write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                        const struct stat *orig, pgc_err *e)
{
	char *tmpl = write_temp(path, data, len, mode, orig, e);
	if (!tmpl)
		return -1;
	if (rename(tmpl, path) < 0) {
		pgc_fail(e, PGC_EXIT_IOERR, "rename %s to %s: %s", tmpl, path, strerror(errno));
		unlink(tmpl);
		free(tmpl);
		return -1;
	}
	free(tmpl);
	if (fsync_dir_of(path) < 0)
		return pgc_fail(e, PGC_EXIT_IOERR, "%s: fsync of its directory: %s", path, strerror(errno));
	return 0;
}

int envfile_set(const char *path, const char *key, const char *value,
                const envfile_stamp *expect, envfile_set_result *res, pgc_err *e)
{
	memset(res, 0, sizeof *res);
	if (!envfile_valid_name(key))
		return pgc_fail(e, PGC_EXIT_USAGE, "'%s' is not a valid variable name", key);
	if (strchr(value, '\n') || strchr(value, '\r'))
		return pgc_fail(e, PGC_EXIT_USAGE, "%s: a flag value cannot span lines", key);
	char *data;
	size_t len;
	struct stat sb;
	memset(&sb, 0, sizeof sb);
	if (read_with_stat(path, &data, &len, &sb, e) < 0)
		return -1;
	if (data)
		stamp_of(&sb, data, len, &res->before);
	if (expect && !envfile_stamp_equal(expect, &res->before)) {
		free(data);
		return pgc_fail(e, PGC_EXIT_TEMPFAIL,
		                "%s was changed behind pgcutover's back since it was last read; "
		                "re-read it before setting %s", path, key);
	}
	char *old = NULL;
	char *next = envfile_render_set(data ? data : "", len, key, value, &old);
	res->old_value = old;
	res->new_value = xstrdup(value);
	size_t next_len = strlen(next);
	if (data && next_len == len && memcmp(next, data, len) == 0) {
		res->after = res->before;
		free(next);
		free(data);
		return 0;
	}
	remove_stale_temps(path);
	if (data) {
		res->backup_path = write_backup(path, data, len, &sb, e);
		if (!res->backup_path) {
			free(next);
			free(data);
			envfile_set_result_free(res);
			return -1;
		}
	}
	mode_t mode = data ? (sb.st_mode & 07777) : ENVFILE_NEW_MODE;
	int rc = write_atomic(path, next, next_len, mode, data ? &sb : NULL, e);
	free(next);
	free(data);
	if (rc < 0) {
		envfile_set_result_free(res);
		return -1;
	}
	res->changed = true;
	if (envfile_stat(path, &res->after, e) < 0) {
		envfile_set_result_free(res);
		return -1;
	}
	return 0;
}

void envfile_set_result_free(envfile_set_result *r)
{
	if (!r)
		return;
	free(r->old_value);
	free(r->new_value);
	free(r->backup_path);
	r->old_value = r->new_value = r->backup_path = NULL;
}
