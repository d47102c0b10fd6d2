/*
 * cmd_tick.c -- the headless writers of progress: `tick ITEM [--note TEXT]`,
 * `untick ITEM --reason TEXT` and `note [ITEM] TEXT`.  Each appends events
 * through state_append() (operator, host and pid recorded by the state
 * handle) and reads the result back from the ledger, exactly as the console
 * does.  Ticking the last open item of a phase also records phase_complete,
 * in the same transaction.  Payloads hold only the item's hash and what the
 * operator typed.
 */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/action.h"
#include "pgcutover/compare.h"

#define TICK_TIME_MAX 32

typedef struct tick_target {
	size_t p, i;
	const rb_phase *phase;
	const rb_item *item;
	lg_item *state;
} tick_target;

/* Explains why an id does not name an item: exit 65. */
static int unknown_item(const cli_ctx *ctx, const char *cmd, const char *id)
{
	const runbook *rb = ctx->rb;
	const char *dot = strrchr(id, '.');
	for (size_t p = 0; dot && p < rb->n_phases; p++) {
		const rb_phase *ph = &rb->phases[p];
		if (strlen(ph->id) == (size_t)(dot - id) && strncmp(ph->id, id, (size_t)(dot - id)) == 0) {
			if (ph->n_items)
				fprintf(stderr, "pgcutover %s: no item %s in %s (phase %s has items %s to %s)\n", cmd,
				        id, rb->path, ph->id, ph->items[0].id, ph->items[ph->n_items - 1].id);
			else
				fprintf(stderr, "pgcutover %s: no item %s in %s (phase %s has no items)\n", cmd,
				        id, rb->path, ph->id);
			return PGC_EXIT_DATAERR;
		}
	}
	fprintf(stderr, "pgcutover %s: no item %s in %s; items are named PHASE.N, phases are:", cmd, id, rb->path);
	for (size_t p = 0; p < rb->n_phases; p++)
		fprintf(stderr, " %s", rb->phases[p].id);
	fputc('\n', stderr);
	return PGC_EXIT_DATAERR;
}

static int find_target(const cli_ctx *ctx, const char *id, tick_target *t)
{
	if (ledger_find_item(ctx->lg, id, &t->p, &t->i) < 0)
		return -1;
	t->phase = &ctx->rb->phases[t->p];
	t->item = &t->phase->items[t->i];
	t->state = ledger_item(ctx->lg, t->p, t->i);
	return 0;
}

static char *payload_of(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	char *out = xstrdup(s);
	cJSON_free(s);
	cJSON_Delete(o);
	return out;
}

/* Appends events in one transaction and brings the ledger up to date. */
static int append_events(cli_ctx *ctx, const char *kind, const char *phase, const char *item,
                         const char *payload, int64_t *id, pgc_err *e)
{
	char *masked = act_mask_payload(ctx->cfg, payload);
	int rc = state_append(ctx->st, kind, phase, item, masked, id, e);
	free(masked);
	if (rc < 0)
		return -1;
	return ledger_catch_up(ctx->lg, ctx->st, e);
}

/* gate_blocked: why a phase whose items are all done was not recorded
 * complete (its counts gate), or NULL. */
static void print_result_gate(const cli_ctx *ctx, const char *what, const tick_target *t, int64_t event_id,
                              bool changed, bool phase_complete, const char *message, const char *gate_blocked)
{
	const lg_phase *lp = t ? &ctx->lg->phases[t->p] : NULL;
	if (ctx->opts->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "action", what);
		if (t) {
			cJSON_AddStringToObject(o, "item", t->item->id);
			cJSON_AddStringToObject(o, "phase", t->phase->id);
			cJSON_AddBoolToObject(o, "done", t->state->done);
			cJSON_AddNumberToObject(o, "phase_done", lp->done);
			cJSON_AddNumberToObject(o, "phase_total", lp->total);
			cJSON_AddStringToObject(o, "phase_status", lg_phase_status_name(lp->status));
			cJSON_AddBoolToObject(o, "phase_complete", phase_complete);
			if (gate_blocked)
				cJSON_AddStringToObject(o, "gate_blocked", gate_blocked);
		}
		cJSON_AddBoolToObject(o, "changed", changed);
		cJSON_AddItemToObject(o, "event_id", event_id ? cJSON_CreateNumber((double)event_id) : cJSON_CreateNull());
		cJSON_AddStringToObject(o, "message", message);
		char *s = cJSON_Print(o);
		puts(s);
		cJSON_free(s);
		cJSON_Delete(o);
		return;
	}
	char *safe = pgc_sanitize(message);
	puts(safe);
	free(safe);
	if (phase_complete)
		printf("phase %s complete (%d/%d)\n", t->phase->id, lp->done, lp->total);
}

