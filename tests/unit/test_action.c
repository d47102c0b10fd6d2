/* test_action.c -- planning and running command blocks (action.c): flag
 * segments, variables, masking, output capping, timeout, cancel, audit. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "pgcutover/action.h"
#include "pgcutover/envfile.h"
#include "tap.h"

static const char rb_text[] =
	"# Test runbook\n"
	"\n"
	"## Phase 1: Prep\n"
	"\n"
	"- [ ] Say hello\n"
	"  ```bash\n"
	"  echo hello\n"
	"  echo oops >&2\n"
	"  ```\n"
	"- [ ] Flip the flag\n"
	"  ```sh\n"
	"  echo before\n"
	"  USE_NEW=true\n"
	"  echo after\n"
	"  ```\n"
	"- [ ] Fail early\n"
	"  ```sh\n"
	"  exit 3\n"
	"  USE_NEW=false\n"
	"  ```\n"
	"- [ ] Just text\n"
	"- [ ] Nested\n"
	"  ```sh\n"
	"  if true; then\n"
	"    USE_NEW=nested\n"
	"  fi\n"
	"  ```\n";

static char dir[TAP_TMPL_MAX];

typedef struct seen {
	size_t out_bytes, err_bytes;
	int flags;
	int done;
} seen;

static void on_output(void *ud, int stream, const char *d, size_t n)
{
	seen *s = ud;
	if (stream == 1)
		s->out_bytes += n;
	else
		s->err_bytes += n;
}

static void on_flag(void *ud, const char *name, const char *o, const char *nv, const char *bak)
{
	((seen *)ud)->flags++;
}

static void on_done(void *ud, const act_result *r)
{
	((seen *)ud)->done++;
}

static const act_hooks hooks = {on_output, on_flag, on_done};

static act_plan *shell_plan(config *cfg, const char *text, int timeout_s)
{
	act_plan *p = act_plan_flags(cfg, "1", NULL, NULL, 0);
	free(p->command);
	p->command = xstrdup(text);
	p->segs = xcalloc(1, sizeof *p->segs);
	p->segs[0].kind = ACT_SEG_SHELL;
	p->segs[0].text = xstrdup(text);
	p->n_segs = 1;
	p->timeout_s = timeout_s;
	return p;
}

typedef struct kinds {
	strbuf s;
	char *last_end;
} kinds;

static int collect(const st_event *ev, void *ud)
{
	kinds *k = ud;
	sb_printf(&k->s, "%s%s", k->s.len ? "," : "", ev->kind);
	if (strcmp(ev->kind, EV_COMMAND_END) == 0) {
		free(k->last_end);
		k->last_end = xstrdup(ev->payload);
	}
	return 0;
}

/* act_preflight: the commands of a block that are not there. */
static void preflight_is(const char *text, const char *workdir, const char *want, const char *name)
{
	char **v;
	size_t n = act_preflight(text, workdir, &v);
	strbuf b;
	sb_init(&b);
	for (size_t i = 0; i < n; i++) {
		sb_printf(&b, "%s%s", i ? "|" : "", v[i]);
		free(v[i]);
	}
	free(v);
	char *got = sb_steal(&b);
	is_str(got, want, name);
	free(got);
}

static void preflight(void)
{
	preflight_is("pgc-zz-nothing restart all\n", "/", "pgc-zz-nothing not on PATH", "a command not on PATH");
	preflight_is("sh -c true | pgc-zz-a && pgc-zz-b; pgc-zz-c & wait", "/",
	             "pgc-zz-a not on PATH|pgc-zz-b not on PATH|pgc-zz-c not on PATH", "after | && ; &");
	preflight_is("X=1 Y=\"a b\" pgc-zz-env --go", "/", "pgc-zz-env not on PATH", "after assignments");
	preflight_is("if pgc-zz-if; then echo; else pgc-zz-else; fi\nwhile false; do pgc-zz-do; done", "/",
	             "pgc-zz-if not on PATH|pgc-zz-else not on PATH|pgc-zz-do not on PATH", "after keywords");
	preflight_is("# pgc-zz-comment\ncat <<EOF\npgc-zz-heredoc\nEOF\ncat <<-'X'\n\tpgc-zz-h2\n\tX\n", "/", "",
	             "comments and here-documents skipped");
	preflight_is("f() { echo; }\nf\nfunction g { :; }\ng\ncase $a in\n  pgc-zz-pat) true ;;\nesac\n"
	             "for pgc in a b; do :; done", "/", "", "functions, case patterns, for lists");
	preflight_is("$HOME/bin/x; \"$TOOL\" run; `which y`", "/", "", "words with $ or ` are not known before");
	preflight_is("echo ok 2>&1 >/dev/null < /etc/hostname", "/", "", "redirections are files");
	preflight_is("pgc-zz-twice; pgc-zz-twice", "/", "pgc-zz-twice not on PATH", "each once");
	preflight_is("./no-such-script.sh", "/nonexistent", "./no-such-script.sh not found in /nonexistent",
	             "a relative path from the workdir");
	preflight_is("/bin/sh -c true; ./sh -c true", "/bin", "", "an absolute path; a relative one that is there");
}

