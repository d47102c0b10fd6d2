/*
 * compare.c -- the comparison model behind the counts pane and `pgcutover
 * counts`: per table, each side's latest figure, its history, the derived
 * validation state, rows/s and ETA, the summary line, and the snapshot that
 * is recorded as one EV_COUNTS event per completed refresh.
 *
 * The model does no I/O of its own: each side is a driver (cmp_side_ops) --
 * PostgreSQL in compare_pg.c, PostgREST in rest.c -- that answers requests
 * through cmp_side_report() from the poll() loop.  A refresh asks every
 * table for an estimate, then for an exact count where the mode or the
 * estimate calls for one; it is complete when both sides have a final
 * answer (figure or error) for every table.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/compare.h"
#include "pgcutover/evpay.h"

struct cmp_session {
	const config *cfg;
	loop *lp;
	state *st;
	cmp_listener_fn listener;
	void *listener_ud;
	cmp_table *tables;
	size_t n_tables;
	cmp_side sides[CMP_N_SIDES];
	unsigned gen;          /* refresh generation; 0 = never refreshed */
	bool exact;            /* current refresh wants exact counts */
	bool *exact_some;      /* cmp_refresh_some: the tables it counts exactly, else NULL */
	bool budgeted;         /* the current refresh is cmp_refresh_some's */
	bool refreshing;       /* requests of the current refresh outstanding */
	bool complete;         /* current refresh complete */
	double snapshot_at;    /* unix s of the last complete snapshot */
	bool started;
	char *record_error;    /* last failed EV_COUNTS append, or NULL */
};

static const char *const cmp_side_label[CMP_N_SIDES] = {"source", "target"};

static void cmp_figure_reset(cmp_figure *f)
{
	memset(f, 0, sizeof *f);
	f->rows = -1;
	f->has_pk = -1;
	f->writes = -1;
	f->exact_rows = -1;
	f->exact_writes = -1;
}

/* The stats delay: config's stats_delay_s (a config of 0 given by a test
 * setup is taken as is). */
static double cmp_stats_delay_s(const cmp_session *cs)
{
	return cs->cfg->stats_delay_s;
}

cmp_session *cmp_session_new(const config *cfg, loop *lp, pgc_err *e)
{
	return cmp_session_new_with(cfg, lp, NULL, e);
}

cmp_session *cmp_session_new_with(const config *cfg, loop *lp,
                                  const cmp_side_init_fn init[CMP_N_SIDES], pgc_err *e)
{
	if (cfg->n_tables == 0) {
		pgc_fail(e, PGC_EXIT_CONFIG, "%s: no tables to compare (\"tables\" is empty)",
		         cfg->path ? cfg->path : "config");
		return NULL;
	}
	cmp_session *cs = xcalloc(1, sizeof *cs);
	cs->cfg = cfg;
	cs->lp = lp;
	cs->n_tables = cfg->n_tables;
	cs->tables = xcalloc(cs->n_tables, sizeof *cs->tables);
	for (size_t i = 0; i < cs->n_tables; i++) {
		cmp_table *t = &cs->tables[i];
		t->name = xstrdup(cfg->tables[i].name);
		t->pk = cfg->tables[i].pk ? xstrdup(cfg->tables[i].pk) : NULL;
		for (int w = 0; w < CMP_N_SIDES; w++)
			cmp_figure_reset(&t->side[w]);
		t->eta_s = -1;
	}
	const cfg_endpoint *eps[CMP_N_SIDES] = {&cfg->source, &cfg->target};
	for (int w = 0; w < CMP_N_SIDES; w++) {
		cmp_side *sd = &cs->sides[w];
		sd->cs = cs;
		sd->which = (cmp_which)w;
		sd->lp = lp;
		sd->ep = eps[w];
		sd->cfg = cfg;
		sd->label = xstrdup(cmp_side_label[w]);
		int rc;
		if (init && init[w])
			rc = init[w](sd, e);
		else if (eps[w]->kind == CFG_EP_POSTGRES)
			rc = cmp_pg_side_init(sd, e);
		else if (eps[w]->kind == CFG_EP_SUPABASE)
			rc = cmp_rest_side_init(sd, e);
		else
			rc = pgc_fail(e, PGC_EXIT_CONFIG, "%s: no %s configured (\"%s\" needs a conninfo or a url)",
			              cfg->path ? cfg->path : "config", cmp_side_label[w], cmp_side_label[w]);
		if (rc != 0) {
			cmp_session_free(cs);
			return NULL;
		}
		if (!sd->server)
			sd->server = xstrdup(cmp_side_label[w]);
	}
	return cs;
}

