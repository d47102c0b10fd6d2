/*
 * action.c -- plans and runs a runbook item's command block (see action.h).
 *
 * A block is split into segments at the lines that edit a declared .env
 * flag, and the segments run in order: shell text as one `sh -c` (or
 * `bash -c`) in its own process group, flag edits through envfile_set_many()
 * (the flag lines of a block with no command between them in one write).
 * A non-zero exit stops the block, so flags below a failed command are
 * never flipped.  Shell state does not carry across a flag line (each
 * segment is its own shell), which the plan shows.
 *
 * Audit payloads (JSON objects, every string masked and sanitised):
 *   command_start  {command, shell, workdir, timeout_s, segments, flags[],
 *                   vars{name: value or "***"}, item_hash, rollback}
 *   flag_set       {name, old, new, file, backup, changed, sha256, start_id}
 *   command_end    {start_id, status, exit, signal, duration_s, output_head,
 *                   output_tail, output_bytes, truncated, segment, error}
 *   command_unknown {start_id, pid, host, message}
 * The child is started and watched through proc.h: its pipes in the loop,
 * its end reported by the loop's child registry on SIGCHLD (no polling).
 */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "pgcutover/action.h"
#include "pgcutover/envfile.h"
#include "pgcutover/evpay.h"
#include "pgcutover/ops.h"
#include "pgcutover/proc.h"

extern char **environ;

/* Bytes read from one pipe per loop callback, so one chatty command cannot
 * starve the terminal or the other pipe. */
#define ACT_READ_CHUNK 65536
#define ACT_READ_PER_CALLBACK (1024 * 1024)
/* After the shell exits, what is left in the pipes is read up to this much:
 * a daemon it started may hold them open and keep writing. */
#define ACT_FINAL_DRAIN_MAX (4 * ACT_READ_PER_CALLBACK)
/* Exit statuses as the shell and timeout(1) report them. */
#define ACT_EXIT_SIGNAL_BASE 128
#define ACT_EXIT_TIMEOUT 124
#define ACT_EXIT_CANCELLED (ACT_EXIT_SIGNAL_BASE + SIGINT)
#define ACT_CUTOVER_PHASE "5"
/* The note of the tick a zero exit records (opt.auto_tick). */
#define ACT_AUTO_TICK_NOTE "auto: command exited 0"

/* ------------------------------------------------------------------ */
/* small helpers */

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static char *trim_dup(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

static bool blank_or_comment(const char *text)
{
	for (const char *p = text; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '#')
			while (*p && *p != '\n')
				p++;
		if (*p == '\n') {
			p++;
			continue;
		}
		if (*p)
			return false;
	}
	return true;
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static bool strv_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* sanitising and masking */

struct act_masker {
	char **secrets;
	size_t n;
};

act_masker *act_masker_new(const config *cfg)
{
	act_masker *m = xcalloc(1, sizeof *m);
	for (char **ep = environ; ep && *ep; ep++) {
		const char *eq = strchr(*ep, '=');
		if (!eq)
			continue;
		char *name = xstrndup(*ep, (size_t)(eq - *ep));
		if (envfile_name_is_secret(name))
			act_masker_add(m, eq + 1);
		else
			act_masker_learn(m, eq + 1);   /* DATABASE_URL=postgres://u:PW@h */
		free(name);
	}
	if (cfg) {
		const cfg_endpoint *eps[] = {&cfg->source, &cfg->target};
		for (size_t i = 0; i < 2; i++)
			if (eps[i]->key_env && getenv(eps[i]->key_env))
				act_masker_add(m, getenv(eps[i]->key_env));
		/* Lenient: a .env too damaged to edit still holds secrets to mask. */
		envfile *ef = cfg->env_file ? envfile_load_lenient(cfg->env_file) : NULL;
		if (ef) {
			for (size_t i = 0; i < ef->n_entries; i++)
				if (envfile_name_is_secret(ef->entries[i].key))
					act_masker_add(m, ef->entries[i].value);
				else
					act_masker_learn(m, ef->entries[i].value);
			envfile_free(ef);
		}
	}
	return m;
}

void act_masker_add(act_masker *m, const char *secret)
{
	if (!secret || strlen(secret) < ACT_MASK_MIN_LEN || strv_has(m->secrets, m->n, secret))
		return;
	strv_push(&m->secrets, &m->n, secret);
	/* Longest first, so a secret containing another is masked whole. */
	for (size_t i = m->n - 1; i > 0 && strlen(m->secrets[i]) > strlen(m->secrets[i - 1]); i--) {
		char *t = m->secrets[i];
		m->secrets[i] = m->secrets[i - 1];
		m->secrets[i - 1] = t;
	}
}

static char *replace_all(const char *text, const char *needle, const char *with)
{
	strbuf b;
	sb_init(&b);
	size_t nl = strlen(needle);
	const char *p = text, *hit;
	while ((hit = strstr(p, needle))) {
		sb_add(&b, p, (size_t)(hit - p));
		sb_puts(&b, with);
		p = hit + nl;
	}
	sb_puts(&b, p);
	return sb_steal(&b);
}

/* An inline secret starting at p: the password of scheme://user:PASSWORD@,
 * or the value of NAME=VALUE where NAME looks secret (a shell or .env
 * assignment, password=... in a conninfo or a query string).  A quoted value
 * is the text inside the quotes; a value that starts with $ is an expansion,
 * not a secret.  Sets [*v, *end) and returns true when one is there. */
static bool inline_secret_at(const char *text, const char *p, const char **v, const char **end)
{
	if (strncmp(p, "://", 3) == 0) {
		const char *q = p + 3;
		while (*q && *q != '@' && *q != '/' && *q != ' ' && *q != '\n' && *q != ':')
			q++;
		if (*q != ':')
			return false;
		const char *pw = q + 1, *at = pw;
		while (*at && *at != '@' && *at != '/' && *at != ' ' && *at != '\n')
			at++;
		if (*at != '@' || at == pw)
			return false;
		*v = pw;
		*end = at;
		return true;
	}
	if (!name_start(*p) || (p > text && name_char(p[-1])))
		return false;
	const char *q = p;
	while (name_char(*q))
		q++;
	if (*q != '=')
		return false;
	char *name = xstrndup(p, (size_t)(q - p));
	bool secret = envfile_name_is_secret(name);
	free(name);
	if (!secret)
		return false;
	const char *val = q + 1, *e;
	if (*val == '\'' || *val == '"') {
		char quote = *val++;
		for (e = val; *e && *e != quote; e++)
			if (quote == '"' && *e == '\\' && e[1])
				e++;
	} else {
		e = val;
		while (*e && !strchr(" \t\r\n;&|)<>`'\"", *e))
			e++;
	}
	if (e == val || *val == '$')
		return false;
	*v = val;
	*end = e;
	return true;
}

static char *mask_inline_passwords(const char *text)
{
	strbuf b;
	sb_init(&b);
	const char *p = text, *v, *end;
	while (*p) {
		if (inline_secret_at(text, p, &v, &end)) {
			sb_add(&b, p, (size_t)(v - p));
			sb_puts(&b, ACT_MASK);
			p = end;
			continue;
		}
		sb_putc(&b, *p++);
	}
	return sb_steal(&b);
}

void act_masker_learn(act_masker *m, const char *text)
{
	const char *v, *end;
	for (const char *p = text ? text : ""; *p; p++)
		if (inline_secret_at(text, p, &v, &end)) {
			char *s = xstrndup(v, (size_t)(end - v));
			act_masker_add(m, s);
			free(s);
			p = end - 1;
		}
}

char *act_masker_apply(const act_masker *m, const char *text)
{
	char *cur = xstrdup(text ? text : "");
	for (size_t i = 0; m && i < m->n; i++) {
		if (!strstr(cur, m->secrets[i]))
			continue;
		char *next = replace_all(cur, m->secrets[i], ACT_MASK);
		free(cur);
		cur = next;
	}
	char *out = mask_inline_passwords(cur);
	free(cur);
	return out;
}

/* Where a piece of an over-long line may end at or before want: after the
 * last blank within ACT_CUT_LOOKBACK bytes (inline passwords never span a
 * blank), and never inside a known secret. */
#define ACT_CUT_LOOKBACK 256
static size_t safe_cut(const act_masker *m, const char *buf, size_t len, size_t want)
{
	size_t cut = want;
	for (size_t i = cut; i > 0 && cut - i < ACT_CUT_LOOKBACK; i--)
		if (buf[i - 1] == ' ' || buf[i - 1] == '\t') {
			cut = i;
			break;
		}
	for (bool moved = true; moved && cut > 0;) {
		moved = false;
		for (size_t s = 0; m && s < m->n; s++) {
			size_t sl = strlen(m->secrets[s]);
			size_t from = cut >= sl ? cut - sl + 1 : 0;
			for (size_t at = from; at < cut; at++)
				if (at + sl <= len && memcmp(buf + at, m->secrets[s], sl) == 0) {
					cut = at;   /* the secret goes out whole in the next piece */
					moved = true;
					break;
				}
		}
	}
	/* A piece must make progress; a secret longer than a whole piece is
	 * cut, which a line this long of one secret deserves. */
	return cut ? cut : want;
}

char *act_mask_payload(const config *cfg, const char *payload_json)
{
	cJSON *o = cJSON_Parse(payload_json ? payload_json : "");
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return xstrdup(payload_json ? payload_json : "");
	}
	act_masker *m = act_masker_new(cfg);
	for (cJSON *it = o->child; it; it = it->next) {
		if (!cJSON_IsString(it) || strcmp(it->string, "hash") == 0)
			continue;
		char *masked = act_masker_apply(m, it->valuestring);
		if (strcmp(masked, it->valuestring) != 0)
			cJSON_SetValuestring(it, masked);
		free(masked);
	}
	act_masker_free(m);
	char *js = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *ret = xstrdup(js);
	cJSON_free(js);
	return ret;
}

