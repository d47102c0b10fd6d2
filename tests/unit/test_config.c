/*
 * test_config.c -- pgcutover.json parsing: a full valid config, defaults,
 * every class of error with its exact line:col, refusal of inline passwords
 * and keys (never echoed), relative path resolution, the Supabase source,
 * the position scanner, and the default state path.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "pgcutover/config.h"
#include "pgcutover/envfile.h"
#include "pgcutover/jsonpos.h"
#include "pgcutover/runbook.h"
#include "tap.h"

#define CFG_PATH "/cfg/proj/pgcutover.json"

static void many_tables(void);

/* Parses text; returns the config or NULL with *e filled. */
static config *parse(const char *text, pgc_err *e)
{
	config *c = NULL;
	pgc_err_clear(e);
	if (config_parse(text, strlen(text), CFG_PATH, &c, e) < 0)
		return NULL;
	return c;
}

/* Expects text to fail with exactly want as the message and exit 65. */
static void fails_with(const char *text, const char *want, const char *name)
{
	pgc_err e;
	config *c = parse(text, &e);
	ok(c == NULL, "%s: refused", name);
	is_int(e.code, PGC_EXIT_DATAERR, "exit code 65");
	is_str(e.msg, want, name);
	config_free(c);
}

static const char full_text[] =
		"{\n"
		"  \"runbook\": \"docs/MIGRATION.md\",\n"
		"  \"state\": \"../state/booking.db\",\n"
		"  \"source\": \"service=booking_source\",\n"
		"  \"target\": \"postgresql://app@db.internal:5432/booking?sslmode=require\",\n"
		"  \"tables\": [\"companies\", {\"name\": \"public.clients\", \"pk\": \"id\"}],\n"
		"  \"env_file\": \"./app/.env\",\n"
		"  \"flags\": [\"USE_LEGACY_SUPABASE\", \"USE_REPOSITORY_PATTERN\"],\n"
		"  \"health\": [\"http://127.0.0.1:3000/health\",\n"
		"             {\"name\": \"api\", \"url\": \"https://api.example.com/ping\",\n"
		"              \"expect_status\": 204, \"expect_body\": \"ok\", \"timeout_ms\": 1500}],\n"
		"  \"notify\": {\"webhook\": \"https://hooks.example.com/T1\"},\n"
		"  \"operator\": \"alice\",\n"
		"  \"workdir\": \"/srv/app\",\n"
		"  \"command_timeout\": 120,\n"
		"  \"pool_size\": 8,\n"
		"  \"env_backups\": 3,\n"
		"  \"statement_timeout_ms\": 0,\n"
		"  \"point_of_no_return\": \"5.3\",\n"
		"  \"gates\": [\"3\", \"post-migration\"],\n"
		"  \"auto_tick\": true,\n"
		"  \"_comment\": \"keys starting with _ are ignored\"\n"
		"}\n";

static void test_full(void)
{
	pgc_err e;
	config *c = parse(full_text, &e);
	if (!ok(c != NULL, "full config parses"))
		printf("#   %s\n", e.msg);
	if (!c)
		return;
	is_str(c->path, CFG_PATH, "path kept");
	is_str(c->dir, "/cfg/proj", "dir is the config's directory");
	is_str(c->runbook, "/cfg/proj/docs/MIGRATION.md", "runbook resolved against the config dir");
	is_str(c->state, "/cfg/state/booking.db", "state with .. resolved");
	is_int(c->source.kind, CFG_EP_POSTGRES, "source is postgres");
	is_str(c->source.conninfo, "service=booking_source", "source conninfo");
	is_str(c->target.conninfo, "postgresql://app@db.internal:5432/booking?sslmode=require",
	       "target URI with a user but no password");
	is_int(c->n_tables, 2, "two tables");
	is_str(c->tables[0].name, "companies", "table as a string");
	ok(c->tables[0].pk == NULL, "no pk for a plain table");
	is_str(c->tables[1].name, "public.clients", "table as an object");
	is_str(c->tables[1].pk, "id", "pk");
	is_str(c->env_file, "/cfg/proj/app/.env", "env_file with ./ resolved");
	is_int(c->n_flags, 2, "two flags");
	is_str(c->flags[1], "USE_REPOSITORY_PATTERN", "flag order kept");
	is_int(c->n_health, 2, "two health checks");
	is_str(c->health[0].url, "http://127.0.0.1:3000/health", "health as a URL");
	is_str(c->health[0].name, "http://127.0.0.1:3000/health", "name defaults to the URL");
	is_int(c->health[0].expect_status, 0, "any 2xx by default");
	is_int(c->health[0].timeout_ms, CFG_DEFAULT_HEALTH_TIMEOUT_MS, "default health timeout");
	is_str(c->health[1].name, "api", "health name");
	is_int(c->health[1].expect_status, 204, "expect_status");
	is_str(c->health[1].expect_body, "ok", "expect_body");
	is_int(c->health[1].timeout_ms, 1500, "timeout_ms");
	is_str(c->notify_url, "https://hooks.example.com/T1", "notify webhook");
	is_str(c->operator_name, "alice", "operator");
	is_str(c->workdir, "/srv/app", "absolute workdir kept");
	is_int(c->command_timeout_s, 120, "command_timeout");
	is_int(c->pool_size, 8, "pool_size");
	is_int(c->env_backups, 3, "env_backups");
	is_int(c->statement_timeout_ms, 0, "statement_timeout_ms 0 = none");
	is_str(c->point_of_no_return, "5.3", "point_of_no_return");
	is_int(c->n_gates, 2, "gates");
	is_str(c->gates[1], "post-migration", "slug gate");
	ok(c->auto_tick, "auto_tick true");
	config_free(c);
}

