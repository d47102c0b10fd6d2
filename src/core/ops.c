/*
 * ops.c -- the operator's state-changing actions (ops.h), shared by the
 * console (src/ui) and the headless commands (src/cli), which only present
 * the outcome.  Every op follows one pattern: open the write transaction,
 * catch the ledger up (so "already done" is decided on what is in the file
 * now, not on what this process last read), decide, append its events,
 * commit, catch up again.  Decisions are made before anything is appended,
 * so a rolled-back transaction leaves the ledger as it was.  An op that
 * needs a reason it was not given (a phase completed out of order, a counts
 * gate not met) writes nothing and says what it needs.  Payloads are built
 * by the ops_payload_* writers only (evpay.c); the operator's words in them
 * are masked (a note may quote a secret) before they are recorded.
 */
#include "config.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/ops.h"
#include "pgcutover/goboard.h"
#include "pgcutover/action.h"
#include "pgcutover/compare.h"
#include "pgcutover/schedule.h"
#include "pgcutover/verify.h"

#define OPS_TIME_MAX 40
/* Characters of a sha256 shown in messages. */
#define OPS_SHORT_SHA 12

const char *ops_result_name(ops_result r)
{
	switch (r) {
	case OPS_DONE: return "done";
	case OPS_ALREADY_DONE: return "already_done";
	case OPS_NEEDS_ORDER_OVERRIDE: return "needs_order_override";
	case OPS_BLOCKED_BY_GATE: return "blocked_by_gate";
	case OPS_NEEDS_GO: return "needs_go";
	case OPS_OPEN_CHILDREN: return "open_children";
	case OPS_REFUSED: return "refused";
	case OPS_ERROR: return "error";
	}
	return "?";
}

/* ---- the transaction every op runs in ---- */

static void outcome_init(ops_outcome *out, size_t p)
{
	memset(out, 0, sizeof *out);
	out->phase_idx = p;
	out->open_phase_idx = SIZE_MAX;
}

static void say(ops_outcome *out, ops_result r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(ops_outcome *out, ops_result r, const char *fmt, ...)
{
	out->result = r;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof out->message, fmt, ap);
	va_end(ap);
}

static int fail(ops_outcome *out, const pgc_err *e)
{
	out->result = OPS_ERROR;
	out->err = *e;
	snprintf(out->message, sizeof out->message, "NOT recorded: %s", e->msg);
	out->event_id = 0;
	out->phase_completed = false;
	return -1;
}

/* Opens the write transaction with the ledger caught up to the file. */
static int begin(const ops_ctx *c, ops_outcome *out)
{
	pgc_err e = {0};
	if (state_begin(c->st, &e) < 0)
		return fail(out, &e);
	if (ledger_catch_up(c->lg, c->st, &e) < 0) {
		state_rollback(c->st);
		return fail(out, &e);
	}
	return 0;
}

/* Ends a transaction that decided to write nothing. */
static int nothing(const ops_ctx *c)
{
	state_rollback(c->st);
	return 0;
}

/* Appends one event inside the transaction, the payload masked. */
static int append(const ops_ctx *c, const char *kind, const char *phase, const char *item,
                  const char *payload, int64_t *id, pgc_err *e)
{
	char *masked = act_mask_payload(c->cfg, payload);
	int rc = state_append(c->st, kind, phase, item, masked, id, e);
	free(masked);
	return rc;
}

static int commit(const ops_ctx *c, ops_outcome *out)
{
	pgc_err e = {0};
	if (state_commit(c->st, &e) < 0) {
		state_rollback(c->st);
		return fail(out, &e);
	}
	if (ledger_catch_up(c->lg, c->st, &e) < 0)
		return fail(out, &e);
	return 0;
}

static int abort_with(const ops_ctx *c, ops_outcome *out, const pgc_err *e)
{
	state_rollback(c->st);
	return fail(out, e);
}

static bool given(const char *s)
{
	return s && *s;
}

/* ---- phase completion: the checks and the events ---- */

/* The first phase before p with items that is not done, or SIZE_MAX. */
static size_t open_before(const ledger *lg, size_t p)
{
	for (size_t q = 0; q < p; q++)
		if (lg->phases[q].total > 0 && lg->phases[q].status != LG_PHASE_DONE)
			return q;
	return SIZE_MAX;
}

