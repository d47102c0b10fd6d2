/*
 * fuzz_canonical.c -- libFuzzer target for the hash chain's canonical form
 * (state_event_canonical, state.c): the text whose SHA-256 chains events.
 * The input is read as an event (id, ts, pid, which of phase/item/payload
 * are NULL, then length-prefixed strings); its canonical text is decoded
 * back by the strict reader below, written to the format documented in
 * state.c, and the decoded event must be the original (ts to the
 * microsecond, NULL payload as "{}", which is how it is stored): so no two
 * different events share a canonical text.  Printing the decoded event
 * gives the same text (print/parse round trip).
 * A time beyond STATE_TS_MAX (2100) or not finite, which import refuses
 * but a hand-edited state may hold, is written as its double's bits
 * ("x" and 16 hex digits) and must decode to exactly those bits.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/state.h"

#define FUZZ_MAGIC "pgcutover-event-v1\n"
#define FUZZ_TS_SCALE 1000000LL
#define FUZZ_HASH_MAX 64
/* half a microsecond */
#define FUZZ_HALF_US 0.5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reader {
	const uint8_t *p, *end;
} reader;

static void take(reader *r, void *out, size_t n)
{
	memset(out, 0, n);
	size_t k = (size_t)(r->end - r->p) < n ? (size_t)(r->end - r->p) : n;
	memcpy(out, r->p, k);
	r->p += k;
}

/* A length byte, then that many bytes (as a C string: up to a NUL). */
static char *take_str(reader *r)
{
	uint8_t n = 0;
	take(r, &n, 1);
	size_t k = (size_t)(r->end - r->p) < n ? (size_t)(r->end - r->p) : n;
	char *s = xstrndup((const char *)r->p, k);
	r->p += k;
	return s;
}

/* ---- the strict decoder: exactly the documented format, nothing else ---- */

static bool lit(const char **s, const char *word)
{
	size_t n = strlen(word);
	if (strncmp(*s, word, n) != 0)
		return false;
	*s += n;
	return true;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A canonical string or null; *ok false on anything not canonical. */
static char *dec_str(const char **s, bool *ok)
{
	if (lit(s, "null"))
		return NULL;
	if (**s != '"') {
		*ok = false;
		return NULL;
	}
	(*s)++;
	strbuf b;
	sb_init(&b);
	for (;;) {
		unsigned char c = (unsigned char)**s;
		if (c == '\0' || c < 0x20) {
			*ok = false;
			break;
		}
		(*s)++;
		if (c == '"')
			break;
		if (c != '\\') {
			sb_putc(&b, (char)c);
			continue;
		}
		char x = **s;
		(*s)++;
		if (x == '"' || x == '\\') {
			sb_putc(&b, x);
		} else if (x == 'u' && lit(s, "00") && hexval((*s)[0]) >= 0 && hexval((*s)[1]) >= 0) {
			int v = hexval((*s)[0]) * 16 + hexval((*s)[1]);
			*s += 2;
			if (v == 0 || v >= 0x20) {   /* only controls are written so */
				*ok = false;
				break;
			}
			sb_putc(&b, (char)v);
		} else {
			*ok = false;
			break;
		}
	}
	return sb_steal(&b);
}

/* Decimal digits: no sign, no leading zero unless "0" (or width fixed). */
static bool dec_digits(const char **s, int width, unsigned long long *out)
{
	const char *start = *s;
	unsigned long long v = 0;
	while (**s >= '0' && **s <= '9') {
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned)(**s - '0');
		(*s)++;
	}
	size_t n = (size_t)(*s - start);
	if (n == 0 || (width ? n != (size_t)width : (n > 1 && *start == '0')))
		return false;
	*out = v;
	return true;
}

static bool dec_int(const char **s, long long *out)
{
	bool neg = lit(s, "-");
	unsigned long long v;
	if (!dec_digits(s, 0, &v) || (neg && v == 0))
		return false;
	if (neg ? v > (unsigned long long)LLONG_MAX + 1 : v > (unsigned long long)LLONG_MAX)
		return false;
	*out = neg ? (long long)(0ULL - v) : (long long)v;
	return true;
}

typedef struct decoded {
	long long id, pid, ts_us;
	bool ts_is_bits;      /* "x" and 16 hex digits: the double's bits */
	uint64_t ts_bits;
	char *op, *host, *kind, *phase, *item, *payload, *prev;
} decoded;

