/*
 * goboard.c -- the go/no-go board and the gate on the switch item
 * (goboard.h).  The board reads the log (freeze, sync, counts, health),
 * takes what the caller measured now (sequences, schema, verify), and
 * marks what was measured before the freeze stale.  The gate reads the last
 * recorded board.  `pgcutover go` (cmd_go.c), the console's go screen,
 * ops_tick() and `pgcutover run` use it; payloads through evpay.c.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "pgcutover/goboard.h"
#include "pgcutover/compare.h"
#include "pgcutover/evpay.h"
#include "pgcutover/health.h"
#include "pgcutover/loop.h"
#include "pgcutover/schema.h"
#include "pgcutover/verify.h"

static const char *const go_keys[GO_N_INPUTS] = {
	"freeze", "sync", "counts", "sequences", "schema", "health", "verify", "postpone",
};

const char *go_input_key(go_input_id i)
{
	return i < GO_N_INPUTS ? go_keys[i] : "?";
}

const char *go_status_name(go_status s)
{
	return s == GO_GREEN ? "green" : s == GO_RED ? "red" : "grey";
}

static void go_set(go_board *b, go_input_id i, go_status st, double at, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void go_set(go_board *b, go_input_id i, go_status st, double at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->in[i].value, sizeof b->in[i].value, fmt, ap);
	va_end(ap);
	b->in[i].status = st;
	b->in[i].measured_at = at;
}

void go_switch_item(const config *cfg, const runbook *rb, char *out, size_t n)
{
	out[0] = '\0';
	if (cfg && cfg->switch_item) {
		snprintf(out, n, "%s", cfg->switch_item);
		return;
	}
	if (!rb)
		return;
	for (size_t p = 0; p < rb->n_phases; p++) {
			const rb_phase *ph = &rb->phases[p];
			if (!(ph->title && strcasestr(ph->title, "cutover")))
				continue;
			for (size_t k = 0; k < ph->n_flag_edits; k++) {
				int it = ph->flag_edits[k].item;
				if (it >= 0 && !ph->items[it].rollback) {
					snprintf(out, n, "%s", ph->items[it].id);
					return;
				}
			}
		}
}

static bool go_health_configured(const config *cfg, const runbook *rb)
{
	if (cfg && cfg->n_health > 0)
		return true;
	for (size_t p = 0; rb && p < rb->n_phases; p++)
		for (size_t i = 0; i < rb->phases[p].n_items; i++)
			if (rb->phases[p].items[i].health_check)
				return true;
	return false;
}

static void go_freeze_input(go_board *b, state *st, pgc_err *e)
{
	st_event *ev = NULL;
	if (state_last_of_kind(st, EV_FREEZE, &ev, e) != 1) {
		go_set(b, GO_IN_FREEZE, GO_RED, 0, "no freeze check recorded (pgcutover freeze check)");
		return;
	}
	evr_freeze f;
	evr_freeze_read(ev->payload, &f);
	bool weak = f.evidence && strcmp(f.evidence, "counts") == 0;
	st_event *dt = NULL;
	pgc_err de = {0};
	/* A proof from before the downtime began (the app not yet stopped)
	 * says nothing about the night. */
	double stop_at = state_last_of_kind(st, EV_DOWNTIME_START, &dt, &de) == 1 ? dt->ts : 0;
	st_event_free(dt);
	if (f.verdict && strcmp(f.verdict, "proven") == 0 && ev->ts < stop_at)
		go_set(b, GO_IN_FREEZE, GO_RED, ev->ts, "proven before the downtime started: stale, check again");
	else if (f.verdict && strcmp(f.verdict, "proven") == 0) {
		b->freeze_at = ev->ts;
		go_set(b, GO_IN_FREEZE, GO_GREEN, ev->ts, "proven: quiet %.0f s%s", f.quiet_for_s,
		       weak ? " (exact counts only: weaker evidence)" : "");
	} else
		go_set(b, GO_IN_FREEZE, GO_RED, ev->ts, "%s: %s", f.verdict ? f.verdict : "unknown",
		       f.who ? f.who : "");
	evr_freeze_free(&f);
	st_event_free(ev);
}

