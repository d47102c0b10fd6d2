/*
 * cmd_export.c -- `pgcutover export [--format jsonl|md] [-o FILE]`: the audit
 * log as JSONL (one event a line with both hashes, verifiable and replayable
 * without the state file) or a Markdown post-mortem; and
 * `pgcutover export --verify FILE.jsonl`: the `log --verify` of an export
 * (exit 0 intact, 1 tampered, naming the line and event).  Read-only on the
 * state, so it runs beside a driving console.  Core: export.c.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pgcutover/cli.h"
#include "pgcutover/export.h"
#include "pgcutover/ops.h"

/* Exports hold the operators' notes and command output: private like the
 * state file. */
#define EXPORT_FILE_MODE 0600

static int verify_file(const char *path, bool json)
{
	int64_t n = 0, bad = 0;
	char head[65] = "";
	pgc_err e = {0};
	int rc = export_verify_jsonl(path, &n, head, &bad, &e);
	if (rc < 0)
		return cli_report(&e);
	if (json) {
		chain_verdict v = {.intact = rc == 0, .events = n, .head = head, .bad_event = n + 1,
		                   .bad_line = bad, .error = e.msg};
		char *s = export_verdict_json(&v);
		puts(s);
		free(s);
	} else if (rc == 0) {
		printf("chain intact: %lld events\nhead: event %lld %s\n", (long long)n, (long long)n, head);
	} else {
		printf("TAMPERED: %s\n", e.msg);
	}
	return rc == 0 ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
}

typedef struct md_ud {
	export_md *md;
} md_ud;

static int md_one(const st_event *ev, void *ud)
{
	export_md_add(((md_ud *)ud)->md, ev);
	return 0;
}

/* The runbook the log last recorded, when its file is still there: a
 * report from `-s STATE` alone still gets phase titles and plans. */
static runbook *recorded_runbook(state *st)
{
	st_event *ev = NULL;
	runbook *rb = NULL;
	char *path = NULL, sha256[65];
	if (state_last_of_kind(st, EV_RUNBOOK_LOADED, &ev, NULL) != 1)
		return NULL;
	if (ops_read_runbook_loaded(ev->payload, &path, sha256) && runbook_load(path, NULL, &rb, NULL) < 0)
		rb = NULL;
	free(path);
	st_event_free(ev);
	return rb;
}

int cmd_export(const cli_args *a, cli_opts *o)
{
	const char *format = cli_opt(a, OPT_FORMAT) ? cli_opt(a, OPT_FORMAT) : "jsonl";
	const char *out_path = cli_opt(a, 'o'), *verify = cli_opt(a, OPT_VERIFY);
	bool md = strcmp(format, "md") == 0;
	if (verify || (md && !out_path))   /* text for a terminal, not JSONL data */
		cli_safe_output(true, false, o->json);
	if (verify)
		return verify_file(verify, o->json);
	if (!md && strcmp(format, "jsonl") != 0)
		return cli_usage_error("export", "--format is jsonl or md, not '%s'", format);

	/* The report wants the runbook for phase titles and plans; a plain
	 * `-s STATE` export does without. */
	int need = cli_need(a, true);
	if (md && (o->runbook_path || o->config_path || access(CFG_DEFAULT_NAME, R_OK) == 0))
		need |= CLI_NEED_RUNBOOK;
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, need);
	if (rc != 0)
		return rc;
	if (!ctx.st) {
		fprintf(stderr, "pgcutover: %s: no such state file\n", ctx.state_path);
		cli_unload(&ctx);
		return PGC_EXIT_NOINPUT;
	}
	/* A file is written whole or not at all (pgc_write_file_atomic): the
	 * export is built in memory first.  A device or a pipe named with -o is
	 * written to as it is. */
	FILE *out = stdout;
	char *mem = NULL;
	size_t mem_len = 0;
	struct stat osb;
	bool whole = out_path && (stat(out_path, &osb) != 0 || S_ISREG(osb.st_mode));
	if (whole) {
		out = open_memstream(&mem, &mem_len);
	} else if (out_path) {
		int fd = open(out_path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			fprintf(stderr, "pgcutover: %s: %s\n", out_path, strerror(errno));
			if (fd >= 0)
				close(fd);
			cli_unload(&ctx);
			return PGC_EXIT_CANTCREAT;
		}
	}
	if (!out) {
		fprintf(stderr, "pgcutover: %s\n", strerror(errno));
		cli_unload(&ctx);
		return PGC_EXIT_SOFTWARE;
	}
	pgc_err e = {0};
	int64_t n = 0;
	runbook *recorded = NULL;
	if (md && !ctx.rb)
		recorded = recorded_runbook(ctx.st);
	if (md) {
		md_ud u = {export_md_new(ctx.rb ? ctx.rb : recorded, ctx.state_path)};
		if (state_foreach(ctx.st, 0, md_one, &u, &e) < 0) {
			free(export_md_finish(u.md));
			rc = cli_report(&e);
		} else {
			char *text = export_md_finish(u.md);
			if (fputs(text, out) == EOF)
				rc = PGC_EXIT_IOERR;
			free(text);
		}
	} else if (export_jsonl(ctx.st, 0, out, &n, &e) < 0) {
		rc = cli_report(&e);
	}
	if (recorded)
		runbook_free(recorded);
	if (out != stdout && fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "pgcutover: %s: %s\n", out_path, strerror(errno));
		rc = PGC_EXIT_IOERR;
	}
	if (whole && rc == 0 &&
	    pgc_write_file_atomic(out_path, mem, mem_len, EXPORT_FILE_MODE, 0, &e) < 0)
		rc = cli_report(&e);
	free(mem);
	if (rc == 0 && out_path && !o->quiet && !md)
		fprintf(stderr, "exported %lld events to %s\n", (long long)n, out_path);
	cli_unload(&ctx);
	return rc;
}
