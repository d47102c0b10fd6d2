/*
 * demo.c -- the local migration behind `pgcutover demo`: picks its
 * directory, sets up two PostgreSQL clusters on Unix sockets there (source
 * and target, through cluster.c), loads the booking schema in both with
 * the source filled and the target left mid-copy (counts differ, one
 * sequence behind), and writes the files a real migration has: runbook.md,
 * pgcutover.json, app.env with the cutover flags.  Running it again reuses
 * the directory; demo_stop() stops the servers and removes what demo
 * created, and only where its marker is.  The schema, data and runbook are
 * compiled in from examples/ (build-aux/embed.sh -> demo_assets.c).  Called
 * by src/cli/cmd_demo.c, which prints the progress lines it is given and
 * opens the console.  Never prints.
 */
#include "config.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pgcutover/demo.h"

#define DEMO_MARKER_VERSION 1
#define DEMO_NFTW_FDS 16
#define DEMO_HEALTH_URL "http://localhost:3000/health"
#define DEMO_FILE_MODE 0644
#define DEMO_SECRET_FILE_MODE 0600   /* app.env: a real one holds secrets */
#define DEMO_DIR_MODE 0700
#define DEMO_DIR_TRAVERSE_MODE 0711  /* the server user gets through to pg/ */

/* The runbook's tables, in dependency order (parents first). */
static const char *const demo_tables[] = {
	"companies", "services", "staff", "staff_schedules",
	"clients", "bookings", "dialog_contexts", "reminders", NULL,
};

/* The runbook's .env flags and their values before the cutover. */
static const struct { const char *name, *value; } demo_flags[] = {
	{"USE_LEGACY_SUPABASE", "true"},
	{"USE_REPOSITORY_PATTERN", "false"},
	{"ENABLE_DUAL_WRITE", "false"},
	{"READ_FROM_NEW_DB", "false"},
	{NULL, NULL},
};

