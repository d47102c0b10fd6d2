/*
 * ledger.c -- the derived state: folds events over the runbook into what is
 * ticked (by whom, when), notes, phase status and times, and the last counts
 * snapshot.  `status`, the console, the monitor and replay read a ledger;
 * nothing else interprets events.  Also here: serialising a ledger for the
 * snapshots table, and the runbook diff (moved / appeared / vanished items)
 * cli_load() records when the runbook changes under a state file.
 *
 * Items are matched by id AND text hash, so editing the runbook never moves
 * a tick silently onto a different item (see the counting rule in ledger.h).
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/evpay.h"
#include "pgcutover/ledger.h"

#define LG_SNAPSHOT_FORMAT 4   /* 2: phases carry rolled_back_at; 3: items first_run_at; 4: last_run */
/* Items listed per category in the human diff summary before "+N more". */
#define LG_SUMMARY_MAX_IDS 8

static const char *const phase_status_names[] = {
	[LG_PHASE_NOT_STARTED] = "not_started",
	[LG_PHASE_IN_PROGRESS] = "in_progress",
	[LG_PHASE_DONE] = "done",
	[LG_PHASE_ROLLED_BACK] = "rolled_back",
};
#define N_PHASE_STATUS (sizeof phase_status_names / sizeof phase_status_names[0])

const char *lg_phase_status_name(lg_phase_status s)
{
	return (size_t)s < N_PHASE_STATUS ? phase_status_names[s] : "unknown";
}

/* The same states in words for a person (the console's rail and header,
 * `status`): one list, so the screens and the CLI never disagree. */
static const char *const phase_status_words[] = {
	[LG_PHASE_NOT_STARTED] = "not started",
	[LG_PHASE_IN_PROGRESS] = "in progress",
	[LG_PHASE_DONE] = "done",
	[LG_PHASE_ROLLED_BACK] = "rolled back",
};

const char *lg_phase_status_words(lg_phase_status s)
{
	return (size_t)s < N_PHASE_STATUS ? phase_status_words[s] : "?";
}

const char *ledger_phase_state(const lg_phase *lp)
{
	return lp->rollback_failed ? lp->rollback_failed : lg_phase_status_words(lp->status);
}

int lg_phase_status_parse(const char *name)
{
	for (size_t i = 0; name && i < N_PHASE_STATUS; i++)
		if (strcmp(name, phase_status_names[i]) == 0)
			return (int)i;
	return -1;
}

bool ledger_item_counts(const rb_item *it)
{
	return !it->rollback && it->mark != RB_MARK_SKIPPED && it->mark != RB_MARK_NA;
}

/* ---- construction ---- */

/* A phase's status follows from its counts unless an override forced it. */
static void update_statuses(ledger *lg)
{
	for (size_t q = 0; q < lg->rb->n_phases; q++) {
		lg_phase *lp = &lg->phases[q];
		if (lp->has_forced)
			lp->status = lp->forced;
		else if (lp->total > 0 && lp->done == lp->total)
			lp->status = LG_PHASE_DONE;
		else if (lp->done > 0 || lp->started_at > 0)
			lp->status = LG_PHASE_IN_PROGRESS;
		else if (lp->rolled_back_at > 0)
			lp->status = LG_PHASE_ROLLED_BACK;
		else
			lp->status = LG_PHASE_NOT_STARTED;
		/* A completion time only stands while the phase is done (an untick,
		 * or a runbook that grew, reopens it). */
		if (!lp->has_forced && lp->status != LG_PHASE_DONE)
			lp->completed_at = 0;
	}
}

ledger *ledger_new(const runbook *rb)
{
	ledger *lg = xcalloc(1, sizeof *lg);
	lg->rb = rb;
	size_t n = 0;
	lg->phase_offset = xcalloc(rb->n_phases + 1, sizeof *lg->phase_offset);
	for (size_t p = 0; p < rb->n_phases; p++) {
		lg->phase_offset[p] = n;
		n += rb->phases[p].n_items;
	}
	lg->phase_offset[rb->n_phases] = n;
	lg->items = xcalloc(n ? n : 1, sizeof *lg->items);
	lg->phases = xcalloc(rb->n_phases ? rb->n_phases : 1, sizeof *lg->phases);
	lg->work_phase = SIZE_MAX;
	for (size_t p = 0; p < rb->n_phases; p++) {
		const rb_phase *ph = &rb->phases[p];
		lg_phase *lp = &lg->phases[p];
		for (size_t i = 0; i < ph->n_items; i++) {
			const rb_item *it = &ph->items[i];
			bool done = it->mark == RB_MARK_DONE;
			lg->items[lg->phase_offset[p] + i].done = done;
			if (!ledger_item_counts(it))
				continue;
			lp->total++;
			if (done)
				lp->done++;
		}
		lp->file_done = lp->done;
		lg->items_total += lp->total;
		lg->items_done += lp->done;
	}
	update_statuses(lg);
	return lg;
}

static void notes_free(lg_note *notes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(notes[i].operator_name);
		free(notes[i].text);
	}
	free(notes);
}

void ledger_replace(ledger *dst, ledger *src)
{
	ledger old = *dst;
	*dst = *src;
	*src = old;
	ledger_free(src);
}

void ledger_free(ledger *lg)
{
	if (!lg)
		return;
	size_t n = lg->phase_offset[lg->rb->n_phases];
	for (size_t i = 0; i < n; i++) {
		free(lg->items[i].done_by);
		free(lg->items[i].duty_done_by);
		notes_free(lg->items[i].notes, lg->items[i].n_notes);
	}
	for (size_t p = 0; p < lg->rb->n_phases; p++) {
		notes_free(lg->phases[p].notes, lg->phases[p].n_notes);
		free(lg->phases[p].rollback_failed);
	}
	notes_free(lg->general_notes, lg->n_general_notes);
	free(lg->items);
	free(lg->phases);
	free(lg->phase_offset);
	free(lg->last_counts);
	free(lg->last_verify);
	free(lg->downtime_start_reason);
	free(lg->work_by);
	free(lg);
}

