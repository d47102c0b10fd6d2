/*
 * fkorder.h -- a database's tables in dependency order, read from its
 * foreign keys: every table after the tables it references (a topological
 * sort, file-stable by schema and name), and the reference cycles that no
 * order can satisfy, named.  `pgcutover init --source CONNINFO` uses it for
 * the config's "tables"; see fkorder.c.
 */
#ifndef PGCUTOVER_FKORDER_H
#define PGCUTOVER_FKORDER_H

#include <stddef.h>
#include "pgcutover/util.h"

typedef struct fk_order {
	char **tables; size_t n_tables;   /* "orders", "audit.events": referenced first;
	                                   * tables in or behind a cycle last */
	char **cycles; size_t n_cycles;   /* "a -> b -> a" */
} fk_order;

/* The graph as two lists: names[i] (n), and edges child -> parent given as
 * index pairs (n_edges).  Pure: the unit tests call it without a server. */
void fk_sort(char *const *names, size_t n, const size_t (*edges)[2], size_t n_edges, fk_order *out);

/* Connects to conninfo (one short synchronous session: init is a one-shot
 * command), reads the user tables and their foreign keys and sorts them.
 * Returns 0, or -1 with e (PGC_EXIT_UNAVAILABLE when it cannot connect). */
int fk_order_read(const char *conninfo, fk_order *out, pgc_err *e);
void fk_order_free(fk_order *o);

#endif
