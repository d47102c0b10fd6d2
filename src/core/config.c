/*
 * config.c -- reads pgcutover.json into a config (see pgcutover.json(5)).
 * Called by the CLI context loader (cli_load) for every command that needs a
 * config, and by `pgcutover init` to check what it wrote.  cJSON builds the
 * tree; jsonpos.c validates the text first (so a syntax error names the
 * problem) and locates any value, so every error is "file:line:col: key:
 * message" with exit code PGC_EXIT_DATAERR.  Unknown keys, duplicate keys
 * and wrong types are errors, not warnings: a typo in a cutover config must
 * not silently fall back to a default.  Passwords and API keys written
 * inline are refused without repeating them.  Relative paths resolve
 * against the directory of the config file.  config_where() lets other
 * modules point at a key by line:col later (the raw text is kept), and
 * config_check_runbook() cross-checks ids and flags against the runbook.
 */
#include "config.h"
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cJSON.h>
#include <libpq-fe.h>
#include "pgcutover/config.h"
#include "pgcutover/envfile.h"
#include "pgcutover/jsonpos.h"
#include "pgcutover/runbook.h"

/* A config is a few kilobytes; anything this large is a mistake. */
#define CFG_MAX_BYTES (4u * 1024 * 1024)
#define CFG_LABEL_MAX 256
#define CFG_MAX_POOL 64
#define CFG_HTTP_STATUS_MIN 100
#define CFG_HTTP_STATUS_MAX 599
#define CFG_MAX_TIMEOUT_MS (24 * 3600 * 1000)
#define CFG_MAX_COMMAND_TIMEOUT_S (7 * 24 * 3600)
#define CFG_MIN_VERIFY_ROWS 16
#define CFG_MAX_VERIFY_ROWS 100000000
#define CFG_MAX_VERIFY_PAUSE_MS 60000
#define CFG_MIN_VERIFY_PAGE_ROWS 10
#define CFG_MAX_VERIFY_PAGE_ROWS 100000
/* Suggest a known key when the unknown one is at most this many edits away. */
#define CFG_SUGGEST_DISTANCE 2
#define CFG_SUGGEST_PREFIX_MIN 4
#define UTF8_BOM "\xEF\xBB\xBF"

static const char PGPASS_HINT[] =
	"pgcutover never reads passwords from its config: remove it and use "
	"~/.pgpass, the PGPASSWORD environment variable, or a service file "
	"(pg_service.conf) with \"service=NAME\"";

/* Walking state: where in the JSON tree we are, for error positions. */
typedef struct cfg_walk {
	const char *text;
	size_t len;
	const char *file;
	const char *dir;
	int path[JSONPOS_MAX_DEPTH];
	size_t depth;
	char label[CFG_LABEL_MAX];   /* "health[1].url" */
	pgc_err *e;
} cfg_walk;

/* ---- paths ---- */

/* Joins and normalises lexically ("." and ".." segments), so the result
 * reads well in messages and does not depend on the file existing. */
static char *path_normalise(const char *p)
{
	bool abs = p[0] == '/';
	size_t n = strlen(p);
	char *copy = xstrdup(p);
	const char **seg = xcalloc(n / 2 + 2, sizeof *seg);
	size_t nseg = 0;
	for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (strcmp(t, "..") == 0) {
			if (nseg > 0 && strcmp(seg[nseg - 1], "..") != 0) {
				nseg--;
				continue;
			}
			if (abs)
				continue;   /* "/.." is "/" */
		}
		seg[nseg++] = t;
	}
	strbuf b;
	sb_init(&b);
	if (abs)
		sb_putc(&b, '/');
	for (size_t i = 0; i < nseg; i++) {
		if (i)
			sb_putc(&b, '/');
		sb_puts(&b, seg[i]);
	}
	if (b.len == 0)
		sb_putc(&b, '.');
	free(seg);
	free(copy);
	return sb_steal(&b);
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

/* Absolute directory holding path (which need not exist). */
static char *dir_of(const char *path)
{
	char cwd[4096];
	const char *slash = path ? strrchr(path, '/') : NULL;
	char *d = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	if (d[0] != '/') {
		char *abs = xasprintf("%s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", d);
		free(d);
		d = abs;
	}
	char *n = path_normalise(d);
	free(d);
	return n;
}

/* "~/x" is under $HOME; other relative paths are under dir. */
static char *path_resolve(const char *dir, const char *p)
{
	char *joined;
	if (p[0] == '/')
		joined = xstrdup(p);
	else if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
		joined = xasprintf("%s/%s", home_dir(), p + 1);
	else
		joined = xasprintf("%s/%s", dir, p);
	char *n = path_normalise(joined);
	free(joined);
	return n;
}

/* ---- errors with positions ---- */