void cmp_session_free(cmp_session *cs)
{
	if (!cs)
		return;
	for (int w = 0; w < CMP_N_SIDES; w++) {
		cmp_side *sd = &cs->sides[w];
		if (sd->ops && sd->ops->free)
			sd->ops->free(sd);
		free(sd->label);
		free(sd->server);
		free(sd->error);
	}
	for (size_t i = 0; i < cs->n_tables; i++) {
		free(cs->tables[i].name);
		free(cs->tables[i].pk);
		for (int w = 0; w < CMP_N_SIDES; w++)
			free(cs->tables[i].side[w].error);
	}
	free(cs->tables);
	free(cs->exact_some);
	free(cs->record_error);
	free(cs);
}

void cmp_session_set_state(cmp_session *cs, state *st)
{
	cs->st = st;
	free(cs->record_error);   /* it was about the state set before */
	cs->record_error = NULL;
}

const char *cmp_record_error(const cmp_session *cs) { return cs->record_error; }

void cmp_session_set_listener(cmp_session *cs, cmp_listener_fn fn, void *ud)
{
	cs->listener = fn;
	cs->listener_ud = ud;
}

int cmp_start(cmp_session *cs, pgc_err *e)
{
	if (cs->started)
		return 0;
	for (int w = 0; w < CMP_N_SIDES; w++) {
		cmp_side *sd = &cs->sides[w];
		sd->ever_tried = true;
		sd->started_ms = loop_now_ms();
		if (sd->ops->start && sd->ops->start(sd, e) != 0)
			return -1;
	}
	cs->started = true;
	return 0;
}

/* ---- history, rate, state ---- */

static void cmp_hist_push(cmp_figure *f, double ts, int64_t rows, bool exact)
{
	size_t pos = (f->hist_start + f->hist_len) % CMP_HISTORY;
	f->hist[pos] = (cmp_point){ts, rows, exact};
	if (f->hist_len < CMP_HISTORY)
		f->hist_len++;
	else
		f->hist_start = (f->hist_start + 1) % CMP_HISTORY;
}

size_t cmp_table_history(const cmp_table *t, cmp_which which, cmp_point *out, size_t max)
{
	const cmp_figure *f = &t->side[which];
	size_t n = f->hist_len < max ? f->hist_len : max;
	size_t skip = f->hist_len - n;   /* keep the newest */
	for (size_t i = 0; i < n; i++)
		out[i] = f->hist[(f->hist_start + skip + i) % CMP_HISTORY];
	return n;
}

cmp_rank cmp_order_rank(const cmp_order_key *k)
{
	if (k->failed || k->source < 0 || k->target < 0)
		return CMP_RANK_UNKNOWN;
	return k->source == k->target ? CMP_RANK_EQUAL : CMP_RANK_DIFFER;
}

typedef struct cmp_order_ent {
	cmp_rank rank;
	uint64_t gap;   /* |target - source| of a differing table */
	size_t idx;
} cmp_order_ent;

static int cmp_order_ent_cmp(const void *a, const void *b)
{
	const cmp_order_ent *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->gap != y->gap)
		return x->gap > y->gap ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void cmp_order(const cmp_order_key *keys, size_t n, size_t *order)
{
	if (!n)
		return;
	cmp_order_ent *ent = xcalloc(n, sizeof *ent);
	for (size_t i = 0; i < n; i++) {
		ent[i].rank = cmp_order_rank(&keys[i]);
		ent[i].idx = i;
		if (ent[i].rank == CMP_RANK_DIFFER)
			ent[i].gap = keys[i].target > keys[i].source
			           ? (uint64_t)(keys[i].target - keys[i].source)
			           : (uint64_t)(keys[i].source - keys[i].target);
	}
	qsort(ent, n, sizeof *ent, cmp_order_ent_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = ent[i].idx;
	free(ent);
}

void cmp_order_tally(const cmp_order_key *keys, size_t n, size_t tally[CMP_N_RANKS])
{
	for (int r = 0; r < CMP_N_RANKS; r++)
		tally[r] = 0;
	for (size_t i = 0; i < n; i++)
		tally[cmp_order_rank(&keys[i])]++;
}

const char *cmp_tally_words(const size_t tally[CMP_N_RANKS], const char *sep, char *buf, size_t sz)
{
	static const char *const words[CMP_N_RANKS] = {"differ", "unknown", "equal"};
	/* the order of the words: what needs the operator first, then the rest */
	static const cmp_rank shown[CMP_N_RANKS] = {CMP_RANK_DIFFER, CMP_RANK_EQUAL, CMP_RANK_UNKNOWN};
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < CMP_N_RANKS; i++) {
		cmp_rank r = shown[i];
		if (!tally[r])
			continue;
		int k = snprintf(buf + len, sz - len, "%s%zu %s", len ? sep : "", tally[r], words[r]);
		if (k < 0 || (size_t)k >= sz - len)
			break;
		len += (size_t)k;
	}
	if (!len)
		snprintf(buf, sz, "no tables");
	return buf;
}

