/*
 * runbook.c -- the Markdown runbook parser.  Turns an operator's migration
 * plan, written as they already write it, into the read-only model of
 * runbook.h: phases ("Phase 0", "0.8", "1".."5" at ## or ###, or slug ids for
 * unnumbered ## sections holding checkboxes), steps (sub-headings with their
 * schedule), checklist items nested to any depth, fenced blocks attached to
 * their item, flag edits, checkpoints and metadata; headings that name a
 * rollback read as a procedure or as work from their words, their place and
 * the operator's <!-- pgcutover: ... --> marker.  Block structure follows
 * GitHub: setext headings, > block quotes, four-space code.  (cmark-gfm, the
 * parser GitHub's is built on, was evaluated for that layer and not taken:
 * Debian's 0.29.0.gfm.6 renders no task item inside a block quote, so it
 * would not remove that difference, and the one-pass reading of items,
 * attachments by indentation, mojibake repair and path:line:col errors
 * would sit over its AST as a second pass, for two local rules.)  One pass
 * over the lines,
 * no recursion, so a 10,000-item file parses in milliseconds and hostile
 * input (deep nesting, NUL bytes, bad UTF-8) ends in an error with
 * path:line:col.  Called by `pgcutover check`, the state sync, the console
 * and `init`.  The conventions are documented in pgcutover-runbook(5).
 */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/runbook.h"

#define RB_HASH_HEX 16          /* item hash: first 16 hex digits of SHA-256 */
#define RB_MAX_WARNINGS 100     /* further warnings are counted, not kept */
#define RB_SLUG_MAX 40          /* phase ids: leaves room in RB_ID_MAX for ".<ordinal>" */
#define RB_STEP_ID_PHASE_MAX (RB_ID_MAX - 13) /* room for ".s" and a 10-digit ordinal */
#define RB_MAX_HEADING 6
#define RB_FENCE_MIN 3
#define RB_TAB_WIDTH 4
#define RB_MARK_MAX 3           /* longest bracket mark: "N/A" */
#define RB_HEADING_MAX_INDENT 3 /* Markdown: 4 spaces make it code */
#define MINUTES_PER_HOUR 60
#define MINUTES_PER_DAY (24 * 60)
#define RB_RECURRING_MAX 40     /* "Every <this much>:" */
#define RB_DURATION_MAX_MIN (366 * MINUTES_PER_DAY) /* longer is not a step's duration */
#define RB_META_KEY_MAX 64      /* "**Risk Level:**" */
#define RB_LIST_NUMBER_MAX 9    /* digits of an ordered-list number (CommonMark) */
#define RB_HASH_STACK 512       /* item texts normalised without malloc up to this */
#define RB_SET_MIN 16           /* first size of a string set's table */
#define RB_DETAIL_MIN 16        /* first allocation of an item's detail */
#define HOURS_PER_DAY 24
#define MINUTES_MAX 59
#define RB_MARK_SIZE sizeof(((rb_item *)0)->mark_text)

/* ---- growable arrays without a stored capacity ------------------------- */

/* Grows *p so that index n is writable: capacity is the next power of two
 * (at least 4), reallocated exactly when n reaches it. */
static void vec_reserve(void **p, size_t n, size_t sz)
{
	if (n == 0)
		*p = xmalloc(4 * sz);
	else if (n >= 4 && (n & (n - 1)) == 0)
		*p = xrealloc(*p, 2 * n * sz);
}
/* Only for arrays that never shrink: n going back to 0 would allocate anew. */
#define VEC_PUSH(arr, n) (vec_reserve((void **)&(arr), (n), sizeof *(arr)), &(arr)[(n)++])

/* ---- a set of strings (open addressing), so that duplicate checks on
 * phase ids, assignments and tables stay linear on hostile input ---------- */

typedef struct strset {
	char **keys;   /* owned copies; NULL = empty slot */
	size_t *uses;  /* per slot: how many times the key was added */
	size_t cap, n;
} strset;

static uint64_t str_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static size_t strset_slot(const strset *set, const char *s, size_t n)
{
	size_t i = (size_t)str_hash(s, n) & (set->cap - 1);
	while (set->keys[i] && !(strlen(set->keys[i]) == n && memcmp(set->keys[i], s, n) == 0))
		i = (i + 1) & (set->cap - 1);
	return i;
}

static bool strset_has(const strset *set, const char *s, size_t n)
{
	return set->cap && set->keys[strset_slot(set, s, n)] != NULL;
}

/* Finds or adds s; returns its counter (valid until the next insertion). */
static size_t *strset_uses(strset *set, const char *s, size_t n)
{
	if (2 * (set->n + 1) > set->cap) {   /* keep the load under one half */
		size_t cap = set->cap ? 2 * set->cap : RB_SET_MIN;
		strset bigger = {xcalloc(cap, sizeof(char *)), xcalloc(cap, sizeof(size_t)), cap, 0};
		for (size_t i = 0; i < set->cap; i++)
			if (set->keys[i]) {
				size_t j = strset_slot(&bigger, set->keys[i], strlen(set->keys[i]));
				bigger.keys[j] = set->keys[i];
				bigger.uses[j] = set->uses[i];
				bigger.n++;
			}
		free(set->keys);
		free(set->uses);
		*set = bigger;
	}
	size_t i = strset_slot(set, s, n);
	if (!set->keys[i]) {
		set->keys[i] = xstrndup(s, n);
		set->n++;
	}
	return &set->uses[i];
}

/* Adds s and returns how many times it has been added, this time included. */
static size_t strset_count(strset *set, const char *s, size_t n)
{
	return ++*strset_uses(set, s, n);
}

/* Adds s; returns false when it was there already. */
static bool strset_add(strset *set, const char *s, size_t n)
{
	return strset_count(set, s, n) == 1;
}

static void strset_free(strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->keys[i]);
	free(set->keys);
	free(set->uses);
	set->keys = NULL;
	set->uses = NULL;
	set->cap = set->n = 0;
}

/* ---- parser state ------------------------------------------------------ */

typedef struct list_entry {
	int indent;        /* column of the bullet */
	int item;          /* index in the phase's items, -1 for a plain bullet */
	int parent_item;   /* nearest item above this entry, -1 if none */
	int item_depth;    /* number of items above this entry */
	bool dep_intro;    /* its text says "dependency order" */
} list_entry;

typedef struct step_frame {
	int level;
	bool rollback;
	bool prep;          /* a go/no-go list or rollback work: a bare "Rollback" under it is work */
	const char *title;  /* the step's title (owned by the phase's steps) */
} step_frame;

typedef struct parser {
	runbook *rb;
	const rb_options *opt;
	const char *path;
	pgc_err *e;
	int line;              /* current line number, 1-based */
	int col;               /* byte column of the line's first non-blank, 1-based */
	bool failed;

	int num;               /* current numbered phase, -1 */
	int outer_num;         /* ## numbered phase around a ### one, -1 */
	int sec;               /* provisional phase of the current ## section, -1 */
	char *sec_title;       /* title and line of the current ## section */
	int sec_line;
	strbuf sec_text;       /* its text, kept in case it ends up context */

	step_frame steps[RB_MAX_HEADING + 1];
	int n_steps;           /* open step headings in the current phase */
	int cur_step;          /* index in the phase's steps, -1 */

	list_entry *list;      /* open bullets, outermost first */
	size_t n_list, list_cap;
	int attach_item;       /* item a following fence belongs to, -1 */
	int attach_indent;
	bool dep_para;         /* a paragraph said "dependency order" */

	/* an open fence */
	bool in_comment;       /* inside a multi-line <!-- --> */
	int comment_line, comment_col;
	bool in_fence;
	char fence_char;
	int fence_len, fence_line, fence_col, fence_owner;
	char *fence_lang;
	bool fence_env;        /* the open fence is a .env block */
	bool fence_quote;      /* it was opened inside a > block quote */
	bool quoted;           /* the current line was inside a > block quote */
	int quote_depth;       /* how many > the last line with text had */
	bool after_break;      /* the line before was blank, a heading or the start:
	                        * this one may open a paragraph (a setext heading) */
	bool skip_next;        /* the next line is a setext underline already used */
	const char *next;      /* the next line of the file as read, NULL at the end */
	size_t next_len;
	bool env_label;        /* the last line with text mentioned ".env" */
	strbuf fence_text;

	int fresh_heading;     /* 1 after a phase heading, 2 after a step's, 0 once text follows */
	bool footer;           /* a --- rule after the phase's items: what follows is the document's */
	const rb_item *detail_of;  /* item whose detail length is detail_len */
	size_t detail_len;
	size_t dropped_warnings;
	bool warned_outside;
	strset numbered_ids, assignment_set, table_set;
} parser;

