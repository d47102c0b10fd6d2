/*
 * test_verify_rest.c -- the pure parts of verify with a Supabase/PostgREST
 * source (verify.h): a timestamptz's text brought to UTC whatever zone the
 * source's session rendered it in, and the page query (select of texts,
 * key order, the keyset filter past the last key, quoted names and values).
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "pgcutover/verify.h"
#include "tap.h"

static void utc(const char *in, const char *want, const char *what)
{
	char out[96];
	bool okk = vfy_canon_timestamptz(in, out, sizeof out);
	ok(okk, "%s parses", what);
	is_str(okk ? out : "", want, what);
}

static void timestamps(void)
{
	utc("2024-03-10 14:05:06+00", "2024-03-10 14:05:06Z", "UTC stays");
	utc("2024-03-10 16:05:06+02", "2024-03-10 14:05:06Z", "+02 back two hours");
	utc("2024-03-10 19:35:06.5+05:30", "2024-03-10 14:05:06.5Z", "+05:30 with a fraction");
	utc("2024-03-10 14:05:06.500+00", "2024-03-10 14:05:06.5Z", "trailing zeros of a fraction");
	utc("2024-03-09 20:05:06-18", "2024-03-10 14:05:06Z", "-18 across midnight");
	utc("2024-01-01 01:00:00+02", "2023-12-31 23:00:00Z", "across a year");
	utc("2024-03-01 00:30:00+01", "2024-02-29 23:30:00Z", "into a leap day");
	utc("1900-01-01 00:00:00+00:19:32", "1899-12-31 23:40:28Z", "a local mean time offset with seconds");
	utc("0001-01-01 00:00:00+00 BC", "0-01-01 00:00:00Z", "1 BC is year 0");
	utc("2024-03-10T14:05:06Z", "2024-03-10 14:05:06Z", "ISO 8601 T and Z");
	char out[96];
	ok(!vfy_canon_timestamptz("infinity", out, sizeof out), "infinity is left as it is");
	ok(!vfy_canon_timestamptz("Sun Mar 10 14:05:06 2024 UTC", out, sizeof out),
	   "another DateStyle is left as it is");
	ok(!vfy_canon_timestamptz("2024-03-10 14:05:06+00junk", out, sizeof out), "trailing junk");
	ok(!vfy_canon_timestamptz("2024-03-10 14:05:06+00", out, 8), "too small a buffer");
}

static void page_queries(void)
{
	char *cols[] = {"id", "name", "my col"};
	char *key1[] = {"id"};
	char *q = vfy_rest_page_query(cols, 3, key1, 1, NULL, NULL);
	is_str(q, "select=id%3A%3Atext%2Cname%3A%3Atext%2C%22my%20col%22%3A%3Atext&order=id.asc",
	       "first page: every column as text, in key order");
	free(q);
	char *after1[] = {"42"};
	q = vfy_rest_page_query(cols, 3, key1, 1, after1, NULL);
	ok(strstr(q, "&id=gt.42") != NULL, "next page: past the last key (%s)", q);
	free(q);
	char *key2[] = {"a", "b"};
	char *after2[] = {"x,y", "q\"z"};
	q = vfy_rest_page_query(cols, 2, key2, 2, after2, NULL);
	/* (a, b) > ('x,y', 'q"z'), values double-quoted inside the tree */
	ok(strstr(q, "&or=%28a.gt.%22x%2Cy%22%2Cand%28a.eq.%22x%2Cy%22%2Cb.gt.%22q%5C%22z%22%29%29") != NULL,
	   "composite key: an or=(…) tree with quoted values (%s)", q);
	ok(strstr(q, "order=a.asc%2Cb.asc") != NULL, "composite key: both parts ordered");
	free(q);
	char *upto1[] = {"99"};
	q = vfy_rest_page_query(cols, 3, key1, 1, after1, upto1);
	ok(strstr(q, "&id=gt.42&id=lte.99") != NULL, "a range: after one key, up to and with another (%s)", q);
	free(q);
	char *upto2[] = {"z", "1"};
	q = vfy_rest_page_query(cols, 2, key2, 2, after2, upto2);
	/* and=(or(a>x,y…),or(a<z, a=z and b<=1)) */
	ok(strstr(q, "&and=%28or%28a.gt.%22x%2Cy%22%2Cand%28a.eq.%22x%2Cy%22%2Cb.gt.%22q%5C%22z%22%29%29"
	             "%2Cor%28a.lt.%22z%22%2Cand%28a.eq.%22z%22%2Cb.lte.%221%22%29%29%29") != NULL,
	   "a composite range: both trees in one and=(…) (%s)", q);
	free(q);
	char *k1[] = {"7", "a\"b"};
	q = vfy_rest_keys_query(cols, 3, key1, 1, k1, 2);
	ok(strstr(q, "&or=%28id.eq.%227%22%2Cid.eq.%22a%5C%22b%22%29") != NULL, "rows by key: or=(k.eq.…) (%s)", q);
	free(q);
	char *k2[] = {"x", "1", "y", "2"};
	q = vfy_rest_keys_query(cols, 2, key2, 2, k2, 2);
	ok(strstr(q, "&or=%28and%28a.eq.%22x%22%2Cb.eq.%221%22%29%2Cand%28a.eq.%22y%22%2Cb.eq.%222%22%29%29") != NULL,
	   "rows by composite key: or=(and(…),and(…)) (%s)", q);
	free(q);
	q = vfy_rest_page_query(cols, 2, NULL, 0, NULL, NULL);
	ok(strstr(q, "order") == NULL, "no key: no order");
	free(q);
}

int main(void)
{
	timestamps();
	page_queries();
	return done_testing();
}