static void print_result(const cli_ctx *ctx, const char *what, const tick_target *t, int64_t event_id,
                         bool changed, bool phase_complete, const char *message)
{
	print_result_gate(ctx, what, t, event_id, changed, phase_complete, message, NULL);
}

/* "ticked 3.7 Copy data" with the item text made safe for a terminal. */
static char *item_line(const char *verb, const tick_target *t)
{
	return xasprintf("%s %s %s", verb, t->item->id, t->item->text ? t->item->text : "");
}

static const char *take_option(int argc, char **argv, int *i, const char *name, bool *bad)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name) == 0) {
		if (*i + 1 >= argc) {
			*bad = true;
			return NULL;
		}
		return argv[++*i];
	}
	return NULL;
}

/* Parses "ITEM [--OPT TEXT]" for tick and untick.  Returns -1 when it
 * handled the arguments itself (help printed: exit 0), an exit code > 0 on a
 * usage error, 0 when *id (maybe NULL) and *text are set. */
static int parse_item_args(const char *cmd, const char *opt, const char *usage,
                           int argc, char **argv, const char **id, const char **text)
{
	*id = *text = NULL;
	for (int i = 1; i < argc; i++) {
		bool bad = false;
		const char *v = take_option(argc, argv, &i, opt, &bad);
		if (bad)
			return cli_usage_error(cmd, "%s needs a text", opt);
		if (v)
			*text = v;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: %s\n", usage);
			return -1;
		} else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
		else if (*id)
			return cli_usage_error(cmd, "one item at a time (got %s and %s)", *id, argv[i]);
		else
			*id = argv[i];
	}
	return 0;
}

