/*
 * ui_prompt.c -- the console's text input and confirmation dialog: a small
 * box over the panes with a title, an editable line (UTF-8 through
 * get_wch, so names like "Zoë" work), and a hint.  Enter commits, Esc
 * cancels.  Whoever opens a prompt passes its completion callback and a
 * context pointer (ui_prompt_spec): the answer goes back to the code that
 * asked, so a new question is one call, not an enum value and a switch
 * case here.  The writes are ops.c's (the same the headless commands
 * call); Esc calls only the optional cancel callback, and the ones that
 * write are all on .done, so a cancelled prompt records nothing.
 *
 * Every prompt, a y/n question included, takes a typed line and Enter:
 * a key typed into it stays in it until Enter or Esc, so typing `yes` at
 * a question never leaves `e` and `s` for the console's key table.  What
 * changes the world asks for the item or phase id or `yes` (ui_confirmed);
 * y/n is only for what changes nothing (quitting while a command runs).
 * A warning (the point of no return) is wrapped to the box and drawn in
 * the warning colour, bold where there is no colour.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ui_priv.h"

#define PROMPT_ROWS 6
#define PROMPT_MAX_COLS 76
#define KEY_ESC_CODE 27
#define CTRL_U 0x15
#define CTRL_A 0x01
#define CTRL_E 0x05
#define CTRL_W 0x17
#define DEL_CODE 0x7f
#define BS_CODE 0x08

ui_target *ui_target_new(size_t phase, size_t item)
{
	ui_target *t = xcalloc(1, sizeof *t);
	t->phase = phase;
	t->item = item;
	return t;
}

static void release_ctx(ui_prompt_spec *sp)
{
	if (sp->own_ctx)
		free(sp->ctx);
	sp->ctx = NULL;
	sp->own_ctx = false;
}

void ui_prompt_open(ui_ctx *u, const ui_prompt_spec *spec)
{
	ui_prompt *p = &u->prompt;
	/* a prompt opened over another (the gate's after the order's) takes
	 * its place; the one replaced is answered already */
	if (p->active)
		release_ctx(&p->spec);
	memset(p, 0, sizeof *p);
	p->active = true;
	p->spec = *spec;
	snprintf(p->title, sizeof p->title, "%s", spec->title ? spec->title : "");
	snprintf(p->hint, sizeof p->hint, "%s", spec->hint ? spec->hint : "Enter confirms, Esc cancels");
	snprintf(p->warning, sizeof p->warning, "%s", spec->warning ? spec->warning : "");
	p->spec.title = p->title;
	p->spec.hint = p->hint;
	p->spec.warning = p->warning;
	p->spec.initial = NULL;
	const char *initial = spec->initial;
	if (initial && *initial) {
		mbstate_t mbs;
		memset(&mbs, 0, sizeof mbs);
		const char *src = initial;
		size_t n = mbsrtowcs(p->buf, &src, UI_PROMPT_MAX, &mbs);
		p->len = n == (size_t)-1 ? 0 : (int)n;
		p->buf[p->len] = L'\0';
		p->cur = p->len;
		p->fresh = true;
	}
	ui_mark(u, UI_DIRTY_OVERLAY | UI_DIRTY_KEYBAR);
}

bool ui_prompt_active(const ui_ctx *u)
{
	return u->prompt.active;
}

/* Closes the prompt and hands back its spec (with the context still
 * owned), for the callback about to run. */
static ui_prompt_spec prompt_close(ui_ctx *u)
{
	ui_prompt_spec sp = u->prompt.spec;
	u->prompt.active = false;
	u->prompt.spec.own_ctx = false;
	if (u->w_prompt) {
		delwin(u->w_prompt);
		u->w_prompt = NULL;
	}
	ui_mark(u, UI_DIRTY_ALL);
	return sp;
}