/* ---- a phase's counts gate ---- */

static int gate_table_cmp(const void *a, const void *b)
{
	const ops_gate_table *x = a, *y = b;
	if (x->counted != y->counted)
		return x->counted ? -1 : 1;
	int64_t dx = x->diff < 0 ? -x->diff : x->diff, dy = y->diff < 0 ? -y->diff : y->diff;
	return dx > dy ? -1 : dx < dy ? 1 : 0;
}

/* Each table is put to the one reader of the counts payload
 * (cmp_payload_all_matched) on its own, through a copy of the config that
 * lists only that table, so the gate is decided exactly as cmp_gate_met()
 * decides it; the recorded figures give the difference. */
static void counts_gate_tables(const config *cfg, const ledger *lg, ops_gate *g);

/* The verify half of a gate: phase id listed in "verify": {"gates"} and
 * the last recorded verify run not all equal.  Adds the tables that are
 * not equal to g (why: "orders: verify mismatched") and says so in its
 * summary when the counts did not already shut it. */
static void verify_gate(const config *cfg, const ledger *lg, const char *id, ops_gate *g)
{
	bool gated = false;
	for (size_t k = 0; cfg && k < cfg->n_verify_gates; k++)
		gated |= strcmp(cfg->verify_gates[k], id) == 0;
	if (!gated)
		return;
	g->gated = true;
	char why[OPS_GATE_MAX - sizeof "verify: "];
	bool met = lg->last_verify && vfy_payload_all_equal(cfg, lg->last_verify, why, sizeof why);
	if (!lg->last_verify)
		snprintf(why, sizeof why, "no verify run recorded");
	if (met) {
		if (g->met && !g->summary[0])
			snprintf(g->summary, sizeof g->summary, "verify: %s", why);
		return;
	}
	if (g->met)
		snprintf(g->summary, sizeof g->summary, "verify: %s", why);
	g->met = false;
	g->by_verify = true;
	evr_verify r;
	evr_verify_read(lg->last_verify, &r);
	for (size_t t = 0; t < cfg->n_tables; t++) {
		const char *name = cfg->tables[t].name;
		const char *state = "not verified";
		bool equal = false;
		for (size_t k = 0; k < r.n_tables; k++)
			if (strcmp(r.tables[k].table, name) == 0) {
				equal = r.tables[k].equal && r.complete;
				state = r.tables[k].state ? r.tables[k].state : "differs";
			}
		bool listed = false;
		for (size_t k = 0; k < g->n_tables; k++)
			listed |= strcmp(g->tables[k].name, name) == 0;
		if (equal || listed)
			continue;
		g->tables = xrealloc(g->tables, (g->n_tables + 1) * sizeof *g->tables);
		ops_gate_table *gt = &g->tables[g->n_tables++];
		memset(gt, 0, sizeof *gt);
		gt->name = xstrdup(name);
		gt->why = xasprintf("%s: verify %s", name, state);
	}
	evr_verify_free(&r);
}

void ops_phase_gate(const config *cfg, const ledger *lg, size_t p, ops_gate *g)
{
	memset(g, 0, sizeof *g);
	const char *id = lg->rb->phases[p].id;
	g->met = cmp_gate_met(cfg, id, lg->last_counts, g->summary, sizeof g->summary);
	for (size_t k = 0; cfg && k < cfg->n_gates; k++)
		if (strcmp(cfg->gates[k], id) == 0)
			g->gated = true;
	if (!g->met && cfg)
		counts_gate_tables(cfg, lg, g);
	verify_gate(cfg, lg, id, g);
	if (g->met || !cfg)
		return;
	const lg_phase *lp = &lg->phases[p];
	g->blocked = lp->completed_at == 0 &&
	             (lp->status == LG_PHASE_IN_PROGRESS || lp->status == LG_PHASE_DONE);
}

