/*
 * cluster.c -- local PostgreSQL clusters for `pgcutover demo`: finds the
 * server binaries, runs initdb and pg_ctl as child processes (proc.h's
 * proc_spawn with argument vectors, no shell, so paths are never re-parsed;
 * blocking waits), and runs SQL through libpq.  When we are root the
 * children switch to an unprivileged user (proc_user) and the directories
 * they write are chown'd to it first, because PostgreSQL refuses to run as
 * root.
 * Children write their output to the cluster's log; on failure the last
 * lines of it travel back in the error.  See cluster.h; the shell twin used
 * by the tests is tests/lib/pg.sh.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgcutover/cluster.h"
#include "pgcutover/proc.h"

/* Debian's layout: /usr/lib/postgresql/<major>/bin. */
#define CLUSTER_DEBIAN_GLOB "/usr/lib/postgresql/*/bin"
#define CLUSTER_PREFERRED_BINDIR "/usr/lib/postgresql/15/bin"
/* Users the server may run as when we are root, in order of preference. */
static const char *const cluster_run_users[] = {"postgres", "nobody", NULL};
/* pg_ctl status: 0 running, 3 not running, 4 no data directory. */
#define PG_CTL_STATUS_RUNNING 0
/* Clusters the *_each functions handle at once. */
#define CLUSTER_MAX_PARALLEL 8
/* Longest tool name we run ("pg_ctl", "initdb"), for messages. */
#define CLUSTER_PROG_NAME_MAX 32
/* Longest argument vector of a tool we run, NULL included. */
#define CLUSTER_MAX_ARGV 16
/* Lines of the log quoted in an error. */
#define CLUSTER_LOG_TAIL_LINES 8
#define CLUSTER_LOG_TAIL_BYTES 4096

static bool is_exec(const char *dir, const char *prog)
{
	char *p = xasprintf("%s/%s", dir, prog);
	bool ok = access(p, X_OK) == 0;
	free(p);
	return ok;
}

static bool has_server(const char *dir)
{
	return is_exec(dir, "initdb") && is_exec(dir, "pg_ctl");
}

/* Directory of initdb found on PATH, symlinks resolved (Debian puts
 * symlinks in /usr/local/bin; the real directory also holds postgres). */
static char *bindir_from_path(void)
{
	const char *path = getenv("PATH");
	if (!path)
		return NULL;
	char *copy = xstrdup(path), *save = NULL, *found = NULL;
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		if (!*d || !is_exec(d, "initdb"))
			continue;
		char *p = xasprintf("%s/initdb", d);
		char real[PATH_MAX];
		if (realpath(p, real)) {
			char *slash = strrchr(real, '/');
			*slash = '\0';
			if (has_server(real))
				found = xstrdup(real);
		}
		free(p);
	}
	free(copy);
	return found;
}

char *cluster_find_bindir(pgc_err *e)
{
	const char *env = getenv("PGCUTOVER_PG_BINDIR");
	if (env && *env) {
		if (has_server(env))
			return xstrdup(env);
		pgc_fail(e, PGC_EXIT_UNAVAILABLE, "PGCUTOVER_PG_BINDIR=%s has no initdb and pg_ctl", env);
		return NULL;
	}
	char *d = bindir_from_path();
	if (d)
		return d;
	if (has_server(CLUSTER_PREFERRED_BINDIR))
		return xstrdup(CLUSTER_PREFERRED_BINDIR);
	glob_t g;
	long best_major = -1;
	if (glob(CLUSTER_DEBIAN_GLOB, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			const char *major = g.gl_pathv[i] + strlen("/usr/lib/postgresql/");
			long m = strtol(major, NULL, 10);
			if (m > best_major && has_server(g.gl_pathv[i])) {
				free(d);
				d = xstrdup(g.gl_pathv[i]);
				best_major = m;
			}
		}
		globfree(&g);
	}
	if (!d)
		pgc_fail(e, PGC_EXIT_UNAVAILABLE,
		         "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in %s; "
		         "install the postgresql package (Debian: apt-get install postgresql)",
		         CLUSTER_DEBIAN_GLOB);
	return d;
}

