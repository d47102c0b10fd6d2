/*
 * common.c -- what every command in src/cli shares: cli_load() resolves the
 * config (-c, else ./pgcutover.json), the runbook (-r, else the config's),
 * the state file (-s, else the config's, else the default under
 * $XDG_STATE_HOME) and folds the ledger, the same way for every command and
 * for the console.  A read-write load also records the runbook in the log
 * when it is new or changed, with the items that moved, appeared or vanished.
 * Error printing for commands (cli_report, cli_usage_error) lives here too.
 */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pgcutover/cli.h"
#include "pgcutover/notify.h"
#include "pgcutover/ops.h"
#include "cli_action.h"

int cli_report(const pgc_err *e)
{
	fprintf(stderr, "pgcutover: %s\n", e->msg[0] ? e->msg : "unknown error");
	return e->code ? e->code : PGC_EXIT_SOFTWARE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pgcutover %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'pgcutover help %s'.\n", cmd);
	return PGC_EXIT_USAGE;
}

void cli_print_runbook_change(const cli_ctx *ctx)
{
	if (ctx->runbook_change_report && !(ctx->opts && ctx->opts->quiet))
		fputs(ctx->runbook_change_report, stderr);
}

/* --operator (or $PGCUTOVER_OPERATOR), else the config's "operator", else
 * the login name.  main.c fills in the login name itself, so a name that
 * is pgc_login_name()'s own buffer means none was given. */
static const char *cli_operator(const cli_ctx *ctx)
{
	const char *given = ctx->opts->operator_name;
	if (given && given != pgc_login_name())
		return given;
	if (ctx->cfg && ctx->cfg->operator_name && *ctx->cfg->operator_name)
		return ctx->cfg->operator_name;
	return pgc_login_name();
}

static bool file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* Records the runbook in the log when it is new or changed (ops.c); the
 * change, for the operator, is printed by cli_print_runbook_change(). */
static int sync_runbook(cli_ctx *ctx, bool record, pgc_err *e)
{
	char *report = NULL;
	int rc = ops_runbook_sync(ctx->st, ctx->rb, record, &report, e);
	if (report) {
		ctx->runbook_change_report = xasprintf("pgcutover: %s", report);
		free(report);
	}
	return rc;
}

/* Builds the ledger, starting from the newest snapshot for this runbook
 * when there is one, and leaves a new snapshot behind when a read-write
 * load folded many events. */
static int build_ledger(cli_ctx *ctx, bool rw, pgc_err *e)
{
	ctx->lg = ledger_new(ctx->rb);
	if (!ctx->st)
		return 0;
	int64_t snap_id = 0;
	char *snap = NULL;
	if (state_snapshot_read(ctx->st, INT64_MAX, ctx->rb->sha256, &snap_id, &snap, e) < 0)
		return -1;
	if (snap && ledger_restore_snapshot(ctx->lg, snap, snap_id, NULL) < 0) {
		/* A cache that does not fit: fold from the start instead. */
		ledger_free(ctx->lg);
		ctx->lg = ledger_new(ctx->rb);
		snap_id = 0;
	}
	free(snap);
	if (ledger_catch_up(ctx->lg, ctx->st, e) < 0)
		return -1;
	if (rw && ctx->lg->last_event_id - snap_id >= CLI_SNAPSHOT_EVERY) {
		char *json = ledger_snapshot_json(ctx->lg);
		/* Best effort: the snapshot only saves time. */
		state_snapshot_write(ctx->st, ctx->lg->last_event_id, ctx->rb->sha256, json, NULL);
		free(json);
	}
	return 0;
}

