/*
 * health.c -- HTTP health checks on libcurl multi inside the poll() loop.
 *
 * Glue: CURLMOPT_SOCKETFUNCTION turns curl's sockets into loop_watch()
 * entries, CURLMOPT_TIMERFUNCTION into one loop_timer(); both end in
 * curl_multi_socket_action(), after which finished transfers are read from
 * curl_multi_info_read().  Each check has its own total timeout, so a
 * server that accepts and never answers fails that check only.  Called by
 * `pgcutover health` (hc_run_wait) and the console's health panel.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "pgcutover/health.h"
#include "pgcutover/evpay.h"
#include "pgcutover/action.h"

#define HC_USER_AGENT "pgcutover-health"
#define HC_HTTP_OK_MIN 200
#define HC_HTTP_OK_MAX 299
#define HC_MS_PER_S 1000.0
/* See ACT_WAIT_SLICE_MS: a batch can end inside a timer callback. */
#define HC_WAIT_SLICE_MS 50

typedef struct hc_transfer {
	hc_batch *batch;
	size_t idx;
	CURL *easy;
	strbuf body;
	struct curl_slist *headers;   /* POST: Content-Type */
	char errbuf[CURL_ERROR_SIZE]; /* curl's own words: more than its error code's */
} hc_transfer;

struct hc_batch {
	loop *lp;
	CURLM *multi;
	const hc_check *checks;
	size_t n;
	hc_result *results;
	hc_transfer *xfers;
	size_t pending;
	int timer_id;
	hc_done_fn done;
	void *ud;
	bool finished;
};

/* ------------------------------------------------------------------ */
/* collecting checks */

/* curl options that take a value (the URL is never one of those). */
static bool curl_opt_takes_arg(const char *o)
{
	static const char *const with_arg[] = {
		"-H", "--header", "-X", "--request", "-d", "--data", "--data-raw", "--data-binary",
		"-o", "--output", "-u", "--user", "-m", "--max-time", "-w", "--write-out", "-A",
		"--user-agent", "-e", "--referer", "-b", "--cookie", "-c", "--cookie-jar",
		"--connect-timeout", "-x", "--proxy", "--retry", "-F", "--form", "-T",
		"--upload-file", "--resolve", "--cacert", "--cert", "--key", NULL,
	};
	for (const char *const *w = with_arg; *w; w++)
		if (strcmp(*w, o) == 0)
			return true;
	return false;
}

/* Next shell word of *p (quotes and backslashes resolved), or NULL. */
static char *next_word(const char **p)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t' || *s == '\n' || (*s == '\\' && s[1] == '\n'))
		s += *s == '\\' ? 2 : 1;
	if (!*s)
		return NULL;
	strbuf w;
	sb_init(&w);
	char quote = 0;
	for (; *s; s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
			else if (quote == '"' && *s == '\\' && s[1])
				sb_putc(&w, *++s);
			else
				sb_putc(&w, *s);
		} else if (*s == '\'' || *s == '"') {
			quote = *s;
		} else if (*s == '\\' && s[1]) {
			sb_putc(&w, *++s);
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '|' || *s == ';' || *s == '&') {
			break;
		} else {
			sb_putc(&w, *s);
		}
	}
	*p = s;
	return sb_steal(&w);
}

char *hc_curl_url(const char *command)
{
	if (!command)
		return NULL;
	const char *p = command;
	char *w = next_word(&p), *url = NULL;
	bool is_curl = w && strcmp(w, "curl") == 0, skip_next = false;
	free(w);
	while (is_curl && (w = next_word(&p))) {
		if (skip_next) {
			skip_next = false;
		} else if (w[0] == '-') {
			skip_next = curl_opt_takes_arg(w);
		} else {
			if (strncmp(w, "http://", 7) == 0 || strncmp(w, "https://", 8) == 0)
				url = xstrdup(w);
			free(w);
			break;
		}
		free(w);
	}
	return url;
}

/* The first http:// or https:// URL in text, up to a space, backtick or
 * quote (a "Health check: http://host/health" item), or NULL. */
static char *bare_url(const char *text)
{
	if (!text)
		return NULL;
	const char *a = strstr(text, "http://"), *b = strstr(text, "https://");
	const char *u = a && (!b || a < b) ? a : b;
	if (!u)
		return NULL;
	size_t n = strcspn(u, " \t\n`'\"<>)");
	while (n > 0 && (u[n - 1] == '.' || u[n - 1] == ',' || u[n - 1] == '*'))
		n--;
	return xstrndup(u, n);
}

static hc_check *push_check(hc_check **v, size_t *n)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	hc_check *c = &(*v)[(*n)++];
	memset(c, 0, sizeof *c);
	return c;
}

