/*
 * cmd_go.c -- `pgcutover go [--json]`: the go/no-go board for the switch
 * (goboard.h).  Takes fresh exact counts (recorded), checks sequences and
 * schema now, reads freeze, sync and health from the log, marks evidence
 * from before the freeze stale, prints the board and records it (go_board),
 * which the gate on the switch item reads when it is ticked or run.
 *
 * Exit status: 0 go, 1 no-go (a red input), 69 a side unreachable.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pgcutover/cli.h"
#include "pgcutover/evpay.h"
#include "pgcutover/goboard.h"

static void go_print_text(const go_board *b)
{
	printf("GO/NO-GO for the switch%s%s\n", b->switch_item[0] ? " " : " (no switch item found)", b->switch_item);
	for (int i = 0; i < GO_N_INPUTS; i++) {
		const go_input *in = &b->in[i];
		char when[32] = "-";
		if (in->measured_at > 0) {
			time_t t = (time_t)in->measured_at;
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(when, sizeof when, "%H:%M:%S", &tm);
		}
		printf("  %-5s %-10s %-9s %s%s\n", in->status == GO_GREEN ? "ok" : in->status == GO_RED ? "NO" : "-",
		       go_input_key((go_input_id)i), when, in->stale ? "STALE (before the freeze) " : "", in->value);
	}
	printf(b->go ? "GO\n" : "NO-GO\n");
}

int cmd_go(const cli_args *a, cli_opts *o)
{
	cli_ctx ctx = {0};
	int rc = cli_load(&ctx, o, cli_need(a, false));
	if (rc != 0)
		return rc;
	go_board b;
	pgc_err e = {0};
	int mrc = go_board_measure(&b, ctx.cfg, ctx.rb, ctx.st, &e);
	pgc_err se = {0};
	if (go_board_record(ctx.st, &b, NULL, &se) != 0)
		cli_report(&se);
	if (o->json) {
		char *payload = evp_go_board_write(&b);
		printf("%s\n", payload);
		free(payload);
	} else
		go_print_text(&b);
	if (mrc < 0 && e.code != PGC_EXIT_DIFFERENT)
		rc = cli_report(&e);
	else
		rc = b.go ? PGC_EXIT_OK : PGC_EXIT_DIFFERENT;
	cli_unload(&ctx);
	return rc;
}