static void go_counts_input(go_board *b, const config *cfg, state *st, pgc_err *e)
{
	st_event *ev = NULL;
	if (state_last_of_kind(st, EV_COUNTS, &ev, e) != 1) {
		go_set(b, GO_IN_COUNTS, GO_RED, 0, "no counts recorded");
		return;
	}
	char why[GO_VALUE_MAX];
	bool ok = cmp_payload_all_matched(cfg, ev->payload, why, sizeof why);
	go_set(b, GO_IN_COUNTS, ok ? GO_GREEN : GO_RED, ev->ts, "%s", ok ? "every table equal (exact)" : why);
	st_event_free(ev);
}

/* A script sync mirrors the counts input: again after the counts changed. */
static void go_sync_input_refresh(go_board *b)
{
	if (strncmp(b->in[GO_IN_SYNC].value, "script sync", 11) != 0)
		return;
	const go_input *c = &b->in[GO_IN_COUNTS];
	go_set(b, GO_IN_SYNC, c->status, c->measured_at, "script sync (no subscription watched): counts %s",
	       c->status == GO_GREEN ? "equal" : "not equal");
}

/* A sync event when the sync is watched; else a script sync, judged by the
 * counts after the freeze. */
static void go_sync_input(go_board *b, state *st, pgc_err *e)
{
	st_event *ev = NULL;
	if (state_last_of_kind(st, EV_SYNC, &ev, e) == 1) {
		evr_verdict sy;
		evr_verdict_read(ev->payload, "caught_up", "words", &sy);
		go_set(b, GO_IN_SYNC, sy.ok ? GO_GREEN : GO_RED, ev->ts, "%s", sy.words ? sy.words : "");
		evr_verdict_free(&sy);
		st_event_free(ev);
		return;
	}
	snprintf(b->in[GO_IN_SYNC].value, sizeof b->in[GO_IN_SYNC].value, "script sync");
	go_sync_input_refresh(b);
}

static void go_health_input(go_board *b, const config *cfg, const runbook *rb, state *st, pgc_err *e)
{
	if (!go_health_configured(cfg, rb)) {
		go_set(b, GO_IN_HEALTH, GO_GREY, 0, "no health checks configured");
		return;
	}
	st_event *ev = NULL;
	if (state_last_of_kind(st, EV_HEALTH, &ev, e) != 1) {
		go_set(b, GO_IN_HEALTH, GO_RED, 0, "not run (pgcutover health)");
		return;
	}
	evr_health h;
	evr_health_read(ev->payload, &h);
	if (h.n_ok == h.n_checks)
		go_set(b, GO_IN_HEALTH, GO_GREEN, ev->ts, "%d of %d ok", h.n_ok, h.n_checks);
	else
		go_set(b, GO_IN_HEALTH, GO_RED, ev->ts, "%d of %d ok; failing: %s", h.n_ok, h.n_checks,
		       h.failing ? h.failing : "?");
	evr_health_free(&h);
	st_event_free(ev);
}

/* The last recorded verify run (vfy_recorded_equal): green when every
 * table was equal and the run complete, red otherwise; stale like any
 * input when it ran before the freeze.  No run: red when a phase is gated
 * on verify, else grey (verify is optional evidence). */