int cluster_setup(cluster *c, const char *datadir, const char *sockdir,
                  const char *logfile, int port, pgc_err *e)
{
	memset(c, 0, sizeof *c);
	/* These end up inside postgresql.conf quotes and conninfo values. */
	if (strpbrk(sockdir, "'\\\n") || strpbrk(datadir, "\n"))
		return pgc_fail(e, PGC_EXIT_USAGE, "%s: quotes, backslashes and newlines are not "
		                "supported in a cluster path", sockdir);
	struct sockaddr_un sun;
	size_t sock_len = strlen(sockdir) + strlen("/.s.PGSQL.65535.lock");
	if (sock_len >= sizeof sun.sun_path)
		return pgc_fail(e, PGC_EXIT_USAGE, "%s: too long for a Unix socket directory "
		                "(at most %zu bytes); choose a shorter directory", sockdir,
		                sizeof sun.sun_path - 1 - strlen("/.s.PGSQL.65535.lock"));
	c->bindir = cluster_find_bindir(e);
	if (!c->bindir)
		return -1;
	c->datadir = xstrdup(datadir);
	c->sockdir = xstrdup(sockdir);
	c->logfile = xstrdup(logfile);
	c->port = port;
	if (geteuid() == 0) {
		for (int i = 0; cluster_run_users[i]; i++) {
			struct passwd *pw = getpwnam(cluster_run_users[i]);
			if (pw && pw->pw_uid != 0) {
				c->drop_priv = true;
				c->run_uid = pw->pw_uid;
				c->run_gid = pw->pw_gid;
				c->run_user = xstrdup(pw->pw_name);
				break;
			}
		}
		if (!c->drop_priv) {
			cluster_free(c);
			return pgc_fail(e, PGC_EXIT_NOPERM, "running as root and there is no "
			                "unprivileged user (postgres or nobody) to run PostgreSQL as");
		}
	}
	return 0;
}

void cluster_free(cluster *c)
{
	if (!c)
		return;
	free(c->bindir);
	free(c->datadir);
	free(c->sockdir);
	free(c->logfile);
	free(c->run_user);
	memset(c, 0, sizeof *c);
}

int cluster_make_dir(const cluster *c, const char *path, pgc_err *e)
{
	if (pgc_mkdir_p(path, 0700, e) < 0)
		return -1;
	if (c->drop_priv && chown(path, c->run_uid, c->run_gid) < 0)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: chown to %s: %s", path, c->run_user,
		                strerror(errno));
	return 0;
}

/* The server user children switch to, or NULL (not root). */
static const proc_user *run_user(const cluster *c, proc_user *u)
{
	if (!c->drop_priv)
		return NULL;
	*u = (proc_user){.name = c->run_user, .uid = c->run_uid, .gid = c->run_gid};
	return u;
}