lg_item *ledger_item(ledger *lg, size_t phase_idx, size_t item_idx)
{
	return &lg->items[lg->phase_offset[phase_idx] + item_idx];
}

size_t ledger_phases_in_progress(const ledger *lg, size_t *idx, size_t max)
{
	size_t k = 0;
	for (size_t p = 0; p < lg->rb->n_phases; p++)
		if (lg->phases[p].status == LG_PHASE_IN_PROGRESS) {
			if (k < max)
				idx[k] = p;
			k++;
		}
	return k;
}

/* The first phase from `from` on with work to do that is not done, or
 * SIZE_MAX. */
static size_t next_open(const ledger *lg, size_t from)
{
	for (size_t p = from; p < lg->rb->n_phases; p++)
		if (lg->phases[p].total > 0 && lg->phases[p].status != LG_PHASE_DONE)
			return p;
	return SIZE_MAX;
}

size_t ledger_current_words(const ledger *lg, char *buf, size_t n)
{
	const runbook *rb = lg->rb;
	/* a rollback that failed halfway matters more than anything in
	 * progress: the .env and the app may not agree (the latest such) */
	for (size_t p = rb->n_phases; p-- > 0;)
		if (lg->phases[p].rollback_failed) {
			snprintf(buf, n, "phase %s %s", rb->phases[p].id, lg->phases[p].rollback_failed);
			return p;
		}
	size_t np = ledger_phases_in_progress(lg, NULL, 0);
	if (np > 0) {
		size_t *idx = xcalloc(np, sizeof *idx);
		ledger_phases_in_progress(lg, idx, np);
		strbuf sb;
		sb_init(&sb);
		sb_puts(&sb, np > 1 ? "phases " : "phase ");
		for (size_t k = 0; k < np; k++)
			sb_printf(&sb, "%s%s", k ? ", " : "", rb->phases[idx[k]].id);
		sb_puts(&sb, " in progress");
		snprintf(buf, n, "%s", sb.buf);
		sb_free(&sb);
		size_t latest = idx[np - 1];
		free(idx);
		return latest;
	}
	/* the latest phase worked on, and what comes after it */
	size_t last = SIZE_MAX;
	for (size_t p = 0; p < rb->n_phases; p++)
		if (lg->phases[p].status != LG_PHASE_NOT_STARTED)
			last = p;
	size_t q = last != SIZE_MAX && lg->phases[last].status != LG_PHASE_DONE ? last : SIZE_MAX;
	if (q == SIZE_MAX)
		q = next_open(lg, last == SIZE_MAX ? 0 : last + 1);
	if (q == SIZE_MAX)
		q = next_open(lg, 0);
	if (q == SIZE_MAX)
		snprintf(buf, n, "all phases done");
	else
		snprintf(buf, n, "phase %s %s", rb->phases[q].id, ledger_phase_state(&lg->phases[q]));
	return q;
}

int ledger_last_tick_by(ledger *lg, const char *operator_name, size_t *phase_idx, size_t *item_idx)
{
	double best = 0;
	for (size_t p = 0; operator_name && p < lg->rb->n_phases; p++)
		for (size_t i = 0; i < lg->rb->phases[p].n_items; i++) {
			const lg_item *it = ledger_item(lg, p, i);
			if (it->done && it->done_by && it->done_at >= best && strcmp(it->done_by, operator_name) == 0) {
				best = it->done_at;
				*phase_idx = p;
				*item_idx = i;
			}
		}
	return best > 0 ? 0 : -1;
}

int ledger_step_elapsed(const ledger *lg, size_t phase_idx, size_t step_idx, double now, double *elapsed,
                        bool *done, int *planned_min)
{
	const rb_phase *ph = &lg->rb->phases[phase_idx];
	if (step_idx >= ph->n_steps)
		return -1;
	*planned_min = ph->steps[step_idx].duration_min;
	double start = 0, end = 0;
	int n = 0, n_done = 0;
	/* Items come in document order, so a step's items are one run: find
	 * its start by bisection (the console asks this for every step row it
	 * draws; a scan of the phase made each frame cost O(items)). */
	size_t lo = 0, hi = ph->n_items;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ph->items[mid].step < (int)step_idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ph->n_items && ph->items[i].step == (int)step_idx; i++) {
		if (!ledger_item_counts(&ph->items[i]))
			continue;
		const lg_item *li = &lg->items[lg->phase_offset[phase_idx] + i];
		n++;
		double first = li->done_at;
		if (li->first_run_at > 0 && (first == 0 || li->first_run_at < first))
			first = li->first_run_at;
		if (first > 0 && (start == 0 || first < start))
			start = first;
		if (li->done) {
			n_done++;
			if (li->done_at > end)
				end = li->done_at;
		}
	}
	if (start == 0)
		return -1;
	*done = n > 0 && n_done == n;
	*elapsed = (*done ? end : now) - start;
	if (*elapsed < 0)
		*elapsed = 0;
	return 0;
}

int ledger_find_phase(const ledger *lg, const char *id, size_t *phase_idx)
{
	for (size_t p = 0; id && p < lg->rb->n_phases; p++)
		if (strcmp(lg->rb->phases[p].id, id) == 0) {
			*phase_idx = p;
			return 0;
		}
	return -1;
}