static void test_defaults(void)
{
	pgc_err e;
	config *c = parse("{\"runbook\": \"plan.md\", \"state\": null, \"notify\": \"http://127.0.0.1:9/x\"}", &e);
	if (!ok(c != NULL, "minimal config parses"))
		printf("#   %s\n", e.msg);
	if (!c)
		return;
	ok(c->state == NULL, "null means not set");
	is_int(c->source.kind, CFG_EP_NONE, "no source");
	is_int(c->pool_size, CFG_DEFAULT_POOL, "default pool");
	is_int(c->statement_timeout_ms, CFG_DEFAULT_STATEMENT_TIMEOUT_MS, "default statement timeout");
	is_int(c->command_timeout_s, CFG_DEFAULT_COMMAND_TIMEOUT_S, "default command timeout");
	is_int(c->env_backups, ENVFILE_DEFAULT_KEEP_BACKUPS, "default env_backups (10)");
	is_str(c->workdir, "/cfg/proj", "workdir defaults to the config dir");
	is_str(c->notify_url, "http://127.0.0.1:9/x", "notify as a plain URL");
	config_free(c);

	char *home_rb = xasprintf("%s/plans/x.md", getenv("HOME") ? getenv("HOME") : "/");
	c = parse("{\"runbook\": \"~/plans/x.md\"}", &e);
	ok(c && strcmp(c->runbook, home_rb) == 0, "~/ resolves under $HOME");
	config_free(c);
	free(home_rb);

	char cwd[4096];
	ok(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
	c = NULL;
	config_parse("{\"runbook\": \"r.md\"}", 19, "sub/pgcutover.json", &c, &e);
	char *want = xasprintf("%s/sub/r.md", cwd);
	ok(c && strcmp(c->runbook, want) == 0, "relative config path: runbook made absolute");
	free(want);
	config_free(c);
}

static void test_syntax(void)
{
	fails_with("{\n  \"runbook\": \"a.md\",\n}\n",
	           CFG_PATH ":2:20: trailing comma before '}'", "trailing comma");
	fails_with("{\n  \"runbook\": \"a.md\"\n  \"state\": \"s.db\"\n}",
	           CFG_PATH ":3:3: missing ',' between members", "missing comma");
	fails_with("{\"runbook\": \"a.md\n}", CFG_PATH ":1:13: unterminated string",
	           "string cut by a newline");
	fails_with("{\n  // the plan\n  \"runbook\": \"a.md\"\n}",
	           CFG_PATH ":2:3: comments are not allowed in JSON", "comment");
	fails_with("", CFG_PATH ":1:1: the file is empty; expected a JSON object", "empty file");
	fails_with("{\"runbook\": \"a.md\"} x", CFG_PATH ":1:21: unexpected text after the end of the JSON value",
	           "trailing text");
	fails_with("{\"runbook\": 'a.md'}", CFG_PATH ":1:13: strings must be in double quotes",
	           "single quotes");
	fails_with("{\"runbook\": \"a\\q.md\"}", CFG_PATH ":1:15: invalid escape in a string (a backslash is written \\\\)",
	           "bad escape");
	fails_with("{\"pool_size\": 04}", CFG_PATH ":1:15: numbers cannot start with 0", "leading zero");
	fails_with("{\"runbook\": \"a.md\",\n \"tables\": [\"a\",]}", CFG_PATH ":2:16: trailing comma before ']'",
	           "trailing comma in an array");
	fails_with("{\"runbook\": \"a.md\"", CFG_PATH ":1:19: end of input inside the object opened at 1:1",
	           "unclosed object");
	fails_with("{\r\n  \"runbook\": \"a.md\",\r\n  \"x\": 1\r\n}\r\n",
	           CFG_PATH ":3:3: unknown key \"x\"", "CRLF line ends");
	fails_with("[1]", CFG_PATH ":1:1: the config must be a JSON object ({...}), not an array",
	           "root must be an object");

	pgc_err e;
	config *c = parse("{\"source\": hunter2secret}", &e);
	ok(c == NULL && strstr(e.msg, ":1:12: expected a value") != NULL, "bare word refused at its position");
	ok(strstr(e.msg, "hunter2") == NULL, "bare word not echoed");

	static const char with_nul[] = "{\"runbook\":\n \"a\0.md\"}";
	c = NULL;
	config_parse(with_nul, sizeof with_nul - 1, CFG_PATH, &c, &e);
	is_str(e.msg, CFG_PATH ":2:4: NUL byte in the file", "NUL byte");

	c = parse("\xEF\xBB\xBF{\"runbook\": \"a.md\"}", &e);
	ok(c != NULL, "a UTF-8 byte order mark is accepted");
	config_free(c);
}

static void test_keys_and_types(void)
{
	fails_with("{\n  \"runbook\": \"a.md\",\n  \"sourc\": \"service=x\"\n}",
	           CFG_PATH ":3:3: unknown key \"sourc\" (did you mean \"source\"?)", "unknown key with a suggestion");
	fails_with("{\"runbook\": \"a.md\", \"colour\": true}",
	           CFG_PATH ":1:21: unknown key \"colour\"", "unknown key without a suggestion");
	fails_with("{\"runbook\": \"a.md\",\n \"health\": [\"http://h/\", {\"url\": \"http://h/\", \"timeout\": 5}]}",
	           CFG_PATH ":2:47: health[1]: unknown key \"timeout\" (did you mean \"timeout_ms\"?)",
	           "unknown nested key");
	fails_with("{\"runbook\": \"a.md\", \"\\u001b[2Jx\": 1}",
	           CFG_PATH ":1:21: unknown key \"?[2Jx\"", "escape sequences in a key are not echoed raw");
	fails_with("{\"runbook\": \"a.md\", \"runbook\": \"b.md\"}",
	           CFG_PATH ":1:21: runbook: duplicate key", "duplicate key");
	fails_with("{\"runbook\": \"a.md\",\n  \"pool_size\": \"4\"}",
	           CFG_PATH ":2:16: pool_size: must be a number, not a string", "wrong type: string for number");
	fails_with("{\"runbook\": \"a.md\", \"pool_size\": 2.5}",
	           CFG_PATH ":1:34: pool_size: must be a whole number", "fraction");
	fails_with("{\"runbook\": \"a.md\", \"pool_size\": 0}",
	           CFG_PATH ":1:34: pool_size: must be between 1 and 64", "out of range");
	fails_with("{\"runbook\": \"a.md\", \"verify\": {\"rows_per_range\": 1}}",
	           CFG_PATH ":1:50: verify.rows_per_range: must be between 16 and 100000000",
	           "verify: rows_per_range below the floor");
	fails_with("{\"runbook\": \"a.md\", \"verify\": 5}",
	           CFG_PATH ":1:31: verify: must be {\"rows_per_range\": N, \"pause_ms\": N, \"gates\": [...]}, not a number",
	           "verify: must be an object");
	{
		pgc_err ve = {0};
		config *vc = parse("{\"runbook\": \"a.md\", \"verify\": {\"rows_per_range\": 5000, \"pause_ms\": 250}}", &ve);
		ok(vc && vc->verify_rows_per_range == 5000 && vc->verify_pause_ms == 250,
		   "verify: rows_per_range and pause_ms read");
		config_free(vc);
	}
	fails_with("{\"runbook\": \"a.md\", \"env_backups\": 0}",
	           CFG_PATH ":1:36: env_backups: must be between 1 and 1000", "env_backups 0");
	fails_with("{\"runbook\": \"a.md\", \"env_backups\": 1001}",
	           CFG_PATH ":1:36: env_backups: must be between 1 and 1000", "env_backups over the cap");
	fails_with("{\"runbook\": \"a.md\", \"env_backups\": \"5\"}",
	           CFG_PATH ":1:36: env_backups: must be a number, not a string", "env_backups as a string");
	fails_with("{\"runbook\": 7}", CFG_PATH ":1:13: runbook: must be a string, not a number", "runbook number");
	fails_with("{\"runbook\": \"\"}", CFG_PATH ":1:13: runbook: must not be empty", "empty string");
	fails_with("{\"runbook\": \"a.md\",\n \"tables\": [\"a\", 3]}",
	           CFG_PATH ":2:18: tables[1]: must be a table name or {\"name\": ..., \"pk\": ...}, not a number",
	           "table element of the wrong type");
	fails_with("{\"runbook\": \"a.md\", \"tables\": [\"a\", \"b\", \"a\"]}",
	           CFG_PATH ":1:42: tables[2]: table \"a\" is listed twice", "duplicate table");
	many_tables();
	fails_with("{\"runbook\": \"a.md\", \"tables\": [\"a; drop table x\"]}",
	           CFG_PATH ":1:32: tables[0]: not a table name (\"table\" or \"schema.table\")", "bad table name");
	fails_with("{\"runbook\": \"a.md\", \"flags\": [\"USE-X\"]}",
	           CFG_PATH ":1:31: flags[0]: not a variable name (letters, digits and _)", "bad flag name");
	fails_with("{\"runbook\": \"a.md\", \"health\": [\"ftp://x/\"]}",
	           CFG_PATH ":1:32: health[0]: must be an http:// or https:// URL", "health scheme");
	fails_with("{\"runbook\": \"a.md\", \"health\": [{\"url\": \"http://x/\", \"expect_status\": 700}]}",
	           CFG_PATH ":1:70: health[0].expect_status: must be between 100 and 599", "status range");
	fails_with("{\"runbook\": \"a.md\", \"target\": {\"supabase\": {}}}",
	           CFG_PATH ":1:31: target: must be a connection string (\"service=NAME\", \"host=... dbname=...\" or a postgresql:// URI), not an object",
	           "supabase only as the source");
	fails_with("{\"runbook\": \"a.md\", \"source\": \"host=x bogus=1\"}",
	           CFG_PATH ":1:31: source: not a valid connection string: invalid connection option \"bogus\" (expected \"host=... dbname=...\", \"service=NAME\" or a postgresql:// URI)",
	           "invalid conninfo");
	/* Positions after escapes and multi-byte characters. */
	fails_with("{\"runbook\": \"a\\\"b\", \"x\": 1}", CFG_PATH ":1:21: unknown key \"x\"",
	           "escaped quote does not end the string");
	fails_with("{\"runbook\": \"\xc3\xa9t\xc3\xa9.md\", \"x\": 1}", CFG_PATH ":1:23: unknown key \"x\"",
	           "columns count characters, not bytes");
}

static void test_required(void)
{
	fails_with("{\n  \"state\": \"s.db\"\n}",
	           CFG_PATH ":1:1: missing required key \"runbook\" (the path of the Markdown runbook, relative to this file)",
	           "runbook is required");
	fails_with("{\"runbook\": \"a.md\",\n \"tables\": [{\"pk\": \"id\"}]}",
	           CFG_PATH ":2:13: tables[0]: missing required key \"name\"", "table name is required");
	fails_with("{\"runbook\": \"a.md\",\n \"health\": [{\"name\": \"x\"}]}",
	           CFG_PATH ":2:13: health[0]: missing required key \"url\"", "health url is required");
	fails_with("{\"runbook\": \"a.md\",\n \"source\": {\"supabase\": {\"url\": \"https://p.supabase.co\"}}}",
	           CFG_PATH ":2:25: source.supabase: missing required key \"key_env\" (the environment variable holding the service key, e.g. \"SUPABASE_KEY\")",
	           "supabase key_env is required");
	fails_with("{\"runbook\": \"a.md\", \"source\": {}}",
	           CFG_PATH ":1:31: source: missing required key \"supabase\"", "source object needs supabase");
}

/* The secret must be refused, at its position, and never echoed. */
static void refuses_secret(const char *text, const char *prefix, const char *secret,
                           const char *hint, const char *name)
{
	pgc_err e;
	config *c = parse(text, &e);
	ok(c == NULL && e.code == PGC_EXIT_DATAERR, "%s: refused with 65", name);
	if (!ok(strncmp(e.msg, prefix, strlen(prefix)) == 0, "%s: position", name))
		printf("#   got '%s', want prefix '%s'\n", e.msg, prefix);
	if (!ok(strstr(e.msg, secret) == NULL, "%s: secret not in the message", name))
		printf("#   got '%s'\n", e.msg);
	if (!ok(strstr(e.msg, hint) != NULL, "%s: message points to %s", name, hint))
		printf("#   got '%s'\n", e.msg);
	config_free(c);
}

static void test_passwords(void)
{
	refuses_secret("{\"runbook\": \"a.md\",\n \"source\": \"host=db user=app password=Sup3rS3cret dbname=x\"}",
	               CFG_PATH ":2:12: source: a password is written", "Sup3rS3cret", "~/.pgpass",
	               "password= in a conninfo");
	refuses_secret("{\"runbook\": \"a.md\",\n \"target\": \"postgresql://app:Sup3rS3cret@db/x\"}",
	               CFG_PATH ":2:12: target: a password is written in the URI", "Sup3rS3cret", "PGPASSWORD",
	               "user:pass@ in a URI");
	refuses_secret("{\"runbook\": \"a.md\",\n \"target\": \"postgres://db/x?user=app&password=Sup3rS3cret\"}",
	               CFG_PATH ":2:12: target: a password is written", "Sup3rS3cret", "pg_service.conf",
	               "password in URI parameters");
	refuses_secret("{\"runbook\": \"a.md\",\n \"source\": \"host=db password='Sup3r S3cret\"}",
	               CFG_PATH ":2:12: source: not a valid connection string, and it seems to hold a password",
	               "S3cret", "~/.pgpass", "malformed conninfo with a password");
	refuses_secret("{\"runbook\": \"a.md\",\n \"source\": {\"password\": \"Sup3rS3cret\"}}",
	               CFG_PATH ":2:13: source.password: passwords are not accepted here", "Sup3rS3cret",
	               "~/.pgpass", "password key");
	refuses_secret("{\"runbook\": \"a.md\", \"password\": \"Sup3rS3cret\"}",
	               CFG_PATH ":1:21: password: passwords are not accepted here", "Sup3rS3cret",
	               "~/.pgpass", "password key at the top");
	refuses_secret("{\"runbook\": \"a.md\",\n \"source\": {\"supabase\": {\"url\": \"https://p.supabase.co\",\n"
	               "   \"key\": \"eyJhbGciOiJIUzI1NiJ9.Sup3rS3cret\"}}}",
	               CFG_PATH ":3:4: source.supabase.key: keys and tokens are not accepted here",
	               "Sup3rS3cret", "key_env", "inline supabase key");
	refuses_secret("{\"runbook\": \"a.md\", \"health\": [\"https://ops:Sup3rS3cret@h/health\"]}",
	               CFG_PATH ":1:32: health[0]: a password is written in the URL", "Sup3rS3cret",
	               "environment", "password in a health URL");
	refuses_secret("{\"runbook\": \"a.md\", \"source\": {\"supabase\": {\"url\": \"https://p.supabase.co/?apikey=Sup3rS3cret\", \"key_env\": \"K\"}}}",
	               CFG_PATH ":1:52: source.supabase.url: an API key is written in the URL", "Sup3rS3cret",
	               "key_env", "apikey in a supabase URL");
	refuses_secret("{\"runbook\": \"a.md\", \"source\": {\"supabase\": {\"url\": \"https://p.supabase.co\", \"key_env\": \"eyJ.Sup3rS3cret\"}}}",
	               CFG_PATH ":1:88: source.supabase.key_env: must name an environment variable",
	               "Sup3rS3cret", "SUPABASE_KEY", "a key pasted into key_env");
	pgc_err e;
	config *c = parse("{\"runbook\": \"a.md\", \"source\": \"host=db passfile=/home/a/.pgpass dbname=x\"}", &e);
	ok(c != NULL, "passfile is not a password");
	config_free(c);
}

static void test_supabase(void)
{
	pgc_err e;
	config *c = parse("{\"runbook\": \"a.md\",\n"
	                  " \"source\": {\"supabase\": {\"url\": \"https://abc.supabase.co\", \"key_env\": \"SUPABASE_KEY\"}},\n"
	                  " \"target\": \"service=new\"}", &e);
	if (!ok(c != NULL, "supabase source parses"))
		printf("#   %s\n", e.msg);
	if (!c)
		return;
	is_int(c->source.kind, CFG_EP_SUPABASE, "kind supabase");
	is_str(c->source.url, "https://abc.supabase.co", "url");
	is_str(c->source.key_env, "SUPABASE_KEY", "key_env");
	is_str(c->source.count, "exact", "count defaults to exact");
	ok(c->source.conninfo == NULL, "no conninfo for supabase");
	is_int(c->target.kind, CFG_EP_POSTGRES, "target postgres");
	config_free(c);

	c = parse("{\"runbook\": \"a.md\", \"source\": {\"supabase\": {\"url\": \"https://abc.supabase.co\", "
	          "\"key_env\": \"K\", \"count\": \"planned\"}}}", &e);
	ok(c && strcmp(c->source.count, "planned") == 0, "count planned");
	config_free(c);
	fails_with("{\"runbook\": \"a.md\", \"source\": {\"supabase\": {\"url\": \"https://abc.supabase.co\", "
	           "\"key_env\": \"K\", \"count\": \"fast\"}}}",
	           CFG_PATH ":1:104: source.supabase.count: must be \"exact\", \"planned\" or \"estimated\"",
	           "count must be known");
}

static void test_notify(void)
{
	pgc_err e;
	config *c = parse("{\"runbook\": \"a.md\", \"notify\": {\"webhook_env\": \"PGCUTOVER_WEBHOOK\"}}", &e);
	ok(c && c->notify_url == NULL && c->notify_url_env &&
	   strcmp(c->notify_url_env, "PGCUTOVER_WEBHOOK") == 0, "notify webhook from the environment");
	config_free(c);
	fails_with("{\"runbook\": \"a.md\", \"notify\": {\"webhook\": \"https://h/x\", \"webhook_env\": \"W\"}}",
	           CFG_PATH ":1:31: notify: give \"webhook\" or \"webhook_env\", not both", "webhook and webhook_env");
	fails_with("{\"runbook\": \"a.md\", \"notify\": 3}",
	           CFG_PATH ":1:31: notify: must be a URL or {\"webhook\": URL}, not a number", "notify type");
	fails_with("{\"runbook\": \"a\\u0000.md\"}",
	           CFG_PATH ":1:15: \\u0000 (NUL) is not allowed in a string", "\\u0000 refused");
}

static void test_where_and_cross_check(void)
{
	pgc_err e;
	config *c = parse(full_text, &e);
	if (!c)
		return;
	char *w = config_where(c, "tables[1]");
	is_str(w, CFG_PATH ":6:27", "config_where: an array element");
	free(w);
	w = config_where(c, "health[1].timeout_ms");
	is_str(w, CFG_PATH ":11:72", "config_where: a nested member");
	free(w);
	w = config_where(c, "nowhere[3]");
	is_str(w, CFG_PATH, "config_where: unknown path gives the file alone");
	free(w);
	config_free(c);

	static const char rb_text[] =
		"# T\n\n## Phase 1: One\n\n- [ ] first\n  ```bash\n  USE_X=true\n  ```\n- [ ] second\n";
	runbook *rb = NULL;
	rb_options opt = {0};
	if (!ok(runbook_parse(rb_text, sizeof rb_text - 1, "r.md", &opt, &rb, &e) == 0, "runbook for cross-check"))
		printf("#   %s\n", e.msg);
	c = parse("{\"runbook\": \"r.md\",\n \"flags\": [\"USE_X\", \"USE_Y\"],\n"
	          " \"gates\": [\"1\", \"9\"],\n \"point_of_no_return\": \"1.2\"}", &e);
	char **warn = NULL;
	size_t n = 0;
	ok(c && rb && config_check_runbook(c, rb, &warn, &n) == 2 && n == 2, "two problems found");
	if (n == 2) {
		is_str(warn[0], CFG_PATH ":3:17: gates[1]: the runbook has no phase \"9\"", "gate that is not a phase");
		is_str(warn[1], CFG_PATH ":2:21: flags[1]: no NAME=VALUE line in the runbook sets \"USE_Y\"",
		       "flag never set");
	}
	for (size_t i = 0; i < n; i++)
		free(warn[i]);
	free(warn);
	config_free(c);
	c = parse("{\"runbook\": \"r.md\", \"point_of_no_return\": \"1.7\"}", &e);
	warn = NULL;
	n = 0;
	if (!ok(c && rb && config_check_runbook(c, rb, &warn, &n) == 1 && n == 1 &&
	        strcmp(warn[0], CFG_PATH ":1:43: point_of_no_return: the runbook has no item \"1.7\"") == 0,
	        "point_of_no_return that is not an item") && n)
		printf("#   %s\n", warn[0]);
	for (size_t i = 0; i < n; i++)
		free(warn[i]);
	free(warn);
	config_free(c);
	runbook_free(rb);
}

/* Every one-byte deletion and a few substitutions of a valid config: the
 * parser never crashes, every error carries file:line:col, and whatever the
 * scanner accepts cJSON accepts too (so its bare fallback is never used). */
static void test_mutations(void)
{
	static const char subs[] = {',', '}', ']', '"', '\\', ':', '\n', 'x', '0', '{', '['};
	size_t n = sizeof full_text - 1;
	char *buf = xmalloc(n + 1);
	int parsed = 0, bad_msg = 0, disagree = 0, cases = 0;
	size_t prefix_len = strlen(CFG_PATH ":");
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k <= sizeof subs; k++) {
			size_t len;
			if (k == sizeof subs) {   /* deletion */
				memcpy(buf, full_text, i);
				memcpy(buf + i, full_text + i + 1, n - i - 1);
				len = n - 1;
			} else {
				memcpy(buf, full_text, n);
				buf[i] = subs[k];
				len = n;
			}
			buf[len] = '\0';
			cases++;
			config *c = NULL;
			pgc_err e;
			pgc_err_clear(&e);
			if (config_parse(buf, len, CFG_PATH, &c, &e) == 0) {
				parsed++;
				config_free(c);
				continue;
			}
			int line = 0, col = 0;
			if (strncmp(e.msg, CFG_PATH ":", prefix_len) != 0 ||
			    sscanf(e.msg + prefix_len, "%d:%d:", &line, &col) != 2 || line < 1 || col < 1)
				bad_msg++;
			if (strstr(e.msg, "cannot parse JSON here"))
				disagree++;
		}
	}
	free(buf);
	ok(cases > 1000, "%d mutated configs tried", cases);
	is_int(bad_msg, 0, "every error has file:line:col");
	is_int(disagree, 0, "cJSON never refuses what the scanner accepted");
	ok(parsed < cases, "most mutations are refused (%d of %d parsed)", parsed, cases);
}