static int cfg_fail(cfg_walk *w, bool at_key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfg_fail(cfg_walk *w, bool at_key, const char *fmt, ...)
{
	jsonpos p;
	if (jsonpos_find(w->text, w->len, w->path, w->depth, at_key, &p) < 0)
		p.line = p.col = 1;
	char msg[PGC_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return pgc_fail(w->e, PGC_EXIT_DATAERR, "%s:%d:%d: %s%s%s", w->file, p.line, p.col,
	                w->label, w->label[0] ? ": " : "", msg);
}

static size_t push_key(cfg_walk *w, int index, const char *name)
{
	size_t saved = strlen(w->label);
	w->path[w->depth++] = index;
	/* Key names reach the terminal in messages: no escape sequences. */
	char *clean = pgc_sanitize(name);
	snprintf(w->label + saved, sizeof w->label - saved, "%s%s", saved ? "." : "", clean);
	free(clean);
	return saved;
}

static size_t push_index(cfg_walk *w, int index)
{
	size_t saved = strlen(w->label);
	w->path[w->depth++] = index;
	snprintf(w->label + saved, sizeof w->label - saved, "[%d]", index);
	return saved;
}

static void pop(cfg_walk *w, size_t saved)
{
	w->depth--;
	w->label[saved] = '\0';
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "null";
	if (cJSON_IsArray(v)) return "an array";
	if (cJSON_IsObject(v)) return "an object";
	return "something else";
}

/* ---- typed values ---- */

static int want_string(cfg_walk *w, const cJSON *v, char **out)
{
	if (!cJSON_IsString(v))
		return cfg_fail(w, false, "must be a string, not %s", type_name(v));
	if (v->valuestring[0] == '\0')
		return cfg_fail(w, false, "must not be empty");
	free(*out);
	*out = xstrdup(v->valuestring);
	return 0;
}

static int want_path(cfg_walk *w, const cJSON *v, char **out)
{
	char *raw = NULL;
	if (want_string(w, v, &raw) < 0)
		return -1;
	free(*out);
	*out = path_resolve(w->dir, raw);
	free(raw);
	return 0;
}

static int want_int(cfg_walk *w, const cJSON *v, int min, int max, int *out)
{
	if (!cJSON_IsNumber(v))
		return cfg_fail(w, false, "must be a number, not %s", type_name(v));
	double d = v->valuedouble;
	if (d != floor(d))
		return cfg_fail(w, false, "must be a whole number");
	if (d < min || d > max)
		return cfg_fail(w, false, "must be between %d and %d", min, max);
	*out = (int)d;
	return 0;
}

static bool is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* One identifier: plain (letters, digits, _ and $, not starting with a digit;
 * bytes >= 0x80 are letters to PostgreSQL) or "double quoted". */
static const char *skip_ident(const char *s)
{
	if (*s == '"') {
		const char *p = s + 1;
		for (;; p++) {
			if (*p == '\0')
				return NULL;
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;   /* "" inside quotes is one quote */
			}
		}
		return p == s + 1 ? NULL : p + 1;   /* "" is not an identifier */
	}
	const unsigned char *u = (const unsigned char *)s;
	if (!((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') || *u == '_' || *u >= 0x80))
		return NULL;
	for (u++; *u; u++)
		if (!((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') || *u == '_' ||
		      *u >= 0x80 || (*u >= '0' && *u <= '9') || *u == '$'))
			break;
	return (const char *)u;
}

/* "table", "schema.table", each part plain or quoted. */
bool config_is_table_name(const char *s)
{
	const char *p = skip_ident(s);
	if (p && *p == '.')
		p = skip_ident(p + 1);
	if (!p)
		return false;
	return *p == '\0';
}

/* ---- secrets ---- */

static bool is_password_key(const char *k)
{
	static const char *const names[] = {"password", "passwd", "pgpassword", "pass", "pwd"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(k, names[i]) == 0)
			return true;
	return false;
}

static bool is_api_key_key(const char *k)
{
	static const char *const names[] = {"key", "apikey", "api_key", "service_role_key",
	                                    "anon_key", "secret", "token"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(k, names[i]) == 0)
			return true;
	return false;
}

static bool has_uri_scheme(const char *s, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncasecmp(s, scheme, n) == 0 && strncmp(s + n, "://", 3) == 0;
}

/* user:password@ in a URI's authority. */
static bool uri_has_password(const char *uri)
{
	const char *a = strstr(uri, "://");
	if (!a)
		return false;
	a += 3;
	size_t alen = strcspn(a, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (a[i] == '@')
			at = a + i;
	return at && memchr(a, ':', (size_t)(at - a)) != NULL;
}

/* Checks a libpq connection string without ever repeating it. */
static int check_conninfo(cfg_walk *w, const char *ci)
{
	bool uri = has_uri_scheme(ci, "postgresql") || has_uri_scheme(ci, "postgres");
	if (uri && uri_has_password(ci))
		return cfg_fail(w, false, "a password is written in the URI; %s", PGPASS_HINT);
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(ci, &errmsg);
	if (!opts) {
		/* libpq's message may quote part of the string: if that part could
		 * be a password, say only that. */
		bool secret = strcasestr(ci, "password") != NULL || strcasestr(ci, "pass") != NULL;
		char reason[PGC_ERR_MAX] = "";
		if (errmsg && !secret) {
			snprintf(reason, sizeof reason, "%s", errmsg);
			reason[strcspn(reason, "\n")] = '\0';
		}
		PQfreemem(errmsg);
		if (secret)
			return cfg_fail(w, false, "not a valid connection string, and it seems to hold "
			                "a password; %s", PGPASS_HINT);
		return cfg_fail(w, false, "not a valid connection string%s%s (expected "
		                "\"host=... dbname=...\", \"service=NAME\" or a postgresql:// URI)",
		                reason[0] ? ": " : "", reason);
	}
	bool has_password = false;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if ((strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0) &&
		    o->val && o->val[0])
			has_password = true;
	PQconninfoFree(opts);
	if (has_password)
		return cfg_fail(w, false, "a password is written in the connection string; %s",
		                PGPASS_HINT);
	return 0;
}

static int check_url(cfg_walk *w, const char *url)
{
	if (!has_uri_scheme(url, "http") && !has_uri_scheme(url, "https"))
		return cfg_fail(w, false, "must be an http:// or https:// URL");
	if (uri_has_password(url))
		return cfg_fail(w, false, "a password is written in the URL; put credentials in "
		                "the environment, not in pgcutover.json");
	const char *q = strchr(url, '?');
	if (q && (strcasestr(q, "apikey=") || strcasestr(q, "api_key=")))
		return cfg_fail(w, false, "an API key is written in the URL; name an environment "
		                "variable with \"key_env\" instead");
	return 0;
}

/* ---- objects: known keys, duplicates, secrets ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xcalloc(lb + 1, sizeof *row);
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best) best = up + 1;
			if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

typedef int (*cfg_member_fn)(cfg_walk *w, const cJSON *v, int which, void *ctx);

/* Calls fn for each member of obj with the index of its name in known[]
 * (NULL-terminated).  Keys starting with '_' are comments and skipped. */
static int walk_members(cfg_walk *w, const cJSON *obj, const char *const *known,
                        cfg_member_fn fn, void *ctx)
{
	int i = 0;
	for (const cJSON *m = obj->child; m; m = m->next, i++) {
		const char *k = m->string;
		size_t saved = push_key(w, i, k);
		int rc = 0;
		int which = -1;
		for (int j = 0; known[j]; j++)
			if (strcmp(known[j], k) == 0)
				which = j;
		bool dup = false;
		for (const cJSON *p = obj->child; p != m; p = p->next)
			if (strcmp(p->string, k) == 0)
				dup = true;
		if (k[0] == '_') {
			rc = 0;
		} else if (dup) {
			rc = cfg_fail(w, true, "duplicate key");
		} else if (which < 0 && is_password_key(k)) {
			rc = cfg_fail(w, true, "passwords are not accepted here; %s", PGPASS_HINT);
		} else if (which < 0 && is_api_key_key(k)) {
			rc = cfg_fail(w, true, "keys and tokens are not accepted here: put it in an "
			              "environment variable and name the variable with \"key_env\"");
		} else if (which < 0) {
			const char *best = NULL;
			size_t best_d = CFG_SUGGEST_DISTANCE + 1;
			for (int j = 0; known[j]; j++) {
				size_t d = edit_distance(k, known[j]);
				/* "timeout" for "timeout_ms": a prefix is a near miss too. */
				if (strlen(k) >= CFG_SUGGEST_PREFIX_MIN &&
				    strncmp(known[j], k, strlen(k)) == 0)
					d = 1;
				if (d < best_d) {
					best_d = d;
					best = known[j];
				}
			}
			/* The label already ends in the key; say it once. */
			char *clean = pgc_sanitize(k);
			w->label[saved] = '\0';
			if (best)
				rc = cfg_fail(w, true, "unknown key \"%s\" (did you mean \"%s\"?)", clean, best);
			else
				rc = cfg_fail(w, true, "unknown key \"%s\"", clean);
			free(clean);
		} else if (!cJSON_IsNull(m)) {   /* null = not set */
			rc = fn(w, m, which, ctx);
		}
		pop(w, saved);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int want_object(cfg_walk *w, const cJSON *v)
{
	if (!cJSON_IsObject(v))
		return cfg_fail(w, false, "must be an object, not %s", type_name(v));
	return 0;
}

static int want_array(cfg_walk *w, const cJSON *v)
{
	if (!cJSON_IsArray(v))
		return cfg_fail(w, false, "must be an array, not %s", type_name(v));
	return 0;
}

/* ---- source / target ---- */

enum { SB_URL, SB_KEY_ENV, SB_COUNT };
static const char *const supabase_keys[] = {"url", "key_env", "count", NULL};

static int supabase_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	cfg_endpoint *ep = ctx;
	switch (which) {
	case SB_URL:
		if (want_string(w, v, &ep->url) < 0)
			return -1;
		return check_url(w, ep->url);
	case SB_KEY_ENV:
		if (want_string(w, v, &ep->key_env) < 0)
			return -1;
		if (!is_env_name(ep->key_env))
			return cfg_fail(w, false, "must name an environment variable (letters, digits "
			                "and _), e.g. \"SUPABASE_KEY\"; the key itself never goes here");
		return 0;
	case SB_COUNT:
		if (want_string(w, v, &ep->count) < 0)
			return -1;
		if (strcmp(ep->count, "exact") && strcmp(ep->count, "planned") &&
		    strcmp(ep->count, "estimated"))
			return cfg_fail(w, false, "must be \"exact\", \"planned\" or \"estimated\"");
		return 0;
	}
	return 0;
}

enum { EP_SUPABASE };
static const char *const source_obj_keys[] = {"supabase", NULL};

static int endpoint_obj_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	cfg_endpoint *ep = ctx;
	if (want_object(w, v) < 0)
		return -1;
	ep->kind = CFG_EP_SUPABASE;
	if (walk_members(w, v, supabase_keys, supabase_member, ep) < 0)
		return -1;
	if (!ep->url)
		return cfg_fail(w, false, "missing required key \"url\" (e.g. \"https://PROJECT.supabase.co\")");
	if (!ep->key_env)
		return cfg_fail(w, false, "missing required key \"key_env\" (the environment "
		                "variable holding the service key, e.g. \"SUPABASE_KEY\")");
	if (!ep->count)
		ep->count = xstrdup("exact");
	return 0;
}

static int want_endpoint(cfg_walk *w, const cJSON *v, cfg_endpoint *ep, bool allow_supabase)
{
	if (cJSON_IsString(v)) {
		if (want_string(w, v, &ep->conninfo) < 0)
			return -1;
		ep->kind = CFG_EP_POSTGRES;
		return check_conninfo(w, ep->conninfo);
	}
	if (!cJSON_IsObject(v) || !allow_supabase)
		return cfg_fail(w, false, allow_supabase
		                ? "must be a connection string or {\"supabase\": {...}}, not %s"
		                : "must be a connection string (\"service=NAME\", \"host=... dbname=...\" "
		                  "or a postgresql:// URI), not %s", type_name(v));
	if (walk_members(w, v, source_obj_keys, endpoint_obj_member, ep) < 0)
		return -1;
	if (ep->kind != CFG_EP_SUPABASE)
		return cfg_fail(w, false, "missing required key \"supabase\"");
	return 0;
}

/* ---- tables, health, notify ---- */

enum { TB_NAME, TB_PK };
static const char *const table_keys[] = {"name", "pk", NULL};

static int table_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	cfg_table *t = ctx;
	if (which == TB_NAME) {
		if (want_string(w, v, &t->name) < 0)
			return -1;
		if (!config_is_table_name(t->name))
			return cfg_fail(w, false, "not a table name (\"table\" or \"schema.table\")");
		return 0;
	}
	if (want_string(w, v, &t->pk) < 0)
		return -1;
	if (!config_is_table_name(t->pk) || strchr(t->pk, '.'))
		return cfg_fail(w, false, "not a column name");
	return 0;
}

/* Names seen so far, for "listed twice": an open-addressing set, since
 * comparing each table with every earlier one took 8 s for 40,000. */
typedef struct name_set {
	const char **slot;
	size_t mask;
} name_set;

static void name_set_init(name_set *ns, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)   /* at most half full */
		cap *= 2;
	ns->slot = xcalloc(cap, sizeof *ns->slot);
	ns->mask = cap - 1;
}

/* FNV-1a. */
static size_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* Adds name (kept by reference); false when it was there already. */
static bool name_set_add(name_set *ns, const char *name)
{
	for (size_t i = name_hash(name) & ns->mask;; i = (i + 1) & ns->mask) {
		if (!ns->slot[i]) {
			ns->slot[i] = name;
			return true;
		}
		if (strcmp(ns->slot[i], name) == 0)
			return false;
	}
}

static int want_tables(cfg_walk *w, const cJSON *v, config *c)
{
	if (want_array(w, v) < 0)
		return -1;
	size_t n = (size_t)cJSON_GetArraySize(v);
	c->tables = xcalloc(n + 1, sizeof *c->tables);
	name_set seen;
	name_set_init(&seen, n);
	int i = 0;
	for (const cJSON *el = v->child; el; el = el->next, i++) {
		size_t saved = push_index(w, i);
		cfg_table *t = &c->tables[c->n_tables++];
		int rc = 0;
		if (cJSON_IsString(el)) {
			rc = table_member(w, el, TB_NAME, t);
		} else if (cJSON_IsObject(el)) {
			rc = walk_members(w, el, table_keys, table_member, t);
			if (rc == 0 && !t->name)
				rc = cfg_fail(w, false, "missing required key \"name\"");
		} else {
			rc = cfg_fail(w, false, "must be a table name or {\"name\": ..., \"pk\": ...}, not %s",
			              type_name(el));
		}
		if (rc == 0 && !name_set_add(&seen, t->name))
			rc = cfg_fail(w, false, "table \"%s\" is listed twice", t->name);
		pop(w, saved);
		if (rc < 0) {
			free(seen.slot);
			return -1;
		}
	}
	free(seen.slot);
	return 0;
}

enum { HC_NAME, HC_URL, HC_STATUS, HC_BODY, HC_TIMEOUT };
static const char *const health_keys[] = {"name", "url", "expect_status", "expect_body",
                                          "timeout_ms", NULL};

static int health_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	cfg_health *h = ctx;
	switch (which) {
	case HC_NAME:
		return want_string(w, v, &h->name);
	case HC_URL:
		if (want_string(w, v, &h->url) < 0)
			return -1;
		return check_url(w, h->url);
	case HC_STATUS:
		return want_int(w, v, CFG_HTTP_STATUS_MIN, CFG_HTTP_STATUS_MAX, &h->expect_status);
	case HC_BODY:
		return want_string(w, v, &h->expect_body);
	case HC_TIMEOUT:
		return want_int(w, v, 1, CFG_MAX_TIMEOUT_MS, &h->timeout_ms);
	}
	return 0;
}

static int want_health(cfg_walk *w, const cJSON *v, config *c)
{
	if (want_array(w, v) < 0)
		return -1;
	c->health = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *c->health);
	int i = 0;
	for (const cJSON *el = v->child; el; el = el->next, i++) {
		size_t saved = push_index(w, i);
		cfg_health *h = &c->health[c->n_health++];
		h->timeout_ms = CFG_DEFAULT_HEALTH_TIMEOUT_MS;
		int rc = 0;
		if (cJSON_IsString(el)) {
			rc = health_member(w, el, HC_URL, h);
		} else if (cJSON_IsObject(el)) {
			rc = walk_members(w, el, health_keys, health_member, h);
			if (rc == 0 && !h->url)
				rc = cfg_fail(w, false, "missing required key \"url\"");
		} else {
			rc = cfg_fail(w, false, "must be a URL or {\"name\": ..., \"url\": ...}, not %s",
			              type_name(el));
		}
		if (rc == 0 && !h->name)
			h->name = xstrdup(h->url);
		pop(w, saved);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* A chat webhook URL is itself a secret (Slack's carry the token in the
 * path), so it may come from the environment instead. */
enum { NT_WEBHOOK, NT_WEBHOOK_ENV };
enum { SQ_OFFSET, SQ_FLOOR };
static const char *const sequences_keys[] = {"offset", "headroom_floor", NULL};

static int sequences_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	config *c = ctx;
	if (which == SQ_OFFSET)
		return want_int(w, v, 0, INT_MAX, &c->seq_offset);
	return want_int(w, v, 0, INT_MAX, &c->seq_headroom_floor);
}

static const char *const notify_keys[] = {"webhook", "webhook_env", NULL};

static int notify_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	config *c = ctx;
	if (which == NT_WEBHOOK_ENV) {
		if (want_string(w, v, &c->notify_url_env) < 0)
			return -1;
		if (!is_env_name(c->notify_url_env))
			return cfg_fail(w, false, "must name an environment variable (letters, digits and _), "
			                "e.g. \"PGCUTOVER_WEBHOOK\"");
		return 0;
	}
	if (want_string(w, v, &c->notify_url) < 0)
		return -1;
	return check_url(w, c->notify_url);
}

/* An array of distinct non-empty strings; env_names: each must be a NAME. */
static int want_names(cfg_walk *w, const cJSON *v, char ***out, size_t *n, bool env_names)
{
	if (want_array(w, v) < 0)
		return -1;
	*out = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof **out);
	int i = 0;
	for (const cJSON *el = v->child; el; el = el->next, i++) {
		size_t saved = push_index(w, i);
		char *s = NULL;
		int rc = want_string(w, el, &s);
		if (rc == 0) {
			(*out)[(*n)++] = s;
			if (env_names && !is_env_name(s))
				rc = cfg_fail(w, false, "not a variable name (letters, digits and _)");
			for (size_t k = 0; rc == 0 && k + 1 < *n; k++)
				if (strcmp((*out)[k], s) == 0)
					rc = cfg_fail(w, false, "\"%s\" is listed twice", s);
		}
		pop(w, saved);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- freeze, go ---- */

enum { FZ_QUIET, FZ_IGNORE };
static const char *const freeze_keys[] = {"quiet_s", "ignore", NULL};

static int freeze_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	config *c = ctx;
	if (which == FZ_QUIET)
		return want_int(w, v, 1, CFG_MAX_FREEZE_QUIET_S, &c->freeze_quiet_s);
	c->freeze_ignore_set = true;
	return want_names(w, v, &c->freeze_ignore, &c->n_freeze_ignore, false);
}

enum { SW_ITEM, SW_POSTPONE };
static const char *const switch_keys[] = {"item", "postpone_file", NULL};

static int switch_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	config *c = ctx;
	if (which == SW_ITEM)
		return want_string(w, v, &c->switch_item);
	return want_path(w, v, &c->switch_postpone_file);
}

/* ---- the top level ---- */

enum {
	K_RUNBOOK, K_STATE, K_SOURCE, K_TARGET, K_TABLES, K_ENV_FILE, K_FLAGS, K_HEALTH,
	K_NOTIFY, K_OPERATOR, K_WORKDIR, K_COMMAND_TIMEOUT, K_POOL_SIZE,
	K_STATEMENT_TIMEOUT, K_PONR, K_GATES, K_AUTO_TICK, K_STATE_GROUP, K_ENV_BACKUPS,
	K_SEQUENCES, K_FREEZE, K_SWITCH,
	K_COUNTS_BUDGET, K_STATS_DELAY,
	K_VERIFY,
};
static const char *const top_keys[] = {
	"runbook", "state", "source", "target", "tables", "env_file", "flags", "health",
	"notify", "operator", "workdir", "command_timeout", "pool_size",
	"statement_timeout_ms", "point_of_no_return", "gates", "auto_tick",
	"state_group_readable", "env_backups", "sequences", "freeze", "switch",
	"counts_budget_pct", "stats_delay_s", "verify", NULL,
};

/* "verify": {"rows_per_range": N, "pause_ms": N, "page_rows": N}: the load
 * verify puts on the servers (verify.h); page_rows: rows per page from a
 * Supabase/PostgREST source. */
enum { VF_ROWS_PER_RANGE, VF_PAUSE_MS, VF_GATES, VF_PAGE_ROWS };
static const char *const verify_keys[] = {"rows_per_range", "pause_ms", "gates", "page_rows", NULL};

static int verify_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	config *c = ctx;
	if (which == VF_GATES)
		return want_names(w, v, &c->verify_gates, &c->n_verify_gates, false);
	if (which == VF_PAUSE_MS)
		return want_int(w, v, 0, CFG_MAX_VERIFY_PAUSE_MS, &c->verify_pause_ms);
	if (which == VF_PAGE_ROWS)
		return want_int(w, v, CFG_MIN_VERIFY_PAGE_ROWS, CFG_MAX_VERIFY_PAGE_ROWS, &c->verify_page_rows);
	int rows = 0;
	if (want_int(w, v, CFG_MIN_VERIFY_ROWS, CFG_MAX_VERIFY_ROWS, &rows) < 0)
		return -1;
	c->verify_rows_per_range = rows;
	return 0;
}