int ledger_find_item(const ledger *lg, const char *id, size_t *phase_idx, size_t *item_idx)
{
	/* "<phase id>.<ordinal>": the phase id may itself contain dots ("0.8"). */
	const char *dot = id ? strrchr(id, '.') : NULL;
	if (!dot || dot == id || !dot[1])
		return -1;
	char *end;
	unsigned long ord = strtoul(dot + 1, &end, 10);
	if (*end || ord == 0)
		return -1;
	for (size_t p = 0; p < lg->rb->n_phases; p++) {
		const rb_phase *ph = &lg->rb->phases[p];
		if (strlen(ph->id) != (size_t)(dot - id) || strncmp(ph->id, id, (size_t)(dot - id)) != 0)
			continue;
		/* Ordinals are normally position + 1; search in case they are not. */
		if (ord <= ph->n_items && strcmp(ph->items[ord - 1].id, id) == 0) {
			*phase_idx = p;
			*item_idx = ord - 1;
			return 0;
		}
		for (size_t i = 0; i < ph->n_items; i++)
			if (strcmp(ph->items[i].id, id) == 0) {
				*phase_idx = p;
				*item_idx = i;
				return 0;
			}
	}
	return -1;
}

/* The one item whose text hash is `hash`; -1 when none or several. */
static int find_unique_hash(const ledger *lg, const char *hash, size_t *phase_idx, size_t *item_idx)
{
	int found = 0;
	for (size_t p = 0; p < lg->rb->n_phases; p++)
		for (size_t i = 0; i < lg->rb->phases[p].n_items; i++)
			if (strcmp(lg->rb->phases[p].items[i].hash, hash) == 0) {
				if (found++)
					return -1;
				*phase_idx = p;
				*item_idx = i;
			}
	return found == 1 ? 0 : -1;
}

/* ---- folding ---- */

static void add_note(lg_note **notes, size_t *n, double ts, const char *op, const char *text)
{
	/* Capacity is the next power of two, so it needs no field of its own
	 * and a log of many notes does not realloc on every one. */
	if ((*n & (*n - 1)) == 0)
		*notes = xrealloc(*notes, (*n ? *n * 2 : 1) * sizeof **notes);
	(*notes)[*n].ts = ts;
	(*notes)[*n].operator_name = xstrdup(op ? op : "");
	(*notes)[*n].text = xstrdup(text ? text : "");
	(*n)++;
}

static void set_done(ledger *lg, size_t p, size_t i, bool done)
{
	lg_item *it = ledger_item(lg, p, i);
	if (it->done == done)
		return;
	it->done = done;
	if (ledger_item_counts(&lg->rb->phases[p].items[i])) {
		int d = done ? 1 : -1;
		lg->phases[p].done += d;
		lg->items_done += d;
	}
}

/* Which item an event about an item means now (see ledger.h).  Returns 0
 * with the indexes, -1 when it cannot be placed. */
static int resolve_item(ledger *lg, const st_event *ev, const char *hash, size_t *p, size_t *i)
{
	if (ev->item && ledger_find_item(lg, ev->item, p, i) == 0) {
		if (!hash || strcmp(lg->rb->phases[*p].items[*i].hash, hash) == 0)
			return 0;
		size_t p2, i2;
		if (find_unique_hash(lg, hash, &p2, &i2) == 0) {
			*p = p2;
			*i = i2;
			return 0;
		}
		ledger_item(lg, *p, *i)->changed_in_runbook = true;
		lg->n_unmatched++;
		return -1;
	}
	if (hash && find_unique_hash(lg, hash, p, i) == 0)
		return 0;
	lg->n_unmatched++;
	return -1;
}

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void set_rollback_failed(lg_phase *lp, char *text)
{
	free(lp->rollback_failed);
	lp->rollback_failed = text;
}

/* phase_rollback_failed: which step stopped the rollback and how many of
 * its flags it had restored by then. */
static void apply_rollback_failed(ledger *lg, const st_event *ev)
{
	size_t p;
	if (ledger_find_phase(lg, ev->phase, &p) < 0)
		return;
	evr_rollback_failed f;
	evr_rollback_failed_read(ev->payload, &f);
	const char *at = f.failed_at ? f.failed_at : "?";
	char flags[64] = "";
	if (f.n_flags > 0 && f.n_restored >= f.n_flags)
		snprintf(flags, sizeof flags, ", flags restored");
	else if (f.n_restored > 0)
		snprintf(flags, sizeof flags, ", %zu of %zu flags restored", f.n_restored, f.n_flags);
	else if (f.n_flags > 0)
		snprintf(flags, sizeof flags, ", flags not restored");
	set_rollback_failed(&lg->phases[p], strcmp(at, "restore") == 0 ? xasprintf("rollback failed restoring flags%s", flags)
	                                                               : xasprintf("rollback failed at %s%s", at, flags));
	evr_rollback_failed_free(&f);
}

static void apply_tick(ledger *lg, const st_event *ev, const evr_op *pl, bool tick)
{
	size_t p, i;
	if (resolve_item(lg, ev, pl->hash, &p, &i) < 0)
		return;
	lg_item *it = ledger_item(lg, p, i);
	lg_phase *lp = &lg->phases[p];
	set_rollback_failed(lp, NULL);   /* the operator has taken it over */
	set_done(lg, p, i, tick);
	free(it->done_by);
	it->done_by = NULL;
	it->done_at = 0;
	if (tick) {
		it->done_by = xstrdup(ev->operator_name);
		it->done_at = ev->ts;
		if (lp->started_at == 0)
			lp->started_at = ev->ts;
		const char *note = pl->note;
		if (note && *note)
			add_note(&it->notes, &it->n_notes, ev->ts, ev->operator_name, note);
	} else {
		if (lp->done < lp->total)
			lp->completed_at = 0;
		const char *reason = pl->reason;
		if (reason && *reason) {
			char *text = xasprintf("unticked: %s", reason);
			add_note(&it->notes, &it->n_notes, ev->ts, ev->operator_name, text);
			free(text);
		}
	}
}

