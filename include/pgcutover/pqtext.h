/*
 * pqtext.h -- text from libpq made fit for one line of a screen or a log:
 * server messages flattened and sanitised, and a server named without its
 * password.  Shared by the comparison driver (compare_pg.c) and the schema
 * queries (schema.c).
 */
#ifndef PGCUTOVER_PQTEXT_H
#define PGCUTOVER_PQTEXT_H

#include <libpq-fe.h>

/* One line, single spaces, control characters neutralised: libpq messages
 * end in newlines, indent hints with tabs and write "ERROR:  text".
 * Returns a new string ("" for an empty message). */
char *pq_oneline(const char *msg);

/* "host=H port=P dbname=D" of a connection, never its password. */
char *pq_server(PGconn *c);

#endif