static int top_member(cfg_walk *w, const cJSON *v, int which, void *ctx)
{
	config *c = ctx;
	switch (which) {
	case K_RUNBOOK:  return want_path(w, v, &c->runbook);
	case K_STATE:    return want_path(w, v, &c->state);
	case K_SOURCE:   return want_endpoint(w, v, &c->source, true);
	case K_TARGET:   return want_endpoint(w, v, &c->target, false);
	case K_TABLES:   return want_tables(w, v, c);
	case K_ENV_FILE: return want_path(w, v, &c->env_file);
	case K_ENV_BACKUPS:
		/* At least one: the last set must stay undoable by hand. */
		return want_int(w, v, 1, ENVFILE_MAX_KEEP_BACKUPS, &c->env_backups);
	case K_FLAGS:    return want_names(w, v, &c->flags, &c->n_flags, true);
	case K_HEALTH:   return want_health(w, v, c);
	case K_NOTIFY:
		if (cJSON_IsString(v))
			return notify_member(w, v, 0, c);
		if (!cJSON_IsObject(v))
			return cfg_fail(w, false, "must be a URL or {\"webhook\": URL}, not %s", type_name(v));
		if (walk_members(w, v, notify_keys, notify_member, c) < 0)
			return -1;
		if (c->notify_url && c->notify_url_env)
			return cfg_fail(w, false, "give \"webhook\" or \"webhook_env\", not both");
		return 0;
	case K_SEQUENCES:
		if (!cJSON_IsObject(v))
			return cfg_fail(w, false, "must be {\"offset\": N, \"headroom_floor\": N}, not %s",
			                type_name(v));
		return walk_members(w, v, sequences_keys, sequences_member, c);
	case K_FREEZE:
		if (!cJSON_IsObject(v))
			return cfg_fail(w, false, "must be {\"quiet_s\": N, \"ignore\": [...]}, not %s", type_name(v));
		return walk_members(w, v, freeze_keys, freeze_member, c);
	case K_SWITCH:
		/* the gate is on unless the config says "switch": false */
		if (cJSON_IsFalse(v)) {
			c->switch_gated = false;
			return 0;
		}
		if (!cJSON_IsObject(v))
			return cfg_fail(w, false, "must be {\"item\": ID, \"postpone_file\": PATH} or false, not %s",
			                type_name(v));
		c->switch_gated = true;
		return walk_members(w, v, switch_keys, switch_member, c);
	case K_OPERATOR: return want_string(w, v, &c->operator_name);
	case K_WORKDIR:  return want_path(w, v, &c->workdir);
	case K_COMMAND_TIMEOUT:
		return want_int(w, v, 1, CFG_MAX_COMMAND_TIMEOUT_S, &c->command_timeout_s);
	case K_POOL_SIZE:
		return want_int(w, v, 1, CFG_MAX_POOL, &c->pool_size);
	case K_STATEMENT_TIMEOUT:
		return want_int(w, v, 0, CFG_MAX_TIMEOUT_MS, &c->statement_timeout_ms);
	case K_COUNTS_BUDGET:
		return want_int(w, v, 0, 100, &c->counts_budget_pct);
	case K_STATS_DELAY:
		return want_int(w, v, 0, CFG_MAX_STATS_DELAY_S, &c->stats_delay_s);
	case K_PONR:     return want_string(w, v, &c->point_of_no_return);
	case K_GATES:    return want_names(w, v, &c->gates, &c->n_gates, false);
	case K_VERIFY:
		if (!cJSON_IsObject(v))
			return cfg_fail(w, false, "must be {\"rows_per_range\": N, \"pause_ms\": N, \"gates\": [...]}, not %s",
			                type_name(v));
		return walk_members(w, v, verify_keys, verify_member, c);
	case K_AUTO_TICK:
		if (!cJSON_IsBool(v))
			return cfg_fail(w, false, "must be true or false, not %s", type_name(v));
		c->auto_tick = cJSON_IsTrue(v);
		return 0;
	case K_STATE_GROUP:
		if (!cJSON_IsBool(v))
			return cfg_fail(w, false, "must be true or false, not %s", type_name(v));
		c->state_group_readable = cJSON_IsTrue(v);
		return 0;
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *path, config **out, pgc_err *e)
{
	*out = NULL;
	const char *file = path ? path : CFG_DEFAULT_NAME;
	/* Editors on some systems add a byte order mark; it is not content. */
	if (len >= 3 && memcmp(text, UTF8_BOM, 3) == 0) {
		text += 3;
		len -= 3;
	}
	jsonpos where;
	char msg[JSONPOS_MSG_MAX];
	if (jsonpos_validate(text, len, &where, msg, sizeof msg) < 0)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d:%d: %s", file, where.line, where.col, msg);
	/* cJSON needs a terminated string; the text was checked to hold no NUL. */
	char *copy = xstrndup(text, len);
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(copy, &end, true);
	if (!root) {
		/* Only where the scanner and cJSON disagree (e.g. cJSON's limits). */
		where = jsonpos_at(copy, len, end ? (size_t)(end - copy) : 0);
		free(copy);
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d:%d: cannot parse JSON here", file,
		                where.line, where.col);
	}
	config *c = xcalloc(1, sizeof *c);
	c->path = xstrdup(file);
	c->dir = dir_of(file);
	c->text = xstrndup(text, len);
	c->text_len = len;
	c->pool_size = CFG_DEFAULT_POOL;
	c->statement_timeout_ms = CFG_DEFAULT_STATEMENT_TIMEOUT_MS;
	c->counts_budget_pct = CFG_DEFAULT_COUNTS_BUDGET_PCT;
	c->stats_delay_s = CFG_DEFAULT_STATS_DELAY_S;
	c->command_timeout_s = CFG_DEFAULT_COMMAND_TIMEOUT_S;
	c->env_backups = ENVFILE_DEFAULT_KEEP_BACKUPS;
	c->seq_headroom_floor = CFG_DEFAULT_SEQ_HEADROOM_FLOOR;
	c->freeze_quiet_s = CFG_DEFAULT_FREEZE_QUIET_S;
	c->switch_gated = true;

	cfg_walk w = {.text = copy, .len = len, .file = file, .dir = c->dir, .e = e};
	int rc;
	if (!cJSON_IsObject(root))
		rc = cfg_fail(&w, false, "the config must be a JSON object ({...}), not %s",
		              type_name(root));
	else if ((rc = walk_members(&w, root, top_keys, top_member, c)) == 0 && !c->runbook)
		rc = cfg_fail(&w, false, "missing required key \"runbook\" (the path of the "
		              "Markdown runbook, relative to this file)");
	cJSON_Delete(root);
	free(copy);
	if (rc < 0) {
		config_free(c);
		return -1;
	}
	if (!c->workdir)
		c->workdir = xstrdup(c->dir);
	*out = c;
	return 0;
}