static void test_jsonpos(void)
{
	static const char t[] = "{\"a\": [1, {\"b\": \"x,}\"}],\n \"c\": 2}";
	size_t n = sizeof t - 1;
	jsonpos p;
	int path[3] = {0, 1, 0};
	ok(jsonpos_find(t, n, path, 3, false, &p) == 0 && p.line == 1 && p.col == 17, "value of a.[1].b");
	ok(jsonpos_find(t, n, path, 3, true, &p) == 0 && p.line == 1 && p.col == 12, "key of a.[1].b");
	int second[1] = {1};
	ok(jsonpos_find(t, n, second, 1, true, &p) == 0 && p.line == 2 && p.col == 2, "key c after a string with ,}");
	int missing[1] = {5};
	ok(jsonpos_find(t, n, missing, 1, false, &p) < 0, "path that is not there");
	ok(jsonpos_find(t, n, NULL, 0, false, &p) == 0 && p.line == 1 && p.col == 1, "root");

	strbuf deep;
	sb_init(&deep);
	for (int i = 0; i <= JSONPOS_MAX_DEPTH + 1; i++)
		sb_putc(&deep, '[');
	char msg[JSONPOS_MSG_MAX];
	ok(jsonpos_validate(deep.buf, deep.len, &p, msg, sizeof msg) < 0 && strstr(msg, "nested deeper"),
	   "deep nesting refused, not a crash");
	sb_free(&deep);
}

