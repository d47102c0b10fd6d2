/*
 * rest.c -- Supabase/PostgREST row counts on libcurl's multi interface.
 *
 * curl's sockets and its timeout are handed to the one poll() loop
 * (CURLMOPT_SOCKETFUNCTION -> loop_watch, CURLMOPT_TIMERFUNCTION ->
 * loop_timer) and driven with curl_multi_socket_action, so the console never
 * waits on the network.  A count is a HEAD with `Prefer: count=...`; HEAD
 * answers carry no body, so when the status is not 200/206 the same request
 * is sent again as a GET with limit=0 to fetch PostgREST's JSON error
 * (code, message, hint, details), which is passed on as it is.
 * Connect failures and 502/503/504 are retried per request with a doubling
 * backoff.  At most max_parallel requests are in the multi at once; the rest
 * wait in this client (not in curl, whose timeout would run while they
 * wait), so a request's timeout starts when it is sent.  The key lives only
 * in this client's memory and request headers.
 * Callers: the compare module through the REST side driver at the end of
 * this file (cmp_rest_side_init), and rest_count_tables() (headless).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "pgcutover/compare.h"
#include "pgcutover/rest.h"

/* Error bodies are small JSON documents; anything beyond this is cut. */
#define REST_ERROR_BODY_MAX (64 * 1024)
/* Count requests ask for one row; the error re-fetch asks for none. */
#define REST_COUNT_LIMIT 1
#define REST_ERROR_LIMIT 0
/* Statuses worth retrying: the gateway or the server is momentarily away. */
#define REST_RETRYABLE(st) ((st) == 502 || (st) == 503 || (st) == 504)
/* rest_count_tables gives up on the loop this long after every request's
 * own timeouts and backoffs could have run, as a guard against a stuck loop. */
#define REST_BLOCKING_GRACE_MS 5000
#define REST_BLOCKING_POLL_MS 250
#define REST_HTTP_OK 200
#define REST_HTTP_PARTIAL 206
#define REST_HTTP_FIRST_NOT_OK 300   /* 3xx and up: no figure (we follow no redirects) */
#define REST_HTTP_UNAUTHORIZED 401
#define REST_HTTP_FORBIDDEN 403
#define REST_HTTP_NOT_FOUND 404
#define REST_HTTP_FIRST_SERVER_ERROR 500

typedef enum req_phase {
	PHASE_HEAD,        /* the count itself */
	PHASE_ERROR_GET,   /* fetching the body of a failed HEAD */
	PHASE_PAGE,        /* a page of rows (rest_page_start) */
} req_phase;

/* A page of rows may be this big; a bigger answer fails the request (pages
 * are a few thousand rows: this only bounds a server gone wrong). */
#define REST_PAGE_BODY_MAX (256 * 1024 * 1024)

typedef struct rest_req {
	struct rest_req *next;
	rest_client *rc;
	int id;
	char *table;            /* as asked */
	char *schema;           /* Accept-Profile, or NULL */
	char *query;            /* PHASE_PAGE: the query string */
	rest_count_mode mode;
	rest_done_fn fn;
	void *ud;
	CURL *easy;
	struct curl_slist *headers;
	req_phase phase;
	bool in_multi;
	bool waiting;           /* ready, held until fewer than max_parallel are sent */
	int attempts;
	int retry_timer;        /* loop timer id while waiting to retry */
	long head_status;       /* status of the failed HEAD */
	double started_ms;
	strbuf body;
	char errbuf[CURL_ERROR_SIZE];
} rest_req;

struct rest_client {
	loop *lp;
	CURLM *multi;
	char *base_url;
	char *key;              /* never copied anywhere else but headers */
	rest_opts opts;
	int timer_id;           /* curl's timeout as a loop timer */
	int next_id;
	rest_req *reqs;
	int in_dispatch;        /* > 0 while finished requests are being handed out */
	int n_sent;             /* requests in the multi */
	bool sending;           /* rest_send_waiting is running */
};

static void req_finish(rest_req *rq, rest_result *res);

/* ---------------------------------------------------------------- pure */

void rest_opts_default(rest_opts *o)
{
	o->timeout_ms = REST_DEFAULT_TIMEOUT_MS;
	o->connect_timeout_ms = REST_DEFAULT_CONNECT_TIMEOUT_MS;
	o->max_parallel = REST_DEFAULT_MAX_PARALLEL;
	o->retries = REST_DEFAULT_RETRIES;
	o->backoff_ms = REST_DEFAULT_BACKOFF_MS;
}

int rest_parse_content_range(const char *value, int64_t *total)
{
	const char *p, *slash;
	char *end;
	long long n;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	/* RFC 9110 allows a unit ("items 0-0/3"); PostgREST sends none. */
	if (isalpha((unsigned char)*value)) {
		while (isalpha((unsigned char)*value))
			value++;
		while (*value == ' ')
			value++;
	}
	slash = strchr(value, '/');
	if (!slash)
		return -1;
	/* The range part: "*" or "first-last". */
	p = value;
	if (*p == '*') {
		p++;
	} else {
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p++ != '-' || !isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (p != slash)
		return -1;
	p = slash + 1;
	if (*p == '*') {
		p++;
		n = -1;
	} else {
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		n = strtoll(p, &end, 10);
		if (errno == ERANGE)
			return -1;
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p)
		return -1;
	*total = n;
	return 0;
}

static bool is_base64url_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '=';
}

