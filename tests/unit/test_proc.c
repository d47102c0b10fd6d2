/* test_proc.c -- child processes (proc.c) with real children: exit codes,
 * a death by signal, pipes, a file, cwd and environment, process groups,
 * ends reported through the loop on SIGCHLD (also for a child that ended
 * before it was registered, and for many at once), a blocking wait and a
 * blocking read that the SIGCHLD handler leaves alone, no zombie left; and
 * the output framing both surfaces get from a run (action.c). */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgcutover/proc.h"
#include "pgcutover/action.h"
#include "tap.h"

#define MANY_CHILDREN 40
#define WAIT_MS 10000

static char *sh_argv[4];

static char *const *sh(const char *script)
{
	sh_argv[0] = (char *)"sh";
	sh_argv[1] = (char *)"-c";
	sh_argv[2] = (char *)script;
	sh_argv[3] = NULL;
	return sh_argv;
}

/* The state letter of pid in /proc (Z for a zombie), or 0 when it is gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

/* Waits (without reaping) until pid is a zombie. */
static bool wait_zombie(pid_t pid)
{
	double t0 = loop_now_ms();
	while (loop_now_ms() - t0 < WAIT_MS) {
		if (proc_state(pid) == 'Z')
			return true;
		usleep(2000);
	}
	return false;
}

/* Children of ours that are zombies, from /proc. */
static int count_zombie_children(void)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t got = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[got] = '\0';
		const char *rp = strrchr(buf, ')');
		char st;
		int ppid;
		if (rp && sscanf(rp + 1, " %c %d", &st, &ppid) == 2 && ppid == getpid() && st == 'Z')
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

typedef struct ended {
	int calls;
	pid_t pid;
	int status;
} ended;

static void on_end(loop *lp, pid_t pid, int status, void *ud)
{
	ended *en = ud;
	en->calls++;
	en->pid = pid;
	en->status = status;
}

static bool turn_until(loop *lp, const int *calls, int want)
{
	double t0 = loop_now_ms();
	while (*calls < want && loop_now_ms() - t0 < WAIT_MS)
		loop_once(lp, 100);
	return *calls >= want;
}

/* Everything a pipe gives until EOF. */
static char *read_all(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	strbuf sb;
	sb_init(&sb);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			sb_add(&sb, buf, (size_t)n);
	close(fd);
	return sb_steal(&sb);
}

typedef struct framed {
	strbuf all;
	size_t calls;
	bool cut_in_short_line;   /* a call ended inside a line shorter than a piece */
	char last[16];
} framed;

static void on_output(void *ud, int stream, const char *d, size_t n)
{
	framed *f = ud;
	/* The call before this one ended without a newline: only a piece of
	 * the long line (all x) may. */
	if (f->all.len && f->all.buf[f->all.len - 1] != '\n' && f->all.buf[f->all.len - 1] != 'x')
		f->cut_in_short_line = true;
	sb_add(&f->all, d, n);
	f->calls++;
	snprintf(f->last, sizeof f->last, "%.*s", (int)(n < sizeof f->last - 1 ? n : sizeof f->last - 1), d);
}

