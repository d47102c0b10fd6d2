/*
 * envfile.c -- reading and atomically editing the application's .env file.
 *
 * The file belongs to the operator and the application, so an edit changes
 * only the value bytes of the KEY= lines concerned: comments, blank lines,
 * order, quoting style, `export` prefixes and the file mode stay as they
 * were.  The file is read as dotenv (Node, Ruby, python-dotenv) and the
 * shell (`set -a; . ./.env`) read it; a line they would read differently is
 * marked irregular and never rewritten, and a new value is written in a
 * form they all read back exactly (man pgcutover.json(5), THE .ENV FILE).
 * Writes go to a temporary file in the same directory that is fsynced and
 * renamed over the original, then the directory is fsynced, so a crash
 * leaves either the old or the new file, never half of one.  The previous
 * bytes are kept as NAME.bak-YYYYmmddTHHMMSS[-N] (0600, the newest N kept),
 * linked whole from a fsynced temporary file; temporary files a killed
 * write left are removed by the next.
 * Called by action.c, the flags commands and the console; never prints.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "pgcutover/envfile.h"

/* How many NAME.bak-STAMP-N names to try when another writer races us. */
#define ENVFILE_MAX_BACKUP_TRIES 100
/* "YYYYmmddTHHMMSS" */
#define ENVFILE_BACKUP_STAMP_LEN 15

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
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

/* ---- reading ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0 (overlong, surrogate,
 * out of range or cut short). */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned cp;
	return pgc_utf8_decode(s, avail, &cp);
}

/* 1-based line and column of offset off, counting from start (the start of
 * line start_line); columns count characters, as the config's messages do
 * (a continuation byte is not a character). */
static void line_col_from(const char *text, size_t start, int start_line, size_t off, int *line, int *col)
{
	int l = start_line, c = 1;
	for (size_t i = start; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/* From the top: for the one error that ends a parse. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
	line_col_from(text, 0, 1, off, line, col);
}

/* Refuses what no reader of a .env agrees on, before any line is read:
 * these change where lines and values end, or what the bytes are. */
static int check_bytes(const char *path, const char *text, size_t len, pgc_err *e)
{
	const char *why = NULL;
	size_t at = 0;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		why = "a byte order mark: the shell would not read line 1 as an assignment";
	for (size_t i = 0; !why && i < len;) {
		unsigned char c = (unsigned char)text[i];
		size_t n = 1;
		if (c == 0)
			why = "a NUL byte: not a text .env file";
		else if (c == '\r' && (i + 1 >= len || text[i + 1] != '\n'))
			why = "a carriage return not followed by a line feed: dotenv ends the line there, the shell does not";
		else if ((n = utf8_len((const unsigned char *)text + i, len - i)) == 0)
			why = "not valid UTF-8: dotenv reads a .env as UTF-8";
		if (why)
			at = i;
		else
			i += n;
	}
	if (!why)
		return 0;
	int line, col;
	line_col(text, at, &line, &col);
	return pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d:%d: %s", path, line, col, why);
}

/* End of the line starting at pos: *content_end before "\n" or "\r\n",
 * return value after the terminator. */
static size_t line_end(const char *text, size_t len, size_t pos, size_t *content_end)
{
	const char *nl = memchr(text + pos, '\n', len - pos);
	if (!nl) {
		*content_end = len;
		return len;
	}
	size_t ce = (size_t)(nl - text);
	if (ce > pos && text[ce - 1] == '\r')
		ce--;
	*content_end = ce;
	return (size_t)(nl - text) + 1;
}

/* Counted from the record's start: a file of many irregular lines must
 * not cost a scan from the top for each. */
static void mark(envfile_entry *en, const char *text, size_t at, const char *why)
{
	if (en->irregular)
		return;
	en->irregular = why;
	line_col_from(text, en->rec_start, en->line, at, &en->irr_line, &en->irr_col);
}

/* Length of the Unicode space (not ASCII) at p, or 0: Node's trim() and
 * python-dotenv's \s drop these around an unquoted value, the shell keeps
 * them. */
static size_t unicode_space_len(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0))
		return 2;   /* U+0085, U+00A0 */
	if (n < 3)
		return 0;
	if ((p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) ||                  /* U+1680 */
	    (p[0] == 0xE2 && p[1] == 0x80 && (p[2] <= 0x8A || p[2] == 0xA8 ||  /* U+2000-200A, */
	                                      p[2] == 0xA9 || p[2] == 0xAF)) || /* 2028, 2029, 202F */
	    (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) ||                  /* U+205F */
	    (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) ||                  /* U+3000 */
	    (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF))                    /* U+FEFF */
		return 3;
	return 0;
}

