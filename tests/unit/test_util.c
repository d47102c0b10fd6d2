/* test_util.c -- shared helpers: string buffers, errors, time parsing and
 * formatting (times out of any calendar too), SHA-256, and sanitising of
 * terminal escapes. */
#include "config.h"
#include <stdlib.h>
#include "pgcutover/util.h"
#include "tap.h"

int main(void)
{
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

	ok(pgc_login_name()[0] != '\0', "login name is never empty");
	return done_testing();
}