static void test_blocking(void)
{
	pgc_err e = {0};
	int status = -1;
	ok(proc_run(&(proc_spec){.path = "/bin/sh", .argv = sh("exit 3")}, &status, &e) == 0,
	   "proc_run runs /bin/sh (%s)", e.msg);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "exit code 3 comes back");

	ok(proc_run(&(proc_spec){.path = "/nonexistent/prog", .argv = sh("")}, &status, &e) == 0,
	   "a program that is not there still forks");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == PROC_EXIT_EXEC, "and exits %d", PROC_EXIT_EXEC);

	ok(proc_run(&(proc_spec){.path = "/bin/sh", .argv = sh("kill -TERM $$")}, &status, &e) == 0,
	   "a child killing itself");
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "death by SIGTERM reported");

	/* cwd, environment, stdin from /dev/null, stdout and stderr piped */
	char dir[TAP_TMPL_MAX];
	ok(mkdtemp(tap_tmpl(dir, sizeof dir, "pgc-proc")) != NULL, "temp dir");
	char *envp[] = {(char *)"PROC_TEST=in-env", NULL};
	proc_child ch;
	ok(proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("pwd; echo \"$PROC_TEST\"; cat; echo err >&2"),
	                           .envp = envp, .cwd = dir, .out = PROC_IO_PIPE, .err = PROC_IO_PIPE},
	              &ch, &e) == 0, "spawn with pipes (%s)", e.msg);
	ok(ch.in_fd < 0 && ch.out_fd >= 0 && ch.err_fd >= 0, "our ends: stdout and stderr only");
	ok(fcntl(ch.out_fd, F_GETFD) & FD_CLOEXEC, "our end is close-on-exec");
	ok(fcntl(ch.out_fd, F_GETFL) & O_NONBLOCK, "our end is non-blocking");
	char *out = read_all(ch.out_fd), *err = read_all(ch.err_fd);
	char *want = xasprintf("%s\nin-env\n", dir);
	char real[4096];
	if (realpath(dir, real)) {
		free(want);
		want = xasprintf("%s\nin-env\n", real);
	}
	is_str(out, want, "cwd and environment as given; stdin is /dev/null (cat ends at once)");
	is_str(err, "err\n", "stderr on its own pipe");
	free(out);
	free(err);
	free(want);
	ok(proc_wait(ch.pid, &status) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "ended 0");

	/* a missing cwd: the child says so and exits 127 */
	ok(proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("exit 0"), .cwd = "/nonexistent/dir",
	                           .err = PROC_IO_PIPE}, &ch, &e) == 0, "spawn into a missing directory");
	err = read_all(ch.err_fd);
	ok(strstr(err, "/nonexistent/dir") != NULL, "the child names the directory (%s)", err);
	free(err);
	ok(proc_wait(ch.pid, &status) == 0 && WEXITSTATUS(status) == PROC_EXIT_EXEC, "and exits 127");

	/* stdin from a pipe, stdout and stderr appended to a file */
	char *file = xasprintf("%s/out.log", dir);
	ok(proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("cat; echo to-err >&2"), .in = PROC_IO_PIPE,
	                           .out = PROC_IO_FILE, .err = PROC_IO_FILE, .file = file}, &ch, &e) == 0,
	   "spawn with stdin piped and output to a file");
	ok(write(ch.in_fd, "from-pipe\n", 10) == 10, "written to the child's stdin");
	close(ch.in_fd);
	ok(proc_wait(ch.pid, &status) == 0 && WEXITSTATUS(status) == 0, "ended 0");
	char *text = NULL;
	size_t len = 0;
	pgc_read_file(file, 4096, &text, &len, &e);
	is_str(text, "from-pipe\nto-err\n", "both streams appended to the file, in order");
	free(text);
	unlink(file);
	free(file);
	rmdir(dir);

	/* a new process group */
	ok(proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("sleep 30"), .new_pgroup = true}, &ch, &e) == 0,
	   "spawn in a new process group");
	is_int(getpgid(ch.pid), ch.pid, "the child leads its own group");
	kill(-ch.pid, SIGKILL);
	ok(proc_wait(ch.pid, &status) == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "killed through its group");
}

static void ignore_sig(loop *lp, int signo, void *ud) { }

