/*
 * fuzz_rest.c -- libFuzzer target for what a PostgREST server (or anything
 * pretending to be one) sends back to rest.c: the Content-Range header
 * (rest_parse_content_range) and the body of an error reply
 * (rest_parse_error_body), then the masking and the one-line description
 * the console and `counts` show (rest_mask_secret, rest_result_describe),
 * and the table name to URL path (rest_count_url).
 * Input: line 1 is the Content-Range value, line 2 the API key, the rest
 * the error body (exactly sized, no NUL after it); the first byte after
 * them picks the outcome and HTTP status.
 * Oracles besides the sanitizers: a parsed total is -1 or >= 0 and parses
 * again the same from "0-0/<total>"; a key (base64url, 8+ characters with
 * a letter, as keys are) never survives masking into any field or the
 * description; the description holds no terminal control character; a URL
 * holds no space or control character.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/rest.h"

#define FUZZ_BASE_URL "https://fuzz.supabase.co"
#define FUZZ_KEY_MIN 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *take_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl ? nl : end;
	char *s = xstrndup((const char *)*p, (size_t)(stop - *p));
	*p = nl ? nl + 1 : end;
	return s;
}

/* Keys are base64url with letters in them: an all-digit "key" would be
 * found in a row count the server sent, which is no leak. */
static bool realistic_key(const char *k)
{
	size_t n = strlen(k);
	bool letter = false;
	if (n < FUZZ_KEY_MIN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)k[i]) && !strchr("-_=.", k[i]))
			return false;
		letter = letter || isalpha((unsigned char)k[i]);
	}
	return letter;
}

static void mask_field(char **f, const char *key, bool check)
{
	char *m = rest_mask_secret(*f, key);
	free(*f);
	*f = m;
	if (check && m && strstr(m, key))
		abort();
}

static void no_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *range = take_line(&p, end);
	char *key = take_line(&p, end);
	unsigned sel = p < end ? *p++ : 0;
	size_t blen = (size_t)(end - p);
	char *body = malloc(blen ? blen : 1);
	if (blen)
		memcpy(body, p, blen);

	int64_t total = -2;
	if (rest_parse_content_range(range, &total) == 0) {
		if (total < -1)
			abort();
		if (total >= 0) {
			char again[64];
			int64_t t2 = -2;
			snprintf(again, sizeof again, "0-0/%" PRId64, total);
			if (rest_parse_content_range(again, &t2) != 0 || t2 != total)
				abort();
		}
	}

	static const long statuses[] = {400, 401, 403, 404, 406, 500, 502, 503, 504, 200};
	rest_result res;
	memset(&res, 0, sizeof res);
	res.outcome = (rest_outcome)(sel % (REST_ERR_PROTOCOL + 1));
	res.http_status = statuses[(sel >> 3) % (sizeof statuses / sizeof statuses[0])];
	res.total = total;
	rest_parse_error_body(body, blen, &res);
	bool check = realistic_key(key);
	mask_field(&res.code, key, check);
	mask_field(&res.message, key, check);
	mask_field(&res.hint, key, check);
	mask_field(&res.details, key, check);
	char *d = rest_result_describe(&res);
	no_controls(d);
	if (check && strstr(d, key))
		abort();
	free(d);
	rest_result copy;
	rest_result_copy(&copy, &res);
	rest_result_clear(&copy);
	rest_result_clear(&res);

	char *url = rest_count_url(FUZZ_BASE_URL, range, 1);
	if (url) {
		for (const unsigned char *u = (const unsigned char *)url; *u; u++)
			if (*u <= 0x20 || *u >= 0x7f)
				abort();
		free(url);
	}
	free(range);
	free(key);
	free(body);
	return 0;
}