size_t hc_collect(const config *cfg, const runbook *rb, hc_check **out)
{
	hc_check *v = NULL;
	size_t n = 0;
	for (size_t i = 0; cfg && i < cfg->n_health; i++) {
		const cfg_health *h = &cfg->health[i];
		hc_check *c = push_check(&v, &n);
		c->name = xstrdup(h->name ? h->name : h->url);
		c->url = xstrdup(h->url);
		c->expect_status = h->expect_status;
		c->expect_body = h->expect_body ? xstrdup(h->expect_body) : NULL;
		c->timeout_ms = h->timeout_ms > 0 ? h->timeout_ms : CFG_DEFAULT_HEALTH_TIMEOUT_MS;
	}
	for (size_t p = 0; rb && p < rb->n_phases; p++) {
		const rb_phase *ph = &rb->phases[p];
		for (size_t i = 0; i < ph->n_items; i++) {
			const rb_item *it = &ph->items[i];
			if (!it->health_check)
				continue;
			char *url = hc_curl_url(it->inline_code);
			if (!url)
				url = hc_curl_url(it->text);
			if (!url && it->block)
				url = hc_curl_url(it->block->text);
			if (!url && rb_health_label(it->text))
				url = bare_url(rb_health_label(it->text));
			if (!url)
				continue;
			hc_check *c = push_check(&v, &n);
			c->name = pgc_sanitize(it->text ? it->text : url);
			c->url = url;
			c->timeout_ms = CFG_DEFAULT_HEALTH_TIMEOUT_MS;
			snprintf(c->item, sizeof c->item, "%s", it->id);
		}
	}
	*out = v;
	return n;
}

void hc_checks_free(hc_check *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].url);
		free(c[i].expect_body);
	}
	free(c);
}

/* ------------------------------------------------------------------ */
/* curl multi in the loop */

static void finish_transfer(hc_batch *b, hc_transfer *t, CURLcode code)
{
	hc_result *r = &b->results[t->idx];
	const hc_check *c = &b->checks[t->idx];
	double total = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &total);
	r->latency_ms = total * HC_MS_PER_S;
	r->done = true;
	r->body_matched = !c->expect_body || (t->body.buf && strstr(t->body.buf, c->expect_body));
	if (code != CURLE_OK) {
		/* "Unsupported protocol" for bytes that are not HTTP, "Timeout was
		 * reached" with no figure: curl's buffer says what happened */
		const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
		bool not_http = code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_WEIRD_SERVER_REPLY;
		char *clean = pgc_sanitize(why);
		snprintf(r->error, sizeof r->error, "%s%s", not_http ? "the answer is not HTTP: " : "", clean);
		free(clean);
		r->ok = false;
	} else if (c->expect_status ? r->status != c->expect_status
	                            : (r->status < HC_HTTP_OK_MIN || r->status > HC_HTTP_OK_MAX)) {
		if (c->expect_status)
			snprintf(r->error, sizeof r->error, "HTTP %ld, expected %d", r->status, c->expect_status);
		else
			snprintf(r->error, sizeof r->error, "HTTP %ld, expected 2xx", r->status);
		r->ok = false;
	} else if (!r->body_matched) {
		snprintf(r->error, sizeof r->error, "body does not contain the expected text");
		r->ok = false;
	} else {
		r->ok = true;
	}
	curl_multi_remove_handle(b->multi, t->easy);
	curl_easy_cleanup(t->easy);
	t->easy = NULL;
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	sb_free(&t->body);
	b->pending--;
}

static void check_done(hc_batch *b)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(b->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		hc_transfer *t = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		if (t)
			finish_transfer(b, t, msg->data.result);
	}
	if (b->pending == 0 && !b->finished) {
		b->finished = true;
		if (b->timer_id) {
			loop_timer_cancel(b->lp, b->timer_id);
			b->timer_id = 0;
		}
		if (b->done)
			b->done(b->ud, b);
	}
}

static void on_socket_ready(loop *lp, int fd, short revents, void *ud)
{
	hc_batch *b = ud;
	int mask = 0, running;
	if (revents & POLLIN)
		mask |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(b->multi, fd, mask, &running);
	check_done(b);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	hc_batch *b = userp;
	if (what == CURL_POLL_REMOVE) {
		loop_unwatch(b->lp, s);
		return 0;
	}
	short ev = 0;
	if (what & CURL_POLL_IN)
		ev |= POLLIN;
	if (what & CURL_POLL_OUT)
		ev |= POLLOUT;
	loop_watch(b->lp, s, ev, on_socket_ready, b);
	return 0;
}

