/* test_util.c -- shared helpers: string buffers, errors, time parsing and
 * formatting, SHA-256, and sanitising of terminal escapes. */
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

	char *clean = pgc_sanitize("ok\x1b[2Jbad\x07\tend\xc2\x9b" "1m");
	is_str(clean, "ok?[2Jbad? end?1m", "escape, BEL, tab and C1 CSI neutralised");
	free(clean);
	clean = pgc_sanitize("Supabase \xe2\x86\x92 PostgreSQL \xe2\x9c\x85");
	is_str(clean, "Supabase \xe2\x86\x92 PostgreSQL \xe2\x9c\x85", "UTF-8 text kept as is");
	free(clean);

	ok(pgc_login_name()[0] != '\0', "login name is never empty");
	return done_testing();
}