static void go_verify_input(go_board *b, const config *cfg, state *st, pgc_err *e)
{
	bool equal;
	double at;
	char why[GO_VALUE_MAX - 16];
	int rc = vfy_recorded_equal(st, &equal, &at, why, sizeof why, e);
	if (rc == 1)
		go_board_set_verify(b, equal, why, at);
	else if (rc == 0 && cfg && cfg->n_verify_gates)
		go_set(b, GO_IN_VERIFY, GO_RED, 0, "not run (pgcutover verify; a phase is gated on it)");
	else if (rc == 0)
		go_set(b, GO_IN_VERIFY, GO_GREY, 0, "not run (optional: pgcutover verify, V)");
	else
		go_set(b, GO_IN_VERIFY, GO_RED, 0, "not read: %s", e->msg);
}

int go_board_from_log(go_board *b, const config *cfg, const runbook *rb, state *st, double now, pgc_err *e)
{
	memset(b, 0, sizeof *b);
	b->at = now;
	go_switch_item(cfg, rb, b->switch_item, sizeof b->switch_item);
	go_freeze_input(b, st, e);
	go_counts_input(b, cfg, st, e);
	go_sync_input(b, st, e);
	go_set(b, GO_IN_SEQUENCES, GO_RED, 0, "not checked");
	go_set(b, GO_IN_SCHEMA, GO_RED, 0, "not checked");
	go_health_input(b, cfg, rb, st, e);
	go_verify_input(b, cfg, st, e);
	struct stat sb;
	if (cfg && cfg->switch_postpone_file && stat(cfg->switch_postpone_file, &sb) == 0)
		go_set(b, GO_IN_POSTPONE, GO_RED, now, "postponed: %s exists", cfg->switch_postpone_file);
	else if (cfg && cfg->switch_postpone_file)
		go_set(b, GO_IN_POSTPONE, GO_GREEN, now, "no postpone file (%s)", cfg->switch_postpone_file);
	else
		go_set(b, GO_IN_POSTPONE, GO_GREY, 0, "no postpone file configured");
	return e->code ? -1 : 0;
}

void go_board_set_sequences(go_board *b, const seq_report *r, double at)
{
	if (r->n_behind > 0)
		go_set(b, GO_IN_SEQUENCES, GO_RED, at, "%zu of %zu behind the source (pgcutover sequences sync)",
		       r->n_behind, r->n);
	else
		go_set(b, GO_IN_SEQUENCES, GO_GREEN, at, "%zu sequences, none behind%s", r->n,
		       r->n_low ? "; headroom low (see sequences)" : "");
}

void go_board_set_schema(go_board *b, bool have_source, size_t n_diffs, double at, const char *error)
{
	if (error)
		go_set(b, GO_IN_SCHEMA, GO_RED, at, "not checked: %s", error);
	else if (!have_source)
		go_set(b, GO_IN_SCHEMA, GO_GREY, at, "REST source: no catalog to compare");
	else if (n_diffs)
		go_set(b, GO_IN_SCHEMA, GO_RED, at, "%zu difference%s (pgcutover schema)", n_diffs, n_diffs == 1 ? "" : "s");
	else
		go_set(b, GO_IN_SCHEMA, GO_GREEN, at, "equal");
}

void go_board_set_target_sequences(go_board *b, size_t n, size_t bad, double at)
{
	if (bad)
		go_set(b, GO_IN_SEQUENCES, GO_RED, at, "%zu of %zu target sequences behind max(column) or unchecked",
		       bad, n);
	else
		go_set(b, GO_IN_SEQUENCES, GO_GREEN, at, "%zu target sequences ahead of max(column)", n);
}

int go_board_record(state *st, const go_board *b, int64_t *id, pgc_err *e)
{
	char *pl = evp_go_board_write(b);
	int rc = state_append(st, EV_GO_BOARD, NULL, NULL, pl, id, e);
	free(pl);
	return rc;
}

void go_board_set_verify(go_board *b, bool equal, const char *words, double at)
{
	go_set(b, GO_IN_VERIFY, equal ? GO_GREEN : GO_RED, at, "%s", words);
}