/* The tables that keep the counts half of a gate shut. */
static void counts_gate_tables(const config *cfg, const ledger *lg, ops_gate *g)
{
	cmp_rec rec;
	if (cmp_rec_read(lg->last_counts, &rec) < 0 || !rec.has_tables) {
		cmp_rec_free(&rec);
		return;   /* no counts at all: the summary says so */
	}
	g->tables = xcalloc(cfg->n_tables ? cfg->n_tables : 1, sizeof *g->tables);
	for (size_t t = 0; t < cfg->n_tables; t++) {
		/* on the payload read once above, not parsed again per table
		 * (the rail asks this of every gated phase on every frame) */
		char w[OPS_GATE_MAX];
		if (cmp_rec_table_matched(&rec, cfg->tables[t].name, w, sizeof w))
			continue;
		ops_gate_table *gt = &g->tables[g->n_tables++];
		gt->name = xstrdup(cfg->tables[t].name);
		gt->why = xstrdup(w);
		const cmp_rec_table *rt = cmp_rec_find(&rec, cfg->tables[t].name);
		if (rt && rt->exact && rt->source >= 0 && rt->target >= 0) {
			gt->counted = true;
			gt->diff = rt->target - rt->source;
		} else if (rt && rt->source >= 0 && rt->target >= 0) {
			gt->estimated = true;
		}
	}
	cmp_rec_free(&rec);
	qsort(g->tables, g->n_tables, sizeof *g->tables, gate_table_cmp);
}

void ops_gate_free(ops_gate *g)
{
	for (size_t t = 0; t < g->n_tables; t++) {
		free(g->tables[t].name);
		free(g->tables[t].why);
	}
	free(g->tables);
	g->tables = NULL;
	g->n_tables = 0;
}

void ops_gate_words(const ops_gate *g, size_t width, char *buf, size_t n)
{
	buf[0] = '\0';
	if (g->met)
		return;
	if (g->n_tables == 0) {
		snprintf(buf, n, "%s", g->tables ? g->summary : "no exact counts recorded");
		return;
	}
	strbuf sb;
	sb_init(&sb);
	size_t k;
	for (k = 0; k < g->n_tables; k++) {
		const ops_gate_table *gt = &g->tables[k];
		char one[OPS_GATE_MAX], more[32] = "";
		if (gt->counted && gt->diff != 0)
			snprintf(one, sizeof one, "%s%s %+lld", k ? ", " : "", gt->name, (long long)gt->diff);
		else
			snprintf(one, sizeof one, "%s%s ?", k ? ", " : "", gt->name);
		if (k + 1 < g->n_tables)
			snprintf(more, sizeof more, " +%zu more", g->n_tables - k - 1);
		if (k > 0 && sb.len + strlen(one) + strlen(more) > width)
			break;
		sb_puts(&sb, one);
	}
	if (k < g->n_tables)
		sb_printf(&sb, " +%zu more", g->n_tables - k);
	snprintf(buf, n, "%s", sb.buf ? sb.buf : "");
	sb_free(&sb);
}

/* Whether phase p's counts gate is met, like cmp_gate_met(), but naming
 * every table that keeps it shut ("reminders: behind, bookings: behind"),
 * not just the first: the operator decides on the whole list. */
static bool gate_met(const ops_ctx *c, size_t p, char *why, size_t n, bool *by_verify)
{
	ops_gate g;
	ops_phase_gate(c->cfg, c->lg, p, &g);
	*by_verify = g.by_verify;
	strbuf all;
	sb_init(&all);
	for (size_t t = 0; t < g.n_tables; t++) {
		if (all.len)
			sb_puts(&all, ", ");
		sb_puts(&all, g.tables[t].why);
	}
	snprintf(why, n, "%s", all.len ? all.buf : g.summary);
	sb_free(&all);
	bool met = g.met;
	ops_gate_free(&g);
	return met;
}

/* Decides whether phase p may be completed with ov, and when it may,
 * appends its overrides (the tick's item names which tick it came with).
 * Returns 1 when the caller may go on to record phase_complete, 0 when
 * out says what is needed (nothing appended), -1 on error. */