const struct pgc_asset *demo_asset(const char *name)
{
	for (const struct pgc_asset *a = pgc_assets; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* A progress line to d->say, formatted here. */
static void say(const demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const demo *d, const char *fmt, ...)
{
	if (!d->say)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *line = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	d->say(d->say_arg, line);
	free(line);
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The default directory is in /tmp, where anyone could have made it first:
 * only a real directory of ours is used or removed. */
static int check_ours(const char *dir, pgc_err *e)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s is not a directory owned by us; "
		                "choose another --dir", dir);
	return 0;
}

/* Where the default directory may be: $XDG_RUNTIME_DIR, then /tmp.  Root's
 * runtime dir is closed to the server user, so root uses /tmp only. */
static size_t demo_default_dirs(char *out[2])
{
	size_t n = 0;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (geteuid() != 0 && xdg && *xdg == '/' && is_dir(xdg) && access(xdg, W_OK | X_OK) == 0)
		out[n++] = xasprintf("%s/" DEMO_DIR_PREFIX "%ld", xdg, (long)geteuid());
	out[n++] = xasprintf("/tmp/" DEMO_DIR_PREFIX "%ld", (long)geteuid());
	return n;
}

/* Absolute form of path; its parent must exist. */
static char *demo_absolute(const char *path, pgc_err *e)
{
	char real[PATH_MAX];
	if (realpath(path, real))
		return xstrdup(real);
	char *copy = xstrdup(path);
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *slash = strrchr(copy, '/');
	const char *parent = slash ? (slash == copy ? "/" : copy) : ".";
	const char *base = slash ? slash + 1 : copy;
	if (slash && slash != copy)
		*slash = '\0';
	char *out = NULL;
	if (!realpath(parent, real))
		pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: %s", parent, strerror(errno));
	else
		out = xasprintf("%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
	free(copy);
	return out;
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode, pgc_err *e)
{
	/* Some of these live in /tmp: util.c never writes through a planted link. */
	return pgc_write_file_atomic(path, data, len, mode, 0, e);
}

/* ---- the marker: key=value lines ---- */

static int marker_write(const demo *d, bool complete, pgc_err *e)
{
	char *path = xasprintf("%s/" DEMO_MARKER, d->dir);
	char *text = xasprintf("# made by `pgcutover demo`; `pgcutover demo --stop` removes this directory\n"
	                       "version=%d\ncreated_dir=%d\nrows=%ld\ncomplete=%d\n",
	                       DEMO_MARKER_VERSION, d->created_dir, d->rows, complete);
	int rc = write_file(path, text, strlen(text), DEMO_FILE_MODE, e);
	free(text);
	free(path);
	return rc;
}

/* Returns false when there is no marker. */
static bool marker_read(const char *dir, bool *created_dir, long *rows, bool *complete)
{
	char *path = xasprintf("%s/" DEMO_MARKER, dir);
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return false;
	char line[256];
	*created_dir = *complete = false;
	*rows = 0;
	while (fgets(line, sizeof line, f)) {
		long v = 0;
		if (sscanf(line, "created_dir=%ld", &v) == 1)
			*created_dir = v != 0;
		else if (sscanf(line, "rows=%ld", &v) == 1)
			*rows = v;
		else if (sscanf(line, "complete=%ld", &v) == 1)
			*complete = v != 0;
	}
	fclose(f);
	return true;
}

/* ---- removal ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	if (ftw->level == 0)
		return 0;   /* the top directory is the caller's decision */
	int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
	return rc < 0 && errno != ENOENT ? -1 : 0;
}

static int remove_tree(const char *dir, bool remove_top, pgc_err *e)
{
	if (nftw(dir, remove_entry, DEMO_NFTW_FDS, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		return pgc_fail(e, PGC_EXIT_IOERR, "removing %s: %s", dir, strerror(errno));
	if (remove_top && rmdir(dir) < 0)
		return pgc_fail(e, PGC_EXIT_IOERR, "%s: %s", dir, strerror(errno));
	return 0;
}

static bool dir_is_empty(const char *dir)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return false;
	bool empty = true;
	for (struct dirent *de; empty && (de = readdir(dh)); )
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(dh);
	return empty;
}

/* ---- clusters ---- */

int demo_clusters(demo *d, pgc_err *e)
{
	if (d->src_ci)
		return 0;   /* already done (demo_create and demo_stop both need them) */
	free(d->pgdir);
	d->pgdir = xasprintf("%s/pg", d->dir);
	char *sd = xasprintf("%s/source", d->pgdir), *sl = xasprintf("%s/source.log", d->pgdir);
	char *td = xasprintf("%s/target", d->pgdir), *tl = xasprintf("%s/target.log", d->pgdir);
	int rc = cluster_setup(&d->src, sd, d->pgdir, sl, DEMO_SOURCE_PORT, e);
	if (rc == 0)
		rc = cluster_setup(&d->dst, td, d->pgdir, tl, DEMO_TARGET_PORT, e);
	free(sd); free(sl); free(td); free(tl);
	if (rc < 0)
		return -1;
	/* Demo data can be recreated in seconds: favour speed over durability. */
	d->src.fast = d->dst.fast = true;
	d->src_ci = cluster_conninfo(&d->src, "postgres");
	d->dst_ci = cluster_conninfo(&d->dst, "postgres");
	return 0;
}

void demo_free(demo *d)
{
	free(d->dir);
	free(d->pgdir);
	free(d->src_ci);
	free(d->dst_ci);
	cluster_free(&d->src);
	cluster_free(&d->dst);
}

/* Schema on both servers, then the data on both at once: the source
 * complete, the target mid-copy (demo-data.sql reads pgcutover.side). */
static int load_data(const demo *d, pgc_err *e)
{
	const struct pgc_asset *schema = demo_asset("demo-schema.sql");
	const struct pgc_asset *data = demo_asset("demo-data.sql");
	if (!schema || !data)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "demo SQL missing from the binary");
	double t0 = pgc_now();
	const char *const conninfo[] = {d->src_ci, d->dst_ci};
	if (cluster_run_sql_each(2, conninfo, NULL, schema->data, "demo-schema.sql", e) < 0)
		return -1;
	/* Custom settings carry the parameters: the script needs no psql. */
	char *src_set = xasprintf("SET pgcutover.rows = '%ld'; SET pgcutover.side = 'source';",
	                          d->rows);
	char *dst_set = xasprintf("SET pgcutover.rows = '%ld'; SET pgcutover.side = 'target';",
	                          d->rows);
	const char *const settings[] = {src_set, dst_set};
	int rc = cluster_run_sql_each(2, conninfo, settings, data->data, "demo-data.sql", e);
	free(src_set);
	free(dst_set);
	if (rc == 0)
		say(d, "demo: source and target loaded in %.1f s\n", pgc_now() - t0);
	return rc;
}

/* ---- the files a migration has ---- */

char *demo_config_text(const demo *d)
{
	cJSON *root = cJSON_CreateObject();
	char *runbook = xasprintf("%s/" DEMO_RUNBOOK_FILE, d->dir);
	char *state = xasprintf("%s/" DEMO_STATE_FILE, d->dir);
	char *env = xasprintf("%s/" DEMO_ENV_FILE, d->dir);
	cJSON_AddStringToObject(root, "runbook", runbook);
	cJSON_AddStringToObject(root, "state", state);
	cJSON_AddStringToObject(root, "source", d->src_ci);
	cJSON_AddStringToObject(root, "target", d->dst_ci);
	cJSON *tables = cJSON_AddArrayToObject(root, "tables");
	for (int i = 0; demo_tables[i]; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", demo_tables[i]);
		cJSON_AddStringToObject(t, "pk", "id");
		cJSON_AddItemToArray(tables, t);
	}
	cJSON_AddStringToObject(root, "env_file", env);
	cJSON *flags = cJSON_AddArrayToObject(root, "flags");
	for (int i = 0; demo_flags[i].name; i++)
		cJSON_AddItemToArray(flags, cJSON_CreateString(demo_flags[i].name));
	cJSON *health = cJSON_AddArrayToObject(root, "health");
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "name", "app");
	cJSON_AddStringToObject(h, "url", DEMO_HEALTH_URL);
	cJSON_AddItemToArray(health, h);
	char *text = cJSON_Print(root);
	char *withnl = xasprintf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(root);
	free(runbook);
	free(state);
	free(env);
	return withnl;
}