void go_board_finish(go_board *b)
{
	b->go = true;
	for (int i = 0; i < GO_N_INPUTS; i++) {
		go_input *in = &b->in[i];
		/* The freeze itself and what is judged at the moment (postpone) are
		 * not evidence from before it. */
		if (i != GO_IN_FREEZE && i != GO_IN_POSTPONE && in->status != GO_GREY &&
		    (b->freeze_at == 0 || in->measured_at < b->freeze_at)) {
			in->stale = in->measured_at > 0;
			in->status = GO_RED;
		}
		if (in->status == GO_RED)
			b->go = false;
	}
}

char *go_board_red_words(const go_board *b)
{
	strbuf sb;
	sb_init(&sb);
	for (int i = 0; i < GO_N_INPUTS; i++) {
		const go_input *in = &b->in[i];
		if (in->status != GO_RED)
			continue;
		sb_printf(&sb, "%s%s: %s%s", sb.len ? "; " : "", go_keys[i],
		          in->stale ? "stale (measured before the freeze) " : "", in->value);
	}
	return sb_steal(&sb);
}

int go_gate(const config *cfg, const runbook *rb, state *st, const char *item_id, double now,
            int64_t *board_event, char **board_payload, char *why, size_t n)
{
	char sw[RB_ID_MAX];
	go_switch_item(cfg, rb, sw, sizeof sw);
	*board_event = 0;
	*board_payload = NULL;
	why[0] = '\0';
	if (!cfg || !cfg->switch_gated || !sw[0] || !item_id || strcmp(sw, item_id) != 0)
		return -1;
	pgc_err e = {0};
	st_event *bev = NULL, *fev = NULL;
	if (state_last_of_kind(st, EV_GO_BOARD, &bev, &e) != 1) {
		snprintf(why, n, "no go/no-go board recorded (pgcutover go)");
		return 1;
	}
	*board_event = bev->id;
	*board_payload = xstrdup(bev->payload);
	evr_verdict gb;
	evr_verdict_read(bev->payload, "go", "red", &gb);
	int blocked = 1;
	struct stat sb;
	if (!gb.ok)
		snprintf(why, n, "the board is red: %s", gb.words ? gb.words : "?");
	else if (state_last_of_kind(st, EV_FREEZE, &fev, &e) == 1 && fev->id > bev->id)
		snprintf(why, n, "a freeze check ran after the board (event %lld): run pgcutover go again",
		         (long long)fev->id);
	else if (now - bev->ts > GO_BOARD_MAX_AGE_S)
		snprintf(why, n, "the board is %.0f min old (at most %d): run pgcutover go again",
		         (now - bev->ts) / 60, GO_BOARD_MAX_AGE_S / 60);
	else if (cfg && cfg->switch_postpone_file && stat(cfg->switch_postpone_file, &sb) == 0)
		snprintf(why, n, "postponed: %s exists", cfg->switch_postpone_file);
	else
		blocked = 0;
	evr_verdict_free(&gb);
	st_event_free(bev);
	st_event_free(fev);
	return blocked;
}

int go_decide_run(const config *cfg, const runbook *rb, state *st, const char *item_id, const char *reason,
                  char *why, size_t n, pgc_err *e)
{
	int64_t bev = 0;
	char *bpl = NULL;
	int g = go_gate(cfg, rb, st, item_id, pgc_now(), &bev, &bpl, why, n);
	bool given = reason && *reason;
	if (g < 0 || (g == 1 && !given)) {
		free(bpl);
		return g < 0 ? 0 : 1;
	}
	const rb_phase *ph = NULL;
	const char *phase = rb && runbook_item(rb, item_id, &ph) && ph ? ph->id : NULL;
	char *pl = evp_go_decision_write(g == 1 ? reason : NULL, g == 1 ? why : NULL, bev, bpl);
	free(bpl);
	int rc = state_append(st, EV_GO_DECISION, phase, item_id, pl, NULL, e);
	free(pl);
	return rc < 0 ? -1 : 0;
}