static bool decode(const char *s, decoded *d)
{
	bool ok = true;
	unsigned long long secs, micros;
	memset(d, 0, sizeof *d);
	if (!lit(&s, FUZZ_MAGIC "{\"id\":") || !dec_int(&s, &d->id) || !lit(&s, ",\"ts\":\""))
		return false;
	if (lit(&s, "x")) {   /* a time beyond STATE_TS_MAX or not finite */
		for (int k = 0; k < 16; k++, s++) {
			if (hexval(*s) < 0)
				return false;
			d->ts_bits = d->ts_bits << 4 | (uint64_t)hexval(*s);
		}
		d->ts_is_bits = true;
		if (!lit(&s, "\""))
			return false;
	} else {
		bool neg = lit(&s, "-");
		if (!dec_digits(&s, 0, &secs) || !lit(&s, ".") || !dec_digits(&s, 6, &micros) || !lit(&s, "\""))
			return false;
		if (secs > (unsigned long long)(LLONG_MAX / FUZZ_TS_SCALE) - 1 || (neg && secs == 0 && micros == 0))
			return false;
		d->ts_us = (long long)(secs * FUZZ_TS_SCALE + micros) * (neg ? -1 : 1);
	}
	ok = lit(&s, ",\"operator\":");
	d->op = ok ? dec_str(&s, &ok) : NULL;
	ok = ok && lit(&s, ",\"host\":");
	d->host = ok ? dec_str(&s, &ok) : NULL;
	ok = ok && lit(&s, ",\"pid\":") && dec_int(&s, &d->pid) && lit(&s, ",\"kind\":");
	d->kind = ok ? dec_str(&s, &ok) : NULL;
	ok = ok && lit(&s, ",\"phase\":");
	d->phase = ok ? dec_str(&s, &ok) : NULL;
	ok = ok && lit(&s, ",\"item\":");
	d->item = ok ? dec_str(&s, &ok) : NULL;
	ok = ok && lit(&s, ",\"payload\":");
	d->payload = ok ? dec_str(&s, &ok) : NULL;
	ok = ok && lit(&s, ",\"prev_hash\":");
	d->prev = ok ? dec_str(&s, &ok) : NULL;
	return ok && lit(&s, "}") && *s == '\0';
}

static void decoded_free(decoded *d)
{
	free(d->op);
	free(d->host);
	free(d->kind);
	free(d->phase);
	free(d->item);
	free(d->payload);
	free(d->prev);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reader r = {data, data + size};
	st_event ev;
	memset(&ev, 0, sizeof ev);
	int32_t pid;
	uint8_t nulls;
	take(&r, &ev.id, sizeof ev.id);
	take(&r, &ev.ts, sizeof ev.ts);
	take(&r, &pid, sizeof pid);
	take(&r, &nulls, 1);
	ev.pid = pid;
	char when[64];
	pgc_iso8601(ev.ts, when, sizeof when);
	ev.operator_name = take_str(&r);
	ev.host = take_str(&r);
	ev.kind = take_str(&r);
	ev.phase = take_str(&r);
	ev.item = take_str(&r);
	ev.payload = take_str(&r);
	char *prev = take_str(&r);
	strncpy(ev.prev_hash, prev, FUZZ_HASH_MAX);
	free(prev);
	if (nulls & 1) {
		free(ev.phase);
		ev.phase = NULL;
	}
	if (nulls & 2) {
		free(ev.item);
		ev.item = NULL;
	}
	if (nulls & 4) {
		free(ev.payload);
		ev.payload = NULL;
	}

	char *text = state_event_canonical(&ev);
	decoded d;
	if (!decode(text, &d))
		abort();   /* not the documented form */
	/* the time is the event's to the nearest microsecond, give or take
	 * the rounding of ts * 10^6 in a double */
	bool in_range = isfinite(ev.ts) && fabs(ev.ts) <= STATE_TS_MAX;
	uint64_t bits;
	memcpy(&bits, &ev.ts, sizeof bits);
	double us = in_range ? ev.ts * (double)FUZZ_TS_SCALE : 0;
	double slack = FUZZ_HALF_US + 2 * fabs(us) * DBL_EPSILON;
	bool ts_same = in_range ? !d.ts_is_bits && fabs((double)d.ts_us - us) <= slack
	                        : d.ts_is_bits && d.ts_bits == bits;   /* out of range: its bits, exactly */
	if (d.id != ev.id || d.pid != ev.pid || !ts_same ||
	    !same_str(d.op, ev.operator_name) || !same_str(d.host, ev.host) ||
	    !same_str(d.kind, ev.kind) || !same_str(d.phase, ev.phase) || !same_str(d.item, ev.item) ||
	    !same_str(d.payload, ev.payload ? ev.payload : "{}") || !same_str(d.prev, ev.prev_hash))
		abort();   /* two events could share this text */

	/* print what was parsed: the same text */
	st_event back = {
		.id = d.id, .ts = (double)d.ts_us / (double)FUZZ_TS_SCALE, .pid = (int)d.pid,
		.operator_name = d.op, .host = d.host, .kind = d.kind, .phase = d.phase,
		.item = d.item, .payload = d.payload,
	};
	if (d.ts_is_bits)
		memcpy(&back.ts, &d.ts_bits, sizeof back.ts);
	strncpy(back.prev_hash, d.prev ? d.prev : "", FUZZ_HASH_MAX);
	char *again = state_event_canonical(&back);
	if (strcmp(again, text) != 0)
		abort();
	free(again);
	free(text);
	decoded_free(&d);
	st_event_clear(&ev);
	return 0;
}