/* True when s[0..n) ends with a Unicode space (s is valid UTF-8). */
static bool ends_with_unicode_space(const char *s, size_t n)
{
	for (size_t k = 2; k <= 3 && k <= n; k++)
		if (unicode_space_len((const unsigned char *)s + n - k, k) == k)
			return true;
	return false;
}

/* Unquoted value bytes: dotenv takes them as they are, the shell would not. */
static void check_unquoted(envfile_entry *en, const char *text, size_t from, size_t to)
{
	if (from < to && text[from] == '~')
		mark(en, text, from, "a leading '~': the shell expands it to a home directory");
	if (from < to && unicode_space_len((const unsigned char *)text + from, to - from))
		mark(en, text, from, "a Unicode space at the start of an unquoted value: dotenv drops it, the shell does not");
	if (from < to && ends_with_unicode_space(text + from, to - from))
		mark(en, text, to - 1, "a Unicode space at the end of an unquoted value: dotenv drops it, the shell does not");
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)text[i];
		const char *why = NULL;
		if (is_blank((char)c))
			why = "a blank inside an unquoted value: the shell runs the rest as a command";
		else if (c == '#')
			why = "'#' inside an unquoted value: Node's and Ruby's dotenv start a comment there, the shell does not";
		else if (c == '\'' || c == '"')
			why = "a quote inside an unquoted value: the shell starts a quoted string there";
		else if (c == '\\')
			why = "a backslash in an unquoted value: the shell reads it as an escape, dotenv does not";
		else if (c == '$' || c == '`')
			why = "'$' or '`' in an unquoted value: the shell expands it";
		else if (strchr(";&|<>()", (char)c))
			why = "a shell operator in an unquoted value";
		else if (c < 0x20 || c == 0x7f)
			why = "a control character in an unquoted value";
		if (why) {
			mark(en, text, i, why);
			return;
		}
	}
}