static int phase_checks(const ops_ctx *c, size_t p, const char *item, const ops_override *ov,
                        const char *what, ops_outcome *out)
{
	const ledger *lg = c->lg;
	const rb_phase *ph = &lg->rb->phases[p];
	const char *order_reason = ov ? ov->order_reason : NULL, *gate_reason = ov ? ov->gate_reason : NULL;
	size_t q = open_before(lg, p);
	bool by_verify = false;
	out->gate_blocked = !gate_met(c, p, out->gate, sizeof out->gate, &by_verify);
	if (q != SIZE_MAX && !given(order_reason)) {
		out->open_phase_idx = q;
		say(out, OPS_NEEDS_ORDER_OVERRIDE, "%s phase %s, but phase %s is open (%d/%d)", what, ph->id,
		    lg->rb->phases[q].id, lg->phases[q].done, lg->phases[q].total);
		return 0;
	}
	if (out->gate_blocked && !given(gate_reason)) {
		say(out, OPS_BLOCKED_BY_GATE, "%s phase %s, which is gated on %s: %s", what, ph->id,
		    by_verify && !cmp_gate_met(c->cfg, ph->id, c->lg->last_counts, (char[OPS_GATE_MAX]){0}, OPS_GATE_MAX)
		    ? "row counts and verify" : by_verify ? "verify" : "row counts", out->gate);
		return 0;
	}
	pgc_err e = {0};
	if (q != SIZE_MAX) {
		out->open_phase_idx = q;
		char *pl = ops_payload_phase_override(order_reason, item, lg->rb->phases[q].id, NULL);
		int rc = append(c, EV_PHASE_OVERRIDE, ph->id, NULL, pl, NULL, &e);
		free(pl);
		if (rc < 0)
			return abort_with(c, out, &e);
	}
	if (out->gate_blocked) {
		char *pl = ops_payload_phase_override(gate_reason, item, NULL, out->gate);
		int rc = append(c, EV_PHASE_OVERRIDE, ph->id, NULL, pl, NULL, &e);
		free(pl);
		if (rc < 0)
			return abort_with(c, out, &e);
	}
	return 1;
}

static int append_complete(const ops_ctx *c, size_t p, int done, ops_outcome *out)
{
	const lg_phase *lp = &c->lg->phases[p];
	pgc_err e = {0};
	char *pl = ops_payload_phase_complete(done, lp->total, out->gate, out->gate_blocked);
	int rc = append(c, EV_PHASE_COMPLETE, c->lg->rb->phases[p].id, NULL, pl, NULL, &e);
	free(pl);
	if (rc < 0)
		return abort_with(c, out, &e);
	out->phase_completed = true;
	return 0;
}

/* ---- the ops ---- */

static void already_ticked(const ops_ctx *c, const rb_item *it, const lg_item *li, ops_outcome *out)
{
	(void)c;
	if (li->done_by) {
		char when[OPS_TIME_MAX];
		pgc_iso8601(li->done_at, when, sizeof when);
		say(out, OPS_ALREADY_DONE, "%s is already done (ticked by %s at %s); nothing changed", it->id,
		    li->done_by, when);
	} else {
		say(out, OPS_ALREADY_DONE, "%s is already done (marked [x] in the runbook); nothing changed", it->id);
	}
}

/* How many of item i's sub-items (the items nested under it, at any depth)
 * are open; their ids, up to OPS_CHILD_IDS_SHOWN then "+N more", into ids. */
#define OPS_CHILD_IDS_SHOWN 6
static int open_children(ledger *lg, size_t p, size_t i, strbuf *ids)
{
	const rb_phase *ph = &lg->rb->phases[p];
	int n = 0;
	for (size_t j = i + 1; j < ph->n_items; j++) {
		int k = ph->items[j].parent;
		while (k > (int)i)
			k = ph->items[k].parent;
		if (k != (int)i)
			break;   /* sub-items follow their parent: the first other ends them */
		if (ledger_item(lg, p, j)->done)
			continue;
		if (n < OPS_CHILD_IDS_SHOWN)
			sb_printf(ids, "%s%s", n ? ", " : "", ph->items[j].id);
		n++;
	}
	if (n > OPS_CHILD_IDS_SHOWN)
		sb_printf(ids, " +%d more", n - OPS_CHILD_IDS_SHOWN);
	return n;
}