static void apply_note(ledger *lg, const st_event *ev, const evr_op *pl)
{
	const char *text = pl->text;
	if (!text)
		return;
	size_t p, i;
	if (ev->item) {
		if (resolve_item(lg, ev, pl->hash, &p, &i) == 0) {
			lg_item *it = ledger_item(lg, p, i);
			add_note(&it->notes, &it->n_notes, ev->ts, ev->operator_name, text);
			return;
		}
		/* The item is gone: keep the note, at the general level. */
	} else if (ev->phase && ledger_find_phase(lg, ev->phase, &p) == 0) {
		add_note(&lg->phases[p].notes, &lg->phases[p].n_notes, ev->ts, ev->operator_name, text);
		return;
	}
	add_note(&lg->general_notes, &lg->n_general_notes, ev->ts, ev->operator_name, text);
}

/* A command run for an item: when it first ran (the downtime clock's
 * implicit start).  An item not found, or whose text changed, is passed over
 * quietly: a command is not a tick and flags nothing. */
static void apply_command_start(ledger *lg, const st_event *ev)
{
	size_t p, i;
	if (!ev->item || ledger_find_item(lg, ev->item, &p, &i) < 0)
		return;
	evr_command_start cs;
	evr_command_start_read(ev->payload, &cs);
	if (!cs.item_hash || strcmp(lg->rb->phases[p].items[i].hash, cs.item_hash) == 0) {
		lg_run *r = &ledger_item(lg, p, i)->last_run;
		*r = (lg_run){.start_id = ev->id, .started_at = ev->ts, .duration_s = -1};
	}
	if (!cs.rollback && (!cs.item_hash || strcmp(lg->rb->phases[p].items[i].hash, cs.item_hash) == 0)) {
		lg_item *it = ledger_item(lg, p, i);
		if (it->first_run_at == 0)
			it->first_run_at = ev->ts;
	}
	evr_command_start_free(&cs);
}

/* The end of a run (command_end) or its loss (command_unknown, pgcutover
 * died while it ran): closes the item's last run when it is the run that
 * started; an end of an older run changes nothing. */
static void apply_command_end(ledger *lg, const st_event *ev, bool unknown)
{
	size_t p, i;
	if (!ev->item || ledger_find_item(lg, ev->item, &p, &i) < 0)
		return;
	lg_run *r = &ledger_item(lg, p, i)->last_run;
	if (r->start_id == 0 || r->start_id != evp_command_closes(ev->payload))
		return;
	r->ended_at = ev->ts;
	if (unknown) {
		snprintf(r->status, sizeof r->status, "unknown");
		return;
	}
	evr_command_end ce;
	evr_command_end_read(ev->payload, &ce);
	snprintf(r->status, sizeof r->status, "%s", ce.status ? ce.status : "unknown");
	r->has_exit = ce.has_exit;
	r->exit_code = ce.exit_code;
	r->duration_s = ce.has_duration ? ce.duration_s : -1;
	evr_command_end_free(&ce);
}

const char *lg_run_state(const lg_run *r)
{
	if (!r || r->start_id == 0)
		return NULL;
	if (r->ended_at == 0)
		return "running";
	return strcmp(r->status, "ok") == 0 ? "ok" : "failed";
}

int ledger_running(const ledger *lg, size_t *phase_idx, size_t *item_idx)
{
	const lg_run *best = NULL;
	for (size_t p = 0; p < lg->rb->n_phases; p++)
		for (size_t i = 0; i < lg->rb->phases[p].n_items; i++) {
			const lg_run *r = &lg->items[lg->phase_offset[p] + i].last_run;
			if (r->start_id && r->ended_at == 0 && (!best || r->start_id > best->start_id)) {
				best = r;
				*phase_idx = p;
				*item_idx = i;
			}
		}
	return best ? 0 : -1;
}

/* A rolled-back phase is reopened: its ticks stay in the log (and in each
 * item's notes) but no longer count, and it reads "rolled back" until work
 * on it starts again. */
static void reopen_phase(ledger *lg, size_t p, const st_event *ev)
{
	lg_phase *lp = &lg->phases[p];
	for (size_t i = 0; i < lg->rb->phases[p].n_items; i++) {
		lg_item *it = ledger_item(lg, p, i);
		if (it->done && it->done_by) {
			char *text = xasprintf("rolled back (was ticked by %s)", it->done_by);
			add_note(&it->notes, &it->n_notes, ev->ts, ev->operator_name, text);
			free(text);
		}
		set_done(lg, p, i, false);
		free(it->done_by);
		it->done_by = NULL;
		it->done_at = 0;
		it->first_run_at = 0;
	}
	lp->started_at = 0;
	lp->completed_at = 0;
	lp->has_forced = false;
	lp->rolled_back_at = ev->ts;
	set_rollback_failed(lp, NULL);
}