cmp_order_key *cmp_session_order_keys(const cmp_session *cs)
{
	size_t n = cmp_n_tables(cs);
	cmp_order_key *keys = xcalloc(n ? n : 1, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		const cmp_table *t = cmp_table_at(cs, i);
		keys[i].source = t->side[CMP_SOURCE].rows;
		keys[i].target = t->side[CMP_TARGET].rows;
		keys[i].failed = t->state == CMP_ERROR;
	}
	return keys;
}

/* Minimum span of history for a rate: shorter spans are mostly noise. */
#define CMP_RATE_MIN_SPAN_S 1.0

static void cmp_update_rate(cmp_table *t)
{
	const cmp_figure *tf = &t->side[CMP_TARGET];
	const cmp_figure *sf = &t->side[CMP_SOURCE];
	t->rate = 0;
	t->eta_s = -1;
	if (tf->hist_len >= 2) {
		/* The newest run of growing figures of one kind within the window:
		 * estimates and counts disagree, so figures of the other kind (the
		 * estimates every refresh starts with) are stepped over; a drop
		 * (a reload) starts again. */
		const cmp_point *last = &tf->hist[(tf->hist_start + tf->hist_len - 1) % CMP_HISTORY];
		const cmp_point *first = last;
		for (size_t i = tf->hist_len - 1; i-- > 0;) {
			const cmp_point *p = &tf->hist[(tf->hist_start + i) % CMP_HISTORY];
			if (last->ts - p->ts > CMP_RATE_WINDOW_S)
				break;
			if (p->exact != last->exact)
				continue;
			if (p->rows > first->rows)
				break;
			first = p;
		}
		double span = last->ts - first->ts;
		if (span >= CMP_RATE_MIN_SPAN_S && last->rows > first->rows)
			t->rate = (double)(last->rows - first->rows) / span;
	}
	if (sf->rows >= 0 && tf->rows >= 0) {
		if (tf->rows >= sf->rows)
			t->eta_s = 0;
		else if (t->rate > 0)
			t->eta_s = (double)(sf->rows - tf->rows) / t->rate;
	}
}

static void cmp_update_state(cmp_session *cs, cmp_table *t)
{
	const cmp_figure *s = &t->side[CMP_SOURCE], *g = &t->side[CMP_TARGET];
	bool pending = s->pending || g->pending;
	if (s->error || g->error)
		t->state = CMP_ERROR;
	else if (s->rows < 0 || g->rows < 0)
		t->state = pending ? CMP_COUNTING : CMP_NOT_CHECKED;
	else if (cs->refreshing && (s->gen != cs->gen || g->gen != cs->gen))
		t->state = CMP_COUNTING;   /* figures of the previous refresh */
	else if (!s->exact || !g->exact)
		t->state = CMP_ESTIMATED;
	else if (s->rows != g->rows)
		t->state = CMP_MISMATCHED;
	else if ((s->has_pk == 0 || g->has_pk == 0) && !t->pk)
		t->state = CMP_NO_PK;   /* a "pk" in the config counts as a key */
	else
		t->state = CMP_MATCHED;
	cmp_update_rate(t);
}

bool cmp_table_match(const cmp_table *t)
{
	const cmp_figure *s = &t->side[CMP_SOURCE], *g = &t->side[CMP_TARGET];
	return !s->error && !g->error && s->rows >= 0 && g->rows >= 0 && s->rows == g->rows;
}

/* ---- snapshot recording ---- */

static void cmp_notify(cmp_session *cs, bool done)
{
	if (cs->listener)
		cs->listener(cs, done, cs->listener_ud);
}

static void cmp_record(cmp_session *cs)
{
	if (!cs->st)
		return;
	char *payload = cmp_snapshot_json(cs, false);
	pgc_err e = {0};
	/* A failed append leaves the figures on screen; the caller can say
	 * so (cmp_record_error) and the next snapshot tries again. */
	free(cs->record_error);
	cs->record_error = NULL;
	if (state_append(cs->st, EV_COUNTS, NULL, NULL, payload, NULL, &e) != 0)
		cs->record_error = xstrdup(e.msg);
	free(payload);
}

static void cmp_check_complete(cmp_session *cs)
{
	if (!cs->refreshing)
		return;
	for (size_t i = 0; i < cs->n_tables; i++)
		for (int w = 0; w < CMP_N_SIDES; w++)
			if (!cs->tables[i].side[w].done)
				return;
	cs->refreshing = false;
	cs->complete = true;
	cs->snapshot_at = pgc_now();
	for (size_t i = 0; i < cs->n_tables; i++)
		cmp_update_state(cs, &cs->tables[i]);
	cmp_record(cs);
	cmp_notify(cs, true);
}