static void test_state_path(void)
{
	char tmpl[TAP_TMPL_MAX];
	char *tmp = mkdtemp(tap_tmpl(tmpl, sizeof tmpl, "pgc-test-config"));
	ok(tmp != NULL, "temp dir");
	if (!tmp)
		return;
	char *xdg = xasprintf("%s/xdg", tmp);
	setenv("XDG_STATE_HOME", xdg, 1);
	pgc_err e;
	char *p = config_default_state_path("/srv/app/docs/MIGRATION_PLAN.md", &e);
	char *want = xasprintf("%s/pgcutover/MIGRATION_PLAN.db", xdg);
	is_str(p, want, "state under $XDG_STATE_HOME/pgcutover, .md dropped");
	free(want);
	free(p);
	struct stat st;
	char *dir = xasprintf("%s/pgcutover", xdg);
	ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	   "state directory created 0700");
	free(dir);

	setenv("XDG_STATE_HOME", "relative/ignored", 1);
	setenv("HOME", tmp, 1);
	p = config_default_state_path("plan.markdown", &e);
	want = xasprintf("%s/.local/state/pgcutover/plan.db", tmp);
	is_str(p, want, "relative XDG_STATE_HOME ignored: ~/.local/state");
	free(want);
	free(p);
	unsetenv("XDG_STATE_HOME");
	p = config_default_state_path("notes", &e);
	want = xasprintf("%s/.local/state/pgcutover/notes.db", tmp);
	is_str(p, want, "no XDG_STATE_HOME: ~/.local/state, name without extension kept");
	free(want);
	free(p);

	char *file = xasprintf("%s/blocker", tmp);
	FILE *f = fopen(file, "w");
	if (f)
		fclose(f);
	setenv("XDG_STATE_HOME", file, 1);
	p = config_default_state_path("plan.md", &e);
	ok(p == NULL && e.code == PGC_EXIT_CANTCREAT, "cannot create the directory: 73");
	free(p);
	free(file);
	free(xdg);
	char *cmd = xasprintf("rm -rf '%s'", tmp);
	ok(system(cmd) == 0, "cleanup");
	free(cmd);
}

