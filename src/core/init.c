/*
 * init.c -- what `pgcutover init RUNBOOK [-o FILE] [--force]` decides and
 * writes: a starter pgcutover.json for an operator's own runbook.  Tables
 * come from the runbook's "in dependency order" lists
 * (runbook->dep_tables), or with a reachable source from its foreign keys
 * in dependency order (fkorder.c; cycles named).  Flags come from the
 * NAME=VALUE lines in runnable blocks, but only those that look like
 * feature flags or database switches (see is_flag_like; names only):
 * a line such as BACKUP_FILE=dump_$(date).sql is a shell variable, and
 * declaring it a flag would turn it into an .env edit and break the block.
 * The rest are listed so the operator can add them by hand.  Every URL an
 * item or a block curls becomes a health check, and a checkpoint saying "point
 * of no return" names the point_of_no_return item.  Source and target are
 * service-name placeholders, never passwords.  The file is checked with
 * config_parse() before it is written, and is not overwritten without
 * force.  Called by src/cli/cmd_init.c, which prints the outcome.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <cJSON.h>
#include "pgcutover/init.h"
#include "pgcutover/fkorder.h"
#include "pgcutover/config.h"
#include "pgcutover/runbook.h"

/* One NAME seen in NAME=VALUE lines, with what its values looked like. */
typedef struct init_assign {
	char *name;
	bool shell_value;   /* some value used $, quotes, spaces, paths ... */
	bool bool_value;    /* some value was true/false/on/off/1/0 ... */
	bool computed;      /* some value was computed: $VAR, `cmd`, $(cmd), blanks */
} init_assign;

/* What find_in_runbook() gathers: the NAME=VALUE names, then the outcome's lists. */
typedef struct init_found {
	init_assign *assigns;  size_t n_assigns;
	init_outcome *out;
} init_found;

static bool is_upper_name(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool is_bool_word(const char *v, size_t n)
{
	static const char *const words[] = {"true", "false", "on", "off", "yes", "no", "1", "0",
	                                    "enabled", "disabled"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strlen(words[i]) == n && strncasecmp(v, words[i], n) == 0)
			return true;
	return false;
}

/* A literal a .env file would hold: letters, digits, - _ . : , only. */
static bool is_plain_value(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == ','))
			return false;
	}
	return true;
}

/* Names shaped like feature flags in the runbooks seen in practice. */
static bool has_flag_shape(const char *name)
{
	static const char *const prefixes[] = {"USE_", "ENABLE_", "DISABLE_", "FEATURE_", "FF_",
	                                       "FLAG_", "ALLOW_"};
	static const char *const suffixes[] = {"_ENABLED", "_DISABLED", "_FLAG", "_MODE"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && strcmp(name + n - sl, suffixes[i]) == 0)
			return true;
	}
	return false;
}

static void note_assignment(init_found *f, const char *name, size_t nlen,
                            const char *value, size_t vlen, bool value_known)
{
	if (!is_upper_name(name, nlen))
		return;   /* lower-case names are shell variables, never .env flags */
	init_assign *a = NULL;
	for (size_t i = 0; i < f->n_assigns; i++)
		if (strlen(f->assigns[i].name) == nlen && strncmp(f->assigns[i].name, name, nlen) == 0)
			a = &f->assigns[i];
	if (!a) {
		f->assigns = xrealloc(f->assigns, (f->n_assigns + 1) * sizeof *f->assigns);
		a = &f->assigns[f->n_assigns++];
		*a = (init_assign){xstrndup(name, nlen), false, false, false};
	}
	if (!value_known)
		return;
	/* Quotes around a plain word are still a plain word. */
	if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
		value++;
		vlen -= 2;
	}
	if (!is_plain_value(value, vlen))
		a->shell_value = true;
	for (size_t i = 0; i < vlen; i++)
		if (value[i] == '$' || value[i] == '`' || value[i] == ' ' || value[i] == '\t')
			a->computed = true;
	else if (is_bool_word(value, vlen))
		a->bool_value = true;
}