/* ---- driver -> session ---- */

static void side_report(cmp_session *cs, cmp_which which, size_t table_idx,
                        int64_t rows, bool exact, cmp_fail kind, const char *err);

void cmp_side_report(cmp_session *cs, cmp_which which, size_t table_idx,
                     int64_t rows, bool exact, const char *err)
{
	if (err)
		cmp_side_report_fail(cs, which, table_idx, CMP_FAIL_SERVER, err);
	else
		side_report(cs, which, table_idx, rows, exact, CMP_FAIL_NONE, NULL);
}

void cmp_side_report_fail(cmp_session *cs, cmp_which which, size_t table_idx,
                          cmp_fail kind, const char *err)
{
	side_report(cs, which, table_idx, -1, false, kind, err);
}

/* In an estimates refresh, small tables are counted exactly anyway --
 * unless a side's estimates are what its config asked for (a REST side
 * with count planned or estimated: one request per table), when both
 * sides stay estimates, compared like with like. */
static bool cmp_cheap_exact(const cmp_session *cs, int64_t rows)
{
	return rows < CMP_CHEAP_EXACT_ROWS && !cs->budgeted && !cs->sides[CMP_SOURCE].estimates_final &&
	       !cs->sides[CMP_TARGET].estimates_final;
}

/* The other side's figure of this refresh is exact: an estimate here
 * would be compared with it as if both were exact. */
static bool cmp_exact_this_refresh(const cmp_session *cs, const cmp_figure *other)
{
	return other->exact && other->rows >= 0 && !other->error && other->gen == cs->gen;
}

static void side_report(cmp_session *cs, cmp_which which, size_t table_idx,
                        int64_t rows, bool exact, cmp_fail kind, const char *err)
{
	if (table_idx >= cs->n_tables || which >= CMP_N_SIDES)
		return;
	cmp_table *t = &cs->tables[table_idx];
	cmp_figure *f = &t->side[which];
	double now = pgc_now();
	bool ask_exact = false;
	if (err) {
		free(f->error);
		f->error = pgc_sanitize(err);
		f->fail = kind;
		f->error_at = now;
		f->pending = false;
		f->done = true;
	} else {
		free(f->error);
		f->error = NULL;
		f->fail = CMP_FAIL_NONE;
		cmp_side *sd = &cs->sides[which];
		sd->last_figure_ms = loop_now_ms();
		if (sd->first_figure_ms == 0)
			sd->first_figure_ms = sd->last_figure_ms;
		if (exact) {
			f->exact_rows = rows;
			f->exact_at = now;
			f->exact_writes = f->writes;   /* read before this count */
			f->unchanged_since = 0;
		} else if (f->exact_at > 0 && f->exact_writes >= 0 && f->writes == f->exact_writes &&
		           now >= f->exact_at + cmp_stats_delay_s(cs)) {
			/* No write since the count, long enough ago for the
			 * counters to show one: the count still holds. */
			rows = f->exact_rows;
			f->unchanged_since = f->exact_at;
		} else {
			f->unchanged_since = 0;
		}
		f->rows = rows;
		f->exact = exact;
		f->measured_at = now;
		f->gen = cs->gen;
		cmp_hist_push(f, now, rows, exact);
		if (exact || !cs->refreshing) {
			f->pending = false;
			f->done = true;
		} else if (cs->exact || cmp_cheap_exact(cs, rows) || cmp_exact_this_refresh(cs, &t->side[!which]) ||
		           (cs->exact_some && cs->exact_some[table_idx])) {
			ask_exact = true;   /* pending stays set */
		} else {
			f->pending = false;
			f->done = true;
		}
	}
	/* Like with like: an exact figure (a REST side with count=exact
	 * answers so at once) is compared with an exact one, never with an
	 * estimate as if both were exact. */
	cmp_figure *o = &t->side[!which];
	bool ask_other = !err && exact && cs->refreshing && o->done && !o->error &&
	                 o->rows >= 0 && !o->exact && o->gen == cs->gen &&
	                 !cs->sides[!which].estimates_final;
	if (ask_other) {
		o->pending = true;
		o->done = false;
	}
	cmp_update_state(cs, t);
	if (ask_exact) {
		cmp_side *sd = &cs->sides[which];
		sd->ops->request_count(sd, table_idx, true);
	}
	if (ask_other) {
		cmp_side *sd = &cs->sides[!which];
		sd->ops->request_count(sd, table_idx, true);
	}
	cmp_notify(cs, false);
	cmp_check_complete(cs);
}