int cmd_tick(int argc, char **argv, cli_opts *o)
{
	const char *id, *note;
	int prc = parse_item_args("tick", "--note", "pgcutover tick ITEM [--note TEXT]", argc, argv, &id, &note);
	if (prc != 0)
		return prc < 0 ? PGC_EXIT_OK : prc;
	if (!id)
		return cli_usage_error("tick", "which item? e.g. pgcutover tick 3.7");

	cli_ctx ctx;
	int rc = cli_load(&ctx, o, CLI_WANT_CONFIG | CLI_NEED_RUNBOOK | CLI_STATE_RW);
	if (rc != 0)
		return rc;
	cli_print_runbook_change(&ctx);
	tick_target t;
	pgc_err e = {0};
	int64_t ev_id = 0;
	if (find_target(&ctx, id, &t) < 0) {
		rc = unknown_item(&ctx, "tick", id);
		goto out;
	}
	/* Decide under the write lock, after catching up: two operators
	 * ticking the same item at once record it once. */
	if (state_begin(ctx.st, &e) < 0 || ledger_catch_up(ctx.lg, ctx.st, &e) < 0) {
		state_rollback(ctx.st);
		rc = cli_report(&e);
		goto out;
	}
	if (t.state->done) {
		state_rollback(ctx.st);
		char when[TICK_TIME_MAX];
		pgc_iso8601(t.state->done_at, when, sizeof when);
		char *msg = t.state->done_by
			? xasprintf("%s is already done (ticked by %s at %s); nothing changed", id, t.state->done_by, when)
			: xasprintf("%s is already done (marked [x] in the runbook); nothing changed", id);
		if (note) {
			/* The operator's words are not thrown away. */
			cJSON *pl = cJSON_CreateObject();
			cJSON_AddStringToObject(pl, "text", note);
			cJSON_AddStringToObject(pl, "hash", t.item->hash);
			char *payload = payload_of(pl);
			if (append_events(&ctx, EV_NOTE, t.phase->id, id, payload, &ev_id, &e) < 0)
				rc = cli_report(&e);
			free(payload);
			char *m2 = xasprintf("%s; the note was recorded", msg);
			free(msg);
			msg = m2;
		}
		if (rc == 0)
			print_result(&ctx, "tick", &t, ev_id, false, false, msg);
		free(msg);
		goto out;
	}

	cJSON *pl = cJSON_CreateObject();
	cJSON_AddStringToObject(pl, "hash", t.item->hash);
	if (note)
		cJSON_AddStringToObject(pl, "note", note);
	char *payload = payload_of(pl);
	bool completes = false;
	if (append_events(&ctx, EV_TICK, t.phase->id, id, payload, &ev_id, &e) < 0)
		goto fail;
	lg_phase *lp = &ctx.lg->phases[t.p];
	char gate[256] = "";
	bool gate_blocks = false;
	if (lp->total > 0 && lp->done == lp->total && lp->completed_at == 0 &&
	    !(gate_blocks = !cmp_gate_met(ctx.cfg, t.phase->id, ctx.lg->last_counts, gate, sizeof gate))) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "done", lp->done);
		cJSON_AddNumberToObject(d, "total", lp->total);
		if (gate[0])
			cJSON_AddStringToObject(d, "gate", gate);
		char *done = payload_of(d);
		int r2 = append_events(&ctx, EV_PHASE_COMPLETE, t.phase->id, NULL, done, NULL, &e);
		free(done);
		if (r2 < 0)
			goto fail;
		completes = true;
	}
	if (state_commit(ctx.st, &e) < 0)
		goto fail;
	free(payload);
	char *msg = item_line("ticked", &t);
	print_result_gate(&ctx, "tick", &t, ev_id, true, completes, msg, gate_blocks ? gate : NULL);
	free(msg);
	/* the tick stands; the phase waits for matching counts or an
	 * operator's override reason in the console */
	if (gate_blocks && !o->quiet)
		fprintf(stderr, "pgcutover: phase %s not recorded complete: it is gated on row counts: %s "
		        "(pgcutover counts --exact; or complete it in the console with a reason)\n",
		        t.phase->id, gate);
	goto out;
fail:
	state_rollback(ctx.st);
	free(payload);
	rc = cli_report(&e);
out:
	cli_unload(&ctx);
	return rc;
}

int cmd_untick(int argc, char **argv, cli_opts *o)
{
	const char *id, *reason;
	int prc = parse_item_args("untick", "--reason", "pgcutover untick ITEM --reason TEXT", argc, argv, &id, &reason);
	if (prc != 0)
		return prc < 0 ? PGC_EXIT_OK : prc;
	if (!id)
		return cli_usage_error("untick", "which item? e.g. pgcutover untick 3.7 --reason 'counts differ'");
	if (!reason || !*reason)
		return cli_usage_error("untick", "--reason TEXT is required: the log says why a step was undone");

	cli_ctx ctx;
	int rc = cli_load(&ctx, o, CLI_WANT_CONFIG | CLI_NEED_RUNBOOK | CLI_STATE_RW);
	if (rc != 0)
		return rc;
	cli_print_runbook_change(&ctx);
	tick_target t;
	pgc_err e = {0};
	int64_t ev_id = 0;
	if (find_target(&ctx, id, &t) < 0) {
		rc = unknown_item(&ctx, "untick", id);
	} else if (state_begin(ctx.st, &e) < 0 || ledger_catch_up(ctx.lg, ctx.st, &e) < 0) {
		state_rollback(ctx.st);
		rc = cli_report(&e);
	} else if (!t.state->done) {
		state_rollback(ctx.st);
		char *msg = xasprintf("%s is not done; nothing changed", id);
		print_result(&ctx, "untick", &t, 0, false, false, msg);
		free(msg);
	} else {
		cJSON *pl = cJSON_CreateObject();
		cJSON_AddStringToObject(pl, "hash", t.item->hash);
		cJSON_AddStringToObject(pl, "reason", reason);
		char *payload = payload_of(pl);
		if (append_events(&ctx, EV_UNTICK, t.phase->id, id, payload, &ev_id, &e) < 0 ||
		    state_commit(ctx.st, &e) < 0) {
			state_rollback(ctx.st);
			rc = cli_report(&e);
		} else {
			char *msg = item_line("unticked", &t);
			print_result(&ctx, "untick", &t, ev_id, true, false, msg);
			free(msg);
		}
		free(payload);
	}
	cli_unload(&ctx);
	return rc;
}

