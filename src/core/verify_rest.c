/*
 * verify_rest.c -- row-level verification with a Supabase/PostgREST source
 * (verify.h): the source's rows come as pages over HTTP and are hashed
 * here, the target's rows of the same key range come from SQL and are
 * hashed the same way, and the two pages are compared row by row.
 *
 * A REST source cannot hash inside the server, so nothing is bisected:
 * each page is a leaf.  Per table:
 *   META    the target's columns and key (SQL) and one source row
 *           (`select=*`, Range 0-0, Prefer: count=estimated) for the
 *           source's column names and the estimate that drives progress;
 *   RPAGE   `select=<col>::text,…&order=<key>.asc[&<key>=gt.<last>]` with
 *           `Range: 0-(page_rows-1)`: keyset pages, the next asked for as
 *           soon as one arrives (an `or=(…)` tree after a composite key);
 *           a page shorter than asked (a server's max-rows) goes on, an
 *           empty one ends the source;
 *   RMATCH  the target's rows of that page's key range (after the last
 *           page's last key, up to and with this page's last key; the last
 *           one open-ended), compared: missing, extra, changed with the
 *           columns that differ;
 *   RWHOLE  a table without a primary key: both sides paged by offset in
 *           the order of every column, count and sum of row hashes.
 * Every column travels as its text (`::text` on both sides), so numbers,
 * booleans and JSON are PostgreSQL's own text, not a JSON re-rendering;
 * a timestamptz is brought to UTC here, whatever the source's TimeZone.
 * The canonical row is, per common column in name order, a NULL mark or
 * the value's length and bytes, hashed with XXH3 (libxxhash); each column
 * is hashed too, to name the columns of a changed row.  Memory is a few
 * pages of rows: at most VR_MATCH_AHEAD target queries wait per table.
 */
#include "config.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <xxhash.h>
#include "pgcutover/pqtext.h"
#include "pgcutover/schema.h"
#include "verify_priv.h"

/* Rows per page when the config says none: Supabase's default max-rows. */
#define VR_DEFAULT_PAGE_ROWS 1000
/* Target range queries allowed to wait per table before the next source
 * page is asked for (bounds memory when the target is the slower side). */
#define VR_MATCH_AHEAD 4
/* A missing table on the source, told by the probe (a schema difference). */
#define VR_TOTAL_NO_TABLE (-2)
#define VR_NULL_SEED 1
/* Rows one side lacked in their page kept for the confirmation by key at
 * the end (beyond this they are reported as they are). */
#define VR_STRAYS_MAX VFY_KEYS_KEPT
/* Keys per confirmation lookup (a REST one is a URL). */
#define VR_CONFIRM_BATCH 100

/* ---- canonical text ---- */

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil) */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool digits(const char **p, int min, int max, int64_t *out)
{
	int n = 0;
	int64_t v = 0;
	while (isdigit((unsigned char)**p) && n < max) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*out = v;
	return n >= min;
}

bool vfy_canon_timestamptz(const char *in, char *out, size_t n)
{
	const char *p = in;
	int64_t y, mo, d, h, mi, s, oh = 0, om = 0, os = 0;
	if (!digits(&p, 4, 9, &y) || *p++ != '-' || !digits(&p, 2, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, 2, &d) || (*p != ' ' && *p != 'T'))
		return false;
	p++;
	if (!digits(&p, 2, 2, &h) || *p++ != ':' || !digits(&p, 2, 2, &mi) || *p++ != ':' ||
	    !digits(&p, 2, 2, &s))
		return false;
	const char *frac = "";
	size_t nfrac = 0;
	if (*p == '.') {
		frac = p;
		p++;
		while (isdigit((unsigned char)*p))
			p++;
		nfrac = (size_t)(p - frac);
		while (nfrac > 1 && frac[nfrac - 1] == '0')
			nfrac--;   /* .500 and .5 are the same instant */
		if (nfrac == 1)
			nfrac = 0;
	}
	int sign = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, 2, &oh))
			return false;
		if (*p == ':' || isdigit((unsigned char)*p)) {
			p += *p == ':';
			if (!digits(&p, 2, 2, &om))
				return false;
			if (*p == ':' || isdigit((unsigned char)*p)) {
				p += *p == ':';
				if (!digits(&p, 2, 2, &os))
					return false;
			}
		}
	} else {
		return false;
	}
	bool bc = false;
	if (strcmp(p, " BC") == 0)
		bc = true;
	else if (*p)
		return false;
	if (bc)
		y = 1 - y;   /* 1 BC is year 0 */
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	t -= sign * (oh * 3600 + om * 60 + os);
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sec = t - days * 86400;
	int64_t yy;
	int mm, dd;
	civil_from_days(days, &yy, &mm, &dd);
	int k = snprintf(out, n, "%lld-%02d-%02d %02lld:%02lld:%02lld%.*sZ", (long long)yy, mm, dd,
	                 (long long)(sec / 3600), (long long)(sec / 60 % 60), (long long)(sec % 60),
	                 (int)nfrac, frac);
	return k > 0 && (size_t)k < n;
}

/* The text compared for one value: a timestamptz in UTC, else as it is. */
static const char *canon(const vtab *tb, size_t c, const char *v, char *buf, size_t n)
{
	if (v && tb->col_ts[c] && vfy_canon_timestamptz(v, buf, n))
		return buf;
	return v;
}

/* Hashes one row whose common columns' texts are vals (NULL = SQL NULL):
 * the canonical row is, per column, 'N', or 'V', the length and the bytes. */
