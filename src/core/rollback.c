/*
 * rollback.c -- plans a phase's rollback (see action.h): which .env flags
 * to restore and to what, which rollback steps to run, whether the point
 * of no return has passed; and records the phase_rolled_back event once
 * it all ran.  The restore values come from the audit, not from memory:
 * for each flag, the "old" of the phase's first flag_set since the phase
 * was last rolled back (restores themselves are flag_set events marked
 * "rollback" and do not count).  Used by `pgcutover rollback` and the
 * console's rollback button; it runs nothing itself.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/action.h"
#include "pgcutover/evpay.h"
#include "pgcutover/freeze.h"
#include "pgcutover/schema.h"

/* Characters of an item's text quoted in the point-of-no-return line. */
#define RBK_ITEM_TEXT_MAX 80

typedef struct restore_ent {
	char *name;
	char *value;     /* before the phase's first change; NULL = was unset */
	bool masked;     /* recorded as *** (secret-looking): unknown */
} restore_ent;

typedef struct restore_scan {
	const char *phase;
	int64_t since;   /* last phase_rolled_back of this phase */
	restore_ent *v;
	size_t n;
} restore_scan;

static int scan_rolled_back(const st_event *ev, void *ud)
{
	restore_scan *s = ud;
	if (strcmp(ev->kind, EV_PHASE_ROLLED_BACK) == 0 && ev->phase && strcmp(ev->phase, s->phase) == 0)
		s->since = ev->id;
	return 0;
}

static int scan_flag_sets(const st_event *ev, void *ud)
{
	restore_scan *s = ud;
	if (ev->id <= s->since || strcmp(ev->kind, EV_FLAG_SET) != 0 || !ev->phase ||
	    strcmp(ev->phase, s->phase) != 0)
		return 0;
	evr_flag_set f;
	evr_flag_set_read(ev->payload, &f);
	if (f.name && !f.rollback) {
		bool seen = false;
		for (size_t i = 0; i < s->n; i++)
			seen |= strcmp(s->v[i].name, f.name) == 0;
		if (!seen) {
			s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
			restore_ent *r = &s->v[s->n++];
			r->name = f.name;
			r->value = f.old_value;
			f.name = f.old_value = NULL;   /* kept */
			/* *** whole (a secret) or inside (a URL's password) */
			r->masked = r->value && strstr(r->value, ACT_MASK);
		}
	}
	evr_flag_set_free(&f);
	return 0;
}