int cli_load(cli_ctx *ctx, cli_opts *o, int need)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->opts = o;
	ctx->notify_after = -1;
	pgc_err e = {0};
	bool want_state = need & (CLI_STATE_RO | CLI_STATE_RW);
	bool want_runbook = (need & CLI_NEED_RUNBOOK) || (need & CLI_STATE_RW);

	/* Config: -c must exist; the default is used when present. */
	const char *cfg_path = o->config_path ? o->config_path : CFG_DEFAULT_NAME;
	if (o->config_path || (need & CLI_NEED_CONFIG) || file_exists(cfg_path)) {
		if (!o->config_path && !file_exists(cfg_path)) {
			fprintf(stderr, "pgcutover: %s: no such file: give -c FILE, or write one with "
			        "`pgcutover init RUNBOOK`\n", cfg_path);
			return PGC_EXIT_NOINPUT;
		}
		if (config_load(cfg_path, &ctx->cfg, &e) < 0)
			goto fail;
	}

	/* Runbook: -r wins over the config.  A read-only state user (log) needs
	 * it only to find the default state path. */
	if (want_state && !o->state_path && !(ctx->cfg && ctx->cfg->state))
		want_runbook = true;
	if (want_runbook) {
		const char *rb_path = o->runbook_path ? o->runbook_path : ctx->cfg ? ctx->cfg->runbook : NULL;
		if (!rb_path) {
			fprintf(stderr, "pgcutover: no runbook: give -r RUNBOOK, or a config with \"runbook\" "
			        "(-c FILE, default ./%s)\n", CFG_DEFAULT_NAME);
			cli_unload(ctx);
			return PGC_EXIT_USAGE;
		}
		rb_options opt = {0};
		if (ctx->cfg) {
			opt.flags = (const char *const *)ctx->cfg->flags;
			opt.n_flags = ctx->cfg->n_flags;
		}
		if (runbook_load(rb_path, &opt, &ctx->rb, &e) < 0)
			goto fail;
	}

	/* State: -s, else the config's, else the default for the runbook. */
	if (want_state) {
		if (o->state_path)
			ctx->state_path = xstrdup(o->state_path);
		else if (ctx->cfg && ctx->cfg->state)
			ctx->state_path = xstrdup(ctx->cfg->state);
		else if (!(ctx->state_path = config_default_state_path(ctx->rb->path, &e)))
			goto fail;
		if (need & CLI_STATE_RW) {
			int group = ctx->cfg && ctx->cfg->state_group_readable ? STATE_OPEN_GROUP_READ : 0;
			if (state_open(ctx->state_path, STATE_OPEN_CREATE | group, &ctx->st, &e) < 0)
				goto fail;
			state_set_actor(ctx->st, cli_operator(ctx), pgc_host_name());
			/* the console notifies from its own loop; headless writers at exit */
			if (!(need & CLI_DRIVER))
				ctx->notify_after = state_last_id(ctx->st);
			/* One driver at a time: before anything is written (see lease.h). */
			if (!(need & CLI_NO_LEASE) &&
			    lease_acquire(ctx->st, cli_operator(ctx), pgc_host_name(), (int)getpid(),
			                  o->command ? o->command : "pgcutover",
			                  (o->take_over ? LEASE_TAKE_OVER : 0) |
			                  ((need & CLI_DRIVER) ? LEASE_AUDIT | LEASE_HEARTBEATS : 0),
			                  &ctx->lease, &e) < 0)
				goto fail;
			if (sync_runbook(ctx, true, &e) < 0)
				goto fail;
			/* Only the lease holder may say a command's end is unknown: without
			 * the lease another process may still be running it. */
			if (ctx->lease)
				cli_recover_unknown(ctx);
		} else if (file_exists(ctx->state_path)) {
			if (state_open(ctx->state_path, STATE_OPEN_READONLY, &ctx->st, &e) < 0)
				goto fail;
			if (ctx->rb && sync_runbook(ctx, false, &e) < 0)
				goto fail;
		}
		if (ctx->rb && build_ledger(ctx, (need & CLI_STATE_RW) != 0, &e) < 0)
			goto fail;
	} else if (ctx->rb) {
		ctx->lg = ledger_new(ctx->rb);
	}
	return 0;
fail:
	cli_unload(ctx);
	return cli_report(&e);
}

/* Headless writers: sends the notifications for the events this process
 * appended, waiting at most NOTIFY_FLUSH_MS; failures only warn. */
static void cli_notify(cli_ctx *ctx)
{
	if (ctx->notify_after < 0 || !ctx->st || !ctx->cfg || state_last_id(ctx->st) <= ctx->notify_after)
		return;
	const char *why = NULL;
	if (!notify_url(ctx->cfg, &why)) {
		if (why && !ctx->opts->quiet)
			fprintf(stderr, "pgcutover: notify: %s (%s); nothing sent\n", why, ctx->cfg->notify_url_env);
		return;
	}
	loop *lp = loop_new();
	notifier *n = notify_new(ctx->cfg, lp);
	pgc_err e = {0};
	int64_t after = ctx->notify_after;
	if (notify_scan(n, ctx->cfg, ctx->rb, ctx->st, &after, (int)getpid(), &e) < 0)
		fprintf(stderr, "pgcutover: notify: %s\n", e.msg);
	size_t left = notify_flush(n, NOTIFY_FLUSH_MS);
	if ((left || notify_failed(n)) && !ctx->opts->quiet)
		fprintf(stderr, "pgcutover: notify: %zu message%s not delivered%s%s\n", left + (size_t)notify_failed(n),
		        left + (size_t)notify_failed(n) == 1 ? "" : "s", notify_last_error(n)[0] ? ": " : "",
		        notify_last_error(n));
	notify_free(n);
	loop_free(lp);
}

void cli_unload(cli_ctx *ctx)
{
	cli_notify(ctx);
	ledger_free(ctx->lg);
	lease_release(ctx->lease);
	state_close(ctx->st);
	if (ctx->rb)
		runbook_free(ctx->rb);
	if (ctx->cfg)
		config_free(ctx->cfg);
	free(ctx->runbook_change_report);
	free(ctx->unknown_report);
	free(ctx->state_path);
	cli_opts *o = ctx->opts;
	memset(ctx, 0, sizeof *ctx);
	ctx->opts = o;
	ctx->notify_after = -1;
}

int cli_parse_int(const char *cmd, const char *opt, const char *v, int min, int max, int *out)
{
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;
	if (!v || *v == '\0' || *end != '\0' || n < min || n > max) {
		cli_usage_error(cmd, "%s needs a number from %d to %d", opt, min, max);
		return -1;
	}
	*out = (int)n;
	return 0;
}

state *cli_open_state_existing(cli_ctx *ctx, const char *what)
{
	const char *path = ctx->opts->state_path ? ctx->opts->state_path : ctx->cfg->state;
	char *owned = NULL;
	if (!path && ctx->cfg->runbook) {
		pgc_err e = {0};
		owned = config_default_state_path(ctx->cfg->runbook, &e);
		path = owned;
	}
	state *st = NULL;
	if (path && access(path, F_OK) == 0) {
		pgc_err e = {0};
		if (state_open(path, 0, &st, &e) == 0)
			state_set_actor(st, ctx->opts->operator_name, pgc_host_name());
		else if (!ctx->opts->quiet)
			fprintf(stderr, "pgcutover: %s not recorded: %s\n", what, e.msg);
	}
	free(owned);
	return st;
}