int cluster_check_reachable(const cluster *c, const char *path, pgc_err *e)
{
	if (!c->drop_priv)
		return 0;
	proc_user u;
	pid_t pid = proc_fork(e);
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(proc_become_user(run_user(c, &u)) && access(path, X_OK) == 0 ? 0 : 1);
	int status = 0;
	if (proc_wait(pid, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: not reachable by user %s, who runs "
		                "PostgreSQL because it refuses to run as root; choose a directory "
		                "under /tmp", path, c->run_user);
	return 0;
}

/* The last lines of the cluster's log, for an error message. */
static void log_tail(const cluster *c, char *out, size_t n)
{
	out[0] = '\0';
	int fd = open(c->logfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[CLUSTER_LOG_TAIL_BYTES + 1];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > CLUSTER_LOG_TAIL_BYTES ? size - CLUSTER_LOG_TAIL_BYTES : 0;
	ssize_t got = pread(fd, buf, CLUSTER_LOG_TAIL_BYTES, from);
	close(fd);
	if (got <= 0)
		return;
	buf[got] = '\0';
	while (got > 0 && buf[got - 1] == '\n')
		buf[--got] = '\0';
	char *start = buf + got;
	for (int lines = 0; start > buf && lines < CLUSTER_LOG_TAIL_LINES; ) {
		start--;
		if (*start == '\n')
			lines++;
	}
	if (*start == '\n')
		start++;
	char *clean = pgc_sanitize(start);
	snprintf(out, n, "%s", clean);
	free(clean);
}

/* Starts bindir/prog with args as the server user, cwd sockdir, output
 * appended to the log (or discarded when quiet).  The child's argv[0] is the
 * full path: initdb and pg_ctl find their sibling `postgres` from argv[0],
 * and a bare name sends them searching PATH, where stock Debian has none
 * (the programs live only in /usr/lib/postgresql/<major>/bin).  Returns the
 * pid, or -1 with e set. */
static pid_t spawn_begin(const cluster *c, char *const argv[], bool quiet, pgc_err *e)
{
	char *prog = xasprintf("%s/%s", c->bindir, argv[0]);
	char *child_argv[CLUSTER_MAX_ARGV];
	size_t argc;
	child_argv[0] = prog;
	for (argc = 1; argc < CLUSTER_MAX_ARGV - 1 && argv[argc]; argc++)
		child_argv[argc] = argv[argc];
	child_argv[argc] = NULL;
	proc_user u;
	proc_spec sp = {
		.path = prog, .argv = child_argv, .cwd = c->sockdir, .cwd_fallback = "/",
		.in = PROC_IO_NULL, .out = quiet ? PROC_IO_NULL : PROC_IO_FILE,
		.err = quiet ? PROC_IO_NULL : PROC_IO_FILE, .file = c->logfile,
		.user = run_user(c, &u),
	};
	proc_child ch;
	int rc = proc_spawn(&sp, &ch, e);
	free(prog);
	return rc < 0 ? -1 : ch.pid;
}

/* Waits for a child of spawn_begin.  Returns its exit status, or -1 with
 * e set when it could not run at all. */
static int spawn_end(const cluster *c, pid_t pid, const char *prog, pgc_err *e)
{
	int status = 0;
	if (proc_wait(pid, &status) < 0)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s: waitpid: %s", prog, strerror(errno));
	if (WIFSIGNALED(status))
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "%s killed by signal %d", prog,
		                WTERMSIG(status));
	int rc = WEXITSTATUS(status);
	if (rc == PROC_EXIT_SETUP)
		return pgc_fail(e, PGC_EXIT_NOPERM, "%s: could not switch to user %s or open %s",
		                prog, c->drop_priv ? c->run_user : "(self)", c->logfile);
	if (rc == PROC_EXIT_EXEC)
		return pgc_fail(e, PGC_EXIT_UNAVAILABLE, "%s/%s: could not be executed",
		                c->bindir, prog);
	return rc;
}

static int cluster_spawn(const cluster *c, char *const argv[], bool quiet, pgc_err *e)
{
	pid_t pid = spawn_begin(c, argv, quiet, e);
	return pid < 0 ? -1 : spawn_end(c, pid, argv[0], e);
}

/* Turns a tool's exit status into an error quoting the log. */
static int tool_result(const cluster *c, const char *what, int rc, int code, pgc_err *e)
{
	if (rc <= 0)
		return rc;
	char tail[CLUSTER_LOG_TAIL_BYTES + 1];
	log_tail(c, tail, sizeof tail);
	return pgc_fail(e, code, "%s for %s failed (exit %d); the end of %s:\n%s", what,
	                c->datadir, rc, c->logfile, tail);
}

/* Runs a pg tool that must succeed; on failure quotes the log. */
static int cluster_run_tool(const cluster *c, const char *what, char *const argv[],
                            int code, pgc_err *e)
{
	return tool_result(c, what, cluster_spawn(c, argv, false, e), code, e);
}

/* The same tool on n clusters at once (argv built by make_argv; a cluster
 * for which skip() is true is left alone); waits for all, first error wins. */
typedef void (*argv_fn)(cluster *c, char *argv[CLUSTER_MAX_ARGV], char *scratch, size_t n);
typedef bool (*skip_fn)(const cluster *c);

static int run_tool_each(cluster *const cs[], size_t n, const char *what, argv_fn make_argv,
                         skip_fn skip, int code, pgc_err *e)
{
	if (n > CLUSTER_MAX_PARALLEL)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "at most %d clusters at once", CLUSTER_MAX_PARALLEL);
	pid_t pids[CLUSTER_MAX_PARALLEL] = {0};
	char prog[CLUSTER_MAX_PARALLEL][CLUSTER_PROG_NAME_MAX] = {{0}};
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (skip(cs[i]))
			continue;
		char *argv[CLUSTER_MAX_ARGV] = {0};
		char scratch[32];
		make_argv(cs[i], argv, scratch, sizeof scratch);
		snprintf(prog[i], sizeof prog[i], "%s", argv[0]);
		pids[i] = spawn_begin(cs[i], argv, false, e);
		if (pids[i] < 0) {
			pids[i] = 0;
			rc = -1;
		}
	}
	/* Reap every child, even after a failure, so none is left a zombie. */
	for (size_t i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		pgc_err one = {0};
		int r = tool_result(cs[i], what, spawn_end(cs[i], pids[i], prog[i], &one), code, &one);
		if (r < 0 && rc == 0) {
			if (e)
				*e = one;
			rc = -1;
		}
	}
	return rc;
}