int ops_tick(const ops_ctx *c, size_t p, size_t i, const char *note, const ops_override *ov,
             ops_outcome *out)
{
	outcome_init(out, p);
	if (begin(c, out) < 0)
		return -1;
	const rb_phase *ph = &c->lg->rb->phases[p];
	const rb_item *it = &ph->items[i];
	const lg_item *li = ledger_item(c->lg, p, i);
	pgc_err e = {0};
	if (li->done) {
		already_ticked(c, it, li, out);
		if (!given(note))
			return nothing(c);
		/* the operator's words are not thrown away */
		char *pl = ops_payload_note(note, it->hash);
		int rc = append(c, EV_NOTE, ph->id, it->id, pl, &out->event_id, &e);
		free(pl);
		if (rc < 0)
			return abort_with(c, out, &e);
		size_t n = strlen(out->message);
		snprintf(out->message + n, sizeof out->message - n, "; the note was recorded");
		return commit(c, out);
	}
	strbuf kids, why;
	sb_init(&kids);
	sb_init(&why);
	int nk = open_children(c->lg, p, i, &kids);
	if (nk > 0) {
		out->open_children = nk;
		if (!given(ov ? ov->children_reason : NULL)) {
			say(out, OPS_OPEN_CHILDREN, "%s has %d open sub-item%s: %s", it->id, nk, nk == 1 ? "" : "s", kids.buf);
			sb_free(&kids);
			return nothing(c);
		}
		/* the reason is recorded with the tick, naming what was open */
		sb_printf(&why, "ticked with %d open sub-item%s (%s): %s", nk, nk == 1 ? "" : "s", kids.buf,
		          ov->children_reason);
		if (given(note))
			sb_printf(&why, "; %s", note);
		note = why.buf;
	}
	sb_free(&kids);
	/* The switch: the go/no-go board decides, or the operator's reason. */
	int64_t board_ev = 0;
	char *board_pl = NULL, go_why[OPS_GATE_MAX];
	int go = go_gate(c->cfg, c->lg->rb, c->st, it->id, pgc_now(), &board_ev, &board_pl, go_why, sizeof go_why);
	if (go == 1 && !given(ov ? ov->gate_reason : NULL)) {
		snprintf(out->gate, sizeof out->gate, "%s", go_why);
		say(out, OPS_NEEDS_GO, "%s is the switch, gated on the go/no-go board: %s", it->id, go_why);
		free(board_pl);
		sb_free(&why);
		return nothing(c);
	}
	if (go >= 0) {
		char *pl = evp_go_decision_write(go == 1 ? ov->gate_reason : NULL, go == 1 ? go_why : NULL, board_ev,
		                                 board_pl);
		free(board_pl);
		int rc = append(c, EV_GO_DECISION, ph->id, it->id, pl, NULL, &e);
		free(pl);
		if (rc < 0) {
			sb_free(&why);
			return abort_with(c, out, &e);
		}
	}
	const lg_phase *lp = &c->lg->phases[p];
	int done_after = lp->done + (ledger_item_counts(it) ? 1 : 0);
	bool last = lp->total > 0 && done_after == lp->total && lp->completed_at == 0;
	if (last) {
		char what[RB_ID_MAX + 32];
		snprintf(what, sizeof what, "%s completes", it->id);
		int ok = phase_checks(c, p, it->id, ov, what, out);
		if (ok <= 0) {
			sb_free(&why);
			return ok < 0 ? -1 : nothing(c);
		}
	}
	char *pl = ops_payload_tick(it->hash, note);
	sb_free(&why);
	int rc = append(c, EV_TICK, ph->id, it->id, pl, &out->event_id, &e);
	free(pl);
	if (rc < 0)
		return abort_with(c, out, &e);
	if (last && append_complete(c, p, done_after, out) < 0)
		return -1;
	say(out, OPS_DONE, "ticked %s %s%s", it->id, it->text ? it->text : "",
	    out->open_children ? " (with open sub-items; the reason is recorded)" : "");
	return commit(c, out);
}