static void row_hash(vfy_session *vs, const vtab *tb, const char *const *vals, vrrow *r)
{
	strbuf *sb = &vs->rowbuf;
	sb->len = 0;
	r->col = xcalloc(tb->n_common ? tb->n_common : 1, sizeof *r->col);
	char buf[96];
	for (size_t c = 0; c < tb->n_common; c++) {
		const char *v = canon(tb, c, vals[c], buf, sizeof buf);
		if (!v) {
			sb_putc(sb, 'N');
			r->col[c] = XXH3_64bits_withSeed("", 0, VR_NULL_SEED);
			continue;
		}
		uint64_t len = strlen(v);
		sb_putc(sb, 'V');
		sb_add(sb, (const char *)&len, sizeof len);
		sb_add(sb, v, (size_t)len);
		r->col[c] = XXH3_64bits(v, (size_t)len);
	}
	r->hash = XXH3_64bits(sb->buf ? sb->buf : "", sb->len);
}

static void row_key(const vtab *tb, const char *const *keys, vrrow *r)
{
	strbuf sb;
	sb_init(&sb);
	cJSON *arr = tb->n_key > 1 ? cJSON_CreateArray() : NULL;
	cJSON *one = NULL;
	for (size_t k = 0; k < tb->n_key; k++) {
		const char *v = keys[k] ? keys[k] : "";
		if (k)
			sb_putc(&sb, VFY_KEY_SEP);
		sb_puts(&sb, v);
		cJSON *x = tb->key_int[k] && *v ? cJSON_CreateRaw(v) : cJSON_CreateString(v);
		if (arr)
			cJSON_AddItemToArray(arr, x);
		else
			one = x;
	}
	r->key = sb_steal(&sb);
	char *s = cJSON_PrintUnformatted(arr ? arr : one);
	r->key_json = xstrdup(s);
	cJSON_free(s);
	cJSON_Delete(arr ? arr : one);
}

void vfy_rows_free(vrrow *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].key_json);
		free(v[i].col);
	}
	free(v);
}

int vfy_vrrow_cmp(const void *x, const void *y)
{
	return strcmp(((const vrrow *)x)->key, ((const vrrow *)y)->key);
}

/* ---- PostgREST query text ---- */

/* A column name as PostgREST reads it in select/order/filters. */
static void rest_col(strbuf *sb, const char *name)
{
	bool plain = *name != '\0';
	for (const char *p = name; *p; p++)
		plain &= isalnum((unsigned char)*p) || *p == '_';
	if (plain) {
		sb_puts(sb, name);
		return;
	}
	sb_putc(sb, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, *p);
	}
	sb_putc(sb, '"');
}

/* A value inside an or=(…) tree: double-quoted, \" and \\ escaped. */
static void rest_val(strbuf *sb, const char *v)
{
	sb_putc(sb, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, *v);
	}
	sb_putc(sb, '"');
}

static void url_part(strbuf *sb, const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	sb_puts(sb, e ? e : "");
	curl_free(e);
}

/* (k1, k2, …) op (v1, v2, …) as a PostgREST tree: k1 op1 v1, or k1 = v1 and
 * k2 op v2, …; op1 is the strict form of op ("gt" for "gt", "lt" for "lte"). */
static void rest_tuple_cmp(strbuf *sb, char *const *key, size_t n_key, const char *strict, const char *last_op,
                           char *const *v)
{
	sb_putc(sb, '(');
	for (size_t k = 0; k < n_key; k++) {
		if (k)
			sb_puts(sb, ",and(");
		for (size_t e = 0; e < k; e++) {
			rest_col(sb, key[e]);
			sb_puts(sb, ".eq.");
			rest_val(sb, v[e]);
			sb_putc(sb, ',');
		}
		rest_col(sb, key[k]);
		sb_printf(sb, ".%s.", k + 1 == n_key ? last_op : strict);
		rest_val(sb, v[k]);
		if (k)
			sb_putc(sb, ')');
	}
	sb_putc(sb, ')');
}

char *vfy_rest_page_query(char *const *cols, size_t n_cols, char *const *key, size_t n_key,
                          char *const *after, char *const *upto)
{
	strbuf q, part;
	sb_init(&q);
	sb_init(&part);
	for (size_t c = 0; c < n_cols; c++) {
		if (c)
			sb_putc(&part, ',');
		rest_col(&part, cols[c]);
		sb_puts(&part, "::text");
	}
	sb_puts(&q, "select=");
	url_part(&q, part.buf ? part.buf : "");
	sb_free(&part);
	sb_init(&part);
	for (size_t k = 0; k < n_key; k++) {
		if (k)
			sb_putc(&part, ',');
		rest_col(&part, key[k]);
		sb_puts(&part, ".asc");
	}
	if (n_key) {
		sb_puts(&q, "&order=");
		url_part(&q, part.buf);
	}
	sb_free(&part);
	for (int b = 0; b < 2; b++) {
		char *const *v = b ? upto : after;
		if (!v || n_key == 0)
			continue;
		sb_init(&part);
		if (n_key == 1) {
			/* k=gt.<after>, k=lte.<upto> */
			rest_col(&part, key[0]);
			sb_putc(&q, '&');
			url_part(&q, part.buf);
			sb_free(&part);
			sb_init(&part);
			sb_puts(&part, b ? "lte." : "gt.");
			sb_puts(&part, v[0]);
			sb_putc(&q, '=');
		} else {
			/* (k1, k2) > (a, b): k1 > a, or k1 = a and k2 > b, …;
			 * (k1, k2) <= (c, d): k1 < c, or k1 = c and k2 <= d */
			rest_tuple_cmp(&part, key, n_key, b ? "lt" : "gt", b ? "lte" : "gt", v);
			if (after && upto) {
				/* two trees: one and=(or(…),or(…)) */
				if (b == 0) {
					sb_free(&part);
					continue;
				}
				strbuf both;
				sb_init(&both);
				sb_puts(&both, "(or");
				rest_tuple_cmp(&both, key, n_key, "gt", "gt", after);
				sb_puts(&both, ",or");
				sb_puts(&both, part.buf);
				sb_putc(&both, ')');
				sb_free(&part);
				part = both;
				sb_puts(&q, "&and=");
			} else {
				sb_puts(&q, "&or=");
			}
		}
		url_part(&q, part.buf);
		sb_free(&part);
	}
	return sb_steal(&q);
}