static void add_note(act_rollback *rb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(act_rollback *rb, const char *fmt, ...)
{
	va_list ap;
	strbuf b;
	sb_init(&b);
	char buf[PGC_ERR_MAX];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	sb_puts(&b, buf);
	rb->notes = xrealloc(rb->notes, (rb->n_notes + 1) * sizeof *rb->notes);
	rb->notes[rb->n_notes++] = sb_steal(&b);
}

static char *ponr_description(const config *cfg, const runbook *rb, ledger *lg)
{
	if (!cfg || !cfg->point_of_no_return || !lg)
		return NULL;
	const rb_phase *ph = NULL;
	const rb_item *it = runbook_item(rb, cfg->point_of_no_return, &ph);
	if (!it)
		return NULL;
	lg_item *li = ledger_item(lg, (size_t)(ph - rb->phases), (size_t)(it - ph->items));
	if (!li || !li->done)
		return NULL;
	char ts[32] = "";
	if (li->done_at > 0)
		pgc_iso8601(li->done_at, ts, sizeof ts);
	char *text = pgc_sanitize(it->text ? it->text : "");
	char *d = xasprintf("item %s \"%.*s\" was ticked%s%s%s%s", it->id, RBK_ITEM_TEXT_MAX, text,
	                    ts[0] ? " at " : "", ts, li->done_by ? " by " : "", li->done_by ? li->done_by : "");
	free(text);
	return d;
}

/* Rows the target gained since the point of no return (see action.h):
 * from exact snapshots when there is one on each side of the tick, else
 * from whatever snapshots there are (then an estimate). */
typedef struct gained_pair {
	double before, now;
	bool have_before, have_after;
} gained_pair;

typedef struct gained_scan {
	double since;
	gained_pair any, exact;
} gained_scan;

static bool target_total(const char *payload, double *sum, bool *exact)
{
	cmp_rec rec;
	bool ok = cmp_rec_read(payload, &rec) == 0 && rec.n_tables > 0;
	*sum = 0;
	*exact = ok;
	for (size_t i = 0; i < rec.n_tables; i++) {
		const cmp_rec_table *t = &rec.tables[i];
		if (t->target >= 0)
			*sum += (double)t->target;
		else
			ok = false;
		if (!t->exact)
			*exact = false;   /* an estimate (or one side not counted) */
	}
	cmp_rec_free(&rec);
	return ok;
}

static void gained_add(gained_pair *p, bool before, double sum)
{
	if (before) {
		p->before = sum;
		p->have_before = true;
	} else {
		p->now = sum;
		p->have_after = true;
	}
}

static int gained_event(const st_event *ev, void *ud)
{
	gained_scan *g = ud;
	double sum;
	bool exact;
	if (strcmp(ev->kind, EV_COUNTS) != 0 || !target_total(ev->payload, &sum, &exact))
		return 0;
	gained_add(&g->any, ev->ts < g->since, sum);
	if (exact)
		gained_add(&g->exact, ev->ts < g->since, sum);
	return 0;
}

static int64_t rows_gained_since(const config *cfg, const runbook *rb, state *st, ledger *lg, bool *exact)
{
	*exact = false;
	const rb_phase *ph = NULL;
	const rb_item *it = runbook_item(rb, cfg->point_of_no_return, &ph);
	lg_item *li = it ? ledger_item(lg, (size_t)(ph - rb->phases), (size_t)(it - ph->items)) : NULL;
	if (!st || !li || !li->done || li->done_at <= 0)
		return -1;
	gained_scan g = {.since = li->done_at};
	pgc_err e = {0};
	if (state_foreach_kind(st, EV_COUNTS, 0, gained_event, &g, &e) < 0)
		return -1;
	if (g.exact.have_before && g.exact.have_after) {
		*exact = true;
		return (int64_t)(g.exact.now - g.exact.before);
	}
	if (!g.any.have_before || !g.any.have_after)
		return -1;
	return (int64_t)(g.any.now - g.any.before);
}

/* A step's flag segment that sets name, or NULL. */
static const act_segment *step_flag(const act_plan *p, const char *name)
{
	for (size_t k = 0; k < p->n_segs; k++)
		if (p->segs[k].kind == ACT_SEG_FLAG && strcmp(p->segs[k].name, name) == 0)
			return &p->segs[k];
	return NULL;
}

/* Where the restores go (issue 13 item 6: the rollback block runs in its
 * written order).  A flag a rollback step sets itself is restored by that
 * line, where it stands (after the step's `pm2 stop`, say), to the value
 * the block writes.  The others are written with the first step's first
 * run of flag lines, in the same write; only when no step has a flag line
 * are they written first, on their own.  r->restore lists them all (the
 * step's own lines with their values) for the text and the record. */
static void place_restores(const config *cfg, act_rollback *r, const char **names, const char **values,
                           size_t n)
{
	r->restore_step = -1;
	size_t first_flag = 0;
	for (size_t i = 0; n > 0 && r->restore_step < 0 && i < r->n_steps; i++)
		for (size_t k = 0; r->restore_step < 0 && k < r->steps[i]->n_segs; k++)
			if (r->steps[i]->segs[k].kind == ACT_SEG_FLAG) {
				r->restore_step = (int)i;
				first_flag = k;
			}
	const char **lv = xcalloc(n + 1, sizeof *lv), **ln = xcalloc(n + 1, sizeof *ln);
	const char **av = xcalloc(n + 1, sizeof *av);
	size_t nl = 0;
	for (size_t k = 0; k < n; k++) {
		const act_segment *own = NULL;
		for (size_t i = 0; !own && i < r->n_steps; i++)
			own = step_flag(r->steps[i], names[k]);
		av[k] = own ? own->value : values[k];
		if (!own) {
			ln[nl] = names[k];
			lv[nl++] = values[k];
		}
	}
	if (r->restore_step >= 0 && nl > 0) {
		act_plan *left = act_plan_flags(cfg, r->phase_id, ln, lv, nl);
		act_plan *st = r->steps[r->restore_step];
		act_plan_insert_flags(st, act_plan_flag_run(st, first_flag), left);
		act_plan_free(left);
	}
	if (n > 0)
		r->restore = act_plan_flags(cfg, r->phase_id, names, av, n);
	free(lv);
	free(ln);
	free(av);
}

const act_plan *act_rollback_stage(const act_rollback *rb, int stage)
{
	if (stage < 0)
		return rb->restore_step < 0 ? rb->restore : NULL;
	return (size_t)stage < rb->n_steps ? rb->steps[stage] : NULL;
}

int act_rollback_plan(const config *cfg, const runbook *rb, state *st, ledger *lg,
                      const char *phase_id, act_rollback **out, pgc_err *e)
{
	const rb_phase *ph = runbook_phase(rb, phase_id);
	if (!ph)
		return pgc_fail(e, PGC_EXIT_USAGE, "no phase '%s' in %s", phase_id, rb->path);
	restore_scan scan = {.phase = ph->id};
	if (st && (state_foreach_kind(st, EV_PHASE_ROLLED_BACK, 0, scan_rolled_back, &scan, e) < 0 ||
	           state_foreach_kind(st, EV_FLAG_SET, 0, scan_flag_sets, &scan, e) < 0))
		return -1;
	act_rollback *r = xcalloc(1, sizeof *r);
	r->restore_step = -1;
	snprintf(r->phase_id, sizeof r->phase_id, "%s", ph->id);
	int rc = 0;

	envfile *ef = NULL;
	if (cfg && cfg->env_file && envfile_load(cfg->env_file, &ef, e) < 0)
		rc = -1;
	const char **names = xcalloc(scan.n + 1, sizeof *names), **values = xcalloc(scan.n + 1, sizeof *values);
	size_t n = 0;
	for (size_t i = 0; rc == 0 && i < scan.n; i++) {
		const char *now = ef ? envfile_get(ef, scan.v[i].name) : NULL;
		if (!cfg || !cfg->env_file)
			add_note(r, "flag %s: the config names no env_file to restore it in", scan.v[i].name);
		else if (scan.v[i].masked)
			add_note(r, "flag %s: its old value is recorded masked (a secret or a URL's password), "
			         "not in the audit: not restored", scan.v[i].name);
		else if (!scan.v[i].value)
			add_note(r, "flag %s was not in the file before phase %s; left as it is", scan.v[i].name, ph->id);
		else if (now && strcmp(now, scan.v[i].value) == 0)
			add_note(r, "flag %s already has its value from before phase %s", scan.v[i].name, ph->id);
		else {
			names[n] = scan.v[i].name;
			values[n++] = scan.v[i].value;
		}
	}
	envfile_free(ef);

	/* the rollback items' blocks and the rollback steps' own blocks (a
	 * section written as prose and code), in the order they are written */
	r->steps = xcalloc(ph->n_items + ph->n_steps + 1, sizeof *r->steps);
	size_t i = 0, j = 0;
	while (rc == 0 && (i < ph->n_items || j < ph->n_steps)) {
		const rb_item *it = i < ph->n_items ? &ph->items[i] : NULL;
		const rb_step *st = j < ph->n_steps ? &ph->steps[j] : NULL;
		bool item_runs = it && it->rollback && it->block && it->block->runnable;
		bool step_runs = st && st->rollback && st->block && st->block->runnable;
		if (it && !item_runs) {
			i++;
			continue;
		}
		if (st && !step_runs) {
			j++;
			continue;
		}
		bool take_step = st && (!it || st->block->line < it->block->line);
		const char *id = take_step ? st->id : it->id;
		if (take_step)
			j++;
		else
			i++;
		if (act_plan_item(cfg, rb, id, &r->steps[r->n_steps], e) < 0)
			rc = -1;
		else
			r->n_steps++;
	}
	if (rc == 0)
		place_restores(cfg, r, names, values, n);
	free(names);
	free(values);
	for (size_t i = 0; i < scan.n; i++) {
		free(scan.v[i].name);
		free(scan.v[i].value);
	}
	free(scan.v);

	char **frozen = rc == 0 ? frz_applied_roles(st) : NULL;
	for (size_t i = 0; frozen && frozen[i]; i++)
		add_note(r, "role %s is read-only on the source (freeze apply): the rollback releases it "
		         "after its steps", frozen[i]);
	r->release_freeze = frozen != NULL;
	sch_strv_free(frozen);
	if (rc == 0 && !r->restore && r->n_steps == 0 && !r->release_freeze) {
		pgc_fail(e, PGC_EXIT_DATAERR, "phase %s has no rollback step with a command and pgcutover "
		         "changed no flag in it: nothing to roll back", ph->id);
		rc = -1;
	}
	if (rc < 0) {
		act_rollback_free(r);
		return -1;
	}
	r->point_of_no_return = ponr_description(cfg, rb, lg);
	r->past_point_of_no_return = r->point_of_no_return != NULL;
	r->rows_gained = r->past_point_of_no_return ? rows_gained_since(cfg, rb, st, lg, &r->rows_gained_exact) : -1;
	*out = r;
	return 0;
}

void act_rollback_free(act_rollback *rb)
{
	if (!rb)
		return;
	act_plan_free(rb->restore);
	for (size_t i = 0; i < rb->n_steps; i++)
		act_plan_free(rb->steps[i]);
	free(rb->steps);
	for (size_t i = 0; i < rb->n_notes; i++)
		free(rb->notes[i]);
	free(rb->notes);
	free(rb->point_of_no_return);
	free(rb);
}

char *act_rollback_warning(const act_rollback *rb)
{
	if (!rb->past_point_of_no_return)
		return NULL;
	strbuf b;
	sb_init(&b);
	sb_printf(&b, "POINT OF NO RETURN PASSED: %s; the target has taken writes the source has not seen.\n",
	          rb->point_of_no_return);
	if (rb->rows_gained >= 0)
		sb_printf(&b, "The target has gained %lld rows since (recorded %s); rolling back leaves them behind.",
		          (long long)rb->rows_gained, rb->rows_gained_exact ? "exact counts" : "estimates");
	else
		sb_printf(&b, "Rows the target gained since: unknown (no recorded counts before and after it).");
	return sb_steal(&b);
}

char *act_rollback_describe(const act_rollback *rb)
{
	strbuf b;
	sb_init(&b);
	sb_printf(&b, "rollback of phase %s:\n", rb->phase_id);
	char *warn = act_rollback_warning(rb);
	if (warn) {
		sb_printf(&b, "%s\n", warn);
		free(warn);
	}
	if (rb->restore && rb->restore_step < 0) {
		char *d = act_plan_describe(rb->restore);
		sb_printf(&b, "restore flags (values before the phase's first change):\n%s", d);
		free(d);
	} else if (rb->restore) {
		sb_printf(&b, "restore flags with step %s's flag lines, in one write:", rb->steps[rb->restore_step]->item_id);
		for (size_t k = 0; k < rb->restore->n_segs; k++)
			sb_printf(&b, " %s", rb->restore->segs[k].name);
		sb_putc(&b, '\n');
	}
	for (size_t i = 0; i < rb->n_steps; i++) {
		char *d = act_plan_describe(rb->steps[i]);
		sb_printf(&b, "%s step %s, in its written order:\n%s", i == 0 && !act_rollback_stage(rb, -1) ? "run" : "then",
		          rb->steps[i]->item_id, d);
		free(d);
	}
	for (size_t i = 0; i < rb->n_notes; i++)
		sb_printf(&b, "note: %s\n", rb->notes[i]);
	return sb_steal(&b);
}

char *act_rollback_json(const act_rollback *rb)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "phase", rb->phase_id);
	cJSON_AddBoolToObject(o, "dry_run", true);
	cJSON_AddBoolToObject(o, "past_point_of_no_return", rb->past_point_of_no_return);
	if (rb->point_of_no_return)
		cJSON_AddStringToObject(o, "point_of_no_return", rb->point_of_no_return);
	else
		cJSON_AddNullToObject(o, "point_of_no_return");
	if (rb->rows_gained >= 0)
		cJSON_AddNumberToObject(o, "rows_gained", (double)rb->rows_gained);
	else
		cJSON_AddNullToObject(o, "rows_gained");
	cJSON_AddBoolToObject(o, "rows_gained_exact", rb->rows_gained >= 0 && rb->rows_gained_exact);
	cJSON_AddItemToObject(o, "restore", evp_rollback_restores(rb, "current", "restore"));
	if (rb->restore_step >= 0)
		cJSON_AddStringToObject(o, "restore_with_step", rb->steps[rb->restore_step]->item_id);
	else
		cJSON_AddNullToObject(o, "restore_with_step");
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; i < rb->n_steps; i++) {
		char *pj = act_plan_json(rb->steps[i]);
		cJSON_AddItemToArray(steps, cJSON_Parse(pj));
		free(pj);
	}
	cJSON *notes = cJSON_AddArrayToObject(o, "notes");
	for (size_t i = 0; i < rb->n_notes; i++)
		cJSON_AddItemToArray(notes, cJSON_CreateString(rb->notes[i]));
	return evp_json_text(o);
}