int config_load(const char *path, config **out, pgc_err *e)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	if (pgc_read_file(path, CFG_MAX_BYTES, &text, &len, e) < 0) {
		if (e && e->code == PGC_EXIT_NOINPUT && access(path, F_OK) != 0)
			pgc_fail(e, PGC_EXIT_NOINPUT, "%s: no such file (write a starter config with "
			         "`pgcutover init RUNBOOK`, or name one with -c FILE)", path);
		return -1;
	}
	int rc = config_parse(text, len, path, out, e);
	free(text);
	return rc;
}

static void endpoint_free(cfg_endpoint *ep)
{
	free(ep->conninfo);
	free(ep->url);
	free(ep->key_env);
	free(ep->count);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->dir);
	free(c->runbook);
	free(c->state);
	endpoint_free(&c->source);
	endpoint_free(&c->target);
	for (size_t i = 0; i < c->n_tables; i++) {
		free(c->tables[i].name);
		free(c->tables[i].pk);
	}
	free(c->tables);
	free(c->env_file);
	strv_free(c->flags, c->n_flags);
	strv_free(c->freeze_ignore, c->n_freeze_ignore);
	free(c->switch_item);
	free(c->switch_postpone_file);
	for (size_t i = 0; i < c->n_health; i++) {
		free(c->health[i].name);
		free(c->health[i].url);
		free(c->health[i].expect_body);
	}
	free(c->health);
	free(c->notify_url);
	free(c->notify_url_env);
	free(c->operator_name);
	free(c->workdir);
	free(c->point_of_no_return);
	strv_free(c->gates, c->n_gates);
	strv_free(c->verify_gates, c->n_verify_gates);
	free(c->text);
	free(c);
}

