/*
 * cmd_tick.c -- the headless writers of progress: `tick ITEM [--note TEXT]
 * [--override REASON]`, `untick ITEM --reason TEXT` and `note [ITEM] TEXT`.
 * The ops are ops_tick/ops_untick/ops_note (ops.c), the same the console
 * calls; this file parses arguments and turns the outcome into output and an
 * exit code.  An item whose sub-items are not all done is not ticked (exit
 * 64, naming them) unless --override gives the reason.  Ticking the last
 * open item of a phase also records
 * phase_complete in the same transaction; when that needs a reason the
 * console would ask for (an earlier phase open, a counts gate not met)
 * nothing is recorded and the command exits 64 unless --override gives it.
 */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/action.h"
#include "pgcutover/ops.h"
#include "cli_action.h"

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

/* The outcome on stdout: the message, and the phase when the op completed
 * it; with --json one object (the "outcome" member is ops_result_name()).
 * gate_blocked: why a phase whose items would all be done is not recorded
 * complete (its counts gate), or NULL. */
static void print_result_gate(const cli_ctx *ctx, const char *what, const tick_target *t,
                              const ops_outcome *oc, const char *gate_blocked)
{
	const lg_phase *lp = t ? &ctx->lg->phases[t->p] : NULL;
	if (ctx->opts->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "action", what);
		cJSON_AddStringToObject(o, "outcome", ops_result_name(oc->result));
		if (t) {
			cJSON_AddStringToObject(o, "item", t->item->id);
			cJSON_AddStringToObject(o, "phase", t->phase->id);
			cJSON_AddBoolToObject(o, "done", t->state->done);
			cJSON_AddNumberToObject(o, "phase_done", lp->done);
			cJSON_AddNumberToObject(o, "phase_total", lp->total);
			cJSON_AddStringToObject(o, "phase_status", lg_phase_status_name(lp->status));
			cJSON_AddBoolToObject(o, "phase_complete", oc->phase_completed);
			if (gate_blocked)
				cJSON_AddStringToObject(o, "gate_blocked", gate_blocked);
			if (oc->result == OPS_NEEDS_ORDER_OVERRIDE && oc->open_phase_idx != SIZE_MAX)
				cJSON_AddStringToObject(o, "open_phase", ctx->rb->phases[oc->open_phase_idx].id);
		}
		cJSON_AddBoolToObject(o, "changed", oc->result == OPS_DONE);
		cJSON_AddItemToObject(o, "event_id", oc->event_id ? cJSON_CreateNumber((double)oc->event_id) : cJSON_CreateNull());
		cJSON_AddStringToObject(o, "message", oc->message);
		char *s = cJSON_Print(o);
		puts(s);
		cJSON_free(s);
		cJSON_Delete(o);
		return;
	}
	char *safe = pgc_sanitize(oc->message);
	puts(safe);
	free(safe);
	if (oc->phase_completed)
		printf("phase %s complete (%d/%d)\n", t->phase->id, lp->done, lp->total);
}

/* An outcome as an exit code: what needs a reason is refused like a
 * command that needs --yes (64), as the console would ask. */
static int outcome_exit(const ops_outcome *oc)
{
	switch (oc->result) {
	case OPS_DONE: case OPS_ALREADY_DONE: return PGC_EXIT_OK;
	case OPS_NEEDS_ORDER_OVERRIDE: case OPS_BLOCKED_BY_GATE: case OPS_OPEN_CHILDREN: case OPS_NEEDS_GO:
		return CLI_NEEDS_OVERRIDE_EXIT;
	case OPS_REFUSED: return PGC_EXIT_DATAERR;
	case OPS_ERROR: return cli_report(&oc->err);
	}
	return PGC_EXIT_SOFTWARE;
}

/* Prints an outcome; returns the exit code. */
static int present(const cli_ctx *ctx, const char *what, const tick_target *t, const ops_outcome *oc)
{
	if (oc->result == OPS_ERROR)
		return outcome_exit(oc);
	bool needs = oc->result == OPS_NEEDS_ORDER_OVERRIDE || oc->result == OPS_BLOCKED_BY_GATE ||
	             oc->result == OPS_OPEN_CHILDREN || oc->result == OPS_NEEDS_GO;
	if (needs || oc->result == OPS_REFUSED) {
		char *safe = pgc_sanitize(oc->message);
		fprintf(stderr, "pgcutover %s: %s%s\n", what, safe,
		        needs ? "; nothing recorded (give --override REASON to record it anyway)" : "");
		free(safe);
		if (!ctx->opts->json)
			return outcome_exit(oc);
	}
	print_result_gate(ctx, what, t, oc, oc->gate_blocked && !oc->phase_completed ? oc->gate : NULL);
	return outcome_exit(oc);
}

static ops_ctx ops_of(const cli_ctx *ctx)
{
	return (ops_ctx){.st = ctx->st, .lg = ctx->lg, .cfg = ctx->cfg};
}

int cmd_tick(const cli_args *a, cli_opts *o)
{
	const char *id = a->argc > 0 ? a->argv[0] : NULL;
	const char *note = cli_opt(a, OPT_NOTE), *reason = cli_opt(a, OPT_OVERRIDE);
	if (!id)
		return cli_usage_error("tick", "which item? e.g. pgcutover tick 3.7");
	if (reason && !*reason)
		return cli_usage_error("tick", "--override needs a reason: the log says why");

	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	cli_print_runbook_change(&ctx);
	tick_target t;
	if (find_target(&ctx, id, &t) < 0) {
		rc = unknown_item(&ctx, "tick", id);
	} else {
		/* one reason answers every question the console asks in turn */
		ops_override ov = {.order_reason = reason, .gate_reason = reason, .children_reason = reason};
		ops_ctx oc = ops_of(&ctx);
		ops_outcome out;
		ops_tick(&oc, t.p, t.i, note, &ov, &out);
		rc = present(&ctx, "tick", &t, &out);
	}
	cli_unload(&ctx);
	return rc;
}

int cmd_untick(const cli_args *a, cli_opts *o)
{
	const char *id = a->argc > 0 ? a->argv[0] : NULL, *reason = cli_opt(a, OPT_REASON);
	if (!id)
		return cli_usage_error("untick", "which item? e.g. pgcutover untick 3.7 --reason 'counts differ'");
	if (!reason || !*reason)
		return cli_usage_error("untick", "--reason TEXT is required: the log says why a step was undone");

	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	cli_print_runbook_change(&ctx);
	tick_target t;
	if (find_target(&ctx, id, &t) < 0) {
		rc = unknown_item(&ctx, "untick", id);
	} else {
		ops_ctx oc = ops_of(&ctx);
		ops_outcome out;
		ops_untick(&oc, t.p, t.i, reason, &out);
		rc = present(&ctx, "untick", &t, &out);
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

int cmd_note(const cli_args *a, cli_opts *o)
{
	int first = 0, argc = a->argc;
	char **argv = a->argv;
	if (argc <= first)
		return cli_usage_error("note", "what should the note say? e.g. pgcutover note 3.7 'took 12 min'");

	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, false));
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
	ops_ctx oc = ops_of(&ctx);
	ops_outcome out;
	ops_note(&oc, tp ? tp->p : phase_id ? phase_idx : SIZE_MAX, tp ? tp->i : SIZE_MAX, text.buf, &out);
	rc = present(&ctx, "note", tp, &out);
	sb_free(&text);
	cli_unload(&ctx);
	return rc;
}