void act_outbuf_init(act_outbuf *b, size_t max_line)
{
	sb_init(&b->pending);
	b->max_line = max_line;
}

char *act_outbuf_feed(act_outbuf *b, const act_masker *m, const char *data, size_t n, bool all,
                      size_t *out_len)
{
	if (n)
		sb_add(&b->pending, data, n);
	strbuf out;
	sb_init(&out);
	size_t start = 0, len = b->pending.len;
	const char *buf = b->pending.buf;
	for (;;) {
		const char *nl = len > start ? memchr(buf + start, '\n', len - start) : NULL;
		size_t piece;
		if (nl)
			piece = (size_t)(nl - (buf + start)) + 1;
		else if (all && len > start)
			piece = len - start;
		else if (len - start > b->max_line) {
			size_t longest = m && m->n ? strlen(m->secrets[0]) : 0;
			size_t want = len - start - (longest < len - start ? longest : 0);
			if (want > b->max_line)
				want = b->max_line;
			piece = safe_cut(m, buf + start, len - start, want);
		} else
			break;
		/* Masked between NUL bytes (no secret holds one); the NULs go
		 * out as they came. */
		for (size_t i = 0; i < piece;) {
			const char *z = memchr(buf + start + i, '\0', piece - i);
			size_t seg = z ? (size_t)(z - (buf + start + i)) : piece - i;
			char *raw = xstrndup(buf + start + i, seg);
			char *masked = act_masker_apply(m, raw);
			sb_puts(&out, masked);
			free(masked);
			free(raw);
			i += seg;
			if (z) {
				sb_add(&out, "", 1);
				i++;
			}
		}
		start += piece;
	}
	if (start) {
		memmove(b->pending.buf, b->pending.buf + start, len - start);
		b->pending.len -= start;
		b->pending.buf[b->pending.len] = '\0';
	}
	*out_len = out.len;
	return sb_steal(&out);
}

void act_outbuf_free(act_outbuf *b)
{
	sb_free(&b->pending);
}

void act_masker_free(act_masker *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->secrets[i]);
	free(m->secrets);
	free(m);
}

/* Masked and sanitised copy, for the audit and the screen. */
static char *clean(const act_masker *m, const char *text, size_t n)
{
	char *raw = xstrndup(text ? text : "", text ? n : 0);
	char *masked = act_masker_apply(m, raw);
	char *out = pgc_sanitize_n(masked, strlen(masked), PGC_SANITIZE_LINES);
	free(raw);
	free(masked);
	return out;
}

static char *clean_str(const act_masker *m, const char *text)
{
	return clean(m, text, text ? strlen(text) : 0);
}

char *act_masker_clean(const act_masker *m, const char *text)
{
	return clean_str(m, text);
}

/* ------------------------------------------------------------------ */
/* variables a command uses */

static const char *const shell_vars[] = {
	"HOME", "PATH", "PWD", "OLDPWD", "IFS", "USER", "LOGNAME", "SHELL", "HOSTNAME",
	"RANDOM", "LINENO", "SECONDS", "UID", "EUID", "PPID", "OPTARG", "OPTIND",
	"REPLY", "BASH_SOURCE", "BASHPID", "BASH_VERSION", "PIPESTATUS", "FUNCNAME",
	"PGCUTOVER_ITEM", "PGCUTOVER_PHASE", NULL,
};

