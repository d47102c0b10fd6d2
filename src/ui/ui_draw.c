/*
 * ui_draw.c -- the console's only way to put text on the screen.  Every
 * string from a runbook, the state or a database passes through ui_put(),
 * which decodes UTF-8 itself (whatever the locale), replaces control
 * characters, C1 controls, bidi overrides and invalid bytes with '?', counts
 * display columns with wcwidth() and truncates with an ellipsis.  With an
 * ASCII terminal (non-UTF-8 locale, TERM=vt100) it transliterates the usual
 * runbook symbols and draws everything else as '?'.  No escape sequence from
 * the data can reach the terminal.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "ui_priv.h"

static const char *const glyph_utf8[UI_G_N] = {
	[UI_G_FOLD_OPEN] = "\xe2\x96\xbe",      /* ▾ */
	[UI_G_FOLD_CLOSED] = "\xe2\x96\xb8",    /* ▸ */
	[UI_G_BAR_FULL] = "\xe2\x96\x88",       /* █ */
	[UI_G_BAR_EMPTY] = "\xe2\x96\x91",      /* ░ */
	[UI_G_ARROW] = "\xe2\x86\x92",          /* → */
	[UI_G_CHECK] = "\xe2\x9c\x94",          /* ✔ */
	[UI_G_CURSOR] = "\xe2\x96\xb6",         /* ▶ */
	[UI_G_CHECKPOINT] = "\xe2\x97\x86",     /* ◆ */
	[UI_G_HLINE] = "\xe2\x94\x80",          /* ─ */
	[UI_G_VLINE] = "\xe2\x94\x82",          /* │ */
	[UI_G_ELLIPSIS] = "\xe2\x80\xa6",       /* … */
	[UI_G_BULLET] = "\xc2\xb7",             /* · */
	[UI_G_CMD] = "$",
	[UI_G_NOTE] = "\xe2\x9c\x8e",           /* ✎ */
	[UI_G_TIMES] = "\xc3\x97",              /* × */
	[UI_G_RUN_OK] = "\xe2\x9c\x93",         /* ✓ */
	[UI_G_RUN_FAILED] = "\xe2\x9c\x97",     /* ✗ */
	[UI_G_RUNNING] = "\xe2\x9f\xb3",        /* ⟳ */
	[UI_G_HEALTH_OK] = "\xe2\x99\xa5",      /* ♥ */
};

static const char *const glyph_ascii[UI_G_N] = {
	[UI_G_FOLD_OPEN] = "v", [UI_G_FOLD_CLOSED] = ">", [UI_G_BAR_FULL] = "#",
	[UI_G_BAR_EMPTY] = ".", [UI_G_ARROW] = "->", [UI_G_CHECK] = "+",
	[UI_G_CURSOR] = ">", [UI_G_CHECKPOINT] = "<>", [UI_G_HLINE] = "-",
	[UI_G_VLINE] = "|", [UI_G_ELLIPSIS] = "~", [UI_G_BULLET] = "-",
	[UI_G_CMD] = "$", [UI_G_NOTE] = "n", [UI_G_TIMES] = "x",
	[UI_G_RUN_OK] = "v", [UI_G_RUN_FAILED] = "x", [UI_G_RUNNING] = "~",
	[UI_G_HEALTH_OK] = "ok",
};

const char *ui_glyph_str(const ui_ctx *u, ui_glyph g)
{
	return u->utf8 ? glyph_utf8[g] : glyph_ascii[g];
}

/* ASCII stand-ins for symbols runbooks use; the rest becomes '?'. */
static const struct { uint32_t cp; const char *ascii; } translit[] = {
	{0x2192, "->"}, {0x2190, "<-"}, {0x2194, "<->"}, {0x21d2, "=>"},
	{0x2013, "-"}, {0x2014, "--"}, {0x2018, "'"}, {0x2019, "'"},
	{0x201c, "\""}, {0x201d, "\""}, {0x2026, "..."}, {0x00b7, "."},
	{0x2022, "*"}, {0x00d7, "x"}, {0x2705, "[ok]"}, {0x2714, "+"},
	{0x2713, "+"}, {0x274c, "[x]"}, {0x26a0, "!"}, {0x2b1c, "[ ]"},
	{0x00a0, " "}, {0x2191, "^"}, {0x2193, "v"}, {0x2264, "<="}, {0x2265, ">="}, {0x00e9, "e"},
};

