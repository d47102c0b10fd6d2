/*
 * util.c -- shared helpers for the core: error values, checked allocation,
 * string buffers, file reading, time formatting, identity, SHA-256 (OpenSSL
 * libcrypto) and sanitising text before it reaches a terminal.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "pgcutover/util.h"

/* The times pgc_iso8601() writes: from the epoch (no event is older) to
 * the last a year of four digits can hold. */
#define PGC_TIME_MIN 0.0
#define PGC_TIME_END 253402300800.0    /* 10000-01-01T00:00:00Z */

int pgc_fail(pgc_err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
		e->code = code;
	}
	return -1;
}

void pgc_err_clear(pgc_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

static void oom(void)
{
	static const char msg[] = "pgcutover: out of memory\n";
	if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p) oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void sb_init(strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

static void sb_grow(strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void sb_add(strbuf *sb, const char *s, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_puts(strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_putc(strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_printf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *sb_steal(strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	sb_init(sb);
	return p;
}

void sb_free(strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

/* Decodes one UTF-8 sequence at s (n bytes available).  Returns its length
 * and sets *cp, or 0 when the bytes there are not valid UTF-8 (overlong, a
 * surrogate, beyond U+10FFFF or cut short). */
size_t pgc_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t k;
	unsigned min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		k = 1; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		k = 2; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		k = 3; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < k + 1)
		return 0;
	for (size_t i = 1; i <= k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return k + 1;
}

/* The directory part of path, fsynced so a rename in it is durable. */
static int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xasprintf("%.*s", slash == path ? 1 : (int)(slash - path), path) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int pgc_mkdir_p(const char *dir, mode_t mode, pgc_err *e)
{
	if (!dir || !*dir)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "no directory named");
	char *p = xstrdup(dir);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int err = errno;
			pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot create directory: %s", p, strerror(err));
			free(p);
			errno = err;
			return -1;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	struct stat sb;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: not a directory", dir);
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

char *pgc_write_temp_prefix(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xasprintf("." "%s" PGC_WRITE_TEMP_INFIX, path);
	return xasprintf("%.*s/.%s" PGC_WRITE_TEMP_INFIX, (int)(slash - path), path, slash + 1);
}

/* A new file named PREFIX plus six characters, created O_EXCL (never
 * through a planted link) with mode; -1 with errno when none could be. */
static int open_temp(const char *prefix, mode_t mode, char **name)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned counter;
	*name = NULL;
	for (int tries = 0; tries < PGC_WRITE_TEMP_TRIES; tries++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)++counter * 0x9E3779B97F4A7C15ull);
		char sfx[PGC_WRITE_TEMP_RANDOM + 1];
		for (int k = 0; k < PGC_WRITE_TEMP_RANDOM; k++, x /= (sizeof alphabet - 1))
			sfx[k] = alphabet[x % (sizeof alphabet - 1)];
		sfx[PGC_WRITE_TEMP_RANDOM] = '\0';
		free(*name);
		*name = xasprintf("%s%s", prefix, sfx);
		int fd = open(*name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Links tmp to path, which must not exist; on a file system without hard
 * links, renames it there when the name is free (a rename would replace). */
static int link_no_clobber(const char *tmp, const char *path)
{
	if (link(tmp, path) == 0)
		return 0;
	int err = errno;
	if (err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS) {
		if (access(path, F_OK) == 0) {
			errno = EEXIST;
			return -1;
		}
		if (errno == ENOENT)
			return rename(tmp, path);
	}
	errno = err;
	return -1;
}

int pgc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          unsigned flags, pgc_err *e)
{
	struct stat old;
	bool keep = (flags & PGC_WRITE_KEEP_MODE) && stat(path, &old) == 0 && S_ISREG(old.st_mode);
	if (keep)
		mode = old.st_mode & 07777;
	char *prefix = pgc_write_temp_prefix(path), *tmp = NULL;
	int fd = open_temp(prefix, mode, &tmp);
	free(prefix);
	if (fd < 0) {
		int err = errno;
		pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot create a temporary file beside it: %s", path, strerror(err));
		free(tmp);
		errno = err;
		return -1;
	}
	int err = 0;
	if (keep && fchown(fd, old.st_uid, old.st_gid) < 0) {
		/* Only root may give a file away; as the owner it is already right. */
	}
	if ((flags & (PGC_WRITE_EXACT_MODE | PGC_WRITE_KEEP_MODE)) && fchmod(fd, mode) < 0)
		err = errno;
	if (!err && write_all(fd, data, len) < 0)
		err = errno;
	if (!err && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (err) {
		unlink(tmp);
		pgc_fail(e, PGC_EXIT_IOERR, "%s: cannot write: %s", tmp, strerror(err));
		free(tmp);
		errno = err;
		return -1;
	}
	int rc = (flags & PGC_WRITE_NO_CLOBBER) ? link_no_clobber(tmp, path) : rename(tmp, path);
	err = errno;
	if (rc < 0 || (flags & PGC_WRITE_NO_CLOBBER))
		unlink(tmp);
	free(tmp);
	if (rc < 0) {
		if (err == EEXIST)
			pgc_fail(e, PGC_EXIT_CANTCREAT, "%s already exists", path);
		else
			pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: cannot replace: %s", path, strerror(err));
		errno = err;
		return -1;
	}
	if (fsync_dir_of(path) < 0)
		return pgc_fail(e, PGC_EXIT_IOERR, "%s: fsync of its directory: %s", path, strerror(errno));
	return 0;
}

int pgc_read_file(const char *path, size_t max_bytes, char **out, size_t *len, pgc_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pgc_fail(e, errno == ENOENT ? PGC_EXIT_NOINPUT : PGC_EXIT_IOERR,
		                "%s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return pgc_fail(e, PGC_EXIT_NOINPUT, "%s: not a regular file", path);
	}
	if (max_bytes && (size_t)sb.st_size > max_bytes) {
		close(fd);
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s:1:1: file is %lld bytes, larger than the %zu byte limit",
		                path, (long long)sb.st_size, max_bytes);
	}
	strbuf b;
	sb_init(&b);
	sb_grow(&b, (size_t)sb.st_size);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			sb_free(&b);
			return pgc_fail(e, PGC_EXIT_IOERR, "%s: %s", path, strerror(err));
		}
		if (n == 0)
			break;
		if (max_bytes && b.len + (size_t)n > max_bytes) {
			close(fd);
			sb_free(&b);
			return pgc_fail(e, PGC_EXIT_DATAERR, "%s:1:1: file larger than the %zu byte limit", path, max_bytes);
		}
		sb_add(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	*out = sb_steal(&b);
	return 0;
}

double pgc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pgc_iso8601(double t, char *buf, size_t n)
{
	/* A time from a file (an imported export) may be anything; beyond
	 * these it is no date, and no long long of milliseconds either. */
	if (!(t >= PGC_TIME_MIN && t < PGC_TIME_END)) {
		snprintf(buf, n, "%s", PGC_TIME_INVALID);
		return;
	}
	/* Rounded to the millisecond: a time parsed back from this text is a
	 * double a hair below it, and truncating would lose a millisecond. */
	long long total_ms = (long long)(t * 1000.0 + 0.5);
	time_t s = (time_t)(total_ms / 1000);
	int ms = (int)(total_ms % 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char tmp[32];
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%03dZ", tmp, ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

int pgc_parse_time(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (*s && *end == '\0' && strchr(s, '-') == NULL) {
		*out = v;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p) p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!p) { memset(&tm, 0, sizeof tm); p = strptime(s, "%Y-%m-%dT%H:%M", &tm); }
	if (!p) { memset(&tm, 0, sizeof tm); p = strptime(s, "%Y-%m-%d %H:%M", &tm); }
	if (!p) { memset(&tm, 0, sizeof tm); p = strptime(s, "%Y-%m-%d", &tm); }
	if (!p)
		return -1;
	double frac = 0;
	if (*p == '.') {
		frac = strtod(p, &end);
		p = end;
	}
	bool utc = (*p == 'Z' || *p == '\0');
	if (*p == 'Z') p++;
	if (*p != '\0')
		return -1;
	time_t t = utc ? timegm(&tm) : mktime(&tm);
	*out = (double)t + frac;
	return 0;
}

const char *pgc_login_name(void)
{
	static char name[256];
	if (name[0])
		return name;
	const char *u = getenv("USER");
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		u = pw->pw_name;
	snprintf(name, sizeof name, "%s", u && *u ? u : "unknown");
	return name;
}

const char *pgc_host_name(void)
{
	static char host[256];
	if (!host[0] && gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "localhost");
	return host;
}

void pgc_sha256_hex(const void *data, size_t n, char out[65])
{
	/* Fetched once: an implicit fetch per call takes OpenSSL's provider
	 * locks every time, which showed up in profiles of large runbooks. */
	static EVP_MD *sha256;
	static EVP_MD_CTX *ctx;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!sha256) {
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		ctx = EVP_MD_CTX_new();
	}
	if (!sha256 || !ctx || !EVP_DigestInit_ex(ctx, sha256, NULL) ||
	    !EVP_DigestUpdate(ctx, data, n) || !EVP_DigestFinal_ex(ctx, md, &mdlen))
		EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

char *pgc_sanitize_n(const char *s, size_t n, unsigned flags)
{
	strbuf b;
	sb_init(&b);
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	if (!s)
		n = 0;
	bool lines = (flags & PGC_SANITIZE_LINES) != 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '\t') {
			sb_putc(&b, lines ? '\t' : ' ');
			i++;
		} else if (c == '\n' && lines) {
			sb_putc(&b, '\n');
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_putc(&b, '?');
			i++;
		} else if (c < 0x80) {
			sb_putc(&b, (char)c);
			i++;
		} else {
			/* C1 controls (U+0080-U+009F, CSI as U+009B) count as
			 * invalid: a terminal may obey them */
			unsigned cp;
			size_t l = pgc_utf8_decode(p + i, n - i, &cp);
			if (l == 0) {
				sb_putc(&b, '?');
				i++;
			} else if (cp <= 0x9f) {
				sb_putc(&b, '?');   /* one character, one '?' */
				i += l;
			} else {
				sb_add(&b, (const char *)p + i, l);
				i += l;
			}
		}
	}
	return sb_steal(&b);
}

char *pgc_sanitize(const char *s)
{
	return pgc_sanitize_n(s, s ? strlen(s) : 0, 0);
}