void cmp_side_report_writes(cmp_session *cs, cmp_which which, size_t table_idx, int64_t writes)
{
	if (table_idx >= cs->n_tables || which >= CMP_N_SIDES || writes < 0)
		return;
	cmp_figure *f = &cs->tables[table_idx].side[which];
	if (f->writes >= 0 && writes != f->writes)
		f->writes_moved_at = pgc_now();
	if (f->exact_writes >= 0 && writes != f->exact_writes) {
		f->exact_at = 0;   /* written since its last exact count */
		f->exact_writes = -1;
	}
	f->writes = writes;
}

void cmp_side_report_pk(cmp_session *cs, cmp_which which, size_t table_idx, bool has_pk)
{
	if (table_idx < cs->n_tables && which < CMP_N_SIDES)
		cs->tables[table_idx].side[which].has_pk = has_pk ? 1 : 0;
}

void cmp_side_report_status(cmp_session *cs, cmp_which which, bool up, const char *err)
{
	if (which >= CMP_N_SIDES)
		return;
	cmp_side *sd = &cs->sides[which];
	bool was_up = sd->up;
	sd->up = up;
	free(sd->error);
	sd->error = NULL;
	if (up) {
		sd->down_since = 0;
		if (sd->connected_ms == 0)
			sd->connected_ms = loop_now_ms();
	} else {
		sd->error = pgc_sanitize(err ? err : "connection lost");
		if (was_up || sd->down_since == 0)
			sd->down_since = pgc_now();
	}
	cmp_notify(cs, false);
}

/* ---- refresh ---- */

void cmp_cancel(cmp_session *cs)
{
	for (int w = 0; w < CMP_N_SIDES; w++) {
		cmp_side *sd = &cs->sides[w];
		if (sd->ops && sd->ops->cancel)
			sd->ops->cancel(sd);
	}
	for (size_t i = 0; i < cs->n_tables; i++) {
		for (int w = 0; w < CMP_N_SIDES; w++)
			cs->tables[i].side[w].pending = false;
	}
	cs->refreshing = false;
	for (size_t i = 0; i < cs->n_tables; i++)
		cmp_update_state(cs, &cs->tables[i]);
}

static void cmp_refresh_start(cmp_session *cs, bool exact, const bool *exact_tables);

void cmp_refresh(cmp_session *cs, bool exact)
{
	cmp_refresh_start(cs, exact, NULL);
}

void cmp_refresh_some(cmp_session *cs, const bool *exact_tables)
{
	cmp_refresh_start(cs, false, exact_tables);
}

static void cmp_refresh_start(cmp_session *cs, bool exact, const bool *exact_tables)
{
	if (cs->refreshing)
		cmp_cancel(cs);
	cs->gen++;
	cs->exact = exact;
	cs->budgeted = exact_tables != NULL;
	free(cs->exact_some);
	cs->exact_some = NULL;
	if (exact_tables) {
		cs->exact_some = xcalloc(cs->n_tables ? cs->n_tables : 1, sizeof *cs->exact_some);
		memcpy(cs->exact_some, exact_tables, cs->n_tables * sizeof *cs->exact_some);
	}
	cs->refreshing = true;
	cs->complete = false;
	for (size_t i = 0; i < cs->n_tables; i++) {
		cmp_table *t = &cs->tables[i];
		for (int w = 0; w < CMP_N_SIDES; w++) {
			cmp_figure *f = &t->side[w];
			free(f->error);
			f->error = NULL;
			f->pending = true;
			f->done = false;
		}
		cmp_update_state(cs, t);
	}
	/* Drivers may answer synchronously (a side known to be down), which can
	 * complete the refresh inside this loop; that is fine: later requests
	 * of a finished refresh are not made because done is set. */
	unsigned gen = cs->gen;
	for (int w = 0; w < CMP_N_SIDES; w++) {
		cmp_side *sd = &cs->sides[w];
		for (size_t i = 0; i < cs->n_tables && cs->gen == gen; i++)
			if (!cs->tables[i].side[w].done)
				sd->ops->request_count(sd, i, false);
	}
	cmp_notify(cs, false);
}

/* ---- reading ---- */

size_t cmp_n_tables(const cmp_session *cs) { return cs->n_tables; }

const cmp_table *cmp_table_at(const cmp_session *cs, size_t i)
{
	return i < cs->n_tables ? &cs->tables[i] : NULL;
}

const cmp_side *cmp_side_at(const cmp_session *cs, cmp_which which)
{
	return which < CMP_N_SIDES ? &cs->sides[which] : NULL;
}

bool cmp_snapshot_complete(const cmp_session *cs) { return cs->complete; }
bool cmp_refresh_exact(const cmp_session *cs) { return cs->exact; }
double cmp_snapshot_at(const cmp_session *cs) { return cs->snapshot_at; }

