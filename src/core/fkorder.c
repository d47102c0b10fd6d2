/*
 * fkorder.c -- a database's tables in dependency order from its foreign
 * keys (see fkorder.h): Kahn's topological sort with a min-heap, so that
 * among the tables ready at a time the first by schema and name comes
 * first and the order is the same on every run; what is left (tables in a
 * reference cycle, or behind one) goes last, and each cycle is named by
 * walking references from a table left until one repeats.  Called by
 * init.c for `pgcutover init --source`.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "pgcutover/fkorder.h"
#include "pgcutover/pqtext.h"

/* ---- a min-heap of table indexes ---- */

typedef struct heap {
	size_t *v, n;
} heap;

static void heap_push(heap *h, size_t x)
{
	size_t i = h->n++;
	h->v[i] = x;
	while (i > 0 && h->v[(i - 1) / 2] > h->v[i]) {
		size_t p = (i - 1) / 2, t = h->v[p];
		h->v[p] = h->v[i];
		h->v[i] = t;
		i = p;
	}
}

static size_t heap_pop(heap *h)
{
	size_t top = h->v[0];
	h->v[0] = h->v[--h->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->v[l] < h->v[m])
			m = l;
		if (r < h->n && h->v[r] < h->v[m])
			m = r;
		if (m == i)
			break;
		size_t t = h->v[m];
		h->v[m] = h->v[i];
		h->v[i] = t;
		i = m;
	}
	return top;
}

/* Edges grouped by one end (compressed rows): the other ends of node i are
 * to[start[i] .. start[i + 1]). */
typedef struct csr {
	size_t *start, *to;
} csr;

static csr csr_build(size_t n, const size_t (*edges)[2], size_t n_edges, int from)
{
	csr g = {xcalloc(n + 1, sizeof(size_t)), xcalloc(n_edges ? n_edges : 1, sizeof(size_t))};
	for (size_t k = 0; k < n_edges; k++)
		g.start[edges[k][from] + 1]++;
	for (size_t i = 0; i < n; i++)
		g.start[i + 1] += g.start[i];
	size_t *fill = xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t k = 0; k < n_edges; k++) {
		size_t a = edges[k][from];
		g.to[g.start[a] + fill[a]++] = edges[k][1 - from];
	}
	free(fill);
	return g;
}

static void csr_free(csr *g)
{
	free(g->start);
	free(g->to);
}

void fk_sort(char *const *names, size_t n, const size_t (*edges)[2], size_t n_edges, fk_order *out)
{
	*out = (fk_order){0};
	out->tables = xcalloc(n ? n : 1, sizeof(char *));
	csr parents = csr_build(n, edges, n_edges, 0);    /* child -> the tables it references */
	csr children = csr_build(n, edges, n_edges, 1);   /* parent -> the tables referencing it */
	size_t *indeg = xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t k = 0; k < n_edges; k++)
		indeg[edges[k][0]]++;
	heap h = {xcalloc(n ? n : 1, sizeof(size_t)), 0};
	for (size_t i = 0; i < n; i++)
		if (!indeg[i])
			heap_push(&h, i);
	bool *placed = xcalloc(n ? n : 1, sizeof(bool));
	while (h.n) {
		size_t i = heap_pop(&h);
		placed[i] = true;
		out->tables[out->n_tables++] = xstrdup(names[i]);
		for (size_t k = children.start[i]; k < children.start[i + 1]; k++)
			if (--indeg[children.to[k]] == 0)
				heap_push(&h, children.to[k]);
	}
	/* what is left references a table left: walk those references from
	 * each one until a table repeats, and name the loop once */
	size_t *seen_at = xcalloc(n ? n : 1, sizeof(size_t));   /* walk number + 1, 0 never */
	bool *in_cycle = xcalloc(n ? n : 1, sizeof(bool));
	size_t *path = xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t s = 0, walk = 1; s < n; s++) {
		if (placed[s] || seen_at[s])
			continue;
		size_t len = 0, v = s;
		while (!seen_at[v]) {
			seen_at[v] = walk;
			path[len++] = v;
			size_t next = v;
			for (size_t k = parents.start[v]; k < parents.start[v + 1] && next == v; k++)
				if (!placed[parents.to[k]])
					next = parents.to[k];
			v = next;
		}
		if (seen_at[v] == walk && !in_cycle[v]) {   /* a new loop, from v */
			size_t from = 0;
			while (path[from] != v)
				from++;
			strbuf sb;
			sb_init(&sb);
			for (size_t k = from; k < len; k++) {
				sb_printf(&sb, "%s -> ", names[path[k]]);
				in_cycle[path[k]] = true;
			}
			sb_puts(&sb, names[v]);
			out->cycles = xrealloc(out->cycles, (out->n_cycles + 1) * sizeof(char *));
			out->cycles[out->n_cycles++] = sb_steal(&sb);
		}
		walk++;
	}
	for (size_t i = 0; i < n; i++)
		if (!placed[i])
			out->tables[out->n_tables++] = xstrdup(names[i]);
	free(path);
	free(in_cycle);
	free(seen_at);
	free(placed);
	free(h.v);
	free(indeg);
	csr_free(&parents);
	csr_free(&children);
}