static void check_quoted(envfile_entry *en, const char *text, size_t from, size_t to, char q)
{
	for (size_t i = from; i < to; i++) {
		char c = text[i];
		const char *why = NULL;
		if (c == '\\' && q == '"')
			why = "a backslash inside double quotes: dotenv and the shell resolve escapes differently";
		else if (c == '\\' && (i + 1 == to || text[i + 1] == '\\'))
			why = "two backslashes, or one before the closing quote, inside single quotes: "
			      "python-dotenv resolves them, the shell does not";
		else if (q == '"' && (c == '$' || c == '`'))
			why = "'$' or '`' inside double quotes: the shell expands it, Node's dotenv does not";
		else if (c == '\r')
			why = "a CRLF line end inside a quoted value: Node's dotenv drops the CR, the shell keeps it";
		if (why) {
			mark(en, text, i, why);
			return;
		}
	}
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

/* A parse in progress. */
typedef struct env_parse {
	envfile *ef;
	size_t cap;          /* of ef->entries */
	int lineno;          /* of the record being read */
	bool lenient;
	/* Lenient: from here on no '"' (0) or '\'' (1) closes a quote, so an
	 * unclosed quote on every line costs one scan, not one each. */
	size_t no_close[2];
} env_parse;

/* One record starting at pos: a line, or the lines of a quoted value.
 * Returns the offset after it, or (size_t)-1 with e set. */
static size_t parse_record(env_parse *ps, size_t pos, pgc_err *e)
{
	envfile *ef = ps->ef;
	int *lineno = &ps->lineno;
	const char *text = ef->text;
	size_t len = ef->len;
	size_t cend;
	size_t next = line_end(text, len, pos, &cend);
	int first_line = *lineno;
	size_t i = pos;
	while (i < cend && is_blank(text[i]))
		i++;
	bool exported = false;
	if (cend - i > 7 && strncmp(text + i, "export", 6) == 0 && is_blank(text[i + 6])) {
		exported = true;
		i += 7;
		while (i < cend && is_blank(text[i]))
			i++;
	}
	if (i >= cend || !is_name_start(text[i]))
		return next;
	size_t key_start = i;
	while (i < cend && is_name_char(text[i]))
		i++;
	size_t key_end = i;
	while (i < cend && is_blank(text[i]))
		i++;
	if (i >= cend || text[i] != '=')
		return next;
	size_t eq = i + 1;

	envfile_entry en;
	memset(&en, 0, sizeof en);
	en.exported = exported;
	en.line = first_line;
	en.rec_start = pos;
	for (size_t k = key_start; k < key_end; k++)
		if (text[k] == '.' || text[k] == '-') {
			mark(&en, text, k, "'.' or '-' in a name: the shell does not read this line as an assignment");
			break;
		}
	if (key_end < eq - 1)
		mark(&en, text, key_end, "a blank before '=': the shell does not read this line as an assignment");
	size_t vs = eq;
	while (vs < cend && is_blank(text[vs]))
		vs++;
	if (vs < cend && (text[vs] == '"' || text[vs] == '\'')) {
		char q = text[vs];
		size_t *no_close = &ps->no_close[q == '\''];
		size_t j = vs + 1;
		while (j < len && text[j] != q && !(ps->lenient && j >= *no_close)) {
			if (q == '"' && text[j] == '\\' && j + 1 < len)
				j++;
			j++;
		}
		if (j < len && text[j] != q)
			j = len;
		if (j >= len && ps->lenient) {
			if (vs + 1 < *no_close)
				*no_close = vs + 1;
			/* Taken to the line end, as Node's dotenv does. */
			mark(&en, text, vs, "a quote that is never closed");
			en.val_start = vs + 1;
			en.val_end = cend;
			goto done;
		}
		if (j >= len) {
			int l, c;
			line_col(text, vs, &l, &c);
			pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d:%d: this quote is never closed", ef->path, l, c);
			return (size_t)-1;
		}
		if (vs > eq)
			mark(&en, text, eq, "a blank after '=': the shell reads an empty value and runs the rest as a command");
		check_quoted(&en, text, vs + 1, j, q);
		for (size_t k = pos; k < j; k++)
			if (text[k] == '\n')
				(*lineno)++;
		/* The record ends with the line holding the closing quote. */
		size_t rest = j + 1;
		next = line_end(text, len, rest, &cend);
		if (rest < cend && !is_blank(text[rest]))
			mark(&en, text, rest, "text right after the closing quote: the shell joins it to the value, dotenv does not");
		size_t k = rest;
		while (k < cend && is_blank(text[k]))
			k++;
		if (k < cend && text[k] != '#')
			mark(&en, text, k, "text after the quoted value: the shell runs it as a command");
		en.quote = q;
		en.val_start = vs;
		en.val_end = j + 1;
	} else {
		/* Unquoted: up to a '#' after a blank, trailing blanks dropped. */
		size_t j = vs;
		while (j < cend && !(text[j] == '#' && j > eq && is_blank(text[j - 1])))
			j++;
		while (j > vs && is_blank(text[j - 1]))
			j--;
		if (j == vs) {
			/* Empty: a new value goes right after '=', before any blanks. */
			if (vs < cend && vs > eq)
				mark(&en, text, vs, "an empty value before a comment: python-dotenv reads the comment as the value");
			vs = j = eq;
		} else if (vs > eq) {
			mark(&en, text, eq, "a blank after '=': the shell reads an empty value and runs the rest as a command");
		}
		check_unquoted(&en, text, vs, j);
		en.val_start = vs;
		en.val_end = j;
	}
done:
	en.end_line = *lineno;
	en.rec_end = next;
	en.key = xstrndup(text + key_start, key_end - key_start);
	en.value = unquote(text + en.val_start, en.val_end - en.val_start, en.quote);
	if (ef->n_entries == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ef->entries = xrealloc(ef->entries, ps->cap * sizeof *ef->entries);
	}
	ef->entries[ef->n_entries++] = en;
	return next;
}

static int parse_text(const char *path, const char *text, size_t len, bool lenient,
                      envfile **out, pgc_err *e)
{
	*out = NULL;
	const char *name = path ? path : "";
	if (!lenient && check_bytes(name, text, len, e) < 0)
		return -1;
	envfile *ef = xcalloc(1, sizeof *ef);
	ef->path = xstrdup(name);
	ef->text = xmalloc(len + 1);
	memcpy(ef->text, text, len);
	ef->text[len] = '\0';
	ef->len = len;
	ef->mode = ENVFILE_NEW_MODE;
	env_parse ps = {.ef = ef, .lineno = 1, .lenient = lenient, .no_close = {len, len}};
	for (size_t pos = 0; pos < len; ps.lineno++) {
		pos = parse_record(&ps, pos, e);
		if (pos == (size_t)-1) {
			envfile_free(ef);
			return -1;
		}
	}
	*out = ef;
	return 0;
}

int envfile_parse(const char *path, const char *text, size_t len, envfile **out, pgc_err *e)
{
	return parse_text(path, text, len, false, out, e);
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
	envfile *ef;
	if (envfile_parse(path, data ? data : "", len, &ef, e) < 0) {
		free(data);
		return -1;
	}
	if (data) {
		ef->mode = sb.st_mode & 07777;
		stamp_of(&sb, data, len, &ef->stamp);
	}
	free(data);
	*out = ef;
	return 0;
}

envfile *envfile_parse_lenient(const char *path, const char *text, size_t len)
{
	envfile *ef = NULL;
	parse_text(path, text, len, true, &ef, NULL);
	return ef;
}

envfile *envfile_load_lenient(const char *path)
{
	char *data;
	size_t len;
	struct stat sb;
	if (read_with_stat(path, &data, &len, &sb, NULL) < 0 || !data)
		return NULL;
	envfile *ef = envfile_parse_lenient(path, data, len);
	free(data);
	return ef;
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

/* ---- writing ----------------------------------------------------------- */

/* Bytes an unquoted value may hold so that the shell and every dotenv read
 * it alike: no blank, quote, comment, escape, expansion or operator, no
 * Unicode space at either end. */
static bool plain_ok(const char *v)
{
	size_t n = strlen(v);
	if (!n || *v == '~' || unicode_space_len((const unsigned char *)v, n) || ends_with_unicode_space(v, n))
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr(" #'\"\\$`;&|<>()", *p))
			return false;
	return true;
}

static bool double_ok(const char *v)
{
	return !strpbrk(v, "\"\\$`");
}

/* python-dotenv resolves \\\\ and \\' inside single quotes; a lone backslash
 * reads alike everywhere, but not a last one (it would escape the quote). */
static bool single_ok(const char *v)
{
	size_t n = strlen(v);
	return !strchr(v, '\'') && !strstr(v, "\\\\") && !(n && v[n - 1] == '\\');
}

/* Writes v so that it reads back exactly: in the line's quote style when
 * the value allows it, else plainly, else in double then single quotes.
 * An empty value before a comment is quoted (python-dotenv would read the
 * comment).  Returns -1 when no form reads alike everywhere. */
static int put_value(strbuf *b, const char *v, char quote, bool text_follows)
{
	if (!*v && (quote || text_follows)) {
		sb_puts(b, quote == '\'' ? "''" : "\"\"");
		return 0;
	}
	if (!*v)
		return 0;
	if (quote == '\'' && single_ok(v))
		return sb_printf(b, "'%s'", v), 0;
	if (quote == '"' && double_ok(v))
		return sb_printf(b, "\"%s\"", v), 0;
	if (plain_ok(v))
		return sb_puts(b, v), 0;
	if (double_ok(v))
		return sb_printf(b, "\"%s\"", v), 0;
	if (single_ok(v))
		return sb_printf(b, "'%s'", v), 0;
	return -1;
}

/* Why put_value found no form; never quotes the value (it may be secret). */
static int unquotable(const char *key, const char *v, pgc_err *e)
{
	return pgc_fail(e, PGC_EXIT_USAGE, "%s: no quoting reads the new value back alike in dotenv and the shell "
	                "(it holds %s)", key, strchr(v, '\'') ? "' as well as one of \" \\ $ `"
	                                                      : "two backslashes in a row, or ends with one");
}

/* "\r\n" when the file's lines end so, else "\n". */
static const char *eol_of(const envfile *ef)
{
	const char *nl = ef->len ? memchr(ef->text, '\n', ef->len) : NULL;
	return nl && nl > ef->text && nl[-1] == '\r' ? "\r\n" : "\n";
}

static bool valid_utf8(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

int envfile_render_set(const envfile *ef, const char *key, const char *value,
                       char **out, size_t *out_len, char **old_out, pgc_err *e)
{
	*out = NULL;
	*out_len = 0;
	if (old_out)
		*old_out = NULL;
	if (!envfile_valid_name(key))
		return pgc_fail(e, PGC_EXIT_USAGE, "'%s' is not a valid variable name", key);
	if (strpbrk(key, ".-"))
		return pgc_fail(e, PGC_EXIT_USAGE, "'%s': the shell does not accept '.' or '-' in a name", key);
	if (strchr(value, '\n') || strchr(value, '\r'))
		return pgc_fail(e, PGC_EXIT_USAGE, "%s: a flag value cannot span lines", key);
	/* The value itself is never quoted in a message: it may be a secret. */
	if (!valid_utf8(value))
		return pgc_fail(e, PGC_EXIT_USAGE, "%s: the new value is not valid UTF-8", key);
	const char *old = NULL;
	bool all_exported = ef->n_entries > 0;
	for (size_t i = 0; i < ef->n_entries; i++) {
		const envfile_entry *en = &ef->entries[i];
		all_exported &= en->exported;
		if (strcmp(en->key, key) != 0)
			continue;
		if (en->irregular)
			return pgc_fail(e, PGC_EXIT_DATAERR,
			                "%s:%d:%d: cannot set %s: %s; change that line by hand first",
			                ef->path, en->irr_line, en->irr_col, key, en->irregular);
		old = en->value;
	}
	strbuf b;
	sb_init(&b);
	size_t pos = 0;
	for (size_t i = 0; i < ef->n_entries; i++) {
		const envfile_entry *en = &ef->entries[i];
		if (strcmp(en->key, key) != 0)
			continue;
		sb_add(&b, ef->text + pos, en->val_start - pos);
		size_t tail = en->val_end;
		while (tail < en->rec_end && is_blank(ef->text[tail]))
			tail++;
		bool text_follows = tail < en->rec_end && ef->text[tail] != '\r' && ef->text[tail] != '\n';
		if (put_value(&b, value, en->quote, text_follows) < 0) {
			sb_free(&b);
			return unquotable(key, value, e);
		}
		pos = en->val_end;
	}
	sb_add(&b, ef->text + pos, ef->len - pos);
	if (!old) {
		const char *eol = eol_of(ef);
		if (b.len > 0 && b.buf[b.len - 1] != '\n')
			sb_puts(&b, eol);
		sb_printf(&b, "%s%s=", all_exported ? "export " : "", key);
		if (put_value(&b, value, 0, false) < 0) {
			sb_free(&b);
			return unquotable(key, value, e);
		}
		sb_puts(&b, eol);
	}
	*out_len = b.len;
	*out = sb_steal(&b);
	if (old_out)
		*old_out = old ? xstrdup(old) : NULL;
	return 0;
}

/* ---- backups ----------------------------------------------------------- */

/* One NAME.bak-STAMP[-N] beside the file. */
typedef struct env_backup {
	char *name;
	char stamp[ENVFILE_BACKUP_STAMP_LEN + 1];
	long n;
} env_backup;

/* When entry is a backup of base, fills *out.  Only names pgcutover makes
 * match: nothing else in the directory is ever removed. */
static bool backup_name(const char *entry, const char *base, env_backup *out)
{
	size_t bl = strlen(base), il = strlen(ENVFILE_BACKUP_INFIX);
	if (strncmp(entry, base, bl) != 0 || strncmp(entry + bl, ENVFILE_BACKUP_INFIX, il) != 0)
		return false;
	const char *s = entry + bl + il;
	for (int i = 0; i < ENVFILE_BACKUP_STAMP_LEN; i++)
		if (i == 8 ? s[i] != 'T' : (s[i] < '0' || s[i] > '9'))
			return false;
	const char *t = s + ENVFILE_BACKUP_STAMP_LEN;
	long n = 0;
	if (*t == '-') {
		if (!t[1] || strlen(t + 1) > 9)
			return false;
		for (const char *p = t + 1; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			n = n * 10 + (*p - '0');
		}
	} else if (*t) {
		return false;
	}
	memcpy(out->stamp, s, ENVFILE_BACKUP_STAMP_LEN);
	out->stamp[ENVFILE_BACKUP_STAMP_LEN] = '\0';
	out->n = n;
	out->name = NULL;
	return true;
}

static int backup_cmp(const void *a, const void *b)
{
	const env_backup *x = a, *y = b;
	int c = strcmp(x->stamp, y->stamp);
	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The backups of path, oldest first. */
static env_backup *list_backups(const char *path, size_t *count)
{
	char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
	DIR *d = opendir(dirname(dcopy));
	const char *base = basename(bcopy);
	env_backup *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		env_backup b;
		if (!backup_name(de->d_name, base, &b))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		b.name = xstrdup(de->d_name);
		v[n++] = b;
	}
	if (d)
		closedir(d);
	free(dcopy);
	free(bcopy);
	if (n)
		qsort(v, n, sizeof *v, backup_cmp);
	*count = n;
	return v;
}

static void free_backups(env_backup *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* Whether name is a temporary file of a write of the file NAME (hidden
 * is ".NAME") or of one of its backups: .NAME.pgcutover-XXXXXX or
 * .NAME.bak-STAMP.pgcutover-XXXXXX (pgc_write_file_atomic's names). */
static bool is_own_temp(const char *name, const char *hidden)
{
	size_t hl = strlen(hidden), il = strlen(PGC_WRITE_TEMP_INFIX), nl = strlen(name);
	if (strncmp(name, hidden, hl) != 0 || nl < hl + il + PGC_WRITE_TEMP_RANDOM)
		return false;
	const char *rest = name + hl, *tail = name + nl - PGC_WRITE_TEMP_RANDOM - il;
	if (strncmp(tail, PGC_WRITE_TEMP_INFIX, il) != 0)
		return false;
	return tail == rest || strncmp(rest, ENVFILE_BACKUP_INFIX, strlen(ENVFILE_BACKUP_INFIX)) == 0;
}

/* A write killed with -9 leaves its temporary file behind (nothing can
 * unlink it then); the next write removes them.  Writers of one state hold
 * its lease, so no other write of this file is under way. */
static void remove_stale_temps(const char *path)
{
	char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
	char *hidden = xasprintf(".%s", basename(bcopy));
	DIR *d = opendir(dirname(dcopy));
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL)
			if (is_own_temp(de->d_name, hidden))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	free(hidden);
	free(dcopy);
	free(bcopy);
}

/* Writes the old bytes to NAME.bak-YYYYmmddTHHMMSS[-N], never overwriting:
 * N follows the highest this second, so names sort in the order written
 * even after older ones were removed. */
static char *write_backup(const char *path, const char *data, size_t len, pgc_err *e)
{
	char stampbuf[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stampbuf, sizeof stampbuf, "%Y%m%dT%H%M%S", &tm);
	size_t nb;
	env_backup *all = list_backups(path, &nb);
	long n = 0;
	for (size_t i = 0; i < nb; i++)
		if (strcmp(all[i].stamp, stampbuf) == 0 && all[i].n + 1 > n)
			n = all[i].n + 1;
	free_backups(all, nb);
	for (int tries = 0; tries < ENVFILE_MAX_BACKUP_TRIES; tries++, n++) {
		char *bak = n == 0 ? xasprintf("%s%s%s", path, ENVFILE_BACKUP_INFIX, stampbuf)
		                   : xasprintf("%s%s%s-%ld", path, ENVFILE_BACKUP_INFIX, stampbuf, n);
		pgc_err be = {0};
		if (pgc_write_file_atomic(bak, data, len, ENVFILE_BACKUP_MODE,
		                          PGC_WRITE_NO_CLOBBER | PGC_WRITE_EXACT_MODE, &be) == 0)
			return bak;
		int err = errno;
		free(bak);
		if (err == EEXIST && be.code == PGC_EXIT_CANTCREAT)
			continue;
		pgc_fail(e, be.code, "cannot write a backup: %s", be.msg);
		return NULL;
	}
	pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: too many backups this second", path);
	return NULL;
}

/* Removes all but the newest keep backups; never the one just written
 * (a clock set back would sort it first).  Failures are not the set's:
 * a backup left over is harmless. */
static void prune_backups(const char *path, const char *just_written, unsigned keep)
{
	size_t nb;
	env_backup *all = list_backups(path, &nb);
	char *dcopy = xstrdup(path);
	const char *dir = dirname(dcopy);
	const char *jw = just_written ? strrchr(just_written, '/') : NULL;
	jw = jw ? jw + 1 : just_written;
	for (size_t i = 0; nb > keep && i < nb - keep; i++) {
		if (jw && strcmp(all[i].name, jw) == 0)
			continue;
		char *p = xasprintf("%s/%s", dir, all[i].name);
		unlink(p);
		free(p);
	}
	free(dcopy);
	free_backups(all, nb);
}


int envfile_set(const char *path, const char *key, const char *value,
                const envfile_stamp *expect, unsigned keep_backups,
                envfile_set_result *res, pgc_err *e)
{
	return envfile_set_many(path, &key, &value, 1, expect, keep_backups, res, e);
}

/* The text of data with keys[0..n) set in turn (a key named twice ends with
 * its last value); res[k] gets each one's old and new value. */
static int render_many(const char *path, const char *data, size_t len, const char *const *keys,
                       const char *const *values, size_t n, char **out, size_t *out_len,
                       envfile_set_result *res, pgc_err *e)
{
	char *cur = xmalloc(len + 1);
	memcpy(cur, data ? data : "", len);
	cur[len] = 0;
	size_t cur_len = len;
	for (size_t k = 0; k < n; k++) {
		envfile *ef;
		char *next, *old = NULL;
		size_t next_len;
		if (envfile_parse(path, cur, cur_len, &ef, e) < 0) {
			free(cur);
			return -1;
		}
		int rc = envfile_render_set(ef, keys[k], values[k], &next, &next_len, &old, e);
		envfile_free(ef);
		free(cur);
		if (rc < 0)
			return -1;
		res[k].old_value = old;
		res[k].new_value = xstrdup(values[k]);
		cur = next;
		cur_len = next_len;
	}
	*out = cur;
	*out_len = cur_len;
	return 0;
}

static void results_free(envfile_set_result *res, size_t n)
{
	for (size_t k = 0; k < n; k++)
		envfile_set_result_free(&res[k]);
}

int envfile_set_many(const char *path, const char *const *keys, const char *const *values, size_t n,
                     const envfile_stamp *expect, unsigned keep_backups,
                     envfile_set_result *res, pgc_err *e)
{
	memset(res, 0, n * sizeof *res);
	for (size_t k = 0; k < n; k++) {
		if (!envfile_valid_name(keys[k]))
			return pgc_fail(e, PGC_EXIT_USAGE, "'%s' is not a valid variable name", keys[k]);
		if (strchr(values[k], '\n') || strchr(values[k], '\r'))
			return pgc_fail(e, PGC_EXIT_USAGE, "%s: a flag value cannot span lines", keys[k]);
	}
	if (keep_backups == 0)
		keep_backups = ENVFILE_DEFAULT_KEEP_BACKUPS;
	char *data;
	size_t len;
	struct stat sb;
	memset(&sb, 0, sizeof sb);
	if (read_with_stat(path, &data, &len, &sb, e) < 0)
		return -1;
	envfile_stamp before = {0};
	if (data)
		stamp_of(&sb, data, len, &before);
	if (expect && !envfile_stamp_equal(expect, &before)) {
		free(data);
		return pgc_fail(e, PGC_EXIT_TEMPFAIL,
		                "%s was changed behind pgcutover's back since it was last read; "
		                "re-read it before setting %s", path, keys[0]);
	}
	char *next;
	size_t next_len;
	if (render_many(path, data, len, keys, values, n, &next, &next_len, res, e) < 0) {
		free(data);
		results_free(res, n);
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		res[k].before = before;
	if (data && next_len == len && memcmp(next, data, len) == 0) {
		for (size_t k = 0; k < n; k++)
			res[k].after = before;
		free(next);
		free(data);
		return 0;
	}
	remove_stale_temps(path);
	char *backup = NULL;
	if (data) {
		backup = write_backup(path, data, len, e);
		if (!backup) {
			free(next);
			free(data);
			results_free(res, n);
			return -1;
		}
	}
	/* the file's own mode and owner, or ENVFILE_NEW_MODE whatever the umask */
	int rc = pgc_write_file_atomic(path, next, next_len, ENVFILE_NEW_MODE, PGC_WRITE_KEEP_MODE, e);
	free(next);
	free(data);
	if (rc < 0) {
		/* The file is unchanged: its backup would only crowd out an older one. */
		if (backup)
			unlink(backup);
		free(backup);
		results_free(res, n);
		return -1;
	}
	if (backup)
		prune_backups(path, backup, keep_backups);
	envfile_stamp after;
	if (envfile_stat(path, &after, e) < 0) {
		free(backup);
		results_free(res, n);
		return -1;
	}
	/* A key's own change: its value differs from before the write (one
	 * key alone: the file was rewritten for it). */
	for (size_t k = 0; k < n; k++) {
		res[k].changed = n == 1 || !res[k].old_value || strcmp(res[k].old_value, res[k].new_value) != 0;
		res[k].backup_path = backup ? xstrdup(backup) : NULL;
		res[k].after = after;
	}
	free(backup);
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