bool rest_key_is_jwt(const char *key)
{
	int parts = 1;
	size_t run = 0;

	if (!key || !*key)
		return false;
	for (const char *p = key; *p; p++) {
		if (*p == '.') {
			if (run == 0)
				return false;
			parts++;
			run = 0;
		} else if (is_base64url_char(*p)) {
			run++;
		} else {
			return false;
		}
	}
	return parts == 3 && run > 0;
}

int rest_parse_mode(const char *s, rest_count_mode *out)
{
	if (!s || !strcmp(s, "exact"))
		*out = REST_COUNT_EXACT;
	else if (!strcmp(s, "planned"))
		*out = REST_COUNT_PLANNED;
	else if (!strcmp(s, "estimated"))
		*out = REST_COUNT_ESTIMATED;
	else
		return -1;
	return 0;
}

const char *rest_mode_name(rest_count_mode m)
{
	switch (m) {
	case REST_COUNT_PLANNED: return "planned";
	case REST_COUNT_ESTIMATED: return "estimated";
	case REST_COUNT_EXACT: break;
	}
	return "exact";
}

const char *rest_outcome_name(rest_outcome o)
{
	switch (o) {
	case REST_OK: return "ok";
	case REST_ERR_AUTH: return "auth";
	case REST_ERR_NOT_FOUND: return "not_found";
	case REST_ERR_HTTP: return "http";
	case REST_ERR_TIMEOUT: return "timeout";
	case REST_ERR_CONNECT: return "connect";
	case REST_ERR_PROTOCOL: return "protocol";
	}
	return "unknown";
}

/* Reads one identifier part starting at *pp, as SQL reads it: a quoted
 * part literally ("" = "), a plain one up to '.' and folded to lower case
 * (ASCII, like PostgreSQL), so both sides of a comparison name the same
 * table. */
static int split_part(const char **pp, char **out)
{
	const char *p = *pp;
	strbuf sb;

	sb_init(&sb);
	if (*p == '"') {
		for (p++;; p++) {
			if (!*p) {
				sb_free(&sb);
				return -1;
			}
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			sb_putc(&sb, *p);
		}
		p++;
	} else {
		for (; *p && *p != '.' && *p != '"'; p++)
			sb_putc(&sb, (char)tolower((unsigned char)*p));
	}
	if (sb.len == 0 || (*p && *p != '.')) {
		sb_free(&sb);
		return -1;
	}
	*pp = p;
	*out = sb_steal(&sb);
	return 0;
}

int rest_split_table(const char *name, char **schema, char **table)
{
	const char *p = name;
	char *first = NULL, *second = NULL;

	*schema = *table = NULL;
	if (!name || split_part(&p, &first) < 0)
		return -1;
	if (*p == '\0') {
		*table = first;
		return 0;
	}
	p++;   /* the dot */
	if (split_part(&p, &second) < 0 || *p) {
		free(first);
		free(second);
		return -1;
	}
	*schema = first;
	*table = second;
	return 0;
}

char *rest_count_url(const char *base, const char *table, int limit)
{
	char q[64];
	snprintf(q, sizeof q, "select=*&limit=%d", limit);
	return rest_table_url(base, table, q);
}

char *rest_table_url(const char *base, const char *table, const char *query)
{
	char *schema, *name, *enc;
	size_t blen;
	const char *api = "/rest/v1";
	char *url;

	if (!base || rest_split_table(table, &schema, &name) < 0)
		return NULL;
	free(schema);
	enc = curl_easy_escape(NULL, name, 0);
	free(name);
	if (!enc)
		return NULL;
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (blen >= strlen(api) && !strncmp(base + blen - strlen(api), api, strlen(api)))
		api = "";
	url = xasprintf("%.*s%s/%s?%s", (int)blen, base, api, enc, query);
	curl_free(enc);
	return url;
}

char *rest_mask_secret(const char *text, const char *secret)
{
	strbuf sb;
	size_t slen;
	const char *p, *hit;

	if (!text)
		return NULL;
	if (!secret || !*secret)
		return xstrdup(text);
	slen = strlen(secret);
	sb_init(&sb);
	for (p = text; (hit = strstr(p, secret)) != NULL; p = hit + slen) {
		sb_add(&sb, p, (size_t)(hit - p));
		sb_puts(&sb, "***");
	}
	sb_puts(&sb, p);
	return sb_steal(&sb);
}

/* ------------------------------------------------------------- results */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void rest_result_copy(rest_result *dst, const rest_result *src)
{
	*dst = *src;
	dst->table = dup_or_null(src->table);
	dst->code = dup_or_null(src->code);
	dst->message = dup_or_null(src->message);
	dst->hint = dup_or_null(src->hint);
	dst->details = dup_or_null(src->details);
	dst->body = NULL;
	if (src->body) {
		dst->body = xmalloc(src->body_len + 1);
		memcpy(dst->body, src->body, src->body_len);
		dst->body[src->body_len] = '\0';
	}
}

void rest_result_clear(rest_result *r)
{
	if (!r)
		return;
	free(r->table);
	free(r->code);
	free(r->message);
	free(r->hint);
	free(r->details);
	free(r->body);
	memset(r, 0, sizeof *r);
	r->total = -1;
}