static void warnf(parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warnf(parser *p, int line, int col, const char *fmt, ...)
{
	runbook *rb = p->rb;
	if (rb->n_warnings >= RB_MAX_WARNINGS) {
		p->dropped_warnings++;
		return;
	}
	char msg[PGC_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	*VEC_PUSH(rb->warnings, rb->n_warnings) = xasprintf("%s:%d:%d: %s", p->path, line, col, msg);
}

static int failf(parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int failf(parser *p, int line, int col, const char *fmt, ...)
{
	char msg[PGC_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->failed = true;
	return pgc_fail(p->e, PGC_EXIT_DATAERR, "%s:%d:%d: %s", p->path, line, col, msg);
}

/* ---- small text helpers ------------------------------------------------ */

static bool is_blank_char(char c)
{
	return c == ' ' || c == '\t';
}

static bool all_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_blank_char(s[i]))
			return false;
	return true;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_blank_char(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && (is_blank_char((*s)[*n - 1]) || (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* Case-insensitive search for a lower-case ASCII needle; called on every
 * item, so it tests the first letter before calling anything. */
static const char *find_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	char first = needle[0], first_up = (char)toupper((unsigned char)first);
	for (size_t i = 0; i + k <= n; i++)
		if ((s[i] == first || s[i] == first_up) && strncasecmp(s + i + 1, needle + 1, k - 1) == 0)
			return s + i;
	return NULL;
}

/* Decodes the UTF-8 character at s; returns its length (1 for bad bytes). */
static size_t utf8_next(const char *s, size_t n, unsigned *cp)
{
	size_t l = pgc_utf8_decode((const unsigned char *)s, n, cp);
	if (l == 0) {
		*cp = (unsigned char)s[0];
		return 1;
	}
	return l;
}

/* Status marks and other pictographs that decorate headings. */
static bool is_decoration(unsigned cp)
{
	return (cp >= 0x2190 && cp <= 0x2BFF) ||   /* arrows, technical, dingbats, ⬜ */
	       (cp >= 0x1F000 && cp <= 0x1FAFF) || /* emoji */
	       cp == 0xFE0F || cp == 0xFE0E || cp == 0x200D || cp == 0x20E3 ||
	       cp == 0x00A9 || cp == 0x00AE;
}

/* Words a team writes into a heading to say where the work stands. */
static const char *const title_status_words[] = {
	"complete", "completed", "done", "in progress", "in-progress", "wip", "not started", "todo",
	"to do", "pending", "blocked", "skipped", "finished", "ongoing", NULL};

static bool is_status_word(const char *s, size_t n)
{
	for (const char *const *w = title_status_words; *w; w++)
		if (strlen(*w) == n && strncasecmp(s, *w, n) == 0)
			return true;
	return false;
}

static bool all_upper(const char *s, size_t n)
{
	bool letter = false;
	for (size_t i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]))
			return false;
		letter |= isupper((unsigned char)s[i]) != 0;
	}
	return letter;
}

/* A status at the end of a heading: "(IN PROGRESS)", "[done]", or a status
 * word after a separator or mark ("- Complete", "✅ COMPLETE") or in
 * capitals.  Returns the length of the heading without it (n when none). */
static size_t strip_title_status(const char *s, size_t n)
{
	if (n >= 3 && (s[n - 1] == ')' || s[n - 1] == ']')) {
		char open = s[n - 1] == ')' ? '(' : '[';
		size_t o = n - 1;
		while (o > 0 && s[o - 1] != open)
			o--;
		if (o > 0 && is_status_word(s + o, n - 1 - o))
			return o - 1;
		return n;
	}
	for (const char *const *w = title_status_words; *w; w++) {
		size_t k = strlen(*w);
		if (k >= n || strncasecmp(s + n - k, *w, k) != 0 || isalnum((unsigned char)s[n - k - 1]))
			continue;
		size_t b = n - k;
		while (b > 0 && is_blank_char(s[b - 1]))
			b--;
		if (b == 0)
			return n;   /* the whole heading: "Done" is a title */
		unsigned char c = (unsigned char)s[b - 1];
		bool sep = c == '-' || c == ':' || c == '|' || c >= 0x80;   /* dashes, emoji */
		if (sep || all_upper(s + n - k, k))
			return b;
	}
	return n;
}

/* Strips leading and trailing emoji status marks, whitespace, status words
 * ("✅ COMPLETE", "(IN PROGRESS)") and **bold** from a heading.  Returns a
 * new string. */
static char *clean_title(const char *s, size_t n)
{
	trim(&s, &n);
	for (;;) {
		unsigned cp;
		bool progress = false;
		if (n) {
			size_t l = utf8_next(s, n, &cp);
			if (is_decoration(cp)) {
				s += l; n -= l; progress = true;
			}
		}
		if (n) {   /* trailing mark: find the start of the last character */
			size_t st = n - 1;
			while (st > 0 && ((unsigned char)s[st] & 0xC0) == 0x80)
				st--;
			utf8_next(s + st, n - st, &cp);
			if (is_decoration(cp)) {
				n = st; progress = true;
			}
		}
		size_t before = n;
		trim(&s, &n);
		if (n >= 4 && strncmp(s, "**", 2) == 0 && strncmp(s + n - 2, "**", 2) == 0) {
			s += 2; n -= 4;
			trim(&s, &n);
		}
		size_t st = strip_title_status(s, n);
		if (st < n) {
			n = st;
			while (n && (is_blank_char(s[n - 1]) || s[n - 1] == '-' || s[n - 1] == ':' || s[n - 1] == '|'))
				n--;
		}
		if (!progress && before == n)
			break;
	}
	/* **bold** inside: the markers are not part of the title */
	size_t pairs = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '*' && s[i + 1] == '*')
			pairs++, i++;
	if (pairs == 0 || pairs % 2)
		return xstrndup(s, n);
	char *out = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '*' && i + 1 < n && s[i + 1] == '*') {
			i++;
			continue;
		}
		out[k++] = s[i];
	}
	out[k] = '\0';
	return out;
}

/* Finds "Phase <id>" in a heading.  With start_only it must open the
 * heading: a ### inside a ## phase is a step unless it starts with "Phase"
 * ("### Rollback to Phase 2" is a step of phase 5).  On success
 * copies the id and returns the rest of the title after "Phase <id>" and a
 * separator. */
static const char *match_phase(const char *t, bool start_only, char id[RB_ID_MAX], bool *at_start)
{
	size_t n = strlen(t);
	for (const char *q = t; (q = find_ci(q, n - (size_t)(q - t), "phase")) != NULL; q++) {
		if (q > t && isalnum((unsigned char)q[-1]))
			continue;
		const char *r = q + 5;
		while (*r == ' ')
			r++;
		if (!isdigit((unsigned char)*r))
			continue;
		const char *idstart = r;
		while (isdigit((unsigned char)*r) || (*r == '.' && isdigit((unsigned char)r[1])))
			r++;
		if (isalpha((unsigned char)*r) && !isalnum((unsigned char)r[1]))
			r++;   /* "Phase 2a" */
		if (isalnum((unsigned char)*r))
			continue;
		bool start = q == t;
		if (!start && start_only)
			return NULL;
		size_t idlen = (size_t)(r - idstart);
		if (idlen > RB_SLUG_MAX)
			return NULL;
		for (size_t i = 0; i < idlen; i++)
			id[i] = (char)tolower((unsigned char)idstart[i]);
		id[idlen] = '\0';
		*at_start = start;
		while (*r == ' ' || *r == ':' || *r == '-' || *r == '.')
			r++;
		/* en dash, em dash */
		while (strncmp(r, "\xe2\x80\x93", 3) == 0 || strncmp(r, "\xe2\x80\x94", 3) == 0) {
			r += 3;
			while (*r == ' ')
				r++;
		}
		return r;
	}
	return NULL;
}

/* The slug of a title, at most RB_SLUG_MAX characters, cut between words
 * (operators type it in `tick`): "post-migration-monitoring-and-cleanup". */
static void slugify(const char *title, char out[RB_ID_MAX])
{
	size_t n = 0;
	int paren = 0;
	bool dash = false;
	bool cut = false;
	const unsigned char *s = (const unsigned char *)title;
	for (; *s; s++) {
		if (*s == '(') { paren++; continue; }
		if (*s == ')') { if (paren) paren--; continue; }
		if (paren)
			continue;
		if (isalnum(*s) && *s < 0x80) {
			if (dash && n > 0) {
				if (n >= RB_SLUG_MAX)
					break;
				out[n++] = '-';
			}
			dash = false;
			if (n >= RB_SLUG_MAX) {
				cut = true;
				break;
			}
			out[n++] = (char)tolower(*s);
		} else {
			dash = true;
		}
	}
	if (cut) {   /* a word ran past the limit: end at the last whole word */
		size_t k = n;
		while (k > 0 && out[k - 1] != '-')
			k--;
		if (k > 1)
			n = k - 1;
	}
	out[n] = '\0';
}

/* ---- rollback procedure or rollback work ------------------------------ */

/* Where word starts a word in s (a letter may follow: "monitor" finds
 * "Monitoring"); NULL when it does not. */
static const char *find_word(const char *s, const char *word)
{
	size_t n = strlen(s);
	for (const char *q = s; (q = find_ci(q, n - (size_t)(q - s), word)) != NULL; q++)
		if (q == s || !isalpha((unsigned char)q[-1]))
			return q;
	return NULL;
}

/* The first of words found in s; *len (when non-NULL) gets the length of
 * the whole word there ("prepar" finds "Preparedness"). */
static const char *find_any_len(const char *s, const char *const *words, size_t *len)
{
	for (const char *const *w = words; *w; w++) {
		const char *q = find_word(s, *w);
		if (!q)
			continue;
		size_t k = strlen(*w);
		while (isalpha((unsigned char)q[k]))
			k++;
		if (len)
			*len = k;
		return q;
	}
	return NULL;
}

static const char *find_any(const char *s, const char *const *words)
{
	return find_any_len(s, words, NULL);
}

static const char *const rollback_words[] = {
	"rollback", "roll back", "roll-back", "rolling back", "revert", "back out", "backout", NULL};
/* preparation done before the night, or watching after it: ordinary work */
static const char *const rollback_work_words[] = {
	"readiness", "ready", "prepar", "rehears", "drill", "monitor", "test", "plan to", "planning",
	"criteria", "trigger", "decision", "capabilit", "document", NULL};
/* the steps themselves, to run when rolling back */
static const char *const rollback_procedure_words[] = {
	"if needed", "if required", "if necessary", "emergency", "procedure", "steps", "execut",
	"perform", "revert", "abort", "back out", "backout", "instructions", "immediate", NULL};
/* a heading whose items are confirmed before the cutover */
static const char *const prep_list_words[] = {
	"go/no-go", "go / no-go", "go-no-go", "go no-go", "no-go", "checklist", "pre-flight",
	"preflight", "pre-cutover", "readiness", NULL};

/* The words of a heading; *by_default when it names a rollback and nothing
 * more (structure then decides). */
static rb_rollback_kind classify_words(const char *title, char **why, bool *by_default)
{
	*by_default = false;
	if (why)
		*why = NULL;
	size_t nl, wl;
	const char *named = find_any_len(title, rollback_words, &nl);
	if (!named)
		return RB_ROLLBACK_NONE;
	const char *w = find_any_len(title, rollback_work_words, &wl);
	if (w) {
		if (why)
			*why = xasprintf("says \"%.*s\"", (int)wl, w);
		return RB_ROLLBACK_WORK;
	}
	w = find_any_len(title, rollback_procedure_words, &wl);
	if (w) {
		if (why)
			*why = xasprintf("says \"%.*s\"", (int)wl, w);
		return RB_ROLLBACK_PROCEDURE;
	}
	*by_default = true;
	if (why)
		*why = xasprintf("names a rollback (\"%.*s\")", (int)nl, named);
	return RB_ROLLBACK_PROCEDURE;
}

rb_rollback_kind rb_rollback_classify(const char *title, char **why)
{
	bool by_default;
	return classify_words(title ? title : "", why, &by_default);
}

/* "<!-- pgcutover: rollback -->" or "<!-- pgcutover: work -->" (also "not
 * rollback") at s: the operator's word on the heading above. */
