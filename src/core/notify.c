/*
 * notify.c -- webhook notifications (see notify.h).  One message in flight
 * at a time, as a one-check health batch with a POST body (health.c owns
 * the curl multi glue); a failure schedules the same message again after a
 * doubling backoff, up to NOTIFY_ATTEMPTS, then it is given up and
 * counted.  Nothing here blocks except notify_flush(), the headless wait.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/notify.h"
#include "pgcutover/action.h"
#include "pgcutover/evpay.h"
#include "pgcutover/health.h"

#define NOTIFY_PREFIX "[pgcutover]"
#define NOTIFY_FLUSH_SLICE_MS 50

struct notifier {
	loop *lp;
	const config *cfg;
	char *url;
	char **queue; size_t n_queue;   /* bodies (JSON), oldest first */
	int attempt;                    /* of queue[0] */
	hc_check check;
	hc_batch *batch;                /* in flight, or NULL */
	int retry_timer;
	int sent, failed;
	unsigned gen;
	char last_error[HC_ERROR_MAX + 64];
};

const char *notify_url(const config *cfg, const char **why)
{
	if (why)
		*why = NULL;
	if (!cfg)
		return NULL;
	if (cfg->notify_url)
		return cfg->notify_url;
	if (cfg->notify_url_env) {
		const char *v = getenv(cfg->notify_url_env);
		if (v && *v)
			return v;
		if (why)
			*why = "the webhook's environment variable is not set";
	}
	return NULL;
}

notifier *notify_new(const config *cfg, loop *lp)
{
	const char *url = notify_url(cfg, NULL);
	if (!url)
		return NULL;
	notifier *n = xcalloc(1, sizeof *n);
	n->lp = lp;
	n->cfg = cfg;
	n->url = xstrdup(url);
	return n;
}

void notify_free(notifier *n)
{
	if (!n)
		return;
	hc_free(n->batch);
	if (n->retry_timer)
		loop_timer_cancel(n->lp, n->retry_timer);
	for (size_t i = 0; i < n->n_queue; i++)
		free(n->queue[i]);
	free(n->queue);
	free(n->url);
	free(n);
}

static void start_next(notifier *n);

static void pop(notifier *n)
{
	free(n->queue[0]);
	memmove(n->queue, n->queue + 1, (n->n_queue - 1) * sizeof *n->queue);
	n->n_queue--;
	n->attempt = 0;
}

static void on_retry(loop *lp, void *ud)
{
	(void)lp;
	notifier *n = ud;
	n->retry_timer = 0;
	start_next(n);
}

static void on_done(void *ud, hc_batch *b)
{
	notifier *n = ud;
	const hc_result *r = hc_results(b);
	bool ok = r[0].ok;
	char err[HC_ERROR_MAX];
	snprintf(err, sizeof err, "%s", r[0].error);
	/* freed on the next turn: this is the batch's own callback */
	n->batch = NULL;
	hc_free(b);
	n->gen++;
	if (ok) {
		n->sent++;
		n->last_error[0] = '\0';
		pop(n);
		start_next(n);
		return;
	}
	n->attempt++;
	if (n->attempt >= NOTIFY_ATTEMPTS) {
		n->failed++;
		snprintf(n->last_error, sizeof n->last_error, "webhook: %s; gave up after %d tries", err, NOTIFY_ATTEMPTS);
		pop(n);
		start_next(n);
		return;
	}
	int delay = NOTIFY_BACKOFF_MS << (n->attempt - 1);
	snprintf(n->last_error, sizeof n->last_error, "webhook: %s; retrying in %d s", err, delay / 1000);
	n->retry_timer = loop_timer(n->lp, delay, on_retry, n);
}

static void start_next(notifier *n)
{
	if (n->batch || n->retry_timer || n->n_queue == 0)
		return;
	memset(&n->check, 0, sizeof n->check);
	n->check.name = (char *)"webhook";
	n->check.url = n->url;
	n->check.timeout_ms = NOTIFY_TIMEOUT_MS;
	n->check.post_json = n->queue[0];
	pgc_err e = {0};
	n->batch = hc_start(n->lp, &n->check, 1, on_done, n, &e);
	if (!n->batch) {
		snprintf(n->last_error, sizeof n->last_error, "webhook: %.250s", e.msg);
		n->failed++;
		pop(n);
		n->gen++;
	}
}

void notify_send(notifier *n, const char *text)
{
	if (!n || !text)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", text);
	char *js = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	n->queue = xrealloc(n->queue, (n->n_queue + 1) * sizeof *n->queue);
	n->queue[n->n_queue++] = xstrdup(js);
	cJSON_free(js);
	start_next(n);
}