/* ---- default state path ---- */

char *config_default_state_path(const char *runbook_path, pgc_err *e)
{
	if (!runbook_path || !*runbook_path) {
		pgc_fail(e, PGC_EXIT_USAGE, "no runbook to name the state file after");
		return NULL;
	}
	const char *base = strrchr(runbook_path, '/');
	base = base ? base + 1 : runbook_path;
	size_t n = strlen(base);
	static const char *const exts[] = {".md", ".markdown"};
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		size_t el = strlen(exts[i]);
		if (n > el && strcasecmp(base + n - el, exts[i]) == 0) {
			n -= el;
			break;
		}
	}
	if (n == 0) {
		pgc_fail(e, PGC_EXIT_USAGE, "%s: cannot name a state file after this runbook path",
		         runbook_path);
		return NULL;
	}
	/* The XDG spec says a relative XDG_STATE_HOME is invalid and ignored. */
	const char *xdg = getenv("XDG_STATE_HOME");
	char *dir = xdg && xdg[0] == '/' ? xasprintf("%s/pgcutover", xdg)
	                                 : xasprintf("%s/.local/state/pgcutover", home_dir());
	/* 0700: the state holds the audit */
	if (pgc_mkdir_p(dir, 0700, e) < 0) {
		free(dir);
		return NULL;
	}
	char *path = xasprintf("%s/%.*s.db", dir, (int)n, base);
	free(dir);
	return path;
}