static rb_rollback_kind rollback_marker(const char *s, size_t n)
{
	if (n < 4 || strncmp(s, "<!--", 4) != 0)
		return RB_ROLLBACK_NONE;
	const char *t = s + 4, *end = s + n;
	while (t < end && is_blank_char(*t))
		t++;
	if ((size_t)(end - t) < 10 || strncasecmp(t, "pgcutover:", 10) != 0)
		return RB_ROLLBACK_NONE;
	t += 10;
	while (t < end && is_blank_char(*t))
		t++;
	const char *close = find_ci(t, (size_t)(end - t), "-->");
	if (!close)
		return RB_ROLLBACK_NONE;
	size_t k = (size_t)(close - t);
	while (k && is_blank_char(t[k - 1]))
		k--;
	if (k == 8 && strncasecmp(t, "rollback", 8) == 0)
		return RB_ROLLBACK_PROCEDURE;
	if ((k == 4 && strncasecmp(t, "work", 4) == 0) || (k == 12 && strncasecmp(t, "not rollback", 12) == 0))
		return RB_ROLLBACK_WORK;
	return RB_ROLLBACK_NONE;
}

#define HOURS_PER_HALF_DAY 12

/* " AM", "pm", " a.m." at s: returns its length and sets *pm, or 0. */
static size_t meridiem(const char *s, bool *pm)
{
	size_t i = 0;
	while (s[i] == ' ')
		i++;
	char c = (char)tolower((unsigned char)s[i]);
	if (c != 'a' && c != 'p')
		return 0;
	*pm = c == 'p';
	size_t k = i + 1;
	if (s[k] == '.')
		k++;
	if (tolower((unsigned char)s[k]) != 'm')
		return 0;
	k++;
	if (s[k] == '.')
		k++;
	return isalnum((unsigned char)s[k]) ? 0 : k;
}

/* Parses "HH:MM" at s, also 12-hour "8:00 AM", "2 PM"; returns length
 * consumed or 0. */
static size_t parse_clock(const char *s, char out[6])
{
	size_t i = 0;
	if (!isdigit((unsigned char)s[0]))
		return 0;
	int h = s[i++] - '0';
	if (isdigit((unsigned char)s[i]))
		h = h * 10 + (s[i++] - '0');
	bool pm = false;
	size_t ml;
	int m = 0;
	if (s[i] != ':') {   /* "2 PM": an hour alone needs its AM/PM */
		ml = meridiem(s + i, &pm);
		if (!ml || h == 0 || h > HOURS_PER_HALF_DAY)
			return 0;
	} else {
		if (!isdigit((unsigned char)s[i + 1]) || !isdigit((unsigned char)s[i + 2]) ||
		    isdigit((unsigned char)s[i + 3]))
			return 0;
		m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		i += 3;
		ml = meridiem(s + i, &pm);
		if (ml && (h == 0 || h > HOURS_PER_HALF_DAY))
			ml = 0;
	}
	if (ml) {
		h = h % HOURS_PER_HALF_DAY + (pm ? HOURS_PER_HALF_DAY : 0);
		i += ml;
	}
	if (h > HOURS_PER_DAY || m > MINUTES_MAX)
		return 0;
	out[0] = (char)('0' + h / 10);
	out[1] = (char)('0' + h % 10);
	out[2] = ':';
	out[3] = (char)('0' + m / 10);
	out[4] = (char)('0' + m % 10);
	out[5] = '\0';
	return i;
}

/* Reads "<number> <unit>" at s as minutes: min, minutes, h, hr, hours,
 * day(s).  Returns length consumed or 0. */
static size_t parse_duration(const char *s, int *minutes)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return 0;
	double v = strtod(s, &end);
	const char *u = end;
	while (*u == ' ')
		u++;
	static const struct { const char *word; int factor; } units[] = {
		{"minutes", 1}, {"minute", 1}, {"mins", 1}, {"min", 1}, {"m", 1},
		{"hours", MINUTES_PER_HOUR}, {"hour", MINUTES_PER_HOUR}, {"hrs", MINUTES_PER_HOUR},
		{"hr", MINUTES_PER_HOUR}, {"h", MINUTES_PER_HOUR},
		{"days", MINUTES_PER_DAY}, {"day", MINUTES_PER_DAY},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t k = strlen(units[i].word);
		if (strncasecmp(u, units[i].word, k) == 0 && !isalpha((unsigned char)u[k])) {
			/* "99999999999999999999 min" is no duration, and no int either */
			double m = v * units[i].factor + 0.5;
			if (!(m < RB_DURATION_MAX_MIN + 1))
				return 0;
			*minutes = (int)m;
			return (size_t)(u + k - s);
		}
	}
	return 0;
}

/* A dash between two numbers or times: "-", en or em dash, " to ".
 * Returns its length with the blanks around it, or 0. */
static size_t range_dash(const char *r)
{
	size_t i = 0;
	while (r[i] == ' ')
		i++;
	size_t d = 0;
	if (r[i] == '-')
		d = 1;
	else if (strncmp(r + i, "\xe2\x80\x93", 3) == 0 || strncmp(r + i, "\xe2\x80\x94", 3) == 0)
		d = 3;
	else if (strncasecmp(r + i, "to ", 3) == 0)
		d = 3;
	if (!d)
		return 0;
	i += d;
	while (r[i] == ' ')
		i++;
	return i;
}

/* "15-30 minutes", "2 to 4 hours" or "30 min": *lo and *hi in minutes
 * (equal for one value).  Returns length consumed or 0. */
static size_t parse_duration_range(const char *s, int *lo, int *hi)
{
	if (!isdigit((unsigned char)*s))
		return 0;
	char *end;
	double a = strtod(s, &end);
	size_t dl = range_dash(end);
	if (dl && a > 0) {
		const char *b = end + dl;
		char *bend;
		double bv = strtod(b, &bend);
		int mins;
		size_t l = bend > b ? parse_duration(b, &mins) : 0;
		if (l && bv >= a) {
			*hi = mins;
			*lo = (int)(mins * (a / bv) + 0.5);
			return (size_t)(b + l - s);
		}
	}
	int mins;
	size_t l = parse_duration(s, &mins);
	if (l)
		*lo = *hi = mins;
	return l;
}

/* "T-48 Hours", "T+30 min", "T − 2h" at s (s at the T): the offset from
 * go-time in minutes.  Returns length consumed or 0. */
static size_t parse_countdown(const char *s, int *offset)
{
	if (*s != 'T' && *s != 't')
		return 0;
	size_t i = 1;
	while (s[i] == ' ')
		i++;
	int sign;
	if (s[i] == '-' || s[i] == '+') {
		sign = s[i] == '-' ? -1 : 1;
		i++;
	} else if (strncmp(s + i, "\xe2\x88\x92", 3) == 0 || strncmp(s + i, "\xe2\x80\x93", 3) == 0) {
		sign = -1;   /* minus sign, en dash */
		i += 3;
	} else {
		return 0;
	}
	while (s[i] == ' ')
		i++;
	int mins;
	size_t l = parse_duration(s + i, &mins);
	if (!l)
		return 0;
	*offset = sign * mins;
	return i + l;
}

/* "before", "after", "prior": "(2 Days Before)" restates a countdown, it
 * is no duration. */
static bool restates_offset(const char *r)
{
	while (*r == ' ')
		r++;
	return strncasecmp(r, "before", 6) == 0 || strncasecmp(r, "after", 5) == 0 ||
	       strncasecmp(r, "prior", 5) == 0 || strncasecmp(r, "ahead", 5) == 0;
}

/* Schedule in a step heading: "(02:00-06:00)" or "(8:00 AM - 2:00 PM)"
 * window, "02:00" start time, "5 min" / "2 hours" / "15-30 minutes"
 * duration, "T-48 Hours" / "T+30 min" countdown offset. */
static void parse_schedule(rb_step *st, const char *t)
{
	for (const char *s = t; *s; s++) {
		if (s > t && (isalnum((unsigned char)s[-1]) || s[-1] == '.' || s[-1] == ':'))
			continue;
		int off;
		size_t ol = parse_countdown(s, &off);
		if (ol) {
			if (!st->has_offset) {
				st->has_offset = true;
				st->offset_min = off;
			}
			s += ol - 1;
			continue;
		}
		char a[6], b[6];
		size_t l = parse_clock(s, a);
		if (l) {
			const char *r = s + l;
			size_t dash = range_dash(r);
			if (dash) {
				r += dash;
				size_t l2 = parse_clock(r, b);
				if (l2 && !st->window_from[0]) {
					memcpy(st->window_from, a, 6);
					memcpy(st->window_to, b, 6);
					s = r + l2 - 1;
					continue;
				}
			}
			if (!st->at[0])
				memcpy(st->at, a, 6);
			s += l - 1;
			continue;
		}
		int lo, hi;
		l = parse_duration_range(s, &lo, &hi);
		if (l) {
			if (!st->duration_min && !restates_offset(s + l)) {
				st->duration_min = hi;
				st->duration_min_low = lo;
			}
			s += l - 1;
		}
	}
}

/* True when the whole of s (a parenthetical) reads as a duration. */
static bool is_duration_text(const char *s, size_t n)
{
	int mins;
	char *tmp = xstrndup(s, n);
	size_t l = parse_duration(tmp, &mins);
	char *dash = strchr(tmp, '-');
	if (!l && dash && isdigit((unsigned char)tmp[0])) {   /* "2-4 hours" */
		size_t l2 = parse_duration(dash + 1, &mins);
		if (l2)
			l = l2 + (size_t)(dash + 1 - tmp);
	}
	bool whole = l && l == n;
	free(tmp);
	return whole;
}

/* Whitespace-normalised text: runs of blanks become one space, trimmed. */
static void item_hash(const char *text, size_t n, char out[RB_HASH_HEX + 1])
{
	char stackbuf[RB_HASH_STACK];
	char *norm = n < sizeof stackbuf ? stackbuf : xmalloc(n + 1);
	size_t len = 0;
	bool space = false;
	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)text[i])) {
			space = true;
			continue;
		}
		if (space && len)
			norm[len++] = ' ';
		space = false;
		norm[len++] = text[i];
	}
	char hex[65];
	pgc_sha256_hex(norm, len, hex);
	memcpy(out, hex, RB_HASH_HEX);
	out[RB_HASH_HEX] = '\0';
	if (norm != stackbuf)
		free(norm);
}

/* ---- phases, steps, sections ------------------------------------------ */

static rb_phase *cur_phase(parser *p)
{
	int i = p->num >= 0 ? p->num : p->sec;
	return i >= 0 ? &p->rb->phases[i] : NULL;
}

static int new_phase(parser *p, const char *id, char *title, int level, bool numbered)
{
	runbook *rb = p->rb;
	rb_phase *ph = VEC_PUSH(rb->phases, rb->n_phases);
	memset(ph, 0, sizeof *ph);
	snprintf(ph->id, sizeof ph->id, "%s", id);
	ph->title = title;
	ph->level = level;
	ph->line = p->line;
	ph->numbered = numbered;
	bool by_default;
	ph->rollback_kind = classify_words(title, &ph->rollback_why, &by_default);
	ph->rollback = ph->has_rollback = ph->rollback_kind == RB_ROLLBACK_PROCEDURE;
	p->fresh_heading = 1;
	return (int)(rb->n_phases - 1);
}