/* The answer as UTF-8 (in a UTF-8 locale; as the locale's bytes otherwise). */
static char *prompt_text(const ui_prompt *p)
{
	size_t cap = (size_t)p->len * MB_CUR_MAX + 1;
	char *out = xmalloc(cap);
	const wchar_t *src = p->buf;
	mbstate_t mbs;
	memset(&mbs, 0, sizeof mbs);
	size_t n = wcsrtombs(out, &src, cap, &mbs);
	if (n == (size_t)-1)
		n = 0;
	out[n] = '\0';
	/* trim */
	char *s = out;
	while (*s == ' ')
		s++;
	size_t l = strlen(s);
	while (l && s[l - 1] == ' ')
		s[--l] = '\0';
	memmove(out, s, l + 1);
	return out;
}

/* The callback may open another prompt: the spec is a copy, and its
 * context is freed only after the callback returns. */
static void commit(ui_ctx *u, const char *text)
{
	ui_prompt_spec sp = prompt_close(u);
	if (sp.done)
		sp.done(u, text, sp.ctx);
	release_ctx(&sp);
}

static void cancel(ui_ctx *u)
{
	ui_prompt_spec sp = prompt_close(u);
	if (sp.cancel)
		sp.cancel(u, "", sp.ctx);
	else
		ui_status(u, "cancelled; nothing recorded");
	release_ctx(&sp);
}

static void delete_before(ui_prompt *p)
{
	if (p->cur > 0) {
		wmemmove(p->buf + p->cur - 1, p->buf + p->cur, (size_t)(p->len - p->cur + 1));
		p->cur--;
		p->len--;
	}
}

void ui_prompt_key(ui_ctx *u, wint_t wch, bool is_key_code)
{
	ui_prompt *p = &u->prompt;
	ui_mark(u, UI_DIRTY_OVERLAY);
	p->error[0] = '\0';
	bool was_fresh = p->fresh;
	p->fresh = false;   /* any editing key keeps the text from now on */
	if (is_key_code) {
		switch (wch) {
		case KEY_LEFT: if (p->cur > 0) p->cur--; return;
		case KEY_RIGHT: if (p->cur < p->len) p->cur++; return;
		case KEY_HOME: p->cur = 0; return;
		case KEY_END: p->cur = p->len; return;
		case KEY_BACKSPACE:
			goto backspace;
		case KEY_DC:
			if (p->cur < p->len) {
				wmemmove(p->buf + p->cur, p->buf + p->cur + 1, (size_t)(p->len - p->cur));
				p->len--;
			}
			return;
		case KEY_ENTER:
			goto enter;
		case KEY_RESIZE:
			return;
		default:
			return;
		}
	}
	switch (wch) {
	case KEY_ESC_CODE:
		cancel(u);
		return;
	case '\n': case '\r':
		goto enter;
	case DEL_CODE: case BS_CODE:
		goto backspace;
	case CTRL_U:
		p->len = p->cur = 0;
		p->buf[0] = L'\0';
		return;
	case CTRL_A: p->cur = 0; return;
	case CTRL_E: p->cur = p->len; return;
	case CTRL_W:
		while (p->cur > 0 && p->buf[p->cur - 1] == L' ')
			delete_before(p);
		while (p->cur > 0 && p->buf[p->cur - 1] != L' ')
			delete_before(p);
		return;
	default:
		break;
	}
	/* ordinary characters only: no control characters into the state */
	if (wch < 0x20 || wch == DEL_CODE || (wch >= 0x80 && wch < 0xa0) || p->len >= UI_PROMPT_MAX)
		return;
	p->fresh = was_fresh;
	if (p->fresh) {
		p->len = p->cur = 0;
		p->buf[0] = L'\0';
	}
	p->fresh = false;
	wmemmove(p->buf + p->cur + 1, p->buf + p->cur, (size_t)(p->len - p->cur + 1));
	p->buf[p->cur++] = (wchar_t)wch;
	p->len++;
	return;

backspace:
	delete_before(p);
	return;

enter: {
		char *text = prompt_text(p);
		if (p->spec.required && !*text) {
			snprintf(p->error, sizeof p->error, "%s",
			         p->spec.reason ? "a reason is required (Esc cancels)" : "type something, or Esc to cancel");
			free(text);
			return;
		}
		commit(u, text);
		free(text);
	}
}

bool ui_confirmed(const char *text, const char *word)
{
	return strcmp(text, "yes") == 0 || (word && *word && strcmp(text, word) == 0);
}

bool ui_said_yes(const char *text)
{
	return strcasecmp(text, "y") == 0 || strcasecmp(text, "yes") == 0;
}