bool rest_outcome_unreachable(const rest_result *r)
{
	switch (r->outcome) {
	case REST_ERR_AUTH:
	case REST_ERR_TIMEOUT:
	case REST_ERR_CONNECT:
		return true;
	case REST_ERR_HTTP:
		return r->http_status >= REST_HTTP_FIRST_SERVER_ERROR;
	default:
		return false;
	}
}

char *rest_result_describe(const rest_result *r)
{
	strbuf sb;
	char *raw, *clean;

	sb_init(&sb);
	switch (r->outcome) {
	case REST_OK:
		if (r->total < 0)
			sb_printf(&sb, "%s count unknown", rest_mode_name(r->mode));
		else
			sb_printf(&sb, "%lld rows (%s)", (long long)r->total, rest_mode_name(r->mode));
		break;
	case REST_ERR_TIMEOUT:
	case REST_ERR_CONNECT:
		sb_puts(&sb, r->message ? r->message : "request failed");
		break;
	default:
		if (r->http_status)
			sb_printf(&sb, "HTTP %ld", r->http_status);
		if (r->code)
			sb_printf(&sb, "%s%s", sb.len ? " " : "", r->code);
		if (r->message)
			sb_printf(&sb, "%s%s", sb.len ? ": " : "", r->message);
		if (r->details)
			sb_printf(&sb, " (details: %s)", r->details);
		if (r->hint)
			sb_printf(&sb, " (hint: %s)", r->hint);
		break;
	}
	raw = sb_steal(&sb);
	clean = pgc_sanitize(raw);
	free(raw);
	return clean;
}

/* ------------------------------------------------------ loop <-> curl */

static void process_done(rest_client *rc);

