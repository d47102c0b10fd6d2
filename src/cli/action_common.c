/*
 * action_common.c -- shared by `run`, `rollback`, `flag set` and `health`:
 * confirmation and questions on /dev/tty (never stdin, so a pipe cannot
 * answer "yes" by accident), running a plan on a loop with the command's
 * output streamed live, Ctrl-C turned into a cancel of the command's
 * process group, and the command_unknown recovery message.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli_action.h"

#define CLI_ANSWER_MAX 4096

static int tty_open(void)
{
	return open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
}

bool cli_tty_write(const char *text)
{
	int fd = tty_open();
	if (fd < 0)
		return false;
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n;
	close(fd);
	return ok;
}

char *cli_tty_ask(const char *prompt, bool secret)
{
	int fd = tty_open();
	if (fd < 0)
		return NULL;
	struct termios old, quiet;
	bool restore = false;
	if (secret && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) { /* the read below tells */ }
	char buf[CLI_ANSWER_MAX];
	size_t len = 0;
	bool got = false;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got = true;
		if (c == '\n')
			break;
		if (len + 1 < sizeof buf)
			buf[len++] = c;
	}
	buf[len] = '\0';
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0) { /* cosmetic */ }
	}
	close(fd);
	if (!got)
		return NULL;
	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return xstrdup(buf);
}

int cli_tty_confirm(const char *question, const char *typed, bool word_only)
{
	char *prompt = word_only ? xasprintf("%s Type %s, then Enter: ", question, typed)
	                         : xasprintf("%s Type %s or yes, then Enter: ", question, typed);
	char *a = cli_tty_ask(prompt, false);
	free(prompt);
	if (!a)
		return -1;
	int yes = strcmp(a, typed) == 0 || (!word_only && strcmp(a, "yes") == 0);
	free(a);
	return yes;
}

int cli_fill_vars(act_plan *p, const char *what)
{
	while (p->n_missing_vars > 0) {
		char *name = xstrdup(p->missing_vars[0]);
		bool secret = envfile_name_is_secret(name);
		char *prompt = xasprintf("%s uses $%s, which is not set. Value for %s%s: ", what, name, name,
		                         secret ? " (not echoed, not recorded)" : "");
		char *v = cli_tty_ask(prompt, secret);
		free(prompt);
		if (!v) {
			fprintf(stderr, "pgcutover: %s uses $%s, which is neither in the environment nor "
			        "the config, and there is no terminal to ask for it; set it and retry\n", what, name);
			free(name);
			return CLI_NO_TERMINAL_EXIT;
		}
		act_plan_set_var(p, name, v);
		free(v);
		free(name);
	}
	return 0;
}

/* A long command must not make this driver look silent to others. */
#define CLI_HEARTBEAT_MS 1000

typedef struct run_io {
	loop *lp;
	lease *lease;
	int heartbeat_timer;
	bool json_mode;
	bool tty[3];
	act_run *run;
} run_io;

static void write_fd(int fd, const char *d, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, d, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		d += w;
		n -= (size_t)w;
	}
}

/* Output comes masked, a line at a time (act_outbuf_feed).  It goes out as
 * a shell would show it, except on a terminal, where a command's escape
 * sequences must not drive the operator's terminal. */
static void on_output(void *ud, int stream, const char *d, size_t n)
{
	run_io *io = ud;
	int fd = io->json_mode ? 2 : stream;
	if (io->tty[fd]) {
		char *s = pgc_sanitize_n(d, n, PGC_SANITIZE_LINES);
		write_fd(fd, s, strlen(s));
		free(s);
	} else {
		write_fd(fd, d, n);
	}
}

static void on_flag(void *ud, const char *name, const char *old, const char *nv, const char *bak)
{
	run_io *io = ud;
	const act_masker *m = io->run ? act_get_masker(io->run) : NULL;
	char *o = act_flag_shown(m, name, old, "(unset)");
	char *n = act_flag_shown(m, name, nv, "");
	fprintf(stderr, "pgcutover: flag %s: %s -> %s%s%s%s\n", name, o, n,
	        bak ? " (backup " : "", bak ? bak : "", bak ? ")" : "");
	free(o);
	free(n);
}

