/*
 * test_rest.c -- the pure parts of the Supabase/PostgREST client: reading
 * the total from Content-Range, telling JWTs from new sb_ keys, splitting
 * schema-qualified names, building count URLs with the table URL-encoded,
 * masking the key in messages, and how errors are described.  The HTTP side
 * is tested against a real server in tests/integration/rest_*.sh.
 */
#include "config.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "pgcutover/rest.h"
#include "tap.h"

/* Loop rounds are bounded so a broken client fails the test, not hangs it. */
#define TEST_MAX_ROUNDS 400
#define TEST_ROUND_MS 25
#define TEST_TIMEOUT_MS 300
#define TEST_KEY_ENV "PGC_TEST_REST_KEY"

static void test_content_range(void)
{
	int64_t t = 12345;

	is_int(rest_parse_content_range("0-0/3573", &t), 0, "0-0/3573 parses");
	is_int(t, 3573, "0-0/3573 total is what follows the slash");
	t = 12345;
	is_int(rest_parse_content_range("*/0", &t), 0, "*/0 parses (empty table)");
	is_int(t, 0, "*/0 total 0");
	is_int(rest_parse_content_range("0-24/*", &t), 0, "0-24/* parses");
	is_int(t, -1, "'*' total means unknown (-1)");
	is_int(rest_parse_content_range("0-0/9000000000", &t), 0, "64-bit total parses");
	ok(t == 9000000000LL, "64-bit total kept");
	is_int(rest_parse_content_range(" 0-0/7\r\n", &t), 0, "surrounding whitespace tolerated");
	is_int(t, 7, "total with CRLF");
	is_int(rest_parse_content_range("items 0-0/5", &t), 0, "a range unit is tolerated");
	is_int(t, 5, "total after unit");
	t = 42;
	is_int(rest_parse_content_range("0-0", &t), -1, "no slash is malformed");
	is_int(rest_parse_content_range("0-0/", &t), -1, "empty total is malformed");
	is_int(rest_parse_content_range("0-0/12x", &t), -1, "trailing junk is malformed");
	is_int(rest_parse_content_range("a-b/3", &t), -1, "non-numeric range is malformed");
	is_int(rest_parse_content_range("0-0/-3", &t), -1, "negative total is malformed");
	is_int(rest_parse_content_range("", &t), -1, "empty value is malformed");
	is_int(rest_parse_content_range(NULL, &t), -1, "NULL is malformed");
	is_int(rest_parse_content_range("0-0/99999999999999999999999", &t), -1,
	       "overflowing total is malformed");
	is_int(t, 42, "total untouched on error");
}

static void test_jwt(void)
{
	ok(rest_key_is_jwt("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnLV9zaWc"),
	   "three base64url parts are a JWT");
	ok(rest_key_is_jwt("a-b.c_d.e"), "'-' and '_' are base64url");
	ok(!rest_key_is_jwt("sb_publishable_AbCdEf123"), "sb_publishable key is not a JWT");
	ok(!rest_key_is_jwt("sb_secret_x.y"), "two parts are not a JWT");
	ok(!rest_key_is_jwt("a.b.c.d"), "four parts are not a JWT");
	ok(!rest_key_is_jwt("a..c"), "an empty middle part is not a JWT");
	ok(!rest_key_is_jwt("a.b."), "an empty last part is not a JWT");
	ok(!rest_key_is_jwt(".b.c"), "an empty first part is not a JWT");
	ok(!rest_key_is_jwt("a.b+/.c"), "'+' and '/' (plain base64) are not base64url");
	ok(!rest_key_is_jwt(""), "empty is not a JWT");
	ok(!rest_key_is_jwt(NULL), "NULL is not a JWT");
}

