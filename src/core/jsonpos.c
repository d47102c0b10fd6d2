/*
 * jsonpos.c -- a small strict JSON scanner that knows where things are.
 * config.c runs jsonpos_validate() before cJSON so a syntax error names the
 * problem ("trailing comma before '}'") at the right line:col instead of
 * cJSON's bare offset, and jsonpos_find() afterwards to point an error about
 * a value (unknown key, wrong type, inline password) at the line:col where
 * the operator wrote it.  The scanner never copies or echoes token text, so
 * a secret typed without quotes is not repeated in a message.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "pgcutover/jsonpos.h"
#include "pgcutover/util.h"

typedef struct jp_scan {
	const char *s;
	size_t len, i;
	size_t err_at;
	char *msg;
	size_t msgsz;
} jp_scan;

#define JP_EOF (-1)

static int peek(const jp_scan *sc)
{
	return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : JP_EOF;
}

static int jp_fail(jp_scan *sc, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int jp_fail(jp_scan *sc, size_t at, const char *fmt, ...)
{
	sc->err_at = at;
	if (sc->msg && sc->msgsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(sc->msg, sc->msgsz, fmt, ap);
		va_end(ap);
	}
	return -1;
}

jsonpos jsonpos_at(const char *text, size_t len, size_t offset)
{
	jsonpos p = {offset, 1, 1};
	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			p.line++;
			p.col = 1;
		} else if ((c & 0xC0) != 0x80) {   /* not a UTF-8 continuation byte */
			p.col++;
		}
	}
	return p;
}

static void skip_ws(jp_scan *sc)
{
	while (sc->i < sc->len) {
		char c = sc->s[sc->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		sc->i++;
	}
}

static bool is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of a valid UTF-8 sequence starting at s[i], or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned cp;
	return pgc_utf8_decode(s, avail, &cp);
}

static int scan_string(jp_scan *sc)
{
	size_t open = sc->i++;
	for (;;) {
		int c = peek(sc);
		if (c == JP_EOF || c == '\n')
			return jp_fail(sc, open, "unterminated string");
		if (c == '"') {
			sc->i++;
			return 0;
		}
		if (c < 0x20)
			return jp_fail(sc, sc->i, "control character in a string (write it as a \\u escape)");
		if (c == '\\') {
			size_t at = sc->i++;
			int e = peek(sc);
			if (e == 'u') {
				for (int k = 1; k <= 4; k++)
					if (sc->i + k >= sc->len || !is_hex((unsigned char)sc->s[sc->i + k]))
						return jp_fail(sc, at, "\\u must be followed by four hex digits");
				/* cJSON would cut the string there, silently. */
				if (memcmp(sc->s + sc->i + 1, "0000", 4) == 0)
					return jp_fail(sc, at, "\\u0000 (NUL) is not allowed in a string");
				sc->i += 5;
			} else if (e != JP_EOF && strchr("\"\\/bfnrt", e)) {
				sc->i++;
			} else {
				return jp_fail(sc, at, "invalid escape in a string "
				               "(a backslash is written \\\\)");
			}
			continue;
		}
		size_t n = utf8_len((const unsigned char *)sc->s + sc->i, sc->len - sc->i);
		if (n == 0)
			return jp_fail(sc, sc->i, "invalid UTF-8 in a string");
		sc->i += n;
	}
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(jp_scan *sc)
{
	size_t start = sc->i;
	if (peek(sc) == '-')
		sc->i++;
	if (peek(sc) == '0') {
		sc->i++;
		if (is_digit(peek(sc)))
			return jp_fail(sc, start, "numbers cannot start with 0");
	} else if (is_digit(peek(sc))) {
		while (is_digit(peek(sc)))
			sc->i++;
	} else {
		return jp_fail(sc, start, "invalid number");
	}
	if (peek(sc) == '.') {
		sc->i++;
		if (!is_digit(peek(sc)))
			return jp_fail(sc, start, "invalid number: digits must follow '.'");
		while (is_digit(peek(sc)))
			sc->i++;
	}
	if (peek(sc) == 'e' || peek(sc) == 'E') {
		sc->i++;
		if (peek(sc) == '+' || peek(sc) == '-')
			sc->i++;
		if (!is_digit(peek(sc)))
			return jp_fail(sc, start, "invalid number: digits must follow the exponent");
		while (is_digit(peek(sc)))
			sc->i++;
	}
	return 0;
}

static bool is_word_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

static int scan_value(jp_scan *sc, int depth);

static int bad_value(jp_scan *sc)
{
	int c = peek(sc);
	if (c == JP_EOF)
		return jp_fail(sc, sc->i, "unexpected end of input, expected a value");
	if (c == '/')
		return jp_fail(sc, sc->i, "comments are not allowed in JSON");
	if (c == '\'')
		return jp_fail(sc, sc->i, "strings must be in double quotes");
	if (c == '}' || c == ']' || c == ',')
		return jp_fail(sc, sc->i, "expected a value before '%c'", c);
	/* Deliberately not echoing the word: it may be a secret typed bare. */
	return jp_fail(sc, sc->i, "expected a value (a string in double quotes, a number, "
	               "an object, an array, true, false or null)");
}

static int scan_literal(jp_scan *sc)
{
	static const char *const words[] = {"true", "false", "null"};
	for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
		size_t n = strlen(words[k]);
		if (sc->len - sc->i >= n && memcmp(sc->s + sc->i, words[k], n) == 0 &&
		    (sc->i + n == sc->len || !is_word_char((unsigned char)sc->s[sc->i + n]))) {
			sc->i += n;
			return 0;
		}
	}
	return bad_value(sc);
}

