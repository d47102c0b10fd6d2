/*
 * cmd_schema.c -- `pgcutover schema [--json]`: schema parity between source
 * and target (tables, columns, indexes, constraints, functions, triggers,
 * sequences: counts side by side and every difference) and sequence parity
 * on the target (each serial/identity sequence must be ahead of max(column),
 * or the first INSERT after cutover fails).  Core queries in schema.c.
 *
 * Exit status: 0 equal and every sequence ahead, 1 a difference or a
 * sequence behind, 69 a side unreachable (the message names the server).
 * A Supabase REST source has no catalog to read: then only the target's
 * sequences are checked, and the output says so.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"
#include "pgcutover/schema.h"

typedef struct schema_result {
	bool have_source;            /* source catalog read (PostgreSQL source) */
	sch_snapshot src, dst;
	sch_diff *diffs;
	size_t n_diffs;
	sch_seq_check *seqs;
	size_t n_seqs;
	size_t seqs_bad;             /* behind or not checkable */
	char **schemas;
} schema_result;

static void schema_json_detail(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void schema_print_json(const schema_result *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddBoolToObject(root, "equal", r->have_source && r->n_diffs == 0);
	cJSON_AddBoolToObject(root, "sequences_ok", r->seqs_bad == 0);
	cJSON_AddBoolToObject(root, "ok", (!r->have_source || r->n_diffs == 0) && r->seqs_bad == 0);
	cJSON *sa = cJSON_AddArrayToObject(root, "schemas");
	for (char **p = r->schemas; p && *p; p++)
		cJSON_AddItemToArray(sa, cJSON_CreateString(*p));
	const sch_snapshot *snaps[2] = {&r->src, &r->dst};
	const char *const sides[2] = {"source", "target"};
	for (int w = 0; w < 2; w++) {
		if (w == 0 && !r->have_source) {
			cJSON_AddNullToObject(root, sides[w]);
			continue;
		}
		cJSON *so = cJSON_AddObjectToObject(root, sides[w]);
		for (int k = 0; k < SCH_N_KINDS; k++)
			cJSON_AddNumberToObject(so, sch_kind_name((sch_kind)k), (double)snaps[w]->n[k]);
	}
	cJSON *da = cJSON_AddArrayToObject(root, "differences");
	for (size_t i = 0; i < r->n_diffs; i++) {
		const sch_diff *d = &r->diffs[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", sch_kind_name(d->kind));
		cJSON_AddStringToObject(o, "name", d->name);
		schema_json_detail(o, "source", d->source_detail);
		schema_json_detail(o, "target", d->target_detail);
		cJSON_AddItemToArray(da, o);
	}
	cJSON *qa = cJSON_AddArrayToObject(root, "sequences");
	for (size_t i = 0; i < r->n_seqs; i++) {
		const sch_seq_check *s = &r->seqs[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "table", s->table);
		cJSON_AddStringToObject(o, "column", s->column);
		cJSON_AddStringToObject(o, "sequence", s->sequence);
		if (s->error) {
			cJSON_AddNullToObject(o, "last_value");
			cJSON_AddNullToObject(o, "is_called");
			cJSON_AddNullToObject(o, "max");
		} else {
			cJSON_AddNumberToObject(o, "last_value", (double)s->last_value);
			cJSON_AddBoolToObject(o, "is_called", s->is_called);
			if (s->has_max)
				cJSON_AddNumberToObject(o, "max", (double)s->max);
			else
				cJSON_AddNullToObject(o, "max");
		}
		cJSON_AddBoolToObject(o, "ok", s->ok && !s->error);
		schema_json_detail(o, "error", s->error);
		cJSON_AddItemToArray(qa, o);
	}
	char *txt = cJSON_PrintUnformatted(root);
	puts(txt);
	cJSON_free(txt);
	cJSON_Delete(root);
}

static void schema_print_text(const schema_result *r)
{
	if (r->have_source) {
		printf("%-12s %8s %8s\n", "OBJECTS", "SOURCE", "TARGET");
		for (int k = 0; k < SCH_N_KINDS; k++)
			printf("%-12s %8zu %8zu%s\n", sch_kind_name((sch_kind)k), r->src.n[k], r->dst.n[k],
			       r->src.n[k] != r->dst.n[k] ? "   differs" : "");
		if (r->n_diffs > 0)
			printf("\ndifferences (%zu):\n", r->n_diffs);
		for (size_t i = 0; i < r->n_diffs; i++) {
			char *line = sch_diff_line(&r->diffs[i]);
			printf("%s\n", line);
			free(line);
		}
	} else {
		printf("source is a Supabase REST endpoint: schema not compared, target sequences only\n");
	}
	if (r->n_seqs > 0)
		printf("\nsequences on the target (%zu):\n", r->n_seqs);
	for (size_t i = 0; i < r->n_seqs; i++) {
		const sch_seq_check *s = &r->seqs[i];
		char *line = sch_seq_line(s);
		printf("%s\n", line);
		free(line);
		if (s->error)
			continue;
		char *fix = s->ok ? NULL : sch_seq_fix_sql(s);
		if (fix)
			printf("    the next INSERT will fail; fix on the target with:\n    %s\n", fix);
		free(fix);
	}
	printf("\n");
	if (r->have_source)
		printf("schema: %s", r->n_diffs == 0 ? "equal" : "DIFFERENT");
	else
		printf("schema: not compared");
	if (r->n_diffs > 0)
		printf(" (%zu difference%s)", r->n_diffs, r->n_diffs == 1 ? "" : "s");
	if (r->seqs_bad > 0)
		printf("; %zu SEQUENCE%s BEHIND OR UNCHECKED\n", r->seqs_bad, r->seqs_bad == 1 ? "" : "S");
	else
		printf("; sequences ok (%zu)\n", r->n_seqs);
}

int cmd_schema(const cli_args *a, cli_opts *o)
{
	cli_ctx ctx = {0};
	int rc = cli_load(&ctx, o, cli_need(a, true));
	if (rc != 0)
		return rc;
	schema_result r = {0};
	pgc_err e = {0};
	PGconn *src = NULL, *dst = NULL;
	r.schemas = sch_schemas_of(ctx.cfg);
	r.have_source = ctx.cfg->source.kind == CFG_EP_POSTGRES;
	if (r.have_source && !(src = sch_connect(ctx.cfg, &ctx.cfg->source, "source", &e))) {
		rc = cli_report(&e);
		goto done;
	}
	if (!(dst = sch_connect(ctx.cfg, &ctx.cfg->target, "target", &e))) {
		rc = cli_report(&e);
		goto done;
	}
	if (r.have_source) {
		if (sch_fetch(src, r.schemas, &r.src, "source", &e) != 0 ||
		    sch_fetch(dst, r.schemas, &r.dst, "target", &e) != 0) {
			rc = cli_report(&e);
			goto done;
		}
		r.n_diffs = sch_compare(&r.src, &r.dst, &r.diffs);
	}
	if (sch_check_sequences(dst, r.schemas, &r.seqs, &r.n_seqs, &e) != 0) {
		rc = cli_report(&e);
		goto done;
	}
	for (size_t i = 0; i < r.n_seqs; i++)
		if (!r.seqs[i].ok || r.seqs[i].error)
			r.seqs_bad++;
	if (o->json)
		schema_print_json(&r);
	else
		schema_print_text(&r);
	fflush(stdout);
	rc = (r.n_diffs == 0 && r.seqs_bad == 0) ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
	/* A check that failed is not a difference: its error decides (a failing
	 * server over a timeout). */
	for (size_t i = 0; i < r.n_seqs; i++)
		if (r.seqs[i].error && rc != PGC_EXIT_UNAVAILABLE)
			rc = r.seqs[i].error_code ? r.seqs[i].error_code : PGC_EXIT_UNAVAILABLE;
done:
	if (src)
		PQfinish(src);
	if (dst)
		PQfinish(dst);
	sch_snapshot_clear(&r.src);
	sch_snapshot_clear(&r.dst);
	sch_diffs_free(r.diffs, r.n_diffs);
	sch_seq_checks_free(r.seqs, r.n_seqs);
	sch_strv_free(r.schemas);
	cli_unload(&ctx);
	return rc;
}