/* Decodes one UTF-8 sequence; returns bytes used (>= 1) and sets *cp, or
 * *cp = 0xFFFD for an invalid or truncated sequence (one byte used). */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t v;
	if (c < 0x80) { *cp = c; return 1; }
	if (c >= 0xc2 && c <= 0xdf) { n = 2; v = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { n = 3; v = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { n = 4; v = c & 0x07; }
	else { *cp = 0xfffd; return 1; }
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) { *cp = 0xfffd; return 1; }
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff)) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = v;
	return n;
}

/* Code points that must never reach the terminal as themselves. */
static bool unsafe_cp(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xfffd;
}

/* Appends cp as display characters into out (wide) and returns columns, or
 * -1 when it would not fit into room columns. */
typedef struct line_out {
	wchar_t w[UI_LINE_MAX + 8];
	char a[UI_LINE_MAX + 8];
	int n;       /* characters stored */
	int cols;    /* columns used */
} line_out;

static bool out_ascii(line_out *o, const char *s, int room)
{
	int len = (int)strlen(s);
	if (o->cols + len > room || o->n + len >= UI_LINE_MAX)
		return false;
	for (int i = 0; i < len; i++) {
		o->a[o->n] = s[i];
		o->w[o->n] = (wchar_t)(unsigned char)s[i];
		o->n++;
	}
	o->cols += len;
	return true;
}

/* Builds the drawable form of s limited to maxw columns.  Returns true when
 * the whole text fitted. */
static bool build_line(ui_ctx *u, const char *s, int maxw, line_out *o)
{
	o->n = 0;
	o->cols = 0;
	if (maxw > UI_LINE_MAX)
		maxw = UI_LINE_MAX;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		uint32_t cp;
		size_t used = utf8_decode(p, &cp);
		p += used;
		if (cp == '\t')
			cp = ' ';
		if (cp == '\n' || cp == '\r')
			cp = ' ';
		if (unsafe_cp(cp)) {
			if (!out_ascii(o, "?", maxw))
				return false;
			continue;
		}
		if (cp < 0x80) {
			char one[2] = {(char)cp, 0};
			if (!out_ascii(o, one, maxw))
				return false;
			continue;
		}
		if (!u->utf8) {
			const char *rep = "?";
			for (size_t i = 0; i < sizeof translit / sizeof translit[0]; i++)
				if (translit[i].cp == cp) { rep = translit[i].ascii; break; }
			if (!out_ascii(o, rep, maxw))
				return false;
			continue;
		}
		int wcw = wcwidth((wchar_t)cp);
		if (wcw == 0 && (cp == 0xfe0f || cp == 0xfe0e || cp == 0x200d)) {
			continue;   /* emoji presentation selectors and joiners */
		}
		if (wcw < 0) {
			if (!out_ascii(o, "?", maxw))
				return false;
			continue;
		}
		if (o->cols + wcw > maxw || o->n + 1 >= UI_LINE_MAX)
			return false;
		o->w[o->n] = (wchar_t)cp;
		o->a[o->n] = '?';
		o->n++;
		o->cols += wcw;
	}
	return true;
}

attr_t ui_attr(const ui_ctx *u, int pair, attr_t fallback)
{
	return u->color ? 0 : fallback;
}

short ui_pair(const ui_ctx *u, int pair)
{
	return u->color ? (short)pair : 0;
}

