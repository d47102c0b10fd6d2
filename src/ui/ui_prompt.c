/*
 * ui_prompt.c -- the console's text input and confirmation dialog: a small
 * box over the panes with a title, an editable line (UTF-8 through
 * get_wch, so names like "Zoë" work), and a hint.  Enter commits, Esc
 * cancels.  What a committed answer does (untick with reason, note, search,
 * phase override) is decided here in one switch so every write path is in
 * view; the writes themselves are ops.c's (the same the headless commands
 * call), and Esc calls none, so a cancelled prompt records nothing.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void ui_prompt_open(ui_ctx *u, ui_prompt_kind kind, const char *title, const char *hint,
                    const char *initial, bool required, size_t phase_idx, size_t item_idx)
{
	ui_prompt *p = &u->prompt;
	memset(p, 0, sizeof *p);
	p->kind = kind;
	snprintf(p->title, sizeof p->title, "%s", title);
	snprintf(p->hint, sizeof p->hint, "%s", hint ? hint : "Enter confirms, Esc cancels");
	p->required = required;
	p->phase_idx = phase_idx;
	p->item_idx = item_idx;
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
	return u->prompt.kind != UI_PROMPT_NONE;
}

static void prompt_close(ui_ctx *u)
{
	u->prompt.kind = UI_PROMPT_NONE;
	if (u->w_prompt) {
		delwin(u->w_prompt);
		u->w_prompt = NULL;
	}
	ui_mark(u, UI_DIRTY_ALL);
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

static void commit(ui_ctx *u, const char *text)
{
	ui_prompt p = u->prompt;   /* the handlers may open another prompt */
	const rb_phase *ph = &u->rb->phases[p.phase_idx];
	prompt_close(u);
	switch (p.kind) {
	case UI_PROMPT_UNTICK: {
		if (!ui_may_write(u))
			break;
		ops_ctx c = ui_ops_ctx(u);
		ops_outcome oc;
		ops_untick(&c, p.phase_idx, p.item_idx, text, &oc);
		ui_after_write(u);
		if (oc.result == OPS_DONE)
			ui_status(u, "unticked %s: %s", ph->items[p.item_idx].id, text);
		else
			ui_status(u, "%.300s", oc.message);
		break;
	}
	case UI_PROMPT_NOTE: {
		/* the same op as `pgcutover note [ITEM] TEXT` */
		if (!ui_may_write(u))
			break;
		ops_ctx c = ui_ops_ctx(u);
		ops_outcome oc;
		ops_note(&c, p.phase_idx, p.item_idx, text, &oc);
		ui_after_write(u);
		if (oc.result == OPS_DONE)
			ui_status(u, "note recorded on %s%s", p.item_idx != SIZE_MAX ? "" : "phase ",
			          p.item_idx != SIZE_MAX ? ph->items[p.item_idx].id : ph->id);
		else
			ui_status(u, "%.300s", oc.message);
		break;
	}
	case UI_PROMPT_SEARCH:
		snprintf(u->search, sizeof u->search, "%s", text);
		ui_checklist_search(u, u->search, true);
		break;
	case UI_PROMPT_LOG_SEARCH:
		snprintf(u->log_search, sizeof u->log_search, "%s", text);
		ui_log_search(u, u->log_search, false);
		break;
	case UI_PROMPT_OVERRIDE: case UI_PROMPT_GATE: {
		/* the answer goes back to the op that asked; the gate prompt
		 * carries the order reason given before it */
		ops_override ov = {.order_reason = p.kind == UI_PROMPT_GATE ? p.order_reason : text,
		                   .gate_reason = p.kind == UI_PROMPT_GATE ? text : NULL};
		if (p.item_idx != SIZE_MAX)
			ui_tick_item(u, p.phase_idx, p.item_idx, &ov);
		else
			ui_complete_phase(u, p.phase_idx, &ov);
		break;
	}
	case UI_PROMPT_COMPLETE:
		if (text[0] == 'y' || text[0] == 'Y')
			ui_complete_phase(u, p.phase_idx, NULL);
		else
			ui_status(u, "phase %s left open", ph->id);
		break;
	case UI_PROMPT_QUIT:
		if (text[0] == 'y' || text[0] == 'Y')
			u->quit = true;
		break;
	case UI_PROMPT_RUN_VAR: case UI_PROMPT_RUN_YN: case UI_PROMPT_RUN_TYPED: case UI_PROMPT_RUN_PONR:
		ui_run_answer(u, p.kind, text);
		break;
	case UI_PROMPT_SEEK:
		ui_timeline_seek_text(u, text);
		break;
	case UI_PROMPT_FLAG_VALUE:
		ui_flags_answer(u, text);
		break;
	case UI_PROMPT_DOWNTIME:
		if (text[0] == 'y' || text[0] == 'Y')
			ui_downtime_answer(u);
		else
			ui_status(u, "downtime clock unchanged");
		break;
	case UI_PROMPT_NONE:
		break;
	}
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
	case KEY_ESC_CODE: {
		ui_prompt_kind k = p->kind;
		prompt_close(u);
		if (k == UI_PROMPT_RUN_VAR || k == UI_PROMPT_RUN_YN || k == UI_PROMPT_RUN_TYPED || k == UI_PROMPT_RUN_PONR) {
			ui_run_declined(u);
			ui_status(u, "not run; nothing changed");
		} else {
			ui_status(u, "cancelled; nothing recorded");
		}
		return;
	}
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
	if (p->kind == UI_PROMPT_COMPLETE || p->kind == UI_PROMPT_QUIT || p->kind == UI_PROMPT_RUN_YN ||
	    p->kind == UI_PROMPT_DOWNTIME) {
		p->buf[0] = (wchar_t)wch;
		p->len = p->cur = 1;
		p->buf[1] = L'\0';
		goto enter;
	}
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
		if (p->required && !*text) {
			snprintf(p->error, sizeof p->error, "%s",
			         p->kind == UI_PROMPT_UNTICK || p->kind == UI_PROMPT_OVERRIDE ||
			         p->kind == UI_PROMPT_GATE
			         ? "a reason is required (Esc cancels)" : "type something, or Esc to cancel");
			free(text);
			return;
		}
		commit(u, text);
		free(text);
	}
}