size_t notify_pending(const notifier *n) { return n ? n->n_queue : 0; }
int notify_sent(const notifier *n) { return n ? n->sent : 0; }
int notify_failed(const notifier *n) { return n ? n->failed : 0; }
const char *notify_last_error(const notifier *n) { return n ? n->last_error : ""; }
unsigned notify_generation(const notifier *n) { return n ? n->gen : 0; }

size_t notify_flush(notifier *n, int max_ms)
{
	if (!n)
		return 0;
	double end = loop_now_ms() + max_ms;
	while (n->n_queue && loop_now_ms() < end)
		loop_once(n->lp, NOTIFY_FLUSH_SLICE_MS);
	return n->n_queue;
}

/* ---- what is said ---- */

char *notify_text(const config *cfg, const runbook *rb, const st_event *ev)
{
	evr_op pl;
	evr_op_read(ev->payload, &pl);
	const char *k = ev->kind, *who = ev->operator_name ? ev->operator_name : "?";
	const char *title = rb && rb->title ? rb->title : "migration";
	char *msg = NULL;
	if (strcmp(k, EV_PHASE_COMPLETE) == 0) {
		const char *gate = pl.gate_overridden;
		msg = xasprintf("%s %s: phase %s complete (%s)%s%s", NOTIFY_PREFIX, title, ev->phase ? ev->phase : "?",
		                who, gate ? "; counts gate overridden: " : "", gate ? gate : "");
	} else if (strcmp(k, EV_PHASE_ROLLED_BACK) == 0) {
		evr_rolled_back rbk;
		evr_rolled_back_read(ev->payload, &rbk);
		msg = xasprintf("%s %s: phase %s ROLLED BACK by %s%s", NOTIFY_PREFIX, title, ev->phase ? ev->phase : "?",
		                who, rbk.past_point_of_no_return ? " (past the point of no return)" : "");
	} else if (strcmp(k, EV_PHASE_ROLLBACK_FAILED) == 0) {
		evr_rollback_failed rf;
		evr_rollback_failed_read(ev->payload, &rf);
		msg = xasprintf("%s %s: ROLLBACK of phase %s FAILED at %s (%zu of %zu flags restored), run by %s",
		                NOTIFY_PREFIX, title, ev->phase ? ev->phase : "?", rf.failed_at ? rf.failed_at : "?",
		                rf.n_restored, rf.n_flags, who);
		evr_rollback_failed_free(&rf);
	} else if (strcmp(k, EV_COMMAND_END) == 0) {
		evr_command_end ce;
		evr_command_end_read(ev->payload, &ce);
		if (ce.status && strcmp(ce.status, "ok") != 0)
			msg = xasprintf("%s %s: command of item %s %s (exit %d), run by %s", NOTIFY_PREFIX, title,
			                ev->item ? ev->item : "?", ce.status, ce.has_exit ? ce.exit_code : -1, who);
		evr_command_end_free(&ce);
	} else if (strcmp(k, EV_COMMAND_UNKNOWN) == 0) {
		msg = xasprintf("%s %s: the end of item %s's command is unknown (pgcutover exited while it ran)",
		                NOTIFY_PREFIX, title, ev->item ? ev->item : "?");
	} else if (strcmp(k, EV_DOWNTIME_START) == 0) {
		msg = xasprintf("%s %s: downtime started (%s)", NOTIFY_PREFIX, title, who);
	} else if (strcmp(k, EV_DOWNTIME_END) == 0) {
		long e = (long)pl.elapsed_s, p = (long)pl.planned_s;   /* -1: not recorded */
		msg = xasprintf("%s %s: downtime ended (%s) after %ldh%02ldm%s", NOTIFY_PREFIX, title, who,
		                e / 3600, (e / 60) % 60, p > 0 && e > p ? ", OVER the plan" : "");
	}
	evr_op_free(&pl);
	if (!msg)
		return NULL;
	act_masker *m = act_masker_new(cfg);
	char *masked = act_masker_apply(m, msg);
	act_masker_free(m);
	free(msg);
	char *safe = pgc_sanitize_n(masked, strlen(masked), PGC_SANITIZE_LINES);
	free(masked);
	return safe;
}

typedef struct notify_scan_ctx {
	notifier *n;
	const config *cfg;
	const runbook *rb;
	int pid;
	int64_t *after;
} notify_scan_ctx;

static int notify_scan_event(const st_event *ev, void *ud)
{
	notify_scan_ctx *ns = ud;
	*ns->after = ev->id;
	if (ns->pid > 0 && ev->pid != ns->pid)
		return 0;
	char *text = notify_text(ns->cfg, ns->rb, ev);
	if (text)
		notify_send(ns->n, text);
	free(text);
	return 0;
}

int notify_scan(notifier *n, const config *cfg, const runbook *rb, state *st, int64_t *after,
                int pid, pgc_err *e)
{
	notify_scan_ctx ns = {n, cfg, rb, pid, after};
	return state_foreach(st, *after, notify_scan_event, &ns, e);
}