static void test_loop_watch(void)
{
	pgc_err e = {0};
	proc_child ch;
	ended en = {0};

	/* a child that ended before it was registered, before any SIGCHLD
	 * handler was there to hear it */
	loop *lp = loop_new();
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("exit 5")}, &ch, &e);
	ok(wait_zombie(ch.pid), "the child has ended, unregistered");
	ok(proc_watch(lp, ch.pid, on_end, &en, &e) == 0, "watch a child (%s)", e.msg);
	is_int(en.calls, 0, "not reported from inside proc_watch");
	ok(turn_until(lp, &en.calls, 1), "an end that came before the watch is still reported");
	ok(en.pid == ch.pid && WIFEXITED(en.status) && WEXITSTATUS(en.status) == 5, "with its pid and exit code 5");
	loop_free(lp);

	lp = loop_new();
	memset(&en, 0, sizeof en);

	/* signal death through the loop */
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("sleep 0.05; kill -KILL $$")}, &ch, &e);
	proc_watch(lp, ch.pid, on_end, &en, &e);
	is_int((long long)proc_watched(lp), 1, "one child watched");
	ok(turn_until(lp, &en.calls, 1), "its end arrives through the loop");
	ok(en.pid == ch.pid && WIFSIGNALED(en.status) && WTERMSIG(en.status) == SIGKILL,
	   "with its pid and the signal that killed it");
	is_int((long long)proc_watched(lp), 0, "the watch is gone after the end");

	/* unwatch: the callback never runs; a child still running is ours to
	 * collect, one the registry already collected comes with its status
	 * (proc_wait would find no child, or another one with its pid) */
	memset(&en, 0, sizeof en);
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("sleep 0.3; exit 4")}, &ch, &e);
	proc_watch(lp, ch.pid, on_end, &en, &e);
	int status = -1;
	is_int(proc_unwatch(lp, ch.pid, &status), 0, "unwatch of a running child: not collected");
	ok(proc_wait(ch.pid, &status) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 4,
	   "an unwatched child collected by proc_wait");
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("exit 3")}, &ch, &e);
	ok(wait_zombie(ch.pid), "a child that has ended");
	proc_watch(lp, ch.pid, on_end, &en, &e);   /* collects it at once */
	status = -1;
	is_int(proc_unwatch(lp, ch.pid, &status), 1, "unwatch of a child the registry collected: says so");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "with its wait status");
	for (int i = 0; i < 5; i++)
		loop_once(lp, 10);
	is_int(en.calls, 0, "the callback of an unwatched child never runs");

	/* many children at once, each with its own exit code */
	ended many[MANY_CHILDREN];
	memset(many, 0, sizeof many);
	pid_t pids[MANY_CHILDREN];
	int calls = 0;
	for (int i = 0; i < MANY_CHILDREN; i++) {
		char script[64];
		snprintf(script, sizeof script, "sleep 0.0%d; exit %d", i % 10, i);
		proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh(script)}, &ch, &e);
		pids[i] = ch.pid;
		proc_watch(lp, ch.pid, on_end, &many[i], &e);
	}
	double t0 = loop_now_ms();
	while (calls < MANY_CHILDREN && loop_now_ms() - t0 < WAIT_MS) {
		loop_once(lp, 100);
		calls = 0;
		for (int i = 0; i < MANY_CHILDREN; i++)
			calls += many[i].calls;
	}
	is_int(calls, MANY_CHILDREN, "every one of the children reported once");
	bool right = true;
	for (int i = 0; i < MANY_CHILDREN; i++)
		right = right && many[i].pid == pids[i] && WIFEXITED(many[i].status) &&
		        WEXITSTATUS(many[i].status) == i;
	ok(right, "each with its own pid and exit code");

	/* a blocking wait elsewhere: its child is not taken by the registry */
	proc_child other;
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("exit 7")}, &other, &e);
	memset(&en, 0, sizeof en);
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("exit 0")}, &ch, &e);
	proc_watch(lp, ch.pid, on_end, &en, &e);
	ok(wait_zombie(other.pid), "an unregistered child has ended");
	ok(turn_until(lp, &en.calls, 1), "SIGCHLD handled for the registered one");
	ok(proc_wait(other.pid, &status) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 7,
	   "the unregistered child is left to its blocking waiter, with its exit code");

	/* a blocking read while a child ends: SA_RESTART, no EINTR */
	memset(&en, 0, sizeof en);
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("sleep 0.1")}, &ch, &e);
	proc_watch(lp, ch.pid, on_end, &en, &e);
	proc_child reader;
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("sleep 0.4; echo late"), .out = PROC_IO_PIPE},
	           &reader, &e);
	fcntl(reader.out_fd, F_SETFL, fcntl(reader.out_fd, F_GETFL) & ~O_NONBLOCK);
	char buf[16];
	errno = 0;
	ssize_t n = read(reader.out_fd, buf, sizeof buf);
	ok(n == 5 && memcmp(buf, "late\n", 5) == 0, "a blocking read is not broken by SIGCHLD (n=%zd, %s)",
	   n, strerror(errno));
	close(reader.out_fd);
	proc_wait(reader.pid, NULL);
	ok(turn_until(lp, &en.calls, 1), "and the child that ended meanwhile is reported");

	/* proc_fork: a child that does not exec loses our handlers */
	loop_signal(lp, SIGUSR1, ignore_sig, NULL);
	pid_t pid = proc_fork(&e);
	if (pid == 0) {
		struct sigaction sa;
		sigaction(SIGUSR1, NULL, &sa);
		_exit(sa.sa_handler == SIG_DFL && sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL ? 0 : 1);
	}
	memset(&en, 0, sizeof en);
	proc_watch(lp, pid, on_end, &en, &e);
	ok(turn_until(lp, &en.calls, 1) && WIFEXITED(en.status) && WEXITSTATUS(en.status) == 0,
	   "a forked child starts with default signal dispositions");

	/* the loop freed with a child still registered */
	proc_spawn(&(proc_spec){.path = "/bin/sh", .argv = sh("sleep 30")}, &ch, &e);
	proc_watch(lp, ch.pid, on_end, &en, &e);
	loop_free(lp);
	ok(proc_state(ch.pid) != 0, "freeing the loop leaves a registered child alone");
	kill(ch.pid, SIGKILL);
	ok(proc_wait(ch.pid, &status) == 0 && WIFSIGNALED(status), "and it can still be collected");
	struct sigaction sa;
	sigaction(SIGCHLD, NULL, &sa);
	ok(sa.sa_handler == SIG_DFL, "the SIGCHLD handler goes with the loop");

	is_int(count_zombie_children(), 0, "no zombie child left (/proc)");
}

