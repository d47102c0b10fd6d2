/*
 * health.h -- HTTP health checks on cutover night: the config's "health"
 * URLs, the runbook items that are a single `curl URL` and those that say
 * "Health check:" then a `curl URL` or a bare URL.  All checks of a
 * batch run at once on libcurl's multi interface inside the one poll() loop
 * (loop.h); nothing blocks except hc_run_wait(), the headless convenience.
 * Each check records status, latency and whether the expected body
 * substring was found.  `pgcutover health` and the console's health panel
 * both use this; a batch's outcome is recorded as one "health" event.
 */
#ifndef PGCUTOVER_HEALTH_H
#define PGCUTOVER_HEALTH_H

#include <stdbool.h>
#include "pgcutover/util.h"
#include "pgcutover/config.h"
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"
#include "pgcutover/loop.h"

#define EV_HEALTH "health"   /* payload: hc_results_json() */

/* Only the start of a body is kept to look for the expected substring. */
#define HC_BODY_MAX (64 * 1024)
#define HC_ERROR_MAX 256

typedef struct hc_check {
	char *name;
	char *url;
	int expect_status;   /* 0 = any 2xx */
	char *expect_body;   /* substring, or NULL */
	int timeout_ms;
	char item[RB_ID_MAX];/* runbook item id, "" for config checks */
	char *post_json;     /* POST this JSON body instead of a GET (webhooks,
	                      * notify.c), or NULL; not freed by hc_checks_free */
} hc_check;

typedef struct hc_result {
	bool done;
	bool ok;
	long status;         /* HTTP status, 0 when no answer */
	double latency_ms;
	bool body_matched;   /* expect_body found (true when none expected) */
	char error[HC_ERROR_MAX]; /* why not ok, "" when ok */
} hc_result;

/* Checks from the config, then from runbook items that are a `curl URL` or
 * say "Health check:" with a `curl URL` or a bare URL (rb_health_label)
 * (timeout CFG_DEFAULT_HEALTH_TIMEOUT_MS, any 2xx).  Either may be NULL. */
size_t hc_collect(const config *cfg, const runbook *rb, hc_check **out);
void hc_checks_free(hc_check *c, size_t n);
/* The URL of a `curl [options] URL ...` command, or NULL. */
char *hc_curl_url(const char *command);

typedef struct hc_batch hc_batch;
typedef void (*hc_done_fn)(void *ud, hc_batch *b);

/* Starts every check (checks must outlive the batch).  done is called from
 * the loop once all have ended; it must not free the batch. */
hc_batch *hc_start(loop *lp, const hc_check *checks, size_t n, hc_done_fn done, void *ud, pgc_err *e);
bool hc_finished(const hc_batch *b);
const hc_result *hc_results(const hc_batch *b);   /* n long, in checks order */
/* Aborts checks still running (no callback). */
void hc_free(hc_batch *b);

/* Headless: runs the checks on lp and waits.  out is n long. */
int hc_run_wait(loop *lp, const hc_check *checks, size_t n, hc_result *out, pgc_err *e);

bool hc_all_ok(const hc_result *r, size_t n);
/* How many of r[0..n) passed; *first_failed (when non-NULL) is the index of
 * the first that failed, n when none did.  The console's header mark. */
size_t hc_count_ok(const hc_result *r, size_t n, size_t *first_failed);
/* True when a and b (n long each) differ in which checks pass. */
bool hc_outcome_changed(const hc_result *a, const hc_result *b, size_t n);
/* {"all_ok":bool,"checks":[{name,url,item,ok,status,latency_ms,
 *   expect_status,expect_body,body_matched,error}]}  malloc'd: the EV_HEALTH
 * payload, written by evp_health_write() (evpay.h). */
char *hc_results_json(const hc_check *c, const hc_result *r, size_t n);
/* Appends one EV_HEALTH event with hc_results_json(). */
int hc_record(state *st, const hc_check *c, const hc_result *r, size_t n, pgc_err *e);

#endif