static const char *marker_why(rb_rollback_kind k)
{
	return k == RB_ROLLBACK_PROCEDURE ? "marked <!-- pgcutover: rollback -->" : "marked <!-- pgcutover: work -->";
}

/* The operator's marker on the heading just read (on its line or the
 * line under it) overrides what its words said. */
static void apply_marker(parser *p, rb_rollback_kind k)
{
	rb_phase *ph = cur_phase(p);
	if (!ph || !p->fresh_heading || k == RB_ROLLBACK_NONE)
		return;
	bool rollback = k == RB_ROLLBACK_PROCEDURE;
	if (p->fresh_heading == 2 && p->cur_step >= 0) {
		rb_step *st = &ph->steps[p->cur_step];
		st->rollback = rollback;
		st->rollback_kind = k;
		free(st->rollback_why);
		st->rollback_why = xstrdup(marker_why(k));
		if (p->n_steps > 0) {
			p->steps[p->n_steps - 1].rollback = rollback;
			p->steps[p->n_steps - 1].prep = !rollback;
		}
		if (rollback)
			ph->has_rollback = true;
	} else {
		ph->rollback = rollback;
		ph->rollback_kind = k;
		free(ph->rollback_why);
		ph->rollback_why = xstrdup(marker_why(k));
		ph->has_rollback = rollback;
		for (size_t i = 0; i < ph->n_steps && !rollback; i++)
			ph->has_rollback |= ph->steps[i].rollback;
	}
}

/* A ## section's text is kept while it may still end up context: outside
 * any numbered phase, and only until its first item makes it a phase. */
static bool collect_sec_text(const parser *p)
{
	return p->num < 0 && p->sec_title && (p->sec < 0 || p->rb->phases[p->sec].n_items == 0);
}

static void reset_lists(parser *p)
{
	p->n_list = 0;
	p->attach_item = -1;
	p->dep_para = false;
}

static void reset_steps(parser *p)
{
	p->n_steps = 0;
	p->cur_step = -1;
	reset_lists(p);
}

/* Ends the current ## section: a provisional phase without items becomes
 * context (an rb_section). */
static void end_section(parser *p)
{
	runbook *rb = p->rb;
	if (p->sec_title) {
		bool is_phase = p->sec >= 0 && rb->phases[p->sec].n_items > 0;
		if (!is_phase) {
			rb_section *s = VEC_PUSH(rb->sections, rb->n_sections);
			s->title = p->sec_title;
			s->line = p->sec_line;
			const char *t = p->sec_text.buf ? p->sec_text.buf : "";
			size_t n = p->sec_text.len;
			while (n && (t[n - 1] == '\n' || t[n - 1] == ' '))
				n--;
			while (n && *t == '\n')
				t++, n--;
			s->text = xstrndup(t, n);
			if (p->sec >= 0)
				rb->phases[p->sec].id[0] = '\0';   /* dropped at the end */
		} else {
			free(p->sec_title);
		}
	}
	sb_free(&p->sec_text);
	sb_init(&p->sec_text);
	p->sec_title = NULL;
	p->sec = -1;
}

static bool phase_id_taken(parser *p, const char *id)
{
	return strset_has(&p->numbered_ids, id, strlen(id));
}

/* A step heading's words, read in its place: under a rollback step it is
 * part of that procedure; a heading that only names a rollback, inside a
 * go/no-go list or rollback work, is one more thing to confirm (work). */
static rb_rollback_kind classify_step(const parser *p, const rb_phase *ph, const char *title, char **why)
{
	const step_frame *parent = p->n_steps > 0 ? &p->steps[p->n_steps - 1] : NULL;
	if (parent && parent->rollback) {
		*why = xasprintf("inside rollback step \"%s\"", parent->title);
		return RB_ROLLBACK_PROCEDURE;
	}
	bool by_default;
	rb_rollback_kind k = classify_words(title, why, &by_default);
	if (k != RB_ROLLBACK_PROCEDURE || !by_default)
		return k;
	const char *ctx = NULL;
	for (int i = p->n_steps - 1; i >= 0 && !ctx; i--)
		if (p->steps[i].prep)
			ctx = p->steps[i].title;
	if (!ctx && (ph->rollback_kind == RB_ROLLBACK_WORK || find_any(ph->title, prep_list_words)))
		ctx = ph->title;
	if (!ctx)
		return k;
	free(*why);
	*why = xasprintf("inside \"%s\"", ctx);
	return RB_ROLLBACK_WORK;
}

static void add_step(parser *p, int level, char *title)
{
	rb_phase *ph = cur_phase(p);
	while (p->n_steps > 0 && p->steps[p->n_steps - 1].level >= level)
		p->n_steps--;
	char *why = NULL;
	rb_rollback_kind kind = classify_step(p, ph, title, &why);
	bool rollback = kind == RB_ROLLBACK_PROCEDURE;
	bool prep = kind == RB_ROLLBACK_WORK || find_any(title, prep_list_words) != NULL;
	if (p->n_steps <= RB_MAX_HEADING)
		p->steps[p->n_steps++] = (step_frame){level, rollback, prep, title};
	rb_step *st = VEC_PUSH(ph->steps, ph->n_steps);
	memset(st, 0, sizeof *st);
	st->title = title;
	st->level = level;
	st->line = p->line;
	st->rollback = rollback;
	st->rollback_kind = kind;
	st->rollback_why = why;
	parse_schedule(st, title);
	if (rollback)
		ph->has_rollback = true;
	p->cur_step = (int)ph->n_steps - 1;
	p->fresh_heading = 2;
	reset_lists(p);
}

static void add_note(parser *p, const char *s, size_t n)
{
	rb_phase *ph = cur_phase(p);
	if (ph)
		*VEC_PUSH(ph->notes, ph->n_notes) = xstrndup(s, n);
}

/* A heading that is only a blank to fill in: "Last Review: [Date before
 * deployment]", "Sign-off: ______", "Owner: TBD".  Not a step. */
static bool is_placeholder_heading(const char *t)
{
	const char *v = strrchr(t, ':');
	v = v ? v + 1 : t;
	size_t n = strlen(v);
	trim(&v, &n);
	if (n >= 2 && v[0] == '[' && v[n - 1] == ']' && !memchr(v, '(', n))
		return memchr(v + 1, '[', n - 2) == NULL;
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
		return true;
	static const char *const blanks[] = {"tbd", "tba", "todo", "yyyy-mm-dd", "dd/mm/yyyy", "hh:mm", NULL};
	for (const char *const *b = blanks; *b; b++)
		if (strlen(*b) == n && strncasecmp(v, *b, n) == 0)
			return true;
	size_t fill = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '_' || v[i] == '.')
			fill++;
		else if (!is_blank_char(v[i]) && v[i] != '/' && v[i] != '-')
			return false;
	}
	return fill >= RB_FENCE_MIN;
}

static void on_heading(parser *p, int level, const char *text, size_t n)
{
	runbook *rb = p->rb;
	char *title = clean_title(text, n);
	p->fresh_heading = 0;
	p->footer = false;
	reset_lists(p);
	if (level == 1) {
		if (!rb->title) {
			rb->title = title;
			return;
		}
		char id1[RB_ID_MAX];
		bool start1;
		if (match_phase(title, false, id1, &start1)) {
			/* "Phase 1" over "=======" (or "# Phase 1") after the title: a
			 * phase, read as a ## one */
			free(title);
			on_heading(p, 2, text, n);
			return;
		}
		end_section(p);
		p->num = p->outer_num = -1;
		reset_steps(p);
		free(title);
		return;
	}
	char id[RB_ID_MAX];
	bool at_start = false;
	bool start_only = level == 3 && p->num >= 0 && rb->phases[p->num].level < level;
	const char *rest = level <= 3 ? match_phase(title, start_only, id, &at_start) : NULL;
	if (rest && phase_id_taken(p, id)) {
		rb_phase *ph = cur_phase(p);
		if (!(ph && ph->numbered && strcmp(ph->id, id) == 0 && level > ph->level))
			warnf(p, p->line, 1, "phase %s appears again; this heading is read as an unnumbered section", id);
		rest = NULL;
	}
	if (rest) {
		char *ptitle = xstrdup(at_start && *rest ? rest : title);
		if (level == 2) {
			end_section(p);
			p->outer_num = -1;
		} else {
			rb_phase *ph = p->num >= 0 ? &rb->phases[p->num] : NULL;
			p->outer_num = ph && ph->level < level ? p->num : (ph ? p->outer_num : -1);
		}
		free(title);
		strset_add(&p->numbered_ids, id, strlen(id));
		p->num = new_phase(p, id, ptitle, level, true);
		reset_steps(p);
		return;
	}
	if (level > 2 && is_placeholder_heading(title)) {
		if (collect_sec_text(p))
			sb_printf(&p->sec_text, "%.*s %s\n", level, "######", title);
		add_note(p, title, strlen(title));
		free(title);
		return;
	}
	if (level == 2) {
		end_section(p);
		p->num = p->outer_num = -1;
		p->sec_title = xstrdup(title);
		p->sec_line = p->line;
		char slug[RB_ID_MAX];
		slugify(title, slug);
		p->sec = new_phase(p, slug[0] ? slug : "section", title, level, false);
		reset_steps(p);
		return;
	}
	/* ### and deeper, no phase number: a step, or the end of a ### phase */
	if (p->num >= 0 && level <= rb->phases[p->num].level) {
		p->num = p->outer_num;
		p->outer_num = -1;
		reset_steps(p);
	}
	if (collect_sec_text(p))
		sb_printf(&p->sec_text, "%.*s %s\n", level, "######", title);
	if (cur_phase(p)) {
		add_step(p, level, title);
		return;
	}
	free(title);
}

/* ---- lines inside a phase ---------------------------------------------- */

/* "**Key:** value" / "**Key**: value" / "- **Key:** value". */
static bool parse_metadata(const char *s, size_t n, char *key, size_t keysz, const char **val, size_t *vlen)
{
	if (n < 5 || strncmp(s, "**", 2) != 0)
		return false;
	const char *k = s + 2;
	const char *end = memchr(k, '*', n - 2);
	if (!end || end == k)
		return false;
	const char *colon = NULL;
	const char *v;
	if (end[-1] == ':' && end + 1 < s + n && end[1] == '*') {
		colon = end - 1;
		v = end + 2;
	} else if (end + 2 < s + n && end[1] == '*' && end[2] == ':') {
		colon = end;
		v = end + 3;
	} else {
		return false;
	}
	size_t kl = (size_t)(colon - k);
	if (kl == 0 || kl >= keysz)
		return false;
	memcpy(key, k, kl);
	key[kl] = '\0';
	size_t vl = n - (size_t)(v - s);
	trim(&v, &vl);
	*val = v;
	*vlen = vl;
	return true;
}