void fk_order_free(fk_order *o)
{
	for (size_t i = 0; i < o->n_tables; i++)
		free(o->tables[i]);
	free(o->tables);
	for (size_t i = 0; i < o->n_cycles; i++)
		free(o->cycles[i]);
	free(o->cycles);
	*o = (fk_order){0};
}

/* ---- reading a server ---- */

static const char FK_TABLES_SQL[] =
	"SELECT c.oid, CASE WHEN n.nspname = 'public' THEN c.relname::text"
	" ELSE n.nspname || '.' || c.relname END"
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
	" AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"
	" ORDER BY n.nspname <> 'public', n.nspname, c.relname";
static const char FK_EDGES_SQL[] =
	"SELECT DISTINCT conrelid, confrelid FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid";

typedef struct oid_idx {
	unsigned long oid;
	size_t idx;
} oid_idx;

static int cmp_oid(const void *a, const void *b)
{
	unsigned long x = ((const oid_idx *)a)->oid, y = ((const oid_idx *)b)->oid;
	return x < y ? -1 : x > y;
}

static bool find_oid(const oid_idx *v, size_t n, const char *text, size_t *idx)
{
	oid_idx key = {strtoul(text, NULL, 10), 0};
	const oid_idx *hit = bsearch(&key, v, n, sizeof *v, cmp_oid);
	if (hit)
		*idx = hit->idx;
	return hit != NULL;
}

static int query_fail(PGconn *c, PGresult *res, const char *what, pgc_err *e)
{
	char *m = pq_oneline(PQresultErrorMessage(res));
	pgc_fail(e, PGC_EXIT_UNAVAILABLE, "reading %s: %s", what, m);
	free(m);
	PQclear(res);
	PQfinish(c);
	return -1;
}

int fk_order_read(const char *conninfo, fk_order *out, pgc_err *e)
{
	*out = (fk_order){0};
	PGconn *c = PQconnectdb(conninfo ? conninfo : "");
	if (PQstatus(c) != CONNECTION_OK) {
		char *m = pq_oneline(PQerrorMessage(c));
		pgc_fail(e, PGC_EXIT_UNAVAILABLE, "cannot connect to the source: %s", m);
		free(m);
		PQfinish(c);
		return -1;
	}
	PGresult *tr = PQexec(c, FK_TABLES_SQL);
	if (PQresultStatus(tr) != PGRES_TUPLES_OK)
		return query_fail(c, tr, "the source's tables", e);
	PGresult *er = PQexec(c, FK_EDGES_SQL);
	if (PQresultStatus(er) != PGRES_TUPLES_OK) {
		PQclear(tr);
		return query_fail(c, er, "the source's foreign keys", e);
	}
	size_t n = (size_t)PQntuples(tr), m = (size_t)PQntuples(er);
	char **names = xcalloc(n ? n : 1, sizeof(char *));
	oid_idx *oids = xcalloc(n ? n : 1, sizeof *oids);
	for (size_t i = 0; i < n; i++) {
		oids[i] = (oid_idx){strtoul(PQgetvalue(tr, (int)i, 0), NULL, 10), i};
		names[i] = PQgetvalue(tr, (int)i, 1);
	}
	qsort(oids, n, sizeof *oids, cmp_oid);
	size_t (*edges)[2] = xcalloc(m ? m : 1, sizeof *edges);
	size_t n_edges = 0;
	for (size_t k = 0; k < m; k++) {
		size_t child, parent;
		/* a key to a table outside the list (a partition, a catalog) orders nothing */
		if (find_oid(oids, n, PQgetvalue(er, (int)k, 0), &child) &&
		    find_oid(oids, n, PQgetvalue(er, (int)k, 1), &parent)) {
			edges[n_edges][0] = child;
			edges[n_edges][1] = parent;
			n_edges++;
		}
	}
	fk_sort(names, n, (const size_t (*)[2])edges, n_edges, out);
	free(edges);
	free(oids);
	free(names);
	PQclear(er);
	PQclear(tr);
	PQfinish(c);
	return 0;
}