bool cmp_all_match(const cmp_session *cs)
{
	for (size_t i = 0; i < cs->n_tables; i++)
		if (!cmp_table_match(&cs->tables[i]))
			return false;
	return true;
}

int cmp_exit_code(const cmp_session *cs)
{
	bool timeout = false;
	if (cmp_any_unreachable(cs))
		return PGC_EXIT_UNAVAILABLE;
	for (size_t i = 0; i < cs->n_tables; i++)
		for (int w = 0; w < CMP_N_SIDES; w++) {
			const cmp_figure *f = &cs->tables[i].side[w];
			if (!f->error)
				continue;
			if (f->fail == CMP_FAIL_SERVER)
				return PGC_EXIT_UNAVAILABLE;
			timeout |= f->fail == CMP_FAIL_TIMEOUT;
		}
	if (timeout)
		return PGC_EXIT_TEMPFAIL;
	return cmp_all_match(cs) ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
}

bool cmp_any_unreachable(const cmp_session *cs)
{
	for (int w = 0; w < CMP_N_SIDES; w++)
		if (cs->sides[w].ever_tried && !cs->sides[w].up)
			return true;
	return false;
}

const char *cmp_state_name(cmp_state s)
{
	switch (s) {
	case CMP_NOT_CHECKED: return "not checked";
	case CMP_COUNTING:    return "counting";
	case CMP_ESTIMATED:   return "estimated";
	case CMP_MATCHED:     return "matched";
	case CMP_MISMATCHED:  return "mismatched";
	case CMP_ERROR:       return "error";
	case CMP_NO_PK:       return "no primary key";
	}
	return "?";
}

const char *cmp_state_key(cmp_state s)
{
	switch (s) {
	case CMP_NOT_CHECKED: return "not_checked";
	case CMP_COUNTING:    return "counting";
	case CMP_ESTIMATED:   return "estimated";
	case CMP_MATCHED:     return "matched";
	case CMP_MISMATCHED:  return "mismatched";
	case CMP_ERROR:       return "error";
	case CMP_NO_PK:       return "no_primary_key";
	}
	return "?";
}

static cmp_state cmp_state_from_key(const char *k)
{
	for (int s = CMP_NOT_CHECKED; s <= CMP_NO_PK; s++)
		if (strcmp(cmp_state_key((cmp_state)s), k) == 0)
			return (cmp_state)s;
	return CMP_NOT_CHECKED;
}

const char *cmp_summary(const cmp_session *cs, char *buf, size_t n)
{
	size_t matched = 0, known = 0;
	for (size_t i = 0; i < cs->n_tables; i++) {
		const cmp_table *t = &cs->tables[i];
		if (cmp_table_match(t))
			matched++;
		if (t->side[CMP_SOURCE].rows >= 0 || t->side[CMP_TARGET].rows >= 0)
			known++;
	}
	for (int w = 0; w < CMP_N_SIDES; w++) {
		const cmp_side *sd = &cs->sides[w];
		if (sd->ever_tried && !sd->up && sd->error) {
			snprintf(buf, n, "%s unreachable: %s", sd->label, sd->error);
			return buf;
		}
	}
	if (cs->refreshing && known == 0) {
		snprintf(buf, n, "counting %zu tables…", cs->n_tables);
		return buf;
	}
	if (matched == cs->n_tables) {
		bool all_exact = true;
		for (size_t i = 0; i < cs->n_tables; i++)
			for (int w = 0; w < CMP_N_SIDES; w++)
				if (!cs->tables[i].side[w].exact)
					all_exact = false;
		snprintf(buf, n, "%zu/%zu tables match%s", matched, cs->n_tables,
		         all_exact ? "" : " (estimates)");
		return buf;
	}
	/* Name the first table (dependency order) that does not match. */
	for (size_t i = 0; i < cs->n_tables; i++) {
		const cmp_table *t = &cs->tables[i];
		if (cmp_table_match(t))
			continue;
		const cmp_figure *s = &t->side[CMP_SOURCE], *g = &t->side[CMP_TARGET];
		if (s->error || g->error)
			snprintf(buf, n, "%zu/%zu tables match; %s: %s error: %s", matched, cs->n_tables,
			         t->name, s->error ? "source" : "target", s->error ? s->error : g->error);
		else if (s->rows < 0 || g->rows < 0)
			snprintf(buf, n, "%zu/%zu tables match; %s: %s", matched, cs->n_tables, t->name,
			         cmp_state_name(t->state));
		else
			snprintf(buf, n, "%zu/%zu tables match; first mismatch %s: source %lld, target %lld (%+lld)%s",
			         matched, cs->n_tables, t->name, (long long)s->rows, (long long)g->rows,
			         (long long)(g->rows - s->rows), (s->exact && g->exact) ? "" : " (estimates)");
		return buf;
	}
	snprintf(buf, n, "%zu/%zu tables match", matched, cs->n_tables);
	return buf;
}