static bool word_boundary_before(const char *text, const char *p)
{
	if (p == text)
		return true;
	char c = p[-1];
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(';
}

/* Names the text assigns: NAME=..., for NAME in, read [-x] NAME... */
static void assigned_vars(const char *text, char ***v, size_t *n)
{
	for (const char *p = text; *p; p++) {
		if (!name_start(*p) || !word_boundary_before(text, p))
			continue;
		const char *q = p;
		while (name_char(*q))
			q++;
		size_t len = (size_t)(q - p);
		if (*q == '=') {
			char *name = xstrndup(p, len);
			if (!strv_has(*v, *n, name))
				strv_push(v, n, name);
			free(name);
		} else if ((len == 3 && strncmp(p, "for", 3) == 0) || (len == 4 && strncmp(p, "read", 4) == 0)) {
			bool is_read = len == 4;
			const char *r = q;
			for (;;) {
				while (*r == ' ' || *r == '\t')
					r++;
				if (*r == '-' && is_read) {
					while (*r && *r != ' ' && *r != '\n')
						r++;
					continue;
				}
				if (!name_start(*r))
					break;
				const char *s = r;
				while (name_char(*r))
					r++;
				char *name = xstrndup(s, (size_t)(r - s));
				if (!strv_has(*v, *n, name))
					strv_push(v, n, name);
				free(name);
				if (!is_read)
					break;
			}
		}
		p = q - 1;
	}
}

size_t act_used_vars(const char *text, char ***names_out)
{
	char **assigned = NULL, **used = NULL;
	size_t n_assigned = 0, n_used = 0;
	assigned_vars(text, &assigned, &n_assigned);
	bool in_single = false, in_double = false;
	for (const char *p = text; *p; p++) {
		if (*p == '\\' && !in_single && p[1]) {
			p++;
			continue;
		}
		if (*p == '\'' && !in_double) {
			in_single = !in_single;
			continue;
		}
		if (*p == '"' && !in_single) {
			in_double = !in_double;
			continue;
		}
		if (*p == '#' && !in_single && !in_double && word_boundary_before(text, p)) {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		}
		if (*p != '$' || in_single)
			continue;
		const char *s = p + 1;
		bool braced = *s == '{';
		if (braced)
			s++;
		if (!name_start(*s))
			continue;
		const char *e = s;
		while (name_char(*e))
			e++;
		if (braced && *e != '}') {
			/* ${X:-d} ${X-d} ${X:=d} ${X=d} ${X:+a} ${X+a}: fine when unset */
			const char *op = *e == ':' ? e + 1 : e;
			if (*op == '-' || *op == '=' || *op == '+')
				continue;
		}
		char *name = xstrndup(s, (size_t)(e - s));
		bool builtin = false;
		for (const char *const *b = shell_vars; *b; b++)
			if (strcmp(*b, name) == 0)
				builtin = true;
		if (!builtin && !strv_has(assigned, n_assigned, name) && !strv_has(used, n_used, name))
			strv_push(&used, &n_used, name);
		free(name);
		p = e - 1;
	}
	for (size_t i = 0; i < n_assigned; i++)
		free(assigned[i]);
	free(assigned);
	*names_out = used;
	return n_used;
}

/* ------------------------------------------------------------------ */
/* pre-flight: the commands a block names that are not there */

/* Words that are not programs: the shell's keywords and builtins. */
static bool shell_word(const char *w)
{
	static const char *const words[] = {
		"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
		"in", "function", "select", "time", "{", "}", "!", "[[", "]]", "[", "test", ":", ".",
		"source", "alias", "bg", "bind", "break", "builtin", "cd", "command", "continue", "declare",
		"dirs", "echo", "enable", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts",
		"hash", "help", "history", "jobs", "kill", "let", "local", "logout", "mapfile", "popd",
		"printf", "pushd", "pwd", "read", "readarray", "readonly", "return", "set", "shift",
		"shopt", "suspend", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias",
		"unset", "wait", NULL,
	};
	for (const char *const *k = words; *k; k++)
		if (strcmp(*k, w) == 0)
			return true;
	return false;
}

/* Keywords after which the next word is a command again. */
static bool leads_command(const char *w)
{
	static const char *const words[] = {"if", "then", "else", "elif", "while", "until", "do",
	                                    "!", "time", "{", NULL};
	for (const char *const *k = words; *k; k++)
		if (strcmp(*k, w) == 0)
			return true;
	return false;
}

static bool is_assignment(const char *w)
{
	if (!name_start(*w))
		return false;
	while (name_char(*w))
		w++;
	return *w == '=' || (*w == '+' && w[1] == '=');
}

typedef struct pf_word {
	char *text;
	bool dynamic;      /* holds $ or `: not known before it runs */
	char before;       /* the separator that ended the word before it, or 0 */
	char after;        /* '(' or ')' right after the word, else 0 */
} pf_word;

/* Splits text into words, a separator (';', '|', '&', '(', ')', '\n')
 * ending a command; here-documents and comments are skipped. */
static size_t pf_words(const char *text, pf_word **out)
{
	pf_word *v = NULL;
	size_t n = 0;
	strbuf w;
	sb_init(&w);
	bool in_word = false, dynamic = false;
	char quote = 0, sep = '\n';
	char heredoc[64] = "";
	bool want_delim = false;
	for (const char *p = text;; p++) {
		char c = *p;
		if (c && quote) {
			if (c == quote)
				quote = 0;
			else {
				if (quote == '"' && (c == '$' || c == '`'))
					dynamic = true;
				sb_putc(&w, c);
			}
			continue;
		}
		if (c == '\\' && p[1] == '\n') {
			p++;
			continue;
		}
		if (c == '\\' && p[1]) {
			sb_putc(&w, *++p);
			in_word = true;
			continue;
		}
		if (c == '\'' || c == '"') {
			quote = c;
			in_word = true;
			continue;
		}
		if (c == '#' && !in_word) {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		}
		bool ends = !c || c == ' ' || c == '\t' || strchr(";|&()\n<>", c);
		if (!ends) {
			if (c == '$' || c == '`')
				dynamic = true;
			sb_putc(&w, c);
			in_word = true;
			continue;
		}
		if (in_word) {
			char *t = sb_steal(&w);
			sb_init(&w);
			if (want_delim) {
				snprintf(heredoc, sizeof heredoc, "%s", t[0] == '-' ? t + 1 : t);
				want_delim = false;
				free(t);
			} else {
				v = xrealloc(v, (n + 1) * sizeof *v);
				v[n++] = (pf_word){t, dynamic, sep, (c == '(' || c == ')') ? c : 0};
				sep = 0;
			}
			in_word = false;
			dynamic = false;
		}
		if (!c)
			break;
		if (c == '<' && p[1] == '<' && p[2] != '<') {
			want_delim = true;
			p++;
			if (p[1] == '-')
				p++;
			continue;
		}
		if (c == '<' || c == '>') {
			/* a redirection: the word after it is a file, not a command */
			while (p[1] == '>' || p[1] == '&' || p[1] == '|')
				p++;
			while (p[1] == ' ' || p[1] == '\t')
				p++;
			while (p[1] && !strchr(" \t\n;|&()<>", p[1]))
				p++;
			continue;
		}
		if (c != ' ' && c != '\t')
			sep = c;
		if (c == '\n' && heredoc[0]) {
			/* skip the here-document's lines up to its delimiter */
			const char *line = p + 1;
			for (;;) {
				const char *nl = strchr(line, '\n');
				size_t len = nl ? (size_t)(nl - line) : strlen(line);
				const char *t = line;
				while (*t == '\t' && len > 0) {
					t++;
					len--;
				}
				if ((len == strlen(heredoc) && strncmp(t, heredoc, len) == 0) || !nl) {
					p = nl ? nl - 1 : line + strlen(line) - 1;
					break;
				}
				line = nl + 1;
			}
			heredoc[0] = '\0';
		}
	}
	sb_free(&w);
	*out = v;
	return n;
}

/* Where the shell would find name, or why it would not: NULL when found. */
static char *pf_missing(const char *name, const char *workdir)
{
	if (strchr(name, '/')) {
		char *path = name[0] == '/' || !workdir ? xstrdup(name) : xasprintf("%s/%s", workdir, name);
		char *why = NULL;
		if (access(path, F_OK) != 0)
			why = xasprintf("%s not found%s%s", name, name[0] == '/' ? "" : " in ", name[0] == '/' ? "" : workdir);
		else if (access(path, X_OK) != 0)
			why = xasprintf("%s is not executable", name);
		free(path);
		return why;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (const char *d = path; d;) {
		const char *colon = strchr(d, ':');
		size_t len = colon ? (size_t)(colon - d) : strlen(d);
		char *full = xasprintf("%.*s/%s", (int)len, len ? d : ".", name);
		bool there = access(full, X_OK) == 0;
		free(full);
		if (there)
			return NULL;
		d = colon ? colon + 1 : NULL;
	}
	return xasprintf("%s not on PATH", name);
}

size_t act_preflight(const char *text, const char *workdir, char ***out)
{
	char **found = NULL, **funcs = NULL;
	size_t n_found = 0, n_funcs = 0;
	pf_word *w;
	size_t n = pf_words(text ? text : "", &w);
	/* functions the block defines: "name() {" or "function name" */
	for (size_t i = 0; i < n; i++) {
		if (w[i].after == '(')
			strv_push(&funcs, &n_funcs, w[i].text);
		if (strcmp(w[i].text, "function") == 0 && i + 1 < n)
			strv_push(&funcs, &n_funcs, w[i + 1].text);
	}
	bool at_start = true, skip_command = false;
	char **names = NULL;
	size_t n_names = 0;
	for (size_t i = 0; i < n; i++) {
		const pf_word *x = &w[i];
		if (x->before) {
			at_start = true;
			skip_command = false;
		}
		if (!at_start || skip_command)
			continue;
		if (is_assignment(x->text) && !x->dynamic)
			continue;   /* NAME=value cmd */
		if (leads_command(x->text))
			continue;
		at_start = false;
		if (strcmp(x->text, "for") == 0 || strcmp(x->text, "case") == 0 || strcmp(x->text, "select") == 0 ||
		    strcmp(x->text, "function") == 0) {
			skip_command = true;
			continue;
		}
		if (x->dynamic || !x->text[0] || x->after || shell_word(x->text) ||
		    strv_has(funcs, n_funcs, x->text) || strv_has(names, n_names, x->text))
			continue;   /* a case pattern "a)", a definition "f()" */
		strv_push(&names, &n_names, x->text);
		char *why = pf_missing(x->text, workdir);
		if (why)
			strv_push(&found, &n_found, why);
		free(why);
	}
	for (size_t i = 0; i < n; i++)
		free(w[i].text);
	free(w);
	for (size_t i = 0; i < n_funcs; i++)
		free(funcs[i]);
	free(funcs);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	*out = found;
	return n_found;
}

/* ------------------------------------------------------------------ */
/* plans */

bool act_is_declared_flag(const config *cfg, const runbook *rb, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->n_flags; i++)
		if (strcmp(cfg->flags[i], name) == 0)
			return true;
	for (size_t p = 0; rb && p < rb->n_phases; p++)
		for (size_t i = 0; i < rb->phases[p].n_flag_edits; i++)
			if (strcmp(rb->phases[p].flag_edits[i].name, name) == 0)
				return true;
	return false;
}

/* A line that is exactly NAME=VALUE (optionally quoted, optional # comment). */
static bool parse_flag_line(const char *line, size_t n, char **name, char **value)
{
	/* An indented line sits inside an if/for/function: splitting the block
	 * there would break the shell syntax, so it stays shell text. */
	if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
		return false;
	char *t = trim_dup(line, n);
	if (strncmp(t, "export ", 7) == 0) {   /* "export NAME=VALUE": the same edit */
		size_t skip = 7;
		while (t[skip] == ' ')
			skip++;
		memmove(t, t + skip, strlen(t + skip) + 1);
	}
	const char *p = t;
	if (!name_start(*p)) {
		free(t);
		return false;
	}
	while (name_char(*p))
		p++;
	if (*p != '=') {
		free(t);
		return false;
	}
	const char *v = p + 1;
	char *val;
	if (*v == '"' || *v == '\'') {
		const char *close = strchr(v + 1, *v);
		if (!close || (close[1] && close[1] != ' ' && close[1] != '#')) {
			free(t);
			return false;
		}
		const char *rest = close + 1;
		while (*rest == ' ')
			rest++;
		if (*rest && *rest != '#') {
			free(t);
			return false;
		}
		val = xstrndup(v + 1, (size_t)(close - v - 1));
	} else {
		const char *end = v;
		while (*end && *end != ' ' && *end != '\t')
			end++;
		const char *rest = end;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest && *rest != '#') {   /* NAME=x command: an env prefix, not a flag */
			free(t);
			return false;
		}
		val = xstrndup(v, (size_t)(end - v));
	}
	*name = xstrndup(t, (size_t)(p - t));
	*value = val;
	free(t);
	return true;
}