/* ---- positions and cross-checks for other modules ---- */

char *config_where(const config *c, const char *key_path)
{
	cJSON *root = c->text ? cJSON_ParseWithLength(c->text, c->text_len) : NULL;
	int path[JSONPOS_MAX_DEPTH];
	size_t depth = 0;
	const cJSON *node = root;
	const char *k = key_path;
	while (node && *k && depth < JSONPOS_MAX_DEPTH) {
		if (*k == '.') {
			k++;
			continue;
		}
		const cJSON *child;
		int i = 0;
		if (*k == '[') {
			char *end;
			long want = strtol(k + 1, &end, 10);
			if (*end != ']' || !cJSON_IsArray(node))
				break;
			for (child = node->child; child && i < want; child = child->next)
				i++;
			k = end + 1;
		} else {
			size_t n = strcspn(k, ".[");
			for (child = cJSON_IsObject(node) ? node->child : NULL; child; child = child->next, i++)
				if (strlen(child->string) == n && strncmp(child->string, k, n) == 0)
					break;
			k += n;
		}
		node = child;
		if (node)
			path[depth++] = i;
	}
	jsonpos p;
	char *where;
	if (node && !*k && jsonpos_find(c->text, c->text_len, path, depth, false, &p) == 0)
		where = xasprintf("%s:%d:%d", c->path, p.line, p.col);
	else
		where = xstrdup(c->path);
	cJSON_Delete(root);
	return where;
}