/* An argument that looks like an item id ("3.7", "0.8.2"): digits and dots
 * with at least one dot. */
static bool looks_like_item_id(const char *s)
{
	bool dot = false;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s; s++) {
		if (*s == '.')
			dot = true;
		else if (!isdigit((unsigned char)*s))
			return false;
	}
	return dot;
}

int cmd_note(int argc, char **argv, cli_opts *o)
{
	int first = 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: pgcutover note [ITEM|PHASE] TEXT\n");
			return PGC_EXIT_OK;
		}
	if (argc > first && strcmp(argv[first], "--") == 0)
		first++;
	if (argc <= first)
		return cli_usage_error("note", "what should the note say? e.g. pgcutover note 3.7 'took 12 min'");

	cli_ctx ctx;
	int rc = cli_load(&ctx, o, CLI_WANT_CONFIG | CLI_NEED_RUNBOOK | CLI_STATE_RW);
	if (rc != 0)
		return rc;
	cli_print_runbook_change(&ctx);
	/* With two or more words, a first word naming an item or phase (or
	 * shaped like an item id) says what the note is about. */
	tick_target t, *tp = NULL;
	size_t phase_idx = 0;
	const char *phase_id = NULL;
	if (argc - first >= 2) {
		const char *w = argv[first];
		if (find_target(&ctx, w, &t) == 0) {
			tp = &t;
			phase_id = t.phase->id;
			first++;
		} else if (ledger_find_phase(ctx.lg, w, &phase_idx) == 0) {
			phase_id = ctx.rb->phases[phase_idx].id;
			first++;
		} else if (looks_like_item_id(w)) {
			rc = unknown_item(&ctx, "note", w);
			cli_unload(&ctx);
			return rc;
		}
	}
	strbuf text;
	sb_init(&text);
	for (int i = first; i < argc; i++) {
		if (i > first)
			sb_putc(&text, ' ');
		sb_puts(&text, argv[i]);
	}
	if (text.len == 0) {
		sb_free(&text);
		cli_unload(&ctx);
		return cli_usage_error("note", "the note is empty");
	}
	cJSON *pl = cJSON_CreateObject();
	cJSON_AddStringToObject(pl, "text", text.buf);
	if (tp)
		cJSON_AddStringToObject(pl, "hash", tp->item->hash);
	char *payload = payload_of(pl);
	pgc_err e = {0};
	int64_t ev_id = 0;
	if (append_events(&ctx, EV_NOTE, phase_id, tp ? tp->item->id : NULL, payload, &ev_id, &e) < 0) {
		rc = cli_report(&e);
	} else {
		char *msg = tp ? xasprintf("noted on %s", tp->item->id)
		               : phase_id ? xasprintf("noted on phase %s", phase_id) : xstrdup("noted");
		print_result(&ctx, "note", tp, ev_id, true, false, msg);
		free(msg);
	}
	free(payload);
	sb_free(&text);
	cli_unload(&ctx);
	return rc;
}