static act_segment *push_seg(act_plan *p)
{
	p->segs = xrealloc(p->segs, (p->n_segs + 1) * sizeof *p->segs);
	act_segment *s = &p->segs[p->n_segs++];
	memset(s, 0, sizeof *s);
	return s;
}

static bool is_cutover_phase(const rb_phase *ph)
{
	return strcmp(ph->id, ACT_CUTOVER_PHASE) == 0 || (ph->title && strcasestr(ph->title, "cutover"));
}

/* What a plan runs: an item's block, or a step's own ("5.s2"). */
typedef struct plan_source {
	const rb_phase *ph;
	const char *id, *hash, *text;
	const rb_block *block;
	bool rollback;
} plan_source;

static int plan_source_find(const runbook *rb, const char *id, plan_source *src, pgc_err *e)
{
	const rb_phase *ph = NULL;
	const rb_item *it = runbook_item(rb, id, &ph);
	if (it) {
		*src = (plan_source){ph, it->id, it->hash, it->text, it->block, it->rollback};
		if (!it->block || !it->block->runnable)
			return pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d: item %s has no sh/bash command block to run",
			                rb->path, it->line, id);
		return 0;
	}
	const rb_step *st = runbook_step(rb, id, &ph);
	if (!st)
		return pgc_fail(e, PGC_EXIT_USAGE, "no item '%s' in %s", id, rb->path);
	*src = (plan_source){ph, st->id, st->hash, st->title, st->block, st->rollback};
	if (!st->block || !st->block->runnable)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d: step %s has no sh/bash command block to run",
		                rb->path, st->line, id);
	return 0;
}

int act_plan_item(const config *cfg, const runbook *rb, const char *item_id,
                  act_plan **out, pgc_err *e)
{
	plan_source src = {0};
	if (plan_source_find(rb, item_id, &src, e) < 0)
		return -1;
	const rb_phase *ph = src.ph;
	act_plan *p = xcalloc(1, sizeof *p);
	snprintf(p->item_id, sizeof p->item_id, "%s", src.id);
	snprintf(p->phase_id, sizeof p->phase_id, "%s", ph->id);
	snprintf(p->item_hash, sizeof p->item_hash, "%s", src.hash);
	p->item_text = xstrdup(src.text ? src.text : "");
	p->shell = xstrdup(strcmp(src.block->lang, "bash") == 0 ? "/bin/bash" : "/bin/sh");
	p->command = xstrdup(src.block->text);
	p->workdir = xstrdup(cfg && cfg->workdir ? cfg->workdir : cfg && cfg->dir ? cfg->dir : ".");
	p->env_file = cfg && cfg->env_file ? xstrdup(cfg->env_file) : NULL;
	p->env_backups = cfg ? cfg->env_backups : 0;
	p->timeout_s = cfg && cfg->command_timeout_s > 0 ? cfg->command_timeout_s : CFG_DEFAULT_COMMAND_TIMEOUT_S;
	p->rollback = src.rollback;
	p->needs_typed_confirm = src.rollback || is_cutover_phase(ph);

	/* Split at flag lines; a .env block's other lines are not shell. */
	const char *text = src.block->text;
	strbuf shell;
	sb_init(&shell);
	int shell_line = 0, lineno = src.block->line + 1;
	for (const char *l = text; *l; lineno++) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		char *name = NULL, *value = NULL;
		if (parse_flag_line(l, n, &name, &value) && act_is_declared_flag(cfg, rb, name)) {
			if (shell.len) {
				act_segment *s = push_seg(p);
				s->kind = ACT_SEG_SHELL;
				s->text = sb_steal(&shell);
				s->line = shell_line;
			}
			act_segment *s = push_seg(p);
			s->kind = ACT_SEG_FLAG;
			s->name = name;
			s->value = value;
			s->line = lineno;
		} else {
			free(name);
			free(value);
			if (!src.block->env) {   /* a .env block's other lines are settings, not shell */
				if (!shell.len)
					shell_line = lineno;
				sb_add(&shell, l, n);
				sb_putc(&shell, '\n');
			}
		}
		l += n + (nl ? 1 : 0);
	}
	if (shell.len) {
		act_segment *s = push_seg(p);
		s->kind = ACT_SEG_SHELL;
		s->text = sb_steal(&shell);
		s->line = shell_line;
	}
	sb_free(&shell);

	bool has_flags = false;
	for (size_t i = 0; i < p->n_segs; i++)
		has_flags |= p->segs[i].kind == ACT_SEG_FLAG;
	if (has_flags) {
		if (!p->env_file) {
			act_plan_free(p);
			return pgc_fail(e, PGC_EXIT_CONFIG, "item %s edits .env flags but the config names no env_file",
			                item_id);
		}
		envfile *ef;
		if (envfile_load(p->env_file, &ef, e) < 0) {
			act_plan_free(p);
			return -1;
		}
		for (size_t i = 0; i < p->n_segs; i++) {
			act_segment *s = &p->segs[i];
			if (s->kind != ACT_SEG_FLAG)
				continue;
			const char *old = envfile_get(ef, s->name);
			s->old_value = old ? xstrdup(old) : NULL;
			/* Refuse now a set that would fail at its turn, after the
			 * commands before it had run (an irregular line, a value no
			 * quoting keeps). */
			char *text;
			size_t text_len;
			if (envfile_render_set(ef, s->name, s->value, &text, &text_len, NULL, e) < 0) {
				envfile_free(ef);
				act_plan_free(p);
				return -1;
			}
			free(text);
		}
		envfile_free(ef);
	}

	/* Variables nobody defines. */
	for (size_t i = 0; i < p->n_segs; i++) {
		if (p->segs[i].kind != ACT_SEG_SHELL)
			continue;
		char **used;
		size_t n = act_used_vars(p->segs[i].text, &used);
		for (size_t k = 0; k < n; k++) {
			if (!getenv(used[k]) && !strv_has(p->missing_vars, p->n_missing_vars, used[k]))
				strv_push(&p->missing_vars, &p->n_missing_vars, used[k]);
			free(used[k]);
		}
		free(used);
	}

	/* Programs the block names that are not there (pm2 not on PATH). */
	for (size_t i = 0; i < p->n_segs; i++) {
		if (p->segs[i].kind != ACT_SEG_SHELL)
			continue;
		char **miss;
		size_t n = act_preflight(p->segs[i].text, p->workdir, &miss);
		for (size_t k = 0; k < n; k++) {
			if (!strv_has(p->preflight, p->n_preflight, miss[k]))
				strv_push(&p->preflight, &p->n_preflight, miss[k]);
			free(miss[k]);
		}
		free(miss);
	}
	*out = p;
	return 0;
}

act_plan *act_plan_flags(const config *cfg, const char *phase_id,
                         const char *const *names, const char *const *values, size_t n)
{
	act_plan *p = xcalloc(1, sizeof *p);
	snprintf(p->phase_id, sizeof p->phase_id, "%s", phase_id ? phase_id : "");
	p->item_text = xstrdup("restore flags");
	p->shell = xstrdup("/bin/sh");
	p->workdir = xstrdup(cfg && cfg->workdir ? cfg->workdir : cfg && cfg->dir ? cfg->dir : ".");
	p->env_file = cfg && cfg->env_file ? xstrdup(cfg->env_file) : NULL;
	p->env_backups = cfg ? cfg->env_backups : 0;
	p->timeout_s = cfg && cfg->command_timeout_s > 0 ? cfg->command_timeout_s : CFG_DEFAULT_COMMAND_TIMEOUT_S;
	p->rollback = true;
	p->needs_typed_confirm = true;
	strbuf cmd;
	sb_init(&cmd);
	envfile *ef = NULL;
	if (p->env_file)
		envfile_load(p->env_file, &ef, NULL);
	for (size_t i = 0; i < n; i++) {
		act_segment *s = push_seg(p);
		s->kind = ACT_SEG_FLAG;
		s->name = xstrdup(names[i]);
		s->value = xstrdup(values[i] ? values[i] : "");
		const char *old = ef ? envfile_get(ef, names[i]) : NULL;
		s->old_value = old ? xstrdup(old) : NULL;
		sb_printf(&cmd, "%s=%s\n", s->name, s->value);
	}
	envfile_free(ef);
	p->command = sb_steal(&cmd);
	return p;
}