double cmp_table_pct(const cmp_table *t)
{
	int64_t s = t->side[CMP_SOURCE].rows, g = t->side[CMP_TARGET].rows;
	if (s < 0 || g < 0)
		return -1;
	if (s == 0)
		return g == 0 ? 100.0 : -1;
	return 100.0 * (double)g / (double)s;
}

/* ---- JSON ---- */

/* One decimal, for ages in seconds (no libm for one rounding). */
static double cmp_round1(double x)
{
	return (double)(int64_t)(x * 10 + (x >= 0 ? 0.5 : -0.5)) / 10;
}

static void cmp_json_rows(cJSON *o, const char *key, int64_t rows)
{
	if (rows >= 0)
		cJSON_AddNumberToObject(o, key, (double)rows);
	else
		cJSON_AddNullToObject(o, key);
}

static void cmp_json_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static bool cmp_all_exact(const cmp_session *cs)
{
	for (size_t i = 0; i < cs->n_tables; i++)
		for (int w = 0; w < CMP_N_SIDES; w++)
			if (!cs->tables[i].side[w].exact || cs->tables[i].side[w].rows < 0)
				return false;
	return true;
}

static bool cmp_table_exact(const cmp_table *t)
{
	const cmp_figure *s = &t->side[CMP_SOURCE], *g = &t->side[CMP_TARGET];
	return s->exact && g->exact && s->rows >= 0 && g->rows >= 0;
}

/* The EV_COUNTS payload: the session as a recorded snapshot, written by
 * evp_counts_write(). */
static char *cmp_payload(const cmp_session *cs)
{
	cmp_rec rec = {.match = cmp_all_match(cs), .exact = cmp_all_exact(cs), .has_tables = true,
	               .n_tables = cs->n_tables};
	rec.tables = xcalloc(cs->n_tables ? cs->n_tables : 1, sizeof *rec.tables);
	for (size_t i = 0; i < cs->n_tables; i++) {
		const cmp_table *t = &cs->tables[i];
		rec.tables[i] = (cmp_rec_table){.table = t->name, .source = t->side[CMP_SOURCE].rows,
		                                .target = t->side[CMP_TARGET].rows, .exact = cmp_table_exact(t),
		                                .match = cmp_table_match(t), .state = (char *)cmp_state_key(t->state)};
	}
	char *out = evp_counts_write(&rec);
	free(rec.tables);   /* the strings are the session's */
	return out;
}

char *cmp_snapshot_json(const cmp_session *cs, bool full)
{
	if (!full)
		return cmp_payload(cs);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddBoolToObject(root, "match", cmp_all_match(cs));
	cJSON_AddBoolToObject(root, "exact", cmp_all_exact(cs));
	double now = pgc_now();
	char buf[PGC_ERR_MAX], at[32];
	cJSON_AddBoolToObject(root, "complete", cs->complete);
	cJSON_AddStringToObject(root, "summary", cmp_summary(cs, buf, sizeof buf));
	if (cs->snapshot_at > 0) {
		pgc_iso8601(cs->snapshot_at, at, sizeof at);
		cJSON_AddStringToObject(root, "at", at);
	} else {
		cJSON_AddNullToObject(root, "at");
	}
	for (int w = 0; w < CMP_N_SIDES; w++) {
		const cmp_side *sd = &cs->sides[w];
		cJSON *so = cJSON_AddObjectToObject(root, cmp_side_label[w]);
		cJSON_AddStringToObject(so, "server", sd->server ? sd->server : "");
		cJSON_AddStringToObject(so, "kind", sd->ops && sd->ops->kind ? sd->ops->kind : "");
		cJSON_AddBoolToObject(so, "up", sd->up);
		cmp_json_str(so, "error", sd->error);
	}
	cJSON *arr = cJSON_AddArrayToObject(root, "tables");
	for (size_t i = 0; i < cs->n_tables; i++) {
		const cmp_table *t = &cs->tables[i];
		const cmp_figure *s = &t->side[CMP_SOURCE], *g = &t->side[CMP_TARGET];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "table", t->name);
		cmp_json_rows(o, "source", s->rows);
		cmp_json_rows(o, "target", g->rows);
		if (s->rows >= 0 && g->rows >= 0)
			cJSON_AddNumberToObject(o, "delta", (double)(g->rows - s->rows));
		else
			cJSON_AddNullToObject(o, "delta");
		double pct = cmp_table_pct(t);
		if (pct >= 0)
			cJSON_AddNumberToObject(o, "pct", cmp_round1(pct));
		else
			cJSON_AddNullToObject(o, "pct");
		cJSON_AddBoolToObject(o, "exact", cmp_table_exact(t));
		cJSON_AddBoolToObject(o, "match", cmp_table_match(t));
		cJSON_AddStringToObject(o, "state", cmp_state_key(t->state));
		cmp_json_str(o, "source_error", s->error);
		cmp_json_str(o, "target_error", g->error);
		const cmp_figure *fs[CMP_N_SIDES] = {s, g};
		for (int w = 0; w < CMP_N_SIDES; w++) {
			char key[32];
			snprintf(key, sizeof key, "%s_age_s", cmp_side_label[w]);
			if (fs[w]->measured_at > 0)
				cJSON_AddNumberToObject(o, key, cmp_round1(now - fs[w]->measured_at));
			else
				cJSON_AddNullToObject(o, key);
		}
		if (t->rate > 0)
			cJSON_AddNumberToObject(o, "rate", (double)(int64_t)(t->rate + 0.5));
		else
			cJSON_AddNullToObject(o, "rate");
		if (t->eta_s >= 0)
			cJSON_AddNumberToObject(o, "eta_s", (double)(int64_t)(t->eta_s + 0.5));
		else
			cJSON_AddNullToObject(o, "eta_s");
		cJSON_AddItemToArray(arr, o);
	}
	char *txt = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *out = xstrdup(txt);
	cJSON_free(txt);
	return out;
}