void ui_prompt_draw(ui_ctx *u)
{
	ui_prompt *p = &u->prompt;
	int w = u->cols - 4 < PROMPT_MAX_COLS ? u->cols - 4 : PROMPT_MAX_COLS;
	int h = PROMPT_ROWS;
	int y = (u->rows - h) / 2, x = (u->cols - w) / 2;
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
		vis[nv++] = p->secret ? L'*' : (!u->utf8 && c >= 0x80) ? L'?' : c;
		cols += cw;
	}
	vis[nv] = L'\0';
	mvwaddstr(win, 2, 2, "> ");
	if (u->utf8)
		mvwaddnwstr(win, 2, 4, vis, nv);
	else {
		char a[UI_PROMPT_MAX + 1];
		for (int i = 0; i < nv; i++)
			a[i] = (char)vis[i];
		a[nv] = '\0';
		mvwaddstr(win, 2, 4, a);
	}
	/* a visible block cursor without relying on the terminal cursor */
	int cx = 4;
	for (int i = start; i < p->cur; i++) {
		int cw = u->utf8 ? wcwidth(p->buf[i]) : 1;
		cx += cw < 0 ? 1 : cw;
	}
	if (cx < w - 1)
		mvwchgat(win, 2, cx, 1, A_REVERSE, 0, NULL);
	if (p->error[0])
		ui_put(u, win, 3, 2, p->error, w - 4, UI_STYLE(u, UI_C_WARN, A_BOLD));
	ui_put(u, win, 4, 2, p->hint, w - 4, UI_STYLE(u, UI_C_DIM, A_DIM));
}
