/*
 * output.c -- headless output a terminal cannot be driven by.  Strings from
 * a runbook, a config, a .env, a server or the audit reach stdout and
 * stderr in many places (a table name in an error line, a server's message,
 * a note); rather than trust every printf to sanitise them, main() puts
 * these filters between the headless commands and the file descriptors:
 *   text:  escape sequences, other control characters, C1 controls and
 *          invalid UTF-8 become '?' (pgc_sanitize_n); newlines and tabs stay;
 *   json:  C1 controls (U+0080-U+009F, valid UTF-8 a terminal may still
 *          obey) become \u00XX, the rest as in text (cJSON already escapes
 *          C0 controls inside strings).
 * Not filtered, by design: `run`'s streaming of a command's output (it
 * writes to the descriptors itself, as a shell would), the console's screen
 * (ncurses draws sanitised text itself), and `export`'s JSONL (data, byte
 * for byte).  A UTF-8 sequence split across two writes is held back until
 * its end arrives.
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pgcutover/action.h"
#include "cli_action.h"

#define UTF8_MAX 4

typedef struct safe_out {
	int fd;
	bool json;
	char carry[UTF8_MAX];   /* the start of a UTF-8 sequence not complete yet */
	size_t n_carry;
} safe_out;

static bool write_all(int fd, const char *d, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, d, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		d += w;
		n -= (size_t)w;
	}
	return true;
}

/* Bytes at the end that begin a UTF-8 sequence still missing its end. */
static size_t incomplete_tail(const unsigned char *p, size_t n)
{
	for (size_t back = 1; back < UTF8_MAX && back <= n; back++) {
		unsigned char c = p[n - back];
		if ((c & 0xc0) == 0x80)
			continue;   /* a continuation byte: look further back */
		size_t need = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 1;
		return need > back ? back : 0;
	}
	return 0;
}

static char *json_safe(const char *d, size_t n)
{
	strbuf b;
	sb_init(&b);
	size_t from = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char c = (unsigned char)d[i], c2 = (unsigned char)d[i + 1];
		if (c != 0xc2 || c2 < 0x80 || c2 > 0x9f)
			continue;
		char *s = pgc_sanitize_n(d + from, i - from, PGC_SANITIZE_LINES);
		sb_puts(&b, s);
		free(s);
		sb_printf(&b, "\\u%04x", c2);
		from = i + 2;
		i++;
	}
	char *s = pgc_sanitize_n(d + from, n - from, PGC_SANITIZE_LINES);
	sb_puts(&b, s);
	free(s);
	return sb_steal(&b);
}

static ssize_t safe_write(void *cookie, const char *buf, size_t size)
{
	safe_out *so = cookie;
	strbuf in;
	sb_init(&in);
	sb_add(&in, so->carry, so->n_carry);
	sb_add(&in, buf, size);
	size_t keep = incomplete_tail((const unsigned char *)in.buf, in.len);
	size_t n = in.len - keep;
	char *text = so->json ? json_safe(in.buf, n) : pgc_sanitize_n(in.buf, n, PGC_SANITIZE_LINES);
	memcpy(so->carry, in.buf + n, keep);
	so->n_carry = keep;
	bool ok = write_all(so->fd, text, strlen(text));
	free(text);
	sb_free(&in);
	return ok ? (ssize_t)size : -1;
}

static int safe_close(void *cookie)
{
	safe_out *so = cookie;
	for (size_t i = 0; i < so->n_carry; i++)   /* a sequence that never ended */
		write_all(so->fd, "?", 1);
	free(so);
	return 0;
}

static FILE *safe_stream(int fd, bool json, int buffering)
{
	safe_out *so = xcalloc(1, sizeof *so);
	so->fd = fd;
	so->json = json;
	cookie_io_functions_t io = {.write = safe_write, .close = safe_close};
	FILE *f = fopencookie(so, "w", io);
	if (!f) {
		free(so);
		return NULL;
	}
	setvbuf(f, NULL, buffering, BUFSIZ);
	return f;
}

/* The streams stdout and stderr were before the filters went in. */
static FILE *orig_stdout, *orig_stderr;

/* At exit: the filters write what they still hold and free their state
 * (exit() would only flush them), and the original streams come back for
 * whatever runs after. */
static void safe_output_end(void)
{
	if (orig_stdout) {
		FILE *f = stdout;
		stdout = orig_stdout;
		orig_stdout = NULL;
		fclose(f);
	}
	if (orig_stderr) {
		FILE *f = stderr;
		stderr = orig_stderr;
		orig_stderr = NULL;
		fclose(f);
	}
}

void cli_safe_output(bool out, bool err, bool json)
{
	if ((out || err) && !orig_stdout && !orig_stderr)
		atexit(safe_output_end);
	if (out && !orig_stdout) {
		fflush(stdout);
		FILE *f = safe_stream(STDOUT_FILENO, json, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF);
		if (f) {
			orig_stdout = stdout;
			stdout = f;
		}
	}
	if (err && !orig_stderr) {
		fflush(stderr);
		FILE *f = safe_stream(STDERR_FILENO, false, _IONBF);
		if (f) {
			orig_stderr = stderr;
			stderr = f;
		}
	}
}