void ledger_apply(ledger *lg, const st_event *ev)
{
	lg->last_event_id = ev->id;
	lg->last_event_ts = ev->ts;
	const char *k = ev->kind;
	bool tick = strcmp(k, EV_TICK) == 0, untick = strcmp(k, EV_UNTICK) == 0;
	bool note = strcmp(k, EV_NOTE) == 0, complete = strcmp(k, EV_PHASE_COMPLETE) == 0;
	bool override = strcmp(k, EV_PHASE_OVERRIDE) == 0, counts = strcmp(k, EV_COUNTS) == 0;
	bool rolled_back = strcmp(k, EV_PHASE_ROLLED_BACK) == 0;
	bool dt_start = strcmp(k, EV_DOWNTIME_START) == 0, dt_end = strcmp(k, EV_DOWNTIME_END) == 0;
	bool duty = strcmp(k, EV_DUTY_DONE) == 0;
	bool started = strcmp(k, "command_start") == 0;   /* EV_COMMAND_START, action.h */
	size_t wp, wi;
	if ((tick || untick || duty || started) && ev->item && ledger_find_item(lg, ev->item, &wp, &wi) == 0) {
		lg->work_phase = wp;
		lg->work_item = wi;
		free(lg->work_by);
		lg->work_by = ev->operator_name ? xstrdup(ev->operator_name) : NULL;
		lg->work_event_id = ev->id;
	}
	if (started) {
		apply_command_start(lg, ev);
		return;
	}
	if (strcmp(k, "command_end") == 0 || strcmp(k, "command_unknown") == 0) {
		apply_command_end(lg, ev, strcmp(k, "command_unknown") == 0);
		return;
	}
	if (strcmp(k, EV_PHASE_ROLLBACK_FAILED) == 0) {
		apply_rollback_failed(lg, ev);
		return;
	}
	if (strcmp(k, EV_VERIFY) == 0) {
		free(lg->last_verify);
		lg->last_verify = xstrdup(ev->payload ? ev->payload : "{}");
		lg->last_verify_ts = ev->ts;
		return;
	}
	if (!(tick || untick || note || complete || override || counts || rolled_back || dt_start || dt_end || duty))
		return;
	if (dt_start) {
		/* a start while one runs is kept as the original start */
		if (lg->downtime_start == 0 || lg->downtime_end > 0) {
			lg->downtime_start = ev->ts;
			lg->downtime_end = 0;
			evr_op pl;
			evr_op_read(ev->payload, &pl);
			free(lg->downtime_start_reason);
			lg->downtime_start_reason = pl.reason;
			pl.reason = NULL;
			evr_op_free(&pl);
		}
		return;
	}
	if (dt_end) {
		/* an explicit downtime ends once; one started by the first tick
		 * (no start event) ends at the latest end event */
		if (lg->downtime_start == 0 || lg->downtime_end == 0)
			lg->downtime_end = ev->ts;
		return;
	}
	if (duty) {
		evr_op pl;
		evr_op_read(ev->payload, &pl);
		size_t p, i;
		if (resolve_item(lg, ev, pl.hash, &p, &i) == 0) {
			lg_item *it = ledger_item(lg, p, i);
			it->duty_done_at = ev->ts;
			free(it->duty_done_by);
			it->duty_done_by = xstrdup(ev->operator_name ? ev->operator_name : "?");
			it->duty_count++;
		}
		evr_op_free(&pl);
		return;
	}
	if (counts) {
		free(lg->last_counts);
		lg->last_counts = xstrdup(ev->payload ? ev->payload : "{}");
		lg->last_counts_ts = ev->ts;
		return;
	}

	evr_op pl;
	evr_op_read(ev->payload, &pl);
	size_t p;
	if (tick || untick)
		apply_tick(lg, ev, &pl, tick);
	else if (note)
		apply_note(lg, ev, &pl);
	else if (complete && ledger_find_phase(lg, ev->phase, &p) == 0)
		lg->phases[p].completed_at = ev->ts;
	else if (rolled_back && ledger_find_phase(lg, ev->phase, &p) == 0)
		reopen_phase(lg, p, ev);
	else if (override && ledger_find_phase(lg, ev->phase, &p) == 0) {
		/* {"status": S, "reason": R} forces a status ("auto" or any unknown
		 * name hands it back to the counts); without "status" it is an
		 * override of the phase order only (the console completing a phase
		 * while an earlier one is open): the reason is kept, nothing forced. */
		const char *status = pl.status;
		int s = lg_phase_status_parse(status);
		set_rollback_failed(&lg->phases[p], NULL);
		if (status) {
			lg->phases[p].has_forced = s >= 0;
			lg->phases[p].forced = s >= 0 ? (lg_phase_status)s : LG_PHASE_NOT_STARTED;
		}
		if (s == LG_PHASE_IN_PROGRESS && lg->phases[p].started_at == 0)
			lg->phases[p].started_at = ev->ts;
		if (s == LG_PHASE_DONE && lg->phases[p].completed_at == 0)
			lg->phases[p].completed_at = ev->ts;
		const char *reason = pl.reason;
		if (reason && *reason) {
			char *text = s >= 0 ? xasprintf("phase marked %s: %s", lg_phase_status_name((lg_phase_status)s), reason)
			                    : xasprintf("override: %s", reason);
			add_note(&lg->phases[p].notes, &lg->phases[p].n_notes, ev->ts, ev->operator_name, text);
			free(text);
		}
	}
	evr_op_free(&pl);
	update_statuses(lg);
}

static int catch_up_one(const st_event *ev, void *ud)
{
	ledger_apply(ud, ev);
	return 0;
}

int ledger_catch_up(ledger *lg, state *st, pgc_err *e)
{
	if (state_foreach(st, lg->last_event_id, catch_up_one, lg, e) < 0)
		return -1;
	return 0;
}

typedef struct fold_until {
	ledger *lg;
	int64_t last;
} fold_until;

static int fold_until_one(const st_event *ev, void *ud)
{
	fold_until *f = ud;
	if (ev->id > f->last)
		return 1;
	ledger_apply(f->lg, ev);
	return 0;
}

int ledger_build_at(const runbook *rb, state *st, int64_t event_id, ledger **out, pgc_err *e)
{
	*out = NULL;
	ledger *lg = ledger_new(rb);
	int64_t snap_id = 0;
	char *snap = NULL;
	if (state_snapshot_read(st, event_id, rb->sha256, &snap_id, &snap, e) < 0) {
		ledger_free(lg);
		return -1;
	}
	if (snap && ledger_restore_snapshot(lg, snap, snap_id, NULL) < 0) {
		ledger_free(lg);   /* a cache that does not fit: fold from the start */
		lg = ledger_new(rb);
	}
	free(snap);
	fold_until f = {lg, event_id};
	if (state_foreach(st, lg->last_event_id, fold_until_one, &f, e) < 0) {
		ledger_free(lg);
		return -1;
	}
	update_statuses(lg);
	*out = lg;
	return 0;
}

