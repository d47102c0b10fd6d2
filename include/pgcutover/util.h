/*
 * util.h -- small shared helpers for every core module: error values that
 * carry a message (file:line:col when they come from a file), checked
 * allocation, a growable string buffer, and the sysexits codes the commands
 * return.  Nothing here prints or exits; callers decide.
 */
#ifndef PGCUTOVER_UTIL_H
#define PGCUTOVER_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (sysexits.h values, named for what they mean here). */
enum {
	PGC_EXIT_OK = 0,
	PGC_EXIT_DIFFERENT = 1,   /* checked and found a difference */
	PGC_EXIT_USAGE = 64,
	PGC_EXIT_DATAERR = 65,    /* bad runbook / config / input */
	PGC_EXIT_NOINPUT = 66,
	PGC_EXIT_UNAVAILABLE = 69,/* a server unavailable */
	PGC_EXIT_SOFTWARE = 70,
	PGC_EXIT_CANTCREAT = 73,  /* cannot create or open state */
	PGC_EXIT_IOERR = 74,
	PGC_EXIT_TEMPFAIL = 75,   /* state locked by another driver */
	PGC_EXIT_NOPERM = 77,
	PGC_EXIT_CONFIG = 78,
};

#define PGC_ERR_MAX 1024

/* An error travelling up as a value.  code is one of PGC_EXIT_*. */
typedef struct pgc_err {
	int code;
	char msg[PGC_ERR_MAX];
} pgc_err;

/* Sets e (when non-NULL) and returns -1, so callers can `return pgc_fail(...)`. */
int pgc_fail(pgc_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pgc_err_clear(pgc_err *e);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable NUL-terminated buffer. */
typedef struct strbuf {
	char *buf;
	size_t len, cap;
} strbuf;

void sb_init(strbuf *sb);
void sb_add(strbuf *sb, const char *s, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_putc(strbuf *sb, char c);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sb_steal(strbuf *sb);   /* returns buf (never NULL), resets sb */
void sb_free(strbuf *sb);

/* Reads a whole file (max_bytes limit, 0 = none).  Returns 0 or -1 with e set. */
int pgc_read_file(const char *path, size_t max_bytes, char **out, size_t *len, pgc_err *e);

/* Wall clock in seconds since the epoch, with sub-second precision. */
double pgc_now(void);
/* "2026-11-24T02:05:07.123Z" into buf (at least 32 bytes); PGC_TIME_INVALID
 * for a time not finite, before 1970 or after 9999. */
#define PGC_TIME_INVALID "invalid time"
void pgc_iso8601(double t, char *buf, size_t n);
/* Parses ISO-8601 / "YYYY-MM-DD HH:MM[:SS]" / unix seconds. -1 on error. */
int pgc_parse_time(const char *s, double *out);

/* Login name for --operator default; host name. Never NULL. */
const char *pgc_login_name(void);
const char *pgc_host_name(void);

/* mkdir -p: dir and the directories above it that are missing, each new
 * one with mode (0700 for those that hold the state and its audit; the
 * umask may narrow it); 0 when dir then is a directory, else -1 with e
 * set (PGC_EXIT_CANTCREAT). */
int pgc_mkdir_p(const char *dir, mode_t mode, pgc_err *e);

/* Writes data to path all or nothing, the one way pgcutover replaces a
 * file: a new temporary file beside it (DIR/.NAME.pgcutover-XXXXXX, made
 * O_EXCL, never through a planted link), written, fsynced, then renamed
 * over path -- or with PGC_WRITE_NO_CLOBBER linked to it, failing with
 * errno EEXIST (and PGC_EXIT_CANTCREAT) when path exists, so a file that
 * appeared meanwhile is not lost (where the file system has no hard links,
 * renamed to a name found free: no guard against a writer racing for the
 * same name, so such callers hold the lease) -- then the directory fsynced.  A reader sees
 * the old file or the new one, never a part; on failure path is as it
 * was and the temporary file is gone (a process killed mid-way leaves it:
 * pgc_write_temp_prefix names what to look for).
 * mode is narrowed by the umask unless PGC_WRITE_EXACT_MODE;
 * PGC_WRITE_KEEP_MODE keeps the mode and (where allowed) the owner of the
 * file replaced, and gives a new file exactly mode. */
enum {
	PGC_WRITE_NO_CLOBBER = 1 << 0,
	PGC_WRITE_EXACT_MODE = 1 << 1,
	PGC_WRITE_KEEP_MODE = 1 << 2,
};
#define PGC_WRITE_TEMP_INFIX ".pgcutover-"
#define PGC_WRITE_TEMP_RANDOM 6     /* characters after the infix */
#define PGC_WRITE_TEMP_TRIES 100
int pgc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          unsigned flags, pgc_err *e);
/* "DIR/.NAME" PGC_WRITE_TEMP_INFIX: what the temporary files of a write of
 * path start with (PGC_WRITE_TEMP_RANDOM characters follow). */
char *pgc_write_temp_prefix(const char *path);

/* Lower-case hex SHA-256 of data (out has 65 bytes). */
void pgc_sha256_hex(const void *data, size_t n, char out[65]);

/* A copy of n bytes of s fit for a terminal or a JSON string, so text from
 * a runbook, a database or a command can be drawn or printed safely:
 * control characters (C0, DEL, C1 such as CSI as U+009B, so escape
 * sequences too) and invalid UTF-8 become '?'.  A tab becomes a space and
 * a newline '?' (one line), or with PGC_SANITIZE_LINES both are kept.
 * Returns a new string. */
enum { PGC_SANITIZE_LINES = 1 << 0 };
char *pgc_sanitize_n(const char *s, size_t n, unsigned flags);
/* pgc_sanitize_n of the string s as one line. */
char *pgc_sanitize(const char *s);
/* One UTF-8 sequence at s (n bytes there): its length and code point, or 0
 * when invalid (overlong, surrogate, beyond U+10FFFF, cut short). */
size_t pgc_utf8_decode(const unsigned char *s, size_t n, unsigned *cp);

#endif