int ops_complete_phase(const ops_ctx *c, size_t p, const ops_override *ov, ops_outcome *out)
{
	outcome_init(out, p);
	if (begin(c, out) < 0)
		return -1;
	const rb_phase *ph = &c->lg->rb->phases[p];
	const lg_phase *lp = &c->lg->phases[p];
	if (lp->completed_at > 0) {
		say(out, OPS_ALREADY_DONE, "phase %s is already complete", ph->id);
		return nothing(c);
	}
	if (lp->total == 0 || lp->done < lp->total) {
		say(out, OPS_REFUSED, "phase %s has %d open items (%d/%d done)", ph->id, lp->total - lp->done,
		    lp->done, lp->total);
		return nothing(c);
	}
	char what[RB_ID_MAX + 32];
	snprintf(what, sizeof what, "completing");
	int ok = phase_checks(c, p, NULL, ov, what, out);
	if (ok <= 0)
		return ok < 0 ? -1 : nothing(c);
	if (append_complete(c, p, lp->done, out) < 0)
		return -1;
	say(out, OPS_DONE, "phase %s complete (%d/%d)%s", ph->id, lp->done, lp->total,
	    out->gate_blocked ? " (gate override recorded)" : out->open_phase_idx != SIZE_MAX ? " (override recorded)" : "");
	return commit(c, out);
}

int ops_untick(const ops_ctx *c, size_t p, size_t i, const char *reason, ops_outcome *out)
{
	outcome_init(out, p);
	const rb_item *it = &c->lg->rb->phases[p].items[i];
	if (!given(reason)) {
		say(out, OPS_REFUSED, "untick %s needs a reason: the log says why a step was undone", it->id);
		return 0;
	}
	if (begin(c, out) < 0)
		return -1;
	if (!ledger_item(c->lg, p, i)->done) {
		say(out, OPS_ALREADY_DONE, "%s is not done; nothing changed", it->id);
		return nothing(c);
	}
	pgc_err e = {0};
	char *pl = ops_payload_untick(it->hash, reason);
	int rc = append(c, EV_UNTICK, c->lg->rb->phases[p].id, it->id, pl, &out->event_id, &e);
	free(pl);
	if (rc < 0)
		return abort_with(c, out, &e);
	say(out, OPS_DONE, "unticked %s %s", it->id, it->text ? it->text : "");
	return commit(c, out);
}

int ops_note(const ops_ctx *c, size_t p, size_t i, const char *text, ops_outcome *out)
{
	outcome_init(out, p);
	if (!given(text)) {
		say(out, OPS_REFUSED, "the note is empty");
		return 0;
	}
	const rb_phase *ph = p != SIZE_MAX ? &c->lg->rb->phases[p] : NULL;
	const rb_item *it = ph && i != SIZE_MAX ? &ph->items[i] : NULL;
	if (begin(c, out) < 0)
		return -1;
	pgc_err e = {0};
	char *pl = ops_payload_note(text, it ? it->hash : NULL);
	int rc = append(c, EV_NOTE, ph ? ph->id : NULL, it ? it->id : NULL, pl, &out->event_id, &e);
	free(pl);
	if (rc < 0)
		return abort_with(c, out, &e);
	if (it)
		say(out, OPS_DONE, "noted on %s", it->id);
	else if (ph)
		say(out, OPS_DONE, "noted on phase %s", ph->id);
	else
		say(out, OPS_DONE, "noted");
	return commit(c, out);
}

int ops_downtime(const ops_ctx *c, bool start, double now, ops_outcome *out)
{
	outcome_init(out, SIZE_MAX);
	if (begin(c, out) < 0)
		return -1;
	sched_downtime d;
	sched_downtime_get(c->lg->rb, c->lg, now, &d);
	if (start && d.running) {
		say(out, OPS_ALREADY_DONE, "downtime already running since %.0f s ago; nothing recorded", d.elapsed_s);
		return nothing(c);
	}
	if (!start && !d.running) {
		say(out, OPS_ALREADY_DONE, "downtime not running; nothing recorded");
		return nothing(c);
	}
	if (d.has_window)
		out->phase_idx = d.phase;
	char *pl = start ? ops_payload_downtime_start("explicit", d.plan_min)
	                 : ops_payload_downtime_end(d.elapsed_s, d.plan_min, d.over);
	pgc_err e = {0};
	int rc = append(c, start ? EV_DOWNTIME_START : EV_DOWNTIME_END,
	                d.has_window ? c->lg->rb->phases[d.phase].id : NULL, NULL, pl, &out->event_id, &e);
	free(pl);
	if (rc < 0)
		return abort_with(c, out, &e);
	if (start) {
		say(out, OPS_DONE, "downtime started");
	} else {
		long v = (long)d.elapsed_s;
		say(out, OPS_DONE, "downtime ended after %ldh%02ldm%02lds (planned %d min)%s", v / 3600, (v / 60) % 60,
		    v % 60, d.plan_min, d.over ? " OVER PLAN" : "");
	}
	return commit(c, out);
}