static void on_timer(loop *lp, void *ud)
{
	hc_batch *b = ud;
	int running;
	b->timer_id = 0;
	curl_multi_socket_action(b->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(b);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	hc_batch *b = userp;
	if (b->timer_id) {
		loop_timer_cancel(b->lp, b->timer_id);
		b->timer_id = 0;
	}
	if (timeout_ms >= 0)
		b->timer_id = loop_timer(b->lp, (int)timeout_ms, on_timer, b);
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	hc_transfer *t = ud;
	size_t n = size * nmemb;
	if (t->body.len < HC_BODY_MAX) {
		size_t take = HC_BODY_MAX - t->body.len;
		sb_add(&t->body, data, n < take ? n : take);
	}
	return n;
}

hc_batch *hc_start(loop *lp, const hc_check *checks, size_t n, hc_done_fn done, void *ud, pgc_err *e)
{
	static bool curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			pgc_fail(e, PGC_EXIT_SOFTWARE, "libcurl could not be initialised");
			return NULL;
		}
		curl_ready = true;
	}
	hc_batch *b = xcalloc(1, sizeof *b);
	b->lp = lp;
	b->checks = checks;
	b->n = n;
	b->done = done;
	b->ud = ud;
	b->results = xcalloc(n, sizeof *b->results);
	b->xfers = xcalloc(n, sizeof *b->xfers);
	b->multi = curl_multi_init();
	if (!b->multi) {
		hc_free(b);
		pgc_fail(e, PGC_EXIT_SOFTWARE, "libcurl: cannot create a multi handle");
		return NULL;
	}
	curl_multi_setopt(b->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(b->multi, CURLMOPT_SOCKETDATA, b);
	curl_multi_setopt(b->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(b->multi, CURLMOPT_TIMERDATA, b);
	for (size_t i = 0; i < n; i++) {
		hc_transfer *t = &b->xfers[i];
		t->batch = b;
		t->idx = i;
		sb_init(&t->body);
		t->easy = curl_easy_init();
		if (!t->easy) {
			snprintf(b->results[i].error, sizeof b->results[i].error, "libcurl: no easy handle");
			b->results[i].done = true;
			continue;
		}
		curl_easy_setopt(t->easy, CURLOPT_URL, checks[i].url);
		curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)checks[i].timeout_ms);
		curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
		curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(t->easy, CURLOPT_USERAGENT, HC_USER_AGENT);
		curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
		curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
		/* Only plain web protocols: a config URL must not read files. */
		curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
		if (checks[i].post_json) {
			t->headers = curl_slist_append(NULL, "Content-Type: application/json");
			curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
			curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, checks[i].post_json);
		}
		if (curl_multi_add_handle(b->multi, t->easy) != CURLM_OK) {
			curl_easy_cleanup(t->easy);
			t->easy = NULL;
			snprintf(b->results[i].error, sizeof b->results[i].error, "libcurl: cannot add the transfer");
			b->results[i].done = true;
			continue;
		}
		b->pending++;
	}
	if (b->pending == 0) {
		/* Report from the loop, as for any other batch. */
		b->timer_id = loop_timer(lp, 0, on_timer, b);
	}
	return b;
}

bool hc_finished(const hc_batch *b)
{
	return b->finished;
}

const hc_result *hc_results(const hc_batch *b)
{
	return b->results;
}

void hc_free(hc_batch *b)
{
	if (!b)
		return;
	if (b->timer_id)
		loop_timer_cancel(b->lp, b->timer_id);
	for (size_t i = 0; i < b->n; i++) {
		hc_transfer *t = &b->xfers[i];
		if (t->easy) {
			curl_multi_remove_handle(b->multi, t->easy);
			curl_easy_cleanup(t->easy);
		}
		curl_slist_free_all(t->headers);
		sb_free(&t->body);
	}
	if (b->multi)
		curl_multi_cleanup(b->multi);
	free(b->xfers);
	free(b->results);
	free(b);
}

int hc_run_wait(loop *lp, const hc_check *checks, size_t n, hc_result *out, pgc_err *e)
{
	hc_batch *b = hc_start(lp, checks, n, NULL, NULL, e);
	if (!b)
		return -1;
	while (!b->finished)
		if (loop_once(lp, HC_WAIT_SLICE_MS) < 0)
			break;
	memcpy(out, b->results, n * sizeof *out);
	hc_free(b);
	return 0;
}

bool hc_all_ok(const hc_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!r[i].ok)
			return false;
	return true;
}

size_t hc_count_ok(const hc_result *r, size_t n, size_t *first_failed)
{
	size_t ok = 0;
	if (first_failed)
		*first_failed = n;
	for (size_t i = 0; i < n; i++) {
		if (r[i].ok)
			ok++;
		else if (first_failed && *first_failed == n)
			*first_failed = i;
	}
	return ok;
}

bool hc_outcome_changed(const hc_result *a, const hc_result *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].ok != b[i].ok)
			return true;
	return false;
}

char *hc_results_json(const hc_check *c, const hc_result *r, size_t n)
{
	return evp_health_write(c, r, n);
}

int hc_record(state *st, const hc_check *c, const hc_result *r, size_t n, pgc_err *e)
{
	char *js = hc_results_json(c, r, n);
	int rc = state_append(st, EV_HEALTH, NULL, NULL, js, NULL, e);
	free(js);
	return rc;
}