static char **meta_slot(rb_phase *ph, runbook *rb, const char *key)
{
	static const char *const keys[] = {"status", "goal", "duration", "estimated duration",
	                                   "planned duration", "risk level", "risk", "date"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcasecmp(key, keys[i]) != 0)
			continue;
		switch (i) {
		case 0: return ph ? &ph->status : &rb->status;
		case 1: return ph ? &ph->goal : &rb->goal;
		case 2: case 3: case 4: return ph ? &ph->duration : &rb->duration;
		case 5: case 6: return ph ? &ph->risk : &rb->risk;
		default: return ph ? &ph->date : &rb->date;
		}
	}
	return NULL;
}

/* Handles a metadata or checkpoint line; returns true when it was one. */
static bool on_metadata(parser *p, const char *s, size_t n)
{
	char key[RB_META_KEY_MAX];
	const char *v;
	size_t vl;
	if (!parse_metadata(s, n, key, sizeof key, &v, &vl))
		return false;
	rb_phase *ph = cur_phase(p);
	if (ph && p->footer && strcasecmp(key, "checkpoint") != 0) {
		/* "---" then "**Status:** Draft" closing the file: the document's */
		char **slot = meta_slot(NULL, p->rb, key);
		if (!slot)
			return false;
		if (!*slot)
			*slot = xstrndup(v, vl);
		return true;
	}
	if (strcasecmp(key, "checkpoint") == 0) {
		if (!ph)
			return false;
		p->attach_item = -1;
		if (p->cur_step >= 0 && !ph->steps[p->cur_step].checkpoint) {
			ph->steps[p->cur_step].checkpoint = xstrndup(v, vl);
			ph->steps[p->cur_step].checkpoint_line = p->line;
		} else if (p->cur_step < 0 && !ph->checkpoint) {
			ph->checkpoint = xstrndup(v, vl);
			ph->checkpoint_line = p->line;
		} else {
			warnf(p, p->line, 1, "a second checkpoint in the same step is kept as a note");
			add_note(p, s, n);
		}
		return true;
	}
	if (ph && p->cur_step >= 0) {
		/* inside a step: a duration feeds the schedule, the rest is text */
		if (strcasecmp(key, "duration") == 0 && !ph->steps[p->cur_step].duration_min) {
			int lo, hi;
			if (parse_duration_range(v, &lo, &hi)) {
				ph->steps[p->cur_step].duration_min = hi;
				ph->steps[p->cur_step].duration_min_low = lo;
			}
		}
		return false;
	}
	char **slot = meta_slot(ph, p->rb, key);
	if (!slot)
		return false;
	if (!*slot)
		*slot = xstrndup(v, vl);
	p->attach_item = -1;
	return true;
}

/* Takes the leading identifier of a dependency-ordered list entry:
 * "customers (12,400 records)" -> "customers", "`public.orders`" too. */
static void add_dep_table(parser *p, const char *s, size_t n)
{
	while (n && (*s == '*' || *s == '`' || *s == '_' || *s == ' ')) {
		s++;
		n--;
	}
	size_t k = 0;
	while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '.'))
		k++;
	while (k && s[k - 1] == '.')
		k--;
	if (k == 0 || isdigit((unsigned char)s[0]))
		return;
	runbook *rb = p->rb;
	if (!strset_add(&p->table_set, s, k))
		return;
	*VEC_PUSH(rb->dep_tables, rb->n_dep_tables) = xstrndup(s, k);
}

/* "- ", "* ", "+ ", "1. ", "1) " at s; returns the length of the marker
 * including the space, or 0. */
static size_t list_marker(const char *s, size_t n)
{
	if (n >= 1 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && (n == 1 || is_blank_char(s[1])))
		return n == 1 ? 1 : 2;
	size_t i = 0;
	while (i < n && i < RB_LIST_NUMBER_MAX && isdigit((unsigned char)s[i]))
		i++;
	if (i > 0 && i < n && (s[i] == '.' || s[i] == ')') && (i + 1 == n || is_blank_char(s[i + 1])))
		return i + 1 == n ? i + 1 : i + 2;
	return 0;
}

/* "[ ]", "[x]", "[N/A]" at s; returns its length (with the space after). */
static size_t checkbox(const char *s, size_t n, char mark[RB_MARK_SIZE])
{
	if (n < 2 || s[0] != '[')
		return 0;
	size_t i = 1;
	while (i < n && s[i] != ']' && s[i] != '[' && i <= RB_MARK_MAX + 1)
		i++;
	if (i >= n || s[i] != ']' || i - 1 > RB_MARK_MAX)
		return 0;
	if (i + 1 < n && !is_blank_char(s[i + 1]))
		return 0;   /* "[link](url)" */
	memcpy(mark, s + 1, i - 1);
	mark[i - 1] = '\0';
	if (mark[0] == '\0')
		strcpy(mark, " ");
	return i + 1 < n ? i + 2 : i + 1;
}

static rb_mark mark_kind(const char *m)
{
	if (strcmp(m, "x") == 0 || strcmp(m, "X") == 0)
		return RB_MARK_DONE;
	if (strcmp(m, " ") == 0)
		return RB_MARK_OPEN;
	if (strcmp(m, "-") == 0)
		return RB_MARK_SKIPPED;
	if (strcmp(m, "~") == 0)
		return RB_MARK_PROGRESS;
	if (strcmp(m, "!") == 0)
		return RB_MARK_BLOCKED;
	if (strcasecmp(m, "N/A") == 0 || strcasecmp(m, "NA") == 0)
		return RB_MARK_NA;
	return RB_MARK_OTHER;
}

const char *rb_health_label(const char *text)
{
	static const char *const labels[] = {"health check:", "healthcheck:", "health-check:", NULL};
	const char *s = text;
	while (*s == '*' || *s == '_')
		s++;
	for (const char *const *l = labels; *l; l++) {
		size_t n = strlen(*l);
		if (strncasecmp(s, *l, n) == 0) {
			s += n;
			while (*s == '*' || *s == '_' || *s == ' ' || *s == '\t')
				s++;
			return s;
		}
	}
	return NULL;
}

/* Decorations an item's text may carry: "Every 2 hours: X", inline code,
 * a bare `curl URL` health check, a "Health check: `curl URL`" one. */
static void item_extras(rb_item *it)
{
	const char *t = it->text;
	size_t n = strlen(t);
	const char *bt = memchr(t, '`', n);
	if (bt) {
		const char *close = memchr(bt + 1, '`', n - (size_t)(bt + 1 - t));
		if (close && close > bt + 1) {
			it->inline_code = xstrndup(bt + 1, (size_t)(close - bt - 1));
			/* the whole item is one code span holding a curl of a URL */
			if (bt == t && close == t + n - 1 && strncmp(it->inline_code, "curl ", 5) == 0 &&
			    (strstr(it->inline_code, "http://") || strstr(it->inline_code, "https://")))
				it->health_check = true;
		}
	}
	if (!it->health_check && strncmp(t, "curl ", 5) == 0 && !strchr(t, '`') &&
	    (strstr(t, "http://") || strstr(t, "https://")) && !strstr(t, " && ") && !strchr(t, '|'))
		it->health_check = true;
	/* "Health check: `curl http://...`" or "Health check: http://..." */
	if (!it->health_check && rb_health_label(t) && (strstr(t, "http://") || strstr(t, "https://")))
		it->health_check = true;
	const char *s = t;
	while (*s == '*' || *s == '_')
		s++;
	if (strncasecmp(s, "every ", 6) == 0) {
		const char *colon = strchr(s + 6, ':');
		if (colon && colon - (s + 6) <= RB_RECURRING_MAX && colon > s + 6) {
			const char *e = colon;
			while (e > s + 6 && (e[-1] == '*' || e[-1] == ' '))
				e--;
			it->recurring = xstrndup(s + 6, (size_t)(e - (s + 6)));
		}
	}
}

/* The open-bullet stack shrinks and grows, so it keeps its capacity. */
static void push_list(parser *p, list_entry le)
{
	if (p->n_list == p->list_cap) {
		p->list_cap = p->list_cap ? 2 * p->list_cap : RB_MAX_DEPTH;
		p->list = xrealloc(p->list, p->list_cap * sizeof *p->list);
	}
	p->list[p->n_list++] = le;
}

static int on_list_line(parser *p, int indent, const char *s, size_t n)
{
	rb_phase *ph = cur_phase(p);
	p->fresh_heading = 0;
	p->footer = false;
	size_t ml = list_marker(s, n);
	const char *body = s + ml;
	size_t bl = n - ml;
	char mark[RB_MARK_SIZE];
	size_t cl = checkbox(body, bl, mark);
	bool is_item = cl > 0;

	while (p->n_list > 0 && p->list[p->n_list - 1].indent >= indent)
		p->n_list--;
	if (p->n_list >= RB_MAX_DEPTH)
		return failf(p, p->line, p->col, "list nested deeper than %d levels", RB_MAX_DEPTH);
	list_entry *top = p->n_list ? &p->list[p->n_list - 1] : NULL;
	bool dep_child = (top && top->dep_intro) || (!top && p->dep_para);

	const char *text = is_item ? body + cl : body;
	size_t tl = is_item ? bl - cl : bl;
	trim(&text, &tl);
	if (dep_child)
		add_dep_table(p, text, tl);
	bool dep_intro = find_ci(text, tl, "dependency order") != NULL;

	if (!ph || !is_item) {
		if (is_item && !p->warned_outside) {
			warnf(p, p->line, p->col, "checklist item outside any phase is ignored");
			p->warned_outside = true;
		}
		if (!is_item && !on_metadata(p, text, tl))
			add_note(p, s, n);
		if (indent <= p->attach_indent)
			p->attach_item = -1;
		int parent = top ? (top->item >= 0 ? top->item : top->parent_item) : -1;
		int depth = top ? top->item_depth + (top->item >= 0 ? 1 : 0) : 0;
		push_list(p, (list_entry){indent, -1, parent, depth, dep_intro});
		return 0;
	}
	rb_item *it = VEC_PUSH(ph->items, ph->n_items);
	p->detail_of = NULL;   /* the items may have moved */
	memset(it, 0, sizeof *it);
	it->text = xstrndup(text, tl);
	snprintf(it->mark_text, sizeof it->mark_text, "%s", mark);
	it->mark = mark_kind(mark);
	it->parent = top ? (top->item >= 0 ? top->item : top->parent_item) : -1;
	it->depth = top ? top->item_depth + (top->item >= 0 ? 1 : 0) : 0;
	it->step = p->cur_step;
	it->line = p->line;
	const rb_step *in = p->cur_step >= 0 ? &ph->steps[p->cur_step] : NULL;
	it->rollback = in && in->rollback_kind == RB_ROLLBACK_WORK ? false : (in && in->rollback) || ph->rollback;
	item_hash(it->text, tl, it->hash);
	item_extras(it);
	if (it->mark == RB_MARK_DONE)
		ph->done++;
	int idx = (int)ph->n_items - 1;
	push_list(p, (list_entry){indent, idx, it->parent, it->depth, dep_intro});
	p->attach_item = idx;
	p->attach_indent = indent;
	return 0;
}