char *vfy_rest_keys_query(char *const *cols, size_t n_cols, char *const *key, size_t n_key,
                          char *const *keys, size_t n)
{
	char *base = vfy_rest_page_query(cols, n_cols, key, n_key, NULL, NULL);
	strbuf q, part;
	sb_init(&q);
	sb_init(&part);
	sb_puts(&q, base);
	free(base);
	sb_putc(&part, '(');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(&part, ',');
		if (n_key > 1)
			sb_puts(&part, "and(");
		for (size_t k = 0; k < n_key; k++) {
			if (k)
				sb_putc(&part, ',');
			rest_col(&part, key[k]);
			sb_puts(&part, ".eq.");
			rest_val(&part, keys[i * n_key + k]);
		}
		if (n_key > 1)
			sb_putc(&part, ')');
	}
	sb_putc(&part, ')');
	sb_puts(&q, "&or=");
	url_part(&q, part.buf);
	sb_free(&part);
	return sb_steal(&q);
}

/* ---- requests ---- */

static char *side_err(vfy_session *vs, const char *msg)
{
	char *one = pq_oneline(msg ? msg : "");
	char *s = xasprintf("source (%s): %s", vs->side[0].server ? vs->side[0].server : "supabase",
	                    *one ? one : "unknown error");
	free(one);
	return s;
}

static void inflight_drop(vfy_session *vs, vtask *t)
{
	for (vtask **pp = &vs->rest_inflight; *pp; pp = &(*pp)->rest_next)
		if (*pp == t) {
			*pp = t->rest_next;
			t->rest_next = NULL;
			return;
		}
}

static void page_done(const rest_result *r, void *ud)
{
	vtask *t = ud;
	vfy_session *vs = t->vs;
	inflight_drop(vs, t);
	t->rest_id = 0;
	t->rtotal = r->total;
	if (r->outcome == REST_OK) {
		t->rj = cJSON_ParseWithLength(r->body ? r->body : "", r->body_len);
		if (!cJSON_IsArray(t->rj)) {
			cJSON_Delete(t->rj);
			t->rj = NULL;
			t->err[0] = side_err(vs, "the answer is not a JSON array of rows");
		}
	} else if (r->outcome == REST_ERR_NOT_FOUND && t->kind == VT_META) {
		t->rtotal = VR_TOTAL_NO_TABLE;
	} else {
		char *d = rest_result_describe(r);
		t->err[0] = side_err(vs, d);
		free(d);
	}
	vfy_half_done(t);
}

void vfy_rest_submit(vtask *t)
{
	vfy_session *vs = t->vs;
	pgc_err e = {0};
	int id = rest_page_start(vs->rest, vs->tabs[t->ti].pub.name, t->rest_query, t->rest_first,
	                         t->rest_n, t->rest_count, page_done, t, &e);
	if (id < 0) {
		t->err[0] = side_err(vs, e.msg);
		vfy_half_done(t);
		return;
	}
	t->rest_id = id;
	t->rest_next = vs->rest_inflight;
	vs->rest_inflight = t;
}

void vfy_rest_task_free(vtask *t)
{
	cJSON_Delete(t->rj);
	free(t->rest_query);
	vfy_rows_free(t->rows, t->n_rows);
	vfy_strv_free(t->rlo, t->vs->tabs[t->ti].n_key);
	vfy_strv_free(t->rhi, t->vs->tabs[t->ti].n_key);
}

void vfy_rest_stop(vfy_session *vs)
{
	for (size_t i = 0; i < vs->n_tabs; i++) {
		vtab *tb = &vs->tabs[i];
		if (tb->rpause_timer) {
			loop_timer_cancel(vs->lp, tb->rpause_timer);
			tb->rpause_timer = 0;
			tb->outstanding--;
		}
	}
	while (vs->rest_inflight) {
		vtask *t = vs->rest_inflight;
		vs->rest_inflight = t->rest_next;
		t->rest_next = NULL;
		if (vs->rest && t->rest_id)
			rest_cancel(vs->rest, t->rest_id);
		t->rest_id = 0;
		vfy_half_done(t);
	}
}

int vfy_rest_open(vfy_session *vs, pgc_err *e)
{
	const config *cfg = vs->cfg;
	rest_opts o;
	rest_opts_default(&o);
	if (cfg->pool_size > 0)
		o.max_parallel = cfg->pool_size;
	if (cfg->statement_timeout_ms > 0)
		o.timeout_ms = cfg->statement_timeout_ms;
	vs->rest = rest_client_new(vs->lp, &cfg->source, &o, e);
	if (!vs->rest)
		return -1;
	vs->page_rows = cfg->verify_page_rows > 0 ? cfg->verify_page_rows : VR_DEFAULT_PAGE_ROWS;
	vs->side[0].server = xstrdup(cfg->source.url);
	vs->side[0].ever_up = true;
	return 0;
}

/* ---- per table ---- */

static void submit_page(vfy_session *vs, size_t ti);
static void submit_whole(vfy_session *vs, size_t ti, int w);

void vfy_rest_begin_table(vfy_session *vs, size_t ti)
{
	vtab *tb = &vs->tabs[ti];
	vtask *t = vfy_task_new(vs, ti, VT_META);
	t->sql[1] = vfy_meta_sql(tb->qname);
	t->rest_query = xstrdup("select=*");
	t->rest_first = 0;
	t->rest_n = 1;
	t->rest_count = REST_COUNT_ESTIMATED;
	vfy_task_submit(t);
}

static void add_schema(vtab *tb, char *line)
{
	vfy_table *p = &tb->pub;
	p->schema = xrealloc(p->schema, (p->n_schema + 1) * sizeof *p->schema);
	p->schema[p->n_schema++] = line;
}