bool cluster_exists(const cluster *c)
{
	char *p = xasprintf("%s/PG_VERSION", c->datadir);
	bool ok = access(p, F_OK) == 0;
	free(p);
	return ok;
}

/* Settings for a private, socket-only server.  Appended to
 * postgresql.conf so a later pg_ctl start needs no options. */
static int write_settings(const cluster *c, pgc_err *e)
{
	char *conf = xasprintf("%s/postgresql.conf", c->datadir);
	FILE *f = fopen(conf, "a");
	if (!f) {
		pgc_fail(e, PGC_EXIT_CANTCREAT, "%s: %s", conf, strerror(errno));
		free(conf);
		return -1;
	}
	fprintf(f, "\n# added by pgcutover: a private server on a Unix socket only\n"
	           "listen_addresses = ''\n"
	           "unix_socket_directories = '%s'\n"
	           "port = %d\n"
	           "max_connections = 50\n", c->sockdir, c->port);
	if (c->fast)
		fprintf(f, "# throw-away data: speed over durability\n"
		           "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
	int rc = 0;
	if (fclose(f) != 0)
		rc = pgc_fail(e, PGC_EXIT_IOERR, "%s: %s", conf, strerror(errno));
	free(conf);
	return rc;
}

static void initdb_argv(cluster *c, char *argv[CLUSTER_MAX_ARGV], char *scratch, size_t n)
{
	(void)scratch;
	(void)n;
	char *const args[] = {"initdb", "-D", c->datadir, "--auth=trust", "-U", CLUSTER_SUPERUSER,
	                      "-E", "UTF8", "--locale=C", c->fast ? "--no-sync" : NULL, NULL};
	memcpy(argv, args, sizeof args);
}

int cluster_initdb_each(cluster *const cs[], size_t n, pgc_err *e)
{
	bool fresh[CLUSTER_MAX_PARALLEL] = {0};
	for (size_t i = 0; i < n && i < CLUSTER_MAX_PARALLEL; i++)
		fresh[i] = !cluster_exists(cs[i]);
	if (run_tool_each(cs, n, "initdb", initdb_argv, cluster_exists, PGC_EXIT_CANTCREAT, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fresh[i] && write_settings(cs[i], e) < 0)
			return -1;
	return 0;
}

int cluster_initdb(cluster *c, pgc_err *e)
{
	return cluster_initdb_each(&c, 1, e);
}

bool cluster_running(const cluster *c)
{
	if (!cluster_exists(c))
		return false;
	char *argv[] = {"pg_ctl", "-D", c->datadir, "status", NULL};
	pgc_err ignored;
	return cluster_spawn(c, argv, true, &ignored) == PG_CTL_STATUS_RUNNING;
}

static void start_argv(cluster *c, char *argv[CLUSTER_MAX_ARGV], char *scratch, size_t n)
{
	snprintf(scratch, n, "%d", CLUSTER_PG_CTL_WAIT_S);
	char *const args[] = {"pg_ctl", "-D", c->datadir, "-l", c->logfile, "-w", "-t", scratch,
	                      "start", NULL};
	memcpy(argv, args, sizeof args);
}

int cluster_start_each(cluster *const cs[], size_t n, pgc_err *e)
{
	return run_tool_each(cs, n, "pg_ctl start", start_argv, cluster_running,
	                     PGC_EXIT_UNAVAILABLE, e);
}

int cluster_start(cluster *c, pgc_err *e)
{
	return cluster_start_each(&c, 1, e);
}

int cluster_stop(cluster *c, pgc_err *e)
{
	if (!cluster_running(c))
		return 0;
	char wait_s[16];
	snprintf(wait_s, sizeof wait_s, "%d", CLUSTER_PG_CTL_WAIT_S);
	char *argv[] = {"pg_ctl", "-D", c->datadir, "-m", "fast", "-w", "-t", wait_s,
	                "stop", NULL};
	return cluster_run_tool(c, "pg_ctl stop", argv, PGC_EXIT_SOFTWARE, e);
}

/* A conninfo value, quoted when libpq needs it. */
static void conninfo_value(strbuf *sb, const char *v)
{
	if (*v && !strpbrk(v, " \t\n'\\")) {
		sb_puts(sb, v);
		return;
	}
	sb_putc(sb, '\'');
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, *v);
	}
	sb_putc(sb, '\'');
}