/* Item detail grows line by line; its length is remembered and its
 * capacity doubles, so a 10,000-line paragraph under an item is linear. */
static size_t pow2_at_least(size_t n)
{
	size_t c = RB_DETAIL_MIN;
	while (c < n)
		c *= 2;
	return c;
}

static void append_detail(parser *p, rb_item *it, const char *s, size_t n)
{
	size_t len = p->detail_of == it ? p->detail_len : (it->detail ? strlen(it->detail) : 0);
	size_t need = len + (len ? 1 : 0) + n + 1;
	if (!it->detail || pow2_at_least(need) > pow2_at_least(len + 1))
		it->detail = xrealloc(it->detail, pow2_at_least(need));
	if (len)
		it->detail[len++] = '\n';
	memcpy(it->detail + len, s, n);
	len += n;
	it->detail[len] = '\0';
	p->detail_of = it;
	p->detail_len = len;
}

/* Text that is neither heading, list nor fence. */
static void on_text_line(parser *p, int indent, const char *s, size_t n)
{
	rb_phase *ph = cur_phase(p);
	p->fresh_heading = 0;
	if (on_metadata(p, s, n))
		return;
	/* a line indented under the last open item continues it */
	if (ph && p->n_list > 0) {
		while (p->n_list > 0 && p->list[p->n_list - 1].indent >= indent)
			p->n_list--;
		if (p->n_list > 0 && p->list[p->n_list - 1].item >= 0) {
			rb_item *it = &ph->items[p->list[p->n_list - 1].item];
			append_detail(p, it, s, n);
			return;
		}
	}
	if (p->attach_item >= 0 && indent <= p->attach_indent)
		p->attach_item = -1;
	p->dep_para = find_ci(s, n, "dependency order") != NULL;
	size_t k = 0;
	while (k < n && s[k] && strchr("-*_ ", s[k]))
		k++;
	if (k == n) {   /* a --- rule */
		p->footer = ph && ph->n_items > 0;
		return;
	}
	add_note(p, s, n);
}

/* ---- fenced blocks ----------------------------------------------------- */

static bool is_fence(const char *s, size_t n, char *ch, int *len)
{
	if (n < RB_FENCE_MIN || (s[0] != '`' && s[0] != '~'))
		return false;
	size_t k = 0;
	while (k < n && s[k] == s[0])
		k++;
	if (k < RB_FENCE_MIN)
		return false;
	if (s[0] == '`' && memchr(s + k, '`', n - k))
		return false;   /* ``` inline ``` on one line */
	*ch = s[0];
	*len = (int)k;
	return true;
}

static bool lang_runnable(const char *lang)
{
	return !*lang || strcmp(lang, "bash") == 0 || strcmp(lang, "sh") == 0 || strcmp(lang, "shell") == 0;
}

static void open_fence(parser *p, int indent, const char *s, size_t n, char ch, int len)
{
	p->in_fence = true;
	p->fence_char = ch;
	p->fence_len = len;
	p->fence_line = p->line;
	p->fence_col = p->col;
	const char *info = s + len;
	size_t il = n - (size_t)len;
	trim(&info, &il);
	p->fence_env = p->env_label || find_ci(info, il, ".env") != NULL;
	p->fence_quote = p->quoted;
	while (il && (*info == '{' || *info == '.'))
		info++, il--;
	size_t w = 0;
	while (w < il && !isspace((unsigned char)info[w]) && info[w] != '}' && info[w] != ',')
		w++;
	p->fence_lang = xstrndup(info, w);
	for (char *c = p->fence_lang; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (strcmp(p->fence_lang, "env") == 0 || strcmp(p->fence_lang, "dotenv") == 0)
		p->fence_env = true;
	rb_phase *ph = cur_phase(p);
	p->fence_owner = ph ? p->attach_item : -1;
	sb_free(&p->fence_text);
	sb_init(&p->fence_text);
}

/* NAME=VALUE with an upper-case environment-style NAME and a value
 * without unquoted blanks. */
static bool parse_assignment(const char *s, size_t n, size_t *name_len, bool *env_style)
{
	size_t i = 0;
	bool upper = true;
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_')) {
		if (islower((unsigned char)s[i]))
			upper = false;
		i++;
	}
	if (i >= n || s[i] != '=')
		return false;
	char quote = 0;
	for (size_t j = i + 1; j < n; j++) {
		if (quote) {
			if (s[j] == quote)
				quote = 0;
		} else if (s[j] == '"' || s[j] == '\'') {
			quote = s[j];
		} else if (is_blank_char(s[j])) {
			return false;   /* "VAR=x command": a command with an env prefix */
		}
	}
	*name_len = i;
	*env_style = upper;
	return true;
}

static void scan_assignments(parser *p, rb_phase *ph, const rb_block *b, int item, int step)
{
	runbook *rb = p->rb;
	const char *t = b->text;
	int ln = b->line + 1;
	while (*t) {
		const char *nl = strchr(t, '\n');
		size_t n = nl ? (size_t)(nl - t) : strlen(t);
		const char *s = t;
		size_t sl = n;
		trim(&s, &sl);
		/* "export NAME=VALUE" edits a declared flag; for `init` it stays
		 * shell (the shell's own environment, not the app's .env) */
		bool exported = sl > 7 && strncmp(s, "export ", 7) == 0;
		if (exported) {
			s += 7;
			sl -= 7;
			trim(&s, &sl);
		}
		size_t nlen;
		bool env;
		if (parse_assignment(s, sl, &nlen, &env)) {
			bool flag = false;
			for (size_t i = 0; p->opt && i < p->opt->n_flags; i++)
				if (strlen(p->opt->flags[i]) == nlen && strncmp(p->opt->flags[i], s, nlen) == 0)
					flag = true;
			if (flag) {
				rb_flag_edit *fe = VEC_PUSH(ph->flag_edits, ph->n_flag_edits);
				fe->name = xstrndup(s, nlen);
				const char *v = s + nlen + 1;
				size_t vl = sl - nlen - 1;
				if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0])
					v++, vl -= 2;
				fe->value = xstrndup(v, vl);
				fe->line = ln;
				fe->item = item;
				fe->step = step;
			}
			if ((env || flag) && !exported && strset_add(&p->assignment_set, s, sl))
				*VEC_PUSH(rb->assignments, rb->n_assignments) = xstrndup(s, sl);
		}
		if (!nl)
			break;
		t = nl + 1;
		ln++;
	}
}

/* Builds the block: removes the indent common to its non-blank lines. */
static void close_fence(parser *p)
{
	p->in_fence = false;
	const char *t = p->fence_text.buf ? p->fence_text.buf : "";
	size_t common = SIZE_MAX;
	for (const char *l = t; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		size_t k = 0;
		while (k < n && is_blank_char(l[k]))
			k++;
		if (k < n && k < common)
			common = k;
		l = nl ? nl + 1 : l + n;
	}
	if (common == SIZE_MAX)
		common = 0;
	strbuf out;
	sb_init(&out);
	for (const char *l = t; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		size_t cut = n < common ? n : common;
		sb_add(&out, l + cut, n - cut);
		if (nl)
			sb_putc(&out, '\n');
		l = nl ? nl + 1 : l + n;
	}
	/* the last line's newline belongs to the closing fence */
	if (out.len && out.buf[out.len - 1] == '\n')
		out.buf[--out.len] = '\0';

	rb_phase *ph = cur_phase(p);
	if (!ph) {
		sb_free(&out);
		free(p->fence_lang);
		p->fence_lang = NULL;
		return;
	}
	rb_block *b = xcalloc(1, sizeof *b);
	b->lang = p->fence_lang;
	p->fence_lang = NULL;
	b->text = sb_steal(&out);
	b->line = p->fence_line;
	b->env = p->fence_env;
	b->runnable = lang_runnable(b->lang) || b->env;
	*VEC_PUSH(ph->blocks, ph->n_blocks) = b;
	int owner = p->fence_owner;
	int step = -1;
	if (owner < 0 && p->cur_step >= 0) {
		/* under a step heading and after no item (before its checklist,
		 * or a step with none, a rollback written as prose and code):
		 * the step's own command */
		rb_step *st = &ph->steps[p->cur_step];
		if (!st->block || (b->runnable && !st->block->runnable)) {
			st->block = b;
			step = p->cur_step;
			if (b->runnable)
				ph->commands++;
		}
	}
	if (owner >= 0) {
		rb_item *it = &ph->items[owner];
		if (!it->block) {
			it->block = b;
			if (b->runnable)
				ph->commands++;
		} else if (b->runnable && !it->block->runnable) {
			it->block = b;   /* the shell block is the command; the other is shown */
			ph->commands++;
		} else if (b->runnable) {
			warnf(p, b->line, p->fence_col,
			      "item %zu in phase %s already has a command block; this one is shown, not run",
			      (size_t)owner + 1, ph->id);
		}
	}
	if (b->runnable)
		scan_assignments(p, ph, b, owner, step);
}

/* ---- the line loop ----------------------------------------------------- */

/* Finds the first invalid UTF-8 byte; returns its offset or len. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0, l;
	unsigned cp;
	while (i < len && (l = pgc_utf8_decode(s + i, len - i, &cp)) > 0)
		i += l;
	return i;
}

static int indent_of(const char *s, size_t n, size_t *skip)
{
	int col = 0;
	size_t i = 0;
	for (; i < n && is_blank_char(s[i]); i++)
		col = s[i] == '\t' ? (col / RB_TAB_WIDTH + 1) * RB_TAB_WIDTH : col + 1;
	*skip = i;
	return col;
}

#define RB_CODE_INDENT 4   /* Markdown: four spaces outside a list make code */