static int write_env(const demo *d, const char *path, pgc_err *e)
{
	strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, "# app.env -- the booking app's environment in the pgcutover demo.\n"
	             "# The runbook's NAME=VALUE lines edit the cutover flags below.\n"
	             "NODE_ENV=production\nPORT=3000\n");
	sb_printf(&sb, "DATABASE_HOST=%s\nDATABASE_PORT=%d\nDATABASE_NAME=postgres\n",
	          d->pgdir, DEMO_TARGET_PORT);
	for (int i = 0; demo_flags[i].name; i++)
		sb_printf(&sb, "%s=%s\n", demo_flags[i].name, demo_flags[i].value);
	/* It would hold secrets in real life: keep the mode a real one has. */
	int rc = write_file(path, sb.buf, sb.len, DEMO_SECRET_FILE_MODE, e);
	sb_free(&sb);
	return rc;
}

int demo_write_files(const demo *d, pgc_err *e)
{
	char *rb = xasprintf("%s/" DEMO_RUNBOOK_FILE, d->dir);
	char *cfg = xasprintf("%s/" DEMO_CONFIG_FILE, d->dir);
	char *env = xasprintf("%s/" DEMO_ENV_FILE, d->dir);
	const struct pgc_asset *a = demo_asset("booking-runbook.md");
	int rc = 0;
	if (!a)
		rc = pgc_fail(e, PGC_EXIT_SOFTWARE, "demo runbook missing from the binary");
	if (rc == 0 && access(rb, F_OK) != 0)
		rc = write_file(rb, a->data, a->len, DEMO_FILE_MODE, e);
	if (rc == 0 && access(cfg, F_OK) != 0) {
		char *text = demo_config_text(d);
		rc = write_file(cfg, text, strlen(text), DEMO_FILE_MODE, e);
		free(text);
	}
	if (rc == 0 && access(env, F_OK) != 0)
		rc = write_env(d, env, e);
	free(rb);
	free(cfg);
	free(env);
	return rc;
}

/* ---- the directory ---- */

/* Decides the directory: --dir, else the default location that already
 * holds a demo (the environment may have changed since it was made), else
 * the first default location.  A --dir demo is only ever found by --dir:
 * a plain `demo --stop` never reaches into a directory it was not given. */