static void on_socket_ready(loop *lp, int fd, short revents, void *ud)
{
	rest_client *rc = ud;
	int running, flags = 0;

	if (revents & (POLLIN | POLLHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(rc->multi, fd, flags, &running);
	process_done(rc);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	rest_client *rc = userp;
	short events = 0;

	if (what == CURL_POLL_REMOVE) {
		loop_unwatch(rc->lp, s);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= POLLOUT;
	loop_watch(rc->lp, s, events, on_socket_ready, rc);
	return 0;
}

static void on_loop_timer(loop *lp, void *ud)
{
	rest_client *rc = ud;
	int running;

	rc->timer_id = 0;
	curl_multi_socket_action(rc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	process_done(rc);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	rest_client *rc = userp;

	if (rc->timer_id) {
		loop_timer_cancel(rc->lp, rc->timer_id);
		rc->timer_id = 0;
	}
	if (timeout_ms >= 0)
		rc->timer_id = loop_timer(rc->lp, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms,
					  on_loop_timer, rc);
	return 0;
}

/* -------------------------------------------------------------- client */

rest_client *rest_client_new(loop *lp, const cfg_endpoint *ep, const rest_opts *o, pgc_err *e)
{
	static bool curl_ready;
	rest_client *rc;
	const char *key;

	if (!ep || ep->kind != CFG_EP_SUPABASE) {
		pgc_fail(e, PGC_EXIT_CONFIG, "not a Supabase endpoint");
		return NULL;
	}
	if (!ep->url || !*ep->url) {
		pgc_fail(e, PGC_EXIT_CONFIG, "supabase: no \"url\" in the config");
		return NULL;
	}
	if (!ep->key_env || !*ep->key_env) {
		pgc_fail(e, PGC_EXIT_CONFIG, "supabase: no \"key_env\" in the config");
		return NULL;
	}
	key = getenv(ep->key_env);
	if (!key || !*key) {
		pgc_fail(e, PGC_EXIT_CONFIG,
			 "supabase: environment variable %s (key_env) is not set", ep->key_env);
		return NULL;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			pgc_fail(e, PGC_EXIT_SOFTWARE, "supabase: libcurl initialisation failed");
			return NULL;
		}
		curl_ready = true;
	}
	rc = xcalloc(1, sizeof *rc);
	rc->lp = lp;
	rc->base_url = xstrdup(ep->url);
	rc->key = xstrdup(key);
	if (o)
		rc->opts = *o;
	else
		rest_opts_default(&rc->opts);
	rc->multi = curl_multi_init();
	if (!rc->multi) {
		rest_client_free(rc);
		pgc_fail(e, PGC_EXIT_SOFTWARE, "supabase: curl_multi_init failed");
		return NULL;
	}
	curl_multi_setopt(rc->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(rc->multi, CURLMOPT_SOCKETDATA, rc);
	curl_multi_setopt(rc->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(rc->multi, CURLMOPT_TIMERDATA, rc);
	if (rc->opts.max_parallel > 0)
		curl_multi_setopt(rc->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
				  (long)rc->opts.max_parallel);
	return rc;
}

static void req_leave_multi(rest_req *rq)
{
	if (!rq->in_multi)
		return;
	curl_multi_remove_handle(rq->rc->multi, rq->easy);
	rq->in_multi = false;
	rq->rc->n_sent--;
}

/* Sends waiting requests, oldest first, while fewer than max_parallel are
 * out.  The queue is ours, not curl's: curl's CURLOPT_TIMEOUT_MS runs from
 * curl_multi_add_handle, so a request queued inside curl behind
 * max_parallel others could time out before it was ever sent. */
static void rest_send_waiting(rest_client *rc)
{
	if (rc->sending)
		return;   /* the outer call goes on with what was added */
	rc->sending = true;
	while (rc->opts.max_parallel <= 0 || rc->n_sent < rc->opts.max_parallel) {
		rest_req *oldest = NULL;
		for (rest_req *rq = rc->reqs; rq; rq = rq->next)   /* newest first */
			if (rq->waiting)
				oldest = rq;
		if (!oldest)
			break;
		oldest->waiting = false;
		if (curl_multi_add_handle(rc->multi, oldest->easy) != CURLM_OK) {
			rest_result res;
			memset(&res, 0, sizeof res);
			res.total = -1;
			res.outcome = REST_ERR_CONNECT;
			res.message = xstrdup("supabase: cannot queue the request");
			req_finish(oldest, &res);
			continue;
		}
		oldest->in_multi = true;
		rc->n_sent++;
	}
	rc->sending = false;
}

static void req_free(rest_req *rq)
{
	rest_client *rc = rq->rc;

	if (rq->retry_timer)
		loop_timer_cancel(rc->lp, rq->retry_timer);
	if (rq->easy) {
		req_leave_multi(rq);
		curl_easy_cleanup(rq->easy);
	}
	curl_slist_free_all(rq->headers);
	sb_free(&rq->body);
	free(rq->table);
	free(rq->schema);
	free(rq->query);
	free(rq);
}

static void req_unlink(rest_req *rq)
{
	for (rest_req **pp = &rq->rc->reqs; *pp; pp = &(*pp)->next)
		if (*pp == rq) {
			*pp = rq->next;
			return;
		}
}

void rest_client_free(rest_client *rc)
{
	if (!rc)
		return;
	while (rc->reqs) {
		rest_req *rq = rc->reqs;
		rc->reqs = rq->next;
		req_free(rq);
	}
	if (rc->multi)
		curl_multi_cleanup(rc->multi);
	if (rc->timer_id)
		loop_timer_cancel(rc->lp, rc->timer_id);
	if (rc->key) {
		/* Do not leave the key lying in freed memory. */
		memset(rc->key, 0, strlen(rc->key));
		free(rc->key);
	}
	free(rc->base_url);
	free(rc);
}

int rest_pending(const rest_client *rc)
{
	int n = 0;

	for (const rest_req *rq = rc->reqs; rq; rq = rq->next)
		n++;
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	rest_req *rq = ud;
	size_t n = size * nmemb;
	size_t max = rq->phase == PHASE_PAGE ? REST_PAGE_BODY_MAX : REST_ERROR_BODY_MAX;

	if (rq->phase == PHASE_PAGE && rq->body.len + n > max)
		return 0;   /* curl fails the transfer (CURLE_WRITE_ERROR) */
	if (rq->body.len < max) {
		size_t room = max - rq->body.len;
		sb_add(&rq->body, data, n < room ? n : room);
	}
	return n;
}

/* Sets up rq->easy for the current phase and hands it to the multi. */
static int req_submit(rest_req *rq, pgc_err *e)
{
	rest_client *rc = rq->rc;
	bool head = rq->phase == PHASE_HEAD;
	char *url = rq->phase == PHASE_PAGE ? rest_table_url(rc->base_url, rq->table, rq->query)
					    : rest_count_url(rc->base_url, rq->table,
							     head ? REST_COUNT_LIMIT : REST_ERROR_LIMIT);

	if (!url)
		return pgc_fail(e, PGC_EXIT_DATAERR, "supabase: bad table name \"%s\"", rq->table);
	if (!rq->easy) {
		rq->easy = curl_easy_init();
		if (!rq->easy) {
			free(url);
			return pgc_fail(e, PGC_EXIT_SOFTWARE, "supabase: curl_easy_init failed");
		}
	} else {
		curl_easy_reset(rq->easy);
	}
	sb_free(&rq->body);
	sb_init(&rq->body);
	rq->errbuf[0] = '\0';
	curl_easy_setopt(rq->easy, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(rq->easy, CURLOPT_PRIVATE, rq);
	curl_easy_setopt(rq->easy, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(rq->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(rq->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(rq->easy, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(rq->easy, CURLOPT_ERRORBUFFER, rq->errbuf);
	curl_easy_setopt(rq->easy, CURLOPT_TIMEOUT_MS, (long)rc->opts.timeout_ms);
	curl_easy_setopt(rq->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)rc->opts.connect_timeout_ms);
	curl_easy_setopt(rq->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(rq->easy, CURLOPT_WRITEDATA, rq);
	if (head)
		curl_easy_setopt(rq->easy, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(rq->easy, CURLOPT_HTTPGET, 1L);
	rq->waiting = true;
	if (head || rq->phase == PHASE_PAGE)
		rq->attempts++;
	rest_send_waiting(rc);
	return 0;
}

static void headers_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);
	if (n)
		*list = n;
}

/* A request for table with the key's headers (and Accept-Profile for a
 * schema-qualified name); NULL with e on a bad name. */
static rest_req *req_new(rest_client *rc, const char *table, rest_done_fn fn, void *ud, pgc_err *e)
{
	rest_req *rq;
	char *schema, *name, *line;

	if (rest_split_table(table, &schema, &name) < 0) {
		pgc_fail(e, PGC_EXIT_DATAERR, "supabase: bad table name \"%s\"", table ? table : "");
		return NULL;
	}
	free(name);
	rq = xcalloc(1, sizeof *rq);
	rq->rc = rc;
	rq->id = ++rc->next_id;
	rq->table = xstrdup(table);
	rq->schema = schema;
	rq->fn = fn;
	rq->ud = ud;
	rq->started_ms = loop_now_ms();
	sb_init(&rq->body);

	line = xasprintf("apikey: %s", rc->key);
	headers_add(&rq->headers, line);
	free(line);
	/* New-style sb_... keys are not JWTs: the gateway rejects them as a
	 * Bearer token, so they go only in apikey. */
	if (rest_key_is_jwt(rc->key)) {
		line = xasprintf("Authorization: Bearer %s", rc->key);
		headers_add(&rq->headers, line);
		free(line);
	}
	if (rq->schema) {
		line = xasprintf("Accept-Profile: %s", rq->schema);
		headers_add(&rq->headers, line);
		free(line);
	}
	headers_add(&rq->headers, "Accept: application/json");
	return rq;
}

static int req_start(rest_req *rq, pgc_err *e)
{
	rest_client *rc = rq->rc;
	rq->next = rc->reqs;
	rc->reqs = rq;
	if (req_submit(rq, e) < 0) {
		req_unlink(rq);
		req_free(rq);
		return -1;
	}
	return rq->id;
}

int rest_count_start(rest_client *rc, const char *table, rest_count_mode mode,
		     rest_done_fn fn, void *ud, pgc_err *e)
{
	rest_req *rq = req_new(rc, table, fn, ud, e);
	if (!rq)
		return -1;
	rq->mode = mode;
	rq->phase = PHASE_HEAD;
	char *line = xasprintf("Prefer: count=%s", rest_mode_name(mode));
	headers_add(&rq->headers, line);
	free(line);
	return req_start(rq, e);
}

int rest_page_start(rest_client *rc, const char *table, const char *query, int64_t first, int64_t n,
		    int count, rest_done_fn fn, void *ud, pgc_err *e)
{
	rest_req *rq = req_new(rc, table, fn, ud, e);
	if (!rq)
		return -1;
	rq->phase = PHASE_PAGE;
	rq->query = xstrdup(query ? query : "select=*");
	rq->mode = count >= 0 ? (rest_count_mode)count : REST_COUNT_EXACT;
	headers_add(&rq->headers, "Range-Unit: items");
	char *line = xasprintf("Range: %lld-%lld", (long long)first, (long long)(first + (n > 0 ? n : 1) - 1));
	headers_add(&rq->headers, line);
	free(line);
	if (count >= 0) {
		line = xasprintf("Prefer: count=%s", rest_mode_name((rest_count_mode)count));
		headers_add(&rq->headers, line);
		free(line);
	}
	return req_start(rq, e);
}

void rest_cancel(rest_client *rc, int id)
{
	for (rest_req *rq = rc->reqs; rq; rq = rq->next)
		if (rq->id == id) {
			req_unlink(rq);
			req_free(rq);
			rest_send_waiting(rc);
			return;
		}
}

void rest_cancel_all(rest_client *rc)
{
	while (rc->reqs) {
		rest_req *rq = rc->reqs;
		rc->reqs = rq->next;
		req_free(rq);
	}
}

/* ------------------------------------------------------------ answers */

static char *json_string_or_null(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsString(it) && it->valuestring)
		return xstrdup(it->valuestring);
	/* details can be an object/array in some PostgREST errors. */
	if (it && !cJSON_IsNull(it) && !cJSON_IsString(it))
		return cJSON_PrintUnformatted(it);
	return NULL;
}

void rest_parse_error_body(const char *body, size_t len, rest_result *res)
{
	cJSON *doc = len ? cJSON_ParseWithLength(body, len) : NULL;

	if (cJSON_IsObject(doc)) {
		res->code = json_string_or_null(doc, "code");
		res->message = json_string_or_null(doc, "message");
		if (!res->message) /* some gateways say "msg" or "error" */
			res->message = json_string_or_null(doc, "msg");
		if (!res->message)
			res->message = json_string_or_null(doc, "error");
		res->hint = json_string_or_null(doc, "hint");
		res->details = json_string_or_null(doc, "details");
	} else if (len) {
		res->message = xstrndup(body, len);
	}
	cJSON_Delete(doc);
}

static rest_outcome outcome_for_status(long st)
{
	if (st == REST_HTTP_UNAUTHORIZED || st == REST_HTTP_FORBIDDEN)
		return REST_ERR_AUTH;
	if (st == REST_HTTP_NOT_FOUND)
		return REST_ERR_NOT_FOUND;
	return REST_ERR_HTTP;
}

static void on_retry_timer(loop *lp, void *ud)
{
	rest_req *rq = ud;
	pgc_err e;
	rest_result res;

	rq->retry_timer = 0;
	if (req_submit(rq, &e) < 0) {
		memset(&res, 0, sizeof res);
		res.outcome = REST_ERR_CONNECT;
		res.message = xstrdup(e.msg);
		req_finish(rq, &res);
	}
}

/* Schedules another HEAD after the backoff; false when retries are used up. */
static bool req_retry(rest_req *rq)
{
	rest_client *rc = rq->rc;
	long delay = rc->opts.backoff_ms;

	if (rq->attempts > rc->opts.retries)
		return false;
	for (int i = 1; i < rq->attempts && delay < REST_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > REST_BACKOFF_MAX_MS)
		delay = REST_BACKOFF_MAX_MS;
	rq->retry_timer = loop_timer(rc->lp, (int)delay, on_retry_timer, rq);
	return true;
}

static char *transport_message(rest_req *rq, CURLcode cc)
{
	const char *detail = rq->errbuf[0] ? rq->errbuf : curl_easy_strerror(cc);

	if (cc == CURLE_OPERATION_TIMEDOUT)
		return xasprintf("supabase: %s: no answer within %d ms (%s)", rq->table,
				 rq->rc->opts.timeout_ms, detail);
	return xasprintf("supabase: cannot reach %s: %s", rq->rc->base_url, detail);
}

/* Hands the answer to the caller and forgets the request. */
static void req_finish(rest_req *rq, rest_result *res)
{
	rest_client *rc = rq->rc;
	char *masked;

	res->table = rq->table;
	res->mode = rq->mode;
	res->attempts = rq->attempts;
	res->elapsed_ms = loop_now_ms() - rq->started_ms;
	/* Whatever came back from the network must not echo the key. */
	masked = rest_mask_secret(res->message, rc->key);
	free(res->message);
	res->message = masked;
	masked = rest_mask_secret(res->details, rc->key);
	free(res->details);
	res->details = masked;
	masked = rest_mask_secret(res->hint, rc->key);
	free(res->hint);
	res->hint = masked;

	req_unlink(rq);
	if (rq->fn)
		rq->fn(res, rq->ud);
	res->table = NULL;  /* owned by rq */
	rest_result_clear(res);
	req_free(rq);
}

/* A page came back: its rows (the body), or the error as a count's. */
static void req_page_done(rest_req *rq, CURLcode cc, long status)
{
	rest_result res;

	memset(&res, 0, sizeof res);
	res.total = -1;
	if (cc != CURLE_OK) {
		if (cc != CURLE_OPERATION_TIMEDOUT && cc != CURLE_WRITE_ERROR && req_retry(rq))
			return;
		res.outcome = cc == CURLE_OPERATION_TIMEDOUT ? REST_ERR_TIMEOUT
			    : cc == CURLE_WRITE_ERROR ? REST_ERR_PROTOCOL : REST_ERR_CONNECT;
		res.message = cc == CURLE_WRITE_ERROR
			? xasprintf("supabase: %s: a page larger than %d MB", rq->table,
				    REST_PAGE_BODY_MAX / (1024 * 1024))
			: transport_message(rq, cc);
		req_finish(rq, &res);
		return;
	}
	res.http_status = status;
	if (status == REST_HTTP_OK || status == REST_HTTP_PARTIAL) {
		struct curl_header *h = NULL;
		res.outcome = REST_OK;
		if (curl_easy_header(rq->easy, "Content-Range", 0, CURLH_HEADER, -1, &h) == CURLHE_OK &&
		    rest_parse_content_range(h->value, &res.total) != 0)
			res.total = -1;
		res.exact = rq->mode == REST_COUNT_EXACT && res.total >= 0;
		res.body_len = rq->body.len;
		res.body = sb_steal(&rq->body);
		if (!res.body)
			res.body = xstrdup("");
		sb_init(&rq->body);
		req_finish(rq, &res);
		return;
	}
	if (REST_RETRYABLE(status) && req_retry(rq))
		return;
	res.outcome = outcome_for_status(status);
	rest_parse_error_body(rq->body.buf, rq->body.len, &res);
	if (!res.message)
		res.message = xstrdup("no error details from the server");
	req_finish(rq, &res);
}

static void req_done(rest_req *rq, CURLcode cc)
{
	rest_result res;
	long status = 0;
	pgc_err e;

	memset(&res, 0, sizeof res);
	res.total = -1;
	req_leave_multi(rq);
	if (cc == CURLE_OK)
		curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &status);

	if (rq->phase == PHASE_PAGE) {
		req_page_done(rq, cc, status);
		return;
	}
	if (rq->phase == PHASE_HEAD) {
		if (cc != CURLE_OK) {
			if (cc != CURLE_OPERATION_TIMEDOUT && req_retry(rq))
				return;
			res.outcome = cc == CURLE_OPERATION_TIMEDOUT ? REST_ERR_TIMEOUT
								     : REST_ERR_CONNECT;
			res.message = transport_message(rq, cc);
			req_finish(rq, &res);
			return;
		}
		if (status == REST_HTTP_OK || status == REST_HTTP_PARTIAL) {
			struct curl_header *h = NULL;
			res.http_status = status;
			if (curl_easy_header(rq->easy, "Content-Range", 0, CURLH_HEADER, -1, &h)
				    == CURLHE_OK &&
			    rest_parse_content_range(h->value, &res.total) == 0) {
				res.outcome = REST_OK;
				res.exact = rq->mode == REST_COUNT_EXACT && res.total >= 0;
			} else {
				res.outcome = REST_ERR_PROTOCOL;
				res.message = xasprintf("HTTP %ld without a valid Content-Range%s%s",
							status, h ? ": " : "", h ? h->value : "");
			}
			req_finish(rq, &res);
			return;
		}
		if (REST_RETRYABLE(status) && req_retry(rq))
			return;
		/* HEAD has no body: ask again with GET to read the error. */
		rq->head_status = status;
		rq->phase = PHASE_ERROR_GET;
		if (req_submit(rq, &e) == 0)
			return;
		res.http_status = status;
		res.outcome = outcome_for_status(status);
		req_finish(rq, &res);
		return;
	}

	/* PHASE_ERROR_GET */
	res.http_status = cc == CURLE_OK && status >= REST_HTTP_FIRST_NOT_OK ? status : rq->head_status;
	res.outcome = outcome_for_status(res.http_status);
	if (cc == CURLE_OK && status >= REST_HTTP_FIRST_NOT_OK)
		rest_parse_error_body(rq->body.buf, rq->body.len, &res);
	if (!res.message)
		res.message = xasprintf("no error details from the server%s%s",
					cc != CURLE_OK ? ": " : "",
					cc != CURLE_OK ? curl_easy_strerror(cc) : "");
	req_finish(rq, &res);
}

static void process_done(rest_client *rc)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(rc->multi, &left)) != NULL) {
		rest_req *rq = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
		if (rq)
			req_done(rq, msg->data.result);
	}
	rest_send_waiting(rc);
}

/* ------------------------------------------------------------ headless */

typedef struct blocking_slot {
	rest_result *out;
	bool done;
} blocking_slot;

static void blocking_done(const rest_result *r, void *ud)
{
	blocking_slot *slot = ud;

	rest_result_copy(slot->out, r);
	slot->done = true;
}

int rest_count_tables(const cfg_endpoint *ep, const char *const *tables, size_t n,
		      rest_count_mode mode, const rest_opts *o, rest_result *out, pgc_err *e)
{
	rest_opts opts;
	loop *lp;
	rest_client *rc;
	blocking_slot *slots;
	double deadline;
	long per_request;

	if (o)
		opts = *o;
	else
		rest_opts_default(&opts);
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].total = -1;
	}
	lp = loop_new();
	rc = rest_client_new(lp, ep, &opts, e);
	if (!rc) {
		loop_free(lp);
		return -1;
	}
	slots = xcalloc(n ? n : 1, sizeof *slots);
	for (size_t i = 0; i < n; i++) {
		pgc_err se;
		slots[i].out = &out[i];
		if (rest_count_start(rc, tables[i], mode, blocking_done, &slots[i], &se) < 0) {
			out[i].table = xstrdup(tables[i] ? tables[i] : "");
			out[i].mode = mode;
			out[i].outcome = REST_ERR_PROTOCOL;
			out[i].message = xstrdup(se.msg);
			slots[i].done = true;
		}
	}
	/* Each request's own timeouts end it; this only guards against a loop
	 * that stops delivering events.  Requests queue behind max_parallel. */
	per_request = (long)(opts.retries + 2) * (opts.timeout_ms + REST_BACKOFF_MAX_MS);
	deadline = loop_now_ms() + (double)per_request *
		   (double)(n / (size_t)(opts.max_parallel > 0 ? opts.max_parallel : 1) + 1) +
		   REST_BLOCKING_GRACE_MS;
	while (rest_pending(rc) > 0 && loop_now_ms() < deadline)
		loop_once(lp, REST_BLOCKING_POLL_MS);
	rest_cancel_all(rc);
	for (size_t i = 0; i < n; i++)
		if (!slots[i].done) {
			out[i].table = xstrdup(tables[i]);
			out[i].mode = mode;
			out[i].outcome = REST_ERR_TIMEOUT;
			out[i].message = xstrdup("supabase: no answer (event loop deadline)");
		}
	free(slots);
	rest_client_free(rc);
	loop_free(lp);
	return 0;
}

/* ------------------------------------------------- compare side driver */

/* The compare module's "postgrest" side: one request per table; first
 * figures use the config's "count" (default exact), exact requests
 * count=exact. */
typedef struct rest_side_req {
	cmp_side *sd;
	size_t table_idx;
	int id;                 /* request in flight, 0 = none */
} rest_side_req;

typedef struct rest_side {
	rest_client *rc;
	rest_side_req *slots;   /* one per table, the callbacks' user data */
	size_t n_tables;
} rest_side;

static char *side_error_text(const cmp_side *sd, const rest_result *r)
{
	char *what = rest_result_describe(r);
	char *msg;

	/* Transport messages already name the server. */
	if (r->outcome == REST_ERR_TIMEOUT || r->outcome == REST_ERR_CONNECT)
		return what;
	msg = xasprintf("%s: %s", sd->server, what);
	free(what);
	return msg;
}

static void rest_side_done(const rest_result *r, void *ud)
{
	rest_side_req *sr = ud;
	cmp_side *sd = sr->sd;
	size_t idx = sr->table_idx;

	sr->id = 0;
	if (r->outcome == REST_OK && r->total >= 0) {
		if (!sd->up)
			cmp_side_report_status(sd->cs, sd->which, true, NULL);
		cmp_side_report(sd->cs, sd->which, idx, r->total, r->exact, NULL);
		return;
	}
	{
		char *msg;
		if (r->outcome == REST_OK)   /* '*': the server would not say */
			msg = xasprintf("%s: %s: the server gave no %s count (Content-Range total '*')",
					sd->server, r->table, rest_mode_name(r->mode));
		else
			msg = side_error_text(sd, r);
		if (rest_outcome_unreachable(r))
			cmp_side_report_status(sd->cs, sd->which, false, msg);
		else if (!sd->up && r->http_status)
			/* The server answered: it is up even if this table is wrong. */
			cmp_side_report_status(sd->cs, sd->which, true, NULL);
		/* 404 is the table missing there: a difference, not a failure. */
		cmp_side_report_fail(sd->cs, sd->which, idx,
		                     r->outcome == REST_ERR_NOT_FOUND ? CMP_FAIL_MISSING : CMP_FAIL_SERVER, msg);
		free(msg);
	}
}

static int rest_side_start(cmp_side *sd, pgc_err *e)
{
	rest_side *rs = sd->impl;
	rest_opts o;

	rest_opts_default(&o);
	if (sd->cfg && sd->cfg->pool_size > 0)
		o.max_parallel = sd->cfg->pool_size;
	if (sd->cfg && sd->cfg->statement_timeout_ms > 0)
		o.timeout_ms = sd->cfg->statement_timeout_ms;
	if (rs->rc)
		return 0;
	rs->rc = rest_client_new(sd->lp, sd->ep, &o, e);
	return rs->rc ? 0 : -1;
}

static void rest_side_cancel_one(rest_side *rs, size_t idx)
{
	if (!rs->slots[idx].id)
		return;
	rest_cancel(rs->rc, rs->slots[idx].id);
	rs->slots[idx].id = 0;
}

static void rest_side_request(cmp_side *sd, size_t table_idx, bool exact)
{
	rest_side *rs = sd->impl;
	rest_side_req *sr;
	rest_count_mode mode = REST_COUNT_PLANNED;
	pgc_err e;

	if (!rs->rc || table_idx >= rs->n_tables)
		return;
	/* An exact request is count=exact: the session asks again for every
	 * answer that is not exact.  A first (estimate) request uses the
	 * config's "count": "exact" (the default) answers at once with one
	 * request; "planned"/"estimated" keep count(*) off big tables until the
	 * operator asks for exact figures. */
	if (exact || rest_parse_mode(sd->ep->count, &mode) < 0)
		mode = REST_COUNT_EXACT;
	rest_side_cancel_one(rs, table_idx);
	sr = &rs->slots[table_idx];
	sr->id = rest_count_start(rs->rc, sd->cfg->tables[table_idx].name, mode,
				  rest_side_done, sr, &e);
	if (sr->id < 0) {
		sr->id = 0;
		cmp_side_report(sd->cs, sd->which, table_idx, -1, false, e.msg);
	}
}

static void rest_side_cancel(cmp_side *sd)
{
	rest_side *rs = sd->impl;

	for (size_t i = 0; i < rs->n_tables; i++)
		rest_side_cancel_one(rs, i);
}

static void rest_side_free(cmp_side *sd)
{
	rest_side *rs = sd->impl;

	if (!rs)
		return;
	if (rs->rc)
		rest_side_cancel(sd);
	rest_client_free(rs->rc);
	free(rs->slots);
	free(rs);
	sd->impl = NULL;
}

static const cmp_side_ops rest_side_ops = {
	.kind = "postgrest",
	.start = rest_side_start,
	.request_count = rest_side_request,
	.cancel = rest_side_cancel,
	.free = rest_side_free,
};

int cmp_rest_side_init(cmp_side *sd, pgc_err *e)
{
	rest_side *rs;
	rest_count_mode mode;

	if (!sd->ep || sd->ep->kind != CFG_EP_SUPABASE)
		return pgc_fail(e, PGC_EXIT_CONFIG, "%s: not a Supabase endpoint", sd->label);
	if (!sd->ep->url || !*sd->ep->url)
		return pgc_fail(e, PGC_EXIT_CONFIG, "%s: supabase: no \"url\"", sd->label);
	if (sd->ep->count && rest_parse_mode(sd->ep->count, &mode) < 0)
		return pgc_fail(e, PGC_EXIT_CONFIG,
				"%s: supabase: \"count\" must be exact, planned or estimated, not \"%s\"",
				sd->label, sd->ep->count);
	rs = xcalloc(1, sizeof *rs);
	rs->n_tables = sd->cfg ? sd->cfg->n_tables : 0;
	rs->slots = xcalloc(rs->n_tables ? rs->n_tables : 1, sizeof *rs->slots);
	for (size_t i = 0; i < rs->n_tables; i++) {
		rs->slots[i].sd = sd;
		rs->slots[i].table_idx = i;
	}
	sd->impl = rs;
	sd->ops = &rest_side_ops;
	sd->estimates_final = sd->ep->count && rest_parse_mode(sd->ep->count, &mode) == 0 &&
	                      mode != REST_COUNT_EXACT;
	free(sd->server);
	sd->server = xstrdup(sd->ep->url);
	return 0;
}