/* The "> " markers opening a block-quoted line (nested ones too, each
 * after up to 3 spaces and taking one space after it): their length. */
static size_t quote_prefix(const char *s, size_t n)
{
	size_t i = 0, end = 0;
	for (;;) {
		size_t k = i;
		while (k < n && k - i < RB_HEADING_MAX_INDENT && s[k] == ' ')
			k++;
		if (k >= n || s[k] != '>')
			return end;
		k++;
		if (k < n && s[k] == ' ')
			k++;
		i = end = k;
	}
}

/* A setext underline ("====" for #, "----" for ##): its level, else 0. */
static int setext_level(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && i < RB_HEADING_MAX_INDENT && s[i] == ' ')
		i++;
	if (i >= n || (s[i] != '=' && s[i] != '-'))
		return 0;
	char c = s[i];
	size_t run = 0;
	while (i < n && s[i] == c)
		i++, run++;
	while (i < n && (is_blank_char(s[i]) || s[i] == '\r'))
		i++;
	if (i < n || (c == '-' && run < 2))
		return 0;
	return c == '=' ? 1 : 2;
}

/* A line that may open a paragraph, which a setext underline then makes a
 * heading ("Phase 1" over "======="). */
static bool setext_text(const parser *p, bool after_break, int indent, const char *s, size_t n)
{
	char ch;
	int fl;
	return after_break && p->next && !p->quoted && indent <= RB_HEADING_MAX_INDENT && n && s[0] != '#' &&
	       s[0] != '|' && s[0] != '<' && !list_marker(s, n) && !is_fence(s, n, &ch, &fl) &&
	       !setext_level(s, n) && setext_level(p->next, p->next_len);
}

static int parse_line_body(parser *p, const char *line, size_t len);

/* One line: the block-quote markers come off first (GitHub renders what a
 * quote holds, a task list too), and a setext underline already used is
 * passed over. */
static int parse_line(parser *p, const char *line, size_t len)
{
	if (p->skip_next) {
		p->skip_next = false;
		p->after_break = true;
		return 0;
	}
	size_t q = !p->in_fence || p->fence_quote ? quote_prefix(line, len) : 0;
	p->quoted = q > 0;
	int depth = 0;
	for (size_t i = 0; i < q; i++)
		depth += line[i] == '>';
	if (!p->in_fence && depth != p->quote_depth && len - q > 0) {
		/* a quote opens or ends: the lists on either side are not one */
		reset_lists(p);
		p->quote_depth = depth;
	}
	return parse_line_body(p, line + q, len - q);
}

static int parse_line_body(parser *p, const char *line, size_t len)
{
	size_t skip;
	int indent = indent_of(line, len, &skip);
	p->col = (int)skip + 1;
	const char *s = line + skip;
	size_t n = len - skip;
	while (n && (s[n - 1] == '\r' || is_blank_char(s[n - 1])))
		n--;

	if (p->in_fence) {
		char ch;
		int fl;
		if (is_fence(s, n, &ch, &fl) && ch == p->fence_char && fl >= p->fence_len &&
		    all_blank(s + fl, n - (size_t)fl)) {
			if (collect_sec_text(p)) {
				sb_add(&p->sec_text, s, n);
				sb_putc(&p->sec_text, '\n');
			}
			close_fence(p);
			p->after_break = true;
			return 0;
		}
		size_t keep = len;
		while (keep && line[keep - 1] == '\r')
			keep--;
		sb_add(&p->fence_text, line, keep);
		sb_putc(&p->fence_text, '\n');
		if (collect_sec_text(p)) {
			sb_add(&p->sec_text, line, keep);
			sb_putc(&p->sec_text, '\n');
		}
		return 0;
	}
	/* HTML comments: teams park old or template checklists in them */
	if (p->in_comment) {
		if (find_ci(s, n, "-->"))
			p->in_comment = false;
		return 0;
	}
	if (n >= 4 && strncmp(s, "<!--", 4) == 0) {
		const char *close = find_ci(s + 4, n - 4, "-->");
		if (!close) {
			p->in_comment = true;
			p->comment_line = p->line;
			p->comment_col = p->col;
			return 0;
		}
		if (close + 3 == s + n) {
			apply_marker(p, rollback_marker(s, n));
			return 0;
		}
	}
	if (n == 0) {
		if (collect_sec_text(p))
			sb_putc(&p->sec_text, '\n');
		p->after_break = true;
		return 0;
	}
	bool after_break = p->after_break;
	p->after_break = false;
	if (setext_text(p, after_break, indent, s, n)) {
		int level = setext_level(p->next, p->next_len);
		on_heading(p, level, s, n);
		p->env_label = find_ci(s, n, ".env") != NULL;
		p->skip_next = true;
		return 0;
	}
	if (indent <= RB_HEADING_MAX_INDENT && s[0] == '#') {
		int level = 0;
		while ((size_t)level < n && s[level] == '#')
			level++;
		if (level <= RB_MAX_HEADING && ((size_t)level == n || is_blank_char(s[level]))) {
			const char *t = s + level;
			size_t tl = n - (size_t)level;
			/* the operator's marker at the end: "## Rollback readiness <!-- pgcutover: work -->" */
			const char *cmt = find_ci(t, tl, "<!--");
			rb_rollback_kind marker = cmt ? rollback_marker(cmt, tl - (size_t)(cmt - t)) : RB_ROLLBACK_NONE;
			if (marker != RB_ROLLBACK_NONE)
				tl = (size_t)(cmt - t);
			while (tl && is_blank_char(t[tl - 1]))
				tl--;
			/* closing #s: "## Title ##" */
			while (tl && t[tl - 1] == '#')
				tl--;
			on_heading(p, level, t, tl);
			apply_marker(p, marker);
			p->env_label = find_ci(t, tl, ".env") != NULL;
			p->after_break = true;
			return 0;
		}
	}
	if (collect_sec_text(p)) {
		sb_add(&p->sec_text, line, len - (len && line[len - 1] == '\r'));
		sb_putc(&p->sec_text, '\n');
	}
	char ch;
	int fl;
	if (is_fence(s, n, &ch, &fl)) {
		open_fence(p, indent, s, n, ch, fl);
		p->env_label = false;
		return 0;
	}
	p->env_label = find_ci(s, n, ".env") != NULL;   /* "In `.env`:" labels the block below */
	/* four spaces with no list open: code (or a paragraph's continuation)
	 * on GitHub, never a checkbox */
	if (list_marker(s, n) && !(indent >= RB_CODE_INDENT && p->n_list == 0))
		return on_list_line(p, indent, s, n);
	on_text_line(p, indent, s, n);
	return 0;
}

/* ---- finishing --------------------------------------------------------- */

static void free_phase(rb_phase *ph)
{
	free(ph->title);
	free(ph->status);
	free(ph->goal);
	free(ph->duration);
	free(ph->risk);
	free(ph->date);
	free(ph->checkpoint);
	free(ph->rollback_why);
	for (size_t i = 0; i < ph->n_items; i++) {
		rb_item *it = &ph->items[i];
		free(it->text);
		free(it->inline_code);
		free(it->recurring);
		free(it->detail);
	}
	free(ph->items);
	for (size_t i = 0; i < ph->n_steps; i++) {
		free(ph->steps[i].title);
		free(ph->steps[i].checkpoint);
		free(ph->steps[i].rollback_why);
	}
	free(ph->steps);
	for (size_t i = 0; i < ph->n_notes; i++)
		free(ph->notes[i]);
	free(ph->notes);
	for (size_t i = 0; i < ph->n_blocks; i++) {
		free(ph->blocks[i]->lang);
		free(ph->blocks[i]->text);
		free(ph->blocks[i]);
	}
	free(ph->blocks);
	for (size_t i = 0; i < ph->n_flag_edits; i++) {
		free(ph->flag_edits[i].name);
		free(ph->flag_edits[i].value);
	}
	free(ph->flag_edits);
}


/* A file whose every item sits in a rollback procedure is a rollback plan:
 * read as such, its items are the work of the night, not 0 of 0. */
static void rollback_plan_only(parser *p)
{
	runbook *rb = p->rb;
	size_t rollback_items = 0;
	for (size_t i = 0; i < rb->n_phases; i++)
		for (size_t j = 0; j < rb->phases[i].n_items; j++) {
			if (!rb->phases[i].items[j].rollback)
				return;
			rollback_items++;
		}
	if (!rollback_items)
		return;
	rb->rollback_plan = true;
	static const char why[] = "the whole runbook is a rollback plan";
	for (size_t i = 0; i < rb->n_phases; i++) {
		rb_phase *ph = &rb->phases[i];
		for (size_t j = 0; j < ph->n_items; j++)
			ph->items[j].rollback = false;
		for (size_t j = 0; j < ph->n_steps; j++)
			if (ph->steps[j].rollback) {
				ph->steps[j].rollback = false;
				ph->steps[j].rollback_kind = RB_ROLLBACK_WORK;
				free(ph->steps[j].rollback_why);
				ph->steps[j].rollback_why = xstrdup(why);
			}
		if (ph->rollback) {
			ph->rollback = false;
			ph->rollback_kind = RB_ROLLBACK_WORK;
			free(ph->rollback_why);
			ph->rollback_why = xstrdup(why);
		}
		ph->has_rollback = false;
	}
	warnf(p, 1, 1, "every item is in a rollback section: read as a rollback plan, its %zu items counted as work",
	      rollback_items);
}

/* Drops provisional phases that stayed empty, makes slug ids unique, takes
 * a duration from the heading, numbers the items. */