static bool name_in(const char *name, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The target's columns and the source's names are in: the common columns,
 * the key, the queries of both sides. */
static void handle_meta(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	vfy_table *p = &tb->pub;
	const PGresult *res = t->res[1];
	int n = PQntuples(res);
	if (t->rtotal == VR_TOTAL_NO_TABLE)
		add_schema(tb, xasprintf("table %s does not exist on the source", p->name));
	if (n == 0)
		add_schema(tb, xasprintf("table %s does not exist on the target", p->name));
	if (n == 0 || t->rtotal == VR_TOTAL_NO_TABLE)
		return;
	p->rows_est = t->rtotal >= 0 ? t->rtotal : -1;
	tb->cols[1] = xcalloc((size_t)n, sizeof *tb->cols[1]);
	for (int r = 0; r < n; r++) {
		vcol *c = &tb->cols[1][r];
		c->name = xstrdup(PQgetvalue(res, r, 0));
		c->typname = xstrdup(PQgetvalue(res, r, 1));
		c->type = xstrdup(PQgetvalue(res, r, 2));
		c->pkpos = atoi(PQgetvalue(res, r, 3));
		c->notnull = strcmp(PQgetvalue(res, r, 4), "t") == 0;
	}
	tb->n_cols[1] = (size_t)n;
	/* the source's names: the members of its first row (none when empty:
	 * then the target's are asked for, and a missing one fails the page) */
	char **src = NULL;
	size_t n_src = 0;
	const cJSON *row0 = cJSON_GetArrayItem(t->rj, 0);
	bool known = cJSON_IsObject(row0);
	if (known) {
		const cJSON *it;
		cJSON_ArrayForEach(it, row0) {
			src = xrealloc(src, (n_src + 1) * sizeof *src);
			src[n_src++] = xstrdup(it->string);
		}
		if (n_src > 1)
			qsort(src, n_src, sizeof *src, str_cmp);
		for (size_t i = 0; i < n_src; i++) {
			bool on_target = false;
			for (size_t j = 0; j < tb->n_cols[1]; j++)
				on_target |= strcmp(tb->cols[1][j].name, src[i]) == 0;
			if (!on_target)
				add_schema(tb, xasprintf("column %s: only on the source", src[i]));
		}
	}
	/* the source side's columns: names only (a REST answer carries no
	 * types or constraints) */
	tb->cols[0] = xcalloc(n_src + tb->n_cols[1] + 1, sizeof *tb->cols[0]);
	tb->col_names = xcalloc(tb->n_cols[1] + 1, sizeof *tb->col_names);
	tb->col_ts = xcalloc(tb->n_cols[1] + 1, sizeof *tb->col_ts);
	for (size_t j = 0; j < tb->n_cols[1]; j++) {
		const vcol *c = &tb->cols[1][j];
		if (known && !name_in(c->name, src, n_src)) {
			add_schema(tb, xasprintf("column %s: only on the target", c->name));
			continue;
		}
		vcol *s = &tb->cols[0][tb->n_cols[0]++];
		s->name = xstrdup(c->name);
		s->typname = xstrdup(c->typname);
		s->type = xstrdup(c->type);
		tb->col_ts[tb->n_common] = strcmp(c->typname, "timestamptz") == 0;
		tb->col_names[tb->n_common++] = xstrdup(c->name);
	}
	vfy_strv_free(src, n_src);
	/* the target's primary key (the source's is not readable over REST) */
	size_t nk = 0;
	for (size_t j = 0; j < tb->n_cols[1]; j++)
		nk += tb->cols[1][j].pkpos > 0;
	tb->key_names = xcalloc(nk + 1, sizeof *tb->key_names);
	tb->key_types = xcalloc(nk + 1, sizeof *tb->key_types);
	tb->key_int = xcalloc(nk + 1, sizeof *tb->key_int);
	char **raw_keys = xcalloc(nk + 1, sizeof *raw_keys);
	bool usable = nk > 0;
	for (size_t j = 0; j < tb->n_cols[1]; j++) {
		const vcol *c = &tb->cols[1][j];
		if (c->pkpos <= 0 || (size_t)c->pkpos > nk)
			continue;
		tb->key_names[c->pkpos - 1] = vfy_ident(c->name);
		tb->key_types[c->pkpos - 1] = xstrdup(c->type);
		tb->key_int[c->pkpos - 1] = strcmp(c->typname, "int2") == 0 || strcmp(c->typname, "int4") == 0 ||
		                            strcmp(c->typname, "int8") == 0;
		raw_keys[c->pkpos - 1] = xstrdup(c->name);
		usable &= name_in(c->name, tb->col_names, tb->n_common);
	}
	tb->n_key = nk;
	for (size_t k = 0; k < nk; k++)
		usable &= raw_keys[k] != NULL;
	/* the target's SELECT list: key texts, then every common column's text */
	strbuf sel, kl, kt;
	sb_init(&sel);
	sb_init(&kl);
	sb_init(&kt);
	for (size_t k = 0; usable && k < nk; k++) {
		sb_printf(&kl, "%s%s", k ? ", " : "", tb->key_names[k]);
		sb_printf(&kt, "%s%s::text", k ? ", " : "", tb->key_names[k]);
	}
	for (size_t c = 0; c < tb->n_common; c++) {
		char *q = vfy_ident(tb->col_names[c]);
		sb_printf(&sel, "%s%s::text", c ? ", " : "", q);
		free(q);
	}
	if (tb->n_common == 0)
		sb_puts(&sel, "NULL");
	tb->tselect = sb_steal(&sel);
	if (usable) {
		tb->key_list = sb_steal(&kl);
		tb->key_text = sb_steal(&kt);
		tb->rkeys = raw_keys;
		vfy_submit_integrity(vs, t->ti, tb->key_text);
		/* a re-run: the pages the last run found differing first */
		for (size_t k = 0; k < tb->n_prior; k++) {
			const evr_verify_range *pr = &tb->prior[k];
			if (!pr->page || (pr->lo && pr->n_lo != nk) || (pr->hi && pr->n_hi != nk))
				continue;
			vtask *c = vfy_task_new(vs, t->ti, VT_RRECHECK);
			c->rlo = vfy_strv_dup(pr->lo, nk);
			c->rhi = vfy_strv_dup(pr->hi, nk);
			c->rest_query = vfy_rest_page_query(tb->col_names, tb->n_common, tb->rkeys, nk, c->rlo, c->rhi);
			c->rest_first = 0;
			c->rest_n = vs->page_rows;
			c->rest_count = REST_COUNT_EXACT;   /* of the range: was it cut short? */
			tb->recheck_pending++;
			vfy_task_submit(c);
		}
		if (tb->recheck_pending == 0)
			submit_page(vs, t->ti);
		return;
	}
	/* no usable key: whole-table count and hash, each side paged by offset */
	vfy_strv_free(raw_keys, nk);
	sb_free(&kl);
	sb_free(&kt);
	vfy_strv_free(tb->key_names, nk);
	vfy_strv_free(tb->key_types, nk);
	tb->key_names = tb->key_types = NULL;
	tb->n_key = 0;
	p->state = VFY_NO_PK;
	vfy_submit_integrity(vs, t->ti, "ctid::text");
	for (int w = 0; w < 2; w++)
		submit_whole(vs, t->ti, w);
}

/* The next source page: after the last key of the last one. */
static void submit_page(vfy_session *vs, size_t ti)
{
	vtab *tb = &vs->tabs[ti];
	if (tb->rsource_done || tb->rpaging || tb->finished || vs->cancelled)
		return;
	tb->rpaging = true;
	vtask *t = vfy_task_new(vs, ti, VT_RPAGE);
	t->rest_query = vfy_rest_page_query(tb->col_names, tb->n_common, tb->rkeys, tb->n_key, tb->rlast, NULL);
	t->rest_first = 0;
	t->rest_n = vs->page_rows;
	t->rest_count = -1;
	t->rlo = vfy_strv_dup(tb->rlast, tb->n_key);
	vfy_task_submit(t);
}

static void pause_over(loop *lp, void *ud)
{
	vtab *tb = ud;
	tb->rpause_timer = 0;
	tb->outstanding--;
	vfy_session *vs = tb->rvs;
	submit_page(vs, (size_t)(tb - vs->tabs));
	vfy_check_done(vs);
}

/* The next page once the last is in, after the --max-load pause, while
 * fewer than VR_MATCH_AHEAD target queries wait. */
static void next_page(vfy_session *vs, size_t ti)
{
	vtab *tb = &vs->tabs[ti];
	if (tb->rsource_done || tb->rpaging || tb->rmatch_out >= VR_MATCH_AHEAD || tb->rpause_timer)
		return;
	if (vs->lim.pause_ms > 0) {
		tb->rvs = vs;
		tb->outstanding++;   /* the table is not done while it rests */
		tb->rpause_timer = loop_timer(vs->lp, vs->lim.pause_ms, pause_over, tb);
		return;
	}
	submit_page(vs, ti);
}

/* A key's bound in SQL: ROW('v1'::type, …) compared with the key list. */
static void sql_bound(const vtab *tb, strbuf *sb, const char *op, char *const *key)
{
	sb_printf(sb, " AND (%s) %s (", tb->key_list, op);
	for (size_t k = 0; k < tb->n_key; k++) {
		if (k)
			sb_puts(sb, ", ");
		vfy_lit(sb, key[k]);
		sb_printf(sb, "::%s", tb->key_types[k]);
	}
	sb_putc(sb, ')');
}

/* Reads the texts of a JSON row's common columns; false when one is
 * missing (the server did not send it).  own holds the texts made here
 * (a value that came uncast), freed by the next call and by own_free. */
static bool json_vals(const vtab *tb, const cJSON *row, const char **vals, char **own, const char **bad)
{
	for (size_t c = 0; c < tb->n_common; c++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(row, tb->col_names[c]);
		cJSON_free(own[c]);
		own[c] = NULL;
		if (!it) {
			*bad = tb->col_names[c];
			return false;
		}
		if (cJSON_IsNull(it))
			vals[c] = NULL;
		else if (cJSON_IsString(it))
			vals[c] = it->valuestring;
		else
			vals[c] = own[c] = cJSON_PrintUnformatted(it);   /* not cast: its JSON */
	}
	return true;
}

static void own_free(const vtab *tb, char **own)
{
	for (size_t c = 0; c < tb->n_common; c++)
		cJSON_free(own[c]);
	free(own);
}

/* A page without one of the columns its first row had. */
static void fail_missing(vfy_session *vs, vtab *tb, const char *col)
{
	char *m = xasprintf("a page has no column %s", col);
	char *err = side_err(vs, m);
	free(m);
	vfy_tab_fail(vs, tb, err);
	free(err);
}

static size_t col_index(const vtab *tb, const char *name)
{
	for (size_t c = 0; c < tb->n_common; c++)
		if (strcmp(tb->col_names[c], name) == 0)
			return c;
	return 0;
}

/* The rows of a source page, hashed, with the last key (pages come in key
 * order; NULL for an empty page).  false when a row lacks a column: the
 * table has failed. */
static bool page_rows(vfy_session *vs, vtask *t, vrrow **out, size_t *n_out, char ***last_out)
{
	vtab *tb = &vs->tabs[t->ti];
	int n = cJSON_GetArraySize(t->rj);
	vrrow *rows = xcalloc((size_t)n + 1, sizeof *rows);
	const char **vals = xcalloc(tb->n_common + 1, sizeof *vals);
	char **own = xcalloc(tb->n_common + 1, sizeof *own);
	const char **keys = xcalloc(tb->n_key + 1, sizeof *keys);
	size_t *kidx = xcalloc(tb->n_key + 1, sizeof *kidx);
	for (size_t k = 0; k < tb->n_key; k++)
		kidx[k] = col_index(tb, tb->rkeys[k]);
	size_t r = 0;
	const cJSON *row;
	const char *bad = NULL;
	cJSON_ArrayForEach(row, t->rj) {
		if (!json_vals(tb, row, vals, own, &bad))
			break;
		for (size_t k = 0; k < tb->n_key; k++)
			keys[k] = vals[kidx[k]];
		row_key(tb, keys, &rows[r]);
		row_hash(vs, tb, vals, &rows[r]);
		r++;
	}
	char **last = NULL;
	if (!bad && r > 0) {
		last = xcalloc(tb->n_key + 1, sizeof *last);
		const char *k0 = rows[r - 1].key;
		for (size_t k = 0; k < tb->n_key; k++) {
			size_t l = strcspn(k0, "\x1f");
			last[k] = xstrndup(k0, l);
			k0 += l + (k0[l] != '\0');
		}
	}
	free(vals);
	own_free(tb, own);
	free(keys);
	free(kidx);
	if (bad) {
		vfy_rows_free(rows, r);
		fail_missing(vs, tb, bad);
		return false;
	}
	qsort(rows, r, sizeof *rows, vfy_vrrow_cmp);
	*out = rows;
	*n_out = r;
	*last_out = last;
	return true;
}

/* Asks the target for its rows after lo up to and with hi (NULL: open),
 * to be compared with rows (owned by the task from here). */
static void submit_match(vfy_session *vs, size_t ti, vrrow *rows, size_t n, char *const *lo, char *const *hi,
                         bool recheck)
{
	vtab *tb = &vs->tabs[ti];
	vtask *m = vfy_task_new(vs, ti, VT_RMATCH);
	m->rows = rows;
	m->n_rows = n;
	m->rlo = vfy_strv_dup(lo, tb->n_key);
	m->rhi = vfy_strv_dup(hi, tb->n_key);
	m->not_valid = recheck;   /* a re-check: counted, not reported */
	strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "SELECT %s, %s FROM %s WHERE true", tb->key_text, tb->tselect, tb->qname);
	if (m->rlo)
		sql_bound(tb, &sb, ">", m->rlo);
	if (m->rhi)
		sql_bound(tb, &sb, "<=", m->rhi);
	m->sql[1] = sb_steal(&sb);
	if (!recheck)
		tb->rmatch_out++;
	vfy_task_submit(m);
}