/* The framing both surfaces (pgcutover run, the console) get from a run
 * (act_outbuf_feed): whole lines, a line longer than the piece size in
 * pieces, the last line without a newline on its own, every byte once. */
static void test_framing(void)
{
	char dir[TAP_TMPL_MAX];
	if (!mkdtemp(tap_tmpl(dir, sizeof dir, "pgc-proc"))) {
		ok(0, "mkdtemp");
		return;
	}
	char *cfgtext = xasprintf("{\"runbook\": \"rb.md\", \"workdir\": \"%s\"}", dir);
	char *cfgpath = xasprintf("%s/pgcutover.json", dir);
	config *cfg = NULL;
	pgc_err e = {0};
	ok(config_parse(cfgtext, strlen(cfgtext), cfgpath, &cfg, &e) == 0, "config parses (%s)", e.msg);
	act_plan *p = act_plan_flags(cfg, "1", NULL, NULL, 0);
	char *script = xasprintf("echo first; head -c %d /dev/zero | tr '\\0' x; echo; printf tail",
	                         ACT_OUTPUT_LINE_MAX + ACT_OUTPUT_LINE_MAX / 2);
	free(p->command);
	p->command = xstrdup(script);
	p->segs = xcalloc(1, sizeof *p->segs);
	p->segs[0].kind = ACT_SEG_SHELL;
	p->segs[0].text = script;
	p->n_segs = 1;
	p->timeout_s = 60;
	loop *lp = loop_new();
	framed f = {0};
	sb_init(&f.all);
	act_result res;
	act_hooks hooks = {.output = on_output};
	ok(act_run_wait(lp, p, cfg, &(act_opts){0}, &hooks, &f, &res, &e) == 0, "the run ends (%s)", e.msg);
	is_str(act_status_name(res.status), "ok", "ok");
	strbuf want;
	sb_init(&want);
	sb_puts(&want, "first\n");
	for (int i = 0; i < ACT_OUTPUT_LINE_MAX + ACT_OUTPUT_LINE_MAX / 2; i++)
		sb_add(&want, "x", 1);
	sb_puts(&want, "\ntail");
	ok(f.all.len == want.len && memcmp(f.all.buf, want.buf, want.len) == 0,
	   "every byte passed on once, in order (%zu of %zu)", f.all.len, want.len);
	ok(!f.cut_in_short_line, "no call ends inside a line shorter than a piece");
	is_str(f.last, "tail", "the partial last line passed on at the end, alone");
	is_int((long long)res.output_bytes, (long long)want.len, "output_bytes counts them");
	sb_free(&want);
	sb_free(&f.all);
	act_plan_free(p);
	loop_free(lp);
	config_free(cfg);
	free(cfgtext);
	free(cfgpath);
	rmdir(dir);
}

int main(void)
{
	test_blocking();
	test_loop_watch();
	test_framing();
	return done_testing();
}