/* ---- snapshots ---- */

static cJSON *notes_json(const lg_note *notes, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateArray();
		cJSON_AddItemToArray(o, cJSON_CreateNumber(notes[i].ts));
		cJSON_AddItemToArray(o, cJSON_CreateString(notes[i].operator_name));
		cJSON_AddItemToArray(o, cJSON_CreateString(notes[i].text));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static void notes_restore(const cJSON *a, lg_note **notes, size_t *n)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, a) {
		const cJSON *ts = cJSON_GetArrayItem(o, 0), *op = cJSON_GetArrayItem(o, 1),
		            *text = cJSON_GetArrayItem(o, 2);
		if (cJSON_IsNumber(ts) && cJSON_IsString(op) && cJSON_IsString(text))
			add_note(notes, n, ts->valuedouble, op->valuestring, text->valuestring);
	}
}

char *ledger_snapshot_json(const ledger *lg)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "format", LG_SNAPSHOT_FORMAT);
	cJSON_AddNumberToObject(root, "event_id", (double)lg->last_event_id);
	cJSON_AddNumberToObject(root, "last_ts", lg->last_event_ts);
	cJSON_AddNumberToObject(root, "unmatched", lg->n_unmatched);
	cJSON *items = cJSON_AddArrayToObject(root, "items");
	size_t n = lg->phase_offset[lg->rb->n_phases];
	for (size_t i = 0; i < n; i++) {
		const lg_item *it = &lg->items[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "d", it->done);
		if (it->done_at)
			cJSON_AddNumberToObject(o, "t", it->done_at);
		if (it->done_by)
			cJSON_AddStringToObject(o, "b", it->done_by);
		if (it->changed_in_runbook)
			cJSON_AddBoolToObject(o, "c", true);
		if (it->n_notes)
			cJSON_AddItemToObject(o, "n", notes_json(it->notes, it->n_notes));
		if (it->first_run_at)
			cJSON_AddNumberToObject(o, "r", it->first_run_at);
		if (it->last_run.start_id) {
			const lg_run *r = &it->last_run;
			cJSON *lr = cJSON_AddObjectToObject(o, "lr");
			cJSON_AddNumberToObject(lr, "id", (double)r->start_id);
			cJSON_AddNumberToObject(lr, "s", r->started_at);
			cJSON_AddNumberToObject(lr, "e", r->ended_at);
			cJSON_AddStringToObject(lr, "st", r->status);
			if (r->has_exit)
				cJSON_AddNumberToObject(lr, "x", r->exit_code);
			cJSON_AddNumberToObject(lr, "d", r->duration_s);
		}
		if (it->duty_count) {
			cJSON_AddNumberToObject(o, "dt", it->duty_done_at);
			cJSON_AddStringToObject(o, "db", it->duty_done_by ? it->duty_done_by : "?");
			cJSON_AddNumberToObject(o, "dn", it->duty_count);
		}
		cJSON_AddItemToArray(items, o);
	}
	cJSON *phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t p = 0; p < lg->rb->n_phases; p++) {
		const lg_phase *lp = &lg->phases[p];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "s", lp->started_at);
		cJSON_AddNumberToObject(o, "c", lp->completed_at);
		cJSON_AddNumberToObject(o, "rb", lp->rolled_back_at);
		if (lp->has_forced)
			cJSON_AddStringToObject(o, "f", lg_phase_status_name(lp->forced));
		if (lp->rollback_failed)
			cJSON_AddStringToObject(o, "rf", lp->rollback_failed);
		if (lp->n_notes)
			cJSON_AddItemToObject(o, "n", notes_json(lp->notes, lp->n_notes));
		cJSON_AddItemToArray(phases, o);
	}
	cJSON_AddItemToObject(root, "notes", notes_json(lg->general_notes, lg->n_general_notes));
	if (lg->downtime_start > 0) {
		cJSON_AddNumberToObject(root, "dt_start", lg->downtime_start);
		cJSON_AddNumberToObject(root, "dt_end", lg->downtime_end);
		if (lg->downtime_start_reason)
			cJSON_AddStringToObject(root, "dt_reason", lg->downtime_start_reason);
	}
	if (lg->last_counts) {
		cJSON_AddStringToObject(root, "counts", lg->last_counts);
		cJSON_AddNumberToObject(root, "counts_ts", lg->last_counts_ts);
	}
	if (lg->last_verify) {
		cJSON_AddStringToObject(root, "verify", lg->last_verify);
		cJSON_AddNumberToObject(root, "verify_ts", lg->last_verify_ts);
	}
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