static void test_split(void)
{
	char *s, *t;

	is_int(rest_split_table("clients", &s, &t), 0, "plain name");
	ok(s == NULL, "no schema for a plain name");
	is_str(t, "clients", "plain table");
	free(t);
	is_int(rest_split_table("sales.orders", &s, &t), 0, "qualified name");
	is_str(s, "sales", "schema part");
	is_str(t, "orders", "table part");
	free(s); free(t);
	is_int(rest_split_table("\"a.b\"", &s, &t), 0, "quoted name with a dot");
	ok(s == NULL, "quoted dot is not a schema separator");
	is_str(t, "a.b", "quotes removed");
	free(t);
	is_int(rest_split_table("\"My Schema\".\"Mixed Case; x\"", &s, &t), 0, "both parts quoted");
	is_str(s, "My Schema", "quoted schema");
	is_str(t, "Mixed Case; x", "quoted table");
	free(s); free(t);
	is_int(rest_split_table("\"say \"\"hi\"\"\"", &s, &t), 0, "doubled quote inside quotes");
	is_str(t, "say \"hi\"", "doubled quote becomes one");
	free(t);
	is_int(rest_split_table("Sales.Orders", &s, &t), 0, "plain mixed-case name");
	is_str(s, "sales", "plain schema folded to lower case, as SQL does");
	is_str(t, "orders", "plain table folded to lower case");
	free(s); free(t);
	is_int(rest_split_table("a.b.c", &s, &t), -1, "three parts refused");
	is_int(rest_split_table("", &s, &t), -1, "empty name refused");
	is_int(rest_split_table("\"open", &s, &t), -1, "unterminated quote refused");
	is_int(rest_split_table("public.", &s, &t), -1, "empty table part refused");
	is_int(rest_split_table(".t", &s, &t), -1, "empty schema part refused");
	is_int(rest_split_table("\"a\"x", &s, &t), -1, "junk after a closing quote refused");
}

static void test_url(void)
{
	char *u;

	u = rest_count_url("http://127.0.0.1:5000", "clients", 1);
	is_str(u, "http://127.0.0.1:5000/rest/v1/clients?select=*&limit=1", "plain URL");
	free(u);
	u = rest_count_url("https://x.supabase.co/", "clients", 0);
	is_str(u, "https://x.supabase.co/rest/v1/clients?select=*&limit=0", "trailing slash dropped");
	free(u);
	u = rest_count_url("https://x.supabase.co/rest/v1", "clients", 1);
	is_str(u, "https://x.supabase.co/rest/v1/clients?select=*&limit=1",
	       "/rest/v1 in the base not doubled");
	free(u);
	u = rest_count_url("http://h", "\"Mixed Case; x\"", 1);
	is_str(u, "http://h/rest/v1/Mixed%20Case%3B%20x?select=*&limit=1",
	       "spaces and ';' are percent-encoded, case kept when quoted");
	free(u);
	u = rest_count_url("http://h", "sales.\"a/b?c\"", 1);
	is_str(u, "http://h/rest/v1/a%2Fb%3Fc?select=*&limit=1",
	       "schema goes elsewhere; '/' and '?' encoded");
	free(u);
	u = rest_count_url("http://h", "caf\xc3\xa9", 1);
	is_str(u, "http://h/rest/v1/caf%C3%A9?select=*&limit=1", "UTF-8 bytes encoded");
	free(u);
	ok(rest_count_url("http://h", "", 1) == NULL, "empty table gives no URL");
}

static void test_mask_and_modes(void)
{
	char *m;
	rest_count_mode mode;

	m = rest_mask_secret("bad key sb_secret_123 and sb_secret_123!", "sb_secret_123");
	is_str(m, "bad key *** and ***!", "every occurrence of the key masked");
	free(m);
	m = rest_mask_secret("nothing here", "k3y");
	is_str(m, "nothing here", "text without the key unchanged");
	free(m);
	ok(rest_mask_secret(NULL, "k") == NULL, "NULL text stays NULL");

	is_int(rest_parse_mode("planned", &mode), 0, "planned parses");
	is_int(mode, REST_COUNT_PLANNED, "planned mode");
	is_int(rest_parse_mode("estimated", &mode), 0, "estimated parses");
	is_int(mode, REST_COUNT_ESTIMATED, "estimated mode");
	is_int(rest_parse_mode(NULL, &mode), 0, "no mode means exact");
	is_int(mode, REST_COUNT_EXACT, "default exact");
	is_int(rest_parse_mode("fast", &mode), -1, "unknown mode refused");
	is_str(rest_mode_name(REST_COUNT_ESTIMATED), "estimated", "mode name for Prefer");
}

