/*
 * rest.h -- row counts from a Supabase/PostgREST source over HTTP.  Each
 * count is a HEAD /rest/v1/<table>?select=*&limit=1 with `Prefer:
 * count=exact|planned|estimated`; the total is read from Content-Range.
 * Requests run on libcurl's multi interface inside the one poll() loop
 * (loop.h): nothing here blocks except rest_count_tables(), the headless
 * convenience that runs its own loop until every answer is in.
 * The API key is read from the environment variable the config names; it
 * is never returned, logged or stored (messages mask it as ***).
 */
#ifndef PGCUTOVER_REST_H
#define PGCUTOVER_REST_H

#include <stdbool.h>
#include <stdint.h>
#include "pgcutover/util.h"
#include "pgcutover/config.h"
#include "pgcutover/loop.h"

typedef enum rest_count_mode {
	REST_COUNT_EXACT,      /* count(*) on the server */
	REST_COUNT_PLANNED,    /* the planner's estimate */
	REST_COUNT_ESTIMATED,  /* exact up to the server's max-rows, planned above */
} rest_count_mode;

typedef enum rest_outcome {
	REST_OK,             /* 200/206 with a Content-Range (total may be unknown) */
	REST_ERR_AUTH,       /* 401/403: key missing or rejected */
	REST_ERR_NOT_FOUND,  /* 404: no such table (PGRST205; older servers 42P01) */
	REST_ERR_HTTP,       /* any other status (5xx, 406 bad schema, ...) */
	REST_ERR_TIMEOUT,    /* no complete answer within the timeout */
	REST_ERR_CONNECT,    /* resolve/connect/TLS/transfer failure */
	REST_ERR_PROTOCOL,   /* 2xx but no usable Content-Range */
} rest_outcome;

/* One answer.  Strings are owned by the result (rest_result_clear). */
typedef struct rest_result {
	char *table;          /* as asked */
	rest_outcome outcome;
	rest_count_mode mode;
	long http_status;     /* 0 when no response arrived */
	int64_t total;        /* -1 when unknown ('*') or on error */
	bool exact;           /* total is an exact count (mode exact) */
	char *code;           /* PostgREST error "code", NULL when absent */
	char *message;        /* PostgREST "message" or transport error text */
	char *hint;           /* PostgREST "hint", NULL when absent/null */
	char *details;        /* PostgREST "details", NULL when absent/null */
	double elapsed_ms;    /* first attempt to answer */
	int attempts;         /* HEAD attempts made (retries + 1) */
	char *body;           /* rest_page_start: the answer's body (NUL-terminated) */
	size_t body_len;
} rest_result;

typedef struct rest_opts {
	int timeout_ms;          /* whole request, per attempt */
	int connect_timeout_ms;
	int max_parallel;        /* connections to the host at once */
	int retries;             /* extra attempts after connect failures, 502/503/504 */
	int backoff_ms;          /* first retry delay; doubles each retry */
} rest_opts;

#define REST_DEFAULT_TIMEOUT_MS 15000
#define REST_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define REST_DEFAULT_MAX_PARALLEL 4
#define REST_DEFAULT_RETRIES 2
#define REST_DEFAULT_BACKOFF_MS 250
#define REST_BACKOFF_MAX_MS 8000

void rest_opts_default(rest_opts *o);

typedef struct rest_client rest_client;

/* Called from the loop when a count finishes (any outcome).  r is valid only
 * during the call (copy with rest_result_copy).  May start or cancel
 * requests; must not free the client. */
typedef void (*rest_done_fn)(const rest_result *r, void *ud);

/* Reads the key from getenv(ep->key_env).  Fails (PGC_EXIT_CONFIG) when the
 * endpoint is not Supabase, has no url, or the variable is unset or empty.
 * lp must outlive the client.  o may be NULL (defaults). */
rest_client *rest_client_new(loop *lp, const cfg_endpoint *ep, const rest_opts *o, pgc_err *e);
/* Drops requests in flight without calling their callbacks. */
void rest_client_free(rest_client *rc);

/* Starts one count; returns a request id > 0, or -1 with e set. */
int rest_count_start(rest_client *rc, const char *table, rest_count_mode mode,
		     rest_done_fn fn, void *ud, pgc_err *e);
/* Starts one page of rows: GET {base}/rest/v1/{table}?{query} with
 * `Range-Unit: items`, `Range: first-(first+n-1)` and, when count >= 0,
 * `Prefer: count=<rest_count_mode>`.  The callback's result holds the body
 * (a JSON array on REST_OK) and the Content-Range total (-1 unknown); an
 * error answer is described as a count's is.  Retried like a count. */
int rest_page_start(rest_client *rc, const char *table, const char *query, int64_t first, int64_t n,
		    int count, rest_done_fn fn, void *ud, pgc_err *e);
void rest_cancel(rest_client *rc, int id);   /* no callback for it */
void rest_cancel_all(rest_client *rc);
int rest_pending(const rest_client *rc);

/* Headless: counts every table in parallel on a private loop and waits.
 * out[i] answers tables[i] (clear each with rest_result_clear).  Returns 0
 * when every request ended (per-table outcomes in out), -1 when the client
 * could not be set up (e set). */
int rest_count_tables(const cfg_endpoint *ep, const char *const *tables, size_t n,
		      rest_count_mode mode, const rest_opts *o, rest_result *out, pgc_err *e);

/* "HTTP 404 PGRST205: Could not find ... (hint: ...)", or the transport
 * error; control characters replaced.  malloc'd. */
char *rest_result_describe(const rest_result *r);
/* True for outcomes that mean the source as a whole cannot be used now
 * (auth, timeout, connect, 5xx) rather than one table being wrong. */
bool rest_outcome_unreachable(const rest_result *r);
const char *rest_outcome_name(rest_outcome o);
void rest_result_copy(rest_result *dst, const rest_result *src);
void rest_result_clear(rest_result *r);

/* ---- pure helpers (unit-tested) ---- */

/* Content-Range values such as 0-0/3573 (206), "* / 0" without the spaces
 * (empty table) or 0-24 / * (count not asked): sets *total to what follows
 * the slash, -1 for a star.  Returns 0, or -1 when the value is malformed. */
int rest_parse_content_range(const char *value, int64_t *total);
/* Three non-empty base64url parts separated by dots (new sb_... keys are not). */
bool rest_key_is_jwt(const char *key);
int rest_parse_mode(const char *s, rest_count_mode *out);   /* NULL -> exact */
const char *rest_mode_name(rest_count_mode m);
/* The config's name read as SQL reads it: "public.clients" -> schema
 * "public", table "clients"; "clients" -> schema NULL; plain parts folded to
 * lower case, double-quoted parts literal ("" for a quote, dots allowed).
 * Returns 0, or -1 for an empty or badly quoted name. */
int rest_split_table(const char *name, char **schema, char **table);
/* {base}/rest/v1/{url-encoded table}?select=*&limit={limit}; base may end in
 * '/' or already in /rest/v1.  NULL on a bad name. */
char *rest_count_url(const char *base, const char *table, int limit);
/* {base}/rest/v1/{url-encoded table}?{query}; NULL on a bad name. */
char *rest_table_url(const char *base, const char *table, const char *query);
/* Fills res->code/message/hint/details from the body of an error reply
 * (len bytes, no NUL needed): a PostgREST or gateway JSON object, else the
 * text itself as the message.  Called on the GET after a failed HEAD. */
void rest_parse_error_body(const char *body, size_t len, rest_result *res);
/* Copy of text with every occurrence of secret replaced by "***". */
char *rest_mask_secret(const char *text, const char *secret);

#endif