/* A source page is in: hash its rows, ask the target for the same range,
 * ask the source for the next page. */
static void handle_page(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	vrrow *rows;
	size_t r;
	char **last;
	if (!page_rows(vs, t, &rows, &r, &last))
		return;
	if (last && tb->rlast) {
		/* a page must end past the one before: an API that ignores the
		 * filter or the order would page for ever */
		bool moved = false;
		for (size_t k = 0; k < tb->n_key && !moved; k++)
			moved = strcmp(last[k], tb->rlast[k]) != 0;
		if (!moved) {
			vfy_rows_free(rows, r);
			vfy_strv_free(last, tb->n_key);
			char *err = side_err(vs, "a page did not move past the last key: does the API apply "
			                         "order= and the key filter?");
			vfy_tab_fail(vs, tb, err);
			free(err);
			return;
		}
	}
	tb->pub.rows += (int64_t)r;
	tb->pub.rows_done += (int64_t)r;
	if (r == 0)
		tb->rsource_done = true;
	/* the target's rows of (the last page's last key, this page's last] */
	submit_match(vs, t->ti, rows, r, t->rlo, last, false);
	if (last) {
		vfy_strv_free(tb->rlast, tb->n_key);
		tb->rlast = last;
	}
	next_page(vs, t->ti);
}