/* ---- measuring now (blocking) ---- */

#define GO_COUNTS_TIMEOUT_MS 600000

static void go_counts_done(cmp_session *cs, bool snapshot_done, void *ud)
{
	(void)cs;
	if (snapshot_done)
		loop_stop(ud);
}

static void go_counts_timeout(loop *lp, void *ud)
{
	*(bool *)ud = true;
	loop_stop(lp);
}

/* Exact counts of every table, recorded in st by the session. */
static int go_take_counts(const config *cfg, state *st, pgc_err *e)
{
	loop *lp = loop_new();
	cmp_session *cs = cmp_session_new(cfg, lp, e);
	int rc = -1;
	if (cs) {
		bool timed_out = false;
		cmp_session_set_state(cs, st);
		cmp_session_set_listener(cs, go_counts_done, lp);
		if (cmp_start(cs, e) == 0) {
			int t = loop_timer(lp, GO_COUNTS_TIMEOUT_MS, go_counts_timeout, &timed_out);
			cmp_refresh(cs, true);
			if (!cmp_snapshot_complete(cs))
				loop_run(lp);
			loop_timer_cancel(lp, t);
			rc = timed_out ? pgc_fail(e, PGC_EXIT_TEMPFAIL, "exact counts took longer than %d s",
			                          GO_COUNTS_TIMEOUT_MS / 1000) : 0;
		}
		cmp_session_free(cs);
	}
	loop_free(lp);
	return rc;
}

int go_board_measure(go_board *b, const config *cfg, const runbook *rb, state *st, pgc_err *e)
{
	pgc_err ce = {0}, se = {0};
	int crc = go_take_counts(cfg, st, &ce);
	pgc_err le = {0};
	go_board_from_log(b, cfg, rb, st, pgc_now(), &le);
	if (crc < 0)
		go_set(b, GO_IN_COUNTS, GO_RED, 0, "not counted: %s", ce.msg);
	char **schemas = sch_schemas_of(cfg);
	bool have_source = cfg->source.kind == CFG_EP_POSTGRES;
	PGconn *src = have_source ? sch_connect(cfg, &cfg->source, "source", &se) : NULL;
	PGconn *dst = (!have_source || src) ? sch_connect(cfg, &cfg->target, "target", &se) : NULL;
	if (dst) {
		seq_report r;
		if (seq_check(src, dst, schemas, cfg->seq_offset, cfg->seq_headroom_floor, &r, &se) == 0)
			go_board_set_sequences(b, &r, pgc_now());
		else
			go_set(b, GO_IN_SEQUENCES, GO_RED, 0, "not checked: %s", se.msg);
		seq_report_free(&r);
		sch_snapshot ss = {0}, ds = {0};
		if (!have_source)
			go_board_set_schema(b, false, 0, pgc_now(), NULL);
		else if (sch_fetch(src, schemas, &ss, "source", &se) == 0 && sch_fetch(dst, schemas, &ds, "target", &se) == 0) {
			sch_diff *d = NULL;
			size_t nd = sch_compare(&ss, &ds, &d);
			go_board_set_schema(b, true, nd, pgc_now(), NULL);
			sch_diffs_free(d, nd);
		} else
			go_board_set_schema(b, true, 0, pgc_now(), se.msg);
		sch_snapshot_clear(&ss);
		sch_snapshot_clear(&ds);
	} else {
		go_set(b, GO_IN_SEQUENCES, GO_RED, 0, "not checked: %s", se.msg);
		go_set(b, GO_IN_SCHEMA, GO_RED, 0, "not checked: %s", se.msg);
	}
	if (src)
		PQfinish(src);
	if (dst)
		PQfinish(dst);
	sch_strv_free(schemas);
	go_sync_input_refresh(b);
	go_board_finish(b);
	if (crc < 0 || se.code) {
		*e = crc < 0 ? ce : se;
		return -1;
	}
	return 0;
}