void act_plan_insert_flags(act_plan *p, size_t at, const act_plan *flags)
{
	size_t n = flags->n_segs;
	if (at > p->n_segs)
		at = p->n_segs;
	p->segs = xrealloc(p->segs, (p->n_segs + n + 1) * sizeof *p->segs);
	memmove(&p->segs[at + n], &p->segs[at], (p->n_segs - at) * sizeof *p->segs);
	for (size_t k = 0; k < n; k++) {
		const act_segment *f = &flags->segs[k];
		act_segment *s = &p->segs[at + k];
		memset(s, 0, sizeof *s);
		s->kind = f->kind;
		s->text = f->text ? xstrdup(f->text) : NULL;
		s->name = f->name ? xstrdup(f->name) : NULL;
		s->value = f->value ? xstrdup(f->value) : NULL;
		s->old_value = f->old_value ? xstrdup(f->old_value) : NULL;
		s->line = f->line;
	}
	p->n_segs += n;
}

void act_plan_free(act_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_segs; i++) {
		free(p->segs[i].text);
		free(p->segs[i].name);
		free(p->segs[i].value);
		free(p->segs[i].old_value);
	}
	free(p->segs);
	for (size_t i = 0; i < p->n_missing_vars; i++)
		free(p->missing_vars[i]);
	free(p->missing_vars);
	for (size_t i = 0; i < p->n_preflight; i++)
		free(p->preflight[i]);
	free(p->preflight);
	for (size_t i = 0; i < p->n_vars; i++) {
		free(p->vars[i].name);
		free(p->vars[i].value);
	}
	free(p->vars);
	free(p->item_text);
	free(p->shell);
	free(p->command);
	free(p->workdir);
	free(p->env_file);
	free(p);
}

void act_plan_set_var(act_plan *p, const char *name, const char *value)
{
	p->vars = xrealloc(p->vars, (p->n_vars + 1) * sizeof *p->vars);
	p->vars[p->n_vars].name = xstrdup(name);
	p->vars[p->n_vars].value = xstrdup(value);
	p->n_vars++;
	for (size_t i = 0; i < p->n_missing_vars; i++) {
		if (strcmp(p->missing_vars[i], name) == 0) {
			free(p->missing_vars[i]);
			p->missing_vars[i] = p->missing_vars[--p->n_missing_vars];
			break;
		}
	}
}

size_t act_plan_flag_run(const act_plan *p, size_t from)
{
	size_t end = from, k = from;
	for (; k < p->n_segs; k++) {
		const act_segment *s = &p->segs[k];
		if (s->kind == ACT_SEG_FLAG)
			end = k + 1;
		else if (!blank_or_comment(s->text))
			break;
	}
	return end;
}

static bool seg_changes(const act_segment *s)
{
	return s->kind == ACT_SEG_FLAG && (!s->old_value || strcmp(s->old_value, s->value) != 0);
}

size_t act_plan_flag_changes(const act_plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_segs; i++)
		n += seg_changes(&p->segs[i]);
	return n;
}

static void add_str(cJSON *o, const char *k, const act_masker *m, const char *v)
{
	evp_json_add_clean(o, k, m, v);
}

/* A flag value as recorded: masked whole when the flag's name looks secret. */
static void add_flag_value(cJSON *o, const char *k, const act_masker *m, const char *name, const char *v)
{
	evp_json_add_flag_value(o, k, m, name, v);
}

char *act_plan_json(const act_plan *p)
{
	act_masker *m = act_masker_new(NULL);
	for (size_t i = 0; i < p->n_vars; i++)
		if (envfile_name_is_secret(p->vars[i].name))
			act_masker_add(m, p->vars[i].value);
	cJSON *o = cJSON_CreateObject();
	add_str(o, "item", m, p->item_id[0] ? p->item_id : NULL);
	add_str(o, "phase", m, p->phase_id);
	add_str(o, "text", m, p->item_text);
	add_str(o, "shell", m, p->shell);
	add_str(o, "workdir", m, p->workdir);
	add_str(o, "env_file", m, p->env_file);
	cJSON_AddNumberToObject(o, "timeout_s", p->timeout_s);
	add_str(o, "command", m, p->command);
	cJSON_AddBoolToObject(o, "rollback", p->rollback);
	cJSON_AddBoolToObject(o, "needs_typed_confirm", p->needs_typed_confirm);
	cJSON *segs = cJSON_AddArrayToObject(o, "segments");
	cJSON *flags = cJSON_AddArrayToObject(o, "flags");
	for (size_t i = 0; i < p->n_segs; i++) {
		const act_segment *s = &p->segs[i];
		cJSON *so = cJSON_CreateObject();
		cJSON_AddStringToObject(so, "kind", s->kind == ACT_SEG_SHELL ? "shell" : "flag");
		cJSON_AddNumberToObject(so, "line", s->line);
		if (s->kind == ACT_SEG_SHELL) {
			add_str(so, "text", m, s->text);
		} else {
			add_str(so, "name", m, s->name);
			add_flag_value(so, "old", m, s->name, s->old_value);
			add_flag_value(so, "new", m, s->name, s->value);
			cJSON_AddBoolToObject(so, "changes", seg_changes(s));
			cJSON_AddItemToArray(flags, cJSON_Duplicate(so, 1));
		}
		cJSON_AddItemToArray(segs, so);
	}
	cJSON *mv = cJSON_AddArrayToObject(o, "missing_vars");
	for (size_t i = 0; i < p->n_missing_vars; i++)
		cJSON_AddItemToArray(mv, cJSON_CreateString(p->missing_vars[i]));
	cJSON *pf = cJSON_AddArrayToObject(o, "preflight");
	for (size_t i = 0; i < p->n_preflight; i++) {
		char *t = clean_str(m, p->preflight[i]);
		cJSON_AddItemToArray(pf, cJSON_CreateString(t));
		free(t);
	}
	char *out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	act_masker_free(m);
	char *ret = xstrdup(out);
	cJSON_free(out);
	return ret;
}

char *act_plan_describe(const act_plan *p)
{
	act_masker *m = act_masker_new(NULL);
	strbuf b;
	sb_init(&b);
	if (p->item_id[0]) {
		char *t = clean_str(m, p->item_text);
		sb_printf(&b, "item %s (phase %s): %s\n", p->item_id, p->phase_id, t);
		free(t);
	}
	sb_printf(&b, "in %s, under %s -c, timeout %ds\n", p->workdir, p->shell, p->timeout_s);
	size_t run_end = 0;
	for (size_t i = 0; i < p->n_segs; i++) {
		const act_segment *s = &p->segs[i];
		if (s->kind == ACT_SEG_SHELL) {
			if (blank_or_comment(s->text))
				continue;
			char *t = clean_str(m, s->text);
			sb_puts(&b, "  $ ");
			for (const char *c = t; *c; c++) {
				sb_putc(&b, *c);
				if (*c == '\n' && c[1])
					sb_puts(&b, "    ");
			}
			free(t);
		} else {
			if (i >= run_end) {   /* the first flag of a run: one write */
				size_t nf = 0;
				run_end = act_plan_flag_run(p, i);
				for (size_t k = i; k < run_end; k++)
					nf += p->segs[k].kind == ACT_SEG_FLAG;
				if (nf > 1)
					sb_printf(&b, "  these %zu flags in one write of the file (one backup):\n", nf);
			}
			bool secret = envfile_name_is_secret(s->name);
			char *o = clean_str(m, s->old_value ? s->old_value : "(unset)");
			char *v = clean_str(m, s->value);
			sb_printf(&b, "  flag %s: %s -> %s in %s%s\n", s->name, secret ? ACT_MASK : o,
			          secret ? ACT_MASK : v, p->env_file ? p->env_file : "(no env_file)",
			          seg_changes(s) ? "" : " (unchanged)");
			free(o);
			free(v);
		}
	}
	for (size_t i = 0; i < p->n_missing_vars; i++)
		sb_printf(&b, "  needs a value for $%s (not in the environment)\n", p->missing_vars[i]);
	for (size_t i = 0; i < p->n_preflight; i++) {
		char *t = clean_str(m, p->preflight[i]);
		sb_printf(&b, "  pre-flight: %s\n", t);
		free(t);
	}
	act_masker_free(m);
	return sb_steal(&b);
}