/* A re-checked range of the last run is in from the source: compare it
 * with the target's, up to its last key when the API cut it short. */
static void handle_recheck(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	vrrow *rows;
	size_t r;
	char **last;
	if (!page_rows(vs, t, &rows, &r, &last))
		return;
	bool whole = t->rtotal >= 0 && (size_t)t->rtotal <= r;
	submit_match(vs, t->ti, rows, r, t->rlo, whole ? t->rhi : last, true);
	vfy_strv_free(last, tb->n_key);
}

/* The target's rows of a result (key texts, then every common column's
 * text), hashed as a page's are and sorted by key; *n their number. */
static vrrow *target_rows(vfy_session *vs, const vtab *tb, const PGresult *res, size_t *n)
{
	int nr = PQntuples(res);
	vrrow *tr = xcalloc((size_t)nr + 1, sizeof *tr);
	const char **keys = xcalloc(tb->n_key + 1, sizeof *keys);
	const char **vals = xcalloc(tb->n_common + 1, sizeof *vals);
	for (int r = 0; r < nr; r++) {
		for (size_t k = 0; k < tb->n_key; k++)
			keys[k] = PQgetisnull(res, r, (int)k) ? NULL : PQgetvalue(res, r, (int)k);
		for (size_t c = 0; c < tb->n_common; c++) {
			int f = (int)(tb->n_key + c);
			vals[c] = PQgetisnull(res, r, f) ? NULL : PQgetvalue(res, r, f);
		}
		row_key(tb, keys, &tr[r]);
		row_hash(vs, tb, vals, &tr[r]);
	}
	free(keys);
	free(vals);
	if (nr > 1)
		qsort(tr, (size_t)nr, sizeof *tr, vfy_vrrow_cmp);
	*n = (size_t)nr;
	return tr;
}