static void test_load(void)
{
	pgc_err e;
	config *c = NULL;
	ok(config_load("/nonexistent/pgcutover.json", &c, &e) < 0 && e.code == PGC_EXIT_NOINPUT,
	   "missing file: 66");
	ok(strstr(e.msg, "pgcutover init") != NULL, "missing file: suggests init");
	char path[TAP_TMPL_MAX];
	int fd = mkstemp(tap_tmpl(path, sizeof path, "pgc-test-cfg"));
	static const char body[] = "{\"runbook\": \"r.md\",\n \"pool_size\": true}\n";
	ok(fd >= 0 && write(fd, body, sizeof body - 1) == (ssize_t)(sizeof body - 1), "write temp config");
	close(fd);
	char *want = xasprintf("%s:2:15: pool_size: must be a number, not a boolean", path);
	ok(config_load(path, &c, &e) < 0, "load refuses a bad file");
	is_str(e.msg, want, "load reports the file path");
	free(want);
	unlink(path);
}

/* The shipped example must stay loadable. */
static void test_example(void)
{
	pgc_err e;
	config *c = NULL;
	if (!ok(config_load(PGC_SRCDIR "/examples/pgcutover.json", &c, &e) == 0,
	        "examples/pgcutover.json loads"))
		printf("#   %s\n", e.msg);
	ok(c && c->n_tables > 0 && c->runbook && strstr(c->runbook, "/examples/"),
	   "example: tables, runbook next to it");
	config_free(c);
}