static double num_or(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void restore_run(const cJSON *lr, lg_run *r)
{
	memset(r, 0, sizeof *r);
	r->duration_s = -1;
	if (!cJSON_IsObject(lr))
		return;
	r->start_id = (int64_t)num_or(lr, "id", 0);
	r->started_at = num_or(lr, "s", 0);
	r->ended_at = num_or(lr, "e", 0);
	const char *st = json_str(lr, "st");
	snprintf(r->status, sizeof r->status, "%s", st ? st : "");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(lr, "x");
	r->has_exit = cJSON_IsNumber(x);
	r->exit_code = r->has_exit ? x->valueint : 0;
	r->duration_s = num_or(lr, "d", -1);
}

int ledger_restore_snapshot(ledger *lg, const char *json, int64_t event_id, pgc_err *e)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
	const cJSON *phases = cJSON_GetObjectItemCaseSensitive(root, "phases");
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
	size_t n = lg->phase_offset[lg->rb->n_phases];
	if (!root || !cJSON_IsNumber(fmt) || fmt->valueint != LG_SNAPSHOT_FORMAT ||
	    (size_t)cJSON_GetArraySize(items) != n ||
	    (size_t)cJSON_GetArraySize(phases) != lg->rb->n_phases) {
		cJSON_Delete(root);
		return pgc_fail(e, PGC_EXIT_DATAERR, "snapshot at event %lld does not fit this runbook",
		                (long long)event_id);
	}
	for (size_t p = 0; p < lg->rb->n_phases; p++) {
		const cJSON *o = cJSON_GetArrayItem(phases, (int)p);
		for (size_t i = 0; i < lg->rb->phases[p].n_items; i++) {
			const cJSON *io = cJSON_GetArrayItem(items, (int)(lg->phase_offset[p] + i));
			lg_item *it = ledger_item(lg, p, i);
			set_done(lg, p, i, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(io, "d")));
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(io, "t");
			it->done_at = cJSON_IsNumber(t) ? t->valuedouble : 0;
			const char *by = json_str(io, "b");
			free(it->done_by);
			it->done_by = by ? xstrdup(by) : NULL;
			it->changed_in_runbook = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(io, "c"));
			notes_restore(cJSON_GetObjectItemCaseSensitive(io, "n"), &it->notes, &it->n_notes);
			const cJSON *dt = cJSON_GetObjectItemCaseSensitive(io, "dt"), *dn = cJSON_GetObjectItemCaseSensitive(io, "dn");
			it->duty_done_at = cJSON_IsNumber(dt) ? dt->valuedouble : 0;
			it->duty_count = cJSON_IsNumber(dn) ? dn->valueint : 0;
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(io, "r");
			it->first_run_at = cJSON_IsNumber(r) ? r->valuedouble : 0;
			restore_run(cJSON_GetObjectItemCaseSensitive(io, "lr"), &it->last_run);
			const char *db = json_str(io, "db");
			free(it->duty_done_by);
			it->duty_done_by = db ? xstrdup(db) : NULL;
		}
		lg_phase *lp = &lg->phases[p];
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "s"), *c = cJSON_GetObjectItemCaseSensitive(o, "c");
		lp->started_at = cJSON_IsNumber(s) ? s->valuedouble : 0;
		lp->completed_at = cJSON_IsNumber(c) ? c->valuedouble : 0;
		const cJSON *rbk = cJSON_GetObjectItemCaseSensitive(o, "rb");
		lp->rolled_back_at = cJSON_IsNumber(rbk) ? rbk->valuedouble : 0;
		int f = lg_phase_status_parse(json_str(o, "f"));
		lp->has_forced = f >= 0;
		lp->forced = f >= 0 ? (lg_phase_status)f : LG_PHASE_NOT_STARTED;
		const char *rf = json_str(o, "rf");
		set_rollback_failed(lp, rf ? xstrdup(rf) : NULL);
		notes_restore(cJSON_GetObjectItemCaseSensitive(o, "n"), &lp->notes, &lp->n_notes);
	}
	notes_restore(cJSON_GetObjectItemCaseSensitive(root, "notes"), &lg->general_notes, &lg->n_general_notes);
	const cJSON *ds = cJSON_GetObjectItemCaseSensitive(root, "dt_start"), *de = cJSON_GetObjectItemCaseSensitive(root, "dt_end");
	lg->downtime_start = cJSON_IsNumber(ds) ? ds->valuedouble : 0;
	lg->downtime_end = cJSON_IsNumber(de) ? de->valuedouble : 0;
	free(lg->downtime_start_reason);
	const char *dr = json_str(root, "dt_reason");
	lg->downtime_start_reason = dr ? xstrdup(dr) : NULL;
	const char *counts = json_str(root, "counts");
	if (counts) {
		free(lg->last_counts);
		lg->last_counts = xstrdup(counts);
		const cJSON *cts = cJSON_GetObjectItemCaseSensitive(root, "counts_ts");
		lg->last_counts_ts = cJSON_IsNumber(cts) ? cts->valuedouble : 0;
	}
	const char *verify = json_str(root, "verify");
	if (verify) {
		free(lg->last_verify);
		lg->last_verify = xstrdup(verify);
		const cJSON *vts = cJSON_GetObjectItemCaseSensitive(root, "verify_ts");
		lg->last_verify_ts = cJSON_IsNumber(vts) ? vts->valuedouble : 0;
	}
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "unmatched");
	lg->n_unmatched = cJSON_IsNumber(u) ? u->valueint : 0;
	const cJSON *lts = cJSON_GetObjectItemCaseSensitive(root, "last_ts");
	lg->last_event_ts = cJSON_IsNumber(lts) ? lts->valuedouble : 0;
	lg->last_event_id = event_id;
	cJSON_Delete(root);
	update_statuses(lg);
	return 0;
}

/* ---- runbook diff ---- */

lg_item_ref *ledger_runbook_refs(const runbook *rb, size_t *n)
{
	size_t total = 0;
	for (size_t p = 0; p < rb->n_phases; p++)
		total += rb->phases[p].n_items;
	lg_item_ref *refs = xcalloc(total ? total : 1, sizeof *refs);
	size_t k = 0;
	for (size_t p = 0; p < rb->n_phases; p++)
		for (size_t i = 0; i < rb->phases[p].n_items; i++, k++) {
			snprintf(refs[k].id, sizeof refs[k].id, "%s", rb->phases[p].items[i].id);
			snprintf(refs[k].hash, sizeof refs[k].hash, "%s", rb->phases[p].items[i].hash);
		}
	*n = total;
	return refs;
}

typedef struct ref_idx {
	const lg_item_ref *ref;
	size_t pos;
} ref_idx;

static int by_id(const void *a, const void *b)
{
	return strcmp(((const ref_idx *)a)->ref->id, ((const ref_idx *)b)->ref->id);
}