/* A row on both sides whose hashes differ: changed, with the columns. */
static void note_changed(vtab *tb, const vrrow *a, const vrrow *b)
{
	strbuf cols;
	sb_init(&cols);
	for (size_t k = 0; k < tb->n_common; k++)
		if (a->col[k] != b->col[k])
			sb_printf(&cols, "%s%s", cols.len ? "," : "", tb->col_names[k]);
	tb->pub.changed_total++;
	if (tb->pub.n_changed < VFY_KEYS_KEPT) {
		tb->pub.changed = xrealloc(tb->pub.changed, (tb->pub.n_changed + 1) * sizeof *tb->pub.changed);
		tb->pub.changed[tb->pub.n_changed].key = xstrdup(a->key_json);
		tb->pub.changed[tb->pub.n_changed++].columns = sb_steal(&cols);
	}
	sb_free(&cols);
}

/* A row side w has and the other side's range for its page did not: kept
 * (moved out of r) for the confirmation at the end, or past
 * VR_STRAYS_MAX reported as missing (w 0) or extra (w 1) at once. */
static void stray_keep(vtab *tb, int w, vrrow *r)
{
	if (tb->n_stray[w] >= VR_STRAYS_MAX) {
		vfy_keys_add(w ? &tb->pub.extra : &tb->pub.missing, r->key_json);
		return;
	}
	tb->stray[w] = xrealloc(tb->stray[w], (tb->n_stray[w] + 1) * sizeof *tb->stray[w]);
	tb->stray[w][tb->n_stray[w]++] = *r;
	memset(r, 0, sizeof *r);   /* moved: rows_free frees NULLs */
}

void vfy_rest_tab_free(vtab *tb)
{
	for (int w = 0; w < 2; w++) {
		vfy_rows_free(tb->stray[w], tb->n_stray[w]);
		tb->stray[w] = NULL;
		tb->n_stray[w] = 0;
	}
}

/* Looks up rows[0..n) (kept by side w) on the other side by key: SQL on
 * the target for the source's, or=(…) over the API for the target's. */
static void submit_confirm(vfy_session *vs, size_t ti, int w, vrrow *rows, size_t n)
{
	vtab *tb = &vs->tabs[ti];
	vtask *t = vfy_task_new(vs, ti, VT_RCONFIRM);
	t->split_side = w;
	t->rows = rows;
	t->n_rows = n;
	strbuf sb;
	sb_init(&sb);
	if (w == 0) {
		sb_printf(&sb, "SELECT %s, %s FROM %s WHERE (%s) IN (", tb->key_text, tb->tselect, tb->qname,
		          tb->key_list);
		for (size_t i = 0; i < n; i++) {
			sb_puts(&sb, i ? ", (" : "(");
			const char *k0 = rows[i].key;
			for (size_t k = 0; k < tb->n_key; k++) {
				size_t l = strcspn(k0, "\x1f");
				char *v = xstrndup(k0, l);
				if (k)
					sb_puts(&sb, ", ");
				vfy_lit(&sb, v);
				sb_printf(&sb, "::%s", tb->key_types[k]);
				free(v);
				k0 += l + (k0[l] != '\0');
			}
			sb_putc(&sb, ')');
		}
		sb_putc(&sb, ')');
		t->sql[1] = sb_steal(&sb);
	} else {
		char **keys = xcalloc(n * tb->n_key + 1, sizeof *keys);
		for (size_t i = 0; i < n; i++) {
			const char *k0 = rows[i].key;
			for (size_t k = 0; k < tb->n_key; k++) {
				size_t l = strcspn(k0, "\x1f");
				keys[i * tb->n_key + k] = xstrndup(k0, l);
				k0 += l + (k0[l] != '\0');
			}
		}
		t->rest_query = vfy_rest_keys_query(tb->col_names, tb->n_common, tb->rkeys, tb->n_key, keys, n);
		vfy_strv_free(keys, n * tb->n_key);
		t->rest_first = 0;
		t->rest_n = (int64_t)n;
		t->rest_count = -1;
	}
	vfy_task_submit(t);
}

/* Every page is in and compared: rows kept on both sides under one key
 * sat in different pages (the two servers order the key differently);
 * the others are looked up by key before they are called missing or
 * extra. */
static void rest_pair_changed(vfy_session *vs, size_t ti, const vrrow *src, const vrrow *dst, void *ud)
{
	(void)ud;
	note_changed(&vs->tabs[ti], src, dst);
}

void vfy_rest_resolve_strays(vfy_session *vs, size_t ti)
{
	if (!vs->tabs[ti].strays_resolved)
		vfy_strays_resolve(vs, ti, VR_CONFIRM_BATCH, rest_pair_changed, submit_confirm, NULL);
}

/* The other side's rows for keys one side kept: found, compared (equal,
 * or changed); not found, missing (kept by the source) or extra. */
static void handle_confirm(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	int w = t->split_side;
	vrrow *found = NULL;
	size_t nf = 0;
	if (w == 0) {
		found = target_rows(vs, tb, t->res[1], &nf);
	} else {
		char **last;
		if (!page_rows(vs, t, &found, &nf, &last))
			return;
		vfy_strv_free(last, tb->n_key);
	}
	qsort(t->rows, t->n_rows, sizeof *t->rows, vfy_vrrow_cmp);
	size_t i = 0, j = 0;
	while (i < t->n_rows) {
		int c = j >= nf ? -1 : strcmp(t->rows[i].key, found[j].key);
		if (c < 0) {
			vfy_keys_add(w ? &tb->pub.extra : &tb->pub.missing, t->rows[i++].key_json);
		} else if (c > 0) {
			j++;
		} else {
			const vrrow *src = w ? &found[j] : &t->rows[i], *dst = w ? &t->rows[i] : &found[j];
			if (src->hash != dst->hash)
				note_changed(tb, src, dst);
			i++;
			j++;
		}
	}
	vfy_rows_free(found, nf);
}