/* "NAME=VALUE" (or a bare NAME) from runbook->assignments or a block line. */
static void note_line(init_found *f, const char *line, bool require_assignment)
{
	while (*line == ' ' || *line == '\t')
		line++;
	size_t nlen = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	if (nlen == 0)
		return;
	if (line[nlen] == '=') {
		const char *v = line + nlen + 1;
		size_t vlen = strcspn(v, "\r\n");
		/* "USE_X=true  # new DB" is an assignment with a comment. */
		for (size_t i = 1; i < vlen; i++)
			if (v[i] == '#' && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
				vlen = i;
				break;
			}
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		note_assignment(f, line, nlen, v, vlen, true);
	} else if (!require_assignment && line[nlen] == '\0') {
		note_assignment(f, line, nlen, NULL, 0, false);
	}
}

static bool in_list(const init_names *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static void push(init_names *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

/* The switches a database cutover really flips: DB_DRIVER=RDS,
 * DATABASE_URL=..., ORDERS_DATABASE_URL, PAYMENTS_DSN, REPLICA_DB. */
static bool is_db_switch(const char *name)
{
	size_t n = strlen(name);
	static const char *const suffixes[] = {"DATABASE_URL", "_DSN", "_DB", "_DRIVER"};
	if (strncmp(name, "DB_", 3) == 0)
		return true;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		size_t k = strlen(suffixes[i]);
		if (n >= k && strcmp(name + n - k, suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* A name becomes a flag when it is upper case, every value it was given is
 * a plain literal, and a value was boolean or the name has a flag shape;
 * or when it names a database switch whose values are written out (a URL
 * too: only the name goes in the config, never the value). */
static bool is_flag_like(const init_assign *a)
{
	if (!is_upper_name(a->name, strlen(a->name)))
		return false;
	if (is_db_switch(a->name))
		return !a->computed;
	return !a->shell_value && (a->bool_value || has_flag_shape(a->name));
}

/* True when url is acceptable as a health URL on its own (no credentials). */
static bool health_url_ok(const char *url)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "runbook", "x.md");
	cJSON *a = cJSON_AddArrayToObject(j, "health");
	cJSON_AddItemToArray(a, cJSON_CreateString(url));
	char *text = cJSON_PrintUnformatted(j);
	config *c = NULL;
	pgc_err e;
	bool good = config_parse(text, strlen(text), CFG_DEFAULT_NAME, &c, &e) == 0;
	config_free(c);
	cJSON_free(text);
	cJSON_Delete(j);
	return good;
}

static void add_health_url(init_found *f, const char *u)
{
	char *url = xstrndup(u, strcspn(u, " \t\r\n\"'`<>)"));
	/* a URL built from shell variables is not one to poll */
	if (!strpbrk(url, "${}") && !in_list(&f->out->health, url) && health_url_ok(url))
		push(&f->out->health, url);
	free(url);
}

/* The URL of an item that is only a `curl URL` health check. */
static void note_health(init_found *f, const rb_item *it)
{
	const char *t = it->inline_code ? it->inline_code : it->text;
	const char *u = t ? strstr(t, "http://") : NULL;
	if (t && !u)
		u = strstr(t, "https://");
	if (u)
		add_health_url(f, u);
}

/* Every URL a `curl` on one line of text fetches ("curl -sf
 * https://app/health | jq ."), in an item's text or inline code or in a
 * block. */
static void note_curls(init_found *f, const char *text)
{
	for (const char *c = text; c && (c = strstr(c, "curl ")) != NULL; c += 5) {
		if (c > text && (isalnum((unsigned char)c[-1]) || c[-1] == '_'))
			continue;
		size_t line = strcspn(c, "\n");
		const char *h = strstr(c, "http");
		if (h && (size_t)(h - c) < line && (strncmp(h, "http://", 7) == 0 || strncmp(h, "https://", 8) == 0))
			add_health_url(f, h);
	}
}

/* A checkpoint that says "point of no return" closes the step whose last
 * item is the point of no return. */
static void note_point_of_no_return(init_found *f, const rb_phase *ph)
{
	for (size_t s = 0; s < ph->n_steps && !f->out->point_of_no_return; s++) {
		const char *cp = ph->steps[s].checkpoint;
		if (!cp || !strcasestr(cp, "point of no return"))
			continue;
		const rb_item *last = NULL;
		for (size_t i = 0; i < ph->n_items; i++)
			if (ph->items[i].step == (int)s)
				last = &ph->items[i];
		if (last)
			f->out->point_of_no_return = xstrdup(last->id);
	}
}

static void find_in_runbook(const runbook *rb, init_found *f)
{
	for (size_t p = 0; p < rb->n_phases; p++) {
		const rb_phase *ph = &rb->phases[p];
		for (size_t i = 0; i < ph->n_items; i++) {
			if (ph->items[i].health_check)
				note_health(f, &ph->items[i]);
			note_curls(f, ph->items[i].text);
		}
		for (size_t b = 0; b < ph->n_blocks; b++)
			if (ph->blocks[b]->runnable)
				note_curls(f, ph->blocks[b]->text);
		note_point_of_no_return(f, ph);
	}
	/* The blocks first: they give the values, in file order. */
	for (size_t p = 0; p < rb->n_phases; p++) {
		const rb_phase *ph = &rb->phases[p];
		for (size_t b = 0; b < ph->n_blocks; b++) {
			const rb_block *blk = ph->blocks[b];
			if (!blk || !blk->runnable || !blk->text)
				continue;
			for (const char *l = blk->text; l && *l;) {
				note_line(f, l, true);
				l = strchr(l, '\n');
				if (l)
					l++;
			}
		}
	}
	for (size_t i = 0; i < rb->n_assignments; i++)
		note_line(f, rb->assignments[i], false);
	for (size_t i = 0; i < f->n_assigns; i++) {
		if (is_flag_like(&f->assigns[i]))
			push(&f->out->flags, f->assigns[i].name);
		else
			push(&f->out->not_flags, f->assigns[i].name);
	}
	for (size_t i = 0; i < rb->n_dep_tables; i++) {
		const char *t = rb->dep_tables[i];
		if (in_list(&f->out->tables, t))
			continue;
		if (config_is_table_name(t))
			push(&f->out->tables, t);
		else
			push(&f->out->skipped_tables, t);
	}
}

static void names_free(init_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void found_free(init_found *f)
{
	for (size_t i = 0; i < f->n_assigns; i++)
		free(f->assigns[i].name);
	free(f->assigns);
}

/* ---- paths ---- */

static char *abs_dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	char *d = slash ? xstrndup(file, slash == file ? 1 : (size_t)(slash - file)) : xstrdup(".");
	char *r = realpath(d, NULL);
	free(d);
	return r;
}

/* The runbook's path as written in the config: relative to the config's
 * directory (so the pair can move together), absolute when they share
 * nothing but "/". */
static char *runbook_path_for(const char *runbook_abs, const char *cfg_dir)
{
	size_t common = 0;
	for (size_t i = 0; cfg_dir[i] && cfg_dir[i] == runbook_abs[i]; i++)
		if (cfg_dir[i] == '/')
			common = i;
	size_t dl = strlen(cfg_dir);
	if (strncmp(runbook_abs, cfg_dir, dl) == 0 && (runbook_abs[dl] == '/' || dl == 1))
		return xstrdup(runbook_abs + dl + (dl == 1 ? 0 : 1));
	if (common == 0)
		return xstrdup(runbook_abs);
	strbuf b;
	sb_init(&b);
	for (const char *p = cfg_dir + common; *p; p++)
		if (*p == '/')
			sb_puts(&b, "../");
	sb_puts(&b, runbook_abs + common + 1);
	return sb_steal(&b);
}

/* ---- output ---- */

static void put_json_string(strbuf *b, const char *s)
{
	cJSON *j = cJSON_CreateString(s);
	char *txt = cJSON_PrintUnformatted(j);
	sb_puts(b, txt);
	cJSON_free(txt);
	cJSON_Delete(j);
}

static void put_list(strbuf *b, const char *key, const init_names *l, bool last)
{
	char **v = l->v;
	size_t n = l->n;
	sb_printf(b, "  \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		sb_puts(b, i ? ",\n    " : "\n    ");
		put_json_string(b, v[i]);
	}
	sb_puts(b, n ? "\n  ]" : "]");
	sb_puts(b, last ? "\n" : ",\n");
}

static char *render_config(const char *runbook_rel, const init_outcome *f)
{
	strbuf b;
	sb_init(&b);
	sb_puts(&b, "{\n  \"runbook\": ");
	put_json_string(&b, runbook_rel);
	sb_puts(&b, ",\n  \"source\": \"" INIT_SOURCE_PLACEHOLDER "\",\n"
	            "  \"target\": \"" INIT_TARGET_PLACEHOLDER "\",\n");
	put_list(&b, "tables", &f->tables, false);
	sb_puts(&b, "  \"env_file\": \"" INIT_ENV_FILE "\",\n");
	bool more = f->health.n || f->point_of_no_return;
	put_list(&b, "flags", &f->flags, !more);
	if (f->health.n)
		put_list(&b, "health", &f->health, !f->point_of_no_return);
	if (f->point_of_no_return) {
		sb_puts(&b, "  \"point_of_no_return\": ");
		put_json_string(&b, f->point_of_no_return);
		sb_puts(&b, "\n");
	}
	sb_puts(&b, "}\n");
	return sb_steal(&b);
}

/* Not over an existing file without --force, so a config that appears
 * meanwhile is not lost; either way all or nothing (util.c). */
static int write_config(init_outcome *r, const char *text, bool force, pgc_err *e)
{
	const char *out = r->config_path;
	if (pgc_write_file_atomic(out, text, strlen(text), INIT_FILE_MODE, force ? 0 : PGC_WRITE_NO_CLOBBER, e) == 0)
		return 0;
	if (errno == EEXIST && !force) {
		r->exists = true;
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s already exists; pass --force to overwrite it", out);
	}
	return -1;
}

static void json_array(cJSON *obj, const char *key, const init_names *l)
{
	cJSON *a = cJSON_AddArrayToObject(obj, key);
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
}

char *init_outcome_json(const init_outcome *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "config", r->config_path ? r->config_path : "");
	cJSON_AddStringToObject(j, "runbook", r->runbook ? r->runbook : "");
	cJSON_AddNumberToObject(j, "phases", (double)r->n_phases);
	cJSON_AddNumberToObject(j, "items", (double)r->n_items);
	json_array(j, "tables", &r->tables);
	json_array(j, "skipped_tables", &r->skipped_tables);
	cJSON_AddStringToObject(j, "tables_from", r->tables_from_source ? "source" : "runbook");
	json_array(j, "cycles", &r->cycles);
	json_array(j, "flags", &r->flags);
	json_array(j, "not_flags", &r->not_flags);
	json_array(j, "health", &r->health);
	if (r->point_of_no_return)
		cJSON_AddStringToObject(j, "point_of_no_return", r->point_of_no_return);
	else
		cJSON_AddNullToObject(j, "point_of_no_return");
	cJSON_AddStringToObject(j, "source", INIT_SOURCE_PLACEHOLDER);
	cJSON_AddStringToObject(j, "target", INIT_TARGET_PLACEHOLDER);
	char *s = cJSON_Print(j);
	char *text = xstrdup(s);
	cJSON_free(s);
	cJSON_Delete(j);
	return text;
}

void init_outcome_free(init_outcome *r)
{
	if (!r)
		return;
	free(r->config_path);
	free(r->runbook);
	free(r->title);
	names_free(&r->tables);
	names_free(&r->skipped_tables);
	names_free(&r->cycles);
	names_free(&r->flags);
	names_free(&r->not_flags);
	names_free(&r->health);
	free(r->point_of_no_return);
	*r = (init_outcome){0};
}

/* The tables of a reachable source, referenced ones first, in place of
 * the runbook's lists; its reference cycles named. */
static int tables_from_source(const char *conninfo, init_outcome *r, pgc_err *e)
{
	fk_order fo;
	if (fk_order_read(conninfo, &fo, e) < 0)
		return -1;
	names_free(&r->tables);
	names_free(&r->skipped_tables);
	for (size_t i = 0; i < fo.n_tables; i++)
		push(config_is_table_name(fo.tables[i]) ? &r->tables : &r->skipped_tables, fo.tables[i]);
	for (size_t i = 0; i < fo.n_cycles; i++)
		push(&r->cycles, fo.cycles[i]);
	r->tables_from_source = true;
	fk_order_free(&fo);
	return 0;
}

/* Everything but the write: r->config_path, r->runbook and the lists
 * decided; *text the config (malloc'd). */
static int init_decide(const init_options *o, init_outcome *r, char **text, pgc_err *e)
{
	const char *out = o->out ? o->out : CFG_DEFAULT_NAME;
	/* "-o ops/" means ops/pgcutover.json. */
	struct stat st;
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t ol = strlen(out);
		r->config_path = xasprintf("%s%s%s", out, ol && out[ol - 1] == '/' ? "" : "/",
		                           CFG_DEFAULT_NAME);
	} else {
		r->config_path = xstrdup(out);
	}
	out = r->config_path;

	runbook *rb = NULL;
	rb_options ropt = {0};
	if (runbook_load(o->runbook_path, &ropt, &rb, e) < 0)
		return -1;
	r->title = xstrdup(rb->title ? rb->title : "");
	r->n_phases = rb->n_phases;
	r->n_items = rb->n_items_total;
	char *rb_abs = realpath(o->runbook_path, NULL);
	char *out_dir = abs_dir_of(out);
	int rc = 0;
	if (!rb_abs || !out_dir) {
		rc = pgc_fail(e, rb_abs ? PGC_EXIT_CANTCREAT : PGC_EXIT_NOINPUT, "%s: %s",
		              rb_abs ? out : o->runbook_path, strerror(errno));
	} else {
		r->runbook = runbook_path_for(rb_abs, out_dir);
		init_found f = {.out = r};
		find_in_runbook(rb, &f);
		found_free(&f);
		if (o->source)
			rc = tables_from_source(o->source, r, e);
		*text = rc == 0 ? render_config(r->runbook, r) : xstrdup("");
	}
	if (rc == 0 && rb_abs && out_dir) {
		/* What init writes must load; a failure here is a bug in init. */
		config *check = NULL;
		const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
		char *out_abs = xasprintf("%s/%s", out_dir, base);
		if (config_parse(*text, strlen(*text), out_abs, &check, e) < 0) {
			char why[sizeof e->msg];
			snprintf(why, sizeof why, "%s", e->msg);
			rc = pgc_fail(e, PGC_EXIT_SOFTWARE, "init produced a config it cannot read: %.900s", why);
		}
		config_free(check);
		free(out_abs);
	}
	free(rb_abs);
	free(out_dir);
	runbook_free(rb);
	return rc;
}

int init_write_config(const init_options *o, init_outcome *r, pgc_err *e)
{
	*r = (init_outcome){0};
	char *text = NULL;
	int rc = init_decide(o, r, &text, e);
	if (rc == 0)
		rc = write_config(r, text, o->force, e);
	r->written = rc == 0;
	free(text);
	return rc;
}
