/*
 * pqtext.c -- libpq messages and server names as single safe lines (see
 * pqtext.h).  Called by compare_pg.c and schema.c.
 */
#include "config.h"
#include <stdlib.h>
#include "pgcutover/pqtext.h"
#include "pgcutover/util.h"

char *pq_oneline(const char *msg)
{
	strbuf sb;
	sb_init(&sb);
	bool space = false;
	for (const char *p = msg ? msg : ""; *p; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
			space = sb.len > 0;
			continue;
		}
		if (space)
			sb_putc(&sb, ' ');
		space = false;
		sb_putc(&sb, *p);
	}
	char *raw = sb_steal(&sb);
	char *s = pgc_sanitize(raw);
	free(raw);
	return s;
}

char *pq_server(PGconn *c)
{
	const char *host = PQhost(c), *port = PQport(c), *db = PQdb(c);
	return xasprintf("host=%s port=%s dbname=%s", host && *host ? host : "(default)",
	                 port && *port ? port : "(default)", db && *db ? db : "(default)");
}