/* ------------------------------------------------------------------ */
/* running */

struct act_run {
	loop *lp;
	const act_plan *plan;
	const config *cfg;
	act_opts opt;
	act_hooks hooks;
	void *ud;
	act_masker *mask;
	size_t seg;
	pid_t pid;
	int fd[3];                 /* [1] stdout, [2] stderr; -1 closed */
	int step_timer, deadline_timer, kill_timer;
	double started_ms;
	bool cancel_requested, timed_out, finished, killed_hard;
	/* output capture: the first bytes, then a ring of the last ones, of
	 * the output as masked a line at a time (out) */
	act_outbuf out[3];
	size_t captured;
	char *head; size_t head_len;
	char *tail; size_t tail_start, tail_len;
	act_result res;
};

const char *act_status_name(act_status s)
{
	switch (s) {
	case ACT_RUNNING: return "running";
	case ACT_OK: return "ok";
	case ACT_FAILED: return "failed";
	case ACT_SIGNALLED: return "signalled";
	case ACT_TIMED_OUT: return "timed_out";
	case ACT_CANCELLED: return "cancelled";
	case ACT_ERROR: return "error";
	}
	return "unknown";
}

int act_result_exit(const act_result *r)
{
	switch (r->status) {
	case ACT_OK: return 0;
	case ACT_FAILED: return r->exit_code;
	case ACT_SIGNALLED: return ACT_EXIT_SIGNAL_BASE + r->signal;
	case ACT_TIMED_OUT: return ACT_EXIT_TIMEOUT;
	case ACT_CANCELLED: return ACT_EXIT_CANCELLED;
	case ACT_ERROR:
	case ACT_RUNNING: break;
	}
	return r->error_code ? r->error_code : PGC_EXIT_SOFTWARE;
}

static void capture(act_run *r, const char *data, size_t n)
{
	r->captured += n;
	if (r->head_len < ACT_OUTPUT_HEAD_MAX) {
		size_t take = ACT_OUTPUT_HEAD_MAX - r->head_len;
		if (take > n)
			take = n;
		memcpy(r->head + r->head_len, data, take);
		r->head_len += take;
		data += take;
		n -= take;
	}
	if (n >= ACT_OUTPUT_TAIL_MAX) {
		data += n - ACT_OUTPUT_TAIL_MAX;
		n = ACT_OUTPUT_TAIL_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		size_t at = (r->tail_start + r->tail_len) % ACT_OUTPUT_TAIL_MAX;
		r->tail[at] = data[i];
		if (r->tail_len < ACT_OUTPUT_TAIL_MAX)
			r->tail_len++;
		else
			r->tail_start = (r->tail_start + 1) % ACT_OUTPUT_TAIL_MAX;
	}
}

static void close_pipe(act_run *r, int stream)
{
	if (r->fd[stream] >= 0) {
		loop_unwatch(r->lp, r->fd[stream]);
		close(r->fd[stream]);
		r->fd[stream] = -1;
	}
}

/* Output masked a line at a time (a secret split across two reads is
 * masked whole) into the capture and to the caller.  all: the rest too. */
static void pass_on(act_run *r, int stream, const char *data, size_t n, bool all)
{
	size_t len;
	char *text = act_outbuf_feed(&r->out[stream], r->mask, data, n, all, &len);
	if (len) {
		capture(r, text, len);
		if (r->hooks.output)
			r->hooks.output(r->ud, stream, text, len);
	}
	free(text);
}

/* Reads what is there; returns true at EOF or error. */
static bool drain(act_run *r, int stream, size_t limit)
{
	char buf[ACT_READ_CHUNK];
	size_t got = 0;
	while (r->fd[stream] >= 0 && got < limit) {
		ssize_t n = read(r->fd[stream], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n <= 0)
			return true;
		got += (size_t)n;
		r->res.output_bytes += (size_t)n;
		pass_on(r, stream, buf, (size_t)n, false);
	}
	return false;
}

static void on_pipe(loop *lp, int fd, short revents, void *ud)
{
	act_run *r = ud;
	int stream = fd == r->fd[1] ? 1 : 2;
	if (drain(r, stream, ACT_READ_PER_CALLBACK))
		close_pipe(r, stream);
}

static void cancel_timer(act_run *r, int *id)
{
	if (*id) {
		loop_timer_cancel(r->lp, *id);
		*id = 0;
	}
}

static char *output_text(act_run *r, bool tail)
{
	if (!tail)
		return xstrndup(r->head, r->head_len);
	char *t = xmalloc(r->tail_len + 1);
	for (size_t i = 0; i < r->tail_len; i++)
		t[i] = r->tail[(r->tail_start + i) % ACT_OUTPUT_TAIL_MAX];
	t[r->tail_len] = '\0';
	return t;
}

static void append_event(act_run *r, const char *kind, char *js, int64_t *id)
{
	pgc_err e = {0};
	if (r->opt.st && state_append(r->opt.st, kind, r->plan->phase_id[0] ? r->plan->phase_id : NULL,
	                              r->plan->item_id[0] ? r->plan->item_id : NULL, js, id, &e) < 0 &&
	    !r->res.error[0]) {
		snprintf(r->res.error, sizeof r->res.error, "audit: %.900s", e.msg);
	}
	free(js);
}

static void finish(act_run *r, act_status st)
{
	if (r->finished)
		return;
	r->finished = true;
	r->res.status = st;
	cancel_timer(r, &r->step_timer);
	cancel_timer(r, &r->deadline_timer);
	cancel_timer(r, &r->kill_timer);
	close_pipe(r, 1);
	close_pipe(r, 2);
	for (int s = 1; s <= 2; s++)
		pass_on(r, s, NULL, 0, true);   /* a last line without a newline */
	/* Milliseconds are all an operator needs; more digits are noise in the log. */
	r->res.duration_s = (double)(long long)(loop_now_ms() - r->started_ms + 0.5) / 1000.0;
	r->res.truncated = r->captured > (size_t)ACT_OUTPUT_HEAD_MAX + ACT_OUTPUT_TAIL_MAX;

	char *head = output_text(r, false), *tail = output_text(r, true);
	append_event(r, EV_COMMAND_END, evp_command_end_write(&r->res, head, tail, r->mask), NULL);
	free(head);
	free(tail);

	if (st == ACT_OK && r->opt.auto_tick && r->plan->item_id[0]) {
		append_event(r, EV_TICK, ops_payload_tick_auto(r->plan->item_hash, ACT_AUTO_TICK_NOTE,
		                                               r->res.start_event_id), NULL);
		r->res.ticked = true;
	}
	if (r->hooks.done)
		r->hooks.done(r->ud, &r->res);
}

static void fail(act_run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(act_run *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->res.error, sizeof r->res.error, fmt, ap);
	va_end(ap);
	r->res.error_code = code;
	r->res.failed_segment = (int)r->seg;
	finish(r, ACT_ERROR);
}

/* The flag_set payload (evpay.h) with the new value's HMAC when st keeps
 * a key. */
static char *flag_set_payload(const act_masker *m, const char *file, const char *name,
                              const envfile_set_result *sr, int64_t start_id, bool rollback, bool manual,
                              const state *st)
{
	char hm[65];
	bool have_hmac = st && sr->new_value && act_flag_hmac(st, true, sr->new_value, hm) == 0;
	evp_flag_set f = {.name = name, .file = file, .sr = sr, .new_hmac = have_hmac ? hm : NULL,
	                  .start_id = start_id, .rollback = rollback, .manual = manual};
	return evp_flag_set_write(&f, m);
}

char *act_flag_set_payload(const config *cfg, const state *st, const char *name, const envfile_set_result *sr,
                           int64_t start_id, bool rollback, bool manual)
{
	act_masker *m = act_masker_new(cfg);
	char *js = flag_set_payload(m, cfg ? cfg->env_file : NULL, name, sr, start_id, rollback, manual, st);
	act_masker_free(m);
	return js;
}