int ops_duty_done(const ops_ctx *c, size_t p, size_t i, const char *note, ops_outcome *out)
{
	outcome_init(out, p);
	const rb_phase *ph = &c->lg->rb->phases[p];
	const rb_item *it = &ph->items[i];
	if (!it->recurring) {
		say(out, OPS_REFUSED, "%s is not a recurring duty (\"Every N hours: ...\"); tick it instead", it->id);
		return 0;
	}
	if (begin(c, out) < 0)
		return -1;
	pgc_err e = {0};
	char *pl = ops_payload_duty_done(it->hash, note);
	int rc = append(c, EV_DUTY_DONE, ph->id, it->id, pl, &out->event_id, &e);
	free(pl);
	if (rc < 0)
		return abort_with(c, out, &e);
	say(out, OPS_DONE, "duty %s done", it->id);
	return commit(c, out);
}

int ops_session(const ops_ctx *c, bool start, const char *what, ops_outcome *out)
{
	outcome_init(out, SIZE_MAX);
	if (begin(c, out) < 0)
		return -1;
	pgc_err e = {0};
	char *pl = start ? ops_payload_session_start(what) : ops_payload_session_end(what);
	int rc = append(c, start ? EV_SESSION_START : EV_SESSION_END, NULL, NULL, pl, &out->event_id, &e);
	free(pl);
	if (rc < 0)
		return abort_with(c, out, &e);
	say(out, OPS_DONE, "session %s", start ? "started" : "ended");
	return commit(c, out);
}

/* ---- the runbook ---- */

/* Records the runbook when it differs from the last one loaded into this
 * state: runbook_loaded always, runbook_changed with the diff when there
 * was an earlier one and items differ.  One transaction for both.  Without
 * `record` (read-only) only the report for the operator is made.  Not an
 * operator's op but the same kind of writer, so its payloads live here. */
int ops_runbook_sync(state *st, const runbook *rb, bool record, char **report, pgc_err *e)
{
	*report = NULL;
	st_event *last = NULL;
	if (state_last_of_kind(st, EV_RUNBOOK_LOADED, &last, e) < 0)
		return -1;
	char *old_sha = NULL;
	if (last) {
		char sha[65];
		ops_read_runbook_sha256(last->payload, sha);
		old_sha = xstrdup(sha);
		if (strcmp(old_sha, rb->sha256) == 0) {
			free(old_sha);
			st_event_free(last);
			return 0;
		}
	}
	size_t n_new = 0, n_old = 0;
	lg_item_ref *new_refs = ledger_runbook_refs(rb, &n_new), *old_refs = NULL;
	char *loaded = ops_payload_runbook_loaded(rb, new_refs, n_new);
	char *changed = NULL;
	lg_runbook_diff d = {0};
	if (last && ops_read_runbook_items(last->payload, &old_refs, &n_old, NULL) == 0) {
		ledger_runbook_diff(old_refs, n_old, new_refs, n_new, &d);
		if (!ledger_diff_empty(&d)) {
			changed = ops_payload_runbook_changed(&d, old_sha, rb->sha256);
			char *summary = ledger_diff_summary(&d);
			*report = xasprintf(
				"runbook %s changed since it was last loaded into %s "
				"(sha256 %.*s -> %.*s):\n%s", rb->path, state_path(st),
				OPS_SHORT_SHA, old_sha, OPS_SHORT_SHA, rb->sha256, summary);
			free(summary);
		}
	}
	int rc = record ? state_begin(st, e) : 0;
	if (!record)
		goto done;
	if (rc == 0 && changed)
		rc = state_append(st, EV_RUNBOOK_CHANGED, NULL, NULL, changed, NULL, e);
	if (rc == 0)
		rc = state_append(st, EV_RUNBOOK_LOADED, NULL, NULL, loaded, NULL, e);
	if (rc == 0)
		rc = state_commit(st, e);
	else
		state_rollback(st);
done:
	ledger_diff_free(&d);
	free(changed);
	free(loaded);
	free(new_refs);
	free(old_refs);
	free(old_sha);
	st_event_free(last);
	return rc;
}