static void add_warning(char ***w, size_t *n, char *msg)
{
	*w = xrealloc(*w, (*n + 1) * sizeof **w);
	(*w)[(*n)++] = msg;
}

/* NAME in a "NAME=VALUE" assignment line. */
static bool assigns_name(const char *line, const char *name)
{
	size_t n = strlen(name);
	return strncmp(line, name, n) == 0 && line[n] == '=';
}

size_t config_check_runbook(const config *c, const runbook *rb,
                            char ***warnings, size_t *n_warnings)
{
	size_t before = *n_warnings;
	if (c->point_of_no_return && !runbook_item(rb, c->point_of_no_return, NULL)) {
		char *where = config_where(c, "point_of_no_return");
		add_warning(warnings, n_warnings,
		            xasprintf("%s: point_of_no_return: the runbook has no item \"%s\"", where,
		                      c->point_of_no_return));
		free(where);
	}
	for (int verify = 0; verify < 2; verify++) {
		char *const *gates = verify ? c->verify_gates : c->gates;
		size_t n = verify ? c->n_verify_gates : c->n_gates;
		for (size_t i = 0; i < n; i++) {
			if (runbook_phase(rb, gates[i]))
				continue;
			char key[48];
			snprintf(key, sizeof key, "%sgates[%zu]", verify ? "verify." : "", i);
			char *where = config_where(c, key);
			add_warning(warnings, n_warnings,
			            xasprintf("%s: %s: the runbook has no phase \"%s\"", where, key, gates[i]));
			free(where);
		}
	}
	for (size_t i = 0; i < c->n_flags; i++) {
		bool used = false;
		for (size_t a = 0; a < rb->n_assignments && !used; a++)
			used = assigns_name(rb->assignments[a], c->flags[i]);
		for (size_t p = 0; p < rb->n_phases && !used; p++)
			for (size_t f = 0; f < rb->phases[p].n_flag_edits && !used; f++)
				used = strcmp(rb->phases[p].flag_edits[f].name, c->flags[i]) == 0;
		if (used)
			continue;
		char key[32];
		snprintf(key, sizeof key, "flags[%zu]", i);
		char *where = config_where(c, key);
		add_warning(warnings, n_warnings,
		            xasprintf("%s: %s: no NAME=VALUE line in the runbook sets \"%s\"", where, key,
		                      c->flags[i]));
		free(where);
	}
	return *n_warnings - before;
}