/* "tables": [ n names ] and, with dup_at >= 0, element dup_at repeats
 * element 0.  New string. */
static char *tables_config(int n, int dup_at)
{
	strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, "{\"runbook\": \"a.md\", \"tables\": [");
	for (int i = 0; i < n; i++) {
		int k = i == dup_at ? 0 : i;
		sb_printf(&sb, "%s{\"name\": \"s%d.table_%d\", \"pk\": \"id\"}", i ? ", " : "", k % 50, k);
	}
	sb_puts(&sb, "]}");
	return sb_steal(&sb);
}

/* CPU seconds for the fastest of a few parses of text. */
static double parse_cpu_s(const char *text)
{
	double best = -1;
	for (int run = 0; run < 3; run++) {
		config *c = NULL;
		pgc_err e = {0};
		clock_t t0 = clock();
		config_parse(text, strlen(text), CFG_PATH, &c, &e);
		double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
		config_free(c);
		if (best < 0 || s < best)
			best = s;
	}
	return best;
}

/* Loading grows with the number of tables, not its square: four times the
 * tables may cost four times as much, not sixteen (the duplicate check
 * compared each table with all before it: 8 s for 40,000). */
static void many_tables(void)
{
	enum { SMALL_N = 10000, BIG_N = 40000, MAX_RATIO = 8 };
	char *small = tables_config(SMALL_N, -1), *big = tables_config(BIG_N, -1);
	pgc_err e;
	config *c = parse(big, &e);
	ok(c && c->n_tables == BIG_N, "%d tables load", BIG_N);
	config_free(c);
	double ts = parse_cpu_s(small), tb = parse_cpu_s(big);
	double ratio = tb / (ts > 1e-6 ? ts : 1e-6);
	ok(ratio < MAX_RATIO, "%d tables cost %.1fx %d (%.3f s vs %.3f s): near-linear",
	   BIG_N, ratio, SMALL_N, tb, ts);
	free(small);
	free(big);
	char *dup = tables_config(BIG_N, BIG_N - 1);
	c = parse(dup, &e);
	ok(!c && strstr(e.msg, ": tables[39999]: table \"s0.table_0\" is listed twice"),
	   "a repeat among %d tables is still found, at its place: %s", BIG_N, e.msg);
	config_free(c);
	free(dup);
}