static int scan_object(jp_scan *sc, int depth)
{
	size_t open = sc->i++;
	size_t last_comma = 0;
	bool after_comma = false;
	skip_ws(sc);
	if (peek(sc) == '}') {
		sc->i++;
		return 0;
	}
	for (;;) {
		int c = peek(sc);
		if (c == '}' && after_comma)
			return jp_fail(sc, last_comma, "trailing comma before '}'");
		if (c == '/')
			return jp_fail(sc, sc->i, "comments are not allowed in JSON");
		if (c == JP_EOF) {
			jsonpos o = jsonpos_at(sc->s, sc->len, open);
			return jp_fail(sc, sc->i, "end of input inside the object opened at %d:%d",
			               o.line, o.col);
		}
		if (c != '"')
			return jp_fail(sc, sc->i, "expected a key in double quotes");
		if (scan_string(sc) < 0)
			return -1;
		skip_ws(sc);
		if (peek(sc) != ':')
			return jp_fail(sc, sc->i, "expected ':' after the key");
		sc->i++;
		skip_ws(sc);
		if (scan_value(sc, depth + 1) < 0)
			return -1;
		skip_ws(sc);
		c = peek(sc);
		if (c == '}') {
			sc->i++;
			return 0;
		}
		if (c == ',') {
			last_comma = sc->i++;
			after_comma = true;
			skip_ws(sc);
			continue;
		}
		if (c == JP_EOF) {
			jsonpos o = jsonpos_at(sc->s, sc->len, open);
			return jp_fail(sc, sc->i, "end of input inside the object opened at %d:%d",
			               o.line, o.col);
		}
		if (c == '"')
			return jp_fail(sc, sc->i, "missing ',' between members");
		if (c == '/')
			return jp_fail(sc, sc->i, "comments are not allowed in JSON");
		return jp_fail(sc, sc->i, "expected ',' or '}' after a member");
	}
}