static void emit(ui_ctx *u, WINDOW *w, int y, int x, line_out *o, attr_t attr, short pair)
{
	wattr_set(w, attr, pair, NULL);
	if (u->utf8) {
		o->w[o->n] = L'\0';
		mvwaddnwstr(w, y, x, o->w, o->n);
	} else {
		o->a[o->n] = '\0';
		mvwaddnstr(w, y, x, o->a, o->n);
	}
	wattr_set(w, A_NORMAL, 0, NULL);
}

int ui_put(ui_ctx *u, WINDOW *w, int y, int x, const char *s, int maxw, attr_t attr, short pair)
{
	line_out o;
	if (maxw <= 0)
		return 0;
	if (!build_line(u, s, maxw, &o)) {
		/* truncated: make room for the ellipsis */
		const char *ell = ui_glyph_str(u, UI_G_ELLIPSIS);
		int ellw = 1;
		build_line(u, s, maxw - ellw, &o);
		emit(u, w, y, x, &o, attr, pair);
		int used = o.cols;
		build_line(u, ell, ellw, &o);
		emit(u, w, y, x + used, &o, attr, pair);
		return used + o.cols;
	}
	emit(u, w, y, x, &o, attr, pair);
	return o.cols;
}

int ui_text_width(ui_ctx *u, const char *s)
{
	line_out o;
	build_line(u, s, UI_LINE_MAX, &o);
	return o.cols;
}

int ui_put_right(ui_ctx *u, WINDOW *w, int y, int right_x, const char *s, attr_t attr, short pair)
{
	int width = ui_text_width(u, s);
	int x = right_x - width;
	if (x < 0)
		x = 0;
	ui_put(u, w, y, x, s, right_x - x, attr, pair);
	return x;
}

void ui_hline(ui_ctx *u, WINDOW *w, int y, int x, int n, attr_t attr, short pair)
{
	const char *g = ui_glyph_str(u, UI_G_HLINE);
	for (int i = 0; i < n; i++)
		ui_put(u, w, y, x + i, g, 1, attr, pair);
}

void ui_vline(ui_ctx *u, WINDOW *w, int x, attr_t attr, short pair)
{
	int h = getmaxy(w);
	const char *g = ui_glyph_str(u, UI_G_VLINE);
	for (int y = 0; y < h; y++)
		ui_put(u, w, y, x, g, 1, attr, pair);
}

void ui_bar(ui_ctx *u, WINDOW *w, int y, int x, int width, int done, int total)
{
	int full = total > 0 ? (int)((long long)done * width / total) : 0;
	if (total > 0 && done > 0 && full == 0)
		full = 1;   /* any progress shows */
	char buf[UI_LINE_MAX];
	size_t len = 0;
	const char *f = ui_glyph_str(u, UI_G_BAR_FULL);
	const char *e = ui_glyph_str(u, UI_G_BAR_EMPTY);
	for (int i = 0; i < width && len + 8 < sizeof buf; i++) {
		const char *g = i < full ? f : e;
		size_t gl = strlen(g);
		memcpy(buf + len, g, gl);
		len += gl;
	}
	buf[len] = '\0';
	short pair = ui_pair(u, done >= total && total > 0 ? UI_C_DONE : UI_C_PROGRESS);
	ui_put(u, w, y, x, buf, width, 0, pair);
}

void ui_fmt_duration(double secs, char *buf, size_t n)
{
	if (secs < 0)
		secs = 0;
	long s = (long)secs;
	long h = s / 3600, m = (s / 60) % 60;
	if (h >= 24)
		snprintf(buf, n, "%ldd%02ldh", h / 24, h % 24);
	else if (h > 0)
		snprintf(buf, n, "%ldh%02ldm", h, m);
	else
		snprintf(buf, n, "%ldm%02lds", m, s % 60);
}

void ui_fmt_clock(double t, char *buf, size_t n, bool with_seconds)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(buf, n, with_seconds ? "%H:%M:%S" : "%H:%M", &tm);
}