/* "freeze" and "sequences": values, defaults, an empty ignore list
 * replacing the hosted defaults, and out-of-range refusals. */
static void test_evidence_keys(void)
{
	pgc_err e;
	config *c = parse("{\"runbook\": \"r.md\"}", &e);
	is_int(c->freeze_quiet_s, CFG_DEFAULT_FREEZE_QUIET_S, "freeze.quiet_s defaults to 30");
	ok(!c->freeze_ignore_set, "no freeze.ignore: the hosted defaults apply");
	is_int(c->seq_headroom_floor, CFG_DEFAULT_SEQ_HEADROOM_FLOOR, "sequences.headroom_floor default");
	is_int(c->seq_offset, 0, "sequences.offset default 0");
	config_free(c);
	c = parse("{\"runbook\": \"r.md\", \"freeze\": {\"quiet_s\": 45, \"ignore\": []},"
	          " \"sequences\": {\"offset\": 1000, \"headroom_floor\": 5}}", &e);
	is_int(c->freeze_quiet_s, 45, "freeze.quiet_s read");
	ok(c->freeze_ignore_set && c->n_freeze_ignore == 0, "an empty freeze.ignore is given, and empty");
	is_int(c->seq_offset, 1000, "sequences.offset read");
	is_int(c->seq_headroom_floor, 5, "sequences.headroom_floor read");
	config_free(c);
	c = parse("{\"runbook\": \"r.md\", \"freeze\": {\"ignore\": [\"app_admin\", \"cron\"]}}", &e);
	ok(c->n_freeze_ignore == 2 && strcmp(c->freeze_ignore[1], "cron") == 0, "freeze.ignore read");
	config_free(c);
	fails_with("{\"runbook\": \"r.md\", \"freeze\": {\"quiet_s\": 0}}",
	           CFG_PATH ":1:43: freeze.quiet_s: must be between 1 and 3600", "freeze.quiet_s 0 refused");
	fails_with("{\"runbook\": \"r.md\", \"sequences\": {\"offset\": -1}}",
	           CFG_PATH ":1:45: sequences.offset: must be between 0 and 2147483647", "a negative sequences.offset refused");
	fails_with("{\"runbook\": \"r.md\", \"freeze\": 3}",
	           CFG_PATH ":1:31: freeze: must be {\"quiet_s\": N, \"ignore\": [...]}, not a number", "freeze must be an object");
}

int main(void)
{
	test_evidence_keys();
	test_full();
	test_defaults();
	test_syntax();
	test_keys_and_types();
	test_required();
	test_passwords();
	test_supabase();
	test_notify();
	test_jsonpos();
	test_mutations();
	test_where_and_cross_check();
	test_state_path();
	test_load();
	test_example();
	return done_testing();
}