/* The target's rows of a page's range against the page's. */
static void handle_match(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	size_t n;
	vrrow *tr = target_rows(vs, tb, t->res[1], &n);
	size_t i = 0, j = 0;
	bool differed = false;
	while (i < t->n_rows || j < n) {
		int c = i >= t->n_rows ? 1 : j >= n ? -1 : strcmp(t->rows[i].key, tr[j].key);
		if (c < 0) {
			stray_keep(tb, 0, &t->rows[i++]);
			differed = true;
		} else if (c > 0) {
			stray_keep(tb, 1, &tr[j++]);
			differed = true;
		} else {
			const vrrow *a = &t->rows[i++], *b = &tr[j++];
			if (a->hash == b->hash)
				continue;
			differed = true;
			note_changed(tb, a, b);
		}
	}
	vfy_rows_free(tr, n);
	tb->pub.ranges++;
	if (differed) {
		vrange pr = {t->rlo, t->rhi};
		vfy_note_differed(tb, &pr);   /* re-checked first by the next run */
	}
}

/* The same comparison for a re-checked range: only whether it differs. */
static void handle_rematch(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	size_t n;
	vrrow *tr = target_rows(vs, tb, t->res[1], &n);
	bool differ = n != t->n_rows;
	for (size_t i = 0; i < t->n_rows && !differ; i++)
		differ = strcmp(t->rows[i].key, tr[i].key) != 0 || t->rows[i].hash != tr[i].hash;
	vfy_rows_free(tr, n);
	tb->pub.rechecked++;
	if (differ)
		tb->pub.rechecked_differ++;
	if (--tb->recheck_pending == 0)
		submit_page(vs, t->ti);   /* then the whole table */
}

/* No key: one side's next page by offset, in the order of every column's
 * text (a total order, so the pages cover the table once). */
static void submit_whole(vfy_session *vs, size_t ti, int w)
{
	vtab *tb = &vs->tabs[ti];
	vtask *t = vfy_task_new(vs, ti, VT_RWHOLE);
	t->split_side = w;
	if (w == 0) {
		char **names = tb->col_names;
		t->rest_query = vfy_rest_page_query(names, tb->n_common, names, tb->n_common, NULL, NULL);
		t->rest_first = tb->roffset[0];
		t->rest_n = vs->page_rows;
		t->rest_count = -1;
	} else {
		strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "SELECT %s FROM %s ORDER BY ", tb->tselect, tb->qname);
		for (size_t c = 0; c < tb->n_common; c++)
			sb_printf(&sb, "%s%zu", c ? ", " : "", c + 1);
		if (tb->n_common == 0)
			sb_puts(&sb, "1");
		sb_printf(&sb, " LIMIT %d OFFSET %lld", vs->page_rows, (long long)tb->roffset[1]);
		t->sql[1] = sb_steal(&sb);
	}
	vfy_task_submit(t);
}

static void handle_whole(vfy_session *vs, vtask *t)
{
	vtab *tb = &vs->tabs[t->ti];
	int w = t->split_side;
	const char **vals = xcalloc(tb->n_common + 1, sizeof *vals);
	char **own = xcalloc(tb->n_common + 1, sizeof *own);
	int n = 0;
	const char *bad = NULL;
	vrrow one;
	if (w == 0) {
		const cJSON *row;
		cJSON_ArrayForEach(row, t->rj) {
			if (!json_vals(tb, row, vals, own, &bad))
				break;
			row_hash(vs, tb, vals, &one);
			free(one.col);
			tb->rsum[0] += one.hash;
			n++;
		}
	} else {
		const PGresult *res = t->res[1];
		n = PQntuples(res);
		for (int r = 0; r < n; r++) {
			for (size_t c = 0; c < tb->n_common; c++)
				vals[c] = PQgetisnull(res, r, (int)c) ? NULL : PQgetvalue(res, r, (int)c);
			row_hash(vs, tb, vals, &one);
			free(one.col);
			tb->rsum[1] += one.hash;
		}
	}
	free(vals);
	own_free(tb, own);
	if (bad) {
		fail_missing(vs, tb, bad);
		return;
	}
	tb->roffset[w] += n;
	if (w == 0) {
		tb->pub.rows_done += n;
	}
	/* the source ends at an empty page (a page may be cut short by the
	 * server's max-rows); the target at a short one */
	if (n == 0 || (w == 1 && n < vs->page_rows))
		tb->rend[w] = true;
	else
		submit_whole(vs, t->ti, w);
	if (tb->rend[0] && tb->rend[1]) {
		for (int s = 0; s < 2; s++) {
			tb->pub.whole_rows[s] = tb->roffset[s];
			tb->pub.whole_hash[s] = xasprintf("%016llx", (unsigned long long)tb->rsum[s]);
		}
		tb->pub.rows = tb->pub.whole_rows[0];
	}
}

bool vfy_rest_handle(vtask *t)
{
	vfy_session *vs = t->vs;
	if (!vs->rest)
		return false;
	switch (t->kind) {
	case VT_META:
		handle_meta(vs, t);
		return true;
	case VT_RPAGE:
		vs->tabs[t->ti].rpaging = false;
		handle_page(vs, t);
		return true;
	case VT_RMATCH:
		if (t->not_valid) {
			handle_rematch(vs, t);
			return true;
		}
		vs->tabs[t->ti].rmatch_out--;
		handle_match(vs, t);
		next_page(vs, t->ti);
		if (vs->tabs[t->ti].rsource_done && vs->tabs[t->ti].rmatch_out == 0)
			vfy_rest_resolve_strays(vs, t->ti);
		return true;
	case VT_RRECHECK:
		handle_recheck(vs, t);
		return true;
	case VT_RCONFIRM:
		handle_confirm(vs, t);
		return true;
	case VT_RWHOLE:
		handle_whole(vs, t);
		return true;
	default:
		return false;
	}
}