static void on_heartbeat(loop *lp, void *ud)
{
	run_io *io = ud;
	pgc_err e = {0};
	io->heartbeat_timer = 0;
	if (lease_heartbeat(io->lease, pgc_now(), &e) < 0) {
		fprintf(stderr, "pgcutover: warning: %s; the command keeps running\n", e.msg);
		return;
	}
	io->heartbeat_timer = loop_timer(lp, CLI_HEARTBEAT_MS, on_heartbeat, io);
}

static void on_stop_signal(loop *lp, int signo, void *ud)
{
	run_io *io = ud;
	if (io->run) {
		fprintf(stderr, "\npgcutover: %s: cancelling the command (SIGTERM to its process group)\n",
		        signo == SIGINT ? "interrupted" : "terminated");
		act_cancel(io->run);
	}
}

int cli_run_plan(cli_ctx *ctx, loop *lp, const act_plan *p, bool json_mode, act_result *res)
{
	run_io io = {.lp = lp, .lease = ctx->lease, .json_mode = json_mode};
	for (int fd = 1; fd <= 2; fd++)
		io.tty[fd] = isatty(fd);
	act_opts opt = {.st = ctx->st, .auto_tick = ctx->cfg && ctx->cfg->auto_tick};
	act_hooks hooks = {on_output, on_flag, NULL};
	pgc_err e = {0};
	/* A closed stdout (| head) must not kill pgcutover while its command runs. */
	signal(SIGPIPE, SIG_IGN);
	loop_signal(lp, SIGINT, on_stop_signal, &io);
	loop_signal(lp, SIGTERM, on_stop_signal, &io);
	fflush(stdout);
	if (act_start(lp, p, ctx->cfg, &opt, &hooks, &io, &io.run, &e) < 0)
		return cli_report(&e);
	if (io.lease)
		io.heartbeat_timer = loop_timer(lp, CLI_HEARTBEAT_MS, on_heartbeat, &io);
	while (!act_finished(io.run))
		loop_once(lp, ACT_WAIT_SLICE_MS);
	if (io.heartbeat_timer)
		loop_timer_cancel(lp, io.heartbeat_timer);
	*res = *act_get_result(io.run);
	act_free(io.run);
	io.run = NULL;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return 0;
}

void cli_recover_unknown(cli_ctx *ctx)
{
	if (!ctx->st || state_is_readonly(ctx->st))
		return;
	pgc_err e = {0};
	char *items = NULL;
	int n = act_recover_unknown(ctx->st, &items, &e);
	if (n < 0)
		fprintf(stderr, "pgcutover: warning: %s\n", e.msg);
	else if (n > 0) {
		free(ctx->unknown_report);
		ctx->unknown_report = xasprintf("%d command%s (item %s): %s; check what it did before going on", n,
		                                n == 1 ? "" : "s", items ? items : "?", ACT_UNKNOWN_END_MESSAGE);
		fprintf(stderr, "pgcutover: %s\n", ctx->unknown_report);
	}
	free(items);
}

char *cli_result_json(const act_plan *p, const act_result *r)
{
	cJSON *o = cJSON_CreateObject();
	if (p->item_id[0])
		cJSON_AddStringToObject(o, "item", p->item_id);
	else
		cJSON_AddNullToObject(o, "item");
	cJSON_AddStringToObject(o, "phase", p->phase_id);
	cJSON_AddStringToObject(o, "status", act_status_name(r->status));
	cJSON_AddNumberToObject(o, "exit", act_result_exit(r));
	cJSON_AddNumberToObject(o, "signal", r->signal);
	cJSON_AddNumberToObject(o, "duration_s", r->duration_s);
	cJSON_AddNumberToObject(o, "output_bytes", (double)r->output_bytes);
	cJSON_AddBoolToObject(o, "truncated", r->truncated);
	cJSON_AddBoolToObject(o, "ticked", r->ticked);
	cJSON_AddNumberToObject(o, "start_id", (double)r->start_event_id);
	if (r->error[0]) {
		char *s = pgc_sanitize_n(r->error, strlen(r->error), PGC_SANITIZE_LINES);
		cJSON_AddStringToObject(o, "error", s);
		free(s);
	} else {
		cJSON_AddNullToObject(o, "error");
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *ret = xstrdup(s);
	cJSON_free(s);
	return ret;
}