int act_set_flag(state *st, const config *cfg, const char *phase, const char *item,
                 const char *name, const char *value, const envfile_stamp *expect,
                 envfile_set_result *res, pgc_err *e)
{
	if (!cfg || !cfg->env_file)
		return pgc_fail(e, PGC_EXIT_CONFIG, "the config names no env_file to set %s in", name);
	if (envfile_set(cfg->env_file, name, value, expect, (unsigned)cfg->env_backups, res, e) < 0)
		return -1;
	char *js = act_flag_set_payload(cfg, st, name, res, 0, false, true);
	int rc = st ? state_append(st, EV_FLAG_SET, phase, item, js, NULL, e) : 0;
	free(js);
	return rc;
}

/* The run of flag segments starting at r->seg (no shell segment between
 * them) in one write of the env_file and one backup, so the file never
 * holds some of them; then one flag_set each.  Returns the segments it
 * took (comments between the flag lines included). */
static size_t apply_flags(act_run *r)
{
	size_t end = act_plan_flag_run(r->plan, r->seg), n = 0;
	const char **names = xcalloc(end - r->seg, sizeof *names), **values = xcalloc(end - r->seg, sizeof *values);
	for (size_t k = r->seg; k < end; k++) {
		if (r->plan->segs[k].kind != ACT_SEG_FLAG)
			continue;
		names[n] = r->plan->segs[k].name;
		values[n++] = r->plan->segs[k].value;
	}
	envfile_set_result *sr = xcalloc(n, sizeof *sr);
	pgc_err e = {0};
	if (envfile_set_many(r->plan->env_file, names, values, n, NULL, (unsigned)r->plan->env_backups,
	                     sr, &e) < 0) {
		snprintf(r->res.error, sizeof r->res.error, "flag%s %.60s%s: %.900s", n > 1 ? "s" : "", names[0],
		         n > 1 ? "..." : "", e.msg);
		r->res.error_code = e.code ? e.code : PGC_EXIT_IOERR;
		r->res.failed_segment = (int)r->seg;
		finish(r, ACT_ERROR);
	} else {
		for (size_t k = 0; k < n; k++) {
			append_event(r, EV_FLAG_SET, flag_set_payload(r->mask, r->plan->env_file, names[k], &sr[k],
			                                              r->res.start_event_id, r->plan->rollback, false,
			                                              r->opt.st),
			             NULL);
			if (r->hooks.flag)
				r->hooks.flag(r->ud, names[k], sr[k].old_value, sr[k].new_value, sr[k].backup_path);
			envfile_set_result_free(&sr[k]);
		}
	}
	free(sr);
	free(names);
	free(values);
	return end - r->seg;
}

static void on_kill_timer(loop *lp, void *ud)
{
	act_run *r = ud;
	r->kill_timer = 0;
	if (r->pid > 0) {
		kill(-r->pid, SIGKILL);
		r->killed_hard = true;
	}
}

static void terminate(act_run *r)
{
	if (r->pid > 0) {
		kill(-r->pid, SIGTERM);
		/* a shell waiting on a stopped child needs SIGCONT to see the TERM */
		kill(-r->pid, SIGCONT);
		if (!r->kill_timer)
			r->kill_timer = loop_timer(r->lp, r->opt.grace_ms > 0 ? r->opt.grace_ms : ACT_KILL_GRACE_MS,
			                           on_kill_timer, r);
	}
}

static void on_deadline(loop *lp, void *ud)
{
	act_run *r = ud;
	r->deadline_timer = 0;
	r->timed_out = true;
	snprintf(r->res.error, sizeof r->res.error, "timed out after %ds", r->plan->timeout_s);
	if (r->pid > 0)
		terminate(r);
}

static void step(act_run *r);

static void on_step(loop *lp, void *ud)
{
	act_run *r = ud;
	r->step_timer = 0;
	step(r);
}

static void on_child_exit(loop *lp, pid_t pid, int status, void *ud)
{
	act_run *r = ud;
	int wait_errno = errno;
	pid_t pgid = r->pid;
	r->pid = 0;
	cancel_timer(r, &r->kill_timer);
	/* What the shell wrote before exiting is in the pipes; anything still
	 * holding them open (a daemon it started) is not ours to wait for. */
	for (int s = 1; s <= 2; s++) {
		drain(r, s, ACT_FINAL_DRAIN_MAX);
		close_pipe(r, s);
		pass_on(r, s, NULL, 0, true);   /* a segment's last line is its own */
	}
	if (status < 0) {
		fail(r, PGC_EXIT_SOFTWARE, "waitpid: %s", strerror(wait_errno));
		return;
	}
	if (r->cancel_requested || r->timed_out) {
		kill(-pgid, SIGKILL);   /* stragglers in the group */
		if (WIFSIGNALED(status)) {
			r->res.signal = WTERMSIG(status);
			r->res.exit_code = ACT_EXIT_SIGNAL_BASE + r->res.signal;
		} else {
			r->res.exit_code = WEXITSTATUS(status);
		}
		r->res.failed_segment = (int)r->seg;
		finish(r, r->timed_out ? ACT_TIMED_OUT : ACT_CANCELLED);
		return;
	}
	if (WIFSIGNALED(status)) {
		r->res.signal = WTERMSIG(status);
		r->res.exit_code = ACT_EXIT_SIGNAL_BASE + r->res.signal;
		r->res.failed_segment = (int)r->seg;
		finish(r, ACT_SIGNALLED);
		return;
	}
	r->res.exit_code = WEXITSTATUS(status);
	if (r->res.exit_code != 0) {
		r->res.failed_segment = (int)r->seg;
		finish(r, ACT_FAILED);
		return;
	}
	r->seg++;
	step(r);
}

static bool env_overridden(const act_run *r, const char *entry)
{
	size_t n = strcspn(entry, "=");
	for (size_t i = 0; i < r->plan->n_vars; i++)
		if (strlen(r->plan->vars[i].name) == n && strncmp(r->plan->vars[i].name, entry, n) == 0)
			return true;
	return strncmp(entry, "PGCUTOVER_ITEM=", 15) == 0 || strncmp(entry, "PGCUTOVER_PHASE=", 16) == 0;
}

