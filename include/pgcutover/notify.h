/*
 * notify.h -- webhook notifications on cutover night: a Slack-compatible
 * JSON body {"text": "..."} POSTed to the config's webhook ("notify":
 * {"webhook_env": "NAME"} keeps the URL, which carries a token, in the
 * environment) when a phase completes, a phase is rolled back, a command
 * fails, and the downtime starts or ends.  Sent on curl multi inside the
 * caller's loop (through health.c's transfers), retried with backoff,
 * never fatal: failures are reported to the caller, who shows them.
 *
 * Which events notify and what they say is notify_text(); the console
 * feeds it every new event of the state, the headless commands the events
 * they appended (and wait a bounded time for delivery at exit).
 */
#ifndef PGCUTOVER_NOTIFY_H
#define PGCUTOVER_NOTIFY_H
#include <stdbool.h>
#include "pgcutover/config.h"
#include "pgcutover/runbook.h"
#include "pgcutover/state.h"
#include "pgcutover/loop.h"

#define NOTIFY_ATTEMPTS 5          /* tries per message */
#define NOTIFY_BACKOFF_MS 1000     /* before the 2nd try; doubles each time */
#define NOTIFY_TIMEOUT_MS 10000    /* one POST */
#define NOTIFY_FLUSH_MS 5000       /* headless: longest wait at exit */

typedef struct notifier notifier;

/* The webhook URL of cfg (its own, or from the environment variable it
 * names), or NULL when none is configured or the variable is unset (then
 * *why says so when non-NULL). */
const char *notify_url(const config *cfg, const char **why);

/* NULL when no webhook is configured. */
notifier *notify_new(const config *cfg, loop *lp);
void notify_free(notifier *n);      /* drops what is still queued */

/* The message for an event, or NULL when the event kind does not notify.
 * Secrets (act_masker) are masked.  malloc'd. */
char *notify_text(const config *cfg, const runbook *rb, const st_event *ev);

/* Queues a message (sent in order, one at a time). */
void notify_send(notifier *n, const char *text);
/* Messages not yet delivered or given up. */
size_t notify_pending(const notifier *n);
/* Counters and the last failure ("" none): for the status line / stderr. */
int notify_sent(const notifier *n);
int notify_failed(const notifier *n);          /* given up after NOTIFY_ATTEMPTS */
const char *notify_last_error(const notifier *n);
/* Changes whenever a delivery fails or succeeds (for a redraw). */
unsigned notify_generation(const notifier *n);

/* The one scanner of the state for the webhook: queues on n the message of
 * every event after id *after (of process pid only, when pid > 0), moving
 * *after to each event looked at, so that a read error half-way sends
 * nothing twice on the next scan.  0, or -1 with e set.  Used by the headless writers at exit
 * (their own events) and by the console's notify service (svc.h). */
int notify_scan(notifier *n, const config *cfg, const runbook *rb, state *st, int64_t *after,
                int pid, pgc_err *e);

/* Headless: turns lp until nothing is pending or max_ms passed.
 * Returns how many messages were left undelivered. */
size_t notify_flush(notifier *n, int max_ms);

#endif