static void test_describe(void)
{
	rest_result r;
	char *d;

	memset(&r, 0, sizeof r);
	r.outcome = REST_ERR_NOT_FOUND;
	r.http_status = 404;
	r.code = "PGRST205";
	r.message = "Could not find the table 'public.x' in the schema cache";
	r.hint = "Perhaps you meant the table 'public.clients'";
	d = rest_result_describe(&r);
	is_str(d, "HTTP 404 PGRST205: Could not find the table 'public.x' in the schema cache "
		  "(hint: Perhaps you meant the table 'public.clients')",
	       "PostgREST error shown with code, message and hint as they are");
	free(d);
	ok(!rest_outcome_unreachable(&r), "a missing table does not make the source unreachable");

	r.outcome = REST_ERR_AUTH;
	r.http_status = 401;
	r.code = NULL;
	r.message = "Invalid API key";
	r.hint = NULL;
	d = rest_result_describe(&r);
	is_str(d, "HTTP 401: Invalid API key", "gateway 401 without a code");
	free(d);
	ok(rest_outcome_unreachable(&r), "a rejected key makes the source unusable");

	r.outcome = REST_ERR_HTTP;
	r.http_status = 500;
	r.message = "boom\x1b[2J";
	d = rest_result_describe(&r);
	ok(d && !strchr(d, '\x1b'), "escape sequences from the server are neutralised");
	free(d);
	ok(rest_outcome_unreachable(&r), "5xx makes the source unreachable");
	r.http_status = 406;
	ok(!rest_outcome_unreachable(&r), "4xx other than auth does not");
}

/* A loopback TCP socket that listens but never answers (the kernel
 * completes connections from the backlog); with listen = false, a port
 * that was free a moment ago and now refuses. */
static int loopback_port(bool listen_too, int *fd_out)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0 || (listen_too && listen(fd, 8) < 0))
		return -1;
	if (listen_too)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(a.sin_port);
}

typedef struct got {
	int calls;
	rest_result r;
} got;

static void on_done(const rest_result *r, void *ud)
{
	got *g = ud;
	g->calls++;
	rest_result_clear(&g->r);
	rest_result_copy(&g->r, r);
}

static void run_until_idle(loop *lp, rest_client *rc)
{
	for (int i = 0; i < TEST_MAX_ROUNDS && rest_pending(rc) > 0; i++)
		loop_once(lp, TEST_ROUND_MS);
}