/* environ plus the plan's answers and PGCUTOVER_ITEM/PHASE. */
static char **child_environ(const act_run *r)
{
	size_t n = 0;
	for (char **ep = environ; ep && *ep; ep++)
		n++;
	char **v = xcalloc(n + r->plan->n_vars + 3, sizeof *v);
	size_t k = 0;
	for (char **ep = environ; ep && *ep; ep++)
		if (!env_overridden(r, *ep))
			v[k++] = xstrdup(*ep);
	for (size_t i = 0; i < r->plan->n_vars; i++)
		v[k++] = xasprintf("%s=%s", r->plan->vars[i].name, r->plan->vars[i].value);
	v[k++] = xasprintf("PGCUTOVER_ITEM=%s", r->plan->item_id);
	v[k++] = xasprintf("PGCUTOVER_PHASE=%s", r->plan->phase_id);
	return v;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void spawn(act_run *r, const act_segment *s)
{
	/* The environment is built before fork (malloc is not async-signal-safe);
	 * the answers go to the child only and are used once. */
	char **envp = child_environ(r);
	char *argv[] = {r->plan->shell, (char *)"-c", s->text, NULL};
	proc_spec sp = {
		.path = r->plan->shell, .argv = argv, .envp = envp, .cwd = r->plan->workdir,
		.new_pgroup = true, .in = PROC_IO_NULL, .out = PROC_IO_PIPE, .err = PROC_IO_PIPE,
	};
	proc_child ch;
	pgc_err e = {0};
	int rc = proc_spawn(&sp, &ch, &e);
	free_strv(envp);
	if (rc < 0) {
		fail(r, e.code, "%s", e.msg);
		return;
	}
	r->pid = ch.pid;
	r->fd[1] = ch.out_fd;
	r->fd[2] = ch.err_fd;
	loop_watch(r->lp, ch.out_fd, POLLIN, on_pipe, r);
	loop_watch(r->lp, ch.err_fd, POLLIN, on_pipe, r);
	if (proc_watch(r->lp, ch.pid, on_child_exit, r, &e) < 0) {
		terminate(r);   /* cannot learn its end: do not leave it running */
		fail(r, e.code, "%s", e.msg);
	}
}

static void step(act_run *r)
{
	while (!r->finished) {
		if (r->cancel_requested || r->timed_out) {
			r->res.failed_segment = (int)r->seg;
			finish(r, r->timed_out ? ACT_TIMED_OUT : ACT_CANCELLED);
			return;
		}
		if (r->seg >= r->plan->n_segs) {
			finish(r, ACT_OK);
			return;
		}
		const act_segment *s = &r->plan->segs[r->seg];
		if (s->kind == ACT_SEG_FLAG) {
			size_t n = apply_flags(r);
			if (!r->finished)
				r->seg += n;
			continue;
		}
		if (blank_or_comment(s->text)) {
			r->seg++;
			continue;
		}
		spawn(r, s);
		return;
	}
}

int act_start(loop *lp, const act_plan *plan, const config *cfg, const act_opts *opt,
              const act_hooks *hooks, void *ud, act_run **out, pgc_err *e)
{
	act_run *r = xcalloc(1, sizeof *r);
	r->lp = lp;
	r->plan = plan;
	r->cfg = cfg;
	if (opt)
		r->opt = *opt;
	if (hooks)
		r->hooks = *hooks;
	r->ud = ud;
	r->fd[0] = r->fd[1] = r->fd[2] = -1;
	r->res.status = ACT_RUNNING;
	r->res.failed_segment = -1;
	r->head = xmalloc(ACT_OUTPUT_HEAD_MAX);
	r->tail = xmalloc(ACT_OUTPUT_TAIL_MAX);
	r->mask = act_masker_new(cfg);
	for (size_t i = 0; i < r->opt.n_secrets; i++)
		act_masker_add(r->mask, r->opt.secrets[i]);
	for (size_t i = 0; i < plan->n_vars; i++)
		if (envfile_name_is_secret(plan->vars[i].name))
			act_masker_add(r->mask, plan->vars[i].value);
	/* What the command's text assigns to a secret is masked in its
	 * output too (export DB_PASSWORD=...; echo "$DB_PASSWORD"). */
	act_masker_learn(r->mask, plan->command);
	for (int s = 1; s <= 2; s++)
		act_outbuf_init(&r->out[s], ACT_OUTPUT_LINE_MAX);

	char *js = evp_command_start_write(plan, r->mask);
	if (r->opt.st && state_append(r->opt.st, EV_COMMAND_START, plan->phase_id[0] ? plan->phase_id : NULL,
	                              plan->item_id[0] ? plan->item_id : NULL, js,
	                              &r->res.start_event_id, e) < 0) {
		free(js);
		r->finished = true;
		act_free(r);
		return -1;
	}
	free(js);
	r->started_ms = loop_now_ms();
	if (plan->timeout_s > 0)
		r->deadline_timer = loop_timer(lp, plan->timeout_s * 1000, on_deadline, r);
	r->step_timer = loop_timer(lp, 0, on_step, r);
	*out = r;
	return 0;
}

void act_cancel(act_run *r)
{
	if (!r || r->finished)
		return;
	if (!r->cancel_requested)
		snprintf(r->res.error, sizeof r->res.error, "cancelled by the operator");
	r->cancel_requested = true;
	if (r->pid > 0)
		terminate(r);
	else if (!r->step_timer)
		r->step_timer = loop_timer(r->lp, 0, on_step, r);
}

bool act_finished(const act_run *r)
{
	return r->finished;
}

const act_result *act_get_result(const act_run *r)
{
	return &r->res;
}

const act_plan *act_get_plan(const act_run *r)
{
	return r->plan;
}

const act_masker *act_get_masker(const act_run *r)
{
	return r->mask;
}

int act_child_pid(const act_run *r)
{
	return r->pid;
}

void act_free(act_run *r)
{
	if (!r)
		return;
	if (r->pid > 0) {
		/* the group too when its leader has already been collected: a
		 * command's own children may outlive the shell */
		int collected = proc_unwatch(r->lp, r->pid, NULL);
		kill(-r->pid, SIGKILL);
		if (!collected)
			proc_wait(r->pid, NULL);
		r->pid = 0;
	}
	if (!r->finished) {
		r->res.failed_segment = (int)r->seg;
		snprintf(r->res.error, sizeof r->res.error, "cancelled: pgcutover is closing");
		r->hooks.done = NULL;
		finish(r, ACT_CANCELLED);
	}
	cancel_timer(r, &r->step_timer);
	cancel_timer(r, &r->deadline_timer);
	cancel_timer(r, &r->kill_timer);
	close_pipe(r, 1);
	close_pipe(r, 2);
	act_outbuf_free(&r->out[1]);
	act_outbuf_free(&r->out[2]);
	act_masker_free(r->mask);
	free(r->head);
	free(r->tail);
	free(r);
}

typedef struct wait_ctx {
	const act_hooks *inner;
	void *inner_ud;
	bool done;
} wait_ctx;

int act_run_wait(loop *lp, const act_plan *plan, const config *cfg, const act_opts *opt,
                 const act_hooks *hooks, void *ud, act_result *res, pgc_err *e)
{
	act_run *r;
	if (act_start(lp, plan, cfg, opt, hooks, ud, &r, e) < 0)
		return -1;
	while (!r->finished)
		if (loop_once(lp, ACT_WAIT_SLICE_MS) < 0 && errno != EINTR)
			break;
	if (!r->finished)
		act_cancel(r);
	while (!r->finished)
		loop_once(lp, ACT_WAIT_SLICE_MS);
	*res = r->res;
	act_free(r);
	return 0;
}

/* ------------------------------------------------------------------ */
/* recovering from a crash while a command ran */

typedef struct open_start {
	int64_t id;
	int pid;
	char *host, *phase, *item;
} open_start;

typedef struct recover_ctx {
	open_start *v;
	size_t n;
} recover_ctx;

static int recover_scan(const st_event *ev, void *ud)
{
	recover_ctx *c = ud;
	if (strcmp(ev->kind, EV_COMMAND_START) == 0) {
		c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
		c->v[c->n++] = (open_start){ev->id, ev->pid, xstrdup(ev->host ? ev->host : ""),
		                            ev->phase ? xstrdup(ev->phase) : NULL,
		                            ev->item ? xstrdup(ev->item) : NULL};
	} else if (strcmp(ev->kind, EV_COMMAND_END) == 0 || strcmp(ev->kind, EV_COMMAND_UNKNOWN) == 0) {
		int64_t sid = evp_command_closes(ev->payload);
		for (size_t i = 0; i < c->n; i++) {
			if (c->v[i].id == sid) {
				free(c->v[i].host);
				free(c->v[i].phase);
				free(c->v[i].item);
				c->v[i] = c->v[--c->n];
				break;
			}
		}
	}
	return 0;
}

static bool still_running(const open_start *s)
{
	if (strcmp(s->host, pgc_host_name()) != 0 || s->pid <= 0)
		return false;
	if (s->pid == (int)getpid())
		return true;   /* this process: its own run is in progress */
	return kill(s->pid, 0) == 0 || errno == EPERM;
}

int act_recover_unknown(state *st, char **items_out, pgc_err *e)
{
	if (items_out)
		*items_out = NULL;
	recover_ctx c = {0};
	/* every start, then the ends that close them: by kind, through the
	 * index, not the whole log (this runs on every read-write start) */
	if (state_foreach_kind(st, EV_COMMAND_START, 0, recover_scan, &c, e) < 0 ||
	    state_foreach_kind(st, EV_COMMAND_END, 0, recover_scan, &c, e) < 0 ||
	    state_foreach_kind(st, EV_COMMAND_UNKNOWN, 0, recover_scan, &c, e) < 0)
		return -1;
	int closed = 0, rc = 0;
	strbuf items;
	sb_init(&items);
	for (size_t i = 0; i < c.n; i++) {
		open_start *s = &c.v[i];
		if (rc == 0 && !still_running(s)) {
			char *js = evp_command_unknown_write(s->id, s->pid, s->host, ACT_UNKNOWN_END_MESSAGE);
			if (state_append(st, EV_COMMAND_UNKNOWN, s->phase, s->item, js, NULL, e) < 0)
				rc = -1;
			else {
				closed++;
				sb_printf(&items, "%s%s", items.len ? ", " : "", s->item ? s->item : "(flags)");
			}
			free(js);
		}
		free(s->host);
		free(s->phase);
		free(s->item);
	}
	free(c.v);
	if (items_out && items.len)
		*items_out = sb_steal(&items);
	sb_free(&items);
	return rc < 0 ? -1 : closed;
}