int main(void)
{
	preflight();
	if (!mkdtemp(tap_tmpl(dir, sizeof dir, "pgc-action"))) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	char *envpath = xasprintf("%s/.env", dir);
	FILE *f = fopen(envpath, "w");
	fputs("# flags\nUSE_NEW=false\n", f);
	fclose(f);

	char *cfgtext = xasprintf("{\"runbook\": \"rb.md\", \"env_file\": \".env\", \"flags\": [\"USE_NEW\"], "
	                          "\"workdir\": \"%s\"}", dir);
	char *cfgpath = xasprintf("%s/pgcutover.json", dir);
	config *cfg = NULL;
	pgc_err e = {0};
	ok(config_parse(cfgtext, strlen(cfgtext), cfgpath, &cfg, &e) == 0, "config parses (%s)", e.msg);
	const char *flags[] = {"USE_NEW"};
	rb_options ro = {flags, 1, 0};
	runbook *rb = NULL;
	ok(runbook_parse(rb_text, strlen(rb_text), "rb.md", &ro, &rb, &e) == 0, "runbook parses (%s)", e.msg);
	if (!cfg || !rb)
		return done_testing();

	/* Planning. */
	act_plan *p = NULL;
	ok(act_plan_item(cfg, rb, "1.2", &p, &e) == 0, "plan 1.2 (%s)", e.msg);
	is_int(p->n_segs, 3, "flag line splits the block in three");
	ok(p->segs[1].kind == ACT_SEG_FLAG && strcmp(p->segs[1].name, "USE_NEW") == 0 &&
	   strcmp(p->segs[1].value, "true") == 0, "middle segment is the flag edit");
	is_str(p->segs[1].old_value, "false", "plan knows the value in the file");
	is_int(act_plan_flag_changes(p), 1, "one flag would change");
	is_str(p->shell, "/bin/sh", "sh block runs under /bin/sh");
	char *js = act_plan_json(p);
	cJSON *o = cJSON_Parse(js);
	ok(o && cJSON_GetArraySize(cJSON_GetObjectItem(o, "flags")) == 1, "plan JSON lists the flag");
	cJSON_Delete(o);
	free(js);
	envfile *ef;
	envfile_load(envpath, &ef, &e);
	is_str(envfile_get(ef, "USE_NEW"), "false", "planning changed nothing");
	envfile_free(ef);

	/* A run of flag segments (issue 13 item 7) and restores joining it. */
	act_plan *p2 = NULL;
	ok(act_plan_item(cfg, rb, "1.2", &p2, &e) == 0, "plan 1.2 again");
	is_int(act_plan_flag_run(p2, 0), 0, "a shell segment starts no run of flags");
	is_int(act_plan_flag_run(p2, 1), 2, "the run of one flag ends after it");
	const char *rn[] = {"OTHER_FLAG", "THIRD_FLAG"}, *rv[] = {"x", "y"};
	act_plan *rp = act_plan_flags(cfg, "1", rn, rv, 2);
	act_plan_insert_flags(p2, act_plan_flag_run(p2, 1), rp);
	act_plan_free(rp);
	ok(p2->n_segs == 5 && p2->segs[2].kind == ACT_SEG_FLAG && strcmp(p2->segs[2].name, "OTHER_FLAG") == 0 &&
	   strcmp(p2->segs[3].name, "THIRD_FLAG") == 0 && p2->segs[4].kind == ACT_SEG_SHELL,
	   "inserted flags join the run, before the next command");
	is_int(act_plan_flag_run(p2, 1), 4, "the run now holds three flags");
	char *pd = act_plan_describe(p2);
	ok(strstr(pd, "these 3 flags in one write") != NULL, "the plan's text says they are one write");
	free(pd);
	act_plan_free(p2);

	act_plan *p1 = NULL;
	ok(act_plan_item(cfg, rb, "1.1", &p1, &e) == 0 && strcmp(p1->shell, "/bin/bash") == 0, "bash block runs under bash");
	ok(act_plan_item(cfg, rb, "1.4", &p1 /* unchanged on error */, &e) < 0, "item without a block refused");

	act_plan *pn = NULL;
	ok(act_plan_item(cfg, rb, "1.5", &pn, &e) == 0 && pn->n_segs == 1 && pn->segs[0].kind == ACT_SEG_SHELL,
	   "an indented NAME=VALUE inside if/fi stays shell text");
	act_plan_free(pn);

	/* Variables. */
	char **vars;
	size_t nv = act_used_vars("echo $FOO ${BAR:-x} '$SINGLE' \"$DQ\" ${QUX}\nX=1; echo $X $1 $?\n"
	                          "for i in 1 2; do echo $i; done\n# $COMMENTED\necho \\$ESC $HOME\n", &vars);
	strbuf vb;
	sb_init(&vb);
	for (size_t i = 0; i < nv; i++) {
		sb_printf(&vb, "%s ", vars[i]);
		free(vars[i]);
	}
	free(vars);
	is_str(vb.buf ? vb.buf : "", "FOO DQ QUX ", "used variables: unset, undefaulted, unquoted-by-single");
	sb_free(&vb);

	/* Masking and sanitising. */
	setenv("TEST_API_TOKEN", "s3cr3t-value", 1);
	setenv("FEATURE_KEY", "true", 1);
	act_masker *m = act_masker_new(cfg);
	char *plain = act_masker_apply(m, "USE_NEW=true");
	is_str(plain, "USE_NEW=true", "a short value of a secret-looking name is not masked everywhere");
	free(plain);
	char *masked = act_masker_apply(m, "token=s3cr3t-value url=postgres://u:hunter22@db/x");
	is_str(masked, "token=*** url=postgres://u:***@db/x", "env secret and URL password masked");
	free(masked);
	act_masker_free(m);

	/* What a command's text assigns to a secret is learned, so its output
	 * can be masked; an expansion is not a secret. */
	m = act_masker_new(NULL);
	act_masker_learn(m, "export DB_PASSWORD=pw-123456 API_TOKEN='tok 7890' X=$SECRET_KEY\n"
	                    "psql postgres://u:urlpass99@h/db");
	masked = act_masker_apply(m, "pw-123456 / tok 7890 / urlpass99 / $SECRET_KEY");
	is_str(masked, "*** / *** / *** / $SECRET_KEY", "assigned secrets learned, an expansion not");
	free(masked);
	masked = act_masker_apply(m, "password='a b c' DB_PASSWORD=\"q\\\"r\" key=$K");
	is_str(masked, "password='***' DB_PASSWORD=\"***\" key=$K", "quoted values masked inside their quotes");
	free(masked);

	/* Output framed for masking: a secret split across two reads, and
	 * across the cut of a line longer than the maximum, comes out whole. */
	act_outbuf ob;
	act_outbuf_init(&ob, 16);
	size_t len;
	char *o1 = act_outbuf_feed(&ob, m, "a pw-12", 7, false, &len);
	is_int((long long)len, 0, "half a line is held back");
	char *o2 = act_outbuf_feed(&ob, m, "3456 b\nc", 8, false, &len);
	is_str(o2, "a *** b\n", "the line, masked whole");
	char *o3 = act_outbuf_feed(&ob, m, "xxxxxxxxxxxxxxpw-1234", 21, false, &len);
	ok(!strstr(o3, "pw-"), "a long line is cut before a secret that may not have ended (%s)", o3);
	char *o4 = act_outbuf_feed(&ob, m, "56 end", 6, true, &len);
	char *both = xasprintf("%s%s", o3, o4);
	is_str(both, "cxxxxxxxxxxxxxx*** end", "and the secret comes out masked whole");
	char *o5 = act_outbuf_feed(&ob, m, "n\0ul pw-123456\n", 15, false, &len);
	ok(len == 9 && memcmp(o5, "n\0ul ***\n", 9) == 0, "a NUL byte passed on, the rest still masked");
	free(o1);
	free(o2);
	free(o3);
	free(o4);
	free(o5);
	free(both);
	act_outbuf_free(&ob);
	act_masker_free(m);
	static const char raw[] = "\x1b[31mred\x1b[0m\tok\n\xff";
	char *san = pgc_sanitize_n(raw, sizeof raw - 1, PGC_SANITIZE_LINES);
	is_str(san, "?[31mred?[0m\tok\n?", "escape sequences and invalid UTF-8 replaced");
	free(san);

	/* Running with the audit. */
	char *stpath = xasprintf("%s/state.db", dir);
	state *st = NULL;
	ok(state_open(stpath, STATE_OPEN_CREATE, &st, &e) == 0, "state opens (%s)", e.msg);
	loop *lp = loop_new();
	act_opts ao = {.st = st, .auto_tick = true};
	seen s = {0};
	act_result res;
	ok(act_run_wait(lp, p, cfg, &ao, &hooks, &s, &res, &e) == 0, "run 1.2");
	is_str(act_status_name(res.status), "ok", "1.2 ran ok");
	is_int(s.flags, 1, "flag hook called once");
	is_int(s.done, 1, "done hook called once");
	ok(res.ticked, "zero exit auto-ticked (auto_tick on)");
	envfile_load(envpath, &ef, &e);
	is_str(envfile_get(ef, "USE_NEW"), "true", "flag written to the .env");
	envfile_free(ef);
	kinds k = {0};
	state_foreach(st, 0, collect, &k, &e);
	ok(k.s.buf && strstr(k.s.buf, "command_start,flag_set,command_end,tick") != NULL,
	   "audit: command_start, flag_set, command_end, tick (%s)", k.s.buf ? k.s.buf : "");
	o = cJSON_Parse(k.last_end);
	ok(o && strstr(cJSON_GetObjectItem(o, "output_head")->valuestring, "before\nafter\n") != NULL,
	   "output of both shell segments captured in order");
	cJSON_Delete(o);
	act_plan_free(p);

	/* Stops at a failing segment: the flag below is not flipped. */
	ok(act_plan_item(cfg, rb, "1.3", &p, &e) == 0, "plan 1.3");
	memset(&s, 0, sizeof s);
	act_run_wait(lp, p, cfg, &ao, &hooks, &s, &res, &e);
	is_int(act_result_exit(&res), 3, "exit status propagated");
	is_int(s.flags, 0, "flag after a failed command not applied");
	ok(!res.ticked, "non-zero exit never ticks");
	act_plan_free(p);

	/* stdout and stderr both kept. */
	memset(&s, 0, sizeof s);
	act_run_wait(lp, p1, cfg, &ao, &hooks, &s, &res, &e);
	ok(s.out_bytes == 6 && s.err_bytes == 5, "stdout and stderr both streamed");
	act_plan_free(p1);

	/* 10 MB of output: capped in the audit, the child never blocks. */
	p = shell_plan(cfg, "head -c 10000000 /dev/zero | tr '\\0' a", 60);
	ao.auto_tick = false;
	act_run_wait(lp, p, cfg, &ao, NULL, NULL, &res, &e);
	is_str(act_status_name(res.status), "ok", "10 MB command finished");
	is_int((long long)res.output_bytes, 10000000, "all bytes counted");
	ok(res.truncated, "audit output truncated");
	free(k.s.buf);
	free(k.last_end);
	memset(&k, 0, sizeof k);
	state_foreach(st, 0, collect, &k, &e);
	ok(k.last_end && strlen(k.last_end) < 2 * (ACT_OUTPUT_HEAD_MAX + ACT_OUTPUT_TAIL_MAX),
	   "command_end payload capped");
	act_plan_free(p);

	/* Timeout: TERM to the group, then KILL. */
	p = shell_plan(cfg, "trap '' TERM; sleep 30 & wait; sleep 30", 1);
	ao.grace_ms = 200;
	double t0 = loop_now_ms();
	act_run_wait(lp, p, cfg, &ao, NULL, NULL, &res, &e);
	is_str(act_status_name(res.status), "timed_out", "timed out");
	ok(loop_now_ms() - t0 < 10000, "a TERM-ignoring command is killed after the grace period");
	is_int(act_result_exit(&res), 124, "timeout exit status is 124");
	act_plan_free(p);

	/* Cancel. */
	p = shell_plan(cfg, "sleep 30", 60);
	act_run *run;
	ok(act_start(lp, p, cfg, &ao, NULL, NULL, &run, &e) == 0, "start sleep");
	for (int i = 0; i < 5; i++)
		loop_once(lp, 20);
	ok(act_child_pid(run) > 0, "child running");
	act_cancel(run);
	while (!act_finished(run))
		loop_once(lp, 50);
	is_str(act_status_name(act_get_result(run)->status), "cancelled", "cancelled");
	act_free(run);
	act_plan_free(p);

	loop_free(lp);
	state_close(st);
	runbook_free(rb);
	config_free(cfg);
	free(k.s.buf);
	free(k.last_end);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	free(stpath);
	free(cfgtext);
	free(cfgpath);
	free(envpath);
	return done_testing();
}