const char *ui_fmt_run(ui_ctx *u, const lg_run *r, char *buf, size_t n)
{
	const char *state = lg_run_state(r);
	char d[EVP_DURATION_MAX], clock[16];
	buf[0] = '\0';
	if (!state)
		return NULL;
	if (strcmp(state, "running") == 0) {
		ui_fmt_duration(ui_now(u) - r->started_at, d, sizeof d);
		snprintf(buf, n, "%s %s", ui_glyph_str(u, UI_G_RUNNING), d);
	} else if (strcmp(state, "ok") == 0) {
		evp_brief_duration(r->duration_s, d, sizeof d);
		snprintf(buf, n, "%s %s", ui_glyph_str(u, UI_G_RUN_OK), d);
	} else {
		ui_fmt_clock(r->ended_at, clock, sizeof clock, false);
		if (r->has_exit && strcmp(r->status, "failed") == 0)
			snprintf(buf, n, "%s exit %d %s", ui_glyph_str(u, UI_G_RUN_FAILED), r->exit_code, clock);
		else
			snprintf(buf, n, "%s %s %s", ui_glyph_str(u, UI_G_RUN_FAILED), r->status, clock);
	}
	return state;
}

/* Splits s into lines of at most width columns (breaking at spaces when it
 * can) and calls emit for each, in the drawable (sanitised) form's source. */
void ui_wrap_lines(ui_ctx *u, const char *s, int width, void (*cb)(const char *, size_t, void *), void *ud)
{
	if (width < 8)
		width = 8;
	const char *p = s ? s : "";
	do {
		const char *nl = strchr(p, '\n');
		size_t linelen = nl ? (size_t)(nl - p) : strlen(p);
		const char *q = p;
		const char *end = p + linelen;
		if (q == end)
			cb(q, 0, ud);
		while (q < end) {
			/* take characters while they fit */
			int cols = 0;
			const char *r = q, *last_space = NULL;
			while (r < end) {
				uint32_t cp;
				size_t used = utf8_decode((const unsigned char *)r, &cp);
				int cw = (u->utf8 && cp >= 0x80 && !unsafe_cp(cp)) ? wcwidth((wchar_t)cp) : 1;
				if (cw < 0)
					cw = 1;
				if (cols + cw > width)
					break;
				if (cp == ' ')
					last_space = r;
				cols += cw;
				r += used;
			}
			if (r < end && last_space && last_space > q)
				r = last_space + 1;
			cb(q, (size_t)(r - q), ud);
			q = r;
		}
		p = nl ? nl + 1 : NULL;
	} while (p);
}

/* ---- overlays: one window, one way to scroll and close ---- */

WINDOW *ui_overlay_window(ui_ctx *u, int y, int h, int w, const char *title, const char *keys)
{
	if (u->w_ov)
		delwin(u->w_ov);
	u->w_ov = newwin(h, w, y, (u->cols - w) / 2);
	WINDOW *win = u->w_ov;
	werase(win);
	if (u->utf8)
		box_set(win, WACS_VLINE, WACS_HLINE);
	else
		wborder(win, '|', '|', '-', '-', '+', '+', '+', '+');
	ui_put(u, win, 0, 2, title, w - 4, A_BOLD, 0);
	ui_put_right(u, win, h - 1, w - 2, keys, 0, ui_pair(u, UI_C_DIM));
	return win;
}

void ui_overlay_close(ui_ctx *u)
{
	u->overlay = NULL;
	if (u->w_ov) {
		delwin(u->w_ov);
		u->w_ov = NULL;
	}
	ui_mark(u, UI_DIRTY_ALL);
}

/* The list widget over a bare top line (ui_parity.c's, until it keeps a
 * ui_list of its own). */
int ui_overlay_scroll(ui_ctx *u, ui_action a, size_t *top, int lines, int page)
{
	if (a == UI_ACT_BACK) {
		ui_overlay_close(u);
		return 1;
	}
	ui_list l = {.top = *top};
	ui_list_fit(&l, lines > 0 ? (size_t)lines : 0, page > 0 ? (size_t)page : 1);
	if (!ui_list_key(&l, a))
		return 0;
	*top = l.top;
	ui_mark(u, UI_DIRTY_OVERLAY);
	return 1;
}
