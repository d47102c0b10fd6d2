/*
 * svc_verify.c -- the console's row-level verify (svc.h): one vfy_session
 * (verify.h) at a time on the console's loop, started by V, cancelled by
 * Esc, recorded in the state like `pgcutover verify` when the console
 * drives.  The verify screen (src/ui/ui_verify.c) reads the session's
 * model and the generation that changes with every step; nothing here
 * draws or prints.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "pgcutover/svc.h"

struct svc_verify {
	const config *cfg;
	state *st;            /* NULL: record nothing (a monitor) */
	loop *lp;
	vfy_session *vs;
	unsigned gen;
};

svc_verify *svc_verify_new(const config *cfg, state *st)
{
	svc_verify *sv = xcalloc(1, sizeof *sv);
	sv->cfg = cfg;
	sv->st = st;
	return sv;
}

static void sv_changed(vfy_session *vs, bool done, void *ud)
{
	(void)vs;
	(void)done;
	((svc_verify *)ud)->gen++;
}

int svc_verify_start(svc_verify *sv, loop *lp, char *msg, size_t n)
{
	if (sv->vs && !vfy_done(sv->vs)) {
		snprintf(msg, n, "verify is running (Esc cancels it)");
		return 0;
	}
	vfy_session_free(sv->vs);
	sv->lp = lp;
	pgc_err e = {0};
	sv->vs = vfy_session_new(sv->cfg, lp, NULL, &e);
	if (!sv->vs) {
		snprintf(msg, n, "%s", e.msg);
		return -1;
	}
	vfy_set_state(sv->vs, sv->st);
	vfy_set_listener(sv->vs, sv_changed, sv);
	sv->gen++;
	if (vfy_start(sv->vs, &e) != 0) {
		snprintf(msg, n, "%s", e.msg);
		return -1;
	}
	snprintf(msg, n, "verifying %zu table%s row by row", vfy_n_tables(sv->vs),
	         vfy_n_tables(sv->vs) == 1 ? "" : "s");
	return 0;
}

bool svc_verify_cancel(svc_verify *sv)
{
	if (!sv || !sv->vs || vfy_done(sv->vs))
		return false;
	vfy_cancel(sv->vs);
	sv->gen++;
	return true;
}

const vfy_session *svc_verify_session(const svc_verify *sv, unsigned *gen)
{
	if (gen)
		*gen = sv ? sv->gen : 0;
	return sv ? sv->vs : NULL;
}

void svc_verify_stop(svc_verify *sv)
{
	if (!sv)
		return;
	/* the session's connections and cancel children live on the loop */
	vfy_session_free(sv->vs);
	sv->vs = NULL;
}

void svc_verify_free(svc_verify *sv)
{
	if (!sv)
		return;
	vfy_session_free(sv->vs);
	free(sv);
}