char *cluster_conninfo(const cluster *c, const char *dbname)
{
	strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, "host=");
	conninfo_value(&sb, c->sockdir);
	sb_printf(&sb, " port=%d dbname=", c->port);
	conninfo_value(&sb, dbname);
	sb_puts(&sb, " user=" CLUSTER_SUPERUSER);
	return sb_steal(&sb);
}

/* libpq prints notices to stderr by default; library code never prints. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *cluster_connect(const char *conninfo, pgc_err *e)
{
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		char *msg = pgc_sanitize(PQerrorMessage(conn));
		size_t n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '?'))
			msg[--n] = '\0';
		pgc_fail(e, PGC_EXIT_UNAVAILABLE, "cannot connect (%s): %s", conninfo, msg);
		free(msg);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	return conn;
}

/* 1-based line of the character at 1-based position pos (in characters,
 * as the server counts them) of text. */
static int line_of_position(const char *text, long pos)
{
	int line = 1;
	long chars = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if ((*p & 0xC0) != 0x80 && ++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

static int result_error(PGresult *res, const char *script, const char *name, pgc_err *e)
{
	char *msg = pgc_sanitize(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
	                         ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
	                         : PQresultErrorMessage(res));
	const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	char *ctx_clean = ctx ? pgc_sanitize(ctx) : NULL;
	if (pos && script)
		pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d: %s", name, line_of_position(script, atol(pos)), msg);
	else
		pgc_fail(e, PGC_EXIT_DATAERR, "%s: %s%s%s", name, msg, ctx_clean ? " -- " : "",
		         ctx_clean ? ctx_clean : "");
	free(msg);
	free(ctx_clean);
	PQclear(res);
	return -1;
}

static bool result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

int cluster_run_sql(const char *conninfo, const char *settings, const char *script,
                    const char *script_name, pgc_err *e)
{
	PGconn *conn = cluster_connect(conninfo, e);
	if (!conn)
		return -1;
	int rc = 0;
	if (settings) {
		PGresult *res = PQexec(conn, settings);
		if (!result_ok(res))
			rc = result_error(res, NULL, "settings", e);
		else
			PQclear(res);
	}
	if (rc == 0) {
		PGresult *res = PQexec(conn, script);
		if (!result_ok(res))
			rc = result_error(res, script, script_name, e);
		else
			PQclear(res);
	}
	PQfinish(conn);
	return rc;
}

/* Waits until a connection not yet done has input; false when poll fails. */
static bool wait_ready(PGconn *const conns[], const bool done[], size_t n)
{
	struct pollfd fds[CLUSTER_MAX_PARALLEL];
	size_t nfds = 0;
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		fds[nfds].fd = PQsocket(conns[i]);
		fds[nfds].events = POLLIN;
		fds[nfds].revents = 0;
		nfds++;
	}
	if (nfds == 0)
		return true;
	return poll(fds, nfds, -1) >= 0 || errno == EINTR;
}

int cluster_run_sql_each(size_t n, const char *const conninfo[], const char *const settings[],
                         const char *script, const char *script_name, pgc_err *e)
{
	if (n > CLUSTER_MAX_PARALLEL)
		return pgc_fail(e, PGC_EXIT_SOFTWARE, "at most %d servers at once", CLUSTER_MAX_PARALLEL);
	PGconn *conns[CLUSTER_MAX_PARALLEL] = {0};
	bool done[CLUSTER_MAX_PARALLEL] = {0};
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		conns[i] = cluster_connect(conninfo[i], e);
		if (!conns[i]) {
			rc = -1;
			break;
		}
		if (settings && settings[i]) {
			PGresult *res = PQexec(conns[i], settings[i]);
			if (!result_ok(res))
				rc = result_error(res, NULL, "settings", e);
			else
				PQclear(res);
		}
		if (rc == 0 && !PQsendQuery(conns[i], script))
			rc = pgc_fail(e, PGC_EXIT_UNAVAILABLE, "%s: %s", conninfo[i],
			              PQerrorMessage(conns[i]));
	}
	/* Once all were sent, collect every result, even after an error, so
	 * no server is left busy with a half-read answer. */
	size_t left = rc == 0 ? n : 0;
	while (left > 0) {
		if (!wait_ready(conns, done, n)) {
			rc = pgc_fail(e, PGC_EXIT_SOFTWARE, "poll: %s", strerror(errno));
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			if (!PQconsumeInput(conns[i])) {
				if (rc == 0)
					rc = pgc_fail(e, PGC_EXIT_UNAVAILABLE, "%s: %s", conninfo[i],
					              PQerrorMessage(conns[i]));
				done[i] = true;
				left--;
				continue;
			}
			while (!done[i] && !PQisBusy(conns[i])) {
				PGresult *res = PQgetResult(conns[i]);
				if (!res) {
					done[i] = true;
					left--;
				} else if (!result_ok(res) && rc == 0) {
					rc = result_error(res, script, script_name, e);
				} else {
					PQclear(res);
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (conns[i])
			PQfinish(conns[i]);
	return rc;
}

char *cluster_query_value(const char *conninfo, const char *sql, pgc_err *e)
{
	PGconn *conn = cluster_connect(conninfo, e);
	if (!conn)
		return NULL;
	PGresult *res = PQexec(conn, sql);
	char *out = NULL;
	if (!result_ok(res)) {
		result_error(res, sql, "query", e);
	} else {
		out = xstrdup(PQntuples(res) > 0 && PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
		PQclear(res);
	}
	PQfinish(conn);
	return out;
}