static char *demo_pick_dir(const char *opt_dir, pgc_err *e)
{
	if (opt_dir)
		return demo_absolute(opt_dir, e);
	char *cand[2];
	size_t n = demo_default_dirs(cand);
	size_t pick = 0;
	for (size_t i = 0; i < n; i++) {
		bool cd, complete;
		long rows;
		if (marker_read(cand[i], &cd, &rows, &complete)) {
			pick = i;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (i != pick)
			free(cand[i]);
	return cand[pick];
}

int demo_open(demo *d, const char *dir, long rows, bool rows_given, pgc_err *e)
{
	d->rows = rows;
	d->rows_given = rows_given;
	d->explicit_dir = dir != NULL;
	d->dir = demo_pick_dir(dir, e);
	return d->dir ? 0 : -1;
}

int demo_stop(demo *d, demo_outcome *out, pgc_err *e)
{
	bool complete;
	*out = DEMO_NOTHING_TO_STOP;
	if (is_dir(d->dir) && check_ours(d->dir, e) < 0)
		return -1;
	if (!marker_read(d->dir, &d->created_dir, &d->rows, &complete)) {
		say(d, "demo: nothing to stop: no demo in %s\n", d->dir);
		return 0;
	}
	if (demo_clusters(d, e) < 0)
		return -1;
	if (cluster_stop(&d->src, e) < 0 || cluster_stop(&d->dst, e) < 0)
		return -1;
	if (remove_tree(d->dir, d->created_dir, e) < 0)
		return -1;
	*out = DEMO_STOPPED;
	say(d, "demo: servers stopped, %s removed\n", d->dir);
	return 0;
}

/* Makes or reuses d->dir.  *reuse: a complete demo is already there. */
static int demo_prepare_dir(demo *d, bool *reuse, pgc_err *e)
{
	*reuse = false;
	bool created_dir = false, complete = false;
	long rows = 0;
	if (is_dir(d->dir)) {
		if (check_ours(d->dir, e) < 0)
			return -1;
		if (marker_read(d->dir, &created_dir, &rows, &complete)) {
			d->created_dir = created_dir;
			if (complete) {
				*reuse = true;
				if (d->rows_given && rows != d->rows)
					say(d, "demo: reusing %s with %ld rows (run `pgcutover demo --stop` "
					    "first for a new one with %ld)\n", d->dir, rows, d->rows);
				d->rows = rows;
				return 0;
			}
			/* A half-made demo (interrupted): start again from nothing. */
			say(d, "demo: %s was left half-made; starting it again\n", d->dir);
			cluster_stop(&d->src, NULL);
			cluster_stop(&d->dst, NULL);
			return remove_tree(d->dir, false, e);
		}
		if (!dir_is_empty(d->dir))
			return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s exists and is not a demo directory "
			                "(no %s in it); choose another --dir", d->dir, DEMO_MARKER);
		d->created_dir = false;
		return 0;
	}
	if (mkdir(d->dir, DEMO_DIR_MODE) < 0)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: %s", d->dir, strerror(errno));
	d->created_dir = true;
	return 0;
}

int demo_create(demo *d, demo_outcome *out, pgc_err *e)
{
	bool reuse = false;
	*out = DEMO_CREATED;
	/* Binaries and users first: without them, create nothing. */
	if (demo_clusters(d, e) < 0 || demo_prepare_dir(d, &reuse, e) < 0)
		return -1;
	/* The server user must get through dir to dir/pg; nothing more. */
	if (d->src.drop_priv && chmod(d->dir, DEMO_DIR_TRAVERSE_MODE) < 0)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: %s", d->dir, strerror(errno));
	if (cluster_check_reachable(&d->src, d->dir, e) < 0)
		return -1;
	cluster *const both[] = {&d->src, &d->dst};
	if (reuse) {
		*out = DEMO_REUSED;
		if (cluster_start_each(both, 2, e) < 0)
			return -1;
		say(d, "demo: reusing %s (servers running)\n", d->dir);
		return demo_write_files(d, e);
	}
	if (marker_write(d, false, e) < 0 || cluster_make_dir(&d->src, d->pgdir, e) < 0)
		return -1;
	say(d, "demo: creating two PostgreSQL clusters in %s (%s)\n", d->pgdir, d->src.bindir);
	if (cluster_initdb_each(both, 2, e) < 0 || cluster_start_each(both, 2, e) < 0)
		return -1;
	say(d, "demo: loading the booking schema and %ld rows\n", d->rows);
	if (load_data(d, e) < 0)
		return -1;
	if (demo_write_files(d, e) < 0)
		return -1;
	return marker_write(d, true, e);
}

/* s quoted for a POSIX shell when it needs it (paths in the guide are
 * meant to be pasted).  malloc'd. */
static char *sh_quote(const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                    "0123456789/._-+=:,@") == strlen(s))
		return xstrdup(s);
	strbuf sb;
	sb_init(&sb);
	sb_putc(&sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_puts(&sb, "'\\''");
		else
			sb_putc(&sb, *s);
	}
	sb_putc(&sb, '\'');
	return sb_steal(&sb);
}

