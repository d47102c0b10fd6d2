/*
 * tap.h -- a minimal TAP producer for the C unit tests (read by automake's
 * tap-driver.sh).  ok(cond, fmt, ...) records one test; done_testing() prints
 * the plan and returns the exit status.
 */
#ifndef PGC_TAP_H
#define PGC_TAP_H
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}
#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, name) do { long long g_ = (got), w_ = (want); \
	if (!ok(g_ == w_, "%s", name)) printf("#   got %lld, want %lld\n", g_, w_); } while (0)
#define is_str(got, want, name) do { const char *g_ = (got), *w_ = (want); \
	if (!ok(g_ && w_ && strcmp(g_, w_) == 0, "%s", name)) \
		printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)
/* A mkdtemp/mkstemp template, $TMPDIR/NAME-XXXXXX (/tmp when TMPDIR is
 * unset), in buf: `dev.sh test` points TMPDIR at a directory of the run's
 * own, so it can name whatever a test leaves behind. */
#define TAP_TMPL_MAX 512
static inline char *tap_tmpl(char *buf, size_t n, const char *name)
{
	const char *d = getenv("TMPDIR");
	snprintf(buf, n, "%s/%s-XXXXXX", d && *d ? d : "/tmp", name);
	return buf;
}
static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