static int prompt_cols(const ui_ctx *u)
{
	return u->cols - 4 < PROMPT_MAX_COLS ? u->cols - 4 : PROMPT_MAX_COLS;
}

int ui_prompt_title_cols(const ui_ctx *u)
{
	return prompt_cols(u) - 4;
}

/* The warning's lines, wrapped to the box: counted, then drawn. */
typedef struct {
	ui_ctx *u;
	WINDOW *win;
	int y, max, n, width;
} warn_lines;

static void warn_line(const char *s, size_t n, void *ud)
{
	warn_lines *wl = ud;
	if (wl->win && wl->n < wl->max) {
		char line[sizeof ((ui_prompt *)0)->warning];
		snprintf(line, sizeof line, "%.*s", (int)n, s);
		ui_put(wl->u, wl->win, wl->y + wl->n, 2, line, wl->width, UI_STYLE(wl->u, UI_C_WARN, A_BOLD));
	}
	wl->n++;
}

void ui_prompt_draw(ui_ctx *u)
{
	ui_prompt *p = &u->prompt;
	int w = prompt_cols(u);
	warn_lines wl = {.u = u, .width = w - 4};
	if (p->warning[0])
		ui_wrap_lines(u, p->warning, wl.width, warn_line, &wl);
	int room = u->rows - 2 - PROMPT_ROWS;
	wl.max = wl.n < room ? wl.n : room > 0 ? room : 0;
	int h = PROMPT_ROWS + wl.max;
	int y = (u->rows - h) / 2, x = (u->cols - w) / 2;
	if (y < 0)
		y = 0;
	if (u->w_prompt)
		delwin(u->w_prompt);
	u->w_prompt = newwin(h, w, y, x);
	WINDOW *win = u->w_prompt;
	werase(win);
	if (u->utf8)
		box_set(win, WACS_VLINE, WACS_HLINE);
	else
		wborder(win, '|', '|', '-', '-', '+', '+', '+', '+');
	ui_put(u, win, 0, 2, p->title, w - 4, A_BOLD, 0);
	if (wl.max) {
		wl.win = win;
		wl.y = 1;
		wl.n = 0;
		ui_wrap_lines(u, p->warning, wl.width, warn_line, &wl);
	}
	int top = wl.max;   /* the rows below move down past the warning */
	/* the input line scrolls so the cursor stays visible */
	int field = w - 6;
	int start = p->cur > field - 1 ? p->cur - (field - 1) : 0;
	wchar_t vis[UI_PROMPT_MAX + 1];
	int nv = 0, cols = 0;
	for (int i = start; i < p->len && nv < UI_PROMPT_MAX; i++) {
		wchar_t c = p->buf[i];
		int cw = u->utf8 ? wcwidth(c) : 1;
		if (cw < 0)
			cw = 1;
		if (cols + cw > field)
			break;
		vis[nv++] = p->spec.secret ? L'*' : (!u->utf8 && c >= 0x80) ? L'?' : c;
		cols += cw;
	}
	vis[nv] = L'\0';
	mvwaddstr(win, top + 2, 2, "> ");
	if (u->utf8)
		mvwaddnwstr(win, top + 2, 4, vis, nv);
	else {
		char a[UI_PROMPT_MAX + 1];
		for (int i = 0; i < nv; i++)
			a[i] = (char)vis[i];
		a[nv] = '\0';
		mvwaddstr(win, top + 2, 4, a);
	}
	/* a visible block cursor without relying on the terminal cursor */
	int cx = 4;
	for (int i = start; i < p->cur; i++) {
		int cw = u->utf8 ? wcwidth(p->buf[i]) : 1;
		cx += cw < 0 ? 1 : cw;
	}
	if (cx < w - 1)
		mvwchgat(win, top + 2, cx, 1, A_REVERSE, 0, NULL);
	if (p->error[0])
		ui_put(u, win, top + 3, 2, p->error, w - 4, UI_STYLE(u, UI_C_WARN, A_BOLD));
	ui_put(u, win, top + 4, 2, p->hint, w - 4, UI_STYLE(u, UI_C_DIM, A_DIM));
}