static int by_hash_pos(const void *a, const void *b)
{
	const ref_idx *x = a, *y = b;
	int c = strcmp(x->ref->hash, y->ref->hash);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

void ledger_runbook_diff(const lg_item_ref *old_refs, size_t n_old,
                         const lg_item_ref *new_refs, size_t n_new, lg_runbook_diff *out)
{
	memset(out, 0, sizeof *out);
	bool *old_used = xcalloc(n_old + 1, sizeof *old_used);
	bool *new_used = xcalloc(n_new + 1, sizeof *new_used);
	ref_idx *nx = xcalloc(n_new + 1, sizeof *nx);
	for (size_t i = 0; i < n_new; i++)
		nx[i] = (ref_idx){&new_refs[i], i};

	/* Unchanged: same id, same text. */
	qsort(nx, n_new, sizeof *nx, by_id);
	for (size_t i = 0; i < n_old; i++) {
		ref_idx key = {&old_refs[i], 0};
		ref_idx *hit = bsearch(&key, nx, n_new, sizeof *nx, by_id);
		if (hit && strcmp(hit->ref->hash, old_refs[i].hash) == 0 && !new_used[hit->pos]) {
			old_used[i] = true;
			new_used[hit->pos] = true;
		}
	}
	/* Moved: the same text at another id, matched in runbook order. */
	qsort(nx, n_new, sizeof *nx, by_hash_pos);
	out->moved = xcalloc(n_old + 1, sizeof *out->moved);
	for (size_t i = 0; i < n_old; i++) {
		if (old_used[i])
			continue;
		size_t lo = 0, hi = n_new;
		while (lo < hi) {   /* first entry with hash >= old hash */
			size_t mid = (lo + hi) / 2;
			if (strcmp(nx[mid].ref->hash, old_refs[i].hash) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t j = lo; j < n_new && strcmp(nx[j].ref->hash, old_refs[i].hash) == 0; j++) {
			if (new_used[nx[j].pos])
				continue;
			new_used[nx[j].pos] = old_used[i] = true;
			lg_moved *m = &out->moved[out->n_moved++];
			snprintf(m->from, sizeof m->from, "%s", old_refs[i].id);
			snprintf(m->to, sizeof m->to, "%s", nx[j].ref->id);
			snprintf(m->hash, sizeof m->hash, "%s", old_refs[i].hash);
			break;
		}
	}
	out->vanished = xcalloc(n_old + 1, sizeof *out->vanished);
	for (size_t i = 0; i < n_old; i++)
		if (!old_used[i])
			out->vanished[out->n_vanished++] = old_refs[i];
	out->appeared = xcalloc(n_new + 1, sizeof *out->appeared);
	for (size_t i = 0; i < n_new; i++)
		if (!new_used[i])
			out->appeared[out->n_appeared++] = new_refs[i];
	free(old_used);
	free(new_used);
	free(nx);
}

bool ledger_diff_empty(const lg_runbook_diff *d)
{
	return d->n_moved == 0 && d->n_appeared == 0 && d->n_vanished == 0;
}

static cJSON *ref_pairs(const lg_item_ref *refs, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *pair = cJSON_CreateArray();
		cJSON_AddItemToArray(pair, cJSON_CreateString(refs[i].id));
		cJSON_AddItemToArray(pair, cJSON_CreateString(refs[i].hash));
		cJSON_AddItemToArray(a, pair);
	}
	return a;
}

char *ledger_diff_json(const lg_runbook_diff *d)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *moved = cJSON_AddArrayToObject(root, "moved");
	for (size_t i = 0; i < d->n_moved; i++) {
		cJSON *m = cJSON_CreateArray();
		cJSON_AddItemToArray(m, cJSON_CreateString(d->moved[i].from));
		cJSON_AddItemToArray(m, cJSON_CreateString(d->moved[i].to));
		cJSON_AddItemToArray(m, cJSON_CreateString(d->moved[i].hash));
		cJSON_AddItemToArray(moved, m);
	}
	cJSON_AddItemToObject(root, "appeared", ref_pairs(d->appeared, d->n_appeared));
	cJSON_AddItemToObject(root, "vanished", ref_pairs(d->vanished, d->n_vanished));
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

static void summary_ids(strbuf *b, const char *label, const lg_item_ref *refs, size_t n)
{
	if (!n)
		return;
	sb_printf(b, "  %zu %s:", n, label);
	for (size_t i = 0; i < n && i < LG_SUMMARY_MAX_IDS; i++)
		sb_printf(b, " %s", refs[i].id);
	if (n > LG_SUMMARY_MAX_IDS)
		sb_printf(b, " (+%zu more)", n - LG_SUMMARY_MAX_IDS);
	sb_putc(b, '\n');
}

char *ledger_diff_summary(const lg_runbook_diff *d)
{
	strbuf b;
	sb_init(&b);
	if (d->n_moved) {
		sb_printf(&b, "  %zu moved:", d->n_moved);
		for (size_t i = 0; i < d->n_moved && i < LG_SUMMARY_MAX_IDS; i++)
			sb_printf(&b, " %s->%s", d->moved[i].from, d->moved[i].to);
		if (d->n_moved > LG_SUMMARY_MAX_IDS)
			sb_printf(&b, " (+%zu more)", d->n_moved - LG_SUMMARY_MAX_IDS);
		sb_putc(&b, '\n');
	}
	summary_ids(&b, "appeared (new or edited text)", d->appeared, d->n_appeared);
	summary_ids(&b, "vanished (removed or edited text)", d->vanished, d->n_vanished);
	if (d->n_moved || d->n_vanished)
		sb_puts(&b, "  ticks follow an item's text; ticks on vanished items stay in the log "
		            "but are no longer shown\n");
	return sb_steal(&b);
}

void ledger_diff_free(lg_runbook_diff *d)
{
	free(d->moved);
	free(d->appeared);
	free(d->vanished);
	memset(d, 0, sizeof *d);
}