int act_rollback_record(state *st, const act_rollback *rb, const act_result *step_results,
                        int64_t *id_out, pgc_err *e)
{
	char *js = evp_rolled_back_write(rb, step_results);
	int rc = state_append(st, EV_PHASE_ROLLED_BACK, rb->phase_id, NULL, js, id_out, e);
	free(js);
	return rc;
}

/* Whether the rollback wrote flag name before it stopped at stage (-1:
 * the restores on their own) with failed (see act_rollback_record_failed). */
static bool plan_wrote(const act_plan *p, const char *name, size_t upto)
{
	for (size_t k = 0; p && k < upto && k < p->n_segs; k++)
		if (p->segs[k].kind == ACT_SEG_FLAG && strcmp(p->segs[k].name, name) == 0)
			return true;
	return false;
}

static bool wrote_before(const act_rollback *rb, int stage, const act_result *failed, const char *name)
{
	size_t at = failed->failed_segment > 0 ? (size_t)failed->failed_segment : 0;
	for (int s = -1; s <= stage; s++) {
		const act_plan *p = act_rollback_stage(rb, s);
		if (plan_wrote(p, name, s < stage ? (p ? p->n_segs : 0) : at))
			return true;
	}
	return false;
}

int act_rollback_record_failed(state *st, const act_rollback *rb, int stage, const act_result *failed,
                               const act_result *step_results, int64_t *id_out, pgc_err *e)
{
	size_t nf = rb->restore ? rb->restore->n_segs : 0, n = 0;
	const char **restored = xcalloc(nf + 1, sizeof *restored);
	for (size_t k = 0; k < nf; k++)
		if (wrote_before(rb, stage, failed, rb->restore->segs[k].name))
			restored[n++] = rb->restore->segs[k].name;
	const char *at = stage < 0 ? "restore" : rb->steps[stage]->item_id;
	char *js = evp_rollback_failed_write(rb, at, failed, step_results, stage < 0 ? 0 : (size_t)stage,
	                                     restored, n);
	int rc = state_append(st, EV_PHASE_ROLLBACK_FAILED, rb->phase_id, stage < 0 ? NULL : at, js, id_out, e);
	free(js);
	free(restored);
	return rc;
}