/* ---- gates ---- */

bool cmp_rec_table_matched(const cmp_rec *rec, const char *name, char *why, size_t n)
{
	const cmp_rec_table *found = cmp_rec_find(rec, name);
	const char *state = found ? found->state : NULL;
	if (!found) {
		snprintf(why, n, "%s: not in the last recorded counts", name);
		return false;
	}
	if (!found->exact) {
		snprintf(why, n, "%s: only estimated (run pgcutover counts --exact)", name);
		return false;
	}
	if (!found->match || !state || (strcmp(state, "matched") != 0 && strcmp(state, "no_primary_key") != 0)) {
		snprintf(why, n, "%s: %s", name, state ? state : "not matched");
		return false;
	}
	return true;
}

bool cmp_payload_all_matched(const config *cfg, const char *payload_json, char *why, size_t n)
{
	char dummy[8];
	if (!why) {
		why = dummy;
		n = sizeof dummy;
	}
	cmp_rec rec;
	if (cmp_rec_read(payload_json, &rec) < 0 || !rec.has_tables) {
		snprintf(why, n, "no row counts recorded yet (run pgcutover counts --exact)");
		cmp_rec_free(&rec);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < cfg->n_tables && ok; i++)
		ok = cmp_rec_table_matched(&rec, cfg->tables[i].name, why, n);
	if (ok)
		snprintf(why, n, "%zu/%zu tables match", cfg->n_tables, cfg->n_tables);
	cmp_rec_free(&rec);
	return ok;
}

bool cmp_gate_met(const config *cfg, const char *phase_id, const char *last_counts, char *why, size_t n)
{
	why[0] = '\0';
	if (!cfg || !phase_id)
		return true;
	for (size_t g = 0; g < cfg->n_gates; g++)
		if (strcmp(cfg->gates[g], phase_id) == 0)
			return cmp_payload_all_matched(cfg, last_counts, why, n);
	return true;
}

/* ---- history from the state ---- */

static int cmp_history_event(const st_event *ev, void *ud)
{
	cmp_session *cs = ud;
	if (strcmp(ev->kind, EV_COUNTS) != 0)
		return 0;
	cmp_rec rec;
	cmp_rec_read(ev->payload, &rec);
	for (size_t k = 0; k < rec.n_tables; k++) {
		const cmp_rec_table *rt = &rec.tables[k];
		for (size_t i = 0; i < cs->n_tables; i++) {
			cmp_table *t = &cs->tables[i];
			if (strcmp(t->name, rt->table) != 0)
				continue;
			const int64_t rows[CMP_N_SIDES] = {rt->source, rt->target};
			for (int w = 0; w < CMP_N_SIDES; w++) {
				if (rows[w] < 0)
					continue;
				cmp_figure *f = &t->side[w];
				f->rows = rows[w];
				f->exact = rt->exact;
				f->measured_at = ev->ts;
				cmp_hist_push(f, ev->ts, f->rows, f->exact);
			}
			if (rt->state)
				t->state = cmp_state_from_key(rt->state);
			cmp_update_rate(t);
		}
	}
	cmp_rec_free(&rec);
	return 0;
}

int cmp_session_load_history(cmp_session *cs, state *st, pgc_err *e)
{
	if (state_foreach_kind(st, EV_COUNTS, CMP_HISTORY, cmp_history_event, cs, e) < 0)
		return -1;
	return 0;
}