/* How to run this binary again, for a message: `pgcutover` when that name
 * on PATH is this very file, else its full path (from `./dev.sh demo` it is
 * the build tree's, which is on no PATH).  malloc'd. */
static char *self_command(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return xstrdup("pgcutover");
	self[n] = '\0';
	const char *path = getenv("PATH");
	char *copy = xstrdup(path ? path : ""), *save = NULL;
	bool on_path = false;
	for (char *dir = strtok_r(copy, ":", &save); dir && !on_path; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/pgcutover", *dir ? dir : ".");
		char real[PATH_MAX];
		on_path = realpath(cand, real) && strcmp(real, self) == 0;
		free(cand);
	}
	free(copy);
	return on_path ? xstrdup("pgcutover") : sh_quote(self);
}


char *demo_guide(const demo *d)
{
	strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "\npgcutover demo is ready in %s\n"
	               "  source   %s   (%ld rows)\n"
	               "  target   %s   (copy unfinished)\n"
	               "  runbook  %s/" DEMO_RUNBOOK_FILE "\n"
	               "  config   %s/" DEMO_CONFIG_FILE "\n"
	               "  state    %s/" DEMO_STATE_FILE "\n"
	               "  app env  %s/" DEMO_ENV_FILE "\n"
	               "\nTry:\n",
	          d->dir, d->src_ci, d->rows, d->dst_ci, d->dir, d->dir, d->dir, d->dir);
	char *cfg_path = xasprintf("%s/" DEMO_CONFIG_FILE, d->dir);
	char *rb_path = xasprintf("%s/" DEMO_RUNBOOK_FILE, d->dir);
	char *cfg = sh_quote(cfg_path), *rb = sh_quote(rb_path), *dir = sh_quote(d->dir);
	char *src = sh_quote(d->src_ci);
	const char *cmds[] = {"console", "status", "counts", "log", "tick 1.1 --note 'installed'", NULL};
	for (int i = 0; cmds[i]; i++)
		sb_printf(&sb, "  pgcutover -c %s %s\n", cfg, cmds[i]);
	sb_printf(&sb, "  pgcutover check %s\n", rb);
	sb_printf(&sb, "  psql %s -c '\\dt'\n", src);
	if (d->explicit_dir)
		sb_printf(&sb, "  pgcutover demo --stop --dir %s\n", dir);
	else
		sb_printf(&sb, "  pgcutover demo --stop\n");
	free(cfg_path); free(rb_path); free(cfg); free(rb); free(dir); free(src);
	return sb_steal(&sb);
}

/* After the console: the servers keep running (they are the demo), so say
 * so, and how to come back or clean up. */
char *demo_left_running(const demo *d)
{
	char *self = self_command(), *dir = sh_quote(d->dir);
	char *cfg_path = xasprintf("%s/" DEMO_CONFIG_FILE, d->dir);
	char *cfg = sh_quote(cfg_path);
	char *text = xasprintf("demo: its two PostgreSQL servers are still running, in %s\n"
	                       "  reopen the console: %s -c %s console\n"
	                       "  stop and remove it: %s demo --stop%s%s\n",
	                       d->pgdir, self, cfg, self, d->explicit_dir ? " --dir " : "",
	                       d->explicit_dir ? dir : "");
	free(self); free(dir); free(cfg_path); free(cfg);
	return text;
}