static void finish(parser *p)
{
	runbook *rb = p->rb;
	size_t w = 0;
	for (size_t i = 0; i < rb->n_phases; i++) {
		if (!rb->phases[i].id[0] || (!rb->phases[i].numbered && rb->phases[i].n_items == 0)) {
			free_phase(&rb->phases[i]);
			continue;
		}
		rb->phases[w++] = rb->phases[i];
	}
	rb->n_phases = w;
	rollback_plan_only(p);
	/* numbered ids are unique already; slugs give way to them and to each other */
	strset ids = {0}, slugs = {0};   /* ids given out; how often each slug came */
	for (size_t i = 0; i < rb->n_phases; i++)
		if (rb->phases[i].numbered)
			strset_add(&ids, rb->phases[i].id, strlen(rb->phases[i].id));
	for (size_t i = 0; i < rb->n_phases; i++) {
		rb_phase *ph = &rb->phases[i];
		if (!ph->numbered && !strset_add(&ids, ph->id, strlen(ph->id))) {
			/* "same" -> "same-2", "same-3" ...; the count carries on from the
			 * last one used, so 10,000 equal headings stay linear */
			char base[RB_ID_MAX];
			snprintf(base, sizeof base, "%s", ph->id);
			size_t *last = strset_uses(&slugs, base, strlen(base));
			size_t k = *last ? *last : 1;
			do
				snprintf(ph->id, sizeof ph->id, "%.*s-%zu", RB_SLUG_MAX, base, ++k);
			while (!strset_add(&ids, ph->id, strlen(ph->id)));
			*last = k;
		}
		if (!ph->duration) {
			const char *o = strrchr(ph->title, '(');
			const char *c = o ? strchr(o, ')') : NULL;
			if (c && is_duration_text(o + 1, (size_t)(c - o - 1)))
				ph->duration = xstrndup(o + 1, (size_t)(c - o - 1));
		}
		if (ph->numbered && ph->n_items == 0)
			warnf(p, ph->line, 1, "phase %s has no checklist items", ph->id);
		size_t idlen = strlen(ph->id);
		for (size_t j = 0; j < ph->n_items; j++) {
			/* "<phase id>.<ordinal>" without printf: this runs for every item */
			char num[sizeof "18446744073709551615"];   /* any size_t */
			size_t k = sizeof num;
			for (size_t v = j + 1; v; v /= 10)
				num[--k] = (char)('0' + v % 10);
			char *id = ph->items[j].id;
			if (idlen + 1 + (sizeof num - k) >= RB_ID_MAX)
				continue;   /* cannot happen: phase ids are at most RB_SLUG_MAX + "-N" */
			memcpy(id, ph->id, idlen);
			id[idlen] = '.';
			memcpy(id + idlen + 1, num + k, sizeof num - k);
			id[idlen + 1 + sizeof num - k] = '\0';
		}
		rb->n_items_total += ph->n_items;
		for (size_t j = 0; j < ph->n_steps; j++) {
			rb_step *st = &ph->steps[j];
			snprintf(st->id, sizeof st->id, "%.*s.s%u", RB_STEP_ID_PHASE_MAX, ph->id, (unsigned)(j + 1));
			char hex[65];
			pgc_sha256_hex(st->title, strlen(st->title), hex);
			memcpy(st->hash, hex, RB_HASH_HEX);
			st->hash[RB_HASH_HEX] = '\0';
		}
	}
	strset_free(&ids);
	strset_free(&slugs);
}

/* ---- public API -------------------------------------------------------- */

int runbook_parse(const char *buf, size_t len, const char *path,
                  const rb_options *opt, runbook **out, pgc_err *e)
{
	*out = NULL;
	if (!path)
		path = "<runbook>";
	size_t max = opt && opt->max_bytes ? opt->max_bytes : RB_DEFAULT_MAX_BYTES;
	if (len > max)
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s:1:1: file is %zu bytes, larger than the %zu byte limit",
		                path, len, max);
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		int line = 1;
		const char *ls = buf;
		for (const char *q = buf; q < nul; q++)
			if (*q == '\n') {
				line++;
				ls = q + 1;
			}
		return pgc_fail(e, PGC_EXIT_DATAERR, "%s:%d:%d: NUL byte in text", path, line, (int)(nul - ls) + 1);
	}

	runbook *rb = xcalloc(1, sizeof *rb);
	rb->path = xstrdup(path);
	parser p = {0};
	p.rb = rb;
	p.opt = opt;
	p.path = path;
	p.e = e;
	p.num = p.outer_num = p.sec = p.cur_step = p.attach_item = -1;
	p.after_break = true;
	sb_init(&p.sec_text);
	sb_init(&p.fence_text);
	int first_repaired = 0;
	strbuf line_copy;
	sb_init(&line_copy);

	const char *s = buf, *end = buf + len;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;   /* byte order mark */
	int rc = 0;
	while (s < end && rc == 0) {
		p.line++;
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		bool high = false;
		for (size_t i = 0; i < n && !high; i++)
			high = (unsigned char)s[i] >= 0x80;
		char *fixed = NULL;
		if (high) {
			bool changed = false;
			fixed = rb_repair_mojibake(s, n, &changed);
			if (fixed) {
				rb->repaired_lines++;
				if (!first_repaired)
					first_repaired = p.line;
			} else {
				size_t bad = utf8_invalid_at((const unsigned char *)s, n);
				if (bad < n) {
					rc = failf(&p, p.line, (int)bad + 1, "invalid UTF-8 (byte 0x%02x)",
					           (unsigned char)s[bad]);
					break;
				}
			}
		}
		/* the next line, as read: a setext underline is ASCII */
		p.next = nl && nl + 1 < end ? nl + 1 : NULL;
		if (p.next) {
			const char *nn = memchr(p.next, '\n', (size_t)(end - p.next));
			p.next_len = (size_t)((nn ? nn : end) - p.next);
		}
		if (fixed) {
			const char *f = fixed;
			size_t fl = strlen(fixed);
			if (p.line == 1 && fl >= 3 && memcmp(f, "\xef\xbb\xbf", 3) == 0)
				f += 3, fl -= 3;
			rc = parse_line(&p, f, fl);
			free(fixed);
		} else {
			/* Each line reaches parse_line() NUL-terminated, the last one
			 * too (buf need not be): its helpers may then stop at the end
			 * of a C string without reading past the caller's len bytes. */
			line_copy.len = 0;
			sb_add(&line_copy, s, n);
			rc = parse_line(&p, line_copy.buf, n);
		}
		s = nl ? nl + 1 : end;
	}
	if (rc == 0 && p.in_fence)
		rc = failf(&p, p.fence_line, p.fence_col, "unterminated code fence (opened here)");
	if (rc == 0 && p.in_comment)
		warnf(&p, p.comment_line, p.comment_col, "HTML comment never closed: the rest of the file was skipped");
	if (rc == 0) {
		end_section(&p);
		finish(&p);
		if (rb->n_phases == 0)
			rc = failf(&p, 1, 1, "no phases found: no \"Phase N\" heading and no ## section with checklist items");
	}
	if (rc == 0 && p.dropped_warnings) {
		/* the last kept warning makes way for the count */
		free(rb->warnings[rb->n_warnings - 1]);
		rb->warnings[rb->n_warnings - 1] =
			xasprintf("%s:1:1: %zu more warnings not shown", path, p.dropped_warnings + 1);
	}
	if (rc == 0 && rb->repaired_lines) {
		rb->repaired_encoding = true;
		/* the repair note goes first: it explains the text shown everywhere else */
		char *w = xasprintf("%s:%d:1: repaired double-encoded UTF-8 (Windows-1252 mojibake) on %d line%s;"
		                    " the file itself is left as it is", path, first_repaired,
		                    rb->repaired_lines, rb->repaired_lines == 1 ? "" : "s");
		(void)VEC_PUSH(rb->warnings, rb->n_warnings);
		memmove(rb->warnings + 1, rb->warnings, (rb->n_warnings - 1) * sizeof *rb->warnings);
		rb->warnings[0] = w;
	}
	sb_free(&line_copy);
	free(p.list);
	strset_free(&p.numbered_ids);
	strset_free(&p.assignment_set);
	strset_free(&p.table_set);
	free(p.fence_lang);
	sb_free(&p.fence_text);
	free(p.sec_title);
	sb_free(&p.sec_text);
	if (rc != 0) {
		runbook_free(rb);
		return -1;
	}
	if (!rb->title)
		rb->title = xstrdup("");
	pgc_sha256_hex(buf, len, rb->sha256);
	*out = rb;
	return 0;
}

int runbook_load(const char *path, const rb_options *opt, runbook **out, pgc_err *e)
{
	char *buf;
	size_t len;
	*out = NULL;
	size_t max = opt && opt->max_bytes ? opt->max_bytes : RB_DEFAULT_MAX_BYTES;
	if (pgc_read_file(path, max, &buf, &len, e) < 0)
		return -1;
	int rc = runbook_parse(buf, len, path, opt, out, e);
	free(buf);
	return rc;
}

void runbook_free(runbook *rb)
{
	if (!rb)
		return;
	for (size_t i = 0; i < rb->n_phases; i++)
		free_phase(&rb->phases[i]);
	free(rb->phases);
	for (size_t i = 0; i < rb->n_sections; i++) {
		free(rb->sections[i].title);
		free(rb->sections[i].text);
	}
	free(rb->sections);
	for (size_t i = 0; i < rb->n_warnings; i++)
		free(rb->warnings[i]);
	free(rb->warnings);
	for (size_t i = 0; i < rb->n_assignments; i++)
		free(rb->assignments[i]);
	free(rb->assignments);
	for (size_t i = 0; i < rb->n_dep_tables; i++)
		free(rb->dep_tables[i]);
	free(rb->dep_tables);
	free(rb->path);
	free(rb->title);
	free(rb->status);
	free(rb->goal);
	free(rb->duration);
	free(rb->risk);
	free(rb->date);
	free(rb);
}

const rb_phase *runbook_phase(const runbook *rb, const char *id)
{
	for (size_t i = 0; rb && id && i < rb->n_phases; i++)
		if (strcmp(rb->phases[i].id, id) == 0)
			return &rb->phases[i];
	return NULL;
}

/* "<phase id><sep><ordinal>" with 1 <= ordinal <= max: the ordinal, else 0. */
static size_t id_ordinal(const rb_phase *ph, const char *id, const char *sep, size_t max)
{
	size_t k = strlen(ph->id), sl = strlen(sep);
	if (strncmp(id, ph->id, k) != 0 || strncmp(id + k, sep, sl) != 0 || !isdigit((unsigned char)id[k + sl]))
		return 0;
	char *endp;
	unsigned long ord = strtoul(id + k + sl, &endp, 10);
	return *endp || ord == 0 || ord > max ? 0 : (size_t)ord;
}

const rb_step *runbook_step(const runbook *rb, const char *id, const rb_phase **phase_out)
{
	if (phase_out)
		*phase_out = NULL;
	for (size_t i = 0; rb && id && i < rb->n_phases; i++) {
		size_t ord = id_ordinal(&rb->phases[i], id, ".s", rb->phases[i].n_steps);
		if (!ord)
			continue;
		if (phase_out)
			*phase_out = &rb->phases[i];
		return &rb->phases[i].steps[ord - 1];
	}
	return NULL;
}

const rb_item *runbook_item(const runbook *rb, const char *id, const rb_phase **phase_out)
{
	if (phase_out)
		*phase_out = NULL;
	for (size_t i = 0; rb && id && i < rb->n_phases; i++) {
		size_t ord = id_ordinal(&rb->phases[i], id, ".", rb->phases[i].n_items);
		if (!ord)
			continue;
		if (phase_out)
			*phase_out = &rb->phases[i];
		return &rb->phases[i].items[ord - 1];
	}
	return NULL;
}