static void test_client_on_loop(void)
{
	int lfd = -1, port = loopback_port(true, &lfd);
	int closed = loopback_port(false, NULL);
	char url[64];
	cfg_endpoint ep = {.kind = CFG_EP_SUPABASE, .key_env = TEST_KEY_ENV};
	rest_opts o;
	pgc_err e;
	loop *lp = loop_new();
	rest_client *rc;
	got g = {0};
	int id;

	ok(port > 0 && closed > 0, "loopback ports for the client tests");
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	ep.url = url;
	rest_opts_default(&o);
	o.timeout_ms = TEST_TIMEOUT_MS;
	o.backoff_ms = 10;

	unsetenv(TEST_KEY_ENV);
	rc = rest_client_new(lp, &ep, &o, &e);
	ok(rc == NULL && e.code == PGC_EXIT_CONFIG && strstr(e.msg, TEST_KEY_ENV),
	   "unset key variable: configuration error naming it");
	setenv(TEST_KEY_ENV, "sb_secret_unit", 1);
	rc = rest_client_new(lp, &ep, &o, &e);
	ok(rc != NULL, "client created with the key from the environment");

	/* A server that never answers: the timeout ends the request. */
	id = rest_count_start(rc, "clients", REST_COUNT_EXACT, on_done, &g, &e);
	ok(id > 0, "count started");
	is_int(rest_pending(rc), 1, "one request pending");
	ok(g.calls == 0, "no answer before the loop runs (nothing blocks)");
	run_until_idle(lp, rc);
	is_int(g.calls, 1, "silent server: one answer");
	is_int(g.r.outcome, REST_ERR_TIMEOUT, "silent server: timeout");
	is_int(g.r.attempts, 1, "timeouts are not retried");
	ok(rest_outcome_unreachable(&g.r), "timeout makes the source unreachable");

	/* Cancelled in flight: no callback, nothing left on the loop. */
	g.calls = 0;
	id = rest_count_start(rc, "clients", REST_COUNT_EXACT, on_done, &g, &e);
	loop_once(lp, TEST_ROUND_MS);
	/* under valgrind on a busy machine the request may already have
	 * timed out in that round: what matters is nothing after the cancel */
	int calls_before = g.calls;
	rest_cancel(rc, id);
	is_int(rest_pending(rc), 0, "cancelled request is gone");
	for (int i = 0; i < (2 * TEST_TIMEOUT_MS) / TEST_ROUND_MS; i++)
		loop_once(lp, TEST_ROUND_MS);
	is_int(g.calls, calls_before, "no callback for a cancelled request, even after its timeout");
	rest_client_free(rc);

	/* Nothing listening: refused, retried with backoff, then reported. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d", closed);
	rc = rest_client_new(lp, &ep, &o, &e);
	g.calls = 0;
	rest_count_start(rc, "\"Mixed Case; x\"", REST_COUNT_PLANNED, on_done, &g, &e);
	run_until_idle(lp, rc);
	is_int(g.calls, 1, "refused: one answer after the retries");
	is_int(g.r.outcome, REST_ERR_CONNECT, "refused: connect error");
	is_int(g.r.attempts, o.retries + 1, "refused: retried o.retries times");
	is_str(g.r.table, "\"Mixed Case; x\"", "answer names the table as asked");
	is_int(g.r.mode, REST_COUNT_PLANNED, "answer keeps the mode");
	ok(g.r.message && strstr(g.r.message, url), "connect error names the server");
	rest_client_free(rc);

	rest_result_clear(&g.r);
	loop_free(lp);

	/* The headless convenience: one answer per table, in order, on its own
	 * loop (here: a silent server for one, a bad name for the other). */
	{
		const char *tables[] = {"clients", "\"unterminated", "sales.orders"};
		rest_result out[3];
		snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
		is_int(rest_count_tables(&ep, tables, 3, REST_COUNT_EXACT, &o, out, &e), 0,
		       "rest_count_tables returns when every request ended");
		is_str(out[0].table, "clients", "first answer is the first table");
		is_int(out[0].outcome, REST_ERR_TIMEOUT, "silent server: timeout");
		ok(out[1].outcome != REST_OK && out[1].message && strstr(out[1].message, "bad table name"),
		   "a bad name is reported for its table, the others still run");
		is_str(out[2].table, "sales.orders", "third answer is the third table");
		is_int(out[2].outcome, REST_ERR_TIMEOUT, "third table: timeout too");
		for (int i = 0; i < 3; i++)
			rest_result_clear(&out[i]);
		unsetenv(TEST_KEY_ENV);
		is_int(rest_count_tables(&ep, tables, 1, REST_COUNT_EXACT, &o, out, &e), -1,
		       "rest_count_tables fails up front without a key");
	}
	if (lfd >= 0)
		close(lfd);
}

int main(void)
{
	test_content_range();
	test_jwt();
	test_split();
	test_url();
	test_mask_and_modes();
	test_describe();
	test_client_on_loop();
	return done_testing();
}
