/*
 * cmd_lease.c -- `pgcutover lease [--json]`: who drives this state (the
 * lease in the state file, see lease.h), since when, how fresh the
 * heartbeat is; read-only, so it runs beside the driver or on a monitor
 * host.  `pgcutover lease hold SECONDS` takes the lease like the console
 * does (audited, heartbeating) and holds it, e.g. to keep other writers out
 * during maintenance; the tests use it as a second driver.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "pgcutover/cli.h"

#define LEASE_HOLD_TICK_NS 200000000L   /* 0.2 s between checks while holding */
#define NS_PER_S 1000000000.0
#define LEASE_CMD_TIME_MAX 40

static volatile sig_atomic_t lease_stop;

static void lease_on_signal(int sig)
{
	(void)sig;
	lease_stop = 1;
}

static int lease_hold(const cli_args *a, cli_opts *o, const char *secs_text)
{
	char *end = NULL;
	double secs = strtod(secs_text, &end);
	if (!end || *end || secs <= 0)
		return cli_usage_error("lease", "hold needs a number of seconds, got '%s'", secs_text);
	struct sigaction sa = {0};
	sa.sa_handler = lease_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	printf("holding %s\n", ctx.state_path);
	fflush(stdout);
	double until = pgc_now() + secs;
	pgc_err e = {0};
	while (!lease_stop && pgc_now() < until) {
		struct timespec ts = {0, LEASE_HOLD_TICK_NS};
		nanosleep(&ts, NULL);
		if (lease_heartbeat(ctx.lease, pgc_now(), &e) < 0) {
			rc = cli_report(&e);
			break;
		}
	}
	cli_unload(&ctx);
	return rc;
}

static cJSON *json_time(double t)
{
	if (t <= 0)
		return cJSON_CreateNull();
	char buf[LEASE_CMD_TIME_MAX];
	pgc_iso8601(t, buf, sizeof buf);
	return cJSON_CreateString(buf);
}

int cmd_lease(const cli_args *a, cli_opts *o)
{
	if (a->argc > 0) {
		if (strcmp(a->argv[0], "hold") != 0)
			return cli_usage_error("lease", "unknown argument '%s'", a->argv[0]);
		if (a->argc != 2)
			return cli_usage_error("lease", "hold SECONDS: how long to hold the lease");
		return lease_hold(a, o, a->argv[1]);
	}
	cli_ctx ctx;
	int rc = cli_load(&ctx, o, cli_need(a, true));
	if (rc != 0)
		return rc;
	pgc_err e = {0};
	lease_info li = {0};
	int have = ctx.st ? lease_read(ctx.st, &li, &e) : 0;
	if (have < 0) {
		rc = cli_report(&e);
		cli_unload(&ctx);
		return rc;
	}
	double now = pgc_now();
	lease_liveness lv = have ? lease_judge(&li, now, pgc_host_name()) : LEASE_FREE;
	if (o->json) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "state", ctx.state_path ? ctx.state_path : "");
		cJSON_AddBoolToObject(root, "held", have == 1);
		cJSON_AddStringToObject(root, "liveness", lease_liveness_name(lv));
		if (have) {
			cJSON_AddStringToObject(root, "operator", li.operator_name);
			cJSON_AddStringToObject(root, "host", li.host);
			cJSON_AddNumberToObject(root, "pid", li.pid);
			cJSON_AddStringToObject(root, "command", li.command);
			cJSON_AddItemToObject(root, "acquired_at", json_time(li.acquired_at));
			cJSON_AddItemToObject(root, "heartbeat_at", json_time(li.heartbeat_at));
			cJSON_AddNumberToObject(root, "heartbeat_age_s", (double)(long)(now - li.heartbeat_at));
			cJSON_AddBoolToObject(root, "heartbeats", li.heartbeats);
		}
		cJSON_AddNumberToObject(root, "stale_after_s", LEASE_STALE_SECONDS);
		char *s = cJSON_Print(root);
		puts(s);
		cJSON_free(s);
		cJSON_Delete(root);
	} else if (!have) {
		printf("%s: nobody drives it\n", ctx.state_path ? ctx.state_path : "state");
	} else {
		char *who = lease_describe(&li, now);
		printf("%s: driven by %s (%s)\n", ctx.state_path, who, lease_liveness_name(lv));
		free(who);
	}
	lease_info_free(&li);
	cli_unload(&ctx);
	return PGC_EXIT_OK;
}