static int scan_array(jp_scan *sc, int depth)
{
	size_t open = sc->i++;
	size_t last_comma = 0;
	bool after_comma = false;
	skip_ws(sc);
	if (peek(sc) == ']') {
		sc->i++;
		return 0;
	}
	for (;;) {
		int c = peek(sc);
		if (c == ']' && after_comma)
			return jp_fail(sc, last_comma, "trailing comma before ']'");
		if (c == JP_EOF) {
			jsonpos o = jsonpos_at(sc->s, sc->len, open);
			return jp_fail(sc, sc->i, "end of input inside the array opened at %d:%d",
			               o.line, o.col);
		}
		if (scan_value(sc, depth + 1) < 0)
			return -1;
		skip_ws(sc);
		c = peek(sc);
		if (c == ']') {
			sc->i++;
			return 0;
		}
		if (c == ',') {
			last_comma = sc->i++;
			after_comma = true;
			skip_ws(sc);
			continue;
		}
		if (c == JP_EOF) {
			jsonpos o = jsonpos_at(sc->s, sc->len, open);
			return jp_fail(sc, sc->i, "end of input inside the array opened at %d:%d",
			               o.line, o.col);
		}
		if (c == '/')
			return jp_fail(sc, sc->i, "comments are not allowed in JSON");
		return jp_fail(sc, sc->i, "missing ',' or ']' after an element");
	}
}

static int scan_value(jp_scan *sc, int depth)
{
	if (depth > JSONPOS_MAX_DEPTH)
		return jp_fail(sc, sc->i, "nested deeper than %d levels", JSONPOS_MAX_DEPTH);
	int c = peek(sc);
	if (c == '{')
		return scan_object(sc, depth);
	if (c == '[')
		return scan_array(sc, depth);
	if (c == '"')
		return scan_string(sc);
	if (c == '-' || is_digit(c))
		return scan_number(sc);
	if (c == 't' || c == 'f' || c == 'n')
		return scan_literal(sc);
	return bad_value(sc);
}

int jsonpos_validate(const char *text, size_t len, jsonpos *where, char *msg, size_t msgsz)
{
	jp_scan sc = {text, len, 0, 0, msg, msgsz};
	int rc;
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		rc = jp_fail(&sc, (size_t)(nul - text), "NUL byte in the file");
	} else {
		skip_ws(&sc);
		if (sc.i == len)
			rc = jp_fail(&sc, sc.i, "the file is empty; expected a JSON object");
		else if ((rc = scan_value(&sc, 0)) == 0) {
			skip_ws(&sc);
			if (sc.i < len)
				rc = jp_fail(&sc, sc.i, "unexpected text after the end of the JSON value");
		}
	}
	if (rc < 0 && where)
		*where = jsonpos_at(text, len, sc.err_at);
	return rc;
}

int jsonpos_find(const char *text, size_t len, const int *path, size_t depth,
                 bool want_key, jsonpos *out)
{
	jp_scan sc = {text, len, 0, 0, NULL, 0};
	skip_ws(&sc);
	for (size_t level = 0; level < depth; level++) {
		bool last = level + 1 == depth;
		int c = peek(&sc);
		if (c != '{' && c != '[')
			return -1;
		sc.i++;
		skip_ws(&sc);
		for (int k = 0;; k++) {
			if (peek(&sc) == '}' || peek(&sc) == ']' || peek(&sc) == JP_EOF)
				return -1;
			if (c == '{') {
				size_t key_at = sc.i;
				if (peek(&sc) != '"' || scan_string(&sc) < 0)
					return -1;
				skip_ws(&sc);
				if (peek(&sc) != ':')
					return -1;
				sc.i++;
				skip_ws(&sc);
				if (k == path[level] && last && want_key) {
					*out = jsonpos_at(text, len, key_at);
					return 0;
				}
			}
			if (k == path[level])
				break;
			if (scan_value(&sc, (int)level + 1) < 0)
				return -1;
			skip_ws(&sc);
			if (peek(&sc) != ',')
				return -1;
			sc.i++;
			skip_ws(&sc);
		}
	}
	*out = jsonpos_at(text, len, sc.i);
	return 0;
}
